/*
 * netwave path TOPOLOGY FROM TO: how traffic from a VNet, a subnet, a NIC
 * or an address reaches another (local, peering, mesh, via-appliance,
 * hairpin, on-premises, unreachable) and the routes that decide it; when
 * the subnets of a source VNet disagree, each subnet's way.  The engine
 * is plan/routes.c; the picture (--format dot) plan/picture_dot.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "plan/picture.h"
#include "plan/routes.h"
#include "plan/topology.h"

static const struct cmd_option path_options[] = {
	{ "format", 0, "text|json|dot", 0, "output format (default text; dot: a Graphviz picture)" },
	{ NULL, 0, NULL, 0, NULL },
};

static int path_exec(struct cmd_ctx *ctx, const struct cmd_args *args, struct nw_err *err);

const struct cmd_entry cmd_path_entry = {
	.name = "path",
	.usage = "TOPOLOGY FROM TO [--format text|json|dot]",
	.summary = "classify the path from a VNet, subnet, NIC or address to another",
	.description =
	    "FROM and TO are each a VNet name or id, VNET/SUBNET, a NIC name or id, or an IP\n"
	    "address inside a subnet (as Network Watcher's next hop takes a VM's address).\n"
	    "Classes: local, peering, mesh, via-appliance <ip>, hairpin <circuit> (out through\n"
	    "a gateway and back over the circuit), on-premises, unreachable.  From a VNet, each\n"
	    "workload subnet is a source: the worst class is shown with the subnet and\n"
	    "destination prefix that decided it, and when the subnets disagree each subnet's\n"
	    "class and deciding route follow.  --format dot draws the hops as a Graphviz graph.",
	.options = path_options,
	.min_args = 3,
	.max_args = 3,
	.exec = path_exec,
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

/* The class and detail as text shows them (a circuit by name). */
static const char *
shown_detail(const struct path_result *pr)
{
	return pr->cls == PATH_HAIRPIN ? cmd_short_name(pr->detail) : pr->detail;
}

/* The fields of one decision, as in the top level of netwave.path/v1. */
static int
result_json(json_t *o, const struct path_result *pr)
{
	char dst[CIDR_STRLEN], line[512];
	int rc = 0;

	cidr_format(&pr->dst, dst);
	rc |= json_object_set_new(o, "class", json_string(path_class_name(pr->cls)));
	rc |= json_object_set_new(o, "detail", json_string(pr->detail));
	rc |= json_object_set_new(o, "destination", json_string(dst));
	if (pr->from_subnet != NULL)
		rc |= json_object_set_new(o, "fromSubnet", json_string(pr->from_subnet->id));
	if (pr->has_route) {
		describe_route(line, sizeof(line), &pr->route);
		rc |= json_object_set_new(o, "route", json_string(line));
	}
	if (pr->has_circuit_route) {
		char cp[CIDR_STRLEN];

		cidr_format(&pr->circuit_route.prefix, cp);
		rc |= json_object_set_new(o, "circuitRoute",
		    json_pack("{s:s, s:s}", "addressPrefix", cp, "origin",
			pr->circuit_route.origin != NULL ? pr->circuit_route.origin->res->id :
							   "on-premises"));
	}
	return rc;
}

static int
print_json(struct cmd_ctx *ctx, const struct route_endpoint *a, const struct route_endpoint *b,
    const struct path_result *rows, size_t n, size_t worst, struct nw_err *err)
{
	char ia[CIDR_STRLEN], ib[CIDR_STRLEN];
	json_t *doc, *subnets = json_array();
	int rc;

	doc = json_pack("{s:s, s:s, s:s}", "format", "netwave.path/v1", "from",
	    routes_endpoint_id(a, ia), "to", routes_endpoint_id(b, ib));
	rc = doc == NULL || subnets == NULL || result_json(doc, &rows[worst]) != 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		json_t *o = json_object();

		rc = o == NULL || result_json(o, &rows[i]) != 0 || json_array_append_new(subnets, o) != 0;
	}
	if (rc == 0)
		rc = json_object_set(doc, "subnets", subnets) != 0;
	json_decref(subnets);
	if (rc != 0) {
		json_decref(doc);
		return err_set(err, NW_ENOMEM, "out of memory");
	}
	rc = output_json(ctx, doc, err);
	json_decref(doc);
	return rc;
}

