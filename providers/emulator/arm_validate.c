/*
 * The checks ARM makes on a Microsoft.Network body before it writes it,
 * with its error codes and messages: address prefixes in CIDR form and
 * inside the VNet's space, subnets apart, references that resolve,
 * peering remotes, route next hops, gateway and public IP enums; and
 * what may not be deleted while in use.  Each check is a hook of its type
 * in arm.c's table.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/cidr.h"
#include "plan/jsonutil.h"
#include "plan/topology.h"
#include "providers/emulator/arm.h"

/* "a, b, c" (malloc'd); NULL on out of memory. */
static char *
join_list(const char *const *list)
{
	size_t len = 0, i;
	char *s;

	for (i = 0; list[i] != NULL; i++)
		len += strlen(list[i]) + 2;
	s = calloc(1, len + 1);
	if (s == NULL)
		return NULL;
	for (i = 0; list[i] != NULL; i++) {
		if (i > 0)
			strcat(s, ", ");
		strcat(s, list[i]);
	}
	return s;
}

/* Checks api-version against a list; answers 400 and returns false when wrong. */

/* --- references and validation ------------------------------------------------------ */

static int
bad_prefix(struct emu_req *r, const char *prefix, const char *resid)
{
	struct nw_err err = { 0 };
	struct cidr c;
	char *slash;
	char addr[CIDR_STRLEN];

	if (cidr_parse(&c, prefix, &err) == 0)
		return 0;
	/* host bits set: ARM names the prefix it meant */
	slash = strchr(prefix, '/');
	if (slash != NULL && (size_t)(slash - prefix) < sizeof(addr)) {
		struct cidr a;
		char *end;
		long len = strtol(slash + 1, &end, 10);

		memcpy(addr, prefix, (size_t)(slash - prefix));
		addr[slash - prefix] = '\0';
		if (*end == '\0' && slash[1] != '\0' && cidr_parse_addr(&a, addr, &err) == 0 &&
		    len >= 0 && (unsigned long)len <= cidr_max_len(&a)) {
			struct cidr sup = cidr_supernet(&a, (unsigned)len);
			char meant[CIDR_STRLEN];

			cidr_format(&sup, meant);
			emu_reply_error(r, 400, "InvalidCIDRNotation",
			    "The address prefix %s in resource %s has an invalid CIDR notation. For the given prefix length, the address prefix should be %s.",
			    prefix, resid, meant);
			return -1;
		}
	}
	emu_reply_error(r, 400, "InvalidAddressPrefixFormat",
	    "Address prefix %s of resource %s is not formatted correctly. It should follow CIDR notation, for example 10.0.0.0/24.",
	    prefix, resid);
	return -1;
}

/* Parses prefixes from a string or an array of strings; -1 when answered. */
static int
parse_prefixes(struct emu_req *r, const json_t *one, const json_t *many, const char *resid,
    struct cidr *out, size_t max, size_t *n)
{
	struct nw_err err = { 0 };
	size_t i;
	json_t *v;

	*n = 0;
	if (json_is_string(one)) {
		if (bad_prefix(r, json_string_value(one), resid) != 0)
			return -1;
		cidr_parse(&out[(*n)++], json_string_value(one), &err);
	}
	json_array_foreach(many, i, v) {
		if (!json_is_string(v)) {
			emu_reply_error(r, 400, "InvalidRequestFormat",
			    "Address prefixes of resource %s must be strings.", resid);
			return -1;
		}
		if (bad_prefix(r, json_string_value(v), resid) != 0)
			return -1;
		if (*n < max)
			cidr_parse(&out[(*n)++], json_string_value(v), &err);
	}
	return 0;
}

#define MAXP 64

static bool
vnet_contains(const struct cidr *space, size_t nspace, const struct cidr *p)
{
	size_t i;

	for (i = 0; i < nspace; i++)
		if (cidr_contains(&space[i], p))
			return true;
	return false;
}

