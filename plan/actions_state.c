/*
 * The pure judges of the states actions change (plan/actions.h): what a
 * step's operation promises, whether it is running, whether a rollback
 * put things back, whether anything moved since just before a request
 * was sent, and the settling of a request that may have reached ARM after
 * a crash, a connection reset or a restart of ARM (never sending it again
 * blindly).  One struct action_state per way of reading a state: the
 * resource itself, a network manager's deployment status, a gateway's
 * migration status, a feature's and a resource provider's registration.
 * Comparisons of resources go through the diff module (plan/diff.h), so
 * read-only fields ARM computes never count.  Pure: JSON in, verdicts out.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/actions.h"
#include "plan/diff.h"
#include "plan/jsonutil.h"
#include "plan/topology.h"

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
		if (*p != '/')
			return NULL;
		p = json_pointer_unescape(p + 1, tok, sizeof(tok));
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
	const char *k;
	json_t *va;

	if (a == NULL || b == NULL)
		return a == b;
	if (json_is_string(a) && json_is_string(b))
		return strcasecmp(json_string_value(a), json_string_value(b)) == 0;
	if (json_is_array(a) && json_is_array(b))
		return json_array_equal_by(a, b, json_equal_nocase);
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

/* Do resources a and b hold the same properties.<key>, ARM's casing aside? */
static bool
property_equal(const json_t *a, const json_t *b, const char *key)
{
	return json_equal_nocase(json_path(a, "properties", key, NULL), json_path(b, "properties", key, NULL));
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* ------------------------------------------------------------------ */
/* Reading states */

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

int
resource_compare_sets(const json_t *expected, const json_t *actual, json_t *changes, struct nw_err *err)
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
	char *low = str_lower_dup(id);
	int rc;

	if (e == NULL || a == NULL || low == NULL) {
		json_decref(e);
		json_decref(a);
		free(low);
		return err_set(err, NW_ENOMEM, "out of memory");
	}
	json_object_set(e, low, expected != NULL ? (json_t *)expected : json_null());
	json_object_set(a, low, actual != NULL ? (json_t *)actual : json_null());
	rc = resource_compare_sets(e, a, changes, err);
	json_decref(e);
	json_decref(a);
	free(low);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Bodies */

/* What ARM computes whatever a body says (as plan/diff.h ignores it). */
static bool
read_only(const char *key)
{
	static const char *const keys[] = { "etag", "provisioningState", "resourceGuid", "systemData", NULL };

	return str_in(key, keys, strcmp);
}

bool
action_body_applied(const json_t *body, const json_t *image)
{
	const char *k;
	const json_t *v;
	size_t i;

	if (body == NULL || json_is_null(body))
		return image == NULL || json_is_null(image);
	if (image == NULL)
		return false;
	if (json_is_object(body)) {
		if (!json_is_object(image))
			return false;
		json_object_foreach((json_t *)body, k, v)
			if (!read_only(k) && !action_body_applied(v, json_object_get(image, k)))
				return false;
		return true;
	}
	if (json_is_array(body)) {
		if (!json_is_array(image) || json_array_size(body) != json_array_size(image))
			return false;
		json_array_foreach(body, i, v)
			if (!action_body_applied(v, json_array_get(image, i)))
				return false;
		return true;
	}
	if (json_is_string(body) && json_is_string(image))
		return strcasecmp(json_string_value(body), json_string_value(image)) == 0;
	if (json_is_number(body) && json_is_number(image))
		return json_number_value(body) == json_number_value(image);
	return json_equal(body, image);
}

/* ------------------------------------------------------------------ */
/* The resource itself: PUT, PATCH, DELETE, GET and POSTs of no kind */

static enum expect_result
resource_expect(const json_t *op, const json_t *image, char *why, size_t size)
{
	const char *m = json_str(op, "method");
	const char *ps = prov_state(image);

	if (m == NULL)
		m = "";
	if (strcmp(m, "DELETE") == 0) {
		if (image == NULL)
			return EXPECT_MET;
		snprintf(why, size, "%s still exists (provisioningState %s)", short_name(json_str(image, "id")),
		    ps != NULL ? ps : "unknown");
		return EXPECT_NOT_YET;
	}
	if (strcmp(m, "PUT") != 0 && strcmp(m, "PATCH") != 0 && strcmp(m, "GET") != 0)
		return EXPECT_MET;
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
	return EXPECT_MET;
}

static bool
resource_running(const json_t *op, const json_t *image)
{
	(void)op;
	return !state_terminal(prov_state(image));
}

static bool
resource_restored(const json_t *op, const json_t *before, const json_t *current)
{
	json_t *changes;
	struct nw_err e = { 0 };
	bool same;

	(void)op;
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

static bool
resource_unchanged(const json_t *op, const json_t *a, const json_t *b)
{
	(void)op;
	if (a == NULL || b == NULL)
		return a == b;
	return json_equal(json_object_get(a, "etag"), json_object_get(b, "etag")) &&
	    json_equal(json_object_get(a, "properties"), json_object_get(b, "properties"));
}

const struct action_state action_state_resource = {
	resource_expect, resource_running, resource_restored, resource_unchanged,
};

/* ------------------------------------------------------------------ */
/* A network manager's deployment status (commit) */

static enum expect_result
deployments_expect(const json_t *op, const json_t *image, char *why, size_t size)
{
	return commit_expect(op, image, why, size);
}

static bool
deployments_running(const json_t *op, const json_t *image)
{
	const json_t *rv;
	size_t i;

	json_array_foreach(json_path(op, "body", "targetLocations", NULL), i, rv) {
		const json_t *rec = record_of(image, json_string_value(rv));
		const char *st = json_str(rec, "deploymentStatus");
		if (st != NULL && strcasecmp(st, "Deploying") == 0)
			return true;
	}
	return false;
}

static bool
deployments_restored(const json_t *op, const json_t *before, const json_t *current)
{
	const json_t *rv;
	json_t *empty = json_array();
	size_t i;
	bool same = true;

	json_array_foreach(json_path(op, "body", "targetLocations", NULL), i, rv) {
		const json_t *a = deployed_ids(before, json_string_value(rv));
		const json_t *b = deployed_ids(current, json_string_value(rv));
		if (!id_sets_equal(a != NULL ? a : empty, b != NULL ? b : empty))
			same = false;
	}
	json_decref(empty);
	return same;
}

static bool
deployments_unchanged(const json_t *op, const json_t *a, const json_t *b)
{
	const json_t *rv;
	size_t i;

	json_array_foreach(json_path(op, "body", "targetLocations", NULL), i, rv) {
		const json_t *ra = record_of(a, json_string_value(rv));
		const json_t *rb = record_of(b, json_string_value(rv));
		if ((ra == NULL) != (rb == NULL))
			return false;
		if (ra != NULL && !json_equal(json_object_get(ra, "commitTime"), json_object_get(rb, "commitTime")))
			return false;
	}
	return true;
}

const struct action_state action_state_deployments = {
	deployments_expect, deployments_running, deployments_restored, deployments_unchanged,
};

/* ------------------------------------------------------------------ */
/* A gateway's migration status */

static enum expect_result
migration_expect_op(const json_t *op, const json_t *image, char *why, size_t size)
{
	const struct action_kind *k = action_kind_of(op);

	return migration_expect(image, k != NULL ? k->done : "?", why, size);
}

static bool
migration_running(const json_t *op, const json_t *image)
{
	const char *st = json_path_str(image, "properties", "virtualNetworkGatewayMigrationStatus", "state", NULL);

	(void)op;
	return st != NULL && strcasecmp(st, "InProgress") == 0;
}

static bool
migration_restored(const json_t *op, const json_t *before, const json_t *current)
{
	const char *a = json_path_str(before, "properties", "virtualNetworkGatewayMigrationStatus", "phase", NULL);
	const char *b = json_path_str(current, "properties", "virtualNetworkGatewayMigrationStatus", "phase", NULL);

	(void)op;
	return strcasecmp(a != NULL ? a : "None", b != NULL ? b : "None") == 0;
}

static bool
migration_unchanged(const json_t *op, const json_t *a, const json_t *b)
{
	(void)op;
	return property_equal(a, b, "virtualNetworkGatewayMigrationStatus");
}

const struct action_state action_state_migration = {
	migration_expect_op, migration_running, migration_restored, migration_unchanged,
};

/* ------------------------------------------------------------------ */
/* A feature's registration */

static enum expect_result
feature_expect(const json_t *op, const json_t *image, char *why, size_t size)
{
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

static bool
registering(const char *st)
{
	return st != NULL && (strcasecmp(st, "Registering") == 0 || strcasecmp(st, "Unregistering") == 0);
}

static bool
feature_running(const json_t *op, const json_t *image)
{
	(void)op;
	return registering(json_path_str(image, "properties", "state", NULL));
}

static bool
feature_restored(const json_t *op, const json_t *before, const json_t *current)
{
	(void)op;
	return feature_state_same(json_path_str(before, "properties", "state", NULL),
	    json_path_str(current, "properties", "state", NULL));
}

static bool
feature_unchanged(const json_t *op, const json_t *a, const json_t *b)
{
	(void)op;
	return property_equal(a, b, "state");
}

const struct action_state action_state_feature = {
	feature_expect, feature_running, feature_restored, feature_unchanged,
};

/* ------------------------------------------------------------------ */
/* A resource provider's registration */

static enum expect_result
provider_expect(const json_t *op, const json_t *image, char *why, size_t size)
{
	const char *st = json_str(image, "registrationState");

	if (ends_with(json_str(op, "path"), "/unregister") || (st != NULL && strcasecmp(st, "Registered") == 0))
		return EXPECT_MET;
	snprintf(why, size, "the provider is %s", st != NULL ? st : "unknown");
	return EXPECT_NOT_YET;
}

static bool
provider_running(const json_t *op, const json_t *image)
{
	(void)op;
	return registering(json_str(image, "registrationState"));
}

static bool
provider_restored(const json_t *op, const json_t *before, const json_t *current)
{
	(void)op;
	(void)before;
	(void)current;
	return true;
}

static bool
provider_unchanged(const json_t *op, const json_t *a, const json_t *b)
{
	(void)op;
	return json_equal_nocase(json_object_get(a, "registrationState"), json_object_get(b, "registrationState"));
}

const struct action_state action_state_provider = {
	provider_expect, provider_running, provider_restored, provider_unchanged,
};

/* ------------------------------------------------------------------ */
/* What the engine asks */

enum expect_result
action_expect(const json_t *op, const json_t *expect, const json_t *image, char *why, size_t size)
{
	const struct action_kind *k = action_kind_of(op);
	const char *m = json_str(op, "method");
	enum expect_result er;
	const json_t *e;
	size_t i;

	why[0] = '\0';
	/* an action's own promise is the whole of it: a commit, a phase, a registration */
	if (k != NULL)
		return k->state->expect(op, image, why, size);
	er = action_state_resource.expect(op, image, why, size);
	if (er != EXPECT_MET || (m != NULL && strcmp(m, "DELETE") == 0))
		return er;
	json_array_foreach(expect, i, e) {
		const char *ptr = json_str(e, "pointer");
		const json_t *want = json_object_get(e, "equals");
		const json_t *have = json_pointer_get(image, ptr);

		if (!json_equal_nocase(have, want)) {
			char a[200], b[200];
			json_text(a, sizeof(a), have, "absent", 0);
			json_text(b, sizeof(b), want, "absent", 0);
			snprintf(why, size, "%s: %s is %s, expected %s", short_name(json_str(image, "id")),
			    ptr != NULL ? ptr : "?", a, b);
			return EXPECT_FAILED;
		}
	}
	return EXPECT_MET;
}

bool
action_in_progress(const json_t *op, const json_t *image)
{
	if (image == NULL)
		return false;
	return action_state_of(op)->running(op, image);
}

bool
action_restored(const json_t *op, const json_t *before, const json_t *current)
{
	return action_state_of(op)->restored(op, before, current);
}

bool
action_unchanged(const json_t *op, const json_t *a, const json_t *b)
{
	return action_state_of(op)->unchanged(op, a, b);
}

/* ------------------------------------------------------------------ */
/* Settling a write that may have arrived */

/*
 * PUT, PATCH and DELETE settle by the resource: a DELETE by its being
 * gone (or deleting), a PUT or PATCH by its carrying every field the body
 * sets (then it arrived and is not sent again).
 */
static enum settle_verdict
settle_write(const json_t *op, const json_t *image, char *why, size_t size)
{
	const char *m = json_str(op, "method");
	const char *ps = prov_state(image);

	if (m != NULL && strcmp(m, "DELETE") == 0) {
		if (image == NULL)
			return SETTLE_DONE;
		if (ps != NULL && strcasecmp(ps, "Deleting") == 0) {
			snprintf(why, size, "it is being deleted");
			return SETTLE_FOLLOW;
		}
		snprintf(why, size, "it still exists");
		return SETTLE_SEND;
	}
	if (!action_body_applied(json_object_get(op, "body"), image)) {
		if (image != NULL && !state_terminal(ps)) {
			/* another write is running on it: wait for it to end before judging */
			snprintf(why, size, "it is %s", ps);
			return SETTLE_FOLLOW;
		}
		snprintf(why, size, image == NULL ? "it does not exist" : "it does not carry the body sent");
		return SETTLE_SEND;
	}
	if (!state_terminal(ps)) {
		snprintf(why, size, "it carries the body sent and is %s", ps);
		return SETTLE_FOLLOW;
	}
	return SETTLE_DONE;
}

/*
 * A POST action settles by the state its kind names: what shows it was
 * received (the state moved since the image journaled just before
 * sending), running, and done.
 */
enum settle_verdict
action_settle(const json_t *op, const json_t *expect, const json_t *pre, bool pre_known,
    const json_t *image, char *why, size_t size)
{
	const struct action_kind *k = action_kind_of(op);
	enum expect_result er;

	why[0] = '\0';
	if (!action_op_is_post(op))
		return settle_write(op, image, why, size);
	if (k != NULL && k->gone_is_done && image == NULL && (!pre_known || pre != NULL)) {
		snprintf(why, size, "the gateway is gone: the commit deleted it");
		return SETTLE_DONE;
	}
	/*
	 * Unchanged since the journaled before-image comes first: a commit whose
	 * goal state was already deployed (every wave after the first commits
	 * the same configurations) meets its expectation without arriving, and
	 * only its commit time tells whether it did.
	 */
	if (pre_known && action_unchanged(op, pre, image)) {
		snprintf(why, size, "its state has not moved since just before it was sent");
		return SETTLE_SEND;
	}
	er = action_expect(op, expect, image, why, size);
	if (er == EXPECT_MET)
		return SETTLE_DONE;
	if (action_in_progress(op, image))
		return SETTLE_FOLLOW;
	if (er == EXPECT_FAILED && pre_known)
		return SETTLE_FAILED;
	return SETTLE_UNKNOWN;
}
