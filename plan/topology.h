/*
 * The topology model: a netwave.topology/v1 document (ARM resources as
 * ARM returns them, plus what ARM only tells through actions, under
 * "observed") loaded into an index by id and typed, read-only views.
 * discover writes it, synth generates it, check/routes/path read it, the
 * planner diffs two of them and the emulator serves one.
 *
 * The JSON document stays the source of truth: views borrow strings from
 * it, and unknown types and properties are kept and written back as they
 * came.  To change a topology, change the JSON and load it again.
 */
#ifndef NETWAVE_PLAN_TOPOLOGY_H
#define NETWAVE_PLAN_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "plan/cidr.h"
#include "plan/err.h"

#define TOPOLOGY_FORMAT "netwave.topology/v1"

/* Defaults for the load limits; struct topology_load_opts overrides them. */
#define TOPOLOGY_MAX_BYTES ((size_t)512 << 20)
#define TOPOLOGY_MAX_DEPTH 64

/* ARM resource types the planner reads (compared case-insensitively). */
#define TYPE_VNET "Microsoft.Network/virtualNetworks"
#define TYPE_GATEWAY "Microsoft.Network/virtualNetworkGateways"
#define TYPE_PUBLIC_IP "Microsoft.Network/publicIPAddresses"
#define TYPE_CONNECTION "Microsoft.Network/connections"
#define TYPE_CIRCUIT "Microsoft.Network/expressRouteCircuits"
#define TYPE_ROUTE_TABLE "Microsoft.Network/routeTables"
#define TYPE_PRIVATE_ENDPOINT "Microsoft.Network/privateEndpoints"
#define TYPE_NIC "Microsoft.Network/networkInterfaces"
#define TYPE_NETWORK_MANAGER "Microsoft.Network/networkManagers"
#define TYPE_NETWORK_GROUP "Microsoft.Network/networkManagers/networkGroups"
#define TYPE_STATIC_MEMBER "Microsoft.Network/networkManagers/networkGroups/staticMembers"
#define TYPE_CONNECTIVITY_CONFIG "Microsoft.Network/networkManagers/connectivityConfigurations"
/* Azure Route Server: a virtualHub with no virtualWan (plan/topology_ars.c) */
#define TYPE_VIRTUAL_HUB "Microsoft.Network/virtualHubs"
#define TYPE_HUB_IP_CONFIG "Microsoft.Network/virtualHubs/ipConfigurations"
#define TYPE_BGP_CONNECTION "Microsoft.Network/virtualHubs/bgpConnections"

enum topo_type {
	TOPO_OTHER = 0, /* kept and written back untouched */
	TOPO_VNET,
	TOPO_GATEWAY,
	TOPO_PUBLIC_IP,
	TOPO_CONNECTION,
	TOPO_CIRCUIT,
	TOPO_ROUTE_TABLE,
	TOPO_PRIVATE_ENDPOINT,
	TOPO_NIC,
	TOPO_NETWORK_MANAGER,
	TOPO_NETWORK_GROUP,
	TOPO_STATIC_MEMBER,
	TOPO_CONNECTIVITY_CONFIG,
};

/* RouteNextHopType, plus the next hops only the system programs. */
enum topo_next_hop {
	NH_UNKNOWN = 0,
	NH_VIRTUAL_NETWORK_GATEWAY, /* "VirtualNetworkGateway" */
	NH_VNET_LOCAL,              /* "VnetLocal" */
	NH_INTERNET,                /* "Internet" */
	NH_VIRTUAL_APPLIANCE,       /* "VirtualAppliance" */
	NH_VIRTUAL_APPLIANCE_ECMP,  /* "VirtualApplianceEcmp" */
	NH_NONE,                    /* "None" */
	NH_VNET_PEERING,            /* "VNetPeering" (system only) */
	NH_VNET_GLOBAL_PEERING,     /* "VNetGlobalPeering" (system only) */
	NH_CONNECTED_GROUP,         /* "ConnectedGroup" (system only) */
};

/* The wire name of a next hop type ("VnetLocal", ...). */
const char *topo_next_hop_name(enum topo_next_hop nh);

/* Parses a user route's nextHopType (case-insensitive); NH_UNKNOWN if not one. */
enum topo_next_hop topo_next_hop_parse(const char *s);

enum topo_peering_state {
	PEERING_UNKNOWN = 0,
	PEERING_INITIATED,
	PEERING_CONNECTED,
	PEERING_DISCONNECTED,
};

struct topo_prefixes {
	struct cidr *v; /* owned by the topology */
	size_t n;
};

