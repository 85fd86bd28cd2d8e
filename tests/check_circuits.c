/*
 * Check suite for plan/circuits.c and plan/topology_circuit.c: circuit and
 * BGP sanity, one rule at a time, on small estates built here (a hub VNet
 * 10.1.0.0/16 with an ExpressRoute gateway connected to circuit er-1, and a
 * spoke 10.2.0.0/16), and through `netwave check`'s findings_check.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/circuits.h"
#include "plan/findings.h"
#include "plan/limits.h"
#include "plan/routes.h"
#include "plan/synth.h"
#include "tests/testutil.h"

#define SUB "/subscriptions/11111111-2222-4333-8444-555555555555"
#define NET SUB "/resourceGroups/rg-net/providers/Microsoft.Network"
#define CIRCUIT NET "/expressRouteCircuits/er-1"

/* The private peering's fields; a NULL string or -1 leaves the field out. */
struct pp {
	const char *type, *state, *prov;
	long long asn, vlan;
	const char *p1, *p2, *v6a, *v6b;
};

static const struct pp GOOD = { "AzurePrivatePeering", "Enabled", "Succeeded", 65020, 100,
	"192.168.255.0/30", "192.168.255.4/30", NULL, NULL };

static json_t *
peering_json(const struct pp *p, const char *name)
{
	json_t *props = json_object();
	char id[512];

	snprintf(id, sizeof(id), CIRCUIT "/peerings/%s", name);
	if (p->type != NULL)
		json_object_set_new(props, "peeringType", json_string(p->type));
	if (p->state != NULL)
		json_object_set_new(props, "state", json_string(p->state));
	if (p->prov != NULL)
		json_object_set_new(props, "provisioningState", json_string(p->prov));
	json_object_set_new(props, "azureASN", json_integer(12076));
	if (p->asn >= 0)
		json_object_set_new(props, "peerASN", json_integer(p->asn));
	if (p->vlan >= 0)
		json_object_set_new(props, "vlanId", json_integer(p->vlan));
	if (p->p1 != NULL)
		json_object_set_new(props, "primaryPeerAddressPrefix", json_string(p->p1));
	if (p->p2 != NULL)
		json_object_set_new(props, "secondaryPeerAddressPrefix", json_string(p->p2));
	if (p->v6a != NULL || p->v6b != NULL) {
		json_t *v6 = json_object();
		if (p->v6a != NULL)
			json_object_set_new(v6, "primaryPeerAddressPrefix", json_string(p->v6a));
		if (p->v6b != NULL)
			json_object_set_new(v6, "secondaryPeerAddressPrefix", json_string(p->v6b));
		json_object_set_new(props, "ipv6PeeringConfig", v6);
	}
	return json_pack("{s:s, s:s, s:s, s:o}", "id", id, "name", name,
	    "type", "Microsoft.Network/expressRouteCircuits/peerings", "properties", props);
}

static void
add(json_t *doc, json_t *res)
{
	ck_assert_ptr_nonnull(res);
	json_array_append_new(json_object_get(doc, "resources"), res);
}

static json_t *
vnet_json(const char *name, json_t *prefixes, bool gateway_subnet)
{
	char id[512];
	json_t *subnets = json_array();

	snprintf(id, sizeof(id), NET "/virtualNetworks/%s", name);
	if (gateway_subnet)
		json_array_append_new(subnets, json_pack("{s:s, s:s, s:{s:s}}", "id",
		    NET "/virtualNetworks/hub/subnets/GatewaySubnet", "name", "GatewaySubnet",
		    "properties", "addressPrefix", "10.1.255.0/27"));
	return json_pack("{s:s, s:s, s:s, s:s, s:{s:{s:o}, s:o, s:[]}}", "id", id, "name", name,
	    "type", "Microsoft.Network/virtualNetworks", "location", "eastus", "properties",
	    "addressSpace", "addressPrefixes", prefixes, "subnets", subnets,
	    "virtualNetworkPeerings");
}

/*
 * The estate: hub (10.1.0.0/16 plus extra prefixes), a gateway and its
 * connection to er-1, spoke 10.2.0.0/16, and er-1 with peerings (NULL: no
 * "peerings" key at all) and on-premises routes (NULL: none observed).
 */
