/*
 * avnm-mesh, the waves before the mesh: prepare (missing resource groups,
 * preview features, the network manager, groups and configuration,
 * nothing deployed) and the High-Scale Private Endpoint batches, one per
 * maintenance window.
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
#include "plan/rgroups.h"
#include "plan/vec.h"

static json_t *
mesh_subscriptions(const struct plan_ctx *p)
{
	struct mesh_state *ms = mesh_state(p);
	json_t *set = json_object(), *arr;
	size_t i, k;

	if (set == NULL)
		return NULL;
	/* AVNM connectivity configuration (high-scale private endpoints) and private-link
	 * increase-private-endpoint-vnet-limits: register on every subscription that holds the
	 * network manager or a member VNet */
	for (i = 0; i < ms->nmesh; i++) {
		if (ms->mesh[i].nm->res->subscription != NULL)
			json_object_set_new(set, ms->mesh[i].nm->res->subscription, json_true());
		for (k = 0; k < ms->mesh[i].nmembers; k++)
			if (ms->mesh[i].members[k]->res->subscription != NULL)
				json_object_set_new(set, ms->mesh[i].members[k]->res->subscription, json_true());
	}
	arr = plan_sorted_keys(set);
	json_decref(set);
	return arr;
}

/* ------------------------------------------------------------------ */
/* The prepare wave */

/*
 * A resource group the plan writes into that does not exist: created first
 * (https://learn.microsoft.com/rest/api/resources/resource-groups/create-or-update).
 * Its inverse deletes the group only when this step created it and it is
 * empty when rolled back ("Resource Groups - Delete" deletes every resource
 * in the group); the apply engine checks both before sending it.
 */
static int
rg_steps(struct plan_ctx *p, struct wave *w, const json_t *missing, json_t *rg_step_of)
{
	const json_t *g;
	size_t i;

	json_array_foreach(missing, i, g) {
		const char *id = json_str(g, "id");
		const char *loc = json_str(g, "location") != NULL ? json_str(g, "location") : "global";
		json_t *inv = plan_op_new("DELETE", id, RGROUPS_API, NULL), *st;
		struct step_spec s = {
			.procedure = procedure_avnm_mesh.name, .action = "create-resource-group", .resource = id,
			.op = plan_op_new("PUT", id, RGROUPS_API, json_pack("{s:s}", "location", loc)),
			.expect = json_pack("[o]", plan_expect_eq("/properties/provisioningState", "Succeeded")),
			.reads = 1, .writes = 1,
		};

		/* a PUT replaces a group's tags: one made since the plan is left alone */
		if (s.op != NULL)
			json_object_set_new(s.op, "condition", json_string("absent"));
		if (inv != NULL)
			json_object_set_new(inv, "condition", json_string("created-and-empty"));
		s.inverse = inv;
		st = plan_step_add(w, &s, "create resource group %s in subscription %s (%s)",
		    json_str(g, "resourceGroup"), json_str(g, "subscription"), loc);
		if (st == NULL || plan_idset_add(rg_step_of, id, json_string(plan_step_id(st))) != 0)
			return NW_ENOMEM;
	}
	return 0;
}

/* The create-resource-group step the resource's group needs, as a new depends array. */
static json_t *
rg_depends(const json_t *rg_step_of, const char *resource_id, json_t *depends)
{
	char gid[600];
	const char *p = resource_id != NULL ? strchr(resource_id + (resource_id[0] == '/'), '/') : NULL;
	const json_t *st;
	size_t n;

	if (depends == NULL)
		depends = json_array();
	if (depends == NULL || p == NULL)
		return depends;
	/* "/subscriptions/S/resourceGroups/G" is the id up to the fifth slash */
	p = strchr(p + 1, '/');
	p = p != NULL ? strchr(p + 1, '/') : NULL;
	p = p != NULL ? strchr(p + 1, '/') : NULL;
	n = p != NULL ? (size_t)(p - resource_id) : strlen(resource_id);
	if (n >= sizeof(gid))
		return depends;
	memcpy(gid, resource_id, n);
	gid[n] = '\0';
	st = plan_idset_get(rg_step_of, gid);
	if (st != NULL)
		json_array_append(depends, (json_t *)st);
	return depends;
}

