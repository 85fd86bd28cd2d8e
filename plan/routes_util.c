/*
 * Small helpers of the route engine: array growth, prefix and peering
 * helpers, interning byte strings to dense ids, and overlap marking.
 */
#include "config.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/routes_impl.h"

/* ---- small helpers ---- */

int
re_nomem(struct nw_err *err, const char *what)
{
	return err_set(err, NW_ENOMEM, "out of memory building %s", what);
}

struct cidr
re_v4(uint8_t a, uint8_t b, unsigned len)
{
	struct cidr c;

	memset(&c, 0, sizeof(c));
	c.family = 4;
	c.len = (uint8_t)len;
	c.addr[0] = a;
	c.addr[1] = b;
	return c;
}

bool
re_prefixes_contain(const struct topo_prefixes *p, const struct cidr *d)
{
	for (size_t i = 0; i < p->n; i++)
		if (cidr_contains(&p->v[i], d))
			return true;
	return false;
}

/* The first address of a possibly comma-separated list (active-active gateways). */
bool
re_parse_first_addr(struct cidr *out, const char *s)
{
	char buf[CIDR_STRLEN + 8];
	struct nw_err e = { 0 };
	size_t n;

	if (s == NULL)
		return false;
	n = strcspn(s, ", ");
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return cidr_parse_addr(out, buf, &e) == 0;
}

const struct topo_prefixes re_no_prefixes = { NULL, 0 };

/* What a peering's routes cover: what ARM says the remote has, else the remote's own space. */
const struct topo_prefixes *
re_peering_prefixes(const struct topo_peering *p)
{
	if (p->remote_prefixes.n > 0)
		return &p->remote_prefixes;
	if (p->remote != NULL)
		return &p->remote->prefixes;
	return &re_no_prefixes;
}

enum topo_next_hop
re_peering_next_hop(const struct topo_vnet *v, const struct topo_peering *p)
{
	const char *l1 = v->res != NULL ? v->res->location : NULL;
	const char *l2 = p->remote != NULL && p->remote->res != NULL ? p->remote->res->location : NULL;

	if (l1 != NULL && l2 != NULL && !topo_location_equal(l1, l2))
		return NH_VNET_GLOBAL_PEERING;
	return NH_VNET_PEERING;
}

/*
 * True when v's peering p lets v use the remote VNet's gateways: p is
 * Connected with useRemoteGateways and the remote's peering back to v
 * allows gateway transit.
 */
bool
re_peering_uses_transit(const struct topo_vnet *v, const struct topo_peering *p)
{
	const struct topo_vnet *h = p->remote;

	if (p->state != PEERING_CONNECTED || !p->use_remote_gateways || h == NULL)
		return false;
	for (size_t i = 0; i < h->npeerings; i++)
		if (h->peerings[i].remote == v && h->peerings[i].allow_gateway_transit)
			return true;
	return false;
}

bool
re_user_valid(const struct route *r, bool has_vpn)
{
	switch (r->next_hop) {
	case NH_VIRTUAL_NETWORK_GATEWAY:
		/* user routes cannot point at an ExpressRoute gateway, nor at none */
		return has_vpn;
	case NH_VNET_LOCAL:
	case NH_INTERNET:
	case NH_VIRTUAL_APPLIANCE:
	case NH_VIRTUAL_APPLIANCE_ECMP:
	case NH_NONE:
		return true;
	default:
		return false;
	}
}

static int
cmp_cidr_ptr(const void *a, const void *b)
{
	return cidr_compare(a, b);
}

/* Sorts and removes duplicates in place; returns the new count. */
size_t
re_cidrs_sort_unique(struct cidr *v, size_t n)
{
	size_t k = 0;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_cidr_ptr);
	for (size_t i = 1; i < n; i++)
		if (!cidr_equal(&v[k], &v[i]))
			v[++k] = v[i];
	return k + 1;
}

static int
cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

size_t
re_sizes_sort_unique(size_t *v, size_t n)
{
	size_t k = 0;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_size);
	for (size_t i = 1; i < n; i++)
		if (v[k] != v[i])
			v[++k] = v[i];
	return k + 1;
}

bool
re_sorted_intersect(const size_t *a, size_t na, const size_t *b, size_t nb)
{
	size_t i = 0, j = 0;

	while (i < na && j < nb) {
		if (a[i] == b[j])
			return true;
		if (a[i] < b[j])
			i++;
		else
			j++;
	}
	return false;
}

/* ---- interning byte strings to dense ids ---- */


static uint64_t
hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

