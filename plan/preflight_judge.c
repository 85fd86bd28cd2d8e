/*
 * Preflight, second half: the pure judges.  Given the writes a plan sends
 * (preflight_writes) and the facts read from the live estate (shape at
 * preflight_judge in preflight.h), each judge adds the findings of what
 * ARM would refuse: AuthorizationFailed (permissions, deny assignments),
 * ScopeLocked (management locks), RequestDisallowedByPolicy (policy deny),
 * ResourceGroupNotFound, a resource or provider not ready.  A fact that
 * could not be read makes its check "not-run", never "passed".
 *
 * Sources:
 *   permissions: https://learn.microsoft.com/rest/api/authorization/permissions/list-for-resource-group
 *   wildcards, notActions: https://learn.microsoft.com/azure/role-based-access-control/role-definitions
 *   locks: https://learn.microsoft.com/azure/azure-resource-manager/management/lock-resources
 *     ("ReadOnly ... can't delete or update", "CanNotDelete ... can't delete", locks inherit to
 *     child scopes, and a lock applies to POST operations that write)
 *   deny assignments: https://learn.microsoft.com/azure/role-based-access-control/deny-assignments
 *   policy: https://learn.microsoft.com/rest/api/policyinsights/policy-restrictions/check-at-resource-group-scope
 *   provisioning states: https://learn.microsoft.com/azure/azure-resource-manager/management/resource-providers-and-types
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "plan/preflight.h"
#include "plan/rbac.h"

/* True when scope covers path: the same, or a parent ("scope/..."), without case. */
static bool
scope_covers(const char *scope, const char *path, bool children)
{
	size_t n = strlen(scope);

	while (n > 0 && scope[n - 1] == '/')
		n--;
	if (strncasecmp(scope, path, n) != 0)
		return false;
	return path[n] == '\0' || (children && path[n] == '/');
}

/* The fact for key in facts.member, or NULL; *failed says it is {"error"}. */
static const json_t *
fact(const json_t *facts, const char *member, const char *key, bool *failed)
{
	char low[2048];
	size_t i;
	const json_t *v;

	for (i = 0; key[i] != '\0' && i + 1 < sizeof(low); i++)
		low[i] = (char)((key[i] >= 'A' && key[i] <= 'Z') ? key[i] + 32 : key[i]);
	low[i] = '\0';
	v = json_object_get(json_object_get(facts, member), low);
	*failed = json_is_object(v) && json_str(v, "error") != NULL;
	return *failed ? NULL : v;
}

static bool
is_delete(const json_t *w)
{
	return strcmp(json_str(w, "method"), "DELETE") == 0;
}

static bool
is_role(const json_t *w, const char *role)
{
	return strcmp(json_str(w, "role"), role) == 0;
}

/* --- permissions ------------------------------------------------------------------------- */

