/*
 * What the apply engine's files in state/apply/ share; nothing outside that
 * folder (and its test suite) includes it.  apply.c runs waves, jobs.c
 * carries out steps (forward, rollback, reconciliation), gates.c evaluates
 * gates and proves rollbacks, read.c reads the estate (batches, step
 * states, expectations, drift), status.c answers `status`.
 */
#ifndef NETWAVE_STATE_APPLY_INTERNAL_H
#define NETWAVE_STATE_APPLY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "plan/actions.h"
#include "plan/err.h"
#include "plan/gates.h"
#include "providers/provider.h"
#include "state/apply/apply.h"
#include "state/store.h"

struct run;
struct wave_run;

/* Where a step's job is. */
enum job_phase {
	JP_WAITING = 0,  /* not started (dependencies, serialize key, not_before) */
	JP_READ_BEFORE,  /* reading the state before sending */
	JP_SENDING,      /* the write is on its way or followed to its end */
	JP_READ_AFTER,   /* reading the state after it */
	JP_WAIT_STATE,   /* waiting for the expected state (re-reading) */
	JP_RECONCILE,    /* reading the state to settle a step found started */
	JP_FINISHED,     /* ended: done, skipped, rolled back or failed */
};

/* What a job's provider operation is for. */
enum job_op {
	JO_NONE = 0,
	JO_READ_BEFORE,
	JO_WRITE,
	JO_READ_AFTER,
	JO_READ_ALT,     /* the second read of a state (the migrated gateway) */
};

struct job {
	struct run *r;
	struct wave_run *wr;
	size_t idx;                 /* position in the wave */
	const json_t *step;         /* the plan's step (borrowed from the plan document) */
	const char *id;
	const char *resource;
	const char *skey;           /* serializeKey */
	enum store_direction dir;
	enum store_step_status status; /* as stored */
	enum store_direction stored_dir;
	long attempts;              /* as stored */
	enum job_phase phase;
	enum job_op op_for;
	struct provider_op *op;
	bool op_finished;           /* set by the provider callback; handled by the main loop */
	bool reading_alt;
	json_t *image;              /* the state read in the current phase (owned) */
	json_t *pre;                /* the state read before this attempt was sent (owned) */
	json_t *journal_state;      /* a journaled provider op state to resume (owned) */
	json_t *journal_pre;        /* the journaled pre-send state of the started attempt (owned) */
	json_t *before_image;       /* the stored before-image (owned; NULL: the resource was absent) */
	bool reconciling;           /* settling a step found started */
	bool resumed_op;            /* the write in flight was restored from the journal */
	bool then_rollback;         /* forward reconciliation first, then the inverse */
	bool nothing_to_undo;
	double not_before;          /* earliest (re)start, clock seconds */
	double wait_deadline;       /* JP_WAIT_STATE gives up after this */
	double started_at;
	unsigned reschedules;
	bool success;               /* when JP_FINISHED */
	bool gates_done;            /* after-step gates evaluated */
	char error[1024];
};

struct wave_run {
	struct run *r;
	const json_t *wave;         /* the plan's wave (borrowed) */
	int index;
	const char *name;
	enum store_direction dir;
	struct job *jobs;
	size_t njobs;
	size_t running;
	size_t finished;
	size_t cutoff;              /* rollback: jobs below this index are not rolled back */
	json_t *cache;              /* resource id (lowercase) -> image read at the wave's start */
	bool stop;                  /* a step failed: start nothing new */
	double t0;
};

struct run {
	struct store *st;
	struct provider *p;
	const struct apply_opts *o;
	struct apply_result *res;
	json_t *plan;
	const char *plan_id;
	char owner[256];
	double poll;
	double lease_renewed;
	unsigned writes;            /* journal writes so far (crash_after) */
	bool crashed;               /* the simulated crash happened: touch nothing more */
	int fatal;                  /* a store or provider failure that ends the run */
	struct nw_err fatal_err;
	double last_tick;
	struct provider_stats stats0;
	struct wave_run *current;
	json_t *nics;               /* subscription -> its network interfaces, read once */
	json_t *migrated;           /* gateway id -> what its migration made, as journaled (apply_gateway.c) */
	bool migrated_loaded;       /* migrated holds what the journal says */
	struct topology *baseline;  /* the current topology the plan was made from, or NULL */
	bool baseline_tried;
	bool soak_ended;            /* --end-soak has ended a soak in this run */
	char soak_note[1024];       /* what the next wave's history commit says about it, or "" */
};

