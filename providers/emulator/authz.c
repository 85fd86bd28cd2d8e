/*
 * Azure RBAC in the emulator: the role assignments each client of the
 * clients file holds (built-in roles from plan/rbac.c by name or id, or
 * the file's own roleDefinitions), the permissions API that reports them,
 * deny assignments, and the check every ARM request passes before its
 * handler (authz_admit), which then asks locks.c and policy.c.
 *
 * Sources: "Understand scope for Azure RBAC" (assignments inherit down
 * from subscription to resource group to resource),
 * https://learn.microsoft.com/azure/role-based-access-control/scope-overview;
 * "Troubleshoot Azure RBAC" (AuthorizationFailed, 403, and its message),
 * https://learn.microsoft.com/azure/role-based-access-control/troubleshooting;
 * "Permissions - List For Resource Group" and "List For Resource"
 * (api-version 2022-04-01), https://learn.microsoft.com/rest/api/authorization/permissions;
 * "Understand Azure deny assignments",
 * https://learn.microsoft.com/azure/role-based-access-control/deny-assignments.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/actions.h"
#include "plan/jsonutil.h"
#include "plan/rbac.h"
#include "providers/emulator/emu.h"

#define AUTHZ_KEY "x-netwave-authz"
#define AUTH_NS "/providers/Microsoft.Authorization/"
#define EVERYONE "00000000-0000-0000-0000-000000000000"

json_t *
authz_doc(struct emulator *e)
{
	json_t *d = json_object_get(e->doc, AUTHZ_KEY);

	if (!json_is_object(d)) {
		d = json_pack("{s:[], s:[], s:[]}", "locks", "policyAssignments", "denyAssignments");
		if (d == NULL || json_object_set_new(e->doc, AUTHZ_KEY, d) != 0) {
			e->oom = true;
			return NULL;
		}
	}
	return d;
}

char *
authz_scope_of(const char *path, const char *marker)
{
	const char *p, *last = NULL;
	char *out, *q;
	size_t n = strlen(marker);

	for (p = path; (p = strcasestr(p, marker)) != NULL; p += n)
		last = p;
	out = last == NULL ? emu_strdup(path) : emu_printf("%.*s", (int)(last - path), path);
	/* ARM reads "a//b" as "a/b": the SDKs send an empty parentResourcePath that way */
	for (p = q = out; out != NULL && *p != '\0'; p++)
		if (!(*p == '/' && p[1] == '/'))
			*q++ = *p;
	if (out != NULL)
		*q = '\0';
	return out;
}

bool
authz_scope_covers(const char *scope, const char *path)
{
	size_t n;

	if (scope == NULL || path == NULL)
		return false;
	n = strlen(scope);
	while (n > 0 && scope[n - 1] == '/')
		n--;
	if (n == 0)
		return true; /* the root scope "/" */
	return strncasecmp(scope, path, n) == 0 && (path[n] == '\0' || path[n] == '/' || path[n] == '?');
}

/* --- the clients file ---------------------------------------------------------------- */

/* A custom role of the clients file by name or id, or NULL. */
static const json_t *
custom_role(const struct emulator *e, const char *name_or_id)
{
	const json_t *d;
	size_t i;

	json_array_foreach(e->role_defs, i, d) {
		const char *id = json_str(d, "id"), *name = json_str(d, "name");
		if ((name != NULL && strcasecmp(name, name_or_id) == 0) ||
		    (id != NULL && (strcasecmp(id, name_or_id) == 0 ||
		    strcasecmp(emu_id_last(name_or_id), id) == 0)))
			return d;
	}
	return NULL;
}

/* Whether a permissions list ([{actions, notActions, ...}]) reads as rbac_perms_add_json reads it. */
static int
check_perms(const json_t *perms, struct nw_err *err)
{
	struct rbac_perms *p = rbac_perms_new();
	int rc;

	if (p == NULL)
		return err_set(err, NW_ENOMEM, "out of memory reading permissions");
	rc = rbac_perms_add_json(p, perms, err);
	rbac_perms_free(p);
	return rc;
}

