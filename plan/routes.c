/*
 * The route engine (DESIGN.md, "The route engine"): the effective routes
 * Azure would program on a subnet, the class of the path a flow between
 * two VNets takes, and the east-west summary of a whole estate.  The
 * planner shows with it what each wave does to traffic, the emulator
 * answers effectiveRouteTable from it, check summarizes an estate.
 *
 * A subnet's routes come in layers, and the context keeps each layer once:
 * the personal routes of its VNet (its own space, its connected peerings,
 * its connected groups), the BGP routes of the set of gateways it uses
 * (one table per distinct set), the user routes of its route table (one
 * table per route table) and Azure's defaults.  routes_effective
 * materializes the layers of one subnet and applies Azure's selection to
 * the whole list.  Path queries do not materialize anything: they look a
 * prefix up through the layers and apply the same selection at each
 * candidate prefix, longest first, so five thousand spokes that learn the
 * same five thousand BGP routes share one copy of them and no per-subnet
 * table is ever built or cached.  routes_summary goes one step further and
 * decides whole classes of VNets at once (see the comment above it).
 */
#include "config.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/routes_impl.h"


/* Output order: Default (VnetLocal, peerings, groups, Azure), BGP, User. */
static const int rank_out_order[] = {
	[RANK_LOCAL] = 0, [RANK_PEERING] = 1, [RANK_GROUP] = 2,
	[RANK_AZURE] = 3, [RANK_BGP] = 4, [RANK_USER] = 5,
};

/* Worst wins: unreachable > on-premises > hairpin > via-appliance > peering > mesh > local. */
static const int path_severity[PATH_NCLASSES] = {
	[PATH_LOCAL] = 0, [PATH_MESH] = 1, [PATH_PEERING] = 2,
	[PATH_VIA_APPLIANCE] = 3, [PATH_HAIRPIN] = 4, [PATH_ON_PREMISES] = 5,
	[PATH_UNREACHABLE] = 6,
};

static const char *const path_names[PATH_NCLASSES] = {
	"local", "peering", "mesh", "via-appliance", "hairpin", "on-premises", "unreachable",
};


/* ---- names ---- */

const char *
route_source_name(enum route_source s)
{
	switch (s) {
	case ROUTE_SRC_DEFAULT:
		return "Default";
	case ROUTE_SRC_USER:
		return "User";
	case ROUTE_SRC_GATEWAY:
		return "VirtualNetworkGateway";
	}
	return "Unknown";
}

const char *
path_class_name(enum path_class c)
{
	if ((unsigned)c >= PATH_NCLASSES)
		return "unknown";
	return path_names[c];
}

int
path_class_parse(const char *s)
{
	if (s == NULL)
		return -1;
	for (int i = 0; i < PATH_NCLASSES; i++)
		if (strcmp(s, path_names[i]) == 0)
			return i;
	return -1;
}

/* ---- sources ---- */

struct src
re_src_for(const struct routes_ctx *ctx, const struct topo_vnet *v, const struct topo_route_table *tab)
{
	const struct bgp_set *bs = &ctx->bgp[ctx->vi[vnet_index(ctx->t, v)].bgp];
	struct src s;

	memset(&s, 0, sizeof(s));
	s.vnet = v;
	if (tab != NULL) {
		assert(tab >= ctx->t->route_tables && tab < ctx->t->route_tables + ctx->t->nroute_tables);
		s.rt = &ctx->rt[(size_t)(tab - ctx->t->route_tables)];
	}
	s.bgp = tab != NULL && tab->disable_bgp_route_propagation ? NULL : bs;
	s.has_vpn = bs->has_vpn;
	return s;
}

/* ---- materialized effective routes ---- */

struct mroute {
	struct route r;
	int rank;
	size_t k1;  /* peering index, or the remote VNet index of a group route */
	size_t seq;
	size_t pos; /* output position */
};

static int
cmp_mroute_out(const void *a, const void *b)
{
	const struct mroute *x = a, *y = b;
	int c = CMP3(rank_out_order[x->rank], rank_out_order[y->rank]);

	if (c == 0)
		c = cidr_compare(&x->r.prefix, &y->r.prefix);
	if (c == 0)
		c = CMP3(x->k1, y->k1);
	return c != 0 ? c : CMP3(x->seq, y->seq);
}

