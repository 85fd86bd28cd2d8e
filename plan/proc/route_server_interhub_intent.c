/*
 * route-server-interhub, its intent part: the change's keys (hubs, each
 * with its route server and NVAs, and the spokes whose inter-hub UDR
 * routes the route servers make redundant), the refusals that need no
 * topology (more than 8 peers on a route server, reserved ASNs, bad
 * addresses) and those that do (no RouteServerSubnet of at least /27, a
 * second route server in a VNet), and the end state applied to the
 * target: a virtualHubs resource per hub with its ipConfiguration and one
 * bgpConnection per peering NVA, and the inter-hub routes removed.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/cidr.h"
#include "plan/findings.h"
#include "plan/intent.h"
#include "plan/intent_impl.h"
#include "plan/jsonutil.h"
#include "plan/procedure.h"
#include "plan/proc/route_server_interhub.h"

static const char *const RSI_KEYS[] = { "kind", "description", "hubs", "spokes", NULL };
static const char *const HUB_KEYS[] = { "vnet", "routeServer", "allowBranchToBranchTraffic", "nvas", NULL };
static const char *const RS_KEYS[] = { "name", "publicIpAddress", NULL };
static const char *const NVA_KEYS[] = {
	"name", "peerIp", "asn", "asOverride", "prependToRemote", "peerWith", "advertises", NULL,
};

/*
 * ASNs an NVA may not use: Azure's and IANA's reserved ones.  The Route
 * Server FAQ (learn.microsoft.com/azure/route-server/route-server-faq)
 * says the NVA's ASN must differ from the route server's 65515 and
 * refers to the list the VPN Gateway FAQ keeps ("Are there ASNs reserved
 * by Azure?", learn.microsoft.com/azure/vpn-gateway/vpn-gateway-vpn-faq):
 * public 8074, 8075, 12076; private 65515, 65517-65520; IANA 23456,
 * 64496-64511, 65535-65551; and 0 and 4294967295, which are not ASNs.
 */
bool
rsi_asn_reserved(long long asn)
{
	static const long long one[] = { 0, 8074, 8075, 12076, 23456, 65515, 65517, 65518, 65519, 65520,
	    4294967295LL };
	size_t i;

	for (i = 0; i < sizeof(one) / sizeof(one[0]); i++)
		if (asn == one[i])
			return true;
	return (asn >= 64496 && asn <= 64511) || (asn >= 65535 && asn <= 65551) || asn < 0 ||
	    asn > 4294967295LL;
}

static int
nva_peer_with(struct intent_loader *l, struct rsi_nva *n, const json_t *v)
{
	const char **list = NULL;
	size_t nlist = 0, i, old;
	int rc;

	n->peer_local = n->peer_remote = true;
	if (v == NULL)
		return 0;
	old = intent_push(l, "peerWith");
	rc = intent_get_string_list(l, v, &list, &nlist);
	n->peer_local = n->peer_remote = false;
	for (i = 0; rc == 0 && i < nlist; i++) {
		if (strcmp(list[i], "local") == 0) {
			n->peer_local = true;
		} else if (strcmp(list[i], "remote") == 0) {
			n->peer_remote = true;
		} else {
			size_t o2 = intent_push_index(l, i);
			rc = intent_fail(l, "unknown peer \"%s\": expected \"local\" (the route server of its hub) "
			    "or \"remote\" (the other hubs' route servers)", list[i]);
			intent_pop(l, o2);
		}
	}
	free(list);
	intent_pop(l, old);
	return rc;
}

