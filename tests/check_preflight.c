/*
 * Preflight's pure half (plan/preflight.h): the writes a plan sends, the
 * reads batched by scope, and each judge with hand-made facts, as ARM
 * would answer the permissions, locks, deny assignments,
 * checkPolicyRestrictions, resource groups, collections, providers and
 * features APIs.  No emulator: JSON in, findings out.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "plan/jsonutil.h"
#include "plan/preflight.h"
#include "plan/topology.h"
#include "state/store.h"
#include "tests/testutil.h"

#define SUB "/subscriptions/11111111-1111-4111-8111-111111111111"
#define RGC SUB "/resourceGroups/rg-conn"
#define RGS SUB "/resourceGroups/rg-spokes"
#define NM RGC "/providers/Microsoft.Network/networkManagers/nm"
#define V1 RGS "/providers/Microsoft.Network/virtualNetworks/spoke-1"
#define V2 RGS "/providers/Microsoft.Network/virtualNetworks/spoke-2"
#define HUB RGC "/providers/Microsoft.Network/virtualNetworks/hub"
/* keys of the facts: the subscription's id, and scopes in lowercase */
#define SUBID "11111111-1111-4111-8111-111111111111"
#define RGC_KEY "/subscriptions/" SUBID "/resourcegroups/rg-conn"
#define RGS_KEY "/subscriptions/" SUBID "/resourcegroups/rg-spokes"
#define NM_KEY RGC_KEY "/providers/microsoft.network/networkmanagers/nm"

/* A small plan: a new group, a network manager in it, two static members, a commit, a decommission. */
static json_t *
small_plan(void)
{
	json_error_t e;
	json_t *p = json_loads("{\"id\":\"pl-test\",\"waves\":["
	    "{\"index\":0,\"kind\":\"prepare\",\"steps\":["
	    " {\"id\":\"w01-s1\",\"operation\":{\"method\":\"PUT\",\"path\":\"" SUB "/resourceGroups/rg-new?api-version=2021-04-01\","
	    "  \"body\":{\"location\":\"eastus\"}},\"inverse\":{\"method\":\"DELETE\",\"path\":\"" SUB "/resourceGroups/rg-new\"}},"
	    " {\"id\":\"w01-s2\",\"operation\":{\"method\":\"PUT\",\"apiVersion\":\"2026-01-01\",\"path\":\"" NM "\","
	    "  \"body\":{\"location\":\"eastus\",\"properties\":{}}},\"inverse\":{\"method\":\"DELETE\",\"path\":\"" NM "\"}},"
	    " {\"id\":\"w01-s3\",\"operation\":{\"method\":\"POST\",\"path\":\"" SUB "/providers/Microsoft.Features/providers/Microsoft.Network/features/AllowHighScaleConnectedGroup/register\"}}]},"
	    "{\"index\":1,\"kind\":\"mesh\",\"steps\":["
	    " {\"id\":\"w02-s1\",\"operation\":{\"method\":\"PUT\",\"apiVersion\":\"2026-01-01\",\"path\":\"" NM "/networkGroups/g/staticMembers/m1\","
	    "  \"body\":{\"properties\":{\"resourceId\":\"" V1 "\"}}},\"inverse\":{\"method\":\"DELETE\",\"path\":\"" NM "/networkGroups/g/staticMembers/m1\"}},"
	    " {\"id\":\"w02-s2\",\"operation\":{\"method\":\"PUT\",\"apiVersion\":\"2026-01-01\",\"path\":\"" NM "/networkGroups/g/staticMembers/m2\","
	    "  \"body\":{\"properties\":{\"resourceId\":\"" V2 "\"}}},\"inverse\":{\"method\":\"DELETE\",\"path\":\"" NM "/networkGroups/g/staticMembers/m2\"}},"
	    " {\"id\":\"w02-s3\",\"operation\":{\"method\":\"PUT\",\"apiVersion\":\"2026-01-01\",\"path\":\"" V1 "\","
	    "  \"body\":{\"location\":\"eastus\",\"properties\":{\"privateEndpointVNetPolicies\":\"Basic\"}}},"
	    "  \"inverse\":{\"method\":\"PUT\",\"path\":\"" V1 "\",\"body\":{\"location\":\"eastus\",\"properties\":{}}}},"
	    " {\"id\":\"w02-s4\",\"operation\":{\"method\":\"POST\",\"path\":\"" NM "/commit?api-version=2026-01-01\","
	    "  \"body\":{\"targetLocations\":[\"eastus\"],\"commitType\":\"Connectivity\"}},"
	    "  \"inverse\":{\"method\":\"POST\",\"path\":\"" NM "/commit\",\"body\":{\"targetLocations\":[\"eastus\"]}}}]},"
	    "{\"index\":2,\"kind\":\"decommission\",\"steps\":["
	    " {\"id\":\"w03-s1\",\"operation\":{\"method\":\"DELETE\",\"path\":\"" HUB "/virtualNetworkPeerings/hub-to-spoke-1\"}}]}]}",
	    0, &e);

	ck_assert_msg(p != NULL, "test plan: %s at %d", e.text, e.line);
	return p;
}

