/*
 * netwave rollback: undo waves of a plan, last first, with the same run
 * as apply (cmd/apply.c, cmd_run_exec) in the other direction; the
 * engine runs the inverses and proves the way back (state/apply/).
 */
#include "config.h"

#include "cmd/apply.h"
#include "cmd/cmd.h"

static const struct cmd_option rollback_options[] = {
	{ "wave", 0, "NAME", 0, "roll back this wave (the waves after it must be rolled back)" },
	{ "all", 0, NULL, 0, "roll back every wave, last first" },
	{ "yes", 'y', NULL, 0, "do not ask" },
	{ "parallel", 0, "N", 0, "steps in flight at once (default 8)" },
	CMD_RUN_OPTIONS,
	{ NULL, 0, NULL, 0, NULL },
};

static int rollback_exec(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err);

const struct cmd_entry cmd_rollback_entry = {
	.name = "rollback",
	.usage = "PLAN [--wave NAME | --all] [--yes] [--db FILE]",
	.summary = "undo waves of a plan, last first, and prove the way back",
	.description =
	    "Runs the inverses of a wave's steps in reverse order (without --wave or --all, the\n"
	    "last wave that was started), then checks every resource is as it was before the wave\n"
	    "and on-premises routes still go through the gateway.  Rollback stops in front of an\n"
	    "irreversible step already carried out (a committed gateway migration, a deletion) and\n"
	    "says what can no longer be undone and why (exit 6).  Each wave rolled back is committed\n"
	    "to the history.  See docs/apply.md.",
	.options = rollback_options,
	.min_args = 1,
	.max_args = 1,
	.exec = rollback_exec,
	.flags = CMD_NEEDS_STORE | CMD_NEEDS_PROVIDER | CMD_NEEDS_HISTORY | CMD_SETUP_ON_USE,
};

static int
rollback_exec(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err)
{
	return cmd_run_exec(ctx, a, APPLY_ROLLBACK, err);
}
