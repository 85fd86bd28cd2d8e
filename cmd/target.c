/*
 * netwave target --current C --intent I [-o T]: expands an intent
 * (plan/intent.h) against the current topology into the full target
 * topology that `netwave plan --target` reads.  The result goes through
 * the real topology loader before it is written, so a target that does
 * not load is reported as our bug, never written.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "plan/diff.h"
#include "plan/intent.h"
#include "plan/topology.h"

static int
required(const struct cmd_args *a, const char *name, struct nw_err *err)
{
	if (cmd_arg(a, name) == NULL)
		return err_set(err, NW_EINPUT, "option '--%s' is required; usage: netwave target %s",
		    name, cmd_target_entry.usage);
	return 0;
}

/* Tells who joins each mesh and who stays on its firewall path. */
static int
report_meshes(struct cmd_ctx *ctx, const struct intent *in, const struct topology *cur,
    struct nw_err *err)
{
	size_t i, j;
	int rc = 0;

	for (i = 0; i < in->nchanges && rc == 0; i++) {
		const struct intent_change *c = &in->changes[i];
		size_t *members = NULL, *insp = NULL, nmembers = 0, ninsp = 0;

		if (c->kind != INTENT_AVNM_MESH)
			continue;
		rc = intent_mesh_members(&members, &nmembers, &insp, &ninsp, c, cur, err);
		if (rc == 0) {
			fprintf(ctx->err, "target: %s: %zu VNet%s join%s mesh group %s", c->pointer,
			    nmembers, nmembers == 1 ? "" : "s", nmembers == 1 ? "s" : "",
			    c->network_group);
			if (ninsp > 0) {
				fprintf(ctx->err, "; %zu spoke%s stay%s inspected (traffic to other "
				    "members goes through a firewall):", ninsp, ninsp == 1 ? "" : "s",
				    ninsp == 1 ? "s" : "");
				for (j = 0; j < ninsp; j++)
					fprintf(ctx->err, " %s", cur->vnets[insp[j]].res->name);
			}
			fputc('\n', ctx->err);
		}
		free(members);
		free(insp);
	}
	return rc;
}

static int
exec_target(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err)
{
	const char *output = cmd_arg(a, "output");
	struct topology *cur = NULL, *tgt = NULL;
	struct intent *in = NULL;
	struct diff d = { 0 };
	json_t *doc = NULL;
	int rc;

	if ((rc = required(a, "current", err)) != 0 || (rc = required(a, "intent", err)) != 0)
		goto done;
	if (output == NULL)
		output = "-";
	if ((rc = cmd_topology_load(ctx, cmd_arg(a, "current"), true, &cur, err)) != 0)
		goto done;
	if ((rc = intent_load_file(&in, cmd_arg(a, "intent"), err)) != 0) {
		err_prefix(err, "cannot load intent");
		goto done;
	}
	if ((rc = intent_target(&doc, in, cur, err)) != 0)
		goto done;
	rc = topology_load_json(&tgt, doc, "<target>", err);
	doc = NULL; /* stolen */
	if (rc != 0) {
		/* the expansion built something the loader rejects: our bug, not bad input */
		err_prefix(err, "the expanded target does not load");
		rc = err->code = NW_EFAIL;
		goto done;
	}
	if ((rc = topology_write_file(tgt, output, err)) != 0)
		goto done;
	if (strcmp(output, "-") != 0) {
		size_t i, added = 0, removed = 0;
		size_t changed = 0;
		const char *last = NULL;

		if ((rc = report_meshes(ctx, in, cur, err)) != 0 ||
		    (rc = diff_topologies(&d, cur, tgt, err)) != 0)
			goto done;
		for (i = 0; i < d.n; i++) {
			if (d.v[i].pointer[0] == '\0' && d.v[i].kind == DIFF_ADDED)
				added++;
			else if (d.v[i].pointer[0] == '\0' && d.v[i].kind == DIFF_REMOVED)
				removed++;
			else if (last == NULL || strcmp(last, d.v[i].resource_id) != 0)
				changed++, last = d.v[i].resource_id;
		}
		fprintf(ctx->err, "target: %zu change%s: %zu resource%s added, %zu removed, "
		    "%zu changed (counting observed as one) -> %s\n", in->nchanges,
		    in->nchanges == 1 ? "" : "s", added, added == 1 ? "" : "s", removed, changed,
		    output);
	}
done:
	diff_free(&d);
	json_decref(doc);
	topology_free(cur);
	topology_free(tgt);
	intent_free(in);
	return rc;
}

static const struct cmd_option opts_target[] = {
	{ "current", 0, "FILE", 0, "the current topology (required)" },
	{ "intent", 0, "FILE", 0, "the netwave.intent/v1 file (required)" },
	{ "output", 'o', "FILE", 0, "write the target here atomically instead of standard output" },
	{ NULL, 0, NULL, 0, NULL },
};

const struct cmd_entry cmd_target_entry = {
	"target",
	"--current FILE --intent FILE [-o FILE]",
	"expand an intent into the full target topology",
	"Reads what you want (an intent: docs/intent.md) and the current topology, and\n"
	"writes the topology as it will be after every wave, decommission included:\n"
	"network manager, group, static members and mesh configuration, deployments\n"
	"per region (keeping what is already deployed), private endpoint policies,\n"
	"Standard public IPs on gateways, summarized gateway prefixes, and the\n"
	"peerings and user routes the mesh makes redundant removed.  The rollout\n"
	"section rides along as x-netwave-rollout for 'netwave plan --target'.\n"
	"Spokes whose traffic to other members goes through a firewall today stay out\n"
	"of the mesh (\"stays inspected\").  A bad intent exits 2 naming the file and\n"
	"the JSON pointer; the same inputs always give the same bytes.",
	opts_target,
	0,
	0,
	exec_target,
};
