/*
 * Azure RBAC's action matching, permission sets and the built-in roles
 * netwave knows (see rbac.h).  The emulator's authorization check and the
 * preflight's permission finding both call these, so what the emulator
 * refuses and what preflight predicts cannot drift apart.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/rbac.h"

/*
 * Microsoft Learn, "Azure built-in roles" (General and Networking
 * categories), https://learn.microsoft.com/azure/role-based-access-control/
 * built-in-roles/general and .../built-in-roles/networking: ids, actions
 * and notActions copied as listed there.
 */
static const char *const reader_actions[] = { "*/read", NULL };
static const char *const network_contributor_actions[] = {
	"Microsoft.Authorization/*/read",
	"Microsoft.Insights/alertRules/*",
	"Microsoft.Network/*",
	"Microsoft.ResourceHealth/availabilityStatuses/read",
	"Microsoft.Resources/deployments/*",
	"Microsoft.Resources/subscriptions/resourceGroups/read",
	"Microsoft.Support/*",
	NULL,
};
static const char *const all_actions[] = { "*", NULL };
static const char *const contributor_not_actions[] = {
	"Microsoft.Authorization/*/Delete",
	"Microsoft.Authorization/*/Write",
	"Microsoft.Authorization/elevateAccess/Action",
	"Microsoft.Blueprint/blueprintAssignments/write",
	"Microsoft.Blueprint/blueprintAssignments/delete",
	"Microsoft.Compute/galleries/share/action",
	"Microsoft.Purview/consents/write",
	"Microsoft.Purview/consents/delete",
	NULL,
};
static const char *const none[] = { NULL };

/* Smallest first: rbac_smallest_role walks it in this order. */
static const struct rbac_role builtin_roles[] = {
	{ "Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7",
	  "View all resources, but does not allow you to make any changes.", reader_actions, none },
	{ "Network Contributor", "4d97b98b-1d4f-4787-a291-c67834d212e7",
	  "Lets you manage networks, but not access to them.", network_contributor_actions, none },
	{ "Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c",
	  "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, "
	  "manage assignments in Azure Blueprints, or share image galleries.", all_actions,
	  contributor_not_actions },
	{ "Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
	  "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
	  all_actions, none },
};

#define ROLE_DEF_SEGMENT "/providers/microsoft.authorization/roledefinitions/"

