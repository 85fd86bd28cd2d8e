/*
 * Azure Policy's deny effect in the emulator: policy assignments given
 * with the seed or /__netwave/authz, evaluated on every PUT and PATCH
 * body at or below their scope (403 RequestDisallowedByPolicy), and the
 * checkPolicyRestrictions API that evaluates a resource before it is
 * sent.  The rule language is a subset of Azure Policy's, documented in
 * docs/emulator.md: allOf, anyOf, not; "field" on type, name, location
 * or a property alias (<resource type>/<property path under properties>,
 * '/' for nesting) with equals, notEquals, in, notIn, exists, like,
 * notLike.  Only the deny effect is enforced.
 *
 * Sources: "Azure Policy definition structure - policy rule",
 * https://learn.microsoft.com/azure/governance/policy/concepts/definition-structure-policy-rule
 * (conditions, case-insensitive string comparison, aliases);
 * "Resolve errors for request disallowed by policy",
 * https://learn.microsoft.com/azure/azure-resource-manager/troubleshooting/error-policy-requestdisallowedbypolicy
 * (the error's code, target and message);
 * REST specification specification/policyinsights/resource-manager/
 * Microsoft.PolicyInsights/stable/2022-03-01/checkPolicyRestrictions.json
 * ("Policy Restrictions - Check At Subscription Scope" / "At Resource Group Scope").
 */
#include "config.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "providers/emulator/emu.h"

#define AUTHZ_KEY "x-netwave-authz"
#define POLICY_DEPTH 16

static const char *const leaf_ops[] = { "equals", "notEquals", "in", "notIn", "exists", "like", "notLike", NULL };

/* --- checking a rule ------------------------------------------------------------------ */

static int
check_cond(const json_t *c, const char *at, int depth, struct nw_err *err)
{
	const json_t *v;
	size_t i, ops = 0;

	if (depth > POLICY_DEPTH)
		return err_set(err, NW_EINPUT, "%s: conditions nest deeper than %d", at, POLICY_DEPTH);
	if (!json_is_object(c))
		return err_set(err, NW_EINPUT, "%s: expected a condition object", at);
	if ((v = json_object_get(c, "allOf")) != NULL || (v = json_object_get(c, "anyOf")) != NULL) {
		const json_t *sub;
		char where[512];
		if (!json_is_array(v) || json_array_size(v) == 0)
			return err_set(err, NW_EINPUT, "%s: allOf and anyOf take a non-empty array", at);
		json_array_foreach(v, i, sub) {
			snprintf(where, sizeof(where), "%s/%s/%zu", at,
			    json_object_get(c, "allOf") != NULL ? "allOf" : "anyOf", i);
			if (check_cond(sub, where, depth + 1, err) != 0)
				return err->code;
		}
		return 0;
	}
	if ((v = json_object_get(c, "not")) != NULL) {
		char where[512];
		snprintf(where, sizeof(where), "%s/not", at);
		return check_cond(v, where, depth + 1, err);
	}
	if (json_str(c, "field") == NULL)
		return err_set(err, NW_EINPUT, "%s: expected allOf, anyOf, not or field", at);
	for (i = 0; leaf_ops[i] != NULL; i++)
		if (json_object_get(c, leaf_ops[i]) != NULL)
			ops++;
	if (ops != 1)
		return err_set(err, NW_EINPUT, "%s: a field condition takes exactly one of equals, notEquals, in, "
		    "notIn, exists, like, notLike", at);
	if ((json_object_get(c, "in") != NULL && !json_is_array(json_object_get(c, "in"))) ||
	    (json_object_get(c, "notIn") != NULL && !json_is_array(json_object_get(c, "notIn"))))
		return err_set(err, NW_EINPUT, "%s: in and notIn take an array", at);
	return 0;
}

int
policy_validate(const json_t *list, struct nw_err *err)
{
	const json_t *a;
	size_t i;
	char at[96];

	if (list != NULL && !json_is_array(list))
		return err_set(err, NW_EINPUT, "/policyAssignments: expected an array");
	json_array_foreach(list, i, a) {
		const json_t *rule = json_object_get(a, "policyRule");
		const char *scope = json_str(a, "scope");
		snprintf(at, sizeof(at), "/policyAssignments/%zu", i);
		if (json_str(a, "name") == NULL || json_str(a, "policyDefinitionId") == NULL)
			return err_set(err, NW_EINPUT, "%s: needs \"name\" and \"policyDefinitionId\"", at);
		if (scope == NULL || strncasecmp(scope, "/subscriptions/", 15) != 0)
			return err_set(err, NW_EINPUT, "%s/scope: expected a scope starting with /subscriptions/", at);
		if (!json_is_object(rule) || json_str(json_object_get(rule, "then"), "effect") == NULL)
			return err_set(err, NW_EINPUT, "%s/policyRule: needs \"if\" and \"then\": {\"effect\"}", at);
		snprintf(at, sizeof(at), "/policyAssignments/%zu/policyRule/if", i);
		if (check_cond(json_object_get(rule, "if"), at, 0, err) != 0)
			return err->code;
	}
	return 0;
}

