/*
 * The BGP model (plan/routes_bgp.h), built inside routes_ctx_new after the
 * gateways' learned routes and before the VNets' BGP route sets, which it
 * feeds.  docs/bgp.md is the prose of every rule here.
 *
 * Each route server's table is recomputed in rounds from the previous
 * round's tables until nothing changes (an NVA re-advertises to one route
 * server what another taught it), bounded by BGP_ROUNDS_PER_SERVER times
 * the number of route servers.  Per round and route server:
 *  - its VNet's and its remote-gateway spokes' address spaces (Learn,
 *    "Azure Route Server FAQ": with "Use the remote virtual network's
 *    gateway or Route Server" it learns the peered VNet's address space);
 *  - with allowBranchToBranchTraffic, what the VNet's gateways learned
 *    (Learn, "About Azure Route Server support for ExpressRoute and VPN");
 *  - over each BGP connection, what the declared NVA exports: the prefixes
 *    it originates and the routes it learned from the route servers it
 *    relays, after the NVA's own loop check, its filter, AS-override (the
 *    receiving server's ASN replaced by the NVA's) and prepends;
 *  - eBGP loop prevention drops a route whose AS path holds the server's
 *    ASN (seed 003: "both ARS1 and ARS2 use the default ASN 65515").
 * Selection (Learn, "Routing preference" of Route Server,
 * https://learn.microsoft.com/azure/route-server/hub-routing-preference):
 * longest prefix (the tables are per prefix), then hubRoutingPreference
 * (ExpressRoute: ExpressRoute before VPN/NVA; VpnGateway: VPN/NVA first;
 * ASPath: neither), then the ExpressRoute connection weight, then the
 * shortest AS path; NVA routes equal on all of that are ECMP.  A route
 * server's own VNet routes come before anything learned: Azure does not
 * document that case (docs/bgp.md says so).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/routes_bgp.h"
#include "plan/routes_impl.h"

#define BGP_ROUNDS_PER_SERVER 2
#define BGP_ROUNDS_MIN 4

/* What the model holds for one route server. */
struct bgp_server {
	struct bgp_rib base;       /* VNet and gateway routes (fixed over rounds) */
	struct bgp_rib rib;
	struct route *inject;      /* programmed into NICs */
	size_t ninject;
	struct cidr *hops;         /* the distinct next hops it programs (at most 64) */
	size_t nhops;
};

/* What the model holds for one gateway: the routes servers teach it. */
struct bgp_gateway {
	struct bgp_rib extra;
	char (*path)[BGP_PATH_STRLEN]; /* parallel to extra.v: "65515 ..." */
};

struct bgp_model {
	struct bgp_server *servers; /* per server */
	struct bgp_gateway *gws;    /* per gateway */
	size_t *vnet_server;       /* per VNet: the server whose routes it receives, or NONE_ID */
	size_t rounds;
	bool converged;
	size_t dropped;
};

/* ---- paths ---- */

void
bgp_path_format(char *buf, size_t size, const struct bgp_path *p, char sep)
{
	size_t off = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	for (unsigned i = 0; i < p->n && off + 1 < size; i++) {
		int w = i == 0 ? snprintf(buf + off, size - off, "%u", p->asn[i]) :
		    snprintf(buf + off, size - off, "%c%u", sep, p->asn[i]);

		if (w < 0)
			return;
		off += (size_t)w;
	}
}

bool
bgp_path_parse(struct bgp_path *out, const char *s)
{
	memset(out, 0, sizeof(*out));
	while (s != NULL && *s != '\0') {
		char *end;
		unsigned long v;

		while (*s == ' ' || *s == '-' || *s == ',')
			s++;
		if (*s == '\0')
			break;
		if (*s < '0' || *s > '9' || out->n == BGP_PATH_MAX)
			return false;
		v = strtoul(s, &end, 10);
		if (v > 4294967295UL)
			return false;
		out->asn[out->n++] = (uint32_t)v;
		s = end;
	}
	return true;
}

static bool
path_has(const struct bgp_path *p, uint32_t asn)
{
	for (unsigned i = 0; i < p->n; i++)
		if (p->asn[i] == asn)
			return true;
	return false;
}