static int
check_role_defs(const json_t *defs, struct nw_err *err)
{
	const json_t *d;
	size_t i;
	int rc = 0;

	if (defs != NULL && !json_is_array(defs))
		return err_set(err, NW_EINPUT, "clients: /roleDefinitions: expected an array");
	json_array_foreach(defs, i, d) {
		if (json_str(d, "name") == NULL || json_str(d, "id") == NULL)
			return err_set(err, NW_EINPUT, "clients: /roleDefinitions/%zu: needs \"name\" and \"id\"", i);
		if ((rc = check_perms(json_object_get(d, "permissions"), err)) != 0) {
			err_prefix(err, "clients: /roleDefinitions/%zu/permissions", i);
			return rc;
		}
	}
	return 0;
}

static int
check_assignments(const json_t *doc, const json_t *defs, struct nw_err *err)
{
	struct emulator probe = { .role_defs = (json_t *)defs };
	const json_t *c, *a, *list;
	size_t i, k;

	json_array_foreach(json_object_get(doc, "clients"), i, c) {
		list = json_object_get(c, "roleAssignments");
		if (list != NULL && !json_is_array(list))
			return err_set(err, NW_EINPUT, "clients: /clients/%zu/roleAssignments: expected an array", i);
		json_array_foreach(list, k, a) {
			const char *scope = json_str(a, "scope"), *role = json_str(a, "role");
			if (scope == NULL || strncasecmp(scope, "/subscriptions/", 15) != 0)
				return err_set(err, NW_EINPUT, "clients: /clients/%zu/roleAssignments/%zu/scope: "
				    "expected a scope starting with /subscriptions/", i, k);
			if (role == NULL || (rbac_role_find(role) == NULL && custom_role(&probe, role) == NULL))
				return err_set(err, NW_EINPUT, "clients: /clients/%zu/roleAssignments/%zu/role: "
				    "'%s' is neither a built-in role netwave knows nor in /roleDefinitions", i, k,
				    role != NULL ? role : "");
		}
	}
	return 0;
}

int
authz_load_clients(struct emulator *e, const json_t *doc, struct nw_err *err)
{
	const json_t *defs = json_object_get(doc, "roleDefinitions");
	int rc;

	if ((rc = check_role_defs(defs, err)) != 0 || (rc = check_assignments(doc, defs, err)) != 0)
		return rc;
	json_decref(e->role_defs);
	e->role_defs = defs != NULL ? json_deep_copy(defs) : NULL;
	return 0;
}

/* --- effective permissions ------------------------------------------------------------ */

/*
 * The caller's permissions at scope: every role assigned at it or above.
 * NULL (with *open true) when the caller has no roleAssignments: allowed all.
 */
static struct rbac_perms *
caller_perms(const struct emulator *e, const json_t *caller, const char *scope, bool *open, struct nw_err *err)
{
	const json_t *list = json_object_get(caller, "roleAssignments"), *a, *custom;
	struct rbac_perms *p;
	const struct rbac_role *role;
	size_t i;

	*open = caller == NULL || list == NULL;
	if (*open || (p = rbac_perms_new()) == NULL)
		return NULL;
	json_array_foreach(list, i, a) {
		if (!authz_scope_covers(json_str(a, "scope"), scope))
			continue;
		if ((role = rbac_role_find(json_str(a, "role"))) != NULL) {
			if (rbac_perms_add_role(p, role, err) != 0)
				goto fail;
		} else if ((custom = custom_role(e, json_str(a, "role"))) != NULL &&
		    rbac_perms_add_json(p, json_object_get(custom, "permissions"), err) != 0) {
			goto fail;
		}
	}
	return p;
fail:
	rbac_perms_free(p);
	return NULL;
}

static const char *
principal_id(const json_t *caller)
{
	const char *oid = json_str(caller, "objectId");

	return oid != NULL ? oid : json_str(caller, "clientId");
}

/* The action ARM checks for the request, into buf; false when the path names none. */
static bool
request_action(const struct emu_req *r, char *buf, size_t size)
{
	struct nw_err err = { 0 };
	const char *prov = NULL, *p;
	char probe[2100];

	/* an extension resource (locks, permissions, deny assignments) is judged by its own type */
	for (p = r->path; (p = strcasestr(p, AUTH_NS)) != NULL; p++)
		prov = p;
	if (action_permission(r->method, prov != NULL ? prov : r->path, buf, size, &err) == 0)
		return true;
	/* a list: the type's read ("GET .../virtualNetworks" needs virtualNetworks/read) */
	if (strcmp(r->method, "GET") != 0)
		return false;
	snprintf(probe, sizeof(probe), "%s/x", prov != NULL ? prov : r->path);
	if (strcasestr(r->path, "/providers/") != NULL)
		return action_permission("GET", probe, buf, size, &err) == 0;
	if (strcasestr(r->path, "/resourceGroups") != NULL)
		return snprintf(buf, size, "Microsoft.Resources/subscriptions/resourceGroups/read") < (int)size;
	return snprintf(buf, size, "Microsoft.Resources/subscriptions/read") < (int)size;
}

