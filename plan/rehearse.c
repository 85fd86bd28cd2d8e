/*
 * The route rehearsal (rehearse.h): each wave applied in turn, east-west
 * classes before and after, a blocker for a pair a wave cuts off, and the
 * gates only rehearsed routes fill in, asked of the wave's procedure.
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
#include "plan/procedure.h"
#include "plan/rehearse.h"
#include "plan/report.h"

/* Upper bound on flows examined to name a pair a wave cuts off. */
#define MAX_PAIR_SEARCH 4000000

static void
rstate_park(struct rstate *s)
{
	if (s->owned || s->owns_ctx) {
		routes_ctx_free(s->ctx);
		s->ctx = NULL;
	}
	if (s->owned) {
		topology_free(s->t);
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
rh_apply(struct plan_ctx *p, struct rehearsal *rh, const struct wave *w)
{
	const json_t *r;
	size_t i;

	json_array_foreach(w->fx_put, i, r) {
		const char *id = json_str(r, "id");
		json_t *pos;

		if (id == NULL)
			continue;
		pos = plan_idset_get(rh->index, id);
		if (pos != NULL) {
			if (json_array_set(rh->res, (size_t)json_integer_value(pos), (json_t *)r) != 0)
				return plan_nomem(p);
		} else {
			if (plan_idset_add(rh->index, id, json_integer((json_int_t)json_array_size(rh->res))) != 0 ||
			    json_array_append(rh->res, (json_t *)r) != 0)
				return plan_nomem(p);
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
rh_build(struct plan_ctx *p, struct rstate *s)
{
	const json_t *croot = p->cur->root, *cobs = json_object_get(croot, "observed");
	json_t *root = json_object(), *obs = json_object();
	int rc;

	if (root == NULL || obs == NULL) {
		json_decref(root);
		json_decref(obs);
		return plan_nomem(p);
	}
	json_object_set_new(root, "format", json_string(TOPOLOGY_FORMAT));
	if (json_object_get(croot, "cloud") != NULL)
		json_object_set(root, "cloud", json_object_get(croot, "cloud"));
	if (json_object_get(croot, "subscriptions") != NULL)
		json_object_set(root, "subscriptions", json_object_get(croot, "subscriptions"));
	json_object_set(root, "resources", s->res);
	/* what an intent declares (the top-level "declared", of any change kind: NVAs today) is no
	 * ARM state: the target's holds in every state, and what it declares takes effect only
	 * with the resources the waves make (a declared session exists only once its
	 * bgpConnection does, plan/topology_ars.h) */
	if (json_object_get(p->tgt->root, "declared") != NULL)
		json_object_set(root, "declared", json_object_get(p->tgt->root, "declared"));
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
rh_load(struct plan_ctx *p, struct rehearsal *rh, struct rstate *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	out->owned = true;
	out->res = json_copy(rh->res);
	out->deploy = json_incref(rh->deploy);
	if (out->res == NULL) {
		rstate_free(out);
		return plan_nomem(p);
	}
	rc = rh_build(p, out);
	if (rc == 0)
		rc = routes_summary(&out->sum, out->ctx, rh->spokes, rh->nspokes, p->err);
	if (rc != 0)
		rstate_free(out);
	return rc;
}

/* A parked state built again (the same topology, so the same answers). */
int
plan_rehearse_unpark(struct plan_ctx *p, struct rstate *s)
{
	if (s->ctx != NULL)
		return 0;
	return s->owned ? rh_build(p, s) : routes_ctx_new(&s->ctx, s->t, p->err);
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
find_cut_pair(struct plan_ctx *p, const struct rehearsal *rh, const struct rstate *b, const struct rstate *a,
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
		return plan_nomem(p);
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
onprem_checks(struct plan_ctx *p, const struct rstate *s, const size_t *idx, size_t n, unsigned max)
{
	json_t *checks = json_array();
	size_t i, k, m = n < max ? n : max;

	for (i = 0; checks != NULL && i < m; i++) {
		const struct topo_vnet *v = &s->t->vnets[idx[i * n / m]];
		const struct topo_subnet *sn = plan_workload_subnet(v);
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
			    "subnet", plan_jstr(sn != NULL ? sn->id : NULL), "prefixes", pf));
		else
			json_decref(pf);
	}
	return checks;
}

int
plan_gate_onprem(struct plan_ctx *p, struct wave *w, const struct rstate *s, const size_t *idx, size_t n,
    const char *what)
{
	json_t *checks;

	if (n == 0 || p->nonprem == 0)
		return 0;
	checks = onprem_checks(p, s, idx, n, p->sample);
	if (checks == NULL)
		return p->err->code != 0 ? p->err->code : plan_nomem(p);
	if (json_array_size(checks) == 0) {
		json_decref(checks);
		return 0;
	}
	return plan_gate_add(w, GATE_ONPREM_ROUTES, "after", json_pack("{s:s, s:o}", "nextHopType",
	    "VirtualNetworkGateway", "checks", checks), (int)json_array_size(checks),
	    "on-premises prefixes are still reached through the gateway from %s", what) == 0 ?
	    0 : plan_nomem(p);
}

static int
gate_soak(struct plan_ctx *p, struct wave *w)
{
	char d[32];

	if (w->soak <= 0)
		return 0;
	return plan_gate_add(w, GATE_SOAK, "after", json_pack("{s:I}", "seconds", (json_int_t)w->soak), 0,
	    "wait %s %s", report_duration(w->soak, d, sizeof(d)),
	    w->soak_desc != NULL ? w->soak_desc : "before the next wave") == 0 ? 0 : plan_nomem(p);
}

/* The current estate, less what the route engine never reads (private endpoints, NICs). */
static int
rh_init(struct plan_ctx *p, struct rehearsal *rh)
{
	size_t i;

	rh->res = json_array();
	rh->index = json_object();
	rh->spokes = malloc((p->cur->nvnets + 1) * sizeof(*rh->spokes));
	rh->deploy = json_incref(json_path(p->cur->root, "observed", "avnmDeployments", NULL));
	if (rh->res == NULL || rh->index == NULL || rh->spokes == NULL)
		return NW_ENOMEM;
	for (i = 0; i < p->cur->nres; i++)
		if (p->cur->res[i].type != TOPO_PRIVATE_ENDPOINT && p->cur->res[i].type != TOPO_NIC &&
		    json_array_append(rh->res, p->cur->res[i].json) != 0)
			return NW_ENOMEM;
	for (i = 0; i < json_array_size(rh->res); i++) {
		const char *id = json_str(json_array_get(rh->res, i), "id");
		if (id != NULL && plan_idset_add(rh->index, id, json_integer((json_int_t)i)) != 0)
			return NW_ENOMEM;
	}
	for (i = 0; i < p->cur->nvnets; i++)
		if (!p->is_hub[i])
			rh->spokes[rh->nspokes++] = i;
	return 0;
}

/* A blocker when the wave leaves more flows unreachable than before it, naming one. */
static int
rh_cut_blocker(struct plan_ctx *p, const struct rehearsal *rh, struct rstate *before,
    const struct rstate *after, const struct wave *w)
{
	size_t from = 0, to = 0, more;
	bool found;
	json_t *o;
	char msg[2048];
	int rc;

	if (after->sum.by_class[PATH_UNREACHABLE] <= before->sum.by_class[PATH_UNREACHABLE])
		return 0;
	more = after->sum.by_class[PATH_UNREACHABLE] - before->sum.by_class[PATH_UNREACHABLE];
	rc = plan_rehearse_unpark(p, before);
	if (rc == 0)
		rc = find_cut_pair(p, rh, before, after, w, &from, &to, &found);
	if (rc != 0)
		return rc;
	if (!found) {
		plan_blocker(p, "unreachable", NULL, "wave %s would leave %zu more spoke-to-spoke flow%s "
		    "unreachable than before", w->name, more, more == 1 ? "" : "s");
		return 0;
	}
	snprintf(msg, sizeof(msg), "wave %s would make %s unreachable from %s (%zu more "
	    "flow%s unreachable after the wave than before)", w->name,
	    p->cur->vnets[to].res->name, p->cur->vnets[from].res->name, more,
	    more == 1 ? "" : "s");
	o = json_pack("{s:s, s:s, s:s, s:[s, s]}", "code", "unreachable", "message", msg,
	    "resource", p->cur->vnets[from].res->id, "pair", p->cur->vnets[from].res->id,
	    p->cur->vnets[to].res->id);
	if (o != NULL)
		json_array_append_new(p->blockers, o);
	return 0;
}

/*
 * One wave: its traffic before and after, the blocker for a pair it cuts
 * off, its procedure's route gates, its soak.  *before becomes the state
 * after the wave.
 */
static int
rh_wave(struct plan_ctx *p, struct rehearsal *rh, struct wave *w, struct rstate *before)
{
	const struct procedure *proc = procedure_of_wave(w->kind);
	struct rstate after = { 0 };
	int rc = rh_apply(p, rh, w);

	if (rc != 0)
		return rc;
	if (!w->routing) {
		json_object_set_new(w->obj, "traffic", json_pack("{s:o, s:o, s:I}", "before",
		    classes_json(&before->sum), "after", classes_json(&before->sum), "flows",
		    (json_int_t)before->sum.flows));
		if (proc != NULL && proc->rehearsed != NULL && (rc = proc->rehearsed(p, w, before, NULL)) != 0)
			return rc;
		return gate_soak(p, w);
	}
	if (proc != NULL && proc->rehearse_before != NULL && (rc = proc->rehearse_before(p, w, before)) != 0)
		return rc;
	rstate_park(before);
	rc = rh_load(p, rh, &after);
	if (rc != 0)
		return rc;
	json_object_set_new(w->obj, "traffic", json_pack("{s:o, s:o, s:I}", "before",
	    classes_json(&before->sum), "after", classes_json(&after.sum), "flows",
	    (json_int_t)after.sum.flows));
	rc = rh_cut_blocker(p, rh, before, &after, w);
	if (rc == 0 && proc != NULL && proc->rehearsed != NULL)
		rc = proc->rehearsed(p, w, before, &after);
	if (rc == 0)
		rc = gate_soak(p, w);
	if (rc != 0) {
		rstate_free(&after);
		return rc;
	}
	rstate_free(before);
	*before = after;
	return 0;
}

int
plan_rehearse(struct plan_ctx *p)
{
	struct rehearsal rh = { 0 };
	struct rstate before = { 0 };
	size_t i;
	int rc = rh_init(p, &rh);

	if (rc != 0)
		goto done;
	/*
	 * The planner's context of the current estate is the first state's,
	 * and nothing after the rehearsal reads it: handed over, it is freed
	 * when the first routing wave parks that state, so the rehearsal holds
	 * one context (a few tens of megabytes on the bench estate) where it
	 * held two.
	 */
	before.t = (struct topology *)p->cur;
	before.ctx = p->cur_ctx;
	before.owns_ctx = true;
	p->cur_ctx = NULL;
	rc = routes_summary(&before.sum, before.ctx, rh.spokes, rh.nspokes, p->err);
	for (i = 0; i < p->nw && rc == 0; i++)
		rc = rh_wave(p, &rh, &p->w[i], &before);
done:
	rstate_free(&before);
	json_decref(rh.res);
	json_decref(rh.index);
	json_decref(rh.deploy);
	free(rh.spokes);
	if (rc == NW_ENOMEM && p->err->code == 0)
		return plan_nomem(p);
	return rc;
}
