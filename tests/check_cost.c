/*
 * Check suite for plan/cost.c, the cost model of a plan's time estimate:
 * ARM's buckets, documented operation durations, polling, gates and
 * parallelism, each case worked out by hand in its comment.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/cost.h"
#include "plan/jsonutil.h"
#include "plan/limits.h"
#include "tests/testutil.h"

/* Round figures to work by hand: writes 200 + 10/s, reads 250 + 25/s, polls every 10 s, 8 at once. */
static void
round_params(struct cost_params *p)
{
	cost_params_default(p);
	p->write_burst = 200;
	p->write_refill = 10;
	p->read_burst = 250;
	p->read_refill = 25;
	p->poll = 10;
	p->gate_poll = 2;
	p->parallel = 8;
	p->latency = 0;
}

static json_t *
step(const char *action, const char *resource, const char *key, bool lro, int reads, int writes)
{
	json_t *s = json_pack("{s:s, s:s, s:s, s:b, s:i, s:i}", "action", action, "resource", resource,
	    "serializeKey", key != NULL ? key : resource, "longRunning", lro, "reads", reads, "writes",
	    writes);

	ck_assert_ptr_nonnull(s);
	return s;
}

static json_t *
wave_new(void)
{
	json_t *w = json_pack("{s:[], s:[]}", "steps", "gates");

	ck_assert_ptr_nonnull(w);
	return w;
}

static void
add_gate(json_t *w, const char *kind, int reads)
{
	json_array_append_new(json_object_get(w, "gates"), json_pack("{s:s, s:i}", "kind", kind, "reads",
	    reads));
}

/* A wave costed with round figures (round_params), both buckets full to begin with. */
struct fx {
	struct cost_params p;
	struct cost_tokens t;
	struct cost_wave c;
	json_t *w;
};

static void
fx_start(struct fx *f)
{
	round_params(&f->p);
	cost_tokens_full(&f->p, &f->t);
	f->w = wave_new();
}

/*
 * Adds n steps of action to the wave, on the resources prefix0000 ...
 * (numbered with width digits), each reading reads times and writing once.
 */
static void
fx_add_steps(struct fx *f, int n, const char *prefix, int width, const char *action, bool lro, int reads)
{
	char id[64];

	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "%s%0*d", prefix, width, i);
		json_array_append_new(json_object_get(f->w, "steps"), step(action, id, NULL, lro, reads, 1));
	}
}

/* Costs the wave, which must succeed. */
static void
fx_cost(struct fx *f)
{
	ck_assert_int_eq(cost_wave(f->w, &f->p, &f->t, &f->c), 0);
}

/* Costs the wave and returns how many seconds it takes. */
static long
fx_seconds(struct fx *f)
{
	fx_cost(f);
	return f->c.seconds;
}

START_TEST(test_defaults_are_arms_buckets_and_the_engines_pace)
{
	struct cost_params p;

	cost_params_default(&p);
	ck_assert(fabs(p.write_burst - 200) < 1e-9);
	ck_assert(fabs(p.write_refill - 10) < 1e-9);
	/* Microsoft.Network's 1,000 writes per 300 s, a second bucket behind ARM's */
	ck_assert(fabs(p.net_burst - 1000) < 1e-9);
	ck_assert(fabs(p.net_refill - 1000.0 / 300.0) < 1e-9);
	ck_assert(fabs(p.read_burst - 250) < 1e-9);
	ck_assert(fabs(p.read_refill - 25) < 1e-9);
	ck_assert(fabs(p.poll - 10) < 1e-9);
	ck_assert(fabs(p.gate_poll - 2) < 1e-9);
	ck_assert_uint_eq(p.parallel, 8);
	ck_assert(p.latency == 0);
	ck_assert_int_eq(limit_get(LIMIT_ARM_READ_BUCKET)->value, 250);
	ck_assert_int_eq(limit_get(LIMIT_ARM_READ_REFILL)->value, 25);
}
END_TEST

START_TEST(test_a_bucket_waits_only_for_what_the_burst_lacks)
{
	double tokens = 200;

	/* 100 of 200: no wait, 100 left */
	ck_assert(cost_bucket_seconds(100, &tokens, 200, 10) == 0);
	ck_assert(fabs(tokens - 100) < 1e-9);
	/* 400 with 100 held: 300 more at 10/s = 30 s, nothing left */
	ck_assert(fabs(cost_bucket_seconds(400, &tokens, 200, 10) - 30) < 1e-9);
	ck_assert(tokens == 0);
}
END_TEST

