/*
 * netwave status: where a plan's run is, read from the plan store only
 * (state/apply/status.c builds netwave.status/v1); printed for people or
 * as JSON.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "cmd/provider_opts.h"
#include "plan/jsonutil.h"
#include "plan/report.h"
#include "state/apply/apply.h"
#include "state/store.h"

/* In cmd/plan.c: --db, else $NETWAVE_DB, else ./netwave.db. */
const char *cmd_db_path(const struct cmd_args *a);

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

static const struct cmd_option status_options[] = {
	{ "db", 0, "FILE", 0, "the plan store (default $NETWAVE_DB, else ./netwave.db)" },
	{ "format", 0, "text|json", 0, "text (default) or netwave.status/v1" },
	CMD_PROVIDER_OPTIONS,
	{ NULL, 0, NULL, 0, NULL },
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
