/*
 * Azure Virtual Network Manager in the emulator (reference/azure-arm.md,
 * section 1; the checks of its resources are avnm_validate.c): `commit`
 * as a goal state per region and configuration type (a commit replaces
 * the whole deployed set of its type in each target region), checked
 * against the connected-group limits; deployment status records; the
 * active and effective configuration lists.  What is deployed lives in observed.avnmDeployments,
 * so the route engine sees the connected groups it makes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/cidr.h"
#include "plan/jsonutil.h"
#include "plan/topology.h"
#include "plan/vec.h"
#include "providers/emulator/avnm.h"

#define FEATURE_HIGH_SCALE "Microsoft.Network/AllowHighScaleConnectedGroup"
#define CG_MAX 250
#define CG_MAX_HIGH_SCALE 5000
#define CG_PER_VNET 2

/* Azure's region names are short ("southafricanorth"); longer is no region. */
#define REGION_MAX 64

/* "East US" -> "eastus" in out. */
static char *
norm_region(const char *s, char out[REGION_MAX])
{
	size_t n = 0;

	for (; s != NULL && *s != '\0' && n + 1 < REGION_MAX; s++)
		if (*s != ' ')
			out[n++] = (char)(*s >= 'A' && *s <= 'Z' ? *s - 'A' + 'a' : *s);
	out[n] = '\0';
	return out;
}

/* --- connected groups and the limits ------------------------------------------------------ */

struct cg {
	char *name;          /* configuration id and region, for messages */
	json_t *config;      /* borrowed */
	json_t **vnets;      /* borrowed */
	size_t n, cap;
};

static void
cg_add(struct emulator *e, struct cg *g, json_t *vnet)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		if (g->vnets[i] == vnet)
			return;
	if (VEC_GROW(g->vnets, &g->cap, g->n + 1) != 0) {
		e->oom = true;
		return;
	}
	g->vnets[g->n++] = vnet;
}

/* VNets that are static members of a network group, in a region (NULL: any). */
static void
group_members(struct emulator *e, const char *ng_id, const char *region, struct cg *out)
{
	char *pref = emu_lower_printf("%s/staticmembers/", ng_id);
	const char **keys;
	size_t n, i;

	if (pref == NULL) {
		e->oom = true;
		return;
	}
	emu_store_sorted(e, &keys, &n);
	for (i = emu_store_lower_bound(e, pref); i < n && strncmp(keys[i], pref, strlen(pref)) == 0; i++) {
		json_t *m = json_object_get(e->res, keys[i]);
		const char *rid = json_path_str(m, "properties", "resourceId", NULL);
		json_t *v = rid != NULL ? emu_store_get(e, rid) : NULL;
		char vr[REGION_MAX];

		if (v == NULL || strcasecmp(json_str(v, "type") != NULL ? json_str(v, "type") : "",
		    TYPE_VNET) != 0)
			continue;
		if (region == NULL || strcmp(norm_region(json_str(v, "location"), vr), region) == 0)
			cg_add(e, out, v);
	}
	free(pref);
}

struct cg_set {
	struct cg *v;
	size_t n, cap;
};

/* A new connected group in s; NULL (e->oom set) on out of memory. */
static struct cg *
cg_new(struct emulator *e, struct cg_set *s, const char *name, json_t *config)
{
	char *copy = emu_strdup(name);

	if (copy != NULL && VEC_GROW(s->v, &s->cap, s->n + 1) != 0) {
		free(copy);
		copy = NULL;
	}
	if (copy == NULL) {
		e->oom = true;
		return NULL;
	}
	memset(&s->v[s->n], 0, sizeof(s->v[s->n]));
	s->v[s->n].name = copy;
	s->v[s->n].config = config;
	return &s->v[s->n++];
}

static void
cg_set_free(struct cg_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].name);
		free(s->v[i].vnets);
	}
	free(s->v);
}

