/*
 * How the apply engine reads the estate (state/apply_internal.h): the
 * state a step changes (a resource, or a commit's deployment status),
 * whether that state is what the step promised, whether a request was
 * received at all (for reconciling a POST action after a crash), batches
 * of reads, and the drift check that stops a wave whose resources
 * changed since the plan was made.  Comparisons go through the diff
 * module (plan/diff.h) so read-only fields ARM computes never count as
 * drift.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/arm_api.h"
#include "plan/diff.h"
#include "plan/jsonutil.h"
#include "plan/plan_json.h"
#include "plan/planner.h"
#include "plan/topology.h"
#include "state/apply_internal.h"

#define API_DEFAULT ARM_API_NETWORK

/* ------------------------------------------------------------------ */
/* Small JSON helpers */

const json_t *
json_pointer_get(const json_t *v, const char *pointer)
{
	char tok[512];
	const char *p = pointer;

	if (pointer == NULL)
		return NULL;
	while (v != NULL && *p != '\0') {
		size_t n = 0;

		if (*p != '/')
			return NULL;
		p++;
		while (*p != '\0' && *p != '/' && n + 1 < sizeof(tok)) {
			if (p[0] == '~' && p[1] == '0') {
				tok[n++] = '~';
				p += 2;
			} else if (p[0] == '~' && p[1] == '1') {
				tok[n++] = '/';
				p += 2;
			} else {
				tok[n++] = *p++;
			}
		}
		tok[n] = '\0';
		if (json_is_object(v)) {
			v = json_object_get(v, tok);
		} else if (json_is_array(v)) {
			char *end;
			unsigned long i = strtoul(tok, &end, 10);
			if (*tok == '\0' || *end != '\0')
				return NULL;
			v = json_array_get(v, i);
		} else {
			return NULL;
		}
	}
	return v;
}

bool
json_equal_nocase(const json_t *a, const json_t *b)
{
	size_t i;
	const char *k;
	json_t *va;

	if (a == NULL || b == NULL)
		return a == b;
	if (json_is_string(a) && json_is_string(b))
		return strcasecmp(json_string_value(a), json_string_value(b)) == 0;
	if (json_is_array(a) && json_is_array(b)) {
		if (json_array_size(a) != json_array_size(b))
			return false;
		for (i = 0; i < json_array_size(a); i++)
			if (!json_equal_nocase(json_array_get(a, i), json_array_get(b, i)))
				return false;
		return true;
	}
	if (json_is_object(a) && json_is_object(b)) {
		if (json_object_size(a) != json_object_size(b))
			return false;
		json_object_foreach((json_t *)a, k, va)
			if (!json_equal_nocase(va, json_object_get(b, k)))
				return false;
		return true;
	}
	return json_equal(a, b);
}

static char *
lower_dup(const char *s)
{
	char *d = strdup(s != NULL ? s : "");
	size_t i;

	for (i = 0; d != NULL && d[i] != '\0'; i++)
		d[i] = (char)tolower((unsigned char)d[i]);
	return d;
}

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

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

char *
resource_read_path(const char *resource)
{
	char *d = strdup(resource);

	if (d == NULL)
		return NULL;
	if (ends_with(d, "/register"))
		d[strlen(d) - strlen("/register")] = '\0';
	else if (ends_with(d, "/unregister"))
		d[strlen(d) - strlen("/unregister")] = '\0';
	return d;
}

const char *
op_action(const json_t *op)
{
	const char *path = json_str(op, "path");
	const char *slash;

	if (path == NULL)
		return "";
	slash = strrchr(path, '/');
	return slash != NULL ? slash + 1 : path;
}

bool
step_is_action(const json_t *op)
{
	const char *m = json_str(op, "method");

	return m != NULL && strcmp(m, "POST") == 0;
}

static bool
is_commit(const json_t *op)
{
	const struct action_kind *k = action_kind_of(op);

	return k != NULL && k->id == ACTION_COMMIT;
}

