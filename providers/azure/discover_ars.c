/*
 * What discovery reads of Azure Route Server (plan/topology_ars.h): route
 * servers are virtualHubs with no virtualWan, listed like any top-level
 * type; under each, its ipConfigurations and bgpConnections child lists;
 * for each BGP connection, the learnedRoutes and advertisedRoutes POST
 * actions, long-running operations the provider follows to their end as it
 * does a circuit's route table (REST: Virtual Hub Bgp Connections - List
 * Learned Routes / List Advertised Routes, api-version ARM_API_NETWORK).
 * Their answers go into observed.bgpRoutes exactly as ARM sent them, keyed
 * by instance (docs/topology.md).  providers/azure/discover.c drives the
 * requests; this file says which and stores what comes back.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "plan/topology.h"
#include "providers/azure/internal.h"

const struct az_ars_child az_ars_children[] = {
	{ "ipConfigurations", TYPE_HUB_IP_CONFIG },
	{ "bgpConnections", TYPE_BGP_CONNECTION },
	{ NULL, NULL },
};

bool
az_ars_is_route_server(const json_t *res)
{
	const char *t = json_str(res, "type");

	return t != NULL && strcasecmp(t, TYPE_VIRTUAL_HUB) == 0 &&
	    json_path_str(res, "properties", "virtualWan", "id", NULL) == NULL;
}

/* A BGP connection of a route server in resources (lowercase id -> resource). */
bool
az_ars_is_bgp_connection(const json_t *resources, const json_t *res)
{
	const char *t = json_str(res, "type"), *id = json_str(res, "id"), *slash;
	char parent[1024];
	size_t i, n;

	if (t == NULL || id == NULL || strcasecmp(t, TYPE_BGP_CONNECTION) != 0)
		return false;
	slash = strstr(id, "/bgpConnections/");
	if (slash == NULL)
		slash = strstr(id, "/bgpconnections/");
	n = slash != NULL ? (size_t)(slash - id) : 0;
	if (n == 0 || n >= sizeof(parent))
		return false;
	for (i = 0; i < n; i++)
		parent[i] = (char)(id[i] >= 'A' && id[i] <= 'Z' ? id[i] + 32 : id[i]);
	parent[n] = '\0';
	return az_ars_is_route_server(json_object_get(resources, parent));
}

int
az_ars_routes_path(char **out, const char *connection_id, bool advertised)
{
	*out = NULL;
	return asprintf(out, "%s/%s?api-version=%s", connection_id,
	    advertised ? "advertisedRoutes" : "learnedRoutes", AZURE_API_NETWORK) < 0 ? -1 : 0;
}

/*
 * Keeps an answer: an object keyed by instance, or the specification's
 * PeerRouteList; anything else is reported and left out, so a strange
 * answer never makes the topology fail to load.
 */
int
az_ars_store(json_t *bgp_routes, const char *connection_id, bool advertised, const json_t *answer)
{
	const char *key;
	json_t *entry, *v;

	if (!json_is_object(answer))
		return -1;
	json_object_foreach((json_t *)answer, key, v)
		if (!json_is_array(v))
			return -1;
	entry = json_object_get(bgp_routes, connection_id);
	if (entry == NULL) {
		entry = json_object();
		if (entry == NULL || json_object_set_new(bgp_routes, connection_id, entry) != 0)
			return -1;
	}
	return json_object_set(entry, advertised ? "advertised" : "learned", (json_t *)answer);
}
