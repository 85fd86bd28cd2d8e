/*
 * The cost model behind a plan's time estimate: how long a wave takes
 * when `netwave apply` carries it out against ARM.  A wave costs
 *
 *   - requests: its steps' writes and reads, the drift check's read of
 *     every resource it touches, its gates' requests (a POST, such as
 *     effectiveRouteTable, counts as a write, as ARM counts it), and the
 *     reads spent polling long-running operations;
 *   - throttling: those requests against ARM's two per-subscription token
 *     buckets (writes, reads), carried from wave to wave and refilled
 *     while operations run and soaks wait;
 *   - operations: the documented duration of each long-running action,
 *     rounded up to the poll interval ARM asks for, chained on one
 *     serializeKey (the engine serializes writes to one VNet, one network
 *     manager, one gateway) and run side by side across keys, at most
 *     `parallel` at once;
 *   - gates: the waits a gate makes for a state (a feature becoming
 *     Registered) and the operations it starts (effective routes);
 *   - latency: every request's round trip, `parallel` in flight at once.
 *
 * Every figure lives once, here or in plan/limits.c, with its source; the
 * apply engine (state/apply.h) and the emulator take their defaults from
 * these.  Pure: plan/ only, no I/O.
 */
#ifndef NETWAVE_PLAN_COST_H
#define NETWAVE_PLAN_COST_H

#include <stdbool.h>

#include <jansson.h>

/*
 * The engine's defaults (state/apply.h takes its APPLY_DEFAULT_PARALLEL and
 * APPLY_DEFAULT_POLL from these): steps in flight at once, and seconds
 * between reads when ARM names no Retry-After (@azure/core-lro's default
 * interval, reference/azure-arm.md section 5).
 */
#define COST_ENGINE_PARALLEL 8
#define COST_ENGINE_POLL 2.0

/*
 * The interval ARM asks long-running operations to be polled at: RPC's
 * smallest Retry-After, 10 s (ARM RPC async-api-reference, "Retry-After:
 * 10 to 600", reference/azure-arm.md section 5).  The emulator suggests it.
 */
#define COST_ARM_POLL 10.0

/* Documented durations of long-running actions, in seconds (the sources are in cost.c). */
#define COST_AVNM_COMMIT_SECONDS 180        /* AVNM commit: "a few minutes" */
#define COST_PREPARE_MIGRATION_SECONDS 2700 /* prepareMigration: "up to 45 minutes" */
#define COST_EXECUTE_MIGRATION_SECONDS 900  /* executeMigration: "up to 15 minutes" */
#define COST_COMMIT_MIGRATION_SECONDS 600   /* commitMigration: undocumented */
#define COST_FEATURE_REGISTRATION_SECONDS 300 /* a preview feature Registering: undocumented */

/* What a wave's time is made of. */
struct cost_params {
	double write_burst, write_refill; /* tokens; tokens per second */
	double net_burst, net_refill;     /* Microsoft.Network's writes per 5 minutes, as a bucket */
	double read_burst, read_refill;
	double poll;            /* seconds between polls of a long-running operation */
	double gate_poll;       /* seconds between a gate's reads while it waits */
	unsigned parallel;      /* steps in flight at once */
	double latency;         /* seconds per request round trip */
};

/* The tokens left in each bucket, carried from wave to wave. */
struct cost_tokens {
	double write, net, read;
};

/* One wave's estimate. */
struct cost_wave {
	long writes, reads;      /* every request, polls and drift reads included */
	long polls;              /* of the reads: polls of long-running operations */
	long drift_reads;        /* of the reads: the drift check's */
	double throttle;         /* seconds waiting for tokens (the slower bucket) */
	double requests;         /* seconds of round trips, parallel in flight */
	double operations;       /* seconds of documented operation time, chained per key */
	double gates;            /* seconds the gates wait */
	long seconds;            /* the estimate: ceil of max(throttle, requests) + operations + gates */
};

/* A documented duration: action name (a step's "action"), seconds, where it comes from. */
struct cost_duration {
	const char *action;
	long seconds;
	const char *source;
};

/* The documented duration of a step action, or NULL (then it counts one poll). */
const struct cost_duration *cost_duration_get(const char *action);

/*
 * ARM's defaults (plan/limits.c): the write bucket (200, 10 per second),
 * behind which Microsoft.Network's 1,000 writes per 5 minutes is a second
 * bucket (1,000, refilled at 1,000 / 300 s) that writes also take from, the
 * read bucket (250, 25 per second), COST_ARM_POLL, the engine's poll and
 * parallelism, and no latency (ARM publishes no figure; docs/plan.md).
 */
void cost_params_default(struct cost_params *p);

/* Full buckets. */
void cost_tokens_full(const struct cost_params *p, struct cost_tokens *t);

/*
 * Seconds until `need` tokens have been taken from a bucket holding
 * *tokens (at most burst), refilled at rate per second; *tokens is left
 * with what remains.  0 when the bucket holds enough.
 */
double cost_bucket_seconds(double need, double *tokens, double burst, double rate);

/* The buckets refill for seconds (an operation, a soak). */
void cost_idle(const struct cost_params *p, struct cost_tokens *t, double seconds);

/*
 * The estimate of one wave of a plan (its "steps" and "gates" as
 * docs/plan.md describes them), taking tokens from *t and refilling them
 * while its operations and gates run.  Returns 0, or -1 when wave is not
 * an object.
 */
int cost_wave(const json_t *wave, const struct cost_params *p, struct cost_tokens *t,
    struct cost_wave *out);

/*
 * The wave's "estimate" object of the plan: {writes, reads, polls,
 * driftReads, throttleSeconds, requestSeconds, operationSeconds,
 * gateSeconds, seconds} (whole seconds, rounded up).  NULL on out of memory.
 */
json_t *cost_wave_json(const struct cost_wave *c);

#endif
