/*
 * Circuit and BGP sanity (see circuits.h): the rules `netwave check` runs
 * on every circuit and `netwave preflight` on the circuits a plan depends
 * on.  Each rule names the Microsoft Learn page it follows; where Learn is
 * silent the rule says so and docs/topology.md repeats it.
 *
 *   ROUTING  https://learn.microsoft.com/azure/expressroute/expressroute-routing
 *   PEERING  https://learn.microsoft.com/azure/expressroute/expressroute-howto-routing-arm
 *   LIMITS   plan/limits.c (azure-subscription-service-limits#expressroute-limits)
 *
 * Findings are appended to a struct findings the caller may already have
 * filled; the caller sorts.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/circuits.h"
#include "plan/limits.h"

#define LEARN_ROUTING "https://learn.microsoft.com/azure/expressroute/expressroute-routing"
#define LEARN_PEERING "https://learn.microsoft.com/azure/expressroute/expressroute-howto-routing-arm"

/* Microsoft's own AS on every peering (ROUTING, "Autonomous System numbers"). */
#define AZURE_ASN 12076LL

struct sanity {
	struct findings_sink out;      /* cap: what the caller left is taken as full */
	const struct topology *t;
	const struct routes_ctx *ctx;
	struct cidr_table *vnet_space; /* every VNet address prefix -> its VNet */
};

static const char *
peering_name(const struct topo_circuit_peering *p)
{
	return p->name != NULL ? p->name : "(unnamed peering)";
}

static const char *
peering_res(const struct topo_circuit *c, const struct topo_circuit_peering *p)
{
	return p->id != NULL ? p->id : c->res->id;
}

/* The Azure private peering: by peeringType, else by its fixed name. */
static const struct topo_circuit_peering *
private_peering(const struct topo_circuit *c)
{
	size_t i;

	for (i = 0; i < c->npeerings; i++) {
		const struct topo_circuit_peering *p = &c->peerings[i];
		const char *kind = p->peering_type != NULL ? p->peering_type : p->name;

		if (kind != NULL && strcasecmp(kind, "AzurePrivatePeering") == 0)
			return p;
	}
	return NULL;
}

static bool
is_premium(const struct topo_circuit *c)
{
	const json_t *sku = json_object_get(c->res->json, "sku");
	const char *name = json_string_value(json_object_get(sku, "name"));

	if (c->sku_tier != NULL)
		return strcasecmp(c->sku_tier, "Premium") == 0;
	return name != NULL && strncasecmp(name, "Premium", 7) == 0;
}

/*
 * Present and provisioned.  A file that does not carry properties.peerings
 * at all (hand-written, not discovered) is not judged: ARM's GET always
 * returns the array, so an empty one means no peering is configured.
 */
static const struct topo_circuit_peering *
check_presence(struct sanity *s, const struct topo_circuit *c, bool depended_on)
{
	const struct topo_circuit_peering *p = private_peering(c);
	bool listed = json_object_get(json_object_get(c->res->json, "properties"), "peerings") != NULL;
	const char *user = c->nconnections > 0 ? c->connections[0]->res->name : NULL;

	if (p == NULL) {
		if (!listed && !depended_on)
			return NULL;
		if (!listed)
			findings_add(&s->out, SEV_WARNING, "circuit-peerings-unknown", c->res->id,
			    "the topology does not carry circuit %s's peerings; run discover again so "
			    "its private peering can be checked", c->res->name);
		else
			findings_add(&s->out, user != NULL || depended_on ? SEV_ERROR : SEV_WARNING,
			    "circuit-private-peering-missing", c->res->id,
			    "circuit %s has no Azure private peering%s%s%s; configure AzurePrivatePeering "
			    "on the circuit (%s)", c->res->name, user != NULL ? ", but connection " : "",
			    user != NULL ? user : "", user != NULL ? " uses it" : "", LEARN_PEERING);
		return NULL;
	}
	if (p->state != NULL && strcasecmp(p->state, "Enabled") != 0)
		findings_add(&s->out, SEV_ERROR, "circuit-private-peering-disabled", peering_res(c, p),
		    "private peering %s of circuit %s is %s, not Enabled: no routes cross it; enable "
		    "the peering before migrating its gateways", peering_name(p), c->res->name, p->state);
	if (p->provisioning_state != NULL && strcasecmp(p->provisioning_state, "Succeeded") != 0)
		findings_add(&s->out, SEV_ERROR, "circuit-private-peering-not-provisioned", peering_res(c, p),
		    "private peering %s of circuit %s is in provisioning state %s, not Succeeded; wait "
		    "for it or correct it before migrating", peering_name(p), c->res->name,
		    p->provisioning_state);
	return p;
}

