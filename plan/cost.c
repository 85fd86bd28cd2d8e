/*
 * The cost model of a plan's time estimate (plan/cost.h): ARM's two token
 * buckets, the documented durations of long-running actions, polling,
 * gates and the engine's parallelism, each figure once with its source.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/cost.h"
#include "plan/gates.h"
#include "plan/jsonutil.h"
#include "plan/limits.h"
#include "plan/planner.h"

/*
 * Documented durations.  A long-running step counts its duration rounded
 * up to the poll interval; a step that returns at once but whose state
 * settles later (a feature registration) makes the gate after it wait.
 */
static const struct cost_duration durations[] = {
	{ "commit", COST_AVNM_COMMIT_SECONDS,
	  "Microsoft Learn, Azure Virtual Network Manager deployments: a commit's changes take "
	  "effect after a deployment of \"a few minutes\" (counted as 3)" },
	{ "prepare-migration", COST_PREPARE_MIGRATION_SECONDS,
	  "Microsoft Learn, About ExpressRoute gateway migration "
	  "(https://learn.microsoft.com/azure/expressroute/gateway-migration): Prepare \"can take up "
	  "to 45 minutes\"" },
	{ "execute-migration", COST_EXECUTE_MIGRATION_SECONDS,
	  "Azure Networking Blog, ExpressRoute gateway Microsoft-initiated migration "
	  "(https://techcommunity.microsoft.com/blog/azurenetworkingblog/"
	  "expressroute-gateway-microsoft-initiated-migration/4497689): the Migrate stage \"can take "
	  "up to 15 minutes\"" },
	{ "commit-migration", COST_COMMIT_MIGRATION_SECONDS,
	  "undocumented (Microsoft's guidance says only that \"the operation may take some "
	  "time to complete\"); the emulator's figure" },
	{ "register-feature", COST_FEATURE_REGISTRATION_SECONDS,
	  "undocumented (https://learn.microsoft.com/azure/azure-resource-manager/"
	  "management/preview-features: poll until Registered); the emulator's figure" },
};

const struct cost_duration *
cost_duration_get(const char *action)
{
	size_t i;

	if (action == NULL)
		return NULL;
	for (i = 0; i < sizeof(durations) / sizeof(durations[0]); i++)
		if (strcmp(durations[i].action, action) == 0)
			return &durations[i];
	return NULL;
}

void
cost_params_default(struct cost_params *p)
{
	const struct limit_def *wb = limit_get(LIMIT_ARM_WRITE_BUCKET);
	const struct limit_def *wr = limit_get(LIMIT_ARM_WRITE_REFILL);
	const struct limit_def *net = limit_get(LIMIT_NETWORK_WRITES_5MIN);

	memset(p, 0, sizeof(*p));
	p->write_burst = (double)wb->value;
	p->write_refill = (double)wr->value;
	/* 1,000 per 5 minutes: a burst of 1,000, earned back over 300 s */
	p->net_burst = (double)net->value;
	p->net_refill = (double)net->value / 300.0;
	p->read_burst = (double)limit_get(LIMIT_ARM_READ_BUCKET)->value;
	p->read_refill = (double)limit_get(LIMIT_ARM_READ_REFILL)->value;
	p->poll = COST_ARM_POLL;
	p->gate_poll = COST_ENGINE_POLL;
	p->parallel = COST_ENGINE_PARALLEL;
	p->latency = 0;
}

void
cost_tokens_full(const struct cost_params *p, struct cost_tokens *t)
{
	t->write = p->write_burst;
	t->net = p->net_burst;
	t->read = p->read_burst;
}

double
cost_bucket_seconds(double need, double *tokens, double burst, double rate)
{
	double secs;

	if (need <= 0)
		return 0;
	if (need <= *tokens) {
		*tokens -= need;
		return 0;
	}
	if (rate <= 0) {
		*tokens = 0;
		return 0;
	}
	(void)burst; /* tokens taken as they come: none left over */
	need -= *tokens;
	secs = need / rate;
	*tokens = 0;
	return secs;
}

void
cost_idle(const struct cost_params *p, struct cost_tokens *t, double seconds)
{
	if (seconds <= 0)
		return;
	t->write += p->write_refill * seconds;
	if (t->write > p->write_burst)
		t->write = p->write_burst;
	t->net += p->net_refill * seconds;
	if (t->net > p->net_burst)
		t->net = p->net_burst;
	t->read += p->read_refill * seconds;
	if (t->read > p->read_burst)
		t->read = p->read_burst;
}

