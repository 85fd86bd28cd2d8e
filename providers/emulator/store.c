/*
 * The emulator's estate: ARM resources as ARM returns them, keyed by
 * lowercase id (ARM compares ids case-insensitively and keeps their
 * casing), the resource groups, and the topology document's other parts
 * (observed.*, subscriptions).  Children ARM shows inside their parent
 * (subnets, peerings, routes, circuit peerings) live there and are found
 * by their own ids too.  Every change bumps a generation so the sorted
 * index and the route engine's view are rebuilt only when needed, and is
 * remembered for the next SQLite flush.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "plan/routes.h"
#include "plan/topology.h"
#include "providers/emulator/emu.h"

static void
changed(struct emulator *e)
{
	e->gen++;
}

json_t *
emu_store_get(struct emulator *e, const char *id)
{
	char *low;
	json_t *v;

	if (id == NULL || e->res == NULL)
		return NULL;
	low = emu_lower(id);
	v = json_object_get(e->res, low);
	free(low);
	return v;
}

void
emu_store_put(struct emulator *e, const char *id, json_t *res)
{
	char *low = emu_lower(id);

	if (low == NULL) {
		json_decref(res);
		e->oom = true;
		return;
	}
	if (json_object_get(e->res, low) == NULL)
		e->keys_gen++;
	json_object_set_new(e->res, low, res);
	json_object_set_new(e->dirty, low, json_true());
	free(low);
	changed(e);
}

void
emu_store_del(struct emulator *e, const char *id)
{
	char *low = emu_lower(id);

	if (low == NULL) {
		e->oom = true;
		return;
	}
	if (json_object_get(e->res, low) != NULL) {
		json_object_del(e->res, low);
		e->keys_gen++;
		json_object_set_new(e->dirty, low, json_true());
		changed(e);
	}
	free(low);
}

void
emu_store_touch(struct emulator *e, const char *id)
{
	char *low;

	if (id == NULL)
		return;
	low = emu_lower(id);
	if (low == NULL)
		e->oom = true;
	json_object_set_new(e->dirty, low, json_true());
	free(low);
	changed(e);
}

void
emu_store_touch_docs(struct emulator *e)
{
	e->dirty_docs = true;
	changed(e);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void
emu_store_sorted(struct emulator *e, const char ***keys, size_t *n)
{
	/* jansson keeps a key's string while the key exists, so the index
	 * stays valid across in-place changes */
	if (!e->sorted_valid || e->sorted_gen != e->keys_gen) {
		size_t cnt = json_object_size(e->res), i = 0;
		const char *k;
		json_t *v;
		const char **arr = realloc(e->sorted, (cnt + 1) * sizeof(*arr));

		if (arr == NULL) {
			/* out of memory: an empty list, and the request is answered 500 */
			e->oom = true;
			*keys = NULL;
			*n = 0;
			return;
		}
		json_object_foreach(e->res, k, v)
			arr[i++] = k;
		qsort(arr, i, sizeof(*arr), cmp_str);
		e->sorted = arr;
		e->nsorted = i;
		e->sorted_gen = e->keys_gen;
		e->sorted_valid = true;
	}
	*keys = e->sorted;
	*n = e->nsorted;
}