/* Puts asn in front count times; false when the path would be too long. */
static bool
path_prepend(struct bgp_path *p, uint32_t asn, unsigned count)
{
	if (p->n + count > BGP_PATH_MAX)
		return false;
	memmove(&p->asn[count], &p->asn[0], p->n * sizeof(p->asn[0]));
	for (unsigned i = 0; i < count; i++)
		p->asn[i] = asn;
	p->n += count;
	return true;
}

/* ---- lists ---- */

void
bgp_rib_free(struct bgp_rib *r)
{
	if (r != NULL)
		VEC_CLEAR(r->v, r->n);
}

static int
rib_push(struct bgp_rib *r, size_t *cap, const struct bgp_route *x)
{
	if (GROW(r->v, cap, r->n + 1) != 0)
		return NW_ENOMEM;
	r->v[r->n++] = *x;
	return 0;
}

static size_t
server_index(const struct topology *t, const struct topo_route_server *s)
{
	return (size_t)(s - t->route_servers);
}

/* ---- the fixed part: VNet and gateway routes ---- */

static int
add_vnet(struct bgp_rib *r, size_t *cap, const struct topo_vnet *v)
{
	struct bgp_route x;

	memset(&x, 0, sizeof(x));
	x.from = BGP_FROM_VNET;
	x.vnet = v;
	for (size_t i = 0; i < v->prefixes.n; i++) {
		x.prefix = v->prefixes.v[i];
		if (rib_push(r, cap, &x) != 0)
			return NW_ENOMEM;
	}
	return 0;
}

/* The AS path of a gateway-learned route: the circuit's, or 65515 for another gateway's. */
static void
gateway_route_path(struct bgp_path *p, const struct route *lr)
{
	memset(p, 0, sizeof(*p));
	if (lr->origin != NULL || lr->circuit == NULL) {
		p->asn[p->n++] = ARS_ASN;
		return;
	}
	for (size_t i = 0; i < lr->circuit->nroutes; i++)
		if (cidr_equal(&lr->circuit->routes[i].prefix, &lr->prefix) &&
		    bgp_path_parse(p, lr->circuit->routes[i].path))
			return;
	memset(p, 0, sizeof(*p));
}

static int
connection_weight(const struct topo_gateway *g, const struct topo_circuit *c)
{
	for (size_t i = 0; i < g->nconnections; i++)
		if (g->connections[i]->circuit == c)
			return g->connections[i]->routing_weight;
	return 0;
}

static int
add_gateways(const struct routes_ctx *ctx, struct bgp_rib *r, size_t *cap,
    const struct topo_route_server *s)
{
	const struct topology *t = ctx->t;
	struct bgp_route x;

	for (size_t i = 0; s->vnet != NULL && i < s->vnet->ngateways; i++) {
		const struct topo_gateway *g = s->vnet->gateways[i];
		size_t gi = gateway_index(t, g);

		for (size_t j = 0; j < ctx->nlearned[gi]; j++) {
			const struct route *lr = &ctx->learned[gi][j];

			memset(&x, 0, sizeof(x));
			x.prefix = lr->prefix;
			x.from = BGP_FROM_GATEWAY;
			x.gateway = g;
			x.weight = connection_weight(g, lr->circuit);
			gateway_route_path(&x.path, lr);
			if (rib_push(r, cap, &x) != 0)
				return NW_ENOMEM;
		}
	}
	return 0;
}

static int
build_base(const struct routes_ctx *ctx, struct bgp_model *m)
{
	const struct topology *t = ctx->t;

	for (size_t si = 0; si < t->nroute_servers; si++) {
		const struct topo_route_server *s = &t->route_servers[si];
		size_t cap = 0;

		if (s->vnet == NULL)
			continue;
		if (add_vnet(&m->servers[si].base, &cap, s->vnet) != 0)
			return NW_ENOMEM;
		m->vnet_server[vnet_index(t, s->vnet)] = si;
		for (size_t w = 0; w < t->nvnets; w++)
			for (size_t p = 0; p < t->vnets[w].npeerings; p++) {
				const struct topo_peering *pe = &t->vnets[w].peerings[p];

				if (pe->remote != s->vnet || !re_peering_uses_transit(&t->vnets[w], pe))
					continue;
				if (add_vnet(&m->servers[si].base, &cap, &t->vnets[w]) != 0)
					return NW_ENOMEM;
				if (m->vnet_server[w] == NONE_ID)
					m->vnet_server[w] = si;
			}
		if (s->allow_branch_to_branch && add_gateways(ctx, &m->servers[si].base, &cap, s) != 0)
			return NW_ENOMEM;
	}
	return 0;
}

