/*
 * Route server findings for check (plan/findings_ars.h).  Every number is a
 * row of plan/limits.c with the Learn page that states it; the BGP facts
 * come from the model in plan/routes_bgp.c, so check says what the routes
 * and path commands show.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/findings_ars.h"
#include "plan/jsonutil.h"
#include "plan/routes_bgp.h"
#include "plan/vec.h"

static int __attribute__((format(printf, 5, 6)))
add(struct ars_findings *f, enum finding_severity sev, const char *code, const char *resource,
    const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (VEC_GROW(f->v, &f->cap, f->n + 1) != 0)
		return NW_ENOMEM;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (finding_init(&f->v[f->n], sev, code, resource, msg) != 0)
		return NW_ENOMEM;
	f->n++;
	return 0;
}

static int
limit(struct ars_findings *f, enum limit_id id, const char *resource, const char *name, long value,
    const char *what)
{
	if (VEC_GROW(f->limits, &f->lcap, f->nlimits + 1) != 0)
		return NW_ENOMEM;
	f->limits[f->nlimits].id = id;
	f->limits[f->nlimits].value = value;
	f->limits[f->nlimits].what = what;
	f->limits[f->nlimits].no_near = id == LIMIT_ROUTE_SERVERS_PER_VNET;
	f->limits[f->nlimits].resource = str_dup_pair(resource, name, &f->limits[f->nlimits].name);
	if (f->limits[f->nlimits].resource == NULL)
		return NW_ENOMEM;
	f->nlimits++;
	return 0;
}

void
findings_ars_free(struct ars_findings *f)
{
	if (f == NULL)
		return;
	finding_list_free(f->v, f->n);
	for (size_t i = 0; i < f->nlimits; i++)
		free(f->limits[i].resource);
	free(f->limits);
	memset(f, 0, sizeof(*f));
}

/* ---- one route server ---- */

static int
check_placement(struct ars_findings *f, const struct topology *t, const struct topo_route_server *s)
{
	const struct limit_def *sub = limit_get(LIMIT_ROUTE_SERVER_SUBNET_LEN);
	size_t same = 0;
	int rc;

	if (s->subnet == NULL)
		return 0;
	if (strcmp(s->subnet->name, "RouteServerSubnet") != 0 &&
	    (rc = add(f, SEV_ERROR, "route-server-subnet", s->res->id, "route server %s is in subnet %s; "
	    "Azure requires the dedicated RouteServerSubnet (%s)", s->res->name, s->subnet->name,
	    sub->source)) != 0)
		return rc;
	for (size_t i = 0; i < s->subnet->prefixes.n; i++)
		if (s->subnet->prefixes.v[i].family == 4 && s->subnet->prefixes.v[i].len > sub->value &&
		    (rc = add(f, SEV_ERROR, "route-server-subnet", s->res->id, "RouteServerSubnet of %s is a "
		    "/%u; it must be a /%ld or larger (%s)", s->vnet->res->name, s->subnet->prefixes.v[i].len,
		    sub->value, sub->source)) != 0)
			return rc;
	for (size_t i = 0; i < t->nroute_servers; i++)
		same += t->route_servers[i].vnet == s->vnet;
	if ((rc = limit(f, LIMIT_ROUTE_SERVERS_PER_VNET, s->vnet->res->id, s->vnet->res->name, (long)same,
	    "route servers")) != 0)
		return rc;
	return limit(f, LIMIT_ROUTE_SERVER_VNET_PEERINGS, s->vnet->res->id, s->vnet->res->name,
	    (long)s->vnet->npeerings, "peerings with a route server in it");
}

/* Loop drops, per session: one finding with the count and the first prefix. */
static int
check_session(struct ars_findings *f, const struct routes_ctx *ctx, const struct topo_route_server *s,
    const struct topo_bgp_connection *c)
{
	const struct bgp_rib *rib = routes_bgp_rib(ctx, s);
	struct bgp_rib learned = { 0 };
	struct nw_err err = { 0 };
	size_t dropped = 0;
	char first[CIDR_STRLEN] = "";
	int rc;

	if (c->peer_asn == s->asn && (rc = add(f, SEV_ERROR, "bgp-peer-asn", c->res->id, "BGP connection "
	    "%s peers with ASN %ld, the route server's own; the NVA needs another ASN "
	    "(https://learn.microsoft.com/azure/route-server/route-server-faq)", c->res->name, c->peer_asn)) != 0)
		return rc;
	if (c->nva == NULL && (rc = add(f, SEV_INFO, "bgp-undeclared-peer", c->res->id, "BGP connection %s "
	    "peers with %s (AS %ld), which no declared NVA has: what it advertises is not modelled",
	    c->res->name, c->peer_ip, c->peer_asn)) != 0)
		return rc;
	for (size_t i = 0; rib != NULL && i < rib->n; i++)
		if (rib->v[i].peer == c && rib->v[i].state == BGP_DROPPED_LOOP && dropped++ == 0)
			cidr_format(&rib->v[i].prefix, first);
	if (dropped > 0 && (rc = add(f, SEV_WARNING, "bgp-loop-dropped", c->res->id, "route server %s drops "
	    "%zu route%s from %s (%s), first %s: the AS path holds %ld, its own ASN (eBGP loop prevention); "
	    "the NVA needs AS-override towards it", s->res->name, dropped, dropped == 1 ? "" : "s",
	    c->nva != NULL ? c->nva->name : c->res->name, c->peer_ip, first, s->asn)) != 0)
		return rc;
	if (routes_bgp_learned(&learned, ctx, c, &err) != 0)
		return NW_ENOMEM;
	rc = limit(f, LIMIT_ROUTE_SERVER_ROUTES_PER_PEER, c->res->id, c->res->name, (long)learned.n,
	    "routes learned from its peer");
	bgp_rib_free(&learned);
	return rc;
}

