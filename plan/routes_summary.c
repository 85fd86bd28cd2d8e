/*
 * East-west summaries over an estate (plan/routes.h): the fast
 * routes_summary that decides whole classes of VNets at once, and the
 * pair-by-pair routes_summary_slow it is checked against; both count a
 * flow per ordered VNet pair (the worst subnet decides) or, for check,
 * per source subnet and destination VNet.
 */
#include "config.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/routes_impl.h"

/* ---- summaries ---- */

struct bucket_list {
	struct path_bucket *v;
	size_t n, cap;
};

static int
bucket_index(size_t *idx, struct bucket_list *bl, enum path_class cls, const char *detail)
{
	for (size_t i = 0; i < bl->n; i++)
		if (bl->v[i].cls == cls && strcmp(bl->v[i].detail, detail) == 0) {
			*idx = i;
			return 0;
		}
	if (GROW(bl->v, &bl->cap, bl->n + 1) != 0)
		return NW_ENOMEM;
	memset(&bl->v[bl->n], 0, sizeof(bl->v[bl->n]));
	bl->v[bl->n].cls = cls;
	snprintf(bl->v[bl->n].detail, sizeof(bl->v[bl->n].detail), "%s", detail);
	*idx = bl->n++;
	return 0;
}

/* Adds count flows; the example is the smallest (a, b) by VNet index. */
static void
bucket_count(struct bucket_list *bl, const struct topology *t, size_t idx, size_t count, size_t a, size_t b)
{
	struct path_bucket *pb = &bl->v[idx];

	if (count == 0)
		return;
	pb->count += count;
	if (pb->example_from == NULL) {
		pb->example_from = &t->vnets[a];
		pb->example_to = &t->vnets[b];
	} else {
		size_t ea = vnet_index(t, pb->example_from), eb = vnet_index(t, pb->example_to);

		if (a < ea || (a == ea && b < eb)) {
			pb->example_from = &t->vnets[a];
			pb->example_to = &t->vnets[b];
		}
	}
}

static int
cmp_bucket(const void *a, const void *b)
{
	const struct path_bucket *x = a, *y = b;
	int c = CMP3(x->cls, y->cls);

	return c != 0 ? c : strcmp(x->detail, y->detail);
}

/*
 * What a summary run shares: the bucket list, the mixed sources (by
 * subnet), and whether flows are counted per source subnet.
 */
struct tally {
	const struct routes_ctx *ctx;
	struct bucket_list bl;
	bool by_subnet;
	size_t *mixed_to; /* per VNet: the first destination its subnets disagree on, or NONE_ID */
	size_t (*by_vnet)[PATH_NCLASSES]; /* by subnet: per source VNet, flows per class */
	size_t sources;
};

/* The arrays a run keeps per VNet. */
static int
tally_init(struct tally *ty, size_t nvnets)
{
	ty->mixed_to = malloc((nvnets + 1) * sizeof(*ty->mixed_to));
	if (ty->mixed_to == NULL)
		return NW_ENOMEM;
	for (size_t v = 0; v <= nvnets; v++)
		ty->mixed_to[v] = NONE_ID;
	if (ty->by_subnet && (ty->by_vnet = calloc(nvnets + 1, sizeof(*ty->by_vnet))) == NULL)
		return NW_ENOMEM;
	return 0;
}

static void
tally_free(struct tally *ty)
{
	free(ty->bl.v);
	free(ty->mixed_to);
	free(ty->by_vnet);
}

static void
tally_mixed(struct tally *ty, size_t a, size_t b)
{
	if (ty->mixed_to[a] == NONE_ID || b < ty->mixed_to[a])
		ty->mixed_to[a] = b;
}

static int
cmp_mixed(const void *a, const void *b)
{
	const struct path_mixed *x = a, *y = b;

	return CMP3(x->vnet, y->vnet);
}

