/*
 * summarize-gateway-prefixes: hub VNets advertise a few supernets to the
 * circuit instead of every hub and spoke prefix.  The kind's entry, its
 * claims, its wave, and what the rehearsal shows the gateways advertise
 * before and after it.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "plan/plan_build.h"
#include "plan/procedure.h"
#include "plan/proc/summarize_prefixes.h"
#include "plan/rehearse.h"
#include "plan/report.h"

extern const struct procedure procedure_summarize_prefixes;

/* What a wave's gateways advertise in one state: IPv4 and IPv6 prefix counts. */
struct adv_count {
	bool found; /* the gateway is in the state */
	long v4, v6;
};

struct sum_state {
	json_t *vnets;                /* cur VNet id lowercase -> true */
	struct adv_count *adv_before; /* the summarize wave's gateways, before it */
};

static struct sum_state *
sum_state(const struct plan_ctx *p)
{
	return plan_ctx_state(p, &procedure_summarize_prefixes);
}

/* ------------------------------------------------------------------ */
/* summarize-gateway-prefixes */

static int
cmp_vnet_ptr(const void *a, const void *b)
{
	return plan_vnet_cmp(a, b);
}

/* A hub's summaries never cover on-premises space or another gateway's: blockers when they do. */
static void
sum_check_cover(struct plan_ctx *p, const struct topo_vnet *v, const struct topo_vnet *tv)
{
	size_t k, q, c, rr;
	char a[CIDR_STRLEN], b[CIDR_STRLEN];

	for (k = 0; k < tv->summarized.n; k++) {
		const struct cidr *sp = &tv->summarized.v[k];

		for (q = 0; q < v->ngateways; q++) {
			const struct topo_gateway *g = v->gateways[q];
			for (c = 0; c < g->nconnections; c++) {
				const struct topo_circuit *ci = g->connections[c]->circuit;
				for (rr = 0; ci != NULL && rr < ci->nroutes; rr++)
					if (cidr_contains(sp, &ci->routes[rr].prefix)) {
						cidr_format(sp, a);
						cidr_format(&ci->routes[rr].prefix, b);
						plan_blocker(p, "summary-covers-on-premises", v->res->id,
						    "summary %s of %s covers the on-premises prefix %s learned over %s",
						    a, v->res->name, b, ci->res->name);
					}
			}
		}
		for (q = 0; q < p->cur->ngateways; q++) {
			const struct topo_gateway *og = &p->cur->gateways[q];
			const struct topo_prefixes *adv;
			bool shared = false;

			if (og->vnet == v)
				continue;
			for (c = 0; c < v->ngateways; c++)
				if (plan_gw_shares_circuit(og, v->gateways[c]))
					shared = true;
			if (!shared)
				continue;
			adv = routes_gateway_advertised(p->cur_ctx, og);
			for (c = 0; c < adv->n; c++)
				if (cidr_contains(sp, &adv->v[c])) {
					cidr_format(sp, a);
					cidr_format(&adv->v[c], b);
					plan_blocker(p, "summary-covers-other-hub", v->res->id,
					    "summary %s of %s covers %s, which gateway %s advertises",
					    a, v->res->name, b, og->res->name);
					break;
				}
		}
	}
}

/* "10.0.0.0/8, 172.16.0.0/12, ..." for a step's description: the first eight. */
static void
sum_list_text(const struct topo_vnet *tv, char *list, size_t size)
{
	size_t k;

	list[0] = '\0';
	for (k = 0; k < tv->summarized.n && k < 8; k++) {
		char c1[CIDR_STRLEN];
		cidr_format(&tv->summarized.v[k], c1);
		if (k > 0)
			strncat(list, ", ", size - strlen(list) - 1);
		strncat(list, c1, size - strlen(list) - 1);
	}
	if (tv->summarized.n > 8)
		strncat(list, ", ...", size - strlen(list) - 1);
}

