/*
 * The plan's building blocks (plan_build.h): small helpers on ids, JSON
 * pointers and topologies, the blockers, findings, prerequisites and
 * limits rows, and waves, steps and gates as the plan holds them.  Every
 * procedure builds its part of the plan through these, so a step or a
 * gate has one shape whatever kind makes it.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "plan/plan_build.h"
#include "plan/procedure.h"
#include "plan/vec.h"

void *
plan_ctx_state(const struct plan_ctx *p, const struct procedure *proc)
{
	return p->state[procedure_index(proc)];
}

/* ------------------------------------------------------------------ */
/* Small helpers */

json_t *
plan_jstr(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

char *
plan_strdup_lower(const char *s)
{
	size_t n = strlen(s), i;
	char *d = malloc(n + 1);

	if (d == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		d[i] = (char)tolower((unsigned char)s[i]);
	d[n] = '\0';
	return d;
}

/* A set of ids, compared case-insensitively (a JSON object keyed by the lowercased id). */
int
plan_idset_add(json_t *set, const char *id, json_t *value)
{
	char *k = plan_strdup_lower(id);
	int rc;

	if (k == NULL) {
		json_decref(value);
		return NW_ENOMEM;
	}
	rc = json_object_set_new(set, k, value != NULL ? value : json_true());
	free(k);
	return rc == 0 ? 0 : NW_ENOMEM;
}

json_t *
plan_idset_get(const json_t *set, const char *id)
{
	char buf[1024];
	size_t n = strlen(id), i;

	if (n >= sizeof(buf)) {
		char *k = plan_strdup_lower(id);
		json_t *v = k != NULL ? json_object_get(set, k) : NULL;
		free(k);
		return v;
	}
	for (i = 0; i <= n; i++)
		buf[i] = (char)tolower((unsigned char)id[i]);
	return json_object_get(set, buf);
}

int
plan_vnet_cmp(const void *a, const void *b)
{
	const struct topo_vnet *const *x = a, *const *y = b;

	return topo_id_order((*x)->res->id, (*y)->res->id);
}

int
plan_str_cmp_ci(const void *a, const void *b)
{
	const char *const *x = a, *const *y = b;
	int c = strcasecmp(*x, *y);

	return c != 0 ? c : strcmp(*x, *y);
}

/* The JSON pointer token at position idx (0-based) of p, unescaped into buf; false if none. */
bool
plan_pointer_token(const char *p, size_t idx, char *buf, size_t size)
{
	size_t i = 0;

	if (*p != '/')
		return false;
	for (;;) {
		p++;
		if (i == idx) {
			json_pointer_unescape(p, buf, size);
			return true;
		}
		p = strchr(p, '/');
		if (p == NULL)
			return false;
		i++;
	}
}

/* True when pointer is prefix or lies below it. */
bool
plan_pointer_under(const char *pointer, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(pointer, prefix, n) == 0 && (pointer[n] == '\0' || pointer[n] == '/');
}

/* Parses "/properties/<array>/<index>/rest": the index, and rest ("" when none). */
bool
plan_pointer_child(const char *pointer, const char *array, size_t *index, const char **rest)
{
	char prefix[64];
	size_t n;
	char *end;
	unsigned long v;

	n = (size_t)snprintf(prefix, sizeof(prefix), "/properties/%s/", array);
	if (strncmp(pointer, prefix, n) != 0 || !isdigit((unsigned char)pointer[n]))
		return false;
	v = strtoul(pointer + n, &end, 10);
	if (*end != '\0' && *end != '/')
		return false;
	*index = (size_t)v;
	*rest = end;
	return true;
}

bool
plan_str_in(const char *s, const char *const *set)
{
	for (; s != NULL && *set != NULL; set++)
		if (strcasecmp(s, *set) == 0)
			return true;
	return false;
}

/* The workload subnet gates and rehearsal look at: the first that is not infrastructure. */
const struct topo_subnet *
plan_workload_subnet(const struct topo_vnet *v)
{
	size_t i;

	for (i = 0; i < v->nsubnets; i++)
		if (!v->subnets[i].is_infrastructure)
			return &v->subnets[i];
	return NULL;
}

/* A deterministic mix for samples (splitmix64). */
uint64_t
plan_mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

int
plan_nomem(struct plan_ctx *p)
{
	return err_set(p->err, NW_ENOMEM, "out of memory while planning");
}

/* Appends row o (stolen; NULL after out of memory) to arr, naming resource when there is one. */
static void
row_append(json_t *arr, json_t *o, const char *resource)
{
	if (o != NULL && resource != NULL)
		json_object_set_new(o, "resource", json_string(resource));
	json_array_append_new(arr, o);
}

void
plan_blocker(struct plan_ctx *p, const char *code, const char *resource, const char *fmt, ...)
{
	json_t *msg;
	va_list ap;

	va_start(ap, fmt);
	msg = json_vsprintf(fmt, ap);
	va_end(ap);
	row_append(p->blockers, json_pack("{s:s, s:o}", "code", code, "message", msg), resource);
}

void
plan_finding(struct plan_ctx *p, const char *severity, const char *code, const char *resource,
    const char *fmt, ...)
{
	json_t *msg;
	va_list ap;

	va_start(ap, fmt);
	msg = json_vsprintf(fmt, ap);
	va_end(ap);
	row_append(p->findings, json_pack("{s:s, s:s, s:o}", "severity", severity, "code", code,
	    "message", msg), resource);
}

void
plan_prereq(struct plan_ctx *p, const char *code, const char *fmt, ...)
{
	json_t *msg;
	va_list ap;

	va_start(ap, fmt);
	msg = json_vsprintf(fmt, ap);
	va_end(ap);
	json_array_append_new(p->prereqs, json_pack("{s:s, s:o}", "code", code, "message", msg));
}

/* A row of the limits table: the value this plan reaches against a limit of plan/limits.h. */
void
plan_limit_row(struct plan_ctx *p, enum limit_id id, long value, const char *resource)
{
	const struct limit_def *m = limit_get(id);

	row_append(p->limits, json_pack("{s:s, s:s, s:I, s:I, s:s}", "limit", m->key, "what", m->what,
	    "value", (json_int_t)value, "max", (json_int_t)m->value, "source", m->source), resource);
}

/* Starts a wave; the pointer stays valid until the next wave_new. */
struct wave *
plan_wave_new(struct plan_ctx *p, const struct wave_kind_def *kind, const char *name)
{
	struct wave *w;

	if (VEC_GROW(p->w, &p->capw, p->nw + 1) != 0)
		return NULL;
	w = &p->w[p->nw];
	memset(w, 0, sizeof(*w));
	w->obj = json_pack("{s:[], s:[], s:[], s:[]}", "steps", "gates", "members", "risks");
	w->chains = json_object();
	w->fx_put = json_array();
	if (w->obj == NULL || w->chains == NULL || w->fx_put == NULL) {
		plan_wave_free(w);
		return NULL;
	}
	w->steps = json_object_get(w->obj, "steps");
	w->gates = json_object_get(w->obj, "gates");
	w->members = json_object_get(w->obj, "members");
	w->risks = json_object_get(w->obj, "risks");
	w->kind = kind;
	snprintf(w->name, sizeof(w->name), "%s", name);
	w->index = (int)p->nw;
	p->nw++;
	return w;
}

void
plan_wave_free(struct wave *w)
{
	json_decref(w->obj);
	json_decref(w->chains);
	json_decref(w->fx_put);
	json_decref(w->fx_deploy);
	json_decref(w->shared);
	free(w->vnets);
	free(w->gws);
}

void
plan_wave_risk(struct wave *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	json_array_append_new(w->risks, json_vsprintf(fmt, ap));
	va_end(ap);
}

void
plan_wave_rollback(struct wave *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	json_object_set_new(w->obj, "rollback", json_vsprintf(fmt, ap));
	va_end(ap);
}

int
plan_wave_add_vnet(struct wave *w, size_t idx)
{
	size_t *n = realloc(w->vnets, (w->nvnets + 1) * sizeof(*n));

	if (n == NULL)
		return NW_ENOMEM;
	w->vnets = n;
	w->vnets[w->nvnets++] = idx;
	return 0;
}

int
plan_wave_add_gw(struct wave *w, const struct topo_gateway *g)
{
	const struct topo_gateway **n = realloc(w->gws, (w->ngws + 1) * sizeof(*n));

	if (n == NULL)
		return NW_ENOMEM;
	w->gws = n;
	w->gws[w->ngws++] = g;
	return 0;
}

json_t *
plan_op_new(const char *method, const char *path, const char *api, json_t *body)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "method", method, "path", path, "apiVersion", api);

	if (o != NULL && body != NULL)
		json_object_set_new(o, "body", body);
	else
		json_decref(body);
	return o;
}