static void answer_policy(json_t *facts, const char *deny_type);

/* Every check's facts answered, nothing refused. */
static json_t *
clean_facts(void)
{
	json_error_t e;
	json_t *f = json_loads("{"
	    "\"permissions\":{\"" SUB "\":{\"value\":[{\"actions\":[\"*\"],\"notActions\":[]}]},"
	    "  \"/subscriptions/11111111-1111-4111-8111-111111111111/resourcegroups/rg-conn\":{\"value\":[{\"actions\":[\"*\"],\"notActions\":[]}]},"
	    "  \"/subscriptions/11111111-1111-4111-8111-111111111111/resourcegroups/rg-spokes\":{\"value\":[{\"actions\":[\"*\"],\"notActions\":[]}]}},"
	    "\"locks\":{\"11111111-1111-4111-8111-111111111111\":[]},"
	    "\"denyAssignments\":{\"11111111-1111-4111-8111-111111111111\":[]},"
	    "\"resourceGroups\":{\"11111111-1111-4111-8111-111111111111\":[\"rg-conn\",\"rg-spokes\"]},"
	    "\"resources\":{},\"collections\":{},\"policy\":{},"
	    "\"providers\":{\"11111111-1111-4111-8111-111111111111/microsoft.network\":\"Registered\"},"
	    "\"features\":{\"11111111-1111-4111-8111-111111111111/microsoft.network/allowhighscaleconnectedgroup\":\"NotRegistered\"},"
	    "\"deployments\":{}}", 0, &e);

	ck_assert_msg(f != NULL, "test facts: %s", e.text);
	answer_policy(f, NULL);
	return f;
}

/* Answers every policy check of the small plan as compliant, save the type given (NULL: none). */
static void
answer_policy(json_t *facts, const char *deny_type)
{
	struct nw_err err = { 0 };
	json_t *plan = small_plan(), *w = NULL, *r = NULL;
	const json_t *p;
	size_t i;

	ck_assert_int_eq(preflight_writes(&w, plan, &err), 0);
	ck_assert_int_eq(preflight_reads(&r, w, &err), 0);
	json_array_foreach(json_object_get(r, "policy"), i, p) {
		json_t *answer = json_pack("{s:[],s:{s:[]}}", "fieldRestrictions", "contentEvaluationResult",
		    "policyEvaluations");
		if (deny_type != NULL && strcmp(json_str(p, "type"), deny_type) == 0)
			json_array_append_new(json_path(answer, "contentEvaluationResult", "policyEvaluations", NULL),
			    json_pack("{s:{s:s,s:s},s:s,s:{s:s}}", "policyInfo", "policyAssignmentId",
			    SUB "/providers/Microsoft.Authorization/policyAssignments/no-basic", "policyDefinitionId",
			    SUB "/providers/Microsoft.Authorization/policyDefinitions/deny-basic-pe-policies",
			    "evaluationResult", "NonCompliant", "effectDetails", "policyEffect", "Deny"));
		json_object_set_new(json_object_get(facts, "policy"), json_str(p, "key"), answer);
	}
	/* the collections were read (empty: nothing busy), and no commit is deploying */
	json_array_foreach(json_object_get(r, "collections"), i, p) {
		char low[1024];
		size_t k;
		snprintf(low, sizeof(low), "%s", json_string_value(p));
		for (k = 0; low[k] != '\0'; k++)
			low[k] = (char)(low[k] >= 'A' && low[k] <= 'Z' ? low[k] + 32 : low[k]);
		json_object_set_new(json_object_get(facts, "collections"), low, json_true());
	}
	json_array_foreach(json_object_get(r, "networkManagers"), i, p) {
		char low[1024];
		size_t k;
		snprintf(low, sizeof(low), "%s", json_str(p, "id"));
		for (k = 0; low[k] != '\0'; k++)
			low[k] = (char)(low[k] >= 'A' && low[k] <= 'Z' ? low[k] + 32 : low[k]);
		if (json_object_get(json_object_get(facts, "deployments"), low) == NULL)
			json_object_set_new(json_object_get(facts, "deployments"), low, json_pack("[s]", "Deployed"));
	}
	json_decref(r);
	json_decref(w);
	json_decref(plan);
}

