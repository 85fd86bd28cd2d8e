/*
 * The route engine's insides, shared by its files (plan/routes.c: effective
 * routes, lookups and path classes; plan/routes_ctx.c: the context built once
 * per topology; plan/routes_summary.c: estate summaries; plan/routes_util.c:
 * small helpers).  Not for use outside plan/routes*.c.
 */
#ifndef NETWAVE_PLAN_ROUTES_IMPL_H
#define NETWAVE_PLAN_ROUTES_IMPL_H

#include <assert.h>
#include <stdint.h>

#include "plan/routes.h"
#include "plan/routes_bgp.h"
#include "plan/vec.h"

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
	size_t server;          /* the route server whose routes it holds too, NONE_ID if none */
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
	struct bgp_model *bgpm;           /* plan/routes_bgp.c */
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
	uint64_t nva_reach;        /* without vnet: which route server next hops it reaches (re_bgp_reach_mask) */
};

struct intern {
	size_t *slot; /* id + 1; 0 when empty */
	size_t cap;   /* power of two */
	unsigned char **key;
	size_t *klen;
	size_t n, alloc;
};

struct owned {
	struct cidr c;
	size_t owner;
	size_t tag;  /* caller's */
	bool hit;    /* overlaps a prefix of another owner */
};

#define GROW(arr, capp, need) VEC_GROW(arr, capp, need)

static inline size_t
vnet_index(const struct topology *t, const struct topo_vnet *v)
{
	assert(v >= t->vnets && v < t->vnets + t->nvnets);
	return (size_t)(v - t->vnets);
}

static inline size_t
gateway_index(const struct topology *t, const struct topo_gateway *g)
{
	assert(g >= t->gateways && g < t->gateways + t->ngateways);
	return (size_t)(g - t->gateways);
}

static inline const char *
re_res_id(const struct topo_resource *r)
{
	return r != NULL && r->id != NULL ? r->id : "";
}

/* plan/routes_util.c */

/* NW_ENOMEM with "out of memory building <what>". */
int re_nomem(struct nw_err *err, const char *what);

/* An IPv4 prefix a.b.0.0/len. */
struct cidr re_v4(uint8_t a, uint8_t b, unsigned len);

bool re_prefixes_contain(const struct topo_prefixes *p, const struct cidr *d);

/* The first address of a possibly comma-separated list (active-active gateways). */
bool re_parse_first_addr(struct cidr *out, const char *s);

/* An empty prefix list. */
extern const struct topo_prefixes re_no_prefixes;

/* What a peering's routes cover: what ARM says the remote has, else the remote's own space. */
const struct topo_prefixes *re_peering_prefixes(const struct topo_peering *p);

/* VNetPeering, or VNetGlobalPeering across regions. */
enum topo_next_hop re_peering_next_hop(const struct topo_vnet *v, const struct topo_peering *p);

/* True when v's peering p lets v use the remote VNet's gateways. */
bool re_peering_uses_transit(const struct topo_vnet *v, const struct topo_peering *p);

/* Whether Azure would install user route r (a VPN gateway is needed for VirtualNetworkGateway). */
bool re_user_valid(const struct route *r, bool has_vpn);

/* Sort and remove duplicates in place; return the new count. */
size_t re_cidrs_sort_unique(struct cidr *v, size_t n);
size_t re_sizes_sort_unique(size_t *v, size_t n);

/* True when two ascending arrays share an element. */
bool re_sorted_intersect(const size_t *a, size_t na, const size_t *b, size_t nb);

void re_intern_free(struct intern *in);

/* The id of key (a new one when unseen); *fresh tells which. */
int re_intern_put(struct intern *in, const void *key, size_t len, size_t *id, bool *fresh);

/* Marks every item that overlaps an item of a different owner; reorders v. */
int re_overlaps_mark(struct owned *v, size_t n);

/* plan/routes.c */

/* The source of a subnet of v with route table tab (NULL: none). */
struct src re_src_for(const struct routes_ctx *ctx, const struct topo_vnet *v,
    const struct topo_route_table *tab);

/* The best active route for d through the layers of s; false when none. */
bool re_lookup_layers(struct route *out, const struct routes_ctx *ctx, const struct src *s,
    const struct cidr *d);

/* The class of a flow to d decided by route r (NULL: none). */
void re_classify(struct path_result *out, const struct routes_ctx *ctx, const struct src *s,
    const struct route *r, const struct cidr *d);

/*
 * The worst case over sources x destination prefixes, the first among
 * equals by source order then prefix order; subnets (parallel to srcs)
 * may be NULL.
 */
void re_path_eval(struct path_result *out, const struct routes_ctx *ctx, const struct src *srcs,
    const struct topo_subnet *const *subnets, size_t nsrcs, const struct cidr *dst, size_t ndst);

/* plan/routes_bgp.c: the BGP model, built after the gateways' learned routes. */
struct bgp_model;
struct bgp_route;
int re_bgp_build(struct routes_ctx *ctx, struct nw_err *err);
void re_bgp_free(struct bgp_model *m, const struct topology *t);

/* The route server whose routes v's NICs receive, or NONE_ID. */
size_t re_bgp_server_of(const struct routes_ctx *ctx, const struct topo_vnet *v);

/* The routes route server `server` programs into NICs (one per prefix, by prefix). */
const struct route *re_bgp_injected(const struct routes_ctx *ctx, size_t server, size_t *n);

/* What gateway gi passes on to its circuits from its route server, with "65515 ..." paths. */
size_t re_bgp_gateway_circuit_routes(const struct routes_ctx *ctx, size_t gi, const struct bgp_route **v,
    const char (**paths)[BGP_PATH_STRLEN]);

/*
 * Adds to bs (its gateways' routes, one per prefix, by prefix) the routes
 * of its route server; a route server's route replaces a gateway's for the
 * same prefix.  The table is not touched.  0 or NW_ENOMEM.
 */
int re_bgp_merge(const struct routes_ctx *ctx, struct bgp_set *bs);

/*
 * Which of the next hops of v's route server (bit k: the k-th distinct one)
 * v reaches without a lookup of its own: inside its address space, a
 * connected peering's remote space or a connected group's member.  Azure
 * does not resolve a next hop recursively.  0 when v has no route server.
 */
uint64_t re_bgp_reach_mask(const struct routes_ctx *ctx, const struct topo_vnet *v);

/* The class of a flow decided by a route a route server programmed. */
void re_bgp_classify(struct path_result *out, const struct routes_ctx *ctx, const struct src *s,
    const struct route *r);

#endif