/* An inverse that needs nothing sent (a read, or a repeat of an idempotent action). */
json_t *
plan_op_none(const char *why)
{
	return json_pack("{s:s, s:s}", "method", "NONE", "reason", why);
}

json_t *
plan_expect_eq(const char *pointer, const char *value)
{
	return json_pack("{s:s, s:s}", "pointer", pointer, "equals", value);
}

/* Appends a step to w; returns it (borrowed) or NULL on out of memory. */
json_t *
plan_step_add(struct wave *w, struct step_spec *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * The member key of o made the wave's one string of that text (w->shared,
 * made on first use).  A wave's steps repeat a few values thousands of
 * times on a large estate (procedure, action, method, api-version, the
 * expected values), and a string in the plan is never modified, so one
 * value serves them all: on the bench estate's 15,000 steps, the copies
 * were a tenth of the plan's memory.  A string with a NUL is left as is.
 */
static void
step_share(struct wave *w, json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key), *one;
	const char *text = json_string_value(v);

	if (text == NULL || strlen(text) != json_string_length(v))
		return;
	if (w->shared == NULL && (w->shared = json_object()) == NULL)
		return;
	one = json_object_get(w->shared, text);
	if (one == NULL)
		json_object_set(w->shared, text, v);
	else if (one != v)
		json_object_set(o, key, one);
}

