/*
 * ARM's Microsoft.Network resource routes as the emulator serves them:
 * a path resolved against the type table (arm_types.c), and GET, PATCH and DELETE
 * (behind a long-running operation for the types that have one), with
 * ARM's error codes; PUT is arm_put.c, lists arm_list.c.  The route table
 * (router.c) sends here every path under a resource group's
 * Microsoft.Network that is not an action, and the actions' common
 * checks (arm_action_prelude).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "plan/topology.h"
#include "providers/emulator/arm.h"
#include "providers/emulator/tenant.h"

static void
bad_type(struct emu_req *r, const char *type)
{
	emu_reply_error(r, 404, "InvalidResourceType",
	    "The resource type '%s' could not be found in the namespace 'Microsoft.Network' for api version '%s'.",
	    type, emu_query(r, "api-version"));
}

static void
path_free(struct arm_path *p)
{
	free(p->id);
	free(p->parent_id);
}

/* The id prefix: "/subscriptions/S/resourceGroups/R/providers/Microsoft.Network" */
static char *
id_base(const struct arm_path *p)
{
	return emu_printf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Network", p->sub,
	    p->rg);
}

/*
 * Resolves rest[] against the type table.  Answers 404 and returns -1 on
 * an unknown type.
 */
static int
path_resolve(struct emu_req *r, struct arm_path *p, const struct emu_route *action)
{
	char typepath[512] = "";
	size_t pairs = p->nrest / 2, k;
	const struct arm_type *t = NULL, *prev = NULL;
	char *id;

	id = id_base(p);
	for (k = 0; k < pairs; k++) {
		const char *seg = p->rest[2 * k];
		char *nid;

		if (id == NULL)
			goto oom;
		if (k > 0)
			strncat(typepath, "/", sizeof(typepath) - strlen(typepath) - 1);
		strncat(typepath, seg, sizeof(typepath) - strlen(typepath) - 1);
		prev = t;
		t = arm_type_find(typepath);
		if (t == NULL) {
			/* an action that takes a name (a circuit peering's route table and device) */
			if (action != NULL && prev != NULL && k == pairs - 1 && p->nrest % 2 == 0) {
				p->action = action->action;
				p->type = prev;
				p->id = id;
				p->name = p->rest[2 * k + 1];
				return 0;
			}
			bad_type(r, typepath);
			free(id);
			return -1;
		}
		if (k > 0 && k == pairs - 1 && p->nrest % 2 == 0) {
			free(p->parent_id);
			if ((p->parent_id = emu_strdup(id)) == NULL)
				goto oom;
		}
		nid = emu_printf("%s/%s/%s", id, arm_type_leaf(t), p->rest[2 * k + 1]);
		free(id);
		id = nid;
	}
	if (id == NULL)
		goto oom;
	if (p->nrest % 2 == 1) {
		const char *last = p->rest[p->nrest - 1];
		char full[600];

		snprintf(full, sizeof(full), "%s%s%s", typepath, pairs > 0 ? "/" : "", last);
		if (arm_type_find(full) != NULL) {
			p->collection = true;
			p->type = arm_type_find(full);
			p->ptype = t;
			p->parent_id = id;
			return 0;
		}
		/* the route table named the action: the path ends with it */
		if (action != NULL && t != NULL) {
			p->action = action->action;
			p->type = t;
			p->id = id;
			return 0;
		}
		bad_type(r, full);
		free(id);
		return -1;
	}
	p->type = t;
	p->ptype = prev;
	p->id = id;
	p->name = p->rest[p->nrest - 1];
	return 0;
oom:
	free(id);
	emu_reply_oom(r);
	return -1;
}

/* --- reads, patches and deletes ----------------------------------------------------- */

static json_t *
merge(json_t *target, const json_t *patch)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)patch, k, v) {
		json_t *cur = json_object_get(target, k);
		if (json_is_null(v))
			json_object_del(target, k);
		else if (json_is_object(v) && json_is_object(cur) && strcmp(k, "tags") != 0)
			merge(cur, v);
		else
			json_object_set_new(target, k, json_deep_copy(v));
	}
	return target;
}

