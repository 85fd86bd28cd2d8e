/*
 * avnm-mesh in an intent: the change's keys, and its end state in the
 * target (the network manager, group, static members, configuration and
 * its deployment, HSPE where the limits need it, and the decommission:
 * the peerings and routes the mesh makes redundant are gone).
 */
#include "config.h"

#include <fnmatch.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/cidr.h"
#include "plan/findings.h"
#include "plan/gwmigrate.h"
#include "plan/intent.h"
#include "plan/intent_impl.h"
#include "plan/jsonutil.h"
#include "plan/limits.h"
#include "plan/procedure.h"
#include "plan/rgroups.h"
#include "plan/routes.h"
#include "plan/proc/avnm_mesh.h"
#include "plan/vec.h"

static const char *const MESH_KEYS[] = {
	"kind", "description", "networkManager", "networkGroup", "members",
	"highScalePrivateEndpoints", "global", NULL,
};
static const char *const NM_KEYS[] = { "id", "scope", NULL };
static const char *const SCOPE_KEYS[] = { "subscriptions", "managementGroups", NULL };

static int
mesh_intent_parse(struct intent_loader *l, void *state, const json_t *v)
{
	struct mesh_change *c = state;
	json_t *nm, *scope, *item;
	size_t old, o2;
	int rc;

	if ((rc = intent_check_keys(l, v, MESH_KEYS)) != 0)
		return rc;
	nm = json_object_get(v, "networkManager");
	if (nm == NULL)
		return intent_fail(l, "no \"networkManager\": give {\"id\": \"/subscriptions/.../"
		    "networkManagers/NAME\"}");
	old = intent_push(l, "networkManager");
	if ((rc = intent_check_object(l, nm, "an object with \"id\" and \"scope\"", NM_KEYS)) != 0 ||
	    (rc = intent_get_string(l, nm, "id", true, &c->network_manager_id)) != 0)
		goto out;
	if (!intent_network_manager_id_ok(c->network_manager_id)) {
		o2 = intent_push(l, "id");
		rc = intent_fail(l, "\"%s\" is not a network manager id: expected /subscriptions/SUB/"
		    "resourceGroups/RG/providers/Microsoft.Network/networkManagers/NAME",
		    c->network_manager_id);
		intent_pop(l, o2);
		goto out;
	}
	if ((scope = json_object_get(nm, "scope")) != NULL) {
		o2 = intent_push(l, "scope");
		rc = intent_check_object(l, scope, "an object with subscriptions and managementGroups", SCOPE_KEYS);
		if (rc == 0 && (item = json_object_get(scope, "subscriptions")) != NULL) {
			size_t o3 = intent_push(l, "subscriptions");
			rc = intent_get_string_list(l, item, &c->scope_subscriptions, &c->nscope_subscriptions);
			for (size_t i = 0; rc == 0 && i < c->nscope_subscriptions; i++) {
				if (!intent_segment_is(c->scope_subscriptions[i], 0, "subscriptions") ||
				    intent_id_segment(c->scope_subscriptions[i], 2, &(const char *){ NULL },
					&(size_t){ 0 })) {
					size_t o4 = intent_push_index(l, i);
					rc = intent_fail(l, "\"%s\" is not a subscription scope: expected "
					    "/subscriptions/GUID", c->scope_subscriptions[i]);
					intent_pop(l, o4);
				}
			}
			intent_pop(l, o3);
		}
		if (rc == 0 && (item = json_object_get(scope, "managementGroups")) != NULL) {
			size_t o3 = intent_push(l, "managementGroups");
			rc = intent_get_string_list(l, item, &c->scope_management_groups,
			    &c->nscope_management_groups);
			intent_pop(l, o3);
		}
		if (rc == 0 && c->nscope_subscriptions == 0 && c->nscope_management_groups == 0)
			rc = intent_fail(l, "the scope names no subscriptions and no management groups");
		intent_pop(l, o2);
	}
out:
	intent_pop(l, old);
	if (rc != 0)
		return rc;
	if ((rc = intent_get_string(l, v, "networkGroup", true, &c->network_group)) != 0)
		return rc;
	if ((rc = intent_check_arm_name(l, "networkGroup", "network group", c->network_group)) != 0 ||
	    (rc = intent_selector_at(l, v, "members", &c->members)) != 0 ||
	    (rc = intent_get_bool(l, v, "highScalePrivateEndpoints", &c->high_scale_private_endpoints)) != 0)
		return rc;
	return intent_get_bool(l, v, "global", &c->global);
}

