/*
 * Tests of the BGP model (plan/routes_bgp.c) on seed 003's two-hub designs
 * (the JSON files under tests/data/bgp, made by make_bgp.py): what each route server
 * holds and why, what each BGP session learned and advertised, what the
 * gateways pass to their circuits, the routes programmed into the NVAs'
 * NICs, and every spoke-to-spoke flow.  Each case is compared with a golden
 * text (the .txt next to each) checked by hand against the seed; the tests
 * after them assert the rules one at a time, so a changed golden file is
 * never the only witness.
 *
 * After a deliberate change to the model, NETWAVE_UPDATE_GOLDEN=1
 * ./tests/check_bgp rewrites the golden files; review the difference.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "plan/findings.h"
#include "plan/jsonutil.h"
#include "plan/synth.h"
#include "plan/routes.h"
#include "plan/routes_bgp.h"
#include "plan/topology.h"
#include "tests/testutil.h"

#define NET "/subscriptions/11111111-2222-4333-8444-555555555555/resourceGroups/rg-net/providers/Microsoft.Network"

struct buf {
	char *s;
	size_t n, cap;
};

static void __attribute__((format(printf, 2, 3)))
out(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int w;

	for (;;) {
		va_start(ap, fmt);
		w = vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
		va_end(ap);
		ck_assert_int_ge(w, 0);
		if ((size_t)w < b->cap - b->n)
			break;
		b->cap = (b->cap + (size_t)w + 1) * 2;
		b->s = realloc(b->s, b->cap);
		ck_assert_ptr_nonnull(b->s);
	}
	b->n += (size_t)w;
}

static const char *const from_names[] = { "vnet", "gateway", "peer" };
static const char *const state_names[] = { "best", "candidate", "dropped: loop", "dropped: path too long" };

static void
dump_route(struct buf *b, const struct bgp_route *x)
{
	char pfx[CIDR_STRLEN], hop[CIDR_STRLEN] = "-", path[BGP_PATH_STRLEN];
	const char *who = x->from == BGP_FROM_VNET ? x->vnet->res->name :
	    x->from == BGP_FROM_GATEWAY ? x->gateway->res->name :
	    x->nva != NULL ? x->nva->name : x->peer->res->name;

	cidr_format(&x->prefix, pfx);
	if (x->has_next_hop)
		cidr_format_addr(&x->next_hop, hop);
	bgp_path_format(path, sizeof(path), &x->path, '-');
	out(b, "    %-16s %-7s %-6s path %-24s next hop %-9s weight %-4d %s\n", pfx, from_names[x->from], who,
	    path[0] ? path : "(none)", hop, x->weight, state_names[x->state]);
}

static void
dump_rib(struct buf *b, const char *title, const struct bgp_rib *r)
{
	out(b, "  %s (%zu)\n", title, r->n);
	for (size_t i = 0; i < r->n; i++)
		dump_route(b, &r->v[i]);
}

static void
dump_servers(struct buf *b, const struct routes_ctx *ctx, const struct topology *t)
{
	struct nw_err err = { 0 };

	for (size_t i = 0; i < t->nroute_servers; i++) {
		const struct topo_route_server *s = &t->route_servers[i];

		out(b, "route server %s (ASN %ld, %s, branch-to-branch %s) in %s\n", s->res->name, s->asn,
		    topo_hub_preference_name(s->preference), s->allow_branch_to_branch ? "on" : "off",
		    s->vnet->res->name);
		dump_rib(b, "holds", routes_bgp_rib(ctx, s));
		for (size_t k = 0; k < s->nconnections; k++) {
			const struct topo_bgp_connection *c = s->connections[k];
			struct bgp_rib r;
			char title[256];

			ck_assert_int_eq(routes_bgp_learned(&r, ctx, c, &err), 0);
			snprintf(title, sizeof(title), "session %s (%s AS %ld): learned", c->res->name, c->peer_ip,
			    c->peer_asn);
			dump_rib(b, title, &r);
			bgp_rib_free(&r);
			ck_assert_int_eq(routes_bgp_advertised(&r, ctx, c, &err), 0);
			snprintf(title, sizeof(title), "session %s: advertised", c->res->name);
			dump_rib(b, title, &r);
			bgp_rib_free(&r);
		}
	}
}

static void
dump_circuits(struct buf *b, const struct routes_ctx *ctx, const struct topology *t)
{
	struct nw_err err = { 0 };

	for (size_t i = 0; i < t->ncircuits; i++) {
		struct circuit_route_set set = { 0 };

		ck_assert_int_eq(routes_circuit_table(&set, ctx, &t->circuits[i], &err), 0);
		out(b, "circuit %s holds (%zu)\n", t->circuits[i].res->name, set.n);
		for (size_t k = 0; k < set.n; k++) {
			char pfx[CIDR_STRLEN];

			cidr_format(&set.v[k].prefix, pfx);
			out(b, "    %-16s from %-9s path %s\n", pfx,
			    set.v[k].origin != NULL ? set.v[k].origin->res->name : "on-prem",
			    set.v[k].path != NULL ? set.v[k].path : "");
		}
		circuit_route_set_free(&set);
	}
}

static void
dump_nics(struct buf *b, const struct routes_ctx *ctx, const struct topology *t)
{
	struct nw_err err = { 0 };

	for (size_t i = 0; i < t->nnvas; i++) {
		const struct topo_nva *n = t->nvas[i].nic != NULL ? &t->nvas[i] : NULL;
		struct route_set set = { 0 };

		if (n == NULL || n->nic->subnet == NULL)
			continue;
		ck_assert_int_eq(routes_effective(&set, ctx, n->nic->subnet, &err), 0);
		out(b, "NIC %s (%s/%s): VirtualNetworkGateway routes\n", n->nic->res->name,
		    n->nic->subnet->vnet->res->name, n->nic->subnet->name);
		for (size_t k = 0; k < set.n; k++) {
			char pfx[CIDR_STRLEN], hop[CIDR_STRLEN] = "-";

			if (set.v[k].source != ROUTE_SRC_GATEWAY)
				continue;
			cidr_format(&set.v[k].prefix, pfx);
			if (set.v[k].has_next_hop_ip)
				cidr_format_addr(&set.v[k].next_hop_ip, hop);
			out(b, "    %-16s next hop %-11s %s%s\n", pfx, hop, set.v[k].active ? "Active" : "Invalid",
			    set.v[k].route_server != NULL ? " (route server)" : " (gateway)");
		}
		route_set_free(&set);
	}
}

static void
dump_flows(struct buf *b, const struct routes_ctx *ctx, const struct topology *t)
{
	struct nw_err err = { 0 };

	out(b, "flows\n");
	for (size_t i = 0; i < t->nvnets; i++)
		for (size_t j = 0; j < t->nvnets; j++) {
			struct path_result r;

			if (i == j || strncmp(t->vnets[i].res->name, "spoke", 5) != 0 ||
			    strncmp(t->vnets[j].res->name, "spoke", 5) != 0)
				continue;
			ck_assert_int_eq(routes_path(&r, ctx, &t->vnets[i], &t->vnets[j], &err), 0);
			out(b, "    %s -> %s: %s%s%s\n", t->vnets[i].res->name, t->vnets[j].res->name,
			    path_class_name(r.cls), r.detail[0] ? " " : "", r.detail);
		}
}

static char *
model_text(const char *rel)
{
	struct topology *t = NULL;
	struct routes_ctx *ctx = NULL;
	struct nw_err err = { 0 };
	struct buf b = { 0 };

	ck_assert_msg(topology_load_file(&t, test_data_path(rel), NULL, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(routes_ctx_new(&ctx, t, &err), 0);
	ck_assert(routes_bgp_converged(ctx));
	out(&b, "%s: settled in %zu rounds, %zu routes dropped by loop prevention\n", rel,
	    routes_bgp_rounds(ctx), routes_bgp_dropped(ctx));
	dump_servers(&b, ctx, t);
	dump_circuits(&b, ctx, t);
	dump_nics(&b, ctx, t);
	dump_flows(&b, ctx, t);
	routes_ctx_free(ctx);
	topology_free(t);
	return b.s;
}

static void
check_golden(const char *name)
{
	char rel[256], golden[256], *text;

	snprintf(rel, sizeof(rel), "bgp/%s.json", name);
	snprintf(golden, sizeof(golden), "bgp/%s.txt", name);
	text = model_text(rel);
	test_golden(golden, text);
	free(text);
}

START_TEST(test_option_a_matches_its_golden_file)
{
	check_golden("option-a");
}
END_TEST

START_TEST(test_option_a_without_override_matches_its_golden_file)
{
	check_golden("option-a-no-override");
}
END_TEST

START_TEST(test_option_b_matches_its_golden_file)
{
	check_golden("option-b");
}
END_TEST

START_TEST(test_transit_matches_its_golden_file)
{
	check_golden("transit");
}
END_TEST

START_TEST(test_transit_without_prepend_matches_its_golden_file)
{
	check_golden("transit-no-prepend");
}
END_TEST


/* ---- the rules one at a time ---- */