/*
 * IANA's special-purpose AS numbers: 0 (RFC 7607), AS_TRANS 23456
 * (RFC 6793), documentation 64496-64511 and 65536-65551 (RFC 5398), the
 * last ASNs 65535 and 4294967295 (RFC 7300).  Learn does not say whether
 * ExpressRoute refuses them on private peering, so they are a warning.
 * https://www.iana.org/assignments/as-numbers/as-numbers.xhtml
 */
static bool
iana_reserved(long long asn)
{
	return asn == 0 || asn == 23456 || (asn >= 64496 && asn <= 64511) || asn == 65535 ||
	    (asn >= 65536 && asn <= 65551) || asn == 4294967295LL;
}

static void
check_asn(struct sanity *s, const struct topo_circuit *c, const struct topo_circuit_peering *p)
{
	const char *res = peering_res(c, p), *pn = peering_name(p);

	if (p->peer_asn < 0)
		findings_add(&s->out, SEV_ERROR, "circuit-peer-asn-missing", res,
		    "private peering %s of circuit %s has no peerASN; set the on-premises AS number "
		    "(%s)", pn, c->res->name, LEARN_PEERING);
	else if (p->peer_asn >= 65515 && p->peer_asn <= 65520)
		/* ROUTING: "reserved ASNs from 65515 to 65520 for internal use" */
		findings_add(&s->out, SEV_ERROR, "circuit-peer-asn-reserved", res,
		    "private peering %s of circuit %s uses peer ASN %lld, which Azure reserves "
		    "(65515-65520); renumber the on-premises AS (%s)", pn, c->res->name, p->peer_asn,
		    LEARN_ROUTING);
	else if (p->peer_asn == AZURE_ASN || (p->azure_asn > 0 && p->peer_asn == p->azure_asn))
		findings_add(&s->out, SEV_ERROR, "circuit-peer-asn-reserved", res,
		    "private peering %s of circuit %s uses peer ASN %lld, Microsoft's own AS on the "
		    "peering: the eBGP session cannot form; renumber the on-premises AS (%s)", pn,
		    c->res->name, p->peer_asn, LEARN_ROUTING);
	else if (iana_reserved(p->peer_asn))
		findings_add(&s->out, SEV_WARNING, "circuit-peer-asn-iana-reserved", res,
		    "private peering %s of circuit %s uses peer ASN %lld, which IANA reserves (RFC 5398, "
		    "6793, 7300, 7607); use an assigned or private AS number", pn, c->res->name,
		    p->peer_asn);
}

/*
 * PEERING asks for "a valid VLAN ID" that no other peering of the circuit
 * uses; Learn gives no range, so IEEE 802.1Q's 1-4094 is applied (0 and
 * 4095 are reserved by the standard).
 */
static void
check_vlans(struct sanity *s, const struct topo_circuit *c, const struct topo_circuit_peering *priv)
{
	size_t i, j;

	if (priv != NULL && priv->vlan_id < 0)
		findings_add(&s->out, SEV_ERROR, "circuit-vlan-invalid", peering_res(c, priv),
		    "private peering %s of circuit %s has no vlanId; set the VLAN the provider "
		    "delivers it on (%s)", peering_name(priv), c->res->name, LEARN_PEERING);
	for (i = 0; i < c->npeerings; i++) {
		const struct topo_circuit_peering *p = &c->peerings[i];

		if (p->vlan_id < 0)
			continue;
		if (p->vlan_id < 1 || p->vlan_id > 4094)
			findings_add(&s->out, SEV_ERROR, "circuit-vlan-invalid", peering_res(c, p),
			    "peering %s of circuit %s uses VLAN %lld, outside 1-4094 (IEEE 802.1Q); "
			    "use the VLAN the provider assigned (%s)", peering_name(p), c->res->name,
			    p->vlan_id, LEARN_PEERING);
		for (j = 0; j < i; j++)
			if (c->peerings[j].vlan_id == p->vlan_id)
				findings_add(&s->out, SEV_ERROR, "circuit-vlan-duplicate", peering_res(c, p),
				    "peerings %s and %s of circuit %s both use VLAN %lld; no two "
				    "peerings of a circuit may share one (%s)", peering_name(&c->peerings[j]),
				    peering_name(p), c->res->name, p->vlan_id, LEARN_PEERING);
	}
}