/* PUT target body, inverse DELETE (created) or PUT of the current body (changed). */
static json_t *
put_resource_step(struct plan_ctx *p, struct wave *w, const struct topo_resource *tr, const char *action,
    json_t *depends, const char *what)
{
	struct topo_resource *cr = topology_find(p->cur, tr->id);
	struct step_spec s = {
		.procedure = procedure_avnm_mesh.name, .action = action, .resource = tr->id,
		.op = plan_op_new("PUT", tr->id, ARM_API_NETWORK, plan_wire_body(tr->json)),
		.inverse = cr == NULL ? plan_op_new("DELETE", tr->id, ARM_API_NETWORK, NULL) :
		    plan_op_new("PUT", tr->id, ARM_API_NETWORK, plan_wire_body(cr->json)),
		.expect = json_pack("[o]", plan_expect_eq("/properties/provisioningState", "Succeeded")),
		.depends = depends, .reads = 2, .writes = 1,
	};

	return plan_step_add(w, &s, "%s %s %s", cr == NULL ? "create" : "update", what, tr->name);
}

/* What the prepare wave collects as it goes. */
struct prep {
	struct wave *w;
	json_t *features, *subs;  /* sorted feature names, subscriptions */
	json_t *reg_steps;        /* provider re-registrations the resources wait for */
	json_t *checks;           /* the resource-state gate's checks */
	json_t *created;          /* names of what the wave creates */
	json_t *nm_done, *ng_done, *missing, *rg_step_of;
};

/* Is there anything to prepare? */
static bool
prepare_needed(const struct plan_ctx *p, const json_t *missing)
{
	const struct mesh_state *ms = mesh_state(p);
	bool any = json_object_size(ms->features) > 0 || json_array_size(missing) > 0;
	size_t i, g;

	for (i = 0; i < ms->nmesh && !any; i++) {
		const struct mesh *m = &ms->mesh[i];
		any = m->nm_cur == NULL || m->cc_cur == NULL ||
		    plan_idset_get(ms->changed, m->nm->res->id) != NULL ||
		    plan_idset_get(ms->changed, m->cc->res->id) != NULL;
		for (g = 0; g < m->cc->ngroups && !any; g++)
			any = plan_idset_get(ms->changed, m->cc->groups[g].network_group_id) != NULL;
	}
	return any;
}

/* Phase 0: preview features, then the provider re-registration that propagates them. */
static int
prepare_features(struct prep *x)
{
	const json_t *fv, *sv;
	size_t fi, si;

	if (json_array_size(x->features) == 0)
		return 0;
	json_array_foreach(x->subs, si, sv) {
		const char *sub = json_string_value(sv);
		json_t *deps = json_array(), *st;
		char path[512];
		struct step_spec s = {
			.procedure = procedure_avnm_mesh.name, .action = "register-provider",
			.reads = 2, .writes = 1,
		};

		json_array_foreach(x->features, fi, fv) {
			const char *full = json_string_value(fv);
			const char *slash = strchr(full, '/');
			const char *fname = slash != NULL ? slash + 1 : full;
			char fpath[1024], inv[1024], res[768];
			struct step_spec f = {
				.procedure = procedure_avnm_mesh.name, .action = "register-feature",
				.reads = 2, .writes = 1,
			};

			snprintf(res, sizeof(res),
			    "/subscriptions/%s/providers/Microsoft.Features/providers/%s/features/%s",
			    sub, FEATURE_NS, fname);
			snprintf(fpath, sizeof(fpath), "%s/register", res);
			snprintf(inv, sizeof(inv), "%s/unregister", res);
			f.resource = res;
			f.op = plan_op_new("POST", fpath, ARM_API_FEATURES, NULL);
			f.inverse = plan_op_new("POST", inv, ARM_API_FEATURES, NULL);
			f.expect = json_pack("[o]", plan_expect_eq("/properties/state", "Registered"));
			st = plan_step_add(x->w, &f, "register the preview feature %s on subscription %s", full, sub);
			if (st == NULL) {
				json_decref(deps);
				return NW_ENOMEM;
			}
			json_array_append_new(deps, json_string(plan_step_id(st)));
		}
		snprintf(path, sizeof(path), "/subscriptions/%s/providers/%s/register", sub, FEATURE_NS);
		s.depends = deps;
		s.resource = path;
		s.op = plan_op_new("POST", path, ARM_API_RESOURCES, NULL);
		s.inverse = plan_op_none("re-registering a provider only propagates the feature state; "
		    "there is nothing to undo");
		s.expect = json_pack("[o]", plan_expect_eq("/registrationState", "Registered"));
		st = plan_step_add(x->w, &s, "re-register %s on subscription %s so the feature takes effect",
		    FEATURE_NS, sub);
		if (st == NULL)
			return NW_ENOMEM;
		json_array_append_new(x->reg_steps, json_string(plan_step_id(st)));
	}
	return plan_gate_add(x->w, GATE_FEATURE_REGISTERED, "after",
	    json_pack("{s:O, s:O, s:s}", "features", x->features, "subscriptions", x->subs, "state",
	    "Registered"), (int)(json_array_size(x->features) * json_array_size(x->subs)),
	    "the preview features are Registered on every subscription of the network manager "
	    "and the mesh");
}

