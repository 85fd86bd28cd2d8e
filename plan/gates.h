/*
 * Gate kinds as a const table (plan/gates.c): for each kind of
 * plan/kinds.h, what the engine must read from ARM to judge it and the
 * pure judge that turns those reads into an outcome and its evidence.
 * The apply engine (state/apply/gates.c) does the reads, hands them over
 * as JSON and records what the judge says; it never judges a state
 * itself.  The route gates (effective-routes, onprem-routes) sample
 * network interfaces as they go and are judged by the engine's route
 * sampler for now (GATE_READ_ROUTES, no judge here).
 */
#ifndef NETWAVE_PLAN_GATES_H
#define NETWAVE_PLAN_GATES_H

#include <jansson.h>

#include "plan/kinds.h"

enum gate_outcome {
	GATE_PASSED = 0,
	GATE_FAILED,
	GATE_INCONCLUSIVE,
	GATE_ERROR,
	GATE_NOT_YET,  /* the state is still moving (Deploying, InProgress): ask again */
};

/* "passed", "failed", "inconclusive", "error", "not yet". */
const char *gate_outcome_name(enum gate_outcome o);

/* What the engine reads for a gate, and the shape of the reads it hands the judge. */
enum gate_read {
	GATE_READ_NOTHING = 0,  /* soak: timed by the run; reads NULL */
	/* GET every params.checks[].resource: {lowercase id: resource or null} */
	GATE_READ_RESOURCES,
	/* listDeploymentStatus of each params.deployments[i] (its network manager and
	 * region): an array of the records lists, in the same order */
	GATE_READ_DEPLOYMENTS,
	/* the effective routes of sampled network interfaces (judged by the engine) */
	GATE_READ_ROUTES,
	/* each params.features[] on each params.subscriptions[]:
	 * [{feature, subscription, resource or null}] */
	GATE_READ_FEATURES,
	/* each gateway (params.gateway, params.gateways[]) or, when a committed
	 * migration deleted it, the one the migration made:
	 * [{gateway, resource or null, newGateway or null}] */
	GATE_READ_GATEWAYS,
	/* POST learnedRoutes of each params.connections[].connection (an action
	 * that only reads): [{connection, learned: the answer or null}] */
	GATE_READ_LEARNED,
};

/*
 * A pure judge: params are the gate's, reads what the engine read as its
 * kind's gate_read says; ev (an object) gets the evidence and a "summary".
 */
typedef enum gate_outcome (*gate_judge_fn)(const json_t *params, const json_t *reads, json_t *ev);

struct gate_entry {
	enum gate_kind kind;
	enum gate_read read;
	gate_judge_fn judge;  /* NULL: the engine judges as it reads (GATE_READ_ROUTES) */
};

/* The entry of a kind; NULL for GATE_UNKNOWN. */
const struct gate_entry *gate_entry_get(enum gate_kind k);

/* Sets ev's "summary" and returns o. */
enum gate_outcome gate_finish(json_t *ev, enum gate_outcome o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The last segment of an ARM id, for messages ("?" for NULL). */
const char *gate_short_name(const char *id);

#endif
