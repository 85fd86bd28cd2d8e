/*
 * The action-kind table (plan/actions.h): every POST action a plan's step
 * may send, with how its state is read and judged, whether it can be
 * undone and the RBAC permission ARM checks for it.  The apply engine
 * looks a step up here instead of guessing from its path; the preflight
 * reads the permission column.
 *
 * Sources, per row:
 *   commit: POST .../networkManagers/{nm}/commit, state in
 *     listDeploymentStatus (deploymentStatus Deploying/Deployed/Failed and
 *     commitTime) - learn.microsoft.com/rest/api/networkmanager/network-manager-commits/post
 *     and .../network-manager-deployment-status/list.
 *   gateway migration: POST .../virtualNetworkGateways/{gw}/{prepare,execute,
 *     commit,abort}Migration, state in the gateway's
 *     properties.virtualNetworkGatewayMigrationStatus {state, phase} -
 *     learn.microsoft.com/rest/api/network-gateway/virtual-network-gateways;
 *     prepare deploys a second gateway beside the first, abort removes it,
 *     and commitMigration of an ExpressRoute gateway deletes the old one and
 *     cannot be undone (learn.microsoft.com/azure/expressroute/gateway-migration).
 *   feature: POST /subscriptions/{s}/providers/Microsoft.Features/providers/
 *     {ns}/features/{f}/register, state properties.state (Registering,
 *     Registered) - learn.microsoft.com/rest/api/resources/features/register.
 *   provider: POST /subscriptions/{s}/providers/{ns}/register, state
 *     registrationState - learn.microsoft.com/rest/api/resources/providers/register.
 *
 * Permissions: ARM names the permission of an operation
 * {namespace}/{resource type chain}/{read|write|delete} and
 * {namespace}/{type chain}/{action}/action for a POST action
 * (learn.microsoft.com/azure/role-based-access-control/resource-provider-operations,
 * "Azure permissions for Networking":
 * learn.microsoft.com/azure/role-based-access-control/permissions/networking
 * lists Microsoft.Network/networkManagers/commit/action; "Management and
 * governance" lists Microsoft.Features/providers/features/register/action).
 * The gateway migration actions follow the same naming; the snapshot of the
 * Networking page we checked predates them, so their names are derived
 * from the REST paths, as docs/apply.md says.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "plan/actions.h"
#include "plan/jsonutil.h"

#define NM "/providers/Microsoft.Network/networkManagers/"
#define GW "/providers/Microsoft.Network/virtualNetworkGateways/"
#define GWPERM "Microsoft.Network/virtualNetworkGateways/"

/*
 * Order matters where paths overlap: a feature's "register" is tried
 * before a resource provider's.
 */
static const struct action_kind action_kinds[] = {
	{ .id = ACTION_COMMIT, .segment = "commit", .within = NM, .read = ACTION_READ_DEPLOYMENTS,
	  .state = &action_state_deployments, .done = "Deployed", .running = "Deploying",
	  .permission = "Microsoft.Network/networkManagers/commit/action" },
	{ .id = ACTION_PREPARE_MIGRATION, .segment = "prepareMigration", .within = GW,
	  .read = ACTION_READ_MIGRATION, .state = &action_state_migration, .done = "PrepareSucceeded",
	  .running = "InProgress", .makes_resource = true, .pairs_resources = true,
	  .undo_resets_status = true, .permission = GWPERM "prepareMigration/action" },
	{ .id = ACTION_EXECUTE_MIGRATION, .segment = "executeMigration", .within = GW,
	  .read = ACTION_READ_MIGRATION, .state = &action_state_migration, .done = "ExecuteSucceeded",
	  .running = "InProgress", .pairs_resources = true, .undo_resets_status = true,
	  .permission = GWPERM "executeMigration/action" },
	{ .id = ACTION_COMMIT_MIGRATION, .segment = "commitMigration", .within = GW,
	  .read = ACTION_READ_MIGRATION, .state = &action_state_migration, .done = "CommitSucceeded",
	  .running = "InProgress", .irreversible = true, .gone_is_done = true, .pairs_resources = true,
	  .permission = GWPERM "commitMigration/action" },
	{ .id = ACTION_ABORT_MIGRATION, .segment = "abortMigration", .within = GW,
	  .read = ACTION_READ_MIGRATION, .state = &action_state_migration, .done = "AbortSucceeded",
	  .running = "InProgress", .pairs_resources = true,
	  .permission = GWPERM "abortMigration/action" },
	{ .id = ACTION_FEATURE_REGISTER, .segment = "register", .within = "/providers/Microsoft.Features/",
	  .read = ACTION_READ_FEATURE, .state = &action_state_feature, .done = "Registered",
	  .running = "Registering", .permission = "Microsoft.Features/providers/features/register/action" },
	{ .id = ACTION_FEATURE_UNREGISTER, .segment = "unregister", .within = "/providers/Microsoft.Features/",
	  .read = ACTION_READ_FEATURE, .state = &action_state_feature, .done = "Unregistered",
	  .running = "Unregistering",
	  .permission = "Microsoft.Features/providers/features/unregister/action" },
	{ .id = ACTION_PROVIDER_REGISTER, .segment = "register", .within = "/providers/",
	  .read = ACTION_READ_PROVIDER, .state = &action_state_provider, .done = "Registered",
	  .running = "Registering" },
	{ .id = ACTION_PROVIDER_UNREGISTER, .segment = "unregister", .within = "/providers/",
	  .read = ACTION_READ_PROVIDER, .state = &action_state_provider, .done = "Unregistered",
	  .running = "Unregistering" },
};

