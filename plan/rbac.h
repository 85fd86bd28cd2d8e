/*
 * Azure RBAC as ARM judges it: the matching of an action string against
 * a role's action patterns, permission sets (a role's or the caller's,
 * as Microsoft.Authorization/permissions returns them), and the built-in
 * roles netwave names in advice.  Shared by the emulator (which refuses
 * with AuthorizationFailed) and the planner's preflight (which predicts
 * the refusal).  Pure: no network, no database.
 *
 * Sources:
 * https://learn.microsoft.com/azure/role-based-access-control/role-definitions
 *   (actions, notActions, wildcards, "the effective permissions are the
 *   actions minus the notActions", several roles are a union)
 * https://learn.microsoft.com/azure/role-based-access-control/built-in-roles
 *   (.../built-in-roles/general, .../built-in-roles/networking): the roles.
 */
#ifndef NETWAVE_PLAN_RBAC_H
#define NETWAVE_PLAN_RBAC_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "plan/err.h"

/*
 * True when action (an operation such as
 * "Microsoft.Network/virtualNetworks/write") is matched by pattern (an
 * entry of a role's actions or notActions): compared without case, `*`
 * matching any run of characters, '/' included (so a star after
 * "Microsoft.Network/" takes in every action of the namespace, and one
 * before "/read" every read).  NULL never matches.
 */
bool rbac_action_matches(const char *pattern, const char *action);

/* One built-in role, as Microsoft Learn lists it. */
struct rbac_role {
	const char *name;                /* "Network Contributor" */
	const char *guid;                /* "4d97b98b-1d4f-4787-a291-c67834d212e7" */
	const char *description;
	const char *const *actions;      /* NULL-terminated */
	const char *const *not_actions;  /* NULL-terminated */
};

/* The built-in roles netwave knows, smallest first (Reader ... Owner). */
const struct rbac_role *rbac_builtin_roles(size_t *count);

/*
 * The built-in role named name (without case), or with that GUID, or with
 * that role definition id ("/providers/Microsoft.Authorization/
 * roleDefinitions/<guid>", with or without a subscription in front).
 * NULL when none.
 */
const struct rbac_role *rbac_role_find(const char *name_or_id);

/* True when role grants action (some action matches, no notAction does). */
bool rbac_role_allows(const struct rbac_role *role, const char *action);

/*
 * The first built-in role (smallest first) granting every one of the n
 * actions, or NULL when none does.
 */
const struct rbac_role *rbac_smallest_role(const char *const *actions, size_t n);

/*
 * The role definition as ARM returns it
 * (Microsoft.Authorization/roleDefinitions): new reference.
 */
json_t *rbac_role_to_json(const struct rbac_role *role);

/*
 * A permission set: a union of permissions, each {actions, notActions}.
 * An action is allowed when some permission has an action matching it and
 * no notAction of that same permission matching it.
 */
struct rbac_perms;

/* A new, empty set (allows nothing); NULL when out of memory. */
struct rbac_perms *rbac_perms_new(void);

/* Frees the set; accepts NULL. */
void rbac_perms_free(struct rbac_perms *p);

/* Adds the role's permission. */
int rbac_perms_add_role(struct rbac_perms *p, const struct rbac_role *role, struct nw_err *err);

/*
 * Adds permissions given as ARM writes them: an array of
 * {"actions":[..],"notActions":[..],"dataActions":..,"notDataActions":..}
 * (a role definition's properties.permissions, or the "value" of a
 * Microsoft.Authorization/permissions answer).  NW_EINPUT naming the entry
 * and field when one is not an array of strings.
 */
int rbac_perms_add_json(struct rbac_perms *p, const json_t *permissions, struct nw_err *err);

/*
 * A set from the answer of GET {scope}/providers/Microsoft.Authorization/
 * permissions: {"value":[...]}.  NW_EINPUT when it has no "value" array.
 */
int rbac_perms_from_json(struct rbac_perms **out, const json_t *doc, struct nw_err *err);

/* True when the set allows action. */
bool rbac_perms_allows(const struct rbac_perms *p, const char *action);

/* The number of permissions in the set. */
size_t rbac_perms_count(const struct rbac_perms *p);

/*
 * The set as the "value" of a Microsoft.Authorization/permissions answer:
 * [{"actions","notActions","dataActions":[],"notDataActions":[]}]; new
 * reference, NULL when out of memory.
 */
json_t *rbac_perms_to_json(const struct rbac_perms *p);

#endif