static json_t *
estate(json_t *peerings, const char *sku_tier, json_t *routes, json_t *extra_hub_prefixes)
{
	json_t *doc = json_pack("{s:s, s:[], s:{s:{}}}", "format", "netwave.topology/v1",
	    "resources", "observed", "circuitRoutes");
	json_t *hub = json_pack("[s]", "10.1.0.0/16"), *circuit;

	if (extra_hub_prefixes != NULL)
		json_array_extend(hub, extra_hub_prefixes);
	json_decref(extra_hub_prefixes);
	add(doc, vnet_json("hub", hub, true));
	add(doc, vnet_json("spoke", json_pack("[s]", "10.2.0.0/16"), false));
	add(doc, json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:{s:s, s:s}, s:[{s:s, s:{s:s, s:{s:s}}}]}}",
	    "id", NET "/virtualNetworkGateways/gw-er", "name", "gw-er",
	    "type", "Microsoft.Network/virtualNetworkGateways", "location", "eastus",
	    "properties", "gatewayType", "ExpressRoute", "sku", "name", "ErGw1AZ", "tier", "ErGw1AZ",
	    "ipConfigurations", "name", "default", "properties", "privateIPAllocationMethod",
	    "Dynamic", "subnet", "id", NET "/virtualNetworks/hub/subnets/GatewaySubnet"));
	add(doc, json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:{s:s}, s:{s:s}, s:i}}",
	    "id", NET "/connections/gw-er-er-1", "name", "gw-er-er-1",
	    "type", "Microsoft.Network/connections", "location", "eastus",
	    "properties", "connectionType", "ExpressRoute",
	    "virtualNetworkGateway1", "id", NET "/virtualNetworkGateways/gw-er",
	    "peer", "id", CIRCUIT, "routingWeight", 0));
	circuit = json_pack("{s:s, s:s, s:s, s:s, s:{s:s}}", "id", CIRCUIT, "name", "er-1",
	    "type", "Microsoft.Network/expressRouteCircuits", "location", "eastus",
	    "properties", "provisioningState", "Succeeded");
	if (peerings != NULL)
		json_object_set_new(json_object_get(circuit, "properties"), "peerings", peerings);
	if (sku_tier != NULL)
		json_object_set_new(circuit, "sku", json_pack("{s:s, s:s}", "tier", sku_tier,
		    "family", "MeteredData"));
	add(doc, circuit);
	if (routes != NULL)
		json_object_set_new(json_object_get(json_object_get(doc, "observed"), "circuitRoutes"),
		    CIRCUIT, routes);
	return doc;
}

static json_t *
one(const struct pp *p)
{
	return json_pack("[o]", peering_json(p, "AzurePrivatePeering"));
}

/* on-premises routes: n IPv4 /24s from 172.16.0.0 on, then the given extra networks */
static json_t *
onprem(size_t n, const char *const *extra)
{
	json_t *arr = json_array();
	char net[32];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(net, sizeof(net), "172.%zu.%zu.0/24", 16 + i / 256, i % 256);
		json_array_append_new(arr, json_pack("{s:s, s:s}", "network", net, "nextHop",
		    "192.168.255.1"));
	}
	for (i = 0; extra != NULL && extra[i] != NULL; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s}", "network", extra[i], "nextHop",
		    "192.168.255.1"));
	return arr;
}

struct run {
	struct topology *t;
	struct findings f;
};

static void
run_ids(struct run *r, json_t *doc, const char *const *ids, size_t n)
{
	struct nw_err err = { 0 };

	memset(r, 0, sizeof(*r));
	ck_assert_msg(topology_load_json(&r->t, doc, "<generated>", &err) == 0, "%s", err.msg);
	ck_assert_msg(circuit_sanity(&r->f, r->t, ids, n, &err) == 0, "%s", err.msg);
}

static void
run(struct run *r, json_t *doc)
{
	run_ids(r, doc, NULL, 0);
}

static void
run_free(struct run *r)
{
	findings_free(&r->f);
	topology_free(r->t);
}

