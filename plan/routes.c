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

#include "plan/routes.h"

#define NONE_ID SIZE_MAX
#define MAXLEN 128   /* the longest prefix of any family */
#define NAZURE 5     /* Azure's default routes */
#define SMALL_SRCS 16

/*
 * Selection rank on a tie of prefix: User, then BGP, then the system
 * routes.  Among system routes the VNet's own space, then peerings, then
 * connected groups beat Azure's defaults: Azure turns the None route of a
 * private range into VnetLocal or VNetPeering when that range is the
 * VNet's or a peer's address space ("Virtual network traffic routing",
 * "Default").
 */
enum rank {
	RANK_USER = 0,
	RANK_BGP,
	RANK_LOCAL,
	RANK_PEERING,
	RANK_GROUP,
	RANK_AZURE,
};

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

/* What Azure-advertised routes carry as their AS path on the circuit. */
static const char azure_asn_path[] = "65515";

/* A route table's user routes, sorted by prefix (table order on a tie). */
struct rt_slot {
	size_t start, end; /* the routes of one prefix, in table order */
};

struct rt_layer {
	struct route *v;
	size_t n;
	struct rt_slot *slots;
	size_t nslots;
	struct cidr_table *tab; /* prefix -> struct rt_slot * */
	bool has_vng;           /* some route points at VirtualNetworkGateway */
};

/* The BGP routes a set of gateways installs: one route per prefix. */
struct bgp_set {
	size_t *gws; /* gateway indexes, ascending */
	size_t ngws;
	bool has_vpn;
	struct route *v;
	size_t n;
	struct cidr_table *tab; /* prefix -> struct route * */
};

struct cg_entry {
	struct cidr prefix;
	size_t vnet;
};

/* A connected group: its members and their prefixes that survive overlap. */
struct cgroup {
	size_t *members; /* VNet indexes, ascending */
	size_t nmembers;
	struct cg_entry *kept;
	size_t nkept;
	struct cidr_table *tab; /* kept prefix -> struct cg_entry * */
};

struct circuit_info {
	struct circuit_route *v; /* by prefix, on-premises first, then by gateway id */
	size_t n;
	struct cidr_table *tab; /* prefix -> best struct circuit_route * (gateway first) */
};

struct vnet_info {
	size_t bgp;      /* the set of gateways the VNet's subnets learn from */
	size_t *groups;  /* connected groups, ascending */
	size_t ngroups;
};

struct routes_ctx {
	const struct topology *t;
	struct route azure[NAZURE]; /* by prefix */
	struct topo_prefixes *advertised; /* per gateway */
	struct route **learned;           /* per gateway */
	size_t *nlearned;
	struct bgp_set *bgp;
	size_t nbgp;
	struct rt_layer *rt;              /* per route table */
	struct cgroup *cg;
	size_t ncg;
	struct circuit_info *ci;          /* per circuit */
	struct vnet_info *vi;             /* per VNet */
};

/*
 * One source for a lookup: which layers are present.  vnet brings the
 * personal routes; group_peer brings only the ConnectedGroup routes to
 * one VNet's prefixes (routes_summary's shared evaluation).
 */
struct src {
	const struct topo_vnet *vnet;
	const struct topo_vnet *group_peer;
	const struct rt_layer *rt;
	const struct bgp_set *bgp; /* NULL when propagation is disabled */
	bool has_vpn;              /* a user route to VirtualNetworkGateway is usable */
};

/* ---- small helpers ---- */

static int
nomem(struct nw_err *err, const char *what)
{
	return err_set(err, NW_ENOMEM, "out of memory building %s", what);
}

/*
 * Grows the array *pp (any object pointer type, passed by address) to hold
 * need elements.  The pointer goes in and out through memcpy so no
 * pointer is ever read through an lvalue of another type.
 */
static int
grow_array(void *pp, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *p, *np;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	while (ncap < need)
		ncap *= 2;
	memcpy(&p, pp, sizeof(p));
	np = realloc(p, ncap * elem);
	if (np == NULL)
		return NW_ENOMEM;
	memcpy(pp, &np, sizeof(np));
	*cap = ncap;
	return 0;
}

#define GROW(arr, capp, need) grow_array(&(arr), (capp), (need), sizeof(*(arr)))

static size_t
vnet_index(const struct topology *t, const struct topo_vnet *v)
{
	assert(v >= t->vnets && v < t->vnets + t->nvnets);
	return (size_t)(v - t->vnets);
}

static size_t
gateway_index(const struct topology *t, const struct topo_gateway *g)
{
	assert(g >= t->gateways && g < t->gateways + t->ngateways);
	return (size_t)(g - t->gateways);
}

static struct cidr
v4(uint8_t a, uint8_t b, unsigned len)
{
	struct cidr c;

	memset(&c, 0, sizeof(c));
	c.family = 4;
	c.len = (uint8_t)len;
	c.addr[0] = a;
	c.addr[1] = b;
	return c;
}

static bool
prefixes_contain(const struct topo_prefixes *p, const struct cidr *d)
{
	for (size_t i = 0; i < p->n; i++)
		if (cidr_contains(&p->v[i], d))
			return true;
	return false;
}

/* The first address of a possibly comma-separated list (active-active gateways). */
static bool
parse_first_addr(struct cidr *out, const char *s)
{
	char buf[CIDR_STRLEN + 8];
	struct nw_err e = { 0 };
	size_t n;

	if (s == NULL)
		return false;
	n = strcspn(s, ", ");
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return cidr_parse_addr(out, buf, &e) == 0;
}

static const struct topo_prefixes no_prefixes = { NULL, 0 };

/* What a peering's routes cover: what ARM says the remote has, else the remote's own space. */
static const struct topo_prefixes *
peering_prefixes(const struct topo_peering *p)
{
	if (p->remote_prefixes.n > 0)
		return &p->remote_prefixes;
	if (p->remote != NULL)
		return &p->remote->prefixes;
	return &no_prefixes;
}

