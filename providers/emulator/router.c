/*
 * The emulator's route table and the dispatcher that walks it.  Every URL
 * the emulator answers is one entry: the method, the path pattern, the
 * ARM action it names, the handler, and the completion of the
 * long-running operations the handler starts (the handler passes it to
 * lro_new, so lro.c never chooses a completion itself).  Adding an
 * endpoint, or a change kind's action, is adding an entry here and its
 * handler in its own file.
 *
 * Patterns are '/'-separated segments compared case-insensitively, as
 * ARM compares paths; "*" is one segment, "**" (last only) any number.
 * A handler has the emu_handler_fn signature and answers through util.c;
 * one that starts an operation passes c->route->op to lro_new.
 *
 * The first entry whose path and method match serves the request.  When
 * an entry matches the path but not the method and nothing later matches
 * both, the answer is 405 MethodNotAllowed, after that entry's checks.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "providers/emulator/ars.h"
#include "providers/emulator/emu.h"
#include "providers/emulator/tenant.h"

/* --- adapters for handlers that predate the table ------------------------------- */

static void
route_imds(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	(void)c;
	auth_imds(e, r);
}

static void
route_token(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	auth_token(e, r, c->seg[0]);
}

static void
route_openid(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	auth_openid(e, r, c->seg[0]);
}

static void
route_jwks(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	(void)c;
	auth_jwks(e, r);
}

static void
route_subscriptions(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	(void)c;
	tenant_subscriptions(e, r);
}

static void
route_mgmt_groups(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	(void)c;
	tenant_mgmt_groups(e, r);
}

/* .../resourceGroups/{rg}/providers/Microsoft.Resources/deployments[/{name}[/...]] */
static void
route_deployments(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	size_t nrest = c->nseg - 6;

	deployments_handle(e, r, c->sub, c->rg, nrest >= 2 ? c->seg[7] : NULL, nrest);
}

/* --- the table ------------------------------------------------------------------- */

#define SUB "/subscriptions/*"
#define RG SUB "/resourceGroups/*"
#define NET "/providers/Microsoft.Network"
#define AUTHZ "/providers/Microsoft.Authorization"
#define RES RG "/providers/*/*/*"
#define CHILD RES "/*/*"
#define API_NET (ROUTE_API_NETWORK | ROUTE_SUB)
#define ACTION (ROUTE_API_NETWORK | ROUTE_SUB | ROUTE_RG | ROUTE_ACTION)

