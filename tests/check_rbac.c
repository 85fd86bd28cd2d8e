/*
 * Azure RBAC as plan/rbac.h models it: ARM's action matching (wildcards,
 * case), permission sets with notActions and unions, the built-in roles
 * as Microsoft Learn lists them, and the smallest role that grants a list
 * of actions.  Pure: JSON in, verdicts out.
 */
#include "config.h"

#include <string.h>

#include <check.h>
#include <jansson.h>

#include "plan/rbac.h"
#include "tests/testutil.h"

START_TEST(test_a_star_matches_any_run_of_characters_slashes_included)
{
	ck_assert(rbac_action_matches("*", "Microsoft.Network/virtualNetworks/write"));
	ck_assert(rbac_action_matches("Microsoft.Network/*", "Microsoft.Network/virtualNetworks/write"));
	ck_assert(rbac_action_matches("Microsoft.Network/*", "Microsoft.Network/networkManagers/commit/action"));
	ck_assert(rbac_action_matches("*/read", "Microsoft.Network/virtualNetworks/subnets/read"));
	ck_assert(rbac_action_matches("Microsoft.Authorization/*/read",
	    "Microsoft.Authorization/permissions/read"));
	ck_assert(rbac_action_matches("Microsoft.Network/*/read", "Microsoft.Network/virtualNetworks/read"));
	/* a star in the middle backtracks over a partial match */
	ck_assert(rbac_action_matches("a*b*c", "aXbYbZc"));
	ck_assert(!rbac_action_matches("a*b*c", "aXbYbZ"));
	ck_assert(!rbac_action_matches("*/read", "Microsoft.Network/virtualNetworks/write"));
	ck_assert(!rbac_action_matches("Microsoft.Network/*", "Microsoft.Compute/virtualMachines/write"));
	ck_assert(!rbac_action_matches("Microsoft.Network/virtualNetworks/write",
	    "Microsoft.Network/virtualNetworks/writeX"));
	ck_assert(!rbac_action_matches("Microsoft.Network/virtualNetworks/write", "Microsoft.Network/virtualNetworks"));
	ck_assert(!rbac_action_matches(NULL, "x"));
	ck_assert(!rbac_action_matches("x", NULL));
}
END_TEST

START_TEST(test_actions_are_compared_without_case)
{
	/* Contributor's notActions spell "Write" for ARM's lowercase "write" */
	ck_assert(rbac_action_matches("Microsoft.Authorization/*/Write",
	    "Microsoft.Authorization/roleAssignments/write"));
	ck_assert(rbac_action_matches("microsoft.network/VIRTUALNETWORKS/write",
	    "Microsoft.Network/virtualNetworks/write"));
}
END_TEST

START_TEST(test_the_built_in_roles_are_those_learn_lists)
{
	const struct rbac_role *nc = rbac_role_find("network contributor");
	const struct rbac_role *c = rbac_role_find("b24988ac-6180-42a0-ab88-20f7382dd24c");
	const struct rbac_role *o = rbac_role_find("/subscriptions/s/providers/Microsoft.Authorization/"
	    "roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635");
	const struct rbac_role *r = rbac_role_find("Reader");
	size_t n;

	ck_assert_ptr_nonnull(nc);
	ck_assert_str_eq(nc->guid, "4d97b98b-1d4f-4787-a291-c67834d212e7");
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->name, "Contributor");
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(o->name, "Owner");
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->guid, "acdd72a7-3385-48ef-bd42-f606fba81ae7");
	ck_assert_ptr_null(rbac_role_find("Network Operator"));
	ck_assert_ptr_null(rbac_role_find(NULL));
	rbac_builtin_roles(&n);
	ck_assert_uint_eq(n, 4);

	ck_assert(rbac_role_allows(nc, "Microsoft.Network/networkManagers/commit/action"));
	ck_assert(rbac_role_allows(nc, "Microsoft.Resources/subscriptions/resourceGroups/read"));
	ck_assert(!rbac_role_allows(nc, "Microsoft.Resources/subscriptions/resourceGroups/write"));
	ck_assert(!rbac_role_allows(nc, "Microsoft.Features/providers/features/register/action"));
	ck_assert(rbac_role_allows(r, "Microsoft.Network/virtualNetworks/read"));
	ck_assert(!rbac_role_allows(r, "Microsoft.Network/virtualNetworks/write"));
	/* Contributor: everything but writing access */
	ck_assert(rbac_role_allows(c, "Microsoft.Features/providers/features/register/action"));
	ck_assert(!rbac_role_allows(c, "Microsoft.Authorization/locks/write"));
	ck_assert(!rbac_role_allows(c, "Microsoft.Authorization/roleAssignments/delete"));
	ck_assert(rbac_role_allows(c, "Microsoft.Authorization/locks/read"));
	ck_assert(rbac_role_allows(o, "Microsoft.Authorization/locks/write"));
}
END_TEST

START_TEST(test_the_smallest_role_is_the_first_that_grants_every_action)
{
	const char *reads[] = { "Microsoft.Network/virtualNetworks/read" };
	const char *net[] = { "Microsoft.Network/virtualNetworks/write",
		"Microsoft.Network/networkManagers/commit/action" };
	const char *rg[] = { "Microsoft.Network/virtualNetworks/write",
		"Microsoft.Resources/subscriptions/resourceGroups/write" };
	const char *lock[] = { "Microsoft.Network/virtualNetworks/write", "Microsoft.Authorization/locks/delete" };
	const char *other[] = { "Microsoft.Compute/disks/download/action" };

	ck_assert_str_eq(rbac_smallest_role(reads, 1)->name, "Reader");
	ck_assert_str_eq(rbac_smallest_role(net, 2)->name, "Network Contributor");
	ck_assert_str_eq(rbac_smallest_role(rg, 2)->name, "Contributor");
	ck_assert_str_eq(rbac_smallest_role(lock, 2)->name, "Owner");
	/* Contributor's "*" covers any action its notActions leave */
	ck_assert_str_eq(rbac_smallest_role(other, 1)->name, "Contributor");
	ck_assert_str_eq(rbac_smallest_role(NULL, 0)->name, "Reader");
}
END_TEST

