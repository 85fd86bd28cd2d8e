/*
 * Gates (state/apply/internal.h): the checks a wave must pass before the
 * run goes on, as the plan defines them (docs/plan.md), evaluated through
 * the provider.  Each evaluation is passed, failed, inconclusive (the
 * evidence is not enough to tell), error (the query itself failed) or
 * "not yet" (a deployment still Deploying, a migration InProgress): the
 * first three count against the gate's separate budgets, "not yet" is
 * asked again until the gate timeout.  Every result is recorded in the
 * store with its evidence.
 *
 * Effective routes come from POST effectiveRouteTable on a network
 * interface in the VNet (or subnet) a check names: ARM has no other way
 * to show the routes a VNet's workloads get.  A VNet with no interface
 * cannot be asked: its checks are listed as skipped, and a gate that
 * could ask nobody is inconclusive.
 *
 * The rollback proof runs after a wave is rolled back: the resources are
 * as they were before it, on-premises prefixes still go through the
 * gateway, and the pairs the wave meshed have no ConnectedGroup routes.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "plan/arm_api.h"
#include "plan/cidr.h"
#include "plan/kinds.h"
#include "plan/gwmigrate.h"
#include "plan/jsonutil.h"
#include "state/apply/internal.h"

#define API_NETWORK ARM_API_NETWORK
#define API_FEATURES ARM_API_FEATURES
#define MAX_LISTED 20

/* ------------------------------------------------------------------ */
/* Helpers */

static void
sleep_driving(struct run *r, double seconds)
{
	struct provider_stats ps;
	struct nw_err e = { 0 };

	provider_stats_get(r->p, &ps);
	if (ps.pending > 0) {
		(void)provider_run(r->p, seconds, &e);
		return;
	}
	{
		struct timespec ts = { (time_t)seconds, (long)((seconds - floor(seconds)) * 1e9) };
		nanosleep(&ts, NULL);
	}
}

static void
list_add(json_t *list, json_t *item)
{
	if (json_array_size(list) < MAX_LISTED)
		json_array_append_new(list, item);
	else
		json_decref(item);
}

static char *
sub_of(const char *id)
{
	const char *p = id != NULL ? strstr(id, "/subscriptions/") : NULL;
	char *out;
	size_t n;

	if (p == NULL)
		return NULL;
	p += 15;
	n = strcspn(p, "/");
	out = malloc(n + 1);
	if (out != NULL) {
		memcpy(out, p, n);
		out[n] = '\0';
	}
	return out;
}

static bool
id_under(const char *id, const char *prefix)
{
	size_t n = strlen(prefix);

	return id != NULL && strncasecmp(id, prefix, n) == 0 && (id[n] == '/' || id[n] == '\0');
}

/* ------------------------------------------------------------------ */
/* Network interfaces and effective routes */

