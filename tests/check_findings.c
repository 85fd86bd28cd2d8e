/*
 * Check suite for plan/findings.c: each check of `netwave check` on a
 * hand-made estate (tests/data/check/findings.json, whose routing and
 * faults are worked out by hand) and on small generated documents.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/findings.h"
#include "plan/jsonutil.h"
#include "plan/routes.h"
#include "tests/testutil.h"

#define SUB "/subscriptions/11111111-2222-4333-8444-555555555555"
#define NET SUB "/resourceGroups/rg-net/providers/Microsoft.Network"

struct run {
	struct topology *t;
	struct routes_ctx *ctx;
	struct findings f;
};

static void
run_on(struct run *r, struct topology *t)
{
	struct nw_err err = { 0 };

	r->t = t;
	ck_assert_int_eq(routes_ctx_new(&r->ctx, t, &err), 0);
	ck_assert_msg(findings_check(&r->f, t, r->ctx, &err) == 0, "%s", err.msg);
}

static void
run_file(struct run *r, const char *rel)
{
	struct topology *t = NULL;
	struct nw_err err = { 0 };

	ck_assert_msg(topology_load_file(&t, test_data_path(rel), NULL, &err) == 0, "%s", err.msg);
	run_on(r, t);
}

static void
run_json(struct run *r, json_t *doc)
{
	struct topology *t = NULL;
	struct nw_err err = { 0 };

	ck_assert_msg(topology_load_json(&t, doc, "<generated>", &err) == 0, "%s", err.msg);
	run_on(r, t);
}

static void
run_free(struct run *r)
{
	findings_free(&r->f);
	routes_ctx_free(r->ctx);
	topology_free(r->t);
}

static json_t *
doc_new(void)
{
	return json_pack("{s:s, s:[]}", "format", "netwave.topology/v1", "resources");
}

static json_t *
vnet_new(const char *name, json_t *prefixes)
{
	char id[512];

	snprintf(id, sizeof(id), NET "/virtualNetworks/%s", name);
	return json_pack("{s:s, s:s, s:s, s:s, s:{}, s:{s:{s:o}, s:[], s:[]}}", "id", id, "name", name,
	    "type", "Microsoft.Network/virtualNetworks", "location", "eastus", "tags", "properties",
	    "addressSpace", "addressPrefixes", prefixes, "subnets", "virtualNetworkPeerings");
}

static void
add_resource(json_t *doc, json_t *res)
{
	json_array_append_new(json_object_get(doc, "resources"), res);
}

/* Asserts that checking the file tests/data/rel finds want findings of sev and code saying text. */
static void
expect_findings(const char *rel, enum finding_severity sev, const char *code, const char *text,
    size_t want)
{
	struct run r;

	run_file(&r, rel);
	ck_assert_uint_eq(test_findings_count(&r.f, sev, code, text), want);
	run_free(&r);
}

START_TEST(test_one_sided_peering_is_an_error)
{
	expect_findings("check/findings.json", SEV_ERROR, "peering-one-sided", "spoke-3", 1);
}
END_TEST

START_TEST(test_gateway_transit_needs_allow_gateway_transit_on_the_hub_side)
{
	struct run r;

	run_file(&r, "check/findings.json");
	ck_assert_uint_eq(test_findings_count(&r.f, SEV_ERROR, "gateway-transit-broken", "spoke-5"), 1);
	/* spoke-1 and spoke-2 have transit allowed: nothing said about them */
	ck_assert_uint_eq(test_findings_count(&r.f, SEV_ERROR, "gateway-transit-broken", "spoke-1"), 0);
	run_free(&r);
}
END_TEST

START_TEST(test_next_hop_in_no_subnet_is_an_error)
{
	expect_findings("check/findings.json", SEV_ERROR, "next-hop-missing", "10.9.9.9", 1);
}
END_TEST

START_TEST(test_basic_public_ip_gateway_is_a_warning)
{
	expect_findings("check/findings.json", SEV_WARNING, "basic-public-ip", "pip-gw-a", 1);
}
END_TEST

