/*
 * The gate kinds every change kind shares (resource-state, the route
 * gates, soak) and what every judge uses (plan/gates.h).  Each judge gets
 * the gate's params and what the engine read, and says passed, failed,
 * not yet (the state is still moving) or inconclusive, with the evidence
 * the journal keeps.  A change kind's own gate kinds and their judges live
 * with it under plan/proc/.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "plan/actions.h"
#include "plan/gates.h"
#include "plan/jsonutil.h"

static const char *const outcome_names[] = { "passed", "failed", "inconclusive", "error", "not yet" };

const char *
gate_outcome_name(enum gate_outcome o)
{
	return (size_t)o < sizeof(outcome_names) / sizeof(outcome_names[0]) ? outcome_names[o] : "?";
}

static enum gate_outcome
gate_vfinish(json_t *ev, enum gate_outcome o, const char *fmt, va_list ap)
{
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	json_object_set_new(ev, "summary", json_string(buf));
	return o;
}

enum gate_outcome
gate_finish(json_t *ev, enum gate_outcome o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	o = gate_vfinish(ev, o, fmt, ap);
	va_end(ap);
	return o;
}

const char *
gate_short_name(const char *id)
{
	const char *s = id != NULL ? strrchr(id, '/') : NULL;

	return s != NULL ? s + 1 : id != NULL ? id : "?";
}

void
gate_list_add(json_t *list, json_t *item)
{
	if (item != NULL && json_array_size(list) < 50)
		json_array_append_new(list, item);
	else
		json_decref(item);
}

enum gate_outcome
gate_worse(enum gate_outcome a, enum gate_outcome b)
{
	if (a == GATE_FAILED || b == GATE_FAILED)
		return GATE_FAILED;
	if (a == GATE_NOT_YET || b == GATE_NOT_YET)
		return GATE_NOT_YET;
	return GATE_PASSED;
}

void
gate_tally_start(struct gate_tally *t, json_t *ev, const char *key)
{
	t->items = json_array();
	t->worst = GATE_PASSED;
	t->why[0] = '\0';
	json_object_set_new(ev, key, t->items);
}

void
gate_tally_miss(struct gate_tally *t, enum gate_outcome o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->why, sizeof(t->why), fmt, ap);
	va_end(ap);
	t->worst = gate_worse(t->worst, o);
}

enum gate_outcome
gate_tally_finish(const struct gate_tally *t, json_t *ev, const char *fmt, ...)
{
	enum gate_outcome o;
	va_list ap;

	if (t->worst != GATE_PASSED)
		return gate_finish(ev, t->worst, "%s", t->why);
	va_start(ap, fmt);
	o = gate_vfinish(ev, GATE_PASSED, fmt, ap);
	va_end(ap);
	return o;
}

/* ------------------------------------------------------------------ */
/* resource-state */

static enum gate_outcome
judge_resource_state(const json_t *params, const json_t *got, json_t *ev)
{
	const json_t *checks = json_object_get(params, "checks"), *c;
	json_t *bad = json_array();
	size_t i, nbad = 0;
	bool moving = false;

	json_array_foreach(checks, i, c) {
		const char *id = json_str(c, "resource");
		char low[2048];
		const json_t *res, *have;
		size_t k;

		snprintf(low, sizeof(low), "%s", id != NULL ? id : "");
		for (k = 0; low[k] != '\0'; k++)
			low[k] = (char)tolower((unsigned char)low[k]);
		res = json_object_get(got, low);
		have = json_is_object(res) ? json_pointer_get(res, json_str(c, "pointer")) : NULL;
		if (json_equal_nocase(have, json_object_get(c, "equals")))
			continue;
		nbad++;
		if (json_is_object(res)) {
			const char *ps = json_path_str(res, "properties", "provisioningState", NULL);
			if (ps != NULL && strcasecmp(ps, "Succeeded") != 0 && strcasecmp(ps, "Failed") != 0 &&
			    strcasecmp(ps, "Canceled") != 0)
				moving = true;
		}
		gate_list_add(bad, json_pack("{s:s, s:s?, s:O?, s:O?}", "resource", id, "pointer",
		    json_str(c, "pointer"), "expected", json_object_get(c, "equals"), "actual", have));
	}
	json_object_set_new(ev, "checked", json_integer((json_int_t)json_array_size(checks)));
	json_object_set_new(ev, "mismatches", bad);
	if (nbad == 0)
		return gate_finish(ev, GATE_PASSED, "%zu resource check(s) as expected", json_array_size(checks));
	return gate_finish(ev, moving ? GATE_NOT_YET : GATE_FAILED, "%zu of %zu resource check(s) differ, "
	    "first %s %s", nbad, json_array_size(checks),
	    gate_short_name(json_str(json_array_get(bad, 0), "resource")),
	    json_str(json_array_get(bad, 0), "pointer") != NULL ? json_str(json_array_get(bad, 0), "pointer") : "");
}

/* ------------------------------------------------------------------ */
/* soak */

static enum gate_outcome
judge_soak(const json_t *params, const json_t *reads, json_t *ev)
{
	(void)params;
	(void)reads;
	return gate_finish(ev, GATE_PASSED, "soaks are timed by the run");
}

/* ------------------------------------------------------------------ */
/* The shared kinds */

/* (what each checks: plan/kinds.h; effectiveRouteTable and a circuit's routeTable are long-running POSTs) */
const struct gate_kind_def gate_kind_resource_state = {
	"resource-state", GATE_READ_RESOURCES, NULL, judge_resource_state, GATE_COST_GETS };
const struct gate_kind_def gate_kind_effective_routes = {
	"effective-routes", GATE_READ_EFFECTIVE_ROUTES, NULL, NULL, GATE_COST_POLLED_POSTS };
/* the on-premises route gate reads as effective-routes does, from a check's VNet or subnet */
const struct gate_kind_def gate_kind_onprem_routes = {
	"onprem-routes", GATE_READ_ONPREM_ROUTES, NULL, NULL, GATE_COST_POLLED_POSTS };
const struct gate_kind_def gate_kind_soak = { "soak", GATE_READ_NOTHING, NULL, judge_soak, GATE_COST_GETS };

const struct gate_kind_def *const gate_kinds_shared[] = {
	&gate_kind_resource_state,
	&gate_kind_effective_routes,
	&gate_kind_onprem_routes,
	&gate_kind_soak,
	NULL,
};
