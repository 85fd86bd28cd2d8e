/*
 * What cmd/apply.c shares with cmd/demo.c: the progress display of a run
 * (a live line per wave on a terminal, plain lines otherwise, one JSON
 * event per line with --format json) and the helpers that set a run up
 * (the operator's name, signal handling) and read its events.
 */
#ifndef NETWAVE_CMD_APPLY_H
#define NETWAVE_CMD_APPLY_H

/* The format name of each line apply and rollback print with -o json (docs/schemas/event.schema.json). */
#define EVENT_FORMAT "netwave.event/v1"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "cmd/provider_opts.h"
#include "plan/jsonutil.h"
#include "state/apply/apply.h"

/* An event's (or status's) string member, "" when absent, and integer member, 0 when absent. */
static inline const char *
ev_s(const json_t *ev, const char *k)
{
	const char *v = json_str(ev, k);

	return v != NULL ? v : "";
}

static inline long
ev_i(const json_t *ev, const char *k)
{
	return (long)json_integer_value(json_object_get(ev, k));
}

struct progress {
	FILE *f;
	bool json;          /* one event per line */
	bool live;          /* a terminal: redraw the wave's line */
	bool steps;         /* plain mode: a line per step */
	bool line_open;     /* a live line is on screen */
	const char *prefix; /* put before every plain line ("" or "rehearsal: ") */
	char wave[128];
	char direction[16];
	long done, total, running, failed, retries, throttled;
	double eta, elapsed;
	int gates_passed, gates_total;
};

/* Sets up a display for ctx and the chosen format. */
void progress_init(struct progress *pr, struct cmd_ctx *ctx, bool json);

/* The apply_event_fn: arg is a struct progress. */
void progress_event(void *arg, const json_t *ev);

/* Ends a live line, if one is open. */
void progress_close(struct progress *pr);

/* Prints a run's evidence (a failed gate, drift, failed steps) for people. */
void progress_evidence(FILE *f, const json_t *evidence);

/*
 * The options apply and rollback share, at the end of each one's table:
 * how a run is carried out, where it is recorded, how progress shows,
 * and the cloud it talks to.
 */
#define CMD_RUN_OPTIONS \
	CMD_DB_OPTION, \
	CMD_HISTORY_OPTION, \
	{ "no-history", 0, NULL, 0, "do not commit waves to the history" }, \
	{ "format", 0, "text|json", 0, "progress as text (default) or one JSON event per line" }, \
	CMD_PROVIDER_OPTIONS

/* Runs apply (APPLY_FORWARD) or rollback (APPLY_ROLLBACK) as the command line a asks. */
int cmd_run_exec(struct cmd_ctx *ctx, const struct cmd_args *a, enum apply_direction dir, struct nw_err *err);

/* The name of the user running netwave (the history's Operator). */
const char *cmd_operator_name(void);

/* SIGINT and SIGTERM set *flag (the run stops at the next step boundary); restore undoes it. */
void cmd_interrupt_catch(volatile sig_atomic_t *flag);
void cmd_interrupt_restore(void);

/*
 * The client credential a private in-process emulator knows, handed to the
 * Azure provider in place of the environment (its getenv hook, arg is the
 * struct), so a rehearsal or the demo never reads the user's credentials.
 */
struct emulator_credential {
	const char *tenant, *client, *secret;
};
const char *cmd_emulator_getenv(void *arg, const char *name);

/* Asks on the terminal (apply_confirm_fn); arg is the struct cmd_ctx. */
bool cmd_confirm_tty(void *arg, const char *prompt, const char *expected);

#endif
