/*
 * The route engine's suite: each selection rule of the effective route
 * table, the gateway advertisements, connected groups, the path classes,
 * and the fast estate summary against the pair-by-pair one on seeded
 * generated estates.  Topologies are built as ARM JSON with the small
 * builders below and loaded through the real loader.
 */
#include "config.h"

#include <check.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/routes.h"
#include "tests/testutil.h"

#define SUBSCRIPTION "00000000-0000-0000-0000-000000000001"
#define NET "/subscriptions/" SUBSCRIPTION "/resourceGroups/rg-net/providers/Microsoft.Network"

/* ---- ARM JSON builders ---- */

static const char *
rid(const char *kind, const char *name)
{
	static char ring[32][512];
	static unsigned k;
	char *b = ring[k++ % 32];

	snprintf(b, sizeof(ring[0]), NET "/%s/%s", kind, name);
	return b;
}

struct est {
	json_t *root;
	json_t *res; /* borrowed */
	json_t *obs; /* borrowed */
	json_t *index; /* id -> resource (borrowed), so builders stay linear */
};

static void
est_init(struct est *e)
{
	e->root = json_pack("{s:s, s:s, s:[s], s:[], s:{s:{}, s:{}}}",
	    "format", "netwave.topology/v1", "cloud", "AzureCloud",
	    "subscriptions", SUBSCRIPTION, "resources",
	    "observed", "circuitRoutes", "avnmDeployments");
	ck_assert_ptr_nonnull(e->root);
	e->res = json_object_get(e->root, "resources");
	e->obs = json_object_get(e->root, "observed");
	e->index = json_object();
}

static void
est_add(struct est *e, json_t *res)
{
	ck_assert_ptr_nonnull(res);
	json_object_set(e->index, json_string_value(json_object_get(res, "id")), res);
	json_array_append_new(e->res, res);
}

static json_t *
est_find(struct est *e, const char *id)
{
	return json_object_get(e->index, id);
}

static json_t *
csv_array(const char *csv)
{
	json_t *a = json_array();
	char *buf = strdup(csv), *save = NULL, *tok;

	ck_assert_ptr_nonnull(buf);
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save))
		json_array_append_new(a, json_string(tok));
	free(buf);
	return a;
}

static void
est_vnet(struct est *e, const char *name, const char *loc, const char *space)
{
	est_add(e, json_pack("{s:s, s:s, s:s, s:s, s:{}, s:{s:{s:o}, s:[], s:[]}}",
	    "id", rid("virtualNetworks", name), "name", name,
	    "type", "Microsoft.Network/virtualNetworks", "location", loc, "tags",
	    "properties", "addressSpace", "addressPrefixes", csv_array(space),
	    "subnets", "virtualNetworkPeerings"));
}

static json_t *
est_vnet_props(struct est *e, const char *vnet)
{
	json_t *v = est_find(e, rid("virtualNetworks", vnet));

	ck_assert_msg(v != NULL, "no VNet %s", vnet);
	return json_object_get(v, "properties");
}

static void
est_summarize(struct est *e, const char *vnet, const char *prefixes)
{
	json_object_set_new(est_vnet_props(e, vnet), "summarizedGatewayPrefixes",
	    json_pack("{s:o}", "addressPrefixes", csv_array(prefixes)));
}

static void
est_subnet(struct est *e, const char *vnet, const char *name, const char *prefix, const char *rt)
{
	char id[600];
	json_t *props = json_pack("{s:s}", "addressPrefix", prefix);

	snprintf(id, sizeof(id), "%s/subnets/%s", rid("virtualNetworks", vnet), name);
	if (rt != NULL)
		json_object_set_new(props, "routeTable", json_pack("{s:s}", "id", rid("routeTables", rt)));
	json_array_append_new(json_object_get(est_vnet_props(e, vnet), "subnets"),
	    json_pack("{s:s, s:s, s:o}", "id", id, "name", name, "properties", props));
}

enum { P_TRANSIT = 1, P_USE_REMOTE = 2, P_INITIATED = 4 };

static void
est_peer(struct est *e, const char *from, const char *to, int flags, const char *remote_space)
{
	char id[600], name[200];
	json_t *props;

	snprintf(name, sizeof(name), "to-%s", to);
	snprintf(id, sizeof(id), "%s/virtualNetworkPeerings/%s", rid("virtualNetworks", from), name);
	props = json_pack("{s:{s:s}, s:s, s:b, s:b, s:b, s:b}",
	    "remoteVirtualNetwork", "id", rid("virtualNetworks", to),
	    "peeringState", (flags & P_INITIATED) ? "Initiated" : "Connected",
	    "allowVirtualNetworkAccess", 1, "allowForwardedTraffic", 1,
	    "allowGatewayTransit", (flags & P_TRANSIT) != 0,
	    "useRemoteGateways", (flags & P_USE_REMOTE) != 0);
	if (remote_space != NULL)
		json_object_set_new(props, "remoteAddressSpace",
		    json_pack("{s:o}", "addressPrefixes", csv_array(remote_space)));
	json_array_append_new(json_object_get(est_vnet_props(e, from), "virtualNetworkPeerings"),
	    json_pack("{s:s, s:s, s:o}", "id", id, "name", name, "properties", props));
}

/* hub <-> spoke with gateway transit on the hub side and remote gateways on the spoke side */
static void
est_hub_spoke(struct est *e, const char *hub, const char *spoke)
{
	est_peer(e, hub, spoke, P_TRANSIT, NULL);
	est_peer(e, spoke, hub, P_USE_REMOTE, NULL);
}

static void
est_gateway(struct est *e, const char *name, const char *vnet, const char *type,
    const char *gw_subnet, const char *bgp, bool allow_remote)
{
	char subnet_id[600];
	json_t *v = est_find(e, rid("virtualNetworks", vnet));
	const char *loc = json_string_value(json_object_get(v, "location"));

	est_subnet(e, vnet, "GatewaySubnet", gw_subnet, NULL);
	snprintf(subnet_id, sizeof(subnet_id), "%s/subnets/GatewaySubnet", rid("virtualNetworks", vnet));
	est_add(e, json_pack(
	    "{s:s, s:s, s:s, s:s, s:{s:s, s:{s:s, s:s}, s:[{s:s, s:{s:s, s:{s:s}}}], s:{s:i, s:s}, s:b, s:s}}",
	    "id", rid("virtualNetworkGateways", name), "name", name,
	    "type", "Microsoft.Network/virtualNetworkGateways", "location", loc,
	    "properties", "gatewayType", type,
	    "sku", "name", strcmp(type, "ExpressRoute") == 0 ? "ErGw1AZ" : "VpnGw1",
	    "tier", strcmp(type, "ExpressRoute") == 0 ? "ErGw1AZ" : "VpnGw1",
	    "ipConfigurations", "name", "default", "properties",
	    "privateIPAllocationMethod", "Dynamic", "subnet", "id", subnet_id,
	    "bgpSettings", "asn", 65515, "bgpPeeringAddress", bgp,
	    "allowRemoteVnetTraffic", allow_remote, "provisioningState", "Succeeded"));
}

/* routes: "10.0.0.0/8>192.168.10.1,..."; NULL: nothing observed */
static void
est_circuit(struct est *e, const char *name, const char *routes)
{
	json_t *arr;
	char buf[1024], *save = NULL, *tok;

	est_add(e, json_pack("{s:s, s:s, s:s, s:s, s:{s:s}}",
	    "id", rid("expressRouteCircuits", name), "name", name,
	    "type", "Microsoft.Network/expressRouteCircuits", "location", "eastus",
	    "properties", "provisioningState", "Succeeded"));
	if (routes == NULL)
		return;
	arr = json_array();
	snprintf(buf, sizeof(buf), "%s", routes);
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		char *gt = strchr(tok, '>');

		ck_assert_ptr_nonnull(gt);
		*gt = '\0';
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "network", tok,
		    "nextHop", gt + 1, "path", "65020"));
	}
	json_object_set_new(json_object_get(e->obs, "circuitRoutes"), rid("expressRouteCircuits", name), arr);
}

static void
est_connection(struct est *e, const char *gw, const char *circuit)
{
	char name[200];

	snprintf(name, sizeof(name), "%s-%s", gw, circuit);
	est_add(e, json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:{s:s}, s:{s:s}, s:i}}",
	    "id", rid("connections", name), "name", name,
	    "type", "Microsoft.Network/connections", "location", "eastus",
	    "properties", "connectionType", "ExpressRoute",
	    "virtualNetworkGateway1", "id", rid("virtualNetworkGateways", gw),
	    "peer", "id", rid("expressRouteCircuits", circuit), "routingWeight", 0));
}

/* routes: "name prefix nextHopType [ip];..." */
static void
est_route_table(struct est *e, const char *name, bool disable_bgp, const char *routes)
{
	json_t *arr = json_array();
	char buf[2048], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", routes);
	for (tok = strtok_r(buf, ";", &save); tok != NULL; tok = strtok_r(NULL, ";", &save)) {
		char rn[128], pfx[64], nh[64], ip[64] = "";
		int n = sscanf(tok, " %127s %63s %63s %63s", rn, pfx, nh, ip);
		json_t *props;
		char id[700];

		ck_assert_int_ge(n, 3);
		props = json_pack("{s:s, s:s}", "addressPrefix", pfx, "nextHopType", nh);
		if (n == 4)
			json_object_set_new(props, "nextHopIpAddress", json_string(ip));
		snprintf(id, sizeof(id), "%s/routes/%s", rid("routeTables", name), rn);
		json_array_append_new(arr, json_pack("{s:s, s:s, s:o}", "id", id, "name", rn, "properties", props));
	}
	est_add(e, json_pack("{s:s, s:s, s:s, s:s, s:{s:b, s:o}}",
	    "id", rid("routeTables", name), "name", name,
	    "type", "Microsoft.Network/routeTables", "location", "eastus",
	    "properties", "disableBgpRoutePropagation", disable_bgp, "routes", arr));
}

/*
 * A network manager "nm" (made once), a group "<cfg>-group" whose static
 * members are the VNets listed, and a connectivity configuration over it;
 * regions: where it is deployed under config_type (NULL: nowhere).
 */
static void
est_avnm(struct est *e, const char *cfg, const char *topology, bool global,
    const char *members, const char *regions, const char *config_type)
{
	char gname[200], gid[1024], cid[1024], mid[1200];
	const char *nm = rid("networkManagers", "nm");
	char nmid[600];
	json_t *mem, *m, *deps;
	size_t i;

	snprintf(nmid, sizeof(nmid), "%s", nm);
	if (est_find(e, nmid) == NULL)
		est_add(e, json_pack("{s:s, s:s, s:s, s:s, s:{s:{s:[s]}, s:[s]}}",
		    "id", nmid, "name", "nm", "type", "Microsoft.Network/networkManagers",
		    "location", "eastus", "properties", "networkManagerScopes", "subscriptions",
		    "/subscriptions/" SUBSCRIPTION, "networkManagerScopeAccesses", "Connectivity"));
	snprintf(gname, sizeof(gname), "%s-group", cfg);
	snprintf(gid, sizeof(gid), "%s/networkGroups/%s", nmid, gname);
	snprintf(cid, sizeof(cid), "%s/connectivityConfigurations/%s", nmid, cfg);
	est_add(e, json_pack("{s:s, s:s, s:s, s:{s:s}}",
	    "id", gid, "name", gname, "type", "Microsoft.Network/networkManagers/networkGroups",
	    "properties", "memberType", "VirtualNetwork"));
	mem = csv_array(members);
	json_array_foreach(mem, i, m) {
		const char *vn = json_string_value(m);

		snprintf(mid, sizeof(mid), "%s/staticMembers/%s", gid, vn);
		est_add(e, json_pack("{s:s, s:s, s:s, s:{s:s}}",
		    "id", mid, "name", vn,
		    "type", "Microsoft.Network/networkManagers/networkGroups/staticMembers",
		    "properties", "resourceId", rid("virtualNetworks", vn)));
	}
	json_decref(mem);
	est_add(e, json_pack(
	    "{s:s, s:s, s:s, s:{s:s, s:s, s:s, s:[{s:s, s:s, s:s, s:s}], s:[]}}",
	    "id", cid, "name", cfg, "type", "Microsoft.Network/networkManagers/connectivityConfigurations",
	    "properties", "connectivityTopology", topology, "isGlobal", global ? "True" : "False",
	    "deleteExistingPeering", "False",
	    "appliesToGroups", "networkGroupId", gid,
	    "groupConnectivity", strcmp(topology, "HubAndSpoke") == 0 ? "DirectlyConnected" : "None",
	    "useHubGateway", "False", "isGlobal", "False", "hubs"));
	if (regions == NULL)
		return;
	deps = json_object_get(e->obs, "avnmDeployments");
	if (json_object_get(deps, nmid) == NULL)
		json_object_set_new(deps, nmid, json_object());
	mem = csv_array(regions);
	json_array_foreach(mem, i, m) {
		json_t *byregion = json_object_get(deps, nmid), *types, *ids;
		const char *region = json_string_value(m);

		if ((types = json_object_get(byregion, region)) == NULL) {
			types = json_object();
			json_object_set_new(byregion, region, types);
		}
		if ((ids = json_object_get(types, config_type)) == NULL) {
			ids = json_array();
			json_object_set_new(types, config_type, ids);
		}
		json_array_append_new(ids, json_string(cid));
	}
	json_decref(mem);
}

