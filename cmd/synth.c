/*
 * netwave synth: writes a synthetic estate (plan/synth.h) as a canonical
 * topology file, for demos, tests and benchmarks.  The document goes
 * through the real loader before it is written, so what synth writes is
 * exactly what every other command accepts.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "plan/synth.h"
#include "plan/topology.h"

static const struct cmd_option opts_synth[] = {
	{ "hubs", 0, "H", 0, "number of hubs (required)" },
	{ "spokes-per-hub", 0, "S", 0, "spokes peered to each hub (required)" },
	{ "pe-per-spoke", 0, "P", 0, "private endpoints in each spoke (default 0)" },
	{ "regions", 0, "R1,R2", 0, "regions the hubs go round-robin over (default eastus)" },
	{ "udr-spokes", 0, "K", 0, "spokes whose 0.0.0.0/0 goes to their hub's firewall (default 0)" },
	{ "subscriptions", 0, "N", 0, "subscriptions the spokes go round-robin over (default 1)" },
	{ "spoke-peerings", 0, "K", 0, "pairs of spokes of one hub peered directly (default 0)" },
	{ "gateway-udr-spokes", 0, "K", 0,
	  "spokes routing another spoke's /24 to the hub gateway (default 0)" },
	{ "vpn-gateways", 0, NULL, 0, "a VpnGw1 VPN gateway on a Basic IP in every hub" },
	{ "interhub-nva", 0, NULL, 0, "hubs peered, routing to each other through an NVA each with UDRs" },
	{ "route-servers", 0, NULL, 0,
	  "with --interhub-nva: a route server per hub, BGP with every NVA (docs/bgp.md)" },
	{ "seed", 0, "N", 0, "seed for every choice; same options, same bytes (default 1)" },
	CMD_OUT_OPTION("write here atomically instead of standard output"),
	CMD_FORMAT_OPTION("text|json", "with --out: a line on stderr (text, default) or "
	    "netwave.synth/v1 on stdout (json)"),
	{ NULL, 0, NULL, 0, NULL },
};

static int exec_synth(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err);

const struct cmd_entry cmd_synth_entry = {
	.name = "synth",
	.usage = "--hubs H --spokes-per-hub S [--pe-per-spoke P] [--regions R1,R2] [--udr-spokes K] "
	"[--subscriptions N] [--spoke-peerings K] [--gateway-udr-spokes K] [--vpn-gateways] "
	"[--interhub-nva [--route-servers]] [--seed N] [--out FILE] [-o text|json]",
	.summary = "generate a synthetic hub-and-spoke estate as a topology file",
	.description = "Hubs carry an ExpressRoute gateway on a Basic public IP, an Azure Firewall and a\n"
	"connection to one shared circuit whose on-premises routes include 10.0.0.0/8, so\n"
	"spoke-to-spoke traffic hairpins through the circuit.  Spokes are tagged role=spoke,\n"
	"env=dev (the first two of each hub) or env=prod, traffic=light (about one in five),\n"
	"and inspection=firewall when --udr-spokes routes them through the hub firewall.\n"
	"--subscriptions spreads the spokes over more subscriptions (hubs stay in the\n"
	"first); --spoke-peerings and --gateway-udr-spokes give spokes without a firewall\n"
	"route the direct peerings and gateway routes a mesh makes redundant;\n"
	"--vpn-gateways adds a VPN gateway beside each ExpressRoute gateway.\n"
	"--interhub-nva peers the hubs and routes between them through an NVA in each hub\n"
	"(10.NN.0.132): spokes without a route table send the other hubs' blocks to it, its\n"
	"subnet sends them to the other hubs' NVAs; --route-servers also deploys a route\n"
	"server per hub; each NVA peers with the other hubs' route servers (option B of\n"
	"the Azure Networking Blog's \"Inter-Hub Connectivity Using Azure Route Server\",\n"
	"docs/bgp.md).\n"
	"Hub NN uses 10.NN.0.0/24 and its spokes the /24s after it (larger blocks when a hub\n"
	"has over 255 spokes); 10.255.0.0/16 is left to on-premises.  The output is\n"
	"validated by the topology loader and written canonically.",
	.options = opts_synth,
	.min_args = 0,
	.max_args = 0,
	.exec = exec_synth,
};

/* Generous bounds: plan/synth.c knows what the address plan really holds. */
#define COUNT_MAX 1000000ul

/*
 * Splits "eastus,westeurope" into a NULL-terminated array pointing into
 * *copy (both malloc'd; free both).
 */
static int
regions_split(char **copy, const char ***list, size_t *n, const char *value, struct nw_err *err)
{
	const char **v = NULL;
	const char *q;
	char *s, *p;
	size_t cap = 1, i = 0;

	*copy = NULL;
	*list = NULL;
	*n = 0;
	for (q = value; *q != '\0'; q++)
		if (*q == ',')
			cap++;
	s = strdup(value);
	v = calloc(cap + 1, sizeof(*v));
	if (s == NULL || v == NULL) {
		free(s);
		free(v);
		return err_set(err, NW_ENOMEM, "out of memory");
	}
	for (p = s;; p++) {
		char *comma = strchr(p, ',');
		if (comma != NULL)
			*comma = '\0';
		if (*p == '\0') {
			err_set(err, NW_EINPUT, "option '--regions': empty region name in '%s'", value);
			free(s);
			free(v);
			return NW_EINPUT;
		}
		v[i++] = p;
		if (comma == NULL)
			break;
		p = comma;
	}
	*copy = s;
	*list = v;
	*n = i;
	return 0;
}

