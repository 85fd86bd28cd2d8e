/*
 * The route-server-interhub change kind (plan/proc/route_server_interhub*.c):
 * its intent's refusals with the field named, its expansion into the
 * target (route servers, BGP connections, declared NVAs, only the
 * inter-hub routes removed), its waves in seed 003's order with their
 * gates, the branch-to-branch wave and its way back, the rehearsal that
 * blocks a UDR removal the route servers would not carry, a route server's
 * computed fields left out of the diff, and the learned-routes judge.  The estate is seed 003's two
 * hubs before the change (tests/data/intent/route-server-estate.json).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "plan/diff.h"
#include "plan/gates.h"
#include "plan/intent.h"
#include "plan/jsonutil.h"
#include "plan/planner.h"
#include "plan/proc/route_server_interhub.h"
#include "plan/topology.h"
#include "tests/testutil.h"

#define NET "/subscriptions/11111111-2222-4333-8444-555555555555/resourceGroups/rg-net/providers/Microsoft.Network/"
#define PIP NET "publicIPAddresses/"

static json_t *
estate_doc(void)
{
	json_error_t je;
	json_t *doc = json_load_file(test_data_path("intent/route-server-estate.json"), 0, &je);

	ck_assert_msg(doc != NULL, "estate: %s", je.text);
	return doc;
}

static struct topology *
load(json_t *doc)
{
	struct topology *t = NULL;
	struct nw_err err = { 0 };

	ck_assert_msg(topology_load_json(&t, doc, "estate.json", &err) == 0, "%s", err.msg);
	return t;
}

/* The example intent's change with hub 0's NVA given by nva0 and the spokes selector given. */
static char *
intent_text(const char *hub0_vnet, const char *nva0, const char *extra_nvas, bool override)
{
	char *s = NULL;

	ck_assert(asprintf(&s, "{\"format\": \"netwave.intent/v1\", \"changes\": [{"
	    "\"kind\": \"route-server-interhub\", \"hubs\": ["
	    "{\"vnet\": {\"names\": [\"%s\"]}, \"routeServer\": {\"name\": \"ars1\", \"publicIpAddress\": \"" PIP "ars1-pip\"},"
	    " \"nvas\": [%s%s]},"
	    "{\"vnet\": {\"names\": [\"hub2\"]}, \"routeServer\": {\"name\": \"ars2\", \"publicIpAddress\": \"" PIP "ars2-pip\"},"
	    " \"nvas\": [{\"name\": \"nva2\", \"peerIp\": \"10.1.1.4\", \"asn\": 65002, \"asOverride\": %s}]}],"
	    " \"spokes\": {\"names\": [\"spoke*\"]}}],"
	    " \"rollout\": {\"waves\": [{\"name\": \"first\", \"members\": {\"names\": [\"spoke1\", \"spoke3\"]}},"
	    " {\"name\": \"rest\"}]}}", hub0_vnet, nva0, extra_nvas, override ? "true" : "false") > 0);
	return s;
}

#define NVA1 "{\"name\": \"nva1\", \"peerIp\": \"10.0.1.4\", \"asn\": 65001, \"asOverride\": true}"
#define NVA1_NO "{\"name\": \"nva1\", \"peerIp\": \"10.0.1.4\", \"asn\": 65001}"

/* Expands text against cur: 0 and *out, or the error code with err filled. */
static int
expand(json_t **out, const struct topology *cur, const char *text, struct nw_err *err)
{
	struct intent *in = NULL;
	int rc = intent_load_buffer(&in, text, strlen(text), "intent.json", err);

	*out = NULL;
	if (rc == 0)
		rc = intent_target(out, in, cur, err);
	intent_free(in);
	return rc;
}

/* The error an intent is refused with (NW_EINPUT), at load or at expansion. */
static void
refused(const struct topology *cur, char *text, const char *pointer, const char *words)
{
	struct nw_err err = { 0 };
	json_t *doc = NULL;
	int rc = expand(&doc, cur, text, &err);

	ck_assert_msg(rc == NW_EINPUT, "%s %s: expected NW_EINPUT, got %d (%s)", pointer, words, rc, err.msg);
	ck_assert_msg(strstr(err.msg, pointer) != NULL, "no %s in: %s", pointer, err.msg);
	ck_assert_msg(strstr(err.msg, words) != NULL, "no '%s' in: %s", words, err.msg);
	ck_assert_msg(strncmp(err.msg, "intent.json: ", 13) == 0, "the file is not named: %s", err.msg);
	json_decref(doc);
	free(text);
}