static json_t *
load_doc(const char *rel)
{
	json_error_t je;
	json_t *doc = json_load_file(test_data_path(rel), 0, &je);

	ck_assert_msg(doc != NULL, "%s: %s", rel, je.text);
	return doc;
}

static json_t *
find_res(json_t *doc, const char *id)
{
	size_t i;
	json_t *r;

	json_array_foreach(json_object_get(doc, "resources"), i, r)
		if (strcmp(json_string_value(json_object_get(r, "id")), id) == 0)
			return r;
	ck_abort_msg("no resource %s", id);
	return NULL;
}

struct model {
	struct topology *t;
	struct routes_ctx *ctx;
};

static struct model
model_of(json_t *doc)
{
	struct model m = { 0 };
	struct nw_err err = { 0 };

	ck_assert_msg(topology_load_json(&m.t, doc, "<test>", &err) == 0, "%s", err.msg);
	ck_assert_int_eq(routes_ctx_new(&m.ctx, m.t, &err), 0);
	return m;
}

static void
model_free(struct model *m)
{
	routes_ctx_free(m->ctx);
	topology_free(m->t);
}

static const struct bgp_route *
rib_find(const struct bgp_rib *r, const char *prefix, enum bgp_from from)
{
	struct cidr c;
	struct nw_err err = { 0 };

	ck_assert_int_eq(cidr_parse(&c, prefix, &err), 0);
	for (size_t i = 0; i < r->n; i++)
		if (cidr_equal(&r->v[i].prefix, &c) && r->v[i].from == from)
			return &r->v[i];
	return NULL;
}

