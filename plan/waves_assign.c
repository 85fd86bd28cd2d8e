/*
 * Wave assignment (planner.h, planner_waves_assign): which rollout wave
 * each VNet new to a mesh joins.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "plan/planner.h"

/* ------------------------------------------------------------------ */
/* Wave assignment */

int
planner_waves_assign(size_t *out, const struct intent_rollout *ro,
    const struct topo_vnet *const *vnets, size_t n, json_t *warnings, struct nw_err *err)
{
	size_t *count = NULL, i, w, last_open = SIZE_MAX;
	char msg[1024];

	if (ro == NULL || ro->nwaves == 0) {
		for (i = 0; i < n; i++)
			out[i] = 0;
		return 0;
	}
	count = calloc(ro->nwaves, sizeof(*count));
	if (count == NULL)
		return err_set(err, NW_ENOMEM, "out of memory assigning waves");
	for (w = 0; w < ro->nwaves; w++)
		if (!ro->waves[w].has_members)
			last_open = w;
	for (i = 0; i < n; i++) {
		size_t first = SIZE_MAX, chosen = SIZE_MAX;

		for (w = 0; w < ro->nwaves && first == SIZE_MAX; w++)
			if (ro->waves[w].has_members && intent_selector_match(&ro->waves[w].members, vnets[i]->res))
				first = w;
		if (first == SIZE_MAX)
			first = last_open;
		if (first == SIZE_MAX) {
			first = ro->nwaves - 1;
			if (warnings != NULL) {
				snprintf(msg, sizeof(msg),
				    "%s matches no wave and the rollout has no wave without a selector; it goes "
				    "to the last wave, %s", vnets[i]->res->name, ro->waves[first].name);
				json_array_append_new(warnings, json_string(msg));
			}
		}
		/* the overflow of a capped wave moves on to the next wave with room */
		for (w = first; w < ro->nwaves; w++)
			if (ro->waves[w].max == 0 || count[w] < ro->waves[w].max) {
				chosen = w;
				break;
			}
		if (chosen == SIZE_MAX) {
			chosen = ro->nwaves - 1;
			if (warnings != NULL) {
				snprintf(msg, sizeof(msg),
				    "%s does not fit under any wave's max; it goes to the last wave, %s, beyond "
				    "its max of %zu", vnets[i]->res->name, ro->waves[chosen].name,
				    ro->waves[chosen].max);
				json_array_append_new(warnings, json_string(msg));
			}
		}
		count[chosen]++;
		out[i] = chosen;
	}
	for (w = 0; w < ro->nwaves && warnings != NULL; w++)
		if (count[w] == 0) {
			snprintf(msg, sizeof(msg), "wave %s is empty and is dropped", ro->waves[w].name);
			json_array_append_new(warnings, json_string(msg));
		}
	free(count);
	return 0;
}
