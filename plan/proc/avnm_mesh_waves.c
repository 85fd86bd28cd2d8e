/*
 * avnm-mesh, phase 3: the mesh waves (static members, then a goal-state
 * commit per region) along the rollout's waves, and the route gates the
 * rehearsal fills in for them.
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
#include "plan/rehearse.h"

/* ------------------------------------------------------------------ */
/* avnm-mesh, phase 3: static members, then a goal-state commit per region */

/* The member of obj whose key matches key by cmp (the last one), made empty when absent and create is set. */
static json_t *
child_by(json_t *obj, const char *key, int (*cmp)(const char *, const char *), bool create)
{
	json_t *found = NULL, *v;
	const char *k;

	json_object_foreach(obj, k, v)
		if (cmp(k, key) == 0)
			found = v;
	if (found == NULL && create) {
		found = json_object();
		json_object_set_new(obj, key, found);
	}
	return found;
}

static json_t *
deploy_region(json_t *deploy, const char *nm, const char *region, bool create)
{
	json_t *m = child_by(deploy, nm, topo_id_compare, create);

	return m != NULL ? child_by(m, region, strcasecmp, create) : NULL;
}

/* What is active in (manager, region) now in the rehearsed sequence: a new array. */
static json_t *
deploy_list(json_t *deploy, const char *nm, const char *region)
{
	json_t *r = deploy_region(deploy, nm, region, false), *v = NULL;
	const char *k;
	json_t *x;

	json_object_foreach(r, k, x)
		if (strcasecmp(k, "Connectivity") == 0)
			v = x;
	return json_is_array(v) ? json_deep_copy(v) : json_array();
}

static bool
wave_name_taken(const struct plan_ctx *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nw; i++)
		if (strcmp(p->w[i].name, name) == 0)
			return true;
	return strcmp(name, "prepare") == 0 || strcmp(name, "summarize") == 0 ||
	    strcmp(name, "decommission") == 0 || strncmp(name, "hspe-", 5) == 0 ||
	    strncmp(name, "gateways-", 9) == 0;
}

/* Mesh m is deployed by network manager nm in region. */
static bool
mesh_in(const struct mesh *m, const char *nm, const char *region)
{
	size_t k;

	if (topo_id_compare(m->nm->res->id, nm) != 0)
		return false;
	for (k = 0; k < m->nregions; k++)
		if (strcasecmp(m->regions[k], region) == 0)
			return true;
	return false;
}

static bool
mesh_needs_commit(const struct plan_ctx *p, const char *nm, const char *region)
{
	struct mesh_state *ms = mesh_state(p);
	size_t i;

	for (i = 0; i < ms->nmesh; i++) {
		const struct mesh *m = &ms->mesh[i];

		if (!mesh_in(m, nm, region))
			continue;
		if (!plan_deployment_has(plan_find_deployment(p->cur, nm, region), m->cc->res->id) ||
		    plan_idset_get(ms->changed, m->cc->res->id) != NULL)
			return true;
	}
	return false;
}

static int
cmp_sm_vnet(const void *a, const void *b)
{
	const struct topo_static_member *const *x = a, *const *y = b;

	return topo_id_compare((*x)->vnet->res->id, (*y)->vnet->res->id);
}

static bool any_new_in_region(const struct plan_ctx *p, const char *region);

/* What a mesh wave collects as it goes. */
struct mwave {
	struct wave *w;
	json_t *first_regions; /* regions this plan commits first: {region, before} */
	json_t *status;        /* the deployment-status gate's deployments */
	json_t *sm_deps;       /* the static-member steps the commits wait for */
	size_t nmembers;
};