/* --- evaluating ----------------------------------------------------------------------- */

/* What a rule is judged on: the body with the type and name the request gives. */
struct subject {
	const json_t *body;
	const char *type;
	const char *name;
	json_t *trace;  /* evaluatedExpressions, or NULL */
};

/* The value of field for the subject (borrowed or from *tmp, owned); NULL when absent. */
static const json_t *
field_value(const struct subject *s, const char *field, json_t **tmp)
{
	size_t n = strlen(s->type);
	const json_t *v;
	char *path, *p, *save = NULL;

	*tmp = NULL;
	if (strcasecmp(field, "type") == 0)
		return *tmp = json_string(s->type);
	if (strcasecmp(field, "name") == 0)
		return *tmp = json_string(s->name);
	if (strcasecmp(field, "location") == 0)
		return json_object_get(s->body, "location");
	/* an alias of this type: the rest is a path under properties */
	if (strncasecmp(field, s->type, n) != 0 || field[n] != '/')
		return NULL;
	if ((path = strdup(field + n + 1)) == NULL)
		return NULL;
	v = json_object_get(s->body, "properties");
	for (p = strtok_r(path, "/", &save); p != NULL && v != NULL; p = strtok_r(NULL, "/", &save))
		v = json_object_get(v, p);
	free(path);
	return v;
}

static bool
value_equals(const json_t *a, const json_t *b)
{
	if (a == NULL || b == NULL)
		return false;
	if (json_is_string(a) && json_is_string(b))
		return strcasecmp(json_string_value(a), json_string_value(b)) == 0;
	return json_equal(a, b);
}

static bool
value_in(const json_t *v, const json_t *list)
{
	const json_t *x;
	size_t i;

	json_array_foreach(list, i, x)
		if (value_equals(v, x))
			return true;
	return false;
}

static bool
value_like(const json_t *v, const json_t *pattern)
{
	return json_is_string(v) && json_is_string(pattern) &&
	    fnmatch(json_string_value(pattern), json_string_value(v), FNM_CASEFOLD) == 0;
}

static bool
eval_leaf(const struct subject *s, const json_t *c)
{
	const char *field = json_str(c, "field"), *op = NULL;
	json_t *tmp = NULL;
	const json_t *v = field_value(s, field, &tmp), *target = NULL;
	bool res = false;
	size_t i;

	for (i = 0; leaf_ops[i] != NULL && op == NULL; i++)
		if ((target = json_object_get(c, leaf_ops[i])) != NULL)
			op = leaf_ops[i];
	if (strcmp(op, "equals") == 0)
		res = value_equals(v, target);
	else if (strcmp(op, "notEquals") == 0)
		res = !value_equals(v, target);
	else if (strcmp(op, "in") == 0)
		res = value_in(v, target);
	else if (strcmp(op, "notIn") == 0)
		res = !value_in(v, target);
	else if (strcmp(op, "exists") == 0)
		res = (v != NULL) == (json_is_true(target) ||
		    (json_is_string(target) && strcasecmp(json_string_value(target), "true") == 0));
	else if (strcmp(op, "like") == 0)
		res = value_like(v, target);
	else
		res = !value_like(v, target);
	if (s->trace != NULL)
		json_array_append_new(s->trace, json_pack("{s:s, s:s, s:s, s:s, s:O?, s:O, s:s}", "result",
		    res ? "True" : "False", "expressionKind", "Field", "expression", field, "path", field,
		    "expressionValue", v, "targetValue", target, "operator", op));
	json_decref(tmp);
	return res;
}

static bool
eval_cond(const struct subject *s, const json_t *c)
{
	const json_t *v, *sub;
	size_t i;

	if ((v = json_object_get(c, "allOf")) != NULL) {
		json_array_foreach(v, i, sub)
			if (!eval_cond(s, sub))
				return false;
		return true;
	}
	if ((v = json_object_get(c, "anyOf")) != NULL) {
		json_array_foreach(v, i, sub)
			if (eval_cond(s, sub))
				return true;
		return false;
	}
	if ((v = json_object_get(c, "not")) != NULL)
		return !eval_cond(s, v);
	return eval_leaf(s, c);
}