static struct topology *
est_load(struct est *e)
{
	char *text = json_dumps(e->root, JSON_COMPACT | JSON_SORT_KEYS);
	struct topology *t;

	ck_assert_ptr_nonnull(text);
	t = test_topology(text);
	free(text);
	json_decref(e->root);
	json_decref(e->index);
	e->root = e->index = NULL;
	return t;
}

/* ---- scenario pieces ---- */

/* A hub with an ExpressRoute gateway "<hub>-gw" on circuit er (made by the caller). */
static void
est_er_hub(struct est *e, const char *hub, const char *loc, const char *space,
    const char *gw_subnet, const char *bgp, const char *circuit, bool allow_remote)
{
	char gw[200];

	snprintf(gw, sizeof(gw), "%s-gw", hub);
	est_vnet(e, hub, loc, space);
	est_gateway(e, gw, hub, "ExpressRoute", gw_subnet, bgp, allow_remote);
	est_connection(e, gw, circuit);
}

/* A spoke with one workload subnet "app" (route table rt or none), peered to hub. */
static void
est_spoke(struct est *e, const char *name, const char *loc, const char *space,
    const char *app, const char *hub, const char *rt)
{
	est_vnet(e, name, loc, space);
	est_subnet(e, name, "app", app, rt);
	if (hub != NULL)
		est_hub_spoke(e, hub, name);
}

/* ---- fixture and look-ups ---- */

struct fx {
	struct topology *t;
	struct routes_ctx *ctx;
};

static void
fx_open(struct fx *f, struct est *e)
{
	struct nw_err err = { 0 };

	f->t = est_load(e);
	ck_assert_msg(routes_ctx_new(&f->ctx, f->t, &err) == 0, "routes_ctx_new: %s", err.msg);
}

static void
fx_close(struct fx *f)
{
	routes_ctx_free(f->ctx);
	topology_free(f->t);
}

static const struct topo_vnet *
fx_vnet(struct fx *f, const char *name)
{
	const struct topo_vnet *v = topology_find_vnet_by_name(f->t, name);

	ck_assert_msg(v != NULL, "no VNet %s", name);
	return v;
}

static const struct topo_subnet *
fx_subnet(struct fx *f, const char *vnet, const char *name)
{
	const struct topo_vnet *v = fx_vnet(f, vnet);

	for (size_t i = 0; i < v->nsubnets; i++)
		if (strcmp(v->subnets[i].name, name) == 0)
			return &v->subnets[i];
	ck_abort_msg("no subnet %s/%s", vnet, name);
	return NULL;
}

static const struct topo_gateway *
fx_gateway(struct fx *f, const char *name)
{
	for (size_t i = 0; i < f->t->ngateways; i++)
		if (strcmp(f->t->gateways[i].res->name, name) == 0)
			return &f->t->gateways[i];
	ck_abort_msg("no gateway %s", name);
	return NULL;
}

static const struct topo_circuit *
fx_circuit(struct fx *f, const char *name)
{
	for (size_t i = 0; i < f->t->ncircuits; i++)
		if (strcmp(f->t->circuits[i].res->name, name) == 0)
			return &f->t->circuits[i];
	ck_abort_msg("no circuit %s", name);
	return NULL;
}

static struct cidr
pfx(const char *s)
{
	struct cidr c;
	struct nw_err err = { 0 };
	int rc = strchr(s, '/') != NULL ? cidr_parse(&c, s, &err) : cidr_parse_addr(&c, s, &err);

	ck_assert_msg(rc == 0, "bad prefix %s: %s", s, err.msg);
	return c;
}

static bool
eqp(const struct cidr *c, const char *s)
{
	struct cidr x = pfx(s);

	return cidr_equal(c, &x);
}

static struct route_set
fx_eff(struct fx *f, const char *vnet, const char *subnet)
{
	struct route_set s = { 0 };
	struct nw_err err = { 0 };
	int rc = subnet != NULL ? routes_effective(&s, f->ctx, fx_subnet(f, vnet, subnet), &err) :
	    routes_effective_vnet(&s, f->ctx, fx_vnet(f, vnet), &err);

	ck_assert_msg(rc == 0, "routes_effective: %s", err.msg);
	return s;
}

/* The n-th route (0-based) with this prefix and source, or NULL. */
static const struct route *
find_nth(const struct route_set *s, const char *prefix, enum route_source src, int nth)
{
	struct cidr c = pfx(prefix);

	for (size_t i = 0; i < s->n; i++)
		if (cidr_equal(&s->v[i].prefix, &c) && s->v[i].source == src && nth-- == 0)
			return &s->v[i];
	return NULL;
}

static const struct route *
find_route(const struct route_set *s, const char *prefix, enum route_source src)
{
	return find_nth(s, prefix, src, 0);
}

static size_t
count_source(const struct route_set *s, enum route_source src)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->v[i].source == src;
	return n;
}

static const struct route *
look(const struct route_set *s, const char *addr)
{
	struct cidr c = pfx(addr);

	return routes_lookup(s, &c);
}

static void
assert_route(const struct route *r, const char *prefix, enum route_source src, enum topo_next_hop nh)
{
	char buf[CIDR_STRLEN];

	ck_assert_ptr_nonnull(r);
	cidr_format(&r->prefix, buf);
	ck_assert_str_eq(buf, prefix);
	ck_assert_int_eq(r->source, src);
	ck_assert_msg(r->next_hop == nh, "next hop %s, expected %s",
	    topo_next_hop_name(r->next_hop), topo_next_hop_name(nh));
}

static struct path_result
fx_path(struct fx *f, const char *a, const char *b)
{
	struct path_result r;
	struct nw_err err = { 0 };

	ck_assert_msg(routes_path(&r, f->ctx, fx_vnet(f, a), fx_vnet(f, b), &err) == 0, "%s", err.msg);
	return r;
}

static void
assert_path(struct fx *f, const char *a, const char *b, enum path_class cls, const char *detail)
{
	struct path_result r = fx_path(f, a, b);

	ck_assert_msg(r.cls == cls, "%s -> %s: %s (%s), expected %s", a, b,
	    path_class_name(r.cls), r.detail, path_class_name(cls));
	if (detail != NULL)
		ck_assert_str_eq(r.detail, detail);
}

/* The class of the flow from one subnet to one prefix, as routes_path_subnet decides it. */
static void
assert_subnet_path(struct fx *f, const char *vnet, const char *subnet, const char *dst, enum path_class cls)
{
	struct path_result r;
	struct nw_err err = { 0 };
	struct cidr d = pfx(dst);

	ck_assert_int_eq(routes_path_subnet(&r, f->ctx, fx_subnet(f, vnet, subnet), &d, &err), 0);
	ck_assert_msg(r.cls == cls, "%s/%s -> %s: %s (%s), expected %s", vnet, subnet, dst,
	    path_class_name(r.cls), r.detail, path_class_name(cls));
}

/*
 * The usual estate: circuit "er" with on-premises routes (routes), hub
 * 10.0.0.0/16 with gateway hub-gw, spokes s1 10.1.0.0/16 and s2
 * 10.2.0.0/16; s1's app subnet uses route table rt1 when given.
 */
static void
est_basic(struct est *e, const char *onprem, const char *rt1)
{
	est_init(e);
	est_circuit(e, "er", onprem);
	est_er_hub(e, "hub", "eastus", "10.0.0.0/16", "10.0.255.0/27", "10.0.255.4", "er", true);
	est_subnet(e, "hub", "AzureFirewallSubnet", "10.0.1.0/26", NULL);
	est_spoke(e, "s1", "eastus", "10.1.0.0/16", "10.1.0.0/24", "hub", rt1);
	est_spoke(e, "s2", "eastus", "10.2.0.0/16", "10.2.0.0/24", "hub", NULL);
}

/* ---- names ---- */

START_TEST(test_names_are_azures_and_classes_parse_back)
{
	ck_assert_str_eq(route_source_name(ROUTE_SRC_DEFAULT), "Default");
	ck_assert_str_eq(route_source_name(ROUTE_SRC_USER), "User");
	ck_assert_str_eq(route_source_name(ROUTE_SRC_GATEWAY), "VirtualNetworkGateway");
	ck_assert_str_eq(path_class_name(PATH_VIA_APPLIANCE), "via-appliance");
	ck_assert_str_eq(path_class_name(PATH_ON_PREMISES), "on-premises");
	for (int c = 0; c < PATH_NCLASSES; c++)
		ck_assert_int_eq(path_class_parse(path_class_name((enum path_class)c)), c);
	ck_assert_int_eq(path_class_parse("Hairpin"), -1);
	ck_assert_int_eq(path_class_parse(NULL), -1);
}
END_TEST

/* ---- selection ---- */

START_TEST(test_longest_prefix_wins_across_sources)
{
	struct est e;
	struct fx f;
	struct route_set s;

	est_basic(&e, "10.0.0.0/8>192.168.10.1,10.200.5.0/24>192.168.10.1", "rt1");
	est_route_table(&e, "rt1", false, "to-dc 10.200.0.0/16 VirtualAppliance 10.0.1.4");
	fx_open(&f, &e);
	s = fx_eff(&f, "s1", "app");
	assert_route(look(&s, "10.200.5.9"), "10.200.5.0/24", ROUTE_SRC_GATEWAY, NH_VIRTUAL_NETWORK_GATEWAY);
	assert_route(look(&s, "10.200.6.9"), "10.200.0.0/16", ROUTE_SRC_USER, NH_VIRTUAL_APPLIANCE);
	assert_route(look(&s, "10.99.0.1"), "10.0.0.0/8", ROUTE_SRC_GATEWAY, NH_VIRTUAL_NETWORK_GATEWAY);
	assert_route(look(&s, "10.0.3.1"), "10.0.0.0/16", ROUTE_SRC_DEFAULT, NH_VNET_PEERING);
	assert_route(look(&s, "10.1.3.1"), "10.1.0.0/16", ROUTE_SRC_DEFAULT, NH_VNET_LOCAL);
	assert_route(look(&s, "8.8.8.8"), "0.0.0.0/0", ROUTE_SRC_DEFAULT, NH_INTERNET);
	route_set_free(&s);
	fx_close(&f);
}
END_TEST

