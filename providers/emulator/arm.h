/*
 * Private to arm*.c, the Microsoft.Network resource routes: the table of
 * resource types with what each needs checked, a request path resolved
 * against it, and the functions the files share (arm.c dispatches, reads
 * and deletes, arm_types.c holds the type table, arm_put.c writes,
 * arm_validate.c checks bodies, arm_peerings.c keeps peering states,
 * arm_list.c lists).  arm.c calls the others; they call only
 * arm_types.c and arm_peerings.c.
 */
#ifndef NETWAVE_PROVIDERS_EMULATOR_ARM_H
#define NETWAVE_PROVIDERS_EMULATOR_ARM_H

#include "providers/emulator/emu.h"

struct arm_type;
struct arm_path;

/* A PUT being served: what the type hooks see. */
struct arm_write {
	const struct arm_type *t;
	const struct arm_path *p;
	const char *id;     /* stored casing */
	json_t *body;       /* the request's JSON object */
	json_t *existing;   /* the stored object, NULL for a new one */
	json_t *pp;         /* the parent of a child, else NULL */
};

struct arm_type {
	const char *path;   /* type segments below the namespace, joined by '/' */
	const char *type;   /* the ARM type name */
	const char *embed;  /* property array of the parent that holds it; NULL: own entry */
	double put_dur;     /* nominal seconds of a PUT; 0: synchronous */
	double del_dur;     /* nominal seconds of a DELETE; 0: synchronous */
	bool location;      /* requires a location */
	bool guid;          /* carries properties.resourceGuid */
	/* Checks a body before it is written; -1 when answered.  NULL: none. */
	int (*validate)(struct emulator *e, struct emu_req *r, const struct arm_write *w);
	/* Checks a delete; -1 when answered.  NULL: none. */
	int (*check_delete)(struct emulator *e, struct emu_req *r, const struct arm_type *t,
	    const char *id, json_t *obj);
	bool avnm;          /* a network manager or one of its children (avnm.c) */
};

/* A request path below .../providers/Microsoft.Network, resolved. */
struct arm_path {
	const char *sub;
	const char *rg;          /* NULL at subscription scope */
	char **rest;             /* segments below the namespace */
	size_t nrest;
	const struct arm_type *type;   /* the resource's or the collection's type */
	const struct arm_type *ptype;  /* the parent's type, NULL for top-level */
	bool collection;
	const char *action;      /* POST action name (canonical) */
	char *id;                /* the resource (or the action's resource) */
	char *parent_id;         /* the parent of a child, or of a collection */
	const char *name;
	const struct emu_op_class *op; /* the completion of writes behind an operation */
};

/* arm_types.c */
const struct arm_type *arm_type_find(const char *path);
const char *arm_type_leaf(const struct arm_type *t);
void arm_reply_not_found(struct emu_req *r, const struct arm_path *p, bool parent_missing);
bool arm_if_match_ok(struct emu_req *r, const json_t *existing);
void arm_reply_busy(struct emu_req *r, const struct emu_op *op, const char *id);
const char *arm_region_of(struct emulator *e, const json_t *res, const char *fallback_id);

/* arm_put.c */
void arm_put_resource(struct emulator *e, struct emu_req *r, struct arm_path *p);

/* arm_validate.c: type hooks */
int arm_validate_vnet(struct emulator *e, struct emu_req *r, const struct arm_write *w);
int arm_validate_subnet(struct emulator *e, struct emu_req *r, const struct arm_write *w);
int arm_validate_peering(struct emulator *e, struct emu_req *r, const struct arm_write *w);
int arm_validate_route_table(struct emulator *e, struct emu_req *r, const struct arm_write *w);
int arm_validate_route(struct emulator *e, struct emu_req *r, const struct arm_write *w);
int arm_validate_gateway(struct emulator *e, struct emu_req *r, const struct arm_write *w);
int arm_validate_public_ip(struct emulator *e, struct emu_req *r, const struct arm_write *w);
int arm_validate_avnm(struct emulator *e, struct emu_req *r, const struct arm_write *w);
int arm_delete_subnet(struct emulator *e, struct emu_req *r, const struct arm_type *t,
    const char *id, json_t *obj);
int arm_delete_vnet(struct emulator *e, struct emu_req *r, const struct arm_type *t,
    const char *id, json_t *obj);
int arm_delete_avnm(struct emulator *e, struct emu_req *r, const struct arm_type *t,
    const char *id, json_t *obj);

/* arm_peerings.c */
void arm_sync_vnet(struct emulator *e, json_t *vnet, const char *sync_peering,
    const char *towards);
void arm_peerings_sync_all(struct emulator *e, const char *vnet_id, const char *sync_peering);
void arm_peerings_sync_near(struct emulator *e, const char *vnet_id, const char *sync_peering);

/* arm_list.c */
void arm_list_resources(struct emulator *e, struct emu_req *r, struct arm_path *p);

#endif
