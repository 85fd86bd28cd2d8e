/*
 * Request bodies made from current resources (plan_build.h): the resource
 * as a PUT wants it, without what ARM computes.  Step bodies are built
 * from the current resource with only that step's change applied, never
 * from the whole target resource: the target is the state after every
 * wave, and a VNet PUT made from it in an early wave would already delete
 * the peerings the decommission wave removes.
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
#include "plan/plan_build.h"

/* ------------------------------------------------------------------ */
/* Wire bodies: the resource as a PUT wants it, without what ARM computes */

static const char *const READONLY_KEYS[] = {
	"etag", "provisioningState", "resourceGuid", "systemData", "peeringSyncLevel",
	"peeringState", NULL,
};

/* Read-only back-references inside a subnet's properties. */
static const char *const SUBNET_READONLY[] = {
	"ipConfigurations", "privateEndpoints", "serviceAssociationLinks", "resourceNavigationLinks",
	"ipConfigurationProfiles", "purpose", NULL,
};

/*
 * v without read-only keys (new reference).  Subtrees that have none are
 * shared, not copied: a plan for thousands of VNets carries their bodies
 * twice (operation and inverse), and sharing keeps that affordable.  The
 * result must therefore never be modified below the levels wire_body and
 * subnet_body copy on purpose.  extra names more keys of v to drop, keep
 * keys of v whose values are taken as they are, not walked: the caller
 * puts values of its own there.
 */
static json_t *
strip_cow(json_t *v, const char *const *extra, const char *const *keep)
{
	const char *k;
	json_t *x, *out = NULL;
	size_t i, n;

	if (json_is_object(v)) {
		json_object_foreach(v, k, x) {
			json_t *c = NULL;
			bool drop = plan_str_in(k, READONLY_KEYS) || (extra != NULL && plan_str_in(k, extra));

			if (!drop) {
				c = keep != NULL && plan_str_in(k, keep) ? json_incref(x) : strip_cow(x, NULL, NULL);
				if (c == NULL) {
					json_decref(out);
					return NULL;
				}
			}
			if (out == NULL && (drop || c != x)) {
				/* first difference: copy what came before */
				const char *k2;
				json_t *x2;

				out = json_object();
				if (out == NULL) {
					json_decref(c);
					return NULL;
				}
				json_object_foreach(v, k2, x2) {
					if (k2 == k)
						break;
					if (!plan_str_in(k2, READONLY_KEYS) && !(extra != NULL && plan_str_in(k2, extra)))
						json_object_set(out, k2, x2);
				}
			}
			if (out != NULL && !drop)
				json_object_set(out, k, c);
			json_decref(c);
		}
		return out != NULL ? out : json_incref(v);
	}
	if (json_is_array(v)) {
		n = json_array_size(v);
		for (i = 0; i < n; i++) {
			json_t *c = strip_cow(json_array_get(v, i), NULL, NULL);

			if (c == NULL) {
				json_decref(out);
				return NULL;
			}
			if (out == NULL && c != json_array_get(v, i)) {
				size_t j;
				out = json_array();
				if (out == NULL) {
					json_decref(c);
					return NULL;
				}
				for (j = 0; j < i; j++)
					json_array_append(out, json_array_get(v, j));
			}
			if (out != NULL)
				json_array_append(out, c);
			json_decref(c);
		}
		return out != NULL ? out : json_incref(v);
	}
	return json_incref(v);
}

/*
 * A fresh object holding the stripped members of obj (so callers may set
 * keys on it); extra and keep as strip_cow's.  When strip_cow left
 * something out, what it returns is already a new object of its own.
 */
static json_t *
plan_fresh_object(json_t *obj, const char *const *extra, const char *const *keep)
{
	json_t *s = strip_cow(obj, extra, keep), *out;

	if (s == NULL || s != obj)
		return s;
	out = json_copy(s); /* shallow: a new object whatever strip_cow shared */
	json_decref(s);
	return out;
}

/* The members whose values a body's maker replaces with fresh ones of its own. */
static const char *const KEEP_PROPERTIES[] = { "properties", NULL };
static const char *const KEEP_SUBNETS[] = { "subnets", NULL };

