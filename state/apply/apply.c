/*
 * The apply engine's runs (state/apply/apply.h): load a stored plan, take its
 * lease, choose the waves, and for each wave check the soak before it,
 * confirm irreversible steps, check for drift, run its steps
 * (jobs.c), run its gates (gates.c), commit the touched
 * resources to the history and mark it done; or roll waves back in
 * reverse, stopping in front of irreversible steps, and prove the way
 * back.  state/apply/ is the one place where state/ uses providers/: the
 * engine through providers/provider.h only (the caller makes the provider,
 * Azure or the emulator for the demo, and the history), and the rehearsal
 * (rehearse.c), which starts its own private emulator.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include "plan/arm_api.h"
#include "plan/kinds.h"
#include "plan/json_own.h"
#include "plan/jsonutil.h"
#include "plan/topology.h"
#include "state/apply/internal.h"

#define MAX_DRIFT_LISTED 12

/* ------------------------------------------------------------------ */
/* Clock, events, journal accounting */

double
run_now(struct run *r)
{
	struct timeval tv;

	if (r->o->clock != NULL)
		return r->o->clock(r->o->clock_arg);
	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

time_t
run_time(struct run *r)
{
	return (time_t)floor(run_now(r));
}

const char *
apply_time_format(char *buf, size_t size, time_t t)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	if (strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0 && size > 0)
		buf[0] = '\0';
	return buf;
}

void
run_event(struct run *r, const char *name, json_t *ev)
{
	char t[32];

	if (ev == NULL)
		return;
	if (r->o->on_event != NULL) {
		json_object_set_new(ev, "event", json_string(name));
		json_object_set_new(ev, "time", json_string(apply_time_format(t, sizeof(t), run_time(r))));
		if (r->plan_id != NULL)
			json_object_set_new(ev, "plan", json_string(r->plan_id));
		r->o->on_event(r->o->event_arg, ev);
	}
	json_decref(ev);
}

bool
run_wrote(struct run *r)
{
	if (r->crashed)
		return true;
	r->writes++;
	if (r->o->crash_after > 0 && r->writes >= r->o->crash_after) {
		r->crashed = true;
		return true;
	}
	return false;
}

int
run_fail(struct run *r, int rc, const struct nw_err *e)
{
	if (r->fatal == 0) {
		r->fatal = rc != 0 ? rc : NW_EIO;
		r->fatal_err = *e;
		if (r->fatal_err.code == 0)
			r->fatal_err.code = r->fatal;
	}
	return r->fatal;
}

/* After a write to the store that returned rc: rc, or the simulated crash when it comes now. */
static int
store_wrote(struct run *r, int rc, struct nw_err *err)
{
	if (rc == 0 && run_wrote(r))
		rc = err_set(err, NW_EPARTIAL, "the run stopped dead (simulated crash)");
	return rc;
}

/* Moves wave idx to status in the store. */
static int
wave_set_status(struct run *r, int idx, enum store_wave_status status, struct nw_err *err)
{
	return store_wrote(r, store_wave_set_status(r->st, r->plan_id, idx, status, run_time(r), err), err);
}

/* Records the soak gate gid passed, with ev (stolen). */
static int
soak_passed(struct run *r, const char *gid, json_t *ev, struct nw_err *err)
{
	int rc = store_gate_record(r->st, r->plan_id, gid, STORE_GATE_PASSED, ev, run_time(r), err);

	json_decref(ev);
	return store_wrote(r, rc, err);
}

static int
journal(struct run *r, const char *event, int wave, const char *step, json_t *detail, struct nw_err *err)
{
	int rc = store_journal_append(r->st, r->plan_id, event, wave, step, detail, run_time(r), err);

	json_decref(detail);
	return store_wrote(r, rc, err);
}

void
apply_result_clear(struct apply_result *res)
{
	if (res == NULL)
		return;
	json_decref(res->evidence);
	res->evidence = NULL;
}

static void
set_evidence(struct run *r, json_t *ev)
{
	json_decref(r->res->evidence);
	r->res->evidence = ev;
}

/* ------------------------------------------------------------------ */
/* Waves and their jobs */

