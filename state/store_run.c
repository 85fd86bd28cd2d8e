/*
 * A plan's run in the plan store: steps, waves and gates move through
 * their states, each move committed together with its journal event and
 * the plan's status; and the journal read back.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "plan/jsonutil.h"
#include "state/store_int.h"

/* ---- steps -------------------------------------------------------------- */

#define STEP_COLUMNS \
	"step_id, wave_idx, seq, procedure, action, resource, serialize_key, operation, inverse," \
	" irreversible, long_running, status, direction, attempts, last_error, poll_url," \
	" before_image, after_image, started_at, finished_at"

/* A step row (STEP_COLUMNS) as JSON. */
static const struct st_col step_cols[] = {
	{ "id", 's' }, { "wave", 'I' }, { "seq", 'I' }, { "procedure", 's' }, { "action", 's' },
	{ "resource", 's' }, { "serializeKey", 's' }, { "operation", 'j' }, { "inverse", 'j' },
	{ "irreversible", 'b' }, { "longRunning", 'b' }, { "status", 's' }, { "direction", 's' },
	{ "attempts", 'I' }, { "lastError", 's' }, { "pollUrl", 's' }, { "beforeImage", 'j' },
	{ "afterImage", 'j' }, { "startedAt", 't' }, { "finishedAt", 't' }, { NULL, 0 },
};

/* A table whose rows belong to a plan's waves: its list query (plan_id ?1, wave ?2 or all when negative) and columns. */
struct wave_rows {
	const char *sql;
	const struct st_col *cols;
	const char *what;  /* "steps" */
};

static const struct wave_rows step_rows = {
	"SELECT " STEP_COLUMNS " FROM steps WHERE plan_id = ?1 AND (?2 < 0 OR wave_idx = ?2)"
	" ORDER BY wave_idx, seq", step_cols, "steps",
};

/* What a transition needs to know about a step, read inside its transaction. */
struct step_state {
	bool found;
	int status;       /* enum store_step_status, -1 when unknown */
	bool rolling_back;
	bool irreversible;
	int wave_idx;
	long long attempts;
};

static void
step_state_fill(sqlite3_stmt *s, void *arg)
{
	struct step_state *ss = arg;
	const char *dir = (const char *)sqlite3_column_text(s, 1);

	ss->found = true;
	ss->status = st_step_status_parse((const char *)sqlite3_column_text(s, 0));
	ss->rolling_back = dir != NULL && strcmp(dir, "rollback") == 0;
	ss->irreversible = sqlite3_column_int(s, 2) != 0;
	ss->wave_idx = sqlite3_column_int(s, 3);
	ss->attempts = sqlite3_column_int64(s, 4);
}

static int
step_state_read(struct store *st, const char *plan_id, const char *step_id, struct step_state *ss)
{
	memset(ss, 0, sizeof(*ss));
	return st_read_row(st, step_state_fill, ss, &ss->found,
	    "SELECT status, direction, irreversible, wave_idx, attempts FROM steps"
	    " WHERE plan_id = ?1 AND step_id = ?2", "ss", plan_id, step_id);
}

/* The NW_EINPUT for a step that is not there, telling a missing plan from a missing step. */
static int
err_no_step(struct nw_err *err, struct store *st, const char *plan_id, const char *step_id)
{
	bool found = false;

	if (st_plan_exists(st, plan_id, &found) == SQLITE_OK && !found)
		return st_err_no_plan(err, st, plan_id);
	return err_set(err, NW_EINPUT, "no step '%s' in plan %s", step_id, plan_id);
}

static int
err_step_state(struct nw_err *err, const char *doing, const char *step_id, const char *plan_id,
    const struct step_state *ss, const char *why)
{
	return err_set(err, NW_EINPUT, "cannot %s step %s of plan %s: it is %s%s%s", doing, step_id,
	    plan_id, store_step_status_name((enum store_step_status)ss->status),
	    ss->status == STORE_STEP_STARTED && ss->rolling_back ? " (rolling back)" : "", why);
}

