/*
 * The route engine's context, built once per topology: what each gateway
 * advertises and learns, the BGP route sets, the route tables as lookup
 * layers, the connected groups of deployed AVNM configurations and the
 * circuits' route tables (plan/routes.c explains the layers).
 */
#include "config.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/routes_impl.h"

/* What Azure-advertised routes carry as their AS path on the circuit. */
static const char azure_asn_path[] = "65515";

/* ---- context: gateway advertisements ---- */

static int
ctx_build_advertised(struct routes_ctx *ctx, struct nw_err *err)
{
	const struct topology *t = ctx->t;
	size_t *nspokes = NULL, *start = NULL, *spokes = NULL, total = 0;
	struct cidr *buf = NULL;
	int rc = NW_ENOMEM;

	ctx->advertised = calloc(t->ngateways ? t->ngateways : 1, sizeof(*ctx->advertised));
	nspokes = calloc(t->nvnets + 1, sizeof(*nspokes));
	start = calloc(t->nvnets + 1, sizeof(*start));
	if (ctx->advertised == NULL || nspokes == NULL || start == NULL)
		goto done;

	/* the gateway-transit spokes of each hub */
	for (size_t w = 0; w < t->nvnets; w++)
		for (size_t i = 0; i < t->vnets[w].npeerings; i++)
			if (re_peering_uses_transit(&t->vnets[w], &t->vnets[w].peerings[i])) {
				nspokes[vnet_index(t, t->vnets[w].peerings[i].remote)]++;
				total++;
			}
	for (size_t h = 0; h < t->nvnets; h++)
		start[h + 1] = start[h] + nspokes[h];
	spokes = calloc(total ? total : 1, sizeof(*spokes));
	if (spokes == NULL)
		goto done;
	memset(nspokes, 0, (t->nvnets + 1) * sizeof(*nspokes));
	for (size_t w = 0; w < t->nvnets; w++)
		for (size_t i = 0; i < t->vnets[w].npeerings; i++)
			if (re_peering_uses_transit(&t->vnets[w], &t->vnets[w].peerings[i])) {
				size_t h = vnet_index(t, t->vnets[w].peerings[i].remote);

				spokes[start[h] + nspokes[h]++] = w;
			}

	for (size_t g = 0; g < t->ngateways; g++) {
		const struct topo_vnet *hub = t->gateways[g].vnet;
		size_t h, n = 0, cap;

		if (hub == NULL)
			continue;
		h = vnet_index(t, hub);
		cap = hub->prefixes.n + hub->summarized.n;
		for (size_t k = start[h]; k < start[h + 1]; k++)
			cap += t->vnets[spokes[k]].prefixes.n;
		buf = malloc((cap ? cap : 1) * sizeof(*buf));
		if (buf == NULL)
			goto done;
		/*
		 * With summarized prefixes the gateway advertises the summaries
		 * instead of the hub's space and drops what they cover; what
		 * they do not cover still goes out as is.
		 */
		for (size_t i = 0; i < hub->summarized.n; i++)
			buf[n++] = hub->summarized.v[i];
		for (size_t k = start[h]; k <= start[h + 1]; k++) {
			const struct topo_prefixes *p = k < start[h + 1] ?
			    &t->vnets[spokes[k]].prefixes : &hub->prefixes;

			for (size_t i = 0; i < p->n; i++)
				if (!re_prefixes_contain(&hub->summarized, &p->v[i]))
					buf[n++] = p->v[i];
		}
		ctx->advertised[g].n = re_cidrs_sort_unique(buf, n);
		ctx->advertised[g].v = buf;
		buf = NULL;
	}
	rc = 0;
done:
	free(buf);
	free(nspokes);
	free(start);
	free(spokes);
	return rc == 0 ? 0 : re_nomem(err, "gateway advertisements");
}

/* ---- context: what each gateway learns ---- */

/* An ExpressRoute connection to a circuit in the file. */
static bool
connection_is_expressroute(const struct topo_connection *c)
{
	return c->circuit != NULL &&
	    (c->connection_type == NULL || strcasecmp(c->connection_type, "ExpressRoute") == 0);
}

