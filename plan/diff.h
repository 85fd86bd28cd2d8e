/*
 * The topology diff: what differs between the current topology and the
 * target one, resource by resource and property by property, each
 * difference named by the resource id and a JSON pointer inside it.  The
 * planner's procedures claim these entries; an entry nobody claims is a
 * "not supported" change and blocks the plan, so the diff must be exact
 * and must not report what ARM computes by itself.
 *
 * Resources are matched by id, case-insensitively (as ARM does).  Objects
 * are compared key by key, recursively.  Arrays of named ARM children
 * (subnets, virtualNetworkPeerings, routes, ipConfigurations) are matched
 * by "name", case-insensitively, so a reorder is not a change; every other
 * array is compared whole.  The pointers of matched children use the
 * child's index in the target (in the current for a removed child).
 *
 * Ignored everywhere, at any depth (read-only or volatile, ARM computes
 * them): etag, provisioningState, resourceGuid, systemData,
 * peeringSyncLevel, peeringState.  Ignored where ARM puts them as
 * read-only back-references or echoes (DIFF_IGNORED_PATHS in diff.c):
 *   virtualNetworks  /properties/subnets/N/properties/{ipConfigurations,
 *                    privateEndpoints, serviceAssociationLinks,
 *                    resourceNavigationLinks, ipConfigurationProfiles, purpose}
 *                    /properties/virtualNetworkPeerings/N/properties/
 *                    {remoteAddressSpace, remoteVirtualNetworkAddressSpace,
 *                    remoteBgpCommunities, remoteVirtualNetworkEncryption}
 *                    (the remote VNet's own entry reports its space)
 *   routeTables      /properties/subnets, /properties/routes/N/properties/hasBgpOverride
 *   publicIPAddresses /properties/ipConfiguration
 *   privateEndpoints /properties/networkInterfaces
 *   virtualNetworkGateways /properties/sku/capacity
 *   staticMembers    /properties/region
 *   networkSecurityGroups /properties/subnets, /properties/networkInterfaces
 * Strings that are ARM ids (starting "/subscriptions/") compare without
 * case anywhere; "name", "type" and "location" members compare without
 * case (and, for regions, spaces).
 *
 * The observed section contributes entries for observed.features
 * (pointer /observed/features/<name>) and observed.avnmDeployments
 * (pointer /observed/avnmDeployments/<manager id>/<region>/<type>, the
 * configuration list compared as a set, case-insensitively, an absent
 * list equal to an empty one; manager ids and regions matched without
 * case, spelled as the target spells them).  Pointer tokens are escaped
 * as RFC 6901 says: "Microsoft.Network/AllowHighScaleConnectedGroup"
 * becomes "Microsoft.Network~1AllowHighScaleConnectedGroup", and a manager
 * id "~1subscriptions~1...".  observed.circuitRoutes are observations,
 * never a change.  The resource_id and type of these entries are
 * "observed".
 *
 * Entries are sorted by resource id (case-insensitively, then by bytes),
 * then by pointer.
 */
#ifndef NETWAVE_PLAN_DIFF_H
#define NETWAVE_PLAN_DIFF_H

#include <stddef.h>

#include <jansson.h>

#include "plan/err.h"
#include "plan/topology.h"

enum diff_kind { DIFF_ADDED, DIFF_REMOVED, DIFF_CHANGED };

struct diff_entry {
	enum diff_kind kind;
	const char *resource_id; /* borrowed: target's id for ADDED/CHANGED, current's for REMOVED; "observed" for /observed entries */
	const char *type;        /* resource type (borrowed), "observed" */
	char *pointer;           /* owned: JSON pointer inside the resource ("" = whole resource), e.g. /properties/subnets/2/properties/privateEndpointNetworkPolicies; for observed: /observed/features/... */
	json_t *before;          /* borrowed, NULL when absent */
	json_t *after;           /* borrowed, NULL when absent */
	const char *claimed_by;  /* NULL until a procedure claims it */
};

struct diff {
	struct diff_entry *v;
	size_t n;
};

/*
 * Compares cur and tgt.  ADDED: a resource (pointer "") or a property
 * present only in the target; REMOVED: present only in the current;
 * CHANGED: present in both with different values.  before/after borrow
 * from the two topologies, which must outlive the diff.  Fails only on
 * out of memory (NW_ENOMEM).  *out is filled even when empty; free it
 * with diff_free.
 */
int diff_topologies(struct diff *out, const struct topology *cur, const struct topology *tgt,
    struct nw_err *err);

/* Frees the entries; accepts NULL and an emptied diff. */
void diff_free(struct diff *d);

/*
 * The entries as a JSON array for reports (new reference; NULL on out of
 * memory): [{"kind": "added"|"removed"|"changed", "resource": id, "type",
 * "pointer", "before", "after", "claimedBy"}], absent members omitted.
 */
json_t *diff_to_json(const struct diff *d);

/* "added", "removed" or "changed". */
const char *diff_kind_name(enum diff_kind k);

#endif
