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
	json_array_append_new(res, json_pack("{s:s,s:s,s:s,s:s,s:{s:[{s:s,s:{s:s,s:{s:s}}}]}}",
	    "id", NET "/networkInterfaces/vm-nic", "name", "vm-nic", "type",
	    "Microsoft.Network/networkInterfaces", "location", "eastus", "properties",
	    "ipConfigurations", "name", "ipconfig1", "properties", "privateIPAddress", "10.0.3.4",
	    "subnet", "id", NET "/virtualNetworks/hub/subnets/other"));
	return doc;
}

static struct emulator *
start(void)
{
	struct emulator_opts o = { .no_auth = true, .time_scale = 100000, .rng_seed = 42 };
	struct emulator *e = NULL;
	struct nw_err err = { 0 };
	json_t *doc = seed();

	o.seed_json = doc;
	ck_assert_msg(emulator_start(&e, &o, &err) == 0, "emulator did not start: %s", err.msg);
	json_decref(doc);
	return e;
}

/* --- HTTP ----------------------------------------------------------------------- */

struct resp {
	long status;
	char *body;
	size_t len;
	json_t *json;
	char location[1024];
	char async[1024];
};

static size_t
on_body(char *p, size_t sz, size_t n, void *ud)
{
	struct resp *r = ud;
	char *nb = realloc(r->body, r->len + sz * n + 1);

	ck_assert_ptr_nonnull(nb);
	r->body = nb;
	memcpy(r->body + r->len, p, sz * n);
	r->len += sz * n;
	r->body[r->len] = '\0';
	return sz * n;
}

/* Keeps the two headers a long-running operation is followed by. */
static size_t
on_header(char *p, size_t sz, size_t n, void *ud)
{
	struct resp *r = ud;
	size_t len = sz * n;
	char *dst = NULL;
	size_t skip = 0;

	if (len > 10 && strncasecmp(p, "location: ", 10) == 0) {
		dst = r->location;
		skip = 10;
	} else if (len > 22 && strncasecmp(p, "azure-asyncoperation: ", 22) == 0) {
		dst = r->async;
		skip = 22;
	}
	if (dst != NULL && len - skip < 1024) {
		memcpy(dst, p + skip, len - skip);
		dst[len - skip] = '\0';
		dst[strcspn(dst, "\r\n")] = '\0';
	}
	return len;
}

static struct resp
call(struct emulator *e, const char *method, const char *url, const char *body)
{
	struct resp r = { 0 };
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char full[4096];

	ck_assert_ptr_nonnull(c);
	snprintf(full, sizeof(full), "%s%s", strncmp(url, "http", 4) == 0 ? "" :
	    emulator_base_url(e), url);
	curl_easy_setopt(c, CURLOPT_URL, full);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
		h = curl_slist_append(h, "Content-Type: application/json");
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
	if (r.body != NULL)
		r.json = json_loads(r.body, 0, NULL);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return r;
}