static struct path_result
flow(const struct model *m, const char *from, const char *to)
{
	struct path_result r;
	struct nw_err err = { 0 };

	ck_assert_int_eq(routes_path(&r, m->ctx, topology_find_vnet_by_name(m->t, from),
	    topology_find_vnet_by_name(m->t, to), &err), 0);
	return r;
}

/* The fast east-west summary decides route server routes as the pair-by-pair one does. */
static void
assert_summaries_agree(const struct model *m)
{
	struct path_summary fast = { 0 }, slow = { 0 };
	struct nw_err err = { 0 };

	ck_assert_int_eq(routes_summary_subnets(&fast, m->ctx, NULL, 0, &err), 0);
	ck_assert_int_eq(routes_summary_subnets_slow(&slow, m->ctx, NULL, 0, &err), 0);
	ck_assert_uint_eq(fast.flows, slow.flows);
	for (int c = 0; c < PATH_NCLASSES; c++)
		ck_assert_uint_eq(fast.by_class[c], slow.by_class[c]);
	ck_assert_uint_eq(fast.nbuckets, slow.nbuckets);
	for (size_t i = 0; i < fast.nbuckets; i++) {
		ck_assert_str_eq(fast.buckets[i].detail, slow.buckets[i].detail);
		ck_assert_uint_eq(fast.buckets[i].count, slow.buckets[i].count);
	}
	path_summary_free(&fast);
	path_summary_free(&slow);
}

START_TEST(test_fast_and_slow_summaries_agree_on_every_design)
{
	static const char *const cases[] = { "bgp/option-a.json", "bgp/option-a-no-override.json",
	    "bgp/option-b.json", "bgp/transit.json", "bgp/transit-no-prepend.json" };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct model m = model_of(load_doc(cases[i]));

		assert_summaries_agree(&m);
		model_free(&m);
	}
}
END_TEST

START_TEST(test_a_spoke_without_its_udr_follows_the_route_server_to_an_nva_it_cannot_reach)
{
	json_t *doc = load_doc("bgp/option-a.json");
	json_t *spoke1 = find_res(doc, NET "/virtualNetworks/spoke1");
	json_t *sub = json_array_get(json_object_get(json_object_get(spoke1, "properties"), "subnets"), 0);
	struct model m;
	struct path_result r;

	json_object_del(json_object_get(sub, "properties"), "routeTable");
	m = model_of(doc);
	/* seed 003: "Spoke1/Spoke2 attempting to route traffic directly to NVA2, a path that is invalid" */
	r = flow(&m, "spoke1", "spoke3");
	ck_assert_int_eq(r.cls, PATH_UNREACHABLE);
	ck_assert_str_eq(r.detail, "next hop 10.1.1.4 (nva2) from ars1 is not reachable from the source");
	ck_assert_int_eq(r.route.source, ROUTE_SRC_GATEWAY);
	/* its own region still goes by peering: the hub's NVA routes do not cover spoke2 */
	r = flow(&m, "spoke1", "spoke2");
	ck_assert_int_eq(r.cls, PATH_UNREACHABLE);
	ck_assert_str_eq(r.detail, "dropped by 192.168.0.0/16 None");
	assert_summaries_agree(&m);
	model_free(&m);
}
END_TEST