static void
prepare_check(struct prep *x, const char *id)
{
	json_array_append_new(x->checks, json_pack("{s:s, s:s, s:s}", "resource", id,
	    "pointer", "/properties/provisioningState", "equals", "Succeeded"));
}

/* The network manager's step, once per manager; *nm_dep (new reference) the step to wait for. */
static int
prepare_manager(struct plan_ctx *p, struct prep *x, const struct mesh *m, json_t **nm_dep)
{
	const struct mesh_state *ms = mesh_state(p);
	json_t *st;

	*nm_dep = NULL;
	if (plan_idset_get(x->nm_done, m->nm->res->id) != NULL) {
		*nm_dep = json_incref(plan_idset_get(x->nm_done, m->nm->res->id));
		return 0;
	}
	if (m->nm_cur != NULL && plan_idset_get(ms->changed, m->nm->res->id) == NULL)
		return 0;
	st = put_resource_step(p, x->w, m->nm->res, "put-network-manager",
	    rg_depends(x->rg_step_of, m->nm->res->id, json_copy(x->reg_steps)), "network manager");
	if (st == NULL)
		return NW_ENOMEM;
	*nm_dep = json_string(plan_step_id(st));
	prepare_check(x, m->nm->res->id);
	if (m->nm_cur == NULL)
		json_array_append_new(x->created, json_string(m->nm->res->name));
	plan_idset_add(x->nm_done, m->nm->res->id, json_string(plan_step_id(st)));
	return 0;
}

/* Phase 2: network manager, network groups, connectivity configuration; nothing deployed. */
static int
prepare_mesh(struct plan_ctx *p, struct prep *x, const struct mesh *m)
{
	const struct mesh_state *ms = mesh_state(p);
	json_t *nm_dep = NULL, *ng_deps = json_array(), *st;
	size_t g;
	int rc = NW_ENOMEM;

	if (ng_deps == NULL || prepare_manager(p, x, m, &nm_dep) != 0)
		goto done;
	for (g = 0; g < m->cc->ngroups; g++) {
		const struct topo_network_group *ng = m->cc->groups[g].group;
		json_t *deps;

		if (ng == NULL || plan_idset_get(x->ng_done, ng->res->id) != NULL)
			continue;
		if (topology_find(p->cur, ng->res->id) != NULL && plan_idset_get(ms->changed, ng->res->id) == NULL)
			continue;
		deps = json_array();
		if (nm_dep != NULL)
			json_array_append(deps, nm_dep);
		st = put_resource_step(p, x->w, ng->res, "put-network-group", deps, "network group");
		if (st == NULL)
			goto done;
		json_array_append_new(ng_deps, json_string(plan_step_id(st)));
		prepare_check(x, ng->res->id);
		if (topology_find(p->cur, ng->res->id) == NULL)
			json_array_append_new(x->created, json_string(ng->res->name));
		plan_idset_add(x->ng_done, ng->res->id, NULL);
	}
	if (m->cc_cur == NULL || plan_idset_get(ms->changed, m->cc->res->id) != NULL) {
		if (json_array_size(ng_deps) == 0 && nm_dep != NULL)
			json_array_append(ng_deps, nm_dep);
		st = put_resource_step(p, x->w, m->cc->res, "put-connectivity-configuration", ng_deps,
		    "mesh connectivity configuration");
		ng_deps = NULL;
		if (st == NULL)
			goto done;
		prepare_check(x, m->cc->res->id);
		if (m->cc_cur == NULL)
			json_array_append_new(x->created, json_string(m->cc->res->name));
	}
	/* the rehearsal needs these in place before any commit */
	json_array_append(x->w->fx_put, m->nm->res->json);
	json_array_append(x->w->fx_put, m->cc->res->json);
	for (g = 0; g < m->cc->ngroups; g++)
		if (m->cc->groups[g].group != NULL)
			json_array_append(x->w->fx_put, m->cc->groups[g].group->res->json);
	rc = 0;
done:
	json_decref(ng_deps);
	json_decref(nm_dep);
	return rc;
}