/* Every NIC of the subscriptions of ids, read once per run. */
static int
nics_load(struct run *r, const json_t *vnet_ids, json_t **out, struct nw_err *err)
{
	json_t *cache, *v;
	size_t i;
	int rc;

	if (r->nics == NULL && (r->nics = json_object()) == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	cache = r->nics;
	json_array_foreach(vnet_ids, i, v) {
		char *sub = sub_of(json_string_value(v));
		json_t *items = NULL;

		if (sub == NULL || json_object_get(cache, sub) != NULL) {
			free(sub);
			continue;
		}
		rc = run_list(r, &items, err, "/subscriptions/%s/providers/Microsoft.Network/networkInterfaces"
		    "?api-version=%s", sub, API_NETWORK);
		if (rc != 0) {
			free(sub);
			return rc;
		}
		json_object_set_new(cache, sub, items);
		free(sub);
	}
	*out = cache;
	return 0;
}

/* A NIC in the subnet (or anywhere in the VNet when subnet is NULL), or NULL. */
static const char *
nic_in(const json_t *nics, const char *vnet, const char *subnet)
{
	const char *k;
	json_t *list, *nic, *ipc;
	size_t i, q;

	json_object_foreach((json_t *)nics, k, list)
		json_array_foreach(list, i, nic)
			json_array_foreach(json_path(nic, "properties", "ipConfigurations", NULL), q, ipc) {
				const char *sid = json_path_str(ipc, "properties", "subnet", "id", NULL);
				if (sid == NULL)
					continue;
				if (subnet != NULL ? strcasecmp(sid, subnet) == 0 : id_under(sid, vnet))
					return json_str(nic, "id");
			}
	return NULL;
}

/* What post_reads's batch needs: the action POSTed, and where a POST that did not answer is listed. */
struct post_batch {
	const char *action;  /* appended to each id: "effectiveRouteTable" */
	const char *what;    /* the failure's member for the id: "nic" */
	json_t *failed;
};

/* The POST of the action on id v (it only reads, so it may be sent again); the key is the id. */
static struct provider_op *
post_make(const json_t *v, const void *arg, char **key)
{
	const struct post_batch *pb = arg;
	struct provider_op *op = NULL;
	char *path = NULL;

	*key = NULL;
	if (asprintf(&path, "%s/%s?api-version=%s", json_string_value(v), pb->action, API_NETWORK) < 0 ||
	    (op = provider_op_new(PROVIDER_OP_WRITE, "POST", path, NULL)) == NULL) {
		free(path);
		return NULL;
	}
	free(path);
	*key = strdup(json_string_value(v));
	op->idempotent = true; /* it only reads */
	return op;
}

static int
post_miss(const struct batch_item *it, json_t *res, const void *arg, struct nw_err *err)
{
	const struct post_batch *pb = arg;

	(void)res;
	(void)err;
	list_add(pb->failed, json_pack("{s:s, s:s}", pb->what, it->key, "error", it->op->err.msg));
	return 0;
}

/*
 * POST actions that only read (effectiveRouteTable of NICs, learnedRoutes
 * of BGP connections), several at once: *out {id: the answer} for those
 * that answered; *failed gets the messages of those that did not.
 */
static int
post_reads(struct run *r, const json_t *ids, const char *action, const char *what, const char *doing,
    json_t **out, json_t *failed, struct nw_err *err)
{
	const struct batch_def def = { doing, post_make, post_miss };
	const struct post_batch pb = { action, what, failed };

	return batch_run(r, ids, &def, &pb, out, err);
}

/* Effective routes of several NICs at once: *out {nic id: [routes]}. */
static int
routes_of(struct run *r, const json_t *nic_ids, json_t **out, json_t *failed, struct nw_err *err)
{
	const char *k;
	json_t *v;
	int rc = post_reads(r, nic_ids, "effectiveRouteTable", "nic", "reading effective routes", out, failed,
	    err);

	/* an answer without "value" is an empty table */
	json_object_foreach(rc == 0 ? *out : NULL, k, v)
		json_object_set(*out, k, json_object_get(v, "value") != NULL ? json_object_get(v, "value") :
		    json_array());
	return rc;
}

/* ------------------------------------------------------------------ */
/* The kinds */

/* The reads of a resource-state gate: {lowercase id: resource or null}. */
static enum gate_outcome
read_resources(struct run *r, const struct gate_kind_def *def, const json_t *params, json_t **reads, json_t *ev)
{
	const json_t *c;
	json_t *ids = json_array();
	struct nw_err e = { 0 };
	size_t i;
	int rc;

	(void)def;
	json_array_foreach(json_object_get(params, "checks"), i, c)
		json_array_append_new(ids, json_string(json_str(c, "resource")));
	rc = read_many(r, ids, reads, &e);
	json_decref(ids);
	return rc != 0 ? gate_finish(ev, GATE_ERROR, "%s", e.msg) : GATE_PASSED;
}

/* The reads of a deployment-status gate: each deployment's records, in order. */
static enum gate_outcome
read_deployments(struct run *r, const struct gate_kind_def *def, const json_t *params, json_t **reads, json_t *ev)
{
	const json_t *d;
	size_t i;

	(void)def;
	*reads = json_array();
	json_array_foreach(json_object_get(params, "deployments"), i, d) {
		const char *nm = json_str(d, "networkManager"), *region = json_str(d, "region");
		json_t *body = json_pack("{s:[s], s:[s]}", "regions", region != NULL ? region : "",
		    "deploymentTypes", "Connectivity");
		struct nw_err e = { 0 };
		char *path = NULL;
		struct provider_op *op;

		if (asprintf(&path, "%s/listDeploymentStatus?api-version=%s", nm, API_NETWORK) < 0) {
			json_decref(body);
			return gate_finish(ev, GATE_ERROR, "out of memory");
		}
		op = provider_op_new(PROVIDER_OP_POST_LIST, "POST", path, body);
		free(path);
		json_decref(body);
		if (op == NULL || provider_submit(r->p, op, &e) != 0 || provider_wait(r->p, op, &e) != 0) {
			provider_op_free(op);
			return gate_finish(ev, GATE_ERROR, "cannot list the deployment status of %s: %s",
			    gate_short_name(nm), e.msg);
		}
		json_array_append_new(*reads, op->result != NULL ? json_incref(op->result) : json_array());
		provider_op_free(op);
	}
	return GATE_PASSED;
}

/*
 * The route checks shared by effective-routes and onprem-routes.  Each
 * check is {from VNet, subnet or NULL, prefixes, hop}; absent: the routes
 * must not use hop (the rollback proof).
 */
struct rcheck {
	const char *from;
	const char *subnet;
	const char *to;       /* the destination VNet (for messages), may be NULL */
	json_t *prefixes;     /* borrowed */
};

#define ROUTE_BATCH 64

/* The active routes of one NIC by prefix: {prefix: nextHopType}.  New reference. */
static json_t *
route_index(const json_t *routes)
{
	json_t *idx = json_object();
	const json_t *rt, *p;
	size_t i, k;

	json_array_foreach(routes, i, rt) {
		const char *state = json_str(rt, "state"), *nh = json_str(rt, "nextHopType");
		if ((state != NULL && strcasecmp(state, "Active") != 0) || nh == NULL)
			continue;
		json_array_foreach(json_object_get(rt, "addressPrefix"), k, p)
			if (json_is_string(p) && json_object_get(idx, json_string_value(p)) == NULL)
				json_object_set_new(idx, json_string_value(p), json_string(nh));
	}
	return idx;
}

/*
 * The next hop type of the active route traffic to prefix takes: the
 * longest route prefix that holds it (Azure's selection, learn.microsoft.com/
 * azure/virtual-network/virtual-networks-udr-overview#how-azure-selects-a-route),
 * so that a route server's supernet decides for a spoke inside it.
 */
static const char *
route_deciding(const json_t *idx, const char *prefix)
{
	struct cidr want, have;
	struct nw_err e = { 0 };
	const char *k, *best = NULL;
	const json_t *nh;
	int len = -1;

	if (json_object_get(idx, prefix) != NULL || cidr_parse(&want, prefix, &e) != 0)
		return json_string_value(json_object_get(idx, prefix));
	json_object_foreach((json_t *)idx, k, nh)
		if (cidr_parse(&have, k, &e) == 0 && cidr_contains(&have, &want) && (int)have.len > len) {
			len = (int)have.len;
			best = json_string_value(nh);
		}
	return best;
}

/*
 * One check against a NIC's effective routes (idx: prefix -> next hop type):
 * each of its prefixes must use hop (or, when absent, no longer use it);
 * the ones that do not are added to bad.  Returns how many.
 */
static size_t
route_check_one(const struct rcheck *x, const char *nic, const json_t *idx, const char *hop,
    bool absent, json_t *bad)
{
	const json_t *p;
	size_t t, nbad = 0;

	json_array_foreach(x->prefixes, t, p) {
		const char *pfx = json_string_value(p), *nh;
		bool uses;

		if (pfx == NULL)
			continue;
		nh = route_deciding(idx, pfx);
		uses = nh != NULL && strcasecmp(nh, hop) == 0;
		if (uses == absent) {
			nbad++;
			list_add(bad, json_pack("{s:s, s:s?, s:s, s:s, s:s}", "from", x->from, "to", x->to,
			    "prefix", pfx, "nic", nic, "found", nh == NULL ? "no active route" : nh));
		}
	}
	return nbad;
}

/*
 * Asks each NIC once, a batch at a time, and judges its checks as soon as
 * its routes arrive, so a thousand route tables never sit in memory at once.
 */
static enum gate_outcome
route_checks(struct run *r, struct rcheck *c, size_t n, const char *hop, bool absent, json_t *ev)
{
	json_t *vnets = json_array(), *nics = NULL, *nic_ids = json_array(), *by_nic = json_object();
	json_t *failed_q = json_array(), *bad = json_array(), *skipped = json_array();
	struct nw_err e = { 0 };
	const char **nic_of = calloc(n + 1, sizeof(*nic_of));
	size_t i, k, b, checked = 0, nbad = 0, nskip = 0;
	enum gate_outcome o = GATE_PASSED;
	bool query_failed = false;

	if (nic_of == NULL || vnets == NULL || nic_ids == NULL || by_nic == NULL) {
		o = gate_finish(ev, GATE_ERROR, "out of memory");
		goto done;
	}
	for (i = 0; i < n; i++)
		json_array_append_new(vnets, json_string(c[i].from));
	if (nics_load(r, vnets, &nics, &e) != 0) {
		o = gate_finish(ev, GATE_ERROR, "cannot list network interfaces: %s", e.msg);
		goto done;
	}
	for (i = 0; i < n; i++) {
		json_t *list;

		nic_of[i] = nic_in(nics, c[i].from, c[i].subnet);
		if (nic_of[i] == NULL && c[i].subnet != NULL)
			nic_of[i] = nic_in(nics, c[i].from, NULL);
		if (nic_of[i] == NULL) {
			nskip++;
			list_add(skipped, json_pack("{s:s, s:s}", "vnet", c[i].from, "why",
			    "no network interface to read effective routes from"));
			continue;
		}
		if ((list = json_object_get(by_nic, nic_of[i])) == NULL) {
			list = json_array();
			json_object_set_new(by_nic, nic_of[i], list);
			json_array_append_new(nic_ids, json_string(nic_of[i]));
		}
		json_array_append_new(list, json_integer((json_int_t)i));
	}
	for (b = 0; b < json_array_size(nic_ids); b += ROUTE_BATCH) {
		json_t *batch = json_array(), *routes = NULL, *nv;

		for (k = b; k < json_array_size(nic_ids) && k < b + ROUTE_BATCH; k++)
			json_array_append(batch, json_array_get(nic_ids, k));
		if (routes_of(r, batch, &routes, failed_q, &e) != 0) {
			json_decref(batch);
			o = gate_finish(ev, GATE_ERROR, "%s", e.msg);
			goto done;
		}
		json_array_foreach(batch, k, nv) {
			const char *nic = json_string_value(nv);
			const json_t *rts = json_object_get(routes, nic), *ci;
			json_t *idx;
			size_t q;

			if (rts == NULL) {
				query_failed = true;
				continue;
			}
			idx = route_index(rts);
			json_array_foreach(json_object_get(by_nic, nic), q, ci) {
				checked++;
				nbad += route_check_one(&c[json_integer_value(ci)], nic, idx, hop, absent, bad);
			}
			json_decref(idx);
		}
		json_decref(routes);
		json_decref(batch);
	}
	json_object_set_new(ev, "checked", json_integer((json_int_t)checked));
	json_object_set(ev, absent ? "stillUsing" : "missing", bad);
	if (nskip > 0)
		json_object_set(ev, "skipped", skipped);
	if (json_array_size(failed_q) > 0)
		json_object_set(ev, "queryErrors", failed_q);
	if (nbad > 0) {
		const json_t *x = json_array_get(bad, 0);
		o = gate_finish(ev, GATE_FAILED, "%zu route(s) %s; first: %s to %s (%s): %s", nbad,
		    absent ? "still use" : "lack", gate_short_name(json_str(x, "from")),
		    json_str(x, "to") != NULL ? gate_short_name(json_str(x, "to")) : json_str(x, "prefix"),
		    json_str(x, "prefix"), absent ? hop : json_str(x, "found"));
		goto done;
	}
	if (query_failed) {
		o = gate_finish(ev, GATE_ERROR, "cannot read the effective routes of %zu network interface(s): %s",
		    json_array_size(failed_q), json_str(json_array_get(failed_q, 0), "error") != NULL ?
		    json_str(json_array_get(failed_q, 0), "error") : "no answer");
		goto done;
	}
	if (checked == 0) {
		o = gate_finish(ev, GATE_INCONCLUSIVE, "no VNet of the gate has a network interface to read "
		    "effective routes from");
		goto done;
	}
	o = gate_finish(ev, GATE_PASSED, "%zu route check(s)%s: every prefix %s %s", checked,
	    nskip > 0 ? " (VNets without a network interface skipped)" : "",
	    absent ? "no longer via" : "via", hop);
done:
	free(nic_of);
	json_decref(vnets);
	json_decref(nic_ids);
	json_decref(by_nic);
	json_decref(failed_q);
	json_decref(bad);
	json_decref(skipped);
	return o;
}

static enum gate_outcome
gate_effective_routes(struct run *r, const json_t *params, bool absent, json_t *ev)
{
	const json_t *vnets = json_object_get(params, "vnets"), *pairs = json_object_get(params, "pairs");
	const char *hop = json_str(params, "nextHopType") != NULL ? json_str(params, "nextHopType") :
	    "ConnectedGroup";
	/* "oneWay": each pair is checked from its first VNet only (a route server's routes reach
	 * the NVA subnets; the spokes keep their default route the other way) */
	bool one_way = json_is_true(json_object_get(params, "oneWay"));
	json_t *ids = json_array(), *got = NULL, *seen = json_object(), *v;
	struct rcheck *c = NULL;
	struct nw_err e = { 0 };
	size_t n = 0, i, k, cap;
	enum gate_outcome o;
	char ka[2048], kb[2048];

	/* every ordered pair of vnets, or the listed pairs (both ways unless oneWay) */
	cap = json_array_size(vnets) * json_array_size(vnets) + 2 * json_array_size(pairs) + 1;
	c = calloc(cap, sizeof(*c));
	if (c == NULL || ids == NULL || seen == NULL) {
		o = gate_finish(ev, GATE_ERROR, "out of memory");
		goto done;
	}
	json_array_foreach(vnets, i, v)
		if (json_is_string(v) && json_object_get(seen, str_lower(ka, sizeof(ka), json_string_value(v))) == NULL) {
			json_object_set_new(seen, ka, json_true());
			json_array_append(ids, v);
		}
	json_array_foreach(pairs, i, v)
		for (k = 0; k < 2; k++) {
			const json_t *x = json_array_get(v, k);
			if (json_is_string(x) &&
			    json_object_get(seen, str_lower(ka, sizeof(ka), json_string_value(x))) == NULL) {
				json_object_set_new(seen, ka, json_true());
				json_array_append(ids, (json_t *)x);
			}
		}
	if (read_many(r, ids, &got, &e) != 0) {
		o = gate_finish(ev, GATE_ERROR, "%s", e.msg);
		goto done;
	}
#define PREFIXES(id) json_path(json_object_get(got, str_lower(kb, sizeof(kb), (id))), "properties", \
	"addressSpace", "addressPrefixes", NULL)
	json_array_foreach(vnets, i, v) {
		const json_t *w;
		json_array_foreach(vnets, k, w) {
			if (i == k || !json_is_string(v) || !json_is_string(w))
				continue;
			c[n].from = json_string_value(v);
			c[n].to = json_string_value(w);
			c[n].prefixes = PREFIXES(c[n].to);
			n++;
		}
	}
	json_array_foreach(pairs, i, v) {
		const char *a = json_string_value(json_array_get(v, 0));
		const char *b = json_string_value(json_array_get(v, 1));
		if (a == NULL || b == NULL)
			continue;
		c[n].from = a;
		c[n].to = b;
		c[n].prefixes = PREFIXES(b);
		n++;
		if (one_way)
			continue;
		c[n].from = b;
		c[n].to = a;
		c[n].prefixes = PREFIXES(a);
		n++;
	}
#undef PREFIXES
	o = route_checks(r, c, n, hop, absent, ev);
done:
	free(c);
	json_decref(ids);
	json_decref(got);
	json_decref(seen);
	return o;
}

