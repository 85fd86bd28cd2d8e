/*
 * The topology diff (see diff.h): every difference between the current
 * and the target topology, named by resource and JSON pointer, for the
 * planner's procedures to claim.  Whatever ARM computes by itself is left
 * out, so that a target derived from a discovered topology differs only
 * where the user meant it to; everything else must show up, because an
 * unclaimed entry is what stops a plan from doing something unreviewed.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/diff.h"
#include "plan/jsonutil.h"
#include "plan/vec.h"

#define DIFF_POINTER_MAX 4096

/* Read-only or volatile keys ARM computes, ignored at any depth. */
static const char *const DIFF_IGNORED_KEYS[] = {
	"etag",
	"provisioningState",
	"resourceGuid",
	"systemData",
	"peeringSyncLevel",
	"peeringState",
	NULL,
};

/*
 * Read-only back-references and echoes, ignored only where ARM puts them
 * (resource type, then a pointer pattern in which "*" is any one token).
 */
static const struct {
	const char *type;
	const char *pattern;
} DIFF_IGNORED_PATHS[] = {
	/* what other resources say about the subnet */
	{ TYPE_VNET, "/properties/subnets/*/properties/ipConfigurations" },
	{ TYPE_VNET, "/properties/subnets/*/properties/privateEndpoints" },
	{ TYPE_VNET, "/properties/subnets/*/properties/serviceAssociationLinks" },
	{ TYPE_VNET, "/properties/subnets/*/properties/resourceNavigationLinks" },
	{ TYPE_VNET, "/properties/subnets/*/properties/ipConfigurationProfiles" },
	{ TYPE_VNET, "/properties/subnets/*/properties/purpose" },
	/* a peering's copy of the remote VNet's space: the remote VNet's own entry reports it */
	{ TYPE_VNET, "/properties/virtualNetworkPeerings/*/properties/remoteAddressSpace" },
	{ TYPE_VNET, "/properties/virtualNetworkPeerings/*/properties/remoteVirtualNetworkAddressSpace" },
	{ TYPE_VNET, "/properties/virtualNetworkPeerings/*/properties/remoteBgpCommunities" },
	{ TYPE_VNET, "/properties/virtualNetworkPeerings/*/properties/remoteVirtualNetworkEncryption" },
	{ TYPE_ROUTE_TABLE, "/properties/subnets" },
	{ TYPE_ROUTE_TABLE, "/properties/routes/*/properties/hasBgpOverride" },
	{ TYPE_PUBLIC_IP, "/properties/ipConfiguration" },
	{ TYPE_PRIVATE_ENDPOINT, "/properties/networkInterfaces" },
	{ TYPE_GATEWAY, "/properties/sku/capacity" },
	{ TYPE_STATIC_MEMBER, "/properties/region" },
	/* a route server's children listed in it, and what Azure assigns once its ipConfiguration
	 * is in RouteServerSubnet (REST VirtualHubProperties: ipConfigurations, bgpConnections and
	 * routingState are readOnly; virtualRouterIps are the subnet's addresses Azure picks) */
	{ TYPE_VIRTUAL_HUB, "/properties/ipConfigurations" },
	{ TYPE_VIRTUAL_HUB, "/properties/bgpConnections" },
	{ TYPE_VIRTUAL_HUB, "/properties/routingState" },
	{ TYPE_VIRTUAL_HUB, "/properties/virtualRouterIps" },
	{ "Microsoft.Network/networkSecurityGroups", "/properties/subnets" },
	{ "Microsoft.Network/networkSecurityGroups", "/properties/networkInterfaces" },
};

/* Arrays of named ARM children, matched by name so a reorder is not a change. */
static const char *const DIFF_NAMED_ARRAYS[] = {
	"subnets",
	"virtualNetworkPeerings",
	"routes",
	"ipConfigurations",
	NULL,
};

