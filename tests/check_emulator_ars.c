/*
 * Azure Route Server in the emulator, driven over HTTP with libcurl as a
 * client would: a route server (virtualHubs without virtualWan) created,
 * provisioned by its ipConfiguration in RouteServerSubnet, peered with NVAs
 * by bgpConnections, asked for its learned and advertised routes, and
 * deleted; every check ARM makes on the way, with status codes and bodies.
 * Each test starts an in-process emulator on 127.0.0.1 seeded from inline
 * JSON (a hub VNet, public IPs and two declared NVAs).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <curl/curl.h>
#include <jansson.h>

#include "plan/jsonutil.h"
#include "providers/emulator/emulator.h"
#include "tests/testhttp.h"
#include "tests/testutil.h"

#define SUB "00000000-0000-0000-0000-000000000001"
#define RG "/subscriptions/" SUB "/resourceGroups/rg-net"
#define NET RG "/providers/Microsoft.Network"
#define API "?api-version=2026-01-01"
#define HUB NET "/virtualHubs/ars1"

/* --- the estate --------------------------------------------------------------- */

static json_t *
subnet(const char *vnet, const char *name, const char *prefix)
{
	return json_pack("{s:s,s:o,s:{s:s}}", "name", name, "id",
	    json_sprintf("%s/virtualNetworks/%s/subnets/%s", NET, vnet, name), "properties",
	    "addressPrefix", prefix);
}

static json_t *
vnet(const char *name, const char *space, json_t *subnets)
{
	return json_pack("{s:o,s:s,s:s,s:s,s:{s:{s:[s]},s:o,s:[]}}", "id",
	    json_sprintf("%s/virtualNetworks/%s", NET, name), "name", name, "type",
	    "Microsoft.Network/virtualNetworks", "location", "eastus", "properties", "addressSpace",
	    "addressPrefixes", space, "subnets", subnets, "virtualNetworkPeerings");
}

static json_t *
pip(const char *name, const char *sku)
{
	return json_pack("{s:o,s:s,s:s,s:s,s:{s:s},s:{s:s}}", "id",
	    json_sprintf("%s/publicIPAddresses/%s", NET, name), "name", name, "type",
	    "Microsoft.Network/publicIPAddresses", "location", "eastus", "sku", "name", sku,
	    "properties", "publicIPAllocationMethod", "Static");
}

/*
 * hub 10.0.0.0/16 (RouteServerSubnet 10.0.2.0/27, nva 10.0.1.0/24, other
 * 10.0.3.0/24 with a VM's NIC at 10.0.3.4), hub2
 * with a /28 RouteServerSubnet, hub3 with a second route server's subnet;
 * NVAs nva1 at 10.0.1.4 (AS 65001, two prefixes to ars1, prepended once)
 * and nva2 at 10.0.1.5 (AS 65002, 172.16.0.0/16).
 */
static json_t *
seed(void)
{
	json_t *doc = json_pack("{s:s,s:s,s:[s],s:[],s:{},s:{s:[{s:s,s:I,s:[s],s:[{s:s,s:[s,s],s:i}]},"
	    "{s:s,s:I,s:[s],s:[{s:s,s:[s]}]}]}}",
	    "format", "netwave.topology/v1", "cloud", "AzureCloud", "subscriptions", SUB, "resources",
	    "observed", "declared", "nvas",
	    "name", "nva1", "asn", (json_int_t)65001, "ips", "10.0.1.4", "peers", "routeServer", HUB,
	    "advertise", "192.168.0.0/24", "192.168.1.0/24", "prepend", 1,
	    "name", "nva2", "asn", (json_int_t)65002, "ips", "10.0.1.5", "peers", "routeServer", HUB,
	    "advertise", "172.16.0.0/16");
	json_t *res = json_object_get(doc, "resources");

	json_array_append_new(res, vnet("hub", "10.0.0.0/16", json_pack("[o,o,o]",
	    subnet("hub", "RouteServerSubnet", "10.0.2.0/27"), subnet("hub", "nva", "10.0.1.0/24"),
	    subnet("hub", "other", "10.0.3.0/24"))));
	json_array_append_new(res, vnet("hub2", "10.2.0.0/16", json_pack("[o]",
	    subnet("hub2", "RouteServerSubnet", "10.2.0.0/28"))));
	json_array_append_new(res, pip("pip-std", "Standard"));
	json_array_append_new(res, pip("pip-std2", "Standard"));
	json_array_append_new(res, pip("pip-basic", "Basic"));
	json_array_append_new(res, test_seed_nic("vm-nic", "10.0.3.4",
	    NET "/virtualNetworks/hub/subnets/other"));
	return doc;
}

