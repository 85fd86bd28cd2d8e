/*
 * The plan store: one SQLite file (default ./netwave.db) holding plans,
 * their waves, steps and gates, the journal of what apply did, and the
 * leases that keep two runs off one plan.  Schema versioned, migrations
 * in code.  A stored plan is immutable: a new plan supersedes, never
 * edits.  Every other module sees plans as netwave.plan/v1 documents
 * (docs/plan.md); the store shreds them into tables apply can update.
 */
#ifndef NETWAVE_STATE_STORE_H
#define NETWAVE_STATE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "plan/err.h"

struct plan_text; /* plan/plan_json.h */

/* The schema version this build writes; older files are migrated in place. */
#define STORE_SCHEMA_VERSION 2

struct store;

/*
 * Opens (creating when absent and create is true) the database at path.
 * WAL, foreign_keys=ON, busy_timeout, synchronous=FULL.  Refuses, with
 * NW_EINPUT and without modifying the file: a file that is not SQLite, an
 * SQLite file that is not a netwave store, and a store from a newer schema.
 * Also NW_EINPUT: a missing file when create is false, and a damaged file
 * (SQLite's own words, after the path).  A new store is created with mode
 * 0600; an older schema is migrated in one transaction.
 */
int store_open(struct store **out, const char *path, bool create, struct nw_err *err);

void store_close(struct store *st);

/*
 * How this connection is set up, read back from SQLite (for diagnostics
 * and for tests): {path, schemaVersion, journalMode, foreignKeys,
 * synchronous, busyTimeoutMs}.  *out is a new reference.
 */
int store_info_get(struct store *st, json_t **out, struct nw_err *err);

/*
 * Saves a netwave.plan/v1 document (borrowed) in one transaction: the plan
 * row with the canonical JSON, and its waves, steps and gates as rows.
 * The plan's "id" is its key; saving an id that exists fails with
 * NW_EINPUT unless the stored document is byte-identical (then it is a
 * no-op returning 0).  Earlier plans made from the same current topology
 * fingerprint are marked superseded (only those nothing was started for).
 * The document is checked first, NW_EINPUT naming what is wrong: waves
 * whose "index" is their position, each with name and kind; steps with
 * id, procedure, action, resource and an operation object, and an inverse
 * exactly when not irreversible; gates with id and kind.
 */
int store_plan_save(struct store *st, const json_t *plan, struct nw_err *err);

/*
 * store_plan_save with the plan's canonical text already written (as
 * plan_json_seal leaves it in text): stored as given, not written again,
 * and the rows' bodies made from it (plan_text_compact).  The caller
 * vouches that text is plan's.
 */
int store_plan_save_text(struct store *st, const json_t *plan, const struct plan_text *text,
    struct nw_err *err);

/*
 * store_plan_save_text that takes the caller's reference to *plan and
 * releases it (setting *plan to NULL) once the plan's rows are in, before
 * SQLite copies the text into the plans row: a large plan's tree and that
 * copy are not in memory at once.  *plan is released whatever the outcome
 * when the rows went in, and kept otherwise.
 */
int store_plan_save_text_release(struct store *st, json_t **plan, const struct plan_text *text,
    struct nw_err *err);

/*
 * The creation time of the plan stored under exactly this id, as stored
 * ("createdAt"), into *out (malloc'd; the caller frees), or *out = NULL
 * when no plan has this id.  A plan's id hashes everything in it but its
 * creation time, so planning again from the same inputs finds the plan
 * made before: giving it this creation time makes the documents equal and
 * store_plan_save a no-op.
 */
int store_plan_created_at(struct store *st, const char *id, char **out, struct nw_err *err);

/*
 * The stored plan document for an id or a unique id prefix (at least 4
 * characters, "pl-" may be left out); NW_EINPUT naming the candidates
 * when ambiguous or none.
 * *out is a new reference.
 */
int store_plan_get(struct store *st, const char *id_or_prefix, json_t **out, struct nw_err *err);

/*
 * The stored plans, newest first: an array of {id, createdAt, status,
 * currentFingerprint, targetFingerprint, waves, steps, supersededBy}.
 * status is "planned", "applying", "applied", "rolled-back", "partial"
 * or "superseded".  *out is a new reference.
 * Each entry also carries stepsDone and, while a lease row exists,
 * "lease" as store_lease_get gives it (status is then "applying"; an
 * expired lease shows there until taken over or released).
 */
int store_plan_list(struct store *st, json_t **out, struct nw_err *err);

/*
 * Keeps doc (a netwave.preflight/v1 document, borrowed) as the plan's last
 * preflight, replacing the one before, with its time and its counts of
 * blockers and warnings (state/store_preflight.c).  NW_EINPUT for an
 * unknown plan id (a full id).
 */
int store_preflight_save(struct store *st, const char *plan_id, const json_t *doc, time_t now,
    struct nw_err *err);

