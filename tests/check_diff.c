/*
 * Check suite for plan/diff: resources added, removed and changed with
 * the JSON pointer of each difference; named ARM children matched by name
 * so a reorder is no change; read-only fields ARM computes ignored; other
 * arrays compared whole; observed features and deployments diffed (the
 * deployment list as a set), circuit routes never; ids compared
 * case-insensitively; the output sorted.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "plan/diff.h"
#include "plan/jsonutil.h"
#include "plan/topology.h"
#include "tests/testutil.h"

#define SUB "/subscriptions/00000000-0000-4000-8000-000000000001"
#define RG SUB "/resourceGroups/rg/providers/Microsoft.Network"
#define VNET_A RG "/virtualNetworks/spoke-a"
#define VNET_B RG "/virtualNetworks/spoke-b"
#define RT RG "/routeTables/rt-a"
#define NM RG "/networkManagers/nm"
#define CC NM "/connectivityConfigurations/cc-1"
#define CC2 NM "/connectivityConfigurations/cc-2"

static const char BASE[] =
	"{ \"format\": \"netwave.topology/v1\", \"subscriptions\": [\"00000000-0000-4000-8000-000000000001\"],"
	"  \"resources\": ["
	"  { \"id\": \"" VNET_A "\", \"name\": \"spoke-a\", \"type\": \"Microsoft.Network/virtualNetworks\","
	"    \"location\": \"eastus\", \"etag\": \"W/\\\"1\\\"\", \"tags\": { \"role\": \"spoke\" },"
	"    \"properties\": { \"provisioningState\": \"Succeeded\", \"resourceGuid\": \"g-1\","
	"      \"addressSpace\": { \"addressPrefixes\": [\"10.1.0.0/24\", \"10.1.1.0/24\"] },"
	"      \"subnets\": ["
	"        { \"name\": \"workload\", \"properties\": { \"addressPrefix\": \"10.1.0.0/25\","
	"          \"routeTable\": { \"id\": \"" RT "\" },"
	"          \"ipConfigurations\": [ { \"id\": \"" RG "/networkInterfaces/nic/ipConfigurations/ip1\" } ] } },"
	"        { \"name\": \"endpoints\", \"properties\": { \"addressPrefix\": \"10.1.0.128/25\","
	"          \"privateEndpointNetworkPolicies\": \"Disabled\" } },"
	"        { \"name\": \"extra\", \"properties\": { \"addressPrefix\": \"10.1.1.0/24\" } } ],"
	"      \"virtualNetworkPeerings\": ["
	"        { \"name\": \"to-b\", \"properties\": { \"remoteVirtualNetwork\": { \"id\": \"" VNET_B "\" },"
	"          \"peeringState\": \"Connected\", \"peeringSyncLevel\": \"FullyInSync\","
	"          \"remoteAddressSpace\": { \"addressPrefixes\": [\"10.2.0.0/24\"] },"
	"          \"allowVirtualNetworkAccess\": true } } ] } },"
	"  { \"id\": \"" VNET_B "\", \"name\": \"spoke-b\", \"type\": \"Microsoft.Network/virtualNetworks\","
	"    \"location\": \"eastus\", \"properties\": {"
	"      \"addressSpace\": { \"addressPrefixes\": [\"10.2.0.0/24\"] },"
	"      \"virtualNetworkPeerings\": ["
	"        { \"name\": \"to-a\", \"properties\": { \"remoteVirtualNetwork\": { \"id\": \"" VNET_A "\" },"
	"          \"peeringState\": \"Connected\", \"allowVirtualNetworkAccess\": true } } ] } },"
	"  { \"id\": \"" RT "\", \"name\": \"rt-a\", \"type\": \"Microsoft.Network/routeTables\","
	"    \"location\": \"eastus\", \"properties\": {"
	"      \"subnets\": [ { \"id\": \"" VNET_A "/subnets/workload\" } ],"
	"      \"routes\": ["
	"        { \"name\": \"r1\", \"properties\": { \"addressPrefix\": \"10.2.0.0/24\", \"nextHopType\": \"VirtualNetworkGateway\" } },"
	"        { \"name\": \"r2\", \"properties\": { \"addressPrefix\": \"0.0.0.0/0\", \"nextHopType\": \"VirtualAppliance\", \"nextHopIpAddress\": \"10.0.0.4\" } } ] } },"
	"  { \"id\": \"" NM "\", \"name\": \"nm\", \"type\": \"Microsoft.Network/networkManagers\","
	"    \"location\": \"eastus\", \"properties\": { \"networkManagerScopeAccesses\": [\"Connectivity\"],"
	"      \"networkManagerScopes\": { \"subscriptions\": [\"" SUB "\"] } } } ],"
	"  \"observed\": {"
	"    \"features\": { \"Microsoft.Network/AllowHighScaleConnectedGroup\": \"NotRegistered\" },"
	"    \"circuitRoutes\": {},"
	"    \"avnmDeployments\": { \"" NM "\": { \"eastus\": { \"Connectivity\": [\"" CC "\", \"" CC2 "\"] } } } } }";

static json_t *
base_json(void)
{
	json_error_t jerr;
	json_t *v = json_loads(BASE, JSON_REJECT_DUPLICATES, &jerr);

	ck_assert_msg(v != NULL, "base JSON: line %d: %s", jerr.line, jerr.text);
	return v;
}

/* The resource object with this name inside a document. */
static json_t *
res_named(json_t *doc, const char *name)
{
	json_t *r;
	size_t i;

	json_array_foreach(json_object_get(doc, "resources"), i, r)
		if (strcmp(json_str(r, "name"), name) == 0)
			return r;
	ck_abort_msg("no resource %s", name);
	return NULL;
}

