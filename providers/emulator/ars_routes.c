/*
 * What a route server's BGP connection learned from its peer and advertises
 * to it: POST .../virtualHubs/{hub}/bgpConnections/{name}/learnedRoutes and
 * /advertisedRoutes, long-running (202 + Location, then 200 with the
 * routes), computed when the operation ends from the estate as it then
 * stands.
 *
 * The answer has ARM's shape, keyed by router instance:
 *   {"RouteServiceRole_IN_0": [{localAddress, network, nextHop, sourcePeer,
 *    asPath, weight, origin}, ...], "RouteServiceRole_IN_1": [...]}
 * which is what Azure sends and what @azure/arm-network 39 deserializes
 * (peerRouteArrayRecordDeserializer, a record of PeerRoute arrays); older
 * REST specs modelled it as PeerRouteList {"value": [...]}
 * (docs/emulator.md says more).
 *
 * The routes are the BGP model's (plan/routes_bgp.c, docs/bgp.md) over the
 * estate loaded as a topology, with the NVAs it declares (declared.nvas):
 * learned, what the route server accepted from the peer (loop prevention,
 * AS-override and prepending applied); advertised, its best routes but
 * those learned over this connection, each path starting with 65515.  So
 * check, routes and path agree with what the emulator answers.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "plan/routes.h"
#include "plan/routes_bgp.h"
#include "plan/topology.h"
#include "providers/emulator/ars.h"

/* The answer for a connection, from the BGP model over the estate as it stands. */
static json_t *
routes_of(struct emulator *e, const char *conn_id, bool learned, struct nw_err *err)
{
	struct topology *t;
	struct routes_ctx *ctx;
	const struct topo_bgp_connection *c;
	json_t *ans;

	if (emu_store_routes(e, &t, &ctx, err) != 0)
		return NULL;
	c = topology_find_bgp_connection(t, conn_id);
	if (c == NULL) {
		err_set(err, NW_EINPUT, "BGP connection %s is no longer in the estate", conn_id);
		return NULL;
	}
	ans = routes_bgp_peer_routes_json(ctx, c, !learned);
	if (ans == NULL)
		err_set(err, NW_ENOMEM, "out of memory");
	return ans;
}

void
ars_routes_action(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	/* c->id: .../virtualHubs/{hub}/bgpConnections/{name}; the action is the route's */
	json_t *conn = emu_store_get(e, c->id);
	const char *action = c->route->action;
	struct emu_op *op;
	char *sub, *hub;

	if (conn == NULL || json_str(conn, "type") == NULL ||
	    strcasecmp(json_str(conn, "type"), TYPE_ARS_BGP) != 0) {
		emu_reply_error(r, 404, "NotFound", "Resource %s not found.", c->id);
		return;
	}
	sub = arm_id_part(c->id, "subscriptions");
	hub = arm_id_parent(c->id);
	op = lro_new(e, c->route->op, OP_ACTION, action, json_str(conn, "id"), sub,
	    arm_region_of(e, conn, hub), EMU_DUR_ACTION);
	free(sub);
	free(hub);
	if (op == NULL) {
		emu_reply_oom(r);
		return;
	}
	op->args = json_pack("{s:s,s:b}", "connection", json_str(conn, "id"), "learned",
	    strcmp(action, "learnedRoutes") == 0);
	emu_op_name(r, "action %s", action);
	arm_reply_lro(e, r, op, 202, NULL);
}

static void
routes_done(struct emulator *e, struct emu_op *op)
{
	struct nw_err err = { 0 };
	json_t *ans;

	if (op->state != OP_SUCCEEDED)
		return;
	ans = routes_of(e, json_str(op->args, "connection"),
	    json_is_true(json_object_get(op->args, "learned")), &err);
	if (ans == NULL) {
		op->state = OP_FAILED;
		free(op->fail_code);
		free(op->fail_msg);
		op->fail_code = emu_strdup("NotFound");
		op->fail_msg = emu_printf("Cannot list the routes: %s.", err.msg);
		return;
	}
	op->result = ans;
	op->result_status = 200;
}

/* A read: it holds nothing, a write may go on meanwhile. */
const struct emu_op_class ars_routes_op = {
	.name = "bgp connection routes",
	.done = routes_done,
};
