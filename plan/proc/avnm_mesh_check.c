/*
 * avnm-mesh, phase 0: the platform limits and prerequisites of each mesh
 * (members per mesh, private endpoints, connected groups per VNet,
 * overlapping space, the manager's scope), and the spokes that stay on
 * their firewall path.
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

/* Listed in full up to this many; the JSON always has everything. */
#define MAX_OVERLAP_FINDINGS 20

/* ------------------------------------------------------------------ */
/* Limits and prerequisites (phase 0 of avnm-mesh) */

struct pfx_item {
	struct cidr c;
	const struct topo_vnet *v;
};

static int
cmp_pfx_item(const void *a, const void *b)
{
	const struct pfx_item *x = a, *y = b;
	int c = cidr_compare(&x->c, &y->c);

	return c != 0 ? c : topo_id_compare(x->v->res->id, y->v->res->id);
}

/*
 * Overlapping address space among a mesh's members.  Prefixes nest or are
 * disjoint, so after sorting, an overlap is a prefix inside one still open
 * on the stack.
 */
static int
mesh_check_overlap(struct plan_ctx *p, const struct mesh *m)
{
	struct pfx_item *it = NULL, **stack = NULL;
	size_t n = 0, i, k, sp = 0, count = 0;
	const struct pfx_item *first_a = NULL, *first_b = NULL;

	for (i = 0; i < m->nmembers; i++)
		n += m->members[i]->prefixes.n;
	if (n < 2)
		return 0;
	it = malloc(n * sizeof(*it));
	stack = malloc(n * sizeof(*stack));
	if (it == NULL || stack == NULL) {
		free(it);
		free(stack);
		return plan_nomem(p);
	}
	for (i = 0, k = 0; i < m->nmembers; i++)
		for (size_t j = 0; j < m->members[i]->prefixes.n; j++) {
			it[k].c = m->members[i]->prefixes.v[j];
			it[k].v = m->members[i];
			k++;
		}
	qsort(it, n, sizeof(*it), cmp_pfx_item);
	for (i = 0; i < n; i++) {
		while (sp > 0 && !cidr_contains(&stack[sp - 1]->c, &it[i].c))
			sp--;
		if (sp > 0 && stack[sp - 1]->v != it[i].v) {
			char a[CIDR_STRLEN], b[CIDR_STRLEN];

			if (count == 0) {
				first_a = stack[sp - 1];
				first_b = &it[i];
			}
			if (count < MAX_OVERLAP_FINDINGS) {
				cidr_format(&stack[sp - 1]->c, a);
				cidr_format(&it[i].c, b);
				plan_finding(p, "warning", "address-overlap", it[i].v->res->id,
				    "mesh members %s (%s) and %s (%s) overlap; with connectedGroupAddressOverlap "
				    "Allowed the mesh drops the overlapping prefixes, so these two keep their "
				    "current path to each other",
				    stack[sp - 1]->v->res->name, a, it[i].v->res->name, b);
			}
			count++;
		}
		stack[sp++] = &it[i];
	}
	if (count > MAX_OVERLAP_FINDINGS)
		plan_finding(p, "warning", "address-overlap", m->cc->res->id,
		    "%zu overlapping member prefixes in all; the first %d are listed", count,
		    MAX_OVERLAP_FINDINGS);
	if (count > 0 && m->cc->overlap_disallowed) {
		char a[CIDR_STRLEN], b[CIDR_STRLEN];

		cidr_format(&first_a->c, a);
		cidr_format(&first_b->c, b);
		plan_blocker(p, "address-overlap", m->cc->res->id,
		    "configuration %s says connectedGroupAddressOverlap Disallowed, but %zu member "
		    "prefixes overlap, first %s (%s) and %s (%s); AVNM would refuse the deployment",
		    m->cc->res->name, count, first_a->v->res->name, a, first_b->v->res->name, b);
	}
	free(it);
	free(stack);
	return 0;
}