bool
rbac_action_matches(const char *pattern, const char *action)
{
	const char *p, *a, *star = NULL, *resume = NULL;

	if (pattern == NULL || action == NULL)
		return false;
	p = pattern;
	a = action;
	/* Glob with one backtrack point: linear in practice, bounded by |p|*|a|. */
	while (*a != '\0') {
		if (*p == '*') {
			star = p++;
			resume = a;
		} else if (*p != '\0' && tolower((unsigned char)*p) == tolower((unsigned char)*a)) {
			p++;
			a++;
		} else if (star != NULL) {
			p = star + 1;
			a = ++resume;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

const struct rbac_role *
rbac_builtin_roles(size_t *count)
{
	*count = sizeof(builtin_roles) / sizeof(builtin_roles[0]);
	return builtin_roles;
}

/* The GUID at the end of a role definition id, or the string itself. */
static const char *
role_guid_of(const char *id)
{
	const char *last = NULL, *p;
	size_t n = strlen(ROLE_DEF_SEGMENT);

	for (p = id; *p != '\0'; p++)
		if (strncasecmp(p, ROLE_DEF_SEGMENT, n) == 0)
			last = p + n;
	return last != NULL ? last : id;
}

const struct rbac_role *
rbac_role_find(const char *name_or_id)
{
	size_t i, n = sizeof(builtin_roles) / sizeof(builtin_roles[0]);
	const char *guid;

	if (name_or_id == NULL)
		return NULL;
	guid = role_guid_of(name_or_id);
	for (i = 0; i < n; i++)
		if (strcasecmp(builtin_roles[i].name, name_or_id) == 0 ||
		    strcasecmp(builtin_roles[i].guid, guid) == 0)
			return &builtin_roles[i];
	return NULL;
}

static bool
list_matches(const char *const *patterns, const char *action)
{
	size_t i;

	for (i = 0; patterns != NULL && patterns[i] != NULL; i++)
		if (rbac_action_matches(patterns[i], action))
			return true;
	return false;
}

bool
rbac_role_allows(const struct rbac_role *role, const char *action)
{
	return role != NULL && list_matches(role->actions, action) && !list_matches(role->not_actions, action);
}

const struct rbac_role *
rbac_smallest_role(const char *const *actions, size_t n)
{
	size_t r, i, count = sizeof(builtin_roles) / sizeof(builtin_roles[0]);

	for (r = 0; r < count; r++) {
		for (i = 0; i < n; i++)
			if (!rbac_role_allows(&builtin_roles[r], actions[i]))
				break;
		if (i == n)
			return &builtin_roles[r];
	}
	return NULL;
}

static json_t *
strings_to_json(const char *const *list)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && list != NULL && list[i] != NULL; i++)
		if (json_array_append_new(a, json_string(list[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* {"actions","notActions","dataActions":[],"notDataActions":[]}: new reference. */
static json_t *
permission_json(const char *const *actions, const char *const *not_actions)
{
	return json_pack("{s:o?, s:o?, s:[], s:[]}", "actions", strings_to_json(actions), "notActions",
	    strings_to_json(not_actions), "dataActions", "notDataActions");
}

json_t *
rbac_role_to_json(const struct rbac_role *role)
{
	char id[160];

	snprintf(id, sizeof(id), "/providers/Microsoft.Authorization/roleDefinitions/%s", role->guid);
	return json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s, s:[o?], s:[s]}}", "id", id, "name", role->guid,
	    "type", "Microsoft.Authorization/roleDefinitions", "properties", "roleName", role->name, "type",
	    "BuiltInRole", "description", role->description, "permissions",
	    permission_json(role->actions, role->not_actions), "assignableScopes", "/");
}

/* The set: a JSON array of {"actions":[..],"notActions":[..]}, strings checked on entry. */
struct rbac_perms {
	json_t *list;
};

struct rbac_perms *
rbac_perms_new(void)
{
	struct rbac_perms *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->list = json_array();
	if (p->list == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

void
rbac_perms_free(struct rbac_perms *p)
{
	if (p == NULL)
		return;
	json_decref(p->list);
	free(p);
}

int
rbac_perms_add_role(struct rbac_perms *p, const struct rbac_role *role, struct nw_err *err)
{
	json_t *perm = permission_json(role->actions, role->not_actions);

	if (perm == NULL || json_array_append_new(p->list, perm) != 0)
		return err_set(err, NW_ENOMEM, "out of memory adding role '%s'", role->name);
	return 0;
}

/* A copy of field (absent: empty) after checking it is an array of strings. */
static int
string_array_copy(json_t **out, const json_t *perm, const char *field, size_t index, struct nw_err *err)
{
	const json_t *v = json_object_get(perm, field), *s;
	size_t i;

	*out = NULL;
	if (v != NULL && !json_is_array(v))
		return err_set(err, NW_EINPUT, "permission %zu: \"%s\" is not an array", index, field);
	json_array_foreach(v, i, s)
		if (!json_is_string(s))
			return err_set(err, NW_EINPUT, "permission %zu: \"%s\"[%zu] is not a string", index,
			    field, i);
	*out = v != NULL ? json_deep_copy(v) : json_array();
	return *out != NULL ? 0 : err_set(err, NW_ENOMEM, "out of memory copying permission %zu", index);
}

int
rbac_perms_add_json(struct rbac_perms *p, const json_t *permissions, struct nw_err *err)
{
	const json_t *perm;
	json_t *actions = NULL, *not_actions = NULL;
	size_t i;
	int rc = 0;

	if (!json_is_array(permissions))
		return err_set(err, NW_EINPUT, "permissions are not an array");
	json_array_foreach(permissions, i, perm) {
		if (!json_is_object(perm))
			return err_set(err, NW_EINPUT, "permission %zu is not an object", i);
		if ((rc = string_array_copy(&actions, perm, "actions", i, err)) < 0 ||
		    (rc = string_array_copy(&not_actions, perm, "notActions", i, err)) < 0)
			goto done;
		if (json_array_append_new(p->list, json_pack("{s:o, s:o}", "actions", actions, "notActions",
		    not_actions)) != 0) {
			actions = not_actions = NULL;
			rc = err_set(err, NW_ENOMEM, "out of memory adding permission %zu", i);
			goto done;
		}
		actions = not_actions = NULL;
	}
done:
	json_decref(actions);
	json_decref(not_actions);
	return rc;
}

int
rbac_perms_from_json(struct rbac_perms **out, const json_t *doc, struct nw_err *err)
{
	struct rbac_perms *p = NULL;
	const json_t *value = json_object_get(doc, "value");
	int rc;

	*out = NULL;
	if (!json_is_array(value))
		return err_set(err, NW_EINPUT, "permissions answer has no \"value\" array");
	if ((p = rbac_perms_new()) == NULL)
		return err_set(err, NW_ENOMEM, "out of memory reading permissions");
	if ((rc = rbac_perms_add_json(p, value, err)) < 0) {
		rbac_perms_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

static bool
json_list_matches(const json_t *patterns, const char *action)
{
	const json_t *s;
	size_t i;

	json_array_foreach(patterns, i, s)
		if (rbac_action_matches(json_string_value(s), action))
			return true;
	return false;
}

bool
rbac_perms_allows(const struct rbac_perms *p, const char *action)
{
	const json_t *perm;
	size_t i;

	if (p == NULL)
		return false;
	json_array_foreach(p->list, i, perm)
		if (json_list_matches(json_object_get(perm, "actions"), action) &&
		    !json_list_matches(json_object_get(perm, "notActions"), action))
			return true;
	return false;
}

size_t
rbac_perms_count(const struct rbac_perms *p)
{
	return p != NULL ? json_array_size(p->list) : 0;
}

json_t *
rbac_perms_to_json(const struct rbac_perms *p)
{
	json_t *out = json_array(), *perm;
	const json_t *src;
	size_t i;

	json_array_foreach(p->list, i, src) {
		perm = json_pack("{s:O, s:O, s:[], s:[]}", "actions", json_object_get(src, "actions"),
		    "notActions", json_object_get(src, "notActions"), "dataActions", "notDataActions");
		if (perm == NULL || json_array_append_new(out, perm) != 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}
