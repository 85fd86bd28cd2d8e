/*
 * Virtual network peerings as ARM keeps them: peeringState (Initiated,
 * Connected, Disconnected) from whether the remote VNet peers back,
 * peeringSyncLevel from whether each side's copy of the other's address
 * space is current, and syncRemoteAddressSpace; and a stored resource as
 * ARM writes it on the wire.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "plan/topology.h"
#include "providers/emulator/arm.h"

static bool
same_space(const json_t *a, const json_t *b)
{
	json_t *pa = json_object_get(a, "addressPrefixes"), *pb = json_object_get(b, "addressPrefixes");

	if (pa == NULL)
		pa = json_array();
	else
		json_incref(pa);
	if (pb == NULL)
		pb = json_array();
	else
		json_incref(pb);
	{
		bool eq = json_equal(pa, pb);
		json_decref(pa);
		json_decref(pb);
		return eq;
	}
}

static json_t *
find_back_peering(json_t *remote, const char *local_id)
{
	json_t *list = json_path(remote, "properties", "virtualNetworkPeerings", NULL), *q;
	size_t i;

	json_array_foreach(list, i, q) {
		const char *rid = json_path_str(q, "properties", "remoteVirtualNetwork", "id", NULL);
		if (rid != NULL && strcasecmp(rid, local_id) == 0)
			return q;
	}
	return NULL;
}

static void
set_remote_space(json_t *peering, const json_t *space)
{
	json_t *props = json_object_get(peering, "properties");
	json_t *copy = json_is_object(space) ? json_pack("{s:O}", "addressPrefixes",
	    json_object_get(space, "addressPrefixes") != NULL ?
	    json_object_get(space, "addressPrefixes") : json_array()) :
	    json_pack("{s:[]}", "addressPrefixes");

	json_object_set(props, "remoteAddressSpace", copy);
	json_object_set_new(props, "remoteVirtualNetworkAddressSpace", copy);
}

static bool
set_str(json_t *obj, const char *key, const char *v)
{
	const char *old = json_str(obj, key);

	if (old != NULL && strcmp(old, v) == 0)
		return false;
	json_object_set_new(obj, key, json_string(v));
	return true;
}

/* Brings one peering's state and sync level up to date; true when it changed. */
static bool
peering_update(struct emulator *e, json_t *vnet, json_t *p, bool sync)
{
	json_t *props = json_object_get(p, "properties");
	const char *rid = json_path_str(p, "properties", "remoteVirtualNetwork", "id", NULL);
	json_t *rv = rid != NULL ? emu_store_get(e, rid) : NULL;
	json_t *q = rv != NULL ? find_back_peering(rv, json_str(vnet, "id")) : NULL;
	const char *state = json_str(props, "peeringState");
	bool changed = false;
	char *before;

	if (!json_is_object(props))
		return false;
	before = json_dumps(props, JSON_SORT_KEYS | JSON_COMPACT);
	if (q != NULL) {
		json_t *lspace = json_path(vnet, "properties", "addressSpace", NULL);
		json_t *rspace = json_path(rv, "properties", "addressSpace", NULL);
		bool local_stale, remote_stale;

		/* a fresh connection, or an explicit sync, copies the remote space */
		if (sync || state == NULL || strcmp(state, "Connected") != 0 ||
		    json_object_get(props, "remoteAddressSpace") == NULL)
			set_remote_space(p, rspace);
		set_str(props, "peeringState", "Connected");
		local_stale = !same_space(json_object_get(props, "remoteAddressSpace"), rspace);
		remote_stale = json_path(q, "properties", "remoteAddressSpace", NULL) != NULL &&
		    !same_space(json_path(q, "properties", "remoteAddressSpace", NULL), lspace);
		set_str(props, "peeringSyncLevel", local_stale && remote_stale ?
		    "LocalAndRemoteNotInSync" : local_stale ? "LocalNotInSync" :
		    remote_stale ? "RemoteNotInSync" : "FullyInSync");
	} else {
		set_str(props, "peeringState", state != NULL && (strcmp(state, "Connected") == 0 ||
		    strcmp(state, "Disconnected") == 0) ? "Disconnected" : "Initiated");
		if (json_object_get(props, "peeringSyncLevel") == NULL)
			set_str(props, "peeringSyncLevel", "FullyInSync");
		if (rv != NULL && json_object_get(props, "remoteAddressSpace") == NULL)
			set_remote_space(p, json_path(rv, "properties", "addressSpace", NULL));
	}
	{
		char *after = json_dumps(props, JSON_SORT_KEYS | JSON_COMPACT);
		changed = before == NULL || after == NULL || strcmp(before, after) != 0;
		free(after);
	}
	free(before);
	return changed;
}

