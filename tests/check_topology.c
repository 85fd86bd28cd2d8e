/*
 * Tests of the topology model (plan/topology.c): the valid files under
 * tests/data/topo load into linked typed views; the bad-input corpus under
 * tests/data/bad is rejected with the message tests/data/bad/EXPECTED
 * names; the canonical dump is stable; limits and look-ups behave.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "plan/jsonutil.h"
#include "plan/topology.h"
#include "tests/testutil.h"

#define SUB "/subscriptions/11111111-2222-3333-4444-555555555555"
#define RGNET SUB "/resourceGroups/rg-net/providers/Microsoft.Network"
#define RGHUB SUB "/resourceGroups/rg-hub/providers/Microsoft.Network"
#define RGSPK SUB "/resourceGroups/rg-spokes/providers/Microsoft.Network"
#define DOCSUB "/subscriptions/6f1c2a30-8d4e-4b7a-9c51-2e0f3a7b9d10"
#define DOCNET DOCSUB "/resourceGroups/rg-network/providers/Microsoft.Network"
#define DOCSPK DOCSUB "/resourceGroups/rg-spokes/providers/Microsoft.Network"

static char *
read_data(const char *rel, size_t *len)
{
	char *buf = NULL;
	struct nw_err err = { 0 };

	ck_assert_msg(file_read_all(&buf, len, test_data_path(rel), (size_t)1 << 30, &err) == 0,
	    "%s", err.msg);
	return buf;
}

/* The VNet id of t; fails the test naming it when t has none. */
static struct topo_vnet *
vnet_in(const struct topology *t, const char *id)
{
	struct topo_vnet *v = topology_find_vnet(t, id);

	ck_assert_msg(v != NULL, "no VNet %s", id);
	return v;
}

/* Asserts that the files rel_a and rel_b under tests/data hold the same bytes. */
static void
assert_same_data(const char *rel_a, const char *rel_b)
{
	size_t alen, blen;
	char *a = read_data(rel_a, &alen), *b = read_data(rel_b, &blen);

	ck_assert_msg(alen == blen, "%s holds %zu bytes, %s %zu", rel_a, alen, rel_b, blen);
	ck_assert_msg(memcmp(a, b, alen) == 0, "%s and %s differ", rel_a, rel_b);
	free(a);
	free(b);
}

static const struct topo_warning *
find_warning(const struct topology *t, const char *pointer)
{
	size_t i;

	for (i = 0; i < t->nwarnings; i++)
		if (strcmp(t->warnings[i].pointer, pointer) == 0)
			return &t->warnings[i];
	return NULL;
}

/* ------------------------------------------------------------------ */

START_TEST(test_every_valid_file_loads_without_warnings)
{
	static const struct {
		const char *file;
		size_t nres, nvnets;
	} files[] = {
		{ "topo/hub-spoke.json", 8, 4 },
		{ "topo/all-types.json", 18, 2 },
		{ "topo/unknown.json", 6, 1 },
		{ "topo/doc-example.json", 14, 3 },
		{ "topo/canonical.json", 8, 4 },
	};
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct topology *t = test_topology_file(files[i].file);

		ck_assert_uint_eq(t->nres, files[i].nres);
		ck_assert_uint_eq(t->nvnets, files[i].nvnets);
		ck_assert_msg(t->nwarnings == 0, "%s: unexpected warning %s: %s", files[i].file,
		    t->nwarnings ? t->warnings[0].pointer : "", t->nwarnings ? t->warnings[0].message : "");
		topology_free(t);
	}
}
END_TEST

START_TEST(test_user_example_in_examples_is_the_documented_one_and_loads)
{
	struct topology *t = test_topology_file("../../examples/small.json");

	topology_free(t);
	assert_same_data("../../examples/small.json", "topo/doc-example.json");
}
END_TEST

START_TEST(test_a_child_is_found_inside_its_parent_by_id_or_name_ignoring_case)
{
	struct topology *t = test_topology_file("topo/doc-example.json");
	struct nw_err err = { 0 };
	const char *sub = DOCSPK "/VIRTUALNETWORKS/vnet-spoke1-eastus/Subnets/SNET-APP";
	const char *peer = DOCNET "/virtualNetworks/vnet-hub-eastus/virtualNetworkPeerings/hub-to-spoke2";
	json_t *v = NULL;
	size_t plen = 0;

	ck_assert_ptr_nonnull(topology_child_kind(sub, &plen));
	ck_assert_str_eq(topology_child_kind(sub, NULL)->array, "subnets");
	ck_assert_uint_eq(plen, strlen(DOCSPK "/VIRTUALNETWORKS/vnet-spoke1-eastus"));
	ck_assert_str_eq(topology_child_kind(peer, NULL)->array, "virtualNetworkPeerings");
	ck_assert_ptr_null(topology_child_kind(DOCNET "/virtualNetworks/vnet-hub-eastus", NULL));
	ck_assert_ptr_null(topology_child_kind(DOCNET "/networkManagers/nm/networkGroups/g", NULL));

	ck_assert_int_eq(topology_resource_view(&v, t, sub, &err), 0);
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(json_str(v, "name"), "snet-app");
	ck_assert_str_eq(json_str(v, "type"), "Microsoft.Network/virtualNetworks/subnets");
	json_decref(v);
	ck_assert_int_eq(topology_resource_view(&v, t, peer, &err), 0);
	ck_assert_str_eq(json_path_str(v, "properties", "remoteVirtualNetwork", "id", NULL),
	    DOCSPK "/virtualNetworks/vnet-spoke2-eastus");
	json_decref(v);

	/* a child its parent does not hold, or whose parent is not there, is absent */
	ck_assert_int_eq(topology_resource_view(&v, t, DOCNET "/virtualNetworks/vnet-hub-eastus/subnets/nope",
	    &err), 0);
	ck_assert_ptr_null(v);
	ck_assert_int_eq(topology_resource_view(&v, t, DOCNET "/virtualNetworks/nope/subnets/snet-app",
	    &err), 0);
	ck_assert_ptr_null(v);
	ck_assert_int_eq(topology_resource_view(&v, NULL, sub, &err), 1);
	topology_free(t);
}
END_TEST

START_TEST(test_a_child_without_an_id_is_matched_by_name_and_given_its_own_id)
{
	json_t *parent = json_pack("{s:s, s:{s:[{s:s, s:{s:s}}, {s:s, s:s}]}}", "id", "/x/routeTables/rt",
	    "properties", "routes", "name", "To-Hub", "properties", "nextHopType", "VirtualAppliance",
	    "name", "other", "id", "/x/routeTables/rt/routes/other");
	json_t *c = NULL;
	struct nw_err err = { 0 };

	ck_assert_ptr_nonnull(topology_child_get(parent, "/x/routeTables/rt/routes/to-hub"));
	ck_assert_int_eq(topology_child_copy(&c, parent, "/x/routeTables/rt/routes/to-hub", &err), 0);
	ck_assert_str_eq(json_str(c, "id"), "/x/routeTables/rt/routes/to-hub");
	ck_assert_str_eq(json_str(c, "type"), "Microsoft.Network/routeTables/routes");
	json_decref(c);
	/* an entry with an id is matched by its id, not by a name that happens to agree */
	ck_assert_ptr_null(topology_child_get(parent, "/x/routeTables/rt2/routes/other"));
	ck_assert_ptr_nonnull(topology_child_get(parent, "/X/ROUTETABLES/RT/ROUTES/OTHER"));
	ck_assert_int_eq(topology_child_copy(&c, parent, "/x/routeTables/rt/routes/gone", &err), 0);
	ck_assert_ptr_null(c);
	json_decref(parent);
}
END_TEST

START_TEST(test_a_parent_is_judged_without_its_embedded_children)
{
	struct topology *t = test_topology_file("topo/doc-example.json");
	struct nw_err err = { 0 };
	const char *hub = DOCNET "/virtualNetworks/vnet-hub-eastus";
	const struct topo_resource *r = topology_find(t, hub);
	json_t *v = NULL, *other = NULL;

	ck_assert_int_eq(topology_resource_view(&v, t, hub, &err), 0);
	ck_assert_ptr_null(json_path(v, "properties", "subnets", NULL));
	ck_assert_ptr_null(json_path(v, "properties", "virtualNetworkPeerings", NULL));
	ck_assert_ptr_nonnull(json_path(v, "properties", "addressSpace", NULL));
	/* the topology's own resource is left whole */
	ck_assert_ptr_nonnull(json_path(r->json, "properties", "subnets", NULL));
	json_decref(v);
	/* a resource of a type that embeds nothing is the same reference */
	other = json_pack("{s:s, s:{s:[]}}", "id", "/x/networkManagers/nm", "properties", "subnets");
	ck_assert_int_eq(topology_without_children(&v, NULL, other, &err), 0);
	ck_assert_ptr_eq(v, other);
	json_decref(v);
	json_decref(other);
	topology_free(t);
}
END_TEST

