/*
 * netwave path TOPOLOGY FROM TO: how traffic from one VNet reaches another
 * (local, peering, mesh, via-appliance, hairpin, on-premises, unreachable)
 * and the routes that decide it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "plan/routes.h"
#include "plan/topology.h"

static const struct cmd_option path_options[] = {
	{ "format", 0, "text|json", 0, "output format (default text)" },
	{ NULL, 0, NULL, 0, NULL },
};

static void
describe_route(char *buf, size_t n, const struct route *r)
{
	char pfx[CIDR_STRLEN], ip[CIDR_STRLEN] = "";

	cidr_format(&r->prefix, pfx);
	if (r->has_next_hop_ip)
		cidr_format_addr(&r->next_hop_ip, ip);
	snprintf(buf, n, "%s -> %s%s%s (%s%s%s)", pfx, topo_next_hop_name(r->next_hop),
	    ip[0] ? " " : "", ip, route_source_name(r->source),
	    r->name != NULL ? ", route " : "", r->name != NULL ? r->name : "");
}

static int
path_exec(struct cmd_ctx *ctx, const struct cmd_args *args, struct nw_err *err)
{
	struct topology *t = NULL;
	struct routes_ctx *rctx = NULL;
	struct path_result pr;
	const struct topo_vnet *a, *b;
	enum output_format fmt;
	char dst[CIDR_STRLEN], line[512];
	json_t *doc = NULL;
	int rc;

	rc = cmd_arg_format(args, FORMAT_TEXT | FORMAT_JSON, FORMAT_TEXT, &fmt, err);
	if (rc != 0)
		return rc;
	rc = cmd_topology_load(ctx, args->pos[0], true, &t, err);
	if (rc != 0)
		goto done;
	a = cmd_find_vnet(t, args->pos[1], err);
	b = a != NULL ? cmd_find_vnet(t, args->pos[2], err) : NULL;
	if (a == NULL || b == NULL) {
		rc = err->code;
		goto done;
	}
	rc = routes_ctx_new(&rctx, t, err);
	if (rc == 0)
		rc = routes_path(&pr, rctx, a, b, err);
	if (rc != 0)
		goto done;
	cidr_format(&pr.dst, dst);
	if (fmt == FORMAT_JSON) {
		doc = json_pack("{s:s, s:s, s:s, s:s, s:s}", "from", a->res->id, "to", b->res->id,
		    "class", path_class_name(pr.cls), "detail", pr.detail, "destination", dst);
		if (doc == NULL) {
			rc = err_set(err, NW_ENOMEM, "out of memory");
			goto done;
		}
		if (pr.from_subnet != NULL)
			json_object_set_new(doc, "fromSubnet", json_string(pr.from_subnet->id));
		if (pr.has_route) {
			describe_route(line, sizeof(line), &pr.route);
			json_object_set_new(doc, "route", json_string(line));
		}
		if (pr.has_circuit_route) {
			char cp[CIDR_STRLEN];

			cidr_format(&pr.circuit_route.prefix, cp);
			json_object_set_new(doc, "circuitRoute",
			    json_pack("{s:s, s:s}", "addressPrefix", cp, "origin",
				pr.circuit_route.origin != NULL ? pr.circuit_route.origin->res->id :
								  "on-premises"));
		}
		rc = output_json(ctx, doc, err);
		goto done;
	}
	fprintf(ctx->out, "%s -> %s: %s%s%s\n", a->res->name, b->res->name, path_class_name(pr.cls),
	    pr.detail[0] ? " " : "",
	    pr.cls == PATH_HAIRPIN ? cmd_short_name(pr.detail) : pr.detail);
	if (pr.from_subnet != NULL)
		fprintf(ctx->out, "  from subnet %s to %s\n", pr.from_subnet->name, dst);
	else
		fprintf(ctx->out, "  to %s\n", dst);
	if (pr.has_route) {
		describe_route(line, sizeof(line), &pr.route);
		fprintf(ctx->out, "  route: %s\n", line);
		if (pr.route.circuit != NULL)
			fprintf(ctx->out, "  learned over circuit %s\n", pr.route.circuit->res->name);
	}
	if (pr.has_circuit_route) {
		char cp[CIDR_STRLEN];

		cidr_format(&pr.circuit_route.prefix, cp);
		fprintf(ctx->out, "  circuit route: %s from %s\n", cp,
		    pr.circuit_route.origin != NULL ? pr.circuit_route.origin->res->name :
						      "on-premises");
	}
done:
	json_decref(doc);
	routes_ctx_free(rctx);
	topology_free(t);
	return rc;
}

const struct cmd_entry cmd_path_entry = {
	.name = "path",
	.usage = "TOPOLOGY FROM TO [--format text|json]",
	.summary = "classify the path from one VNet to another and show the deciding routes",
	.description =
	    "FROM and TO are VNet names or ids.  Classes: local, peering, mesh,\n"
	    "via-appliance <ip>, hairpin <circuit> (out through a gateway and back over the\n"
	    "circuit), on-premises, unreachable.  When the subnets of FROM disagree, the\n"
	    "worst class is shown with the subnet and destination prefix that decided it.",
	.options = path_options,
	.min_args = 3,
	.max_args = 3,
	.exec = path_exec,
};