static void
patch_resource(struct emulator *e, struct emu_req *r, struct arm_path *p)
{
	json_t *parent = NULL, *child = NULL, *obj;
	struct emu_op *busy;

	if (r->parsed == NULL || !json_is_object(r->parsed)) {
		emu_reply_error(r, 400, "InvalidRequestContent",
		    "The request content was invalid and could not be deserialized: '%s'.",
		    r->body_len == 0 ? "the request body is empty" : "the request body must be a JSON object");
		return;
	}
	if (!emu_store_find(e, p->id, &parent, &child, NULL, NULL) || child != NULL || p->type->embed) {
		emu_reply_error(r, 404, "ResourceNotFound",
		    "The Resource '%s/%s' under resource group '%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
		    p->type->type, p->name, p->rg);
		return;
	}
	if (!arm_if_match_ok(r, parent))
		return;
	busy = lro_busy(e, p->id);
	if (busy != NULL) {
		arm_reply_busy(r, busy, p->id);
		return;
	}
	obj = parent;
	/* PATCH tags replaces all tags; other fields follow JSON merge-patch */
	merge(obj, r->parsed);
	emu_store_etag(e, obj);
	emu_store_touch(e, json_str(obj, "id"));
	/* only a change of properties can move the address space peerings see */
	if (strcasecmp(p->type->path, "virtualNetworks") == 0 &&
	    json_object_get(r->parsed, "properties") != NULL)
		arm_peerings_sync_all(e, json_str(obj, "id"), NULL);
	emu_op_name(r, "patch %s", p->type->type);
	emu_reply_json(r, 200, arm_wire(obj));
}

static void
get_resource(struct emulator *e, struct emu_req *r, struct arm_path *p)
{
	json_t *parent = NULL, *child = NULL, *pp, *pc;
	bool found = emu_store_find(e, p->id, &parent, &child, NULL, NULL);

	if (!found || (p->type->embed != NULL) != (child != NULL)) {
		bool pm = p->parent_id != NULL && !emu_store_find(e, p->parent_id, &pp, &pc, NULL, NULL);
		arm_reply_not_found(r, p, pm);
		return;
	}
	emu_op_name(r, "get %s", p->type->type);
	emu_reply_json(r, 200, arm_wire(child != NULL ? child : parent));
}

static void write_done(struct emulator *e, struct emu_op *op);

static void
delete_resource(struct emulator *e, struct emu_req *r, struct arm_path *p)
{
	json_t *parent = NULL, *child = NULL;
	const struct arm_type *t = p->type;
	struct emu_op *busy;
	bool found = emu_store_find(e, p->id, &parent, &child, NULL, NULL);
	json_t *obj;
	char *id;

	emu_op_name(r, "delete %s", t->type);
	if (!found || (t->embed != NULL) != (child != NULL)) {
		emu_reply_empty(r, 204);
		return;
	}
	obj = child != NULL ? child : parent;
	if (!arm_if_match_ok(r, obj))
		return;
	busy = lro_busy(e, t->embed != NULL ? p->parent_id : p->id);
	if (busy != NULL) {
		arm_reply_busy(r, busy, p->id);
		return;
	}
	id = emu_strdup(json_str(obj, "id") != NULL ? json_str(obj, "id") : p->id);
	if (id == NULL) {
		emu_reply_oom(r);
		return;
	}
	if (t->check_delete != NULL && t->check_delete(e, r, t, id, obj) != 0)
		goto done;
	if (t->del_dur > 0) {
		char *sub = arm_id_part(id, "subscriptions");
		struct emu_op *op;

		arm_set_state(obj, "Deleting");
		emu_store_touch(e, json_str(parent, "id"));
		op = lro_new(e, p->op, OP_DELETE, NULL, id, sub, arm_region_of(e, obj, p->parent_id),
		    t->del_dur);
		free(sub);
		if (op == NULL) {
			emu_reply_oom(r);
			goto done;
		}
		arm_reply_lro(e, r, op, 202, NULL);
	} else {
		struct emu_op fake = { .kind = OP_DELETE, .state = OP_SUCCEEDED };
		fake.target = id;
		write_done(e, &fake);
		emu_reply_empty(r, 200);
	}
done:
	free(id);
}

/* An embedded child leaves its parent's array; a peering's remote loses its partner. */
static void
remove_child(struct emulator *e, json_t *parent, json_t *child, json_t *arr, size_t idx)
{
	const char *rid = json_path_str(child, "properties", "remoteVirtualNetwork", "id", NULL);
	/* copied: removing the child frees what rid points into */
	char *remote = rid != NULL ? emu_strdup(rid) : NULL;

	if (rid != NULL && remote == NULL) {
		e->oom = true;
		return;
	}
	json_array_remove(arr, idx);
	emu_store_etag(e, parent);
	emu_store_touch(e, json_str(parent, "id"));
	if (remote != NULL) {
		json_t *rv = emu_store_get(e, remote);
		if (rv != NULL)
			arm_sync_vnet(e, rv, NULL, json_str(parent, "id"));
		free(remote);
	}
}

