/*
 * Azure Route Server resources as ARM serves them: a route server is a
 * Microsoft.Network/virtualHubs with sku Standard and no virtualWan; its
 * one ipConfigurations child puts the two router instances into the VNet's
 * RouteServerSubnet, and each bgpConnections child is a BGP session with
 * an NVA by peer IP and ASN.  REST spec: specification/network/
 * resource-manager/Microsoft.Network/stable/2026-01-01/virtualWan.json
 * (VirtualHubs_*, VirtualHubIpConfiguration_*, VirtualHubBgpConnection_*);
 * Learn: "Quickstart: Create a Route Server using Azure CLI"
 * (https://learn.microsoft.com/azure/route-server/quickstart-create-route-server-cli)
 * and the Route Server FAQ (https://learn.microsoft.com/azure/route-server/route-server-faq).
 *
 * The checks here are the type hooks of arm_types.c's rows; arm.c does the
 * rest of every request.  What ARM fills in by itself (virtualRouterAsn,
 * virtualRouterIps, routingState, the children's references, a
 * connection's connectionState) ars_sync_hub derives from the stored
 * children after each request under a hub and each operation's end.
 * Error codes ARM does not document are marked so here and in
 * docs/emulator.md.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/cidr.h"
#include "plan/jsonutil.h"
#include "plan/topology.h"
#include "providers/emulator/ars.h"

/* --- the hub and its children in the store --------------------------------------- */

/* ".../virtualHubs/{name}" of any id under a hub (malloc'd), NULL when none. */
static char *
hub_id_of(const char *id)
{
	const char *p = id != NULL ? strcasestr(id, "/virtualHubs/") : NULL;
	const char *end;

	if (p == NULL)
		return NULL;
	p += strlen("/virtualHubs/");
	end = strchr(p, '/');
	return strndup(id, end != NULL ? (size_t)(end - id) : strlen(id));
}

/* The stored direct children of a hub with this type, in id order (borrowed); n of them. */
static size_t
hub_children(struct emulator *e, const char *hub_id, const char *type, json_t **out, size_t max)
{
	char *pref = emu_lower_printf("%s/", hub_id);
	const char **keys;
	size_t nk, i, n = 0;

	if (pref == NULL) {
		e->oom = true;
		goto done;
	}
	emu_store_sorted(e, &keys, &nk);
	for (i = emu_store_lower_bound(e, pref); i < nk && strncmp(keys[i], pref, strlen(pref)) == 0;
	    i++) {
		json_t *obj = json_object_get(e->res, keys[i]);
		const char *rest = keys[i] + strlen(pref), *slash = strchr(rest, '/');

		/* ".../virtualHubs/h/{leaf}/{name}": one more segment pair only */
		if (slash == NULL || strchr(slash + 1, '/') != NULL)
			continue;
		if (json_str(obj, "type") == NULL || strcasecmp(json_str(obj, "type"), type) != 0)
			continue;
		if (n < max)
			out[n] = obj;
		n++;
	}
done:
	free(pref);
	return n;
}

/* A declared NVA (topology "declared.nvas", docs/topology.md) listens at ip. */
static bool
nva_declared_at(struct emulator *e, const char *ip)
{
	json_t *nva, *v;
	size_t i, k;

	json_array_foreach(json_path(e->doc, "declared", "nvas", NULL), i, nva)
		json_array_foreach(json_object_get(nva, "ips"), k, v)
			if (json_is_string(v) && strcmp(json_string_value(v), ip) == 0)
				return true;
	return false;
}

/*
 * The two router instance addresses: Azure keeps the first four addresses
 * of a subnet, and the instances take the next two (seed 003's screenshot
 * shows ARS1 at 10.0.2.4 and 10.0.2.5 in 10.0.2.0/24; Learn "Virtual
 * network FAQ: reserved addresses").  An empty array while undeployed.
 */