/* The hub's PUT with the target's summaries, and the hub as the rehearsal sees it after. */
static int
sum_step(struct plan_ctx *p, struct wave *w, const struct topo_vnet *v, const struct topo_vnet *tv,
    json_t *checks)
{
	const json_t *sum = json_path(tv->res->json, "properties", "summarizedGatewayPrefixes", NULL);
	json_t *body, *inv, *res, *st;
	char list[512];
	size_t q;
	struct step_spec s = {
		.procedure = procedure_summarize_prefixes.name, .action = "set-summarized-gateway-prefixes",
		.resource = v->res->id, .serialize = v->res->id, .lro = true, .reads = 2, .writes = 1,
	};

	inv = plan_wire_body(v->res->json);
	body = inv != NULL ? plan_body_dup(inv) : NULL;
	/* the hub as the rehearsal sees it after the wave: only its properties change */
	res = json_copy(v->res->json);
	if (res != NULL && json_is_object(json_object_get(res, "properties")) &&
	    json_object_set_new(res, "properties", json_copy(json_object_get(res, "properties"))) != 0) {
		json_decref(res);
		res = NULL;
	}
	if (body == NULL || res == NULL) {
		json_decref(inv);
		json_decref(body);
		json_decref(res);
		return NW_ENOMEM;
	}
	if (sum != NULL) {
		json_object_set_new(json_object_get(body, "properties"), "summarizedGatewayPrefixes",
		    json_deep_copy(sum));
		json_object_set_new(json_object_get(res, "properties"), "summarizedGatewayPrefixes",
		    json_deep_copy(sum));
	} else {
		json_object_del(json_object_get(body, "properties"), "summarizedGatewayPrefixes");
		json_object_del(json_object_get(res, "properties"), "summarizedGatewayPrefixes");
	}
	json_array_append_new(w->fx_put, res);
	s.op = plan_op_new("PUT", v->res->id, ARM_API_NETWORK, body);
	s.inverse = plan_op_new("PUT", v->res->id, ARM_API_NETWORK, inv);
	s.expect = json_array();
	if (sum != NULL)
		json_array_append_new(s.expect, json_pack("{s:s, s:O}", "pointer",
		    "/properties/summarizedGatewayPrefixes", "equals", sum));
	sum_list_text(tv, list, sizeof(list));
	st = plan_step_add(w, &s, "set summarizedGatewayPrefixes on %s to %zu prefix%s (%s)",
	    v->res->name, tv->summarized.n, tv->summarized.n == 1 ? "" : "es",
	    tv->summarized.n ? list : "none");
	if (st == NULL)
		return NW_ENOMEM;
	json_array_append_new(checks, json_pack("{s:s, s:s, s:O}", "resource", v->res->id, "pointer",
	    "/properties/summarizedGatewayPrefixes", "equals", sum != NULL ? sum : json_null()));
	json_array_append_new(w->members, json_string(v->res->id));
	if (plan_wave_add_vnet(w, (size_t)(v - p->cur->vnets)) != 0)
		return NW_ENOMEM;
	for (q = 0; q < v->ngateways; q++)
		if (plan_wave_add_gw(w, v->gateways[q]) != 0)
			return NW_ENOMEM;
	return 0;
}

static int
wave_summarize(struct plan_ctx *p)
{
	struct sum_state *ss = sum_state(p);
	const json_t *vnets = ss->vnets;
	const struct topo_vnet **hubs = NULL;
	size_t n = 0, i;
	struct wave *w;
	const char *key;
	json_t *x, *checks = NULL;
	int rc = NW_ENOMEM;

	if (json_object_size(vnets) == 0)
		return 0;
	hubs = calloc(json_object_size(vnets), sizeof(*hubs));
	checks = json_array();
	if (hubs == NULL || checks == NULL)
		goto done;
	json_object_foreach((json_t *)vnets, key, x) {
		const struct topo_vnet *v = topology_find_vnet(p->cur, key);
		if (v != NULL)
			hubs[n++] = v;
	}
	qsort(hubs, n, sizeof(*hubs), cmp_vnet_ptr);
	w = plan_wave_new(p, WAVE_SUMMARIZE, "summarize");
	if (w == NULL)
		goto done;
	for (i = 0; i < n; i++) {
		const struct topo_vnet *v = hubs[i];
		const struct topo_vnet *tv = topology_find_vnet(p->tgt, v->res->id);

		if (tv == NULL)
			continue;
		if (v->ngateways == 0)
			plan_finding(p, "warning", "summary-inert", v->res->id, "%s has no gateway: its "
			    "summarizedGatewayPrefixes do nothing until one exists", v->res->name);
		sum_check_cover(p, v, tv);
		if (sum_step(p, w, v, tv, checks) != 0)
			goto done;
	}
	w->routing = true;
	if (plan_gate_add(w, GATE_RESOURCE_STATE, "after", json_pack("{s:O}", "checks", checks),
	    (int)json_array_size(checks), "each hub VNet carries the summarized prefixes") != 0)
		goto done;
	plan_wave_risk(w, "the circuit learns the summaries instead of the hub and spoke prefixes at once: "
	    "on-premises routers see the change as soon as each PUT completes; spokes outside the "
	    "summaries stay advertised one by one");
	plan_wave_rollback(w, "put back each hub VNet's previous summarizedGatewayPrefixes (the inverse PUTs); "
	    "the gateways advertise the hub and spoke prefixes again");
	rc = 0;
done:
	free(hubs);
	json_decref(checks);
	return rc == 0 ? 0 : plan_nomem(p);
}