static void
print_text(struct cmd_ctx *ctx, const struct route_endpoint *a, const struct route_endpoint *b,
    const struct path_result *rows, size_t n, size_t worst)
{
	const struct path_result *pr = &rows[worst];
	char la[256], lb[256], dst[CIDR_STRLEN], line[512];
	const char *detail = shown_detail(pr);

	routes_endpoint_label(la, sizeof(la), a);
	routes_endpoint_label(lb, sizeof(lb), b);
	cidr_format(&pr->dst, dst);
	fprintf(ctx->out, "%s -> %s: %s%s%s\n", la, lb, path_class_name(pr->cls),
	    detail[0] ? " " : "", detail);
	if (pr->from_subnet != NULL)
		fprintf(ctx->out, "  from subnet %s to %s\n", pr->from_subnet->name, dst);
	else if (pr->has_route || pr->cls != PATH_LOCAL)
		fprintf(ctx->out, "  to %s\n", dst);
	if (pr->has_route) {
		describe_route(line, sizeof(line), &pr->route);
		fprintf(ctx->out, "  route: %s\n", line);
		if (pr->route.circuit != NULL)
			fprintf(ctx->out, "  learned over circuit %s\n", pr->route.circuit->res->name);
	}
	if (pr->has_circuit_route) {
		char cp[CIDR_STRLEN];

		cidr_format(&pr->circuit_route.prefix, cp);
		fprintf(ctx->out, "  circuit route: %s from %s\n", cp,
		    pr->circuit_route.origin != NULL ? pr->circuit_route.origin->res->name :
						       "on-premises");
	}
	if (routes_path_agree(rows, n))
		return;
	fputs("  subnets disagree; each subnet's way:\n", ctx->out);
	for (size_t i = 0; i < n; i++) {
		const struct path_result *r = &rows[i];

		detail = shown_detail(r);
		cidr_format(&r->dst, dst);
		line[0] = '\0';
		if (r->has_route)
			describe_route(line, sizeof(line), &r->route);
		fprintf(ctx->out, "    %s: %s%s%s to %s%s%s\n",
		    r->from_subnet != NULL ? r->from_subnet->name : "(no subnet)",
		    path_class_name(r->cls), detail[0] ? " " : "", detail, dst,
		    line[0] ? ", route " : "", line);
	}
}

/* The endpoint named by text; a plain unknown name gets the nearest VNet name suggested. */
static int
find_endpoint(struct route_endpoint *out, const struct topology *t, const char *text,
    struct nw_err *err)
{
	int rc = routes_endpoint_resolve(out, t, text, err);
	struct nw_err e = { 0 };
	struct cidr c;
	size_t nnics;

	if (rc == 0 || strchr(text, '/') != NULL || cidr_parse_addr(&c, text, &e) == 0 ||
	    topology_find_nic_by_name(t, text, &nnics) != NULL)
		return rc;
	if (cmd_find_vnet(t, text, err) == NULL)
		return err->code;
	return rc;
}

/*
 * The decisions from a to b: one per source subnet, the worst first
 * among equals in *worst.  A VNet to itself is local, as routes_path says.
 */
static int
decide(struct path_result **rows, size_t *n, size_t *worst, const struct routes_ctx *rctx,
    const struct route_endpoint *a, const struct route_endpoint *b, struct nw_err *err)
{
	const struct cidr *dst;
	size_t ndst;
	int rc;

	*worst = 0;
	if (a->kind == ENDPOINT_VNET && b->kind == ENDPOINT_VNET && a->vnet == b->vnet) {
		*rows = calloc(1, sizeof(**rows));
		if (*rows == NULL)
			return err_set(err, NW_ENOMEM, "out of memory");
		*n = 1;
		return routes_path(*rows, rctx, a->vnet, b->vnet, err);
	}
	routes_endpoint_prefixes(&dst, &ndst, b);
	rc = routes_path_sources(rows, n, rctx, a->vnet, a->subnet, dst, ndst, err);
	if (rc == 0)
		*worst = routes_path_worst(*rows, *n);
	return rc;
}

static int
path_exec(struct cmd_ctx *ctx, const struct cmd_args *args, struct nw_err *err)
{
	struct topology *t = NULL;
	struct routes_ctx *rctx = NULL;
	struct route_endpoint a, b;
	struct path_result *rows = NULL;
	enum output_format fmt;
	size_t n = 0, worst = 0;
	int rc;

	rc = cmd_arg_format(args, FORMAT_TEXT | FORMAT_JSON | FORMAT_DOT, FORMAT_TEXT, &fmt, err);
	if (rc != 0)
		return rc;
	rc = cmd_topology_load(ctx, args->pos[0], true, &t, err);
	if (rc == 0)
		rc = find_endpoint(&a, t, args->pos[1], err);
	if (rc == 0)
		rc = find_endpoint(&b, t, args->pos[2], err);
	if (rc == 0)
		rc = routes_ctx_new(&rctx, t, err);
	if (rc == 0)
		rc = decide(&rows, &n, &worst, rctx, &a, &b, err);
	if (rc != 0)
		goto done;
	if (fmt == FORMAT_JSON)
		rc = print_json(ctx, &a, &b, rows, n, worst, err);
	else if (fmt == FORMAT_DOT)
		rc = picture_path_dot(ctx->out, &a, &b, rows, n, worst, err);
	else
		print_text(ctx, &a, &b, rows, n, worst);
done:
	free(rows);
	routes_ctx_free(rctx);
	topology_free(t);
	return rc;
}