/* An emulator seeded with doc (stolen). */
static struct emulator *
start_doc_scaled(json_t *doc, double time_scale)
{
	struct emulator_opts o = { .no_auth = true, .time_scale = time_scale, .rng_seed = 42 };
	struct emulator *e = NULL;
	struct nw_err err = { 0 };

	o.seed_json = doc;
	ck_assert_msg(emulator_start(&e, &o, &err) == 0, "emulator did not start: %s", err.msg);
	json_decref(doc);
	return e;
}

static struct emulator *
start_doc(json_t *doc)
{
	return start_doc_scaled(doc, 100000);
}

static struct emulator *
start(void)
{
	return start_doc(seed());
}

/* An emulator seeded with a file under tests/data. */
static struct emulator *
start_file(const char *rel)
{
	json_error_t je;
	json_t *doc = json_load_file(test_data_path(rel), 0, &je);

	ck_assert_msg(doc != NULL, "%s: %s", rel, je.text);
	return start_doc(doc);
}

/* --- HTTP ----------------------------------------------------------------------- */

static struct test_resp
call(struct emulator *e, const char *method, const char *url, const char *body)
{
	struct test_resp r = test_http(emulator_base_url(e), method, url, body, NULL);

	ck_assert_int_eq(r.rc, CURLE_OK);
	return r;
}

static const char *
code(const struct test_resp *r)
{
	const char *c = json_path_str(r->json, "error", "code", NULL);
	return c != NULL ? c : "(none)";
}

static const char *
prop(const struct test_resp *r, const char *name)
{
	return json_path_str(r->json, "properties", name, NULL);
}

/* Follows a Location URL until it stops answering 202 (bounded); the last answer. */
static struct test_resp
follow(struct emulator *e, const struct test_resp *started)
{
	const char *location = test_resp_header(started, "location");
	int i;

	ck_assert_msg(location != NULL, "no Location header (status %ld: %s)",
	    started->status, started->body != NULL ? started->body : "");
	for (i = 0; i < 1000; i++) {
		struct test_resp r = call(e, "GET", location, NULL);

		if (r.status != 202)
			return r;
		test_resp_free(&r);
		usleep(5000);
	}
	ck_abort_msg("operation %s did not finish", location);
	return (struct test_resp){ 0 };
}

/* Asserts the status of one call, then frees its answer. */
static void
expect_status(struct emulator *e, const char *method, const char *url, const char *body, long status)
{
	struct test_resp r = call(e, method, url, body);

	ck_assert_msg(r.status == status, "%s %s: status %ld, wanted %ld: %s", method, url, r.status,
	    status, r.body != NULL ? r.body : "");
	test_resp_free(&r);
}

/* Asserts that the list at url has n entries in its "value". */
static void
expect_list_size(struct emulator *e, const char *url, size_t n)
{
	struct test_resp r = call(e, "GET", url, NULL);

	ck_assert_uint_eq(json_array_size(json_object_get(r.json, "value")), n);
	test_resp_free(&r);
}

/* POSTs the action at url, which is accepted (202), and follows it to its answer (200). */
static struct test_resp
post_action(struct emulator *e, const char *url)
{
	struct test_resp r = call(e, "POST", url, NULL), d;

	ck_assert_int_eq(r.status, 202);
	d = follow(e, &r);
	ck_assert_int_eq(d.status, 200);
	test_resp_free(&r);
	return d;
}

