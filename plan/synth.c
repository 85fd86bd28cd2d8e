/*
 * netwave synth: builds a synthetic hub-and-spoke estate as a
 * netwave.topology/v1 document, with every resource shaped as ARM returns
 * it on GET, so the demo, the tests and the benchmarks run on something
 * that looks like the estates netwave is for.  Pure and deterministic:
 * every choice comes from a small hash of the seed and the position of the
 * thing chosen, never from rand(), so the same options give the same bytes
 * and growing one hub does not reshuffle the others.
 *
 * The address plan: 10.0.0.0/8 is cut into equal power-of-two blocks, one
 * per hub, at least a /16 (so small estates read naturally: hub-03 is
 * 10.3.0.0/24, its spokes 10.3.1.0/24, 10.3.2.0/24, ...).  Block 0 is left
 * free so hub numbers and block numbers match; 10.255.0.0/16 belongs to
 * on-premises and is never used by Azure.
 */
#include "config.h"

#include <assert.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/synth.h"

#define SUBNET_TYPE "Microsoft.Network/virtualNetworks/subnets"
#define PEERING_TYPE "Microsoft.Network/virtualNetworks/virtualNetworkPeerings"

/* /24 networks in 10.0.0.0/8 below the on-premises 10.255.0.0/16. */
#define AZURE_SLASH24S (255u * 256u)

/* A spoke's endpoints subnet is a /25: 128 addresses less Azure's 5. */
#define PE_PER_SPOKE_MAX 123u

#define ONPREM_ASN "65020"
#define ONPREM_ROUTER "192.168.255.1"

#define ID_MAX 384
#define NAME_MAX_ 96

/* Enough subscriptions to spread an estate over; more is not a test of anything. */
#define SUBS_MAX 64u

struct gen {
	const struct synth_opts *o;
	const char *const *regions;
	size_t nregions;
	json_t *resources;  /* borrowed from the document */
	char subs[SUBS_MAX][40]; /* subs[0] holds the hubs and the circuit */
	unsigned nsubs;
	unsigned block;     /* /24s per hub block */
	int hw, sw, pw;     /* name widths of hub, spoke and endpoint numbers */
	char circuit_id[ID_MAX];
};

/* Per-hub facts the spokes need. */
struct hub {
	unsigned h;
	const char *region;
	char name[NAME_MAX_];
	char rg[NAME_MAX_];
	char spokes_rg[NAME_MAX_];
	char vnet_id[ID_MAX];
	char prefix[32];
	char firewall_ip[32];
	json_t *peerings;   /* the hub VNet's virtualNetworkPeerings (borrowed) */
	/*
	 * Per subscription, the subnets of the firewall route table there
	 * (owned until the table is added), NULL when none: a subnet can only
	 * use a route table of its own subscription.
	 */
	json_t *rt_subnets[SUBS_MAX];
};

/* What one hub's spokes carry besides the basics, by spoke number (index 0 unused). */
struct hub_plan {
	bool *fw;        /* 0.0.0.0/0 to the hub firewall */
	unsigned *peer;  /* the spoke peered directly with this one, 0 when none */
	unsigned *gw_to; /* the spoke whose /24 this one routes to the gateway, 0 when none */
};

/*
 * snprintf for the names and ids built here.  They are bounded by the
 * option limits (hub and spoke numbers have at most a few digits), so
 * truncation would be our bug.
 */
