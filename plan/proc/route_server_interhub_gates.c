/*
 * route-server-interhub's own gate kind (plan/gates.h): learned-routes,
 * what each BGP connection learned against what the BGP model says, read
 * with the engine's POST-action reader (learnedRoutes only reads: Virtual
 * Hub Bgp Connections - List Learned Routes, learn.microsoft.com/rest/api/
 * virtualwan/virtual-hub-bgp-connections/list-learned-routes).
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "plan/gates.h"
#include "plan/jsonutil.h"
#include "plan/proc/route_server_interhub.h"

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
				gate_list_add(missing, json_pack("{s:s?, s:O}", "connection", id, "prefix", pre));
				o = gate_worse(o, GATE_NOT_YET);
			}
		json_array_foreach(json_object_get(c, "absent"), k, pre)
			if (json_string_value(pre) != NULL && learned_has(answer, json_string_value(pre))) {
				nunexpected++;
				gate_list_add(unexpected, json_pack("{s:s?, s:O}", "connection", id, "prefix", pre));
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

/* ------------------------------------------------------------------ */
/* The definition */

static const struct gate_post_read learned_read = {
	.action = "learnedRoutes",
	.list = "connections",
	.key = "connection",
	.as = "learned",
	.doing = "reading learned routes",
};

/*
 * Costed as GETs, as the plan has counted it since the kind was added:
 * learnedRoutes is a long-running POST, so GATE_COST_POLLED_POSTS would
 * be ARM's count, but it would change every route server plan's estimate.
 */
const struct gate_kind_def gate_kind_learned_routes = {
	.name = "learned-routes",
	.meaning = "a BGP connection's learnedRoutes hold and lack what the model says",
	.read = GATE_READ_POST_ACTION,
	.post = &learned_read,
	.judge = judge_learned_routes,
	.cost = GATE_COST_GETS,
};

const struct gate_kind_def *const rsi_gate_kinds[] = {
	&gate_kind_learned_routes,
	NULL,
};