const struct emu_route emu_routes[] = {
	/* method, path, action, handler, completion of its operations, flags */

	/* control endpoints (docs/emulator.md): not logged, no authentication */
	{ NULL, "/__netwave/health", NULL, control_health, NULL, ROUTE_CONTROL },
	{ "GET", "/__netwave/state", NULL, control_state, NULL, ROUTE_CONTROL },
	{ "GET", "/__netwave/requests", NULL, control_requests, NULL, ROUTE_CONTROL },
	{ "DELETE", "/__netwave/requests", NULL, control_requests, NULL, ROUTE_CONTROL },
	{ "GET", "/__netwave/faults", NULL, control_faults, NULL, ROUTE_CONTROL },
	{ "PUT", "/__netwave/faults", NULL, control_faults, NULL, ROUTE_CONTROL },
	{ "DELETE", "/__netwave/faults", NULL, control_faults, NULL, ROUTE_CONTROL },
	{ "GET", "/__netwave/observed", NULL, control_observed, NULL, ROUTE_CONTROL },
	{ "PATCH", "/__netwave/observed", NULL, control_observed, NULL, ROUTE_CONTROL },
	{ NULL, "/__netwave/resources", NULL, control_resources, NULL, ROUTE_CONTROL },
	{ NULL, "/__netwave/authz", NULL, control_authz, NULL, ROUTE_CONTROL },
	{ NULL, "/__netwave/**", NULL, control_unknown, NULL, ROUTE_CONTROL },

	/* Microsoft Entra ID and the managed identity endpoint: before authentication */
	{ NULL, "/metadata/identity/oauth2/token", NULL, route_imds, NULL, ROUTE_OPEN },
	{ NULL, "/*/oauth2/v2.0/token", NULL, route_token, NULL, ROUTE_OPEN },
	{ NULL, "/*/v2.0/.well-known/openid-configuration", NULL, route_openid, NULL, ROUTE_OPEN },
	{ NULL, "/*/discovery/v2.0/keys", NULL, route_jwks, NULL, ROUTE_OPEN },

	/* Resource Graph */
	{ NULL, "/providers/Microsoft.ResourceGraph/resources", NULL, graph_handle, NULL, 0 },
	{ NULL, "/providers/Microsoft.ResourceGraph/**", NULL, graph_unknown, NULL, 0 },

	/* Microsoft.Resources: subscriptions and resource groups; management groups */
	{ "GET", "/subscriptions", NULL, route_subscriptions, NULL, 0 },
	{ NULL, "/providers/Microsoft.Management/managementGroups/**", NULL, route_mgmt_groups,
	  NULL, 0 },
	{ NULL, SUB, NULL, arm_subscription_get, NULL, ROUTE_API_RESOURCES | ROUTE_SUB },
	{ NULL, SUB "/resourceGroups", NULL, rgroups_list, NULL, ROUTE_SUB },
	{ NULL, RG, NULL, rgroups_one, &rgroups_delete_op, ROUTE_SUB },
	{ NULL, RG "/resources", NULL, rgroups_resources, NULL, ROUTE_SUB },
	{ NULL, RG "/providers/Microsoft.Resources/deployments/**", NULL, route_deployments, NULL,
	  ROUTE_SUB },

	/* Microsoft.Authorization locks, permissions, deny assignments; Microsoft.PolicyInsights
	 * (authz.c, locks.c, policy.c): at a subscription, a group, a resource or its child */
	{ NULL, SUB AUTHZ "/locks", NULL, locks_handle, NULL, ROUTE_SUB },
	{ NULL, SUB AUTHZ "/locks/*", NULL, locks_handle, NULL, ROUTE_SUB },
	{ NULL, RG AUTHZ "/locks", NULL, locks_handle, NULL, ROUTE_SUB | ROUTE_RG },
	{ NULL, RG AUTHZ "/locks/*", NULL, locks_handle, NULL, ROUTE_SUB | ROUTE_RG },
	{ NULL, RES AUTHZ "/locks", NULL, locks_handle, NULL, ROUTE_SUB | ROUTE_RG },
	{ NULL, RES AUTHZ "/locks/*", NULL, locks_handle, NULL, ROUTE_SUB | ROUTE_RG },
	{ NULL, CHILD AUTHZ "/locks", NULL, locks_handle, NULL, ROUTE_SUB | ROUTE_RG },
	{ NULL, CHILD AUTHZ "/locks/*", NULL, locks_handle, NULL, ROUTE_SUB | ROUTE_RG },
	{ NULL, RG AUTHZ "/permissions", NULL, authz_permissions, NULL, ROUTE_SUB | ROUTE_RG },
	{ NULL, RES AUTHZ "/permissions", NULL, authz_permissions, NULL, ROUTE_SUB | ROUTE_RG },
	{ NULL, CHILD AUTHZ "/permissions", NULL, authz_permissions, NULL, ROUTE_SUB | ROUTE_RG },
	{ NULL, SUB AUTHZ "/denyAssignments", NULL, authz_deny_assignments, NULL, ROUTE_SUB },
	{ NULL, RG AUTHZ "/denyAssignments", NULL, authz_deny_assignments, NULL, ROUTE_SUB | ROUTE_RG },
	{ NULL, RES AUTHZ "/denyAssignments", NULL, authz_deny_assignments, NULL, ROUTE_SUB | ROUTE_RG },
	{ NULL, CHILD AUTHZ "/denyAssignments", NULL, authz_deny_assignments, NULL, ROUTE_SUB | ROUTE_RG },
	{ "POST", SUB "/providers/Microsoft.PolicyInsights/checkPolicyRestrictions", NULL,
	  policy_check_restrictions, NULL, ROUTE_SUB },
	{ "POST", RG "/providers/Microsoft.PolicyInsights/checkPolicyRestrictions", NULL,
	  policy_check_restrictions, NULL, ROUTE_SUB | ROUTE_RG },

	/* preview features and provider registration */
	{ NULL, SUB "/providers/Microsoft.Features/**", NULL, features_handle, &features_op,
	  ROUTE_SUB },
	{ NULL, SUB NET, NULL, features_handle, &features_op, ROUTE_SUB },
	{ NULL, SUB NET "/register", NULL, features_handle, &features_op, ROUTE_SUB },

	/* Microsoft.Network: operation status, then actions, then resources */
	{ "GET", SUB NET "/locations/*/operations/*", NULL, lro_route_status, NULL, API_NET },
	{ "GET", SUB NET "/locations/*/operationResults/*", NULL, lro_route_result, NULL, API_NET },
	{ NULL, SUB NET "/locations/**", NULL, arm_bad_location, NULL, API_NET },
	{ NULL, SUB NET "/**", NULL, arm_subscription_scope, NULL, API_NET },

	{ "POST", RG NET "/networkManagers/*/commit", "commit", avnm_commit, &avnm_commit_op,
	  ACTION },
	{ "POST", RG NET "/networkManagers/*/listDeploymentStatus", "listDeploymentStatus",
	  avnm_list_deployment_status, NULL, ACTION },
	{ "POST", RG NET "/networkManagers/*/listActiveConnectivityConfigurations",
	  "listActiveConnectivityConfigurations", avnm_list_active, NULL, ACTION },
	{ "POST", RG NET "/virtualNetworks/*/listNetworkManagerEffectiveConnectivityConfigurations",
	  "listNetworkManagerEffectiveConnectivityConfigurations", avnm_list_effective, NULL,
	  ACTION },
	{ "POST", RG NET "/virtualNetworkGateways/*/prepareMigration", "prepareMigration",
	  gateway_action, &gateway_migration_op, ACTION },
	{ "POST", RG NET "/virtualNetworkGateways/*/executeMigration", "executeMigration",
	  gateway_action, &gateway_migration_op, ACTION },
	{ "POST", RG NET "/virtualNetworkGateways/*/commitMigration", "commitMigration",
	  gateway_action, &gateway_migration_op, ACTION },
	{ "POST", RG NET "/virtualNetworkGateways/*/abortMigration", "abortMigration",
	  gateway_action, &gateway_migration_op, ACTION },
	{ "POST", RG NET "/networkInterfaces/*/effectiveRouteTable", "effectiveRouteTable",
	  effective_nic_action, &effective_nic_op, ACTION },
	/* a circuit peering's route table: the last segment is the device path */
	{ "POST", RG NET "/expressRouteCircuits/*/peerings/*/routeTables/*", "routeTables",
	  effective_circuit_action, &effective_circuit_op, ACTION },
	/* Azure Route Server (ars.c, ars_routes.c) */
	{ "POST", RG NET "/virtualHubs/*/bgpConnections/*/learnedRoutes", "learnedRoutes",
	  ars_routes_action, &ars_routes_op, ACTION },
	{ "POST", RG NET "/virtualHubs/*/bgpConnections/*/advertisedRoutes", "advertisedRoutes",
	  ars_routes_action, &ars_routes_op, ACTION },
	{ NULL, RG NET "/virtualHubs/**", NULL, ars_network, &ars_write_op,
	  ROUTE_API_NETWORK | ROUTE_SUB | ROUTE_RG },
	{ NULL, RG NET "/**", NULL, arm_network, &arm_write_op,
	  ROUTE_API_NETWORK | ROUTE_SUB | ROUTE_RG },

	/* other namespaces: a new one's entries go above these two */
	{ NULL, SUB "/providers/*/**", NULL, arm_bad_namespace, NULL, 0 },
	{ NULL, RG "/providers/*/**", NULL, arm_bad_namespace, NULL, 0 },
};