START_TEST(test_findings_come_errors_first_and_are_counted)
{
	struct run r;
	size_t i;

	run_file(&r, "check/findings.json");
	ck_assert_uint_eq(r.f.by_severity[SEV_ERROR], 3);
	ck_assert_uint_eq(r.f.by_severity[SEV_WARNING], 2);
	for (i = 1; i < r.f.n; i++)
		ck_assert_int_ge(r.f.v[i - 1].severity, r.f.v[i].severity);
	run_free(&r);
}
END_TEST

START_TEST(test_unpeered_overlap_is_a_warning_and_peered_overlap_an_error)
{
	struct run r;
	json_t *doc = doc_new(), *a, *b;
	char remote[512];

	a = vnet_new("a", json_pack("[s]", "10.1.0.0/16"));
	b = vnet_new("b", json_pack("[s]", "10.1.64.0/18"));
	add_resource(doc, a);
	add_resource(doc, b);
	add_resource(doc, vnet_new("c", json_pack("[s, s]", "10.3.0.0/16", "10.3.4.0/24")));
	add_resource(doc, vnet_new("d", json_pack("[s]", "10.1.64.0/18")));
	/* a and b peered both ways */
	snprintf(remote, sizeof(remote), NET "/virtualNetworks/b");
	json_array_append_new(json_path(a, "properties", "virtualNetworkPeerings", NULL),
	    json_pack("{s:s, s:s, s:{s:{s:s}, s:s}}", "id", NET "/virtualNetworks/a/virtualNetworkPeerings/to-b",
		"name", "to-b", "properties", "remoteVirtualNetwork", "id", remote, "peeringState",
		"Connected"));
	json_array_append_new(json_path(b, "properties", "virtualNetworkPeerings", NULL),
	    json_pack("{s:s, s:s, s:{s:{s:s}, s:s}}", "id", NET "/virtualNetworks/b/virtualNetworkPeerings/to-a",
		"name", "to-a", "properties", "remoteVirtualNetwork", "id", NET "/virtualNetworks/a",
		"peeringState", "Connected"));
	run_json(&r, doc);
	ck_assert_uint_eq(test_findings_count(&r.f, SEV_ERROR, "address-overlap",
	    "a (10.1.0.0/16) overlaps b (10.1.64.0/18) and the two are peered"), 1);
	ck_assert_uint_eq(test_findings_count(&r.f, SEV_WARNING, "address-overlap",
	    "a (10.1.0.0/16) overlaps d (10.1.64.0/18)"), 1);
	ck_assert_uint_eq(test_findings_count(&r.f, SEV_WARNING, "address-overlap",
	    "b (10.1.64.0/18) overlaps d (10.1.64.0/18)"), 1);
	ck_assert_uint_eq(test_findings_count(&r.f, SEV_ERROR, "address-overlap",
	    "c has overlapping address prefixes 10.3.0.0/16 and 10.3.4.0/24"), 1);
	ck_assert_uint_eq(test_findings_count(&r.f, SEV_WARNING, "address-overlap", NULL) +
	    test_findings_count(&r.f, SEV_ERROR, "address-overlap", NULL), 4);
	run_free(&r);
}
END_TEST

