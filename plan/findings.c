/*
 * The checks behind `netwave check` (see findings.h).  Each check walks
 * the typed views once; nothing here is quadratic in the number of VNets
 * except through the route engine's summary, which groups VNets that
 * share their routing.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/findings_ars.h"
#include "plan/findings.h"
#include "plan/circuits.h"
#include "plan/jsonutil.h"
#include "plan/limits.h"
#include "plan/routes_bgp.h"
#include "plan/vec.h"

const char *
finding_severity_name(enum finding_severity s)
{
	switch (s) {
	case SEV_ERROR:
		return "error";
	case SEV_WARNING:
		return "warning";
	default:
		return "info";
	}
}

struct builder {
	struct findings_sink s;
	size_t lcap;
};


int
finding_init(struct finding *f, enum finding_severity sev, const char *code, const char *resource,
    const char *message)
{
	f->severity = sev;
	f->code = code;
	f->resource = str_dup_pair(resource != NULL ? resource : "", message, &f->message);
	return f->resource != NULL ? 0 : -1;
}

void
finding_list_free(struct finding *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].resource);
	free(v);
}

int
findings_append(struct findings *f, size_t *cap, enum finding_severity sev, const char *code,
    const char *resource, const char *message)
{
	if (VEC_GROW(f->v, cap, f->n + 1) != 0 || finding_init(&f->v[f->n], sev, code, resource, message) != 0)
		return -1;
	f->by_severity[sev]++;
	f->n++;
	return 0;
}

void
findings_add(struct findings_sink *s, enum finding_severity sev, const char *code,
    const char *resource, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (s->oom)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (findings_append(s->f, &s->cap, sev, code, resource, msg) != 0)
		s->oom = true;
}

static void
use_limit(struct builder *b, enum limit_id id, long limit, const char *resource, long value)
{
	const struct limit_def *def = limit_get(id);
	struct findings *f = b->s.f;
	size_t i;

	if (b->s.oom)
		return;
	for (i = 0; i < f->nlimits; i++) {
		if (strcmp(f->limits[i].key, def->key) != 0)
			continue;
		if (value * f->limits[i].limit > f->limits[i].value * limit) {
			char *r = strdup(resource);
			if (r == NULL) {
				b->s.oom = true;
				return;
			}
			free(f->limits[i].resource);
			f->limits[i].resource = r;
			f->limits[i].value = value;
			f->limits[i].limit = limit;
		}
		return;
	}
	if (VEC_GROW(f->limits, &b->lcap, f->nlimits + 1) != 0) {
		b->s.oom = true;
		return;
	}
	f->limits[f->nlimits].key = def->key;
	f->limits[f->nlimits].what = def->what;
	f->limits[f->nlimits].source = def->source;
	f->limits[f->nlimits].value = value;
	f->limits[f->nlimits].limit = limit;
	f->limits[f->nlimits].resource = strdup(resource);
	if (f->limits[f->nlimits].resource == NULL) {
		b->s.oom = true;
		return;
	}
	f->nlimits++;
}

/* A limit check: error over the limit, warning at 80 % or more. */
static void
check_limit(struct builder *b, enum limit_id id, long limit, const char *resource,
    const char *name, long value, const char *what)
{
	use_limit(b, id, limit, resource, value);
	if (value > limit)
		findings_add(&b->s, SEV_ERROR, "limit-exceeded", resource, "%s has %ld %s, over the limit of %ld (%s)",
		    name, value, what, limit, limit_get(id)->source);
	else if (value * 5 >= limit * 4 && value > 0)
		findings_add(&b->s, SEV_WARNING, "limit-near", resource, "%s has %ld %s, %ld%% of the limit of %ld (%s)",
		    name, value, what, value * 100 / limit, limit, limit_get(id)->source);
}

bool
findings_is_hub(const struct topo_vnet *v)
{
	const char *role = topology_tag(v->res, "role");

	return v->ngateways > 0 || (role != NULL && strcasecmp(role, "hub") == 0);
}

static const struct topo_peering *
peering_to(const struct topo_vnet *from, const struct topo_vnet *to)
{
	size_t i;

	for (i = 0; i < from->npeerings; i++)
		if (from->peerings[i].remote == to ||
		    (from->peerings[i].remote_id != NULL &&
			topo_id_compare(from->peerings[i].remote_id, to->res->id) == 0))
			return &from->peerings[i];
	return NULL;
}