static json_t *
router_ips(struct emulator *e, const json_t *ipc)
{
	const char *sid = json_path_str(ipc, "properties", "subnet", "id", NULL);
	json_t *parent = NULL, *sn = NULL, *ips = json_array();
	struct nw_err err = { 0 };
	struct cidr c;
	int k;

	if (ips == NULL || sid == NULL || !emu_store_find(e, sid, &parent, &sn, NULL, NULL) ||
	    sn == NULL)
		return ips;
	if (cidr_parse(&c, json_path_str(sn, "properties", "addressPrefix", NULL) != NULL ?
	    json_path_str(sn, "properties", "addressPrefix", NULL) : "", &err) != 0 || c.family != 4)
		return ips;
	for (k = 4; k <= 5; k++) {
		char buf[CIDR_STRLEN];

		c.addr[3] = (uint8_t)(c.addr[3] + (k == 4 ? 4 : 1));
		c.len = 32;
		cidr_format_addr(&c, buf);
		json_array_append_new(ips, json_string(buf));
	}
	return ips;
}

static const char *
routing_state(const json_t *ipc)
{
	const char *st = json_path_str(ipc, "properties", "provisioningState", NULL);

	if (ipc == NULL)
		return "None";
	if (st == NULL || strcmp(st, "Succeeded") == 0)
		return "Provisioned";
	if (strcmp(st, "Failed") == 0 || strcmp(st, "Canceled") == 0)
		return "Failed";
	return "Provisioning";
}

/* Sets props[key] to v (stolen) and says whether it changed. */
static bool
set_changed(json_t *props, const char *key, json_t *v)
{
	bool same = json_equal(json_object_get(props, key), v);

	if (!same)
		json_object_set(props, key, v);
	json_decref(v);
	return !same;
}

static json_t *
refs(json_t **v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s}", "id", json_str(v[i], "id")));
	return a;
}

/*
 * A session is Connected once the router runs and an NVA is declared at
 * the peer IP; otherwise Connecting, as a BGP speaker whose peer never
 * answers keeps trying (ARM's enum: Unknown, Connecting, Connected,
 * NotConnected; which one ARM shows for a silent peer is undocumented).
 */
static void
sync_sessions(struct emulator *e, json_t **bgp, size_t nbgp, bool up)
{
	size_t i;

	for (i = 0; i < nbgp; i++) {
		json_t *props = json_object_get(bgp[i], "properties");
		const char *ip = json_str(props, "peerIp");
		const char *ps = json_str(props, "provisioningState");
		bool conn = up && ps != NULL && strcmp(ps, "Succeeded") == 0 && ip != NULL &&
		    nva_declared_at(e, ip);

		if (json_is_object(props) &&
		    set_changed(props, "connectionState", json_string(conn ? "Connected" : "Connecting")))
			emu_store_touch(e, json_str(bgp[i], "id"));
	}
}

void
ars_sync_hub(struct emulator *e, const char *hub_id)
{
	json_t *hub = hub_id != NULL ? emu_store_get(e, hub_id) : NULL;
	json_t *ipc[4], *bgp[64], *props;
	size_t nipc, nbgp;
	const char *rs;
	bool changed = false;

	if (hub == NULL || json_str(hub, "type") == NULL ||
	    strcasecmp(json_str(hub, "type"), TYPE_ARS_HUB) != 0 ||
	    !json_is_object(props = json_object_get(hub, "properties")))
		return;
	nipc = hub_children(e, json_str(hub, "id"), TYPE_ARS_IP_CONFIG, ipc, 4);
	nbgp = hub_children(e, json_str(hub, "id"), TYPE_ARS_BGP, bgp, 64);
	if (nipc > 4)
		nipc = 4;
	if (nbgp > 64)
		nbgp = 64;
	rs = routing_state(nipc > 0 ? ipc[0] : NULL);
	changed |= set_changed(props, "ipConfigurations", refs(ipc, nipc));
	changed |= set_changed(props, "bgpConnections", refs(bgp, nbgp));
	changed |= set_changed(props, "virtualRouterAsn", json_integer(ARS_VIRTUAL_ROUTER_ASN));
	changed |= set_changed(props, "virtualRouterIps", strcmp(rs, "Provisioned") == 0 ?
	    router_ips(e, ipc[0]) : json_array());
	changed |= set_changed(props, "routingState", json_string(rs));
	if (changed)
		emu_store_touch(e, json_str(hub, "id"));
	sync_sessions(e, bgp, nbgp, strcmp(rs, "Provisioned") == 0);
}

/* --- checks before a write ------------------------------------------------------------ */

/* Answers 400 with ARM's CloudError and yields -1, the hooks' "answered". */
#define BAD(r, code, ...) (emu_reply_error((r), 400, (code), __VA_ARGS__), -1)