/* The connected groups one deployed configuration makes in a region. */
static void
config_groups(struct emulator *e, json_t *cfg, const char *cfg_id, const char *region,
    struct cg_set *out)
{
	json_t *props = json_object_get(cfg, "properties"), *g;
	bool mesh = json_str(props, "connectivityTopology") != NULL &&
	    strcasecmp(json_str(props, "connectivityTopology"), "Mesh") == 0;
	bool global = json_truthy(json_object_get(props, "isGlobal"), false);
	char reg[REGION_MAX], name[1024];
	struct cg *cur = NULL;
	size_t j;

	norm_region(region, reg);
	json_array_foreach(json_object_get(props, "appliesToGroups"), j, g) {
		const char *ngid = json_str(g, "networkGroupId");
		bool direct = json_str(g, "groupConnectivity") != NULL &&
		    strcasecmp(json_str(g, "groupConnectivity"), "DirectlyConnected") == 0;
		bool gglobal = global || json_truthy(json_object_get(g, "isGlobal"), false);

		if (ngid == NULL || (!mesh && !direct))
			continue;
		if (mesh) {
			/* one group of the members of all its groups */
			if (cur == NULL) {
				snprintf(name, sizeof(name), "%s (%s)", cfg_id, global ? "global" : reg);
				cur = cg_new(e, out, name, cfg);
			}
		} else {
			snprintf(name, sizeof(name), "%s group %s (%s)", cfg_id, ngid,
			    gglobal ? "global" : reg);
			cur = cg_new(e, out, name, cfg);
		}
		if (cur == NULL)
			return;
		group_members(e, ngid, (mesh ? global : gglobal) ? NULL : reg, cur);
		if (!mesh)
			cur = NULL;
	}
}

/*
 * The connected groups a goal state (avnmDeployments shape) makes: a
 * mesh joins the members of all its groups, hub-and-spoke each directly
 * connected group; per region unless the configuration is global.
 */
static void
connected_groups(struct emulator *e, json_t *goal, struct cg_set *out)
{
	const char *nm, *region, *type;
	json_t *regions, *types, *ids, *cid;
	size_t i;

	json_object_foreach(goal, nm, regions)
		json_object_foreach(regions, region, types)
			json_object_foreach(types, type, ids) {
				if (strcasecmp(type, "Connectivity") != 0)
					continue;
				json_array_foreach(ids, i, cid) {
					json_t *cfg = json_is_string(cid) ?
					    emu_store_get(e, json_string_value(cid)) : NULL;

					if (cfg != NULL)
						config_groups(e, cfg, json_string_value(cid), region, out);
				}
			}
}

struct pv {
	struct cidr c;
	json_t *v;
};

static int
cmp_pv(const void *a, const void *b)
{
	const struct pv *x = a, *y = b;

	return cidr_compare(&x->c, &y->c);
}

/* The members' prefixes, sorted; -1 on out of memory. */
static int
group_prefixes(const struct cg *g, struct pv **out, size_t *n)
{
	struct pv *pv = NULL;
	size_t npv = 0, cap = 0, j, k;
	struct nw_err err = { 0 };
	json_t *pfx;

	for (j = 0; j < g->n; j++)
		json_array_foreach(json_path(g->vnets[j], "properties", "addressSpace",
		    "addressPrefixes", NULL), k, pfx) {
			struct cidr c;

			if (!json_is_string(pfx) || cidr_parse(&c, json_string_value(pfx), &err) != 0)
				continue;
			if (VEC_GROW(pv, &cap, npv + 1) != 0) {
				free(pv);
				return -1;
			}
			pv[npv].c = c;
			pv[npv++].v = g->vnets[j];
		}
	qsort(pv, npv, sizeof(*pv), cmp_pv);
	*out = pv;
	*n = npv;
	return 0;
}