START_TEST(test_documented_durations_have_sources)
{
	const char *actions[] = { "commit", "prepare-migration", "execute-migration", "commit-migration",
		"register-feature" };
	long want[] = { 180, 2700, 900, 600, 300 };
	size_t i;

	for (i = 0; i < 5; i++) {
		const struct cost_duration *d = cost_duration_get(actions[i]);
		ck_assert_ptr_nonnull(d);
		ck_assert_int_eq(d->seconds, want[i]);
		ck_assert(d->source != NULL && strlen(d->source) > 10);
	}
	ck_assert_ptr_null(cost_duration_get("add-static-member"));
	ck_assert_ptr_null(cost_duration_get(NULL));
}
END_TEST

/*
 * A 600-spoke mesh wave: 600 static members (2 reads, 1 write, answered at
 * once) and a commit (long-running, 180 s), then a deployment-status gate
 * of 1 request (a POST: a write).  The steps: 601 writes; reads 1,200 + 2
 * + 601 (the drift check reads each resource once) + 18 polls (180 s /
 * 10 s) = 1,821.  Writes wait (601 - 200) / 10 = 40.1 s, reads (1,821 -
 * 250) / 25 = 62.84 s: the reads set the pace.  The commit: 180 s, while
 * the buckets refill; the gate's write waits for nothing.  ceil(62.84 +
 * 180) = 243.
 */
START_TEST(test_a_mesh_wave_counts_reads_commit_and_polls)
{
	struct fx f;
	json_t *j;

	fx_start(&f);
	fx_add_steps(&f, 600, "/sm/", 4, "add-static-member", false, 2);
	json_array_append_new(json_object_get(f.w, "steps"), step("commit", "/nm", NULL, true, 2, 1));
	add_gate(f.w, "deployment-status", 1);
	fx_cost(&f);
	ck_assert_int_eq(f.c.writes, 602);
	ck_assert_int_eq(f.c.drift_reads, 601);
	ck_assert_int_eq(f.c.polls, 18);
	ck_assert_int_eq(f.c.reads, 1821);
	ck_assert(fabs(f.c.throttle - 62.84) < 1e-6);
	ck_assert(fabs(f.c.operations - 180) < 1e-9);
	ck_assert(f.c.gates == 0);
	ck_assert(f.c.requests == 0);
	ck_assert_int_eq(f.c.seconds, 243);
	/* the commit refilled both buckets; the gate's POST took one write */
	ck_assert(fabs(f.t.read - 250) < 1e-9);
	ck_assert(fabs(f.t.write - 199) < 1e-9);
	j = cost_wave_json(&f.c);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "throttleSeconds")), 63);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "operationSeconds")), 180);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "seconds")), 243);
	json_decref(j);
	json_decref(f.w);
}
END_TEST

/*
 * 20 long-running PUTs on 20 VNets with no documented duration: each holds
 * a slot for one poll (10 s); 8 at once: 200 / 8 = 25 s, 20 polls.
 */
START_TEST(test_undocumented_operations_take_a_poll_each_eight_at_once)
{
	struct fx f;

	fx_start(&f);
	fx_add_steps(&f, 20, "/vnet/", 2, "set-vnet-private-endpoint-policies", true, 2);
	fx_cost(&f);
	ck_assert_int_eq(f.c.polls, 20);
	ck_assert(fabs(f.c.operations - 25) < 1e-9);
	ck_assert(f.c.throttle == 0); /* 20 writes, 80 reads: inside both bursts */
	ck_assert_int_eq(f.c.seconds, 25);
	json_decref(f.w);
}
END_TEST

/*
 * Gateway A: prepare (2,700 s) then execute (900 s) on one key, 3,600 s;
 * gateway B: prepare alone, 2,700 s, beside it.  The longest chain: 3,600.
 * Polls: 270 + 90 + 270 = 630.
 */
START_TEST(test_steps_on_one_key_follow_each_other)
{
	struct fx f;
	json_t *steps;

	fx_start(&f);
	steps = json_object_get(f.w, "steps");
	json_array_append_new(steps, step("prepare-migration", "/gw/a", "/gw/a", true, 2, 1));
	json_array_append_new(steps, step("execute-migration", "/gw/a", "/gw/a", true, 2, 1));
	json_array_append_new(steps, step("prepare-migration", "/gw/b", "/gw/b", true, 2, 1));
	fx_cost(&f);
	ck_assert(fabs(f.c.operations - 3600) < 1e-9);
	ck_assert_int_eq(f.c.polls, 630);
	ck_assert_int_eq(f.c.drift_reads, 2);
	/* reads 6 + 2 + 630 = 638: 388 over the burst at 25/s = 15.52 s */
	ck_assert_int_eq(f.c.reads, 638);
	ck_assert(fabs(f.c.throttle - 15.52) < 1e-6);
	ck_assert_int_eq(f.c.seconds, 3616);
	json_decref(f.w);
}
END_TEST

/*
 * A feature registration answers at once; its state takes 300 s, which the
 * gate after it waits (300 s is 150 gate polls of 2 s); an effective-routes
 * gate polls its operations once, 10 s.  Gates: 310 s.  Its 4 requests are
 * POSTs (writes), each polled once (reads).
 */
