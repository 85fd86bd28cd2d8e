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
	if (cmd->flags & CMD_HELP_KINDS)
		cmd_help_kinds(f, false);
	fputs("\noptions:\n", f);
	for (o = cmd->options; o != NULL && o->name != NULL; o++) {
		char left[80];

		bool fmt = (o->flags & OPT_FORMAT) || strcmp(o->name, "format") == 0;

		if (fmt) /* -o, --output and --format are one option (args.c) */
			snprintf(left, sizeof(left), "-o, --output %s", o->arg);
		else if (o->short_name != 0)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->short_name, o->name,
			    o->arg ? " " : "", o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->arg ? " " : "",
			    o->arg ? o->arg : "");
		if (strlen(left) > 26)
			fprintf(f, "  %s\n  %-26s  %s%s\n", left, "", o->help, fmt ? "; --format is the same" : "");
		else
			fprintf(f, "  %-26s  %s%s\n", left, o->help, fmt ? "; --format is the same" : "");
	}
	fprintf(f, "  %-26s  %s\n", "-h, --help", "show this help");
}

const char *
output_count(char *buf, size_t size, unsigned long long n)
{
	char digits[32];
	size_t len, i, o = 0;

	len = (size_t)snprintf(digits, sizeof(digits), "%llu", n);
	for (i = 0; i < len && o + 2 < size; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

const char *
output_noun(char *buf, size_t size, unsigned long long n, const char *noun, const char *plural)
{
	char num[32];

	output_count(num, sizeof(num), n);
	if (n == 1)
		snprintf(buf, size, "%s %s", num, noun);
	else if (plural != NULL)
		snprintf(buf, size, "%s %s", num, plural);
	else
		snprintf(buf, size, "%s %ss", num, noun);
	return buf;
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

int
cmd_topology_write(struct topology **out, json_t *doc, const char *name, const char *what, bool ours,
    const char *path, struct nw_err *err)
{
	int rc = topology_load_json(out, doc, name, err);

	if (rc != 0) {
		err_prefix(err, "%s does not load", what);
		/* a document netwave built itself that does not load is a bug, not bad input */
		if (ours)
			rc = err->code = NW_EFAIL;
		return rc;
	}
	return topology_write_file(*out, path, err);
}

const char *
cmd_short_name(const char *id)
{
	return arm_id_name(id);
}