/* Who uses a subnet (a NIC, a private endpoint, a gateway), or NULL. */
static const char *
subnet_user(struct emulator *e, const char *subnet_id)
{
	const char **keys;
	size_t n, i, j;

	emu_store_sorted(e, &keys, &n);
	for (i = 0; i < n; i++) {
		json_t *res = json_object_get(e->res, keys[i]), *ipc, *c;
		const char *type = json_str(res, "type");
		const char *sid;

		if (type == NULL)
			continue;
		if (strcasecmp(type, TYPE_PRIVATE_ENDPOINT) == 0) {
			sid = json_path_str(res, "properties", "subnet", "id", NULL);
			if (sid != NULL && strcasecmp(sid, subnet_id) == 0)
				return json_str(res, "id");
			continue;
		}
		if (strcasecmp(type, TYPE_NIC) != 0 && strcasecmp(type, TYPE_GATEWAY) != 0)
			continue;
		ipc = json_path(res, "properties", "ipConfigurations", NULL);
		json_array_foreach(ipc, j, c) {
			sid = json_path_str(c, "properties", "subnet", "id", NULL);
			if (sid != NULL && strcasecmp(sid, subnet_id) == 0)
				return json_str(res, "id");
		}
	}
	return NULL;
}

static int
check_ref(struct emulator *e, struct emu_req *r, const char *ref, const char *resid)
{
	json_t *p, *c;

	if (ref == NULL || emu_store_find(e, ref, &p, &c, NULL, NULL))
		return 0;
	emu_reply_error(r, 400, "InvalidResourceReference",
	    "Resource %s referenced by resource %s was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.",
	    ref, resid);
	return -1;
}

/* Whether a prefix of a[] overlaps one of b[]. */
static bool
any_overlap(const struct cidr *a, size_t na, const struct cidr *b, size_t nb)
{
	size_t i, k;

	for (i = 0; i < na; i++)
		for (k = 0; k < nb; k++)
			if (cidr_overlaps(&a[i], &b[k]))
				return true;
	return false;
}

static int
check_enum(struct emu_req *r, const json_t *obj, const char *prop, const char *const *allowed,
    const char *resid)
{
	const char *v = json_path_str(obj, "properties", prop, NULL);
	json_t *raw = json_path((json_t *)obj, "properties", prop, NULL);

	if (raw == NULL || json_is_null(raw) || (v != NULL && str_in(v, allowed, strcasecmp)))
		return 0;
	{
		char *all = join_list(allowed);
		emu_reply_error(r, 400, "InvalidRequestFormat",
		    "Cannot parse the request: value '%s' of property '%s' of resource %s is not one of %s.",
		    v != NULL ? v : "(not a string)", prop, resid, all != NULL ? all : "the allowed values");
		free(all);
	}
	return -1;
}

static const char *const pe_policies[] = { "Enabled", "Disabled", "NetworkSecurityGroupEnabled",
	"RouteTableEnabled", NULL };
static const char *const pls_policies[] = { "Enabled", "Disabled", NULL };

/*
 * Validates one subnet against its VNet's space and sibling subnets
 * (skip: index of itself in siblings, or -1).
 */
