/*
 * avnm-mesh, phase 4: the decommission after the soak; the manual
 * peerings and the user routes the mesh made redundant are deleted
 * (irreversible), and the rehearsal sees the VNets and route tables
 * without them.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "plan/proc/avnm_mesh.h"
#include "plan/report.h"

/* ------------------------------------------------------------------ */
/* avnm-mesh, phase 4: decommission after the soak */

/* Is d a child of r the decommission deletes: a peering of VNet r, or (peering false) a route of table r? */
static bool
decom_of(const struct decom *d, const struct topo_resource *r, bool peering)
{
	if (d->peering != peering)
		return false;
	return peering ? d->vnet != NULL && d->vnet->res == r : topo_id_compare(d->parent, r->id) == 0;
}

/* A copy of r without the children under properties.key that the decommission deletes; NULL on out of memory. */
static json_t *
decom_copy(const struct mesh_state *ms, const struct topo_resource *r, const char *key, bool peering)
{
	json_t *copy = json_deep_copy(r->json), *arr = json_path(copy, "properties", key, NULL);
	size_t i, j;

	for (j = json_array_size(arr); j-- > 0;) {
		const char *name = json_str(json_array_get(arr, j), "name");

		for (i = 0; name != NULL && i < ms->ndecoms; i++)
			if (decom_of(&ms->decoms[i], r, peering) && strcasecmp(name, ms->decoms[i].name) == 0) {
				json_array_remove(arr, j);
				break;
			}
	}
	return copy;
}

/* The rehearsal's view after the wave: the VNets without their peerings, the route tables without their routes. */
static int
decom_rehearsal(struct plan_ctx *p, struct wave *w, json_t *vnets, json_t *rts)
{
	const struct mesh_state *ms = mesh_state(p);
	const char *k;
	json_t *x, *copy;

	json_object_foreach(vnets, k, x) {
		const struct topo_vnet *v = &p->cur->vnets[json_integer_value(x)];

		if ((copy = decom_copy(ms, v->res, "virtualNetworkPeerings", true)) == NULL)
			return NW_ENOMEM;
		json_array_append_new(w->fx_put, copy);
		json_array_append_new(w->members, json_string(v->res->id));
		if (plan_wave_add_vnet(w, (size_t)json_integer_value(x)) != 0)
			return NW_ENOMEM;
	}
	json_object_foreach(rts, k, x) {
		const struct topo_resource *r = topology_find(p->cur, k);

		if (r == NULL)
			continue;
		if ((copy = decom_copy(ms, r, "routes", false)) == NULL)
			return NW_ENOMEM;
		json_array_append_new(w->fx_put, copy);
	}
	return 0;
}

int
mesh_wave_decommission(struct plan_ctx *p)
{
	struct mesh_state *ms = mesh_state(p);
	struct wave *w;
	json_t *vnets = json_object(), *rts = json_object(), *pairs = json_array();
	size_t i, npeer = 0, nroute = 0;
	int rc = NW_ENOMEM;

	if (ms->ndecoms == 0) {
		json_decref(vnets);
		json_decref(rts);
		json_decref(pairs);
		return 0;
	}
	w = plan_wave_new(p, WAVE_DECOMMISSION, "decommission");
	if (w == NULL || vnets == NULL || rts == NULL || pairs == NULL)
		goto done;
	{
		char d[32];
		if (plan_gate_add(w, GATE_SOAK, "before", json_pack("{s:I, s:s}", "seconds",
		    (json_int_t)p->ro.soak_before_decommission, "since", ms->last_mesh_name), 0,
		    "at least %s since wave %s passed its gates: the legacy path is removed only after "
		    "the soak", report_duration(p->ro.soak_before_decommission, d, sizeof(d)),
		    ms->last_mesh_name[0] ? ms->last_mesh_name : "(the last mesh wave)") != 0)
			goto done;
	}
	for (i = 0; i < ms->ndecoms; i++) {
		const struct decom *d = &ms->decoms[i];
		json_t *st;
		struct step_spec s = {
			.procedure = procedure_avnm_mesh.name, .resource = d->id, .serialize = d->parent,
			.lro = true, .inverse = NULL, .reads = 2, .writes = 1,
		};

		s.op = plan_op_new("DELETE", d->id, ARM_API_NETWORK, NULL);
		if (d->peering) {
			s.action = "delete-peering";
			st = plan_step_add(w, &s, "delete peering %s of %s (to %s): the mesh carries this traffic "
			    "now (irreversible: re-creating it is a new change)", d->name,
			    d->vnet != NULL ? d->vnet->res->name : arm_id_name(d->parent),
			    d->remote != NULL ? d->remote->res->name : "?");
			npeer++;
			if (d->vnet != NULL) {
				plan_idset_add(vnets, d->vnet->res->id, json_integer((json_int_t)(d->vnet - p->cur->vnets)));
				if (d->remote != NULL && json_array_size(pairs) < p->sample)
					json_array_append_new(pairs, json_pack("[s, s]", d->vnet->res->id,
					    d->remote->res->id));
			}
		} else {
			s.action = "delete-route";
			st = plan_step_add(w, &s, "delete route %s of %s: it only steered traffic between mesh "
			    "members to the gateway (irreversible: re-creating it is a new change)", d->name,
			    arm_id_name(d->parent));
			nroute++;
			plan_idset_add(rts, d->parent, NULL);
		}
		if (st == NULL)
			goto done;
	}
	if (decom_rehearsal(p, w, vnets, rts) != 0)
		goto done;
	w->routing = true;
	if (json_array_size(pairs) > 0 &&
	    plan_gate_add(w, GATE_EFFECTIVE_ROUTES, "after", json_pack("{s:s, s:s, s:O}", "nextHopType",
	    "ConnectedGroup", "scope", "pairs", "pairs", pairs), (int)json_array_size(pairs),
	    "spokes whose peering was deleted still reach each other through the mesh") != 0)
		goto done;
	plan_wave_risk(w, "irreversible: deletes %zu manual peering%s and %zu user route%s the mesh made "
	    "redundant; netwave's rollback stops before this wave, so going back means re-creating them "
	    "by hand in a longer change window",
	    npeer, npeer == 1 ? "" : "s", nroute, nroute == 1 ? "" : "s");
	plan_wave_risk(w, "infrastructure-as-code pipelines that still declare these peerings or routes will "
	    "re-create them: remove them from the code first");
	plan_wave_rollback(w, "none automatic: the deletions are irreversible; re-create the peerings and "
	    "routes listed under the irreversible steps by hand (their current definitions are in the "
	    "current topology)");
	rc = 0;
done:
	json_decref(vnets);
	json_decref(rts);
	json_decref(pairs);
	return rc == 0 ? 0 : plan_nomem(p);
}
