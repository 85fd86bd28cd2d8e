/*
 * netwave synth --interhub-nva [--route-servers] (plan/synth.h): the
 * estate seed 003's "inter-hub routing with ARS" starts from.  The hubs
 * synth made are peered with each other (global peering when their
 * regions differ) and route between regions through an NVA each, with
 * UDRs: spokes send the other hubs' blocks to their hub's NVA, the NVAs'
 * subnet sends each other hub's block to that hub's NVA.  --route-servers
 * adds what the route-server-interhub change deploys, so its end state can
 * be tested too: a route server per hub (RouteServerSubnet, branch-to-
 * branch, hub routing preference ExpressRoute) and seed 003's Option B:
 * each NVA peers with the other hubs' route servers and advertises its
 * hub's block as a supernet, which the spokes' UDRs override exactly, so
 * spokes keep going through their own NVA while the NVAs' subnets learn
 * the other blocks from BGP (their UDRs become redundant).
 *
 * It works on the generated document, after synth.c: hubs are the VNets
 * tagged role=hub in file order, spokes find their hub by the peering
 * that uses its gateway.  Each hub's /24 keeps .128/27 for the NVA (at
 * .132) and .160/27 for RouteServerSubnet (route server at .164 and .165).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/jsonutil.h"
#include "plan/synth.h"

#define ID_MAX 512
#define NVA_ASN_BASE 65000 /* hub h's NVA uses 65000 + h: private ASNs, never 65515..65520 */

struct ihub {
	json_t *vnet;     /* borrowed */
	const char *id, *name, *region;
	char sub[64], rg[128];
	unsigned n24;     /* the hub's /24 as an index of /24s in 10.0.0.0/8 */
	char block[32];   /* the hub's block: its /24 and its spokes' */
	char nva_ip[32], nva_subnet[32], rs_subnet[32], rs_ip[2][32];
	char nic_id[ID_MAX], ars_id[ID_MAX], nva_name[64];
	json_t *spokes;   /* [[name, prefix]]: the spokes using the hub's gateway */
};

/*
 * Azure's limit of routes in one route table ("Routes per route table",
 * learn.microsoft.com/azure/azure-resource-manager/management/
 * azure-subscription-service-limits#networking-limits): an NVA subnet's
 * table holds a route per remote spoke while they fit, the other hubs'
 * blocks otherwise.
 */
#define ROUTES_PER_TABLE 400

static void
id_of(char *buf, size_t n, const struct ihub *h, const char *kind, const char *name)
{
	snprintf(buf, n, "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/%s/%s",
	    h->sub, h->rg, kind, name);
}

static void
addr(char *buf, size_t n, unsigned n24, unsigned host, unsigned len)
{
	if (len == 0)
		snprintf(buf, n, "10.%u.%u.%u", n24 >> 8, n24 & 255, host);
	else
		snprintf(buf, n, "10.%u.%u.%u/%u", n24 >> 8, n24 & 255, host, len);
}

static int
push(json_t *arr, json_t *v)
{
	return v == NULL ? -1 : json_array_append_new(arr, v);
}

/* The subscription and resource group parts of an ARM id. */
static void
id_scope(const char *id, char *sub, size_t nsub, char *rg, size_t nrg)
{
	const char *s = strstr(id, "/subscriptions/"), *g = strstr(id, "/resourceGroups/");

	snprintf(sub, nsub, "%.*s", s != NULL ? (int)strcspn(s + 15, "/") : 0, s != NULL ? s + 15 : "");
	snprintf(rg, nrg, "%.*s", g != NULL ? (int)strcspn(g + 16, "/") : 0, g != NULL ? g + 16 : "");
}

