/*
 * netwave apply: parse, open the plan store, the provider and the
 * history, hand the plan to the apply engine (state/apply/apply.h), and
 * show its progress: a live line per wave on a terminal, plain lines
 * otherwise, one JSON event per line with --format json.  The run itself
 * (cmd_run_exec) serves rollback too (cmd/rollback.c); `apply --dry-run`
 * picks the estate to seed and hands the rehearsal to the engine
 * (state/apply/rehearse.c).  status is cmd/status.c.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/apply.h"
#include "cmd/cmd.h"
#include "cmd/provider_opts.h"
#include "plan/jsonutil.h"
#include "plan/topology.h"
#include "providers/azure/azure.h"
#include "providers/emulator/emulator.h"
#include "state/apply/apply.h"
#include "state/history.h"
#include "state/store.h"

static const struct cmd_option apply_options[] = {
	{ "wave", 0, "NAME", 0, "apply only this wave (the waves before it must be done)" },
	{ "through", 0, "NAME", 0, "apply every wave up to and including this one" },
	{ "all", 0, NULL, 0, "apply every wave" },
	{ "yes", 'y', NULL, 0, "confirm irreversible steps (commitMigration, deletions)" },
	{ "auto-rollback", 0, NULL, 0, "roll a wave back when a step or gate fails, and prove the way back" },
	{ "parallel", 0, "N", 0, "steps in flight at once (default 8)" },
	{ "dry-run", 0, NULL, 0, "rehearse against a private emulator seeded with the current topology" },
	{ "no-preflight", 0, NULL, 0, "do not run preflight before the first write (not advised)" },
	{ "end-soak", 0, NULL, 0, "end the soak now running early (needs --by and --reason)" },
	{ "by", 0, "NAME", 0, "with --end-soak: who ends the soak (recorded)" },
	{ "reason", 0, "TEXT", 0, "with --end-soak: why (recorded)" },
	{ "current", 0, "FILE", 0, "the topology the plan was made from (default: the plan's --current)" },
	CMD_RUN_OPTIONS,
	{ NULL, 0, NULL, 0, NULL },
};

static int apply_exec(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err);

const struct cmd_entry cmd_apply_entry = {
	.name = "apply",
	.usage = "PLAN [--wave NAME | --through NAME | --all] [--yes] [--auto-rollback] [--parallel N] "
	    "[--dry-run] [--end-soak --by NAME --reason TEXT] [--db FILE]",
	.summary = "carry out a plan wave by wave, with gates, a crash-safe journal and history",
	.description =
	    "Carries out the waves of a stored plan: without --wave, --through or --all, the next\n"
	    "wave not done.  Before a wave's first step, what it touches is read again; a change\n"
	    "since the plan was made stops with exit 3 naming each resource and property.  Each\n"
	    "step is journaled before its request is sent, so a run that is interrupted or killed\n"
	    "exits 5 (or dies) and the same command resumes it without sending a POST action twice.\n"
	    "Gates run after each wave; a failed gate stops with exit 1 and its evidence, or with\n"
	    "--auto-rollback rolls the wave back and proves the way back.  A wave still soaking\n"
	    "stops the run (exit 5) with the time it needs; --end-soak --by NAME --reason TEXT ends\n"
	    "it now on a person's word, recorded in the journal, the history and status.  Against\n"
	    "a netwave emulator, soaks are divided by its --time-scale (and waited out when that\n"
	    "leaves at most 2 minutes).  Irreversible steps need --yes or the wave's name typed\n"
	    "on a terminal.  Another run on the same plan gives exit 4.\n"
	    "Each wave applied is committed to the history (tag PLAN/WAVE/applied).\n"
	    "Credentials and provider options are those of 'netwave discover'.  See docs/apply.md.",
	.options = apply_options,
	.min_args = 1,
	.max_args = 1,
	.exec = apply_exec,
	.flags = CMD_NEEDS_STORE | CMD_NEEDS_PROVIDER | CMD_NEEDS_HISTORY | CMD_SETUP_ON_USE,
};

/* ------------------------------------------------------------------ */
/* Progress */

