/*
 * Tests of the route-server part of the topology (plan/topology_ars.c):
 * virtualHubs without a virtualWan load as route servers with their
 * ipConfigurations and bgpConnections children, observed.bgpRoutes reads
 * both shapes ARM gives the learnedRoutes / advertisedRoutes answers,
 * declared.nvas links each declared peering to its BGP connection, and bad
 * input is rejected naming the file and the JSON pointer.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "plan/jsonutil.h"
#include "plan/topology.h"
#include "providers/azure/internal.h"
#include "tests/testutil.h"

#define SUB "/subscriptions/11111111-2222-4333-8444-555555555555"
#define NET SUB "/resourceGroups/rg-net/providers/Microsoft.Network"
#define ARS1 NET "/virtualHubs/ars1"
#define ARS2 NET "/virtualHubs/ars2"

static char addrbuf[CIDR_STRLEN];

static const char *
addr(const struct cidr *c)
{
	cidr_format_addr(c, addrbuf);
	return addrbuf;
}

START_TEST(test_route_servers_load_with_their_children_and_vnet)
{
	struct topology *t = test_topology_file("bgp/option-a.json");
	struct topo_route_server *s = topology_find_route_server(t, ARS1);
	struct topo_vnet *hub1 = topology_find_vnet(t, NET "/virtualNetworks/hub1");

	ck_assert_uint_eq(t->nroute_servers, 2);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s->sku, "Standard");
	ck_assert_int_eq(s->asn, 65515);
	ck_assert_uint_eq(s->nrouter_ips, 2);
	ck_assert_str_eq(addr(&s->router_ips[0]), "10.0.2.4");
	ck_assert_str_eq(addr(&s->router_ips[1]), "10.0.2.5");
	ck_assert(s->allow_branch_to_branch);
	ck_assert_int_eq(s->preference, HUB_PREF_EXPRESSROUTE);
	ck_assert_str_eq(s->routing_state, "Provisioned");
	ck_assert_uint_eq(s->nip_configs, 1);
	ck_assert_str_eq(s->ip_configs[0]->subnet->name, "RouteServerSubnet");
	ck_assert_ptr_eq(s->vnet, hub1);
	ck_assert_ptr_eq(topology_vnet_route_server(t, hub1), s);
	ck_assert_ptr_null(topology_vnet_route_server(t, topology_find_vnet(t, NET "/virtualNetworks/spoke1")));
	ck_assert_str_eq(s->ip_configs[0]->public_ip_id, NET "/publicIPAddresses/ars1-pip");
	ck_assert_uint_eq(s->nconnections, 2);
	ck_assert_str_eq(s->connections[0]->peer_ip, "10.0.1.4");
	ck_assert_int_eq(s->connections[0]->peer_asn, 65001);
	ck_assert_str_eq(s->connections[0]->connection_state, "Connected");
	ck_assert_ptr_null(s->connections[0]->hub_vnet_connection_id);
	ck_assert_ptr_eq(s->connections[0]->server, s);
	ck_assert_uint_eq(t->nwarnings, 0);
	topology_free(t);
}
END_TEST

START_TEST(test_declared_nvas_link_each_peering_to_its_bgp_connection)
{
	struct topology *t = test_topology_file("bgp/option-a.json");
	struct topo_nva *n = topology_find_nva(t, "NVA1");
	struct topo_bgp_connection *c;
	struct cidr a;
	struct nw_err e = { 0 };

	ck_assert_uint_eq(t->nnvas, 2);
	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(n->asn, 65001);
	ck_assert_ptr_nonnull(n->nic);
	ck_assert_str_eq(n->nic->private_ip, "10.0.1.4");
	ck_assert_uint_eq(n->npeers, 2);
	/* local peering: exports nothing */
	ck_assert_ptr_eq(n->peers[0].server, topology_find_route_server(t, ARS1));
	ck_assert_uint_eq(n->peers[0].advertise.n, 0);
	ck_assert(!n->peers[0].as_override);
	/* remote peering: re-advertises what ARS1 taught it, only its spokes, with AS-override */
	ck_assert_ptr_eq(n->peers[1].server, topology_find_route_server(t, ARS2));
	ck_assert_uint_eq(n->peers[1].nrelay, 1);
	ck_assert_ptr_eq(n->peers[1].relay[0], topology_find_route_server(t, ARS1));
	ck_assert_uint_eq(n->peers[1].only.n, 2);
	ck_assert(n->peers[1].as_override);
	c = topology_find_bgp_connection(t, ARS2 "/bgpConnections/nva1");
	ck_assert_ptr_eq(n->peers[1].connection, c);
	ck_assert_ptr_eq(c->nva, n);
	ck_assert_ptr_eq(c->policy, &n->peers[1]);
	ck_assert_int_eq(cidr_parse_addr(&a, "10.1.1.4", &e), 0);
	ck_assert_ptr_eq(topology_nva_by_addr(t, &a), topology_find_nva(t, "nva2"));
	topology_free(t);
}
END_TEST