struct topo_vnet;
struct topo_gateway;
struct topo_circuit;
struct topo_network_group;
struct topo_network_manager;

/* Every resource, in load order.  Strings are borrowed from json. */
struct topo_resource {
	size_t index;          /* position in /resources */
	enum topo_type type;
	const char *id;
	const char *name;
	const char *type_name; /* as written, e.g. "Microsoft.Network/virtualNetworks" */
	const char *location;  /* NULL when absent */
	const char *subscription;   /* parsed from id; owned by the topology; NULL if none */
	const char *resource_group; /* parsed from id; owned by the topology; NULL if none */
	json_t *json;          /* the resource object (borrowed) */
	void *view;            /* the typed view (struct topo_vnet * ...), NULL for TOPO_OTHER */
};

struct topo_route {
	const char *name;
	struct cidr prefix;
	enum topo_next_hop next_hop;
	bool has_next_hop_ip;
	struct cidr next_hop_ip; /* a full-length address when has_next_hop_ip */
};

struct topo_route_table {
	struct topo_resource *res;
	bool disable_bgp_route_propagation;
	struct topo_route *routes;
	size_t nroutes;
};

struct topo_subnet {
	const char *id;   /* "<vnet id>/subnets/<name>"; built when ARM omitted it */
	const char *name;
	json_t *json;     /* the subnet object inside the VNet (borrowed) */
	struct topo_vnet *vnet;
	struct topo_prefixes prefixes;    /* addressPrefix and/or addressPrefixes */
	const char *route_table_id;       /* NULL when none */
	struct topo_route_table *route_table; /* NULL when none or not in the file */
	const char *pe_network_policies;  /* privateEndpointNetworkPolicies, NULL if absent */
	size_t nprivate_endpoints;        /* private endpoints placed in this subnet */
	bool is_gateway_subnet;           /* name is GatewaySubnet */
	bool is_infrastructure;           /* GatewaySubnet, AzureFirewall*Subnet, RouteServerSubnet, AzureBastionSubnet */
};

struct topo_peering {
	const char *id;
	const char *name;
	json_t *json;
	struct topo_vnet *vnet;   /* the VNet this peering belongs to */
	const char *remote_id;    /* remoteVirtualNetwork.id */
	struct topo_vnet *remote; /* NULL when the remote VNet is not in the file */
	enum topo_peering_state state;
	bool allow_virtual_network_access; /* default true */
	bool allow_forwarded_traffic;
	bool allow_gateway_transit;
	bool use_remote_gateways;
	/* remoteVirtualNetworkAddressSpace, else remoteAddressSpace, else empty */
	struct topo_prefixes remote_prefixes;
};

struct topo_vnet {
	struct topo_resource *res;
	struct topo_prefixes prefixes;   /* addressSpace.addressPrefixes */
	struct topo_subnet *subnets;
	size_t nsubnets;
	struct topo_peering *peerings;
	size_t npeerings;
	struct topo_prefixes summarized; /* summarizedGatewayPrefixes.addressPrefixes */
	const char *pe_vnet_policies;    /* privateEndpointVNetPolicies, NULL if absent */
	struct topo_gateway **gateways;  /* gateways whose ipConfigurations sit in this VNet */
	size_t ngateways;
	size_t nprivate_endpoints;       /* over all subnets */
};

enum topo_gateway_kind { GATEWAY_OTHER = 0, GATEWAY_EXPRESSROUTE, GATEWAY_VPN };

struct topo_public_ip;
struct topo_connection;

struct topo_gateway {
	struct topo_resource *res;
	enum topo_gateway_kind kind;
	const char *gateway_type;       /* "ExpressRoute", "Vpn", ... */
	const char *sku;                /* properties.sku.name */
	const char *subnet_id;          /* first ipConfiguration's subnet */
	struct topo_vnet *vnet;         /* NULL if not in the file */
	const char **public_ip_ids;     /* every ipConfiguration's publicIPAddress.id */
	struct topo_public_ip **public_ips; /* parallel to public_ip_ids; NULL entries when absent */
	size_t npublic_ips;
	struct topo_connection **connections; /* connections naming this gateway */
	size_t nconnections;
	const char *migration_state;    /* virtualNetworkGatewayMigrationStatus.state, NULL if absent */
	const char *migration_phase;    /* virtualNetworkGatewayMigrationStatus.phase, NULL if absent */
	const char *provisioning_state; /* NULL if absent */
	const char *bgp_peering_address;/* bgpSettings.bgpPeeringAddress, NULL if absent */
	bool allow_remote_vnet_traffic; /* allowRemoteVnetTraffic, default true */
};