/* Judges plan against facts; returns the netwave.preflight/v1 document. */
static json_t *
judge(const json_t *facts)
{
	struct preflight pf = { 0 };
	struct nw_err err = { 0 };
	json_t *plan = small_plan(), *writes = NULL, *doc;

	ck_assert_int_eq(preflight_writes(&writes, plan, &err), 0);
	ck_assert_msg(preflight_judge(&pf, writes, facts, &err) == 0, "%s", err.msg);
	doc = preflight_to_json(&pf, "pl-test", "2026-12-07T00:00:00Z", NULL);
	ck_assert_ptr_nonnull(doc);
	preflight_clear(&pf);
	json_decref(writes);
	json_decref(plan);
	return doc;
}

/*
 * Judges the clean facts with, for each (section, key, value) of the
 * NULL-ended list, facts[section][key] set to value (stolen); returns the
 * netwave.preflight/v1 document.
 */
static json_t *
judge_with(const char *section, ...)
{
	json_t *facts = clean_facts(), *doc;
	va_list ap;

	va_start(ap, section);
	for (; section != NULL; section = va_arg(ap, const char *)) {
		const char *key = va_arg(ap, const char *);

		json_object_set_new(json_object_get(facts, section), key, va_arg(ap, json_t *));
	}
	va_end(ap);
	doc = judge(facts);
	json_decref(facts);
	return doc;
}

/* The first finding with code, or NULL. */
static const json_t *
finding(const json_t *doc, const char *code)
{
	return test_json_find(doc, "findings", "code", code);
}

static long
count(const json_t *doc, const char *what)
{
	return (long)json_integer_value(json_path(doc, "summary", what, NULL));
}

START_TEST(test_writes_list_operations_inverses_and_the_decommission_with_their_permissions)
{
	struct nw_err err = { 0 };
	json_t *plan = small_plan(), *w = NULL;
	const json_t *x;
	size_t i, rollbacks = 0, decom = 0;

	ck_assert_int_eq(preflight_writes(&w, plan, &err), 0);
	/* 8 operations + 6 inverses (the feature register and the decommission delete have none) */
	ck_assert_int_eq(json_array_size(w), 14);
	json_array_foreach(w, i, x) {
		if (strcmp(json_str(x, "role"), PF_ROLE_ROLLBACK) == 0)
			rollbacks++;
		if (strcmp(json_str(x, "role"), PF_ROLE_DECOMMISSION) == 0) {
			decom++;
			ck_assert_str_eq(json_str(x, "permission"),
			    "Microsoft.Network/virtualNetworks/virtualNetworkPeerings/delete");
		}
	}
	ck_assert_int_eq(rollbacks, 6);
	ck_assert_int_eq(decom, 1);
	x = json_array_get(w, 0);
	ck_assert_str_eq(json_str(x, "permission"), "Microsoft.Resources/subscriptions/resourceGroups/write");
	ck_assert(json_is_true(json_object_get(x, "createsGroup")));
	ck_assert_str_eq(json_str(x, "permissionScope"), SUB);
	/* the query is not part of the path judged */
	ck_assert_ptr_null(strchr(json_str(x, "path"), '?'));
	x = json_array_get(w, 2);
	ck_assert_str_eq(json_str(x, "permission"), "Microsoft.Network/networkManagers/write");
	ck_assert_str_eq(json_str(x, "permissionScope"), RGC);
	json_decref(w);
	json_decref(plan);
}
END_TEST