static enum topo_next_hop
peering_next_hop(const struct topo_vnet *v, const struct topo_peering *p)
{
	const char *l1 = v->res != NULL ? v->res->location : NULL;
	const char *l2 = p->remote != NULL && p->remote->res != NULL ? p->remote->res->location : NULL;

	if (l1 != NULL && l2 != NULL && !topo_location_equal(l1, l2))
		return NH_VNET_GLOBAL_PEERING;
	return NH_VNET_PEERING;
}

/*
 * True when v's peering p lets v use the remote VNet's gateways: p is
 * Connected with useRemoteGateways and the remote's peering back to v
 * allows gateway transit.
 */
static bool
peering_uses_transit(const struct topo_vnet *v, const struct topo_peering *p)
{
	const struct topo_vnet *h = p->remote;

	if (p->state != PEERING_CONNECTED || !p->use_remote_gateways || h == NULL)
		return false;
	for (size_t i = 0; i < h->npeerings; i++)
		if (h->peerings[i].remote == v && h->peerings[i].allow_gateway_transit)
			return true;
	return false;
}

static bool
user_valid(const struct route *r, bool has_vpn)
{
	switch (r->next_hop) {
	case NH_VIRTUAL_NETWORK_GATEWAY:
		/* user routes cannot point at an ExpressRoute gateway, nor at none */
		return has_vpn;
	case NH_VNET_LOCAL:
	case NH_INTERNET:
	case NH_VIRTUAL_APPLIANCE:
	case NH_VIRTUAL_APPLIANCE_ECMP:
	case NH_NONE:
		return true;
	default:
		return false;
	}
}

static int
cmp_cidr_ptr(const void *a, const void *b)
{
	return cidr_compare(a, b);
}

/* Sorts and removes duplicates in place; returns the new count. */
static size_t
cidrs_sort_unique(struct cidr *v, size_t n)
{
	size_t k = 0;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_cidr_ptr);
	for (size_t i = 1; i < n; i++)
		if (!cidr_equal(&v[k], &v[i]))
			v[++k] = v[i];
	return k + 1;
}

static int
cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

static size_t
sizes_sort_unique(size_t *v, size_t n)
{
	size_t k = 0;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_size);
	for (size_t i = 1; i < n; i++)
		if (v[k] != v[i])
			v[++k] = v[i];
	return k + 1;
}

static bool
sorted_intersect(const size_t *a, size_t na, const size_t *b, size_t nb)
{
	size_t i = 0, j = 0;

	while (i < na && j < nb) {
		if (a[i] == b[j])
			return true;
		if (a[i] < b[j])
			i++;
		else
			j++;
	}
	return false;
}

/* ---- interning byte strings to dense ids ---- */

struct intern {
	size_t *slot; /* id + 1; 0 when empty */
	size_t cap;   /* power of two */
	unsigned char **key;
	size_t *klen;
	size_t n, alloc;
};

static uint64_t
hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static void
intern_free(struct intern *in)
{
	for (size_t i = 0; i < in->n; i++)
		free(in->key[i]);
	free(in->key);
	free(in->klen);
	free(in->slot);
	memset(in, 0, sizeof(*in));
}

static int
intern_rehash(struct intern *in, size_t ncap)
{
	size_t *ns = calloc(ncap, sizeof(*ns));

	if (ns == NULL)
		return NW_ENOMEM;
	for (size_t id = 0; id < in->n; id++) {
		size_t h = (size_t)hash_bytes(in->key[id], in->klen[id]) & (ncap - 1);

		while (ns[h] != 0)
			h = (h + 1) & (ncap - 1);
		ns[h] = id + 1;
	}
	free(in->slot);
	in->slot = ns;
	in->cap = ncap;
	return 0;
}

/* The id of key (a new one when unseen); *fresh tells which. */
static int
intern_put(struct intern *in, const void *key, size_t len, size_t *id, bool *fresh)
{
	size_t h, acap;

	if ((in->n + 1) * 2 > in->cap && intern_rehash(in, in->cap ? in->cap * 2 : 64) != 0)
		return NW_ENOMEM;
	h = (size_t)hash_bytes(key, len) & (in->cap - 1);
	while (in->slot[h] != 0) {
		size_t k = in->slot[h] - 1;

		if (in->klen[k] == len && (len == 0 || memcmp(in->key[k], key, len) == 0)) {
			*id = k;
			*fresh = false;
			return 0;
		}
		h = (h + 1) & (in->cap - 1);
	}
	acap = in->alloc;
	if (GROW(in->key, &acap, in->n + 1) != 0)
		return NW_ENOMEM;
	acap = in->alloc;
	if (GROW(in->klen, &acap, in->n + 1) != 0)
		return NW_ENOMEM;
	in->alloc = acap;
	in->key[in->n] = malloc(len ? len : 1);
	if (in->key[in->n] == NULL)
		return NW_ENOMEM;
	if (len > 0)
		memcpy(in->key[in->n], key, len);
	in->klen[in->n] = len;
	in->slot[h] = in->n + 1;
	*id = in->n++;
	*fresh = true;
	return 0;
}

/* ---- overlap marking: one sort and one sweep ---- */

struct owned {
	struct cidr c;
	size_t owner;
	size_t tag;  /* caller's */
	bool hit;    /* overlaps a prefix of another owner */
};

static int
cmp_owned(const void *a, const void *b)
{
	const struct owned *x = a, *y = b;
	int c = cidr_compare(&x->c, &y->c);

	if (c != 0)
		return c;
	if (x->owner != y->owner)
		return x->owner < y->owner ? -1 : 1;
	return x->tag < y->tag ? -1 : x->tag > y->tag;
}

struct owned_run {
	size_t start, end;
	bool multi; /* several owners share this exact prefix */
	bool hit;
};