static enum gate_outcome
gate_onprem_routes(struct run *r, const json_t *params, json_t *ev)
{
	const json_t *checks = json_object_get(params, "checks"), *x;
	const char *hop = json_str(params, "nextHopType") != NULL ? json_str(params, "nextHopType") :
	    "VirtualNetworkGateway";
	struct rcheck *c = calloc(json_array_size(checks) + 1, sizeof(*c));
	size_t i, n = 0;
	enum gate_outcome o;

	if (c == NULL)
		return gate_finish(ev, GATE_ERROR, "out of memory");
	json_array_foreach(checks, i, x) {
		if (json_str(x, "vnet") == NULL)
			continue;
		c[n].from = json_str(x, "vnet");
		c[n].subnet = json_str(x, "subnet");
		c[n].prefixes = json_object_get(x, "prefixes");
		n++;
	}
	o = route_checks(r, c, n, hop, false, ev);
	free(c);
	return o;
}

/* The reads of a feature-registered gate: [{feature, subscription, resource or null}]. */
static enum gate_outcome
read_features(struct run *r, const struct gate_kind_def *def, const json_t *params, json_t **reads, json_t *ev)
{
	const json_t *f, *s;
	size_t i, k;

	(void)def;
	*reads = json_array();
	json_array_foreach(json_object_get(params, "subscriptions"), k, s)
		json_array_foreach(json_object_get(params, "features"), i, f) {
			const char *full = json_string_value(f), *slash, *sub = json_string_value(s);
			char ns[256], path[1024];
			struct nw_err e = { 0 };
			json_t *res = NULL;

			if (full == NULL || sub == NULL || (slash = strchr(full, '/')) == NULL)
				continue;
			if (strncmp(sub, "/subscriptions/", 15) == 0)
				sub += 15;
			snprintf(ns, sizeof(ns), "%.*s", (int)(slash - full), full);
			snprintf(path, sizeof(path), "/subscriptions/%s/providers/Microsoft.Features/providers/%s/"
			    "features/%s?api-version=%s", sub, ns, slash + 1, API_FEATURES);
			if (provider_read(r->p, path, &res, &e) != 0)
				return gate_finish(ev, GATE_ERROR, "cannot read feature %s: %s", full, e.msg);
			json_array_append_new(*reads, json_pack("{s:s, s:s, s:o?}", "feature", full,
			    "subscription", sub, "resource", res));
		}
	return GATE_PASSED;
}

