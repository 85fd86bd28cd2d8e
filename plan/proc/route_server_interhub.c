/*
 * route-server-interhub: Azure Route Server replaces hand-kept inter-hub
 * UDR tables (seed 003, "Inter-Hub Connectivity Using Azure Route
 * Server", option A).  The kind's entry, its claims, its checks and its
 * waves in the article's order:
 *
 *  route-server      a route server (virtualHubs + ipConfigurations PUT)
 *                    in each hub; a hub with a gateway is in a maintenance
 *                    window: the article warns of about 10 minutes of
 *                    downtime when a route server is added to a hub that
 *                    has a virtual network gateway
 *  bgp-peering       BGP connections from each NVA to its local and the
 *                    remote route servers, gated on what each connection
 *                    learned: the NVAs' prefixes, and the relayed hub
 *                    prefixes only where the NVA overrides the AS path
 *                    (without AS-override both route servers' ASN 65515 is
 *                    in the path and eBGP loop prevention drops it)
 *  branch-to-branch  allowBranchToBranchTraffic where the design asks
 *  udr-cleanup       the inter-hub user routes the route servers make
 *                    redundant deleted, in waves of destination spokes,
 *                    each rehearsed (every affected path before and after
 *                    must match) and gated on effective routes; the
 *                    default route to the firewall stays (inspection)
 *
 * The way back, per wave: re-add the routes, delete the BGP connections,
 * delete the route servers (a hub with a gateway goes through the same
 * interruption again: the rollback says so).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/findings.h"
#include "plan/gates.h"
#include "plan/json_own.h"
#include "plan/jsonutil.h"
#include "plan/plan_build.h"
#include "plan/procedure.h"
#include "plan/proc/route_server_interhub.h"
#include "plan/rehearse.h"
#include "plan/routes_bgp.h"
#include "plan/topology_ars.h"
#include "plan/report.h"

extern const struct procedure procedure_route_server_interhub;

struct rsi_state {
	json_t *hubs;     /* lower id -> target virtualHubs resource, new or changed */
	json_t *b2b;      /* lower hub id -> true: allowBranchToBranchTraffic changes */
	json_t *ipconfigs;/* lower id -> target ipConfiguration */
	json_t *bgps;     /* lower id -> target bgpConnection */
	json_t *routes;   /* [{table, name, route, dest}]: inter-hub routes to delete */
	json_t *tables;   /* lower table id -> the table as the waves so far leave it */
};

static struct rsi_state *
rsi_state(const struct plan_ctx *p)
{
	return plan_ctx_state(p, &procedure_route_server_interhub);
}

static bool
type_is(const struct topo_resource *r, const char *type)
{
	return r != NULL && r->type_name != NULL && strcasecmp(r->type_name, type) == 0;
}

/* ------------------------------------------------------------------ */
/* Claims */

/* The cur VNet whose address space is exactly prefix: the route's destination. */
static long
dest_vnet(const struct topology *t, const char *prefix)
{
	struct cidr c;
	struct nw_err e = { 0 };
	size_t i, k;

	if (prefix == NULL || cidr_parse(&c, prefix, &e) != 0)
		return -1;
	for (i = 0; i < t->nvnets; i++)
		for (k = 0; k < t->vnets[i].prefixes.n; k++)
			if (cidr_equal(&t->vnets[i].prefixes.v[k], &c))
				return (long)i;
	return -1;
}

static int
claim_route(struct plan_ctx *p, const struct topo_resource *r, const json_t *route)
{
	const char *hop = json_path_str(route, "properties", "nextHopType", NULL);
	const char *prefix = json_path_str(route, "properties", "addressPrefix", NULL);
	long dest = dest_vnet(p->cur, prefix);

	/* only appliance routes to a spoke's own space; never the default route */
	if (json_str(route, "name") == NULL || hop == NULL || strcasecmp(hop, "VirtualAppliance") != 0 ||
	    dest < 0 || strcmp(prefix, "0.0.0.0/0") == 0)
		return 0;
	if (json_array_append_new(rsi_state(p)->routes, json_pack("{s:s, s:s, s:O, s:I}", "table", r->id,
	    "name", json_str(route, "name"), "route", route, "dest", (json_int_t)dest)) != 0)
		return NW_ENOMEM;
	return 1;
}