/* Two meshes of one group would fight over its configuration. */
static int
mesh_intent_check(struct intent_loader *l, const struct intent *in, size_t i)
{
	const struct intent_change *b = &in->changes[i];
	size_t j;

	for (j = 0; j < i; j++) {
		const struct intent_change *a = &in->changes[j];
		if (strcmp(a->kind, b->kind) != 0)
			continue;
		if (topo_id_compare(mesh_of(a)->network_manager_id, mesh_of(b)->network_manager_id) == 0 &&
		    strcasecmp(mesh_of(a)->network_group, mesh_of(b)->network_group) == 0) {
			snprintf(l->ptr, sizeof(l->ptr), "%s/networkGroup", b->pointer);
			return intent_fail(l, "network group \"%s\" is already meshed by %s",
			    mesh_of(b)->network_group, a->pointer);
		}
	}
	return 0;
}

const char *
intent_mesh_group(const struct intent_change *c)
{
	return strcmp(c->kind, procedure_avnm_mesh.name) == 0 ? mesh_of(c)->network_group : NULL;
}

static void
mesh_intent_clear(void *state)
{
	struct mesh_change *c = state;

	free(c->scope_subscriptions);
	free(c->scope_management_groups);
	intent_selector_free(&c->members);
}


/* ------------------------------------------------------------------ */
/* avnm-mesh                                                           */

static bool
has_appliance_route(const struct topo_route_table *rt)
{
	size_t i;

	for (i = 0; rt != NULL && i < rt->nroutes; i++)
		if (rt->routes[i].next_hop == NH_VIRTUAL_APPLIANCE ||
		    rt->routes[i].next_hop == NH_VIRTUAL_APPLIANCE_ECMP)
			return true;
	return false;
}

/*
 * Does traffic from spoke v to another candidate go through an appliance
 * today?  Only subnets whose route table has an appliance route can, so
 * only those get their effective routes computed.
 */
static int
stays_inspected(bool *out, const struct routes_ctx *ctx, const struct topology *t,
    const struct topo_vnet *v, const size_t *cand, size_t ncand, struct nw_err *err)
{
	size_t i, j, k;
	int rc;

	*out = false;
	for (i = 0; i < v->nsubnets && !*out; i++) {
		const struct topo_subnet *s = &v->subnets[i];
		struct route_set set = { 0 };

		if (s->is_infrastructure || !has_appliance_route(s->route_table))
			continue;
		if ((rc = routes_effective(&set, ctx, s, err)) != 0)
			return rc;
		for (j = 0; j < ncand && !*out; j++) {
			const struct topo_vnet *o = &t->vnets[cand[j]];
			if (o == v)
				continue;
			for (k = 0; k < o->prefixes.n && !*out; k++) {
				const struct route *r = routes_lookup(&set, &o->prefixes.v[k]);
				*out = r != NULL && r->source == ROUTE_SRC_USER &&
				    (r->next_hop == NH_VIRTUAL_APPLIANCE ||
					r->next_hop == NH_VIRTUAL_APPLIANCE_ECMP);
			}
		}
		route_set_free(&set);
	}
	return 0;
}

struct mesh_sel {
	size_t *members, nmembers;
	size_t *inspected, ninspected;
	size_t nmatched, nhubs;
};

static void
mesh_sel_free(struct mesh_sel *m)
{
	free(m->members);
	free(m->inspected);
	memset(m, 0, sizeof(*m));
}

static int
mesh_select(struct mesh_sel *m, const struct routes_ctx *ctx, const struct intent_change *c,
    const struct topology *t, struct nw_err *err)
{
	size_t *cand = NULL, ncand = 0, i;
	int rc = 0;

	memset(m, 0, sizeof(*m));
	cand = calloc(t->nvnets + 1, sizeof(*cand));
	m->members = calloc(t->nvnets + 1, sizeof(*m->members));
	m->inspected = calloc(t->nvnets + 1, sizeof(*m->inspected));
	if (cand == NULL || m->members == NULL || m->inspected == NULL) {
		rc = intent_nomem(err);
		goto done;
	}
	for (i = 0; i < t->nvnets; i++) {
		if (!intent_selector_match(&mesh_of(c)->members, t->vnets[i].res))
			continue;
		m->nmatched++;
		if (findings_is_hub(&t->vnets[i]))
			m->nhubs++;
		else
			cand[ncand++] = i;
	}
	for (i = 0; i < ncand; i++) {
		bool insp;
		if ((rc = stays_inspected(&insp, ctx, t, &t->vnets[cand[i]], cand, ncand, err)) != 0)
			goto done;
		if (insp)
			m->inspected[m->ninspected++] = cand[i];
		else
			m->members[m->nmembers++] = cand[i];
	}
done:
	free(cand);
	if (rc != 0)
		mesh_sel_free(m);
	return rc;
}