struct differ {
	struct diff *out;
	size_t cap;
	const char *id;
	const char *type;
	char ptr[DIFF_POINTER_MAX];
	struct nw_err *err;
};

const char *
diff_kind_name(enum diff_kind k)
{
	switch (k) {
	case DIFF_ADDED:
		return "added";
	case DIFF_REMOVED:
		return "removed";
	case DIFF_CHANGED:
		return "changed";
	}
	return "changed";
}

static bool
in_list(const char *const *list, const char *s)
{
	size_t i;

	for (i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

/* True when the pointer matches the pattern token by token ("*" = any token). */
static bool
pointer_matches(const char *ptr, const char *pat)
{
	while (*ptr != '\0' && *pat != '\0') {
		size_t lp = strcspn(ptr + 1, "/"), lq = strcspn(pat + 1, "/");

		if (*ptr != '/' || *pat != '/')
			return false;
		if (!(lq == 1 && pat[1] == '*') && (lp != lq || strncmp(ptr + 1, pat + 1, lp) != 0))
			return false;
		ptr += 1 + lp;
		pat += 1 + lq;
	}
	return *ptr == '\0' && *pat == '\0';
}

/* Should the child `key` under the current pointer be ignored? */
static bool
ignored(const struct differ *d, const char *key)
{
	char buf[DIFF_POINTER_MAX];
	size_t i;

	if (in_list(DIFF_IGNORED_KEYS, key))
		return true;
	if (d->type == NULL)
		return false;
	snprintf(buf, sizeof(buf), "%s", d->ptr);
	json_pointer_push(buf, sizeof(buf), key);
	for (i = 0; i < sizeof(DIFF_IGNORED_PATHS) / sizeof(DIFF_IGNORED_PATHS[0]); i++)
		if (strcasecmp(DIFF_IGNORED_PATHS[i].type, d->type) == 0 &&
		    pointer_matches(buf, DIFF_IGNORED_PATHS[i].pattern))
			return true;
	return false;
}

/* ARM ids compare case-insensitively wherever they appear as values. */
static bool
looks_like_id(const char *s)
{
	return strncasecmp(s, "/subscriptions/", 15) == 0;
}

/*
 * Deep equality for values compared whole: ids case-insensitively, the
 * globally ignored keys skipped inside objects, numbers by value.
 */
static bool
value_equal(const json_t *a, const json_t *b)
{
	const char *key;
	json_t *v;

	if (a == b)
		return true;
	if (a == NULL || b == NULL)
		return false;
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	if (json_typeof(a) != json_typeof(b))
		return false;
	switch (json_typeof(a)) {
	case JSON_STRING: {
		const char *sa = json_string_value(a), *sb = json_string_value(b);
		if (json_string_length(a) != json_string_length(b))
			return false;
		if (looks_like_id(sa) && looks_like_id(sb))
			return strcasecmp(sa, sb) == 0;
		return memcmp(sa, sb, json_string_length(a)) == 0;
	}
	case JSON_ARRAY:
		return json_array_equal_by(a, b, value_equal);
	case JSON_OBJECT:
		json_object_foreach((json_t *)a, key, v) {
			if (in_list(DIFF_IGNORED_KEYS, key))
				continue;
			if (!value_equal(v, json_object_get(b, key)))
				return false;
		}
		json_object_foreach((json_t *)b, key, v) {
			if (in_list(DIFF_IGNORED_KEYS, key))
				continue;
			if (json_object_get(a, key) == NULL)
				return false;
		}
		return true;
	default:
		return json_equal(a, b) != 0;
	}
}

static int
emit(struct differ *d, enum diff_kind kind, json_t *before, json_t *after)
{
	struct diff_entry *e;

	if (VEC_GROW(d->out->v, &d->cap, d->out->n + 1) != 0)
		return err_set(d->err, NW_ENOMEM, "out of memory computing the diff");
	e = &d->out->v[d->out->n];
	memset(e, 0, sizeof(*e));
	e->pointer = strdup(d->ptr);
	if (e->pointer == NULL)
		return err_set(d->err, NW_ENOMEM, "out of memory computing the diff");
	e->kind = kind;
	e->resource_id = d->id;
	e->type = d->type != NULL ? d->type : "observed";
	e->before = before;
	e->after = after;
	d->out->n++;
	return 0;
}

static int compare(struct differ *d, json_t *before, json_t *after, const char *key);

/*
 * The difference at child key of d->ptr (key NULL: element i): added when
 * there is no before, removed when there is no after, else compared.
 */
static int
compare_at(struct differ *d, const char *key, size_t i, json_t *before, json_t *after)
{
	size_t len = strlen(d->ptr);
	int rc;

	if (key != NULL)
		json_pointer_push(d->ptr, sizeof(d->ptr), key);
	else
		json_pointer_push_index(d->ptr, sizeof(d->ptr), i);
	if (before == NULL)
		rc = emit(d, DIFF_ADDED, NULL, after);
	else if (after == NULL)
		rc = emit(d, DIFF_REMOVED, before, NULL);
	else
		rc = compare(d, before, after, key);
	d->ptr[len] = '\0';
	return rc;
}

/* Every element has a string name, unique case-insensitively. */
static bool
named_children(const json_t *arr)
{
	size_t i, j, n = json_array_size(arr);

	for (i = 0; i < n; i++) {
		const char *a = json_str(json_array_get(arr, i), "name");
		if (a == NULL)
			return false;
		for (j = 0; j < i; j++)
			if (strcasecmp(a, json_str(json_array_get(arr, j), "name")) == 0)
				return false;
	}
	return true;
}

static json_t *
child_named(const json_t *arr, const char *name, size_t *index)
{
	size_t i;

	for (i = 0; i < json_array_size(arr); i++) {
		const char *n = json_str(json_array_get(arr, i), "name");
		if (n != NULL && strcasecmp(n, name) == 0) {
			*index = i;
			return json_array_get(arr, i);
		}
	}
	return NULL;
}

static int
compare_named(struct differ *d, json_t *before, json_t *after)
{
	size_t i, j;
	json_t *v, *w;
	int rc;

	json_array_foreach(after, i, w) {
		if ((rc = compare_at(d, NULL, i, child_named(before, json_str(w, "name"), &j), w)) != 0)
			return rc;
	}
	json_array_foreach(before, i, v) {
		if (child_named(after, json_str(v, "name"), &j) == NULL && (rc = compare_at(d, NULL, i, v, NULL)) != 0)
			return rc;
	}
	return 0;
}

/* Compares two values at d->ptr; key is the member name they sit under (NULL in arrays). */
static int
compare(struct differ *d, json_t *before, json_t *after, const char *key)
{
	const char *k;
	json_t *v;
	int rc;

	/* the target shares what the intent left alone with the current: nothing to walk */
	if (before == after)
		return 0;
	if (json_is_object(before) && json_is_object(after)) {
		json_object_foreach(after, k, v) {
			if (!ignored(d, k) && (rc = compare_at(d, k, 0, json_object_get(before, k), v)) != 0)
				return rc;
		}
		json_object_foreach(before, k, v) {
			if (json_object_get(after, k) == NULL && !ignored(d, k) &&
			    (rc = compare_at(d, k, 0, v, NULL)) != 0)
				return rc;
		}
		return 0;
	}
	if (key != NULL && json_is_array(before) && json_is_array(after) &&
	    in_list(DIFF_NAMED_ARRAYS, key) && named_children(before) && named_children(after))
		return compare_named(d, before, after);
	/* ARM names, types and regions, like ids, keep their casing but compare without it */
	if (key != NULL && json_is_string(before) && json_is_string(after) &&
	    (strcmp(key, "name") == 0 || strcmp(key, "type") == 0 || strcmp(key, "location") == 0) &&
	    topo_location_equal(json_string_value(before), json_string_value(after)))
		return 0;
	if (value_equal(before, after))
		return 0;
	return emit(d, DIFF_CHANGED, before, after);
}

/* ---- observed ---- */

static json_t *
get_ci(const json_t *obj, const char *key, const char **found)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v) {
		if (strcasecmp(k, key) == 0) {
			if (found != NULL)
				*found = k;
			return v;
		}
	}
	return NULL;
}

