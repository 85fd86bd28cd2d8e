/*
 * The topology's "observed" part (plan/topology_impl.h): what ARM tells only
 * through actions and queries: circuit route tables, feature registration
 * states, AVNM deployments.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/jsonutil.h"
#include "plan/topology_impl.h"

/* ------------------------------------------------------------------ */
/* The document: top level and observed                                */

static int
load_circuit_routes(struct loader *l, json_t *routes)
{
	const char *key;
	json_t *arr, *obj;
	size_t old, old2, old3, i;
	int rc;

	old = tl_ptr_push(l, "circuitRoutes");
	json_object_foreach(routes, key, arr) {
		struct topo_resource *r = topology_find(l->t, key);
		struct topo_circuit *c = r != NULL && r->type == TOPO_CIRCUIT ? r->view : NULL;

		old2 = tl_ptr_push(l, key);
		if (!json_is_array(arr))
			return tl_fail(l, "expected an array of routes, found %s", tl_kind_name(arr));
		if (c != NULL && c->routes_observed)
			return tl_fail(l, "routes for circuit \"%s\" are given twice (ids are compared "
			    "ignoring case)", key);
		if (c != NULL && json_array_size(arr) > 0) {
			c->routes = tl_arena_alloc(l->arena, json_array_size(arr) * sizeof(*c->routes));
			if (c->routes == NULL)
				return tl_fail_nomem(l);
		}
		json_array_foreach(arr, i, obj) {
			struct topo_circuit_route tmp = { 0 }, *cr = c != NULL ? &c->routes[i] : &tmp;
			json_t *net;

			old3 = tl_ptr_push_index(l, i);
			if (!json_is_object(obj))
				return tl_fail(l, "expected a route object, found %s", tl_kind_name(obj));
			net = tl_field(obj, "network");
			if (net == NULL)
				return tl_fail(l, "route has no \"network\"");
			tl_ptr_push(l, "network");
			if ((rc = tl_parse_prefix(l, net, &cr->prefix)) != 0)
				return rc;
			tl_ptr_pop(l, old3);
			tl_ptr_push_index(l, i);
			if ((rc = tl_get_string(l, obj, "nextHop", false, &cr->next_hop)) != 0 ||
			    (rc = tl_get_string(l, obj, "path", false, &cr->path)) != 0)
				return rc;
			tl_ptr_pop(l, old3);
		}
		if (c != NULL) {
			c->nroutes = json_array_size(arr);
			c->routes_observed = true;
		} else if ((rc = tl_warn(l, NULL, r == NULL ? "circuit \"%s\" is not in the file" :
		    "\"%s\" is not an ExpressRoute circuit", key)) != 0) {
			return rc;
		}
		tl_ptr_pop(l, old2);
	}
	tl_ptr_pop(l, old);
	return 0;
}

static int
load_features(struct loader *l, json_t *features)
{
	const char *key;
	json_t *v;
	int rc = 0;

	json_object_foreach(features, key, v) {
		if (!json_is_string(v)) {
			size_t old = tl_ptr_push(l, "features");
			rc = tl_fail_at(l, key, "feature state must be a string such as \"Registered\", "
			    "found %s", tl_kind_name(v));
			tl_ptr_pop(l, old);
			return rc;
		}
	}
	return 0;
}

static int
cmp_deployment(const void *a, const void *b)
{
	const struct topo_deployment *x = a, *y = b;
	int c = topo_id_order(x->manager_id, y->manager_id);

	if (c == 0)
		c = strcmp(x->region, y->region);
	if (c == 0)
		c = strcmp(x->config_type, y->config_type);
	return c;
}

