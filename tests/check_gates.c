/*
 * The gate kinds and their pure judges (plan/gates.h), and the wave and
 * gate kinds each change kind registers (plan/kinds.h): each judge gets a
 * gate's params and the reads the engine made, and says passed, failed or
 * not yet, with evidence.  No emulator: JSON in, outcomes out.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "plan/gates.h"
#include "plan/kinds.h"
#include "plan/procedure.h"
#include "plan/proc/avnm_mesh.h"
#include "plan/proc/gateway_standard_ip.h"
#include "plan/jsonutil.h"
#include "tests/testutil.h"

#define NM "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkManagers/nm"
#define GW "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworkGateways/gw"

static enum gate_outcome
judge(const struct gate_kind_def *ge, const json_t *params, const json_t *reads, json_t **ev)
{

	ck_assert_ptr_nonnull(ge);
	ck_assert_ptr_nonnull(ge->judge);
	*ev = json_object();
	return ge->judge(params, reads, *ev);
}

/* Asserts that the judge of k gives want and, when summary is given, says it. */
static void
expect_judge(const struct gate_kind_def *k, const json_t *params, const json_t *reads, enum gate_outcome want,
    const char *summary)
{
	json_t *ev;

	ck_assert_int_eq(judge(k, params, reads, &ev), want);
	if (summary != NULL)
		ck_assert(strstr(json_str(ev, "summary"), summary) != NULL);
	json_decref(ev);
}

START_TEST(test_every_known_gate_kind_has_an_entry_and_says_what_to_read)
{
	const struct gate_kind_def *ge;
	size_t i = 0, n = 0;

	while ((ge = gate_kind_next(&i)) != NULL) {
		n++;
		ck_assert_msg(gate_kind_parse(ge->name) == ge, "%s is not found by its name", ge->name);
		ck_assert_int_lt(ge->read, GATE_READ_COUNT);
		/* only the route sampler judges as it reads */
		ck_assert_int_eq(ge->judge == NULL, ge->read == GATE_READ_EFFECTIVE_ROUTES ||
		    ge->read == GATE_READ_ONPREM_ROUTES);
		ck_assert_int_eq(ge->post != NULL, ge->read == GATE_READ_POST_ACTION);
	}
	/* the four shared kinds and the change kinds' own */
	ck_assert_uint_gt(n, 4);
	ck_assert_ptr_null(gate_kind_parse("resource-statee"));
	ck_assert_ptr_null(gate_kind_parse(NULL));
	ck_assert_str_eq(gate_kind_name(NULL), "");
	ck_assert_int_eq(GATE_MIGRATION_PHASE->read, GATE_READ_GATEWAYS);
	ck_assert_str_eq(gate_outcome_name(GATE_NOT_YET), "not yet");
}
END_TEST

/* Every wave and gate kind a change kind registers has one name, unique across the registry. */
START_TEST(test_each_change_kind_registers_its_own_wave_and_gate_kinds_under_unique_names)
{
	const struct wave_kind_def *wk, *wk2;
	const struct gate_kind_def *gk, *gk2;
	size_t i = 0, j, n = 0;

	while ((wk = wave_kind_next(&i)) != NULL) {
		n++;
		ck_assert_msg(wave_kind_parse(wk->name) == wk, "%s is not found by its name", wk->name);
		ck_assert_msg(procedure_of_wave(wk) != NULL, "no change kind builds %s waves", wk->name);
		for (j = 0; (wk2 = wave_kind_next(&j)) != NULL;)
			ck_assert_msg(wk2 == wk || strcmp(wk2->name, wk->name) != 0, "wave kind %s twice", wk->name);
	}
	ck_assert_uint_gt(n, 0);
	for (i = 0; (gk = gate_kind_next(&i)) != NULL;)
		for (j = 0; (gk2 = gate_kind_next(&j)) != NULL;)
			ck_assert_msg(gk2 == gk || strcmp(gk2->name, gk->name) != 0, "gate kind %s twice", gk->name);
	/* the registry answers for what the kinds define */
	ck_assert_ptr_eq(wave_kind_parse("gateway-commit"), WAVE_GATEWAY_COMMIT);
	ck_assert_ptr_eq(procedure_of_wave(WAVE_DECOMMISSION), procedure_find("avnm-mesh"));
	ck_assert_ptr_eq(gate_kind_parse("deployment-status"), GATE_DEPLOYMENT_STATUS);
	ck_assert_ptr_null(wave_kind_parse("meshh"));
	ck_assert(wave_kind_has("decommission", WAVE_KIND_DECOMMISSION));
	ck_assert(!wave_kind_has("mesh", WAVE_KIND_DECOMMISSION));
	ck_assert(wave_kind_has("mesh", WAVE_KIND_GROUP_SIZE));
	ck_assert(!wave_kind_has("no-such-kind", WAVE_KIND_GROUP_SIZE));
}
END_TEST