/*
 * Marks every item that overlaps an item of a different owner.  Two
 * prefixes overlap only when one contains the other, so after sorting by
 * address (shorter first) the prefixes containing an item are exactly the
 * chain on a stack; equal prefixes are first folded into runs so the chain
 * stays at most one deep per length.  Reorders v.
 */
static int
overlaps_mark(struct owned *v, size_t n)
{
	struct owned_run *runs = NULL;
	size_t nruns = 0, stack[2 * (MAXLEN + 1)], sp = 0;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_owned);
	runs = calloc(n, sizeof(*runs));
	if (runs == NULL)
		return NW_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		v[i].hit = false;
		if (nruns > 0 && cidr_equal(&v[runs[nruns - 1].start].c, &v[i].c)) {
			struct owned_run *r = &runs[nruns - 1];

			if (v[r->start].owner != v[i].owner)
				r->multi = true;
			r->end = i + 1;
			continue;
		}
		runs[nruns].start = i;
		runs[nruns].end = i + 1;
		nruns++;
	}
	for (size_t r = 0; r < nruns; r++) {
		struct owned_run *cur = &runs[r];
		size_t owner = v[cur->start].owner;

		while (sp > 0 && !cidr_contains(&v[runs[stack[sp - 1]].start].c, &v[cur->start].c))
			sp--;
		if (cur->multi)
			cur->hit = true;
		for (size_t k = 0; k < sp; k++) {
			struct owned_run *s = &runs[stack[k]];

			if (s->multi || cur->multi || v[s->start].owner != owner)
				s->hit = cur->hit = true;
		}
		assert(sp < sizeof(stack) / sizeof(stack[0]));
		stack[sp++] = r;
	}
	for (size_t r = 0; r < nruns; r++)
		for (size_t i = runs[r].start; i < runs[r].end; i++)
			v[i].hit = runs[r].hit;
	free(runs);
	return 0;
}

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
			if (peering_uses_transit(&t->vnets[w], &t->vnets[w].peerings[i])) {
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
			if (peering_uses_transit(&t->vnets[w], &t->vnets[w].peerings[i])) {
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
				if (!prefixes_contain(&hub->summarized, &p->v[i]))
					buf[n++] = p->v[i];
		}
		ctx->advertised[g].n = cidrs_sort_unique(buf, n);
		ctx->advertised[g].v = buf;
		buf = NULL;
	}
	rc = 0;
done:
	free(buf);
	free(nspokes);
	free(start);
	free(spokes);
	return rc == 0 ? 0 : nomem(err, "gateway advertisements");
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
			bool has_ip = parse_first_addr(&ip, circ->routes[i].next_hop);

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
			has_ip = parse_first_addr(&ip, g2->bgp_peering_address);
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
		return nomem(err, "learned routes");
	for (size_t gi = 0; gi < t->ngateways; gi++)
		if (gateway_learn(ctx, gi) != 0)
			return nomem(err, "learned routes");
	return 0;
}

/* ---- context: BGP sets ---- */

struct seq_route {
	struct route r;
	size_t seq;
};

static const char *
res_id(const struct topo_resource *r)
{
	return r != NULL && r->id != NULL ? r->id : "";
}

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
	c = topo_id_compare(res_id(x->r.circuit->res), res_id(y->r.circuit->res));
	if (c != 0)
		return c;
	if (x->r.origin != NULL) {
		c = topo_id_compare(res_id(x->r.origin->res), res_id(y->r.origin->res));
		if (c != 0)
			return c;
	}
	c = topo_id_compare(res_id(x->r.gateway->res), res_id(y->r.gateway->res));
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
	if (total == 0)
		return 0;
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

			if (!peering_uses_transit(vn, &vn->peerings[p]))
				continue;
			for (size_t i = 0; i < h->ngateways; i++) {
				if (GROW(gws, &gcap, n + 1) != 0)
					goto done;
				gws[n++] = gateway_index(t, h->gateways[i]);
			}
		}
		n = sizes_sort_unique(gws, n);
		if (intern_put(&in, gws, n * sizeof(*gws), &id, &fresh) != 0)
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
			if (bgp_set_fill(ctx, bs) != 0)
				goto done;
		}
		ctx->vi[v].bgp = id;
	}
	rc = 0;
done:
	free(gws);
	intern_free(&in);
	return rc == 0 ? 0 : nomem(err, "BGP routes");
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
	return rc == 0 ? 0 : nomem(err, "route tables");
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
	if (overlaps_mark(items, nitems) != 0)
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