static void str_fmt(char *buf, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
str_fmt(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	assert(w >= 0 && (size_t)w < n);
	(void)w;
}

static uint64_t
splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * A value that depends only on the seed, a purpose and a position, so a
 * spoke's tags do not change when another option adds or removes spokes.
 */
static uint64_t
mix(unsigned long seed, uint64_t salt, uint64_t a, uint64_t b)
{
	uint64_t s = (uint64_t)seed ^ (salt * 0xd6e8feb86659fd93ULL);

	(void)splitmix64(&s);
	s ^= a * 0x9e3779b97f4a7c15ULL;
	(void)splitmix64(&s);
	s ^= b * 0xc2b2ae3d27d4eb4fULL;
	return splitmix64(&s);
}

/*
 * How many of count things hub h (1-based) gets: round-robin, the first
 * count mod hubs take one more.
 */
static unsigned
per_hub(unsigned count, unsigned hubs, unsigned h)
{
	return count / hubs + (h <= count % hubs ? 1 : 0);
}

static int
digits(unsigned long n)
{
	int d = 1;

	while (n >= 10) {
		n /= 10;
		d++;
	}
	return d;
}

/* "10.a.b.host" for the /24 number i24 inside 10.0.0.0/8, with "/len" when len > 0. */
static void
addr24(char *buf, size_t n, uint32_t i24, unsigned host, unsigned len)
{
	if (len > 0)
		str_fmt(buf, n, "10.%u.%u.%u/%u", (unsigned)(i24 >> 8), (unsigned)(i24 & 255u),
		    host, len);
	else
		str_fmt(buf, n, "10.%u.%u.%u", (unsigned)(i24 >> 8), (unsigned)(i24 & 255u), host);
}

static bool
region_valid(const char *r)
{
	if (r == NULL || *r == '\0')
		return false;
	for (; *r != '\0'; r++)
		if (!((*r >= 'a' && *r <= 'z') || (*r >= '0' && *r <= '9')))
			return false;
	return true;
}

/*
 * The options that spread spokes over subscriptions and give them direct
 * peerings and gateway routes.  Hub 1 gets the most of every round-robin
 * share, so it is the one to check.
 */
static int
check_spread(struct gen *g, const struct synth_opts *o, uint64_t spokes, struct nw_err *err)
{
	unsigned fw = per_hub(o->udr_spokes, o->hubs, 1), free_;
	unsigned pairs = per_hub(o->spoke_peerings, o->hubs, 1);
	unsigned gw = per_hub(o->gateway_udr_spokes, o->hubs, 1);

	g->nsubs = o->subscriptions > 0 ? o->subscriptions : 1;
	if (g->nsubs > SUBS_MAX)
		return err_set(err, NW_EINPUT, "option '--subscriptions': %u is more than synth "
		    "spreads an estate over (at most %u)", g->nsubs, SUBS_MAX);
	if (g->nsubs > 1 && g->nsubs > spokes)
		return err_set(err, NW_EINPUT, "option '--subscriptions': %u is more than the %llu "
		    "spokes of the estate (each subscription holds at least one)", g->nsubs,
		    (unsigned long long)spokes);
	free_ = o->spokes_per_hub - fw;
	if (o->spoke_peerings > 0 && (o->spoke_peerings > spokes / 2 || 2ull * pairs > free_))
		return err_set(err, NW_EINPUT, "option '--spoke-peerings': %u pairs do not fit: "
		    "hub 1 would need %u spokes without a firewall route and has %u",
		    o->spoke_peerings, 2 * pairs, free_);
	if (o->gateway_udr_spokes > 0 && (o->gateway_udr_spokes > spokes || gw > free_ ||
	    free_ < 2))
		return err_set(err, NW_EINPUT, "option '--gateway-udr-spokes': %u spokes do not "
		    "fit: hub 1 would need %u spokes without a firewall route, and 2 at least, "
		    "and has %u", o->gateway_udr_spokes, gw, free_);
	return 0;
}

/* A hub's block holds its own /24 and one /24 per spoke. */
unsigned
synth_hub_block(unsigned spokes_per_hub)
{
	unsigned block = 256;

	while (block < (uint64_t)spokes_per_hub + 1 && block <= AZURE_SLASH24S)
		block *= 2;
	return block;
}

static int
check_opts(struct gen *g, const struct synth_opts *o, struct nw_err *err)
{
	static const char *const default_region[] = { "eastus" };
	uint64_t spokes = (uint64_t)o->hubs * o->spokes_per_hub;
	unsigned max_hubs;
	size_t i;
	int rc;

	if (o->hubs < 1)
		return err_set(err, NW_EINPUT, "option '--hubs': an estate needs at least 1 hub");
	g->regions = o->regions;
	g->nregions = o->nregions;
	if (g->regions == NULL || g->nregions == 0) {
		g->regions = default_region;
		g->nregions = 1;
	}
	for (i = 0; i < g->nregions; i++)
		if (!region_valid(g->regions[i]))
			return err_set(err, NW_EINPUT,
			    "option '--regions': '%s' is not a region name (lowercase letters and "
			    "digits, such as 'eastus')", g->regions[i] != NULL ? g->regions[i] : "");

	g->block = synth_hub_block(o->spokes_per_hub);
	max_hubs = AZURE_SLASH24S / g->block;
	max_hubs = max_hubs > 0 ? max_hubs - 1 : 0; /* block 0 stays free */
	if (max_hubs == 0) {
		unsigned most = 0, b;
		/* the largest spoke count that still leaves room for one hub */
		for (b = 256; AZURE_SLASH24S / b >= 2; b *= 2)
			most = b - 1;
		return err_set(err, NW_EINPUT,
		    "option '--spokes-per-hub': %u spokes per hub do not fit in 10.0.0.0/8 "
		    "outside the on-premises 10.255.0.0/16 (at most %u)", o->spokes_per_hub, most);
	}
	if (o->hubs > max_hubs)
		return err_set(err, NW_EINPUT,
		    "option '--hubs': %u hubs of %u spokes do not fit in 10.0.0.0/8 outside the "
		    "on-premises 10.255.0.0/16 (at most %u hubs with %u spokes per hub)",
		    o->hubs, o->spokes_per_hub, max_hubs, o->spokes_per_hub);
	if (o->pe_per_spoke > PE_PER_SPOKE_MAX)
		return err_set(err, NW_EINPUT,
		    "option '--pe-per-spoke': %u private endpoints do not fit in a spoke's /25 "
		    "endpoints subnet (at most %u)", o->pe_per_spoke, PE_PER_SPOKE_MAX);
	if (o->udr_spokes > spokes)
		return err_set(err, NW_EINPUT,
		    "option '--udr-spokes': %u is more than the %llu spokes of the estate",
		    o->udr_spokes, (unsigned long long)spokes);
	if ((rc = check_spread(g, o, spokes, err)) != 0)
		return rc;
	g->hw = digits(o->hubs) < 2 ? 2 : digits(o->hubs);
	g->sw = digits(o->spokes_per_hub) < 4 ? 4 : digits(o->spokes_per_hub);
	g->pw = digits(o->pe_per_spoke) < 2 ? 2 : digits(o->pe_per_spoke);
	return 0;
}

static void
make_id(char *buf, size_t n, const char *sub, const char *rg, const char *kind,
    const char *name)
{
	str_fmt(buf, n, "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/%s/%s",
	    sub, rg, kind, name);
}

/* The subscription (index into g->subs) of spoke s of hub h: round-robin over all spokes. */
static unsigned
spoke_sub(const struct gen *g, unsigned h, unsigned s)
{
	return (unsigned)((((uint64_t)h - 1) * g->o->spokes_per_hub + (s - 1)) % g->nsubs);
}

static json_t *
ref(const char *id)
{
	return json_pack("{s:s}", "id", id);
}

/* An empty tags object: ARM always shows "tags", even when there are none. */
#define NO_TAGS json_object()

/*
 * A resource object with the fields every ARM resource has.  Steals tags
 * and props (also on failure); returns NULL when either is NULL or on out
 * of memory.
 */
static json_t *
resource_new(const char *id, const char *name, const char *kind, const char *location,
    json_t *tags, json_t *props)
{
	char type[128];

	str_fmt(type, sizeof(type), "Microsoft.Network/%s", kind);
	if (props != NULL &&
	    json_object_set_new(props, "provisioningState", json_string("Succeeded")) != 0) {
		json_decref(tags);
		json_decref(props);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "id", id, "name", name, "type", type,
	    "location", location, "tags", tags, "properties", props);
}

/* Appends a new reference to the array; -1 when r is NULL or on out of memory. */
static int
add(json_t *array, json_t *r)
{
	if (r == NULL)
		return -1;
	return json_array_append_new(array, r);
}

static json_t *
subnet_new(const char *vnet_id, const char *name, const char *prefix, const char *pe_policies,
    const char *rt_id)
{
	char id[ID_MAX];
	json_t *props;

	str_fmt(id, sizeof(id), "%s/subnets/%s", vnet_id, name);
	props = json_pack("{s:s, s:s, s:s, s:s}", "addressPrefix", prefix,
	    "privateEndpointNetworkPolicies", pe_policies,
	    "privateLinkServiceNetworkPolicies", "Enabled", "provisioningState", "Succeeded");
	if (props != NULL && rt_id != NULL &&
	    json_object_set_new(props, "routeTable", ref(rt_id)) != 0) {
		json_decref(props);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:s, s:o}", "id", id, "name", name, "type", SUBNET_TYPE,
	    "properties", props);
}