START_TEST(test_a_not_action_removes_only_from_its_own_permission)
{
	struct rbac_perms *p = NULL;
	struct nw_err err = { 0 };
	json_t *doc = json_loads("{\"value\":["
	    "{\"actions\":[\"Microsoft.Network/*\"],\"notActions\":[\"Microsoft.Network/*/delete\"],"
	    "\"dataActions\":[],\"notDataActions\":[]},"
	    "{\"actions\":[\"Microsoft.Network/virtualNetworks/virtualNetworkPeerings/delete\"]}]}", 0, NULL);

	ck_assert_int_eq(rbac_perms_from_json(&p, doc, &err), 0);
	ck_assert_uint_eq(rbac_perms_count(p), 2);
	ck_assert(rbac_perms_allows(p, "Microsoft.Network/virtualNetworks/write"));
	ck_assert(!rbac_perms_allows(p, "Microsoft.Network/virtualNetworks/delete"));
	/* the second permission grants what the first one's notActions removed */
	ck_assert(rbac_perms_allows(p, "Microsoft.Network/virtualNetworks/virtualNetworkPeerings/delete"));
	ck_assert(!rbac_perms_allows(p, "Microsoft.Compute/virtualMachines/read"));
	rbac_perms_free(p);
	json_decref(doc);
}
END_TEST

START_TEST(test_a_set_of_roles_is_their_union_and_prints_as_arm_answers)
{
	struct rbac_perms *p = rbac_perms_new();
	struct nw_err err = { 0 };
	json_t *out, *back = NULL;
	struct rbac_perms *q = NULL;

	ck_assert(!rbac_perms_allows(p, "Microsoft.Network/virtualNetworks/read"));
	ck_assert_int_eq(rbac_perms_add_role(p, rbac_role_find("Reader"), &err), 0);
	ck_assert_int_eq(rbac_perms_add_role(p, rbac_role_find("Network Contributor"), &err), 0);
	ck_assert(rbac_perms_allows(p, "Microsoft.Compute/virtualMachines/read"));
	ck_assert(rbac_perms_allows(p, "Microsoft.Network/virtualNetworks/delete"));
	ck_assert(!rbac_perms_allows(p, "Microsoft.Compute/virtualMachines/write"));
	out = rbac_perms_to_json(p);
	ck_assert_uint_eq(json_array_size(out), 2);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(json_array_get(out, 0), "actions"), 0)),
	    "*/read");
	ck_assert(json_is_array(json_object_get(json_array_get(out, 1), "notDataActions")));
	/* what it prints reads back as the same set */
	back = json_pack("{s:O}", "value", out);
	ck_assert_int_eq(rbac_perms_from_json(&q, back, &err), 0);
	ck_assert(rbac_perms_allows(q, "Microsoft.Network/virtualNetworks/delete"));
	ck_assert(!rbac_perms_allows(q, "Microsoft.Compute/virtualMachines/write"));
	rbac_perms_free(p);
	rbac_perms_free(q);
	rbac_perms_free(NULL);
	json_decref(out);
	json_decref(back);
}
END_TEST

START_TEST(test_a_malformed_permissions_answer_is_named)
{
	struct rbac_perms *p = NULL;
	struct nw_err err = { 0 };
	json_t *novalue = json_loads("{\"values\":[]}", 0, NULL);
	json_t *badfield = json_loads("{\"value\":[{\"actions\":[\"*\"]},{\"notActions\":[\"a\",3]}]}", 0, NULL);

	ck_assert_int_eq(rbac_perms_from_json(&p, novalue, &err), NW_EINPUT);
	ck_assert_ptr_null(p);
	ck_assert(strstr(err.msg, "\"value\"") != NULL);
	ck_assert_int_eq(rbac_perms_from_json(&p, badfield, &err), NW_EINPUT);
	ck_assert_ptr_null(p);
	ck_assert_str_eq(err.msg, "permission 1: \"notActions\"[1] is not a string");
	json_decref(novalue);
	json_decref(badfield);
}
END_TEST

START_TEST(test_a_role_definition_prints_as_arm_returns_it)
{
	json_t *def = rbac_role_to_json(rbac_role_find("Contributor"));
	const json_t *perm = json_array_get(json_object_get(json_object_get(def, "properties"), "permissions"), 0);

	ck_assert_str_eq(json_string_value(json_object_get(def, "id")),
	    "/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c");
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(def, "properties"), "roleName")),
	    "Contributor");
	ck_assert_uint_eq(json_array_size(json_object_get(perm, "notActions")), 8);
	json_decref(def);
}
END_TEST

int
main(void)
{
	const TTest *const rbac_tests[] = {
		TEST_CASE("core", 0),
		test_a_star_matches_any_run_of_characters_slashes_included,
		test_actions_are_compared_without_case,
		test_the_built_in_roles_are_those_learn_lists,
		test_the_smallest_role_is_the_first_that_grants_every_action,
		test_a_not_action_removes_only_from_its_own_permission,
		test_a_set_of_roles_is_their_union_and_prints_as_arm_answers,
		test_a_malformed_permissions_answer_is_named,
		test_a_role_definition_prints_as_arm_returns_it,
		NULL,
	};

	return test_main("rbac", rbac_tests);
}