/*
 * Asserts that checking doc (stolen), for the circuits ids names (n of
 * them; none: every circuit), finds exactly one finding, of sev and code
 * saying text, or none when code is NULL.
 */
static void
expect_only_ids(json_t *doc, const char *const *ids, size_t n, enum finding_severity sev, const char *code,
    const char *text)
{
	struct run r;

	run_ids(&r, doc, ids, n);
	if (code != NULL)
		ck_assert_uint_eq(test_findings_count(&r.f, sev, code, text), 1);
	ck_assert_uint_eq(r.f.n, code != NULL ? 1 : 0);
	run_free(&r);
}

/* expect_only_ids for every circuit. */
static void
expect_only(json_t *doc, enum finding_severity sev, const char *code, const char *text)
{
	expect_only_ids(doc, NULL, 0, sev, code, text);
}

/* Asserts that checking doc (stolen) finds nothing. */
static void
expect_clean(json_t *doc)
{
	expect_only(doc, SEV_INFO, NULL, NULL);
}

START_TEST(test_a_healthy_private_peering_gives_no_finding)
{
	struct run r;
	struct pp p = GOOD;

	p.v6a = "fd00:ffff::/126";
	p.v6b = "fd00:ffff::4/126";
	run(&r, estate(one(&p), "Standard", onprem(10, NULL), NULL));
	ck_assert_uint_eq(r.f.n, 0);
	ck_assert_uint_eq(r.t->circuits[0].npeerings, 1);
	ck_assert_int_eq(r.t->circuits[0].peerings[0].peer_asn, 65020);
	ck_assert_int_eq(r.t->circuits[0].peerings[0].vlan_id, 100);
	ck_assert_int_eq(r.t->circuits[0].peerings[0].azure_asn, 12076);
	ck_assert_uint_eq(r.t->circuits[0].peerings[0].primary.len, 30);
	ck_assert_str_eq(r.t->circuits[0].sku_tier, "Standard");
	run_free(&r);
}
END_TEST

START_TEST(test_a_used_circuit_without_private_peering_is_an_error)
{
	struct run r;
	struct pp ms = GOOD;
	const char *ids[] = { CIRCUIT };

	expect_only(estate(json_array(), NULL, NULL, NULL), SEV_ERROR, "circuit-private-peering-missing",
	    "circuit er-1 has no Azure private peering, but connection gw-er-er-1 uses it");

	/* a Microsoft peering alone is not a private peering */
	ms.type = "MicrosoftPeering";
	run(&r, estate(json_pack("[o]", peering_json(&ms, "MicrosoftPeering")), NULL, NULL, NULL));
	ck_assert_uint_eq(test_findings_count(&r.f, SEV_ERROR, "circuit-private-peering-missing",
	    NULL), 1);
	run_free(&r);

	/* a hand-written file without "peerings" is not judged by check ... */
	expect_clean(estate(NULL, NULL, NULL, NULL));
	/* ... but a plan that depends on the circuit is told to discover it */
	expect_only_ids(estate(NULL, NULL, NULL, NULL), ids, 1, SEV_WARNING, "circuit-peerings-unknown",
	    "er-1");
}
END_TEST

START_TEST(test_a_disabled_or_unprovisioned_private_peering_is_an_error)
{
	struct run r;
	struct pp p = GOOD;

	p.state = "Disabled";
	p.prov = "Failed";
	run(&r, estate(one(&p), NULL, NULL, NULL));
	ck_assert_uint_eq(test_findings_count(&r.f, SEV_ERROR, "circuit-private-peering-disabled",
	    "private peering AzurePrivatePeering of circuit er-1 is Disabled, not Enabled"), 1);
	ck_assert_uint_eq(test_findings_count(&r.f, SEV_ERROR, "circuit-private-peering-not-provisioned",
	    "provisioning state Failed"), 1);
	ck_assert_str_eq(r.f.v[0].resource, CIRCUIT "/peerings/AzurePrivatePeering");
	ck_assert_uint_eq(r.f.n, 2);
	run_free(&r);
}
END_TEST

