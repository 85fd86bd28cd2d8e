/*
 * Preflight, first half: the writes a stored plan sends and what must be
 * read to judge them (batched by scope), the findings list and the
 * netwave.preflight/v1 document.  The judges are in preflight_judge.c,
 * the reads in providers/azure/preflight.c.  Pure.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/actions.h"
#include "plan/arm_api.h"
#include "plan/jsonutil.h"
#include "plan/kinds.h"
#include "plan/preflight.h"
#include "plan/vec.h"

const char *
pf_severity_name(enum pf_severity s)
{
	static const char *const names[] = { "info", "warning", "blocker" };

	return (unsigned)s < 3 ? names[s] : "?";
}

/* Copies the path without its query and lowercases nothing (ids keep their case). */
static void
path_clean(char *buf, size_t size, const char *path)
{
	size_t n = strcspn(path, "?");

	if (n >= size)
		n = size - 1;
	memcpy(buf, path, n);
	buf[n] = '\0';
}

/*
 * The subscription and group of a path: "/subscriptions/S/resourceGroups/G/..."
 * (either may come back empty).
 */
static void
path_split(const char *path, char *sub, size_t ssize, char *rg, size_t rsize)
{
	const char *p = path, *e;

	sub[0] = rg[0] = '\0';
	if (strncasecmp(p, "/subscriptions/", 15) != 0)
		return;
	p += 15;
	e = p + strcspn(p, "/");
	snprintf(sub, ssize, "%.*s", (int)(e - p), p);
	if (strncasecmp(e, "/resourceGroups/", 16) != 0)
		return;
	p = e + 16;
	e = p + strcspn(p, "/");
	snprintf(rg, rsize, "%.*s", (int)(e - p), p);
}

/* True when path is a resource group itself (".../resourceGroups/G" and nothing after). */
static bool
path_is_group(const char *path)
{
	char sub[128], rg[256], want[512];

	path_split(path, sub, sizeof(sub), rg, sizeof(rg));
	if (rg[0] == '\0')
		return false;
	snprintf(want, sizeof(want), "/subscriptions/%s/resourceGroups/%s", sub, rg);
	return strcasecmp(want, path) == 0;
}

/* The groups the plan creates: {"/subscriptions/s/resourcegroups/g": true} (lowercase). */
static json_t *
created_groups(const json_t *plan)
{
	json_t *out = json_object(), *w, *s;
	size_t i, k;
	char buf[1024];

	if (out == NULL)
		return NULL;
	json_array_foreach(json_object_get(plan, "waves"), i, w) {
		json_array_foreach(json_object_get(w, "steps"), k, s) {
			const json_t *op = json_object_get(s, "operation");
			const char *m = json_str(op, "method"), *p = json_str(op, "path");
			if (m == NULL || p == NULL || strcmp(m, "PUT") != 0 || !path_is_group(p))
				continue;
			path_clean(buf, sizeof(buf), p);
			str_lower(buf, sizeof(buf), buf);
			json_object_set_new(out, buf, json_true());
		}
	}
	return out;
}