/* ---- what an NVA exports over one session ---- */

/* n's session with route server r, or NULL. */
static const struct topo_bgp_connection *
nva_session(const struct topo_nva *n, const struct topo_route_server *r)
{
	for (size_t i = 0; i < n->npeers; i++)
		if (n->peers[i].server == r && n->peers[i].connection != NULL)
			return n->peers[i].connection;
	return NULL;
}

/* What server r advertises over its session c: its best routes, one per prefix, not learned over c. */
static bool
advertises(const struct bgp_route *x, const struct bgp_route *prev, const struct topo_bgp_connection *c)
{
	if (x->state != BGP_BEST || x->peer == c)
		return false;
	return prev == NULL || prev->state != BGP_BEST || !cidr_equal(&prev->prefix, &x->prefix);
}

/* Applies the NVA's policy towards server s to x; false when x does not go out. */
static bool
nva_export(struct bgp_route *x, const struct topo_nva *n, const struct topo_nva_peer *p,
    const struct topo_route_server *s)
{
	if (p->only.n > 0 && !re_prefixes_contain(&p->only, &x->prefix))
		return false;
	if (p->as_override)
		for (unsigned i = 0; i < x->path.n; i++)
			if (x->path.asn[i] == (uint32_t)s->asn)
				x->path.asn[i] = (uint32_t)n->asn;
	if (!path_prepend(&x->path, (uint32_t)n->asn, 1 + (unsigned)p->prepend))
		x->state = BGP_DROPPED_LONG;
	return true;
}

static int
add_peer(const struct routes_ctx *ctx, const struct bgp_model *m, struct bgp_rib *r, size_t *cap,
    const struct topo_route_server *s, const struct topo_bgp_connection *c)
{
	const struct topology *t = ctx->t;
	const struct topo_nva *n = c->nva;
	const struct topo_nva_peer *p = c->policy;
	struct bgp_route x;

	memset(&x, 0, sizeof(x));
	x.from = BGP_FROM_PEER;
	x.peer = c;
	x.nva = n;
	x.has_next_hop = true;
	x.next_hop = p->has_next_hop ? p->next_hop : c->peer_addr;
	for (size_t k = 0; k <= p->nrelay; k++) {
		const struct bgp_rib *src = NULL;
		const struct topo_bgp_connection *via = NULL;
		size_t count = k < p->nrelay ? 0 : p->advertise.n;

		if (k < p->nrelay && p->relay[k] != NULL &&
		    (via = nva_session(n, p->relay[k])) != NULL) {
			src = &m->servers[server_index(t, p->relay[k])].rib;
			count = src->n;
		}
		for (size_t i = 0; i < count; i++) {
			struct bgp_route y = x;

			if (src != NULL) {
				if (!advertises(&src->v[i], i > 0 ? &src->v[i - 1] : NULL, via))
					continue;
				y.prefix = src->v[i].prefix;
				y.path = src->v[i].path;
				/* the relayed server puts its ASN in front; the NVA refuses its own */
				if (!path_prepend(&y.path, (uint32_t)p->relay[k]->asn, 1) ||
				    path_has(&y.path, (uint32_t)n->asn))
					continue;
			} else {
				y.prefix = p->advertise.v[i];
			}
			if (!nva_export(&y, n, p, s))
				continue;
			if (y.state == BGP_CANDIDATE || y.state == BGP_BEST) {
				y.state = path_has(&y.path, (uint32_t)s->asn) ? BGP_DROPPED_LOOP : BGP_CANDIDATE;
			}
			if (rib_push(r, cap, &y) != 0)
				return NW_ENOMEM;
		}
	}
	return 0;
}