size_t
emu_store_lower_bound(struct emulator *e, const char *key)
{
	const char **keys;
	size_t n, lo = 0, hi;

	emu_store_sorted(e, &keys, &n);
	hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(keys[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Child kinds ARM embeds in the parent: the id segment and the property array. */
static const struct {
	const char *seg;
	const char *prop;
} embedded[] = {
	{ "subnets", "subnets" },
	{ "virtualNetworkPeerings", "virtualNetworkPeerings" },
	{ "routes", "routes" },
	{ "peerings", "peerings" },
	{ "securityRules", "securityRules" },
};

bool
emu_store_find(struct emulator *e, const char *id, json_t **parent, json_t **child, json_t **arr,
    size_t *idx)
{
	json_t *top = emu_store_get(e, id);
	const char *last, *prev;
	char *pid;
	size_t k, i, len;

	*parent = NULL;
	*child = NULL;
	if (arr != NULL)
		*arr = NULL;
	if (top != NULL) {
		*parent = top;
		return true;
	}
	/* ".../{parent}/{seg}/{name}" */
	len = strlen(id);
	last = NULL;
	for (i = len; i > 0; i--)
		if (id[i - 1] == '/') {
			last = id + i;
			break;
		}
	if (last == NULL || last - id < 2)
		return false;
	prev = NULL;
	for (i = (size_t)(last - id) - 1; i > 0; i--)
		if (id[i - 1] == '/') {
			prev = id + i;
			break;
		}
	if (prev == NULL)
		return false;
	pid = emu_strdup(id);
	if (pid == NULL) {
		e->oom = true;
		return false;
	}
	pid[prev - id - 1] = '\0';
	top = emu_store_get(e, pid);
	free(pid);
	if (top == NULL)
		return false;
	for (k = 0; k < sizeof(embedded) / sizeof(embedded[0]); k++) {
		size_t seglen = strlen(embedded[k].seg);
		json_t *list, *it;

		if ((size_t)(last - prev - 1) != seglen || strncasecmp(prev, embedded[k].seg, seglen) != 0)
			continue;
		list = json_path(top, "properties", embedded[k].prop, NULL);
		json_array_foreach(list, i, it) {
			const char *nm = json_str(it, "name");
			if (nm != NULL && strcasecmp(nm, last) == 0) {
				*parent = top;
				*child = it;
				if (arr != NULL)
					*arr = list;
				if (idx != NULL)
					*idx = i;
				return true;
			}
		}
	}
	return false;
}

void
emu_store_etag(struct emulator *e, json_t *obj)
{
	char g[40];

	emu_guid(e, g);
	json_object_set_new(obj, "etag", json_sprintf("W/\"%s\"", g));
}

/* "sub/rg" lowercase */
static char *
rg_key(const char *sub, const char *rg)
{
	return emu_lower_printf("%s/%s", sub, rg);
}

json_t *
emu_store_rg_wire(const json_t *g)
{
	json_t *c = json_deep_copy(g);

	/* a state database written before groups kept ARM's shape */
	if (json_str(c, "id") == NULL)
		json_object_set_new(c, "id", json_sprintf("/subscriptions/%s/resourceGroups/%s",
		    json_str(c, "subscriptionId"), json_str(c, "name")));
	if (json_str(c, "type") == NULL)
		json_object_set_new(c, "type", json_string(EMU_TYPE_RESOURCE_GROUP));
	if (json_object_get(c, "properties") == NULL)
		json_object_set_new(c, "properties", json_pack("{s:s}", "provisioningState", "Succeeded"));
	json_object_del(c, "subscriptionId");
	return c;
}

bool
emu_store_rg_exists(struct emulator *e, const char *sub, const char *rg)
{
	return emu_store_rg_get(e, sub, rg) != NULL;
}

json_t *
emu_store_rg_get(struct emulator *e, const char *sub, const char *rg)
{
	char *k = rg_key(sub, rg);
	json_t *v = json_object_get(e->rgs, k);

	free(k);
	return v;
}

void
emu_store_rg_put(struct emulator *e, const char *sub, const char *rg, const char *location)
{
	char *k = rg_key(sub, rg);
	json_t *old = json_object_get(e->rgs, k);

	if (k == NULL)
		e->oom = true;
	/* as "Resource Groups - Get" returns it, plus the subscription for lists */
	if (old == NULL)
		json_object_set_new(e->rgs, k, json_pack("{s:s,s:o,s:s,s:s,s:s,s:{s:s}}",
		    "subscriptionId", sub, "id", json_sprintf("/subscriptions/%s/resourceGroups/%s", sub, rg),
		    "name", rg, "type", EMU_TYPE_RESOURCE_GROUP,
		    "location", location != NULL ? location : "eastus",
		    "properties", "provisioningState", "Succeeded"));
	else if (location != NULL)
		json_object_set_new(old, "location", json_string(location));
	free(k);
	emu_store_touch_docs(e);
}

void
emu_store_rg_del(struct emulator *e, const char *sub, const char *rg)
{
	char *k = rg_key(sub, rg);

	json_object_del(e->rgs, k);
	free(k);
	emu_store_touch_docs(e);
}

static const char *
sub_of(const char *s)
{
	/* topology files list subscriptions as "guid" or "/subscriptions/guid" */
	if (strncasecmp(s, "/subscriptions/", 15) == 0)
		return s + 15;
	return s;
}

bool
emu_store_sub_exists(struct emulator *e, const char *sub)
{
	json_t *subs = json_object_get(e->doc, "subscriptions"), *v;
	const char *k;
	size_t i, n = strlen(sub);

	json_array_foreach(subs, i, v)
		if (json_is_string(v) && strcasecmp(sub_of(json_string_value(v)), sub) == 0)
			return true;
	json_object_foreach(e->rgs, k, v)
		if (strncasecmp(k, sub, n) == 0 && k[n] == '/')
			return true;
	/* an estate that names no subscription accepts any */
	return json_array_size(subs) == 0 && json_object_size(e->rgs) == 0;
}

const char *
emu_store_feature(struct emulator *e, const char *name)
{
	json_t *f = json_object_get(e->observed, "features");
	const char *k;
	json_t *v;

	json_object_foreach(f, k, v)
		if (strcasecmp(k, name) == 0 && json_is_string(v))
			return json_string_value(v);
	return NULL;
}

void
emu_store_feature_set(struct emulator *e, const char *name, const char *state)
{
	json_t *f = json_object_get(e->observed, "features");
	const char *k;
	json_t *v;

	if (!json_is_object(f)) {
		f = json_object();
		json_object_set_new(e->observed, "features", f);
	}
	json_object_foreach(f, k, v)
		if (strcasecmp(k, name) == 0) {
			json_object_set_new(f, k, json_string(state));
			emu_store_touch_docs(e);
			return;
		}
	json_object_set_new(f, name, json_string(state));
	emu_store_touch_docs(e);
}

const char *
emu_store_feature_sub(struct emulator *e, const char *sub, const char *name)
{
	char *low = emu_lower(sub);
	json_t *f = json_object_get(e->subfeatures, low), *v;
	const char *k;

	free(low);
	json_object_foreach(f, k, v)
		if (strcasecmp(k, name) == 0 && json_is_string(v))
			return json_string_value(v);
	return emu_store_feature(e, name);
}

static int
feature_rank(const char *s)
{
	static const char *const order[] = { "NotRegistered", "Unregistered", "Unregistering",
		"Pending", "Registering", "Registered", NULL };
	int i;

	for (i = 0; s != NULL && order[i] != NULL; i++)
		if (strcasecmp(order[i], s) == 0)
			return i;
	return 0;
}

void
emu_store_feature_sub_set(struct emulator *e, const char *sub, const char *name, const char *state)
{
	char *low = emu_lower(sub);
	json_t *f, *subs = json_object(), *v;
	const char *k, *least = state;
	size_t i;

	if (e->subfeatures == NULL)
		e->subfeatures = json_object();
	f = json_object_get(e->subfeatures, low);
	if (f == NULL && low != NULL && json_object_set_new(e->subfeatures, low, json_object()) == 0)
		f = json_object_get(e->subfeatures, low);
	if (f == NULL || subs == NULL) {
		e->oom = true;
		free(low);
		json_decref(subs);
		return;
	}
	json_object_set_new(f, name, json_string(state));
	free(low);
	/* the estate's subscriptions: those it lists and those its groups are in */
	json_array_foreach(json_object_get(e->doc, "subscriptions"), i, v)
		if (json_is_string(v)) {
			const char *s = json_string_value(v);
			char *l = emu_lower(strncasecmp(s, "/subscriptions/", 15) == 0 ? s + 15 : s);
			json_object_set_new(subs, l, json_true());
			free(l);
		}
	json_object_foreach(e->rgs, k, v)
		if (json_str(v, "subscriptionId") != NULL) {
			char *l = emu_lower(json_str(v, "subscriptionId"));
			json_object_set_new(subs, l, json_true());
			free(l);
		}
	json_object_foreach(subs, k, v) {
		const char *st = emu_store_feature_sub(e, k, name);
		if (feature_rank(st) < feature_rank(least))
			least = st != NULL ? st : "NotRegistered";
	}
	/* copied: least may point into the map being set */
	{
		char *keep = emu_strdup(least);
		emu_store_feature_set(e, name, keep);
		free(keep);
	}
	json_decref(subs);
}

/* The part of an id after "/subscriptions/" up to the next slash. */
static char *
id_sub(const char *id)
{
	char *s = arm_id_part(id, "subscriptions");
	return s;
}

static void
deploy_from_observed(struct emulator *e)
{
	json_t *dep = json_object_get(e->observed, "avnmDeployments");
	const char *nm, *region, *type;
	json_t *regions, *types, *ids;
	char now[40];

	emu_time_iso(clock_wall(), now);
	json_decref(e->deploy);
	e->deploy = json_object();
	json_object_foreach(dep, nm, regions) {
		char *low = emu_lower(nm);
		json_t *list = json_array();

		json_object_foreach(regions, region, types)
			json_object_foreach(types, type, ids)
				json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:O,s:s,s:s}",
				    "commitTime", now, "region", region, "deploymentStatus", "Deployed",
				    "configurationIds", ids, "deploymentType", type, "errorMessage", ""));
		json_object_set_new(e->deploy, low, list);
		free(low);
	}
}