#define NROUTES (sizeof(emu_routes) / sizeof(emu_routes[0]))

/* What a restarted emulator settles, by kind, after loading its state (persist.c). */
static void (*const settle_hooks[])(struct emulator *e) = {
	gateway_settle,
	avnm_settle,
};

void
emu_routes_settle(struct emulator *e)
{
	size_t i;

	for (i = 0; i < sizeof(settle_hooks) / sizeof(settle_hooks[0]); i++)
		settle_hooks[i](e);
}

/* --- matching ----------------------------------------------------------------------- */

/* Whether seg[] matches the pattern; captures the '*' segments. */
static bool
path_match(const char *pattern, char **seg, size_t nseg, const char **cap, size_t *ncap)
{
	const char *p = pattern;
	size_t i = 0;

	*ncap = 0;
	while (*p == '/')
		p++;
	while (*p != '\0') {
		const char *end = strchr(p, '/');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		if (len == 2 && strncmp(p, "**", 2) == 0)
			return true;
		if (i >= nseg)
			return false;
		if (len == 1 && *p == '*') {
			if (*ncap < EMU_MAX_CAPTURES)
				cap[(*ncap)++] = seg[i];
		} else if (strlen(seg[i]) != len || strncasecmp(seg[i], p, len) != 0) {
			return false;
		}
		i++;
		p += len;
		while (*p == '/')
			p++;
	}
	return i == nseg;
}

