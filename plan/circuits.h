/*
 * Circuit and BGP sanity: what `netwave check` and `netwave preflight`
 * find wrong with the ExpressRoute circuits a migration depends on before
 * any gateway is touched.  Each rule follows a Microsoft Learn page (cited
 * beside it in circuits.c and in docs/topology.md): the Azure private
 * peering is there and provisioned, its peer ASN is not one Azure
 * reserves, its VLAN is in range, its /30 (or /126) peer subnets are
 * well formed, distinct and clear of every VNet's address space, the
 * routes on-premises advertises do not overlap VNet address space, and the
 * prefix counts each side advertises stay under the documented limits.
 * Pure: reads a topology, appends findings; no I/O.
 */
#ifndef NETWAVE_PLAN_CIRCUITS_H
#define NETWAVE_PLAN_CIRCUITS_H

#include <stdbool.h>
#include <stddef.h>

#include "plan/err.h"
#include "plan/findings.h"
#include "plan/routes.h"
#include "plan/topology.h"

/*
 * Appends to out one finding per problem found on the circuits whose ids
 * are circuit_ids[0..n) (n == 0: every circuit in t).  Codes are stable
 * and start with "circuit-"; SEV_ERROR for what Azure refuses or what
 * breaks traffic, SEV_WARNING for risk.  An id that is not a circuit in
 * t is itself a finding (circuit-missing), not an error.  Returns 0, or
 * a negative code with err filled on out of memory only.
 */
int circuit_sanity(struct findings *out, const struct topology *t, const char *const *circuit_ids,
    size_t n, struct nw_err *err);

/*
 * The same, with a route context the caller already holds (borrowed; NULL:
 * one is built here when a circuit's gateways must be counted).  With
 * gateway_limits false the prefixes each gateway advertises to its circuits
 * are not judged: `netwave check` judges them per gateway already
 * (plan/findings.c, limit-exceeded / limit-near).
 */
int circuit_sanity_ctx(struct findings *out, const struct topology *t, const struct routes_ctx *ctx,
    const char *const *circuit_ids, size_t n, bool gateway_limits, struct nw_err *err);

#endif
