/*
 * Azure Route Server in the topology loader (plan/topology_ars.h), run
 * after every other view is linked: route servers (virtualHubs without a
 * virtualWan), their ipConfigurations and bgpConnections children as ARM
 * lists them, what each BGP connection learned and advertised
 * (observed.bgpRoutes, as the learnedRoutes / advertisedRoutes actions
 * answer), and the NVAs the user declares (declared.nvas).
 *
 * A virtualHub that belongs to a Virtual WAN is not a route server: it and
 * its children stay untyped resources, kept and written back as they came.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/jsonutil.h"
#include "plan/topology_impl.h"

static const char *const preference_names[] = {
	[HUB_PREF_EXPRESSROUTE] = "ExpressRoute",
	[HUB_PREF_VPN_GATEWAY] = "VpnGateway",
	[HUB_PREF_AS_PATH] = "ASPath",
};

const char *
topo_hub_preference_name(enum topo_hub_preference p)
{
	return (size_t)p < sizeof(preference_names) / sizeof(preference_names[0]) ?
	    preference_names[p] : "ExpressRoute";
}

static bool
type_is(const struct topo_resource *r, const char *type)
{
	return r->type == TOPO_OTHER && r->type_name != NULL && tl_ascii_eq(r->type_name, type);
}

/* ------------------------------------------------------------------ */
/* Look-ups                                                            */

struct topo_route_server *
topology_find_route_server(const struct topology *t, const char *id)
{
	size_t i;

	if (t == NULL || id == NULL)
		return NULL;
	for (i = 0; i < t->nroute_servers; i++)
		if (topo_id_compare(t->route_servers[i].res->id, id) == 0)
			return &t->route_servers[i];
	return NULL;
}

struct topo_bgp_connection *
topology_find_bgp_connection(const struct topology *t, const char *id)
{
	size_t i;

	if (t == NULL || id == NULL)
		return NULL;
	for (i = 0; i < t->nbgp_connections; i++)
		if (topo_id_compare(t->bgp_connections[i].res->id, id) == 0)
			return &t->bgp_connections[i];
	return NULL;
}

struct topo_nva *
topology_find_nva(const struct topology *t, const char *name)
{
	size_t i;

	if (t == NULL || name == NULL)
		return NULL;
	for (i = 0; i < t->nnvas; i++)
		if (tl_ascii_eq(t->nvas[i].name, name))
			return &t->nvas[i];
	return NULL;
}

struct topo_nva *
topology_nva_by_addr(const struct topology *t, const struct cidr *addr)
{
	size_t i, j;

	for (i = 0; t != NULL && i < t->nnvas; i++)
		for (j = 0; j < t->nvas[i].nips; j++)
			if (cidr_equal(&t->nvas[i].ips[j], addr))
				return &t->nvas[i];
	return NULL;
}

