/*
 * What `discover --deployments` reads of ARM's deployment history: the
 * request for a resource group's deployments and, from the answer, what
 * says which resources a template last wrote (plan/iac.c reads it from
 * observed.armDeployments).  discover.c drives the requests.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/arm_api.h"
#include "plan/jsonutil.h"
#include "providers/azure/internal.h"

/*
 * Deployments - List By Resource Group
 * (https://learn.microsoft.com/rest/api/resources/deployments/list-by-resource-group).
 */
char *
az_deployments_path(const char *group_id)
{
	char *path = NULL;

	if (asprintf(&path, "%s/providers/Microsoft.Resources/deployments?api-version=%s", group_id,
	    ARM_API_RESOURCES) < 0)
		return NULL;
	return path;
}

void
az_subscription_of(char *buf, size_t size, const char *id)
{
	size_t n = strlen("/subscriptions/");

	buf[0] = '\0';
	if (id == NULL || strlen(id) < n)
		return;
	snprintf(buf, size, "%s", id + n);
	if (strchr(buf, '/') != NULL)
		*strchr(buf, '/') = '\0';
}

/*
 * Each DeploymentExtended kept as ARM gives it, with only its id, name,
 * provisioning state, time, mode and the ids of its output resources.
 */
void
az_deployments_keep(json_t *kept, const json_t *items)
{
	const json_t *item;
	size_t i;

	json_array_foreach(items, i, item) {
		const json_t *p = json_object_get(item, "properties"), *r;
		json_t *out = json_array();
		size_t k;

		if (json_str(item, "id") == NULL || out == NULL) {
			json_decref(out);
			continue;
		}
		json_array_foreach(json_object_get(p, "outputResources"), k, r)
			if (json_str(r, "id") != NULL)
				json_array_append_new(out, json_pack("{s:s}", "id", json_str(r, "id")));
		json_array_append_new(kept, json_pack("{s:s, s:s*, s:s, s:{s:s*, s:s*, s:s*, s:o}}",
		    "id", json_str(item, "id"), "name", json_str(item, "name"), "type",
		    "Microsoft.Resources/deployments", "properties", "provisioningState",
		    json_str(p, "provisioningState"), "timestamp", json_str(p, "timestamp"), "mode",
		    json_str(p, "mode"), "outputResources", out));
	}
}