/* --- apply.c ------------------------------------------------------------------------------- */

double run_now(struct run *r);
time_t run_time(struct run *r);

/* Emits an event: ev is stolen; "event", "time" and "plan" are added. */
void run_event(struct run *r, const char *name, json_t *ev);

/*
 * Counts a journal write; true when the simulated crash (crash_after)
 * happens now, after which the caller must stop without writing.
 */
bool run_wrote(struct run *r);

/* Renews the lease when a third of its time has gone; NW_ELOCKED when it is lost. */
int run_lease_keep(struct run *r, struct nw_err *err);
/*
 * One turn of a batch of reads: drives the provider for up to half a
 * second, keeps the lease, and stops with NW_EPARTIAL ("interrupted while
 * <what>") when the run was interrupted.
 */
int run_pump(struct run *r, const char *what, struct nw_err *err);

/* Records a store failure as fatal (the run stops); returns its code. */
int run_fail(struct run *r, int rc, const struct nw_err *e);

/* --- jobs.c -------------------------------------------------------------------------- */

/*
 * Runs the steps of a wave in wr->dir until every job has finished or the
 * run stops.  Returns 0 (look at the jobs for failures), NW_EPARTIAL when
 * interrupted or crashed, or a fatal status.
 */
int jobs_run(struct wave_run *wr, struct nw_err *err);

/* Frees the jobs of a wave run. */
void wave_run_clear(struct wave_run *wr);

/* Finds, for each job found started, its journaled operation state and pre-send image. */
void jobs_attach_journal(struct wave_run *wr, const json_t *journal);

/* --- read.c -------------------------------------------------------------------------- */

/* "path?api-version=v" into a new string. */
char *path_with_version(const char *path, const char *api_version);

/* The path to GET for a step's resource (without the action suffix), malloc'd. */
char *resource_read_path(const char *resource);

/*
 * Lists the collection at the path fmt makes (every page): *out a new
 * array.  NW_ENOMEM when the path cannot be made, else provider_list's
 * result.
 */
