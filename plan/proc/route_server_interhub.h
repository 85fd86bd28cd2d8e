/*
 * route-server-interhub, the kind's own header: its intent change and
 * what its files share.  The kind's files: route_server_interhub.c (the
 * entry, claims, waves, rehearsal hooks, report line),
 * route_server_interhub_intent.c (the change's keys, the refusals and the
 * end state applied to the target).  Nothing else includes it but the
 * tests.
 *
 * Azure Route Server (ARS) in ARM is a Microsoft.Network/virtualHubs
 * resource with sku Standard and no virtualWan, its ipConfigurations child
 * in the VNet's RouteServerSubnet and one bgpConnections child per NVA
 * peer (learn.microsoft.com/azure/route-server/quickstart-create-route-server-cli,
 * REST spec specification/network/resource-manager/Microsoft.Network/
 * stable/<api>/virtualWan.json: VirtualHub, HubIpConfiguration,
 * BgpConnection).
 */
#ifndef NETWAVE_PLAN_PROC_ROUTE_SERVER_INTERHUB_H
#define NETWAVE_PLAN_PROC_ROUTE_SERVER_INTERHUB_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "plan/intent.h"
#include "plan/kinds.h"

/* Its wave kinds and gate kind (route_server_interhub.c), plan/kinds.h. */
extern const struct wave_kind_def wave_kind_route_server, wave_kind_bgp_peering, wave_kind_branch_to_branch,
    wave_kind_udr_cleanup;
#define WAVE_ROUTE_SERVER (&wave_kind_route_server)         /* route servers deployed into hubs */
#define WAVE_BGP_PEERING (&wave_kind_bgp_peering)           /* BGP connections from NVAs to route servers */
#define WAVE_BRANCH_TO_BRANCH (&wave_kind_branch_to_branch) /* allowBranchToBranchTraffic on route servers */
#define WAVE_UDR_CLEANUP (&wave_kind_udr_cleanup)           /* redundant inter-hub user routes removed */
extern const struct gate_kind_def gate_kind_learned_routes;
extern const struct gate_kind_def *const rsi_gate_kinds[];
#define GATE_LEARNED_ROUTES (&gate_kind_learned_routes) /* what BGP connections learned */

/* The subnet a route server lives in and its smallest size (Route Server FAQ). */
#define RSI_SUBNET "RouteServerSubnet"
#define RSI_SUBNET_MAX_LEN 27
/* The ipConfiguration's name, as `az network routeserver create` names it. */
#define RSI_IPCONFIG "ipconfig1"
/* BGP peers per route server (learn.microsoft.com/azure/route-server/route-server-faq, limits). */
#define RSI_MAX_PEERS 8
#define RSI_MAX_PREPEND 16

/* One NVA of a hub: the BGP speaker that peers with the route servers. */
struct rsi_nva {
	const char *name;          /* its bgpConnections' name */
	const char *peer_ip;       /* the NVA's IP, the connection's peerIp */
	long long asn;             /* peerAsn */
	bool as_override;          /* the NVA replaces 65515 in paths it passes on */
	unsigned prepend_remote;   /* times it prepends its ASN toward the remote route servers */
	bool peer_local, peer_remote;
	const char **advertises;   /* prefixes it originates (borrowed), besides what it relays */
	size_t nadvertises;
	char *pointer;             /* owned: "/changes/<i>/hubs/<j>/nvas/<k>" */
};

/* One hub: the VNet, its route server, its NVAs. */
struct rsi_hub {
	struct intent_selector vnet;  /* matches exactly one VNet */
	const char *name;             /* the route server (virtualHubs) name */
	const char *public_ip;        /* routeServer.publicIpAddress: the public IP's id */
	bool branch_to_branch;        /* allowBranchToBranchTraffic */
	struct rsi_nva *nvas;
	size_t nnvas;
	char *pointer;                /* owned: "/changes/<i>/hubs/<j>" */
};

/* A route-server-interhub change of the intent (intent_change.state). */
struct rsi_change {
	struct rsi_hub *hubs;
	size_t nhubs;
	bool has_spokes;
	struct intent_selector spokes; /* spokes whose inter-hub UDR routes ARS makes redundant */
};

static inline const struct rsi_change *
rsi_of(const struct intent_change *c)
{
	return c->state;
}

/* Its part of the intent (route_server_interhub_intent.c), plan/procedure.h. */
extern const struct procedure_intent rsi_intent;

/*
 * True when asn is reserved by Azure or IANA and an NVA may not use it
 * (Route Server FAQ, "What ASNs can I use?").
 */
bool rsi_asn_reserved(long long asn);

#endif