static int
check_server(struct ars_findings *f, const struct topology *t, const struct routes_ctx *ctx,
    const struct topo_route_server *s)
{
	size_t to_gateways = 0;
	int rc;

	if ((rc = check_placement(f, t, s)) != 0 ||
	    (rc = limit(f, LIMIT_ROUTE_SERVER_PEERS, s->res->id, s->res->name, (long)s->nconnections,
	    "BGP peers")) != 0)
		return rc;
	for (size_t k = 0; k < s->nconnections; k++)
		if ((rc = check_session(f, ctx, s, s->connections[k])) != 0)
			return rc;
	if (s->vnet == NULL || !s->allow_branch_to_branch || s->vnet->ngateways == 0)
		return 0;
	to_gateways = routes_bgp_gateway_extra(ctx, s->vnet->gateways[0])->n;
	return limit(f, LIMIT_ROUTE_SERVER_ROUTES_TO_GATEWAYS, s->res->id, s->res->name, (long)to_gateways,
	    "routes to advertise to the gateways");
}

/* ---- declared NVAs ---- */

static int
check_nvas(struct ars_findings *f, const struct topology *t)
{
	int rc;

	for (size_t i = 0; i < t->nnvas; i++)
		for (size_t k = 0; k < t->nvas[i].npeers; k++) {
			const struct topo_nva_peer *p = &t->nvas[i].peers[k];

			if (p->server == NULL || p->connection != NULL)
				continue;
			if ((rc = add(f, SEV_WARNING, "bgp-no-session", p->server->res->id, "NVA %s declares a "
			    "peering with route server %s, which has no BGP connection to its addresses: nothing "
			    "is exchanged", t->nvas[i].name, p->server->res->name)) != 0)
				return rc;
		}
	return 0;
}

/* ---- the bowtie ---- */

static unsigned
path_len(const char *s)
{
	struct bgp_path p;

	return s != NULL && bgp_path_parse(&p, s) ? p.n : 0;
}

/*
 * A prefix a circuit hears from gateways in two VNets with equal shortest AS
 * paths: on-premises may send it into either hub (seed 003: without
 * prepending "traffic from on-premises destined to Region1 Spokes may first
 * land in Region2's Hub2-VNet") while the return leaves through its own.
 */
static int
check_circuit(struct ars_findings *f, const struct routes_ctx *ctx, const struct topo_circuit *c)
{
	struct circuit_route_set set = { 0 };
	struct nw_err err = { 0 };
	size_t count = 0, i = 0;
	char first[CIDR_STRLEN] = "", gws[512] = "";
	int rc = 0;

	if (routes_circuit_table(&set, ctx, c, &err) != 0)
		return NW_ENOMEM;
	while (i < set.n) {
		size_t j = i, nbest = 0;
		unsigned best = ~0U;
		const struct topo_gateway *a = NULL, *b = NULL;

		while (j < set.n && cidr_equal(&set.v[j].prefix, &set.v[i].prefix))
			j++;
		for (size_t k = i; k < j; k++)
			if (set.v[k].origin != NULL && path_len(set.v[k].path) < best)
				best = path_len(set.v[k].path);
		for (size_t k = i; k < j; k++) {
			if (set.v[k].origin == NULL || path_len(set.v[k].path) != best)
				continue;
			if (nbest++ == 0)
				a = set.v[k].origin;
			else if (set.v[k].origin->vnet != a->vnet)
				b = set.v[k].origin;
		}
		if (b != NULL && count++ == 0) {
			cidr_format(&set.v[i].prefix, first);
			snprintf(gws, sizeof(gws), "%s and %s", a->res->name, b->res->name);
		}
		i = j;
	}
	if (count > 0)
		rc = add(f, SEV_WARNING, "bowtie-asymmetric", c->res->id, "circuit %s hears %zu prefix%s from "
		    "gateways in different VNets with equal AS paths, first %s from %s: on-premises may send it "
		    "into either hub while the return leaves through its own; prepend on the remote route "
		    "server's peering", c->res->name, count, count == 1 ? "" : "es", first, gws);
	circuit_route_set_free(&set);
	return rc;
}

int
findings_ars_collect(struct ars_findings *out, const struct topology *t,
    const struct routes_ctx *ctx, struct nw_err *err)
{
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (t->nroute_servers == 0 && t->nnvas == 0)
		return 0;
	for (size_t i = 0; rc == 0 && i < t->nroute_servers; i++)
		rc = check_server(out, t, ctx, &t->route_servers[i]);
	if (rc == 0)
		rc = check_nvas(out, t);
	for (size_t i = 0; rc == 0 && i < t->ncircuits; i++)
		rc = check_circuit(out, ctx, &t->circuits[i]);
	if (rc == 0 && !routes_bgp_converged(ctx))
		rc = add(out, SEV_WARNING, "bgp-not-settled", "", "the BGP model did not settle in %zu rounds: "
		    "some NVA re-advertises routes in a loop (check AS-override and the filters)",
		    routes_bgp_rounds(ctx));
	if (rc != 0) {
		findings_ars_free(out);
		return err_set(err, NW_ENOMEM, "out of memory checking route servers");
	}
	return 0;
}
