/*
 * PUT of a Microsoft.Network resource: checks (the type's hook in arm.c's
 * table), then the object as ARM stores it (id, type, etag, provisioning
 * state, resourceGuid, children normalized, keys in ARM's order), written
 * in place or into its parent's array, behind a long-running operation
 * for the types that have one; peering states follow a VNet or peering
 * write.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "plan/topology.h"
#include "providers/emulator/arm.h"

/* Puts the keys in the order ARM writes them: name, id, etag, type, location, tags, ... */
static void
arm_order(json_t *obj)
{
	static const char *const first[] = { "name", "id", "etag", "type", "location", "tags", NULL };
	json_t *copy = json_copy(obj);
	const char *k;
	json_t *v;
	size_t i;

	json_object_clear(obj);
	for (i = 0; first[i] != NULL; i++)
		if ((v = json_object_get(copy, first[i])) != NULL)
			json_object_set(obj, first[i], v);
	json_object_foreach(copy, k, v)
		if (json_object_get(obj, k) == NULL)
			json_object_set(obj, k, v);
	json_decref(copy);
}

/*
 * What ARM fills in on a circuit's peering when the body leaves it out:
 * the type (a peering is named after it), Microsoft's AS 12076 and the
 * Enabled state (REST Express Route Circuit Peerings - Create Or Update /
 * Get examples, https://learn.microsoft.com/rest/api/expressroute/
 * express-route-circuit-peerings/create-or-update).
 */
static void
circuit_peering_defaults(json_t *c)
{
	json_t *props = json_object_get(c, "properties");

	if (json_object_get(props, "peeringType") == NULL && json_str(c, "name") != NULL)
		json_object_set_new(props, "peeringType", json_string(json_str(c, "name")));
	if (json_object_get(props, "azureASN") == NULL)
		json_object_set_new(props, "azureASN", json_integer(12076));
	if (json_object_get(props, "state") == NULL)
		json_object_set_new(props, "state", json_string("Enabled"));
}

static void
normalize_child(struct emulator *e, json_t *c, const char *parent_id, const struct arm_type *t,
    const char *state, json_t *old)
{
	const char *name = json_str(c, "name");
	char *id = emu_printf("%s/%s/%s", parent_id, arm_type_leaf(t), name != NULL ? name : "");

	if (id == NULL && (old == NULL || json_str(old, "id") == NULL))
		e->oom = true;
	json_object_set_new(c, "id", json_string(old != NULL && json_str(old, "id") != NULL ?
	    json_str(old, "id") : id));
	json_object_set_new(c, "type", json_string(t->type));
	if (!json_is_object(json_object_get(c, "properties")))
		json_object_set_new(c, "properties", json_object());
	emu_store_etag(e, c);
	arm_set_state(c, state);
	if (strcasecmp(t->type, "Microsoft.Network/expressRouteCircuits/peerings") == 0)
		circuit_peering_defaults(c);
	if (t->guid) {
		const char *g = json_path_str(old, "properties", "resourceGuid", NULL);
		char ng[40];
		if (g == NULL)
			emu_guid(e, ng);
		json_object_set_new(json_object_get(c, "properties"), "resourceGuid",
		    json_string(g != NULL ? g : ng));
	}
	arm_order(c);
	free(id);
}

static json_t *
find_named(json_t *list, const char *name)
{
	return json_array_find(list, "name", name, strcasecmp, NULL);
}


/* The body is a JSON object; else answers 400. */
static bool
body_ok(struct emu_req *r)
{
	if (r->parsed != NULL && json_is_object(r->parsed))
		return true;
	emu_reply_error(r, 400, "InvalidRequestContent",
	    "The request content was invalid and could not be deserialized: '%s'.",
	    r->body_len == 0 ? "the request body is empty" :
	    r->parsed == NULL ? "the request body is not valid JSON" :
	    "the request body must be a JSON object");
	return false;
}

/* Sets resourceGuid: the existing one kept, else a new one. */
static void
set_guid(struct emulator *e, json_t *props, const json_t *existing)
{
	const char *g = json_path_str(existing, "properties", "resourceGuid", NULL);
	char ng[40];

	if (g == NULL)
		emu_guid(e, ng);
	json_object_set_new(props, "resourceGuid", json_string(g != NULL ? g : ng));
}