static int
ctx_build_groups(struct routes_ctx *ctx, struct nw_err *err)
{
	const struct topology *t = ctx->t;
	struct deployed *dep = NULL;
	size_t *members = NULL, mcap = 0, cgcap = 0;
	size_t *cnt = NULL;
	int rc = NW_ENOMEM;

	dep = calloc(t->nconfigs ? t->nconfigs : 1, sizeof(*dep));
	if (dep == NULL)
		goto done;
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
				goto done;
			dc->regions[dc->n++] = de->region;
		}
	}

	for (size_t c = 0; c < t->nconfigs; c++) {
		const struct topo_connectivity_config *cc = &t->configs[c];
		size_t nunits;

		if (dep[c].n == 0)
			continue;
		if (cc->topology == CC_MESH)
			nunits = 1;
		else if (cc->topology == CC_HUB_AND_SPOKE)
			nunits = cc->ngroups;
		else
			continue;
		for (size_t u = 0; u < nunits; u++) {
			size_t n = 0;
			bool global = cc->is_global;

			/* Mesh: every applied group together; hub and spoke: each directly connected group */
			for (size_t gi = 0; gi < cc->ngroups; gi++) {
				const struct topo_cc_group *ag = &cc->groups[gi];

				if (cc->topology == CC_HUB_AND_SPOKE && (gi != u || !ag->directly_connected))
					continue;
				if (ag->group == NULL)
					continue;
				if (ag->is_global)
					global = true;
				for (size_t m = 0; m < ag->group->nmembers; m++) {
					const struct topo_vnet *vn = ag->group->members[m]->vnet;

					if (vn == NULL || !region_in(&dep[c], vn->res->location))
						continue;
					if (GROW(members, &mcap, n + 1) != 0)
						goto done;
					members[n++] = vnet_index(t, vn);
				}
			}
			n = sizes_sort_unique(members, n);
			if (global) {
				if (cg_add(ctx, &cgcap, members, n) != 0)
					goto done;
				continue;
			}
			/* not global: one connected group per region */
			for (size_t r = 0; r < dep[c].n; r++) {
				size_t *sub = malloc((n ? n : 1) * sizeof(*sub)), k = 0;

				if (sub == NULL)
					goto done;
				for (size_t i = 0; i < n; i++)
					if (topo_location_equal(t->vnets[members[i]].res->location, dep[c].regions[r]))
						sub[k++] = members[i];
				rc = cg_add(ctx, &cgcap, sub, k);
				free(sub);
				if (rc != 0)
					goto done;
				rc = NW_ENOMEM;
			}
		}
	}

	cnt = calloc(t->nvnets ? t->nvnets : 1, sizeof(*cnt));
	if (cnt == NULL)
		goto done;
	for (size_t g = 0; g < ctx->ncg; g++)
		for (size_t i = 0; i < ctx->cg[g].nmembers; i++)
			cnt[ctx->cg[g].members[i]]++;
	for (size_t v = 0; v < t->nvnets; v++) {
		if (cnt[v] == 0)
			continue;
		ctx->vi[v].groups = malloc(cnt[v] * sizeof(*ctx->vi[v].groups));
		if (ctx->vi[v].groups == NULL)
			goto done;
	}
	for (size_t g = 0; g < ctx->ncg; g++)
		for (size_t i = 0; i < ctx->cg[g].nmembers; i++) {
			struct vnet_info *vi = &ctx->vi[ctx->cg[g].members[i]];

			vi->groups[vi->ngroups++] = g;
		}
	rc = 0;
done:
	if (dep != NULL)
		for (size_t c = 0; c < t->nconfigs; c++)
			free(dep[c].regions);
	free(dep);
	free(members);
	free(cnt);
	return rc == 0 ? 0 : nomem(err, "connected groups");
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
		c = topo_id_compare(res_id(x->r.origin->res), res_id(y->r.origin->res));
		if (c != 0)
			return c;
	}
	return x->seq < y->seq ? -1 : x->seq > y->seq;
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
		ng = sizes_sort_unique(gws, ng);
		for (size_t k = 0; k < ng; k++)
			total += ctx->advertised[gws[k]].n;
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
	return rc == 0 ? 0 : nomem(err, "circuit route tables");
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
		return nomem(err, "the route context");
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
			ctx->azure[i].prefix = v4(defs[i].a, defs[i].b, defs[i].len);
			ctx->azure[i].source = ROUTE_SRC_DEFAULT;
			ctx->azure[i].next_hop = defs[i].nh;
			ctx->azure[i].active = true;
		}
	}
	if ((rc = ctx_build_advertised(ctx, err)) != 0 ||
	    (rc = ctx_build_learned(ctx, err)) != 0 ||
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
	free(ctx);
}

const struct topo_prefixes *
routes_gateway_advertised(const struct routes_ctx *ctx, const struct topo_gateway *g)
{
	if (g == NULL || g < ctx->t->gateways || g >= ctx->t->gateways + ctx->t->ngateways)
		return &no_prefixes;
	return &ctx->advertised[gateway_index(ctx->t, g)];
}

/* ---- sources ---- */

static struct src
src_for(const struct routes_ctx *ctx, const struct topo_vnet *v, const struct topo_route_table *tab)
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
	int c;

	if (rank_out_order[x->rank] != rank_out_order[y->rank])
		return rank_out_order[x->rank] < rank_out_order[y->rank] ? -1 : 1;
	c = cidr_compare(&x->r.prefix, &y->r.prefix);
	if (c != 0)
		return c;
	if (x->k1 != y->k1)
		return x->k1 < y->k1 ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