static int
summary_finish(struct path_summary *out, struct tally *ty, size_t nmembers)
{
	const struct topology *t = ty->ctx->t;
	struct bucket_list *bl = &ty->bl;

	memset(out, 0, sizeof(*out));
	for (size_t v = 0; ty->by_subnet && v < t->nvnets; v++)
		if (ty->mixed_to[v] != NONE_ID)
			out->nmixed++;
	if (out->nmixed > 0) {
		out->mixed = calloc(out->nmixed, sizeof(*out->mixed));
		if (out->mixed == NULL)
			return NW_ENOMEM;
		out->nmixed = 0;
		for (size_t v = 0; v < t->nvnets; v++)
			if (ty->mixed_to[v] != NONE_ID) {
				out->mixed[out->nmixed].vnet = &t->vnets[v];
				out->mixed[out->nmixed++].example_to = &t->vnets[ty->mixed_to[v]];
			}
		qsort(out->mixed, out->nmixed, sizeof(*out->mixed), cmp_mixed);
	}
	if (bl->n > 0)
		qsort(bl->v, bl->n, sizeof(*bl->v), cmp_bucket);
	out->vnets = nmembers;
	out->sources = ty->by_subnet ? ty->sources : nmembers;
	for (size_t i = 0; i < bl->n; i++) {
		out->by_class[bl->v[i].cls] += bl->v[i].count;
		out->flows += bl->v[i].count;
	}
	out->buckets = bl->v;
	out->nbuckets = bl->n;
	bl->v = NULL;
	bl->n = bl->cap = 0;
	out->by_vnet = ty->by_vnet;
	ty->by_vnet = NULL;
	return 0;
}

void
path_summary_free(struct path_summary *s)
{
	if (s == NULL)
		return;
	free(s->buckets);
	free(s->mixed);
	free(s->by_vnet);
	memset(s, 0, sizeof(*s));
}

static int
members_normalize(size_t **out, size_t *nout, const struct topology *t,
    const size_t *members, size_t n, struct nw_err *err)
{
	size_t *v;

	*out = NULL;
	*nout = 0;
	if (members == NULL)
		n = t->nvnets;
	v = malloc((n ? n : 1) * sizeof(*v));
	if (v == NULL)
		return re_nomem(err, "the summary members");
	for (size_t i = 0; i < n; i++) {
		v[i] = members != NULL ? members[i] : i;
		if (v[i] >= t->nvnets) {
			free(v);
			return err_set(err, NW_EINPUT, "cannot summarize member %zu: the topology has %zu VNets",
			    members[i], t->nvnets);
		}
	}
	*nout = re_sizes_sort_unique(v, n);
	*out = v;
	return 0;
}

/* The number of sources of a VNet: its workload subnets, or one. */
static size_t
vnet_sources(const struct topo_vnet *v)
{
	size_t n = 0;

	for (size_t i = 0; i < v->nsubnets; i++)
		if (!v->subnets[i].is_infrastructure)
			n++;
	return n > 0 ? n : 1;
}

/* One pair worked out directly: one flow, or one per source subnet. */
static int
summary_pair(struct tally *ty, size_t a, size_t b, struct nw_err *err)
{
	const struct routes_ctx *ctx = ty->ctx;
	const struct topo_vnet *bv = &ctx->t->vnets[b];
	struct path_result r, *rows = &r;
	size_t idx, first = 0, n = 1;
	int rc;

	if (ty->by_subnet)
		rc = routes_path_sources(&rows, &n, ctx, &ctx->t->vnets[a], NULL, bv->prefixes.v,
		    bv->prefixes.n, err);
	else
		rc = routes_path(&r, ctx, &ctx->t->vnets[a], bv, err);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (bucket_index(&idx, &ty->bl, rows[i].cls, rows[i].detail) != 0) {
			rc = re_nomem(err, "the summary");
			break;
		}
		bucket_count(&ty->bl, ctx->t, idx, 1, a, b);
		if (ty->by_vnet != NULL)
			ty->by_vnet[a][rows[i].cls]++;
		if (i == 0)
			first = idx;
		else if (idx != first)
			tally_mixed(ty, a, b);
	}
	if (rows != &r)
		free(rows);
	return rc;
}