/* A connected group whose configuration disallows overlaps: the first overlap, or NULL. */
static char *
overlap_msg(struct emulator *e, const struct cg *g)
{
	struct pv *pv = NULL;
	size_t npv = 0, j, k;
	char *msg = NULL;

	if (group_prefixes(g, &pv, &npv) != 0) {
		e->oom = true;
		return NULL;
	}
	/* sorted, an overlap is a containment by an earlier prefix */
	for (j = 1, k = 0; j < npv && msg == NULL; j++) {
		if (cidr_overlaps(&pv[k].c, &pv[j].c) && pv[k].v != pv[j].v) {
			char a[CIDR_STRLEN], b[CIDR_STRLEN];

			cidr_format(&pv[k].c, a);
			cidr_format(&pv[j].c, b);
			msg = emu_printf("ConnectedGroupAddressOverlap|Configuration %s disallows overlapping address spaces, but %s (%s) overlaps %s (%s).",
			    json_str(g->config, "id"), json_str(pv[k].v, "id"), a,
			    json_str(pv[j].v, "id"), b);
		}
		if (!cidr_contains(&pv[k].c, &pv[j].c))
			k = j;
	}
	free(pv);
	return msg;
}

/* Checks the limits on the groups of the committed configurations; a message or NULL. */
static char *
check_limits(struct emulator *e, struct cg_set *all, json_t *committed_ids)
{
	size_t i, j, k;

	for (i = 0; i < all->n; i++) {
		struct cg *g = &all->v[i];
		json_t *caps = json_path(g->config, "properties", "connectivityCapabilities", NULL);
		bool mine = false, high;
		json_t *v;
		/* registered per subscription: the one that holds the network manager */
		char *sub = arm_id_part(json_str(g->config, "id"), "subscriptions");
		const char *feat = sub != NULL ? emu_store_feature_sub(e, sub, FEATURE_HIGH_SCALE) :
		    emu_store_feature(e, FEATURE_HIGH_SCALE);

		high = feat != NULL && strcmp(feat, "Registered") == 0;
		free(sub);

		json_array_foreach(committed_ids, j, v)
			if (json_is_string(v) && strcasecmp(json_string_value(v), json_str(g->config, "id")) == 0)
				mine = true;
		if (!mine)
			continue;
		if (g->n > CG_MAX_HIGH_SCALE || (g->n > CG_MAX && !high))
			return emu_printf(g->n > CG_MAX_HIGH_SCALE ?
			    "ConnectedGroupMemberLimitExceeded|The connected group of %s would have %zu virtual networks; the limit is %d even with %s." :
			    "ConnectedGroupMemberLimitExceeded|The connected group of %s would have %zu virtual networks; more than %d needs the preview feature %s registered.",
			    g->name, g->n, g->n > CG_MAX_HIGH_SCALE ? CG_MAX_HIGH_SCALE : CG_MAX,
			    FEATURE_HIGH_SCALE);
		if (json_str(caps, "connectedGroupPrivateEndpointsScale") != NULL &&
		    strcasecmp(json_str(caps, "connectedGroupPrivateEndpointsScale"), "HighScale") == 0)
			for (j = 0; j < g->n; j++) {
				const char *pol = json_path_str(g->vnets[j], "properties",
				    "privateEndpointVNetPolicies", NULL);
				if (pol == NULL || strcasecmp(pol, "Basic") != 0)
					return emu_printf("HighScalePrivateEndpointsNotEnabled|Configuration %s uses connectedGroupPrivateEndpointsScale HighScale, but member virtual network %s does not have privateEndpointVNetPolicies Basic.",
					    json_str(g->config, "id"), json_str(g->vnets[j], "id"));
			}
		if (json_str(caps, "connectedGroupAddressOverlap") != NULL &&
		    strcasecmp(json_str(caps, "connectedGroupAddressOverlap"), "Disallowed") == 0) {
			char *msg = overlap_msg(e, g);

			if (msg != NULL)
				return msg;
		}
	}
	/* a VNet in more than two connected groups */
	for (i = 0; i < all->n; i++)
		for (j = 0; j < all->v[i].n; j++) {
			json_t *vn = all->v[i].vnets[j];
			size_t count = 0, a, b;
			bool mine = false;
			json_t *v;

			for (a = 0; a < all->n; a++)
				for (b = 0; b < all->v[a].n; b++)
					if (all->v[a].vnets[b] == vn) {
						count++;
						json_array_foreach(committed_ids, k, v)
							if (json_is_string(v) && strcasecmp(json_string_value(v),
							    json_str(all->v[a].config, "id")) == 0)
								mine = true;
					}
			if (count > CG_PER_VNET && mine)
				return emu_printf("ConnectedGroupLimitPerVnetExceeded|Virtual network %s would be in %zu connected groups; the limit is %d.",
				    json_str(vn, "id"), count, CG_PER_VNET);
		}
	return NULL;
}