int
ars_validate_hub(struct emulator *e, struct emu_req *r, const struct arm_write *w)
{
	static const char *const prefs[] = { "ExpressRoute", "VpnGateway", "ASPath", NULL };
	json_t *props = json_object_get(w->body, "properties");
	const char *sku = json_str(props, "sku"), *pref = json_str(props, "hubRoutingPreference");
	size_t k;

	(void)e;
	if (props != NULL && !json_is_object(props))
		return BAD(r, "InvalidRequestFormat",
		    "Cannot parse the request: properties of virtual hub %s%s must be an object.", w->id, "");
	/* a virtual WAN hub is another product the emulator does not serve (docs/emulator.md) */
	if (json_path(props, "virtualWan", NULL) != NULL && !json_is_null(json_object_get(props,
	    "virtualWan")))
		return BAD(r, "InvalidRequestFormat",
		    "Cannot parse the request: virtual hub %s has a virtualWan; the emulator serves route servers (virtual hubs without a virtual WAN) only%s.",
		    w->id, "");
	if (sku != NULL && strcasecmp(sku, "Standard") != 0)
		return BAD(r, "InvalidRequestFormat",
		    "Cannot parse the request: sku '%s' of virtual hub %s is not Standard; a route server is a Standard virtual hub.",
		    sku, w->id);
	if (pref != NULL) {
		for (k = 0; prefs[k] != NULL; k++)
			if (strcasecmp(prefs[k], pref) == 0)
				break;
		if (prefs[k] == NULL)
			return BAD(r, "InvalidRequestFormat",
			    "Cannot parse the request: value '%s' of property 'hubRoutingPreference' of resource %s is not one of ExpressRoute, VpnGateway, ASPath.",
			    pref, w->id);
	}
	if (json_object_get(props, "allowBranchToBranchTraffic") != NULL &&
	    !json_is_boolean(json_object_get(props, "allowBranchToBranchTraffic")))
		return BAD(r, "InvalidRequestFormat",
		    "Cannot parse the request: allowBranchToBranchTraffic of virtual hub %s%s must be true or false.",
		    w->id, "");
	if (props == NULL) {
		props = json_object();
		json_object_set_new(w->body, "properties", props);
	}
	/* defaults as ARM answers them; the read-only fields come from ars_sync_hub */
	if (json_object_get(props, "sku") == NULL)
		json_object_set_new(props, "sku", json_string("Standard"));
	if (json_object_get(props, "allowBranchToBranchTraffic") == NULL)
		json_object_set_new(props, "allowBranchToBranchTraffic", json_false());
	if (json_object_get(props, "hubRoutingPreference") == NULL)
		json_object_set_new(props, "hubRoutingPreference", json_string("ExpressRoute"));
	json_object_set_new(props, "virtualRouterAsn", json_integer(ARS_VIRTUAL_ROUTER_ASN));
	{
		static const char *const ro[] = { "virtualRouterIps", "routingState", "ipConfigurations",
			"bgpConnections", NULL };
		for (k = 0; ro[k] != NULL; k++) {
			json_t *old = json_path(w->existing, "properties", ro[k], NULL);
			if (old != NULL)
				json_object_set(props, ro[k], old);
			else
				json_object_del(props, ro[k]);
		}
		if (w->existing == NULL) {
			json_object_set_new(props, "virtualRouterIps", json_array());
			json_object_set_new(props, "routingState", json_string("None"));
			json_object_set_new(props, "ipConfigurations", json_array());
			json_object_set_new(props, "bgpConnections", json_array());
		}
	}
	return 0;
}

/* The ipConfiguration's public IP: required for a route server, Standard SKU. */
static int
check_public_ip(struct emulator *e, struct emu_req *r, const struct arm_write *w)
{
	const char *pid = json_path_str(w->body, "properties", "publicIPAddress", "id", NULL);
	json_t *pip;
	const char *sku;

	if (pid == NULL)
		return BAD(r, "PublicIpAddressRequiredForRouteServer",
		    "IP configuration %s of a route server needs a Standard public IP address (properties.publicIPAddress.id)%s.",
		    w->id, "");
	pip = emu_store_get(e, pid);
	if (pip == NULL || json_str(pip, "type") == NULL ||
	    strcasecmp(json_str(pip, "type"), TYPE_PUBLIC_IP) != 0)
		return BAD(r, "InvalidResourceReference",
		    "Resource %s referenced by resource %s was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.",
		    pid, w->id);
	sku = json_path_str(pip, "sku", "name", NULL);
	if (sku == NULL || strcasecmp(sku, "Standard") != 0)
		return BAD(r, "RouteServerPublicIpSkuNotStandard",
		    "Public IP address %s of route server IP configuration %s is not of the Standard SKU.",
		    pid, w->id);
	return 0;
}

