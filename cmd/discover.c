/*
 * netwave discover: reads an estate from ARM (providers/azure/discover.c)
 * and writes it as a canonical netwave.topology/v1 file, the "current"
 * side of every plan.  The document goes through the real loader before
 * it is written, so what discover writes is what every other command
 * reads, and discovering an unchanged estate twice gives the same bytes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/provider_opts.h"
#include "plan/topology.h"
#include "providers/azure/azure.h"

static const struct cmd_option opts_discover[] = {
	{ "subscription", 0, "ID", OPT_REPEAT, "subscription to read, by id or name (repeat for "
	  "more; default AZURE_SUBSCRIPTION_ID, then ARM_SUBSCRIPTION_ID)" },
	{ "management-group", 0, "MG", 0, "also read every subscription below this management group" },
	{ "resource-group", 0, "RG", OPT_REPEAT, "read only these resource groups (repeat for more)" },
	CMD_OUT_OPTION("write the topology here atomically instead of standard output"),
	CMD_FORMAT_OPTION("text|json", "what to print once written: a line on stderr (text, "
	    "default) or netwave.discover/v1 on stdout (json, with --out)"),
	{ "source", 0, "HOW", 0, "auto (default: Resource Graph, else list calls), resource-graph "
	  "or list" },
	{ "deployments", 0, NULL, 0, "also read each resource group's ARM deployment history (docs/iac.md)" },
	CMD_PROVIDER_OPTIONS,
	{ NULL, 0, NULL, 0, NULL },
};

static int exec_discover(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err);

const struct cmd_entry cmd_discover_entry = {
	.name = "discover",
	.usage = "[--subscription ID|NAME...] [--management-group MG] [--resource-group RG...] "
	    "[--deployments] [--out FILE] [-o text|json]",
	.summary = "read an estate from Azure into a topology file",
	.description = "Reads the network resources of the subscriptions (Resource Graph first, ARM list calls\n"
	"when Resource Graph is not available), then the routes each ExpressRoute circuit learned,\n"
	"the preview features netwave needs and the AVNM configurations deployed per region, and\n"
	"writes a canonical netwave.topology/v1 file.  Credentials come from the environment as\n"
	"for DefaultAzureCredential: NETWAVE_ACCESS_TOKEN, AZURE_TENANT_ID + AZURE_CLIENT_ID +\n"
	"AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH, or AZURE_FEDERATED_TOKEN_FILE),\n"
	"managed identity, then 'az login'.  Subscriptions are ids or names; without\n"
	"--subscription, AZURE_SUBSCRIPTION_ID (or ARM_SUBSCRIPTION_ID).  See docs/discover.md.",
	.options = opts_discover,
	.min_args = 0,
	.max_args = 0,
	.exec = exec_discover,
	.flags = CMD_NEEDS_PROVIDER,
};

/*
 * What was read, once the file is written: a line on stderr, or with
 * -o json and --out FILE a netwave.discover/v1 document on stdout (with
 * no --out, stdout already holds the topology).
 */
static int
print_summary(struct cmd_ctx *ctx, const struct azure_discover_report *rep, const char *output,
    bool json, struct nw_err *err)
{
	const char *src = rep->source == AZURE_SOURCE_GRAPH ? "resource-graph" : "list";
	char n[64], r[64];
	json_t *doc;
	int rc;

	if (json && strcmp(output, "-") != 0) {
		doc = json_pack("{s:s, s:I, s:I, s:s, s:I, s:s}", "format", "netwave.discover/v1",
		    "resources", (json_int_t)rep->resources, "requests", (json_int_t)rep->requests,
		    "source", src, "denied", (json_int_t)rep->denied, "out", output);
		rc = doc != NULL ? output_json(ctx, doc, err) : err_set(err, NW_ENOMEM, "out of memory");
		json_decref(doc);
		return rc;
	}
	fprintf(ctx->err, "discover: %s from %s in %s%s%s\n",
	    output_noun(n, sizeof(n), rep->resources, "resource", NULL),
	    rep->source == AZURE_SOURCE_GRAPH ? "Resource Graph" : "ARM list calls",
	    output_noun(r, sizeof(r), rep->requests, "request", NULL),
	    strcmp(output, "-") != 0 ? " -> " : "", strcmp(output, "-") != 0 ? output : "");
	if (rep->denied > 0)
		fprintf(ctx->err, "discover: %zu type%s could not be read (no permission); the file "
		    "lacks them\n", rep->denied, rep->denied == 1 ? "" : "s");
	return 0;
}

static int
exec_discover(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err)
{
	struct azure_discover_opts o = { 0 };
	struct azure_discover_report rep;
	struct azure_scope_opts so = { 0 };
	json_t *subs = NULL;
	const char **ids = NULL;
	size_t i;
	struct topology *t = NULL;
	const char *output = cmd_arg(a, "out");
	const char *source = cmd_arg(a, "source");
	enum output_format fmt;
	json_t *doc = NULL;
	int rc;

	if ((rc = cmd_arg_format(a, FORMAT_TEXT | FORMAT_JSON, FORMAT_TEXT, &fmt, err)) != 0)
		return rc;
	so.subscriptions = (const char *const *)cmd_arg_all(a, "subscription", &so.nsubscriptions);
	so.management_group = cmd_arg(a, "management-group");
	o.resource_groups = (const char *const *)cmd_arg_all(a, "resource-group", &o.nresource_groups);
	o.deployments = cmd_flag(a, "deployments");
	if (source == NULL || strcmp(source, "auto") == 0)
		o.source = AZURE_SOURCE_AUTO;
	else if (strcmp(source, "resource-graph") == 0)
		o.source = AZURE_SOURCE_GRAPH;
	else if (strcmp(source, "list") == 0)
		o.source = AZURE_SOURCE_LIST;
	else
		return err_set(err, NW_EINPUT, "option '--source': '%s' is not one of auto, "
		    "resource-graph, list", source);
	if (output == NULL)
		output = "-";
	o.cloud = cmd_provider_cloud(a);
	o.log = ctx->err;
	o.progress = ctx->err_is_tty && !cmd_flag(a, "verbose") ? ctx->err : NULL;

	/* ids, names, the environment's subscription, a management group (docs/discover.md) */
	if ((rc = azure_scope_resolve(&subs, ctx->provider, &so, err)) != 0)
		goto done;
	if ((ids = calloc(json_array_size(subs) + 1, sizeof(*ids))) == NULL) {
		rc = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < json_array_size(subs); i++)
		ids[i] = json_string_value(json_array_get(subs, i));
	o.subscriptions = ids;
	o.nsubscriptions = json_array_size(subs);
	if ((rc = azure_discover(&doc, ctx->provider, &o, &rep, err)) != 0)
		goto done;
	rc = cmd_topology_write(&t, doc, "<discovered>", "the discovered estate", false, output, err);
	doc = NULL; /* stolen */
	if (rc != 0)
		goto done;
	rc = print_summary(ctx, &rep, output, fmt == FORMAT_JSON, err);
done:
	free(ids);
	json_decref(subs);
	json_decref(doc);
	topology_free(t);
	return rc;
}