static void
advertised_counts(struct adv_count *out, const struct wave *w, const struct rstate *s)
{
	size_t i, k;

	for (i = 0; i < w->ngws; i++) {
		struct topo_resource *r = topology_find(s->t, w->gws[i]->res->id);
		const struct topo_prefixes *pf;

		memset(&out[i], 0, sizeof(out[i]));
		if (r == NULL || r->type != TOPO_GATEWAY)
			continue;
		out[i].found = true;
		pf = routes_gateway_advertised(s->ctx, r->view);
		for (k = 0; k < pf->n; k++)
			pf->v[k].family == 4 ? out[i].v4++ : out[i].v6++;
	}
}

/* The advertised-prefix rows of a summarize wave, from the counts before it and the state after. */
static int
advertised_rows(struct plan_ctx *p, struct wave *w, const struct adv_count *before, const struct rstate *a)
{
	json_t *rows = json_array();
	const struct limit_def *l4 = limit_get(LIMIT_ADVERTISED_V4), *l6 = limit_get(LIMIT_ADVERTISED_V6);
	struct adv_count *after = calloc(w->ngws + 1, sizeof(*after));
	size_t i;

	if (rows == NULL || after == NULL) {
		json_decref(rows);
		free(after);
		return plan_nomem(p);
	}
	advertised_counts(after, w, a);
	for (i = 0; i < w->ngws; i++) {
		long b4 = before[i].v4, b6 = before[i].v6, a4 = after[i].v4, a6 = after[i].v6;

		if (!before[i].found || !after[i].found)
			continue;
		json_array_append_new(rows, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "gateway",
		    w->gws[i]->res->id, "ipv4Before", (json_int_t)b4, "ipv4After", (json_int_t)a4,
		    "ipv6Before", (json_int_t)b6, "ipv6After", (json_int_t)a6, "maxIpv4",
		    (json_int_t)l4->value, "maxIpv6", (json_int_t)l6->value));
		plan_limit_row(p, LIMIT_ADVERTISED_V4, a4, w->gws[i]->res->id);
		if (a6 > 0 || b6 > 0)
			plan_limit_row(p, LIMIT_ADVERTISED_V6, a6, w->gws[i]->res->id);
		if (a4 > l4->value || a6 > l6->value)
			plan_finding(p, "warning", "advertised-over-limit", w->gws[i]->res->id,
			    "gateway %s still advertises %ld IPv4 and %ld IPv6 prefixes after summarization "
			    "(limits %ld and %ld)", w->gws[i]->res->name, a4, a6, l4->value, l6->value);
	}
	free(after);
	json_object_set_new(w->obj, "advertised", rows);
	return 0;
}

static int
sum_claim(struct plan_ctx *p, struct diff_entry *e, const struct topo_resource *r)
{
	struct sum_state *ss = sum_state(p);
	const struct topo_vnet *v;

	if (r == NULL || r->type != TOPO_VNET || !plan_pointer_under(e->pointer, "/properties/summarizedGatewayPrefixes"))
		return 0;
	v = topology_find_vnet(p->cur, r->id);
	if (v == NULL)
		return 0; /* a new VNet: no procedure creates VNets */
	return plan_idset_add(ss->vnets, v->res->id, NULL) == 0 ? 1 : NW_ENOMEM;
}