static bool
is_deny(const json_t *a)
{
	const char *effect = json_str(json_object_get(json_object_get(a, "policyRule"), "then"), "effect");

	return effect != NULL && strcasecmp(effect, "deny") == 0 &&
	    (json_str(a, "enforcementMode") == NULL || strcasecmp(json_str(a, "enforcementMode"), "Default") == 0);
}

static char *
assignment_id(const json_t *a)
{
	return json_str(a, "id") != NULL ? emu_strdup(json_str(a, "id")) :
	    emu_printf("%s/providers/Microsoft.Authorization/policyAssignments/%s", json_str(a, "scope"),
	    json_str(a, "name"));
}

/* {policyDefinitionId, policySetDefinitionId, policyDefinitionReferenceId, policyAssignmentId} */
static json_t *
policy_info(const json_t *a)
{
	char *id = assignment_id(a);
	json_t *out = json_pack("{s:s, s:s, s:s, s:s?}", "policyDefinitionId", json_str(a, "policyDefinitionId"),
	    "policySetDefinitionId", "", "policyDefinitionReferenceId", "", "policyAssignmentId", id);

	free(id);
	return out;
}

static const json_t *
assignments(const struct emulator *e)
{
	return json_object_get(json_object_get(e->doc, AUTHZ_KEY), "policyAssignments");
}

/* --- enforcement ---------------------------------------------------------------------- */

static void
reply_disallowed(struct emu_req *r, const char *name, const json_t *a)
{
	char *aid = assignment_id(a), *ids = NULL, *msg = NULL;
	const char *did = json_str(a, "policyDefinitionId");
	json_t *ident = json_pack("[{s:{s:s, s:s?}, s:{s:s, s:s}}]", "policyAssignment", "name",
	    json_str(a, "name"), "id", aid, "policyDefinition", "name", emu_id_last(did), "id", did);
	json_t *info;

	ids = ident != NULL ? json_dumps(ident, JSON_COMPACT) : NULL;
	msg = emu_printf("Resource '%s' was disallowed by policy. Policy identifiers: '%s'.", name,
	    ids != NULL ? ids : "[]");
	info = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s, s:s, s:{}}", "policyDefinitionId", did,
	    "policyDefinitionName", emu_id_last(did), "policyDefinitionEffect", "deny",
	    "policyAssignmentName", json_str(a, "name"), "policyAssignmentId", aid,
	    "policyAssignmentScope", json_str(a, "scope"), "policyAssignmentDisplayName",
	    json_str(a, "displayName") != NULL ? json_str(a, "displayName") : json_str(a, "name"),
	    "policyAssignmentParameters");
	emu_reply_json(r, 403, json_pack("{s:{s:s, s:s, s:s, s:[{s:s, s:o?}]}}", "error", "code",
	    "RequestDisallowedByPolicy", "target", name, "message", msg != NULL ? msg : "", "additionalInfo",
	    "type", "PolicyViolation", "info", info));
	emu_op_name(r, "disallowed by policy");
	json_decref(ident);
	free(ids);
	free(msg);
	free(aid);
}

bool
policy_admit(struct emulator *e, struct emu_req *r, const char *write_action)
{
	const json_t *a;
	char type[512];
	size_t i, n = strlen(write_action);
	struct subject s;

	if (n < 7 || strcasecmp(write_action + n - 6, "/write") != 0 || r->parsed == NULL)
		return true;
	snprintf(type, sizeof(type), "%.*s", (int)(n - 6), write_action);
	s = (struct subject){ r->parsed, type, emu_id_last(r->path), NULL };
	json_array_foreach(assignments(e), i, a) {
		if (!is_deny(a) || !authz_scope_covers(json_str(a, "scope"), r->path))
			continue;
		if (eval_cond(&s, json_object_get(json_object_get(a, "policyRule"), "if"))) {
			reply_disallowed(r, s.name, a);
			return false;
		}
	}
	return true;
}

/* --- checkPolicyRestrictions ---------------------------------------------------------- */

