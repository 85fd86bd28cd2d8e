/*
 * netwave target --current C --intent I [--out T]: expands an intent
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

static const struct cmd_option opts_target[] = {
	{ "current", 0, "FILE", 0, "the current topology (required)" },
	{ "intent", 0, "FILE", 0, "the netwave.intent/v1 file (required)" },
	CMD_OUT_OPTION("write the target here atomically instead of standard output"),
	CMD_FORMAT_OPTION("text|json", "with --out: lines on stderr (text, default) or "
	    "netwave.target/v1 on stdout (json)"),
	{ NULL, 0, NULL, 0, NULL },
};

static int exec_target(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err);

const struct cmd_entry cmd_target_entry = {
	.name = "target",
	.usage = "--current FILE --intent FILE [--out FILE] [-o text|json]",
	.summary = "expand an intent into the full target topology",
	.description = "Reads what you want (an intent: docs/intent.md) and the current topology, and\n"
	"writes the topology as it will be after every wave, decommission included:\n"
	"what each change kind (listed below) makes, and what it makes redundant\n"
	"removed.  The rollout section rides along as x-netwave-rollout for\n"
	"'netwave plan --target'.\n"
	"Spokes whose traffic to other members goes through a firewall today stay out\n"
	"of the mesh (\"stays inspected\").  A bad intent exits 2 naming the file and\n"
	"the JSON pointer; the same inputs always give the same bytes.",
	.options = opts_target,
	.min_args = 0,
	.max_args = 0,
	.exec = exec_target,
	.flags = CMD_HELP_KINDS,
};

/*
 * Who joins each mesh and who stays on its firewall path: a line per mesh
 * on stderr, or (json) an entry of doc's "meshes".
 */
static int
report_meshes(struct cmd_ctx *ctx, const struct intent *in, const struct topology *cur,
    json_t *doc, struct nw_err *err)
{
	size_t i, j;
	int rc = 0;

	for (i = 0; i < in->nchanges && rc == 0; i++) {
		const struct intent_change *c = &in->changes[i];
		size_t *members = NULL, *insp = NULL, nmembers = 0, ninsp = 0;
		json_t *names = json_array();
		const char *group = intent_mesh_group(c);
		char n[64], k[64];

		if (group == NULL || names == NULL) {
			json_decref(names);
			continue;
		}
		rc = intent_mesh_members(&members, &nmembers, &insp, &ninsp, c, cur, err);
		for (j = 0; rc == 0 && j < ninsp; j++)
			json_array_append_new(names, json_string(cur->vnets[insp[j]].res->name));
		if (rc == 0 && doc != NULL) {
			json_array_append_new(json_object_get(doc, "meshes"), json_pack("{s:s, s:s, s:I, s:O}",
			    "change", c->pointer, "networkGroup", group, "members",
			    (json_int_t)nmembers, "inspected", names));
		} else if (rc == 0) {
			fprintf(ctx->err, "target: %s: %s join%s mesh group %s", c->pointer,
			    output_noun(n, sizeof(n), nmembers, "VNet", NULL), nmembers == 1 ? "s" : "",
			    group);
			if (ninsp > 0) {
				fprintf(ctx->err, "; %s stay%s inspected (traffic to other members goes "
				    "through a firewall):", output_noun(k, sizeof(k), ninsp, "spoke", NULL),
				    ninsp == 1 ? "s" : "");
				for (j = 0; j < ninsp; j++)
					fprintf(ctx->err, " %s", cur->vnets[insp[j]].res->name);
			}
			fputc('\n', ctx->err);
		}
		json_decref(names);
		free(members);
		free(insp);
	}
	return rc;
}

/* Resources added, removed and changed (a resource's observed changes count as one). */
static void
count_changes(const struct diff *d, size_t *added, size_t *removed, size_t *changed)
{
	const char *last = NULL;
	size_t i;

	*added = *removed = *changed = 0;
	for (i = 0; i < d->n; i++) {
		if (d->v[i].pointer[0] == '\0' && d->v[i].kind == DIFF_ADDED) {
			(*added)++;
		} else if (d->v[i].pointer[0] == '\0' && d->v[i].kind == DIFF_REMOVED) {
			(*removed)++;
		} else if (last == NULL || strcmp(last, d->v[i].resource_id) != 0) {
			(*changed)++;
			last = d->v[i].resource_id;
		}
	}
}

/* What the target changes, once written to a file: lines on stderr, or netwave.target/v1. */
static int
print_summary(struct cmd_ctx *ctx, const struct intent *in, const struct topology *cur,
    const struct topology *tgt, const char *output, bool json, struct nw_err *err)
{
	struct diff d = { 0 };
	size_t added, removed, changed;
	json_t *doc = NULL;
	char c[64], r[64];
	int rc;

	if (json && (doc = json_pack("{s:s, s:s, s:[]}", "format", "netwave.target/v1", "out", output,
	    "meshes")) == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	if ((rc = report_meshes(ctx, in, cur, doc, err)) != 0 ||
	    (rc = diff_topologies(&d, cur, tgt, err)) != 0)
		goto done;
	count_changes(&d, &added, &removed, &changed);
	if (doc != NULL) {
		json_object_set_new(doc, "changes", json_integer((json_int_t)in->nchanges));
		json_object_set_new(doc, "added", json_integer((json_int_t)added));
		json_object_set_new(doc, "removed", json_integer((json_int_t)removed));
		json_object_set_new(doc, "changed", json_integer((json_int_t)changed));
		rc = output_json(ctx, doc, err);
	} else {
		fprintf(ctx->err, "target: %s: %s added, %zu removed, %zu changed (counting observed "
		    "as one) -> %s\n", output_noun(c, sizeof(c), in->nchanges, "change", NULL),
		    output_noun(r, sizeof(r), added, "resource", NULL), removed, changed, output);
	}
done:
	json_decref(doc);
	diff_free(&d);
	return rc;
}

static int
exec_target(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err)
{
	const char *output = cmd_arg(a, "out");
	struct topology *cur = NULL, *tgt = NULL;
	struct intent *in = NULL;
	enum output_format fmt;
	json_t *doc = NULL;
	int rc;

	if ((rc = cmd_arg_format(a, FORMAT_TEXT | FORMAT_JSON, FORMAT_TEXT, &fmt, err)) != 0 ||
	    (rc = cmd_arg_required(a, "current", &cmd_target_entry, err)) != 0 ||
	    (rc = cmd_arg_required(a, "intent", &cmd_target_entry, err)) != 0)
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
	rc = cmd_topology_write(&tgt, doc, "<target>", "the expanded target", true, output, err);
	doc = NULL; /* stolen */
	if (rc != 0)
		goto done;
	if (strcmp(output, "-") != 0)
		rc = print_summary(ctx, in, cur, tgt, output, fmt == FORMAT_JSON, err);
done:
	json_decref(doc);
	topology_free(cur);
	topology_free(tgt);
	intent_free(in);
	return rc;
}