int
intent_mesh_members(size_t **members, size_t *nmembers, size_t **inspected, size_t *ninspected,
    const struct intent_change *c, const struct topology *cur, struct nw_err *err)
{
	struct routes_ctx *ctx = NULL;
	struct mesh_sel m;
	int rc;

	*members = NULL;
	*nmembers = 0;
	if (inspected != NULL) {
		*inspected = NULL;
		*ninspected = 0;
	}
	if ((rc = routes_ctx_new(&ctx, cur, err)) != 0)
		return rc;
	rc = mesh_select(&m, ctx, c, cur, err);
	routes_ctx_free(ctx);
	if (rc != 0)
		return rc;
	*members = m.members;
	*nmembers = m.nmembers;
	if (inspected != NULL) {
		*inspected = m.inspected;
		*ninspected = m.ninspected;
	} else {
		free(m.inspected);
	}
	return 0;
}

/* The id of a child: parent + "/" + collection + "/" + name (malloc'd). */
static char *
child_id(const char *parent, const char *collection, const char *name)
{
	size_t n = strlen(parent) + strlen(collection) + strlen(name) + 3;
	char *s = malloc(n);

	if (s != NULL)
		snprintf(s, n, "%s/%s/%s", parent, collection, name);
	return s;
}

/* The last segment of an id. */
static const char *
last_segment(const char *id)
{
	const char *s = strrchr(id, '/');

	return s != NULL ? s + 1 : id;
}

