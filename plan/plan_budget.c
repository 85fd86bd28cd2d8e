/*
 * The write budget and the summary (plan_build.h; the model is
 * plan/cost.c): the rollout's write budget or ARM's, each wave's reads,
 * writes and time under it, and the plan's totals and risk.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/cost.h"
#include "plan/jsonutil.h"
#include "plan/plan_build.h"

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
budget_json(struct plan_ctx *p, struct budget *b)
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
			plan_finding(p, "warning", "write-budget", NULL, "the rollout's write budget (%.2f writes "
			    "per second) is above what ARM refills (%ld per second, and %ld per 5 minutes for "
			    "Microsoft.Network): expect throttling", p->ro.writes_per_second, refill->value,
			    net->value);
	} else {
		/* ARM's bucket; Microsoft.Network's 1,000 per 5 minutes is the model's second bucket */
		b->burst = bucket->value;
		b->refill_writes = refill->value;
		b->refill_seconds = 1;
		source = "default: ARM's 200-write bucket refilled at 10 per second, behind it "
		    "Microsoft.Network's 1,000 writes per 5 minutes (learn.microsoft.com/azure/"
		    "azure-resource-manager/management/request-limits-and-throttling)";
	}
	cost_params_default(&b->cost);
	b->cost.write_burst = (double)b->burst;
	b->cost.write_refill = (double)b->refill_writes / (double)b->refill_seconds;
	return json_pack("{s:I, s:I, s:I, s:s}", "burst", (json_int_t)b->burst, "refillWrites",
	    (json_int_t)b->refill_writes, "refillSeconds", (json_int_t)b->refill_seconds, "source", source);
}

static int
finish_waves(struct plan_ctx *p, const struct budget *b, json_t *summary, json_t **waves_out)
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
		return plan_nomem(p);
	}
	plan_window_text(p, wt, sizeof(wt));
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
			plan_wave_rollback(w, "run the inverse of each step, last step first");
		writes += c.writes;
		reads += c.reads;
		eta += c.seconds;
		soak += w->soak;
		if (w->kind->flags & WAVE_KIND_DECOMMISSION)
			soak += p->ro.soak_before_decommission;
		steps += (long)w->nsteps;
		json_array_foreach(w->steps, k, st) {
			if (json_is_true(json_object_get(st, "irreversible")))
				irrev++;
			if (json_is_true(json_object_get(st, "maintenanceWindow")))
				mw++;
		}
		if ((w->kind->flags & WAVE_KIND_GROUP_SIZE) && (long)w->nvnets > biggest)
			biggest = (long)w->nvnets;
		json_array_foreach(w->members, k, st)
			plan_idset_add(vnets, json_string_value(st), NULL);
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

int
plan_budget_finish(struct plan_ctx *p, json_t *summary, json_t **waves_out, json_t **budget_out)
{
	struct budget b = { 0 };

	*budget_out = budget_json(p, &b);
	return finish_waves(p, &b, summary, waves_out);
}