/* --- commit ------------------------------------------------------------------------------- */

/* A network manager's deployment records (borrowed); NULL (e->oom set) on out of memory. */
static json_t *
records_of(struct emulator *e, const char *nm_id)
{
	char *low = emu_lower(nm_id);
	json_t *list = low != NULL ? json_object_get(e->deploy, low) : NULL;

	if (list == NULL && low != NULL) {
		list = json_array();
		if (json_object_set_new(e->deploy, low, list) != 0)
			list = NULL;
	}
	if (list == NULL)
		e->oom = true;
	free(low);
	return list;
}

static json_t *
record_for(json_t *list, const char *region, const char *type)
{
	json_t *rec;
	size_t i;

	json_array_foreach(list, i, rec)
		if (strcasecmp(json_str(rec, "region"), region) == 0 &&
		    strcasecmp(json_str(rec, "deploymentType"), type) == 0)
			return rec;
	rec = json_pack("{s:s,s:s}", "region", region, "deploymentType", type);
	json_array_append_new(list, rec);
	return rec;
}

/* The goal state with this commit applied (new reference). */
static json_t *
goal_with(struct emulator *e, const char *nm_id, json_t *regions, const char *type, json_t *ids)
{
	json_t *dep = json_object_get(e->observed, "avnmDeployments");
	json_t *goal = json_is_object(dep) ? json_deep_copy(dep) : json_object();
	json_t *mine = NULL, *reg;
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach(goal, k, v)
		if (strcasecmp(k, nm_id) == 0)
			mine = v;
	if (mine == NULL) {
		mine = json_object();
		json_object_set_new(goal, nm_id, mine);
	}
	json_array_foreach(regions, i, reg) {
		char r[REGION_MAX];
		json_t *types = json_object_get(mine, norm_region(json_string_value(reg), r));
		const char *tk;
		json_t *tv;
		void *tmp;

		if (types == NULL) {
			types = json_object();
			json_object_set_new(mine, r, types);
		}
		json_object_foreach_safe(types, tmp, tk, tv)
			if (strcasecmp(tk, type) == 0)
				json_object_del(types, tk);
		if (json_array_size(ids) > 0)
			json_object_set_new(types, type, json_deep_copy(ids));
		if (json_object_size(types) == 0)
			json_object_del(mine, r);
	}
	if (json_object_size(mine) == 0)
		json_object_del(goal, nm_id);
	return goal;
}

