/*
 * Check suite for plan/synth: the synthetic estate is deterministic,
 * loads through the real topology loader without warnings, has the counts
 * the options ask for, a non-overlapping address plan, two-way connected
 * peerings, round-robin regions and firewall UDRs, spokes spread over
 * subscriptions, direct spoke peerings, gateway routes and VPN gateways,
 * and refuses options it cannot meet, naming the option.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "plan/cidr.h"
#include "plan/jsonutil.h"
#include "plan/synth.h"
#include "plan/topology.h"
#include "tests/testutil.h"

static json_t *
generate(unsigned hubs, unsigned spokes, unsigned pes, unsigned udr, unsigned long seed)
{
	struct synth_opts o = { .hubs = hubs, .spokes_per_hub = spokes, .pe_per_spoke = pes,
		.udr_spokes = udr, .seed = seed };
	struct nw_err err = { 0 };
	json_t *doc = NULL;
	int rc = synth_generate(&doc, &o, &err);

	ck_assert_msg(rc == 0, "synth_generate failed: %s", err.msg);
	ck_assert_ptr_nonnull(doc);
	return doc;
}

/* Loads through the real loader (steals doc) and insists on no warnings. */
static struct topology *
load(json_t *doc)
{
	struct topology *t = NULL;
	struct nw_err err = { 0 };
	int rc = topology_load_json(&t, doc, "<synth>", &err);

	ck_assert_msg(rc == 0, "generated estate did not load: %s", err.msg);
	ck_assert_msg(t->nwarnings == 0, "loader warned: %s: %s",
	    t->nwarnings > 0 ? t->warnings[0].pointer : "", t->nwarnings > 0 ? t->warnings[0].message : "");
	return t;
}

static struct topology *
load_estate(unsigned hubs, unsigned spokes, unsigned pes, unsigned udr, unsigned long seed)
{
	return load(generate(hubs, spokes, pes, udr, seed));
}

static struct nw_err
generate_error(const struct synth_opts *o)
{
	struct nw_err err = { 0 };
	json_t *doc = NULL;
	int rc = synth_generate(&doc, o, &err);

	ck_assert_msg(rc != 0, "synth_generate accepted options it should refuse");
	ck_assert_ptr_null(doc);
	ck_assert_int_eq(rc, err.code);
	return err;
}

/* Asserts that generating with o is bad input naming what (an option). */
static void
refused_naming(const struct synth_opts *o, const char *what)
{
	struct nw_err err = generate_error(o);

	ck_assert_int_eq(err.code, NW_EINPUT);
	ck_assert_msg(strstr(err.msg, what) != NULL, "%s does not name %s", err.msg, what);
}

static bool
is_spoke(const struct topo_vnet *v)
{
	const char *role = topology_tag(v->res, "role");

	return role != NULL && strcmp(role, "spoke") == 0;
}

static bool
is_hub(const struct topo_vnet *v)
{
	const char *role = topology_tag(v->res, "role");

	return role != NULL && strcmp(role, "hub") == 0;
}

static struct topo_vnet *
hub_of(const struct topo_vnet *spoke)
{
	size_t i;

	for (i = 0; i < spoke->npeerings; i++)
		if (spoke->peerings[i].remote != NULL && is_hub(spoke->peerings[i].remote))
			return spoke->peerings[i].remote;
	return NULL;
}

static struct cidr
prefix(const char *s)
{
	struct cidr c;
	struct nw_err err = { 0 };

	ck_assert_msg(cidr_parse(&c, s, &err) == 0, "%s", err.msg);
	return c;
}

START_TEST(test_the_same_seed_gives_byte_identical_output)
{
	json_t *a = generate(2, 20, 2, 5, 42), *b = generate(2, 20, 2, 5, 42);
	char *da = json_dump_canonical(a), *db = json_dump_canonical(b);
	struct topology *ta, *tb;
	char *ca, *cb;

	ck_assert_str_eq(da, db);
	ta = load(a);
	tb = load(b);
	ca = topology_dump(ta);
	cb = topology_dump(tb);
	ck_assert_ptr_nonnull(ca);
	ck_assert_str_eq(ca, cb);
	free(da);
	free(db);
	free(ca);
	free(cb);
	topology_free(ta);
	topology_free(tb);
}
END_TEST

/* name=tags, one line per VNet, in load order; malloc'd */
static char *
vnet_tags_text(const struct topology *t)
{
	size_t i, cap = 64 * (t->nvnets + 1), n = 0;
	char *s = malloc(cap);

	ck_assert_ptr_nonnull(s);
	s[0] = '\0';
	for (i = 0; i < t->nvnets; i++) {
		char *tags = json_dumps(json_object_get(t->vnets[i].res->json, "tags"), JSON_SORT_KEYS);
		size_t need = strlen(t->vnets[i].res->name) + strlen(tags) + 3;
		if (n + need >= cap) {
			cap = 2 * (n + need);
			s = realloc(s, cap);
			ck_assert_ptr_nonnull(s);
		}
		n += (size_t)sprintf(s + n, "%s=%s\n", t->vnets[i].res->name, tags);
		free(tags);
	}
	return s;
}