static int
str_cmp_ci(const void *a, const void *b)
{
	int c = strcasecmp(*(const char *const *)a, *(const char *const *)b);

	return c != 0 ? c : strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Appends s to the string array obj[key] (created when absent) unless it is there in any case. */
static int
list_add_ci(json_t *obj, const char *key, const char *s)
{
	json_t *arr = json_object_get(obj, key);
	size_t i;

	for (i = 0; json_is_array(arr) && i < json_array_size(arr); i++)
		if (json_is_string(json_array_get(arr, i)) &&
		    strcasecmp(json_string_value(json_array_get(arr, i)), s) == 0)
			return 0;
	if (!json_is_array(arr)) {
		arr = json_array();
		if (arr == NULL || json_object_set_new(obj, key, arr) != 0)
			return NW_ENOMEM;
	}
	return json_array_append_new(arr, json_string(s)) != 0 ? NW_ENOMEM : 0;
}

/* Adds the network manager, or makes sure an existing one may hold connectivity configurations. */
static int
mesh_manager(struct intent_expander *e, const struct intent_change *c, const struct topology *t,
    const struct mesh_sel *m, const char **nm_id)
{
	const struct topo_resource *cur_nm = topology_find(t, mesh_of(c)->network_manager_id);
	json_t *nm, *props, *scopes, *subs;
	const char **subv = NULL;
	size_t i, nsub = 0;
	int rc = 0;

	if (cur_nm != NULL) {
		/* a mesh needs Connectivity among the manager's scope accesses, and the
		 * scope the intent names (members outside it cannot join) */
		*nm_id = cur_nm->id;
		props = intent_obj_child(intent_work_edit(e, cur_nm, true), "properties");
		scopes = intent_obj_child(props, "networkManagerScopes");
		if (props == NULL || scopes == NULL ||
		    list_add_ci(props, "networkManagerScopeAccesses", "Connectivity") != 0)
			return intent_nomem(e->err);
		for (i = 0; i < mesh_of(c)->nscope_subscriptions; i++)
			if (list_add_ci(scopes, "subscriptions", mesh_of(c)->scope_subscriptions[i]) != 0)
				return intent_nomem(e->err);
		for (i = 0; i < mesh_of(c)->nscope_management_groups; i++)
			if (list_add_ci(scopes, "managementGroups", mesh_of(c)->scope_management_groups[i]) != 0)
				return intent_nomem(e->err);
		return 0;
	}
	if ((nm = intent_work_find(e, mesh_of(c)->network_manager_id)) != NULL) {
		*nm_id = json_str(nm, "id");
		return 0;
	}
	*nm_id = mesh_of(c)->network_manager_id;
	nm = json_pack("{s:s, s:s, s:s, s:s, s:{s:{}, s:[s]}}",
	    "id", mesh_of(c)->network_manager_id,
	    "name", last_segment(mesh_of(c)->network_manager_id),
	    "type", TYPE_NETWORK_MANAGER,
	    "location", t->vnets[m->members[0]].res->location != NULL ?
		t->vnets[m->members[0]].res->location : "global",
	    "properties", "networkManagerScopes", "networkManagerScopeAccesses", "Connectivity");
	if (nm == NULL)
		return intent_nomem(e->err);
	scopes = json_path(nm, "properties", "networkManagerScopes", NULL);
	subs = json_array();
	if (subs == NULL || json_object_set_new(scopes, "subscriptions", subs) != 0) {
		rc = intent_nomem(e->err);
		goto done;
	}
	if (mesh_of(c)->nscope_subscriptions > 0 || mesh_of(c)->nscope_management_groups > 0) {
		for (i = 0; i < mesh_of(c)->nscope_subscriptions; i++)
			if (json_array_append_new(subs, json_string(mesh_of(c)->scope_subscriptions[i])) != 0)
				rc = intent_nomem(e->err);
		if (mesh_of(c)->nscope_management_groups > 0) {
			json_t *mgs = json_array();
			if (mgs == NULL || json_object_set_new(scopes, "managementGroups", mgs) != 0)
				rc = intent_nomem(e->err);
			for (i = 0; rc == 0 && i < mesh_of(c)->nscope_management_groups; i++)
				if (json_array_append_new(mgs, json_string(mesh_of(c)->scope_management_groups[i])) != 0)
					rc = intent_nomem(e->err);
		}
	} else {
		/* no scope given: the subscriptions the members live in */
		subv = calloc(m->nmembers, sizeof(*subv));
		if (subv == NULL) {
			rc = intent_nomem(e->err);
			goto done;
		}
		for (i = 0; i < m->nmembers; i++)
			if (t->vnets[m->members[i]].res->subscription != NULL)
				subv[nsub++] = t->vnets[m->members[i]].res->subscription;
		qsort(subv, nsub, sizeof(*subv), str_cmp_ci);
		for (i = 0; i < nsub && rc == 0; i++) {
			char buf[256];
			if (i > 0 && strcasecmp(subv[i], subv[i - 1]) == 0)
				continue;
			snprintf(buf, sizeof(buf), "/subscriptions/%s", subv[i]);
			if (json_array_append_new(subs, json_string(buf)) != 0)
				rc = intent_nomem(e->err);
		}
	}
	if (rc != 0)
		goto done;
	rc = intent_work_add(e, nm);
	nm = NULL;
done:
	json_decref(nm);
	free(subv);
	return rc;
}

/* Is the VNet already a static member of the group (in the current topology)? */
static bool
already_member(const struct topology *t, const char *ng_id, const struct topo_vnet *v)
{
	size_t i;

	for (i = 0; i < t->nmembers; i++) {
		const struct topo_static_member *sm = &t->members[i];
		const char *id = sm->res->id;
		size_t n = strlen(ng_id);
		if (strlen(id) > n && strncasecmp(id, ng_id, n) == 0 && id[n] == '/' &&
		    sm->resource_id != NULL && topo_id_compare(sm->resource_id, v->res->id) == 0)
			return true;
	}
	return false;
}

static int
mesh_static_members(struct intent_expander *e, const struct topology *t, const char *ng_id,
    const size_t *group, size_t ngroup)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < ngroup && rc == 0; i++) {
		const struct topo_vnet *v = &t->vnets[group[i]];
		char name[128], *id = NULL;
		unsigned k;

		if (already_member(t, ng_id, v))
			continue;
		/* two VNets of one name in different groups still get distinct members */
		for (k = 1;; k++) {
			json_t *old;
			if (k == 1)
				snprintf(name, sizeof(name), "sm-%s", v->res->name);
			else
				snprintf(name, sizeof(name), "sm-%s-%u", v->res->name, k);
			free(id);
			if ((id = child_id(ng_id, "staticMembers", name)) == NULL)
				return intent_nomem(e->err);
			old = intent_work_find(e, id);
			if (old == NULL)
				break;
			if (json_path_str(old, "properties", "resourceId", NULL) != NULL &&
			    topo_id_compare(json_path_str(old, "properties", "resourceId", NULL),
				v->res->id) == 0)
				goto next;
		}
		rc = intent_work_add(e, json_pack("{s:s, s:s, s:s, s:{s:s}}", "id", id, "name", name,
		    "type", TYPE_STATIC_MEMBER, "properties", "resourceId", v->res->id));
next:
		free(id);
	}
	return rc;
}