static int
cmp_mroute_sel(const void *a, const void *b)
{
	const struct mroute *x = *(const struct mroute *const *)a, *y = *(const struct mroute *const *)b;
	int c = cidr_compare(&x->r.prefix, &y->r.prefix);

	if (c == 0)
		c = CMP3(x->rank, y->rank);
	return c != 0 ? c : CMP3(x->pos, y->pos);
}

struct mlist {
	struct mroute *v;
	size_t n, cap;
};

static int
mlist_push(struct mlist *m, const struct route *r, int rank, size_t k1)
{
	if (GROW(m->v, &m->cap, m->n + 1) != 0)
		return NW_ENOMEM;
	m->v[m->n].r = *r;
	m->v[m->n].r.active = true;
	m->v[m->n].rank = rank;
	m->v[m->n].k1 = k1;
	m->v[m->n].seq = m->n;
	m->n++;
	return 0;
}

/* Every candidate route of source s, in output order, groups' duplicates folded. */
static int
effective_collect(struct mlist *m, const struct routes_ctx *ctx, const struct src *s)
{
	const struct topology *t = ctx->t;
	const struct topo_vnet *v = s->vnet;
	size_t vi = vnet_index(t, v), k;
	struct route r;

	memset(&r, 0, sizeof(r));
	r.source = ROUTE_SRC_DEFAULT;
	for (size_t i = 0; i < v->prefixes.n; i++) {
		r.prefix = v->prefixes.v[i];
		r.next_hop = NH_VNET_LOCAL;
		if (mlist_push(m, &r, RANK_LOCAL, 0) != 0)
			return NW_ENOMEM;
	}
	for (size_t p = 0; p < v->npeerings; p++) {
		const struct topo_peering *pe = &v->peerings[p];
		const struct topo_prefixes *pp = re_peering_prefixes(pe);

		for (size_t i = 0; pe->state == PEERING_CONNECTED && i < pp->n; i++) {
			memset(&r, 0, sizeof(r));
			r.source = ROUTE_SRC_DEFAULT;
			r.prefix = pp->v[i];
			r.next_hop = re_peering_next_hop(v, pe);
			r.peering = pe;
			r.remote = pe->remote;
			if (mlist_push(m, &r, RANK_PEERING, p) != 0)
				return NW_ENOMEM;
		}
	}
	for (size_t g = 0; g < ctx->vi[vi].ngroups; g++) {
		const struct cgroup *cg = &ctx->cg[ctx->vi[vi].groups[g]];

		for (size_t i = 0; i < cg->nkept; i++) {
			if (cg->kept[i].vnet == vi)
				continue;
			memset(&r, 0, sizeof(r));
			r.source = ROUTE_SRC_DEFAULT;
			r.prefix = cg->kept[i].prefix;
			r.next_hop = NH_CONNECTED_GROUP;
			r.remote = &t->vnets[cg->kept[i].vnet];
			if (mlist_push(m, &r, RANK_GROUP, cg->kept[i].vnet) != 0)
				return NW_ENOMEM;
		}
	}
	for (size_t i = 0; i < NAZURE; i++)
		if (mlist_push(m, &ctx->azure[i], RANK_AZURE, 0) != 0)
			return NW_ENOMEM;
	for (size_t i = 0; s->bgp != NULL && i < s->bgp->n; i++)
		if (mlist_push(m, &s->bgp->v[i], RANK_BGP, 0) != 0)
			return NW_ENOMEM;
	for (size_t i = 0; s->rt != NULL && i < s->rt->n; i++)
		if (mlist_push(m, &s->rt->v[i], RANK_USER, 0) != 0)
			return NW_ENOMEM;

	qsort(m->v, m->n, sizeof(*m->v), cmp_mroute_out);
	/* a VNet in two groups with the same peer gets that peer's routes once */
	k = 0;
	for (size_t i = 0; i < m->n; i++) {
		if (k > 0 && m->v[i].rank == RANK_GROUP && m->v[k - 1].rank == RANK_GROUP &&
		    m->v[k - 1].k1 == m->v[i].k1 && cidr_equal(&m->v[k - 1].r.prefix, &m->v[i].r.prefix))
			continue;
		m->v[k++] = m->v[i];
	}
	m->n = k;
	return 0;
}

