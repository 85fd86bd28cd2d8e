/*
 * The apply engine: carries out a stored plan (netwave.plan/v1) wave by
 * wave against a provider, and rolls waves back.  It sits between the
 * plan store (state/store.h), which it drives and journals to, the
 * provider (providers/provider.h), through which it reads and writes the
 * estate and runs the gates, and the history (state/history.h), which
 * gets one commit per wave applied or rolled back.  This is the one place
 * where state/ uses providers/, and only through provider.h.
 *
 * What a run promises (DESIGN.md, "Apply and rollback"):
 *  - one run per plan: a lease in the store; a second run gets NW_ELOCKED;
 *  - before the first step of a wave, the resources it touches are read
 *    again and compared with what the plan expects (the current topology
 *    it was made from, updated by the steps already carried out); any
 *    change stops the run with NW_ESTALE naming resources and properties;
 *  - each step is journaled "started" with its before-image BEFORE its
 *    request is sent, its poll URL as soon as ARM names it, and "done"
 *    with its after-image;
 *  - a step found "started" (a crash, a kill -9) is reconciled: its
 *    long-running operation is resumed from the journal, or the resource
 *    is read and compared with the step's expected state; a POST action
 *    (commit, prepareMigration ...) is never sent twice blindly;
 *  - gates after each wave, with separate budgets for failures,
 *    inconclusive results and query errors; a failed gate stops the run
 *    with NW_EFAIL and its evidence, or rolls the wave back;
 *  - an interrupted run returns NW_EPARTIAL, and the same call resumes.
 */
#ifndef NETWAVE_STATE_APPLY_H
#define NETWAVE_STATE_APPLY_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "plan/cost.h"
#include "plan/err.h"
#include "providers/provider.h"
#include "state/history.h"
#include "state/store.h"

/* Defaults of struct apply_opts. */
#define APPLY_DEFAULT_PARALLEL COST_ENGINE_PARALLEL /* plan/cost.h: the estimate counts the same */
#define APPLY_DEFAULT_LEASE_TTL 300
#define APPLY_DEFAULT_POLL COST_ENGINE_POLL
#define APPLY_DEFAULT_GATE_TIMEOUT 1800.0
#define APPLY_DEFAULT_STEP_TIMEOUT 7200.0
#define APPLY_MAX_RESCHEDULES 20

enum apply_direction {
	APPLY_FORWARD = 0, /* apply */
	APPLY_ROLLBACK,    /* rollback */
};

/* Which waves a run covers. */
enum apply_scope {
	APPLY_NEXT = 0,  /* forward: the first wave not done; rollback: the last wave not rolled back */
	APPLY_WAVE,      /* only the wave named opts->wave */
	APPLY_THROUGH,   /* forward only: every wave up to and including opts->wave */
	APPLY_ALL,       /* every wave (rollback: in reverse) */
};

/*
 * A progress event, a JSON object (borrowed for the call) with at least
 * {"event": NAME, "time": RFC 3339, "plan": ID}; see docs/apply.md for
 * the events and their members.  "tick" events (at most a few a second)
 * carry counters for live displays.
 */
typedef void (*apply_event_fn)(void *arg, const json_t *event);

/*
 * Asks a person to confirm: prompt says what will happen, expected is
 * the text they must type.  Returns true when they typed it.
 */
typedef bool (*apply_confirm_fn)(void *arg, const char *prompt, const char *expected);

/* The wall clock in seconds (tests use a fake one); NULL: the real clock. */
typedef double (*apply_clock_fn)(void *arg);

struct apply_opts {
	enum apply_direction direction;
	enum apply_scope scope;
	const char *wave;           /* APPLY_WAVE, APPLY_THROUGH: a wave name */
	bool yes;                   /* irreversible steps are confirmed */
	bool auto_rollback;         /* a failed gate rolls its wave back and proves the way back */
	unsigned parallel;          /* steps in flight at once; 0: APPLY_DEFAULT_PARALLEL */
	const char *owner;          /* lease owner for people ("alice apply"); NULL: "netwave" */
	long lease_ttl;             /* seconds; 0: APPLY_DEFAULT_LEASE_TTL */
	const char *operator_name;  /* history Operator trailer; NULL: "netwave" */
	struct history *history;    /* NULL: no history commits */

	/*
	 * The current topology the plan was made from, to compare the estate
	 * with before each wave.  NULL: the plan's current.source, used only
	 * when its fingerprint matches; without it the comparison falls back
	 * to what the plan's inverses record (docs/apply.md).
	 */
	const char *current_path;

