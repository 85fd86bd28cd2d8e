/*
 * The planner (see planner.h): current and target topologies in, a
 * netwave.plan/v1 document out.  It sits between the diff and the plan
 * store: `netwave plan` loads (or expands) the topologies, calls
 * planner_plan, and stores what comes out when nothing blocks it.
 *
 * How it works, in the order of planner_plan:
 *  1. diff the two topologies;
 *  2. find what each procedure has to do: avnm-mesh from the target's
 *     mesh connectivity configurations, the others from the differences;
 *  3. classify every difference; each procedure claims the ones it
 *     carries out, and whatever is left unclaimed blocks the plan;
 *  4. check the platform limits and prerequisites (blockers, findings,
 *     the limits table);
 *  5. build the waves, in phase order: prepare, HSPE batches, mesh waves,
 *     gateway migrations, summarization, decommission; every step an ARM
 *     operation with its inverse (or marked irreversible);
 *  6. rehearse the waves on the route engine, one topology per state, and
 *     attach the gates that need the rehearsed routes;
 *  7. estimate reads, writes and time under the write budget, and wrap up
 *     the summary and the plan id.
 *
 * Step bodies are built from the current resource with only that step's
 * change applied, never from the whole target resource: the target is the
 * state after every wave, and a VNet PUT made from it in an early wave
 * would already delete the peerings the decommission wave removes.
 */
#include "config.h"

#include <assert.h>
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/arm_api.h"
#include "plan/cidr.h"
#include "plan/diff.h"
#include "plan/findings.h"
#include "plan/gwmigrate.h"
#include "plan/intent.h"
#include "plan/jsonutil.h"
#include "plan/kinds.h"
#include "plan/cost.h"
#include "plan/limits.h"
#include "plan/plan_json.h"
#include "plan/planner.h"
#include "plan/report.h"
#include "plan/rgroups.h"
#include "plan/routes.h"
#include "plan/topology.h"

#define API_NETWORK ARM_API_NETWORK
#define API_FEATURES ARM_API_FEATURES
#define API_PROVIDERS ARM_API_RESOURCES

#define FEATURE_NS "Microsoft.Network"
#define FEATURE_HIGH_SCALE "AllowHighScaleConnectedGroup"
#define FEATURE_HSPE "EnableMaxPrivateEndpointsVia64kPath"

/* seeds/003: prepare "typically takes up to 45 minutes", the cutover "up to 15 minutes" (plan/cost.c). */
#define SECONDS_PREPARE COST_PREPARE_MIGRATION_SECONDS
#define SECONDS_EXECUTE COST_EXECUTE_MIGRATION_SECONDS

/* Listed in full up to this many; the JSON always has everything. */
#define MAX_OVERLAP_FINDINGS 20

/* Upper bound on flows examined to name a pair a wave cuts off. */
#define MAX_PAIR_SEARCH 4000000

enum proc { PROC_MESH, PROC_GATEWAY, PROC_SUMMARIZE, PROC_COUNT };

static const char *const proc_name[PROC_COUNT] = {
	"avnm-mesh", "gateway-standard-ip", "summarize-gateway-prefixes",
};

/* ------------------------------------------------------------------ */
/* Small helpers */

