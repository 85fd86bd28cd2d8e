/*
 * The table of platform limits with their sources (see limits.h): the
 * public Microsoft Learn or REST reference page that states each one.
 * One figure comes from Microsoft's migration guidance rather than a Learn
 * page: 5,000 VNets per connected group with AllowHighScaleConnectedGroup
 * (the limitations page gives 250, raised on request); docs/plan.md says so.
 * Route Server's 8 peers, 1,000 routes per peer and 200 routes to the
 * gateways are the FAQ's limits table (the include route-server-limits.md it
 * shares with the subscription limits page); one route server per VNet and
 * the 500 peerings of its VNet are the FAQ's too, and RouteServerSubnet's
 * /27 the quickstart's (docs/bgp.md).
 */
#include "config.h"

#include <stddef.h>

#include "plan/limits.h"

static const struct limit_def limit_table[LIMIT_COUNT] = {
	{ LIMIT_MESH_VNETS, "meshVnets", "VNets per mesh (connected group)", 250,
	  "https://learn.microsoft.com/azure/virtual-network-manager/concept-limitations" },
	{ LIMIT_MESH_VNETS_HIGH_SCALE, "meshVnetsHighScale",
	  "VNets per mesh with AllowHighScaleConnectedGroup", 5000,
	  "https://learn.microsoft.com/azure/virtual-network-manager/concept-limitations" },
	{ LIMIT_MESH_PE, "meshPrivateEndpoints", "private endpoints per mesh", 2000,
	  "https://learn.microsoft.com/rest/api/networkmanager/connectivity-configurations/create-or-update" },
	{ LIMIT_MESH_PE_HSPE, "meshPrivateEndpointsHspe", "private endpoints per mesh with HSPE",
	  20000, "https://learn.microsoft.com/rest/api/networkmanager/connectivity-configurations/create-or-update" },
	{ LIMIT_VNET_PE, "vnetPrivateEndpoints", "private endpoints per VNet", 1000,
	  "https://learn.microsoft.com/azure/private-link/increase-private-endpoint-vnet-limits" },
	{ LIMIT_VNET_PE_HSPE, "vnetPrivateEndpointsHspe", "private endpoints per VNet with HSPE",
	  5000, "https://learn.microsoft.com/azure/private-link/increase-private-endpoint-vnet-limits" },
	{ LIMIT_CONNECTED_GROUPS_PER_VNET, "connectedGroupsPerVnet", "connected groups per VNet", 2,
	  "https://learn.microsoft.com/azure/virtual-network-manager/concept-limitations" },
	{ LIMIT_PEERINGS_PER_VNET, "peeringsPerVnet", "VNet peerings per VNet", 500,
	  "https://learn.microsoft.com/azure/azure-resource-manager/management/azure-subscription-service-limits#azure-networking-limits" },
	{ LIMIT_ADVERTISED_V4, "advertisedPrefixesIpv4",
	  "IPv4 prefixes a gateway advertises to the circuit", 1000,
	  "https://learn.microsoft.com/azure/azure-resource-manager/management/azure-subscription-service-limits#expressroute-limits" },
	{ LIMIT_ADVERTISED_V6, "advertisedPrefixesIpv6",
	  "IPv6 prefixes a gateway advertises to the circuit", 100,
	  "https://learn.microsoft.com/azure/azure-resource-manager/management/azure-subscription-service-limits#expressroute-limits" },
	{ LIMIT_ROUTE_SERVER_PEERS, "routeServerPeers", "Route Server BGP peers", 8,
	  "https://learn.microsoft.com/azure/route-server/route-server-faq" },
	{ LIMIT_ROUTE_SERVER_ROUTES_PER_PEER, "routeServerRoutesPerPeer", "Route Server routes per peer",
	  1000, "https://learn.microsoft.com/azure/route-server/route-server-faq" },
	{ LIMIT_ROUTE_SERVER_ROUTES_TO_GATEWAYS, "routeServerRoutesToGateways",
	  "Route Server routes to gateways", 200,
	  "https://learn.microsoft.com/azure/route-server/route-server-faq" },
	{ LIMIT_ROUTE_SERVERS_PER_VNET, "routeServersPerVnet", "route servers per VNet", 1,
	  "https://learn.microsoft.com/azure/route-server/route-server-faq" },
	{ LIMIT_ROUTE_SERVER_SUBNET_LEN, "routeServerSubnetPrefixLength",
	  "longest prefix of a RouteServerSubnet", 27,
	  "https://learn.microsoft.com/azure/route-server/quickstart-create-route-server-portal" },
	{ LIMIT_ROUTE_SERVER_VNET_PEERINGS, "routeServerVnetPeerings",
	  "VNet peerings of a VNet with a route server", 500,
	  "https://learn.microsoft.com/azure/route-server/route-server-faq" },
	{ LIMIT_ARM_WRITE_BUCKET, "armWriteBucket", "ARM writes per subscription (bucket)", 200,
	  "https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling" },
	{ LIMIT_ARM_WRITE_REFILL, "armWriteRefillPerSecond", "ARM write refill per second", 10,
	  "https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling" },
	{ LIMIT_NETWORK_WRITES_5MIN, "networkWritesPer5Min", "Microsoft.Network writes per 5 minutes",
	  1000, "https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling"
	  "#network-throttling" },
	{ LIMIT_ARM_READ_BUCKET, "armReadBucket", "ARM reads per subscription (bucket)", 250,
	  "https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling" },
	{ LIMIT_ARM_READ_REFILL, "armReadRefillPerSecond", "ARM read refill per second", 25,
	  "https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling" },
	/* "Route advertisement limits": what on-premises may advertise to the private peering;
	 * over it the BGP session drops (expressroute-routing, "Route aggregation and prefix
	 * limits"). */
	{ LIMIT_CIRCUIT_ROUTES_V4, "circuitPrefixesIpv4",
	  "IPv4 prefixes on-premises advertises to a Local or Standard circuit's private peering",
	  4000, "https://learn.microsoft.com/azure/azure-resource-manager/management/"
	  "azure-subscription-service-limits#expressroute-limits" },
	{ LIMIT_CIRCUIT_ROUTES_V4_PREMIUM, "circuitPrefixesIpv4Premium",
	  "IPv4 prefixes on-premises advertises to a Premium circuit's private peering", 10000,
	  "https://learn.microsoft.com/azure/azure-resource-manager/management/"
	  "azure-subscription-service-limits#expressroute-limits" },
	{ LIMIT_CIRCUIT_ROUTES_V6, "circuitPrefixesIpv6",
	  "IPv6 prefixes on-premises advertises to a circuit's private peering", 100,
	  "https://learn.microsoft.com/azure/azure-resource-manager/management/"
	  "azure-subscription-service-limits#expressroute-limits" },
};

const struct limit_def *
limit_get(enum limit_id id)
{
	if ((int)id < 0 || id >= LIMIT_COUNT)
		return NULL;
	return &limit_table[id];
}