START_TEST(test_the_example_in_the_docs_is_the_tested_one_and_loads)
{
	size_t len, elen;
	char *doc = read_data("../../docs/topology.md", &len);
	char *example = read_data("topo/doc-example.json", &elen);
	char *start = strstr(doc, "\n## A complete example\n"), *end;
	struct topology *t = NULL;
	struct nw_err err = { 0 };

	ck_assert_ptr_nonnull(start);
	start = strstr(start, "```json\n");
	ck_assert_ptr_nonnull(start);
	start += strlen("```json\n");
	end = strstr(start, "\n```");
	ck_assert_ptr_nonnull(end);
	ck_assert_int_eq(topology_load_buffer(&t, start, (size_t)(end - start), "docs", NULL, &err), 0);
	ck_assert_uint_eq(t->nwarnings, 0);
	ck_assert_uint_eq((size_t)(end + 1 - start), elen);
	ck_assert(memcmp(start, example, elen) == 0);
	topology_free(t);
	free(doc);
	free(example);
}
END_TEST

START_TEST(test_doc_example_links_gateway_circuit_and_avnm)
{
	struct topology *t = test_topology_file("topo/doc-example.json");
	struct topo_vnet *hub = vnet_in(t, DOCNET "/virtualNetworks/vnet-hub-eastus");
	struct topo_vnet *s1 = vnet_in(t, DOCSPK "/virtualNetworks/vnet-spoke1-eastus");
	struct topo_gateway *g;
	struct topo_circuit *c;
	struct topo_network_manager *m;
	struct topo_connectivity_config *cc;
	struct topo_subnet *pe_subnet;

	ck_assert_uint_eq(t->ngateways, 1);
	g = &t->gateways[0];
	ck_assert_int_eq(g->kind, GATEWAY_EXPRESSROUTE);
	ck_assert_ptr_eq(g->vnet, hub);
	ck_assert_uint_eq(hub->ngateways, 1);
	ck_assert_ptr_eq(hub->gateways[0], g);
	ck_assert_uint_eq(g->npublic_ips, 1);
	ck_assert_ptr_nonnull(g->public_ips[0]);
	ck_assert_str_eq(g->public_ips[0]->sku_name, "Basic");
	ck_assert(!g->allow_remote_vnet_traffic);
	ck_assert_str_eq(g->migration_phase, "None");
	ck_assert_str_eq(g->bgp_peering_address, "10.0.0.4,10.0.0.5");
	ck_assert_uint_eq(g->nconnections, 1);
	c = g->connections[0]->circuit;
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->nconnections, 1);
	ck_assert_ptr_eq(c->connections[0], g->connections[0]);
	ck_assert(c->routes_observed);
	ck_assert_uint_eq(c->nroutes, 2);
	ck_assert_str_eq(c->routes[1].path, "65020 65100");
	ck_assert_uint_eq(c->routes[0].prefix.len, 16);

	pe_subnet = topology_find_subnet(t, DOCSPK "/virtualNetworks/vnet-spoke1-eastus/subnets/snet-pe");
	ck_assert_ptr_nonnull(pe_subnet);
	ck_assert_uint_eq(pe_subnet->nprivate_endpoints, 1);
	ck_assert_uint_eq(s1->nprivate_endpoints, 1);
	ck_assert_ptr_eq(t->private_endpoints[0].subnet, pe_subnet);
	ck_assert_ptr_eq(t->nics[0].subnet, &s1->subnets[0]);
	ck_assert_str_eq(t->nics[0].private_ip, "10.1.0.4");
	ck_assert_ptr_eq(s1->subnets[0].route_table, &t->route_tables[0]);

	ck_assert_uint_eq(t->nmanagers, 1);
	m = &t->managers[0];
	ck_assert_uint_eq(m->ngroups, 1);
	ck_assert_uint_eq(m->nconfigs, 1);
	ck_assert_uint_eq(m->groups[0]->nmembers, 1);
	ck_assert_ptr_eq(m->groups[0]->members[0]->vnet, s1);
	ck_assert_ptr_eq(m->groups[0]->manager, m);
	cc = m->configs[0];
	ck_assert_int_eq(cc->topology, CC_MESH);
	ck_assert(!cc->is_global);
	ck_assert(cc->overlap_disallowed);
	ck_assert(!cc->high_scale_private_endpoints);
	ck_assert_uint_eq(cc->ngroups, 1);
	ck_assert_ptr_eq(cc->groups[0].group, m->groups[0]);
	ck_assert_uint_eq(t->ndeployments, 1);
	ck_assert_ptr_eq(t->deployments[0].manager, m);
	ck_assert_str_eq(t->deployments[0].region, "eastus");
	ck_assert_str_eq(t->deployments[0].config_type, "Connectivity");
	ck_assert_uint_eq(t->deployments[0].nconfigs, 1);
	ck_assert_ptr_eq(t->deployments[0].configs[0], cc);
	ck_assert_str_eq(topology_feature_state(t, "Microsoft.Network/AllowHighScaleConnectedGroup"),
	    "NotRegistered");
	topology_free(t);
}
END_TEST

START_TEST(test_hub_spoke_peerings_link_whatever_the_id_casing)
{
	struct topology *t = test_topology_file("topo/hub-spoke.json");
	struct topo_vnet *hub = vnet_in(t, RGHUB "/virtualNetworks/hub-eastus");
	struct topo_vnet *s2 = vnet_in(t, RGSPK "/virtualNetworks/spoke-2");
	size_t i;

	ck_assert_uint_eq(hub->npeerings, 3);
	for (i = 0; i < 3; i++) {
		ck_assert_ptr_nonnull(hub->peerings[i].remote);
		ck_assert(hub->peerings[i].allow_gateway_transit);
		ck_assert(hub->peerings[i].allow_virtual_network_access);
		ck_assert_int_eq(hub->peerings[i].state, PEERING_CONNECTED);
		ck_assert_ptr_eq(hub->peerings[i].vnet, hub);
	}
	/* spoke-2 names the hub with "resourcegroups" in lower case */
	ck_assert(strstr(s2->peerings[0].remote_id, "/resourcegroups/") != NULL);
	ck_assert_ptr_eq(s2->peerings[0].remote, hub);
	ck_assert(s2->peerings[0].use_remote_gateways);
	ck_assert_uint_eq(s2->peerings[0].remote_prefixes.n, 1);
	ck_assert(hub->subnets[0].is_gateway_subnet && hub->subnets[0].is_infrastructure);
	ck_assert(!hub->subnets[1].is_gateway_subnet && hub->subnets[1].is_infrastructure);
	ck_assert(!s2->subnets[0].is_infrastructure);
	/* observed routes keyed by an upper-cased circuit id still land on the circuit */
	ck_assert(t->circuits[0].routes_observed);
	ck_assert_uint_eq(t->circuits[0].nroutes, 1);
	ck_assert_int_eq(t->connections[0].routing_weight, 10);
	topology_free(t);
}
END_TEST

START_TEST(test_subscription_and_resource_group_are_parsed_from_ids)
{
	struct topology *t = test_topology_file("topo/hub-spoke.json");
	struct topo_vnet *s1 = vnet_in(t, RGSPK "/virtualNetworks/spoke-1");
	struct topo_vnet *s3 = vnet_in(t, RGSPK "/virtualNetworks/spoke-3");
	struct topology *u = test_topology_file("topo/unknown.json");

	ck_assert_str_eq(s1->res->subscription, "11111111-2222-3333-4444-555555555555");
	ck_assert_str_eq(s1->res->resource_group, "rg-spokes");
	/* owned once, shared by every resource of the group */
	ck_assert_ptr_eq(s1->res->resource_group, s3->res->resource_group);
	/* a subscription-level resource has no group; a tenant-level one neither */
	ck_assert_str_eq(u->res[1].subscription, "99999999-0000-0000-0000-000000000001");
	ck_assert_ptr_null(u->res[1].resource_group);
	ck_assert_ptr_null(u->res[5].subscription);
	ck_assert_ptr_null(u->res[5].resource_group);
	topology_free(t);
	topology_free(u);
}
END_TEST

