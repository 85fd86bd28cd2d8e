/*
 * Resource groups in the estate (rgroups.h).  A group exists when the
 * topology records it (discovery's Resource Graph `resourcecontainers` or
 * "Resource Groups - List") or holds a resource: ARM keeps no resource
 * outside an existing group.  Groups compare case-insensitively, as ARM
 * compares them.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "plan/rgroups.h"

#define TYPE_NETWORK_MANAGER "Microsoft.Network/networkManagers"

bool
rgroups_is_group_type(const char *type_name)
{
	return type_name != NULL && strcasecmp(type_name, RGROUPS_TYPE) == 0;
}

/* "sub/group" lowercase, or NULL on out of memory */
static char *
group_key(const char *sub, const char *group)
{
	size_t n = strlen(sub) + strlen(group) + 2, i;
	char *k = malloc(n);

	if (k == NULL)
		return NULL;
	snprintf(k, n, "%s/%s", sub, group);
	for (i = 0; k[i] != '\0'; i++)
		if (k[i] >= 'A' && k[i] <= 'Z')
			k[i] = (char)(k[i] - 'A' + 'a');
	return k;
}

/* The subscription and group of an id "/subscriptions/S/resourceGroups/G[/...]", copied to bufs. */
static bool
id_scope(const char *id, char *sub, size_t ssize, char *group, size_t gsize)
{
	const char *s, *g, *end;

	if (id == NULL || strncasecmp(id, "/subscriptions/", 15) != 0)
		return false;
	s = id + 15;
	end = strchr(s, '/');
	if (end == NULL || (size_t)(end - s) >= ssize || end == s ||
	    strncasecmp(end, "/resourceGroups/", 16) != 0)
		return false;
	memcpy(sub, s, (size_t)(end - s));
	sub[end - s] = '\0';
	g = end + 16;
	end = strchr(g, '/');
	if (end == NULL)
		end = g + strlen(g);
	if (end == g || (size_t)(end - g) >= gsize)
		return false;
	memcpy(group, g, (size_t)(end - g));
	group[end - g] = '\0';
	return true;
}

bool
rgroups_exists(const struct topology *t, const char *subscription, const char *group)
{
	size_t i;

	for (i = 0; i < t->nres; i++) {
		const struct topo_resource *r = &t->res[i];
		if (r->subscription != NULL && r->resource_group != NULL &&
		    strcasecmp(r->subscription, subscription) == 0 &&
		    strcasecmp(r->resource_group, group) == 0)
			return true;
	}
	return false;
}

/* lowercase "sub/group" -> true for every group t has */
static json_t *
known_groups(const struct topology *t)
{
	json_t *set = json_object();
	size_t i;

	for (i = 0; set != NULL && i < t->nres; i++) {
		const struct topo_resource *r = &t->res[i];
		char *k;

		if (r->subscription == NULL || r->resource_group == NULL)
			continue;
		if ((k = group_key(r->subscription, r->resource_group)) == NULL ||
		    json_object_set_new(set, k, json_true()) != 0) {
			free(k);
			json_decref(set);
			return NULL;
		}
		free(k);
	}
	return set;
}

/* Records into want (key -> {id, subscription, resourceGroup, location, rank}) a group a resource needs. */
static int
want_group(json_t *want, const json_t *known, const char *id, const char *type, const char *loc)
{
	char sub[256], group[256], gid[600];
	char *k;
	json_t *w;
	int rank = rgroups_is_group_type(type) ? 3 :
	    type != NULL && strcasecmp(type, TYPE_NETWORK_MANAGER) == 0 ? 2 : 1;
	int rc = 0;

	if (!id_scope(id, sub, sizeof(sub), group, sizeof(group)))
		return 0;
	if ((k = group_key(sub, group)) == NULL)
		return NW_ENOMEM;
	if (json_object_get(known, k) != NULL)
		goto done;
	w = json_object_get(want, k);
	if (w == NULL) {
		snprintf(gid, sizeof(gid), "/subscriptions/%s/resourceGroups/%s", sub, group);
		w = json_pack("{s:s, s:s, s:s, s:i}", "id", gid, "subscription", sub, "resourceGroup",
		    group, "rank", 0);
		if (w == NULL || json_object_set_new(want, k, w) != 0) {
			rc = NW_ENOMEM;
			goto done;
		}
	}
	/* the group's own record, then its network manager, then the first resource */
	if (loc != NULL && rank > json_integer_value(json_object_get(w, "rank"))) {
		json_object_set_new(w, "location", json_string(loc));
		json_object_set_new(w, "rank", json_integer(rank));
	}
done:
	free(k);
	return rc;
}