static json_t *
peering_new(const char *vnet_id, const char *name, const char *remote_id,
    const char *remote_prefix, bool hub_side)
{
	char id[ID_MAX];

	str_fmt(id, sizeof(id), "%s/virtualNetworkPeerings/%s", vnet_id, name);
	return json_pack("{s:s, s:s, s:s, s:{s:b, s:b, s:b, s:b, s:{s:s}, s:{s:[s]}, s:s, s:s, s:s}}",
	    "id", id, "name", name, "type", PEERING_TYPE, "properties",
	    "allowVirtualNetworkAccess", 1, "allowForwardedTraffic", 1,
	    "allowGatewayTransit", hub_side ? 1 : 0, "useRemoteGateways", hub_side ? 0 : 1,
	    "remoteVirtualNetwork", "id", remote_id,
	    "remoteAddressSpace", "addressPrefixes", remote_prefix,
	    "peeringState", "Connected", "peeringSyncLevel", "FullyInSync",
	    "provisioningState", "Succeeded");
}

static json_t *
vnet_props(const char *prefix, json_t *subnets, json_t *peerings)
{
	return json_pack("{s:{s:[s]}, s:o, s:o, s:b, s:s}", "addressSpace", "addressPrefixes", prefix,
	    "subnets", subnets, "virtualNetworkPeerings", peerings, "enableDdosProtection", 0,
	    "privateEndpointVNetPolicies", "Disabled");
}

/* The shared ExpressRoute circuit and what it learned from on-premises. */
static int
circuit_add(struct gen *g, json_t *observed)
{
	static const char *const onprem[] = {
		"10.0.0.0/8", "10.255.0.0/16", "172.16.0.0/16", "192.168.0.0/16",
	};
	const char *region = g->regions[0];
	bool premium = false;
	char peering_id[ID_MAX], key[40];
	json_t *props, *r, *routes;
	size_t i;
	uint64_t k = mix(g->o->seed, 3, 0, 0);

	for (i = 1; i < g->nregions && i < g->o->hubs; i++)
		if (strcmp(g->regions[i], region) != 0)
			premium = true;
	make_id(g->circuit_id, sizeof(g->circuit_id), g->subs[0], "rg-connectivity",
	    "expressRouteCircuits", "er-circuit-01");
	str_fmt(peering_id, sizeof(peering_id), "%s/peerings/AzurePrivatePeering", g->circuit_id);
	str_fmt(key, sizeof(key), "%08x-%04x-4%03x-8%03x-%012llx", (unsigned)(k >> 32),
	    (unsigned)(k >> 16) & 0xffffu, (unsigned)k & 0xfffu, (unsigned)(k >> 20) & 0xfffu,
	    (unsigned long long)(mix(g->o->seed, 4, 0, 0) & 0xffffffffffffULL));
	props = json_pack("{s:b, s:s, s:s, s:s, s:{s:s, s:s, s:i}, s:[{s:s, s:s, s:s, "
	    "s:{s:s, s:s, s:i, s:I, s:s, s:s, s:i, s:s}}]}",
	    "allowClassicOperations", 0, "circuitProvisioningState", "Enabled",
	    "serviceProviderProvisioningState", "Provisioned", "serviceKey", key,
	    "serviceProviderProperties", "serviceProviderName", "Equinix",
	    "peeringLocation", "Washington DC", "bandwidthInMbps", 1000,
	    "peerings", "id", peering_id, "name", "AzurePrivatePeering",
	    "type", "Microsoft.Network/expressRouteCircuits/peerings", "properties",
	    "peeringType", "AzurePrivatePeering", "state", "Enabled", "azureASN", 12076,
	    "peerASN", (json_int_t)65020, "primaryPeerAddressPrefix", "192.168.255.0/30",
	    "secondaryPeerAddressPrefix", "192.168.255.4/30", "vlanId", 100,
	    "provisioningState", "Succeeded");
	r = resource_new(g->circuit_id, "er-circuit-01", "expressRouteCircuits", region, NO_TAGS,
	    props);
	if (r == NULL)
		return -1;
	/* a circuit's sku is top level, and Premium when hubs span geopolitical regions */
	if (json_object_set_new(r, "sku", json_pack("{s:s, s:s, s:s}",
	    "name", premium ? "Premium_MeteredData" : "Standard_MeteredData",
	    "tier", premium ? "Premium" : "Standard", "family", "MeteredData")) != 0) {
		json_decref(r);
		return -1;
	}
	if (add(g->resources, r) != 0)
		return -1;

	routes = json_array();
	if (routes == NULL)
		return -1;
	for (i = 0; i < sizeof(onprem) / sizeof(onprem[0]); i++)
		if (add(routes, json_pack("{s:s, s:s, s:s}", "network", onprem[i],
		    "nextHop", ONPREM_ROUTER, "path", ONPREM_ASN)) != 0) {
			json_decref(routes);
			return -1;
		}
	return json_object_set_new(json_object_get(observed, "circuitRoutes"), g->circuit_id,
	    routes);
}