START_TEST(test_all_types_reads_arm_string_booleans_and_defaults)
{
	struct topology *t = test_topology_file("topo/all-types.json");
	struct topo_vnet *hub = vnet_in(t, RGNET "/virtualNetworks/hub");
	struct topo_vnet *spoke = vnet_in(t, RGNET "/virtualNetworks/spoke");
	struct topo_peering *hp, *sp;
	struct topo_gateway *vpn = t->res[2].view;

	hp = &hub->peerings[0];
	sp = &spoke->peerings[0];
	ck_assert(hp->allow_virtual_network_access); /* absent: true */
	ck_assert(hp->allow_gateway_transit);        /* "True" */
	ck_assert_int_eq(hp->state, PEERING_INITIATED);
	ck_assert_str_eq(hp->id, RGNET "/virtualNetworks/hub/virtualNetworkPeerings/hub-to-spoke");
	ck_assert_ptr_eq(hp->remote, spoke);
	ck_assert_uint_eq(hp->remote_prefixes.n, 1); /* only remoteAddressSpace given */
	ck_assert(!sp->allow_virtual_network_access);
	ck_assert_uint_eq(sp->remote_prefixes.n, 2); /* remoteVirtualNetworkAddressSpace wins */
	ck_assert_int_eq(sp->remote_prefixes.v[1].family, 6);

	ck_assert_int_eq(vpn->kind, GATEWAY_VPN);
	ck_assert(!vpn->allow_remote_vnet_traffic);  /* "False" */
	ck_assert_str_eq(vpn->sku, "VpnGw2");
	ck_assert_str_eq(vpn->migration_state, "InProgress");
	ck_assert_str_eq(vpn->migration_phase, "PrepareSucceeded");
	ck_assert_uint_eq(vpn->npublic_ips, 2);
	ck_assert_str_eq(vpn->public_ips[0]->migration_phase, "Prepare");
	ck_assert_str_eq(vpn->public_ips[1]->sku_name, "Standard");
	ck_assert_uint_eq(vpn->nconnections, 1);
	ck_assert_ptr_null(vpn->connections[0]->circuit); /* IPsec: no peer */
	ck_assert_int_eq(vpn->connections[0]->routing_weight, 5);
	ck_assert_int_eq(t->res[6].type, TOPO_GATEWAY);
	ck_assert(((struct topo_gateway *)t->res[6].view)->allow_remote_vnet_traffic); /* absent */
	ck_assert_uint_eq(((struct topo_gateway *)t->res[6].view)->npublic_ips, 0);
	ck_assert_uint_eq(hub->ngateways, 2);

	ck_assert_uint_eq(hub->prefixes.n, 2);
	ck_assert_uint_eq(hub->summarized.n, 1);
	ck_assert_str_eq(hub->pe_vnet_policies, "Basic");
	ck_assert(hub->subnets[1].is_infrastructure); /* RouteServerSubnet */
	ck_assert(hub->subnets[2].is_infrastructure); /* AzureBastionSubnet */
	ck_assert_str_eq(hub->subnets[3].id, RGNET "/virtualNetworks/hub/subnets/dual");
	ck_assert_uint_eq(hub->subnets[3].prefixes.n, 2);
	ck_assert_str_eq(hub->subnets[3].pe_network_policies, "RouteTableEnabled");
	ck_assert_ptr_nonnull(hub->subnets[3].route_table);
	ck_assert_str_eq(spoke->res->name, "spoke"); /* taken from the id */
	topology_free(t);
}
END_TEST

START_TEST(test_routes_parse_every_user_next_hop_type)
{
	struct topology *t = test_topology_file("topo/all-types.json");
	struct topo_route_table *rt = &t->route_tables[0];
	char buf[CIDR_STRLEN];

	ck_assert(rt->disable_bgp_route_propagation);
	ck_assert_uint_eq(rt->nroutes, 7);
	ck_assert_int_eq(rt->routes[0].next_hop, NH_VIRTUAL_APPLIANCE);
	ck_assert(rt->routes[0].has_next_hop_ip);
	cidr_format_addr(&rt->routes[0].next_hop_ip, buf);
	ck_assert_str_eq(buf, "10.10.1.4");
	ck_assert_int_eq(rt->routes[1].next_hop, NH_VIRTUAL_APPLIANCE_ECMP);
	ck_assert(!rt->routes[1].has_next_hop_ip);
	ck_assert_int_eq(rt->routes[2].next_hop, NH_NONE); /* "none": any case */
	ck_assert_int_eq(rt->routes[3].next_hop, NH_VNET_LOCAL);
	ck_assert_int_eq(rt->routes[4].next_hop, NH_INTERNET);
	ck_assert_int_eq(rt->routes[5].next_hop, NH_VIRTUAL_NETWORK_GATEWAY);
	ck_assert_int_eq(rt->routes[6].next_hop_ip.family, 6);
	cidr_format(&rt->routes[6].prefix, buf);
	ck_assert_str_eq(buf, "::/0");
	ck_assert_str_eq(rt->routes[2].name, "blackhole");
	topology_free(t);
}
END_TEST

START_TEST(test_next_hop_names_and_parse_agree)
{
	enum topo_next_hop user[] = { NH_VIRTUAL_NETWORK_GATEWAY, NH_VNET_LOCAL, NH_INTERNET,
		NH_VIRTUAL_APPLIANCE, NH_VIRTUAL_APPLIANCE_ECMP, NH_NONE };
	size_t i;

	for (i = 0; i < sizeof(user) / sizeof(user[0]); i++)
		ck_assert_int_eq(topo_next_hop_parse(topo_next_hop_name(user[i])), user[i]);
	ck_assert_int_eq(topo_next_hop_parse("vnetlocal"), NH_VNET_LOCAL);
	ck_assert_str_eq(topo_next_hop_name(NH_CONNECTED_GROUP), "ConnectedGroup");
	ck_assert_str_eq(topo_next_hop_name(NH_VNET_PEERING), "VNetPeering");
	/* system-only next hops cannot be written in a route table */
	ck_assert_int_eq(topo_next_hop_parse("ConnectedGroup"), NH_UNKNOWN);
	ck_assert_int_eq(topo_next_hop_parse("VNetPeering"), NH_UNKNOWN);
	ck_assert_int_eq(topo_next_hop_parse("Firewall"), NH_UNKNOWN);
	ck_assert_int_eq(topo_next_hop_parse(NULL), NH_UNKNOWN);
}
END_TEST

START_TEST(test_avnm_children_and_deployments_link_to_their_parents)
{
	struct topology *t = test_topology_file("topo/all-types.json");
	struct topo_network_manager *m = &t->managers[0];
	struct topo_connectivity_config *cc = &t->configs[0];
	struct topo_vnet *spoke = vnet_in(t, RGNET "/virtualNetworks/spoke");

	ck_assert_uint_eq(m->ngroups, 2);
	ck_assert_uint_eq(m->nconfigs, 1);
	ck_assert_ptr_eq(cc->manager, m);
	ck_assert_int_eq(cc->topology, CC_HUB_AND_SPOKE);
	ck_assert(cc->is_global && cc->delete_existing_peering);
	ck_assert(cc->high_scale_private_endpoints && cc->overlap_disallowed && cc->peering_enforced);
	ck_assert_uint_eq(cc->nhubs, 1);
	ck_assert_str_eq(cc->hub_ids[0], RGNET "/virtualNetworks/hub");
	ck_assert(cc->groups[0].directly_connected && cc->groups[0].use_hub_gateway);
	ck_assert(!cc->groups[0].is_global);
	ck_assert(!cc->groups[1].directly_connected && cc->groups[1].is_global);
	ck_assert_ptr_eq(cc->groups[1].group, &t->groups[1]);
	ck_assert_str_eq(t->groups[1].member_type, "Subnet");
	ck_assert_ptr_eq(t->members[0].group, &t->groups[0]);
	ck_assert_ptr_eq(t->members[0].vnet, spoke);
	/* sorted by manager, region, type whatever the file's order */
	ck_assert_uint_eq(t->ndeployments, 3);
	ck_assert_str_eq(t->deployments[0].region, "eastus");
	ck_assert_str_eq(t->deployments[0].config_type, "Connectivity");
	ck_assert_str_eq(t->deployments[1].config_type, "SecurityAdmin");
	ck_assert_str_eq(t->deployments[2].region, "westus");
	ck_assert_ptr_eq(t->deployments[2].configs[0], cc);
	/* a deployed security admin configuration is kept by id, not typed */
	ck_assert_ptr_null(t->deployments[1].configs[0]);
	ck_assert(strstr(t->deployments[1].config_ids[0], "sa-1") != NULL);
	/* a circuit whose observed route list is empty was still observed */
	ck_assert(t->circuits[0].routes_observed);
	ck_assert_uint_eq(t->circuits[0].nroutes, 0);
	/* the private endpoint names its subnet in lower case with "PE" for "pe" */
	ck_assert_uint_eq(spoke->subnets[0].nprivate_endpoints, 1);
	topology_free(t);
}
END_TEST