/* --- address spaces ------------------------------------------------------ */

struct owned_prefix {
	struct cidr p;
	size_t vnet;
};

static int
owned_cmp(const void *a, const void *b)
{
	const struct owned_prefix *x = a, *y = b;
	int c = cidr_compare(&x->p, &y->p);

	return c != 0 ? c : CMP3(x->vnet, y->vnet);
}

struct vnet_pair {
	size_t a, b;
	struct cidr pa, pb;
};

static int
pair_cmp(const void *x, const void *y)
{
	const struct vnet_pair *p = x, *q = y;

	if (p->a != q->a)
		return p->a < q->a ? -1 : 1;
	if (p->b != q->b)
		return p->b < q->b ? -1 : 1;
	return 0;
}

static void
check_overlaps(struct builder *b, const struct topology *t)
{
	struct owned_prefix *all = NULL, **stack = NULL;
	struct vnet_pair *pairs = NULL;
	size_t n = 0, i, j, depth = 0, npairs = 0, pcap = 0;

	for (i = 0; i < t->nvnets; i++)
		n += t->vnets[i].prefixes.n;
	if (n == 0)
		return;
	all = calloc(n, sizeof(*all));
	stack = calloc(n, sizeof(*stack));
	if (all == NULL || stack == NULL) {
		b->s.oom = true;
		goto done;
	}
	n = 0;
	for (i = 0; i < t->nvnets; i++)
		for (j = 0; j < t->vnets[i].prefixes.n; j++) {
			all[n].p = t->vnets[i].prefixes.v[j];
			all[n].vnet = i;
			n++;
		}
	qsort(all, n, sizeof(*all), owned_cmp);
	/* Prefixes are nested or disjoint: sorted by start, every prefix still
	 * on the stack that contains the current one overlaps it. */
	for (i = 0; i < n; i++) {
		while (depth > 0 && !cidr_contains(&stack[depth - 1]->p, &all[i].p))
			depth--;
		for (j = 0; j < depth; j++) {
			struct vnet_pair pr;

			if (VEC_GROW(pairs, &pcap, npairs + 1) != 0) {
				b->s.oom = true;
				goto done;
			}
			if (stack[j]->vnet <= all[i].vnet) {
				pr.a = stack[j]->vnet, pr.b = all[i].vnet;
				pr.pa = stack[j]->p, pr.pb = all[i].p;
			} else {
				pr.a = all[i].vnet, pr.b = stack[j]->vnet;
				pr.pa = all[i].p, pr.pb = stack[j]->p;
			}
			pairs[npairs++] = pr;
		}
		stack[depth++] = &all[i];
	}
	if (npairs > 1)
		qsort(pairs, npairs, sizeof(*pairs), pair_cmp);
	for (i = 0; i < npairs; i++) {
		const struct topo_vnet *va, *vb;
		char sa[CIDR_STRLEN], sb[CIDR_STRLEN];

		if (i > 0 && pair_cmp(&pairs[i], &pairs[i - 1]) == 0)
			continue;
		va = &t->vnets[pairs[i].a];
		vb = &t->vnets[pairs[i].b];
		cidr_format(&pairs[i].pa, sa);
		cidr_format(&pairs[i].pb, sb);
		if (va == vb)
			findings_add(&b->s, SEV_ERROR, "address-overlap", va->res->id,
			    "%s has overlapping address prefixes %s and %s", va->res->name, sa, sb);
		else if (peering_to(va, vb) != NULL || peering_to(vb, va) != NULL)
			findings_add(&b->s, SEV_ERROR, "address-overlap", va->res->id,
			    "%s (%s) overlaps %s (%s) and the two are peered", va->res->name, sa,
			    vb->res->name, sb);
		else
			findings_add(&b->s, SEV_WARNING, "address-overlap", va->res->id,
			    "%s (%s) overlaps %s (%s)", va->res->name, sa, vb->res->name, sb);
	}
done:
	free(pairs);
	free(stack);
	free(all);
}

/* --- peerings and gateway transit ----------------------------------------- */

static const char *
peering_state_name(enum topo_peering_state s)
{
	switch (s) {
	case PEERING_INITIATED:
		return "Initiated";
	case PEERING_CONNECTED:
		return "Connected";
	case PEERING_DISCONNECTED:
		return "Disconnected";
	default:
		return "in an unknown state";
	}
}