struct pair {
	struct topology *cur, *tgt;
	struct diff d;
};

/* Lists the entries when NW_TEST_VERBOSE is set, to see what a failing test got. */
static void
dump_diff(const struct diff *d)
{
	size_t i;

	if (getenv("NW_TEST_VERBOSE") == NULL)
		return;
	for (i = 0; i < d->n; i++)
		fprintf(stderr, "  %s %s %s\n", diff_kind_name(d->v[i].kind), d->v[i].resource_id,
		    d->v[i].pointer);
}

/* Diffs the base against tgt (stolen), listing the entries when NW_TEST_VERBOSE is set. */
static void
diff_against(struct pair *p, json_t *tgt)
{
	struct nw_err err = { 0 };

	p->cur = test_topology_doc(base_json(), "<test>");
	p->tgt = test_topology_doc(tgt, "<test>");
	ck_assert_msg(diff_topologies(&p->d, p->cur, p->tgt, &err) == 0, "diff: %s", err.msg);
	dump_diff(&p->d);
}

static void
pair_free(struct pair *p)
{
	diff_free(&p->d);
	topology_free(p->cur);
	topology_free(p->tgt);
}

static const struct diff_entry *
entry_at(const struct diff *d, const char *id, const char *pointer)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strcasecmp(d->v[i].resource_id, id) == 0 && strcmp(d->v[i].pointer, pointer) == 0)
			return &d->v[i];
	return NULL;
}

/* Asserts that target (stolen) differs in nothing from the base. */
static void
expect_no_difference(json_t *target)
{
	struct pair p;

	diff_against(&p, target);
	ck_assert_uint_eq(p.d.n, 0);
	pair_free(&p);
}

START_TEST(test_identical_topologies_have_no_differences)
{
	expect_no_difference(base_json());
}
END_TEST