/* Reads one gateway, or the one its committed migration made when it is gone. */
static enum gate_outcome
read_gateway(struct run *r, const char *id, json_t *reads, json_t *ev)
{
	char *path = NULL, *alt = NULL;
	json_t *res = NULL;
	struct nw_err e = { 0 };
	const char *phase, *state;

	path = path_with_version(id, API_NETWORK);
	if (path == NULL || provider_read(r->p, path, &res, &e) != 0) {
		free(path);
		return gate_finish(ev, GATE_ERROR, "cannot read gateway %s: %s", gate_short_name(id), e.msg);
	}
	free(path);
	if (res == NULL) {
		/* a committed migration deleted the old gateway: the phase is on the new one */
		alt = gateway_migrated_id(r, id);
		path = alt != NULL ? path_with_version(alt, API_NETWORK) : NULL;
		if (path == NULL || provider_read(r->p, path, &res, &e) != 0) {
			free(path);
			free(alt);
			return gate_finish(ev, GATE_ERROR, "cannot read gateway %s: %s", gate_short_name(id), e.msg);
		}
		free(path);
	}
	phase = json_path_str(res, "properties", "virtualNetworkGatewayMigrationStatus", "phase", NULL);
	state = json_path_str(res, "properties", "virtualNetworkGatewayMigrationStatus", "state", NULL);
	if (alt == NULL && res != NULL && gwm_is_expressroute(res) && state != NULL &&
	    strcasecmp(state, "Succeeded") == 0 && phase != NULL && strcasecmp(phase, "PrepareSucceeded") == 0 &&
	    gateway_migrated_find(r, id, &alt, &e) != 0) {
		/* the prepared gateway is found and journaled as soon as prepare has made it */
		json_decref(res);
		return gate_finish(ev, GATE_ERROR, "cannot find the gateway the migration of %s made: %s",
		    gate_short_name(id), e.msg);
	}
	json_array_append_new(reads, json_pack("{s:s, s:o?, s:s?}", "gateway", id, "resource", res,
	    "newGateway", alt));
	free(alt);
	return GATE_PASSED;
}

