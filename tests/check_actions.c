/*
 * The action-kind table and its pure judges (plan/actions.h): which kind
 * an operation is, what the table says about undoing it, the RBAC
 * permission ARM checks for it, and the state judges the engine asks.
 * No emulator: JSON in, verdicts out.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "plan/actions.h"
#include "plan/jsonutil.h"
#include "tests/testutil.h"

#define GW "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworkGateways/gw"
#define NM "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkManagers/nm"
#define FEAT "/subscriptions/s/providers/Microsoft.Features/providers/Microsoft.Network/features/F"

static json_t *
op_new(const char *method, const char *path)
{
	return json_pack("{s:s, s:s}", "method", method, "path", path);
}

START_TEST(test_only_commit_migration_is_irreversible_and_settled_by_the_gateway_going)
{
	static const enum action_id all[] = { ACTION_COMMIT, ACTION_PREPARE_MIGRATION,
		ACTION_EXECUTE_MIGRATION, ACTION_COMMIT_MIGRATION, ACTION_ABORT_MIGRATION,
		ACTION_FEATURE_REGISTER, ACTION_FEATURE_UNREGISTER, ACTION_PROVIDER_REGISTER,
		ACTION_PROVIDER_UNREGISTER };
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		const struct action_kind *k = action_kind_get(all[i]);
		ck_assert_ptr_nonnull(k);
		ck_assert_ptr_nonnull(k->state);
		ck_assert_int_eq(k->irreversible, all[i] == ACTION_COMMIT_MIGRATION);
		ck_assert_int_eq(k->gone_is_done, all[i] == ACTION_COMMIT_MIGRATION);
		ck_assert_int_eq(k->makes_resource, all[i] == ACTION_PREPARE_MIGRATION);
		ck_assert_int_eq(k->undo_resets_status,
		    all[i] == ACTION_PREPARE_MIGRATION || all[i] == ACTION_EXECUTE_MIGRATION);
		ck_assert_int_eq(k->pairs_resources, k->read == ACTION_READ_MIGRATION);
	}
	ck_assert_ptr_null(action_kind_get(ACTION_NONE));
}
END_TEST

START_TEST(test_an_operation_is_recognized_by_method_and_path_shape)
{
	json_t *prep = op_new("POST", GW "/prepareMigration?api-version=x");
	json_t *prep_get = op_new("GET", GW "/prepareMigration");
	json_t *put = op_new("PUT", NM);
	json_t *feat = op_new("POST", FEAT "/register");
	json_t *prov = op_new("POST", "/subscriptions/s/providers/Microsoft.Network/register");

	/* the query string is not part of the action's name */
	ck_assert_ptr_null(action_kind_of(prep));
	json_object_set_new(prep, "path", json_string(GW "/prepareMigration"));
	ck_assert_int_eq(action_kind_of(prep)->id, ACTION_PREPARE_MIGRATION);
	ck_assert_str_eq(action_op_name(prep), "prepareMigration");
	ck_assert(action_op_is(prep, ACTION_PREPARE_MIGRATION));
	ck_assert(!action_op_is(prep, ACTION_COMMIT_MIGRATION));
	/* only a POST is an action */
	ck_assert_ptr_null(action_kind_of(prep_get));
	ck_assert(action_state_of(put) == &action_state_resource);
	/* a feature's register comes before a provider's, whose path also holds /providers/ */
	ck_assert_int_eq(action_kind_of(feat)->id, ACTION_FEATURE_REGISTER);
	ck_assert_int_eq(action_kind_of(prov)->id, ACTION_PROVIDER_REGISTER);
	ck_assert(action_state_of(feat) == &action_state_feature);
	json_decref(prep);
	json_decref(prep_get);
	json_decref(put);
	json_decref(feat);
	json_decref(prov);
}
END_TEST

START_TEST(test_permissions_follow_the_resource_type_chain_and_the_action)
{
	static const struct { const char *method, *path, *want; } cases[] = {
		{ "PUT", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v",
		  "Microsoft.Network/virtualNetworks/write" },
		{ "PATCH", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/a?api-version=1",
		  "Microsoft.Network/virtualNetworks/subnets/write" },
		{ "DELETE", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/virtualNetworkPeerings/p",
		  "Microsoft.Network/virtualNetworks/virtualNetworkPeerings/delete" },
		{ "PUT", NM "/networkGroups/g/staticMembers/m",
		  "Microsoft.Network/networkManagers/networkGroups/staticMembers/write" },
		{ "GET", GW, "Microsoft.Network/virtualNetworkGateways/read" },
		{ "PUT", "/subscriptions/s/resourceGroups/rg", "Microsoft.Resources/subscriptions/resourceGroups/write" },
		{ "POST", "/subscriptions/s/providers/Microsoft.Network/register", "Microsoft.Network/register/action" },
	};
	struct nw_err err = { 0 };
	char buf[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(action_permission(cases[i].method, cases[i].path, buf, sizeof(buf), &err), 0);
		ck_assert_str_eq(buf, cases[i].want);
	}
	/* a POST that names no action, and a path with no resource type, are refused */
	ck_assert_int_eq(action_permission("POST", GW "/x/y", buf, sizeof(buf), &err), NW_EINPUT);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(action_permission("PUT", "/subscriptions/s", buf, sizeof(buf), &err), NW_EINPUT);
	ck_assert(strstr(err.msg, "/subscriptions/s") != NULL);
	/* too small a buffer is an error, never a cut name */
	ck_assert_int_eq(action_permission("PUT", NM, buf, 12, &err), NW_EINPUT);
}
END_TEST