/* Every id of a is in b (case-insensitively). */
static bool
id_subset(const json_t *a, const json_t *b)
{
	size_t i, j, na = json_array_size(a), nb = json_array_size(b);

	for (i = 0; i < na; i++) {
		const char *s = json_string_value(json_array_get(a, i));
		bool found = false;
		for (j = 0; j < nb && !found; j++) {
			const char *t = json_string_value(json_array_get(b, j));
			found = s != NULL && t != NULL && strcasecmp(s, t) == 0;
		}
		if (!found)
			return false;
	}
	return true;
}

/* Two configuration lists hold the same ids (as sets, case-insensitively). */
static bool
id_set_equal(const json_t *a, const json_t *b)
{
	return id_subset(a, b) && id_subset(b, a);
}

static bool
empty_list(const json_t *v)
{
	return v == NULL || (json_is_array(v) && json_array_size(v) == 0);
}

static int
compare_deployment(struct differ *d, json_t *before, json_t *after)
{
	if (empty_list(before) && empty_list(after))
		return 0;
	if (empty_list(before))
		return emit(d, DIFF_ADDED, before, after);
	if (empty_list(after))
		return emit(d, DIFF_REMOVED, before, after);
	if (json_is_array(before) && json_is_array(after) && id_set_equal(before, after))
		return 0;
	if (!json_is_array(before) || !json_is_array(after))
		return value_equal(before, after) ? 0 : emit(d, DIFF_CHANGED, before, after);
	return emit(d, DIFF_CHANGED, before, after);
}