/* The findings of sev and code for a circuit with the one peering p, asserted to be all of them. */
static size_t
peering_findings(const struct pp *p, enum finding_severity sev, const char *code)
{
	struct run r;
	size_t n;

	run(&r, estate(one(p), NULL, NULL, NULL));
	n = test_findings_count(&r.f, sev, code, NULL);
	ck_assert_uint_eq(r.f.n, n);
	run_free(&r);
	return n;
}

static size_t
asn_findings(long long asn, enum finding_severity sev, const char *code)
{
	struct pp p = GOOD;

	p.asn = asn;
	return peering_findings(&p, sev, code);
}

START_TEST(test_azure_reserved_peer_asns_are_errors)
{
	ck_assert_uint_eq(asn_findings(65515, SEV_ERROR, "circuit-peer-asn-reserved"), 1);
	ck_assert_uint_eq(asn_findings(65517, SEV_ERROR, "circuit-peer-asn-reserved"), 1);
	ck_assert_uint_eq(asn_findings(65520, SEV_ERROR, "circuit-peer-asn-reserved"), 1);
	ck_assert_uint_eq(asn_findings(12076, SEV_ERROR, "circuit-peer-asn-reserved"), 1);
	ck_assert_uint_eq(asn_findings(-1, SEV_ERROR, "circuit-peer-asn-missing"), 1);
	/* the neighbours of the reserved block are private ASNs anyone may use */
	ck_assert_uint_eq(asn_findings(65514, SEV_ERROR, "circuit-peer-asn-reserved"), 0);
	ck_assert_uint_eq(asn_findings(65521, SEV_ERROR, "circuit-peer-asn-reserved"), 0);
	ck_assert_uint_eq(asn_findings(4200000000LL, SEV_ERROR, "circuit-peer-asn-reserved"), 0);
}
END_TEST

START_TEST(test_iana_reserved_peer_asns_are_warnings)
{
	ck_assert_uint_eq(asn_findings(23456, SEV_WARNING, "circuit-peer-asn-iana-reserved"), 1);
	ck_assert_uint_eq(asn_findings(64500, SEV_WARNING, "circuit-peer-asn-iana-reserved"), 1);
	ck_assert_uint_eq(asn_findings(65535, SEV_WARNING, "circuit-peer-asn-iana-reserved"), 1);
	ck_assert_uint_eq(asn_findings(0, SEV_WARNING, "circuit-peer-asn-iana-reserved"), 1);
	ck_assert_uint_eq(asn_findings(64512, SEV_WARNING, "circuit-peer-asn-iana-reserved"), 0);
}
END_TEST

static size_t
vlan_findings(long long vlan, const char *code)
{
	struct pp p = GOOD;

	p.vlan = vlan;
	return peering_findings(&p, SEV_ERROR, code);
}

START_TEST(test_a_vlan_outside_802_1q_or_shared_is_an_error)
{
	struct pp ms = GOOD;

	ck_assert_uint_eq(vlan_findings(0, "circuit-vlan-invalid"), 1);
	ck_assert_uint_eq(vlan_findings(4095, "circuit-vlan-invalid"), 1);
	ck_assert_uint_eq(vlan_findings(-1, "circuit-vlan-invalid"), 1);
	ck_assert_uint_eq(vlan_findings(1, "circuit-vlan-invalid"), 0);
	ck_assert_uint_eq(vlan_findings(4094, "circuit-vlan-invalid"), 0);

	ms.type = "MicrosoftPeering";
	ms.p1 = "203.0.113.0/30";
	ms.p2 = "203.0.113.4/30";
	expect_only(estate(json_pack("[o, o]", peering_json(&GOOD, "AzurePrivatePeering"),
	    peering_json(&ms, "MicrosoftPeering")), NULL, NULL, NULL), SEV_ERROR, "circuit-vlan-duplicate",
	    "peerings AzurePrivatePeering and MicrosoftPeering of circuit er-1 both use VLAN 100");
}
END_TEST

static void
prefixes(struct run *r, const char *p1, const char *p2, const char *v6a, const char *v6b)
{
	struct pp p = GOOD;

	p.p1 = p1;
	p.p2 = p2;
	p.v6a = v6a;
	p.v6b = v6b;
	run(r, estate(one(&p), NULL, NULL, NULL));
}