/* Every VNet the group holds after the change: the members plus existing static members. */
static int
group_vnets(size_t **out, size_t *nout, const struct topology *t, const char *ng_id,
    const struct mesh_sel *m, struct nw_err *err)
{
	bool *in = calloc(t->nvnets + 1, sizeof(*in));
	size_t *v = calloc(t->nvnets + 1, sizeof(*v));
	size_t i, n = 0, len = strlen(ng_id);

	if (in == NULL || v == NULL) {
		free(in);
		free(v);
		return intent_nomem(err);
	}
	for (i = 0; i < m->nmembers; i++)
		in[m->members[i]] = true;
	for (i = 0; i < t->nmembers; i++) {
		const struct topo_static_member *sm = &t->members[i];
		if (sm->vnet != NULL && strlen(sm->res->id) > len &&
		    strncasecmp(sm->res->id, ng_id, len) == 0 && sm->res->id[len] == '/')
			in[(size_t)(sm->vnet - t->vnets)] = true;
	}
	for (i = 0; i < t->nvnets; i++)
		if (in[i])
			v[n++] = i;
	free(in);
	*out = v;
	*nout = n;
	return 0;
}

static int
mesh_config(struct intent_expander *e, const struct intent_change *c, const char *nm_id,
    const char *ng_id, bool global, bool hspe, const char **cc_id_out, char **cc_id_owned)
{
	char name[128];
	json_t *cc, *props, *groups, *g = NULL, *caps;
	size_t i;

	snprintf(name, sizeof(name), "%s-mesh", mesh_of(c)->network_group);
	if ((*cc_id_owned = child_id(nm_id, "connectivityConfigurations", name)) == NULL)
		return intent_nomem(e->err);
	cc = intent_work_find(e, *cc_id_owned);
	if (cc == NULL) {
		if (intent_work_add(e, json_pack("{s:s, s:s, s:s, s:{}}", "id", *cc_id_owned, "name", name,
		    "type", TYPE_CONNECTIVITY_CONFIG, "properties")) != 0)
			return intent_nomem(e->err);
	}
	if ((cc = intent_work_find_edit(e, *cc_id_owned)) == NULL)
		return intent_nomem(e->err);
	*cc_id_out = json_str(cc, "id");
	props = intent_obj_child(cc, "properties");
	if (props == NULL)
		return intent_nomem(e->err);
	groups = json_object_get(props, "appliesToGroups");
	if (!json_is_array(groups)) {
		groups = json_array();
		if (groups == NULL || json_object_set_new(props, "appliesToGroups", groups) != 0)
			return intent_nomem(e->err);
	}
	for (i = 0; i < json_array_size(groups) && g == NULL; i++) {
		const char *gid = json_str(json_array_get(groups, i), "networkGroupId");
		if (gid != NULL && topo_id_compare(gid, ng_id) == 0)
			g = json_array_get(groups, i);
	}
	if (g == NULL) {
		g = json_object();
		if (g == NULL || json_array_append_new(groups, g) != 0)
			return intent_nomem(e->err);
	}
	caps = intent_obj_child(props, "connectivityCapabilities");
	if (intent_set_str(e, g, "networkGroupId", ng_id) != 0 ||
	    intent_set_str(e, g, "groupConnectivity", "None") != 0 ||
	    intent_set_str(e, g, "isGlobal", global ? "True" : "False") != 0 ||
	    intent_set_str(e, g, "useHubGateway", "False") != 0 ||
	    intent_set_str(e, props, "connectivityTopology", "Mesh") != 0 ||
	    intent_set_str(e, props, "isGlobal", global ? "True" : "False") != 0 ||
	    intent_set_str(e, props, "deleteExistingPeering", "False") != 0 ||
	    intent_set_str(e, caps, "connectedGroupPrivateEndpointsScale", hspe ? "HighScale" : "Standard") != 0 ||
	    intent_set_str(e, caps, "connectedGroupAddressOverlap", "Allowed") != 0 ||
	    intent_set_str(e, caps, "peeringEnforcement", "Unenforced") != 0)
		return intent_nomem(e->err);
	return 0;
}