/* A write that must be accepted and then succeed; the final answer is dropped. */
static void
write_ok(struct emulator *e, const char *method, const char *url, const char *body, long want)
{
	struct test_resp r = call(e, method, url, body), d;

	ck_assert_msg(r.status == want, "%s %s: status %ld, wanted %ld: %s", method, url, r.status,
	    want, r.body != NULL ? r.body : "");
	if (test_resp_header(&r, "location") != NULL) {
		d = follow(e, &r);
		ck_assert_msg(d.status == 200 || d.status == 204, "%s %s ended %ld: %s", method, url,
		    d.status, d.body != NULL ? d.body : "");
		test_resp_free(&d);
	}
	test_resp_free(&r);
}

/* A write refused with 400 and this code. */
static void
refused(struct emulator *e, const char *url, const char *body, const char *want)
{
	struct test_resp r = call(e, "PUT", url, body);

	ck_assert_msg(r.status == 400, "PUT %s: status %ld, wanted 400: %s", url, r.status,
	    r.body != NULL ? r.body : "");
	ck_assert_str_eq(code(&r), want);
	ck_assert_ptr_nonnull(json_path_str(r.json, "error", "message", NULL));
	test_resp_free(&r);
}

#define HUB_BODY "{\"location\":\"eastus\",\"properties\":{\"sku\":\"Standard\",\"allowBranchToBranchTraffic\":true}}"
#define IPC_BODY(sn, p) "{\"properties\":{\"subnet\":{\"id\":\"" NET "/virtualNetworks/" sn \
	"\"},\"publicIPAddress\":{\"id\":\"" NET "/publicIPAddresses/" p "\"}}}"
#define BGP_BODY(ip, asn) "{\"properties\":{\"peerIp\":\"" ip "\",\"peerAsn\":" asn "}}"

/* ars1 created and provisioned in hub's RouteServerSubnet. */
static void
deploy(struct emulator *e)
{
	write_ok(e, "PUT", HUB API, HUB_BODY, 201);
	write_ok(e, "PUT", HUB "/ipConfigurations/ipconfig1" API,
	    IPC_BODY("hub/subnets/RouteServerSubnet", "pip-std"), 201);
}

/* --- the tests ------------------------------------------------------------------- */

