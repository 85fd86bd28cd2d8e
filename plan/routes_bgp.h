/*
 * The BGP model of the route engine (plan/routes_bgp.c): route servers,
 * ExpressRoute gateways, their circuits and the declared NVAs as BGP
 * speakers with AS paths.  It is built with the routes context
 * (routes_ctx_new) and answers what each route server learned from each
 * peer, what it advertises to each peer, which routes it programs into the
 * NICs of its VNet and of the VNets peered to it with "use remote gateway
 * or route server", and what the VNet's gateways pass on to their circuits
 * with branch-to-branch.  docs/bgp.md documents each rule and its source.
 *
 * The API is pure: every answer comes from the topology, so the emulator
 * answers learnedRoutes / advertisedRoutes from it and check, routes and
 * path agree with what the emulator says.
 */
#ifndef NETWAVE_PLAN_ROUTES_BGP_H
#define NETWAVE_PLAN_ROUTES_BGP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "plan/err.h"
#include "plan/routes.h"
#include "plan/topology.h"

#define BGP_PATH_MAX 32
#define BGP_PATH_STRLEN (BGP_PATH_MAX * 11 + 1)

struct bgp_path {
	uint32_t asn[BGP_PATH_MAX]; /* first: the last AS the route crossed */
	unsigned n;
};

/* Where a route server got a route. */
enum bgp_from {
	BGP_FROM_VNET = 0, /* its VNet or a VNet peered to it with remote gateways */
	BGP_FROM_GATEWAY,  /* an ExpressRoute / VPN gateway of its VNet (branch-to-branch) */
	BGP_FROM_PEER,     /* a BGP connection (an NVA) */
};

enum bgp_state {
	BGP_BEST = 0,      /* selected (several for ECMP) */
	BGP_CANDIDATE,     /* valid, not selected */
	BGP_DROPPED_LOOP,  /* eBGP loop prevention: the path holds the server's own ASN */
	BGP_DROPPED_LONG,  /* the path would exceed BGP_PATH_MAX */
};

struct bgp_route {
	struct cidr prefix;
	struct bgp_path path;                   /* as received (a VNet route: empty) */
	enum bgp_from from;
	enum bgp_state state;
	bool has_next_hop;
	struct cidr next_hop;                   /* the peer's next hop (the NVA), full length */
	int weight;                             /* ExpressRoute connection weight (gateway routes) */
	const struct topo_bgp_connection *peer; /* BGP_FROM_PEER */
	const struct topo_nva *nva;             /* BGP_FROM_PEER, when declared */
	const struct topo_gateway *gateway;     /* BGP_FROM_GATEWAY */
	const struct topo_vnet *vnet;           /* BGP_FROM_VNET */
};

/* A list of routes, by prefix then by preference. */
struct bgp_rib {
	struct bgp_route *v;
	size_t n;
};

void bgp_rib_free(struct bgp_rib *r);

/* "65001-65001" (sep '-', as ARM's PeerRoute.asPath) or "65515 65001" (sep ' '). */
void bgp_path_format(char *buf, size_t size, const struct bgp_path *p, char sep);

/* Parses "65001 65002" or "65001-65002" (either separator); false when malformed or too long. */
bool bgp_path_parse(struct bgp_path *out, const char *s);

struct routes_ctx;

/* Every route server s holds, dropped ones included (borrowed from ctx; NULL if s is not in t). */
const struct bgp_rib *routes_bgp_rib(const struct routes_ctx *ctx, const struct topo_route_server *s);

/* True when the model settled (it iterates; a design whose paths grow forever does not). */
bool routes_bgp_converged(const struct routes_ctx *ctx);

/* The rounds the model took to settle. */
size_t routes_bgp_rounds(const struct routes_ctx *ctx);

/*
 * What c's route server accepted from c's peer (learnedRoutes): *out is a
 * new list (bgp_rib_free).  NW_ENOMEM only.
 */
int routes_bgp_learned(struct bgp_rib *out, const struct routes_ctx *ctx,
    const struct topo_bgp_connection *c, struct nw_err *err);

/*
 * What c's route server advertises to c's peer (advertisedRoutes): its best
 * routes but those learned over c, each path starting with the server's
 * ASN.  Routes dropped by loop prevention are in neither list.
 */
int routes_bgp_advertised(struct bgp_rib *out, const struct routes_ctx *ctx,
    const struct topo_bgp_connection *c, struct nw_err *err);

/*
 * The learnedRoutes / advertisedRoutes answer in Azure's shape, keyed by
 * route server instance: {"RouteServiceRole_IN_0": [PeerRoute...], ...}, one
 * key per virtualRouterIps entry (localAddress), else one instance.  New
 * reference, NULL on out of memory.
 */
json_t *routes_bgp_peer_routes_json(const struct routes_ctx *ctx, const struct topo_bgp_connection *c,
    bool advertised);

/*
 * What gateway g advertises to its circuits because its VNet's route
 * server passes NVA routes on (branch-to-branch), each path starting with
 * 65515; borrowed, empty when none.
 */
const struct bgp_rib *routes_bgp_gateway_extra(const struct routes_ctx *ctx, const struct topo_gateway *g);

/* Routes dropped by loop prevention over all route servers. */
size_t routes_bgp_dropped(const struct routes_ctx *ctx);

#endif