static int
learned_push(struct route **v, size_t *n, size_t *cap, const struct cidr *prefix,
    const struct topo_gateway *g, const struct topo_circuit *c, const struct topo_gateway *origin,
    const struct cidr *ip)
{
	struct route *r;

	if (GROW(*v, cap, *n + 1) != 0)
		return NW_ENOMEM;
	r = &(*v)[(*n)++];
	memset(r, 0, sizeof(*r));
	r->prefix = *prefix;
	r->source = ROUTE_SRC_GATEWAY;
	r->next_hop = NH_VIRTUAL_NETWORK_GATEWAY;
	r->has_next_hop_ip = ip != NULL;
	if (ip != NULL)
		r->next_hop_ip = *ip;
	r->active = true;
	r->gateway = g;
	r->circuit = c;
	r->origin = origin;
	return 0;
}

/*
 * Over each ExpressRoute connection: the circuit's on-premises routes,
 * and what every other gateway on that circuit advertises unless the
 * gateway refuses traffic from remote virtual networks.
 */
static int
gateway_learn(struct routes_ctx *ctx, size_t gi)
{
	const struct topology *t = ctx->t;
	const struct topo_gateway *g = &t->gateways[gi];
	struct route *v = NULL;
	size_t n = 0, cap = 0;
	struct cidr ip;
	int rc = NW_ENOMEM;

	for (size_t c = 0; c < g->nconnections; c++) {
		const struct topo_circuit *circ = g->connections[c]->circuit;

		if (!connection_is_expressroute(g->connections[c]))
			continue;
		for (size_t i = 0; circ->routes_observed && i < circ->nroutes; i++) {
			bool has_ip = re_parse_first_addr(&ip, circ->routes[i].next_hop);

			if (learned_push(&v, &n, &cap, &circ->routes[i].prefix, g, circ, NULL,
			    has_ip ? &ip : NULL) != 0)
				goto done;
		}
		if (!g->allow_remote_vnet_traffic)
			continue;
		for (size_t k = 0; k < circ->nconnections; k++) {
			const struct topo_gateway *g2 = circ->connections[k]->gateway;
			const struct topo_prefixes *adv;
			bool has_ip;

			if (g2 == NULL || g2 == g || !connection_is_expressroute(circ->connections[k]))
				continue;
			adv = &ctx->advertised[gateway_index(t, g2)];
			has_ip = re_parse_first_addr(&ip, g2->bgp_peering_address);
			for (size_t i = 0; i < adv->n; i++)
				if (learned_push(&v, &n, &cap, &adv->v[i], g, circ, g2, has_ip ? &ip : NULL) != 0)
					goto done;
		}
	}
	ctx->learned[gi] = v;
	ctx->nlearned[gi] = n;
	v = NULL;
	rc = 0;
done:
	free(v);
	return rc;
}

static int
ctx_build_learned(struct routes_ctx *ctx, struct nw_err *err)
{
	const struct topology *t = ctx->t;

	ctx->learned = calloc(t->ngateways ? t->ngateways : 1, sizeof(*ctx->learned));
	ctx->nlearned = calloc(t->ngateways ? t->ngateways : 1, sizeof(*ctx->nlearned));
	if (ctx->learned == NULL || ctx->nlearned == NULL)
		return re_nomem(err, "learned routes");
	for (size_t gi = 0; gi < t->ngateways; gi++)
		if (gateway_learn(ctx, gi) != 0)
			return re_nomem(err, "learned routes");
	return 0;
}

/* ---- context: BGP sets ---- */

struct seq_route {
	struct route r;
	size_t seq;
};

/*
 * When several gateways or circuits offer the same prefix, one route
 * stays: an on-premises route before a gateway-advertised one, then the
 * circuit with the smallest id, then the advertising gateway with the
 * smallest id, then the installing gateway with the smallest id.  (Azure
 * would weigh connection routing weight and AS path length; ids keep the
 * choice deterministic and the class of the path does not depend on it.)
 */
