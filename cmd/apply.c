/*
 * netwave apply, rollback and status: parse, open the plan store, the
 * provider and the history, hand the plan to the apply engine
 * (state/apply.h), and show its progress: a live line per wave on a
 * terminal, plain lines otherwise, one JSON event per line with
 * --format json.  `apply --dry-run` rehearses the plan against a private
 * in-process emulator seeded with the current topology, with a private
 * copy of the plan store, so nothing real is touched.
 */
#include "config.h"

#include <errno.h>
#include <ftw.h>
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
#include "plan/plan_json.h"
#include "plan/planner.h"
#include "plan/report.h"
#include "plan/topology.h"
#include "providers/azure/azure.h"
#include "providers/emulator/emulator.h"
#include "state/apply.h"
#include "state/history.h"
#include "state/store.h"

/* In cmd/plan.c: --db, else $NETWAVE_DB, else ./netwave.db. */
const char *cmd_db_path(const struct cmd_args *a);

#define DRY_RUN_TIME_SCALE 10000.0

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

static const char *
s_(const json_t *ev, const char *k)
{
	const char *v = json_str(ev, k);

	return v != NULL ? v : "";
}

static long
i_(const json_t *ev, const char *k)
{
	return (long)json_integer_value(json_object_get(ev, k));
}

static void
value_short(const json_t *v, char *buf, size_t size)
{
	char *s;

	if (v == NULL) {
		snprintf(buf, size, "(absent)");
		return;
	}
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
	if (s != NULL && strlen(s) > 60)
		snprintf(buf, size, "%.57s...", s);
	else
		snprintf(buf, size, "%s", s != NULL ? s : "?");
	free(s);
}