static int
cmp_id(const void *a, const void *b)
{
	return strcasecmp(json_str(*(json_t *const *)a, "id"), json_str(*(json_t *const *)b, "id"));
}

/* want's values as a new array sorted by id, without the ranks */
static json_t *
sorted_values(json_t *want)
{
	size_t n = json_object_size(want), i = 0;
	json_t **v = malloc((n + 1) * sizeof(*v)), *arr = json_array(), *x;
	const char *k;

	if (v == NULL || arr == NULL) {
		free(v);
		json_decref(arr);
		return NULL;
	}
	json_object_foreach(want, k, x) {
		json_object_del(x, "rank");
		v[i++] = x;
	}
	qsort(v, n, sizeof(*v), cmp_id);
	for (i = 0; i < n; i++)
		json_array_append(arr, v[i]);
	free(v);
	return arr;
}

int
rgroups_missing(json_t **out, const struct topology *cur, const struct topology *tgt,
    struct nw_err *err)
{
	json_t *known = known_groups(cur), *want = json_object();
	size_t i;
	int rc = 0;

	*out = NULL;
	if (known == NULL || want == NULL) {
		rc = NW_ENOMEM;
		goto done;
	}
	/* resources sit in id order in a loaded topology only when canonical: sort after */
	for (i = 0; i < tgt->nres && rc == 0; i++) {
		const struct topo_resource *r = &tgt->res[i];
		rc = want_group(want, known, r->id, r->type_name, r->location);
	}
	if (rc == 0 && (*out = sorted_values(want)) == NULL)
		rc = NW_ENOMEM;
done:
	json_decref(known);
	json_decref(want);
	return rc == 0 ? 0 : err_set(err, NW_ENOMEM, "out of memory while listing resource groups");
}

int
rgroups_predict(json_t *resources, const struct topology *cur, struct nw_err *err)
{
	json_t *known = known_groups(cur), *want = json_object(), *list = NULL, *r, *g;
	size_t i;
	int rc = 0;

	if (known == NULL || want == NULL) {
		rc = NW_ENOMEM;
		goto done;
	}
	json_array_foreach(resources, i, r) {
		if (rgroups_is_group_type(json_str(r, "type"))) {
			/* recorded already: no prediction for it */
			char sub[256], group[256], *k;
			if (!id_scope(json_str(r, "id"), sub, sizeof(sub), group, sizeof(group)))
				continue;
			if ((k = group_key(sub, group)) == NULL ||
			    json_object_set_new(known, k, json_true()) != 0) {
				free(k);
				rc = NW_ENOMEM;
				goto done;
			}
			free(k);
		}
	}
	json_array_foreach(resources, i, r)
		if (rc == 0)
			rc = want_group(want, known, json_str(r, "id"), json_str(r, "type"),
			    json_str(r, "location"));
	if (rc != 0 || (list = sorted_values(want)) == NULL) {
		rc = NW_ENOMEM;
		goto done;
	}
	json_array_foreach(list, i, g) {
		/* as "Resource Groups - Get" answers for a group made by Create Or Update */
		json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:{s:s}}", "id", json_str(g, "id"),
		    "name", json_str(g, "resourceGroup"), "type", RGROUPS_TYPE,
		    "location", json_str(g, "location") != NULL ? json_str(g, "location") : "global",
		    "properties", "provisioningState", "Succeeded");
		if (rec == NULL || json_array_append_new(resources, rec) != 0) {
			rc = NW_ENOMEM;
			goto done;
		}
	}
done:
	json_decref(known);
	json_decref(want);
	json_decref(list);
	return rc == 0 ? 0 : err_set(err, NW_ENOMEM, "out of memory while predicting resource groups");
}