START_TEST(test_resource_state_fails_on_a_settled_mismatch_and_waits_on_a_moving_one)
{
	json_t *params = json_pack("{s:[{s:s, s:s, s:s}]}", "checks", "resource", NM, "pointer",
	    "/properties/provisioningState", "equals", "Succeeded");
	char low[256];
	json_t *ok, *moving, *failed, *gone, *ev;
	size_t i;

	snprintf(low, sizeof(low), "%s", NM);
	for (i = 0; low[i] != '\0'; i++)
		low[i] = (char)(low[i] >= 'A' && low[i] <= 'Z' ? low[i] - 'A' + 'a' : low[i]);
	ok = json_pack("{s:{s:{s:s}}}", low, "properties", "provisioningState", "succeeded");
	moving = json_pack("{s:{s:{s:s}}}", low, "properties", "provisioningState", "Updating");
	failed = json_pack("{s:{s:{s:s}}}", low, "properties", "provisioningState", "Failed");
	gone = json_pack("{s:n}", low);
	/* strings compare without case, as ARM's enums do */
	expect_judge(GATE_RESOURCE_STATE, params, ok, GATE_PASSED, NULL);
	expect_judge(GATE_RESOURCE_STATE, params, moving, GATE_NOT_YET, NULL);
	ck_assert_int_eq(judge(GATE_RESOURCE_STATE, params, failed, &ev), GATE_FAILED);
	ck_assert_int_eq(json_array_size(json_object_get(ev, "mismatches")), 1);
	ck_assert(strstr(json_str(ev, "summary"), "nm") != NULL);
	json_decref(ev);
	expect_judge(GATE_RESOURCE_STATE, params, gone, GATE_FAILED, NULL);
	json_decref(params);
	json_decref(ok);
	json_decref(moving);
	json_decref(failed);
	json_decref(gone);
}
END_TEST

START_TEST(test_deployment_status_needs_the_plans_configurations_exactly)
{
	json_t *params = json_pack("{s:[{s:s, s:s, s:[s]}]}", "deployments", "networkManager", NM,
	    "region", "eastus", "configurationIds", "/x/cc1");
	json_t *deployed = json_pack("[[{s:s, s:s, s:s, s:[s]}]]", "region", "eastus", "deploymentType",
	    "Connectivity", "deploymentStatus", "Deployed", "configurationIds", "/X/CC1");
	json_t *extra = json_pack("[[{s:s, s:s, s:[s, s]}]]", "region", "eastus", "deploymentStatus",
	    "Deployed", "configurationIds", "/x/cc1", "/x/cc2");
	json_t *deploying = json_pack("[[{s:s, s:s}]]", "region", "eastus", "deploymentStatus", "Deploying");
	json_t *elsewhere = json_pack("[[{s:s, s:s}]]", "region", "westus", "deploymentStatus", "Deployed");
	json_t *ev;

	ck_assert_int_eq(judge(GATE_DEPLOYMENT_STATUS, params, deployed, &ev), GATE_PASSED);
	ck_assert_int_eq(json_array_size(json_object_get(ev, "deployments")), 1);
	json_decref(ev);
	expect_judge(GATE_DEPLOYMENT_STATUS, params, extra, GATE_FAILED, "2 configuration(s)");
	expect_judge(GATE_DEPLOYMENT_STATUS, params, deploying, GATE_NOT_YET, NULL);
	expect_judge(GATE_DEPLOYMENT_STATUS, params, elsewhere, GATE_NOT_YET, "no deployment in eastus");
	json_decref(params);
	json_decref(deployed);
	json_decref(extra);
	json_decref(deploying);
	json_decref(elsewhere);
}
END_TEST

START_TEST(test_features_wait_while_registering_and_fail_when_not_registered)
{
	json_t *params = json_pack("{s:[s], s:[s]}", "features", "Microsoft.Network/F", "subscriptions", "s");
	json_t *reads = json_pack("[{s:s, s:s, s:{s:{s:s}}}]", "feature", "Microsoft.Network/F", "subscription",
	    "s", "resource", "properties", "state", "Registering");
	json_t *props = json_path(json_array_get(reads, 0), "resource", "properties", NULL);

	expect_judge(GATE_FEATURE_REGISTERED, params, reads, GATE_NOT_YET, NULL);
	json_object_set_new(props, "state", json_string("NotRegistered"));
	expect_judge(GATE_FEATURE_REGISTERED, params, reads, GATE_FAILED, "NotRegistered");
	json_object_set_new(props, "state", json_string("Registered"));
	expect_judge(GATE_FEATURE_REGISTERED, params, reads, GATE_PASSED, NULL);
	json_decref(params);
	json_decref(reads);
}
END_TEST

START_TEST(test_migration_phase_reads_the_new_gateway_once_the_old_is_gone)
{
	json_t *params = json_pack("{s:[s], s:s}", "gateways", GW, "phase", "CommitSucceeded");
	json_t *reads = json_pack("[{s:s, s:{s:s, s:{s:{s:s, s:s}}}, s:s}]", "gateway", GW, "resource",
	    "id", GW "_migrate", "properties", "virtualNetworkGatewayMigrationStatus", "phase",
	    "CommitSucceeded", "state", "Succeeded", "newGateway", GW "_migrate");
	json_t *missing = json_pack("[{s:s}]", "gateway", GW);
	json_t *ev;

	ck_assert_int_eq(judge(GATE_MIGRATION_PHASE, params, reads, &ev), GATE_PASSED);
	ck_assert_str_eq(json_str(json_array_get(json_object_get(ev, "gateways"), 0), "read"), GW "_migrate");
	json_decref(ev);
	expect_judge(GATE_MIGRATION_PHASE, params, missing, GATE_FAILED, "does not exist");
	json_decref(params);
	json_decref(reads);
	json_decref(missing);
}
END_TEST

int
main(void)
{
	const TTest *const gates_tests[] = {
		TEST_CASE("core", 0),
		test_every_known_gate_kind_has_an_entry_and_says_what_to_read,
		test_each_change_kind_registers_its_own_wave_and_gate_kinds_under_unique_names,
		test_resource_state_fails_on_a_settled_mismatch_and_waits_on_a_moving_one,
		test_deployment_status_needs_the_plans_configurations_exactly,
		test_features_wait_while_registering_and_fail_when_not_registered,
		test_migration_phase_reads_the_new_gateway_once_the_old_is_gone,
		NULL,
	};

	return test_main("gates", gates_tests);
}