static int
nva_parse(struct intent_loader *l, void *elem, const json_t *v)
{
	struct rsi_nva *n = elem;
	struct cidr ip;
	struct nw_err e2 = { 0 };
	long long asn = -1, prepend = 0;
	size_t old, i;
	int rc;

	if ((n->pointer = intent_strdup(l->ptr)) == NULL)
		return intent_nomem(l->err);
	if ((rc = intent_check_object(l, v, "an NVA object with \"name\", \"peerIp\" and \"asn\"", NVA_KEYS)) != 0 ||
	    (rc = intent_get_string(l, v, "name", true, &n->name)) != 0 ||
	    (rc = intent_get_string(l, v, "peerIp", true, &n->peer_ip)) != 0)
		return rc;
	if ((rc = intent_check_arm_name(l, "name", "BGP connection", n->name)) != 0)
		return rc;
	if (cidr_parse_addr(&ip, n->peer_ip, &e2) != 0 || ip.family != 4) {
		/* Route Server peers over IPv4 only (Route Server FAQ: no IPv6) */
		return intent_fail_at(l, "peerIp", "\"%s\" is not an IPv4 address: route servers peer over IPv4",
		    n->peer_ip);
	}
	if (json_object_get(v, "asn") == NULL)
		return intent_fail(l, "no \"asn\": give the NVA's BGP ASN");
	if ((rc = intent_get_integer(l, v, "asn", "an integer", 0, 4294967295LL, &asn)) != 0 ||
	    (rc = intent_get_integer(l, v, "prependToRemote", "an integer", 0, RSI_MAX_PREPEND,
	    &prepend)) != 0 ||
	    (rc = intent_get_bool(l, v, "asOverride", &n->as_override)) != 0 ||
	    (rc = nva_peer_with(l, n, json_object_get(v, "peerWith"))) != 0)
		return rc;
	n->asn = asn;
	n->prepend_remote = (unsigned)prepend;
	if (rsi_asn_reserved(asn))
		return intent_fail_at(l, "asn", "ASN %lld is reserved by Azure or IANA (65515 is the route server's "
		    "own): an NVA peering with a route server needs another", asn);
	if (json_object_get(v, "advertises") != NULL) {
		old = intent_push(l, "advertises");
		rc = intent_get_string_list(l, json_object_get(v, "advertises"), &n->advertises, &n->nadvertises);
		for (i = 0; rc == 0 && i < n->nadvertises; i++) {
			struct cidr c;
			if (cidr_parse(&c, n->advertises[i], &e2) != 0) {
				size_t o2 = intent_push_index(l, i);
				rc = intent_fail(l, "\"%s\" is not a prefix", n->advertises[i]);
				intent_pop(l, o2);
			}
		}
		intent_pop(l, old);
	}
	return rc;
}

static int
route_server_parse(struct intent_loader *l, struct rsi_hub *h, const json_t *v)
{
	const json_t *rs = json_object_get(v, "routeServer");
	size_t old;
	int rc;

	if (rs == NULL)
		return intent_fail(l, "no \"routeServer\": give {\"name\": ..., \"publicIpAddress\": \"/subscriptions/"
		    "...\"}");
	old = intent_push(l, "routeServer");
	if ((rc = intent_check_object(l, rs, "an object with \"name\" and \"publicIpAddress\"", RS_KEYS)) == 0 &&
	    (rc = intent_get_string(l, rs, "name", true, &h->name)) == 0 &&
	    (rc = intent_get_string(l, rs, "publicIpAddress", true, &h->public_ip)) == 0) {
		if ((rc = intent_check_arm_name(l, "name", "route server", h->name)) == 0 &&
		    (!intent_segment_is(h->public_ip, 0, "subscriptions") ||
		    strcasestr(h->public_ip, "/providers/Microsoft.Network/publicIPAddresses/") == NULL)) {
			/* a route server needs a Standard public IP (Route Server FAQ) */
			rc = intent_fail_at(l, "publicIpAddress", "\"%s\" is not a public IP address id: expected "
			    "/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Network/publicIPAddresses/NAME",
			    h->public_ip);
		}
	}
	intent_pop(l, old);
	return rc;
}

static int
hub_parse(struct intent_loader *l, void *elem, const json_t *v)
{
	struct rsi_hub *h = elem;
	const json_t *nvas;
	size_t old;
	int rc;

	if ((h->pointer = intent_strdup(l->ptr)) == NULL)
		return intent_nomem(l->err);
	if ((rc = intent_check_object(l, v, "a hub object with \"vnet\", \"routeServer\" and \"nvas\"",
	    HUB_KEYS)) != 0 ||
	    (rc = intent_selector_at(l, v, "vnet", &h->vnet)) != 0 ||
	    (rc = route_server_parse(l, h, v)) != 0 ||
	    (rc = intent_get_bool(l, v, "allowBranchToBranchTraffic", &h->branch_to_branch)) != 0)
		return rc;
	nvas = json_object_get(v, "nvas");
	if (nvas == NULL)
		return intent_fail(l, "no \"nvas\": list the NVAs that peer with the route servers");
	old = intent_push(l, "nvas");
	if (!json_is_array(nvas) || json_array_size(nvas) == 0) {
		rc = intent_fail(l, "expected a non-empty array of NVAs, found %s", intent_json_kind(nvas));
		intent_pop(l, old);
		return rc;
	}
	rc = intent_parse_array(l, nvas, sizeof(*h->nvas), &h->nvas, &h->nnvas, nva_parse);
	intent_pop(l, old);
	return rc;
}