/* The static members of the wave's VNets for one mesh (rollout wave rw). */
static int
mesh_wave_members(struct plan_ctx *p, struct mwave *x, const struct mesh *m, size_t rw,
    const json_t *wave_of, json_t *seen)
{
	const struct topo_static_member **sorted;
	size_t k;
	int rc = NW_ENOMEM;

	if (m->nadded == 0)
		return 0;
	sorted = malloc(m->nadded * sizeof(*sorted));
	if (sorted == NULL)
		return NW_ENOMEM;
	memcpy(sorted, m->added, m->nadded * sizeof(*sorted));
	qsort(sorted, m->nadded, sizeof(*sorted), cmp_sm_vnet);
	for (k = 0; k < m->nadded; k++) {
		const struct topo_static_member *sm = sorted[k];
		const struct topo_vnet *cv = topology_find_vnet(p->cur, sm->vnet->res->id);
		json_t *wi = plan_idset_get(wave_of, sm->vnet->res->id), *st;
		struct step_spec s = {
			.procedure = procedure_avnm_mesh.name, .action = "add-static-member",
			.resource = sm->res->id, .serialize = sm->vnet->res->id,
			.reads = 2, .writes = 1,
		};

		if (cv == NULL || wi == NULL || (size_t)json_integer_value(wi) != rw)
			continue;
		s.op = plan_op_new("PUT", sm->res->id, ARM_API_NETWORK, plan_wire_body(sm->res->json));
		s.inverse = plan_op_new("DELETE", sm->res->id, ARM_API_NETWORK, NULL);
		s.expect = json_pack("[o]", plan_expect_eq("/properties/provisioningState", "Succeeded"));
		st = plan_step_add(x->w, &s, "add %s to network group %s", sm->vnet->res->name,
		    sm->group != NULL ? sm->group->res->name : "?");
		if (st == NULL)
			goto done;
		json_array_append_new(x->sm_deps, json_string(plan_step_id(st)));
		json_array_append(x->w->fx_put, sm->res->json);
		if (plan_idset_get(seen, cv->res->id) == NULL) {
			plan_idset_add(seen, cv->res->id, NULL);
			json_array_append_new(x->w->members, json_string(cv->res->id));
			if (plan_wave_add_vnet(x->w, (size_t)(cv - p->cur->vnets)) != 0)
				goto done;
			x->nmembers++;
		}
	}
	rc = 0;
done:
	free(sorted);
	return rc;
}

/* The regions where manager nm deploys one of our meshes, sorted, unique (malloc'd). */
static int
manager_regions(const struct mesh_state *ms, const char *nm, const char ***out, size_t *nout)
{
	const char **regions = NULL;
	size_t nreg = 0, k, r, q;

	for (k = 0; k < ms->nmesh; k++) {
		if (topo_id_compare(ms->mesh[k].nm->res->id, nm) != 0)
			continue;
		for (r = 0; r < ms->mesh[k].nregions; r++) {
			const char **x;

			for (q = 0; q < nreg; q++)
				if (strcasecmp(regions[q], ms->mesh[k].regions[r]) == 0)
					break;
			if (q < nreg)
				continue;
			x = realloc(regions, (nreg + 1) * sizeof(*x));
			if (x == NULL) {
				free(regions);
				return NW_ENOMEM;
			}
			regions = x;
			regions[nreg++] = ms->mesh[k].regions[r];
		}
	}
	if (nreg > 1)
		qsort(regions, nreg, sizeof(*regions), plan_str_cmp_ci);
	*out = regions;
	*nout = nreg;
	return 0;
}

/* The configurations a commit in (nm, R) lists: what is active there today, then ours. */
static json_t *
commit_list(const struct mesh_state *ms, const struct topo_deployment *dc, const char *nm, const char *R)
{
	json_t *list = json_array();
	size_t k;

	for (k = 0; list != NULL && dc != NULL && k < dc->nconfigs; k++)
		json_array_append_new(list, json_string(dc->config_ids[k]));
	for (k = 0; list != NULL && k < ms->nmesh; k++) {
		const struct mesh *m = &ms->mesh[k];

		if (mesh_in(m, nm, R) && !plan_ids_has(list, m->cc->res->id))
			json_array_append_new(list, json_string(m->cc->res->id));
	}
	return list;
}