START_TEST(test_another_seed_changes_the_tags_but_not_the_structure)
{
	struct topology *a = load_estate(2, 40, 1, 6, 1), *b = load_estate(2, 40, 1, 6, 2);
	char *ta = vnet_tags_text(a), *tb = vnet_tags_text(b);
	size_t i, j;

	ck_assert_str_ne(ta, tb);
	ck_assert_uint_eq(a->nres, b->nres);
	ck_assert_uint_eq(a->nvnets, b->nvnets);
	ck_assert_uint_eq(a->nprivate_endpoints, b->nprivate_endpoints);
	ck_assert_uint_eq(a->nroute_tables, b->nroute_tables);
	for (i = 0; i < a->nvnets; i++) {
		const struct topo_vnet *va = &a->vnets[i], *vb = &b->vnets[i];
		ck_assert_str_eq(va->res->name, vb->res->name);
		ck_assert_str_eq(va->res->location, vb->res->location);
		ck_assert_uint_eq(va->prefixes.n, vb->prefixes.n);
		ck_assert(cidr_equal(&va->prefixes.v[0], &vb->prefixes.v[0]));
		ck_assert_uint_eq(va->nsubnets, vb->nsubnets);
		ck_assert_uint_eq(va->npeerings, vb->npeerings);
		for (j = 0; j < va->nsubnets; j++)
			ck_assert_str_eq(va->subnets[j].name, vb->subnets[j].name);
	}
	free(ta);
	free(tb);
	topology_free(a);
	topology_free(b);
}
END_TEST

START_TEST(test_the_estate_loads_with_every_reference_resolved)
{
	struct topology *t = load_estate(2, 6, 2, 3, 9);
	size_t i, j;

	for (i = 0; i < t->nvnets; i++)
		for (j = 0; j < t->vnets[i].npeerings; j++)
			ck_assert_ptr_nonnull(t->vnets[i].peerings[j].remote);
	for (i = 0; i < t->nprivate_endpoints; i++) {
		ck_assert_ptr_nonnull(t->private_endpoints[i].subnet);
		ck_assert_str_eq(t->private_endpoints[i].subnet->name, "endpoints");
	}
	for (i = 0; i < t->nnics; i++) {
		ck_assert_ptr_nonnull(t->nics[i].subnet);
		ck_assert_str_eq(t->nics[i].subnet->name, "workload");
	}
	for (i = 0; i < t->ngateways; i++) {
		ck_assert_ptr_nonnull(t->gateways[i].vnet);
		ck_assert(is_hub(t->gateways[i].vnet));
		ck_assert_uint_eq(t->gateways[i].npublic_ips, 1);
		ck_assert_ptr_nonnull(t->gateways[i].public_ips[0]);
		ck_assert_uint_eq(t->gateways[i].nconnections, 1);
	}
	for (i = 0; i < t->nconnections; i++)
		ck_assert_ptr_nonnull(t->connections[i].circuit);
	ck_assert_str_eq(json_string_value(json_object_get(t->root, "format")), TOPOLOGY_FORMAT);
	ck_assert_str_eq(json_string_value(json_object_get(t->root, "cloud")), "AzureCloud");
	ck_assert_uint_eq(json_array_size(json_object_get(t->root, "subscriptions")), 1);
	for (i = 0; i < t->nres; i++) {
		ck_assert_ptr_nonnull(t->res[i].location);
		ck_assert(json_is_object(json_object_get(t->res[i].json, "tags")));
		ck_assert_str_eq(json_path_str(t->res[i].json, "properties", "provisioningState", NULL),
		    "Succeeded");
		ck_assert_str_eq(t->res[i].subscription,
		    json_string_value(json_array_get(json_object_get(t->root, "subscriptions"), 0)));
	}
	topology_free(t);
}
END_TEST

START_TEST(test_the_counts_follow_the_options)
{
	struct topology *t = load_estate(3, 5, 2, 4, 3);
	size_t i, hubs = 0, spokes = 0, with_rt = 0, inspected = 0;

	ck_assert_uint_eq(t->nvnets, 3 + 3 * 5);
	ck_assert_uint_eq(t->nprivate_endpoints, 3 * 5 * 2);
	ck_assert_uint_eq(t->nnics, 3 * 5);
	ck_assert_uint_eq(t->ngateways, 3);
	ck_assert_uint_eq(t->npublic_ips, 3);
	ck_assert_uint_eq(t->nconnections, 3);
	ck_assert_uint_eq(t->ncircuits, 1);
	ck_assert_uint_eq(t->nroute_tables, 3); /* 4 UDR spokes round-robin: 2, 1, 1 */
	for (i = 0; i < t->npublic_ips; i++) {
		ck_assert_str_eq(t->public_ips[i].sku_name, "Basic");
		ck_assert_str_eq(t->public_ips[i].sku_tier, "Regional");
	}
	for (i = 0; i < t->nvnets; i++) {
		const struct topo_vnet *v = &t->vnets[i];
		size_t j;
		if (is_hub(v)) {
			hubs++;
			ck_assert_uint_eq(v->npeerings, 5);
			continue;
		}
		ck_assert(is_spoke(v));
		spokes++;
		ck_assert_uint_eq(v->nprivate_endpoints, 2);
		if (topology_tag(v->res, "inspection") != NULL)
			inspected++;
		for (j = 0; j < v->nsubnets; j++)
			if (v->subnets[j].route_table != NULL)
				with_rt++;
	}
	ck_assert_uint_eq(hubs, 3);
	ck_assert_uint_eq(spokes, 15);
	ck_assert_uint_eq(inspected, 4);
	ck_assert_uint_eq(with_rt, 2 * 4);
	topology_free(t);
}
END_TEST

