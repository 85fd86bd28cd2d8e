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
#include "plan/topology.h"

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

static bool
ascii_eq(const char *a, const char *b)
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

/* ------------------------------------------------------------------ */
/* Arena: every view lives here and goes in one free                   */

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

struct arena {
	struct arena_chunk *head;
};

#define ARENA_CHUNK ((size_t)256 << 10)

static void *
arena_alloc(struct arena *a, size_t size)
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
	char *p = arena_alloc(a, n + 1);

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

static uint32_t
hash_key(const void *scope, const char *key, size_t len)
{
	uint64_t h = 1469598103934665603ULL ^ ((uint64_t)(uintptr_t)scope * 0x9E3779B97F4A7C15ULL);
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= ascii_lower((unsigned char)key[i]);
		h *= 1099511628211ULL;
	}
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
		if (e->hash == hash && e->scope == scope && e->keylen == len &&
		    ascii_eq_n(e->key, key, len))
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
static int
index_put(struct topology_index *ix, const void *scope, const char *key, size_t len,
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

#define NEXT_HOP_USER_LIST \
	"VirtualNetworkGateway, VnetLocal, Internet, VirtualAppliance, VirtualApplianceEcmp, None"

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
		if (next_hops[i].user && ascii_eq(s, next_hops[i].name))
			return next_hops[i].nh;
	return NH_UNKNOWN;
}

/* ------------------------------------------------------------------ */
/* The loader's state: where we are (a JSON pointer) and scratch space */

#define PTR_MAX 1024

struct pfx_ref {
	struct cidr c;
	struct cidr last; /* the prefix's last address */
	size_t subnet;    /* index in the VNet's subnets */
	long slot;        /* -1: addressPrefix; k: addressPrefixes[k] */
};

struct loader {
	struct topology *t;
	struct arena *arena;
	struct nw_err *err;
	char ptr[PTR_MAX];
	size_t plen;
	size_t warn_cap;
	struct pfx_ref *refs; /* per-VNet scratch, reused */
	size_t refs_cap;
	struct cidr *space;   /* per-VNet scratch, reused */
	size_t space_cap;
};

static size_t
ptr_push(struct loader *l, const char *tok)
{
	size_t old = l->plen, n = l->plen;
	char *p = l->ptr;

	if (n + 2 < PTR_MAX)
		p[n++] = '/';
	for (; *tok != '\0' && n + 3 < PTR_MAX; tok++) {
		if (*tok == '~') {
			p[n++] = '~';
			p[n++] = '0';
		} else if (*tok == '/') {
			p[n++] = '~';
			p[n++] = '1';
		} else {
			p[n++] = *tok;
		}
	}
	p[n] = '\0';
	l->plen = n;
	return old;
}

static size_t
ptr_push_index(struct loader *l, size_t i)
{
	char tok[24];
	char *q = tok + sizeof(tok) - 1;

	*q = '\0';
	do {
		*--q = (char)('0' + i % 10);
		i /= 10;
	} while (i > 0);
	return ptr_push(l, q);
}

static void
ptr_pop(struct loader *l, size_t old)
{
	l->plen = old;
	l->ptr[old] = '\0';
}

/* Sets l->ptr to /resources/<i> (for the passes that revisit a resource). */
static void
ptr_resource(struct loader *l, size_t i)
{
	ptr_pop(l, 0);
	ptr_push(l, "resources");
	ptr_push_index(l, i);
}