START_TEST(test_a_route_server_is_provisioned_by_its_ip_configuration)
{
	/* a scale that leaves the route server's 30 minutes 1.8 s, to see it deploying */
	struct emulator *e = start_doc_scaled(seed(), 1000);
	struct test_resp r, g, d;
	long op_status;

	r = call(e, "PUT", HUB API, HUB_BODY);
	ck_assert_int_eq(r.status, 201);
	ck_assert_msg(test_resp_header(&r, "azure-asyncoperation") != NULL,
	    "no Azure-AsyncOperation header");
	ck_assert_str_eq(json_str(r.json, "type"), "Microsoft.Network/virtualHubs");
	ck_assert_str_eq(prop(&r, "provisioningState"), "Updating");
	ck_assert_str_eq(prop(&r, "sku"), "Standard");
	ck_assert_str_eq(prop(&r, "hubRoutingPreference"), "ExpressRoute");
	ck_assert_str_eq(prop(&r, "routingState"), "None");
	ck_assert_int_eq(json_integer_value(json_path(r.json, "properties", "virtualRouterAsn", NULL)),
	    65515);
	ck_assert_int_eq(json_array_size(json_path(r.json, "properties", "virtualRouterIps", NULL)), 0);
	d = follow(e, &r);
	ck_assert_int_eq(d.status, 200);
	ck_assert_str_eq(prop(&d, "provisioningState"), "Succeeded");
	test_resp_free(&d);
	test_resp_free(&r);

	r = call(e, "PUT", HUB "/ipConfigurations/ipconfig1" API,
	    IPC_BODY("hub/subnets/RouteServerSubnet", "pip-std"));
	ck_assert_int_eq(r.status, 201);
	ck_assert_str_eq(json_str(r.json, "type"), "Microsoft.Network/virtualHubs/ipConfigurations");
	/*
	 * While the instances deploy the hub says so, without addresses yet.
	 * Whether the hub was read before the operation was due is known only
	 * from the operation read after it: still running (202) means it was.
	 * On a machine too busy to read it within 1.8 s, the hub must instead
	 * agree that the operation is over.
	 */
	g = call(e, "GET", HUB API, NULL);
	d = call(e, "GET", test_resp_header(&r, "location"), NULL);
	op_status = d.status;
	test_resp_free(&d);
	if (op_status == 202) {
		ck_assert_str_eq(prop(&g, "routingState"), "Provisioning");
		ck_assert_int_eq(json_array_size(json_path(g.json, "properties", "virtualRouterIps",
		    NULL)), 0);
	} else
		ck_assert_msg(strcmp(prop(&g, "routingState"), "Provisioning") == 0 ||
		    strcmp(prop(&g, "routingState"), "Provisioned") == 0, "routingState %s",
		    prop(&g, "routingState"));
	ck_assert_str_eq(json_str(json_array_get(json_path(g.json, "properties", "ipConfigurations",
	    NULL), 0), "id"), HUB "/ipConfigurations/ipconfig1");
	test_resp_free(&g);
	d = follow(e, &r);
	ck_assert_int_eq(d.status, 200);
	test_resp_free(&d);
	test_resp_free(&r);

	g = call(e, "GET", HUB API, NULL);
	ck_assert_int_eq(g.status, 200);
	ck_assert_str_eq(prop(&g, "routingState"), "Provisioned");
	ck_assert_str_eq(json_string_value(json_array_get(json_path(g.json, "properties",
	    "virtualRouterIps", NULL), 0)), "10.0.2.4");
	ck_assert_str_eq(json_string_value(json_array_get(json_path(g.json, "properties",
	    "virtualRouterIps", NULL), 1)), "10.0.2.5");
	ck_assert(json_is_true(json_path(g.json, "properties", "allowBranchToBranchTraffic", NULL)));
	test_resp_free(&g);
	/* listed in the group, the subscription and under the hub */
	expect_list_size(e, NET "/virtualHubs" API, 1);
	expect_list_size(e, "/subscriptions/" SUB "/providers/Microsoft.Network/virtualHubs" API, 1);
	expect_list_size(e, HUB "/ipConfigurations" API, 1);
	emulator_stop(e);
}
END_TEST

START_TEST(test_a_hub_body_is_checked_as_a_route_server)
{
	struct emulator *e = start();

	refused(e, HUB API, "{\"location\":\"eastus\",\"properties\":{\"sku\":\"Basic\"}}",
	    "InvalidRequestFormat");
	refused(e, HUB API, "{\"location\":\"eastus\",\"properties\":{\"hubRoutingPreference\":\"Nearest\"}}",
	    "InvalidRequestFormat");
	refused(e, HUB API, "{\"location\":\"eastus\",\"properties\":{\"virtualWan\":{\"id\":\"" NET
	    "/virtualWans/w\"}}}", "InvalidRequestFormat");
	refused(e, HUB API, "{\"properties\":{}}", "LocationRequired");
	emulator_stop(e);
}
END_TEST

