/*
 * The ends of a flow as a user names them (plan/routes.h, struct
 * route_endpoint): a VNet, VNET/SUBNET, a NIC, an address, or the id of
 * any of them.  Azure's Network Watcher next hop starts from a VM's
 * address (https://learn.microsoft.com/azure/network-watcher/next-hop-overview);
 * path and routes accept the same and more.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "plan/routes.h"

static const char expected[] =
    "expected a VNet name or id, VNET/SUBNET, a NIC name or id, or an IP address in a subnet";

static int
from_nic(struct route_endpoint *out, const struct topology *t, const struct topo_nic *nic,
    const char *text, struct nw_err *err)
{
	struct nw_err e = { 0 };

	if (nic->subnet == NULL)
		return err_set(err, NW_EINPUT, "NIC '%s' in %s is in no subnet of the topology", text,
		    t->source);
	if (nic->private_ip == NULL || cidr_parse_addr(&out->addr, nic->private_ip, &e) != 0)
		return err_set(err, NW_EINPUT, "NIC '%s' in %s has no private IP address", text,
		    t->source);
	out->kind = ENDPOINT_NIC;
	out->nic = nic;
	out->subnet = nic->subnet;
	out->vnet = nic->subnet->vnet;
	return 0;
}

static int
from_id(struct route_endpoint *out, const struct topology *t, const char *text, struct nw_err *err)
{
	struct topo_resource *r = topology_find(t, text);
	struct topo_subnet *s;

	if (r != NULL && r->type == TOPO_VNET) {
		out->vnet = r->view;
		return 0;
	}
	if (r != NULL && r->type == TOPO_NIC)
		return from_nic(out, t, r->view, text, err);
	s = topology_find_subnet(t, text);
	if (s != NULL) {
		out->kind = ENDPOINT_SUBNET;
		out->subnet = s;
		out->vnet = s->vnet;
		return 0;
	}
	return err_set(err, NW_EINPUT, "no VNet, subnet or NIC with id '%s' in %s; %s", text,
	    t->source, expected);
}

static int
from_addr(struct route_endpoint *out, const struct topology *t, const char *text,
    const struct cidr *addr, struct nw_err *err)
{
	struct topo_vnet *v[2];
	size_t n = topology_vnets_by_addr(v, 2, t, addr);

	if (n == 0)
		return err_set(err, NW_EINPUT, "address %s is in no VNet of %s; %s", text, t->source,
		    expected);
	if (n > 1)
		return err_set(err, NW_EINPUT,
		    "address %s is in the address space of %zu VNets of %s (%s, %s%s); give VNET/SUBNET",
		    text, n, t->source, v[0]->res->name, v[1]->res->name, n > 2 ? ", ..." : "");
	out->subnet = topology_subnet_by_addr(v[0], addr);
	if (out->subnet == NULL)
		return err_set(err, NW_EINPUT,
		    "address %s is in VNet %s of %s but in none of its subnets; %s", text,
		    v[0]->res->name, t->source, expected);
	out->kind = ENDPOINT_ADDRESS;
	out->vnet = v[0];
	out->addr = *addr;
	return 0;
}

static int
from_names(struct route_endpoint *out, const struct topology *t, const char *text,
    struct nw_err *err)
{
	const char *slash = strchr(text, '/');
	char vname[256];
	struct topo_vnet *v;

	if ((size_t)(slash - text) >= sizeof(vname))
		return err_set(err, NW_EINPUT, "no VNet '%.*s...' in %s; %s", 32, text, t->source,
		    expected);
	memcpy(vname, text, (size_t)(slash - text));
	vname[slash - text] = '\0';
	v = topology_find_vnet_by_name(t, vname);
	if (v == NULL)
		return err_set(err, NW_EINPUT, "no VNet '%s' in %s (from '%s'); %s", vname, t->source,
		    text, expected);
	for (size_t i = 0; i < v->nsubnets; i++)
		if (strcasecmp(v->subnets[i].name, slash + 1) == 0) {
			out->kind = ENDPOINT_SUBNET;
			out->vnet = v;
			out->subnet = &v->subnets[i];
			return 0;
		}
	return err_set(err, NW_EINPUT, "VNet %s has no subnet '%s' in %s", v->res->name, slash + 1,
	    t->source);
}

int
routes_endpoint_resolve(struct route_endpoint *out, const struct topology *t, const char *text,
    struct nw_err *err)
{
	struct nw_err e = { 0 };
	struct cidr addr;
	struct topo_nic *nic;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (text[0] == '/')
		return from_id(out, t, text, err);
	if (strchr(text, '/') == NULL && cidr_parse_addr(&addr, text, &e) == 0)
		return from_addr(out, t, text, &addr, err);
	if (strchr(text, '/') != NULL)
		return from_names(out, t, text, err);
	out->vnet = topology_find_vnet_by_name(t, text);
	if (out->vnet != NULL)
		return 0;
	nic = topology_find_nic_by_name(t, text, &n);
	if (n > 1)
		return err_set(err, NW_EINPUT, "%zu NICs are named '%s' in %s; give the full id", n,
		    text, t->source);
	if (nic != NULL)
		return from_nic(out, t, nic, text, err);
	return err_set(err, NW_EINPUT, "no VNet, NIC or address '%s' in %s; %s", text, t->source,
	    expected);
}

void
routes_endpoint_prefixes(const struct cidr **v, size_t *n, const struct route_endpoint *e)
{
	switch (e->kind) {
	case ENDPOINT_VNET:
		*v = e->vnet->prefixes.v;
		*n = e->vnet->prefixes.n;
		return;
	case ENDPOINT_SUBNET:
		*v = e->subnet->prefixes.v;
		*n = e->subnet->prefixes.n;
		return;
	case ENDPOINT_NIC:
	case ENDPOINT_ADDRESS:
		*v = &e->addr;
		*n = 1;
		return;
	}
	*v = NULL;
	*n = 0;
}

void
routes_endpoint_label(char *buf, size_t n, const struct route_endpoint *e)
{
	char a[CIDR_STRLEN];

	switch (e->kind) {
	case ENDPOINT_SUBNET:
		snprintf(buf, n, "%s/%s", e->vnet->res->name, e->subnet->name);
		return;
	case ENDPOINT_NIC:
		snprintf(buf, n, "%s", e->nic->res->name);
		return;
	case ENDPOINT_ADDRESS:
		cidr_format_addr(&e->addr, a);
		snprintf(buf, n, "%s", a);
		return;
	case ENDPOINT_VNET:
		break;
	}
	snprintf(buf, n, "%s", e->vnet->res->name);
}

const char *
routes_endpoint_id(const struct route_endpoint *e, char buf[CIDR_STRLEN])
{
	switch (e->kind) {
	case ENDPOINT_SUBNET:
		return e->subnet->id;
	case ENDPOINT_NIC:
		return e->nic->res->id;
	case ENDPOINT_ADDRESS:
		cidr_format_addr(&e->addr, buf);
		return buf;
	case ENDPOINT_VNET:
		break;
	}
	return e->vnet->res->id;
}