static int
cmp_bgp_pref(const void *a, const void *b)
{
	const struct seq_route *x = a, *y = b;
	int c = cidr_compare(&x->r.prefix, &y->r.prefix);

	if (c != 0)
		return c;
	if ((x->r.origin == NULL) != (y->r.origin == NULL))
		return x->r.origin == NULL ? -1 : 1;
	c = topo_id_compare(re_res_id(x->r.circuit->res), re_res_id(y->r.circuit->res));
	if (c != 0)
		return c;
	if (x->r.origin != NULL) {
		c = topo_id_compare(re_res_id(x->r.origin->res), re_res_id(y->r.origin->res));
		if (c != 0)
			return c;
	}
	c = topo_id_compare(re_res_id(x->r.gateway->res), re_res_id(y->r.gateway->res));
	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
bgp_set_fill(struct routes_ctx *ctx, struct bgp_set *bs)
{
	const struct topology *t = ctx->t;
	struct seq_route *all = NULL;
	size_t total = 0, n = 0, k = 0;
	int rc = NW_ENOMEM;

	for (size_t i = 0; i < bs->ngws; i++) {
		if (t->gateways[bs->gws[i]].kind == GATEWAY_VPN)
			bs->has_vpn = true;
		total += ctx->nlearned[bs->gws[i]];
	}
	bs->tab = cidr_table_new();
	if (bs->tab == NULL)
		goto done;
	if (total == 0) {
		/* no gateway: only a route server's routes, if any */
		if (re_bgp_merge(ctx, bs) != 0)
			goto done;
		for (size_t i = 0; i < bs->n; i++)
			if (cidr_table_add(bs->tab, &bs->v[i].prefix, &bs->v[i]) < 0)
				goto done;
		return 0;
	}
	all = malloc(total * sizeof(*all));
	bs->v = malloc(total * sizeof(*bs->v));
	if (all == NULL || bs->v == NULL)
		goto done;
	for (size_t i = 0; i < bs->ngws; i++)
		for (size_t j = 0; j < ctx->nlearned[bs->gws[i]]; j++) {
			all[n].r = ctx->learned[bs->gws[i]][j];
			all[n].seq = n;
			n++;
		}
	qsort(all, n, sizeof(*all), cmp_bgp_pref);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || !cidr_equal(&bs->v[k - 1].prefix, &all[i].r.prefix))
			bs->v[k++] = all[i].r;
	bs->n = k;
	if (re_bgp_merge(ctx, bs) != 0)
		goto done;
	k = bs->n;
	for (size_t i = 0; i < k; i++)
		if (cidr_table_add(bs->tab, &bs->v[i].prefix, &bs->v[i]) < 0)
			goto done;
	rc = 0;
done:
	free(all);
	return rc;
}

static int
ctx_build_bgp(struct routes_ctx *ctx, struct nw_err *err)
{
	const struct topology *t = ctx->t;
	struct intern in = { 0 };
	size_t *gws = NULL, gcap = 0, bcap = 0;
	int rc = NW_ENOMEM;

	ctx->vi = calloc(t->nvnets ? t->nvnets : 1, sizeof(*ctx->vi));
	if (ctx->vi == NULL)
		goto done;
	for (size_t v = 0; v < t->nvnets; v++) {
		const struct topo_vnet *vn = &t->vnets[v];
		size_t n = 0, id;
		bool fresh;

		for (size_t i = 0; i < vn->ngateways; i++) {
			if (GROW(gws, &gcap, n + 1) != 0)
				goto done;
			gws[n++] = gateway_index(t, vn->gateways[i]);
		}
		for (size_t p = 0; p < vn->npeerings; p++) {
			const struct topo_vnet *h = vn->peerings[p].remote;

			if (!re_peering_uses_transit(vn, &vn->peerings[p]))
				continue;
			for (size_t i = 0; i < h->ngateways; i++) {
				if (GROW(gws, &gcap, n + 1) != 0)
					goto done;
				gws[n++] = gateway_index(t, h->gateways[i]);
			}
		}
		n = re_sizes_sort_unique(gws, n);
		/* the route server whose routes the VNet receives is part of the key */
		if (GROW(gws, &gcap, n + 1) != 0)
			goto done;
		gws[n] = re_bgp_server_of(ctx, vn);
		if (re_intern_put(&in, gws, (n + 1) * sizeof(*gws), &id, &fresh) != 0)
			goto done;
		if (fresh) {
			struct bgp_set *bs;

			if (GROW(ctx->bgp, &bcap, ctx->nbgp + 1) != 0)
				goto done;
			bs = &ctx->bgp[ctx->nbgp++];
			memset(bs, 0, sizeof(*bs));
			bs->gws = malloc((n ? n : 1) * sizeof(*bs->gws));
			if (bs->gws == NULL)
				goto done;
			if (n > 0)
				memcpy(bs->gws, gws, n * sizeof(*gws));
			bs->ngws = n;
			bs->server = gws[n];
			if (bgp_set_fill(ctx, bs) != 0)
				goto done;
		}
		ctx->vi[v].bgp = id;
	}
	rc = 0;
done:
	free(gws);
	re_intern_free(&in);
	return rc == 0 ? 0 : re_nomem(err, "BGP routes");
}

