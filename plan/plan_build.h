/*
 * The plan's building blocks, shared by the planner driver (planner.c),
 * the procedures (plan/proc/) and the rehearsal (rehearse.c): the context
 * every phase receives, waves, steps and gates as the plan holds them,
 * the blockers, findings, prerequisites and limits rows, and request
 * bodies made from current resources.  Internal to plan/: nothing outside
 * the planner includes it.
 *
 * The context holds what every change kind reads (the two topologies, the
 * rollout, the diff, the waves built so far, the route engine on the
 * current topology); what one kind finds and keeps between its phases is
 * its own state (plan_ctx_state), so no kind reads another's.
 */
#ifndef NETWAVE_PLAN_PLAN_BUILD_H
#define NETWAVE_PLAN_PLAN_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "plan/arm_api.h"
#include "plan/cidr.h"
#include "plan/diff.h"
#include "plan/err.h"
#include "plan/intent.h"
#include "plan/kinds.h"
#include "plan/limits.h"
#include "plan/planner.h"
#include "plan/routes.h"
#include "plan/topology.h"

struct procedure;

/* The features a mesh may need registered (learn AVNM and private-link limits pages). */
#define FEATURE_NS "Microsoft.Network"
#define FEATURE_HIGH_SCALE "AllowHighScaleConnectedGroup"
#define FEATURE_HSPE "EnableMaxPrivateEndpointsVia64kPath"

/* Room for the procedures of plan/procedures.c. */
#define PLAN_MAX_PROCEDURES 8

struct wave {
	json_t *obj;       /* the wave object (owned) */
	json_t *steps;     /* borrowed from obj */
	json_t *gates;
	json_t *members;
	json_t *risks;
	const struct wave_kind_def *kind;
	char name[128];
	int index;
	unsigned nsteps, ngates;
	long writes, reads, gate_reads, soak;
	const char *soak_desc; /* static; the soak gate the rehearsal adds when soak > 0 */
	json_t *chains;    /* serializeKey -> seconds of documented operation time (owned) */
	json_t *shared;    /* text -> the one string of that text its steps share (owned, or NULL) */
	bool mw;
	/* rehearsal: resources this wave adds or replaces, deployments after it */
	json_t *fx_put;    /* owned array */
	json_t *fx_deploy; /* owned object or NULL */
	bool routing;
	size_t *vnets;     /* indexes into cur->vnets the wave changes (owned) */
	size_t nvnets;
	size_t mesh_wave;  /* 1-based position among mesh waves, 0 for others */
	const struct topo_gateway **gws; /* gateway and summarize waves (owned array) */
	size_t ngws;
};

/* The context of one planner_plan call. */
struct plan_ctx {
	const struct topology *cur, *tgt;
	const struct planner_opts *o;
	struct nw_err *err;
	struct intent_rollout ro;
	bool ro_parsed;
	struct diff diff;
	json_t *blockers, *findings, *prereqs, *limits, *inspected;
	struct wave *w;          /* the waves, in plan order */
	size_t nw, capw;
	bool *is_hub;            /* per cur VNet */
	struct routes_ctx *cur_ctx;
	struct cidr *onprem;     /* on-premises prefixes the circuits learned, sorted, unique */
	size_t nonprem;
	unsigned sample;         /* pairs and VNets a sampled gate checks */
	bool uses[PLAN_MAX_PROCEDURES];    /* by position in the registry */
	void *state[PLAN_MAX_PROCEDURES];  /* each procedure's own, by position */
};

/* The state proc keeps in p (borrowed; what its state_new made). */
void *plan_ctx_state(const struct plan_ctx *p, const struct procedure *proc);

/* What a step does, for plan_step_add. */
struct step_spec {
	const char *procedure;
	const char *action;
	const char *resource;
	const char *serialize;
	json_t *op;        /* stolen */
	json_t *inverse;   /* stolen; NULL: irreversible */
	json_t *expect;    /* stolen array or NULL */
	json_t *depends;   /* stolen array or NULL */
	bool lro;
	bool mw;
	long seconds;      /* documented duration, 0 when none */
	int reads, writes;
};

/* Small helpers */
json_t *plan_jstr(const char *s);
char *plan_strdup_lower(const char *s);
/* A set of ids compared case-insensitively (an object keyed by the lowercased id); value stolen. */
int plan_idset_add(json_t *set, const char *id, json_t *value);
json_t *plan_idset_get(const json_t *set, const char *id);
int plan_vnet_cmp(const void *a, const void *b);      /* qsort of const struct topo_vnet * */
int plan_str_cmp_ci(const void *a, const void *b);    /* qsort of const char * */
bool plan_pointer_token(const char *p, size_t idx, char *buf, size_t size);
bool plan_pointer_under(const char *pointer, const char *prefix);
bool plan_pointer_child(const char *pointer, const char *array, size_t *index, const char **rest);
bool plan_str_in(const char *s, const char *const *set);
const struct topo_subnet *plan_workload_subnet(const struct topo_vnet *v);
uint64_t plan_mix64(uint64_t x);
json_t *plan_sorted_keys(const json_t *obj);
bool plan_ids_has(const json_t *arr, const char *id);
const char *plan_window_text(const struct plan_ctx *p, char *buf, size_t size);
const struct topo_deployment *plan_find_deployment(const struct topology *t, const char *nm,
    const char *region);
bool plan_deployment_has(const struct topo_deployment *d, const char *config);
bool plan_gw_shares_circuit(const struct topo_gateway *a, const struct topo_gateway *b);
size_t plan_gw_spokes(const struct plan_ctx *p, const struct topo_gateway *g,
    const struct topo_vnet **out, size_t max);

/* Blockers, findings, prerequisites and limits rows; NW_ENOMEM with a message. */
int plan_nomem(struct plan_ctx *p);
void plan_blocker(struct plan_ctx *p, const char *code, const char *resource, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void plan_finding(struct plan_ctx *p, const char *severity, const char *code, const char *resource,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void plan_prereq(struct plan_ctx *p, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void plan_limit_row(struct plan_ctx *p, enum limit_id id, long value, const char *resource);

/* Waves, steps and gates */
struct wave *plan_wave_new(struct plan_ctx *p, const struct wave_kind_def *kind, const char *name);
void plan_wave_free(struct wave *w);
void plan_wave_risk(struct wave *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void plan_wave_rollback(struct wave *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int plan_wave_add_vnet(struct wave *w, size_t idx);
int plan_wave_add_gw(struct wave *w, const struct topo_gateway *g);
json_t *plan_op_new(const char *method, const char *path, const char *api, json_t *body);
json_t *plan_op_none(const char *why);
json_t *plan_expect_eq(const char *pointer, const char *value);
json_t *plan_step_add(struct wave *w, struct step_spec *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *plan_step_id(const json_t *st);
int plan_gate_add(struct wave *w, const struct gate_kind_def *kind, const char *when, json_t *params, int reads,
    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/*
 * Request bodies (plan_body.c).  The PUT body of a resource: location,
 * tags, sku, zones, identity, extendedLocation and properties, read-only
 * fields removed; deeper levels are shared with the topology and must not
 * be modified.  plan_body_dup copies the levels plan_wire_body makes new.
 */
json_t *plan_wire_body(const json_t *res);
json_t *plan_body_dup(const json_t *b);
json_t *plan_subnet_body(const json_t *subnet);

/* The write budget, the waves' estimates and the summary (plan_budget.c). */
int plan_budget_finish(struct plan_ctx *p, json_t *summary, json_t **waves_out, json_t **budget_out);

#endif
