/*
 * summarize-gateway-prefixes in an intent: the change's keys, and its
 * end state in the target (each hub's summarizedGatewayPrefixes, given or
 * computed, never covering on-premises space or another hub's).
 */
#include "config.h"

#include <fnmatch.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/cidr.h"
#include "plan/findings.h"
#include "plan/gwmigrate.h"
#include "plan/intent.h"
#include "plan/intent_impl.h"
#include "plan/jsonutil.h"
#include "plan/limits.h"
#include "plan/procedure.h"
#include "plan/proc/summarize_prefixes.h"
#include "plan/rgroups.h"
#include "plan/routes.h"
#include "plan/vec.h"

static const char *const SUMMARIZE_KEYS[] = {
	"kind", "description", "hubs", "prefixes", "minPrefixLength", NULL,
};
static const char *const MIN_LEN_KEYS[] = { "ipv4", "ipv6", NULL };

static int
min_len_parse(struct intent_loader *l, struct sum_change *c, const json_t *v)
{
	static const char *const fam[] = { "ipv4", "ipv6" };
	unsigned *dst[] = { &c->min_len4, &c->min_len6 };
	const unsigned maxv[] = { 32, 128 };
	size_t i, old;
	int rc = 0;

	if (v == NULL)
		return 0;
	old = intent_push(l, "minPrefixLength");
	if (json_is_integer(v)) {
		/* a plain number is the IPv4 floor, the common case */
		if (json_integer_value(v) < 0 || json_integer_value(v) > 32)
			rc = intent_fail(l, "%lld is out of range: an IPv4 prefix length is 0 to 32",
			    (long long)json_integer_value(v));
		else
			c->min_len4 = (unsigned)json_integer_value(v);
	} else if (json_is_object(v)) {
		if ((rc = intent_check_keys(l, v, MIN_LEN_KEYS)) == 0) {
			for (i = 0; i < 2 && rc == 0; i++) {
				json_t *n = json_object_get(v, fam[i]);
				size_t o2;
				if (n == NULL)
					continue;
				o2 = intent_push(l, fam[i]);
				if (!json_is_integer(n))
					rc = intent_fail(l, "expected a prefix length, found %s", intent_json_kind(n));
				else if (json_integer_value(n) < 0 ||
				    json_integer_value(n) > (json_int_t)maxv[i])
					rc = intent_fail(l, "%lld is out of range: expected 0 to %u",
					    (long long)json_integer_value(n), maxv[i]);
				else
					*dst[i] = (unsigned)json_integer_value(n);
				intent_pop(l, o2);
			}
		}
	} else {
		rc = intent_fail(l, "expected a prefix length or {\"ipv4\": N, \"ipv6\": M}, found %s",
		    intent_json_kind(v));
	}
	intent_pop(l, old);
	return rc;
}

static int
sum_intent_parse(struct intent_loader *l, void *state, const json_t *v)
{
	struct sum_change *c = state;
	json_t *p;
	size_t old, i;
	int rc;

	c->min_len4 = INTENT_MIN_PREFIX_LEN4;
	c->min_len6 = INTENT_MIN_PREFIX_LEN6;
	if ((rc = intent_check_keys(l, v, SUMMARIZE_KEYS)) != 0 ||
	    (rc = intent_selector_at(l, v, "hubs", &c->hubs)) != 0 ||
	    (rc = min_len_parse(l, c, json_object_get(v, "minPrefixLength"))) != 0)
		return rc;
	if ((p = json_object_get(v, "prefixes")) == NULL)
		return 0;
	old = intent_push(l, "prefixes");
	if (json_is_string(p)) {
		if (strcmp(json_string_value(p), "auto") != 0)
			rc = intent_fail(l, "expected \"auto\" or an array of prefixes, found \"%s\"",
			    json_string_value(p));
	} else if (json_is_array(p)) {
		if (json_array_size(p) == 0)
			rc = intent_fail(l, "the list is empty: give the summaries, or \"auto\"");
		for (i = 0; rc == 0 && i < json_array_size(p); i++) {
			json_t *e = json_array_get(p, i);
			struct cidr cidr;
			size_t o2 = intent_push_index(l, i);
			if (!json_is_string(e))
				rc = intent_fail(l, "expected a prefix string, found %s", intent_json_kind(e));
			else if ((rc = cidr_parse(&cidr, json_string_value(e), l->err)) != 0)
				err_prefix(l->err, "%s: %s", l->source, l->ptr);
			intent_pop(l, o2);
		}
	} else {
		rc = intent_fail(l, "expected \"auto\" or an array of prefixes, found %s", intent_json_kind(p));
	}
	intent_pop(l, old);
	return rc;
}