static void
resp_free(struct resp *r)
{
	free(r->body);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

static const char *
code(const struct resp *r)
{
	const char *c = json_path_str(r->json, "error", "code", NULL);
	return c != NULL ? c : "(none)";
}

static const char *
prop(const struct resp *r, const char *name)
{
	return json_path_str(r->json, "properties", name, NULL);
}

/* Follows a Location URL until it stops answering 202 (bounded); the last answer. */
static struct resp
follow(struct emulator *e, const struct resp *started)
{
	int i;

	ck_assert_msg(started->location[0] != '\0', "no Location header (status %ld: %s)",
	    started->status, started->body != NULL ? started->body : "");
	for (i = 0; i < 1000; i++) {
		struct resp r = call(e, "GET", started->location, NULL);

		if (r.status != 202)
			return r;
		resp_free(&r);
		usleep(5000);
	}
	ck_abort_msg("operation %s did not finish", started->location);
	return (struct resp){ 0 };
}

/* A write that must be accepted and then succeed; the final answer is dropped. */
static void
write_ok(struct emulator *e, const char *method, const char *url, const char *body, long want)
{
	struct resp r = call(e, method, url, body), d;

	ck_assert_msg(r.status == want, "%s %s: status %ld, wanted %ld: %s", method, url, r.status,
	    want, r.body != NULL ? r.body : "");
	if (r.location[0] != '\0') {
		d = follow(e, &r);
		ck_assert_msg(d.status == 200 || d.status == 204, "%s %s ended %ld: %s", method, url,
		    d.status, d.body != NULL ? d.body : "");
		resp_free(&d);
	}
	resp_free(&r);
}

/* A write refused with 400 and this code. */
static void
refused(struct emulator *e, const char *url, const char *body, const char *want)
{
	struct resp r = call(e, "PUT", url, body);

	ck_assert_msg(r.status == 400, "PUT %s: status %ld, wanted 400: %s", url, r.status,
	    r.body != NULL ? r.body : "");
	ck_assert_str_eq(code(&r), want);
	ck_assert_ptr_nonnull(json_path_str(r.json, "error", "message", NULL));
	resp_free(&r);
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
	struct emulator *e = start();
	struct resp r, g, d;

	r = call(e, "PUT", HUB API, HUB_BODY);
	ck_assert_int_eq(r.status, 201);
	ck_assert_msg(r.async[0] != '\0', "no Azure-AsyncOperation header");
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
	resp_free(&d);
	resp_free(&r);

	r = call(e, "PUT", HUB "/ipConfigurations/ipconfig1" API,
	    IPC_BODY("hub/subnets/RouteServerSubnet", "pip-std"));
	ck_assert_int_eq(r.status, 201);
	ck_assert_str_eq(json_str(r.json, "type"), "Microsoft.Network/virtualHubs/ipConfigurations");
	/* while the instances deploy the hub says so, without addresses yet */
	g = call(e, "GET", HUB API, NULL);
	ck_assert_str_eq(prop(&g, "routingState"), "Provisioning");
	ck_assert_int_eq(json_array_size(json_path(g.json, "properties", "virtualRouterIps", NULL)), 0);
	ck_assert_str_eq(json_str(json_array_get(json_path(g.json, "properties", "ipConfigurations",
	    NULL), 0), "id"), HUB "/ipConfigurations/ipconfig1");
	resp_free(&g);
	d = follow(e, &r);
	ck_assert_int_eq(d.status, 200);
	resp_free(&d);
	resp_free(&r);

	g = call(e, "GET", HUB API, NULL);
	ck_assert_int_eq(g.status, 200);
	ck_assert_str_eq(prop(&g, "routingState"), "Provisioned");
	ck_assert_str_eq(json_string_value(json_array_get(json_path(g.json, "properties",
	    "virtualRouterIps", NULL), 0)), "10.0.2.4");
	ck_assert_str_eq(json_string_value(json_array_get(json_path(g.json, "properties",
	    "virtualRouterIps", NULL), 1)), "10.0.2.5");
	ck_assert(json_is_true(json_path(g.json, "properties", "allowBranchToBranchTraffic", NULL)));
	resp_free(&g);
	/* listed in the group, the subscription and under the hub */
	g = call(e, "GET", NET "/virtualHubs" API, NULL);
	ck_assert_int_eq(json_array_size(json_object_get(g.json, "value")), 1);
	resp_free(&g);
	g = call(e, "GET", "/subscriptions/" SUB "/providers/Microsoft.Network/virtualHubs" API, NULL);
	ck_assert_int_eq(json_array_size(json_object_get(g.json, "value")), 1);
	resp_free(&g);
	g = call(e, "GET", HUB "/ipConfigurations" API, NULL);
	ck_assert_int_eq(json_array_size(json_object_get(g.json, "value")), 1);
	resp_free(&g);
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
	struct resp r;

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
	r = call(e, "GET", HUB "/ipConfigurations" API, NULL);
	ck_assert_int_eq(json_array_size(json_object_get(r.json, "value")), 0);
	resp_free(&r);
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
	resp_free(&r);
	emulator_stop(e);
}
END_TEST

START_TEST(test_bgp_connections_refuse_reserved_asns_and_a_ninth_peer)
{
	struct emulator *e = start();
	static const char *const reserved[] = { "65515", "65517", "65520", "8075", "12076", "23456",
		"64500", "65535", "65551" };
	struct resp r;
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
	resp_free(&r);
	for (i = 2; i <= 8; i++) {
		char url[256], body[128];

		snprintf(url, sizeof(url), HUB "/bgpConnections/peer%zu" API, i);
		snprintf(body, sizeof(body), BGP_BODY("10.0.1.%zu", "65010"), 20 + i);
		write_ok(e, "PUT", url, body, 201);
	}
	r = call(e, "GET", HUB "/bgpConnections/peer2" API, NULL);
	ck_assert_str_eq(prop(&r, "connectionState"), "Connecting");
	resp_free(&r);
	refused(e, HUB "/bgpConnections/peer9" API, BGP_BODY("10.0.1.40", "65010"),
	    "VirtualHubBgpConnectionLimitReached");
	/* an update of one of the eight is no ninth */
	write_ok(e, "PUT", HUB "/bgpConnections/peer8" API, BGP_BODY("10.0.1.41", "65011"), 200);
	r = call(e, "GET", HUB API, NULL);
	ck_assert_int_eq(json_array_size(json_path(r.json, "properties", "bgpConnections", NULL)), 8);
	resp_free(&r);
	r = call(e, "GET", HUB "/bgpConnections" API, NULL);
	ck_assert_int_eq(json_array_size(json_object_get(r.json, "value")), 8);
	resp_free(&r);
	emulator_stop(e);
}
END_TEST

/* The instance's list of an answer, and the route for network in it. */
static json_t *
route_for(const struct resp *r, const char *instance, const char *network)
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
	struct resp r, d;
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
	resp_free(&d);
	resp_free(&r);

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
	resp_free(&d);
	resp_free(&r);

	/* a peer with no NVA behind it: no session, nothing learned */
	r = call(e, "POST", HUB "/bgpConnections/ghost/learnedRoutes" API, NULL);
	d = follow(e, &r);
	ck_assert_int_eq(d.status, 200);
	ck_assert_int_eq(json_array_size(json_object_get(d.json, "RouteServiceRole_IN_0")), 0);
	resp_free(&d);
	resp_free(&r);

	/* the action by GET, or on a connection that is not there */
	r = call(e, "GET", HUB "/bgpConnections/nva1/learnedRoutes" API, NULL);
	ck_assert_int_eq(r.status, 405);
	resp_free(&r);
	r = call(e, "POST", HUB "/bgpConnections/absent/learnedRoutes" API, NULL);
	ck_assert_int_eq(r.status, 404);
	resp_free(&r);
	emulator_stop(e);
}
END_TEST

