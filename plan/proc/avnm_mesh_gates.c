/*
 * avnm-mesh's own gate kinds (plan/gates.h): deployment-status (the
 * network manager's commit is Deployed in each region) and
 * feature-registered (the preview features the mesh needs are Registered),
 * with their pure judges.  Sources of the states judged:
 * listDeploymentStatus (learn.microsoft.com/rest/api/networkmanager/
 * network-manager-deployment-status/list) and feature registration
 * (learn.microsoft.com/rest/api/resources/features/get).
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "plan/gates.h"
#include "plan/jsonutil.h"
#include "plan/proc/avnm_mesh.h"

/* ------------------------------------------------------------------ */
/* deployment-status */

/* The region's Connectivity record in recs, or NULL. */
static const json_t *
region_record(const json_t *recs, const char *region)
{
	const json_t *rec, *found = NULL;
	size_t k;

	json_array_foreach(recs, k, rec) {
		const char *rr = json_str(rec, "region"), *t = json_str(rec, "deploymentType");
		if (rr != NULL && region != NULL && strcasecmp(rr, region) == 0 &&
		    (t == NULL || strcasecmp(t, "Connectivity") == 0))
			found = rec;
	}
	return found;
}

/* Every configuration the plan expects is deployed, and no other. */
static bool
ids_match(const json_t *ids, const json_t *wids)
{
	const json_t *x;
	size_t a;

	if (json_array_size(ids) != json_array_size(wids))
		return false;
	json_array_foreach(wids, a, x)
		if (!json_is_string(x) || !json_array_has_str(ids, json_string_value(x), strcasecmp))
			return false;
	return true;
}

/* Judges one deployment's record; why gets the reason when not passed. */
static enum gate_outcome
judge_deployment(const json_t *d, const json_t *found, char *why, size_t size)
{
	const char *nm = json_str(d, "networkManager"), *region = json_str(d, "region");
	const char *want = json_str(d, "status") != NULL ? json_str(d, "status") : "Deployed";
	const char *st = json_str(found, "deploymentStatus"), *msg = json_str(found, "errorMessage");
	const json_t *ids = json_object_get(found, "configurationIds");
	const json_t *wids = json_object_get(d, "configurationIds");

	if (found == NULL) {
		snprintf(why, size, "%s shows no deployment in %s yet", gate_short_name(nm), region);
		return GATE_NOT_YET;
	}
	if (st != NULL && strcasecmp(st, "Deploying") == 0) {
		snprintf(why, size, "%s in %s is still Deploying", gate_short_name(nm), region);
		return GATE_NOT_YET;
	}
	if (st == NULL || strcasecmp(st, want) != 0) {
		snprintf(why, size, "%s in %s is %s, expected %s%s%s", gate_short_name(nm), region,
		    st != NULL ? st : "unknown", want, msg != NULL && msg[0] ? ": " : "", msg != NULL ? msg : "");
		return GATE_FAILED;
	}
	if (!ids_match(ids, wids)) {
		snprintf(why, size, "%s in %s has %zu configuration(s) deployed, expected the %zu of the plan",
		    gate_short_name(nm), region, json_array_size(ids), json_array_size(wids));
		return GATE_FAILED;
	}
	return GATE_PASSED;
}

static enum gate_outcome
judge_deployment_status(const json_t *params, const json_t *reads, json_t *ev)
{
	const json_t *deps = json_object_get(params, "deployments"), *d;
	struct gate_tally t;
	size_t i;

	gate_tally_start(&t, ev, "deployments");
	json_array_foreach(deps, i, d) {
		const json_t *found = region_record(json_array_get(reads, i), json_str(d, "region"));
		char w[1024];
		enum gate_outcome o;

		if (found != NULL)
			json_array_append_new(t.items, json_pack("{s:s?, s:s?, s:O}", "networkManager",
			    json_str(d, "networkManager"), "region", json_str(d, "region"), "record", found));
		o = judge_deployment(d, found, w, sizeof(w));
		if (o != GATE_PASSED)
			gate_tally_miss(&t, o, "%s", w);
		if (t.worst == GATE_FAILED)
			break;
	}
	return gate_tally_finish(&t, ev, "%zu deployment(s) %s", json_array_size(deps), "Deployed");
}

/* ------------------------------------------------------------------ */
/* feature-registered */

static enum gate_outcome
judge_features(const json_t *params, const json_t *reads, json_t *ev)
{
	const char *want = json_str(params, "state") != NULL ? json_str(params, "state") : "Registered";
	struct gate_tally t;
	const json_t *rd;
	size_t i;

	gate_tally_start(&t, ev, "features");
	json_array_foreach(reads, i, rd) {
		const char *full = json_str(rd, "feature"), *sub = json_str(rd, "subscription");
		const char *st = json_path_str(json_object_get(rd, "resource"), "properties", "state", NULL);

		json_array_append_new(t.items, json_pack("{s:s?, s:s?, s:s}", "feature", full,
		    "subscription", sub, "state", st != NULL ? st : "unknown"));
		if (st != NULL && strcasecmp(st, want) == 0)
			continue;
		gate_tally_miss(&t, st != NULL && (strcasecmp(st, "Registering") == 0 ||
		    strcasecmp(st, "Pending") == 0) ? GATE_NOT_YET : GATE_FAILED,
		    "%s is %s on %s, expected %s", full, st != NULL ? st : "unknown", sub, want);
	}
	return gate_tally_finish(&t, ev, "%zu feature state(s) %s", json_array_size(t.items), want);
}

/* ------------------------------------------------------------------ */
/* The definitions */

/* (what each checks: avnm_mesh.h; listDeploymentStatus is a POST that answers at once) */
const struct gate_kind_def gate_kind_deployment_status = {
	"deployment-status", GATE_READ_DEPLOYMENTS, NULL, judge_deployment_status, GATE_COST_POSTS };
const struct gate_kind_def gate_kind_feature_registered = {
	"feature-registered", GATE_READ_FEATURES, NULL, judge_features, GATE_COST_GETS };

const struct gate_kind_def *const mesh_gate_kinds[] = {
	&gate_kind_deployment_status,
	&gate_kind_feature_registered,
	NULL,
};