/* An operation's repeated strings shared, and its path the step's resource when they are equal. */
static void
step_share_op(struct wave *w, json_t *op, json_t *resource)
{
	if (!json_is_object(op))
		return;
	step_share(w, op, "method");
	step_share(w, op, "apiVersion");
	if (json_equal(json_object_get(op, "path"), resource))
		json_object_set(op, "path", resource);
}

/* The step's values that repeat from step to step, each one string (step_share). */
static void
step_share_all(struct wave *w, json_t *st)
{
	json_t *resource = json_object_get(st, "resource"), *e;
	size_t i;

	step_share(w, st, "procedure");
	step_share(w, st, "action");
	if (json_equal(json_object_get(st, "serializeKey"), resource))
		json_object_set(st, "serializeKey", resource);
	step_share_op(w, json_object_get(st, "operation"), resource);
	step_share_op(w, json_object_get(st, "inverse"), resource);
	json_array_foreach(json_object_get(st, "expect"), i, e) {
		if (json_is_object(e)) {
			step_share(w, e, "pointer");
			step_share(w, e, "equals");
		}
	}
}

json_t *
plan_step_add(struct wave *w, struct step_spec *s, const char *fmt, ...)
{
	char id[32], desc[2048];
	va_list ap;
	json_t *st;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	w->nsteps++;
	snprintf(id, sizeof(id), "w%02d-s%04u", w->index + 1, w->nsteps);
	st = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:i, s:i}",
	    "id", id, "procedure", s->procedure, "action", s->action, "description", desc,
	    "resource", s->resource, "serializeKey", s->serialize ? s->serialize : s->resource,
	    "irreversible", s->inverse == NULL, "longRunning", s->lro, "maintenanceWindow", s->mw,
	    "reads", s->reads, "writes", s->writes);
	if (st == NULL || s->op == NULL) {
		json_decref(st);
		json_decref(s->op);
		json_decref(s->inverse);
		json_decref(s->expect);
		json_decref(s->depends);
		return NULL;
	}
	json_object_set_new(st, "operation", s->op);
	json_object_set_new(st, "inverse", s->inverse != NULL ? s->inverse : json_null());
	json_object_set_new(st, "dependsOn", s->depends != NULL ? s->depends : json_array());
	json_object_set_new(st, "expect", s->expect != NULL ? s->expect : json_array());
	step_share_all(w, st);
	if (s->seconds > 0) {
		const char *key = s->serialize ? s->serialize : s->resource;
		json_int_t prev = json_integer_value(json_object_get(w->chains, key));
		json_object_set_new(st, "durationSeconds", json_integer(s->seconds));
		json_object_set_new(w->chains, key, json_integer(prev + s->seconds));
	}
	if (json_array_append_new(w->steps, st) != 0)
		return NULL;
	w->writes += s->writes;
	w->reads += s->reads;
	if (s->mw)
		w->mw = true;
	return st;
}