static void
commit(struct emulator *e, struct emu_req *r, const struct emu_op_class *cls, const char *nm_id,
    json_t *body)
{
	const char *type = json_str(body, "commitType");
	json_t *regions = json_object_get(body, "targetLocations");
	json_t *ids = json_object_get(body, "configurationIds"), *v, *goal, *list, *result;
	struct cg_set cgs = { 0 };
	struct emu_op *op;
	char *limit, *sub, now[40];
	size_t i;

	if (!json_is_object(body)) {
		emu_reply_error(r, 400, "InvalidRequestContent",
		    "The request content was invalid and could not be deserialized: 'the commit body must be a JSON object'.");
		return;
	}
	if (!str_in(type, avnm_config_types, strcasecmp)) {
		avnm_bad_enum(r, "commitType", type, "SecurityAdmin, Connectivity, SecurityUser, Routing");
		return;
	}
	if (!json_is_array(regions) || json_array_size(regions) == 0) {
		emu_reply_error(r, 400, "InvalidRequestFormat",
		    "Cannot parse the request: targetLocations must list at least one region.");
		return;
	}
	json_array_foreach(regions, i, v)
		if (!json_is_string(v) || json_string_value(v)[0] == '\0') {
			emu_reply_error(r, 400, "InvalidRequestFormat",
			    "Cannot parse the request: targetLocations[%zu] must be a region name.", i);
			return;
		}
	if (ids != NULL && !json_is_array(ids)) {
		emu_reply_error(r, 400, "InvalidRequestFormat",
		    "Cannot parse the request: configurationIds must be an array.");
		return;
	}
	json_array_foreach(ids, i, v) {
		json_t *cfg = json_is_string(v) ? emu_store_get(e, json_string_value(v)) : NULL;
		bool conn = strcasecmp(type, "Connectivity") == 0;

		if (cfg == NULL || !avnm_id_under(json_string_value(v), nm_id) ||
		    (conn && (json_str(cfg, "type") == NULL ||
		    strcasecmp(json_str(cfg, "type"), TYPE_CONNECTIVITY_CONFIG) != 0))) {
			emu_reply_error(r, 400, "InvalidResourceReference",
			    "Configuration %s in configurationIds[%zu] was not found under network manager %s or is not a %s configuration.",
			    json_is_string(v) ? json_string_value(v) : "(not a string)", i, nm_id, type);
			return;
		}
	}
	for (i = 0; i < e->nrunning; i++)
		if (e->running[i]->cls == cls &&
		    strcasecmp(e->running[i]->target, nm_id) == 0) {
			emu_reply_error(r, 409, "AnotherOperationInProgress",
			    "Another commit (%s) on network manager %s is in progress. Retry after it completes.",
			    e->running[i]->id, nm_id);
			return;
		}
	if (ids == NULL)
		ids = json_array();
	else
		json_incref(ids);
	goal = goal_with(e, nm_id, regions, type, ids);
	connected_groups(e, goal, &cgs);
	limit = check_limits(e, &cgs, ids);
	cg_set_free(&cgs);
	json_decref(goal);
	list = records_of(e, nm_id);
	if (e->oom) {
		/* the limits could not be checked: nothing starts */
		free(limit);
		json_decref(ids);
		emu_reply_oom(r);
		return;
	}

	sub = arm_id_part(nm_id, "subscriptions");
	op = lro_new(e, cls, OP_ACTION, "commit", nm_id, sub,
	    json_str(emu_store_get(e, nm_id), "location"), EMU_DUR_COMMIT);
	free(sub);
	if (op == NULL) {
		free(limit);
		json_decref(ids);
		emu_reply_oom(r);
		return;
	}
	op->args = json_pack("{s:s,s:O,s:O}", "commitType", type, "targetLocations", regions,
	    "configurationIds", ids);
	if (limit != NULL) {
		char *bar = strchr(limit, '|');
		*bar = '\0';
		lro_force(op, OP_FAILED, limit, bar + 1);
		free(limit);
	}
	emu_time_iso(op->start, now);
	json_array_foreach(regions, i, v) {
		char reg[REGION_MAX];
		json_t *rec = record_for(list, norm_region(json_string_value(v), reg), type);

		json_object_set_new(rec, "commitTime", json_string(now));
		json_object_set_new(rec, "deploymentStatus", json_string("Deploying"));
		json_object_set(rec, "configurationIds", ids);
		json_object_set_new(rec, "errorMessage", json_string(""));
		json_object_set_new(rec, "commitId", json_string(op->id));
	}
	emu_store_touch_docs(e);
	result = json_pack("{s:s,s:O,s:O,s:s}", "commitId", op->id, "targetLocations", regions,
	    "configurationIds", ids, "commitType", type);
	op->result = json_deep_copy(result);
	emu_op_name(r, "commit %s to %zu region(s)", type, json_array_size(regions));
	arm_reply_lro(e, r, op, 202, result);
	json_decref(ids);
}