START_TEST(test_reads_are_batched_by_scope_and_policy_by_request_shape)
{
	struct nw_err err = { 0 };
	json_t *plan = small_plan(), *w = NULL, *r = NULL;
	const json_t *p;
	size_t i, members = 0;

	ck_assert_int_eq(preflight_writes(&w, plan, &err), 0);
	ck_assert_int_eq(preflight_reads(&r, w, &err), 0);
	/* two groups: two permission reads for 14 writes (none at the subscription: ARM lists them
	 * for groups and resources only) */
	ck_assert_int_eq(json_array_size(json_object_get(r, "permissionScopes")), 2);
	ck_assert_int_eq(json_array_size(json_object_get(r, "subscriptions")), 1);
	/* the two static members differ only by the VNet they name: one policy check for both */
	json_array_foreach(json_object_get(r, "policy"), i, p)
		if (strstr(json_str(p, "type"), "staticMembers") != NULL) {
			members++;
			ck_assert_int_eq(json_array_size(json_object_get(p, "steps")), 2);
			ck_assert_str_eq(json_str(p, "scope"), RGC);
		}
	ck_assert_int_eq(members, 1);
	/* group (at its subscription), network manager, static members, VNet: four shapes */
	ck_assert_int_eq(json_array_size(json_object_get(r, "policy")), 4);
	ck_assert_int_eq(json_array_size(json_object_get(r, "networkManagers")), 1);
	ck_assert_int_eq(json_array_size(json_object_get(r, "features")), 1);
	json_decref(r);
	json_decref(w);
	json_decref(plan);
}
END_TEST

START_TEST(test_a_clean_estate_has_no_blockers_and_every_check_ran)
{
	json_t *facts = clean_facts(), *doc = judge(facts);
	const json_t *c;
	size_t i;

	ck_assert_int_eq(count(doc, "blockers"), 0);
	ck_assert(json_is_true(json_object_get(doc, "ok")));
	json_array_foreach(json_object_get(doc, "checks"), i, c)
		ck_assert_msg(strcmp(json_str(c, "status"), "ran") == 0, "%s: %s", json_str(c, "name"),
		    json_str(c, "status"));
	/* the feature the plan registers is named, as info */
	ck_assert_ptr_nonnull(finding(doc, "feature-state"));
	json_decref(doc);
	json_decref(facts);
}
END_TEST

START_TEST(test_a_missing_commit_action_is_a_blocker_naming_the_scope_and_a_role)
{
	/* Network Contributor's actions minus commit: a custom role as the emulator's clients file has */
	json_t *doc = judge_with("permissions", RGC_KEY, json_pack("{s:[{s:[s,s],s:[s]}]}", "value", "actions",
	    "Microsoft.Network/*", "Microsoft.Resources/*", "notActions",
	    "Microsoft.Network/networkManagers/commit/action"), NULL);
	const json_t *f;

	ck_assert_int_eq(count(doc, "blockers"), 1);
	ck_assert_ptr_nonnull(f = finding(doc, "permission-missing"));
	ck_assert_str_eq(json_str(f, "scope"), RGC);
	ck_assert_ptr_nonnull(strstr(json_str(f, "message"), "Microsoft.Network/networkManagers/commit/action"));
	ck_assert_ptr_nonnull(strstr(json_str(f, "fix"), "Network Contributor"));
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(f, "steps"), 0)), "w02-s4");
	ck_assert(json_is_false(json_object_get(doc, "ok")));
	json_decref(doc);
}
END_TEST