/* The goal-state commit of manager nm in region R, when this wave needs one. */
static int
mesh_wave_commit(struct plan_ctx *p, struct mwave *x, const char *nm, const char *R, bool first)
{
	struct mesh_state *ms = mesh_state(p);
	const struct topo_deployment *dc = plan_find_deployment(p->cur, nm, R);
	struct step_spec s = {
		.procedure = procedure_avnm_mesh.name, .action = "commit", .serialize = nm,
		.lro = true, .reads = 2, .writes = 1,
	};
	bool has = false, was_committed;
	char key[1024], path[1024];
	json_t *before, *list, *st;
	size_t k;

	for (k = 0; k < x->w->nvnets; k++) {
		const char *loc = p->cur->vnets[x->w->vnets[k]].res->location;
		if (loc != NULL && strcasecmp(loc, R) == 0)
			has = true;
	}
	snprintf(key, sizeof(key), "%s|%s", nm, R);
	was_committed = plan_idset_get(ms->committed, key) != NULL;
	if (!has && !(first && !was_committed && mesh_needs_commit(p, nm, R) && !any_new_in_region(p, R)))
		return 0;
	before = deploy_list(ms->deploy, nm, R);
	list = commit_list(ms, dc, nm, R);
	if (before == NULL || list == NULL) {
		json_decref(before);
		json_decref(list);
		return NW_ENOMEM;
	}
	snprintf(path, sizeof(path), "%s/commit", nm);
	s.resource = nm;
	s.op = plan_op_new("POST", path, ARM_API_NETWORK, json_pack("{s:s, s:O, s:[s]}", "commitType",
	    "Connectivity", "configurationIds", list, "targetLocations", R));
	if (!was_committed)
		s.inverse = plan_op_new("POST", path, ARM_API_NETWORK,
		    json_pack("{s:s, s:O, s:[s]}", "commitType", "Connectivity", "configurationIds",
		    before, "targetLocations", R));
	else
		s.inverse = plan_op_none("the region keeps the same configurations; deleting this "
		    "wave's static members takes its VNets out of the mesh");
	s.depends = json_copy(x->sm_deps);
	if (dc == NULL || dc->nconfigs == 0)
		st = plan_step_add(x->w, &s, "commit the mesh configuration in %s (goal state: no other "
		    "connectivity configuration is active there)", R);
	else
		st = plan_step_add(x->w, &s, "commit in %s: the %zu connectivity configuration%s already "
		    "active there plus the mesh (goal state: a commit that left one out would "
		    "undeploy it)", R, dc->nconfigs, dc->nconfigs == 1 ? "" : "s");
	if (st == NULL) {
		json_decref(before);
		json_decref(list);
		return NW_ENOMEM;
	}
	if (!was_committed) {
		json_array_append_new(x->first_regions, json_pack("{s:s, s:o}", "region", R, "before", before));
		plan_idset_add(ms->committed, key, NULL);
	} else {
		json_decref(before);
	}
	json_object_set(deploy_region(ms->deploy, nm, R, true), "Connectivity", list);
	json_array_append_new(x->status, json_pack("{s:s, s:s, s:o, s:s}", "networkManager", nm,
	    "region", R, "configurationIds", list, "status", "Deployed"));
	return 0;
}

/* The wave's deployment gate, soak, risks and rollback text. */
static int
mesh_wave_notes(struct plan_ctx *p, struct mwave *x)
{
	struct wave *w = x->w;
	char text[4096];
	size_t len, i;
	const json_t *fr;

	if (json_array_size(x->status) > 0 &&
	    plan_gate_add(w, GATE_DEPLOYMENT_STATUS, "after", json_pack("{s:O}", "deployments", x->status),
	    (int)json_array_size(x->status), "the commit shows deploymentStatus Deployed in every region "
	    "it targets") != 0)
		return NW_ENOMEM;
	/* the soak gate comes last: the rehearsal adds it after the route gates */
	w->soak = p->ro.soak_between_waves;
	w->soak_desc = "before the next wave, with every gate passing";
	plan_wave_risk(w, "the mesh overlays the existing peerings: the hub peerings and the hairpin "
	    "through the circuit stay in place as the fallback until the decommission wave");
	plan_wave_risk(w, "a commit replaces everything deployed in its region (goal state): each commit "
	    "here lists every connectivity configuration already active in the region, so none is "
	    "dropped");
	len = (size_t)snprintf(text, sizeof(text), "delete the static members of this wave's %zu "
	    "VNets: they leave the mesh and fall back to the path they use today", x->nmembers);
	json_array_foreach(x->first_regions, i, fr) {
		size_t nb = json_array_size(json_object_get(fr, "before"));
		if (len < sizeof(text))
			len += (size_t)snprintf(text + len, sizeof(text) - len,
			    "; in %s commit again with %s%s", json_str(fr, "region"),
			    nb == 0 ? "no connectivity configuration, which undeploys the mesh there" :
			    "only the configurations active before this plan",
			    nb == 0 ? "" : " (see the commit's inverse)");
	}
	plan_wave_rollback(w, "%s", text);
	return 0;
}

/*
 * One mesh wave: rw is the rollout wave index (SIZE_MAX for a deploy-only
 * wave), wave_of maps each new member's id to its rollout wave.
 */
