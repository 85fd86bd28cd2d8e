/*
 * Everything netwave says about itself, from the one command table
 * (cmd/main.c): the general usage, "netwave help [COMMAND]", the manual
 * page (hidden "netwave help --man", which docs/netwave.1 is) and the
 * bash and zsh completion ("netwave help --completion bash|zsh", which
 * completion/ holds).  A command, option, variable or exit code added to
 * the tables here reaches all of them at once.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "plan/procedure.h"

/* The exit codes every command uses (DESIGN.md, "Exit codes"; plan/err.h). */
static const struct {
	int code;
	const char *what;
} exit_codes[] = {
	{ 0, "done" },
	{ 1, "an operation or gate failed (for check: error-level findings)" },
	{ 2, "bad usage or bad input; the message names the file, the line and column or the JSON "
	     "pointer, and the field" },
	{ 3, "the plan is stale (the estate drifted since it was planned)" },
	{ 4, "another run holds the plan" },
	{ 5, "partly applied; run the same command again to resume" },
	{ 6, "stopped in front of an irreversible step: not confirmed with --yes, "
	     "or a rollback that reached one" },
};

/* Every environment variable netwave reads (grep getenv in cmd/, state/, providers/). */
static const struct {
	const char *name;
	const char *what;
} environment[] = {
	{ "NETWAVE_DB", "the plan store when --db is not given (default ./netwave.db); the history "
	  "defaults to netwave-history beside it" },
	{ "NETWAVE_ACCESS_TOKEN", "an ARM access token to use as is (first in the credential chain)" },
	{ "AZURE_TENANT_ID", "the Entra ID tenant of the service principal or workload identity" },
	{ "AZURE_CLIENT_ID", "the service principal's or managed identity's client id" },
	{ "AZURE_CLIENT_SECRET", "the service principal's secret (never logged)" },
	{ "AZURE_CLIENT_CERTIFICATE_PATH", "a service principal certificate: PEM with its key, or "
	  "PKCS#12 (with AZURE_TENANT_ID and AZURE_CLIENT_ID)" },
	{ "AZURE_CLIENT_CERTIFICATE_PASSWORD", "the password of an encrypted PEM key or a PKCS#12 "
	  "file (never logged)" },
	{ "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", "1 or true: client assertions carry the certificate "
	  "chain (x5c), for subject name/issuer authentication" },
	{ "AZURE_SUBSCRIPTION_ID", "the subscription discover reads when --subscription is not given" },
	{ "ARM_SUBSCRIPTION_ID", "the same, as Terraform names it, when AZURE_SUBSCRIPTION_ID is not set" },
	{ "AZURE_FEDERATED_TOKEN_FILE", "a workload identity token file (with AZURE_TENANT_ID and "
	  "AZURE_CLIENT_ID)" },
	{ "AZURE_AUTHORITY_HOST", "the Entra ID authority when --authority-host is not given" },
	{ "IDENTITY_ENDPOINT", "managed identity on App Service and Functions (with IDENTITY_HEADER)" },
	{ "IDENTITY_HEADER", "the secret header of IDENTITY_ENDPOINT" },
	{ "AZURE_POD_IDENTITY_AUTHORITY_HOST", "the managed identity endpoint of AAD Pod Identity" },
	{ "NETWAVE_IMDS_ENDPOINT", "the instance metadata service address (default 169.254.169.254)" },
	{ "PATH", "where the Azure CLI (az) is found, last in the credential chain" },
	{ "USER", "the Operator recorded in the history when the user database has no name" },
	{ "NETWAVE_NO_LIVE", "when set, apply and rollback print plain lines instead of redrawing "
	  "the wave's line on a terminal" },
	{ "NETWAVE_TEST_CRASH_AFTER", "for the test suite only: apply and rollback stop dead after "
	  "this many journal writes, as a crash would (exit 5)" },
	{ "SOURCE_DATE_EPOCH", "the time to use wherever a time must appear in output, for "
	  "reproducible plans and reports" },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

const struct cmd_entry *
cmd_find(const char *name)
{
	size_t i;

	for (i = 0; cmd_table[i] != NULL; i++)
		if (strcmp(cmd_table[i]->name, name) == 0)
			return cmd_table[i];
	return NULL;
}

void
cmd_help_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: netwave COMMAND [OPTIONS] [ARGS]\n\n"
		   "netwave plans and carries out large Azure network migrations in waves,\n"
		   "with validation gates, a crash-safe journal and a way back.\n\ncommands:\n");
	for (i = 0; cmd_table[i] != NULL; i++)
		fprintf(f, "  %-10s  %s\n", cmd_table[i]->name, cmd_table[i]->summary);
	fprintf(f, "  %-10s  %s\n", "help", "show help for netwave or a command");
	fprintf(f, "\nglobal options:\n  --version   print the version\n  --help      show this help\n"
		   "\n-o, --output FORMAT chooses what a command prints (text, json; table or markdown\n"
		   "where they fit); --out FILE where a command writes its file.\n"
		   "\nexit codes:");
	for (i = 0; i < N(exit_codes); i++) {
		const char *w = exit_codes[i].what;
		size_t len = strcspn(w, ";(");

		while (len > 0 && w[len - 1] == ' ')
			len--;
		fprintf(f, "%s%d %.*s", i == 0 ? " " : i % 3 == 0 ? ",\n" : ", ", exit_codes[i].code,
		    (int)len, w);
	}
	fprintf(f, "\n\nsee 'netwave help COMMAND' for a command's options.\n");
}