static int
step_status_parse(const char *s)
{
	static const char *const names[] = { "pending", "started", "done", "failed", "rolled-back",
		"skipped" };
	size_t i;

	for (i = 0; s != NULL && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return STORE_STEP_PENDING;
}

static int
wave_run_init(struct run *r, struct wave_run *wr, int idx, enum store_direction dir, struct nw_err *err)
{
	const json_t *wave = json_array_get(json_object_get(r->plan, "waves"), (size_t)idx);
	const json_t *steps = json_object_get(wave, "steps"), *s, *row;
	json_t *rows = NULL, *byid = json_object(), *journal_list = NULL;
	bool reconcile = false;
	size_t i;
	int rc;

	memset(wr, 0, sizeof(*wr));
	wr->r = r;
	wr->wave = wave;
	wr->index = idx;
	wr->name = json_str(wave, "name");
	wr->dir = dir;
	if (byid == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	if ((rc = store_step_list(r->st, r->plan_id, idx, &rows, err)) != 0) {
		json_decref(byid);
		return rc;
	}
	json_array_foreach(rows, i, row)
		json_object_set(byid, json_str(row, "id"), (json_t *)row);
	wr->njobs = json_array_size(steps);
	wr->jobs = calloc(wr->njobs + 1, sizeof(*wr->jobs));
	if (wr->jobs == NULL) {
		rc = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	json_array_foreach(steps, i, s) {
		struct job *j = &wr->jobs[i];
		const char *d;

		row = json_object_get(byid, json_str(s, "id"));
		j->r = r;
		j->wr = wr;
		j->idx = i;
		j->step = s;
		j->id = json_str(s, "id");
		j->resource = json_str(s, "resource") != NULL ? json_str(s, "resource") : "";
		j->skey = json_str(s, "serializeKey") != NULL ? json_str(s, "serializeKey") : j->resource;
		j->dir = dir;
		j->status = (enum store_step_status)step_status_parse(json_str(row, "status"));
		d = json_str(row, "direction");
		j->stored_dir = d != NULL && strcmp(d, "rollback") == 0 ? STORE_ROLLBACK : STORE_FORWARD;
		j->attempts = (long)json_integer_value(json_object_get(row, "attempts"));
		if (json_is_object(json_object_get(row, "beforeImage")))
			j->before_image = json_incref(json_object_get(row, "beforeImage"));
		j->phase = JP_WAITING;
		if (dir == STORE_FORWARD) {
			switch (j->status) {
			case STORE_STEP_DONE:
			case STORE_STEP_SKIPPED:
				j->phase = JP_FINISHED;
				j->success = true;
				j->gates_done = true;
				wr->finished++;
				break;
			case STORE_STEP_STARTED:
				if (j->stored_dir == STORE_ROLLBACK) {
					rc = err_set(err, NW_EINPUT, "step %s of wave %s has a rollback under way; run "
					    "netwave rollback to finish it first", j->id, wr->name);
					goto done;
				}
				j->reconciling = true;
				reconcile = true;
				break;
			default:
				break;
			}
		} else {
			switch (j->status) {
			case STORE_STEP_DONE:
			case STORE_STEP_FAILED:
				break;
			case STORE_STEP_STARTED:
				j->reconciling = true;
				j->then_rollback = j->stored_dir == STORE_FORWARD;
				reconcile = true;
				break;
			default:
				j->phase = JP_FINISHED;
				j->success = true;
				j->gates_done = true;
				wr->finished++;
				break;
			}
		}
	}
	if (reconcile) {
		if ((rc = store_journal_list(r->st, r->plan_id, &journal_list, err)) != 0)
			goto done;
		jobs_attach_journal(wr, journal_list);
	}
	rc = 0;
done:
	json_release_all(&rows, &byid, &journal_list);
	return rc;
}

static size_t
wave_failed_jobs(struct wave_run *wr, json_t *list)
{
	size_t i, n = 0;

	for (i = wr->cutoff; i < wr->njobs; i++) {
		struct job *j = &wr->jobs[i];
		if (j->phase == JP_FINISHED && j->success)
			continue;
		n++;
		if (list != NULL && json_array_size(list) < 20)
			json_array_append_new(list, json_pack("{s:s, s:s?, s:s}", "step", j->id, "action",
			    json_str(j->step, "action"), "error", j->error[0] != '\0' ? j->error :
			    "not run: a step it depends on did not complete"));
	}
	return n;
}

static const char *
first_error(struct wave_run *wr)
{
	size_t i;

	for (i = wr->cutoff; i < wr->njobs; i++)
		if (wr->jobs[i].error[0] != '\0')
			return wr->jobs[i].error;
	return "a step did not complete";
}

/* ------------------------------------------------------------------ */
/* Soaks */

static const json_t *
wave_entry(const json_t *wlist, int idx)
{
	return json_array_get(wlist, (size_t)idx);
}

static int
wave_index_by_name(const json_t *wlist, const char *name)
{
	size_t i;

	return json_array_find(wlist, "name", name, strcmp, &i) != NULL ? (int)i : -1;
}

/*
 * --end-soak: the soak passes now, on a person's word.  Who, why and when
 * go into the soak gate's result (status shows it), the journal and,
 * through r->soak_note, the next wave's history commit.
 */
static int
soak_end_early(struct run *r, const char *gid, int gate_wave, const char *since_name, double seconds,
    double left, struct nw_err *err)
{
	const char *by = r->o->end_soak_by, *why = r->o->end_soak_reason != NULL ? r->o->end_soak_reason : "";
	char t[32], summary[600];
	json_t *ev;
	int rc;

	apply_time_format(t, sizeof(t), run_time(r));
	snprintf(summary, sizeof(summary), "ended early by %s at %s: %s", by, t, why);
	ev = json_pack("{s:f, s:f, s:s, s:b, s:s, s:s, s:s, s:s}", "soakedSeconds", seconds - left,
	    "secondsLeft", left, "since", since_name, "endedEarly", 1, "by", by, "reason", why, "at", t,
	    "summary", summary);
	if ((rc = soak_passed(r, gid, ev, err)) != 0)
		return rc;
	rc = journal(r, "soak-ended-early", gate_wave, NULL, json_pack("{s:s, s:s, s:s, s:s, s:f}", "gate",
	    gid, "by", by, "reason", why, "at", t, "secondsLeft", left), err);
	if (rc != 0)
		return rc;
	r->soak_ended = true;
	r->res->soak_ended = true;
	snprintf(r->soak_note, sizeof(r->soak_note), "The soak after wave %s was ended early, %.0f s "
	    "before its end, by %s at %s: %s", since_name, ceil(left), by, t, why);
	run_event(r, "soak-ended-early", json_pack("{s:s, s:s, s:s, s:s, s:f}", "wave", since_name, "gate",
	    gid, "by", by, "reason", why, "secondsLeft", left));
	run_event(r, "gate-result", json_pack("{s:i, s:s, s:s, s:s, s:s}", "index", gate_wave, "gate",
	    gid, "kind", gate_kind_name(GATE_SOAK), "outcome", "passed", "summary", summary));
	return 0;
}

/* One soak: passes, waits it out when short enough, or stops the run. */
static int
soak_one(struct run *r, const json_t *gate, int gate_wave, const char *since_name, time_t since,
    const char *next_name, struct nw_err *err)
{
	double scale = r->o->soak_scale > 0 ? r->o->soak_scale : 1.0;
	double seconds = (double)json_integer_value(json_path(gate, "params", "seconds", NULL)) / scale;
	double until = (double)since + seconds, left = until - run_now(r);
	const char *gid = json_str(gate, "id");
	char t[32];
	json_t *ev;
	int rc;

	if (left > 0 && r->o->end_soak_by != NULL && !r->soak_ended)
		return soak_end_early(r, gid, gate_wave, since_name, seconds, left, err);
	if (left > 0 && left <= r->o->soak_wait_max) {
		run_event(r, "soak-wait", json_pack("{s:s, s:s, s:s, s:f, s:b}", "wave", since_name, "gate", gid,
		    "until", apply_time_format(t, sizeof(t), (time_t)ceil(until)), "secondsLeft", left,
		    "waiting", 1));
		while ((left = until - run_now(r)) > 0) {
			double d = fmin(left, 0.25);
			struct timespec ts = { (time_t)d, (long)((d - floor(d)) * 1e9) };
			if (r->o->interrupt != NULL && *r->o->interrupt)
				return err_set(err, NW_EPARTIAL, "interrupted during the soak of wave %s", since_name);
			nanosleep(&ts, NULL);
			if ((rc = run_lease_keep(r, err)) != 0)
				return rc;
		}
	}
	if (left <= 0) {
		ev = json_pack("{s:f, s:s}", "soakedSeconds", seconds, "since", since_name);
		if ((rc = soak_passed(r, gid, ev, err)) != 0)
			return rc;
		run_event(r, "gate-result", json_pack("{s:i, s:s, s:s, s:s, s:s}", "index", gate_wave, "gate",
		    gid, "kind", gate_kind_name(GATE_SOAK), "outcome", "passed", "summary", "the soak has passed"));
		return 0;
	}
	apply_time_format(t, sizeof(t), (time_t)ceil(until));
	snprintf(r->res->soak_until, sizeof(r->res->soak_until), "%s", t);
	rc = journal(r, "soak-wait", gate_wave, NULL, json_pack("{s:s, s:s, s:f}", "gate", gid, "until", t,
	    "secondsLeft", left), err);
	if (rc != 0)
		return rc;
	run_event(r, "soak-wait", json_pack("{s:s, s:s, s:s, s:f, s:b}", "wave", since_name, "gate", gid,
	    "until", t, "secondsLeft", left, "waiting", 0));
	{
		char d[64];
		long s = (long)ceil(left);
		if (s >= 86400)
			snprintf(d, sizeof(d), "%ld d %ld h", s / 86400, s % 86400 / 3600);
		else if (s >= 3600)
			snprintf(d, sizeof(d), "%ld h %ld min", s / 3600, s % 3600 / 60);
		else if (s >= 60)
			snprintf(d, sizeof(d), "%ld min %ld s", s / 60, s % 60);
		else
			snprintf(d, sizeof(d), "%ld s", s);
		return err_set(err, NW_EPARTIAL, "wave %s is soaking: %s left (until %s) before wave %s may "
		    "start; run the same command again then", since_name, d, t, next_name);
	}
}

/* The soaks that must have passed before wave idx starts. */
static int
soaks_before(struct run *r, const json_t *wlist, int idx, struct nw_err *err)
{
	const json_t *pw, *g, *waves = json_object_get(r->plan, "waves");
	const char *name = json_str(json_array_get(waves, (size_t)idx), "name");
	size_t i;
	int rc;

	/* the previous wave's own soak, timed from when it was done */
	if (idx > 0) {
		pw = json_array_get(waves, (size_t)idx - 1);
		json_array_foreach(json_object_get(pw, "gates"), i, g) {
			const json_t *sg;
			const json_t *we = wave_entry(wlist, idx - 1);
			time_t since;

			if (gate_kind_parse(json_str(g, "kind")) != GATE_SOAK ||
			    (json_str(g, "when") != NULL && strcmp(json_str(g, "when"), "after") != 0))
				continue;
			sg = json_array_find(json_object_get(we, "gates"), "id", json_str(g, "id"), strcmp, NULL);
			if (sg != NULL && json_str(sg, "status") != NULL && strcmp(json_str(sg, "status"), "passed") == 0)
				continue;
			if (time_parse_rfc3339(json_str(we, "finishedAt"), &since) != 0)
				continue;
			if ((rc = soak_one(r, g, idx - 1, json_str(pw, "name"), since, name, err)) != 0)
				return rc;
		}
	}
	/* this wave's "before" soaks, timed from the wave they name */
	json_array_foreach(json_object_get(json_array_get(waves, (size_t)idx), "gates"), i, g) {
		const char *since_name = json_path_str(g, "params", "since", NULL);
		int si;
		time_t since;

		if (gate_kind_parse(json_str(g, "kind")) != GATE_SOAK ||
		    json_str(g, "when") == NULL || strcmp(json_str(g, "when"), "before") != 0)
			continue;
		si = since_name != NULL ? wave_index_by_name(wlist, since_name) : idx - 1;
		if (si < 0 || json_str(wave_entry(wlist, si), "status") == NULL ||
		    strcmp(json_str(wave_entry(wlist, si), "status"), "done") != 0 ||
		    time_parse_rfc3339(json_str(wave_entry(wlist, si), "finishedAt"), &since) != 0)
			return err_set(err, NW_EINPUT, "cannot start wave %s: its soak counts from wave %s, which "
			    "is not done", name, since_name != NULL ? since_name : "(the previous wave)");
		if ((rc = soak_one(r, g, idx, json_str(wave_entry(wlist, si), "name"), since, name, err)) != 0)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Confirmation, drift, history */

static int
confirm_irreversible(struct run *r, struct wave_run *wr, struct nw_err *err)
{
	char prompt[4096];
	size_t n = 0, i, len;
	json_t *ids = json_array();
	int rc;

	len = (size_t)snprintf(prompt, sizeof(prompt), "wave %s has irreversible steps: once they are "
	    "done, rollback stops in front of them:\n", wr->name);
	for (i = 0; i < wr->njobs; i++) {
		struct job *j = &wr->jobs[i];
		if (!json_is_true(json_object_get(j->step, "irreversible")) || j->status == STORE_STEP_DONE)
			continue;
		n++;
		json_array_append_new(ids, json_string(j->id));
		if (len < sizeof(prompt))
			len += (size_t)snprintf(prompt + len, sizeof(prompt) - len, "  %s  %s\n", j->id,
			    json_str(j->step, "description") != NULL ? json_str(j->step, "description") : "");
	}
	if (n == 0) {
		json_decref(ids);
		return 0;
	}
	if (r->o->yes) {
		return journal(r, "confirmed", wr->index, NULL, json_pack("{s:s, s:o}", "by", "--yes", "steps",
		    ids), err);
	}
	if (r->o->confirm != NULL) {
		if (len < sizeof(prompt))
			snprintf(prompt + len, sizeof(prompt) - len, "type the wave name '%s' to go on: ", wr->name);
		if (r->o->confirm(r->o->confirm_arg, prompt, wr->name))
			return journal(r, "confirmed", wr->index, NULL, json_pack("{s:s, s:o}", "by", "typed",
			    "steps", ids), err);
		json_decref(ids);
		return err_set(err, NW_EIRREVERSIBLE, "wave %s was not confirmed; nothing in it was changed", wr->name);
	}
	for (i = 0; i < wr->njobs; i++)
		if (strcmp(wr->jobs[i].id, json_string_value(json_array_get(ids, 0))) == 0)
			break;
	rc = err_set(err, NW_EIRREVERSIBLE, "wave %s has %zu irreversible step(s), first %s: %s; nothing was "
	    "changed: run again with --yes to confirm, or on a terminal to be asked", wr->name, n,
	    json_string_value(json_array_get(ids, 0)), i < wr->njobs &&
	    json_str(wr->jobs[i].step, "description") != NULL ? json_str(wr->jobs[i].step, "description") : "");
	json_decref(ids);
	return rc;
}

static int
check_drift(struct run *r, struct wave_run *wr, struct nw_err *err)
{
	json_t *changes = NULL, *c;
	char list[768] = "";
	size_t i, len = 0;
	int rc;

	if ((rc = drift_check(wr, &changes, err)) != 0)
		return rc;
	if (json_array_size(changes) == 0) {
		json_decref(changes);
		return 0;
	}
	json_array_foreach(changes, i, c) {
		const char *id = json_str(c, "resource"), *s = id != NULL ? strrchr(id, '/') : NULL;
		if (i >= 4 || len >= sizeof(list))
			break;
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s %s %s", i > 0 ? "; " : "",
		    s != NULL ? s + 1 : "?", json_str(c, "pointer") != NULL && json_str(c, "pointer")[0] != '\0' ?
		    json_str(c, "pointer") : "(the resource)", json_str(c, "kind") != NULL ?
		    json_str(c, "kind") : "changed");
	}
	(void)journal(r, "drift-found", wr->index, NULL, json_pack("{s:O}", "changes", changes), err);
	run_event(r, "drift", json_pack("{s:s, s:O}", "wave", wr->name, "changes", changes));
	set_evidence(r, json_pack("{s:s, s:o}", "drift", wr->name, "changes", changes));
	return err_set(err, NW_ESTALE, "plan %s is stale: %zu change(s) since it was made in what wave "
	    "%s touches: %s%s; discover and plan again", r->plan_id,
	    json_array_size(json_object_get(r->res->evidence, "changes")), wr->name, list,
	    json_array_size(json_object_get(r->res->evidence, "changes")) > 4 ? "; ..." : "");
}

/* Commits what the wave touched to the history. */
static int
history_wave(struct run *r, struct wave_run *wr, bool forward, struct nw_err *err)
{
	struct history_change change = { HISTORY_UPDATE, NULL, NULL, 0 };
	struct history_commit_info info = { 0 };
	struct history_result hres;
	json_t *ids = wave_resources(wr->wave), *got = NULL, *resources = json_array(), *v;
	const char **removed = NULL;
	char tag[256], body[1700];
	size_t i, nrem = 0, steps = 0;
	int rc;

	if (r->o->history == NULL) {
		json_decref(ids);
		json_decref(resources);
		return 0;
	}
	if (ids == NULL || resources == NULL) {
		rc = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	/* an ExpressRoute migration leaves its new gateway beside (or instead of) the old one */
	for (i = 0; i < wr->njobs; i++) {
		const struct action_kind *ak = action_kind_of(json_object_get(wr->jobs[i].step, "operation"));
		if (ak != NULL && ak->pairs_resources) {
			char *alt = gateway_migrated_id(r, wr->jobs[i].resource);
			const json_t *v2;
			size_t k;
			bool have = false;
			json_array_foreach(ids, k, v2)
				if (alt != NULL && strcasecmp(json_str(v2, "id"), alt) == 0)
					have = true;
			if (alt != NULL && !have) {
				json_t *conns = gateway_migrated_connections(r, wr->jobs[i].resource), *c;
				json_array_append_new(ids, json_pack("{s:s, s:s}", "id", alt, "apiVersion",
				    ARM_API_NETWORK));
				/* its connections and the old gateway's, which the commit deletes */
				json_array_foreach(conns, k, c)
					json_array_append_new(ids, json_pack("{s:O, s:s}", "id", c, "apiVersion",
					    ARM_API_NETWORK));
				json_decref(conns);
			}
			free(alt);
		}
	}
	if ((rc = read_many(r, ids, &got, err)) != 0) {
		err_prefix(err, "cannot read what wave %s touched for the history", wr->name);
		goto done;
	}
	removed = calloc(json_array_size(ids) + 1, sizeof(*removed));
	if (removed == NULL) {
		rc = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	json_array_foreach(ids, i, v) {
		const char *id = json_str(v, "id");
		char low[2048];
		size_t k;
		const json_t *res;

		snprintf(low, sizeof(low), "%s", id);
		for (k = 0; low[k] != '\0'; k++)
			low[k] = (char)(low[k] >= 'A' && low[k] <= 'Z' ? low[k] - 'A' + 'a' : low[k]);
		res = json_object_get(got, low);
		if (json_is_object(res))
			json_array_append(resources, (json_t *)res);
		else
			removed[nrem++] = id;
	}
	for (i = 0; i < wr->njobs; i++)
		if (wr->jobs[i].status == (forward ? STORE_STEP_DONE : STORE_STEP_ROLLED_BACK))
			steps++;
	change.resources = resources;
	change.removed_ids = removed;
	change.nremoved = nrem;
	snprintf(tag, sizeof(tag), "%s/%s/applied", r->plan_id, wr->name);
	snprintf(body, sizeof(body), "%s wave %s (%s) of plan %s: %zu step(s), %zu resource(s) written, "
	    "%zu gone.", forward ? "Applied" : "Rolled back", wr->name,
	    json_str(wr->wave, "kind") != NULL ? json_str(wr->wave, "kind") : "?", r->plan_id, steps,
	    json_array_size(resources), nrem);
	if (forward && r->soak_note[0] != '\0') {
		/* the soak this wave did not wait out, on whose word */
		size_t n = strlen(body);
		snprintf(body + n, sizeof(body) - n, "\n\n%s.", r->soak_note);
		r->soak_note[0] = '\0';
	}
	info.event = forward ? HISTORY_EVENT_APPLY : HISTORY_EVENT_ROLLBACK;
	info.body = body;
	info.plan_id = r->plan_id;
	info.wave = wr->name;
	info.steps = (long long)steps;
	info.operator_name = r->o->operator_name != NULL ? r->o->operator_name : "netwave";
	info.time = run_time(r);
	info.tag = forward ? tag : NULL;
	memset(&hres, 0, sizeof(hres));
	rc = history_record(r->o->history, &change, &info, &hres, err);
	if (rc != 0) {
		err_prefix(err, "wave %s is carried out but its history commit failed", wr->name);
		goto done;
	}
	run_event(r, "history", json_pack("{s:s, s:s, s:b, s:s?, s:I, s:I}", "wave", wr->name, "commit",
	    hres.commit, "committed", hres.committed, "tag", forward ? tag : NULL, "written",
	    (json_int_t)hres.written, "deleted", (json_int_t)hres.deleted));
done:
	free(removed);
	json_decref(ids);
	json_decref(got);
	json_decref(resources);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Rolling back a wave */

static int
wave_rollback(struct run *r, int idx, bool prove, struct nw_err *err)
{
	struct wave_run wr;
	json_t *evidence = NULL;
	size_t i, cut = 0, undone = 0;
	int rc;

	if ((rc = wave_run_init(r, &wr, idx, STORE_ROLLBACK, err)) != 0)
		goto done;
	/* inverses run in reverse order and stop in front of an irreversible step already carried out */
	for (i = 0; i < wr.njobs; i++) {
		struct job *j = &wr.jobs[i];
		if (json_is_true(json_object_get(j->step, "irreversible")) &&
		    (j->status == STORE_STEP_DONE || j->status == STORE_STEP_STARTED ||
		    j->status == STORE_STEP_FAILED))
			cut = i + 1;
	}
	wr.cutoff = cut;
	for (i = 0; i < cut; i++) {
		if (wr.jobs[i].phase != JP_FINISHED) {
			wr.jobs[i].phase = JP_FINISHED;
			wr.jobs[i].success = true;
			wr.finished++;
		}
	}
	for (i = cut; i < wr.njobs; i++)
		if (wr.jobs[i].phase != JP_FINISHED)
			undone++;
	if ((rc = wave_set_status(r, idx, STORE_WAVE_RUNNING, err)) != 0)
		goto done;
	run_event(r, "wave-start", json_pack("{s:s, s:i, s:s, s:s, s:I}", "wave", wr.name, "index", idx,
	    "kind", json_str(wr.wave, "kind") != NULL ? json_str(wr.wave, "kind") : "", "direction",
	    "rollback", "steps", (json_int_t)undone));
	if ((rc = jobs_run(&wr, err)) != 0)
		goto done;
	if (wave_failed_jobs(&wr, NULL) > 0) {
		json_t *list = json_array();
		wave_failed_jobs(&wr, list);
		set_evidence(r, json_pack("{s:s, s:o}", "rollback", wr.name, "failedSteps", list));
		(void)store_wave_set_status(r->st, r->plan_id, idx, STORE_WAVE_FAILED, run_time(r), err);
		rc = err_set(err, NW_EFAIL, "cannot roll back wave %s: %s", wr.name, first_error(&wr));
		goto done;
	}
	if (cut > 0) {
		struct job *in_way = &wr.jobs[cut - 1];
		(void)history_wave(r, &wr, false, err);
		(void)store_wave_set_status(r->st, r->plan_id, idx, STORE_WAVE_FAILED, run_time(r), err);
		(void)journal(r, "rollback-stopped", idx, in_way->id, json_pack("{s:s?, s:I}", "description",
		    json_str(in_way->step, "description"), "rolledBack", (json_int_t)undone), err);
		run_event(r, "rollback-stopped", json_pack("{s:s, s:s, s:s?}", "wave", wr.name, "step",
		    in_way->id, "description", json_str(in_way->step, "description")));
		rc = err_set(err, NW_EIRREVERSIBLE, "rollback of wave %s stopped in front of step %s, which cannot be "
		    "undone: %s%s%s; %zu step(s) after it were rolled back", wr.name, in_way->id,
		    json_str(in_way->step, "description") != NULL ? json_str(in_way->step, "description") : "",
		    json_str(wr.wave, "rollback") != NULL ? "; " : "",
		    json_str(wr.wave, "rollback") != NULL ? json_str(wr.wave, "rollback") : "", undone);
		goto done;
	}
	if ((rc = wave_set_status(r, idx, STORE_WAVE_ROLLED_BACK, err)) != 0)
		goto done;
	/*
	 * The gates keep their results: they say why the wave was rolled back
	 * (`status` shows them with their evidence).  Applying the wave again
	 * resets them before it starts (wave_forward).
	 */
	if (prove) {
		struct nw_err pe = { 0 };
		int prc = rollback_prove(r, &wr, &evidence, &pe);

		rc = journal(r, prc == 0 ? "rollback-proven" : "rollback-not-proven", idx, NULL,
		    json_incref(evidence), err);
		if (rc != 0)
			goto done;
		run_event(r, prc == 0 ? "rollback-proven" : "rollback-not-proven", json_pack("{s:s, s:O}",
		    "wave", wr.name, "evidence", evidence));
		if (prc != 0) {
			set_evidence(r, json_pack("{s:s, s:O}", "rollback", wr.name, "proof", evidence));
			*err = pe;
			rc = prc;
			goto done;
		}
	}
	if ((rc = history_wave(r, &wr, false, err)) != 0)
		goto done;
	r->res->waves_done++;
	run_event(r, "wave-rolled-back", json_pack("{s:s, s:i, s:I}", "wave", wr.name, "index", idx,
	    "steps", (json_int_t)undone));
done:
	json_decref(evidence);
	wave_run_clear(&wr);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Applying a wave */

static bool
wave_fresh(const struct wave_run *wr)
{
	size_t i;

	for (i = 0; i < wr->njobs; i++)
		if (wr->jobs[i].status == STORE_STEP_DONE || wr->jobs[i].status == STORE_STEP_STARTED)
			return false;
	return true;
}

/* A wave failed (a step or a gate): mark it, and roll it back when asked. */
static int
wave_failed(struct run *r, struct wave_run *wr, int rc, struct nw_err *err)
{
	struct nw_err first = *err, e2 = { 0 };
	int rrc;

	(void)store_wave_set_status(r->st, r->plan_id, wr->index, STORE_WAVE_FAILED, run_time(r), &e2);
	run_event(r, "wave-failed", json_pack("{s:s, s:i, s:s}", "wave", wr->name, "index", wr->index,
	    "error", first.msg));
	if (!r->o->auto_rollback || r->crashed)
		return rc;
	run_event(r, "auto-rollback", json_pack("{s:s}", "wave", wr->name));
	rrc = wave_rollback(r, wr->index, true, &e2);
	if (rrc != 0) {
		err_set(err, rrc == NW_EPARTIAL ? NW_EPARTIAL : NW_EFAIL, "%s; the automatic rollback of wave "
		    "%s did not complete: %s", first.msg, wr->name, e2.msg);
		return rrc == NW_EPARTIAL ? NW_EPARTIAL : NW_EFAIL;
	}
	r->res->rolled_back = true;
	err_set(err, rc, "%s; wave %s was rolled back and the way back proven", first.msg, wr->name);
	return rc;
}

static int
wave_forward(struct run *r, const json_t *wlist, int idx, struct nw_err *err)
{
	struct wave_run wr;
	const json_t *we = wave_entry(wlist, idx), *g;
	const char *wstatus = json_str(we, "status");
	size_t i;
	int rc;

	memset(&wr, 0, sizeof(wr));
	if (wstatus != NULL && strcmp(wstatus, "done") == 0)
		return 0;
	/*
	 * A new attempt judges its gates afresh; the reset comes before the
	 * soaks, whose results are this wave's own "before" soak gates.
	 */
	if ((wstatus == NULL || strcmp(wstatus, "running") != 0) &&
	    (rc = store_gate_reset(r->st, r->plan_id, idx, run_time(r), err)) != 0)
		return rc;
	if ((rc = soaks_before(r, wlist, idx, err)) != 0)
		return rc;
	if ((rc = wave_run_init(r, &wr, idx, STORE_FORWARD, err)) != 0)
		goto done;
	if ((rc = confirm_irreversible(r, &wr, err)) != 0)
		goto done;
	if (wave_fresh(&wr) && (rc = check_drift(r, &wr, err)) != 0)
		goto done;
	if (wstatus == NULL || strcmp(wstatus, "running") != 0) {
		if ((rc = wave_set_status(r, idx, STORE_WAVE_RUNNING, err)) != 0)
			goto done;
	}
	run_event(r, "wave-start", json_pack("{s:s, s:i, s:s, s:s, s:I, s:I}", "wave", wr.name, "index", idx,
	    "kind", json_str(wr.wave, "kind") != NULL ? json_str(wr.wave, "kind") : "", "direction",
	    "forward", "steps", (json_int_t)wr.njobs, "done", (json_int_t)wr.finished));
	if ((rc = jobs_run(&wr, err)) != 0)
		goto done;
	if (wave_failed_jobs(&wr, NULL) > 0) {
		if (r->res->evidence == NULL) {
			json_t *list = json_array();
			wave_failed_jobs(&wr, list);
			set_evidence(r, json_pack("{s:s, s:o}", "wave", wr.name, "failedSteps", list));
			rc = err_set(err, NW_EFAIL, "wave %s: %s", wr.name, first_error(&wr));
		} else {
			rc = err_set(err, NW_EFAIL, "wave %s: %s", wr.name, first_error(&wr));
		}
		rc = wave_failed(r, &wr, rc, err);
		goto done;
	}
	json_array_foreach(json_object_get(wr.wave, "gates"), i, g) {
		const char *kind = json_str(g, "kind"), *when = json_str(g, "when");
		json_t *evidence = NULL;

		if (kind == NULL || gate_kind_parse(kind) == GATE_SOAK || (when != NULL && strcmp(when, "after") != 0))
			continue;
		rc = gate_run(r, idx, g, &evidence, err);
		if (rc == NW_EFAIL) {
			set_evidence(r, evidence);
			err_prefix(err, "wave %s", wr.name);
			rc = wave_failed(r, &wr, rc, err);
			goto done;
		}
		json_decref(evidence);
		if (rc != 0)
			goto done;
	}
	if ((rc = history_wave(r, &wr, true, err)) != 0)
		goto done;
	if ((rc = wave_set_status(r, idx, STORE_WAVE_DONE, err)) != 0)
		goto done;
	r->res->waves_done++;
	run_event(r, "wave-done", json_pack("{s:s, s:i}", "wave", wr.name, "index", idx));
done:
	wave_run_clear(&wr);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Choosing the waves */

static bool
status_is(const json_t *we, const char *s)
{
	return json_str(we, "status") != NULL && strcmp(json_str(we, "status"), s) == 0;
}

static bool
touched(const json_t *we)
{
	return status_is(we, "done") || status_is(we, "running") || status_is(we, "failed") ||
	    json_integer_value(json_object_get(we, "stepsDone")) > 0;
}

static int
wave_names(const json_t *wlist, char *buf, size_t size)
{
	const json_t *w;
	size_t i, len = 0;

	buf[0] = '\0';
	json_array_foreach(wlist, i, w)
		if (len < size)
			len += (size_t)snprintf(buf + len, size - len, "%s%s", i > 0 ? ", " : "",
			    json_str(w, "name"));
	return 0;
}

/* first..last (inclusive) in the order to run; *none when there is nothing to do. */
static int
select_waves(struct run *r, const json_t *wlist, int *first, int *last, bool *none, struct nw_err *err)
{
	const struct apply_opts *o = r->o;
	int n = (int)json_array_size(wlist), named = -1, i;
	char names[1024];

	*none = false;
	if (o->scope == APPLY_WAVE || o->scope == APPLY_THROUGH) {
		named = wave_index_by_name(wlist, o->wave);
		if (named < 0) {
			wave_names(wlist, names, sizeof(names));
			return err_set(err, NW_EINPUT, "plan %s has no wave '%s'; its waves: %s", r->plan_id,
			    o->wave != NULL ? o->wave : "", names);
		}
	}
	if (o->direction == APPLY_FORWARD) {
		int next = -1;
		for (i = 0; i < n; i++)
			if (!status_is(wave_entry(wlist, i), "done")) {
				next = i;
				break;
			}
		if (o->scope == APPLY_THROUGH && o->direction == APPLY_FORWARD && next < 0)
			next = n;
		switch (o->scope) {
		case APPLY_NEXT:
			*first = *last = next;
			break;
		case APPLY_ALL:
			*first = next;
			*last = n - 1;
			break;
		case APPLY_THROUGH:
			*first = next;
			*last = named;
			break;
		case APPLY_WAVE:
			if (status_is(wave_entry(wlist, named), "done")) {
				*none = true;
				return 0;
			}
			if (next >= 0 && next < named)
				return err_set(err, NW_EINPUT, "wave %s cannot start before wave %s, which is %s; apply "
				    "it first (or use --through %s)", o->wave, json_str(wave_entry(wlist, next), "name"),
				    json_str(wave_entry(wlist, next), "status"), o->wave);
			*first = *last = named;
			break;
		}
		if (*first < 0 || *first > *last)
			*none = true;
		return 0;
	}
	if (o->scope == APPLY_THROUGH)
		return err_set(err, NW_EINPUT, "rollback takes --wave or --all, not --through");
	{
		int lastt = -1;
		for (i = n - 1; i >= 0; i--)
			if (touched(wave_entry(wlist, i))) {
				lastt = i;
				break;
			}
		switch (o->scope) {
		case APPLY_NEXT:
			*first = *last = lastt;
			break;
		case APPLY_ALL:
			*first = lastt;
			*last = 0;
			break;
		default:
			if (!touched(wave_entry(wlist, named))) {
				*none = true;
				return 0;
			}
			if (lastt > named)
				return err_set(err, NW_EINPUT, "wave %s cannot be rolled back while wave %s, after it, is "
				    "%s; roll that back first", o->wave, json_str(wave_entry(wlist, lastt), "name"),
				    json_str(wave_entry(wlist, lastt), "status"));
			*first = *last = named;
			break;
		}
		if (*first < 0)
			*none = true;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The run */

/* Waves first..last forward; *wlist is re-read between waves (the engine rewrites it). */
static int
run_forward(struct run *r, json_t **wlist, int first, int last, struct nw_err *err)
{
	const json_t *g, *pw;
	size_t k;
	int i, rc;

	for (i = first; i <= last; i++) {
		if (i > first) {
			json_decref(*wlist);
			*wlist = NULL;
			if ((rc = store_wave_list(r->st, r->plan_id, wlist, err)) != 0)
				return rc;
		}
		if ((rc = wave_forward(r, *wlist, i, err)) != 0)
			return rc;
	}
	/* the last wave's soak keeps the next from starting: say when it may */
	if (last + 1 >= (int)json_array_size(*wlist))
		return 0;
	pw = json_array_get(json_object_get(r->plan, "waves"), (size_t)last);
	json_array_foreach(json_object_get(pw, "gates"), k, g)
		if (gate_kind_parse(json_str(g, "kind")) == GATE_SOAK &&
		    (json_str(g, "when") == NULL || strcmp(json_str(g, "when"), "after") == 0)) {
			double scale = r->o->soak_scale > 0 ? r->o->soak_scale : 1;
			time_t until = run_time(r) + (time_t)ceil((double)json_integer_value(
			    json_path(g, "params", "seconds", NULL)) / scale);
			apply_time_format(r->res->soak_until, sizeof(r->res->soak_until), until);
			run_event(r, "soak-next", json_pack("{s:s, s:s}", "wave", json_str(pw, "name"),
			    "until", r->res->soak_until));
		}
	return 0;
}

/* Waves first down to last rolled back, each touched one confirmed when asked. */
static int
run_rollback(struct run *r, const json_t *wlist, int first, int last, struct nw_err *err)
{
	const struct apply_opts *o = r->o;
	int i, rc;

	for (i = first; i >= last; i--) {
		const char *name = json_str(wave_entry(wlist, i), "name");

		if (!touched(wave_entry(wlist, i)))
			continue;
		if (!o->yes && o->confirm != NULL) {
			char prompt[512];
			snprintf(prompt, sizeof(prompt), "roll back wave %s of plan %s: its steps are undone "
			    "in reverse order; type the wave name '%s' to go on: ", name, r->plan_id, name);
			if (!o->confirm(o->confirm_arg, prompt, name))
				return err_set(err, NW_EINPUT, "the rollback of wave %s was not confirmed; nothing "
				    "was changed", name);
		}
		if ((rc = wave_rollback(r, i, true, err)) != 0)
			return rc;
	}
	return 0;
}

int
apply_run(struct store *st, struct provider *p, const char *plan, const struct apply_opts *o,
    struct apply_result *res, struct nw_err *err)
{
	struct apply_result local;
	struct run r;
	json_t *wlist = NULL;
	long ttl = o->lease_ttl > 0 ? o->lease_ttl : APPLY_DEFAULT_LEASE_TTL;
	int first = -1, last = -1, rc;
	bool none = false, leased = false;

	if (res == NULL)
		res = &local;
	memset(res, 0, sizeof(*res));
	memset(&r, 0, sizeof(r));
	r.st = st;
	r.p = p;
	r.o = o;
	r.res = res;
	r.poll = o->poll_interval > 0 ? o->poll_interval : APPLY_DEFAULT_POLL;
	snprintf(r.owner, sizeof(r.owner), "%s", o->owner != NULL ? o->owner : "netwave");

	if ((rc = store_plan_get(st, plan, &r.plan, err)) != 0)
		goto done;
	r.plan_id = json_str(r.plan, "id");
	snprintf(res->plan_id, sizeof(res->plan_id), "%s", r.plan_id);
	if ((rc = store_lease_acquire(st, r.plan_id, r.owner, ttl, run_time(&r), err)) != 0)
		goto done;
	leased = true;
	r.lease_renewed = run_now(&r);
	if ((rc = store_wave_list(st, r.plan_id, &wlist, err)) != 0)
		goto done;
	if ((rc = select_waves(&r, wlist, &first, &last, &none, err)) != 0)
		goto done;
	run_event(&r, "run-start", json_pack("{s:s, s:i, s:i, s:I}", "direction",
	    o->direction == APPLY_FORWARD ? "forward" : "rollback", "first", none ? -1 : first, "last",
	    none ? -1 : last, "waves", (json_int_t)json_array_size(wlist)));
	if (none) {
		run_event(&r, "nothing-to-do", json_pack("{s:s}", "message", o->direction == APPLY_FORWARD ?
		    "every wave asked for is done" : "no wave asked for has anything to roll back"));
		goto done;
	}
	if (o->direction == APPLY_FORWARD && o->before_writes != NULL &&
	    (rc = o->before_writes(o->before_writes_arg, r.plan_id, err)) != 0)
		goto done;
	rc = o->direction == APPLY_FORWARD ? run_forward(&r, &wlist, first, last, err) :
	    run_rollback(&r, wlist, first, last, err);
done:
	if (r.crashed && rc == 0)
		rc = err_set(err, NW_EPARTIAL, "the run stopped dead (simulated crash)");
	if (leased && !r.crashed) {
		struct nw_err e2 = { 0 };
		if (store_lease_release(st, r.plan_id, r.owner, run_time(&r), &e2) != 0 && rc == 0) {
			*err = e2;
			rc = e2.code != 0 ? e2.code : NW_ELOCKED;
		}
	}
	if (r.plan_id != NULL)
		run_event(&r, "run-end", json_pack("{s:i, s:s?}", "status", rc, "message", rc != 0 ? err->msg :
		    NULL));
	topology_free(r.baseline);
	json_decref(r.nics);
	json_decref(r.migrated);
	json_decref(wlist);
	json_decref(r.plan);
	if (res == &local)
		apply_result_clear(&local);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The lease and the pump between reads */

int
run_lease_keep(struct run *r, struct nw_err *err)
{
	long ttl = r->o->lease_ttl > 0 ? r->o->lease_ttl : APPLY_DEFAULT_LEASE_TTL;
	double now = run_now(r);
	int rc;

	if (now - r->lease_renewed < (double)ttl / 3.0)
		return 0;
	rc = store_lease_renew(r->st, r->plan_id, r->owner, ttl, run_time(r), err);
	if (rc != 0)
		return rc;
	r->lease_renewed = now;
	return 0;
}

int
run_pump(struct run *r, const char *what, struct nw_err *err)
{
	int rc;

	if ((rc = provider_run(r->p, 0.5, err)) != 0 || (rc = run_lease_keep(r, err)) != 0)
		return rc;
	if (r->o->interrupt != NULL && *r->o->interrupt)
		return err_set(err, NW_EPARTIAL, "interrupted while %s", what);
	return 0;
}