START_TEST(test_a_read_only_lock_on_a_spoke_blocks_its_put_but_not_the_others)
{
	json_t *doc = judge_with("locks", SUBID, json_pack("[{s:s,s:s,s:{s:s}}]", "id",
	    V1 "/providers/Microsoft.Authorization/locks/freeze", "name", "freeze", "properties", "level",
	    "ReadOnly"), NULL);
	const json_t *f;

	ck_assert_ptr_nonnull(f = finding(doc, "lock-read-only"));
	ck_assert_str_eq(json_str(f, "resource"), V1);
	ck_assert_str_eq(json_str(f, "scope"), V1);
	ck_assert_ptr_nonnull(strstr(json_str(f, "fix"), "az lock delete"));
	/* its inverse PUT is a warning: the way back is blocked too */
	ck_assert_ptr_nonnull(finding(doc, "lock-blocks-rollback"));
	ck_assert_int_eq(count(doc, "blockers"), 1);
	json_decref(doc);
}
END_TEST

START_TEST(test_a_cannot_delete_lock_blocks_the_decommission_and_warns_on_rollback)
{
	/* on the hub: its peering the decommission deletes, and nothing the forward waves delete */
	json_t *doc = judge_with("locks", SUBID, json_pack("[{s:s,s:s,s:{s:s}},{s:s,s:s,s:{s:s}}]",
	    "id", HUB "/providers/Microsoft.Authorization/locks/keep", "name", "keep", "properties", "level",
	    "CanNotDelete",
	    "id", NM "/providers/Microsoft.Authorization/locks/keep-nm", "name", "keep-nm", "properties", "level",
	    "CanNotDelete"), NULL);
	const json_t *f;

	ck_assert_ptr_nonnull(f = finding(doc, "lock-cannot-delete"));
	ck_assert_str_eq(json_str(f, "resource"), HUB "/virtualNetworkPeerings/hub-to-spoke-1");
	ck_assert_ptr_nonnull(strstr(json_str(f, "message"), "decommission"));
	/* the network manager's lock does not stop its PUTs, only rollback's DELETEs */
	ck_assert_int_eq(count(doc, "blockers"), 1);
	ck_assert_ptr_nonnull(f = finding(doc, "lock-blocks-rollback-delete"));
	ck_assert_str_eq(json_str(f, "severity"), "warning");
	json_decref(doc);
}
END_TEST

START_TEST(test_a_policy_deny_names_the_assignment_and_definition)
{
	json_t *facts = clean_facts(), *doc;
	const json_t *f;

	answer_policy(facts, "Microsoft.Network/virtualNetworks");
	doc = judge(facts);
	ck_assert_ptr_nonnull(f = finding(doc, "policy-deny"));
	ck_assert_str_eq(json_str(f, "resource"), V1);
	ck_assert_str_eq(json_str(f, "scope"), RGS);
	ck_assert_ptr_nonnull(strstr(json_str(f, "message"), "policyAssignments/no-basic"));
	ck_assert_ptr_nonnull(strstr(json_str(f, "message"), "deny-basic-pe-policies"));
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(f, "steps"), 0)), "w02-s3");
	ck_assert_int_eq(count(doc, "blockers"), 1);
	json_decref(doc);
	json_decref(facts);
}
END_TEST

START_TEST(test_a_missing_group_a_busy_resource_and_a_running_commit_are_blockers)
{
	json_t *doc = judge_with("resourceGroups", SUBID, json_pack("[s]", "rg-conn"),
	    "resources", NM_KEY, json_pack("{s:s,s:{s:s}}", "id", NM, "properties", "provisioningState", "Updating"),
	    "deployments", NM_KEY, json_pack("[s]", "Deploying"), NULL);
	const json_t *f;

	ck_assert_ptr_nonnull(f = finding(doc, "group-missing"));
	ck_assert_str_eq(json_str(f, "resource"), RGS);
	ck_assert_ptr_nonnull(strstr(json_str(f, "fix"), "az group create"));
	/* the group the plan creates is not missing */
	ck_assert_int_eq(count(doc, "blockers"), 3);
	ck_assert_ptr_nonnull(f = finding(doc, "resource-busy"));
	ck_assert_str_eq(json_str(f, "resource"), NM);
	ck_assert_ptr_nonnull(finding(doc, "commit-in-progress"));
	json_decref(doc);
}
END_TEST