static int
hubs_find(struct ihub **out, size_t *n, json_t *resources, unsigned block)
{
	json_t *r;
	size_t i;

	*out = NULL;
	*n = 0;
	json_array_foreach(resources, i, r) {
		const char *pfx = json_string_value(json_array_get(json_path(r, "properties", "addressSpace",
		    "addressPrefixes", NULL), 0));
		unsigned a, b, c, len;
		struct ihub *h, *nv;

		if (json_path_str(r, "tags", "role", NULL) == NULL ||
		    strcmp(json_path_str(r, "tags", "role", NULL), "hub") != 0 || pfx == NULL ||
		    sscanf(pfx, "10.%u.%u.%u/%u", &a, &b, &c, &len) != 4)
			continue;
		nv = realloc(*out, (*n + 1) * sizeof(*nv));
		if (nv == NULL)
			return -1;
		*out = nv;
		h = &nv[(*n)++];
		memset(h, 0, sizeof(*h));
		h->vnet = r;
		h->id = json_str(r, "id");
		h->name = json_str(r, "name");
		h->region = json_str(r, "location");
		id_scope(h->id, h->sub, sizeof(h->sub), h->rg, sizeof(h->rg));
		h->n24 = a * 256 + b;
		for (len = 24, c = block; c > 1; c /= 2)
			len--;
		addr(h->block, sizeof(h->block), h->n24, 0, len);
		addr(h->nva_ip, sizeof(h->nva_ip), h->n24, 132, 0);
		addr(h->nva_subnet, sizeof(h->nva_subnet), h->n24, 128, 27);
		addr(h->rs_subnet, sizeof(h->rs_subnet), h->n24, 160, 27);
		addr(h->rs_ip[0], sizeof(h->rs_ip[0]), h->n24, 164, 0);
		addr(h->rs_ip[1], sizeof(h->rs_ip[1]), h->n24, 165, 0);
		snprintf(h->nva_name, sizeof(h->nva_name), "nva-%s", h->name);
		{
			char name[128];

			snprintf(name, sizeof(name), "nic-nva-%s", h->name);
			id_of(h->nic_id, sizeof(h->nic_id), h, "networkInterfaces", name);
			snprintf(name, sizeof(name), "rs-%s", h->name);
			id_of(h->ars_id, sizeof(h->ars_id), h, "virtualHubs", name);
		}
	}
	return 0;
}

static json_t *
resource(const char *id, const char *name, const char *type, const char *region, json_t *props)
{
	if (props == NULL)
		return NULL;
	json_object_set_new(props, "provisioningState", json_string("Succeeded"));
	return json_pack("{s:s, s:s, s:s, s:s, s:{}, s:o}", "id", id, "name", name, "type", type,
	    "location", region, "tags", "properties", props);
}

static json_t *
subnet(const char *vnet_id, const char *name, const char *prefix, const char *rt_id)
{
	char id[ID_MAX];
	json_t *props = json_pack("{s:s, s:s}", "addressPrefix", prefix, "provisioningState", "Succeeded");

	snprintf(id, sizeof(id), "%s/subnets/%s", vnet_id, name);
	if (props != NULL && rt_id != NULL)
		json_object_set_new(props, "routeTable", json_pack("{s:s}", "id", rt_id));
	return json_pack("{s:s, s:s, s:s, s:o}", "id", id, "name", name,
	    "type", "Microsoft.Network/virtualNetworks/subnets", "properties", props);
}

static int
route_push(json_t *routes, const char *rt_id, const char *to, const char *prefix, const char *hop)
{
	char id[ID_MAX + 64], name[128];

	snprintf(name, sizeof(name), "to-%s", to);
	snprintf(id, sizeof(id), "%s/routes/%s", rt_id, name);
	return push(routes, json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s}}", "id", id, "name", name,
	    "type", "Microsoft.Network/routeTables/routes", "properties", "addressPrefix", prefix,
	    "nextHopType", "VirtualAppliance", "nextHopIpAddress", hop, "provisioningState", "Succeeded"));
}

/*
 * The routes of a table sending every other hub's traffic to an appliance:
 * a spoke's table sends the other hubs' blocks to its own hub's NVA; an
 * NVA subnet's table (remote_nva) is seed 003's hand-kept inter-hub table,
 * a route per remote spoke to that spoke's hub's NVA, or per remote block
 * when those would not fit in one table.
 */
