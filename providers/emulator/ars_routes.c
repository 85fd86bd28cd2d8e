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
 * The routes, from the estate and the NVAs the topology declares
 * (declared.nvas, docs/topology.md):
 *   learned     the prefixes the NVA at peerIp originates to this route
 *               server ("advertise", cut to "only"), AS path its ASN,
 *               repeated 1 + "prepend" times, next hop its "nextHop" or
 *               the peer IP, weight 32768, origin EBgp;
 *   advertised  the route server VNet's address space and those of the
 *               VNets peered with it (AS path 65515, origin Igp), and what
 *               the server learned from its other peers (AS path 65515
 *               before theirs), next hop the instance's own address.
 * Routes an NVA relays from another route server (AS-override, loop
 * prevention) and branch-to-branch exchange with the gateways are the BGP
 * model's (plan/routes_bgp), not computed here.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/cidr.h"
#include "plan/jsonutil.h"
#include "providers/emulator/ars.h"

#define ARS_INSTANCES 2

/* The declared NVA listening at ip, or NULL. */
static json_t *
nva_at(struct emulator *e, const char *ip)
{
	json_t *nva, *v;
	size_t i, k;

	json_array_foreach(json_path(e->doc, "declared", "nvas", NULL), i, nva)
		json_array_foreach(json_object_get(nva, "ips"), k, v)
			if (json_is_string(v) && strcmp(json_string_value(v), ip) == 0)
				return nva;
	return NULL;
}

/* The NVA's declared session with this route server, or NULL. */
static json_t *
nva_peer(json_t *nva, const char *hub_id)
{
	json_t *p;
	size_t i;

	json_array_foreach(json_object_get(nva, "peers"), i, p)
		if (json_str(p, "routeServer") != NULL &&
		    strcasecmp(json_str(p, "routeServer"), hub_id) == 0)
			return p;
	return NULL;
}

/* prefix lies inside one of "only" (all when "only" is absent or empty). */
static bool
passes_only(const json_t *peer, const char *prefix)
{
	json_t *only = json_object_get(peer, "only"), *v;
	struct nw_err err = { 0 };
	struct cidr c, o;
	size_t i;

	if (json_array_size(only) == 0)
		return true;
	if (cidr_parse(&c, prefix, &err) != 0)
		return false;
	json_array_foreach(only, i, v)
		if (json_is_string(v) && cidr_parse(&o, json_string_value(v), &err) == 0 &&
		    cidr_contains(&o, &c))
			return true;
	return false;
}

static json_t *
route(const char *local, const char *network, const char *next_hop, const char *source,
    const char *as_path, int weight, const char *origin)
{
	return json_pack("{s:s,s:s,s:s,s:s*,s:s,s:i,s:s}", "localAddress", local, "network",
	    network, "nextHop", next_hop, "sourcePeer", source, "asPath", as_path, "weight", weight,
	    "origin", origin);
}

/* What the NVA behind a connection originates to its route server, for one instance. */
static void
learned_from(struct emulator *e, const json_t *conn, const char *hub_id, const char *local,
    const char *before, json_t *out)
{
	const char *ip = json_path_str(conn, "properties", "peerIp", NULL);
	json_t *nva = ip != NULL ? nva_at(e, ip) : NULL, *peer = nva_peer(nva, hub_id), *v;
	json_int_t asn = json_integer_value(json_object_get(nva, "asn"));
	json_int_t reps = 1 + json_integer_value(json_object_get(peer, "prepend"));
	const char *nh = json_str(peer, "nextHop") != NULL ? json_str(peer, "nextHop") : ip;
	char path[256] = "";
	size_t i, len;
	json_int_t k;

	/* only an established session carries routes */
	if (peer == NULL || asn <= 0 || json_path_str(conn, "properties", "connectionState", NULL) ==
	    NULL || strcmp(json_path_str(conn, "properties", "connectionState", NULL), "Connected") != 0)
		return;
	if (before != NULL)
		snprintf(path, sizeof(path), "%s-", before);
	for (k = 0; k < reps && k < 17; k++) {
		len = strlen(path);
		snprintf(path + len, sizeof(path) - len, "%s%lld", k > 0 ? "-" : "", (long long)asn);
	}
	json_array_foreach(json_object_get(peer, "advertise"), i, v)
		if (json_is_string(v) && passes_only(peer, json_string_value(v)))
			json_array_append_new(out, before != NULL ?
			    route(local, json_string_value(v), local, NULL, path, 0, "EBgp") :
			    route(local, json_string_value(v), nh, ip, path, 32768, "EBgp"));
}