START_TEST(test_a_new_resource_is_added_whole_with_an_empty_pointer)
{
	json_t *t = base_json();
	struct pair p;
	const struct diff_entry *e;

	json_array_append_new(json_object_get(t, "resources"), json_pack(
	    "{s:s, s:s, s:s, s:{s:s}}", "id", NM "/networkGroups/ng", "name", "ng",
	    "type", "Microsoft.Network/networkManagers/networkGroups", "properties",
	    "memberType", "VirtualNetwork"));
	diff_against(&p, t);
	ck_assert_uint_eq(p.d.n, 1);
	e = &p.d.v[0];
	ck_assert_int_eq(e->kind, DIFF_ADDED);
	ck_assert_str_eq(e->resource_id, NM "/networkGroups/ng");
	ck_assert_str_eq(e->type, "Microsoft.Network/networkManagers/networkGroups");
	ck_assert_str_eq(e->pointer, "");
	ck_assert_ptr_null(e->before);
	ck_assert_str_eq(json_path_str(e->after, "properties", "memberType", NULL), "VirtualNetwork");
	ck_assert_ptr_null(e->claimed_by);
	pair_free(&p);
}
END_TEST

START_TEST(test_a_resource_gone_from_the_target_is_removed_with_its_current_body)
{
	json_t *t = base_json(), *res = json_object_get(t, "resources");
	struct pair p;
	size_t i;

	for (i = 0; i < json_array_size(res); i++)
		if (strcmp(json_str(json_array_get(res, i), "name"), "nm") == 0)
			json_array_remove(res, i);
	json_object_del(json_object_get(t, "observed"), "avnmDeployments");
	diff_against(&p, t);
	ck_assert_uint_eq(p.d.n, 2);
	ck_assert_int_eq(p.d.v[0].kind, DIFF_REMOVED);
	ck_assert_str_eq(p.d.v[0].resource_id, NM);
	ck_assert_str_eq(p.d.v[0].pointer, "");
	ck_assert_ptr_null(p.d.v[0].after);
	ck_assert_str_eq(json_str(p.d.v[0].before, "name"), "nm");
	/* the deployments that went with it are an observed entry of their own */
	ck_assert_str_eq(p.d.v[1].resource_id, "observed");
	ck_assert_int_eq(p.d.v[1].kind, DIFF_REMOVED);
	pair_free(&p);
}
END_TEST

START_TEST(test_a_nested_property_change_is_named_by_its_pointer)
{
	json_t *t = base_json();
	json_t *sub = json_array_get(json_path(res_named(t, "spoke-a"), "properties", "subnets", NULL), 1);
	const struct diff_entry *e;
	struct pair p;

	json_object_set_new(json_object_get(sub, "properties"), "privateEndpointNetworkPolicies",
	    json_string("Enabled"));
	json_object_set_new(json_object_get(res_named(t, "spoke-a"), "properties"),
	    "privateEndpointVNetPolicies", json_string("Basic"));
	diff_against(&p, t);
	ck_assert_uint_eq(p.d.n, 2);
	e = entry_at(&p.d, VNET_A, "/properties/subnets/1/properties/privateEndpointNetworkPolicies");
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->kind, DIFF_CHANGED);
	ck_assert_str_eq(json_string_value(e->before), "Disabled");
	ck_assert_str_eq(json_string_value(e->after), "Enabled");
	e = entry_at(&p.d, VNET_A, "/properties/privateEndpointVNetPolicies");
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->kind, DIFF_ADDED);
	ck_assert_ptr_null(e->before);
	ck_assert_str_eq(json_string_value(e->after), "Basic");
	pair_free(&p);
}
END_TEST

START_TEST(test_reordered_subnets_peerings_and_routes_are_no_change)
{
	json_t *t = base_json(), *subnets, *routes, *first;

	subnets = json_path(res_named(t, "spoke-a"), "properties", "subnets", NULL);
	first = json_incref(json_array_get(subnets, 0));
	json_array_remove(subnets, 0);
	json_array_append_new(subnets, first);
	routes = json_path(res_named(t, "rt-a"), "properties", "routes", NULL);
	first = json_incref(json_array_get(routes, 0));
	json_array_remove(routes, 0);
	json_array_append_new(routes, first);
	expect_no_difference(t);
}
END_TEST

