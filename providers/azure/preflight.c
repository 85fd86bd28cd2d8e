/*
 * Preflight's reads: what plan/preflight.h's preflight_reads lists, read
 * from ARM (or the emulator) through the provider, side by side, into
 * the facts document preflight_judge takes.  Batched by scope, never per
 * resource: permissions once per resource group or subscription, locks,
 * deny assignments and resource groups once per subscription, one list per
 * (group, Microsoft.Network type), one policy check per request shape.
 * A read that fails is kept as {"error": "..."} so its check reports
 * "not-run" instead of passing.
 *
 * The APIs (paths and bodies checked against Azure/azure-rest-api-specs):
 *   GET {scope}/providers/Microsoft.Authorization/permissions?api-version=2022-04-01
 *     (authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/authorization-Permissions...)
 *     Permissions - List For Resource Group: the caller's effective actions there, every role
 *     assignment at the group and above included; a resource's differ only by assignments made
 *     at the resource itself, which netwave does not read (docs/preflight.md says so).
 *   GET /subscriptions/{s}/providers/Microsoft.Authorization/locks?api-version=2016-09-01
 *     Management Locks - List At Subscription Level: every lock in the subscription, child scopes
 *     included.
 *   GET /subscriptions/{s}/providers/Microsoft.Authorization/denyAssignments?api-version=2022-04-01
 *   POST {scope}/providers/Microsoft.PolicyInsights/checkPolicyRestrictions?api-version=2022-03-01
 *     body {resourceDetails: {resourceContent, apiVersion}} (policyinsights/.../stable/2022-03-01/
 *     checkPolicyRestrictions.json, example PolicyRestrictions_CheckAtResourceGroupScope.json)
 *   GET /subscriptions/{s}/resourcegroups?api-version=2021-04-01
 *   GET /subscriptions/{s}/providers/{ns}?api-version=2021-04-01 (registrationState)
 *   GET /subscriptions/{s}/providers/Microsoft.Features/providers/{ns}/features/{f}?api-version=2021-07-01
 *   POST {networkManager}/listDeploymentStatus?api-version=... (as apply reads a commit)
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/arm_api.h"
#include "plan/jsonutil.h"
#include "plan/preflight.h"
#include "plan/vec.h"
#include "providers/azure/preflight.h"

/* One read and where its answer goes: facts[member][key]. */
struct pf_read {
	struct provider_op *op;
	const char *member;
	char *key;
	int shape; /* how to keep the answer: enum below */
};

enum { KEEP_AS_IS = 0, KEEP_VALUE, KEEP_NAMES, KEEP_RESOURCES, KEEP_STATE, KEEP_FEATURE, KEEP_DEPLOYMENTS };

struct pf_reads {
	struct pf_read *v;
	size_t n, cap;
};

static int
add_read(struct pf_reads *r, enum provider_op_kind kind, const char *method, const char *path,
    const json_t *body, const char *member, const char *key, int shape, struct nw_err *err)
{
	struct pf_read *x;

	if (VEC_GROW(r->v, &r->cap, r->n + 1) != 0)
		return err_set(err, NW_ENOMEM, "out of memory");
	x = &r->v[r->n];
	x->op = provider_op_new(kind, method, path, body);
	x->member = member;
	/* ids are compared without case; a policy key holds body values, kept as they are */
	x->key = strcmp(member, "policy") == 0 ? strdup(key) : str_lower_dup(key);
	x->shape = shape;
	if (x->op == NULL || x->key == NULL) {
		provider_op_free(x->op);
		free(x->key);
		return err_set(err, NW_ENOMEM, "out of memory");
	}
	/* a POST that only reads may be sent again when a connection drops */
	x->op->idempotent = true;
	r->n++;
	return 0;
}