struct topo_public_ip {
	struct topo_resource *res;
	const char *sku_name;        /* top-level sku.name: Basic, Standard, StandardV2 */
	const char *sku_tier;
	const char *allocation;      /* publicIPAllocationMethod */
	const char *version;         /* publicIPAddressVersion */
	const char *ip_address;
	const char *migration_phase; /* properties.migrationPhase */
	const char *ip_configuration_id;
};

struct topo_connection {
	struct topo_resource *res;
	const char *connection_type;    /* ExpressRoute, IPsec, Vnet2Vnet */
	const char *gateway_id;         /* virtualNetworkGateway1.id */
	struct topo_gateway *gateway;   /* NULL if not in the file */
	const char *peer_id;            /* peer.id (the circuit), NULL if absent */
	struct topo_circuit *circuit;   /* NULL if not an ExpressRoute circuit in the file */
	int routing_weight;
	const char *provisioning_state;
};

struct topo_circuit_route {
	struct cidr prefix;
	const char *next_hop; /* as given, may be NULL */
	const char *path;     /* AS path, may be NULL */
};

/*
 * One of a circuit's peerings as ARM returns it inline in the circuit's
 * properties.peerings (REST: Express Route Circuit Peerings, the
 * ExpressRouteCircuitPeeringPropertiesFormat).  Numbers absent from the
 * file are -1; prefixes absent have has_* false.
 */
struct topo_circuit_peering {
	const char *id;                 /* may be NULL */
	const char *name;               /* may be NULL */
	const char *peering_type;       /* AzurePrivatePeering, MicrosoftPeering, AzurePublicPeering */
	const char *state;              /* Enabled, Disabled; NULL if absent */
	const char *provisioning_state; /* NULL if absent */
	long long peer_asn;             /* peerASN, -1 if absent */
	long long azure_asn;            /* azureASN, -1 if absent */
	long long vlan_id;              /* vlanId, -1 if absent */
	bool has_primary, has_secondary;       /* primary/secondaryPeerAddressPrefix */
	struct cidr primary, secondary;
	bool has_primary_v6, has_secondary_v6; /* ipv6PeeringConfig's */
	struct cidr primary_v6, secondary_v6;
};

struct topo_circuit {
	struct topo_resource *res;
	struct topo_connection **connections; /* connections whose peer is this circuit */
	size_t nconnections;
	const char *sku_tier;                 /* sku.tier: Standard, Premium, Local; NULL if absent */
	struct topo_circuit_peering *peerings; /* properties.peerings, in file order */
	size_t npeerings;
	/* observed.circuitRoutes[id]: what the circuit learned from on-premises */
	struct topo_circuit_route *routes;
	size_t nroutes;
	bool routes_observed; /* false when observed has no entry for this circuit */
};

struct topo_private_endpoint {
	struct topo_resource *res;
	const char *subnet_id;
	struct topo_subnet *subnet; /* NULL if not in the file */
};

struct topo_nic {
	struct topo_resource *res;
	const char *subnet_id;      /* first ipConfiguration's subnet */
	struct topo_subnet *subnet; /* NULL if not in the file */
	const char *private_ip;
};

struct topo_static_member {
	struct topo_resource *res;
	struct topo_network_group *group; /* parent, NULL if not in the file */
	const char *resource_id;          /* properties.resourceId */
	struct topo_vnet *vnet;           /* NULL if not in the file */
};

struct topo_network_group {
	struct topo_resource *res;
	struct topo_network_manager *manager; /* parent, NULL if not in the file */
	const char *member_type;              /* VirtualNetwork, Subnet */
	struct topo_static_member **members;
	size_t nmembers;
};

enum topo_cc_topology { CC_TOPOLOGY_UNKNOWN = 0, CC_MESH, CC_HUB_AND_SPOKE };

struct topo_cc_group {
	const char *network_group_id;
	struct topo_network_group *group; /* NULL if not in the file */
	bool directly_connected;          /* groupConnectivity DirectlyConnected */
	bool use_hub_gateway;             /* "True" */
	bool is_global;                   /* "True" */
};

struct topo_connectivity_config {
	struct topo_resource *res;
	struct topo_network_manager *manager;
	enum topo_cc_topology topology;
	bool is_global;                   /* isGlobal "True" */
	bool delete_existing_peering;     /* deleteExistingPeering "True" */
	struct topo_cc_group *groups;     /* appliesToGroups */
	size_t ngroups;
	const char **hub_ids;             /* hubs[].resourceId */
	size_t nhubs;
	bool high_scale_private_endpoints;/* connectedGroupPrivateEndpointsScale HighScale */
	bool overlap_disallowed;          /* connectedGroupAddressOverlap Disallowed */
	bool peering_enforced;            /* peeringEnforcement Enforced */
};

