/*
 * The registry of change kinds (plan/procedure.h): one const entry per
 * kind, each defined in its own files under plan/proc/.  The order is the
 * phase order the planner driver runs them in and the order of a plan's
 * "changes".  A new kind adds its entry here.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "plan/procedure.h"

extern const struct procedure procedure_avnm_mesh;
extern const struct procedure procedure_gateway_standard_ip;
extern const struct procedure procedure_summarize_prefixes;
extern const struct procedure procedure_route_server_interhub;

const struct procedure *const procedures[] = {
	&procedure_avnm_mesh,
	&procedure_gateway_standard_ip,
	&procedure_summarize_prefixes,
	&procedure_route_server_interhub,
	NULL,
};

const struct procedure *
procedure_find(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && procedures[i] != NULL; i++)
		if (strcmp(procedures[i]->name, name) == 0)
			return procedures[i];
	return NULL;
}

const struct procedure *
procedure_of_wave(const struct wave_kind_def *k)
{
	size_t i, j;

	for (i = 0; k != NULL && procedures[i] != NULL; i++)
		for (j = 0; procedures[i]->wave_kinds != NULL && procedures[i]->wave_kinds[j] != NULL; j++)
			if (procedures[i]->wave_kinds[j] == k)
				return procedures[i];
	return NULL;
}

size_t
procedure_index(const struct procedure *proc)
{
	size_t i;

	for (i = 0; procedures[i] != NULL; i++)
		if (procedures[i] == proc)
			return i;
	return 0;
}
