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

struct topology;

/* What a preflight run is given besides the plan. */
struct azure_preflight_opts {
	const json_t *done;               /* ids of steps already carried out -> true; NULL: none */
	const struct topology *topology;  /* the topology the plan was made from, for circuits; may be NULL */
	const char *topology_source;      /* its file, for the report */
	const char *checked_at;           /* RFC 3339 time to record */
};

/*
 * The whole preflight of plan (a netwave.plan/v1 document) against the
 * estate behind p: *out is the netwave.preflight/v1 document (new
 * reference) with "requests" counting what it read.  The operations of
 * steps in o->done are not judged again (their inverses are, for the way
 * back).  NW_EINPUT for a plan whose steps are damaged; NW_EIO when
 * nothing at all could be read.
 */
int azure_preflight_run(json_t **out, struct provider *p, const json_t *plan,
    const struct azure_preflight_opts *o, struct nw_err *err);

#endif