#define DOC_HEAD "{\"format\": \"netwave.topology/v1\", \"resources\": ["
#define HUB(name, extra) "{\"id\": \"" NET "/virtualHubs/" name "\", \"type\": \"Microsoft.Network/virtualHubs\"," \
	" \"properties\": {\"sku\": \"Standard\"" extra "}}"
#define BGP(hub, name, props) "{\"id\": \"" NET "/virtualHubs/" hub "/bgpConnections/" name "\"," \
	" \"type\": \"Microsoft.Network/virtualHubs/bgpConnections\", \"properties\": " props "}"

START_TEST(test_learned_routes_read_both_answer_shapes)
{
	struct topology *t = test_topology(DOC_HEAD HUB("ars1", "")
	    "," BGP("ars1", "nva1", "{\"peerIp\": \"10.0.1.4\", \"peerAsn\": 65001}") "],"
	    "\"observed\": {\"bgpRoutes\": {\"" ARS1 "/bgpConnections/NVA1\": {"
	    "\"learned\": {\"RouteServiceRole_IN_0\": [{\"localAddress\": \"10.0.2.4\", \"network\": "
	    "\"192.168.2.0/23\", \"nextHop\": \"10.0.1.4\", \"sourcePeer\": \"10.0.1.4\", \"origin\": \"EBgp\","
	    " \"asPath\": \"65001\", \"weight\": 32768}], \"RouteServiceRole_IN_1\": [{\"localAddress\": "
	    "\"10.0.2.5\", \"network\": \"192.168.2.0/23\", \"nextHop\": \"10.0.1.4\", \"asPath\": \"65001\","
	    " \"weight\": 32768}]},"
	    "\"advertised\": {\"value\": [{\"network\": \"10.0.0.0/16\", \"asPath\": \"65515\"}]}}}}}");
	struct topo_bgp_connection *c = topology_find_bgp_connection(t, ARS1 "/bgpConnections/nva1");
	char buf[CIDR_STRLEN];

	ck_assert_ptr_nonnull(c);
	ck_assert(c->learned.observed);
	ck_assert(c->learned.by_instance);
	ck_assert_uint_eq(c->learned.n, 2);
	ck_assert_str_eq(c->learned.v[0].instance, "RouteServiceRole_IN_0");
	ck_assert_str_eq(c->learned.v[1].instance, "RouteServiceRole_IN_1");
	cidr_format(&c->learned.v[0].network, buf);
	ck_assert_str_eq(buf, "192.168.2.0/23");
	ck_assert_str_eq(c->learned.v[0].as_path, "65001");
	ck_assert_int_eq(c->learned.v[0].weight, 32768);
	ck_assert_str_eq(c->learned.v[0].origin, "EBgp");
	ck_assert(c->advertised.observed);
	ck_assert(!c->advertised.by_instance);
	ck_assert_uint_eq(c->advertised.n, 1);
	ck_assert_ptr_null(c->advertised.v[0].instance);
	ck_assert_int_eq(c->server->asn, ARS_ASN);
	ck_assert(!c->server->allow_branch_to_branch);
	topology_free(t);
}
END_TEST

START_TEST(test_a_virtual_wan_hub_is_not_a_route_server)
{
	struct topology *t = test_topology(DOC_HEAD
	    "{\"id\": \"" NET "/virtualHubs/vwanhub\", \"type\": \"Microsoft.Network/virtualHubs\","
	    " \"properties\": {\"virtualWan\": {\"id\": \"" NET "/virtualWans/wan\"}, \"addressPrefix\": \"10.9.0.0/23\"}},"
	    BGP("vwanhub", "b", "{\"peerIp\": \"10.9.8.4\", \"peerAsn\": 65010,"
	    " \"hubVirtualNetworkConnection\": {\"id\": \"" NET "/virtualHubs/vwanhub/hubVirtualNetworkConnections/c\"}}")
	    "," HUB("ars", ", \"hubRoutingPreference\": \"ASPath\", \"allowBranchToBranchTraffic\": \"True\"") "]}");

	ck_assert_uint_eq(t->nroute_servers, 1);
	ck_assert_uint_eq(t->nbgp_connections, 0);
	ck_assert_ptr_null(topology_find_route_server(t, NET "/virtualHubs/vwanhub"));
	ck_assert_int_eq(t->route_servers[0].preference, HUB_PREF_AS_PATH);
	ck_assert(t->route_servers[0].allow_branch_to_branch);
	ck_assert_str_eq(topo_hub_preference_name(HUB_PREF_VPN_GATEWAY), "VpnGateway");
	topology_free(t);
}
END_TEST