int
emu_store_load_doc(struct emulator *e, const json_t *doc, struct nw_err *err)
{
	json_t *resources = json_object_get(doc, "resources"), *r;
	const char *k;
	json_t *v;
	size_t i;

	json_decref(e->res);
	json_decref(e->rgs);
	json_decref(e->doc);
	json_decref(e->observed);
	e->res = json_object();
	e->rgs = json_object();
	json_decref(e->subfeatures);
	e->subfeatures = json_object();
	e->doc = json_object();
	e->observed = json_object();
	json_object_foreach((json_t *)doc, k, v) {
		if (strcmp(k, "resources") == 0)
			continue;
		if (strcmp(k, "observed") == 0) {
			json_decref(e->observed);
			e->observed = json_is_object(v) ? json_deep_copy(v) : json_object();
			continue;
		}
		json_object_set_new(e->doc, k, json_deep_copy(v));
	}
	if (json_object_get(e->doc, "format") == NULL)
		json_object_set_new(e->doc, "format", json_string(TOPOLOGY_FORMAT));
	if (!json_is_array(json_object_get(e->doc, "subscriptions")))
		json_object_set_new(e->doc, "subscriptions", json_array());
	/* the groups the topology records, as recorded; then those its resources imply */
	json_array_foreach(resources, i, r) {
		const char *type = json_str(r, "type");
		char *sub, *rg;
		json_t *g;

		if (type == NULL || strcasecmp(type, EMU_TYPE_RESOURCE_GROUP) != 0 || json_str(r, "id") == NULL)
			continue;
		sub = id_sub(json_str(r, "id"));
		rg = arm_id_part(json_str(r, "id"), "resourceGroups");
		if (sub != NULL && rg != NULL) {
			emu_store_rg_put(e, sub, rg, json_str(r, "location"));
			g = emu_store_rg_get(e, sub, rg);
			if (json_object_get(r, "tags") != NULL)
				json_object_set(g, "tags", json_object_get(r, "tags"));
			if (json_object_get(r, "managedBy") != NULL)
				json_object_set(g, "managedBy", json_object_get(r, "managedBy"));
		}
		free(sub);
		free(rg);
	}
	json_array_foreach(resources, i, r) {
		const char *id = json_str(r, "id");
		const char *type = json_str(r, "type");
		char *sub, *rg, *low;

		if (id == NULL)
			return err_set(err, NW_EINPUT, "resource %zu has no id", i);
		if (type != NULL && strcasecmp(type, EMU_TYPE_RESOURCE_GROUP) == 0)
			continue;
		low = emu_lower(id);
		if (low == NULL)
			return err_set(err, NW_ENOMEM, "out of memory loading resource %zu", i);
		/* shared, not copied: the loaded topology is freed right after,
		 * and a copy of a 5,000-spoke estate cost 200 MB at start */
		json_object_set(e->res, low, (json_t *)r);
		free(low);
		sub = id_sub(id);
		rg = arm_id_part(id, "resourceGroups");
		if (sub != NULL && rg != NULL && !emu_store_rg_exists(e, sub, rg))
			emu_store_rg_put(e, sub, rg, json_str(r, "location"));
		free(sub);
		free(rg);
	}
	deploy_from_observed(e);
	e->dirty_docs = true;
	e->keys_gen++;
	changed(e);
	return 0;
}

