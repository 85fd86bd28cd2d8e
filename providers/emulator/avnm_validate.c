/*
 * Azure Virtual Network Manager resources checked as ARM checks them
 * before it writes or deletes them (reference/azure-arm.md, section 1):
 * network managers and their scopes, network groups, static members in
 * scope, connectivity configurations and their enums; what may not be
 * deleted while deployed or used; and forgetting the deployments of what
 * goes away.  The helpers avnm.c shares live here too (avnm.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "plan/topology.h"
#include "providers/emulator/avnm.h"

const char *const avnm_config_types[] = { "SecurityAdmin", "Connectivity", "SecurityUser",
	"Routing", NULL };

bool
avnm_id_under(const char *id, const char *parent)
{
	size_t n = strlen(parent);
	return strncasecmp(id, parent, n) == 0 && id[n] == '/';
}

/* The network manager id of an AVNM child id (malloc'd), or NULL. */
char *
avnm_manager_of(const char *id)
{
	char *low = emu_lower(id), *p = low != NULL ? strstr(low, "/networkmanagers/") : NULL, *out;
	char *end;

	if (p == NULL) {
		free(low);
		return NULL;
	}
	end = strchr(p + strlen("/networkmanagers/"), '/');
	out = emu_strdup(id);
	if (out != NULL && end != NULL)
		out[end - low] = '\0';
	free(low);
	return out;
}

/* "True"/"False" strings, as the wire has them */
static int
check_bool_string(struct emu_req *r, const json_t *obj, const char *key, const char *where)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_string(v) && (strcasecmp(json_string_value(v), "True") == 0 ||
	    strcasecmp(json_string_value(v), "False") == 0))
		return 0;
	emu_reply_error(r, 400, "InvalidRequestFormat",
	    "Cannot parse the request: %s.%s must be the string \"True\" or \"False\".", where, key);
	return -1;
}

int
avnm_bad_enum(struct emu_req *r, const char *what, const char *v, const char *allowed)
{
	emu_reply_error(r, 400, "InvalidRequestFormat",
	    "Cannot parse the request: %s '%s' is not one of %s.", what, v != NULL ? v : "(absent)",
	    allowed);
	return -1;
}

static int
validate_manager(struct emu_req *r, const char *id, json_t *body)
{
	json_t *scopes = json_path(body, "properties", "networkManagerScopes", NULL);
	json_t *subs = json_object_get(scopes, "subscriptions");
	json_t *mgs = json_object_get(scopes, "managementGroups");
	json_t *acc = json_path(body, "properties", "networkManagerScopeAccesses", NULL), *v;
	size_t i;

	if (!json_is_object(scopes) || (json_array_size(subs) == 0 && json_array_size(mgs) == 0)) {
		emu_reply_error(r, 400, "InvalidNetworkManagerScope",
		    "Network manager %s needs properties.networkManagerScopes with at least one subscription or management group.",
		    id);
		return -1;
	}
	json_array_foreach(subs, i, v)
		if (!json_is_string(v) || strncasecmp(json_string_value(v), "/subscriptions/", 15) != 0) {
			emu_reply_error(r, 400, "InvalidNetworkManagerScope",
			    "Scope subscription %zu of network manager %s must be of the form /subscriptions/{subscriptionId}.",
			    i, id);
			return -1;
		}
	json_array_foreach(acc, i, v)
		if (!str_in(json_string_value(v), avnm_config_types, strcasecmp))
			return avnm_bad_enum(r, "networkManagerScopeAccesses value", json_string_value(v),
			    "SecurityAdmin, Connectivity, SecurityUser, Routing");
	return 0;
}