/* x rounded up to a whole number of intervals (at least one). */
static double
polls_of(double x, double interval)
{
	double n;

	if (interval <= 0)
		return x;
	n = ceil(x / interval - 1e-9);
	return (n < 1 ? 1 : n) * interval;
}

/*
 * A gate's requests: ARM counts a POST as a write (its throttling classes
 * are reads, GET; deletes; writes, the rest: reference/azure-arm.md section
 * 5), so a gate that POSTs (effectiveRouteTable per network interface, a
 * circuit's routeTables, listDeploymentStatus) takes its `reads` from the
 * write bucket; the long-running ones are polled once each.
 */
static void
gate_requests(const char *kind, long n, struct cost_wave *c)
{
	const struct gate_kind_def *k = gate_kind_parse(kind);
	enum gate_cost cost = k != NULL ? k->cost : GATE_COST_GETS;

	if (cost == GATE_COST_POLLED_POSTS) {
		c->writes += n;
		c->reads += n;
		c->polls += n;
	} else if (cost == GATE_COST_POSTS) {
		c->writes += n;
	} else {
		c->reads += n;
	}
}

/* Seconds a gate of this kind spends on operations of its own (effective routes). */
static double
gate_own_seconds(const char *kind, const struct cost_params *p)
{
	const struct gate_kind_def *k = gate_kind_parse(kind);

	/* effectiveRouteTable and a circuit's routeTable are POST actions: one poll each, side by side */
	if (k != NULL && k->cost == GATE_COST_POLLED_POSTS)
		return p->poll;
	return 0;
}

/*
 * Operations: each long-running step holds its slot for its documented
 * duration (one poll when none is documented), rounded up to the poll
 * interval; steps on one serializeKey follow each other.  The wave's
 * operations take the longest chain, or the total spread over the slots
 * when that is longer.  Steps whose state settles after an immediate
 * answer make the gates wait for the longest of them.
 */
static void
wave_operations(const json_t *steps, const struct cost_params *p, struct cost_wave *c,
    double *settle)
{
	json_t *chains = json_object();
	const json_t *st;
	const char *key;
	json_t *v;
	double total = 0, longest = 0;
	size_t i;

	*settle = 0;
	json_array_foreach(steps, i, st) {
		const struct cost_duration *d = cost_duration_get(json_str(st, "action"));
		const char *k = json_str(st, "serializeKey") != NULL ? json_str(st, "serializeKey") :
		    json_str(st, "resource");
		double secs;

		if (!json_is_true(json_object_get(st, "longRunning"))) {
			if (d != NULL && (double)d->seconds > *settle)
				*settle = (double)d->seconds;
			continue;
		}
		secs = polls_of(d != NULL ? (double)d->seconds : 0, p->poll);
		c->polls += (long)lround(p->poll > 0 ? secs / p->poll : 1);
		total += secs;
		if (chains != NULL && k != NULL)
			json_object_set_new(chains, k, json_real(json_real_value(json_object_get(chains, k)) +
			    secs));
	}
	json_object_foreach(chains, key, v)
		if (json_real_value(v) > longest)
			longest = json_real_value(v);
	json_decref(chains);
	if (p->parallel > 0 && total / (double)p->parallel > longest)
		longest = total / (double)p->parallel;
	c->operations = longest;
}

/* The distinct resources the wave's steps touch: the drift check reads each once. */
static long
drift_reads(const json_t *steps)
{
	json_t *seen = json_object();
	const json_t *st;
	size_t i;
	long n = 0;

	if (seen == NULL)
		return 0;
	json_array_foreach(steps, i, st) {
		const char *r = json_str(st, "resource");
		char *low;
		size_t k;

		if (r == NULL || (low = strdup(r)) == NULL)
			continue;
		for (k = 0; low[k] != '\0'; k++)
			low[k] = (char)((low[k] >= 'A' && low[k] <= 'Z') ? low[k] - 'A' + 'a' : low[k]);
		if (json_object_get(seen, low) == NULL) {
			json_object_set_new(seen, low, json_true());
			n++;
		}
		free(low);
	}
	json_decref(seen);
	return n;
}