void
progress_init(struct progress *pr, struct cmd_ctx *ctx, bool json)
{
	memset(pr, 0, sizeof(*pr));
	pr->f = ctx->out;
	pr->json = json;
	pr->live = !json && ctx->out_is_tty && getenv("NETWAVE_NO_LIVE") == NULL;
	pr->steps = !json && !pr->live;
	pr->prefix = "";
	pr->eta = -1;
}

void
progress_close(struct progress *pr)
{
	if (pr->line_open) {
		fputs("\n", pr->f);
		pr->line_open = false;
	}
}

static void
clear_live(struct progress *pr)
{
	if (pr->line_open) {
		fputs("\r\033[K", pr->f);
		pr->line_open = false;
	}
}

static void
draw_live(struct progress *pr)
{
	char bar[21];
	long i, fill = pr->total > 0 ? pr->done * 20 / pr->total : 0;

	for (i = 0; i < 20; i++)
		bar[i] = i < fill ? '#' : '-';
	bar[20] = '\0';
	fprintf(pr->f, "\r\033[K%s%s %-18s [%s] %ld/%ld steps, %ld running", pr->prefix,
	    strcmp(pr->direction, "rollback") == 0 ? "undo" : "wave", pr->wave, bar, pr->done, pr->total,
	    pr->running);
	if (pr->retries > 0)
		fprintf(pr->f, ", %ld retries", pr->retries);
	if (pr->throttled > 0)
		fprintf(pr->f, ", %ld throttled", pr->throttled);
	if (pr->failed > 0)
		fprintf(pr->f, ", %ld failed", pr->failed);
	if (pr->gates_total > 0)
		fprintf(pr->f, ", gates %d/%d", pr->gates_passed, pr->gates_total);
	if (pr->eta >= 0)
		fprintf(pr->f, ", ETA %.0f s", pr->eta);
	fflush(pr->f);
	pr->line_open = true;
}

static const char *
short_id(const char *id)
{
	const char *s = id != NULL ? strrchr(id, '/') : NULL;

	return s != NULL ? s + 1 : id != NULL ? id : "";
}