/* The address space of a VNet (by id) into out as the server's own routes. */
static void
vnet_space(struct emulator *e, const char *vnet_id, const char *local, json_t *out)
{
	json_t *vn = emu_store_get(e, vnet_id), *v;
	size_t i;

	json_array_foreach(json_path(vn, "properties", "addressSpace", "addressPrefixes", NULL), i, v)
		if (json_is_string(v))
			json_array_append_new(out, route(local, json_string_value(v), local, NULL,
			    "65515", 0, "Igp"));
}

/* The route server's VNet and the VNets connected to it by a peering. */
static void
own_space(struct emulator *e, const char *hub_id, const char *local, json_t *out)
{
	char *low = emu_lower(hub_id), *pref = low != NULL ? emu_printf("%s/ipconfigurations/", low) : NULL;
	const char **keys;
	size_t nk, i;
	char *vnet_id = NULL;
	json_t *vn, *p;

	if (pref == NULL) {
		e->oom = true;
		goto done;
	}
	emu_store_sorted(e, &keys, &nk);
	i = emu_store_lower_bound(e, pref);
	if (i < nk && strncmp(keys[i], pref, strlen(pref)) == 0) {
		const char *sid = json_path_str(json_object_get(e->res, keys[i]), "properties", "subnet",
		    "id", NULL);
		vnet_id = sid != NULL ? arm_id_parent(sid) : NULL;
	}
	if (vnet_id == NULL || (vn = emu_store_get(e, vnet_id)) == NULL)
		goto done;
	vnet_space(e, vnet_id, local, out);
	json_array_foreach(json_path(vn, "properties", "virtualNetworkPeerings", NULL), i, p) {
		const char *rid = json_path_str(p, "properties", "remoteVirtualNetwork", "id", NULL);
		const char *st = json_path_str(p, "properties", "peeringState", NULL);

		if (rid != NULL && st != NULL && strcmp(st, "Connected") == 0)
			vnet_space(e, rid, local, out);
	}
done:
	free(vnet_id);
	free(low);
	free(pref);
}

/* The whole answer for a connection: one list per instance with an address. */
static json_t *
routes_of(struct emulator *e, const char *conn_id, bool learned, struct nw_err *err)
{
	json_t *conn = emu_store_get(e, conn_id), *hub, *ips, *ans, *ip;
	char *hub_id = arm_id_parent(conn_id);
	size_t k;

	hub = hub_id != NULL ? emu_store_get(e, hub_id) : NULL;
	if (conn == NULL || hub == NULL) {
		err_set(err, NW_EINPUT, "BGP connection %s is no longer in the estate", conn_id);
		free(hub_id);
		return NULL;
	}
	ips = json_path(hub, "properties", "virtualRouterIps", NULL);
	ans = json_object();
	json_array_foreach(ips, k, ip) {
		char inst[40];
		json_t *list = json_array();
		const char *local = json_string_value(ip);

		if (k >= ARS_INSTANCES || local == NULL)
			break;
		snprintf(inst, sizeof(inst), "RouteServiceRole_IN_%zu", k);
		if (learned) {
			learned_from(e, conn, json_str(hub, "id"), local, NULL, list);
		} else {
			json_t *o;
			size_t i;

			own_space(e, json_str(hub, "id"), local, list);
			json_array_foreach(json_path(hub, "properties", "bgpConnections", NULL), i, o) {
				json_t *peer = emu_store_get(e, json_str(o, "id"));
				if (peer == NULL || strcasecmp(json_str(peer, "id"), json_str(conn, "id")) == 0)
					continue;
				learned_from(e, peer, json_str(hub, "id"), local, "65515", list);
			}
		}
		json_object_set_new(ans, inst, list);
	}
	free(hub_id);
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