static int
mesh_wave_build(struct plan_ctx *p, size_t rw, const char *name, const json_t *wave_of, bool first)
{
	struct mesh_state *ms = mesh_state(p);
	struct mwave x = { 0 };
	json_t *nm_list = json_array(), *seen = json_object();
	size_t i, k;
	const json_t *nmv;
	char wname[128];
	int rc = NW_ENOMEM;

	x.w = plan_wave_new(p, WAVE_MESH, name);
	x.first_regions = json_array();
	x.status = json_array();
	x.sm_deps = json_array();
	if (x.w == NULL || nm_list == NULL || x.first_regions == NULL || x.status == NULL ||
	    x.sm_deps == NULL || seen == NULL)
		goto done;
	snprintf(wname, sizeof(wname), "%s", name);
	x.w->mesh_wave = 1;
	for (i = 0; i < p->nw - 1; i++)
		if (p->w[i].mesh_wave > 0)
			x.w->mesh_wave++;
	/* static members of this wave's VNets */
	for (i = 0; i < ms->nmesh; i++) {
		if (!plan_ids_has(nm_list, ms->mesh[i].nm->res->id))
			json_array_append_new(nm_list, json_string(ms->mesh[i].nm->res->id));
		if (mesh_wave_members(p, &x, &ms->mesh[i], rw, wave_of, seen) != 0)
			goto done;
	}
	/* the commits: goal state per region, keeping what is active there */
	json_array_foreach(nm_list, i, nmv) {
		const char **regions = NULL;
		size_t nreg = 0;

		if (manager_regions(ms, json_string_value(nmv), &regions, &nreg) != 0)
			goto done;
		for (k = 0; k < nreg; k++)
			if (mesh_wave_commit(p, &x, json_string_value(nmv), regions[k], first) != 0)
				break;
		free(regions);
		if (k < nreg)
			goto done;
	}
	if (x.w->nsteps == 0) {
		/* nothing for this wave after all: drop it */
		plan_wave_free(x.w);
		p->nw--;
		rc = 0;
		goto done;
	}
	x.w->fx_deploy = json_deep_copy(ms->deploy);
	x.w->routing = true;
	if (mesh_wave_notes(p, &x) != 0)
		goto done;
	snprintf(ms->last_mesh_name, sizeof(ms->last_mesh_name), "%s", wname);
	rc = 0;
done:
	json_decref(nm_list);
	json_decref(x.first_regions);
	json_decref(x.status);
	json_decref(x.sm_deps);
	json_decref(seen);
	return rc == 0 ? 0 : plan_nomem(p);
}

static bool
any_new_in_region(const struct plan_ctx *p, const char *region)
{
	struct mesh_state *ms = mesh_state(p);
	const char *k;
	json_t *v;

	json_object_foreach(ms->newset, k, v) {
		const struct topo_vnet *cv = topology_find_vnet(p->cur, k);
		if (cv != NULL && cv->res->location != NULL && topo_location_equal(cv->res->location, region))
			return true;
	}
	return false;
}