/* Plans text against cdoc (stolen): the plan, *rc the planner's status. */
static json_t *
plan_text(json_t *cdoc, const char *text, int *rc, struct nw_err *err)
{
	json_t *tdoc = NULL, *plan = NULL;
	struct topology *cur = load(cdoc), *tgt;
	struct planner_opts o = { .now = 1795377600, .current_source = "current.json", .target_source = "target.json" };

	ck_assert_msg(expand(&tdoc, cur, text, err) == 0, "%s", err->msg);
	tgt = load(tdoc);
	*rc = planner_plan(&plan, cur, tgt, &o, err);
	ck_assert_msg(plan != NULL, "no plan: %s", err->msg);
	topology_free(cur);
	topology_free(tgt);
	return plan;
}

/* Plans the example (override or not), asserting that the planner blocks it, or not, as said. */
static json_t *
plan_example(bool override, bool blocked)
{
	char *text = intent_text("hub1", override ? NVA1 : NVA1_NO, "", override);
	struct nw_err err = { 0 };
	int rc;
	json_t *plan = plan_text(estate_doc(), text, &rc, &err);

	ck_assert_msg((rc != 0) == blocked, "%s: rc %d: %s", blocked ? "not blocked" : "blocked", rc, err.msg);
	free(text);
	return plan;
}

/* The gate of a wave, or the wave of a plan, of this kind (NULL: none). */
static const json_t *
gate_of(const json_t *wave, const char *kind)
{
	return test_json_find(wave, "gates", "kind", kind);
}

static const json_t *
wave_of(const json_t *plan, const char *kind)
{
	return test_json_find(plan, "waves", "kind", kind);
}

static const json_t *
connection_expect(const json_t *gate, const char *id)
{
	return test_json_find(json_object_get(gate, "params"), "connections", "connection", id);
}