/* Stored children (network groups, members, configurations) go with their parent. */
static void
remove_stored_children(struct emulator *e, const char *pid)
{
	char *pref = emu_lower_printf("%s/", pid);
	const char **keys;
	size_t n, i, start, nkill = 0;
	char **kill = NULL;

	if (pref == NULL) {
		e->oom = true;
		goto done;
	}
	start = emu_store_lower_bound(e, pref);
	emu_store_sorted(e, &keys, &n);
	for (i = start; i < n && strncmp(keys[i], pref, strlen(pref)) == 0; i++) {
		char **nk = realloc(kill, (nkill + 1) * sizeof(*kill));

		if (nk == NULL || (nk[nkill] = emu_strdup(keys[i])) == NULL) {
			kill = nk != NULL ? nk : kill;
			e->oom = true; /* the rest stay, as orphans */
			break;
		}
		kill = nk;
		nkill++;
	}
	for (i = 0; i < nkill; i++) {
		avnm_forget(e, kill[i]);
		emu_store_del(e, kill[i]);
		free(kill[i]);
	}
done:
	free(kill);
	free(pref);
}

/* Deletes a resource (top-level or embedded) and what hangs under it. */
static void
remove_resource(struct emulator *e, const char *id)
{
	json_t *parent = NULL, *child = NULL, *arr = NULL;
	size_t idx = 0;
	const char *type;
	bool vnet;
	char *pid;

	if (!emu_store_find(e, id, &parent, &child, &arr, &idx))
		return;
	if (child != NULL) {
		remove_child(e, parent, child, arr, idx);
		return;
	}
	type = json_str(parent, "type");
	vnet = type != NULL && strcasecmp(type, TYPE_VNET) == 0;
	pid = emu_strdup(json_str(parent, "id") != NULL ? json_str(parent, "id") : id);
	if (pid == NULL) {
		e->oom = true;
		return;
	}
	remove_stored_children(e, pid);
	if (type != NULL && (strcasecmp(type, TYPE_NETWORK_MANAGER) == 0 ||
	    strcasecmp(type, TYPE_CONNECTIVITY_CONFIG) == 0 ||
	    strcasecmp(type, TYPE_NETWORK_GROUP) == 0))
		avnm_forget(e, pid);
	emu_store_del(e, pid);
	if (vnet)
		arm_peerings_sync_all(e, pid, NULL);
	free(pid);
}

static void
write_done(struct emulator *e, struct emu_op *op)
{
	json_t *parent = NULL, *child = NULL, *obj;
	const char *final = op->state == OP_SUCCEEDED ? "Succeeded" :
	    op->state == OP_CANCELED ? "Canceled" : "Failed";

	if (op->kind == OP_DELETE && op->state == OP_SUCCEEDED) {
		remove_resource(e, op->target);
		op->result_status = 204;
		return;
	}
	if (!emu_store_find(e, op->target, &parent, &child, NULL, NULL))
		return;
	obj = child != NULL ? child : parent;
	arm_set_state(obj, final);
	if (child == NULL) {
		/* children written with their parent finish with it */
		const char *props[] = { "subnets", "virtualNetworkPeerings", "routes", "peerings",
			"securityRules" };
		size_t k, i;
		json_t *c;

		for (k = 0; k < 5; k++)
			json_array_foreach(json_path(obj, "properties", props[k], NULL), i, c) {
				const char *st = json_path_str(c, "properties", "provisioningState", NULL);
				if (st != NULL && (strcmp(st, "Updating") == 0 || strcmp(st, "Creating") == 0))
					arm_set_state(c, final);
			}
	}
	emu_store_touch(e, json_str(parent, "id"));
	/* a PUT's result is the resource as it stands when polled (lro.c), not
	 * a copy kept with every finished operation: 10,000 spoke PUTs kept
	 * 150 MB of copies */
	op->result_status = op->kind == OP_DELETE ? 204 : 200;
}


enum emu_class
arm_classify(const struct emu_req *r, char *sub, size_t subsize)
{
	const char *p = r->path;

	sub[0] = '\0';
	if (strncasecmp(p, "/subscriptions/", 15) == 0) {
		const char *s = p + 15, *end = strchr(s, '/');
		size_t len = end != NULL ? (size_t)(end - s) : strlen(s);

		if (len < subsize) {
			memcpy(sub, s, len);
			sub[len] = '\0';
		}
	}
	if (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0)
		return EMU_CLASS_READ;
	if (strcmp(r->method, "DELETE") == 0)
		return EMU_CLASS_DELETE;
	return EMU_CLASS_WRITE;
}


/* A PUT's result is the resource as it stands when polled. */
static void
write_result(struct emulator *e, struct emu_req *r, const struct emu_op *op)
{
	json_t *parent = NULL, *child = NULL;

	if (op->kind != OP_PUT) {
		emu_reply_empty(r, op->result_status);
		return;
	}
	if (!emu_store_find(e, op->target, &parent, &child, NULL, NULL)) {
		emu_reply_error(r, 404, "ResourceNotFound",
		    "The resource '%s' written by operation '%s' no longer exists.", op->target, op->id);
		return;
	}
	emu_reply_json(r, 200, arm_wire(child != NULL ? child : parent));
}