/*
 * The plan's last preflight document into *out (new reference), or JSON
 * null when none was run.  NW_EINPUT for an unknown plan id.
 */
int store_preflight_get(struct store *st, const char *plan_id, json_t **out, struct nw_err *err);

/*
 * ---- What apply and rollback need ------------------------------------
 *
 * Every function below takes a full plan id (resolve prefixes with
 * store_plan_get first) and, when it writes, the time as `now` (Unix
 * seconds) so the store never reads a clock of its own.  Each write is
 * one BEGIN IMMEDIATE transaction that also appends its journal event
 * and refreshes the plan's status, so after a crash the tables and the
 * journal agree.  An unknown plan, step, wave or gate, or a transition
 * the state does not allow, fails with NW_EINPUT naming it; the state is
 * then unchanged.  Times in returned JSON are "YYYY-MM-DDTHH:MM:SSZ".
 */

/* A step's state: stored as the name store_step_status_name gives. */
enum store_step_status {
	STORE_STEP_PENDING,     /* "pending": nothing sent yet */
	STORE_STEP_STARTED,     /* "started": a request may be in flight */
	STORE_STEP_DONE,        /* "done" */
	STORE_STEP_FAILED,      /* "failed": last_error says why */
	STORE_STEP_ROLLED_BACK, /* "rolled-back": its inverse completed */
	STORE_STEP_SKIPPED,     /* "skipped": nothing needed doing */
};

/* Which way a started step is going: its operation or its inverse. */
enum store_direction {
	STORE_FORWARD,  /* "forward" */
	STORE_ROLLBACK, /* "rollback" */
};

enum store_wave_status {
	STORE_WAVE_PENDING,     /* "pending" */
	STORE_WAVE_RUNNING,     /* "running": steps or gates under way */
	STORE_WAVE_DONE,        /* "done": every step done or skipped, gates passed */
	STORE_WAVE_FAILED,      /* "failed" */
	STORE_WAVE_ROLLED_BACK, /* "rolled-back": no step left done or started */
};

/* One result of a gate; a gate never run yet has status "pending". */
enum store_gate_outcome {
	STORE_GATE_PASSED,       /* "passed" */
	STORE_GATE_FAILED,       /* "failed" */
	STORE_GATE_INCONCLUSIVE, /* "inconclusive" */
	STORE_GATE_ERROR,        /* "error": the query itself failed */
};

/* The stored names of the states above (static strings; "?" when out of range). */
const char *store_step_status_name(enum store_step_status s);
const char *store_direction_name(enum store_direction d);
const char *store_wave_status_name(enum store_wave_status s);
const char *store_gate_outcome_name(enum store_gate_outcome o);

/*
 * Records that a step is about to send its request (dir FORWARD: the
 * operation; ROLLBACK: the inverse) and commits it, so call it BEFORE the
 * request goes out: after a crash a "started" step is reconciled by
 * reading the resource or resuming poll_url, never by blind resending.
 * Status becomes "started", attempts goes up by one, poll_url is set
 * (NULL clears it), last_error is kept.
 *
 * FORWARD is allowed from pending, failed, skipped, rolled-back and
 * started (a retry); not from done, nor while a rollback is started.
 * `image` (borrowed, may be NULL) is the resource as read before sending:
 * it becomes before_image on the first start and after a rollback, but a
 * retry keeps the earlier one, since that is the state before anything
 * was sent and what rollback must restore.
 * ROLLBACK is allowed from done, failed and started; needs an inverse
 * (NW_EINPUT for an irreversible step, naming it); `image` is only
 * journaled, before_image stays.
 * Journal: "step-started" {direction, attempt, pollUrl}.
 */
int store_step_start(struct store *st, const char *plan_id, const char *step_id,
    enum store_direction dir, const json_t *image, const char *poll_url, time_t now,
    struct nw_err *err);

/*
 * Records the poll URL (Azure-AsyncOperation or Location) of a started
 * step's long-running operation as soon as the answer names it, so a
 * resumed run polls instead of resending.  Journal: "step-polling".
 */
int store_step_set_poll_url(struct store *st, const char *plan_id, const char *step_id,
    const char *poll_url, time_t now, struct nw_err *err);

/*
 * Ends a step.  status is one of:
 *   DONE         from started forward; `image` becomes after_image;
 *   ROLLED_BACK  from started rollback; `image` is journaled;
 *   FAILED       from started (either way); error should say why;
 *   SKIPPED      from pending, failed, rolled-back or started forward.
 * last_error becomes `error` (NULL clears it).  finished_at is now.
 * Journal: "step-<status>" {direction, attempt, error}.
 */
int store_step_finish(struct store *st, const char *plan_id, const char *step_id,
    enum store_step_status status, const json_t *image, const char *error, time_t now,
    struct nw_err *err);