/* The connected groups each current VNet is in already, not counting ours. */
static int
connected_group_counts(struct plan_ctx *p, unsigned **out)
{
	const struct topology *t = p->cur;
	unsigned *cnt = calloc(t->nvnets ? t->nvnets : 1, sizeof(*cnt));
	size_t *stamp = calloc(t->nvnets ? t->nvnets : 1, sizeof(*stamp));
	size_t unit = 0, c, g, k, d;

	if (cnt == NULL || stamp == NULL) {
		free(cnt);
		free(stamp);
		return plan_nomem(p);
	}
	for (c = 0; c < t->nconfigs; c++) {
		const struct topo_connectivity_config *cc = &t->configs[c];
		const char *regions[64];
		size_t nreg = 0;

		if (mesh_has_config(p, cc->res->id) ||
		    (cc->topology != CC_MESH && cc->topology != CC_HUB_AND_SPOKE))
			continue;
		for (d = 0; d < t->ndeployments && nreg < 64; d++)
			if (t->deployments[d].config_type != NULL &&
			    strcasecmp(t->deployments[d].config_type, "Connectivity") == 0 &&
			    t->deployments[d].region != NULL && plan_deployment_has(&t->deployments[d], cc->res->id))
				regions[nreg++] = t->deployments[d].region;
		if (nreg == 0)
			continue;
		for (g = 0; g < cc->ngroups; g++) {
			const struct topo_cc_group *ag = &cc->groups[g];

			if (ag->group == NULL || (cc->topology == CC_HUB_AND_SPOKE && !ag->directly_connected))
				continue;
			/* a mesh is one connected group however many groups it applies to */
			if (cc->topology == CC_HUB_AND_SPOKE || g == 0)
				unit++;
			for (k = 0; k < ag->group->nmembers; k++) {
				const struct topo_vnet *v = ag->group->members[k]->vnet;
				size_t r, idx;

				if (v == NULL)
					continue;
				for (r = 0; r < nreg; r++)
					if (v->res->location != NULL && topo_location_equal(v->res->location, regions[r]))
						break;
				if (r == nreg && !cc->is_global && !ag->is_global)
					continue;
				idx = (size_t)(v - t->vnets);
				if (stamp[idx] != unit) {
					stamp[idx] = unit;
					cnt[idx]++;
				}
			}
		}
	}
	free(stamp);
	*out = cnt;
	return 0;
}

static bool
feature_registered(const struct topology *t, const char *name)
{
	const char *s = topology_feature_state(t, name);

	return s != NULL && strcasecmp(s, "Registered") == 0;
}

/* VNets per mesh: the default limit, the High-Scale limit and its feature. */
static void
check_size(struct plan_ctx *p, const struct mesh *m)
{
	const struct limit_def *lv = limit_get(LIMIT_MESH_VNETS), *lvh = limit_get(LIMIT_MESH_VNETS_HIGH_SCALE);
	long n = (long)m->nmembers;

	plan_limit_row(p, LIMIT_MESH_VNETS, n, m->cc->res->id);
	if (n > lvh->value) {
		plan_blocker(p, "mesh-too-large", m->cc->res->id,
		    "%s would connect %ld VNets; a mesh holds at most %ld even with %s (%s)",
		    m->cc->res->name, n, lvh->value, FEATURE_HIGH_SCALE, lvh->source);
	} else if (n > lv->value) {
		plan_limit_row(p, LIMIT_MESH_VNETS_HIGH_SCALE, n, m->cc->res->id);
		plan_prereq(p, "feature-registration",
		    "%ld VNets exceed the %ld a mesh holds by default: register the preview feature "
		    "%s/%s on every subscription of the network manager and the mesh before the first "
		    "commit (%s)",
		    n, lv->value, FEATURE_NS, FEATURE_HIGH_SCALE, lv->source);
		if (!feature_registered(p->tgt, FEATURE_NS "/" FEATURE_HIGH_SCALE))
			plan_blocker(p, "feature-not-registered", m->cc->res->id,
			    "%s would connect %ld VNets (over %ld) but the target does not register %s/%s",
			    m->cc->res->name, n, lv->value, FEATURE_NS, FEATURE_HIGH_SCALE);
	}
}