/* The scope ARM names: the path without a POST action's last segment. */
static char *
request_scope(const struct emu_req *r)
{
	const char *slash = strrchr(r->path, '/');

	if (strcmp(r->method, "POST") == 0 && slash != NULL && slash != r->path)
		return emu_printf("%.*s", (int)(slash - r->path), r->path);
	return emu_strdup(r->path);
}

/* AuthorizationFailed as "Troubleshoot Azure RBAC" quotes it. */
static void
reply_unauthorized(struct emu_req *r, const json_t *caller, const char *action, const char *scope)
{
	emu_reply_error(r, 403, "AuthorizationFailed",
	    "The client '%s' with object id '%s' does not have authorization to perform action '%s' over "
	    "scope '%s' or the scope is invalid. If access was recently granted, please refresh your "
	    "credentials.", json_str(caller, "clientId"), principal_id(caller), action, scope);
	emu_op_name(r, "unauthorized");
}

static bool
rbac_admit(struct emulator *e, struct emu_req *r, const char *action, const char *scope)
{
	struct nw_err err = { 0 };
	struct rbac_perms *p;
	bool open, ok;

	if (authz_denied_by_assignment(e, r, action, scope))
		return false;
	p = caller_perms(e, r->caller, scope, &open, &err);
	if (open)
		return true;
	if (p == NULL) {
		e->oom = true;
		return false;
	}
	ok = rbac_perms_allows(p, action);
	rbac_perms_free(p);
	if (!ok)
		reply_unauthorized(r, r->caller, action, scope);
	return ok;
}

/* Paths a caller may always call: what it may do itself, and policy's what-if. */
static bool
exempt(const struct emu_req *r)
{
	return strcasestr(r->path, AUTH_NS "permissions") != NULL ||
	    strcasestr(r->path, "/providers/Microsoft.PolicyInsights/checkPolicyRestrictions") != NULL;
}

bool
authz_admit(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	char action[512];
	char *scope = NULL;
	bool ok = true, write;

	/* Subscriptions - Get answers any caller with access there: not judged by action */
	if ((c->route->flags & ROUTE_OPEN) != 0 || c->sub == NULL || exempt(r) || c->nseg <= 2)
		return true;
	if (!request_action(r, action, sizeof(action)))
		return true; /* no resource type: the handler answers what it is */
	if ((scope = request_scope(r)) == NULL) {
		e->oom = true;
		return false;
	}
	write = strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0;
	if (!rbac_admit(e, r, action, scope))
		ok = false;
	else if (write && strcasestr(r->path, AUTH_NS) == NULL && !locks_admit(e, r))
		ok = false;
	else if ((strcmp(r->method, "PUT") == 0 || strcmp(r->method, "PATCH") == 0) && !policy_admit(e, r, action))
		ok = false;
	free(scope);
	return ok;
}

/* --- the permissions API -------------------------------------------------------------- */

void
authz_permissions(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	struct nw_err err = { 0 };
	struct rbac_perms *p = NULL;
	json_t *value;
	char *scope = NULL;
	bool open;

	(void)c;
	if (strcmp(r->method, "GET") != 0) {
		emu_reply_bad_method(r);
		return;
	}
	if (!emu_api_ok(r, EMU_NS_AUTHORIZATION))
		return;
	emu_op_name(r, "list permissions");
	if ((scope = authz_scope_of(r->path, AUTH_NS "permissions")) == NULL)
		goto oom;
	p = caller_perms(e, r->caller, scope, &open, &err);
	if (open) {
		/* no assignments given: the caller may do anything, as Owner */
		if ((p = rbac_perms_new()) == NULL ||
		    rbac_perms_add_role(p, rbac_role_find("Owner"), &err) != 0)
			goto oom;
	} else if (p == NULL) {
		goto oom;
	}
	if ((value = rbac_perms_to_json(p)) == NULL)
		goto oom;
	emu_reply_json(r, 200, json_pack("{s:o}", "value", value));
	goto done;
oom:
	e->oom = true;
done:
	rbac_perms_free(p);
	free(scope);
}

/* --- deny assignments ----------------------------------------------------------------- */