/* A subnet object as it goes inside a VNet or subnet PUT; it and its properties are fresh. */
static json_t *
subnet_wire(json_t *subnet)
{
	json_t *sn, *p = json_object_get(subnet, "properties");

	/* the properties are stripped once, below, with the subnet's own read-only keys */
	sn = plan_fresh_object(subnet, NULL, json_is_object(p) ? KEEP_PROPERTIES : NULL);
	if (sn == NULL)
		return NULL;
	if (json_is_object(p)) {
		json_t *fp = plan_fresh_object(p, SUBNET_READONLY, NULL);
		if (fp == NULL) {
			json_decref(sn);
			return NULL;
		}
		json_object_set_new(sn, "properties", fp);
	}
	return sn;
}

/*
 * The PUT body of a resource (new reference): location, tags, sku, zones,
 * identity, extendedLocation and properties, read-only fields removed.
 * The body and its properties object are fresh, and so are a VNet's
 * subnets array, each subnet and its properties; deeper levels may be
 * shared with the topology.
 */
json_t *
plan_wire_body(const json_t *res)
{
	static const char *const keep[] = {
		"location", "tags", "sku", "zones", "identity", "extendedLocation", NULL,
	};
	json_t *body = json_object(), *p, *fp, *arr, *x;
	size_t i;

	if (body == NULL)
		return NULL;
	for (i = 0; keep[i] != NULL; i++) {
		json_t *v = json_object_get(res, keep[i]);
		if (v != NULL)
			json_object_set_new(body, keep[i], strip_cow(v, NULL, NULL));
	}
	p = json_object_get(res, "properties");
	if (!json_is_object(p))
		return body;
	/* a VNet's subnets are made below and a route table's dropped: neither is walked here */
	fp = plan_fresh_object(p, NULL, json_object_get(p, "routes") != NULL ||
	    json_is_array(json_object_get(p, "subnets")) ? KEEP_SUBNETS : NULL);
	if (fp == NULL) {
		json_decref(body);
		return NULL;
	}
	json_object_set_new(body, "properties", fp);
	if (json_object_get(p, "routes") != NULL) {
		json_object_del(fp, "subnets"); /* a route table's back-references */
	} else if (json_is_array((arr = json_object_get(p, "subnets")))) {
		json_t *na = json_array();
		json_array_foreach(arr, i, x)
			json_array_append_new(na, subnet_wire(x));
		json_object_set_new(fp, "subnets", na);
	}
	return body;
}

/*
 * Another body like b (made by wire_body or subnet_body), new at the levels
 * those make new and sharing the levels below, which neither may modify:
 * an operation and its inverse often put the same resource, and building
 * the body twice walks and copies it twice.
 */
json_t *
plan_body_dup(const json_t *b)
{
	json_t *out = json_copy((json_t *)b), *props, *subnets, *na, *sn, *x;
	size_t i;

	if (out == NULL)
		return NULL;
	props = json_object_get(out, "properties");
	if (!json_is_object(props))
		return out;
	if ((props = json_copy(props)) == NULL || json_object_set_new(out, "properties", props) != 0)
		goto fail;
	subnets = json_object_get(props, "subnets");
	if (!json_is_array(subnets))
		return out;
	if ((na = json_array()) == NULL || json_object_set_new(props, "subnets", na) != 0)
		goto fail;
	json_array_foreach(subnets, i, x) {
		if ((sn = json_copy(x)) == NULL || json_array_append_new(na, sn) != 0)
			goto fail;
		if (json_is_object(json_object_get(sn, "properties")) &&
		    json_object_set_new(sn, "properties", json_copy(json_object_get(sn, "properties"))) != 0)
			goto fail;
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* A subnet on its own, as a subnet PUT wants it */

json_t *
plan_subnet_body(const json_t *subnet)
{
	json_t *b = json_object(), *p = json_object_get(subnet, "properties");

	if (b == NULL)
		return NULL;
	if (json_is_object(p))
		json_object_set_new(b, "properties", plan_fresh_object(p, SUBNET_READONLY, NULL));
	return b;
}