/* The BGP peers of hub k's route server: its NVAs peering locally, the others' peering remotely. */
static size_t
peers_of(const struct rsi_change *c, size_t k)
{
	size_t j, i, n = 0;

	for (j = 0; j < c->nhubs; j++)
		for (i = 0; i < c->hubs[j].nnvas; i++)
			if (j == k ? c->hubs[j].nvas[i].peer_local : c->hubs[j].nvas[i].peer_remote)
				n++;
	return n;
}

/* Refusals that need no topology: peers per route server, names used twice. */
static int
rsi_validate(struct intent_loader *l, const struct rsi_change *c)
{
	size_t j, k, i, q;

	for (j = 0; j < c->nhubs; j++) {
		size_t n = peers_of(c, j);
		if (n > RSI_MAX_PEERS) {
			snprintf(l->ptr, sizeof(l->ptr), "%s/nvas", c->hubs[j].pointer);
			return intent_fail(l, "route server %s would have %zu BGP peers (its hub's NVAs and the other "
			    "hubs' NVAs that peer remotely); a route server takes at most %d "
			    "(learn.microsoft.com/azure/route-server/route-server-faq#limitations)",
			    c->hubs[j].name, n, RSI_MAX_PEERS);
		}
		for (k = 0; k < j; k++)
			if (strcasecmp(c->hubs[j].name, c->hubs[k].name) == 0) {
				snprintf(l->ptr, sizeof(l->ptr), "%s/routeServer/name", c->hubs[j].pointer);
				return intent_fail(l, "route server name \"%s\" is already used by %s", c->hubs[j].name,
				    c->hubs[k].pointer);
			}
	}
	for (j = 0; j < c->nhubs; j++)
		for (i = 0; i < c->hubs[j].nnvas; i++)
			for (k = 0; k <= j; k++)
				for (q = 0; q < (k == j ? i : c->hubs[k].nnvas); q++)
					if (strcasecmp(c->hubs[j].nvas[i].name, c->hubs[k].nvas[q].name) == 0) {
						snprintf(l->ptr, sizeof(l->ptr), "%s/name", c->hubs[j].nvas[i].pointer);
						return intent_fail(l, "NVA name \"%s\" is already used by %s: it names "
						    "the NVA's BGP connections", c->hubs[j].nvas[i].name,
						    c->hubs[k].nvas[q].pointer);
					}
	return 0;
}

static int
rsi_intent_parse(struct intent_loader *l, void *state, const json_t *v)
{
	struct rsi_change *c = state;
	const json_t *hubs;
	size_t old;
	int rc;

	if ((rc = intent_check_keys(l, v, RSI_KEYS)) != 0)
		return rc;
	hubs = json_object_get(v, "hubs");
	if (hubs == NULL)
		return intent_fail(l, "no \"hubs\": list the hub VNets that get a route server");
	old = intent_push(l, "hubs");
	if (!json_is_array(hubs) || json_array_size(hubs) < 2) {
		rc = intent_fail(l, "expected an array of at least two hubs (inter-hub routing), found %s",
		    json_is_array(hubs) ? "one" : intent_json_kind(hubs));
		intent_pop(l, old);
		return rc;
	}
	rc = intent_parse_array(l, hubs, sizeof(*c->hubs), &c->hubs, &c->nhubs, hub_parse);
	intent_pop(l, old);
	if (rc != 0)
		return rc;
	if (json_object_get(v, "spokes") != NULL) {
		c->has_spokes = true;
		if ((rc = intent_selector_at(l, v, "spokes", &c->spokes)) != 0)
			return rc;
	}
	old = strlen(l->ptr);
	rc = rsi_validate(l, c);
	l->ptr[old] = '\0';
	return rc;
}