/* Validity before selection: user routes Azure refuses, BGP routes under personal ones. */
static int
effective_validity(struct mlist *m, const struct src *s)
{
	struct cidr_table *personal = cidr_table_new();

	if (personal == NULL)
		return NW_ENOMEM;
	for (size_t i = 0; i < m->n; i++) {
		m->v[i].pos = i;
		if (m->v[i].rank >= RANK_LOCAL && m->v[i].rank <= RANK_GROUP &&
		    cidr_table_add(personal, &m->v[i].r.prefix, &m->v[i]) < 0) {
			cidr_table_free(personal);
			return NW_ENOMEM;
		}
	}
	for (size_t i = 0; i < m->n; i++) {
		if (m->v[i].rank == RANK_USER)
			m->v[i].r.active = re_user_valid(&m->v[i].r, s->has_vpn);
		/* the VNet's own space, its peerings and groups win over BGP, even more specific BGP */
		else if (m->v[i].rank == RANK_BGP)
			m->v[i].r.active = cidr_table_lookup(personal, &m->v[i].r.prefix, NULL) == NULL;
	}
	cidr_table_free(personal);
	return 0;
}

/* One winner per prefix; a user default route takes the private ranges away from None. */
static int
effective_select(struct mlist *m, const struct routes_ctx *ctx)
{
	struct mroute **sel = malloc((m->n ? m->n : 1) * sizeof(*sel));
	bool user_default = false;

	if (sel == NULL)
		return NW_ENOMEM;
	for (size_t i = 0; i < m->n; i++)
		sel[i] = &m->v[i];
	qsort(sel, m->n, sizeof(*sel), cmp_mroute_sel);
	for (size_t i = 0; i < m->n;) {
		size_t j = i;
		bool won = false;

		while (j < m->n && cidr_equal(&sel[j]->r.prefix, &sel[i]->r.prefix)) {
			if (sel[j]->r.active && !won)
				won = true;
			else
				sel[j]->r.active = false;
			j++;
		}
		i = j;
	}
	free(sel);
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].rank == RANK_USER && m->v[i].r.active &&
		    cidr_equal(&m->v[i].r.prefix, &ctx->azure[0].prefix))
			user_default = true;
	for (size_t i = 0; user_default && i < m->n; i++)
		if (m->v[i].rank == RANK_AZURE && m->v[i].r.next_hop == NH_NONE)
			m->v[i].r.active = false;
	return 0;
}

static int
build_effective(struct route_set *out, const struct routes_ctx *ctx, const struct src *s,
    struct nw_err *err)
{
	struct mlist m = { 0 };
	int rc = NW_ENOMEM;

	memset(out, 0, sizeof(*out));
	if (effective_collect(&m, ctx, s) != 0 || effective_validity(&m, s) != 0 ||
	    effective_select(&m, ctx) != 0)
		goto done;
	out->v = malloc((m.n ? m.n : 1) * sizeof(*out->v));
	if (out->v == NULL)
		goto done;
	for (size_t i = 0; i < m.n; i++)
		out->v[i] = m.v[i].r;
	out->n = m.n;
	rc = 0;
done:
	free(m.v);
	return rc == 0 ? 0 : re_nomem(err, "effective routes");
}

int
routes_effective(struct route_set *out, const struct routes_ctx *ctx,
    const struct topo_subnet *subnet, struct nw_err *err)
{
	struct src s = re_src_for(ctx, subnet->vnet, subnet->route_table);

	return build_effective(out, ctx, &s, err);
}

int
routes_effective_vnet(struct route_set *out, const struct routes_ctx *ctx,
    const struct topo_vnet *vnet, struct nw_err *err)
{
	struct src s = re_src_for(ctx, vnet, NULL);

	return build_effective(out, ctx, &s, err);
}

void
route_set_free(struct route_set *s)
{
	if (s != NULL)
		VEC_CLEAR(s->v, s->n);
}

const struct route *
routes_lookup(const struct route_set *s, const struct cidr *dst)
{
	const struct route *best = NULL;

	for (size_t i = 0; i < s->n; i++) {
		const struct route *r = &s->v[i];

		if (!r->active || !cidr_contains(&r->prefix, dst))
			continue;
		if (best == NULL || r->prefix.len > best->prefix.len)
			best = r;
	}
	return best;
}

/* ---- lookups through the layers ---- */