/* ---- selection ---- */

static int
route_class(const struct bgp_route *x, enum topo_hub_preference pref)
{
	bool er = x->from == BGP_FROM_GATEWAY && x->gateway->kind != GATEWAY_VPN;

	if (x->from == BGP_FROM_VNET)
		return 0;
	switch (pref) {
	case HUB_PREF_EXPRESSROUTE: return er ? 1 : 2;
	case HUB_PREF_VPN_GATEWAY: return er ? 2 : 1;
	case HUB_PREF_AS_PATH:
	default: return 1;
	}
}

/* Preference order within one prefix; ties are ECMP (then ordered for determinism). */
static int
cmp_rank(const struct bgp_route *a, const struct bgp_route *b, enum topo_hub_preference pref)
{
	bool da = a->state >= BGP_DROPPED_LOOP, db = b->state >= BGP_DROPPED_LOOP;
	int ca, cb;

	if (da != db)
		return da ? 1 : -1;
	ca = route_class(a, pref);
	cb = route_class(b, pref);
	if (ca != cb)
		return ca < cb ? -1 : 1;
	if (a->from == BGP_FROM_GATEWAY && b->from == BGP_FROM_GATEWAY && a->weight != b->weight)
		return a->weight > b->weight ? -1 : 1;
	if (a->path.n != b->path.n)
		return a->path.n < b->path.n ? -1 : 1;
	return 0;
}

struct sorted {
	struct bgp_route r;
	size_t seq;
	enum topo_hub_preference pref;
};

static int
cmp_sorted(const void *pa, const void *pb)
{
	const struct sorted *a = pa, *b = pb;
	int c = cidr_compare(&a->r.prefix, &b->r.prefix);

	if (c == 0)
		c = cmp_rank(&a->r, &b->r, a->pref);
	if (c == 0 && a->r.has_next_hop && b->r.has_next_hop)
		c = cidr_compare(&a->r.next_hop, &b->r.next_hop);
	if (c == 0)
		c = a->seq < b->seq ? -1 : a->seq > b->seq;
	return c;
}

static int
select_best(struct bgp_rib *r, enum topo_hub_preference pref)
{
	struct sorted *tmp;

	if (r->n == 0)
		return 0;
	tmp = malloc(r->n * sizeof(*tmp));
	if (tmp == NULL)
		return NW_ENOMEM;
	for (size_t i = 0; i < r->n; i++) {
		tmp[i].r = r->v[i];
		tmp[i].seq = i;
		tmp[i].pref = pref;
	}
	qsort(tmp, r->n, sizeof(*tmp), cmp_sorted);
	for (size_t i = 0, first = 0; i < r->n; i++) {
		r->v[i] = tmp[i].r;
		if (i == 0 || !cidr_equal(&r->v[i].prefix, &r->v[first].prefix))
			first = i;
		if (r->v[i].state >= BGP_DROPPED_LOOP)
			continue;
		/* the first is best; NVA routes as good as it are ECMP */
		r->v[i].state = i == first || (r->v[i].from == BGP_FROM_PEER && r->v[first].from == BGP_FROM_PEER &&
		    r->v[first].state == BGP_BEST && cmp_rank(&r->v[i], &r->v[first], pref) == 0) ?
		    BGP_BEST : BGP_CANDIDATE;
	}
	free(tmp);
	return 0;
}

static bool
rib_equal(const struct bgp_rib *a, const struct bgp_rib *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct bgp_route *x = &a->v[i], *y = &b->v[i];

		if (!cidr_equal(&x->prefix, &y->prefix) || x->state != y->state || x->peer != y->peer ||
		    x->path.n != y->path.n ||
		    memcmp(x->path.asn, y->path.asn, x->path.n * sizeof(x->path.asn[0])) != 0)
			return false;
	}
	return true;
}

