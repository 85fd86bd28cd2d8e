/*
 * The platform limits the planner and check know, each with its value and
 * where it comes from (DESIGN.md, "Limits the planner knows").  A const
 * table: reports print the source beside every figure.
 */
#ifndef NETWAVE_PLAN_LIMITS_H
#define NETWAVE_PLAN_LIMITS_H

enum limit_id {
	LIMIT_MESH_VNETS,              /* 250 */
	LIMIT_MESH_VNETS_HIGH_SCALE,   /* 5,000 with AllowHighScaleConnectedGroup */
	LIMIT_MESH_PE,                 /* 2,000 */
	LIMIT_MESH_PE_HSPE,            /* 20,000 with HSPE */
	LIMIT_VNET_PE,                 /* 1,000 */
	LIMIT_VNET_PE_HSPE,            /* 5,000 with HSPE */
	LIMIT_CONNECTED_GROUPS_PER_VNET, /* 2 */
	LIMIT_PEERINGS_PER_VNET,       /* 500 */
	LIMIT_ADVERTISED_V4,           /* 1,000 */
	LIMIT_ADVERTISED_V6,           /* 100 */
	LIMIT_ROUTE_SERVER_PEERS,      /* 8 (16 newer) */
	LIMIT_ROUTE_SERVER_ROUTES_PER_PEER, /* 1,000 */
	LIMIT_ROUTE_SERVER_ROUTES_TO_GATEWAYS, /* 200 */
	LIMIT_ROUTE_SERVERS_PER_VNET,  /* 1 */
	LIMIT_ROUTE_SERVER_SUBNET_LEN, /* RouteServerSubnet: /27 or larger */
	LIMIT_ROUTE_SERVER_VNET_PEERINGS, /* 500 peerings of a VNet with a route server */
	LIMIT_ARM_WRITE_BUCKET,        /* 200 */
	LIMIT_ARM_WRITE_REFILL,        /* 10 per second */
	LIMIT_NETWORK_WRITES_5MIN,     /* 1,000 per 5 minutes */
	LIMIT_ARM_READ_BUCKET,         /* 250 */
	LIMIT_ARM_READ_REFILL,         /* 25 per second */
	LIMIT_CIRCUIT_ROUTES_V4,       /* 4,000 from on-premises, Local/Standard circuit */
	LIMIT_CIRCUIT_ROUTES_V4_PREMIUM, /* 10,000 with Premium */
	LIMIT_CIRCUIT_ROUTES_V6,       /* 100 */
	LIMIT_COUNT
};

struct limit_def {
	enum limit_id id;
	const char *key;   /* stable name used in JSON output */
	const char *what;  /* for people */
	long value;
	const char *source;
};

/* The definition of a limit; never NULL for a valid id. */
const struct limit_def *limit_get(enum limit_id id);

#endif