struct pcand {
	int rank;
	size_t order;
	struct cidr prefix;
	enum topo_next_hop nh;
	const struct topo_peering *peering;
	const struct topo_vnet *remote;
};

/* The best personal route at each length among those containing the destination. */
struct pset {
	uint64_t mask[3];
	int minlen;
	struct pcand at[MAXLEN + 1];
};

static void
pset_offer(struct pset *ps, const struct pcand *c)
{
	unsigned len = c->prefix.len;
	uint64_t bit = (uint64_t)1 << (len % 64);

	if (!(ps->mask[len / 64] & bit)) {
		ps->mask[len / 64] |= bit;
		ps->at[len] = *c;
	} else if (c->rank < ps->at[len].rank ||
	    (c->rank == ps->at[len].rank && c->order < ps->at[len].order)) {
		ps->at[len] = *c;
	}
	if ((int)len < ps->minlen)
		ps->minlen = (int)len;
}

static void
pset_collect(struct pset *ps, const struct routes_ctx *ctx, const struct src *s, const struct cidr *d)
{
	const struct topology *t = ctx->t;
	struct pcand c;

	memset(ps->mask, 0, sizeof(ps->mask));
	ps->minlen = MAXLEN + 1;
	if (s->group_peer != NULL) {
		const struct topo_prefixes *p = &s->group_peer->prefixes;

		for (size_t i = 0; i < p->n; i++) {
			if (!cidr_contains(&p->v[i], d))
				continue;
			memset(&c, 0, sizeof(c));
			c.rank = RANK_GROUP;
			c.order = vnet_index(t, s->group_peer);
			c.prefix = p->v[i];
			c.nh = NH_CONNECTED_GROUP;
			c.remote = s->group_peer;
			pset_offer(ps, &c);
		}
	}
	if (s->vnet == NULL)
		return;
	for (size_t i = 0; i < s->vnet->prefixes.n; i++) {
		if (!cidr_contains(&s->vnet->prefixes.v[i], d))
			continue;
		memset(&c, 0, sizeof(c));
		c.rank = RANK_LOCAL;
		c.prefix = s->vnet->prefixes.v[i];
		c.nh = NH_VNET_LOCAL;
		pset_offer(ps, &c);
	}
	for (size_t p = 0; p < s->vnet->npeerings; p++) {
		const struct topo_peering *pe = &s->vnet->peerings[p];
		const struct topo_prefixes *pp;

		if (pe->state != PEERING_CONNECTED)
			continue;
		pp = re_peering_prefixes(pe);
		for (size_t i = 0; i < pp->n; i++) {
			if (!cidr_contains(&pp->v[i], d))
				continue;
			memset(&c, 0, sizeof(c));
			c.rank = RANK_PEERING;
			c.order = p;
			c.prefix = pp->v[i];
			c.nh = re_peering_next_hop(s->vnet, pe);
			c.peering = pe;
			c.remote = pe->remote;
			pset_offer(ps, &c);
		}
	}
	{
		size_t self = vnet_index(t, s->vnet);
		const struct vnet_info *vi = &ctx->vi[self];

		for (size_t g = 0; g < vi->ngroups; g++) {
			void *vals[MAXLEN + 1];
			size_t n = cidr_table_lookup_all(ctx->cg[vi->groups[g]].tab, d, vals, NULL, MAXLEN + 1);

			if (n > MAXLEN + 1)
				n = MAXLEN + 1;
			for (size_t i = 0; i < n; i++) {
				const struct cg_entry *e = vals[i];

				if (e->vnet == self)
					continue;
				memset(&c, 0, sizeof(c));
				c.rank = RANK_GROUP;
				c.order = e->vnet;
				c.prefix = e->prefix;
				c.nh = NH_CONNECTED_GROUP;
				c.remote = &t->vnets[e->vnet];
				pset_offer(ps, &c);
			}
		}
	}
}

static const struct route *
slot_first_valid(const struct rt_layer *l, const struct rt_slot *slot, bool has_vpn)
{
	for (size_t i = slot->start; i < slot->end; i++)
		if (re_user_valid(&l->v[i], has_vpn))
			return &l->v[i];
	return NULL;
}

static bool
user_default_valid(const struct routes_ctx *ctx, const struct src *s)
{
	const struct rt_slot *slot;

	if (s->rt == NULL)
		return false;
	slot = cidr_table_get(s->rt->tab, &ctx->azure[0].prefix);
	return slot != NULL && slot_first_valid(s->rt, slot, s->has_vpn) != NULL;
}