START_TEST(test_find_ignores_case_and_keeps_the_casing_of_the_file)
{
	struct topology *t = test_topology_file("topo/hub-spoke.json");
	struct topo_resource *r = topology_find(t, SUB "/RESOURCEGROUPS/RG-HUB/providers/microsoft.network/"
	    "virtualnetworks/HUB-EASTUS");
	struct topo_subnet *s;

	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->id, RGHUB "/virtualNetworks/hub-eastus");
	ck_assert_str_eq(r->type_name, "Microsoft.Network/virtualNetworks");
	ck_assert_int_eq(r->type, TOPO_VNET);
	ck_assert_uint_eq(r->index, 0);
	s = topology_find_subnet(t, SUB "/resourcegroups/rg-hub/providers/Microsoft.Network/"
	    "virtualNetworks/Hub-EastUS/SUBNETS/gatewaysubnet");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s->name, "GatewaySubnet");
	ck_assert_ptr_null(topology_find_subnet(t, RGHUB "/virtualNetworks/hub-eastus/subnets/nope"));
	ck_assert_ptr_null(topology_find_subnet(t, RGHUB "/virtualNetworks/hub-eastus"));
	ck_assert_ptr_null(topology_find_subnet(t, RGHUB "/virtualNetworks/hub-eastus/subnets/"));
	ck_assert_ptr_null(topology_find_subnet(t, "/subnets/x"));
	ck_assert_ptr_null(topology_find_subnet(t, NULL));
	/* a typed find of another type is NULL */
	ck_assert_ptr_null(topology_find_vnet(t, RGHUB "/publicIPAddresses/er-gw-pip"));
	ck_assert_ptr_nonnull(topology_find(t, RGHUB "/publicIPAddresses/er-gw-pip"));
	ck_assert_ptr_null(topology_find(t, RGHUB "/publicIPAddresses/er-gw-pi"));
	ck_assert_ptr_null(topology_find(t, ""));
	ck_assert_ptr_eq(topology_find_vnet_by_name(t, "SPOKE-1"),
	    topology_find_vnet(t, RGSPK "/virtualNetworks/spoke-1"));
	ck_assert_ptr_null(topology_find_vnet_by_name(t, "spoke-9"));
	topology_free(t);
}
END_TEST

START_TEST(test_find_vnet_by_name_picks_the_first_by_id_when_names_repeat)
{
	struct topology *t = test_topology(
	    "{\"format\": \"netwave.topology/v1\", \"resources\": ["
	    "{\"id\": \"" SUB "/resourceGroups/rg-z/providers/Microsoft.Network/virtualNetworks/app\","
	    " \"type\": \"Microsoft.Network/virtualNetworks\"},"
	    "{\"id\": \"" SUB "/resourceGroups/RG-A/providers/Microsoft.Network/virtualNetworks/app\","
	    " \"type\": \"Microsoft.Network/virtualNetworks\"},"
	    "{\"id\": \"" SUB "/resourceGroups/rg-m/providers/Microsoft.Network/virtualNetworks/app\","
	    " \"type\": \"Microsoft.Network/virtualNetworks\"}]}");
	struct topo_vnet *v = topology_find_vnet_by_name(t, "app");

	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v->res->resource_group, "RG-A");
	topology_free(t);
}
END_TEST

START_TEST(test_tags_and_feature_states_read_ignoring_key_case)
{
	struct topology *t = test_topology_file("topo/hub-spoke.json");
	struct topology *u = test_topology_file("topo/unknown.json");

	ck_assert_str_eq(topology_tag(&t->res[0], "role"), "hub");
	ck_assert_str_eq(topology_tag(&t->res[0], "Role"), "hub");
	ck_assert_ptr_null(topology_tag(&t->res[0], "env"));
	ck_assert_ptr_null(topology_tag(NULL, "env"));
	ck_assert_ptr_null(topology_feature_state(t, "Microsoft.Network/AllowHighScaleConnectedGroup"));
	ck_assert_str_eq(topology_feature_state(u, "microsoft.network/allowhighscaleconnectedgroup"),
	    "Registering");
	topology_free(t);
	topology_free(u);
}
END_TEST

/* Every reference to a resource that is not in the file: warned, with where. */
static const char dangling_json[] =
	"{\"format\": \"netwave.topology/v1\", \"resources\": ["
	"{\"id\": \"" RGNET "/virtualNetworks/v\", \"type\": \"Microsoft.Network/virtualNetworks\","
	" \"properties\": {\"addressSpace\": {\"addressPrefixes\": [\"10.0.0.0/16\"]},"
	"  \"subnets\": [{\"name\": \"GatewaySubnet\", \"properties\": {\"addressPrefix\": \"10.0.0.0/27\","
	"    \"routeTable\": {\"id\": \"" RGNET "/routeTables/gone\"}}}],"
	"  \"virtualNetworkPeerings\": [{\"name\": \"p\", \"properties\": {"
	"    \"remoteVirtualNetwork\": {\"id\": \"" RGNET "/virtualNetworks/gone\"}}}]}},"
	"{\"id\": \"" RGNET "/virtualNetworkGateways/g\", \"type\": \"Microsoft.Network/virtualNetworkGateways\","
	" \"properties\": {\"gatewayType\": \"ExpressRoute\", \"ipConfigurations\": [{\"properties\": {"
	"   \"subnet\": {\"id\": \"" RGNET "/virtualNetworks/v/subnets/GatewaySubnet\"},"
	"   \"publicIPAddress\": {\"id\": \"" RGNET "/publicIPAddresses/gone\"}}}]}},"
	"{\"id\": \"" RGNET "/connections/c\", \"type\": \"Microsoft.Network/connections\","
	" \"properties\": {\"virtualNetworkGateway1\": {\"id\": \"" RGNET "/virtualNetworkGateways/gone\"},"
	"   \"peer\": {\"id\": \"" RGNET "/expressRouteCircuits/gone\"}}},"
	"{\"id\": \"" RGNET "/privateEndpoints/pe\", \"type\": \"Microsoft.Network/privateEndpoints\","
	" \"properties\": {\"subnet\": {\"id\": \"" RGNET "/virtualNetworks/v/subnets/gone\"}}},"
	"{\"id\": \"" RGNET "/networkInterfaces/nic\", \"type\": \"Microsoft.Network/networkInterfaces\","
	" \"properties\": {\"ipConfigurations\": [{\"properties\": {\"subnet\": {\"id\": \""
	RGNET "/virtualNetworks/gone/subnets/s\"}}}]}},"
	"{\"id\": \"" RGNET "/networkManagers/nm/networkGroups/ng/staticMembers/sm\","
	" \"type\": \"Microsoft.Network/networkManagers/networkGroups/staticMembers\","
	" \"properties\": {\"resourceId\": \"" RGNET "/virtualNetworks/gone\"}}],"
	"\"observed\": {\"avnmDeployments\": {\"" RGNET "/networkManagers/gone\": {\"eastus\": {"
	"  \"Connectivity\": [\"" RGNET "/networkManagers/gone/connectivityConfigurations/cc\"]}}}}}";