/* One round for every server; *changed when any table differs from the last round's. */
static int
run_round(const struct routes_ctx *ctx, struct bgp_model *m, bool *changed)
{
	const struct topology *t = ctx->t;
	struct bgp_rib *next = calloc(t->nroute_servers, sizeof(*next));
	int rc = NW_ENOMEM;

	*changed = false;
	if (next == NULL)
		return NW_ENOMEM;
	for (size_t si = 0; si < t->nroute_servers; si++) {
		const struct topo_route_server *s = &t->route_servers[si];
		size_t cap = m->servers[si].base.n;

		if (cap > 0) {
			next[si].v = malloc(cap * sizeof(*next[si].v));
			if (next[si].v == NULL)
				goto done;
			memcpy(next[si].v, m->servers[si].base.v, cap * sizeof(*next[si].v));
			next[si].n = cap;
		}
		for (size_t k = 0; k < s->nconnections; k++)
			if (s->connections[k]->nva != NULL && s->connections[k]->policy != NULL &&
			    add_peer(ctx, m, &next[si], &cap, s, s->connections[k]) != 0)
				goto done;
		if (select_best(&next[si], s->preference) != 0)
			goto done;
	}
	for (size_t si = 0; si < t->nroute_servers; si++) {
		if (!rib_equal(&next[si], &m->servers[si].rib))
			*changed = true;
		bgp_rib_free(&m->servers[si].rib);
		m->servers[si].rib = next[si];
		next[si].v = NULL;
	}
	rc = 0;
done:
	for (size_t si = 0; si < t->nroute_servers; si++)
		bgp_rib_free(&next[si]);
	free(next);
	return rc;
}

/* ---- what the tables make: NIC routes and circuit advertisements ---- */

#define MAX_HOPS 64

/* Records a next hop server si programs; one per BGP session, so a few. */
static int
add_hop(struct bgp_server *sv, const struct cidr *hop)
{
	struct cidr *nv;

	for (size_t k = 0; k < sv->nhops; k++)
		if (cidr_equal(&sv->hops[k], hop))
			return 0;
	if (sv->nhops == MAX_HOPS)
		return 0; /* beyond 64 the mask says unreachable: docs/bgp.md */
	nv = realloc(sv->hops, (sv->nhops + 1) * sizeof(*nv));
	if (nv == NULL)
		return NW_ENOMEM;
	nv[sv->nhops++] = *hop;
	sv->hops = nv;
	return 0;
}

static int
build_outputs(const struct routes_ctx *ctx, struct bgp_model *m)
{
	const struct topology *t = ctx->t;

	for (size_t si = 0; si < t->nroute_servers; si++) {
		const struct topo_route_server *s = &t->route_servers[si];
		struct bgp_server *sv = &m->servers[si];
		const struct bgp_rib *r = &sv->rib;
		size_t cap = 0;

		for (size_t i = 0; i < r->n; i++) {
			const struct bgp_route *x = &r->v[i];
			struct route nr;

			m->dropped += x->state >= BGP_DROPPED_LOOP;
			if (x->from != BGP_FROM_PEER || !advertises(x, i > 0 ? &r->v[i - 1] : NULL, NULL))
				continue;
			/* NICs: next hop the NVA, source VirtualNetworkGateway as ARM shows it */
			memset(&nr, 0, sizeof(nr));
			nr.prefix = x->prefix;
			nr.source = ROUTE_SRC_GATEWAY;
			nr.next_hop = NH_VIRTUAL_NETWORK_GATEWAY;
			nr.has_next_hop_ip = true;
			nr.next_hop_ip = x->next_hop;
			nr.active = true;
			nr.route_server = s;
			nr.nva = x->nva;
			if (GROW(sv->inject, &cap, sv->ninject + 1) != 0 || add_hop(sv, &x->next_hop) != 0)
				return NW_ENOMEM;
			sv->inject[sv->ninject++] = nr;
			if (!s->allow_branch_to_branch || s->vnet == NULL)
				continue;
			/* branch-to-branch: the VNet's gateways pass it on with 65515 in front */
			for (size_t g = 0; g < s->vnet->ngateways; g++) {
				size_t gi = gateway_index(t, s->vnet->gateways[g]);
				struct bgp_route y = *x;
				size_t n = m->gws[gi].extra.n, pcap = n, rcap = n;

				if (!path_prepend(&y.path, (uint32_t)s->asn, 1))
					continue;
				if (rib_push(&m->gws[gi].extra, &rcap, &y) != 0 ||
				    GROW(m->gws[gi].path, &pcap, n + 1) != 0)
					return NW_ENOMEM;
				bgp_path_format(m->gws[gi].path[n], BGP_PATH_STRLEN, &y.path, ' ');
			}
		}
	}
	return 0;
}