/* Private endpoints per mesh and per member, and whether HSPE is needed. */
static void
check_private_endpoints(struct plan_ctx *p, const struct mesh *m)
{
	const struct limit_def *lp = limit_get(LIMIT_MESH_PE), *lph = limit_get(LIMIT_MESH_PE_HSPE);
	const struct limit_def *lvp = limit_get(LIMIT_VNET_PE), *lvph = limit_get(LIMIT_VNET_PE_HSPE);
	const struct topo_vnet *busiest = NULL;
	long total = 0, maxv = 0;
	size_t i;

	for (i = 0; i < m->nmembers; i++) {
		long pe = (long)m->members[i]->nprivate_endpoints;
		total += pe;
		if (pe > maxv || busiest == NULL) {
			maxv = pe;
			busiest = m->members[i];
		}
	}
	plan_limit_row(p, LIMIT_MESH_PE, total, m->cc->res->id);
	plan_limit_row(p, LIMIT_VNET_PE, maxv, busiest != NULL ? busiest->res->id : NULL);
	if (total > lph->value)
		plan_blocker(p, "private-endpoints-over-limit", m->cc->res->id,
		    "%s would hold %ld private endpoints; a mesh holds at most %ld even with "
		    "High-Scale Private Endpoints (%s)", m->cc->res->name, total, lph->value, lph->source);
	if (maxv > lvph->value)
		plan_blocker(p, "private-endpoints-over-limit", busiest->res->id,
		    "VNet %s has %ld private endpoints; a mesh member holds at most %ld even with "
		    "High-Scale Private Endpoints (%s)", busiest->res->name, maxv, lvph->value, lvph->source);
	if (total > lp->value || maxv > lvp->value) {
		plan_limit_row(p, LIMIT_MESH_PE_HSPE, total, m->cc->res->id);
		plan_limit_row(p, LIMIT_VNET_PE_HSPE, maxv, busiest->res->id);
		plan_prereq(p, "hspe",
		    "%ld private endpoints in the mesh (limit %ld) and up to %ld in one VNet (limit %ld, "
		    "%s): High-Scale Private Endpoints must be on for every member before the first "
		    "commit", total, lp->value, maxv, lvp->value, busiest->res->name);
		if (!m->cc->high_scale_private_endpoints)
			plan_blocker(p, "hspe-required", m->cc->res->id,
			    "%s needs High-Scale Private Endpoints (%ld private endpoints in the mesh, up "
			    "to %ld in %s) but its connectedGroupPrivateEndpointsScale is not HighScale",
			    m->cc->res->name, total, maxv, busiest->res->name);
	}
}

/* AVNM refuses a HighScale deployment while any member is not ready. */
static void
check_hspe_ready(struct plan_ctx *p, const struct mesh *m)
{
	static const char *const ready[] = { "Enabled", "RouteTableEnabled", NULL };
	size_t i, k;

	if (!m->cc->high_scale_private_endpoints)
		return;
	for (i = 0; i < m->nmembers; i++) {
		const struct topo_vnet *v = m->members[i];
		const char *why = NULL, *sname = NULL;

		if (v->pe_vnet_policies == NULL || strcasecmp(v->pe_vnet_policies, "Basic") != 0)
			why = "privateEndpointVNetPolicies is not Basic";
		for (k = 0; why == NULL && k < v->nsubnets; k++)
			if (v->subnets[k].nprivate_endpoints > 0 &&
			    !plan_str_in(v->subnets[k].pe_network_policies, ready)) {
				why = "privateEndpointNetworkPolicies is neither Enabled nor RouteTableEnabled";
				sname = v->subnets[k].name;
			}
		if (why != NULL) {
			plan_blocker(p, "hspe-not-ready", v->res->id,
			    "%s uses High-Scale Private Endpoints but in the target %s%s%s %s",
			    m->cc->res->name, v->res->name, sname ? ", subnet " : "", sname ? sname : "",
			    why);
			break;
		}
	}
	if (!feature_registered(p->tgt, FEATURE_NS "/" FEATURE_HSPE) &&
	    !feature_registered(p->cur, FEATURE_NS "/" FEATURE_HSPE))
		plan_prereq(p, "hspe-feature",
		    "High-Scale Private Endpoints also need the feature %s/%s registered "
		    "(learn private-link/increase-private-endpoint-vnet-limits); the topology says "
		    "it is not", FEATURE_NS, FEATURE_HSPE);
}

