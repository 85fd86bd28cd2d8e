/*
 * The ARM api-versions netwave sends and the emulator answers as current,
 * one definition each.  Every other file names these macros; a new
 * api-version is changed here and nowhere else.
 *
 * Sources (the REST specifications and the reference pages):
 *   Microsoft.Network 2026-01-01 - the version @azure/arm-network 39 sends;
 *     https://learn.microsoft.com/rest/api/virtualnetwork/
 *   Microsoft.Features 2021-07-01 - "Features - Register";
 *     https://learn.microsoft.com/rest/api/resources/features
 *   Microsoft.Resources 2021-04-01 - resource groups and providers;
 *     https://learn.microsoft.com/rest/api/resources/resource-groups
 *   Microsoft.ResourceGraph 2021-03-01 - "Resources";
 *     https://learn.microsoft.com/rest/api/azureresourcegraph/resourcegraph/resources/resources
 */
#ifndef NETWAVE_PLAN_ARM_API_H
#define NETWAVE_PLAN_ARM_API_H

#define ARM_API_NETWORK "2026-01-01"
#define ARM_API_FEATURES "2021-07-01"
#define ARM_API_RESOURCES "2021-04-01"
#define ARM_API_GRAPH "2021-03-01"
/* Subscriptions - List (https://learn.microsoft.com/rest/api/resources/subscriptions/list) */
#define ARM_API_SUBSCRIPTIONS "2022-12-01"
/* Management Groups - Get Descendants
 * (https://learn.microsoft.com/rest/api/managementgroups/management-groups/get-descendants) */
#define ARM_API_MANAGEMENT_GROUPS "2020-05-01"
/* Permissions - List For Resource Group / For Resource, Deny Assignments - List
 * (https://learn.microsoft.com/rest/api/authorization/permissions) */
#define ARM_API_AUTHORIZATION "2022-04-01"
/* Management Locks (https://learn.microsoft.com/rest/api/resources/management-locks) */
#define ARM_API_LOCKS "2016-09-01"
/* Policy Restrictions - Check At Subscription Scope
 * (https://learn.microsoft.com/rest/api/policyinsights/policy-restrictions) */
#define ARM_API_POLICY_INSIGHTS "2022-03-01"


#endif