static void
say(struct progress *pr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say(struct progress *pr, const char *fmt, ...)
{
	va_list ap;

	clear_live(pr);
	fputs(pr->prefix, pr->f);
	va_start(ap, fmt);
	vfprintf(pr->f, fmt, ap);
	va_end(ap);
	fputc('\n', pr->f);
	if (pr->live && pr->wave[0] != '\0' && pr->total > 0 && pr->done < pr->total)
		draw_live(pr);
	fflush(pr->f);
}

/* One handler per progress event, for people; ev's "event" names it. */
typedef void (*event_fn)(struct progress *pr, const json_t *ev);

/* Which wave the live line follows and how far it is, from a tick or a wave-start (total: its key). */
static void
progress_wave(struct progress *pr, const json_t *ev, const char *total)
{
	snprintf(pr->wave, sizeof(pr->wave), "%s", ev_s(ev, "wave"));
	snprintf(pr->direction, sizeof(pr->direction), "%s", ev_s(ev, "direction"));
	pr->done = ev_i(ev, "done");
	pr->total = ev_i(ev, total);
}

static void
ev_tick(struct progress *pr, const json_t *ev)
{
	progress_wave(pr, ev, "total");
	pr->running = ev_i(ev, "running");
	pr->failed = ev_i(ev, "failed");
	pr->retries = ev_i(ev, "retries");
	pr->throttled = ev_i(ev, "throttled");
	pr->eta = json_real_value(json_object_get(ev, "eta"));
	pr->elapsed = json_real_value(json_object_get(ev, "elapsed"));
	if (pr->live)
		draw_live(pr);
}

static void
ev_nothing_to_do(struct progress *pr, const json_t *ev)
{
	say(pr, "%s: %s", ev_s(ev, "plan"), ev_s(ev, "message"));
}

static void
ev_wave_start(struct progress *pr, const json_t *w)
{
	progress_wave(pr, w, "steps");
	pr->gates_passed = pr->gates_total = 0;
	pr->retries = pr->throttled = pr->failed = pr->running = 0;
	pr->eta = -1;
	if (strcmp(ev_s(w, "direction"), "rollback") == 0)
		say(pr, "roll back wave %s (%s): %ld step(s) to undo", ev_s(w, "wave"), ev_s(w, "kind"),
		    ev_i(w, "steps"));
	else
		say(pr, "wave %s (%s): %ld step(s)%s", ev_s(w, "wave"), ev_s(w, "kind"), ev_i(w, "steps"),
		    ev_i(w, "done") > 0 ? ", resuming" : "");
}

static void
ev_step_done(struct progress *pr, const json_t *ev)
{
	const char *name = ev_s(ev, "event");

	if (pr->steps)
		say(pr, "  %s %s%s%s", ev_s(ev, "step"), strcmp(name, "step-done") == 0 ? "done" :
		    "rolled back", json_str(ev, "how") != NULL ? ": " : "", ev_s(ev, "how"));
}

static void
ev_step_skipped(struct progress *pr, const json_t *ev)
{
	if (pr->steps)
		say(pr, "  %s skipped: nothing to do", ev_s(ev, "step"));
}

static void
ev_step_failed(struct progress *pr, const json_t *ev)
{
	if (strncmp(ev_s(ev, "error"), ev_s(ev, "step"), strlen(ev_s(ev, "step"))) == 0)
		say(pr, "  failed: %s", ev_s(ev, "error"));
	else
		say(pr, "  %s failed: %s", ev_s(ev, "step"), ev_s(ev, "error"));
}

static void
ev_step_retry(struct progress *pr, const json_t *ev)
{
	if (pr->steps)
		say(pr, "  %s will be sent again in %.1f s: %s", ev_s(ev, "step"),
		    json_real_value(json_object_get(ev, "delay")), ev_s(ev, "reason"));
}

static void
ev_step_reconcile(struct progress *pr, const json_t *ev)
{
	say(pr, "  %s was started by an earlier run (attempt %ld): %s", ev_s(ev, "step"),
	    ev_i(ev, "attempt"), json_is_true(json_object_get(ev, "journaledOperation")) ?
	    "following its journaled operation" : "reading its state");
}

static void
ev_step_reconciled(struct progress *pr, const json_t *ev)
{
	say(pr, "  %s: %s", ev_s(ev, "step"), ev_s(ev, "how"));
}

static void
ev_step_uncertain(struct progress *pr, const json_t *ev)
{
	say(pr, "  %s: no clear answer (%s); reading its state instead of sending it again",
	    ev_s(ev, "step"), ev_s(ev, "error"));
}

static void
ev_gate_start(struct progress *pr, const json_t *ev)
{
	pr->gates_total++;
}

static void
ev_gate_wait(struct progress *pr, const json_t *ev)
{
	if (!pr->live)
		say(pr, "  gate %s (%s) waiting: %s", ev_s(ev, "gate"), ev_s(ev, "kind"), ev_s(ev, "summary"));
}

static void
ev_gate_result(struct progress *pr, const json_t *ev)
{
	if (strcmp(ev_s(ev, "outcome"), "passed") == 0)
		pr->gates_passed++;
	say(pr, "  gate %s %s %s: %s", ev_s(ev, "gate"), ev_s(ev, "kind"), ev_s(ev, "outcome"), ev_s(ev, "summary"));
}

static void
ev_drift(struct progress *pr, const json_t *ev)
{
	const json_t *c;
	size_t i;

	say(pr, "drift in what wave %s touches:", ev_s(ev, "wave"));
	json_array_foreach(json_object_get(ev, "changes"), i, c) {
		char b[80], a[80];
		if (i >= 20) {
			say(pr, "  ... %zu more", json_array_size(json_object_get(ev, "changes")) - i);
			break;
		}
		json_text(b, sizeof(b), json_object_get(c, "before"), "(absent)", 60);
		json_text(a, sizeof(a), json_object_get(c, "after"), "(absent)", 60);
		say(pr, "  %s %s %s: planned %s, now %s", short_id(ev_s(c, "resource")), ev_s(c, "kind"),
		    ev_s(c, "pointer")[0] != '\0' ? ev_s(c, "pointer") : "(resource)", b, a);
	}
}

static void
ev_soak_wait(struct progress *pr, const json_t *ev)
{
	say(pr, "wave %s soaks until %s (%.0f s left)%s", ev_s(ev, "wave"), ev_s(ev, "until"),
	    json_real_value(json_object_get(ev, "secondsLeft")), json_is_true(json_object_get(ev,
	    "waiting")) ? ": waiting" : "");
}

static void
ev_soak_next(struct progress *pr, const json_t *ev)
{
	say(pr, "wave %s soaks until %s before the next wave may start", ev_s(ev, "wave"), ev_s(ev, "until"));
}

static void
ev_history(struct progress *pr, const json_t *ev)
{
	if (json_is_true(json_object_get(ev, "committed")))
		say(pr, "  history: commit %.10s%s%s", ev_s(ev, "commit"), json_str(ev, "tag") != NULL ?
		    ", tag " : "", ev_s(ev, "tag"));
}

static void
ev_wave_end(struct progress *pr, const json_t *ev)
{
	const char *name = ev_s(ev, "event");

	if (strcmp(name, "wave-done") == 0)
		pr->done = pr->total;
	clear_live(pr);
	say(pr, "wave %s %s", ev_s(ev, "wave"), strcmp(name, "wave-done") == 0 ? "done" :
	    strcmp(name, "wave-rolled-back") == 0 ? "rolled back" : "failed");
	if (strcmp(name, "wave-failed") != 0)
		pr->wave[0] = '\0';
}

static void
ev_auto_rollback(struct progress *pr, const json_t *ev)
{
	say(pr, "rolling wave %s back (--auto-rollback)", ev_s(ev, "wave"));
}

static void
ev_rollback_proof(struct progress *pr, const json_t *ev)
{
	const char *name = ev_s(ev, "event");

	if (strcmp(name, "rollback-proven") == 0)
		say(pr, "  the way back is proven: %ld resource(s) as before, route checks passed",
		    (long)json_integer_value(json_path(ev, "evidence", "restored", NULL)));
	else
		say(pr, "  the way back is NOT proven");
}

static void
ev_rollback_stopped(struct progress *pr, const json_t *ev)
{
	say(pr, "rollback of wave %s stops in front of %s: %s", ev_s(ev, "wave"), ev_s(ev, "step"),
	    ev_s(ev, "description"));
}

static void
ev_interrupted(struct progress *pr, const json_t *ev)
{
	say(pr, "interrupted: finishing the %ld step(s) in flight, then stopping", ev_i(ev, "running"));
}

static void
ev_warning(struct progress *pr, const json_t *ev)
{
	say(pr, "warning: %s", ev_s(ev, "message"));
}

static void
ev_run_end(struct progress *pr, const json_t *ev)
{
	clear_live(pr);
}

static const struct {
	const char *name;
	event_fn fn;
} event_table[] = {
	{ "tick", ev_tick },
	{ "nothing-to-do", ev_nothing_to_do },
	{ "wave-start", ev_wave_start },
	{ "step-done", ev_step_done },
	{ "step-rolled-back", ev_step_done },
	{ "step-skipped", ev_step_skipped },
	{ "step-failed", ev_step_failed },
	{ "step-retry", ev_step_retry },
	{ "step-reconcile", ev_step_reconcile },
	{ "step-reconciled", ev_step_reconciled },
	{ "step-uncertain", ev_step_uncertain },
	{ "gate-start", ev_gate_start },
	{ "gate-wait", ev_gate_wait },
	{ "gate-result", ev_gate_result },
	{ "drift", ev_drift },
	{ "soak-wait", ev_soak_wait },
	{ "soak-next", ev_soak_next },
	{ "history", ev_history },
	{ "wave-done", ev_wave_end },
	{ "wave-rolled-back", ev_wave_end },
	{ "wave-failed", ev_wave_end },
	{ "auto-rollback", ev_auto_rollback },
	{ "rollback-proven", ev_rollback_proof },
	{ "rollback-not-proven", ev_rollback_proof },
	{ "rollback-stopped", ev_rollback_stopped },
	{ "interrupted", ev_interrupted },
	{ "warning", ev_warning },
	{ "run-end", ev_run_end },
};

void
progress_event(void *arg, const json_t *ev)
{
	struct progress *pr = arg;
	const char *name = ev_s(ev, "event");
	size_t i;

	if (pr->json) {
		json_t *c;
		char *line;

		if (strcmp(name, "tick") == 0)
			return;
		/* each line a document of its own, named as every JSON netwave prints */
		c = json_copy((json_t *)ev);
		if (c != NULL)
			json_object_set_new(c, "format", json_string(EVENT_FORMAT));
		line = c != NULL ? json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		json_decref(c);
		if (line != NULL) {
			fprintf(pr->f, "%s\n", line);
			fflush(pr->f);
		}
		free(line);
		return;
	}
	/* events not in the table (run-start and any other) print nothing for people */
	for (i = 0; i < sizeof(event_table) / sizeof(event_table[0]); i++)
		if (strcmp(name, event_table[i].name) == 0) {
			event_table[i].fn(pr, ev);
			return;
		}
}

void
progress_evidence(FILE *f, const json_t *evidence)
{
	const json_t *x;
	size_t i;

	if (evidence == NULL)
		return;
	if (json_str(evidence, "gate") != NULL) {
		const json_t *ev = json_object_get(evidence, "evidence");
		fprintf(f, "gate %s (%s) %s: %s\n", ev_s(evidence, "gate"), ev_s(evidence, "kind"),
		    ev_s(evidence, "outcome"), ev_s(evidence, "description"));
		fprintf(f, "  %s\n", ev_s(ev, "summary"));
		json_array_foreach(json_object_get(ev, "missing"), i, x)
			fprintf(f, "  %s -> %s: %s has %s\n", short_id(ev_s(x, "from")), json_str(x, "to") != NULL ?
			    short_id(ev_s(x, "to")) : "on-premises", ev_s(x, "prefix"), ev_s(x, "found"));
		json_array_foreach(json_object_get(ev, "mismatches"), i, x) {
			char a[80], b[80];
			json_text(a, sizeof(a), json_object_get(x, "actual"), "(absent)", 60);
			json_text(b, sizeof(b), json_object_get(x, "expected"), "(absent)", 60);
			fprintf(f, "  %s %s: %s, expected %s\n", short_id(ev_s(x, "resource")), ev_s(x, "pointer"), a, b);
		}
		return;
	}
	json_array_foreach(json_object_get(evidence, "failedSteps"), i, x)
		fprintf(f, "step %s (%s): %s\n", ev_s(x, "step"), ev_s(x, "action"), ev_s(x, "error"));
}

/* ------------------------------------------------------------------ */
/* Helpers shared with the demo */

const char *
cmd_operator_name(void)
{
	const struct passwd *pw = getpwuid(geteuid());
	const char *name;

	if (pw != NULL && pw->pw_name != NULL && *pw->pw_name != '\0')
		return pw->pw_name;
	name = getenv("USER");
	return name != NULL && *name != '\0' ? name : "unknown";
}

static volatile sig_atomic_t *interrupt_flag;
static struct sigaction old_int, old_term;

static void
on_signal(int sig)
{
	(void)sig;
	if (interrupt_flag != NULL)
		*interrupt_flag = 1;
}

void
cmd_interrupt_catch(volatile sig_atomic_t *flag)
{
	struct sigaction sa;

	interrupt_flag = flag;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
}

void
cmd_interrupt_restore(void)
{
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	interrupt_flag = NULL;
}

bool
cmd_confirm_tty(void *arg, const char *prompt, const char *expected)
{
	struct cmd_ctx *ctx = arg;
	char line[512];
	size_t n;

	fputs(prompt, ctx->err);
	fflush(ctx->err);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return false;
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
		line[--n] = '\0';
	return strcmp(line, expected) == 0;
}

/* ------------------------------------------------------------------ */
/* The rehearsal (--dry-run) */

const char *
cmd_emulator_getenv(void *arg, const char *name)
{
	const struct emulator_credential *e = arg;

	if (strcmp(name, "AZURE_TENANT_ID") == 0)
		return e->tenant;
	if (strcmp(name, "AZURE_CLIENT_ID") == 0)
		return e->client;
	if (strcmp(name, "AZURE_CLIENT_SECRET") == 0)
		return e->secret;
	return NULL;
}

/*
 * apply --dry-run: the seed is the topology the plan was made from, or
 * the estate as discovered now through the real provider (only read);
 * the rehearsal itself is the engine's (state/apply/rehearse.c).
 */
static int
dry_run(struct cmd_ctx *ctx, const struct cmd_args *a, struct store *real, const char *plan_arg,
    struct apply_opts *o, struct progress *pr, struct nw_err *err)
{
	struct provider *live;
	struct apply_result res;
	json_t *plan = NULL, *seed = NULL;
	int rc;

	memset(&res, 0, sizeof(res));
	if ((rc = apply_rehearsal_seed(real, plan_arg, cmd_arg(a, "current"), &seed, err)) != 0)
		return rc;
	if (seed == NULL) {
		/* the estate as it is now, read (only read) through the real provider */
		struct azure_discover_opts dopts = { 0 };
		const char *subs[64];
		size_t n = 0, i;
		const json_t *sv;

		if ((rc = store_plan_get(real, plan_arg, &plan, err)) != 0)
			goto done;
		json_array_foreach(json_object_get(plan, "subscriptions"), i, sv)
			if (n < 64 && json_is_string(sv))
				subs[n++] = json_string_value(sv);
		dopts.subscriptions = subs;
		dopts.nsubscriptions = n;
		dopts.cloud = cmd_provider_cloud(a);
		if ((rc = cmd_provider_get(ctx, &live, err)) != 0 ||
		    (rc = azure_discover(&seed, live, &dopts, NULL, err)) != 0) {
			err_prefix(err, "cannot read the current estate for the rehearsal");
			goto done;
		}
		fprintf(ctx->err, "rehearsal: seeded from the estate as discovered now\n");
	}
	pr->prefix = "rehearsal: ";
	rc = apply_rehearse(real, plan_arg, seed, ctx->now, o, &res, err);
	progress_close(pr);
	if (res.evidence != NULL)
		progress_evidence(ctx->err, res.evidence);
	if (rc == 0)
		fprintf(ctx->out, "rehearsal of plan %s: %u wave(s) would be carried out, %u step(s), %u gate(s) "
		    "passed; nothing real was touched\n", res.plan_id, res.waves_done, res.steps_done,
		    res.gates_passed);
	else
		err_prefix(err, "rehearsal");
done:
	apply_result_clear(&res);
	json_decref(seed);
	json_decref(plan);
	return rc;
}

/* ------------------------------------------------------------------ */
/* apply and rollback */

/* --end-soak --by NAME --reason TEXT: all three or none (forward only). */
static int
end_soak_args(const struct cmd_args *a, enum apply_direction dir, struct apply_opts *o, struct nw_err *err)
{
	const char *by = cmd_arg(a, "by"), *why = cmd_arg(a, "reason");

	if (dir != APPLY_FORWARD)
		return 0;
	if (!cmd_flag(a, "end-soak")) {
		if (by != NULL || why != NULL)
			return err_set(err, NW_EINPUT, "'--by' and '--reason' go with '--end-soak'");
		return 0;
	}
	if (by == NULL || *by == '\0' || why == NULL || *why == '\0')
		return err_set(err, NW_EINPUT, "'--end-soak' needs '--by NAME' and '--reason TEXT': who ends "
		    "the soak early and why are recorded in the journal and the history");
	if (strpbrk(by, "\r\n") != NULL || strpbrk(why, "\r\n") != NULL || strlen(by) > 100 ||
	    strlen(why) > 400)
		return err_set(err, NW_EINPUT, "'--by' (up to 100 characters) and '--reason' (up to 400) are "
		    "one line each");
	o->end_soak_by = by;
	o->end_soak_reason = why;
	return 0;
}

/*
 * An ARM endpoint that is a netwave emulator says so, and its time scale,
 * at /__netwave/health: its soaks are divided by that scale, as its own
 * clock is, so a rehearsal soaks for as long as the emulator's operations
 * last.  Real ARM answers 404 there (nothing changes).  Asked only when
 * --arm-endpoint is given.
 */
static void
emulator_soak_scale(struct cmd_ctx *ctx, const struct cmd_args *a, struct provider *p,
    struct apply_opts *o)
{
	struct nw_err e = { 0 };
	json_t *h = NULL;
	double ts;

	if (cmd_arg(a, "arm-endpoint") == NULL || o->soak_scale > 0)
		return;
	if (provider_read(p, "/__netwave/health", &h, &e) == 0 && json_is_object(h) &&
	    json_str(h, "service") != NULL && strcmp(json_str(h, "service"), "netwave-emulator") == 0 &&
	    json_is_number(json_object_get(h, "timeScale")) &&
	    (ts = json_number_value(json_object_get(h, "timeScale"))) > 0) {
		o->soak_scale = ts;
		/* as --dry-run does: a scaled soak of up to two minutes is waited out */
		o->soak_wait_max = 120;
		if (ts != 1.0)
			fprintf(ctx->err, "the ARM endpoint is a netwave emulator at time scale %g: soaks are "
			    "divided by %g, as its clock is\n", ts, ts);
	}
	json_decref(h);
}

/*
 * For tests only: NETWAVE_TEST_CRASH_AFTER=N stops the run dead after N
 * journal writes, the lease kept, as kill -9 at that point would
 * (tests/cli/cli_scenario_faults.sh crashes a wave after every write in
 * turn); the run exits 5 like any run that stopped part way.
 */
static int
test_crash_after(struct apply_opts *o, struct nw_err *err)
{
	const char *v = getenv("NETWAVE_TEST_CRASH_AFTER");
	char *end = NULL;
	unsigned long n;

	if (v == NULL || *v == '\0')
		return 0;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n == 0 || n > UINT_MAX)
		return err_set(err, NW_EINPUT, "NETWAVE_TEST_CRASH_AFTER: '%s' is not a whole number "
		    "from 1 to %u", v, UINT_MAX);
	o->crash_after = (unsigned)n;
	return 0;
}

