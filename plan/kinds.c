/*
 * The one string form of each wave and gate kind (plan/kinds.h).
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "plan/kinds.h"

static const char *const wave_names[] = {
	[WAVE_UNKNOWN] = "",
	[WAVE_PREPARE] = "prepare",
	[WAVE_HSPE] = "hspe",
	[WAVE_MESH] = "mesh",
	[WAVE_GATEWAY] = "gateway",
	[WAVE_GATEWAY_COMMIT] = "gateway-commit",
	[WAVE_SUMMARIZE] = "summarize",
	[WAVE_DECOMMISSION] = "decommission",
	[WAVE_ROUTE_SERVER] = "route-server",
	[WAVE_BGP_PEERING] = "bgp-peering",
	[WAVE_BRANCH_TO_BRANCH] = "branch-to-branch",
	[WAVE_UDR_CLEANUP] = "udr-cleanup",
};

static const char *const gate_names[] = {
	[GATE_UNKNOWN] = "",
	[GATE_RESOURCE_STATE] = "resource-state",
	[GATE_DEPLOYMENT_STATUS] = "deployment-status",
	[GATE_EFFECTIVE_ROUTES] = "effective-routes",
	[GATE_ONPREM_ROUTES] = "onprem-routes",
	[GATE_FEATURE_REGISTERED] = "feature-registered",
	[GATE_MIGRATION_PHASE] = "migration-phase",
	[GATE_SOAK] = "soak",
	[GATE_LEARNED_ROUTES] = "learned-routes",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const char *
wave_kind_name(enum wave_kind k)
{
	return (size_t)k < NELEM(wave_names) ? wave_names[k] : "";
}

const char *
gate_kind_name(enum gate_kind k)
{
	return (size_t)k < NELEM(gate_names) ? gate_names[k] : "";
}

static size_t
lookup(const char *const *names, size_t n, const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 1; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return 0;
}

enum wave_kind
wave_kind_parse(const char *s)
{
	return (enum wave_kind)lookup(wave_names, NELEM(wave_names), s);
}

enum gate_kind
gate_kind_parse(const char *s)
{
	return (enum gate_kind)lookup(gate_names, NELEM(gate_names), s);
}