static void
rsi_intent_clear(void *state)
{
	struct rsi_change *c = state;
	size_t j, i;

	for (j = 0; j < c->nhubs; j++) {
		for (i = 0; i < c->hubs[j].nnvas; i++) {
			free(c->hubs[j].nvas[i].advertises);
			free(c->hubs[j].nvas[i].pointer);
		}
		free(c->hubs[j].nvas);
		free(c->hubs[j].pointer);
		intent_selector_free(&c->hubs[j].vnet);
	}
	free(c->hubs);
	if (c->has_spokes)
		intent_selector_free(&c->spokes);
}

/* ------------------------------------------------------------------ */
/* Expansion                                                           */

/* What one expansion knows of the estate: each hub's VNet, each VNet's hub. */
struct rsi_x {
	struct intent_expander *e;
	const struct intent_change *ch;
	const struct rsi_change *c;
	const struct topo_vnet **hub_vnet; /* per intent hub */
	long *hub_of;                      /* per cur VNet: its intent hub, -1 for none */
};

static int rsi_fail(struct rsi_x *x, const char *pointer, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
rsi_fail(struct rsi_x *x, const char *pointer, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(x->e->err, NW_EINPUT, "%s: %s: %s", x->e->in->source, pointer, msg);
}

/* "<VNet's subscription and group>/providers/Microsoft.Network/virtualHubs/<name>" */
static char *
hub_id(const struct topo_vnet *v, const char *name)
{
	const char *p = strcasestr(v->res->id, "/providers/");
	size_t n = p != NULL ? (size_t)(p - v->res->id) : strlen(v->res->id);
	size_t len = n + strlen("/providers/" TYPE_VIRTUAL_HUB "/") + strlen(name) + 1;
	char *id = malloc(len);

	if (id != NULL)
		snprintf(id, len, "%.*s/providers/%s/%s", (int)n, v->res->id, TYPE_VIRTUAL_HUB, name);
	return id;
}

/* The route server already in VNet v (its ipConfiguration's subnet is v's), or NULL. */
static const char *
existing_route_server(const struct topology *t, const struct topo_vnet *v)
{
	size_t i, n = strlen(v->res->id);

	for (i = 0; i < t->nres; i++) {
		const struct topo_resource *r = &t->res[i];
		const char *sub;

		if (r->type_name == NULL || strcasecmp(r->type_name, TYPE_HUB_IP_CONFIG) != 0)
			continue;
		sub = json_path_str(r->json, "properties", "subnet", "id", NULL);
		if (sub != NULL && strncasecmp(sub, v->res->id, n) == 0 && sub[n] == '/')
			return r->id;
	}
	return NULL;
}

/* Hub j's VNet: its selector matches exactly one, with a RouteServerSubnet of at least /27, no other ARS. */
static int
find_hub(struct rsi_x *x, size_t j)
{
	const struct rsi_hub *h = &x->c->hubs[j];
	const struct topology *t = x->e->cur;
	const struct topo_vnet *v = NULL;
	const struct topo_subnet *s = NULL;
	const char *other;
	char ptr[PTR_MAX], *id;
	size_t i, n = 0;
	int rc = 0;

	for (i = 0; i < t->nvnets; i++)
		if (intent_selector_match(&h->vnet, t->vnets[i].res)) {
			v = &t->vnets[i];
			n++;
		}
	if (n == 0)
		return intent_selector_fail(x->e->in, &h->vnet, x->e->err, "VNet");
	if (n > 1) {
		return rsi_fail(x, h->vnet.pointer, "matches %zu VNets; a hub names exactly one", n);
	}
	for (i = 0; i < v->nsubnets; i++)
		if (strcasecmp(v->subnets[i].name, RSI_SUBNET) == 0)
			s = &v->subnets[i];
	snprintf(ptr, sizeof(ptr), "%s/vnet", h->pointer);
	if (s == NULL)
		return rsi_fail(x, ptr, "VNet %s has no " RSI_SUBNET ": a route server needs its own subnet of "
		    "at least /27 named so (learn.microsoft.com/azure/route-server/route-server-faq)",
		    v->res->name);
	for (i = 0; i < s->prefixes.n; i++)
		if (s->prefixes.v[i].len > RSI_SUBNET_MAX_LEN) {
			char c1[CIDR_STRLEN];
			cidr_format(&s->prefixes.v[i], c1);
			return rsi_fail(x, ptr, "the " RSI_SUBNET " of VNet %s is %s: a route server needs at "
			    "least a /27 (learn.microsoft.com/azure/route-server/route-server-faq)", v->res->name, c1);
		}
	for (i = 0; i < j; i++)
		if (x->hub_vnet[i] == v)
			return rsi_fail(x, ptr, "VNet %s already gets a route server from %s: a VNet holds one",
			    v->res->name, x->c->hubs[i].pointer);
	if ((id = hub_id(v, h->name)) == NULL)
		return intent_nomem(x->e->err);
	other = existing_route_server(t, v);
	if (other != NULL && strncasecmp(other, id, strlen(id)) != 0)
		rc = rsi_fail(x, ptr, "VNet %s already holds route server %s: a VNet holds one "
		    "(learn.microsoft.com/azure/route-server/route-server-faq)", v->res->name, other);
	free(id);
	x->hub_vnet[j] = v;
	return rc;
}

/* Adds res to the target unless a resource with its id is there; its properties then merged in. */
static int
put_resource(struct rsi_x *x, json_t *res)
{
	json_t *have;

	if (res == NULL)
		return intent_nomem(x->e->err);
	have = intent_work_find_edit(x->e, json_str(res, "id"));
	if (have != NULL) {
		json_t *props = intent_mut_object(have, "properties");
		int rc = props == NULL || json_object_update(props, json_object_get(res, "properties")) != 0 ?
		    intent_nomem(x->e->err) : 0;
		json_decref(res);
		return rc;
	}
	return intent_work_add(x->e, res);
}

static int
add_bgp(struct rsi_x *x, const char *hid, const struct rsi_nva *n)
{
	char *id;
	int rc;

	if (asprintf(&id, "%s/bgpConnections/%s", hid, n->name) < 0)
		return intent_nomem(x->e->err);
	rc = put_resource(x, json_pack("{s:s, s:s, s:s, s:{s:s, s:I}}", "id", id, "name", n->name, "type",
	    TYPE_BGP_CONNECTION, "properties", "peerIp", n->peer_ip, "peerAsn", (json_int_t)n->asn));
	free(id);
	return rc;
}

/* Hub j's route server: the virtualHubs resource, its ipConfiguration, its BGP connections. */
static int
add_route_server(struct rsi_x *x, size_t j)
{
	const struct rsi_hub *h = &x->c->hubs[j];
	const struct topo_vnet *v = x->hub_vnet[j];
	char *hid = hub_id(v, h->name), *ipc = NULL, *sub = NULL;
	size_t k, i;
	int rc;

	if (hid == NULL || asprintf(&ipc, "%s/ipConfigurations/" RSI_IPCONFIG, hid) < 0 ||
	    asprintf(&sub, "%s/subnets/" RSI_SUBNET, v->res->id) < 0) {
		rc = intent_nomem(x->e->err);
		goto done;
	}
	/* sku Standard and no virtualWan make a virtualHubs resource a route server */
	rc = put_resource(x, json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:b}}", "id", hid, "name", h->name,
	    "type", TYPE_VIRTUAL_HUB, "location", v->res->location != NULL ? v->res->location : "",
	    "properties", "sku", "Standard", "allowBranchToBranchTraffic", h->branch_to_branch));
	if (rc == 0)
		rc = put_resource(x, json_pack("{s:s, s:s, s:s, s:{s:{s:s}, s:{s:s}}}", "id", ipc, "name",
		    RSI_IPCONFIG, "type", TYPE_HUB_IP_CONFIG, "properties", "subnet", "id", sub,
		    "publicIPAddress", "id", h->public_ip));
	for (k = 0; k < x->c->nhubs && rc == 0; k++)
		for (i = 0; i < x->c->hubs[k].nnvas && rc == 0; i++) {
			const struct rsi_nva *n = &x->c->hubs[k].nvas[i];
			if (k == j ? n->peer_local : n->peer_remote)
				rc = add_bgp(x, hid, n);
		}