/*
 * What was written, once it is: a line on stderr for a file, or with
 * -o json a netwave.synth/v1 document on stdout (when the topology went
 * to a file; on stdout the topology is the document).
 */
static int
print_summary(struct cmd_ctx *ctx, const struct synth_opts *o, const char *output, bool json,
    struct nw_err *err)
{
	unsigned long long spokes = (unsigned long long)o->hubs * o->spokes_per_hub;
	unsigned long long pes = spokes * o->pe_per_spoke;
	char h[64], s[64], p[64];
	json_t *doc;
	int rc;

	if (strcmp(output, "-") == 0)
		return 0;
	if (json) {
		doc = json_pack("{s:s, s:I, s:I, s:I, s:s}", "format", "netwave.synth/v1", "hubs",
		    (json_int_t)o->hubs, "spokes", (json_int_t)spokes, "privateEndpoints",
		    (json_int_t)pes, "out", output);
		rc = doc != NULL ? output_json(ctx, doc, err) : err_set(err, NW_ENOMEM, "out of memory");
		json_decref(doc);
		return rc;
	}
	fprintf(ctx->err, "synth: %s, %s, %s -> %s\n", output_noun(h, sizeof(h), o->hubs, "hub", NULL),
	    output_noun(s, sizeof(s), spokes, "spoke", NULL),
	    output_noun(p, sizeof(p), pes, "private endpoint", NULL), output);
	return 0;
}

static int
exec_synth(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err)
{
	struct synth_opts o = { 0 };
	struct topology *t = NULL;
	unsigned long hubs, spokes, pes, udr, seed, subs, pairs, gw_udr;
	const char *output = cmd_arg(a, "out");
	enum output_format fmt;
	const char **regions = NULL;
	char *regions_copy = NULL;
	json_t *doc = NULL;
	size_t nregions = 0;
	int rc;

	if ((rc = cmd_arg_format(a, FORMAT_TEXT | FORMAT_JSON, FORMAT_TEXT, &fmt, err)) != 0 ||
	    (rc = cmd_arg_required(a, "hubs", &cmd_synth_entry, err)) != 0 ||
	    (rc = cmd_arg_required(a, "spokes-per-hub", &cmd_synth_entry, err)) != 0 ||
	    (rc = cmd_arg_ulong(a, "hubs", 1, COUNT_MAX, 1, &hubs, err)) != 0 ||
	    (rc = cmd_arg_ulong(a, "spokes-per-hub", 0, COUNT_MAX, 0, &spokes, err)) != 0 ||
	    (rc = cmd_arg_ulong(a, "pe-per-spoke", 0, COUNT_MAX, 0, &pes, err)) != 0 ||
	    (rc = cmd_arg_ulong(a, "udr-spokes", 0, COUNT_MAX * COUNT_MAX, 0, &udr, err)) != 0 ||
	    (rc = cmd_arg_ulong(a, "seed", 0, ULONG_MAX, 1, &seed, err)) != 0 ||
	    (rc = cmd_arg_ulong(a, "subscriptions", 1, COUNT_MAX, 1, &subs, err)) != 0 ||
	    (rc = cmd_arg_ulong(a, "spoke-peerings", 0, COUNT_MAX, 0, &pairs, err)) != 0 ||
	    (rc = cmd_arg_ulong(a, "gateway-udr-spokes", 0, COUNT_MAX, 0, &gw_udr, err)) != 0)
		goto done;
	if (udr > 0xfffffffful) {
		rc = err_set(err, NW_EINPUT, "option '--udr-spokes': %lu is more than the %lu spokes "
		    "of the estate", udr, hubs * spokes);
		goto done;
	}
	if (cmd_arg(a, "regions") != NULL &&
	    (rc = regions_split(&regions_copy, &regions, &nregions, cmd_arg(a, "regions"), err)) != 0)
		goto done;
	if (output == NULL)
		output = "-";

	o.hubs = (unsigned)hubs;
	o.spokes_per_hub = (unsigned)spokes;
	o.pe_per_spoke = (unsigned)pes;
	o.udr_spokes = (unsigned)udr;
	o.seed = seed;
	o.subscriptions = (unsigned)subs;
	o.spoke_peerings = (unsigned)pairs;
	o.gateway_udr_spokes = (unsigned)gw_udr;
	o.vpn_gateways = cmd_flag(a, "vpn-gateways");
	o.interhub_nva = cmd_flag(a, "interhub-nva");
	o.route_servers = cmd_flag(a, "route-servers");
	o.regions = regions;
	o.nregions = nregions;
	if ((rc = synth_generate(&doc, &o, err)) != 0)
		goto done;
	rc = cmd_topology_write(&t, doc, "<synth>", "generated estate", true, output, err);
	doc = NULL; /* stolen */
	if (rc != 0)
		goto done;
	rc = print_summary(ctx, &o, output, fmt == FORMAT_JSON, err);
done:
	json_decref(doc);
	topology_free(t);
	free(regions);
	free(regions_copy);
	return rc;
}