/* The wave's risks and its rollback text. */
static void
prepare_notes(struct prep *x)
{
	char names[1024] = "", groups[1024] = "";
	const json_t *v;
	size_t ci;
	bool features = json_array_size(x->features) > 0;

	plan_wave_risk(x->w, "none to traffic: a configuration does nothing until it is committed, "
	    "which the mesh waves do");
	if (features)
		plan_wave_risk(x->w, "feature registration can stay Pending or Registering for a while; the "
		    "mesh waves wait for the gate");
	json_array_foreach(x->created, ci, v) {
		if (ci > 0)
			strncat(names, ci + 1 == json_array_size(x->created) ? " and " : ", ",
			    sizeof(names) - strlen(names) - 1);
		strncat(names, json_string_value(v), sizeof(names) - strlen(names) - 1);
	}
	json_array_foreach(x->missing, ci, v) {
		if (ci > 0)
			strncat(groups, ", ", sizeof(groups) - strlen(groups) - 1);
		strncat(groups, json_str(v, "resourceGroup"), sizeof(groups) - strlen(groups) - 1);
	}
	plan_wave_rollback(x->w, "%s%s%s%s%s%s%s",
	    names[0] ? "delete " : "", names, names[0] ? ", in reverse order of creation" : "",
	    features ? (names[0] ? "; unregister the preview features registered here" :
	    "unregister the preview features registered here") :
	    (names[0] || groups[0] ? "" :
	    "put back the previous network manager, group and configuration"),
	    groups[0] ? (names[0] || features ? "; then delete the resource "
	    "group " : "delete the resource group ") : "", groups,
	    groups[0] ? " only if this plan created it and it is empty (one that existed before "
	    "stays)" : "");
}

int
mesh_wave_prepare(struct plan_ctx *p)
{
	const struct mesh_state *ms = mesh_state(p);
	struct prep x = { 0 };
	size_t i;
	int rc = NW_ENOMEM;

	if (rgroups_missing(&x.missing, p->cur, p->tgt, p->err) != 0)
		return NW_ENOMEM;
	if ((ms->nmesh == 0 && json_array_size(x.missing) == 0) || !prepare_needed(p, x.missing)) {
		json_decref(x.missing);
		return 0;
	}
	x.w = plan_wave_new(p, WAVE_PREPARE, "prepare");
	x.rg_step_of = json_object();
	x.features = plan_sorted_keys(ms->features);
	x.subs = mesh_subscriptions(p);
	x.reg_steps = json_array();
	x.checks = json_array();
	x.created = json_array();
	x.nm_done = json_object();
	x.ng_done = json_object();
	if (x.w == NULL || x.features == NULL || x.subs == NULL || x.reg_steps == NULL ||
	    x.checks == NULL || x.created == NULL || x.nm_done == NULL || x.ng_done == NULL ||
	    x.rg_step_of == NULL)
		goto done;
	/* phase 0: the resource groups the change writes into that do not exist yet */
	if (rg_steps(p, x.w, x.missing, x.rg_step_of) != 0 || prepare_features(&x) != 0)
		goto done;
	for (i = 0; i < ms->nmesh; i++)
		if (prepare_mesh(p, &x, &ms->mesh[i]) != 0)
			goto done;
	if (json_array_size(x.checks) > 0 &&
	    plan_gate_add(x.w, GATE_RESOURCE_STATE, "after", json_pack("{s:O}", "checks", x.checks),
	    (int)json_array_size(x.checks), "the network manager, groups and configuration are provisioned") != 0)
		goto done;
	prepare_notes(&x);
	rc = 0;
done:
	json_decref(x.features);
	json_decref(x.subs);
	json_decref(x.reg_steps);
	json_decref(x.checks);
	json_decref(x.created);
	json_decref(x.nm_done);
	json_decref(x.ng_done);
	json_decref(x.missing);
	json_decref(x.rg_step_of);
	return rc == 0 ? 0 : plan_nomem(p);
}