/* observed.avnmDeployments[nm][region].Connectivity gains cc (goal state keeps the rest). */
static int
mesh_deploy(struct intent_expander *e, const struct topology *t, const char *nm_id, const char *cc_id,
    const size_t *group, size_t ngroup)
{
	json_t *observed = intent_obj_child(e->root, "observed"), *deps, *nm, *region, *list;
	const char *key;
	size_t i, j;

	if (observed == NULL || (deps = intent_obj_child(observed, "avnmDeployments")) == NULL)
		return intent_nomem(e->err);
	if ((nm = intent_obj_get_ci(deps, nm_id, NULL)) == NULL || !json_is_object(nm))
		nm = intent_obj_child(deps, nm_id);
	if (nm == NULL)
		return intent_nomem(e->err);
	for (i = 0; i < ngroup; i++) {
		const char *loc = t->vnets[group[i]].res->location;
		bool have = false;

		if (loc == NULL)
			continue;
		json_t *v;

		region = NULL;
		json_object_foreach(nm, key, v) {
			if (region == NULL && json_is_object(v) && topo_location_equal(key, loc))
				region = v;
		}
		if (region == NULL)
			region = intent_obj_child(nm, loc);
		if (region == NULL)
			return intent_nomem(e->err);
		list = intent_obj_get_ci(region, "Connectivity", &key);
		if (!json_is_array(list)) {
			list = json_array();
			if (list == NULL || json_object_set_new(region, "Connectivity", list) != 0)
				return intent_nomem(e->err);
		}
		for (j = 0; j < json_array_size(list) && !have; j++) {
			const char *s = json_string_value(json_array_get(list, j));
			have = s != NULL && topo_id_compare(s, cc_id) == 0;
		}
		if (!have && json_array_append_new(list, json_string(cc_id)) != 0)
			return intent_nomem(e->err);
	}
	return 0;
}

static int
mesh_hspe(struct intent_expander *e, const struct topology *t, const size_t *group, size_t ngroup)
{
	size_t i, j;

	for (i = 0; i < ngroup; i++) {
		const struct topo_vnet *v = &t->vnets[group[i]];
		json_t *props = intent_mut_object(intent_work_edit(e, v->res, false), "properties");
		json_t *subnets = NULL;

		if (props == NULL)
			return intent_nomem(e->err);
		for (j = 0; j < v->nsubnets; j++) {
			const struct topo_subnet *s = &v->subnets[j];
			const char *pol = s->pe_network_policies;
			json_t *ws, *sp;
			size_t at;

			if (s->nprivate_endpoints == 0 || (pol != NULL &&
			    (strcasecmp(pol, "Enabled") == 0 || strcasecmp(pol, "RouteTableEnabled") == 0)))
				continue;
			if (intent_named_child(json_object_get(props, "subnets"), s->name, &at) == NULL)
				continue;
			if ((subnets == NULL && (subnets = intent_mut_array(props, "subnets")) == NULL) ||
			    (ws = intent_mut_element(subnets, at)) == NULL)
				return intent_nomem(e->err);
			sp = intent_mut_object(ws, "properties");
			if (intent_set_str(e, sp, "privateEndpointNetworkPolicies", "Enabled") != 0)
				return intent_nomem(e->err);
		}
		if (intent_set_str(e, props, "privateEndpointVNetPolicies", "Basic") != 0)
			return intent_nomem(e->err);
	}
	return 0;
}

/* a + 1 within the family; false when it overflows past the last address. */
static bool
addr_next(struct cidr *a)
{
	int i;

	for (i = (int)cidr_max_len(a) / 8 - 1; i >= 0; i--) {
		if (++a->addr[i] != 0)
			return true;
	}
	return false;
}