void
progress_event(void *arg, const json_t *ev)
{
	struct progress *pr = arg;
	const char *name = s_(ev, "event");

	if (pr->json) {
		char *line;
		if (strcmp(name, "tick") == 0)
			return;
		line = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);
		if (line != NULL) {
			fprintf(pr->f, "%s\n", line);
			fflush(pr->f);
		}
		free(line);
		return;
	}
	if (strcmp(name, "tick") == 0) {
		snprintf(pr->wave, sizeof(pr->wave), "%s", s_(ev, "wave"));
		snprintf(pr->direction, sizeof(pr->direction), "%s", s_(ev, "direction"));
		pr->done = i_(ev, "done");
		pr->total = i_(ev, "total");
		pr->running = i_(ev, "running");
		pr->failed = i_(ev, "failed");
		pr->retries = i_(ev, "retries");
		pr->throttled = i_(ev, "throttled");
		pr->eta = json_real_value(json_object_get(ev, "eta"));
		pr->elapsed = json_real_value(json_object_get(ev, "elapsed"));
		if (pr->live)
			draw_live(pr);
		return;
	}
	if (strcmp(name, "run-start") == 0) {
		return;
	} else if (strcmp(name, "nothing-to-do") == 0) {
		say(pr, "%s: %s", s_(ev, "plan"), s_(ev, "message"));
	} else if (strcmp(name, "wave-start") == 0) {
		const json_t *w = ev;
		snprintf(pr->wave, sizeof(pr->wave), "%s", s_(w, "wave"));
		snprintf(pr->direction, sizeof(pr->direction), "%s", s_(w, "direction"));
		pr->done = i_(w, "done");
		pr->total = i_(w, "steps");
		pr->gates_passed = pr->gates_total = 0;
		pr->retries = pr->throttled = pr->failed = pr->running = 0;
		pr->eta = -1;
		if (strcmp(s_(w, "direction"), "rollback") == 0)
			say(pr, "roll back wave %s (%s): %ld step(s) to undo", s_(w, "wave"), s_(w, "kind"),
			    i_(w, "steps"));
		else
			say(pr, "wave %s (%s): %ld step(s)%s", s_(w, "wave"), s_(w, "kind"), i_(w, "steps"),
			    i_(w, "done") > 0 ? ", resuming" : "");
	} else if (strcmp(name, "step-done") == 0 || strcmp(name, "step-rolled-back") == 0) {
		if (pr->steps)
			say(pr, "  %s %s%s%s", s_(ev, "step"), strcmp(name, "step-done") == 0 ? "done" :
			    "rolled back", json_str(ev, "how") != NULL ? ": " : "", s_(ev, "how"));
	} else if (strcmp(name, "step-skipped") == 0) {
		if (pr->steps)
			say(pr, "  %s skipped: nothing to do", s_(ev, "step"));
	} else if (strcmp(name, "step-failed") == 0) {
		if (strncmp(s_(ev, "error"), s_(ev, "step"), strlen(s_(ev, "step"))) == 0)
			say(pr, "  failed: %s", s_(ev, "error"));
		else
			say(pr, "  %s failed: %s", s_(ev, "step"), s_(ev, "error"));
	} else if (strcmp(name, "step-retry") == 0) {
		if (pr->steps)
			say(pr, "  %s will be sent again in %.1f s: %s", s_(ev, "step"),
			    json_real_value(json_object_get(ev, "delay")), s_(ev, "reason"));
	} else if (strcmp(name, "step-reconcile") == 0) {
		say(pr, "  %s was started by an earlier run (attempt %ld): %s", s_(ev, "step"),
		    i_(ev, "attempt"), json_is_true(json_object_get(ev, "journaledOperation")) ?
		    "following its journaled operation" : "reading its state");
	} else if (strcmp(name, "step-reconciled") == 0) {
		say(pr, "  %s: %s", s_(ev, "step"), s_(ev, "how"));
	} else if (strcmp(name, "step-uncertain") == 0) {
		say(pr, "  %s: no clear answer (%s); reading its state instead of sending it again",
		    s_(ev, "step"), s_(ev, "error"));
	} else if (strcmp(name, "gate-start") == 0) {
		pr->gates_total++;
	} else if (strcmp(name, "gate-wait") == 0) {
		if (!pr->live)
			say(pr, "  gate %s (%s) waiting: %s", s_(ev, "gate"), s_(ev, "kind"), s_(ev, "summary"));
	} else if (strcmp(name, "gate-result") == 0) {
		if (strcmp(s_(ev, "outcome"), "passed") == 0)
			pr->gates_passed++;
		say(pr, "  gate %s %s %s: %s", s_(ev, "gate"), s_(ev, "kind"), s_(ev, "outcome"),
		    s_(ev, "summary"));
	} else if (strcmp(name, "drift") == 0) {
		const json_t *c;
		size_t i;
		say(pr, "drift in what wave %s touches:", s_(ev, "wave"));
		json_array_foreach(json_object_get(ev, "changes"), i, c) {
			char b[80], a[80];
			if (i >= 20) {
				say(pr, "  ... %zu more", json_array_size(json_object_get(ev, "changes")) - i);
				break;
			}
			value_short(json_object_get(c, "before"), b, sizeof(b));
			value_short(json_object_get(c, "after"), a, sizeof(a));
			say(pr, "  %s %s %s: planned %s, now %s", short_id(s_(c, "resource")), s_(c, "kind"),
			    s_(c, "pointer")[0] != '\0' ? s_(c, "pointer") : "(resource)", b, a);
		}
	} else if (strcmp(name, "soak-wait") == 0) {
		say(pr, "wave %s soaks until %s (%.0f s left)%s", s_(ev, "wave"), s_(ev, "until"),
		    json_real_value(json_object_get(ev, "secondsLeft")), json_is_true(json_object_get(ev,
		    "waiting")) ? ": waiting" : "");
	} else if (strcmp(name, "soak-next") == 0) {
		say(pr, "wave %s soaks until %s before the next wave may start", s_(ev, "wave"),
		    s_(ev, "until"));
	} else if (strcmp(name, "history") == 0) {
		if (json_is_true(json_object_get(ev, "committed")))
			say(pr, "  history: commit %.10s%s%s", s_(ev, "commit"), json_str(ev, "tag") != NULL ?
			    ", tag " : "", s_(ev, "tag"));
	} else if (strcmp(name, "wave-done") == 0) {
		pr->done = pr->total;
		clear_live(pr);
		say(pr, "wave %s done", s_(ev, "wave"));
		pr->wave[0] = '\0';
	} else if (strcmp(name, "wave-rolled-back") == 0) {
		clear_live(pr);
		say(pr, "wave %s rolled back", s_(ev, "wave"));
		pr->wave[0] = '\0';
	} else if (strcmp(name, "wave-failed") == 0) {
		clear_live(pr);
		say(pr, "wave %s failed", s_(ev, "wave"));
	} else if (strcmp(name, "auto-rollback") == 0) {
		say(pr, "rolling wave %s back (--auto-rollback)", s_(ev, "wave"));
	} else if (strcmp(name, "rollback-proven") == 0) {
		say(pr, "  the way back is proven: %ld resource(s) as before, route checks passed",
		    (long)json_integer_value(json_path(ev, "evidence", "restored", NULL)));
	} else if (strcmp(name, "rollback-not-proven") == 0) {
		say(pr, "  the way back is NOT proven");
	} else if (strcmp(name, "rollback-stopped") == 0) {
		say(pr, "rollback of wave %s stops in front of %s: %s", s_(ev, "wave"), s_(ev, "step"),
		    s_(ev, "description"));
	} else if (strcmp(name, "interrupted") == 0) {
		say(pr, "interrupted: finishing the %ld step(s) in flight, then stopping", i_(ev, "running"));
	} else if (strcmp(name, "warning") == 0) {
		say(pr, "warning: %s", s_(ev, "message"));
	} else if (strcmp(name, "run-end") == 0) {
		clear_live(pr);
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
		fprintf(f, "gate %s (%s) %s: %s\n", s_(evidence, "gate"), s_(evidence, "kind"),
		    s_(evidence, "outcome"), s_(evidence, "description"));
		fprintf(f, "  %s\n", s_(ev, "summary"));
		json_array_foreach(json_object_get(ev, "missing"), i, x)
			fprintf(f, "  %s -> %s: %s has %s\n", short_id(s_(x, "from")), json_str(x, "to") != NULL ?
			    short_id(s_(x, "to")) : "on-premises", s_(x, "prefix"), s_(x, "found"));
		json_array_foreach(json_object_get(ev, "mismatches"), i, x) {
			char a[80], b[80];
			value_short(json_object_get(x, "actual"), a, sizeof(a));
			value_short(json_object_get(x, "expected"), b, sizeof(b));
			fprintf(f, "  %s %s: %s, expected %s\n", short_id(s_(x, "resource")), s_(x, "pointer"), a, b);
		}
		return;
	}
	json_array_foreach(json_object_get(evidence, "failedSteps"), i, x)
		fprintf(f, "step %s (%s): %s\n", s_(x, "step"), s_(x, "action"), s_(x, "error"));
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