/* ------------------------------------------------------------------ */
/* avnm-mesh, phase 1: High-Scale Private Endpoints, in maintenance-window batches */

/* The hub a spoke hangs off (its first peering to a hub), or NULL. */
static const struct topo_vnet *
hub_of(const struct plan_ctx *p, const struct topo_vnet *v)
{
	size_t i;

	for (i = 0; i < v->npeerings; i++) {
		const struct topo_vnet *r = v->peerings[i].remote;
		if (r != NULL && p->is_hub[r - p->cur->vnets])
			return r;
	}
	return NULL;
}

struct hspe_item {
	const struct topo_vnet *hub;
	const struct topo_vnet *v;
	const json_t *rec;
};

static int
cmp_hspe_item(const void *a, const void *b)
{
	const struct hspe_item *x = a, *y = b;
	int c;

	if (x->hub != y->hub) {
		if (x->hub == NULL)
			return 1;
		if (y->hub == NULL)
			return -1;
		c = topo_id_compare(x->hub->res->id, y->hub->res->id);
		if (c != 0)
			return c;
	}
	return topo_id_compare(x->v->res->id, y->v->res->id);
}

/*
 * The body of a VNet's HSPE PUT from its inverse inv (plan_wire_body of the
 * VNet): the VNet policy set, and the subnets whose policy changes fresh
 * with their new policy.  The subnets that keep theirs are shared with inv,
 * which nothing modifies once made: on the bench estate's 5,000 spokes,
 * copying every subnet of both bodies was a tenth of the mesh planning's
 * memory.
 */
static json_t *
hspe_vnet_body(const json_t *inv, const json_t *subs, const char *vpol)
{
	json_t *body = json_copy((json_t *)inv), *props, *na, *nv;
	const json_t *sarr;
	size_t i;

	props = body != NULL ? json_copy(json_object_get(body, "properties")) : NULL;
	if (props == NULL || json_object_set_new(body, "properties", props) != 0 ||
	    json_object_set_new(props, "privateEndpointVNetPolicies", json_string(vpol)) != 0)
		goto fail;
	/* the VNet body carries its subnets: with the policies just set, not the old ones */
	sarr = json_path(inv, "properties", "subnets", NULL);
	if (!json_is_array(sarr))
		return body;
	if ((na = json_array()) == NULL || json_object_set_new(props, "subnets", na) != 0)
		goto fail;
	json_array_foreach(sarr, i, nv) {
		const char *sname = json_str(nv, "name");
		json_t *pol = sname != NULL ? json_object_get(subs, sname) : NULL, *sn, *sp;

		if (pol == NULL || !json_is_object(json_object_get(nv, "properties"))) {
			if (json_array_append(na, nv) != 0)
				goto fail;
			continue;
		}
		if ((sn = json_copy(nv)) == NULL || json_array_append_new(na, sn) != 0 ||
		    (sp = json_copy(json_object_get(nv, "properties"))) == NULL ||
		    json_object_set_new(sn, "properties", sp) != 0 ||
		    json_object_set(sp, "privateEndpointNetworkPolicies", pol) != 0)
			goto fail;
	}
	return body;
fail:
	json_decref(body);
	return NULL;
}

