/*
 * What the dispatcher sets up for a command before it runs, from the
 * command's setup flags (cmd.h, enum cmd_setup_flags), as git's RUN_SETUP
 * does: the plan store, the cloud provider, the history.  Commands borrow
 * them from the context; cmd_teardown closes whatever was opened, so a
 * command's error paths never leak them.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/provider_opts.h"
#include "providers/provider.h"
#include "state/history.h"
#include "state/store.h"

const char *
cmd_db_path(const struct cmd_args *a)
{
	const char *db = cmd_arg(a, "db");

	if (db == NULL || *db == '\0')
		db = getenv("NETWAVE_DB");
	if (db == NULL || *db == '\0')
		db = "netwave.db";
	return db;
}

/* --history, else netwave-history beside the plan store (cmd_db_path). */
static int
history_path(char *buf, size_t size, const struct cmd_args *a, struct nw_err *err)
{
	const char *dir = cmd_arg(a, "history");

	if (dir != NULL && *dir != '\0') {
		if (strlen(dir) >= size)
			return err_set(err, NW_EINPUT, "option '--history': path too long");
		strcpy(buf, dir);
		return 0;
	}
	return history_default_dir(buf, size, cmd_db_path(a), err);
}

static int
store_open_at(struct cmd_ctx *ctx, bool create, struct nw_err *err)
{
	int rc;

	if ((rc = store_open(&ctx->store, ctx->db_path, create, err)) != 0)
		err_prefix(err, "cannot open plan store '%s'", ctx->db_path);
	return rc;
}

int
cmd_setup(struct cmd_ctx *ctx, const struct cmd_entry *cmd, const struct cmd_args *a,
    struct nw_err *err)
{
	int rc;

	ctx->args = a;
	ctx->setup = cmd->flags;
	if (cmd->flags & (CMD_NEEDS_STORE | CMD_MAKES_STORE))
		ctx->db_path = cmd_db_path(a);
	if (cmd->flags & CMD_SETUP_ON_USE)
		return 0;
	if ((cmd->flags & CMD_NEEDS_HISTORY) &&
	    (rc = history_path(ctx->history_dir, sizeof(ctx->history_dir), a, err)) != 0)
		return rc;
	if ((cmd->flags & CMD_NEEDS_PROVIDER) && (rc = cmd_provider_open(ctx, a, &ctx->provider, err)) != 0)
		return rc;
	if ((cmd->flags & CMD_NEEDS_STORE) && (rc = store_open_at(ctx, false, err)) != 0)
		return rc;
	return 0;
}

void
cmd_teardown(struct cmd_ctx *ctx)
{
	history_close(ctx->history);
	ctx->history = NULL;
	store_close(ctx->store);
	ctx->store = NULL;
	provider_free(ctx->provider);
	ctx->provider = NULL;
	ctx->args = NULL;
	ctx->setup = 0;
	ctx->history_dir[0] = '\0';
}

int
cmd_store_open(struct cmd_ctx *ctx, struct store **out, struct nw_err *err)
{
	int rc;

	*out = NULL;
	if (ctx->db_path == NULL)
		return err_set(err, NW_EFAIL, "the command does not declare a plan store");
	if (ctx->store == NULL && (rc = store_open_at(ctx, (ctx->setup & CMD_MAKES_STORE) != 0, err)) != 0)
		return rc;
	*out = ctx->store;
	return 0;
}

int
cmd_provider_get(struct cmd_ctx *ctx, struct provider **out, struct nw_err *err)
{
	int rc;

	*out = NULL;
	if (!(ctx->setup & CMD_NEEDS_PROVIDER))
		return err_set(err, NW_EFAIL, "the command does not declare a provider");
	if (ctx->provider == NULL && (rc = cmd_provider_open(ctx, ctx->args, &ctx->provider, err)) != 0)
		return rc;
	*out = ctx->provider;
	return 0;
}

int
cmd_history_open(struct cmd_ctx *ctx, bool create, struct history **out, struct nw_err *err)
{
	int rc;

	*out = NULL;
	if (!(ctx->setup & CMD_NEEDS_HISTORY))
		return err_set(err, NW_EFAIL, "the command does not declare a history");
	if (ctx->history_dir[0] == '\0' &&
	    (rc = history_path(ctx->history_dir, sizeof(ctx->history_dir), ctx->args, err)) != 0)
		return rc;
	if (ctx->history == NULL && (rc = history_open(&ctx->history, ctx->history_dir, create, err)) != 0)
		return rc;
	*out = ctx->history;
	return 0;
}