static int
add_get(struct pf_reads *r, bool list, const char *member, const char *key, int shape, struct nw_err *err,
    const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static int
add_get(struct pf_reads *r, bool list, const char *member, const char *key, int shape, struct nw_err *err,
    const char *fmt, ...)
{
	char path[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(path))
		return err_set(err, NW_EINPUT, "preflight: a path to read is too long (%s)", key);
	return add_read(r, list ? PROVIDER_OP_LIST : PROVIDER_OP_READ, "GET", path, NULL, member, key, shape, err);
}

static int
plan_subscription_reads(struct pf_reads *r, const char *s, struct nw_err *err)
{
	int rc;

	if ((rc = add_get(r, true, "locks", s, KEEP_AS_IS, err,
	    "/subscriptions/%s/providers/Microsoft.Authorization/locks?api-version=%s", s, ARM_API_LOCKS)) != 0 ||
	    (rc = add_get(r, true, "denyAssignments", s, KEEP_AS_IS, err,
	    "/subscriptions/%s/providers/Microsoft.Authorization/denyAssignments?api-version=%s", s,
	    ARM_API_AUTHORIZATION)) != 0)
		return rc;
	return add_get(r, true, "resourceGroups", s, KEEP_NAMES, err, "/subscriptions/%s/resourcegroups?api-version=%s",
	    s, ARM_API_RESOURCES);
}

static int
plan_policy_read(struct pf_reads *r, const json_t *check, struct nw_err *err)
{
	char path[4096];
	json_t *body;
	int rc;

	snprintf(path, sizeof(path), "%s/providers/Microsoft.PolicyInsights/checkPolicyRestrictions?api-version=%s",
	    json_str(check, "scope"), ARM_API_POLICY_INSIGHTS);
	body = json_pack("{s:{s:O,s:s?}}", "resourceDetails", "resourceContent", json_object_get(check, "content"),
	    "apiVersion", json_str(check, "apiVersion"));
	if (body == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	rc = add_read(r, PROVIDER_OP_WRITE, "POST", path, body, "policy", json_str(check, "key"), KEEP_AS_IS, err);
	json_decref(body);
	return rc;
}

static int
plan_reads(struct pf_reads *r, const json_t *reads, struct nw_err *err)
{
	const json_t *x;
	char key[1024];
	size_t i;
	int rc = 0;

	json_array_foreach(json_object_get(reads, "permissionScopes"), i, x)
		if ((rc = add_get(r, true, "permissions", json_string_value(x), KEEP_VALUE, err,
		    "%s/providers/Microsoft.Authorization/permissions?api-version=%s", json_string_value(x),
		    ARM_API_AUTHORIZATION)) != 0)
			return rc;
	json_array_foreach(json_object_get(reads, "subscriptions"), i, x)
		if ((rc = plan_subscription_reads(r, json_string_value(x), err)) != 0)
			return rc;
	json_array_foreach(json_object_get(reads, "policy"), i, x)
		if ((rc = plan_policy_read(r, x, err)) != 0)
			return rc;
	json_array_foreach(json_object_get(reads, "collections"), i, x)
		if ((rc = add_get(r, true, "collections", json_string_value(x), KEEP_RESOURCES, err,
		    "%s?api-version=%s", json_string_value(x), ARM_API_NETWORK)) != 0)
			return rc;
	json_array_foreach(json_object_get(reads, "providers"), i, x) {
		snprintf(key, sizeof(key), "%s/%s", json_str(x, "subscription"), json_str(x, "namespace"));
		if ((rc = add_get(r, false, "providers", key, KEEP_STATE, err, "/subscriptions/%s/providers/%s"
		    "?api-version=%s", json_str(x, "subscription"), json_str(x, "namespace"), ARM_API_RESOURCES)) != 0)
			return rc;
	}
	json_array_foreach(json_object_get(reads, "features"), i, x) {
		snprintf(key, sizeof(key), "%s/%s/%s", json_str(x, "subscription"), json_str(x, "namespace"),
		    json_str(x, "feature"));
		if ((rc = add_get(r, false, "features", key, KEEP_FEATURE, err, "/subscriptions/%s/providers/"
		    "Microsoft.Features/providers/%s/features/%s?api-version=%s", json_str(x, "subscription"),
		    json_str(x, "namespace"), json_str(x, "feature"), ARM_API_FEATURES)) != 0)
			return rc;
	}
	json_array_foreach(json_object_get(reads, "networkManagers"), i, x) {
		json_t *body = json_pack("{s:O,s:[s]}", "regions", json_object_get(x, "regions"), "deploymentTypes",
		    "Connectivity");
		char path[4096];
		snprintf(path, sizeof(path), "%s/listDeploymentStatus?api-version=%s", json_str(x, "id"),
		    ARM_API_NETWORK);
		rc = body == NULL ? err_set(err, NW_ENOMEM, "out of memory") : add_read(r, PROVIDER_OP_POST_LIST,
		    "POST", path, body, "deployments", json_str(x, "id"), KEEP_DEPLOYMENTS, err);
		json_decref(body);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Every resource of a collection answer, and the children embedded in it, by lowercase id. */
static void
keep_resources(json_t *resources, const json_t *items)
{
	const json_t *it, *v, *c;
	const char *k;
	size_t i, j;

	json_array_foreach(items, i, it) {
		char *id = json_str(it, "id") != NULL ? str_lower_dup(json_str(it, "id")) : NULL;
		if (id != NULL)
			json_object_set(resources, id, (json_t *)it);
		free(id);
		json_object_foreach(json_object_get(it, "properties"), k, v)
			json_array_foreach(json_is_array(v) ? v : NULL, j, c) {
				char *cid = json_str(c, "id") != NULL ? str_lower_dup(json_str(c, "id")) : NULL;
				if (cid != NULL && json_object_get(c, "properties") != NULL)
					json_object_set(resources, cid, (json_t *)c);
				free(cid);
			}
	}
}

/* The string field key of each item of a list that has it (new reference). */
static json_t *
pluck(const json_t *items, const char *key)
{
	json_t *out = json_array();
	const json_t *it;
	size_t i;

	json_array_foreach(items, i, it)
		if (json_str(it, key) != NULL)
			json_array_append_new(out, json_string(json_str(it, key)));
	return out;
}

/* What an answer keeps in the facts (new reference). */
static json_t *
keep(const struct pf_read *x, json_t *facts)
{
	const json_t *res = x->op->result;

	switch (x->shape) {
	case KEEP_VALUE:
		return json_pack("{s:O}", "value", res != NULL ? res : json_null());
	case KEEP_NAMES:
		return pluck(res, "name");
	case KEEP_RESOURCES:
		keep_resources(json_object_get(facts, "resources"), res);
		return json_true();
	case KEEP_STATE:
		return json_str(res, "registrationState") != NULL ? json_string(json_str(res, "registrationState")) :
		    json_pack("{s:s}", "error", "the provider has no registrationState");
	case KEEP_FEATURE:
		return json_path_str(res, "properties", "state", NULL) != NULL ?
		    json_string(json_path_str(res, "properties", "state", NULL)) :
		    json_pack("{s:s}", "error", "the feature has no properties.state");
	case KEEP_DEPLOYMENTS:
		return pluck(res, "deploymentStatus");
	default:
		return res != NULL ? json_incref((json_t *)res) : json_null();
	}
}

int
azure_preflight_read(json_t **out, struct provider *p, const json_t *reads, struct nw_err *err)
{
	struct pf_reads r = { 0 };
	struct provider_op **ops = NULL;
	json_t *facts = json_pack("{s:{},s:{},s:{},s:{},s:{},s:{},s:{},s:{},s:{},s:{}}", "permissions", "locks",
	    "denyAssignments", "policy", "resources", "collections", "resourceGroups", "providers", "features",
	    "deployments");
	size_t i;
	int rc;

	*out = NULL;
	if (facts == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	if ((rc = plan_reads(&r, reads, err)) != 0)
		goto done;
	if ((ops = calloc(r.n + 1, sizeof(*ops))) == NULL) {
		rc = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < r.n; i++)
		ops[i] = r.v[i].op;
	if ((rc = provider_run_all(p, ops, r.n, err)) != 0)
		goto done;
	for (i = 0; i < r.n && r.v[i].op->phase != PROVIDER_PHASE_DONE; i++)
		;
	if (r.n > 0 && i == r.n) {
		/* nothing could be read (no token, no network): that is no preflight at all */
		rc = err_set(err, NW_EIO, "cannot read the estate: %s", r.v[0].op->err.msg);
		goto done;
	}
	for (i = 0; i < r.n; i++) {
		const struct pf_read *x = &r.v[i];
		json_t *v;
		if (x->op->phase != PROVIDER_PHASE_DONE && x->op->error.http_status == 404 &&
		    (x->shape == KEEP_DEPLOYMENTS || x->shape == KEEP_RESOURCES))
			/* a network manager or group not there yet runs no commit and holds nothing busy */
			v = x->shape == KEEP_DEPLOYMENTS ? json_array() : json_true();
		else if (x->op->phase != PROVIDER_PHASE_DONE)
			v = json_pack("{s:s,s:i}", "error", x->op->err.msg, "status", x->op->error.http_status);
		else
			v = keep(x, facts);
		json_object_set_new(json_object_get(facts, x->member), x->key, v != NULL ? v : json_null());
	}
	*out = facts;
	facts = NULL;
done:
	for (i = 0; i < r.n; i++) {
		provider_op_free(r.v[i].op);
		free(r.v[i].key);
	}
	free(r.v);
	free(ops);
	json_decref(facts);
	return rc;
}

/* Leaves out the operations of steps already done (a resumed apply sends them no more). */
static void
drop_done(json_t *writes, const json_t *done)
{
	json_t *keep = json_array(), *w;
	size_t i;

	if (done == NULL || json_object_size(done) == 0 || keep == NULL) {
		json_decref(keep);
		return;
	}
	json_array_foreach(writes, i, w) {
		const char *step = json_str(w, "step");
		if (step == NULL || strcmp(json_str(w, "role"), "rollback") == 0 || json_object_get(done, step) == NULL)
			json_array_append(keep, w);
	}
	json_array_clear(writes);
	json_array_extend(writes, keep);
	json_decref(keep);
}

int
azure_preflight_run(json_t **out, struct provider *p, const json_t *plan,
    const struct azure_preflight_opts *o, struct nw_err *err)
{
	struct preflight pf = { 0 };
	struct provider_stats before, after;
	json_t *writes = NULL, *reads = NULL, *facts = NULL, *req = NULL;
	int rc;

	*out = NULL;
	provider_stats_get(p, &before);
	if ((rc = preflight_writes(&writes, plan, err)) != 0)
		goto done;
	drop_done(writes, o->done);
	if ((rc = preflight_reads(&reads, writes, err)) != 0 ||
	    (rc = azure_preflight_read(&facts, p, reads, err)) != 0 ||
	    (rc = preflight_judge(&pf, writes, facts, err)) != 0 ||
	    (rc = preflight_circuits(&pf, o->topology, o->topology_source, writes, err)) != 0)
		goto done;
	preflight_sort(&pf);
	provider_stats_get(p, &after);
	req = json_pack("{s:I,s:I,s:I,s:I}", "reads", (json_int_t)(after.reads - before.reads), "posts",
	    (json_int_t)(after.writes - before.writes), "throttled", (json_int_t)(after.throttled - before.throttled),
	    "retries", (json_int_t)(after.retries - before.retries));
	*out = preflight_to_json(&pf, json_str(plan, "id"), o->checked_at, req);
	if (*out == NULL)
		rc = err_set(err, NW_ENOMEM, "out of memory");
done:
	json_decref(writes);
	json_decref(reads);
	json_decref(facts);
	json_decref(req);
	preflight_clear(&pf);
	return rc;
}