START_TEST(test_an_estate_with_no_spokes_still_loads)
{
	struct topology *t = load_estate(1, 0, 3, 0, 1);

	ck_assert_uint_eq(t->nvnets, 1);
	ck_assert_uint_eq(t->nprivate_endpoints, 0);
	ck_assert_uint_eq(t->ngateways, 1);
	topology_free(t);
}
END_TEST

/* Sorted sweep: prefixes either nest or are disjoint, so neighbours tell. */
static void
assert_no_overlap(struct cidr *v, size_t n)
{
	struct cidr onprem = prefix("10.255.0.0/16"), azure = prefix("10.0.0.0/8");
	char a[CIDR_STRLEN], b[CIDR_STRLEN];
	size_t i;

	cidr_sort(v, n);
	for (i = 0; i < n; i++) {
		ck_assert(cidr_contains(&azure, &v[i]));
		ck_assert(!cidr_overlaps(&onprem, &v[i]));
		if (i + 1 < n && cidr_overlaps(&v[i], &v[i + 1])) {
			cidr_format(&v[i], a);
			cidr_format(&v[i + 1], b);
			ck_abort_msg("%s overlaps %s", a, b);
		}
	}
}

START_TEST(test_no_two_vnets_overlap_and_subnets_sit_inside_their_vnet)
{
	/* over 255 spokes per hub moves the plan to larger hub blocks */
	struct topology *t = load_estate(4, 300, 0, 0, 5);
	struct cidr *all = calloc(t->nvnets, sizeof(*all));
	size_t i, j, n = 0;

	ck_assert_ptr_nonnull(all);
	for (i = 0; i < t->nvnets; i++) {
		const struct topo_vnet *v = &t->vnets[i];
		ck_assert_uint_eq(v->prefixes.n, 1);
		all[n++] = v->prefixes.v[0];
		for (j = 0; j < v->nsubnets; j++) {
			ck_assert_uint_eq(v->subnets[j].prefixes.n, 1);
			ck_assert(cidr_contains(&v->prefixes.v[0], &v->subnets[j].prefixes.v[0]));
			if (j > 0)
				ck_assert(!cidr_overlaps(&v->subnets[j - 1].prefixes.v[0],
				    &v->subnets[j].prefixes.v[0]));
		}
	}
	assert_no_overlap(all, n);
	free(all);
	topology_free(t);
}
END_TEST

START_TEST(test_fifty_hubs_of_a_thousand_spokes_fit_the_address_plan)
{
	json_t *doc = generate(50, 1000, 0, 0, 1), *r;
	struct cidr *all = calloc(50 + 50 * 1000, sizeof(*all));
	size_t i, n = 0;

	ck_assert_ptr_nonnull(all);
	json_array_foreach(json_object_get(doc, "resources"), i, r) {
		const char *type = json_str(r, "type");
		json_t *p;
		if (strcmp(type, TYPE_VNET) != 0)
			continue;
		p = json_path(r, "properties", "addressSpace", "addressPrefixes", NULL);
		ck_assert_uint_eq(json_array_size(p), 1);
		ck_assert_uint_lt(n, 50 + 50 * 1000);
		all[n++] = prefix(json_string_value(json_array_get(p, 0)));
	}
	ck_assert_uint_eq(n, 50 + 50 * 1000);
	assert_no_overlap(all, n);
	free(all);
	json_decref(doc);
}
END_TEST

START_TEST(test_every_spoke_is_peered_both_ways_and_connected)
{
	struct topology *t = load_estate(2, 7, 0, 0, 11);
	size_t i, j;

	for (i = 0; i < t->nvnets; i++) {
		const struct topo_vnet *v = &t->vnets[i], *hub;
		const struct topo_peering *up, *down = NULL;
		if (!is_spoke(v))
			continue;
		ck_assert_uint_eq(v->npeerings, 1);
		up = &v->peerings[0];
		hub = hub_of(v);
		ck_assert_ptr_nonnull(hub);
		ck_assert_int_eq(up->state, PEERING_CONNECTED);
		ck_assert(up->use_remote_gateways);
		ck_assert(!up->allow_gateway_transit);
		ck_assert(up->allow_forwarded_traffic);
		ck_assert_uint_eq(up->remote_prefixes.n, 1);
		ck_assert(cidr_equal(&up->remote_prefixes.v[0], &hub->prefixes.v[0]));
		for (j = 0; j < hub->npeerings; j++)
			if (hub->peerings[j].remote == v)
				down = &hub->peerings[j];
		ck_assert_msg(down != NULL, "%s has no peering back from its hub", v->res->name);
		ck_assert_int_eq(down->state, PEERING_CONNECTED);
		ck_assert(down->allow_gateway_transit);
		ck_assert(!down->use_remote_gateways);
		ck_assert(cidr_equal(&down->remote_prefixes.v[0], &v->prefixes.v[0]));
	}
	topology_free(t);
}
END_TEST

