/*
 * Resource groups on the emulator, served as Microsoft.Resources serves
 * them (api-version 2021-04-01, the REST spec's
 * specification/resources/resource-manager/Microsoft.Resources/stable/2021-04-01/resources.json):
 *
 *   GET    /subscriptions/{s}/resourcegroups            Resource Groups - List
 *   GET    /subscriptions/{s}/resourcegroups/{rg}       Resource Groups - Get
 *   HEAD   /subscriptions/{s}/resourcegroups/{rg}       Resource Groups - Check Existence (204/404)
 *   PUT    /subscriptions/{s}/resourcegroups/{rg}       Resource Groups - Create Or Update (200/201)
 *   DELETE /subscriptions/{s}/resourcegroups/{rg}       Resource Groups - Delete (202, then gone)
 *   GET    /subscriptions/{s}/resourcegroups/{rg}/resources   Resources - List By Resource Group
 *
 * https://learn.microsoft.com/rest/api/resources/resource-groups and
 * https://learn.microsoft.com/rest/api/resources/resources/list-by-resource-group.
 * Names compare case-insensitively and keep the casing they were created
 * with.  Deleting a group deletes every resource in it ("Resource Groups -
 * Delete": "When you delete a resource group, all of its resources are also
 * deleted"), which ARM does as a long-running operation.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "plan/topology.h"
#include "providers/emulator/emu.h"

/* Documented nowhere; a delete of a group with a few resources takes tens of seconds. */
#define RG_DELETE_SECONDS 30.0

static int
cmp_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static json_t *
rg_wire(const json_t *g)
{
	return emu_store_rg_wire(g);
}

static void
rg_list(struct emulator *e, struct emu_req *r, const char *sub)
{
	json_t *value = json_array(), *g;
	const char **keys = NULL;
	const char *k;
	size_t n = 0, i, len = strlen(sub);

	keys = malloc((json_object_size(e->rgs) + 1) * sizeof(*keys));
	if (keys == NULL || value == NULL) {
		free(keys);
		json_decref(value);
		emu_reply_oom(r);
		return;
	}
	json_object_foreach(e->rgs, k, g)
		if (strncasecmp(k, sub, len) == 0 && k[len] == '/')
			keys[n++] = k;
	qsort(keys, n, sizeof(*keys), cmp_key);
	for (i = 0; i < n; i++)
		json_array_append_new(value, rg_wire(json_object_get(e->rgs, keys[i])));
	free(keys);
	emu_op_name(r, "list resource groups");
	emu_reply_json(r, 200, json_pack("{s:o}", "value", value));
}

/* "/subscriptions/s/resourcegroups/rg/" lowercase: every resource of the group starts so */
static char *
rg_prefix(const char *sub, const char *rg)
{
	return emu_lower_printf("/subscriptions/%s/resourcegroups/%s/", sub, rg);
}

/* Top-level resources of the group: ".../providers/{ns}/{type}/{name}" and nothing below. */
static bool
top_level(const char *key, size_t plen)
{
	const char *rest = key + plen;
	size_t slashes = 0;

	if (strncmp(rest, "providers/", 10) != 0)
		return false;
	for (rest += 10; *rest != '\0'; rest++)
		slashes += *rest == '/';
	return slashes == 2;
}