static json_t *
routes_to_others(const char *rt_id, const struct ihub *hubs, size_t n, size_t self, bool remote_nva)
{
	json_t *routes = json_array(), *sp;
	size_t per_spoke = 0, q;
	int rc = 0;

	for (size_t k = 0; remote_nva && k < n; k++)
		per_spoke += k != self ? json_array_size(hubs[k].spokes) : 0;
	for (size_t k = 0; routes != NULL && rc == 0 && k < n; k++) {
		const char *hop = remote_nva ? hubs[k].nva_ip : hubs[self].nva_ip;

		if (k == self)
			continue;
		if (!remote_nva || per_spoke > ROUTES_PER_TABLE) {
			rc = route_push(routes, rt_id, hubs[k].name, hubs[k].block, hop);
			continue;
		}
		json_array_foreach(hubs[k].spokes, q, sp)
			if (rc == 0)
				rc = route_push(routes, rt_id, json_string_value(json_array_get(sp, 0)),
				    json_string_value(json_array_get(sp, 1)), hop);
	}
	if (rc != 0) {
		json_decref(routes);
		return NULL;
	}
	return routes;
}

static int
route_table(json_t *resources, const char *rt_id, const char *name, const struct ihub *h, json_t *routes,
    json_t *subnets)
{
	return push(resources, resource(rt_id, name, "Microsoft.Network/routeTables", h->region,
	    json_pack("{s:b, s:o, s:o}", "disableBgpRoutePropagation", 0, "routes", routes,
	    "subnets", subnets)));
}

/* Hub h: peerings to the other hubs, the NVA subnet and NIC, the NVA's route table. */
static int
hub_nva_add(json_t *resources, struct ihub *hubs, size_t n, size_t i)
{
	struct ihub *h = &hubs[i];
	json_t *props = json_object_get(h->vnet, "properties");
	json_t *subnets = json_object_get(props, "subnets"), *peerings = json_object_get(props,
	    "virtualNetworkPeerings");
	char rt_id[ID_MAX], name[128], sub_id[ID_MAX + 32], pip[ID_MAX];

	snprintf(name, sizeof(name), "rt-%s-nva", h->name);
	id_of(rt_id, sizeof(rt_id), h, "routeTables", name);
	snprintf(sub_id, sizeof(sub_id), "%s/subnets/nva", h->id);
	if (push(subnets, subnet(h->id, "nva", h->nva_subnet, rt_id)) != 0 ||
	    push(subnets, subnet(h->id, "RouteServerSubnet", h->rs_subnet, NULL)) != 0 ||
	    route_table(resources, rt_id, name, h, routes_to_others(rt_id, hubs, n, i, true),
	    json_pack("[{s:s}]", "id", sub_id)) != 0)
		return -1;
	for (size_t k = 0; k < n; k++) {
		char pid[ID_MAX + 64], pname[128];

		if (k == i)
			continue;
		snprintf(pname, sizeof(pname), "to-%s", hubs[k].name);
		snprintf(pid, sizeof(pid), "%s/virtualNetworkPeerings/%s", h->id, pname);
		if (push(peerings, json_pack("{s:s, s:s, s:s, s:{s:b, s:b, s:b, s:b, s:{s:s}, s:{s:[s]}, "
		    "s:s, s:s, s:s}}", "id", pid, "name", pname,
		    "type", "Microsoft.Network/virtualNetworks/virtualNetworkPeerings", "properties",
		    "allowVirtualNetworkAccess", 1, "allowForwardedTraffic", 1, "allowGatewayTransit", 0,
		    "useRemoteGateways", 0, "remoteVirtualNetwork", "id", hubs[k].id,
		    "remoteAddressSpace", "addressPrefixes", json_string_value(json_array_get(json_path(
		    hubs[k].vnet, "properties", "addressSpace", "addressPrefixes", NULL), 0)),
		    "peeringState", "Connected", "peeringSyncLevel", "FullyInSync",
		    "provisioningState", "Succeeded")) != 0)
			return -1;
	}
	/* the Standard public IP a route server needs (Route Server FAQ), ready for one */
	snprintf(name, sizeof(name), "pip-rs-%s", h->name);
	id_of(pip, sizeof(pip), h, "publicIPAddresses", name);
	if (push(resources, resource(pip, name, "Microsoft.Network/publicIPAddresses", h->region,
	    json_pack("{s:s, s:s}", "publicIPAllocationMethod", "Static", "publicIPAddressVersion",
	    "IPv4"))) != 0)
		return -1;
	json_object_set_new(json_array_get(resources, json_array_size(resources) - 1), "sku",
	    json_pack("{s:s, s:s}", "name", "Standard", "tier", "Regional"));
	snprintf(name, sizeof(name), "nic-nva-%s", h->name);
	return push(resources, resource(h->nic_id, name, "Microsoft.Network/networkInterfaces", h->region,
	    json_pack("{s:b, s:[{s:s, s:{s:s, s:s, s:{s:s}}}]}", "enableIPForwarding", 1,
	    "ipConfigurations", "name", "ipconfig1", "properties", "privateIPAddress", h->nva_ip,
	    "privateIPAllocationMethod", "Static", "subnet", "id", sub_id)));
}