START_TEST(test_dangling_references_are_warnings_with_their_pointer)
{
	struct topology *t = test_topology(dangling_json);
	static const struct {
		const char *pointer, *needle;
	} want[] = {
		{ "/resources/0/properties/subnets/0/properties/routeTable/id", "route table" },
		{ "/resources/0/properties/virtualNetworkPeerings/0/properties/remoteVirtualNetwork/id",
		  "remote VNet" },
		{ "/resources/1/properties/ipConfigurations/0/properties/publicIPAddress/id", "public IP" },
		{ "/resources/2/properties/virtualNetworkGateway1/id", "gateway" },
		{ "/resources/2/properties/peer/id", "circuit" },
		{ "/resources/3/properties/subnet/id", "private endpoint's subnet" },
		{ "/resources/4/properties/ipConfigurations/0/properties/subnet/id", "network interface" },
		{ "/resources/5/properties/resourceId", "static member's VNet" },
		{ "/resources/5/id", "network group" },
		{ "/observed/avnmDeployments/" "~1subscriptions~111111111-2222-3333-4444-555555555555"
		  "~1resourceGroups~1rg-net~1providers~1Microsoft.Network~1networkManagers~1gone",
		  "network manager" },
		{ "/observed/avnmDeployments/" "~1subscriptions~111111111-2222-3333-4444-555555555555"
		  "~1resourceGroups~1rg-net~1providers~1Microsoft.Network~1networkManagers~1gone"
		  "/eastus/Connectivity/0", "configuration" },
	};
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct topo_warning *w = find_warning(t, want[i].pointer);

		ck_assert_msg(w != NULL, "no warning at %s", want[i].pointer);
		ck_assert_msg(strstr(w->message, want[i].needle) != NULL, "%s: %s", w->pointer, w->message);
		ck_assert_msg(strstr(w->message, "not in the file") != NULL, "%s", w->message);
	}
	ck_assert_uint_eq(t->nwarnings, sizeof(want) / sizeof(want[0]));
	/* the links stay NULL, the ids stay readable */
	ck_assert_ptr_null(t->vnets[0].peerings[0].remote);
	ck_assert_str_eq(t->vnets[0].peerings[0].remote_id, RGNET "/virtualNetworks/gone");
	ck_assert_ptr_null(t->gateways[0].public_ips[0]);
	ck_assert_ptr_eq(t->gateways[0].vnet, &t->vnets[0]);
	ck_assert_ptr_null(t->private_endpoints[0].subnet);
	ck_assert_ptr_null(t->deployments[0].manager);
	ck_assert_ptr_null(t->deployments[0].configs[0]);
	topology_free(t);
}
END_TEST

/* The corpus: every file rejected with NW_EINPUT and the message EXPECTED gives. */
START_TEST(test_every_bad_input_is_rejected_with_its_message)
{
	char *expected, *line, *save = NULL;
	size_t len, n = 0;

	expected = read_data("bad/EXPECTED", &len);
	for (line = strtok_r(expected, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t'), rel[512];
		struct topology *t = (struct topology *)&n; /* must come back NULL */
		struct nw_err err = { 0 };
		int rc;

		ck_assert_msg(tab != NULL, "EXPECTED line without a tab: %s", line);
		*tab = '\0';
		snprintf(rel, sizeof(rel), "bad/%s", line);
		rc = topology_load_file(&t, test_data_path(rel), NULL, &err);
		ck_assert_msg(rc == NW_EINPUT, "%s: rc %d (%s)", line, rc, err.msg);
		ck_assert_int_eq(err.code, NW_EINPUT);
		ck_assert_ptr_null(t);
		ck_assert_msg(strstr(err.msg, tab + 1) != NULL, "%s: message \"%s\" lacks \"%s\"", line,
		    err.msg, tab + 1);
		ck_assert_msg(strstr(err.msg, line) != NULL, "%s: message lacks the file name: %s", line,
		    err.msg);
		n++;
	}
	ck_assert_uint_ge(n, 28);
	free(expected);
}
END_TEST

START_TEST(test_every_corpus_file_is_listed_in_expected)
{
	char *expected;
	size_t len;
	FILE *ls;
	char name[512], cmd[1024];
	size_t n = 0;

	expected = read_data("bad/EXPECTED", &len);
	snprintf(cmd, sizeof(cmd), "ls '%s'", test_data_path("bad"));
	ls = popen(cmd, "r");
	ck_assert_ptr_nonnull(ls);
	while (fgets(name, sizeof(name), ls) != NULL) {
		char needle[520];

		name[strcspn(name, "\n")] = '\0';
		if (strcmp(name, "EXPECTED") == 0)
			continue;
		snprintf(needle, sizeof(needle), "%s\t", name);
		ck_assert_msg(strstr(expected, needle) != NULL, "%s is not in EXPECTED", name);
		n++;
	}
	pclose(ls);
	ck_assert_uint_ge(n, 28);
	free(expected);
}
END_TEST

START_TEST(test_semantic_errors_name_the_pointer_and_return_nothing)
{
	struct nw_err e;

	e = test_topology_error("{\"format\": \"netwave.topology/v1\", \"resources\": [{\"id\": \"" RGNET
	    "/routeTables/rt\", \"type\": \"Microsoft.Network/routeTables\", \"properties\": {\"routes\": ["
	    "{\"name\": \"a\", \"properties\": {\"addressPrefix\": \"10.0.0.0/8\", \"nextHopType\": \"None\"}},"
	    "{\"name\": \"b\", \"properties\": {\"addressPrefix\": \"10.1.0.0/16\"}}]}}]}");
	ck_assert_int_eq(e.code, NW_EINPUT);
	ck_assert_str_eq(e.msg, "<test>: /resources/0/properties/routes/1/properties: "
	    "route \"b\" has no \"nextHopType\"");
	e = test_topology_error("{\"format\": \"netwave.topology/v1\", \"resources\": [{\"id\": \"" RGNET
	    "/networkManagers/nm/networkGroups/ng\", \"type\": \"Microsoft.Network/networkManagers/networkGroups\","
	    " \"name\": 7}]}");
	ck_assert_str_eq(e.msg, "<test>: /resources/0/name: expected a string, found an integer");
	e = test_topology_error("{\"format\": \"netwave.topology/v1\", \"resources\": [{\"id\": \"" RGNET
	    "/networkManagers/nm/ng\", \"type\": \"Microsoft.Network/networkManagers/networkGroups\"}]}");
	ck_assert(strstr(e.msg, "/resources/0/id: resource id") != NULL);
	ck_assert(strstr(e.msg, "does not end in /networkGroups/{name}") != NULL);
}
END_TEST

START_TEST(test_duplicate_ids_name_both_resources)
{
	struct nw_err e = test_topology_error(
	    "{\"format\": \"netwave.topology/v1\", \"resources\": ["
	    "{\"id\": \"/x/One\", \"type\": \"Other/things\"},"
	    "{\"id\": \"/x/two\", \"type\": \"Other/things\"},"
	    "{\"id\": \"/X/ONE\", \"type\": \"Other/things\"}]}");

	ck_assert(strstr(e.msg, "/resources/2/id: duplicate resource id \"/X/ONE\"") != NULL);
	ck_assert(strstr(e.msg, "/resources/0/id") != NULL);
	ck_assert(strstr(e.msg, "\"/x/One\"") != NULL);
}
END_TEST

START_TEST(test_subnet_checks_are_per_vnet_and_family)
{
	/* Two VNets may overlap each other (AVNM reports it; it is not a load
	 * error); subnets may sit in any of the VNet's prefixes, IPv4 or IPv6;
	 * addressPrefix and addressPrefixes naming the same prefix count once. */
	struct topology *t = test_topology(
	    "{\"format\": \"netwave.topology/v1\", \"resources\": ["
	    "{\"id\": \"" RGNET "/virtualNetworks/a\", \"type\": \"Microsoft.Network/virtualNetworks\","
	    " \"properties\": {\"addressSpace\": {\"addressPrefixes\": [\"10.0.0.0/16\", \"10.8.0.0/16\","
	    "   \"10.0.0.0/8\", \"fd00::/48\"]},"
	    "  \"subnets\": [{\"name\": \"s1\", \"properties\": {\"addressPrefix\": \"10.8.0.0/24\","
	    "     \"addressPrefixes\": [\"10.8.0.0/24\", \"fd00::/64\"]}},"
	    "   {\"name\": \"s2\", \"properties\": {\"addressPrefix\": \"10.200.0.0/24\"}},"
	    "   {\"name\": \"s3\", \"properties\": {\"addressPrefix\": \"10.8.1.0/24\"}},"
	    "   {\"name\": \"s4\", \"properties\": {\"addressPrefixes\": [\"fd00:0:0:1::/64\"]}},"
	    "   {\"name\": \"empty\", \"properties\": {}}]}},"
	    "{\"id\": \"" RGNET "/virtualNetworks/b\", \"type\": \"Microsoft.Network/virtualNetworks\","
	    " \"properties\": {\"addressSpace\": {\"addressPrefixes\": [\"10.0.0.0/16\"]},"
	    "  \"subnets\": [{\"name\": \"s1\", \"properties\": {\"addressPrefix\": \"10.0.0.0/24\"}}]}}]}");
	struct nw_err e;

	ck_assert_uint_eq(t->vnets[0].subnets[0].prefixes.n, 2);
	ck_assert_uint_eq(t->vnets[0].subnets[4].prefixes.n, 0);
	topology_free(t);

	e = test_topology_error(
	    "{\"format\": \"netwave.topology/v1\", \"resources\": ["
	    "{\"id\": \"" RGNET "/virtualNetworks/a\", \"type\": \"Microsoft.Network/virtualNetworks\","
	    " \"properties\": {\"addressSpace\": {\"addressPrefixes\": [\"10.0.0.0/16\", \"fd00::/48\"]},"
	    "  \"subnets\": [{\"name\": \"x\", \"properties\": {\"addressPrefixes\": [\"10.0.0.0/24\", \"fd00::/64\"]}},"
	    "   {\"name\": \"y\", \"properties\": {\"addressPrefixes\": [\"10.0.1.0/24\", \"fd00::/56\"]}}]}}]}");
	ck_assert_msg(strstr(e.msg, "/resources/0/properties/subnets/0/properties/addressPrefixes/1: subnet "
	    "\"x\" prefix fd00::/64 overlaps subnet \"y\" prefix fd00::/56 at "
	    "/resources/0/properties/subnets/1/properties/addressPrefixes/1") != NULL, "%s", e.msg);

	e = test_topology_error(
	    "{\"format\": \"netwave.topology/v1\", \"resources\": ["
	    "{\"id\": \"" RGNET "/virtualNetworks/a\", \"type\": \"Microsoft.Network/virtualNetworks\","
	    " \"properties\": {\"subnets\": [{\"name\": \"x\", \"properties\": {\"addressPrefix\": \"10.0.0.0/24\"}}]}}]}");
	ck_assert_msg(strstr(e.msg, "lies outside the address space of VNet \"a\", which has none") != NULL,
	    "%s", e.msg);
}
END_TEST

START_TEST(test_canonical_file_dumps_to_the_same_bytes)
{
	size_t len;
	char *want = read_data("topo/canonical.json", &len);
	struct topology *t = test_topology_file("topo/canonical.json");
	char *got = topology_dump(t);

	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(strlen(got), len);
	ck_assert(memcmp(got, want, len) == 0);
	ck_assert(got[len - 1] == '\n' && got[len - 2] != '\n');
	free(got);
	free(want);
	topology_free(t);
}
END_TEST

START_TEST(test_dump_of_a_dump_is_unchanged)
{
	static const char *const files[] = {
		"topo/hub-spoke.json", "topo/all-types.json", "topo/unknown.json", "topo/doc-example.json",
	};
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct topology *t = test_topology_file(files[i]), *u = NULL;
		struct nw_err err = { 0 };
		char *a = topology_dump(t), *b;

		ck_assert_int_eq(topology_load_buffer(&u, a, strlen(a), "dump", NULL, &err), 0);
		b = topology_dump(u);
		ck_assert_str_eq(a, b);
		ck_assert_uint_eq(u->nres, t->nres);
		free(a);
		free(b);
		topology_free(t);
		topology_free(u);
	}
}
END_TEST