static void
rg_resources(struct emulator *e, struct emu_req *r, const char *sub, const char *rg)
{
	char *pref = rg_prefix(sub, rg);
	size_t plen = pref != NULL ? strlen(pref) : 0, n, i;
	const char **keys;
	json_t *value = json_array();

	if (pref == NULL || value == NULL) {
		free(pref);
		json_decref(value);
		emu_reply_oom(r);
		return;
	}
	emu_store_sorted(e, &keys, &n);
	for (i = emu_store_lower_bound(e, pref); i < n && strncmp(keys[i], pref, plen) == 0; i++) {
		json_t *res = json_object_get(e->res, keys[i]);
		json_t *row;

		if (!top_level(keys[i], plen))
			continue;
		/* GenericResourceExpanded: the envelope, not the properties */
		row = json_pack("{s:O?,s:O?,s:O?,s:O?}", "id", json_object_get(res, "id"),
		    "name", json_object_get(res, "name"), "type", json_object_get(res, "type"),
		    "location", json_object_get(res, "location"));
		if (json_object_get(res, "tags") != NULL)
			json_object_set(row, "tags", json_object_get(res, "tags"));
		if (json_object_get(res, "sku") != NULL)
			json_object_set(row, "sku", json_object_get(res, "sku"));
		json_array_append_new(value, row);
	}
	free(pref);
	emu_op_name(r, "list resources of resource group");
	emu_reply_json(r, 200, json_pack("{s:o}", "value", value));
}

/* Every resource of the group goes with it; false on out of memory. */
static bool
rg_empty(struct emulator *e, const char *sub, const char *rg)
{
	char *pref = rg_prefix(sub, rg);
	size_t plen = pref != NULL ? strlen(pref) : 0, n, i, nd = 0;
	const char **keys;
	char **doomed;

	emu_store_sorted(e, &keys, &n);
	doomed = malloc((n + 1) * sizeof(*doomed));
	if (doomed == NULL || pref == NULL) {
		e->oom = true; /* the group and its resources stay */
		free(doomed);
		free(pref);
		return false;
	}
	for (i = emu_store_lower_bound(e, pref); i < n && strncmp(keys[i], pref, plen) == 0; i++)
		if ((doomed[nd] = emu_strdup(keys[i])) != NULL)
			nd++;
	for (i = 0; i < nd; i++) {
		avnm_forget(e, doomed[i]);
		emu_store_del(e, doomed[i]);
		free(doomed[i]);
	}
	free(doomed);
	free(pref);
	return true;
}

static void
delete_done(struct emulator *e, struct emu_op *op)
{
	char *sub = arm_id_part(op->target, "subscriptions");
	char *rg = arm_id_part(op->target, "resourceGroups");

	if (op->state == OP_SUCCEEDED && sub != NULL && rg != NULL) {
		if (rg_empty(e, sub, rg))
			emu_store_rg_del(e, sub, rg);
	} else if (sub != NULL && rg != NULL && emu_store_rg_get(e, sub, rg) != NULL) {
		json_object_set_new(json_object_get(emu_store_rg_get(e, sub, rg), "properties"),
		    "provisioningState", json_string("Succeeded"));
		emu_store_touch_docs(e);
	}
	op->result_status = 200;
	free(sub);
	free(rg);
}

static void
rg_put(struct emulator *e, struct emu_req *r, const char *sub, const char *rg, json_t *g)
{
	const char *loc = json_str(r->parsed, "location");
	json_t *tags = json_object_get(r->parsed, "tags");
	const char *managed = json_str(r->parsed, "managedBy");
	bool existed = g != NULL;

	if (!json_is_object(r->parsed) || loc == NULL) {
		emu_reply_error(r, 400, "LocationRequired",
		    "The location property is required for this definition.");
		return;
	}
	if (tags != NULL && !json_is_object(tags)) {
		emu_reply_error(r, 400, "InvalidRequestContent",
		    "The request content was invalid and could not be deserialized: 'tags must be an object'.");
		return;
	}
	/* resources.json: "It cannot be changed after the resource group has been created." */
	if (existed && !topo_location_equal(json_str(g, "location"), loc)) {
		emu_reply_error(r, 409, "InvalidResourceGroupLocation",
		    "Invalid resource group location '%s'. The Resource group already exists in location '%s'.",
		    loc, json_str(g, "location"));
		return;
	}
	if (existed && json_is_object(json_object_get(g, "properties")) &&
	    json_str(json_object_get(g, "properties"), "provisioningState") != NULL &&
	    strcmp(json_str(json_object_get(g, "properties"), "provisioningState"), "Deleting") == 0) {
		emu_reply_error(r, 409, "ResourceGroupBeingDeleted",
		    "The resource group '%s' is in deprovisioning state and cannot perform this operation.",
		    rg);
		return;
	}
	emu_store_rg_put(e, sub, rg, loc);
	g = emu_store_rg_get(e, sub, rg);
	/* a PUT: the body's tags and managedBy replace the group's, absent ones go */
	if (tags != NULL)
		json_object_set(g, "tags", tags);
	else
		json_object_del(g, "tags");
	if (managed != NULL)
		json_object_set_new(g, "managedBy", json_string(managed));
	else
		json_object_del(g, "managedBy");
	emu_op_name(r, "create resource group");
	emu_reply_json(r, existed ? 200 : 201, rg_wire(g));
}