static void
commit_done(struct emulator *e, struct emu_op *op)
{
	const char *type = json_str(op->args, "commitType");
	json_t *regions = json_object_get(op->args, "targetLocations");
	json_t *ids = json_object_get(op->args, "configurationIds"), *v, *list;
	size_t i;

	if (emu_store_get(e, op->target) == NULL)
		return; /* the network manager went away meanwhile */
	list = records_of(e, op->target);
	if (list == NULL)
		return;
	if (op->state == OP_SUCCEEDED) {
		json_t *goal = goal_with(e, op->target, regions, type, ids);
		json_object_set_new(e->observed, "avnmDeployments", goal);
	}
	json_array_foreach(regions, i, v) {
		char reg[REGION_MAX];
		json_t *rec = record_for(list, norm_region(json_string_value(v), reg), type);
		const char *cid = json_str(rec, "commitId");

		/* a later commit to the same region took over the record */
		if (cid == NULL || strcmp(cid, op->id) == 0) {
			json_object_set_new(rec, "deploymentStatus", json_string(op->state == OP_SUCCEEDED ?
			    "Deployed" : "Failed"));
			json_object_set_new(rec, "errorMessage", json_string(op->state == OP_SUCCEEDED ? "" :
			    op->fail_msg != NULL ? op->fail_msg : "deployment failed"));
		}
	}
	emu_store_touch_docs(e);
}

/* --- lists --------------------------------------------------------------------------------- */

static bool
filter_has(json_t *filter, const char *v)
{
	json_t *f;
	size_t i;

	if (json_array_size(filter) == 0)
		return true;
	json_array_foreach(filter, i, f) {
		if (json_is_string(f)) {
			char a[REGION_MAX], b[REGION_MAX];

			if (strcmp(norm_region(json_string_value(f), a), norm_region(v, b)) == 0)
				return true;
		}
	}
	return false;
}

static int
page_args(struct emulator *e, struct emu_req *r, json_t *body, size_t *start, size_t *top)
{
	const char *t = emu_query(r, "$top");
	const char *skip = json_str(body, "skipToken");
	char *end;

	*top = e->page_size;
	*start = 0;
	if (t != NULL) {
		unsigned long v = strtoul(t, &end, 10);
		if (t[0] == '\0' || *end != '\0' || t[0] == '-' || v < 1 || v > e->max_page_size) {
			emu_reply_error(r, 400, "InvalidTopParameter",
			    "The value '%s' of query parameter '$top' is invalid: it must be an integer between 1 and %u.",
			    t, e->max_page_size);
			return -1;
		}
		*top = v;
	}
	if (skip != NULL && skip[0] != '\0') {
		unsigned long v = strtoul(skip, &end, 10);
		if (*end != '\0') {
			emu_reply_error(r, 400, "InvalidSkipToken", "The skipToken '%s' is not valid.", skip);
			return -1;
		}
		*start = v;
	}
	return 0;
}

static void
reply_body_page(struct emu_req *r, json_t *all, size_t start, size_t top)
{
	json_t *value = json_array(), *out;
	size_t i;

	for (i = start; i < json_array_size(all) && i < start + top; i++)
		json_array_append(value, json_array_get(all, i));
	out = json_pack("{s:o}", "value", value);
	if (i < json_array_size(all))
		json_object_set_new(out, "skipToken", json_sprintf("%zu", i));
	emu_reply_json(r, 200, out);
}

static json_t *
config_item(struct emulator *e, json_t *cfg)
{
	json_t *groups = json_array(), *g;
	size_t i;

	json_array_foreach(json_path(cfg, "properties", "appliesToGroups", NULL), i, g) {
		const char *ngid = json_str(g, "networkGroupId");
		json_t *ng = ngid != NULL ? emu_store_get(e, ngid) : NULL;

		if (ng != NULL)
			json_array_append_new(groups, json_pack("{s:s,s:O}", "id", json_str(ng, "id"),
			    "properties", json_object_get(ng, "properties") != NULL ?
			    json_object_get(ng, "properties") : json_object()));
	}
	return json_pack("{s:s,s:O,s:o}", "id", json_str(cfg, "id"), "properties",
	    json_object_get(cfg, "properties") != NULL ? json_object_get(cfg, "properties") :
	    json_object(), "configurationGroups", groups);
}

