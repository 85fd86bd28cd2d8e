/*
 * The tenant's directory as ARM shows it, for scope resolution: the
 * subscriptions a token can see ("Subscriptions - List", with their
 * display names) and the management group hierarchy ("Management Groups -
 * Get Descendants").  The names and the hierarchy come from the clients
 * file's "subscriptions" and "managementGroups" (docs/emulator.md); a
 * subscription the estate holds but the directory does not name shows its
 * id as its display name.
 *
 * Shapes: https://learn.microsoft.com/rest/api/resources/subscriptions/list
 * (api-version 2022-12-01) and
 * https://learn.microsoft.com/rest/api/managementgroups/management-groups/get-descendants
 * (api-version 2020-05-01).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/arm_api.h"
#include "plan/jsonutil.h"
#include "providers/emulator/emu.h"
#include "providers/emulator/tenant.h"

#define MG_PREFIX "/providers/Microsoft.Management/managementGroups/"

static const char *const api_subscriptions[] = { ARM_API_SUBSCRIPTIONS, "2021-01-01",
	"2020-01-01", "2016-06-01", NULL };
static const char *const api_mgmt[] = { ARM_API_MANAGEMENT_GROUPS, "2021-04-01", "2023-04-01",
	NULL };

int
tenant_load(struct emulator *e, const json_t *doc, struct nw_err *err)
{
	json_t *subs = json_object_get(doc, "subscriptions");
	json_t *mgs = json_object_get(doc, "managementGroups"), *v;
	size_t i;

	if (subs != NULL && !json_is_array(subs))
		return err_set(err, NW_EINPUT, "clients: /subscriptions: expected an array");
	json_array_foreach(subs, i, v)
		if (json_str(v, "subscriptionId") == NULL || json_str(v, "displayName") == NULL)
			return err_set(err, NW_EINPUT, "clients: /subscriptions/%zu: needs "
			    "subscriptionId and displayName", i);
	if (mgs != NULL && !json_is_array(mgs))
		return err_set(err, NW_EINPUT, "clients: /managementGroups: expected an array");
	json_array_foreach(mgs, i, v) {
		json_t *ms = json_object_get(v, "subscriptions");
		if (json_str(v, "name") == NULL)
			return err_set(err, NW_EINPUT, "clients: /managementGroups/%zu/name: missing", i);
		if (ms != NULL && !json_is_array(ms))
			return err_set(err, NW_EINPUT, "clients: /managementGroups/%zu/subscriptions: "
			    "expected an array of subscription ids", i);
	}
	json_decref(e->directory);
	e->directory = json_pack("{s:O?,s:O?}", "subscriptions", subs, "managementGroups", mgs);
	return 0;
}

/* The entry of the directory's list whose field key is value (ignoring case), or NULL. */
static const json_t *
dir_find(struct emulator *e, const char *list, const char *key, const char *value)
{
	return json_array_find(json_object_get(e->directory, list), key, value, strcasecmp, NULL);
}

static const json_t *
dir_sub(struct emulator *e, const char *id)
{
	return dir_find(e, "subscriptions", "subscriptionId", id);
}

const char *
tenant_sub_name(struct emulator *e, const char *id)
{
	const json_t *s = dir_sub(e, id);

	return s != NULL ? json_str(s, "displayName") : id;
}

static void
add_id(json_t *ids, const char *s)
{
	char *low;

	if (strncasecmp(s, "/subscriptions/", 15) == 0)
		s += 15;
	low = emu_lower(s);
	json_object_set_new(ids, low, json_true());
	free(low);
}

/* Every subscription the estate or the directory holds, lowercase id -> true (new reference). */
static json_t *
all_subs(struct emulator *e)
{
	json_t *ids = json_object(), *v;
	const char *k;
	size_t i;

	json_array_foreach(json_object_get(e->doc, "subscriptions"), i, v)
		if (json_is_string(v))
			add_id(ids, json_string_value(v));
	json_object_foreach(e->rgs, k, v) {
		char *sub = emu_strdup(k);
		if (strchr(sub, '/') != NULL)
			*strchr(sub, '/') = '\0';
		add_id(ids, sub);
		free(sub);
	}
	json_array_foreach(json_object_get(e->directory, "subscriptions"), i, v)
		add_id(ids, json_str(v, "subscriptionId"));
	return ids;
}

/* The tenant of the request's token, or NULL (no auth, or a managed identity). */
static const char *
token_tenant(struct emulator *e, struct emu_req *r)
{
	const char *h = emu_header_in(r, "authorization");
	json_t *t = h != NULL && strlen(h) > 7 ? json_object_get(e->tokens, h + 7) : NULL;
	const char *tenant = json_str(t, "tenant");

	return tenant != NULL && strcmp(tenant, "managed-identity") != 0 ? tenant : NULL;
}