/* Before the summarize wave: what its gateways advertise. */
static int
sum_rehearse_before(struct plan_ctx *p, struct wave *w, struct rstate *before)
{
	struct sum_state *s = sum_state(p);
	int rc;

	free(s->adv_before);
	s->adv_before = calloc(w->ngws + 1, sizeof(*s->adv_before));
	if (s->adv_before == NULL)
		return plan_nomem(p);
	if ((rc = plan_rehearse_unpark(p, before)) != 0)
		return rc;
	advertised_counts(s->adv_before, w, before);
	return 0;
}

/* After it: the advertised rows, and on-premises routes from a sample of the hubs' spokes. */
static int
sum_rehearsed(struct plan_ctx *p, struct wave *w, struct rstate *before, const struct rstate *after)
{
	struct sum_state *ss = sum_state(p);
	size_t *idx, n = 0, g;
	bool *seen;
	int rc;

	(void)before;
	if (after == NULL)
		return 0;
	idx = malloc((p->cur->nvnets + 1) * sizeof(*idx));
	seen = calloc(p->cur->nvnets + 1, sizeof(*seen));
	if (idx == NULL || seen == NULL) {
		free(idx);
		free(seen);
		return plan_nomem(p);
	}
	/* a hub with an ExpressRoute and a VPN gateway lists its spokes once */
	for (g = 0; g < w->ngws; g++) {
		const struct topo_vnet *sp[64];
		size_t ns = plan_gw_spokes(p, w->gws[g], sp, 64), q;
		for (q = 0; q < ns && q < 64; q++) {
			size_t v = (size_t)(sp[q] - p->cur->vnets);
			if (!seen[v]) {
				seen[v] = true;
				idx[n++] = v;
			}
		}
	}
	free(seen);
	rc = advertised_rows(p, w, ss->adv_before, after);
	if (rc == 0)
		rc = plan_gate_onprem(p, w, after, idx, n, "a sample of the hubs' spokes");
	free(idx);
	return rc;
}

static int
sum_state_new(struct plan_ctx *p, void **out)
{
	struct sum_state *s = calloc(1, sizeof(*s));

	(void)p;
	*out = s;
	if (s == NULL || (s->vnets = json_object()) == NULL)
		return NW_ENOMEM;
	return 0;
}

static void
sum_state_free(void *state)
{
	struct sum_state *s = state;

	if (s == NULL)
		return;
	json_decref(s->vnets);
	free(s->adv_before);
	free(s);
}

/* Its line of the report's "What this plan does", from the plan's waves. */
static void
sum_report_overview(FILE *f, const json_t *plan)
{
	size_t hubs = report_wave_count(plan, WAVE_SUMMARIZE, "members");

	fprintf(f, "- **Summarized prefixes (summarize-gateway-prefixes).** %zu hub VNet%s "
	    "advertise%s a few supernets to the circuit instead of every hub and spoke prefix.\n",
	    hubs, hubs == 1 ? "" : "s", hubs == 1 ? "s" : "");
}

/* Its wave kind (what it means: summarize_prefixes.h), with the report's heading for its wave. */
const struct wave_kind_def wave_kind_summarize = { "summarize", "summarized gateway prefixes", 0 };

static const struct wave_kind_def *const sum_wave_kinds[] = { WAVE_SUMMARIZE, NULL };

const struct procedure procedure_summarize_prefixes = {
	.name = "summarize-gateway-prefixes",
	.title = "summarized gateway prefixes on hub VNets",
	.summary = "summarized gateway prefixes on hub VNets",
	.wave_kinds = sum_wave_kinds,
	.state_new = sum_state_new,
	.state_free = sum_state_free,
	.claim = sum_claim,
	.waves = wave_summarize,
	.rehearse_before = sum_rehearse_before,
	.rehearsed = sum_rehearsed,
	.report_overview = sum_report_overview,
	.intent = &sum_intent,
};