/* The VNet bodies of an HSPE step, or none when its policy does not change. */
struct hspe_bodies {
	json_t *body, *inv;
};

/*
 * A subnet's own PUT bodies: when the VNet's step carries the subnet with
 * the same new policy, its properties objects are shared with that step's
 * (plan_subnet_body makes exactly the object plan_wire_body makes for the
 * subnet); otherwise made from the subnet.
 */
static int
hspe_subnet_bodies(const struct hspe_bodies *vb, const struct topo_subnet *sn, const json_t *subs,
    const char *sname, json_t **body, json_t **inv)
{
	const json_t *src = json_path(sn->vnet->res->json, "properties", "subnets", NULL);
	const json_t *bs = json_path(vb->body, "properties", "subnets", NULL);
	const json_t *is = json_path(vb->inv, "properties", "subnets", NULL);
	json_t *bp, *ip;
	size_t i;

	for (i = 0; vb->inv != NULL && i < json_array_size(src); i++)
		if (json_array_get(src, i) == sn->json)
			break;
	bp = json_object_get(json_array_get(bs, i), "properties");
	ip = json_object_get(json_array_get(is, i), "properties");
	if (vb->inv != NULL && i < json_array_size(src) && json_array_size(bs) == json_array_size(src) &&
	    json_array_size(is) == json_array_size(src) && json_is_object(bp) && json_is_object(ip) &&
	    json_object_get(subs, json_str(json_array_get(is, i), "name")) == json_object_get(subs, sname)) {
		*inv = json_pack("{s:O}", "properties", ip);
		*body = json_pack("{s:O}", "properties", bp);
	} else {
		*inv = plan_subnet_body(sn->json);
		*body = *inv != NULL ? plan_body_dup(*inv) : NULL;
		if (*body != NULL)
			json_object_set_new(json_object_get(*body, "properties"), "privateEndpointNetworkPolicies",
			    json_string(json_string_value(json_object_get(subs, sname))));
	}
	if (*inv == NULL || *body == NULL) {
		json_decref(*inv);
		json_decref(*body);
		return -1;
	}
	return 0;
}

/* A step whose bodies come once the rehearsal is done (mesh_hspe_bodies). */
static int
hspe_later_add(struct mesh_state *ms, const struct topo_vnet *v, const json_t *rec,
    const struct topo_subnet *sn, const char *sname, json_t *st)
{
	if (VEC_GROW(ms->hspe_later, &ms->caphspe_later, ms->nhspe_later + 1) != 0)
		return -1;
	ms->hspe_later[ms->nhspe_later++] = (struct hspe_later){ v, rec, sn, sname, st };
	return 0;
}

/* The subnets' steps of one VNet, their ids in deps; their bodies come later. */
static int
hspe_subnet_steps(struct plan_ctx *p, struct wave *w, const struct topo_vnet *v, const json_t *rec,
    json_t *deps, long *npe)
{
	const json_t *subs = json_object_get(rec, "subnets");
	json_t *names = plan_sorted_keys(subs), *nv, *st;
	size_t i, k;
	char wt[256];

	if (names == NULL)
		return -1;
	plan_window_text(p, wt, sizeof(wt));
	json_array_foreach(names, i, nv) {
		const char *sname = json_string_value(nv);
		const char *pol = json_string_value(json_object_get(subs, sname));
		const struct topo_subnet *sn = NULL;
		char sid[2048];

		for (k = 0; k < v->nsubnets; k++)
			if (strcasecmp(v->subnets[k].name, sname) == 0)
				sn = &v->subnets[k];
		if (sn == NULL)
			continue;
		*npe += (long)sn->nprivate_endpoints;
		snprintf(sid, sizeof(sid), "%s", sn->id);
		{
			struct step_spec s = {
				.procedure = procedure_avnm_mesh.name, .action = "set-subnet-private-endpoint-policies",
				.resource = sid, .serialize = v->res->id, .lro = true, .mw = true,
				.op = plan_op_new("PUT", sid, ARM_API_NETWORK, NULL),
				.inverse = plan_op_new("PUT", sid, ARM_API_NETWORK, NULL),
				.expect = json_pack("[o]", plan_expect_eq("/properties/privateEndpointNetworkPolicies", pol)),
				.reads = 2, .writes = 1,
			};
			st = plan_step_add(w, &s, "set privateEndpointNetworkPolicies %s on subnet %s of %s "
			    "(%zu private endpoints), inside %s", pol, sn->name, v->res->name,
			    sn->nprivate_endpoints, wt);
		}
		/* the key of subs itself, which lives as long as the plan's mesh state */
		if (st == NULL || json_array_append_new(deps, json_string(plan_step_id(st))) != 0 ||
		    hspe_later_add(mesh_state(p), v, rec, sn,
			json_object_iter_key(json_object_iter_at((json_t *)subs, sname)), st) != 0)
			goto fail;
	}
	json_decref(names);
	return 0;
fail:
	json_decref(names);
	return -1;
}