/* The missing actions of one scope: {scope: {actions: {a: true}, steps: [..], resource}}. */
static int
permissions_scope(struct preflight *pf, const char *scope, const json_t *missing, struct nw_err *err)
{
	const json_t *acts = json_object_get(missing, "actions");
	const char **names = calloc(json_object_size(acts) + 1, sizeof(*names)), *k;
	const struct rbac_role *role;
	char list[2048] = "", fix[2600];
	json_t *v;
	size_t n = 0, len = 0;
	int rc;

	if (names == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	json_object_foreach((json_t *)acts, k, v) {
		names[n++] = k;
		len += (size_t)snprintf(list + len, len < sizeof(list) ? sizeof(list) - len : 0, "%s%s",
		    len > 0 ? ", " : "", k);
	}
	role = rbac_smallest_role(names, n);
	if (role != NULL)
		snprintf(fix, sizeof(fix), "assign the caller '%s' (the smallest built-in role that grants %s) "
		    "at %s, or a custom role with these actions", role->name, n > 1 ? "them" : "it", scope);
	else
		snprintf(fix, sizeof(fix), "assign the caller a role granting these actions at %s", scope);
	rc = preflight_add(pf, PF_BLOCKER, "permission-missing", "permissions", json_str(missing, "resource"),
	    scope, NULL, err, fix, "the caller lacks %s at %s: ARM would answer AuthorizationFailed", list, scope);
	if (rc == 0)
		json_array_extend(pf->v[pf->n - 1].steps, json_object_get(missing, "steps"));
	free(names);
	return rc;
}

static int
judge_permissions(struct preflight *pf, const json_t *writes, const json_t *facts, struct nw_err *err)
{
	json_t *missing = json_object(), *w, *m;
	struct rbac_perms *perms = NULL;
	const char *scope;
	size_t i, unread = 0, read = 0, subs = 0;
	bool failed;
	int rc = 0;
	char note[320];

	if (missing == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	json_array_foreach(writes, i, w) {
		const json_t *doc;
		if (is_role(w, PF_ROLE_ROLLBACK))
			continue; /* judged with the forward write's scope: the same actions but DELETE, below */
		scope = json_str(w, "permissionScope");
		if (strcasestr(scope, "/resourceGroups/") == NULL) {
			subs++; /* no documented permissions list at a subscription (docs/preflight.md) */
			continue;
		}
		if ((doc = fact(facts, "permissions", scope, &failed)) == NULL) {
			unread++;
			continue;
		}
		rbac_perms_free(perms);
		perms = NULL;
		if ((rc = rbac_perms_from_json(&perms, doc, err)) != 0) {
			err_prefix(err, "permissions at %s", scope);
			goto done;
		}
		read++;
		if (rbac_perms_allows(perms, json_str(w, "permission")))
			continue;
		if ((m = json_object_get(missing, scope)) == NULL) {
			m = json_pack("{s:{},s:[],s:s}", "actions", "steps", "resource", json_str(w, "path"));
			json_object_set_new(missing, scope, m);
		}
		json_object_set_new(json_object_get(m, "actions"), json_str(w, "permission"), json_true());
		if (json_str(w, "step") != NULL)
			json_array_append(json_object_get(m, "steps"), json_object_get(w, "step"));
	}
	json_object_foreach(missing, scope, m)
		if ((rc = permissions_scope(pf, scope, m, err)) != 0)
			goto done;
	snprintf(note, sizeof(note), "%zu write(s) compared with the caller's permissions at their resource "
	    "group; %zu at subscription level (group creation, registrations) not checked%s", read, subs,
	    unread > 0 ? "; some scopes could not be read" : "");
	rc = preflight_check_note(pf, "permissions", unread == 0, note, err);
done:
	rbac_perms_free(perms);
	json_decref(missing);
	return rc;
}

/* --- locks ------------------------------------------------------------------------------ */

/* The scope of a lock: its id up to "/providers/Microsoft.Authorization/locks/". */
static bool
lock_scope(char *buf, size_t size, const json_t *lock)
{
	const char *id = json_str(lock, "id"), *at;

	if (id == NULL || (at = strcasestr(id, "/providers/Microsoft.Authorization/locks/")) == NULL)
		return false;
	snprintf(buf, size, "%.*s", (int)(at - id), id);
	return true;
}

static int
lock_finding(struct preflight *pf, const json_t *w, const json_t *lock, const char *scope, bool read_only,
    struct nw_err *err)
{
	const char *role = json_str(w, "role"), *path = json_str(w, "path"), *name = json_str(lock, "name");
	bool back = strcmp(role, PF_ROLE_ROLLBACK) == 0;
	char fix[1024];

	snprintf(fix, sizeof(fix), "remove the lock for the change window (az lock delete --ids %s) and put "
	    "it back afterwards, or ask its owner to", json_str(lock, "id"));
	if (back)
		return preflight_add(pf, PF_WARNING, read_only ? "lock-blocks-rollback" : "lock-blocks-rollback-delete",
		    "locks", path, scope, json_str(w, "step"), err, fix, "the way back is blocked: rolling back "
		    "step %s sends %s %s, which the %s lock '%s' at %s refuses (ScopeLocked)", json_str(w, "step"),
		    json_str(w, "method"), path, read_only ? "ReadOnly" : "CanNotDelete", name ? name : "", scope);
	return preflight_add(pf, PF_BLOCKER, read_only ? "lock-read-only" : "lock-cannot-delete", "locks", path,
	    scope, json_str(w, "step"), err, fix, "%s%s %s is refused by the %s lock '%s' at %s (ScopeLocked)",
	    strcmp(role, PF_ROLE_DECOMMISSION) == 0 ? "the decommission's " : "", json_str(w, "method"), path,
	    read_only ? "ReadOnly" : "CanNotDelete", name ? name : "", scope);
}

/*
 * The lock at one write: a finding when it refuses the write (1: look no
 * further for this write, one lock is enough to refuse), else 0.
 */
static int
lock_one(struct preflight *pf, const json_t *w, const json_t *lock, struct nw_err *err)
{
	const char *level = json_path_str(lock, "properties", "level", NULL);
	bool ro = level != NULL && strcasecmp(level, "ReadOnly") == 0;
	bool nodel = level != NULL && strcasecmp(level, "CanNotDelete") == 0;
	char scope[2048];
	int rc;

	if (!lock_scope(scope, sizeof(scope), lock) || !scope_covers(scope, json_str(w, "path"), true))
		return 0;
	if (!ro && !(nodel && is_delete(w)))
		return 0;
	rc = lock_finding(pf, w, lock, scope, ro, err);
	return rc != 0 ? rc : 1;
}

/*
 * Judges every write against each item of the fact member holds for the
 * write's subscription (locks, deny assignments) with one, until one says
 * 1 (enough for this write) or fails; *unread counts the writes whose
 * subscription's fact could not be read.
 */
static int
judge_each_fact(struct preflight *pf, const json_t *writes, const json_t *facts, const char *member,
    int (*one)(struct preflight *pf, const json_t *w, const json_t *item, struct nw_err *err),
    size_t *unread, struct nw_err *err)
{
	const json_t *w, *list, *item;
	size_t i, k;
	bool failed;
	int rc;

	*unread = 0;
	json_array_foreach(writes, i, w) {
		if ((list = fact(facts, member, json_str(w, "subscription"), &failed)) == NULL) {
			(*unread)++;
			continue;
		}
		json_array_foreach(list, k, item) {
			if ((rc = one(pf, w, item, err)) < 0)
				return rc;
			if (rc > 0)
				break;
		}
	}
	return 0;
}

static int
judge_locks(struct preflight *pf, const json_t *writes, const json_t *facts, struct nw_err *err)
{
	size_t unread, nlocks;
	char note[256];
	int rc;

	if ((rc = judge_each_fact(pf, writes, facts, "locks", lock_one, &unread, err)) != 0)
		return rc;
	nlocks = json_object_size(json_object_get(facts, "locks"));
	snprintf(note, sizeof(note), "management locks of %zu subscription(s) compared with %zu write(s)", nlocks,
	    json_array_size(writes));
	return preflight_check_note(pf, "locks", unread == 0, note, err);
}

/* --- deny assignments ----------------------------------------------------------------------- */

/* True when the assignment's principals are everyone (the SystemDefined all-zero principal). */
static bool
deny_everyone(const json_t *da)
{
	const json_t *p;
	size_t i;

	json_array_foreach(json_path(da, "properties", "principals", NULL), i, p)
		if (json_str(p, "id") != NULL && strcmp(json_str(p, "id"), "00000000-0000-0000-0000-000000000000") == 0)
			return true;
	return false;
}

static int
deny_one(struct preflight *pf, const json_t *w, const json_t *da, struct nw_err *err)
{
	const json_t *props = json_object_get(da, "properties");
	const char *scope = json_str(props, "scope"), *name = json_str(props, "denyAssignmentName");
	struct rbac_perms *deny = NULL;
	bool everyone, hit;
	int rc;

	if (scope == NULL || !scope_covers(scope, json_str(w, "path"),
	    !json_is_true(json_object_get(props, "doNotApplyToChildScopes"))))
		return 0;
	if ((deny = rbac_perms_new()) == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	if ((rc = rbac_perms_add_json(deny, json_object_get(props, "permissions"), err)) != 0) {
		rbac_perms_free(deny);
		err_prefix(err, "deny assignment %s", json_str(da, "id") ? json_str(da, "id") : "?");
		return rc;
	}
	hit = rbac_perms_allows(deny, json_str(w, "permission"));
	rbac_perms_free(deny);
	if (!hit)
		return 0;
	everyone = deny_everyone(da);
	return preflight_add(pf, everyone && !is_role(w, PF_ROLE_ROLLBACK) ? PF_BLOCKER : PF_WARNING,
	    "deny-assignment", "permissions", json_str(w, "path"), scope, json_str(w, "step"), err,
	    "deny assignments are made by Azure (managed applications, deployment stacks, Blueprints): "
	    "change the stack or application that owns it, or have its excluded principals run the plan",
	    "the deny assignment '%s' at %s denies %s to %s%s (AuthorizationFailed)", name != NULL ? name : "",
	    scope, json_str(w, "permission"), everyone ? "everyone" : "some principals (netwave cannot tell "
	    "whether the caller is one)", json_array_size(json_object_get(props, "excludePrincipals")) > 0 ?
	    " except its excluded principals" : "");
}

static int
judge_deny(struct preflight *pf, const json_t *writes, const json_t *facts, struct nw_err *err)
{
	size_t unread;
	int rc;

	if ((rc = judge_each_fact(pf, writes, facts, "denyAssignments", deny_one, &unread, err)) != 0)
		return rc;
	return preflight_check_note(pf, "deny", unread == 0, "deny assignments at, above and below each "
	    "subscription compared with every write", err);
}

/* --- policy ---------------------------------------------------------------------------------- */

static const char *
policy_name(const json_t *info, const char *field)
{
	const char *s = json_str(info, field);

	return s != NULL ? s : "?";
}

static int
policy_one(struct preflight *pf, const json_t *check, const json_t *answer, struct nw_err *err)
{
	const json_t *ev, *steps = json_object_get(check, "steps");
	size_t i;
	int rc;

	json_array_foreach(json_path(answer, "contentEvaluationResult", "policyEvaluations", NULL), i, ev) {
		const json_t *info = json_object_get(ev, "policyInfo");
		const char *res = json_str(ev, "evaluationResult");
		const char *effect = json_path_str(ev, "effectDetails", "policyEffect", NULL);
		const char *ref = json_str(info, "policyDefinitionReferenceId");
		char fix[1024];
		if (res == NULL || strcasecmp(res, "NonCompliant") != 0)
			continue;
		snprintf(fix, sizeof(fix), "change the request to comply with policy definition %s, or ask for an "
		    "exemption from assignment %s at this scope", policy_name(info, "policyDefinitionId"),
		    policy_name(info, "policyAssignmentId"));
		/* checkPolicyRestrictions evaluates the deny policies; an effect other than deny only warns */
		rc = preflight_add(pf, effect == NULL || strncasecmp(effect, "Deny", 4) == 0 ? PF_BLOCKER : PF_WARNING,
		    "policy-deny", "policy", json_str(json_object_get(check, "content"), "name"),
		    json_str(check, "scope"), NULL, err, fix, "a %s of this %s is non-compliant with policy assignment "
		    "%s (definition %s%s%s): ARM would answer RequestDisallowedByPolicy", "PUT", json_str(check, "type"),
		    policy_name(info, "policyAssignmentId"), policy_name(info, "policyDefinitionId"),
		    ref != NULL && ref[0] != '\0' ? ", reference " : "", ref != NULL ? ref : "");
		if (rc != 0)
			return rc;
		json_array_extend(pf->v[pf->n - 1].steps, (json_t *)steps);
		if (json_array_size(steps) > 0) {
			/* name the first step's resource rather than the sample name */
			free(pf->v[pf->n - 1].resource);
			pf->v[pf->n - 1].resource = strdup(json_str(check, "resource") != NULL ?
			    json_str(check, "resource") : json_str(json_object_get(check, "content"), "name"));
			if (pf->v[pf->n - 1].resource == NULL)
				return err_set(err, NW_ENOMEM, "out of memory");
		}
	}
	return 0;
}

static int
judge_policy(struct preflight *pf, const json_t *reads, const json_t *facts, struct nw_err *err)
{
	const json_t *check, *answer;
	size_t i, unread = 0;
	bool failed;
	char note[256];
	int rc;

	json_array_foreach(json_object_get(reads, "policy"), i, check) {
		/* policy keys keep their case (a body value is part of them) */
		answer = json_object_get(json_object_get(facts, "policy"), json_str(check, "key"));
		failed = answer == NULL || (json_is_object(answer) && json_str(answer, "error") != NULL);
		if (failed) {
			unread++;
			continue;
		}
		if ((rc = policy_one(pf, check, answer, err)) != 0)
			return rc;
	}
	snprintf(note, sizeof(note), "%zu request shape(s) evaluated with checkPolicyRestrictions",
	    json_array_size(json_object_get(reads, "policy")) - unread);
	return preflight_check_note(pf, "policy", unread == 0, note, err);
}

/* The judges of state (groups, resources, providers, features) are in preflight_state.c. */
int preflight_judge_state(struct preflight *pf, const json_t *writes, const json_t *reads,
    const json_t *facts, struct nw_err *err);

/* A warning for every read that failed: its check did not run there, and says so. */
static int
judge_unread(struct preflight *pf, const json_t *facts, struct nw_err *err)
{
	const char *member, *key;
	const json_t *m, *v;
	int rc;

	json_object_foreach((json_t *)facts, member, m)
		json_object_foreach((json_t *)m, key, v) {
			char where[1024];
			const char *bar;
			if (!json_is_object(v) || json_str(v, "error") == NULL)
				continue;
			/* a policy key is "scope|type|shape": name the scope and type, not the shape */
			if (strcmp(member, "policy") == 0 && (bar = strchr(key, '|')) != NULL)
				snprintf(where, sizeof(where), "%.*s (%.*s)", (int)(bar - key), key,
				    (int)strcspn(bar + 1, "|"), bar + 1);
			else
				snprintf(where, sizeof(where), "%s", key);
			if ((rc = preflight_add(pf, PF_WARNING, "read-failed", member, where, where, NULL, err,
			    "make sure the caller may read there (Reader grants every read) and run preflight "
			    "again; until then this check is not run there, not passed",
			    "could not read %s for %s: %s", member, where, json_str(v, "error"))) != 0)
				return rc;
		}
	return 0;
}

int
preflight_judge(struct preflight *pf, const json_t *writes, const json_t *facts, struct nw_err *err)
{
	json_t *reads = NULL;
	int rc;

	if ((rc = preflight_reads(&reads, writes, err)) != 0)
		return rc;
	/* the policy checks carry the resource each stands for */
	pf->writes = json_array_size(writes);
	if ((rc = judge_permissions(pf, writes, facts, err)) == 0 && (rc = judge_deny(pf, writes, facts, err)) == 0 &&
	    (rc = judge_locks(pf, writes, facts, err)) == 0 && (rc = judge_policy(pf, reads, facts, err)) == 0)
		rc = preflight_judge_state(pf, writes, reads, facts, err);
	if (rc == 0)
		rc = judge_unread(pf, facts, err);
	if (rc == 0)
		preflight_sort(pf);
	json_decref(reads);
	return rc;
}