static void
check_peerings(struct builder *b, const struct topology *t)
{
	size_t i, j;

	for (i = 0; i < t->nvnets; i++) {
		const struct topo_vnet *v = &t->vnets[i];

		check_limit(b, LIMIT_PEERINGS_PER_VNET, limit_get(LIMIT_PEERINGS_PER_VNET)->value,
		    v->res->id, v->res->name, (long)v->npeerings, "peerings");
		for (j = 0; j < v->npeerings; j++) {
			const struct topo_peering *p = &v->peerings[j];
			const struct topo_peering *back;
			const char *remote = p->remote != NULL ? p->remote->res->name : p->remote_id;

			if (p->state != PEERING_CONNECTED)
				findings_add(&b->s, SEV_WARNING, "peering-not-connected", p->id,
				    "peering %s of %s to %s is %s, not Connected", p->name,
				    v->res->name, remote, peering_state_name(p->state));
			if (p->remote == NULL)
				continue;
			back = peering_to(p->remote, v);
			if (back == NULL) {
				findings_add(&b->s, SEV_ERROR, "peering-one-sided", p->id,
				    "peering %s of %s to %s has no peering back from %s", p->name,
				    v->res->name, remote, remote);
				continue;
			}
			if (!p->use_remote_gateways)
				continue;
			if (p->remote->ngateways == 0)
				findings_add(&b->s, SEV_ERROR, "gateway-transit-broken", p->id,
				    "%s uses remote gateways over %s, but %s has no gateway",
				    v->res->name, p->name, remote);
			else if (!back->allow_gateway_transit)
				findings_add(&b->s, SEV_ERROR, "gateway-transit-broken", p->id,
				    "%s uses remote gateways over %s, but %s's peering %s does not "
				    "allow gateway transit", v->res->name, p->name, remote, back->name);
		}
	}
}

/* --- route tables ----------------------------------------------------------- */

/* True when ip lies in v's space or the space of a VNet v reaches directly. */
static bool
reachable_from(const struct topo_vnet *v, const struct cidr *ip)
{
	size_t i, j;

	for (i = 0; i < v->prefixes.n; i++)
		if (cidr_contains(&v->prefixes.v[i], ip))
			return true;
	for (i = 0; i < v->npeerings; i++) {
		const struct topo_peering *p = &v->peerings[i];
		const struct topo_prefixes *rp;

		if (p->state != PEERING_CONNECTED)
			continue;
		rp = p->remote != NULL ? &p->remote->prefixes : &p->remote_prefixes;
		for (j = 0; j < rp->n; j++)
			if (cidr_contains(&rp->v[j], ip))
				return true;
	}
	return false;
}

static bool
vnet_uses_expressroute(const struct topo_vnet *v)
{
	size_t i, j;

	for (i = 0; i < v->ngateways; i++)
		if (v->gateways[i]->kind == GATEWAY_EXPRESSROUTE)
			return true;
	for (i = 0; i < v->npeerings; i++) {
		const struct topo_peering *p = &v->peerings[i];
		if (!p->use_remote_gateways || p->remote == NULL)
			continue;
		for (j = 0; j < p->remote->ngateways; j++)
			if (p->remote->gateways[j]->kind == GATEWAY_EXPRESSROUTE)
				return true;
	}
	return false;
}