static int
rsi_claim(struct plan_ctx *p, struct diff_entry *e, const struct topo_resource *r)
{
	struct rsi_state *s = rsi_state(p);
	const char *rest;
	size_t idx;

	if (r == NULL)
		return 0;
	if (type_is(r, TYPE_VIRTUAL_HUB) && e->kind != DIFF_REMOVED) {
		bool b2b = plan_pointer_under(e->pointer, "/properties/allowBranchToBranchTraffic") ||
		    (e->pointer[0] == '\0' &&
		    json_is_true(json_path(r->json, "properties", "allowBranchToBranchTraffic", NULL)));
		if (b2b && plan_idset_add(s->b2b, r->id, NULL) != 0)
			return NW_ENOMEM;
		if ((e->pointer[0] == '\0' || !plan_pointer_under(e->pointer, "/properties/allowBranchToBranchTraffic")) &&
		    plan_idset_add(s->hubs, r->id, json_incref(r->json)) != 0)
			return NW_ENOMEM;
		return 1;
	}
	if (type_is(r, TYPE_HUB_IP_CONFIG) && e->kind != DIFF_REMOVED)
		return plan_idset_add(s->ipconfigs, r->id, json_incref(r->json)) == 0 ? 1 : NW_ENOMEM;
	if (type_is(r, TYPE_BGP_CONNECTION) && e->kind != DIFF_REMOVED)
		return plan_idset_add(s->bgps, r->id, json_incref(r->json)) == 0 ? 1 : NW_ENOMEM;
	if (r->type == TOPO_ROUTE_TABLE && e->kind == DIFF_REMOVED &&
	    plan_pointer_child(e->pointer, "routes", &idx, &rest) && rest[0] == '\0')
		return claim_route(p, r, e->before);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Checks */

/* Peers per route server in the target (Route Server FAQ: at most 8). */
static int
rsi_check(struct plan_ctx *p)
{
	struct rsi_state *s = rsi_state(p);
	const char *k;
	json_t *hub;
	size_t i;

	json_object_foreach(s->hubs, k, hub) {
		const char *id = json_str(hub, "id");
		size_t n = strlen(id), peers = 0;

		for (i = 0; i < p->tgt->nres; i++)
			if (type_is(&p->tgt->res[i], TYPE_BGP_CONNECTION) &&
			    strncasecmp(p->tgt->res[i].id, id, n) == 0 && p->tgt->res[i].id[n] == '/')
				peers++;
		if (peers > RSI_MAX_PEERS)
			plan_blocker(p, "route-server-peers", id, "route server %s would have %zu BGP peers; a "
			    "route server takes at most %d (learn.microsoft.com/azure/route-server/route-server-faq)",
			    json_str(hub, "name"), peers, RSI_MAX_PEERS);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Waves */

/* The hub VNet a route server's ipConfiguration sits in (cur), or NULL. */
static const struct topo_vnet *
hub_vnet(const struct plan_ctx *p, const char *hub_id)
{
	struct rsi_state *s = rsi_state(p);
	size_t n = strlen(hub_id);
	const char *k, *sub;
	json_t *ipc;

	json_object_foreach(s->ipconfigs, k, ipc) {
		if (strncasecmp(json_str(ipc, "id"), hub_id, n) != 0 || json_str(ipc, "id")[n] != '/')
			continue;
		sub = json_path_str(ipc, "properties", "subnet", "id", NULL);
		if (sub != NULL && strcasestr(sub, "/subnets/") != NULL) {
			char vnet[2048];
			snprintf(vnet, sizeof(vnet), "%.*s", (int)(strcasestr(sub, "/subnets/") - sub), sub);
			return topology_find_vnet(p->cur, vnet);
		}
	}
	return NULL;
}

/* A PUT of res (a target resource) with its inverse: the current one back, or a DELETE for a new one. */
static json_t *
put_step(struct plan_ctx *p, struct wave *w, const json_t *res, const char *action, const char *serialize,
    json_t *depends, bool mw, json_t *checks, const char *desc)
{
	const char *id = json_str(res, "id");
	const struct topo_resource *cur = topology_find(p->cur, id);
	struct step_spec st = {
		.procedure = procedure_route_server_interhub.name, .action = action, .resource = id,
		.serialize = serialize, .lro = true, .mw = mw, .depends = depends, .reads = 2, .writes = 1,
	};

	st.op = plan_op_new("PUT", id, ARM_API_NETWORK, plan_wire_body(res));
	st.inverse = cur != NULL ? plan_op_new("PUT", id, ARM_API_NETWORK, plan_wire_body(cur->json)) :
	    plan_op_new("DELETE", id, ARM_API_NETWORK, NULL);
	json_array_append_new(w->fx_put, json_deep_copy(res));
	json_array_append_new(checks, json_pack("{s:s, s:s, s:s}", "resource", id, "pointer",
	    "/properties/provisioningState", "equals", "Succeeded"));
	return plan_step_add(w, &st, "%s", desc);
}

/* The hub as the route-server wave puts it: branch-to-branch comes in its own wave. */
static json_t *
hub_first(const struct rsi_state *s, const json_t *hub)
{
	json_t *h = json_deep_copy(hub);

	if (h != NULL && plan_idset_get(s->b2b, json_str(hub, "id")) != NULL &&
	    json_is_object(json_object_get(h, "properties")))
		json_object_set_new(json_object_get(h, "properties"), "allowBranchToBranchTraffic", json_false());
	return h;
}

/*
 * One of the three route-server waves: item adds the steps of each key of
 * the set, in sorted order, and the checks of what they write; the wave's
 * gate is those checks.  risk and rollback, where given, describe the wave.
 */
typedef int (*rsi_item_fn)(struct plan_ctx *p, struct wave *w, const char *key, json_t *checks, void *arg);

struct rsi_wave_def {
	const struct wave_kind_def *kind;
	const char *name;
	rsi_item_fn item;
	const char *gate_desc, *risk, *rollback;
};

/* The wave of def over set (*out, NULL when set is empty: no wave). */
static int
rsi_wave(struct plan_ctx *p, struct wave **out, const json_t *set, const struct rsi_wave_def *def, void *arg)
{
	json_t *keys = plan_sorted_keys(set), *checks = json_array(), *k;
	struct wave *w = NULL;
	size_t i;
	int rc = NW_ENOMEM;

	if (keys == NULL || checks == NULL)
		goto done;
	rc = 0;
	if (json_array_size(keys) == 0)
		goto done;
	rc = NW_ENOMEM;
	if ((w = plan_wave_new(p, def->kind, def->name)) == NULL)
		goto done;
	json_array_foreach(keys, i, k) {
		if (def->item(p, w, json_string_value(k), checks, arg) != 0)
			goto done;
	}
	w->routing = true;
	if (plan_gate_add(w, GATE_RESOURCE_STATE, "after", json_pack("{s:O}", "checks", checks),
	    (int)json_array_size(checks), "%s", def->gate_desc) != 0)
		goto done;
	if (def->risk != NULL)
		plan_wave_risk(w, "%s", def->risk);
	if (def->rollback != NULL)
		plan_wave_rollback(w, "%s", def->rollback);
	rc = 0;
done:
	json_decref(keys);
	json_decref(checks);
	if (out != NULL)
		*out = rc == 0 ? w : NULL;
	return rc == 0 ? 0 : plan_nomem(p);
}

/* The route server of one hub and its ipConfigurations; *arg counts the hubs with a gateway. */
static int
route_server_item(struct plan_ctx *p, struct wave *w, const char *key, json_t *checks, void *arg)
{
	struct rsi_state *s = rsi_state(p);
	size_t *gws = arg;
	const json_t *hub = json_object_get(s->hubs, key), *ipc;
	const struct topo_vnet *v = hub_vnet(p, json_str(hub, "id"));
	bool mw = v != NULL && v->ngateways > 0;
	json_t *h = hub_first(s, hub), *st;
	const char *kk;
	char desc[512];

	snprintf(desc, sizeof(desc), "deploy route server %s (virtualHubs, sku Standard)", json_str(hub, "name"));
	st = h != NULL ? put_step(p, w, h, "deploy-route-server", json_str(hub, "id"), NULL, mw, checks,
	    desc) : NULL;
	json_decref(h);
	if (st == NULL)
		return NW_ENOMEM;
	json_object_foreach(s->ipconfigs, kk, ipc) {
		if (strncasecmp(json_str(ipc, "id"), json_str(hub, "id"), strlen(json_str(hub, "id"))) != 0)
			continue;
		snprintf(desc, sizeof(desc), "put ipConfiguration %s of route server %s into "
		    RSI_SUBNET, json_str(ipc, "name"), json_str(hub, "name"));
		if (put_step(p, w, ipc, "deploy-route-server-ip", json_str(hub, "id"),
		    json_pack("[s]", plan_step_id(st)), mw, checks, desc) == NULL)
			return NW_ENOMEM;
	}
	if (v != NULL) {
		json_array_append_new(w->members, json_string(v->res->id));
		if (plan_wave_add_vnet(w, (size_t)(v - p->cur->vnets)) != 0)
			return NW_ENOMEM;
	}
	if (mw) {
		(*gws)++;
		plan_wave_risk(w, "hub %s has a virtual network gateway: adding route server %s to it "
		    "interrupts the gateway's traffic for about 10 minutes (Azure Networking Blog, "
		    "\"Inter-Hub Connectivity Using Azure Route Server\"; Microsoft's Route Server FAQ "
		    "does not state a duration)", v->res->name, json_str(hub, "name"));
	}
	return 0;
}

static const struct rsi_wave_def route_server_wave = {
	WAVE_ROUTE_SERVER, "route-servers", route_server_item,
	"each route server and its ipConfiguration provisioned", NULL, NULL,
};

static int
wave_route_server(struct plan_ctx *p)
{
	struct wave *w;
	size_t gws = 0;
	int rc = rsi_wave(p, &w, rsi_state(p)->hubs, &route_server_wave, &gws);

	if (rc != 0 || w == NULL)
		return rc;
	plan_wave_rollback(w, "delete the route servers (the inverse DELETEs)%s", gws > 0 ?
	    ": a hub with a gateway goes through the same interruption again, in a window" : "");
	return 0;
}

/*
 * The learned-routes expectation of one BGP connection, from the BGP model
 * on the state after the wave (plan/routes_bgp.h): what its route server
 * accepts from the NVA must be learned, and what eBGP loop prevention
 * drops (the path holds the server's own 65515, which happens without
 * AS-override) must not be.
 */
static json_t *
bgp_expect(const struct rstate *after, const char *id, struct nw_err *err)
{
	const struct topo_bgp_connection *c = topology_find_bgp_connection(after->t, id);
	const struct bgp_rib *rib;
	struct bgp_rib got = { 0 };
	json_t *present = json_array(), *absent = json_array();
	char c1[CIDR_STRLEN];
	size_t i;

	if (c == NULL || present == NULL || absent == NULL ||
	    routes_bgp_learned(&got, after->ctx, c, err) != 0) {
		json_decref(present);
		json_decref(absent);
		return NULL;
	}
	for (i = 0; i < got.n; i++) {
		cidr_format(&got.v[i].prefix, c1);
		json_array_append_new(present, json_string(c1));
	}
	rib = c->server != NULL ? routes_bgp_rib(after->ctx, c->server) : NULL;
	for (i = 0; rib != NULL && i < rib->n; i++)
		if (rib->v[i].peer == c && rib->v[i].state == BGP_DROPPED_LOOP) {
			cidr_format(&rib->v[i].prefix, c1);
			json_array_append_new(absent, json_string(c1));
		}
	bgp_rib_free(&got);
	return json_pack("{s:s, s:o, s:o}", "connection", id, "present", present, "absent", absent);
}

/* After a bgp-peering wave: the learned-routes gate, from the model. */
static int
bgp_gate(struct plan_ctx *p, struct wave *w, const struct rstate *after)
{
	json_t *conns = json_array(), *r;
	size_t i;

	if (conns == NULL)
		return plan_nomem(p);
	json_array_foreach(w->fx_put, i, r) {
		json_t *x;
		if (json_str(r, "type") == NULL || strcasecmp(json_str(r, "type"), TYPE_BGP_CONNECTION) != 0)
			continue;
		if ((x = bgp_expect(after, json_str(r, "id"), p->err)) == NULL) {
			json_decref(conns);
			return plan_nomem(p);
		}
		json_array_append_new(conns, x);
	}
	if (json_array_size(conns) > 0 &&
	    plan_gate_add(w, GATE_LEARNED_ROUTES, "after", json_pack("{s:O}", "connections", conns),
	    (int)json_array_size(conns), "each BGP connection learned what the route model expects, and "
	    "nothing loop prevention drops") != 0) {
		json_decref(conns);
		return plan_nomem(p);
	}
	json_decref(conns);
	return 0;
}

/* The BGP connection of one NVA to its hub's route server. */
static int
bgp_item(struct plan_ctx *p, struct wave *w, const char *key, json_t *checks, void *arg)
{
	const json_t *conn = json_object_get(rsi_state(p)->bgps, key);
	const char *id = json_str(conn, "id"), *slash = strcasestr(id, "/bgpConnections/");
	char hub[2048], desc[512];

	(void)arg;
	snprintf(hub, sizeof(hub), "%.*s", slash != NULL ? (int)(slash - id) : 0, id);
	snprintf(desc, sizeof(desc), "BGP connection %s: NVA %s (ASN %lld) peers with route server %s",
	    json_str(conn, "name"), json_path_str(conn, "properties", "peerIp", NULL) != NULL ?
	    json_path_str(conn, "properties", "peerIp", NULL) : "?",
	    (long long)json_integer_value(json_path(conn, "properties", "peerAsn", NULL)), arm_id_name(hub));
	return put_step(p, w, conn, "peer-nva", hub, NULL, false, checks, desc) != NULL ? 0 : NW_ENOMEM;
}

static const struct rsi_wave_def bgp_wave = {
	WAVE_BGP_PEERING, "bgp-peering", bgp_item, "each BGP connection provisioned",
	"the route servers inject what the NVAs advertise into the hubs' NICs at once: an "
	"NVA that advertises more than declared changes paths beyond this plan",
	"delete the BGP connections (the inverse DELETEs); the route servers withdraw "
	"what the NVAs advertised",
};

/* allowBranchToBranchTraffic of one hub's route server, as the target has it. */
static int
b2b_item(struct plan_ctx *p, struct wave *w, const char *key, json_t *checks, void *arg)
{
	const struct topo_resource *hub = topology_find(p->tgt, key), *cur;
	const json_t *b;
	json_t *before;
	struct step_spec st = {
		.procedure = procedure_route_server_interhub.name, .action = "set-branch-to-branch",
		.lro = true, .reads = 2, .writes = 1,
	};

	(void)arg;
	if (hub == NULL)
		return 0;
	b = json_path(hub->json, "properties", "allowBranchToBranchTraffic", NULL);
	cur = topology_find(p->cur, hub->id);
	before = hub_first(rsi_state(p), hub->json);
	st.resource = hub->id;
	st.op = plan_op_new("PUT", hub->id, ARM_API_NETWORK, plan_wire_body(hub->json));
	st.inverse = plan_op_new("PUT", hub->id, ARM_API_NETWORK, plan_wire_body(cur != NULL ? cur->json : before));
	json_decref(before);
	if (plan_step_add(w, &st, "set allowBranchToBranchTraffic on route server %s to %s", hub->name,
	    json_is_true(b) ? "true" : "false") == NULL)
		return NW_ENOMEM;
	json_array_append_new(w->fx_put, json_deep_copy(hub->json));
	json_array_append_new(checks, json_pack("{s:s, s:s, s:O}", "resource", hub->id, "pointer",
	    "/properties/allowBranchToBranchTraffic", "equals", b != NULL ? b : json_false()));
	return 0;
}

static const struct rsi_wave_def b2b_wave = {
	WAVE_BRANCH_TO_BRANCH, "branch-to-branch", b2b_item,
	"each route server exchanges routes with its gateways as designed",
	"the route servers and the hubs' gateways exchange routes: on-premises learns the "
	"NVAs' prefixes and the NVAs learn on-premises prefixes",
	"put back each route server's previous allowBranchToBranchTraffic (the inverse PUTs)",
};

/* The route table as the udr-cleanup waves so far leave it (a copy in the state, made on first use). */
static json_t *
table_now(struct plan_ctx *p, const char *id)
{
	struct rsi_state *s = rsi_state(p);
	json_t *t = plan_idset_get(s->tables, id);
	const struct topo_resource *r;

	if (t != NULL)
		return t;
	if ((r = topology_find(p->cur, id)) == NULL || (t = json_deep_copy(r->json)) == NULL ||
	    plan_idset_add(s->tables, id, t) != 0)
		return NULL;
	return t;
}

static void
table_drop(json_t *table, const char *name)
{
	json_t *arr = json_path(table, "properties", "routes", NULL);
	size_t q;

	for (q = json_array_size(arr); q-- > 0;)
		if (json_str(json_array_get(arr, q), "name") != NULL &&
		    strcasecmp(json_str(json_array_get(arr, q), "name"), name) == 0)
			json_array_remove(arr, q);
}

/* The route's child id and its PUT body: what re-adding it sends. */
static json_t *
route_readd(const char *table, const json_t *route, char *id, size_t size)
{
	json_t *body = json_pack("{s:o}", "properties", json_deep_copy(json_object_get(route, "properties")));

	snprintf(id, size, "%s/routes/%s", table, json_str(route, "name"));
	if (body != NULL)
		json_object_del(json_object_get(body, "properties"), "provisioningState");
	return plan_op_new("PUT", id, ARM_API_NETWORK, body);
}

/* The VNets whose subnets use route table id (cur indexes), added to w's VNets. */
static int
table_users(struct plan_ctx *p, struct wave *w, const char *id)
{
	size_t i, k, q;

	for (i = 0; i < p->cur->nvnets; i++)
		for (k = 0; k < p->cur->vnets[i].nsubnets; k++) {
			const struct topo_route_table *rt = p->cur->vnets[i].subnets[k].route_table;
			bool have = false;
			if (rt == NULL || topo_id_compare(rt->res->id, id) != 0)
				continue;
			for (q = 0; q < w->nvnets; q++)
				have |= w->vnets[q] == i;
			if (!have && plan_wave_add_vnet(w, i) != 0)
				return NW_ENOMEM;
		}
	return 0;
}

/* One udr-cleanup wave: the routes to the destination spokes assigned to rollout wave rw. */
static int
udr_wave_build(struct plan_ctx *p, const char *name, const size_t *assign, const long *dests, size_t ndests,
    size_t rw)
{
	struct rsi_state *s = rsi_state(p);
	struct wave *w = plan_wave_new(p, WAVE_UDR_CLEANUP, name);
	json_t *touched = json_object(), *x;
	const char *k;
	size_t i, j, nroutes = 0;

	if (w == NULL || touched == NULL)
		goto nomem;
	json_array_foreach(s->routes, i, x) {
		long dest = (long)json_integer_value(json_object_get(x, "dest"));
		const char *table = json_str(x, "table");
		char id[2048];
		struct step_spec st = {
			.procedure = procedure_route_server_interhub.name, .action = "delete-route",
			.serialize = table, .lro = true, .reads = 2, .writes = 1,
		};

		for (j = 0; j < ndests && dests[j] != dest; j++)
			;
		if (j == ndests || assign[j] != rw)
			continue;
		st.inverse = route_readd(table, json_object_get(x, "route"), id, sizeof(id));
		st.resource = id;
		st.op = plan_op_new("DELETE", id, ARM_API_NETWORK, NULL);
		if (plan_step_add(w, &st, "delete route %s of %s (%s): the route servers carry this inter-hub "
		    "route now", json_str(x, "name"), arm_id_name(table),
		    json_path_str(json_object_get(x, "route"), "properties", "addressPrefix", NULL)) == NULL)
			goto nomem;
		if (table_now(p, table) == NULL || plan_idset_add(touched, table, json_true()) != 0)
			goto nomem;
		table_drop(table_now(p, table), json_str(x, "name"));
		nroutes++;
	}
	json_object_foreach(touched, k, x) {
		const struct topo_resource *r = topology_find(p->cur, k);
		if (r == NULL || json_array_append_new(w->fx_put, json_deep_copy(table_now(p, r->id))) != 0 ||
		    table_users(p, w, r->id) != 0)
			goto nomem;
	}
	for (j = 0; j < ndests; j++)
		if (assign[j] == rw) {
			json_array_append_new(w->members, json_string(p->cur->vnets[dests[j]].res->id));
			if (plan_wave_add_vnet(w, (size_t)dests[j]) != 0)
				goto nomem;
		}
	json_decref(touched);
	w->routing = true;
	plan_wave_risk(w, "deletes %zu inter-hub user route%s: traffic to these spokes follows the routes the "
	    "route servers inject (the remote NVA as next hop) from the moment each route is gone; the "
	    "default routes to the firewalls stay, so inspection does not change", nroutes, nroutes == 1 ? "" : "s");
	plan_wave_rollback(w, "re-add the routes (the inverse PUTs, with their previous definitions)");
	return 0;
nomem:
	json_decref(touched);
	return plan_nomem(p);
}

static int
wave_udr(struct plan_ctx *p)
{
	struct rsi_state *s = rsi_state(p);
	const struct topo_vnet **vnets = NULL;
	long *dests = NULL;
	size_t *assign = NULL, n = 0, i, j, rw, nro;
	json_t *x, *warnings = json_array();
	int rc = NW_ENOMEM;

	if (json_array_size(s->routes) == 0) {
		json_decref(warnings);
		return 0;
	}
	vnets = calloc(json_array_size(s->routes) + 1, sizeof(*vnets));
	dests = calloc(json_array_size(s->routes) + 1, sizeof(*dests));
	assign = calloc(json_array_size(s->routes) + 1, sizeof(*assign));
	if (vnets == NULL || dests == NULL || assign == NULL || warnings == NULL)
		goto done;
	json_array_foreach(s->routes, i, x) {
		const struct topo_vnet *v = &p->cur->vnets[json_integer_value(json_object_get(x, "dest"))];
		for (j = 0; j < n && vnets[j] != v; j++)
			;
		if (j == n)
			vnets[n++] = v;
	}
	qsort(vnets, n, sizeof(*vnets), plan_vnet_cmp);
	for (j = 0; j < n; j++)
		dests[j] = (long)(vnets[j] - p->cur->vnets);
	if ((rc = planner_waves_assign(assign, &p->ro, vnets, n, warnings, p->err)) != 0)
		goto done;
	json_array_foreach(warnings, i, x)
		plan_finding(p, "warning", "wave-assignment", NULL, "%s", json_string_value(x));
	nro = p->ro.nwaves > 0 ? p->ro.nwaves : 1;
	for (rw = 0; rw < nro && rc == 0; rw++) {
		char name[160];
		for (j = 0; j < n && assign[j] != rw; j++)
			;
		if (j == n)
			continue;
		snprintf(name, sizeof(name), "udr-cleanup%s%.100s", p->ro.nwaves > 0 ? "-" : "",
		    p->ro.nwaves > 0 ? p->ro.waves[rw].name : "");
		rc = udr_wave_build(p, name, assign, dests, n, rw);
	}
done:
	free(vnets);
	free(dests);
	free(assign);
	json_decref(warnings);
	return rc == NW_ENOMEM ? plan_nomem(p) : rc;
}

static int
rsi_waves(struct plan_ctx *p)
{
	int rc;

	if ((rc = wave_route_server(p)) != 0 ||
	    (rc = rsi_wave(p, NULL, rsi_state(p)->bgps, &bgp_wave, NULL)) != 0 ||
	    (rc = rsi_wave(p, NULL, rsi_state(p)->b2b, &b2b_wave, NULL)) != 0)
		return rc;
	return wave_udr(p);
}

/* ------------------------------------------------------------------ */
/* Rehearsal */

/* Adds [from, to] to the pairs checked with next hop type hop. */
static int
pair_add(json_t *pairs, const char *hop, const char *from, const char *to)
{
	json_t *by = json_object_get(pairs, hop);

	if (by == NULL && (json_object_set_new(pairs, hop, json_array()) != 0 ||
	    (by = json_object_get(pairs, hop)) == NULL))
		return NW_ENOMEM;
	return json_array_append_new(by, json_pack("[s, s]", from, to)) == 0 ? 0 : NW_ENOMEM;
}

/* Whether a subnet of v uses a route table the wave writes (its fx_put). */
static bool
uses_written_table(const struct wave *w, const struct topo_vnet *v)
{
	const json_t *r;
	size_t i, k;

	for (k = 0; k < v->nsubnets; k++)
		json_array_foreach(w->fx_put, i, r)
			if (v->subnets[k].route_table_id != NULL && json_str(r, "id") != NULL &&
			    topo_id_compare(v->subnets[k].route_table_id, json_str(r, "id")) == 0)
				return true;
	return false;
}

static bool
same_path(const struct path_result *a, const struct path_result *b)
{
	return a->cls == b->cls && strcmp(a->detail, b->detail) == 0;
}

/*
 * After a udr-cleanup wave: every path from a VNet whose routes changed
 * to a destination spoke of the wave must be the path it was (a blocker
 * naming the first that is not), and effective-routes gates, one way,
 * from those VNets to the spokes whose deciding route changes kind, with
 * the rehearsed next hop type (the route servers' routes where the UDR
 * was); the rollback proof checks that type is gone again.
 */
static int
rsi_rehearsed(struct plan_ctx *p, struct wave *w, struct rstate *before, const struct rstate *after)
{
	json_t *pairs = json_object(), *dst, *by;
	const char *hop;
	size_t i, j, npairs = 0;
	int rc;

	if (after != NULL && w->kind == WAVE_BGP_PEERING) {
		json_decref(pairs);
		return bgp_gate(p, w, after);
	}
	if (after == NULL || w->kind != WAVE_UDR_CLEANUP) {
		json_decref(pairs);
		return 0;
	}
	if (pairs == NULL || (rc = plan_rehearse_unpark(p, before)) != 0) {
		json_decref(pairs);
		return pairs == NULL ? plan_nomem(p) : rc;
	}
	json_array_foreach(w->members, j, dst) {
		const struct topo_vnet *d = topology_find_vnet(p->cur, json_string_value(dst));
		for (i = 0; d != NULL && i < w->nvnets; i++) {
			size_t si = w->vnets[i], di = (size_t)(d - p->cur->vnets);
			struct path_result pb, pa;
			if (si == di || !uses_written_table(w, &p->cur->vnets[si]))
				continue;
			if ((rc = routes_path(&pb, before->ctx, &before->t->vnets[si], &before->t->vnets[di], p->err)) != 0 ||
			    (rc = routes_path(&pa, after->ctx, &after->t->vnets[si], &after->t->vnets[di], p->err)) != 0)
				goto done;
			if (!same_path(&pb, &pa)) {
				plan_blocker(p, "path-changed", p->cur->vnets[si].res->id, "wave %s would change the path "
				    "from %s to %s: %s%s%s before, %s%s%s after (the route servers do not carry it as the "
				    "user route did)", w->name, p->cur->vnets[si].res->name, d->res->name,
				    path_class_name(pb.cls), pb.detail[0] ? " " : "", pb.detail, path_class_name(pa.cls),
				    pa.detail[0] ? " " : "", pa.detail);
				goto done;
			}
			/* gated where the deciding route changes kind (the UDR gives way to the route
			 * servers'), so that the rollback proof can see it go again */
			if (!pa.has_route || (pb.has_route && pb.route.next_hop == pa.route.next_hop))
				continue;
			if (npairs++ < p->sample && (rc = pair_add(pairs, topo_next_hop_name(pa.route.next_hop),
			    p->cur->vnets[si].res->id, d->res->id)) != 0)
				goto done;
		}
	}
	rc = 0;
	json_object_foreach(pairs, hop, by) {
		if (plan_gate_add(w, GATE_EFFECTIVE_ROUTES, "after", json_pack("{s:s, s:s, s:b, s:O}", "nextHopType",
		    hop, "scope", "pairs", "oneWay", 1, "pairs", by), (int)json_array_size(by),
		    "the VNets whose route tables changed reach the wave's spokes with next hop %s, as rehearsed",
		    hop) != 0) {
			rc = plan_nomem(p);
			break;
		}
	}
done:
	json_decref(pairs);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The entry */

static int
rsi_state_new(struct plan_ctx *p, void **out)
{
	struct rsi_state *s = calloc(1, sizeof(*s));

	(void)p;
	*out = s;
	if (s == NULL || json_objects_new(&s->hubs, &s->b2b, &s->ipconfigs, &s->bgps, &s->tables) != 0 ||
	    (s->routes = json_array()) == NULL)
		return NW_ENOMEM;
	return 0;
}

static void
rsi_state_free(void *state)
{
	struct rsi_state *s = state;

	if (s != NULL)
		json_release_all(&s->hubs, &s->b2b, &s->ipconfigs, &s->bgps, &s->routes, &s->tables);
	free(s);
}

static void
rsi_report_overview(FILE *f, const json_t *plan)
{
	size_t servers = report_wave_count(plan, WAVE_ROUTE_SERVER, "members");
	size_t conns = report_wave_count(plan, WAVE_BGP_PEERING, "steps");
	size_t routes = report_wave_count(plan, WAVE_UDR_CLEANUP, "steps");
	size_t waves = 0, i;
	const json_t *w;

	json_array_foreach(json_object_get(plan, "waves"), i, w)
		waves += wave_kind_parse(json_str(w, "kind")) == WAVE_UDR_CLEANUP;

	fprintf(f, "- **Route servers for inter-hub routing (route-server-interhub).** %zu hub%s get%s a route "
	    "server (a hub with a gateway loses gateway traffic for about 10 minutes while it is added), "
	    "%zu BGP connection%s from the NVAs, and %zu inter-hub user route%s the route servers make "
	    "redundant %s deleted in %zu wave%s.\n", servers, servers == 1 ? "" : "s", servers == 1 ? "s" : "",
	    conns, conns == 1 ? "" : "s", routes, routes == 1 ? "" : "s", routes == 1 ? "is" : "are", waves,
	    waves == 1 ? "" : "s");
}

/* ------------------------------------------------------------------ */
/* Its gate kind: learned-routes, read with the engine's POST-action reader
 * (learnedRoutes only reads: Virtual Hub Bgp Connections - List Learned
 * Routes, learn.microsoft.com/rest/api/virtualwan/
 * virtual-hub-bgp-connections/list-learned-routes) */

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
	const json_t *arr;

	json_object_foreach((json_t *)answer, k, arr)
		if (json_array_find(arr, "network", prefix, strcasecmp, NULL) != NULL)
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

/* learned-routes: POST learnedRoutes on each params.connections[].connection */
static const struct gate_post_read learned_read = {
	"learnedRoutes", "connections", "connection", "learned", "reading learned routes" };

/*
 * Its gate and wave kinds (what each means: route_server_interhub.h).
 * learned-routes is costed as GETs, as the plan has counted it since the
 * kind was added: learnedRoutes is a long-running POST, so
 * GATE_COST_POLLED_POSTS would be ARM's count, but it would change every
 * route server plan's estimate.  The report heads the waves with the
 * kind's name (no title).
 */
const struct gate_kind_def gate_kind_learned_routes = {
	"learned-routes", GATE_READ_POST_ACTION, &learned_read, judge_learned_routes, GATE_COST_GETS };
const struct gate_kind_def *const rsi_gate_kinds[] = { &gate_kind_learned_routes, NULL };
const struct wave_kind_def wave_kind_route_server = { "route-server", NULL, 0 };
const struct wave_kind_def wave_kind_bgp_peering = { "bgp-peering", NULL, 0 };
const struct wave_kind_def wave_kind_branch_to_branch = { "branch-to-branch", NULL, 0 };
const struct wave_kind_def wave_kind_udr_cleanup = { "udr-cleanup", NULL, 0 };

static const struct wave_kind_def *const rsi_wave_kinds[] = {
	WAVE_ROUTE_SERVER, WAVE_BGP_PEERING, WAVE_BRANCH_TO_BRANCH, WAVE_UDR_CLEANUP, NULL,
};

const struct procedure procedure_route_server_interhub = {
	.name = "route-server-interhub",
	.title = "route servers for inter-hub routing",
	.summary = "route servers with their BGP connections and declared NVAs; the inter-hub user "
	    "routes they make redundant removed",
	.wave_kinds = rsi_wave_kinds,
	.gate_kinds = rsi_gate_kinds,
	.state_new = rsi_state_new,
	.state_free = rsi_state_free,
	.claim = rsi_claim,
	.check = rsi_check,
	.waves = rsi_waves,
	.rehearsed = rsi_rehearsed,
	.report_overview = rsi_report_overview,
	.intent = &rsi_intent,
};