const char *
plan_step_id(const json_t *st)
{
	return json_str(st, "id");
}

/* Appends a gate to w; params and budget stolen. */
int
plan_gate_add(struct wave *w, const struct gate_kind_def *kind, const char *when, json_t *params, int reads,
    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

int
plan_gate_add(struct wave *w, const struct gate_kind_def *kind, const char *when, json_t *params, int reads,
    const char *fmt, ...)
{
	char id[32], desc[2048];
	va_list ap;
	json_t *g;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	w->ngates++;
	snprintf(id, sizeof(id), "w%02d-g%02u", w->index + 1, w->ngates);
	g = json_pack("{s:s, s:s, s:s, s:s, s:i, s:{s:i, s:i, s:i}}", "id", id, "kind", gate_kind_name(kind),
	    "when", when, "description", desc, "reads", reads, "budget", "failures", 0,
	    "inconclusive", 0, "errors", 1);
	if (g == NULL || params == NULL) {
		json_decref(g);
		json_decref(params);
		return NW_ENOMEM;
	}
	json_object_set_new(g, "params", params);
	if (json_array_append_new(w->gates, g) != 0)
		return NW_ENOMEM;
	w->gate_reads += reads;
	return 0;
}

/* ------------------------------------------------------------------ */
/* JSON and topology queries the procedures share */

json_t *
plan_sorted_keys(const json_t *obj)
{
	return json_object_keys_sorted(obj, plan_str_cmp_ci);
}

bool
plan_ids_has(const json_t *arr, const char *id)
{
	return json_array_has_str(arr, id, topo_id_compare);
}

const char *
plan_window_text(const struct plan_ctx *p, char *buf, size_t size)
{
	if (p->ro.has_maintenance_window && p->ro.window_start != NULL)
		snprintf(buf, size, "the maintenance window starting %s (%ld minutes)", p->ro.window_start,
		    p->ro.window_seconds / 60);
	else
		snprintf(buf, size, "a maintenance window (the rollout gives none: schedule one)");
	return buf;
}

/* The configurations a topology has deployed for (manager, region), type Connectivity. */
const struct topo_deployment *
plan_find_deployment(const struct topology *t, const char *nm, const char *region)
{
	size_t i;

	for (i = 0; i < t->ndeployments; i++) {
		const struct topo_deployment *d = &t->deployments[i];
		if (d->manager_id != NULL && d->region != NULL && d->config_type != NULL &&
		    topo_id_compare(d->manager_id, nm) == 0 && strcasecmp(d->region, region) == 0 &&
		    strcasecmp(d->config_type, "Connectivity") == 0)
			return d;
	}
	return NULL;
}

bool
plan_deployment_has(const struct topo_deployment *d, const char *config)
{
	size_t i;

	for (i = 0; d != NULL && i < d->nconfigs; i++)
		if (topo_id_compare(d->config_ids[i], config) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* Gateways: circuits they share, spokes that use them */

bool
plan_gw_shares_circuit(const struct topo_gateway *a, const struct topo_gateway *b)
{
	size_t i, k;

	for (i = 0; i < a->nconnections; i++)
		for (k = 0; k < b->nconnections; k++) {
			const char *x = a->connections[i]->peer_id, *y = b->connections[k]->peer_id;
			if (x != NULL && y != NULL && topo_id_compare(x, y) == 0)
				return true;
		}
	return false;
}

/* Spokes that reach on-premises through this gateway (gateway transit), by id. */
size_t
plan_gw_spokes(const struct plan_ctx *p, const struct topo_gateway *g, const struct topo_vnet **out, size_t max)
{
	size_t i, k, n = 0, total = 0;

	if (g->vnet == NULL)
		return 0;
	for (i = 0; i < p->cur->nvnets; i++) {
		const struct topo_vnet *v = &p->cur->vnets[i];
		for (k = 0; k < v->npeerings; k++)
			if (v->peerings[k].use_remote_gateways && v->peerings[k].remote == g->vnet) {
				if (n < max)
					out[n++] = v;
				total++;
				break;
			}
	}
	return total;
}