static bool
lists_principal(const json_t *list, const char *oid)
{
	const json_t *pr;
	size_t i;

	json_array_foreach(list, i, pr) {
		const char *id = json_str(pr, "id");
		if (id != NULL && (strcmp(id, EVERYONE) == 0 || (oid != NULL && strcasecmp(id, oid) == 0)))
			return true;
	}
	return false;
}

/* Whether deny assignment d refuses action to oid at path. */
static bool
deny_applies(const json_t *d, const char *oid, const char *action, const char *path)
{
	const json_t *props = json_object_get(d, "properties"), *perm;
	const char *scope = json_str(props, "scope");
	struct rbac_perms *p;
	struct nw_err err = { 0 };
	bool hit;

	if (!authz_scope_covers(scope, path) || !lists_principal(json_object_get(props, "principals"), oid) ||
	    lists_principal(json_object_get(props, "excludePrincipals"), oid))
		return false;
	if (json_is_true(json_object_get(props, "doNotApplyToChildScopes")) && strcasecmp(scope, path) != 0)
		return false;
	perm = json_object_get(props, "permissions");
	if ((p = rbac_perms_new()) == NULL)
		return false;
	hit = rbac_perms_add_json(p, perm, &err) == 0 && rbac_perms_allows(p, action);
	rbac_perms_free(p);
	return hit;
}

bool
authz_denied_by_assignment(struct emulator *e, struct emu_req *r, const char *action, const char *path)
{
	const json_t *list = json_object_get(json_object_get(e->doc, AUTHZ_KEY), "denyAssignments"), *d;
	const char *oid = r->caller != NULL ? principal_id(r->caller) : NULL;
	size_t i;

	json_array_foreach(list, i, d) {
		if (!deny_applies(d, oid, action, path))
			continue;
		/* The wording is ARM's as seen in answers; Learn does not print it (docs/emulator.md). */
		emu_reply_error(r, 403, "AuthorizationFailed",
		    "The client '%s' with object id '%s' has permission to perform action '%s' on scope '%s'; "
		    "however, the access is denied because of the deny assignment with name '%s' and Id '%s' "
		    "at scope '%s'.", r->caller != NULL ? json_str(r->caller, "clientId") : "",
		    oid != NULL ? oid : "", action, path,
		    json_str(json_object_get(d, "properties"), "denyAssignmentName"),
		    json_str(d, "name"), json_str(json_object_get(d, "properties"), "scope"));
		emu_op_name(r, "denied");
		return true;
	}
	return false;
}

void
authz_deny_assignments(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	const json_t *list = json_object_get(json_object_get(e->doc, AUTHZ_KEY), "denyAssignments"), *d;
	json_t *value = json_array();
	char *scope = NULL;
	size_t i;

	(void)c;
	if (strcmp(r->method, "GET") != 0) {
		json_decref(value);
		emu_reply_bad_method(r);
		return;
	}
	if (value == NULL || !emu_api_ok(r, EMU_NS_AUTHORIZATION)) {
		json_decref(value);
		return;
	}
	emu_op_name(r, "list deny assignments");
	if ((scope = authz_scope_of(r->path, AUTH_NS "denyAssignments")) == NULL) {
		json_decref(value);
		e->oom = true;
		return;
	}
	/* Deny Assignments - List For Scope: those that apply at the scope (at it or above) and below it */
	json_array_foreach(list, i, d) {
		const char *ds = json_str(json_object_get(d, "properties"), "scope");
		if (authz_scope_covers(ds, scope) || authz_scope_covers(scope, ds))
			json_array_append(value, (json_t *)d);
	}
	emu_reply_json(r, 200, json_pack("{s:o}", "value", value));
	free(scope);
}

/* --- the authorization document: seed and /__netwave/authz ------------------------------ */

