/*
 * The action-kind table and its pure judges (plan/actions.h): which kind
 * an operation is, what the table says about undoing it, the RBAC
 * permission ARM checks for it, the state judges the engine asks, and how
 * a write that may have arrived is settled (plan/actions_state.c).
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

/* ------------------------------------------------------------------ */
/* Settling a write that may have arrived (plan/actions_state.c) */

static json_t *
post(const char *path)
{
	return op_new("POST", path);
}

static json_t *
gw_in(const char *phase, const char *state)
{
	return json_pack("{s:s, s:{s:{s:s, s:s}}}", "id", GW, "properties",
	    "virtualNetworkGatewayMigrationStatus", "phase", phase, "state", state);
}

/*
 * How action_settle judges op from the state it changes (now), pre being
 * the state journaled just before it was sent (NULL: none was journaled).
 */
static enum settle_verdict
settle(const json_t *op, const json_t *pre, const json_t *now)
{
	char why[256];

	return action_settle(op, NULL, pre, pre != NULL, now, why, sizeof(why));
}

START_TEST(test_every_post_action_netwave_sends_has_one_kind_in_the_table)
{
	static const struct { const char *path; enum action_id id; enum action_read read; } cases[] = {
		{ NM "/commit", ACTION_COMMIT, ACTION_READ_DEPLOYMENTS },
		{ GW "/prepareMigration", ACTION_PREPARE_MIGRATION, ACTION_READ_MIGRATION },
		{ GW "/executeMigration", ACTION_EXECUTE_MIGRATION, ACTION_READ_MIGRATION },
		{ GW "/commitMigration", ACTION_COMMIT_MIGRATION, ACTION_READ_MIGRATION },
		{ GW "/abortMigration", ACTION_ABORT_MIGRATION, ACTION_READ_MIGRATION },
		{ FEAT "/register", ACTION_FEATURE_REGISTER, ACTION_READ_FEATURE },
		{ FEAT "/unregister", ACTION_FEATURE_UNREGISTER, ACTION_READ_FEATURE },
		{ "/subscriptions/s/providers/Microsoft.Network/register", ACTION_PROVIDER_REGISTER,
		  ACTION_READ_PROVIDER },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *op = post(cases[i].path);
		const struct action_kind *k = action_kind_of(op);
		ck_assert_msg(k != NULL, "%s has no kind", cases[i].path);
		ck_assert_int_eq(k->id, cases[i].id);
		ck_assert_int_eq(k->read, cases[i].read);
		json_decref(op);
	}
	/* a commit of something that is not a network manager, and a PUT, are not actions it knows */
	{
		json_t *op = post("/subscriptions/s/resourceGroups/rg/providers/Other.Thing/things/t/commit");
		json_t *put = json_pack("{s:s, s:s}", "method", "PUT", "path", NM);
		ck_assert_ptr_null(action_kind_of(op));
		ck_assert_ptr_null(action_kind_of(put));
		json_decref(op);
		json_decref(put);
	}
}
END_TEST

START_TEST(test_a_migration_action_is_settled_by_the_gateways_phase)
{
	json_t *op = post(GW "/prepareMigration");
	json_t *none = gw_in("None", "None"), *running = gw_in("Prepare", "InProgress");
	json_t *done = gw_in("PrepareSucceeded", "Succeeded"), *failed = gw_in("Prepare", "Failed");
	char why[256];

	/* unchanged since just before it was sent: it never arrived, send it */
	ck_assert_int_eq(settle(op, none, none), SETTLE_SEND);
	ck_assert_int_eq(settle(op, none, running), SETTLE_FOLLOW);
	ck_assert_int_eq(settle(op, none, done), SETTLE_DONE);
	ck_assert_int_eq(action_settle(op, NULL, none, true, failed, why, sizeof(why)), SETTLE_FAILED);
	ck_assert_msg(strstr(why, "failed") != NULL, "%s", why);
	/* without the pre-send image nothing proves it never arrived: never SETTLE_SEND */
	ck_assert_int_eq(settle(op, NULL, none), SETTLE_UNKNOWN);
	json_decref(op);
	/* commitMigration: the old gateway gone is the commit carried out */
	op = post(GW "/commitMigration");
	json_decref(done);
	done = gw_in("ExecuteSucceeded", "Succeeded");
	ck_assert_int_eq(settle(op, done, NULL), SETTLE_DONE);
	ck_assert_int_eq(settle(op, done, done), SETTLE_SEND);
	json_decref(op);
	json_decref(none);
	json_decref(running);
	json_decref(done);
	json_decref(failed);
}
END_TEST