/* --- the manual page ------------------------------------------------------ */

/* Text for roff: backslashes and hyphens escaped, no line starting with a control character. */
static void
roff(FILE *f, const char *s)
{
	bool bol = true;

	for (; *s != '\0'; s++) {
		if (bol && (*s == '.' || *s == '\''))
			fputs("\\&", f);
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
		bol = *s == '\n';
	}
}

/* Words of s on lines of at most width columns, each line after indent spaces. */
static void
wrap(FILE *f, const char *s, size_t indent, size_t width)
{
	size_t col = 0;

	while (*s != '\0') {
		size_t n = strcspn(s, " ");

		if (col > 0 && col + 1 + n > width) {
			fputc('\n', f);
			col = 0;
		}
		fprintf(f, "%*s%.*s", col == 0 ? (int)indent : 1, "", (int)n, s);
		col += (col == 0 ? indent : 1) + n;
		s += n;
		while (*s == ' ')
			s++;
	}
	fputc('\n', f);
}

void
cmd_help_kinds(FILE *f, bool man)
{
	size_t i;

	fputs(man ? ".PP\nChange kinds (an intent's \"kind\"):\n" : "\nchange kinds (an intent's \"kind\"):\n", f);
	for (i = 0; procedures[i] != NULL; i++) {
		if (procedures[i]->intent == NULL)
			continue;
		if (man) {
			fputs(".TP\n.B ", f);
			roff(f, procedures[i]->name);
			fputc('\n', f);
			roff(f, procedures[i]->summary != NULL ? procedures[i]->summary : procedures[i]->title);
			fputc('\n', f);
			continue;
		}
		fprintf(f, "  %s\n", procedures[i]->name);
		wrap(f, procedures[i]->summary != NULL ? procedures[i]->summary : procedures[i]->title, 6, 78);
	}
}

static void
man_option(FILE *f, const struct cmd_option *o)
{
	bool fmt = (o->flags & OPT_FORMAT) || strcmp(o->name, "format") == 0;

	fputs(".TP\n.B ", f);
	if (fmt) {
		fputs("\\-o, \\-\\-output", f);
	} else {
		if (o->short_name != 0)
			fprintf(f, "\\-%c, ", o->short_name);
		fputs("\\-\\-", f);
		roff(f, o->name);
	}
	if (o->arg != NULL) {
		fputs(" \\fI", f);
		roff(f, o->arg);
		fputs("\\fR", f);
	}
	fputc('\n', f);
	roff(f, o->help);
	if (fmt)
		fputs(" (\\-\\-format is the same option)", f);
	if (o->flags & OPT_REPEAT)
		fputs("; may be repeated", f);
	fputc('\n', f);
}

