/*
 * The intent's expansion (intent.h, intent_target): the working document
 * the change kinds edit (copy on write, plan/intent_impl.h), and the
 * driver that asks each change's kind (plan/procedure.h) to apply its
 * end state.
 */
#include "config.h"

#include <fnmatch.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/cidr.h"
#include "plan/findings.h"
#include "plan/gwmigrate.h"
#include "plan/intent.h"
#include "plan/intent_impl.h"
#include "plan/jsonutil.h"
#include "plan/limits.h"
#include "plan/procedure.h"
#include "plan/rgroups.h"
#include "plan/routes.h"

/* ------------------------------------------------------------------ */
/* Expansion: the working document                                     */

/*
 * The target shares the current topology's JSON wherever the intent leaves
 * it alone (copy on write): a large estate is held once, not twice, and the
 * diff finds unchanged subtrees by pointer.  A current resource is copied
 * only when a change touches it, and then only down the path the change
 * takes (intent_mut_object, intent_mut_array): a node the current topology also holds
 * has a reference count over 1 and is copied before it is written, one
 * only the target holds is written in place.  Nothing may write to a
 * resource got from intent_work_of or intent_work_find; intent_work_edit gives a writable one.
 */
/* A current resource as the target has it, for reading only. */
json_t *
intent_work_of(const struct intent_expander *e, const struct topo_resource *r)
{
	return json_array_get(e->resources, r->index);
}

/*
 * A current resource made writable: a new object in the target whose
 * members are still shared (to be made writable with intent_mut_object and
 * intent_mut_array on the way down), or with deep a full copy, for the few
 * resources whose edits are many and small.  NULL on out of memory.
 */
json_t *
intent_work_edit(struct intent_expander *e, const struct topo_resource *r, bool deep)
{
	json_t *v = json_array_get(e->resources, r->index), *c;

	if (v == NULL)
		return NULL;
	if (e->state[r->index] == WORK_DEEP || (e->state[r->index] == WORK_SHALLOW && !deep))
		return v;
	c = deep ? json_deep_copy(v) : json_copy(v);
	if (c == NULL || json_array_set_new(e->resources, r->index, c) != 0)
		return NULL;
	e->state[r->index] = deep ? WORK_DEEP : WORK_SHALLOW;
	return c;
}

/* Is v held elsewhere too (by the current topology), so that writing it needs a copy first? */
static bool
shared(const json_t *v)
{
	return v->refcount > 1;
}

/*
 * obj[key] as an object the target alone holds (borrowed): copied
 * (shallowly) when shared, created when absent or not an object.  obj
 * must be writable itself.  NULL on out of memory.
 */
json_t *
intent_mut_object(json_t *obj, const char *key)
{
	json_t *v;

	if (obj == NULL)
		return NULL;
	v = json_object_get(obj, key);
	if (!json_is_object(v) || shared(v)) {
		v = json_is_object(v) ? json_copy(v) : json_object();
		if (v == NULL || json_object_set_new(obj, key, v) != 0)
			return NULL;
	}
	return v;
}

/*
 * v, the member key (or, key NULL, element i) of the writable parent, as
 * one the target alone holds: when it is shared, a copy takes its place.
 * NULL on out of memory.
 */
static json_t *
own(json_t *parent, const char *key, size_t i, json_t *v)
{
	if (!shared(v))
		return v;
	v = json_copy(v);
	if (v == NULL ||
	    (key != NULL ? json_object_set_new(parent, key, v) : json_array_set_new(parent, i, v)) != 0)
		return NULL;
	return v;
}

/* obj[key] as an array the target alone holds (borrowed); NULL when it is not an array. */
json_t *
intent_mut_array(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_array(v) ? own(obj, key, 0, v) : NULL;
}

int
intent_work_remove(struct intent_expander *e, const struct topo_resource *r, const char *key, json_t **arr,
    size_t at)
{
	json_t *a = intent_mut_array(intent_mut_object(intent_work_edit(e, r, false), "properties"), key);

	if (a == NULL)
		return intent_nomem(e->err);
	*arr = a;
	json_array_remove(a, at);
	return 0;
}