/*
 * Seed 003's baseline: "the VNet-to-VNet configuration on the ExpressRoute
 * Gateway should be disabled", so a hub does not learn the other hubs'
 * spokes over the shared circuit and the inter-hub UDRs decide.
 */
static int
gateways_no_vnet_to_vnet(json_t *resources, const struct ihub *h)
{
	json_t *r;
	size_t i, n = strlen(h->id);

	json_array_foreach(resources, i, r) {
		const char *type = json_str(r, "type"), *gt = json_path_str(r, "properties", "gatewayType", NULL);
		const char *sub = json_path_str(json_array_get(json_path(r, "properties", "ipConfigurations", NULL),
		    0), "properties", "subnet", "id", NULL);

		if (type == NULL || strcmp(type, "Microsoft.Network/virtualNetworkGateways") != 0 || gt == NULL ||
		    strcmp(gt, "ExpressRoute") != 0 || sub == NULL || strncmp(sub, h->id, n) != 0 || sub[n] != '/')
			continue;
		if (json_object_set_new(json_object_get(r, "properties"), "allowRemoteVnetTraffic",
		    json_false()) != 0)
			return -1;
	}
	return 0;
}

/* The hub a spoke uses the gateway of, or -1. */
static long
spoke_hub(json_t *vnet, const struct ihub *hubs, size_t n)
{
	json_t *p;
	size_t i;

	json_array_foreach(json_path(vnet, "properties", "virtualNetworkPeerings", NULL), i, p) {
		const char *remote = json_path_str(p, "properties", "remoteVirtualNetwork", "id", NULL);

		if (remote == NULL || !json_is_true(json_path(p, "properties", "useRemoteGateways", NULL)))
			continue;
		for (size_t k = 0; k < n; k++)
			if (strcmp(remote, hubs[k].id) == 0)
				return (long)k;
	}
	return -1;
}

/* Each hub's spokes, in file order: their names and first address prefixes. */
static int
hubs_spokes(json_t *resources, struct ihub *hubs, size_t n)
{
	json_t *r;
	size_t i;
	long h;

	for (i = 0; i < n; i++)
		if ((hubs[i].spokes = json_array()) == NULL)
			return -1;
	json_array_foreach(resources, i, r) {
		const char *role = json_path_str(r, "tags", "role", NULL);
		const char *pfx = json_string_value(json_array_get(json_path(r, "properties", "addressSpace",
		    "addressPrefixes", NULL), 0));

		if (role == NULL || strcmp(role, "spoke") != 0 || pfx == NULL || (h = spoke_hub(r, hubs, n)) < 0)
			continue;
		if (push(hubs[h].spokes, json_pack("[s, s]", json_str(r, "name"), pfx)) != 0)
			return -1;
	}
	return 0;
}