/*
 * One level of avnmDeployments (manager, region, type): keys matched
 * case-insensitively, the target's spelling in the pointer when it has one.
 */
static int
compare_deployments(struct differ *d, json_t *before, json_t *after, int depth)
{
	size_t len = strlen(d->ptr);
	const char *k;
	json_t *v;
	int rc;

	if (depth == 3)
		return compare_deployment(d, before, after);
	if (!json_is_object(before))
		before = NULL;
	if (!json_is_object(after))
		after = NULL;
	if (after != NULL) {
		json_object_foreach(after, k, v) {
			json_pointer_push(d->ptr, sizeof(d->ptr), k);
			rc = compare_deployments(d, before != NULL ? get_ci(before, k, NULL) : NULL, v,
			    depth + 1);
			d->ptr[len] = '\0';
			if (rc != 0)
				return rc;
		}
	}
	if (before != NULL) {
		json_object_foreach(before, k, v) {
			if (after != NULL && get_ci(after, k, NULL) != NULL)
				continue;
			json_pointer_push(d->ptr, sizeof(d->ptr), k);
			rc = compare_deployments(d, v, NULL, depth + 1);
			d->ptr[len] = '\0';
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

static int
compare_observed(struct differ *d, const struct topology *cur, const struct topology *tgt)
{
	json_t *fb = json_path(cur->root, "observed", "features", NULL);
	json_t *fa = json_path(tgt->root, "observed", "features", NULL);
	json_t *none = NULL;
	int rc = 0;

	d->id = "observed";
	d->type = NULL;
	snprintf(d->ptr, sizeof(d->ptr), "/observed/features");
	if (json_is_object(fb) || json_is_object(fa)) {
		/* an absent features object is an empty one: entries borrow only its members */
		if ((!json_is_object(fb) || !json_is_object(fa)) && (none = json_object()) == NULL)
			return err_set(d->err, NW_ENOMEM, "out of memory computing the diff");
		rc = compare(d, json_is_object(fb) ? fb : none, json_is_object(fa) ? fa : none, NULL);
		json_decref(none);
		if (rc != 0)
			return rc;
	}
	snprintf(d->ptr, sizeof(d->ptr), "/observed/avnmDeployments");
	return compare_deployments(d, json_path(cur->root, "observed", "avnmDeployments", NULL),
	    json_path(tgt->root, "observed", "avnmDeployments", NULL), 0);
}

/* ---- order ---- */

/* Pointers compare token by token, numbers by value, so /subnets/2 < /subnets/10. */
static int
pointer_compare(const char *a, const char *b)
{
	while (*a != '\0' && *b != '\0') {
		size_t la = strcspn(a + 1, "/"), lb = strcspn(b + 1, "/");
		bool na = la > 0 && strspn(a + 1, "0123456789") >= la;
		bool nb = lb > 0 && strspn(b + 1, "0123456789") >= lb;
		int c;

		if (na && nb && la != lb)
			return la < lb ? -1 : 1;
		c = strncmp(a + 1, b + 1, la < lb ? la : lb);
		if (c != 0)
			return c;
		if (la != lb)
			return la < lb ? -1 : 1;
		a += 1 + la;
		b += 1 + lb;
	}
	return (*a != '\0') - (*b != '\0');
}

static int
entry_compare(const void *pa, const void *pb)
{
	const struct diff_entry *a = pa, *b = pb;
	int c = topo_id_order(a->resource_id, b->resource_id);

	if (c == 0)
		c = pointer_compare(a->pointer, b->pointer);
	if (c == 0)
		c = (int)a->kind - (int)b->kind;
	return c;
}

int
diff_topologies(struct diff *out, const struct topology *cur, const struct topology *tgt,
    struct nw_err *err)
{
	struct differ d;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&d, 0, sizeof(d));
	d.out = out;
	d.err = err;
	for (i = 0; i < tgt->nres; i++) {
		const struct topo_resource *r = &tgt->res[i];
		const struct topo_resource *c;

		/* a resource the target shares with the current, in its place: no difference */
		if (i < cur->nres && cur->res[i].json == r->json)
			continue;
		c = topology_find(cur, r->id);
		d.id = r->id;
		d.type = r->type_name;
		d.ptr[0] = '\0';
		rc = c == NULL ? emit(&d, DIFF_ADDED, NULL, r->json) : compare(&d, c->json, r->json, NULL);
		if (rc != 0)
			goto fail;
	}
	for (i = 0; i < cur->nres; i++) {
		const struct topo_resource *c = &cur->res[i];

		if ((i < tgt->nres && tgt->res[i].json == c->json) || topology_find(tgt, c->id) != NULL)
			continue;
		d.id = c->id;
		d.type = c->type_name;
		d.ptr[0] = '\0';
		if ((rc = emit(&d, DIFF_REMOVED, c->json, NULL)) != 0)
			goto fail;
	}
	if ((rc = compare_observed(&d, cur, tgt)) != 0)
		goto fail;
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), entry_compare);
	return 0;
fail:
	diff_free(out);
	return rc;
}

void
diff_free(struct diff *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->n; i++)
		free(d->v[i].pointer);
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

json_t *
diff_to_json(const struct diff *d)
{
	json_t *arr = json_array();
	size_t i;

	if (arr == NULL)
		return NULL;
	for (i = 0; i < d->n; i++) {
		const struct diff_entry *e = &d->v[i];
		json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "kind", diff_kind_name(e->kind),
		    "resource", e->resource_id, "type", e->type, "pointer", e->pointer);

		if (o == NULL ||
		    (e->before != NULL && json_object_set(o, "before", e->before) != 0) ||
		    (e->after != NULL && json_object_set(o, "after", e->after) != 0) ||
		    (e->claimed_by != NULL &&
			json_object_set_new(o, "claimedBy", json_string(e->claimed_by)) != 0) ||
		    json_array_append_new(arr, o) != 0) {
			json_decref(o);
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}