static int
check_subnet(struct emulator *e, struct emu_req *r, const json_t *sn, const char *sn_id,
    const char *vnet_name, const struct cidr *space, size_t nspace, const json_t *siblings,
    long skip)
{
	struct cidr mine[MAXP], other[MAXP];
	size_t nm, no, i, j;
	json_t *sib;
	const char *name = json_str(sn, "name") != NULL ? json_str(sn, "name") : emu_id_last(sn_id);

	if (parse_prefixes(r, json_path((json_t *)sn, "properties", "addressPrefix", NULL),
	    json_path((json_t *)sn, "properties", "addressPrefixes", NULL), sn_id, mine, MAXP,
	    &nm) != 0)
		return -1;
	if (nm == 0 && json_path((json_t *)sn, "properties", "ipamPoolPrefixAllocations", NULL) == NULL) {
		emu_reply_error(r, 400, "NetcfgInvalidSubnet",
		    "Subnet '%s' is not valid in virtual network '%s': it has no address prefix.",
		    name, vnet_name);
		return -1;
	}
	for (i = 0; i < nm; i++)
		if (!vnet_contains(space, nspace, &mine[i])) {
			emu_reply_error(r, 400, "NetcfgSubnetRangeOutsideVnet",
			    "Subnet '%s' is not valid because its IP address range is outside the IP address range of virtual network '%s'.",
			    name, vnet_name);
			return -1;
		}
	json_array_foreach(siblings, j, sib) {
		if ((long)j == skip)
			continue;
		if (json_str(sib, "name") != NULL && strcasecmp(json_str(sib, "name"), name) == 0)
			continue;
		if (parse_prefixes(r, json_path(sib, "properties", "addressPrefix", NULL),
		    json_path(sib, "properties", "addressPrefixes", NULL), json_str(sib, "id") != NULL ?
		    json_str(sib, "id") : sn_id, other, MAXP, &no) != 0)
			return -1;
		if (any_overlap(mine, nm, other, no)) {
			emu_reply_error(r, 400, "NetcfgSubnetRangesOverlap",
			    "Subnet '%s' is not valid because its IP address range overlaps with that of an existing subnet in virtual network '%s'.",
			    name, vnet_name);
			return -1;
		}
	}
	if (check_enum(r, sn, "privateEndpointNetworkPolicies", pe_policies, sn_id) != 0 ||
	    check_enum(r, sn, "privateLinkServiceNetworkPolicies", pls_policies, sn_id) != 0)
		return -1;
	if (check_ref(e, r, json_path_str(sn, "properties", "routeTable", "id", NULL), sn_id) != 0 ||
	    check_ref(e, r, json_path_str(sn, "properties", "networkSecurityGroup", "id", NULL),
	    sn_id) != 0)
		return -1;
	return 0;
}

static int
vnet_space(struct emu_req *r, const json_t *vnet, const char *id, struct cidr *out, size_t *n)
{
	return parse_prefixes(r, NULL, json_path((json_t *)vnet, "properties", "addressSpace",
	    "addressPrefixes", NULL), id, out, MAXP, n);
}

static int
validate_vnet(struct emulator *e, struct emu_req *r, const char *id, json_t *body,
    json_t *existing)
{
	struct cidr space[MAXP], sum[MAXP];
	size_t nspace, nsum, i, j;
	json_t *subnets = json_path(body, "properties", "subnets", NULL), *sn;
	json_t *old = json_path(existing, "properties", "subnets", NULL);
	static const char *const vnet_pe[] = { "Disabled", "Basic", NULL };
	const char *name = emu_id_last(id);

	if (vnet_space(r, body, id, space, &nspace) != 0)
		return -1;
	json_array_foreach(subnets, i, sn) {
		const char *sname = json_str(sn, "name");
		char *sid;
		int rc;

		if (sname == NULL) {
			emu_reply_error(r, 400, "InvalidRequestFormat",
			    "Cannot parse the request: subnet %zu of virtual network '%s' has no name.", i,
			    name);
			return -1;
		}
		sid = emu_printf("%s/subnets/%s", id, sname);
		if (sid == NULL) {
			emu_reply_oom(r);
			return -1;
		}
		rc = check_subnet(e, r, sn, sid, name, space, nspace, subnets, (long)i);
		free(sid);
		if (rc != 0)
			return -1;
	}
	/* subnets dropped from the body are deleted: not when something uses them */
	json_array_foreach(old, i, sn) {
		bool kept = false;
		const char *oname = json_str(sn, "name");
		json_t *nsn;

		json_array_foreach(subnets, j, nsn)
			if (oname != NULL && json_str(nsn, "name") != NULL &&
			    strcasecmp(oname, json_str(nsn, "name")) == 0)
				kept = true;
		if (!kept && json_str(sn, "id") != NULL) {
			const char *user = subnet_user(e, json_str(sn, "id"));
			if (user != NULL) {
				emu_reply_error(r, 400, "InUseSubnetCannotBeDeleted",
				    "Subnet %s is in use by %s and cannot be deleted. In order to delete the subnet, delete all the resources within the subnet.",
				    oname, user);
				return -1;
			}
		}
	}
	if (check_enum(r, body, "privateEndpointVNetPolicies", vnet_pe, id) != 0)
		return -1;
	if (parse_prefixes(r, NULL, json_path(body, "properties", "summarizedGatewayPrefixes",
	    "addressPrefixes", NULL), id, sum, MAXP, &nsum) != 0)
		return -1;
	for (i = 0; i < nsum; i++)
		for (j = i + 1; j < nsum; j++)
			if (cidr_overlaps(&sum[i], &sum[j])) {
				char a[CIDR_STRLEN], b[CIDR_STRLEN];
				cidr_format(&sum[i], a);
				cidr_format(&sum[j], b);
				emu_reply_error(r, 400, "InvalidSummarizedGatewayPrefixes",
				    "Summarized gateway prefixes %s and %s of virtual network '%s' overlap.", a,
				    b, name);
				return -1;
			}
	return 0;
}