static int
summary_slow(struct path_summary *out, const struct routes_ctx *ctx,
    const size_t *members, size_t nmembers, bool by_subnet, struct nw_err *err)
{
	struct tally ty = { .ctx = ctx, .by_subnet = by_subnet };
	size_t *mem = NULL, n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = members_normalize(&mem, &n, ctx->t, members, nmembers, err);
	if (rc != 0)
		return rc;
	if (tally_init(&ty, ctx->t->nvnets) != 0) {
		rc = re_nomem(err, "the summary");
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		ty.sources += vnet_sources(&ctx->t->vnets[mem[i]]);
	for (size_t i = 0; i < n && rc == 0; i++)
		for (size_t j = 0; j < n && rc == 0; j++)
			if (i != j)
				rc = summary_pair(&ty, mem[i], mem[j], err);
	if (rc == 0 && summary_finish(out, &ty, n) != 0)
		rc = re_nomem(err, "the summary");
done:
	tally_free(&ty);
	free(mem);
	return rc;
}

int
routes_summary_slow(struct path_summary *out, const struct routes_ctx *ctx,
    const size_t *members, size_t nmembers, struct nw_err *err)
{
	return summary_slow(out, ctx, members, nmembers, false, err);
}

int
routes_summary_subnets_slow(struct path_summary *out, const struct routes_ctx *ctx,
    const size_t *members, size_t nmembers, struct nw_err *err)
{
	return summary_slow(out, ctx, members, nmembers, true, err);
}

/*
 * The fast summary.  A VNet's routes split into a personal part (its own
 * space, its connected peerings, its connected groups) and a shared part
 * (the BGP routes of its gateway set, its route tables' user routes,
 * Azure's defaults).  Sources with the same shared part on every workload
 * subnet, in the same order, and the same connected groups form a class
 * (by subnet, also with the same number of subnets of each shared part).
 * For a destination b whose address space overlaps nothing else in the
 * estate (no VNet's space, no peering's remote space), no personal route
 * of a source a can contain b's prefixes unless a peers with b or shares
 * a connected group with it.  So:
 *   - pairs where a has a connected peering to b, and every pair whose b
 *     overlaps something, go through routes_path one by one;
 *   - for every other pair the decision depends only on (class of a, b):
 *     through the shared part alone when a and b share no group, through
 *     the shared part plus the ConnectedGroup routes to b when they do
 *     (sharing a group is a property of the class).
 * Each (class, b) decision is computed once and counted |class| times
 * less the sources handled one by one, which gives exactly what
 * routes_summary_slow counts, examples included.  By subnet, each shared
 * part of the class is decided on its own and counted once per subnet.
 */
struct kclass {
	size_t k;               /* shared-part key */
	const size_t *groups;   /* borrowed from the context */
	size_t ngroups;
	size_t *members;        /* ascending */
	size_t n, cap;
};

struct summ {
	const struct routes_ctx *ctx;
	const struct topology *t;
	struct tally *ty;
	struct intern content, skey, kkey, kpkey;
	size_t *rt_content;     /* per route table; NONE_ID until seen */
	const struct rt_layer **content_rt; /* per content id: a table with it */
	size_t ncontent_rt, content_cap;
	struct src *sk_src;     /* per subnet key: the shared part alone */
	size_t nsk, sk_cap;
	/* per shared key: the subnet keys (distinct, in subnet order), their sources and counts */
	size_t **k_keys;
	struct src **k_srcs;
	size_t **k_mult;
	size_t *k_n;
	size_t nk, k_cap;
	struct kclass *kp;
	size_t nkp, kp_cap;
	size_t *kp_of;          /* per VNet */
	/* the pass over destinations */
	size_t *mem, nmem;
	bool *flagged, *is_member;
	size_t *in_start, *in_list, *in_fill, *mark, *sub;
	size_t *d_stamp, *d_idx, *m_stamp, *m_idx; /* decisions per shared key (by subnet: subnet key) */
	struct src *scratch;
};

static void
summ_free(struct summ *S)
{
	re_intern_free(&S->content);
	re_intern_free(&S->skey);
	re_intern_free(&S->kkey);
	re_intern_free(&S->kpkey);
	free(S->rt_content);
	free((void *)S->content_rt);
	free(S->sk_src);
	for (size_t i = 0; i < S->nk; i++) {
		free(S->k_srcs[i]);
		free(S->k_keys[i]);
		free(S->k_mult[i]);
	}
	free(S->k_srcs);
	free(S->k_keys);
	free(S->k_mult);
	free(S->k_n);
	for (size_t i = 0; i < S->nkp; i++)
		free(S->kp[i].members);
	free(S->kp);
	free(S->kp_of);
	free(S->mem);
	free(S->flagged);
	free(S->is_member);
	free(S->in_start);
	free(S->in_list);
	free(S->in_fill);
	free(S->mark);
	free(S->sub);
	free(S->d_stamp);
	free(S->d_idx);
	free(S->m_stamp);
	free(S->m_idx);
	free(S->scratch);
}

/* The content of a route table as far as decisions go (not names). */
static int
rt_content_id(size_t *out, struct summ *S, size_t ti)
{
	const struct topo_route_table *tab = &S->t->route_tables[ti];
	unsigned char *buf = NULL;
	size_t rec = 2 * sizeof(struct cidr) + 2 * sizeof(int), len, id;
	bool fresh;
	int rc = NW_ENOMEM;

	if (S->rt_content[ti] != NONE_ID) {
		*out = S->rt_content[ti];
		return 0;
	}
	len = 1 + tab->nroutes * rec;
	buf = calloc(len, 1);
	if (buf == NULL)
		return NW_ENOMEM;
	buf[0] = tab->disable_bgp_route_propagation;
	for (size_t i = 0; i < tab->nroutes; i++) {
		unsigned char *p = buf + 1 + i * rec;
		int nh = (int)tab->routes[i].next_hop, has = tab->routes[i].has_next_hop_ip;

		memcpy(p, &tab->routes[i].prefix, sizeof(struct cidr));
		p += sizeof(struct cidr);
		memcpy(p, &nh, sizeof(nh));
		p += sizeof(nh);
		memcpy(p, &has, sizeof(has));
		p += sizeof(has);
		if (has)
			memcpy(p, &tab->routes[i].next_hop_ip, sizeof(struct cidr));
	}
	if (re_intern_put(&S->content, buf, len, &id, &fresh) != 0)
		goto done;
	if (fresh) {
		if (GROW(S->content_rt, &S->content_cap, id + 1) != 0)
			goto done;
		S->content_rt[id] = &S->ctx->rt[ti];
		S->ncontent_rt = id + 1;
	}
	S->rt_content[ti] = id;
	*out = id;
	rc = 0;
done:
	free(buf);
	return rc;
}

static int
summ_subnet_key(size_t *out, struct summ *S, size_t vi, const struct topo_route_table *tab)
{
	const struct routes_ctx *ctx = S->ctx;
	size_t key[3], id, ti = NONE_ID;
	size_t bgp = ctx->vi[vi].bgp;
	bool fresh;

	key[0] = NONE_ID;
	key[1] = bgp;
	/* route server routes decide by whether the VNet reaches their NVA: part of the key */
	key[2] = (size_t)re_bgp_reach_mask(ctx, &S->t->vnets[vi]);
	if (tab != NULL) {
		ti = (size_t)(tab - S->t->route_tables);
		if (rt_content_id(&key[0], S, ti) != 0)
			return NW_ENOMEM;
		/* propagation off: the gateways matter only to user routes pointing at them */
		if (tab->disable_bgp_route_propagation && !ctx->rt[ti].has_vng)
			key[1] = NONE_ID;
	}
	if (re_intern_put(&S->skey, key, sizeof(key), &id, &fresh) != 0)
		return NW_ENOMEM;
	if (fresh) {
		struct src *s;

		if (GROW(S->sk_src, &S->sk_cap, id + 1) != 0)
			return NW_ENOMEM;
		S->nsk = id + 1;
		s = &S->sk_src[id];
		memset(s, 0, sizeof(*s));
		s->rt = key[0] != NONE_ID ? S->content_rt[key[0]] : NULL;
		s->nva_reach = key[2];
		if (key[1] != NONE_ID) {
			s->has_vpn = ctx->bgp[key[1]].has_vpn;
			if (tab == NULL || !tab->disable_bgp_route_propagation)
				s->bgp = &ctx->bgp[key[1]];
		}
	}
	*out = id;
	return 0;
}

/* The shared key of VNet a: its distinct subnet keys (with their counts by subnet). */
static int
summ_kkey(size_t *kid, struct summ *S, size_t a)
{
	const struct topo_vnet *v = &S->t->vnets[a];
	size_t *keys = NULL, *mult, n = 0, klen;
	bool fresh;
	int rc = NW_ENOMEM;

	keys = calloc(2 * (v->nsubnets + 1), sizeof(*keys));
	if (keys == NULL)
		return NW_ENOMEM;
	mult = keys + v->nsubnets + 1;
	for (size_t i = 0; i <= v->nsubnets; i++) {
		size_t sk, k;

		if (i == v->nsubnets && n > 0)
			break;
		if (i < v->nsubnets && v->subnets[i].is_infrastructure)
			continue;
		if (summ_subnet_key(&sk, S, a, i < v->nsubnets ? v->subnets[i].route_table : NULL) != 0)
			goto done;
		/* a later subnet with the same shared part decides nothing new */
		for (k = 0; k < n && keys[k] != sk; k++)
			;
		if (k == n)
			keys[n++] = sk;
		mult[k]++;
	}
	/* by subnet the counts are part of the key: they multiply the flows */
	if (S->ty->by_subnet)
		memmove(keys + n, mult, n * sizeof(*keys));
	klen = (S->ty->by_subnet ? 2 * n : n) * sizeof(*keys);
	if (re_intern_put(&S->kkey, keys, klen, kid, &fresh) != 0)
		goto done;
	if (fresh) {
		size_t id = *kid, cap = S->k_cap;

		if (GROW(S->k_srcs, &cap, id + 1) != 0)
			goto done;
		cap = S->k_cap;
		if (GROW(S->k_keys, &cap, id + 1) != 0)
			goto done;
		cap = S->k_cap;
		if (GROW(S->k_mult, &cap, id + 1) != 0)
			goto done;
		cap = S->k_cap;
		if (GROW(S->k_n, &cap, id + 1) != 0)
			goto done;
		S->k_cap = cap;
		S->k_srcs[id] = malloc(n * sizeof(**S->k_srcs));
		S->k_keys[id] = malloc(n * sizeof(**S->k_keys));
		S->k_mult[id] = malloc(n * sizeof(**S->k_mult));
		S->k_n[id] = n;
		S->nk = id + 1;
		if (S->k_srcs[id] == NULL || S->k_keys[id] == NULL || S->k_mult[id] == NULL)
			goto done;
		for (size_t k = 0; k < n; k++) {
			S->k_srcs[id][k] = S->sk_src[keys[k]];
			S->k_keys[id][k] = keys[k];
			S->k_mult[id][k] = mult[k];
		}
	}
	rc = 0;
done:
	free(keys);
	return rc;
}

static int
summ_classify(struct summ *S, size_t a)
{
	const struct vnet_info *vi = &S->ctx->vi[a];
	size_t kid, kpid, *kpkey = NULL;
	bool fresh;
	int rc = NW_ENOMEM;

	if (summ_kkey(&kid, S, a) != 0)
		return NW_ENOMEM;
	kpkey = malloc((vi->ngroups + 1) * sizeof(*kpkey));
	if (kpkey == NULL)
		goto done;
	kpkey[0] = kid;
	if (vi->ngroups > 0)
		memcpy(kpkey + 1, vi->groups, vi->ngroups * sizeof(*kpkey));
	if (re_intern_put(&S->kpkey, kpkey, (vi->ngroups + 1) * sizeof(*kpkey), &kpid, &fresh) != 0)
		goto done;
	if (fresh) {
		if (GROW(S->kp, &S->kp_cap, kpid + 1) != 0)
			goto done;
		memset(&S->kp[kpid], 0, sizeof(S->kp[kpid]));
		S->kp[kpid].k = kid;
		S->kp[kpid].groups = vi->groups;
		S->kp[kpid].ngroups = vi->ngroups;
		S->nkp = kpid + 1;
	}
	if (GROW(S->kp[kpid].members, &S->kp[kpid].cap, S->kp[kpid].n + 1) != 0)
		goto done;
	S->kp[kpid].members[S->kp[kpid].n++] = a;
	S->kp_of[a] = kpid;
	rc = 0;
done:
	free(kpkey);
	return rc;
}

/*
 * VNets whose address space overlaps anything a source could hold as a
 * personal route: another VNet's space or a connected peering's remote
 * space recorded for another VNet.
 */
static int
summ_overlapping(bool *flagged, const struct routes_ctx *ctx, const size_t *mem, size_t nmem)
{
	const struct topology *t = ctx->t;
	struct owned *items = NULL;
	size_t n = 0, cap = 0, unknown = t->nvnets;
	int rc = NW_ENOMEM;

	for (size_t v = 0; v < t->nvnets; v++)
		for (size_t i = 0; i < t->vnets[v].prefixes.n; i++) {
			if (GROW(items, &cap, n + 1) != 0)
				goto done;
			items[n].c = t->vnets[v].prefixes.v[i];
			items[n].owner = v;
			items[n].tag = v;
			n++;
		}
	for (size_t m = 0; m < nmem; m++) {
		const struct topo_vnet *v = &t->vnets[mem[m]];

		for (size_t p = 0; p < v->npeerings; p++) {
			const struct topo_prefixes *pp;
			size_t owner;

			if (v->peerings[p].state != PEERING_CONNECTED)
				continue;
			pp = re_peering_prefixes(&v->peerings[p]);
			owner = v->peerings[p].remote != NULL ? vnet_index(t, v->peerings[p].remote) : unknown++;
			for (size_t i = 0; i < pp->n; i++) {
				if (GROW(items, &cap, n + 1) != 0)
					goto done;
				items[n].c = pp->v[i];
				items[n].owner = owner;
				items[n].tag = NONE_ID;
				n++;
			}
		}
	}
	if (re_overlaps_mark(items, n) != 0)
		goto done;
	for (size_t i = 0; i < n; i++)
		if (items[i].hit && items[i].tag != NONE_ID)
			flagged[items[i].tag] = true;
	rc = 0;
done:
	free(items);
	return rc;
}

/* Incoming connected peerings from members: in_list[in_start[b]..in_start[b+1]]. */
static int
summ_incoming(struct summ *S)
{
	const struct topology *t = S->t;

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < S->nmem; i++) {
			const struct topo_vnet *a = &t->vnets[S->mem[i]];

			for (size_t p = 0; p < a->npeerings; p++) {
				const struct topo_vnet *r = a->peerings[p].remote;
				size_t b;

				if (a->peerings[p].state != PEERING_CONNECTED || r == NULL || r == a)
					continue;
				b = vnet_index(t, r);
				if (!S->is_member[b])
					continue;
				if (pass == 0)
					S->in_start[b + 1]++;
				else
					S->in_list[S->in_start[b] + S->in_fill[b]++] = S->mem[i];
			}
		}
		if (pass == 1)
			break;
		for (size_t v = 0; v < t->nvnets; v++)
			S->in_start[v + 1] += S->in_start[v];
		S->in_list = malloc((S->in_start[t->nvnets] ? S->in_start[t->nvnets] : 1) *
		    sizeof(*S->in_list));
		if (S->in_list == NULL)
			return NW_ENOMEM;
	}
	return 0;
}