/* The reads of a migration-phase gate: [{gateway, resource or null, newGateway or null}]. */
static enum gate_outcome
read_gateways(struct run *r, const struct gate_kind_def *def, const json_t *params, json_t **reads, json_t *ev)
{
	const json_t *g;
	enum gate_outcome o = GATE_PASSED;
	size_t i;

	(void)def;
	*reads = json_array();
	if (json_str(params, "gateway") != NULL)
		o = read_gateway(r, json_str(params, "gateway"), *reads, ev);
	json_array_foreach(json_object_get(params, "gateways"), i, g)
		if (o == GATE_PASSED && json_string_value(g) != NULL)
			o = read_gateway(r, json_string_value(g), *reads, ev);
	return o;
}

/*
 * The reads of a gate that POSTs an action that only reads (k->post: the
 * learnedRoutes of BGP connections, Virtual Hub Bgp Connections - List
 * Learned Routes, learn.microsoft.com/rest/api/virtualwan/
 * virtual-hub-bgp-connections/list-learned-routes) on the id of each
 * params.<list>[]: [{<key>: id, <as>: the answer or null}] in params'
 * order.  An id that cannot be asked is an error of the gate.
 */
static enum gate_outcome
read_post_action(struct run *r, const struct gate_kind_def *def, const json_t *params, json_t **reads,
    json_t *ev)
{
	const struct gate_post_read *pr = def->post;
	const json_t *c;
	json_t *ids = json_array(), *got = NULL, *failed = json_array();
	struct nw_err e = { 0 };
	enum gate_outcome o = GATE_PASSED;
	size_t i;

	*reads = json_array();
	json_array_foreach(json_object_get(params, pr->list), i, c)
		json_array_append_new(ids, json_string(json_str(c, pr->key)));
	if (post_reads(r, ids, pr->action, pr->key, pr->doing, &got, failed, &e) != 0)
		o = gate_finish(ev, GATE_ERROR, "%s", e.msg);
	else if (json_array_size(failed) > 0)
		o = gate_finish(ev, GATE_ERROR, "cannot read the %s of %s: %s", pr->action,
		    gate_short_name(json_str(json_array_get(failed, 0), pr->key)),
		    json_str(json_array_get(failed, 0), "error"));
	json_array_foreach(json_object_get(params, pr->list), i, c) {
		const char *id = json_str(c, pr->key);
		json_t *one = json_object();

		if (id != NULL)
			json_object_set_new(one, pr->key, json_string(id));
		if (json_object_get(got, id != NULL ? id : "") != NULL)
			json_object_set(one, pr->as, json_object_get(got, id));
		json_array_append_new(*reads, one);
	}
	json_decref(ids);
	json_decref(got);
	json_decref(failed);
	return o;
}

