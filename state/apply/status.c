/*
 * `netwave status` (state/apply/apply.h, apply_status): a plan's run state read
 * from the store alone, no provider needed: each wave with its steps,
 * attempts and last errors, its gates and their last results, the soak
 * still running, who holds the lease, and what comes next.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plan/json_own.h"
#include "plan/jsonutil.h"
#include "plan/kinds.h"
#include "state/apply/internal.h"

#define STATUS_FORMAT "netwave.status/v1"

static bool
is(const char *a, const char *b)
{
	return a != NULL && strcmp(a, b) == 0;
}

/*
 * A wave's time: the plan's estimate (plan/cost.c) beside what it took,
 * from its start to its end (or to now while it runs).
 */
static json_t *
wave_time(const json_t *w, const json_t *pw, time_t now)
{
	const json_t *e = json_object_get(pw, "estimate");
	json_t *t = json_pack("{s:I}", "estimateSeconds", json_integer_value(json_object_get(e, "seconds")));
	time_t a, b;

	if (t == NULL)
		return json_null();
	if (time_parse_rfc3339(json_str(w, "startedAt"), &a) == 0) {
		if (time_parse_rfc3339(json_str(w, "finishedAt"), &b) != 0)
			b = now;
		json_object_set_new(t, "actualSeconds", json_integer((json_int_t)(b > a ? b - a : 0)));
	}
	return t;
}

/*
 * The soaks ended early (`apply --end-soak`), from the journal: [{wave,
 * gate, by, reason, at, secondsLeft}].
 */