/* Everything the pass over destinations needs: classes, flags, lists, caches. */
static int
summ_setup(struct summ *S)
{
	const struct topology *t = S->t;
	size_t nv = t->nvnets + 1, maxk = 1, ncache;

	S->rt_content = malloc((t->nroute_tables ? t->nroute_tables : 1) * sizeof(*S->rt_content));
	S->kp_of = malloc(nv * sizeof(*S->kp_of));
	S->flagged = calloc(nv, sizeof(*S->flagged));
	S->is_member = calloc(nv, sizeof(*S->is_member));
	S->in_start = calloc(nv, sizeof(*S->in_start));
	S->in_fill = calloc(nv, sizeof(*S->in_fill));
	S->mark = calloc(nv, sizeof(*S->mark));
	if (S->rt_content == NULL || S->kp_of == NULL || S->flagged == NULL ||
	    S->is_member == NULL || S->in_start == NULL || S->in_fill == NULL || S->mark == NULL)
		return NW_ENOMEM;
	for (size_t i = 0; i < t->nroute_tables; i++)
		S->rt_content[i] = NONE_ID;
	for (size_t i = 0; i < S->nmem; i++) {
		S->is_member[S->mem[i]] = true;
		S->ty->sources += vnet_sources(&t->vnets[S->mem[i]]);
	}
	for (size_t i = 0; i < S->nmem; i++)
		if (summ_classify(S, S->mem[i]) != 0)
			return NW_ENOMEM;
	if (summ_overlapping(S->flagged, S->ctx, S->mem, S->nmem) != 0 || summ_incoming(S) != 0)
		return NW_ENOMEM;
	ncache = (S->nk > S->nsk ? S->nk : S->nsk) + 1;
	S->sub = calloc(S->nkp + 1, sizeof(*S->sub));
	S->d_stamp = calloc(ncache, sizeof(*S->d_stamp));
	S->d_idx = calloc(ncache, sizeof(*S->d_idx));
	S->m_stamp = calloc(ncache, sizeof(*S->m_stamp));
	S->m_idx = calloc(ncache, sizeof(*S->m_idx));
	for (size_t k = 0; k < S->nk; k++)
		if (S->k_n[k] > maxk)
			maxk = S->k_n[k];
	S->scratch = malloc(maxk * sizeof(*S->scratch));
	if (S->sub == NULL || S->d_stamp == NULL || S->d_idx == NULL || S->m_stamp == NULL ||
	    S->m_idx == NULL || S->scratch == NULL)
		return NW_ENOMEM;
	return 0;
}

