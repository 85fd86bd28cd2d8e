/*
 * The route engine: the effective routes Azure would program on a subnet,
 * and the path a flow between two VNets takes (DESIGN.md, "The route
 * engine").  The planner uses it to show what each wave does to traffic,
 * the emulator to answer effectiveRouteTable, check to summarize east-west
 * traffic over a whole estate.
 *
 * A routes context is built once per topology (gateway advertisements,
 * circuit route tables, connected groups) and then answers many queries.
 */
#ifndef NETWAVE_PLAN_ROUTES_H
#define NETWAVE_PLAN_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#include "plan/cidr.h"
#include "plan/err.h"
#include "plan/topology.h"

/* EffectiveRouteSource */
enum route_source {
	ROUTE_SRC_DEFAULT = 0,         /* "Default": system routes */
	ROUTE_SRC_USER,                /* "User" */
	ROUTE_SRC_GATEWAY,             /* "VirtualNetworkGateway": BGP */
};

const char *route_source_name(enum route_source s);

struct route {
	struct cidr prefix;
	enum route_source source;
	enum topo_next_hop next_hop;
	bool has_next_hop_ip;
	struct cidr next_hop_ip;  /* full-length address */
	bool active;              /* state Active, else Invalid */
	const char *name;         /* user route name, NULL for others (borrowed) */
	/* Where it came from, for explanations; any may be NULL. */
	const struct topo_peering *peering;     /* VNetPeering routes */
	const struct topo_vnet *remote;         /* peering / connected-group destination VNet */
	const struct topo_gateway *gateway;     /* BGP: the gateway that installed it */
	const struct topo_circuit *circuit;     /* BGP: the circuit it was learned over */
	const struct topo_gateway *origin;      /* BGP: the gateway that advertised it, NULL if on-premises */
	const struct topo_route_table *route_table; /* User routes */
	const struct topo_route_server *route_server; /* BGP: the route server that programmed it */
	const struct topo_nva *nva;             /* BGP: the NVA that route server learned it from */
};

/* An effective route table; routes ordered as routes_effective documents. */
struct route_set {
	struct route *v;
	size_t n;
};

void route_set_free(struct route_set *s);

/* Path classes of a flow from one VNet to another. */
enum path_class {
	PATH_LOCAL = 0,     /* "local": the destination is in the source VNet */
	PATH_PEERING,       /* "peering" */
	PATH_MESH,          /* "mesh": a connected group */
	PATH_VIA_APPLIANCE, /* "via-appliance <ip>" */
	PATH_HAIRPIN,       /* "hairpin <circuit>": out through a gateway and back over the circuit */
	PATH_ON_PREMISES,   /* "on-premises": handed to on-premises routing */
	PATH_UNREACHABLE,   /* "unreachable" */
	PATH_NCLASSES
};

/* "local", "peering", ... */
const char *path_class_name(enum path_class c);

/* Parses a class name; -1 if none. */
int path_class_parse(const char *s);

struct routes_ctx;

/*
 * Builds the context for a topology (borrowed: it must outlive the
 * context).  Fails only on out of memory.
 */
int routes_ctx_new(struct routes_ctx **out, const struct topology *t, struct nw_err *err);

void routes_ctx_free(struct routes_ctx *ctx);

/*
 * The effective routes of a subnet, in the shape of Azure's effective
 * route table: every candidate route with its state; on a tie of prefix
 * the winner is User, then VirtualNetworkGateway, then Default, and the
 * losers stay with active false.  Order: Default routes (VnetLocal,
 * peerings, connected groups, then Azure's defaults), then
 * VirtualNetworkGateway, then User; by prefix within each.
 */
int routes_effective(struct route_set *out, const struct routes_ctx *ctx,
    const struct topo_subnet *subnet, struct nw_err *err);

/* The same for a VNet with no subnets, or a subnet not yet created:
 * no route table, BGP propagation on. */