/* A write holds its resource and children until it ends. */
const struct emu_op_class arm_write_op = {
	.name = "resource write",
	.done = write_done,
	.result = write_result,
	.holds = true,
};

/* --- dispatch from the route table ---------------------------------------------------- */

static void
method_not_allowed(struct emu_req *r)
{
	emu_reply_bad_method(r);
}

void
arm_subscription_get(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	emu_op_name(r, "get subscription");
	emu_reply_json(r, 200, json_pack("{s:o,s:s,s:s,s:s}", "id",
	    json_sprintf("/subscriptions/%s", c->sub), "subscriptionId", c->sub, "displayName",
	    tenant_sub_name(e, c->sub), "state", "Enabled"));
}

void
arm_bad_namespace(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	/* /subscriptions/{s}[/resourceGroups/{rg}]/providers/{ns}/... */
	const char *ns = c->seg[c->rg != NULL ? 5 : 3];

	(void)e;
	emu_reply_error(r, 404, "InvalidResourceNamespace", "The resource namespace '%s' is invalid.",
	    ns);
}

void
arm_bad_location(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	(void)e;
	/* /subscriptions/{s}/providers/Microsoft.Network/locations/{l}/{what}... */
	emu_reply_error(r, 404, "InvalidResourceType",
	    "The resource type 'locations/%s' could not be found in the namespace 'Microsoft.Network' for api version '%s'.",
	    c->nseg > 6 ? c->seg[6] : "", emu_query(r, "api-version"));
}

void
arm_subscription_scope(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	struct arm_path p = { .sub = c->sub, .rest = c->seg + 4, .nrest = c->nseg - 4 };
	/* only lists of top-level types */
	const struct arm_type *t = p.nrest == 1 ? arm_type_find(p.rest[0]) : NULL;

	if (p.nrest == 0) {
		bad_type(r, "");
		return;
	}
	if (t == NULL || strchr(t->path, '/') != NULL) {
		bad_type(r, p.rest[0]);
		return;
	}
	if (strcmp(r->method, "GET") != 0) {
		method_not_allowed(r);
		return;
	}
	p.type = t;
	p.collection = true;
	arm_list_resources(e, r, &p);
}

/* The path below .../resourceGroups/{rg}/providers/Microsoft.Network. */
static void
path_of(struct arm_path *p, const struct emu_call *c)
{
	memset(p, 0, sizeof(*p));
	p->sub = c->sub;
	p->rg = c->rg;
	p->rest = c->seg + 6;
	p->nrest = c->nseg - 6;
	p->op = c->route->op;
}

void
arm_network(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	struct arm_path p;

	path_of(&p, c);
	if (p.nrest == 0) {
		bad_type(r, "");
		return;
	}
	/* an action asked with another method than its route's */
	if (path_resolve(r, &p, c->other) != 0)
		goto done;
	if (p.action != NULL || (p.collection && strcmp(r->method, "GET") != 0)) {
		method_not_allowed(r);
		goto done;
	}
	if (p.collection)
		arm_list_resources(e, r, &p);
	else if (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0)
		get_resource(e, r, &p);
	else if (strcmp(r->method, "PUT") == 0)
		arm_put_resource(e, r, &p);
	else if (strcmp(r->method, "PATCH") == 0)
		patch_resource(e, r, &p);
	else if (strcmp(r->method, "DELETE") == 0)
		delete_resource(e, r, &p);
	else
		method_not_allowed(r);
done:
	path_free(&p);
}

int
arm_action_prelude(struct emulator *e, struct emu_req *r, struct emu_call *c)
{
	struct arm_path p;
	json_t *pp, *pc;
	int rc = -1;

	path_of(&p, c);
	if (path_resolve(r, &p, c->route) != 0)
		goto done;
	if (r->body_len > 0 && r->parsed == NULL) {
		emu_reply_error(r, 400, "InvalidRequestContent",
		    "The request content was invalid and could not be deserialized: 'the request body is not valid JSON'.");
		goto done;
	}
	if (!emu_store_find(e, p.id, &pp, &pc, NULL, NULL)) {
		arm_reply_not_found(r, &p, false);
		goto done;
	}
	emu_op_name(r, "action %s", p.action);
	c->id = strdup(p.id);
	c->target = strdup(json_str(pp, "id") != NULL ? json_str(pp, "id") : p.id);
	c->name = p.name != NULL ? p.name : c->seg[c->nseg - 1];
	if (c->id == NULL || c->target == NULL) {
		emu_reply_oom(r);
		goto done;
	}
	rc = 0;
done:
	path_free(&p);
	return rc;
}
