/*
 * The steps of one wave, carried out concurrently (state/apply/internal.h).
 * Each step is a job with a small state machine: read the state it
 * changes (the before-image), journal "started" and commit, send the
 * write through the provider, journal the poll URL the moment ARM names
 * it, follow it to its end, read the state after it and check it is what
 * the step promised, journal "done" with the after-image.  Rollback runs
 * the inverses the same way, in reverse dependency order.
 *
 * Up to opts->parallel jobs run at once; jobs sharing a serializeKey
 * (one VNet and its children, one network manager, one circuit) never
 * run together, and a job waits for the steps it depends on.  Throttling
 * (429) is parked by the provider; a throttle or conflict that outlasts
 * it reschedules the job instead of failing it.
 *
 * A job found "started" (a crash) is reconciled: the journaled
 * long-running operation is resumed without resending; PUT and DELETE
 * are sent again (ARM allows it); a POST action is settled by reading
 * its state and comparing it with the state journaled just before it was
 * sent, so it is sent again only when it provably never arrived.
 *
 * Provider callbacks only set flags; the main loop does the work, so a
 * callback never re-enters the store or the provider.  The exception is
 * the "accepted" callback, which journals the poll URL at once.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "plan/json_own.h"
#include "plan/jsonutil.h"
#include "state/apply/internal.h"

#define TICK_SECONDS 0.5
#define INTERRUPT_GRACE 5.0

static void job_fail(struct job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void job_send(struct job *j);
static void job_rollback_start(struct job *j);
static void job_forward_start(struct job *j);

static const json_t *
job_op(const struct job *j)
{
	return json_object_get(j->step, j->dir == STORE_FORWARD ? "operation" : "inverse");
}

static const json_t *
job_expect(const struct job *j)
{
	return j->dir == STORE_FORWARD ? json_object_get(j->step, "expect") : NULL;
}

static const char *
job_method(const struct job *j)
{
	const char *m = json_str(job_op(j), "method");

	return m != NULL ? m : "NONE";
}

static bool
job_running(const struct job *j)
{
	return j->phase != JP_WAITING && j->phase != JP_FINISHED;
}

static void
job_event(struct job *j, const char *name, json_t *extra)
{
	json_t *ev = extra != NULL ? extra : json_object();

	json_object_set_new(ev, "wave", json_string(j->wr->name));
	json_object_set_new(ev, "step", json_string(j->id));
	json_object_set_new(ev, "direction", json_string(j->dir == STORE_FORWARD ? "forward" : "rollback"));
	run_event(j->r, name, ev);
}

/* A store write failed: the run cannot go on. */
static void
job_store_failed(struct job *j, int rc, const struct nw_err *e)
{
	run_fail(j->r, rc, e);
	j->phase = JP_FINISHED;
	j->success = false;
	snprintf(j->error, sizeof(j->error), "%s", e->msg);
	j->wr->stop = true;
	j->wr->finished++;
}

/* After a journal write: false (and the job stops) when the run must stop dead. */
static bool
job_wrote(struct job *j)
{
	if (run_wrote(j->r)) {
		j->wr->stop = true;
		return false;
	}
	return true;
}

static void
job_finish(struct job *j, bool ok)
{
	if (j->phase == JP_FINISHED)
		return;
	j->phase = JP_FINISHED;
	j->success = ok;
	j->wr->finished++;
	if (j->wr->running > 0)
		j->wr->running--;
	json_decref(j->image);
	j->image = NULL;
}

/*
 * Records how the step ended in the store and counts the write: true when
 * the job goes on, false when it has been finished instead (the store
 * failed, or the simulated crash came).
 */
static bool
job_record_end(struct job *j, enum store_step_status status, const json_t *image, const char *why)
{
	struct nw_err e = { 0 };
	int rc = store_step_finish(j->r->st, j->r->plan_id, j->id, status, image, why, run_time(j->r), &e);

	if (rc != 0) {
		job_store_failed(j, rc, &e);
		return false;
	}
	j->status = status;
	if (!job_wrote(j)) {
		job_finish(j, false);
		return false;
	}
	return true;
}

static void
job_fail(struct job *j, const char *fmt, ...)
{
	struct nw_err e = { 0 };
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(j->error, sizeof(j->error), fmt, ap);
	va_end(ap);
	if (j->r->crashed || j->r->fatal != 0) {
		job_finish(j, false);
		return;
	}
	if (j->status == STORE_STEP_STARTED) {
		if (!job_record_end(j, STORE_STEP_FAILED, NULL, j->error))
			return;
	} else {
		json_t *detail = json_pack("{s:s}", "error", j->error);
		rc = store_journal_append(j->r->st, j->r->plan_id, "step-not-started", j->wr->index, j->id,
		    detail, run_time(j->r), &e);
		json_decref(detail);
		if (rc != 0) {
			job_store_failed(j, rc, &e);
			return;
		}
		(void)job_wrote(j);
	}
	j->r->res->steps_failed++;
	j->wr->stop = true;
	job_event(j, "step-failed", json_pack("{s:s}", "error", j->error));
	job_finish(j, false);
}