int routes_effective_vnet(struct route_set *out, const struct routes_ctx *ctx,
    const struct topo_vnet *vnet, struct nw_err *err);

/* The best active route for an address or prefix in a route set, or NULL. */
const struct route *routes_lookup(const struct route_set *s, const struct cidr *dst);

/*
 * Where a flow starts or ends (plan/routes_endpoint.c): a VNet, one of its
 * subnets, a NIC (its subnet and private address) or an address.
 */
enum route_endpoint_kind { ENDPOINT_VNET = 0, ENDPOINT_SUBNET, ENDPOINT_NIC, ENDPOINT_ADDRESS };

struct route_endpoint {
	enum route_endpoint_kind kind;
	const struct topo_vnet *vnet;     /* always set */
	const struct topo_subnet *subnet; /* set but for a VNet */
	const struct topo_nic *nic;       /* a NIC */
	struct cidr addr;                 /* a NIC's or the address, full length */
};

/*
 * Resolves what a user typed: a resource id (VNet, subnet or NIC), an IP
 * address, VNET/SUBNET by names, a NIC name, or a VNet name (tried in that
 * order).  An address must sit in exactly one VNet's address space and in
 * one of its subnets.  NW_EINPUT naming the value and what was expected.
 */
int routes_endpoint_resolve(struct route_endpoint *out, const struct topology *t, const char *text,
    struct nw_err *err);

/* The destination prefixes of e: a VNet's space, a subnet's prefixes, or its address. */
void routes_endpoint_prefixes(const struct cidr **v, size_t *n, const struct route_endpoint *e);

/* A short label: "spoke-1", "spoke-1/workload", "nic-app", "10.1.7.10". */
void routes_endpoint_label(char *buf, size_t n, const struct route_endpoint *e);

/* The resource id of e, or its address for an address (into buf). */
const char *routes_endpoint_id(const struct route_endpoint *e, char buf[CIDR_STRLEN]);

/* The decision for one flow. */
struct path_result {
	enum path_class cls;
	char detail[CIDR_STRLEN + 512]; /* appliance IP, circuit id, or the reason it is unreachable */
	const struct topo_subnet *from_subnet; /* the source subnet that decided (NULL: VNet without subnets) */
	struct cidr dst;                       /* the destination prefix that decided */
	struct route route;                    /* the deciding route on the source (zeroed if none) */
	bool has_route;
	struct route circuit_route;            /* for a gateway route: the circuit's route for dst */
	bool has_circuit_route;
};

/*
 * Classifies the flow from VNet a to VNet b.  Each workload subnet of a
 * (all subnets but the infrastructure ones; a VNet without any is taken
 * as one subnet with no route table) is checked against each address
 * prefix of b; when they disagree, the worst class wins (unreachable,
 * on-premises, hairpin, via-appliance, peering, mesh, local, in that
 * order), and out describes that case.
 */
int routes_path(struct path_result *out, const struct routes_ctx *ctx,
    const struct topo_vnet *a, const struct topo_vnet *b, struct nw_err *err);

/* True when class a is worse than b in routes_path's order. */
bool path_class_worse(enum path_class a, enum path_class b);

/*
 * The flow from each source subnet of VNet a to a destination given as
 * prefixes (a VNet's address space, a subnet's prefixes, one address):
 * from NULL takes every workload subnet of a, as routes_path does (a VNet
 * without any as one subnet with no route table); otherwise from alone,
 * which must be a subnet of a.  One result per source, in subnet order,
 * each the worst over the destination prefixes.  *out is a new array of
 * *nout results (free() it).  NW_EINPUT when from is not in a.
 */
int routes_path_sources(struct path_result **out, size_t *nout, const struct routes_ctx *ctx,
    const struct topo_vnet *a, const struct topo_subnet *from, const struct cidr *dst,
    size_t ndst, struct nw_err *err);

/* The index of the worst result (the first among equals); 0 when n is 0. */
size_t routes_path_worst(const struct path_result *v, size_t n);