/* The gateway migration phase an action ends in, or NULL when op is not one. */
static const char *
migration_target(const json_t *op)
{
	const struct action_kind *k = action_kind_of(op);

	return k != NULL && k->read == ACTION_READ_MIGRATION ? k->done : NULL;
}

static bool
is_feature_action(const json_t *op)
{
	const struct action_kind *k = action_kind_of(op);

	return k != NULL && k->read == ACTION_READ_FEATURE;
}

static bool
is_provider_register(const json_t *op)
{
	const struct action_kind *k = action_kind_of(op);

	return k != NULL && k->read == ACTION_READ_PROVIDER;
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
	if (is_commit(op)) {
		const json_t *body = json_object_get(op, "body");
		json_t *req;
		const char *type = json_str(body, "commitType");

		base = strdup(json_str(op, "path"));
		if (base == NULL)
			return NULL;
		base[strlen(base) - strlen("/commit")] = '\0';
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
		if (rop->kind == PROVIDER_OP_POST_LIST || is_commit(wop))
			*out = json_pack("{s:O}", "deploymentStatus", rop->result != NULL ? rop->result :
			    json_array());
		else
			*out = json_incref(rop->result);
		return true;
	}
	return rop->http_status == 404 || rop->error.http_status == 404;
}

/* ------------------------------------------------------------------ */
/* Expectations */

static const char *
prov_state(const json_t *image)
{
	return json_path_str(image, "properties", "provisioningState", NULL);
}

static bool
state_terminal(const char *s)
{
	return s == NULL || strcasecmp(s, "Succeeded") == 0 || strcasecmp(s, "Failed") == 0 ||
	    strcasecmp(s, "Canceled") == 0;
}

static char *
region_key(const char *r)
{
	char *d = malloc(strlen(r != NULL ? r : "") + 1);
	size_t n = 0;

	if (d == NULL)
		return NULL;
	for (; r != NULL && *r != '\0'; r++)
		if (*r != ' ')
			d[n++] = (char)tolower((unsigned char)*r);
	d[n] = '\0';
	return d;
}

/* The deployment record of a region in a commit state, or NULL. */
static const json_t *
record_of(const json_t *image, const char *region)
{
	const json_t *recs = json_object_get(image, "deploymentStatus"), *rec;
	char *want = region_key(region);
	size_t i;

	json_array_foreach(recs, i, rec) {
		char *have = region_key(json_str(rec, "region"));
		bool eq = want != NULL && have != NULL && strcmp(want, have) == 0;

		free(have);
		if (eq) {
			free(want);
			return rec;
		}
	}
	free(want);
	return NULL;
}

/* The same configuration ids, as sets and without case. */
static bool
id_sets_equal(const json_t *a, const json_t *b)
{
	const json_t *x, *y;
	size_t i, k;

	if (json_array_size(a) != json_array_size(b))
		return false;
	json_array_foreach(a, i, x) {
		bool found = false;
		json_array_foreach(b, k, y)
			if (json_is_string(x) && json_is_string(y) &&
			    strcasecmp(json_string_value(x), json_string_value(y)) == 0)
				found = true;
		if (!found)
			return false;
	}
	return true;
}