/* A child written into its parent's array. */
static void
store_child(struct emulator *e, const struct arm_write *w, json_t *obj, const char *state,
    size_t idx)
{
	json_t *props = json_object_get(w->pp, "properties"), *list;

	normalize_child(e, obj, json_str(w->pp, "id"), w->t, state, w->existing);
	json_object_del(obj, "location");
	if (!json_is_object(props)) {
		props = json_object();
		json_object_set_new(w->pp, "properties", props);
	}
	list = json_object_get(props, w->t->embed);
	if (!json_is_array(list)) {
		list = json_array();
		json_object_set_new(props, w->t->embed, list);
	}
	if (w->existing != NULL)
		json_array_set(list, idx, obj);
	else
		json_array_append(list, obj);
	emu_store_etag(e, w->pp);
	emu_store_touch(e, json_str(w->pp, "id"));
}

/* A VNet's subnets written with it; its peerings are their own resources. */
static void
vnet_children(struct emulator *e, const struct arm_write *w, json_t *props, const char *state)
{
	const struct arm_type *st = arm_type_find("virtualNetworks/subnets");
	const struct arm_type *pt = arm_type_find("virtualNetworks/virtualNetworkPeerings");
	json_t *subs = json_object_get(props, "subnets");
	json_t *peers = json_object_get(props, "virtualNetworkPeerings"), *c;
	size_t i;

	if (!json_is_array(subs)) {
		subs = json_array();
		json_object_set_new(props, "subnets", subs);
	}
	json_array_foreach(subs, i, c)
		normalize_child(e, c, w->id, st, state, find_named(json_path(w->existing,
		    "properties", "subnets", NULL), json_str(c, "name")));
	/* a VNet PUT without peerings keeps them */
	if (!json_is_array(peers)) {
		json_t *old = json_path(w->existing, "properties", "virtualNetworkPeerings", NULL);
		json_object_set_new(props, "virtualNetworkPeerings",
		    json_is_array(old) ? json_deep_copy(old) : json_array());
		return;
	}
	json_array_foreach(peers, i, c)
		normalize_child(e, c, w->id, pt, state, find_named(json_path(w->existing,
		    "properties", "virtualNetworkPeerings", NULL), json_str(c, "name")));
}

/* A top-level resource stored under its own id. */
static void
store_top(struct emulator *e, const struct arm_write *w, json_t *obj, const char *state)
{
	const struct arm_type *t = w->t;
	json_t *props, *c;
	size_t i;

	json_object_set_new(obj, "id", json_string(w->id));
	json_object_set_new(obj, "type", json_string(t->type));
	if (!json_is_object(json_object_get(obj, "properties")))
		json_object_set_new(obj, "properties", json_object());
	props = json_object_get(obj, "properties");
	emu_store_etag(e, obj);
	arm_set_state(obj, state);
	if (t->guid)
		set_guid(e, props, w->existing);
	if (strcasecmp(t->path, "virtualNetworks") == 0) {
		vnet_children(e, w, props, state);
	} else {
		/* the other types whose children are written with them */
		static const char *const kids[][2] = { { "routeTables", "routes" },
			{ "networkSecurityGroups", "securityRules" },
			{ "expressRouteCircuits", "peerings" } };
		size_t k;

		for (k = 0; k < sizeof(kids) / sizeof(kids[0]); k++) {
			char tp[128];

			if (strcasecmp(t->path, kids[k][0]) != 0)
				continue;
			snprintf(tp, sizeof(tp), "%s/%s", t->path, kids[k][1]);
			json_array_foreach(json_object_get(props, kids[k][1]), i, c)
				normalize_child(e, c, w->id, arm_type_find(tp), state,
				    find_named(json_path(w->existing, "properties", kids[k][1], NULL),
				    json_str(c, "name")));
		}
	}
	if (t->avnm)
		avnm_after_put(e, t->type, obj);
	arm_order(obj);
	emu_store_put(e, w->id, json_incref(obj));
}

/*
 * Peering states after a VNet or a peering was written; returns what the
 * answer shows (a peering after its sync).  Steals obj.
 */