static void
check_route_tables(struct builder *b, const struct topology *t)
{
	struct cidr_table *subnets = cidr_table_new();
	size_t i, j, k;

	if (subnets == NULL) {
		b->s.oom = true;
		return;
	}
	for (i = 0; i < t->nvnets; i++)
		for (j = 0; j < t->vnets[i].nsubnets; j++)
			for (k = 0; k < t->vnets[i].subnets[j].prefixes.n; k++)
				if (cidr_table_add(subnets, &t->vnets[i].subnets[j].prefixes.v[k],
					&t->vnets[i].subnets[j]) < 0)
					b->s.oom = true;

	for (i = 0; i < t->nroute_tables; i++) {
		const struct topo_route_table *rt = &t->route_tables[i];

		for (j = 0; j < rt->nroutes; j++) {
			const struct topo_route *r = &rt->routes[j];
			char ip[CIDR_STRLEN], pfx[CIDR_STRLEN];

			cidr_format(&r->prefix, pfx);
			if ((r->next_hop == NH_VIRTUAL_APPLIANCE || r->next_hop == NH_VIRTUAL_APPLIANCE_ECMP) &&
			    r->has_next_hop_ip) {
				cidr_format_addr(&r->next_hop_ip, ip);
				if (cidr_table_lookup(subnets, &r->next_hop_ip, NULL) == NULL)
					findings_add(&b->s, SEV_ERROR, "next-hop-missing", rt->res->id,
					    "route %s (%s) of %s points at %s, which is in no subnet of the "
					    "topology", r->name, pfx, rt->res->name, ip);
			}
		}
	}
	/* Per subnet: the next hop must be reachable from where the table is used. */
	for (i = 0; i < t->nvnets; i++) {
		const struct topo_vnet *v = &t->vnets[i];

		for (j = 0; j < v->nsubnets; j++) {
			const struct topo_subnet *s = &v->subnets[j];
			const struct topo_route_table *rt = s->route_table;

			if (rt == NULL)
				continue;
			for (k = 0; k < rt->nroutes; k++) {
				const struct topo_route *r = &rt->routes[k];
				char ip[CIDR_STRLEN], pfx[CIDR_STRLEN];

				cidr_format(&r->prefix, pfx);
				if ((r->next_hop == NH_VIRTUAL_APPLIANCE ||
					r->next_hop == NH_VIRTUAL_APPLIANCE_ECMP) &&
				    r->has_next_hop_ip &&
				    cidr_table_lookup(subnets, &r->next_hop_ip, NULL) != NULL &&
				    !reachable_from(v, &r->next_hop_ip)) {
					cidr_format_addr(&r->next_hop_ip, ip);
					findings_add(&b->s, SEV_ERROR, "next-hop-unreachable", s->id,
					    "subnet %s of %s uses route %s (%s) to %s, which is neither in %s "
					    "nor in a VNet peered with it", s->name, v->res->name, r->name,
					    pfx, ip, v->res->name);
				}
				if (r->next_hop == NH_VIRTUAL_NETWORK_GATEWAY && vnet_uses_expressroute(v))
					findings_add(&b->s, SEV_ERROR, "route-to-expressroute-gateway", s->id,
					    "subnet %s of %s uses route %s (%s) to VirtualNetworkGateway, but "
					    "user routes cannot point at an ExpressRoute gateway", s->name,
					    v->res->name, r->name, pfx);
			}
		}
	}
	cidr_table_free(subnets);
}

/* --- gateways, public IPs, advertised prefixes, private endpoints ---------- */

static void
check_gateways(struct builder *b, const struct topology *t, const struct routes_ctx *ctx)
{
	size_t i, j;

	for (i = 0; i < t->ngateways; i++) {
		const struct topo_gateway *g = &t->gateways[i];
		const struct topo_prefixes *adv = routes_gateway_advertised(ctx, g);
		long v4 = 0, v6 = 0;

		for (j = 0; j < g->npublic_ips; j++) {
			const struct topo_public_ip *ip = g->public_ips[j];

			if (ip == NULL || ip->sku_name == NULL || strcasecmp(ip->sku_name, "Basic") != 0)
				continue;
			findings_add(&b->s, SEV_WARNING, "basic-public-ip", g->res->id,
			    "gateway %s uses Basic public IP %s (Basic SKU retired on 2025-09-30); "
			    "migrate it with a gateway-standard-ip change", g->res->name, ip->res->name);
		}
		if (g->migration_state != NULL && strcasecmp(g->migration_state, "None") != 0)
			findings_add(&b->s, SEV_INFO, "gateway-migration", g->res->id,
			    "gateway %s has a migration %s in phase %s", g->res->name, g->migration_state,
			    g->migration_phase != NULL ? g->migration_phase : "unknown");
		/* branch-to-branch: what its route server passes on goes to the circuit too (IPv4 only) */
		v4 += (long)routes_bgp_gateway_extra(ctx, g)->n;
		if (adv != NULL)
			for (j = 0; j < adv->n; j++) {
				if (adv->v[j].family == 4)
					v4++;
				else
					v6++;
			}
		if (g->nconnections == 0)
			continue;
		check_limit(b, LIMIT_ADVERTISED_V4, limit_get(LIMIT_ADVERTISED_V4)->value, g->res->id,
		    g->res->name, v4, "IPv4 prefixes to advertise");
		check_limit(b, LIMIT_ADVERTISED_V6, limit_get(LIMIT_ADVERTISED_V6)->value, g->res->id,
		    g->res->name, v6, "IPv6 prefixes to advertise");
	}
}