/* Gateways whose ipConfigurations sit in a VNet. */
static bool
vnet_has_gateway(struct emulator *e, const char *vnet_id)
{
	const char **keys;
	size_t n, i, j, len = strlen(vnet_id);

	emu_store_sorted(e, &keys, &n);
	for (i = 0; i < n; i++) {
		json_t *res = json_object_get(e->res, keys[i]), *c;
		const char *type = json_str(res, "type");

		if (type == NULL || strcasecmp(type, TYPE_GATEWAY) != 0)
			continue;
		json_array_foreach(json_path(res, "properties", "ipConfigurations", NULL), j, c) {
			const char *sid = json_path_str(c, "properties", "subnet", "id", NULL);
			if (sid != NULL && strncasecmp(sid, vnet_id, len) == 0 && sid[len] == '/')
				return true;
		}
	}
	return false;
}

static int
validate_peering(struct emulator *e, struct emu_req *r, const char *id, const char *vnet_id,
    json_t *body)
{
	const char *remote = json_path_str(body, "properties", "remoteVirtualNetwork", "id", NULL);
	json_t *rv, *lv = emu_store_get(e, vnet_id);
	struct cidr a[MAXP], b[MAXP];
	size_t na, nb;

	if (remote == NULL) {
		emu_reply_error(r, 400, "InvalidRequestFormat",
		    "Cannot parse the request: peering %s has no remoteVirtualNetwork.id.", id);
		return -1;
	}
	rv = emu_store_get(e, remote);
	if (rv == NULL || json_str(rv, "type") == NULL ||
	    strcasecmp(json_str(rv, "type"), TYPE_VNET) != 0) {
		emu_reply_error(r, 400, "InvalidResourceReference",
		    "Resource %s referenced by resource %s was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.",
		    remote, id);
		return -1;
	}
	if (strcasecmp(json_str(rv, "id"), vnet_id) == 0) {
		emu_reply_error(r, 400, "CannotPeerVirtualNetworkToItself",
		    "Virtual network %s cannot be peered with itself.", vnet_id);
		return -1;
	}
	if (vnet_space(r, lv, vnet_id, a, &na) != 0 || vnet_space(r, rv, remote, b, &nb) != 0)
		return -1;
	if (any_overlap(a, na, b, nb)) {
		emu_reply_error(r, 400, "VnetAddressSpacesOverlap",
		    "Cannot create or update peering %s because address space of remote virtual network %s overlaps with address space of local virtual network %s.",
		    id, remote, vnet_id);
		return -1;
	}
	if (json_truthy(json_path(body, "properties", "useRemoteGateways", NULL), false) &&
	    !vnet_has_gateway(e, json_str(rv, "id"))) {
		emu_reply_error(r, 400, "RemoteVnetHasNoGateways",
		    "Peering %s cannot have UseRemoteGateway flag set to true because remote virtual network %s referenced by the peering does not have any gateways.",
		    id, remote);
		return -1;
	}
	return 0;
}

static const char *const next_hops[] = { "VirtualNetworkGateway", "VnetLocal", "Internet",
	"VirtualAppliance", "VirtualApplianceEcmp", "None", NULL };

