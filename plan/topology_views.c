/*
 * Pass 3 of the topology loader (plan/topology_impl.h): the typed views of
 * every other type (gateways, public IPs, connections, route tables,
 * private endpoints, NICs, AVNM resources) and the links between them, in
 * document order.
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
/* Pass 3: the other types, and every link, in document order          */

static struct topo_subnet *
link_subnet(struct loader *l, const char *subnet_id, const char *key, const char *what, int *rc)
{
	struct topo_subnet *s = topology_find_subnet(l->t, subnet_id);

	*rc = 0;
	if (s == NULL)
		*rc = tl_warn(l, key, "%s's subnet \"%s\" is not in the file", what, subnet_id);
	return s;
}

static int
link_vnet(struct loader *l, struct topo_vnet *v)
{
	size_t j, old, old2;
	int rc;

	old = tl_ptr_push(l, "properties");
	for (j = 0; j < v->nsubnets; j++) {
		struct topo_subnet *s = &v->subnets[j];
		struct topo_resource *r;

		if (s->route_table_id == NULL)
			continue;
		r = topology_find(l->t, s->route_table_id);
		if (r != NULL && r->type == TOPO_ROUTE_TABLE) {
			s->route_table = r->view;
			continue;
		}
		old2 = tl_ptr_push(l, "subnets");
		tl_ptr_push_index(l, j);
		tl_ptr_push(l, "properties");
		tl_ptr_push(l, "routeTable");
		rc = tl_warn(l, "id", r == NULL ? "route table \"%s\" is not in the file" :
		    "\"%s\" is not a route table", s->route_table_id);
		tl_ptr_pop(l, old2);
		if (rc != 0)
			return rc;
	}
	for (j = 0; j < v->npeerings; j++) {
		struct topo_peering *p = &v->peerings[j];

		p->remote = topology_find_vnet(l->t, p->remote_id);
		if (p->remote != NULL)
			continue;
		old2 = tl_ptr_push(l, "virtualNetworkPeerings");
		tl_ptr_push_index(l, j);
		tl_ptr_push(l, "properties");
		tl_ptr_push(l, "remoteVirtualNetwork");
		rc = tl_warn(l, "id", "remote VNet \"%s\" of peering \"%s\" is not in the file",
		    p->remote_id, p->name);
		tl_ptr_pop(l, old2);
		if (rc != 0)
			return rc;
	}
	tl_ptr_pop(l, old);
	return 0;
}

