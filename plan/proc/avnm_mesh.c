/*
 * avnm-mesh (plan/proc/avnm_mesh.h): the kind's entry, its state, what it
 * has to do (the target's mesh connectivity configurations that are new
 * or changed) and the differences it claims: the network manager, groups,
 * static members and configuration, the commits, the preview features,
 * the private endpoint policies of members, and the peerings and routes
 * the mesh makes redundant.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/json_own.h"
#include "plan/jsonutil.h"
#include "plan/proc/avnm_mesh.h"
#include "plan/report.h"
#include "plan/vec.h"

/* ------------------------------------------------------------------ */
/* What the mesh has to do: the target's new or changed mesh configurations */

static const struct topo_connectivity_config *
find_config(const struct topology *t, const char *id)
{
	struct topo_resource *r = topology_find(t, id);

	return r != NULL && r->type == TOPO_CONNECTIVITY_CONFIG ? r->view : NULL;
}

static const struct topo_network_manager *
find_manager(const struct topology *t, const char *id)
{
	struct topo_resource *r = topology_find(t, id);

	return r != NULL && r->type == TOPO_NETWORK_MANAGER ? r->view : NULL;
}

static bool
mesh_is_ours(const struct plan_ctx *p, const char *nm, const char *config)
{
	struct mesh_state *ms = mesh_state(p);
	size_t i;

	for (i = 0; i < ms->nmesh; i++)
		if (topo_id_compare(ms->mesh[i].cc->res->id, config) == 0 &&
		    topo_id_compare(ms->mesh[i].nm->res->id, nm) == 0)
			return true;
	return false;
}

/*
 * A region's deployment change is one the mesh procedure makes when the
 * target keeps every configuration already active there and adds only
 * ours: a commit is goal state, so dropping one would undeploy it.
 */
static bool
deployment_change_ok(const struct plan_ctx *p, const char *nm, const char *region)
{
	const struct topo_deployment *dc = plan_find_deployment(p->cur, nm, region);
	const struct topo_deployment *dt = plan_find_deployment(p->tgt, nm, region);
	size_t i;

	for (i = 0; dc != NULL && i < dc->nconfigs; i++)
		if (!plan_deployment_has(dt, dc->config_ids[i]))
			return false;
	for (i = 0; dt != NULL && i < dt->nconfigs; i++)
		if (!plan_deployment_has(dc, dt->config_ids[i]) && !mesh_is_ours(p, nm, dt->config_ids[i]))
			return false;
	return true;
}

