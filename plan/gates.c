/*
 * The gate-kind table and its pure judges (plan/gates.h).  Each judge
 * gets the gate's params and what the engine read, and says passed,
 * failed, not yet (the state is still moving) or inconclusive, with the
 * evidence the journal keeps.  Sources of the states judged:
 * listDeploymentStatus (learn.microsoft.com/rest/api/networkmanager/
 * network-manager-deployment-status/list), feature registration
 * (learn.microsoft.com/rest/api/resources/features/get), gateway
 * migration status (learn.microsoft.com/rest/api/network-gateway/
 * virtual-network-gateways, properties.virtualNetworkGatewayMigrationStatus).
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "plan/actions.h"
#include "plan/gates.h"
#include "plan/jsonutil.h"

static const char *const outcome_names[] = { "passed", "failed", "inconclusive", "error", "not yet" };

const char *
gate_outcome_name(enum gate_outcome o)
{
	return (size_t)o < sizeof(outcome_names) / sizeof(outcome_names[0]) ? outcome_names[o] : "?";
}

enum gate_outcome
gate_finish(json_t *ev, enum gate_outcome o, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	json_object_set_new(ev, "summary", json_string(buf));
	return o;
}

const char *
gate_short_name(const char *id)
{
	const char *s = id != NULL ? strrchr(id, '/') : NULL;

	return s != NULL ? s + 1 : id != NULL ? id : "?";
}

static void
list_add(json_t *list, json_t *item)
{
	if (item != NULL && json_array_size(list) < 50)
		json_array_append_new(list, item);
	else
		json_decref(item);
}

/* The worse of two outcomes as the judges count them: failed over not yet over passed. */
static enum gate_outcome
worse(enum gate_outcome a, enum gate_outcome b)
{
	if (a == GATE_FAILED || b == GATE_FAILED)
		return GATE_FAILED;
	if (a == GATE_NOT_YET || b == GATE_NOT_YET)
		return GATE_NOT_YET;
	return GATE_PASSED;
}

/* ------------------------------------------------------------------ */
/* resource-state */

static enum gate_outcome
judge_resource_state(const json_t *params, const json_t *got, json_t *ev)
{
	const json_t *checks = json_object_get(params, "checks"), *c;
	json_t *bad = json_array();
	size_t i, nbad = 0;
	bool moving = false;

	json_array_foreach(checks, i, c) {
		const char *id = json_str(c, "resource");
		char low[2048];
		const json_t *res, *have;
		size_t k;

		snprintf(low, sizeof(low), "%s", id != NULL ? id : "");
		for (k = 0; low[k] != '\0'; k++)
			low[k] = (char)tolower((unsigned char)low[k]);
		res = json_object_get(got, low);
		have = json_is_object(res) ? json_pointer_get(res, json_str(c, "pointer")) : NULL;
		if (json_equal_nocase(have, json_object_get(c, "equals")))
			continue;
		nbad++;
		if (json_is_object(res)) {
			const char *ps = json_path_str(res, "properties", "provisioningState", NULL);
			if (ps != NULL && strcasecmp(ps, "Succeeded") != 0 && strcasecmp(ps, "Failed") != 0 &&
			    strcasecmp(ps, "Canceled") != 0)
				moving = true;
		}
		list_add(bad, json_pack("{s:s, s:s?, s:O?, s:O?}", "resource", id, "pointer",
		    json_str(c, "pointer"), "expected", json_object_get(c, "equals"), "actual", have));
	}
	json_object_set_new(ev, "checked", json_integer((json_int_t)json_array_size(checks)));
	json_object_set_new(ev, "mismatches", bad);
	if (nbad == 0)
		return gate_finish(ev, GATE_PASSED, "%zu resource check(s) as expected", json_array_size(checks));
	return gate_finish(ev, moving ? GATE_NOT_YET : GATE_FAILED, "%zu of %zu resource check(s) differ, "
	    "first %s %s", nbad, json_array_size(checks),
	    gate_short_name(json_str(json_array_get(bad, 0), "resource")),
	    json_str(json_array_get(bad, 0), "pointer") != NULL ? json_str(json_array_get(bad, 0), "pointer") : "");
}

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
	const json_t *x, *y;
	size_t a, b;
	bool ok = json_array_size(ids) == json_array_size(wids);

	json_array_foreach(wids, a, x) {
		bool hit = false;
		json_array_foreach(ids, b, y)
			if (json_is_string(x) && json_is_string(y) &&
			    strcasecmp(json_string_value(x), json_string_value(y)) == 0)
				hit = true;
		if (!hit)
			ok = false;
	}
	return ok;
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
	json_t *seen = json_array();
	enum gate_outcome worst = GATE_PASSED;
	char why[1024] = "";
	size_t i;

	json_object_set_new(ev, "deployments", seen);
	json_array_foreach(deps, i, d) {
		const json_t *found = region_record(json_array_get(reads, i), json_str(d, "region"));
		char w[1024];
		enum gate_outcome o;

		if (found != NULL)
			json_array_append_new(seen, json_pack("{s:s?, s:s?, s:O}", "networkManager",
			    json_str(d, "networkManager"), "region", json_str(d, "region"), "record", found));
		o = judge_deployment(d, found, w, sizeof(w));
		if (o != GATE_PASSED) {
			snprintf(why, sizeof(why), "%s", w);
			worst = worse(worst, o);
		}
		if (worst == GATE_FAILED)
			break;
	}
	if (worst == GATE_PASSED)
		return gate_finish(ev, GATE_PASSED, "%zu deployment(s) %s", json_array_size(deps), "Deployed");
	return gate_finish(ev, worst, "%s", why);
}