START_TEST(test_unknown_types_and_properties_survive_a_dump)
{
	struct topology *t = test_topology_file("topo/unknown.json");
	char *text = topology_dump(t);
	json_error_t jerr;
	json_t *doc = json_loads(text, 0, &jerr), *res, *vnet = NULL, *nsg = NULL;
	size_t i;

	ck_assert_ptr_nonnull(doc);
	ck_assert_str_eq(json_path_str(doc, "x-owner", "ticket", NULL), "CHG-1042");
	ck_assert_ptr_nonnull(json_path(doc, "x-netwave-rollout", "waves", NULL));
	ck_assert(json_is_true(json_path(doc, "observed", "somethingNew", "kept", NULL)));
	ck_assert_str_eq(json_str(doc, "cloud"), "AzureUSGovernment");
	res = json_object_get(doc, "resources");
	ck_assert_uint_eq(json_array_size(res), 6);
	for (i = 0; i < json_array_size(res); i++) {
		const char *type = json_str(json_array_get(res, i), "type");
		if (strcmp(type, "Microsoft.Network/virtualNetworks") == 0)
			vnet = json_array_get(res, i);
		if (strcmp(type, "Microsoft.Network/networkSecurityGroups") == 0)
			nsg = json_array_get(res, i);
	}
	ck_assert_ptr_nonnull(vnet);
	ck_assert_ptr_nonnull(nsg);
	ck_assert(json_is_string(json_object_get(nsg, "properties")));
	ck_assert_ptr_nonnull(json_path(vnet, "properties", "futureProperty", "nested", "deep", NULL));
	ck_assert(json_is_null(json_object_get(vnet, "extendedLocation")));
	ck_assert_str_eq(json_str(json_array_get(json_path(vnet, "properties", "subnets", NULL), 0),
	    "name"), "app");
	ck_assert_str_eq(json_path_str(json_array_get(json_path(vnet, "properties", "subnets", NULL), 0),
	    "properties", "someNewFlag", NULL), "Yes");
	/* the typed view did not add anything: no id was written into the subnet */
	ck_assert_ptr_null(json_object_get(json_array_get(json_path(vnet, "properties", "subnets", NULL), 0),
	    "id"));
	ck_assert(strstr(text, "\"anything\": [\n") != NULL);
	json_decref(doc);
	free(text);
	topology_free(t);
}
END_TEST

START_TEST(test_dump_orders_resources_by_id_ignoring_case_then_by_bytes)
{
	struct topology *t = test_topology(
	    "{\"resources\": ["
	    "{\"id\": \"/b\", \"type\": \"T\"},"
	    "{\"id\": \"/C\", \"type\": \"T\"},"
	    "{\"id\": \"/a/x\", \"type\": \"T\"},"
	    "{\"id\": \"/A\", \"type\": \"T\"}],"
	    " \"format\": \"netwave.topology/v1\"}");
	char *text = topology_dump(t);
	const char *pa = strstr(text, "\"/A\""), *pax = strstr(text, "\"/a/x\""),
	      *pb = strstr(text, "\"/b\""), *pc = strstr(text, "\"/C\"");

	ck_assert(pa != NULL && pax != NULL && pb != NULL && pc != NULL);
	ck_assert(pa < pax && pax < pb && pb < pc);
	ck_assert(strstr(text, "\"format\"") < strstr(text, "\"resources\""));
	/* the loaded document itself is untouched: load order stays */
	ck_assert_str_eq(t->res[0].id, "/b");
	ck_assert_str_eq(json_str(json_array_get(t->resources, 0), "id"), "/b");
	ck_assert_int_lt(topo_id_compare("/A", "/a/x"), 0);
	ck_assert_int_eq(topo_id_compare("/ABC", "/abc"), 0);
	ck_assert_int_gt(topo_id_compare("/b", "/A"), 0);
	free(text);
	topology_free(t);
}
END_TEST

START_TEST(test_dump_json_sorts_any_document_of_the_format)
{
	json_t *doc = json_pack("{s:s, s:[{s:s}, {s:i}, {s:s}]}", "format", TOPOLOGY_FORMAT,
	    "resources", "id", "/z", "noid", 1, "id", "/m");
	char *text = topology_dump_json(doc), *plain;

	ck_assert_ptr_nonnull(text);
	ck_assert(strstr(text, "\"/m\"") < strstr(text, "\"/z\""));
	ck_assert(strstr(text, "\"/z\"") < strstr(text, "\"noid\""));
	free(text);
	json_decref(doc);
	doc = json_pack("[i]", 1);
	plain = topology_dump_json(doc);
	ck_assert_str_eq(plain, "[\n  1\n]\n");
	free(plain);
	json_decref(doc);
}
END_TEST