static int
cmp_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The resource groups, as ARM returns them, in key order after the resources; -1 on out of memory. */
static int
rgs_append(struct emulator *e, json_t *list)
{
	const char **keys = malloc((json_object_size(e->rgs) + 1) * sizeof(*keys));
	const char *k;
	json_t *g;
	size_t n = 0, i;

	if (keys == NULL)
		return -1;
	json_object_foreach(e->rgs, k, g)
		keys[n++] = k;
	qsort(keys, n, sizeof(*keys), cmp_key);
	for (i = 0; i < n; i++) {
		json_array_append_new(list, emu_store_rg_wire(json_object_get(e->rgs, keys[i])));
	}
	free(keys);
	return 0;
}

json_t *
emu_store_doc(struct emulator *e)
{
	json_t *doc = json_deep_copy(e->doc), *list = json_array();
	const char **keys;
	size_t n, i;

	if (doc == NULL || list == NULL)
		goto oom;
	emu_store_sorted(e, &keys, &n);
	for (i = 0; i < n; i++)
		if (json_array_append_new(list, json_deep_copy(json_object_get(e->res, keys[i]))) != 0)
			goto oom;
	if (e->oom || rgs_append(e, list) != 0)
		goto oom;
	json_object_set_new(doc, "resources", list);
	json_object_set_new(doc, "observed", json_deep_copy(e->observed));
	return doc;
oom:
	json_decref(doc);
	json_decref(list);
	return NULL;
}