static void
check_private_endpoints(struct builder *b, const struct topology *t)
{
	size_t i;

	for (i = 0; i < t->nvnets; i++) {
		const struct topo_vnet *v = &t->vnets[i];
		bool hspe = v->pe_vnet_policies != NULL && strcasecmp(v->pe_vnet_policies, "Basic") == 0;
		enum limit_id id = hspe ? LIMIT_VNET_PE_HSPE : LIMIT_VNET_PE;

		check_limit(b, id, limit_get(id)->value, v->res->id, v->res->name,
		    (long)v->nprivate_endpoints, "private endpoints");
	}
}

static void
check_warnings(struct builder *b, const struct topology *t)
{
	size_t i;

	for (i = 0; i < t->nwarnings; i++)
		findings_add(&b->s, SEV_WARNING, "dangling-reference", t->warnings[i].pointer, "%s",
		    t->warnings[i].message);
}

/* Route servers (plan/findings_ars.c): their findings and limits, through add and check_limit. */
static int
check_route_servers(struct builder *b, const struct topology *t, const struct routes_ctx *ctx,
    struct nw_err *err)
{
	struct ars_findings af;

	if (findings_ars_collect(&af, t, ctx, err) != 0)
		return NW_ENOMEM;
	for (size_t i = 0; i < af.n; i++)
		findings_add(&b->s, af.v[i].severity, af.v[i].code, af.v[i].resource, "%s", af.v[i].message);
	for (size_t i = 0; i < af.nlimits; i++) {
		const struct ars_limit *l = &af.limits[i];
		long max = limit_get(l->id)->value;

		if (l->no_near && l->value <= max)
			use_limit(b, l->id, max, l->resource, l->value);
		else
			check_limit(b, l->id, max, l->resource, l->name, l->value, l->what);
	}
	findings_ars_free(&af);
	return 0;
}

static int
finding_cmp(const void *x, const void *y)
{
	const struct finding *a = x, *b = y;
	int c;

	if (a->severity != b->severity)
		return a->severity > b->severity ? -1 : 1;
	c = strcmp(a->code, b->code);
	if (c != 0)
		return c;
	c = topo_id_compare(a->resource, b->resource);
	if (c != 0)
		return c;
	return strcmp(a->message, b->message);
}

int
findings_check(struct findings *out, const struct topology *t, const struct routes_ctx *ctx,
    struct nw_err *err)
{
	struct builder b = { .s = { .f = out } };
	size_t *spokes = NULL, i;
	int rc;

	memset(out, 0, sizeof(*out));
	check_overlaps(&b, t);
	check_peerings(&b, t);
	check_route_tables(&b, t);
	check_gateways(&b, t, ctx);
	check_private_endpoints(&b, t);
	check_warnings(&b, t);
	if (check_route_servers(&b, t, ctx, err) != 0) {
		findings_free(out);
		return NW_ENOMEM;
	}
	if (b.s.oom)
		goto oom;
	/* Last: it appends with its own idea of the capacity, so the builder adds nothing after. */
	if ((rc = circuit_sanity_ctx(out, t, ctx, NULL, 0, false, err)) != 0) {
		findings_free(out);
		return rc;
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), finding_cmp);

	spokes = calloc(t->nvnets + 1, sizeof(*spokes));
	if (spokes == NULL)
		goto oom;
	for (i = 0; i < t->nvnets; i++) {
		if (findings_is_hub(&t->vnets[i]))
			out->nhubs++;
		else
			spokes[out->nspokes++] = i;
	}
	rc = routes_summary_subnets(&out->eastwest, ctx, spokes, out->nspokes, err);
	free(spokes);
	if (rc != 0) {
		findings_free(out);
		return rc;
	}
	return 0;
oom:
	free(spokes);
	findings_free(out);
	return err_set(err, NW_ENOMEM, "out of memory while checking the topology");
}