static int
validate_route(struct emulator *e, struct emu_req *r, const json_t *rt, const char *id)
{
	const char *prefix = json_path_str(rt, "properties", "addressPrefix", NULL);
	const char *nh = json_path_str(rt, "properties", "nextHopType", NULL);
	const char *ip = json_path_str(rt, "properties", "nextHopIpAddress", NULL);
	struct nw_err err = { 0 };
	struct cidr a;

	(void)e;
	if (prefix == NULL) {
		emu_reply_error(r, 400, "InvalidRequestFormat",
		    "Cannot parse the request: route %s has no addressPrefix.", id);
		return -1;
	}
	/* service tags ("AzureCloud") are allowed as route destinations */
	if ((isdigit((unsigned char)prefix[0]) || strchr(prefix, ':') != NULL) &&
	    bad_prefix(r, prefix, id) != 0)
		return -1;
	if (nh == NULL) {
		emu_reply_error(r, 400, "InvalidRequestFormat",
		    "Cannot parse the request: route %s has no nextHopType.", id);
		return -1;
	}
	if (check_enum(r, rt, "nextHopType", next_hops, id) != 0)
		return -1;
	if (strcasecmp(nh, "VirtualAppliance") == 0) {
		if (ip == NULL || cidr_parse_addr(&a, ip, &err) != 0) {
			emu_reply_error(r, 400, "InvalidNextHopIpAddress",
			    "Route %s has next hop type VirtualAppliance and requires a valid nextHopIpAddress%s%s.",
			    id, ip != NULL ? "; got " : "", ip != NULL ? ip : "");
			return -1;
		}
	} else if (ip != NULL && ip[0] != '\0') {
		emu_reply_error(r, 400, "NextHopIpAddressNotAllowed",
		    "Route %s has next hop type %s, which does not take a nextHopIpAddress.", id, nh);
		return -1;
	}
	return 0;
}

static int
validate_route_table(struct emulator *e, struct emu_req *r, const char *id, json_t *body)
{
	json_t *routes = json_path(body, "properties", "routes", NULL), *rt;
	size_t i;

	json_array_foreach(routes, i, rt) {
		const char *nm = json_str(rt, "name");
		char *rid = emu_printf("%s/routes/%s", id, nm != NULL ? nm : "");
		int rc = rid != NULL ? validate_route(e, r, rt, rid) : -1;

		if (rid == NULL)
			emu_reply_oom(r);

		free(rid);
		if (rc != 0)
			return -1;
	}
	return 0;
}

static int
validate_gateway(struct emulator *e, struct emu_req *r, const char *id, json_t *body)
{
	static const char *const gw_types[] = { "Vpn", "ExpressRoute", "LocalGateway", NULL };
	static const char *const vpn_types[] = { "PolicyBased", "RouteBased", NULL };
	static const char *const skus[] = { "Basic", "HighPerformance", "Standard",
		"UltraPerformance", "VpnGw1", "VpnGw2", "VpnGw3", "VpnGw4", "VpnGw5", "VpnGw1AZ",
		"VpnGw2AZ", "VpnGw3AZ", "VpnGw4AZ", "VpnGw5AZ", "ErGw1AZ", "ErGw2AZ", "ErGw3AZ",
		"ErGwScale", NULL };
	const char *sku = json_path_str(body, "properties", "sku", "name", NULL);
	json_t *c;
	size_t i;

	if (check_enum(r, body, "gatewayType", gw_types, id) != 0 ||
	    check_enum(r, body, "vpnType", vpn_types, id) != 0)
		return -1;
	if (sku != NULL && !str_in(sku, skus, strcasecmp)) {
		emu_reply_error(r, 400, "InvalidGatewaySku", "The gateway SKU '%s' of %s is not valid.",
		    sku, id);
		return -1;
	}
	json_array_foreach(json_path(body, "properties", "ipConfigurations", NULL), i, c) {
		const char *sid = json_path_str(c, "properties", "subnet", "id", NULL);
		if (check_ref(e, r, sid, id) != 0 ||
		    check_ref(e, r, json_path_str(c, "properties", "publicIPAddress", "id", NULL), id) != 0)
			return -1;
		if (sid != NULL && strcasecmp(emu_id_last(sid), "GatewaySubnet") != 0) {
			emu_reply_error(r, 400, "GatewaySubnetRequired",
			    "Virtual network gateway %s must be placed in a subnet named GatewaySubnet; %s is not.",
			    id, sid);
			return -1;
		}
	}
	return 0;
}