static int
spoke_subnet_route(json_t *tables, json_t *vnet, json_t *sub, const struct ihub *h, size_t hi)
{
	char sub_id[64], rg[128], rt_id[ID_MAX], name[128];
	json_t *t;

	id_scope(json_str(vnet, "id"), sub_id, sizeof(sub_id), rg, sizeof(rg));
	snprintf(name, sizeof(name), "rt-%s-interhub", h->name);
	snprintf(rt_id, sizeof(rt_id), "/subscriptions/%s/resourceGroups/%s/providers/"
	    "Microsoft.Network/routeTables/%s", sub_id, rg, name);
	t = json_object_get(tables, rt_id);
	if (t == NULL) {
		t = json_pack("{s:I, s:[]}", "hub", (json_int_t)hi, "subnets");
		if (t == NULL || json_object_set_new(tables, rt_id, t) != 0)
			return -1;
	}
	if (json_object_set_new(json_object_get(sub, "properties"), "routeTable",
	    json_pack("{s:s}", "id", rt_id)) != 0)
		return -1;
	return push(json_object_get(t, "subnets"), json_pack("{s:s}", "id", json_str(sub, "id")));
}

/*
 * Every spoke subnet without a route table joins its hub's
 * inter-hub table of its subscription (a subnet can only use a table of
 * its own subscription); tables are made as spokes need them.
 */
static int
spokes_route(json_t *resources, struct ihub *hubs, size_t n)
{
	json_t *tables = json_object(), *r, *t;
	size_t i, count = json_array_size(resources);
	const char *key;
	int rc = -1;

	if (tables == NULL)
		return -1;
	for (i = 0; i < count; i++) {
		json_t *sub;
		size_t k;
		long h;

		r = json_array_get(resources, i);
		if (json_path_str(r, "tags", "role", NULL) == NULL ||
		    strcmp(json_path_str(r, "tags", "role", NULL), "spoke") != 0 || (h = spoke_hub(r, hubs, n)) < 0)
			continue;
		json_array_foreach(json_path(r, "properties", "subnets", NULL), k, sub)
			if (json_path(sub, "properties", "routeTable", NULL) == NULL &&
			    spoke_subnet_route(tables, r, sub, &hubs[h], (size_t)h) != 0)
				goto done;
	}
	json_object_foreach(tables, key, t) {
		size_t h = (size_t)json_integer_value(json_object_get(t, "hub"));
		char name[128];

		snprintf(name, sizeof(name), "rt-%s-interhub", hubs[h].name);
		if (route_table(resources, key, name, &hubs[h], routes_to_others(key, hubs, n, h, false),
		    json_incref(json_object_get(t, "subnets"))) != 0)
			goto done;
	}
	rc = 0;
done:
	json_decref(tables);
	return rc;
}

/* Hub h's route server, its ipConfiguration and public IP, and a BGP connection per NVA. */
static int
route_server_add(json_t *resources, const struct ihub *hubs, size_t n, size_t i)
{
	const struct ihub *h = &hubs[i];
	char id[ID_MAX + 64], pip[ID_MAX], name[128], sub_id[ID_MAX + 32];

	snprintf(name, sizeof(name), "pip-rs-%s", h->name);
	id_of(pip, sizeof(pip), h, "publicIPAddresses", name);
	snprintf(sub_id, sizeof(sub_id), "%s/subnets/RouteServerSubnet", h->id);
	snprintf(name, sizeof(name), "rs-%s", h->name);
	if (push(resources, resource(h->ars_id, name, "Microsoft.Network/virtualHubs", h->region,
	    json_pack("{s:s, s:I, s:[s, s], s:b, s:s, s:s}", "sku", "Standard", "virtualRouterAsn",
	    (json_int_t)65515, "virtualRouterIps", h->rs_ip[0], h->rs_ip[1], "allowBranchToBranchTraffic", 1,
	    "hubRoutingPreference", "ExpressRoute", "routingState", "Provisioned"))) != 0)
		return -1;
	snprintf(id, sizeof(id), "%s/ipConfigurations/ipconfig1", h->ars_id);
	if (push(resources, json_pack("{s:s, s:s, s:s, s:{s:s, s:{s:s}, s:{s:s}, s:s}}", "id", id,
	    "name", "ipconfig1", "type", "Microsoft.Network/virtualHubs/ipConfigurations", "properties",
	    "privateIPAllocationMethod", "Dynamic", "subnet", "id", sub_id, "publicIPAddress", "id", pip,
	    "provisioningState", "Succeeded")) != 0)
		return -1;
	for (size_t k = 0; k < n; k++) {
		if (k == i)
			continue;
		snprintf(id, sizeof(id), "%s/bgpConnections/%s", h->ars_id, hubs[k].nva_name);
		if (push(resources, json_pack("{s:s, s:s, s:s, s:{s:s, s:I, s:s, s:s}}", "id", id,
		    "name", hubs[k].nva_name, "type", "Microsoft.Network/virtualHubs/bgpConnections",
		    "properties", "peerIp", hubs[k].nva_ip, "peerAsn", (json_int_t)(NVA_ASN_BASE + k + 1),
		    "connectionState", "Connected", "provisioningState", "Succeeded")) != 0)
			return -1;
	}
	return 0;
}