/* Is every address of p inside the union of the prefixes (sorted by cidr_compare)? */
static bool
covered_by(const struct cidr *p, const struct cidr *v, size_t n)
{
	struct cidr next = *p, last = cidr_last(p);
	size_t i, alen = cidr_max_len(p) / 8;

	next.len = (uint8_t)cidr_max_len(p);
	for (i = 0; i < n; i++) {
		const struct cidr *q = &v[i];
		struct cidr ql;

		if (q->family != p->family || !cidr_overlaps(p, q))
			continue;
		if (cidr_contains(q, p))
			return true;
		if (memcmp(q->addr, next.addr, alen) > 0)
			return false; /* a gap before q */
		ql = cidr_last(q);
		if (memcmp(ql.addr, next.addr, alen) >= 0) {
			next = ql;
			if (!addr_next(&next) || memcmp(next.addr, last.addr, alen) > 0)
				return true;
		}
	}
	return false;
}

/*
 * Decommission: manual peerings between two group VNets, and user routes
 * to the gateway for prefixes inside the group's space in route tables
 * only group subnets use (elsewhere they still steer someone else).
 */
static int
mesh_decommission(struct intent_expander *e, const struct topology *t, const size_t *group,
    size_t ngroup)
{
	bool *in = calloc(t->nvnets + 1, sizeof(*in));
	unsigned char *use = calloc(t->nroute_tables + 1, 1);
	struct cidr *space = NULL;
	size_t nspace = 0, cap = 0, i, j;
	int rc = 0;

	if (in == NULL || use == NULL) {
		rc = intent_nomem(e->err);
		goto done;
	}
	for (i = 0; i < ngroup; i++)
		in[group[i]] = true;

	for (i = 0; i < ngroup; i++) {
		const struct topo_vnet *v = &t->vnets[group[i]];
		json_t *peerings = json_path(intent_work_of(e, v->res), "properties", "virtualNetworkPeerings",
		    NULL);

		for (j = 0; j < v->npeerings; j++) {
			const struct topo_peering *p = &v->peerings[j];
			const struct topo_vnet *r = p->remote;
			size_t at;

			if (r == NULL && p->remote_id != NULL)
				r = topology_find_vnet(t, p->remote_id);
			if (r == NULL || !in[(size_t)(r - t->vnets)])
				continue;
			if (intent_named_child(peerings, p->name, &at) == NULL)
				continue;
			if ((rc = intent_work_remove(e, v->res, "virtualNetworkPeerings", &peerings, at)) != 0)
				goto done;
		}
		if (VEC_GROW(space, &cap, nspace + v->prefixes.n + 1) != 0) {
			rc = intent_nomem(e->err);
			goto done;
		}
		memcpy(space + nspace, v->prefixes.v, v->prefixes.n * sizeof(*space));
		nspace += v->prefixes.n;
	}
	if (space != NULL)
		cidr_sort(space, nspace);

	/* bit 1: a group subnet uses the table; bit 2: some other subnet does */
	for (i = 0; i < t->nvnets; i++)
		for (j = 0; j < t->vnets[i].nsubnets; j++) {
			const struct topo_route_table *rt = t->vnets[i].subnets[j].route_table;
			if (rt != NULL)
				use[(size_t)(rt - t->route_tables)] |= in[i] ? 1 : 2;
		}
	for (i = 0; i < t->nroute_tables; i++) {
		const struct topo_route_table *rt = &t->route_tables[i];
		json_t *routes = json_path(intent_work_of(e, rt->res), "properties", "routes", NULL);

		if (use[i] != 1)
			continue;
		for (j = 0; j < rt->nroutes; j++) {
			const struct topo_route *r = &rt->routes[j];
			size_t at;

			if (r->next_hop != NH_VIRTUAL_NETWORK_GATEWAY ||
			    !covered_by(&r->prefix, space, nspace))
				continue;
			if (r->name == NULL || intent_named_child(routes, r->name, &at) == NULL)
				continue;
			if ((rc = intent_work_remove(e, rt->res, "routes", &routes, at)) != 0)
				goto done;
		}
	}
done:
	free(in);
	free(use);
	free(space);
	return rc;
}