START_TEST(test_named_children_match_by_name_case_insensitively_and_report_each_side)
{
	json_t *t = base_json(), *subnets, *routes;
	const struct diff_entry *e;
	struct pair p;

	subnets = json_path(res_named(t, "spoke-a"), "properties", "subnets", NULL);
	/* rename by case only: same subnet */
	json_object_set_new(json_array_get(subnets, 0), "name", json_string("WORKLOAD"));
	json_array_remove(subnets, 2); /* "extra" goes */
	json_array_insert_new(subnets, 0, json_pack("{s:s, s:{s:s}}", "name", "new",
	    "properties", "addressPrefix", "10.1.1.0/25"));
	routes = json_path(res_named(t, "rt-a"), "properties", "routes", NULL);
	json_object_set_new(json_object_get(json_array_get(routes, 1), "properties"),
	    "nextHopIpAddress", json_string("10.0.0.5"));
	diff_against(&p, t);
	ck_assert_uint_eq(p.d.n, 3);
	e = entry_at(&p.d, VNET_A, "/properties/subnets/0");
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->kind, DIFF_ADDED); /* target index */
	ck_assert_str_eq(json_str(e->after, "name"), "new");
	e = entry_at(&p.d, VNET_A, "/properties/subnets/2");
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->kind, DIFF_REMOVED); /* current index */
	ck_assert_str_eq(json_str(e->before, "name"), "extra");
	e = entry_at(&p.d, RT, "/properties/routes/1/properties/nextHopIpAddress");
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(json_string_value(e->before), "10.0.0.4");
	pair_free(&p);
}
END_TEST

START_TEST(test_a_removed_peering_is_one_entry_per_side)
{
	json_t *t = base_json();
	struct pair p;

	json_array_clear(json_path(res_named(t, "spoke-a"), "properties", "virtualNetworkPeerings", NULL));
	json_array_clear(json_path(res_named(t, "spoke-b"), "properties", "virtualNetworkPeerings", NULL));
	diff_against(&p, t);
	ck_assert_uint_eq(p.d.n, 2);
	ck_assert_ptr_nonnull(entry_at(&p.d, VNET_A, "/properties/virtualNetworkPeerings/0"));
	ck_assert_ptr_nonnull(entry_at(&p.d, VNET_B, "/properties/virtualNetworkPeerings/0"));
	ck_assert_int_eq(p.d.v[0].kind, DIFF_REMOVED);
	ck_assert_int_eq(p.d.v[1].kind, DIFF_REMOVED);
	pair_free(&p);
}
END_TEST

START_TEST(test_read_only_fields_arm_computes_are_ignored)
{
	json_t *t = base_json(), *a = res_named(t, "spoke-a"), *props = json_object_get(a, "properties");
	json_t *peering = json_array_get(json_object_get(props, "virtualNetworkPeerings"), 0);
	json_t *sub0 = json_array_get(json_object_get(props, "subnets"), 0);

	json_object_set_new(a, "etag", json_string("W/\"2\""));
	json_object_set_new(a, "systemData", json_pack("{s:s}", "createdBy", "someone"));
	json_object_set_new(props, "provisioningState", json_string("Updating"));
	json_object_set_new(props, "resourceGuid", json_string("g-2"));
	json_object_set_new(json_object_get(peering, "properties"), "peeringSyncLevel",
	    json_string("LocalNotInSync"));
	json_object_set_new(json_object_get(peering, "properties"), "peeringState",
	    json_string("Initiated"));
	json_object_set_new(json_object_get(peering, "properties"), "remoteAddressSpace",
	    json_pack("{s:[s]}", "addressPrefixes", "10.9.0.0/24"));
	json_object_del(json_object_get(sub0, "properties"), "ipConfigurations");
	json_object_set_new(json_path(res_named(t, "rt-a"), "properties", NULL), "subnets",
	    json_array());
	expect_no_difference(t);
}
END_TEST

