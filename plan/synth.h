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
	unsigned long seed;       /* drives every choice; same options give the same bytes */
};

/*
 * Builds the document.  NW_EINPUT (naming the option) when the options
 * cannot be met, e.g. more spokes than the address plan holds or more UDR
 * spokes than spokes.  *out is a new reference.
 */
int synth_generate(json_t **out, const struct synth_opts *opts, struct nw_err *err);

#endif