static enum gate_outcome
read_nothing(struct run *r, const struct gate_kind_def *def, const json_t *params, json_t **reads, json_t *ev)
{
	(void)r;
	(void)def;
	(void)params;
	(void)reads;
	(void)ev;
	return GATE_PASSED;
}

/* The route reads judge as they sample: their outcome is the gate's. */
static enum gate_outcome
read_effective_routes(struct run *r, const struct gate_kind_def *def, const json_t *params, json_t **reads,
    json_t *ev)
{
	(void)def;
	(void)reads;
	return gate_effective_routes(r, params, false, ev);
}

static enum gate_outcome
read_onprem_routes(struct run *r, const struct gate_kind_def *def, const json_t *params, json_t **reads,
    json_t *ev)
{
	(void)def;
	(void)reads;
	return gate_onprem_routes(r, params, ev);
}

/*
 * How the engine reads for each read kind a gate kind names (plan/gates.h):
 * a new gate kind that reads in one of these ways needs no change here.
 */
typedef enum gate_outcome (*gate_reader_fn)(struct run *r, const struct gate_kind_def *def, const json_t *params,
    json_t **reads, json_t *ev);

static const gate_reader_fn gate_readers[GATE_READ_COUNT] = {
	[GATE_READ_NOTHING] = read_nothing,
	[GATE_READ_RESOURCES] = read_resources,
	[GATE_READ_DEPLOYMENTS] = read_deployments,
	[GATE_READ_EFFECTIVE_ROUTES] = read_effective_routes,
	[GATE_READ_ONPREM_ROUTES] = read_onprem_routes,
	[GATE_READ_FEATURES] = read_features,
	[GATE_READ_GATEWAYS] = read_gateways,
	[GATE_READ_POST_ACTION] = read_post_action,
};

enum gate_outcome
gate_eval(struct run *r, const json_t *gate, json_t **evidence)
{
	const char *kind = json_str(gate, "kind");
	const json_t *params = json_object_get(gate, "params");
	const struct gate_kind_def *ge = gate_kind_parse(kind);
	json_t *ev = json_object(), *reads = NULL;
	enum gate_outcome o;

	*evidence = ev;
	if (kind == NULL)
		kind = "";
	json_object_set_new(ev, "kind", json_string(kind));
	if (ge == NULL || (size_t)ge->read >= GATE_READ_COUNT || gate_readers[ge->read] == NULL ||
	    (ge->read == GATE_READ_POST_ACTION && ge->post == NULL))
		return gate_finish(ev, GATE_INCONCLUSIVE, "netwave does not know gate kind '%s'", kind);
	/* the engine reads; the kind's pure judge decides (plan/gates.h) */
	o = gate_readers[ge->read](r, ge, params, &reads, ev);
	if (o == GATE_PASSED && ge->judge != NULL)
		o = ge->judge(params, reads, ev);
	json_decref(reads);
	return o;
}