START_TEST(test_peer_prefixes_must_be_two_distinct_links_outside_every_vnet)
{
	/* the four peer prefixes, the finding expected (code NULL: none) and how many findings (-1: any) */
	static const struct {
		const char *p1, *p2, *v6a, *v6b, *code, *text;
		int total;
	} cases[] = {
		{ "192.168.255.0/29", "192.168.255.8/30", NULL, NULL, "circuit-peer-prefix-length",
		    "primaryPeerAddressPrefix 192.168.255.0/29, not an IPv4 /30", 1 },
		{ "192.168.255.0/30", "192.168.255.0/30", NULL, NULL, "circuit-peer-prefix-overlap",
		    "uses 192.168.255.0/30 for the primary link and 192.168.255.0/30 for the secondary", 1 },
		{ "10.2.3.0/30", "192.168.255.4/30", NULL, NULL, "circuit-peer-prefix-vnet-overlap",
		    "primaryPeerAddressPrefix 10.2.3.0/30 inside VNet spoke's address space 10.2.0.0/16", 1 },
		{ "192.168.255.0/30", NULL, NULL, NULL, "circuit-peer-prefix-missing",
		    "a primary IPv4 peer prefix but no secondary one", -1 },
		{ NULL, NULL, NULL, NULL, "circuit-peer-prefix-missing", "has no peer address prefixes", -1 },
		/* IPv6 alone is allowed; its links are /126 */
		{ NULL, NULL, "fd00:ffff::/126", "fd00:ffff::4/126", NULL, NULL, 0 },
		{ NULL, NULL, "fd00:ffff::/64", "fd00:fffe::/126", "circuit-peer-prefix-length",
		    "fd00:ffff::/64, not an IPv6 /126", 1 },
		/* an IPv6 prefix where IPv4 belongs */
		{ "fd00:ffff::/126", "192.168.255.4/30", NULL, NULL, "circuit-peer-prefix-length", "not an IPv4 /30",
		    -1 },
	};
	struct run r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		prefixes(&r, cases[i].p1, cases[i].p2, cases[i].v6a, cases[i].v6b);
		if (cases[i].code != NULL)
			ck_assert_msg(test_findings_count(&r.f, SEV_ERROR, cases[i].code, cases[i].text) == 1,
			    "case %zu: no %s finding \"%s\"", i, cases[i].code, cases[i].text);
		if (cases[i].total >= 0)
			ck_assert_msg(r.f.n == (size_t)cases[i].total, "case %zu: %zu findings, not %d", i, r.f.n,
			    cases[i].total);
		run_free(&r);
	}
}
END_TEST

START_TEST(test_onprem_routes_inside_vnet_space_are_warned_but_supernets_are_not)
{
	struct run r;
	const char *extra[] = { "10.0.0.0/8", "10.2.0.0/16", "10.1.4.0/24", NULL };

	run(&r, estate(one(&GOOD), NULL, onprem(0, extra), NULL));
	ck_assert_uint_eq(test_findings_count(&r.f, SEV_WARNING, "circuit-route-overlaps-vnet",
	    "on-premises advertises 10.2.0.0/16 over circuit er-1, inside VNet spoke's address "
	    "space 10.2.0.0/16"), 1);
	ck_assert_uint_eq(test_findings_count(&r.f, SEV_WARNING, "circuit-route-overlaps-vnet",
	    "10.1.4.0/24 over circuit er-1, inside VNet hub's address space 10.1.0.0/16"), 1);
	ck_assert_uint_eq(test_findings_count(&r.f, SEV_WARNING, "circuit-route-overlaps-vnet",
	    "10.0.0.0/8"), 0);
	ck_assert_uint_eq(r.f.n, 2);
	run_free(&r);
}
END_TEST