START_TEST(test_a_feature_registering_warns_and_an_unregistered_provider_blocks)
{
	json_t *doc = judge_with("features", SUBID "/microsoft.network/allowhighscaleconnectedgroup",
	    json_string("Registering"), "providers", SUBID "/microsoft.network", json_string("NotRegistered"),
	    NULL);
	const json_t *f;

	ck_assert_ptr_nonnull(f = finding(doc, "feature-registering"));
	ck_assert_str_eq(json_str(f, "severity"), "warning");
	ck_assert_ptr_nonnull(strstr(json_str(f, "resource"), "AllowHighScaleConnectedGroup"));
	ck_assert_ptr_nonnull(f = finding(doc, "provider-unregistered"));
	ck_assert_ptr_nonnull(strstr(json_str(f, "fix"), "az provider register --namespace Microsoft.Network"));
	ck_assert_int_eq(count(doc, "blockers"), 1);
	json_decref(doc);
}
END_TEST

START_TEST(test_a_deny_assignment_for_everyone_blocks_and_a_read_that_failed_is_not_a_pass)
{
	json_t *doc = judge_with("denyAssignments", SUBID, json_pack("[{s:s,s:{s:s,s:s,s:[{s:[s],s:[]}],"
	    "s:[{s:s,s:s}]}}]", "id", "da1", "properties", "denyAssignmentName", "stack-deny", "scope", RGS,
	    "permissions", "actions", "*/write", "notActions", "principals", "id",
	    "00000000-0000-0000-0000-000000000000", "type", "SystemDefined"),
	    "permissions", RGS_KEY, json_pack("{s:s}", "error", "AuthorizationFailed"), NULL);
	const json_t *f, *c;
	size_t i;

	ck_assert_ptr_nonnull(f = finding(doc, "deny-assignment"));
	ck_assert_str_eq(json_str(f, "severity"), "blocker");
	ck_assert_str_eq(json_str(f, "scope"), RGS);
	json_array_foreach(json_object_get(doc, "checks"), i, c)
		if (strcmp(json_str(c, "name"), "permissions") == 0)
			ck_assert_str_eq(json_str(c, "status"), "not-run");
	ck_assert_ptr_nonnull(f = finding(doc, "read-failed"));
	ck_assert_str_eq(json_str(f, "severity"), "warning");
	json_decref(doc);
}
END_TEST

START_TEST(test_the_policy_key_ignores_ids_and_names_but_not_values)
{
	json_t *a = json_pack("{s:s,s:{s:s}}", "name", "m1", "properties", "resourceId", V1);
	json_t *b = json_pack("{s:s,s:{s:s}}", "name", "m2", "properties", "resourceId", V2);
	json_t *c = json_pack("{s:{s:s}}", "properties", "privateEndpointVNetPolicies", "Basic");
	json_t *d = json_pack("{s:{s:s}}", "properties", "privateEndpointVNetPolicies", "Disabled");
	char *ka = preflight_policy_key(RGS, "T", a), *kb = preflight_policy_key(RGS, "T", b);
	char *kc = preflight_policy_key(RGS, "T", c), *kd = preflight_policy_key(RGS, "T", d);
	char *ke = preflight_policy_key(RGC, "T", a);

	ck_assert_str_eq(ka, kb);
	ck_assert_str_ne(kc, kd);
	ck_assert_str_ne(ka, ke);
	free(ka);
	free(kb);
	free(kc);
	free(kd);
	free(ke);
	json_decref(a);
	json_decref(b);
	json_decref(c);
	json_decref(d);
}
END_TEST