struct topo_network_manager {
	struct topo_resource *res;
	struct topo_network_group **groups;
	size_t ngroups;
	struct topo_connectivity_config **configs;
	size_t nconfigs;
};

/* One entry of observed.avnmDeployments: what is committed in a region. */
struct topo_deployment {
	const char *manager_id;
	struct topo_network_manager *manager; /* NULL if not in the file */
	const char *region;
	const char *config_type;              /* "Connectivity", "SecurityAdmin", ... */
	const char **config_ids;
	struct topo_connectivity_config **configs; /* parallel; NULL entries when absent */
	size_t nconfigs;
};

/* Something wrong that does not stop the load (a dangling reference). */
struct topo_warning {
	const char *pointer; /* JSON pointer, e.g. /resources/3/properties/subnets/0/properties/routeTable/id */
	const char *message; /* both in the topology's arena */
};

#include "plan/topology_ars.h"

struct topology_index; /* the id hash, private to topology.c */

struct topology {
	const char *source;  /* file name for messages ("<stdin>", "<memory>"), in the arena */
	json_t *root;        /* the document (owned) */
	json_t *resources;   /* /resources (borrowed from root) */

	struct topo_resource *res;
	size_t nres;

	struct topo_vnet *vnets;                 size_t nvnets;
	struct topo_gateway *gateways;           size_t ngateways;
	struct topo_public_ip *public_ips;       size_t npublic_ips;
	struct topo_connection *connections;     size_t nconnections;
	struct topo_circuit *circuits;           size_t ncircuits;
	struct topo_route_table *route_tables;   size_t nroute_tables;
	struct topo_private_endpoint *private_endpoints; size_t nprivate_endpoints;
	struct topo_nic *nics;                   size_t nnics;
	struct topo_network_manager *managers;   size_t nmanagers;
	struct topo_network_group *groups;       size_t ngroups;
	struct topo_static_member *members;      size_t nmembers;
	struct topo_connectivity_config *configs;size_t nconfigs;

	struct topo_deployment *deployments;     size_t ndeployments;

	/* Azure Route Server (plan/topology_ars.h) */
	struct topo_route_server *route_servers; size_t nroute_servers;
	struct topo_hub_ip_config *hub_ip_configs; size_t nhub_ip_configs;
	struct topo_bgp_connection *bgp_connections; size_t nbgp_connections;
	struct topo_nva *nvas;                   size_t nnvas; /* declared.nvas */

	struct topo_warning *warnings;           size_t nwarnings;

	struct topology_index *index;
	void *arena; /* owned allocations of views, private to topology.c */
};

struct topology_load_opts {
	size_t max_bytes; /* 0: TOPOLOGY_MAX_BYTES */
	int max_depth;    /* 0: TOPOLOGY_MAX_DEPTH */
};

/*
 * Loads a topology from a file ("-" reads standard input).  Errors are
 * NW_EINPUT with a message that starts with the file name and gives the
 * line and column of a syntax error or the JSON pointer of a semantic one:
 *   x.json: line 3, column 14: '}' expected near ','
 *   x.json: /resources/12/properties/addressSpace/addressPrefixes/0: invalid prefix "10.0.0.1/16": ...
 * NW_EIO when the file cannot be read.  opts may be NULL.
 * Returns a new topology in *out.
 */
int topology_load_file(struct topology **out, const char *path,
    const struct topology_load_opts *opts, struct nw_err *err);

/* The same from a buffer; name is used in messages. */
int topology_load_buffer(struct topology **out, const char *buf, size_t len,
    const char *name, const struct topology_load_opts *opts, struct nw_err *err);

/* The same from a JSON document; steals root (also on failure). */
int topology_load_json(struct topology **out, json_t *root, const char *name,
    struct nw_err *err);

void topology_free(struct topology *t);

/* The resource with this id (case-insensitive), or NULL. */
struct topo_resource *topology_find(const struct topology *t, const char *id);

/*
 * Child resources ARM embeds in their parent's JSON (plan/topology_child.c):
 * subnets and peerings in a VNet, routes in a route table, rules in a
 * network security group.  A child is judged as itself; its parent
 * without the embedded arrays.
 */