static bool
api_ok(struct emu_req *r, const char *const *list, const char *ns)
{
	const char *api = emu_query(r, "api-version");

	if (str_in(api, list, strcmp))
		return true;
	if (api == NULL)
		emu_reply_error(r, 400, "MissingApiVersionParameter", "The api-version query parameter "
		    "(?api-version=) is required for all requests.");
	else
		emu_reply_error(r, 400, "InvalidApiVersionParameter", "The api-version '%s' is invalid. "
		    "The supported versions are '%s' for the namespace '%s'.", api, list[0], ns);
	return false;
}

void
tenant_subscriptions(struct emulator *e, struct emu_req *r)
{
	json_t *ids, *value = json_array(), *v;
	const char *k, *tenant = token_tenant(e, r);

	emu_op_name(r, "list subscriptions");
	if (strcmp(r->method, "GET") != 0) {
		json_decref(value);
		emu_reply_bad_method(r);
		return;
	}
	if (!api_ok(r, api_subscriptions, "Microsoft.Resources")) {
		json_decref(value);
		return;
	}
	ids = all_subs(e);
	json_object_foreach(ids, k, v) {
		const json_t *d = dir_sub(e, k);
		const char *t = d != NULL ? json_str(d, "tenantId") : NULL;
		/* a token sees the subscriptions of its own tenant */
		if (t != NULL && tenant != NULL && strcasecmp(t, tenant) != 0)
			continue;
		json_array_append_new(value, json_pack("{s:o,s:s,s:s,s:s,s:s,s:s,s:[]}", "id",
		    json_sprintf("/subscriptions/%s", d != NULL ? json_str(d, "subscriptionId") : k),
		    "subscriptionId", d != NULL ? json_str(d, "subscriptionId") : k, "tenantId",
		    t != NULL ? t : (tenant != NULL ? tenant : "00000000-0000-0000-0000-000000000000"),
		    "displayName", d != NULL ? json_str(d, "displayName") : k, "state", "Enabled",
		    "authorizationSource", "RoleBased", "managedByTenants"));
	}
	json_decref(ids);
	emu_reply_json(r, 200, json_pack("{s:o,s:{s:s,s:I}}", "value", value, "count", "type",
	    "Total", "value", (json_int_t)json_array_size(value)));
}

static const json_t *
find_mg(struct emulator *e, const char *name)
{
	return dir_find(e, "managementGroups", "name", name);
}

/* Appends the descendants of group mg (depth first), bounded by the directory's size. */
static void
descend(struct emulator *e, const json_t *mg, json_t *out, size_t depth)
{
	const char *name = json_str(mg, "name");
	json_t *v;
	size_t i;

	if (depth > json_array_size(json_object_get(e->directory, "managementGroups")))
		return; /* a cycle in the file: stop */
	json_array_foreach(json_object_get(mg, "subscriptions"), i, v) {
		const char *id = json_string_value(v);
		if (id == NULL)
			continue;
		json_array_append_new(out, json_pack("{s:o,s:s,s:s,s:{s:s,s:{s:o}}}", "id",
		    json_sprintf("/subscriptions/%s", id), "type",
		    "Microsoft.Management/managementGroups/subscriptions", "name", id, "properties",
		    "displayName", tenant_sub_name(e, id), "parent", "id",
		    json_sprintf(MG_PREFIX "%s", name)));
	}
	json_array_foreach(json_object_get(e->directory, "managementGroups"), i, v) {
		const char *parent = json_str(v, "parent");
		if (parent == NULL || strcasecmp(parent, name) != 0)
			continue;
		json_array_append_new(out, json_pack("{s:o,s:s,s:s,s:{s:s,s:{s:o}}}", "id",
		    json_sprintf(MG_PREFIX "%s", json_str(v, "name")), "type",
		    "Microsoft.Management/managementGroups", "name", json_str(v, "name"), "properties",
		    "displayName", json_str(v, "displayName") != NULL ? json_str(v, "displayName") :
		    json_str(v, "name"), "parent", "id", json_sprintf(MG_PREFIX "%s", name)));
		descend(e, v, out, depth + 1);
	}
}

void
tenant_mgmt_groups(struct emulator *e, struct emu_req *r)
{
	const char *rest = r->path + strlen(MG_PREFIX);
	const char *slash = strchr(rest, '/');
	char name[128];
	const json_t *mg;
	json_t *value;

	emu_op_name(r, "management group descendants");
	if (slash == NULL || strcasecmp(slash, "/descendants") != 0 ||
	    (size_t)(slash - rest) >= sizeof(name) || slash == rest) {
		emu_reply_no_path(r);
		return;
	}
	if (strcmp(r->method, "GET") != 0) {
		emu_reply_bad_method(r);
		return;
	}
	if (!api_ok(r, api_mgmt, "Microsoft.Management"))
		return;
	memcpy(name, rest, (size_t)(slash - rest));
	name[slash - rest] = '\0';
	if ((mg = find_mg(e, name)) == NULL) {
		emu_reply_error(r, 404, "NotFound", "'/providers/Microsoft.Management/managementGroups/%s'"
		    " not found", name);
		return;
	}
	value = json_array();
	descend(e, mg, value, 0);
	emu_reply_json(r, 200, json_pack("{s:o,s:n}", "value", value, "nextLink"));
}