/* arr[i], an object, as one the target alone holds (borrowed); arr must be writable. */
json_t *
intent_mut_element(json_t *arr, size_t i)
{
	json_t *v = json_array_get(arr, i);

	return json_is_object(v) ? own(arr, NULL, i, v) : NULL;
}

/* A writable resource of the target by id (fully copied if current), or NULL. */
json_t *
intent_work_find_edit(struct intent_expander *e, const char *id)
{
	const struct topo_resource *r = topology_find(e->cur, id);
	char *key;
	json_t *v;

	if (r != NULL)
		return intent_work_edit(e, r, true);
	if ((key = str_lower_dup(id)) == NULL)
		return NULL;
	v = json_object_get(e->added, key);
	free(key);
	return v;
}

/* A resource of the target by id: a current one (its working copy) or one we added. */
json_t *
intent_work_find(const struct intent_expander *e, const char *id)
{
	const struct topo_resource *r = topology_find(e->cur, id);
	char *key;
	json_t *v;

	if (r != NULL)
		return intent_work_of(e, r);
	if ((key = str_lower_dup(id)) == NULL)
		return NULL;
	v = json_object_get(e->added, key);
	free(key);
	return v;
}

/* Adds a resource (steals res). */
int
intent_work_add(struct intent_expander *e, json_t *res)
{
	char *key;
	int rc = 0;

	if (res == NULL)
		return intent_nomem(e->err);
	key = str_lower_dup(json_str(res, "id"));
	if (key == NULL || json_object_set(e->added, key, res) != 0 ||
	    json_array_append(e->resources, res) != 0)
		rc = intent_nomem(e->err);
	free(key);
	json_decref(res);
	return rc;
}

/* obj[key] as an object, created when absent (borrowed). */
json_t *
intent_obj_child(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_object(v))
		return v;
	v = json_object();
	if (v == NULL || json_object_set_new(obj, key, v) != 0)
		return NULL;
	return v;
}

/* The member of obj whose key equals key case-insensitively, or NULL. */
json_t *
intent_obj_get_ci(json_t *obj, const char *key, const char **found)
{
	const char *k;
	json_t *v;

	json_object_foreach(obj, k, v) {
		if (strcasecmp(k, key) == 0) {
			if (found != NULL)
				*found = k;
			return v;
		}
	}
	return NULL;
}

/* The element of a named-children array with this name (case-insensitive). */
json_t *
intent_named_child(json_t *arr, const char *name, size_t *index)
{
	size_t i;

	for (i = 0; i < json_array_size(arr); i++) {
		const char *n = json_str(json_array_get(arr, i), "name");
		if (n != NULL && strcasecmp(n, name) == 0) {
			if (index != NULL)
				*index = i;
			return json_array_get(arr, i);
		}
	}
	return NULL;
}

int
intent_set_str(struct intent_expander *e, json_t *obj, const char *key, const char *value)
{
	if (obj == NULL || json_object_set_new(obj, key, json_string(value)) != 0)
		return intent_nomem(e->err);
	return 0;
}

int
intent_ensure_ctx(struct intent_expander *e)
{
	if (e->ctx != NULL)
		return 0;
	return routes_ctx_new(&e->ctx, e->cur, e->err);
}

int
intent_selector_fail(const struct intent *in, const struct intent_selector *s, struct nw_err *err,
    const char *what)
{
	return err_set(err, NW_EINPUT, "%s: %s: matches no %s", in->source, s->pointer, what);
}