static bool
list_has(const json_t *list, const char *s)
{
	const json_t *x;
	size_t i;

	json_array_foreach(list, i, x)
		if (json_string_value(x) != NULL && strcmp(json_string_value(x), s) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------------ */

START_TEST(test_the_intent_adds_route_servers_connections_and_nvas_and_drops_only_interhub_routes)
{
	json_t *cdoc = estate_doc(), *tdoc = NULL;
	struct topology *cur = load(cdoc), *tgt;
	struct nw_err err = { 0 };
	char *text = intent_text("hub1", NVA1, "", true);
	const struct topo_resource *rt;
	const json_t *nvas;

	ck_assert_msg(expand(&tdoc, cur, text, &err) == 0, "%s", err.msg);
	tgt = load(tdoc);
	ck_assert_ptr_nonnull(topology_find(tgt, NET "virtualHubs/ars1"));
	ck_assert_str_eq(json_path_str(topology_find(tgt, NET "virtualHubs/ars1/ipConfigurations/ipconfig1")->json,
	    "properties", "subnet", "id", NULL), NET "virtualNetworks/hub1/subnets/RouteServerSubnet");
	/* each NVA peers with its local and the remote route server: four connections */
	ck_assert_ptr_nonnull(topology_find(tgt, NET "virtualHubs/ars1/bgpConnections/nva1"));
	ck_assert_ptr_nonnull(topology_find(tgt, NET "virtualHubs/ars1/bgpConnections/nva2"));
	ck_assert_ptr_nonnull(topology_find(tgt, NET "virtualHubs/ars2/bgpConnections/nva1"));
	ck_assert_ptr_nonnull(topology_find(tgt, NET "virtualHubs/ars2/bgpConnections/nva2"));
	ck_assert_int_eq(json_integer_value(json_path(topology_find(tgt, NET "virtualHubs/ars2/bgpConnections/nva1")->json,
	    "properties", "peerAsn", NULL)), 65001);
	nvas = json_path(tgt->root, "declared", "nvas", NULL);
	ck_assert_uint_eq(json_array_size(nvas), 2);
	ck_assert(json_is_true(json_path(json_array_get(nvas, 0), "peers", NULL) != NULL ?
	    json_object_get(json_array_get(json_object_get(json_array_get(nvas, 0), "peers"), 1), "asOverride") : NULL));
	/* the NVA subnets' inter-hub routes go; the spokes' default route to the firewall stays */
	rt = topology_find(tgt, NET "routeTables/rt-nva1");
	ck_assert_uint_eq(((const struct topo_route_table *)rt->view)->nroutes, 0);
	rt = topology_find(tgt, NET "routeTables/rt-spokes1");
	ck_assert_uint_eq(((const struct topo_route_table *)rt->view)->nroutes, 1);
	ck_assert_uint_eq(((const struct topo_route_table *)rt->view)->routes[0].prefix.len, 0);
	rt = topology_find(tgt, NET "routeTables/rt-gw1");
	ck_assert_uint_eq(((const struct topo_route_table *)rt->view)->nroutes, 2);
	topology_free(cur);
	topology_free(tgt);
	free(text);
}
END_TEST

START_TEST(test_the_waves_follow_the_seed_and_gate_on_what_the_model_says_is_learned)
{
	json_t *plan = plan_example(true, false);
	const json_t *waves = json_object_get(plan, "waves"), *g, *c, *st;
	static const char *const kinds[] = { "route-server", "bgp-peering", "udr-cleanup", "udr-cleanup" };
	size_t i;

	ck_assert_uint_eq(json_array_size(waves), 4);
	for (i = 0; i < 4; i++)
		ck_assert_str_eq(json_str(json_array_get(waves, i), "kind"), kinds[i]);
	/* both hubs have a gateway: the route servers go in inside the window */
	ck_assert(json_is_true(json_path(json_array_get(waves, 0), "steps", NULL) != NULL ?
	    json_object_get(json_array_get(json_object_get(json_array_get(waves, 0), "steps"), 0), "maintenanceWindow") :
	    NULL));
	ck_assert_uint_eq(json_array_size(json_object_get(json_array_get(waves, 0), "risks")), 2);
	/* the remote route server learns the other hub's spokes through the NVA with AS-override */
	g = gate_of(json_array_get(waves, 1), "learned-routes");
	ck_assert_ptr_nonnull(g);
	c = connection_expect(g, NET "virtualHubs/ars2/bgpConnections/nva1");
	ck_assert_ptr_nonnull(c);
	ck_assert(list_has(json_object_get(c, "present"), "192.168.0.0/24"));
	ck_assert(list_has(json_object_get(c, "present"), "192.168.1.0/24"));
	ck_assert_uint_eq(json_array_size(json_object_get(c, "absent")), 0);
	/* the cleanup waves delete routes, re-added on the way back, gated on effective routes */
	json_array_foreach(json_object_get(json_array_get(waves, 2), "steps"), i, st) {
		/* the route's own DELETE; the way back PUTs it as it was */
		ck_assert_str_eq(json_path_str(st, "operation", "method", NULL), "DELETE");
		ck_assert_str_eq(json_path_str(st, "inverse", "method", NULL), "PUT");
		ck_assert_str_eq(json_path_str(st, "inverse", "path", NULL), json_path_str(st, "operation", "path", NULL));
		ck_assert_str_eq(json_path_str(st, "inverse", "body", "properties", "nextHopType", NULL),
		    "VirtualAppliance");
	}
	ck_assert_uint_eq(json_array_size(json_object_get(json_array_get(waves, 2), "steps")), 2);
	ck_assert_ptr_nonnull(gate_of(json_array_get(waves, 2), "effective-routes"));
	json_decref(plan);
}
END_TEST

START_TEST(test_without_as_override_loop_prevention_drops_and_the_cleanup_is_blocked)
{
	/* without the routes the route servers would carry, the hub's NVA loses the other hub's spokes */
	json_t *plan = plan_example(false, true);
	const json_t *c, *b;
	bool cut = false;
	size_t i;

	c = connection_expect(gate_of(json_array_get(json_object_get(plan, "waves"), 1), "learned-routes"),
	    NET "virtualHubs/ars2/bgpConnections/nva1");
	ck_assert_ptr_nonnull(c);
	ck_assert(list_has(json_object_get(c, "absent"), "192.168.0.0/24"));
	ck_assert(!list_has(json_object_get(c, "present"), "192.168.0.0/24"));
	json_array_foreach(json_object_get(plan, "blockers"), i, b)
		cut |= strcmp(json_str(b, "code"), "path-changed") == 0;
	ck_assert_msg(cut, "no path-changed blocker");
	json_decref(plan);
}
END_TEST

START_TEST(test_bad_intents_are_refused_naming_the_field)
{
	json_t *doc = estate_doc(), *small;
	struct topology *cur = load(json_incref(doc)), *cur2;
	const json_t *r;
	size_t i, k;
	char nine[2048] = "";

	refused(cur, intent_text("hub1", "{\"name\": \"nva1\", \"peerIp\": \"10.0.1.4\", \"asn\": 65515}", "", true),
	    "/changes/0/hubs/0/nvas/0/asn", "reserved");
	refused(cur, intent_text("hub1", "{\"name\": \"nva1\", \"peerIp\": \"10.0.1.4\", \"asn\": 64500}", "", true),
	    "/changes/0/hubs/0/nvas/0/asn", "reserved");
	refused(cur, intent_text("hub1", "{\"name\": \"nva1\", \"peerIp\": \"fe80::1\", \"asn\": 65001}", "", true),
	    "/changes/0/hubs/0/nvas/0/peerIp", "IPv4");
	for (i = 0; i < 8; i++)
		snprintf(nine + strlen(nine), sizeof(nine) - strlen(nine), ", {\"name\": \"x%zu\", \"peerIp\": "
		    "\"10.0.1.%zu\", \"asn\": 65010}", i, i + 10);
	refused(cur, intent_text("hub1", NVA1, nine, true), "/changes/0/hubs/0/nvas", "at most 8");
	refused(cur, intent_text("hub2", NVA1, "", true), "/changes/0/hubs/1/vnet", "already gets a route server");
	refused(cur, intent_text("spoke1", NVA1, "", true), "/changes/0/hubs/0/vnet", "no RouteServerSubnet");
	/* a RouteServerSubnet smaller than /27 */
	small = json_deep_copy(doc);
	json_array_foreach(json_object_get(small, "resources"), i, r) {
		const json_t *sn;
		if (strcmp(json_str(r, "name"), "hub1") != 0)
			continue;
		json_array_foreach(json_path(r, "properties", "subnets", NULL), k, sn)
			if (strcmp(json_str(sn, "name"), "RouteServerSubnet") == 0)
				json_object_set_new(json_object_get(sn, "properties"), "addressPrefix",
				    json_string("10.0.2.0/28"));
	}
	cur2 = load(small);
	refused(cur2, intent_text("hub1", NVA1, "", true), "/changes/0/hubs/0/vnet", "at least a /27");
	topology_free(cur2);
	topology_free(cur);
	json_decref(doc);
}
END_TEST

START_TEST(test_a_vnet_that_holds_a_route_server_takes_no_second)
{
	json_error_t je;
	json_t *doc = json_load_file(test_data_path("bgp/option-a.json"), 0, &je);
	struct topology *cur = load(doc);
	char *text = intent_text("hub1", NVA1, "", true);

	/* option-a already holds ars1 in hub1: the same name is the same route server, another is a second */
	{
		json_t *tdoc = NULL;
		struct nw_err err = { 0 };
		ck_assert_msg(expand(&tdoc, cur, text, &err) == 0, "%s", err.msg);
		json_decref(tdoc);
	}
	strstr(text, "\"ars1\"")[4] = '9';
	refused(cur, text, "/changes/0/hubs/0/vnet", "already holds route server");
	topology_free(cur);
}
END_TEST

/* text with "allowBranchToBranchTraffic": on in front of each hub's route server (text is freed) */
static char *
with_branch_to_branch(char *text, bool on)
{
	const char *key = on ? "\"allowBranchToBranchTraffic\": true, \"routeServer\"" :
	    "\"allowBranchToBranchTraffic\": false, \"routeServer\"";
	char *out = calloc(1, strlen(text) * 2 + 256), *o = out;
	const char *p = text, *q;

	ck_assert_ptr_nonnull(out);
	while ((q = strstr(p, "\"routeServer\"")) != NULL) {
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		o = stpcpy(o, key);
		p = q + strlen("\"routeServer\"");
	}
	strcpy(o, p);
	free(text);
	return out;
}

/*
 * allowBranchToBranchTraffic (Route Server FAQ: the route server and the
 * VNet's gateways exchange routes) is a wave of its own: new route servers
 * go in with it off and get it in the branch-to-branch wave, whose way
 * back puts it off again; on route servers already there, the wave alone
 * turns it on and its way back puts each server back as it was.  Each
 * step is gated on the property.
 */
START_TEST(test_branch_to_branch_is_its_own_wave_with_its_gate_and_way_back)
{
	char *text = with_branch_to_branch(intent_text("hub1", NVA1, "", true), true);
	struct nw_err err = { 0 };
	int rc;
	json_t *plan = plan_text(estate_doc(), text, &rc, &err), *after = NULL, *again;
	const json_t *w = wave_of(plan, "branch-to-branch"), *st, *rs, *c;
	size_t i;

	ck_assert_msg(rc == 0, "%s", err.msg);
	ck_assert_ptr_nonnull(w);
	ck_assert_str_eq(json_str(json_array_get(json_object_get(plan, "waves"), 2), "kind"), "branch-to-branch");
	ck_assert_uint_eq(json_array_size(json_object_get(w, "steps")), 2);
	json_array_foreach(json_object_get(w, "steps"), i, st) {
		ck_assert_str_eq(json_path_str(st, "operation", "method", NULL), "PUT");
		ck_assert_str_eq(json_path_str(st, "inverse", "method", NULL), "PUT");
		ck_assert(json_is_true(json_path(st, "operation", "body", "properties", "allowBranchToBranchTraffic", NULL)));
		ck_assert(json_is_false(json_path(st, "inverse", "body", "properties", "allowBranchToBranchTraffic", NULL)));
		ck_assert_str_eq(json_path_str(st, "operation", "body", "properties", "sku", NULL), "Standard");
	}
	c = json_array_get(json_path(gate_of(w, "resource-state"), "params", "checks", NULL), 0);
	ck_assert_str_eq(json_str(c, "pointer"), "/properties/allowBranchToBranchTraffic");
	ck_assert(json_is_true(json_object_get(c, "equals")));
	/* the route-servers wave put them with it off: on only once the BGP sessions are up */
	rs = json_array_get(json_object_get(wave_of(plan, "route-server"), "steps"), 0);
	ck_assert(json_is_false(json_path(rs, "operation", "body", "properties", "allowBranchToBranchTraffic", NULL)));
	json_decref(plan);
	free(text);

	/* on the estate after that change with branch-to-branch off, turning it on is the only wave */
	text = with_branch_to_branch(intent_text("hub1", NVA1, "", true), false);
	{
		struct topology *cur = load(estate_doc());
		ck_assert_msg(expand(&after, cur, text, &err) == 0, "%s", err.msg);
		topology_free(cur);
		free(text);
	}
	again = json_deep_copy(after);
	text = with_branch_to_branch(intent_text("hub1", NVA1, "", true), true);
	plan = plan_text(again, text, &rc, &err);
	ck_assert_msg(rc == 0, "%s", err.msg);
	ck_assert_uint_eq(json_array_size(json_object_get(plan, "waves")), 1);
	w = wave_of(plan, "branch-to-branch");
	ck_assert_ptr_nonnull(w);
	ck_assert_uint_eq(json_array_size(json_object_get(w, "steps")), 2);
	st = json_array_get(json_object_get(w, "steps"), 0);
	ck_assert(json_is_true(json_path(st, "operation", "body", "properties", "allowBranchToBranchTraffic", NULL)));
	ck_assert(json_is_false(json_path(st, "inverse", "body", "properties", "allowBranchToBranchTraffic", NULL)));
	ck_assert_ptr_nonnull(strstr(json_str(w, "rollback"), "previous allowBranchToBranchTraffic"));
	json_decref(plan);
	json_decref(after);
	free(text);
}
END_TEST

/*
 * What ARM computes in a route server once its ipConfiguration and BGP
 * connections exist (the children listed in it, routingState, the
 * virtualRouterIps it picks) is no change: a later wave's drift check
 * compares the server with the image its PUT left.  A change of what the
 * user sets still is one.
 */
START_TEST(test_a_route_server_s_computed_fields_are_no_change)
{
	json_error_t je;
	json_t *doc = json_load_file(test_data_path("bgp/option-a.json"), 0, &je), *later, *props, *r;
	struct topology *a, *b;
	struct diff d = { 0 };
	struct nw_err err = { 0 };
	size_t i;

	ck_assert_ptr_nonnull(doc);
	later = json_deep_copy(doc);
	json_array_foreach(json_object_get(later, "resources"), i, r) {
		if (strcmp(json_str(r, "type"), "Microsoft.Network/virtualHubs") != 0)
			continue;
		props = json_object_get(r, "properties");
		json_object_set_new(props, "routingState", json_string("None"));
		json_object_set_new(props, "virtualRouterIps", json_array());
		json_object_set_new(props, "ipConfigurations", json_pack("[{s:s}]", "id", "x/ipConfigurations/ipconfig1"));
		json_object_set_new(props, "bgpConnections", json_pack("[{s:s}]", "id", "x/bgpConnections/nva1"));
	}
	a = load(doc);
	b = load(json_deep_copy(later));
	ck_assert_int_eq(diff_topologies(&d, a, b, &err), 0);
	ck_assert_uint_eq(d.n, 0);
	diff_free(&d);
	topology_free(b);
	json_array_foreach(json_object_get(later, "resources"), i, r)
		if (strcmp(json_str(r, "type"), "Microsoft.Network/virtualHubs") == 0)
			json_object_set_new(json_object_get(r, "properties"), "allowBranchToBranchTraffic", json_false());
	b = load(later);
	ck_assert_int_eq(diff_topologies(&d, a, b, &err), 0);
	ck_assert_uint_eq(d.n, 2);
	ck_assert_str_eq(d.v[0].pointer, "/properties/allowBranchToBranchTraffic");
	diff_free(&d);
	topology_free(a);
	topology_free(b);
}
END_TEST

START_TEST(test_the_learned_routes_judge_reads_azure_s_instance_keyed_answer)
{
	const struct gate_kind_def *ge = gate_kind_parse("learned-routes");
	json_t *params = json_pack("{s:[{s:s, s:[s], s:[s]}]}", "connections", "connection", "c1", "present",
	    "192.168.0.0/24", "absent", "192.168.2.0/24");
	json_t *good = json_pack("[{s:s, s:{s:[{s:s}], s:[{s:s}]}}]", "connection", "c1", "learned",
	    "RouteServiceRole_IN_0", "network", "192.168.0.0/24", "RouteServiceRole_IN_1", "network", "10.9.0.0/16");
	json_t *missing = json_pack("[{s:s, s:{s:[]}}]", "connection", "c1", "learned", "value");
	json_t *looped = json_pack("[{s:s, s:{s:[{s:s}, {s:s}]}}]", "connection", "c1", "learned", "value",
	    "network", "192.168.0.0/24", "network", "192.168.2.0/24");
	json_t *ev = json_object();

	ck_assert_ptr_nonnull(ge);
	ck_assert_int_eq(ge->read, GATE_READ_POST_ACTION);
	ck_assert_str_eq(ge->post->action, "learnedRoutes");
	ck_assert_int_eq(ge->judge(params, good, ev), GATE_PASSED);
	ck_assert_int_eq(ge->judge(params, missing, ev), GATE_NOT_YET);
	ck_assert_int_eq(ge->judge(params, looped, ev), GATE_FAILED);
	ck_assert_msg(strstr(json_str(ev, "summary"), "192.168.2.0/24") != NULL, "%s", json_str(ev, "summary"));
	json_decref(params);
	json_decref(good);
	json_decref(missing);
	json_decref(looped);
	json_decref(ev);
}
END_TEST

START_TEST(test_reserved_asns_are_azure_s_and_iana_s)
{
	static const long long reserved[] = { 0, 8074, 8075, 12076, 23456, 64496, 64511, 65515, 65517, 65520,
	    65535, 65551, 4294967295LL };
	static const long long usable[] = { 1, 64512, 65001, 65516, 65534, 65552, 4200000000LL };
	size_t i;

	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		ck_assert_msg(rsi_asn_reserved(reserved[i]), "%lld", reserved[i]);
	for (i = 0; i < sizeof(usable) / sizeof(usable[0]); i++)
		ck_assert_msg(!rsi_asn_reserved(usable[i]), "%lld", usable[i]);
}
END_TEST

int
main(void)
{
	const TTest *const route_server_tests[] = {
		TEST_CASE("route-server-interhub", 120),
		test_the_intent_adds_route_servers_connections_and_nvas_and_drops_only_interhub_routes,
		test_the_waves_follow_the_seed_and_gate_on_what_the_model_says_is_learned,
		test_without_as_override_loop_prevention_drops_and_the_cleanup_is_blocked,
		test_bad_intents_are_refused_naming_the_field,
		test_a_vnet_that_holds_a_route_server_takes_no_second,
		test_branch_to_branch_is_its_own_wave_with_its_gate_and_way_back,
		test_a_route_server_s_computed_fields_are_no_change,
		test_the_learned_routes_judge_reads_azure_s_instance_keyed_answer,
		test_reserved_asns_are_azure_s_and_iana_s,
		NULL,
	};

	return test_main("route_server", route_server_tests);
}