int
emu_store_routes(struct emulator *e, struct topology **t, struct routes_ctx **rctx,
    struct nw_err *err)
{
	int rc;

	if (e->topo_valid && e->topo_gen == e->gen) {
		*t = e->topo;
		*rctx = e->rctx;
		return 0;
	}
	routes_ctx_free(e->rctx);
	topology_free(e->topo);
	e->rctx = NULL;
	e->topo = NULL;
	e->topo_valid = false;
	rc = topology_load_json(&e->topo, emu_store_doc(e), "<emulator state>", err);
	if (rc == 0)
		rc = routes_ctx_new(&e->rctx, e->topo, err);
	if (rc != 0) {
		routes_ctx_free(e->rctx);
		topology_free(e->topo);
		e->rctx = NULL;
		e->topo = NULL;
		return rc;
	}
	e->topo_gen = e->gen;
	e->topo_valid = true;
	*t = e->topo;
	*rctx = e->rctx;
	return 0;
}

void
emu_store_free(struct emulator *e)
{
	routes_ctx_free(e->rctx);
	topology_free(e->topo);
	json_decref(e->res);
	json_decref(e->rgs);
	json_decref(e->doc);
	json_decref(e->observed);
	json_decref(e->subfeatures);
	json_decref(e->deploy);
	free(e->sorted);
}
