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
#include "plan/topology.h"

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

int
cmd_topology_load(struct cmd_ctx *ctx, const char *path, bool print_warnings,
    struct topology **out, struct nw_err *err)
{
	size_t i;
	int rc;

	rc = topology_load_file(out, path, NULL, err);
	if (rc != 0) {
		err_prefix(err, "cannot load topology");
		return rc;
	}
	if (print_warnings)
		for (i = 0; i < (*out)->nwarnings; i++)
			output_warn(ctx, "%s: %s: %s", (*out)->source, (*out)->warnings[i].pointer,
			    (*out)->warnings[i].message);
	return 0;
}

const char *
cmd_short_name(const char *id)
{
	return arm_id_name(id);
}
