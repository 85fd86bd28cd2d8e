/*
 * What `netwave check` finds in a topology: address overlaps, broken
 * peerings and gateway transit, next hops that do not exist, gateways on
 * retired Basic public IPs, limits (advertised prefixes, peerings and
 * private endpoints per VNet), and an east-west summary of how spoke
 * pairs reach each other today.  Pure: reads a topology and the route
 * engine, returns data; cmd/check.c prints it.
 */
#ifndef NETWAVE_PLAN_FINDINGS_H
#define NETWAVE_PLAN_FINDINGS_H

#include <stddef.h>

#include <jansson.h>

#include "plan/err.h"
#include "plan/routes.h"
#include "plan/topology.h"

enum finding_severity { SEV_INFO = 0, SEV_WARNING, SEV_ERROR };

const char *finding_severity_name(enum finding_severity s);

struct finding {
	enum finding_severity severity;
	const char *code;  /* stable, e.g. "address-overlap" (static string) */
	char *resource;    /* id of the resource it concerns (owned, with message) */
	char *message;     /* in resource's block */
};

/* One row of the limits table: a use of a limit by one resource. */
struct limit_use {
	const char *key;     /* limit key (static) */
	const char *what;    /* static */
	const char *source;  /* static */
	char *resource;      /* owned */
	long value;
	long limit;
};

struct findings {
	struct finding *v;
	size_t n;
	size_t by_severity[3];
	struct limit_use *limits; /* the busiest uses: one row per limit kind */
	size_t nlimits;
	size_t nhubs;
	size_t nspokes;
	struct path_summary eastwest; /* spoke-to-spoke flows, per source subnet */
};

/*
 * Runs every check.  Findings are ordered by severity (errors first),
 * then code, then resource id.  Fails only on out of memory.
 */
int findings_check(struct findings *out, const struct topology *t, const struct routes_ctx *ctx,
    struct nw_err *err);

/*
 * Fills *f (code is a static string; resource, "" when NULL, and message
 * are copied).  0, or -1 on out of memory with nothing left allocated.
 */
int finding_init(struct finding *f, enum finding_severity sev, const char *code, const char *resource,
    const char *message);

/* Frees n findings made by finding_init, and the array v. */
void finding_list_free(struct finding *v, size_t n);

/*
 * Appends one finding (code is a static string; resource and message are
 * copied).  *cap is the capacity of f->v, never less than f->n: a caller
 * that does not know it passes f->n.  0, or -1 on out of memory.
 */
int findings_append(struct findings *f, size_t *cap, enum finding_severity sev, const char *code,
    const char *resource, const char *message);

/*
 * Where a check adds its findings: the list, the capacity of its array
 * (findings_append's *cap), and whether memory ran out.  Once oom is set,
 * adds do nothing and the caller reports NW_ENOMEM.
 */
struct findings_sink {
	struct findings *f;
	size_t cap;
	bool oom;
};

/* findings_append with a printf message (cut at 1,023 bytes); sets s->oom on failure. */
void findings_add(struct findings_sink *s, enum finding_severity sev, const char *code,
    const char *resource, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* A VNet counts as a hub when it has a gateway or is tagged role=hub. */
bool findings_is_hub(const struct topo_vnet *v);

/* The netwave.check/v1 document (new reference; NULL on out of memory). */
json_t *findings_to_json(const struct findings *f, const struct topology *t);

void findings_free(struct findings *f);

#endif