/*
 * The bucket of sources srcs (n of them, all of one shared part or the
 * subnets of one class) to b, decided once per destination: *stamp and
 * *idx cache it.  grp adds the ConnectedGroup routes to b.
 */
static int
summ_decide(size_t *idx, struct summ *S, size_t *stamp, size_t *cache, const struct src *srcs,
    size_t n, bool grp, size_t b, struct nw_err *err)
{
	const struct topo_vnet *bv = &S->t->vnets[b];
	struct path_result r;

	if (*stamp == b + 1) {
		*idx = *cache;
		return 0;
	}
	if (grp) {
		for (size_t i = 0; i < n; i++) {
			S->scratch[i] = srcs[i];
			S->scratch[i].group_peer = bv;
		}
		srcs = S->scratch;
	}
	re_path_eval(&r, S->ctx, srcs, NULL, n, bv->prefixes.v, bv->prefixes.n);
	if (bucket_index(cache, &S->ty->bl, r.cls, r.detail) != 0)
		return re_nomem(err, "the summary");
	*stamp = b + 1;
	*idx = *cache;
	return 0;
}

/* Counts cnt members of class kc (the first unhandled one is amin) to b. */
static int
summ_count_class(struct summ *S, const struct kclass *kc, size_t cnt, size_t amin, size_t b,
    struct nw_err *err)
{
	const struct vnet_info *bvi = &S->ctx->vi[b];
	bool grp = re_sorted_intersect(kc->groups, kc->ngroups, bvi->groups, bvi->ngroups);
	size_t *stamp = grp ? S->m_stamp : S->d_stamp, *cache = grp ? S->m_idx : S->d_idx;
	size_t k = kc->k, idx, first = NONE_ID;
	bool mixed = false;
	int rc;