static int
check_locks(json_t *list, struct nw_err *err)
{
	json_t *l;
	size_t i;

	if (list != NULL && !json_is_array(list))
		return err_set(err, NW_EINPUT, "/locks: expected an array");
	json_array_foreach(list, i, l) {
		const char *id = json_str(l, "id");
		const char *level = json_str(json_object_get(l, "properties"), "level");
		if (id == NULL || strncasecmp(id, "/subscriptions/", 15) != 0 ||
		    strcasestr(id, AUTH_NS "locks/") == NULL)
			return err_set(err, NW_EINPUT, "/locks/%zu/id: expected {scope}/providers/"
			    "Microsoft.Authorization/locks/{name}", i);
		if (level == NULL || (strcmp(level, "ReadOnly") != 0 && strcmp(level, "CanNotDelete") != 0))
			return err_set(err, NW_EINPUT, "/locks/%zu/properties/level: expected ReadOnly or CanNotDelete", i);
		/* the fields ARM returns that a seed may leave out */
		if (json_str(l, "name") == NULL)
			json_object_set_new(l, "name", json_string(emu_id_last(id)));
		if (json_str(l, "type") == NULL)
			json_object_set_new(l, "type", json_string("Microsoft.Authorization/locks"));
	}
	return 0;
}

static int
check_denies(json_t *list, struct nw_err *err)
{
	json_t *d, *props;
	size_t i;
	int rc;

	if (list != NULL && !json_is_array(list))
		return err_set(err, NW_EINPUT, "/denyAssignments: expected an array");
	json_array_foreach(list, i, d) {
		props = json_object_get(d, "properties");
		if (json_str(d, "id") == NULL || json_str(d, "name") == NULL || json_str(props, "scope") == NULL ||
		    !json_is_array(json_object_get(props, "principals")))
			return err_set(err, NW_EINPUT, "/denyAssignments/%zu: needs id, name, properties.scope and "
			    "properties.principals", i);
		if ((rc = check_perms(json_object_get(props, "permissions"), err)) != 0) {
			err_prefix(err, "/denyAssignments/%zu/properties/permissions", i);
			return rc;
		}
		if (json_str(d, "type") == NULL)
			json_object_set_new(d, "type", json_string("Microsoft.Authorization/denyAssignments"));
		if (json_str(props, "denyAssignmentName") == NULL)
			json_object_set_new(props, "denyAssignmentName", json_string(json_str(d, "name")));
	}
	return 0;
}

/* Checks doc (an x-netwave-authz object, changed in place to fill defaults). */
static int
check_doc(json_t *doc, struct nw_err *err)
{
	int rc;

	if (doc == NULL)
		return 0;
	if (!json_is_object(doc))
		return err_set(err, NW_EINPUT, "expected an object with locks, policyAssignments, denyAssignments");
	if ((rc = check_locks(json_object_get(doc, "locks"), err)) != 0 ||
	    (rc = policy_validate(json_object_get(doc, "policyAssignments"), err)) != 0 ||
	    (rc = check_denies(json_object_get(doc, "denyAssignments"), err)) != 0)
		return rc;
	return 0;
}

int
authz_load_doc(struct emulator *e, const json_t *doc, struct nw_err *err)
{
	json_t *copy = doc != NULL ? json_deep_copy(doc) : NULL;
	static const char *const keys[] = { "locks", "policyAssignments", "denyAssignments" };
	size_t i;
	int rc;

	if (doc != NULL && copy == NULL)
		return err_set(err, NW_ENOMEM, "out of memory loading " AUTHZ_KEY);
	if ((rc = check_doc(copy, err)) != 0) {
		err_prefix(err, AUTHZ_KEY);
		json_decref(copy);
		return rc;
	}
	if (copy == NULL)
		copy = json_object();
	for (i = 0; copy != NULL && i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!json_is_array(json_object_get(copy, keys[i])))
			json_object_set_new(copy, keys[i], json_array());
	if (copy == NULL || json_object_set_new(e->doc, AUTHZ_KEY, copy) != 0)
		return err_set(err, NW_ENOMEM, "out of memory loading " AUTHZ_KEY);
	emu_store_touch_docs(e);
	return 0;
}

void
control_authz(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	struct nw_err err = { 0 };

	(void)c;
	if (strcmp(r->method, "PUT") == 0 || strcmp(r->method, "DELETE") == 0) {
		if (strcmp(r->method, "PUT") == 0 && !json_is_object(r->parsed)) {
			emu_reply_error(r, 400, "InvalidRequestContent", "the authorization document is not a JSON object");
			return;
		}
		if (authz_load_doc(e, strcmp(r->method, "PUT") == 0 ? r->parsed : NULL, &err) != 0) {
			emu_reply_error(r, 400, "InvalidAuthorization", "%s", err.msg);
			return;
		}
	} else if (strcmp(r->method, "GET") != 0) {
		emu_reply_bad_method(r);
		return;
	}
	if (authz_doc(e) != NULL)
		emu_reply_json(r, 200, json_deep_copy(authz_doc(e)));
}