START_TEST(test_hubs_go_round_robin_over_the_regions)
{
	static const char *const regions[] = { "eastus", "westeurope", "centralus" };
	struct synth_opts o = { .hubs = 5, .spokes_per_hub = 2, .regions = regions, .nregions = 3,
		.seed = 1 };
	struct nw_err err = { 0 };
	json_t *doc = NULL;
	struct topology *t;
	size_t i;

	ck_assert_int_eq(synth_generate(&doc, &o, &err), 0);
	t = load(doc);
	ck_assert_str_eq(topology_find_vnet_by_name(t, "hub-01")->res->location, "eastus");
	ck_assert_str_eq(topology_find_vnet_by_name(t, "hub-02")->res->location, "westeurope");
	ck_assert_str_eq(topology_find_vnet_by_name(t, "hub-03")->res->location, "centralus");
	ck_assert_str_eq(topology_find_vnet_by_name(t, "hub-04")->res->location, "eastus");
	ck_assert_str_eq(topology_find_vnet_by_name(t, "hub-05")->res->location, "westeurope");
	for (i = 0; i < t->nvnets; i++)
		if (is_spoke(&t->vnets[i]))
			ck_assert_str_eq(t->vnets[i].res->location, hub_of(&t->vnets[i])->res->location);
	for (i = 0; i < t->ngateways; i++)
		ck_assert_str_eq(t->gateways[i].res->location, t->gateways[i].vnet->res->location);
	/* a circuit that serves hubs in several regions needs Premium */
	ck_assert_str_eq(json_path_str(t->circuits[0].res->json, "sku", "tier", NULL), "Premium");
	topology_free(t);
}
END_TEST

START_TEST(test_one_region_gives_a_standard_circuit_in_eastus)
{
	struct topology *t = load_estate(3, 1, 0, 0, 1);
	size_t i;

	for (i = 0; i < t->nres; i++)
		ck_assert_str_eq(t->res[i].location, "eastus");
	ck_assert_str_eq(json_path_str(t->circuits[0].res->json, "sku", "tier", NULL), "Standard");
	topology_free(t);
}
END_TEST

START_TEST(test_spokes_carry_rollout_tags)
{
	struct topology *t = load_estate(2, 200, 0, 0, 77);
	size_t i, prod = 0, light = 0;

	for (i = 0; i < t->nvnets; i++) {
		const struct topo_vnet *v = &t->vnets[i];
		const char *env;
		size_t len;
		if (!is_spoke(v))
			continue;
		env = topology_tag(v->res, "env");
		ck_assert_ptr_nonnull(env);
		len = strlen(v->res->name);
		/* spoke-NN-0001 and -0002 of every hub are the pilot */
		if (strcmp(v->res->name + len - 5, "-0001") == 0 ||
		    strcmp(v->res->name + len - 5, "-0002") == 0) {
			ck_assert_str_eq(env, "dev");
			ck_assert_ptr_null(topology_tag(v->res, "traffic"));
		} else {
			ck_assert_str_eq(env, "prod");
			prod++;
			if (topology_tag(v->res, "traffic") != NULL) {
				ck_assert_str_eq(topology_tag(v->res, "traffic"), "light");
				light++;
			}
		}
	}
	ck_assert_uint_eq(prod, 2 * 198);
	/* about one in five: 79 expected, binomial spread well inside these bounds */
	ck_assert_uint_gt(light, 40);
	ck_assert_uint_lt(light, 120);
	topology_free(t);
}
END_TEST