START_TEST(test_the_store_keeps_the_last_preflight_of_a_plan)
{
	char dir[] = "/tmp/check_preflight.XXXXXX", db[128];
	struct nw_err err = { 0 };
	struct store *st = NULL;
	json_error_t je;
	json_t *plan, *doc = NULL, *got = NULL;
	const char *id;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/netwave.db", dir);
	plan = json_load_file(test_data_path("plan/plan.json"), 0, &je);
	ck_assert_msg(plan != NULL, "%s", je.text);
	id = json_str(plan, "id");
	ck_assert_int_eq(store_open(&st, db, true, &err), 0);
	ck_assert_msg(store_plan_save(st, plan, &err) == 0, "%s", err.msg);
	/* none yet */
	ck_assert_int_eq(store_preflight_get(st, id, &got, &err), 0);
	ck_assert(json_is_null(got));
	json_decref(got);
	doc = json_pack("{s:s,s:s,s:{s:i,s:i}}", "format", PREFLIGHT_FORMAT, "plan", id, "summary", "blockers", 2,
	    "warnings", 1);
	ck_assert_int_eq(store_preflight_save(st, id, doc, 1000, &err), 0);
	json_object_set_new(json_object_get(doc, "summary"), "blockers", json_integer(0));
	ck_assert_int_eq(store_preflight_save(st, id, doc, 2000, &err), 0);
	ck_assert_int_eq(store_preflight_get(st, id, &got, &err), 0);
	ck_assert(json_equal(got, doc));
	json_decref(got);
	/* an unknown plan is bad input naming it */
	ck_assert_int_eq(store_preflight_save(st, "pl-000000000000", doc, 1, &err), NW_EINPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "pl-000000000000"));
	store_close(st);
	json_decref(doc);
	json_decref(plan);
	unlink(db);
	snprintf(db, sizeof(db), "%s/netwave.db-wal", dir);
	unlink(db);
	snprintf(db, sizeof(db), "%s/netwave.db-shm", dir);
	unlink(db);
	rmdir(dir);
}
END_TEST

#define ERNET SUB "/resourceGroups/rg-net/providers/Microsoft.Network"