	if (!S->ty->by_subnet) {
		rc = summ_decide(&idx, S, &stamp[k], &cache[k], S->k_srcs[k], S->k_n[k], grp, b, err);
		if (rc == 0)
			bucket_count(&S->ty->bl, S->t, idx, cnt, amin, b);
		return rc;
	}
	for (size_t i = 0; i < S->k_n[k]; i++) {
		size_t sk = S->k_keys[k][i];

		rc = summ_decide(&idx, S, &stamp[sk], &cache[sk], &S->k_srcs[k][i], 1, grp, b, err);
		if (rc != 0)
			return rc;
		bucket_count(&S->ty->bl, S->t, idx, cnt * S->k_mult[k][i], amin, b);
		for (size_t m = 0; m < kc->n; m++)
			if (S->mark[kc->members[m]] != b + 1)
				S->ty->by_vnet[kc->members[m]][S->ty->bl.v[idx].cls] += S->k_mult[k][i];
		if (first == NONE_ID)
			first = idx;
		mixed = mixed || idx != first;
	}
	for (size_t i = 0; mixed && i < kc->n; i++)
		if (S->mark[kc->members[i]] != b + 1)
			tally_mixed(S->ty, kc->members[i], b);
	return 0;
}

/* Every flow into member b. */
static int
summ_dest(struct summ *S, size_t b, struct nw_err *err)
{
	size_t stamp = b + 1;
	int rc = 0;

	if (S->flagged[b]) {
		for (size_t ai = 0; ai < S->nmem && rc == 0; ai++)
			if (S->mem[ai] != b)
				rc = summary_pair(S->ty, S->mem[ai], b, err);
		return rc;
	}
	for (size_t k = S->in_start[b]; k < S->in_start[b + 1] && rc == 0; k++) {
		size_t a = S->in_list[k];

		if (S->mark[a] == stamp)
			continue;
		S->mark[a] = stamp;
		rc = summary_pair(S->ty, a, b, err);
		S->sub[S->kp_of[a]]++;
	}
	S->mark[b] = stamp;
	S->sub[S->kp_of[b]]++;
	for (size_t kp = 0; kp < S->nkp && rc == 0; kp++) {
		const struct kclass *kc = &S->kp[kp];
		size_t cnt = kc->n - S->sub[kp], amin = NONE_ID;

		if (cnt == 0)
			continue;
		for (size_t i = 0; i < kc->n && amin == NONE_ID; i++)
			if (S->mark[kc->members[i]] != stamp)
				amin = kc->members[i];
		assert(amin != NONE_ID);
		rc = summ_count_class(S, kc, cnt, amin, b, err);
	}
	for (size_t k = S->in_start[b]; k < S->in_start[b + 1]; k++)
		S->sub[S->kp_of[S->in_list[k]]] = 0;
	S->sub[S->kp_of[b]] = 0;
	return rc;
}

