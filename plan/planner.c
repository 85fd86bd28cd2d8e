/*
 * The planner (see planner.h): current and target topologies in, a
 * netwave.plan/v1 document out.  It sits between the diff and the plan
 * store: `netwave plan` loads (or expands) the topologies, calls
 * planner_plan, and stores what comes out when nothing blocks it.
 *
 * A driver: the change kinds are the entries of the registry
 * (plan/procedure.h, plan/procedures.c), each in its own files under
 * plan/proc/, and planner_plan runs their phases in order:
 *  1. diff the two topologies;
 *  2. detect: each procedure finds what it has to do (avnm-mesh from the
 *     target's mesh connectivity configurations, the others from the
 *     differences);
 *  3. claim: every difference is offered to the procedures in turn; the
 *     one that carries it out claims it, and whatever is left unclaimed
 *     blocks the plan;
 *  4. check the platform limits and prerequisites (blockers, findings,
 *     the limits table);
 *  5. build the waves, in registry order, then each kind's last waves
 *     (the decommission comes after everything); every step an ARM
 *     operation with its inverse (or marked irreversible), built with
 *     plan/plan_build.h;
 *  6. rehearse the waves on the route engine (plan/rehearse.c) and attach
 *     the gates that need the rehearsed routes;
 *  7. estimate reads, writes and time under the write budget
 *     (plan/plan_budget.c), and wrap up the summary and the plan id.
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

#include "plan/diff.h"
#include "plan/findings.h"
#include "plan/jsonutil.h"
#include "plan/plan_build.h"
#include "plan/plan_json.h"
#include "plan/planner.h"
#include "plan/procedure.h"
#include "plan/rehearse.h"
#include "plan/rgroups.h"

/* ------------------------------------------------------------------ */
/* Claiming the differences */

/*
 * Every difference goes through here once: the first procedure that
 * carries it out claims it and records what it needs to build its steps.
 * Anything left unclaimed is reported as not supported.
 */
static int
claim_all(struct plan_ctx *p)
{
	size_t i, k;

	for (i = 0; i < p->diff.n; i++) {
		struct diff_entry *e = &p->diff.v[i];
		const struct topo_resource *r = NULL;

		if (strcmp(e->resource_id, "observed") != 0) {
			r = topology_find(e->kind == DIFF_REMOVED ? p->cur : p->tgt, e->resource_id);
			if (r == NULL)
				continue;
		}
		for (k = 0; procedures[k] != NULL; k++) {
			int rc;

			if (procedures[k]->claim == NULL)
				continue;
			rc = procedures[k]->claim(p, e, r);
			if (rc < 0)
				return plan_nomem(p);
			if (rc > 0) {
				e->claimed_by = procedures[k]->name;
				p->uses[k] = true;
				break;
			}
		}
	}
	return 0;
}

/*
 * A target that records a group the current estate lacks (the target
 * predicts the groups a change creates): the procedure that writes into
 * the group claims its record, and wave_prepare creates it.
 */
static void
rg_claim(struct plan_ctx *p)
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

/* Whatever no procedure claimed blocks the plan. */
static void
unclaimed_blockers(struct plan_ctx *p)
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

