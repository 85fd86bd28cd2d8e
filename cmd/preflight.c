/*
 * netwave preflight PLAN: what Azure would refuse of a stored plan's writes
 * (permissions, deny assignments, locks, policy, resource and registration
 * state), read from the live estate through the provider and judged by
 * plan/preflight.h; printed grouped by severity or as netwave.preflight/v1,
 * and kept with the plan in the store.  Exit 1 when a blocker is found.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "cmd/provider_opts.h"
#include "plan/jsonutil.h"
#include "plan/preflight.h"
#include "plan/topology.h"
#include "providers/azure/preflight.h"
#include "state/store.h"

static const struct cmd_option preflight_options[] = {
	CMD_FORMAT_OPTION("text|json", "output format (default text)"),
	CMD_DB_OPTION,
	{ "current", 0, "FILE", 0, "the topology the plan was made from, for circuit checks (default: the plan's)" },
	CMD_PROVIDER_OPTIONS,
	{ NULL, 0, NULL, 0, NULL },
};

static int preflight_exec(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err);

const struct cmd_entry cmd_preflight_entry = {
	.name = "preflight",
	.usage = "PLAN [-o text|json] [--db FILE] [--current FILE]",
	.summary = "find what Azure would refuse of a plan before its first write",
	.description =
	    "Reads the live estate through the provider and judges every write the stored plan\n"
	    "sends (its steps, their inverses, the decommission's deletions): the caller's\n"
	    "permissions at each resource group (missing actions and the smallest built-in role\n"
	    "that grants them), deny assignments, management locks (ReadOnly, CanNotDelete),\n"
	    "Azure Policy (checkPolicyRestrictions on each request shape), resource groups,\n"
	    "resources still Updating, a migration or commit already running, providers and\n"
	    "features.  Findings are blockers, warnings or info, each naming the resource, the\n"
	    "scope and the fix; the result is kept with the plan, and apply runs the same checks\n"
	    "before its first write.  Exit 0 without blockers, 1 with, 2 for an unknown plan or\n"
	    "store.  See docs/preflight.md.",
	.options = preflight_options,
	.min_args = 1,
	.max_args = 1,
	.exec = preflight_exec,
	.flags = CMD_NEEDS_STORE | CMD_NEEDS_PROVIDER,
};

/*
 * The topology circuits are judged in: --current FILE, else the file the
 * plan was made from when it is still there (*t stays NULL when neither).
 */
static int
plan_topology(struct cmd_ctx *ctx, const char *given, const json_t *plan, struct topology **t,
    const char **source, struct nw_err *err)
{
	const char *path = given != NULL ? given : json_path_str(plan, "current", "source", NULL);
	FILE *f;

	*t = NULL;
	*source = NULL;
	if (path == NULL)
		return 0;
	if (given == NULL) {
		/* the plan's own file is optional: it may have been made elsewhere */
		if ((f = fopen(path, "r")) == NULL)
			return 0;
		fclose(f);
	}
	*source = path;
	return cmd_topology_load(ctx, path, false, t, err);
}

static int
preflight_exec(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err)
{
	enum output_format fmt;
	json_t *plan = NULL, *doc = NULL;
	struct azure_preflight_opts o = { 0 };
	struct topology *t = NULL;
	char when[32];
	long blockers;
	int rc;

	if ((rc = cmd_arg_format(a, FORMAT_TEXT | FORMAT_JSON, FORMAT_TEXT, &fmt, err)) != 0)
		return rc;
	if ((rc = store_plan_get(ctx->store, a->pos[0], &plan, err)) != 0) {
		err_prefix(err, "plan store '%s'", ctx->db_path);
		goto done;
	}
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&ctx->now));
	if ((rc = plan_topology(ctx, cmd_arg(a, "current"), plan, &t, &o.topology_source, err)) != 0)
		goto done;
	o.topology = t;
	o.checked_at = when;
	if ((rc = azure_preflight_run(&doc, ctx->provider, plan, &o, err)) != 0) {
		err_prefix(err, "cannot preflight plan %s", json_str(plan, "id"));
		goto done;
	}
	if ((rc = store_preflight_save(ctx->store, json_str(plan, "id"), doc, ctx->now, err)) != 0)
		goto done;
	if (fmt == FORMAT_JSON)
		rc = output_json(ctx, doc, err);
	else
		preflight_print(ctx->out, doc);
	blockers = (long)json_integer_value(json_path(doc, "summary", "blockers", NULL));
	if (rc == 0 && blockers > 0)
		rc = err_set(err, NW_EFAIL, "plan %s: %ld blocker(s) found: Azure would refuse %s before the plan "
		    "could finish; fix them and run preflight again", json_str(plan, "id"), blockers,
		    blockers > 1 ? "these writes" : "this write");
done:
	topology_free(t);
	json_decref(doc);
	json_decref(plan);
	return rc;
}

/* The ids of the plan's steps done or skipped: {id: true} (new reference). */
static int
steps_done(json_t **out, struct store *st, const char *plan_id, struct nw_err *err)
{
	json_t *list = NULL, *s;
	size_t i;
	int rc;

	*out = NULL;
	if ((rc = store_step_list(st, plan_id, -1, &list, err)) != 0)
		return rc;
	if ((*out = json_object()) == NULL)
		rc = err_set(err, NW_ENOMEM, "out of memory");
	json_array_foreach(list, i, s) {
		const char *status = json_str(s, "status");
		if (*out != NULL && status != NULL && (strcmp(status, "done") == 0 || strcmp(status, "skipped") == 0))
			json_object_set_new(*out, json_str(s, "id"), json_true());
	}
	json_decref(list);
	return rc;
}

int
cmd_preflight_guard(struct cmd_ctx *ctx, struct store *st, struct provider *p, const char *plan_arg,
    const char *current, struct nw_err *err)
{
	json_t *plan = NULL, *done = NULL, *doc = NULL;
	struct azure_preflight_opts o = { 0 };
	struct topology *t = NULL;
	const char *id;
	char when[32];
	long blockers;
	int rc;

	if ((rc = store_plan_get(st, plan_arg, &plan, err)) != 0)
		return rc;
	id = json_str(plan, "id");
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&ctx->now));
	o.checked_at = when;
	if ((rc = steps_done(&done, st, id, err)) != 0 ||
	    (rc = plan_topology(ctx, current, plan, &t, &o.topology_source, err)) != 0)
		goto done;
	o.done = done;
	o.topology = t;
	if ((rc = azure_preflight_run(&doc, p, plan, &o, err)) != 0 ||
	    (rc = store_preflight_save(st, id, doc, ctx->now, err)) != 0) {
		err_prefix(err, "preflight before apply");
		goto done;
	}
	blockers = (long)json_integer_value(json_path(doc, "summary", "blockers", NULL));
	if (blockers > 0) {
		preflight_print(ctx->err, doc);
		rc = err_set(err, NW_EFAIL, "plan %s: preflight found %ld blocker(s): nothing was sent; fix them "
		    "(netwave preflight %s shows them again) or run apply with --no-preflight", id, blockers, id);
	}
done:
	topology_free(t);
	json_decref(doc);
	json_decref(done);
	json_decref(plan);
	return rc;
}
