/*
 * netwave plans: the plans in the plan store, newest first, with their
 * status (planned, applying, applied, rolled-back, partial, superseded).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "plan/jsonutil.h"
#include "state/store.h"

static const struct cmd_option plans_options[] = {
	CMD_DB_OPTION,
	CMD_FORMAT_OPTION("text|json", "output format (default text; json is netwave.plans/v1)"),
	{ NULL, 0, NULL, 0, NULL },
};

static int plans_exec(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err);

const struct cmd_entry cmd_plans_entry = {
	.name = "plans",
	.usage = "[--db FILE] [-o text|json]",
	.summary = "list the stored plans, newest first, with their status",
	.description =
	    "Lists the plan store's plans, newest first: id, creation time, status (planned,\n"
	    "applying, applied, rolled-back, partial, superseded), waves, steps and the\n"
	    "fingerprint of the current topology each was made from.  A store that does not\n"
	    "exist yet has no plans.  -o json is netwave.plans/v1: {format, db, plans}.",
	.options = plans_options,
	.min_args = 0,
	.max_args = 0,
	.exec = plans_exec,
};

static int
plans_exec(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err)
{
	const char *db = cmd_db_path(a);
	struct store *st = NULL;
	enum output_format fmt;
	json_t *list = NULL, *p;
	size_t i;
	int rc;

	rc = cmd_arg_format(a, FORMAT_TEXT | FORMAT_JSON, FORMAT_TEXT, &fmt, err);
	if (rc != 0)
		return rc;
	/* no store yet is no plans, not an error */
	if (access(db, F_OK) != 0) {
		list = json_array();
	} else if ((rc = store_open(&st, db, false, err)) != 0) {
		err_prefix(err, "cannot open plan store '%s'", db);
		goto done;
	} else if ((rc = store_plan_list(st, &list, err)) != 0) {
		goto done;
	}
	if (fmt == FORMAT_JSON) {
		json_t *doc = json_pack("{s:s, s:s, s:O}", "format", "netwave.plans/v1", "db", db,
		    "plans", list);
		rc = doc != NULL ? output_json(ctx, doc, err) : err_set(err, NW_ENOMEM, "out of memory");
		json_decref(doc);
		goto done;
	}
	if (json_array_size(list) == 0) {
		fprintf(ctx->out, "no plans in %s\n", db);
		goto done;
	}
	fprintf(ctx->out, "%-16s  %-20s  %-11s  %5s  %6s  %s\n", "PLAN", "CREATED", "STATUS", "WAVES",
	    "STEPS", "CURRENT");
	json_array_foreach(list, i, p) {
		const char *fp = json_str(p, "currentFingerprint");
		const char *sup = json_str(p, "supersededBy");

		fprintf(ctx->out, "%-16s  %-20s  %-11s  %5lld  %6lld  %.19s%s%s\n", json_str(p, "id"),
		    json_str(p, "createdAt") ? json_str(p, "createdAt") : "?",
		    json_str(p, "status") ? json_str(p, "status") : "?",
		    (long long)json_integer_value(json_object_get(p, "waves")),
		    (long long)json_integer_value(json_object_get(p, "steps")), fp ? fp : "?",
		    sup ? "  superseded by " : "", sup ? sup : "");
	}
done:
	json_decref(list);
	store_close(st);
	return rc;
}