static int
hspe_vnet_steps(struct plan_ctx *p, struct wave *w, const struct topo_vnet *v, const json_t *rec,
    json_t *checks, long *npe)
{
	const char *vpol = json_str(rec, "vnet");
	json_t *deps = json_array(), *st;
	char wt[256];

	if (deps == NULL)
		goto fail;
	if (hspe_subnet_steps(p, w, v, rec, deps, npe) != 0)
		goto fail;
	if (vpol != NULL) {
		struct step_spec s = {
			.procedure = procedure_avnm_mesh.name, .action = "set-vnet-private-endpoint-policies",
			.resource = v->res->id, .serialize = v->res->id, .lro = true, .mw = true,
			.op = plan_op_new("PUT", v->res->id, ARM_API_NETWORK, NULL),
			.inverse = plan_op_new("PUT", v->res->id, ARM_API_NETWORK, NULL),
			.expect = json_pack("[o]", plan_expect_eq("/properties/privateEndpointVNetPolicies", vpol)),
			.depends = deps, .reads = 2, .writes = 1,
		};

		deps = NULL; /* the step has them */
		plan_window_text(p, wt, sizeof(wt));
		st = plan_step_add(w, &s, "set privateEndpointVNetPolicies %s on %s (High-Scale Private "
		    "Endpoints; resets its private endpoint connections for about a second), inside %s",
		    vpol, v->res->name, wt);
		if (st == NULL || hspe_later_add(mesh_state(p), v, rec, NULL, NULL, st) != 0)
			goto fail;
		json_array_append_new(checks, json_pack("{s:s, s:s, s:s}", "resource", v->res->id, "pointer",
		    "/properties/privateEndpointVNetPolicies", "equals", vpol));
	}
	json_decref(deps);
	return 0;
fail:
	json_decref(deps);
	return plan_nomem(p);
}

/* Puts body and inv into st's operation and inverse (stolen). */
static int
hspe_step_bodies(json_t *st, json_t *body, json_t *inv)
{
	if (body == NULL || inv == NULL) {
		json_decref(body);
		json_decref(inv);
		return -1;
	}
	if (json_object_set_new(json_object_get(st, "operation"), "body", body) != 0) {
		json_decref(inv);
		return -1;
	}
	return json_object_set_new(json_object_get(st, "inverse"), "body", inv) != 0 ? -1 : 0;
}

/*
 * The HSPE steps' bodies, made once the rehearsal is done: on the bench
 * estate's 5,000 spokes they are about 40 MB (each VNet's body with its
 * subnets, twice), which the rehearsal's own states would otherwise sit
 * beside.  Per VNet, as its steps were made: the VNet's bodies first, then
 * its subnets' bodies, which share what they can of the VNet's.
 */