/* Members in several regions only mesh across them with isGlobal. */
static void
check_global(struct plan_ctx *p, const struct mesh *m)
{
	const char *r0 = NULL, *r1 = NULL;
	bool global = m->cc->is_global;
	size_t i, k;

	for (k = 0; k < m->cc->ngroups; k++)
		global |= m->cc->groups[k].is_global;
	for (i = 0; i < m->nmembers && r1 == NULL; i++) {
		const char *loc = m->members[i]->res->location;
		if (loc == NULL)
			continue;
		if (r0 == NULL)
			r0 = loc;
		else if (strcasecmp(r0, loc) != 0)
			r1 = loc;
	}
	if (r1 != NULL && !global)
		plan_finding(p, "warning", "mesh-not-global", m->cc->res->id,
		    "members of %s are in several regions (%s, %s, ...) but isGlobal is False: the "
		    "mesh connects members only within each region", m->cc->res->name, r0, r1);
}

/* Connected groups per VNet, counting the ones each member is in already. */
static int
check_connected_groups(struct plan_ctx *p, const struct mesh *m)
{
	const struct limit_def *lcg = limit_get(LIMIT_CONNECTED_GROUPS_PER_VNET);
	const struct topo_vnet *cgv = NULL;
	unsigned *cg = NULL, cgmax = 0;
	size_t i;
	int rc = connected_group_counts(p, &cg);

	if (rc != 0)
		return rc;
	for (i = 0; i < m->nmembers; i++) {
		const struct topo_vnet *cv = topology_find_vnet(p->cur, m->members[i]->res->id);
		unsigned c;

		if (cv == NULL)
			continue;
		c = cg[cv - p->cur->vnets];
		if (c + 1 > cgmax || cgv == NULL) {
			cgmax = c + 1;
			cgv = cv;
		}
		if (c >= (unsigned)lcg->value)
			plan_blocker(p, "connected-groups", cv->res->id,
			    "%s is already in %u connected groups; a VNet can be in at most %ld (%s), so "
			    "it cannot join %s", cv->res->name, c, lcg->value, lcg->source, m->cc->res->name);
	}
	if (cgv != NULL)
		plan_limit_row(p, LIMIT_CONNECTED_GROUPS_PER_VNET, (long)cgmax, cgv->res->id);
	free(cg);
	return 0;
}

/* The network manager must see every member. */
static void
check_scope(struct plan_ctx *p, const struct mesh *m)
{
	const json_t *scope = json_path(m->nm->res->json, "properties", "networkManagerScopes", NULL);
	const json_t *subs = json_object_get(scope, "subscriptions");
	size_t i, k;

	if (json_array_size(json_object_get(scope, "managementGroups")) > 0)
		return;
	for (i = 0; i < m->nmembers; i++) {
		const char *sub = m->members[i]->res->subscription;
		const json_t *s;
		bool found = false;

		if (sub == NULL)
			continue;
		json_array_foreach(subs, k, s) {
			const char *v = json_string_value(s);
			if (v != NULL && strncasecmp(v, "/subscriptions/", 15) == 0)
				v += 15;
			if (v != NULL && strcasecmp(v, sub) == 0)
				found = true;
		}
		if (!found) {
			plan_blocker(p, "scope", m->nm->res->id,
			    "network manager %s does not have subscription %s (of %s) in its scope",
			    m->nm->res->name, sub, m->members[i]->res->name);
			break;
		}
	}
}

