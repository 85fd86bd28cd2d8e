/*
 * check's findings about route servers (plan/findings_ars.c): their limits,
 * their subnet, one per VNet, the peerings of their VNet, BGP sessions
 * without a declared NVA or declared without a session, routes dropped by
 * eBGP loop prevention, circuits that hear a prefix from two hubs with
 * equal AS paths (asymmetric return across a bowtie), and a model that did
 * not settle.  plan/findings.c adds them to the report through its one
 * hook; the findings here are plain struct finding rows, so the two files
 * share nothing else.
 */
#ifndef NETWAVE_PLAN_FINDINGS_ARS_H
#define NETWAVE_PLAN_FINDINGS_ARS_H

#include <stdbool.h>
#include <stddef.h>

#include "plan/findings.h"
#include "plan/limits.h"

/* A limit check the caller runs (check_limit: error over, warning near). */
struct ars_limit {
	enum limit_id id;
	char *resource;    /* owned, with name */
	char *name;        /* in resource's block */
	long value;
	const char *what;  /* static */
	bool no_near;      /* at the limit is normal (one route server per VNet): no warning */
};

struct ars_findings {
	struct finding *v;
	size_t n, cap;
	struct ars_limit *limits;
	size_t nlimits, lcap;
};

/* Collects the findings; 0 or NW_ENOMEM (out is then freed). */
int findings_ars_collect(struct ars_findings *out, const struct topology *t,
    const struct routes_ctx *ctx, struct nw_err *err);

void findings_ars_free(struct ars_findings *f);

#endif