/* The policyEvaluations of every deny assignment at or above scope, for content. */
static json_t *
evaluate_all(const struct emulator *e, const json_t *content, const char *scope, bool *any_deny)
{
	json_t *out = json_array();
	const json_t *a;
	size_t i;
	const char *type = json_str(content, "type"), *name = json_str(content, "name");

	*any_deny = false;
	json_array_foreach(assignments(e), i, a) {
		struct subject s = { content, type != NULL ? type : "", name != NULL ? name : "", json_array() };
		bool hit;

		if (!is_deny(a) || !authz_scope_covers(json_str(a, "scope"), scope)) {
			json_decref(s.trace);
			continue;
		}
		hit = eval_cond(&s, json_object_get(json_object_get(a, "policyRule"), "if"));
		*any_deny = *any_deny || hit;
		json_array_append_new(out, json_pack("{s:o, s:s, s:{s:o}}", "policyInfo", policy_info(a),
		    "evaluationResult", hit ? "NonCompliant" : "Compliant", "evaluationDetails",
		    "evaluatedExpressions", s.trace));
	}
	return out;
}

/* Sets field (type, name, location or an alias of content's type) to v in a copy of content. */
static json_t *
content_with(const json_t *content, const char *field, const json_t *v)
{
	json_t *copy = json_deep_copy(content), *props;
	const char *type = json_str(content, "type");
	size_t n = type != NULL ? strlen(type) : 0;

	if (copy == NULL)
		return NULL;
	if (strcasecmp(field, "name") == 0 || strcasecmp(field, "location") == 0 || strcasecmp(field, "type") == 0) {
		json_object_set(copy, strcasecmp(field, "name") == 0 ? "name" :
		    strcasecmp(field, "type") == 0 ? "type" : "location", (json_t *)v);
	} else if (n > 0 && strncasecmp(field, type, n) == 0 && field[n] == '/' && strchr(field + n + 1, '/') == NULL) {
		props = json_object_get(copy, "properties");
		if (!json_is_object(props))
			json_object_set_new(copy, "properties", props = json_object());
		json_object_set(props, field + n + 1, (json_t *)v);
	}
	return copy;
}

/* fieldRestrictions: for each pending field, the values a deny policy refuses. */
static json_t *
field_restrictions(const struct emulator *e, const json_t *content, const json_t *pending, const char *scope)
{
	json_t *out = json_array();
	const json_t *pf, *v, *a;
	size_t i, k, j;

	json_array_foreach(pending, i, pf) {
		const char *field = json_str(pf, "field");
		json_t *restr = json_array();

		json_array_foreach(json_object_get(pf, "values"), k, v) {
			json_t *trial = field != NULL ? content_with(content, field, v) : NULL;
			json_array_foreach(assignments(e), j, a) {
				struct subject s = { trial, json_str(trial, "type") ? json_str(trial, "type") : "",
					json_str(trial, "name") ? json_str(trial, "name") : "", NULL };
				if (trial == NULL || !is_deny(a) || !authz_scope_covers(json_str(a, "scope"), scope) ||
				    !eval_cond(&s, json_object_get(json_object_get(a, "policyRule"), "if")))
					continue;
				json_array_append_new(restr, json_pack("{s:s, s:[O], s:o}", "result", "Deny", "values", v,
				    "policy", policy_info(a)));
			}
			json_decref(trial);
		}
		if (json_array_size(restr) > 0)
			json_array_append_new(out, json_pack("{s:s, s:o}", "field", field, "restrictions", restr));
		else
			json_decref(restr);
	}
	return out;
}

void
policy_check_restrictions(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	const json_t *details = json_object_get(r->parsed, "resourceDetails");
	const json_t *content = json_object_get(details, "resourceContent");
	const char *scope = json_str(details, "scope");
	char *own = NULL;
	bool deny;

	(void)c;
	if (!emu_api_ok(r, EMU_NS_POLICY_INSIGHTS))
		return;
	if (!json_is_object(content)) {
		emu_reply_error(r, 400, "InvalidCheckRestrictionsRequest",
		    "The request content was invalid: resourceDetails.resourceContent is required.");
		return;
	}
	if (scope == NULL) {
		/* the scope the API is called at: the path without the provider suffix */
		own = authz_scope_of(r->path, "/providers/Microsoft.PolicyInsights/");
		scope = own != NULL ? own : r->path;
	}
	emu_op_name(r, "check policy restrictions");
	emu_reply_json(r, 200, json_pack("{s:o, s:{s:o}}", "fieldRestrictions",
	    field_restrictions(e, content, json_object_get(r->parsed, "pendingFields"), scope),
	    "contentEvaluationResult", "policyEvaluations", evaluate_all(e, content, scope, &deny)));
	free(own);
}