static bool
method_match(const struct emu_route *rt, const char *method)
{
	return rt->method == NULL || strcmp(rt->method, method) == 0;
}

const struct emu_route *
emu_route_find(const char *method, char **seg, size_t nseg, struct emu_call *c)
{
	const struct emu_route *near = NULL;
	const char *cap[EMU_MAX_CAPTURES];
	size_t ncap, i, k;

	memset(c, 0, sizeof(*c));
	c->seg = seg;
	c->nseg = nseg;
	for (i = 0; i < NROUTES; i++) {
		const struct emu_route *rt = &emu_routes[i];

		if (!path_match(rt->path, seg, nseg, cap, &ncap))
			continue;
		if (!method_match(rt, method)) {
			if (near == NULL)
				near = rt;
			/* an action named by the path, asked with another method */
			if (c->other == NULL && rt->action != NULL)
				c->other = rt;
			continue;
		}
		c->route = rt;
		break;
	}
	if (c->route == NULL && near != NULL) {
		c->route = near;
		c->wrong_method = true;
		path_match(near->path, seg, nseg, cap, &ncap);
	}
	if (c->route == NULL)
		return NULL;
	for (k = 0; k < ncap; k++)
		c->cap[k] = cap[k];
	c->ncap = ncap;
	if (nseg >= 2 && strcasecmp(seg[0], "subscriptions") == 0)
		c->sub = seg[1];
	if (nseg >= 4 && c->sub != NULL && strcasecmp(seg[2], "resourceGroups") == 0)
		c->rg = seg[3];
	return c->route;
}

/* The checks an entry asks for, in the order ARM makes them; false once answered. */
static bool
route_checks(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	unsigned f = c->route->flags;

	if ((f & ROUTE_API_RESOURCES) != 0 && !emu_api_ok(r, EMU_NS_RESOURCES))
		return false;
	if ((f & ROUTE_API_NETWORK) != 0 && !emu_api_ok(r, EMU_NS_NETWORK))
		return false;
	if ((f & ROUTE_SUB) != 0 && !emu_store_sub_exists(e, c->sub)) {
		emu_reply_error(r, 404, "SubscriptionNotFound",
		    "The subscription '%s' could not be found.", c->sub);
		return false;
	}
	if ((f & ROUTE_RG) != 0 && !emu_store_rg_exists(e, c->sub, c->rg)) {
		emu_reply_error(r, 404, "ResourceGroupNotFound",
		    "Resource group '%s' could not be found.", c->rg);
		return false;
	}
	return true;
}

void
emu_route_call(struct emulator *e, struct emu_req *r, struct emu_call *c)
{
	if (c->route == NULL) {
		emu_reply_no_path(r);
		return;
	}
	if (c->sub != NULL)
		r->subscription = c->sub;
	if (!route_checks(e, r, c))
		goto done;
	if (c->wrong_method) {
		emu_reply_bad_method(r);
		goto done;
	}
	/* RBAC, locks and policy, after the route's own checks (docs/emulator.md, "Refusals") */
	if (!authz_admit(e, r, c))
		goto done;
	if ((c->route->flags & ROUTE_ACTION) != 0 && arm_action_prelude(e, r, c) != 0)
		goto done;
	c->route->handler(e, r, c);
done:
	free(c->id);
	free(c->target);
	c->id = c->target = NULL;
	r->subscription = NULL;
}