static int
validate_member(struct emulator *e, struct emu_req *r, const char *id, json_t *body)
{
	const char *rid = json_path_str(body, "properties", "resourceId", NULL);
	char *nm_id = avnm_manager_of(id), *ng_id = arm_id_parent(id);
	json_t *nm = nm_id != NULL ? emu_store_get(e, nm_id) : NULL;
	json_t *ng = ng_id != NULL ? emu_store_get(e, ng_id) : NULL;
	json_t *p = NULL, *c = NULL;
	const char *mtype = json_path_str(ng, "properties", "memberType", NULL);
	int rc = -1;

	if (rid == NULL) {
		emu_reply_error(r, 400, "InvalidRequestFormat",
		    "Cannot parse the request: static member %s has no properties.resourceId.", id);
		goto done;
	}
	if (!emu_store_find(e, rid, &p, &c, NULL, NULL) ||
	    (c == NULL && (json_str(p, "type") == NULL || strcasecmp(json_str(p, "type"), TYPE_VNET) != 0)) ||
	    (c != NULL && (mtype == NULL || strcasecmp(mtype, "Subnet") != 0))) {
		emu_reply_error(r, 400, "InvalidResourceReference",
		    "Resource %s referenced by resource %s was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.",
		    rid, id);
		goto done;
	}
	if (c == NULL && mtype != NULL && strcasecmp(mtype, "Subnet") == 0) {
		emu_reply_error(r, 400, "InvalidStaticMemberType",
		    "Network group %s has memberType Subnet; %s is a virtual network.", ng_id, rid);
		goto done;
	}
	if (nm != NULL) {
		json_t *subs = json_path(nm, "properties", "networkManagerScopes", "subscriptions", NULL);
		json_t *mgs = json_path(nm, "properties", "networkManagerScopes", "managementGroups", NULL);
		char *sub = arm_id_part(rid, "subscriptions");
		bool ok = json_array_size(mgs) > 0; /* management group membership is not modelled */
		size_t i;
		json_t *v;

		json_array_foreach(subs, i, v) {
			const char *sv = json_string_value(v);
			/* "/subscriptions/{guid}", or a bare guid in a hand-written seed */
			if (sv != NULL && strncasecmp(sv, "/subscriptions/", 15) == 0)
				sv += 15;
			if (sv != NULL && sub != NULL && strcasecmp(sv, sub) == 0)
				ok = true;
		}
		free(sub);
		if (!ok) {
			emu_reply_error(r, 400, "ResourceNotInNetworkManagerScope",
			    "Resource %s is not in the scope of network manager %s.", rid, nm_id);
			goto done;
		}
	}
	rc = 0;
done:
	free(nm_id);
	free(ng_id);
	return rc;
}

static int
validate_config(struct emulator *e, struct emu_req *r, const char *id, json_t *body)
{
	json_t *props = json_object_get(body, "properties");
	const char *topo = json_str(props, "connectivityTopology");
	json_t *groups = json_object_get(props, "appliesToGroups");
	json_t *hubs = json_object_get(props, "hubs");
	json_t *caps = json_object_get(props, "connectivityCapabilities");
	char *nm_id = avnm_manager_of(id);
	json_t *g;
	size_t i;
	int rc = -1;
	static const char *const topos[] = { "Mesh", "HubAndSpoke", NULL };
	static const char *const conn[] = { "None", "DirectlyConnected", NULL };

	if (!str_in(topo, topos, strcasecmp)) {
		avnm_bad_enum(r, "connectivityTopology", topo, "HubAndSpoke, Mesh");
		goto done;
	}
	if (!json_is_array(groups) || json_array_size(groups) == 0) {
		emu_reply_error(r, 400, "InvalidRequestFormat",
		    "Cannot parse the request: connectivity configuration %s needs at least one entry in properties.appliesToGroups.",
		    id);
		goto done;
	}
	json_array_foreach(groups, i, g) {
		const char *ngid = json_str(g, "networkGroupId");
		json_t *ng = ngid != NULL ? emu_store_get(e, ngid) : NULL;

		if (ng == NULL || json_str(ng, "type") == NULL ||
		    strcasecmp(json_str(ng, "type"), TYPE_NETWORK_GROUP) != 0 ||
		    (nm_id != NULL && !avnm_id_under(ngid, nm_id))) {
			emu_reply_error(r, 400, "InvalidResourceReference",
			    "Resource %s referenced by resource %s was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.",
			    ngid != NULL ? ngid : "(no networkGroupId)", id);
			goto done;
		}
		if (!str_in(json_str(g, "groupConnectivity"), conn, strcasecmp)) {
			avnm_bad_enum(r, "groupConnectivity", json_str(g, "groupConnectivity"),
			    "None, DirectlyConnected");
			goto done;
		}
		if (check_bool_string(r, g, "useHubGateway", "appliesToGroups[]") != 0 ||
		    check_bool_string(r, g, "isGlobal", "appliesToGroups[]") != 0)
			goto done;
	}
	if (strcasecmp(topo, "HubAndSpoke") == 0 && json_array_size(hubs) == 0) {
		emu_reply_error(r, 400, "InvalidRequestFormat",
		    "Cannot parse the request: hub-and-spoke configuration %s needs properties.hubs.", id);
		goto done;
	}
	json_array_foreach(hubs, i, g) {
		const char *hid = json_str(g, "resourceId");
		json_t *hv = hid != NULL ? emu_store_get(e, hid) : NULL;

		if (hv == NULL || strcasecmp(json_str(hv, "type") != NULL ? json_str(hv, "type") : "",
		    TYPE_VNET) != 0) {
			emu_reply_error(r, 400, "InvalidResourceReference",
			    "Resource %s referenced by resource %s was not found. Please make sure that the referenced resource exists, and that both resources are in the same region.",
			    hid != NULL ? hid : "(no resourceId)", id);
			goto done;
		}
	}
	if (check_bool_string(r, props, "isGlobal", "properties") != 0 ||
	    check_bool_string(r, props, "deleteExistingPeering", "properties") != 0)
		goto done;
	if (caps != NULL && !json_is_null(caps)) {
		static const char *const scale[] = { "Standard", "HighScale", NULL };
		static const char *const overlap[] = { "Allowed", "Disallowed", NULL };
		static const char *const enforce[] = { "Unenforced", "Enforced", NULL };

		if (!str_in(json_str(caps, "connectedGroupPrivateEndpointsScale"), scale, strcasecmp)) {
			avnm_bad_enum(r, "connectedGroupPrivateEndpointsScale",
			    json_str(caps, "connectedGroupPrivateEndpointsScale"), "Standard, HighScale");
			goto done;
		}
		if (!str_in(json_str(caps, "connectedGroupAddressOverlap"), overlap, strcasecmp)) {
			avnm_bad_enum(r, "connectedGroupAddressOverlap",
			    json_str(caps, "connectedGroupAddressOverlap"), "Allowed, Disallowed");
			goto done;
		}
		if (!str_in(json_str(caps, "peeringEnforcement"), enforce, strcasecmp)) {
			avnm_bad_enum(r, "peeringEnforcement", json_str(caps, "peeringEnforcement"),
			    "Unenforced, Enforced");
			goto done;
		}
	}
	rc = 0;
done:
	free(nm_id);
	return rc;
}