static int
onprem_collect(struct plan_ctx *p)
{
	size_t i, k, n = 0, total = 0;

	for (i = 0; i < p->cur->ncircuits; i++)
		total += p->cur->circuits[i].nroutes;
	p->onprem = calloc(total + 1, sizeof(*p->onprem));
	if (p->onprem == NULL)
		return plan_nomem(p);
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
ctx_free(struct plan_ctx *p)
{
	size_t i;

	for (i = 0; i < p->nw; i++)
		plan_wave_free(&p->w[i]);
	free(p->w);
	for (i = 0; procedures[i] != NULL; i++)
		if (procedures[i]->state_free != NULL)
			procedures[i]->state_free(p->state[i]);
	free(p->is_hub);
	free(p->onprem);
	routes_ctx_free(p->cur_ctx);
	json_decref(p->blockers);
	json_decref(p->findings);
	json_decref(p->prereqs);
	json_decref(p->limits);
	json_decref(p->inspected);
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


/* The context: the notes, the hubs, the rollout, each procedure's state. */
static int
ctx_init(struct plan_ctx *p, const struct topology *cur, const struct topology *tgt,
    const struct planner_opts *opts, struct nw_err *err)
{
	size_t i;
	int rc;

	p->cur = cur;
	p->tgt = tgt;
	p->o = opts;
	p->err = err;
	p->blockers = json_array();
	p->findings = json_array();
	p->prereqs = json_array();
	p->limits = json_array();
	p->inspected = json_array();
	p->is_hub = calloc(cur->nvnets + 1, sizeof(*p->is_hub));
	if (p->blockers == NULL || p->findings == NULL || p->prereqs == NULL || p->limits == NULL ||
	    p->inspected == NULL || p->is_hub == NULL)
		return plan_nomem(p);
	for (i = 0; procedures[i] != NULL; i++) {
		assert(i < PLAN_MAX_PROCEDURES);
		if (procedures[i]->state_new != NULL && procedures[i]->state_new(p, &p->state[i]) != 0)
			return plan_nomem(p);
	}
	for (i = 0; i < cur->nvnets; i++)
		p->is_hub[i] = findings_is_hub(&cur->vnets[i]);
	rc = intent_rollout_parse(&p->ro, json_object_get(tgt->root, "x-netwave-rollout"), tgt->source,
	    "/x-netwave-rollout", err);
	if (rc != 0)
		return rc;
	p->ro_parsed = true;
	p->sample = opts != NULL && opts->sample_size > 0 ? opts->sample_size :
	    p->ro.sample_size > 0 ? (unsigned)p->ro.sample_size : PLANNER_DEFAULT_SAMPLE;
	return 0;
}

#define EACH_PHASE(p, rc, fn) do { \
	for (size_t k_ = 0; procedures[k_] != NULL && (rc) == 0; k_++) \
		if (procedures[k_]->fn != NULL) \
			(rc) = procedures[k_]->fn(p); \
} while (0)

/* Phases 1 to 6: diff, detect, claim, check, waves, rehearsal, and the kinds' finish. */
static int
run_phases(struct plan_ctx *p)
{
	int rc = diff_topologies(&p->diff, p->cur, p->tgt, p->err);

	if (rc == 0 && p->cur_ctx == NULL)
		rc = routes_ctx_new(&p->cur_ctx, p->cur, p->err);
	if (rc == 0)
		rc = onprem_collect(p);
	EACH_PHASE(p, rc, detect);
	if (rc == 0)
		rc = claim_all(p);
	if (rc != 0)
		return rc;
	rg_claim(p);
	unclaimed_blockers(p);
	EACH_PHASE(p, rc, check);
	/* the waves, in phase order */
	EACH_PHASE(p, rc, waves);
	EACH_PHASE(p, rc, waves_last);
	if (rc == 0)
		rc = plan_rehearse(p);
	/* what the kinds held back until the rehearsal's states are gone */
	EACH_PHASE(p, rc, finish);
	return rc;
}

/* The plan document around the waves. */
static int
assemble(json_t **out, struct plan_ctx *p, const char *fc, const char *ft)
{
	json_t *plan = json_object(), *summary = json_object(), *changes = json_array();
	json_t *waves = NULL, *wb = NULL;
	const struct planner_opts *opts = p->o;
	time_t now = opts != NULL ? opts->now : 0;
	char when[32];
	struct tm tm;
	size_t i;
	int rc;

	if (plan == NULL || summary == NULL || changes == NULL) {
		json_decref(plan);
		json_decref(summary);
		json_decref(changes);
		return plan_nomem(p);
	}
	rc = plan_budget_finish(p, summary, &waves, &wb);
	for (i = 0; procedures[i] != NULL; i++)
		if (p->uses[i])
			json_array_append_new(changes, json_string(procedures[i]->name));
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_set_new(plan, "format", json_string(PLAN_FORMAT));
	json_object_set_new(plan, "createdAt", json_string(when));
	json_object_set_new(plan, "current", json_pack("{s:s, s:s}", "fingerprint", fc, "source",
	    opts != NULL && opts->current_source != NULL ? opts->current_source : p->cur->source));
	json_object_set_new(plan, "target", json_pack("{s:s, s:s}", "fingerprint", ft, "source",
	    opts != NULL && opts->target_source != NULL ? opts->target_source : p->tgt->source));
	json_object_set_new(plan, "subscriptions", json_object_get(p->cur->root, "subscriptions") != NULL ?
	    json_deep_copy(json_object_get(p->cur->root, "subscriptions")) : json_array());
	json_object_set_new(plan, "changes", changes);
	json_object_set_new(plan, "writeBudget", wb);
	json_object_set_new(plan, "summary", summary);
	json_object_set(plan, "prerequisites", p->prereqs);
	json_object_set(plan, "blockers", p->blockers);
	json_object_set_new(plan, "findings", sorted_findings(p->findings));
	json_object_set(plan, "limits", p->limits);
	json_object_set(plan, "inspected", p->inspected);
	json_object_set_new(plan, "waves", waves);
	if (rc == 0 && (opts == NULL || !opts->unsealed))
		rc = plan_json_seal(plan, NULL, p->err);
	if (rc != 0) {
		json_decref(plan);
		return rc;
	}
	*out = plan;
	return 0;
}

int
planner_plan(json_t **out, const struct topology *cur, const struct topology *tgt,
    const struct planner_opts *opts, struct nw_err *err)
{
	struct plan_ctx p = { 0 };
	char fc[PLAN_JSON_FINGERPRINT_LEN], ft[PLAN_JSON_FINGERPRINT_LEN];
	json_t *plan = NULL;
	int rc;

	*out = NULL;
	/* the caller's context on cur, when it has one: the same one the planner would build */
	p.cur_ctx = opts != NULL ? opts->cur_ctx : NULL;
	rc = ctx_init(&p, cur, tgt, opts, err);
	if (rc == 0)
		rc = plan_json_fingerprint(fc, cur, err);
	if (rc == 0)
		rc = plan_json_fingerprint(ft, tgt, err);
	if (rc == 0)
		rc = run_phases(&p);
	if (rc == 0)
		rc = assemble(&plan, &p, fc, ft);
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
	ctx_free(&p);
	return rc;
}
