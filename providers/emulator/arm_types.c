/*
 * The Microsoft.Network resource types the emulator serves, one entry
 * each with the checks it needs (hooks in arm_validate.c and avnm.c),
 * and the answers every resource route shares: not found, preconditions,
 * a resource busy with another operation.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "plan/topology.h"
#include "providers/emulator/arm.h"
#include "providers/emulator/ars.h"

/* --- the types ---------------------------------------------------------------- */

#define V_VNET arm_validate_vnet, arm_delete_vnet, false
#define V_SUBNET arm_validate_subnet, arm_delete_subnet, false
#define V_AVNM arm_validate_avnm, arm_delete_avnm, true
#define V_NONE NULL, NULL, false

static const struct arm_type types[] = {
	/* path, type, embedded in, PUT and DELETE durations, location, resourceGuid, checks */
	{ "virtualNetworks", TYPE_VNET, NULL, EMU_DUR_PUT, EMU_DUR_DELETE, true, true, V_VNET },
	{ "virtualNetworks/subnets", "Microsoft.Network/virtualNetworks/subnets", "subnets",
	  EMU_DUR_PUT, EMU_DUR_DELETE, false, false, V_SUBNET },
	{ "virtualNetworks/virtualNetworkPeerings",
	  "Microsoft.Network/virtualNetworks/virtualNetworkPeerings", "virtualNetworkPeerings",
	  EMU_DUR_PUT, EMU_DUR_DELETE, false, true, arm_validate_peering, NULL, false },
	{ "routeTables", TYPE_ROUTE_TABLE, NULL, EMU_DUR_PUT, EMU_DUR_DELETE, true, true,
	  arm_validate_route_table, NULL, false },
	{ "routeTables/routes", "Microsoft.Network/routeTables/routes", "routes", EMU_DUR_PUT,
	  EMU_DUR_DELETE, false, false, arm_validate_route, NULL, false },
	{ "networkSecurityGroups", "Microsoft.Network/networkSecurityGroups", NULL, EMU_DUR_PUT,
	  EMU_DUR_DELETE, true, true, V_NONE },
	{ "networkSecurityGroups/securityRules",
	  "Microsoft.Network/networkSecurityGroups/securityRules", "securityRules", EMU_DUR_PUT,
	  EMU_DUR_DELETE, false, false, V_NONE },
	{ "virtualNetworkGateways", TYPE_GATEWAY, NULL, EMU_DUR_GATEWAY_PUT, EMU_DUR_DELETE * 6,
	  true, true, arm_validate_gateway, NULL, false },
	{ "localNetworkGateways", "Microsoft.Network/localNetworkGateways", NULL, EMU_DUR_PUT,
	  EMU_DUR_DELETE, true, true, V_NONE },
	{ "publicIPAddresses", TYPE_PUBLIC_IP, NULL, EMU_DUR_PUT, EMU_DUR_DELETE, true, true,
	  arm_validate_public_ip, NULL, false },
	{ "connections", TYPE_CONNECTION, NULL, EMU_DUR_PUT, EMU_DUR_DELETE, true, true, V_NONE },
	{ "expressRouteCircuits", TYPE_CIRCUIT, NULL, EMU_DUR_PUT, EMU_DUR_DELETE, true, true,
	  V_NONE },
	{ "expressRouteCircuits/peerings", "Microsoft.Network/expressRouteCircuits/peerings",
	  "peerings", EMU_DUR_PUT, EMU_DUR_DELETE, false, false, V_NONE },
	{ "privateEndpoints", TYPE_PRIVATE_ENDPOINT, NULL, EMU_DUR_PUT, EMU_DUR_DELETE, true, true,
	  V_NONE },
	{ "networkInterfaces", TYPE_NIC, NULL, EMU_DUR_PUT, EMU_DUR_DELETE, true, true, V_NONE },
	{ "natGateways", "Microsoft.Network/natGateways", NULL, EMU_DUR_PUT, EMU_DUR_DELETE, true,
	  true, V_NONE },
	/* the hubs of `netwave synth` carry one; the SDK must be able to read it */
	{ "azureFirewalls", "Microsoft.Network/azureFirewalls", NULL, EMU_DUR_PUT, EMU_DUR_DELETE,
	  true, true, V_NONE },
	/* Azure Route Server (ars.c): a hub without virtualWan, its children stored on their own */
	{ "virtualHubs", TYPE_ARS_HUB, NULL, EMU_DUR_PUT, EMU_DUR_DELETE, true, false,
	  ars_validate_hub, ars_delete_hub, false },
	{ "virtualHubs/ipConfigurations", TYPE_ARS_IP_CONFIG, NULL, EMU_DUR_ROUTE_SERVER,
	  EMU_DUR_DELETE * 6, false, false, ars_validate_ip_config, NULL, false },
	{ "virtualHubs/bgpConnections", TYPE_ARS_BGP, NULL, EMU_DUR_PUT, EMU_DUR_DELETE, false,
	  false, ars_validate_bgp, NULL, false },
	{ "networkManagers", TYPE_NETWORK_MANAGER, NULL, 0, EMU_DUR_AVNM_DELETE, true, false,
	  V_AVNM },
	{ "networkManagers/networkGroups", TYPE_NETWORK_GROUP, NULL, 0, EMU_DUR_AVNM_DELETE, false,
	  true, V_AVNM },
	{ "networkManagers/networkGroups/staticMembers", TYPE_STATIC_MEMBER, NULL, 0, 0, false,
	  false, V_AVNM },
	{ "networkManagers/connectivityConfigurations", TYPE_CONNECTIVITY_CONFIG, NULL, 0,
	  EMU_DUR_AVNM_DELETE, false, true, V_AVNM },
	{ "networkManagers/scopeConnections", "Microsoft.Network/networkManagers/scopeConnections",
	  NULL, 0, 0, false, false, V_AVNM },
};