/* The VNet whose address space holds prefix, or NULL. */
static const struct topo_vnet *
vnet_holding(const struct sanity *s, const struct cidr *prefix, struct cidr *space)
{
	return s->vnet_space != NULL ? cidr_table_lookup(s->vnet_space, prefix, space) : NULL;
}

/* One /30 (or /126) link subnet: its length and VNet space. */
static void
check_link(struct sanity *s, const struct topo_circuit *c, const struct topo_circuit_peering *p,
    const char *which, const struct cidr *pfx, unsigned family)
{
	const struct topo_vnet *v;
	char buf[CIDR_STRLEN], sp[CIDR_STRLEN];
	struct cidr space;
	unsigned want = family == 4 ? 30 : 126;

	cidr_format(pfx, buf);
	if (pfx->family != family || pfx->len != want) {
		/* ROUTING, "IP addresses used for Azure private peering": two /30 (IPv6: /126) */
		findings_add(&s->out, SEV_ERROR, "circuit-peer-prefix-length", peering_res(c, p),
		    "private peering %s of circuit %s has %s %s, not an IPv%u /%u; give each link its "
		    "own /%u (%s)", peering_name(p), c->res->name, which, buf, family, want, want,
		    LEARN_ROUTING);
		return;
	}
	if ((v = vnet_holding(s, pfx, &space)) != NULL) {
		cidr_format(&space, sp);
		findings_add(&s->out, SEV_ERROR, "circuit-peer-prefix-vnet-overlap", peering_res(c, p),
		    "private peering %s of circuit %s has %s %s inside VNet %s's address space %s; "
		    "the link subnets must not overlap any VNet (%s)", peering_name(p), c->res->name,
		    which, buf, v->res->name, sp, LEARN_ROUTING);
	}
}

/* A primary/secondary pair of one family: both there, well formed, distinct. */
static void
check_pair(struct sanity *s, const struct topo_circuit *c, const struct topo_circuit_peering *p,
    bool has1, const struct cidr *a, bool has2, const struct cidr *b, unsigned family)
{
	char x[CIDR_STRLEN], y[CIDR_STRLEN];

	if (has1 != has2) {
		findings_add(&s->out, SEV_ERROR, "circuit-peer-prefix-missing", peering_res(c, p),
		    "private peering %s of circuit %s has a %s IPv%u peer prefix but no %s one; both "
		    "links need one (%s)", peering_name(p), c->res->name,
		    has1 ? "primary" : "secondary", family, has1 ? "secondary" : "primary",
		    LEARN_ROUTING);
		return;
	}
	if (!has1)
		return;
	check_link(s, c, p, "primaryPeerAddressPrefix", a, family);
	check_link(s, c, p, "secondaryPeerAddressPrefix", b, family);
	if (cidr_overlaps(a, b)) {
		cidr_format(a, x);
		cidr_format(b, y);
		findings_add(&s->out, SEV_ERROR, "circuit-peer-prefix-overlap", peering_res(c, p),
		    "private peering %s of circuit %s uses %s for the primary link and %s for the "
		    "secondary: they overlap; use two distinct /%u (%s)", peering_name(p),
		    c->res->name, x, y, family == 4 ? 30 : 126, LEARN_ROUTING);
	}
}