/*
 * The best active route for d, as routes_lookup would find it in the
 * materialized table: walks the lengths that could contain d, longest
 * first, and at each applies the selection of build_effective.
 */
bool
re_lookup_layers(struct route *out, const struct routes_ctx *ctx, const struct src *s, const struct cidr *d)
{
	struct pset ps;
	void *uval[MAXLEN + 1], *bval[MAXLEN + 1];
	struct cidr upfx[MAXLEN + 1], bpfx[MAXLEN + 1];
	const struct route *az[NAZURE];
	size_t nu = 0, nb = 0, na = 0, iu = 0, ib = 0, ia = 0;

	pset_collect(&ps, ctx, s, d);
	if (s->rt != NULL)
		nu = cidr_table_lookup_all(s->rt->tab, d, uval, upfx, MAXLEN + 1);
	if (s->bgp != NULL)
		nb = cidr_table_lookup_all(s->bgp->tab, d, bval, bpfx, MAXLEN + 1);
	if (nu > MAXLEN + 1)
		nu = MAXLEN + 1;
	if (nb > MAXLEN + 1)
		nb = MAXLEN + 1;
	for (size_t i = NAZURE; i-- > 0;)
		if (cidr_contains(&ctx->azure[i].prefix, d))
			az[na++] = &ctx->azure[i];

	for (int len = d->len; len >= 0; len--) {
		const struct rt_slot *us = NULL;
		const struct route *br = NULL, *ar = NULL;
		const struct pcand *pc = NULL;

		if (iu < nu && upfx[iu].len == len)
			us = uval[iu++];
		if (ib < nb && bpfx[ib].len == len)
			br = bval[ib++];
		if (ia < na && az[ia]->prefix.len == len)
			ar = az[ia++];
		if (ps.mask[len / 64] & ((uint64_t)1 << (len % 64)))
			pc = &ps.at[len];
		if (us != NULL) {
			const struct route *ur = slot_first_valid(s->rt, us, s->has_vpn);

			if (ur != NULL) {
				*out = *ur;
				out->active = true;
				return true;
			}
		}
		/* a personal prefix at this length or shorter contains this BGP prefix */
		if (br != NULL && ps.minlen > len) {
			*out = *br;
			out->active = true;
			return true;
		}
		if (pc != NULL) {
			memset(out, 0, sizeof(*out));
			out->prefix = pc->prefix;
			out->source = ROUTE_SRC_DEFAULT;
			out->next_hop = pc->nh;
			out->active = true;
			out->peering = pc->peering;
			out->remote = pc->remote;
			return true;
		}
		if (ar != NULL && !(ar->next_hop == NH_NONE && user_default_valid(ctx, s))) {
			*out = *ar;
			return true;
		}
	}
	return false;
}

/* ---- path classification ---- */

/*
 * The class of a flow decided by route r (NULL: none).  Details name only
 * what is shared by every flow of the kind (an appliance address, a
 * circuit id, why it is unreachable), never the VNets, so summaries can
 * count flows per detail; local, peering, mesh and on-premises have none.
 */