static enum expect_result
commit_expect(const json_t *op, const json_t *image, char *why, size_t size)
{
	const json_t *body = json_object_get(op, "body");
	const json_t *regions = json_object_get(body, "targetLocations"), *rv;
	const json_t *ids = json_object_get(body, "configurationIds");
	json_t *empty = json_array();
	enum expect_result res = EXPECT_MET;
	size_t i;

	if (ids == NULL)
		ids = empty;
	json_array_foreach(regions, i, rv) {
		const char *region = json_string_value(rv);
		const json_t *rec = record_of(image, region);
		const char *st = json_str(rec, "deploymentStatus");

		if (rec == NULL) {
			snprintf(why, size, "no deployment status for %s yet", region);
			res = EXPECT_NOT_YET;
			continue;
		}
		if (st != NULL && strcasecmp(st, "Failed") == 0) {
			snprintf(why, size, "the deployment in %s failed: %s", region,
			    json_str(rec, "errorMessage") != NULL ? json_str(rec, "errorMessage") : "no message");
			res = EXPECT_FAILED;
			break;
		}
		if (st == NULL || strcasecmp(st, "Deployed") != 0) {
			snprintf(why, size, "the deployment in %s is %s", region, st != NULL ? st : "unknown");
			res = EXPECT_NOT_YET;
			continue;
		}
		if (!id_sets_equal(json_object_get(rec, "configurationIds") != NULL ?
		    json_object_get(rec, "configurationIds") : empty, ids)) {
			snprintf(why, size, "%s has %zu configuration(s) deployed, not the %zu committed",
			    region, json_array_size(json_object_get(rec, "configurationIds")),
			    json_array_size(ids));
			res = EXPECT_FAILED;
			break;
		}
	}
	json_decref(empty);
	return res;
}

static const char *
short_name(const char *id)
{
	const char *s = id != NULL ? strrchr(id, '/') : NULL;

	return s != NULL ? s + 1 : id != NULL ? id : "?";
}

static enum expect_result
migration_expect(const json_t *image, const char *target, char *why, size_t size)
{
	const json_t *ms = json_path(image, "properties", "virtualNetworkGatewayMigrationStatus", NULL);
	const char *state = json_str(ms, "state"), *phase = json_str(ms, "phase");

	if (image == NULL) {
		snprintf(why, size, "the gateway is gone");
		return EXPECT_NOT_YET;
	}
	if (state != NULL && strcasecmp(state, "InProgress") == 0) {
		snprintf(why, size, "%s: migration phase %s is in progress", short_name(json_str(image, "id")),
		    phase != NULL ? phase : "?");
		return EXPECT_NOT_YET;
	}
	if (state != NULL && strcasecmp(state, "Failed") == 0) {
		snprintf(why, size, "%s: migration phase %s failed: %s", short_name(json_str(image, "id")),
		    phase != NULL ? phase : "?", json_str(ms, "errorMessage") != NULL &&
		    json_str(ms, "errorMessage")[0] != '\0' ? json_str(ms, "errorMessage") : "no message");
		return EXPECT_FAILED;
	}
	if (phase != NULL && strcasecmp(phase, target) == 0)
		return EXPECT_MET;
	snprintf(why, size, "%s: migration phase is %s, expected %s", short_name(json_str(image, "id")),
	    phase != NULL ? phase : "None", target);
	return EXPECT_FAILED;
}

static void
value_text(const json_t *v, char *buf, size_t size)
{
	char *s;

	if (v == NULL) {
		snprintf(buf, size, "absent");
		return;
	}
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
	snprintf(buf, size, "%s", s != NULL ? s : "?");
	free(s);
}