static int
mesh_detect_one(struct plan_ctx *p, const struct topo_connectivity_config *cc, json_t *changed_ids)
{
	struct mesh_state *ms = mesh_state(p);
	const struct topology *t = p->tgt;
	struct mesh m = { 0 };
	size_t i, g, k, n = 0, cap = 0;
	bool changed;
	int rc = NW_ENOMEM;

	m.cc = cc;
	m.cc_cur = find_config(p->cur, cc->res->id);
	m.nm = cc->manager;
	if (m.nm == NULL) {
		plan_blocker(p, "network-manager-missing", cc->res->id,
		    "connectivity configuration %s has no network manager in the target",
		    cc->res->name);
		return 0;
	}
	m.nm_cur = find_manager(p->cur, m.nm->res->id);
	for (g = 0; g < cc->ngroups; g++) {
		const struct topo_network_group *ng = cc->groups[g].group;

		for (k = 0; ng != NULL && k < ng->nmembers; k++) {
			const struct topo_static_member *sm = ng->members[k];

			if (sm->vnet == NULL)
				continue;
			if (VEC_GROW(m.members, &cap, n + 1) != 0)
				goto done;
			m.members[n++] = sm->vnet;
			if (topology_find(p->cur, sm->res->id) == NULL) {
				const struct topo_static_member **x =
				    realloc(m.added, (m.nadded + 1) * sizeof(*x));
				if (x == NULL)
					goto done;
				m.added = x;
				m.added[m.nadded++] = sm;
			}
		}
	}
	if (n > 1)
		qsort(m.members, n, sizeof(*m.members), plan_vnet_cmp);
	/* a VNet in two applied groups is one member */
	for (i = 0, k = 0; i < n; i++)
		if (k == 0 || m.members[k - 1] != m.members[i])
			m.members[k++] = m.members[i];
	m.nmembers = k;
	for (i = 0; i < t->ndeployments; i++) {
		const struct topo_deployment *d = &t->deployments[i];
		size_t r;

		if (d->manager_id == NULL || d->region == NULL || d->config_type == NULL ||
		    strcasecmp(d->config_type, "Connectivity") != 0 ||
		    topo_id_compare(d->manager_id, m.nm->res->id) != 0 || !plan_deployment_has(d, cc->res->id))
			continue;
		for (r = 0; r < m.nregions; r++)
			if (strcasecmp(m.regions[r], d->region) == 0)
				break;
		if (r < m.nregions)
			continue;
		{
			const char **x = realloc(m.regions, (m.nregions + 1) * sizeof(*x));
			if (x == NULL)
				goto done;
			m.regions = x;
			m.regions[m.nregions++] = d->region;
		}
	}
	if (m.nregions > 1)
		qsort(m.regions, m.nregions, sizeof(*m.regions), plan_str_cmp_ci);
	changed = m.cc_cur == NULL || m.nadded > 0 || plan_idset_get(changed_ids, cc->res->id) != NULL;
	for (i = 0; !changed && i < m.nregions; i++)
		if (!plan_deployment_has(plan_find_deployment(p->cur, m.nm->res->id, m.regions[i]), cc->res->id))
			changed = true;
	if (!changed) {
		rc = 0;
		goto done;
	}
	{
		struct mesh *x = realloc(ms->mesh, (ms->nmesh + 1) * sizeof(*x));
		if (x == NULL)
			goto done;
		ms->mesh = x;
		ms->mesh[ms->nmesh++] = m;
		memset(&m, 0, sizeof(m));
	}
	rc = 0;
done:
	free(m.members);
	free(m.added);
	free(m.regions);
	return rc == 0 ? 0 : plan_nomem(p);
}

static int
mesh_detect(struct plan_ctx *p)
{
	struct mesh_state *ms = mesh_state(p);
	size_t i, total = 0;
	int rc = 0;

	for (i = 0; i < p->diff.n && rc == 0; i++)
		if (strcmp(p->diff.v[i].resource_id, "observed") != 0)
			rc = plan_idset_add(ms->changed, p->diff.v[i].resource_id, NULL);
	for (i = 0; i < p->tgt->nconfigs && rc == 0; i++)
		if (p->tgt->configs[i].topology == CC_MESH)
			rc = mesh_detect_one(p, &p->tgt->configs[i], ms->changed);
	if (rc != 0)
		return rc == NW_ENOMEM ? plan_nomem(p) : rc;
	/* every member, and the member space the decommission checks routes against */
	for (i = 0; i < ms->nmesh; i++)
		for (size_t k = 0; k < ms->mesh[i].nmembers; k++)
			total += ms->mesh[i].members[k]->prefixes.n;
	ms->member_prefixes = calloc(total ? total : 1, sizeof(*ms->member_prefixes));
	if (ms->member_prefixes == NULL)
		return plan_nomem(p);
	for (i = 0; i < ms->nmesh; i++) {
		const struct mesh *m = &ms->mesh[i];
		size_t k, j;

		for (k = 0; k < m->nmembers; k++) {
			const struct topo_vnet *v = m->members[k];

			if (plan_idset_add(ms->memberset, v->res->id, NULL) != 0)
				return plan_nomem(p);
			for (j = 0; j < v->prefixes.n; j++) {
				if (cidr_table_add(ms->member_space, &v->prefixes.v[j], (void *)v) < 0)
					return plan_nomem(p);
				ms->member_prefixes[ms->nmember_prefixes++] = v->prefixes.v[j];
			}
		}
		for (k = 0; k < m->nadded; k++)
			if (plan_idset_add(ms->newset, m->added[k]->vnet->res->id, NULL) != 0)
				return plan_nomem(p);
	}
	return 0;
}