static void
check_prefixes(struct sanity *s, const struct topo_circuit *c, const struct topo_circuit_peering *p)
{
	if (!p->has_primary && !p->has_secondary && !p->has_primary_v6 && !p->has_secondary_v6) {
		findings_add(&s->out, SEV_ERROR, "circuit-peer-prefix-missing", peering_res(c, p),
		    "private peering %s of circuit %s has no peer address prefixes; give it two /30 "
		    "(or two /126) link subnets (%s)", peering_name(p), c->res->name, LEARN_ROUTING);
		return;
	}
	check_pair(s, c, p, p->has_primary, &p->primary, p->has_secondary, &p->secondary, 4);
	check_pair(s, c, p, p->has_primary_v6, &p->primary_v6, p->has_secondary_v6,
	    &p->secondary_v6, 6);
}

/* Error over the limit (the BGP session drops, ROUTING), warning at 80 % or more. */
static void
check_count(struct sanity *s, const char *code, const char *resource, const char *who, long n,
    enum limit_id id)
{
	const struct limit_def *l = limit_get(id);

	if (n > l->value)
		findings_add(&s->out, SEV_ERROR, code, resource, "%s: %ld, over the limit of %ld (%s); summarize "
		    "the prefixes before migrating", who, n, l->value, l->source);
	else if (n > 0 && n * 5 >= l->value * 4)
		findings_add(&s->out, SEV_WARNING, code, resource, "%s: %ld, %ld%% of the limit of %ld (%s)", who, n,
		    n * 100 / l->value, l->value, l->source);
}

/*
 * What on-premises advertises (observed.circuitRoutes): the count against
 * the circuit's limit, and any route inside a VNet's address space.  A
 * supernet that covers VNets (10.0.0.0/8 over 10.1.0.0/16) is the usual
 * summary and loses to the VNet's own routes; a route equal to or inside a
 * VNet's space competes with it, the seed's "overlapping subnets caused
 * initial route flaps".
 */
static void
check_routes(struct sanity *s, const struct topo_circuit *c)
{
	long v4 = 0, v6 = 0;
	char who[512], r[CIDR_STRLEN], sp[CIDR_STRLEN];
	size_t i;

	if (!c->routes_observed)
		return;
	for (i = 0; i < c->nroutes; i++) {
		const struct cidr *pfx = &c->routes[i].prefix;
		struct cidr space;
		const struct topo_vnet *v = vnet_holding(s, pfx, &space);

		if (pfx->family == 4)
			v4++;
		else
			v6++;
		if (v == NULL)
			continue;
		cidr_format(pfx, r);
		cidr_format(&space, sp);
		findings_add(&s->out, SEV_WARNING, "circuit-route-overlaps-vnet", c->res->id,
		    "on-premises advertises %s over circuit %s, inside VNet %s's address space %s: the "
		    "two compete for the same addresses and routes flap; stop advertising it or "
		    "renumber", r, c->res->name, v->res->name, sp);
	}
	snprintf(who, sizeof(who), "IPv4 prefixes on-premises advertises to circuit %s%s",
	    c->res->name, is_premium(c) ? " (Premium)" : "");
	check_count(s, "circuit-prefix-limit", c->res->id, who, v4,
	    is_premium(c) ? LIMIT_CIRCUIT_ROUTES_V4_PREMIUM : LIMIT_CIRCUIT_ROUTES_V4);
	snprintf(who, sizeof(who), "IPv6 prefixes on-premises advertises to circuit %s",
	    c->res->name);
	check_count(s, "circuit-prefix-limit", c->res->id, who, v6, LIMIT_CIRCUIT_ROUTES_V6);
}

/* What each gateway connected to the circuit advertises to it. */
static void
check_gateways(struct sanity *s, const struct topo_circuit *c)
{
	char who[512];
	size_t i, j, k;

	for (i = 0; i < c->nconnections; i++) {
		const struct topo_gateway *g = c->connections[i]->gateway;
		const struct topo_prefixes *adv;
		long v4 = 0, v6 = 0;
		bool seen = false;

		for (k = 0; k < i && g != NULL; k++)
			seen = seen || c->connections[k]->gateway == g;
		if (g == NULL || seen || (adv = routes_gateway_advertised(s->ctx, g)) == NULL)
			continue;
		for (j = 0; j < adv->n; j++) {
			if (adv->v[j].family == 4)
				v4++;
			else
				v6++;
		}
		snprintf(who, sizeof(who), "IPv4 prefixes gateway %s advertises to circuit %s",
		    g->res->name, c->res->name);
		check_count(s, "circuit-gateway-prefix-limit", g->res->id, who, v4, LIMIT_ADVERTISED_V4);
		snprintf(who, sizeof(who), "IPv6 prefixes gateway %s advertises to circuit %s",
		    g->res->name, c->res->name);
		check_count(s, "circuit-gateway-prefix-limit", g->res->id, who, v6, LIMIT_ADVERTISED_V6);
	}
}

