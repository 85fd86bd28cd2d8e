/*
 * netwave check TOPOLOGY: what is wrong or at risk in an estate, and how
 * its spokes reach each other today.  Exit 0 without error-level
 * findings, 1 with some.  The checks live in plan/findings.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "plan/findings.h"
#include "plan/iac.h"
#include "plan/iac_findings.h"
#include "plan/routes.h"
#include "plan/topology.h"

static const struct cmd_option check_options[] = {
	{ "format", 0, "text|json", 0, "output format (default text)" },
	{ "iac-state", 0, "FILE", OPT_REPEAT, "Terraform state (docs/iac.md): what the code manages" },
	{ NULL, 0, NULL, 0, NULL },
};

static void
print_text(struct cmd_ctx *ctx, const struct findings *f, const struct topology *t)
{
	FILE *o = ctx->out;
	size_t i;

	fprintf(o, "%s: %zu VNets (%zu hubs, %zu spokes), %zu gateways, %zu circuits, "
		   "%zu private endpoints\n",
	    t->source, t->nvnets, f->nhubs, f->nspokes, t->ngateways, t->ncircuits,
	    t->nprivate_endpoints);

	if (f->n > 0) {
		fputs("\nfindings:\n", o);
		for (i = 0; i < f->n; i++)
			fprintf(o, "  %-7s  %-26s  %s\n", finding_severity_name(f->v[i].severity),
			    f->v[i].code, f->v[i].message);
	}
	if (f->nlimits > 0) {
		fputs("\nlimits (the busiest use of each):\n", o);
		for (i = 0; i < f->nlimits; i++) {
			char use[48];

			snprintf(use, sizeof(use), "%ld of %ld", f->limits[i].value, f->limits[i].limit);
			fprintf(o, "  %-52s  %-14s  %-24s  %s\n", f->limits[i].what, use,
			    cmd_short_name(f->limits[i].resource), f->limits[i].source);
		}
	}
	fprintf(o, "\neast-west between spokes: %zu flows (ordered pairs)\n", f->eastwest.flows);
	for (i = 0; i < f->eastwest.nbuckets; i++) {
		const struct path_bucket *b = &f->eastwest.buckets[i];
		const char *detail = b->detail;

		if (b->cls == PATH_HAIRPIN)
			detail = cmd_short_name(b->detail);
		fprintf(o, "  %-14s %10zu  %s%s\n", path_class_name(b->cls), b->count,
		    b->cls == PATH_HAIRPIN ? "through circuit " :
		    b->cls == PATH_VIA_APPLIANCE ? "through " : "",
		    detail);
	}
	fprintf(o, "\n%zu errors, %zu warnings, %zu infos\n", f->by_severity[SEV_ERROR],
	    f->by_severity[SEV_WARNING], f->by_severity[SEV_INFO]);
}

static int
check_exec(struct cmd_ctx *ctx, const struct cmd_args *args, struct nw_err *err)
{
	struct topology *t = NULL;
	struct routes_ctx *rctx = NULL;
	struct findings f = { 0 };
	struct iac_map *iac = NULL;
	enum output_format fmt;
	json_t *doc = NULL, *iacf = NULL;
	int rc;

	rc = cmd_arg_format(args, FORMAT_TEXT | FORMAT_JSON, FORMAT_TEXT, &fmt, err);
	if (rc != 0)
		return rc;
	rc = cmd_topology_load(ctx, args->pos[0], false, &t, err);
	if (rc != 0)
		goto done;
	rc = routes_ctx_new(&rctx, t, err);
	if (rc != 0)
		goto done;
	rc = findings_check(&f, t, rctx, err);
	if (rc != 0)
		goto done;
	if ((rc = cmd_iac_states(args, t, &iac, err)) != 0)
		goto done;
	if (iac != NULL && (iacf = iac_check_findings(iac, t)) == NULL) {
		rc = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	if (fmt == FORMAT_JSON) {
		doc = findings_to_json(&f, t);
		if (doc == NULL) {
			rc = err_set(err, NW_ENOMEM, "out of memory");
			goto done;
		}
		json_object_set_new(doc, "source", json_string(t->source));
		if (iacf != NULL)
			json_object_set(doc, "iac", iacf);
		rc = output_json(ctx, doc, err);
		if (rc != 0)
			goto done;
	} else {
		print_text(ctx, &f, t);
		cmd_iac_print(ctx, iacf);
	}
	if (f.by_severity[SEV_ERROR] > 0)
		rc = err_set(err, NW_EFAIL, "%s: %zu error-level findings", t->source,
		    f.by_severity[SEV_ERROR]);
done:
	json_decref(doc);
	json_decref(iacf);
	iac_map_free(iac);
	findings_free(&f);
	routes_ctx_free(rctx);
	topology_free(t);
	return rc;
}

const struct cmd_entry cmd_check_entry = {
	.name = "check",
	.usage = "TOPOLOGY [--format text|json] [--iac-state FILE]...",
	.summary = "find what is wrong or at risk in a topology, and how spokes reach each other",
	.description =
	    "Reads a netwave.topology/v1 file (from discover, synth or by hand) and reports:\n"
	    "overlapping address spaces, peerings not Connected or one-sided, gateway transit\n"
	    "that cannot work, route tables pointing at next hops that do not exist, gateways\n"
	    "on Basic public IPs, limits (advertised prefixes per gateway, peerings and private\n"
	    "endpoints per VNet), and an east-west summary: how many spoke-to-spoke flows\n"
	    "hairpin through which circuit, go through an appliance, are direct or unreachable.\n"
	    "--iac-state adds what Terraform manages and what its state holds that is gone.\n"
	    "Exit 0 with no error-level findings, 1 with some, 2 when the file is invalid.",
	.options = check_options,
	.min_args = 1,
	.max_args = 1,
	.exec = check_exec,
};