START_TEST(test_a_hub_goes_after_its_ip_configuration_and_takes_its_connections)
{
	struct emulator *e = start();
	struct resp r;

	deploy(e);
	write_ok(e, "PUT", HUB "/bgpConnections/nva1" API, BGP_BODY("10.0.1.4", "65001"), 201);
	r = call(e, "DELETE", HUB API, NULL);
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(code(&r), "VirtualHubHasIpConfigurations");
	resp_free(&r);
	write_ok(e, "DELETE", HUB "/ipConfigurations/ipconfig1" API, NULL, 202);
	r = call(e, "GET", HUB API, NULL);
	ck_assert_str_eq(prop(&r, "routingState"), "None");
	ck_assert_int_eq(json_array_size(json_path(r.json, "properties", "virtualRouterIps", NULL)), 0);
	ck_assert_int_eq(json_array_size(json_path(r.json, "properties", "ipConfigurations", NULL)), 0);
	resp_free(&r);
	/* the router is gone: the session is down */
	r = call(e, "GET", HUB "/bgpConnections/nva1" API, NULL);
	ck_assert_str_eq(prop(&r, "connectionState"), "Connecting");
	resp_free(&r);
	write_ok(e, "DELETE", HUB API, NULL, 202);
	r = call(e, "GET", HUB API, NULL);
	ck_assert_int_eq(r.status, 404);
	resp_free(&r);
	r = call(e, "GET", HUB "/bgpConnections/nva1" API, NULL);
	ck_assert_int_eq(r.status, 404);
	resp_free(&r);
	/* deleting what is not there is 204 */
	r = call(e, "DELETE", HUB "/bgpConnections/nva1" API, NULL);
	ck_assert_int_eq(r.status, 204);
	resp_free(&r);
	emulator_stop(e);
}
END_TEST

/* The NIC's effective route for prefix, from a finished effectiveRouteTable (NULL: none). */
static json_t *
effective_for(const struct resp *r, const char *prefix)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(r->json, "value"), i, v)
		if (strcmp(json_string_value(json_array_get(json_object_get(v, "addressPrefix"), 0)),
		    prefix) == 0)
			return v;
	return NULL;
}

static struct resp
effective(struct emulator *e)
{
	struct resp r = call(e, "POST", NET "/networkInterfaces/vm-nic/effectiveRouteTable" API, NULL);
	struct resp d;

	ck_assert_int_eq(r.status, 202);
	d = follow(e, &r);
	ck_assert_int_eq(d.status, 200);
	resp_free(&r);
	return d;
}

START_TEST(test_a_nic_in_the_route_servers_vnet_gets_the_nva_routes_it_learned)
{
	struct emulator *e = start();
	struct resp d;
	json_t *rt;

	deploy(e);
	/* no session yet: nothing injected */
	d = effective(e);
	ck_assert_ptr_null(effective_for(&d, "192.168.0.0/24"));
	ck_assert_ptr_nonnull(effective_for(&d, "10.0.0.0/16"));
	resp_free(&d);
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
	resp_free(&d);
	/* the session goes, and so do its routes */
	write_ok(e, "DELETE", HUB "/bgpConnections/nva1" API, NULL, 202);
	d = effective(e);
	ck_assert_ptr_null(effective_for(&d, "192.168.0.0/24"));
	resp_free(&d);
	emulator_stop(e);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("emulator_ars");
	TCase *tc = tcase_create("core");
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_a_route_server_is_provisioned_by_its_ip_configuration);
	tcase_add_test(tc, test_a_hub_body_is_checked_as_a_route_server);
	tcase_add_test(tc, test_an_ip_configuration_needs_route_server_subnet_and_a_standard_ip);
	tcase_add_test(tc, test_bgp_connections_refuse_reserved_asns_and_a_ninth_peer);
	tcase_add_test(tc, test_learned_and_advertised_routes_are_keyed_by_instance);
	tcase_add_test(tc, test_a_hub_goes_after_its_ip_configuration_and_takes_its_connections);
	tcase_add_test(tc, test_a_nic_in_the_route_servers_vnet_gets_the_nva_routes_it_learned);
	suite_add_tcase(s, tc);
	rc = test_run_suite(s);
	curl_global_cleanup();
	return rc;
}