START_TEST(test_write_file_leaves_the_canonical_text)
{
	char dir[] = "/tmp/check_topology.XXXXXX", path[128];
	struct topology *t = test_topology_file("topo/hub-spoke.json");
	struct nw_err err = { 0 };
	char *want = topology_dump(t), *got;
	size_t len;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/out.json", dir);
	ck_assert_int_eq(topology_write_file(t, path, &err), 0);
	ck_assert_int_eq(file_read_all(&got, &len, path, 1 << 20, &err), 0);
	ck_assert_str_eq(got, want);
	unlink(path);
	rmdir(dir);
	snprintf(path, sizeof(path), "%s/out.json", dir); /* directory gone: NW_EIO */
	ck_assert_int_eq(topology_write_file(t, path, &err), NW_EIO);
	free(got);
	free(want);
	topology_free(t);
}
END_TEST

START_TEST(test_max_bytes_from_opts_has_its_own_message)
{
	struct topology_load_opts opts = { .max_bytes = 100 };
	struct topology *t = NULL;
	struct nw_err err = { 0 };
	const char *text = "{\"format\": \"netwave.topology/v1\", \"resources\": []}";

	ck_assert_int_eq(topology_load_file(&t, test_data_path("topo/doc-example.json"), &opts, &err),
	    NW_EINPUT);
	ck_assert_ptr_null(t);
	ck_assert_msg(strstr(err.msg, "over the limit of 100 bytes") != NULL, "%s", err.msg);
	ck_assert(strstr(err.msg, "doc-example.json") != NULL);
	opts.max_bytes = 20;
	ck_assert_int_eq(topology_load_buffer(&t, text, strlen(text), "in", &opts, &err), NW_EINPUT);
	ck_assert_str_eq(err.msg, "in: input is 50 bytes, over the limit of 20 bytes");
	opts.max_bytes = 50;
	ck_assert_int_eq(topology_load_buffer(&t, text, strlen(text), "in", &opts, &err), 0);
	topology_free(t);
}
END_TEST

static char *
nested_doc(int levels)
{
	/* the top-level object is level 1, so levels - 1 arrays below it */
	size_t n = (size_t)levels * 2 + 64;
	char *s = malloc(n), *p;
	int i;

	ck_assert_ptr_nonnull(s);
	p = s + sprintf(s, "{\"format\": \"netwave.topology/v1\", \"resources\": [], \"x\": ");
	for (i = 1; i < levels; i++)
		*p++ = '[';
	for (i = 1; i < levels; i++)
		*p++ = ']';
	strcpy(p, "}");
	return s;
}

START_TEST(test_max_depth_counts_levels_outside_strings)
{
	struct topology_load_opts opts = { .max_depth = 5 };
	struct topology *t = NULL;
	struct nw_err err = { 0 };
	char *ok64 = nested_doc(64), *bad65 = nested_doc(65), *ok5 = nested_doc(5), *bad6 = nested_doc(6);
	const char *strings = "{\"format\": \"netwave.topology/v1\", \"resources\": [],"
	    " \"x\": \"[[[[[[[[[[\\\"[[[[[[\", \"y\": {\"[{[{\": \"\\\\\"}}";

	ck_assert_int_eq(topology_load_buffer(&t, ok64, strlen(ok64), "d", NULL, &err), 0);
	topology_free(t);
	ck_assert_int_eq(topology_load_buffer(&t, bad65, strlen(bad65), "d", NULL, &err), NW_EINPUT);
	ck_assert_ptr_null(t);
	ck_assert_str_eq(err.msg, "d: line 1, column 120: nesting deeper than 64 levels");
	ck_assert_int_eq(topology_load_buffer(&t, ok5, strlen(ok5), "d", &opts, &err), 0);
	topology_free(t);
	ck_assert_int_eq(topology_load_buffer(&t, bad6, strlen(bad6), "d", &opts, &err), NW_EINPUT);
	ck_assert_str_eq(err.msg, "d: line 1, column 61: nesting deeper than 5 levels");
	/* brackets inside strings, after escaped quotes and backslashes, do not count */
	opts.max_depth = 2;
	ck_assert_int_eq(topology_load_buffer(&t, strings, strlen(strings), "d", &opts, &err), 0);
	topology_free(t);
	free(ok64);
	free(bad65);
	free(ok5);
	free(bad6);
}
END_TEST

START_TEST(test_syntax_errors_give_line_and_column)
{
	struct nw_err e;

	e = test_topology_error("{\n  \"format\": \"netwave.topology/v1\",\n  \"resources\": [,]\n}");
	ck_assert_int_eq(e.code, NW_EINPUT);
	ck_assert_msg(strncmp(e.msg, "<test>: line 3, column 17: ", 27) == 0, "%s", e.msg);
	e = test_topology_error("\xEF\xBB\xBF{\"format\": \"netwave.topology/v1\", \"resources\": 1}");
	ck_assert_str_eq(e.msg, "<test>: /resources: expected an array of resources, found an integer");
	e = test_topology_error("{\"format\": \"netwave.topology/v1\", \"resources\": [], \"n\": 1e400}");
	ck_assert(strstr(e.msg, "line 1, column") != NULL);
	ck_assert(strstr(e.msg, "real number overflow") != NULL);
}
END_TEST

START_TEST(test_load_json_steals_the_root_on_success_and_failure)
{
	struct topology *t = NULL;
	struct nw_err err = { 0 };
	json_t *good = json_pack("{s:s, s:[]}", "format", TOPOLOGY_FORMAT, "resources");
	json_t *bad = json_pack("{s:s}", "format", "other");

	ck_assert_int_eq(topology_load_json(&t, good, "g", &err), 0);
	ck_assert_ptr_eq(t->root, good);
	ck_assert_str_eq(t->source, "g");
	topology_free(t);
	t = (struct topology *)&err;
	ck_assert_int_eq(topology_load_json(&t, bad, "b", &err), NW_EINPUT);
	ck_assert_ptr_null(t);
	ck_assert_str_eq(err.msg, "b: /format: unknown format \"other\", expected \"netwave.topology/v1\"");
	/* leaks of either root show up under LeakSanitizer */
}
END_TEST

START_TEST(test_missing_file_fails_naming_the_path)
{
	struct topology *t = NULL;
	struct nw_err err = { 0 };

	int rc = topology_load_file(&t, "/nonexistent/topology.json", NULL, &err);

	/* jsonutil decides whether a missing file is the user's or the machine's */
	ck_assert(rc == NW_EINPUT || rc == NW_EIO);
	ck_assert_int_eq(rc, err.code);
	ck_assert_ptr_null(t);
	ck_assert(strstr(err.msg, "/nonexistent/topology.json") != NULL);
}
END_TEST

START_TEST(test_free_accepts_null)
{
	topology_free(NULL);
	ck_assert_ptr_null(topology_find(NULL, "/x"));
	ck_assert_ptr_null(topology_dump(NULL));
}
END_TEST