/* A gateway's Basic public IP (as before the migration) at address addr, bound to ipconf. */
static int
basic_pip_add(struct gen *g, const struct hub *hb, const char *pip_id, const char *name,
    const char *addr, const char *ipconf)
{
	json_t *props = json_pack("{s:s, s:s, s:s, s:i, s:{s:s}}", "publicIPAllocationMethod",
	    "Dynamic", "publicIPAddressVersion", "IPv4", "ipAddress", addr, "idleTimeoutInMinutes", 4,
	    "ipConfiguration", "id", ipconf);
	json_t *r = resource_new(pip_id, name, "publicIPAddresses", hb->region, NO_TAGS, props);

	if (r != NULL && json_object_set_new(r, "sku", json_pack("{s:s, s:s}", "name", "Basic",
	    "tier", "Regional")) != 0) {
		json_decref(r);
		return -1;
	}
	return add(g->resources, r);
}

/*
 * A hub's virtual network gateway on a Basic public IP, as it was before
 * the migration: named "<kind>-<hub>" in the hub's GatewaySubnet, its
 * public IP "pip-<kind>-<hub>" at pip_addr.  own holds the properties of
 * its type (stolen); the ones every gateway has follow them.  gw_id
 * receives the gateway's id.
 */
static int
gateway_add(struct gen *g, const struct hub *hb, const char *kind, json_t *own, const char *gw_subnet_id,
    const char *bgp_ip, const char *pip_addr, char *gw_id, size_t size)
{
	char name[NAME_MAX_], gw_ipconf[ID_MAX + 32], pip_id[ID_MAX];

	str_fmt(name, sizeof(name), "pip-%s-%s", kind, hb->name);
	make_id(pip_id, sizeof(pip_id), g->subs[0], hb->rg, "publicIPAddresses", name);
	str_fmt(name, sizeof(name), "%s-%s", kind, hb->name);
	make_id(gw_id, size, g->subs[0], hb->rg, "virtualNetworkGateways", name);
	str_fmt(gw_ipconf, sizeof(gw_ipconf), "%s/ipConfigurations/default", gw_id);
	if (own == NULL || json_object_update_new(own, json_pack("{s:[{s:s, s:s, s:{s:s, s:{s:s}, s:{s:s}, "
	    "s:s}}], s:b, s:b, s:{s:I, s:s, s:i}, s:{s:s, s:s}}",
	    "ipConfigurations", "id", gw_ipconf, "name", "default", "properties",
	    "privateIPAllocationMethod", "Dynamic", "subnet", "id", gw_subnet_id,
	    "publicIPAddress", "id", pip_id, "provisioningState", "Succeeded",
	    "active", 0, "enableBgp", 0,
	    "bgpSettings", "asn", (json_int_t)65515, "bgpPeeringAddress", bgp_ip, "peerWeight", 0,
	    "virtualNetworkGatewayMigrationStatus", "state", "None", "phase", "None")) != 0) {
		json_decref(own);
		return -1;
	}
	if (add(g->resources, resource_new(gw_id, name, "virtualNetworkGateways", hb->region, NO_TAGS, own)) != 0)
		return -1;
	str_fmt(name, sizeof(name), "pip-%s-%s", kind, hb->name);
	return basic_pip_add(g, hb, pip_id, name, pip_addr, gw_ipconf);
}

/*
 * A route-based VpnGw1 VPN gateway on a Basic public IP, beside the
 * ExpressRoute gateway in the same GatewaySubnet: Azure lets one gateway of
 * each type share it ("Configure ExpressRoute and Site-to-Site coexisting
 * connections", https://learn.microsoft.com/azure/expressroute/
 * expressroute-howto-coexist-resource-manager).  No connection: the
 * migration off the Basic IP does not need one.
 */
static int
vpn_gateway_add(struct gen *g, const struct hub *hb, const char *gw_subnet_id)
{
	char gw_id[ID_MAX], bgp_ip[32], pip_addr[32];

	addr24(bgp_ip, sizeof(bgp_ip), hb->h * g->block, 30, 0);
	/* RFC 5737 TEST-NET-2, apart from the ExpressRoute gateways' TEST-NET-3 */
	str_fmt(pip_addr, sizeof(pip_addr), "198.51.100.%u", hb->h);
	return gateway_add(g, hb, "vpngw", json_pack("{s:s, s:s, s:s, s:{s:s, s:s}}",
	    "gatewayType", "Vpn", "vpnType", "RouteBased", "vpnGatewayGeneration", "Generation1",
	    "sku", "name", "VpnGw1", "tier", "VpnGw1"), gw_subnet_id, bgp_ip, pip_addr, gw_id, sizeof(gw_id));
}