void
re_classify(struct path_result *out, const struct routes_ctx *ctx, const struct src *s,
    const struct route *r, const struct cidr *d)
{
	char pfx[CIDR_STRLEN];

	memset(out, 0, sizeof(*out));
	out->dst = *d;
	out->cls = PATH_UNREACHABLE;
	if (r == NULL) {
		snprintf(out->detail, sizeof(out->detail), "no route");
		return;
	}
	out->route = *r;
	out->has_route = true;
	switch (r->next_hop) {
	case NH_VNET_LOCAL:
		if (s->vnet != NULL && re_prefixes_contain(&s->vnet->prefixes, d)) {
			out->cls = PATH_LOCAL;
		} else {
			cidr_format(&r->prefix, pfx);
			snprintf(out->detail, sizeof(out->detail), "kept in the source VNet by %s VnetLocal", pfx);
		}
		return;
	case NH_VNET_PEERING:
	case NH_VNET_GLOBAL_PEERING:
		out->cls = PATH_PEERING;
		return;
	case NH_CONNECTED_GROUP:
		out->cls = PATH_MESH;
		return;
	case NH_VIRTUAL_APPLIANCE:
	case NH_VIRTUAL_APPLIANCE_ECMP:
		out->cls = PATH_VIA_APPLIANCE;
		if (r->has_next_hop_ip)
			cidr_format_addr(&r->next_hop_ip, out->detail);
		return;
	case NH_NONE:
		cidr_format(&r->prefix, pfx);
		snprintf(out->detail, sizeof(out->detail), "dropped by %s None", pfx);
		return;
	case NH_INTERNET:
		snprintf(out->detail, sizeof(out->detail), "sent to the Internet");
		return;
	case NH_VIRTUAL_NETWORK_GATEWAY: {
		const struct circuit_info *ci;
		const struct circuit_route *cr;

		if (r->source != ROUTE_SRC_GATEWAY) {
			/* a user route reaches a VPN gateway: on-premises routing takes over */
			out->cls = PATH_ON_PREMISES;
			return;
		}
		if (r->route_server != NULL) {
			re_bgp_classify(out, ctx, s, r);
			return;
		}
		if (r->circuit == NULL) {
			snprintf(out->detail, sizeof(out->detail), "no circuit behind the gateway");
			return;
		}
		ci = &ctx->ci[(size_t)(r->circuit - ctx->t->circuits)];
		cr = cidr_table_lookup(ci->tab, d, NULL);
		if (cr == NULL) {
			snprintf(out->detail, sizeof(out->detail), "circuit %s has no route", re_res_id(r->circuit->res));
			return;
		}
		/* the circuit's route in route form: learned over r's circuit, from cr's origin */
		out->circuit_route.prefix = cr->prefix;
		out->circuit_route.source = ROUTE_SRC_GATEWAY;
		out->circuit_route.next_hop = cr->origin != NULL ? NH_VIRTUAL_NETWORK_GATEWAY : NH_UNKNOWN;
		out->circuit_route.has_next_hop_ip = re_parse_first_addr(&out->circuit_route.next_hop_ip, cr->next_hop);
		out->circuit_route.active = true;
		out->circuit_route.circuit = r->circuit;
		out->circuit_route.origin = cr->origin;
		out->circuit_route.gateway = cr->origin;
		out->has_circuit_route = true;
		if (cr->origin != NULL) {
			out->cls = PATH_HAIRPIN;
			snprintf(out->detail, sizeof(out->detail), "%s", re_res_id(r->circuit->res));
		} else {
			out->cls = PATH_ON_PREMISES;
		}
		return;
	}
	default:
		snprintf(out->detail, sizeof(out->detail), "unknown next hop");
		return;
	}
}

/*
 * The worst case over sources x destination prefixes, the first among
 * equals by source order then prefix order.
 */
void
re_path_eval(struct path_result *out, const struct routes_ctx *ctx, const struct src *srcs,
    const struct topo_subnet *const *subnets, size_t nsrcs, const struct cidr *dst, size_t ndst)
{
	struct path_result cur;
	bool have = false;

	for (size_t i = 0; i < nsrcs; i++)
		for (size_t j = 0; j < ndst; j++) {
			struct route r;
			bool found = re_lookup_layers(&r, ctx, &srcs[i], &dst[j]);

			re_classify(&cur, ctx, &srcs[i], found ? &r : NULL, &dst[j]);
			cur.from_subnet = subnets != NULL ? subnets[i] : NULL;
			if (!have || path_severity[cur.cls] > path_severity[out->cls]) {
				*out = cur;
				have = true;
			}
		}
	if (!have) {
		memset(out, 0, sizeof(*out));
		out->cls = PATH_UNREACHABLE;
		snprintf(out->detail, sizeof(out->detail), "the destination has no address space");
	}
}

/*
 * A destination prefix is looked up whole: the deciding route is the
 * longest active one that contains all of it; routes inside it (a UDR for
 * one subnet of the destination) do not decide the flow.
 */
int
routes_path_subnet(struct path_result *out, const struct routes_ctx *ctx,
    const struct topo_subnet *from, const struct cidr *dst, struct nw_err *err)
{
	struct src s = re_src_for(ctx, from->vnet, from->route_table);
	struct route r;
	bool found = re_lookup_layers(&r, ctx, &s, dst);

	re_classify(out, ctx, &s, found ? &r : NULL, dst);
	out->from_subnet = from;
	return 0;
}