static void
sum_intent_clear(void *state)
{
	struct sum_change *c = state;

	intent_selector_free(&c->hubs);
}


/* ------------------------------------------------------------------ */
/* summarize-gateway-prefixes                                          */

struct cidr_list {
	struct cidr *v;
	size_t n, cap;
};

static int
cidr_list_add(struct cidr_list *l, const struct cidr *v, size_t n)
{
	if (VEC_GROW(l->v, &l->cap, l->n + n) != 0)
		return NW_ENOMEM;
	memcpy(l->v + l->n, v, n * sizeof(*v));
	l->n += n;
	return 0;
}

static bool
gateway_in(const struct topo_vnet *v, const struct topo_gateway *g)
{
	size_t i;

	for (i = 0; i < v->ngateways; i++)
		if (v->gateways[i] == g)
			return true;
	return false;
}

/* What the hub must not cover: on-premises routes of its circuits, every other hub's space. */
static int
summary_forbid(struct intent_expander *e, const struct topo_vnet *hub, struct cidr_list *forbid)
{
	const struct topology *t = e->cur;
	size_t i, j, k;

	for (i = 0; i < hub->ngateways; i++) {
		const struct topo_gateway *g = hub->gateways[i];
		for (j = 0; j < g->nconnections; j++) {
			const struct topo_circuit *ci = g->connections[j]->circuit;
			for (k = 0; ci != NULL && k < ci->nroutes; k++)
				if (cidr_list_add(forbid, &ci->routes[k].prefix, 1) != 0)
					return intent_nomem(e->err);
		}
	}
	for (i = 0; i < t->ngateways; i++) {
		const struct topo_prefixes *adv;
		if (gateway_in(hub, &t->gateways[i]))
			continue;
		adv = routes_gateway_advertised(e->ctx, &t->gateways[i]);
		if (cidr_list_add(forbid, adv->v, adv->n) != 0)
			return intent_nomem(e->err);
	}
	for (i = 0; i < t->nvnets; i++) {
		if (&t->vnets[i] == hub || !findings_is_hub(&t->vnets[i]))
			continue;
		if (cidr_list_add(forbid, t->vnets[i].prefixes.v, t->vnets[i].prefixes.n) != 0)
			return intent_nomem(e->err);
	}
	return 0;
}

static bool
addr_bit(const struct cidr *a, unsigned i)
{
	return (a->addr[i / 8] >> (7 - i % 8)) & 1;
}

/*
 * cidr_aggregate gives the largest allowed supernets; each is shrunk to
 * the smallest prefix that still spans the cover inside it.  The count
 * stays minimal, the results stay disjoint and free of forbidden prefixes
 * (a sub-prefix cannot contain what its parent does not), and the hub no
 * longer claims unused space that on-premises may own under a supernet.
 */
static void
summary_shrink(struct cidr *v, size_t n, const struct cidr *cover, size_t ncover)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		size_t alen = cidr_max_len(&v[i]) / 8;
		struct cidr lo = { 0 }, hi = { 0 };
		bool any = false;
		unsigned len;

		for (j = 0; j < ncover; j++) {
			const struct cidr *c = &cover[j];
			struct cidr s, e;

			if (c->family != v[i].family || !cidr_overlaps(c, &v[i]))
				continue;
			if (cidr_contains(c, &v[i])) {
				any = false;
				break; /* nothing smaller spans it */
			}
			s = *c;
			e = cidr_last(c);
			if (!any || memcmp(s.addr, lo.addr, alen) < 0)
				lo = s;
			if (!any || memcmp(e.addr, hi.addr, alen) > 0)
				hi = e;
			any = true;
		}
		if (!any)
			continue;
		for (len = v[i].len; len < cidr_max_len(&v[i]); len++)
			if (addr_bit(&lo, len) != addr_bit(&hi, len))
				break;
		lo.len = (uint8_t)cidr_max_len(&lo);
		v[i] = cidr_supernet(&lo, len);
	}
}

static int
set_summaries(struct intent_expander *e, const struct topo_vnet *hub, const struct cidr *v, size_t n)
{
	json_t *props = intent_mut_object(intent_work_edit(e, hub->res, false), "properties"), *arr = json_array();
	size_t i;

	if (props == NULL || arr == NULL ||
	    json_object_set_new(props, "summarizedGatewayPrefixes",
		json_pack("{s:o}", "addressPrefixes", arr)) != 0)
		return intent_nomem(e->err);
	for (i = 0; i < n; i++) {
		char buf[CIDR_STRLEN];
		cidr_format(&v[i], buf);
		if (json_array_append_new(arr, json_string(buf)) != 0)
			return intent_nomem(e->err);
	}
	return 0;
}

