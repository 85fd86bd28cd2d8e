/*
 * How the apply engine reads the estate (state/apply/internal.h): the
 * state a step changes (a resource, or a commit's deployment status),
 * whether that state is what the step promised, whether a request was
 * received at all (for reconciling a POST action after a crash), batches
 * of reads, and the drift check that stops a wave whose resources
 * changed since the plan was made.  Comparisons go through the diff
 * module (plan/diff.h) so read-only fields ARM computes never count as
 * drift.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/actions.h"
#include "plan/arm_api.h"
#include "plan/diff.h"
#include "plan/jsonutil.h"
#include "plan/plan_json.h"
#include "plan/topology.h"
#include "state/apply/internal.h"

#define API_DEFAULT ARM_API_NETWORK

/* ------------------------------------------------------------------ */
/* Paths */

char *
path_with_version(const char *path, const char *api_version)
{
	char *out = NULL;

	if (api_version == NULL || *api_version == '\0' || strstr(path, "api-version=") != NULL)
		return strdup(path);
	if (asprintf(&out, "%s%capi-version=%s", path, strchr(path, '?') != NULL ? '&' : '?',
	    api_version) < 0)
		return NULL;
	return out;
}

char *
resource_read_path(const char *resource)
{
	const struct action_kind *k = action_kind_find(resource);
	char *d = strdup(resource);

	if (d == NULL)
		return NULL;
	/* a registration is read at the feature or provider it registers */
	if (k != NULL && (k->read == ACTION_READ_FEATURE || k->read == ACTION_READ_PROVIDER))
		d[strlen(d) - strlen(k->segment) - 1] = '\0';
	return d;
}