START_TEST(test_without_branch_to_branch_gateways_and_route_servers_keep_apart)
{
	json_t *doc = load_doc("bgp/option-a.json");
	struct model m;
	const struct topo_route_server *s;

	json_object_set_new(json_object_get(find_res(doc, NET "/virtualHubs/ars2"), "properties"),
	    "allowBranchToBranchTraffic", json_false());
	m = model_of(doc);
	s = topology_find_route_server(m.t, NET "/virtualHubs/ars2");
	ck_assert_ptr_null(rib_find(routes_bgp_rib(m.ctx, s), "10.2.0.0/16", BGP_FROM_GATEWAY));
	ck_assert_ptr_nonnull(rib_find(routes_bgp_rib(m.ctx, s), "192.168.0.0/24", BGP_FROM_PEER));
	/* gw2 no longer passes spoke1 on; gw1 still does not learn anything from ARS1 for it */
	ck_assert_uint_eq(routes_bgp_gateway_extra(m.ctx,
	    &m.t->gateways[0])->n + routes_bgp_gateway_extra(m.ctx, &m.t->gateways[1])->n, 2);
	model_free(&m);
}
END_TEST

/* NVA2 also advertises the on-premises range to ARS1, one AS shorter than the circuit's path. */
static struct model
model_with_nva_onprem(enum topo_hub_preference pref)
{
	static const char *const names[] = { "ExpressRoute", "VpnGateway", "ASPath" };
	json_t *doc = load_doc("bgp/option-a.json");
	json_t *nva2 = json_array_get(json_object_get(json_object_get(doc, "declared"), "nvas"), 1);
	json_t *peer = json_array_get(json_object_get(nva2, "peers"), 1);

	json_t *routes = json_object_get(json_object_get(doc, "observed"), "circuitRoutes"), *arr;
	const char *key;

	/* the circuit's path is two ASes long, the NVA's one */
	json_object_foreach(routes, key, arr)
		json_object_set_new(json_array_get(arr, 0), "path", json_string("12076 65020"));
	json_object_set_new(peer, "advertise", json_pack("[s]", "10.2.0.0/16"));
	json_object_del(peer, "only");
	json_object_del(peer, "readvertise");
	json_object_set_new(json_object_get(find_res(doc, NET "/virtualHubs/ars1"), "properties"),
	    "hubRoutingPreference", json_string(names[pref]));
	return model_of(doc);
}

/* The next hop of the active route for prefix on a subnet (static buffer). */
static const char *
nic_route_hop(const struct model *m, const char *vnet, const char *subnet, const char *prefix)
{
	static char hop[CIDR_STRLEN];
	const struct topo_vnet *v = topology_find_vnet_by_name(m->t, vnet);
	struct route_set set = { 0 };
	struct nw_err err = { 0 };
	struct cidr c;

	ck_assert_int_eq(cidr_parse(&c, prefix, &err), 0);
	strcpy(hop, "none");
	for (size_t i = 0; i < v->nsubnets; i++) {
		if (strcmp(v->subnets[i].name, subnet) != 0)
			continue;
		ck_assert_int_eq(routes_effective(&set, m->ctx, &v->subnets[i], &err), 0);
		for (size_t k = 0; k < set.n; k++)
			if (set.v[k].active && cidr_equal(&set.v[k].prefix, &c) && set.v[k].has_next_hop_ip)
				cidr_format_addr(&set.v[k].next_hop_ip, hop);
		route_set_free(&set);
	}
	return hop;
}

START_TEST(test_hub_routing_preference_picks_between_expressroute_and_nva_routes)
{
	struct model m = model_with_nva_onprem(HUB_PREF_EXPRESSROUTE);
	const struct topo_route_server *s = topology_find_route_server(m.t, NET "/virtualHubs/ars1");

	/* ExpressRoute (default): the circuit's route wins although its path is as long */
	ck_assert_int_eq(rib_find(routes_bgp_rib(m.ctx, s), "10.2.0.0/16", BGP_FROM_GATEWAY)->state, BGP_BEST);
	ck_assert_int_eq(rib_find(routes_bgp_rib(m.ctx, s), "10.2.0.0/16", BGP_FROM_PEER)->state, BGP_CANDIDATE);
	model_free(&m);
	m = model_with_nva_onprem(HUB_PREF_VPN_GATEWAY);
	s = topology_find_route_server(m.t, NET "/virtualHubs/ars1");
	ck_assert_int_eq(rib_find(routes_bgp_rib(m.ctx, s), "10.2.0.0/16", BGP_FROM_PEER)->state, BGP_BEST);
	ck_assert_int_eq(rib_find(routes_bgp_rib(m.ctx, s), "10.2.0.0/16", BGP_FROM_GATEWAY)->state,
	    BGP_CANDIDATE);
	ck_assert_str_eq(nic_route_hop(&m, "hub1", "nva", "10.2.0.0/16"), "10.1.1.4");
	model_free(&m);
	/* ASPath: the shorter path wins whatever its source */
	m = model_with_nva_onprem(HUB_PREF_AS_PATH);
	s = topology_find_route_server(m.t, NET "/virtualHubs/ars1");
	ck_assert_int_eq(rib_find(routes_bgp_rib(m.ctx, s), "10.2.0.0/16", BGP_FROM_PEER)->state, BGP_BEST);
	model_free(&m);
	/* and back under ExpressRoute the NICs keep the gateway's route */
	m = model_with_nva_onprem(HUB_PREF_EXPRESSROUTE);
	ck_assert_str_eq(nic_route_hop(&m, "hub1", "nva", "10.2.0.0/16"), "172.16.0.1");
	model_free(&m);
}
END_TEST