/*
 * One step as stored, *out a new reference:
 *   {id, wave, seq, procedure, action, resource, serializeKey, operation,
 *    inverse, irreversible, longRunning, status, direction, attempts,
 *    lastError, pollUrl, beforeImage, afterImage, startedAt, finishedAt}
 * (absent values are null).
 */
int store_step_get(struct store *st, const char *plan_id, const char *step_id, json_t **out,
    struct nw_err *err);

/*
 * The steps of one wave (wave_idx >= 0) or of the whole plan (wave_idx < 0)
 * in plan order (wave, then position), each as store_step_get gives it.
 * Resume finds its "started" steps here.  *out is a new reference.
 */
int store_step_list(struct store *st, const char *plan_id, int wave_idx, json_t **out,
    struct nw_err *err);

/*
 * Sets a wave's status.  RUNNING sets started_at and clears finished_at;
 * DONE, FAILED and ROLLED_BACK set finished_at (the soak runs from it).
 * DONE needs every step of the wave done or skipped; ROLLED_BACK needs
 * none done or started (irreversible steps keep a wave from it); both
 * fail with NW_EINPUT naming the first step in the way.
 * Journal: "wave-<status>".
 */
int store_wave_set_status(struct store *st, const char *plan_id, int wave_idx,
    enum store_wave_status status, time_t now, struct nw_err *err);

/*
 * The waves in order, *out a new reference:
 *   {index, name, kind, soakSeconds, status, startedAt, finishedAt,
 *    steps, stepsDone, gates: [as store_gate_list]}
 */
int store_wave_list(struct store *st, const char *plan_id, json_t **out, struct nw_err *err);

/*
 * Records one gate evaluation: status becomes the outcome, last_result
 * the evidence (borrowed, may be NULL), and the matching counter
 * (failures, inconclusive or errors) goes up by one; the budgets are in
 * the plan document and judged by the caller.
 * Journal: "gate-<outcome>" {gate, result}.
 */
int store_gate_record(struct store *st, const char *plan_id, const char *gate_id,
    enum store_gate_outcome outcome, const json_t *result, time_t now, struct nw_err *err);

/*
 * Puts a wave's gates back to "pending" with zero counters, for a fresh
 * evaluation (after a rollback, or a new run).  Journal: "gates-reset".
 */
int store_gate_reset(struct store *st, const char *plan_id, int wave_idx, time_t now,
    struct nw_err *err);

/*
 * The gates of one wave (wave_idx >= 0) or all (< 0), in plan order:
 *   {id, wave, kind, params, budget, status, lastResult, failures,
 *    inconclusive, errors, checkedAt}.  *out is a new reference.
 */
int store_gate_list(struct store *st, const char *plan_id, int wave_idx, json_t **out,
    struct nw_err *err);

/*
 * Appends an event of the caller's own (throttled, drift-found, soak-wait,
 * confirmed ...) to the journal.  wave_idx < 0 and step_id NULL when the
 * event is about neither; detail (borrowed) may be NULL.
 */
int store_journal_append(struct store *st, const char *plan_id, const char *event,
    int wave_idx, const char *step_id, const json_t *detail, time_t now, struct nw_err *err);

/*
 * The plan's journal in the order it was written:
 *   [{seq, at, event, wave, step, detail}]  (wave, step, detail may be null)
 * *out is a new reference.
 */
int store_journal_list(struct store *st, const char *plan_id, json_t **out, struct nw_err *err);

/*
 * Takes the plan's lease for owner (a name for people: "alice apply"),
 * this process's pid and this host, until now + ttl_seconds.  A live lease
 * held by anyone else fails with NW_ELOCKED naming its owner, pid, host
 * and expiry.  An expired lease, or one whose process no longer exists on
 * this host, is taken over (journal "lease-taken-over" with the previous
 * holder and why); a lease is never taken from a live holder before it
 * expires.  Taking a lease this process already holds extends it.
 * Journal: "lease-acquired".
 */
int store_lease_acquire(struct store *st, const char *plan_id, const char *owner,
    long ttl_seconds, time_t now, struct nw_err *err);

/*
 * Extends the lease this process holds to now + ttl_seconds.  NW_ELOCKED
 * when it is no longer ours (taken over after expiring, or released),
 * naming the current holder: the caller must stop writing.
 */
int store_lease_renew(struct store *st, const char *plan_id, const char *owner,
    long ttl_seconds, time_t now, struct nw_err *err);

/*
 * Gives the lease back.  0 when this process held it or nobody did;
 * NW_ELOCKED (and nothing changed) when someone else holds it.
 * Journal: "lease-released".
 */
int store_lease_release(struct store *st, const char *plan_id, const char *owner, time_t now,
    struct nw_err *err);

/*
 * The current lease, {owner, pid, host, acquiredAt, expiresAt}, or JSON
 * null when none is held (an expired lease still shows until taken over
 * or released).  *out is a new reference.
 */
int store_lease_get(struct store *st, const char *plan_id, json_t **out, struct nw_err *err);

#endif