START_TEST(test_udr_spokes_go_round_robin_and_route_to_their_hub_firewall)
{
	struct topology *t = load_estate(3, 4, 0, 5, 21);
	size_t i, j, per_hub[3] = { 0, 0, 0 };

	ck_assert_uint_eq(t->nroute_tables, 3);
	for (i = 0; i < t->nroute_tables; i++) {
		const struct topo_route_table *rt = &t->route_tables[i];
		ck_assert(rt->disable_bgp_route_propagation);
		ck_assert_uint_eq(rt->nroutes, 1);
		ck_assert_int_eq(rt->routes[0].next_hop, NH_VIRTUAL_APPLIANCE);
		ck_assert_uint_eq(rt->routes[0].prefix.len, 0);
		ck_assert(rt->routes[0].has_next_hop_ip);
	}
	for (i = 0; i < t->nvnets; i++) {
		const struct topo_vnet *v = &t->vnets[i], *hub;
		const struct topo_route_table *rt;
		const struct topo_subnet *fw = NULL;
		const char *inspection;
		unsigned h;
		if (!is_spoke(v))
			continue;
		inspection = topology_tag(v->res, "inspection");
		rt = v->subnets[0].route_table;
		ck_assert_ptr_eq(v->subnets[1].route_table, rt);
		if (rt == NULL) {
			ck_assert_ptr_null(inspection);
			ck_assert_ptr_null(v->subnets[0].route_table_id);
			continue;
		}
		ck_assert_str_eq(inspection, "firewall");
		hub = hub_of(v);
		ck_assert_str_eq(rt->res->resource_group, hub->res->resource_group);
		for (j = 0; j < hub->nsubnets; j++)
			if (strcmp(hub->subnets[j].name, "AzureFirewallSubnet") == 0)
				fw = &hub->subnets[j];
		ck_assert_ptr_nonnull(fw);
		ck_assert(cidr_contains(&fw->prefixes.v[0], &rt->routes[0].next_hop_ip));
		ck_assert_int_eq(sscanf(hub->res->name, "hub-%u", &h), 1);
		ck_assert(h >= 1 && h <= 3);
		per_hub[h - 1]++;
	}
	/* five over three hubs, round-robin */
	ck_assert_uint_eq(per_hub[0], 2);
	ck_assert_uint_eq(per_hub[1], 2);
	ck_assert_uint_eq(per_hub[2], 1);
	topology_free(t);
}
END_TEST

START_TEST(test_the_firewall_private_ip_is_the_udr_next_hop)
{
	struct topology *t = load_estate(1, 3, 0, 1, 4);
	const char *fw_ip = NULL;
	char nh[CIDR_STRLEN];
	size_t i;

	for (i = 0; i < t->nres; i++)
		if (t->res[i].type == TOPO_OTHER &&
		    strcmp(t->res[i].type_name, "Microsoft.Network/azureFirewalls") == 0)
			fw_ip = json_string_value(json_path(json_array_get(json_path(t->res[i].json,
			    "properties", "ipConfigurations", NULL), 0), "properties", "privateIPAddress",
			    NULL));
	ck_assert_ptr_nonnull(fw_ip);
	ck_assert_uint_eq(t->nroute_tables, 1);
	cidr_format_addr(&t->route_tables[0].routes[0].next_hop_ip, nh);
	ck_assert_str_eq(nh, fw_ip);
	topology_free(t);
}
END_TEST

START_TEST(test_gateways_are_expressroute_on_basic_ips_ready_to_migrate)
{
	struct topology *t = load_estate(2, 1, 0, 0, 8);
	struct cidr doc_range = prefix("203.0.113.0/24"), ip;
	struct nw_err err = { 0 };
	size_t i;

	ck_assert_uint_eq(t->ngateways, 2);
	for (i = 0; i < t->ngateways; i++) {
		const struct topo_gateway *gw = &t->gateways[i];
		const struct topo_public_ip *pip = gw->public_ips[0];
		struct topo_subnet *gs = topology_find_subnet(t, gw->subnet_id);
		struct cidr bgp;
		ck_assert_int_eq(gw->kind, GATEWAY_EXPRESSROUTE);
		ck_assert_str_eq(gw->sku, "Standard");
		ck_assert_str_eq(gw->migration_state, "None");
		ck_assert_str_eq(gw->migration_phase, "None");
		ck_assert_str_eq(gw->provisioning_state, "Succeeded");
		ck_assert_ptr_nonnull(gs);
		ck_assert(gs->is_gateway_subnet);
		ck_assert_uint_le(gs->prefixes.v[0].len, 27);
		ck_assert_int_eq(cidr_parse_addr(&bgp, gw->bgp_peering_address, &err), 0);
		ck_assert(cidr_contains(&gs->prefixes.v[0], &bgp));
		ck_assert_str_eq(pip->sku_name, "Basic");
		ck_assert_str_eq(pip->allocation, "Dynamic");
		ck_assert_str_eq(pip->version, "IPv4");
		ck_assert_int_eq(cidr_parse_addr(&ip, pip->ip_address, &err), 0);
		ck_assert(cidr_contains(&doc_range, &ip));
		ck_assert_int_eq(topo_id_compare(pip->ip_configuration_id,
		    json_path_str(json_array_get(json_path(gw->res->json, "properties",
		    "ipConfigurations", NULL), 0), "id", NULL)), 0);
		ck_assert_str_eq(gw->connections[0]->connection_type, "ExpressRoute");
		ck_assert_str_eq(gw->connections[0]->provisioning_state, "Succeeded");
		ck_assert_int_eq(gw->connections[0]->routing_weight, 0);
	}
	topology_free(t);
}
END_TEST

