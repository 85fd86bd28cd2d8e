/*
 * The topology loader's reading of ExpressRoute circuits (pass 3, called
 * from tl_load_pass_views): the circuit's sku tier and the peerings ARM
 * returns inline in properties.peerings, with the fields circuit and BGP
 * sanity judges (plan/circuits.c): type, state, provisioning state, the
 * ASNs, the VLAN and the peer address prefixes.  Field names and types
 * follow the REST reference (Express Route Circuits - Get,
 * ExpressRouteCircuitPeeringPropertiesFormat: peerASN int64, vlanId int32,
 * azureASN int32, prefixes strings):
 * https://learn.microsoft.com/rest/api/expressroute/express-route-circuits/get
 */
#include "config.h"

#include <string.h>

#include "plan/topology_impl.h"

/* obj.key as an integer, -1 when absent; a non-integer fails with the pointer. */
static int
get_int(struct loader *l, const json_t *obj, const char *key, long long min, long long max,
    long long *out)
{
	json_t *v = tl_field(obj, key);

	*out = -1;
	if (v == NULL)
		return 0;
	if (!json_is_integer(v))
		return tl_fail_at(l, key, "expected an integer, found %s", tl_kind_name(v));
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return tl_fail_at(l, key, "%lld is out of range (%lld to %lld)",
		    (long long)json_integer_value(v), min, max);
	*out = (long long)json_integer_value(v);
	return 0;
}

/* obj.key as a prefix; absent leaves *has false. */
static int
get_prefix(struct loader *l, const json_t *obj, const char *key, bool *has, struct cidr *out)
{
	json_t *v = tl_field(obj, key);
	size_t old;
	int rc;

	*has = false;
	if (v == NULL)
		return 0;
	old = tl_ptr_push(l, key);
	rc = tl_parse_prefix(l, v, out);
	tl_ptr_pop(l, old);
	if (rc == 0)
		*has = true;
	return rc;
}

static int
load_peering(struct loader *l, void *elem, json_t *obj, void *arg)
{
	struct topo_circuit_peering *p = elem;
	json_t *props, *v6;
	size_t old;
	int rc;

	if (!json_is_object(obj))
		return tl_fail(l, "expected a peering object, found %s", tl_kind_name(obj));
	if ((rc = tl_get_string(l, obj, "id", false, &p->id)) != 0 ||
	    (rc = tl_get_string(l, obj, "name", false, &p->name)) != 0 ||
	    (rc = tl_get_object(l, obj, "properties", &props)) != 0)
		return rc;
	old = tl_ptr_push(l, "properties");
	/* The widest the REST spec allows: peerASN is int64 over 32-bit ASNs, vlanId int32;
	 * what Azure accepts within them is judged by plan/circuits.c, not here. */
	if ((rc = tl_get_string(l, props, "peeringType", false, &p->peering_type)) != 0 ||
	    (rc = tl_get_string(l, props, "state", false, &p->state)) != 0 ||
	    (rc = tl_get_string(l, props, "provisioningState", false,
		&p->provisioning_state)) != 0 ||
	    (rc = get_int(l, props, "peerASN", 0, 4294967295LL, &p->peer_asn)) != 0 ||
	    (rc = get_int(l, props, "azureASN", 0, 4294967295LL, &p->azure_asn)) != 0 ||
	    (rc = get_int(l, props, "vlanId", 0, 2147483647LL, &p->vlan_id)) != 0 ||
	    (rc = get_prefix(l, props, "primaryPeerAddressPrefix", &p->has_primary,
		&p->primary)) != 0 ||
	    (rc = get_prefix(l, props, "secondaryPeerAddressPrefix", &p->has_secondary,
		&p->secondary)) != 0 ||
	    (rc = tl_get_object(l, props, "ipv6PeeringConfig", &v6)) != 0)
		return rc;
	if (v6 != NULL) {
		size_t old2 = tl_ptr_push(l, "ipv6PeeringConfig");

		if ((rc = get_prefix(l, v6, "primaryPeerAddressPrefix", &p->has_primary_v6,
		    &p->primary_v6)) != 0 ||
		    (rc = get_prefix(l, v6, "secondaryPeerAddressPrefix", &p->has_secondary_v6,
		    &p->secondary_v6)) != 0)
			return rc;
		tl_ptr_pop(l, old2);
	}
	tl_ptr_pop(l, old);
	if (p->name == NULL && p->peering_type != NULL)
		p->name = p->peering_type;
	return 0;
}

int
tl_load_circuit(struct loader *l, struct topo_circuit *c, json_t *props)
{
	json_t *sku;
	size_t old;
	int rc;

	if ((rc = tl_get_object(l, c->res->json, "sku", &sku)) != 0)
		return rc;
	if (sku != NULL) {
		old = tl_ptr_push(l, "sku");
		rc = tl_get_string(l, sku, "tier", false, &c->sku_tier);
		tl_ptr_pop(l, old);
		if (rc != 0)
			return rc;
	}
	old = tl_ptr_push(l, "properties");
	if ((rc = tl_load_array(l, props, "peerings", sizeof(*c->peerings), &c->peerings,
	    &c->npeerings, load_peering, NULL)) != 0)
		return rc;
	tl_ptr_pop(l, old);
	return 0;
}
