/*
 * What discovery reads of an ExpressRoute circuit beyond the resource: the
 * routes its private peering learned from on-premises.  ARM gives them
 * through a long-running POST on the peering's primary device route table
 * (REST: Express Route Circuits - List Routes Table, api-version
 * ARM_API_NETWORK), which the provider follows to its end.  Routes whose
 * AS path starts with Azure's gateway ASN came from Azure, not on-premises,
 * and are left out; the rest go into observed.circuitRoutes
 * (docs/topology.md).  providers/azure/discover.c drives the requests; this
 * file says which and keeps what comes back.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "plan/topology.h"
#include "providers/azure/internal.h"

/* ASN of Azure's gateways: routes whose AS path starts there came from Azure, not on-premises. */
#define AZURE_GATEWAY_ASN "65515"

char *
az_circuit_routes_path(const json_t *circuit)
{
	const char *id = json_str(circuit, "id");
	json_t *peering;
	bool has_private = false;
	char *path = NULL;
	size_t i;

	json_array_foreach(json_path(circuit, "properties", "peerings", NULL), i, peering)
		if (json_str(peering, "name") != NULL &&
		    strcasecmp(json_str(peering, "name"), "AzurePrivatePeering") == 0)
			has_private = true;
	if (!has_private || id == NULL)
		return NULL;
	if (asprintf(&path, "%s/peerings/AzurePrivatePeering/routeTables/primary?api-version=%s", id,
	    AZURE_API_NETWORK) < 0)
		return NULL;
	return path;
}

static bool
azure_originated(const char *path)
{
	size_t n = strspn(path != NULL ? path : "", " ");

	/* "65515" or "65515 ..." first in the path: a gateway in Azure advertised it */
	return path != NULL && strncmp(path + n, AZURE_GATEWAY_ASN, 5) == 0 &&
	    (path[n + 5] == '\0' || path[n + 5] == ' ');
}

json_t *
az_circuit_routes_keep(const json_t *answer)
{
	json_t *routes = json_array(), *r;
	size_t i;

	json_array_foreach(json_object_get(answer, "value"), i, r) {
		const char *net = json_str(r, "network"), *hop = json_str(r, "nextHop");
		const char *path = json_str(r, "path");
		json_t *item;

		if (net == NULL || net[0] == '\0' || azure_originated(path))
			continue;
		item = json_pack("{s:s}", "network", net);
		if (hop != NULL && hop[0] != '\0')
			json_object_set_new(item, "nextHop", json_string(hop));
		if (path != NULL && path[0] != '\0')
			json_object_set_new(item, "path", json_string(path));
		json_array_append_new(routes, item);
	}
	return routes;
}