START_TEST(test_the_circuit_learns_a_covering_supernet_so_spokes_hairpin)
{
	struct topology *t = load_estate(2, 2, 0, 0, 1);
	const struct topo_circuit *c = &t->circuits[0];
	struct cidr eight = prefix("10.0.0.0/8"), onprem = prefix("10.255.0.0/16");
	bool has_eight = false, has_onprem = false;
	size_t i;

	ck_assert(c->routes_observed);
	ck_assert_uint_eq(c->nconnections, 2);
	for (i = 0; i < c->nroutes; i++) {
		ck_assert_ptr_nonnull(c->routes[i].next_hop);
		ck_assert_ptr_nonnull(c->routes[i].path);
		has_eight |= cidr_equal(&c->routes[i].prefix, &eight);
		has_onprem |= cidr_equal(&c->routes[i].prefix, &onprem);
	}
	ck_assert(has_eight);
	ck_assert(has_onprem);
	ck_assert_str_eq(json_path_str(json_array_get(json_path(c->res->json, "properties",
	    "peerings", NULL), 0), "properties", "peeringType", NULL), "AzurePrivatePeering");
	topology_free(t);
}
END_TEST

START_TEST(test_too_many_spokes_per_hub_is_refused_naming_the_option)
{
	struct synth_opts o = { .hubs = 1, .spokes_per_hub = 20000 };

	refused_naming(&o, "--spokes-per-hub");
}
END_TEST

START_TEST(test_too_many_hubs_for_their_spokes_is_refused_naming_the_option)
{
	struct synth_opts o = { .hubs = 70, .spokes_per_hub = 1000 };

	refused_naming(&o, "--hubs");
}
END_TEST

START_TEST(test_more_udr_spokes_than_spokes_is_refused)
{
	struct synth_opts o = { .hubs = 2, .spokes_per_hub = 3, .udr_spokes = 7 };

	refused_naming(&o, "--udr-spokes");
}
END_TEST

START_TEST(test_zero_hubs_and_bad_regions_are_refused)
{
	static const char *const bad[] = { "eastus", "East US" };
	struct synth_opts o = { .hubs = 0, .spokes_per_hub = 3 };
	struct nw_err err = generate_error(&o);

	ck_assert_int_eq(err.code, NW_EINPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "--hubs"));
	o.hubs = 1;
	o.regions = bad;
	o.nregions = 2;
	err = generate_error(&o);
	ck_assert_int_eq(err.code, NW_EINPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "--regions"));
	ck_assert_ptr_nonnull(strstr(err.msg, "East US"));
}
END_TEST

START_TEST(test_too_many_private_endpoints_for_the_subnet_is_refused)
{
	struct synth_opts o = { .hubs = 1, .spokes_per_hub = 1, .pe_per_spoke = 500 };

	refused_naming(&o, "--pe-per-spoke");
}
END_TEST

static struct topology *
load_opts(const struct synth_opts *o)
{
	struct nw_err err = { 0 };
	json_t *doc = NULL;
	int rc = synth_generate(&doc, o, &err);

	ck_assert_msg(rc == 0, "synth_generate failed: %s", err.msg);
	return load(doc);
}

static char *
dump(const struct synth_opts *o)
{
	struct nw_err err = { 0 };
	json_t *doc = NULL;
	char *text;

	ck_assert_msg(synth_generate(&doc, o, &err) == 0, "%s", err.msg);
	text = json_dumps(doc, JSON_SORT_KEYS | JSON_INDENT(2));
	json_decref(doc);
	ck_assert_ptr_nonnull(text);
	return text;
}

START_TEST(test_new_options_at_their_defaults_change_no_byte)
{
	struct synth_opts a = { .hubs = 2, .spokes_per_hub = 6, .pe_per_spoke = 2, .udr_spokes = 3,
		.seed = 9 };
	struct synth_opts b = a;
	char *x, *y;

	b.subscriptions = 1;
	x = dump(&a);
	y = dump(&b);
	ck_assert_str_eq(x, y);
	free(y);
	b.spoke_peerings = 1;
	y = dump(&b);
	ck_assert_str_ne(x, y);
	free(y);
	b.spoke_peerings = 0;
	b.vpn_gateways = 1;
	y = dump(&b);
	ck_assert_str_ne(x, y);
	free(y);
	/* and the new options are as deterministic as the old */
	b.subscriptions = 2;
	b.spoke_peerings = 2;
	b.gateway_udr_spokes = 3;
	x = (free(x), dump(&b));
	y = dump(&b);
	ck_assert_str_eq(x, y);
	free(x);
	free(y);
}
END_TEST

