/*
 * netwave's entry point: builds the context, finds the subcommand in the
 * table, parses its options, runs it, and turns its status into the exit
 * code (DESIGN.md, "Exit codes").  The only place that prints errors.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <git2.h>

#include "cmd/cmd.h"

const struct cmd_entry *const cmd_table[] = {
	&cmd_apply_entry,
	&cmd_check_entry,
	&cmd_demo_entry,
	&cmd_discover_entry,
	&cmd_emulator_entry,
	&cmd_export_entry,
	&cmd_history_entry,
	&cmd_path_entry,
	&cmd_plan_entry,
	&cmd_plans_entry,
	&cmd_preflight_entry,
	&cmd_rollback_entry,
	&cmd_routes_entry,
	&cmd_show_entry,
	&cmd_status_entry,
	&cmd_synth_entry,
	&cmd_target_entry,
	NULL,
};

int
cmd_unknown_command(const char *name, struct nw_err *err)
{
	const char *names[64];
	const char *near;
	size_t n = 0;

	while (cmd_table[n] != NULL && n < 63) {
		names[n] = cmd_table[n]->name;
		n++;
	}
	names[n++] = "help";
	near = cmd_nearest(name, names, n);
	if (near != NULL)
		return err_set(err, NW_EINPUT, "unknown command '%s'; did you mean '%s'?", name, near);
	return err_set(err, NW_EINPUT, "unknown command '%s'; see 'netwave help'", name);
}

static time_t
context_now(void)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");

	if (sde != NULL && *sde != '\0') {
		char *end;
		long long v = strtoll(sde, &end, 10);
		if (*end == '\0' && v >= 0)
			return (time_t)v;
	}
	return time(NULL);
}

/* Parses the command's options, sets up what its flags ask for, and runs it. */
static int
run_command(struct cmd_ctx *ctx, const struct cmd_entry *cmd, int argc, char **argv,
    struct nw_err *err)
{
	struct cmd_args args;
	int rc;

	rc = cmd_args_parse(&args, cmd, argc, argv, err);
	if (rc == 0 && args.notice[0] != '\0')
		output_warn(ctx, "%s", args.notice);
	if (rc == 0)
		rc = cmd_setup(ctx, cmd, &args, err);
	if (rc == 0)
		rc = cmd->exec(ctx, &args, err);
	cmd_teardown(ctx);
	cmd_args_free(&args);
	return rc;
}

static int
run(struct cmd_ctx *ctx, int argc, char **argv, struct nw_err *err)
{
	const struct cmd_entry *cmd;
	int i;

	if (argc < 2) {
		cmd_help_usage(ctx->err);
		return err_set(err, NW_EINPUT, "no command given");
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		fprintf(ctx->out, "netwave %s\n", PACKAGE_VERSION);
		return 0;
	}
	/* "help X", "--help X" and "-h X" are one thing */
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0)
		return cmd_help_run(ctx, argc - 2, argv + 2, err);
	if (argv[1][0] == '-') {
		const char *globals[] = { "--version", "--help" };
		const char *near = cmd_nearest(argv[1], globals, 2);
		if (near != NULL)
			return err_set(err, NW_EINPUT, "unknown option '%s'; did you mean '%s'?",
			    argv[1], near);
		return err_set(err, NW_EINPUT, "unknown option '%s'; see 'netwave help'", argv[1]);
	}
	cmd = cmd_find(argv[1]);
	if (cmd == NULL)
		return cmd_unknown_command(argv[1], err);
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			output_command_help(ctx->out, cmd);
			return 0;
		}
	}
	return run_command(ctx, cmd, argc - 2, argv + 2, err);
}

int
main(int argc, char **argv)
{
	struct cmd_ctx ctx = {
		.out = stdout,
		.err = stderr,
		.out_is_tty = isatty(STDOUT_FILENO) == 1,
		.err_is_tty = isatty(STDERR_FILENO) == 1,
		.now = context_now(),
		.argv0 = argv[0],
	};
	struct nw_err err = { 0 };
	int rc, code;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fputs("netwave: cannot initialise libcurl\n", stderr);
		return 1;
	}
	if (git_libgit2_init() < 0) {
		curl_global_cleanup();
		fputs("netwave: cannot initialise libgit2\n", stderr);
		return 1;
	}
	rc = run(&ctx, argc, argv, &err);
	git_libgit2_shutdown();
	if (fflush(stdout) != 0 && rc == 0)
		rc = err_set(&err, NW_EIO, "cannot write to standard output: %s", strerror(errno));
	curl_global_cleanup();
	code = err_exit_code(rc);
	if (rc != 0)
		fprintf(stderr, "netwave: %s\n", err.msg[0] != '\0' ? err.msg : err_status_name(rc));
	return code;
}