static json_t *
after_write(struct emulator *e, struct emu_req *r, const struct arm_write *w, json_t *obj)
{
	json_t *parent = NULL, *child = NULL;

	if (strcasecmp(w->t->path, "virtualNetworks") == 0) {
		/* peerings elsewhere see this VNet's space: scan only when it is new or moved */
		if (w->existing == NULL ||
		    !json_equal(json_path(w->existing, "properties", "addressSpace", NULL),
		    json_path(obj, "properties", "addressSpace", NULL)))
			arm_peerings_sync_all(e, w->id, NULL);
		else
			arm_peerings_sync_near(e, w->id, NULL);
	} else if (strcasecmp(w->t->path, "virtualNetworks/virtualNetworkPeerings") == 0) {
		const char *sync = emu_query(r, "syncRemoteAddressSpace");

		arm_peerings_sync_near(e, json_str(w->pp, "id"),
		    sync != NULL && strcasecmp(sync, "true") == 0 ? w->id : NULL);
		/* the answer shows the state after the sync */
		json_decref(obj);
		emu_store_find(e, w->id, &parent, &child, NULL, NULL);
		obj = json_incref(child != NULL ? child : parent);
	}
	return obj;
}

/* Answers the write: at once, or 201/200 with the operation's headers. */
static void
reply_written(struct emulator *e, struct emu_req *r, const struct arm_write *w, json_t *obj)
{
	int status = w->existing != NULL ? 200 : 201;
	char *sub;
	struct emu_op *op;

	emu_op_name(r, "%s %s", w->existing != NULL ? "update" : "create", w->t->type);
	if (w->t->put_dur <= 0) {
		emu_reply_json(r, status, arm_wire(obj));
		return;
	}
	sub = arm_id_part(w->id, "subscriptions");
	op = lro_new(e, w->p->op, OP_PUT, NULL, w->id, sub,
	    arm_region_of(e, obj, w->p->parent_id), w->t->put_dur);
	free(sub);
	if (op == NULL) {
		emu_reply_oom(r);
		return;
	}
	arm_reply_lro(e, r, op, status, arm_wire(obj));
}

/* Finds what the PUT replaces; false when answered. */
static bool
put_target(struct emulator *e, struct emu_req *r, struct arm_path *p, json_t **pp,
    json_t **existing, size_t *idx)
{
	json_t *parent = NULL, *child = NULL, *arr = NULL, *pc = NULL;
	const char *lock_id = p->type->embed != NULL ? p->parent_id : p->id;
	struct emu_op *busy;
	bool found;

	*pp = NULL;
	if (p->parent_id != NULL && (!emu_store_find(e, p->parent_id, pp, &pc, NULL, NULL) ||
	    pc != NULL)) {
		emu_reply_error(r, 404, "ParentResourceNotFound",
		    "Can not perform requested operation on nested resource. Parent resource '%s' not found.",
		    emu_id_last(p->parent_id));
		return false;
	}
	found = emu_store_find(e, p->id, &parent, &child, &arr, idx);
	*existing = found ? (child != NULL ? child : parent) : NULL;
	if (found && p->type->embed == NULL && child != NULL)
		*existing = NULL;
	if (!arm_if_match_ok(r, *existing))
		return false;
	busy = lro_busy(e, lock_id);
	if (busy != NULL) {
		arm_reply_busy(r, busy, p->id);
		return false;
	}
	return true;
}

void
arm_put_resource(struct emulator *e, struct emu_req *r, struct arm_path *p)
{
	const struct arm_type *t = p->type;
	struct arm_write w = { .t = t, .p = p, .body = r->parsed };
	const char *state = t->put_dur > 0 ? "Updating" : "Succeeded";
	json_t *obj;
	size_t idx = 0;
	char *id = NULL;

	if (!body_ok(r) || !put_target(e, r, p, &w.pp, &w.existing, &idx))
		return;
	/* held: replacing the stored object below would free it */
	json_incref(w.existing);
	id = strdup(w.existing != NULL && json_str(w.existing, "id") != NULL ?
	    json_str(w.existing, "id") : p->id);
	if (id == NULL) {
		emu_reply_oom(r);
		goto done;
	}
	w.id = id;
	if (t->location && json_str(w.body, "location") == NULL) {
		emu_reply_error(r, 400, "LocationRequired",
		    "The location property is required for this definition.");
		goto done;
	}
	if (t->validate != NULL && t->validate(e, r, &w) != 0)
		goto done;
	obj = json_deep_copy(w.body);
	if (obj == NULL) {
		emu_reply_oom(r);
		goto done;
	}
	json_object_set_new(obj, "name", json_string(w.existing != NULL &&
	    json_str(w.existing, "name") ? json_str(w.existing, "name") : p->name));
	if (t->embed != NULL)
		store_child(e, &w, obj, state, idx);
	else
		store_top(e, &w, obj, state);
	obj = after_write(e, r, &w, obj);
	reply_written(e, r, &w, obj);
	json_decref(obj);
done:
	json_decref(w.existing);
	free(id);
}
