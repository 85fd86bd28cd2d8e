/*
 * netwave show PLAN: prints a stored plan as its review report (text,
 * markdown) or as netwave.plan/v1 (json), whole or one wave.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "plan/report.h"
#include "state/store.h"

static const struct cmd_option show_options[] = {
	{ "wave", 0, "NAME", 0, "show only this wave" },
	CMD_FORMAT_OPTION("text|markdown|json", "output format (default text)"),
	CMD_DB_OPTION,
	{ NULL, 0, NULL, 0, NULL },
};

static int show_exec(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err);

const struct cmd_entry cmd_show_entry = {
	.name = "show",
	.usage = "PLAN [--wave NAME] [-o text|markdown|json] [--db FILE]",
	.summary = "print a stored plan: its review report, or one wave",
	.description =
	    "PLAN is a plan id or a unique prefix of one (at least 4 characters).  -o\n"
	    "markdown prints the change-review document, json the plan as stored\n"
	    "(netwave.plan/v1), text a short summary; --wave restricts it to one wave.",
	.options = show_options,
	.min_args = 1,
	.max_args = 1,
	.exec = show_exec,
	.flags = CMD_NEEDS_STORE,
};

static int
show_exec(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err)
{
	enum output_format fmt;
	json_t *plan = NULL;
	char *text = NULL;
	int rc;

	rc = cmd_arg_format(a, FORMAT_TEXT | FORMAT_MARKDOWN | FORMAT_JSON, FORMAT_TEXT, &fmt, err);
	if (rc != 0)
		return rc;
	if ((rc = store_plan_get(ctx->store, a->pos[0], &plan, err)) != 0)
		goto done;
	rc = report_render(&text, plan, fmt == FORMAT_JSON ? REPORT_JSON :
	    fmt == FORMAT_MARKDOWN ? REPORT_MARKDOWN : REPORT_TEXT, cmd_arg(a, "wave"), err);
	if (rc == 0)
		fputs(text, ctx->out);
done:
	free(text);
	json_decref(plan);
	return rc;
}
