/*
 * ARM deployment history on the emulator, served as Microsoft.Resources
 * serves it (api-version 2021-04-01; the REST spec's
 * specification/resources/resource-manager/Microsoft.Resources/stable/2021-04-01/resources.json):
 *
 *   GET /subscriptions/{s}/resourcegroups/{rg}/providers/Microsoft.Resources/deployments
 *       Deployments - List By Resource Group
 *       (https://learn.microsoft.com/rest/api/resources/deployments/list-by-resource-group)
 *   GET /subscriptions/{s}/resourcegroups/{rg}/providers/Microsoft.Resources/deployments/{name}
 *       Deployments - Get
 *       (https://learn.microsoft.com/rest/api/resources/deployments/get)
 *
 * The history is what the seed topology records under
 * observed.armDeployments: DeploymentExtended objects (id, name, type,
 * properties with provisioningState, timestamp, mode and outputResources).
 * The emulator does not run templates: a PUT of a deployment is refused
 * (docs/emulator.md), so the history only changes through the seed or
 * PATCH /__netwave/observed.  netwave reads it to say which resources a
 * template last wrote (docs/iac.md).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "providers/emulator/emu.h"

/* True when the deployment's id is in this subscription and resource group. */
static bool
in_group(const json_t *d, const char *sub, const char *rg)
{
	const char *id = json_str(d, "id");
	size_t ls = strlen(sub), lr = strlen(rg);

	if (id == NULL || strncasecmp(id, "/subscriptions/", 15) != 0)
		return false;
	id += 15;
	if (strncasecmp(id, sub, ls) != 0 || strncasecmp(id + ls, "/resourceGroups/", 16) != 0)
		return false;
	id += ls + 16;
	return strncasecmp(id, rg, lr) == 0 && id[lr] == '/';
}

void
deployments_handle(struct emulator *e, struct emu_req *r, const char *sub, const char *rg,
    const char *name, size_t nrest)
{
	const json_t *all = json_object_get(e->observed, "armDeployments"), *d;
	json_t *value;
	size_t i;

	if (!arm_api_resources_ok(r))
		return;
	if (nrest > 2) {
		emu_reply_no_path(r);
		return;
	}
	if (strcmp(r->method, "GET") != 0) {
		emu_reply_bad_method(r);
		return;
	}
	if (!emu_store_sub_exists(e, sub)) {
		emu_reply_error(r, 404, "SubscriptionNotFound", "The subscription '%s' could not be found.",
		    sub);
		return;
	}
	if (!emu_store_rg_exists(e, sub, rg)) {
		emu_reply_error(r, 404, "ResourceGroupNotFound", "Resource group '%s' could not be found.",
		    rg);
		return;
	}
	if (name != NULL) {
		emu_op_name(r, "get deployment");
		json_array_foreach(all, i, d)
			if (in_group(d, sub, rg) && json_str(d, "name") != NULL &&
			    strcasecmp(json_str(d, "name"), name) == 0) {
				emu_reply_json(r, 200, json_deep_copy(d));
				return;
			}
		emu_reply_error(r, 404, "DeploymentNotFound", "Deployment '%s' could not be found.", name);
		return;
	}
	emu_op_name(r, "list deployments");
	if ((value = json_array()) == NULL) {
		emu_reply_error(r, 500, "InternalServerError", "out of memory");
		return;
	}
	json_array_foreach(all, i, d)
		if (in_group(d, sub, rg))
			json_array_append_new(value, json_deep_copy(d));
	emu_reply_json(r, 200, json_pack("{s:o}", "value", value));
}