START_TEST(test_an_ip_configuration_needs_route_server_subnet_and_a_standard_ip)
{
	struct emulator *e = start();
	struct test_resp r;

	write_ok(e, "PUT", HUB API, HUB_BODY, 201);
	refused(e, HUB "/ipConfigurations/c" API, IPC_BODY("hub/subnets/other", "pip-std"),
	    "RouteServerSubnetNameInvalid");
	refused(e, HUB "/ipConfigurations/c" API, IPC_BODY("hub2/subnets/RouteServerSubnet", "pip-std"),
	    "RouteServerSubnetTooSmall");
	refused(e, HUB "/ipConfigurations/c" API, IPC_BODY("hub/subnets/RouteServerSubnet", "pip-basic"),
	    "RouteServerPublicIpSkuNotStandard");
	refused(e, HUB "/ipConfigurations/c" API, IPC_BODY("hub/subnets/RouteServerSubnet", "nope"),
	    "InvalidResourceReference");
	refused(e, HUB "/ipConfigurations/c" API, IPC_BODY("hub/subnets/Absent", "pip-std"),
	    "InvalidResourceReference");
	refused(e, HUB "/ipConfigurations/c" API, "{\"properties\":{\"subnet\":{\"id\":\"" NET
	    "/virtualNetworks/hub/subnets/RouteServerSubnet\"}}}",
	    "PublicIpAddressRequiredForRouteServer");
	/* nothing was written by the refusals */
	expect_list_size(e, HUB "/ipConfigurations" API, 0);
	write_ok(e, "PUT", HUB "/ipConfigurations/c" API,
	    IPC_BODY("hub/subnets/RouteServerSubnet", "pip-std"), 201);
	/* one per route server; one route server per VNet */
	refused(e, HUB "/ipConfigurations/d" API, IPC_BODY("hub/subnets/RouteServerSubnet", "pip-std2"),
	    "VirtualHubIpConfigurationLimitReached");
	write_ok(e, "PUT", NET "/virtualHubs/ars2" API, HUB_BODY, 201);
	refused(e, NET "/virtualHubs/ars2/ipConfigurations/c" API,
	    IPC_BODY("hub/subnets/RouteServerSubnet", "pip-std2"), "OnlyOneRouteServerPerVirtualNetwork");
	/* a child of a hub that is not there */
	r = call(e, "PUT", NET "/virtualHubs/absent/ipConfigurations/c" API,
	    IPC_BODY("hub/subnets/RouteServerSubnet", "pip-std"));
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(code(&r), "ParentResourceNotFound");
	test_resp_free(&r);
	emulator_stop(e);
}
END_TEST

START_TEST(test_bgp_connections_refuse_reserved_asns_and_a_ninth_peer)
{
	struct emulator *e = start();
	static const char *const reserved[] = { "65515", "65517", "65520", "8075", "12076", "23456",
		"64500", "65535", "65551" };
	struct test_resp r;
	size_t i;

	deploy(e);
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		char body[128];

		snprintf(body, sizeof(body), BGP_BODY("10.0.1.4", "%s"), reserved[i]);
		refused(e, HUB "/bgpConnections/p" API, body, "PeerAsnIsReserved");
	}
	refused(e, HUB "/bgpConnections/p" API, BGP_BODY("10.0.1.999", "65001"), "InvalidRequestFormat");
	refused(e, HUB "/bgpConnections/p" API, "{\"properties\":{\"peerIp\":\"10.0.1.4\"}}",
	    "InvalidRequestFormat");
	refused(e, HUB "/bgpConnections/p" API, BGP_BODY("10.0.1.4", "4294967296"),
	    "InvalidRequestFormat");
	/* a declared NVA answers; an address with no NVA behind it does not */
	write_ok(e, "PUT", HUB "/bgpConnections/nva1" API, BGP_BODY("10.0.1.4", "65001"), 201);
	r = call(e, "GET", HUB "/bgpConnections/nva1" API, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(prop(&r, "connectionState"), "Connected");
	ck_assert_str_eq(prop(&r, "peerIp"), "10.0.1.4");
	ck_assert_int_eq(json_integer_value(json_path(r.json, "properties", "peerAsn", NULL)), 65001);
	test_resp_free(&r);
	for (i = 2; i <= 8; i++) {
		char url[256], body[128];

		snprintf(url, sizeof(url), HUB "/bgpConnections/peer%zu" API, i);
		snprintf(body, sizeof(body), BGP_BODY("10.0.1.%zu", "65010"), 20 + i);
		write_ok(e, "PUT", url, body, 201);
	}
	r = call(e, "GET", HUB "/bgpConnections/peer2" API, NULL);
	ck_assert_str_eq(prop(&r, "connectionState"), "Connecting");
	test_resp_free(&r);
	refused(e, HUB "/bgpConnections/peer9" API, BGP_BODY("10.0.1.40", "65010"),
	    "VirtualHubBgpConnectionLimitReached");
	/* an update of one of the eight is no ninth */
	write_ok(e, "PUT", HUB "/bgpConnections/peer8" API, BGP_BODY("10.0.1.41", "65011"), 200);
	r = call(e, "GET", HUB API, NULL);
	ck_assert_int_eq(json_array_size(json_path(r.json, "properties", "bgpConnections", NULL)), 8);
	test_resp_free(&r);
	expect_list_size(e, HUB "/bgpConnections" API, 8);
	emulator_stop(e);
}
END_TEST