START_TEST(test_the_peer_routes_answer_is_keyed_by_instance_as_azure_sends_it)
{
	struct model m = model_of(load_doc("bgp/option-a.json"));
	const struct topo_bgp_connection *c = topology_find_bgp_connection(m.t,
	    NET "/virtualHubs/ars2/bgpConnections/nva1");
	json_t *learned = routes_bgp_peer_routes_json(m.ctx, c, false);
	json_t *adv = routes_bgp_peer_routes_json(m.ctx, c, true);
	json_t *r;

	ck_assert_uint_eq(json_object_size(learned), 2);
	r = json_array_get(json_object_get(learned, "RouteServiceRole_IN_1"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(r, "localAddress")), "10.1.2.5");
	ck_assert_str_eq(json_string_value(json_object_get(r, "network")), "192.168.0.0/24");
	ck_assert_str_eq(json_string_value(json_object_get(r, "nextHop")), "10.0.1.4");
	ck_assert_str_eq(json_string_value(json_object_get(r, "sourcePeer")), "10.0.1.4");
	ck_assert_str_eq(json_string_value(json_object_get(r, "asPath")), "65001-65001");
	ck_assert_str_eq(json_string_value(json_object_get(r, "origin")), "EBgp");
	ck_assert_uint_eq(json_array_size(json_object_get(adv, "RouteServiceRole_IN_0")), 4);
	r = json_array_get(json_object_get(adv, "RouteServiceRole_IN_0"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(r, "network")), "10.1.0.0/16");
	ck_assert_str_eq(json_string_value(json_object_get(r, "nextHop")), "10.1.2.4");
	ck_assert_str_eq(json_string_value(json_object_get(r, "asPath")), "65515");
	json_decref(learned);
	json_decref(adv);
	model_free(&m);
}
END_TEST

START_TEST(test_two_nvas_with_equal_paths_are_ecmp)
{
	json_t *doc = load_doc("bgp/option-b.json");
	json_t *nvas = json_object_get(json_object_get(doc, "declared"), "nvas");
	json_t *copy = json_deep_copy(json_array_get(nvas, 1));
	json_t *props = json_object_get(find_res(doc, NET "/virtualHubs/ars1/bgpConnections/nva2"),
	    "properties");
	json_t *conn = json_deep_copy(find_res(doc, NET "/virtualHubs/ars1/bgpConnections/nva2"));
	const struct bgp_rib *rib;
	struct model m;
	size_t best = 0;

	(void)props;
	json_object_set_new(copy, "name", json_string("nva2b"));
	json_object_set_new(copy, "ips", json_pack("[s]", "10.1.1.5"));
	json_object_del(copy, "nic");
	json_array_append_new(nvas, copy);
	json_object_set_new(conn, "id", json_string(NET "/virtualHubs/ars1/bgpConnections/nva2b"));
	json_object_set_new(conn, "name", json_string("nva2b"));
	json_object_set_new(json_object_get(conn, "properties"), "peerIp", json_string("10.1.1.5"));
	json_array_append_new(json_object_get(doc, "resources"), conn);
	m = model_of(doc);
	rib = routes_bgp_rib(m.ctx, topology_find_route_server(m.t, NET "/virtualHubs/ars1"));
	for (size_t i = 0; i < rib->n; i++)
		best += rib->v[i].from == BGP_FROM_PEER && rib->v[i].state == BGP_BEST;
	ck_assert_uint_eq(best, 2);
	model_free(&m);
}
END_TEST

START_TEST(test_paths_format_and_parse_both_separators)
{
	struct bgp_path p;
	char buf[BGP_PATH_STRLEN];

	ck_assert(bgp_path_parse(&p, "65001-65001 12076"));
	ck_assert_uint_eq(p.n, 3);
	bgp_path_format(buf, sizeof(buf), &p, ' ');
	ck_assert_str_eq(buf, "65001 65001 12076");
	bgp_path_format(buf, sizeof(buf), &p, '-');
	ck_assert_str_eq(buf, "65001-65001-12076");
	ck_assert(!bgp_path_parse(&p, "65001 x"));
	ck_assert(bgp_path_parse(&p, ""));
	ck_assert_uint_eq(p.n, 0);
}
END_TEST

