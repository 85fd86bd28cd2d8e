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
#include "plan/picture.h"
#include "plan/routes.h"
#include "plan/topology.h"

static const struct cmd_option check_options[] = {
	{ "format", 0, "text|json|dot", 0, "output format (default text; dot: a Graphviz picture)" },
	{ "iac-state", 0, "FILE", OPT_REPEAT, "Terraform state (docs/iac.md): what the code manages" },
	{ NULL, 0, NULL, 0, NULL },
};

static int check_exec(struct cmd_ctx *ctx, const struct cmd_args *args, struct nw_err *err);

const struct cmd_entry cmd_check_entry = {
	.name = "check",
	.usage = "TOPOLOGY [--format text|json|dot] [--iac-state FILE]...",
	.summary = "find what is wrong or at risk in a topology, and how spokes reach each other",
	.description =
	    "Reads a netwave.topology/v1 file (from discover, synth or by hand) and reports:\n"
	    "overlapping address spaces, peerings not Connected or one-sided, gateway transit\n"
	    "that cannot work, route tables pointing at next hops that do not exist, gateways\n"
	    "on Basic public IPs, limits (advertised prefixes per gateway, peerings and private\n"
	    "endpoints per VNet), and an east-west summary: how many spoke-to-spoke flows\n"
	    "hairpin through which circuit, go through an appliance, are direct or unreachable,\n"
	    "counted from each workload subnet (a spoke whose subnets go different ways counts\n"
	    "a flow for each, and is named).  --format dot draws the estate for Graphviz: hubs\n"
	    "with their gateways and appliances, circuits, spokes grouped by hub and class.\n"
	    "--iac-state adds what Terraform manages and what its state holds that is gone.\n"
	    "Exit 0 with no error-level findings, 1 with some, 2 when the file is invalid.",
	.options = check_options,
	.min_args = 1,
	.max_args = 1,
	.exec = check_exec,
};

#define MIXED_SHOWN 5

/* "workload via-appliance 10.0.0.4, endpoints hairpin er-1": each source subnet's way to b. */
static int
print_mixed(FILE *o, const struct routes_ctx *rctx, const struct path_mixed *m, struct nw_err *err)
{
	const struct topo_vnet *b = m->example_to;
	struct path_result *rows = NULL;
	size_t n = 0;
	int rc;

	rc = routes_path_sources(&rows, &n, rctx, m->vnet, NULL, b->prefixes.v, b->prefixes.n, err);
	if (rc != 0)
		return rc;
	fprintf(o, "    %s to %s:", m->vnet->res->name, b->res->name);
	for (size_t i = 0; i < n; i++) {
		const char *detail = rows[i].cls == PATH_HAIRPIN ? cmd_short_name(rows[i].detail) :
								  rows[i].detail;

		fprintf(o, "%s %s %s%s%s", i > 0 ? "," : "",
		    rows[i].from_subnet != NULL ? rows[i].from_subnet->name : "(no subnet)",
		    path_class_name(rows[i].cls), detail[0] ? " " : "", detail);
	}
	fputs("\n", o);
	free(rows);
	return 0;
}

static void
print_eastwest(FILE *o, const struct findings *f)
{
	char n1[64], n2[64];
	size_t i;

	fprintf(o, "\neast-west between spokes: %s (from %s to the other spokes)\n",
	    output_noun(n1, sizeof(n1), f->eastwest.flows, "flow", NULL),
	    output_noun(n2, sizeof(n2), f->eastwest.sources, "workload subnet", NULL));
	for (i = 0; i < f->eastwest.nbuckets; i++) {
		const struct path_bucket *b = &f->eastwest.buckets[i];
		const char *detail = b->detail;

		if (b->cls == PATH_HAIRPIN)
			detail = cmd_short_name(b->detail);
		fprintf(o, "  %-14s %10s  %s%s\n", path_class_name(b->cls),
		    output_count(n1, sizeof(n1), b->count),
		    b->cls == PATH_HAIRPIN ? "through circuit " :
		    b->cls == PATH_VIA_APPLIANCE ? "through " : "",
		    detail);
	}
}

static int
print_text(struct cmd_ctx *ctx, const struct findings *f, const struct topology *t,
    const struct routes_ctx *rctx, struct nw_err *err)
{
	FILE *o = ctx->out;
	size_t i;

	{
		char a[6][64];

		fprintf(o, "%s: %s (%s, %s), %s, %s, %s\n", t->source,
		    output_noun(a[0], sizeof(a[0]), t->nvnets, "VNet", NULL),
		    output_noun(a[1], sizeof(a[1]), f->nhubs, "hub", NULL),
		    output_noun(a[2], sizeof(a[2]), f->nspokes, "spoke", NULL),
		    output_noun(a[3], sizeof(a[3]), t->ngateways, "gateway", NULL),
		    output_noun(a[4], sizeof(a[4]), t->ncircuits, "circuit", NULL),
		    output_noun(a[5], sizeof(a[5]), t->nprivate_endpoints, "private endpoint", NULL));
	}

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
	print_eastwest(o, f);
	if (f->eastwest.nmixed > 0)
		fprintf(o, "  %zu spoke%s whose subnets reach other spokes different ways "
			   "(`netwave path` shows each subnet):\n",
		    f->eastwest.nmixed, f->eastwest.nmixed == 1 ? "" : "s");
	for (i = 0; i < f->eastwest.nmixed && i < MIXED_SHOWN; i++) {
		int rc = print_mixed(o, rctx, &f->eastwest.mixed[i], err);

		if (rc != 0)
			return rc;
	}
	if (f->eastwest.nmixed > MIXED_SHOWN)
		fprintf(o, "    and %zu more\n", f->eastwest.nmixed - MIXED_SHOWN);
	fprintf(o, "\n%zu errors, %zu warnings, %zu infos\n", f->by_severity[SEV_ERROR],
	    f->by_severity[SEV_WARNING], f->by_severity[SEV_INFO]);
	return 0;
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

	rc = cmd_arg_format(args, FORMAT_TEXT | FORMAT_JSON | FORMAT_DOT, FORMAT_TEXT, &fmt, err);
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
	} else if (fmt == FORMAT_DOT) {
		rc = picture_topology_dot(ctx->out, t, &f, err);
		if (rc != 0)
			goto done;
	} else {
		rc = print_text(ctx, &f, t, rctx, err);
		if (rc != 0)
			goto done;
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