/* declared.nvas: Option B, each NVA advertising its hub's block to the other hubs' route servers. */
static json_t *
nvas_declared(const struct ihub *hubs, size_t n, bool ars)
{
	json_t *nvas = json_array();

	for (size_t i = 0; nvas != NULL && i < n; i++) {
		json_t *peers = json_array();

		for (size_t k = 0; ars && peers != NULL && k < n; k++) {
			if (k == i)
				continue;
			if (push(peers, json_pack("{s:s, s:[s], s:b}", "routeServer", hubs[k].ars_id,
			    "advertise", hubs[i].block, "asOverride", 1)) != 0) {
				json_decref(peers);
				peers = NULL;
			}
		}
		if (peers == NULL || push(nvas, json_pack("{s:s, s:s, s:[s], s:I, s:o}", "name", hubs[i].nva_name,
		    "nic", hubs[i].nic_id, "ips", hubs[i].nva_ip, "asn", (json_int_t)(NVA_ASN_BASE + i + 1),
		    "peers", peers)) != 0) {
			json_decref(nvas);
			return NULL;
		}
	}
	return nvas;
}

static void
hubs_free(struct ihub *hubs, size_t n)
{
	for (size_t i = 0; hubs != NULL && i < n; i++)
		json_decref(hubs[i].spokes);
	free(hubs);
}

int
synth_ars_apply(json_t *doc, const struct synth_opts *opts, struct nw_err *err)
{
	json_t *resources = json_object_get(doc, "resources"), *nvas;
	struct ihub *hubs = NULL;
	size_t n = 0;
	int rc = 0;

	if (opts->hubs < 2)
		return err_set(err, NW_EINPUT, "option '--%s': inter-hub routing needs at least 2 hubs",
		    opts->interhub_nva ? "interhub-nva" : "route-servers");
	if (hubs_find(&hubs, &n, resources, synth_hub_block(opts->spokes_per_hub)) != 0 ||
	    hubs_spokes(resources, hubs, n) != 0)
		goto oom;
	for (size_t i = 0; i < n; i++)
		if (hub_nva_add(resources, hubs, n, i) != 0 ||
		    gateways_no_vnet_to_vnet(resources, &hubs[i]) != 0 ||
		    (opts->route_servers && route_server_add(resources, hubs, n, i) != 0))
			goto oom;
	if (spokes_route(resources, hubs, n) != 0)
		goto oom;
	nvas = nvas_declared(hubs, n, opts->route_servers);
	if (nvas == NULL || json_object_set_new(doc, "declared", json_pack("{s:o}", "nvas", nvas)) != 0)
		goto oom;
	hubs_free(hubs, n);
	return rc;
oom:
	hubs_free(hubs, n);
	return err_set(err, NW_ENOMEM, "out of memory generating the estate");
}