int
mesh_waves(struct plan_ctx *p)
{
	struct mesh_state *ms = mesh_state(p);
	const struct topo_vnet **vnets = NULL;
	size_t *assign = NULL, n = 0, i, nro, rw;
	json_t *wave_of = json_object(), *warnings = json_array(), *x;
	const char *k;
	bool first = true;
	int rc = NW_ENOMEM;

	if (ms->nmesh == 0) {
		json_decref(wave_of);
		json_decref(warnings);
		return 0;
	}
	if (wave_of == NULL || warnings == NULL)
		goto done;
	vnets = calloc(json_object_size(ms->newset) + 1, sizeof(*vnets));
	assign = calloc(json_object_size(ms->newset) + 1, sizeof(*assign));
	if (vnets == NULL || assign == NULL)
		goto done;
	json_object_foreach(ms->newset, k, x) {
		const struct topo_vnet *cv = topology_find_vnet(p->cur, k);
		if (cv != NULL)
			vnets[n++] = cv;
	}
	if (n > 1)
		qsort(vnets, n, sizeof(*vnets), plan_vnet_cmp);
	rc = planner_waves_assign(assign, &p->ro, vnets, n, warnings, p->err);
	if (rc != 0)
		goto done;
	rc = NW_ENOMEM;
	json_array_foreach(warnings, i, x)
		plan_finding(p, "warning", "wave-assignment", NULL, "%s", json_string_value(x));
	for (i = 0; i < n; i++)
		if (plan_idset_add(wave_of, vnets[i]->res->id, json_integer((json_int_t)assign[i])) != 0)
			goto done;
	nro = p->ro.nwaves > 0 ? p->ro.nwaves : 1;
	for (rw = 0; rw < nro; rw++) {
		char name[128];
		size_t cnt = 0;

		for (i = 0; i < n; i++)
			if (assign[i] == rw)
				cnt++;
		if (cnt == 0)
			continue;
		snprintf(name, sizeof(name), "%s", p->ro.nwaves > 0 ? p->ro.waves[rw].name : "mesh");
		if (wave_name_taken(p, name)) {
			char alt[128];
			snprintf(alt, sizeof(alt), "mesh-%.100s", name);
			snprintf(name, sizeof(name), "%s", alt);
		}
		rc = mesh_wave_build(p, rw, name, wave_of, first);
		if (rc != 0)
			goto done;
		first = false;
	}
	/* configuration changes or new regions with no new member: one deploy wave */
	if (first) {
		rc = mesh_wave_build(p, SIZE_MAX, wave_name_taken(p, "deploy") ? "mesh-deploy" : "deploy",
		    wave_of, true);
		if (rc != 0)
			goto done;
	}
	rc = 0;
done:
	free(vnets);
	free(assign);
	json_decref(wave_of);
	json_decref(warnings);
	if (rc == NW_ENOMEM)
		return plan_nomem(p);
	return rc;
}

/* The gates only the rehearsed routes can fill in: ConnectedGroup pairs and on-premises routes. */
/*
 * The first mesh wave's VNets whose every pair the rehearsal shows meshed,
 * both ways.  A member that keeps a user route for another member's prefix
 * (to VirtualNetworkGateway, say) keeps that path until the decommission
 * deletes the route: a user route wins over the connected group's route
 * for the same prefix.  Its pairs cannot pass an all-pairs gate, so the
 * member with the most such pairs is left out, in turn, until the rest are
 * all meshed.  *out (malloc'd, *nout entries) holds indexes into the VNets.
 */
static int
first_wave_meshed(struct plan_ctx *p, const struct wave *w, const struct rstate *a, size_t **out,
    size_t *nout)
{
	size_t n = w->nvnets, i, j, nbad = 0, cap = 0, *bad = NULL, *count = NULL;
	bool *gone = NULL;
	int rc = 0;

	*nout = 0;
	*out = malloc((n + 1) * sizeof(**out));
	count = calloc(n + 1, sizeof(*count));
	gone = calloc(n + 1, sizeof(*gone));
	if (*out == NULL || count == NULL || gone == NULL)
		goto oom;
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			struct path_result pr;
			if (i == j)
				continue;
			rc = routes_path(&pr, a->ctx, &a->t->vnets[w->vnets[i]], &a->t->vnets[w->vnets[j]],
			    p->err);
			if (rc != 0)
				goto done;
			if (pr.cls == PATH_MESH)
				continue;
			if (nbad == cap) {
				size_t *x = realloc(bad, (cap = cap * 2 + 16) * 2 * sizeof(*bad));
				if (x == NULL)
					goto oom;
				bad = x;
			}
			bad[2 * nbad] = i;
			bad[2 * nbad + 1] = j;
			nbad++;
			count[i]++;
			count[j]++;
		}
	for (;;) {
		size_t worst = n, most = 0, k;
		for (i = 0; i < n; i++)
			if (!gone[i] && count[i] > most) {
				most = count[i];
				worst = i;
			}
		if (worst == n)
			break;
		gone[worst] = true;
		for (k = 0; k < nbad; k++)
			if (bad[2 * k] == worst || bad[2 * k + 1] == worst) {
				count[bad[2 * k]]--;
				count[bad[2 * k + 1]]--;
				bad[2 * k] = bad[2 * k + 1] = n; /* counted off once */
			}
	}
	for (i = 0; i < n; i++)
		if (!gone[i])
			(*out)[(*nout)++] = w->vnets[i];
	goto done;
oom:
	rc = plan_nomem(p);
done:
	if (rc != 0) {
		free(*out);
		*out = NULL;
		*nout = 0;
	}
	free(bad);
	free(count);
	free(gone);
	return rc;
}