START_TEST(test_dangling_route_server_references_are_warnings)
{
	struct topology *t = test_topology(DOC_HEAD
	    BGP("gone", "nva1", "{\"peerIp\": \"10.0.1.4\", \"peerAsn\": 65001}") "],"
	    "\"declared\": {\"nvas\": [{\"name\": \"nva1\", \"ips\": [\"10.0.1.4\"], \"asn\": 65001,"
	    " \"peers\": [{\"routeServer\": \"" NET "/virtualHubs/gone\"}]}]}}");

	ck_assert_uint_eq(t->nwarnings, 2);
	ck_assert_str_eq(t->warnings[0].pointer, "/resources/0/id");
	ck_assert(strstr(t->warnings[0].message, "route server of") != NULL);
	ck_assert_str_eq(t->warnings[1].pointer, "/declared/nvas/0/peers/0/routeServer");
	ck_assert_ptr_null(t->nvas[0].peers[0].connection);
	topology_free(t);
}
END_TEST

static void
assert_rejected(const char *doc, const char *msg)
{
	struct nw_err e = test_topology_error(doc);

	ck_assert_int_eq(e.code, NW_EINPUT);
	ck_assert_str_eq(e.msg, msg);
}

START_TEST(test_bad_route_server_input_names_the_pointer)
{
	assert_rejected(DOC_HEAD HUB("ars1", ", \"hubRoutingPreference\": \"Fastest\"") "]}",
	    "<test>: /resources/0/properties/hubRoutingPreference: unknown preference \"Fastest\" "
	    "(ExpressRoute, VpnGateway or ASPath)");
	assert_rejected(DOC_HEAD HUB("ars1", ", \"virtualRouterIps\": [\"10.0.2.4\", 7]") "]}",
	    "<test>: /resources/0/properties/virtualRouterIps/1: expected an IP address string, found an integer");
	assert_rejected(DOC_HEAD HUB("ars1", ", \"virtualRouterAsn\": \"65515\"") "]}",
	    "<test>: /resources/0/properties/virtualRouterAsn: expected an integer, found a string");
	assert_rejected(DOC_HEAD HUB("ars1", "") "," BGP("ars1", "p", "{\"peerAsn\": 65001}") "]}",
	    "<test>: /resources/1/properties: \"peerIp\" is missing");
	assert_rejected(DOC_HEAD HUB("ars1", "") "," BGP("ars1", "p", "{\"peerIp\": \"10.0.1.4\"}") "]}",
	    "<test>: /resources/1/properties: \"peerAsn\" is missing");
	assert_rejected(DOC_HEAD HUB("ars1", "") "," BGP("ars1", "p", "{\"peerIp\": \"10.0.1.4\", \"peerAsn\": -1}") "]}",
	    "<test>: /resources/1/properties/peerAsn: -1 is out of range (0 to 4294967295)");
}
END_TEST

START_TEST(test_bad_declared_nvas_and_observed_routes_name_the_pointer)
{
	assert_rejected(DOC_HEAD "], \"declared\": {\"nvas\": [{\"name\": \"n\", \"ips\": [\"10.0.1.4\"]}]}}",
	    "<test>: /declared/nvas/0: NVA \"n\" has no \"asn\"");
	assert_rejected(DOC_HEAD "], \"declared\": {\"nvas\": [{\"name\": \"n\", \"asn\": 65001}]}}",
	    "<test>: /declared/nvas/0: NVA \"n\" has no \"ips\" to peer from");
	assert_rejected(DOC_HEAD "], \"declared\": {\"nvas\": [{\"name\": \"n\", \"ips\": [\"10.0.1.4\"],"
	    " \"asn\": 65001, \"peers\": [{\"routeServer\": \"x\", \"prepend\": 17}]}]}}",
	    "<test>: /declared/nvas/0/peers/0/prepend: 17 is out of range (0 to 16)");
	assert_rejected(DOC_HEAD "], \"declared\": {\"nvas\": [{\"name\": \"n\", \"ips\": [\"10.0.1.4\"],"
	    " \"asn\": 65001, \"peers\": [{\"routeServer\": \"x\", \"advertise\": [\"10.0.0.0/33\"]}]}]}}",
	    "<test>: /declared/nvas/0/peers/0/advertise/0: invalid prefix \"10.0.0.0/33\": length 33 "
	    "is out of range for IPv4 (0 to 32)");
	assert_rejected(DOC_HEAD "], \"declared\": {\"nvas\": [{\"name\": \"n\", \"ips\": [\"10.0.1.4\"],"
	    " \"asn\": 65001}, {\"name\": \"N\", \"ips\": [\"10.0.1.5\"], \"asn\": 65001}]}}",
	    "<test>: /declared/nvas/1/name: NVA \"N\" is declared twice");
	assert_rejected(DOC_HEAD "], \"declared\": {\"nvas\": {}}}",
	    "<test>: /declared/nvas: expected an array, found an object");
	assert_rejected(DOC_HEAD "], \"observed\": {\"bgpRoutes\": {\"x\": {\"learned\": "
	    "{\"RouteServiceRole_IN_0\": [{\"asPath\": \"65001\"}]}}}}}",
	    "<test>: /observed/bgpRoutes/x/learned/RouteServiceRole_IN_0/0: route has no \"network\"");
	assert_rejected(DOC_HEAD "], \"observed\": {\"bgpRoutes\": {\"x\": {\"advertised\": "
	    "{\"value\": {}}}}}}",
	    "<test>: /observed/bgpRoutes/x/advertised/value: expected an array of routes, found an object");
}
END_TEST