static json_t *
jstr(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static char *
xstrdup_lower(const char *s)
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
static int
idset_add(json_t *set, const char *id, json_t *value)
{
	char *k = xstrdup_lower(id);
	int rc;

	if (k == NULL) {
		json_decref(value);
		return NW_ENOMEM;
	}
	rc = json_object_set_new(set, k, value != NULL ? value : json_true());
	free(k);
	return rc == 0 ? 0 : NW_ENOMEM;
}

static json_t *
idset_get(const json_t *set, const char *id)
{
	char buf[1024];
	size_t n = strlen(id), i;

	if (n >= sizeof(buf)) {
		char *k = xstrdup_lower(id);
		json_t *v = k != NULL ? json_object_get(set, k) : NULL;
		free(k);
		return v;
	}
	for (i = 0; i <= n; i++)
		buf[i] = (char)tolower((unsigned char)id[i]);
	return json_object_get(set, buf);
}

static int
cmp_vnet_id(const void *a, const void *b)
{
	const struct topo_vnet *const *x = a, *const *y = b;
	int c = topo_id_compare((*x)->res->id, (*y)->res->id);

	return c != 0 ? c : strcmp((*x)->res->id, (*y)->res->id);
}

static int
cmp_str_ci(const void *a, const void *b)
{
	const char *const *x = a, *const *y = b;
	int c = strcasecmp(*x, *y);

	return c != 0 ? c : strcmp(*x, *y);
}

/* The JSON pointer token at position idx (0-based) of p, unescaped into buf; false if none. */
static bool
pointer_token(const char *p, size_t idx, char *buf, size_t size)
{
	size_t k = 0, i = 0;

	if (*p != '/')
		return false;
	for (;;) {
		p++;
		if (i == idx) {
			while (*p != '\0' && *p != '/' && k + 1 < size) {
				if (p[0] == '~' && p[1] == '1') {
					buf[k++] = '/';
					p += 2;
				} else if (p[0] == '~' && p[1] == '0') {
					buf[k++] = '~';
					p += 2;
				} else {
					buf[k++] = *p++;
				}
			}
			buf[k] = '\0';
			return true;
		}
		p = strchr(p, '/');
		if (p == NULL)
			return false;
		i++;
	}
}

/* True when pointer is prefix or lies below it. */
static bool
pointer_under(const char *pointer, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(pointer, prefix, n) == 0 && (pointer[n] == '\0' || pointer[n] == '/');
}

/* Parses "/properties/<array>/<index>/rest": the index, and rest ("" when none). */
static bool
pointer_child(const char *pointer, const char *array, size_t *index, const char **rest)
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

static bool
str_in(const char *s, const char *const *set)
{
	for (; s != NULL && *set != NULL; set++)
		if (strcasecmp(s, *set) == 0)
			return true;
	return false;
}

/* The workload subnet gates and rehearsal look at: the first that is not infrastructure. */
static const struct topo_subnet *
workload_subnet(const struct topo_vnet *v)
{
	size_t i;

	for (i = 0; i < v->nsubnets; i++)
		if (!v->subnets[i].is_infrastructure)
			return &v->subnets[i];
	return NULL;
}

/* A deterministic mix for samples (splitmix64). */
static uint64_t
mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* ------------------------------------------------------------------ */
/* Wire bodies: the resource as a PUT wants it, without what ARM computes */

static const char *const READONLY_KEYS[] = {
	"etag", "provisioningState", "resourceGuid", "systemData", "peeringSyncLevel",
	"peeringState", NULL,
};

/* Read-only back-references inside a subnet's properties. */
static const char *const SUBNET_READONLY[] = {
	"ipConfigurations", "privateEndpoints", "serviceAssociationLinks", "resourceNavigationLinks",
	"ipConfigurationProfiles", "purpose", NULL,
};

/*
 * v without read-only keys (new reference).  Subtrees that have none are
 * shared, not copied: a plan for thousands of VNets carries their bodies
 * twice (operation and inverse), and sharing keeps that affordable.  The
 * result must therefore never be modified below the levels wire_body and
 * subnet_body copy on purpose.
 */
static json_t *
strip_cow(json_t *v, const char *const *extra)
{
	const char *k;
	json_t *x, *out = NULL;
	size_t i, n;

	if (json_is_object(v)) {
		json_object_foreach(v, k, x) {
			json_t *c = NULL;
			bool drop = str_in(k, READONLY_KEYS) || (extra != NULL && str_in(k, extra));

			if (!drop) {
				c = strip_cow(x, NULL);
				if (c == NULL) {
					json_decref(out);
					return NULL;
				}
			}
			if (out == NULL && (drop || c != x)) {
				/* first difference: copy what came before */
				const char *k2;
				json_t *x2;

				out = json_object();
				if (out == NULL) {
					json_decref(c);
					return NULL;
				}
				json_object_foreach(v, k2, x2) {
					if (k2 == k)
						break;
					if (!str_in(k2, READONLY_KEYS) && !(extra != NULL && str_in(k2, extra)))
						json_object_set(out, k2, x2);
				}
			}
			if (out != NULL && !drop)
				json_object_set(out, k, c);
			json_decref(c);
		}
		return out != NULL ? out : json_incref(v);
	}
	if (json_is_array(v)) {
		n = json_array_size(v);
		for (i = 0; i < n; i++) {
			json_t *c = strip_cow(json_array_get(v, i), NULL);

			if (c == NULL) {
				json_decref(out);
				return NULL;
			}
			if (out == NULL && c != json_array_get(v, i)) {
				size_t j;
				out = json_array();
				if (out == NULL) {
					json_decref(c);
					return NULL;
				}
				for (j = 0; j < i; j++)
					json_array_append(out, json_array_get(v, j));
			}
			if (out != NULL)
				json_array_append(out, c);
			json_decref(c);
		}
		return out != NULL ? out : json_incref(v);
	}
	return json_incref(v);
}

/* A fresh object holding the stripped members of obj (so callers may set keys on it). */
static json_t *
fresh_object(json_t *obj, const char *const *extra)
{
	json_t *s = strip_cow(obj, extra), *out;

	if (s == NULL)
		return NULL;
	out = json_copy(s); /* shallow: a new object whatever strip_cow shared */
	json_decref(s);
	return out;
}

/* A subnet object as it goes inside a VNet or subnet PUT; it and its properties are fresh. */
static json_t *
subnet_wire(json_t *subnet)
{
	json_t *sn = fresh_object(subnet, NULL), *p;

	if (sn == NULL)
		return NULL;
	p = json_object_get(subnet, "properties");
	if (json_is_object(p)) {
		json_t *fp = fresh_object(p, SUBNET_READONLY);
		if (fp == NULL) {
			json_decref(sn);
			return NULL;
		}
		json_object_set_new(sn, "properties", fp);
	}
	return sn;
}

/*
 * The PUT body of a resource (new reference): location, tags, sku, zones,
 * identity, extendedLocation and properties, read-only fields removed.
 * The body and its properties object are fresh, and so are a VNet's
 * subnets array, each subnet and its properties; deeper levels may be
 * shared with the topology.
 */
static json_t *
wire_body(const json_t *res)
{
	static const char *const keep[] = {
		"location", "tags", "sku", "zones", "identity", "extendedLocation", NULL,
	};
	json_t *body = json_object(), *p, *fp, *arr, *x;
	size_t i;

	if (body == NULL)
		return NULL;
	for (i = 0; keep[i] != NULL; i++) {
		json_t *v = json_object_get(res, keep[i]);
		if (v != NULL)
			json_object_set_new(body, keep[i], strip_cow(v, NULL));
	}
	p = json_object_get(res, "properties");
	if (!json_is_object(p))
		return body;
	fp = fresh_object(p, NULL);
	if (fp == NULL) {
		json_decref(body);
		return NULL;
	}
	json_object_set_new(body, "properties", fp);
	if (json_object_get(p, "routes") != NULL) {
		json_object_del(fp, "subnets"); /* a route table's back-references */
	} else if (json_is_array((arr = json_object_get(p, "subnets")))) {
		json_t *na = json_array();
		json_array_foreach(arr, i, x)
			json_array_append_new(na, subnet_wire(x));
		json_object_set_new(fp, "subnets", na);
	}
	return body;
}

/* ------------------------------------------------------------------ */
/* The plan being built */

struct wave {
	json_t *obj;       /* the wave object (owned) */
	json_t *steps;     /* borrowed from obj */
	json_t *gates;
	json_t *members;
	json_t *risks;
	enum wave_kind kind;
	char name[128];
	int index;
	unsigned nsteps, ngates;
	long writes, reads, gate_reads, soak;
	const char *soak_desc; /* static; the soak gate rehearse() adds when soak > 0 */
	json_t *chains;    /* serializeKey -> seconds of documented operation time (owned) */
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

struct mesh {
	const struct topo_connectivity_config *cc;     /* target */
	const struct topo_connectivity_config *cc_cur; /* NULL when new */
	const struct topo_network_manager *nm;         /* target */
	const struct topo_network_manager *nm_cur;
	const struct topo_vnet **members;              /* target VNets, by id */
	size_t nmembers;
	const struct topo_static_member **added;       /* target static members new in this plan */
	size_t nadded;
	const char **regions;                          /* where the target deploys it */
	size_t nregions;
};

struct gw {
	const struct topo_gateway *g;  /* current */
	const struct topo_gateway *gt; /* target */
	size_t comp;                   /* circuit-sharing component */
	size_t round;
	bool valid;
};

struct decom {
	bool peering;            /* else a route */
	const char *parent;      /* VNet or route table id (current) */
	char *id;                /* the child to delete (owned) */
	const char *name;
	const struct topo_vnet *vnet;  /* peering: the VNet it belongs to (current) */
	const struct topo_vnet *remote;
};

struct pl {
	const struct topology *cur, *tgt;
	const struct planner_opts *o;
	struct nw_err *err;
	struct intent_rollout ro;
	bool ro_parsed;
	struct diff diff;
	bool uses[PROC_COUNT];

	json_t *blockers, *findings, *prereqs, *limits, *inspected;

	struct wave *w;
	size_t nw, capw;

	bool *is_hub;            /* per cur VNet */

	struct mesh *mesh;
	size_t nmesh;
	json_t *memberset;       /* ids of every mesh member (target), lowercase */
	json_t *newset;          /* ids of VNets new to a mesh in this plan */
	struct cidr_table *member_space; /* members' prefixes */
	struct cidr *member_prefixes;
	json_t *features;        /* feature names to register: name -> true */
	json_t *hspe_vnets;      /* cur VNet id lowercase -> object {subnets: {name: policy}, vnet: policy} */
	json_t *sum_vnets;       /* cur VNet id lowercase -> true */
	struct gw *gws;
	size_t ngws;
	struct decom *decoms;
	size_t ndecoms, capdecoms;
	json_t *deploy;          /* evolving observed.avnmDeployments (owned) */
	json_t *changed;         /* ids of resources with differences, lowercase */
	struct routes_ctx *cur_ctx;
	struct cidr *onprem;     /* on-premises prefixes the circuits learned, sorted, unique */
	size_t nonprem;
	size_t nmember_prefixes;
	size_t *meshed;          /* cur VNet indexes meshed so far (rehearsal) */
	size_t nmeshed;
	json_t *committed;       /* "<manager>|<region>" committed by this plan, lowercase */
	char last_mesh_name[128];
	const char *last_mesh_wave;
	bool decommission;
	unsigned sample;
};

static int
nomem(struct pl *p)
{
	return err_set(p->err, NW_ENOMEM, "out of memory while planning");
}

static void
blocker(struct pl *p, const char *code, const char *resource, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
blocker(struct pl *p, const char *code, const char *resource, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	json_t *o;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o = json_pack("{s:s, s:s}", "code", code, "message", msg);
	if (o != NULL && resource != NULL)
		json_object_set_new(o, "resource", json_string(resource));
	if (o != NULL)
		json_array_append_new(p->blockers, o);
}

static void
finding(struct pl *p, const char *severity, const char *code, const char *resource,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
finding(struct pl *p, const char *severity, const char *code, const char *resource,
    const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	json_t *o;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o = json_pack("{s:s, s:s, s:s}", "severity", severity, "code", code, "message", msg);
	if (o != NULL && resource != NULL)
		json_object_set_new(o, "resource", json_string(resource));
	if (o != NULL)
		json_array_append_new(p->findings, o);
}

static void
prereq(struct pl *p, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
prereq(struct pl *p, const char *code, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(p->prereqs, json_pack("{s:s, s:s}", "code", code, "message", msg));
}

/* A row of the limits table: the value this plan reaches against a limit of plan/limits.h. */
static void
limit_row(struct pl *p, enum limit_id id, long value, const char *resource)
{
	const struct limit_def *m = limit_get(id);
	json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:s}", "limit", m->key, "what", m->what,
	    "value", (json_int_t)value, "max", (json_int_t)m->value, "source", m->source);

	if (o != NULL && resource != NULL)
		json_object_set_new(o, "resource", json_string(resource));
	if (o != NULL)
		json_array_append_new(p->limits, o);
}

/* Starts a wave; the pointer stays valid until the next wave_new. */
static struct wave *
wave_new(struct pl *p, enum wave_kind kind, const char *name)
{
	struct wave *w;

	if (p->nw == p->capw) {
		size_t cap = p->capw ? p->capw * 2 : 8;
		struct wave *n = realloc(p->w, cap * sizeof(*n));
		if (n == NULL)
			return NULL;
		p->w = n;
		p->capw = cap;
	}
	w = &p->w[p->nw];
	memset(w, 0, sizeof(*w));
	w->obj = json_object();
	w->steps = json_array();
	w->gates = json_array();
	w->members = json_array();
	w->risks = json_array();
	w->chains = json_object();
	w->fx_put = json_array();
	if (w->obj == NULL || w->steps == NULL || w->gates == NULL || w->members == NULL ||
	    w->risks == NULL || w->chains == NULL || w->fx_put == NULL) {
		json_decref(w->obj);
		json_decref(w->steps);
		json_decref(w->gates);
		json_decref(w->members);
		json_decref(w->risks);
		json_decref(w->chains);
		json_decref(w->fx_put);
		return NULL;
	}
	json_object_set_new(w->obj, "steps", w->steps);
	json_object_set_new(w->obj, "gates", w->gates);
	json_object_set_new(w->obj, "members", w->members);
	json_object_set_new(w->obj, "risks", w->risks);
	w->kind = kind;
	snprintf(w->name, sizeof(w->name), "%s", name);
	w->index = (int)p->nw;
	p->nw++;
	return w;
}

static void
wave_free(struct wave *w)
{
	json_decref(w->obj);
	json_decref(w->chains);
	json_decref(w->fx_put);
	json_decref(w->fx_deploy);
	free(w->vnets);
	free(w->gws);
}

static void
wave_risk(struct wave *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
wave_risk(struct wave *w, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_array_append_new(w->risks, json_string(msg));
}

static void
wave_rollback(struct wave *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
wave_rollback(struct wave *w, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_set_new(w->obj, "rollback", json_string(msg));
}

static int
wave_add_vnet(struct wave *w, size_t idx)
{
	size_t *n = realloc(w->vnets, (w->nvnets + 1) * sizeof(*n));

	if (n == NULL)
		return NW_ENOMEM;
	w->vnets = n;
	w->vnets[w->nvnets++] = idx;
	return 0;
}

static int
wave_add_gw(struct wave *w, const struct topo_gateway *g)
{
	const struct topo_gateway **n = realloc(w->gws, (w->ngws + 1) * sizeof(*n));

	if (n == NULL)
		return NW_ENOMEM;
	w->gws = n;
	w->gws[w->ngws++] = g;
	return 0;
}

static json_t *
op_new(const char *method, const char *path, const char *api, json_t *body)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "method", method, "path", path, "apiVersion", api);

	if (o != NULL && body != NULL)
		json_object_set_new(o, "body", body);
	else
		json_decref(body);
	return o;
}

/* An inverse that needs nothing sent (a read, or a repeat of an idempotent action). */
static json_t *
op_none(const char *why)
{
	return json_pack("{s:s, s:s}", "method", "NONE", "reason", why);
}

static json_t *
expect_eq(const char *pointer, const char *value)
{
	return json_pack("{s:s, s:s}", "pointer", pointer, "equals", value);
}

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

/* Appends a step to w; returns it (borrowed) or NULL on out of memory. */
static json_t *
step_add(struct wave *w, struct step_spec *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static json_t *
step_add(struct wave *w, struct step_spec *s, const char *fmt, ...)
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

static const char *
step_id(const json_t *st)
{
	return json_str(st, "id");
}

/* Appends a gate to w; params and budget stolen. */
static int
gate_add(struct wave *w, enum gate_kind kind, const char *when, json_t *params, int reads,
    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int
gate_add(struct wave *w, enum gate_kind kind, const char *when, json_t *params, int reads,
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
/* Finding the changes each procedure carries out */

static const struct topo_connectivity_config *
find_config(const struct topology *t, const char *id)
{
	struct topo_resource *r = topology_find(t, id);

	return r != NULL && r->type == TOPO_CONNECTIVITY_CONFIG ? r->view : NULL;
}

static const struct topo_network_manager *
find_manager(const struct topology *t, const char *id)
{
	struct topo_resource *r = topology_find(t, id);

	return r != NULL && r->type == TOPO_NETWORK_MANAGER ? r->view : NULL;
}

/* The configurations a topology has deployed for (manager, region), type Connectivity. */
static const struct topo_deployment *
find_deployment(const struct topology *t, const char *nm, const char *region)
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

static bool
deployment_has(const struct topo_deployment *d, const char *config)
{
	size_t i;

	for (i = 0; d != NULL && i < d->nconfigs; i++)
		if (topo_id_compare(d->config_ids[i], config) == 0)
			return true;
	return false;
}

static bool
mesh_is_ours(const struct pl *p, const char *nm, const char *config)
{
	size_t i;

	for (i = 0; i < p->nmesh; i++)
		if (topo_id_compare(p->mesh[i].cc->res->id, config) == 0 &&
		    topo_id_compare(p->mesh[i].nm->res->id, nm) == 0)
			return true;
	return false;
}

/*
 * A region's deployment change is one the mesh procedure makes when the
 * target keeps every configuration already active there and adds only
 * ours: a commit is goal state, so dropping one would undeploy it.
 */
static bool
deployment_change_ok(const struct pl *p, const char *nm, const char *region)
{
	const struct topo_deployment *dc = find_deployment(p->cur, nm, region);
	const struct topo_deployment *dt = find_deployment(p->tgt, nm, region);
	size_t i;

	for (i = 0; dc != NULL && i < dc->nconfigs; i++)
		if (!deployment_has(dt, dc->config_ids[i]))
			return false;
	for (i = 0; dt != NULL && i < dt->nconfigs; i++)
		if (!deployment_has(dc, dt->config_ids[i]) && !mesh_is_ours(p, nm, dt->config_ids[i]))
			return false;
	return true;
}

static int
mesh_detect_one(struct pl *p, const struct topo_connectivity_config *cc, json_t *changed_ids)
{
	const struct topology *t = p->tgt;
	struct mesh m = { 0 };
	size_t i, g, k, n = 0, cap = 0;
	bool changed;
	int rc = NW_ENOMEM;

	m.cc = cc;
	m.cc_cur = find_config(p->cur, cc->res->id);
	m.nm = cc->manager;
	if (m.nm == NULL) {
		blocker(p, "network-manager-missing", cc->res->id,
		    "connectivity configuration %s has no network manager in the target",
		    cc->res->name);
		return 0;
	}
	m.nm_cur = find_manager(p->cur, m.nm->res->id);
	for (g = 0; g < cc->ngroups; g++) {
		const struct topo_network_group *ng = cc->groups[g].group;

		for (k = 0; ng != NULL && k < ng->nmembers; k++) {
			const struct topo_static_member *sm = ng->members[k];

			if (sm->vnet == NULL)
				continue;
			if (n == cap) {
				size_t nc = cap ? cap * 2 : 64;
				const struct topo_vnet **x = realloc(m.members, nc * sizeof(*x));
				if (x == NULL)
					goto done;
				m.members = x;
				cap = nc;
			}
			m.members[n++] = sm->vnet;
			if (topology_find(p->cur, sm->res->id) == NULL) {
				const struct topo_static_member **x =
				    realloc(m.added, (m.nadded + 1) * sizeof(*x));
				if (x == NULL)
					goto done;
				m.added = x;
				m.added[m.nadded++] = sm;
			}
		}
	}
	if (n > 1)
		qsort(m.members, n, sizeof(*m.members), cmp_vnet_id);
	/* a VNet in two applied groups is one member */
	for (i = 0, k = 0; i < n; i++)
		if (k == 0 || m.members[k - 1] != m.members[i])
			m.members[k++] = m.members[i];
	m.nmembers = k;
	for (i = 0; i < t->ndeployments; i++) {
		const struct topo_deployment *d = &t->deployments[i];
		size_t r;

		if (d->manager_id == NULL || d->region == NULL || d->config_type == NULL ||
		    strcasecmp(d->config_type, "Connectivity") != 0 ||
		    topo_id_compare(d->manager_id, m.nm->res->id) != 0 || !deployment_has(d, cc->res->id))
			continue;
		for (r = 0; r < m.nregions; r++)
			if (strcasecmp(m.regions[r], d->region) == 0)
				break;
		if (r < m.nregions)
			continue;
		{
			const char **x = realloc(m.regions, (m.nregions + 1) * sizeof(*x));
			if (x == NULL)
				goto done;
			m.regions = x;
			m.regions[m.nregions++] = d->region;
		}
	}
	if (m.nregions > 1)
		qsort(m.regions, m.nregions, sizeof(*m.regions), cmp_str_ci);
	changed = m.cc_cur == NULL || m.nadded > 0 || idset_get(changed_ids, cc->res->id) != NULL;
	for (i = 0; !changed && i < m.nregions; i++)
		if (!deployment_has(find_deployment(p->cur, m.nm->res->id, m.regions[i]), cc->res->id))
			changed = true;
	if (!changed) {
		rc = 0;
		goto done;
	}
	{
		struct mesh *x = realloc(p->mesh, (p->nmesh + 1) * sizeof(*x));
		if (x == NULL)
			goto done;
		p->mesh = x;
		p->mesh[p->nmesh++] = m;
		memset(&m, 0, sizeof(m));
	}
	rc = 0;
done:
	free(m.members);
	free(m.added);
	free(m.regions);
	return rc == 0 ? 0 : nomem(p);
}

static int
mesh_detect(struct pl *p)
{
	size_t i, total = 0;
	int rc = 0;

	for (i = 0; i < p->diff.n && rc == 0; i++)
		if (strcmp(p->diff.v[i].resource_id, "observed") != 0)
			rc = idset_add(p->changed, p->diff.v[i].resource_id, NULL);
	for (i = 0; i < p->tgt->nconfigs && rc == 0; i++)
		if (p->tgt->configs[i].topology == CC_MESH)
			rc = mesh_detect_one(p, &p->tgt->configs[i], p->changed);
	if (rc != 0)
		return rc == NW_ENOMEM ? nomem(p) : rc;
	/* every member, and the member space the decommission checks routes against */
	for (i = 0; i < p->nmesh; i++)
		for (size_t k = 0; k < p->mesh[i].nmembers; k++)
			total += p->mesh[i].members[k]->prefixes.n;
	p->member_prefixes = calloc(total ? total : 1, sizeof(*p->member_prefixes));
	if (p->member_prefixes == NULL)
		return nomem(p);
	for (i = 0; i < p->nmesh; i++) {
		const struct mesh *m = &p->mesh[i];
		size_t k, j;

		for (k = 0; k < m->nmembers; k++) {
			const struct topo_vnet *v = m->members[k];

			if (idset_add(p->memberset, v->res->id, NULL) != 0)
				return nomem(p);
			for (j = 0; j < v->prefixes.n; j++) {
				if (cidr_table_add(p->member_space, &v->prefixes.v[j], (void *)v) < 0)
					return nomem(p);
				p->member_prefixes[p->nmember_prefixes++] = v->prefixes.v[j];
			}
		}
		for (k = 0; k < m->nadded; k++)
			if (idset_add(p->newset, m->added[k]->vnet->res->id, NULL) != 0)
				return nomem(p);
	}
	return 0;
}

static bool
mesh_has_group(const struct pl *p, const char *ng)
{
	size_t i, g;

	for (i = 0; i < p->nmesh; i++)
		for (g = 0; g < p->mesh[i].cc->ngroups; g++)
			if (topo_id_compare(p->mesh[i].cc->groups[g].network_group_id, ng) == 0)
				return true;
	return false;
}

static bool
mesh_has_manager(const struct pl *p, const char *nm)
{
	size_t i;

	for (i = 0; i < p->nmesh; i++)
		if (topo_id_compare(p->mesh[i].nm->res->id, nm) == 0)
			return true;
	return false;
}

static bool
mesh_has_config(const struct pl *p, const char *cc)
{
	size_t i;

	for (i = 0; i < p->nmesh; i++)
		if (topo_id_compare(p->mesh[i].cc->res->id, cc) == 0)
			return true;
	return false;
}

static void
claim(struct pl *p, struct diff_entry *e, enum proc proc)
{
	e->claimed_by = proc_name[proc];
	p->uses[proc] = true;
}

/*
 * The gateway an ExpressRoute migration leaves in place of g in the
 * target (plan/gwmigrate.h): g gone, a new gateway tagged CreatedBy:
 * GatewaySKUMigration in the same GatewaySubnet.  NULL when none.
 */
static const struct topo_gateway *
gw_successor(const struct pl *p, const struct topo_gateway *g)
{
	size_t i;

	if (g->subnet_id == NULL || topology_find(p->tgt, g->res->id) != NULL)
		return NULL;
	for (i = 0; i < p->tgt->ngateways; i++) {
		const struct topo_gateway *t = &p->tgt->gateways[i];
		if (topology_find(p->cur, t->res->id) == NULL && gwm_is_tagged(t->res->json) &&
		    t->subnet_id != NULL && topo_id_compare(t->subnet_id, g->subnet_id) == 0)
			return t;
	}
	return NULL;
}

/* The current gateway a new one of the target replaces (the inverse of gw_successor). */
static const struct topo_gateway *
gw_predecessor(const struct pl *p, const struct topo_gateway *t)
{
	size_t i;

	if (topology_find(p->cur, t->res->id) != NULL || !gwm_is_tagged(t->res->json))
		return NULL;
	for (i = 0; i < p->cur->ngateways; i++)
		if (gw_successor(p, &p->cur->gateways[i]) == t)
			return &p->cur->gateways[i];
	return NULL;
}

/* Is the change the SKU a migration moves a gateway to in place (VpnGw1 -> VpnGw1AZ)? */
static bool
gw_sku_moves_to_az(const struct diff_entry *e)
{
	const char *a = json_string_value(e->before), *b = json_string_value(e->after);

	return (strcmp(e->pointer, "/properties/sku/name") == 0 ||
	    strcmp(e->pointer, "/properties/sku/tier") == 0) && a != NULL && b != NULL &&
	    strcasecmp(a, b) != 0 && strcasecmp(gwm_az_sku(a), b) == 0;
}

/* Is a removed or added connection one an ExpressRoute migration deletes or copies? */
static const struct topo_gateway *
gw_of_migrated_connection(const struct pl *p, const struct diff_entry *e)
{
	const struct topo_resource *r;
	const struct topo_connection *c;

	if (e->pointer[0] != '\0')
		return NULL;
	r = topology_find(e->kind == DIFF_REMOVED ? p->cur : p->tgt, e->resource_id);
	if (r == NULL || r->type != TOPO_CONNECTION)
		return NULL;
	c = r->view;
	if (c->gateway == NULL)
		return NULL;
	if (e->kind == DIFF_REMOVED)
		return gw_successor(p, c->gateway) != NULL ? c->gateway : NULL;
	return gw_predecessor(p, c->gateway);
}

static int
gw_record(struct pl *p, const struct topo_gateway *g)
{
	size_t i;
	struct gw *x;

	for (i = 0; i < p->ngws; i++)
		if (p->gws[i].g == g)
			return 0;
	x = realloc(p->gws, (p->ngws + 1) * sizeof(*x));
	if (x == NULL)
		return NW_ENOMEM;
	p->gws = x;
	memset(&p->gws[p->ngws], 0, sizeof(*p->gws));
	p->gws[p->ngws].g = g;
	{
		struct topo_resource *r = topology_find(p->tgt, g->res->id);
		p->gws[p->ngws].gt = r != NULL && r->type == TOPO_GATEWAY ? r->view : gw_successor(p, g);
	}
	p->ngws++;
	return 0;
}

static const struct topo_gateway *
gateway_of_pip(const struct topology *t, const char *pip)
{
	size_t i, k;

	for (i = 0; i < t->ngateways; i++)
		for (k = 0; k < t->gateways[i].npublic_ips; k++)
			if (t->gateways[i].public_ip_ids[k] != NULL &&
			    topo_id_compare(t->gateways[i].public_ip_ids[k], pip) == 0)
				return &t->gateways[i];
	return NULL;
}

static int
decom_add(struct pl *p, bool peering, const char *parent, const char *child_id, const char *name,
    const struct topo_vnet *vnet, const struct topo_vnet *remote)
{
	struct decom *d;
	size_t i;

	for (i = 0; i < p->ndecoms; i++)
		if (topo_id_compare(p->decoms[i].id, child_id) == 0)
			return 0;
	if (p->ndecoms == p->capdecoms) {
		size_t cap = p->capdecoms ? p->capdecoms * 2 : 16;
		d = realloc(p->decoms, cap * sizeof(*d));
		if (d == NULL)
			return NW_ENOMEM;
		p->decoms = d;
		p->capdecoms = cap;
	}
	d = &p->decoms[p->ndecoms];
	d->id = strdup(child_id);
	if (d->id == NULL)
		return NW_ENOMEM;
	d->peering = peering;
	d->parent = parent;
	d->name = name;
	d->vnet = vnet;
	d->remote = remote;
	p->ndecoms++;
	return 0;
}

/* A removed peering is the mesh's to remove when both ends are members. */
static int
classify_peering(struct pl *p, const struct topo_vnet *v, const json_t *peering)
{
	const char *name = json_str(peering, "name");
	const char *remote = json_path_str(peering, "properties", "remoteVirtualNetwork", "id", NULL);
	const char *pid = json_str(peering, "id");
	char buf[2048];

	if (name == NULL || remote == NULL || idset_get(p->memberset, v->res->id) == NULL ||
	    idset_get(p->memberset, remote) == NULL)
		return 1;
	if (pid == NULL) {
		snprintf(buf, sizeof(buf), "%s/virtualNetworkPeerings/%s", v->res->id, name);
		pid = buf;
	}
	return decom_add(p, true, v->res->id, pid, name, v, topology_find_vnet(p->cur, remote));
}

static int
classify_route(struct pl *p, const struct topo_resource *rt, const json_t *route)
{
	const char *name = json_str(route, "name");
	const char *hop = json_path_str(route, "properties", "nextHopType", NULL);
	const char *prefix = json_path_str(route, "properties", "addressPrefix", NULL);
	const char *rid = json_str(route, "id");
	struct cidr c;
	struct nw_err e2 = { 0 };
	char buf[2048];

	if (name == NULL || hop == NULL || prefix == NULL ||
	    strcasecmp(hop, "VirtualNetworkGateway") != 0 || cidr_parse(&c, prefix, &e2) != 0)
		return 1;
	/* only routes that steered traffic for members' own space to the gateway */
	if (cidr_table_lookup(p->member_space, &c, NULL) == NULL)
		return 1;
	if (rid == NULL) {
		snprintf(buf, sizeof(buf), "%s/routes/%s", rt->id, name);
		rid = buf;
	}
	return decom_add(p, false, rt->id, rid, name, NULL, NULL);
}

static int
hspe_record(struct pl *p, const struct topo_vnet *v, const char *subnet, const char *policy)
{
	json_t *o = idset_get(p->hspe_vnets, v->res->id);

	if (o == NULL) {
		o = json_pack("{s:s, s:{}}", "id", v->res->id, "subnets");
		if (o == NULL || idset_add(p->hspe_vnets, v->res->id, o) != 0)
			return NW_ENOMEM;
	}
	if (subnet == NULL)
		return json_object_set_new(o, "vnet", json_string(policy)) == 0 ? 0 : NW_ENOMEM;
	return json_object_set_new(json_object_get(o, "subnets"), subnet, json_string(policy)) == 0 ?
	    0 : NW_ENOMEM;
}

/*
 * Every difference goes through here once: the procedure that carries it
 * out claims it and records what it needs to build its steps.  Anything
 * left unclaimed is reported as not supported.
 */
static int
classify(struct pl *p)
{
	static const char *const subnet_ok[] = { "Enabled", "RouteTableEnabled", NULL };
	char tok[1024], tok2[256], tok3[256];
	size_t i;
	int rc;

	for (i = 0; i < p->diff.n; i++) {
		struct diff_entry *e = &p->diff.v[i];
		const char *ptr = e->pointer;
		const struct topo_resource *r;
		size_t idx;
		const char *rest;

		rc = 0;
		if (strcmp(e->resource_id, "observed") == 0) {
			if (pointer_under(ptr, "/observed/features") && pointer_token(ptr, 2, tok, sizeof(tok))) {
				if (p->nmesh > 0 && json_is_string(e->after) &&
				    strcmp(json_string_value(e->after), "Registered") == 0 &&
				    (strcasecmp(tok, FEATURE_NS "/" FEATURE_HIGH_SCALE) == 0 ||
				     strcasecmp(tok, FEATURE_NS "/" FEATURE_HSPE) == 0)) {
					json_object_set_new(p->features, tok, json_true());
					claim(p, e, PROC_MESH);
				}
			} else if (pointer_under(ptr, "/observed/avnmDeployments") &&
			    pointer_token(ptr, 2, tok, sizeof(tok)) &&
			    pointer_token(ptr, 3, tok2, sizeof(tok2)) &&
			    pointer_token(ptr, 4, tok3, sizeof(tok3))) {
				if (strcasecmp(tok3, "Connectivity") == 0 && mesh_has_manager(p, tok) &&
				    deployment_change_ok(p, tok, tok2))
					claim(p, e, PROC_MESH);
			}
			continue;
		}
		r = topology_find(e->kind == DIFF_REMOVED ? p->cur : p->tgt, e->resource_id);
		if (r == NULL)
			continue;
		switch (r->type) {
		case TOPO_NETWORK_MANAGER:
			if (mesh_has_manager(p, r->id) && e->kind != DIFF_REMOVED)
				claim(p, e, PROC_MESH);
			break;
		case TOPO_NETWORK_GROUP:
			if (mesh_has_group(p, r->id) && e->kind != DIFF_REMOVED)
				claim(p, e, PROC_MESH);
			break;
		case TOPO_STATIC_MEMBER: {
			const struct topo_static_member *sm = r->view;
			/* adding members is the mesh's; removing or repointing one is not */
			if (e->kind == DIFF_ADDED && ptr[0] == '\0' && sm->group != NULL &&
			    mesh_has_group(p, sm->group->res->id))
				claim(p, e, PROC_MESH);
			break;
		}
		case TOPO_CONNECTIVITY_CONFIG:
			if (mesh_has_config(p, r->id) && e->kind != DIFF_REMOVED)
				claim(p, e, PROC_MESH);
			break;
		case TOPO_VNET: {
			const struct topo_vnet *v = topology_find_vnet(p->cur, r->id);

			if (v == NULL)
				break; /* a new VNet: no procedure creates VNets */
			if (strcmp(ptr, "/properties/privateEndpointVNetPolicies") == 0) {
				if (json_is_string(e->after) &&
				    strcmp(json_string_value(e->after), "Basic") == 0 &&
				    idset_get(p->memberset, v->res->id) != NULL) {
					rc = hspe_record(p, v, NULL, "Basic");
					claim(p, e, PROC_MESH);
				}
			} else if (pointer_child(ptr, "subnets", &idx, &rest) &&
			    strcmp(rest, "/properties/privateEndpointNetworkPolicies") == 0) {
				const json_t *sn = json_array_get(json_path(r->json, "properties", "subnets", NULL), idx);
				const char *name = json_str(sn, "name");
				if (name != NULL && json_is_string(e->after) &&
				    str_in(json_string_value(e->after), subnet_ok) &&
				    idset_get(p->memberset, v->res->id) != NULL) {
					rc = hspe_record(p, v, name, json_string_value(e->after));
					claim(p, e, PROC_MESH);
				}
			} else if (pointer_under(ptr, "/properties/summarizedGatewayPrefixes")) {
				rc = idset_add(p->sum_vnets, v->res->id, NULL);
				claim(p, e, PROC_SUMMARIZE);
			} else if (e->kind == DIFF_REMOVED && pointer_child(ptr, "virtualNetworkPeerings", &idx, &rest) &&
			    rest[0] == '\0') {
				rc = classify_peering(p, v, e->before);
				if (rc == 0)
					claim(p, e, PROC_MESH);
				rc = rc > 0 ? 0 : rc;
			} else if (e->kind == DIFF_REMOVED && strcmp(ptr, "/properties/virtualNetworkPeerings") == 0 &&
			    json_is_array(e->before)) {
				const json_t *pe;
				size_t k;
				int all = 0;
				/* every peering removed: each must be one the mesh made redundant */
				json_array_foreach(e->before, k, pe) {
					int r2 = classify_peering(p, v, pe);
					if (r2 < 0)
						return nomem(p);
					all |= r2;
				}
				if (all == 0)
					claim(p, e, PROC_MESH);
			}
			break;
		}
		case TOPO_ROUTE_TABLE:
			if (e->kind == DIFF_REMOVED && pointer_child(ptr, "routes", &idx, &rest) && rest[0] == '\0') {
				rc = classify_route(p, r, e->before);
				if (rc == 0)
					claim(p, e, PROC_MESH);
				rc = rc > 0 ? 0 : rc;
			}
			break;
		case TOPO_GATEWAY:
			if (ptr[0] == '\0' && e->kind != DIFF_CHANGED) {
				/* an ExpressRoute migration: the old gateway goes, the new one comes */
				const struct topo_gateway *g = e->kind == DIFF_REMOVED ?
				    (gw_successor(p, r->view) != NULL ? r->view : NULL) : gw_predecessor(p, r->view);
				if (g != NULL) {
					rc = gw_record(p, g);
					claim(p, e, PROC_GATEWAY);
				}
			} else if (e->kind != DIFF_REMOVED &&
			    (pointer_under(ptr, "/properties/virtualNetworkGatewayMigrationStatus") ||
			     gw_sku_moves_to_az(e))) {
				struct topo_resource *cr = topology_find(p->cur, r->id);
				if (cr != NULL && cr->type == TOPO_GATEWAY) {
					rc = gw_record(p, cr->view);
					claim(p, e, PROC_GATEWAY);
				}
			}
			break;
		case TOPO_CONNECTION: {
			const struct topo_gateway *g = gw_of_migrated_connection(p, e);
			if (g != NULL) {
				rc = gw_record(p, g);
				claim(p, e, PROC_GATEWAY);
			}
			break;
		}
		case TOPO_PUBLIC_IP:
			if (e->kind != DIFF_REMOVED &&
			    (pointer_under(ptr, "/sku") || pointer_under(ptr, "/properties/publicIPAllocationMethod") ||
			     pointer_under(ptr, "/properties/migrationPhase"))) {
				const struct topo_gateway *g = gateway_of_pip(p->cur, r->id);
				if (g != NULL) {
					rc = gw_record(p, g);
					claim(p, e, PROC_GATEWAY);
				}
			}
			break;
		default:
			break;
		}
		if (rc != 0)
			return nomem(p);
	}
	if (p->ndecoms > 0)
		p->decommission = true;
	return 0;
}

/* Whatever no procedure claimed blocks the plan. */
static void
unclaimed_blockers(struct pl *p)
{
	size_t i;

	for (i = 0; i < p->diff.n; i++) {
		const struct diff_entry *e = &p->diff.v[i];
		json_t *o;
		char msg[2048];

		if (e->claimed_by != NULL)
			continue;
		snprintf(msg, sizeof(msg), "not supported: %s %s%s%s; no procedure makes this change",
		    diff_kind_name(e->kind), e->resource_id, e->pointer[0] ? " at " : "",
		    e->pointer);
		o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "code", "not-supported", "message", msg,
		    "resource", e->resource_id, "pointer", e->pointer, "kind", diff_kind_name(e->kind));
		if (o != NULL)
			json_array_append_new(p->blockers, o);
	}
}

/* ------------------------------------------------------------------ */
/* Limits and prerequisites (phase 0 of avnm-mesh) */

struct pfx_item {
	struct cidr c;
	const struct topo_vnet *v;
};

static int
cmp_pfx_item(const void *a, const void *b)
{
	const struct pfx_item *x = a, *y = b;
	int c = cidr_compare(&x->c, &y->c);

	return c != 0 ? c : topo_id_compare(x->v->res->id, y->v->res->id);
}

/*
 * Overlapping address space among a mesh's members.  Prefixes nest or are
 * disjoint, so after sorting, an overlap is a prefix inside one still open
 * on the stack.
 */
static int
mesh_check_overlap(struct pl *p, const struct mesh *m)
{
	struct pfx_item *it = NULL, **stack = NULL;
	size_t n = 0, i, k, sp = 0, count = 0;
	const struct pfx_item *first_a = NULL, *first_b = NULL;

	for (i = 0; i < m->nmembers; i++)
		n += m->members[i]->prefixes.n;
	if (n < 2)
		return 0;
	it = malloc(n * sizeof(*it));
	stack = malloc(n * sizeof(*stack));
	if (it == NULL || stack == NULL) {
		free(it);
		free(stack);
		return nomem(p);
	}
	for (i = 0, k = 0; i < m->nmembers; i++)
		for (size_t j = 0; j < m->members[i]->prefixes.n; j++) {
			it[k].c = m->members[i]->prefixes.v[j];
			it[k].v = m->members[i];
			k++;
		}
	qsort(it, n, sizeof(*it), cmp_pfx_item);
	for (i = 0; i < n; i++) {
		while (sp > 0 && !cidr_contains(&stack[sp - 1]->c, &it[i].c))
			sp--;
		if (sp > 0 && stack[sp - 1]->v != it[i].v) {
			char a[CIDR_STRLEN], b[CIDR_STRLEN];

			if (count == 0) {
				first_a = stack[sp - 1];
				first_b = &it[i];
			}
			if (count < MAX_OVERLAP_FINDINGS) {
				cidr_format(&stack[sp - 1]->c, a);
				cidr_format(&it[i].c, b);
				finding(p, "warning", "address-overlap", it[i].v->res->id,
				    "mesh members %s (%s) and %s (%s) overlap; with connectedGroupAddressOverlap "
				    "Allowed the mesh drops the overlapping prefixes, so these two keep their "
				    "current path to each other",
				    stack[sp - 1]->v->res->name, a, it[i].v->res->name, b);
			}
			count++;
		}
		stack[sp++] = &it[i];
	}
	if (count > MAX_OVERLAP_FINDINGS)
		finding(p, "warning", "address-overlap", m->cc->res->id,
		    "%zu overlapping member prefixes in all; the first %d are listed", count,
		    MAX_OVERLAP_FINDINGS);
	if (count > 0 && m->cc->overlap_disallowed) {
		char a[CIDR_STRLEN], b[CIDR_STRLEN];

		cidr_format(&first_a->c, a);
		cidr_format(&first_b->c, b);
		blocker(p, "address-overlap", m->cc->res->id,
		    "configuration %s says connectedGroupAddressOverlap Disallowed, but %zu member "
		    "prefixes overlap, first %s (%s) and %s (%s); AVNM would refuse the deployment",
		    m->cc->res->name, count, first_a->v->res->name, a, first_b->v->res->name, b);
	}
	free(it);
	free(stack);
	return 0;
}

/* The connected groups each current VNet is in already, not counting ours. */
static int
connected_group_counts(struct pl *p, unsigned **out)
{
	const struct topology *t = p->cur;
	unsigned *cnt = calloc(t->nvnets ? t->nvnets : 1, sizeof(*cnt));
	size_t *stamp = calloc(t->nvnets ? t->nvnets : 1, sizeof(*stamp));
	size_t unit = 0, c, g, k, d;

	if (cnt == NULL || stamp == NULL) {
		free(cnt);
		free(stamp);
		return nomem(p);
	}
	for (c = 0; c < t->nconfigs; c++) {
		const struct topo_connectivity_config *cc = &t->configs[c];
		const char *regions[64];
		size_t nreg = 0;

		if (mesh_has_config(p, cc->res->id) ||
		    (cc->topology != CC_MESH && cc->topology != CC_HUB_AND_SPOKE))
			continue;
		for (d = 0; d < t->ndeployments && nreg < 64; d++)
			if (t->deployments[d].config_type != NULL &&
			    strcasecmp(t->deployments[d].config_type, "Connectivity") == 0 &&
			    t->deployments[d].region != NULL && deployment_has(&t->deployments[d], cc->res->id))
				regions[nreg++] = t->deployments[d].region;
		if (nreg == 0)
			continue;
		for (g = 0; g < cc->ngroups; g++) {
			const struct topo_cc_group *ag = &cc->groups[g];

			if (ag->group == NULL || (cc->topology == CC_HUB_AND_SPOKE && !ag->directly_connected))
				continue;
			/* a mesh is one connected group however many groups it applies to */
			if (cc->topology == CC_HUB_AND_SPOKE || g == 0)
				unit++;
			for (k = 0; k < ag->group->nmembers; k++) {
				const struct topo_vnet *v = ag->group->members[k]->vnet;
				size_t r, idx;

				if (v == NULL)
					continue;
				for (r = 0; r < nreg; r++)
					if (v->res->location != NULL && topo_location_equal(v->res->location, regions[r]))
						break;
				if (r == nreg && !cc->is_global && !ag->is_global)
					continue;
				idx = (size_t)(v - t->vnets);
				if (stamp[idx] != unit) {
					stamp[idx] = unit;
					cnt[idx]++;
				}
			}
		}
	}
	free(stamp);
	*out = cnt;
	return 0;
}

static bool
feature_registered(const struct topology *t, const char *name)
{
	const char *s = topology_feature_state(t, name);

	return s != NULL && strcasecmp(s, "Registered") == 0;
}

static int
mesh_check(struct pl *p, const struct mesh *m)
{
	static const char *const ready[] = { "Enabled", "RouteTableEnabled", NULL };
	const struct limit_def *lv = limit_get(LIMIT_MESH_VNETS), *lvh = limit_get(LIMIT_MESH_VNETS_HIGH_SCALE);
	const struct limit_def *lp = limit_get(LIMIT_MESH_PE), *lph = limit_get(LIMIT_MESH_PE_HSPE);
	const struct limit_def *lvp = limit_get(LIMIT_VNET_PE), *lvph = limit_get(LIMIT_VNET_PE_HSPE);
	const struct limit_def *lcg = limit_get(LIMIT_CONNECTED_GROUPS_PER_VNET);
	const struct topo_vnet *busiest = NULL;
	long n = (long)m->nmembers, total = 0, maxv = 0;
	bool high_scale = feature_registered(p->tgt, FEATURE_NS "/" FEATURE_HIGH_SCALE);
	unsigned *cg = NULL, cgmax = 0;
	const struct topo_vnet *cgv = NULL;
	const json_t *scope;
	size_t i, k;
	int rc;

	/* VNets per mesh */
	limit_row(p, LIMIT_MESH_VNETS, n, m->cc->res->id);
	if (n > lvh->value) {
		blocker(p, "mesh-too-large", m->cc->res->id,
		    "%s would connect %ld VNets; a mesh holds at most %ld even with %s (%s)",
		    m->cc->res->name, n, lvh->value, FEATURE_HIGH_SCALE, lvh->source);
	} else if (n > lv->value) {
		limit_row(p, LIMIT_MESH_VNETS_HIGH_SCALE, n, m->cc->res->id);
		prereq(p, "feature-registration",
		    "%ld VNets exceed the %ld a mesh holds by default: register the preview feature "
		    "%s/%s on every subscription of the network manager and the mesh before the first "
		    "commit (%s)",
		    n, lv->value, FEATURE_NS, FEATURE_HIGH_SCALE, lv->source);
		if (!high_scale)
			blocker(p, "feature-not-registered", m->cc->res->id,
			    "%s would connect %ld VNets (over %ld) but the target does not register %s/%s",
			    m->cc->res->name, n, lv->value, FEATURE_NS, FEATURE_HIGH_SCALE);
	}

	/* private endpoints */
	for (i = 0; i < m->nmembers; i++) {
		long pe = (long)m->members[i]->nprivate_endpoints;
		total += pe;
		if (pe > maxv || busiest == NULL) {
			maxv = pe;
			busiest = m->members[i];
		}
	}
	limit_row(p, LIMIT_MESH_PE, total, m->cc->res->id);
	limit_row(p, LIMIT_VNET_PE, maxv, busiest != NULL ? busiest->res->id : NULL);
	if (total > lph->value)
		blocker(p, "private-endpoints-over-limit", m->cc->res->id,
		    "%s would hold %ld private endpoints; a mesh holds at most %ld even with "
		    "High-Scale Private Endpoints (%s)", m->cc->res->name, total, lph->value, lph->source);
	if (maxv > lvph->value)
		blocker(p, "private-endpoints-over-limit", busiest->res->id,
		    "VNet %s has %ld private endpoints; a mesh member holds at most %ld even with "
		    "High-Scale Private Endpoints (%s)", busiest->res->name, maxv, lvph->value, lvph->source);
	if (total > lp->value || maxv > lvp->value) {
		limit_row(p, LIMIT_MESH_PE_HSPE, total, m->cc->res->id);
		limit_row(p, LIMIT_VNET_PE_HSPE, maxv, busiest->res->id);
		prereq(p, "hspe",
		    "%ld private endpoints in the mesh (limit %ld) and up to %ld in one VNet (limit %ld, "
		    "%s): High-Scale Private Endpoints must be on for every member before the first "
		    "commit", total, lp->value, maxv, lvp->value, busiest->res->name);
		if (!m->cc->high_scale_private_endpoints)
			blocker(p, "hspe-required", m->cc->res->id,
			    "%s needs High-Scale Private Endpoints (%ld private endpoints in the mesh, up "
			    "to %ld in %s) but its connectedGroupPrivateEndpointsScale is not HighScale",
			    m->cc->res->name, total, maxv, busiest->res->name);
	}
	if (m->cc->high_scale_private_endpoints) {
		/* AVNM refuses a HighScale deployment while any member is not ready */
		for (i = 0; i < m->nmembers; i++) {
			const struct topo_vnet *v = m->members[i];
			const char *why = NULL, *sname = NULL;

			if (v->pe_vnet_policies == NULL || strcasecmp(v->pe_vnet_policies, "Basic") != 0)
				why = "privateEndpointVNetPolicies is not Basic";
			for (k = 0; why == NULL && k < v->nsubnets; k++)
				if (v->subnets[k].nprivate_endpoints > 0 &&
				    !str_in(v->subnets[k].pe_network_policies, ready)) {
					why = "privateEndpointNetworkPolicies is neither Enabled nor RouteTableEnabled";
					sname = v->subnets[k].name;
				}
			if (why != NULL) {
				blocker(p, "hspe-not-ready", v->res->id,
				    "%s uses High-Scale Private Endpoints but in the target %s%s%s %s",
				    m->cc->res->name, v->res->name, sname ? ", subnet " : "", sname ? sname : "",
				    why);
				break;
			}
		}
		if (!feature_registered(p->tgt, FEATURE_NS "/" FEATURE_HSPE) &&
		    !feature_registered(p->cur, FEATURE_NS "/" FEATURE_HSPE))
			prereq(p, "hspe-feature",
			    "High-Scale Private Endpoints also need the feature %s/%s registered "
			    "(learn private-link/increase-private-endpoint-vnet-limits); the topology says "
			    "it is not", FEATURE_NS, FEATURE_HSPE);
	}

	rc = mesh_check_overlap(p, m);
	if (rc != 0)
		return rc;

	/* members in several regions only mesh across them with isGlobal */
	{
		const char *r0 = NULL, *r1 = NULL;
		bool global = m->cc->is_global;

		for (k = 0; k < m->cc->ngroups; k++)
			global |= m->cc->groups[k].is_global;
		for (i = 0; i < m->nmembers && r1 == NULL; i++) {
			const char *loc = m->members[i]->res->location;
			if (loc == NULL)
				continue;
			if (r0 == NULL)
				r0 = loc;
			else if (strcasecmp(r0, loc) != 0)
				r1 = loc;
		}
		if (r1 != NULL && !global)
			finding(p, "warning", "mesh-not-global", m->cc->res->id,
			    "members of %s are in several regions (%s, %s, ...) but isGlobal is False: the "
			    "mesh connects members only within each region", m->cc->res->name, r0, r1);
	}

	/* connected groups per VNet */
	rc = connected_group_counts(p, &cg);
	if (rc != 0)
		return rc;
	for (i = 0; i < m->nmembers; i++) {
		const struct topo_vnet *cv = topology_find_vnet(p->cur, m->members[i]->res->id);
		unsigned c;

		if (cv == NULL)
			continue;
		c = cg[cv - p->cur->vnets];
		if (c + 1 > cgmax || cgv == NULL) {
			cgmax = c + 1;
			cgv = cv;
		}
		if (c >= (unsigned)lcg->value)
			blocker(p, "connected-groups", cv->res->id,
			    "%s is already in %u connected groups; a VNet can be in at most %ld (%s), so "
			    "it cannot join %s", cv->res->name, c, lcg->value, lcg->source, m->cc->res->name);
	}
	if (cgv != NULL)
		limit_row(p, LIMIT_CONNECTED_GROUPS_PER_VNET, (long)cgmax, cgv->res->id);
	free(cg);

	/* the network manager must see every member */
	scope = json_path(m->nm->res->json, "properties", "networkManagerScopes", NULL);
	if (json_array_size(json_object_get(scope, "managementGroups")) == 0) {
		const json_t *subs = json_object_get(scope, "subscriptions");

		for (i = 0; i < m->nmembers; i++) {
			const char *sub = m->members[i]->res->subscription;
			const json_t *s;
			bool found = false;

			if (sub == NULL)
				continue;
			json_array_foreach(subs, k, s) {
				const char *v = json_string_value(s);
				if (v != NULL && strncasecmp(v, "/subscriptions/", 15) == 0)
					v += 15;
				if (v != NULL && strcasecmp(v, sub) == 0)
					found = true;
			}
			if (!found) {
				blocker(p, "scope", m->nm->res->id,
				    "network manager %s does not have subscription %s (of %s) in its scope",
				    m->nm->res->name, sub, m->members[i]->res->name);
				break;
			}
		}
	}
	return 0;
}

/*
 * Spokes that stay on their firewall path: matched by the change's member
 * selector (x-netwave-changes) but not in the mesh; without the changes,
 * spokes outside the mesh whose user routes send a member's space to an
 * appliance.
 */
static int
find_inspected(struct pl *p)
{
	const json_t *changes = json_object_get(p->tgt->root, "x-netwave-changes");
	const struct topology *t = p->cur;
	struct intent_selector sel[8];
	size_t nsel = 0, i, k, r;
	const json_t *c;
	int rc = 0;

	if (p->nmesh == 0)
		return 0;
	json_array_foreach(changes, i, c) {
		const json_t *members = json_object_get(c, "members");
		const char *kind = json_str(c, "kind");
		char ptr[64];

		if (kind == NULL || strcmp(kind, "avnm-mesh") != 0 || members == NULL || nsel == 8)
			continue;
		snprintf(ptr, sizeof(ptr), "/x-netwave-changes/%zu/members", i);
		rc = intent_selector_parse(&sel[nsel], members, p->tgt->source, ptr, p->err);
		if (rc != 0)
			goto done;
		nsel++;
	}
	for (i = 0; i < t->nvnets; i++) {
		const struct topo_vnet *v = &t->vnets[i];
		bool inspected = false;

		if (p->is_hub[i] || idset_get(p->memberset, v->res->id) != NULL)
			continue;
		if (nsel > 0) {
			for (k = 0; k < nsel && !inspected; k++)
				inspected = intent_selector_match(&sel[k], v->res);
		} else {
			for (k = 0; k < v->nsubnets && !inspected; k++) {
				const struct topo_route_table *rt = v->subnets[k].route_table;

				for (r = 0; rt != NULL && r < rt->nroutes && !inspected; r++) {
					const struct topo_route *ro = &rt->routes[r];

					if (ro->next_hop != NH_VIRTUAL_APPLIANCE && ro->next_hop != NH_VIRTUAL_APPLIANCE_ECMP)
						continue;
					for (size_t m = 0; m < p->nmember_prefixes && !inspected; m++)
						inspected = cidr_contains(&ro->prefix, &p->member_prefixes[m]);
				}
			}
		}
		if (inspected) {
			json_array_append_new(p->inspected, json_string(v->res->id));
			finding(p, "info", "stays-inspected", v->res->id,
			    "%s stays on its firewall path: its user routes send traffic for other spokes to "
			    "an appliance, which a mesh route would bypass, so it is not put in the mesh",
			    v->res->name);
		}
	}
done:
	for (k = 0; k < nsel; k++)
		intent_selector_free(&sel[k]);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Wave assignment */

int
planner_waves_assign(size_t *out, const struct intent_rollout *ro,
    const struct topo_vnet *const *vnets, size_t n, json_t *warnings, struct nw_err *err)
{
	size_t *count = NULL, i, w, last_open = SIZE_MAX;
	char msg[1024];

	if (ro == NULL || ro->nwaves == 0) {
		for (i = 0; i < n; i++)
			out[i] = 0;
		return 0;
	}
	count = calloc(ro->nwaves, sizeof(*count));
	if (count == NULL)
		return err_set(err, NW_ENOMEM, "out of memory assigning waves");
	for (w = 0; w < ro->nwaves; w++)
		if (!ro->waves[w].has_members)
			last_open = w;
	for (i = 0; i < n; i++) {
		size_t first = SIZE_MAX, chosen = SIZE_MAX;

		for (w = 0; w < ro->nwaves && first == SIZE_MAX; w++)
			if (ro->waves[w].has_members && intent_selector_match(&ro->waves[w].members, vnets[i]->res))
				first = w;
		if (first == SIZE_MAX)
			first = last_open;
		if (first == SIZE_MAX) {
			first = ro->nwaves - 1;
			if (warnings != NULL) {
				snprintf(msg, sizeof(msg),
				    "%s matches no wave and the rollout has no wave without a selector; it goes "
				    "to the last wave, %s", vnets[i]->res->name, ro->waves[first].name);
				json_array_append_new(warnings, json_string(msg));
			}
		}
		/* the overflow of a capped wave moves on to the next wave with room */
		for (w = first; w < ro->nwaves; w++)
			if (ro->waves[w].max == 0 || count[w] < ro->waves[w].max) {
				chosen = w;
				break;
			}
		if (chosen == SIZE_MAX) {
			chosen = ro->nwaves - 1;
			if (warnings != NULL) {
				snprintf(msg, sizeof(msg),
				    "%s does not fit under any wave's max; it goes to the last wave, %s, beyond "
				    "its max of %zu", vnets[i]->res->name, ro->waves[chosen].name,
				    ro->waves[chosen].max);
				json_array_append_new(warnings, json_string(msg));
			}
		}
		count[chosen]++;
		out[i] = chosen;
	}
	for (w = 0; w < ro->nwaves && warnings != NULL; w++)
		if (count[w] == 0) {
			snprintf(msg, sizeof(msg), "wave %s is empty and is dropped", ro->waves[w].name);
			json_array_append_new(warnings, json_string(msg));
		}
	free(count);
	return 0;
}

/* ------------------------------------------------------------------ */
/* avnm-mesh, phase 0 and 2: feature registration, manager, group, configuration */

static json_t *
sorted_keys(const json_t *obj)
{
	json_t *arr = json_array();
	const char **v = NULL;
	const char *k;
	json_t *x;
	size_t n = 0, i;

	if (arr == NULL)
		return NULL;
	v = malloc((json_object_size(obj) + 1) * sizeof(*v));
	if (v == NULL) {
		json_decref(arr);
		return NULL;
	}
	json_object_foreach((json_t *)obj, k, x)
		v[n++] = k;
	qsort(v, n, sizeof(*v), cmp_str_ci);
	for (i = 0; i < n; i++)
		json_array_append_new(arr, json_string(v[i]));
	free(v);
	return arr;
}

static json_t *
mesh_subscriptions(const struct pl *p)
{
	json_t *set = json_object(), *arr;
	size_t i, k;

	if (set == NULL)
		return NULL;
	/* AVNM connectivity configuration (high-scale private endpoints) and private-link
	 * increase-private-endpoint-vnet-limits: register on every subscription that holds the
	 * network manager or a member VNet */
	for (i = 0; i < p->nmesh; i++) {
		if (p->mesh[i].nm->res->subscription != NULL)
			json_object_set_new(set, p->mesh[i].nm->res->subscription, json_true());
		for (k = 0; k < p->mesh[i].nmembers; k++)
			if (p->mesh[i].members[k]->res->subscription != NULL)
				json_object_set_new(set, p->mesh[i].members[k]->res->subscription, json_true());
	}
	arr = sorted_keys(set);
	json_decref(set);
	return arr;
}

/*
 * A resource group the plan writes into that does not exist: created first
 * (https://learn.microsoft.com/rest/api/resources/resource-groups/create-or-update).
 * Its inverse deletes the group only when this step created it and it is
 * empty when rolled back ("Resource Groups - Delete" deletes every resource
 * in the group); the apply engine checks both before sending it.
 */
static int
rg_steps(struct pl *p, struct wave *w, const json_t *missing, json_t *rg_step_of)
{
	const json_t *g;
	size_t i;

	json_array_foreach(missing, i, g) {
		const char *id = json_str(g, "id");
		const char *loc = json_str(g, "location") != NULL ? json_str(g, "location") : "global";
		json_t *inv = op_new("DELETE", id, RGROUPS_API, NULL), *st;
		struct step_spec s = {
			.procedure = proc_name[PROC_MESH], .action = "create-resource-group", .resource = id,
			.op = op_new("PUT", id, RGROUPS_API, json_pack("{s:s}", "location", loc)),
			.expect = json_pack("[o]", expect_eq("/properties/provisioningState", "Succeeded")),
			.reads = 1, .writes = 1,
		};

		/* a PUT replaces a group's tags: one made since the plan is left alone */
		if (s.op != NULL)
			json_object_set_new(s.op, "condition", json_string("absent"));
		if (inv != NULL)
			json_object_set_new(inv, "condition", json_string("created-and-empty"));
		s.inverse = inv;
		st = step_add(w, &s, "create resource group %s in subscription %s (%s)",
		    json_str(g, "resourceGroup"), json_str(g, "subscription"), loc);
		if (st == NULL || idset_add(rg_step_of, id, json_string(step_id(st))) != 0)
			return NW_ENOMEM;
	}
	return 0;
}

/* The create-resource-group step the resource's group needs, as a new depends array. */
static json_t *
rg_depends(const json_t *rg_step_of, const char *resource_id, json_t *depends)
{
	char gid[600];
	const char *p = resource_id != NULL ? strchr(resource_id + (resource_id[0] == '/'), '/') : NULL;
	const json_t *st;
	size_t n;

	if (depends == NULL)
		depends = json_array();
	if (depends == NULL || p == NULL)
		return depends;
	/* "/subscriptions/S/resourceGroups/G" is the id up to the fifth slash */
	p = strchr(p + 1, '/');
	p = p != NULL ? strchr(p + 1, '/') : NULL;
	p = p != NULL ? strchr(p + 1, '/') : NULL;
	n = p != NULL ? (size_t)(p - resource_id) : strlen(resource_id);
	if (n >= sizeof(gid))
		return depends;
	memcpy(gid, resource_id, n);
	gid[n] = '\0';
	st = idset_get(rg_step_of, gid);
	if (st != NULL)
		json_array_append(depends, (json_t *)st);
	return depends;
}

/*
 * A target that records a group the current estate lacks (the target
 * predicts the groups a change creates): the procedure that writes into
 * the group claims its record, and wave_prepare creates it.
 */
static void
rg_claim(struct pl *p)
{
	size_t i, k;

	for (i = 0; i < p->diff.n; i++) {
		struct diff_entry *e = &p->diff.v[i];
		size_t n = strlen(e->resource_id);

		if (e->claimed_by != NULL || e->kind != DIFF_ADDED || !rgroups_is_group_type(e->type))
			continue;
		for (k = 0; k < p->diff.n && e->claimed_by == NULL; k++) {
			const struct diff_entry *o = &p->diff.v[k];
			if (o->claimed_by != NULL && strncasecmp(o->resource_id, e->resource_id, n) == 0 &&
			    o->resource_id[n] == '/')
				e->claimed_by = o->claimed_by;
		}
	}
}

/* PUT target body, inverse DELETE (created) or PUT of the current body (changed). */
static json_t *
put_resource_step(struct pl *p, struct wave *w, const struct topo_resource *tr, const char *action,
    json_t *depends, const char *what)
{
	struct topo_resource *cr = topology_find(p->cur, tr->id);
	struct step_spec s = {
		.procedure = proc_name[PROC_MESH], .action = action, .resource = tr->id,
		.op = op_new("PUT", tr->id, API_NETWORK, wire_body(tr->json)),
		.inverse = cr == NULL ? op_new("DELETE", tr->id, API_NETWORK, NULL) :
		    op_new("PUT", tr->id, API_NETWORK, wire_body(cr->json)),
		.expect = json_pack("[o]", expect_eq("/properties/provisioningState", "Succeeded")),
		.depends = depends, .reads = 2, .writes = 1,
	};

	return step_add(w, &s, "%s %s %s", cr == NULL ? "create" : "update", what, tr->name);
}

static int
wave_prepare(struct pl *p)
{
	struct wave *w = NULL;
	json_t *features = NULL, *subs = NULL, *reg_steps = NULL, *checks = NULL, *created = NULL;
	json_t *nm_done = NULL, *ng_done = NULL, *missing = NULL, *rg_step_of = NULL;
	size_t i, g;
	int rc = NW_ENOMEM;

	if (rgroups_missing(&missing, p->cur, p->tgt, p->err) != 0)
		return NW_ENOMEM;
	if (p->nmesh == 0 && json_array_size(missing) == 0) {
		json_decref(missing);
		return 0;
	}
	/* is there anything to prepare? */
	{
		bool any = json_object_size(p->features) > 0 || json_array_size(missing) > 0;
		for (i = 0; i < p->nmesh && !any; i++) {
			const struct mesh *m = &p->mesh[i];
			any = m->nm_cur == NULL || m->cc_cur == NULL ||
			    idset_get(p->changed, m->nm->res->id) != NULL ||
			    idset_get(p->changed, m->cc->res->id) != NULL;
			for (g = 0; g < m->cc->ngroups && !any; g++)
				any = idset_get(p->changed, m->cc->groups[g].network_group_id) != NULL;
		}
		if (!any) {
			json_decref(missing);
			return 0;
		}
	}
	w = wave_new(p, WAVE_PREPARE, "prepare");
	rg_step_of = json_object();
	features = sorted_keys(p->features);
	subs = mesh_subscriptions(p);
	reg_steps = json_array();
	checks = json_array();
	created = json_array();
	nm_done = json_object();
	ng_done = json_object();
	if (w == NULL || features == NULL || subs == NULL || reg_steps == NULL || checks == NULL ||
	    created == NULL || nm_done == NULL || ng_done == NULL || rg_step_of == NULL)
		goto done;

	/* phase 0: the resource groups the change writes into that do not exist yet */
	if (rg_steps(p, w, missing, rg_step_of) != 0)
		goto done;

	/* phase 0: preview features, then the provider re-registration that propagates them */
	if (json_array_size(features) > 0) {
		const json_t *fv, *sv;
		size_t fi, si;

		json_array_foreach(subs, si, sv) {
			const char *sub = json_string_value(sv);
			json_t *deps = json_array();

			json_array_foreach(features, fi, fv) {
				const char *full = json_string_value(fv);
				const char *slash = strchr(full, '/');
				const char *fname = slash != NULL ? slash + 1 : full;
				char path[1024], inv[1024], res[768];
				json_t *st;
				struct step_spec s = {
					.procedure = proc_name[PROC_MESH], .action = "register-feature",
					.reads = 2, .writes = 1,
				};

				snprintf(res, sizeof(res),
				    "/subscriptions/%s/providers/Microsoft.Features/providers/%s/features/%s",
				    sub, FEATURE_NS, fname);
				snprintf(path, sizeof(path), "%s/register", res);
				snprintf(inv, sizeof(inv), "%s/unregister", res);
				s.resource = res;
				s.op = op_new("POST", path, API_FEATURES, NULL);
				s.inverse = op_new("POST", inv, API_FEATURES, NULL);
				s.expect = json_pack("[o]", expect_eq("/properties/state", "Registered"));
				st = step_add(w, &s, "register the preview feature %s on subscription %s", full, sub);
				if (st == NULL)
					goto done;
				json_array_append_new(deps, json_string(step_id(st)));
			}
			{
				char path[512];
				struct step_spec s = {
					.procedure = proc_name[PROC_MESH], .action = "register-provider",
					.reads = 2, .writes = 1, .depends = deps,
				};
				json_t *st;

				snprintf(path, sizeof(path), "/subscriptions/%s/providers/%s/register", sub, FEATURE_NS);
				s.resource = path;
				s.op = op_new("POST", path, API_PROVIDERS, NULL);
				s.inverse = op_none("re-registering a provider only propagates the feature state; "
				    "there is nothing to undo");
				s.expect = json_pack("[o]", expect_eq("/registrationState", "Registered"));
				st = step_add(w, &s, "re-register %s on subscription %s so the feature takes effect",
				    FEATURE_NS, sub);
				if (st == NULL)
					goto done;
				json_array_append_new(reg_steps, json_string(step_id(st)));
			}
		}
		if (gate_add(w, GATE_FEATURE_REGISTERED, "after",
		    json_pack("{s:O, s:O, s:s}", "features", features, "subscriptions", subs, "state",
		    "Registered"), (int)(json_array_size(features) * json_array_size(subs)),
		    "the preview features are Registered on every subscription of the network manager "
		    "and the mesh") != 0)
			goto done;
	}

	/* phase 2: network manager, network groups, connectivity configuration; nothing deployed */
	for (i = 0; i < p->nmesh; i++) {
		const struct mesh *m = &p->mesh[i];
		json_t *nm_dep = NULL, *ng_deps = json_array(), *st;

		if (ng_deps == NULL)
			goto done;
		if (idset_get(nm_done, m->nm->res->id) == NULL &&
		    (m->nm_cur == NULL || idset_get(p->changed, m->nm->res->id) != NULL)) {
			st = put_resource_step(p, w, m->nm->res, "put-network-manager",
			    rg_depends(rg_step_of, m->nm->res->id, json_copy(reg_steps)), "network manager");
			if (st == NULL) {
				json_decref(ng_deps);
				goto done;
			}
			nm_dep = json_string(step_id(st));
			json_array_append_new(checks, json_pack("{s:s, s:s, s:s}", "resource", m->nm->res->id,
			    "pointer", "/properties/provisioningState", "equals", "Succeeded"));
			if (m->nm_cur == NULL)
				json_array_append_new(created, json_string(m->nm->res->name));
			idset_add(nm_done, m->nm->res->id, json_string(step_id(st)));
		} else if (idset_get(nm_done, m->nm->res->id) != NULL) {
			nm_dep = json_incref(idset_get(nm_done, m->nm->res->id));
		}
		for (g = 0; g < m->cc->ngroups; g++) {
			const struct topo_network_group *ng = m->cc->groups[g].group;
			json_t *deps;

			if (ng == NULL || idset_get(ng_done, ng->res->id) != NULL)
				continue;
			if (topology_find(p->cur, ng->res->id) != NULL && idset_get(p->changed, ng->res->id) == NULL)
				continue;
			deps = json_array();
			if (nm_dep != NULL)
				json_array_append(deps, nm_dep);
			st = put_resource_step(p, w, ng->res, "put-network-group", deps, "network group");
			if (st == NULL) {
				json_decref(nm_dep);
				json_decref(ng_deps);
				goto done;
			}
			json_array_append_new(ng_deps, json_string(step_id(st)));
			json_array_append_new(checks, json_pack("{s:s, s:s, s:s}", "resource", ng->res->id,
			    "pointer", "/properties/provisioningState", "equals", "Succeeded"));
			if (topology_find(p->cur, ng->res->id) == NULL)
				json_array_append_new(created, json_string(ng->res->name));
			idset_add(ng_done, ng->res->id, NULL);
		}
		if (m->cc_cur == NULL || idset_get(p->changed, m->cc->res->id) != NULL) {
			if (json_array_size(ng_deps) == 0 && nm_dep != NULL)
				json_array_append(ng_deps, nm_dep);
			st = put_resource_step(p, w, m->cc->res, "put-connectivity-configuration", ng_deps,
			    "mesh connectivity configuration");
			ng_deps = NULL;
			if (st == NULL) {
				json_decref(nm_dep);
				goto done;
			}
			json_array_append_new(checks, json_pack("{s:s, s:s, s:s}", "resource", m->cc->res->id,
			    "pointer", "/properties/provisioningState", "equals", "Succeeded"));
			if (m->cc_cur == NULL)
				json_array_append_new(created, json_string(m->cc->res->name));
		}
		json_decref(ng_deps);
		json_decref(nm_dep);
		/* the rehearsal needs these in place before any commit */
		json_array_append(w->fx_put, m->nm->res->json);
		json_array_append(w->fx_put, m->cc->res->json);
		for (g = 0; g < m->cc->ngroups; g++)
			if (m->cc->groups[g].group != NULL)
				json_array_append(w->fx_put, m->cc->groups[g].group->res->json);
	}
	if (json_array_size(checks) > 0 &&
	    gate_add(w, GATE_RESOURCE_STATE, "after", json_pack("{s:O}", "checks", checks),
	    (int)json_array_size(checks), "the network manager, groups and configuration are provisioned") != 0)
		goto done;
	wave_risk(w, "none to traffic: a configuration does nothing until it is committed, which the "
	    "mesh waves do");
	if (json_array_size(features) > 0)
		wave_risk(w, "feature registration can stay Pending or Registering for a while; the "
		    "mesh waves wait for the gate");
	{
		char names[1024] = "";
		const json_t *x;
		size_t ci;

		json_array_foreach(created, ci, x) {
			if (ci > 0)
				strncat(names, ci + 1 == json_array_size(created) ? " and " : ", ",
				    sizeof(names) - strlen(names) - 1);
			strncat(names, json_string_value(x), sizeof(names) - strlen(names) - 1);
		}
		char groups[1024] = "";

		json_array_foreach(missing, ci, x) {
			if (ci > 0)
				strncat(groups, ", ", sizeof(groups) - strlen(groups) - 1);
			strncat(groups, json_str(x, "resourceGroup"), sizeof(groups) - strlen(groups) - 1);
		}
		wave_rollback(w, "%s%s%s%s%s%s%s",
		    names[0] ? "delete " : "", names, names[0] ? ", in reverse order of creation" : "",
		    json_array_size(features) > 0 ?
		    (names[0] ? "; unregister the preview features registered here" :
		    "unregister the preview features registered here") :
		    (names[0] || groups[0] ? "" :
		    "put back the previous network manager, group and configuration"),
		    groups[0] ? (names[0] || json_array_size(features) > 0 ? "; then delete the resource "
		    "group " : "delete the resource group ") : "", groups,
		    groups[0] ? " only if this plan created it and it is empty (one that existed before "
		    "stays)" : "");
	}
	rc = 0;
done:
	json_decref(features);
	json_decref(subs);
	json_decref(reg_steps);
	json_decref(checks);
	json_decref(created);
	json_decref(nm_done);
	json_decref(ng_done);
	json_decref(missing);
	json_decref(rg_step_of);
	return rc == 0 ? 0 : nomem(p);
}

/*
 * Another body like b (made by wire_body or subnet_body), new at the levels
 * those make new and sharing the levels below, which neither may modify:
 * an operation and its inverse often put the same resource, and building
 * the body twice walks and copies it twice.
 */
static json_t *
body_dup(const json_t *b)
{
	json_t *out = json_copy((json_t *)b), *props, *subnets, *na, *sn, *x;
	size_t i;

	if (out == NULL)
		return NULL;
	props = json_object_get(out, "properties");
	if (!json_is_object(props))
		return out;
	if ((props = json_copy(props)) == NULL || json_object_set_new(out, "properties", props) != 0)
		goto fail;
	subnets = json_object_get(props, "subnets");
	if (!json_is_array(subnets))
		return out;
	if ((na = json_array()) == NULL || json_object_set_new(props, "subnets", na) != 0)
		goto fail;
	json_array_foreach(subnets, i, x) {
		if ((sn = json_copy(x)) == NULL || json_array_append_new(na, sn) != 0)
			goto fail;
		if (json_is_object(json_object_get(sn, "properties")) &&
		    json_object_set_new(sn, "properties", json_copy(json_object_get(sn, "properties"))) != 0)
			goto fail;
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* avnm-mesh, phase 1: High-Scale Private Endpoints, in maintenance-window batches */

static json_t *
subnet_body(const json_t *subnet)
{
	json_t *b = json_object(), *p = json_object_get(subnet, "properties");

	if (b == NULL)
		return NULL;
	if (json_is_object(p))
		json_object_set_new(b, "properties", fresh_object(p, SUBNET_READONLY));
	return b;
}

/* The hub a spoke hangs off (its first peering to a hub), or NULL. */
static const struct topo_vnet *
hub_of(const struct pl *p, const struct topo_vnet *v)
{
	size_t i;

	for (i = 0; i < v->npeerings; i++) {
		const struct topo_vnet *r = v->peerings[i].remote;
		if (r != NULL && p->is_hub[r - p->cur->vnets])
			return r;
	}
	return NULL;
}

struct hspe_item {
	const struct topo_vnet *hub;
	const struct topo_vnet *v;
	const json_t *rec;
};

static int
cmp_hspe_item(const void *a, const void *b)
{
	const struct hspe_item *x = a, *y = b;
	int c;

	if (x->hub != y->hub) {
		if (x->hub == NULL)
			return 1;
		if (y->hub == NULL)
			return -1;
		c = topo_id_compare(x->hub->res->id, y->hub->res->id);
		if (c != 0)
			return c;
	}
	return topo_id_compare(x->v->res->id, y->v->res->id);
}

static const char *
window_text(const struct pl *p, char *buf, size_t size)
{
	if (p->ro.has_maintenance_window && p->ro.window_start != NULL)
		snprintf(buf, size, "the maintenance window starting %s (%ld minutes)", p->ro.window_start,
		    p->ro.window_seconds / 60);
	else
		snprintf(buf, size, "a maintenance window (the rollout gives none: schedule one)");
	return buf;
}

static int
hspe_vnet_steps(struct pl *p, struct wave *w, const struct topo_vnet *v, const json_t *rec,
    json_t *checks, long *npe)
{
	const json_t *subs = json_object_get(rec, "subnets");
	const char *vpol = json_str(rec, "vnet");
	json_t *deps = json_array(), *names = sorted_keys(subs), *nv, *body, *inv, *st;
	size_t i, k;
	char wt[256];

	if (deps == NULL || names == NULL)
		goto fail;
	window_text(p, wt, sizeof(wt));
	json_array_foreach(names, i, nv) {
		const char *sname = json_string_value(nv);
		const char *pol = json_string_value(json_object_get(subs, sname));
		const struct topo_subnet *sn = NULL;
		char sid[2048];

		for (k = 0; k < v->nsubnets; k++)
			if (strcasecmp(v->subnets[k].name, sname) == 0)
				sn = &v->subnets[k];
		if (sn == NULL)
			continue;
		*npe += (long)sn->nprivate_endpoints;
		snprintf(sid, sizeof(sid), "%s", sn->id);
		inv = subnet_body(sn->json);
		body = inv != NULL ? body_dup(inv) : NULL;
		if (body == NULL) {
			json_decref(inv);
			goto fail;
		}
		json_object_set_new(json_object_get(body, "properties"), "privateEndpointNetworkPolicies",
		    json_string(pol));
		{
			struct step_spec s = {
				.procedure = proc_name[PROC_MESH], .action = "set-subnet-private-endpoint-policies",
				.resource = sid, .serialize = v->res->id, .lro = true, .mw = true,
				.op = op_new("PUT", sid, API_NETWORK, body),
				.inverse = op_new("PUT", sid, API_NETWORK, inv),
				.expect = json_pack("[o]", expect_eq("/properties/privateEndpointNetworkPolicies", pol)),
				.reads = 2, .writes = 1,
			};
			st = step_add(w, &s, "set privateEndpointNetworkPolicies %s on subnet %s of %s "
			    "(%zu private endpoints), inside %s", pol, sn->name, v->res->name,
			    sn->nprivate_endpoints, wt);
		}
		if (st == NULL)
			goto fail;
		json_array_append_new(deps, json_string(step_id(st)));
	}
	if (vpol != NULL) {
		json_t *sarr;

		inv = wire_body(v->res->json);
		body = inv != NULL ? body_dup(inv) : NULL;
		if (body == NULL) {
			json_decref(inv);
			goto fail;
		}
		json_object_set_new(json_object_get(body, "properties"), "privateEndpointVNetPolicies",
		    json_string(vpol));
		/* the VNet body carries its subnets: with the policies just set, not the old ones */
		sarr = json_path(body, "properties", "subnets", NULL);
		json_array_foreach(sarr, i, nv) {
			const char *sname = json_str(nv, "name");
			const json_t *pol = sname != NULL ? json_object_get(subs, sname) : NULL;
			if (pol != NULL && json_object_get(nv, "properties") != NULL)
				json_object_set(json_object_get(nv, "properties"), "privateEndpointNetworkPolicies",
				    (json_t *)pol);
		}
		{
			struct step_spec s = {
				.procedure = proc_name[PROC_MESH], .action = "set-vnet-private-endpoint-policies",
				.resource = v->res->id, .serialize = v->res->id, .lro = true, .mw = true,
				.op = op_new("PUT", v->res->id, API_NETWORK, body),
				.inverse = op_new("PUT", v->res->id, API_NETWORK, inv),
				.expect = json_pack("[o]", expect_eq("/properties/privateEndpointVNetPolicies", vpol)),
				.depends = deps, .reads = 2, .writes = 1,
			};
			deps = NULL;
			st = step_add(w, &s, "set privateEndpointVNetPolicies %s on %s (High-Scale Private "
			    "Endpoints; resets its private endpoint connections for about a second), inside %s",
			    vpol, v->res->name, wt);
		}
		if (st == NULL)
			goto fail;
		json_array_append_new(checks, json_pack("{s:s, s:s, s:s}", "resource", v->res->id, "pointer",
		    "/properties/privateEndpointVNetPolicies", "equals", vpol));
	}
	json_decref(deps);
	json_decref(names);
	return 0;
fail:
	json_decref(deps);
	json_decref(names);
	return nomem(p);
}

static int
waves_hspe(struct pl *p)
{
	struct hspe_item *items = NULL;
	size_t n = 0, i, start;
	const char *k;
	json_t *rec;
	int rc = 0;

	if (json_object_size(p->hspe_vnets) == 0)
		return 0;
	items = calloc(json_object_size(p->hspe_vnets), sizeof(*items));
	if (items == NULL)
		return nomem(p);
	json_object_foreach(p->hspe_vnets, k, rec) {
		const struct topo_vnet *v = topology_find_vnet(p->cur, json_str(rec, "id"));
		if (v == NULL)
			continue;
		items[n].v = v;
		items[n].hub = hub_of(p, v);
		items[n].rec = rec;
		n++;
	}
	qsort(items, n, sizeof(*items), cmp_hspe_item);
	/* one batch per hub-and-spoke topology, as seeds/003 does it */
	for (start = 0; start < n && rc == 0; start = i) {
		struct wave *w;
		json_t *checks = json_array();
		long npe = 0;
		char name[128], wt[256];

		for (i = start; i < n && items[i].hub == items[start].hub; i++)
			;
		snprintf(name, sizeof(name), "hspe-%s", items[start].hub != NULL ?
		    items[start].hub->res->name : "unattached");
		w = wave_new(p, WAVE_HSPE, name);
		if (w == NULL || checks == NULL) {
			json_decref(checks);
			rc = nomem(p);
			break;
		}
		for (size_t j = start; j < i && rc == 0; j++) {
			json_array_append_new(w->members, json_string(items[j].v->res->id));
			rc = hspe_vnet_steps(p, w, items[j].v, items[j].rec, checks, &npe);
		}
		if (rc != 0) {
			json_decref(checks);
			break;
		}
		if (json_array_size(checks) > 0)
			rc = gate_add(w, GATE_RESOURCE_STATE, "after", json_pack("{s:o}", "checks", checks),
			    (int)json_array_size(checks),
			    "every VNet of the batch has privateEndpointVNetPolicies Basic");
		else
			json_decref(checks);
		wave_risk(w, "enabling High-Scale Private Endpoints resets the existing private endpoint "
		    "connections of each of these %zu VNets (%ld private endpoints) for about one second "
		    "(seeds/003): run it inside %s", i - start, npe, window_text(p, wt, sizeof(wt)));
		wave_risk(w, "once HSPE is on, per-private-endpoint bytes in/out metrics are no longer "
		    "available, and on-premises private endpoint traffic is billed on the gateway VNet");
		wave_rollback(w, "put back each VNet's previous privateEndpointVNetPolicies and its subnets' "
		    "previous privateEndpointNetworkPolicies (the inverse PUTs); turning HSPE off resets the "
		    "private endpoint connections again, so roll back inside the window too");
	}
	free(items);
	return rc;
}

/* ------------------------------------------------------------------ */
/* avnm-mesh, phase 3: static members, then a goal-state commit per region */

static json_t *
deploy_region(json_t *deploy, const char *nm, const char *region, bool create)
{
	json_t *m = NULL, *r = NULL, *v;
	const char *k;

	json_object_foreach(deploy, k, v)
		if (topo_id_compare(k, nm) == 0)
			m = v;
	if (m == NULL) {
		if (!create)
			return NULL;
		m = json_object();
		json_object_set_new(deploy, nm, m);
	}
	json_object_foreach(m, k, v)
		if (strcasecmp(k, region) == 0)
			r = v;
	if (r == NULL) {
		if (!create)
			return NULL;
		r = json_object();
		json_object_set_new(m, region, r);
	}
	return r;
}

/* What is active in (manager, region) now in the rehearsed sequence: a new array. */
static json_t *
deploy_list(json_t *deploy, const char *nm, const char *region)
{
	json_t *r = deploy_region(deploy, nm, region, false), *v = NULL;
	const char *k;
	json_t *x;

	json_object_foreach(r, k, x)
		if (strcasecmp(k, "Connectivity") == 0)
			v = x;
	return json_is_array(v) ? json_deep_copy(v) : json_array();
}

static bool
json_ids_has(const json_t *arr, const char *id)
{
	const json_t *x;
	size_t i;

	json_array_foreach(arr, i, x)
		if (json_is_string(x) && topo_id_compare(json_string_value(x), id) == 0)
			return true;
	return false;
}

static bool
wave_name_taken(const struct pl *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nw; i++)
		if (strcmp(p->w[i].name, name) == 0)
			return true;
	return strcmp(name, "prepare") == 0 || strcmp(name, "summarize") == 0 ||
	    strcmp(name, "decommission") == 0 || strncmp(name, "hspe-", 5) == 0 ||
	    strncmp(name, "gateways-", 9) == 0;
}

static bool
mesh_needs_commit(const struct pl *p, const char *nm, const char *region)
{
	size_t i, k;

	for (i = 0; i < p->nmesh; i++) {
		const struct mesh *m = &p->mesh[i];
		bool in = false;

		if (topo_id_compare(m->nm->res->id, nm) != 0)
			continue;
		for (k = 0; k < m->nregions; k++)
			if (strcasecmp(m->regions[k], region) == 0)
				in = true;
		if (!in)
			continue;
		if (!deployment_has(find_deployment(p->cur, nm, region), m->cc->res->id) ||
		    idset_get(p->changed, m->cc->res->id) != NULL)
			return true;
	}
	return false;
}

static int
cmp_sm_vnet(const void *a, const void *b)
{
	const struct topo_static_member *const *x = a, *const *y = b;

	return topo_id_compare((*x)->vnet->res->id, (*y)->vnet->res->id);
}

/*
 * One mesh wave: rw is the rollout wave index (SIZE_MAX for a deploy-only
 * wave), wave_of maps each new member's id to its rollout wave.
 */
static bool any_new_in_region(const struct pl *p, const char *region);

static int
mesh_wave_build(struct pl *p, size_t rw, const char *name, const json_t *wave_of, bool first)
{
	struct wave *w = wave_new(p, WAVE_MESH, name);
	json_t *nm_list = json_array(), *first_regions = json_array(), *status = json_array();
	json_t *sm_deps = json_array(), *seen = json_object();
	size_t i, k, nmembers = 0;
	const json_t *nmv;
	char wname[128];
	int rc = NW_ENOMEM;

	if (w == NULL || nm_list == NULL || first_regions == NULL || status == NULL || sm_deps == NULL ||
	    seen == NULL)
		goto done;
	snprintf(wname, sizeof(wname), "%s", name);
	w->mesh_wave = 1;
	for (i = 0; i < p->nw - 1; i++)
		if (p->w[i].mesh_wave > 0)
			w->mesh_wave++;
	/* static members of this wave's VNets */
	for (i = 0; i < p->nmesh; i++) {
		struct mesh *m = &p->mesh[i];
		const struct topo_static_member **sorted;

		if (!json_ids_has(nm_list, m->nm->res->id))
			json_array_append_new(nm_list, json_string(m->nm->res->id));
		if (m->nadded == 0)
			continue;
		sorted = malloc(m->nadded * sizeof(*sorted));
		if (sorted == NULL)
			goto done;
		memcpy(sorted, m->added, m->nadded * sizeof(*sorted));
		qsort(sorted, m->nadded, sizeof(*sorted), cmp_sm_vnet);
		for (k = 0; k < m->nadded; k++) {
			const struct topo_static_member *sm = sorted[k];
			const struct topo_vnet *cv = topology_find_vnet(p->cur, sm->vnet->res->id);
			json_t *wi = idset_get(wave_of, sm->vnet->res->id), *st;
			struct step_spec s = {
				.procedure = proc_name[PROC_MESH], .action = "add-static-member",
				.resource = sm->res->id, .serialize = sm->vnet->res->id,
				.reads = 2, .writes = 1,
			};

			if (cv == NULL || wi == NULL || (size_t)json_integer_value(wi) != rw)
				continue;
			s.op = op_new("PUT", sm->res->id, API_NETWORK, wire_body(sm->res->json));
			s.inverse = op_new("DELETE", sm->res->id, API_NETWORK, NULL);
			s.expect = json_pack("[o]", expect_eq("/properties/provisioningState", "Succeeded"));
			st = step_add(w, &s, "add %s to network group %s", sm->vnet->res->name,
			    sm->group != NULL ? sm->group->res->name : "?");
			if (st == NULL) {
				free(sorted);
				goto done;
			}
			json_array_append_new(sm_deps, json_string(step_id(st)));
			json_array_append(w->fx_put, sm->res->json);
			if (idset_get(seen, cv->res->id) == NULL) {
				idset_add(seen, cv->res->id, NULL);
				json_array_append_new(w->members, json_string(cv->res->id));
				if (wave_add_vnet(w, (size_t)(cv - p->cur->vnets)) != 0) {
					free(sorted);
					goto done;
				}
				nmembers++;
			}
		}
		free(sorted);
	}
	/* the commits: goal state per region, keeping what is active there */
	json_array_foreach(nm_list, i, nmv) {
		const char *nm = json_string_value(nmv);
		const char **regions = NULL;
		size_t nreg = 0, r;

		for (k = 0; k < p->nmesh; k++) {
			if (topo_id_compare(p->mesh[k].nm->res->id, nm) != 0)
				continue;
			for (r = 0; r < p->mesh[k].nregions; r++) {
				size_t q;
				for (q = 0; q < nreg; q++)
					if (strcasecmp(regions[q], p->mesh[k].regions[r]) == 0)
						break;
				if (q < nreg)
					continue;
				{
					const char **x = realloc(regions, (nreg + 1) * sizeof(*x));
					if (x == NULL) {
						free(regions);
						goto done;
					}
					regions = x;
					regions[nreg++] = p->mesh[k].regions[r];
				}
			}
		}
		if (nreg > 1)
			qsort(regions, nreg, sizeof(*regions), cmp_str_ci);
		for (r = 0; r < nreg; r++) {
			const char *R = regions[r];
			bool has = false, was_committed;
			char key[1024];
			json_t *before, *list, *st, *body;
			const struct topo_deployment *dc = find_deployment(p->cur, nm, R);
			struct step_spec s = {
				.procedure = proc_name[PROC_MESH], .action = "commit", .serialize = nm,
				.lro = true, .reads = 2, .writes = 1,
			};
			char path[1024];

			for (k = 0; k < w->nvnets; k++) {
				const char *loc = p->cur->vnets[w->vnets[k]].res->location;
				if (loc != NULL && strcasecmp(loc, R) == 0)
					has = true;
			}
			snprintf(key, sizeof(key), "%s|%s", nm, R);
			was_committed = idset_get(p->committed, key) != NULL;
			if (!has && !(first && !was_committed && mesh_needs_commit(p, nm, R) &&
			    !any_new_in_region(p, R)))
				continue;
			before = deploy_list(p->deploy, nm, R);
			list = json_array();
			if (before == NULL || list == NULL) {
				json_decref(before);
				json_decref(list);
				free(regions);
				goto done;
			}
			/* what is active in the region today, then ours */
			for (k = 0; dc != NULL && k < dc->nconfigs; k++)
				json_array_append_new(list, json_string(dc->config_ids[k]));
			for (k = 0; k < p->nmesh; k++) {
				const struct mesh *m = &p->mesh[k];
				size_t q;
				bool in = false;

				if (topo_id_compare(m->nm->res->id, nm) != 0)
					continue;
				for (q = 0; q < m->nregions; q++)
					if (strcasecmp(m->regions[q], R) == 0)
						in = true;
				if (in && !json_ids_has(list, m->cc->res->id))
					json_array_append_new(list, json_string(m->cc->res->id));
			}
			snprintf(path, sizeof(path), "%s/commit", nm);
			body = json_pack("{s:s, s:O, s:[s]}", "commitType", "Connectivity", "configurationIds",
			    list, "targetLocations", R);
			s.resource = nm;
			s.op = op_new("POST", path, API_NETWORK, body);
			if (!was_committed)
				s.inverse = op_new("POST", path, API_NETWORK,
				    json_pack("{s:s, s:O, s:[s]}", "commitType", "Connectivity", "configurationIds",
				    before, "targetLocations", R));
			else
				s.inverse = op_none("the region keeps the same configurations; deleting this "
				    "wave's static members takes its VNets out of the mesh");
			s.depends = json_copy(sm_deps);
			if (dc == NULL || dc->nconfigs == 0)
				st = step_add(w, &s, "commit the mesh configuration in %s (goal state: no other "
				    "connectivity configuration is active there)", R);
			else
				st = step_add(w, &s, "commit in %s: the %zu connectivity configuration%s already "
				    "active there plus the mesh (goal state: a commit that left one out would "
				    "undeploy it)", R, dc->nconfigs, dc->nconfigs == 1 ? "" : "s");
			if (st == NULL) {
				json_decref(before);
				json_decref(list);
				free(regions);
				goto done;
			}
			if (!was_committed) {
				json_array_append_new(first_regions, json_pack("{s:s, s:o}", "region", R,
				    "before", before));
				idset_add(p->committed, key, NULL);
			} else {
				json_decref(before);
			}
			{
				json_t *reg = deploy_region(p->deploy, nm, R, true);
				json_object_set(reg, "Connectivity", list);
			}
			json_array_append_new(status, json_pack("{s:s, s:s, s:o, s:s}", "networkManager", nm,
			    "region", R, "configurationIds", list, "status", "Deployed"));
		}
		free(regions);
	}
	if (w->nsteps == 0) {
		/* nothing for this wave after all: drop it */
		wave_free(w);
		p->nw--;
		rc = 0;
		goto done;
	}
	w->fx_deploy = json_deep_copy(p->deploy);
	w->routing = true;
	if (json_array_size(status) > 0 &&
	    gate_add(w, GATE_DEPLOYMENT_STATUS, "after", json_pack("{s:O}", "deployments", status),
	    (int)json_array_size(status), "the commit shows deploymentStatus Deployed in every region "
	    "it targets") != 0)
		goto done;
	/* the soak gate comes last: rehearse() adds it after the route gates */
	w->soak = p->ro.soak_between_waves;
	w->soak_desc = "before the next wave, with every gate passing";
	wave_risk(w, "the mesh overlays the existing peerings: the hub peerings and the hairpin "
	    "through the circuit stay in place as the fallback until the decommission wave (seeds/003)");
	wave_risk(w, "a commit replaces everything deployed in its region (goal state): each commit "
	    "here lists every connectivity configuration already active in the region, so none is "
	    "dropped");
	{
		char text[4096];
		size_t len;
		const json_t *fr;

		len = (size_t)snprintf(text, sizeof(text), "delete the static members of this wave's %zu "
		    "VNets: they leave the mesh and fall back to the path they use today", nmembers);
		json_array_foreach(first_regions, i, fr) {
			size_t nb = json_array_size(json_object_get(fr, "before"));
			if (len < sizeof(text))
				len += (size_t)snprintf(text + len, sizeof(text) - len,
				    "; in %s commit again with %s%s", json_str(fr, "region"),
				    nb == 0 ? "no connectivity configuration, which undeploys the mesh there" :
				    "only the configurations active before this plan",
				    nb == 0 ? "" : " (see the commit's inverse)");
		}
		wave_rollback(w, "%s", text);
	}
	snprintf(p->last_mesh_name, sizeof(p->last_mesh_name), "%s", wname);
	rc = 0;
done:
	json_decref(nm_list);
	json_decref(first_regions);
	json_decref(status);
	json_decref(sm_deps);
	json_decref(seen);
	return rc == 0 ? 0 : nomem(p);
}

static bool
any_new_in_region(const struct pl *p, const char *region)
{
	const char *k;
	json_t *v;

	json_object_foreach(p->newset, k, v) {
		const struct topo_vnet *cv = topology_find_vnet(p->cur, k);
		if (cv != NULL && cv->res->location != NULL && topo_location_equal(cv->res->location, region))
			return true;
	}
	return false;
}

static int
waves_mesh(struct pl *p)
{
	const struct topo_vnet **vnets = NULL;
	size_t *assign = NULL, n = 0, i, nro, rw;
	json_t *wave_of = json_object(), *warnings = json_array(), *x;
	const char *k;
	bool first = true;
	int rc = NW_ENOMEM;

	if (p->nmesh == 0) {
		json_decref(wave_of);
		json_decref(warnings);
		return 0;
	}
	if (wave_of == NULL || warnings == NULL)
		goto done;
	vnets = calloc(json_object_size(p->newset) + 1, sizeof(*vnets));
	assign = calloc(json_object_size(p->newset) + 1, sizeof(*assign));
	if (vnets == NULL || assign == NULL)
		goto done;
	json_object_foreach(p->newset, k, x) {
		const struct topo_vnet *cv = topology_find_vnet(p->cur, k);
		if (cv != NULL)
			vnets[n++] = cv;
	}
	if (n > 1)
		qsort(vnets, n, sizeof(*vnets), cmp_vnet_id);
	rc = planner_waves_assign(assign, &p->ro, vnets, n, warnings, p->err);
	if (rc != 0)
		goto done;
	rc = NW_ENOMEM;
	json_array_foreach(warnings, i, x)
		finding(p, "warning", "wave-assignment", NULL, "%s", json_string_value(x));
	for (i = 0; i < n; i++)
		if (idset_add(wave_of, vnets[i]->res->id, json_integer((json_int_t)assign[i])) != 0)
			goto done;
	nro = p->ro.nwaves > 0 ? p->ro.nwaves : 1;
	for (rw = 0; rw < nro; rw++) {
		char name[128];
		size_t cnt = 0;

		for (i = 0; i < n; i++)
			if (assign[i] == rw)
				cnt++;
		if (cnt == 0)
			continue;
		snprintf(name, sizeof(name), "%s", p->ro.nwaves > 0 ? p->ro.waves[rw].name : "mesh");
		if (wave_name_taken(p, name)) {
			char alt[128];
			snprintf(alt, sizeof(alt), "mesh-%.100s", name);
			snprintf(name, sizeof(name), "%s", alt);
		}
		rc = mesh_wave_build(p, rw, name, wave_of, first);
		if (rc != 0)
			goto done;
		first = false;
	}
	/* configuration changes or new regions with no new member: one deploy wave */
	if (first) {
		rc = mesh_wave_build(p, SIZE_MAX, wave_name_taken(p, "deploy") ? "mesh-deploy" : "deploy",
		    wave_of, true);
		if (rc != 0)
			goto done;
	}
	rc = 0;
done:
	free(vnets);
	free(assign);
	json_decref(wave_of);
	json_decref(warnings);
	if (rc == NW_ENOMEM)
		return nomem(p);
	return rc;
}

/* ------------------------------------------------------------------ */
/* gateway-standard-ip: validate, prepare, execute, soak, commit; one gateway per circuit at a time */

static bool
gw_shares_circuit(const struct topo_gateway *a, const struct topo_gateway *b)
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

static int
cmp_gw(const void *a, const void *b)
{
	const struct gw *x = a, *y = b;

	return topo_id_compare(x->g->res->id, y->g->res->id);
}

static const char *
gw_circuit_key(const struct topo_gateway *g)
{
	size_t i;

	for (i = 0; i < g->nconnections; i++)
		if (g->connections[i]->peer_id != NULL)
			return g->connections[i]->peer_id;
	return g->res->id;
}

/* The validate stage of seeds/003, on the current topology; false with a blocker when it fails. */
static bool
gw_validate(struct pl *p, struct gw *x)
{
	static const char *const busy[] = { "Prepare", "PrepareSucceeded", "Execute", "ExecuteSucceeded",
		"Commit", NULL };
	const struct topo_gateway *g = x->g;
	const struct topo_subnet *sn = g->subnet_id != NULL ? topology_find_subnet(p->cur, g->subnet_id) : NULL;
	size_t i;
	bool basic = false, ok = true;

	if (sn == NULL) {
		blocker(p, "gateway-subnet", g->res->id, "gateway %s: its GatewaySubnet is not in the "
		    "topology, so its size cannot be checked", g->res->name);
		ok = false;
	} else {
		bool big = false;
		for (i = 0; i < sn->prefixes.n; i++)
			if (sn->prefixes.v[i].family == 4 && sn->prefixes.v[i].len <= 27)
				big = true;
		if (!big) {
			char c[CIDR_STRLEN] = "?";
			if (sn->prefixes.n > 0)
				cidr_format(&sn->prefixes.v[0], c);
			blocker(p, "gateway-subnet-too-small", g->res->id,
			    "gateway %s: GatewaySubnet %s is smaller than /27; the migration deploys a "
			    "second gateway beside the first and needs /27 or larger", g->res->name, c);
			ok = false;
		}
	}
	if (g->provisioning_state != NULL && strcasecmp(g->provisioning_state, "Succeeded") != 0) {
		blocker(p, "gateway-not-succeeded", g->res->id, "gateway %s: provisioningState is %s, "
		    "not Succeeded", g->res->name, g->provisioning_state);
		ok = false;
	}
	if ((g->migration_state != NULL && strcasecmp(g->migration_state, "InProgress") == 0) ||
	    str_in(g->migration_phase, busy)) {
		blocker(p, "gateway-migration-in-progress", g->res->id, "gateway %s: a migration is "
		    "already in progress (state %s, phase %s); commit or abort it first", g->res->name,
		    g->migration_state ? g->migration_state : "?", g->migration_phase ? g->migration_phase : "?");
		ok = false;
	}
	for (i = 0; i < g->npublic_ips; i++)
		if (g->public_ips[i] != NULL && g->public_ips[i]->sku_name != NULL &&
		    strcasecmp(g->public_ips[i]->sku_name, "Basic") == 0)
			basic = true;
	if (!basic) {
		blocker(p, "gateway-not-basic", g->res->id, "gateway %s has no Basic public IP: there is "
		    "nothing to migrate", g->res->name);
		ok = false;
	}
	if (x->gt == NULL || x->gt->migration_phase == NULL ||
	    strcasecmp(x->gt->migration_phase, "CommitSucceeded") != 0) {
		blocker(p, "gateway-end-state", g->res->id, "gateway %s: the target must end the migration "
		    "committed (virtualNetworkGatewayMigrationStatus phase CommitSucceeded); it says %s",
		    g->res->name, x->gt != NULL && x->gt->migration_phase ? x->gt->migration_phase : "nothing");
		ok = false;
	}
	return ok;
}

/* Spokes that reach on-premises through this gateway (gateway transit), by id. */
static size_t
gw_spokes(const struct pl *p, const struct topo_gateway *g, const struct topo_vnet **out, size_t max)
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

/*
 * The id of the gateway an ExpressRoute migration of x leaves (the
 * target's prediction), or NULL when x migrates in place (VPN).
 */
static const char *
gw_new_id(const struct gw *x)
{
	if (x->gt == NULL || topo_id_compare(x->gt->res->id, x->g->res->id) == 0)
		return NULL;
	return x->gt->res->id;
}

/*
 * The prepareMigration body: the documented migrationType, and the new
 * gateway's name only when the target names it other than Azure's default
 * (GWM_BODY_NAME_FIELD is undocumented: plan/gwmigrate.h).
 */
static json_t *
gw_prepare_body(const struct gw *x)
{
	const char *nid = gw_new_id(x);
	char *def = gwm_new_id(x->g->res->id, NULL);
	json_t *b = json_pack("{s:s}", "migrationType", "UpgradeDeploymentToStandardIP");

	if (b != NULL && nid != NULL && def != NULL && topo_id_compare(nid, def) != 0)
		json_object_set_new(b, GWM_BODY_NAME_FIELD, json_string(strrchr(nid, '/') + 1));
	free(def);
	return b;
}

/* The commit wave of round r (after the soak): commitMigration on each gateway of the round. */
static int
gateway_commit_wave(struct pl *p, size_t r, const json_t *commit_ids, const json_t *phase_exec,
    const json_t *new_gws)
{
	struct wave *w;
	char name[64];

	snprintf(name, sizeof(name), "gateways-%zu-commit", r + 1);
	w = wave_new(p, WAVE_GATEWAY_COMMIT, name);
	if (w == NULL)
		return NW_ENOMEM;
	{
		const json_t *iv;
		size_t ii;
		json_array_foreach(commit_ids, ii, iv) {
			const struct gw *x = &p->gws[json_integer_value(iv)];
			const struct topo_gateway *g = x->g;
			char path[1024];
			json_t *st;
			struct step_spec s = {
				.procedure = proc_name[PROC_GATEWAY], .action = "commit-migration",
				.resource = g->res->id, .serialize = gw_circuit_key(g), .lro = true,
				.inverse = NULL, .reads = 2, .writes = 1,
			};

			snprintf(path, sizeof(path), "%s/commitMigration", g->res->id);
			s.op = op_new("POST", path, API_NETWORK, NULL);
			s.expect = json_pack("[o]", expect_eq("/properties/virtualNetworkGatewayMigrationStatus/phase",
			    "CommitSucceeded"));
			if (gw_new_id(x) != NULL)
				st = step_add(w, &s, "commitMigration on %s: deletes the old gateway and its "
				    "connections (irreversible); %s and its connections carry on", g->res->name,
				    strrchr(gw_new_id(x), '/') + 1);
			else
				st = step_add(w, &s, "commitMigration on %s: ends the in-place migration "
				    "(irreversible); its public IPs stay Standard with their addresses", g->res->name);
			if (st == NULL)
				return NW_ENOMEM;
			if (gw_new_id(x) != NULL &&
			    json_object_set_new(st, "newGateway", json_string(gw_new_id(x))) != 0)
				return NW_ENOMEM;
			if (g->vnet != NULL && !json_ids_has(w->members, g->vnet->res->id))
				json_array_append_new(w->members, json_string(g->vnet->res->id));
			if (wave_add_gw(w, g) != 0)
				return NW_ENOMEM;
		}
	}
	if (gate_add(w, GATE_MIGRATION_PHASE, "after", json_pack("{s:O, s:s, s:O}", "gateways", phase_exec,
	    "phase", "CommitSucceeded", "newGateways", new_gws), (int)json_array_size(phase_exec),
	    "every gateway of the wave reports phase CommitSucceeded") != 0)
		return NW_ENOMEM;
	wave_risk(w, "irreversible: commitMigration deletes the old gateways and their connections; "
	    "after it, abortMigration is no longer possible");
	wave_rollback(w, "none: commitMigration cannot be undone; a problem found after it is fixed "
	    "forward on the new gateway");
	return 0;
}

/* Round r of the gateway migrations: validate, prepare, execute; then the commit wave. */
static int
gateway_round(struct pl *p, size_t r)
{
	struct wave *w;
	char name[64], wt[256];
	json_t *phase_exec = json_array(), *commit_ids = json_array(), *names = json_array();
	json_t *new_gws = json_object();
	size_t i;
	int rc = NW_ENOMEM;
	long soak = p->ro.soak_between_waves > 3600 ? p->ro.soak_between_waves : 3600;

	if (phase_exec == NULL || commit_ids == NULL || names == NULL || new_gws == NULL)
		goto done;
	snprintf(name, sizeof(name), "gateways-%zu", r + 1);
	w = wave_new(p, WAVE_GATEWAY, name);
	if (w == NULL)
		goto done;
	window_text(p, wt, sizeof(wt));
	for (i = 0; i < p->ngws; i++) {
		const struct gw *x = &p->gws[i];
		const struct topo_gateway *g = x->g;
		const char *ckey = gw_circuit_key(g);
		char path[1024], abort_path[1024];
		json_t *st, *val, *prep;

		if (x->round != r)
			continue;
		json_array_append_new(names, json_string(g->res->name));
		if (g->vnet != NULL && !json_ids_has(w->members, g->vnet->res->id))
			json_array_append_new(w->members, json_string(g->vnet->res->id));
		if (wave_add_gw(w, g) != 0)
			goto done;
		snprintf(abort_path, sizeof(abort_path), "%s/abortMigration", g->res->id);
		{
			struct step_spec s = {
				.procedure = proc_name[PROC_GATEWAY], .action = "validate-migration",
				.resource = g->res->id, .serialize = ckey, .reads = 1, .writes = 0,
				.op = op_new("GET", g->res->id, API_NETWORK, NULL),
				.inverse = op_none("a read changes nothing"),
				.expect = json_pack("[o]", expect_eq("/properties/provisioningState", "Succeeded")),
			};
			val = step_add(w, &s, "validate %s again before the migration: GatewaySubnet /27 or "
			    "larger, provisioningState Succeeded, no migration in progress, a Basic public IP",
			    g->res->name);
		}
		if (val == NULL)
			goto done;
		snprintf(path, sizeof(path), "%s/prepareMigration", g->res->id);
		{
			struct step_spec s = {
				.procedure = proc_name[PROC_GATEWAY], .action = "prepare-migration",
				.resource = g->res->id, .serialize = ckey, .lro = true, .seconds = SECONDS_PREPARE,
				.op = op_new("POST", path, API_NETWORK, gw_prepare_body(x)),
				.inverse = op_new("POST", abort_path, API_NETWORK, NULL),
				.expect = json_pack("[o]", expect_eq("/properties/virtualNetworkGatewayMigrationStatus/phase",
				    "PrepareSucceeded")),
				.depends = json_pack("[s]", step_id(val)), .reads = 2, .writes = 1,
			};
			if (gw_new_id(x) != NULL)
				prep = step_add(w, &s, "prepareMigration on %s: deploys a second gateway %s "
				    "with a Microsoft-managed Standard IP beside it and copies its connections (up "
				    "to about 45 minutes; the gateway is locked against changes until commit or "
				    "abort)", g->res->name, strrchr(gw_new_id(x), '/') + 1);
			else
				prep = step_add(w, &s, "prepareMigration on %s: prepares its Basic public IPs "
				    "for an in-place move to Standard (up to about 45 minutes; the gateway is "
				    "locked against changes until commit or abort)", g->res->name);
		}
		if (prep == NULL)
			goto done;
		/* the plan's prediction; apply finds the real one after prepare and journals it */
		if (gw_new_id(x) != NULL &&
		    json_object_set_new(prep, "newGateway", json_string(gw_new_id(x))) != 0)
			goto done;
		if (gw_new_id(x) != NULL &&
		    json_object_set_new(new_gws, g->res->id, json_string(gw_new_id(x))) != 0)
			goto done;
		if (gate_add(w, GATE_MIGRATION_PHASE, "after-step", json_pack("{s:s, s:s, s:s}", "gateway",
		    g->res->id, "phase", "PrepareSucceeded", "afterStep", step_id(prep)), 1,
		    "%s reports virtualNetworkGatewayMigrationStatus phase PrepareSucceeded before "
		    "executeMigration is sent", g->res->name) != 0)
			goto done;
		snprintf(path, sizeof(path), "%s/executeMigration", g->res->id);
		{
			struct step_spec s = {
				.procedure = proc_name[PROC_GATEWAY], .action = "execute-migration",
				.resource = g->res->id, .serialize = ckey, .lro = true, .mw = true,
				.seconds = SECONDS_EXECUTE,
				.op = op_new("POST", path, API_NETWORK, NULL),
				.inverse = op_new("POST", abort_path, API_NETWORK, NULL),
				.expect = json_pack("[o]", expect_eq("/properties/virtualNetworkGatewayMigrationStatus/phase",
				    "ExecuteSucceeded")),
				.depends = json_pack("[s]", step_id(prep)), .reads = 2, .writes = 1,
			};
			st = step_add(w, &s, "executeMigration on %s: cuts traffic over to the new gateway "
			    "(up to about 15 minutes, brief interruptions), inside %s", g->res->name, wt);
		}
		if (st == NULL)
			goto done;
		json_array_append_new(phase_exec, json_string(g->res->id));
		json_array_append_new(commit_ids, json_integer((json_int_t)i));
		{
			const struct topo_vnet *sp[1];
			size_t nsp = gw_spokes(p, g, sp, 0);
			wave_risk(w, "executeMigration on %s moves on-premises traffic of %s and its %zu "
			    "spokes to the new gateway: brief connectivity interruptions (typically under a "
			    "minute, seeds/003) inside %s", g->res->name,
			    g->vnet != NULL ? g->vnet->res->name : "its VNet", nsp, wt);
		}
	}
	if (gate_add(w, GATE_MIGRATION_PHASE, "after", json_pack("{s:O, s:s}", "gateways", phase_exec,
	    "phase", "ExecuteSucceeded"), (int)json_array_size(phase_exec),
	    "every gateway of the wave reports phase ExecuteSucceeded") != 0)
		goto done;
	w->soak = soak;
	w->soak_desc = "on the new gateways before the irreversible commit";
	wave_risk(w, "prepareMigration takes up to about 45 minutes per gateway; gateways that share "
	    "a circuit migrate one at a time, so this wave holds one gateway per circuit");
	{
		char list[1024] = "";
		const json_t *nv;
		size_t ni;
		json_array_foreach(names, ni, nv) {
			if (ni > 0)
				strncat(list, ", ", sizeof(list) - strlen(list) - 1);
			strncat(list, json_string_value(nv), sizeof(list) - strlen(list) - 1);
		}
		wave_rollback(w, "abortMigration on %s: traffic goes back to the old gateway and the "
		    "new gateway and its connections are deleted; possible until commitMigration", list);
	}

	/* the commit: its own wave, after the soak */
	if (gateway_commit_wave(p, r, commit_ids, phase_exec, new_gws) != 0)
		goto done;
	rc = 0;
done:
	json_decref(phase_exec);
	json_decref(commit_ids);
	json_decref(names);
	json_decref(new_gws);
	return rc == 0 ? 0 : nomem(p);
}

static int
waves_gateways(struct pl *p)
{
	size_t i, k, nrounds = 0, r;
	size_t *comp_size = NULL;

	if (p->ngws == 0)
		return 0;
	qsort(p->gws, p->ngws, sizeof(*p->gws), cmp_gw);
	for (i = 0; i < p->ngws; i++)
		p->gws[i].valid = gw_validate(p, &p->gws[i]);
	/* components of gateways sharing a circuit; a gateway's round is its place in its component */
	for (i = 0; i < p->ngws; i++)
		p->gws[i].comp = i;
	for (i = 0; i < p->ngws; i++)
		for (k = 0; k < i; k++)
			if (gw_shares_circuit(p->gws[i].g, p->gws[k].g)) {
				size_t from = p->gws[i].comp, to = p->gws[k].comp;
				for (size_t q = 0; q <= i; q++)
					if (p->gws[q].comp == from)
						p->gws[q].comp = to;
			}
	comp_size = calloc(p->ngws, sizeof(*comp_size));
	if (comp_size == NULL)
		return nomem(p);
	for (i = 0; i < p->ngws; i++) {
		p->gws[i].round = comp_size[p->gws[i].comp]++;
		if (p->gws[i].round + 1 > nrounds)
			nrounds = p->gws[i].round + 1;
	}
	free(comp_size);

	for (r = 0; r < nrounds; r++) {
		int rc = gateway_round(p, r);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* summarize-gateway-prefixes */

static int
cmp_vnet_ptr(const void *a, const void *b)
{
	return cmp_vnet_id(a, b);
}

static int
wave_summarize(struct pl *p)
{
	const struct topo_vnet **hubs = NULL;
	size_t n = 0, i, k, c, q;
	struct wave *w;
	const char *key;
	json_t *x, *checks = NULL;
	int rc = NW_ENOMEM;

	if (json_object_size(p->sum_vnets) == 0)
		return 0;
	hubs = calloc(json_object_size(p->sum_vnets), sizeof(*hubs));
	checks = json_array();
	if (hubs == NULL || checks == NULL)
		goto done;
	json_object_foreach(p->sum_vnets, key, x) {
		const struct topo_vnet *v = topology_find_vnet(p->cur, key);
		if (v != NULL)
			hubs[n++] = v;
	}
	qsort(hubs, n, sizeof(*hubs), cmp_vnet_ptr);
	w = wave_new(p, WAVE_SUMMARIZE, "summarize");
	if (w == NULL)
		goto done;
	for (i = 0; i < n; i++) {
		const struct topo_vnet *v = hubs[i];
		const struct topo_vnet *tv = topology_find_vnet(p->tgt, v->res->id);
		const json_t *sum = tv != NULL ?
		    json_path(tv->res->json, "properties", "summarizedGatewayPrefixes", NULL) : NULL;
		json_t *body, *inv, *res, *st;
		struct step_spec s = {
			.procedure = proc_name[PROC_SUMMARIZE], .action = "set-summarized-gateway-prefixes",
			.resource = v->res->id, .serialize = v->res->id, .lro = true, .reads = 2, .writes = 1,
		};

		if (tv == NULL)
			continue;
		if (v->ngateways == 0)
			finding(p, "warning", "summary-inert", v->res->id, "%s has no gateway: its "
			    "summarizedGatewayPrefixes do nothing until one exists", v->res->name);
		/* never cover on-premises space or another gateway's */
		for (k = 0; k < tv->summarized.n; k++) {
			const struct cidr *sp = &tv->summarized.v[k];
			char a[CIDR_STRLEN], b[CIDR_STRLEN];

			for (q = 0; q < v->ngateways; q++) {
				const struct topo_gateway *g = v->gateways[q];
				for (c = 0; c < g->nconnections; c++) {
					const struct topo_circuit *ci = g->connections[c]->circuit;
					size_t rr;
					for (rr = 0; ci != NULL && rr < ci->nroutes; rr++)
						if (cidr_contains(sp, &ci->routes[rr].prefix)) {
							cidr_format(sp, a);
							cidr_format(&ci->routes[rr].prefix, b);
							blocker(p, "summary-covers-on-premises", v->res->id,
							    "summary %s of %s covers the on-premises prefix %s learned over %s",
							    a, v->res->name, b, ci->res->name);
						}
				}
			}
			for (q = 0; q < p->cur->ngateways; q++) {
				const struct topo_gateway *og = &p->cur->gateways[q];
				const struct topo_prefixes *adv;
				bool shared = false;

				if (og->vnet == v)
					continue;
				for (c = 0; c < v->ngateways; c++)
					if (gw_shares_circuit(og, v->gateways[c]))
						shared = true;
				if (!shared)
					continue;
				adv = routes_gateway_advertised(p->cur_ctx, og);
				for (c = 0; c < adv->n; c++)
					if (cidr_contains(sp, &adv->v[c])) {
						cidr_format(sp, a);
						cidr_format(&adv->v[c], b);
						blocker(p, "summary-covers-other-hub", v->res->id,
						    "summary %s of %s covers %s, which gateway %s advertises",
						    a, v->res->name, b, og->res->name);
						break;
					}
			}
		}
		inv = wire_body(v->res->json);
		body = inv != NULL ? body_dup(inv) : NULL;
		/* the hub as the rehearsal sees it after the wave: only its properties change */
		res = json_copy(v->res->json);
		if (res != NULL && json_is_object(json_object_get(res, "properties")) &&
		    json_object_set_new(res, "properties", json_copy(json_object_get(res, "properties"))) != 0) {
			json_decref(res);
			res = NULL;
		}
		if (body == NULL || res == NULL) {
			json_decref(inv);
			json_decref(body);
			json_decref(res);
			goto done;
		}
		if (sum != NULL) {
			json_object_set_new(json_object_get(body, "properties"), "summarizedGatewayPrefixes",
			    json_deep_copy(sum));
			json_object_set_new(json_object_get(res, "properties"), "summarizedGatewayPrefixes",
			    json_deep_copy(sum));
		} else {
			json_object_del(json_object_get(body, "properties"), "summarizedGatewayPrefixes");
			json_object_del(json_object_get(res, "properties"), "summarizedGatewayPrefixes");
		}
		json_array_append_new(w->fx_put, res);
		s.op = op_new("PUT", v->res->id, API_NETWORK, body);
		s.inverse = op_new("PUT", v->res->id, API_NETWORK, inv);
		s.expect = json_array();
		if (sum != NULL)
			json_array_append_new(s.expect, json_pack("{s:s, s:O}", "pointer",
			    "/properties/summarizedGatewayPrefixes", "equals", sum));
		{
			char list[512] = "";
			for (k = 0; k < tv->summarized.n && k < 8; k++) {
				char c1[CIDR_STRLEN];
				cidr_format(&tv->summarized.v[k], c1);
				if (k > 0)
					strncat(list, ", ", sizeof(list) - strlen(list) - 1);
				strncat(list, c1, sizeof(list) - strlen(list) - 1);
			}
			if (tv->summarized.n > 8)
				strncat(list, ", ...", sizeof(list) - strlen(list) - 1);
			st = step_add(w, &s, "set summarizedGatewayPrefixes on %s to %zu prefix%s (%s)",
			    v->res->name, tv->summarized.n, tv->summarized.n == 1 ? "" : "es",
			    tv->summarized.n ? list : "none");
		}
		if (st == NULL)
			goto done;
		json_array_append_new(checks, json_pack("{s:s, s:s, s:O}", "resource", v->res->id, "pointer",
		    "/properties/summarizedGatewayPrefixes", "equals", sum != NULL ? sum : json_null()));
		json_array_append_new(w->members, json_string(v->res->id));
		if (wave_add_vnet(w, (size_t)(v - p->cur->vnets)) != 0)
			goto done;
		for (q = 0; q < v->ngateways; q++)
			if (wave_add_gw(w, v->gateways[q]) != 0)
				goto done;
	}
	w->routing = true;
	if (gate_add(w, GATE_RESOURCE_STATE, "after", json_pack("{s:O}", "checks", checks),
	    (int)json_array_size(checks), "each hub VNet carries the summarized prefixes") != 0)
		goto done;
	wave_risk(w, "the circuit learns the summaries instead of the hub and spoke prefixes at once: "
	    "on-premises routers see the change as soon as each PUT completes; spokes outside the "
	    "summaries stay advertised one by one");
	wave_rollback(w, "put back each hub VNet's previous summarizedGatewayPrefixes (the inverse PUTs); "
	    "the gateways advertise the hub and spoke prefixes again");
	rc = 0;
done:
	free(hubs);
	json_decref(checks);
	return rc == 0 ? 0 : nomem(p);
}

/* ------------------------------------------------------------------ */
/* avnm-mesh, phase 4: decommission after the soak */

static int
wave_decommission(struct pl *p)
{
	struct wave *w;
	json_t *vnets = json_object(), *rts = json_object(), *pairs = json_array();
	size_t i, npeer = 0, nroute = 0;
	const char *k;
	json_t *x;
	int rc = NW_ENOMEM;

	if (p->ndecoms == 0) {
		json_decref(vnets);
		json_decref(rts);
		json_decref(pairs);
		return 0;
	}
	w = wave_new(p, WAVE_DECOMMISSION, "decommission");
	if (w == NULL || vnets == NULL || rts == NULL || pairs == NULL)
		goto done;
	{
		char d[32];
		if (gate_add(w, GATE_SOAK, "before", json_pack("{s:I, s:s}", "seconds",
		    (json_int_t)p->ro.soak_before_decommission, "since", p->last_mesh_name), 0,
		    "at least %s since wave %s passed its gates: the legacy path is removed only after "
		    "the soak", report_duration(p->ro.soak_before_decommission, d, sizeof(d)),
		    p->last_mesh_name[0] ? p->last_mesh_name : "(the last mesh wave)") != 0)
			goto done;
	}
	for (i = 0; i < p->ndecoms; i++) {
		const struct decom *d = &p->decoms[i];
		json_t *st;
		struct step_spec s = {
			.procedure = proc_name[PROC_MESH], .resource = d->id, .serialize = d->parent,
			.lro = true, .inverse = NULL, .reads = 2, .writes = 1,
		};

		s.op = op_new("DELETE", d->id, API_NETWORK, NULL);
		if (d->peering) {
			s.action = "delete-peering";
			st = step_add(w, &s, "delete peering %s of %s (to %s): the mesh carries this traffic "
			    "now (irreversible: re-creating it is a new change)", d->name,
			    d->vnet != NULL ? d->vnet->res->name : arm_id_name(d->parent),
			    d->remote != NULL ? d->remote->res->name : "?");
			npeer++;
			if (d->vnet != NULL) {
				idset_add(vnets, d->vnet->res->id, json_integer((json_int_t)(d->vnet - p->cur->vnets)));
				if (d->remote != NULL && json_array_size(pairs) < p->sample)
					json_array_append_new(pairs, json_pack("[s, s]", d->vnet->res->id,
					    d->remote->res->id));
			}
		} else {
			s.action = "delete-route";
			st = step_add(w, &s, "delete route %s of %s: it only steered traffic between mesh "
			    "members to the gateway (irreversible: re-creating it is a new change)", d->name,
			    arm_id_name(d->parent));
			nroute++;
			idset_add(rts, d->parent, NULL);
		}
		if (st == NULL)
			goto done;
	}
	/* rehearsal: the VNets without their peerings, the route tables without their routes */
	json_object_foreach(vnets, k, x) {
		const struct topo_vnet *v = &p->cur->vnets[json_integer_value(x)];
		json_t *copy = json_deep_copy(v->res->json), *arr, *pe;
		size_t j;

		if (copy == NULL)
			goto done;
		arr = json_path(copy, "properties", "virtualNetworkPeerings", NULL);
		for (j = json_array_size(arr); j-- > 0;) {
			pe = json_array_get(arr, j);
			for (i = 0; i < p->ndecoms; i++)
				if (p->decoms[i].peering && p->decoms[i].vnet == v && json_str(pe, "name") != NULL &&
				    strcasecmp(json_str(pe, "name"), p->decoms[i].name) == 0) {
					json_array_remove(arr, j);
					break;
				}
		}
		json_array_append_new(w->fx_put, copy);
		json_array_append_new(w->members, json_string(v->res->id));
		if (wave_add_vnet(w, (size_t)json_integer_value(x)) != 0)
			goto done;
	}
	json_object_foreach(rts, k, x) {
		struct topo_resource *r = topology_find(p->cur, k);
		json_t *copy, *arr, *ro;
		size_t j;

		if (r == NULL)
			continue;
		copy = json_deep_copy(r->json);
		if (copy == NULL)
			goto done;
		arr = json_path(copy, "properties", "routes", NULL);
		for (j = json_array_size(arr); j-- > 0;) {
			ro = json_array_get(arr, j);
			for (i = 0; i < p->ndecoms; i++)
				if (!p->decoms[i].peering && topo_id_compare(p->decoms[i].parent, r->id) == 0 &&
				    json_str(ro, "name") != NULL && strcasecmp(json_str(ro, "name"), p->decoms[i].name) == 0) {
					json_array_remove(arr, j);
					break;
				}
		}
		json_array_append_new(w->fx_put, copy);
	}
	w->routing = true;
	if (json_array_size(pairs) > 0 &&
	    gate_add(w, GATE_EFFECTIVE_ROUTES, "after", json_pack("{s:s, s:s, s:O}", "nextHopType",
	    "ConnectedGroup", "scope", "pairs", "pairs", pairs), (int)json_array_size(pairs),
	    "spokes whose peering was deleted still reach each other through the mesh") != 0)
		goto done;
	wave_risk(w, "irreversible: deletes %zu manual peering%s and %zu user route%s the mesh made "
	    "redundant; rolling back means re-creating them by hand in a longer change window (seeds/003)",
	    npeer, npeer == 1 ? "" : "s", nroute, nroute == 1 ? "" : "s");
	wave_risk(w, "infrastructure-as-code pipelines that still declare these peerings or routes will "
	    "re-create them: remove them from the code first");
	wave_rollback(w, "none automatic: the deletions are irreversible; re-create the peerings and "
	    "routes listed under the irreversible steps by hand (their current definitions are in the "
	    "current topology)");
	rc = 0;
done:
	json_decref(vnets);
	json_decref(rts);
	json_decref(pairs);
	return rc == 0 ? 0 : nomem(p);
}

/* ------------------------------------------------------------------ */
/* Route rehearsal: each wave applied in turn, east-west classes before and after */

/*
 * A state of the estate between waves.  An owned state can be parked:
 * its topology and routes context (tens of megabytes for a large estate)
 * freed, its summary kept, and both built again from res and deploy if a
 * later step needs them, so that the rehearsal mostly holds one state
 * beside the current topology instead of two.
 */
struct rstate {
	struct topology *t;        /* NULL while parked */
	struct routes_ctx *ctx;
	struct path_summary sum;
	bool owned;                /* false for the current topology and its context */
	json_t *res, *deploy;      /* owned states: what t was built from */
};

static void
rstate_park(struct rstate *s)
{
	if (s->owned) {
		routes_ctx_free(s->ctx);
		topology_free(s->t);
		s->ctx = NULL;
		s->t = NULL;
	}
}

static void
rstate_free(struct rstate *s)
{
	path_summary_free(&s->sum);
	rstate_park(s);
	json_decref(s->res);
	json_decref(s->deploy);
	memset(s, 0, sizeof(*s));
}

struct rehearsal {
	json_t *res;    /* the resources of the state being built (references) */
	json_t *index;  /* lowercase id -> position in res */
	json_t *deploy; /* observed.avnmDeployments of that state */
	size_t *spokes; /* cur VNet indexes of the spokes; the same in every state */
	size_t nspokes;
};

static int
rh_apply(struct pl *p, struct rehearsal *rh, const struct wave *w)
{
	const json_t *r;
	size_t i;

	json_array_foreach(w->fx_put, i, r) {
		const char *id = json_str(r, "id");
		json_t *pos;

		if (id == NULL)
			continue;
		pos = idset_get(rh->index, id);
		if (pos != NULL) {
			if (json_array_set(rh->res, (size_t)json_integer_value(pos), (json_t *)r) != 0)
				return nomem(p);
		} else {
			if (idset_add(rh->index, id, json_integer((json_int_t)json_array_size(rh->res))) != 0 ||
			    json_array_append(rh->res, (json_t *)r) != 0)
				return nomem(p);
		}
	}
	if (w->fx_deploy != NULL) {
		json_decref(rh->deploy);
		rh->deploy = json_incref(w->fx_deploy);
	}
	return 0;
}

/* Builds s->t and s->ctx from s->res and s->deploy. */
static int
rh_build(struct pl *p, struct rstate *s)
{
	const json_t *croot = p->cur->root, *cobs = json_object_get(croot, "observed");
	json_t *root = json_object(), *obs = json_object();
	int rc;

	if (root == NULL || obs == NULL) {
		json_decref(root);
		json_decref(obs);
		return nomem(p);
	}
	json_object_set_new(root, "format", json_string(TOPOLOGY_FORMAT));
	if (json_object_get(croot, "cloud") != NULL)
		json_object_set(root, "cloud", json_object_get(croot, "cloud"));
	if (json_object_get(croot, "subscriptions") != NULL)
		json_object_set(root, "subscriptions", json_object_get(croot, "subscriptions"));
	json_object_set(root, "resources", s->res);
	if (json_object_get(cobs, "circuitRoutes") != NULL)
		json_object_set(obs, "circuitRoutes", json_object_get(cobs, "circuitRoutes"));
	if (json_object_get(cobs, "features") != NULL)
		json_object_set(obs, "features", json_object_get(cobs, "features"));
	if (s->deploy != NULL)
		json_object_set(obs, "avnmDeployments", s->deploy);
	json_object_set_new(root, "observed", obs);
	rc = topology_load_json(&s->t, root, "<rehearsal>", p->err);
	if (rc != 0) {
		err_prefix(p->err, "cannot rehearse the plan");
		return rc;
	}
	if (s->t->nvnets != p->cur->nvnets) {
		rstate_park(s);
		return err_set(p->err, NW_EFAIL, "cannot rehearse the plan: the VNets changed");
	}
	rc = routes_ctx_new(&s->ctx, s->t, p->err);
	if (rc != 0)
		rstate_park(s);
	return rc;
}

/* The state after the waves applied to rh so far, with its summary. */
static int
rh_load(struct pl *p, struct rehearsal *rh, struct rstate *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	out->owned = true;
	out->res = json_copy(rh->res);
	out->deploy = json_incref(rh->deploy);
	if (out->res == NULL) {
		rstate_free(out);
		return nomem(p);
	}
	rc = rh_build(p, out);
	if (rc == 0)
		rc = routes_summary(&out->sum, out->ctx, rh->spokes, rh->nspokes, p->err);
	if (rc != 0)
		rstate_free(out);
	return rc;
}

/* A parked state built again (the same topology, so the same answers). */
static int
rh_unpark(struct pl *p, struct rstate *s)
{
	return s->t != NULL ? 0 : rh_build(p, s);
}

static json_t *
classes_json(const struct path_summary *s)
{
	json_t *o = json_object();
	int c;

	for (c = 0; o != NULL && c < PATH_NCLASSES; c++)
		if (s->by_class[c] > 0)
			json_object_set_new(o, path_class_name((enum path_class)c),
			    json_integer((json_int_t)s->by_class[c]));
	return o;
}

/* A flow that reaches its destination in b but not in a, changed VNets first. */
static int
find_cut_pair(struct pl *p, const struct rehearsal *rh, const struct rstate *b, const struct rstate *a,
    const struct wave *w, size_t *from, size_t *to, bool *found)
{
	size_t *cand = NULL, ncand = 0, i, j, budget = MAX_PAIR_SEARCH;
	bool *spoke = calloc(p->cur->nvnets + 1, sizeof(*spoke));
	int rc = 0;

	*found = false;
	cand = malloc((rh->nspokes + 1) * sizeof(*cand));
	if (spoke == NULL || cand == NULL) {
		free(spoke);
		free(cand);
		return nomem(p);
	}
	for (i = 0; i < rh->nspokes; i++)
		spoke[rh->spokes[i]] = true;
	for (i = 0; i < w->nvnets; i++)
		if (spoke[w->vnets[i]])
			cand[ncand++] = w->vnets[i];
	if (ncand == 0) {
		memcpy(cand, rh->spokes, rh->nspokes * sizeof(*cand));
		ncand = rh->nspokes;
	}
	for (i = 0; i < ncand && !*found && budget > 0; i++)
		for (j = 0; j < rh->nspokes && !*found && budget > 0; j++) {
			size_t x = cand[i], y = rh->spokes[j];
			int dir;

			if (x == y)
				continue;
			for (dir = 0; dir < 2 && !*found; dir++) {
				size_t s = dir ? y : x, d = dir ? x : y;
				struct path_result pa, pb;

				budget--;
				rc = routes_path(&pa, a->ctx, &a->t->vnets[s], &a->t->vnets[d], p->err);
				if (rc != 0)
					goto done;
				if (pa.cls != PATH_UNREACHABLE)
					continue;
				rc = routes_path(&pb, b->ctx, &b->t->vnets[s], &b->t->vnets[d], p->err);
				if (rc != 0)
					goto done;
				if (pb.cls != PATH_UNREACHABLE) {
					*from = s;
					*to = d;
					*found = true;
				}
			}
		}
done:
	free(spoke);
	free(cand);
	return rc;
}

/* On-premises prefixes still through the gateway, for a spread sample of VNets. */
static json_t *
onprem_checks(struct pl *p, const struct rstate *s, const size_t *idx, size_t n, unsigned max)
{
	json_t *checks = json_array();
	size_t i, k, m = n < max ? n : max;

	for (i = 0; checks != NULL && i < m; i++) {
		const struct topo_vnet *v = &s->t->vnets[idx[i * n / m]];
		const struct topo_subnet *sn = workload_subnet(v);
		struct route_set set = { 0 };
		json_t *pf = json_array();
		int rc = 0;

		/*
		 * A subnet's best route to each prefix comes from the route
		 * engine's lookup, which finds the route routes_lookup would in
		 * the subnet's effective table without building that table
		 * (thousands of routes in a meshed estate)
		 */
		if (sn == NULL)
			rc = routes_effective_vnet(&set, s->ctx, v, p->err);
		if (rc != 0 || pf == NULL) {
			json_decref(pf);
			route_set_free(&set);
			json_decref(checks);
			return NULL;
		}
		for (k = 0; k < p->nonprem; k++) {
			struct path_result pr;
			bool via_gateway;

			if (sn != NULL) {
				if (routes_path_subnet(&pr, s->ctx, sn, &p->onprem[k], p->err) != 0) {
					json_decref(pf);
					json_decref(checks);
					return NULL;
				}
				via_gateway = pr.has_route && pr.route.next_hop == NH_VIRTUAL_NETWORK_GATEWAY;
			} else {
				const struct route *r = routes_lookup(&set, &p->onprem[k]);
				via_gateway = r != NULL && r->next_hop == NH_VIRTUAL_NETWORK_GATEWAY;
			}
			if (via_gateway) {
				char c[CIDR_STRLEN];
				cidr_format(&p->onprem[k], c);
				json_array_append_new(pf, json_string(c));
			}
		}
		route_set_free(&set);
		if (json_array_size(pf) > 0)
			json_array_append_new(checks, json_pack("{s:s, s:o, s:o}", "vnet", v->res->id,
			    "subnet", jstr(sn != NULL ? sn->id : NULL), "prefixes", pf));
		else
			json_decref(pf);
	}
	return checks;
}

static int
gate_onprem(struct pl *p, struct wave *w, const struct rstate *s, const size_t *idx, size_t n,
    const char *what)
{
	json_t *checks;

	if (n == 0 || p->nonprem == 0)
		return 0;
	checks = onprem_checks(p, s, idx, n, p->sample);
	if (checks == NULL)
		return p->err->code != 0 ? p->err->code : nomem(p);
	if (json_array_size(checks) == 0) {
		json_decref(checks);
		return 0;
	}
	return gate_add(w, GATE_ONPREM_ROUTES, "after", json_pack("{s:s, s:o}", "nextHopType",
	    "VirtualNetworkGateway", "checks", checks), (int)json_array_size(checks),
	    "on-premises prefixes are still reached through the gateway from %s", what) == 0 ?
	    0 : nomem(p);
}

/* The gates only the rehearsed routes can fill in: ConnectedGroup pairs and on-premises routes. */
/*
 * The first mesh wave's VNets whose every pair the rehearsal shows meshed,
 * both ways.  A member that keeps a user route for another member's prefix
 * (to VirtualNetworkGateway, say) keeps that path until the decommission
 * deletes the route: a user route wins over the connected group's route
 * for the same prefix.  Its pairs cannot pass an all-pairs gate, so the
 * member with the most such pairs is left out, in turn, until the rest are
 * all meshed.  *out (malloc'd, *nout entries) holds indexes into the VNets.
 */
static int
first_wave_meshed(struct pl *p, const struct wave *w, const struct rstate *a, size_t **out,
    size_t *nout)
{
	size_t n = w->nvnets, i, j, nbad = 0, cap = 0, *bad = NULL, *count = NULL;
	bool *gone = NULL;
	int rc = 0;

	*nout = 0;
	*out = malloc((n + 1) * sizeof(**out));
	count = calloc(n + 1, sizeof(*count));
	gone = calloc(n + 1, sizeof(*gone));
	if (*out == NULL || count == NULL || gone == NULL)
		goto oom;
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			struct path_result pr;
			if (i == j)
				continue;
			rc = routes_path(&pr, a->ctx, &a->t->vnets[w->vnets[i]], &a->t->vnets[w->vnets[j]],
			    p->err);
			if (rc != 0)
				goto done;
			if (pr.cls == PATH_MESH)
				continue;
			if (nbad == cap) {
				size_t *x = realloc(bad, (cap = cap * 2 + 16) * 2 * sizeof(*bad));
				if (x == NULL)
					goto oom;
				bad = x;
			}
			bad[2 * nbad] = i;
			bad[2 * nbad + 1] = j;
			nbad++;
			count[i]++;
			count[j]++;
		}
	for (;;) {
		size_t worst = n, most = 0, k;
		for (i = 0; i < n; i++)
			if (!gone[i] && count[i] > most) {
				most = count[i];
				worst = i;
			}
		if (worst == n)
			break;
		gone[worst] = true;
		for (k = 0; k < nbad; k++)
			if (bad[2 * k] == worst || bad[2 * k + 1] == worst) {
				count[bad[2 * k]]--;
				count[bad[2 * k + 1]]--;
				bad[2 * k] = bad[2 * k + 1] = n; /* counted off once */
			}
	}
	for (i = 0; i < n; i++)
		if (!gone[i])
			(*out)[(*nout)++] = w->vnets[i];
	goto done;
oom:
	rc = nomem(p);
done:
	if (rc != 0) {
		free(*out);
		*out = NULL;
		*nout = 0;
	}
	free(bad);
	free(count);
	free(gone);
	return rc;
}

static int
mesh_gates(struct pl *p, struct wave *w, const struct rstate *a)
{
	size_t i, *x;
	int rc;

	if (w->mesh_wave == 1) {
		json_t *ids = json_array();
		size_t *keep = NULL, nkeep = 0;
		if ((rc = first_wave_meshed(p, w, a, &keep, &nkeep)) != 0) {
			json_decref(ids);
			return rc;
		}
		for (i = 0; ids != NULL && i < nkeep; i++)
			json_array_append_new(ids, json_string(p->cur->vnets[keep[i]].res->id));
		free(keep);
		if (ids == NULL || (nkeep > 1 && gate_add(w, GATE_EFFECTIVE_ROUTES, "after",
		    json_pack("{s:s, s:s, s:o}", "nextHopType", "ConnectedGroup", "scope", "all-pairs",
		    "vnets", ids), (int)nkeep, nkeep == w->nvnets ?
		    "every pair of this first wave's VNets that shares a connected group has ConnectedGroup "
		    "routes to the other's prefixes" :
		    "every pair of the %zu of this first wave's VNets the rehearsal shows meshed has "
		    "ConnectedGroup routes to the other's prefixes (the others keep a user route until "
		    "the decommission)", nkeep) != 0))
			return nomem(p);
		if (nkeep <= 1)
			json_decref(ids);
	}
	x = realloc(p->meshed, (p->nmeshed + w->nvnets + 1) * sizeof(*x));
	if (x == NULL)
		return nomem(p);
	p->meshed = x;
	memcpy(p->meshed + p->nmeshed, w->vnets, w->nvnets * sizeof(*x));
	p->nmeshed += w->nvnets;
	if (w->mesh_wave > 1 && w->nvnets > 0) {
		json_t *pairs = json_array();
		size_t tries, want = p->sample, got = 0;

		if (pairs == NULL)
			return nomem(p);
		for (tries = 0; tries < (size_t)want * 20 && got < want; tries++) {
			uint64_t h = mix64(((uint64_t)w->index << 32) ^ tries);
			size_t s = w->vnets[h % w->nvnets];
			size_t d = p->meshed[mix64(h) % p->nmeshed];
			struct path_result pr;
			json_t *pair;
			size_t q;
			bool dup = false;

			if (s == d)
				continue;
			rc = routes_path(&pr, a->ctx, &a->t->vnets[s], &a->t->vnets[d], p->err);
			if (rc != 0) {
				json_decref(pairs);
				return rc;
			}
			if (pr.cls != PATH_MESH)
				continue;
			json_array_foreach(pairs, q, pair)
				if (strcmp(json_string_value(json_array_get(pair, 0)), a->t->vnets[s].res->id) == 0 &&
				    strcmp(json_string_value(json_array_get(pair, 1)), a->t->vnets[d].res->id) == 0)
					dup = true;
			if (dup)
				continue;
			json_array_append_new(pairs, json_pack("[s, s]", a->t->vnets[s].res->id,
			    a->t->vnets[d].res->id));
			got++;
		}
		if (got > 0) {
			if (gate_add(w, GATE_EFFECTIVE_ROUTES, "after", json_pack("{s:s, s:s, s:o}", "nextHopType",
			    "ConnectedGroup", "scope", "sample", "pairs", pairs), (int)got,
			    "a sample of %zu pairs (this wave's VNets to VNets already meshed) has "
			    "ConnectedGroup routes", got) != 0)
				return nomem(p);
		} else {
			json_decref(pairs);
		}
	}
	return gate_onprem(p, w, a, w->vnets, w->nvnets, "a sample of this wave's VNets");
}

/* What a wave's gateways advertise in one state: IPv4 and IPv6 prefix counts. */
struct adv_count {
	bool found; /* the gateway is in the state */
	long v4, v6;
};

static void
advertised_counts(struct adv_count *out, const struct wave *w, const struct rstate *s)
{
	size_t i, k;

	for (i = 0; i < w->ngws; i++) {
		struct topo_resource *r = topology_find(s->t, w->gws[i]->res->id);
		const struct topo_prefixes *pf;

		memset(&out[i], 0, sizeof(out[i]));
		if (r == NULL || r->type != TOPO_GATEWAY)
			continue;
		out[i].found = true;
		pf = routes_gateway_advertised(s->ctx, r->view);
		for (k = 0; k < pf->n; k++)
			pf->v[k].family == 4 ? out[i].v4++ : out[i].v6++;
	}
}

/* The advertised-prefix rows of a summarize wave, from the counts before it and the state after. */
static int
advertised_rows(struct pl *p, struct wave *w, const struct adv_count *before, const struct rstate *a)
{
	json_t *rows = json_array();
	const struct limit_def *l4 = limit_get(LIMIT_ADVERTISED_V4), *l6 = limit_get(LIMIT_ADVERTISED_V6);
	struct adv_count *after = calloc(w->ngws + 1, sizeof(*after));
	size_t i;

	if (rows == NULL || after == NULL) {
		json_decref(rows);
		free(after);
		return nomem(p);
	}
	advertised_counts(after, w, a);
	for (i = 0; i < w->ngws; i++) {
		long b4 = before[i].v4, b6 = before[i].v6, a4 = after[i].v4, a6 = after[i].v6;

		if (!before[i].found || !after[i].found)
			continue;
		json_array_append_new(rows, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "gateway",
		    w->gws[i]->res->id, "ipv4Before", (json_int_t)b4, "ipv4After", (json_int_t)a4,
		    "ipv6Before", (json_int_t)b6, "ipv6After", (json_int_t)a6, "maxIpv4",
		    (json_int_t)l4->value, "maxIpv6", (json_int_t)l6->value));
		limit_row(p, LIMIT_ADVERTISED_V4, a4, w->gws[i]->res->id);
		if (a6 > 0 || b6 > 0)
			limit_row(p, LIMIT_ADVERTISED_V6, a6, w->gws[i]->res->id);
		if (a4 > l4->value || a6 > l6->value)
			finding(p, "warning", "advertised-over-limit", w->gws[i]->res->id,
			    "gateway %s still advertises %ld IPv4 and %ld IPv6 prefixes after summarization "
			    "(limits %ld and %ld)", w->gws[i]->res->name, a4, a6, l4->value, l6->value);
	}
	free(after);
	json_object_set_new(w->obj, "advertised", rows);
	return 0;
}

static int
gate_soak(struct pl *p, struct wave *w)
{
	char d[32];

	if (w->soak <= 0)
		return 0;
	return gate_add(w, GATE_SOAK, "after", json_pack("{s:I}", "seconds", (json_int_t)w->soak), 0,
	    "wait %s %s", report_duration(w->soak, d, sizeof(d)),
	    w->soak_desc != NULL ? w->soak_desc : "before the next wave") == 0 ? 0 : nomem(p);
}

static int
rehearse(struct pl *p)
{
	struct rehearsal rh = { 0 };
	struct rstate before = { 0 }, after = { 0 };
	struct adv_count *adv_before = NULL;
	size_t i;
	int rc = NW_ENOMEM;

	/* the route engine never reads private endpoints or NICs: leave them out of the rehearsal */
	rh.res = json_array();
	rh.index = json_object();
	rh.spokes = malloc((p->cur->nvnets + 1) * sizeof(*rh.spokes));
	rh.deploy = json_incref(json_path(p->cur->root, "observed", "avnmDeployments", NULL));
	if (rh.res == NULL || rh.index == NULL || rh.spokes == NULL)
		goto done;
	for (i = 0; i < p->cur->nres; i++)
		if (p->cur->res[i].type != TOPO_PRIVATE_ENDPOINT && p->cur->res[i].type != TOPO_NIC &&
		    json_array_append(rh.res, p->cur->res[i].json) != 0)
			goto done;
	for (i = 0; i < json_array_size(rh.res); i++) {
		const char *id = json_str(json_array_get(rh.res, i), "id");
		if (id != NULL && idset_add(rh.index, id, json_integer((json_int_t)i)) != 0)
			goto done;
	}
	for (i = 0; i < p->cur->nvnets; i++)
		if (!p->is_hub[i])
			rh.spokes[rh.nspokes++] = i;
	before.t = (struct topology *)p->cur;
	before.ctx = p->cur_ctx;
	rc = routes_summary(&before.sum, before.ctx, rh.spokes, rh.nspokes, p->err);
	if (rc != 0)
		goto done;
	for (i = 0; i < p->nw; i++) {
		struct wave *w = &p->w[i];
		json_t *traffic;

		rc = rh_apply(p, &rh, w);
		if (rc != 0)
			goto done;
		if (!w->routing) {
			traffic = json_pack("{s:o, s:o, s:I}", "before", classes_json(&before.sum), "after",
			    classes_json(&before.sum), "flows", (json_int_t)before.sum.flows);
			json_object_set_new(w->obj, "traffic", traffic);
			if (w->kind == WAVE_GATEWAY) {
				for (size_t g = 0; g < w->ngws; g++) {
					const struct topo_vnet *sp[64];
					size_t idx[65], n = 0, ns, q;
					char what[512];

					if (w->gws[g]->vnet != NULL)
						idx[n++] = (size_t)(w->gws[g]->vnet - p->cur->vnets);
					ns = gw_spokes(p, w->gws[g], sp, 64);
					for (q = 0; q < ns && q < 64; q++)
						idx[n++] = (size_t)(sp[q] - p->cur->vnets);
					snprintf(what, sizeof(what), "%s and its spokes, on the new gateway %s",
					    w->gws[g]->vnet != NULL ? w->gws[g]->vnet->res->name : "the hub",
					    w->gws[g]->res->name);
					if (n > 0 && p->nonprem > 0 && (rc = rh_unpark(p, &before)) != 0)
						goto done;
					rc = gate_onprem(p, w, &before, idx, n, what);
					if (rc != 0)
						goto done;
				}
			}
			rc = gate_soak(p, w);
			if (rc != 0)
				goto done;
			continue;
		}
		/* a summarize wave compares what the gateways advertise before and after it */
		if (w->kind == WAVE_SUMMARIZE) {
			free(adv_before);
			adv_before = calloc(w->ngws + 1, sizeof(*adv_before));
			if (adv_before == NULL) {
				rc = nomem(p);
				goto done;
			}
			if ((rc = rh_unpark(p, &before)) != 0)
				goto done;
			advertised_counts(adv_before, w, &before);
		}
		rstate_park(&before);
		rc = rh_load(p, &rh, &after);
		if (rc != 0)
			goto done;
		traffic = json_pack("{s:o, s:o, s:I}", "before", classes_json(&before.sum), "after",
		    classes_json(&after.sum), "flows", (json_int_t)after.sum.flows);
		json_object_set_new(w->obj, "traffic", traffic);
		if (after.sum.by_class[PATH_UNREACHABLE] > before.sum.by_class[PATH_UNREACHABLE]) {
			size_t from = 0, to = 0;
			bool found;
			size_t more = after.sum.by_class[PATH_UNREACHABLE] - before.sum.by_class[PATH_UNREACHABLE];

			rc = rh_unpark(p, &before);
			if (rc == 0)
				rc = find_cut_pair(p, &rh, &before, &after, w, &from, &to, &found);
			if (rc != 0)
				goto done;
			if (found) {
				json_t *o;
				char msg[2048];

				snprintf(msg, sizeof(msg), "wave %s would make %s unreachable from %s (%zu more "
				    "flow%s unreachable after the wave than before)", w->name,
				    p->cur->vnets[to].res->name, p->cur->vnets[from].res->name, more,
				    more == 1 ? "" : "s");
				o = json_pack("{s:s, s:s, s:s, s:[s, s]}", "code", "unreachable", "message", msg,
				    "resource", p->cur->vnets[from].res->id, "pair", p->cur->vnets[from].res->id,
				    p->cur->vnets[to].res->id);
				if (o != NULL)
					json_array_append_new(p->blockers, o);
			} else {
				blocker(p, "unreachable", NULL, "wave %s would leave %zu more spoke-to-spoke flow%s "
				    "unreachable than before", w->name, more, more == 1 ? "" : "s");
			}
		}
		if (w->kind == WAVE_MESH) {
			size_t moved = after.sum.by_class[PATH_MESH] > before.sum.by_class[PATH_MESH] ?
			    after.sum.by_class[PATH_MESH] - before.sum.by_class[PATH_MESH] : 0;
			wave_risk(w, "%zu spoke-to-spoke flows move to the mesh as soon as the commit deploys "
			    "(see the traffic before and after); flows through an appliance keep their path",
			    moved);
			rc = mesh_gates(p, w, &after);
		} else if (w->kind == WAVE_SUMMARIZE) {
			size_t *idx = malloc((p->cur->nvnets + 1) * sizeof(*idx)), n = 0, g;
			bool *seen = calloc(p->cur->nvnets + 1, sizeof(*seen));
			if (idx == NULL || seen == NULL) {
				free(idx);
				free(seen);
				rc = nomem(p);
				goto done;
			}
			/* a hub with an ExpressRoute and a VPN gateway lists its spokes once */
			for (g = 0; g < w->ngws; g++) {
				const struct topo_vnet *sp[64];
				size_t ns = gw_spokes(p, w->gws[g], sp, 64), q;
				for (q = 0; q < ns && q < 64; q++) {
					size_t v = (size_t)(sp[q] - p->cur->vnets);
					if (!seen[v]) {
						seen[v] = true;
						idx[n++] = v;
					}
				}
			}
			free(seen);
			rc = advertised_rows(p, w, adv_before, &after);
			if (rc == 0)
				rc = gate_onprem(p, w, &after, idx, n, "a sample of the hubs' spokes");
			free(idx);
		}
		if (rc != 0)
			goto done;
		rc = gate_soak(p, w);
		if (rc != 0)
			goto done;
		rstate_free(&before);
		before = after;
		memset(&after, 0, sizeof(after));
	}
	rc = 0;
done:
	free(adv_before);
	rstate_free(&before);
	rstate_free(&after);
	json_decref(rh.res);
	json_decref(rh.index);
	json_decref(rh.deploy);
	free(rh.spokes);
	if (rc == NW_ENOMEM && p->err->code == 0)
		return nomem(p);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Write budget and the summary (the model is plan/cost.c) */

static long
gcd_long(long a, long b)
{
	while (b != 0) {
		long t = a % b;
		a = b;
		b = t;
	}
	return a;
}

struct budget {
	long burst, refill_writes, refill_seconds;
	struct cost_params cost;
};

static json_t *
budget_json(struct pl *p, struct budget *b)
{
	const struct limit_def *bucket = limit_get(LIMIT_ARM_WRITE_BUCKET);
	const struct limit_def *refill = limit_get(LIMIT_ARM_WRITE_REFILL);
	const struct limit_def *net = limit_get(LIMIT_NETWORK_WRITES_5MIN);
	const char *source;

	if (p->ro.has_write_budget) {
		long w = lround(p->ro.writes_per_second * 1000.0), s = 1000, g;

		if (w <= 0)
			w = 1;
		g = gcd_long(w, s);
		b->refill_writes = w / g;
		b->refill_seconds = s / g;
		b->burst = p->ro.burst > 0 ? (long)p->ro.burst : bucket->value;
		source = "the rollout's writeBudget";
		if (p->ro.writes_per_second > (double)refill->value ||
		    p->ro.writes_per_second > (double)net->value / 300.0)
			finding(p, "warning", "write-budget", NULL, "the rollout's write budget (%.2f writes "
			    "per second) is above what ARM refills (%ld per second, and %ld per 5 minutes for "
			    "Microsoft.Network): expect throttling", p->ro.writes_per_second, refill->value,
			    net->value);
	} else {
		/* ARM's bucket; Microsoft.Network's 1,000 per 5 minutes is the model's second bucket */
		b->burst = bucket->value;
		b->refill_writes = refill->value;
		b->refill_seconds = 1;
		source = "default: ARM's 200-write bucket refilled at 10 per second, behind it "
		    "Microsoft.Network's 1,000 writes per 5 minutes (reference/azure-arm.md; plan/cost.c)";
	}
	cost_params_default(&b->cost);
	b->cost.write_burst = (double)b->burst;
	b->cost.write_refill = (double)b->refill_writes / (double)b->refill_seconds;
	return json_pack("{s:I, s:I, s:I, s:s}", "burst", (json_int_t)b->burst, "refillWrites",
	    (json_int_t)b->refill_writes, "refillSeconds", (json_int_t)b->refill_seconds, "source", source);
}

static int
finish_waves(struct pl *p, const struct budget *b, json_t *summary, json_t **waves_out)
{
	struct cost_tokens tokens;
	long writes = 0, reads = 0, eta = 0, soak = 0, steps = 0, irrev = 0, mw = 0, biggest = 0;
	json_t *vnets = json_object(), *reasons = json_array(), *arr = json_array();
	const char *risk;
	size_t i, k;
	int score = 0;
	char wt[256];

	if (vnets == NULL || reasons == NULL || arr == NULL) {
		json_decref(vnets);
		json_decref(reasons);
		json_decref(arr);
		return nomem(p);
	}
	window_text(p, wt, sizeof(wt));
	cost_tokens_full(&b->cost, &tokens);
	for (i = 0; i < p->nw; i++) {
		struct wave *w = &p->w[i];
		struct cost_wave c;
		const json_t *st;

		json_object_set_new(w->obj, "index", json_integer(w->index));
		json_object_set_new(w->obj, "name", json_string(w->name));
		json_object_set_new(w->obj, "kind", json_string(wave_kind_name(w->kind)));
		json_object_set_new(w->obj, "soakSeconds", json_integer(w->soak));
		json_object_set_new(w->obj, "maintenanceWindow", json_boolean(w->mw));
		if (w->mw)
			json_object_set_new(w->obj, "window", json_string(wt));
		/* the steps and gates are in w->obj: the model reads the wave as the plan holds it */
		cost_wave(w->obj, &b->cost, &tokens, &c);
		json_object_set_new(w->obj, "estimate", cost_wave_json(&c));
		if (json_object_get(w->obj, "rollback") == NULL)
			wave_rollback(w, "run the inverse of each step, last step first");
		writes += c.writes;
		reads += c.reads;
		eta += c.seconds;
		soak += w->soak;
		if (w->kind == WAVE_DECOMMISSION)
			soak += p->ro.soak_before_decommission;
		steps += (long)w->nsteps;
		json_array_foreach(w->steps, k, st) {
			if (json_is_true(json_object_get(st, "irreversible")))
				irrev++;
			if (json_is_true(json_object_get(st, "maintenanceWindow")))
				mw++;
		}
		if (w->kind == WAVE_MESH && (long)w->nvnets > biggest)
			biggest = (long)w->nvnets;
		json_array_foreach(w->members, k, st)
			idset_add(vnets, json_string_value(st), NULL);
		/* the buckets refill while the wave soaks */
		cost_idle(&b->cost, &tokens, (double)w->soak);
		json_array_append(arr, w->obj);
	}
	/*
	 * Risk: medium when anything interrupts traffic or cannot be undone;
	 * high when that comes with scale (a wave of more than 250 VNets) or
	 * interrupting steps have no maintenance window to run in.
	 */
	if (mw > 0 || irrev > 0) {
		score++;
		if (mw > 0)
			json_array_append_new(reasons, json_pack("s", "some steps interrupt traffic briefly "
			    "(private endpoint connection resets, gateway cutovers) and run in a maintenance "
			    "window"));
		if (irrev > 0)
			json_array_append_new(reasons, json_pack("s", "some steps cannot be undone (gateway "
			    "commits, decommission deletions); each waits behind a soak"));
	}
	if (mw > 0 && !p->ro.has_maintenance_window) {
		score++;
		json_array_append_new(reasons, json_pack("s", "the rollout gives no maintenance window for "
		    "the steps that need one"));
	}
	if (biggest > limit_get(LIMIT_MESH_VNETS)->value) {
		score++;
		json_array_append_new(reasons, json_pack("s", "a single mesh wave moves more than 250 VNets"));
	}
	risk = score == 0 ? "low" : score == 1 ? "medium" : "high";
	json_object_set_new(summary, "vnets", json_integer((json_int_t)json_object_size(vnets)));
	json_object_set_new(summary, "waves", json_integer((json_int_t)p->nw));
	json_object_set_new(summary, "steps", json_integer(steps));
	json_object_set_new(summary, "writes", json_integer(writes));
	json_object_set_new(summary, "reads", json_integer(reads));
	json_object_set_new(summary, "etaSeconds", json_integer(eta));
	json_object_set_new(summary, "soakSeconds", json_integer(soak));
	json_object_set_new(summary, "risk", json_string(risk));
	json_object_set_new(summary, "riskReasons", reasons);
	json_object_set_new(summary, "irreversibleSteps", json_integer(irrev));
	json_object_set_new(summary, "maintenanceWindowSteps", json_integer(mw));
	json_decref(vnets);
	*waves_out = arr;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Entry points */

static int
onprem_collect(struct pl *p)
{
	size_t i, k, n = 0, total = 0;

	for (i = 0; i < p->cur->ncircuits; i++)
		total += p->cur->circuits[i].nroutes;
	p->onprem = calloc(total + 1, sizeof(*p->onprem));
	if (p->onprem == NULL)
		return nomem(p);
	for (i = 0; i < p->cur->ncircuits; i++)
		for (k = 0; k < p->cur->circuits[i].nroutes; k++)
			p->onprem[n++] = p->cur->circuits[i].routes[k].prefix;
	cidr_sort(p->onprem, n);
	for (i = 0, k = 0; i < n; i++)
		if (k == 0 || !cidr_equal(&p->onprem[k - 1], &p->onprem[i]))
			p->onprem[k++] = p->onprem[i];
	p->nonprem = k;
	return 0;
}

static void
pl_free(struct pl *p)
{
	size_t i;

	for (i = 0; i < p->nw; i++)
		wave_free(&p->w[i]);
	free(p->w);
	for (i = 0; i < p->nmesh; i++) {
		free(p->mesh[i].members);
		free(p->mesh[i].added);
		free(p->mesh[i].regions);
	}
	free(p->mesh);
	for (i = 0; i < p->ndecoms; i++)
		free(p->decoms[i].id);
	free(p->decoms);
	free(p->gws);
	free(p->is_hub);
	free(p->member_prefixes);
	free(p->onprem);
	free(p->meshed);
	cidr_table_free(p->member_space);
	routes_ctx_free(p->cur_ctx);
	json_decref(p->blockers);
	json_decref(p->findings);
	json_decref(p->prereqs);
	json_decref(p->limits);
	json_decref(p->inspected);
	json_decref(p->memberset);
	json_decref(p->newset);
	json_decref(p->features);
	json_decref(p->hspe_vnets);
	json_decref(p->sum_vnets);
	json_decref(p->deploy);
	json_decref(p->changed);
	json_decref(p->committed);
	diff_free(&p->diff);
	if (p->ro_parsed)
		intent_rollout_free(&p->ro);
}

static int
cmp_json_finding(const void *a, const void *b)
{
	static const char *const order[] = { "error", "warning", "info", NULL };
	const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
	int sx = 3, sy = 3, i, c;

	for (i = 0; order[i] != NULL; i++) {
		if (json_str(x, "severity") && strcmp(json_str(x, "severity"), order[i]) == 0)
			sx = i;
		if (json_str(y, "severity") && strcmp(json_str(y, "severity"), order[i]) == 0)
			sy = i;
	}
	if (sx != sy)
		return sx - sy;
	c = strcmp(json_str(x, "code"), json_str(y, "code"));
	return c;
}

/* Findings: errors first, then by code; the order within a code is the order found (stable). */
static json_t *
sorted_findings(json_t *f)
{
	size_t n = json_array_size(f), i, j;
	json_t **v = malloc((n + 1) * sizeof(*v)), *out = json_array();

	if (v == NULL || out == NULL) {
		free(v);
		json_decref(out);
		return NULL;
	}
	for (i = 0; i < n; i++)
		v[i] = json_array_get(f, i);
	/* insertion sort: stable, and the lists are short */
	for (i = 1; i < n; i++) {
		json_t *x = v[i];
		for (j = i; j > 0 && cmp_json_finding(&v[j - 1], &x) > 0; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	for (i = 0; i < n; i++)
		json_array_append(out, v[i]);
	free(v);
	return out;
}

int
planner_plan(json_t **out, const struct topology *cur, const struct topology *tgt,
    const struct planner_opts *opts, struct nw_err *err)
{
	struct pl p = { 0 };
	struct budget b = { 0 };
	char fc[PLAN_JSON_FINGERPRINT_LEN], ft[PLAN_JSON_FINGERPRINT_LEN];
	json_t *plan = NULL, *summary = NULL, *changes = NULL, *waves = NULL, *wb = NULL;
	char when[32];
	struct tm tm;
	time_t now = opts != NULL ? opts->now : 0;
	size_t i;
	int rc;

	*out = NULL;
	p.cur = cur;
	p.tgt = tgt;
	p.o = opts;
	p.err = err;
	p.blockers = json_array();
	p.findings = json_array();
	p.prereqs = json_array();
	p.limits = json_array();
	p.inspected = json_array();
	p.memberset = json_object();
	p.newset = json_object();
	p.features = json_object();
	p.hspe_vnets = json_object();
	p.sum_vnets = json_object();
	p.changed = json_object();
	p.committed = json_object();
	p.member_space = cidr_table_new();
	p.is_hub = calloc(cur->nvnets + 1, sizeof(*p.is_hub));
	{
		const json_t *d = json_path(cur->root, "observed", "avnmDeployments", NULL);
		p.deploy = json_is_object(d) ? json_deep_copy(d) : json_object();
	}
	if (p.blockers == NULL || p.findings == NULL || p.prereqs == NULL || p.limits == NULL ||
	    p.inspected == NULL || p.memberset == NULL || p.newset == NULL || p.features == NULL ||
	    p.hspe_vnets == NULL || p.sum_vnets == NULL || p.changed == NULL || p.committed == NULL ||
	    p.member_space == NULL || p.is_hub == NULL || p.deploy == NULL) {
		rc = nomem(&p);
		goto done;
	}
	for (i = 0; i < cur->nvnets; i++)
		p.is_hub[i] = findings_is_hub(&cur->vnets[i]);

	rc = intent_rollout_parse(&p.ro, json_object_get(tgt->root, "x-netwave-rollout"), tgt->source,
	    "/x-netwave-rollout", err);
	if (rc != 0)
		goto done;
	p.ro_parsed = true;
	p.sample = opts != NULL && opts->sample_size > 0 ? opts->sample_size :
	    p.ro.sample_size > 0 ? (unsigned)p.ro.sample_size : PLANNER_DEFAULT_SAMPLE;

	rc = plan_json_fingerprint(fc, cur, err);
	if (rc == 0)
		rc = plan_json_fingerprint(ft, tgt, err);
	if (rc == 0)
		rc = diff_topologies(&p.diff, cur, tgt, err);
	if (rc == 0)
		rc = routes_ctx_new(&p.cur_ctx, cur, err);
	if (rc == 0)
		rc = onprem_collect(&p);
	if (rc == 0)
		rc = mesh_detect(&p);
	if (rc == 0)
		rc = classify(&p);
	if (rc != 0)
		goto done;
	rg_claim(&p);
	unclaimed_blockers(&p);
	for (i = 0; i < p.nmesh && rc == 0; i++)
		rc = mesh_check(&p, &p.mesh[i]);
	if (rc == 0)
		rc = find_inspected(&p);
	/* the waves, in phase order */
	if (rc == 0)
		rc = wave_prepare(&p);
	if (rc == 0)
		rc = waves_hspe(&p);
	if (rc == 0)
		rc = waves_mesh(&p);
	if (rc == 0)
		rc = waves_gateways(&p);
	if (rc == 0)
		rc = wave_summarize(&p);
	if (rc == 0)
		rc = wave_decommission(&p);
	if (rc == 0)
		rc = rehearse(&p);
	if (rc != 0)
		goto done;

	plan = json_object();
	summary = json_object();
	changes = json_array();
	if (plan == NULL || summary == NULL || changes == NULL) {
		rc = nomem(&p);
		goto done;
	}
	wb = budget_json(&p, &b);
	rc = finish_waves(&p, &b, summary, &waves);
	if (rc != 0)
		goto done;
	for (i = 0; i < PROC_COUNT; i++)
		if (p.uses[i])
			json_array_append_new(changes, json_string(proc_name[i]));
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_set_new(plan, "format", json_string(PLAN_FORMAT));
	json_object_set_new(plan, "createdAt", json_string(when));
	json_object_set_new(plan, "current", json_pack("{s:s, s:s}", "fingerprint", fc, "source",
	    opts != NULL && opts->current_source != NULL ? opts->current_source : cur->source));
	json_object_set_new(plan, "target", json_pack("{s:s, s:s}", "fingerprint", ft, "source",
	    opts != NULL && opts->target_source != NULL ? opts->target_source : tgt->source));
	json_object_set_new(plan, "subscriptions", json_object_get(cur->root, "subscriptions") != NULL ?
	    json_deep_copy(json_object_get(cur->root, "subscriptions")) : json_array());
	json_object_set_new(plan, "changes", changes);
	changes = NULL;
	json_object_set_new(plan, "writeBudget", wb);
	wb = NULL;
	json_object_set_new(plan, "summary", summary);
	summary = NULL;
	json_object_set(plan, "prerequisites", p.prereqs);
	json_object_set(plan, "blockers", p.blockers);
	json_object_set_new(plan, "findings", sorted_findings(p.findings));
	json_object_set(plan, "limits", p.limits);
	json_object_set(plan, "inspected", p.inspected);
	json_object_set_new(plan, "waves", waves);
	waves = NULL;
	if (opts == NULL || !opts->unsealed)
		rc = plan_json_seal(plan, NULL, err);
	if (rc != 0)
		goto done;
	if (json_array_size(p.blockers) > 0) {
		size_t nb = json_array_size(p.blockers);
		char more[64] = "";

		/* the first blocker and the count: the plan's blockers array has them all */
		if (nb > 1)
			snprintf(more, sizeof(more), " (%zu blockers in all)", nb);
		rc = err_set(err, NW_EFAIL, "the plan is blocked: %s%s",
		    json_str(json_array_get(p.blockers, 0), "message"), more);
	}
	*out = plan;
	plan = NULL;
done:
	json_decref(plan);
	json_decref(summary);
	json_decref(changes);
	json_decref(waves);
	json_decref(wb);
	pl_free(&p);
	return rc;
}
