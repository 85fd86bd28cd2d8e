/*
 * netwave synth: a deterministic synthetic estate in netwave.topology/v1,
 * shaped like the estates netwave is built for (hubs with ExpressRoute
 * gateways on Basic public IPs, one shared circuit whose on-premises
 * routes include a covering supernet so spokes hairpin, spokes with
 * workload and endpoint subnets, private endpoints, NICs, rollout tags,
 * and spokes forced through a hub firewall).  It feeds the demo, the tests
 * and the benchmarks.
 */
#ifndef NETWAVE_PLAN_SYNTH_H
#define NETWAVE_PLAN_SYNTH_H

#include <stddef.h>

#include <jansson.h>

#include "plan/err.h"

struct synth_opts {
	unsigned hubs;            /* at least 1 */
	unsigned spokes_per_hub;  /* may be 0 */
	unsigned pe_per_spoke;    /* private endpoints per spoke */
	const char *const *regions; /* hubs go round-robin over these; NULL/0: "eastus" */
	size_t nregions;
	unsigned udr_spokes;      /* spokes whose route table sends 0.0.0.0/0 to the hub firewall */
	unsigned subscriptions;   /* spokes go round-robin over this many; 0 or 1: one */
	unsigned spoke_peerings;  /* pairs of spokes of one hub peered directly, both ways */
	unsigned gateway_udr_spokes; /* spokes routing another spoke's /24 to VirtualNetworkGateway */
	int vpn_gateways;         /* non-zero: a VpnGw1 VPN gateway on a Basic IP in every hub */
	int interhub_nva;         /* non-zero: hubs peered, an NVA each, inter-hub UDRs (plan/synth_ars.c) */
	int route_servers;        /* non-zero: also a route server per hub peering with the NVAs */
	unsigned long seed;       /* drives every choice; same options give the same bytes */
};

/*
 * Builds the document.  NW_EINPUT (naming the option, as "--hubs",
 * "--spokes-per-hub", "--pe-per-spoke", "--udr-spokes", "--regions",
 * "--subscriptions", "--spoke-peerings" or "--gateway-udr-spokes") when
 * the options cannot be met: no hubs; a region name that is not
 * lowercase letters and digits; more hubs or spokes than the address plan
 * holds (hubs get equal power-of-two blocks of 10.0.0.0/8, at least a /16,
 * block 0 and the on-premises 10.255.0.0/16 unused: 254 hubs of up to 255
 * spokes, 62 of up to 1,023, at most 16,383 spokes per hub); more private
 * endpoints than a spoke's /25 endpoints subnet holds (123); more UDR
 * spokes than spokes; more subscriptions than spokes (or over 64); in
 * some hub, more spoke pairs or gateway-UDR spokes than the spokes
 * without a firewall route hold (a peering pair takes two of them; a
 * gateway route needs at least two).  Spoke peerings and gateway UDRs
 * are spread over hubs round-robin, as UDR spokes are.  Options at their
 * defaults give exactly the bytes they gave before they existed.  *out is
 * a new reference, NULL on failure.
 */
int synth_generate(json_t **out, const struct synth_opts *opts, struct nw_err *err);

/* The /24s each hub's block spans for this many spokes per hub (a power of two, at least 256). */
unsigned synth_hub_block(unsigned spokes_per_hub);

/*
 * plan/synth_ars.c: turns the estate in doc into two or more regions whose
 * hubs route inter-hub through an NVA each: hubs peered with each other,
 * an NVA NIC in each hub's "nva" subnet, every spoke without a route table
 * sending the other hubs' blocks to its hub's NVA, and each NVA subnet
 * sending them to the other hubs' NVAs.  With opts->route_servers, a route
 * server in each hub's RouteServerSubnet with branch-to-branch, and the
 * NVAs declared as seed 003's Option B: each NVA peers with the other
 * hubs' route servers and advertises its hub's block (plan/synth_ars.c).
 * NW_EINPUT naming --interhub-nva when there are fewer than 2 hubs.
 */
int synth_ars_apply(json_t *doc, const struct synth_opts *opts, struct nw_err *err);

#endif
