/*
 * ARM's resource routes as the emulator serves them: path parsing against
 * a table of the types netwave uses, api-version checks, subscription and
 * resource group checks, then create/update (PUT, behind a long-running
 * operation for Network RP types), PATCH, GET, DELETE and list with
 * nextLink paging, with the validation ARM does (prefixes, subnets inside
 * the address space and apart, peering remotes, route next hops) and its
 * error codes.  Actions on network managers, gateways, NICs and circuits
 * are handed to avnm.c, gateway.c and effective.c.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/cidr.h"
#include "plan/jsonutil.h"
#include "plan/topology.h"
#include "providers/emulator/emu.h"
#include "providers/emulator/tenant.h"

/* --- the types ---------------------------------------------------------------- */

struct arm_type {
	const char *path;   /* type segments below the namespace, joined by '/' */
	const char *type;   /* the ARM type name */
	const char *embed;  /* property array of the parent that holds it; NULL: own entry */
	double put_dur;     /* nominal seconds of a PUT; 0: synchronous */
	double del_dur;     /* nominal seconds of a DELETE; 0: synchronous */
	bool location;      /* requires a location */
	bool guid;          /* carries properties.resourceGuid */
};

static const struct arm_type types[] = {
	{ "virtualNetworks", TYPE_VNET, NULL, EMU_DUR_PUT, EMU_DUR_DELETE, true, true },
	{ "virtualNetworks/subnets", "Microsoft.Network/virtualNetworks/subnets", "subnets",
	  EMU_DUR_PUT, EMU_DUR_DELETE, false, false },
	{ "virtualNetworks/virtualNetworkPeerings",
	  "Microsoft.Network/virtualNetworks/virtualNetworkPeerings", "virtualNetworkPeerings",
	  EMU_DUR_PUT, EMU_DUR_DELETE, false, true },
	{ "routeTables", TYPE_ROUTE_TABLE, NULL, EMU_DUR_PUT, EMU_DUR_DELETE, true, true },
	{ "routeTables/routes", "Microsoft.Network/routeTables/routes", "routes", EMU_DUR_PUT,
	  EMU_DUR_DELETE, false, false },
	{ "networkSecurityGroups", "Microsoft.Network/networkSecurityGroups", NULL, EMU_DUR_PUT,
	  EMU_DUR_DELETE, true, true },
	{ "networkSecurityGroups/securityRules",
	  "Microsoft.Network/networkSecurityGroups/securityRules", "securityRules", EMU_DUR_PUT,
	  EMU_DUR_DELETE, false, false },
	{ "virtualNetworkGateways", TYPE_GATEWAY, NULL, EMU_DUR_GATEWAY_PUT, EMU_DUR_DELETE * 6,
	  true, true },
	{ "localNetworkGateways", "Microsoft.Network/localNetworkGateways", NULL, EMU_DUR_PUT,
	  EMU_DUR_DELETE, true, true },
	{ "publicIPAddresses", TYPE_PUBLIC_IP, NULL, EMU_DUR_PUT, EMU_DUR_DELETE, true, true },
	{ "connections", TYPE_CONNECTION, NULL, EMU_DUR_PUT, EMU_DUR_DELETE, true, true },
	{ "expressRouteCircuits", TYPE_CIRCUIT, NULL, EMU_DUR_PUT, EMU_DUR_DELETE, true, true },
	{ "expressRouteCircuits/peerings", "Microsoft.Network/expressRouteCircuits/peerings",
	  "peerings", EMU_DUR_PUT, EMU_DUR_DELETE, false, false },
	{ "privateEndpoints", TYPE_PRIVATE_ENDPOINT, NULL, EMU_DUR_PUT, EMU_DUR_DELETE, true, true },
	{ "networkInterfaces", TYPE_NIC, NULL, EMU_DUR_PUT, EMU_DUR_DELETE, true, true },
	{ "natGateways", "Microsoft.Network/natGateways", NULL, EMU_DUR_PUT, EMU_DUR_DELETE, true,
	  true },
	/* the hubs of `netwave synth` carry one; the SDK must be able to read it */
	{ "azureFirewalls", "Microsoft.Network/azureFirewalls", NULL, EMU_DUR_PUT, EMU_DUR_DELETE,
	  true, true },
	{ "networkManagers", TYPE_NETWORK_MANAGER, NULL, 0, EMU_DUR_AVNM_DELETE, true, false },
	{ "networkManagers/networkGroups", TYPE_NETWORK_GROUP, NULL, 0, EMU_DUR_AVNM_DELETE, false,
	  true },
	{ "networkManagers/networkGroups/staticMembers", TYPE_STATIC_MEMBER, NULL, 0, 0, false,
	  false },
	{ "networkManagers/connectivityConfigurations", TYPE_CONNECTIVITY_CONFIG, NULL, 0,
	  EMU_DUR_AVNM_DELETE, false, true },
	{ "networkManagers/scopeConnections", "Microsoft.Network/networkManagers/scopeConnections",
	  NULL, 0, 0, false, false },
};

#define NTYPES (sizeof(types) / sizeof(types[0]))

/* POST actions: the type they act on and their name. */
static const struct {
	const char *type_path;
	const char *action;
} actions[] = {
	{ "networkManagers", "commit" },
	{ "networkManagers", "listDeploymentStatus" },
	{ "networkManagers", "listActiveConnectivityConfigurations" },
	{ "virtualNetworks", "listNetworkManagerEffectiveConnectivityConfigurations" },
	{ "virtualNetworkGateways", "prepareMigration" },
	{ "virtualNetworkGateways", "executeMigration" },
	{ "virtualNetworkGateways", "commitMigration" },
	{ "virtualNetworkGateways", "abortMigration" },
	{ "networkInterfaces", "effectiveRouteTable" },
};

static const char *const api_network[] = { EMU_API_NETWORK, "2025-05-01", "2025-03-01",
	"2025-01-01", "2024-10-01", "2024-07-01", "2024-05-01", NULL };
static const char *const api_resources[] = { EMU_API_RESOURCES, "2022-09-01", "2024-03-01",
	"2024-11-01", "2020-01-01", NULL };

static const struct arm_type *
type_find(const char *path)
{
	size_t i;

	for (i = 0; i < NTYPES; i++)
		if (strcasecmp(types[i].path, path) == 0)
			return &types[i];
	return NULL;
}

/* The last segment of a type path, in canonical casing. */
static const char *
type_leaf(const struct arm_type *t)
{
	const char *s = strrchr(t->path, '/');
	return s != NULL ? s + 1 : t->path;
}

/* --- small helpers -------------------------------------------------------------- */

static size_t
split(const char *path, char ***out)
{
	char **v = NULL;
	size_t n = 0;
	const char *p = path;

	while (*p != '\0') {
		const char *s;
		char **nv;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		s = p;
		while (*p != '\0' && *p != '/')
			p++;
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (nv == NULL)
			abort();
		v = nv;
		v[n] = emu_strdup(s);
		v[n][p - s] = '\0';
		n++;
	}
	*out = v;
	return n;
}

static void
split_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

char *
arm_id_part(const char *id, const char *key)
{
	char **seg;
	size_t n = split(id, &seg), i;
	char *out = NULL;

	for (i = 0; i + 1 < n; i++)
		if (strcasecmp(seg[i], key) == 0) {
			out = emu_strdup(seg[i + 1]);
			break;
		}
	split_free(seg, n);
	return out;
}

char *
arm_id_parent(const char *id)
{
	char *p = emu_strdup(id);
	int cut = 0;
	size_t i;

	for (i = strlen(p); i > 0; i--)
		if (p[i - 1] == '/' && ++cut == 2) {
			p[i - 1] = '\0';
			return p;
		}
	free(p);
	return NULL;
}

void
arm_set_state(json_t *obj, const char *state)
{
	json_t *props = json_object_get(obj, "properties");

	if (!json_is_object(props)) {
		props = json_object();
		json_object_set_new(obj, "properties", props);
	}
	json_object_set_new(props, "provisioningState", json_string(state));
}

static const char *
last_seg(const char *id)
{
	const char *s = strrchr(id, '/');
	return s != NULL ? s + 1 : id;
}