static int
validate_public_ip(struct emu_req *r, const char *id, json_t *body)
{
	static const char *const skus[] = { "Basic", "Standard", "StandardV2", NULL };
	static const char *const alloc[] = { "Static", "Dynamic", NULL };
	static const char *const ver[] = { "IPv4", "IPv6", NULL };
	const char *sku = json_path_str(body, "sku", "name", NULL);

	if (sku != NULL && !str_in(sku, skus, strcasecmp)) {
		emu_reply_error(r, 400, "InvalidRequestFormat",
		    "Cannot parse the request: sku '%s' of public IP %s is not one of Basic, Standard, StandardV2.",
		    sku, id);
		return -1;
	}
	if (check_enum(r, body, "publicIPAllocationMethod", alloc, id) != 0 ||
	    check_enum(r, body, "publicIPAddressVersion", ver, id) != 0)
		return -1;
	return 0;
}

/* --- the hooks ---------------------------------------------------------------- */

int
arm_validate_vnet(struct emulator *e, struct emu_req *r, const struct arm_write *w)
{
	return validate_vnet(e, r, w->id, w->body, w->existing);
}

int
arm_validate_subnet(struct emulator *e, struct emu_req *r, const struct arm_write *w)
{
	struct cidr space[MAXP];
	size_t nspace, i;
	long self = -1;
	json_t *subs = json_path(w->pp, "properties", "subnets", NULL), *s;
	const char *pid = w->p->parent_id;

	json_array_foreach(subs, i, s)
		if (json_str(s, "name") != NULL && strcasecmp(json_str(s, "name"), w->p->name) == 0)
			self = (long)i;
	if (vnet_space(r, w->pp, pid, space, &nspace) != 0)
		return -1;
	json_object_set_new(w->body, "name", json_string(w->existing != NULL ?
	    json_str(w->existing, "name") : w->p->name));
	return check_subnet(e, r, w->body, w->id, json_str(w->pp, "name") != NULL ?
	    json_str(w->pp, "name") : emu_id_last(pid), space, nspace, subs, self);
}

int
arm_validate_peering(struct emulator *e, struct emu_req *r, const struct arm_write *w)
{
	return validate_peering(e, r, w->id, json_str(w->pp, "id"), w->body);
}

int
arm_validate_route_table(struct emulator *e, struct emu_req *r, const struct arm_write *w)
{
	return validate_route_table(e, r, w->id, w->body);
}

int
arm_validate_route(struct emulator *e, struct emu_req *r, const struct arm_write *w)
{
	return validate_route(e, r, w->body, w->id);
}

int
arm_validate_gateway(struct emulator *e, struct emu_req *r, const struct arm_write *w)
{
	return validate_gateway(e, r, w->id, w->body);
}

int
arm_validate_public_ip(struct emulator *e, struct emu_req *r, const struct arm_write *w)
{
	(void)e;
	return validate_public_ip(r, w->id, w->body);
}

int
arm_validate_avnm(struct emulator *e, struct emu_req *r, const struct arm_write *w)
{
	return avnm_validate_put(e, r, w->t->type, w->id, w->body);
}

static int
subnet_in_use(struct emulator *e, struct emu_req *r, const json_t *sn, const char *sid)
{
	const char *user = sid != NULL ? subnet_user(e, sid) : NULL;

	if (user == NULL)
		return 0;
	emu_reply_error(r, 400, "InUseSubnetCannotBeDeleted",
	    "Subnet %s is in use by %s and cannot be deleted. In order to delete the subnet, delete all the resources within the subnet.",
	    json_str(sn, "name"), user);
	return -1;
}

int
arm_delete_subnet(struct emulator *e, struct emu_req *r, const struct arm_type *t,
    const char *id, json_t *obj)
{
	(void)t;
	return subnet_in_use(e, r, obj, id);
}

int
arm_delete_vnet(struct emulator *e, struct emu_req *r, const struct arm_type *t,
    const char *id, json_t *obj)
{
	json_t *s;
	size_t i;

	(void)t;
	(void)id;
	json_array_foreach(json_path(obj, "properties", "subnets", NULL), i, s)
		if (subnet_in_use(e, r, s, json_str(s, "id")) != 0)
			return -1;
	return 0;
}

int
arm_delete_avnm(struct emulator *e, struct emu_req *r, const struct arm_type *t,
    const char *id, json_t *obj)
{
	const char *force = emu_query(r, "force");

	(void)obj;
	return avnm_check_delete(e, r, t->type, id, force != NULL && strcasecmp(force, "true") == 0);
}