/* The hub VNet, its firewall, gateway, public IP and circuit connection. */
static int
hub_add(struct gen *g, struct hub *hb)
{
	char gw_subnet[32], fw_subnet[32], bgp_ip[32], id[ID_MAX], name[NAME_MAX_];
	char gw_id[ID_MAX], fw_subnet_id[ID_MAX + 32];
	char gw_subnet_id[ID_MAX + 32], fw_ipconf[ID_MAX + 64], pip_addr[32];
	uint32_t base = hb->h * g->block;
	json_t *subnets = NULL, *peerings = NULL, *props;

	addr24(hb->prefix, sizeof(hb->prefix), base, 0, 24);
	addr24(gw_subnet, sizeof(gw_subnet), base, 0, 27);
	addr24(fw_subnet, sizeof(fw_subnet), base, 64, 26);
	addr24(bgp_ip, sizeof(bgp_ip), base, 4, 0);
	addr24(hb->firewall_ip, sizeof(hb->firewall_ip), base, 68, 0);
	make_id(hb->vnet_id, sizeof(hb->vnet_id), g->subs[0], hb->rg, "virtualNetworks", hb->name);
	str_fmt(gw_subnet_id, sizeof(gw_subnet_id), "%s/subnets/GatewaySubnet", hb->vnet_id);
	str_fmt(fw_subnet_id, sizeof(fw_subnet_id), "%s/subnets/AzureFirewallSubnet", hb->vnet_id);

	subnets = json_array();
	peerings = json_array();
	if (subnets == NULL || peerings == NULL ||
	    add(subnets, subnet_new(hb->vnet_id, "GatewaySubnet", gw_subnet, "Disabled", NULL)) != 0 ||
	    add(subnets, subnet_new(hb->vnet_id, "AzureFirewallSubnet", fw_subnet, "Disabled",
	    NULL)) != 0) {
		json_decref(subnets);
		json_decref(peerings);
		return -1;
	}
	hb->peerings = peerings; /* borrowed: the VNet owns it from here */
	if (add(g->resources, resource_new(hb->vnet_id, hb->name, "virtualNetworks", hb->region,
	    json_pack("{s:s}", "role", "hub"), vnet_props(hb->prefix, subnets, peerings))) != 0)
		return -1;

	/* Azure Firewall: a type the loader keeps untouched */
	str_fmt(name, sizeof(name), "afw-%s", hb->name);
	make_id(id, sizeof(id), g->subs[0], hb->rg, "azureFirewalls", name);
	str_fmt(fw_ipconf, sizeof(fw_ipconf), "%s/azureFirewallIpConfigurations/ipconfig1", id);
	props = json_pack("{s:{s:s, s:s}, s:s, s:[{s:s, s:s, s:{s:s, s:{s:s}, s:s}}]}",
	    "sku", "name", "AZFW_VNet", "tier", "Standard", "threatIntelMode", "Alert",
	    "ipConfigurations", "id", fw_ipconf, "name", "ipconfig1", "properties",
	    "privateIPAddress", hb->firewall_ip, "subnet", "id", fw_subnet_id,
	    "provisioningState", "Succeeded");
	if (add(g->resources, resource_new(id, name, "azureFirewalls", hb->region, NO_TAGS, props)) != 0)
		return -1;

	/* the ExpressRoute gateway; documentation addresses (RFC 5737): nothing real is ever named */
	str_fmt(pip_addr, sizeof(pip_addr), "203.0.113.%u", hb->h);
	if (gateway_add(g, hb, "ergw", json_pack("{s:s, s:{s:s, s:s}}", "gatewayType", "ExpressRoute",
	    "sku", "name", "Standard", "tier", "Standard"), gw_subnet_id, bgp_ip, pip_addr, gw_id,
	    sizeof(gw_id)) != 0)
		return -1;

	str_fmt(name, sizeof(name), "conn-%s-er-circuit-01", hb->name);
	make_id(id, sizeof(id), g->subs[0], hb->rg, "connections", name);
	props = json_pack("{s:s, s:{s:s}, s:{s:s}, s:i, s:b}", "connectionType", "ExpressRoute",
	    "virtualNetworkGateway1", "id", gw_id, "peer", "id", g->circuit_id,
	    "routingWeight", 0, "enableBgp", 0);
	if (add(g->resources, resource_new(id, name, "connections", hb->region, NO_TAGS, props)) != 0)
		return -1;
	return g->o->vpn_gateways ? vpn_gateway_add(g, hb, gw_subnet_id) : 0;
}

/*
 * Which spokes of a hub send 0.0.0.0/0 to the firewall: a seeded shuffle
 * of the production spokes first, then the dev ones, so the pilot wave is
 * made of spokes the mesh actually moves whenever there are enough.
 */