static bool
in_list(const char *v, const char *const *list)
{
	size_t i;

	for (i = 0; list[i] != NULL; i++)
		if (strcmp(v, list[i]) == 0)
			return true;
	return false;
}

static char *
join_list(const char *const *list)
{
	size_t len = 0, i;
	char *s;

	for (i = 0; list[i] != NULL; i++)
		len += strlen(list[i]) + 2;
	s = calloc(1, len + 1);
	if (s == NULL)
		abort();
	for (i = 0; list[i] != NULL; i++) {
		if (i > 0)
			strcat(s, ", ");
		strcat(s, list[i]);
	}
	return s;
}

/* Checks api-version against a list; answers 400 and returns false when wrong. */
static bool
api_check(struct emu_req *r, const char *const *list, const char *what)
{
	const char *v = emu_query(r, "api-version");
	char *all;

	if (v == NULL || v[0] == '\0') {
		emu_reply_error(r, 400, "MissingApiVersionParameter",
		    "The api-version query parameter (?api-version=) is required for all requests.");
		return false;
	}
	if (in_list(v, list))
		return true;
	all = join_list(list);
	emu_reply_error(r, 400, "InvalidApiVersionParameter",
	    "The api-version '%s' is invalid. The supported versions for %s are '%s'.", v, what, all);
	free(all);
	return false;
}

static int
parse_top(struct emulator *e, struct emu_req *r, unsigned *top)
{
	const char *t = emu_query(r, "$top");
	char *end;
	unsigned long v;

	*top = e->page_size;
	if (t == NULL)
		return 0;
	v = strtoul(t, &end, 10);
	if (t[0] == '\0' || *end != '\0' || t[0] == '-' || v < 1 || v > e->max_page_size) {
		emu_reply_error(r, 400, "InvalidTopParameter",
		    "The value '%s' of query parameter '$top' is invalid: it must be an integer between 1 and %u.",
		    t, e->max_page_size);
		return -1;
	}
	*top = (unsigned)v;
	return 0;
}

/* base64url without padding, so the token needs no escaping in a URL. */
static char *
token_encode(const char *s)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t n = strlen(s), i, o = 0;
	char *out = malloc(n * 4 / 3 + 5);

	if (out == NULL)
		abort();
	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		out[o++] = tbl[(v >> 18) & 63];
		out[o++] = tbl[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = tbl[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = tbl[v & 63];
	}
	out[o] = '\0';
	return out;
}

static char *
token_decode(const char *s)
{
	size_t n = strlen(s), i, o = 0;
	char *out = malloc(n + 1);
	unsigned acc = 0;
	int bits = 0;

	if (out == NULL)
		abort();
	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i], v;
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '-')
			v = 62;
		else if (c == '_')
			v = 63;
		else {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[o] = '\0';
	return out;
}

/* --- LRO answers ----------------------------------------------------------------- */

void
arm_reply_lro(struct emulator *e, struct emu_req *r, const struct emu_op *op, int status,
    json_t *body)
{
	double left = op->deadline - emu_mono();
	double wait = emu_scaled(e, EMU_POLL_INTERVAL);

	if (left < wait)
		wait = left;
	if (wait < 0)
		wait = 0;
	emu_header(r, "Azure-AsyncOperation",
	    "%s/subscriptions/%s/providers/Microsoft.Network/locations/%s/operations/%s?api-version=%s",
	    r->base, op->subscription, op->region, op->id, EMU_API_NETWORK);
	emu_header(r, "Location",
	    "%s/subscriptions/%s/providers/Microsoft.Network/locations/%s/operationResults/%s?api-version=%s",
	    r->base, op->subscription, op->region, op->id, EMU_API_NETWORK);
	/* whole seconds, rounded: under a large time scale this is 0, poll at once;
	 * retry-after-ms gives clients that read it the scaled interval */
	emu_header(r, "Retry-After", "%d", (int)floor(wait + 0.5));
	emu_header(r, "retry-after-ms", "%ld", wait * 1000 < 1 ? 1L : (long)ceil(wait * 1000));
	if (body != NULL)
		emu_reply_json(r, status, body);
	else
		emu_reply_empty(r, status);
}

/* --- parsed paths ----------------------------------------------------------------- */

struct arm_path {
	const char *sub;
	const char *rg;          /* NULL at subscription scope */
	char **rest;             /* segments below the namespace */
	size_t nrest;
	const struct arm_type *type;   /* the resource's or the collection's type */
	const struct arm_type *ptype;  /* the parent's type, NULL for top-level */
	bool collection;
	const char *action;      /* POST action name (canonical) */
	char *id;                /* the resource (or the action's resource) */
	char *parent_id;         /* the parent of a child, or of a collection */
	const char *name;
};

static void
path_free(struct arm_path *p)
{
	free(p->id);
	free(p->parent_id);
}

/* The id prefix: "/subscriptions/S/resourceGroups/R/providers/Microsoft.Network" */
static char *
id_base(const struct arm_path *p)
{
	return emu_printf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network", p->sub,
	    p->rg);
}

/*
 * Resolves rest[] against the type table.  Answers 404 and returns -1 on
 * an unknown type.
 */
static int
path_resolve(struct emu_req *r, struct arm_path *p)
{
	char typepath[512] = "";
	size_t pairs = p->nrest / 2, k;
	const struct arm_type *t = NULL, *prev = NULL;
	char *id;

	id = id_base(p);
	for (k = 0; k < pairs; k++) {
		const char *seg = p->rest[2 * k];
		char *nid;

		if (k > 0)
			strncat(typepath, "/", sizeof(typepath) - strlen(typepath) - 1);
		strncat(typepath, seg, sizeof(typepath) - strlen(typepath) - 1);
		prev = t;
		t = type_find(typepath);
		if (t == NULL) {
			/* circuit peerings' route tables: an action that takes a device path */
			if (prev != NULL && strcasecmp(prev->path, "expressRouteCircuits/peerings") == 0 &&
			    strcasecmp(seg, "routeTables") == 0 && k == pairs - 1 && p->nrest % 2 == 0) {
				p->action = "routeTables";
				p->type = prev;
				p->id = id;
				p->name = p->rest[2 * k + 1];
				return 0;
			}
			emu_reply_error(r, 404, "InvalidResourceType",
			    "The resource type '%s' could not be found in the namespace 'Microsoft.Network' for api version '%s'.",
			    typepath, emu_query(r, "api-version"));
			free(id);
			return -1;
		}
		if (k > 0 && k == pairs - 1 && p->nrest % 2 == 0) {
			free(p->parent_id);
			p->parent_id = emu_strdup(id);
		}
		nid = emu_printf("%s/%s/%s", id, type_leaf(t), p->rest[2 * k + 1]);
		free(id);
		id = nid;
	}
	if (p->nrest % 2 == 1) {
		const char *last = p->rest[p->nrest - 1];
		char full[600];
		size_t i;

		snprintf(full, sizeof(full), "%s%s%s", typepath, pairs > 0 ? "/" : "", last);
		if (type_find(full) != NULL) {
			p->collection = true;
			p->type = type_find(full);
			p->ptype = t;
			p->parent_id = id;
			return 0;
		}
		for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
			if (t != NULL && strcasecmp(actions[i].type_path, t->path) == 0 &&
			    strcasecmp(actions[i].action, last) == 0) {
				p->action = actions[i].action;
				p->type = t;
				p->id = id;
				return 0;
			}
		emu_reply_error(r, 404, "InvalidResourceType",
		    "The resource type '%s' could not be found in the namespace 'Microsoft.Network' for api version '%s'.",
		    full, emu_query(r, "api-version"));
		free(id);
		return -1;
	}
	p->type = t;
	p->ptype = prev;
	p->id = id;
	p->name = p->rest[p->nrest - 1];
	return 0;
}

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