/* Another route server already has an ipConfiguration in this VNet. */
static const char *
vnet_taken(struct emulator *e, const char *hub_id, const char *vnet_id)
{
	const char **keys;
	size_t nk, i;
	size_t vl = strlen(vnet_id);

	emu_store_sorted(e, &keys, &nk);
	for (i = 0; i < nk; i++) {
		json_t *obj = json_object_get(e->res, keys[i]);
		const char *type = json_str(obj, "type");
		const char *sid = json_path_str(obj, "properties", "subnet", "id", NULL);
		char *h;
		bool other;

		if (type == NULL || strcasecmp(type, TYPE_ARS_IP_CONFIG) != 0 || sid == NULL ||
		    strncasecmp(sid, vnet_id, vl) != 0 || sid[vl] != '/')
			continue;
		h = hub_id_of(json_str(obj, "id"));
		other = h != NULL && strcasecmp(h, hub_id) != 0;
		free(h);
		if (other)
			return json_str(obj, "id");
	}
	return NULL;
}

int
ars_validate_ip_config(struct emulator *e, struct emu_req *r, const struct arm_write *w)
{
	const char *sid = json_path_str(w->body, "properties", "subnet", "id", NULL);
	const char *hub_id = json_str(w->pp, "id"), *taken;
	json_t *parent = NULL, *sn = NULL, *mine[2];
	struct nw_err err = { 0 };
	struct cidr c;
	char *vnet_id;
	int rc = 0;

	if (sid == NULL)
		return BAD(r, "InvalidRequestFormat",
		    "Cannot parse the request: IP configuration %s has no properties.subnet.id%s.", w->id,
		    "");
	if (!emu_store_find(e, sid, &parent, &sn, NULL, NULL) || sn == NULL)
		return BAD(r, "InvalidResourceReference",
		    "Resource %s referenced by resource %s was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.",
		    sid, w->id);
	/* Learn: the subnet must be named RouteServerSubnet and be /27 or larger (ARM's codes
	 * for either are undocumented: docs/emulator.md) */
	if (strcasecmp(emu_id_last(sid), "RouteServerSubnet") != 0)
		return BAD(r, "RouteServerSubnetNameInvalid",
		    "Subnet %s of route server IP configuration %s must be named RouteServerSubnet.", sid,
		    w->id);
	if (cidr_parse(&c, json_path_str(sn, "properties", "addressPrefix", NULL) != NULL ?
	    json_path_str(sn, "properties", "addressPrefix", NULL) : "", &err) != 0 || c.family != 4 ||
	    c.len > 27)
		return BAD(r, "RouteServerSubnetTooSmall",
		    "Subnet %s of route server IP configuration %s must be /27 or larger.", sid, w->id);
	if (check_public_ip(e, r, w) != 0)
		return -1;
	/* one ipConfiguration per route server (the CLI's delete relies on it) */
	if (w->existing == NULL && hub_children(e, hub_id, TYPE_ARS_IP_CONFIG, mine, 2) > 0)
		return BAD(r, "VirtualHubIpConfigurationLimitReached",
		    "Route server %s already has IP configuration %s; it has one.", hub_id,
		    json_str(mine[0], "id"));
	vnet_id = arm_id_parent(sid);
	taken = vnet_id != NULL ? vnet_taken(e, hub_id, vnet_id) : NULL;
	if (taken != NULL) {
		rc = BAD(r, "OnlyOneRouteServerPerVirtualNetwork",
		    "Virtual network %s already has a route server (IP configuration %s); Learn allows one per virtual network.",
		    vnet_id, taken);
	}
	free(vnet_id);
	return rc;
}

/*
 * ASNs an NVA may not use (Route Server FAQ, "What Autonomous System
 * Numbers (ASNs) can I use?"): Azure's 8074, 8075, 12076 and 65515-65520
 * (65516 is not in Learn's list), IANA's 23456, 64496-64511 and 65535-65551.
 */