int run_list(struct run *r, json_t **out, struct nw_err *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * A provider operation that reads the state a step changes: the
 * resource (for a committed ExpressRoute migration, the gateway it made:
 * gateway_migrated_id), or for a commit the deployment status of its
 * regions.
 */
struct provider_op *state_read_op(const json_t *op, const char *resource);

/* The state a read op produced: its result, NULL for 404; false on another failure. */
bool state_from_op(const struct provider_op *op, const json_t *wop, json_t **out);

/* Reads several resources at once: ids -> {lowercase id: resource or null}.  New reference. */
int read_many(struct run *r, const json_t *ids, json_t **out, struct nw_err *err);

/*
 * Operations sent at once and waited for together (read_many's GETs, the
 * gates' read-only POSTs), each with the caller's key for its answer (a
 * lowercase id, a NIC id), which the item owns.
 */
struct batch_item {
	struct provider_op *op;
	char *key;
	bool done;
};

/* What a batch sends for a list of ids and does with what does not answer (batch_run). */
struct batch_def {
	const char *doing;  /* what the run says it is doing: "reading the estate" */
	/* The operation for one element v of the ids and its key (malloc'd); NULL when out of memory. */
	struct provider_op *(*make)(const json_t *v, const void *arg, char **key);
	/*
	 * An item that did not answer: recorded in res (the answers so far)
	 * or elsewhere, and on (0), or an error that stops the batch.
	 */
	int (*miss)(const struct batch_item *it, json_t *res, const void *arg, struct nw_err *err);
};

/*
 * Sends one operation per element of ids (def->make) at once, waits for
 * them all and gathers the answers into a new object *out: each answered
 * item's result (null when it has none) under its key; the others go to
 * def->miss.  arg is passed to both.
 */
int batch_run(struct run *r, const json_t *ids, const struct batch_def *def, const void *arg, json_t **out,
    struct nw_err *err);

/*
 * The drift check before a wave: reads what the wave touches and
 * compares it with what the plan expects.  *changes gets the differences
 * (new reference, an empty array when none); the reads are left in
 * wr->cache for the steps' before-images.
 */
int drift_check(struct wave_run *wr, json_t **changes, struct nw_err *err);

/* The ids of ARM resources a wave's steps touch (new reference, plan order, no repeats). */
json_t *wave_resources(const json_t *wave);

/* --- gateway.c ----------------------------------------------------------------------- */

/*
 * The gateway the ExpressRoute migration of gateway_id made: the id
 * journaled after its prepare, or else found by fact (the resource
 * group's gateways: tagged CreatedBy: GatewaySKUMigration, in the old
 * gateway's GatewaySubnet) and journaled ("migrated-gateway" under the
 * prepare step; an event when it is not the plan's prediction).  *out
 * (malloc'd) is NULL when there is none: a VPN gateway (migrated in
 * place), or no migration prepared yet.  0, or a store or provider failure.
 */
int gateway_migrated_find(struct run *r, const char *gateway_id, char **out, struct nw_err *err);

/* The same, falling back to the plan's prediction when nothing is found; NULL when none. */
char *gateway_migrated_id(struct run *r, const char *gateway_id);

/*
 * The connections of the old and of the new gateway, as journaled with
 * the finding (ids; empty when nothing was found).  New reference.
 */
json_t *gateway_migrated_connections(struct run *r, const char *gateway_id);

/*
 * After an abort proven to have deleted the gateway the migration made:
 * journals that it is gone ("migrated-gateway-gone"), so that a later
 * prepare is settled by what it makes.
 */
int gateway_migrated_forget(struct run *r, const char *gateway_id, struct nw_err *err);

/* --- gates.c ------------------------------------------------------------------------- */

/*
 * Runs the gates of the wave that wait for job j's step (when
 * "after-step"); a failed one stops the wave (wr->stop, the evidence in
 * the run's result).  Marks j's gates done.  0, or a fatal status.
 */
int gate_after_step(struct wave_run *wr, struct job *j, struct nw_err *err);

/* Evaluates a gate once; *evidence (new reference) says what was seen. */
enum gate_outcome gate_eval(struct run *r, const json_t *gate, json_t **evidence);

/*
 * Evaluates a gate until it passes or exhausts its budget (failures,
 * inconclusive, errors; "not yet" until the gate timeout), recording each
 * result in the store.  Returns 0 when it passed, NW_EFAIL (with
 * *evidence) when it failed, or a fatal status.
 */
int gate_run(struct run *r, int wave_idx, const json_t *gate, json_t **evidence, struct nw_err *err);

/*
 * Proves a rolled-back wave: each rolled-back resource is as before the
 * wave, on-premises routes still go through the gateway, and the pairs
 * the wave meshed no longer have ConnectedGroup routes.  0 when proven;
 * NW_EFAIL with *evidence otherwise.
 */
int rollback_prove(struct run *r, struct wave_run *wr, json_t **evidence, struct nw_err *err);

/* --- inverse.c: conditional operations and inverses ----------------- */

enum inverse_verdict {
	INVERSE_SEND,  /* send the inverse (or the step has no condition) */
	INVERSE_SKIP,  /* nothing to undo: settle without sending, why says so */
	INVERSE_FAIL,  /* cannot tell: fail the step, why says so */
};

/*
 * At rollback, after j->pre holds the resource as it is now: whether the
 * step's inverse (its "condition", if any) should be sent.  May read from
 * the provider (waiting for that read).  why (size bytes) gets the reason
 * for SKIP and FAIL.
 */
enum inverse_verdict apply_inverse_check(struct job *j, char *why, size_t size);

/*
 * Forward, after j->pre holds the resource as it is now: true when the
 * step's operation has a "condition" that says nothing needs sending (why
 * says so).
 */
bool apply_operation_unneeded(struct job *j, char *why, size_t size);

#endif