static int
load_gateway(struct loader *l, struct topo_gateway *g, json_t *props)
{
	json_t *arr, *obj, *ipprops, *status, *bgp;
	size_t i, n = 0, old, old2;
	int rc;

	g->allow_remote_vnet_traffic = true;
	if (props == NULL)
		return 0;
	old = tl_ptr_push(l, "properties");
	if ((rc = tl_get_string(l, props, "gatewayType", false, &g->gateway_type)) != 0)
		return rc;
	if (g->gateway_type != NULL && tl_ascii_eq(g->gateway_type, "ExpressRoute"))
		g->kind = GATEWAY_EXPRESSROUTE;
	else if (g->gateway_type != NULL && tl_ascii_eq(g->gateway_type, "Vpn"))
		g->kind = GATEWAY_VPN;
	{
		json_t *sku;
		if ((rc = tl_get_object(l, props, "sku", &sku)) != 0)
			return rc;
		old2 = tl_ptr_push(l, "sku");
		rc = tl_get_string(l, sku, "name", false, &g->sku);
		tl_ptr_pop(l, old2);
		if (rc != 0)
			return rc;
	}
	if ((rc = tl_get_string(l, props, "provisioningState", false, &g->provisioning_state)) != 0)
		return rc;
	if ((rc = tl_get_bool(l, props, "allowRemoteVnetTraffic", true, &g->allow_remote_vnet_traffic)) != 0)
		return rc;
	if ((rc = tl_get_object(l, props, "virtualNetworkGatewayMigrationStatus", &status)) != 0)
		return rc;
	old2 = tl_ptr_push(l, "virtualNetworkGatewayMigrationStatus");
	if ((rc = tl_get_string(l, status, "state", false, &g->migration_state)) != 0 ||
	    (rc = tl_get_string(l, status, "phase", false, &g->migration_phase)) != 0)
		return rc;
	tl_ptr_pop(l, old2);
	if ((rc = tl_get_object(l, props, "bgpSettings", &bgp)) != 0)
		return rc;
	old2 = tl_ptr_push(l, "bgpSettings");
	if ((rc = tl_get_string(l, bgp, "bgpPeeringAddress", false, &g->bgp_peering_address)) != 0)
		return rc;
	tl_ptr_pop(l, old2);

	if ((rc = tl_get_array(l, props, "ipConfigurations", &arr)) != 0)
		return rc;
	if (arr != NULL && json_array_size(arr) > 0) {
		g->public_ip_ids = tl_arena_alloc(l->arena, json_array_size(arr) * sizeof(*g->public_ip_ids));
		g->public_ips = tl_arena_alloc(l->arena, json_array_size(arr) * sizeof(*g->public_ips));
		if (g->public_ip_ids == NULL || g->public_ips == NULL)
			return tl_fail_nomem(l);
	}
	old2 = tl_ptr_push(l, "ipConfigurations");
	json_array_foreach(arr, i, obj) {
		const char *subnet_id = NULL, *pip_id = NULL;
		size_t old3 = tl_ptr_push_index(l, i);

		if (!json_is_object(obj))
			return tl_fail(l, "expected an ipConfiguration object, found %s", tl_kind_name(obj));
		if ((rc = tl_get_object(l, obj, "properties", &ipprops)) != 0)
			return rc;
		tl_ptr_push(l, "properties");
		if ((rc = tl_get_ref(l, ipprops, "subnet", &subnet_id)) != 0 ||
		    (rc = tl_get_ref(l, ipprops, "publicIPAddress", &pip_id)) != 0)
			return rc;
		if (subnet_id != NULL && g->subnet_id == NULL) {
			size_t vlen;
			const char *name;
			struct topo_resource *vr = NULL;

			g->subnet_id = subnet_id;
			if (tl_split_subnet_id(subnet_id, &vlen, &name))
				vr = tl_find_n(l->t, subnet_id, vlen);
			if (vr != NULL && vr->type == TOPO_VNET)
				g->vnet = vr->view;
			if (topology_find_subnet(l->t, subnet_id) == NULL) {
				size_t o5 = tl_ptr_push(l, "subnet");
				rc = tl_warn(l, "id", "gateway's subnet \"%s\" is not in the file", subnet_id);
				tl_ptr_pop(l, o5);
				if (rc != 0)
					return rc;
			}
			if (g->vnet != NULL)
				g->vnet->ngateways++;
		}
		if (pip_id != NULL) {
			struct topo_resource *pr = topology_find(l->t, pip_id);

			g->public_ip_ids[n] = pip_id;
			if (pr != NULL && pr->type == TOPO_PUBLIC_IP) {
				g->public_ips[n] = pr->view;
			} else {
				size_t o5 = tl_ptr_push(l, "publicIPAddress");
				rc = tl_warn(l, "id", pr == NULL ? "gateway's public IP \"%s\" is not in the file" :
				    "gateway's public IP \"%s\" is not a public IP address", pip_id);
				tl_ptr_pop(l, o5);
				if (rc != 0)
					return rc;
			}
			n++;
		}
		tl_ptr_pop(l, old3);
	}
	g->npublic_ips = n;
	tl_ptr_pop(l, old2);
	tl_ptr_pop(l, old);
	return 0;
}