/* The instance's list of an answer, and the route for network in it. */
static json_t *
route_for(const struct test_resp *r, const char *instance, const char *network)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(r->json, instance), i, v)
		if (json_str(v, "network") != NULL && strcmp(json_str(v, "network"), network) == 0)
			return v;
	return NULL;
}

START_TEST(test_learned_and_advertised_routes_are_keyed_by_instance)
{
	struct emulator *e = start();
	struct test_resp r, d;
	json_t *rt;

	deploy(e);
	write_ok(e, "PUT", HUB "/bgpConnections/nva1" API, BGP_BODY("10.0.1.4", "65001"), 201);
	write_ok(e, "PUT", HUB "/bgpConnections/nva2" API, BGP_BODY("10.0.1.5", "65002"), 201);
	write_ok(e, "PUT", HUB "/bgpConnections/ghost" API, BGP_BODY("10.0.1.66", "65066"), 201);

	r = call(e, "POST", HUB "/bgpConnections/nva1/learnedRoutes" API, NULL);
	ck_assert_int_eq(r.status, 202);
	d = follow(e, &r);
	ck_assert_int_eq(d.status, 200);
	ck_assert_int_eq(json_object_size(d.json), 2);
	ck_assert_int_eq(json_array_size(json_object_get(d.json, "RouteServiceRole_IN_0")), 2);
	rt = route_for(&d, "RouteServiceRole_IN_0", "192.168.1.0/24");
	ck_assert_ptr_nonnull(rt);
	ck_assert_str_eq(json_str(rt, "localAddress"), "10.0.2.4");
	ck_assert_str_eq(json_str(rt, "nextHop"), "10.0.1.4");
	ck_assert_str_eq(json_str(rt, "sourcePeer"), "10.0.1.4");
	ck_assert_str_eq(json_str(rt, "asPath"), "65001-65001");
	ck_assert_str_eq(json_str(rt, "origin"), "EBgp");
	ck_assert_int_eq(json_integer_value(json_object_get(rt, "weight")), 32768);
	rt = route_for(&d, "RouteServiceRole_IN_1", "192.168.0.0/24");
	ck_assert_ptr_nonnull(rt);
	ck_assert_str_eq(json_str(rt, "localAddress"), "10.0.2.5");
	test_resp_free(&d);
	test_resp_free(&r);

	/* to nva1: the VNet's space, and what nva2 gave, behind 65515 */
	r = call(e, "POST", HUB "/bgpConnections/nva1/advertisedRoutes" API, NULL);
	ck_assert_int_eq(r.status, 202);
	d = follow(e, &r);
	ck_assert_int_eq(d.status, 200);
	rt = route_for(&d, "RouteServiceRole_IN_0", "10.0.0.0/16");
	ck_assert_ptr_nonnull(rt);
	ck_assert_str_eq(json_str(rt, "asPath"), "65515");
	ck_assert_str_eq(json_str(rt, "nextHop"), "10.0.2.4");
	rt = route_for(&d, "RouteServiceRole_IN_1", "172.16.0.0/16");
	ck_assert_ptr_nonnull(rt);
	ck_assert_str_eq(json_str(rt, "asPath"), "65515-65002");
	ck_assert_str_eq(json_str(rt, "nextHop"), "10.0.2.5");
	/* its own routes are not sent back to it */
	ck_assert_ptr_null(route_for(&d, "RouteServiceRole_IN_0", "192.168.0.0/24"));
	test_resp_free(&d);
	test_resp_free(&r);

	/* a peer with no NVA behind it: no session, nothing learned */
	r = call(e, "POST", HUB "/bgpConnections/ghost/learnedRoutes" API, NULL);
	d = follow(e, &r);
	ck_assert_int_eq(d.status, 200);
	ck_assert_int_eq(json_array_size(json_object_get(d.json, "RouteServiceRole_IN_0")), 0);
	test_resp_free(&d);
	test_resp_free(&r);

	/* the action by GET, or on a connection that is not there */
	expect_status(e, "GET", HUB "/bgpConnections/nva1/learnedRoutes" API, NULL, 405);
	expect_status(e, "POST", HUB "/bgpConnections/absent/learnedRoutes" API, NULL, 404);
	emulator_stop(e);
}
END_TEST