static bool
mesh_has_group(const struct plan_ctx *p, const char *ng)
{
	struct mesh_state *ms = mesh_state(p);
	size_t i, g;

	for (i = 0; i < ms->nmesh; i++)
		for (g = 0; g < ms->mesh[i].cc->ngroups; g++)
			if (topo_id_compare(ms->mesh[i].cc->groups[g].network_group_id, ng) == 0)
				return true;
	return false;
}

/* True when a mesh of the plan has network manager id (config: connectivity configuration id). */
static bool
mesh_has(const struct plan_ctx *p, const char *id, bool config)
{
	struct mesh_state *ms = mesh_state(p);
	size_t i;

	for (i = 0; i < ms->nmesh; i++) {
		const struct topo_resource *r = config ? ms->mesh[i].cc->res : ms->mesh[i].nm->res;

		if (topo_id_compare(r->id, id) == 0)
			return true;
	}
	return false;
}

static bool
mesh_has_manager(const struct plan_ctx *p, const char *nm)
{
	return mesh_has(p, nm, false);
}

bool
mesh_has_config(const struct plan_ctx *p, const char *cc)
{
	return mesh_has(p, cc, true);
}

static int
decom_add(struct plan_ctx *p, bool peering, const char *parent, const char *child_id, const char *name,
    const struct topo_vnet *vnet, const struct topo_vnet *remote)
{
	struct mesh_state *ms = mesh_state(p);
	struct decom *d;
	size_t i;

	for (i = 0; i < ms->ndecoms; i++)
		if (topo_id_compare(ms->decoms[i].id, child_id) == 0)
			return 0;
	if (VEC_GROW(ms->decoms, &ms->capdecoms, ms->ndecoms + 1) != 0)
		return NW_ENOMEM;
	d = &ms->decoms[ms->ndecoms];
	d->id = strdup(child_id);
	if (d->id == NULL)
		return NW_ENOMEM;
	d->peering = peering;
	d->parent = parent;
	d->name = name;
	d->vnet = vnet;
	d->remote = remote;
	ms->ndecoms++;
	return 0;
}

/* A removed peering is the mesh's to remove when both ends are members. */
static int
classify_peering(struct plan_ctx *p, const struct topo_vnet *v, const json_t *peering)
{
	struct mesh_state *ms = mesh_state(p);
	const char *name = json_str(peering, "name");
	const char *remote = json_path_str(peering, "properties", "remoteVirtualNetwork", "id", NULL);
	const char *pid = json_str(peering, "id");
	char buf[2048];

	if (name == NULL || remote == NULL || plan_idset_get(ms->memberset, v->res->id) == NULL ||
	    plan_idset_get(ms->memberset, remote) == NULL)
		return 1;
	if (pid == NULL) {
		snprintf(buf, sizeof(buf), "%s/virtualNetworkPeerings/%s", v->res->id, name);
		pid = buf;
	}
	return decom_add(p, true, v->res->id, pid, name, v, topology_find_vnet(p->cur, remote));
}

static int
classify_route(struct plan_ctx *p, const struct topo_resource *rt, const json_t *route)
{
	struct mesh_state *ms = mesh_state(p);
	const char *name = json_str(route, "name");
	const char *hop = json_path_str(route, "properties", "nextHopType", NULL);
	const char *prefix = json_path_str(route, "properties", "addressPrefix", NULL);
	const char *rid = json_str(route, "id");
	struct cidr c;
	struct nw_err e2 = { 0 };
	char buf[2048];

	if (name == NULL || hop == NULL || prefix == NULL ||
	    strcasecmp(hop, "VirtualNetworkGateway") != 0 || cidr_parse(&c, prefix, &e2) != 0)
		return 1;
	/* only routes that steered traffic for members' own space to the gateway */
	if (cidr_table_lookup(ms->member_space, &c, NULL) == NULL)
		return 1;
	if (rid == NULL) {
		snprintf(buf, sizeof(buf), "%s/routes/%s", rt->id, name);
		rid = buf;
	}
	return decom_add(p, false, rt->id, rid, name, NULL, NULL);
}