/*
 * Takes writes and reads from the buckets side by side: the slowest sets
 * the pace, and the others refill meanwhile.  Returns the seconds waited.
 */
static double
take(const struct cost_params *p, struct cost_tokens *t, long writes, long reads)
{
	double wt, nt, rt, secs;

	wt = cost_bucket_seconds((double)writes, &t->write, p->write_burst, p->write_refill);
	nt = p->net_burst > 0 ? cost_bucket_seconds((double)writes, &t->net, p->net_burst,
	    p->net_refill) : 0;
	rt = cost_bucket_seconds((double)reads, &t->read, p->read_burst, p->read_refill);
	secs = fmax(fmax(wt, nt), rt);
	t->write = fmin(p->write_burst, t->write + p->write_refill * (secs - wt));
	if (p->net_burst > 0)
		t->net = fmin(p->net_burst, t->net + p->net_refill * (secs - nt));
	t->read = fmin(p->read_burst, t->read + p->read_refill * (secs - rt));
	return secs;
}

/*
 * The wave in the engine's order: the drift check and the steps (their
 * requests and polls) against the buckets, the operations (the buckets
 * refill), then the gates' requests against the buckets and their waits.
 */
int
cost_wave(const json_t *wave, const struct cost_params *p, struct cost_tokens *t,
    struct cost_wave *out)
{
	const json_t *steps = json_object_get(wave, "steps"), *st;
	struct cost_wave g;
	double settle, gate_throttle;
	size_t i;

	memset(out, 0, sizeof(*out));
	memset(&g, 0, sizeof(g));
	if (!json_is_object(wave))
		return -1;
	json_array_foreach(steps, i, st) {
		out->writes += (long)json_integer_value(json_object_get(st, "writes"));
		out->reads += (long)json_integer_value(json_object_get(st, "reads"));
	}
	out->drift_reads = drift_reads(steps);
	wave_operations(steps, p, out, &settle);
	out->reads += out->drift_reads + out->polls;
	json_array_foreach(json_object_get(wave, "gates"), i, st) {
		gate_requests(json_str(st, "kind"), (long)json_integer_value(json_object_get(st, "reads")), &g);
		if (out->gates < gate_own_seconds(json_str(st, "kind"), p))
			out->gates = gate_own_seconds(json_str(st, "kind"), p);
	}
	if (settle > 0)
		out->gates += polls_of(settle, p->gate_poll);

	out->throttle = take(p, t, out->writes, out->reads);
	cost_idle(p, t, out->operations);
	gate_throttle = take(p, t, g.writes, g.reads);
	cost_idle(p, t, out->gates);
	out->throttle += gate_throttle;
	out->writes += g.writes;
	out->reads += g.reads;
	out->polls += g.polls;
	if (p->parallel > 0)
		out->requests = (double)(out->writes + out->reads) * p->latency / (double)p->parallel;
	out->seconds = (long)ceil((out->throttle > out->requests ? out->throttle : out->requests) +
	    out->operations + out->gates - 1e-9);
	if (out->seconds < 0)
		out->seconds = 0;
	return 0;
}

static json_int_t
up(double x)
{
	return (json_int_t)ceil(x - 1e-9);
}

json_t *
cost_wave_json(const struct cost_wave *c)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "writes", (json_int_t)c->writes,
	    "reads", (json_int_t)c->reads, "polls", (json_int_t)c->polls, "driftReads",
	    (json_int_t)c->drift_reads, "throttleSeconds", up(c->throttle), "requestSeconds",
	    up(c->requests), "operationSeconds", up(c->operations), "gateSeconds", up(c->gates),
	    "seconds", (json_int_t)c->seconds);
}

/* planner.h: the write-bucket wait of the plan's first estimate, kept for its callers. */
long
planner_budget_seconds(long writes, double *tokens, long burst, long refill_writes, long refill_seconds)
{
	double rate = (double)refill_writes / (double)refill_seconds, need, secs;

	if (writes <= 0)
		return 0;
	if ((double)writes <= *tokens) {
		*tokens -= (double)writes;
		return 0;
	}
	need = (double)writes - *tokens;
	secs = ceil(need / rate - 1e-9);
	*tokens = secs * rate - need;
	if (*tokens > (double)burst)
		*tokens = (double)burst;
	return (long)secs;
}
