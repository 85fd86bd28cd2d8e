/*
 * Preflight through a provider: the reads of plan/preflight.h's
 * preflight_reads, and the whole run (writes, reads, judges) that
 * `netwave preflight` and `netwave apply` share.
 */
#ifndef NETWAVE_PROVIDERS_AZURE_PREFLIGHT_H
#define NETWAVE_PROVIDERS_AZURE_PREFLIGHT_H

#include <jansson.h>

#include "plan/err.h"
#include "providers/provider.h"

/*
 * Reads what reads (from preflight_reads) lists, side by side, into *out:
 * the facts document preflight_judge takes (new reference).  A read that
 * failed is kept as {"error", "status"}; only a broken provider or out of
 * memory fails the call.
 */
int azure_preflight_read(json_t **out, struct provider *p, const json_t *reads, struct nw_err *err);

/*
 * The whole preflight of plan (a netwave.plan/v1 document) against the
 * estate behind p: *out is the netwave.preflight/v1 document (new
 * reference) with "requests" counting what it read.  checked_at is the
 * RFC 3339 time to record.  done (may be NULL) maps the ids of steps
 * already carried out to true: their operations are not judged again
 * (their inverses are, for the way back).  NW_EINPUT for a plan whose
 * steps are damaged.
 */
int azure_preflight_run(json_t **out, struct provider *p, const json_t *plan, const json_t *done,
    const char *checked_at, struct nw_err *err);

#endif