/* ---- the model's life ---- */

void
re_bgp_free(struct bgp_model *m, const struct topology *t)
{
	if (m == NULL)
		return;
	for (size_t si = 0; m->servers != NULL && si < t->nroute_servers; si++) {
		struct bgp_server *s = &m->servers[si];

		bgp_rib_free(&s->base);
		bgp_rib_free(&s->rib);
		free(s->inject);
		free(s->hops);
	}
	for (size_t g = 0; m->gws != NULL && g < t->ngateways; g++) {
		bgp_rib_free(&m->gws[g].extra);
		free(m->gws[g].path);
	}
	free(m->servers);
	free(m->gws);
	free(m->vnet_server);
	free(m);
}

int
re_bgp_build(struct routes_ctx *ctx, struct nw_err *err)
{
	const struct topology *t = ctx->t;
	size_t ns = t->nroute_servers ? t->nroute_servers : 1, ng = t->ngateways ? t->ngateways : 1;
	size_t max_rounds = BGP_ROUNDS_MIN + BGP_ROUNDS_PER_SERVER * t->nroute_servers;
	struct bgp_model *m = calloc(1, sizeof(*m));
	bool changed = true;

	if (m == NULL)
		return re_nomem(err, "the BGP model");
	ctx->bgpm = m;
	m->servers = calloc(ns, sizeof(*m->servers));
	m->gws = calloc(ng, sizeof(*m->gws));
	m->vnet_server = malloc((t->nvnets ? t->nvnets : 1) * sizeof(*m->vnet_server));
	if (m->servers == NULL || m->gws == NULL || m->vnet_server == NULL)
		return re_nomem(err, "the BGP model");
	for (size_t v = 0; v < t->nvnets; v++)
		m->vnet_server[v] = NONE_ID;
	if (t->nroute_servers == 0) {
		m->converged = true;
		return 0;
	}
	if (build_base(ctx, m) != 0)
		return re_nomem(err, "the BGP model");
	while (changed && m->rounds < max_rounds) {
		if (run_round(ctx, m, &changed) != 0)
			return re_nomem(err, "the BGP model");
		m->rounds++;
	}
	m->converged = !changed;
	if (build_outputs(ctx, m) != 0)
		return re_nomem(err, "the BGP model");
	return 0;
}

size_t
re_bgp_server_of(const struct routes_ctx *ctx, const struct topo_vnet *v)
{
	return ctx->bgpm->vnet_server[vnet_index(ctx->t, v)];
}

const struct route *
re_bgp_injected(const struct routes_ctx *ctx, size_t server, size_t *n)
{
	*n = server < ctx->t->nroute_servers ? ctx->bgpm->servers[server].ninject : 0;
	return *n > 0 ? ctx->bgpm->servers[server].inject : NULL;
}

size_t
re_bgp_gateway_circuit_routes(const struct routes_ctx *ctx, size_t gi, const struct bgp_route **v,
    const char (**paths)[BGP_PATH_STRLEN])
{
	*v = ctx->bgpm->gws[gi].extra.v;
	*paths = (const char (*)[BGP_PATH_STRLEN])ctx->bgpm->gws[gi].path;
	return ctx->bgpm->gws[gi].extra.n;
}

static bool
vnet_reaches(const struct routes_ctx *ctx, const struct topo_vnet *v, const struct cidr *hop)
{
	const struct vnet_info *vi = &ctx->vi[vnet_index(ctx->t, v)];

	if (re_prefixes_contain(&v->prefixes, hop))
		return true;
	for (size_t p = 0; p < v->npeerings; p++)
		if (v->peerings[p].state == PEERING_CONNECTED && v->peerings[p].allow_virtual_network_access &&
		    re_prefixes_contain(re_peering_prefixes(&v->peerings[p]), hop))
			return true;
	for (size_t g = 0; g < vi->ngroups; g++) {
		const struct cg_entry *e = cidr_table_lookup(ctx->cg[vi->groups[g]].tab, hop, NULL);

		if (e != NULL && e->vnet != vnet_index(ctx->t, v))
			return true;
	}
	return false;
}

