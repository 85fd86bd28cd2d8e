/*
 * netwave routes TOPOLOGY [WHERE] [--vnet NAME|ID] [--subnet NAME]: the
 * effective routes of a VNet's subnets (or of the subnet a NIC or an
 * address is in) as Azure would program them, in the shape of Azure's
 * effective route table.  The engine is plan/routes.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd/cmd.h"
#include "plan/routes.h"
#include "plan/topology.h"

static const struct cmd_option routes_options[] = {
	{ "vnet", 0, "NAME|ID", 0, "the VNet (or give WHERE)" },
	{ "subnet", 0, "NAME", 0, "only this subnet (default: every subnet)" },
	{ "to", 0, "WHERE", 0, "also the route each subnet takes to WHERE (as path's TO)" },
	{ "format", 0, "text|json", 0, "output format (default text)" },
	{ NULL, 0, NULL, 0, NULL },
};

static int routes_exec(struct cmd_ctx *ctx, const struct cmd_args *args, struct nw_err *err);

const struct cmd_entry cmd_routes_entry = {
	.name = "routes",
	.usage = "TOPOLOGY [WHERE] [--vnet NAME|ID] [--subnet NAME] [--to WHERE] [--format text|json]",
	.summary = "show the effective routes Azure would program on a VNet's subnets",
	.description =
	    "Computes each subnet's effective route table from the topology: the VNet's own\n"
	    "space, peerings, connected groups of deployed AVNM configurations, Azure's default\n"
	    "routes, BGP routes learned through gateways and circuits, and user routes, with\n"
	    "Azure's selection (longest prefix; on a tie User, then BGP, then system) and the\n"
	    "losers shown as Invalid.  JSON output uses Azure's EffectiveRoute fields.\n"
	    "WHERE is a VNet name or id (every subnet), VNET/SUBNET, a NIC name or id, or an IP\n"
	    "address (the subnet it is in); --vnet NAME|ID [--subnet NAME] still works.\n"
	    "--to WHERE adds, per subnet, the route taken to each of WHERE's prefixes (an\n"
	    "address: Network Watcher's next hop).",
	.options = routes_options,
	.min_args = 1,
	.max_args = 2,
	.exec = routes_exec,
};

/* One route in Azure's EffectiveRoute shape. */
static json_t *
route_json(const struct route *r, bool bgp_disabled)
{
	char pfx[CIDR_STRLEN], ip[CIDR_STRLEN];
	json_t *o, *ips = json_array();

	cidr_format(&r->prefix, pfx);
	if (r->has_next_hop_ip) {
		cidr_format_addr(&r->next_hop_ip, ip);
		json_array_append_new(ips, json_string(ip));
	}
	o = json_pack("{s:[s], s:o, s:s, s:s, s:s, s:b}", "addressPrefix", pfx, "nextHopIpAddress",
	    ips, "nextHopType", topo_next_hop_name(r->next_hop), "source",
	    route_source_name(r->source), "state", r->active ? "Active" : "Invalid",
	    "disableBgpRoutePropagation", bgp_disabled);
	if (o != NULL && r->name != NULL)
		json_object_set_new(o, "name", json_string(r->name));
	return o;
}

static void
print_table(FILE *o, const struct route_set *s)
{
	size_t i;

	fprintf(o, "  %-22s %-8s %-20s %-22s %s\n", "Source", "State", "Address Prefix",
	    "Next Hop Type", "Next Hop IP");
	for (i = 0; i < s->n; i++) {
		const struct route *r = &s->v[i];
		char pfx[CIDR_STRLEN], ip[CIDR_STRLEN] = "";

		cidr_format(&r->prefix, pfx);
		if (r->has_next_hop_ip)
			cidr_format_addr(&r->next_hop_ip, ip);
		fprintf(o, "  %-22s %-8s %-20s %-22s %s\n", route_source_name(r->source),
		    r->active ? "Active" : "Invalid", pfx, topo_next_hop_name(r->next_hop), ip);
	}
}