START_TEST(test_a_hub_goes_after_its_ip_configuration_and_takes_its_connections)
{
	struct emulator *e = start();
	struct test_resp r;

	deploy(e);
	write_ok(e, "PUT", HUB "/bgpConnections/nva1" API, BGP_BODY("10.0.1.4", "65001"), 201);
	r = call(e, "DELETE", HUB API, NULL);
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(code(&r), "VirtualHubHasIpConfigurations");
	test_resp_free(&r);
	write_ok(e, "DELETE", HUB "/ipConfigurations/ipconfig1" API, NULL, 202);
	r = call(e, "GET", HUB API, NULL);
	ck_assert_str_eq(prop(&r, "routingState"), "None");
	ck_assert_int_eq(json_array_size(json_path(r.json, "properties", "virtualRouterIps", NULL)), 0);
	ck_assert_int_eq(json_array_size(json_path(r.json, "properties", "ipConfigurations", NULL)), 0);
	test_resp_free(&r);
	/* the router is gone: the session is down */
	r = call(e, "GET", HUB "/bgpConnections/nva1" API, NULL);
	ck_assert_str_eq(prop(&r, "connectionState"), "Connecting");
	test_resp_free(&r);
	write_ok(e, "DELETE", HUB API, NULL, 202);
	expect_status(e, "GET", HUB API, NULL, 404);
	expect_status(e, "GET", HUB "/bgpConnections/nva1" API, NULL, 404);
	/* deleting what is not there is 204 */
	expect_status(e, "DELETE", HUB "/bgpConnections/nva1" API, NULL, 204);
	emulator_stop(e);
}
END_TEST

/* The NIC's effective route for prefix, from a finished effectiveRouteTable (NULL: none). */
static json_t *
effective_for(const struct test_resp *r, const char *prefix)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(r->json, "value"), i, v)
		if (strcmp(json_string_value(json_array_get(json_object_get(v, "addressPrefix"), 0)),
		    prefix) == 0)
			return v;
	return NULL;
}

static struct test_resp
effective(struct emulator *e)
{
	return post_action(e, NET "/networkInterfaces/vm-nic/effectiveRouteTable" API);
}

START_TEST(test_a_nic_in_the_route_servers_vnet_gets_the_nva_routes_it_learned)
{
	struct emulator *e = start();
	struct test_resp d;
	json_t *rt;

	deploy(e);
	/* no session yet: nothing injected */
	d = effective(e);
	ck_assert_ptr_null(effective_for(&d, "192.168.0.0/24"));
	ck_assert_ptr_nonnull(effective_for(&d, "10.0.0.0/16"));
	test_resp_free(&d);
	write_ok(e, "PUT", HUB "/bgpConnections/nva1" API, BGP_BODY("10.0.1.4", "65001"), 201);
	/* Learn, Route Server overview: the learned routes are programmed into the VMs of the
	 * VNet, shown as source and next hop type VirtualNetworkGateway, next hop the NVA */
	d = effective(e);
	rt = effective_for(&d, "192.168.0.0/24");
	ck_assert_ptr_nonnull(rt);
	ck_assert_str_eq(json_str(rt, "source"), "VirtualNetworkGateway");
	ck_assert_str_eq(json_str(rt, "nextHopType"), "VirtualNetworkGateway");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(rt, "nextHopIpAddress"), 0)),
	    "10.0.1.4");
	ck_assert_str_eq(json_str(rt, "state"), "Active");
	ck_assert_ptr_nonnull(effective_for(&d, "192.168.1.0/24"));
	test_resp_free(&d);
	/* the session goes, and so do its routes */
	write_ok(e, "DELETE", HUB "/bgpConnections/nva1" API, NULL, 202);
	d = effective(e);
	ck_assert_ptr_null(effective_for(&d, "192.168.0.0/24"));
	test_resp_free(&d);
	emulator_stop(e);
}
END_TEST

