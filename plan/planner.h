/*
 * The planner: from a current and a target topology to a netwave.plan/v1
 * document (docs/plan.md).  It diffs the two, lets the procedures
 * (avnm-mesh, gateway-standard-ip, summarize-gateway-prefixes) claim every
 * difference and turn it into ordered, reversible ARM steps, assigns VNets
 * to the waves of the target's x-netwave-rollout, attaches gates as data,
 * rehearses each wave on the route engine and estimates the time each wave
 * takes under the ARM write budget.  Pure and deterministic: the same
 * inputs and opts give the same bytes.
 *
 * Anything that makes the plan unsafe (a difference no procedure claims, a
 * platform limit exceeded, a pair of spokes a wave would cut off) is a
 * blocker: the plan is still returned so it can be shown, but it must not
 * be stored.
 */
#ifndef NETWAVE_PLAN_PLANNER_H
#define NETWAVE_PLAN_PLANNER_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "plan/err.h"
#include "plan/intent.h"
#include "plan/plan_json.h"
#include "plan/topology.h"

#define PLAN_FORMAT "netwave.plan/v1"

/* Effective-route pairs sampled per later mesh wave when the rollout gives no sampleSize. */
#define PLANNER_DEFAULT_SAMPLE 10

struct planner_opts {
	time_t now;                 /* createdAt */
	const char *current_source; /* file names recorded in the plan; NULL: the topology's source */
	const char *target_source;
	unsigned sample_size;       /* 0: the rollout's sampleSize, else PLANNER_DEFAULT_SAMPLE */
	/*
	 * true: the plan comes back without its "id", for the caller to seal
	 * (plan_json_seal: the id and the canonical text in one pass) once it
	 * has freed the topologies, so the text never sits beside them.
	 */
	bool unsealed;
	/*
	 * The route engine's context on cur when the caller has one
	 * (intent_target_ctx built it), NULL for the planner to build it.
	 * Handed over: planner_plan frees it, whatever it returns.
	 */
	struct routes_ctx *cur_ctx;
};

/*
 * Plans the change from cur to tgt (both borrowed).  The rollout comes
 * from tgt's "x-netwave-rollout" (a single wave when absent).
 *
 * Returns 0 with the plan in *out (new reference).  When the plan has
 * blockers, returns NW_EFAIL with the plan (its "blockers" array says
 * why) in *out and a message naming the first blocker and the count.
 * NW_EINPUT for a malformed rollout (or x-netwave-changes selector),
 * NW_ENOMEM; *out is NULL then.  The plan may share JSON subtrees with
 * cur (request bodies): it stays valid after the topologies are freed,
 * but must not be modified in place below a step's body.
 *
 * The plan's id is its canonical text's hash (plan_json_seal), unless
 * opts->unsealed leaves that to the caller.
 */
int planner_plan(json_t **out, const struct topology *cur, const struct topology *tgt,
    const struct planner_opts *opts, struct nw_err *err);

/*
 * Wave assignment (the rules), exposed for tests: each VNet of
 * vnets (in that order) goes to the first rollout wave whose "members"
 * selector matches it; a wave's "max" caps it and the overflow moves on to
 * the next wave with room, whatever that wave's selector; VNets no wave
 * matches go to the last wave without a selector.  out[i] receives the
 * index in ro->waves of vnets[i] (0 for every VNet when the rollout has
 * no waves).  A VNet that fits nowhere (no wave without a selector, or
 * every later wave full) goes to the last wave it could take, beyond its
 * cap, and a message is appended to warnings (a JSON array of strings,
 * may be NULL); so is one for each wave left empty.  Fails only on out of
 * memory.
 */
int planner_waves_assign(size_t *out, const struct intent_rollout *ro,
    const struct topo_vnet *const *vnets, size_t n, json_t *warnings, struct nw_err *err);

/*
 * Seconds needed to send writes through a token bucket of `burst` tokens
 * that starts with `tokens` and refills refill_writes per refill_seconds;
 * *tokens is left with what remains.  Rounded up to whole seconds.
 */
long planner_budget_seconds(long writes, double *tokens, long burst, long refill_writes,
    long refill_seconds);

#endif