done:
	free(hid);
	free(ipc);
	free(sub);
	return rc;
}

/*
 * The NVA as the target declares it (declared.nvas, plan/topology_ars.h):
 * its IP and ASN, and one peer per route server it peers with.  Toward
 * its own hub's route server it advertises what it originates; toward a
 * remote one it also re-advertises what its own hub's route server
 * taught it (seed 003, option A), with AS-override and prepends as the
 * intent says.
 */
static json_t *
declared_nva(struct rsi_x *x, size_t j, const struct rsi_nva *n)
{
	json_t *peers = json_array(), *adv = json_array(), *nva;
	char *own = hub_id(x->hub_vnet[j], x->c->hubs[j].name);
	size_t k, i;

	for (i = 0; i < n->nadvertises && adv != NULL; i++)
		json_array_append_new(adv, json_string(n->advertises[i]));
	for (k = 0; k < x->c->nhubs && peers != NULL && own != NULL; k++) {
		char *id = hub_id(x->hub_vnet[k], x->c->hubs[k].name);
		json_t *peer = id != NULL ? json_pack("{s:s, s:O}", "routeServer", id, "advertise", adv) : NULL;

		if (peer != NULL && k != j && n->peer_remote) {
			json_object_set_new(peer, "readvertise", json_pack("[s]", own));
			json_object_set_new(peer, "asOverride", json_boolean(n->as_override));
			if (n->prepend_remote > 0)
				json_object_set_new(peer, "prepend", json_integer((json_int_t)n->prepend_remote));
		}
		if (peer != NULL && (k == j ? n->peer_local : n->peer_remote))
			json_array_append(peers, peer);
		json_decref(peer);
		free(id);
	}
	nva = own != NULL && peers != NULL && adv != NULL ? json_pack("{s:s, s:I, s:[s], s:O}", "name", n->name,
	    "asn", (json_int_t)n->asn, "ips", n->peer_ip, "peers", peers) : NULL;
	free(own);
	json_decref(peers);
	json_decref(adv);
	return nva;
}