START_TEST(test_onprem_prefix_counts_meet_the_standard_and_premium_limits)
{
	const char *v6[102];
	char buf[101][32];
	size_t i;

	ck_assert_int_eq(limit_get(LIMIT_CIRCUIT_ROUTES_V4)->value, 4000);
	ck_assert_int_eq(limit_get(LIMIT_CIRCUIT_ROUTES_V4_PREMIUM)->value, 10000);
	ck_assert_int_eq(limit_get(LIMIT_CIRCUIT_ROUTES_V6)->value, 100);

	expect_only(estate(one(&GOOD), "Standard", onprem(4001, NULL), NULL),
	    SEV_ERROR, "circuit-prefix-limit",
	    "IPv4 prefixes on-premises advertises to circuit er-1: 4001, over the limit of 4000");

	expect_clean(estate(one(&GOOD), "Premium", onprem(4001, NULL), NULL));

	expect_only(estate(one(&GOOD), "Standard", onprem(3200, NULL), NULL),
	    SEV_WARNING, "circuit-prefix-limit", "3200, 80% of the limit");

	expect_clean(estate(one(&GOOD), "Standard", onprem(3199, NULL), NULL));

	for (i = 0; i < 101; i++) {
		snprintf(buf[i], sizeof(buf[i]), "fd00:%zx::/48", i + 1);
		v6[i] = buf[i];
	}
	v6[101] = NULL;
	expect_only(estate(one(&GOOD), "Premium", onprem(0, v6), NULL), SEV_ERROR, "circuit-prefix-limit",
	    "IPv6 prefixes on-premises advertises to circuit er-1: 101, over the limit of 100");
}
END_TEST

/* 1,001 address prefixes on the hub: its gateway advertises them all to er-1. */
static json_t *
busy_hub(void)
{
	json_t *arr = json_array();
	char net[32];
	size_t i;

	for (i = 0; i < 1000; i++) {
		snprintf(net, sizeof(net), "10.%zu.%zu.0/24", 100 + i / 256, i % 256);
		json_array_append_new(arr, json_string(net));
	}
	return estate(one(&GOOD), NULL, NULL, arr);
}

START_TEST(test_the_gateway_prefixes_to_the_circuit_are_judged_unless_check_does)
{
	struct run r;
	struct routes_ctx *ctx = NULL;
	struct nw_err err = { 0 };

	run(&r, busy_hub());
	ck_assert_uint_eq(test_findings_count(&r.f, SEV_ERROR, "circuit-gateway-prefix-limit",
	    "IPv4 prefixes gateway gw-er advertises to circuit er-1: 1001, over the limit of 1000"),
	    1);
	ck_assert_str_eq(r.f.v[0].resource, NET "/virtualNetworkGateways/gw-er");
	findings_free(&r.f);
	memset(&r.f, 0, sizeof(r.f));
	ck_assert_int_eq(routes_ctx_new(&ctx, r.t, &err), 0);
	ck_assert_int_eq(circuit_sanity_ctx(&r.f, r.t, ctx, NULL, 0, false, &err), 0);
	ck_assert_uint_eq(r.f.n, 0);
	routes_ctx_free(ctx);
	run_free(&r);
}
END_TEST

START_TEST(test_only_the_named_circuits_are_judged_and_a_missing_one_is_a_finding)
{
	struct run r;
	struct pp p = GOOD;
	const char *ids[] = { NET "/expressRouteCircuits/nowhere", CIRCUIT };
	const char *vnet[] = { NET "/virtualNetworks/hub" };

	p.asn = 65515;
	run_ids(&r, estate(one(&p), NULL, NULL, NULL), ids, 2);
	ck_assert_uint_eq(test_findings_count(&r.f, SEV_ERROR, "circuit-missing", "nowhere"), 1);
	ck_assert_uint_eq(test_findings_count(&r.f, SEV_ERROR, "circuit-peer-asn-reserved", NULL), 1);
	ck_assert_uint_eq(r.f.n, 2);
	run_free(&r);

	expect_only_ids(estate(one(&p), NULL, NULL, NULL), vnet, 1, SEV_ERROR, "circuit-missing",
	    "is not an ExpressRoute circuit");
}
END_TEST