/* A hub whose gateway advertises more prefixes than the circuit takes. */
static json_t *
hub_with_prefixes(int nprefixes)
{
	json_t *doc = doc_new(), *prefixes = json_array(), *hub;
	int i;

	for (i = 0; i < nprefixes; i++) {
		char p[32];
		snprintf(p, sizeof(p), "10.%d.%d.0/24", 16 + i / 256, i % 256);
		json_array_append_new(prefixes, json_string(p));
	}
	hub = vnet_new("hub", prefixes);
	json_array_append_new(json_path(hub, "properties", "subnets", NULL),
	    json_pack("{s:s, s:s, s:{s:s}}", "id", NET "/virtualNetworks/hub/subnets/GatewaySubnet", "name",
		"GatewaySubnet", "properties", "addressPrefix", "10.16.0.0/24"));
	add_resource(doc, hub);
	add_resource(doc, json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:[{s:s, s:{s:{s:s}}}]}}", "id",
	    NET "/virtualNetworkGateways/gw", "name", "gw", "type", "Microsoft.Network/virtualNetworkGateways",
	    "location", "eastus", "properties", "gatewayType", "ExpressRoute", "ipConfigurations", "name",
	    "default", "properties", "subnet", "id", NET "/virtualNetworks/hub/subnets/GatewaySubnet"));
	add_resource(doc, json_pack("{s:s, s:s, s:s, s:s, s:{}}", "id", NET "/expressRouteCircuits/er",
	    "name", "er", "type", "Microsoft.Network/expressRouteCircuits", "location", "eastus",
	    "properties"));
	add_resource(doc, json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:{s:s}, s:{s:s}}}", "id",
	    NET "/connections/c", "name", "c", "type", "Microsoft.Network/connections", "location",
	    "eastus", "properties", "connectionType", "ExpressRoute", "virtualNetworkGateway1", "id",
	    NET "/virtualNetworkGateways/gw", "peer", "id", NET "/expressRouteCircuits/er"));
	return doc;
}

START_TEST(test_advertised_prefixes_over_1000_is_an_error)
{
	struct run r;

	run_json(&r, hub_with_prefixes(1001));
	ck_assert_uint_eq(test_findings_count(&r.f, SEV_ERROR, "limit-exceeded",
	    "gw has 1001 IPv4 prefixes to advertise, over the limit of 1000"), 1);
	run_free(&r);
}
END_TEST

START_TEST(test_advertised_prefixes_at_80_percent_is_a_warning)
{
	struct run r;

	run_json(&r, hub_with_prefixes(800));
	ck_assert_uint_eq(test_findings_count(&r.f, SEV_WARNING, "limit-near",
	    "gw has 800 IPv4 prefixes"), 1);
	ck_assert_uint_eq(test_findings_count(&r.f, SEV_ERROR, "limit-exceeded", NULL), 0);
	run_free(&r);
}
END_TEST

static json_t *
vnet_with_private_endpoints(int n, const char *policies)
{
	json_t *doc = doc_new(), *v = vnet_new("pe-vnet", json_pack("[s]", "10.1.0.0/16"));
	int i;

	if (policies != NULL)
		json_object_set_new(json_object_get(v, "properties"), "privateEndpointVNetPolicies",
		    json_string(policies));
	json_array_append_new(json_path(v, "properties", "subnets", NULL),
	    json_pack("{s:s, s:s, s:{s:s}}", "id", NET "/virtualNetworks/pe-vnet/subnets/pe", "name", "pe",
		"properties", "addressPrefix", "10.1.0.0/20"));
	add_resource(doc, v);
	for (i = 0; i < n; i++) {
		char id[256], name[32];
		snprintf(name, sizeof(name), "pe-%04d", i);
		snprintf(id, sizeof(id), NET "/privateEndpoints/%s", name);
		add_resource(doc, json_pack("{s:s, s:s, s:s, s:s, s:{s:{s:s}}}", "id", id, "name", name,
		    "type", "Microsoft.Network/privateEndpoints", "location", "eastus", "properties",
		    "subnet", "id", NET "/virtualNetworks/pe-vnet/subnets/pe"));
	}
	return doc;
}

START_TEST(test_private_endpoints_over_1000_in_a_vnet_is_an_error)
{
	struct run r;

	run_json(&r, vnet_with_private_endpoints(1001, NULL));
	ck_assert_uint_eq(test_findings_count(&r.f, SEV_ERROR, "limit-exceeded",
	    "pe-vnet has 1001 private endpoints, over the limit of 1000"), 1);
	run_free(&r);
}
END_TEST