static int
mesh_check_one(struct plan_ctx *p, const struct mesh *m)
{
	int rc;

	check_size(p, m);
	check_private_endpoints(p, m);
	check_hspe_ready(p, m);
	rc = mesh_check_overlap(p, m);
	if (rc != 0)
		return rc;
	check_global(p, m);
	rc = check_connected_groups(p, m);
	if (rc != 0)
		return rc;
	check_scope(p, m);
	return 0;
}

/*
 * Spokes that stay on their firewall path: matched by the change's member
 * selector (x-netwave-changes) but not in the mesh; without the changes,
 * spokes outside the mesh whose user routes send a member's space to an
 * appliance.
 */
static int
mesh_find_inspected(struct plan_ctx *p)
{
	struct mesh_state *ms = mesh_state(p);
	const json_t *changes = json_object_get(p->tgt->root, "x-netwave-changes");
	const struct topology *t = p->cur;
	struct intent_selector sel[8];
	size_t nsel = 0, i, k, r;
	const json_t *c;
	int rc = 0;

	if (ms->nmesh == 0)
		return 0;
	json_array_foreach(changes, i, c) {
		const json_t *members = json_object_get(c, "members");
		const char *kind = json_str(c, "kind");
		char ptr[64];

		if (kind == NULL || strcmp(kind, "avnm-mesh") != 0 || members == NULL || nsel == 8)
			continue;
		snprintf(ptr, sizeof(ptr), "/x-netwave-changes/%zu/members", i);
		rc = intent_selector_parse(&sel[nsel], members, p->tgt->source, ptr, p->err);
		if (rc != 0)
			goto done;
		nsel++;
	}
	for (i = 0; i < t->nvnets; i++) {
		const struct topo_vnet *v = &t->vnets[i];
		bool inspected = false;

		if (p->is_hub[i] || plan_idset_get(ms->memberset, v->res->id) != NULL)
			continue;
		if (nsel > 0) {
			for (k = 0; k < nsel && !inspected; k++)
				inspected = intent_selector_match(&sel[k], v->res);
		} else {
			for (k = 0; k < v->nsubnets && !inspected; k++) {
				const struct topo_route_table *rt = v->subnets[k].route_table;

				for (r = 0; rt != NULL && r < rt->nroutes && !inspected; r++) {
					const struct topo_route *ro = &rt->routes[r];

					if (ro->next_hop != NH_VIRTUAL_APPLIANCE && ro->next_hop != NH_VIRTUAL_APPLIANCE_ECMP)
						continue;
					for (size_t m = 0; m < ms->nmember_prefixes && !inspected; m++)
						inspected = cidr_contains(&ro->prefix, &ms->member_prefixes[m]);
				}
			}
		}
		if (inspected) {
			json_array_append_new(p->inspected, json_string(v->res->id));
			plan_finding(p, "info", "stays-inspected", v->res->id,
			    "%s stays on its firewall path: its user routes send traffic for other spokes to "
			    "an appliance, which a mesh route would bypass, so it is not put in the mesh",
			    v->res->name);
		}
	}
done:
	for (k = 0; k < nsel; k++)
		intent_selector_free(&sel[k]);
	return rc;
}

int
mesh_check(struct plan_ctx *p)
{
	struct mesh_state *ms = mesh_state(p);
	size_t i;
	int rc = 0;

	for (i = 0; i < ms->nmesh && rc == 0; i++)
		rc = mesh_check_one(p, &ms->mesh[i]);
	return rc == 0 ? mesh_find_inspected(p) : rc;
}
