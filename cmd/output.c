/*
 * Output helpers shared by the subcommands: canonical JSON, warnings on
 * the diagnostics stream, and help text.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "plan/jsonutil.h"

int
output_json(struct cmd_ctx *ctx, const json_t *v, struct nw_err *err)
{
	char *s = json_dump_canonical(v);

	if (s == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	fputs(s, ctx->out);
	free(s);
	return 0;
}

void
output_warn(struct cmd_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	fputs("netwave: warning: ", ctx->err);
	va_start(ap, fmt);
	vfprintf(ctx->err, fmt, ap);
	va_end(ap);
	fputc('\n', ctx->err);
}

void
output_command_help(FILE *f, const struct cmd_entry *cmd)
{
	const struct cmd_option *o;

	fprintf(f, "usage: netwave %s %s\n\n%s\n", cmd->name, cmd->usage, cmd->summary);
	if (cmd->description != NULL)
		fprintf(f, "\n%s\n", cmd->description);
	fputs("\noptions:\n", f);
	for (o = cmd->options; o != NULL && o->name != NULL; o++) {
		char left[80];

		if (o->short_name != 0)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->name,
			    o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->arg ? " " : "",
			    o->arg ? o->arg : "");
		if (strlen(left) > 26)
			fprintf(f, "  %s\n  %-26s  %s\n", left, "", o->help);
		else
			fprintf(f, "  %-26s  %s\n", left, o->help);
	}
	fprintf(f, "  %-26s  %s\n", "-h, --help", "show this help");
}
