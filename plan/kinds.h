/*
 * The names in a plan's contract: wave kinds and gate kinds, each a const
 * definition with exactly one string form.  A change kind defines its own
 * wave kinds and gate kinds next to its code (plan/proc/) and lists
 * them in its registry entry (plan/procedure.h); the kinds every change
 * kind shares (resource-state, soak and the route gates) are defined once
 * in plan/gates.c and declared here.  The planner refers to a kind by its
 * definition (an extern object, through the WAVE_* and GATE_* macros), so
 * a misspelt kind fails to compile or link instead of becoming
 * "inconclusive" at run time; the engine, the report and the status read
 * the string back through the parse functions, which look it up through
 * the registry.  docs/kinds.md lists the names with what they mean.
 */
#ifndef NETWAVE_PLAN_KINDS_H
#define NETWAVE_PLAN_KINDS_H

#include <stdbool.h>
#include <stddef.h>

/* What generic code must know of a wave kind, as flags of its definition. */
enum wave_kind_flag {
	/* it deletes the legacy path: the rollout's soakBeforeDecommission comes
	 * before it, preflight and the IaC findings judge its DELETEs as the
	 * decommission's (docs/plan.md) */
	WAVE_KIND_DECOMMISSION = 1u << 0,
	/* its VNets join one connected group: more than the documented group
	 * limit in one wave raises the plan's risk */
	WAVE_KIND_GROUP_SIZE = 1u << 1,
};

struct wave_kind_def {
	const char *name;     /* the string form: a plan wave's "kind" */
	const char *title;    /* the report's heading for its waves; NULL: the name */
	unsigned flags;       /* enum wave_kind_flag */
};

/* Defined in plan/gates.h (it carries the judge); an incomplete type here. */
struct gate_kind_def;

/* The gate kinds every change kind may use (plan/gates.c). */
extern const struct gate_kind_def gate_kind_resource_state;
extern const struct gate_kind_def gate_kind_effective_routes;
extern const struct gate_kind_def gate_kind_onprem_routes;
extern const struct gate_kind_def gate_kind_soak;
#define GATE_RESOURCE_STATE (&gate_kind_resource_state)     /* resources read back as the plan wrote them */
#define GATE_EFFECTIVE_ROUTES (&gate_kind_effective_routes) /* sampled NICs' effective routes */
#define GATE_ONPREM_ROUTES (&gate_kind_onprem_routes)       /* on-premises prefixes via the gateway */
#define GATE_SOAK (&gate_kind_soak)                         /* time passes with nothing changed */

/* The shared gate kinds, NULL-terminated (the registry adds each change kind's own). */
extern const struct gate_kind_def *const gate_kinds_shared[];

/* The string form (a plan's "kind"); "" for NULL. */
const char *wave_kind_name(const struct wave_kind_def *k);
const char *gate_kind_name(const struct gate_kind_def *k);

/* The kind a string names, through the registry; NULL for NULL or any other string. */
const struct wave_kind_def *wave_kind_parse(const char *s);
const struct gate_kind_def *gate_kind_parse(const char *s);

/* Whether the wave kind a string names has flag f (false for an unknown kind). */
bool wave_kind_has(const char *s, enum wave_kind_flag f);

/*
 * Every registered kind in turn, the shared gate kinds first, then each
 * change kind's in registry order: *i starts at 0; NULL after the last.
 */
const struct wave_kind_def *wave_kind_next(size_t *i);
const struct gate_kind_def *gate_kind_next(size_t *i);

#endif