static int
summary_fast(struct path_summary *out, const struct routes_ctx *ctx,
    const size_t *members, size_t nmembers, bool by_subnet, struct nw_err *err)
{
	struct tally ty = { .ctx = ctx, .by_subnet = by_subnet };
	struct summ S;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&S, 0, sizeof(S));
	S.ctx = ctx;
	S.t = ctx->t;
	S.ty = &ty;
	rc = members_normalize(&S.mem, &S.nmem, ctx->t, members, nmembers, err);
	if (rc != 0)
		return rc;
	if (tally_init(&ty, ctx->t->nvnets) != 0 || summ_setup(&S) != 0) {
		rc = re_nomem(err, "the summary");
		goto done;
	}
	for (size_t bi = 0; bi < S.nmem && rc == 0; bi++)
		rc = summ_dest(&S, S.mem[bi], err);
	if (rc == 0 && summary_finish(out, &ty, S.nmem) != 0)
		rc = re_nomem(err, "the summary");
done:
	tally_free(&ty);
	summ_free(&S);
	return rc;
}

int
routes_summary(struct path_summary *out, const struct routes_ctx *ctx,
    const size_t *members, size_t nmembers, struct nw_err *err)
{
	return summary_fast(out, ctx, members, nmembers, false, err);
}

int
routes_summary_subnets(struct path_summary *out, const struct routes_ctx *ctx,
    const size_t *members, size_t nmembers, struct nw_err *err)
{
	return summary_fast(out, ctx, members, nmembers, true, err);
}