	double soak_scale;          /* soaks are divided by this (rehearsals, demo, emulators); 0: 1 */
	/*
	 * An override, like Argo Rollouts' promote: the first soak still
	 * running in this run ends now, recorded with who ended it and why
	 * (both required) in the soak gate's result, the journal
	 * ("soak-ended-early") and the next wave's history commit.
	 */
	const char *end_soak_by;
	const char *end_soak_reason;
	double soak_wait_max;       /* a soak with at most this many seconds left is waited out; 0: none */
	double poll_interval;       /* between reads while waiting for a state; 0: APPLY_DEFAULT_POLL */
	double gate_timeout;        /* a gate may say "not yet" this long; 0: APPLY_DEFAULT_GATE_TIMEOUT */
	double step_timeout;        /* a step may wait for its expected state this long; 0: default */

	/* Set (by a signal handler) to stop: no new step starts, NW_EPARTIAL. */
	volatile sig_atomic_t *interrupt;

	/* For tests: after this many journal writes the run stops dead, as if killed (0: never). */
	unsigned crash_after;

	apply_event_fn on_event;
	void *event_arg;
	apply_confirm_fn confirm;   /* NULL: without yes, irreversible steps stop the run (NW_EINPUT) */
	void *confirm_arg;
	apply_clock_fn clock;
	void *clock_arg;
	/*
	 * Forward runs: called once the waves to run are known and before the
	 * first write (a resumed run included), with the full plan id; a
	 * non-zero return stops the run with it, nothing sent.  `netwave apply`
	 * runs preflight here (docs/preflight.md).  NULL: none.
	 */
	int (*before_writes)(void *arg, const char *plan_id, struct nw_err *err);
	void *before_writes_arg;
};

struct apply_result {
	char plan_id[64];
	unsigned waves_done;        /* waves that ended done (forward) or rolled back (rollback) */
	unsigned steps_done;        /* steps carried out in this run, either way */
	unsigned steps_skipped;     /* steps with nothing to do */
	unsigned steps_reconciled;  /* started steps found and settled without resending */
	unsigned steps_failed;
	unsigned retries;           /* steps sent again after a throttle or a conflict */
	unsigned gates_passed;
	unsigned gates_failed;
	bool rolled_back;           /* --auto-rollback undid a wave */
	char soak_until[32];        /* RFC 3339 when a soak stopped the run, else "" */
	bool soak_ended;            /* end_soak_by ended a soak early */
	json_t *evidence;           /* a failed gate's or the drift's evidence (new reference), or NULL */
};

/* Frees what a result holds (its evidence); accepts NULL. */
void apply_result_clear(struct apply_result *r);

/*
 * Runs the plan (an id or a unique prefix) in the direction and scope of
 * o.  Returns 0 when the waves asked for are done (or rolled back);
 * NW_EFAIL for a failed step or gate (res->evidence says why),
 * NW_ESTALE for drift, NW_ELOCKED when another run holds the plan,
 * NW_EPARTIAL when interrupted or stopped by a soak (the same call
 * resumes), NW_EINPUT for an unknown plan or wave, NW_EIRREVERSIBLE for
 * an irreversible step not confirmed or a rollback stopped in front of an
 * irreversible step already carried out.  res may be NULL.
 */
int apply_run(struct store *st, struct provider *p, const char *plan, const struct apply_opts *o,
    struct apply_result *res, struct nw_err *err);

/* How much faster than Azure's documented durations a rehearsal's emulator runs. */
#define APPLY_REHEARSAL_TIME_SCALE 10000.0

/*
 * The estate a rehearsal starts from, when the store can tell: the
 * current topology the plan was made from (current_path, else the one the
 * plan names), when no wave has started and its fingerprint is the
 * plan's.  *seed is a new reference, or NULL when the caller must
 * discover the estate as it is now.
 */
int apply_rehearsal_seed(struct store *real, const char *plan, const char *current_path, json_t **seed,
    struct nw_err *err);

/*
 * `apply --dry-run`: carries out o's run against a private in-process
 * emulator seeded with seed, in a private copy of the store (the waves
 * already done included); nothing real is touched and irreversible steps
 * are rehearsed too.  o is changed for the rehearsal (no history,
 * confirmed, the emulator's time scale).  Returns as apply_run.
 */
int apply_rehearse(struct store *real, const char *plan, const json_t *seed, time_t now,
    struct apply_opts *o, struct apply_result *res, struct nw_err *err);

/*
 * The state of a plan for `netwave status`: netwave.status/v1,
 * {format, plan, status, lease, waves: [{index, name, kind, status,
 * startedAt, finishedAt, steps: {total, done, ...}, stepList: [{id,
 * action, resource, status, direction, attempts, lastError}], gates:
 * [...], soak: {seconds, until, remaining}}], next}.  now is the clock.
 * *out is a new reference.
 */
int apply_status(json_t **out, struct store *st, const char *plan, time_t now, struct nw_err *err);

/* "YYYY-MM-DDTHH:MM:SSZ" of t into buf (at least 21 bytes). */
const char *apply_time_format(char *buf, size_t size, time_t t);

#endif