/* "<source>: <pointer>: <message>", NW_EINPUT. */
static int fail(struct loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(struct loader *l, const char *fmt, ...)
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

static int
fail_nomem(struct loader *l)
{
	return err_set(l->err, NW_ENOMEM, "%s: out of memory loading the topology", l->t->source);
}

/* Same as fail, one key below the current pointer. */
static int fail_at(struct loader *l, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail_at(struct loader *l, const char *key, const char *fmt, ...)
{
	char msg[NW_ERR_MSG_MAX];
	size_t old = ptr_push(l, key);
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rc = fail(l, "%s", msg);
	ptr_pop(l, old);
	return rc;
}

/* Records a warning at the current pointer (plus key when not NULL). */
static int warn(struct loader *l, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
warn(struct loader *l, const char *key, const char *fmt, ...)
{
	struct topology *t = l->t;
	char msg[NW_ERR_MSG_MAX];
	size_t old = l->plen;
	struct topo_warning *w;
	va_list ap;

	if (t->nwarnings == l->warn_cap) {
		size_t cap = l->warn_cap == 0 ? 16 : l->warn_cap * 2;
		struct topo_warning *nw = realloc(t->warnings, cap * sizeof(*nw));
		if (nw == NULL)
			return fail_nomem(l);
		t->warnings = nw;
		l->warn_cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (key != NULL)
		ptr_push(l, key);
	w = &t->warnings[t->nwarnings];
	w->pointer = strdup(l->ptr);
	w->message = strdup(msg);
	ptr_pop(l, old);
	if (w->pointer == NULL || w->message == NULL) {
		free(w->pointer);
		free(w->message);
		return fail_nomem(l);
	}
	t->nwarnings++;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Typed field readers: absent (or null) is fine, a wrong type is not  */

static const char *
kind_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
	default:
		return "null";
	}
}

static json_t *
field(const json_t *obj, const char *key)
{
	json_t *v = obj != NULL ? json_object_get(obj, key) : NULL;

	return json_is_null(v) ? NULL : v;
}

static int
get_string(struct loader *l, const json_t *obj, const char *key, bool required,
    const char **out)
{
	json_t *v = field(obj, key);

	*out = NULL;
	if (v == NULL) {
		if (required)
			return fail(l, "\"%s\" is missing", key);
		return 0;
	}
	if (!json_is_string(v))
		return fail_at(l, key, "expected a string, found %s", kind_name(v));
	*out = json_string_value(v);
	return 0;
}

static int
get_object(struct loader *l, const json_t *obj, const char *key, json_t **out)
{
	json_t *v = field(obj, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_object(v))
		return fail_at(l, key, "expected an object, found %s", kind_name(v));
	*out = v;
	return 0;
}

static int
get_array(struct loader *l, const json_t *obj, const char *key, json_t **out)
{
	json_t *v = field(obj, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_array(v))
		return fail_at(l, key, "expected an array, found %s", kind_name(v));
	*out = v;
	return 0;
}

/* ARM sends some booleans as "True"/"False" strings. */
static int
get_bool(struct loader *l, const json_t *obj, const char *key, bool def, bool *out)
{
	json_t *v = field(obj, key);

	*out = def;
	if (v == NULL)
		return 0;
	if (json_is_boolean(v)) {
		*out = json_is_true(v);
		return 0;
	}
	if (json_is_string(v) && (ascii_eq(json_string_value(v), "true") ||
	    ascii_eq(json_string_value(v), "false"))) {
		*out = json_truthy(v, def);
		return 0;
	}
	if (json_is_string(v))
		return fail_at(l, key, "expected a boolean or \"True\"/\"False\", found \"%s\"",
		    json_string_value(v));
	return fail_at(l, key, "expected a boolean, found %s", kind_name(v));
}

/* obj.key.id, where obj.key is a reference object {"id": "..."}. */
static int
get_ref(struct loader *l, const json_t *obj, const char *key, const char **out)
{
	json_t *ref;
	size_t old;
	int rc;

	*out = NULL;
	if ((rc = get_object(l, obj, key, &ref)) != 0 || ref == NULL)
		return rc;
	old = ptr_push(l, key);
	rc = get_string(l, ref, "id", false, out);
	ptr_pop(l, old);
	return rc;
}

/* The string at the current pointer, parsed as a prefix. */
static int
parse_prefix(struct loader *l, const json_t *v, struct cidr *out)
{
	struct nw_err e = { 0 };

	if (!json_is_string(v))
		return fail(l, "expected a prefix string, found %s", kind_name(v));
	if (cidr_parse(out, json_string_value(v), &e) != 0)
		return fail(l, "%s", e.msg);
	return 0;
}

/* obj.key as an array of prefixes; absent gives none. */
static int
get_prefixes(struct loader *l, const json_t *obj, const char *key, struct topo_prefixes *out)
{
	json_t *arr, *v;
	size_t i, old, old2;
	int rc;

	out->v = NULL;
	out->n = 0;
	if ((rc = get_array(l, obj, key, &arr)) != 0 || arr == NULL)
		return rc;
	if (json_array_size(arr) == 0)
		return 0;
	out->v = arena_alloc(l->arena, json_array_size(arr) * sizeof(*out->v));
	if (out->v == NULL)
		return fail_nomem(l);
	old = ptr_push(l, key);
	json_array_foreach(arr, i, v) {
		old2 = ptr_push_index(l, i);
		if ((rc = parse_prefix(l, v, &out->v[i])) != 0)
			return rc;
		ptr_pop(l, old2);
	}
	ptr_pop(l, old);
	out->n = json_array_size(arr);
	return 0;
}

/* obj.key.addressPrefixes, where obj.key is an AddressSpace object. */
static int
get_address_space(struct loader *l, const json_t *obj, const char *key,
    struct topo_prefixes *out, bool *present)
{
	json_t *space;
	size_t old;
	int rc;

	out->v = NULL;
	out->n = 0;
	if (present != NULL)
		*present = false;
	if ((rc = get_object(l, obj, key, &space)) != 0 || space == NULL)
		return rc;
	if (present != NULL)
		*present = true;
	old = ptr_push(l, key);
	rc = get_prefixes(l, space, "addressPrefixes", out);
	ptr_pop(l, old);
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
		if (ascii_eq(type_name + 18, typed[i].name + 18))
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
static size_t
id_parent_len(const char *id, const char *segment)
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
	if (hit == NULL && index_put(ix, &intern_scope, copy, len, copy, NULL) < 0)
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

static struct topo_resource *
find_n(const struct topology *t, const char *id, size_t len)
{
	return index_get(t->index, NULL, id, len);
}

struct topo_resource *
topology_find(const struct topology *t, const char *id)
{
	if (t == NULL || id == NULL)
		return NULL;
	return find_n(t, id, strlen(id));
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
static bool
split_subnet_id(const char *id, size_t *vnet_len, const char **name)
{
	size_t n = id != NULL ? id_parent_len(id, "subnets") : 0;

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

	if (t == NULL || !split_subnet_id(id, &vlen, &name))
		return NULL;
	r = find_n(t, id, vlen);
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

		if (!ascii_eq(v->res->name, name))
			continue;
		if (best == NULL || topo_id_compare(v->res->id, best->res->id) < 0 ||
		    (topo_id_compare(v->res->id, best->res->id) == 0 &&
		     strcmp(v->res->id, best->res->id) < 0))
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
		if (ascii_eq(k, key))
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
		return fail(l, "expected a resource object, found %s", kind_name(obj));
	r->index = i;
	r->json = obj;
	if ((rc = get_string(l, obj, "id", false, &r->id)) != 0)
		return rc;
	if (r->id == NULL)
		return fail(l, "resource has no \"id\"");
	if ((rc = get_string(l, obj, "type", false, &r->type_name)) != 0)
		return rc;
	if (r->type_name == NULL)
		return fail(l, "resource \"%s\" has no \"type\"", r->id);
	if ((rc = get_string(l, obj, "name", false, &r->name)) != 0)
		return rc;
	if (r->name == NULL) {
		/* ARM always sends a name; a hand-written file may leave it to the id. */
		slash = strrchr(r->id, '/');
		r->name = slash != NULL ? slash + 1 : r->id;
		if (r->name[0] == '\0')
			return fail_at(l, "id", "resource has no \"name\" and its id \"%s\" has none to give",
			    r->id);
	}
	if ((rc = get_string(l, obj, "location", false, &r->location)) != 0)
		return rc;
	if ((rc = get_object(l, obj, "tags", &tags)) != 0)
		return rc;
	if (tags != NULL) {
		json_object_foreach(tags, key, v) {
			if (!json_is_string(v)) {
				size_t old = ptr_push(l, "tags");
				rc = fail_at(l, key, "tag value must be a string, found %s", kind_name(v));
				ptr_pop(l, old);
				return rc;
			}
		}
	}
	r->type = classify(r->type_name);
	rc = parse_id_scope(l, r);
	if (rc < 0)
		return fail_nomem(l);
	if (rc > 0 && r->type != TOPO_OTHER)
		return fail_at(l, "id", "resource id \"%s\" is not of the form "
		    "/subscriptions/{subscription}/resourceGroups/{group}/providers/...", r->id);
	if (r->type != TOPO_OTHER) {
		json_t *props = field(obj, "properties");
		if (props != NULL && !json_is_object(props))
			return fail_at(l, "properties", "expected an object, found %s", kind_name(props));
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
		t->res = arena_alloc(l->arena, t->nres * sizeof(*t->res));
		if (t->res == NULL)
			return fail_nomem(l);
	}
	if (index_grow(t->index, t->nres + 16) != 0)
		return fail_nomem(l);
	old = ptr_push(l, "resources");
	json_array_foreach(t->resources, i, obj) {
		struct topo_resource *r = &t->res[i];
		struct topo_resource *prev = NULL;
		size_t old2 = ptr_push_index(l, i);

		if ((rc = load_resource_head(l, i, obj, r)) != 0)
			return rc;
		rc = index_put(t->index, NULL, r->id, strlen(r->id), r, (void **)&prev);
		if (rc < 0)
			return fail_nomem(l);
		if (rc > 0)
			return fail_at(l, "id", "duplicate resource id \"%s\": /resources/%zu/id has \"%s\" "
			    "(ids are compared ignoring case)", r->id, prev->index, prev->id);
		ptr_pop(l, old2);
	}
	ptr_pop(l, old);
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
			t->field = arena_alloc(l->arena, counts[type] * sizeof(*t->field)); \
			if (t->field == NULL)                                       \
				return fail_nomem(l);                               \
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

/* ------------------------------------------------------------------ */
/* Pass 2: VNets (subnets, peerings, prefixes and their checks)        */

static bool
is_infrastructure_subnet(const char *name)
{
	static const char *const names[] = {
		"GatewaySubnet", "AzureFirewallSubnet", "AzureFirewallManagementSubnet",
		"RouteServerSubnet", "AzureBastionSubnet",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (ascii_eq(name, names[i]))
			return true;
	return false;
}

/* A name from obj.name, else the last segment of obj.id; fails when neither. */
static int
get_child_name(struct loader *l, const json_t *obj, const char **id, const char **name,
    const char *what)
{
	const char *slash;
	int rc;

	if ((rc = get_string(l, obj, "id", false, id)) != 0)
		return rc;
	if ((rc = get_string(l, obj, "name", false, name)) != 0)
		return rc;
	if (*name == NULL && *id != NULL && (slash = strrchr(*id, '/')) != NULL && slash[1] != '\0')
		*name = slash + 1;
	if (*name == NULL || (*name)[0] == '\0')
		return fail(l, "%s has no \"name\"", what);
	return 0;
}

/* "<parent>/<segment>/<name>" in the arena, for children ARM listed without an id. */
static const char *
child_id(struct loader *l, const char *parent, const char *segment, const char *name)
{
	size_t n = strlen(parent) + strlen(segment) + strlen(name) + 3;
	char *s = arena_alloc(l->arena, n);

	if (s != NULL)
		snprintf(s, n, "%s/%s/%s", parent, segment, name);
	return s;
}

static int
load_subnet(struct loader *l, struct topo_vnet *v, size_t j, json_t *obj)
{
	struct topo_subnet *s = &v->subnets[j];
	json_t *props;
	struct topo_prefixes many;
	struct cidr one;
	bool has_one = false;
	size_t old, k;
	void *prev = NULL;
	int rc;

	if (!json_is_object(obj))
		return fail(l, "expected a subnet object, found %s", kind_name(obj));
	s->json = obj;
	s->vnet = v;
	if ((rc = get_child_name(l, obj, &s->id, &s->name, "subnet")) != 0)
		return rc;
	if (s->id == NULL && (s->id = child_id(l, v->res->id, "subnets", s->name)) == NULL)
		return fail_nomem(l);
	rc = index_put(l->t->index, v, s->name, strlen(s->name), s, &prev);
	if (rc < 0)
		return fail_nomem(l);
	if (rc > 0)
		return fail_at(l, "name", "duplicate subnet name \"%s\" in VNet \"%s\" (subnet \"%s\")",
		    s->name, v->res->name, ((struct topo_subnet *)prev)->name);
	s->is_gateway_subnet = ascii_eq(s->name, "GatewaySubnet");
	s->is_infrastructure = is_infrastructure_subnet(s->name);
	if ((rc = get_object(l, obj, "properties", &props)) != 0 || props == NULL)
		return rc;
	old = ptr_push(l, "properties");
	if (field(props, "addressPrefix") != NULL) {
		size_t o2 = ptr_push(l, "addressPrefix");
		if ((rc = parse_prefix(l, field(props, "addressPrefix"), &one)) != 0)
			return rc;
		ptr_pop(l, o2);
		has_one = true;
	}
	if ((rc = get_prefixes(l, props, "addressPrefixes", &many)) != 0)
		return rc;
	/* ARM sends addressPrefix for one prefix and addressPrefixes for several;
	 * a file may carry both, so the same prefix twice counts once. */
	if (has_one) {
		bool dup = false;
		for (k = 0; k < many.n; k++)
			dup = dup || cidr_equal(&many.v[k], &one);
		if (!dup) {
			struct cidr *nv = arena_alloc(l->arena, (many.n + 1) * sizeof(*nv));
			if (nv == NULL)
				return fail_nomem(l);
			nv[0] = one;
			if (many.n > 0)
				memcpy(nv + 1, many.v, many.n * sizeof(*nv));
			many.v = nv;
			many.n++;
		}
	}
	s->prefixes = many;
	if ((rc = get_ref(l, props, "routeTable", &s->route_table_id)) != 0)
		return rc;
	if ((rc = get_string(l, props, "privateEndpointNetworkPolicies", false,
	    &s->pe_network_policies)) != 0)
		return rc;
	ptr_pop(l, old);
	return 0;
}

static enum topo_peering_state
peering_state(const char *s)
{
	if (s == NULL)
		return PEERING_UNKNOWN;
	if (ascii_eq(s, "Initiated"))
		return PEERING_INITIATED;
	if (ascii_eq(s, "Connected"))
		return PEERING_CONNECTED;
	if (ascii_eq(s, "Disconnected"))
		return PEERING_DISCONNECTED;
	return PEERING_UNKNOWN;
}

static int
load_peering(struct loader *l, struct topo_vnet *v, size_t j, json_t *obj)
{
	struct topo_peering *p = &v->peerings[j];
	struct topo_prefixes other;
	json_t *props;
	const char *state;
	bool present;
	size_t old;
	int rc;

	if (!json_is_object(obj))
		return fail(l, "expected a peering object, found %s", kind_name(obj));
	p->json = obj;
	p->vnet = v;
	p->allow_virtual_network_access = true;
	if ((rc = get_child_name(l, obj, &p->id, &p->name, "peering")) != 0)
		return rc;
	if (p->id == NULL &&
	    (p->id = child_id(l, v->res->id, "virtualNetworkPeerings", p->name)) == NULL)
		return fail_nomem(l);
	if ((rc = get_object(l, obj, "properties", &props)) != 0)
		return rc;
	if (props == NULL)
		return fail(l, "peering \"%s\" has no properties.remoteVirtualNetwork.id", p->name);
	old = ptr_push(l, "properties");
	if ((rc = get_ref(l, props, "remoteVirtualNetwork", &p->remote_id)) != 0)
		return rc;
	if (p->remote_id == NULL)
		return fail(l, "peering \"%s\" has no remoteVirtualNetwork.id", p->name);
	if ((rc = get_string(l, props, "peeringState", false, &state)) != 0)
		return rc;
	p->state = peering_state(state);
	if ((rc = get_bool(l, props, "allowVirtualNetworkAccess", true,
	    &p->allow_virtual_network_access)) != 0 ||
	    (rc = get_bool(l, props, "allowForwardedTraffic", false, &p->allow_forwarded_traffic)) != 0 ||
	    (rc = get_bool(l, props, "allowGatewayTransit", false, &p->allow_gateway_transit)) != 0 ||
	    (rc = get_bool(l, props, "useRemoteGateways", false, &p->use_remote_gateways)) != 0)
		return rc;
	if ((rc = get_address_space(l, props, "remoteVirtualNetworkAddressSpace",
	    &p->remote_prefixes, &present)) != 0)
		return rc;
	if ((rc = get_address_space(l, props, "remoteAddressSpace", &other, NULL)) != 0)
		return rc;
	if (!present)
		p->remote_prefixes = other;
	ptr_pop(l, old);
	return 0;
}

static int
cmp_cidr(const void *a, const void *b)
{
	return cidr_compare(a, b);
}

static int
cmp_pfx_ref(const void *a, const void *b)
{
	const struct pfx_ref *x = a, *y = b;
	int c = cidr_compare(&x->c, &y->c);

	if (c != 0)
		return c;
	if (x->subnet != y->subnet)
		return x->subnet < y->subnet ? -1 : 1;
	return x->slot < y->slot ? -1 : x->slot > y->slot;
}

/* Points l->ptr at the JSON string a pfx_ref came from (inside /resources/i/properties). */
static void
ptr_pfx_ref(struct loader *l, const struct pfx_ref *r)
{
	ptr_push(l, "subnets");
	ptr_push_index(l, r->subnet);
	ptr_push(l, "properties");
	if (r->slot < 0) {
		ptr_push(l, "addressPrefix");
	} else {
		ptr_push(l, "addressPrefixes");
		ptr_push_index(l, (size_t)r->slot);
	}
}

/* Which prefix of the subnet object this is: -1 addressPrefix, k addressPrefixes[k]. */
static long
prefix_slot(const struct topo_subnet *s, const struct cidr *c)
{
	json_t *props = json_object_get(s->json, "properties");
	json_t *one = json_object_get(props, "addressPrefix"), *arr, *v;
	struct cidr tmp;
	size_t k;

	if (json_is_string(one) && cidr_parse(&tmp, json_string_value(one), NULL) == 0 &&
	    cidr_equal(&tmp, c))
		return -1;
	arr = json_object_get(props, "addressPrefixes");
	json_array_foreach(arr, k, v) {
		if (json_is_string(v) && cidr_parse(&tmp, json_string_value(v), NULL) == 0 &&
		    cidr_equal(&tmp, c))
			return (long)k;
	}
	return -1;
}

/* "10.0.0.0/16, fd00::/48" for a message, cut short with "..." when long. */
static void
format_space(const struct topo_prefixes *p, char *out, size_t size)
{
	char buf[CIDR_STRLEN];
	size_t len = 0, m;

	out[0] = '\0';
	for (m = 0; m < p->n && len + CIDR_STRLEN + 8 < size; m++) {
		cidr_format(&p->v[m], buf);
		len += (size_t)snprintf(out + len, size - len, "%s%s", m > 0 ? ", " : "", buf);
	}
	if (m < p->n)
		snprintf(out + len, size - len, ", ...");
}

/*
 * Every subnet prefix inside the VNet's space, and no two subnets
 * overlapping: sorted once, then one sweep, so a VNet with thousands of
 * subnets costs n log n.
 */
static int
check_vnet_prefixes(struct loader *l, struct topo_vnet *v)
{
	struct pfx_ref *refs;
	struct cidr *space;
	size_t nrefs = 0, nspace = 0, i, j, k, cur;
	char buf[CIDR_STRLEN], buf2[CIDR_STRLEN], list[512];

	for (j = 0; j < v->nsubnets; j++)
		nrefs += v->subnets[j].prefixes.n;
	if (nrefs == 0)
		return 0;
	if (nrefs > l->refs_cap) {
		free(l->refs);
		l->refs_cap = nrefs * 2;
		if ((l->refs = malloc(l->refs_cap * sizeof(*l->refs))) == NULL) {
			l->refs_cap = 0;
			return fail_nomem(l);
		}
	}
	if (v->prefixes.n > l->space_cap) {
		free(l->space);
		l->space_cap = v->prefixes.n * 2;
		if ((l->space = malloc(l->space_cap * sizeof(*l->space))) == NULL) {
			l->space_cap = 0;
			return fail_nomem(l);
		}
	}
	refs = l->refs;
	space = l->space;

	/* The VNet's space without nested prefixes, sorted: the one prefix that
	 * can contain p is then the greatest one not after p. */
	if (v->prefixes.n > 0) {
		memcpy(space, v->prefixes.v, v->prefixes.n * sizeof(*space));
		qsort(space, v->prefixes.n, sizeof(*space), cmp_cidr);
		for (i = 0; i < v->prefixes.n; i++) {
			if (nspace > 0 && cidr_contains(&space[nspace - 1], &space[i]))
				continue;
			space[nspace++] = space[i];
		}
	}
	nrefs = 0;
	for (j = 0; j < v->nsubnets; j++) {
		struct topo_subnet *s = &v->subnets[j];

		for (k = 0; k < s->prefixes.n; k++) {
			struct pfx_ref *r = &refs[nrefs++];
			size_t lo = 0, hi = nspace;

			r->c = s->prefixes.v[k];
			r->last = cidr_last(&r->c);
			r->subnet = j;
			r->slot = -1; /* found only when a message needs it */
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;
				if (cidr_compare(&space[mid], &r->c) <= 0)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo > 0 && cidr_contains(&space[lo - 1], &r->c))
				continue;
			r->slot = prefix_slot(s, &r->c);
			ptr_pfx_ref(l, r);
			cidr_format(&r->c, buf);
			if (v->prefixes.n == 0)
				return fail(l, "subnet \"%s\" prefix %s lies outside the address space of "
				    "VNet \"%s\", which has none", s->name, buf, v->res->name);
			format_space(&v->prefixes, list, sizeof(list));
			return fail(l, "subnet \"%s\" prefix %s lies outside the address space of "
			    "VNet \"%s\" (%s)", s->name, buf, v->res->name, list);
		}
	}

	qsort(refs, nrefs, sizeof(*refs), cmp_pfx_ref);
	/* cur reaches furthest so far: sorted by start, a prefix that starts
	 * after cur's end also ends after it, and one that starts within it
	 * overlaps it. */
	cur = 0;
	for (i = 1; i < nrefs; i++) {
		struct pfx_ref *a = &refs[cur], *b = &refs[i];
		struct topo_subnet *sa, *sb;
		char other[PTR_MAX];
		size_t old;

		if (a->c.family != b->c.family || memcmp(b->c.addr, a->last.addr, sizeof(b->c.addr)) > 0) {
			cur = i;
			continue;
		}
		sa = &v->subnets[a->subnet];
		sb = &v->subnets[b->subnet];
		old = l->plen;
		a->slot = prefix_slot(sa, &a->c);
		b->slot = prefix_slot(sb, &b->c);
		ptr_pfx_ref(l, a);
		snprintf(other, sizeof(other), "%s", l->ptr);
		ptr_pop(l, old);
		ptr_pfx_ref(l, b);
		cidr_format(&a->c, buf);
		cidr_format(&b->c, buf2);
		if (a->subnet == b->subnet)
			return fail(l, "prefixes %s and %s of subnet \"%s\" overlap (the other is at %s)",
			    buf2, buf, sb->name, other);
		return fail(l, "subnet \"%s\" prefix %s overlaps subnet \"%s\" prefix %s at %s",
		    sb->name, buf2, sa->name, buf, other);
	}
	return 0;
}

static int
load_vnet(struct loader *l, struct topo_vnet *v)
{
	json_t *props, *arr, *obj;
	size_t j, old, old2, old3;
	int rc;

	if ((rc = get_object(l, v->res->json, "properties", &props)) != 0 || props == NULL)
		return rc;
	old = ptr_push(l, "properties");
	if ((rc = get_address_space(l, props, "addressSpace", &v->prefixes, NULL)) != 0)
		return rc;
	if ((rc = get_address_space(l, props, "summarizedGatewayPrefixes", &v->summarized, NULL)) != 0)
		return rc;
	if ((rc = get_string(l, props, "privateEndpointVNetPolicies", false, &v->pe_vnet_policies)) != 0)
		return rc;

	if ((rc = get_array(l, props, "subnets", &arr)) != 0)
		return rc;
	if (arr != NULL && json_array_size(arr) > 0) {
		v->subnets = arena_alloc(l->arena, json_array_size(arr) * sizeof(*v->subnets));
		if (v->subnets == NULL)
			return fail_nomem(l);
		v->nsubnets = json_array_size(arr);
		old2 = ptr_push(l, "subnets");
		json_array_foreach(arr, j, obj) {
			old3 = ptr_push_index(l, j);
			if ((rc = load_subnet(l, v, j, obj)) != 0)
				return rc;
			ptr_pop(l, old3);
		}
		ptr_pop(l, old2);
	}

	if ((rc = get_array(l, props, "virtualNetworkPeerings", &arr)) != 0)
		return rc;
	if (arr != NULL && json_array_size(arr) > 0) {
		v->peerings = arena_alloc(l->arena, json_array_size(arr) * sizeof(*v->peerings));
		if (v->peerings == NULL)
			return fail_nomem(l);
		v->npeerings = json_array_size(arr);
		old2 = ptr_push(l, "virtualNetworkPeerings");
		json_array_foreach(arr, j, obj) {
			old3 = ptr_push_index(l, j);
			if ((rc = load_peering(l, v, j, obj)) != 0)
				return rc;
			ptr_pop(l, old3);
		}
		ptr_pop(l, old2);
	}
	if ((rc = check_vnet_prefixes(l, v)) != 0)
		return rc;
	ptr_pop(l, old);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Pass 3: the other types, and every link, in document order          */

static struct topo_subnet *
link_subnet(struct loader *l, const char *subnet_id, const char *key, const char *what, int *rc)
{
	struct topo_subnet *s = topology_find_subnet(l->t, subnet_id);

	*rc = 0;
	if (s == NULL)
		*rc = warn(l, key, "%s's subnet \"%s\" is not in the file", what, subnet_id);
	return s;
}

static int
link_vnet(struct loader *l, struct topo_vnet *v)
{
	size_t j, old, old2;
	int rc;

	old = ptr_push(l, "properties");
	for (j = 0; j < v->nsubnets; j++) {
		struct topo_subnet *s = &v->subnets[j];
		struct topo_resource *r;

		if (s->route_table_id == NULL)
			continue;
		r = topology_find(l->t, s->route_table_id);
		if (r != NULL && r->type == TOPO_ROUTE_TABLE) {
			s->route_table = r->view;
			continue;
		}
		old2 = ptr_push(l, "subnets");
		ptr_push_index(l, j);
		ptr_push(l, "properties");
		ptr_push(l, "routeTable");
		rc = warn(l, "id", r == NULL ? "route table \"%s\" is not in the file" :
		    "\"%s\" is not a route table", s->route_table_id);
		ptr_pop(l, old2);
		if (rc != 0)
			return rc;
	}
	for (j = 0; j < v->npeerings; j++) {
		struct topo_peering *p = &v->peerings[j];

		p->remote = topology_find_vnet(l->t, p->remote_id);
		if (p->remote != NULL)
			continue;
		old2 = ptr_push(l, "virtualNetworkPeerings");
		ptr_push_index(l, j);
		ptr_push(l, "properties");
		ptr_push(l, "remoteVirtualNetwork");
		rc = warn(l, "id", "remote VNet \"%s\" of peering \"%s\" is not in the file",
		    p->remote_id, p->name);
		ptr_pop(l, old2);
		if (rc != 0)
			return rc;
	}
	ptr_pop(l, old);
	return 0;
}

static int
load_gateway(struct loader *l, struct topo_gateway *g, json_t *props)
{
	json_t *arr, *obj, *ipprops, *status, *bgp;
	size_t i, n = 0, old, old2;
	int rc;

	g->allow_remote_vnet_traffic = true;
	if (props == NULL)
		return 0;
	old = ptr_push(l, "properties");
	if ((rc = get_string(l, props, "gatewayType", false, &g->gateway_type)) != 0)
		return rc;
	if (g->gateway_type != NULL && ascii_eq(g->gateway_type, "ExpressRoute"))
		g->kind = GATEWAY_EXPRESSROUTE;
	else if (g->gateway_type != NULL && ascii_eq(g->gateway_type, "Vpn"))
		g->kind = GATEWAY_VPN;
	{
		json_t *sku;
		if ((rc = get_object(l, props, "sku", &sku)) != 0)
			return rc;
		old2 = ptr_push(l, "sku");
		rc = get_string(l, sku, "name", false, &g->sku);
		ptr_pop(l, old2);
		if (rc != 0)
			return rc;
	}
	if ((rc = get_string(l, props, "provisioningState", false, &g->provisioning_state)) != 0)
		return rc;
	if ((rc = get_bool(l, props, "allowRemoteVnetTraffic", true, &g->allow_remote_vnet_traffic)) != 0)
		return rc;
	if ((rc = get_object(l, props, "virtualNetworkGatewayMigrationStatus", &status)) != 0)
		return rc;
	old2 = ptr_push(l, "virtualNetworkGatewayMigrationStatus");
	if ((rc = get_string(l, status, "state", false, &g->migration_state)) != 0 ||
	    (rc = get_string(l, status, "phase", false, &g->migration_phase)) != 0)
		return rc;
	ptr_pop(l, old2);
	if ((rc = get_object(l, props, "bgpSettings", &bgp)) != 0)
		return rc;
	old2 = ptr_push(l, "bgpSettings");
	if ((rc = get_string(l, bgp, "bgpPeeringAddress", false, &g->bgp_peering_address)) != 0)
		return rc;
	ptr_pop(l, old2);

	if ((rc = get_array(l, props, "ipConfigurations", &arr)) != 0)
		return rc;
	if (arr != NULL && json_array_size(arr) > 0) {
		g->public_ip_ids = arena_alloc(l->arena, json_array_size(arr) * sizeof(*g->public_ip_ids));
		g->public_ips = arena_alloc(l->arena, json_array_size(arr) * sizeof(*g->public_ips));
		if (g->public_ip_ids == NULL || g->public_ips == NULL)
			return fail_nomem(l);
	}
	old2 = ptr_push(l, "ipConfigurations");
	json_array_foreach(arr, i, obj) {
		const char *subnet_id = NULL, *pip_id = NULL;
		size_t old3 = ptr_push_index(l, i);

		if (!json_is_object(obj))
			return fail(l, "expected an ipConfiguration object, found %s", kind_name(obj));
		if ((rc = get_object(l, obj, "properties", &ipprops)) != 0)
			return rc;
		ptr_push(l, "properties");
		if ((rc = get_ref(l, ipprops, "subnet", &subnet_id)) != 0 ||
		    (rc = get_ref(l, ipprops, "publicIPAddress", &pip_id)) != 0)
			return rc;
		if (subnet_id != NULL && g->subnet_id == NULL) {
			size_t vlen;
			const char *name;
			struct topo_resource *vr = NULL;

			g->subnet_id = subnet_id;
			if (split_subnet_id(subnet_id, &vlen, &name))
				vr = find_n(l->t, subnet_id, vlen);
			if (vr != NULL && vr->type == TOPO_VNET)
				g->vnet = vr->view;
			if (topology_find_subnet(l->t, subnet_id) == NULL) {
				size_t o5 = ptr_push(l, "subnet");
				rc = warn(l, "id", "gateway's subnet \"%s\" is not in the file", subnet_id);
				ptr_pop(l, o5);
				if (rc != 0)
					return rc;
			}
			if (g->vnet != NULL)
				g->vnet->ngateways++;
		}
		if (pip_id != NULL) {
			struct topo_resource *pr = topology_find(l->t, pip_id);

			g->public_ip_ids[n] = pip_id;
			if (pr != NULL && pr->type == TOPO_PUBLIC_IP) {
				g->public_ips[n] = pr->view;
			} else {
				size_t o5 = ptr_push(l, "publicIPAddress");
				rc = warn(l, "id", pr == NULL ? "gateway's public IP \"%s\" is not in the file" :
				    "gateway's public IP \"%s\" is not a public IP address", pip_id);
				ptr_pop(l, o5);
				if (rc != 0)
					return rc;
			}
			n++;
		}
		ptr_pop(l, old3);
	}
	g->npublic_ips = n;
	ptr_pop(l, old2);
	ptr_pop(l, old);
	return 0;
}

static int
load_public_ip(struct loader *l, struct topo_public_ip *p, json_t *props)
{
	json_t *sku;
	size_t old;
	int rc;

	if ((rc = get_object(l, p->res->json, "sku", &sku)) != 0)
		return rc;
	old = ptr_push(l, "sku");
	if ((rc = get_string(l, sku, "name", false, &p->sku_name)) != 0 ||
	    (rc = get_string(l, sku, "tier", false, &p->sku_tier)) != 0)
		return rc;
	ptr_pop(l, old);
	old = ptr_push(l, "properties");
	if ((rc = get_string(l, props, "publicIPAllocationMethod", false, &p->allocation)) != 0 ||
	    (rc = get_string(l, props, "publicIPAddressVersion", false, &p->version)) != 0 ||
	    (rc = get_string(l, props, "ipAddress", false, &p->ip_address)) != 0 ||
	    (rc = get_string(l, props, "migrationPhase", false, &p->migration_phase)) != 0 ||
	    (rc = get_ref(l, props, "ipConfiguration", &p->ip_configuration_id)) != 0)
		return rc;
	ptr_pop(l, old);
	return 0;
}

static int
load_connection(struct loader *l, struct topo_connection *c, json_t *props)
{
	struct topo_resource *r;
	json_t *w;
	size_t old, old2;
	int rc;

	old = ptr_push(l, "properties");
	if ((rc = get_string(l, props, "connectionType", false, &c->connection_type)) != 0 ||
	    (rc = get_string(l, props, "provisioningState", false, &c->provisioning_state)) != 0 ||
	    (rc = get_ref(l, props, "virtualNetworkGateway1", &c->gateway_id)) != 0 ||
	    (rc = get_ref(l, props, "peer", &c->peer_id)) != 0)
		return rc;
	w = field(props, "routingWeight");
	if (w != NULL) {
		if (!json_is_integer(w))
			return fail_at(l, "routingWeight", "expected an integer, found %s", kind_name(w));
		if (json_integer_value(w) < 0 || json_integer_value(w) > 32000)
			return fail_at(l, "routingWeight", "routing weight %lld is out of range 0..32000",
			    (long long)json_integer_value(w));
		c->routing_weight = (int)json_integer_value(w);
	}
	if (c->gateway_id != NULL) {
		r = topology_find(l->t, c->gateway_id);
		if (r != NULL && r->type == TOPO_GATEWAY) {
			c->gateway = r->view;
			c->gateway->nconnections++;
		} else {
			old2 = ptr_push(l, "virtualNetworkGateway1");
			rc = warn(l, "id", r == NULL ? "connection's gateway \"%s\" is not in the file" :
			    "connection's gateway \"%s\" is not a virtual network gateway", c->gateway_id);
			ptr_pop(l, old2);
			if (rc != 0)
				return rc;
		}
	}
	if (c->peer_id != NULL) {
		r = topology_find(l->t, c->peer_id);
		if (r != NULL && r->type == TOPO_CIRCUIT) {
			c->circuit = r->view;
			c->circuit->nconnections++;
		} else if (r == NULL) {
			old2 = ptr_push(l, "peer");
			rc = warn(l, "id", "connection's circuit \"%s\" is not in the file", c->peer_id);
			ptr_pop(l, old2);
			if (rc != 0)
				return rc;
		}
	}
	ptr_pop(l, old);
	return 0;
}

/*
 * Azure accepts a service tag ("Storage", "AzureCloud.EastUS") as a
 * route's prefix.  Its addresses are Microsoft's to change, so nothing
 * here can reason about it; say so rather than call it a bad prefix.
 */
static bool
looks_like_service_tag(const char *s)
{
	const char *p;

	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
		return false;
	for (p = s; *p != '\0'; p++)
		if (*p == ':' || *p == '/')
			return false;
	/* "AzureCloud.EastUS" has dots, an IPv4 address starts with a digit */
	return true;
}

static int
load_route(struct loader *l, struct topo_route *rt, json_t *obj)
{
	json_t *props, *v;
	const char *nh, *ip;
	size_t old, old2;
	struct nw_err e = { 0 };
	int rc;

	if (!json_is_object(obj))
		return fail(l, "expected a route object, found %s", kind_name(obj));
	{
		const char *id;
		if ((rc = get_child_name(l, obj, &id, &rt->name, "route")) != 0)
			return rc;
	}
	if ((rc = get_object(l, obj, "properties", &props)) != 0)
		return rc;
	if (props == NULL)
		return fail(l, "route \"%s\" has no properties", rt->name);
	old = ptr_push(l, "properties");
	v = field(props, "addressPrefix");
	if (v == NULL)
		return fail(l, "route \"%s\" has no \"addressPrefix\"", rt->name);
	old2 = ptr_push(l, "addressPrefix");
	if (json_is_string(v) && looks_like_service_tag(json_string_value(v)))
		return fail(l, "route \"%s\" uses the service tag \"%s\" as its address prefix; "
		    "netwave reads only IP prefixes in routes", rt->name, json_string_value(v));
	if ((rc = parse_prefix(l, v, &rt->prefix)) != 0)
		return rc;
	ptr_pop(l, old2);
	if ((rc = get_string(l, props, "nextHopType", false, &nh)) != 0)
		return rc;
	if (nh == NULL)
		return fail(l, "route \"%s\" has no \"nextHopType\"", rt->name);
	rt->next_hop = topo_next_hop_parse(nh);
	if (rt->next_hop == NH_UNKNOWN)
		return fail_at(l, "nextHopType", "route \"%s\" has next hop type \"%s\", expected one of "
		    NEXT_HOP_USER_LIST, rt->name, nh);
	if ((rc = get_string(l, props, "nextHopIpAddress", false, &ip)) != 0)
		return rc;
	if (ip != NULL && ip[0] != '\0') {
		if (cidr_parse_addr(&rt->next_hop_ip, ip, &e) != 0)
			return fail_at(l, "nextHopIpAddress", "%s", e.msg);
		rt->has_next_hop_ip = true;
	}
	if (rt->next_hop == NH_VIRTUAL_APPLIANCE && !rt->has_next_hop_ip)
		return fail(l, "route \"%s\" sends to a VirtualAppliance but has no \"nextHopIpAddress\"",
		    rt->name);
	ptr_pop(l, old);
	return 0;
}

static int
load_route_table(struct loader *l, struct topo_route_table *t, json_t *props)
{
	json_t *arr, *obj;
	size_t i, old, old2, old3;
	int rc;

	old = ptr_push(l, "properties");
	if ((rc = get_bool(l, props, "disableBgpRoutePropagation", false,
	    &t->disable_bgp_route_propagation)) != 0)
		return rc;
	if ((rc = get_array(l, props, "routes", &arr)) != 0)
		return rc;
	if (arr != NULL && json_array_size(arr) > 0) {
		t->routes = arena_alloc(l->arena, json_array_size(arr) * sizeof(*t->routes));
		if (t->routes == NULL)
			return fail_nomem(l);
		t->nroutes = json_array_size(arr);
	}
	old2 = ptr_push(l, "routes");
	json_array_foreach(arr, i, obj) {
		old3 = ptr_push_index(l, i);
		if ((rc = load_route(l, &t->routes[i], obj)) != 0)
			return rc;
		ptr_pop(l, old3);
	}
	ptr_pop(l, old2);
	ptr_pop(l, old);
	return 0;
}

static int
load_private_endpoint(struct loader *l, struct topo_private_endpoint *p, json_t *props)
{
	size_t old = ptr_push(l, "properties"), old2;
	int rc;

	if ((rc = get_ref(l, props, "subnet", &p->subnet_id)) != 0)
		return rc;
	if (p->subnet_id != NULL) {
		old2 = ptr_push(l, "subnet");
		p->subnet = link_subnet(l, p->subnet_id, "id", "private endpoint", &rc);
		ptr_pop(l, old2);
		if (rc != 0)
			return rc;
		if (p->subnet != NULL) {
			p->subnet->nprivate_endpoints++;
			p->subnet->vnet->nprivate_endpoints++;
		}
	}
	ptr_pop(l, old);
	return 0;
}

static int
load_nic(struct loader *l, struct topo_nic *n, json_t *props)
{
	json_t *arr, *first, *ipprops;
	size_t old, old2;
	int rc;

	old = ptr_push(l, "properties");
	if ((rc = get_array(l, props, "ipConfigurations", &arr)) != 0)
		return rc;
	first = json_array_get(arr, 0);
	if (first != NULL) {
		ptr_push(l, "ipConfigurations");
		ptr_push_index(l, 0);
		if (!json_is_object(first))
			return fail(l, "expected an ipConfiguration object, found %s", kind_name(first));
		if ((rc = get_object(l, first, "properties", &ipprops)) != 0)
			return rc;
		ptr_push(l, "properties");
		if ((rc = get_ref(l, ipprops, "subnet", &n->subnet_id)) != 0 ||
		    (rc = get_string(l, ipprops, "privateIPAddress", false, &n->private_ip)) != 0)
			return rc;
		if (n->subnet_id != NULL) {
			old2 = ptr_push(l, "subnet");
			n->subnet = link_subnet(l, n->subnet_id, "id", "network interface", &rc);
			ptr_pop(l, old2);
			if (rc != 0)
				return rc;
		}
	}
	ptr_pop(l, old);
	return 0;
}

/* The parent of a child id, as the typed view of type, or NULL. */
static void *
find_parent(struct loader *l, const char *id, const char *segment, enum topo_type type)
{
	size_t n = id_parent_len(id, segment);
	struct topo_resource *r = n > 0 ? find_n(l->t, id, n) : NULL;

	return r != NULL && r->type == type ? r->view : NULL;
}

static int
require_child_id(struct loader *l, const struct topo_resource *r, const char *segment)
{
	if (id_parent_len(r->id, segment) == 0)
		return fail_at(l, "id", "resource id \"%s\" does not end in /%s/{name}", r->id, segment);
	return 0;
}

static int
load_network_group(struct loader *l, struct topo_network_group *g, json_t *props)
{
	size_t old;
	int rc;

	if ((rc = require_child_id(l, g->res, "networkGroups")) != 0)
		return rc;
	g->manager = find_parent(l, g->res->id, "networkGroups", TOPO_NETWORK_MANAGER);
	if (g->manager != NULL)
		g->manager->ngroups++;
	else if ((rc = warn(l, "id", "network manager of group \"%s\" is not in the file",
	    g->res->name)) != 0)
		return rc;
	old = ptr_push(l, "properties");
	rc = get_string(l, props, "memberType", false, &g->member_type);
	ptr_pop(l, old);
	return rc;
}

static int
load_static_member(struct loader *l, struct topo_static_member *m, json_t *props)
{
	size_t old;
	int rc;

	if ((rc = require_child_id(l, m->res, "staticMembers")) != 0)
		return rc;
	m->group = find_parent(l, m->res->id, "staticMembers", TOPO_NETWORK_GROUP);
	if (m->group != NULL)
		m->group->nmembers++;
	else if ((rc = warn(l, "id", "network group of static member \"%s\" is not in the file",
	    m->res->name)) != 0)
		return rc;
	old = ptr_push(l, "properties");
	if ((rc = get_string(l, props, "resourceId", false, &m->resource_id)) != 0)
		return rc;
	if (m->resource_id == NULL)
		return fail(l, "static member \"%s\" has no \"resourceId\"", m->res->name);
	m->vnet = topology_find_vnet(l->t, m->resource_id);
	if (m->vnet == NULL &&
	    (rc = warn(l, "resourceId", "static member's VNet \"%s\" is not in the file",
	    m->resource_id)) != 0)
		return rc;
	ptr_pop(l, old);
	return 0;
}

static int
load_cc_group(struct loader *l, struct topo_cc_group *g, json_t *obj)
{
	const char *conn;
	struct topo_resource *r;
	int rc;

	if (!json_is_object(obj))
		return fail(l, "expected an object, found %s", kind_name(obj));
	if ((rc = get_string(l, obj, "networkGroupId", false, &g->network_group_id)) != 0)
		return rc;
	if (g->network_group_id == NULL)
		return fail(l, "\"networkGroupId\" is missing");
	if ((rc = get_string(l, obj, "groupConnectivity", false, &conn)) != 0 ||
	    (rc = get_bool(l, obj, "useHubGateway", false, &g->use_hub_gateway)) != 0 ||
	    (rc = get_bool(l, obj, "isGlobal", false, &g->is_global)) != 0)
		return rc;
	g->directly_connected = conn != NULL && ascii_eq(conn, "DirectlyConnected");
	r = topology_find(l->t, g->network_group_id);
	if (r != NULL && r->type == TOPO_NETWORK_GROUP)
		g->group = r->view;
	else
		return warn(l, "networkGroupId", r == NULL ? "network group \"%s\" is not in the file" :
		    "\"%s\" is not a network group", g->network_group_id);
	return 0;
}

static int
load_connectivity_config(struct loader *l, struct topo_connectivity_config *c, json_t *props)
{
	json_t *arr, *obj, *caps;
	const char *topo, *s;
	size_t i, old, old2, old3;
	int rc;

	if ((rc = require_child_id(l, c->res, "connectivityConfigurations")) != 0)
		return rc;
	c->manager = find_parent(l, c->res->id, "connectivityConfigurations", TOPO_NETWORK_MANAGER);
	if (c->manager != NULL)
		c->manager->nconfigs++;
	else if ((rc = warn(l, "id", "network manager of configuration \"%s\" is not in the file",
	    c->res->name)) != 0)
		return rc;
	old = ptr_push(l, "properties");
	if ((rc = get_string(l, props, "connectivityTopology", false, &topo)) != 0)
		return rc;
	if (topo != NULL && ascii_eq(topo, "Mesh"))
		c->topology = CC_MESH;
	else if (topo != NULL && ascii_eq(topo, "HubAndSpoke"))
		c->topology = CC_HUB_AND_SPOKE;
	if ((rc = get_bool(l, props, "isGlobal", false, &c->is_global)) != 0 ||
	    (rc = get_bool(l, props, "deleteExistingPeering", false, &c->delete_existing_peering)) != 0)
		return rc;

	if ((rc = get_array(l, props, "appliesToGroups", &arr)) != 0)
		return rc;
	if (arr != NULL && json_array_size(arr) > 0) {
		c->groups = arena_alloc(l->arena, json_array_size(arr) * sizeof(*c->groups));
		if (c->groups == NULL)
			return fail_nomem(l);
		c->ngroups = json_array_size(arr);
	}
	old2 = ptr_push(l, "appliesToGroups");
	json_array_foreach(arr, i, obj) {
		old3 = ptr_push_index(l, i);
		if ((rc = load_cc_group(l, &c->groups[i], obj)) != 0)
			return rc;
		ptr_pop(l, old3);
	}
	ptr_pop(l, old2);

	if ((rc = get_array(l, props, "hubs", &arr)) != 0)
		return rc;
	if (arr != NULL && json_array_size(arr) > 0) {
		c->hub_ids = arena_alloc(l->arena, json_array_size(arr) * sizeof(*c->hub_ids));
		if (c->hub_ids == NULL)
			return fail_nomem(l);
	}
	old2 = ptr_push(l, "hubs");
	json_array_foreach(arr, i, obj) {
		old3 = ptr_push_index(l, i);
		if (!json_is_object(obj))
			return fail(l, "expected an object, found %s", kind_name(obj));
		if ((rc = get_string(l, obj, "resourceId", false, &s)) != 0)
			return rc;
		if (s == NULL)
			return fail(l, "\"resourceId\" is missing");
		c->hub_ids[c->nhubs++] = s;
		if (topology_find(l->t, s) == NULL &&
		    (rc = warn(l, "resourceId", "hub \"%s\" is not in the file", s)) != 0)
			return rc;
		ptr_pop(l, old3);
	}
	ptr_pop(l, old2);

	if ((rc = get_object(l, props, "connectivityCapabilities", &caps)) != 0)
		return rc;
	old2 = ptr_push(l, "connectivityCapabilities");
	if ((rc = get_string(l, caps, "connectedGroupPrivateEndpointsScale", false, &s)) != 0)
		return rc;
	c->high_scale_private_endpoints = s != NULL && ascii_eq(s, "HighScale");
	if ((rc = get_string(l, caps, "connectedGroupAddressOverlap", false, &s)) != 0)
		return rc;
	c->overlap_disallowed = s != NULL && ascii_eq(s, "Disallowed");
	if ((rc = get_string(l, caps, "peeringEnforcement", false, &s)) != 0)
		return rc;
	c->peering_enforced = s != NULL && ascii_eq(s, "Enforced");
	ptr_pop(l, old2);
	ptr_pop(l, old);
	return 0;
}

static int
load_pass_views(struct loader *l)
{
	struct topology *t = l->t;
	size_t i;
	int rc;

	/* VNets first, so every subnet can be found by the resources that name one. */
	for (i = 0; i < t->nvnets; i++) {
		ptr_resource(l, t->vnets[i].res->index);
		if ((rc = load_vnet(l, &t->vnets[i])) != 0)
			return rc;
	}
	for (i = 0; i < t->nres; i++) {
		struct topo_resource *r = &t->res[i];
		json_t *props = field(r->json, "properties");

		if (r->type == TOPO_OTHER)
			continue;
		ptr_resource(l, i);
		switch (r->type) {
		case TOPO_VNET: rc = link_vnet(l, r->view); break;
		case TOPO_GATEWAY: rc = load_gateway(l, r->view, props); break;
		case TOPO_PUBLIC_IP: rc = load_public_ip(l, r->view, props); break;
		case TOPO_CONNECTION: rc = load_connection(l, r->view, props); break;
		case TOPO_ROUTE_TABLE: rc = load_route_table(l, r->view, props); break;
		case TOPO_PRIVATE_ENDPOINT: rc = load_private_endpoint(l, r->view, props); break;
		case TOPO_NIC: rc = load_nic(l, r->view, props); break;
		case TOPO_NETWORK_GROUP: rc = load_network_group(l, r->view, props); break;
		case TOPO_STATIC_MEMBER: rc = load_static_member(l, r->view, props); break;
		case TOPO_CONNECTIVITY_CONFIG: rc = load_connectivity_config(l, r->view, props); break;
		case TOPO_CIRCUIT:
		case TOPO_NETWORK_MANAGER:
		case TOPO_OTHER:
		default: rc = 0; break;
		}
		if (rc != 0)
			return rc;
	}
	ptr_pop(l, 0);
	return 0;
}

/* Back-links, counted while linking; filled here in document order. */
static int
load_pass_backlinks(struct loader *l)
{
	struct topology *t = l->t;
	size_t i;

#define ALLOC_BACK(obj, arr, n)                                                   \
	do {                                                                       \
		if ((obj)->n > 0) {                                                 \
			(obj)->arr = arena_alloc(l->arena, (obj)->n * sizeof(*(obj)->arr)); \
			if ((obj)->arr == NULL)                                     \
				return fail_nomem(l);                               \
			(obj)->n = 0;                                               \
		}                                                                   \
	} while (0)

	for (i = 0; i < t->nvnets; i++)
		ALLOC_BACK(&t->vnets[i], gateways, ngateways);
	for (i = 0; i < t->ngateways; i++)
		ALLOC_BACK(&t->gateways[i], connections, nconnections);
	for (i = 0; i < t->ncircuits; i++)
		ALLOC_BACK(&t->circuits[i], connections, nconnections);
	for (i = 0; i < t->nmanagers; i++) {
		ALLOC_BACK(&t->managers[i], groups, ngroups);
		ALLOC_BACK(&t->managers[i], configs, nconfigs);
	}
	for (i = 0; i < t->ngroups; i++)
		ALLOC_BACK(&t->groups[i], members, nmembers);
#undef ALLOC_BACK

	for (i = 0; i < t->ngateways; i++) {
		struct topo_gateway *g = &t->gateways[i];
		if (g->vnet != NULL)
			g->vnet->gateways[g->vnet->ngateways++] = g;
	}
	for (i = 0; i < t->nconnections; i++) {
		struct topo_connection *c = &t->connections[i];
		if (c->gateway != NULL)
			c->gateway->connections[c->gateway->nconnections++] = c;
		if (c->circuit != NULL)
			c->circuit->connections[c->circuit->nconnections++] = c;
	}
	for (i = 0; i < t->ngroups; i++) {
		struct topo_network_group *g = &t->groups[i];
		if (g->manager != NULL)
			g->manager->groups[g->manager->ngroups++] = g;
	}
	for (i = 0; i < t->nconfigs; i++) {
		struct topo_connectivity_config *c = &t->configs[i];
		if (c->manager != NULL)
			c->manager->configs[c->manager->nconfigs++] = c;
	}
	for (i = 0; i < t->nmembers; i++) {
		struct topo_static_member *m = &t->members[i];
		if (m->group != NULL)
			m->group->members[m->group->nmembers++] = m;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The document: top level and observed                                */

static int
load_circuit_routes(struct loader *l, json_t *routes)
{
	const char *key;
	json_t *arr, *obj;
	size_t old, old2, old3, i;
	int rc;

	old = ptr_push(l, "circuitRoutes");
	json_object_foreach(routes, key, arr) {
		struct topo_resource *r = topology_find(l->t, key);
		struct topo_circuit *c = r != NULL && r->type == TOPO_CIRCUIT ? r->view : NULL;

		old2 = ptr_push(l, key);
		if (!json_is_array(arr))
			return fail(l, "expected an array of routes, found %s", kind_name(arr));
		if (c != NULL && c->routes_observed)
			return fail(l, "routes for circuit \"%s\" are given twice (ids are compared "
			    "ignoring case)", key);
		if (c != NULL && json_array_size(arr) > 0) {
			c->routes = arena_alloc(l->arena, json_array_size(arr) * sizeof(*c->routes));
			if (c->routes == NULL)
				return fail_nomem(l);
		}
		json_array_foreach(arr, i, obj) {
			struct topo_circuit_route tmp = { 0 }, *cr = c != NULL ? &c->routes[i] : &tmp;
			json_t *net;

			old3 = ptr_push_index(l, i);
			if (!json_is_object(obj))
				return fail(l, "expected a route object, found %s", kind_name(obj));
			net = field(obj, "network");
			if (net == NULL)
				return fail(l, "route has no \"network\"");
			ptr_push(l, "network");
			if ((rc = parse_prefix(l, net, &cr->prefix)) != 0)
				return rc;
			ptr_pop(l, old3);
			ptr_push_index(l, i);
			if ((rc = get_string(l, obj, "nextHop", false, &cr->next_hop)) != 0 ||
			    (rc = get_string(l, obj, "path", false, &cr->path)) != 0)
				return rc;
			ptr_pop(l, old3);
		}
		if (c != NULL) {
			c->nroutes = json_array_size(arr);
			c->routes_observed = true;
		} else if ((rc = warn(l, NULL, r == NULL ? "circuit \"%s\" is not in the file" :
		    "\"%s\" is not an ExpressRoute circuit", key)) != 0) {
			return rc;
		}
		ptr_pop(l, old2);
	}
	ptr_pop(l, old);
	return 0;
}

static int
load_features(struct loader *l, json_t *features)
{
	const char *key;
	json_t *v;
	int rc = 0;

	json_object_foreach(features, key, v) {
		if (!json_is_string(v)) {
			size_t old = ptr_push(l, "features");
			rc = fail_at(l, key, "feature state must be a string such as \"Registered\", "
			    "found %s", kind_name(v));
			ptr_pop(l, old);
			return rc;
		}
	}
	return 0;
}

static int
cmp_deployment(const void *a, const void *b)
{
	const struct topo_deployment *x = a, *y = b;
	int c = topo_id_compare(x->manager_id, y->manager_id);

	if (c == 0)
		c = strcmp(x->manager_id, y->manager_id);
	if (c == 0)
		c = strcmp(x->region, y->region);
	if (c == 0)
		c = strcmp(x->config_type, y->config_type);
	return c;
}

static int
load_deployments(struct loader *l, json_t *deps)
{
	struct topology *t = l->t;
	const char *mid, *region, *type;
	json_t *regions, *types, *ids, *v;
	size_t n = 0, old, o1, o2, o3, o4, k;
	int rc;

	old = ptr_push(l, "avnmDeployments");
	/* Count and check the shape first, so the array is allocated once. */
	json_object_foreach(deps, mid, regions) {
		o1 = ptr_push(l, mid);
		if (!json_is_object(regions))
			return fail(l, "expected an object of regions, found %s", kind_name(regions));
		json_object_foreach(regions, region, types) {
			o2 = ptr_push(l, region);
			if (!json_is_object(types))
				return fail(l, "expected an object of configuration types, found %s",
				    kind_name(types));
			json_object_foreach(types, type, ids) {
				o3 = ptr_push(l, type);
				if (!json_is_array(ids))
					return fail(l, "expected an array of configuration ids, found %s",
					    kind_name(ids));
				json_array_foreach(ids, k, v) {
					if (!json_is_string(v)) {
						ptr_push_index(l, k);
						return fail(l, "expected a configuration id string, found %s",
						    kind_name(v));
					}
				}
				n++;
				ptr_pop(l, o3);
			}
			ptr_pop(l, o2);
		}
		ptr_pop(l, o1);
	}
	if (n > 0 && (t->deployments = arena_alloc(l->arena, n * sizeof(*t->deployments))) == NULL)
		return fail_nomem(l);

	json_object_foreach(deps, mid, regions) {
		struct topo_resource *mr = topology_find(t, mid);
		struct topo_network_manager *m = mr != NULL && mr->type == TOPO_NETWORK_MANAGER ?
		    mr->view : NULL;

		o1 = ptr_push(l, mid);
		if (m == NULL && (rc = warn(l, NULL, mr == NULL ?
		    "network manager \"%s\" is not in the file" :
		    "\"%s\" is not a network manager", mid)) != 0)
			return rc;
		json_object_foreach(regions, region, types) {
			o2 = ptr_push(l, region);
			json_object_foreach(types, type, ids) {
				struct topo_deployment *d = &t->deployments[t->ndeployments++];
				size_t nids = json_array_size(ids);

				o3 = ptr_push(l, type);
				d->manager_id = mid;
				d->manager = m;
				d->region = region;
				d->config_type = type;
				if (nids > 0) {
					d->config_ids = arena_alloc(l->arena, nids * sizeof(*d->config_ids));
					d->configs = arena_alloc(l->arena, nids * sizeof(*d->configs));
					if (d->config_ids == NULL || d->configs == NULL)
						return fail_nomem(l);
				}
				d->nconfigs = nids;
				json_array_foreach(ids, k, v) {
					struct topo_resource *cr = topology_find(t, json_string_value(v));

					d->config_ids[k] = json_string_value(v);
					if (cr != NULL && cr->type == TOPO_CONNECTIVITY_CONFIG) {
						d->configs[k] = cr->view;
						continue;
					}
					o4 = ptr_push_index(l, k);
					/* A deployed configuration of another kind (security admin,
					 * routing) is a resource netwave does not type: only a
					 * missing one is worth a warning. */
					rc = cr == NULL ? warn(l, NULL, "configuration \"%s\" is not in the file",
					    d->config_ids[k]) : 0;
					ptr_pop(l, o4);
					if (rc != 0)
						return rc;
				}
				ptr_pop(l, o3);
			}
			ptr_pop(l, o2);
		}
		ptr_pop(l, o1);
	}
	/* Keys are in file order; sorted, two files that differ only in order agree. */
	if (t->ndeployments > 1)
		qsort(t->deployments, t->ndeployments, sizeof(*t->deployments), cmp_deployment);
	ptr_pop(l, old);
	return 0;
}

static int
load_observed(struct loader *l)
{
	json_t *observed, *v;
	size_t old;
	int rc;

	if ((rc = get_object(l, l->t->root, "observed", &observed)) != 0 || observed == NULL)
		return rc;
	old = ptr_push(l, "observed");
	if ((rc = get_object(l, observed, "circuitRoutes", &v)) != 0)
		return rc;
	if (v != NULL && (rc = load_circuit_routes(l, v)) != 0)
		return rc;
	if ((rc = get_object(l, observed, "features", &v)) != 0)
		return rc;
	if (v != NULL && (rc = load_features(l, v)) != 0)
		return rc;
	if ((rc = get_object(l, observed, "avnmDeployments", &v)) != 0)
		return rc;
	if (v != NULL && (rc = load_deployments(l, v)) != 0)
		return rc;
	ptr_pop(l, old);
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
		return fail(l, "no \"format\": a topology starts with \"format\": \"%s\"",
		    TOPOLOGY_FORMAT);
	if (!json_is_string(format))
		return fail_at(l, "format", "expected the string \"%s\", found %s", TOPOLOGY_FORMAT,
		    kind_name(format));
	if (strcmp(json_string_value(format), TOPOLOGY_FORMAT) != 0)
		return fail_at(l, "format", "unknown format \"%s\", expected \"%s\"",
		    json_string_value(format), TOPOLOGY_FORMAT);
	if ((rc = get_string(l, root, "cloud", false, &cloud)) != 0)
		return rc;
	if ((rc = get_array(l, root, "subscriptions", &subs)) != 0)
		return rc;
	json_array_foreach(subs, i, v) {
		if (!json_is_string(v)) {
			size_t old = ptr_push(l, "subscriptions");
			ptr_push_index(l, i);
			rc = fail(l, "expected a subscription id string, found %s", kind_name(v));
			ptr_pop(l, old);
			return rc;
		}
	}
	v = json_object_get(root, "resources");
	if (v == NULL)
		return fail(l, "no \"resources\": a topology has a \"resources\" array (it may be empty)");
	if (!json_is_array(v))
		return fail_at(l, "resources", "expected an array of resources, found %s", kind_name(v));
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
	t->source = strdup(name);
	t->arena = l.arena = calloc(1, sizeof(struct arena));
	t->index = calloc(1, sizeof(struct topology_index));
	if (t->source == NULL || t->arena == NULL || t->index == NULL) {
		rc = err_set(err, NW_ENOMEM, "%s: out of memory loading the topology", name);
		goto done;
	}
	l.t = t;
	l.err = err;
	if (!json_is_object(t->root)) {
		rc = fail(&l, "the top level is %s, not an object: a topology is an object with "
		    "\"format\": \"%s\"", kind_name(t->root), TOPOLOGY_FORMAT);
		goto done;
	}
	if ((rc = load_top(&l)) != 0 ||
	    (rc = load_pass_index(&l)) != 0 ||
	    (rc = load_pass_slots(&l)) != 0 ||
	    (rc = load_pass_views(&l)) != 0 ||
	    (rc = load_observed(&l)) != 0 ||
	    (rc = load_pass_backlinks(&l)) != 0)
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

/* ------------------------------------------------------------------ */
/* Text: limits and syntax before jansson sees it                      */

/* Line and column (1-based, columns in characters as jansson counts them) of byte off. */
static void
text_position(const char *buf, size_t off, int *line, int *col)
{
	size_t i;

	*line = 1;
	*col = 0;
	for (i = 0; i <= off; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\n' && i < off) {
			(*line)++;
			*col = 0;
		} else if ((c & 0xC0) != 0x80) {
			(*col)++;
		}
	}
}

/* Does a byte of w equal c?  (The usual bit trick: exact for "any byte".) */
static inline uint64_t
word_has(uint64_t w, unsigned char c)
{
	const uint64_t ones = 0x0101010101010101ULL;
	uint64_t x = w ^ (ones * c);

	return (x - ones) & ~x & (ones << 7);
}

/* The next 8 bytes at p, whatever their alignment. */
static inline uint64_t
word_at(const unsigned char *p)
{
	uint64_t w;

	memcpy(&w, p, sizeof(w));
	return w;
}

/*
 * One pass over the bytes, before parsing: nesting depth (respecting
 * strings and escapes, so a brace inside a string does not count) and NUL
 * bytes.  jansson would recurse up to its own limit of 2048 and treat a NUL
 * as the end of the text; both deserve a plainer message.
 */
static int
text_scan(const char *buf, size_t len, int max_depth, const char *name, struct nw_err *err)
{
	const unsigned char *p = (const unsigned char *)buf;
	int depth = 0, line, col;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c;

		/* tens of megabytes: step over eight bytes at a time that change nothing */
		while (len - i >= 8) {
			uint64_t w = word_at(p + i);
			if (word_has(w, '"') | word_has(w, '{') | word_has(w, '[') | word_has(w, '}') |
			    word_has(w, ']') | word_has(w, '\0'))
				break;
			i += 8;
		}
		if (i >= len)
			break;
		c = p[i];
		if (c == '"') {
			for (i++; i < len; i++) {
				while (len - i >= 8) {
					uint64_t w = word_at(p + i);
					if (word_has(w, '"') | word_has(w, '\\') | word_has(w, '\0'))
						break;
					i += 8;
				}
				if (i >= len)
					break;
				c = p[i];
				if (c == '"')
					break;
				if (c == '\\') {
					i++;
					continue;
				}
				if (c == '\0')
					goto nul;
			}
		} else if (c == '{' || c == '[') {
			if (++depth > max_depth) {
				text_position(buf, i, &line, &col);
				return err_set(err, NW_EINPUT, "%s: line %d, column %d: nesting deeper "
				    "than %d levels", name, line, col, max_depth);
			}
		} else if (c == '}' || c == ']') {
			depth--;
		} else if (c == '\0') {
			goto nul;
		}
	}
	return 0;
nul:
	text_position(buf, i, &line, &col);
	return err_set(err, NW_EINPUT, "%s: line %d, column %d: NUL byte: this is binary data, "
	    "not JSON text", name, line, col);
}

static int
load_text(struct topology **out, const char *buf, size_t len, const char *name,
    const struct topology_load_opts *opts, struct nw_err *err)
{
	int max_depth = opts != NULL && opts->max_depth > 0 ? opts->max_depth : TOPOLOGY_MAX_DEPTH;
	json_error_t jerr;
	json_t *root;
	size_t i;
	int rc;

	if (len == 0)
		return err_set(err, NW_EINPUT, "%s: the file is empty, expected a JSON object", name);
	if (len >= 2 && (((unsigned char)buf[0] == 0xFF && (unsigned char)buf[1] == 0xFE) ||
	    ((unsigned char)buf[0] == 0xFE && (unsigned char)buf[1] == 0xFF)))
		return err_set(err, NW_EINPUT, "%s: the file is UTF-16 text; save it as UTF-8", name);
	/* A UTF-8 byte order mark (PowerShell writes one) carries no meaning. */
	if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
		buf += 3;
		len -= 3;
	}
	for (i = 0; i < len; i++)
		if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\n' && buf[i] != '\r')
			break;
	if (i == len)
		return err_set(err, NW_EINPUT, "%s: the file holds only whitespace, expected a JSON object",
		    name);
	if ((rc = text_scan(buf, len, max_depth, name, err)) != 0)
		return rc;
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		if (json_error_code(&jerr) == json_error_invalid_utf8)
			return err_set(err, NW_EINPUT, "%s: line %d, column %d: invalid UTF-8: %s", name,
			    jerr.line, jerr.column, jerr.text);
		return err_set(err, NW_EINPUT, "%s: line %d, column %d: %s", name, jerr.line,
		    jerr.column, jerr.text);
	}
	return topology_load_json(out, root, name, err);
}

int
topology_load_buffer(struct topology **out, const char *buf, size_t len, const char *name,
    const struct topology_load_opts *opts, struct nw_err *err)
{
	size_t max_bytes = opts != NULL && opts->max_bytes > 0 ? opts->max_bytes : TOPOLOGY_MAX_BYTES;

	*out = NULL;
	if (name == NULL)
		name = "<memory>";
	if (len > max_bytes)
		return err_set(err, NW_EINPUT, "%s: input is %zu bytes, over the limit of %zu bytes",
		    name, len, max_bytes);
	return load_text(out, buf, len, name, opts, err);
}

int
topology_load_file(struct topology **out, const char *path,
    const struct topology_load_opts *opts, struct nw_err *err)
{
	size_t max_bytes = opts != NULL && opts->max_bytes > 0 ? opts->max_bytes : TOPOLOGY_MAX_BYTES;
	const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if ((rc = file_read_all(&buf, &len, path, max_bytes, err)) != 0)
		/* The message's code is the one that describes it (a size limit is
		 * bad input even where the reader's return says otherwise). */
		return err != NULL && err->code < 0 ? err->code : rc;
	rc = load_text(out, buf, len, name, opts, err);
	free(buf);
	return rc;
}

void
topology_free(struct topology *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nwarnings; i++) {
		free(t->warnings[i].pointer);
		free(t->warnings[i].message);
	}
	free(t->warnings);
	index_free(t->index);
	arena_free(t->arena);
	json_decref(t->root);
	free(t->source);
	free(t);
}

/* ------------------------------------------------------------------ */
/* Canonical text                                                      */

struct sort_item {
	const char *id; /* NULL when the element has no string id */
	size_t index;
	json_t *v;
};

static int
cmp_sort_item(const void *a, const void *b)
{
	const struct sort_item *x = a, *y = b;
	int c;

	if (x->id == NULL || y->id == NULL) {
		if (x->id != y->id)
			return x->id == NULL ? 1 : -1;
	} else {
		c = topo_id_compare(x->id, y->id);
		if (c == 0)
			c = strcmp(x->id, y->id);
		if (c != 0)
			return c;
	}
	return x->index < y->index ? -1 : x->index > y->index;
}

json_t *
topology_canonical_root(json_t *root)
{
	struct sort_item *items = NULL;
	json_t *resources, *copy = NULL, *sorted = NULL, *v;
	size_t i, n;

	resources = json_is_object(root) ? json_object_get(root, "resources") : NULL;
	if (!json_is_array(resources))
		return json_incref(root);
	/* A shallow copy with a sorted array of the same elements: the same text
	 * as a deep copy at a fraction of the memory of a large estate. */
	n = json_array_size(resources);
	if (n > 0 && (items = malloc(n * sizeof(*items))) == NULL)
		goto fail;
	json_array_foreach(resources, i, v) {
		items[i].id = json_str(v, "id");
		items[i].index = i;
		items[i].v = v;
	}
	if (n > 1)
		qsort(items, n, sizeof(*items), cmp_sort_item);
	if ((copy = json_copy(root)) == NULL || (sorted = json_array()) == NULL)
		goto fail;
	for (i = 0; i < n; i++)
		if (json_array_append(sorted, items[i].v) != 0)
			goto fail;
	if (json_object_set_new(copy, "resources", sorted) != 0) {
		sorted = NULL;
		goto fail;
	}
	free(items);
	return copy;
fail:
	json_decref(sorted);
	json_decref(copy);
	free(items);
	return NULL;
}

char *
topology_dump_json(json_t *root)
{
	json_t *canonical = topology_canonical_root(root);
	char *text;

	if (canonical == NULL)
		return NULL;
	text = json_dump_canonical(canonical);
	json_decref(canonical);
	return text;
}

char *
topology_dump(const struct topology *t)
{
	if (t == NULL)
		return NULL;
	return topology_dump_json(t->root);
}

int
topology_write_file(const struct topology *t, const char *path, struct nw_err *err)
{
	char *text = topology_dump(t);
	int rc;

	if (text == NULL)
		return err_set(err, NW_ENOMEM, "cannot write '%s': out of memory", path);
	rc = file_write_atomic(path, text, strlen(text), err);
	free(text);
	return rc;
}