static void
man_command(FILE *f, const struct cmd_entry *c)
{
	const struct cmd_option *o;

	fputs(".SS netwave ", f);
	roff(f, c->name);
	fputs("\n.B netwave ", f);
	roff(f, c->name);
	fputc(' ', f);
	roff(f, c->usage);
	fputs("\n.PP\n", f);
	roff(f, c->summary);
	fputs(".\n", f);
	if (c->description != NULL) {
		fputs(".PP\n", f);
		roff(f, c->description);
		fputc('\n', f);
	}
	if (c->flags & CMD_HELP_KINDS)
		cmd_help_kinds(f, true);
	if (c->options != NULL && c->options[0].name != NULL)
		fputs(".PP\nOptions:\n", f);
	for (o = c->options; o != NULL && o->name != NULL; o++)
		man_option(f, o);
}

static void
print_man(FILE *f)
{
	size_t i;

	fprintf(f, ".\\\" Generated by 'netwave help --man' from the command table; do not edit.\n"
		   ".TH NETWAVE 1 \"\" \"netwave %s\" \"User Commands\"\n"
		   ".SH NAME\nnetwave \\- plan and carry out large Azure network migrations in waves\n"
		   ".SH SYNOPSIS\n.B netwave\n.I command\n.RI [ options ]\n.RI [ arguments ]\n.br\n"
		   ".B netwave help\n.RI [ command ]\n.br\n.B netwave \\-\\-version\n"
		   ".SH DESCRIPTION\n.B netwave\nturns a large cloud network change into a reviewed, "
		   "waved, gated and\nreversible procedure.  It reads topologies in the\n"
		   ".B netwave.topology/v1\nformat: Azure Resource Manager resources exactly as ARM "
		   "returns them, plus\nwhat ARM only tells through actions (circuit routes, preview "
		   "feature states,\nAVNM deployments).\n.PP\n"
		   "Every command prints results on standard output and diagnostics on standard error.\n"
		   ".B \\-o\n(\\fB\\-\\-output\\fR) chooses the output format where a command has more "
		   "than one\n(text, json; markdown or table where they fit), and\n.B \\-\\-format\n"
		   "is the same option.  A command that writes a file takes it as\n"
		   ".BR \\-\\-out \" FILE\" .\nEvery JSON document carries its format name "
		   "(\\fBnetwave.\\fIkind\\fB/v1\\fR).\n"
		   ".SH COMMANDS\n", PACKAGE_VERSION);
	for (i = 0; cmd_table[i] != NULL; i++)
		if (!(cmd_table[i]->flags & CMD_NO_MAN))
			man_command(f, cmd_table[i]);
	fputs(".SS netwave help\n.B netwave help\n.RI [ command ]\n.PP\n"
	      "Prints the commands, or a command's usage and options.\n", f);
	fputs(".SH EXIT STATUS\n", f);
	for (i = 0; i < N(exit_codes); i++) {
		fprintf(f, ".TP\n.B %d\n", exit_codes[i].code);
		roff(f, exit_codes[i].what);
		fputc('\n', f);
	}
	fputs(".SH ENVIRONMENT\n", f);
	for (i = 0; i < N(environment); i++) {
		fputs(".TP\n.B ", f);
		roff(f, environment[i].name);
		fputc('\n', f);
		roff(f, environment[i].what);
		fputc('\n', f);
	}
	fputs(".SH FILES\n.TP\n.I netwave.db\nthe plan store (SQLite), or\n.BR \\-\\-db .\n"
	      ".TP\n.I netwave\\-history\nthe history of the estate (a git repository), beside the "
	      "plan store, or\n.BR \\-\\-history .\n"
	      ".SH SEE ALSO\nThe formats and the command reference are installed in\n"
	      ".IR /usr/share/doc/netwave :\n.IR commands.md ,\n.IR topology.md ,\n.IR intent.md ,\n"
	      ".IR plan.md ,\n.IR apply.md ,\n.IR discover.md ,\n.IR history.md ,\n.IR emulator.md ;\n"
	      "the JSON Schemas of every document under\n.IR schemas/ .\n", f);
}