static int
hspe_record(struct plan_ctx *p, const struct topo_vnet *v, const char *subnet, const char *policy)
{
	struct mesh_state *ms = mesh_state(p);
	json_t *o = plan_idset_get(ms->hspe_vnets, v->res->id);

	if (o == NULL) {
		o = json_pack("{s:s, s:{}}", "id", v->res->id, "subnets");
		if (o == NULL || plan_idset_add(ms->hspe_vnets, v->res->id, o) != 0)
			return NW_ENOMEM;
	}
	if (subnet == NULL)
		return json_object_set_new(o, "vnet", json_string(policy)) == 0 ? 0 : NW_ENOMEM;
	return json_object_set_new(json_object_get(o, "subnets"), subnet, json_string(policy)) == 0 ?
	    0 : NW_ENOMEM;
}

/* Preview features the mesh registers, and the commits it makes, as "observed" differences. */
static int
mesh_claim_observed(struct plan_ctx *p, const struct diff_entry *e)
{
	struct mesh_state *ms = mesh_state(p);
	const char *ptr = e->pointer;
	char tok[1024], tok2[256], tok3[256];

	if (plan_pointer_under(ptr, "/observed/features") && plan_pointer_token(ptr, 2, tok, sizeof(tok))) {
		if (ms->nmesh > 0 && json_is_string(e->after) &&
		    strcmp(json_string_value(e->after), "Registered") == 0 &&
		    (strcasecmp(tok, FEATURE_NS "/" FEATURE_HIGH_SCALE) == 0 ||
		     strcasecmp(tok, FEATURE_NS "/" FEATURE_HSPE) == 0)) {
			json_object_set_new(ms->features, tok, json_true());
			return 1;
		}
	} else if (plan_pointer_under(ptr, "/observed/avnmDeployments") &&
	    plan_pointer_token(ptr, 2, tok, sizeof(tok)) &&
	    plan_pointer_token(ptr, 3, tok2, sizeof(tok2)) &&
	    plan_pointer_token(ptr, 4, tok3, sizeof(tok3))) {
		if (strcasecmp(tok3, "Connectivity") == 0 && mesh_has_manager(p, tok) &&
		    deployment_change_ok(p, tok, tok2))
			return 1;
	}
	return 0;
}

/* A member's private endpoint policies (HSPE), and the peerings the mesh makes redundant. */
static int
mesh_claim_vnet(struct plan_ctx *p, const struct diff_entry *e, const struct topo_resource *r)
{
	static const char *const subnet_ok[] = { "Enabled", "RouteTableEnabled", NULL };
	struct mesh_state *ms = mesh_state(p);
	const struct topo_vnet *v = topology_find_vnet(p->cur, r->id);
	const char *ptr = e->pointer, *rest;
	size_t idx;
	int rc;

	if (v == NULL)
		return 0; /* a new VNet: no procedure creates VNets */
	if (strcmp(ptr, "/properties/privateEndpointVNetPolicies") == 0) {
		if (json_is_string(e->after) && strcmp(json_string_value(e->after), "Basic") == 0 &&
		    plan_idset_get(ms->memberset, v->res->id) != NULL)
			return hspe_record(p, v, NULL, "Basic") == 0 ? 1 : NW_ENOMEM;
	} else if (plan_pointer_child(ptr, "subnets", &idx, &rest) &&
	    strcmp(rest, "/properties/privateEndpointNetworkPolicies") == 0) {
		const json_t *sn = json_array_get(json_path(r->json, "properties", "subnets", NULL), idx);
		const char *name = json_str(sn, "name");

		if (name != NULL && json_is_string(e->after) &&
		    plan_str_in(json_string_value(e->after), subnet_ok) &&
		    plan_idset_get(ms->memberset, v->res->id) != NULL)
			return hspe_record(p, v, name, json_string_value(e->after)) == 0 ? 1 : NW_ENOMEM;
	} else if (e->kind == DIFF_REMOVED && plan_pointer_child(ptr, "virtualNetworkPeerings", &idx, &rest) &&
	    rest[0] == '\0') {
		rc = classify_peering(p, v, e->before);
		return rc == 0 ? 1 : rc > 0 ? 0 : rc;
	} else if (e->kind == DIFF_REMOVED && strcmp(ptr, "/properties/virtualNetworkPeerings") == 0 &&
	    json_is_array(e->before)) {
		const json_t *pe;
		size_t k;
		int all = 0;

		/* every peering removed: each must be one the mesh made redundant */
		json_array_foreach(e->before, k, pe) {
			int r2 = classify_peering(p, v, pe);
			if (r2 < 0)
				return r2;
			all |= r2;
		}
		return all == 0 ? 1 : 0;
	}
	return 0;
}