START_TEST(test_a_circuit_with_a_reserved_peer_asn_on_a_gateway_the_plan_writes_is_a_blocker)
{
	struct preflight pf = { 0 };
	struct nw_err err = { 0 };
	struct topology *t = test_topology("{\"format\":\"netwave.topology/v1\",\"resources\":["
	    "{\"id\":\"" ERNET "/virtualNetworks/hub\",\"name\":\"hub\",\"type\":\"Microsoft.Network/virtualNetworks\","
	    " \"location\":\"eastus\",\"properties\":{\"addressSpace\":{\"addressPrefixes\":[\"10.1.0.0/16\"]},"
	    " \"subnets\":[{\"id\":\"" ERNET "/virtualNetworks/hub/subnets/GatewaySubnet\",\"name\":\"GatewaySubnet\","
	    " \"properties\":{\"addressPrefix\":\"10.1.255.0/27\"}}],\"virtualNetworkPeerings\":[]}},"
	    "{\"id\":\"" ERNET "/virtualNetworkGateways/gw-er\",\"name\":\"gw-er\",\"type\":\"Microsoft.Network/virtualNetworkGateways\","
	    " \"location\":\"eastus\",\"properties\":{\"gatewayType\":\"ExpressRoute\",\"sku\":{\"name\":\"ErGw1AZ\",\"tier\":\"ErGw1AZ\"},"
	    " \"ipConfigurations\":[{\"name\":\"default\",\"properties\":{\"subnet\":{\"id\":\"" ERNET "/virtualNetworks/hub/subnets/GatewaySubnet\"}}}]}},"
	    "{\"id\":\"" ERNET "/connections/gw-er-er-1\",\"name\":\"gw-er-er-1\",\"type\":\"Microsoft.Network/connections\","
	    " \"location\":\"eastus\",\"properties\":{\"connectionType\":\"ExpressRoute\","
	    " \"virtualNetworkGateway1\":{\"id\":\"" ERNET "/virtualNetworkGateways/gw-er\"},"
	    " \"peer\":{\"id\":\"" ERNET "/expressRouteCircuits/er-1\"},\"routingWeight\":0}},"
	    "{\"id\":\"" ERNET "/expressRouteCircuits/er-1\",\"name\":\"er-1\",\"type\":\"Microsoft.Network/expressRouteCircuits\","
	    " \"location\":\"eastus\",\"properties\":{\"provisioningState\":\"Succeeded\",\"peerings\":["
	    "  {\"id\":\"" ERNET "/expressRouteCircuits/er-1/peerings/AzurePrivatePeering\",\"name\":\"AzurePrivatePeering\","
	    "   \"type\":\"Microsoft.Network/expressRouteCircuits/peerings\",\"properties\":{\"peeringType\":\"AzurePrivatePeering\","
	    "   \"state\":\"Enabled\",\"provisioningState\":\"Succeeded\",\"azureASN\":12076,\"peerASN\":65515,\"vlanId\":100,"
	    "   \"primaryPeerAddressPrefix\":\"192.168.255.0/30\",\"secondaryPeerAddressPrefix\":\"192.168.255.4/30\"}}]}}]}");
	json_t *gw = json_pack("[{s:s}]", "path", ERNET "/virtualNetworkGateways/gw-er/prepareMigration");
	json_t *other = json_pack("[{s:s}]", "path", ERNET "/virtualNetworks/hub");
	json_t *doc;
	const json_t *f;

	ck_assert_ptr_nonnull(t);
	/* a plan that does not touch the gateway does not depend on the circuit */
	ck_assert_int_eq(preflight_circuits(&pf, t, "current.json", other, &err), 0);
	ck_assert_uint_eq(pf.n, 0);
	preflight_clear(&pf);
	ck_assert_int_eq(preflight_circuits(&pf, t, "current.json", gw, &err), 0);
	doc = preflight_to_json(&pf, "pl-test", "2026-12-07T00:00:00Z", NULL);
	ck_assert_ptr_nonnull(f = finding(doc, "circuit-peer-asn-reserved"));
	ck_assert_str_eq(json_str(f, "severity"), "blocker");
	ck_assert_ptr_nonnull(strstr(json_str(f, "resource"), "er-1"));
	/* without a topology the check says it did not run */
	preflight_clear(&pf);
	ck_assert_int_eq(preflight_circuits(&pf, NULL, NULL, gw, &err), 0);
	ck_assert_str_eq(json_str(json_array_get(pf.checks, 0), "status"), "not-run");
	preflight_clear(&pf);
	json_decref(doc);
	json_decref(gw);
	json_decref(other);
	topology_free(t);
}
END_TEST

int
main(void)
{
	const TTest *const preflight_tests[] = {
		TEST_CASE("judges", 0),
		test_writes_list_operations_inverses_and_the_decommission_with_their_permissions,
		test_reads_are_batched_by_scope_and_policy_by_request_shape,
		test_a_clean_estate_has_no_blockers_and_every_check_ran,
		test_a_missing_commit_action_is_a_blocker_naming_the_scope_and_a_role,
		test_a_read_only_lock_on_a_spoke_blocks_its_put_but_not_the_others,
		test_a_cannot_delete_lock_blocks_the_decommission_and_warns_on_rollback,
		test_a_policy_deny_names_the_assignment_and_definition,
		test_a_missing_group_a_busy_resource_and_a_running_commit_are_blockers,
		test_a_feature_registering_warns_and_an_unregistered_provider_blocks,
		test_a_deny_assignment_for_everyone_blocks_and_a_read_that_failed_is_not_a_pass,
		test_the_policy_key_ignores_ids_and_names_but_not_values,
		test_a_circuit_with_a_reserved_peer_asn_on_a_gateway_the_plan_writes_is_a_blocker,
		TEST_CASE("store", 0),
		test_the_store_keeps_the_last_preflight_of_a_plan,
		NULL,
	};

	return test_main("preflight", preflight_tests);
}
