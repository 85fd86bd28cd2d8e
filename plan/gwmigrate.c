/*
 * Names and marks of the resources a gateway migration leaves behind
 * (see gwmigrate.h for the pages they come from).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/gwmigrate.h"
#include "plan/jsonutil.h"

bool
gwm_is_expressroute(const json_t *gateway)
{
	const char *t = json_path_str(gateway, "properties", "gatewayType", NULL);

	return t != NULL && strcasecmp(t, "ExpressRoute") == 0;
}

const char *
gwm_az_sku(const char *sku)
{
	/* VPN: VpnGwN -> VpnGwNAZ (basic-public-ip-migrate-howto); ExpressRoute: the
	 * non-AZ SKUs to their AZ counterparts (expressroute/gateway-migration) */
	static const char *const map[][2] = {
		{ "VpnGw1", "VpnGw1AZ" }, { "VpnGw2", "VpnGw2AZ" }, { "VpnGw3", "VpnGw3AZ" },
		{ "VpnGw4", "VpnGw4AZ" }, { "VpnGw5", "VpnGw5AZ" }, { "Standard", "ErGw1AZ" },
		{ "HighPerformance", "ErGw2AZ" }, { "UltraPerformance", "ErGw3AZ" },
	};
	size_t i;

	for (i = 0; sku != NULL && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcasecmp(map[i][0], sku) == 0)
			return map[i][1];
	return sku;
}

char *
gwm_new_id(const char *old_id, const char *name)
{
	const char *slash = strrchr(old_id, '/');
	char *out = NULL;

	if (name == NULL || slash == NULL) {
		if (asprintf(&out, "%s%s", old_id, GWM_SUFFIX) < 0)
			return NULL;
		return out;
	}
	if (asprintf(&out, "%.*s%s", (int)(slash + 1 - old_id), old_id, name) < 0)
		return NULL;
	return out;
}

char *
gwm_connection_id(const char *old_id)
{
	return gwm_new_id(old_id, NULL);
}

bool
gwm_is_tagged(const json_t *resource)
{
	const char *v = json_path_str(resource, "tags", GWM_TAG_KEY, NULL);

	return v != NULL && (strcmp(v, GWM_TAG_VALUE) == 0 || strcmp(v, GWM_TAG_VALUE_SERVICE) == 0);
}

static bool
alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool
gwm_name_valid(const char *name)
{
	size_t i, n = name != NULL ? strlen(name) : 0;

	if (n == 0 || n > GWM_NAME_MAX || !alnum(name[0]) ||
	    !(alnum(name[n - 1]) || name[n - 1] == '_'))
		return false;
	for (i = 0; i < n; i++)
		if (!alnum(name[i]) && name[i] != '_' && name[i] != '.' && name[i] != '-')
			return false;
	return true;
}