static int
load_public_ip(struct loader *l, struct topo_public_ip *p, json_t *props)
{
	json_t *sku;
	size_t old;
	int rc;

	if ((rc = tl_get_object(l, p->res->json, "sku", &sku)) != 0)
		return rc;
	old = tl_ptr_push(l, "sku");
	if ((rc = tl_get_string(l, sku, "name", false, &p->sku_name)) != 0 ||
	    (rc = tl_get_string(l, sku, "tier", false, &p->sku_tier)) != 0)
		return rc;
	tl_ptr_pop(l, old);
	old = tl_ptr_push(l, "properties");
	if ((rc = tl_get_string(l, props, "publicIPAllocationMethod", false, &p->allocation)) != 0 ||
	    (rc = tl_get_string(l, props, "publicIPAddressVersion", false, &p->version)) != 0 ||
	    (rc = tl_get_string(l, props, "ipAddress", false, &p->ip_address)) != 0 ||
	    (rc = tl_get_string(l, props, "migrationPhase", false, &p->migration_phase)) != 0 ||
	    (rc = tl_get_ref(l, props, "ipConfiguration", &p->ip_configuration_id)) != 0)
		return rc;
	tl_ptr_pop(l, old);
	return 0;
}

static int
load_connection(struct loader *l, struct topo_connection *c, json_t *props)
{
	struct topo_resource *r;
	json_t *w;
	size_t old, old2;
	int rc;

	old = tl_ptr_push(l, "properties");
	if ((rc = tl_get_string(l, props, "connectionType", false, &c->connection_type)) != 0 ||
	    (rc = tl_get_string(l, props, "provisioningState", false, &c->provisioning_state)) != 0 ||
	    (rc = tl_get_ref(l, props, "virtualNetworkGateway1", &c->gateway_id)) != 0 ||
	    (rc = tl_get_ref(l, props, "peer", &c->peer_id)) != 0)
		return rc;
	w = tl_field(props, "routingWeight");
	if (w != NULL) {
		if (!json_is_integer(w))
			return tl_fail_at(l, "routingWeight", "expected an integer, found %s", tl_kind_name(w));
		if (json_integer_value(w) < 0 || json_integer_value(w) > 32000)
			return tl_fail_at(l, "routingWeight", "routing weight %lld is out of range 0..32000",
			    (long long)json_integer_value(w));
		c->routing_weight = (int)json_integer_value(w);
	}
	if (c->gateway_id != NULL) {
		r = topology_find(l->t, c->gateway_id);
		if (r != NULL && r->type == TOPO_GATEWAY) {
			c->gateway = r->view;
			c->gateway->nconnections++;
		} else {
			old2 = tl_ptr_push(l, "virtualNetworkGateway1");
			rc = tl_warn(l, "id", r == NULL ? "connection's gateway \"%s\" is not in the file" :
			    "connection's gateway \"%s\" is not a virtual network gateway", c->gateway_id);
			tl_ptr_pop(l, old2);
			if (rc != 0)
				return rc;
		}
	}
	if (c->peer_id != NULL) {
		r = topology_find(l->t, c->peer_id);
		if (r != NULL && r->type == TOPO_CIRCUIT) {
			c->circuit = r->view;
			c->circuit->nconnections++;
		} else if (r == NULL) {
			old2 = tl_ptr_push(l, "peer");
			rc = tl_warn(l, "id", "connection's circuit \"%s\" is not in the file", c->peer_id);
			tl_ptr_pop(l, old2);
			if (rc != 0)
				return rc;
		}
	}
	tl_ptr_pop(l, old);
	return 0;
}

/*
 * Azure accepts a service tag ("Storage", "AzureCloud.EastUS") as a
 * route's prefix.  Its addresses are Microsoft's to change, so nothing
 * here can reason about it; say so rather than call it a bad prefix.
 */
static bool
looks_like_service_tag(const char *s)
{
	const char *p;

	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
		return false;
	for (p = s; *p != '\0'; p++)
		if (*p == ':' || *p == '/')
			return false;
	/* "AzureCloud.EastUS" has dots, an IPv4 address starts with a digit */
	return true;
}