int
routes_path(struct path_result *out, const struct routes_ctx *ctx,
    const struct topo_vnet *a, const struct topo_vnet *b, struct nw_err *err)
{
	struct src small[SMALL_SRCS], *srcs = small;
	const struct topo_subnet *small_sn[SMALL_SRCS], **subnets = small_sn;
	size_t n = 0;

	if (a == b) {
		memset(out, 0, sizeof(*out));
		out->cls = PATH_LOCAL;
		return 0;
	}
	if (a->nsubnets > SMALL_SRCS) {
		srcs = malloc(a->nsubnets * sizeof(*srcs));
		subnets = malloc(a->nsubnets * sizeof(*subnets));
		if (srcs == NULL || subnets == NULL) {
			if (srcs != small)
				free(srcs);
			if (subnets != small_sn)
				free((void *)subnets);
			return re_nomem(err, "a path");
		}
	}
	for (size_t i = 0; i < a->nsubnets; i++) {
		if (a->subnets[i].is_infrastructure)
			continue;
		srcs[n] = re_src_for(ctx, a, a->subnets[i].route_table);
		subnets[n] = &a->subnets[i];
		n++;
	}
	if (n == 0) {
		/* no workload subnet: one subnet with no route table */
		srcs[0] = re_src_for(ctx, a, NULL);
		subnets[0] = NULL;
		n = 1;
	}
	re_path_eval(out, ctx, srcs, subnets, n, b->prefixes.v, b->prefixes.n);
	if (srcs != small)
		free(srcs);
	if (subnets != small_sn)
		free((void *)subnets);
	return 0;
}

bool
path_class_worse(enum path_class a, enum path_class b)
{
	return path_severity[a] > path_severity[b];
}

int
routes_path_sources(struct path_result **out, size_t *nout, const struct routes_ctx *ctx,
    const struct topo_vnet *a, const struct topo_subnet *from, const struct cidr *dst,
    size_t ndst, struct nw_err *err)
{
	struct path_result *v;
	size_t n = 0;

	*out = NULL;
	*nout = 0;
	v = calloc(a->nsubnets + 1, sizeof(*v));
	if (v == NULL)
		return re_nomem(err, "a path");
	for (size_t i = 0; i < a->nsubnets; i++) {
		const struct topo_subnet *sn = &a->subnets[i];
		struct src s;

		if (from != NULL ? sn != from : sn->is_infrastructure)
			continue;
		s = re_src_for(ctx, a, sn->route_table);
		re_path_eval(&v[n++], ctx, &s, &sn, 1, dst, ndst);
	}
	if (n == 0 && from == NULL) {
		/* no workload subnet: one subnet with no route table */
		struct src s = re_src_for(ctx, a, NULL);

		re_path_eval(&v[n++], ctx, &s, NULL, 1, dst, ndst);
	}
	if (n == 0) {
		free(v);
		return err_set(err, NW_EINPUT, "subnet %s is not in VNet %s", from->name,
		    a->res->name);
	}
	*out = v;
	*nout = n;
	return 0;
}

size_t
routes_path_worst(const struct path_result *v, size_t n)
{
	size_t w = 0;

	for (size_t i = 1; i < n; i++)
		if (path_class_worse(v[i].cls, v[w].cls))
			w = i;
	return w;
}

bool
routes_path_agree(const struct path_result *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (v[i].cls != v[0].cls || strcmp(v[i].detail, v[0].detail) != 0)
			return false;
	return true;
}

/* ---- circuit tables ---- */

int
routes_circuit_table(struct circuit_route_set *out, const struct routes_ctx *ctx,
    const struct topo_circuit *c, struct nw_err *err)
{
	const struct circuit_info *ci;

	memset(out, 0, sizeof(*out));
	assert(c >= ctx->t->circuits && c < ctx->t->circuits + ctx->t->ncircuits);
	ci = &ctx->ci[(size_t)(c - ctx->t->circuits)];
	out->v = malloc((ci->n ? ci->n : 1) * sizeof(*out->v));
	if (out->v == NULL)
		return re_nomem(err, "a circuit route table");
	memcpy(out->v, ci->v, ci->n * sizeof(*out->v));
	out->n = ci->n;
	return 0;
}

void
circuit_route_set_free(struct circuit_route_set *s)
{
	if (s != NULL)
		VEC_CLEAR(s->v, s->n);
}
