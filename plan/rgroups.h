/*
 * Resource groups in the estate: which exist (the groups a topology
 * records, and the group of every resource it holds), which a target
 * writes into that do not, and the records a target predicts for them.
 * The planner turns the missing ones into create-resource-group steps of
 * the prepare wave; the target carries their records so a discovery after
 * apply equals it.
 */
#ifndef NETWAVE_PLAN_RGROUPS_H
#define NETWAVE_PLAN_RGROUPS_H

#include <stdbool.h>

#include <jansson.h>

#include "plan/arm_api.h"
#include "plan/err.h"
#include "plan/topology.h"

/* ARM's type for a resource group, as "Resource Groups - Get" returns it. */
#define RGROUPS_TYPE "Microsoft.Resources/resourceGroups"
/* https://learn.microsoft.com/rest/api/resources/resource-groups */
#define RGROUPS_API ARM_API_RESOURCES

/* Whether a resource type names a resource group (case-insensitive). */
bool rgroups_is_group_type(const char *type_name);

/* Whether t records the group or holds a resource in it. */
bool rgroups_exists(const struct topology *t, const char *subscription, const char *group);

/*
 * The groups tgt writes into (the group of each of its resources, and the
 * groups it records) that cur does not have, as a new array sorted by id of
 * {id, subscription, resourceGroup, location}.  The location is the one the
 * target records for the group, else its network manager's, else that of
 * the first resource in it by id.  0, or NW_ENOMEM.
 */
int rgroups_missing(json_t **out, const struct topology *cur, const struct topology *tgt,
    struct nw_err *err);

/*
 * Appends to resources (a target's /resources, JSON) the record of every
 * group its resources live in that cur does not have, as ARM returns a
 * group: {id, name, type, location, properties: {provisioningState}}.  The
 * location is that of the group's network manager, else its first
 * resource's.  0, or NW_ENOMEM.
 */
int rgroups_predict(json_t *resources, const struct topology *cur, struct nw_err *err);

#endif