START_TEST(test_user_route_wins_a_tie_with_bgp_and_system)
{
	struct est e;
	struct fx f;
	struct route_set s;

	est_basic(&e, "10.0.0.0/8>192.168.10.1", "rt1");
	est_route_table(&e, "rt1", false, "private 10.0.0.0/8 VirtualAppliance 10.0.1.4");
	fx_open(&f, &e);
	s = fx_eff(&f, "s1", "app");
	ck_assert(find_route(&s, "10.0.0.0/8", ROUTE_SRC_USER)->active);
	ck_assert(!find_route(&s, "10.0.0.0/8", ROUTE_SRC_GATEWAY)->active);
	ck_assert(!find_route(&s, "10.0.0.0/8", ROUTE_SRC_DEFAULT)->active);
	assert_route(look(&s, "10.77.0.1"), "10.0.0.0/8", ROUTE_SRC_USER, NH_VIRTUAL_APPLIANCE);
	ck_assert_str_eq(look(&s, "10.77.0.1")->name, "private");
	route_set_free(&s);
	fx_close(&f);
}
END_TEST

START_TEST(test_bgp_wins_a_tie_with_system)
{
	struct est e;
	struct fx f;
	struct route_set s;
	const struct route *bgp;

	est_basic(&e, "10.0.0.0/8>192.168.10.1", NULL);
	fx_open(&f, &e);
	s = fx_eff(&f, "s1", "app");
	bgp = find_route(&s, "10.0.0.0/8", ROUTE_SRC_GATEWAY);
	ck_assert(bgp->active);
	ck_assert(!find_route(&s, "10.0.0.0/8", ROUTE_SRC_DEFAULT)->active);
	ck_assert_ptr_eq(bgp->gateway, fx_gateway(&f, "hub-gw"));
	ck_assert_ptr_eq(bgp->circuit, fx_circuit(&f, "er"));
	ck_assert_ptr_null(bgp->origin);
	ck_assert(bgp->has_next_hop_ip);
	ck_assert(eqp(&bgp->next_hop_ip, "192.168.10.1"));
	/* the other private ranges keep their None routes */
	ck_assert(find_route(&s, "172.16.0.0/12", ROUTE_SRC_DEFAULT)->active);
	route_set_free(&s);
	fx_close(&f);
}
END_TEST

START_TEST(test_losers_stay_in_table_as_invalid)
{
	struct est e;
	struct fx f;
	struct route_set s;
	struct cidr ten = pfx("10.0.0.0/8");
	size_t idx[3], n = 0, active = 0;

	est_basic(&e, "10.0.0.0/8>192.168.10.1", "rt1");
	est_route_table(&e, "rt1", false, "private 10.0.0.0/8 VirtualAppliance 10.0.1.4");
	fx_open(&f, &e);
	s = fx_eff(&f, "s1", "app");
	for (size_t i = 0; i < s.n; i++)
		if (cidr_equal(&s.v[i].prefix, &ten)) {
			ck_assert_uint_lt(n, 3);
			idx[n++] = i;
			active += s.v[i].active;
		}
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(active, 1);
	/* Default, then VirtualNetworkGateway, then User */
	ck_assert_int_eq(s.v[idx[0]].source, ROUTE_SRC_DEFAULT);
	ck_assert_int_eq(s.v[idx[1]].source, ROUTE_SRC_GATEWAY);
	ck_assert_int_eq(s.v[idx[2]].source, ROUTE_SRC_USER);
	/* the Default block opens with VnetLocal and ends with Azure's defaults, by prefix */
	assert_route(&s.v[0], "10.1.0.0/16", ROUTE_SRC_DEFAULT, NH_VNET_LOCAL);
	assert_route(&s.v[1], "10.0.0.0/16", ROUTE_SRC_DEFAULT, NH_VNET_PEERING);
	assert_route(&s.v[2], "0.0.0.0/0", ROUTE_SRC_DEFAULT, NH_INTERNET);
	assert_route(&s.v[6], "192.168.0.0/16", ROUTE_SRC_DEFAULT, NH_NONE);
	route_set_free(&s);
	fx_close(&f);
}
END_TEST

START_TEST(test_peering_route_beats_more_specific_bgp_route)
{
	struct est e;
	struct fx f;
	struct route_set s;

	est_basic(&e, "10.0.0.0/8>192.168.10.1,10.0.5.0/24>192.168.10.1", NULL);
	fx_open(&f, &e);
	s = fx_eff(&f, "s1", "app");
	ck_assert(!find_route(&s, "10.0.5.0/24", ROUTE_SRC_GATEWAY)->active);
	assert_route(look(&s, "10.0.5.1"), "10.0.0.0/16", ROUTE_SRC_DEFAULT, NH_VNET_PEERING);
	ck_assert_ptr_eq(look(&s, "10.0.5.1")->remote, fx_vnet(&f, "hub"));
	ck_assert_ptr_nonnull(look(&s, "10.0.5.1")->peering);
	route_set_free(&s);
	assert_subnet_path(&f, "s1", "app", "10.0.5.0/24", PATH_PEERING);
	fx_close(&f);
}
END_TEST

START_TEST(test_connected_group_route_beats_more_specific_bgp_route)
{
	struct est e;
	struct fx f;
	struct route_set s;

	est_basic(&e, "10.0.0.0/8>192.168.10.1,10.2.3.0/24>192.168.10.1", NULL);
	est_avnm(&e, "mesh", "Mesh", false, "s1,s2", "eastus", "Connectivity");
	fx_open(&f, &e);
	s = fx_eff(&f, "s1", "app");
	ck_assert(!find_route(&s, "10.2.3.0/24", ROUTE_SRC_GATEWAY)->active);
	assert_route(look(&s, "10.2.3.4"), "10.2.0.0/16", ROUTE_SRC_DEFAULT, NH_CONNECTED_GROUP);
	ck_assert_ptr_eq(look(&s, "10.2.3.4")->remote, fx_vnet(&f, "s2"));
	route_set_free(&s);
	assert_subnet_path(&f, "s1", "app", "10.2.3.0/24", PATH_MESH);
	fx_close(&f);
}
END_TEST

START_TEST(test_user_default_route_invalidates_private_none_routes)
{
	static const char *const privates[] = {
		"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
	};
	struct est e;
	struct fx f;
	struct route_set s, plain;

	est_basic(&e, NULL, "udr");
	est_route_table(&e, "udr", true, "default 0.0.0.0/0 VirtualAppliance 10.0.1.4");
	est_subnet(&e, "s1", "plain", "10.1.1.0/24", NULL);
	fx_open(&f, &e);
	s = fx_eff(&f, "s1", "app");
	plain = fx_eff(&f, "s1", "plain");
	for (size_t i = 0; i < 4; i++) {
		ck_assert_msg(!find_route(&s, privates[i], ROUTE_SRC_DEFAULT)->active, "%s", privates[i]);
		ck_assert_msg(find_route(&plain, privates[i], ROUTE_SRC_DEFAULT)->active, "%s", privates[i]);
	}
	ck_assert(!find_route(&s, "0.0.0.0/0", ROUTE_SRC_DEFAULT)->active);
	assert_route(look(&s, "10.50.0.1"), "0.0.0.0/0", ROUTE_SRC_USER, NH_VIRTUAL_APPLIANCE);
	assert_route(look(&s, "192.168.7.7"), "0.0.0.0/0", ROUTE_SRC_USER, NH_VIRTUAL_APPLIANCE);
	assert_route(look(&plain, "10.50.0.1"), "10.0.0.0/8", ROUTE_SRC_DEFAULT, NH_NONE);
	route_set_free(&s);
	route_set_free(&plain);
	fx_close(&f);
}
END_TEST

START_TEST(test_disabled_bgp_propagation_drops_gateway_routes)
{
	struct est e;
	struct fx f;
	struct route_set off, on;

	est_basic(&e, "10.0.0.0/8>192.168.10.1,192.168.0.0/16>192.168.10.1", "nobgp");
	est_route_table(&e, "nobgp", true, "dc 172.30.0.0/16 VirtualAppliance 10.0.1.4");
	est_subnet(&e, "s1", "plain", "10.1.1.0/24", NULL);
	fx_open(&f, &e);
	off = fx_eff(&f, "s1", "app");
	on = fx_eff(&f, "s1", "plain");
	ck_assert_uint_eq(count_source(&off, ROUTE_SRC_GATEWAY), 0);
	ck_assert_uint_eq(count_source(&on, ROUTE_SRC_GATEWAY), 2);
	ck_assert_uint_eq(count_source(&off, ROUTE_SRC_USER), 1);
	assert_route(look(&off, "10.77.0.1"), "10.0.0.0/8", ROUTE_SRC_DEFAULT, NH_NONE);
	route_set_free(&off);
	route_set_free(&on);
	fx_close(&f);
}
END_TEST

START_TEST(test_use_remote_gateways_requires_transit_on_hub_side)
{
	struct est e;
	struct fx f;
	struct route_set good, bad;
	const struct topo_prefixes *adv;
	struct cidr s1 = pfx("10.1.0.0/16"), s3 = pfx("10.3.0.0/16");

	est_basic(&e, "10.0.0.0/8>192.168.10.1", NULL);
	est_vnet(&e, "s3", "eastus", "10.3.0.0/16");
	est_subnet(&e, "s3", "app", "10.3.0.0/24", NULL);
	est_peer(&e, "hub", "s3", 0, NULL);           /* no gateway transit */
	est_peer(&e, "s3", "hub", P_USE_REMOTE, NULL);
	fx_open(&f, &e);
	good = fx_eff(&f, "s1", "app");
	bad = fx_eff(&f, "s3", "app");
	ck_assert_uint_eq(count_source(&good, ROUTE_SRC_GATEWAY), 1);
	ck_assert_uint_eq(count_source(&bad, ROUTE_SRC_GATEWAY), 0);
	adv = routes_gateway_advertised(f.ctx, fx_gateway(&f, "hub-gw"));
	ck_assert_uint_eq(adv->n, 3); /* hub, s1, s2 */
	for (size_t i = 0; i < adv->n; i++)
		ck_assert(!cidr_equal(&adv->v[i], &s3));
	ck_assert(cidr_equal(&adv->v[1], &s1));
	route_set_free(&good);
	route_set_free(&bad);
	fx_close(&f);
}
END_TEST

/* Two hubs on one circuit; hub1's gateway may refuse remote VNet traffic. */
static void
est_two_hubs(struct est *e, bool hub1_allows_remote)
{
	est_init(e);
	est_circuit(e, "er", "10.0.0.0/8>192.168.10.1");
	est_er_hub(e, "hub1", "eastus", "10.10.0.0/16", "10.10.255.0/27", "10.10.255.4", "er", hub1_allows_remote);
	est_er_hub(e, "hub2", "westus", "10.20.0.0/16", "10.20.255.0/27", "10.20.255.4", "er", true);
	est_spoke(e, "s1", "eastus", "10.11.0.0/16", "10.11.0.0/24", "hub1", NULL);
	est_spoke(e, "s2", "westus", "10.21.0.0/16", "10.21.0.0/24", "hub2", NULL);
}

START_TEST(test_gateway_learns_other_gateways_on_the_same_circuit_but_not_its_own)
{
	struct est e;
	struct fx f;
	struct route_set s;
	const struct route *r;

	est_two_hubs(&e, true);
	fx_open(&f, &e);
	s = fx_eff(&f, "hub1", NULL);
	r = find_route(&s, "10.21.0.0/16", ROUTE_SRC_GATEWAY);
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_eq(r->origin, fx_gateway(&f, "hub2-gw"));
	ck_assert_ptr_eq(r->gateway, fx_gateway(&f, "hub1-gw"));
	ck_assert(r->has_next_hop_ip);
	ck_assert(eqp(&r->next_hop_ip, "10.20.255.4"));
	ck_assert_ptr_nonnull(find_route(&s, "10.20.0.0/16", ROUTE_SRC_GATEWAY));
	ck_assert_ptr_null(find_route(&s, "10.10.0.0/16", ROUTE_SRC_GATEWAY));
	ck_assert_ptr_null(find_route(&s, "10.11.0.0/16", ROUTE_SRC_GATEWAY));
	ck_assert_uint_eq(count_source(&s, ROUTE_SRC_GATEWAY), 3);
	route_set_free(&s);
	/* a spoke learns through its hub's gateway */
	s = fx_eff(&f, "s1", "app");
	ck_assert_ptr_nonnull(find_route(&s, "10.21.0.0/16", ROUTE_SRC_GATEWAY));
	route_set_free(&s);
	fx_close(&f);
}
END_TEST