static void
check_circuit(struct sanity *s, const struct topo_circuit *c, bool depended_on, bool gateways)
{
	const struct topo_circuit_peering *p = check_presence(s, c, depended_on);

	if (p != NULL) {
		check_asn(s, c, p);
		check_prefixes(s, c, p);
	}
	check_vlans(s, c, p);
	check_routes(s, c);
	if (gateways && s->ctx != NULL)
		check_gateways(s, c);
}

static int
index_vnets(struct sanity *s)
{
	size_t i, j;

	if ((s->vnet_space = cidr_table_new()) == NULL)
		return -1;
	for (i = 0; i < s->t->nvnets; i++) {
		const struct topo_vnet *v = &s->t->vnets[i];

		for (j = 0; j < v->prefixes.n; j++)
			if (cidr_table_add(s->vnet_space, &v->prefixes.v[j], (void *)v) < 0)
				return -1;
	}
	return 0;
}

/* The circuits to judge: the named ones (a missing one is a finding), or all. */
static const struct topo_circuit *
select_circuit(struct sanity *s, const char *const *ids, size_t n, size_t i)
{
	const struct topo_resource *r;

	if (n == 0)
		return &s->t->circuits[i];
	r = ids[i] != NULL ? topology_find(s->t, ids[i]) : NULL;
	if (r != NULL && r->type == TOPO_CIRCUIT)
		return r->view;
	findings_add(&s->out, SEV_ERROR, "circuit-missing", ids[i] != NULL ? ids[i] : "",
	    "circuit %s is not an ExpressRoute circuit in the topology; discover it (or correct the "
	    "connection's peer) before migrating", ids[i] != NULL ? ids[i] : "(null)");
	return NULL;
}

static bool
needs_routes(const struct topology *t, const char *const *ids, size_t n)
{
	size_t i, total = n == 0 ? t->ncircuits : n;

	for (i = 0; i < total; i++) {
		const struct topo_resource *r = n == 0 ? t->circuits[i].res :
		    ids[i] != NULL ? topology_find(t, ids[i]) : NULL;

		if (r != NULL && r->type == TOPO_CIRCUIT &&
		    ((const struct topo_circuit *)r->view)->nconnections > 0)
			return true;
	}
	return false;
}

int
circuit_sanity_ctx(struct findings *out, const struct topology *t, const struct routes_ctx *ctx,
    const char *const *circuit_ids, size_t n, bool gateway_limits, struct nw_err *err)
{
	struct sanity s = { .out = { .f = out, .cap = out->n }, .t = t, .ctx = ctx };
	struct routes_ctx *own = NULL;
	size_t i, total = n == 0 ? t->ncircuits : n;
	int rc = 0;

	if (total == 0)
		return 0;
	if (index_vnets(&s) != 0)
		goto oom;
	if (gateway_limits && ctx == NULL && needs_routes(t, circuit_ids, n)) {
		if ((rc = routes_ctx_new(&own, t, err)) != 0)
			goto done;
		s.ctx = own;
	}
	for (i = 0; i < total && !s.out.oom; i++) {
		const struct topo_circuit *c = select_circuit(&s, circuit_ids, n, i);

		if (c != NULL)
			check_circuit(&s, c, n > 0, gateway_limits);
	}
	if (s.out.oom)
		goto oom;
	goto done;
oom:
	rc = err_set(err, NW_ENOMEM, "out of memory while checking circuits");
done:
	routes_ctx_free(own);
	cidr_table_free(s.vnet_space);
	return rc;
}

int
circuit_sanity(struct findings *out, const struct topology *t, const char *const *circuit_ids,
    size_t n, struct nw_err *err)
{
	return circuit_sanity_ctx(out, t, NULL, circuit_ids, n, true, err);
}
