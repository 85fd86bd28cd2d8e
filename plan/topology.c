/*
 * The topology model (see topology.h): loads a netwave.topology/v1
 * document, rejects what the planner cannot trust (with the line and
 * column of a syntax error or the JSON pointer of a semantic one), indexes
 * resources by id and builds the typed, linked views every later stage
 * reads.  The JSON stays the source of truth: views borrow its strings,
 * and the canonical dump writes it back with only the resource order and
 * key order normalised.
 *
 * Built for estates of thousands of VNets and tens of thousands of
 * private endpoints: one pass to index, one pass to build views, look-ups
 * through an open-addressing hash that never allocates, view memory from
 * an arena, and sort-and-sweep instead of pairwise prefix checks.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/jsonutil.h"
#include "plan/topology_impl.h"
#include "plan/vec.h"

/* ------------------------------------------------------------------ */
/* Small string helpers (ASCII only: ids are compared as ARM does)     */

static inline unsigned char
ascii_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static bool
ascii_eq_n(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
			return false;
	return true;
}

bool
tl_ascii_eq(const char *a, const char *b)
{
	for (;; a++, b++) {
		if (ascii_lower((unsigned char)*a) != ascii_lower((unsigned char)*b))
			return false;
		if (*a == '\0')
			return true;
	}
}

bool
topo_location_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	for (;;) {
		while (*a == ' ')
			a++;
		while (*b == ' ')
			b++;
		if (*a == '\0' || *b == '\0')
			return *a == *b;
		if (ascii_lower((unsigned char)*a) != ascii_lower((unsigned char)*b))
			return false;
		a++;
		b++;
	}
}

int
topo_id_compare(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char ca = (unsigned char)*a, cb = (unsigned char)*b;

		/* ids sorted together share long prefixes spelled alike: equal bytes first */
		if (ca == cb) {
			if (ca == '\0')
				return 0;
			continue;
		}
		ca = ascii_lower(ca);
		cb = ascii_lower(cb);
		if (ca != cb)
			return ca < cb ? -1 : 1;
	}
}

int
topo_id_order(const char *a, const char *b)
{
	int c = topo_id_compare(a, b);

	return c != 0 ? c : strcmp(a, b);
}

/* ------------------------------------------------------------------ */
/* Arena: every view lives here and goes in one free                   */


#define ARENA_CHUNK ((size_t)256 << 10)