START_TEST(test_gates_wait_for_registrations_and_their_own_operations)
{
	struct fx f;

	fx_start(&f);
	json_array_append_new(json_object_get(f.w, "steps"), step("register-feature", "/sub/features/x",
	    NULL, false, 1, 1));
	add_gate(f.w, "feature-registered", 1);
	add_gate(f.w, "effective-routes", 4);
	fx_cost(&f);
	ck_assert(fabs(f.c.gates - 310) < 1e-9);
	ck_assert(f.c.operations == 0);
	ck_assert_int_eq(f.c.writes, 1 + 4);
	ck_assert_int_eq(f.c.reads, 1 + 1 + 1 + 4); /* the step, its drift read, the feature gate, 4 polls */
	ck_assert_int_eq(f.c.polls, 4);
	ck_assert_int_eq(f.c.seconds, 310);
	json_decref(f.w);
}
END_TEST

/*
 * Tokens carry from wave to wave: two waves of 150 writes (no reads) with
 * a 200 burst: the first waits nothing and leaves 50, the second waits
 * (150 - 50) / 10 = 10 s.  A soak of 5 s in between refills 50: 5 s.
 */
START_TEST(test_tokens_carry_across_waves_and_refill_while_idle)
{
	struct fx f;

	fx_start(&f);
	fx_add_steps(&f, 150, "/x/", 3, "add-static-member", false, 0);
	ck_assert_int_eq(fx_seconds(&f), 0);
	ck_assert(fabs(f.t.write - 50) < 1e-9);
	ck_assert_int_eq(fx_seconds(&f), 10);

	cost_tokens_full(&f.p, &f.t);
	fx_cost(&f);
	cost_idle(&f.p, &f.t, 5);
	ck_assert(fabs(f.t.write - 100) < 1e-9);
	ck_assert_int_eq(fx_seconds(&f), 5);
	/* idling never fills a bucket past its burst */
	cost_idle(&f.p, &f.t, 1e6);
	ck_assert(fabs(f.t.write - 200) < 1e-9 && fabs(f.t.read - 250) < 1e-9);
	json_decref(f.w);
}
END_TEST

/*
 * 1,500 writes (no reads): ARM's bucket wants (1,500 - 200) / 10 = 130 s,
 * Microsoft.Network's (1,500 - 1,000) / (1,000 / 300) = 150 s: 150.
 * The reads (1,500 drift reads) want (1,500 - 250) / 25 = 50 s.
 */
START_TEST(test_microsoft_networks_five_minute_limit_bites_past_a_thousand_writes)
{
	struct fx f;

	fx_start(&f);
	fx_add_steps(&f, 1500, "/x/", 4, "add-static-member", false, 0);
	fx_cost(&f);
	ck_assert(fabs(f.c.throttle - 150) < 1e-6);
	ck_assert_int_eq(f.c.seconds, 150);
	/* while the network bucket was waited for, ARM's refilled 20 s worth: 200 */
	ck_assert(fabs(f.t.write - 200) < 1e-9);
	ck_assert(fabs(f.t.net) < 1e-9);
	json_decref(f.w);
}
END_TEST

/* Latency: 80 requests of 0.1 s, 8 at once, take 1 s when no bucket is the bound. */
START_TEST(test_latency_spreads_over_the_parallel_slots)
{
	struct fx f;

	fx_start(&f);
	f.p.latency = 0.1;
	fx_add_steps(&f, 20, "/x/", 3, "add-static-member", false, 2);
	/* 20 writes, 40 reads, 20 drift reads: 80 requests */
	fx_cost(&f);
	ck_assert_int_eq(f.c.writes + f.c.reads, 80);
	ck_assert(fabs(f.c.requests - 1.0) < 1e-9);
	ck_assert_int_eq(f.c.seconds, 1);
	ck_assert_int_eq(cost_wave(json_null(), &f.p, &f.t, &f.c), -1);
	json_decref(f.w);
}
END_TEST

int
main(void)
{
	const TTest *const cost_tests[] = {
		TEST_CASE("model", 60),
		test_defaults_are_arms_buckets_and_the_engines_pace,
		test_a_bucket_waits_only_for_what_the_burst_lacks,
		test_documented_durations_have_sources,
		test_a_mesh_wave_counts_reads_commit_and_polls,
		test_undocumented_operations_take_a_poll_each_eight_at_once,
		test_steps_on_one_key_follow_each_other,
		test_gates_wait_for_registrations_and_their_own_operations,
		test_tokens_carry_across_waves_and_refill_while_idle,
		test_microsoft_networks_five_minute_limit_bites_past_a_thousand_writes,
		test_latency_spreads_over_the_parallel_slots,
		NULL,
	};

	return test_main("cost", cost_tests);
}