START_TEST(test_a_malformed_peering_field_fails_the_load_naming_it)
{
	struct topology *t = NULL;
	struct nw_err err = { 0 };
	json_t *doc, *props;

	doc = estate(one(&GOOD), NULL, NULL, NULL);
	props = json_object_get(json_array_get(json_object_get(json_object_get(json_array_get(
	    json_object_get(doc, "resources"), 4), "properties"), "peerings"), 0), "properties");
	json_object_set_new(props, "peerASN", json_string("65020"));
	ck_assert_int_ne(topology_load_json(&t, json_incref(doc), "<generated>", &err), 0);
	ck_assert_msg(strstr(err.msg, "/resources/4/properties/peerings/0/properties/peerASN") != NULL &&
	    strstr(err.msg, "expected an integer") != NULL, "%s", err.msg);

	memset(&err, 0, sizeof(err));
	json_object_set_new(props, "peerASN", json_integer(65020));
	json_object_set_new(props, "secondaryPeerAddressPrefix", json_string("192.168.255.5/30"));
	ck_assert_int_ne(topology_load_json(&t, json_incref(doc), "<generated>", &err), 0);
	ck_assert_msg(strstr(err.msg, "peerings/0/properties/secondaryPeerAddressPrefix") != NULL,
	    "%s", err.msg);
	json_decref(doc);
}
END_TEST

START_TEST(test_check_reports_circuit_findings_with_the_others)
{
	struct topology *t = NULL;
	struct routes_ctx *ctx = NULL;
	struct findings f;
	struct nw_err err = { 0 };
	struct pp p = GOOD;
	json_t *doc;

	p.asn = 65516;
	p.vlan = 5000;
	doc = estate(one(&p), NULL, NULL, NULL);
	ck_assert_int_eq(topology_load_json(&t, doc, "<generated>", &err), 0);
	ck_assert_int_eq(routes_ctx_new(&ctx, t, &err), 0);
	ck_assert_msg(findings_check(&f, t, ctx, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(test_findings_count(&f, SEV_ERROR, "circuit-peer-asn-reserved", "65516"), 1);
	ck_assert_uint_eq(test_findings_count(&f, SEV_ERROR, "circuit-vlan-invalid", "VLAN 5000"), 1);
	ck_assert_uint_ge(f.by_severity[SEV_ERROR], 2);
	/* errors come first, sorted by code */
	ck_assert_int_eq(f.v[0].severity, SEV_ERROR);
	ck_assert_str_eq(f.v[0].code, "circuit-peer-asn-reserved");
	findings_free(&f);
	routes_ctx_free(ctx);
	topology_free(t);
}
END_TEST

START_TEST(test_a_synthesized_circuit_is_healthy)
{
	struct synth_opts o = { 0 };
	struct nw_err err = { 0 };
	struct run r;
	json_t *doc = NULL;

	o.hubs = 2;
	o.spokes_per_hub = 4;
	o.seed = 7;
	ck_assert_msg(synth_generate(&doc, &o, &err) == 0, "%s", err.msg);
	run(&r, doc);
	ck_assert_uint_eq(r.t->ncircuits, 1);
	ck_assert_uint_eq(r.t->circuits[0].npeerings, 1);
	ck_assert_msg(r.f.n == 0, "%s: %s", r.f.n > 0 ? r.f.v[0].code : "",
	    r.f.n > 0 ? r.f.v[0].message : "");
	run_free(&r);
}
END_TEST

int
main(void)
{
	const TTest *const circuits_tests[] = {
		TEST_CASE("core", 120),
		test_a_healthy_private_peering_gives_no_finding,
		test_a_used_circuit_without_private_peering_is_an_error,
		test_a_disabled_or_unprovisioned_private_peering_is_an_error,
		test_azure_reserved_peer_asns_are_errors,
		test_iana_reserved_peer_asns_are_warnings,
		test_a_vlan_outside_802_1q_or_shared_is_an_error,
		test_peer_prefixes_must_be_two_distinct_links_outside_every_vnet,
		test_onprem_routes_inside_vnet_space_are_warned_but_supernets_are_not,
		test_onprem_prefix_counts_meet_the_standard_and_premium_limits,
		test_the_gateway_prefixes_to_the_circuit_are_judged_unless_check_does,
		test_only_the_named_circuits_are_judged_and_a_missing_one_is_a_finding,
		test_a_malformed_peering_field_fails_the_load_naming_it,
		test_check_reports_circuit_findings_with_the_others,
		test_a_synthesized_circuit_is_healthy,
		NULL,
	};

	return test_main("circuits", circuits_tests);
}