struct topo_route_server *
topology_vnet_route_server(const struct topology *t, const struct topo_vnet *v)
{
	size_t i;

	for (i = 0; t != NULL && v != NULL && i < t->nroute_servers; i++)
		if (t->route_servers[i].vnet == v)
			return &t->route_servers[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Small typed getters                                                 */

/* An integer field in [lo, hi]; *out untouched when absent. */
static int
get_long(struct loader *l, const json_t *obj, const char *key, long lo, long hi, long *out)
{
	json_t *v = tl_field(obj, key);
	long long n;

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return tl_fail_at(l, key, "expected an integer, found %s", tl_kind_name(v));
	n = json_integer_value(v);
	if (n < lo || n > hi)
		return tl_fail_at(l, key, "%lld is out of range (%ld to %ld)", n, lo, hi);
	*out = (long)n;
	return 0;
}

/* A required IP address string at key (no prefix length). */
static int
get_addr(struct loader *l, const json_t *obj, const char *key, bool required,
    const char **s, struct cidr *out)
{
	struct nw_err e = { 0 };
	int rc;

	if ((rc = tl_get_string(l, obj, key, required, s)) != 0 || *s == NULL)
		return rc;
	if (cidr_parse_addr(out, *s, &e) != 0)
		return tl_fail_at(l, key, "%s", e.msg);
	return 0;
}

/* An array of address strings into the arena. */
static int
get_addrs(struct loader *l, const json_t *obj, const char *key, struct cidr **out, size_t *n)
{
	json_t *arr, *v;
	size_t i, old;
	int rc;

	if ((rc = tl_get_array(l, obj, key, &arr)) != 0 || arr == NULL || json_array_size(arr) == 0)
		return rc;
	*out = tl_arena_alloc(l->arena, json_array_size(arr) * sizeof(**out));
	if (*out == NULL)
		return tl_fail_nomem(l);
	old = tl_ptr_push(l, key);
	json_array_foreach(arr, i, v) {
		struct nw_err e = { 0 };

		tl_ptr_push_index(l, i);
		if (!json_is_string(v))
			return tl_fail(l, "expected an IP address string, found %s", tl_kind_name(v));
		if (cidr_parse_addr(&(*out)[i], json_string_value(v), &e) != 0)
			return tl_fail(l, "%s", e.msg);
		tl_ptr_pop(l, old);
		tl_ptr_push(l, key);
	}
	tl_ptr_pop(l, old);
	*n = json_array_size(arr);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Resources                                                           */

static int
load_preference(struct loader *l, const json_t *props, enum topo_hub_preference *out)
{
	const char *s;
	size_t i;
	int rc;

	if ((rc = tl_get_string(l, props, "hubRoutingPreference", false, &s)) != 0 || s == NULL)
		return rc;
	for (i = 0; i < sizeof(preference_names) / sizeof(preference_names[0]); i++) {
		if (tl_ascii_eq(s, preference_names[i])) {
			*out = (enum topo_hub_preference)i;
			return 0;
		}
	}
	return tl_fail_at(l, "hubRoutingPreference", "unknown preference \"%s\" (ExpressRoute, "
	    "VpnGateway or ASPath)", s);
}

static int
load_route_server(struct loader *l, struct topo_route_server *s, const json_t *props)
{
	size_t old = tl_ptr_push(l, "properties");
	int rc;

	s->asn = ARS_ASN;
	if ((rc = tl_get_string(l, props, "sku", false, &s->sku)) != 0 ||
	    (rc = get_long(l, props, "virtualRouterAsn", 0, 4294967295L, &s->asn)) != 0 ||
	    (rc = get_addrs(l, props, "virtualRouterIps", &s->router_ips, &s->nrouter_ips)) != 0 ||
	    (rc = tl_get_bool(l, props, "allowBranchToBranchTraffic", false,
	    &s->allow_branch_to_branch)) != 0 ||
	    (rc = load_preference(l, props, &s->preference)) != 0 ||
	    (rc = tl_get_string(l, props, "provisioningState", false, &s->provisioning_state)) != 0 ||
	    (rc = tl_get_string(l, props, "routingState", false, &s->routing_state)) != 0)
		return rc;
	tl_ptr_pop(l, old);
	return 0;
}

/* A virtualHub is a route server when it names no virtualWan. */
static bool
is_route_server(const struct topo_resource *r)
{
	return type_is(r, TYPE_VIRTUAL_HUB) &&
	    json_path_str(r->json, "properties", "virtualWan", "id", NULL) == NULL;
}

/* True when r is the child of a Virtual WAN hub: not netwave's to read. */
static bool
vwan_child(const struct topology *t, const struct topo_resource *r, const char *segment)
{
	size_t n = tl_id_parent_len(r->id, segment);
	struct topo_resource *p = n > 0 ? tl_find_n(t, r->id, n) : NULL;

	return p != NULL && type_is(p, TYPE_VIRTUAL_HUB) && !is_route_server(p);
}

/* The route server a child id names, warning when it is not in the file. */
static int
child_parent(struct loader *l, struct topo_resource *r, const char *segment,
    struct topo_route_server **out)
{
	size_t n = tl_id_parent_len(r->id, segment);
	struct topo_resource *p = n > 0 ? tl_find_n(l->t, r->id, n) : NULL;

	*out = p != NULL ? topology_find_route_server(l->t, p->id) : NULL;
	if (*out == NULL)
		return tl_warn(l, "id", "the route server of \"%s\" is not in the file", r->id);
	return 0;
}

static int
push_child(struct loader *l, void ***arr, size_t *n, void *child)
{
	void **grown = tl_arena_alloc(l->arena, (*n + 1) * sizeof(*grown));

	/* Few children per server: copying keeps the arena the only owner. */
	if (grown == NULL)
		return tl_fail_nomem(l);
	if (*n > 0)
		memcpy(grown, *arr, *n * sizeof(*grown));
	grown[(*n)++] = child;
	*arr = grown;
	return 0;
}

static int
load_ip_config(struct loader *l, struct topo_resource *r, struct topo_hub_ip_config *c)
{
	json_t *props = tl_field(r->json, "properties");
	size_t old;
	int rc;

	c->res = r;
	if ((rc = child_parent(l, r, "ipConfigurations", &c->server)) != 0)
		return rc;
	if (!json_is_object(props))
		return props == NULL ? 0 : tl_fail_at(l, "properties", "expected an object, found %s",
		    tl_kind_name(props));
	old = tl_ptr_push(l, "properties");
	if ((rc = tl_get_ref(l, props, "subnet", &c->subnet_id)) != 0 ||
	    (rc = tl_get_ref(l, props, "publicIPAddress", &c->public_ip_id)) != 0 ||
	    (rc = tl_get_string(l, props, "privateIPAddress", false, &c->private_ip)) != 0)
		return rc;
	if (c->subnet_id != NULL) {
		c->subnet = topology_find_subnet(l->t, c->subnet_id);
		if (c->subnet == NULL && (rc = tl_warn(l, "subnet", "the route server's subnet \"%s\" "
		    "is not in the file", c->subnet_id)) != 0)
			return rc;
	}
	tl_ptr_pop(l, old);
	if (c->server != NULL) {
		if (c->server->subnet == NULL && c->subnet != NULL) {
			c->server->subnet = c->subnet;
			c->server->vnet = c->subnet->vnet;
		}
		return push_child(l, (void ***)&c->server->ip_configs, &c->server->nip_configs, c);
	}
	return 0;
}

static int
load_bgp_connection(struct loader *l, struct topo_resource *r, struct topo_bgp_connection *c)
{
	json_t *props = tl_field(r->json, "properties");
	size_t old;
	int rc;

	c->res = r;
	if ((rc = child_parent(l, r, "bgpConnections", &c->server)) != 0)
		return rc;
	if (!json_is_object(props))
		return tl_fail(l, "a BGP connection has \"properties\" with peerIp and peerAsn");
	old = tl_ptr_push(l, "properties");
	if ((rc = get_addr(l, props, "peerIp", true, &c->peer_ip, &c->peer_addr)) != 0)
		return rc;
	if (tl_field(props, "peerAsn") == NULL)
		return tl_fail(l, "\"peerAsn\" is missing");
	if ((rc = get_long(l, props, "peerAsn", 0, 4294967295L, &c->peer_asn)) != 0 ||
	    (rc = tl_get_string(l, props, "connectionState", false, &c->connection_state)) != 0 ||
	    (rc = tl_get_string(l, props, "provisioningState", false, &c->provisioning_state)) != 0 ||
	    (rc = tl_get_ref(l, props, "hubVirtualNetworkConnection", &c->hub_vnet_connection_id)) != 0)
		return rc;
	tl_ptr_pop(l, old);
	if (c->server != NULL)
		return push_child(l, (void ***)&c->server->connections, &c->server->nconnections, c);
	return 0;
}

static bool
is_ip_config(const struct topology *t, const struct topo_resource *r)
{
	return type_is(r, TYPE_HUB_IP_CONFIG) && !vwan_child(t, r, "ipConfigurations");
}

static bool
is_bgp_connection(const struct topology *t, const struct topo_resource *r)
{
	return type_is(r, TYPE_BGP_CONNECTION) && !vwan_child(t, r, "bgpConnections");
}

/* Counts and allocates the three arrays, then fills them in file order. */
static int
load_resources(struct loader *l)
{
	struct topology *t = l->t;
	size_t i, nhub = 0, nip = 0, nbgp = 0;
	int rc = 0;

	for (i = 0; i < t->nres; i++) {
		nhub += is_route_server(&t->res[i]);
		nip += is_ip_config(t, &t->res[i]);
		nbgp += is_bgp_connection(t, &t->res[i]);
	}
	if ((nhub > 0 && (t->route_servers = tl_arena_alloc(l->arena, nhub * sizeof(*t->route_servers))) == NULL) ||
	    (nip > 0 && (t->hub_ip_configs = tl_arena_alloc(l->arena, nip * sizeof(*t->hub_ip_configs))) == NULL) ||
	    (nbgp > 0 && (t->bgp_connections = tl_arena_alloc(l->arena, nbgp * sizeof(*t->bgp_connections))) == NULL))
		return tl_fail_nomem(l);
	for (i = 0; i < t->nres && rc == 0; i++) {
		struct topo_resource *r = &t->res[i];

		if (!is_route_server(r))
			continue;
		tl_ptr_resource(l, i);
		memset(&t->route_servers[t->nroute_servers], 0, sizeof(*t->route_servers));
		t->route_servers[t->nroute_servers].res = r;
		rc = load_route_server(l, &t->route_servers[t->nroute_servers++],
		    tl_field(r->json, "properties"));
	}
	for (i = 0; i < t->nres && rc == 0; i++) {
		struct topo_resource *r = &t->res[i];

		tl_ptr_resource(l, i);
		if (is_ip_config(t, r)) {
			memset(&t->hub_ip_configs[t->nhub_ip_configs], 0, sizeof(*t->hub_ip_configs));
			rc = load_ip_config(l, r, &t->hub_ip_configs[t->nhub_ip_configs++]);
		} else if (is_bgp_connection(t, r)) {
			memset(&t->bgp_connections[t->nbgp_connections], 0, sizeof(*t->bgp_connections));
			rc = load_bgp_connection(l, r, &t->bgp_connections[t->nbgp_connections++]);
		}
	}
	tl_ptr_pop(l, 0);
	return rc;
}

/* ------------------------------------------------------------------ */
/* observed.bgpRoutes                                                  */

static int
load_peer_route(struct loader *l, const json_t *obj, const char *instance, struct topo_bgp_route *r)
{
	json_t *net;
	size_t old;
	long w = 0;
	int rc;

	if (!json_is_object(obj))
		return tl_fail(l, "expected a route object, found %s", tl_kind_name(obj));
	r->instance = instance;
	net = tl_field(obj, "network");
	if (net == NULL)
		return tl_fail(l, "route has no \"network\"");
	old = tl_ptr_push(l, "network");
	if ((rc = tl_parse_prefix(l, net, &r->network)) != 0)
		return rc;
	tl_ptr_pop(l, old);
	if ((rc = tl_get_string(l, obj, "localAddress", false, &r->local_address)) != 0 ||
	    (rc = tl_get_string(l, obj, "nextHop", false, &r->next_hop)) != 0 ||
	    (rc = tl_get_string(l, obj, "sourcePeer", false, &r->source_peer)) != 0 ||
	    (rc = tl_get_string(l, obj, "origin", false, &r->origin)) != 0 ||
	    (rc = tl_get_string(l, obj, "asPath", false, &r->as_path)) != 0 ||
	    (rc = get_long(l, obj, "weight", -2147483647L, 2147483647L, &w)) != 0)
		return rc;
	r->weight = (int)w;
	return 0;
}

/*
 * One learnedRoutes / advertisedRoutes answer.  The REST spec models it as
 * PeerRouteList {"value": [...]}; Azure sends it keyed by instance
 * ({"RouteServiceRole_IN_0": [...], "RouteServiceRole_IN_1": [...]}), as the
 * spec's own examples and `az network routeserver peering list-learned-routes`
 * show.  Both are read; the document keeps whichever ARM sent.
 */
static int
load_answer(struct loader *l, const json_t *ans, struct topo_bgp_routes *out)
{
	const char *key;
	json_t *arr, *v;
	size_t n = 0, i, old;
	int rc;

	if (!json_is_object(ans))
		return tl_fail(l, "expected an object keyed by instance (or {\"value\": [...]}), found %s",
		    tl_kind_name(ans));
	json_object_foreach((json_t *)ans, key, arr) {
		if (!json_is_array(arr))
			return tl_fail_at(l, key, "expected an array of routes, found %s", tl_kind_name(arr));
		n += json_array_size(arr);
	}
	if (n > 0 && (out->v = tl_arena_alloc(l->arena, n * sizeof(*out->v))) == NULL)
		return tl_fail_nomem(l);
	out->observed = true;
	out->by_instance = json_object_get(ans, "value") == NULL;
	json_object_foreach((json_t *)ans, key, arr) {
		old = tl_ptr_push(l, key);
		json_array_foreach(arr, i, v) {
			size_t old2 = tl_ptr_push_index(l, i);

			memset(&out->v[out->n], 0, sizeof(out->v[out->n]));
			if ((rc = load_peer_route(l, v, out->by_instance ? key : NULL, &out->v[out->n++])) != 0)
				return rc;
			tl_ptr_pop(l, old2);
		}
		tl_ptr_pop(l, old);
	}
	return 0;
}

static int
load_bgp_routes(struct loader *l, const json_t *routes)
{
	const char *key;
	json_t *entry, *v;
	size_t old;
	int rc;

	json_object_foreach((json_t *)routes, key, entry) {
		struct topo_bgp_connection *c = topology_find_bgp_connection(l->t, key);
		struct topo_bgp_routes scratch_l = { 0 }, scratch_a = { 0 };

		old = tl_ptr_push(l, key);
		if (!json_is_object(entry))
			return tl_fail(l, "expected {\"learned\": ..., \"advertised\": ...}, found %s",
			    tl_kind_name(entry));
		if (c == NULL && (rc = tl_warn(l, NULL, "BGP connection \"%s\" is not in the file", key)) != 0)
			return rc;
		if ((v = tl_field(entry, "learned")) != NULL) {
			tl_ptr_push(l, "learned");
			if ((rc = load_answer(l, v, c != NULL ? &c->learned : &scratch_l)) != 0)
				return rc;
			tl_ptr_pop(l, old);
			tl_ptr_push(l, key);
		}
		if ((v = tl_field(entry, "advertised")) != NULL) {
			tl_ptr_push(l, "advertised");
			if ((rc = load_answer(l, v, c != NULL ? &c->advertised : &scratch_a)) != 0)
				return rc;
		}
		tl_ptr_pop(l, old);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* declared.nvas                                                       */

static int
load_relay(struct loader *l, const json_t *obj, struct topo_nva_peer *p)
{
	json_t *arr, *v;
	size_t i, old;
	int rc;

	if ((rc = tl_get_array(l, obj, "readvertise", &arr)) != 0 || arr == NULL ||
	    json_array_size(arr) == 0)
		return rc;
	p->nrelay = json_array_size(arr);
	p->relay_ids = tl_arena_alloc(l->arena, p->nrelay * sizeof(*p->relay_ids));
	p->relay = tl_arena_alloc(l->arena, p->nrelay * sizeof(*p->relay));
	if (p->relay_ids == NULL || p->relay == NULL)
		return tl_fail_nomem(l);
	old = tl_ptr_push(l, "readvertise");
	json_array_foreach(arr, i, v) {
		tl_ptr_push_index(l, i);
		if (!json_is_string(v))
			return tl_fail(l, "expected a route server id, found %s", tl_kind_name(v));
		p->relay_ids[i] = json_string_value(v);
		p->relay[i] = topology_find_route_server(l->t, p->relay_ids[i]);
		if (p->relay[i] == NULL &&
		    (rc = tl_warn(l, NULL, "route server \"%s\" is not in the file", p->relay_ids[i])) != 0)
			return rc;
		tl_ptr_pop(l, old);
		tl_ptr_push(l, "readvertise");
	}
	tl_ptr_pop(l, old);
	return 0;
}

/* The session in ARM: a bgpConnection of the server to one of the NVA's IPs. */
static struct topo_bgp_connection *
find_session(const struct topo_route_server *s, const struct topo_nva *n)
{
	size_t i, j;

	for (i = 0; s != NULL && i < s->nconnections; i++)
		for (j = 0; j < n->nips; j++)
			if (cidr_equal(&s->connections[i]->peer_addr, &n->ips[j]))
				return s->connections[i];
	return NULL;
}

static int
load_nva_peer(struct loader *l, void *elem, json_t *obj, void *arg)
{
	struct topo_nva *n = arg;
	struct topo_nva_peer *p = elem;
	const char *nh = NULL;
	long prepend = 0;
	int rc;

	if (!json_is_object(obj))
		return tl_fail(l, "expected a peer object, found %s", tl_kind_name(obj));
	if ((rc = tl_get_string(l, obj, "routeServer", true, &p->route_server_id)) != 0 ||
	    (rc = tl_get_prefixes(l, obj, "advertise", &p->advertise)) != 0 ||
	    (rc = load_relay(l, obj, p)) != 0 ||
	    (rc = tl_get_prefixes(l, obj, "only", &p->only)) != 0 ||
	    (rc = tl_get_bool(l, obj, "asOverride", false, &p->as_override)) != 0 ||
	    (rc = get_long(l, obj, "prepend", 0, 16, &prepend)) != 0 ||
	    (rc = get_addr(l, obj, "nextHop", false, &nh, &p->next_hop)) != 0)
		return rc;
	p->prepend = (int)prepend;
	p->has_next_hop = nh != NULL;
	p->server = topology_find_route_server(l->t, p->route_server_id);
	if (p->server == NULL)
		return tl_warn(l, "routeServer", "route server \"%s\" is not in the file",
		    p->route_server_id);
	p->connection = find_session(p->server, n);
	if (p->connection != NULL && p->connection->nva == NULL) {
		p->connection->nva = n;
		p->connection->policy = p;
		if (p->connection->peer_asn != n->asn)
			return tl_warn(l, "routeServer", "BGP connection \"%s\" expects ASN %ld, the NVA "
			    "declares %ld", p->connection->res->id, p->connection->peer_asn, n->asn);
	}
	return 0;
}

static int
load_nva(struct loader *l, const json_t *obj, struct topo_nva *n)
{
	int rc;

	if (!json_is_object(obj))
		return tl_fail(l, "expected an NVA object, found %s", tl_kind_name(obj));
	n->json = (json_t *)obj;
	if ((rc = tl_get_string(l, obj, "name", true, &n->name)) != 0 ||
	    (rc = tl_get_string(l, obj, "nic", false, &n->nic_id)) != 0 ||
	    (rc = get_addrs(l, obj, "ips", &n->ips, &n->nips)) != 0)
		return rc;
	if (n->nips == 0)
		return tl_fail(l, "NVA \"%s\" has no \"ips\" to peer from", n->name);
	if (tl_field(obj, "asn") == NULL)
		return tl_fail(l, "NVA \"%s\" has no \"asn\"", n->name);
	if ((rc = get_long(l, obj, "asn", 1, 4294967295L, &n->asn)) != 0)
		return rc;
	if (n->nic_id != NULL) {
		struct topo_resource *r = topology_find(l->t, n->nic_id);

		n->nic = r != NULL && r->type == TOPO_NIC ? r->view : NULL;
		if (n->nic == NULL && (rc = tl_warn(l, "nic", "network interface \"%s\" is not in the file",
		    n->nic_id)) != 0)
			return rc;
	}
	return tl_load_array(l, obj, "peers", sizeof(*n->peers), &n->peers, &n->npeers, load_nva_peer, n);
}

static int
load_nvas(struct loader *l, const json_t *arr)
{
	struct topology *t = l->t;
	json_t *v;
	size_t i, j, old = tl_ptr_push(l, "nvas");
	int rc;

	if (json_array_size(arr) > 0 &&
	    (t->nvas = tl_arena_alloc(l->arena, json_array_size(arr) * sizeof(*t->nvas))) == NULL)
		return tl_fail_nomem(l);
	json_array_foreach((json_t *)arr, i, v) {
		tl_ptr_push_index(l, i);
		memset(&t->nvas[i], 0, sizeof(t->nvas[i]));
		if ((rc = load_nva(l, v, &t->nvas[i])) != 0)
			return rc;
		for (j = 0; j < i; j++)
			if (tl_ascii_eq(t->nvas[j].name, t->nvas[i].name))
				return tl_fail_at(l, "name", "NVA \"%s\" is declared twice", t->nvas[i].name);
		t->nnvas = i + 1;
		tl_ptr_pop(l, old);
		tl_ptr_push(l, "nvas");
	}
	tl_ptr_pop(l, old);
	return 0;
}

int
tl_load_ars(struct loader *l)
{
	json_t *obj, *v;
	size_t old;
	int rc;

	if ((rc = load_resources(l)) != 0)
		return rc;
	tl_ptr_pop(l, 0);
	if ((rc = tl_get_object(l, l->t->root, "observed", &obj)) != 0)
		return rc;
	if (obj != NULL) {
		old = tl_ptr_push(l, "observed");
		if ((rc = tl_get_object(l, obj, "bgpRoutes", &v)) != 0)
			return rc;
		if (v != NULL) {
			tl_ptr_push(l, "bgpRoutes");
			if ((rc = load_bgp_routes(l, v)) != 0)
				return rc;
		}
		tl_ptr_pop(l, old);
	}
	if ((rc = tl_get_object(l, l->t->root, "declared", &obj)) != 0 || obj == NULL)
		return rc;
	old = tl_ptr_push(l, "declared");
	if ((rc = tl_get_array(l, obj, "nvas", &v)) != 0)
		return rc;
	if (v != NULL && (rc = load_nvas(l, v)) != 0)
		return rc;
	tl_ptr_pop(l, old);
	return 0;
}