int
gate_run(struct run *r, int wave_idx, const json_t *gate, json_t **evidence, struct nw_err *err)
{
	const json_t *budget = json_object_get(gate, "budget");
	long limits[3] = { json_integer_value(json_object_get(budget, "failures")),
		json_integer_value(json_object_get(budget, "inconclusive")),
		json_integer_value(json_object_get(budget, "errors")) };
	long counts[3] = { 0, 0, 0 };
	double timeout = r->o->gate_timeout > 0 ? r->o->gate_timeout : APPLY_DEFAULT_GATE_TIMEOUT;
	double deadline = run_now(r) + timeout;
	const char *id = json_str(gate, "id"), *kind = json_str(gate, "kind");
	bool waited = false;
	int rc;

	*evidence = NULL;
	run_event(r, "gate-start", json_pack("{s:i, s:s, s:s, s:s?}", "index", wave_idx, "gate", id,
	    "kind", kind, "description", json_str(gate, "description")));
	for (;;) {
		json_t *ev = NULL;
		enum gate_outcome o = gate_eval(r, gate, &ev);
		enum store_gate_outcome so;
		int slot;

		if (r->o->interrupt != NULL && *r->o->interrupt) {
			json_decref(ev);
			return err_set(err, NW_EPARTIAL, "interrupted while checking gate %s", id);
		}
		if (o == GATE_NOT_YET) {
			if (run_now(r) < deadline) {
				if (!waited)
					run_event(r, "gate-wait", json_pack("{s:s, s:s, s:O?}", "gate", id, "kind", kind,
					    "summary", json_object_get(ev, "summary")));
				waited = true;
				json_decref(ev);
				sleep_driving(r, r->poll);
				if ((rc = run_lease_keep(r, err)) != 0)
					return rc;
				continue;
			}
			o = GATE_INCONCLUSIVE;
			json_object_set_new(ev, "timedOut", json_real(timeout));
		}
		so = o == GATE_PASSED ? STORE_GATE_PASSED : o == GATE_FAILED ? STORE_GATE_FAILED :
		    o == GATE_INCONCLUSIVE ? STORE_GATE_INCONCLUSIVE : STORE_GATE_ERROR;
		rc = store_gate_record(r->st, r->plan_id, id, so, ev, run_time(r), err);
		if (rc != 0) {
			json_decref(ev);
			return run_fail(r, rc, err);
		}
		if (run_wrote(r)) {
			json_decref(ev);
			return err_set(err, NW_EPARTIAL, "the run stopped dead (simulated crash)");
		}
		run_event(r, "gate-result", json_pack("{s:i, s:s, s:s, s:s, s:O?}", "index", wave_idx, "gate",
		    id, "kind", kind, "outcome", gate_outcome_name(o), "summary", json_object_get(ev, "summary")));
		if (o == GATE_PASSED) {
			r->res->gates_passed++;
			json_decref(ev);
			return 0;
		}
		slot = o == GATE_FAILED ? 0 : o == GATE_INCONCLUSIVE ? 1 : 2;
		if (++counts[slot] > limits[slot]) {
			r->res->gates_failed++;
			*evidence = json_pack("{s:s, s:s, s:s?, s:s, s:o}", "gate", id, "kind", kind,
			    "description", json_str(gate, "description"), "outcome", gate_outcome_name(o),
			    "evidence", ev);
			return err_set(err, NW_EFAIL, "gate %s (%s) %s: %s", id, kind, gate_outcome_name(o),
			    json_str(ev, "summary") != NULL ? json_str(ev, "summary") : "no detail");
		}
		json_decref(ev);
		sleep_driving(r, r->poll);
		if ((rc = run_lease_keep(r, err)) != 0)
			return rc;
	}
}

/* ------------------------------------------------------------------ */
/* Proving a rollback */

static json_t *
without_migration_status(const json_t *v)
{
	json_t *c = json_deep_copy(v);

	if (json_is_object(json_object_get(c, "properties"))) {
		json_object_del(json_object_get(c, "properties"), "virtualNetworkGatewayMigrationStatus");
		json_object_del(json_object_get(c, "properties"), "adminState");
	}
	return c;
}

/* True when a resource can still be read (anything but a 404). */
static bool
still_there(struct run *r, const char *id)
{
	char *path = path_with_version(id, API_NETWORK);
	json_t *res = NULL;
	struct nw_err e = { 0 };
	int rc = path != NULL ? provider_read(r->p, path, &res, &e) : NW_ENOMEM;

	free(path);
	json_decref(res);
	return rc != 0 || res != NULL;
}