int
avnm_validate_put(struct emulator *e, struct emu_req *r, const char *type, const char *id,
    json_t *body)
{
	if (strcasecmp(type, TYPE_NETWORK_MANAGER) == 0)
		return validate_manager(r, id, body);
	if (strcasecmp(type, TYPE_NETWORK_GROUP) == 0) {
		static const char *const mt[] = { "VirtualNetwork", "Subnet", NULL };
		const char *v = json_path_str(body, "properties", "memberType", NULL);
		if (v != NULL && !str_in(v, mt, strcasecmp))
			return avnm_bad_enum(r, "memberType", v, "VirtualNetwork, Subnet");
		return 0;
	}
	if (strcasecmp(type, TYPE_STATIC_MEMBER) == 0)
		return validate_member(e, r, id, body);
	if (strcasecmp(type, TYPE_CONNECTIVITY_CONFIG) == 0)
		return validate_config(e, r, id, body);
	return 0;
}

void
avnm_after_put(struct emulator *e, const char *type, json_t *res)
{
	if (strcasecmp(type, TYPE_STATIC_MEMBER) == 0) {
		const char *rid = json_path_str(res, "properties", "resourceId", NULL);
		json_t *p = NULL, *c = NULL;

		if (rid != NULL && emu_store_find(e, rid, &p, &c, NULL, NULL) && json_str(p, "location"))
			json_object_set_new(json_object_get(res, "properties"), "region",
			    json_string(json_str(p, "location")));
	}
}

/* --- deployments ------------------------------------------------------------------- */

json_t *
avnm_deployments_of(struct emulator *e, const char *nm_id)
{
	json_t *dep = json_object_get(e->observed, "avnmDeployments");
	const char *k;
	json_t *v;

	json_object_foreach(dep, k, v)
		if (strcasecmp(k, nm_id) == 0)
			return v;
	return NULL;
}