json_t *
findings_to_json(const struct findings *f, const struct topology *t)
{
	json_t *doc = json_object(), *arr = json_array(), *lim = json_array();
	json_t *ew = json_object(), *classes = json_object(), *buckets = json_array();
	json_t *summary = json_object(), *mixed = json_array();
	size_t i, ncircuits = t->ncircuits;

	if (doc == NULL || arr == NULL || lim == NULL || ew == NULL || classes == NULL ||
	    buckets == NULL || summary == NULL || mixed == NULL)
		goto oom;
	json_object_set_new(doc, "format", json_string("netwave.check/v1"));
	json_object_set_new(summary, "vnets", json_integer((json_int_t)t->nvnets));
	json_object_set_new(summary, "hubs", json_integer((json_int_t)f->nhubs));
	json_object_set_new(summary, "spokes", json_integer((json_int_t)f->nspokes));
	json_object_set_new(summary, "gateways", json_integer((json_int_t)t->ngateways));
	json_object_set_new(summary, "circuits", json_integer((json_int_t)ncircuits));
	json_object_set_new(summary, "privateEndpoints",
	    json_integer((json_int_t)t->nprivate_endpoints));
	json_object_set_new(summary, "errors", json_integer((json_int_t)f->by_severity[SEV_ERROR]));
	json_object_set_new(summary, "warnings",
	    json_integer((json_int_t)f->by_severity[SEV_WARNING]));
	json_object_set_new(summary, "infos", json_integer((json_int_t)f->by_severity[SEV_INFO]));
	json_object_set_new(doc, "summary", summary);
	summary = NULL;

	for (i = 0; i < f->n; i++) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "severity",
		    finding_severity_name(f->v[i].severity), "code", f->v[i].code, "resource",
		    f->v[i].resource, "message", f->v[i].message);
		if (o == NULL || json_array_append_new(arr, o) != 0)
			goto oom;
	}
	json_object_set_new(doc, "findings", arr);
	arr = NULL;

	for (i = 0; i < f->nlimits; i++) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "limit", f->limits[i].key,
		    "what", f->limits[i].what, "source", f->limits[i].source, "resource",
		    f->limits[i].resource, "value", (json_int_t)f->limits[i].value, "max",
		    (json_int_t)f->limits[i].limit);
		if (o == NULL || json_array_append_new(lim, o) != 0)
			goto oom;
	}
	json_object_set_new(doc, "limits", lim);
	lim = NULL;

	for (i = 0; i < PATH_NCLASSES; i++)
		json_object_set_new(classes, path_class_name((enum path_class)i),
		    json_integer((json_int_t)f->eastwest.by_class[i]));
	for (i = 0; i < f->eastwest.nbuckets; i++) {
		const struct path_bucket *pb = &f->eastwest.buckets[i];
		json_t *o = json_pack("{s:s, s:s, s:I}", "class", path_class_name(pb->cls), "detail",
		    pb->detail, "flows", (json_int_t)pb->count);
		if (o == NULL)
			goto oom;
		if (pb->example_from != NULL && pb->example_to != NULL)
			json_object_set_new(o, "example",
			    json_pack("{s:s, s:s}", "from", pb->example_from->res->id, "to",
				pb->example_to->res->id));
		if (json_array_append_new(buckets, o) != 0)
			goto oom;
	}
	for (i = 0; i < f->eastwest.nmixed; i++) {
		const struct path_mixed *m = &f->eastwest.mixed[i];
		json_t *o = json_pack("{s:s, s:s}", "vnet", m->vnet->res->id, "example", m->example_to->res->id);

		if (o == NULL || json_array_append_new(mixed, o) != 0)
			goto oom;
	}
	json_object_set_new(ew, "spokes", json_integer((json_int_t)f->nspokes));
	json_object_set_new(ew, "sourceSubnets", json_integer((json_int_t)f->eastwest.sources));
	json_object_set_new(ew, "flows", json_integer((json_int_t)f->eastwest.flows));
	json_object_set_new(ew, "mixed", mixed);
	mixed = NULL;
	json_object_set_new(ew, "classes", classes);
	json_object_set_new(ew, "buckets", buckets);
	json_object_set_new(doc, "eastWest", ew);
	return doc;
oom:
	json_decref(doc);
	json_decref(arr);
	json_decref(lim);
	json_decref(ew);
	json_decref(classes);
	json_decref(buckets);
	json_decref(summary);
	json_decref(mixed);
	return NULL;
}

void
findings_free(struct findings *f)
{
	size_t i;

	if (f == NULL)
		return;
	finding_list_free(f->v, f->n);
	for (i = 0; i < f->nlimits; i++)
		free(f->limits[i].resource);
	free(f->limits);
	path_summary_free(&f->eastwest);
	memset(f, 0, sizeof(*f));
}