/* --- completion ----------------------------------------------------------- */

static bool
is_format_option(const struct cmd_option *o)
{
	return (o->flags & OPT_FORMAT) || strcmp(o->name, "format") == 0;
}

/* The format option's values, "text|json" as "text json". */
static void
print_words(FILE *f, const char *bars)
{
	for (; *bars != '\0'; bars++)
		fputc(*bars == '|' ? ' ' : *bars, f);
}

/*
 * One line of the bash table: the command's options, those of them that
 * take a value (completed as files), and its output formats.
 */
static void
bash_command(FILE *f, const struct cmd_entry *c)
{
	const struct cmd_option *o;
	const char *formats = "";

	fprintf(f, "\t%s) opts=\"--help", c->name);
	for (o = c->options; o != NULL && o->name != NULL; o++)
		if (is_format_option(o))
			fputs(" -o --output --format", f);
		else
			fprintf(f, " --%s", o->name);
	fputs("\" args=\"", f);
	for (o = c->options; o != NULL && o->name != NULL; o++)
		if (is_format_option(o))
			formats = o->arg;
		else if (o->arg != NULL)
			fprintf(f, " --%s", o->name);
	fputs(" \" formats=\"", f);
	print_words(f, formats);
	fputs("\" ;;\n", f);
}

static void
print_bash(FILE *f)
{
	size_t i;

	fputs("# bash completion for netwave, generated by 'netwave help --completion bash'\n"
	      "# from the command table; do not edit.\n"
	      "# _netwave_table COMMAND sets opts (its options), args (those that take a\n"
	      "# value, completed as files) and formats (the values of -o).\n"
	      "_netwave_table()\n{\n\tcase \"$1\" in\n", f);
	for (i = 0; cmd_table[i] != NULL; i++)
		bash_command(f, cmd_table[i]);
	fputs("\tesac\n}\n"
	      "_netwave()\n{\n"
	      "\tlocal cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\" "
	      "opts=\"\" args=\"\" formats=\"\"\n"
	      "\tif [ \"$COMP_CWORD\" -eq 1 ]; then\n"
	      "\t\tCOMPREPLY=($(compgen -W \"", f);
	for (i = 0; cmd_table[i] != NULL; i++)
		fprintf(f, "%s ", cmd_table[i]->name);
	fputs("help --version --help\" -- \"$cur\"))\n\t\treturn\n\tfi\n"
	      "\tif [ \"${COMP_WORDS[1]}\" = help ]; then\n"
	      "\t\tCOMPREPLY=($(compgen -W \"", f);
	for (i = 0; cmd_table[i] != NULL; i++)
		fprintf(f, "%s%s", i > 0 ? " " : "", cmd_table[i]->name);
	fputs("\" -- \"$cur\"))\n\t\treturn\n\tfi\n"
	      "\t_netwave_table \"${COMP_WORDS[1]}\"\n"
	      "\tif [ -n \"$formats\" ] && [[ \" -o --output --format \" == *\" $prev \"* ]]; then\n"
	      "\t\tCOMPREPLY=($(compgen -W \"$formats\" -- \"$cur\"))\n"
	      "\telif [[ \"$args\" == *\" $prev \"* ]]; then\n"
	      "\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
	      "\telif [[ \"$cur\" == -* ]]; then\n"
	      "\t\tCOMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
	      "\telse\n"
	      "\t\tCOMPREPLY=($(compgen -f -- \"$cur\"))\n"
	      "\tfi\n}\n"
	      "complete -o filenames -F _netwave netwave\n", f);
}

/* Help text inside a zsh _arguments spec: no brackets, colons or quotes. */
static void
zsh_text(FILE *f, const char *s)
{
	for (; *s != '\0'; s++)
		fputc(strchr("[]:'\\`$", *s) != NULL ? ' ' : *s, f);
}