int
rollback_prove(struct run *r, struct wave_run *wr, json_t **evidence, struct nw_err *err)
{
	json_t *ev = json_object(), *bad = json_array(), *gates = json_array(), *kept = json_array();
	size_t i, restored = 0, nbad = 0;
	const json_t *g;
	int rc = 0;

	*evidence = ev;
	json_object_set_new(ev, "notRestored", bad);
	json_object_set_new(ev, "gates", gates);
	json_object_set_new(ev, "keptOnPurpose", kept);
	for (i = wr->cutoff; i < wr->njobs; i++) {
		struct job *j = &wr->jobs[i];
		const json_t *op = json_object_get(j->step, "operation");
		const char *m = json_str(op, "method");
		struct provider_op *rop;
		json_t *cur = NULL;
		struct nw_err e = { 0 };
		bool same;

		if (j->status != STORE_STEP_ROLLED_BACK || m == NULL || strcmp(m, "GET") == 0 ||
		    strcmp(m, "NONE") == 0)
			continue;
		{
			/* a conditional inverse left alone on purpose (a group kept): restored as planned */
			char why[1024];
			if (json_str(json_object_get(j->step, "inverse"), "condition") != NULL &&
			    apply_inverse_check(j, why, sizeof(why)) == INVERSE_SKIP) {
				list_add(kept, json_pack("{s:s, s:s}", "resource", j->resource, "why", why));
				restored++;
				continue;
			}
		}
		rop = state_read_op(op, j->resource);
		if (rop == NULL || provider_submit(r->p, rop, &e) != 0) {
			provider_op_free(rop);
			return err_set(err, NW_ENOMEM, "cannot read %s: %s", j->resource, e.msg);
		}
		(void)provider_wait(r->p, rop, &e);
		if (!state_from_op(rop, op, &cur)) {
			list_add(bad, json_pack("{s:s, s:s}", "resource", j->resource, "error", rop->err.msg));
			nbad++;
			provider_op_free(rop);
			continue;
		}
		provider_op_free(rop);
		if (action_kind_of(op) != NULL && action_kind_of(op)->undo_resets_status) {
			/* the phase ends AbortSucceeded; the rest of the gateway must be as before */
			json_t *a = without_migration_status(j->before_image), *b = without_migration_status(cur);
			json_t *ch = json_array();
			char *made = NULL;
			(void)resource_compare(j->resource, a, b, ch, &e);
			same = json_array_size(ch) == 0;
			if (!same)
				list_add(bad, json_pack("{s:s, s:o}", "resource", j->resource, "changes", ch));
			else
				json_decref(ch);
			/* abort deletes the gateway the prepare made (the one apply journaled) */
			if (same && action_kind_of(op)->makes_resource &&
			    gateway_migrated_find(r, j->resource, &made, &e) == 0 && made != NULL) {
				if (still_there(r, made)) {
					list_add(bad, json_pack("{s:s, s:s}", "resource", made, "error",
					    "the gateway the migration made is still there after abortMigration"));
					same = false;
				} else if ((rc = gateway_migrated_forget(r, j->resource, &e)) != 0) {
					free(made);
					return err_set(err, rc, "%s", e.msg);
				}
			}
			free(made);
			json_decref(a);
			json_decref(b);
		} else {
			same = action_restored(op, j->before_image, cur);
			if (!same) {
				json_t *ch = json_array();
				(void)resource_compare(j->resource, j->before_image, cur, ch, &e);
				list_add(bad, json_pack("{s:s, s:o}", "resource", j->resource, "changes", ch));
			}
		}
		json_decref(cur);
		if (same)
			restored++;
		else
			nbad++;
	}
	json_object_set_new(ev, "restored", json_integer((json_int_t)restored));
	json_array_foreach(json_object_get(wr->wave, "gates"), i, g) {
		const struct gate_kind_def *k = gate_kind_parse(json_str(g, "kind"));
		json_t *gev;
		enum gate_outcome o;
		double deadline = run_now(r) + (r->o->gate_timeout > 0 ? r->o->gate_timeout : 60);

		/* the route gates, asked again: the wave's routes must be gone */
		if (k == NULL || (k->read != GATE_READ_ONPREM_ROUTES && k->read != GATE_READ_EFFECTIVE_ROUTES))
			continue;
		gev = json_object();
		for (;;) {
			if (k->read == GATE_READ_ONPREM_ROUTES)
				o = gate_onprem_routes(r, json_object_get(g, "params"), gev);
			else
				o = gate_effective_routes(r, json_object_get(g, "params"), true, gev);
			if (o != GATE_NOT_YET || run_now(r) > deadline)
				break;
			sleep_driving(r, r->poll);
		}
		json_object_set_new(gev, "gate", json_string(json_str(g, "id")));
		json_object_set_new(gev, "outcome", json_string(gate_outcome_name(o)));
		json_array_append_new(gates, gev);
		if (o == GATE_FAILED || o == GATE_ERROR)
			nbad++;
	}
	if (nbad > 0) {
		rc = err_set(err, NW_EFAIL, "the rollback of wave %s is not proven: %zu check(s) failed",
		    wr->name, nbad);
	}
	return rc;
}

/* After-step gates: they must pass before the steps that depend on the step start. */
int
gate_after_step(struct wave_run *wr, struct job *j, struct nw_err *err)
{
	const json_t *g;
	size_t i;
	int rc;

	j->gates_done = true;
	if (j->dir != STORE_FORWARD)
		return 0;
	json_array_foreach(json_object_get(wr->wave, "gates"), i, g) {
		const char *when = json_str(g, "when"), *after = json_path_str(g, "params", "afterStep", NULL);
		json_t *evidence = NULL;

		if (when == NULL || strcmp(when, "after-step") != 0 || after == NULL ||
		    strcmp(after, j->id) != 0)
			continue;
		rc = gate_run(wr->r, wr->index, g, &evidence, err);
		if (rc == NW_EFAIL) {
			json_decref(wr->r->res->evidence);
			wr->r->res->evidence = evidence;
			wr->stop = true;
			snprintf(j->error, sizeof(j->error), "%s", err->msg);
			return 0;
		}
		json_decref(evidence);
		if (rc != 0)
			return rc;
	}
	return 0;
}