START_TEST(test_allow_remote_vnet_traffic_false_learns_only_on_premises)
{
	struct est e;
	struct fx f;
	struct route_set s;

	est_two_hubs(&e, false);
	fx_open(&f, &e);
	s = fx_eff(&f, "s1", "app");
	ck_assert_uint_eq(count_source(&s, ROUTE_SRC_GATEWAY), 1);
	ck_assert_ptr_null(find_route(&s, "10.0.0.0/8", ROUTE_SRC_GATEWAY)->origin);
	route_set_free(&s);
	/* hub2 still learns hub1's prefixes: the setting is hub1's */
	s = fx_eff(&f, "s2", "app");
	ck_assert_ptr_nonnull(find_route(&s, "10.11.0.0/16", ROUTE_SRC_GATEWAY));
	route_set_free(&s);
	fx_close(&f);
}
END_TEST

START_TEST(test_summarized_prefixes_replace_hub_space_and_drop_covered_spokes)
{
	static const char *const want[] = { "10.0.0.0/14", "172.20.0.0/16" };
	static const char *const plain[] = { "10.0.0.0/16", "10.1.0.0/16", "10.2.0.0/16", "172.20.0.0/16" };
	struct est e;
	struct fx f;
	const struct topo_prefixes *adv;
	char buf[CIDR_STRLEN];

	for (int summarized = 0; summarized < 2; summarized++) {
		est_basic(&e, NULL, NULL);
		est_spoke(&e, "s3", "eastus", "172.20.0.0/16", "172.20.0.0/24", "hub", NULL);
		if (summarized)
			est_summarize(&e, "hub", "10.0.0.0/14");
		fx_open(&f, &e);
		adv = routes_gateway_advertised(f.ctx, fx_gateway(&f, "hub-gw"));
		ck_assert_uint_eq(adv->n, summarized ? 2 : 4);
		for (size_t i = 0; i < adv->n; i++) {
			cidr_format(&adv->v[i], buf);
			ck_assert_str_eq(buf, summarized ? want[i] : plain[i]);
		}
		fx_close(&f);
	}
}
END_TEST

START_TEST(test_global_peering_next_hop_type)
{
	struct est e;
	struct fx f;
	struct route_set s;

	est_init(&e);
	est_vnet(&e, "hub", "EastUS", "10.0.0.0/16");
	est_spoke(&e, "near", "eastus", "10.1.0.0/16", "10.1.0.0/24", "hub", NULL);
	est_spoke(&e, "far", "westeurope", "10.2.0.0/16", "10.2.0.0/24", "hub", NULL);
	/* ARM's display form of a region is the same region */
	est_spoke(&e, "display", "East US", "10.3.0.0/16", "10.3.0.0/24", "hub", NULL);
	fx_open(&f, &e);
	s = fx_eff(&f, "display", "app");
	assert_route(look(&s, "10.0.0.1"), "10.0.0.0/16", ROUTE_SRC_DEFAULT, NH_VNET_PEERING);
	route_set_free(&s);
	s = fx_eff(&f, "near", "app");
	assert_route(look(&s, "10.0.0.1"), "10.0.0.0/16", ROUTE_SRC_DEFAULT, NH_VNET_PEERING);
	route_set_free(&s);
	s = fx_eff(&f, "far", "app");
	assert_route(look(&s, "10.0.0.1"), "10.0.0.0/16", ROUTE_SRC_DEFAULT, NH_VNET_GLOBAL_PEERING);
	route_set_free(&s);
	s = fx_eff(&f, "hub", NULL);
	assert_route(look(&s, "10.2.0.1"), "10.2.0.0/16", ROUTE_SRC_DEFAULT, NH_VNET_GLOBAL_PEERING);
	assert_route(look(&s, "10.1.0.1"), "10.1.0.0/16", ROUTE_SRC_DEFAULT, NH_VNET_PEERING);
	route_set_free(&s);
	fx_close(&f);
}
END_TEST

START_TEST(test_peering_that_is_not_connected_gives_no_route)
{
	struct est e;
	struct fx f;
	struct route_set s;

	est_init(&e);
	est_vnet(&e, "a", "eastus", "10.1.0.0/16");
	est_vnet(&e, "b", "eastus", "10.2.0.0/16");
	est_peer(&e, "a", "b", P_INITIATED, NULL);
	est_peer(&e, "b", "a", 0, "10.1.0.0/16,10.99.0.0/16");
	fx_open(&f, &e);
	s = fx_eff(&f, "a", NULL);
	ck_assert_ptr_null(find_route(&s, "10.2.0.0/16", ROUTE_SRC_DEFAULT));
	route_set_free(&s);
	/* the remote space ARM records on the peering is what the routes cover */
	s = fx_eff(&f, "b", NULL);
	assert_route(look(&s, "10.99.1.1"), "10.99.0.0/16", ROUTE_SRC_DEFAULT, NH_VNET_PEERING);
	route_set_free(&s);
	fx_close(&f);
}
END_TEST

/* ---- connected groups ---- */

static size_t
count_group_routes(const struct route_set *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->v[i].next_hop == NH_CONNECTED_GROUP;
	return n;
}

START_TEST(test_connected_groups_only_for_deployed_configurations)
{
	struct est e;
	struct fx f;
	struct route_set s;

	/* 0: not deployed; 1: deployed as another configuration type; 2: deployed */
	for (int mode = 0; mode < 3; mode++) {
		est_basic(&e, NULL, NULL);
		est_avnm(&e, "mesh", "Mesh", false, "s1,s2", mode == 0 ? NULL : "eastus",
		    mode == 1 ? "SecurityAdmin" : "Connectivity");
		fx_open(&f, &e);
		s = fx_eff(&f, "s1", "app");
		ck_assert_uint_eq(count_group_routes(&s), mode == 2 ? 1 : 0);
		if (mode == 2)
			assert_route(look(&s, "10.2.0.9"), "10.2.0.0/16", ROUTE_SRC_DEFAULT, NH_CONNECTED_GROUP);
		route_set_free(&s);
		fx_close(&f);
	}
}
END_TEST

START_TEST(test_hub_and_spoke_directly_connected_forms_a_connected_group)
{
	struct est e;
	struct fx f;
	struct route_set s;

	est_basic(&e, NULL, NULL);
	est_avnm(&e, "hs", "HubAndSpoke", false, "s1,s2", "eastus", "Connectivity");
	fx_open(&f, &e);
	s = fx_eff(&f, "s2", "app");
	assert_route(look(&s, "10.1.0.9"), "10.1.0.0/16", ROUTE_SRC_DEFAULT, NH_CONNECTED_GROUP);
	route_set_free(&s);
	fx_close(&f);
}
END_TEST

START_TEST(test_non_global_mesh_connects_only_within_a_region)
{
	struct est e;
	struct fx f;
	struct route_set s;

	for (int global = 0; global < 2; global++) {
		est_init(&e);
		est_vnet(&e, "a", "eastus", "10.1.0.0/16");
		est_vnet(&e, "b", "EastUS", "10.2.0.0/16");
		est_vnet(&e, "c", "westus", "10.3.0.0/16");
		est_vnet(&e, "d", "northeurope", "10.4.0.0/16"); /* not deployed there */
		est_avnm(&e, "mesh", "Mesh", global, "a,b,c,d", "eastus,westus", "Connectivity");
		fx_open(&f, &e);
		s = fx_eff(&f, "a", NULL);
		ck_assert_uint_eq(count_group_routes(&s), global ? 2 : 1);
		ck_assert_ptr_nonnull(find_route(&s, "10.2.0.0/16", ROUTE_SRC_DEFAULT));
		ck_assert(global == (find_route(&s, "10.3.0.0/16", ROUTE_SRC_DEFAULT) != NULL));
		ck_assert_ptr_null(find_route(&s, "10.4.0.0/16", ROUTE_SRC_DEFAULT));
		route_set_free(&s);
		s = fx_eff(&f, "d", NULL);
		ck_assert_uint_eq(count_group_routes(&s), 0);
		route_set_free(&s);
		fx_close(&f);
	}
}
END_TEST

START_TEST(test_overlapping_connected_group_prefixes_are_dropped)
{
	struct est e;
	struct fx f;
	struct route_set s;

	est_init(&e);
	est_vnet(&e, "a", "eastus", "10.1.0.0/16");
	est_vnet(&e, "b", "eastus", "10.1.128.0/17,10.9.0.0/16");
	est_vnet(&e, "c", "eastus", "10.3.0.0/16");
	est_avnm(&e, "mesh", "Mesh", false, "a,b,c", "eastus", "Connectivity");
	fx_open(&f, &e);
	s = fx_eff(&f, "c", NULL);
	ck_assert_uint_eq(count_group_routes(&s), 1);
	assert_route(look(&s, "10.9.0.1"), "10.9.0.0/16", ROUTE_SRC_DEFAULT, NH_CONNECTED_GROUP);
	assert_route(look(&s, "10.1.200.1"), "10.0.0.0/8", ROUTE_SRC_DEFAULT, NH_NONE);
	route_set_free(&s);
	s = fx_eff(&f, "a", NULL);
	ck_assert_uint_eq(count_group_routes(&s), 2);
	/* a's own space stays VnetLocal even where b overlaps it */
	assert_route(look(&s, "10.1.200.1"), "10.1.0.0/16", ROUTE_SRC_DEFAULT, NH_VNET_LOCAL);
	route_set_free(&s);
	fx_close(&f);
}
END_TEST

START_TEST(test_vnet_in_two_connected_groups_gets_both_and_each_peer_once)
{
	struct est e;
	struct fx f;
	struct route_set s;

	est_init(&e);
	est_vnet(&e, "a", "eastus", "10.1.0.0/16");
	est_vnet(&e, "b", "eastus", "10.2.0.0/16");
	est_vnet(&e, "c", "eastus", "10.3.0.0/16");
	est_avnm(&e, "m1", "Mesh", false, "a,b", "eastus", "Connectivity");
	est_avnm(&e, "m2", "Mesh", false, "a,b,c", "eastus", "Connectivity");
	fx_open(&f, &e);
	s = fx_eff(&f, "a", NULL);
	ck_assert_uint_eq(count_group_routes(&s), 2);
	route_set_free(&s);
	fx_close(&f);
}
END_TEST

START_TEST(test_user_route_to_expressroute_gateway_is_invalid)
{
	struct est e;
	struct fx f;
	struct route_set s;

	est_basic(&e, NULL, "vng");
	est_route_table(&e, "vng", false, "onprem 10.50.0.0/16 VirtualNetworkGateway");
	/* a second hub with a VPN gateway, and a spoke of it with the same table */
	est_vnet(&e, "vhub", "eastus", "10.60.0.0/16");
	est_gateway(&e, "vhub-gw", "vhub", "Vpn", "10.60.255.0/27", "10.60.255.4", true);
	est_spoke(&e, "s9", "eastus", "10.9.0.0/16", "10.9.0.0/24", "vhub", "vng");
	fx_open(&f, &e);
	s = fx_eff(&f, "s1", "app");
	ck_assert(!find_route(&s, "10.50.0.0/16", ROUTE_SRC_USER)->active);
	assert_route(look(&s, "10.50.0.1"), "10.0.0.0/8", ROUTE_SRC_DEFAULT, NH_NONE);
	route_set_free(&s);
	s = fx_eff(&f, "s9", "app");
	ck_assert(find_route(&s, "10.50.0.0/16", ROUTE_SRC_USER)->active);
	route_set_free(&s);
	{
		struct path_result r;
		struct nw_err err = { 0 };
		struct cidr d = pfx("10.50.1.0/24");

		ck_assert_int_eq(routes_path_subnet(&r, f.ctx, fx_subnet(&f, "s9", "app"), &d, &err), 0);
		ck_assert_int_eq(r.cls, PATH_ON_PREMISES);
		ck_assert_ptr_eq(r.from_subnet, fx_subnet(&f, "s9", "app"));
		ck_assert(cidr_equal(&r.dst, &d));
		ck_assert_int_eq(routes_path_subnet(&r, f.ctx, fx_subnet(&f, "s1", "app"), &d, &err), 0);
		ck_assert_int_eq(r.cls, PATH_UNREACHABLE);
		ck_assert_str_eq(r.detail, "dropped by 10.0.0.0/8 None");
	}
	fx_close(&f);
}
END_TEST

