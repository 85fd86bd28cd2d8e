/*
 * The intent module's own header: what its files share (plan/intent.c
 * loads, plan/intent_rollout.c the rollout, plan/intent_expand.c the
 * working document and intent_target) with the change kinds' own parts,
 * plan/proc/<kind>_intent.c (their change's keys and its expansion into
 * the target).  Internal to plan/.
 */
#ifndef NETWAVE_PLAN_INTENT_IMPL_H
#define NETWAVE_PLAN_INTENT_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "plan/err.h"
#include "plan/intent.h"
#include "plan/routes.h"
#include "plan/topology.h"

#define PTR_MAX 1024

/* Loader plumbing: where we are, and messages that say so. */
struct intent_loader {
	const char *source;
	char ptr[PTR_MAX];
	struct nw_err *err;
};

/* A loader reading source ("<memory>" when NULL) from pointer ("" when NULL). */
void intent_loader_init(struct intent_loader *l, const char *source, const char *pointer,
    struct nw_err *err);
int intent_fail(struct intent_loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* intent_fail with the pointer at child key. */
int intent_fail_at(struct intent_loader *l, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
size_t intent_push(struct intent_loader *l, const char *key);
size_t intent_push_index(struct intent_loader *l, size_t i);
void intent_pop(struct intent_loader *l, size_t old);
const char *intent_json_kind(const json_t *v);
char *intent_strdup(const char *s);
int intent_nomem(struct nw_err *err);
int intent_check_keys(struct intent_loader *l, const json_t *obj, const char *const *allowed);
/* v is an object with only allowed keys; else "expected <what>, found <its kind>" or the unknown key. */
int intent_check_object(struct intent_loader *l, const json_t *v, const char *what, const char *const *allowed);
int intent_get_string(struct intent_loader *l, const json_t *obj, const char *key, bool required, const char **out);
int intent_get_bool(struct intent_loader *l, const json_t *obj, const char *key, bool *out);
/* obj.key, an integer from min to max ("expected <what>" when not one); *out untouched when absent. */
int intent_get_integer(struct intent_loader *l, const json_t *obj, const char *key, const char *what,
    long long min, long long max, long long *out);
int intent_get_string_list(struct intent_loader *l, const json_t *v, const char ***out, size_t *n);
int intent_selector_load(struct intent_loader *l, struct intent_selector *s, const json_t *v);
bool intent_id_segment(const char *id, size_t i, const char **seg, size_t *len);
bool intent_segment_is(const char *id, size_t i, const char *want);
bool intent_network_manager_id_ok(const char *id);
bool intent_arm_name_ok(const char *s);
/* 0 when name, at child key, passes intent_arm_name_ok; else an error calling it an invalid what name. */
int intent_check_arm_name(struct intent_loader *l, const char *key, const char *what, const char *name);
int intent_selector_at(struct intent_loader *l, const json_t *obj, const char *key, struct intent_selector *s);
int intent_rollout_load(struct intent_loader *l, struct intent_rollout *r, const json_t *v);

/*
 * Parses arr, a non-empty array at the pointer's current key, into a new
 * calloc'd array of elem-byte elements stored through out (the address of
 * the element pointer).  *n counts the elements begun, so the kind's free
 * sees a half-parsed one too; parse runs on each with the pointer at /i.
 */
typedef int intent_elem_fn(struct intent_loader *l, void *elem, const json_t *v);
int intent_parse_array(struct intent_loader *l, const json_t *arr, size_t elem, void *out, size_t *n,
    intent_elem_fn *parse);

/*
 * The target shares the current topology's JSON wherever the intent leaves
 * it alone (copy on write): see plan/intent_expand.c.  Nothing may write
 * to a resource got from intent_work_of or intent_work_find;
 * intent_work_edit gives a writable one.
 */
enum work_state { WORK_SHARED = 0, WORK_SHALLOW, WORK_DEEP };

struct intent_expander {
	const struct intent *in;
	const struct topology *cur;
	struct routes_ctx *ctx;  /* built on first use */
	json_t *root;            /* the target being built (owned) */
	json_t *resources;       /* its /resources (borrowed) */
	json_t *added;           /* lowercase id -> resource added by the expansion (owned) */
	json_t *removed;         /* id -> true: resources the expansion deletes (owned) */
	unsigned char *state;    /* per current resource: enum work_state */
	struct nw_err *err;
};

json_t *intent_work_of(const struct intent_expander *e, const struct topo_resource *r);
json_t *intent_work_edit(struct intent_expander *e, const struct topo_resource *r, bool deep);
json_t *intent_mut_object(json_t *obj, const char *key);
json_t *intent_mut_array(json_t *obj, const char *key);
json_t *intent_mut_element(json_t *arr, size_t i);
/*
 * Removes element at of properties.<key> (an array) of current resource r
 * in the target, copying on write what the target shares with the current
 * topology; *arr becomes that writable array, so that later look-ups in it
 * see the removal.  NW_ENOMEM on out of memory.
 */
int intent_work_remove(struct intent_expander *e, const struct topo_resource *r, const char *key, json_t **arr,
    size_t at);
json_t *intent_work_find_edit(struct intent_expander *e, const char *id);
json_t *intent_work_find(const struct intent_expander *e, const char *id);
int intent_work_add(struct intent_expander *e, json_t *res);
json_t *intent_obj_child(json_t *obj, const char *key);
json_t *intent_obj_get_ci(json_t *obj, const char *key, const char **found);
json_t *intent_named_child(json_t *arr, const char *name, size_t *index);
int intent_set_str(struct intent_expander *e, json_t *obj, const char *key, const char *value);
int intent_ensure_ctx(struct intent_expander *e);
int intent_selector_fail(const struct intent *in, const struct intent_selector *s, struct nw_err *err, const char *what);
/* Drops the resources an expansion deleted (a migrated ExpressRoute gateway, its connections). */
int intent_drop_removed(struct intent_expander *e);

#endif