int
mesh_hspe_bodies(struct plan_ctx *p)
{
	struct mesh_state *ms = mesh_state(p);
	struct hspe_bodies vb = { 0 };
	size_t i, k;
	int rc = 0;

	for (i = 0; i < ms->nhspe_later && rc == 0; i = k) {
		const struct hspe_later *l = &ms->hspe_later[i];
		const json_t *subs = json_object_get(l->rec, "subnets");
		const char *vpol = json_str(l->rec, "vnet");

		memset(&vb, 0, sizeof(vb));
		if (vpol != NULL && ((vb.inv = plan_wire_body(l->v->res->json)) == NULL ||
		    (vb.body = hspe_vnet_body(vb.inv, subs, vpol)) == NULL))
			rc = -1;
		for (k = i; k < ms->nhspe_later && ms->hspe_later[k].v == l->v && rc == 0; k++) {
			const struct hspe_later *s = &ms->hspe_later[k];
			json_t *body = NULL, *inv = NULL;

			if (s->sn == NULL)
				rc = hspe_step_bodies(s->step, json_incref(vb.body), json_incref(vb.inv));
			else if ((rc = hspe_subnet_bodies(&vb, s->sn, subs, s->sname, &body, &inv)) == 0)
				rc = hspe_step_bodies(s->step, body, inv);
		}
		json_decref(vb.body);
		json_decref(vb.inv);
	}
	free(ms->hspe_later);
	ms->hspe_later = NULL;
	ms->nhspe_later = ms->caphspe_later = 0;
	return rc == 0 ? 0 : plan_nomem(p);
}

int
mesh_waves_hspe(struct plan_ctx *p)
{
	struct mesh_state *ms = mesh_state(p);
	struct hspe_item *items = NULL;
	size_t n = 0, i, start;
	const char *k;
	json_t *rec;
	int rc = 0;

	if (json_object_size(ms->hspe_vnets) == 0)
		return 0;
	items = calloc(json_object_size(ms->hspe_vnets), sizeof(*items));
	if (items == NULL)
		return plan_nomem(p);
	json_object_foreach(ms->hspe_vnets, k, rec) {
		const struct topo_vnet *v = topology_find_vnet(p->cur, json_str(rec, "id"));
		if (v == NULL)
			continue;
		items[n].v = v;
		items[n].hub = hub_of(p, v);
		items[n].rec = rec;
		n++;
	}
	qsort(items, n, sizeof(*items), cmp_hspe_item);
	/* one batch per hub-and-spoke topology, as seeds/003 does it */
	for (start = 0; start < n && rc == 0; start = i) {
		struct wave *w;
		json_t *checks = json_array();
		long npe = 0;
		char name[128], wt[256];

		for (i = start; i < n && items[i].hub == items[start].hub; i++)
			;
		snprintf(name, sizeof(name), "hspe-%s", items[start].hub != NULL ?
		    items[start].hub->res->name : "unattached");
		w = plan_wave_new(p, WAVE_HSPE, name);
		if (w == NULL || checks == NULL) {
			json_decref(checks);
			rc = plan_nomem(p);
			break;
		}
		for (size_t j = start; j < i && rc == 0; j++) {
			json_array_append_new(w->members, json_string(items[j].v->res->id));
			rc = hspe_vnet_steps(p, w, items[j].v, items[j].rec, checks, &npe);
		}
		if (rc != 0) {
			json_decref(checks);
			break;
		}
		if (json_array_size(checks) > 0)
			rc = plan_gate_add(w, GATE_RESOURCE_STATE, "after", json_pack("{s:o}", "checks", checks),
			    (int)json_array_size(checks),
			    "every VNet of the batch has privateEndpointVNetPolicies Basic");
		else
			json_decref(checks);
		plan_wave_risk(w, "enabling High-Scale Private Endpoints triggers a platform update and a one-time reset "
		    "of every long-running private endpoint connection of these %zu VNets (%ld private "
		    "endpoints; learn.microsoft.com/azure/private-link/increase-private-endpoint-vnet-limits): "
		    "run it inside %s", i - start, npe, plan_window_text(p, wt, sizeof(wt)));
		plan_wave_risk(w, "once HSPE is on, per-private-endpoint bytes in/out metrics are no longer "
		    "available, and on-premises private endpoint traffic is billed on the gateway VNet");
		plan_wave_rollback(w, "put back each VNet's previous privateEndpointVNetPolicies and its subnets' "
		    "previous privateEndpointNetworkPolicies (the inverse PUTs); turning HSPE off resets the "
		    "private endpoint connections again, so roll back inside the window too");
	}
	free(items);
	return rc;
}