/* What discovery stores (providers/azure/discover_ars.c) is what the loader reads. */
START_TEST(test_discovered_bgp_answers_load_back_as_observed_routes)
{
	json_t *doc, *routes = json_object(), *resources;
	json_t *answer = json_pack("{s:[{s:s, s:s, s:s, s:s, s:s, s:s, s:i}], s:[]}",
	    "RouteServiceRole_IN_0", "localAddress", "10.1.2.4", "network", "192.168.0.0/24",
	    "nextHop", "10.0.1.4", "sourcePeer", "10.0.1.4", "origin", "EBgp", "asPath", "65001-65001",
	    "weight", 32768, "RouteServiceRole_IN_1");
	json_t *bad = json_pack("{s:{}}", "RouteServiceRole_IN_0");
	json_error_t je;
	struct topology *t = NULL;
	struct nw_err err = { 0 };
	struct topo_bgp_connection *c;
	char *path = NULL, low[512];
	size_t i;
	json_t *r;

	doc = json_load_file(test_data_path("bgp/option-a.json"), 0, &je);
	ck_assert_ptr_nonnull(doc);
	resources = json_object();
	json_array_foreach(json_object_get(doc, "resources"), i, r) {
		snprintf(low, sizeof(low), "%s", json_string_value(json_object_get(r, "id")));
		for (char *p = low; *p != '\0'; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		json_object_set(resources, low, r);
	}
	r = json_object_get(resources, "/subscriptions/11111111-2222-4333-8444-555555555555/resourcegroups/"
	    "rg-net/providers/microsoft.network/virtualhubs/ars2/bgpconnections/nva1");
	ck_assert(az_ars_is_bgp_connection(resources, r));
	ck_assert(!az_ars_is_bgp_connection(resources, json_object_get(resources,
	    "/subscriptions/11111111-2222-4333-8444-555555555555/resourcegroups/rg-net/providers/"
	    "microsoft.network/virtualhubs/ars2")));
	ck_assert(az_ars_is_route_server(json_object_get(resources, "/subscriptions/11111111-2222-4333-8444-"
	    "555555555555/resourcegroups/rg-net/providers/microsoft.network/virtualhubs/ars2")));
	ck_assert_int_eq(az_ars_routes_path(&path, ARS2 "/bgpConnections/nva1", true), 0);
	ck_assert_ptr_nonnull(strstr(path, "/bgpConnections/nva1/advertisedRoutes?api-version="));
	free(path);
	ck_assert_int_eq(az_ars_store(routes, ARS2 "/bgpConnections/nva1", false, answer), 0);
	ck_assert_int_eq(az_ars_store(routes, ARS2 "/bgpConnections/nva1", true, bad), -1);
	json_object_set_new(json_object_get(doc, "observed"), "bgpRoutes", routes);
	ck_assert_msg(topology_load_json(&t, doc, "<test>", &err) == 0, "%s", err.msg);
	c = topology_find_bgp_connection(t, ARS2 "/bgpConnections/nva1");
	ck_assert(c->learned.observed);
	ck_assert(c->learned.by_instance);
	ck_assert_uint_eq(c->learned.n, 1);
	ck_assert(!c->advertised.observed);
	topology_free(t);
	json_decref(resources);
	json_decref(answer);
	json_decref(bad);
}
END_TEST

int
main(void)
{
	const TTest *const topology_ars_tests[] = {
		TEST_CASE("load", 0),
		test_route_servers_load_with_their_children_and_vnet,
		test_declared_nvas_link_each_peering_to_its_bgp_connection,
		test_learned_routes_read_both_answer_shapes,
		test_a_virtual_wan_hub_is_not_a_route_server,
		test_dangling_route_server_references_are_warnings,
		test_discovered_bgp_answers_load_back_as_observed_routes,
		TEST_CASE("bad", 0),
		test_bad_route_server_input_names_the_pointer,
		test_bad_declared_nvas_and_observed_routes_name_the_pointer,
		NULL,
	};

	return test_main("topology_ars", topology_ars_tests);
}