static int
mesh_gates(struct plan_ctx *p, struct wave *w, const struct rstate *a)
{
	struct mesh_state *ms = mesh_state(p);
	size_t i, *x;
	int rc;

	if (w->mesh_wave == 1) {
		json_t *ids = json_array();
		size_t *keep = NULL, nkeep = 0;
		if ((rc = first_wave_meshed(p, w, a, &keep, &nkeep)) != 0) {
			json_decref(ids);
			return rc;
		}
		for (i = 0; ids != NULL && i < nkeep; i++)
			json_array_append_new(ids, json_string(p->cur->vnets[keep[i]].res->id));
		free(keep);
		if (ids == NULL || (nkeep > 1 && plan_gate_add(w, GATE_EFFECTIVE_ROUTES, "after",
		    json_pack("{s:s, s:s, s:o}", "nextHopType", "ConnectedGroup", "scope", "all-pairs",
		    "vnets", ids), (int)nkeep, nkeep == w->nvnets ?
		    "every pair of this first wave's VNets that shares a connected group has ConnectedGroup "
		    "routes to the other's prefixes" :
		    "every pair of the %zu of this first wave's VNets the rehearsal shows meshed has "
		    "ConnectedGroup routes to the other's prefixes (the others keep a user route until "
		    "the decommission)", nkeep) != 0))
			return plan_nomem(p);
		if (nkeep <= 1)
			json_decref(ids);
	}
	x = realloc(ms->meshed, (ms->nmeshed + w->nvnets + 1) * sizeof(*x));
	if (x == NULL)
		return plan_nomem(p);
	ms->meshed = x;
	memcpy(ms->meshed + ms->nmeshed, w->vnets, w->nvnets * sizeof(*x));
	ms->nmeshed += w->nvnets;
	if (w->mesh_wave > 1 && w->nvnets > 0) {
		json_t *pairs = json_array();
		size_t tries, want = p->sample, got = 0;

		if (pairs == NULL)
			return plan_nomem(p);
		for (tries = 0; tries < (size_t)want * 20 && got < want; tries++) {
			uint64_t h = plan_mix64(((uint64_t)w->index << 32) ^ tries);
			size_t s = w->vnets[h % w->nvnets];
			size_t d = ms->meshed[plan_mix64(h) % ms->nmeshed];
			struct path_result pr;
			json_t *pair;
			size_t q;
			bool dup = false;

			if (s == d)
				continue;
			rc = routes_path(&pr, a->ctx, &a->t->vnets[s], &a->t->vnets[d], p->err);
			if (rc != 0) {
				json_decref(pairs);
				return rc;
			}
			if (pr.cls != PATH_MESH)
				continue;
			json_array_foreach(pairs, q, pair)
				if (strcmp(json_string_value(json_array_get(pair, 0)), a->t->vnets[s].res->id) == 0 &&
				    strcmp(json_string_value(json_array_get(pair, 1)), a->t->vnets[d].res->id) == 0)
					dup = true;
			if (dup)
				continue;
			json_array_append_new(pairs, json_pack("[s, s]", a->t->vnets[s].res->id,
			    a->t->vnets[d].res->id));
			got++;
		}
		if (got > 0) {
			if (plan_gate_add(w, GATE_EFFECTIVE_ROUTES, "after", json_pack("{s:s, s:s, s:o}", "nextHopType",
			    "ConnectedGroup", "scope", "sample", "pairs", pairs), (int)got,
			    "a sample of %zu pairs (this wave's VNets to VNets already meshed) has "
			    "ConnectedGroup routes", got) != 0)
				return plan_nomem(p);
		} else {
			json_decref(pairs);
		}
	}
	return plan_gate_onprem(p, w, a, w->vnets, w->nvnets, "a sample of this wave's VNets");
}

int
mesh_rehearsed(struct plan_ctx *p, struct wave *w, struct rstate *before, const struct rstate *after)
{
	size_t moved;

	if (after == NULL || w->kind != WAVE_MESH)
		return 0;
	moved = after->sum.by_class[PATH_MESH] > before->sum.by_class[PATH_MESH] ?
	    after->sum.by_class[PATH_MESH] - before->sum.by_class[PATH_MESH] : 0;
	plan_wave_risk(w, "%zu spoke-to-spoke flows move to the mesh as soon as the commit deploys "
	    "(see the traffic before and after); flows through an appliance keep their path", moved);
	return mesh_gates(p, w, after);
}