START_TEST(test_spokes_spread_over_subscriptions_with_hubs_in_the_first)
{
	struct synth_opts o = { .hubs = 2, .spokes_per_hub = 5, .pe_per_spoke = 1, .udr_spokes = 4,
		.subscriptions = 2, .seed = 3 };
	struct topology *t = load_opts(&o);
	const char *first = NULL;
	size_t i, per_sub[2] = { 0, 0 };
	char other[40] = "";

	for (i = 0; i < t->nvnets; i++)
		if (is_hub(&t->vnets[i])) {
			ck_assert(first == NULL ||
			    strcmp(first, t->vnets[i].res->subscription) == 0);
			first = t->vnets[i].res->subscription;
		}
	ck_assert_ptr_nonnull(first);
	for (i = 0; i < t->nvnets; i++) {
		const struct topo_vnet *v = &t->vnets[i];
		size_t j;
		if (!is_spoke(v))
			continue;
		if (strcmp(v->res->subscription, first) == 0) {
			per_sub[0]++;
		} else {
			if (other[0] == '\0')
				snprintf(other, sizeof(other), "%s", v->res->subscription);
			ck_assert_str_eq(v->res->subscription, other);
			per_sub[1]++;
		}
		/* a subnet's route table is always in the subnet's own subscription */
		for (j = 0; j < v->nsubnets; j++)
			if (v->subnets[j].route_table != NULL)
				ck_assert_str_eq(v->subnets[j].route_table->res->subscription,
				    v->res->subscription);
		/* and every peering resolves, across subscriptions too */
		for (j = 0; j < v->npeerings; j++)
			ck_assert_ptr_nonnull(v->peerings[j].remote);
	}
	ck_assert_uint_eq(per_sub[0], 5);
	ck_assert_uint_eq(per_sub[1], 5);
	for (i = 0; i < t->nres; i++)
		if (strcmp(t->res[i].type_name, "Microsoft.Network/privateEndpoints") == 0 ||
		    strcmp(t->res[i].type_name, "Microsoft.Network/networkInterfaces") == 0)
			ck_assert(strcmp(t->res[i].subscription, first) == 0 ||
			    strcmp(t->res[i].subscription, other) == 0);
	topology_free(t);
}
END_TEST

START_TEST(test_spoke_peerings_pair_spokes_of_one_hub_both_ways)
{
	struct synth_opts o = { .hubs = 2, .spokes_per_hub = 6, .udr_spokes = 2,
		.spoke_peerings = 3, .seed = 11 };
	struct topology *t = load_opts(&o);
	size_t i, j, direct = 0;

	for (i = 0; i < t->nvnets; i++) {
		const struct topo_vnet *v = &t->vnets[i];
		if (!is_spoke(v))
			continue;
		for (j = 0; j < v->npeerings; j++) {
			const struct topo_peering *pe = &v->peerings[j];
			const struct topo_vnet *r = pe->remote;
			size_t k, back = 0;
			if (r == NULL || !is_spoke(r))
				continue;
			direct++;
			ck_assert_ptr_eq(hub_of(v), hub_of(r));
			ck_assert(!pe->use_remote_gateways && !pe->allow_gateway_transit);
			/* a spoke under firewall inspection keeps its path: never peered directly */
			ck_assert_ptr_null(topology_tag(v->res, "inspection"));
			ck_assert_ptr_null(topology_tag(r->res, "inspection"));
			for (k = 0; k < r->npeerings; k++)
				if (r->peerings[k].remote == v)
					back++;
			ck_assert_uint_eq(back, 1);
		}
	}
	/* three pairs, both directions */
	ck_assert_uint_eq(direct, 6);
	topology_free(t);
}
END_TEST

START_TEST(test_gateway_udr_spokes_route_another_spokes_space_to_the_gateway)
{
	struct synth_opts o = { .hubs = 2, .spokes_per_hub = 5, .udr_spokes = 2,
		.gateway_udr_spokes = 3, .subscriptions = 2, .seed = 5 };
	struct topology *t = load_opts(&o);
	size_t i, gw_tables = 0;

	for (i = 0; i < t->nroute_tables; i++) {
		const struct topo_route_table *rt = &t->route_tables[i];
		const struct topo_vnet *from = NULL, *to = NULL;
		size_t j, k, users = 0;
		if (rt->routes[0].next_hop != NH_VIRTUAL_NETWORK_GATEWAY)
			continue;
		gw_tables++;
		ck_assert_uint_eq(rt->nroutes, 1);
		for (j = 0; j < t->nvnets; j++)
			for (k = 0; k < t->vnets[j].nsubnets; k++)
				if (t->vnets[j].subnets[k].route_table == rt) {
					from = &t->vnets[j];
					users++;
				}
		ck_assert_uint_eq(users, 1);
		ck_assert(is_spoke(from));
		ck_assert_ptr_null(topology_tag(from->res, "inspection"));
		ck_assert_str_eq(rt->res->subscription, from->res->subscription);
		for (j = 0; j < t->nvnets; j++)
			if (cidr_equal(&t->vnets[j].prefixes.v[0], &rt->routes[0].prefix))
				to = &t->vnets[j];
		ck_assert_ptr_nonnull(to);
		ck_assert(to != from && is_spoke(to));
		ck_assert_ptr_eq(hub_of(to), hub_of(from));
		ck_assert_ptr_null(topology_tag(to->res, "inspection"));
	}
	ck_assert_uint_eq(gw_tables, 3);
	topology_free(t);
}
END_TEST