#define NTYPES (sizeof(types) / sizeof(types[0]))

const struct arm_type *
arm_type_find(const char *path)
{
	size_t i;

	for (i = 0; i < NTYPES; i++)
		if (strcasecmp(types[i].path, path) == 0)
			return &types[i];
	return NULL;
}

/* The last segment of a type path, in canonical casing. */
const char *
arm_type_leaf(const struct arm_type *t)
{
	const char *s = strrchr(t->path, '/');
	return s != NULL ? s + 1 : t->path;
}

/* --- parsed paths ----------------------------------------------------------------- */

/* --- answers the routes share ---------------------------------------------------- */

bool
arm_if_match_ok(struct emu_req *r, const json_t *existing)
{
	const char *im = emu_header_in(r, "if-match");
	const char *inm = emu_header_in(r, "if-none-match");
	const char *etag = json_str(existing, "etag");

	if (im != NULL) {
		if (existing == NULL || (strcmp(im, "*") != 0 && (etag == NULL || strcmp(im, etag) != 0))) {
			emu_reply_error(r, 412, "PreconditionFailed",
			    "The specified precondition 'If-Match' failed: the resource's current etag is %s.",
			    etag != NULL ? etag : "absent");
			return false;
		}
	}
	if (inm != NULL && strcmp(inm, "*") == 0 && existing != NULL) {
		emu_reply_error(r, 412, "PreconditionFailed",
		    "The specified precondition 'If-None-Match' failed: the resource already exists.");
		return false;
	}
	return true;
}

void
arm_reply_busy(struct emu_req *r, const struct emu_op *op, const char *id)
{
	double left = op->deadline - clock_mono();

	emu_header(r, "Retry-After", "%d", left > 0 ? (int)ceil(left) : 1);
	emu_reply_error(r, 429, "RetryableErrorDueToAnotherOperation",
	    "Operation on resource %s is not allowed because another operation (%s) on %s is in progress. Retry the request after the other operation completes.",
	    id, op->action != NULL ? op->action : op->kind == OP_DELETE ? "Delete" : "Put",
	    op->target);
}

const char *
arm_region_of(struct emulator *e, const json_t *res, const char *fallback_id)
{
	const char *loc = json_str(res, "location");
	json_t *p, *c;

	if (loc != NULL)
		return loc;
	if (fallback_id != NULL && emu_store_find(e, fallback_id, &p, &c, NULL, NULL) &&
	    json_str(p, "location") != NULL)
		return json_str(p, "location");
	return "global";
}

void
arm_reply_not_found(struct emu_req *r, const struct arm_path *p, bool parent_missing)
{
	if (p->type->embed != NULL || p->ptype != NULL) {
		if (parent_missing) {
			emu_reply_error(r, 404, "ParentResourceNotFound",
			    "Can not perform requested operation on nested resource. Parent resource '%s' not found.",
			    emu_id_last(p->parent_id));
			return;
		}
		emu_reply_error(r, 404, "NotFound", "Resource %s not found.", p->id);
		return;
	}
	emu_reply_error(r, 404, "ResourceNotFound",
	    "The Resource '%s/%s' under resource group '%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
	    p->type->type, p->name, p->rg);
}