/* ---- paths ---- */

START_TEST(test_spokes_of_one_hub_hairpin_through_the_circuit_under_a_supernet)
{
	struct est e;
	struct fx f;
	struct path_result r;

	est_basic(&e, "10.0.0.0/8>192.168.10.1", NULL);
	fx_open(&f, &e);
	r = fx_path(&f, "s1", "s2");
	ck_assert_int_eq(r.cls, PATH_HAIRPIN);
	ck_assert_str_eq(r.detail, fx_circuit(&f, "er")->res->id);
	ck_assert(r.has_route);
	ck_assert_int_eq(r.route.source, ROUTE_SRC_GATEWAY);
	ck_assert(r.has_circuit_route);
	ck_assert_ptr_eq(r.circuit_route.origin, fx_gateway(&f, "hub-gw"));
	ck_assert(eqp(&r.circuit_route.prefix, "10.2.0.0/16"));
	ck_assert_ptr_eq(r.from_subnet, fx_subnet(&f, "s1", "app"));
	assert_path(&f, "s1", "hub", PATH_PEERING, "");
	assert_path(&f, "hub", "s2", PATH_PEERING, "");
	fx_close(&f);
}
END_TEST

START_TEST(test_spokes_of_two_hubs_on_the_same_circuit_hairpin)
{
	struct est e;
	struct fx f;

	est_two_hubs(&e, true);
	fx_open(&f, &e);
	assert_path(&f, "s1", "s2", PATH_HAIRPIN, fx_circuit(&f, "er")->res->id);
	assert_path(&f, "s2", "s1", PATH_HAIRPIN, fx_circuit(&f, "er")->res->id);
	assert_path(&f, "hub1", "s2", PATH_HAIRPIN, fx_circuit(&f, "er")->res->id);
	fx_close(&f);
}
END_TEST

START_TEST(test_more_specific_on_premises_route_makes_it_on_premises)
{
	struct est e;
	struct fx f;
	struct path_result r;

	for (int specific = 0; specific < 2; specific++) {
		est_basic(&e, specific ? "10.0.0.0/8>192.168.10.1,10.2.0.0/16>192.168.10.1" :
		    "10.0.0.0/8>192.168.10.1", NULL);
		est_summarize(&e, "hub", "10.0.0.0/12");
		fx_open(&f, &e);
		r = fx_path(&f, "s1", "s2");
		ck_assert_int_eq(r.cls, specific ? PATH_ON_PREMISES : PATH_HAIRPIN);
		ck_assert(r.has_circuit_route);
		ck_assert(specific == (r.circuit_route.origin == NULL));
		fx_close(&f);
	}
}
END_TEST

START_TEST(test_no_covering_route_is_unreachable_dropped_by_none)
{
	struct est e;
	struct fx f;

	est_basic(&e, NULL, NULL);
	est_spoke(&e, "s3", "eastus", "172.20.0.0/16", "172.20.0.0/24", "hub", NULL);
	est_spoke(&e, "s4", "eastus", "52.1.0.0/16", "52.1.0.0/24", "hub", NULL);
	fx_open(&f, &e);
	assert_path(&f, "s1", "s2", PATH_UNREACHABLE, "dropped by 10.0.0.0/8 None");
	assert_path(&f, "s1", "s3", PATH_UNREACHABLE, "dropped by 172.16.0.0/12 None");
	assert_path(&f, "s1", "s4", PATH_UNREACHABLE, "sent to the Internet");
	fx_close(&f);
}
END_TEST

START_TEST(test_udr_default_route_to_appliance_is_via_appliance)
{
	struct est e;
	struct fx f;

	est_basic(&e, "10.0.0.0/8>192.168.10.1", "udr");
	est_route_table(&e, "udr", true, "default 0.0.0.0/0 VirtualAppliance 10.0.1.4");
	fx_open(&f, &e);
	assert_path(&f, "s1", "s2", PATH_VIA_APPLIANCE, "10.0.1.4");
	assert_path(&f, "s2", "s1", PATH_HAIRPIN, NULL);
	assert_path(&f, "s1", "hub", PATH_PEERING, "");
	fx_close(&f);
}
END_TEST

START_TEST(test_peered_spokes_are_peering)
{
	struct est e;
	struct fx f;

	est_basic(&e, "10.0.0.0/8>192.168.10.1", NULL);
	est_peer(&e, "s1", "s2", 0, NULL);
	est_peer(&e, "s2", "s1", 0, NULL);
	fx_open(&f, &e);
	assert_path(&f, "s1", "s2", PATH_PEERING, "");
	assert_path(&f, "s2", "s1", PATH_PEERING, "");
	fx_close(&f);
}
END_TEST

START_TEST(test_meshed_spokes_are_mesh_even_with_a_udr_default_route)
{
	struct est e;
	struct fx f;

	est_basic(&e, "10.0.0.0/8>192.168.10.1", "udr");
	est_route_table(&e, "udr", true, "default 0.0.0.0/0 VirtualAppliance 10.0.1.4");
	est_avnm(&e, "mesh", "Mesh", false, "s1,s2", "eastus", "Connectivity");
	fx_open(&f, &e);
	assert_path(&f, "s1", "s2", PATH_MESH, "");
	assert_path(&f, "s2", "s1", PATH_MESH, "");
	fx_close(&f);
}
END_TEST

START_TEST(test_udr_for_the_exact_spoke_prefix_beats_the_mesh_route)
{
	struct est e;
	struct fx f;

	est_basic(&e, "10.0.0.0/8>192.168.10.1", "inspect");
	est_route_table(&e, "inspect", false, "to-s2 10.2.0.0/16 VirtualAppliance 10.0.1.5");
	est_avnm(&e, "mesh", "Mesh", false, "s1,s2", "eastus", "Connectivity");
	fx_open(&f, &e);
	assert_path(&f, "s1", "s2", PATH_VIA_APPLIANCE, "10.0.1.5");
	assert_path(&f, "s2", "s1", PATH_MESH, "");
	fx_close(&f);
}
END_TEST

START_TEST(test_vnet_to_itself_is_local)
{
	struct est e;
	struct fx f;
	struct path_result r;

	est_basic(&e, NULL, NULL);
	fx_open(&f, &e);
	r = fx_path(&f, "s1", "s1");
	ck_assert_int_eq(r.cls, PATH_LOCAL);
	ck_assert_str_eq(r.detail, "");
	fx_close(&f);
}
END_TEST

START_TEST(test_worst_of_subnets_decides)
{
	struct est e;
	struct fx f;
	struct path_result r;

	est_basic(&e, "10.0.0.0/8>192.168.10.1", "udr");
	est_route_table(&e, "udr", true, "default 0.0.0.0/0 VirtualAppliance 10.0.1.4");
	est_route_table(&e, "drop", false, "blackhole 10.2.0.0/16 None");
	est_subnet(&e, "s1", "web", "10.1.1.0/24", NULL);      /* hairpin: worse than the appliance */
	est_subnet(&e, "s1", "web2", "10.1.2.0/24", NULL);     /* same again, later */
	est_vnet(&e, "s5", "eastus", "10.5.0.0/16");
	est_subnet(&e, "s5", "ok", "10.5.0.0/24", "udr");
	est_subnet(&e, "s5", "bad", "10.5.1.0/24", "drop");
	est_hub_spoke(&e, "hub", "s5");
	fx_open(&f, &e);
	r = fx_path(&f, "s1", "s2");
	ck_assert_int_eq(r.cls, PATH_HAIRPIN);
	ck_assert_ptr_eq(r.from_subnet, fx_subnet(&f, "s1", "web"));
	r = fx_path(&f, "s5", "s2");
	ck_assert_int_eq(r.cls, PATH_UNREACHABLE);
	ck_assert_str_eq(r.detail, "dropped by 10.2.0.0/16 None");
	ck_assert_ptr_eq(r.from_subnet, fx_subnet(&f, "s5", "bad"));
	/* infrastructure subnets do not count: the hub's firewall subnet is skipped */
	assert_path(&f, "hub", "s2", PATH_PEERING, "");
	fx_close(&f);
}
END_TEST