cmp_mroute_sel(const void *a, const void *b)
{
	const struct mroute *x = *(const struct mroute *const *)a, *y = *(const struct mroute *const *)b;
	int c = cidr_compare(&x->r.prefix, &y->r.prefix);

	if (c != 0)
		return c;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
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

static int
build_effective(struct route_set *out, const struct routes_ctx *ctx, const struct src *s,
    struct nw_err *err)
{
	const struct topology *t = ctx->t;
	const struct topo_vnet *v = s->vnet;
	struct mlist m = { 0 };
	struct mroute **sel = NULL;
	struct cidr_table *personal = NULL;
	struct route r;
	size_t vi, k;
	int rc = NW_ENOMEM;

	memset(out, 0, sizeof(*out));
	vi = vnet_index(t, v);
	memset(&r, 0, sizeof(r));
	r.source = ROUTE_SRC_DEFAULT;
	for (size_t i = 0; i < v->prefixes.n; i++) {
		r.prefix = v->prefixes.v[i];
		r.next_hop = NH_VNET_LOCAL;
		if (mlist_push(&m, &r, RANK_LOCAL, 0) != 0)
			goto done;
	}
	for (size_t p = 0; p < v->npeerings; p++) {
		const struct topo_peering *pe = &v->peerings[p];
		const struct topo_prefixes *pp = peering_prefixes(pe);

		if (pe->state != PEERING_CONNECTED)
			continue;
		for (size_t i = 0; i < pp->n; i++) {
			memset(&r, 0, sizeof(r));
			r.source = ROUTE_SRC_DEFAULT;
			r.prefix = pp->v[i];
			r.next_hop = peering_next_hop(v, pe);
			r.peering = pe;
			r.remote = pe->remote;
			if (mlist_push(&m, &r, RANK_PEERING, p) != 0)
				goto done;
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
			if (mlist_push(&m, &r, RANK_GROUP, cg->kept[i].vnet) != 0)
				goto done;
		}
	}
	for (size_t i = 0; i < NAZURE; i++)
		if (mlist_push(&m, &ctx->azure[i], RANK_AZURE, 0) != 0)
			goto done;
	for (size_t i = 0; s->bgp != NULL && i < s->bgp->n; i++)
		if (mlist_push(&m, &s->bgp->v[i], RANK_BGP, 0) != 0)
			goto done;
	for (size_t i = 0; s->rt != NULL && i < s->rt->n; i++)
		if (mlist_push(&m, &s->rt->v[i], RANK_USER, 0) != 0)
			goto done;

	qsort(m.v, m.n, sizeof(*m.v), cmp_mroute_out);
	/* a VNet in two groups with the same peer gets that peer's routes once */
	k = 0;
	for (size_t i = 0; i < m.n; i++) {
		if (k > 0 && m.v[i].rank == RANK_GROUP && m.v[k - 1].rank == RANK_GROUP &&
		    m.v[k - 1].k1 == m.v[i].k1 && cidr_equal(&m.v[k - 1].r.prefix, &m.v[i].r.prefix))
			continue;
		m.v[k++] = m.v[i];
	}
	m.n = k;

	/* validity before selection */
	personal = cidr_table_new();
	if (personal == NULL)
		goto done;
	for (size_t i = 0; i < m.n; i++) {
		m.v[i].pos = i;
		if (m.v[i].rank >= RANK_LOCAL && m.v[i].rank <= RANK_GROUP &&
		    cidr_table_add(personal, &m.v[i].r.prefix, &m.v[i]) < 0)
			goto done;
	}
	for (size_t i = 0; i < m.n; i++) {
		if (m.v[i].rank == RANK_USER)
			m.v[i].r.active = user_valid(&m.v[i].r, s->has_vpn);
		/* the VNet's own space, its peerings and groups win over BGP, even more specific BGP */
		else if (m.v[i].rank == RANK_BGP)
			m.v[i].r.active = cidr_table_lookup(personal, &m.v[i].r.prefix, NULL) == NULL;
	}

	/* one winner per prefix */
	sel = malloc((m.n ? m.n : 1) * sizeof(*sel));
	if (sel == NULL)
		goto done;
	for (size_t i = 0; i < m.n; i++)
		sel[i] = &m.v[i];
	qsort(sel, m.n, sizeof(*sel), cmp_mroute_sel);
	for (size_t i = 0; i < m.n;) {
		size_t j = i;
		bool won = false;

		while (j < m.n && cidr_equal(&sel[j]->r.prefix, &sel[i]->r.prefix)) {
			if (sel[j]->r.active && !won)
				won = true;
			else
				sel[j]->r.active = false;
			j++;
		}
		i = j;
	}
	/* a user default route takes the private ranges away from None */
	{
		bool user_default = false;

		for (size_t i = 0; i < m.n; i++)
			if (m.v[i].rank == RANK_USER && m.v[i].r.active &&
			    cidr_equal(&m.v[i].r.prefix, &ctx->azure[0].prefix))
				user_default = true;
		for (size_t i = 0; user_default && i < m.n; i++)
			if (m.v[i].rank == RANK_AZURE && m.v[i].r.next_hop == NH_NONE)
				m.v[i].r.active = false;
	}

	out->v = malloc((m.n ? m.n : 1) * sizeof(*out->v));
	if (out->v == NULL)
		goto done;
	for (size_t i = 0; i < m.n; i++)
		out->v[i] = m.v[i].r;
	out->n = m.n;
	rc = 0;
done:
	free(m.v);
	free(sel);
	cidr_table_free(personal);
	return rc == 0 ? 0 : nomem(err, "effective routes");
}

int
routes_effective(struct route_set *out, const struct routes_ctx *ctx,
    const struct topo_subnet *subnet, struct nw_err *err)
{
	struct src s = src_for(ctx, subnet->vnet, subnet->route_table);

	return build_effective(out, ctx, &s, err);
}

int
routes_effective_vnet(struct route_set *out, const struct routes_ctx *ctx,
    const struct topo_vnet *vnet, struct nw_err *err)
{
	struct src s = src_for(ctx, vnet, NULL);

	return build_effective(out, ctx, &s, err);
}

void
route_set_free(struct route_set *s)
{
	if (s == NULL)
		return;
	free(s->v);
	s->v = NULL;
	s->n = 0;
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
		pp = peering_prefixes(pe);
		for (size_t i = 0; i < pp->n; i++) {
			if (!cidr_contains(&pp->v[i], d))
				continue;
			memset(&c, 0, sizeof(c));
			c.rank = RANK_PEERING;
			c.order = p;
			c.prefix = pp->v[i];
			c.nh = peering_next_hop(s->vnet, pe);
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
		if (user_valid(&l->v[i], has_vpn))
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
static bool
lookup_layers(struct route *out, const struct routes_ctx *ctx, const struct src *s, const struct cidr *d)
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
static void
classify(struct path_result *out, const struct routes_ctx *ctx, const struct src *s,
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
		if (s->vnet != NULL && prefixes_contain(&s->vnet->prefixes, d)) {
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
		if (r->circuit == NULL) {
			snprintf(out->detail, sizeof(out->detail), "no circuit behind the gateway");
			return;
		}
		ci = &ctx->ci[(size_t)(r->circuit - ctx->t->circuits)];
		cr = cidr_table_lookup(ci->tab, d, NULL);
		if (cr == NULL) {
			snprintf(out->detail, sizeof(out->detail), "circuit %s has no route", res_id(r->circuit->res));
			return;
		}
		/* the circuit's route in route form: learned over r's circuit, from cr's origin */
		out->circuit_route.prefix = cr->prefix;
		out->circuit_route.source = ROUTE_SRC_GATEWAY;
		out->circuit_route.next_hop = cr->origin != NULL ? NH_VIRTUAL_NETWORK_GATEWAY : NH_UNKNOWN;
		out->circuit_route.has_next_hop_ip = parse_first_addr(&out->circuit_route.next_hop_ip, cr->next_hop);
		out->circuit_route.active = true;
		out->circuit_route.circuit = r->circuit;
		out->circuit_route.origin = cr->origin;
		out->circuit_route.gateway = cr->origin;
		out->has_circuit_route = true;
		if (cr->origin != NULL) {
			out->cls = PATH_HAIRPIN;
			snprintf(out->detail, sizeof(out->detail), "%s", res_id(r->circuit->res));
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
static void
path_eval(struct path_result *out, const struct routes_ctx *ctx, const struct src *srcs,
    const struct topo_subnet *const *subnets, size_t nsrcs, const struct topo_vnet *b)
{
	struct path_result cur;
	bool have = false;

	for (size_t i = 0; i < nsrcs; i++)
		for (size_t j = 0; j < b->prefixes.n; j++) {
			struct route r;
			bool found = lookup_layers(&r, ctx, &srcs[i], &b->prefixes.v[j]);

			classify(&cur, ctx, &srcs[i], found ? &r : NULL, &b->prefixes.v[j]);
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
	struct src s = src_for(ctx, from->vnet, from->route_table);
	struct route r;
	bool found = lookup_layers(&r, ctx, &s, dst);

	classify(out, ctx, &s, found ? &r : NULL, dst);
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
			return nomem(err, "a path");
		}
	}
	for (size_t i = 0; i < a->nsubnets; i++) {
		if (a->subnets[i].is_infrastructure)
			continue;
		srcs[n] = src_for(ctx, a, a->subnets[i].route_table);
		subnets[n] = &a->subnets[i];
		n++;
	}
	if (n == 0) {
		/* no workload subnet: one subnet with no route table */
		srcs[0] = src_for(ctx, a, NULL);
		subnets[0] = NULL;
		n = 1;
	}
	path_eval(out, ctx, srcs, subnets, n, b);
	if (srcs != small)
		free(srcs);
	if (subnets != small_sn)
		free((void *)subnets);
	return 0;
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
		return nomem(err, "a circuit route table");
	memcpy(out->v, ci->v, ci->n * sizeof(*out->v));
	out->n = ci->n;
	return 0;
}

void
circuit_route_set_free(struct circuit_route_set *s)
{
	if (s == NULL)
		return;
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

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

	if (x->cls != y->cls)
		return x->cls < y->cls ? -1 : 1;
	return strcmp(x->detail, y->detail);
}

static void
summary_finish(struct path_summary *out, struct bucket_list *bl, size_t nmembers)
{
	memset(out, 0, sizeof(*out));
	if (bl->n > 0)
		qsort(bl->v, bl->n, sizeof(*bl->v), cmp_bucket);
	out->vnets = nmembers;
	for (size_t i = 0; i < bl->n; i++) {
		out->by_class[bl->v[i].cls] += bl->v[i].count;
		out->flows += bl->v[i].count;
	}
	out->buckets = bl->v;
	out->nbuckets = bl->n;
	bl->v = NULL;
	bl->n = bl->cap = 0;
}

void
path_summary_free(struct path_summary *s)
{
	if (s == NULL)
		return;
	free(s->buckets);
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
		return nomem(err, "the summary members");
	for (size_t i = 0; i < n; i++) {
		v[i] = members != NULL ? members[i] : i;
		if (v[i] >= t->nvnets) {
			free(v);
			return err_set(err, NW_EINPUT, "cannot summarize member %zu: the topology has %zu VNets",
			    members[i], t->nvnets);
		}
	}
	*nout = sizes_sort_unique(v, n);
	*out = v;
	return 0;
}

static int
summary_pair(struct bucket_list *bl, const struct routes_ctx *ctx, size_t a, size_t b, struct nw_err *err)
{
	struct path_result r;
	size_t idx;
	int rc;

	rc = routes_path(&r, ctx, &ctx->t->vnets[a], &ctx->t->vnets[b], err);
	if (rc != 0)
		return rc;
	if (bucket_index(&idx, bl, r.cls, r.detail) != 0)
		return nomem(err, "the summary");
	bucket_count(bl, ctx->t, idx, 1, a, b);
	return 0;
}

int
routes_summary_slow(struct path_summary *out, const struct routes_ctx *ctx,
    const size_t *members, size_t nmembers, struct nw_err *err)
{
	struct bucket_list bl = { 0 };
	size_t *mem = NULL, n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = members_normalize(&mem, &n, ctx->t, members, nmembers, err);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++)
		for (size_t j = 0; j < n && rc == 0; j++)
			if (i != j)
				rc = summary_pair(&bl, ctx, mem[i], mem[j], err);
	if (rc == 0)
		summary_finish(out, &bl, n);
	free(bl.v);
	free(mem);
	return rc;
}

/*
 * The fast summary.  A VNet's routes split into a personal part (its own
 * space, its connected peerings, its connected groups) and a shared part
 * (the BGP routes of its gateway set, its route tables' user routes,
 * Azure's defaults).  Sources with the same shared part on every workload
 * subnet, in the same order, and the same connected groups form a class.
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
 * routes_summary_slow counts, examples included.
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
	struct intern content, skey, kkey, kpkey;
	size_t *rt_content;     /* per route table; NONE_ID until seen */
	const struct rt_layer **content_rt; /* per content id: a table with it */
	size_t ncontent_rt, content_cap;
	struct src *sk_src;     /* per subnet key: the shared part alone */
	size_t nsk, sk_cap;
	struct src **k_srcs;    /* per shared key: the subnet keys' sources */
	size_t *k_n;
	size_t nk, k_cap, k_ncap;
	struct kclass *kp;
	size_t nkp, kp_cap;
	size_t *kp_of;          /* per VNet */
};

static void
summ_free(struct summ *S)
{
	intern_free(&S->content);
	intern_free(&S->skey);
	intern_free(&S->kkey);
	intern_free(&S->kpkey);
	free(S->rt_content);
	free((void *)S->content_rt);
	free(S->sk_src);
	for (size_t i = 0; i < S->nk; i++)
		free(S->k_srcs[i]);
	free(S->k_srcs);
	free(S->k_n);
	for (size_t i = 0; i < S->nkp; i++)
		free(S->kp[i].members);
	free(S->kp);
	free(S->kp_of);
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
	if (intern_put(&S->content, buf, len, &id, &fresh) != 0)
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
	size_t key[2], id, ti = NONE_ID;
	size_t bgp = ctx->vi[vi].bgp;
	bool fresh;

	key[0] = NONE_ID;
	key[1] = bgp;
	if (tab != NULL) {
		ti = (size_t)(tab - S->t->route_tables);
		if (rt_content_id(&key[0], S, ti) != 0)
			return NW_ENOMEM;
		/* propagation off: the gateways matter only to user routes pointing at them */
		if (tab->disable_bgp_route_propagation && !ctx->rt[ti].has_vng)
			key[1] = NONE_ID;
	}
	if (intern_put(&S->skey, key, sizeof(key), &id, &fresh) != 0)
		return NW_ENOMEM;
	if (fresh) {
		struct src *s;

		if (GROW(S->sk_src, &S->sk_cap, id + 1) != 0)
			return NW_ENOMEM;
		S->nsk = id + 1;
		s = &S->sk_src[id];
		memset(s, 0, sizeof(*s));
		s->rt = key[0] != NONE_ID ? S->content_rt[key[0]] : NULL;
		if (key[1] != NONE_ID) {
			s->has_vpn = ctx->bgp[key[1]].has_vpn;
			if (tab == NULL || !tab->disable_bgp_route_propagation)
				s->bgp = &ctx->bgp[key[1]];
		}
	}
	*out = id;
	return 0;
}

static int
summ_classify(struct summ *S, size_t a)
{
	const struct topology *t = S->t;
	const struct topo_vnet *v = &t->vnets[a];
	const struct vnet_info *vi = &S->ctx->vi[a];
	size_t *keys = NULL, n = 0, kid, kpid, *kpkey = NULL;
	bool fresh;
	int rc = NW_ENOMEM;

	keys = malloc((v->nsubnets + 1) * sizeof(*keys));
	kpkey = malloc((vi->ngroups + 1) * sizeof(*kpkey));
	if (keys == NULL || kpkey == NULL)
		goto done;
	for (size_t i = 0; i <= v->nsubnets; i++) {
		size_t sk;
		bool dup = false;

		if (i == v->nsubnets && n > 0)
			break;
		if (i < v->nsubnets && v->subnets[i].is_infrastructure)
			continue;
		if (summ_subnet_key(&sk, S, a, i < v->nsubnets ? v->subnets[i].route_table : NULL) != 0)
			goto done;
		/* a later subnet with the same shared part decides nothing new */
		for (size_t k = 0; k < n; k++)
			dup = dup || keys[k] == sk;
		if (!dup)
			keys[n++] = sk;
	}
	if (intern_put(&S->kkey, keys, n * sizeof(*keys), &kid, &fresh) != 0)
		goto done;
	if (fresh) {
		if (GROW(S->k_srcs, &S->k_cap, kid + 1) != 0 ||
		    GROW(S->k_n, &S->k_ncap, kid + 1) != 0)
			goto done;
		S->k_srcs[kid] = malloc(n * sizeof(**S->k_srcs));
		S->k_n[kid] = n;
		S->nk = kid + 1;
		if (S->k_srcs[kid] == NULL)
			goto done;
		for (size_t k = 0; k < n; k++)
			S->k_srcs[kid][k] = S->sk_src[keys[k]];
	}
	kpkey[0] = kid;
	if (vi->ngroups > 0)
		memcpy(kpkey + 1, vi->groups, vi->ngroups * sizeof(*kpkey));
	if (intern_put(&S->kpkey, kpkey, (vi->ngroups + 1) * sizeof(*kpkey), &kpid, &fresh) != 0)
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
	free(keys);
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
			pp = peering_prefixes(&v->peerings[p]);
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
	if (overlaps_mark(items, n) != 0)
		goto done;
	for (size_t i = 0; i < n; i++)
		if (items[i].hit && items[i].tag != NONE_ID)
			flagged[items[i].tag] = true;
	rc = 0;
done:
	free(items);
	return rc;
}

int
routes_summary(struct path_summary *out, const struct routes_ctx *ctx,
    const size_t *members, size_t nmembers, struct nw_err *err)
{
	const struct topology *t = ctx->t;
	struct summ S;
	struct bucket_list bl = { 0 };
	size_t *mem = NULL, nmem = 0;
	bool *flagged = NULL, *is_member = NULL;
	size_t *in_start = NULL, *in_list = NULL, *in_fill = NULL, *mark = NULL, *sub = NULL;
	size_t *d_stamp = NULL, *d_idx = NULL, *m_stamp = NULL, *m_idx = NULL;
	struct src *scratch = NULL;
	size_t maxk = 1;
	bool told = false; /* the callee filled err */
	int rc, prc;

	memset(out, 0, sizeof(*out));
	memset(&S, 0, sizeof(S));
	rc = members_normalize(&mem, &nmem, t, members, nmembers, err);
	if (rc != 0)
		return rc;
	rc = NW_ENOMEM;
	S.ctx = ctx;
	S.t = t;
	S.rt_content = malloc((t->nroute_tables ? t->nroute_tables : 1) * sizeof(*S.rt_content));
	S.kp_of = malloc((t->nvnets ? t->nvnets : 1) * sizeof(*S.kp_of));
	flagged = calloc(t->nvnets + 1, sizeof(*flagged));
	is_member = calloc(t->nvnets + 1, sizeof(*is_member));
	in_start = calloc(t->nvnets + 1, sizeof(*in_start));
	in_fill = calloc(t->nvnets + 1, sizeof(*in_fill));
	mark = calloc(t->nvnets + 1, sizeof(*mark));
	if (S.rt_content == NULL || S.kp_of == NULL || flagged == NULL || is_member == NULL ||
	    in_start == NULL || in_fill == NULL || mark == NULL)
		goto done;
	for (size_t i = 0; i < t->nroute_tables; i++)
		S.rt_content[i] = NONE_ID;
	for (size_t i = 0; i < nmem; i++)
		is_member[mem[i]] = true;

	for (size_t i = 0; i < nmem; i++)
		if (summ_classify(&S, mem[i]) != 0)
			goto done;
	if (summ_overlapping(flagged, ctx, mem, nmem) != 0)
		goto done;

	/* incoming connected peerings from members: in_list[in_start[b]..in_start[b+1]] */
	for (size_t i = 0; i < nmem; i++) {
		const struct topo_vnet *a = &t->vnets[mem[i]];

		for (size_t p = 0; p < a->npeerings; p++) {
			const struct topo_vnet *r = a->peerings[p].remote;

			if (a->peerings[p].state == PEERING_CONNECTED && r != NULL && r != a &&
			    is_member[vnet_index(t, r)])
				in_start[vnet_index(t, r) + 1]++;
		}
	}
	for (size_t v = 0; v < t->nvnets; v++)
		in_start[v + 1] += in_start[v];
	in_list = malloc((in_start[t->nvnets] ? in_start[t->nvnets] : 1) * sizeof(*in_list));
	if (in_list == NULL)
		goto done;
	for (size_t i = 0; i < nmem; i++) {
		const struct topo_vnet *a = &t->vnets[mem[i]];

		for (size_t p = 0; p < a->npeerings; p++) {
			const struct topo_vnet *r = a->peerings[p].remote;
			size_t b;

			if (a->peerings[p].state != PEERING_CONNECTED || r == NULL || r == a)
				continue;
			b = vnet_index(t, r);
			if (is_member[b])
				in_list[in_start[b] + in_fill[b]++] = mem[i];
		}
	}

	sub = calloc(S.nkp + 1, sizeof(*sub));
	d_stamp = calloc(S.nk + 1, sizeof(*d_stamp));
	d_idx = calloc(S.nk + 1, sizeof(*d_idx));
	m_stamp = calloc(S.nk + 1, sizeof(*m_stamp));
	m_idx = calloc(S.nk + 1, sizeof(*m_idx));
	for (size_t k = 0; k < S.nk; k++)
		if (S.k_n[k] > maxk)
			maxk = S.k_n[k];
	scratch = malloc(maxk * sizeof(*scratch));
	if (sub == NULL || d_stamp == NULL || d_idx == NULL || m_stamp == NULL || m_idx == NULL || scratch == NULL)
		goto done;

	for (size_t bi = 0; bi < nmem; bi++) {
		size_t b = mem[bi], stamp = b + 1;
		const struct topo_vnet *bv = &t->vnets[b];
		const struct vnet_info *bvi = &ctx->vi[b];

		if (flagged[b]) {
			for (size_t ai = 0; ai < nmem; ai++)
				if (mem[ai] != b && (prc = summary_pair(&bl, ctx, mem[ai], b, err)) != 0) {
					rc = prc;
					told = true;
					goto done;
				}
			continue;
		}
		for (size_t k = in_start[b]; k < in_start[b + 1]; k++) {
			size_t a = in_list[k];

			if (mark[a] == stamp)
				continue;
			mark[a] = stamp;
			if ((prc = summary_pair(&bl, ctx, a, b, err)) != 0) {
				rc = prc;
				told = true;
				goto done;
			}
			sub[S.kp_of[a]]++;
		}
		mark[b] = stamp;
		sub[S.kp_of[b]]++;

		for (size_t kp = 0; kp < S.nkp; kp++) {
			const struct kclass *kc = &S.kp[kp];
			size_t cnt = kc->n - sub[kp], k = kc->k, idx, amin = NONE_ID;
			struct path_result r;

			if (cnt == 0)
				continue;
			if (sorted_intersect(kc->groups, kc->ngroups, bvi->groups, bvi->ngroups)) {
				if (m_stamp[k] != stamp) {
					for (size_t i = 0; i < S.k_n[k]; i++) {
						scratch[i] = S.k_srcs[k][i];
						scratch[i].group_peer = bv;
					}
					path_eval(&r, ctx, scratch, NULL, S.k_n[k], bv);
					if (bucket_index(&m_idx[k], &bl, r.cls, r.detail) != 0)
						goto done;
					m_stamp[k] = stamp;
				}
				idx = m_idx[k];
			} else {
				if (d_stamp[k] != stamp) {
					path_eval(&r, ctx, S.k_srcs[k], NULL, S.k_n[k], bv);
					if (bucket_index(&d_idx[k], &bl, r.cls, r.detail) != 0)
						goto done;
					d_stamp[k] = stamp;
				}
				idx = d_idx[k];
			}
			for (size_t i = 0; i < kc->n; i++)
				if (mark[kc->members[i]] != stamp) {
					amin = kc->members[i];
					break;
				}
			assert(amin != NONE_ID);
			bucket_count(&bl, t, idx, cnt, amin, b);
		}

		for (size_t k = in_start[b]; k < in_start[b + 1]; k++)
			sub[S.kp_of[in_list[k]]] = 0;
		sub[S.kp_of[b]] = 0;
	}
	summary_finish(out, &bl, nmem);
	rc = 0;
done:
	if (rc != 0 && !told)
		rc = nomem(err, "the summary");
	free(bl.v);
	free(mem);
	free(flagged);
	free(is_member);
	free(in_start);
	free(in_list);
	free(in_fill);
	free(mark);
	free(sub);
	free(d_stamp);
	free(d_idx);
	free(m_stamp);
	free(m_idx);
	free(scratch);
	summ_free(&S);
	return rc;
}