/* Drops the resources an expansion deleted (a migrated ExpressRoute gateway, its connections). */
int
intent_drop_removed(struct intent_expander *e)
{
	json_t *kept, *gone;
	const json_t *v;
	const char *k;
	size_t i;

	if (json_object_size(e->removed) == 0)
		return 0;
	/* one look-up per resource, not a pass over the removed ids: an estate has thousands */
	kept = json_array();
	gone = json_object();
	if (kept == NULL || gone == NULL)
		goto fail;
	json_object_foreach(e->removed, k, v) {
		char *key = str_lower_dup(k);

		if (key == NULL || json_object_set_new(gone, key, json_true()) != 0) {
			free(key);
			goto fail;
		}
		free(key);
	}
	json_array_foreach(e->resources, i, v) {
		const char *id = json_str(v, "id");
		char *key = id != NULL ? str_lower_dup(id) : NULL;

		if (id != NULL && key == NULL)
			goto fail;
		if ((key == NULL || json_object_get(gone, key) == NULL) &&
		    json_array_append((json_t *)kept, (json_t *)v) != 0) {
			free(key);
			goto fail;
		}
		free(key);
	}
	json_decref(gone);
	if (json_object_set_new(e->root, "resources", kept) != 0)
		return intent_nomem(e->err);
	e->resources = kept;
	return 0;
fail:
	json_decref(gone);
	json_decref(kept);
	return intent_nomem(e->err);
}

/* ------------------------------------------------------------------ */

int
intent_target(json_t **out, const struct intent *in, const struct topology *cur,
    struct nw_err *err)
{
	return intent_target_ctx(out, in, cur, NULL, err);
}

int
intent_target_ctx(json_t **out, const struct intent *in, const struct topology *cur,
    struct routes_ctx **ctx, struct nw_err *err)
{
	struct intent_expander e;
	json_t *changes;
	size_t i;
	int rc = 0;

	*out = NULL;
	if (ctx != NULL)
		*ctx = NULL;
	memset(&e, 0, sizeof(e));
	e.in = in;
	e.cur = cur;
	e.err = err;
	/* shared with the current topology but for /resources (its members stay
	 * shared, see intent_work_edit) and the small /observed, which changes often */
	e.root = json_copy(cur->root);
	e.added = json_object();
	e.removed = json_object();
	e.state = calloc(json_array_size(json_object_get(cur->root, "resources")) + 1, 1);
	if (e.root == NULL || e.added == NULL || e.removed == NULL || e.state == NULL) {
		rc = intent_nomem(err);
		goto done;
	}
	if (json_is_array(json_object_get(e.root, "resources")) &&
	    json_object_set_new(e.root, "resources",
		json_copy(json_object_get(e.root, "resources"))) != 0) {
		rc = intent_nomem(err);
		goto done;
	}
	if (json_object_get(e.root, "observed") != NULL &&
	    json_object_set_new(e.root, "observed",
		json_deep_copy(json_object_get(e.root, "observed"))) != 0) {
		rc = intent_nomem(err);
		goto done;
	}
	e.resources = json_object_get(e.root, "resources");
	for (i = 0; i < in->nchanges && rc == 0; i++) {
		const struct intent_change *c = &in->changes[i];
		const struct procedure *proc = procedure_find(c->kind);

		if (proc != NULL && proc->intent != NULL)
			rc = proc->intent->expand(&e, c);
	}
	if (rc == 0)
		rc = intent_drop_removed(&e);
	/* a group the change writes into that does not exist yet exists after apply */
	if (rc == 0)
		rc = rgroups_predict(e.resources, cur, err);
	if (rc != 0)
		goto done;
	changes = json_object_get(in->root, "changes");
	if (json_object_set_new(e.root, "x-netwave-changes", json_deep_copy(changes)) != 0) {
		rc = intent_nomem(err);
		goto done;
	}
	if (in->rollout != NULL) {
		if (json_object_set_new(e.root, "x-netwave-rollout", json_deep_copy(in->rollout)) != 0) {
			rc = intent_nomem(err);
			goto done;
		}
	} else {
		json_object_del(e.root, "x-netwave-rollout");
	}
	*out = e.root;
	e.root = NULL;
	if (ctx != NULL) {
		*ctx = e.ctx;
		e.ctx = NULL;
	}
done:
	routes_ctx_free(e.ctx);
	json_decref(e.added);
	json_decref(e.removed);
	json_decref(e.root);
	free(e.state);
	return rc;
}