struct topo_vnet *
cmd_find_vnet(const struct topology *t, const char *name_or_id, struct nw_err *err)
{
	struct topo_vnet *v;
	size_t i, n = 0;

	if (name_or_id[0] == '/')
		v = topology_find_vnet(t, name_or_id);
	else {
		v = topology_find_vnet_by_name(t, name_or_id);
		for (i = 0; i < t->nvnets; i++)
			if (strcasecmp(t->vnets[i].res->name, name_or_id) == 0)
				n++;
		if (n > 1) {
			err_set(err, NW_EINPUT, "%zu VNets are named '%s' in %s; give the full id", n,
			    name_or_id, t->source);
			return NULL;
		}
	}
	if (v == NULL) {
		const char *names[8];
		const char *near = NULL;

		/* suggest the nearest name among a bounded sample */
		for (i = 0, n = 0; i < t->nvnets && n < 8; i++)
			if (strncasecmp(t->vnets[i].res->name, name_or_id, 3) == 0)
				names[n++] = t->vnets[i].res->name;
		if (n > 0)
			near = cmd_nearest(name_or_id, names, n);
		if (near != NULL)
			err_set(err, NW_EINPUT, "no VNet '%s' in %s; did you mean '%s'?", name_or_id,
			    t->source, near);
		else
			err_set(err, NW_EINPUT, "no VNet '%s' in %s", name_or_id, t->source);
	}
	return v;
}

/*
 * The route a subnet's table takes to each destination prefix, as
 * Network Watcher's next hop answers for an address
 * (https://learn.microsoft.com/azure/network-watcher/next-hop-overview).
 */
static int
next_hops(FILE *o, json_t *entry, const struct route_set *set, const struct route_endpoint *to)
{
	const struct cidr *d;
	size_t nd;
	json_t *arr = entry != NULL ? json_array() : NULL;

	if (entry != NULL && arr == NULL)
		return -1;
	routes_endpoint_prefixes(&d, &nd, to);
	for (size_t i = 0; i < nd; i++) {
		const struct route *r = routes_lookup(set, &d[i]);
		char dst[CIDR_STRLEN], pfx[CIDR_STRLEN] = "", ip[CIDR_STRLEN] = "";

		cidr_format(&d[i], dst);
		if (r != NULL) {
			cidr_format(&r->prefix, pfx);
			if (r->has_next_hop_ip)
				cidr_format_addr(&r->next_hop_ip, ip);
		}
		if (entry == NULL && r == NULL)
			fprintf(o, "  next hop to %s: none (no route)\n", dst);
		else if (entry == NULL)
			fprintf(o, "  next hop to %s: %s%s%s (route %s, %s)\n", dst,
			    topo_next_hop_name(r->next_hop), ip[0] ? " " : "", ip, pfx,
			    route_source_name(r->source));
		else if (json_array_append_new(arr, r == NULL ?
			json_pack("{s:s, s:s}", "destination", dst, "nextHopType", "None") :
			json_pack("{s:s, s:s, s:s, s:s, s:s}", "destination", dst, "addressPrefix", pfx,
			    "nextHopType", topo_next_hop_name(r->next_hop), "nextHopIpAddress", ip,
			    "source", route_source_name(r->source))) != 0) {
			json_decref(arr);
			return -1;
		}
	}
	if (entry != NULL && json_object_set_new(entry, "nextHops", arr) != 0)
		return -1;
	return 0;
}

/* --to: what path's TO takes, or any address (the Internet, on-premises). */
static int
routes_to(struct route_endpoint *to, const struct topology *t, const char *text, struct nw_err *err)
{
	struct nw_err e = { 0 };

	memset(to, 0, sizeof(*to));
	if (strchr(text, '/') == NULL && cidr_parse_addr(&to->addr, text, &e) == 0) {
		to->kind = ENDPOINT_ADDRESS;
		return 0;
	}
	return routes_endpoint_resolve(to, t, text, err);
}

/* Which subnets to show: WHERE, or --vnet with --subnet; *only NULL shows all of *v's. */
static int
routes_target(const struct topo_vnet **v, const struct topo_subnet **only, const char **sname,
    const struct topology *t, const struct cmd_args *args, struct nw_err *err)
{
	const char *where = args->npos > 1 ? args->pos[1] : cmd_arg(args, "vnet");
	struct route_endpoint e;
	int rc;

	*only = NULL;
	*sname = cmd_arg(args, "subnet");
	if (where == NULL)
		return err_set(err, NW_EINPUT,
		    "'routes' needs a VNet, VNET/SUBNET, a NIC or an address (or --vnet NAME|ID)");
	if (args->npos > 1 && cmd_arg(args, "vnet") != NULL)
		return err_set(err, NW_EINPUT, "give either %s or --vnet, not both", args->pos[1]);
	if (where[0] != '/' && strchr(where, '/') == NULL) {
		struct nw_err e2 = { 0 };
		struct cidr c;
		size_t nnics;

		/* a plain VNet name: keep the nearest-name suggestion */
		if (cidr_parse_addr(&c, where, &e2) != 0 &&
		    topology_find_nic_by_name(t, where, &nnics) == NULL) {
			*v = cmd_find_vnet(t, where, err);
			return *v != NULL ? 0 : err->code;
		}
	}
	rc = routes_endpoint_resolve(&e, t, where, err);
	if (rc != 0)
		return rc;
	*v = e.vnet;
	*only = e.subnet;
	if (*only != NULL && *sname != NULL)
		return err_set(err, NW_EINPUT, "%s names one subnet already; drop --subnet", where);
	return 0;
}