/* True when every result has the same class and detail. */
bool routes_path_agree(const struct path_result *v, size_t n);

/* Classifies the flow from one subnet to one destination prefix. */
int routes_path_subnet(struct path_result *out, const struct routes_ctx *ctx,
    const struct topo_subnet *from, const struct cidr *dst, struct nw_err *err);

/*
 * The routes a circuit's private peering holds: what on-premises
 * advertised (observed) and what every gateway connected to it advertises
 * (the VNet and its gateway-transit spokes, or the summarized prefixes and
 * what they do not cover).  In the shape of the circuit route table.
 */
struct circuit_route {
	struct cidr prefix;
	const char *next_hop;                /* borrowed; may be NULL */
	const char *path;                    /* borrowed; "65515" for Azure gateways */
	const struct topo_gateway *origin;   /* NULL for on-premises routes */
};

struct circuit_route_set {
	struct circuit_route *v;
	size_t n;
};

int routes_circuit_table(struct circuit_route_set *out, const struct routes_ctx *ctx,
    const struct topo_circuit *c, struct nw_err *err);

void circuit_route_set_free(struct circuit_route_set *s);

/* The prefixes a gateway advertises to its circuits (borrowed from ctx). */
const struct topo_prefixes *routes_gateway_advertised(const struct routes_ctx *ctx,
    const struct topo_gateway *g);

/*
 * East-west summary over a set of VNets (every ordered pair a -> b,
 * a != b, both in the set): the number of flows in each class, and per
 * detail (which circuit, which appliance).  VNets that share their routing
 * are handled together, so a few thousand VNets take well under a second.
 */
struct path_bucket {
	enum path_class cls;
	char detail[CIDR_STRLEN + 512];
	size_t count;
	/* the first flow in this bucket, by VNet order in the topology */
	const struct topo_vnet *example_from;
	const struct topo_vnet *example_to;
};

/* A source VNet whose workload subnets do not all reach some destination one way. */
struct path_mixed {
	const struct topo_vnet *vnet;
	const struct topo_vnet *example_to; /* the first such destination by VNet order */
};

struct path_summary {
	size_t vnets;
	size_t flows;                   /* ordered pairs counted, or (subnet, VNet) pairs */
	size_t sources;                 /* source subnets (by subnet), else VNets */
	size_t by_class[PATH_NCLASSES];
	struct path_bucket *buckets;    /* sorted by class, then detail */
	size_t nbuckets;
	struct path_mixed *mixed;       /* by subnet only: by VNet order */
	size_t nmixed;
	size_t (*by_vnet)[PATH_NCLASSES]; /* by subnet only: per VNet of the topology, its flows per class */
};

/*
 * members: which VNets take part (indexes into t->vnets), or NULL for
 * all of them.
 */
int routes_summary(struct path_summary *out, const struct routes_ctx *ctx,
    const size_t *members, size_t nmembers, struct nw_err *err);

/* The same computed pair by pair; slow, for tests and cross-checks. */
int routes_summary_slow(struct path_summary *out, const struct routes_ctx *ctx,
    const size_t *members, size_t nmembers, struct nw_err *err);

/*
 * The east-west summary by source subnet: a flow is a workload subnet of
 * a (a VNet without any counts as one) to VNet b, classified as
 * routes_path_sources does, so a spoke whose workload subnet goes through
 * a firewall and whose endpoints subnet does not counts one flow of each.
 * out->mixed lists the VNets whose subnets disagree for some destination.
 */
int routes_summary_subnets(struct path_summary *out, const struct routes_ctx *ctx,
    const size_t *members, size_t nmembers, struct nw_err *err);

/* The same computed pair by pair. */
int routes_summary_subnets_slow(struct path_summary *out, const struct routes_ctx *ctx,
    const size_t *members, size_t nmembers, struct nw_err *err);

void path_summary_free(struct path_summary *s);

#endif
