/*
 * Finding where an address or a name lives in a topology: the VNets whose
 * address space holds an address, the subnet that holds it, a NIC by
 * name.  path and routes use them to start a flow from a subnet, a NIC or
 * an address, as Network Watcher's next hop starts from a VM's address
 * (https://learn.microsoft.com/azure/network-watcher/next-hop-overview).
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "plan/topology.h"

size_t
topology_vnets_by_addr(struct topo_vnet **out, size_t max, const struct topology *t,
    const struct cidr *addr)
{
	size_t n = 0;

	for (size_t i = 0; i < t->nvnets; i++) {
		struct topo_vnet *v = &t->vnets[i];

		for (size_t k = 0; k < v->prefixes.n; k++)
			if (cidr_contains(&v->prefixes.v[k], addr)) {
				if (n < max)
					out[n] = v;
				n++;
				break;
			}
	}
	return n;
}

struct topo_subnet *
topology_subnet_by_addr(const struct topo_vnet *v, const struct cidr *addr)
{
	struct topo_subnet *best = NULL;
	unsigned best_len = 0;

	for (size_t i = 0; i < v->nsubnets; i++) {
		struct topo_subnet *s = &v->subnets[i];

		for (size_t k = 0; k < s->prefixes.n; k++)
			if (cidr_contains(&s->prefixes.v[k], addr) &&
			    (best == NULL || s->prefixes.v[k].len > best_len)) {
				best = s;
				best_len = s->prefixes.v[k].len;
			}
	}
	return best;
}

struct topo_nic *
topology_find_nic_by_name(const struct topology *t, const char *name, size_t *count)
{
	struct topo_nic *first = NULL;

	*count = 0;
	for (size_t i = 0; i < t->nnics; i++)
		if (strcasecmp(t->nics[i].res->name, name) == 0) {
			if (first == NULL)
				first = &t->nics[i];
			(*count)++;
		}
	return first;
}
