/*
 * A change kind as one table entry (docs/plan.md, "Where the code lives"):
 * the planner driver (planner.c) runs its phases over the const registry
 * of plan/procedures.c, the way tmux runs a cmd_entry.  Each kind lives in
 * its own files under plan/proc/ and exports only its entry and the wave
 * and gate kinds it defines (docs/kinds.md: adding a change kind).
 *
 * The phases, in the driver's order, all optional:
 *  state_new   its own state for one plan (plan_ctx_state finds it)
 *  detect      what it has to do, before any difference is claimed
 *  claim       one difference: 1 when the kind carries it out, 0 when
 *              not, negative on error; r is the resource the difference
 *              is about (NULL for "observed" differences)
 *  check       platform limits and prerequisites: blockers, findings,
 *              the limits table
 *  waves       its waves, in registry order after the kinds before it
 *  waves_last  waves that come after every kind's (the decommission)
 *  rehearse_before, rehearsed
 *              gates only the rehearsed routes fill in, for the waves of
 *              its wave_kinds: before is the state before the wave, after
 *              the state after it (NULL for a wave that changes no route)
 *  report_overview
 *              its line of the report's "What this plan does"
 *  intent      an intent's change of this kind (its "kind" is the name):
 *              struct procedure_intent below; NULL when an intent cannot
 *              name the kind
 */
#ifndef NETWAVE_PLAN_PROCEDURE_H
#define NETWAVE_PLAN_PROCEDURE_H

#include <stdio.h>

#include <jansson.h>

#include "plan/diff.h"
#include "plan/intent.h"
#include "plan/kinds.h"
#include "plan/topology.h"

struct plan_ctx;
struct wave;
struct rstate;
struct intent;
struct intent_loader;
struct intent_expander;

/*
 * A kind's part of the intent, defined beside its parser (plan/proc/
 * <kind>_intent.c): the intent gives each change of the kind a zeroed
 * state of size bytes (c->state, which only the kind's files know); parse
 * reads the change object into it (the loader is at that object); clear
 * frees what the state holds, before the intent frees the block itself;
 * check, when there is one, judges the change against the intent's
 * changes before it (i is its index); expand applies its end state to the
 * target (plan/intent_impl.h).
 */
struct procedure_intent {
	size_t size;
	int (*parse)(struct intent_loader *l, void *state, const json_t *v);
	void (*clear)(void *state);
	int (*check)(struct intent_loader *l, const struct intent *in, size_t i);
	int (*expand)(struct intent_expander *e, const struct intent_change *c);
};

struct procedure {
	const char *name;   /* the change kind: plan "changes", step "procedure" */
	const char *title;  /* the report's title for it */
	const char *summary; /* what it changes, for the plan and target help (docs/kinds.md) */
	/* the wave kinds it builds and the gate kinds of its own (besides the shared
	 * ones of plan/kinds.h), each NULL-terminated; plan/kinds.c finds them here */
	const struct wave_kind_def *const *wave_kinds;
	const struct gate_kind_def *const *gate_kinds;
	int (*state_new)(struct plan_ctx *p, void **out);
	void (*state_free)(void *state);
	int (*detect)(struct plan_ctx *p);
	int (*claim)(struct plan_ctx *p, struct diff_entry *e, const struct topo_resource *r);
	int (*check)(struct plan_ctx *p);
	int (*waves)(struct plan_ctx *p);
	int (*waves_last)(struct plan_ctx *p);
	int (*rehearse_before)(struct plan_ctx *p, struct wave *w, struct rstate *before);
	int (*rehearsed)(struct plan_ctx *p, struct wave *w, struct rstate *before,
	    const struct rstate *after);
	/* after the rehearsal: what the kind's steps hold that the rehearsal does not read (bodies) */
	int (*finish)(struct plan_ctx *p);
	void (*report_overview)(FILE *f, const json_t *plan);
	const struct procedure_intent *intent;
};

/* The registry, in phase order; NULL-terminated. */
extern const struct procedure *const procedures[];

/* The entry named name, or NULL. */
const struct procedure *procedure_find(const char *name);

/* The entry that builds waves of kind k, or NULL. */
const struct procedure *procedure_of_wave(const struct wave_kind_def *k);

/* Position of proc in the registry (plan_ctx's per-kind arrays). */
size_t procedure_index(const struct procedure *proc);

#endif