static int
mesh_claim(struct plan_ctx *p, struct diff_entry *e, const struct topo_resource *r)
{
	const char *ptr = e->pointer, *rest;
	size_t idx;
	int rc;

	if (r == NULL)
		return mesh_claim_observed(p, e);
	switch (r->type) {
	case TOPO_NETWORK_MANAGER:
		return mesh_has_manager(p, r->id) && e->kind != DIFF_REMOVED;
	case TOPO_NETWORK_GROUP:
		return mesh_has_group(p, r->id) && e->kind != DIFF_REMOVED;
	case TOPO_STATIC_MEMBER: {
		const struct topo_static_member *sm = r->view;
		/* adding members is the mesh's; removing or repointing one is not */
		return e->kind == DIFF_ADDED && ptr[0] == '\0' && sm->group != NULL &&
		    mesh_has_group(p, sm->group->res->id);
	}
	case TOPO_CONNECTIVITY_CONFIG:
		return mesh_has_config(p, r->id) && e->kind != DIFF_REMOVED;
	case TOPO_VNET:
		return mesh_claim_vnet(p, e, r);
	case TOPO_ROUTE_TABLE:
		if (e->kind == DIFF_REMOVED && plan_pointer_child(ptr, "routes", &idx, &rest) && rest[0] == '\0') {
			rc = classify_route(p, r, e->before);
			return rc == 0 ? 1 : rc > 0 ? 0 : rc;
		}
		return 0;
	default:
		return 0;
	}
}

static void
mesh_state_free(void *state)
{
	struct mesh_state *ms = state;
	size_t i;

	if (ms == NULL)
		return;
	for (i = 0; i < ms->nmesh; i++) {
		free(ms->mesh[i].members);
		free(ms->mesh[i].added);
		free(ms->mesh[i].regions);
	}
	free(ms->mesh);
	for (i = 0; i < ms->ndecoms; i++)
		free(ms->decoms[i].id);
	free(ms->decoms);
	free(ms->hspe_later);
	free(ms->member_prefixes);
	free(ms->meshed);
	cidr_table_free(ms->member_space);
	json_release_all(&ms->memberset, &ms->newset, &ms->features, &ms->hspe_vnets, &ms->changed,
	    &ms->committed, &ms->deploy);
	free(ms);
}

static int
mesh_state_new(struct plan_ctx *p, void **out)
{
	struct mesh_state *ms = calloc(1, sizeof(*ms));
	const json_t *d = json_path(p->cur->root, "observed", "avnmDeployments", NULL);

	*out = ms;
	if (ms == NULL || json_objects_new(&ms->memberset, &ms->newset, &ms->features,
	    &ms->hspe_vnets, &ms->changed, &ms->committed) != 0)
		return NW_ENOMEM;
	ms->member_space = cidr_table_new();
	ms->deploy = json_is_object(d) ? json_deep_copy(d) : json_object();
	if (ms->member_space == NULL || ms->deploy == NULL)
		return NW_ENOMEM;
	return 0;
}