static void
list_deployment_status(struct emulator *e, struct emu_req *r, const char *nm_id, json_t *body)
{
	json_t *list = records_of(e, nm_id), *all = json_array(), *rec;
	json_t *regions = json_object_get(body, "regions");
	json_t *types = json_object_get(body, "deploymentTypes");
	char *low = emu_lower(nm_id);
	json_t *empty = json_object_get(e->empty_status, low);
	size_t start, top, i;

	if (page_args(e, r, body, &start, &top) != 0)
		goto done;
	emu_op_name(r, "list deployment status");
	if (json_integer_value(empty) > 0) {
		/* a fault: the status has not caught up with the commit yet */
		json_integer_set(empty, json_integer_value(empty) - 1);
		emu_reply_json(r, 200, json_pack("{s:[]}", "value"));
		goto done;
	}
	json_array_foreach(list, i, rec) {
		json_t *t;
		size_t k;
		bool type_ok = json_array_size(types) == 0;

		json_array_foreach(types, k, t)
			if (json_is_string(t) && strcasecmp(json_string_value(t),
			    json_str(rec, "deploymentType")) == 0)
				type_ok = true;
		if (!type_ok || !filter_has(regions, json_str(rec, "region")))
			continue;
		json_array_append_new(all, json_pack("{s:O,s:O,s:O,s:O,s:O,s:O}",
		    "commitTime", json_object_get(rec, "commitTime"),
		    "region", json_object_get(rec, "region"),
		    "deploymentStatus", json_object_get(rec, "deploymentStatus"),
		    "configurationIds", json_object_get(rec, "configurationIds"),
		    "deploymentType", json_object_get(rec, "deploymentType"),
		    "errorMessage", json_object_get(rec, "errorMessage")));
	}
	reply_body_page(r, all, start, top);
done:
	json_decref(all);
	free(low);
}

/* The commit time of the Connectivity record of a region, or "". */
static const char *
record_time(struct emulator *e, const char *nm_id, const char *region)
{
	char *low = emu_lower(nm_id);
	json_t *list = json_object_get(e->deploy, low), *rec;
	size_t i;

	free(low);
	json_array_foreach(list, i, rec)
		if (strcasecmp(json_str(rec, "region"), region) == 0 &&
		    strcasecmp(json_str(rec, "deploymentType"), "Connectivity") == 0)
			return json_str(rec, "commitTime") != NULL ? json_str(rec, "commitTime") : "";
	return "";
}

/* The connectivity configuration ids a region's deployment ({type: [ids]}) holds (borrowed), or NULL. */
static json_t *
connectivity_ids(json_t *types)
{
	const char *type;
	json_t *ids;

	json_object_foreach(types, type, ids)
		if (strcasecmp(type, "Connectivity") == 0)
			return ids;
	return NULL;
}

static void
list_active(struct emulator *e, struct emu_req *r, const char *nm_id, json_t *body)
{
	json_t *dep = avnm_deployments_of(e, nm_id), *types, *cid, *all = json_array();
	json_t *regions = json_object_get(body, "regions");
	const char *region;
	size_t start, top, i;

	if (page_args(e, r, body, &start, &top) != 0)
		goto done;
	emu_op_name(r, "list active connectivity configurations");
	json_object_foreach(dep, region, types) {
		if (!filter_has(regions, region))
			continue;
		json_array_foreach(connectivity_ids(types), i, cid) {
			json_t *cfg = json_is_string(cid) ? emu_store_get(e, json_string_value(cid)) : NULL;
			json_t *item;

			if (cfg == NULL)
				continue;
			item = config_item(e, cfg);
			json_object_set_new(item, "commitTime", json_string(record_time(e, nm_id, region)));
			json_object_set_new(item, "region", json_string(region));
			json_array_append_new(all, item);
		}
	}
	reply_body_page(r, all, start, top);
done:
	json_decref(all);
}