/* The intent's NVAs into the target's declared.nvas, replacing any of the same name (its NIC kept). */
static int
declare_nvas(struct rsi_x *x)
{
	json_t *declared = intent_mut_object(x->e->root, "declared"), *nvas;
	size_t j, i, q;

	if (declared == NULL || (!json_is_array(json_object_get(declared, "nvas")) &&
	    json_object_set_new(declared, "nvas", json_array()) != 0) ||
	    (nvas = intent_mut_array(declared, "nvas")) == NULL)
		return intent_nomem(x->e->err);
	for (j = 0; j < x->c->nhubs; j++)
		for (i = 0; i < x->c->hubs[j].nnvas; i++) {
			const struct rsi_nva *n = &x->c->hubs[j].nvas[i];
			json_t *nva = declared_nva(x, j, n);

			if (nva == NULL)
				return intent_nomem(x->e->err);
			for (q = json_array_size(nvas); q-- > 0;) {
				const json_t *old = json_array_get(nvas, q);
				if (json_str(old, "name") == NULL || strcmp(json_str(old, "name"), n->name) != 0)
					continue;
				/* the intent does not name the NVA's NIC: keep what was declared */
				if (json_object_get(old, "nic") != NULL)
					json_object_set(nva, "nic", json_object_get(old, "nic"));
				json_array_remove(nvas, q);
			}
			if (json_array_append_new(nvas, nva) != 0)
				return intent_nomem(x->e->err);
		}
	return 0;
}

/* Each cur VNet's intent hub: the hub itself, or the one hub a spoke peers with. */
static void
map_hubs(struct rsi_x *x)
{
	const struct topology *t = x->e->cur;
	size_t i, j, k;

	for (i = 0; i < t->nvnets; i++) {
		x->hub_of[i] = -1;
		for (j = 0; j < x->c->nhubs; j++)
			if (x->hub_vnet[j] == &t->vnets[i])
				x->hub_of[i] = (long)j;
	}
	for (i = 0; i < t->nvnets; i++) {
		const struct topo_vnet *v = &t->vnets[i];
		long found = -1;
		bool two = false;

		if (x->hub_of[i] >= 0)
			continue;
		for (k = 0; k < v->npeerings; k++)
			for (j = 0; j < x->c->nhubs; j++)
				if (v->peerings[k].remote == x->hub_vnet[j]) {
					two |= found >= 0 && found != (long)j;
					found = (long)j;
				}
		x->hub_of[i] = two ? -1 : found;
	}
}