/* Ends a job well: "done" forward, "rolled-back" backward, with the image. */
static void
job_succeed(struct job *j, const json_t *image, const char *how, bool changed)
{
	enum store_step_status s = j->dir == STORE_FORWARD ? STORE_STEP_DONE : STORE_STEP_ROLLED_BACK;

	if (!job_record_end(j, s, image, NULL))
		return;
	if (changed)
		j->r->res->steps_done++;
	else
		j->r->res->steps_skipped++;
	job_event(j, j->dir == STORE_FORWARD ? "step-done" : "step-rolled-back",
	    json_pack("{s:f, s:s?}", "seconds", run_now(j->r) - j->started_at, "how", how));
	job_finish(j, true);
}

static void
op_done_cb(struct provider_op *op, void *arg)
{
	(void)op;
	((struct job *)arg)->op_finished = true;
}

/* ARM named the poll URL: journal the operation's state before anything else happens. */
static void
op_accepted_cb(struct provider_op *op, void *arg)
{
	struct job *j = arg;
	struct nw_err e = { 0 };
	json_t *state, *detail;
	int rc;

	if (j->r->crashed || j->r->fatal != 0)
		return;
	state = provider_op_state(op);
	detail = json_pack("{s:s, s:I, s:o?}", "direction", j->dir == STORE_FORWARD ? "forward" :
	    "rollback", "attempt", (json_int_t)j->attempts, "state", state);
	rc = store_journal_append(j->r->st, j->r->plan_id, "op-accepted", j->wr->index, j->id, detail,
	    run_time(j->r), &e);
	json_decref(detail);
	if (rc != 0) {
		run_fail(j->r, rc, &e);
		return;
	}
	if (run_wrote(j->r))
		return;
	if (op->poll_url != NULL) {
		rc = store_step_set_poll_url(j->r->st, j->r->plan_id, j->id, op->poll_url, run_time(j->r), &e);
		if (rc != 0) {
			run_fail(j->r, rc, &e);
			return;
		}
		(void)run_wrote(j->r);
	}
}

static bool
job_submit(struct job *j, struct provider_op *op, enum job_op what)
{
	struct nw_err e = { 0 };

	if (op == NULL) {
		job_fail(j, "out of memory");
		return false;
	}
	op->done = op_done_cb;
	op->done_arg = j;
	j->op = op;
	j->op_for = what;
	j->op_finished = false;
	if (provider_submit(j->r->p, op, &e) != 0) {
		j->op = NULL;
		provider_op_free(op);
		job_fail(j, "%s", e.msg);
		return false;
	}
	return true;
}

static void
job_read_state(struct job *j, enum job_op what, bool alt)
{
	/* alt: the gateway a committed migration made, as apply found it (apply_gateway.c) */
	char *other = alt ? gateway_migrated_id(j->r, j->resource) : NULL;

	j->reading_alt = alt;
	job_submit(j, state_read_op(job_op(j), other != NULL ? other : j->resource), what);
	free(other);
}

/* ------------------------------------------------------------------ */
/* Readiness */

static bool
same_key(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcasecmp(a, b) == 0;
}

static struct job *
find_job(struct wave_run *wr, const char *id)
{
	size_t i;

	for (i = 0; i < wr->njobs; i++)
		if (strcmp(wr->jobs[i].id, id) == 0)
			return &wr->jobs[i];
	return NULL;
}