/* Explicit summaries: each one checked against what it must not cover. */
static int
summary_explicit(struct intent_expander *e, const struct intent_change *c, const struct topo_vnet *hub,
    const json_t *list, const struct cidr_list *forbid)
{
	struct cidr *v = calloc(json_array_size(list) + 1, sizeof(*v));
	size_t i, j, n = json_array_size(list);
	char a[CIDR_STRLEN], b[CIDR_STRLEN];
	int rc = 0;

	if (v == NULL)
		return intent_nomem(e->err);
	for (i = 0; i < n && rc == 0; i++) {
		if ((rc = cidr_parse(&v[i], json_string_value(json_array_get(list, i)), e->err)) != 0)
			break;
		for (j = 0; j < forbid->n && rc == 0; j++) {
			if (!cidr_contains(&v[i], &forbid->v[j]))
				continue;
			cidr_format(&v[i], a);
			cidr_format(&forbid->v[j], b);
			rc = err_set(e->err, NW_EINPUT, "%s: %s/prefixes/%zu: hub %s: summary %s would "
			    "cover %s, which is on-premises or another hub's space", e->in->source,
			    c->pointer, i, hub->res->name, a, b);
		}
		for (j = 0; j < i && rc == 0; j++) {
			if (!cidr_overlaps(&v[i], &v[j]))
				continue;
			cidr_format(&v[i], a);
			cidr_format(&v[j], b);
			rc = err_set(e->err, NW_EINPUT, "%s: %s/prefixes/%zu: summary %s overlaps %s; "
			    "summaries must not overlap", e->in->source, c->pointer, i, a, b);
		}
	}
	if (rc == 0) {
		cidr_sort(v, n);
		rc = set_summaries(e, hub, v, n);
	}
	free(v);
	return rc;
}

static int
sum_intent_expand(struct intent_expander *e, const struct intent_change *c)
{
	const struct topology *t = e->cur;
	const json_t *explicit = json_object_get(c->json, "prefixes");
	struct cidr_aggregate_opts o = { sum_of(c)->min_len4, sum_of(c)->min_len6 };
	size_t i, j, matched = 0, hubs = 0;
	int rc;

	if ((rc = intent_ensure_ctx(e)) != 0)
		return rc;
	if (!json_is_array(explicit))
		explicit = NULL;
	for (i = 0; i < t->nvnets; i++) {
		const struct topo_vnet *hub = &t->vnets[i];
		struct cidr_list cover = { 0 }, forbid = { 0 };
		struct cidr *out = NULL;
		size_t nout = 0;

		if (!intent_selector_match(&sum_of(c)->hubs, hub->res))
			continue;
		matched++;
		if (hub->ngateways == 0)
			continue;
		hubs++;
		for (j = 0; j < hub->ngateways && rc == 0; j++) {
			const struct topo_prefixes *adv = routes_gateway_advertised(e->ctx,
			    hub->gateways[j]);
			if (cidr_list_add(&cover, adv->v, adv->n) != 0)
				rc = intent_nomem(e->err);
		}
		if (rc == 0)
			rc = summary_forbid(e, hub, &forbid);
		if (rc == 0 && explicit != NULL) {
			rc = summary_explicit(e, c, hub, explicit, &forbid);
		} else if (rc == 0 && cover.n > 0) {
			rc = cidr_aggregate(&out, &nout, cover.v, cover.n, forbid.v, forbid.n, &o, e->err);
			if (rc != 0)
				err_prefix(e->err, "%s: %s/hubs: cannot summarize what hub %s advertises",
				    e->in->source, c->pointer, hub->res->name);
			else {
				summary_shrink(out, nout, cover.v, cover.n);
				rc = set_summaries(e, hub, out, nout);
			}
		}
		free(out);
		free(cover.v);
		free(forbid.v);
		if (rc != 0)
			return rc;
	}
	if (matched == 0)
		return intent_selector_fail(e->in, &sum_of(c)->hubs, e->err, "VNet");
	if (hubs == 0)
		return err_set(e->err, NW_EINPUT, "%s: %s: matches no VNet with a gateway: %zu VNet%s "
		    "matched, none of them has a gateway to advertise prefixes", e->in->source,
		    sum_of(c)->hubs.pointer, matched, matched == 1 ? "" : "s");
	return 0;
}

const struct procedure_intent sum_intent = {
	sizeof(struct sum_change), sum_intent_parse, sum_intent_clear, NULL, sum_intent_expand,
};