static void
rg_delete(struct emulator *e, struct emu_req *r, const struct emu_call *c, json_t *g)
{
	const char *sub = c->sub, *rg = c->rg;
	struct emu_op *op;
	char *id;

	emu_op_name(r, "delete resource group");
	if (g == NULL) {
		emu_reply_error(r, 404, "ResourceGroupNotFound", "Resource group '%s' could not be found.",
		    rg);
		return;
	}
	id = emu_printf("/subscriptions/%s/resourceGroups/%s", sub, json_str(g, "name") != NULL ?
	    json_str(g, "name") : rg);
	if (!json_is_object(json_object_get(g, "properties")))
		json_object_set_new(g, "properties", json_object());
	json_object_set_new(json_object_get(g, "properties"), "provisioningState",
	    json_string("Deleting"));
	emu_store_touch_docs(e);
	op = lro_new(e, c->route->op, OP_DELETE, "deleteResourceGroup", id, sub,
	    json_str(g, "location"), RG_DELETE_SECONDS);
	free(id);
	if (op == NULL) {
		emu_reply_oom(r);
		return;
	}
	arm_reply_lro(e, r, op, 202, NULL);
}

static bool
only_get(struct emu_req *r)
{
	if (strcmp(r->method, "GET") == 0)
		return true;
	emu_reply_bad_method(r);
	return false;
}

void
rgroups_list(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	if (emu_api_ok(r, EMU_NS_RESOURCES) && only_get(r))
		rg_list(e, r, c->sub);
}

void
rgroups_resources(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	if (!emu_api_ok(r, EMU_NS_RESOURCES) || !only_get(r))
		return;
	if (emu_store_rg_get(e, c->sub, c->rg) == NULL) {
		emu_reply_error(r, 404, "ResourceGroupNotFound", "Resource group '%s' could not be found.",
		    c->rg);
		return;
	}
	rg_resources(e, r, c->sub, c->rg);
}

void
rgroups_one(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	json_t *g;

	if (!emu_api_ok(r, EMU_NS_RESOURCES))
		return;
	g = emu_store_rg_get(e, c->sub, c->rg);
	if (strcmp(r->method, "PUT") == 0) {
		rg_put(e, r, c->sub, c->rg, g);
		return;
	}
	if (strcmp(r->method, "DELETE") == 0) {
		rg_delete(e, r, c, g);
		return;
	}
	if (strcmp(r->method, "HEAD") == 0) {
		/* Check Existence: 204 or 404, no body */
		emu_op_name(r, "check resource group");
		emu_reply_empty(r, g != NULL ? 204 : 404);
		return;
	}
	if (!only_get(r))
		return;
	if (g == NULL) {
		emu_reply_error(r, 404, "ResourceGroupNotFound", "Resource group '%s' could not be found.",
		    c->rg);
		return;
	}
	emu_op_name(r, "get resource group");
	emu_reply_json(r, 200, rg_wire(g));
}

/* A group's delete holds it: nothing under it may be written meanwhile. */
const struct emu_op_class rgroups_delete_op = {
	.name = "resource group delete",
	.done = delete_done,
	.holds = true,
};