enum expect_result
state_expect(const json_t *op, const json_t *expect, const json_t *image, char *why, size_t size)
{
	const char *m = json_str(op, "method");
	const char *target = migration_target(op);
	const json_t *e;
	size_t i;

	why[0] = '\0';
	if (m == NULL)
		m = "";
	if (strcmp(m, "DELETE") == 0) {
		if (image == NULL)
			return EXPECT_MET;
		snprintf(why, size, "%s still exists (provisioningState %s)", short_name(json_str(image, "id")),
		    prov_state(image) != NULL ? prov_state(image) : "unknown");
		return EXPECT_NOT_YET;
	}
	if (is_commit(op))
		return commit_expect(op, image, why, size);
	if (target != NULL) {
		enum expect_result er = migration_expect(image, target, why, size);
		if (er != EXPECT_MET)
			return er;
		return EXPECT_MET;
	}
	if (is_feature_action(op)) {
		const char *want = ends_with(json_str(op, "path"), "/unregister") ? "Unregistered" : "Registered";
		const char *st = json_path_str(image, "properties", "state", NULL);

		if (st != NULL && (strcasecmp(st, want) == 0 ||
		    (strcmp(want, "Unregistered") == 0 && strcasecmp(st, "NotRegistered") == 0)))
			return EXPECT_MET;
		snprintf(why, size, "feature %s is %s, waiting for %s", short_name(json_str(op, "path") != NULL ?
		    json_str(image, "name") : NULL), st != NULL ? st : "unknown", want);
		if (st == NULL || strcasecmp(st, "Registering") == 0 || strcasecmp(st, "Unregistering") == 0 ||
		    strcasecmp(st, "Pending") == 0 || strcasecmp(st, "NotRegistered") == 0 ||
		    strcasecmp(st, "Unregistered") == 0)
			return EXPECT_NOT_YET;
		return EXPECT_FAILED;
	}
	if (is_provider_register(op)) {
		const char *st = json_str(image, "registrationState");
		if (ends_with(json_str(op, "path"), "/unregister") || (st != NULL &&
		    strcasecmp(st, "Registered") == 0))
			return EXPECT_MET;
		snprintf(why, size, "the provider is %s", st != NULL ? st : "unknown");
		return EXPECT_NOT_YET;
	}
	if (strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0 || strcmp(m, "GET") == 0) {
		const char *ps = prov_state(image);

		if (image == NULL) {
			snprintf(why, size, "the resource does not exist");
			return strcmp(m, "GET") == 0 ? EXPECT_FAILED : EXPECT_NOT_YET;
		}
		if (strcmp(m, "GET") != 0 && !state_terminal(ps)) {
			snprintf(why, size, "%s is %s", short_name(json_str(image, "id")), ps);
			return EXPECT_NOT_YET;
		}
		if (strcmp(m, "GET") != 0 && ps != NULL && strcasecmp(ps, "Succeeded") != 0) {
			snprintf(why, size, "%s ended %s", short_name(json_str(image, "id")), ps);
			return EXPECT_FAILED;
		}
	}
	json_array_foreach(expect, i, e) {
		const char *ptr = json_str(e, "pointer");
		const json_t *want = json_object_get(e, "equals");
		const json_t *have = json_pointer_get(image, ptr);

		if (!json_equal_nocase(have, want)) {
			char a[200], b[200];
			value_text(have, a, sizeof(a));
			value_text(want, b, sizeof(b));
			snprintf(why, size, "%s: %s is %s, expected %s", short_name(json_str(image, "id")),
			    ptr != NULL ? ptr : "?", a, b);
			return EXPECT_FAILED;
		}
	}
	return EXPECT_MET;
}

bool
state_in_progress(const json_t *op, const json_t *image)
{
	const json_t *body = json_object_get(op, "body"), *rv;
	size_t i;

	if (image == NULL)
		return false;
	if (is_commit(op)) {
		json_array_foreach(json_object_get(body, "targetLocations"), i, rv) {
			const json_t *rec = record_of(image, json_string_value(rv));
			const char *st = json_str(rec, "deploymentStatus");
			if (st != NULL && strcasecmp(st, "Deploying") == 0)
				return true;
		}
		return false;
	}
	if (migration_target(op) != NULL) {
		const char *st = json_path_str(image, "properties", "virtualNetworkGatewayMigrationStatus",
		    "state", NULL);
		return st != NULL && strcasecmp(st, "InProgress") == 0;
	}
	if (is_feature_action(op)) {
		const char *st = json_path_str(image, "properties", "state", NULL);
		return st != NULL && (strcasecmp(st, "Registering") == 0 ||
		    strcasecmp(st, "Unregistering") == 0);
	}
	if (is_provider_register(op)) {
		const char *st = json_str(image, "registrationState");
		return st != NULL && (strcasecmp(st, "Registering") == 0 ||
		    strcasecmp(st, "Unregistering") == 0);
	}
	return !state_terminal(prov_state(image));
}