static bool
asn_reserved(long long asn)
{
	return asn == 8074 || asn == 8075 || asn == 12076 || asn == 65515 ||
	    (asn >= 65517 && asn <= 65520) || asn == 23456 || (asn >= 64496 && asn <= 64511) ||
	    (asn >= 65535 && asn <= 65551);
}

int
ars_validate_bgp(struct emulator *e, struct emu_req *r, const struct arm_write *w)
{
	json_t *props = json_object_get(w->body, "properties"), *asn, *peers[ARS_MAX_PEERS + 1];
	const char *ip = json_str(props, "peerIp"), *hub_id = json_str(w->pp, "id");
	struct nw_err err = { 0 };
	struct cidr c;
	char num[32];

	if (ip == NULL || cidr_parse_addr(&c, ip, &err) != 0)
		return BAD(r, "InvalidRequestFormat",
		    "Cannot parse the request: BGP connection %s needs properties.peerIp, an IP address, not '%s'.",
		    w->id, ip != NULL ? ip : "(absent)");
	asn = json_object_get(props, "peerAsn");
	if (!json_is_integer(asn) || json_integer_value(asn) < 1 ||
	    json_integer_value(asn) > 4294967295LL)
		return BAD(r, "InvalidRequestFormat",
		    "Cannot parse the request: BGP connection %s needs properties.peerAsn, an integer from 1 to 4294967295%s.",
		    w->id, "");
	snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(asn));
	if (asn_reserved(json_integer_value(asn)))
		return BAD(r, "PeerAsnIsReserved",
		    "Peer ASN %s of BGP connection %s is reserved by Azure or IANA and cannot be used.",
		    num, w->id);
	if (w->existing == NULL &&
	    hub_children(e, hub_id, TYPE_ARS_BGP, peers, ARS_MAX_PEERS + 1) >= ARS_MAX_PEERS) {
		snprintf(num, sizeof(num), "%d", ARS_MAX_PEERS);
		return BAD(r, "VirtualHubBgpConnectionLimitReached",
		    "Route server %s already has %s BGP connections, its limit.", hub_id, num);
	}
	/* read-only: ARM decides the session's state */
	json_object_del(props, "connectionState");
	json_object_set_new(props, "connectionState", json_string("Connecting"));
	return 0;
}

/*
 * A route server goes with its BGP connections but not with its
 * ipConfiguration: the Azure CLI deletes the ipConfiguration first
 * ("az network routeserver delete", azure-cli's network module), which says
 * ARM refuses the hub while it has one; the code is undocumented.
 */
int
ars_delete_hub(struct emulator *e, struct emu_req *r, const struct arm_type *t, const char *id,
    json_t *obj)
{
	json_t *ipc[1];

	(void)t;
	(void)obj;
	if (hub_children(e, id, TYPE_ARS_IP_CONFIG, ipc, 1) > 0)
		return BAD(r, "VirtualHubHasIpConfigurations",
		    "Route server %s still has IP configuration %s; delete it first.", id,
		    json_str(ipc[0], "id"));
	return 0;
}

/* --- the route and the completion ----------------------------------------------------- */

/*
 * Before: a hub seeded or drifted without its read-only fields reads as ARM
 * would show it.  After: a write under it shows at once.
 */
void
ars_network(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	char *hub = NULL;

	/* .../providers/Microsoft.Network/virtualHubs/{hub}[/...] */
	if (c->nseg >= 8) {
		hub = emu_printf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network/virtualHubs/%s",
		    c->sub, c->rg, c->seg[7]);
		if (hub == NULL)
			e->oom = true;
	}
	ars_sync_hub(e, hub);
	arm_network(e, r, c);
	ars_sync_hub(e, hub);
	free(hub);
}

static void
ars_write_done(struct emulator *e, struct emu_op *op)
{
	char *hub = hub_id_of(op->target);

	arm_write_op.done(e, op);
	ars_sync_hub(e, hub);
	free(hub);
}

static void
ars_write_result(struct emulator *e, struct emu_req *r, const struct emu_op *op)
{
	arm_write_op.result(e, r, op);
}

const struct emu_op_class ars_write_op = {
	.name = "route server write",
	.done = ars_write_done,
	.result = ars_write_result,
	.holds = true,
};
