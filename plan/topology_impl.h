/*
 * The topology loader's insides, shared by its files: plan/topology.c (the
 * arena, the id index, the loader's state, typed getters, pass 1 and the
 * top level), plan/topology_vnet.c (pass 2: VNets), plan/topology_views.c
 * (pass 3: the other types and their links), plan/topology_observed.c
 * (what ARM tells through actions) and plan/topology_text.c (text limits
 * and the canonical dump).  Not for use outside plan/topology*.c.
 */
#ifndef NETWAVE_PLAN_TOPOLOGY_IMPL_H
#define NETWAVE_PLAN_TOPOLOGY_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "plan/topology.h"

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

struct arena {
	struct arena_chunk *head;
};

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

/* What a user route may name, for messages. */
#define NEXT_HOP_USER_LIST \
	"VirtualNetworkGateway, VnetLocal, Internet, VirtualAppliance, VirtualApplianceEcmp, None"

/* plan/topology.c: ASCII case-insensitive equality, the view arena, the id index */
bool tl_ascii_eq(const char *a, const char *b);
void *tl_arena_alloc(struct arena *a, size_t size);
int tl_index_put(struct topology_index *ix, const void *scope, const char *key, size_t len, void *value, void **existing);

/* The JSON pointer of what is being read: push a token, pop back to a saved length. */
size_t tl_ptr_push(struct loader *l, const char *tok);
size_t tl_ptr_push_index(struct loader *l, size_t i);
void tl_ptr_pop(struct loader *l, size_t old);
void tl_ptr_resource(struct loader *l, size_t i);

/* Errors name the file and the pointer (fail_at: plus key); warnings do not stop the load. */
int tl_fail(struct loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int tl_fail_nomem(struct loader *l);
int tl_fail_at(struct loader *l, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int tl_warn(struct loader *l, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Typed getters: they fail with the pointer and what was expected. */
const char *tl_kind_name(const json_t *v);
json_t *tl_field(const json_t *obj, const char *key);
int tl_get_string(struct loader *l, const json_t *obj, const char *key, bool required, const char **out);
int tl_get_object(struct loader *l, const json_t *obj, const char *key, json_t **out);
int tl_get_array(struct loader *l, const json_t *obj, const char *key, json_t **out);

/*
 * Loads obj.key, an array, into a new arena array of elem-byte elements
 * (zeroed) stored through out (the address of the element pointer): *n is
 * set to its length, then load runs on each element with the pointer at
 * key/i.  Absent or empty leaves *out and *n alone.
 */
typedef int tl_elem_load(struct loader *l, void *elem, json_t *v, void *arg);
int tl_load_array(struct loader *l, const json_t *obj, const char *key, size_t elem, void *out,
    size_t *n, tl_elem_load *load, void *arg);
int tl_get_bool(struct loader *l, const json_t *obj, const char *key, bool def, bool *out);
int tl_get_ref(struct loader *l, const json_t *obj, const char *key, const char **out);
int tl_parse_prefix(struct loader *l, const json_t *v, struct cidr *out);
int tl_get_prefixes(struct loader *l, const json_t *obj, const char *key, struct topo_prefixes *out);
int tl_get_address_space(struct loader *l, const json_t *obj, const char *key, struct topo_prefixes *out, bool *present);

/* Ids: the parent's length, look-up by a prefix of an id, a subnet id's parts. */
size_t tl_id_parent_len(const char *id, const char *segment);
struct topo_resource *tl_find_n(const struct topology *t, const char *id, size_t len);
bool tl_split_subnet_id(const char *id, size_t *vnet_len, const char **name);

/* plan/topology_vnet.c: a child's name from obj.name or its id; pass 2 for one VNet. */
int tl_get_child_name(struct loader *l, const json_t *obj, const char **id, const char **name, const char *what);
int tl_load_vnet(struct loader *l, struct topo_vnet *v);

/* plan/topology_views.c: pass 3, and the links back from children to parents. */
int tl_load_pass_views(struct loader *l);
int tl_load_pass_backlinks(struct loader *l);

/* plan/topology_circuit.c: a circuit's sku tier and inline peerings (pass 3). */
int tl_load_circuit(struct loader *l, struct topo_circuit *c, json_t *props);

/* plan/topology_observed.c: the "observed" object. */
int tl_load_observed(struct loader *l);

/* plan/topology_ars.c: route servers, their children, observed.bgpRoutes, declared.nvas. */
int tl_load_ars(struct loader *l);

/*
 * plan/topology_parse.c: the document in buf[0..len) with one string node
 * per distinct value (new reference), or NULL when the text is not one it
 * takes (escapes, non-ASCII strings, reals, a NUL byte, containers nested
 * deeper than max_depth, any error): the text checks and json_loadb then.
 */
json_t *tl_parse_text(const char *buf, size_t len, int max_depth);

#endif