uint64_t
re_bgp_reach_mask(const struct routes_ctx *ctx, const struct topo_vnet *v)
{
	size_t si = ctx->bgpm->vnet_server[vnet_index(ctx->t, v)];
	const struct bgp_server *sv;
	uint64_t mask = 0;

	if (si == NONE_ID)
		return 0;
	sv = &ctx->bgpm->servers[si];
	for (size_t k = 0; k < sv->nhops; k++)
		if (vnet_reaches(ctx, v, &sv->hops[k]))
			mask |= (uint64_t)1 << k;
	return mask;
}

/*
 * A route a route server programmed: the flow goes to the NVA, when the
 * source reaches the NVA's address over its VNet, a peering or a connected
 * group (seed 003: spokes "attempting to route traffic directly to NVA2, a
 * path that is invalid, since the spokes don't have the path to NVA2").
 */
void
re_bgp_classify(struct path_result *out, const struct routes_ctx *ctx, const struct src *s,
    const struct route *r)
{
	const struct bgp_server *sv = &ctx->bgpm->servers[server_index(ctx->t, r->route_server)];
	size_t k;
	uint64_t mask = s->vnet != NULL ? re_bgp_reach_mask(ctx, s->vnet) : s->nva_reach;
	char ip[CIDR_STRLEN];

	cidr_format_addr(&r->next_hop_ip, ip);
	for (k = 0; k < sv->nhops && !cidr_equal(&sv->hops[k], &r->next_hop_ip); k++)
		;
	if (k < sv->nhops && (mask >> k & 1) != 0) {
		out->cls = PATH_VIA_APPLIANCE;
		snprintf(out->detail, sizeof(out->detail), "%s", ip);
		return;
	}
	out->cls = PATH_UNREACHABLE;
	snprintf(out->detail, sizeof(out->detail), "next hop %s%s%s%s from %s is not reachable from the source",
	    ip, r->nva != NULL ? " (" : "", r->nva != NULL ? r->nva->name : "", r->nva != NULL ? ")" : "",
	    r->route_server->res->name);
}

/* ---- the public answers ---- */

const struct bgp_rib *
routes_bgp_rib(const struct routes_ctx *ctx, const struct topo_route_server *s)
{
	const struct topology *t = ctx->t;

	if (s == NULL || s < t->route_servers || s >= t->route_servers + t->nroute_servers)
		return NULL;
	return &ctx->bgpm->servers[server_index(t, s)].rib;
}

bool
routes_bgp_converged(const struct routes_ctx *ctx)
{
	return ctx->bgpm->converged;
}

size_t
routes_bgp_rounds(const struct routes_ctx *ctx)
{
	return ctx->bgpm->rounds;
}

size_t
routes_bgp_dropped(const struct routes_ctx *ctx)
{
	return ctx->bgpm->dropped;
}

const struct bgp_rib *
routes_bgp_gateway_extra(const struct routes_ctx *ctx, const struct topo_gateway *g)
{
	static const struct bgp_rib empty;
	const struct topology *t = ctx->t;

	if (g == NULL || g < t->gateways || g >= t->gateways + t->ngateways)
		return &empty;
	return &ctx->bgpm->gws[gateway_index(t, g)].extra;
}

int
routes_bgp_learned(struct bgp_rib *out, const struct routes_ctx *ctx,
    const struct topo_bgp_connection *c, struct nw_err *err)
{
	const struct bgp_rib *r = routes_bgp_rib(ctx, c->server);
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; r != NULL && i < r->n; i++)
		if (r->v[i].peer == c && r->v[i].state < BGP_DROPPED_LOOP &&
		    rib_push(out, &cap, &r->v[i]) != 0) {
			bgp_rib_free(out);
			return re_nomem(err, "learned routes");
		}
	return 0;
}