START_TEST(test_the_same_key_outside_its_read_only_place_is_compared)
{
	/* "subnets" is read-only on a route table, not on a VNet */
	json_t *t = base_json();
	struct pair p;

	json_array_remove(json_path(res_named(t, "spoke-a"), "properties", "subnets", NULL), 2);
	diff_against(&p, t);
	ck_assert_uint_eq(p.d.n, 1);
	ck_assert_str_eq(p.d.v[0].pointer, "/properties/subnets/2");
	pair_free(&p);
}
END_TEST

START_TEST(test_other_arrays_are_compared_whole)
{
	json_t *t = base_json();
	const struct diff_entry *e;
	struct pair p;

	json_object_set_new(json_path(res_named(t, "spoke-a"), "properties", "addressSpace", NULL),
	    "addressPrefixes", json_pack("[s, s]", "10.1.1.0/24", "10.1.0.0/24"));
	diff_against(&p, t);
	ck_assert_uint_eq(p.d.n, 1);
	e = &p.d.v[0];
	ck_assert_int_eq(e->kind, DIFF_CHANGED);
	ck_assert_str_eq(e->pointer, "/properties/addressSpace/addressPrefixes");
	ck_assert(json_is_array(e->before) && json_is_array(e->after));
	ck_assert_str_eq(json_string_value(json_array_get(e->after, 0)), "10.1.1.0/24");
	pair_free(&p);
}
END_TEST

START_TEST(test_ids_names_types_and_regions_compare_without_case)
{
	json_t *t = base_json(), *b = res_named(t, "spoke-b");
	json_t *peer = json_array_get(json_path(res_named(t, "spoke-a"), "properties",
	    "virtualNetworkPeerings", NULL), 0);
	char upper[512];
	struct pair p;
	size_t i;

	snprintf(upper, sizeof(upper), "%s", VNET_B);
	for (i = 0; upper[i] != '\0'; i++)
		if (upper[i] >= 'a' && upper[i] <= 'z')
			upper[i] = (char)(upper[i] - 32);
	json_object_set_new(b, "id", json_string(upper));
	json_object_set_new(json_path(peer, "properties", "remoteVirtualNetwork", NULL), "id",
	    json_string(upper));
	expect_no_difference(t);

	/* names, types and regions as ARM spells them differently are no change either */
	t = base_json();
	b = res_named(t, "spoke-b");
	json_object_set_new(b, "name", json_string("SPOKE-B"));
	json_object_set_new(b, "type", json_string("microsoft.network/virtualnetworks"));
	json_object_set_new(b, "location", json_string("East US"));
	expect_no_difference(t);

	/* a change in the re-cased resource carries the target's id */
	t = base_json();
	b = res_named(t, "spoke-b");
	json_object_set_new(b, "id", json_string(upper));
	json_object_set_new(b, "location", json_string("westus"));
	diff_against(&p, t);
	ck_assert_uint_eq(p.d.n, 1);
	ck_assert_str_eq(p.d.v[0].resource_id, upper);
	ck_assert_str_eq(p.d.v[0].pointer, "/location");
	pair_free(&p);
}
END_TEST

START_TEST(test_observed_features_are_diffed_with_escaped_pointers)
{
	json_t *t = base_json(), *f = json_path(t, "observed", "features", NULL);
	const struct diff_entry *e;
	struct pair p;

	json_object_set_new(f, "Microsoft.Network/AllowHighScaleConnectedGroup", json_string("Registered"));
	json_object_set_new(f, "Microsoft.Network/EnableMaxPrivateEndpointsVia64kPath",
	    json_string("Registered"));
	diff_against(&p, t);
	ck_assert_uint_eq(p.d.n, 2);
	e = entry_at(&p.d, "observed",
	    "/observed/features/Microsoft.Network~1AllowHighScaleConnectedGroup");
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->kind, DIFF_CHANGED);
	ck_assert_str_eq(e->type, "observed");
	ck_assert_str_eq(json_string_value(e->before), "NotRegistered");
	ck_assert_str_eq(json_string_value(e->after), "Registered");
	e = entry_at(&p.d, "observed",
	    "/observed/features/Microsoft.Network~1EnableMaxPrivateEndpointsVia64kPath");
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->kind, DIFF_ADDED);
	pair_free(&p);
}
END_TEST