static int
soak_overrides(struct store *st, const char *id, const json_t *doc, json_t **out, struct nw_err *err)
{
	json_t *j = NULL, *list = json_array();
	const json_t *e;
	size_t i;
	int rc;

	*out = NULL;
	if (list == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	if ((rc = store_journal_list(st, id, &j, err)) != 0) {
		json_decref(list);
		return rc;
	}
	json_array_foreach(j, i, e) {
		const json_t *d = json_object_get(e, "detail");
		const json_t *w = json_array_get(json_object_get(doc, "waves"),
		    (size_t)json_integer_value(json_object_get(e, "wave")));

		if (!is(json_str(e, "event"), "soak-ended-early"))
			continue;
		json_array_append_new(list, json_pack("{s:O?, s:O?, s:O?, s:O?, s:O?, s:O?}", "wave",
		    json_object_get(w, "name"), "gate", json_object_get(d, "gate"), "by", json_object_get(d,
		    "by"), "reason", json_object_get(d, "reason"), "at", json_object_get(d, "at"),
		    "secondsLeft", json_object_get(d, "secondsLeft")));
	}
	json_decref(j);
	*out = list;
	return 0;
}

/* What to do next about the first wave not done. */
static json_t *
next_action(const json_t *doc, const json_t *w, const char *wstatus, const char *running_dir)
{
	char cmd[512];

	if (running_dir != NULL && strcmp(running_dir, "rollback") == 0) {
		snprintf(cmd, sizeof(cmd), "netwave rollback %s --wave %s", json_str(doc, "id"),
		    json_str(w, "name"));
		return json_pack("{s:O, s:s, s:s}", "wave", json_object_get(w, "name"), "action",
		    "resume the rollback (it was interrupted part way)", "command", cmd);
	}
	if (running_dir != NULL) {
		snprintf(cmd, sizeof(cmd), "netwave apply %s --wave %s", json_str(doc, "id"),
		    json_str(w, "name"));
		return json_pack("{s:O, s:s, s:s}", "wave", json_object_get(w, "name"), "action",
		    "resume (the run was interrupted)", "command", cmd);
	}
	return json_pack("{s:O, s:s}", "wave", json_object_get(w, "name"), "action",
	    is(wstatus, "running") ? "resume" : is(wstatus, "failed") ? "retry or roll back" : "apply");
}

/*
 * The wave's gates as stored (status, counters, last result as evidence)
 * with the plan's descriptions; *soak the soak after the wave while it runs.
 */
static void
wave_gates(json_t *gates, const json_t *w, const json_t *pw, time_t now, json_t **soak)
{
	const json_t *g;
	size_t k;

	json_array_foreach(json_object_get(w, "gates"), k, g) {
		const json_t *lr = json_object_get(g, "lastResult");
		const json_t *pg = NULL, *x;
		size_t q;

		json_array_foreach(json_object_get(pw, "gates"), q, x)
			if (is(json_str(x, "id"), json_str(g, "id")))
				pg = x;
		json_array_append_new(gates, json_pack("{s:O, s:O, s:O?, s:O, s:O, s:O, s:O, s:O?, s:O?, "
		    "s:O?}", "id", json_object_get(g, "id"), "kind", json_object_get(g, "kind"),
		    "description", json_object_get(pg, "description"), "status", json_object_get(g,
		    "status"), "failures", json_object_get(g, "failures"), "inconclusive",
		    json_object_get(g, "inconclusive"), "errors", json_object_get(g, "errors"), "summary",
		    json_object_get(lr, "summary"), "checkedAt", json_object_get(g, "checkedAt"),
		    "evidence", lr));
		if (gate_kind_parse(json_str(g, "kind")) == GATE_SOAK && !is(json_str(g, "status"), "passed") &&
		    is(json_str(w, "status"), "done") && pg != NULL &&
		    !is(json_str(pg, "when"), "before")) {
			time_t fin, until;
			char t[32];
			if (time_parse_rfc3339(json_str(w, "finishedAt"), &fin) == 0) {
				until = fin + (time_t)json_integer_value(json_path(pg, "params", "seconds", NULL));
				json_decref(*soak);
				*soak = json_pack("{s:I, s:s, s:I, s:b}", "seconds",
				    json_integer_value(json_path(pg, "params", "seconds", NULL)), "until",
				    apply_time_format(t, sizeof(t), until), "remaining",
				    (json_int_t)(until > now ? until - now : 0), "running", until > now);
			}
		}
	}
}

int
apply_status(json_t **out, struct store *st, const char *plan, time_t now, struct nw_err *err)
{
	json_t *doc = NULL, *waves = NULL, *steps = NULL, *lease = NULL, *list = NULL, *result = NULL;
	json_t *wout = NULL, *next = json_null(), *overrides = NULL;
	const char *id, *pstatus = "planned";
	const json_t *w, *s, *p;
	size_t i, k;
	int rc;
	bool blocked = false, live;

	*out = NULL;
	if ((rc = store_plan_get(st, plan, &doc, err)) != 0)
		goto done;
	id = json_str(doc, "id");
	if ((rc = store_wave_list(st, id, &waves, err)) != 0 ||
	    (rc = store_step_list(st, id, -1, &steps, err)) != 0 ||
	    (rc = store_lease_get(st, id, &lease, err)) != 0 ||
	    (rc = store_plan_list(st, &list, err)) != 0)
		goto done;
	json_array_foreach(list, i, p)
		if (is(json_str(p, "id"), id))
			pstatus = json_str(p, "status") != NULL ? json_str(p, "status") : pstatus;
	if (json_is_object(lease)) {
		time_t exp;
		if (time_parse_rfc3339(json_str(lease, "expiresAt"), &exp) == 0)
			json_object_set_new(lease, "expired", json_boolean(exp <= now));
	}
	/* a wave "running" with no live run on it was interrupted (SIGTERM, a crash) */
	live = json_is_object(lease) && !json_is_true(json_object_get(lease, "expired"));
	wout = json_array();
	json_array_foreach(waves, i, w) {
		json_t *counts = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "total", 0, "pending", 0,
		    "started", 0, "done", 0, "failed", 0, "rolled-back", 0, "skipped", 0);
		json_t *slist = json_array(), *gates = json_array(), *soak = json_null(), *wo;
		const json_t *pw = json_array_get(json_object_get(doc, "waves"), i);
		const char *wstatus = json_str(w, "status"), *running_dir = NULL;
		long attempts = 0, rb = 0;

		json_array_foreach(steps, k, s) {
			const char *st_ = json_str(s, "status");
			if (json_integer_value(json_object_get(s, "wave")) != (json_int_t)i)
				continue;
			json_object_set_new(counts, "total", json_integer(json_integer_value(json_object_get(counts,
			    "total")) + 1));
			if (st_ != NULL && json_object_get(counts, st_) != NULL)
				json_object_set_new(counts, st_, json_integer(json_integer_value(json_object_get(counts,
				    st_)) + 1));
			attempts += (long)json_integer_value(json_object_get(s, "attempts"));
			if (is(json_str(s, "direction"), "rollback"))
				rb++;
			json_array_append_new(slist, json_pack("{s:O, s:O?, s:O?, s:O, s:O?, s:O, s:O?, s:O?}",
			    "id", json_object_get(s, "id"), "action", json_object_get(s, "action"), "resource",
			    json_object_get(s, "resource"), "status", json_object_get(s, "status"), "direction",
			    json_object_get(s, "direction"), "attempts", json_object_get(s, "attempts"),
			    "lastError", json_object_get(s, "lastError"), "finishedAt", json_object_get(s,
			    "finishedAt")));
		}
		json_object_set_new(counts, "attempts", json_integer(attempts));
		wave_gates(gates, w, pw, now, &soak);
		if (is(wstatus, "running") && !live) {
			/* say what is true: no run is on it; which way it was going when it stopped */
			running_dir = rb > 0 ? "rollback" : "apply";
			wstatus = "interrupted";
		}
		wo = json_pack("{s:O, s:O, s:O, s:s, s:O?, s:O?, s:o, s:o, s:o, s:o, s:o}", "index",
		    json_object_get(w, "index"), "name", json_object_get(w, "name"), "kind",
		    json_object_get(w, "kind"), "status", wstatus, "startedAt",
		    json_object_get(w, "startedAt"), "finishedAt", json_object_get(w, "finishedAt"), "steps",
		    counts, "stepList", slist, "gates", gates, "soak", soak, "time",
		    wave_time(w, pw, now));
		if (wo != NULL && running_dir != NULL)
			json_object_set_new(wo, "interruptedDuring", json_string(running_dir));
		json_array_append_new(wout, wo);
		if (json_is_null(next) && !is(json_str(w, "status"), "done")) {
			json_decref(next);
			next = next_action(doc, w, wstatus, running_dir);
			/* the soak of the wave before it, if it is still running */
			if (i > 0) {
				const json_t *prev = json_array_get(wout, i - 1);
				const json_t *ps = json_object_get(prev, "soak");
				if (json_is_true(json_object_get(ps, "running"))) {
					json_object_set(next, "notBefore", json_object_get(ps, "until"));
					blocked = true;
				}
			}
		}
	}
	if ((rc = soak_overrides(st, id, doc, &overrides, err)) != 0)
		goto done;
	if (json_is_null(next))
		next = json_pack("{s:n, s:s}", "wave", "action", "nothing: every wave is done");
	json_object_set_new(next, "blockedBySoak", json_boolean(blocked));
	result = json_pack("{s:s, s:s, s:s, s:O?, s:O?, s:O, s:o, s:o, s:o}", "format", STATUS_FORMAT,
	    "plan", id, "status", pstatus, "createdAt", json_object_get(doc, "createdAt"), "changes",
	    json_object_get(doc, "changes"), "lease", lease, "waves", wout, "next", next, "soakOverrides",
	    overrides);
	wout = NULL;
	next = NULL;
	overrides = NULL;
	if (result == NULL) {
		rc = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	*out = result;
	rc = 0;
done:
	json_release_all(&doc, &waves, &steps, &lease, &list, &wout, &next, &overrides);
	return rc;
}