/* --history, else netwave-history beside the database. */
static int
history_dir_for(char *buf, size_t size, const struct cmd_args *a, const char *db, struct nw_err *err)
{
	const char *dir = cmd_arg(a, "history");

	if (dir != NULL && *dir != '\0') {
		if (strlen(dir) >= size)
			return err_set(err, NW_EINPUT, "option '--history': path too long");
		strcpy(buf, dir);
		return 0;
	}
	return history_default_dir(buf, size, db, err);
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

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Copies the run state of the waves already done into the rehearsal's store. */
static int
copy_done_waves(struct store *real, struct store *priv, const char *plan_id, time_t now,
    struct nw_err *err)
{
	json_t *waves = NULL, *steps = NULL;
	const json_t *w, *s;
	size_t i;
	int rc;

	if ((rc = store_wave_list(real, plan_id, &waves, err)) != 0 ||
	    (rc = store_step_list(real, plan_id, -1, &steps, err)) != 0)
		goto done;
	json_array_foreach(steps, i, s) {
		const char *st = json_str(s, "status");
		if (st == NULL || (strcmp(st, "done") != 0 && strcmp(st, "skipped") != 0))
			continue;
		if (strcmp(st, "done") == 0 &&
		    ((rc = store_step_start(priv, plan_id, json_str(s, "id"), STORE_FORWARD,
		    json_object_get(s, "beforeImage"), NULL, now, err)) != 0 ||
		    (rc = store_step_finish(priv, plan_id, json_str(s, "id"), STORE_STEP_DONE,
		    json_object_get(s, "afterImage"), NULL, now, err)) != 0))
			goto done;
		if (strcmp(st, "skipped") == 0 && (rc = store_step_finish(priv, plan_id, json_str(s, "id"),
		    STORE_STEP_SKIPPED, NULL, NULL, now, err)) != 0)
			goto done;
	}
	json_array_foreach(waves, i, w)
		if (json_str(w, "status") != NULL && strcmp(json_str(w, "status"), "done") == 0 &&
		    (rc = store_wave_set_status(priv, plan_id, (int)i, STORE_WAVE_DONE, now, err)) != 0)
			goto done;
done:
	json_decref(waves);
	json_decref(steps);
	return rc;
}

static int
dry_run(struct cmd_ctx *ctx, const struct cmd_args *a, struct store *real, const char *plan_arg,
    struct apply_opts *o, struct progress *pr, struct nw_err *err)
{
	struct emulator_opts eo = { 0 };
	struct azure_opts ao = { 0 };
	struct emulator_credential fe = { "00000000-0000-4000-8000-00000000d1e5", "netwave-rehearsal",
		"rehearsal-only" };
	struct emulator *emu = NULL;
	struct provider *p = NULL, *live = NULL;
	struct store *priv = NULL;
	struct topology *cur = NULL;
	struct apply_result res;
	json_t *plan = NULL, *seed = NULL, *waves = NULL;
	char dir[] = "/tmp/netwave-rehearsal.XXXXXX", dbp[512], fp[PLAN_JSON_FINGERPRINT_LEN];
	const char *cpath = cmd_arg(a, "current");
	bool any_done = false;
	const json_t *w;
	size_t i;
	int rc;

	memset(&res, 0, sizeof(res));
	if ((rc = store_plan_get(real, plan_arg, &plan, err)) != 0)
		return rc;
	if ((rc = store_wave_list(real, json_str(plan, "id"), &waves, err)) != 0)
		goto done;
	json_array_foreach(waves, i, w)
		if (json_str(w, "status") != NULL && strcmp(json_str(w, "status"), "pending") != 0)
			any_done = true;
	if (cpath == NULL)
		cpath = json_path_str(plan, "current", "source", NULL);
	/* the topology the plan was made from, when nothing has been applied yet */
	if (!any_done && cpath != NULL && topology_load_file(&cur, cpath, NULL, err) == 0 &&
	    plan_json_fingerprint(fp, cur, err) == 0 &&
	    strcmp(fp, json_path_str(plan, "current", "fingerprint", NULL) != NULL ?
	    json_path_str(plan, "current", "fingerprint", NULL) : "") == 0) {
		seed = json_incref(cur->root);
	} else {
		/* the estate as it is now, read (only read) through the real provider */
		struct azure_discover_opts dopts = { 0 };
		const char *subs[64];
		size_t n = 0;
		const json_t *sv;

		err_clear(err);
		json_array_foreach(json_object_get(plan, "subscriptions"), i, sv)
			if (n < 64 && json_is_string(sv))
				subs[n++] = json_string_value(sv);
		dopts.subscriptions = subs;
		dopts.nsubscriptions = n;
		dopts.cloud = cmd_provider_cloud(a);
		if ((rc = cmd_provider_open(ctx, a, &live, err)) != 0 ||
		    (rc = azure_discover(&seed, live, &dopts, NULL, err)) != 0) {
			err_prefix(err, "cannot read the current estate for the rehearsal");
			goto done;
		}
		fprintf(ctx->err, "rehearsal: seeded from the estate as discovered now\n");
	}
	if (mkdtemp(dir) == NULL) {
		rc = err_set(err, NW_EIO, "cannot make a directory for the rehearsal: %s", strerror(errno));
		goto done;
	}
	snprintf(dbp, sizeof(dbp), "%s/rehearsal.db", dir);
	if ((rc = store_open(&priv, dbp, true, err)) != 0 || (rc = store_plan_save(priv, plan, err)) != 0)
		goto cleanup;
	if (any_done && (rc = copy_done_waves(real, priv, json_str(plan, "id"), ctx->now, err)) != 0)
		goto cleanup;
	eo.seed_json = seed;
	eo.time_scale = DRY_RUN_TIME_SCALE;
	eo.rng_seed = 1;
	if ((rc = emulator_start(&emu, &eo, err)) != 0) {
		err_prefix(err, "cannot start the rehearsal emulator");
		goto cleanup;
	}
	ao.arm_endpoint = emulator_base_url(emu);
	ao.authority_host = emulator_base_url(emu);
	ao.getenv = cmd_emulator_getenv;
	ao.getenv_arg = &fe;
	ao.poll_interval = 0.05;
	if ((rc = azure_provider_new(&p, &ao, err)) != 0)
		goto cleanup;
	pr->prefix = "rehearsal: ";
	o->history = NULL;
	o->yes = true;           /* nothing real: irreversible steps are rehearsed too */
	o->confirm = NULL;
	o->current_path = NULL;
	o->soak_scale = DRY_RUN_TIME_SCALE;
	o->soak_wait_max = 120;
	o->poll_interval = 0.05;
	o->owner = "netwave apply --dry-run";
	rc = apply_run(priv, p, json_str(plan, "id"), o, &res, err);
	progress_close(pr);
	if (res.evidence != NULL)
		progress_evidence(ctx->err, res.evidence);
	if (rc == 0)
		fprintf(ctx->out, "rehearsal of plan %s: %u wave(s) would be carried out, %u step(s), %u gate(s) "
		    "passed; nothing real was touched\n", res.plan_id, res.waves_done, res.steps_done,
		    res.gates_passed);
	else
		err_prefix(err, "rehearsal");
cleanup:
	emulator_stop(emu);
	provider_free(p);
	store_close(priv);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
done:
	apply_result_clear(&res);
	provider_free(live);
	topology_free(cur);
	json_decref(seed);
	json_decref(waves);
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

static int
run_exec(struct cmd_ctx *ctx, const struct cmd_args *a, enum apply_direction dir, struct nw_err *err)
{
	struct apply_opts o = { 0 };
	struct apply_result res;
	struct progress pr;
	struct store *st = NULL;
	struct provider *p = NULL;
	struct history *h = NULL;
	enum output_format fmt;
	volatile sig_atomic_t stop = 0;
	const char *db = cmd_db_path(a), *plan = a->pos[0];
	char hdir[4096], owner[300];
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

	if ((rc = store_open(&st, db, false, err)) != 0) {
		err_prefix(err, "cannot open plan store '%s'", db);
		goto done;
	}
	if (dir == APPLY_FORWARD && cmd_flag(a, "dry-run")) {
		rc = dry_run(ctx, a, st, plan, &o, &pr, err);
		goto done;
	}
	if ((rc = cmd_provider_open(ctx, a, &p, err)) != 0)
		goto done;
	emulator_soak_scale(ctx, a, p, &o);
	if (!cmd_flag(a, "no-history")) {
		if ((rc = history_dir_for(hdir, sizeof(hdir), a, db, err)) != 0 ||
		    (rc = history_open(&h, hdir, true, err)) != 0) {
			err_prefix(err, "cannot open the history");
			goto done;
		}
		o.history = h;
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
	history_close(h);
	provider_free(p);
	store_close(st);
	return rc;
}

static int
apply_exec(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err)
{
	return run_exec(ctx, a, APPLY_FORWARD, err);
}

static int
rollback_exec(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err)
{
	return run_exec(ctx, a, APPLY_ROLLBACK, err);
}

/* ------------------------------------------------------------------ */
/* status */

static void
print_status(FILE *f, const json_t *s)
{
	const json_t *w, *g, *st, *lease = json_object_get(s, "lease"), *next = json_object_get(s, "next");
	size_t i, k;

	fprintf(f, "plan %s: %s\n", s_(s, "plan"), s_(s, "status"));
	if (json_is_object(lease))
		fprintf(f, "  held by %s (pid %lld on %s) until %s%s\n", s_(lease, "owner"),
		    (long long)json_integer_value(json_object_get(lease, "pid")), s_(lease, "host"),
		    s_(lease, "expiresAt"), json_is_true(json_object_get(lease, "expired")) ? " (expired)" : "");
	json_array_foreach(json_object_get(s, "waves"), i, w) {
		const json_t *c = json_object_get(w, "steps"), *soak = json_object_get(w, "soak");
		const json_t *tm = json_object_get(w, "time");
		char d1[32], d2[32];

		fprintf(f, "  %2ld  %-20s %-14s %-11s %3ld/%ld steps", (long)i_(w, "index") + 1, s_(w, "name"),
		    s_(w, "kind"), s_(w, "status"), i_(c, "done") + i_(c, "skipped"), i_(c, "total"));
		if (json_is_object(tm))
			fprintf(f, ", took %s of about %s estimated", json_object_get(tm, "actualSeconds") == NULL ?
			    "nothing yet" : i_(tm, "actualSeconds") <= 0 ? "0 s" :
			    report_duration(i_(tm, "actualSeconds"), d1, sizeof(d1)), i_(tm, "estimateSeconds") <= 0 ?
			    "0 s" : report_duration(i_(tm, "estimateSeconds"), d2, sizeof(d2)));
		if (json_str(w, "interruptedDuring") != NULL)
			fprintf(f, strcmp(s_(w, "interruptedDuring"), "rollback") == 0 ?
			    ", partly rolled back (interrupted)" : ", interrupted");
		if (i_(c, "failed") > 0)
			fprintf(f, ", %ld failed", i_(c, "failed"));
		if (i_(c, "started") > 0)
			fprintf(f, ", %ld started", i_(c, "started"));
		if (i_(c, "rolled-back") > 0)
			fprintf(f, ", %ld rolled back", i_(c, "rolled-back"));
		if (i_(c, "attempts") > i_(c, "done") + i_(c, "rolled-back") && i_(c, "attempts") > 0)
			fprintf(f, ", %ld attempts", i_(c, "attempts"));
		fputc('\n', f);
		json_array_foreach(json_object_get(w, "stepList"), k, st) {
			const char *ss = s_(st, "status");
			if (strcmp(ss, "failed") != 0 && strcmp(ss, "started") != 0)
				continue;
			fprintf(f, "        step %s %s (%s, attempt %ld)%s%s\n", s_(st, "id"), ss, s_(st, "action"),
			    i_(st, "attempts"), json_str(st, "lastError") != NULL ? ": " : "", s_(st, "lastError"));
		}
		json_array_foreach(json_object_get(w, "gates"), k, g) {
			if (strcmp(s_(g, "status"), "pending") == 0)
				continue;
			fprintf(f, "        gate %s %s %s%s%s\n", s_(g, "id"), s_(g, "kind"), s_(g, "status"),
			    json_str(g, "summary") != NULL ? ": " : "", s_(g, "summary"));
			if (strcmp(s_(g, "status"), "passed") != 0 && json_object_get(g, "evidence") != NULL) {
				char *ev = json_dumps(json_object_get(g, "evidence"), JSON_COMPACT | JSON_SORT_KEYS);
				if (ev != NULL)
					fprintf(f, "          evidence: %.400s%s\n", ev, strlen(ev) > 400 ? " ..." : "");
				free(ev);
			}
		}
		if (json_is_true(json_object_get(soak, "running")))
			fprintf(f, "        soaking until %s (%ld s left)\n", s_(soak, "until"), i_(soak, "remaining"));
	}
	json_array_foreach(json_object_get(s, "soakOverrides"), i, g)
		fprintf(f, "  the soak after wave %s was ended early (%.0f s left) by %s at %s: %s\n",
		    s_(g, "wave"), json_number_value(json_object_get(g, "secondsLeft")), s_(g, "by"), s_(g, "at"),
		    s_(g, "reason"));
	if (json_str(next, "wave") != NULL)
		fprintf(f, "next: %s wave %s%s%s%s%s\n", s_(next, "action"), s_(next, "wave"),
		    json_str(next, "notBefore") != NULL ? " after " : "", s_(next, "notBefore"),
		    json_str(next, "command") != NULL ? ": " : "", s_(next, "command"));
	else
		fprintf(f, "next: %s\n", s_(next, "action"));
}

static int
status_exec(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err)
{
	struct store *st = NULL;
	enum output_format fmt;
	json_t *s = NULL, *list = NULL;
	const char *db = cmd_db_path(a), *plan = a->npos > 0 ? a->pos[0] : NULL;
	char newest[64] = "";
	int rc;

	if ((rc = cmd_arg_format(a, FORMAT_TEXT | FORMAT_JSON, FORMAT_TEXT, &fmt, err)) != 0)
		return rc;
	if ((rc = store_open(&st, db, false, err)) != 0) {
		err_prefix(err, "cannot open plan store '%s'", db);
		return rc;
	}
	if (plan == NULL) {
		const json_t *p;
		size_t i;
		if ((rc = store_plan_list(st, &list, err)) != 0)
			goto done;
		json_array_foreach(list, i, p)
			if (json_str(p, "status") != NULL && strcmp(json_str(p, "status"), "superseded") != 0) {
				snprintf(newest, sizeof(newest), "%s", json_str(p, "id"));
				break;
			}
		if (newest[0] == '\0') {
			rc = err_set(err, NW_EINPUT, "plan store '%s' holds no plan; make one with netwave plan", db);
			goto done;
		}
		plan = newest;
	}
	if ((rc = apply_status(&s, st, plan, ctx->now, err)) != 0)
		goto done;
	if (fmt == FORMAT_JSON)
		rc = output_json(ctx, s, err);
	else
		print_status(ctx->out, s);
done:
	json_decref(s);
	json_decref(list);
	store_close(st);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The entries */

static const struct cmd_option apply_options[] = {
	{ "wave", 0, "NAME", 0, "apply only this wave (the waves before it must be done)" },
	{ "through", 0, "NAME", 0, "apply every wave up to and including this one" },
	{ "all", 0, NULL, 0, "apply every wave" },
	{ "yes", 'y', NULL, 0, "confirm irreversible steps (commitMigration, deletions)" },
	{ "auto-rollback", 0, NULL, 0, "roll a wave back when a step or gate fails, and prove the way back" },
	{ "parallel", 0, "N", 0, "steps in flight at once (default 8)" },
	{ "dry-run", 0, NULL, 0, "rehearse against a private emulator seeded with the current topology" },
	{ "end-soak", 0, NULL, 0, "end the soak now running early (needs --by and --reason)" },
	{ "by", 0, "NAME", 0, "with --end-soak: who ends the soak (recorded)" },
	{ "reason", 0, "TEXT", 0, "with --end-soak: why (recorded)" },
	{ "db", 0, "FILE", 0, "the plan store (default $NETWAVE_DB, else ./netwave.db)" },
	{ "history", 0, "DIR", 0, "the history repository (default netwave-history beside the store)" },
	{ "no-history", 0, NULL, 0, "do not commit waves to the history" },
	{ "current", 0, "FILE", 0, "the topology the plan was made from (default: the plan's --current)" },
	{ "format", 0, "text|json", 0, "progress as text (default) or one JSON event per line" },
	CMD_PROVIDER_OPTIONS,
	{ NULL, 0, NULL, 0, NULL },
};

static const struct cmd_option rollback_options[] = {
	{ "wave", 0, "NAME", 0, "roll back this wave (the waves after it must be rolled back)" },
	{ "all", 0, NULL, 0, "roll back every wave, last first" },
	{ "yes", 'y', NULL, 0, "do not ask" },
	{ "parallel", 0, "N", 0, "steps in flight at once (default 8)" },
	{ "db", 0, "FILE", 0, "the plan store (default $NETWAVE_DB, else ./netwave.db)" },
	{ "history", 0, "DIR", 0, "the history repository (default netwave-history beside the store)" },
	{ "no-history", 0, NULL, 0, "do not commit to the history" },
	{ "format", 0, "text|json", 0, "progress as text (default) or one JSON event per line" },
	CMD_PROVIDER_OPTIONS,
	{ NULL, 0, NULL, 0, NULL },
};

static const struct cmd_option status_options[] = {
	{ "db", 0, "FILE", 0, "the plan store (default $NETWAVE_DB, else ./netwave.db)" },
	{ "format", 0, "text|json", 0, "text (default) or netwave.status/v1" },
	CMD_PROVIDER_OPTIONS,
	{ NULL, 0, NULL, 0, NULL },
};

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
};

const struct cmd_entry cmd_rollback_entry = {
	.name = "rollback",
	.usage = "PLAN [--wave NAME | --all] [--yes] [--db FILE]",
	.summary = "undo waves of a plan, last first, and prove the way back",
	.description =
	    "Runs the inverses of a wave's steps in reverse order (without --wave or --all, the\n"
	    "last wave that was started), then checks every resource is as it was before the wave\n"
	    "and on-premises routes still go through the gateway.  Rollback stops in front of an\n"
	    "irreversible step already carried out (a committed gateway migration, a deletion) and\n"
	    "says what can no longer be undone and why (exit 2).  Each wave rolled back is committed\n"
	    "to the history.  See docs/apply.md.",
	.options = rollback_options,
	.min_args = 1,
	.max_args = 1,
	.exec = rollback_exec,
};

const struct cmd_entry cmd_status_entry = {
	.name = "status",
	.usage = "[PLAN] [--db FILE] [--format text|json]",
	.summary = "show where a plan's run is: waves, steps, gates, soaks, lease, what is next",
	.description =
	    "Reads the plan store only (no cloud access): each wave with its steps done, failed or\n"
	    "started, their attempts and last errors, gate results, a soak still running, who holds\n"
	    "the plan's lease, and what comes next.  Without PLAN, the newest plan not superseded.",
	.options = status_options,
	.min_args = 0,
	.max_args = 1,
	.exec = status_exec,
};