/* ---- context: route tables ---- */

static int
cmp_seq_route_prefix(const void *a, const void *b)
{
	const struct seq_route *x = a, *y = b;
	int c = cidr_compare(&x->r.prefix, &y->r.prefix);

	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
ctx_build_route_tables(struct routes_ctx *ctx, struct nw_err *err)
{
	const struct topology *t = ctx->t;
	struct seq_route *tmp = NULL;
	int rc = NW_ENOMEM;

	ctx->rt = calloc(t->nroute_tables ? t->nroute_tables : 1, sizeof(*ctx->rt));
	if (ctx->rt == NULL)
		goto done;
	for (size_t i = 0; i < t->nroute_tables; i++) {
		const struct topo_route_table *tab = &t->route_tables[i];
		struct rt_layer *l = &ctx->rt[i];
		size_t n = tab->nroutes;

		l->tab = cidr_table_new();
		l->v = calloc(n ? n : 1, sizeof(*l->v));
		l->slots = calloc(n ? n : 1, sizeof(*l->slots));
		tmp = calloc(n ? n : 1, sizeof(*tmp));
		if (l->tab == NULL || l->v == NULL || l->slots == NULL || tmp == NULL)
			goto done;
		for (size_t k = 0; k < n; k++) {
			const struct topo_route *ur = &tab->routes[k];
			struct route *r = &tmp[k].r;

			r->prefix = ur->prefix;
			r->source = ROUTE_SRC_USER;
			r->next_hop = ur->next_hop;
			r->has_next_hop_ip = ur->has_next_hop_ip;
			r->next_hop_ip = ur->next_hop_ip;
			r->active = true;
			r->name = ur->name;
			r->route_table = tab;
			tmp[k].seq = k;
			if (ur->next_hop == NH_VIRTUAL_NETWORK_GATEWAY)
				l->has_vng = true;
		}
		qsort(tmp, n, sizeof(*tmp), cmp_seq_route_prefix);
		for (size_t k = 0; k < n; k++) {
			l->v[k] = tmp[k].r;
			if (l->nslots > 0 && cidr_equal(&l->v[l->slots[l->nslots - 1].start].prefix, &l->v[k].prefix)) {
				l->slots[l->nslots - 1].end = k + 1;
				continue;
			}
			l->slots[l->nslots].start = k;
			l->slots[l->nslots].end = k + 1;
			l->nslots++;
		}
		l->n = n;
		for (size_t s = 0; s < l->nslots; s++)
			if (cidr_table_add(l->tab, &l->v[l->slots[s].start].prefix, &l->slots[s]) < 0)
				goto done;
		free(tmp);
		tmp = NULL;
	}
	rc = 0;
done:
	free(tmp);
	return rc == 0 ? 0 : re_nomem(err, "route tables");
}

/* ---- context: connected groups ---- */

struct deployed {
	const char **regions;
	size_t n, cap;
};

static bool
region_in(const struct deployed *d, const char *loc)
{
	if (loc == NULL)
		return false;
	for (size_t i = 0; i < d->n; i++)
		if (topo_location_equal(d->regions[i], loc))
			return true;
	return false;
}

static int
cg_add(struct routes_ctx *ctx, size_t *cgcap, const size_t *members, size_t n)
{
	const struct topology *t = ctx->t;
	struct cgroup *g;
	struct owned *items = NULL;
	size_t nitems = 0, k = 0;
	int rc = NW_ENOMEM;

	if (n < 2)
		return 0;
	if (GROW(ctx->cg, cgcap, ctx->ncg + 1) != 0)
		return NW_ENOMEM;
	g = &ctx->cg[ctx->ncg++];
	memset(g, 0, sizeof(*g));
	g->members = malloc(n * sizeof(*g->members));
	g->tab = cidr_table_new();
	if (g->members == NULL || g->tab == NULL)
		goto done;
	memcpy(g->members, members, n * sizeof(*members));
	g->nmembers = n;
	for (size_t i = 0; i < n; i++)
		nitems += t->vnets[members[i]].prefixes.n;
	items = calloc(nitems ? nitems : 1, sizeof(*items));
	g->kept = calloc(nitems ? nitems : 1, sizeof(*g->kept));
	if (items == NULL || g->kept == NULL)
		goto done;
	nitems = 0;
	for (size_t i = 0; i < n; i++) {
		const struct topo_prefixes *p = &t->vnets[members[i]].prefixes;

		for (size_t j = 0; j < p->n; j++) {
			items[nitems].c = p->v[j];
			items[nitems].owner = members[i];
			items[nitems].tag = nitems;
			nitems++;
		}
	}
	/* Azure's "Allowed" overlap drops a member's prefix that overlaps another member's */
	if (re_overlaps_mark(items, nitems) != 0)
		goto done;
	for (size_t i = 0; i < nitems; i++)
		if (!items[i].hit) {
			g->kept[k].prefix = items[i].c;
			g->kept[k].vnet = items[i].owner;
			k++;
		}
	g->nkept = k;
	for (size_t i = 0; i < k; i++)
		if (cidr_table_add(g->tab, &g->kept[i].prefix, &g->kept[i]) < 0)
			goto done;
	rc = 0;
done:
	free(items);
	return rc;
}

/* The regions each Connectivity configuration is deployed in (observed.avnmDeployments). */
static int
groups_deployed(struct deployed *dep, const struct topology *t)
{
	for (size_t d = 0; d < t->ndeployments; d++) {
		const struct topo_deployment *de = &t->deployments[d];

		if (de->config_type == NULL || strcasecmp(de->config_type, "Connectivity") != 0 || de->region == NULL)
			continue;
		for (size_t i = 0; i < de->nconfigs; i++) {
			struct deployed *dc;

			if (de->configs == NULL || de->configs[i] == NULL)
				continue;
			dc = &dep[(size_t)(de->configs[i] - t->configs)];
			if (region_in(dc, de->region))
				continue;
			if (GROW(dc->regions, &dc->cap, dc->n + 1) != 0)
				return NW_ENOMEM;
			dc->regions[dc->n++] = de->region;
		}
	}
	return 0;
}

/*
 * The members of unit u of configuration cc (a mesh is one unit of every
 * applied group; hub and spoke one unit per directly connected group) in
 * the regions it is deployed in, sorted; *global when the unit spans them.
 */
static int
unit_members(size_t **members, size_t *mcap, size_t *nout, bool *global,
    const struct topology *t, const struct topo_connectivity_config *cc,
    const struct deployed *dc, size_t u)
{
	size_t n = 0;

	*global = cc->is_global;
	for (size_t gi = 0; gi < cc->ngroups; gi++) {
		const struct topo_cc_group *ag = &cc->groups[gi];

		if (cc->topology == CC_HUB_AND_SPOKE && (gi != u || !ag->directly_connected))
			continue;
		if (ag->group == NULL)
			continue;
		if (ag->is_global)
			*global = true;
		for (size_t m = 0; m < ag->group->nmembers; m++) {
			const struct topo_vnet *vn = ag->group->members[m]->vnet;

			if (vn == NULL || !region_in(dc, vn->res->location))
				continue;
			if (GROW(*members, mcap, n + 1) != 0)
				return NW_ENOMEM;
			(*members)[n++] = vnet_index(t, vn);
		}
	}
	*nout = re_sizes_sort_unique(*members, n);
	return 0;
}

/* One connected group for a global unit, else one per region it is deployed in. */
static int
unit_groups(struct routes_ctx *ctx, size_t *cgcap, const size_t *members, size_t n, bool global,
    const struct deployed *dc)
{
	const struct topology *t = ctx->t;

	if (global)
		return cg_add(ctx, cgcap, members, n);
	for (size_t r = 0; r < dc->n; r++) {
		size_t *sub = malloc((n ? n : 1) * sizeof(*sub)), k = 0;
		int rc;

		if (sub == NULL)
			return NW_ENOMEM;
		for (size_t i = 0; i < n; i++)
			if (topo_location_equal(t->vnets[members[i]].res->location, dc->regions[r]))
				sub[k++] = members[i];
		rc = cg_add(ctx, cgcap, sub, k);
		free(sub);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Each VNet's connected groups, ascending. */
static int
groups_per_vnet(struct routes_ctx *ctx)
{
	const struct topology *t = ctx->t;
	size_t *cnt = calloc(t->nvnets ? t->nvnets : 1, sizeof(*cnt));

	if (cnt == NULL)
		return NW_ENOMEM;
	for (size_t g = 0; g < ctx->ncg; g++)
		for (size_t i = 0; i < ctx->cg[g].nmembers; i++)
			cnt[ctx->cg[g].members[i]]++;
	for (size_t v = 0; v < t->nvnets; v++) {
		if (cnt[v] == 0)
			continue;
		ctx->vi[v].groups = malloc(cnt[v] * sizeof(*ctx->vi[v].groups));
		if (ctx->vi[v].groups == NULL) {
			free(cnt);
			return NW_ENOMEM;
		}
	}
	free(cnt);
	for (size_t g = 0; g < ctx->ncg; g++)
		for (size_t i = 0; i < ctx->cg[g].nmembers; i++) {
			struct vnet_info *vi = &ctx->vi[ctx->cg[g].members[i]];

			vi->groups[vi->ngroups++] = g;
		}
	return 0;
}

static int
ctx_build_groups(struct routes_ctx *ctx, struct nw_err *err)
{
	const struct topology *t = ctx->t;
	struct deployed *dep = NULL;
	size_t *members = NULL, mcap = 0, cgcap = 0;
	int rc = NW_ENOMEM;

	dep = calloc(t->nconfigs ? t->nconfigs : 1, sizeof(*dep));
	if (dep == NULL || groups_deployed(dep, t) != 0)
		goto done;
	for (size_t c = 0; c < t->nconfigs; c++) {
		const struct topo_connectivity_config *cc = &t->configs[c];
		size_t nunits, n;
		bool global;

		if (dep[c].n == 0)
			continue;
		if (cc->topology == CC_MESH)
			nunits = 1;
		else if (cc->topology == CC_HUB_AND_SPOKE)
			nunits = cc->ngroups;
		else
			continue;
		for (size_t u = 0; u < nunits; u++)
			if (unit_members(&members, &mcap, &n, &global, t, cc, &dep[c], u) != 0 ||
			    unit_groups(ctx, &cgcap, members, n, global, &dep[c]) != 0)
				goto done;
	}
	if (groups_per_vnet(ctx) != 0)
		goto done;
	rc = 0;
done:
	if (dep != NULL)
		for (size_t c = 0; c < t->nconfigs; c++)
			free(dep[c].regions);
	free(dep);
	free(members);
	return rc == 0 ? 0 : re_nomem(err, "connected groups");
}

/* ---- context: circuits ---- */

struct seq_croute {
	struct circuit_route r;
	size_t seq;
};

static int
cmp_croute(const void *a, const void *b)
{
	const struct seq_croute *x = a, *y = b;
	int c = cidr_compare(&x->r.prefix, &y->r.prefix);

	if (c != 0)
		return c;
	if ((x->r.origin == NULL) != (y->r.origin == NULL))
		return x->r.origin == NULL ? -1 : 1;
	if (x->r.origin != NULL) {
		c = topo_id_compare(re_res_id(x->r.origin->res), re_res_id(y->r.origin->res));
		if (c != 0)
			return c;
	}
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Branch-to-branch: what the gateway passes on from its route server, with its AS path. */
static size_t
circuit_add_bgp(const struct routes_ctx *ctx, struct seq_croute *tmp, size_t n, size_t gi)
{
	const struct topo_gateway *g = &ctx->t->gateways[gi];
	const struct bgp_route *xv;
	const char (*xp)[BGP_PATH_STRLEN];
	size_t nx = re_bgp_gateway_circuit_routes(ctx, gi, &xv, &xp);

	for (size_t i = 0; i < nx; i++) {
		memset(&tmp[n], 0, sizeof(tmp[n]));
		tmp[n].r.prefix = xv[i].prefix;
		tmp[n].r.next_hop = g->bgp_peering_address;
		tmp[n].r.path = xp[i];
		tmp[n].r.origin = g;
		tmp[n].seq = n;
		n++;
	}
	return n;
}

static int
ctx_build_circuits(struct routes_ctx *ctx, struct nw_err *err)
{
	const struct topology *t = ctx->t;
	size_t *gws = NULL;
	struct seq_croute *tmp = NULL;
	int rc = NW_ENOMEM;

	ctx->ci = calloc(t->ncircuits ? t->ncircuits : 1, sizeof(*ctx->ci));
	if (ctx->ci == NULL)
		goto done;
	for (size_t ci = 0; ci < t->ncircuits; ci++) {
		const struct topo_circuit *c = &t->circuits[ci];
		struct circuit_info *info = &ctx->ci[ci];
		size_t ng = 0, n = 0, total = c->routes_observed ? c->nroutes : 0;

		gws = malloc((c->nconnections ? c->nconnections : 1) * sizeof(*gws));
		info->tab = cidr_table_new();
		if (gws == NULL || info->tab == NULL)
			goto done;
		for (size_t k = 0; k < c->nconnections; k++)
			if (c->connections[k]->gateway != NULL && connection_is_expressroute(c->connections[k]))
				gws[ng++] = gateway_index(t, c->connections[k]->gateway);
		ng = re_sizes_sort_unique(gws, ng);
		for (size_t k = 0; k < ng; k++) {
			const struct bgp_route *xv;
			const char (*xp)[BGP_PATH_STRLEN];

			total += ctx->advertised[gws[k]].n + re_bgp_gateway_circuit_routes(ctx, gws[k], &xv, &xp);
		}
		tmp = calloc(total ? total : 1, sizeof(*tmp));
		info->v = calloc(total ? total : 1, sizeof(*info->v));
		if (tmp == NULL || info->v == NULL)
			goto done;
		for (size_t i = 0; c->routes_observed && i < c->nroutes; i++) {
			tmp[n].r.prefix = c->routes[i].prefix;
			tmp[n].r.next_hop = c->routes[i].next_hop;
			tmp[n].r.path = c->routes[i].path;
			tmp[n].seq = n;
			n++;
		}
		for (size_t k = 0; k < ng; k++) {
			const struct topo_gateway *g = &t->gateways[gws[k]];
			const struct topo_prefixes *adv = &ctx->advertised[gws[k]];

			for (size_t i = 0; i < adv->n; i++) {
				tmp[n].r.prefix = adv->v[i];
				tmp[n].r.next_hop = g->bgp_peering_address;
				tmp[n].r.path = azure_asn_path;
				tmp[n].r.origin = g;
				tmp[n].seq = n;
				n++;
			}
			n = circuit_add_bgp(ctx, tmp, n, gws[k]);
		}
		qsort(tmp, n, sizeof(*tmp), cmp_croute);
		for (size_t i = 0; i < n; i++)
			info->v[i] = tmp[i].r;
		info->n = n;
		/* on a tie of prefix the gateway's route is the one that carries the flow */
		for (size_t i = 0; i < n;) {
			size_t j = i, best = i;

			while (j < n && cidr_equal(&info->v[j].prefix, &info->v[i].prefix)) {
				if (info->v[best].origin == NULL && info->v[j].origin != NULL)
					best = j;
				j++;
			}
			if (cidr_table_add(info->tab, &info->v[best].prefix, &info->v[best]) < 0)
				goto done;
			i = j;
		}
		free(tmp);
		tmp = NULL;
		free(gws);
		gws = NULL;
	}
	rc = 0;
done:
	free(tmp);
	free(gws);
	return rc == 0 ? 0 : re_nomem(err, "circuit route tables");
}

/* ---- context ---- */

int
routes_ctx_new(struct routes_ctx **out, const struct topology *t, struct nw_err *err)
{
	struct routes_ctx *ctx;
	int rc;

	*out = NULL;
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return re_nomem(err, "the route context");
	ctx->t = t;
	{
		static const struct {
			uint8_t a, b;
			unsigned len;
			enum topo_next_hop nh;
		} defs[NAZURE] = {
			{ 0, 0, 0, NH_INTERNET }, { 10, 0, 8, NH_NONE },
			{ 100, 64, 10, NH_NONE }, { 172, 16, 12, NH_NONE },
			{ 192, 168, 16, NH_NONE },
		};

		for (size_t i = 0; i < NAZURE; i++) {
			ctx->azure[i].prefix = re_v4(defs[i].a, defs[i].b, defs[i].len);
			ctx->azure[i].source = ROUTE_SRC_DEFAULT;
			ctx->azure[i].next_hop = defs[i].nh;
			ctx->azure[i].active = true;
		}
	}
	if ((rc = ctx_build_advertised(ctx, err)) != 0 ||
	    (rc = ctx_build_learned(ctx, err)) != 0 ||
	    (rc = re_bgp_build(ctx, err)) != 0 ||
	    (rc = ctx_build_bgp(ctx, err)) != 0 ||
	    (rc = ctx_build_route_tables(ctx, err)) != 0 ||
	    (rc = ctx_build_groups(ctx, err)) != 0 ||
	    (rc = ctx_build_circuits(ctx, err)) != 0) {
		routes_ctx_free(ctx);
		return rc;
	}
	*out = ctx;
	return 0;
}

void
routes_ctx_free(struct routes_ctx *ctx)
{
	const struct topology *t;

	if (ctx == NULL)
		return;
	t = ctx->t;
	if (ctx->advertised != NULL)
		for (size_t g = 0; g < t->ngateways; g++)
			free(ctx->advertised[g].v);
	free(ctx->advertised);
	if (ctx->learned != NULL)
		for (size_t g = 0; g < t->ngateways; g++)
			free(ctx->learned[g]);
	free(ctx->learned);
	free(ctx->nlearned);
	for (size_t i = 0; i < ctx->nbgp; i++) {
		free(ctx->bgp[i].gws);
		free(ctx->bgp[i].v);
		cidr_table_free(ctx->bgp[i].tab);
	}
	free(ctx->bgp);
	if (ctx->rt != NULL)
		for (size_t i = 0; i < t->nroute_tables; i++) {
			free(ctx->rt[i].v);
			free(ctx->rt[i].slots);
			cidr_table_free(ctx->rt[i].tab);
		}
	free(ctx->rt);
	for (size_t i = 0; i < ctx->ncg; i++) {
		free(ctx->cg[i].members);
		free(ctx->cg[i].kept);
		cidr_table_free(ctx->cg[i].tab);
	}
	free(ctx->cg);
	if (ctx->ci != NULL)
		for (size_t i = 0; i < t->ncircuits; i++) {
			free(ctx->ci[i].v);
			cidr_table_free(ctx->ci[i].tab);
		}
	free(ctx->ci);
	if (ctx->vi != NULL)
		for (size_t v = 0; v < t->nvnets; v++)
			free(ctx->vi[v].groups);
	free(ctx->vi);
	re_bgp_free(ctx->bgpm, t);
	free(ctx);
}

const struct topo_prefixes *
routes_gateway_advertised(const struct routes_ctx *ctx, const struct topo_gateway *g)
{
	if (g == NULL || g < ctx->t->gateways || g >= ctx->t->gateways + ctx->t->ngateways)
		return &re_no_prefixes;
	return &ctx->advertised[gateway_index(ctx->t, g)];
}