START_TEST(test_vpn_gateways_share_the_gateway_subnet_on_basic_ips)
{
	struct synth_opts o = { .hubs = 2, .spokes_per_hub = 1, .vpn_gateways = 1, .seed = 8 };
	struct topology *t = load_opts(&o);
	size_t i, vpn = 0, er = 0;

	ck_assert_uint_eq(t->ngateways, 4);
	for (i = 0; i < t->ngateways; i++) {
		const struct topo_gateway *gw = &t->gateways[i];
		size_t j;
		ck_assert_ptr_nonnull(gw->vnet);
		ck_assert(is_hub(gw->vnet));
		ck_assert_ptr_nonnull(strstr(gw->subnet_id, "/subnets/GatewaySubnet"));
		ck_assert_uint_eq(gw->npublic_ips, 1);
		ck_assert_ptr_nonnull(gw->public_ips[0]);
		ck_assert_str_eq(gw->public_ips[0]->sku_name, "Basic");
		ck_assert_str_eq(gw->migration_phase, "None");
		if (strcmp(gw->gateway_type, "Vpn") == 0) {
			vpn++;
			ck_assert_str_eq(gw->sku, "VpnGw1");
			ck_assert_uint_eq(gw->nconnections, 0);
			/* beside the ExpressRoute gateway of the same hub */
			for (j = 0; j < t->ngateways; j++)
				if (j != i && t->gateways[j].vnet == gw->vnet)
					ck_assert_str_eq(t->gateways[j].gateway_type, "ExpressRoute");
		} else {
			er++;
			ck_assert_str_eq(gw->gateway_type, "ExpressRoute");
		}
	}
	ck_assert_uint_eq(vpn, 2);
	ck_assert_uint_eq(er, 2);
	topology_free(t);
}
END_TEST

START_TEST(test_spread_options_that_do_not_fit_are_refused_naming_the_option)
{
	static const struct {
		struct synth_opts o;
		const char *option;
	} refused[] = {
		{ { .hubs = 2, .spokes_per_hub = 3, .udr_spokes = 2, .subscriptions = 7 }, "--subscriptions" },
		{ { .hubs = 2, .spokes_per_hub = 300, .udr_spokes = 2, .subscriptions = 100 },
		    "--subscriptions" },
		/* hub 1 has 2 spokes left after its firewall spoke: one pair each, not two */
		{ { .hubs = 2, .spokes_per_hub = 3, .udr_spokes = 2, .subscriptions = 1, .spoke_peerings = 3 },
		    "--spoke-peerings" },
		{ { .hubs = 2, .spokes_per_hub = 3, .udr_spokes = 2, .subscriptions = 1,
		    .gateway_udr_spokes = 5 }, "--gateway-udr-spokes" },
		/* a gateway route needs another spoke to go to */
		{ { .hubs = 2, .spokes_per_hub = 2, .udr_spokes = 2, .subscriptions = 1,
		    .gateway_udr_spokes = 1 }, "--gateway-udr-spokes" },
	};
	struct synth_opts fits = { .hubs = 2, .spokes_per_hub = 3, .udr_spokes = 2, .subscriptions = 1,
		.spoke_peerings = 2 };
	size_t i;

	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		refused_naming(&refused[i].o, refused[i].option);
	topology_free(load_opts(&fits));
}
END_TEST

int
main(void)
{
	const TTest *const synth_tests[] = {
		TEST_CASE("estate", 0),
		test_the_same_seed_gives_byte_identical_output,
		test_another_seed_changes_the_tags_but_not_the_structure,
		test_the_estate_loads_with_every_reference_resolved,
		test_the_counts_follow_the_options,
		test_an_estate_with_no_spokes_still_loads,
		test_every_spoke_is_peered_both_ways_and_connected,
		test_hubs_go_round_robin_over_the_regions,
		test_one_region_gives_a_standard_circuit_in_eastus,
		test_spokes_carry_rollout_tags,
		test_udr_spokes_go_round_robin_and_route_to_their_hub_firewall,
		test_the_firewall_private_ip_is_the_udr_next_hop,
		test_gateways_are_expressroute_on_basic_ips_ready_to_migrate,
		test_the_circuit_learns_a_covering_supernet_so_spokes_hairpin,
		test_too_many_spokes_per_hub_is_refused_naming_the_option,
		test_too_many_hubs_for_their_spokes_is_refused_naming_the_option,
		test_more_udr_spokes_than_spokes_is_refused,
		test_zero_hubs_and_bad_regions_are_refused,
		test_too_many_private_endpoints_for_the_subnet_is_refused,
		test_new_options_at_their_defaults_change_no_byte,
		test_spokes_spread_over_subscriptions_with_hubs_in_the_first,
		test_spoke_peerings_pair_spokes_of_one_hub_both_ways,
		test_gateway_udr_spokes_route_another_spokes_space_to_the_gateway,
		test_vpn_gateways_share_the_gateway_subnet_on_basic_ips,
		test_spread_options_that_do_not_fit_are_refused_naming_the_option,
		TEST_CASE("large", 120),
		test_no_two_vnets_overlap_and_subnets_sit_inside_their_vnet,
		test_fifty_hubs_of_a_thousand_spokes_fit_the_address_plan,
		NULL,
	};

	return test_main("synth", synth_tests);
}