static int
routes_exec(struct cmd_ctx *ctx, const struct cmd_args *args, struct nw_err *err)
{
	struct topology *t = NULL;
	struct routes_ctx *rctx = NULL;
	struct route_set set = { 0 };
	struct route_endpoint to;
	const struct topo_vnet *v = NULL;
	const struct topo_subnet *only = NULL;
	const char *sname = NULL;
	enum output_format fmt;
	json_t *doc = NULL, *subnets = NULL;
	size_t i, shown = 0;
	int rc;

	rc = cmd_arg_format(args, FORMAT_TEXT | FORMAT_JSON, FORMAT_TEXT, &fmt, err);
	if (rc != 0)
		return rc;
	rc = cmd_topology_load(ctx, args->pos[0], true, &t, err);
	if (rc == 0)
		rc = routes_target(&v, &only, &sname, t, args, err);
	if (rc == 0 && cmd_arg(args, "to") != NULL)
		rc = routes_to(&to, t, cmd_arg(args, "to"), err);
	if (rc == 0)
		rc = routes_ctx_new(&rctx, t, err);
	if (rc != 0)
		goto done;
	doc = json_object();
	subnets = json_array();
	if (doc == NULL || subnets == NULL) {
		rc = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < v->nsubnets; i++) {
		const struct topo_subnet *s = &v->subnets[i];
		bool bgp_off = s->route_table != NULL && s->route_table->disable_bgp_route_propagation;
		json_t *value, *entry;
		size_t k;

		if ((sname != NULL && strcasecmp(s->name, sname) != 0) || (only != NULL && s != only))
			continue;
		shown++;
		rc = routes_effective(&set, rctx, s, err);
		if (rc != 0)
			goto done;
		if (fmt == FORMAT_TEXT) {
			fprintf(ctx->out, "%s%s/%s", shown > 1 ? "\n" : "", v->res->name, s->name);
			if (s->route_table_id != NULL)
				fprintf(ctx->out, " (route table %s%s)", cmd_short_name(s->route_table_id),
				    bgp_off ? ", gateway route propagation disabled" : "");
			fputs("\n", ctx->out);
			print_table(ctx->out, &set);
			if (cmd_arg(args, "to") != NULL)
				(void)next_hops(ctx->out, NULL, &set, &to);
		} else {
			value = json_array();
			for (k = 0; value != NULL && k < set.n; k++)
				json_array_append_new(value, route_json(&set.v[k], bgp_off));
			entry = json_pack("{s:s, s:s, s:o}", "id", s->id, "name", s->name, "value", value);
			if (entry != NULL && cmd_arg(args, "to") != NULL && next_hops(NULL, entry, &set, &to) != 0) {
				json_decref(entry);
				entry = NULL;
			}
			if (entry == NULL || json_array_append_new(subnets, entry) != 0) {
				rc = err_set(err, NW_ENOMEM, "out of memory");
				goto done;
			}
		}
		route_set_free(&set);
	}
	if (shown == 0) {
		rc = sname != NULL ?
		    err_set(err, NW_EINPUT, "VNet %s has no subnet '%s'", v->res->name, sname) :
		    err_set(err, NW_EINPUT, "VNet %s has no subnets", v->res->name);
		goto done;
	}
	if (fmt == FORMAT_JSON) {
		json_object_set_new(doc, "format", json_string("netwave.routes/v1"));
		json_object_set_new(doc, "vnet", json_string(v->res->id));
		json_object_set_new(doc, "subnets", subnets);
		subnets = NULL;
		rc = output_json(ctx, doc, err);
	}
done:
	route_set_free(&set);
	json_decref(subnets);
	json_decref(doc);
	routes_ctx_free(rctx);
	topology_free(t);
	return rc;
}