START_TEST(test_deployments_are_compared_as_sets_of_ids)
{
	json_t *t = base_json(), *list;
	const struct diff_entry *e;
	struct pair p;
	char pointer[1024] = "/observed/avnmDeployments";

	/* the same configurations, reordered and re-cased: no change */
	list = json_path(t, "observed", "avnmDeployments", NM, "eastus", "Connectivity", NULL);
	json_array_clear(list);
	json_array_append_new(list, json_string(CC2));
	json_array_append_new(list, json_string("/SUBSCRIPTIONS/00000000-0000-4000-8000-000000000001"
	    "/resourceGroups/rg/providers/Microsoft.Network/networkManagers/nm"
	    "/connectivityConfigurations/CC-1"));
	expect_no_difference(t);

	/* a third configuration, and a new region */
	t = base_json();
	list = json_path(t, "observed", "avnmDeployments", NM, "eastus", "Connectivity", NULL);
	json_array_append_new(list, json_string(NM "/connectivityConfigurations/mesh"));
	json_object_set_new(json_path(t, "observed", "avnmDeployments", NM, NULL), "westus",
	    json_pack("{s:[s]}", "Connectivity", NM "/connectivityConfigurations/mesh"));
	diff_against(&p, t);
	ck_assert_uint_eq(p.d.n, 2);
	json_pointer_push(pointer, sizeof(pointer), NM);
	json_pointer_push(pointer, sizeof(pointer), "eastus");
	json_pointer_push(pointer, sizeof(pointer), "Connectivity");
	e = entry_at(&p.d, "observed", pointer);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->kind, DIFF_CHANGED);
	ck_assert_uint_eq(json_array_size(e->before), 2);
	ck_assert_uint_eq(json_array_size(e->after), 3);
	e = &p.d.v[1];
	ck_assert_int_eq(e->kind, DIFF_ADDED);
	ck_assert_ptr_nonnull(strstr(e->pointer, "/westus/Connectivity"));
	ck_assert_ptr_null(e->before);
	pair_free(&p);
}
END_TEST

START_TEST(test_circuit_routes_are_observations_never_changes)
{
	json_t *t = base_json();

	json_object_set_new(json_path(t, "observed", "circuitRoutes", NULL),
	    RG "/expressRouteCircuits/er", json_pack("[{s:s}]", "network", "10.200.0.0/16"));
	expect_no_difference(t);
}
END_TEST