static int
load_route(struct loader *l, void *elem, json_t *obj, void *arg)
{
	struct topo_route *rt = elem;
	json_t *props, *v;
	const char *nh, *ip;
	size_t old, old2;
	struct nw_err e = { 0 };
	int rc;

	if (!json_is_object(obj))
		return tl_fail(l, "expected a route object, found %s", tl_kind_name(obj));
	{
		const char *id;
		if ((rc = tl_get_child_name(l, obj, &id, &rt->name, "route")) != 0)
			return rc;
	}
	if ((rc = tl_get_object(l, obj, "properties", &props)) != 0)
		return rc;
	if (props == NULL)
		return tl_fail(l, "route \"%s\" has no properties", rt->name);
	old = tl_ptr_push(l, "properties");
	v = tl_field(props, "addressPrefix");
	if (v == NULL)
		return tl_fail(l, "route \"%s\" has no \"addressPrefix\"", rt->name);
	old2 = tl_ptr_push(l, "addressPrefix");
	if (json_is_string(v) && looks_like_service_tag(json_string_value(v)))
		return tl_fail(l, "route \"%s\" uses the service tag \"%s\" as its address prefix; "
		    "netwave reads only IP prefixes in routes", rt->name, json_string_value(v));
	if ((rc = tl_parse_prefix(l, v, &rt->prefix)) != 0)
		return rc;
	tl_ptr_pop(l, old2);
	if ((rc = tl_get_string(l, props, "nextHopType", false, &nh)) != 0)
		return rc;
	if (nh == NULL)
		return tl_fail(l, "route \"%s\" has no \"nextHopType\"", rt->name);
	rt->next_hop = topo_next_hop_parse(nh);
	if (rt->next_hop == NH_UNKNOWN)
		return tl_fail_at(l, "nextHopType", "route \"%s\" has next hop type \"%s\", expected one of "
		    NEXT_HOP_USER_LIST, rt->name, nh);
	if ((rc = tl_get_string(l, props, "nextHopIpAddress", false, &ip)) != 0)
		return rc;
	if (ip != NULL && ip[0] != '\0') {
		if (cidr_parse_addr(&rt->next_hop_ip, ip, &e) != 0)
			return tl_fail_at(l, "nextHopIpAddress", "%s", e.msg);
		rt->has_next_hop_ip = true;
	}
	if (rt->next_hop == NH_VIRTUAL_APPLIANCE && !rt->has_next_hop_ip)
		return tl_fail(l, "route \"%s\" sends to a VirtualAppliance but has no \"nextHopIpAddress\"",
		    rt->name);
	tl_ptr_pop(l, old);
	return 0;
}

static int
load_route_table(struct loader *l, struct topo_route_table *t, json_t *props)
{
	size_t old;
	int rc;

	old = tl_ptr_push(l, "properties");
	if ((rc = tl_get_bool(l, props, "disableBgpRoutePropagation", false,
	    &t->disable_bgp_route_propagation)) != 0)
		return rc;
	if ((rc = tl_load_array(l, props, "routes", sizeof(*t->routes), &t->routes, &t->nroutes,
	    load_route, NULL)) != 0)
		return rc;
	tl_ptr_pop(l, old);
	return 0;
}

static int
load_private_endpoint(struct loader *l, struct topo_private_endpoint *p, json_t *props)
{
	size_t old = tl_ptr_push(l, "properties"), old2;
	int rc;

	if ((rc = tl_get_ref(l, props, "subnet", &p->subnet_id)) != 0)
		return rc;
	if (p->subnet_id != NULL) {
		old2 = tl_ptr_push(l, "subnet");
		p->subnet = link_subnet(l, p->subnet_id, "id", "private endpoint", &rc);
		tl_ptr_pop(l, old2);
		if (rc != 0)
			return rc;
		if (p->subnet != NULL) {
			p->subnet->nprivate_endpoints++;
			p->subnet->vnet->nprivate_endpoints++;
		}
	}
	tl_ptr_pop(l, old);
	return 0;
}

static int
load_nic(struct loader *l, struct topo_nic *n, json_t *props)
{
	json_t *arr, *first, *ipprops;
	size_t old, old2;
	int rc;

	old = tl_ptr_push(l, "properties");
	if ((rc = tl_get_array(l, props, "ipConfigurations", &arr)) != 0)
		return rc;
	first = json_array_get(arr, 0);
	if (first != NULL) {
		tl_ptr_push(l, "ipConfigurations");
		tl_ptr_push_index(l, 0);
		if (!json_is_object(first))
			return tl_fail(l, "expected an ipConfiguration object, found %s", tl_kind_name(first));
		if ((rc = tl_get_object(l, first, "properties", &ipprops)) != 0)
			return rc;
		tl_ptr_push(l, "properties");
		if ((rc = tl_get_ref(l, ipprops, "subnet", &n->subnet_id)) != 0 ||
		    (rc = tl_get_string(l, ipprops, "privateIPAddress", false, &n->private_ip)) != 0)
			return rc;
		if (n->subnet_id != NULL) {
			old2 = tl_ptr_push(l, "subnet");
			n->subnet = link_subnet(l, n->subnet_id, "id", "network interface", &rc);
			tl_ptr_pop(l, old2);
			if (rc != 0)
				return rc;
		}
	}
	tl_ptr_pop(l, old);
	return 0;
}