static const json_t *
deployed_ids(const json_t *image, const char *region)
{
	return json_object_get(record_of(image, region), "configurationIds");
}

/*
 * A feature never registered reads NotRegistered; one unregistered reads
 * Unregistered: both are "not registered" (Features - Unregister,
 * https://learn.microsoft.com/rest/api/resources/features/unregister), so an
 * unregister puts the feature back as it was.
 */
static bool
feature_state_same(const char *a, const char *b)
{
	if (a != NULL && strcasecmp(a, "Unregistered") == 0)
		a = "NotRegistered";
	if (b != NULL && strcasecmp(b, "Unregistered") == 0)
		b = "NotRegistered";
	if (a == NULL || b == NULL)
		return a == b;
	return strcasecmp(a, b) == 0;
}

bool
state_restored(const json_t *op, const json_t *before, const json_t *current)
{
	const json_t *rv;
	json_t *changes, *empty;
	struct nw_err e = { 0 };
	size_t i;
	bool same;

	if (is_commit(op)) {
		empty = json_array();
		same = true;
		json_array_foreach(json_path(op, "body", "targetLocations", NULL), i, rv) {
			const json_t *a = deployed_ids(before, json_string_value(rv));
			const json_t *b = deployed_ids(current, json_string_value(rv));
			if (!id_sets_equal(a != NULL ? a : empty, b != NULL ? b : empty))
				same = false;
		}
		json_decref(empty);
		return same;
	}
	if (migration_target(op) != NULL) {
		const char *a = json_path_str(before, "properties", "virtualNetworkGatewayMigrationStatus",
		    "phase", NULL);
		const char *b = json_path_str(current, "properties", "virtualNetworkGatewayMigrationStatus",
		    "phase", NULL);
		return strcasecmp(a != NULL ? a : "None", b != NULL ? b : "None") == 0;
	}
	if (is_feature_action(op))
		return feature_state_same(json_path_str(before, "properties", "state", NULL),
		    json_path_str(current, "properties", "state", NULL));
	if (is_provider_register(op))
		return true;
	if (before == NULL || current == NULL)
		return before == current;
	changes = json_array();
	if (changes == NULL || resource_compare(json_str(current, "id") != NULL ? json_str(current, "id") :
	    "?", before, current, changes, &e) != 0) {
		json_decref(changes);
		return false;
	}
	same = json_array_size(changes) == 0;
	json_decref(changes);
	return same;
}

bool
state_unchanged(const json_t *op, const json_t *a, const json_t *b)
{
	const json_t *body = json_object_get(op, "body"), *rv;
	size_t i;

	if (is_commit(op)) {
		json_array_foreach(json_object_get(body, "targetLocations"), i, rv) {
			const json_t *ra = record_of(a, json_string_value(rv));
			const json_t *rb = record_of(b, json_string_value(rv));
			if ((ra == NULL) != (rb == NULL))
				return false;
			if (ra != NULL && !json_equal(json_object_get(ra, "commitTime"),
			    json_object_get(rb, "commitTime")))
				return false;
		}
		return true;
	}
	if (migration_target(op) != NULL)
		return json_equal_nocase(json_path(a, "properties", "virtualNetworkGatewayMigrationStatus",
		    NULL), json_path(b, "properties", "virtualNetworkGatewayMigrationStatus", NULL));
	if (is_feature_action(op))
		return json_equal_nocase(json_path(a, "properties", "state", NULL),
		    json_path(b, "properties", "state", NULL));
	if (is_provider_register(op))
		return json_equal_nocase(json_object_get(a, "registrationState"),
		    json_object_get(b, "registrationState"));
	if (a == NULL || b == NULL)
		return a == b;
	return json_equal(json_object_get(a, "etag"), json_object_get(b, "etag")) &&
	    json_equal(json_object_get(a, "properties"), json_object_get(b, "properties"));
}