/* A step move's SQLite failure: "cannot <doing> step S of plan P in plan store ...". */
static int
err_step_sqlite(struct nw_err *err, struct store *st, int rc, const char *doing, const char *step_id,
    const char *plan_id)
{
	return st_err_sqlite(err, st, rc, "cannot %s step %s of plan %s", doing, step_id, plan_id);
}

/*
 * Every step move starts here: the transaction begun (the caller ends it
 * with st_tx_rollback, a no-op after a commit) and the step's state read.
 */
static int
step_begin(struct store *st, const char *plan_id, const char *step_id, struct step_state *ss,
    const char *doing, struct nw_err *err)
{
	int rc = st_tx_begin(st);

	if (rc == SQLITE_OK)
		rc = step_state_read(st, plan_id, step_id, ss);
	if (rc != SQLITE_OK)
		return err_step_sqlite(err, st, rc, doing, step_id, plan_id);
	if (!ss->found)
		return err_no_step(err, st, plan_id, step_id);
	return 0;
}

/* The event's detail with image under "image" when with_image (and there is one); NULL when out of memory. */
static json_t *
detail_with_image(json_t *detail, bool with_image, const json_t *image)
{
	if (detail != NULL && with_image && image != NULL &&
	    json_object_set(detail, "image", (json_t *)image) != 0) {
		json_decref(detail);
		return NULL;
	}
	return detail;
}

/*
 * And ends here: the journal event with detail (stolen; NULL when building
 * it ran out of memory), the plan's status worked out again when refresh,
 * and the commit.
 */