void *
tl_arena_alloc(struct arena *a, size_t size)
{
	struct arena_chunk *c = a->head;
	size_t align = sizeof(max_align_t), need;
	void *p;

	size = (size + align - 1) / align * align;
	if (size == 0)
		size = align;
	if (c == NULL || c->cap - c->used < size) {
		/* A big request gets a chunk of its own, behind the current one, so
		 * the space left in the current chunk is not wasted. */
		need = size > ARENA_CHUNK / 4 ? size : ARENA_CHUNK;
		c = calloc(1, sizeof(*c) + need);
		if (c == NULL)
			return NULL;
		c->cap = need;
		if (size > ARENA_CHUNK / 4 && a->head != NULL) {
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	p = (char *)c->data + c->used;
	c->used += size;
	return p;
}

static char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = tl_arena_alloc(a, n + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static void
arena_free(struct arena *a)
{
	struct arena_chunk *c, *next;

	if (a == NULL)
		return;
	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
}

/* ------------------------------------------------------------------ */
/* Index: open addressing over (scope, key) compared case-insensitively */

/*
 * One table holds resources (scope NULL, key the id), subnets (scope the
 * VNet, key the subnet name) and interned subscription and resource group
 * names (scope &intern_scope), so a subnet id resolves with two probes
 * and no allocation.
 */
struct hentry {
	const void *scope;
	const char *key;
	void *value;
	uint32_t keylen;
	uint32_t hash;
};

struct topology_index {
	struct hentry *v;
	size_t cap, n;
};

static const char intern_scope;

/* The eight bytes of w with ASCII 'A'..'Z' made lower case, every other byte kept. */
static inline uint64_t
word_lower(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL, high = ones * 0x80;
	uint64_t low7 = w & ~high;
	/* per byte: the high bit of (low7 + 0x80 - 'A') says >= 'A', of (low7 + 0x7f - 'Z') > 'Z' */
	uint64_t upper = ((low7 + ones * (0x80 - 'A')) ^ (low7 + ones * (0x7f - 'Z'))) & ~w & high;

	return w | (upper >> 2);
}

/*
 * Ids are a hundred bytes and more, and every look-up hashes one: eight
 * bytes at a time, ignoring ASCII case as the comparison does.
 */
static uint32_t
hash_key(const void *scope, const char *key, size_t len)
{
	uint64_t h = 1469598103934665603ULL ^ ((uint64_t)(uintptr_t)scope * 0x9E3779B97F4A7C15ULL) ^ len;
	uint64_t w;

	for (; len >= 8; key += 8, len -= 8) {
		memcpy(&w, key, 8);
		h = (h ^ word_lower(w)) * 0xFF51AFD7ED558CCDULL;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, key, len);
	h = (h ^ word_lower(w)) * 0xC4CEB9FE1A85EC53ULL;
	h ^= h >> 29;
	return (uint32_t)(h ^ (h >> 32));
}

static struct hentry *
index_slot(const struct topology_index *ix, const void *scope, const char *key, size_t len,
    uint32_t hash)
{
	size_t mask = ix->cap - 1, i = hash & mask;

	for (;; i = (i + 1) & mask) {
		struct hentry *e = &ix->v[i];

		if (e->key == NULL)
			return e;
		/* keys are mostly spelled alike: their bytes first, at memcmp's speed */
		if (e->hash == hash && e->scope == scope && e->keylen == len &&
		    (memcmp(e->key, key, len) == 0 || ascii_eq_n(e->key, key, len)))
			return e;
	}
}

static void *
index_get(const struct topology_index *ix, const void *scope, const char *key, size_t len)
{
	struct hentry *e;

	if (ix == NULL || ix->cap == 0 || len > UINT32_MAX)
		return NULL;
	e = index_slot(ix, scope, key, len, hash_key(scope, key, len));
	return e->key != NULL ? e->value : NULL;
}

static int
index_grow(struct topology_index *ix, size_t want)
{
	struct hentry *old = ix->v, *nv;
	size_t oldcap = ix->cap, cap = 64, i;

	while (cap < want * 2)
		cap *= 2;
	if (cap <= oldcap)
		return 0;
	nv = calloc(cap, sizeof(*nv));
	if (nv == NULL)
		return NW_ENOMEM;
	ix->v = nv;
	ix->cap = cap;
	for (i = 0; i < oldcap; i++) {
		if (old[i].key != NULL)
			*index_slot(ix, old[i].scope, old[i].key, old[i].keylen, old[i].hash) = old[i];
	}
	free(old);
	return 0;
}

/*
 * Adds key -> value unless the key is there.  Returns 0 when added, 1 with
 * *existing set when the key was already present, NW_ENOMEM.  key must
 * outlive the table.
 */
int
tl_index_put(struct topology_index *ix, const void *scope, const char *key, size_t len,
    void *value, void **existing)
{
	struct hentry *e;
	uint32_t h;

	if (len > UINT32_MAX)
		return NW_EINPUT;
	if ((ix->n + 1) * 2 > ix->cap && index_grow(ix, ix->n + 1) != 0)
		return NW_ENOMEM;
	h = hash_key(scope, key, len);
	e = index_slot(ix, scope, key, len, h);
	if (e->key != NULL) {
		if (existing != NULL)
			*existing = e->value;
		return 1;
	}
	e->scope = scope;
	e->key = key;
	e->keylen = (uint32_t)len;
	e->hash = h;
	e->value = value;
	ix->n++;
	return 0;
}

static void
index_free(struct topology_index *ix)
{
	if (ix == NULL)
		return;
	free(ix->v);
	free(ix);
}

/* ------------------------------------------------------------------ */
/* Next hops                                                           */

static const struct {
	const char *name;
	enum topo_next_hop nh;
	bool user; /* may appear in a route table */
} next_hops[] = {
	{ "VirtualNetworkGateway", NH_VIRTUAL_NETWORK_GATEWAY, true },
	{ "VnetLocal", NH_VNET_LOCAL, true },
	{ "Internet", NH_INTERNET, true },
	{ "VirtualAppliance", NH_VIRTUAL_APPLIANCE, true },
	{ "VirtualApplianceEcmp", NH_VIRTUAL_APPLIANCE_ECMP, true },
	{ "None", NH_NONE, true },
	{ "VNetPeering", NH_VNET_PEERING, false },
	{ "VNetGlobalPeering", NH_VNET_GLOBAL_PEERING, false },
	{ "ConnectedGroup", NH_CONNECTED_GROUP, false },
};


const char *
topo_next_hop_name(enum topo_next_hop nh)
{
	size_t i;

	for (i = 0; i < sizeof(next_hops) / sizeof(next_hops[0]); i++)
		if (next_hops[i].nh == nh)
			return next_hops[i].name;
	return "Unknown";
}

enum topo_next_hop
topo_next_hop_parse(const char *s)
{
	size_t i;

	if (s == NULL)
		return NH_UNKNOWN;
	for (i = 0; i < sizeof(next_hops) / sizeof(next_hops[0]); i++)
		if (next_hops[i].user && tl_ascii_eq(s, next_hops[i].name))
			return next_hops[i].nh;
	return NH_UNKNOWN;
}

/* ------------------------------------------------------------------ */
/* The loader's state: where we are (a JSON pointer) and scratch space */


size_t
tl_ptr_push(struct loader *l, const char *tok)
{
	size_t old = l->plen;

	/* PTR_MAX - 1: what the loader always did, one byte spare */
	l->plen = json_pointer_append(l->ptr, l->plen, PTR_MAX - 1, tok);
	return old;
}

size_t
tl_ptr_push_index(struct loader *l, size_t i)
{
	char tok[24];
	char *q = tok + sizeof(tok) - 1;

	*q = '\0';
	do {
		*--q = (char)('0' + i % 10);
		i /= 10;
	} while (i > 0);
	return tl_ptr_push(l, q);
}

void
tl_ptr_pop(struct loader *l, size_t old)
{
	l->plen = old;
	l->ptr[old] = '\0';
}

/* Sets l->ptr to /resources/<i> (for the passes that revisit a resource). */
void
tl_ptr_resource(struct loader *l, size_t i)
{
	tl_ptr_pop(l, 0);
	tl_ptr_push(l, "resources");
	tl_ptr_push_index(l, i);
}

/* "<source>: <pointer>: <message>", NW_EINPUT. */

int
tl_fail(struct loader *l, const char *fmt, ...)
{
	char msg[NW_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (l->plen == 0)
		return err_set(l->err, NW_EINPUT, "%s: %s", l->t->source, msg);
	return err_set(l->err, NW_EINPUT, "%s: %s: %s", l->t->source, l->ptr, msg);
}

int
tl_fail_nomem(struct loader *l)
{
	return err_set(l->err, NW_ENOMEM, "%s: out of memory loading the topology", l->t->source);
}

/* Same as fail, one key below the current pointer. */

int
tl_fail_at(struct loader *l, const char *key, const char *fmt, ...)
{
	char msg[NW_ERR_MSG_MAX];
	size_t old = tl_ptr_push(l, key);
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rc = tl_fail(l, "%s", msg);
	tl_ptr_pop(l, old);
	return rc;
}

/* Records a warning at the current pointer (plus key when not NULL). */

int
tl_warn(struct loader *l, const char *key, const char *fmt, ...)
{
	struct topology *t = l->t;
	char msg[NW_ERR_MSG_MAX];
	size_t old = l->plen;
	struct topo_warning *w;
	va_list ap;

	if (VEC_GROW(t->warnings, &l->warn_cap, t->nwarnings + 1) != 0)
		return tl_fail_nomem(l);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (key != NULL)
		tl_ptr_push(l, key);
	w = &t->warnings[t->nwarnings];
	w->pointer = arena_strndup(l->arena, l->ptr, strlen(l->ptr));
	w->message = arena_strndup(l->arena, msg, strlen(msg));
	tl_ptr_pop(l, old);
	if (w->pointer == NULL || w->message == NULL)
		return tl_fail_nomem(l);
	t->nwarnings++;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Typed field readers: absent (or null) is fine, a wrong type is not  */

const char *
tl_kind_name(const json_t *v)
{
	static const char *const names[8] = {
		"an object", "an array", "a string", "an integer", "a number", "a boolean", "a boolean",
		"null",
	};

	return json_kind_name(v, names);
}

json_t *
tl_field(const json_t *obj, const char *key)
{
	json_t *v = obj != NULL ? json_object_get(obj, key) : NULL;

	return json_is_null(v) ? NULL : v;
}

/* obj.key when it is of JSON type want (named what in the error); absent gives NULL. */
static int
get_typed(struct loader *l, const json_t *obj, const char *key, json_type want, const char *what,
    json_t **out)
{
	json_t *v = tl_field(obj, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (json_typeof(v) != want)
		return tl_fail_at(l, key, "expected %s, found %s", what, tl_kind_name(v));
	*out = v;
	return 0;
}

int
tl_get_string(struct loader *l, const json_t *obj, const char *key, bool required,
    const char **out)
{
	json_t *v;
	int rc;

	*out = NULL;
	if ((rc = get_typed(l, obj, key, JSON_STRING, "a string", &v)) != 0)
		return rc;
	if (v == NULL && required)
		return tl_fail(l, "\"%s\" is missing", key);
	*out = v != NULL ? json_string_value(v) : NULL;
	return 0;
}

int
tl_get_object(struct loader *l, const json_t *obj, const char *key, json_t **out)
{
	return get_typed(l, obj, key, JSON_OBJECT, "an object", out);
}

int
tl_get_array(struct loader *l, const json_t *obj, const char *key, json_t **out)
{
	return get_typed(l, obj, key, JSON_ARRAY, "an array", out);
}

int
tl_load_array(struct loader *l, const json_t *obj, const char *key, size_t elem, void *out,
    size_t *n, tl_elem_load *load, void *arg)
{
	json_t *arr, *v;
	size_t i, old, old2;
	char *base;
	int rc;

	if ((rc = tl_get_array(l, obj, key, &arr)) != 0 || arr == NULL || json_array_size(arr) == 0)
		return rc;
	if ((base = tl_arena_alloc(l->arena, json_array_size(arr) * elem)) == NULL)
		return tl_fail_nomem(l);
	memcpy(out, &base, sizeof(base));
	*n = json_array_size(arr);
	old = tl_ptr_push(l, key);
	json_array_foreach(arr, i, v) {
		old2 = tl_ptr_push_index(l, i);
		if ((rc = load(l, base + i * elem, v, arg)) != 0)
			return rc;
		tl_ptr_pop(l, old2);
	}
	tl_ptr_pop(l, old);
	return 0;
}

/* ARM sends some booleans as "True"/"False" strings. */
int
tl_get_bool(struct loader *l, const json_t *obj, const char *key, bool def, bool *out)
{
	json_t *v = tl_field(obj, key);

	*out = def;
	if (v == NULL)
		return 0;
	if (json_is_boolean(v)) {
		*out = json_is_true(v);
		return 0;
	}
	if (json_is_string(v) && (tl_ascii_eq(json_string_value(v), "true") ||
	    tl_ascii_eq(json_string_value(v), "false"))) {
		*out = json_truthy(v, def);
		return 0;
	}
	if (json_is_string(v))
		return tl_fail_at(l, key, "expected a boolean or \"True\"/\"False\", found \"%s\"",
		    json_string_value(v));
	return tl_fail_at(l, key, "expected a boolean, found %s", tl_kind_name(v));
}

/* obj.key.id, where obj.key is a reference object {"id": "..."}. */
int
tl_get_ref(struct loader *l, const json_t *obj, const char *key, const char **out)
{
	json_t *ref;
	size_t old;
	int rc;

	*out = NULL;
	if ((rc = tl_get_object(l, obj, key, &ref)) != 0 || ref == NULL)
		return rc;
	old = tl_ptr_push(l, key);
	rc = tl_get_string(l, ref, "id", false, out);
	tl_ptr_pop(l, old);
	return rc;
}

/* The string at the current pointer, parsed as a prefix. */
int
tl_parse_prefix(struct loader *l, const json_t *v, struct cidr *out)
{
	struct nw_err e = { 0 };

	if (!json_is_string(v))
		return tl_fail(l, "expected a prefix string, found %s", tl_kind_name(v));
	if (cidr_parse(out, json_string_value(v), &e) != 0)
		return tl_fail(l, "%s", e.msg);
	return 0;
}

/* obj.key as an array of prefixes; absent gives none. */
int
tl_get_prefixes(struct loader *l, const json_t *obj, const char *key, struct topo_prefixes *out)
{
	json_t *arr, *v;
	size_t i, old, old2;
	int rc;

	out->v = NULL;
	out->n = 0;
	if ((rc = tl_get_array(l, obj, key, &arr)) != 0 || arr == NULL)
		return rc;
	if (json_array_size(arr) == 0)
		return 0;
	out->v = tl_arena_alloc(l->arena, json_array_size(arr) * sizeof(*out->v));
	if (out->v == NULL)
		return tl_fail_nomem(l);
	old = tl_ptr_push(l, key);
	json_array_foreach(arr, i, v) {
		old2 = tl_ptr_push_index(l, i);
		if ((rc = tl_parse_prefix(l, v, &out->v[i])) != 0)
			return rc;
		tl_ptr_pop(l, old2);
	}
	tl_ptr_pop(l, old);
	out->n = json_array_size(arr);
	return 0;
}

/* obj.key.addressPrefixes, where obj.key is an AddressSpace object. */
int
tl_get_address_space(struct loader *l, const json_t *obj, const char *key,
    struct topo_prefixes *out, bool *present)
{
	json_t *space;
	size_t old;
	int rc;

	out->v = NULL;
	out->n = 0;
	if (present != NULL)
		*present = false;
	if ((rc = tl_get_object(l, obj, key, &space)) != 0 || space == NULL)
		return rc;
	if (present != NULL)
		*present = true;
	old = tl_ptr_push(l, key);
	rc = tl_get_prefixes(l, space, "addressPrefixes", out);
	tl_ptr_pop(l, old);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Ids                                                                 */

static const struct {
	const char *name;
	enum topo_type type;
} typed[] = {
	{ TYPE_VNET, TOPO_VNET },
	{ TYPE_GATEWAY, TOPO_GATEWAY },
	{ TYPE_PUBLIC_IP, TOPO_PUBLIC_IP },
	{ TYPE_CONNECTION, TOPO_CONNECTION },
	{ TYPE_CIRCUIT, TOPO_CIRCUIT },
	{ TYPE_ROUTE_TABLE, TOPO_ROUTE_TABLE },
	{ TYPE_PRIVATE_ENDPOINT, TOPO_PRIVATE_ENDPOINT },
	{ TYPE_NIC, TOPO_NIC },
	{ TYPE_NETWORK_MANAGER, TOPO_NETWORK_MANAGER },
	{ TYPE_NETWORK_GROUP, TOPO_NETWORK_GROUP },
	{ TYPE_STATIC_MEMBER, TOPO_STATIC_MEMBER },
	{ TYPE_CONNECTIVITY_CONFIG, TOPO_CONNECTIVITY_CONFIG },
};

static enum topo_type
classify(const char *type_name)
{
	size_t i;

	if (!ascii_eq_n(type_name, "Microsoft.Network/", 18))
		return TOPO_OTHER;
	for (i = 0; i < sizeof(typed) / sizeof(typed[0]); i++)
		if (tl_ascii_eq(type_name + 18, typed[i].name + 18))
			return typed[i].type;
	return TOPO_OTHER;
}

/* The segment after "/<key>/" at s (case-insensitive key), or NULL. */
static const char *
id_segment(const char *s, const char *key, size_t *len)
{
	size_t klen = strlen(key);
	const char *end;

	if (s[0] != '/' || !ascii_eq_n(s + 1, key, klen) || s[1 + klen] != '/')
		return NULL;
	s += klen + 2;
	end = strchr(s, '/');
	*len = end != NULL ? (size_t)(end - s) : strlen(s);
	return *len > 0 ? s : NULL;
}

/*
 * The length of the parent id of a child resource id that ends in
 * "/<segment>/<name>" (such as "/networkGroups/ng1"), or 0 when it does not.
 */
size_t
tl_id_parent_len(const char *id, const char *segment)
{
	size_t n = strlen(id), slen = strlen(segment), i;

	if (n == 0 || id[n - 1] == '/')
		return 0;
	for (i = n; i > 0 && id[i - 1] != '/'; i--)
		;
	/* id[i - 1] is the '/' before the name; the segment ends there */
	if (i < slen + 2 || id[i - 1] != '/')
		return 0;
	if (!ascii_eq_n(id + i - 1 - slen, segment, slen) || id[i - 2 - slen] != '/')
		return 0;
	return i - 2 - slen;
}

static const char *
intern(struct loader *l, const char *s, size_t len)
{
	struct topology_index *ix = l->t->index;
	char *copy;
	const char *hit = index_get(ix, &intern_scope, s, len);

	/* Case-insensitive hit, but casing is kept: only reuse an exact match. */
	if (hit != NULL && memcmp(hit, s, len) == 0)
		return hit;
	copy = arena_strndup(l->arena, s, len);
	if (copy == NULL)
		return NULL;
	if (hit == NULL && tl_index_put(ix, &intern_scope, copy, len, copy, NULL) < 0)
		return NULL;
	return copy;
}

/*
 * Fills subscription and resource group from /subscriptions/{s}/resourceGroups/{g}/...
 * Returns 0 when both were found, 1 when not (the fields stay NULL or
 * hold what was found), NW_ENOMEM.
 */
static int
parse_id_scope(struct loader *l, struct topo_resource *r)
{
	const char *sub, *rg;
	size_t slen, glen;

	sub = id_segment(r->id, "subscriptions", &slen);
	if (sub == NULL)
		return 1;
	if ((r->subscription = intern(l, sub, slen)) == NULL)
		return NW_ENOMEM;
	rg = id_segment(sub + slen, "resourceGroups", &glen);
	if (rg == NULL)
		return 1;
	if ((r->resource_group = intern(l, rg, glen)) == NULL)
		return NW_ENOMEM;
	if (!ascii_eq_n(rg + glen, "/providers/", 11) || rg[glen + 11] == '\0')
		return 1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Look-ups                                                            */

struct topo_resource *
tl_find_n(const struct topology *t, const char *id, size_t len)
{
	return index_get(t->index, NULL, id, len);
}

struct topo_resource *
topology_find(const struct topology *t, const char *id)
{
	if (t == NULL || id == NULL)
		return NULL;
	return tl_find_n(t, id, strlen(id));
}

static void *
find_view(const struct topology *t, const char *id, enum topo_type type)
{
	struct topo_resource *r = topology_find(t, id);

	return r != NULL && r->type == type ? r->view : NULL;
}

struct topo_vnet *
topology_find_vnet(const struct topology *t, const char *id)
{
	return find_view(t, id, TOPO_VNET);
}

/* Splits "<vnet id>/subnets/<name>"; false when id is not of that form. */
bool
tl_split_subnet_id(const char *id, size_t *vnet_len, const char **name)
{
	size_t n = id != NULL ? tl_id_parent_len(id, "subnets") : 0;

	if (n == 0)
		return false;
	*vnet_len = n;
	*name = id + n + strlen("/subnets/");
	return true;
}

struct topo_subnet *
topology_find_subnet(const struct topology *t, const char *id)
{
	struct topo_resource *r;
	const char *name;
	size_t vlen;

	if (t == NULL || !tl_split_subnet_id(id, &vlen, &name))
		return NULL;
	r = tl_find_n(t, id, vlen);
	if (r == NULL || r->type != TOPO_VNET)
		return NULL;
	return index_get(t->index, r->view, name, strlen(name));
}

struct topo_vnet *
topology_find_vnet_by_name(const struct topology *t, const char *name)
{
	struct topo_vnet *best = NULL;
	size_t i;

	if (t == NULL || name == NULL)
		return NULL;
	for (i = 0; i < t->nvnets; i++) {
		struct topo_vnet *v = &t->vnets[i];

		if (!tl_ascii_eq(v->res->name, name))
			continue;
		if (best == NULL || topo_id_order(v->res->id, best->res->id) < 0)
			best = v;
	}
	return best;
}

/* obj[key], exactly or else ignoring ASCII case; a string or NULL. */
static const char *
lookup_str_ci(const json_t *obj, const char *key)
{
	const char *k;
	json_t *v;

	if (!json_is_object(obj) || key == NULL)
		return NULL;
	v = json_object_get(obj, key);
	if (v != NULL)
		return json_is_string(v) ? json_string_value(v) : NULL;
	json_object_foreach((json_t *)obj, k, v) {
		if (tl_ascii_eq(k, key))
			return json_is_string(v) ? json_string_value(v) : NULL;
	}
	return NULL;
}

const char *
topology_feature_state(const struct topology *t, const char *name)
{
	if (t == NULL)
		return NULL;
	return lookup_str_ci(json_path(t->root, "observed", "features", NULL), name);
}

const char *
topology_tag(const struct topo_resource *r, const char *key)
{
	if (r == NULL)
		return NULL;
	return lookup_str_ci(json_object_get(r->json, "tags"), key);
}

/* ------------------------------------------------------------------ */
/* Pass 1: every resource's id, type, name, location and tags; the index */

static int
load_resource_head(struct loader *l, size_t i, json_t *obj, struct topo_resource *r)
{
	json_t *tags, *v;
	const char *key, *slash;
	int rc;

	if (!json_is_object(obj))
		return tl_fail(l, "expected a resource object, found %s", tl_kind_name(obj));
	r->index = i;
	r->json = obj;
	if ((rc = tl_get_string(l, obj, "id", false, &r->id)) != 0)
		return rc;
	if (r->id == NULL)
		return tl_fail(l, "resource has no \"id\"");
	if ((rc = tl_get_string(l, obj, "type", false, &r->type_name)) != 0)
		return rc;
	if (r->type_name == NULL)
		return tl_fail(l, "resource \"%s\" has no \"type\"", r->id);
	if ((rc = tl_get_string(l, obj, "name", false, &r->name)) != 0)
		return rc;
	if (r->name == NULL) {
		/* ARM always sends a name; a hand-written file may leave it to the id. */
		slash = strrchr(r->id, '/');
		r->name = slash != NULL ? slash + 1 : r->id;
		if (r->name[0] == '\0')
			return tl_fail_at(l, "id", "resource has no \"name\" and its id \"%s\" has none to give",
			    r->id);
	}
	if ((rc = tl_get_string(l, obj, "location", false, &r->location)) != 0)
		return rc;
	if ((rc = tl_get_object(l, obj, "tags", &tags)) != 0)
		return rc;
	if (tags != NULL) {
		json_object_foreach(tags, key, v) {
			if (!json_is_string(v)) {
				size_t old = tl_ptr_push(l, "tags");
				rc = tl_fail_at(l, key, "tag value must be a string, found %s", tl_kind_name(v));
				tl_ptr_pop(l, old);
				return rc;
			}
		}
	}
	r->type = classify(r->type_name);
	rc = parse_id_scope(l, r);
	if (rc < 0)
		return tl_fail_nomem(l);
	if (rc > 0 && r->type != TOPO_OTHER)
		return tl_fail_at(l, "id", "resource id \"%s\" is not of the form "
		    "/subscriptions/{subscription}/resourceGroups/{group}/providers/...", r->id);
	if (r->type != TOPO_OTHER) {
		json_t *props = tl_field(obj, "properties");
		if (props != NULL && !json_is_object(props))
			return tl_fail_at(l, "properties", "expected an object, found %s", tl_kind_name(props));
	}
	return 0;
}

static int
load_pass_index(struct loader *l)
{
	struct topology *t = l->t;
	size_t i, old;
	json_t *obj;
	int rc;

	t->nres = json_array_size(t->resources);
	if (t->nres > 0) {
		t->res = tl_arena_alloc(l->arena, t->nres * sizeof(*t->res));
		if (t->res == NULL)
			return tl_fail_nomem(l);
	}
	if (index_grow(t->index, t->nres + 16) != 0)
		return tl_fail_nomem(l);
	old = tl_ptr_push(l, "resources");
	json_array_foreach(t->resources, i, obj) {
		struct topo_resource *r = &t->res[i];
		struct topo_resource *prev = NULL;
		size_t old2 = tl_ptr_push_index(l, i);

		if ((rc = load_resource_head(l, i, obj, r)) != 0)
			return rc;
		rc = tl_index_put(t->index, NULL, r->id, strlen(r->id), r, (void **)&prev);
		if (rc < 0)
			return tl_fail_nomem(l);
		if (rc > 0)
			return tl_fail_at(l, "id", "duplicate resource id \"%s\": /resources/%zu/id has \"%s\" "
			    "(ids are compared ignoring case)", r->id, prev->index, prev->id);
		tl_ptr_pop(l, old2);
	}
	tl_ptr_pop(l, old);
	return 0;
}

/* Gives each typed resource its view slot, so links can be made before views are filled. */
static int
load_pass_slots(struct loader *l)
{
	struct topology *t = l->t;
	size_t counts[TOPO_CONNECTIVITY_CONFIG + 1] = { 0 };
	size_t i;

#define ALLOC_VIEWS(field, type)                                                   \
	do {                                                                        \
		if (counts[type] > 0) {                                             \
			t->field = tl_arena_alloc(l->arena, counts[type] * sizeof(*t->field)); \
			if (t->field == NULL)                                       \
				return tl_fail_nomem(l);                               \
		}                                                                   \
	} while (0)

	for (i = 0; i < t->nres; i++)
		counts[t->res[i].type]++;
	ALLOC_VIEWS(vnets, TOPO_VNET);
	ALLOC_VIEWS(gateways, TOPO_GATEWAY);
	ALLOC_VIEWS(public_ips, TOPO_PUBLIC_IP);
	ALLOC_VIEWS(connections, TOPO_CONNECTION);
	ALLOC_VIEWS(circuits, TOPO_CIRCUIT);
	ALLOC_VIEWS(route_tables, TOPO_ROUTE_TABLE);
	ALLOC_VIEWS(private_endpoints, TOPO_PRIVATE_ENDPOINT);
	ALLOC_VIEWS(nics, TOPO_NIC);
	ALLOC_VIEWS(managers, TOPO_NETWORK_MANAGER);
	ALLOC_VIEWS(groups, TOPO_NETWORK_GROUP);
	ALLOC_VIEWS(members, TOPO_STATIC_MEMBER);
	ALLOC_VIEWS(configs, TOPO_CONNECTIVITY_CONFIG);
#undef ALLOC_VIEWS

#define SLOT(field, n)                          \
	do {                                    \
		t->field[t->n].res = r;         \
		r->view = &t->field[t->n++];    \
	} while (0)

	for (i = 0; i < t->nres; i++) {
		struct topo_resource *r = &t->res[i];

		switch (r->type) {
		case TOPO_VNET: SLOT(vnets, nvnets); break;
		case TOPO_GATEWAY: SLOT(gateways, ngateways); break;
		case TOPO_PUBLIC_IP: SLOT(public_ips, npublic_ips); break;
		case TOPO_CONNECTION: SLOT(connections, nconnections); break;
		case TOPO_CIRCUIT: SLOT(circuits, ncircuits); break;
		case TOPO_ROUTE_TABLE: SLOT(route_tables, nroute_tables); break;
		case TOPO_PRIVATE_ENDPOINT: SLOT(private_endpoints, nprivate_endpoints); break;
		case TOPO_NIC: SLOT(nics, nnics); break;
		case TOPO_NETWORK_MANAGER: SLOT(managers, nmanagers); break;
		case TOPO_NETWORK_GROUP: SLOT(groups, ngroups); break;
		case TOPO_STATIC_MEMBER: SLOT(members, nmembers); break;
		case TOPO_CONNECTIVITY_CONFIG: SLOT(configs, nconfigs); break;
		case TOPO_OTHER: break;
		}
	}
#undef SLOT
	return 0;
}

static int
load_top(struct loader *l)
{
	json_t *root = l->t->root, *format, *subs, *v;
	const char *cloud;
	size_t i;
	int rc;

	format = json_object_get(root, "format");
	if (format == NULL)
		return tl_fail(l, "no \"format\": a topology starts with \"format\": \"%s\"",
		    TOPOLOGY_FORMAT);
	if (!json_is_string(format))
		return tl_fail_at(l, "format", "expected the string \"%s\", found %s", TOPOLOGY_FORMAT,
		    tl_kind_name(format));
	if (strcmp(json_string_value(format), TOPOLOGY_FORMAT) != 0)
		return tl_fail_at(l, "format", "unknown format \"%s\", expected \"%s\"",
		    json_string_value(format), TOPOLOGY_FORMAT);
	if ((rc = tl_get_string(l, root, "cloud", false, &cloud)) != 0)
		return rc;
	if ((rc = tl_get_array(l, root, "subscriptions", &subs)) != 0)
		return rc;
	json_array_foreach(subs, i, v) {
		if (!json_is_string(v)) {
			size_t old = tl_ptr_push(l, "subscriptions");
			tl_ptr_push_index(l, i);
			rc = tl_fail(l, "expected a subscription id string, found %s", tl_kind_name(v));
			tl_ptr_pop(l, old);
			return rc;
		}
	}
	v = json_object_get(root, "resources");
	if (v == NULL)
		return tl_fail(l, "no \"resources\": a topology has a \"resources\" array (it may be empty)");
	if (!json_is_array(v))
		return tl_fail_at(l, "resources", "expected an array of resources, found %s", tl_kind_name(v));
	l->t->resources = v;
	return 0;
}

int
topology_load_json(struct topology **out, json_t *root, const char *name, struct nw_err *err)
{
	struct loader l = { 0 };
	struct topology *t = NULL;
	int rc;

	*out = NULL;
	if (name == NULL)
		name = "<memory>";
	if (root == NULL)
		return err_set(err, NW_EINPUT, "%s: no document", name);
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		rc = err_set(err, NW_ENOMEM, "%s: out of memory loading the topology", name);
		goto done;
	}
	t->root = root;
	root = NULL;
	t->arena = l.arena = calloc(1, sizeof(struct arena));
	t->index = calloc(1, sizeof(struct topology_index));
	if (t->arena != NULL)
		t->source = arena_strndup(l.arena, name, strlen(name));
	if (t->source == NULL || t->index == NULL) {
		rc = err_set(err, NW_ENOMEM, "%s: out of memory loading the topology", name);
		goto done;
	}
	l.t = t;
	l.err = err;
	if (!json_is_object(t->root)) {
		rc = tl_fail(&l, "the top level is %s, not an object: a topology is an object with "
		    "\"format\": \"%s\"", tl_kind_name(t->root), TOPOLOGY_FORMAT);
		goto done;
	}
	if ((rc = load_top(&l)) != 0 ||
	    (rc = load_pass_index(&l)) != 0 ||
	    (rc = load_pass_slots(&l)) != 0 ||
	    (rc = tl_load_pass_views(&l)) != 0 ||
	    (rc = tl_load_observed(&l)) != 0 ||
	    (rc = tl_load_pass_backlinks(&l)) != 0 ||
	    (rc = tl_load_ars(&l)) != 0)
		goto done;
	*out = t;
	t = NULL;
	rc = 0;
done:
	free(l.refs);
	free(l.space);
	topology_free(t);
	json_decref(root);
	return rc;
}


void
topology_free(struct topology *t)
{
	if (t == NULL)
		return;
	free(t->warnings);
	index_free(t->index);
	arena_free(t->arena);
	json_decref(t->root);
	free(t);
}