static bool
job_ready(struct job *j, double now)
{
	struct wave_run *wr = j->wr;
	const json_t *d;
	size_t i;

	if (j->not_before > now)
		return false;
	for (i = 0; i < wr->njobs; i++) {
		struct job *o = &wr->jobs[i];
		if (o != j && job_running(o) && same_key(o->skey, j->skey))
			return false;
	}
	if (j->dir == STORE_FORWARD && !j->then_rollback) {
		json_array_foreach(json_object_get(j->step, "dependsOn"), i, d) {
			struct job *dep = json_is_string(d) ? find_job(wr, json_string_value(d)) : NULL;
			if (dep != NULL && (dep->phase != JP_FINISHED || !dep->success || !dep->gates_done))
				return false;
		}
	} else {
		/* an inverse waits for the inverses of every step that depends on it */
		for (i = 0; i < wr->njobs; i++) {
			struct job *o = &wr->jobs[i];
			const json_t *deps = json_object_get(o->step, "dependsOn");
			size_t k;
			if (o == j || o->phase == JP_FINISHED)
				continue;
			json_array_foreach(deps, k, d)
				if (json_is_string(d) && strcmp(json_string_value(d), j->id) == 0)
					return false;
		}
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* Sending */

static void job_settle_without_sending(struct job *j, const char *how);

/*
 * Marks the step started in the store (journaled) and counts the attempt;
 * false when the job has ended instead (a refused start fails the step, a
 * store failure or a crash point stops the run).
 */
static bool
job_store_start(struct job *j)
{
	struct nw_err e = { 0 };
	int rc = store_step_start(j->r->st, j->r->plan_id, j->id, j->dir, j->pre, NULL, run_time(j->r), &e);

	if (rc != 0) {
		if (rc == NW_EINPUT)
			job_fail(j, "%s", e.msg);
		else
			job_store_failed(j, rc, &e);
		return false;
	}
	j->status = STORE_STEP_STARTED;
	j->stored_dir = j->dir;
	j->attempts++;
	if (!job_wrote(j)) {
		job_finish(j, false);
		return false;
	}
	return true;
}

static void
job_send(struct job *j)
{
	struct nw_err e = { 0 };
	const json_t *op = job_op(j);
	const char *m = job_method(j);
	char *path, why[1024];
	struct provider_op *w;
	int rc;

	if (j->r->crashed || j->r->fatal != 0) {
		job_finish(j, false);
		return;
	}
	if (j->dir == STORE_FORWARD && apply_operation_unneeded(j, why, sizeof(why))) {
		job_settle_without_sending(j, why);
		return;
	}
	if (action_op_is_post(op) && j->dir == STORE_FORWARD) {
		/* the state just before this attempt: how a crash tells whether it arrived */
		json_t *detail = json_pack("{s:s, s:I, s:O?}", "direction", "forward", "attempt",
		    (json_int_t)(j->attempts + 1), "image", j->pre);
		rc = store_journal_append(j->r->st, j->r->plan_id, "pre-send", j->wr->index, j->id, detail,
		    run_time(j->r), &e);
		json_decref(detail);
		if (rc != 0) {
			job_store_failed(j, rc, &e);
			return;
		}
		if (!job_wrote(j)) {
			job_finish(j, false);
			return;
		}
	}
	if (!job_store_start(j))
		return;
	job_event(j, "step-start", json_pack("{s:s, s:s, s:s, s:I}", "action",
	    json_str(j->step, "action") != NULL ? json_str(j->step, "action") : "", "method", m,
	    "resource", j->resource, "attempt", (json_int_t)j->attempts));
	path = path_with_version(json_str(op, "path"), json_str(op, "apiVersion"));
	if (path == NULL) {
		job_fail(j, "out of memory");
		return;
	}
	w = provider_op_new(PROVIDER_OP_WRITE, m, path, json_object_get(op, "body"));
	free(path);
	if (w != NULL) {
		w->accepted = op_accepted_cb;
		/* never re-sent by the transport: a write that may have arrived is settled by reading */
		w->idempotent = false;
	}
	j->resumed_op = false;
	j->phase = JP_SENDING;
	job_submit(j, w, JO_WRITE);
}

/* Nothing to send: start and end the step in the store (an inverse of NONE, or nothing to undo). */
static void
job_settle_without_sending(struct job *j, const char *how)
{
	if ((j->status != STORE_STEP_STARTED || j->stored_dir != j->dir) && !job_store_start(j))
		return;
	job_succeed(j, j->pre, how, false);
}

/* ------------------------------------------------------------------ */
/* Starting */

static void
job_forward_start(struct job *j)
{
	const char *m = job_method(j);
	const json_t *cached;
	char *low;
	size_t i;

	j->dir = STORE_FORWARD;
	if (strcmp(m, "NONE") == 0) {
		if (!job_record_end(j, STORE_STEP_SKIPPED, NULL, NULL))
			return;
		j->r->res->steps_skipped++;
		job_event(j, "step-skipped", NULL);
		job_finish(j, true);
		return;
	}
	if (strcmp(m, "GET") == 0) {
		j->phase = JP_READ_AFTER;
		job_submit(j, state_read_op(job_op(j), j->resource), JO_READ_AFTER);
		return;
	}
	/* the wave's drift check has just read it: that read is the before-image */
	low = strdup(j->resource);
	for (i = 0; low != NULL && low[i] != '\0'; i++)
		low[i] = (char)(low[i] >= 'A' && low[i] <= 'Z' ? low[i] - 'A' + 'a' : low[i]);
	cached = low != NULL && !action_op_is_post(job_op(j)) ? json_object_get(j->wr->cache, low) : NULL;
	if (cached != NULL && j->attempts == 0) {
		json_decref(j->pre);
		j->pre = json_is_null(cached) ? NULL : json_incref((json_t *)cached);
		json_object_del(j->wr->cache, low); /* a later step on it reads it again */
		free(low);
		job_send(j);
		return;
	}
	if (low != NULL)
		json_object_del(j->wr->cache, low);
	free(low);
	j->phase = JP_READ_BEFORE;
	job_read_state(j, JO_READ_BEFORE, false);
}

static bool
same_value(const json_t *a, const json_t *b)
{
	return a == NULL || b == NULL ? a == b : json_equal(a, b);
}

static bool
same_op(const json_t *a, const json_t *b)
{
	return same_value(json_object_get(a, "method"), json_object_get(b, "method")) &&
	    same_value(json_object_get(a, "path"), json_object_get(b, "path")) &&
	    same_value(json_object_get(a, "body"), json_object_get(b, "body"));
}

static void
job_rollback_start(struct job *j)
{
	const json_t *inv = json_object_get(j->step, "inverse");
	const char *m = json_str(inv, "method");

	j->dir = STORE_ROLLBACK;
	j->then_rollback = false;
	if (m == NULL || json_is_true(json_object_get(j->step, "irreversible"))) {
		job_fail(j, "step %s is irreversible: %s", j->id, json_str(j->step, "description"));
		return;
	}
	if (strcmp(m, "NONE") == 0) {
		json_decref(j->pre);
		j->pre = NULL;
		job_settle_without_sending(j, json_str(inv, "reason") != NULL ? json_str(inv, "reason") :
		    "nothing to undo");
		return;
	}
	j->phase = JP_READ_BEFORE;
	job_read_state(j, JO_READ_BEFORE, false);
}

/* The journaled resume state and pre-send image of the attempt that was started. */
static void
job_find_journal(struct job *j, const json_t *journal)
{
	const json_t *ev;
	const char *want = j->stored_dir == STORE_FORWARD ? "forward" : "rollback";
	size_t i;

	json_array_foreach(journal, i, ev) {
		const char *name = json_str(ev, "event"), *sid = json_str(ev, "step");
		const json_t *d = json_object_get(ev, "detail");

		if (sid == NULL || strcmp(sid, j->id) != 0 || json_str(d, "direction") == NULL ||
		    strcmp(json_str(d, "direction"), want) != 0 ||
		    json_integer_value(json_object_get(d, "attempt")) != j->attempts)
			continue;
		if (strcmp(name, "op-accepted") == 0) {
			json_decref(j->journal_state);
			j->journal_state = json_incref(json_object_get(d, "state"));
		} else if (strcmp(name, "pre-send") == 0 ||
		    (strcmp(name, "step-started") == 0 && j->stored_dir == STORE_ROLLBACK)) {
			json_decref(j->journal_pre);
			j->journal_pre = json_incref(json_object_get(d, "image"));
		}
	}
}

/* A step found started: resume its operation, or read its state to settle it. */
static void
job_reconcile_start(struct job *j)
{
	struct nw_err e = { 0 };

	j->dir = j->stored_dir;
	job_event(j, "step-reconcile", json_pack("{s:I, s:b}", "attempt", (json_int_t)j->attempts,
	    "journaledOperation", j->journal_state != NULL));
	if (j->journal_state != NULL) {
		struct provider_op *w = NULL;
		if (provider_op_restore(&w, j->journal_state, &e) == 0 &&
		    (w->phase == PROVIDER_PHASE_POLLING || w->phase == PROVIDER_PHASE_FINAL)) {
			w->accepted = op_accepted_cb;
			w->done = op_done_cb;
			w->done_arg = j;
			j->phase = JP_SENDING;
			j->resumed_op = true;
			json_decref(j->pre);
			j->pre = json_incref(j->journal_pre);
			j->op = w;
			j->op_for = JO_WRITE;
			j->op_finished = false;
			if (provider_submit(j->r->p, w, &e) == 0)
				return;
			/*
			 * The journaled operation cannot be followed (its URL is not on
			 * the ARM endpoint in use): it is settled by reading, like any
			 * write whose answer was lost.
			 */
			j->op = NULL;
			j->resumed_op = false;
			job_event(j, "warning", json_pack("{s:s}", "message", e.msg));
		}
		provider_op_free(w);
	}
	if (strcmp(job_method(j), "GET") == 0 || strcmp(job_method(j), "NONE") == 0) {
		/* a read sends nothing: do it again */
		j->reconciling = false;
		j->r->res->steps_reconciled++;
		if (j->dir == STORE_FORWARD)
			job_forward_start(j);
		else
			job_rollback_start(j);
		return;
	}
	/* a write may have arrived: read what it changes before anything is sent */
	json_decref(j->pre);
	j->pre = json_incref(j->journal_pre);
	j->phase = JP_RECONCILE;
	job_read_state(j, JO_READ_AFTER, false);
}

static void
job_start(struct job *j)
{
	j->started_at = run_now(j->r);
	j->wr->running++;
	if (j->reconciling)
		job_reconcile_start(j);
	else if (j->dir == STORE_FORWARD)
		job_forward_start(j);
	else
		job_rollback_start(j);
}

/* ------------------------------------------------------------------ */
/* Advancing when an operation finished */

static bool
retryable_code(const char *code)
{
	static const char *const codes[] = { "AnotherOperationInProgress", "Conflict",
		"RetryableError", "RetryableErrorDueToAnotherOperation", "ReferencedResourceNotProvisioned",
		"SubscriptionRequestsThrottled", "TooManyRequests", "OperationNotAllowed", NULL };

	return str_in(code, codes, strcasecmp);
}

static void
job_reschedule(struct job *j, const char *why)
{
	double delay;

	if (++j->reschedules > APPLY_MAX_RESCHEDULES) {
		job_fail(j, "%s (gave up after %u attempts)", why, j->reschedules);
		return;
	}
	delay = j->r->poll * (double)(j->reschedules < 6 ? 1u << (j->reschedules - 1) : 32u);
	if (delay > 60)
		delay = 60;
	j->r->res->retries++;
	job_event(j, "step-retry", json_pack("{s:s, s:f}", "reason", why, "delay", delay));
	j->phase = JP_WAITING;
	j->not_before = run_now(j->r) + delay;
	if (j->wr->running > 0)
		j->wr->running--;
	json_decref(j->image);
	j->image = NULL;
}

/*
 * A step to be rolled back once its forward write settles (then_rollback):
 * records how that write ended (done, with the image read; or failed, and
 * why), then starts undoing it.
 */
static void
job_forward_then_rollback(struct job *j, enum store_step_status status, json_t *image, const char *why)
{
	if (!job_record_end(j, status, image, why))
		return;
	if (status == STORE_STEP_DONE) {
		json_decref(j->image);
		j->image = NULL;
	}
	j->reconciling = false;
	job_rollback_start(j);
}

/* The state after the step is known: is it what was promised? */
static void
job_evaluate(struct job *j, json_t *image)
{
	char why[1024];
	enum expect_result er = action_expect(job_op(j), job_expect(j), image, why, sizeof(why));

	if (er == EXPECT_MET) {
		if (j->then_rollback) {
			job_forward_then_rollback(j, STORE_STEP_DONE, image, NULL);
			return;
		}
		job_succeed(j, image, j->reconciling ? "reconciled: found done" : NULL, true);
		return;
	}
	if (er == EXPECT_NOT_YET) {
		double now = run_now(j->r);
		double limit = j->r->o->step_timeout > 0 ? j->r->o->step_timeout : APPLY_DEFAULT_STEP_TIMEOUT;
		if (j->wait_deadline == 0)
			j->wait_deadline = now + limit;
		if (now > j->wait_deadline) {
			job_fail(j, "%s %s: still not in the expected state after %.0f s: %s", j->id,
			    json_str(j->step, "action"), limit, why);
			return;
		}
		j->phase = JP_WAIT_STATE;
		j->not_before = now + j->r->poll;
		return;
	}
	if (j->then_rollback) {
		/* the forward step did not complete: still undo whatever it left */
		job_forward_then_rollback(j, STORE_STEP_FAILED, NULL, why);
		return;
	}
	job_fail(j, "%s %s: %s", j->id, json_str(j->step, "action"), why);
}

/* Starts the write again after settling showed it did not arrive (or, for a PUT, did not stick). */
static void
job_send_again(struct job *j, json_t *image, const char *why)
{
	char how[1200];

	j->r->res->steps_reconciled++;
	snprintf(how, sizeof(how), "not carried out (%s); sending it", why);
	job_event(j, "step-reconciled", json_pack("{s:s}", "how", how));
	j->reconciling = false;
	j->resumed_op = false;
	if (!action_op_is_post(job_op(j))) {
		/* started again later as a first attempt (the before-image read again); bounded */
		job_reschedule(j, how);
		return;
	}
	if (++j->reschedules > APPLY_MAX_RESCHEDULES) {
		job_fail(j, "%s (gave up after %u attempts)", how, j->reschedules);
		return;
	}
	json_decref(j->pre);
	j->pre = json_incref(image);
	job_send(j);
}

/*
 * A write found started (a crash) or left uncertain (a reset, a lost
 * operation): settle it from the state it changes (state_settle), never
 * by sending it again blindly.
 */
static void
job_reconcile_read(struct job *j, json_t *image)
{
	char why[1024];
	enum settle_verdict v = action_settle(job_op(j), job_expect(j), j->journal_pre,
	    !j->resumed_op && j->journal_pre != NULL, image, why, sizeof(why));

	switch (v) {
	case SETTLE_SEND:
		job_send_again(j, image, why);
		return;
	case SETTLE_DONE:
		j->r->res->steps_reconciled++;
		if (image == NULL && action_op_is_post(job_op(j))) {
			/* the action deleted what it is read from (commitMigration) */
			job_succeed(j, NULL, "reconciled: the old gateway is gone, so the commit was carried out",
			    true);
			return;
		}
		job_evaluate(j, image);
		return;
	case SETTLE_FOLLOW:
		j->r->res->steps_reconciled++;
		job_event(j, "step-reconciled", json_pack("{s:s}", "how", "found running; following it"));
		j->phase = JP_WAIT_STATE;
		j->not_before = run_now(j->r) + j->r->poll;
		return;
	case SETTLE_FAILED:
		job_evaluate(j, image);
		return;
	case SETTLE_UNKNOWN:
	default:
		break;
	}
	job_fail(j, "%s %s: cannot tell whether %s %s arrived (%s); it is not sent again: read %s and "
	    "run the command again once it has settled", j->id, json_str(j->step, "action"),
	    job_method(j), action_op_name(job_op(j)), why[0] != '\0' ? why : "its state moved", j->resource);
}

static void
job_write_failed(struct job *j, struct provider_op *op)
{
	int hs = op->error.http_status != 0 ? op->error.http_status : op->http_status;
	const char *code = op->error.code;
	bool action = action_op_is_post(job_op(j));

	if (op->status == NW_ENOMEM) {
		job_fail(j, "%s", op->err.msg);
		return;
	}
	if (hs == 429 || hs == 409 || retryable_code(code)) {
		/* not carried out: ARM refused it for now */
		if (j->resumed_op) {
			j->phase = JP_RECONCILE;
			job_read_state(j, JO_READ_AFTER, false);
			return;
		}
		job_reschedule(j, op->err.msg);
		return;
	}
	if (op->outcome_unknown || hs == 0 || hs >= 500 || (j->resumed_op && hs == 404)) {
		/*
		 * It may have been carried out (a reset after sending, a lost
		 * operation, ARM restarted under it): settle it by reading, never by
		 * resending blindly.  PUT and DELETE included: sent twice, a write
		 * ARM already accepted would be accepted again.
		 */
		j->reconciling = true;
		if (!j->resumed_op && action) {
			json_decref(j->journal_pre);
			j->journal_pre = json_incref(j->pre);
		}
		j->phase = JP_RECONCILE;
		job_event(j, "step-uncertain", json_pack("{s:s}", "error", op->err.msg));
		job_read_state(j, JO_READ_AFTER, false);
		return;
	}
	job_fail(j, "%s %s: %s", j->id, json_str(j->step, "action"), op->err.msg);
}

static bool
is_migration_gateway_gone(const struct job *j, const json_t *image)
{
	const struct action_kind *k = action_kind_of(job_op(j));

	/* settling reads the original gateway: gone settles the commit (plan/actions_state.c) */
	return image == NULL && !j->reading_alt && k != NULL && k->gone_is_done && j->phase != JP_RECONCILE;
}

/*
 * Before an inverse is sent: true when the job ended without sending it
 * (undone by the same request as another step, a conditional inverse
 * that does not apply or fails, or nothing left to undo).
 */
static bool
job_rollback_settled(struct job *j)
{
	const json_t *inv = json_object_get(j->step, "inverse");
	char why[1024];
	enum inverse_verdict v;
	size_t i;

	/* two steps undone by one request (abortMigration undoes prepare and execute) */
	for (i = 0; i < j->wr->njobs; i++) {
		struct job *o = &j->wr->jobs[i];
		if (o != j && o->status == STORE_STEP_ROLLED_BACK &&
		    same_op(json_object_get(o->step, "inverse"), inv)) {
			char how[160];
			snprintf(how, sizeof(how), "undone by the same %s %s as step %s",
			    json_str(inv, "method"), action_op_name(inv), o->id);
			job_settle_without_sending(j, how);
			return true;
		}
	}
	v = apply_inverse_check(j, why, sizeof(why));
	if (v == INVERSE_FAIL) {
		job_fail(j, "%s", why);
		return true;
	}
	if (v == INVERSE_SKIP) {
		job_settle_without_sending(j, why);
		return true;
	}
	if (action_restored(json_object_get(j->step, "operation"), j->before_image, j->pre)) {
		/* nothing to undo: it is already as it was before the step */
		job_settle_without_sending(j, "already as before the step");
		return true;
	}
	return false;
}

static void
job_advance(struct job *j)
{
	struct provider_op *op = j->op;
	enum job_op what = j->op_for;
	json_t *image = NULL;

	j->op = NULL;
	j->op_for = JO_NONE;
	j->op_finished = false;
	if (j->r->crashed || j->r->fatal != 0) {
		provider_op_free(op);
		job_finish(j, false);
		return;
	}
	switch (what) {
	case JO_READ_BEFORE:
		if (!state_from_op(op, job_op(j), &image)) {
			if (op->error.http_status == 429 || op->http_status == 0 || op->http_status >= 500)
				job_reschedule(j, op->err.msg);
			else
				job_fail(j, "cannot read %s before changing it: %s", j->resource, op->err.msg);
			break;
		}
		json_decref(j->pre);
		j->pre = image;
		image = NULL;
		if (j->dir == STORE_ROLLBACK && job_rollback_settled(j))
			break;
		job_send(j);
		break;
	case JO_WRITE:
		if (op->phase == PROVIDER_PHASE_DONE) {
			const char *m = job_method(j);
			if (strcmp(m, "POST") == 0) {
				j->phase = JP_READ_AFTER;
				job_read_state(j, JO_READ_AFTER, false);
			} else if (strcmp(m, "DELETE") == 0) {
				j->phase = JP_READ_AFTER;
				job_evaluate(j, NULL);
			} else {
				j->phase = JP_READ_AFTER;
				job_evaluate(j, op->result);
			}
		} else {
			job_write_failed(j, op);
		}
		break;
	case JO_READ_AFTER:
	case JO_READ_ALT:
		if (!state_from_op(op, job_op(j), &image)) {
			if (op->error.http_status == 429 || op->http_status == 0 || op->http_status >= 500) {
				j->phase = j->phase == JP_RECONCILE ? JP_RECONCILE : JP_WAIT_STATE;
				j->not_before = run_now(j->r) + j->r->poll;
				j->reading_alt = false;
			} else {
				job_fail(j, "cannot read %s: %s", j->resource, op->err.msg);
			}
			break;
		}
		if (is_migration_gateway_gone(j, image)) {
			/* the commit deleted the old gateway: its phase is on the one the migration made */
			job_read_state(j, JO_READ_ALT, true);
			break;
		}
		j->reading_alt = false;
		if (strcmp(job_method(j), "GET") == 0 && j->status != STORE_STEP_STARTED) {
			struct nw_err e = { 0 };
			int rc = store_step_start(j->r->st, j->r->plan_id, j->id, STORE_FORWARD, image, NULL,
			    run_time(j->r), &e);
			if (rc != 0) {
				job_store_failed(j, rc, &e);
				break;
			}
			j->status = STORE_STEP_STARTED;
			j->attempts++;
			if (!job_wrote(j)) {
				job_finish(j, false);
				break;
			}
		}
		if (j->phase == JP_RECONCILE)
			job_reconcile_read(j, image);
		else
			job_evaluate(j, image);
		break;
	default:
		break;
	}
	json_decref(image);
	provider_op_free(op);
}

/* A job waiting for its state to settle re-reads it when its time comes. */
static void
job_poll_state(struct job *j)
{
	bool reconcile = j->phase == JP_RECONCILE;

	j->phase = reconcile ? JP_RECONCILE : JP_WAIT_STATE;
	job_read_state(j, JO_READ_AFTER, false);
}

/* ------------------------------------------------------------------ */
/* The loop */

static void
tick(struct wave_run *wr, bool force)
{
	struct run *r = wr->r;
	struct provider_stats ps;
	double now = run_now(r), elapsed, eta = -1;
	size_t i, done = 0, failed = 0, total = 0;

	if (!force && now - r->last_tick < TICK_SECONDS)
		return;
	r->last_tick = now;
	provider_stats_get(r->p, &ps);
	for (i = 0; i < wr->njobs; i++) {
		if (i < wr->cutoff)
			continue;
		total++;
		if (wr->jobs[i].phase == JP_FINISHED) {
			if (wr->jobs[i].success)
				done++;
			else
				failed++;
		}
	}
	elapsed = now - wr->t0;
	if (done > 0 && done < total)
		eta = elapsed / (double)done * (double)(total - done);
	run_event(r, "tick", json_pack("{s:s, s:i, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f}",
	    "wave", wr->name, "index", wr->index, "direction", wr->dir == STORE_FORWARD ? "forward" :
	    "rollback", "done", (json_int_t)done, "total", (json_int_t)total, "running",
	    (json_int_t)wr->running, "failed", (json_int_t)failed, "retries",
	    (json_int_t)r->res->retries, "throttled", (json_int_t)(ps.throttled - r->stats0.throttled),
	    "parked", (json_int_t)ps.waiting, "elapsed", elapsed, "eta", eta));
}

/* Hands every operation that finished to its job. */
static void
jobs_advance_finished(struct wave_run *wr)
{
	size_t i;

	for (i = 0; i < wr->njobs; i++)
		if (wr->jobs[i].op != NULL && wr->jobs[i].op_finished)
			job_advance(&wr->jobs[i]);
}

/* Runs the after-step gates of the jobs just finished well. */
static int
jobs_after_gates(struct wave_run *wr, struct nw_err *err)
{
	size_t i;
	int rc;

	for (i = 0; i < wr->njobs; i++) {
		struct job *j = &wr->jobs[i];
		if (j->phase == JP_FINISHED && j->success && !j->gates_done &&
		    (rc = gate_after_step(wr, j, err)) != 0)
			return rc;
	}
	return 0;
}

/* Waiting jobs whose time came read their state again; waiting ones start, in the wave's direction. */
static void
jobs_schedule(struct wave_run *wr, double now, unsigned parallel, bool interrupted)
{
	struct run *r = wr->r;
	size_t i;

	for (i = 0; i < wr->njobs; i++) {
		struct job *j = &wr->jobs[i];
		if ((j->phase == JP_WAIT_STATE || j->phase == JP_RECONCILE) && j->op == NULL &&
		    j->not_before <= now && !interrupted)
			job_poll_state(j);
	}
	if (wr->stop || interrupted)
		return;
	for (i = 0; i < wr->njobs && wr->running < parallel; i++) {
		size_t k = wr->dir == STORE_FORWARD ? i : wr->njobs - 1 - i;
		struct job *j = &wr->jobs[k];
		if (j->phase == JP_WAITING && job_ready(j, now))
			job_start(j);
		if (r->crashed || r->fatal != 0 || wr->stop)
			break;
	}
}

/* True when the wave's loop ends: all done, stopped, interrupted past its grace, or stuck. */
static bool
jobs_over(const struct wave_run *wr, double now, double interrupted_at)
{
	size_t i;

	if (wr->running == 0 && (wr->stop || interrupted_at != 0 || wr->finished == wr->njobs))
		return true;
	if (interrupted_at != 0 && now - interrupted_at > INTERRUPT_GRACE)
		return true;
	if (wr->running != 0)
		return false;
	/* nothing running and nothing ready: a job waits for a failed dependency */
	for (i = 0; i < wr->njobs; i++)
		if (wr->jobs[i].phase == JP_WAITING && wr->jobs[i].not_before > now)
			return false;
	return true;
}

/* Drives the provider until something may change (at most 0.2 s), or sleeps until a job's time. */
static int
jobs_wait(struct wave_run *wr, double now, struct nw_err *err)
{
	double next = now + 0.2;
	bool in_flight = false;
	size_t i;

	for (i = 0; i < wr->njobs; i++) {
		struct job *j = &wr->jobs[i];
		if (j->op != NULL)
			in_flight = true;
		else if ((j->phase == JP_WAITING || j->phase == JP_WAIT_STATE || j->phase == JP_RECONCILE) &&
		    j->not_before > now && j->not_before < next)
			next = j->not_before;
	}
	if (in_flight)
		return provider_run(wr->r->p, fmax(0.0, fmin(0.2, next - now)), err);
	if (next > now) {
		double d = next - now;
		struct timespec ts = { (time_t)d, (long)((d - floor(d)) * 1e9) };
		nanosleep(&ts, NULL);
	}
	return 0;
}

int
jobs_run(struct wave_run *wr, struct nw_err *err)
{
	struct run *r = wr->r;
	unsigned parallel = r->o->parallel > 0 ? r->o->parallel : APPLY_DEFAULT_PARALLEL;
	double interrupted_at = 0;
	int rc;

	wr->t0 = run_now(r);
	provider_stats_get(r->p, &r->stats0);
	for (;;) {
		double now;

		if (r->crashed)
			return err_set(err, NW_EPARTIAL, "the run stopped dead (simulated crash)");
		if (r->fatal != 0) {
			*err = r->fatal_err;
			return r->fatal;
		}
		jobs_advance_finished(wr);
		if (r->crashed || r->fatal != 0)
			continue;
		if ((rc = jobs_after_gates(wr, err)) != 0)
			return rc;
		now = run_now(r);
		if (interrupted_at == 0 && r->o->interrupt != NULL && *r->o->interrupt) {
			interrupted_at = now;
			run_event(r, "interrupted", json_pack("{s:s, s:I}", "wave", wr->name, "running",
			    (json_int_t)wr->running));
		}
		jobs_schedule(wr, now, parallel, interrupted_at != 0);
		if (r->crashed || r->fatal != 0)
			continue;
		if (jobs_over(wr, now, interrupted_at))
			break;
		tick(wr, false);
		if ((rc = run_lease_keep(r, err)) != 0 || (rc = jobs_wait(wr, now, err)) != 0)
			return rc;
	}
	tick(wr, true);
	if (interrupted_at != 0)
		return err_set(err, NW_EPARTIAL, "interrupted: wave %s stopped with %zu step(s) in "
		    "flight; run the same command again to resume", wr->name, wr->running);
	return 0;
}

void
wave_run_clear(struct wave_run *wr)
{
	size_t i;

	for (i = 0; i < wr->njobs; i++) {
		struct job *j = &wr->jobs[i];
		if (j->op != NULL) {
			if (!provider_op_finished(j->op))
				provider_cancel(j->r->p, j->op);
			provider_op_free(j->op);
		}
		json_release_all(&j->image, &j->pre, &j->journal_state, &j->journal_pre, &j->before_image);
	}
	free(wr->jobs);
	json_decref(wr->cache);
	memset(wr, 0, sizeof(*wr));
}

void
jobs_attach_journal(struct wave_run *wr, const json_t *journal)
{
	size_t i;

	for (i = 0; i < wr->njobs; i++)
		if (wr->jobs[i].reconciling)
			job_find_journal(&wr->jobs[i], journal);
}