START_TEST(test_the_tables_permission_column_is_the_one_arm_derives_from_the_path)
{
	static const struct { enum action_id id; const char *path; } cases[] = {
		{ ACTION_COMMIT, NM "/commit" },
		{ ACTION_PREPARE_MIGRATION, GW "/prepareMigration" },
		{ ACTION_EXECUTE_MIGRATION, GW "/executeMigration" },
		{ ACTION_COMMIT_MIGRATION, GW "/commitMigration" },
		{ ACTION_ABORT_MIGRATION, GW "/abortMigration" },
		{ ACTION_FEATURE_REGISTER, FEAT "/register" },
		{ ACTION_FEATURE_UNREGISTER, FEAT "/unregister" },
	};
	struct nw_err err = { 0 };
	char buf[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct action_kind *k = action_kind_get(cases[i].id);
		ck_assert_ptr_nonnull(k->permission);
		ck_assert_int_eq(action_permission("POST", cases[i].path, buf, sizeof(buf), &err), 0);
		ck_assert_str_eq(buf, k->permission);
	}
	ck_assert_str_eq(action_kind_get(ACTION_COMMIT)->permission, "Microsoft.Network/networkManagers/commit/action");
	ck_assert_str_eq(action_kind_get(ACTION_PREPARE_MIGRATION)->permission,
	    "Microsoft.Network/virtualNetworkGateways/prepareMigration/action");
	/* a provider's registration is its own namespace's */
	ck_assert_ptr_null(action_kind_get(ACTION_PROVIDER_REGISTER)->permission);
}
END_TEST

START_TEST(test_a_step_expect_list_is_checked_after_the_resource_succeeded)
{
	json_t *put = op_new("PUT", NM);
	json_t *expect = json_pack("[{s:s, s:s}]", "pointer", "/properties/x", "equals", "A");
	json_t *ok = json_pack("{s:s, s:{s:s, s:s}}", "id", NM, "properties", "provisioningState", "Succeeded", "x", "a");
	json_t *bad = json_pack("{s:s, s:{s:s, s:s}}", "id", NM, "properties", "provisioningState", "Succeeded", "x", "b");
	json_t *upd = json_pack("{s:s, s:{s:s, s:s}}", "id", NM, "properties", "provisioningState", "Updating", "x", "b");
	char why[256];

	ck_assert_int_eq(action_expect(put, expect, ok, why, sizeof(why)), EXPECT_MET);
	ck_assert_int_eq(action_expect(put, expect, bad, why, sizeof(why)), EXPECT_FAILED);
	ck_assert(strstr(why, "/properties/x") != NULL);
	/* still running: not yet, whatever the list says */
	ck_assert_int_eq(action_expect(put, expect, upd, why, sizeof(why)), EXPECT_NOT_YET);
	ck_assert(action_in_progress(put, upd));
	ck_assert(!action_in_progress(put, ok));
	ck_assert(!action_in_progress(put, NULL));
	ck_assert_int_eq(action_expect(put, expect, NULL, why, sizeof(why)), EXPECT_NOT_YET);
	json_decref(put);
	json_decref(expect);
	json_decref(ok);
	json_decref(bad);
	json_decref(upd);
}
END_TEST

START_TEST(test_a_migration_is_restored_when_its_phase_is_back_and_unchanged_by_status)
{
	json_t *op = op_new("POST", GW "/prepareMigration");
	json_t *none = json_pack("{s:{s:{s:s}}}", "properties", "virtualNetworkGatewayMigrationStatus", "phase", "None");
	json_t *absent = json_pack("{s:{}}", "properties");
	json_t *prepared = json_pack("{s:{s:{s:s, s:s}}}", "properties", "virtualNetworkGatewayMigrationStatus",
	    "phase", "PrepareSucceeded", "state", "Succeeded");
	char why[256];

	/* no status reads as phase None */
	ck_assert(action_restored(op, none, absent));
	ck_assert(!action_restored(op, none, prepared));
	ck_assert(action_unchanged(op, prepared, prepared));
	ck_assert(!action_unchanged(op, none, prepared));
	ck_assert_int_eq(action_expect(op, NULL, prepared, why, sizeof(why)), EXPECT_MET);
	ck_assert_int_eq(action_expect(op, NULL, none, why, sizeof(why)), EXPECT_FAILED);
	ck_assert(strstr(why, "PrepareSucceeded") != NULL);
	json_decref(op);
	json_decref(none);
	json_decref(absent);
	json_decref(prepared);
}
END_TEST

int
main(void)
{
	const TTest *const actions_tests[] = {
		TEST_CASE("core", 0),
		test_only_commit_migration_is_irreversible_and_settled_by_the_gateway_going,
		test_an_operation_is_recognized_by_method_and_path_shape,
		test_permissions_follow_the_resource_type_chain_and_the_action,
		test_the_tables_permission_column_is_the_one_arm_derives_from_the_path,
		test_a_step_expect_list_is_checked_after_the_resource_succeeded,
		test_a_migration_is_restored_when_its_phase_is_back_and_unchanged_by_status,
		NULL,
	};

	return test_main("actions", actions_tests);
}