static bool
vnet_in_config(struct emulator *e, json_t *cfg, const char *vnet_id)
{
	json_t *g;
	size_t i;

	if (json_array_find(json_path(cfg, "properties", "hubs", NULL), "resourceId", vnet_id, strcasecmp, NULL) != NULL)
		return true;
	json_array_foreach(json_path(cfg, "properties", "appliesToGroups", NULL), i, g) {
		struct cg tmp = { 0 };
		const char *ngid = json_str(g, "networkGroupId");
		size_t k;
		bool hit = false;

		if (ngid == NULL)
			continue;
		group_members(e, ngid, NULL, &tmp);
		for (k = 0; k < tmp.n; k++)
			if (strcasecmp(json_str(tmp.vnets[k], "id"), vnet_id) == 0)
				hit = true;
		free(tmp.vnets);
		if (hit)
			return true;
	}
	return false;
}

static void
list_effective(struct emulator *e, struct emu_req *r, const char *vnet_id, json_t *body)
{
	json_t *dep = json_object_get(e->observed, "avnmDeployments"), *regions, *types, *cid;
	json_t *all = json_array(), *vnet = emu_store_get(e, vnet_id);
	char vreg[REGION_MAX];
	const char *nm, *region;
	size_t start, top, i;

	norm_region(json_str(vnet, "location"), vreg);
	if (page_args(e, r, body, &start, &top) != 0)
		goto done;
	emu_op_name(r, "list effective connectivity configurations");
	json_object_foreach(dep, nm, regions)
		json_object_foreach(regions, region, types) {
			char reg[REGION_MAX];

			if (strcmp(norm_region(region, reg), vreg) != 0)
				continue;
			json_array_foreach(connectivity_ids(types), i, cid) {
				json_t *cfg = json_is_string(cid) ? emu_store_get(e, json_string_value(cid)) : NULL;
				if (cfg != NULL && vnet_in_config(e, cfg, vnet_id))
					json_array_append_new(all, config_item(e, cfg));
			}
		}
	reply_body_page(r, all, start, top);
done:
	json_decref(all);
}

/* The actions take an empty body as {}. */
static json_t *
body_of(struct emu_req *r)
{
	return r->parsed != NULL ? json_incref(r->parsed) : json_object();
}

void
avnm_commit(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	json_t *body = body_of(r);

	commit(e, r, c->route->op, c->target, body);
	json_decref(body);
}

/* A list action: its body (or {}) and the resource it names. */
static void
list_with_body(struct emulator *e, struct emu_req *r, const struct emu_call *c,
    void (*list)(struct emulator *, struct emu_req *, const char *, json_t *))
{
	json_t *body = body_of(r);

	list(e, r, c->target, body);
	json_decref(body);
}

void
avnm_list_deployment_status(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	list_with_body(e, r, c, list_deployment_status);
}

void
avnm_list_active(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	list_with_body(e, r, c, list_active);
}

void
avnm_list_effective(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	list_with_body(e, r, c, list_effective);
}

/*
 * A commit holds nothing: it has its own conflict rule (one at a time per
 * network manager, above) and leaves the manager's children writable.
 */
const struct emu_op_class avnm_commit_op = {
	.name = "commit",
	.done = commit_done,
	.result = NULL,
	.holds = false,
};

/*
 * A commit left running when the emulator stopped has no operation any
 * more (operations live in memory): it did not complete, and its records
 * end Failed (gateway.c explains why).
 */
void
avnm_settle(struct emulator *e)
{
	const char *k;
	json_t *v, *rec;
	size_t i;

	json_object_foreach(e->deploy, k, v)
		json_array_foreach(v, i, rec) {
			const char *ds = json_str(rec, "deploymentStatus");

			if (ds != NULL && strcmp(ds, "Deploying") == 0) {
				json_object_set_new(rec, "deploymentStatus", json_string("Failed"));
				json_object_set_new(rec, "errorMessage", json_string(EMU_INTERRUPTED));
			}
		}
}