/* Its line of the report's "What this plan does", from the plan's waves. */
static void
mesh_report_overview(FILE *f, const json_t *plan)
{
	const json_t *w, *inspected = json_object_get(plan, "inspected");
	size_t i, mesh_waves = 0, mesh_vnets = 0;
	size_t hspe = report_wave_count(plan, WAVE_HSPE, "members");
	size_t decom = report_wave_count(plan, WAVE_DECOMMISSION, "steps");
	char names[1024] = "", a[32];

	json_array_foreach(json_object_get(plan, "waves"), i, w) {
		if (wave_kind_parse(json_str(w, "kind")) == WAVE_MESH) {
			mesh_waves++;
			mesh_vnets += json_array_size(json_object_get(w, "members"));
			if (names[0])
				strncat(names, ", ", sizeof(names) - strlen(names) - 1);
			strncat(names, json_str(w, "name") != NULL ? json_str(w, "name") : "?",
			    sizeof(names) - strlen(names) - 1);
		}
	}
	fprintf(f, "- **Mesh (avnm-mesh).** %s spoke VNet%s join an Azure Virtual Network "
	    "Manager mesh in %zu wave%s (%s). Their traffic to each other stops hairpinning "
	    "through the ExpressRoute circuit's edge routers and stays inside the datacenter. "
	    "The hub peerings and the hairpin stay in place as the fallback until the "
	    "decommission.", report_num((json_int_t)mesh_vnets, a, sizeof(a)), mesh_vnets == 1 ? "" : "s",
	    mesh_waves, mesh_waves == 1 ? "" : "s", names[0] ? names : "none");
	if (hspe > 0)
		fprintf(f, " First, %zu VNet%s get High-Scale Private Endpoints.", hspe,
		    hspe == 1 ? "" : "s");
	if (json_array_size(inspected) > 0)
		fprintf(f, " %zu spoke%s stay on %s firewall path (listed under Findings).",
		    json_array_size(inspected), json_array_size(inspected) == 1 ? "" : "s",
		    json_array_size(inspected) == 1 ? "its" : "their");
	if (decom > 0)
		fprintf(f, " After the soak, %zu legacy peering%s and route%s are deleted.", decom,
		    decom == 1 ? "" : "s", decom == 1 ? "" : "s");
	fputc('\n', f);
}

/* Its wave kinds (what each means: avnm_mesh.h), with the report's heading for their waves. */
const struct wave_kind_def wave_kind_prepare = { "prepare", "prerequisites: feature, network manager, group, configuration", 0 };
const struct wave_kind_def wave_kind_hspe = { "hspe", "High-Scale Private Endpoints", 0 };
const struct wave_kind_def wave_kind_mesh = { "mesh", "mesh wave", WAVE_KIND_GROUP_SIZE };
const struct wave_kind_def wave_kind_decommission = { "decommission", "decommission of the legacy path", WAVE_KIND_DECOMMISSION };

static const struct wave_kind_def *const mesh_wave_kinds[] = {
	WAVE_PREPARE, WAVE_HSPE, WAVE_MESH, WAVE_DECOMMISSION, NULL,
};

/* Its waves in phase order: prepare, the HSPE batches, the mesh waves. */
static int
mesh_waves_all(struct plan_ctx *p)
{
	int rc = mesh_wave_prepare(p);

	if (rc == 0)
		rc = mesh_waves_hspe(p);
	if (rc == 0)
		rc = mesh_waves(p);
	return rc;
}

const struct procedure procedure_avnm_mesh = {
	.name = "avnm-mesh",
	.title = "spoke-to-spoke traffic from the ExpressRoute hairpin to an AVNM mesh",
	.summary = "network manager, group, static members and mesh configuration, deployments per "
	    "region (keeping what is already deployed), private endpoint policies; the peerings and "
	    "user routes the mesh makes redundant removed",
	.wave_kinds = mesh_wave_kinds,
	.gate_kinds = mesh_gate_kinds,
	.state_new = mesh_state_new,
	.state_free = mesh_state_free,
	.detect = mesh_detect,
	.claim = mesh_claim,
	.check = mesh_check,
	.waves = mesh_waves_all,
	.waves_last = mesh_wave_decommission,
	.rehearsed = mesh_rehearsed,
	.finish = mesh_hspe_bodies,
	.report_overview = mesh_report_overview,
	.intent = &mesh_intent,
};