/* ------------------------------------------------------------------ */
/* feature-registered */

static enum gate_outcome
judge_features(const json_t *params, const json_t *reads, json_t *ev)
{
	const char *want = json_str(params, "state") != NULL ? json_str(params, "state") : "Registered";
	json_t *states = json_array();
	enum gate_outcome worst = GATE_PASSED;
	char why[512] = "";
	const json_t *rd;
	size_t i;

	json_object_set_new(ev, "features", states);
	json_array_foreach(reads, i, rd) {
		const char *full = json_str(rd, "feature"), *sub = json_str(rd, "subscription");
		const char *st = json_path_str(json_object_get(rd, "resource"), "properties", "state", NULL);

		json_array_append_new(states, json_pack("{s:s?, s:s?, s:s}", "feature", full,
		    "subscription", sub, "state", st != NULL ? st : "unknown"));
		if (st != NULL && strcasecmp(st, want) == 0)
			continue;
		snprintf(why, sizeof(why), "%s is %s on %s, expected %s", full, st != NULL ? st : "unknown", sub, want);
		if (st != NULL && (strcasecmp(st, "Registering") == 0 || strcasecmp(st, "Pending") == 0))
			worst = worse(worst, GATE_NOT_YET);
		else
			worst = GATE_FAILED;
	}
	if (worst == GATE_PASSED)
		return gate_finish(ev, GATE_PASSED, "%zu feature state(s) %s", json_array_size(states), want);
	return gate_finish(ev, worst, "%s", why);
}

/* ------------------------------------------------------------------ */
/* migration-phase */

static enum gate_outcome
judge_migration_phase(const json_t *params, const json_t *reads, json_t *ev)
{
	const char *want = json_str(params, "phase");
	json_t *seen = json_array();
	enum gate_outcome worst = GATE_PASSED;
	char why[1024] = "";
	const json_t *rd;
	size_t i;

	json_object_set_new(ev, "gateways", seen);
	json_array_foreach(reads, i, rd) {
		const char *id = json_str(rd, "gateway"), *alt = json_str(rd, "newGateway");
		const json_t *res = json_object_get(rd, "resource");
		const json_t *ms = json_path(res, "properties", "virtualNetworkGatewayMigrationStatus", NULL);
		const char *phase = json_str(ms, "phase") != NULL ? json_str(ms, "phase") : "None";
		const char *state = json_str(ms, "state") != NULL ? json_str(ms, "state") : "None";
		const char *msg = json_str(ms, "errorMessage");
		bool exists = json_is_object(res);

		json_array_append_new(seen, json_pack("{s:s?, s:s?, s:s?, s:s, s:s, s:b}", "gateway", id, "read",
		    exists && alt != NULL && json_str(res, "id") != NULL && strcasecmp(json_str(res, "id"), alt) == 0 ?
		    alt : NULL, "newGateway", alt, "phase", phase, "state", state, "exists", exists));
		if (!exists) {
			snprintf(why, sizeof(why), "gateway %s does not exist", gate_short_name(id));
			worst = GATE_FAILED;
		} else if (strcasecmp(state, "InProgress") == 0) {
			snprintf(why, sizeof(why), "%s: phase %s in progress", gate_short_name(id), phase);
			worst = worse(worst, GATE_NOT_YET);
		} else if (want != NULL && (strcasecmp(phase, want) != 0 || strcasecmp(state, "Failed") == 0)) {
			snprintf(why, sizeof(why), "%s: phase %s (%s), expected %s%s%s", gate_short_name(id), phase,
			    state, want, msg != NULL && msg[0] ? ": " : "", msg != NULL ? msg : "");
			worst = GATE_FAILED;
		}
	}
	if (worst == GATE_PASSED)
		return gate_finish(ev, GATE_PASSED, "%zu gateway(s) in phase %s", json_array_size(seen),
		    want != NULL ? want : "?");
	return gate_finish(ev, worst, "%s", why);
}