/* A synthetic estate: many VNets, one VNet with many subnets, many PEs. */
static char *
estate(size_t nvnets, size_t nsubnets_big, size_t npe)
{
	size_t cap = 1 << 20, n = 0, i;
	char *s = malloc(cap);

#define PUT(...)                                                                    \
	do {                                                                         \
		if (cap - n < 1024) {                                                \
			cap *= 2;                                                    \
			s = realloc(s, cap);                                         \
			ck_assert_ptr_nonnull(s);                                    \
		}                                                                    \
		n += (size_t)snprintf(s + n, cap - n, __VA_ARGS__);                  \
	} while (0)

	ck_assert_ptr_nonnull(s);
	PUT("{\"format\": \"netwave.topology/v1\", \"resources\": [");
	for (i = 0; i < nvnets; i++) {
		size_t j, nsub = i == 0 ? nsubnets_big : 2;

		PUT("%s{\"id\": \"" RGNET "/virtualNetworks/v%zu\", \"type\": \"Microsoft.Network/virtualNetworks\","
		    " \"properties\": {\"addressSpace\": {\"addressPrefixes\": [\"10.%zu.%zu.0/%d\"]}, \"subnets\": [",
		    i ? "," : "", i, i / 64, i == 0 ? 0 : (i % 64) * 4, i == 0 ? 16 : 22);
		for (j = 0; j < nsub; j++) {
			if (i == 0)
				PUT("%s{\"name\": \"s%zu\", \"properties\": {\"addressPrefix\": \"10.0.%zu.%zu/30\"}}",
				    j ? "," : "", j, j / 64, (j % 64) * 4);
			else
				PUT("%s{\"name\": \"s%zu\", \"properties\": {\"addressPrefix\": \"10.%zu.%zu.0/24\"}}",
				    j ? "," : "", j, i / 64, (i % 64) * 4 + j);
		}
		PUT("], \"virtualNetworkPeerings\": [{\"name\": \"p\", \"properties\": {\"remoteVirtualNetwork\":"
		    " {\"id\": \"" RGNET "/virtualNetworks/v%zu\"}}}]}}", (i + 1) % nvnets);
	}
	for (i = 0; i < npe; i++)
		PUT(",{\"id\": \"" RGNET "/privateEndpoints/pe%zu\", \"type\": \"Microsoft.Network/privateEndpoints\","
		    " \"properties\": {\"subnet\": {\"id\": \"" RGNET "/virtualNetworks/v%zu/subnets/s%zu\"}}}",
		    i, i % nvnets, i % 2);
	PUT("]}");
#undef PUT
	return s;
}

START_TEST(test_a_large_estate_loads_in_close_to_parse_time)
{
	char *text = estate(2000, 1000, 8000);
	size_t len = strlen(text);
	struct topology *t = NULL;
	struct nw_err err = { 0 };
	json_error_t jerr;
	clock_t c0, c1, c2;
	json_t *plain;
	double parse, load;

	c0 = clock();
	plain = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	c1 = clock();
	ck_assert_ptr_nonnull(plain);
	json_decref(plain);
	ck_assert_int_eq(topology_load_buffer(&t, text, len, "estate", NULL, &err), 0);
	c2 = clock();
	parse = (double)(c1 - c0);
	load = (double)(c2 - c1);
	ck_assert_uint_eq(t->nvnets, 2000);
	ck_assert_uint_eq(t->vnets[0].nsubnets, 1000);
	ck_assert_uint_eq(t->nprivate_endpoints, 8000);
	ck_assert_uint_eq(t->vnets[0].nprivate_endpoints, 4);
	ck_assert_uint_eq(t->nwarnings, 0);
	ck_assert_ptr_eq(t->vnets[1999].peerings[0].remote, &t->vnets[0]);
	/* The bound is loose (sanitizers, a shared machine); an O(n^2) step
	 * would blow through it. */
	ck_assert_msg(load < 4 * parse + CLOCKS_PER_SEC / 20, "load %.0f vs parse %.0f clocks", load, parse);
	topology_free(t);
	free(text);
}
END_TEST

/* Resource groups as discovery records them: "Resource Groups - Get"'s shape, no /providers/. */
START_TEST(test_resource_groups_load_and_are_found_by_id)
{
	struct topology *t = test_topology(
	    "{\"format\": \"netwave.topology/v1\", \"subscriptions\": [\"s-1\"], \"resources\": ["
	    "{\"id\": \"/subscriptions/s-1/resourceGroups/rg-b/providers/Microsoft.Network/virtualNetworks/v\","
	    " \"name\": \"v\", \"type\": \"Microsoft.Network/virtualNetworks\", \"location\": \"eastus\","
	    " \"properties\": {\"addressSpace\": {\"addressPrefixes\": [\"10.0.0.0/16\"]}}},"
	    "{\"id\": \"/subscriptions/s-1/resourceGroups/rg-b\", \"name\": \"rg-b\","
	    " \"type\": \"Microsoft.Resources/resourceGroups\", \"location\": \"eastus\","
	    " \"managedBy\": \"/subscriptions/s-1/resourceGroups/x/providers/Microsoft.Solutions/applications/a\","
	    " \"tags\": {\"owner\": \"net\"}, \"properties\": {\"provisioningState\": \"Succeeded\"}},"
	    "{\"id\": \"/subscriptions/s-1/resourceGroups/rg-a\", \"name\": \"rg-a\","
	    " \"type\": \"Microsoft.Resources/resourceGroups\", \"location\": \"westeurope\","
	    " \"properties\": {\"provisioningState\": \"Succeeded\"}}]}");
	struct topo_resource *g = topology_find(t, "/SUBSCRIPTIONS/s-1/resourcegroups/RG-B");
	char *dump;

	ck_assert_ptr_nonnull(g);
	ck_assert_int_eq(g->type, TOPO_OTHER);
	ck_assert_str_eq(g->type_name, "Microsoft.Resources/resourceGroups");
	ck_assert_str_eq(g->subscription, "s-1");
	ck_assert_str_eq(g->resource_group, "rg-b");
	ck_assert_str_eq(g->location, "eastus");
	/* the group's id is a prefix of its resources' ids; they stay apart in the index */
	ck_assert_int_eq(topology_find(t, "/subscriptions/s-1/resourceGroups/rg-b/providers/"
	    "Microsoft.Network/virtualNetworks/v")->type, TOPO_VNET);
	ck_assert_ptr_null(topology_find(t, "/subscriptions/s-1/resourceGroups/rg-c"));
	ck_assert_uint_eq(t->nwarnings, 0);
	/* canonical: resources by id, the groups' fields kept */
	dump = topology_dump(t);
	ck_assert_ptr_nonnull(dump);
	ck_assert_ptr_nonnull(strstr(dump, "\"managedBy\""));
	ck_assert(strstr(dump, "resourceGroups/rg-a\"") < strstr(dump, "resourceGroups/rg-b\""));
	ck_assert(strstr(dump, "resourceGroups/rg-b\"") < strstr(dump, "virtualNetworks/v\""));
	free(dump);
	topology_free(t);
}
END_TEST

int
main(void)
{
	const TTest *const topology_tests[] = {
		TEST_CASE("load", 0),
		test_every_valid_file_loads_without_warnings,
		test_resource_groups_load_and_are_found_by_id,
		test_user_example_in_examples_is_the_documented_one_and_loads,
		test_the_example_in_the_docs_is_the_tested_one_and_loads,
		test_load_json_steals_the_root_on_success_and_failure,
		test_missing_file_fails_naming_the_path,
		test_free_accepts_null,
		test_max_bytes_from_opts_has_its_own_message,
		test_max_depth_counts_levels_outside_strings,
		TEST_CASE("views", 0),
		test_doc_example_links_gateway_circuit_and_avnm,
		test_hub_spoke_peerings_link_whatever_the_id_casing,
		test_subscription_and_resource_group_are_parsed_from_ids,
		test_all_types_reads_arm_string_booleans_and_defaults,
		test_routes_parse_every_user_next_hop_type,
		test_next_hop_names_and_parse_agree,
		test_avnm_children_and_deployments_link_to_their_parents,
		test_find_ignores_case_and_keeps_the_casing_of_the_file,
		test_find_vnet_by_name_picks_the_first_by_id_when_names_repeat,
		test_tags_and_feature_states_read_ignoring_key_case,
		test_dangling_references_are_warnings_with_their_pointer,
		test_a_child_is_found_inside_its_parent_by_id_or_name_ignoring_case,
		test_a_child_without_an_id_is_matched_by_name_and_given_its_own_id,
		test_a_parent_is_judged_without_its_embedded_children,
		TEST_CASE("bad input", 0),
		test_every_bad_input_is_rejected_with_its_message,
		test_every_corpus_file_is_listed_in_expected,
		test_semantic_errors_name_the_pointer_and_return_nothing,
		test_duplicate_ids_name_both_resources,
		test_subnet_checks_are_per_vnet_and_family,
		test_syntax_errors_give_line_and_column,
		TEST_CASE("dump", 0),
		test_canonical_file_dumps_to_the_same_bytes,
		test_dump_of_a_dump_is_unchanged,
		test_unknown_types_and_properties_survive_a_dump,
		test_dump_orders_resources_by_id_ignoring_case_then_by_bytes,
		test_dump_json_sorts_any_document_of_the_format,
		test_write_file_leaves_the_canonical_text,
		TEST_CASE("scale", 120),
		test_a_large_estate_loads_in_close_to_parse_time,
		NULL,
	};

	return test_main("topology", topology_tests);
}