#define BGP_RG "/subscriptions/11111111-2222-4333-8444-555555555555/resourceGroups/rg-net/providers/Microsoft.Network"

/* learnedRoutes of a connection in a seeded estate, finished. */
static struct test_resp
learned(struct emulator *e, const char *conn)
{
	char url[512];

	snprintf(url, sizeof(url), BGP_RG "/virtualHubs/%s/learnedRoutes" API, conn);
	return post_action(e, url);
}

/*
 * Seed 003's option A from a topology file (route servers, their BGP
 * connections, the NVAs behind the peer IPs): ARS2 accepts NVA1's spokes
 * only because NVA1 does AS-override; without it loop prevention drops them.
 */
START_TEST(test_a_seeded_two_hub_design_answers_with_as_override_and_loop_prevention)
{
	struct emulator *e = start_file("bgp/option-a.json");
	struct test_resp d, g;
	json_t *rt;

	/* a seeded hub reads with the references ARM shows */
	g = call(e, "GET", BGP_RG "/virtualHubs/ars2" API, NULL);
	ck_assert_int_eq(g.status, 200);
	ck_assert_int_eq(json_array_size(json_path(g.json, "properties", "bgpConnections", NULL)), 2);
	ck_assert_int_eq(json_array_size(json_path(g.json, "properties", "ipConfigurations", NULL)), 1);
	test_resp_free(&g);
	d = learned(e, "ars2/bgpConnections/nva1");
	rt = route_for(&d, "RouteServiceRole_IN_0", "192.168.0.0/24");
	ck_assert_ptr_nonnull(rt);
	ck_assert_str_eq(json_str(rt, "asPath"), "65001-65001");
	ck_assert_str_eq(json_str(rt, "nextHop"), "10.0.1.4");
	ck_assert_str_eq(json_str(rt, "localAddress"), "10.1.2.4");
	test_resp_free(&d);
	emulator_stop(e);

	e = start_file("bgp/option-a-no-override.json");
	d = learned(e, "ars2/bgpConnections/nva1");
	ck_assert_ptr_null(route_for(&d, "RouteServiceRole_IN_0", "192.168.0.0/24"));
	ck_assert_ptr_null(route_for(&d, "RouteServiceRole_IN_1", "192.168.1.0/24"));
	test_resp_free(&d);
	emulator_stop(e);
}
END_TEST

int
main(void)
{
	const TTest *const emulator_ars_tests[] = {
		TEST_CASE("core", 120),
		test_a_route_server_is_provisioned_by_its_ip_configuration,
		test_a_hub_body_is_checked_as_a_route_server,
		test_an_ip_configuration_needs_route_server_subnet_and_a_standard_ip,
		test_bgp_connections_refuse_reserved_asns_and_a_ninth_peer,
		test_learned_and_advertised_routes_are_keyed_by_instance,
		test_a_hub_goes_after_its_ip_configuration_and_takes_its_connections,
		test_a_nic_in_the_route_servers_vnet_gets_the_nva_routes_it_learned,
		test_a_seeded_two_hub_design_answers_with_as_override_and_loop_prevention,
		NULL,
	};

	return test_main("emulator_ars", emulator_ars_tests);
}