/* ---- check's findings ---- */

static size_t
count_code(const struct findings *f, const char *code, const char *needle)
{
	size_t n = 0;

	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->v[i].code, code) == 0 && (needle == NULL || strstr(f->v[i].message, needle) != NULL))
			n++;
	return n;
}

static struct findings
check_of(const struct model *m)
{
	struct findings f;
	struct nw_err err = { 0 };

	ck_assert_int_eq(findings_check(&f, m->t, m->ctx, &err), 0);
	return f;
}

/* What check finds in doc (stolen), the model it was judged on freed: findings own their text. */
static struct findings
findings_of(json_t *doc)
{
	struct model m = model_of(doc);
	struct findings f = check_of(&m);

	model_free(&m);
	return f;
}

START_TEST(test_check_names_loop_drops_and_the_bowtie_asymmetry)
{
	struct findings f = findings_of(load_doc("bgp/option-a-no-override.json"));

	ck_assert_uint_eq(count_code(&f, "bgp-loop-dropped", "route server ars2 drops 2 routes from nva1 "
	    "(10.0.1.4), first 192.168.0.0/24: the AS path holds 65515"), 1);
	ck_assert_uint_eq(count_code(&f, "bgp-loop-dropped", NULL), 2);
	ck_assert_uint_eq(count_code(&f, "limit-near", NULL), 0);
	findings_free(&f);
	f = findings_of(load_doc("bgp/transit-no-prepend.json"));
	ck_assert_uint_eq(count_code(&f, "bowtie-asymmetric", "circuit exr1 hears 4 prefixes from gateways "
	    "in different VNets with equal AS paths, first 192.168.0.0/24 from gw1 and gw2"), 1);
	ck_assert_uint_eq(count_code(&f, "bowtie-asymmetric", NULL), 2);
	findings_free(&f);
	/* prepending on the remote peering makes the local hub's path the shorter one */
	f = findings_of(load_doc("bgp/transit.json"));
	ck_assert_uint_eq(count_code(&f, "bowtie-asymmetric", NULL), 0);
	ck_assert_uint_eq(f.n, 0);
	findings_free(&f);
}
END_TEST

START_TEST(test_check_holds_route_servers_to_their_documented_limits)
{
	json_t *doc = load_doc("bgp/option-a.json");
	json_t *res = json_object_get(doc, "resources");
	json_t *hub1 = find_res(doc, NET "/virtualNetworks/hub1");
	json_t *rss = json_array_get(json_object_get(json_object_get(hub1, "properties"), "subnets"), 2);
	json_t *tmpl = find_res(doc, NET "/virtualHubs/ars1/bgpConnections/nva1");
	struct findings f;

	/* a /28 RouteServerSubnet, the route server's ASN on a peer, nine peers */
	json_object_set_new(json_object_get(rss, "properties"), "addressPrefix", json_string("10.0.2.0/28"));
	json_object_set_new(json_object_get(find_res(doc, NET "/virtualHubs/ars2/bgpConnections/nva2"),
	    "properties"), "peerAsn", json_integer(65515));
	for (int i = 0; i < 7; i++) {
		json_t *c = json_deep_copy(tmpl);
		char id[512], ip[32];

		snprintf(id, sizeof(id), NET "/virtualHubs/ars1/bgpConnections/extra%d", i);
		snprintf(ip, sizeof(ip), "10.0.1.%d", 10 + i);
		json_object_set_new(c, "id", json_string(id));
		json_object_set_new(c, "name", json_string(id + strlen(NET "/virtualHubs/ars1/bgpConnections/")));
		json_object_set_new(json_object_get(c, "properties"), "peerIp", json_string(ip));
		json_array_append_new(res, c);
	}
	f = findings_of(doc);
	ck_assert_uint_eq(count_code(&f, "route-server-subnet", "RouteServerSubnet of hub1 is a /28; it must "
	    "be a /27 or larger"), 1);
	ck_assert_uint_eq(count_code(&f, "bgp-peer-asn", "peers with ASN 65515, the route server's own"), 1);
	ck_assert_uint_eq(count_code(&f, "limit-exceeded", "ars1 has 9 BGP peers, over the limit of 8"), 1);
	ck_assert_uint_eq(count_code(&f, "bgp-undeclared-peer", NULL), 7);
	findings_free(&f);
}
END_TEST