static int
step_commit(struct store *st, const char *plan_id, const char *step_id, const struct step_state *ss,
    time_t now, const char *event, json_t *detail, bool refresh, const char *doing, struct nw_err *err)
{
	int rc;

	if (detail == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	rc = st_journal_commit(st, plan_id, now, event, ss->wave_idx, step_id, detail, refresh);
	json_decref(detail);
	if (rc != SQLITE_OK)
		return err_step_sqlite(err, st, rc, doing, step_id, plan_id);
	return 0;
}

int
store_step_start(struct store *st, const char *plan_id, const char *step_id,
    enum store_direction dir, const json_t *image, const char *poll_url, time_t now,
    struct nw_err *err)
{
	struct step_state ss;
	int rc, ret, image_mode;

	if (dir != STORE_FORWARD && dir != STORE_ROLLBACK)
		return err_set(err, NW_EINPUT, "cannot start step %s of plan %s: no such direction %d",
		    step_id, plan_id, (int)dir);
	if ((ret = step_begin(st, plan_id, step_id, &ss, "start", err)) != 0)
		goto done;
	if (dir == STORE_FORWARD) {
		if (ss.status == STORE_STEP_DONE ||
		    (ss.status == STORE_STEP_STARTED && ss.rolling_back) || ss.status < 0) {
			ret = err_step_state(err, "start", step_id, plan_id, &ss, "");
			goto done;
		}
		/*
		 * 1: a fresh before-image; 2: keep the one from an earlier
		 * attempt, the state before anything was sent.
		 */
		image_mode = ss.status == STORE_STEP_FAILED || ss.status == STORE_STEP_STARTED ? 2 : 1;
	} else {
		if (ss.irreversible) {
			ret = err_set(err, NW_EINPUT,
			    "cannot roll back step %s of plan %s: it is irreversible, its change cannot be undone",
			    step_id, plan_id);
			goto done;
		}
		if (ss.status != STORE_STEP_DONE && ss.status != STORE_STEP_FAILED &&
		    ss.status != STORE_STEP_STARTED) {
			ret = err_step_state(err, "roll back", step_id, plan_id, &ss, ": nothing to undo");
			goto done;
		}
		image_mode = 0;
	}

	rc = st_exec(st,
	    "UPDATE steps SET status = 'started', direction = ?3, attempts = attempts + 1,"
	    " poll_url = ?4, started_at = ?5, finished_at = NULL,"
	    " before_image = CASE ?6 WHEN 1 THEN ?7 WHEN 2 THEN coalesce(before_image, ?7)"
	    "  ELSE before_image END"
	    " WHERE plan_id = ?1 AND step_id = ?2",
	    "ssssIij", plan_id, step_id, store_direction_name(dir), poll_url,
		    (sqlite3_int64)now, image_mode, image);
	if (rc != SQLITE_OK)
		ret = err_step_sqlite(err, st, rc, "start", step_id, plan_id);
	else
		ret = step_commit(st, plan_id, step_id, &ss, now, "step-started",
		    detail_with_image(json_pack("{s:s, s:I, s:s?}", "direction", store_direction_name(dir),
		    "attempt", (json_int_t)(ss.attempts + 1), "pollUrl", poll_url), dir == STORE_ROLLBACK,
		    image), true, "start", err);
done:
	st_tx_rollback(st);
	return ret;
}

int
store_step_set_poll_url(struct store *st, const char *plan_id, const char *step_id,
    const char *poll_url, time_t now, struct nw_err *err)
{
	const char *doing = "record the poll url of";
	struct step_state ss;
	int rc, ret;

	if ((ret = step_begin(st, plan_id, step_id, &ss, doing, err)) != 0)
		goto done;
	if (ss.status != STORE_STEP_STARTED) {
		ret = err_step_state(err, doing, step_id, plan_id, &ss, ", not started");
		goto done;
	}
	rc = st_exec(st, "UPDATE steps SET poll_url = ?3 WHERE plan_id = ?1 AND step_id = ?2",
	    "sss", plan_id, step_id, poll_url);
	if (rc != SQLITE_OK)
		ret = err_step_sqlite(err, st, rc, doing, step_id, plan_id);
	else
		ret = step_commit(st, plan_id, step_id, &ss, now, "step-polling",
		    json_pack("{s:s?}", "pollUrl", poll_url), false, doing, err);
done:
	st_tx_rollback(st);
	return ret;
}

/* Whether finish(status) may follow the state ss; *why explains a refusal. */
static bool
step_finish_allowed(const struct step_state *ss, enum store_step_status status, const char **why)
{
	bool started = ss->status == STORE_STEP_STARTED;

	*why = "";
	switch (status) {
	case STORE_STEP_DONE:
		*why = started ? ", not applying" : ", not started";
		return started && !ss->rolling_back;
	case STORE_STEP_ROLLED_BACK:
		*why = started ? ", not rolling back" : ", not started";
		return started && ss->rolling_back;
	case STORE_STEP_FAILED:
		*why = ", not started";
		return started;
	case STORE_STEP_SKIPPED:
		return ss->status == STORE_STEP_PENDING || ss->status == STORE_STEP_FAILED ||
		    ss->status == STORE_STEP_ROLLED_BACK || (started && !ss->rolling_back);
	default:
		return false;
	}
}

int
store_step_finish(struct store *st, const char *plan_id, const char *step_id,
    enum store_step_status status, const json_t *image, const char *error, time_t now,
    struct nw_err *err)
{
	struct step_state ss;
	const char *why;
	char event[32];
	int rc, ret;

	if (status != STORE_STEP_DONE && status != STORE_STEP_FAILED &&
	    status != STORE_STEP_ROLLED_BACK && status != STORE_STEP_SKIPPED)
		return err_set(err, NW_EINPUT, "cannot finish step %s of plan %s as '%s'", step_id, plan_id,
		    store_step_status_name(status));
	if ((ret = step_begin(st, plan_id, step_id, &ss, "finish", err)) != 0)
		goto done;
	if (!step_finish_allowed(&ss, status, &why)) {
		char doing[64];

		snprintf(doing, sizeof(doing), "mark %s", store_step_status_name(status));
		ret = err_step_state(err, doing, step_id, plan_id, &ss, why);
		goto done;
	}
	rc = st_exec(st,
	    "UPDATE steps SET status = ?3, last_error = ?4, finished_at = ?5,"
	    " after_image = CASE WHEN ?6 THEN ?7 ELSE after_image END"
	    " WHERE plan_id = ?1 AND step_id = ?2",
	    "ssssIij", plan_id, step_id, store_step_status_name(status), error,
		    (sqlite3_int64)now, status == STORE_STEP_DONE, image);
	if (rc != SQLITE_OK) {
		ret = err_step_sqlite(err, st, rc, "finish", step_id, plan_id);
		goto done;
	}
	snprintf(event, sizeof(event), "step-%s", store_step_status_name(status));
	ret = step_commit(st, plan_id, step_id, &ss, now, event,
	    detail_with_image(json_pack("{s:s, s:I, s:s?}", "direction",
	    ss.rolling_back && ss.status != STORE_STEP_PENDING ? "rollback" : "forward", "attempt",
	    (json_int_t)ss.attempts, "error", error), status == STORE_STEP_ROLLED_BACK, image), true,
	    "finish", err);
done:
	st_tx_rollback(st);
	return ret;
}

int
store_step_get(struct store *st, const char *plan_id, const char *step_id, json_t **out,
    struct nw_err *err)
{
	const struct st_query q = {
		"SELECT " STEP_COLUMNS " FROM steps WHERE plan_id = ?1 AND step_id = ?2", step_cols, NULL, NULL,
	};
	json_t *rows = NULL;
	char doing[400];
	int ret;

	*out = NULL;
	snprintf(doing, sizeof(doing), "cannot read step %s of plan %s", step_id, plan_id);
	ret = st_list(st, &q, doing, &rows, err, "ss", plan_id, step_id);
	if (ret == 0 && json_array_size(rows) == 0)
		ret = err_no_step(err, st, plan_id, step_id);
	else if (ret == 0)
		*out = json_incref(json_array_get(rows, 0));
	json_decref(rows);
	return ret;
}

/* NW_EINPUT unless the plan (and, for wave_idx >= 0, the wave) exists. */
int
st_check_plan_wave(struct store *st, const char *plan_id, int wave_idx, const char *doing,
    struct nw_err *err)
{
	bool found = false;
	int rc = st_plan_exists(st, plan_id, &found);

	if (rc == SQLITE_OK && !found)
		return st_err_no_plan(err, st, plan_id);
	if (rc == SQLITE_OK && wave_idx >= 0)
		rc = st_read_row(st, NULL, NULL, &found, "SELECT 1 FROM waves WHERE plan_id = ?1 AND idx = ?2",
		    "si", plan_id, wave_idx);
	if (rc != SQLITE_OK)
		return st_err_sqlite(err, st, rc, "cannot %s of plan %s", doing, plan_id);
	if (!found)
		return err_set(err, NW_EINPUT, "no wave %d in plan %s", wave_idx, plan_id);
	return 0;
}

/*
 * The rows of one table (steps or gates) of a plan, of one wave or of all
 * (wave_idx < 0), in wave order: what store_step_list and store_gate_list
 * share.  The table's query selects plan_id = ?1 and wave ?2.
 */
static int
list_wave_rows(struct store *st, const char *plan_id, int wave_idx, const struct wave_rows *t,
    json_t **out, struct nw_err *err)
{
	const struct st_query q = { t->sql, t->cols, NULL, NULL };
	char doing[400];
	int ret;

	*out = NULL;
	snprintf(doing, sizeof(doing), "list the %s", t->what);
	ret = st_check_plan_wave(st, plan_id, wave_idx, doing, err);
	if (ret != 0)
		return ret;
	snprintf(doing, sizeof(doing), "cannot list the %s of plan %s", t->what, plan_id);
	return st_list(st, &q, doing, out, err, "si", plan_id, wave_idx);
}

int
store_step_list(struct store *st, const char *plan_id, int wave_idx, json_t **out,
    struct nw_err *err)
{
	return list_wave_rows(st, plan_id, wave_idx, &step_rows, out, err);
}

/* ---- waves -------------------------------------------------------------- */

/*
 * A change to a wave starts here: the transaction begun (*rc: SQLite's
 * answer; the caller ends it with st_tx_end) and the plan and the wave
 * checked (the error they make is returned).
 */
static int
wave_tx_begin(struct store *st, const char *plan_id, int wave_idx, const char *doing, int *rc,
    struct nw_err *err)
{
	*rc = st_tx_begin(st);
	return *rc == SQLITE_OK ? st_check_plan_wave(st, plan_id, wave_idx, doing, err) : 0;
}

int
store_wave_set_status(struct store *st, const char *plan_id, int wave_idx,
    enum store_wave_status status, time_t now, struct nw_err *err)
{
	sqlite3_stmt *s = NULL;
	char event[32];
	const char *name = store_wave_status_name(status);
	int rc, ret;

	if ((unsigned)status > STORE_WAVE_ROLLED_BACK)
		return err_set(err, NW_EINPUT, "cannot set wave %d of plan %s to status %d", wave_idx,
		    plan_id, (int)status);
	ret = wave_tx_begin(st, plan_id, wave_idx, "set the status of a wave", &rc, err);
	if (ret != 0 || rc != SQLITE_OK)
		goto done;

	if (status == STORE_WAVE_DONE || status == STORE_WAVE_ROLLED_BACK) {
		/* a wave is done or rolled back only when its steps agree */
		rc = st_query_row(st, &s,
		    "SELECT step_id, status FROM steps WHERE plan_id = ?1 AND wave_idx = ?2 AND"
		    " CASE ?3 WHEN 'done' THEN status NOT IN ('done', 'skipped')"
		    " ELSE status IN ('done', 'started') END ORDER BY seq LIMIT 1",
		    "sis", plan_id, wave_idx, name);
		if (rc == SQLITE_ROW) {
			ret = err_set(err, NW_EINPUT, "cannot mark wave %d of plan %s %s: step %s is %s",
			    wave_idx, plan_id, name, (const char *)sqlite3_column_text(s, 0),
			    (const char *)sqlite3_column_text(s, 1));
			goto done;
		}
		if (rc != SQLITE_DONE)
			goto done;
		sqlite3_finalize(s);
		s = NULL;
	}

	rc = st_exec(st,
	    "UPDATE waves SET status = ?3,"
	    " started_at = CASE ?3 WHEN 'running' THEN ?4 WHEN 'pending' THEN NULL ELSE started_at END,"
	    " finished_at = CASE WHEN ?3 IN ('running', 'pending') THEN NULL ELSE ?4 END"
	    " WHERE plan_id = ?1 AND idx = ?2",
	    "sisI", plan_id, wave_idx, name, (sqlite3_int64)now);
	if (rc == SQLITE_OK) {
		snprintf(event, sizeof(event), "wave-%s", name);
		rc = st_journal_commit(st, plan_id, now, event, wave_idx, NULL, NULL, true);
	}
done:
	sqlite3_finalize(s);
	return st_tx_end(st, ret, rc, err, "cannot set wave %d of plan %s to %s", wave_idx, plan_id, name);
}

#define GATE_COLUMNS \
	"gate_id, wave_idx, kind, params, budget, status, last_result, failures, inconclusive," \
	" errors, checked_at"

static const struct st_col gate_cols[] = {
	{ "id", 's' }, { "wave", 'I' }, { "kind", 's' }, { "params", 'j' }, { "budget", 'j' },
	{ "status", 's' }, { "lastResult", 'j' }, { "failures", 'I' }, { "inconclusive", 'I' },
	{ "errors", 'I' }, { "checkedAt", 't' }, { NULL, 0 },
};

static const struct wave_rows gate_rows = {
	"SELECT " GATE_COLUMNS " FROM gates WHERE plan_id = ?1 AND (?2 < 0 OR wave_idx = ?2)"
	" ORDER BY wave_idx, seq", gate_cols, "gates",
};

int
store_gate_list(struct store *st, const char *plan_id, int wave_idx, json_t **out,
    struct nw_err *err)
{
	return list_wave_rows(st, plan_id, wave_idx, &gate_rows, out, err);
}

static const struct st_col wave_cols[] = {
	{ "index", 'I' }, { "name", 's' }, { "kind", 's' }, { "soakSeconds", 'I' }, { "status", 's' },
	{ "startedAt", 't' }, { "finishedAt", 't' }, { "steps", 'I' }, { "stepsDone", 'I' }, { NULL, 0 },
};

/* A wave row (wave_cols) with its gates, from arg: every gate of the plan. */
static json_t *
wave_json(sqlite3_stmt *s, void *arg)
{
	json_t *gates = arg, *g;
	json_t *w = json_object(), *wg = json_array(), *rest = st_row_json(s, 0, wave_cols);
	json_int_t idx = sqlite3_column_int64(s, 0);
	size_t i;
	bool ok = w != NULL && rest != NULL && st_obj_put(w, "gates", json_incref(wg)) &&
	    json_object_update(w, rest) == 0;

	json_array_foreach(gates, i, g)
		if (ok && json_integer_value(json_object_get(g, "wave")) == idx)
			ok = json_array_append(wg, g) == 0;
	json_decref(wg);
	json_decref(rest);
	if (!ok) {
		json_decref(w);
		return NULL;
	}
	return w;
}

int
store_wave_list(struct store *st, const char *plan_id, json_t **out, struct nw_err *err)
{
	struct st_query q = {
		"SELECT w.idx, w.name, w.kind, w.soak_seconds, w.status, w.started_at, w.finished_at,"
		" (SELECT count(*) FROM steps s WHERE s.plan_id = w.plan_id AND s.wave_idx = w.idx),"
		" (SELECT count(*) FROM steps s WHERE s.plan_id = w.plan_id AND s.wave_idx = w.idx"
		"  AND s.status = 'done')"
		" FROM waves w WHERE w.plan_id = ?1 ORDER BY w.idx", NULL, wave_json, NULL,
	};
	json_t *gates = NULL;
	char doing[300];
	int ret;

	*out = NULL;
	ret = store_gate_list(st, plan_id, -1, &gates, err);
	if (ret != 0)
		return ret;
	q.arg = gates;
	snprintf(doing, sizeof(doing), "cannot list the waves of plan %s", plan_id);
	ret = st_list(st, &q, doing, out, err, "s", plan_id);
	json_decref(gates);
	return ret;
}

/* ---- gates -------------------------------------------------------------- */

int
store_gate_record(struct store *st, const char *plan_id, const char *gate_id,
    enum store_gate_outcome outcome, const json_t *result, time_t now, struct nw_err *err)
{
	sqlite3_stmt *s = NULL;
	json_t *detail = NULL;
	char event[32];
	const char *name = store_gate_outcome_name(outcome);
	int rc, ret = 0, wave_idx;
	bool found = false;

	if ((unsigned)outcome > STORE_GATE_ERROR)
		return err_set(err, NW_EINPUT, "cannot record gate %s of plan %s: no such outcome %d",
		    gate_id, plan_id, (int)outcome);
	rc = st_tx_begin(st);
	if (rc == SQLITE_OK)
		rc = st_query_row(st, &s, "SELECT wave_idx FROM gates WHERE plan_id = ?1 AND gate_id = ?2",
		    "ss", plan_id, gate_id);
	if (rc == SQLITE_DONE) {
		/* finalized first: finalizing a statement that ran clears the connection's error */
		sqlite3_finalize(s);
		s = NULL;
		rc = st_plan_exists(st, plan_id, &found);
		if (rc == SQLITE_OK)
			ret = found ? err_set(err, NW_EINPUT, "no gate '%s' in plan %s", gate_id, plan_id) :
				      st_err_no_plan(err, st, plan_id);
		goto done;
	}
	if (rc != SQLITE_ROW)
		goto done;
	wave_idx = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	s = NULL;

	rc = st_exec(st,
	    "UPDATE gates SET status = ?3, last_result = ?4, checked_at = ?5,"
	    " failures = failures + (?3 = 'failed'),"
	    " inconclusive = inconclusive + (?3 = 'inconclusive'),"
	    " errors = errors + (?3 = 'error')"
	    " WHERE plan_id = ?1 AND gate_id = ?2",
	    "sssjI", plan_id, gate_id, name, result, (sqlite3_int64)now);
	if (rc != SQLITE_OK)
		goto done;
	detail = json_pack("{s:s, s:O?}", "gate", gate_id, "result", (json_t *)result);
	if (detail == NULL) {
		ret = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	snprintf(event, sizeof(event), "gate-%s", name);
	rc = st_journal_commit(st, plan_id, now, event, wave_idx, NULL, detail, false);
done:
	sqlite3_finalize(s);
	json_decref(detail);
	return st_tx_end(st, ret, rc, err, "cannot record gate %s of plan %s", gate_id, plan_id);
}

int
store_gate_reset(struct store *st, const char *plan_id, int wave_idx, time_t now,
    struct nw_err *err)
{
	int rc, ret;

	if (wave_idx < 0)
		return err_set(err, NW_EINPUT, "cannot reset gates of plan %s: no wave given", plan_id);
	ret = wave_tx_begin(st, plan_id, wave_idx, "reset the gates", &rc, err);
	if (ret != 0 || rc != SQLITE_OK)
		goto done;
	rc = st_exec(st,
	    "UPDATE gates SET status = 'pending', last_result = NULL, failures = 0, inconclusive = 0,"
	    " errors = 0, checked_at = NULL WHERE plan_id = ?1 AND wave_idx = ?2",
	    "si", plan_id, wave_idx);
	if (rc == SQLITE_OK)
		rc = st_journal_commit(st, plan_id, now, "gates-reset", wave_idx, NULL, NULL, false);
done:
	return st_tx_end(st, ret, rc, err, "cannot reset the gates of wave %d of plan %s", wave_idx,
	    plan_id);
}

/* ---- journal ------------------------------------------------------------ */

int
store_journal_append(struct store *st, const char *plan_id, const char *event, int wave_idx,
    const char *step_id, const json_t *detail, time_t now, struct nw_err *err)
{
	bool found = false;
	int rc, ret = 0;

	if (event == NULL || event[0] == '\0')
		return err_set(err, NW_EINPUT, "cannot journal for plan %s: no event name", plan_id);
	rc = st_tx_begin(st);
	if (rc == SQLITE_OK)
		rc = st_plan_exists(st, plan_id, &found);
	if (rc == SQLITE_OK && !found)
		ret = st_err_no_plan(err, st, plan_id);
	else if (rc == SQLITE_OK)
		rc = st_journal_commit(st, plan_id, now, event, wave_idx, step_id, detail, false);
	return st_tx_end(st, ret, rc, err, "cannot journal %s for plan %s", event, plan_id);
}

static const struct st_col journal_cols[] = {
	{ "seq", 'I' }, { "at", 't' }, { "event", 's' }, { "wave", 'N' }, { "step", 's' }, { "detail", 'j' },
	{ NULL, 0 },
};

int
store_journal_list(struct store *st, const char *plan_id, json_t **out, struct nw_err *err)
{
	const struct st_query q = {
		"SELECT seq, at, event, wave_idx, step_id, detail FROM journal WHERE plan_id = ?1 ORDER BY seq",
		journal_cols, NULL, NULL,
	};
	char doing[300];
	int ret;

	*out = NULL;
	ret = st_check_plan_wave(st, plan_id, -1, "read the journal", err);
	if (ret != 0)
		return ret;
	snprintf(doing, sizeof(doing), "cannot read the journal of plan %s", plan_id);
	return st_list(st, &q, doing, out, err, "s", plan_id);
}