/* Whether a configuration is deployed anywhere; where lists the regions. */
static bool
config_deployed(struct emulator *e, const char *cfg_id, char *where, size_t size)
{
	json_t *dep = json_object_get(e->observed, "avnmDeployments"), *regions, *types, *ids, *v;
	const char *nm, *region, *type;
	size_t i;
	bool any = false;

	where[0] = '\0';
	json_object_foreach(dep, nm, regions)
		json_object_foreach(regions, region, types)
			json_object_foreach(types, type, ids)
				json_array_foreach(ids, i, v)
					if (json_is_string(v) && strcasecmp(json_string_value(v), cfg_id) == 0) {
						size_t len = strlen(where);
						snprintf(where + len, size - len, "%s%s", any ? ", " : "", region);
						any = true;
					}
	return any;
}

/* A network group a connectivity configuration applies to cannot go; -1 when answered. */
static int
group_in_use(struct emulator *e, struct emu_req *r, const char *id)
{
	const char **keys;
	size_t n, i, j;
	char *nm = avnm_manager_of(id), *low = emu_lower(nm != NULL ? nm : id);
	char *pref = low != NULL ? emu_printf("%s/connectivityconfigurations/", low) : NULL;
	int rc = 0;

	if (pref == NULL) {
		emu_reply_oom(r);
		rc = -1;
		goto done;
	}
	emu_store_sorted(e, &keys, &n);
	for (i = emu_store_lower_bound(e, pref); i < n && strncmp(keys[i], pref, strlen(pref)) == 0;
	    i++) {
		json_t *cfg = json_object_get(e->res, keys[i]), *g;

		json_array_foreach(json_path(cfg, "properties", "appliesToGroups", NULL), j, g) {
			const char *ngid = json_str(g, "networkGroupId");

			if (ngid != NULL && strcasecmp(ngid, id) == 0) {
				emu_reply_error(r, 400, "NetworkGroupInUse",
				    "Network group %s is used by connectivity configuration %s. Remove it from the configuration first, or delete with force=true.",
				    id, json_str(cfg, "id"));
				rc = -1;
				goto done;
			}
		}
	}
done:
	free(nm);
	free(low);
	free(pref);
	return rc;
}

int
avnm_check_delete(struct emulator *e, struct emu_req *r, const char *type, const char *id,
    bool force)
{
	char where[512];

	if (force)
		return 0;
	if (strcasecmp(type, TYPE_NETWORK_MANAGER) == 0) {
		json_t *d = avnm_deployments_of(e, id), *types, *ids;
		const char *region, *t;

		json_object_foreach(d, region, types)
			json_object_foreach(types, t, ids)
				if (json_array_size(ids) > 0) {
					emu_reply_error(r, 400, "NetworkManagerHasActiveDeployments",
					    "Network manager %s has %s configurations deployed in %s. Commit an empty goal state to remove them first, or delete with force=true.",
					    id, t, region);
					return -1;
				}
		return 0;
	}
	if (strcasecmp(type, TYPE_CONNECTIVITY_CONFIG) == 0 &&
	    config_deployed(e, id, where, sizeof(where))) {
		emu_reply_error(r, 400, "ConfigurationIsDeployed",
		    "Connectivity configuration %s is deployed in %s. Remove it from the deployed goal state with a commit first, or delete with force=true.",
		    id, where);
		return -1;
	}
	if (strcasecmp(type, TYPE_NETWORK_GROUP) == 0)
		return group_in_use(e, r, id);
	return 0;
}

void
avnm_forget(struct emulator *e, const char *id)
{
	json_t *dep = json_object_get(e->observed, "avnmDeployments"), *regions, *types, *ids;
	const char *nm, *region, *type;
	void *tmp;
	bool changed = false;

	json_object_foreach_safe(dep, tmp, nm, regions) {
		void *t2;
		if (strcasecmp(nm, id) == 0) {
			char *low = emu_lower(nm);
			json_object_del(e->deploy, low);
			free(low);
			json_object_del(dep, nm);
			changed = true;
			continue;
		}
		json_object_foreach_safe(regions, t2, region, types)
			json_object_foreach(types, type, ids) {
				size_t i = json_array_size(ids);
				while (i-- > 0) {
					json_t *v = json_array_get(ids, i);
					if (json_is_string(v) && strcasecmp(json_string_value(v), id) == 0) {
						json_array_remove(ids, i);
						changed = true;
					}
				}
			}
	}
	if (changed)
		emu_store_touch_docs(e);
}