START_TEST(test_each_subnet_is_a_source_and_the_worst_heads)
{
	struct est e;
	struct fx f;
	struct path_result *rows = NULL, whole;
	struct nw_err err = { 0 };
	const struct topo_vnet *s5, *s2;
	size_t n = 0;

	/* s5's "ok" subnet goes to the firewall, its "open" subnet hairpins */
	est_basic(&e, "10.0.0.0/8>192.168.10.1", NULL);
	est_route_table(&e, "udr", true, "default 0.0.0.0/0 VirtualAppliance 10.0.1.4");
	est_vnet(&e, "s5", "eastus", "10.5.0.0/16");
	est_subnet(&e, "s5", "ok", "10.5.0.0/24", "udr");
	est_subnet(&e, "s5", "open", "10.5.1.0/24", NULL);
	est_hub_spoke(&e, "hub", "s5");
	fx_open(&f, &e);
	s5 = fx_vnet(&f, "s5");
	s2 = fx_vnet(&f, "s2");
	ck_assert_int_eq(routes_path_sources(&rows, &n, f.ctx, s5, NULL, s2->prefixes.v,
	    s2->prefixes.n, &err), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(rows[0].cls, PATH_VIA_APPLIANCE);
	ck_assert_str_eq(rows[0].detail, "10.0.1.4");
	ck_assert_ptr_eq(rows[0].from_subnet, fx_subnet(&f, "s5", "ok"));
	ck_assert_int_eq(rows[1].cls, PATH_HAIRPIN);
	ck_assert(!routes_path_agree(rows, n));
	ck_assert_uint_eq(routes_path_worst(rows, n), 1);
	ck_assert_int_eq(routes_path(&whole, f.ctx, s5, s2, &err), 0);
	ck_assert_int_eq(whole.cls, rows[1].cls);
	ck_assert_ptr_eq(whole.from_subnet, rows[1].from_subnet);
	free(rows);
	/* one subnet alone */
	ck_assert_int_eq(routes_path_sources(&rows, &n, f.ctx, s5, fx_subnet(&f, "s5", "ok"),
	    s2->prefixes.v, s2->prefixes.n, &err), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(rows[0].cls, PATH_VIA_APPLIANCE);
	ck_assert(routes_path_agree(rows, n));
	free(rows);
	/* a subnet of another VNet is refused */
	ck_assert_int_eq(routes_path_sources(&rows, &n, f.ctx, s2, fx_subnet(&f, "s5", "ok"),
	    s2->prefixes.v, s2->prefixes.n, &err), NW_EINPUT);
	ck_assert_ptr_null(rows);
	fx_close(&f);
}
END_TEST

START_TEST(test_endpoints_resolve_every_form_and_refuse_strangers)
{
	struct est e;
	struct fx f;
	struct route_endpoint ep;
	struct nw_err err = { 0 };
	char id[600];
	const struct cidr *d;
	size_t nd;

	est_basic(&e, "10.0.0.0/8>192.168.10.1", NULL);
	est_vnet(&e, "s5", "eastus", "10.5.0.0/16");
	est_subnet(&e, "s5", "ok", "10.5.0.0/24", NULL);
	est_subnet(&e, "s5", "narrow", "10.5.1.0/25", NULL);
	snprintf(id, sizeof(id), "%s/subnets/ok", rid("virtualNetworks", "s5"));
	est_add(&e, json_pack("{s:s, s:s, s:s, s:s, s:{s:[{s:s, s:{s:s, s:{s:s}}}]}}",
	    "id", rid("networkInterfaces", "nic-a"), "name", "nic-a",
	    "type", "Microsoft.Network/networkInterfaces", "location", "eastus", "properties",
	    "ipConfigurations", "name", "ipconfig1", "properties", "privateIPAddress", "10.5.0.9",
	    "subnet", "id", id));
	fx_open(&f, &e);
	ck_assert_int_eq(routes_endpoint_resolve(&ep, f.t, "s5", &err), 0);
	ck_assert_int_eq(ep.kind, ENDPOINT_VNET);
	ck_assert_ptr_eq(ep.vnet, fx_vnet(&f, "s5"));
	ck_assert_ptr_null(ep.subnet);
	routes_endpoint_prefixes(&d, &nd, &ep);
	ck_assert_uint_eq(nd, 1);
	ck_assert_int_eq(routes_endpoint_resolve(&ep, f.t, "S5/OK", &err), 0);
	ck_assert_int_eq(ep.kind, ENDPOINT_SUBNET);
	ck_assert_ptr_eq(ep.subnet, fx_subnet(&f, "s5", "ok"));
	ck_assert_int_eq(routes_endpoint_resolve(&ep, f.t, id, &err), 0);
	ck_assert_int_eq(ep.kind, ENDPOINT_SUBNET);
	/* the subnet whose prefix holds the address */
	ck_assert_int_eq(routes_endpoint_resolve(&ep, f.t, "10.5.1.100", &err), 0);
	ck_assert_int_eq(ep.kind, ENDPOINT_ADDRESS);
	ck_assert_ptr_eq(ep.subnet, fx_subnet(&f, "s5", "narrow"));
	routes_endpoint_prefixes(&d, &nd, &ep);
	ck_assert_uint_eq(nd, 1);
	ck_assert_uint_eq(d[0].len, 32);
	ck_assert_int_eq(routes_endpoint_resolve(&ep, f.t, "nic-a", &err), 0);
	ck_assert_int_eq(ep.kind, ENDPOINT_NIC);
	ck_assert_ptr_eq(ep.subnet, fx_subnet(&f, "s5", "ok"));
	ck_assert_int_eq(routes_endpoint_resolve(&ep, f.t, rid("networkInterfaces", "nic-a"), &err), 0);
	ck_assert_int_eq(ep.kind, ENDPOINT_NIC);
	/* strangers */
	ck_assert_int_eq(routes_endpoint_resolve(&ep, f.t, "192.168.1.1", &err), NW_EINPUT);
	ck_assert_msg(strstr(err.msg, "address 192.168.1.1 is in no VNet") != NULL, "%s", err.msg);
	ck_assert_msg(strstr(err.msg, "expected a VNet name or id") != NULL, "%s", err.msg);
	ck_assert_int_eq(routes_endpoint_resolve(&ep, f.t, "10.5.9.9", &err), NW_EINPUT);
	ck_assert_msg(strstr(err.msg, "in VNet s5") != NULL, "%s", err.msg);
	ck_assert_int_eq(routes_endpoint_resolve(&ep, f.t, "s5/nope", &err), NW_EINPUT);
	ck_assert_msg(strstr(err.msg, "no subnet 'nope'") != NULL, "%s", err.msg);
	ck_assert_int_eq(routes_endpoint_resolve(&ep, f.t, "nothing", &err), NW_EINPUT);
	ck_assert_int_eq(routes_endpoint_resolve(&ep, f.t, "/subscriptions/x", &err), NW_EINPUT);
	fx_close(&f);
}
END_TEST

START_TEST(test_worst_of_destination_prefixes_decides)
{
	struct est e;
	struct fx f;
	struct path_result r;

	est_basic(&e, "10.0.0.0/8>192.168.10.1", NULL);
	est_vnet(&e, "s6", "eastus", "10.6.0.0/16,172.20.0.0/24");
	est_subnet(&e, "s6", "app", "10.6.0.0/24", NULL);
	est_hub_spoke(&e, "hub", "s6");
	fx_open(&f, &e);
	r = fx_path(&f, "s1", "s6");
	ck_assert_int_eq(r.cls, PATH_UNREACHABLE);
	ck_assert_str_eq(r.detail, "dropped by 172.16.0.0/12 None");
	ck_assert(eqp(&r.dst, "172.20.0.0/24"));
	fx_close(&f);
}
END_TEST

START_TEST(test_circuit_table_lists_on_premises_and_gateway_routes)
{
	struct est e;
	struct fx f;
	struct circuit_route_set cs;
	struct nw_err err = { 0 };
	char buf[CIDR_STRLEN];
	static const char *const want[] = { "10.0.0.0/8", "10.10.0.0/16", "10.11.0.0/16", "10.20.0.0/16", "10.21.0.0/16" };

	est_two_hubs(&e, true);
	fx_open(&f, &e);
	ck_assert_int_eq(routes_circuit_table(&cs, f.ctx, fx_circuit(&f, "er"), &err), 0);
	ck_assert_uint_eq(cs.n, 5);
	for (size_t i = 0; i < cs.n; i++) {
		cidr_format(&cs.v[i].prefix, buf);
		ck_assert_str_eq(buf, want[i]);
	}
	ck_assert_ptr_null(cs.v[0].origin);
	ck_assert_str_eq(cs.v[0].next_hop, "192.168.10.1");
	ck_assert_str_eq(cs.v[0].path, "65020");
	ck_assert_ptr_eq(cs.v[1].origin, fx_gateway(&f, "hub1-gw"));
	ck_assert_str_eq(cs.v[1].path, "65515");
	ck_assert_str_eq(cs.v[1].next_hop, "10.10.255.4");
	ck_assert_ptr_eq(cs.v[4].origin, fx_gateway(&f, "hub2-gw"));
	circuit_route_set_free(&cs);
	circuit_route_set_free(&cs); /* freeing twice is harmless */
	fx_close(&f);
}
END_TEST

START_TEST(test_ipv6_space_has_no_azure_defaults)
{
	struct est e;
	struct fx f;
	struct route_set s;

	est_init(&e);
	est_vnet(&e, "a", "eastus", "10.1.0.0/16,fd00:1::/48");
	est_vnet(&e, "b", "eastus", "fd00:2::/48");
	fx_open(&f, &e);
	s = fx_eff(&f, "a", NULL);
	assert_route(look(&s, "fd00:1::5"), "fd00:1::/48", ROUTE_SRC_DEFAULT, NH_VNET_LOCAL);
	ck_assert_ptr_null(look(&s, "fd00:2::5"));
	route_set_free(&s);
	assert_path(&f, "a", "b", PATH_UNREACHABLE, "no route");
	fx_close(&f);
}
END_TEST

/* ---- summaries ---- */

START_TEST(test_summary_counts_classes_and_names_the_first_flow)
{
	struct est e;
	struct fx f;
	struct path_summary s;
	struct nw_err err = { 0 };

	est_basic(&e, "10.0.0.0/8>192.168.10.1", NULL);
	fx_open(&f, &e);
	ck_assert_int_eq(routes_summary(&s, f.ctx, NULL, 0, &err), 0);
	ck_assert_uint_eq(s.vnets, 3);
	ck_assert_uint_eq(s.flows, 6);
	ck_assert_uint_eq(s.by_class[PATH_PEERING], 4);
	ck_assert_uint_eq(s.by_class[PATH_HAIRPIN], 2);
	ck_assert_uint_eq(s.nbuckets, 2);
	ck_assert_int_eq(s.buckets[0].cls, PATH_PEERING);
	ck_assert_ptr_eq(s.buckets[0].example_from, fx_vnet(&f, "hub"));
	ck_assert_ptr_eq(s.buckets[0].example_to, fx_vnet(&f, "s1"));
	ck_assert_int_eq(s.buckets[1].cls, PATH_HAIRPIN);
	ck_assert_str_eq(s.buckets[1].detail, fx_circuit(&f, "er")->res->id);
	ck_assert_ptr_eq(s.buckets[1].example_from, fx_vnet(&f, "s1"));
	ck_assert_ptr_eq(s.buckets[1].example_to, fx_vnet(&f, "s2"));
	path_summary_free(&s);
	path_summary_free(&s);
	fx_close(&f);
}
END_TEST

START_TEST(test_summary_members_pick_the_vnets_and_reject_strangers)
{
	struct est e;
	struct fx f;
	struct path_summary s;
	struct nw_err err = { 0 };
	size_t members[3];

	est_basic(&e, "10.0.0.0/8>192.168.10.1", NULL);
	fx_open(&f, &e);
	members[0] = (size_t)(fx_vnet(&f, "s2") - f.t->vnets);
	members[1] = (size_t)(fx_vnet(&f, "s1") - f.t->vnets);
	members[2] = members[0]; /* duplicates count once */
	ck_assert_int_eq(routes_summary(&s, f.ctx, members, 3, &err), 0);
	ck_assert_uint_eq(s.vnets, 2);
	ck_assert_uint_eq(s.flows, 2);
	ck_assert_uint_eq(s.by_class[PATH_HAIRPIN], 2);
	path_summary_free(&s);
	members[0] = f.t->nvnets;
	ck_assert_int_eq(routes_summary(&s, f.ctx, members, 1, &err), NW_EINPUT);
	ck_assert_int_eq(err.code, NW_EINPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "member"));
	ck_assert_int_eq(routes_summary_slow(&s, f.ctx, members, 1, &err), NW_EINPUT);
	fx_close(&f);
}
END_TEST

/* ---- generated estates ---- */

struct rng {
	uint64_t s;
};

static uint64_t
rnext(struct rng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return r->s;
}

static unsigned
rbelow(struct rng *r, unsigned n)
{
	return (unsigned)(rnext(r) % n);
}

static bool
rchance(struct rng *r, unsigned pct)
{
	return rbelow(r, 100) < pct;
}

/*
 * A seeded estate with everything the summary must get right: several
 * hubs (ExpressRoute, sometimes VPN, sometimes no gateway) on two
 * circuits, summarized hubs, a gateway refusing remote VNet traffic,
 * spokes forced through an appliance with propagation off (shared and
 * per-spoke tables of the same content), exact-prefix UDRs, user routes
 * to the gateway, spoke-to-spoke peerings (one way and both ways),
 * not-connected and stale peerings, overlapping and duplicate address
 * spaces, VNets without subnets, a deployed mesh, a directly connected
 * hub-and-spoke group overlapping it, and an undeployed configuration.
 */
static void
gen_estate(struct est *e, uint64_t seed, unsigned hubs, unsigned spokes_per_hub, bool small)
{
	static const char *const regions[] = { "eastus", "westus" };
	struct rng r = { seed * 2654435761u + 88172645463325252ull };
	unsigned nspokes = hubs * spokes_per_hub;
	char name[64], name2[64], space[128], buf[256], buf2[256];
	char (*spaces)[64] = calloc(nspokes + 1, sizeof(*spaces));
	char *mesh = calloc(nspokes + 1, 12), *hs = calloc(nspokes + 1, 12), *undeployed = calloc(nspokes + 1, 12);
	size_t lm = 0, lh = 0, lu = 0;

	ck_assert(spaces != NULL && mesh != NULL && hs != NULL && undeployed != NULL);
	est_init(e);
	est_circuit(e, "er1", rchance(&r, 70) ? "10.0.0.0/8>192.168.10.1,192.168.0.0/16>192.168.10.1,10.32.7.0/24>192.168.10.1" :
	    "192.168.0.0/16>192.168.10.1");
	est_circuit(e, "er2", rchance(&r, 50) ? "172.16.0.0/12>192.168.20.1,10.0.0.0/8>192.168.20.1" : NULL);
	for (unsigned h = 0; h < hubs; h++) {
		const char *loc = regions[h % 2];
		unsigned kind = rbelow(&r, 100);

		snprintf(name, sizeof(name), "hub%u", h);
		snprintf(space, sizeof(space), "10.%u.0.0/16", h);
		est_vnet(e, name, loc, space);
		snprintf(buf, sizeof(buf), "10.%u.0.0/24", h);
		est_subnet(e, name, "default", buf, rchance(&r, 20) ? "shared-inspect" : NULL);
		snprintf(buf, sizeof(buf), "10.%u.1.0/26", h);
		est_subnet(e, name, "AzureFirewallSubnet", buf, NULL);
		snprintf(name2, sizeof(name2), "hub%u-gw", h);
		snprintf(buf, sizeof(buf), "10.%u.255.0/27", h);
		if (rchance(&r, 50))
			snprintf(buf2, sizeof(buf2), "10.%u.255.4", h);
		else
			snprintf(buf2, sizeof(buf2), "10.%u.255.4,10.%u.255.5", h, h);
		if (kind < 75) {
			est_gateway(e, name2, name, "ExpressRoute", buf, buf2, !rchance(&r, 20));
			if (rchance(&r, 80))
				est_connection(e, name2, "er1");
			if (rchance(&r, 30))
				est_connection(e, name2, "er2");
		} else if (kind < 90) {
			est_gateway(e, name2, name, "Vpn", buf, buf2, true);
		}
		if (rchance(&r, 25))
			est_summarize(e, name, rchance(&r, 50) ? "10.0.0.0/10" : "10.32.0.0/12");
		snprintf(name2, sizeof(name2), "udr%u", h);
		snprintf(buf, sizeof(buf), "default 0.0.0.0/0 VirtualAppliance 10.%u.1.4", h);
		est_route_table(e, name2, true, buf);
	}
	est_route_table(e, "shared-inspect", false, "dc 10.0.0.0/8 VirtualAppliance 10.0.1.4;spokes 10.32.0.0/16 VirtualAppliance 10.0.1.5");
	est_route_table(e, "to-gw", false, "onprem 10.128.0.0/9 VirtualNetworkGateway;dc 192.168.0.0/16 VirtualNetworkGateway");
	est_route_table(e, "to-gw-nobgp", true, "onprem 10.0.0.0/8 VirtualNetworkGateway");

	for (unsigned i = 0; i < nspokes; i++) {
		unsigned h = i % hubs, nsub, ov = rbelow(&r, 100);
		const char *loc = rchance(&r, 80) ? regions[h % 2] : regions[(h + 1) % 2];
		char hub[32];

		snprintf(hub, sizeof(hub), "hub%u", h);
		snprintf(name, sizeof(name), "s%u", i);
		if (i > 0 && ov < 4) {
			snprintf(spaces[i], sizeof(spaces[i]), "%s", spaces[rbelow(&r, i)]); /* the same space */
		} else if (i > 0 && ov < 8) {
			unsigned j = rbelow(&r, i);
			char base[48], *slash;

			snprintf(base, sizeof(base), "%.40s", spaces[j]);
			slash = strrchr(base, '/');
			if (slash != NULL && strcmp(slash, "/24") == 0) {
				*slash = '\0';
				snprintf(spaces[i], sizeof(spaces[i]), "%s/25", base); /* inside another */
			} else {
				snprintf(spaces[i], sizeof(spaces[i]), "10.%u.%u.0/24", 32 + i / 256, i % 256);
			}
		} else {
			snprintf(spaces[i], sizeof(spaces[i]), "10.%u.%u.0/24", 32 + i / 256, i % 256);
		}
		snprintf(space, sizeof(space), "%s", spaces[i]);
		if (rchance(&r, 15)) {
			snprintf(buf, sizeof(buf), ",172.20.%u.0/24", i % 256);
			strncat(space, buf, sizeof(space) - strlen(space) - 1);
		}
		est_vnet(e, name, loc, space);
		nsub = rbelow(&r, small ? 4 : 3);
		for (unsigned k = 0; k < nsub; k++) {
			char sn[16], base[64], *slash;
			unsigned a, b, c, d, pick = rbelow(&r, 100);
			const char *rt = NULL;
			char own[64];

			snprintf(base, sizeof(base), "%s", spaces[i]);
			slash = strrchr(base, '/');
			*slash = '\0';
			ck_assert_int_eq(sscanf(base, "%u.%u.%u.%u", &a, &b, &c, &d), 4);
			snprintf(buf, sizeof(buf), "%u.%u.%u.%u/27", a, b, c, d + 32 * k);
			snprintf(sn, sizeof(sn), "sub%u", k);
			if (pick < 20) {
				snprintf(own, sizeof(own), "udr%u", h);
				rt = own;
			} else if (pick < 26) {
				/* a table of its own with the hub's content */
				snprintf(own, sizeof(own), "own%u-%u", i, k);
				snprintf(buf2, sizeof(buf2), "default 0.0.0.0/0 VirtualAppliance 10.%u.1.4", h);
				est_route_table(e, own, true, buf2);
				rt = own;
			} else if (pick < 30 && i > 0) {
				snprintf(own, sizeof(own), "exact%u-%u", i, k);
				snprintf(buf2, sizeof(buf2), "to-peer %s VirtualAppliance 10.%u.1.6", spaces[rbelow(&r, i)], h);
				est_route_table(e, own, false, buf2);
				rt = own;
			} else if (pick < 34) {
				rt = "to-gw";
			} else if (pick < 37) {
				rt = "to-gw-nobgp";
			} else if (pick < 40) {
				rt = "shared-inspect";
			}
			est_subnet(e, name, sn, buf, rt);
		}
		if (rchance(&r, 92)) {
			int sflags = rchance(&r, 85) ? P_USE_REMOTE : 0, hflags = rchance(&r, 90) ? P_TRANSIT : 0;

			if (rchance(&r, 5))
				sflags |= P_INITIATED;
			est_peer(e, hub, name, hflags, NULL);
			if (rchance(&r, 5)) {
				snprintf(buf, sizeof(buf), "10.%u.0.0/16,10.200.%u.0/24", h, i % 256);
				est_peer(e, name, hub, sflags, buf);
			} else if (i > 0 && rchance(&r, 6)) {
				/* out of sync: the hub's recorded space holds another spoke's */
				snprintf(buf, sizeof(buf), "10.%u.0.0/16,%s", h, spaces[rbelow(&r, i)]);
				est_peer(e, name, hub, sflags, buf);
			} else {
				est_peer(e, name, hub, sflags, NULL);
			}
		}
		if (i > 0 && rchance(&r, small ? 15 : 2)) {
			unsigned j = rbelow(&r, i);

			snprintf(name2, sizeof(name2), "s%u", j);
			est_peer(e, name, name2, 0, NULL);
			if (rchance(&r, 70))
				est_peer(e, name2, name, 0, NULL);
		}
		if (rchance(&r, 35))
			lm += (size_t)sprintf(mesh + lm, "%s%s", lm ? "," : "", name);
		if (rchance(&r, 20))
			lh += (size_t)sprintf(hs + lh, "%s%s", lh ? "," : "", name);
		if (rchance(&r, 15))
			lu += (size_t)sprintf(undeployed + lu, "%s%s", lu ? "," : "", name);
	}
	if (lm > 0)
		est_avnm(e, "mesh1", "Mesh", rchance(&r, 50), mesh, rchance(&r, 50) ? "eastus,westus" : "eastus", "Connectivity");
	if (lh > 0)
		est_avnm(e, "hs2", "HubAndSpoke", false, hs, "eastus,westus", "Connectivity");
	if (lu > 0)
		est_avnm(e, "mesh3", "Mesh", true, undeployed, NULL, "Connectivity");
	free(spaces);
	free(mesh);
	free(hs);
	free(undeployed);
}

static void
assert_summaries_equal(const struct path_summary *a, const struct path_summary *b, uint64_t seed)
{
	ck_assert_uint_eq(a->vnets, b->vnets);
	ck_assert_uint_eq(a->flows, b->flows);
	ck_assert_uint_eq(a->flows, a->vnets * (a->vnets - 1));
	for (int c = 0; c < PATH_NCLASSES; c++)
		ck_assert_msg(a->by_class[c] == b->by_class[c], "seed %llu: %s fast %zu slow %zu",
		    (unsigned long long)seed, path_class_name((enum path_class)c), a->by_class[c], b->by_class[c]);
	ck_assert_uint_eq(a->nbuckets, b->nbuckets);
	for (size_t i = 0; i < a->nbuckets; i++) {
		const struct path_bucket *x = &a->buckets[i], *y = &b->buckets[i];

		ck_assert_int_eq(x->cls, y->cls);
		ck_assert_str_eq(x->detail, y->detail);
		ck_assert_msg(x->count == y->count, "seed %llu: %s %s fast %zu slow %zu",
		    (unsigned long long)seed, path_class_name(x->cls), x->detail, x->count, y->count);
		ck_assert_msg(x->example_from == y->example_from && x->example_to == y->example_to,
		    "seed %llu: %s %s: examples %s->%s and %s->%s", (unsigned long long)seed,
		    path_class_name(x->cls), x->detail, x->example_from->res->name, x->example_to->res->name,
		    y->example_from->res->name, y->example_to->res->name);
	}
}

START_TEST(test_fast_summary_equals_pair_by_pair_summary_on_generated_estates)
{
	size_t classes_seen = 0;

	for (uint64_t seed = 1; seed <= 12; seed++) {
		struct est e;
		struct fx f;
		struct path_summary fast, slow;
		struct nw_err err = { 0 };

		gen_estate(&e, seed, 2 + (unsigned)(seed % 3), 6 + (unsigned)(seed % 7), true);
		fx_open(&f, &e);
		ck_assert_msg(routes_summary(&fast, f.ctx, NULL, 0, &err) == 0, "%s", err.msg);
		ck_assert_msg(routes_summary_slow(&slow, f.ctx, NULL, 0, &err) == 0, "%s", err.msg);
		assert_summaries_equal(&fast, &slow, seed);
		for (int c = 0; c < PATH_NCLASSES; c++)
			classes_seen |= (size_t)(fast.by_class[c] > 0) << c;
		path_summary_free(&fast);
		path_summary_free(&slow);
		/* and over a subset of the VNets */
		{
			size_t *members = malloc(f.t->nvnets * sizeof(*members)), n = 0;

			ck_assert_ptr_nonnull(members);
			for (size_t v = f.t->nvnets; v-- > 0;)
				if (v % 3 != 1)
					members[n++] = v;
			ck_assert_int_eq(routes_summary(&fast, f.ctx, members, n, &err), 0);
			ck_assert_int_eq(routes_summary_slow(&slow, f.ctx, members, n, &err), 0);
			assert_summaries_equal(&fast, &slow, seed);
			path_summary_free(&fast);
			path_summary_free(&slow);
			free(members);
		}
		fx_close(&f);
	}
	/* the estates exercise every class but local */
	for (int c = 0; c < PATH_NCLASSES; c++)
		if (c != PATH_LOCAL)
			ck_assert_msg(classes_seen & ((size_t)1 << c), "no %s flow generated", path_class_name((enum path_class)c));
}
END_TEST

static void
assert_subnet_summaries_equal(const struct path_summary *a, const struct path_summary *b,
    const struct topology *t, uint64_t seed)
{
	ck_assert_uint_eq(a->sources, b->sources);
	ck_assert_uint_eq(a->flows, a->sources * (a->vnets - 1));
	ck_assert_uint_eq(a->flows, b->flows);
	for (int c = 0; c < PATH_NCLASSES; c++)
		ck_assert_msg(a->by_class[c] == b->by_class[c], "seed %llu: %s fast %zu slow %zu",
		    (unsigned long long)seed, path_class_name((enum path_class)c), a->by_class[c], b->by_class[c]);
	ck_assert_uint_eq(a->nbuckets, b->nbuckets);
	for (size_t i = 0; i < a->nbuckets; i++) {
		ck_assert_int_eq(a->buckets[i].cls, b->buckets[i].cls);
		ck_assert_str_eq(a->buckets[i].detail, b->buckets[i].detail);
		ck_assert_uint_eq(a->buckets[i].count, b->buckets[i].count);
		ck_assert_ptr_eq(a->buckets[i].example_from, b->buckets[i].example_from);
		ck_assert_ptr_eq(a->buckets[i].example_to, b->buckets[i].example_to);
	}
	ck_assert_msg(a->nmixed == b->nmixed, "seed %llu: mixed fast %zu slow %zu",
	    (unsigned long long)seed, a->nmixed, b->nmixed);
	for (size_t i = 0; i < a->nmixed; i++) {
		ck_assert_ptr_eq(a->mixed[i].vnet, b->mixed[i].vnet);
		ck_assert_ptr_eq(a->mixed[i].example_to, b->mixed[i].example_to);
	}
	for (size_t v = 0; v < t->nvnets; v++)
		for (int c = 0; c < PATH_NCLASSES; c++)
			ck_assert_msg(a->by_vnet[v][c] == b->by_vnet[v][c], "seed %llu: %s %s fast %zu slow %zu",
			    (unsigned long long)seed, t->vnets[v].res->name,
			    path_class_name((enum path_class)c), a->by_vnet[v][c], b->by_vnet[v][c]);
}

START_TEST(test_fast_subnet_summary_equals_pair_by_pair_summary_on_generated_estates)
{
	size_t mixed_seen = 0;

	for (uint64_t seed = 1; seed <= 12; seed++) {
		struct est e;
		struct fx f;
		struct path_summary fast, slow, byvnet;
		struct nw_err err = { 0 };
		size_t *members, n = 0;

		gen_estate(&e, seed, 2 + (unsigned)(seed % 3), 6 + (unsigned)(seed % 7), true);
		fx_open(&f, &e);
		ck_assert_msg(routes_summary_subnets(&fast, f.ctx, NULL, 0, &err) == 0, "%s", err.msg);
		ck_assert_msg(routes_summary_subnets_slow(&slow, f.ctx, NULL, 0, &err) == 0, "%s", err.msg);
		assert_subnet_summaries_equal(&fast, &slow, f.t, seed);
		/* a VNet summary never counts more flows than the subnet one */
		ck_assert_int_eq(routes_summary(&byvnet, f.ctx, NULL, 0, &err), 0);
		ck_assert_uint_le(byvnet.flows, fast.flows);
		ck_assert_uint_eq(byvnet.nmixed, 0);
		mixed_seen += fast.nmixed;
		path_summary_free(&byvnet);
		path_summary_free(&fast);
		path_summary_free(&slow);
		members = malloc(f.t->nvnets * sizeof(*members));
		ck_assert_ptr_nonnull(members);
		for (size_t v = f.t->nvnets; v-- > 0;)
			if (v % 3 != 1)
				members[n++] = v;
		ck_assert_int_eq(routes_summary_subnets(&fast, f.ctx, members, n, &err), 0);
		ck_assert_int_eq(routes_summary_subnets_slow(&slow, f.ctx, members, n, &err), 0);
		assert_subnet_summaries_equal(&fast, &slow, f.t, seed);
		path_summary_free(&fast);
		path_summary_free(&slow);
		free(members);
		fx_close(&f);
	}
	ck_assert_uint_gt(mixed_seen, 0);
}
END_TEST

START_TEST(test_subnet_summary_counts_a_firewalled_subnet_beside_a_hairpinning_one)
{
	struct est e;
	struct fx f;
	struct path_summary s;
	struct nw_err err = { 0 };
	size_t members[3];

	est_basic(&e, "10.0.0.0/8>192.168.10.1", NULL);
	est_route_table(&e, "udr", true, "default 0.0.0.0/0 VirtualAppliance 10.0.1.4");
	est_vnet(&e, "s5", "eastus", "10.5.0.0/16");
	est_subnet(&e, "s5", "workload", "10.5.0.0/24", "udr");
	est_subnet(&e, "s5", "endpoints", "10.5.1.0/24", NULL);
	est_hub_spoke(&e, "hub", "s5");
	fx_open(&f, &e);
	members[0] = (size_t)(fx_vnet(&f, "s1") - f.t->vnets);
	members[1] = (size_t)(fx_vnet(&f, "s2") - f.t->vnets);
	members[2] = (size_t)(fx_vnet(&f, "s5") - f.t->vnets);
	ck_assert_int_eq(routes_summary_subnets(&s, f.ctx, members, 3, &err), 0);
	/* s1 and s2 have one subnet each, s5 two: 4 sources x 2 other VNets */
	ck_assert_uint_eq(s.sources, 4);
	ck_assert_uint_eq(s.flows, 8);
	ck_assert_uint_eq(s.by_class[PATH_VIA_APPLIANCE], 2);
	ck_assert_uint_eq(s.by_class[PATH_HAIRPIN], 6);
	ck_assert_uint_eq(s.nmixed, 1);
	ck_assert_ptr_eq(s.mixed[0].vnet, fx_vnet(&f, "s5"));
	ck_assert_uint_eq(s.by_vnet[members[2]][PATH_VIA_APPLIANCE], 2);
	ck_assert_uint_eq(s.by_vnet[members[2]][PATH_HAIRPIN], 2);
	path_summary_free(&s);
	fx_close(&f);
}
END_TEST

static bool
routes_same(const struct route *a, const struct route *b)
{
	return cidr_equal(&a->prefix, &b->prefix) && a->source == b->source &&
	    a->next_hop == b->next_hop && a->has_next_hop_ip == b->has_next_hop_ip &&
	    (!a->has_next_hop_ip || cidr_equal(&a->next_hop_ip, &b->next_hop_ip)) &&
	    a->remote == b->remote && a->peering == b->peering && a->origin == b->origin &&
	    a->circuit == b->circuit && a->gateway == b->gateway && a->route_table == b->route_table;
}

START_TEST(test_path_lookups_agree_with_the_materialized_table)
{
	for (uint64_t seed = 21; seed <= 26; seed++) {
		struct est e;
		struct fx f;
		struct rng r = { seed };

		gen_estate(&e, seed, 3, 8, true);
		fx_open(&f, &e);
		for (size_t v = 0; v < f.t->nvnets; v++)
			for (size_t s = 0; s < f.t->vnets[v].nsubnets; s++) {
				const struct topo_subnet *sn = &f.t->vnets[v].subnets[s];
				struct route_set set;
				struct nw_err err = { 0 };

				ck_assert_int_eq(routes_effective(&set, f.ctx, sn, &err), 0);
				for (size_t w = 0; w < f.t->nvnets + 40; w++) {
					struct cidr d;
					struct path_result pr;
					const struct route *want;

					if (w < f.t->nvnets) {
						if (f.t->vnets[w].prefixes.n == 0)
							continue;
						d = f.t->vnets[w].prefixes.v[0];
					} else {
						memset(&d, 0, sizeof(d));
						d.family = 4;
						d.len = (uint8_t)(8 + rbelow(&r, 25));
						d.addr[0] = rchance(&r, 70) ? 10 : (uint8_t)rbelow(&r, 256);
						d.addr[1] = (uint8_t)rbelow(&r, 64);
						d = cidr_supernet(&d, d.len);
					}
					ck_assert_int_eq(routes_path_subnet(&pr, f.ctx, sn, &d, &err), 0);
					want = routes_lookup(&set, &d);
					ck_assert(pr.has_route == (want != NULL));
					if (want != NULL)
						ck_assert_msg(routes_same(&pr.route, want), "seed %llu subnet %s",
						    (unsigned long long)seed, sn->id);
				}
				route_set_free(&set);
			}
		fx_close(&f);
	}
}
END_TEST

START_TEST(test_summary_of_two_thousand_vnets_completes)
{
	struct est e;
	struct fx f;
	struct path_summary s;
	struct nw_err err = { 0 };
	size_t total = 0;

	gen_estate(&e, 7, 10, 199, false);
	fx_open(&f, &e);
	ck_assert_uint_eq(f.t->nvnets, 2000);
	ck_assert_msg(routes_summary(&s, f.ctx, NULL, 0, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(s.flows, (size_t)2000 * 1999);
	for (size_t i = 0; i < s.nbuckets; i++)
		total += s.buckets[i].count;
	ck_assert_uint_eq(total, s.flows);
	ck_assert_uint_gt(s.by_class[PATH_HAIRPIN], 0);
	ck_assert_uint_gt(s.by_class[PATH_MESH], 0);
	path_summary_free(&s);
	fx_close(&f);
}
END_TEST

int
main(void)
{
	const TTest *const routes_tests[] = {
		TEST_CASE("selection", 0),
		test_names_are_azures_and_classes_parse_back,
		test_longest_prefix_wins_across_sources,
		test_user_route_wins_a_tie_with_bgp_and_system,
		test_bgp_wins_a_tie_with_system,
		test_losers_stay_in_table_as_invalid,
		test_peering_route_beats_more_specific_bgp_route,
		test_connected_group_route_beats_more_specific_bgp_route,
		test_user_default_route_invalidates_private_none_routes,
		test_disabled_bgp_propagation_drops_gateway_routes,
		test_use_remote_gateways_requires_transit_on_hub_side,
		test_gateway_learns_other_gateways_on_the_same_circuit_but_not_its_own,
		test_allow_remote_vnet_traffic_false_learns_only_on_premises,
		test_summarized_prefixes_replace_hub_space_and_drop_covered_spokes,
		test_global_peering_next_hop_type,
		test_peering_that_is_not_connected_gives_no_route,
		test_user_route_to_expressroute_gateway_is_invalid,
		test_ipv6_space_has_no_azure_defaults,
		TEST_CASE("groups", 0),
		test_connected_groups_only_for_deployed_configurations,
		test_hub_and_spoke_directly_connected_forms_a_connected_group,
		test_non_global_mesh_connects_only_within_a_region,
		test_overlapping_connected_group_prefixes_are_dropped,
		test_vnet_in_two_connected_groups_gets_both_and_each_peer_once,
		TEST_CASE("paths", 0),
		test_spokes_of_one_hub_hairpin_through_the_circuit_under_a_supernet,
		test_spokes_of_two_hubs_on_the_same_circuit_hairpin,
		test_more_specific_on_premises_route_makes_it_on_premises,
		test_no_covering_route_is_unreachable_dropped_by_none,
		test_udr_default_route_to_appliance_is_via_appliance,
		test_peered_spokes_are_peering,
		test_meshed_spokes_are_mesh_even_with_a_udr_default_route,
		test_udr_for_the_exact_spoke_prefix_beats_the_mesh_route,
		test_vnet_to_itself_is_local,
		test_worst_of_subnets_decides,
		test_each_subnet_is_a_source_and_the_worst_heads,
		test_endpoints_resolve_every_form_and_refuse_strangers,
		test_worst_of_destination_prefixes_decides,
		test_circuit_table_lists_on_premises_and_gateway_routes,
		TEST_CASE("summary", 300),
		test_summary_counts_classes_and_names_the_first_flow,
		test_summary_members_pick_the_vnets_and_reject_strangers,
		test_fast_summary_equals_pair_by_pair_summary_on_generated_estates,
		test_fast_subnet_summary_equals_pair_by_pair_summary_on_generated_estates,
		test_subnet_summary_counts_a_firewalled_subnet_beside_a_hairpinning_one,
		test_path_lookups_agree_with_the_materialized_table,
		test_summary_of_two_thousand_vnets_completes,
		NULL,
	};

	return test_main("routes", routes_tests);
}