static int
load_deployments(struct loader *l, json_t *deps)
{
	struct topology *t = l->t;
	const char *mid, *region, *type;
	json_t *regions, *types, *ids, *v;
	size_t n = 0, old, o1, o2, o3, o4, k;
	int rc;

	old = tl_ptr_push(l, "avnmDeployments");
	/* Count and check the shape first, so the array is allocated once. */
	json_object_foreach(deps, mid, regions) {
		o1 = tl_ptr_push(l, mid);
		if (!json_is_object(regions))
			return tl_fail(l, "expected an object of regions, found %s", tl_kind_name(regions));
		json_object_foreach(regions, region, types) {
			o2 = tl_ptr_push(l, region);
			if (!json_is_object(types))
				return tl_fail(l, "expected an object of configuration types, found %s",
				    tl_kind_name(types));
			json_object_foreach(types, type, ids) {
				o3 = tl_ptr_push(l, type);
				if (!json_is_array(ids))
					return tl_fail(l, "expected an array of configuration ids, found %s",
					    tl_kind_name(ids));
				json_array_foreach(ids, k, v) {
					if (!json_is_string(v)) {
						tl_ptr_push_index(l, k);
						return tl_fail(l, "expected a configuration id string, found %s",
						    tl_kind_name(v));
					}
				}
				n++;
				tl_ptr_pop(l, o3);
			}
			tl_ptr_pop(l, o2);
		}
		tl_ptr_pop(l, o1);
	}
	if (n > 0 && (t->deployments = tl_arena_alloc(l->arena, n * sizeof(*t->deployments))) == NULL)
		return tl_fail_nomem(l);

	json_object_foreach(deps, mid, regions) {
		struct topo_resource *mr = topology_find(t, mid);
		struct topo_network_manager *m = mr != NULL && mr->type == TOPO_NETWORK_MANAGER ?
		    mr->view : NULL;

		o1 = tl_ptr_push(l, mid);
		if (m == NULL && (rc = tl_warn(l, NULL, mr == NULL ?
		    "network manager \"%s\" is not in the file" :
		    "\"%s\" is not a network manager", mid)) != 0)
			return rc;
		json_object_foreach(regions, region, types) {
			o2 = tl_ptr_push(l, region);
			json_object_foreach(types, type, ids) {
				struct topo_deployment *d = &t->deployments[t->ndeployments++];
				size_t nids = json_array_size(ids);

				o3 = tl_ptr_push(l, type);
				d->manager_id = mid;
				d->manager = m;
				d->region = region;
				d->config_type = type;
				if (nids > 0) {
					d->config_ids = tl_arena_alloc(l->arena, nids * sizeof(*d->config_ids));
					d->configs = tl_arena_alloc(l->arena, nids * sizeof(*d->configs));
					if (d->config_ids == NULL || d->configs == NULL)
						return tl_fail_nomem(l);
				}
				d->nconfigs = nids;
				json_array_foreach(ids, k, v) {
					struct topo_resource *cr = topology_find(t, json_string_value(v));

					d->config_ids[k] = json_string_value(v);
					if (cr != NULL && cr->type == TOPO_CONNECTIVITY_CONFIG) {
						d->configs[k] = cr->view;
						continue;
					}
					o4 = tl_ptr_push_index(l, k);
					/* A deployed configuration of another kind (security admin,
					 * routing) is a resource netwave does not type: only a
					 * missing one is worth a warning. */
					rc = cr == NULL ? tl_warn(l, NULL, "configuration \"%s\" is not in the file",
					    d->config_ids[k]) : 0;
					tl_ptr_pop(l, o4);
					if (rc != 0)
						return rc;
				}
				tl_ptr_pop(l, o3);
			}
			tl_ptr_pop(l, o2);
		}
		tl_ptr_pop(l, o1);
	}
	/* Keys are in file order; sorted, two files that differ only in order agree. */
	if (t->ndeployments > 1)
		qsort(t->deployments, t->ndeployments, sizeof(*t->deployments), cmp_deployment);
	tl_ptr_pop(l, old);
	return 0;
}

int
tl_load_observed(struct loader *l)
{
	json_t *observed, *v;
	size_t old;
	int rc;

	if ((rc = tl_get_object(l, l->t->root, "observed", &observed)) != 0 || observed == NULL)
		return rc;
	old = tl_ptr_push(l, "observed");
	if ((rc = tl_get_object(l, observed, "circuitRoutes", &v)) != 0)
		return rc;
	if (v != NULL && (rc = load_circuit_routes(l, v)) != 0)
		return rc;
	if ((rc = tl_get_object(l, observed, "features", &v)) != 0)
		return rc;
	if (v != NULL && (rc = load_features(l, v)) != 0)
		return rc;
	if ((rc = tl_get_object(l, observed, "avnmDeployments", &v)) != 0)
		return rc;
	if (v != NULL && (rc = load_deployments(l, v)) != 0)
		return rc;
	tl_ptr_pop(l, old);
	return 0;
}