/* ------------------------------------------------------------------ */
/* Batches of reads */

struct batch_item {
	struct provider_op *op;
	char *id;
	bool done;
};

static void
batch_done(struct provider_op *op, void *arg)
{
	(void)op;
	((struct batch_item *)arg)->done = true;
}

int
read_many(struct run *r, const json_t *ids, json_t **out, struct nw_err *err)
{
	struct batch_item *items = NULL;
	size_t n = json_array_size(ids), i, left;
	json_t *res = json_object(), *v;
	int rc = 0;

	*out = NULL;
	if (res == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	items = calloc(n + 1, sizeof(*items));
	if (items == NULL) {
		json_decref(res);
		return err_set(err, NW_ENOMEM, "out of memory");
	}
	json_array_foreach(ids, i, v) {
		const char *id = json_is_string(v) ? json_string_value(v) : json_str(v, "id");
		const char *api = json_is_object(v) ? json_str(v, "apiVersion") : NULL;
		char *path = path_with_version(id, api != NULL ? api : API_DEFAULT);

		items[i].id = lower_dup(id);
		if (path == NULL || items[i].id == NULL ||
		    (items[i].op = provider_op_new(PROVIDER_OP_READ, "GET", path, NULL)) == NULL) {
			free(path);
			rc = err_set(err, NW_ENOMEM, "out of memory");
			goto done;
		}
		free(path);
		items[i].op->done = batch_done;
		items[i].op->done_arg = &items[i];
		if ((rc = provider_submit(r->p, items[i].op, err)) != 0) {
			provider_op_free(items[i].op);
			items[i].op = NULL;
			goto done;
		}
	}
	for (;;) {
		for (left = 0, i = 0; i < n; i++)
			if (items[i].op != NULL && !items[i].done)
				left++;
		if (left == 0)
			break;
		if ((rc = run_pump(r, "reading the estate", err)) != 0)
			goto done;
	}
	for (i = 0; i < n; i++) {
		struct provider_op *op = items[i].op;
		if (op->phase == PROVIDER_PHASE_DONE) {
			json_object_set(res, items[i].id, op->result != NULL ? op->result : json_null());
		} else if (op->http_status == 404 || op->error.http_status == 404) {
			json_object_set_new(res, items[i].id, json_null());
		} else {
			rc = err_set(err, op->status != 0 ? NW_EFAIL : NW_EFAIL, "%s", op->err.msg);
			goto done;
		}
	}
	*out = res;
	res = NULL;
done:
	for (i = 0; i < n; i++) {
		if (items[i].op != NULL && !provider_op_finished(items[i].op))
			provider_cancel(r->p, items[i].op);
		provider_op_free(items[i].op);
		free(items[i].id);
	}
	free(items);
	json_decref(res);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Comparing resources as the diff does */

static json_t *
mini_doc(const json_t *resources)
{
	return json_pack("{s:s, s:s, s:[], s:O, s:{}}", "format", TOPOLOGY_FORMAT, "cloud", "AzureCloud",
	    "subscriptions", "resources", resources, "observed");
}

/* Drops what ARM computes and the diff ignores anyway, for the fallback comparison. */
static void
strip_volatile(json_t *v)
{
	static const char *const drop[] = { "etag", "provisioningState", "resourceGuid", "systemData",
		"peeringSyncLevel", "peeringState" };
	size_t i;
	const char *k;
	json_t *x;

	if (json_is_object(v)) {
		for (i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
			json_object_del(v, drop[i]);
		json_object_foreach(v, k, x)
			strip_volatile(x);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			strip_volatile(x);
	}
}

/* Appends resource as the drift check judges it (a parent without its children). */
static int
append_view(json_t *arr, const char *id, const json_t *resource, struct nw_err *err)
{
	json_t *view = NULL;
	int rc = topology_without_children(&view, id, resource, err);

	if (rc == 0 && json_array_append_new(arr, view) != 0)
		rc = err_set(err, NW_ENOMEM, "out of memory");
	return rc;
}

/* expected and actual: {lowercase id: resource or null}; appends differences to changes. */
static int
compare_sets(const json_t *expected, const json_t *actual, json_t *changes, struct nw_err *err)
{
	json_t *ea = json_array(), *aa = json_array(), *v;
	struct topology *te = NULL, *ta = NULL;
	struct diff d = { 0 };
	struct nw_err e2 = { 0 };
	const char *k;
	size_t i;
	int rc = 0;

	if (ea == NULL || aa == NULL) {
		rc = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	/* a parent is judged without its embedded children: they are judged as themselves */
	json_object_foreach((json_t *)expected, k, v)
		if (json_is_object(v) && (rc = append_view(ea, k, v, err)) != 0)
			goto done;
	json_object_foreach((json_t *)actual, k, v)
		if (json_is_object(v) && (rc = append_view(aa, k, v, err)) != 0)
			goto done;
	if (topology_load_json(&te, mini_doc(ea), "<expected>", &e2) != 0 ||
	    topology_load_json(&ta, mini_doc(aa), "<estate>", &e2) != 0) {
		/* not loadable as a topology: compare the documents without what ARM computes */
		json_object_foreach((json_t *)expected, k, v) {
			json_t *x = NULL, *y = NULL, *xv = NULL, *yv = NULL;

			if (topology_without_children(&xv, k, v, err) != 0 ||
			    topology_without_children(&yv, k, json_object_get(actual, k), err) != 0) {
				json_decref(xv);
				rc = NW_ENOMEM;
				goto done;
			}
			x = json_deep_copy(xv);
			y = json_deep_copy(yv);
			json_decref(xv);
			json_decref(yv);
			strip_volatile(x);
			strip_volatile(y);
			if (!json_equal(x, y) && !(json_is_null(x) && y == NULL))
				json_array_append_new(changes, json_pack("{s:s, s:s, s:s, s:O?, s:O?}",
				    "resource", k, "pointer", "", "kind", "changed", "before", v,
				    "after", json_object_get(actual, k)));
			json_decref(x);
			json_decref(y);
		}
		goto done;
	}
	if ((rc = diff_topologies(&d, te, ta, err)) != 0)
		goto done;
	for (i = 0; i < d.n; i++) {
		const struct diff_entry *de = &d.v[i];
		if (strcmp(de->resource_id, "observed") == 0)
			continue;
		json_array_append_new(changes, json_pack("{s:s, s:s, s:s, s:O?, s:O?}", "resource",
		    de->resource_id, "pointer", de->pointer, "kind", diff_kind_name(de->kind) ,
		    "before", de->before, "after", de->after));
	}
done:
	diff_free(&d);
	topology_free(te);
	topology_free(ta);
	json_decref(ea);
	json_decref(aa);
	return rc;
}

int
resource_compare(const char *id, const json_t *expected, const json_t *actual, json_t *changes,
    struct nw_err *err)
{
	json_t *e = json_object(), *a = json_object();
	char *low = lower_dup(id);
	int rc;

	if (e == NULL || a == NULL || low == NULL) {
		json_decref(e);
		json_decref(a);
		free(low);
		return err_set(err, NW_ENOMEM, "out of memory");
	}
	json_object_set(e, low, expected != NULL ? (json_t *)expected : json_null());
	json_object_set(a, low, actual != NULL ? (json_t *)actual : json_null());
	rc = compare_sets(e, a, changes, err);
	json_decref(e);
	json_decref(a);
	free(low);
	return rc;
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
		low = lower_dup(id);
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

		if (step == NULL || !arm_resource_id(id) || is_commit(op))
			continue;
		low = lower_dup(id);
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
	if ((parent = lower_dup(id)) == NULL)
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
		char *low = lower_dup(id);
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
		rc = compare_sets(expected, act, ch, err);
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
