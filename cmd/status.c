/*
 * netwave status: where a plan's run is, read from the plan store only
 * (state/apply/status.c builds netwave.status/v1); printed for people or
 * as JSON.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cmd/apply.h"
#include "cmd/cmd.h"
#include "cmd/provider_opts.h"
#include "plan/jsonutil.h"
#include "plan/report.h"
#include "state/apply/apply.h"
#include "state/store.h"

static const struct cmd_option status_options[] = {
	CMD_DB_OPTION,
	{ "format", 0, "text|json", 0, "text (default) or netwave.status/v1" },
	CMD_PROVIDER_OPTIONS,
	{ NULL, 0, NULL, 0, NULL },
};

static int status_exec(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err);

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
	.flags = CMD_NEEDS_STORE | CMD_SETUP_ON_USE,
};

static void
print_status(FILE *f, const json_t *s)
{
	const json_t *w, *g, *st, *lease = json_object_get(s, "lease"), *next = json_object_get(s, "next");
	size_t i, k;

	fprintf(f, "plan %s: %s\n", ev_s(s, "plan"), ev_s(s, "status"));
	if (json_is_object(lease))
		fprintf(f, "  held by %s (pid %lld on %s) until %s%s\n", ev_s(lease, "owner"),
		    (long long)json_integer_value(json_object_get(lease, "pid")), ev_s(lease, "host"),
		    ev_s(lease, "expiresAt"), json_is_true(json_object_get(lease, "expired")) ? " (expired)" : "");
	json_array_foreach(json_object_get(s, "waves"), i, w) {
		const json_t *c = json_object_get(w, "steps"), *soak = json_object_get(w, "soak");
		const json_t *tm = json_object_get(w, "time");
		char d1[32], d2[32];

		fprintf(f, "  %2ld  %-20s %-14s %-11s %3ld/%ld steps", (long)ev_i(w, "index") + 1, ev_s(w, "name"),
		    ev_s(w, "kind"), ev_s(w, "status"), ev_i(c, "done") + ev_i(c, "skipped"), ev_i(c, "total"));
		if (json_is_object(tm))
			fprintf(f, ", took %s of about %s estimated", json_object_get(tm, "actualSeconds") == NULL ?
			    "nothing yet" : ev_i(tm, "actualSeconds") <= 0 ? "0 s" :
			    report_duration(ev_i(tm, "actualSeconds"), d1, sizeof(d1)), ev_i(tm, "estimateSeconds") <= 0 ?
			    "0 s" : report_duration(ev_i(tm, "estimateSeconds"), d2, sizeof(d2)));
		if (json_str(w, "interruptedDuring") != NULL)
			fprintf(f, strcmp(ev_s(w, "interruptedDuring"), "rollback") == 0 ?
			    ", partly rolled back (interrupted)" : ", interrupted");
		if (ev_i(c, "failed") > 0)
			fprintf(f, ", %ld failed", ev_i(c, "failed"));
		if (ev_i(c, "started") > 0)
			fprintf(f, ", %ld started", ev_i(c, "started"));
		if (ev_i(c, "rolled-back") > 0)
			fprintf(f, ", %ld rolled back", ev_i(c, "rolled-back"));
		if (ev_i(c, "attempts") > ev_i(c, "done") + ev_i(c, "rolled-back") && ev_i(c, "attempts") > 0)
			fprintf(f, ", %ld attempts", ev_i(c, "attempts"));
		fputc('\n', f);
		json_array_foreach(json_object_get(w, "stepList"), k, st) {
			const char *ss = ev_s(st, "status");
			if (strcmp(ss, "failed") != 0 && strcmp(ss, "started") != 0)
				continue;
			fprintf(f, "        step %s %s (%s, attempt %ld)%s%s\n", ev_s(st, "id"), ss, ev_s(st, "action"),
			    ev_i(st, "attempts"), json_str(st, "lastError") != NULL ? ": " : "", ev_s(st, "lastError"));
		}
		json_array_foreach(json_object_get(w, "gates"), k, g) {
			if (strcmp(ev_s(g, "status"), "pending") == 0)
				continue;
			fprintf(f, "        gate %s %s %s%s%s\n", ev_s(g, "id"), ev_s(g, "kind"), ev_s(g, "status"),
			    json_str(g, "summary") != NULL ? ": " : "", ev_s(g, "summary"));
			if (strcmp(ev_s(g, "status"), "passed") != 0 && json_object_get(g, "evidence") != NULL) {
				char *ev = json_dumps(json_object_get(g, "evidence"), JSON_COMPACT | JSON_SORT_KEYS);
				if (ev != NULL)
					fprintf(f, "          evidence: %.400s%s\n", ev, strlen(ev) > 400 ? " ..." : "");
				free(ev);
			}
		}
		if (json_is_true(json_object_get(soak, "running")))
			fprintf(f, "        soaking until %s (%ld s left)\n", ev_s(soak, "until"), ev_i(soak, "remaining"));
	}
	json_array_foreach(json_object_get(s, "soakOverrides"), i, g)
		fprintf(f, "  the soak after wave %s was ended early (%.0f s left) by %s at %s: %s\n",
		    ev_s(g, "wave"), json_number_value(json_object_get(g, "secondsLeft")), ev_s(g, "by"), ev_s(g, "at"),
		    ev_s(g, "reason"));
	if (json_str(next, "wave") != NULL)
		fprintf(f, "next: %s wave %s%s%s%s%s\n", ev_s(next, "action"), ev_s(next, "wave"),
		    json_str(next, "notBefore") != NULL ? " after " : "", ev_s(next, "notBefore"),
		    json_str(next, "command") != NULL ? ": " : "", ev_s(next, "command"));
	else
		fprintf(f, "next: %s\n", ev_s(next, "action"));
}

static int
status_exec(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err)
{
	struct store *st;
	enum output_format fmt;
	json_t *s = NULL, *list = NULL;
	const char *plan = a->npos > 0 ? a->pos[0] : NULL;
	char newest[64] = "";
	int rc;

	if ((rc = cmd_arg_format(a, FORMAT_TEXT | FORMAT_JSON, FORMAT_TEXT, &fmt, err)) != 0)
		return rc;
	if ((rc = cmd_store_open(ctx, &st, err)) != 0)
		return rc;
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
			rc = err_set(err, NW_EINPUT, "plan store '%s' holds no plan; make one with netwave plan",
			    ctx->db_path);
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
	return rc;
}