static void
zsh_command(FILE *f, const struct cmd_entry *c)
{
	const struct cmd_option *o;

	fprintf(f, "\t%s)\n\t\t_arguments -s \\\n", c->name);
	for (o = c->options; o != NULL && o->name != NULL; o++) {
		if (is_format_option(o)) {
			fputs("\t\t\t'(-o --output --format)'{-o,--output,--format}'[", f);
			zsh_text(f, o->help);
			fputs("]:format:(", f);
			print_words(f, o->arg);
			fputs(")' \\\n", f);
			continue;
		}
		fprintf(f, "\t\t\t'%s--%s[", o->flags & OPT_REPEAT ? "*" : "", o->name);
		zsh_text(f, o->help);
		fputs("]", f);
		if (o->arg != NULL) {
			fputc(':', f);
			zsh_text(f, o->arg);
			fputs(":_files", f);
		}
		fputs("' \\\n", f);
	}
	fputs("\t\t\t'(- *)--help[show this help]' \\\n\t\t\t'*:file:_files' ;;\n", f);
}

static void
print_zsh(FILE *f)
{
	size_t i;

	fputs("#compdef netwave\n"
	      "# zsh completion for netwave, generated by 'netwave help --completion zsh'\n"
	      "# from the command table; do not edit.\n"
	      "_netwave() {\n\tlocal -a commands\n\tcommands=(\n", f);
	for (i = 0; cmd_table[i] != NULL; i++) {
		fprintf(f, "\t\t'%s:", cmd_table[i]->name);
		zsh_text(f, cmd_table[i]->summary);
		fputs("'\n", f);
	}
	fputs("\t\t'help:show help for netwave or a command'\n\t)\n"
	      "\tif (( CURRENT == 2 )); then\n\t\t_describe -t commands 'netwave command' commands\n"
	      "\t\treturn\n\tfi\n\tcurcontext=\"${curcontext%:*:*}:netwave-$words[2]:\"\n"
	      "\tshift words\n\t(( CURRENT-- ))\n\tcase $words[1] in\n"
	      "\thelp)\n\t\t_describe -t commands 'netwave command' commands ;;\n", f);
	for (i = 0; cmd_table[i] != NULL; i++)
		zsh_command(f, cmd_table[i]);
	fputs("\tesac\n}\n_netwave \"$@\"\n", f);
}

int
cmd_help_run(struct cmd_ctx *ctx, int argc, char **argv, struct nw_err *err)
{
	const struct cmd_entry *cmd;

	if (argc == 0) {
		cmd_help_usage(ctx->out);
		return 0;
	}
	if (argc > 2 || (argc == 2 && strcmp(argv[0], "--completion") != 0))
		return err_set(err, NW_EINPUT, "unexpected argument '%s'; usage: netwave help [COMMAND]",
		    argv[argc - 1]);
	if (strcmp(argv[0], "--man") == 0) {
		print_man(ctx->out);
		return 0;
	}
	if (strcmp(argv[0], "--completion") == 0) {
		const char *shell = argc == 2 ? argv[1] : "";

		if (strcmp(shell, "bash") == 0)
			print_bash(ctx->out);
		else if (strcmp(shell, "zsh") == 0)
			print_zsh(ctx->out);
		else
			return err_set(err, NW_EINPUT, "help --completion: '%s' is not a shell netwave "
			    "completes (expected bash|zsh)", shell);
		return 0;
	}
	if (strcmp(argv[0], "help") == 0 || strcmp(argv[0], "--help") == 0 ||
	    strcmp(argv[0], "-h") == 0) {
		fputs("usage: netwave help [COMMAND]\n\nshow help for netwave or a command\n\n"
		      "Without COMMAND, lists the commands; with one, prints its usage, what it does\n"
		      "and its options, as 'netwave COMMAND --help' does.\n", ctx->out);
		return 0;
	}
	if ((cmd = cmd_find(argv[0])) == NULL)
		return cmd_unknown_command(argv[0], err);
	output_command_help(ctx->out, cmd);
	return 0;
}