/*
 * Updates a VNet's peerings.  towards (NULL: all) limits it to those whose
 * remote is that VNet: a peering's state depends only on its own two VNets,
 * so when one VNet changes, a hub with 500 peerings needs one updated, not
 * 500 (the spoke PUTs of an apply were 90% this loop).
 */
void
arm_sync_vnet(struct emulator *e, json_t *vnet, const char *sync_peering, const char *towards)
{
	json_t *list = json_path(vnet, "properties", "virtualNetworkPeerings", NULL), *p;
	bool changed = false;
	size_t i;

	json_array_foreach(list, i, p) {
		bool sync = sync_peering != NULL && json_str(p, "id") != NULL &&
		    strcasecmp(json_str(p, "id"), sync_peering) == 0;
		const char *rid;

		if (towards != NULL) {
			rid = json_path_str(p, "properties", "remoteVirtualNetwork", "id", NULL);
			if (rid == NULL || strcasecmp(rid, towards) != 0)
				continue;
		}
		if (peering_update(e, vnet, p, sync))
			changed = true;
	}
	if (changed)
		emu_store_touch(e, json_str(vnet, "id"));
}

void
arm_peerings_sync_all(struct emulator *e, const char *vnet_id, const char *sync_peering)
{
	const char **keys;
	size_t n, i;
	char *low = emu_lower(vnet_id);
	json_t **todo = NULL;
	size_t ntodo = 0;

	/* the VNet itself and every VNet with a peering towards it */
	emu_store_sorted(e, &keys, &n);
	todo = calloc(n + 1, sizeof(*todo));
	if (todo == NULL || low == NULL)
		goto done; /* out of memory: the states catch up at the next change */
	for (i = 0; i < n; i++) {
		json_t *v = json_object_get(e->res, keys[i]);
		const char *type = json_str(v, "type");

		if (type == NULL || strcasecmp(type, TYPE_VNET) != 0)
			continue;
		if (strcmp(keys[i], low) == 0 || find_back_peering(v, vnet_id) != NULL)
			todo[ntodo++] = v;
	}
	for (i = 0; i < ntodo; i++)
		arm_sync_vnet(e, todo[i], sync_peering, json_str(todo[i], "id") == NULL ||
		    strcasecmp(json_str(todo[i], "id"), vnet_id) == 0 ? NULL : vnet_id);
done:
	free(todo);
	free(low);
}

/*
 * The same when only the VNet's own peerings may have changed: the VNet
 * and the remotes its peerings name, not a scan of the estate.
 */
void
arm_peerings_sync_near(struct emulator *e, const char *vnet_id, const char *sync_peering)
{
	json_t *v = emu_store_get(e, vnet_id), *remotes = json_array(), *p, *rid;
	size_t i;

	if (v == NULL) {
		json_decref(remotes);
		return;
	}
	arm_sync_vnet(e, v, sync_peering, NULL);
	json_array_foreach(json_path(v, "properties", "virtualNetworkPeerings", NULL), i, p) {
		const char *r = json_path_str(p, "properties", "remoteVirtualNetwork", "id", NULL);
		if (r != NULL)
			json_array_append_new(remotes, json_string(r));
	}
	json_array_foreach(remotes, i, rid) {
		json_t *rv = emu_store_get(e, json_string_value(rid));
		if (rv != NULL && rv != v)
			arm_sync_vnet(e, rv, NULL, json_str(v, "id"));
	}
	json_decref(remotes);
}

void
arm_peerings_sync(struct emulator *e, const char *vnet_id)
{
	arm_peerings_sync_all(e, vnet_id, NULL);
}

/* --- the wire ----------------------------------------------------------------------------- */

/*
 * A stored resource as ARM writes it in an answer (new reference).  ARM
 * sends a connection's gateway references as {id, properties: {}}, and
 * the official SDK's deserializers need that object: a virtual network
 * or local network gateway's properties are mandatory in its model, so
 * a bare {id}, as seeds and clients store it, makes @azure/arm-network
 * throw on every connection it reads.
 */
json_t *
arm_wire(const json_t *res)
{
	static const char *const refs[] = { "virtualNetworkGateway1", "virtualNetworkGateway2",
		"localNetworkGateway2", NULL };
	json_t *out = json_deep_copy(res);
	const char *type = json_str(out, "type");
	size_t i;

	if (type == NULL || strcasecmp(type, "Microsoft.Network/connections") != 0)
		return out;
	for (i = 0; refs[i] != NULL; i++) {
		json_t *ref = json_path(out, "properties", refs[i], NULL);
		if (json_is_object(ref) && !json_is_object(json_object_get(ref, "properties")))
			json_object_set_new(ref, "properties", json_object());
	}
	return out;
}