START_TEST(test_check_finds_a_second_route_server_and_a_peering_without_a_session)
{
	json_t *doc = load_doc("bgp/option-a.json");
	json_t *res = json_object_get(doc, "resources");
	json_t *hub = json_deep_copy(find_res(doc, NET "/virtualHubs/ars1"));
	json_t *ipc = json_deep_copy(find_res(doc, NET "/virtualHubs/ars1/ipConfigurations/ipconfig1"));
	struct findings f;
	size_t i;
	json_t *r;

	json_object_set_new(hub, "id", json_string(NET "/virtualHubs/ars1b"));
	json_object_set_new(hub, "name", json_string("ars1b"));
	json_object_set_new(ipc, "id", json_string(NET "/virtualHubs/ars1b/ipConfigurations/ipconfig1"));
	json_array_append_new(res, hub);
	json_array_append_new(res, ipc);
	/* ARS2 loses its session with NVA1; NVA1 still declares it */
	json_array_foreach(res, i, r)
		if (strcmp(json_string_value(json_object_get(r, "id")), NET "/virtualHubs/ars2/bgpConnections/nva1") == 0)
			break;
	json_array_remove(res, i);
	f = findings_of(doc);
	ck_assert_uint_eq(count_code(&f, "limit-exceeded", "hub1 has 2 route servers, over the limit of 1"), 2);
	ck_assert_uint_eq(count_code(&f, "bgp-no-session", "NVA nva1 declares a peering with route server ars2, "
	    "which has no BGP connection"), 1);
	findings_free(&f);
}
END_TEST

/* ---- synth --interhub-nva [--route-servers] ---- */

static struct model
synth_model(bool route_servers)
{
	static const char *const regions[] = { "westeurope", "northeurope" };
	struct synth_opts o = { .hubs = 2, .spokes_per_hub = 3, .regions = regions, .nregions = 2,
	    .interhub_nva = 1, .route_servers = route_servers, .seed = 1 };
	struct nw_err err = { 0 };
	json_t *doc = NULL;

	ck_assert_msg(synth_generate(&doc, &o, &err) == 0, "%s", err.msg);
	return model_of(doc);
}

static void
assert_interhub_flows(const struct model *m)
{
	struct path_result r;

	/* to the other region: through the local NVA; within a region: the circuit, as before */
	r = flow(m, "spoke-01-0001", "spoke-02-0003");
	ck_assert_int_eq(r.cls, PATH_VIA_APPLIANCE);
	ck_assert_str_eq(r.detail, "10.1.0.132");
	r = flow(m, "spoke-02-0002", "spoke-01-0001");
	ck_assert_int_eq(r.cls, PATH_VIA_APPLIANCE);
	ck_assert_str_eq(r.detail, "10.2.0.132");
	ck_assert_int_eq(flow(m, "spoke-01-0001", "spoke-01-0002").cls, PATH_HAIRPIN);
	assert_summaries_agree(m);
}

START_TEST(test_synth_interhub_routes_between_regions_through_the_nvas)
{
	struct model m = synth_model(false);

	ck_assert_uint_eq(m.t->nroute_servers, 0);
	ck_assert_uint_eq(m.t->nnvas, 2);
	assert_interhub_flows(&m);
	/* the NVA subnet's hand-kept table: a route per remote spoke to the other NVA (seed 003) */
	ck_assert_str_eq(nic_route_hop(&m, "hub-01", "nva", "10.2.3.0/24"), "10.2.0.132");
	ck_assert_str_eq(nic_route_hop(&m, "hub-02", "nva", "10.1.1.0/24"), "10.1.0.132");
	ck_assert_str_eq(nic_route_hop(&m, "hub-01", "nva", "10.2.0.0/16"), "none");
	/* and a RouteServerSubnet with a Standard public IP waits for the route server */
	ck_assert_ptr_nonnull(topology_find(m.t, "/subscriptions/00000000-0000-4000-8000-a2eefb32555e/"
	    "resourceGroups/rg-hub-01/providers/Microsoft.Network/publicIPAddresses/pip-rs-hub-01"));
	ck_assert_str_eq(topology_find_vnet_by_name(m.t, "hub-02")->subnets[3].name, "RouteServerSubnet");
	ck_assert(!m.t->gateways[0].allow_remote_vnet_traffic);
	model_free(&m);
}
END_TEST

/* Over Azure's 400 routes per route table, an NVA subnet routes the other hubs' blocks instead. */
START_TEST(test_synth_interhub_nva_tables_stay_within_400_routes)
{
	static const char *const regions[] = { "westeurope", "northeurope" };
	struct synth_opts o = { .hubs = 3, .spokes_per_hub = 201, .regions = regions, .nregions = 2,
	    .interhub_nva = 1, .seed = 1 };
	struct nw_err err = { 0 };
	struct model m;
	json_t *doc = NULL;

	ck_assert_msg(synth_generate(&doc, &o, &err) == 0, "%s", err.msg);
	m = model_of(doc);
	ck_assert_str_eq(nic_route_hop(&m, "hub-01", "nva", "10.2.0.0/16"), "10.2.0.132");
	ck_assert_str_eq(nic_route_hop(&m, "hub-01", "nva", "10.3.0.0/16"), "10.3.0.132");
	ck_assert_str_eq(nic_route_hop(&m, "hub-01", "nva", "10.2.3.0/24"), "none");
	model_free(&m);
	/* 2 x 200 remote spokes fit: a route each */
	o.spokes_per_hub = 200;
	ck_assert_msg(synth_generate(&doc, &o, &err) == 0, "%s", err.msg);
	m = model_of(doc);
	ck_assert_str_eq(nic_route_hop(&m, "hub-01", "nva", "10.3.200.0/24"), "10.3.0.132");
	ck_assert_str_eq(nic_route_hop(&m, "hub-01", "nva", "10.2.0.0/16"), "none");
	model_free(&m);
}
END_TEST