int
run_list(struct run *r, json_t **out, struct nw_err *err, const char *fmt, ...)
{
	char *path = NULL;
	va_list ap;
	int rc;

	*out = NULL;
	va_start(ap, fmt);
	rc = vasprintf(&path, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return err_set(err, NW_ENOMEM, "out of memory");
	rc = provider_list(r->p, path, out, err);
	free(path);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Reading a step's state */

struct provider_op *
state_read_op(const json_t *op, const char *resource)
{
	const char *api = json_str(op, "apiVersion");
	struct provider_op *rop = NULL;
	char *base = NULL, *path = NULL;

	if (api == NULL)
		api = API_DEFAULT;
	if (action_op_is(op, ACTION_COMMIT)) {
		const json_t *body = json_object_get(op, "body");
		json_t *req;
		const char *type = json_str(body, "commitType");

		base = strdup(json_str(op, "path"));
		if (base == NULL)
			return NULL;
		base[strlen(base) - strlen(action_kind_get(ACTION_COMMIT)->segment) - 1] = '\0';
		if (asprintf(&path, "%s/listDeploymentStatus?api-version=%s", base, api) < 0)
			path = NULL;
		req = json_pack("{s:O, s:[s]}", "regions", json_object_get(body, "targetLocations") != NULL ?
		    json_object_get(body, "targetLocations") : json_array(), "deploymentTypes",
		    type != NULL ? type : "Connectivity");
		if (path != NULL && req != NULL)
			rop = provider_op_new(PROVIDER_OP_POST_LIST, "POST", path, req);
		json_decref(req);
		free(base);
		free(path);
		return rop;
	}
	base = resource_read_path(resource);
	if (base != NULL)
		path = path_with_version(base, api);
	if (path != NULL)
		rop = provider_op_new(PROVIDER_OP_READ, "GET", path, NULL);
	free(base);
	free(path);
	return rop;
}

bool
state_from_op(const struct provider_op *rop, const json_t *wop, json_t **out)
{
	*out = NULL;
	if (rop->phase == PROVIDER_PHASE_DONE) {
		if (rop->kind == PROVIDER_OP_POST_LIST || action_op_is(wop, ACTION_COMMIT))
			*out = json_pack("{s:O}", "deploymentStatus", rop->result != NULL ? rop->result :
			    json_array());
		else
			*out = json_incref(rop->result);
		return true;
	}
	return rop->http_status == 404 || rop->error.http_status == 404;
}

/* ------------------------------------------------------------------ */
/* Batches of reads */

static void
batch_done(struct provider_op *op, void *arg)
{
	(void)op;
	((struct batch_item *)arg)->done = true;
}

/* Submits op (taking it) as it's operation; on failure op is freed and it->op stays NULL. */
static int
batch_submit(struct run *r, struct batch_item *it, struct provider_op *op, struct nw_err *err)
{
	int rc;

	op->done = batch_done;
	op->done_arg = it;
	it->op = op;
	if ((rc = provider_submit(r->p, op, err)) != 0) {
		provider_op_free(op);
		it->op = NULL;
	}
	return rc;
}

/* Runs the provider until every submitted operation of items[0..n) has finished. */
static int
batch_wait(struct run *r, struct batch_item *items, size_t n, const char *doing, struct nw_err *err)
{
	size_t i, left;
	int rc;

	for (;;) {
		for (left = 0, i = 0; i < n; i++)
			if (items[i].op != NULL && !items[i].done)
				left++;
		if (left == 0)
			return 0;
		if ((rc = run_pump(r, doing, err)) != 0)
			return rc;
	}
}

/* The answers of the finished items[0..n) into a new object *out, as batch_run says. */
static int
batch_gather(struct batch_item *items, size_t n, const struct batch_def *def, const void *arg,
    json_t **out, struct nw_err *err)
{
	json_t *res = json_object();
	size_t i;
	int rc = 0;

	if (res == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	for (i = 0; i < n && rc == 0; i++) {
		const struct provider_op *op = items[i].op;

		if (op->phase == PROVIDER_PHASE_DONE)
			json_object_set(res, items[i].key, op->result != NULL ? op->result : json_null());
		else
			rc = def->miss(&items[i], res, arg, err);
	}
	if (rc != 0) {
		json_decref(res);
		return rc;
	}
	*out = res;
	return 0;
}

/* Cancels what is still running, frees each operation and key, then items. */
static void
batch_free(struct run *r, struct batch_item *items, size_t n)
{
	size_t i;

	for (i = 0; i < n && items != NULL; i++) {
		if (items[i].op != NULL && !provider_op_finished(items[i].op))
			provider_cancel(r->p, items[i].op);
		provider_op_free(items[i].op);
		free(items[i].key);
	}
	free(items);
}

int
batch_run(struct run *r, const json_t *ids, const struct batch_def *def, const void *arg, json_t **out,
    struct nw_err *err)
{
	size_t n = json_array_size(ids), i;
	struct batch_item *items = calloc(n + 1, sizeof(*items));
	struct provider_op *op;
	const json_t *v;
	int rc = 0;

	*out = NULL;
	if (items == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	json_array_foreach(ids, i, v) {
		op = def->make(v, arg, &items[i].key);
		if (items[i].key == NULL || op == NULL) {
			provider_op_free(op);
			rc = err_set(err, NW_ENOMEM, "out of memory");
			goto done;
		}
		if ((rc = batch_submit(r, &items[i], op, err)) != 0)
			goto done;
	}
	if ((rc = batch_wait(r, items, n, def->doing, err)) == 0)
		rc = batch_gather(items, n, def, arg, out, err);
done:
	batch_free(r, items, n);
	return rc;
}

/* A resource's GET: v is its id, or {id, apiVersion}; the key its id in lower case. */
static struct provider_op *
read_make(const json_t *v, const void *arg, char **key)
{
	const char *id = json_is_string(v) ? json_string_value(v) : json_str(v, "id");
	const char *api = json_is_object(v) ? json_str(v, "apiVersion") : NULL;
	char *path = path_with_version(id, api != NULL ? api : API_DEFAULT);
	struct provider_op *op = path != NULL ? provider_op_new(PROVIDER_OP_READ, "GET", path, NULL) : NULL;

	(void)arg;
	free(path);
	*key = str_lower_dup(id);
	return op;
}

/* A resource that did not answer: one that is gone (404) reads as null; any other failure stops the read. */
static int
read_miss(const struct batch_item *it, json_t *res, const void *arg, struct nw_err *err)
{
	const struct provider_op *op = it->op;

	(void)arg;
	if (op->http_status == 404 || op->error.http_status == 404) {
		json_object_set_new(res, it->key, json_null());
		return 0;
	}
	return err_set(err, NW_EFAIL, "%s", op->err.msg);
}

static const struct batch_def read_batch = { "reading the estate", read_make, read_miss };

int
read_many(struct run *r, const json_t *ids, json_t **out, struct nw_err *err)
{
	return batch_run(r, ids, &read_batch, NULL, out, err);
}

/* ------------------------------------------------------------------ */
/* What a wave touches, and the drift check */

static bool
arm_resource_id(const char *id)
{
	return id != NULL && strncasecmp(id, "/subscriptions/", 15) == 0 &&
	    strcasestr(id, "/resourceGroups/") != NULL && strcasestr(id, "/providers/") != NULL;
}

json_t *
wave_resources(const json_t *wave)
{
	json_t *out = json_array(), *seen = json_object();
	const json_t *s;
	size_t i;

	if (out == NULL || seen == NULL) {
		json_decref(out);
		json_decref(seen);
		return NULL;
	}
	json_array_foreach(json_object_get(wave, "steps"), i, s) {
		const char *id = json_str(s, "resource");
		const json_t *op = json_object_get(s, "operation");
		const char *api = json_str(op, "apiVersion");
		char *low;

		if (!arm_resource_id(id))
			continue;
		low = str_lower_dup(id);
		if (low == NULL)
			continue;
		if (json_object_get(seen, low) == NULL) {
			json_object_set_new(seen, low, json_true());
			json_array_append_new(out, json_pack("{s:s, s:s}", "id", id, "apiVersion",
			    api != NULL ? api : API_DEFAULT));
		}
		free(low);
	}
	json_decref(seen);
	return out;
}

/* The current topology the plan was made from, when it can be found and matches. */
static void
baseline_load(struct run *r)
{
	const char *path = r->o->current_path;
	const char *want = json_path_str(r->plan, "current", "fingerprint", NULL);
	char fp[PLAN_JSON_FINGERPRINT_LEN];
	struct nw_err e = { 0 };
	struct topology *t = NULL;

	if (r->baseline_tried)
		return;
	r->baseline_tried = true;
	if (path == NULL)
		path = json_path_str(r->plan, "current", "source", NULL);
	if (path == NULL || strcmp(path, "<memory>") == 0 || strcmp(path, "-") == 0)
		goto fallback;
	if (topology_load_file(&t, path, NULL, &e) != 0) {
		run_event(r, "warning", json_pack("{s:s}", "message", e.msg));
		goto fallback;
	}
	if (plan_json_fingerprint(fp, t, &e) != 0 || want == NULL || strcmp(fp, want) != 0) {
		run_event(r, "warning", json_pack("{s:s}", "message", "the current topology file does not "
		    "match the plan's fingerprint; comparing with what the plan's inverses record"));
		topology_free(t);
		goto fallback;
	}
	r->baseline = t;
	return;
fallback:
	if (r->o->current_path == NULL) {
		char msg[1024];
		snprintf(msg, sizeof(msg), "the topology the plan was made from (%s) is not at hand: "
		    "comparing the estate with what the plan's inverses record; give --current for a full "
		    "comparison", path != NULL ? path : "unknown");
		run_event(r, "warning", json_pack("{s:s}", "message", msg));
	}
}

/* Merges a request body over a copy of a resource: the parts the plan would write back. */
static json_t *
merge_over(const json_t *base, const json_t *body)
{
	json_t *out = json_deep_copy(base), *v;
	const char *k;

	if (out == NULL || !json_is_object(body))
		return out;
	json_object_foreach((json_t *)body, k, v) {
		json_t *cur = json_object_get(out, k);
		if (json_is_object(cur) && json_is_object(v))
			json_object_set_new(out, k, merge_over(cur, v));
		else
			json_object_set(out, k, v);
	}
	return out;
}

/*
 * What each resource should look like now, from the plan's own record:
 * the image its last step left (after-image done, image journaled at a
 * rollback); "unknown" after a step that started or failed.
 * *out: {lowercase id: {"image": x} | {"unknown": true}}.
 */
static int
recorded_images(struct run *r, json_t **out, struct nw_err *err)
{
	json_t *journal = NULL, *steps = NULL, *bystep = json_object(), *res = json_object(), *ev, *s;
	size_t i;
	int rc;

	*out = NULL;
	if (bystep == NULL || res == NULL) {
		json_decref(bystep);
		json_decref(res);
		return err_set(err, NW_ENOMEM, "out of memory");
	}
	if ((rc = store_journal_list(r->st, r->plan_id, &journal, err)) != 0 ||
	    (rc = store_step_list(r->st, r->plan_id, -1, &steps, err)) != 0)
		goto done;
	json_array_foreach(steps, i, s)
		json_object_set(bystep, json_str(s, "id"), s);
	json_array_foreach(journal, i, ev) {
		const char *name = json_str(ev, "event"), *sid = json_str(ev, "step");
		const json_t *step = sid != NULL ? json_object_get(bystep, sid) : NULL;
		const char *id = json_str(step, "resource");
		json_t *op = json_object_get(step, "operation");
		char *low;

		if (step == NULL || !arm_resource_id(id) || action_op_is(op, ACTION_COMMIT))
			continue;
		low = str_lower_dup(id);
		if (low == NULL)
			continue;
		if (strcmp(name, "step-started") == 0 || strcmp(name, "step-failed") == 0) {
			json_object_set_new(res, low, json_pack("{s:b}", "unknown", 1));
		} else if (strcmp(name, "step-done") == 0) {
			const json_t *img = json_object_get(step, "afterImage");
			if (json_is_object(img) && json_str(img, "id") != NULL &&
			    strcasecmp(json_str(img, "id"), id) != 0)
				img = NULL; /* the image of another resource (a migrated gateway) */
			json_object_set_new(res, low, json_pack("{s:O}", "image", img != NULL ? img : json_null()));
		} else if (strcmp(name, "step-rolled-back") == 0) {
			const json_t *img = json_object_get(json_object_get(ev, "detail"), "image");
			const char *im = json_str(json_object_get(step, "inverse"), "method");
			if (im == NULL || strcmp(im, "NONE") == 0) {
				/* nothing was sent: the resource is as the step before left it */
				free(low);
				continue;
			}
			json_object_set_new(res, low, json_pack("{s:O}", "image", img != NULL ? img : json_null()));
		}
		free(low);
	}
	*out = res;
	res = NULL;
done:
	json_decref(journal);
	json_decref(steps);
	json_decref(bystep);
	json_decref(res);
	return rc;
}

/*
 * A child no step wrote itself, inside the image its parent's last step
 * left: *out is the child (new reference), json null when the recorded
 * parent lacks it, NULL when the parent has no record either.  Returns 2
 * when the parent's last step started or failed: nothing is expected.
 */
static int
child_of_recorded(const json_t *recorded, const char *id, json_t **out, struct nw_err *err)
{
	const json_t *rec, *img;
	size_t plen = 0;
	char *parent;
	int rc;

	*out = NULL;
	if (topology_child_kind(id, &plen) == NULL)
		return 0;
	if ((parent = str_lower_dup(id)) == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	parent[plen] = '\0';
	rec = json_object_get(recorded, parent);
	free(parent);
	img = json_object_get(rec, "image");
	if (rec == NULL)
		return 0;
	if (json_object_get(rec, "unknown") != NULL)
		return 2;
	if ((rc = topology_child_copy(out, img, id, err)) != 0)
		return rc;
	if (*out == NULL)
		*out = json_null();
	return 0;
}

int
drift_check(struct wave_run *wr, json_t **changes, struct nw_err *err)
{
	struct run *r = wr->r;
	json_t *ids = wave_resources(wr->wave), *actual = NULL, *recorded = NULL;
	json_t *expected = json_object(), *ch = json_array(), *v, *img = NULL;
	const json_t *s;
	size_t i;
	int rc;

	*changes = NULL;
	if (ids == NULL || expected == NULL || ch == NULL) {
		rc = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	if (json_array_size(ids) == 0) {
		*changes = ch;
		ch = NULL;
		rc = 0;
		goto done;
	}
	if ((rc = read_many(r, ids, &actual, err)) != 0) {
		err_prefix(err, "cannot read what wave %s touches", wr->name);
		goto done;
	}
	if ((rc = recorded_images(r, &recorded, err)) != 0)
		goto done;
	baseline_load(r);
	json_array_foreach(ids, i, v) {
		const char *id = json_str(v, "id");
		char *low = str_lower_dup(id);
		const json_t *rec = json_object_get(recorded, low);

		if (low == NULL)
			continue;
		if (rec != NULL) {
			if (json_object_get(rec, "image") != NULL)
				json_object_set(expected, low, json_object_get(rec, "image"));
		} else if ((rc = child_of_recorded(recorded, id, &img, err)) != 0) {
			free(low);
			if (rc == 2) {
				rc = 0;
				continue;
			}
			goto done;
		} else if (img != NULL) {
			json_object_set_new(expected, low, json_is_null(img) ? json_null() : img);
			img = NULL;
		} else if (r->baseline != NULL) {
			if ((rc = topology_resource_view(&img, r->baseline, id, err)) != 0) {
				free(low);
				goto done;
			}
			json_object_set_new(expected, low, img != NULL ? img : json_null());
			img = NULL;
		} else {
			/* what the plan's inverses say the resource was */
			size_t k;
			json_array_foreach(json_object_get(wr->wave, "steps"), k, s) {
				const json_t *inv = json_object_get(s, "inverse");
				const char *m = json_str(inv, "method");
				if (json_str(s, "resource") == NULL || strcasecmp(json_str(s, "resource"), id) != 0 ||
				    m == NULL)
					continue;
				if (strcmp(m, "DELETE") == 0 && strcasecmp(json_str(inv, "path"), id) == 0)
					json_object_set_new(expected, low, json_null());
				else if (strcmp(m, "PUT") == 0 && json_object_get(inv, "body") != NULL &&
				    json_object_get(actual, low) != NULL && !json_is_null(json_object_get(actual, low)))
					json_object_set_new(expected, low, merge_over(json_object_get(actual, low),
					    json_object_get(inv, "body")));
				break;
			}
		}
		free(low);
	}
	{
		/* compare only what has an expectation */
		json_t *act = json_object();
		const char *k;
		json_object_foreach(expected, k, v)
			json_object_set(act, k, json_object_get(actual, k));
		rc = resource_compare_sets(expected, act, ch, err);
		json_decref(act);
		if (rc != 0)
			goto done;
	}
	json_decref(wr->cache);
	wr->cache = actual;
	actual = NULL;
	*changes = ch;
	ch = NULL;
done:
	json_decref(ids);
	json_decref(actual);
	json_decref(recorded);
	json_decref(expected);
	json_decref(ch);
	return rc;
}