/*
 * Whether route ro of a route table used by VNet user (its cur index) is
 * an inter-hub route the route servers make redundant: a VirtualAppliance
 * route to exactly the address prefix of a selected spoke of another hub.
 * The default route (0.0.0.0/0) keeps inspection and is never one.
 */
static bool
rsi_route_redundant(const struct topology *t, const long *hub_of, const bool *selected, size_t user,
    const struct topo_route *ro)
{
	size_t i, k;

	if (ro->prefix.len == 0 || ro->next_hop != NH_VIRTUAL_APPLIANCE || hub_of[user] < 0)
		return false;
	for (i = 0; i < t->nvnets; i++) {
		if (!selected[i] || hub_of[i] < 0 || hub_of[i] == hub_of[user])
			continue;
		for (k = 0; k < t->vnets[i].prefixes.n; k++)
			if (cidr_equal(&t->vnets[i].prefixes.v[k], &ro->prefix))
				return true;
	}
	return false;
}

/* Removes the redundant routes from the target's route tables. */
static int
drop_routes(struct rsi_x *x, const bool *selected)
{
	const struct topology *t = x->e->cur;
	size_t i, s, r, q;

	for (i = 0; i < t->nvnets; i++)
		for (s = 0; s < t->vnets[i].nsubnets; s++) {
			const struct topo_route_table *rt = t->vnets[i].subnets[s].route_table;
			json_t *res, *arr;

			if (rt == NULL)
				continue;
			for (r = rt->nroutes; r-- > 0;) {
				if (!rsi_route_redundant(t, x->hub_of, selected, i, &rt->routes[r]))
					continue;
				if ((res = intent_work_edit(x->e, rt->res, true)) == NULL)
					return intent_nomem(x->e->err);
				arr = json_path(res, "properties", "routes", NULL);
				for (q = json_array_size(arr); q-- > 0;)
					if (json_str(json_array_get(arr, q), "name") != NULL &&
					    strcasecmp(json_str(json_array_get(arr, q), "name"), rt->routes[r].name) == 0)
						json_array_remove(arr, q);
			}
		}
	return 0;
}

static int
rsi_intent_expand(struct intent_expander *e, const struct intent_change *ch)
{
	struct rsi_x x = { .e = e, .ch = ch, .c = rsi_of(ch) };
	const struct topology *t = e->cur;
	bool *selected = NULL;
	size_t j, i;
	int rc = 0;

	x.hub_vnet = calloc(x.c->nhubs, sizeof(*x.hub_vnet));
	x.hub_of = calloc(t->nvnets + 1, sizeof(*x.hub_of));
	selected = calloc(t->nvnets + 1, sizeof(*selected));
	if (x.hub_vnet == NULL || x.hub_of == NULL || selected == NULL) {
		rc = intent_nomem(e->err);
		goto done;
	}
	for (j = 0; j < x.c->nhubs && rc == 0; j++)
		rc = find_hub(&x, j);
	for (j = 0; j < x.c->nhubs && rc == 0; j++)
		rc = add_route_server(&x, j);
	if (rc == 0)
		rc = declare_nvas(&x);
	if (rc != 0 || !x.c->has_spokes)
		goto done;
	map_hubs(&x);
	for (i = 0; i < t->nvnets; i++)
		selected[i] = x.hub_of[i] >= 0 && !findings_is_hub(&t->vnets[i]) &&
		    intent_selector_match(&x.c->spokes, t->vnets[i].res);
	for (i = 0, j = 0; i < t->nvnets; i++)
		j += selected[i];
	if (j == 0)
		rc = err_set(e->err, NW_EINPUT, "%s: %s: matches no spoke peered with one of the hubs",
		    e->in->source, x.c->spokes.pointer);
	else
		rc = drop_routes(&x, selected);
done:
	free(x.hub_vnet);
	free(x.hub_of);
	free(selected);
	return rc;
}

const struct procedure_intent rsi_intent = {
	sizeof(struct rsi_change), rsi_intent_parse, rsi_intent_clear, NULL, rsi_intent_expand,
};