START_TEST(test_entries_are_sorted_by_resource_then_pointer)
{
	json_t *t = base_json(), *a = res_named(t, "spoke-a"), *subnets;
	struct pair p;
	size_t i;

	json_object_set_new(json_path(t, "observed", "features", NULL), "X/Y", json_string("Registered"));
	json_object_set_new(res_named(t, "spoke-b"), "location", json_string("westus"));
	json_object_set_new(a, "location", json_string("westus"));
	subnets = json_path(a, "properties", "subnets", NULL);
	json_object_set_new(json_object_get(json_array_get(subnets, 2), "properties"),
	    "addressPrefix", json_string("10.1.1.128/25"));
	for (i = 3; i <= 11; i++) {
		char name[16], prefix[32];
		snprintf(name, sizeof(name), "s%zu", i);
		snprintf(prefix, sizeof(prefix), "10.1.1.%zu/29", (i - 3) * 8);
		json_array_append_new(subnets, json_pack("{s:s, s:{s:s}}", "name", name,
		    "properties", "addressPrefix", prefix));
	}
	json_object_set_new(json_path(res_named(t, "rt-a"), "properties", NULL),
	    "disableBgpRoutePropagation", json_true());
	diff_against(&p, t);
	ck_assert_uint_eq(p.d.n, 14);
	/* routeTables < virtualNetworks/spoke-a < spoke-b, observed last */
	ck_assert_str_eq(p.d.v[0].resource_id, RT);
	ck_assert_str_eq(p.d.v[1].resource_id, VNET_A);
	ck_assert_str_eq(p.d.v[1].pointer, "/location");
	ck_assert_str_eq(p.d.v[2].pointer, "/properties/subnets/2/properties/addressPrefix");
	ck_assert_str_eq(p.d.v[3].pointer, "/properties/subnets/3");
	ck_assert_str_eq(p.d.v[9].pointer, "/properties/subnets/9");
	ck_assert_str_eq(p.d.v[10].pointer, "/properties/subnets/10");
	ck_assert_str_eq(p.d.v[11].pointer, "/properties/subnets/11");
	ck_assert_str_eq(p.d.v[12].resource_id, VNET_B);
	ck_assert_str_eq(p.d.v[13].resource_id, "observed");
	pair_free(&p);
}
END_TEST

START_TEST(test_diff_to_json_names_kind_resource_pointer_and_values)
{
	json_t *t = base_json(), *j, *e0;
	struct pair p;

	json_object_set_new(res_named(t, "spoke-b"), "location", json_string("westus"));
	diff_against(&p, t);
	ck_assert_uint_eq(p.d.n, 1);
	p.d.v[0].claimed_by = "avnm-mesh";
	j = diff_to_json(&p.d);
	ck_assert_ptr_nonnull(j);
	ck_assert_uint_eq(json_array_size(j), 1);
	e0 = json_array_get(j, 0);
	ck_assert_str_eq(json_str(e0, "kind"), "changed");
	ck_assert_str_eq(json_str(e0, "resource"), VNET_B);
	ck_assert_str_eq(json_str(e0, "type"), "Microsoft.Network/virtualNetworks");
	ck_assert_str_eq(json_str(e0, "pointer"), "/location");
	ck_assert_str_eq(json_str(e0, "before"), "eastus");
	ck_assert_str_eq(json_str(e0, "after"), "westus");
	ck_assert_str_eq(json_str(e0, "claimedBy"), "avnm-mesh");
	json_decref(j);
	pair_free(&p);
}
END_TEST

START_TEST(test_diff_free_accepts_null_and_an_empty_diff)
{
	struct diff d = { 0 };

	diff_free(NULL);
	diff_free(&d);
	diff_free(&d);
	ck_assert_uint_eq(d.n, 0);
	ck_assert_ptr_null(d.v);
}
END_TEST

int
main(void)
{
	const TTest *const diff_tests[] = {
		TEST_CASE("diff", 0),
		test_identical_topologies_have_no_differences,
		test_a_new_resource_is_added_whole_with_an_empty_pointer,
		test_a_resource_gone_from_the_target_is_removed_with_its_current_body,
		test_a_nested_property_change_is_named_by_its_pointer,
		test_reordered_subnets_peerings_and_routes_are_no_change,
		test_named_children_match_by_name_case_insensitively_and_report_each_side,
		test_a_removed_peering_is_one_entry_per_side,
		test_read_only_fields_arm_computes_are_ignored,
		test_the_same_key_outside_its_read_only_place_is_compared,
		test_other_arrays_are_compared_whole,
		test_ids_names_types_and_regions_compare_without_case,
		test_observed_features_are_diffed_with_escaped_pointers,
		test_deployments_are_compared_as_sets_of_ids,
		test_circuit_routes_are_observations_never_changes,
		test_entries_are_sorted_by_resource_then_pointer,
		test_diff_to_json_names_kind_resource_pointer_and_values,
		test_diff_free_accepts_null_and_an_empty_diff,
		NULL,
	};

	return test_main("diff", diff_tests);
}
