/*
 * The api-versions the emulator accepts, one list per namespace, and the
 * check ARM makes before anything else.  The first of each list is the
 * version netwave sends (plan/arm_api.h, where the sources are); the
 * others are older or newer versions the official SDKs and az send, which
 * ARM also accepts.  A missing api-version is MissingApiVersionParameter,
 * an unknown one InvalidApiVersionParameter naming the accepted ones
 * (https://learn.microsoft.com/azure/azure-resource-manager/management/resource-providers-and-types,
 * "api-version").
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "providers/emulator/emu.h"

static const char *const api_network[] = { EMU_API_NETWORK, "2025-05-01", "2025-03-01",
	"2025-01-01", "2024-10-01", "2024-07-01", "2024-05-01", NULL };
static const char *const api_resources[] = { EMU_API_RESOURCES, "2022-09-01", "2024-03-01",
	"2024-11-01", "2020-01-01", NULL };
static const char *const api_features[] = { EMU_API_FEATURES, "2015-12-01", NULL };
static const char *const api_graph[] = { EMU_API_GRAPH, "2022-10-01", "2024-04-01", NULL };
static const char *const api_authorization[] = { ARM_API_AUTHORIZATION, "2015-07-01", "2018-07-01-preview",
	NULL };
static const char *const api_locks[] = { ARM_API_LOCKS, "2020-05-01", NULL };
static const char *const api_policy_insights[] = { ARM_API_POLICY_INSIGHTS, "2023-03-01", "2024-10-01", NULL };

static const struct {
	const char *name;
	const char *const *list;
} namespaces[] = {
	[EMU_NS_NETWORK] = { "Microsoft.Network", api_network },
	[EMU_NS_RESOURCES] = { "Microsoft.Resources", api_resources },
	[EMU_NS_FEATURES] = { "Microsoft.Features", api_features },
	[EMU_NS_GRAPH] = { "Microsoft.ResourceGraph", api_graph },
	[EMU_NS_AUTHORIZATION] = { "Microsoft.Authorization", api_authorization },
	[EMU_NS_LOCKS] = { "Microsoft.Authorization", api_locks },
	[EMU_NS_POLICY_INSIGHTS] = { "Microsoft.PolicyInsights", api_policy_insights },
};

bool
emu_api_known(const struct emu_req *r, enum emu_ns ns)
{
	const char *v = emu_query(r, "api-version");
	size_t i;

	if (v == NULL)
		return false;
	for (i = 0; namespaces[ns].list[i] != NULL; i++)
		if (strcmp(v, namespaces[ns].list[i]) == 0)
			return true;
	return false;
}

bool
emu_api_ok(struct emu_req *r, enum emu_ns ns)
{
	const char *v = emu_query(r, "api-version");
	const char *const *list = namespaces[ns].list;
	char all[512] = "";
	size_t i;

	if (v == NULL || v[0] == '\0') {
		emu_reply_error(r, 400, "MissingApiVersionParameter",
		    "The api-version query parameter (?api-version=) is required for all requests.");
		return false;
	}
	if (emu_api_known(r, ns))
		return true;
	for (i = 0; list[i] != NULL; i++) {
		if (i > 0)
			strncat(all, ", ", sizeof(all) - strlen(all) - 1);
		strncat(all, list[i], sizeof(all) - strlen(all) - 1);
	}
	emu_reply_error(r, 400, "InvalidApiVersionParameter",
	    "The api-version '%s' is invalid. The supported versions for %s are '%s'.", v,
	    namespaces[ns].name, all);
	return false;
}

bool
arm_api_resources_ok(struct emu_req *r)
{
	return emu_api_ok(r, EMU_NS_RESOURCES);
}