/* The parent of a child id, as the typed view of type, or NULL. */
static void *
find_parent(struct loader *l, const char *id, const char *segment, enum topo_type type)
{
	size_t n = tl_id_parent_len(id, segment);
	struct topo_resource *r = n > 0 ? tl_find_n(l->t, id, n) : NULL;

	return r != NULL && r->type == type ? r->view : NULL;
}

static int
require_child_id(struct loader *l, const struct topo_resource *r, const char *segment)
{
	if (tl_id_parent_len(r->id, segment) == 0)
		return tl_fail_at(l, "id", "resource id \"%s\" does not end in /%s/{name}", r->id, segment);
	return 0;
}

static int
load_network_group(struct loader *l, struct topo_network_group *g, json_t *props)
{
	size_t old;
	int rc;

	if ((rc = require_child_id(l, g->res, "networkGroups")) != 0)
		return rc;
	g->manager = find_parent(l, g->res->id, "networkGroups", TOPO_NETWORK_MANAGER);
	if (g->manager != NULL)
		g->manager->ngroups++;
	else if ((rc = tl_warn(l, "id", "network manager of group \"%s\" is not in the file",
	    g->res->name)) != 0)
		return rc;
	old = tl_ptr_push(l, "properties");
	rc = tl_get_string(l, props, "memberType", false, &g->member_type);
	tl_ptr_pop(l, old);
	return rc;
}

static int
load_static_member(struct loader *l, struct topo_static_member *m, json_t *props)
{
	size_t old;
	int rc;

	if ((rc = require_child_id(l, m->res, "staticMembers")) != 0)
		return rc;
	m->group = find_parent(l, m->res->id, "staticMembers", TOPO_NETWORK_GROUP);
	if (m->group != NULL)
		m->group->nmembers++;
	else if ((rc = tl_warn(l, "id", "network group of static member \"%s\" is not in the file",
	    m->res->name)) != 0)
		return rc;
	old = tl_ptr_push(l, "properties");
	if ((rc = tl_get_string(l, props, "resourceId", false, &m->resource_id)) != 0)
		return rc;
	if (m->resource_id == NULL)
		return tl_fail(l, "static member \"%s\" has no \"resourceId\"", m->res->name);
	m->vnet = topology_find_vnet(l->t, m->resource_id);
	if (m->vnet == NULL &&
	    (rc = tl_warn(l, "resourceId", "static member's VNet \"%s\" is not in the file",
	    m->resource_id)) != 0)
		return rc;
	tl_ptr_pop(l, old);
	return 0;
}

static int
load_cc_group(struct loader *l, void *elem, json_t *obj, void *arg)
{
	struct topo_cc_group *g = elem;
	const char *conn;
	struct topo_resource *r;
	int rc;

	if (!json_is_object(obj))
		return tl_fail(l, "expected an object, found %s", tl_kind_name(obj));
	if ((rc = tl_get_string(l, obj, "networkGroupId", false, &g->network_group_id)) != 0)
		return rc;
	if (g->network_group_id == NULL)
		return tl_fail(l, "\"networkGroupId\" is missing");
	if ((rc = tl_get_string(l, obj, "groupConnectivity", false, &conn)) != 0 ||
	    (rc = tl_get_bool(l, obj, "useHubGateway", false, &g->use_hub_gateway)) != 0 ||
	    (rc = tl_get_bool(l, obj, "isGlobal", false, &g->is_global)) != 0)
		return rc;
	g->directly_connected = conn != NULL && tl_ascii_eq(conn, "DirectlyConnected");
	r = topology_find(l->t, g->network_group_id);
	if (r != NULL && r->type == TOPO_NETWORK_GROUP)
		g->group = r->view;
	else
		return tl_warn(l, "networkGroupId", r == NULL ? "network group \"%s\" is not in the file" :
		    "\"%s\" is not a network group", g->network_group_id);
	return 0;
}