static int
udr_choose(const struct gen *g, unsigned h, unsigned count, bool *chosen)
{
	unsigned s = g->o->spokes_per_hub, ndev = s < 2 ? s : 2, i, *order;
	uint64_t state = mix(g->o->seed, 2, h, 0);

	if (count == 0)
		return 0;
	order = malloc(s * sizeof(*order));
	if (order == NULL)
		return -1;
	for (i = 0; i < s; i++)
		order[i] = i < s - ndev ? ndev + i : i - (s - ndev);
	for (i = s - ndev; i > 1; i--) {
		unsigned j = (unsigned)(splitmix64(&state) % i), t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
	for (i = 0; i < count; i++)
		chosen[order[i]] = true;
	free(order);
	return 0;
}

/*
 * The firewall route table of hub hb in subscription i: the hub's own
 * resource group in the hub's subscription, the hub's spokes' group in
 * any other (a subnet can only use a route table of its subscription).
 */
static void
fw_rt_id(char *buf, size_t n, const struct gen *g, const struct hub *hb, unsigned i)
{
	char name[NAME_MAX_ + 32];

	str_fmt(name, sizeof(name), "rt-%s-to-firewall", hb->name);
	make_id(buf, n, g->subs[i], i == 0 ? hb->rg : hb->spokes_rg, "routeTables", name);
}

/* Steals hb->rt_subnets[i]. */
static int
route_table_add(struct gen *g, struct hub *hb, unsigned i)
{
	char rt_id[ID_MAX], route_id[ID_MAX + 64], name[NAME_MAX_ + 32];
	json_t *props;

	fw_rt_id(rt_id, sizeof(rt_id), g, hb, i);
	str_fmt(name, sizeof(name), "rt-%s-to-firewall", hb->name);
	str_fmt(route_id, sizeof(route_id), "%s/routes/default-to-firewall", rt_id);
	props = json_pack("{s:b, s:[{s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s}}], s:o}",
	    "disableBgpRoutePropagation", 1, "routes", "id", route_id, "name", "default-to-firewall",
	    "type", "Microsoft.Network/routeTables/routes", "properties",
	    "addressPrefix", "0.0.0.0/0", "nextHopType", "VirtualAppliance",
	    "nextHopIpAddress", hb->firewall_ip, "provisioningState", "Succeeded",
	    "subnets", hb->rt_subnets[i]);
	hb->rt_subnets[i] = NULL;
	return add(g->resources, resource_new(rt_id, name, "routeTables", hb->region, NO_TAGS,
	    props));
}

static const struct {
	const char *provider; /* "Microsoft.Storage/storageAccounts" */
	const char *prefix;   /* of the service name */
	const char *group;    /* the groupId the endpoint connects to */
} pe_services[] = {
	{ "Microsoft.Storage/storageAccounts", "st", "blob" },
	{ "Microsoft.KeyVault/vaults", "kv", "vault" },
	{ "Microsoft.Sql/servers", "sql", "sqlServer" },
};

static int
private_endpoint_add(struct gen *g, const struct hub *hb, const char *sub, const char *spoke,
    unsigned s, unsigned p, const char *subnet_id)
{
	unsigned k = (p - 1) % (unsigned)(sizeof(pe_services) / sizeof(pe_services[0]));
	char name[NAME_MAX_ + 16], id[ID_MAX], conn_id[ID_MAX + NAME_MAX_], svc[ID_MAX];
	json_t *props;

	str_fmt(name, sizeof(name), "pe-%s-%0*u", spoke, g->pw, p);
	make_id(id, sizeof(id), sub, hb->spokes_rg, "privateEndpoints", name);
	str_fmt(conn_id, sizeof(conn_id), "%s/privateLinkServiceConnections/%s", id, name);
	/* storage account names allow only lowercase letters and digits */
	str_fmt(svc, sizeof(svc), "/subscriptions/%s/resourceGroups/%s/providers/%s/%s%0*u%0*u%0*u",
	    sub, hb->spokes_rg, pe_services[k].provider, pe_services[k].prefix, g->hw, hb->h,
	    g->sw, s, g->pw, p);
	props = json_pack("{s:{s:s}, s:[{s:s, s:s, s:s, s:{s:s, s:[s], s:{s:s, s:s}, s:s}}]}",
	    "subnet", "id", subnet_id, "privateLinkServiceConnections", "id", conn_id, "name", name,
	    "type", "Microsoft.Network/privateEndpoints/privateLinkServiceConnections", "properties",
	    "privateLinkServiceId", svc, "groupIds", pe_services[k].group,
	    "privateLinkServiceConnectionState", "status", "Approved", "actionsRequired", "None",
	    "provisioningState", "Succeeded");
	return add(g->resources, resource_new(id, name, "privateEndpoints", hb->region, NO_TAGS, props));
}

static int
nic_add(struct gen *g, const struct hub *hb, const char *sub, const char *spoke,
    const char *ip, const char *subnet_id)
{
	char name[NAME_MAX_ + 8], id[ID_MAX], conf_id[ID_MAX + 32];
	json_t *props;

	str_fmt(name, sizeof(name), "nic-%s", spoke);
	make_id(id, sizeof(id), sub, hb->spokes_rg, "networkInterfaces", name);
	str_fmt(conf_id, sizeof(conf_id), "%s/ipConfigurations/ipconfig1", id);
	props = json_pack("{s:[{s:s, s:s, s:s, s:{s:s, s:s, s:s, s:b, s:{s:s}, s:s}}], s:b, s:b}",
	    "ipConfigurations", "id", conf_id, "name", "ipconfig1",
	    "type", "Microsoft.Network/networkInterfaces/ipConfigurations", "properties",
	    "privateIPAddress", ip, "privateIPAllocationMethod", "Dynamic",
	    "privateIPAddressVersion", "IPv4", "primary", 1, "subnet", "id", subnet_id,
	    "provisioningState", "Succeeded",
	    "enableAcceleratedNetworking", 0, "enableIPForwarding", 0);
	return add(g->resources, resource_new(id, name, "networkInterfaces", hb->region, NO_TAGS, props));
}

static json_t *
spoke_tags(const struct gen *g, unsigned h, unsigned s, bool udr)
{
	bool dev = s <= 2;
	json_t *tags = json_pack("{s:s, s:s}", "role", "spoke", "env", dev ? "dev" : "prod");

	/* about one production spoke in five carries little traffic */
	if (tags != NULL && !dev && mix(g->o->seed, 1, h, s) % 5 == 0 &&
	    json_object_set_new(tags, "traffic", json_string("light")) != 0)
		goto fail;
	if (tags != NULL && udr &&
	    json_object_set_new(tags, "inspection", json_string("firewall")) != 0)
		goto fail;
	return tags;
fail:
	json_decref(tags);
	return NULL;
}

/* What a spoke is, by number, for itself and for the spokes that refer to it. */
struct spoke {
	unsigned s;
	const char *sub;
	char name[NAME_MAX_];
	char id[ID_MAX];
	char prefix[32];
};

static void
spoke_get(struct spoke *sp, const struct gen *g, const struct hub *hb, unsigned s)
{
	sp->s = s;
	sp->sub = g->subs[spoke_sub(g, hb->h, s)];
	str_fmt(sp->name, sizeof(sp->name), "spoke-%0*u-%0*u", g->hw, hb->h, g->sw, s);
	make_id(sp->id, sizeof(sp->id), sp->sub, hb->spokes_rg, "virtualNetworks", sp->name);
	addr24(sp->prefix, sizeof(sp->prefix), hb->h * g->block + s, 0, 24);
}

/*
 * A peering between two spokes of one hub, as people made them before a
 * mesh: traffic between the two only, no forwarding, no gateway.
 */
static json_t *
spoke_peering_new(const struct spoke *from, const struct spoke *to)
{
	char id[ID_MAX + NAME_MAX_], name[NAME_MAX_ + 8];

	str_fmt(name, sizeof(name), "to-%s", to->name);
	str_fmt(id, sizeof(id), "%s/virtualNetworkPeerings/%s", from->id, name);
	return json_pack("{s:s, s:s, s:s, s:{s:b, s:b, s:b, s:b, s:{s:s}, s:{s:[s]}, s:s, s:s, s:s}}",
	    "id", id, "name", name, "type", PEERING_TYPE, "properties",
	    "allowVirtualNetworkAccess", 1, "allowForwardedTraffic", 0,
	    "allowGatewayTransit", 0, "useRemoteGateways", 0,
	    "remoteVirtualNetwork", "id", to->id,
	    "remoteAddressSpace", "addressPrefixes", to->prefix,
	    "peeringState", "Connected", "peeringSyncLevel", "FullyInSync",
	    "provisioningState", "Succeeded");
}

/*
 * The route table of a spoke that reaches another spoke through the hub's
 * gateway: one user route for the other spoke's /24 with next hop
 * VirtualNetworkGateway, on the spoke's workload subnet only.
 */
static int
gateway_rt_add(struct gen *g, const struct hub *hb, const struct spoke *sp,
    const struct spoke *to, const char *rt_id, const char *subnet_id)
{
	char name[NAME_MAX_ + 16], route[NAME_MAX_ + 8], route_id[ID_MAX + 2 * NAME_MAX_];
	json_t *props;

	str_fmt(name, sizeof(name), "rt-%s-via-gateway", sp->name);
	str_fmt(route, sizeof(route), "to-%s", to->name);
	str_fmt(route_id, sizeof(route_id), "%s/routes/%s", rt_id, route);
	props = json_pack("{s:b, s:[{s:s, s:s, s:s, s:{s:s, s:s, s:s}}], s:[{s:s}]}",
	    "disableBgpRoutePropagation", 0, "routes", "id", route_id, "name", route,
	    "type", "Microsoft.Network/routeTables/routes", "properties",
	    "addressPrefix", to->prefix, "nextHopType", "VirtualNetworkGateway",
	    "provisioningState", "Succeeded", "subnets", "id", subnet_id);
	return add(g->resources, resource_new(rt_id, name, "routeTables", hb->region, NO_TAGS,
	    props));
}

static int
spoke_add(struct gen *g, struct hub *hb, const struct hub_plan *hp, unsigned s)
{
	char wl[32], ep[32], ip[32], peer_name[NAME_MAX_ + 32], gw_rt[ID_MAX + 32] = "";
	char wl_id[ID_MAX + 32], ep_id[ID_MAX + 32], rt_id[ID_MAX] = "";
	unsigned si = spoke_sub(g, hb->h, s), p;
	struct spoke sp, other;
	bool udr = hp->fw[s];
	const char *wl_rt = NULL, *ep_rt = NULL;
	json_t *subnets, *peerings;

	spoke_get(&sp, g, hb, s);
	addr24(wl, sizeof(wl), hb->h * g->block + s, 0, 25);
	addr24(ep, sizeof(ep), hb->h * g->block + s, 128, 25);
	addr24(ip, sizeof(ip), hb->h * g->block + s, 4, 0);
	str_fmt(wl_id, sizeof(wl_id), "%s/subnets/workload", sp.id);
	str_fmt(ep_id, sizeof(ep_id), "%s/subnets/endpoints", sp.id);
	if (udr) {
		fw_rt_id(rt_id, sizeof(rt_id), g, hb, si);
		wl_rt = ep_rt = rt_id;
	} else if (hp->gw_to[s] != 0) {
		str_fmt(peer_name, sizeof(peer_name), "rt-%s-via-gateway", sp.name);
		make_id(gw_rt, sizeof(gw_rt), sp.sub, hb->spokes_rg, "routeTables", peer_name);
		wl_rt = gw_rt;
	}

	subnets = json_pack("[o, o]", subnet_new(sp.id, "workload", wl, "Disabled", wl_rt),
	    subnet_new(sp.id, "endpoints", ep, "Disabled", ep_rt));
	str_fmt(peer_name, sizeof(peer_name), "to-%s", hb->name);
	peerings = json_pack("[o]", peering_new(sp.id, peer_name, hb->vnet_id, hb->prefix, false));
	if (peerings != NULL && hp->peer[s] != 0) {
		spoke_get(&other, g, hb, hp->peer[s]);
		if (add(peerings, spoke_peering_new(&sp, &other)) != 0) {
			json_decref(peerings);
			peerings = NULL;
		}
	}
	if (subnets == NULL || peerings == NULL) {
		json_decref(subnets);
		json_decref(peerings);
		return -1;
	}
	if (add(g->resources, resource_new(sp.id, sp.name, "virtualNetworks", hb->region,
	    spoke_tags(g, hb->h, s, udr), vnet_props(sp.prefix, subnets, peerings))) != 0)
		return -1;

	str_fmt(peer_name, sizeof(peer_name), "to-%s", sp.name);
	if (add(hb->peerings, peering_new(hb->vnet_id, peer_name, sp.id, sp.prefix, true)) != 0)
		return -1;
	if (udr) {
		if (hb->rt_subnets[si] == NULL && (hb->rt_subnets[si] = json_array()) == NULL)
			return -1;
		if (add(hb->rt_subnets[si], ref(wl_id)) != 0 ||
		    add(hb->rt_subnets[si], ref(ep_id)) != 0)
			return -1;
	} else if (hp->gw_to[s] != 0) {
		spoke_get(&other, g, hb, hp->gw_to[s]);
		if (gateway_rt_add(g, hb, &sp, &other, gw_rt, wl_id) != 0)
			return -1;
	}
	if (nic_add(g, hb, sp.sub, sp.name, ip, wl_id) != 0)
		return -1;
	for (p = 1; p <= g->o->pe_per_spoke; p++)
		if (private_endpoint_add(g, hb, sp.sub, sp.name, s, p, ep_id) != 0)
			return -1;
	return 0;
}

/*
 * Which spokes of hub h carry what.  The firewall spokes come first (the
 * seeded choice they always had); of the spokes left, in number order,
 * the first take the gateway routes, each to the next one left (the last
 * to the first), and the last ones pair up for direct peerings, so the
 * pilot spokes keep their peerings plain and growing one option does not
 * move another's choices.
 */
static int
hub_plan_make(struct hub_plan *hp, const struct gen *g, unsigned h)
{
	const struct synth_opts *o = g->o;
	unsigned S = o->spokes_per_hub, n = 0, i, *left;
	unsigned pairs = per_hub(o->spoke_peerings, o->hubs, h);
	unsigned gw = per_hub(o->gateway_udr_spokes, o->hubs, h);

	memset(hp->fw, 0, (S + 1u) * sizeof(*hp->fw));
	memset(hp->peer, 0, (S + 1u) * sizeof(*hp->peer));
	memset(hp->gw_to, 0, (S + 1u) * sizeof(*hp->gw_to));
	if (udr_choose(g, h, per_hub(o->udr_spokes, o->hubs, h), hp->fw + 1) != 0)
		return -1;
	if (pairs == 0 && gw == 0)
		return 0;
	left = malloc((S + 1u) * sizeof(*left));
	if (left == NULL)
		return -1;
	for (i = 1; i <= S; i++)
		if (!hp->fw[i])
			left[n++] = i;
	/* check_spread made sure they fit in hub 1, which has the most of each */
	assert(2 * pairs <= n && gw <= n && (gw == 0 || n >= 2));
	for (i = 0; i < gw; i++)
		hp->gw_to[left[i]] = left[(i + 1) % n];
	for (i = 0; i < pairs; i++) {
		unsigned a = left[n - 1 - 2 * i], b = left[n - 2 - 2 * i];
		hp->peer[a] = b;
		hp->peer[b] = a;
	}
	free(left);
	return 0;
}

static int
estate_add(struct gen *g, json_t *observed)
{
	const struct synth_opts *o = g->o;
	struct hub_plan hp = { 0 };
	unsigned h, s, i;
	int rc = -1;

	if (circuit_add(g, observed) != 0)
		return -1;
	hp.fw = calloc(o->spokes_per_hub + 1u, sizeof(*hp.fw));
	hp.peer = calloc(o->spokes_per_hub + 1u, sizeof(*hp.peer));
	hp.gw_to = calloc(o->spokes_per_hub + 1u, sizeof(*hp.gw_to));
	if (hp.fw == NULL || hp.peer == NULL || hp.gw_to == NULL)
		goto done;
	for (h = 1; h <= o->hubs; h++) {
		struct hub hb = { .h = h, .region = g->regions[(h - 1) % g->nregions] };
		bool ok = true;

		str_fmt(hb.name, sizeof(hb.name), "hub-%0*u", g->hw, h);
		str_fmt(hb.rg, sizeof(hb.rg), "rg-hub-%0*u", g->hw, h);
		str_fmt(hb.spokes_rg, sizeof(hb.spokes_rg), "rg-spokes-%0*u", g->hw, h);
		if (hub_add(g, &hb) != 0 || hub_plan_make(&hp, g, h) != 0)
			goto done;
		for (s = 1; s <= o->spokes_per_hub && ok; s++)
			ok = spoke_add(g, &hb, &hp, s) == 0;
		/* the firewall route tables after their spokes, the hub's subscription first */
		for (i = 0; i < g->nsubs; i++)
			if (ok && hb.rt_subnets[i] != NULL)
				ok = route_table_add(g, &hb, i) == 0;
		for (i = 0; i < g->nsubs; i++)
			json_decref(hb.rt_subnets[i]);
		if (!ok)
			goto done;
	}
	rc = 0;
done:
	free(hp.fw);
	free(hp.peer);
	free(hp.gw_to);
	return rc;
}

/* Subscription 0 is the id synth always gave; the others come from the same seed. */
static int
subscriptions_new(json_t **out, struct gen *g)
{
	unsigned i;

	*out = json_array();
	if (*out == NULL)
		return -1;
	for (i = 0; i < g->nsubs; i++) {
		uint64_t sub = mix(g->o->seed, 0, i, 0);
		str_fmt(g->subs[i], sizeof(g->subs[i]), "00000000-0000-4000-8000-%012llx",
		    (unsigned long long)(sub & 0xffffffffffffULL));
		if (json_array_append_new(*out, json_string(g->subs[i])) != 0)
			return -1;
	}
	return 0;
}

int
synth_generate(json_t **out, const struct synth_opts *opts, struct nw_err *err)
{
	struct gen g = { .o = opts };
	json_t *doc = NULL, *observed, *subs = NULL;
	int rc;

	*out = NULL;
	rc = check_opts(&g, opts, err);
	if (rc != 0)
		return rc;
	if (subscriptions_new(&subs, &g) != 0) {
		json_decref(subs);
		return err_set(err, NW_ENOMEM, "out of memory generating the estate");
	}

	/* preview features start unregistered, as in a subscription that never asked */
	doc = json_pack("{s:s, s:s, s:o, s:[], s:{s:{}, s:{s:s, s:s}}}",
	    "format", "netwave.topology/v1", "cloud", "AzureCloud", "subscriptions", subs,
	    "resources", "observed", "circuitRoutes", "features",
	    "Microsoft.Network/AllowHighScaleConnectedGroup", "NotRegistered",
	    "Microsoft.Network/EnableMaxPrivateEndpointsVia64kPath", "NotRegistered");
	if (doc == NULL)
		return err_set(err, NW_ENOMEM, "out of memory generating the estate");
	g.resources = json_object_get(doc, "resources");
	observed = json_object_get(doc, "observed");
	if (estate_add(&g, observed) != 0) {
		json_decref(doc);
		return err_set(err, NW_ENOMEM, "out of memory generating the estate");
	}
	if ((opts->interhub_nva || opts->route_servers) && (rc = synth_ars_apply(doc, opts, err)) != 0) {
		json_decref(doc);
		return rc;
	}
	*out = doc;
	return 0;
}
