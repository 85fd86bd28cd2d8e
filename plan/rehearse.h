/*
 * The route rehearsal (rehearse.c): each wave applied in turn to a copy of
 * the current estate, the route engine run on every state, the traffic
 * classes before and after each wave written into the wave, a blocker for
 * any pair a wave would cut off, and the gates only the rehearsed routes
 * can fill in (asked of each wave's procedure, plan/procedure.h).
 */
#ifndef NETWAVE_PLAN_REHEARSE_H
#define NETWAVE_PLAN_REHEARSE_H

#include <stdbool.h>

#include <jansson.h>

#include "plan/plan_build.h"
#include "plan/routes.h"
#include "plan/topology.h"

/*
 * A state of the estate between waves.  An owned state can be parked:
 * its topology and routes context (tens of megabytes for a large estate)
 * freed, its summary kept, and both built again from res and deploy if a
 * later step needs them, so that the rehearsal mostly holds one state
 * beside the current topology instead of two.
 */
struct rstate {
	struct topology *t;        /* NULL while parked */
	struct routes_ctx *ctx;
	struct path_summary sum;
	bool owned;                /* false for the current topology and its context */
	bool owns_ctx;             /* the current topology's state holds the planner's context */
	json_t *res, *deploy;      /* owned states: what t was built from */
};

/* Rehearses p's waves in order and attaches the route gates and soaks. */
int plan_rehearse(struct plan_ctx *p);

/* A parked state built again (the same topology, so the same answers). */
int plan_rehearse_unpark(struct plan_ctx *p, struct rstate *s);

/*
 * An onprem-routes gate on w: on-premises prefixes still reached through
 * the gateway from a spread sample of the VNets idx[0..n) in state s.
 */
int plan_gate_onprem(struct plan_ctx *p, struct wave *w, const struct rstate *s, const size_t *idx,
    size_t n, const char *what);

#endif