/* One write as preflight_writes lists it. */
static int
write_add(json_t *out, const json_t *created, const json_t *step, const char *wave_kind,
    const char *role, const json_t *op, struct nw_err *err)
{
	const char *m = json_str(op, "method"), *p = json_str(op, "path"), *id = json_str(step, "id");
	char path[2048], perm[512], sub[128], rg[256], scope[512], key[512];
	json_t *w;
	bool group;

	if ((m == NULL || p == NULL) && strcmp(role, PF_ROLE_ROLLBACK) == 0)
		return 0; /* an inverse that sends nothing */
	if (m == NULL || p == NULL)
		return err_set(err, NW_EINPUT, "step %s: its %s operation has no method or path",
		    id != NULL ? id : "?", role);
	if (strcmp(m, "GET") == 0 || strcmp(m, "NONE") == 0)
		return 0;
	path_clean(path, sizeof(path), p);
	if (action_permission(m, path, perm, sizeof(perm), err) != 0) {
		err_prefix(err, "step %s", id != NULL ? id : "?");
		return NW_EINPUT;
	}
	path_split(path, sub, sizeof(sub), rg, sizeof(rg));
	group = path_is_group(path);
	snprintf(key, sizeof(key), "/subscriptions/%s/resourcegroups/%s", sub, rg);
	str_lower(key, sizeof(key), key);
	/* a group that does not exist yet has no permissions of its own: its subscription's apply */
	if (rg[0] != '\0' && !group && json_object_get(created, key) == NULL)
		snprintf(scope, sizeof(scope), "/subscriptions/%s/resourceGroups/%s", sub, rg);
	else
		snprintf(scope, sizeof(scope), "/subscriptions/%s", sub);
	w = json_pack("{s:s?,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "step", id, "wave", wave_kind, "role", role,
	    "method", m, "path", path, "permission", perm, "permissionScope", scope, "subscription", sub,
	    "createsGroup", group && strcmp(m, "PUT") == 0);
	if (w == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	if (rg[0] != '\0')
		json_object_set_new(w, "resourceGroup", json_string(rg));
	if (json_str(op, "apiVersion") != NULL)
		json_object_set(w, "apiVersion", json_object_get(op, "apiVersion"));
	if (json_object_get(op, "body") != NULL)
		json_object_set(w, "body", json_object_get(op, "body"));
	if (json_array_append_new(out, w) != 0)
		return err_set(err, NW_ENOMEM, "out of memory");
	return 0;
}

int
preflight_writes(json_t **out, const json_t *plan, struct nw_err *err)
{
	json_t *list = json_array(), *created = created_groups(plan), *w, *s;
	size_t i, k;
	int rc = 0;

	*out = NULL;
	if (list == NULL || created == NULL) {
		rc = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	json_array_foreach(json_object_get(plan, "waves"), i, w) {
		const char *kind = json_str(w, "kind");
		bool decom = wave_kind_has(kind, WAVE_KIND_DECOMMISSION);
		json_array_foreach(json_object_get(w, "steps"), k, s) {
			const json_t *inv = json_object_get(s, "inverse");
			if ((rc = write_add(list, created, s, kind != NULL ? kind : "", decom ? PF_ROLE_DECOMMISSION :
			    PF_ROLE_FORWARD, json_object_get(s, "operation"), err)) != 0)
				goto done;
			if (json_is_object(inv) && (rc = write_add(list, created, s, kind != NULL ? kind : "",
			    PF_ROLE_ROLLBACK, inv, err)) != 0)
				goto done;
		}
	}
	*out = list;
	list = NULL;
done:
	json_decref(list);
	json_decref(created);
	return rc;
}

/* "Microsoft.Network/virtualNetworks/subnets" of ".../providers/Microsoft.Network/virtualNetworks/v/subnets/s". */
static bool
path_type(char *buf, size_t size, const char *path)
{
	const char *p = strcasestr(path, "/providers/"), *q;
	size_t n = 0;
	int seg = 0;

	if (p == NULL)
		return false;
	for (p += 11; *p != '\0' && n + 1 < size; seg++) {
		q = p + strcspn(p, "/");
		if (seg == 0 || seg % 2 == 1) { /* the namespace, then every type segment */
			n += (size_t)snprintf(buf + n, size - n, "%s%.*s", n > 0 ? "/" : "", (int)(q - p), p);
			if (n >= size)
				return false;
		}
		p = *q == '/' ? q + 1 : q;
	}
	buf[n < size ? n : size - 1] = '\0';
	return seg >= 3;
}

/* The body with ids replaced by their type and names by a placeholder (new reference). */
static json_t *
shape_of(const json_t *v, const char *key)
{
	const char *k;
	json_t *x, *out;
	size_t i;
	char type[512];

	if (json_is_string(v)) {
		if (strncasecmp(json_string_value(v), "/subscriptions/", 15) == 0)
			return json_string(path_type(type, sizeof(type), json_string_value(v)) ? type : "<id>");
		if (key != NULL && strcmp(key, "name") == 0)
			return json_string("<name>");
		return json_deep_copy(v);
	}
	if (json_is_array(v)) {
		out = json_array();
		json_array_foreach(v, i, x)
			json_array_append_new(out, shape_of(x, NULL));
		return out;
	}
	if (json_is_object(v)) {
		out = json_object();
		json_object_foreach((json_t *)v, k, x)
			json_object_set_new(out, k, shape_of(x, k));
		return out;
	}
	return json_deep_copy(v);
}

char *
preflight_policy_key(const char *scope, const char *type, const json_t *body)
{
	json_t *shape = body != NULL ? shape_of(body, NULL) : json_null();
	char *text = shape != NULL ? json_dumps(shape, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
	char *key = NULL;
	char ls[512], lt[256];

	if (text != NULL && asprintf(&key, "%s|%s|%s", str_lower(ls, sizeof(ls), scope), str_lower(lt, sizeof(lt), type),
	    text) < 0)
		key = NULL;
	free(text);
	json_decref(shape);
	return key;
}

/* Adds s to the set (an object used as a sorted set). */
static void
set_add(json_t *set, const char *s, json_t *value)
{
	if (json_object_get(set, s) == NULL)
		json_object_set_new(set, s, value != NULL ? value : json_true());
	else
		json_decref(value);
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of a set, sorted (new reference). */
static json_t *
set_keys(const json_t *set)
{
	return json_object_keys_sorted(set, str_cmp);
}

/* The values of a set, in key order. */
static json_t *
set_values(const json_t *set)
{
	json_t *keys = set_keys(set), *out = json_array(), *k;
	size_t i;

	json_array_foreach(keys, i, k)
		json_array_append(out, json_object_get(set, json_string_value(k)));
	json_decref(keys);
	return out;
}

/* The policy check of one write: PUTs with a body, and resources a step creates. */
static void
reads_policy(json_t *policy, const json_t *w)
{
	const char *path = json_str(w, "path");
	const json_t *body = json_object_get(w, "body");
	char type[512], scope[512], *key;
	json_t *content, *entry;

	if (strcmp(json_str(w, "method"), "PUT") != 0 || strcmp(json_str(w, "role"), PF_ROLE_ROLLBACK) == 0 ||
	    !json_is_object(body))
		return;
	if (path_is_group(path))
		snprintf(type, sizeof(type), "Microsoft.Resources/subscriptions/resourceGroups");
	else if (!path_type(type, sizeof(type), path))
		return;
	/* the group's, or the subscription's when the group is new (it has no policy scope yet) */
	snprintf(scope, sizeof(scope), "%s", json_str(w, "permissionScope"));
	if ((key = preflight_policy_key(scope, type, body)) == NULL)
		return;
	entry = json_object_get(policy, key);
	if (entry == NULL) {
		content = json_deep_copy(body);
		json_object_set_new(content, "type", json_string(type));
		json_object_set_new(content, "name", json_string(arm_id_name(path)));
		entry = json_pack("{s:s,s:s,s:s,s:s,s:s?,s:o,s:[]}", "key", key, "scope", scope, "type", type,
		    "resource", path, "apiVersion", json_str(w, "apiVersion"), "content", content, "steps");
		json_object_set_new(policy, key, entry);
	}
	if (entry != NULL && json_str(w, "step") != NULL)
		json_array_append(json_object_get(entry, "steps"), json_object_get(w, "step"));
	free(key);
}

bool
preflight_top_resource(char *id, size_t isize, char *coll, size_t csize, const char *path)
{
	const char *p = strcasestr(path, "/providers/"), *e;
	int seg;

	if (p == NULL)
		return false;
	e = p + 11;
	for (seg = 0; seg < 3 && *e != '\0'; seg++) {
		e += strcspn(e, "/");
		if (seg < 2 && *e == '/')
			e++;
	}
	if (seg < 3)
		return false;
	snprintf(id, isize, "%.*s", (int)(e - path), path);
	/* the collection: the id without its last segment */
	snprintf(coll, csize, "%.*s", (int)(strrchr(id, '/') - id), id);
	return true;
}

/* The provider register / feature register a write is, or neither. */
static void
reads_registration(json_t *providers, json_t *features, const json_t *w, const char *sub)
{
	const char *path = json_str(w, "path"), *f;
	char ns[256], feat[256], key[1024];

	if (sscanf(path, "/subscriptions/%*[^/]/providers/Microsoft.Features/providers/%255[^/]/features/%255[^/]",
	    ns, feat) == 2) {
		snprintf(key, sizeof(key), "%s/%s/%s", sub, ns, feat);
		str_lower(key, sizeof(key), key);
		set_add(features, key, json_pack("{s:s,s:s,s:s}", "subscription", sub, "namespace", ns,
		    "feature", feat));
		return;
	}
	if ((f = strcasestr(path, "/providers/")) != NULL && sscanf(f, "/providers/%255[^/]", ns) == 1 &&
	    strcasecmp(ns, "Microsoft.Features") != 0 && strcasecmp(ns, "Microsoft.Authorization") != 0) {
		snprintf(key, sizeof(key), "%s/%s", sub, ns);
		str_lower(key, sizeof(key), key);
		set_add(providers, key, json_pack("{s:s,s:s}", "subscription", sub, "namespace", ns));
	}
}

int
preflight_reads(json_t **out, const json_t *writes, struct nw_err *err)
{
	json_t *scopes = json_object(), *subs = json_object(), *policy = json_object(), *colls = json_object();
	json_t *providers = json_object(), *features = json_object(), *nms = json_object(), *w;
	char id[2048], coll[2048], nmkey[2048];
	size_t i;
	int rc = 0;

	*out = NULL;
	json_array_foreach(writes, i, w) {
		const char *sub = json_str(w, "subscription"), *rg = json_str(w, "resourceGroup");
		const char *path = json_str(w, "path"), *m = json_str(w, "method");
		if (sub == NULL || path == NULL || m == NULL)
			return err_set(err, NW_EINPUT, "write %zu has no subscription, path or method", i);
		/* ARM documents the permissions list for groups and resources only (Permissions -
		 * List For Resource Group / For Resource): subscription-level writes are not read */
		if (rg != NULL && !json_is_true(json_object_get(w, "createsGroup")) &&
		    strcasestr(json_str(w, "permissionScope"), "/resourceGroups/") != NULL)
			set_add(scopes, json_str(w, "permissionScope"), NULL);
		set_add(subs, sub, NULL);
		reads_policy(policy, w);
		reads_registration(providers, features, w, sub);
		if (rg != NULL && preflight_top_resource(id, sizeof(id), coll, sizeof(coll), path) &&
		    strcasestr(id, "/providers/Microsoft.Network/") != NULL)
			set_add(colls, coll, NULL);
		if (action_kind_find(path) != NULL && action_kind_find(path)->id == ACTION_COMMIT &&
		    strcmp(m, "POST") == 0 && preflight_top_resource(id, sizeof(id), coll, sizeof(coll), path)) {
			const json_t *regions = json_path(w, "body", "targetLocations", NULL);
			str_lower(nmkey, sizeof(nmkey), id);
			set_add(nms, nmkey, json_pack("{s:s,s:o}", "id", id, "regions",
			    json_is_array(regions) ? json_deep_copy(regions) : json_array()));
		}
	}
	*out = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "permissionScopes", set_keys(scopes),
	    "subscriptions", set_keys(subs), "policy", set_values(policy), "collections", set_keys(colls),
	    "providers", set_values(providers), "features", set_values(features),
	    "networkManagers", set_values(nms));
	if (*out == NULL)
		rc = err_set(err, NW_ENOMEM, "out of memory");
	json_decref(scopes);
	json_decref(subs);
	json_decref(policy);
	json_decref(colls);
	json_decref(providers);
	json_decref(features);
	json_decref(nms);
	return rc;
}

int
preflight_add(struct preflight *pf, enum pf_severity sev, const char *code, const char *check,
    const char *resource, const char *scope, const char *step, struct nw_err *err,
    const char *fix, const char *fmt, ...)
{
	struct pf_finding *f;
	va_list ap;
	int n;

	if (VEC_GROW(pf->v, &pf->cap, pf->n + 1) != 0)
		return err_set(err, NW_ENOMEM, "out of memory");
	f = &pf->v[pf->n];
	memset(f, 0, sizeof(*f));
	f->severity = sev;
	f->code = code;
	f->check = strdup(check);
	f->resource = strdup(resource != NULL ? resource : "");
	f->scope = scope != NULL ? strdup(scope) : NULL;
	f->fix = fix != NULL ? strdup(fix) : NULL;
	f->steps = json_array();
	if (step != NULL)
		json_array_append_new(f->steps, json_string(step));
	va_start(ap, fmt);
	n = vasprintf(&f->message, fmt, ap);
	va_end(ap);
	pf->n++;
	if (n < 0 || f->check == NULL || f->resource == NULL || f->steps == NULL ||
	    (scope != NULL && f->scope == NULL) || (fix != NULL && f->fix == NULL)) {
		if (n < 0)
			f->message = NULL;
		return err_set(err, NW_ENOMEM, "out of memory");
	}
	pf->by_severity[sev]++;
	return 0;
}

int
preflight_check_note(struct preflight *pf, const char *name, bool ran, const char *detail, struct nw_err *err)
{
	if (pf->checks == NULL && (pf->checks = json_array()) == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	if (json_array_append_new(pf->checks, json_pack("{s:s,s:s,s:s}", "name", name, "status",
	    ran ? "ran" : "not-run", "detail", detail != NULL ? detail : "")) != 0)
		return err_set(err, NW_ENOMEM, "out of memory");
	return 0;
}

static int
finding_cmp(const void *a, const void *b)
{
	const struct pf_finding *x = a, *y = b;
	int c;

	if (x->severity != y->severity)
		return x->severity > y->severity ? -1 : 1;
	if ((c = strcmp(x->code, y->code)) != 0)
		return c;
	if ((c = strcmp(x->resource, y->resource)) != 0)
		return c;
	return strcmp(x->message != NULL ? x->message : "", y->message != NULL ? y->message : "");
}

void
preflight_sort(struct preflight *pf)
{
	if (pf->n > 1)
		qsort(pf->v, pf->n, sizeof(pf->v[0]), finding_cmp);
}

json_t *
preflight_to_json(const struct preflight *pf, const char *plan_id, const char *checked_at,
    const json_t *requests)
{
	json_t *doc, *list = json_array();
	size_t i;

	for (i = 0; list != NULL && i < pf->n; i++) {
		const struct pf_finding *f = &pf->v[i];
		json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s,s:s*,s:s,s:s*,s:O}", "severity",
		    pf_severity_name(f->severity), "code", f->code, "check", f->check, "resource", f->resource,
		    "scope", f->scope, "message", f->message != NULL ? f->message : "", "fix", f->fix,
		    "steps", f->steps));
	}
	doc = json_pack("{s:s,s:s,s:s,s:b,s:{s:I,s:I,s:I,s:I},s:O,s:o}", "format", PREFLIGHT_FORMAT,
	    "plan", plan_id != NULL ? plan_id : "", "checkedAt", checked_at != NULL ? checked_at : "",
	    "ok", pf->by_severity[PF_BLOCKER] == 0, "summary", "blockers",
	    (json_int_t)pf->by_severity[PF_BLOCKER], "warnings", (json_int_t)pf->by_severity[PF_WARNING],
	    "info", (json_int_t)pf->by_severity[PF_INFO], "writes", (json_int_t)pf->writes,
	    "checks", pf->checks != NULL ? pf->checks : json_array(), "findings", list);
	if (doc != NULL && requests != NULL)
		json_object_set(doc, "requests", (json_t *)requests);
	return doc;
}

void
preflight_print(FILE *f, const json_t *doc)
{
	static const char *const heads[] = { "blocker", "warning", "info" };
	const json_t *sum = json_object_get(doc, "summary"), *x, *c;
	size_t h, i;

	fprintf(f, "preflight of plan %s: %lld blocker(s), %lld warning(s), %lld info, %lld write(s) judged\n",
	    json_str(doc, "plan"), json_integer_value(json_object_get(sum, "blockers")),
	    json_integer_value(json_object_get(sum, "warnings")), json_integer_value(json_object_get(sum, "info")),
	    json_integer_value(json_object_get(sum, "writes")));
	for (h = 0; h < 3; h++) {
		bool head = false;
		json_array_foreach(json_object_get(doc, "findings"), i, x) {
			if (strcmp(json_str(x, "severity"), heads[h]) != 0)
				continue;
			if (!head)
				fprintf(f, "%ss:\n", heads[h]);
			head = true;
			fprintf(f, "  %s  %s\n    %s\n", json_str(x, "code"), json_str(x, "resource"), json_str(x, "message"));
			if (json_str(x, "scope") != NULL)
				fprintf(f, "    scope: %s\n", json_str(x, "scope"));
			if (json_str(x, "fix") != NULL)
				fprintf(f, "    fix: %s\n", json_str(x, "fix"));
		}
	}
	fprintf(f, "checks:\n");
	json_array_foreach(json_object_get(doc, "checks"), i, c)
		fprintf(f, "  %-12s %-8s %s\n", json_str(c, "name"), json_str(c, "status"), json_str(c, "detail"));
}

void
preflight_clear(struct preflight *pf)
{
	size_t i;

	for (i = 0; i < pf->n; i++) {
		free(pf->v[i].check);
		free(pf->v[i].resource);
		free(pf->v[i].scope);
		free(pf->v[i].message);
		free(pf->v[i].fix);
		json_decref(pf->v[i].steps);
	}
	free(pf->v);
	json_decref(pf->checks);
	memset(pf, 0, sizeof(*pf));
}