/* One of a configuration's hubs: {"resourceId": ...}, warned about when not in the file. */
static int
load_cc_hub(struct loader *l, void *elem, json_t *obj, void *arg)
{
	const char **id = elem;
	int rc;

	if (!json_is_object(obj))
		return tl_fail(l, "expected an object, found %s", tl_kind_name(obj));
	if ((rc = tl_get_string(l, obj, "resourceId", false, id)) != 0)
		return rc;
	if (*id == NULL)
		return tl_fail(l, "\"resourceId\" is missing");
	if (topology_find(l->t, *id) == NULL)
		return tl_warn(l, "resourceId", "hub \"%s\" is not in the file", *id);
	return 0;
}

static int
load_connectivity_config(struct loader *l, struct topo_connectivity_config *c, json_t *props)
{
	json_t *caps;
	const char *topo, *s;
	size_t old, old2;
	int rc;

	if ((rc = require_child_id(l, c->res, "connectivityConfigurations")) != 0)
		return rc;
	c->manager = find_parent(l, c->res->id, "connectivityConfigurations", TOPO_NETWORK_MANAGER);
	if (c->manager != NULL)
		c->manager->nconfigs++;
	else if ((rc = tl_warn(l, "id", "network manager of configuration \"%s\" is not in the file",
	    c->res->name)) != 0)
		return rc;
	old = tl_ptr_push(l, "properties");
	if ((rc = tl_get_string(l, props, "connectivityTopology", false, &topo)) != 0)
		return rc;
	if (topo != NULL && tl_ascii_eq(topo, "Mesh"))
		c->topology = CC_MESH;
	else if (topo != NULL && tl_ascii_eq(topo, "HubAndSpoke"))
		c->topology = CC_HUB_AND_SPOKE;
	if ((rc = tl_get_bool(l, props, "isGlobal", false, &c->is_global)) != 0 ||
	    (rc = tl_get_bool(l, props, "deleteExistingPeering", false, &c->delete_existing_peering)) != 0)
		return rc;

	if ((rc = tl_load_array(l, props, "appliesToGroups", sizeof(*c->groups), &c->groups,
	    &c->ngroups, load_cc_group, NULL)) != 0)
		return rc;

	if ((rc = tl_load_array(l, props, "hubs", sizeof(*c->hub_ids), &c->hub_ids, &c->nhubs,
	    load_cc_hub, NULL)) != 0)
		return rc;

	if ((rc = tl_get_object(l, props, "connectivityCapabilities", &caps)) != 0)
		return rc;
	old2 = tl_ptr_push(l, "connectivityCapabilities");
	if ((rc = tl_get_string(l, caps, "connectedGroupPrivateEndpointsScale", false, &s)) != 0)
		return rc;
	c->high_scale_private_endpoints = s != NULL && tl_ascii_eq(s, "HighScale");
	if ((rc = tl_get_string(l, caps, "connectedGroupAddressOverlap", false, &s)) != 0)
		return rc;
	c->overlap_disallowed = s != NULL && tl_ascii_eq(s, "Disallowed");
	if ((rc = tl_get_string(l, caps, "peeringEnforcement", false, &s)) != 0)
		return rc;
	c->peering_enforced = s != NULL && tl_ascii_eq(s, "Enforced");
	tl_ptr_pop(l, old2);
	tl_ptr_pop(l, old);
	return 0;
}

