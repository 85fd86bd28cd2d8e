/*
 * Child resources inside their parents (plan/topology.h).  ARM embeds
 * some resources in their parent's JSON as well as serving them at their
 * own id: a VNet's subnets and peerings, a route table's routes, a
 * network security group's rules.  A topology file holds them only
 * inside the parent, so the apply engine finds a child there, and judges
 * a parent without those arrays: each child is judged as itself, and only
 * when a step writes it.  Pure functions on JSON; no I/O.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/topology.h"

/*
 * The arrays ARM embeds (REST: Virtual Networks - Get, Route Tables - Get,
 * Network Security Groups - Get; each child is also served at its own id:
 * https://learn.microsoft.com/rest/api/virtualnetwork/subnets/get,
 * .../virtual-network-peerings/get, .../routes/get, .../security-rules/get).
 */
static const struct topo_child_kind child_kinds[] = {
	{ "virtualNetworks", "subnets", "subnets", "Microsoft.Network/virtualNetworks/subnets" },
	{ "virtualNetworks", "virtualNetworkPeerings", "virtualNetworkPeerings",
	  "Microsoft.Network/virtualNetworks/virtualNetworkPeerings" },
	{ "routeTables", "routes", "routes", "Microsoft.Network/routeTables/routes" },
	{ "networkSecurityGroups", "securityRules", "securityRules",
	  "Microsoft.Network/networkSecurityGroups/securityRules" },
};

#define NKINDS (sizeof(child_kinds) / sizeof(child_kinds[0]))

/* The start and length of the n-th segment from the end of id (0: the last); false past the start. */
static bool
segment_from_end(const char *id, size_t n, const char **start, size_t *len)
{
	size_t end = strlen(id), i;

	while (end > 0 && id[end - 1] == '/')
		end--;
	for (;;) {
		for (i = end; i > 0 && id[i - 1] != '/'; i--)
			;
		if (i == 0 || i == end)
			return false;
		if (n == 0) {
			*start = id + i;
			*len = end - i;
			return true;
		}
		n--;
		end = i - 1;
	}
}

static bool
segment_is(const char *s, size_t len, const char *want)
{
	return strlen(want) == len && strncasecmp(s, want, len) == 0;
}

const struct topo_child_kind *
topology_child_kind(const char *id, size_t *parent_len)
{
	const char *seg, *ptype, *pname;
	size_t slen, plen, nlen, i;

	if (id == NULL || !segment_from_end(id, 1, &seg, &slen) ||
	    !segment_from_end(id, 3, &ptype, &plen) || !segment_from_end(id, 2, &pname, &nlen))
		return NULL;
	for (i = 0; i < NKINDS; i++)
		if (segment_is(seg, slen, child_kinds[i].segment) &&
		    segment_is(ptype, plen, child_kinds[i].parent_type)) {
			if (parent_len != NULL)
				*parent_len = (size_t)(seg - id) - 1;
			return &child_kinds[i];
		}
	return NULL;
}

/* True when id's own type (the segment before its name) is parent_type. */
static bool
id_is_type(const char *id, const char *parent_type)
{
	const char *seg;
	size_t slen;

	return id != NULL && segment_from_end(id, 1, &seg, &slen) && segment_is(seg, slen, parent_type);
}

const json_t *
topology_child_get(const json_t *parent, const char *child_id)
{
	const struct topo_child_kind *k = topology_child_kind(child_id, NULL);
	const json_t *arr, *c;
	const char *name, *cid, *cname;
	size_t nlen, i;

	if (k == NULL || !json_is_object(parent) || !segment_from_end(child_id, 0, &name, &nlen))
		return NULL;
	arr = json_object_get(json_object_get(parent, "properties"), k->array);
	json_array_foreach(arr, i, c) {
		cid = json_string_value(json_object_get(c, "id"));
		cname = json_string_value(json_object_get(c, "name"));
		if (cid != NULL ? strcasecmp(cid, child_id) == 0 :
		    cname != NULL && segment_is(name, nlen, cname))
			return c;
	}
	return NULL;
}

int
topology_child_copy(json_t **out, const json_t *parent, const char *child_id, struct nw_err *err)
{
	const struct topo_child_kind *k = topology_child_kind(child_id, NULL);
	const json_t *c = topology_child_get(parent, child_id);
	json_t *copy;

	*out = NULL;
	if (c == NULL)
		return 0;
	if ((copy = json_deep_copy(c)) == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	/* as ARM serves the child at its own id: with its id and type */
	if ((json_object_get(copy, "id") == NULL &&
	    json_object_set_new(copy, "id", json_string(child_id)) != 0) ||
	    (json_object_get(copy, "type") == NULL &&
	    json_object_set_new(copy, "type", json_string(k->type_name)) != 0)) {
		json_decref(copy);
		return err_set(err, NW_ENOMEM, "out of memory");
	}
	*out = copy;
	return 0;
}

int
topology_without_children(json_t **out, const char *id, const json_t *resource, struct nw_err *err)
{
	json_t *props;
	size_t i;
	bool parent = false;

	*out = NULL;
	if (id == NULL)
		id = json_string_value(json_object_get(resource, "id"));
	for (i = 0; i < NKINDS; i++)
		if (id_is_type(id, child_kinds[i].parent_type))
			parent = true;
	if (!json_is_object(resource) || !parent) {
		*out = json_incref((json_t *)resource);
		return 0;
	}
	if ((*out = json_deep_copy(resource)) == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	props = json_object_get(*out, "properties");
	for (i = 0; i < NKINDS; i++)
		if (id_is_type(id, child_kinds[i].parent_type))
			json_object_del(props, child_kinds[i].array);
	return 0;
}

int
topology_resource_view(json_t **out, const struct topology *t, const char *id, struct nw_err *err)
{
	const struct topo_resource *r;
	size_t plen = 0;
	char *parent_id;
	int rc;

	*out = NULL;
	if (t == NULL || id == NULL)
		return 1;
	if ((r = topology_find(t, id)) != NULL)
		return topology_without_children(out, id, r->json, err);
	if (topology_child_kind(id, &plen) == NULL)
		return 0;
	if ((parent_id = strndup(id, plen)) == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	r = topology_find(t, parent_id);
	free(parent_id);
	if (r == NULL)
		return 0; /* no parent, no child */
	rc = topology_child_copy(out, r->json, id, err);
	return rc;
}