void
re_intern_free(struct intern *in)
{
	for (size_t i = 0; i < in->n; i++)
		free(in->key[i]);
	free(in->key);
	free(in->klen);
	free(in->slot);
	memset(in, 0, sizeof(*in));
}

static int
intern_rehash(struct intern *in, size_t ncap)
{
	size_t *ns = calloc(ncap, sizeof(*ns));

	if (ns == NULL)
		return NW_ENOMEM;
	for (size_t id = 0; id < in->n; id++) {
		size_t h = (size_t)hash_bytes(in->key[id], in->klen[id]) & (ncap - 1);

		while (ns[h] != 0)
			h = (h + 1) & (ncap - 1);
		ns[h] = id + 1;
	}
	free(in->slot);
	in->slot = ns;
	in->cap = ncap;
	return 0;
}

/* The id of key (a new one when unseen); *fresh tells which. */
int
re_intern_put(struct intern *in, const void *key, size_t len, size_t *id, bool *fresh)
{
	size_t h, acap;

	if ((in->n + 1) * 2 > in->cap && intern_rehash(in, in->cap ? in->cap * 2 : 64) != 0)
		return NW_ENOMEM;
	h = (size_t)hash_bytes(key, len) & (in->cap - 1);
	while (in->slot[h] != 0) {
		size_t k = in->slot[h] - 1;

		if (in->klen[k] == len && (len == 0 || memcmp(in->key[k], key, len) == 0)) {
			*id = k;
			*fresh = false;
			return 0;
		}
		h = (h + 1) & (in->cap - 1);
	}
	acap = in->alloc;
	if (GROW(in->key, &acap, in->n + 1) != 0)
		return NW_ENOMEM;
	acap = in->alloc;
	if (GROW(in->klen, &acap, in->n + 1) != 0)
		return NW_ENOMEM;
	in->alloc = acap;
	in->key[in->n] = malloc(len ? len : 1);
	if (in->key[in->n] == NULL)
		return NW_ENOMEM;
	if (len > 0)
		memcpy(in->key[in->n], key, len);
	in->klen[in->n] = len;
	in->slot[h] = in->n + 1;
	*id = in->n++;
	*fresh = true;
	return 0;
}

/* ---- overlap marking: one sort and one sweep ---- */


static int
cmp_owned(const void *a, const void *b)
{
	const struct owned *x = a, *y = b;
	int c = cidr_compare(&x->c, &y->c);

	if (c == 0)
		c = CMP3(x->owner, y->owner);
	return c != 0 ? c : CMP3(x->tag, y->tag);
}

struct owned_run {
	size_t start, end;
	bool multi; /* several owners share this exact prefix */
	bool hit;
};

/*
 * Marks every item that overlaps an item of a different owner.  Two
 * prefixes overlap only when one contains the other, so after sorting by
 * address (shorter first) the prefixes containing an item are exactly the
 * chain on a stack; equal prefixes are first folded into runs so the chain
 * stays at most one deep per length.  Reorders v.
 */
int
re_overlaps_mark(struct owned *v, size_t n)
{
	struct owned_run *runs = NULL;
	size_t nruns = 0, stack[2 * (MAXLEN + 1)], sp = 0;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_owned);
	runs = calloc(n, sizeof(*runs));
	if (runs == NULL)
		return NW_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		v[i].hit = false;
		if (nruns > 0 && cidr_equal(&v[runs[nruns - 1].start].c, &v[i].c)) {
			struct owned_run *r = &runs[nruns - 1];

			if (v[r->start].owner != v[i].owner)
				r->multi = true;
			r->end = i + 1;
			continue;
		}
		runs[nruns].start = i;
		runs[nruns].end = i + 1;
		nruns++;
	}
	for (size_t r = 0; r < nruns; r++) {
		struct owned_run *cur = &runs[r];
		size_t owner = v[cur->start].owner;

		while (sp > 0 && !cidr_contains(&v[runs[stack[sp - 1]].start].c, &v[cur->start].c))
			sp--;
		if (cur->multi)
			cur->hit = true;
		for (size_t k = 0; k < sp; k++) {
			struct owned_run *s = &runs[stack[k]];

			if (s->multi || cur->multi || v[s->start].owner != owner)
				s->hit = cur->hit = true;
		}
		assert(sp < sizeof(stack) / sizeof(stack[0]));
		stack[sp++] = r;
	}
	for (size_t r = 0; r < nruns; r++)
		for (size_t i = runs[r].start; i < runs[r].end; i++)
			v[i].hit = runs[r].hit;
	free(runs);
	return 0;
}