/* What the preflight apply runs before its first write needs. */
struct preflight_guard {
	struct cmd_ctx *ctx;
	struct store *st;
	struct provider *p;
	const char *current;
};

static int
preflight_before_writes(void *arg, const char *plan_id, struct nw_err *err)
{
	struct preflight_guard *g = arg;

	return cmd_preflight_guard(g->ctx, g->st, g->p, plan_id, g->current, err);
}

int
cmd_run_exec(struct cmd_ctx *ctx, const struct cmd_args *a, enum apply_direction dir, struct nw_err *err)
{
	struct preflight_guard guard = { 0 };
	struct apply_opts o = { 0 };
	struct apply_result res;
	struct progress pr;
	struct store *st;
	struct provider *p;
	struct history *h;
	enum output_format fmt;
	volatile sig_atomic_t stop = 0;
	const char *plan = a->pos[0];
	char owner[300];
	unsigned long parallel;
	int scopes = 0, rc;

	memset(&res, 0, sizeof(res));
	if ((rc = cmd_arg_format(a, FORMAT_TEXT | FORMAT_JSON, FORMAT_TEXT, &fmt, err)) != 0)
		return rc;
	o.direction = dir;
	if (cmd_arg(a, "wave") != NULL) {
		o.scope = APPLY_WAVE;
		o.wave = cmd_arg(a, "wave");
		scopes++;
	}
	if (dir == APPLY_FORWARD && cmd_arg(a, "through") != NULL) {
		o.scope = APPLY_THROUGH;
		o.wave = cmd_arg(a, "through");
		scopes++;
	}
	if (cmd_flag(a, "all")) {
		o.scope = APPLY_ALL;
		scopes++;
	}
	if (scopes > 1)
		return err_set(err, NW_EINPUT, "give at most one of %s", dir == APPLY_FORWARD ?
		    "'--wave', '--through' and '--all'" : "'--wave' and '--all'");
	if ((rc = cmd_arg_ulong(a, "parallel", 1, 256, APPLY_DEFAULT_PARALLEL, &parallel, err)) != 0)
		return rc;
	o.parallel = (unsigned)parallel;
	if ((rc = test_crash_after(&o, err)) != 0)
		return rc;
	o.yes = cmd_flag(a, "yes");
	o.auto_rollback = dir == APPLY_FORWARD && cmd_flag(a, "auto-rollback");
	o.current_path = cmd_arg(a, "current");
	o.operator_name = cmd_operator_name();
	snprintf(owner, sizeof(owner), "%s %s", o.operator_name, dir == APPLY_FORWARD ? "apply" : "rollback");
	o.owner = owner;
	o.interrupt = &stop;
	if ((rc = end_soak_args(a, dir, &o, err)) != 0)
		return rc;
	if (isatty(STDIN_FILENO) == 1 && !o.yes) {
		o.confirm = cmd_confirm_tty;
		o.confirm_arg = ctx;
	}
	progress_init(&pr, ctx, fmt == FORMAT_JSON);
	o.on_event = progress_event;
	o.event_arg = &pr;

	if ((rc = cmd_store_open(ctx, &st, err)) != 0)
		goto done;
	if (dir == APPLY_FORWARD && cmd_flag(a, "dry-run")) {
		rc = dry_run(ctx, a, st, plan, &o, &pr, err);
		goto done;
	}
	if ((rc = cmd_provider_get(ctx, &p, err)) != 0)
		goto done;
	emulator_soak_scale(ctx, a, p, &o);
	if (!cmd_flag(a, "no-history")) {
		if ((rc = cmd_history_open(ctx, true, &h, err)) != 0) {
			err_prefix(err, "cannot open the history");
			goto done;
		}
		o.history = h;
	}
	/* what Azure would refuse is found before the first write (docs/preflight.md) */
	if (dir == APPLY_FORWARD && !cmd_flag(a, "no-preflight")) {
		guard.ctx = ctx;
		guard.st = st;
		guard.p = p;
		guard.current = cmd_arg(a, "current");
		o.before_writes = preflight_before_writes;
		o.before_writes_arg = &guard;
	}
	cmd_interrupt_catch(&stop);
	rc = apply_run(st, p, plan, &o, &res, err);
	cmd_interrupt_restore();
	progress_close(&pr);
	if (res.evidence != NULL && fmt != FORMAT_JSON)
		progress_evidence(ctx->err, res.evidence);
	if (o.end_soak_by != NULL && !res.soak_ended && (rc == 0 || rc == NW_EPARTIAL))
		fprintf(ctx->err, "--end-soak: no soak was running; nothing was ended\n");
	if (rc == 0 && fmt != FORMAT_JSON) {
		if (dir == APPLY_FORWARD)
			fprintf(ctx->out, "plan %s: %u wave(s) applied, %u step(s) carried out%s%s%s\n", res.plan_id,
			    res.waves_done, res.steps_done, res.steps_reconciled > 0 ? ", " : "",
			    res.steps_reconciled > 0 ? "some settled from the journal" : "",
			    res.soak_until[0] != '\0' ? "; the next wave may start after its soak" : "");
		else
			fprintf(ctx->out, "plan %s: %u wave(s) rolled back, %u step(s) undone\n", res.plan_id,
			    res.waves_done, res.steps_done);
	}
done:
	apply_result_clear(&res);
	return rc;
}

static int
apply_exec(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err)
{
	return cmd_run_exec(ctx, a, APPLY_FORWARD, err);
}

/* ------------------------------------------------------------------ */
/* The entries */