START_TEST(test_high_scale_private_endpoints_raise_the_vnet_limit_to_5000)
{
	struct run r;

	run_json(&r, vnet_with_private_endpoints(1001, "Basic"));
	ck_assert_uint_eq(test_findings_count(&r.f, SEV_ERROR, "limit-exceeded", NULL), 0);
	run_free(&r);
}
END_TEST

START_TEST(test_dangling_references_are_warnings_not_errors)
{
	struct run r;
	json_t *doc = doc_new(), *v = vnet_new("lonely", json_pack("[s]", "10.1.0.0/16"));

	json_array_append_new(json_path(v, "properties", "virtualNetworkPeerings", NULL),
	    json_pack("{s:s, s:s, s:{s:{s:s}, s:s}}", "id", NET "/virtualNetworks/lonely/virtualNetworkPeerings/to-x",
		"name", "to-x", "properties", "remoteVirtualNetwork", "id", NET "/virtualNetworks/elsewhere",
		"peeringState", "Connected"));
	add_resource(doc, v);
	run_json(&r, doc);
	ck_assert_uint_ge(test_findings_count(&r.f, SEV_WARNING, "dangling-reference", NULL), 1);
	ck_assert_uint_eq(r.f.by_severity[SEV_ERROR], 0);
	run_free(&r);
}
END_TEST

START_TEST(test_eastwest_summary_counts_each_class_worked_out_by_hand)
{
	struct run r;

	run_file(&r, "check/findings.json");
	ck_assert_uint_eq(r.f.nhubs, 1);
	ck_assert_uint_eq(r.f.nspokes, 5);
	ck_assert_uint_eq(r.f.eastwest.flows, 20);
	ck_assert_uint_eq(r.f.eastwest.by_class[PATH_HAIRPIN], 1);
	ck_assert_uint_eq(r.f.eastwest.by_class[PATH_ON_PREMISES], 2);
	ck_assert_uint_eq(r.f.eastwest.by_class[PATH_LOCAL], 1);
	ck_assert_uint_eq(r.f.eastwest.by_class[PATH_VIA_APPLIANCE], 4);
	ck_assert_uint_eq(r.f.eastwest.by_class[PATH_UNREACHABLE], 12);
	run_free(&r);
}
END_TEST

START_TEST(test_json_document_names_its_format_and_counts)
{
	struct run r;
	json_t *doc;

	run_file(&r, "check/findings.json");
	doc = findings_to_json(&r.f, r.t);
	ck_assert_ptr_nonnull(doc);
	ck_assert_str_eq(json_str(doc, "format"), "netwave.check/v1");
	ck_assert_int_eq(json_integer_value(json_path(doc, "summary", "errors", NULL)), 3);
	ck_assert_int_eq(json_integer_value(json_path(doc, "eastWest", "classes", "unreachable", NULL)), 12);
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "findings")), r.f.n);
	json_decref(doc);
	run_free(&r);
}
END_TEST

int
main(void)
{
	const TTest *const findings_tests[] = {
		TEST_CASE("checks", 60),
		test_one_sided_peering_is_an_error,
		test_gateway_transit_needs_allow_gateway_transit_on_the_hub_side,
		test_next_hop_in_no_subnet_is_an_error,
		test_basic_public_ip_gateway_is_a_warning,
		test_findings_come_errors_first_and_are_counted,
		test_unpeered_overlap_is_a_warning_and_peered_overlap_an_error,
		test_advertised_prefixes_over_1000_is_an_error,
		test_advertised_prefixes_at_80_percent_is_a_warning,
		test_private_endpoints_over_1000_in_a_vnet_is_an_error,
		test_high_scale_private_endpoints_raise_the_vnet_limit_to_5000,
		test_dangling_references_are_warnings_not_errors,
		test_eastwest_summary_counts_each_class_worked_out_by_hand,
		test_json_document_names_its_format_and_counts,
		NULL,
	};

	return test_main("findings", findings_tests);
}