/* ------------------------------------------------------------------ */
/* soak */

static enum gate_outcome
judge_soak(const json_t *params, const json_t *reads, json_t *ev)
{
	(void)params;
	(void)reads;
	return gate_finish(ev, GATE_PASSED, "soaks are timed by the run");
}

/* ------------------------------------------------------------------ */
/* learned-routes */

/*
 * Whether a learnedRoutes answer holds prefix.  The REST spec models the
 * answer as PeerRouteList {"value": [PeerRoute]}; Azure answers with one
 * array per route server instance ("RouteServiceRole_IN_0": [...]), as
 * Learn's "Configure and troubleshoot Route Server" output shows: every
 * array in the answer is read.  A PeerRoute's prefix is "network".
 */
static bool
learned_has(const json_t *answer, const char *prefix)
{
	const char *k;
	const json_t *arr, *route;
	size_t i;

	json_object_foreach((json_t *)answer, k, arr)
		json_array_foreach(arr, i, route)
			if (json_str(route, "network") != NULL && strcasecmp(json_str(route, "network"), prefix) == 0)
				return true;
	return false;
}

/*
 * params.connections[]: {connection, present[], absent[]}; reads
 * [{connection, learned or null}] in the same order.  Failed when a
 * prefix the model drops (loop prevention) was learned; not yet while a
 * prefix it expects is missing (BGP converges after the connection is
 * made); passed when every connection holds all it should and none of
 * what it should not.
 */
static enum gate_outcome
judge_learned_routes(const json_t *params, const json_t *reads, json_t *ev)
{
	const json_t *c, *pre;
	json_t *missing = json_array(), *unexpected = json_array();
	enum gate_outcome o = GATE_PASSED;
	size_t i, k, nmissing = 0, nunexpected = 0;

	json_array_foreach(json_object_get(params, "connections"), i, c) {
		const json_t *answer = json_object_get(json_array_get(reads, i), "learned");
		const char *id = json_str(c, "connection");

		json_array_foreach(json_object_get(c, "present"), k, pre)
			if (json_string_value(pre) != NULL && !learned_has(answer, json_string_value(pre))) {
				nmissing++;
				list_add(missing, json_pack("{s:s?, s:O}", "connection", id, "prefix", pre));
				o = worse(o, GATE_NOT_YET);
			}
		json_array_foreach(json_object_get(c, "absent"), k, pre)
			if (json_string_value(pre) != NULL && learned_has(answer, json_string_value(pre))) {
				nunexpected++;
				list_add(unexpected, json_pack("{s:s?, s:O}", "connection", id, "prefix", pre));
				o = GATE_FAILED;
			}
	}
	json_object_set_new(ev, "missing", missing);
	json_object_set_new(ev, "unexpected", unexpected);
	if (o == GATE_FAILED)
		return gate_finish(ev, o, "%zu prefix(es) learned that loop prevention should drop, e.g. %s on %s",
		    nunexpected, json_str(json_array_get(unexpected, 0), "prefix"),
		    gate_short_name(json_str(json_array_get(unexpected, 0), "connection")));
	if (o == GATE_NOT_YET)
		return gate_finish(ev, o, "%zu prefix(es) not learned yet, e.g. %s on %s", nmissing,
		    json_str(json_array_get(missing, 0), "prefix"),
		    gate_short_name(json_str(json_array_get(missing, 0), "connection")));
	return gate_finish(ev, o, "%zu BGP connection(s) learned what the model expects",
	    json_array_size(json_object_get(params, "connections")));
}

static const struct gate_entry gate_entries[] = {
	{ GATE_RESOURCE_STATE, GATE_READ_RESOURCES, judge_resource_state },
	{ GATE_DEPLOYMENT_STATUS, GATE_READ_DEPLOYMENTS, judge_deployment_status },
	{ GATE_EFFECTIVE_ROUTES, GATE_READ_ROUTES, NULL },
	{ GATE_ONPREM_ROUTES, GATE_READ_ROUTES, NULL },
	{ GATE_FEATURE_REGISTERED, GATE_READ_FEATURES, judge_features },
	{ GATE_MIGRATION_PHASE, GATE_READ_GATEWAYS, judge_migration_phase },
	{ GATE_SOAK, GATE_READ_NOTHING, judge_soak },
	{ GATE_LEARNED_ROUTES, GATE_READ_LEARNED, judge_learned_routes },
};

const struct gate_entry *
gate_entry_get(enum gate_kind k)
{
	size_t i;

	for (i = 0; i < sizeof(gate_entries) / sizeof(gate_entries[0]); i++)
		if (gate_entries[i].kind == k)
			return &gate_entries[i];
	return NULL;
}