int
tl_load_pass_views(struct loader *l)
{
	struct topology *t = l->t;
	size_t i;
	int rc;

	/* VNets first, so every subnet can be found by the resources that name one. */
	for (i = 0; i < t->nvnets; i++) {
		tl_ptr_resource(l, t->vnets[i].res->index);
		if ((rc = tl_load_vnet(l, &t->vnets[i])) != 0)
			return rc;
	}
	for (i = 0; i < t->nres; i++) {
		struct topo_resource *r = &t->res[i];
		json_t *props = tl_field(r->json, "properties");

		if (r->type == TOPO_OTHER)
			continue;
		tl_ptr_resource(l, i);
		switch (r->type) {
		case TOPO_VNET: rc = link_vnet(l, r->view); break;
		case TOPO_GATEWAY: rc = load_gateway(l, r->view, props); break;
		case TOPO_PUBLIC_IP: rc = load_public_ip(l, r->view, props); break;
		case TOPO_CONNECTION: rc = load_connection(l, r->view, props); break;
		case TOPO_ROUTE_TABLE: rc = load_route_table(l, r->view, props); break;
		case TOPO_PRIVATE_ENDPOINT: rc = load_private_endpoint(l, r->view, props); break;
		case TOPO_NIC: rc = load_nic(l, r->view, props); break;
		case TOPO_NETWORK_GROUP: rc = load_network_group(l, r->view, props); break;
		case TOPO_STATIC_MEMBER: rc = load_static_member(l, r->view, props); break;
		case TOPO_CONNECTIVITY_CONFIG: rc = load_connectivity_config(l, r->view, props); break;
		case TOPO_CIRCUIT: rc = tl_load_circuit(l, r->view, props); break;
		case TOPO_NETWORK_MANAGER:
		case TOPO_OTHER:
		default: rc = 0; break;
		}
		if (rc != 0)
			return rc;
	}
	tl_ptr_pop(l, 0);
	return 0;
}

/* Back-links, counted while linking; filled here in document order. */
int
tl_load_pass_backlinks(struct loader *l)
{
	struct topology *t = l->t;
	size_t i;

#define ALLOC_BACK(obj, arr, n)                                                   \
	do {                                                                       \
		if ((obj)->n > 0) {                                                 \
			(obj)->arr = tl_arena_alloc(l->arena, (obj)->n * sizeof(*(obj)->arr)); \
			if ((obj)->arr == NULL)                                     \
				return tl_fail_nomem(l);                               \
			(obj)->n = 0;                                               \
		}                                                                   \
	} while (0)

	for (i = 0; i < t->nvnets; i++)
		ALLOC_BACK(&t->vnets[i], gateways, ngateways);
	for (i = 0; i < t->ngateways; i++)
		ALLOC_BACK(&t->gateways[i], connections, nconnections);
	for (i = 0; i < t->ncircuits; i++)
		ALLOC_BACK(&t->circuits[i], connections, nconnections);
	for (i = 0; i < t->nmanagers; i++) {
		ALLOC_BACK(&t->managers[i], groups, ngroups);
		ALLOC_BACK(&t->managers[i], configs, nconfigs);
	}
	for (i = 0; i < t->ngroups; i++)
		ALLOC_BACK(&t->groups[i], members, nmembers);
#undef ALLOC_BACK

	for (i = 0; i < t->ngateways; i++) {
		struct topo_gateway *g = &t->gateways[i];
		if (g->vnet != NULL)
			g->vnet->gateways[g->vnet->ngateways++] = g;
	}
	for (i = 0; i < t->nconnections; i++) {
		struct topo_connection *c = &t->connections[i];
		if (c->gateway != NULL)
			c->gateway->connections[c->gateway->nconnections++] = c;
		if (c->circuit != NULL)
			c->circuit->connections[c->circuit->nconnections++] = c;
	}
	for (i = 0; i < t->ngroups; i++) {
		struct topo_network_group *g = &t->groups[i];
		if (g->manager != NULL)
			g->manager->groups[g->manager->ngroups++] = g;
	}
	for (i = 0; i < t->nconfigs; i++) {
		struct topo_connectivity_config *c = &t->configs[i];
		if (c->manager != NULL)
			c->manager->configs[c->manager->nconfigs++] = c;
	}
	for (i = 0; i < t->nmembers; i++) {
		struct topo_static_member *m = &t->members[i];
		if (m->group != NULL)
			m->group->members[m->group->nmembers++] = m;
	}
	return 0;
}