START_TEST(test_a_commit_is_settled_by_its_commit_time_not_by_the_configurations)
{
	json_t *op = json_pack("{s:s, s:s, s:{s:[s], s:[s], s:s}}", "method", "POST", "path", NM "/commit",
	    "body", "targetLocations", "eastus", "configurationIds", "cc1", "commitType", "Connectivity");
	json_t *pre = json_pack("{s:[{s:s, s:s, s:s, s:[s]}]}", "deploymentStatus", "region", "eastus",
	    "deploymentStatus", "Deployed", "commitTime", "2026-01-01T00:00:00Z", "configurationIds", "cc1");
	json_t *again = json_pack("{s:[{s:s, s:s, s:s, s:[s]}]}", "deploymentStatus", "region", "East US",
	    "deploymentStatus", "Deploying", "commitTime", "2026-01-01T00:05:00Z", "configurationIds", "cc1");

	/* the same configurations already Deployed: only the commit time tells it did not arrive */
	ck_assert_int_eq(settle(op, pre, pre), SETTLE_SEND);
	ck_assert_int_eq(settle(op, pre, again), SETTLE_FOLLOW);
	json_object_set_new(json_array_get(json_object_get(again, "deploymentStatus"), 0), "deploymentStatus",
	    json_string("Deployed"));
	ck_assert_int_eq(settle(op, pre, again), SETTLE_DONE);
	json_decref(op);
	json_decref(pre);
	json_decref(again);
}
END_TEST

/*
 * How action_settle judges op when the feature reads in state, pre being
 * the feature as journaled before it was sent.
 */
static enum settle_verdict
settle_feature(const json_t *op, const json_t *pre, const char *state)
{
	json_t *now = json_pack("{s:s, s:{s:s}}", "name", "F", "properties", "state", state);
	enum settle_verdict v = settle(op, pre, now);

	json_decref(now);
	return v;
}

START_TEST(test_a_feature_registration_is_settled_by_the_feature_state)
{
	json_t *op = post(FEAT "/register");
	json_t *pre = json_pack("{s:s, s:{s:s}}", "name", "F", "properties", "state", "NotRegistered");

	ck_assert_int_eq(settle_feature(op, pre, "NotRegistered"), SETTLE_SEND);
	ck_assert_int_eq(settle_feature(op, pre, "Registering"), SETTLE_FOLLOW);
	ck_assert_int_eq(settle_feature(op, pre, "Registered"), SETTLE_DONE);
	json_decref(op);
	json_decref(pre);
}
END_TEST

START_TEST(test_a_put_is_settled_by_the_fields_its_body_sets_and_a_delete_by_absence)
{
	json_t *put = json_pack("{s:s, s:s, s:{s:{s:s, s:[{s:s}]}}}", "method", "PUT", "path", "/x/sm",
	    "body", "properties", "resourceId", "/X/VNET", "list", "a", "b");
	json_t *have = json_pack("{s:s, s:{s:s, s:s, s:s, s:[{s:s, s:s}]}}", "id", "/x/sm", "properties",
	    "resourceId", "/x/vnet", "region", "eastus", "provisioningState", "Succeeded", "list", "a", "b",
	    "extra", "c");
	json_t *del = json_pack("{s:s, s:s}", "method", "DELETE", "path", "/x/sm");

	/* ARM adds read-only fields and keeps the casing it likes: still the body sent */
	ck_assert(action_body_applied(json_object_get(put, "body"), have));
	ck_assert_int_eq(settle(put, NULL, have), SETTLE_DONE);
	json_object_set_new(json_object_get(have, "properties"), "provisioningState", json_string("Updating"));
	ck_assert_int_eq(settle(put, NULL, have), SETTLE_FOLLOW);
	json_object_set_new(json_object_get(have, "properties"), "provisioningState", json_string("Succeeded"));
	json_object_set_new(json_object_get(have, "properties"), "resourceId", json_string("/x/other"));
	ck_assert(!action_body_applied(json_object_get(put, "body"), have));
	ck_assert_int_eq(settle(put, NULL, have), SETTLE_SEND);
	ck_assert_int_eq(settle(put, NULL, NULL), SETTLE_SEND);
	ck_assert_int_eq(settle(del, NULL, NULL), SETTLE_DONE);
	ck_assert_int_eq(settle(del, NULL, have), SETTLE_SEND);
	json_object_set_new(json_object_get(have, "properties"), "provisioningState", json_string("Deleting"));
	ck_assert_int_eq(settle(del, NULL, have), SETTLE_FOLLOW);
	json_decref(put);
	json_decref(have);
	json_decref(del);
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
		TEST_CASE("settle", 0),
		test_every_post_action_netwave_sends_has_one_kind_in_the_table,
		test_a_migration_action_is_settled_by_the_gateways_phase,
		test_a_commit_is_settled_by_its_commit_time_not_by_the_configurations,
		test_a_feature_registration_is_settled_by_the_feature_state,
		test_a_put_is_settled_by_the_fields_its_body_sets_and_a_delete_by_absence,
		NULL,
	};

	return test_main("actions", actions_tests);
}
