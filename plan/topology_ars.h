/*
 * Azure Route Server in the topology (loaded by plan/topology_ars.c, read by
 * the BGP model in plan/routes_bgp.c, check's findings and the emulator).
 *
 * In ARM a route server is a Microsoft.Network/virtualHubs resource with no
 * virtualWan: its ipConfigurations child puts it in a VNet's
 * RouteServerSubnet, and each bgpConnections child is one BGP session with a
 * peer (an NVA) by IP and ASN (REST spec specification/network/.../
 * virtualWan.json: VirtualHub, HubIpConfiguration, BgpConnection;
 * https://learn.microsoft.com/azure/route-server/quickstart-create-route-server-cli).
 * What each session learned and advertised ARM tells only through the
 * learnedRoutes / advertisedRoutes actions: that is observed.bgpRoutes.
 * NVAs are not ARM resources: what they advertise, AS-override and
 * prepending are declared by the user under declared.nvas.
 * Every string is borrowed from the topology's JSON; arrays live in its arena.
 */
#ifndef NETWAVE_PLAN_TOPOLOGY_ARS_H
#define NETWAVE_PLAN_TOPOLOGY_ARS_H

#include "plan/topology.h"

/* The ASN every route server uses (virtualRouterAsn; Learn, Route Server FAQ). */
#define ARS_ASN 65515

/* hubRoutingPreference: which path a route server prefers among equal prefixes. */
enum topo_hub_preference {
	HUB_PREF_EXPRESSROUTE = 0, /* "ExpressRoute", ARM's default */
	HUB_PREF_VPN_GATEWAY,      /* "VpnGateway" */
	HUB_PREF_AS_PATH,          /* "ASPath" */
};

/* The wire name of a preference ("ExpressRoute", ...). */
const char *topo_hub_preference_name(enum topo_hub_preference p);

struct topology;
struct topo_route_server;
struct topo_nva;
struct topo_nva_peer;

/* One route of a learnedRoutes / advertisedRoutes answer (ARM's PeerRoute). */
struct topo_bgp_route {
	const char *instance;      /* "RouteServiceRole_IN_0"; NULL in a PeerRouteList answer */
	struct cidr network;
	const char *local_address; /* may be NULL */
	const char *next_hop;      /* may be NULL */
	const char *source_peer;   /* may be NULL */
	const char *origin;        /* "EBgp", "Igp", ...; may be NULL */
	const char *as_path;       /* "65001-65001", may be NULL or "" */
	int weight;
};

/* One answer of learnedRoutes or advertisedRoutes, flattened over instances. */
struct topo_bgp_routes {
	struct topo_bgp_route *v;
	size_t n;
	bool observed;  /* false when observed.bgpRoutes has no such answer */
	bool by_instance; /* the answer was keyed by instance, as Azure sends it */
};

struct topo_bgp_connection {
	struct topo_resource *res;
	struct topo_route_server *server; /* the parent hub, NULL when not in the file */
	const char *peer_ip;              /* properties.peerIp */
	struct cidr peer_addr;            /* parsed peer_ip */
	long peer_asn;                    /* properties.peerAsn */
	const char *connection_state;     /* Connected, Connecting, NotConnected, Unknown; NULL if absent */
	const char *provisioning_state;   /* NULL if absent */
	const char *hub_vnet_connection_id; /* hubVirtualNetworkConnection.id (vWAN only), NULL */
	struct topo_bgp_routes learned;   /* observed.bgpRoutes[id].learned */
	struct topo_bgp_routes advertised;/* observed.bgpRoutes[id].advertised */
	struct topo_nva *nva;             /* the declared NVA with peer_ip, NULL when none */
	struct topo_nva_peer *policy;     /* that NVA's declared peering with this server, NULL */
};

struct topo_hub_ip_config {
	struct topo_resource *res;
	struct topo_route_server *server; /* the parent, NULL when not in the file */
	const char *subnet_id;            /* properties.subnet.id */
	struct topo_subnet *subnet;       /* NULL when not in the file */
	const char *public_ip_id;         /* properties.publicIPAddress.id, NULL if absent */
	const char *private_ip;           /* properties.privateIPAddress, NULL if absent */
};

struct topo_route_server {
	struct topo_resource *res;
	const char *sku;                  /* properties.sku ("Standard") */
	long asn;                         /* virtualRouterAsn, ARS_ASN when absent */
	struct cidr *router_ips;          /* virtualRouterIps */
	size_t nrouter_ips;
	bool allow_branch_to_branch;      /* allowBranchToBranchTraffic, default false */
	enum topo_hub_preference preference; /* hubRoutingPreference */
	const char *provisioning_state;   /* NULL if absent */
	const char *routing_state;        /* routingState, NULL if absent */
	struct topo_hub_ip_config **ip_configs;
	size_t nip_configs;
	struct topo_bgp_connection **connections;
	size_t nconnections;
	struct topo_subnet *subnet;       /* the first ipConfiguration's subnet, NULL if unknown */
	struct topo_vnet *vnet;           /* its VNet, NULL if unknown */
};

/*
 * One BGP session an NVA declares with a route server: what it exports to
 * it.  The session exists only when the server has a bgpConnection to one
 * of the NVA's IPs (connection).
 */
struct topo_nva_peer {
	const char *route_server_id;
	struct topo_route_server *server; /* NULL when not in the file */
	struct topo_prefixes advertise;   /* prefixes the NVA originates to this peer */
	const char **relay_ids;           /* route servers whose learned routes it re-advertises */
	struct topo_route_server **relay; /* parallel; NULL entries when not in the file */
	size_t nrelay;
	struct topo_prefixes only;        /* export filter: only routes inside one of these (empty: all) */
	bool as_override;                 /* replaces the peer's ASN in the AS path with its own */
	int prepend;                      /* extra copies of its ASN prepended (0..16) */
	bool has_next_hop;                /* nextHop: the next hop it announces (e.g. a load balancer) */
	struct cidr next_hop;
	struct topo_bgp_connection *connection; /* the session in ARM, NULL when there is none */
};

/* An NVA as the user declares it (declared.nvas[i]). */
struct topo_nva {
	const char *name;
	json_t *json;                     /* the declaration (borrowed) */
	const char *nic_id;               /* optional */
	struct topo_nic *nic;             /* NULL when absent or not in the file */
	struct cidr *ips;                 /* the addresses it peers from */
	size_t nips;
	long asn;
	struct topo_nva_peer *peers;
	size_t npeers;
};

/* Look-ups (linear: an estate holds few route servers); NULL when absent. */
struct topo_route_server *topology_find_route_server(const struct topology *t, const char *id);
struct topo_bgp_connection *topology_find_bgp_connection(const struct topology *t, const char *id);
struct topo_nva *topology_find_nva(const struct topology *t, const char *name);

/* The NVA with addr among its IPs, or NULL. */
struct topo_nva *topology_nva_by_addr(const struct topology *t, const struct cidr *addr);

/* The route server deployed in v (through its ipConfiguration), or NULL. */
struct topo_route_server *topology_vnet_route_server(const struct topology *t,
    const struct topo_vnet *v);

#endif
