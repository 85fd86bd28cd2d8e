/*
 * Pass 2 of the topology loader (plan/topology_impl.h): each VNet with its
 * subnets, peerings and address prefixes, and the checks on them
 * (overlaps inside a VNet, subnets outside its space).
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/jsonutil.h"
#include "plan/topology_impl.h"
#include "plan/vec.h"

/* ------------------------------------------------------------------ */
/* Pass 2: VNets (subnets, peerings, prefixes and their checks)        */

static bool
is_infrastructure_subnet(const char *name)
{
	static const char *const names[] = {
		"GatewaySubnet", "AzureFirewallSubnet", "AzureFirewallManagementSubnet",
		"RouteServerSubnet", "AzureBastionSubnet",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (tl_ascii_eq(name, names[i]))
			return true;
	return false;
}

/* A name from obj.name, else the last segment of obj.id; fails when neither. */
int
tl_get_child_name(struct loader *l, const json_t *obj, const char **id, const char **name,
    const char *what)
{
	const char *slash;
	int rc;

	if ((rc = tl_get_string(l, obj, "id", false, id)) != 0)
		return rc;
	if ((rc = tl_get_string(l, obj, "name", false, name)) != 0)
		return rc;
	if (*name == NULL && *id != NULL && (slash = strrchr(*id, '/')) != NULL && slash[1] != '\0')
		*name = slash + 1;
	if (*name == NULL || (*name)[0] == '\0')
		return tl_fail(l, "%s has no \"name\"", what);
	return 0;
}

/* "<parent>/<segment>/<name>" in the arena, for children ARM listed without an id. */
static const char *
child_id(struct loader *l, const char *parent, const char *segment, const char *name)
{
	size_t n = strlen(parent) + strlen(segment) + strlen(name) + 3;
	char *s = tl_arena_alloc(l->arena, n);

	if (s != NULL)
		snprintf(s, n, "%s/%s/%s", parent, segment, name);
	return s;
}

static int
load_subnet(struct loader *l, void *elem, json_t *obj, void *arg)
{
	struct topo_vnet *v = arg;
	struct topo_subnet *s = elem;
	json_t *props;
	struct topo_prefixes many;
	struct cidr one;
	bool has_one = false;
	size_t old, k;
	void *prev = NULL;
	int rc;

	if (!json_is_object(obj))
		return tl_fail(l, "expected a subnet object, found %s", tl_kind_name(obj));
	s->json = obj;
	s->vnet = v;
	if ((rc = tl_get_child_name(l, obj, &s->id, &s->name, "subnet")) != 0)
		return rc;
	if (s->id == NULL && (s->id = child_id(l, v->res->id, "subnets", s->name)) == NULL)
		return tl_fail_nomem(l);
	rc = tl_index_put(l->t->index, v, s->name, strlen(s->name), s, &prev);
	if (rc < 0)
		return tl_fail_nomem(l);
	if (rc > 0)
		return tl_fail_at(l, "name", "duplicate subnet name \"%s\" in VNet \"%s\" (subnet \"%s\")",
		    s->name, v->res->name, ((struct topo_subnet *)prev)->name);
	s->is_gateway_subnet = tl_ascii_eq(s->name, "GatewaySubnet");
	s->is_infrastructure = is_infrastructure_subnet(s->name);
	if ((rc = tl_get_object(l, obj, "properties", &props)) != 0 || props == NULL)
		return rc;
	old = tl_ptr_push(l, "properties");
	if (tl_field(props, "addressPrefix") != NULL) {
		size_t o2 = tl_ptr_push(l, "addressPrefix");
		if ((rc = tl_parse_prefix(l, tl_field(props, "addressPrefix"), &one)) != 0)
			return rc;
		tl_ptr_pop(l, o2);
		has_one = true;
	}
	if ((rc = tl_get_prefixes(l, props, "addressPrefixes", &many)) != 0)
		return rc;
	/* ARM sends addressPrefix for one prefix and addressPrefixes for several;
	 * a file may carry both, so the same prefix twice counts once. */
	if (has_one) {
		bool dup = false;
		for (k = 0; k < many.n; k++)
			dup = dup || cidr_equal(&many.v[k], &one);
		if (!dup) {
			struct cidr *nv = tl_arena_alloc(l->arena, (many.n + 1) * sizeof(*nv));
			if (nv == NULL)
				return tl_fail_nomem(l);
			nv[0] = one;
			if (many.n > 0)
				memcpy(nv + 1, many.v, many.n * sizeof(*nv));
			many.v = nv;
			many.n++;
		}
	}
	s->prefixes = many;
	if ((rc = tl_get_ref(l, props, "routeTable", &s->route_table_id)) != 0)
		return rc;
	if ((rc = tl_get_string(l, props, "privateEndpointNetworkPolicies", false,
	    &s->pe_network_policies)) != 0)
		return rc;
	tl_ptr_pop(l, old);
	return 0;
}

static enum topo_peering_state
peering_state(const char *s)
{
	if (s == NULL)
		return PEERING_UNKNOWN;
	if (tl_ascii_eq(s, "Initiated"))
		return PEERING_INITIATED;
	if (tl_ascii_eq(s, "Connected"))
		return PEERING_CONNECTED;
	if (tl_ascii_eq(s, "Disconnected"))
		return PEERING_DISCONNECTED;
	return PEERING_UNKNOWN;
}

static int
load_peering(struct loader *l, void *elem, json_t *obj, void *arg)
{
	struct topo_vnet *v = arg;
	struct topo_peering *p = elem;
	struct topo_prefixes other;
	json_t *props;
	const char *state;
	bool present;
	size_t old;
	int rc;

	if (!json_is_object(obj))
		return tl_fail(l, "expected a peering object, found %s", tl_kind_name(obj));
	p->json = obj;
	p->vnet = v;
	p->allow_virtual_network_access = true;
	if ((rc = tl_get_child_name(l, obj, &p->id, &p->name, "peering")) != 0)
		return rc;
	if (p->id == NULL &&
	    (p->id = child_id(l, v->res->id, "virtualNetworkPeerings", p->name)) == NULL)
		return tl_fail_nomem(l);
	if ((rc = tl_get_object(l, obj, "properties", &props)) != 0)
		return rc;
	if (props == NULL)
		return tl_fail(l, "peering \"%s\" has no properties.remoteVirtualNetwork.id", p->name);
	old = tl_ptr_push(l, "properties");
	if ((rc = tl_get_ref(l, props, "remoteVirtualNetwork", &p->remote_id)) != 0)
		return rc;
	if (p->remote_id == NULL)
		return tl_fail(l, "peering \"%s\" has no remoteVirtualNetwork.id", p->name);
	if ((rc = tl_get_string(l, props, "peeringState", false, &state)) != 0)
		return rc;
	p->state = peering_state(state);
	if ((rc = tl_get_bool(l, props, "allowVirtualNetworkAccess", true,
	    &p->allow_virtual_network_access)) != 0 ||
	    (rc = tl_get_bool(l, props, "allowForwardedTraffic", false, &p->allow_forwarded_traffic)) != 0 ||
	    (rc = tl_get_bool(l, props, "allowGatewayTransit", false, &p->allow_gateway_transit)) != 0 ||
	    (rc = tl_get_bool(l, props, "useRemoteGateways", false, &p->use_remote_gateways)) != 0)
		return rc;
	if ((rc = tl_get_address_space(l, props, "remoteVirtualNetworkAddressSpace",
	    &p->remote_prefixes, &present)) != 0)
		return rc;
	if ((rc = tl_get_address_space(l, props, "remoteAddressSpace", &other, NULL)) != 0)
		return rc;
	if (!present)
		p->remote_prefixes = other;
	tl_ptr_pop(l, old);
	return 0;
}

static int
cmp_cidr(const void *a, const void *b)
{
	return cidr_compare(a, b);
}

static int
cmp_pfx_ref(const void *a, const void *b)
{
	const struct pfx_ref *x = a, *y = b;
	int c = cidr_compare(&x->c, &y->c);

	if (c == 0)
		c = CMP3(x->subnet, y->subnet);
	return c != 0 ? c : CMP3(x->slot, y->slot);
}

/* Points l->ptr at the JSON string a pfx_ref came from (inside /resources/i/properties). */
static void
ptr_pfx_ref(struct loader *l, const struct pfx_ref *r)
{
	tl_ptr_push(l, "subnets");
	tl_ptr_push_index(l, r->subnet);
	tl_ptr_push(l, "properties");
	if (r->slot < 0) {
		tl_ptr_push(l, "addressPrefix");
	} else {
		tl_ptr_push(l, "addressPrefixes");
		tl_ptr_push_index(l, (size_t)r->slot);
	}
}

/* Which prefix of the subnet object this is: -1 addressPrefix, k addressPrefixes[k]. */
static long
prefix_slot(const struct topo_subnet *s, const struct cidr *c)
{
	json_t *props = json_object_get(s->json, "properties");
	json_t *one = json_object_get(props, "addressPrefix"), *arr, *v;
	struct cidr tmp;
	size_t k;

	if (json_is_string(one) && cidr_parse(&tmp, json_string_value(one), NULL) == 0 &&
	    cidr_equal(&tmp, c))
		return -1;
	arr = json_object_get(props, "addressPrefixes");
	json_array_foreach(arr, k, v) {
		if (json_is_string(v) && cidr_parse(&tmp, json_string_value(v), NULL) == 0 &&
		    cidr_equal(&tmp, c))
			return (long)k;
	}
	return -1;
}

/* "10.0.0.0/16, fd00::/48" for a message, cut short with "..." when long. */
static void
format_space(const struct topo_prefixes *p, char *out, size_t size)
{
	char buf[CIDR_STRLEN];
	size_t len = 0, m;

	out[0] = '\0';
	for (m = 0; m < p->n && len + CIDR_STRLEN + 8 < size; m++) {
		cidr_format(&p->v[m], buf);
		len += (size_t)snprintf(out + len, size - len, "%s%s", m > 0 ? ", " : "", buf);
	}
	if (m < p->n)
		snprintf(out + len, size - len, ", ...");
}

/*
 * Every subnet prefix inside the VNet's space, and no two subnets
 * overlapping: sorted once, then one sweep, so a VNet with thousands of
 * subnets costs n log n.
 */
static int
check_vnet_prefixes(struct loader *l, struct topo_vnet *v)
{
	struct pfx_ref *refs;
	struct cidr *space;
	size_t nrefs = 0, nspace = 0, i, j, k, cur;
	char buf[CIDR_STRLEN], buf2[CIDR_STRLEN], list[512];

	for (j = 0; j < v->nsubnets; j++)
		nrefs += v->subnets[j].prefixes.n;
	if (nrefs == 0)
		return 0;
	if (nrefs > l->refs_cap) {
		free(l->refs);
		l->refs_cap = nrefs * 2;
		if ((l->refs = malloc(l->refs_cap * sizeof(*l->refs))) == NULL) {
			l->refs_cap = 0;
			return tl_fail_nomem(l);
		}
	}
	if (v->prefixes.n > l->space_cap) {
		free(l->space);
		l->space_cap = v->prefixes.n * 2;
		if ((l->space = malloc(l->space_cap * sizeof(*l->space))) == NULL) {
			l->space_cap = 0;
			return tl_fail_nomem(l);
		}
	}
	refs = l->refs;
	space = l->space;

	/* The VNet's space without nested prefixes, sorted: the one prefix that
	 * can contain p is then the greatest one not after p. */
	if (v->prefixes.n > 0) {
		memcpy(space, v->prefixes.v, v->prefixes.n * sizeof(*space));
		qsort(space, v->prefixes.n, sizeof(*space), cmp_cidr);
		for (i = 0; i < v->prefixes.n; i++) {
			if (nspace > 0 && cidr_contains(&space[nspace - 1], &space[i]))
				continue;
			space[nspace++] = space[i];
		}
	}
	nrefs = 0;
	for (j = 0; j < v->nsubnets; j++) {
		struct topo_subnet *s = &v->subnets[j];

		for (k = 0; k < s->prefixes.n; k++) {
			struct pfx_ref *r = &refs[nrefs++];
			size_t lo = 0, hi = nspace;

			r->c = s->prefixes.v[k];
			r->last = cidr_last(&r->c);
			r->subnet = j;
			r->slot = -1; /* found only when a message needs it */
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;
				if (cidr_compare(&space[mid], &r->c) <= 0)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo > 0 && cidr_contains(&space[lo - 1], &r->c))
				continue;
			r->slot = prefix_slot(s, &r->c);
			ptr_pfx_ref(l, r);
			cidr_format(&r->c, buf);
			if (v->prefixes.n == 0)
				return tl_fail(l, "subnet \"%s\" prefix %s lies outside the address space of "
				    "VNet \"%s\", which has none", s->name, buf, v->res->name);
			format_space(&v->prefixes, list, sizeof(list));
			return tl_fail(l, "subnet \"%s\" prefix %s lies outside the address space of "
			    "VNet \"%s\" (%s)", s->name, buf, v->res->name, list);
		}
	}

	qsort(refs, nrefs, sizeof(*refs), cmp_pfx_ref);
	/* cur reaches furthest so far: sorted by start, a prefix that starts
	 * after cur's end also ends after it, and one that starts within it
	 * overlaps it. */
	cur = 0;
	for (i = 1; i < nrefs; i++) {
		struct pfx_ref *a = &refs[cur], *b = &refs[i];
		struct topo_subnet *sa, *sb;
		char other[PTR_MAX];
		size_t old;

		if (a->c.family != b->c.family || memcmp(b->c.addr, a->last.addr, sizeof(b->c.addr)) > 0) {
			cur = i;
			continue;
		}
		sa = &v->subnets[a->subnet];
		sb = &v->subnets[b->subnet];
		old = l->plen;
		a->slot = prefix_slot(sa, &a->c);
		b->slot = prefix_slot(sb, &b->c);
		ptr_pfx_ref(l, a);
		snprintf(other, sizeof(other), "%s", l->ptr);
		tl_ptr_pop(l, old);
		ptr_pfx_ref(l, b);
		cidr_format(&a->c, buf);
		cidr_format(&b->c, buf2);
		if (a->subnet == b->subnet)
			return tl_fail(l, "prefixes %s and %s of subnet \"%s\" overlap (the other is at %s)",
			    buf2, buf, sb->name, other);
		return tl_fail(l, "subnet \"%s\" prefix %s overlaps subnet \"%s\" prefix %s at %s",
		    sb->name, buf2, sa->name, buf, other);
	}
	return 0;
}

int
tl_load_vnet(struct loader *l, struct topo_vnet *v)
{
	json_t *props;
	size_t old;
	int rc;

	if ((rc = tl_get_object(l, v->res->json, "properties", &props)) != 0 || props == NULL)
		return rc;
	old = tl_ptr_push(l, "properties");
	if ((rc = tl_get_address_space(l, props, "addressSpace", &v->prefixes, NULL)) != 0)
		return rc;
	if ((rc = tl_get_address_space(l, props, "summarizedGatewayPrefixes", &v->summarized, NULL)) != 0)
		return rc;
	if ((rc = tl_get_string(l, props, "privateEndpointVNetPolicies", false, &v->pe_vnet_policies)) != 0)
		return rc;

	if ((rc = tl_load_array(l, props, "subnets", sizeof(*v->subnets), &v->subnets, &v->nsubnets,
	    load_subnet, v)) != 0 ||
	    (rc = tl_load_array(l, props, "virtualNetworkPeerings", sizeof(*v->peerings), &v->peerings,
	    &v->npeerings, load_peering, v)) != 0)
		return rc;
	if ((rc = check_vnet_prefixes(l, v)) != 0)
		return rc;
	tl_ptr_pop(l, old);
	return 0;
}