START_TEST(test_synth_route_servers_keep_every_flow_and_teach_the_nvas_by_bgp)
{
	struct model m = synth_model(true);
	struct findings f;
	const struct topo_route_server *s;

	ck_assert_uint_eq(m.t->nroute_servers, 2);
	s = topology_find_route_server(m.t, m.t->nvas[1].peers[0].route_server_id);
	ck_assert_ptr_eq(s->vnet, topology_find_vnet_by_name(m.t, "hub-01"));
	ck_assert_int_eq(rib_find(routes_bgp_rib(m.ctx, s), "10.2.0.0/16", BGP_FROM_PEER)->state, BGP_BEST);
	assert_interhub_flows(&m);
	f = check_of(&m);
	ck_assert_uint_eq(f.by_severity[SEV_ERROR], 0);
	ck_assert_uint_eq(count_code(&f, "bgp-loop-dropped", NULL) + count_code(&f, "bowtie-asymmetric", NULL) +
	    count_code(&f, "bgp-no-session", NULL) + count_code(&f, "bgp-undeclared-peer", NULL), 0);
	findings_free(&f);
	model_free(&m);
}
END_TEST

START_TEST(test_synth_interhub_needs_two_hubs_and_leaves_the_default_estate_alone)
{
	struct synth_opts o = { .hubs = 1, .spokes_per_hub = 2, .interhub_nva = 1 };
	struct synth_opts plain = { .hubs = 2, .spokes_per_hub = 2 };
	struct nw_err err = { 0 };
	json_t *doc = NULL, *again = NULL;
	char *a, *b;

	ck_assert_int_eq(synth_generate(&doc, &o, &err), NW_EINPUT);
	ck_assert_str_eq(err.msg, "option '--interhub-nva': inter-hub routing needs at least 2 hubs");
	ck_assert_ptr_null(doc);
	ck_assert_int_eq(synth_generate(&doc, &plain, &err), 0);
	ck_assert_ptr_null(json_object_get(doc, "declared"));
	ck_assert_int_eq(synth_generate(&again, &plain, &err), 0);
	a = json_dumps(doc, JSON_SORT_KEYS);
	b = json_dumps(again, JSON_SORT_KEYS);
	ck_assert_str_eq(a, b);
	ck_assert_ptr_null(strstr(a, "virtualHubs"));
	free(a);
	free(b);
	json_decref(doc);
	json_decref(again);
}
END_TEST

int
main(void)
{
	const TTest *const bgp_tests[] = {
		TEST_CASE("golden", 0),
		test_option_a_matches_its_golden_file,
		test_option_a_without_override_matches_its_golden_file,
		test_option_b_matches_its_golden_file,
		test_transit_matches_its_golden_file,
		test_transit_without_prepend_matches_its_golden_file,
		TEST_CASE("rules", 0),
		test_a_spoke_without_its_udr_follows_the_route_server_to_an_nva_it_cannot_reach,
		test_without_branch_to_branch_gateways_and_route_servers_keep_apart,
		test_hub_routing_preference_picks_between_expressroute_and_nva_routes,
		test_the_peer_routes_answer_is_keyed_by_instance_as_azure_sends_it,
		test_two_nvas_with_equal_paths_are_ecmp,
		test_paths_format_and_parse_both_separators,
		test_fast_and_slow_summaries_agree_on_every_design,
		TEST_CASE("check", 0),
		test_check_names_loop_drops_and_the_bowtie_asymmetry,
		test_check_holds_route_servers_to_their_documented_limits,
		test_check_finds_a_second_route_server_and_a_peering_without_a_session,
		TEST_CASE("synth", 0),
		test_synth_interhub_routes_between_regions_through_the_nvas,
		test_synth_interhub_nva_tables_stay_within_400_routes,
		test_synth_route_servers_keep_every_flow_and_teach_the_nvas_by_bgp,
		test_synth_interhub_needs_two_hubs_and_leaves_the_default_estate_alone,
		NULL,
	};

	return test_main("bgp", bgp_tests);
}
