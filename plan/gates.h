/*
 * Gate kinds as const definitions (plan/kinds.h names them): for each,
 * what the engine must read from ARM to judge it (a read kind of the
 * engine's reader table, state/apply/gates.c) and the pure judge that
 * turns those reads into an outcome and its evidence.  The shared kinds
 * are defined in plan/gates.c, each change kind's own next to its code
 * under plan/proc/.  The apply engine does the reads, hands them over
 * as JSON and records what the judge says; it never judges a state itself,
 * except the route reads (effective routes, on-premises routes), which
 * sample network interfaces and judge as they go (no judge here).
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

/*
 * What the engine reads for a gate, and the shape of the reads it hands
 * the judge.  A new gate kind that reads in one of these ways needs no
 * engine change; a new way of reading is a new entry here and in the
 * engine's reader table.
 */
enum gate_read {
	GATE_READ_NOTHING = 0,  /* soak: timed by the run; reads NULL */
	/* GET every params.checks[].resource: {lowercase id: resource or null} */
	GATE_READ_RESOURCES,
	/* listDeploymentStatus of each params.deployments[i] (its network manager and
	 * region): an array of the records lists, in the same order */
	GATE_READ_DEPLOYMENTS,
	/* the effective routes of a NIC in each of params.vnets (every ordered pair)
	 * and params.pairs, judged by the engine as it samples (no judge) */
	GATE_READ_EFFECTIVE_ROUTES,
	/* the effective routes of a NIC in each params.checks[].vnet (or .subnet) for
	 * its prefixes, judged by the engine as it samples (no judge) */
	GATE_READ_ONPREM_ROUTES,
	/* each params.features[] on each params.subscriptions[]:
	 * [{feature, subscription, resource or null}] */
	GATE_READ_FEATURES,
	/* each gateway (params.gateway, params.gateways[]) or, when a committed
	 * migration deleted it, the one the migration made:
	 * [{gateway, resource or null, newGateway or null}] */
	GATE_READ_GATEWAYS,
	/* POST an action that only reads (the kind's post: learnedRoutes, ...) on
	 * the id of each params.<list>[]: [{<key>: id, <as>: the answer or null}] */
	GATE_READ_POST_ACTION,
	GATE_READ_COUNT
};

/* GATE_READ_POST_ACTION: which action on which ids, and where the answers go. */
struct gate_post_read {
	const char *action;  /* appended to each id: "learnedRoutes" */
	const char *list;    /* params' array of objects: "connections" */
	const char *key;     /* each object's id member, kept in the reads: "connection" */
	const char *as;      /* the reads' member for the answer: "learned" */
	const char *doing;   /* what the run says it is doing: "reading learned routes" */
};

/*
 * What a gate's reads cost under ARM's throttling (plan/cost.c): ARM
 * counts a POST as a write (reference/azure-arm.md section 5).
 */
enum gate_cost {
	GATE_COST_GETS = 0,      /* each read a GET */
	GATE_COST_POSTS,         /* each read a POST that answers at once (a write) */
	GATE_COST_POLLED_POSTS,  /* each read a long-running POST: a write, a poll, one poll interval */
};

/*
 * A pure judge: params are the gate's, reads what the engine read as its
 * kind's gate_read says; ev (an object) gets the evidence and a "summary".
 */
typedef enum gate_outcome (*gate_judge_fn)(const json_t *params, const json_t *reads, json_t *ev);

struct gate_kind_def {
	const char *name;     /* the string form: a plan gate's "kind" */
	enum gate_read read;
	const struct gate_post_read *post;  /* GATE_READ_POST_ACTION only */
	gate_judge_fn judge;  /* NULL: the engine judges as it reads (the route reads) */
	enum gate_cost cost;
};

/* The worse of two outcomes as the judges count them: failed over not yet over passed. */
enum gate_outcome gate_worse(enum gate_outcome a, enum gate_outcome b);

/* Appends item (stolen) to a judge's evidence list while it holds under 50. */
void gate_list_add(json_t *list, json_t *item);

/* Sets ev's "summary" and returns o. */
enum gate_outcome gate_finish(json_t *ev, enum gate_outcome o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * What a judge that walks many items keeps: the evidence list it puts
 * under a key of ev, the worst outcome so far and why (the last item that
 * did not pass says it).
 */
struct gate_tally {
	json_t *items;  /* borrowed: ev owns it */
	enum gate_outcome worst;
	char why[1024];
};

/* Starts a tally whose evidence list is ev's member key. */
void gate_tally_start(struct gate_tally *t, json_t *ev, const char *key);

/* An item that did not pass: o joins the worst outcome and why says why. */
void gate_tally_miss(struct gate_tally *t, enum gate_outcome o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Ends the judge: passed with the summary fmt says when every item passed,
 * else the worst outcome with the last reason.
 */
enum gate_outcome gate_tally_finish(const struct gate_tally *t, json_t *ev, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The last segment of an ARM id, for messages ("?" for NULL). */
const char *gate_short_name(const char *id);

#endif
