/*
 * Preflight: what Azure would refuse of a stored plan, found before the
 * first write.  Three pure steps, so every judge is tested with hand-made
 * inputs and the reads live elsewhere (providers/azure/preflight.c):
 *
 *   1. preflight_writes: every write the plan will send (each step's
 *      operation, each inverse rollback would send, the decommission's
 *      DELETEs), with the RBAC permission it needs and the scope whose
 *      permissions are read for it;
 *   2. preflight_reads: what must be read for those writes, batched by
 *      scope: permissions once per resource group (or subscription),
 *      locks and deny assignments once per subscription, one policy check
 *      per distinct (scope, resource type, body shape), the collections
 *      that hold the resources' provisioning states once per (group,
 *      type), providers, features and resource groups once per
 *      subscription;
 *   3. preflight_judge: the facts read, judged against the writes:
 *      findings with a severity (blocker, warning, info), the resource,
 *      the scope and the fix.
 *
 * The facts are one JSON object (the shape is documented at
 * preflight_judge); a read that failed is recorded as {"error": "..."}
 * and its check reported as not run, never as passed.  docs/preflight.md
 * says what each check reads and what it cannot know.
 */
#ifndef NETWAVE_PLAN_PREFLIGHT_H
#define NETWAVE_PLAN_PREFLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "plan/err.h"

#define PREFLIGHT_FORMAT "netwave.preflight/v1"

enum pf_severity { PF_INFO = 0, PF_WARNING, PF_BLOCKER };

/* "info", "warning", "blocker". */
const char *pf_severity_name(enum pf_severity s);

struct pf_finding {
	enum pf_severity severity;
	const char *code;  /* stable: "permission-missing", "lock-read-only", ... (static) */
	char *check;       /* "permissions", "locks", "policy", "state", "circuits" (owned) */
	char *resource;    /* the resource the refused write names (owned) */
	char *scope;       /* the scope the refusal comes from: a lock's, a policy assignment's (owned, may be NULL) */
	char *message;     /* what Azure would answer and why (owned) */
	char *fix;         /* what to do about it (owned) */
	json_t *steps;     /* the step ids concerned, array of strings (owned) */
};

struct preflight {
	struct pf_finding *v;
	size_t n, cap;
	size_t by_severity[3];
	json_t *checks;    /* [{name, status: "ran"|"not-run", detail}] */
	size_t writes;     /* writes judged */
};

/* Role of a write in the plan. */
#define PF_ROLE_FORWARD "forward"          /* a step's operation */
#define PF_ROLE_ROLLBACK "rollback"        /* a step's inverse */
#define PF_ROLE_DECOMMISSION "decommission" /* an operation of a decommission wave */

/*
 * Every write plan (a netwave.plan/v1 document) sends, as a new array of
 * {step, wave, role, method, path (without query), apiVersion, body (may
 * be absent), permission, permissionScope, subscription, resourceGroup
 * (absent at subscription level), createsGroup (true for a resource
 * group PUT)}.  GETs and "NONE" inverses are left out.  NW_EINPUT naming
 * the step when an operation has no method or path or names no resource
 * type.
 */
int preflight_writes(json_t **out, const json_t *plan, struct nw_err *err);

/*
 * What to read for writes (from preflight_writes), new object:
 *   permissionScopes  [scope]          GET {scope}/providers/Microsoft.Authorization/permissions
 *   subscriptions     [subscription]   locks, deny assignments, resource groups: once each
 *   policy            [{key, scope, type, apiVersion, content, steps}]
 *                                      POST {scope}/providers/Microsoft.PolicyInsights/checkPolicyRestrictions
 *   collections       [path]           GET of a (group, type) collection: provisioning states
 *   providers         [{subscription, namespace}]
 *   features          [{subscription, namespace, feature}]
 *   networkManagers   [{id, regions}]  POST {id}/listDeploymentStatus: a commit in progress
 * Each list sorted and without duplicates.
 */
int preflight_reads(json_t **out, const json_t *writes, struct nw_err *err);

/*
 * The key of a policy check: scope, type and the body's shape (the body
 * with every ARM id and every name replaced by its type, keys sorted), so
 * 5,000 static members of one group are one check.  Malloc'd, NULL on out
 * of memory.
 */
char *preflight_policy_key(const char *scope, const char *type, const json_t *body);

/*
 * The top-level resource of path (".../providers/NS/type/name") into id,
 * and its collection (id without its name) into coll; false when path
 * names no resource under a provider.
 */
bool preflight_top_resource(char *id, size_t isize, char *coll, size_t csize, const char *path);

/*
 * Judges the facts read against the writes, filling out (zeroed by the
 * caller, freed with preflight_clear).  facts:
 *   permissions     {scope (lowercase): {"value": [...]} | {"error"}}
 *   locks           {subscription (lowercase): [lock] | {"error"}}
 *   denyAssignments {subscription: [denyAssignment] | {"error"}}
 *   policy          {key (as preflight_reads gives it): checkPolicyRestrictions answer | {"error"}}
 *   resources       {id (lowercase): resource as ARM returns it}   (every collection read)
 *   collections     {path (lowercase): true | {"error"}}           (which were read)
 *   resourceGroups  {subscription: [group name (lowercase)] | {"error"}}
 *   providers       {"sub/namespace" (lowercase): registrationState | {"error"}}
 *   features        {"sub/namespace/feature" (lowercase): state | {"error"}}
 *   deployments     {networkManager id (lowercase): [deploymentStatus] | {"error"}}
 * A missing member means the check was not run.  Fails only on out of
 * memory or a write without its fields (NW_EINPUT).
 */
int preflight_judge(struct preflight *out, const json_t *writes, const json_t *facts, struct nw_err *err);

/*
 * Adds a finding (strings copied; scope and fix may be NULL; step may be
 * NULL).  0 or NW_ENOMEM.
 */
int preflight_add(struct preflight *pf, enum pf_severity sev, const char *code, const char *check,
    const char *resource, const char *scope, const char *step, struct nw_err *err,
    const char *fix, const char *fmt, ...) __attribute__((format(printf, 10, 11)));

struct topology;

/*
 * Circuit and BGP sanity (plan/circuits.h) of the ExpressRoute circuits
 * connected to a gateway the plan writes, judged in t (the topology the
 * plan was made from, named by source; NULL: the check is noted as not
 * run).  Findings keep circuit_sanity's codes; errors become blockers.
 */
int preflight_circuits(struct preflight *pf, const struct topology *t, const char *source, const json_t *writes,
    struct nw_err *err);

/* Records a check as run or not run, with a line saying what it read or why not. */
int preflight_check_note(struct preflight *pf, const char *name, bool ran, const char *detail,
    struct nw_err *err);

/* Sorts findings: blockers first, then code, then resource. */
void preflight_sort(struct preflight *pf);

/*
 * The netwave.preflight/v1 document (new reference, NULL on out of
 * memory): {format, plan, checkedAt, ok, summary {blockers, warnings,
 * info, writes}, checks, findings, requests (may be NULL)}.
 */
json_t *preflight_to_json(const struct preflight *pf, const char *plan_id, const char *checked_at,
    const json_t *requests);

/* The findings for people, grouped by severity (doc: preflight_to_json's). */
void preflight_print(FILE *f, const json_t *doc);

/* Frees what preflight holds; accepts a zeroed or cleared one. */
void preflight_clear(struct preflight *pf);

#endif