int
routes_bgp_advertised(struct bgp_rib *out, const struct routes_ctx *ctx,
    const struct topo_bgp_connection *c, struct nw_err *err)
{
	const struct bgp_rib *r = routes_bgp_rib(ctx, c->server);
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; r != NULL && i < r->n; i++) {
		struct bgp_route y;

		if (!advertises(&r->v[i], i > 0 ? &r->v[i - 1] : NULL, c))
			continue;
		y = r->v[i];
		if (!path_prepend(&y.path, (uint32_t)c->server->asn, 1))
			continue;
		if (rib_push(out, &cap, &y) != 0) {
			bgp_rib_free(out);
			return re_nomem(err, "advertised routes");
		}
	}
	return 0;
}

static json_t *
peer_route_json(const struct bgp_route *x, const struct topo_bgp_connection *c, const char *local,
    bool advertised)
{
	char net[CIDR_STRLEN], hop[CIDR_STRLEN], path[BGP_PATH_STRLEN];

	cidr_format(&x->prefix, net);
	bgp_path_format(path, sizeof(path), &x->path, '-');
	/* advertised: the route server is the next hop; learned: the peer's next hop */
	if (advertised || !x->has_next_hop)
		snprintf(hop, sizeof(hop), "%s", local != NULL ? local : "");
	else
		cidr_format_addr(&x->next_hop, hop);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i}",
	    "localAddress", local != NULL ? local : "", "network", net, "nextHop", hop,
	    "sourcePeer", advertised ? (local != NULL ? local : "") : c->peer_ip,
	    "origin", "EBgp", "asPath", path, "weight", advertised ? 0 : 32768);
}

json_t *
routes_bgp_peer_routes_json(const struct routes_ctx *ctx, const struct topo_bgp_connection *c,
    bool advertised)
{
	struct bgp_rib r = { 0 };
	struct nw_err err = { 0 };
	const struct topo_route_server *s = c->server;
	size_t ninst = s != NULL && s->nrouter_ips > 0 ? s->nrouter_ips : 1;
	json_t *root = json_object();

	if (root == NULL || (advertised ? routes_bgp_advertised(&r, ctx, c, &err) :
	    routes_bgp_learned(&r, ctx, c, &err)) != 0)
		goto fail;
	for (size_t k = 0; k < ninst; k++) {
		char key[64], local[CIDR_STRLEN] = "";
		json_t *arr = json_array();

		if (arr == NULL)
			goto fail;
		snprintf(key, sizeof(key), "RouteServiceRole_IN_%zu", k);
		if (json_object_set_new(root, key, arr) != 0)
			goto fail;
		if (s != NULL && k < s->nrouter_ips)
			cidr_format_addr(&s->router_ips[k], local);
		for (size_t i = 0; i < r.n; i++)
			if (json_array_append_new(arr, peer_route_json(&r.v[i], c, local[0] ? local : NULL,
			    advertised)) != 0)
				goto fail;
	}
	bgp_rib_free(&r);
	return root;
fail:
	bgp_rib_free(&r);
	json_decref(root);
	return NULL;
}

int
re_bgp_merge(const struct routes_ctx *ctx, struct bgp_set *bs)
{
	const struct route *inj;
	struct route *out;
	size_t ninj, i = 0, j = 0, n = 0;

	inj = re_bgp_injected(ctx, bs->server, &ninj);
	if (ninj == 0)
		return 0;
	out = malloc((bs->n + ninj) * sizeof(*out));
	if (out == NULL)
		return NW_ENOMEM;
	/* both lists are by prefix; on a tie the route server's route stays */
	while (i < bs->n || j < ninj) {
		int c = i == bs->n ? 1 : j == ninj ? -1 : cidr_compare(&bs->v[i].prefix, &inj[j].prefix);

		if (c < 0) {
			out[n++] = bs->v[i++];
		} else {
			if (c == 0)
				i++;
			out[n++] = inj[j++];
		}
	}
	free(bs->v);
	bs->v = out;
	bs->n = n;
	return 0;
}