struct topo_child_kind {
	const char *parent_type; /* the parent id's type segment: "virtualNetworks" */
	const char *segment;     /* the child id's type segment: "subnets" */
	const char *array;       /* the array under the parent's properties */
	const char *type_name;   /* "Microsoft.Network/virtualNetworks/subnets" */
};

/*
 * The kind of child id is ("<parent id>/subnets/<name>" ...), or NULL when
 * it is not an embedded child; *parent_len (may be NULL) gets the length
 * of the parent's id.
 */
const struct topo_child_kind *topology_child_kind(const char *id, size_t *parent_len);

/*
 * The entry for child_id inside parent's JSON (matched by id, or by name
 * when the entry has no id, case-insensitively); borrowed, NULL when absent.
 */
const json_t *topology_child_get(const json_t *parent, const char *child_id);

/*
 * A copy of that entry as ARM serves the child at its own id (with "id"
 * and "type" filled in when the parent omitted them); *out NULL when
 * absent.  0 or NW_ENOMEM.
 */
int topology_child_copy(json_t **out, const json_t *parent, const char *child_id,
    struct nw_err *err);

/*
 * resource (whose id is id, or its "id" when id is NULL) without the child
 * arrays its type embeds; the same reference when it embeds none.
 * *out is a new reference (NULL when resource is NULL).  0 or NW_ENOMEM.
 */
int topology_without_children(json_t **out, const char *id, const json_t *resource,
    struct nw_err *err);

/*
 * A resource as itself: a top-level resource without its embedded
 * children, or a child found inside its parent.  *out is a new
 * reference, NULL when the topology does not hold it (a child missing
 * from its parent, or whose parent is missing).  Returns 0, 1 when t is
 * NULL (nothing is known), NW_ENOMEM.
 */
int topology_resource_view(json_t **out, const struct topology *t, const char *id,
    struct nw_err *err);

/* Typed look-ups by id; NULL when absent or of another type. */
struct topo_vnet *topology_find_vnet(const struct topology *t, const char *id);
struct topo_subnet *topology_find_subnet(const struct topology *t, const char *id);

/* The VNet with this name, or NULL; when several share it, the first by id. */
struct topo_vnet *topology_find_vnet_by_name(const struct topology *t, const char *name);

/*
 * The VNets whose address space holds addr (plan/topology_lookup.c), in
 * file order: the first max go to out; returns how many there are.
 */
size_t topology_vnets_by_addr(struct topo_vnet **out, size_t max, const struct topology *t,
    const struct cidr *addr);

/* The subnet of v that holds addr (the longest prefix), or NULL. */
struct topo_subnet *topology_subnet_by_addr(const struct topo_vnet *v, const struct cidr *addr);

/* The first NIC with this name (ASCII case-insensitive), or NULL; *count how many share it. */
struct topo_nic *topology_find_nic_by_name(const struct topology *t, const char *name,
    size_t *count);

/* observed.features[name] ("Registered", ...), or NULL. */
const char *topology_feature_state(const struct topology *t, const char *name);

/* A tag value of a resource, or NULL. */
const char *topology_tag(const struct topo_resource *r, const char *key);

/*
 * The canonical JSON text: keys sorted, resources ordered by id
 * (case-insensitively, then by exact bytes), two-space indent, one
 * trailing newline.  Loading a canonical file and dumping it again gives
 * the same bytes.  Returns a malloc'd string or NULL on out of memory.
 */
char *topology_dump(const struct topology *t);

/*
 * The document as the canonical text orders it: a shallow copy of root
 * whose resources array holds the same elements sorted as topology_dump
 * sorts them (root itself when it has no resources array or they are in
 * that order already: callers only read it).  New reference;
 * NULL on out of memory.  For writers that produce the canonical bytes
 * another way (the planner hashes them as they are dumped).
 */
json_t *topology_canonical_root(json_t *root);

/* Canonical text of any document of this format (used before loading). */
char *topology_dump_json(json_t *root);

/*
 * Writes the canonical text to path atomically (a temporary file in the
 * same directory, fsync, rename), so a failure leaves no partial file;
 * "-" writes to standard output.
 */
int topology_write_file(const struct topology *t, const char *path, struct nw_err *err);

/* True when two ARM locations name one region: case and spaces do not count ("East US" is "eastus"). */
bool topo_location_equal(const char *a, const char *b);

/* Compares two ids as ARM does (ASCII case-insensitive). */
int topo_id_compare(const char *a, const char *b);

/*
 * A total order on ids for sorting: as topo_id_compare, then by exact
 * spelling, so ids that differ only in case keep one order every run.
 */
int topo_id_order(const char *a, const char *b);

#endif