static int
check_enum(struct emu_req *r, const json_t *obj, const char *prop, const char *const *allowed,
    const char *resid)
{
	const char *v = json_path_str(obj, "properties", prop, NULL);
	json_t *raw = json_path((json_t *)obj, "properties", prop, NULL);
	size_t i;

	if (raw == NULL || json_is_null(raw))
		return 0;
	if (v != NULL)
		for (i = 0; allowed[i] != NULL; i++)
			if (strcasecmp(v, allowed[i]) == 0)
				return 0;
	{
		char *all = join_list(allowed);
		emu_reply_error(r, 400, "InvalidRequestFormat",
		    "Cannot parse the request: value '%s' of property '%s' of resource %s is not one of %s.",
		    v != NULL ? v : "(not a string)", prop, resid, all);
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
	size_t nm, no, i, j, k;
	json_t *sib;
	const char *name = json_str(sn, "name") != NULL ? json_str(sn, "name") : last_seg(sn_id);

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
		for (i = 0; i < nm; i++)
			for (k = 0; k < no; k++)
				if (cidr_overlaps(&mine[i], &other[k])) {
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
	const char *name = last_seg(id);

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
	size_t na, nb, i, j;

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
	for (i = 0; i < na; i++)
		for (j = 0; j < nb; j++)
			if (cidr_overlaps(&a[i], &b[j])) {
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
		int rc = validate_route(e, r, rt, rid);

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
	size_t i, k;

	if (check_enum(r, body, "gatewayType", gw_types, id) != 0 ||
	    check_enum(r, body, "vpnType", vpn_types, id) != 0)
		return -1;
	if (sku != NULL) {
		for (k = 0; skus[k] != NULL; k++)
			if (strcasecmp(skus[k], sku) == 0)
				break;
		if (skus[k] == NULL) {
			emu_reply_error(r, 400, "InvalidGatewaySku",
			    "The gateway SKU '%s' of %s is not valid.", sku, id);
			return -1;
		}
	}
	json_array_foreach(json_path(body, "properties", "ipConfigurations", NULL), i, c) {
		const char *sid = json_path_str(c, "properties", "subnet", "id", NULL);
		if (check_ref(e, r, sid, id) != 0 ||
		    check_ref(e, r, json_path_str(c, "properties", "publicIPAddress", "id", NULL), id) != 0)
			return -1;
		if (sid != NULL && strcasecmp(last_seg(sid), "GatewaySubnet") != 0) {
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
	size_t k;

	if (sku != NULL) {
		for (k = 0; skus[k] != NULL; k++)
			if (strcasecmp(skus[k], sku) == 0)
				break;
		if (skus[k] == NULL) {
			emu_reply_error(r, 400, "InvalidRequestFormat",
			    "Cannot parse the request: sku '%s' of public IP %s is not one of Basic, Standard, StandardV2.",
			    sku, id);
			return -1;
		}
	}
	if (check_enum(r, body, "publicIPAllocationMethod", alloc, id) != 0 ||
	    check_enum(r, body, "publicIPAddressVersion", ver, id) != 0)
		return -1;
	return 0;
}

/* --- peerings ------------------------------------------------------------------------- */

static bool
same_space(const json_t *a, const json_t *b)
{
	json_t *pa = json_object_get(a, "addressPrefixes"), *pb = json_object_get(b, "addressPrefixes");

	if (pa == NULL)
		pa = json_array();
	else
		json_incref(pa);
	if (pb == NULL)
		pb = json_array();
	else
		json_incref(pb);
	{
		bool eq = json_equal(pa, pb);
		json_decref(pa);
		json_decref(pb);
		return eq;
	}
}

static json_t *
find_back_peering(json_t *remote, const char *local_id)
{
	json_t *list = json_path(remote, "properties", "virtualNetworkPeerings", NULL), *q;
	size_t i;

	json_array_foreach(list, i, q) {
		const char *rid = json_path_str(q, "properties", "remoteVirtualNetwork", "id", NULL);
		if (rid != NULL && strcasecmp(rid, local_id) == 0)
			return q;
	}
	return NULL;
}

static void
set_remote_space(json_t *peering, const json_t *space)
{
	json_t *props = json_object_get(peering, "properties");
	json_t *copy = json_is_object(space) ? json_pack("{s:O}", "addressPrefixes",
	    json_object_get(space, "addressPrefixes") != NULL ?
	    json_object_get(space, "addressPrefixes") : json_array()) :
	    json_pack("{s:[]}", "addressPrefixes");

	json_object_set(props, "remoteAddressSpace", copy);
	json_object_set_new(props, "remoteVirtualNetworkAddressSpace", copy);
}

static bool
set_str(json_t *obj, const char *key, const char *v)
{
	const char *old = json_str(obj, key);

	if (old != NULL && strcmp(old, v) == 0)
		return false;
	json_object_set_new(obj, key, json_string(v));
	return true;
}

/* Brings one peering's state and sync level up to date; true when it changed. */
static bool
peering_update(struct emulator *e, json_t *vnet, json_t *p, bool sync)
{
	json_t *props = json_object_get(p, "properties");
	const char *rid = json_path_str(p, "properties", "remoteVirtualNetwork", "id", NULL);
	json_t *rv = rid != NULL ? emu_store_get(e, rid) : NULL;
	json_t *q = rv != NULL ? find_back_peering(rv, json_str(vnet, "id")) : NULL;
	const char *state = json_str(props, "peeringState");
	bool changed = false;
	char *before;

	if (!json_is_object(props))
		return false;
	before = json_dumps(props, JSON_SORT_KEYS | JSON_COMPACT);
	if (q != NULL) {
		json_t *lspace = json_path(vnet, "properties", "addressSpace", NULL);
		json_t *rspace = json_path(rv, "properties", "addressSpace", NULL);
		bool local_stale, remote_stale;

		/* a fresh connection, or an explicit sync, copies the remote space */
		if (sync || state == NULL || strcmp(state, "Connected") != 0 ||
		    json_object_get(props, "remoteAddressSpace") == NULL)
			set_remote_space(p, rspace);
		set_str(props, "peeringState", "Connected");
		local_stale = !same_space(json_object_get(props, "remoteAddressSpace"), rspace);
		remote_stale = json_path(q, "properties", "remoteAddressSpace", NULL) != NULL &&
		    !same_space(json_path(q, "properties", "remoteAddressSpace", NULL), lspace);
		set_str(props, "peeringSyncLevel", local_stale && remote_stale ?
		    "LocalAndRemoteNotInSync" : local_stale ? "LocalNotInSync" :
		    remote_stale ? "RemoteNotInSync" : "FullyInSync");
	} else {
		set_str(props, "peeringState", state != NULL && (strcmp(state, "Connected") == 0 ||
		    strcmp(state, "Disconnected") == 0) ? "Disconnected" : "Initiated");
		if (json_object_get(props, "peeringSyncLevel") == NULL)
			set_str(props, "peeringSyncLevel", "FullyInSync");
		if (rv != NULL && json_object_get(props, "remoteAddressSpace") == NULL)
			set_remote_space(p, json_path(rv, "properties", "addressSpace", NULL));
	}
	{
		char *after = json_dumps(props, JSON_SORT_KEYS | JSON_COMPACT);
		changed = before == NULL || after == NULL || strcmp(before, after) != 0;
		free(after);
	}
	free(before);
	return changed;
}

/*
 * Updates a VNet's peerings.  towards (NULL: all) limits it to those whose
 * remote is that VNet: a peering's state depends only on its own two VNets,
 * so when one VNet changes, a hub with 500 peerings needs one updated, not
 * 500 (the spoke PUTs of an apply were 90% this loop).
 */
static void
sync_vnet(struct emulator *e, json_t *vnet, const char *sync_peering, const char *towards)
{
	json_t *list = json_path(vnet, "properties", "virtualNetworkPeerings", NULL), *p;
	bool changed = false;
	size_t i;

	json_array_foreach(list, i, p) {
		bool sync = sync_peering != NULL && json_str(p, "id") != NULL &&
		    strcasecmp(json_str(p, "id"), sync_peering) == 0;
		const char *rid;

		if (towards != NULL) {
			rid = json_path_str(p, "properties", "remoteVirtualNetwork", "id", NULL);
			if (rid == NULL || strcasecmp(rid, towards) != 0)
				continue;
		}
		if (peering_update(e, vnet, p, sync))
			changed = true;
	}
	if (changed)
		emu_store_touch(e, json_str(vnet, "id"));
}

static void
peerings_sync(struct emulator *e, const char *vnet_id, const char *sync_peering)
{
	const char **keys;
	size_t n, i;
	char *low = emu_lower(vnet_id);
	json_t **todo = NULL;
	size_t ntodo = 0;

	/* the VNet itself and every VNet with a peering towards it */
	emu_store_sorted(e, &keys, &n);
	todo = calloc(n + 1, sizeof(*todo));
	if (todo == NULL)
		abort();
	for (i = 0; i < n; i++) {
		json_t *v = json_object_get(e->res, keys[i]);
		const char *type = json_str(v, "type");

		if (type == NULL || strcasecmp(type, TYPE_VNET) != 0)
			continue;
		if (strcmp(keys[i], low) == 0 || find_back_peering(v, vnet_id) != NULL)
			todo[ntodo++] = v;
	}
	for (i = 0; i < ntodo; i++)
		sync_vnet(e, todo[i], sync_peering, json_str(todo[i], "id") == NULL ||
		    strcasecmp(json_str(todo[i], "id"), vnet_id) == 0 ? NULL : vnet_id);
	free(todo);
	free(low);
}

/*
 * The same when only the VNet's own peerings may have changed: the VNet
 * and the remotes its peerings name, not a scan of the estate.
 */
static void
peerings_sync_near(struct emulator *e, const char *vnet_id, const char *sync_peering)
{
	json_t *v = emu_store_get(e, vnet_id), *remotes = json_array(), *p, *rid;
	size_t i;

	if (v == NULL) {
		json_decref(remotes);
		return;
	}
	sync_vnet(e, v, sync_peering, NULL);
	json_array_foreach(json_path(v, "properties", "virtualNetworkPeerings", NULL), i, p) {
		const char *r = json_path_str(p, "properties", "remoteVirtualNetwork", "id", NULL);
		if (r != NULL)
			json_array_append_new(remotes, json_string(r));
	}
	json_array_foreach(remotes, i, rid) {
		json_t *rv = emu_store_get(e, json_string_value(rid));
		if (rv != NULL && rv != v)
			sync_vnet(e, rv, NULL, json_str(v, "id"));
	}
	json_decref(remotes);
}

void
arm_peerings_sync(struct emulator *e, const char *vnet_id)
{
	peerings_sync(e, vnet_id, NULL);
}

/* --- the wire ----------------------------------------------------------------------------- */

/*
 * A stored resource as ARM writes it in an answer (new reference).  ARM
 * sends a connection's gateway references as {id, properties: {}}, and
 * the official SDK's deserializers need that object: a virtual network
 * or local network gateway's properties are mandatory in its model, so
 * a bare {id}, as seeds and clients store it, makes @azure/arm-network
 * throw on every connection it reads.
 */
json_t *
arm_wire(const json_t *res)
{
	static const char *const refs[] = { "virtualNetworkGateway1", "virtualNetworkGateway2",
		"localNetworkGateway2", NULL };
	json_t *out = json_deep_copy(res);
	const char *type = json_str(out, "type");
	size_t i;

	if (type == NULL || strcasecmp(type, "Microsoft.Network/connections") != 0)
		return out;
	for (i = 0; refs[i] != NULL; i++) {
		json_t *ref = json_path(out, "properties", refs[i], NULL);
		if (json_is_object(ref) && !json_is_object(json_object_get(ref, "properties")))
			json_object_set_new(ref, "properties", json_object());
	}
	return out;
}

/* --- writes ------------------------------------------------------------------------------- */

/* Puts the keys in the order ARM writes them: name, id, etag, type, location, tags, ... */
static void
arm_order(json_t *obj)
{
	static const char *const first[] = { "name", "id", "etag", "type", "location", "tags", NULL };
	json_t *copy = json_copy(obj);
	const char *k;
	json_t *v;
	size_t i;

	json_object_clear(obj);
	for (i = 0; first[i] != NULL; i++)
		if ((v = json_object_get(copy, first[i])) != NULL)
			json_object_set(obj, first[i], v);
	json_object_foreach(copy, k, v)
		if (json_object_get(obj, k) == NULL)
			json_object_set(obj, k, v);
	json_decref(copy);
}

static void
normalize_child(struct emulator *e, json_t *c, const char *parent_id, const struct arm_type *t,
    const char *state, json_t *old)
{
	const char *name = json_str(c, "name");
	char *id = emu_printf("%s/%s/%s", parent_id, type_leaf(t), name != NULL ? name : "");

	json_object_set_new(c, "id", json_string(old != NULL && json_str(old, "id") != NULL ?
	    json_str(old, "id") : id));
	json_object_set_new(c, "type", json_string(t->type));
	if (!json_is_object(json_object_get(c, "properties")))
		json_object_set_new(c, "properties", json_object());
	emu_store_etag(e, c);
	arm_set_state(c, state);
	if (t->guid) {
		const char *g = json_path_str(old, "properties", "resourceGuid", NULL);
		char ng[40];
		if (g == NULL)
			emu_guid(e, ng);
		json_object_set_new(json_object_get(c, "properties"), "resourceGuid",
		    json_string(g != NULL ? g : ng));
	}
	arm_order(c);
	free(id);
}

static json_t *
find_named(json_t *list, const char *name)
{
	json_t *v;
	size_t i;

	json_array_foreach(list, i, v)
		if (json_str(v, "name") != NULL && strcasecmp(json_str(v, "name"), name) == 0)
			return v;
	return NULL;
}

static bool
if_match_ok(struct emu_req *r, const json_t *existing)
{
	const char *im = emu_header_in(r, "if-match");
	const char *inm = emu_header_in(r, "if-none-match");
	const char *etag = json_str(existing, "etag");

	if (im != NULL) {
		if (existing == NULL || (strcmp(im, "*") != 0 && (etag == NULL || strcmp(im, etag) != 0))) {
			emu_reply_error(r, 412, "PreconditionFailed",
			    "The specified precondition 'If-Match' failed: the resource's current etag is %s.",
			    etag != NULL ? etag : "absent");
			return false;
		}
	}
	if (inm != NULL && strcmp(inm, "*") == 0 && existing != NULL) {
		emu_reply_error(r, 412, "PreconditionFailed",
		    "The specified precondition 'If-None-Match' failed: the resource already exists.");
		return false;
	}
	return true;
}

static void
reply_busy(struct emulator *e, struct emu_req *r, const struct emu_op *op, const char *id)
{
	double left = op->deadline - emu_mono();

	emu_header(r, "Retry-After", "%d", left > 0 ? (int)ceil(left) : 1);
	emu_reply_error(r, 429, "RetryableErrorDueToAnotherOperation",
	    "Operation on resource %s is not allowed because another operation (%s) on %s is in progress. Retry the request after the other operation completes.",
	    id, op->action != NULL ? op->action : op->kind == OP_DELETE ? "Delete" : "Put",
	    op->target);
	(void)e;
}

static const char *
region_of(struct emulator *e, const json_t *res, const char *fallback_id)
{
	const char *loc = json_str(res, "location");
	json_t *p, *c;

	if (loc != NULL)
		return loc;
	if (fallback_id != NULL && emu_store_find(e, fallback_id, &p, &c, NULL, NULL) &&
	    json_str(p, "location") != NULL)
		return json_str(p, "location");
	return "global";
}

static bool
is_avnm(const struct arm_type *t)
{
	return strncasecmp(t->path, "networkManagers", 15) == 0;
}

static void
put_resource(struct emulator *e, struct emu_req *r, struct arm_path *p)
{
	const struct arm_type *t = p->type;
	json_t *body = r->parsed, *obj, *parent = NULL, *child = NULL, *arr = NULL, *existing;
	json_t *pp = NULL, *pc = NULL;
	size_t idx = 0;
	bool found;
	const char *lock_id = t->embed != NULL ? p->parent_id : p->id;
	struct emu_op *busy;
	const char *state = t->put_dur > 0 ? "Updating" : "Succeeded";
	char *id;

	if (body == NULL || !json_is_object(body)) {
		emu_reply_error(r, 400, "InvalidRequestContent",
		    "The request content was invalid and could not be deserialized: '%s'.",
		    r->body_len == 0 ? "the request body is empty" :
		    body == NULL ? "the request body is not valid JSON" :
		    "the request body must be a JSON object");
		return;
	}
	if (p->parent_id != NULL && (!emu_store_find(e, p->parent_id, &pp, &pc, NULL, NULL) ||
	    pc != NULL)) {
		emu_reply_error(r, 404, "ParentResourceNotFound",
		    "Can not perform requested operation on nested resource. Parent resource '%s' not found.",
		    last_seg(p->parent_id));
		return;
	}
	found = emu_store_find(e, p->id, &parent, &child, &arr, &idx);
	existing = found ? (child != NULL ? child : parent) : NULL;
	if (found && t->embed == NULL && child != NULL)
		existing = NULL;
	if (!if_match_ok(r, existing))
		return;
	busy = lro_busy(e, lock_id);
	if (busy != NULL) {
		reply_busy(e, r, busy, p->id);
		return;
	}
	/* held: replacing the stored object below would free it */
	json_incref(existing);
	id = emu_strdup(existing != NULL && json_str(existing, "id") != NULL ?
	    json_str(existing, "id") : p->id);
	if (t->location && json_str(body, "location") == NULL) {
		emu_reply_error(r, 400, "LocationRequired",
		    "The location property is required for this definition.");
		goto done;
	}
	/* validation, by type */
	if (strcasecmp(t->path, "virtualNetworks") == 0) {
		if (validate_vnet(e, r, id, body, existing) != 0)
			goto done;
	} else if (strcasecmp(t->path, "virtualNetworks/subnets") == 0) {
		struct cidr space[MAXP];
		size_t nspace;
		long self = -1;
		json_t *subs = json_path(pp, "properties", "subnets", NULL), *s;
		size_t i;

		json_array_foreach(subs, i, s)
			if (json_str(s, "name") != NULL && strcasecmp(json_str(s, "name"), p->name) == 0)
				self = (long)i;
		if (vnet_space(r, pp, p->parent_id, space, &nspace) != 0)
			goto done;
		json_object_set_new(body, "name", json_string(existing != NULL ?
		    json_str(existing, "name") : p->name));
		if (check_subnet(e, r, body, id, json_str(pp, "name") != NULL ? json_str(pp, "name") :
		    last_seg(p->parent_id), space, nspace, subs, self) != 0)
			goto done;
	} else if (strcasecmp(t->path, "virtualNetworks/virtualNetworkPeerings") == 0) {
		if (validate_peering(e, r, id, json_str(pp, "id"), body) != 0)
			goto done;
	} else if (strcasecmp(t->path, "routeTables") == 0) {
		if (validate_route_table(e, r, id, body) != 0)
			goto done;
	} else if (strcasecmp(t->path, "routeTables/routes") == 0) {
		if (validate_route(e, r, body, id) != 0)
			goto done;
	} else if (strcasecmp(t->path, "virtualNetworkGateways") == 0) {
		if (validate_gateway(e, r, id, body) != 0)
			goto done;
	} else if (strcasecmp(t->path, "publicIPAddresses") == 0) {
		if (validate_public_ip(r, id, body) != 0)
			goto done;
	} else if (is_avnm(t)) {
		if (avnm_validate_put(e, r, t->type, id, body) != 0)
			goto done;
	}

	obj = json_deep_copy(body);
	json_object_set_new(obj, "name", json_string(existing != NULL && json_str(existing, "name") ?
	    json_str(existing, "name") : p->name));
	if (t->embed != NULL) {
		json_t *props = json_object_get(pp, "properties"), *list;

		normalize_child(e, obj, json_str(pp, "id"), t, state, existing);
		json_object_del(obj, "location");
		if (!json_is_object(props)) {
			props = json_object();
			json_object_set_new(pp, "properties", props);
		}
		list = json_object_get(props, t->embed);
		if (!json_is_array(list)) {
			list = json_array();
			json_object_set_new(props, t->embed, list);
		}
		if (existing != NULL)
			json_array_set(list, idx, obj);
		else
			json_array_append(list, obj);
		emu_store_etag(e, pp);
		emu_store_touch(e, json_str(pp, "id"));
	} else {
		json_t *props;
		size_t i;
		json_t *c;

		json_object_set_new(obj, "id", json_string(id));
		json_object_set_new(obj, "type", json_string(t->type));
		if (!json_is_object(json_object_get(obj, "properties")))
			json_object_set_new(obj, "properties", json_object());
		props = json_object_get(obj, "properties");
		emu_store_etag(e, obj);
		arm_set_state(obj, state);
		if (t->guid) {
			const char *g = json_path_str(existing, "properties", "resourceGuid", NULL);
			char ng[40];
			if (g == NULL)
				emu_guid(e, ng);
			json_object_set_new(props, "resourceGuid", json_string(g != NULL ? g : ng));
		}
		if (strcasecmp(t->path, "virtualNetworks") == 0) {
			const struct arm_type *st = type_find("virtualNetworks/subnets");
			const struct arm_type *pt = type_find("virtualNetworks/virtualNetworkPeerings");
			json_t *subs = json_object_get(props, "subnets");
			json_t *peers = json_object_get(props, "virtualNetworkPeerings");

			if (!json_is_array(subs)) {
				subs = json_array();
				json_object_set_new(props, "subnets", subs);
			}
			json_array_foreach(subs, i, c)
				normalize_child(e, c, id, st, state, find_named(json_path(existing,
				    "properties", "subnets", NULL), json_str(c, "name")));
			/* peerings are their own resources: a VNet PUT without them keeps them */
			if (!json_is_array(peers)) {
				json_t *old = json_path(existing, "properties", "virtualNetworkPeerings", NULL);
				json_object_set_new(props, "virtualNetworkPeerings",
				    json_is_array(old) ? json_deep_copy(old) : json_array());
			} else {
				json_array_foreach(peers, i, c)
					normalize_child(e, c, id, pt, state, find_named(json_path(existing,
					    "properties", "virtualNetworkPeerings", NULL),
					    json_str(c, "name")));
			}
		} else if (strcasecmp(t->path, "routeTables") == 0 ||
		    strcasecmp(t->path, "expressRouteCircuits") == 0 ||
		    strcasecmp(t->path, "networkSecurityGroups") == 0) {
			const char *prop = strcasecmp(t->path, "routeTables") == 0 ? "routes" :
			    strcasecmp(t->path, "networkSecurityGroups") == 0 ? "securityRules" : "peerings";
			char tp[128];
			json_t *list = json_object_get(props, prop);

			snprintf(tp, sizeof(tp), "%s/%s", t->path, prop);
			json_array_foreach(list, i, c)
				normalize_child(e, c, id, type_find(tp), state, find_named(json_path(existing,
				    "properties", prop, NULL), json_str(c, "name")));
		}
		if (is_avnm(t))
			avnm_after_put(e, t->type, obj);
		arm_order(obj);
		emu_store_put(e, id, json_incref(obj));
	}
	if (strcasecmp(t->path, "virtualNetworks") == 0) {
		/* peerings elsewhere see this VNet's space: scan only when it is new or moved */
		if (existing == NULL || !json_equal(json_path(existing, "properties", "addressSpace", NULL),
		    json_path(obj, "properties", "addressSpace", NULL)))
			peerings_sync(e, id, NULL);
		else
			peerings_sync_near(e, id, NULL);
	} else if (strcasecmp(t->path, "virtualNetworks/virtualNetworkPeerings") == 0) {
		const char *sync = emu_query(r, "syncRemoteAddressSpace");
		peerings_sync_near(e, json_str(pp, "id"),
		    sync != NULL && strcasecmp(sync, "true") == 0 ? id : NULL);
		/* the answer shows the state after the sync */
		json_decref(obj);
		emu_store_find(e, id, &parent, &child, &arr, &idx);
		obj = json_incref(child != NULL ? child : parent);
	}
	emu_op_name(r, "%s %s", existing != NULL ? "update" : "create", t->type);
	if (t->put_dur > 0) {
		char *sub = arm_id_part(id, "subscriptions");
		struct emu_op *op = lro_new(e, OP_PUT, NULL, id, sub, region_of(e, obj, p->parent_id),
		    t->put_dur);

		free(sub);
		arm_reply_lro(e, r, op, existing != NULL ? 200 : 201, arm_wire(obj));
	} else {
		emu_reply_json(r, existing != NULL ? 200 : 201, arm_wire(obj));
	}
	json_decref(obj);
done:
	json_decref(existing);
	free(id);
}

static json_t *
merge(json_t *target, const json_t *patch)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)patch, k, v) {
		json_t *cur = json_object_get(target, k);
		if (json_is_null(v))
			json_object_del(target, k);
		else if (json_is_object(v) && json_is_object(cur) && strcmp(k, "tags") != 0)
			merge(cur, v);
		else
			json_object_set_new(target, k, json_deep_copy(v));
	}
	return target;
}

static void
patch_resource(struct emulator *e, struct emu_req *r, struct arm_path *p)
{
	json_t *parent = NULL, *child = NULL, *obj;
	struct emu_op *busy;

	if (r->parsed == NULL || !json_is_object(r->parsed)) {
		emu_reply_error(r, 400, "InvalidRequestContent",
		    "The request content was invalid and could not be deserialized: '%s'.",
		    r->body_len == 0 ? "the request body is empty" : "the request body must be a JSON object");
		return;
	}
	if (!emu_store_find(e, p->id, &parent, &child, NULL, NULL) || child != NULL || p->type->embed) {
		emu_reply_error(r, 404, "ResourceNotFound",
		    "The Resource '%s/%s' under resource group '%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
		    p->type->type, p->name, p->rg);
		return;
	}
	if (!if_match_ok(r, parent))
		return;
	busy = lro_busy(e, p->id);
	if (busy != NULL) {
		reply_busy(e, r, busy, p->id);
		return;
	}
	obj = parent;
	/* PATCH tags replaces all tags; other fields follow JSON merge-patch */
	merge(obj, r->parsed);
	emu_store_etag(e, obj);
	emu_store_touch(e, json_str(obj, "id"));
	/* only a change of properties can move the address space peerings see */
	if (strcasecmp(p->type->path, "virtualNetworks") == 0 &&
	    json_object_get(r->parsed, "properties") != NULL)
		peerings_sync(e, json_str(obj, "id"), NULL);
	emu_op_name(r, "patch %s", p->type->type);
	emu_reply_json(r, 200, arm_wire(obj));
}

static void
reply_not_found(struct emu_req *r, struct arm_path *p, bool parent_missing)
{
	if (p->type->embed != NULL || p->ptype != NULL) {
		if (parent_missing) {
			emu_reply_error(r, 404, "ParentResourceNotFound",
			    "Can not perform requested operation on nested resource. Parent resource '%s' not found.",
			    last_seg(p->parent_id));
			return;
		}
		emu_reply_error(r, 404, "NotFound", "Resource %s not found.", p->id);
		return;
	}
	emu_reply_error(r, 404, "ResourceNotFound",
	    "The Resource '%s/%s' under resource group '%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
	    p->type->type, p->name, p->rg);
}

static void
get_resource(struct emulator *e, struct emu_req *r, struct arm_path *p)
{
	json_t *parent = NULL, *child = NULL, *pp, *pc;
	bool found = emu_store_find(e, p->id, &parent, &child, NULL, NULL);

	if (!found || (p->type->embed != NULL) != (child != NULL)) {
		bool pm = p->parent_id != NULL && !emu_store_find(e, p->parent_id, &pp, &pc, NULL, NULL);
		reply_not_found(r, p, pm);
		return;
	}
	emu_op_name(r, "get %s", p->type->type);
	emu_reply_json(r, 200, arm_wire(child != NULL ? child : parent));
}

static void
delete_resource(struct emulator *e, struct emu_req *r, struct arm_path *p)
{
	json_t *parent = NULL, *child = NULL;
	const struct arm_type *t = p->type;
	struct emu_op *busy;
	const char *force = emu_query(r, "force");
	bool found = emu_store_find(e, p->id, &parent, &child, NULL, NULL);
	json_t *obj;
	char *id;

	emu_op_name(r, "delete %s", t->type);
	if (!found || (t->embed != NULL) != (child != NULL)) {
		emu_reply_empty(r, 204);
		return;
	}
	obj = child != NULL ? child : parent;
	if (!if_match_ok(r, obj))
		return;
	busy = lro_busy(e, t->embed != NULL ? p->parent_id : p->id);
	if (busy != NULL) {
		reply_busy(e, r, busy, p->id);
		return;
	}
	id = emu_strdup(json_str(obj, "id") != NULL ? json_str(obj, "id") : p->id);
	if (strcasecmp(t->path, "virtualNetworks/subnets") == 0) {
		const char *user = subnet_user(e, id);
		if (user != NULL) {
			emu_reply_error(r, 400, "InUseSubnetCannotBeDeleted",
			    "Subnet %s is in use by %s and cannot be deleted. In order to delete the subnet, delete all the resources within the subnet.",
			    json_str(obj, "name"), user);
			goto done;
		}
	} else if (strcasecmp(t->path, "virtualNetworks") == 0) {
		json_t *s;
		size_t i;
		json_array_foreach(json_path(obj, "properties", "subnets", NULL), i, s) {
			const char *user = json_str(s, "id") != NULL ? subnet_user(e, json_str(s, "id")) : NULL;
			if (user != NULL) {
				emu_reply_error(r, 400, "InUseSubnetCannotBeDeleted",
				    "Subnet %s is in use by %s and cannot be deleted. In order to delete the subnet, delete all the resources within the subnet.",
				    json_str(s, "name"), user);
				goto done;
			}
		}
	} else if (is_avnm(t)) {
		if (avnm_check_delete(e, r, t->type, id, force != NULL && strcasecmp(force, "true") == 0) != 0)
			goto done;
	}
	if (t->del_dur > 0) {
		char *sub = arm_id_part(id, "subscriptions");
		struct emu_op *op;

		arm_set_state(obj, "Deleting");
		emu_store_touch(e, json_str(parent, "id"));
		op = lro_new(e, OP_DELETE, NULL, id, sub, region_of(e, obj, p->parent_id), t->del_dur);
		free(sub);
		arm_reply_lro(e, r, op, 202, NULL);
	} else {
		struct emu_op fake = { .kind = OP_DELETE, .state = OP_SUCCEEDED };
		fake.target = id;
		arm_op_done(e, &fake);
		emu_reply_empty(r, 200);
	}
done:
	free(id);
}

/* Deletes a resource (top-level or embedded) and what hangs under it. */
static void
remove_resource(struct emulator *e, const char *id)
{
	json_t *parent = NULL, *child = NULL, *arr = NULL;
	size_t idx = 0;
	const char *type;
	char *pid;

	if (!emu_store_find(e, id, &parent, &child, &arr, &idx))
		return;
	if (child != NULL) {
		const char *rid = json_path_str(child, "properties", "remoteVirtualNetwork", "id", NULL);
		char *remote = rid != NULL ? emu_strdup(rid) : NULL;

		pid = emu_strdup(json_str(parent, "id"));
		json_array_remove(arr, idx);
		emu_store_etag(e, parent);
		emu_store_touch(e, pid);
		if (remote != NULL) {
			/* the other side's peering loses its partner */
			json_t *rv = emu_store_get(e, remote);
			if (rv != NULL)
				sync_vnet(e, rv, NULL, json_str(parent, "id"));
			free(remote);
		}
		free(pid);
		return;
	}
	type = json_str(parent, "type");
	pid = emu_strdup(json_str(parent, "id") != NULL ? json_str(parent, "id") : id);
	{
		/* stored children (network groups, members, configurations) go with it */
		char *low = emu_lower(pid), *pref = emu_printf("%s/", low);
		const char **keys;
		size_t n, i, start;
		char **kill = NULL;
		size_t nkill = 0;

		start = emu_store_lower_bound(e, pref);
		emu_store_sorted(e, &keys, &n);
		for (i = start; i < n && strncmp(keys[i], pref, strlen(pref)) == 0; i++) {
			char **nk = realloc(kill, (nkill + 1) * sizeof(*kill));
			if (nk == NULL)
				abort();
			kill = nk;
			kill[nkill++] = emu_strdup(keys[i]);
		}
		for (i = 0; i < nkill; i++) {
			avnm_forget(e, kill[i]);
			emu_store_del(e, kill[i]);
			free(kill[i]);
		}
		free(kill);
		free(low);
		free(pref);
	}
	if (type != NULL && (strcasecmp(type, TYPE_NETWORK_MANAGER) == 0 ||
	    strcasecmp(type, TYPE_CONNECTIVITY_CONFIG) == 0 ||
	    strcasecmp(type, TYPE_NETWORK_GROUP) == 0))
		avnm_forget(e, pid);
	{
		bool vnet = type != NULL && strcasecmp(type, TYPE_VNET) == 0;
		emu_store_del(e, pid);
		if (vnet)
			peerings_sync(e, pid, NULL);
	}
	free(pid);
}

void
arm_op_done(struct emulator *e, struct emu_op *op)
{
	json_t *parent = NULL, *child = NULL, *obj;
	const char *final = op->state == OP_SUCCEEDED ? "Succeeded" :
	    op->state == OP_CANCELED ? "Canceled" : "Failed";

	if (op->kind == OP_DELETE && op->state == OP_SUCCEEDED) {
		remove_resource(e, op->target);
		op->result_status = 204;
		return;
	}
	if (!emu_store_find(e, op->target, &parent, &child, NULL, NULL))
		return;
	obj = child != NULL ? child : parent;
	arm_set_state(obj, final);
	if (child == NULL) {
		/* children written with their parent finish with it */
		const char *props[] = { "subnets", "virtualNetworkPeerings", "routes", "peerings",
			"securityRules" };
		size_t k, i;
		json_t *c;

		for (k = 0; k < 5; k++)
			json_array_foreach(json_path(obj, "properties", props[k], NULL), i, c) {
				const char *st = json_path_str(c, "properties", "provisioningState", NULL);
				if (st != NULL && (strcmp(st, "Updating") == 0 || strcmp(st, "Creating") == 0))
					arm_set_state(c, final);
			}
	}
	emu_store_touch(e, json_str(parent, "id"));
	/* a PUT's result is the resource as it stands when polled (lro.c), not
	 * a copy kept with every finished operation: 10,000 spoke PUTs kept
	 * 150 MB of copies */
	op->result_status = op->kind == OP_DELETE ? 204 : 200;
}

/* --- lists ------------------------------------------------------------------------------- */

struct item {
	const char *key;  /* lowercase id, the order and the skip token */
	json_t *obj;
};

static int
cmp_item(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->key, ((const struct item *)b)->key);
}

static void
reply_page(struct emulator *e, struct emu_req *r, struct item *items, size_t n, unsigned top)
{
	const char *tok = emu_query(r, "$skipToken");
	char *after = NULL;
	size_t i = 0, taken = 0;
	json_t *value = json_array(), *out;

	if (tok != NULL) {
		after = token_decode(tok);
		if (after == NULL) {
			emu_reply_error(r, 400, "InvalidSkipToken", "The $skipToken '%s' is not valid.", tok);
			json_decref(value);
			return;
		}
		while (i < n && strcmp(items[i].key, after) <= 0)
			i++;
	}
	for (; i < n && taken < top; i++, taken++)
		json_array_append_new(value, arm_wire(items[i].obj));
	out = json_pack("{s:o}", "value", value);
	if (i < n) {
		char *t = token_encode(items[i - 1].key);
		const char *api = emu_query(r, "api-version");

		if (emu_query(r, "$top") != NULL)
			json_object_set_new(out, "nextLink", json_sprintf(
			    "%s%s?api-version=%s&$top=%u&$skipToken=%s", r->base, r->path, api, top, t));
		else
			json_object_set_new(out, "nextLink", json_sprintf("%s%s?api-version=%s&$skipToken=%s",
			    r->base, r->path, api, t));
		free(t);
	}
	free(after);
	(void)e;
	emu_reply_json(r, 200, out);
}

static void
list_resources(struct emulator *e, struct emu_req *r, struct arm_path *p)
{
	const struct arm_type *t = p->type;
	struct item *items = NULL;
	size_t n = 0, cap = 0;
	unsigned top;
	char **lowkeys = NULL;
	size_t nlow = 0, i;

	if (parse_top(e, r, &top) != 0)
		return;
	emu_op_name(r, "list %s", t->type);
	if (t->embed != NULL) {
		json_t *pp, *pc, *c;

		if (!emu_store_find(e, p->parent_id, &pp, &pc, NULL, NULL) || pc != NULL) {
			emu_reply_error(r, 404, "ResourceNotFound",
			    "The Resource '%s/%s' under resource group '%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
			    p->ptype->type, last_seg(p->parent_id), p->rg);
			return;
		}
		json_array_foreach(json_path(pp, "properties", t->embed, NULL), i, c) {
			if (n == cap) {
				cap = cap * 2 + 16;
				items = realloc(items, cap * sizeof(*items));
				lowkeys = realloc(lowkeys, cap * sizeof(*lowkeys));
				if (items == NULL || lowkeys == NULL)
					abort();
			}
			lowkeys[nlow] = emu_lower(json_str(c, "id") != NULL ? json_str(c, "id") : "");
			items[n].key = lowkeys[nlow++];
			items[n++].obj = c;
		}
		qsort(items, n, sizeof(*items), cmp_item);
	} else {
		const char **keys;
		size_t nk, start;
		char *pref;

		if (p->parent_id != NULL && p->ptype != NULL) {
			json_t *pp, *pc;
			if (!emu_store_find(e, p->parent_id, &pp, &pc, NULL, NULL) || pc != NULL) {
				emu_reply_error(r, 404, "ParentResourceNotFound",
				    "Can not perform requested operation on nested resource. Parent resource '%s' not found.",
				    last_seg(p->parent_id));
				return;
			}
		}
		if (p->rg != NULL) {
			char *raw = emu_printf("%s/%s/", p->parent_id, type_leaf(t));
			pref = emu_lower(raw);
			free(raw);
		} else {
			char *raw = emu_printf("/subscriptions/%s/", p->sub);
			pref = emu_lower(raw);
			free(raw);
		}
		emu_store_sorted(e, &keys, &nk);
		start = emu_store_lower_bound(e, pref);
		for (i = start; i < nk && strncmp(keys[i], pref, strlen(pref)) == 0; i++) {
			json_t *obj = json_object_get(e->res, keys[i]);
			const char *type = json_str(obj, "type");

			if (type == NULL || strcasecmp(type, t->type) != 0)
				continue;
			/* direct children only */
			if (p->rg != NULL && strchr(keys[i] + strlen(pref), '/') != NULL)
				continue;
			if (n == cap) {
				cap = cap * 2 + 16;
				items = realloc(items, cap * sizeof(*items));
				if (items == NULL)
					abort();
			}
			items[n].key = keys[i];
			items[n++].obj = obj;
		}
		free(pref);
	}
	reply_page(e, r, items, n, top);
	for (i = 0; i < nlow; i++)
		free(lowkeys[i]);
	free(lowkeys);
	free(items);
}

bool
arm_api_resources_ok(struct emu_req *r)
{
	return api_check(r, api_resources, "Microsoft.Resources");
}

/* --- dispatch ------------------------------------------------------------------------------ */

enum emu_class
arm_classify(const struct emu_req *r, char *sub, size_t subsize)
{
	const char *p = r->path;

	sub[0] = '\0';
	if (strncasecmp(p, "/subscriptions/", 15) == 0) {
		const char *s = p + 15, *end = strchr(s, '/');
		size_t len = end != NULL ? (size_t)(end - s) : strlen(s);

		if (len < subsize) {
			memcpy(sub, s, len);
			sub[len] = '\0';
		}
	}
	if (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0)
		return EMU_CLASS_READ;
	if (strcmp(r->method, "DELETE") == 0)
		return EMU_CLASS_DELETE;
	return EMU_CLASS_WRITE;
}

static void
network(struct emulator *e, struct emu_req *r, struct arm_path *p)
{
	if (p->nrest == 0) {
		emu_reply_error(r, 404, "InvalidResourceType",
		    "The resource type '' could not be found in the namespace 'Microsoft.Network' for api version '%s'.",
		    emu_query(r, "api-version"));
		return;
	}
	/* operation status: /subscriptions/S/providers/Microsoft.Network/locations/L/operations/ID */
	if (p->rg == NULL && strcasecmp(p->rest[0], "locations") == 0) {
		if (p->nrest == 4 && strcmp(r->method, "GET") == 0 &&
		    (strcasecmp(p->rest[2], "operations") == 0 ||
		    strcasecmp(p->rest[2], "operationResults") == 0)) {
			if (!api_check(r, api_network, "Microsoft.Network"))
				return;
			lro_handle_status(e, r, p->rest[3], strcasecmp(p->rest[2], "operationResults") == 0);
			return;
		}
		emu_reply_error(r, 404, "InvalidResourceType",
		    "The resource type 'locations/%s' could not be found in the namespace 'Microsoft.Network' for api version '%s'.",
		    p->nrest > 2 ? p->rest[2] : "", emu_query(r, "api-version"));
		return;
	}
	if (p->rg == NULL) {
		/* subscription scope: only lists of top-level types */
		const struct arm_type *t = p->nrest == 1 ? type_find(p->rest[0]) : NULL;

		if (!api_check(r, api_network, "Microsoft.Network"))
			return;
		if (t == NULL || strchr(t->path, '/') != NULL) {
			emu_reply_error(r, 404, "InvalidResourceType",
			    "The resource type '%s' could not be found in the namespace 'Microsoft.Network' for api version '%s'.",
			    p->rest[0], emu_query(r, "api-version"));
			return;
		}
		if (strcmp(r->method, "GET") != 0) {
			emu_reply_error(r, 405, "MethodNotAllowed",
			    "The requested resource does not support http method '%s'.", r->method);
			return;
		}
		p->type = t;
		p->collection = true;
		list_resources(e, r, p);
		return;
	}
	if (!api_check(r, api_network, "Microsoft.Network"))
		return;
	if (path_resolve(r, p) != 0)
		return;
	if (p->action != NULL) {
		json_t *pp, *pc;

		if (strcmp(r->method, "POST") != 0) {
			emu_reply_error(r, 405, "MethodNotAllowed",
			    "The requested resource does not support http method '%s'.", r->method);
			return;
		}
		if (r->body_len > 0 && r->parsed == NULL) {
			emu_reply_error(r, 400, "InvalidRequestContent",
			    "The request content was invalid and could not be deserialized: 'the request body is not valid JSON'.");
			return;
		}
		if (!emu_store_find(e, p->id, &pp, &pc, NULL, NULL)) {
			reply_not_found(r, p, false);
			return;
		}
		emu_op_name(r, "action %s", p->action);
		if (strcmp(p->action, "routeTables") == 0) {
			char *circuit = arm_id_parent(p->id);
			effective_circuit_action(e, r, circuit, last_seg(p->id), p->name);
			free(circuit);
		} else if (strcmp(p->action, "effectiveRouteTable") == 0) {
			effective_nic_action(e, r, json_str(pp, "id"));
		} else if (strstr(p->action, "Migration") != NULL) {
			gateway_action(e, r, json_str(pp, "id"), p->action, r->parsed);
		} else {
			avnm_action(e, r, json_str(pp, "id"), p->action, r->parsed);
		}
		return;
	}
	if (p->collection) {
		if (strcmp(r->method, "GET") != 0) {
			emu_reply_error(r, 405, "MethodNotAllowed",
			    "The requested resource does not support http method '%s'.", r->method);
			return;
		}
		list_resources(e, r, p);
		return;
	}
	if (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0)
		get_resource(e, r, p);
	else if (strcmp(r->method, "PUT") == 0)
		put_resource(e, r, p);
	else if (strcmp(r->method, "PATCH") == 0)
		patch_resource(e, r, p);
	else if (strcmp(r->method, "DELETE") == 0)
		delete_resource(e, r, p);
	else
		emu_reply_error(r, 405, "MethodNotAllowed",
		    "The requested resource does not support http method '%s'.", r->method);
}

void
arm_handle(struct emulator *e, struct emu_req *r)
{
	char **seg;
	size_t n = split(r->path, &seg);
	struct arm_path p = { 0 };
	const char *ns = NULL;

	if (n < 2 || strcasecmp(seg[0], "subscriptions") != 0) {
		emu_reply_error(r, 404, "NotFound", "The requested path '%s' was not found.", r->path);
		goto done;
	}
	p.sub = seg[1];
	r->subscription = seg[1];
	if (n == 2) {
		if (!api_check(r, api_resources, "Microsoft.Resources"))
			goto done;
		if (!emu_store_sub_exists(e, seg[1])) {
			emu_reply_error(r, 404, "SubscriptionNotFound",
			    "The subscription '%s' could not be found.", seg[1]);
			goto done;
		}
		emu_op_name(r, "get subscription");
		emu_reply_json(r, 200, json_pack("{s:o,s:s,s:s,s:s}", "id",
		    json_sprintf("/subscriptions/%s", seg[1]), "subscriptionId", seg[1], "displayName",
		    tenant_sub_name(e, seg[1]), "state", "Enabled"));
		goto done;
	}
	if (strcasecmp(seg[2], "resourceGroups") == 0) {
		bool listing = n == 5 && strcasecmp(seg[4], "resources") == 0;

		if (n == 3 || n == 4 || listing) {
			if (!emu_store_sub_exists(e, seg[1])) {
				emu_reply_error(r, 404, "SubscriptionNotFound",
				    "The subscription '%s' could not be found.", seg[1]);
				goto done;
			}
			rgroups_handle(e, r, seg[1], n >= 4 ? seg[3] : NULL, listing);
			goto done;
		}
		p.rg = seg[3];
		if (n < 6 || strcasecmp(seg[4], "providers") != 0) {
			emu_reply_error(r, 404, "NotFound", "The requested path '%s' was not found.", r->path);
			goto done;
		}
		ns = seg[5];
		p.rest = seg + 6;
		p.nrest = n - 6;
	} else if (strcasecmp(seg[2], "providers") == 0 && n >= 4) {
		ns = seg[3];
		p.rest = seg + 4;
		p.nrest = n - 4;
	} else {
		emu_reply_error(r, 404, "NotFound", "The requested path '%s' was not found.", r->path);
		goto done;
	}
	if (strcasecmp(ns, "Microsoft.Resources") == 0 && p.rg != NULL && p.nrest >= 1 &&
	    strcasecmp(p.rest[0], "deployments") == 0) {
		deployments_handle(e, r, seg[1], p.rg, p.nrest >= 2 ? p.rest[1] : NULL, p.nrest);
		goto done;
	}
	if (strcasecmp(ns, "Microsoft.Features") == 0 ||
	    (p.rg == NULL && strcasecmp(ns, "Microsoft.Network") == 0 &&
	    (p.nrest == 0 || (p.nrest == 1 && strcasecmp(p.rest[0], "register") == 0)))) {
		if (!emu_store_sub_exists(e, seg[1])) {
			emu_reply_error(r, 404, "SubscriptionNotFound",
			    "The subscription '%s' could not be found.", seg[1]);
			goto done;
		}
		features_handle(e, r, seg[1], seg + 3, n - 3);
		goto done;
	}
	if (strcasecmp(ns, "Microsoft.Network") != 0) {
		emu_reply_error(r, 404, "InvalidResourceNamespace",
		    "The resource namespace '%s' is invalid.", ns);
		goto done;
	}
	if (emu_query(r, "api-version") == NULL || !in_list(emu_query(r, "api-version"), api_network)) {
		api_check(r, api_network, "Microsoft.Network");
		goto done;
	}
	if (!emu_store_sub_exists(e, seg[1])) {
		emu_reply_error(r, 404, "SubscriptionNotFound", "The subscription '%s' could not be found.",
		    seg[1]);
		goto done;
	}
	if (p.rg != NULL && !emu_store_rg_exists(e, seg[1], p.rg)) {
		emu_reply_error(r, 404, "ResourceGroupNotFound", "Resource group '%s' could not be found.",
		    p.rg);
		goto done;
	}
	network(e, r, &p);
done:
	r->subscription = NULL;
	path_free(&p);
	split_free(seg, n);
}