static int
mesh_intent_expand(struct intent_expander *e, const struct intent_change *c)
{
	const struct topology *t = e->cur;
	struct mesh_sel m = { 0 };
	const char *nm_id = NULL, *cc_id = NULL;
	char *ng_id = NULL, *cc_owned = NULL;
	size_t *group = NULL, ngroup = 0, i, pe_total = 0, pe_max = 0;
	bool global = mesh_of(c)->global, hspe;
	json_t *ng;
	int rc;

	if ((rc = intent_ensure_ctx(e)) != 0 || (rc = mesh_select(&m, e->ctx, c, t, e->err)) != 0)
		return rc;
	if (m.nmatched == 0) {
		rc = intent_selector_fail(e->in, &mesh_of(c)->members, e->err, "VNet");
		goto done;
	}
	if (m.nmembers == 0) {
		rc = err_set(e->err, NW_EINPUT, "%s: %s: matches no VNet that can join the mesh: "
		    "%zu hub%s (VNets with a gateway or tagged role=hub) and %zu spoke%s whose "
		    "traffic to the others goes through a firewall today",
		    e->in->source, mesh_of(c)->members.pointer, m.nhubs, m.nhubs == 1 ? "" : "s",
		    m.ninspected, m.ninspected == 1 ? "" : "s");
		goto done;
	}
	if ((rc = mesh_manager(e, c, t, &m, &nm_id)) != 0)
		goto done;
	if ((ng_id = child_id(nm_id, "networkGroups", mesh_of(c)->network_group)) == NULL) {
		rc = intent_nomem(e->err);
		goto done;
	}
	if ((ng = intent_work_find(e, ng_id)) == NULL) {
		if ((rc = intent_work_add(e, json_pack("{s:s, s:s, s:s, s:{s:s}}", "id", ng_id,
		    "name", mesh_of(c)->network_group, "type", TYPE_NETWORK_GROUP,
		    "properties", "memberType", "VirtualNetwork"))) != 0)
			goto done;
	} else {
		/* keep the group's own casing for every id built from it */
		char *s = strdup(json_str(ng, "id") != NULL ? json_str(ng, "id") : ng_id);
		if (s == NULL) {
			rc = intent_nomem(e->err);
			goto done;
		}
		free(ng_id);
		ng_id = s;
	}
	if ((rc = mesh_static_members(e, t, ng_id, m.members, m.nmembers)) != 0 ||
	    (rc = group_vnets(&group, &ngroup, t, ng_id, &m, e->err)) != 0)
		goto done;

	for (i = 0; i < ngroup; i++) {
		const struct topo_vnet *v = &t->vnets[group[i]];
		pe_total += v->nprivate_endpoints;
		if (v->nprivate_endpoints > pe_max)
			pe_max = v->nprivate_endpoints;
		if (v->res->location != NULL && t->vnets[group[0]].res->location != NULL &&
		    !topo_location_equal(v->res->location, t->vnets[group[0]].res->location))
			global = true;
	}
	hspe = mesh_of(c)->high_scale_private_endpoints ||
	    pe_total > (size_t)limit_get(LIMIT_MESH_PE)->value ||
	    pe_max > (size_t)limit_get(LIMIT_VNET_PE)->value;

	if ((rc = mesh_config(e, c, nm_id, ng_id, global, hspe, &cc_id, &cc_owned)) != 0 ||
	    (rc = mesh_deploy(e, t, nm_id, cc_id, group, ngroup)) != 0)
		goto done;
	if (ngroup > (size_t)limit_get(LIMIT_MESH_VNETS)->value &&
	    intent_set_str(e, intent_obj_child(intent_obj_child(e->root, "observed"), "features"),
		FEATURE_NS "/" FEATURE_HIGH_SCALE, "Registered") != 0) {
		rc = intent_nomem(e->err);
		goto done;
	}
	/* High-Scale Private Endpoints need their feature registered as well
	 * (learn.microsoft.com/azure/private-link/increase-private-endpoint-vnet-limits) */
	if (hspe && intent_set_str(e, intent_obj_child(intent_obj_child(e->root, "observed"), "features"),
	    FEATURE_NS "/" FEATURE_HSPE, "Registered") != 0) {
		rc = intent_nomem(e->err);
		goto done;
	}
	if (hspe && (rc = mesh_hspe(e, t, group, ngroup)) != 0)
		goto done;
	rc = mesh_decommission(e, t, group, ngroup);
done:
	mesh_sel_free(&m);
	free(group);
	free(ng_id);
	free(cc_owned);
	return rc;
}

const struct procedure_intent mesh_intent = {
	sizeof(struct mesh_change), mesh_intent_parse, mesh_intent_clear, mesh_intent_check, mesh_intent_expand,
};