#define NKINDS (sizeof(action_kinds) / sizeof(action_kinds[0]))

bool
action_op_is_post(const json_t *op)
{
	const char *m = json_str(op, "method");

	return m != NULL && strcmp(m, "POST") == 0;
}

static const char *
last_segment(const char *path)
{
	const char *slash;

	if (path == NULL)
		return "";
	slash = strrchr(path, '/');
	return slash != NULL ? slash + 1 : path;
}

const char *
action_op_name(const json_t *op)
{
	return last_segment(json_str(op, "path"));
}

const struct action_kind *
action_kind_find(const char *path)
{
	const char *a = last_segment(path);
	size_t i;

	if (path == NULL)
		return NULL;
	for (i = 0; i < NKINDS; i++)
		if (strcmp(a, action_kinds[i].segment) == 0 && strcasestr(path, action_kinds[i].within) != NULL)
			return &action_kinds[i];
	return NULL;
}

const struct action_kind *
action_kind_of(const json_t *op)
{
	if (!action_op_is_post(op))
		return NULL;
	return action_kind_find(json_str(op, "path"));
}

const struct action_kind *
action_kind_get(enum action_id id)
{
	size_t i;

	for (i = 0; i < NKINDS; i++)
		if (action_kinds[i].id == id)
			return &action_kinds[i];
	return NULL;
}

bool
action_op_is(const json_t *op, enum action_id id)
{
	const struct action_kind *k = action_kind_of(op);

	return k != NULL && k->id == id;
}

const struct action_state *
action_state_of(const json_t *op)
{
	const struct action_kind *k = action_kind_of(op);

	return k != NULL ? k->state : &action_state_resource;
}

/* ------------------------------------------------------------------ */
/* Permissions */

/* Appends "/" (unless first) and the n bytes at s to buf; false when it does not fit. */
static bool
put_segment(char *buf, size_t size, size_t *len, const char *s, size_t n)
{
	int w = snprintf(buf + *len, size - *len, "%s%.*s", *len > 0 ? "/" : "", (int)n, s);

	if (w < 0 || (size_t)w >= size - *len)
		return false;
	*len += (size_t)w;
	return true;
}

static const char *
verb_of(const char *method)
{
	if (method == NULL)
		return NULL;
	if (strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0)
		return "write";
	if (strcmp(method, "DELETE") == 0)
		return "delete";
	if (strcmp(method, "GET") == 0)
		return "read";
	return NULL;
}

/*
 * Walks the segments after the first "/providers/": the namespace, then
 * type/name pairs; a last odd segment is a POST action.
 */
static bool
provider_permission(const char *rest, const char *method, char *buf, size_t size)
{
	const char *p = rest, *slash, *verb = verb_of(method);
	size_t len = 0, seg = 0;
	const char *action = NULL;
	size_t action_n = 0;

	while (*p != '\0') {
		size_t n;

		slash = strchr(p, '/');
		n = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (n == 0)
			return false;
		if (seg == 0 || seg % 2 == 1) {
			/* the namespace, or a type; a type with no name after it is an action */
			if (seg > 0 && slash == NULL) {
				action = p;
				action_n = n;
			} else if (!put_segment(buf, size, &len, p, n)) {
				return false;
			}
		}
		seg++;
		p = slash != NULL ? slash + 1 : p + n;
	}
	if (action != NULL) {
		if (strcmp(method, "POST") != 0 || !put_segment(buf, size, &len, action, action_n))
			return false;
		return put_segment(buf, size, &len, "action", 6);
	}
	return verb != NULL && seg > 1 && put_segment(buf, size, &len, verb, strlen(verb));
}

int
action_permission(const char *method, const char *path, char *buf, size_t size, struct nw_err *err)
{
	char clean[2048];
	const char *prov, *q;
	size_t n;
	bool ok = false;

	buf[0] = '\0';
	if (method == NULL || path == NULL)
		return err_set(err, NW_EINPUT, "cannot name the permission of an operation without a method and a path");
	q = strchr(path, '?');
	n = q != NULL ? (size_t)(q - path) : strlen(path);
	if (n >= sizeof(clean))
		return err_set(err, NW_EINPUT, "cannot name the permission of %s: path too long", method);
	memcpy(clean, path, n);
	clean[n] = '\0';
	prov = strcasestr(clean, "/providers/");
	if (prov != NULL) {
		ok = provider_permission(prov + strlen("/providers/"), method, buf, size);
	} else if (strncasecmp(clean, "/subscriptions/", 15) == 0 && strcasestr(clean, "/resourceGroups/") != NULL &&
	    verb_of(method) != NULL) {
		/* a resource group itself (Resource Groups - Create Or Update / Delete) */
		ok = snprintf(buf, size, "Microsoft.Resources/subscriptions/resourceGroups/%s",
		    verb_of(method)) < (int)size;
	}
	if (!ok) {
		buf[0] = '\0';
		return err_set(err, NW_EINPUT, "cannot name the permission of %s %s: no resource type in the path",
		    method, clean);
	}
	return 0;
}
