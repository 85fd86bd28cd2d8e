/*
 * The emulator's refusals, driven over HTTP with libcurl as a client
 * would: role assignments from the clients file (AuthorizationFailed,
 * inheritance down scopes, the permissions API), deny assignments,
 * management locks (the locks API at each scope, ScopeLocked), and policy
 * deny (RequestDisallowedByPolicy, checkPolicyRestrictions).  An
 * in-process emulator on 127.0.0.1 (port 0) per test.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <curl/curl.h>
#include <jansson.h>

#include "plan/jsonutil.h"
#include "providers/emulator/emulator.h"
#include "tests/testhttp.h"
#include "tests/testutil.h"

#define SUB "00000000-0000-0000-0000-000000000001"
#define SUBP "/subscriptions/" SUB
#define RG SUBP "/resourceGroups/rg-net"
#define NET RG "/providers/Microsoft.Network"
#define API "?api-version=2026-01-01"
#define AUTHZ "/providers/Microsoft.Authorization"
#define LOCKS_API "?api-version=2016-09-01"
#define PERM_API "?api-version=2022-04-01"
#define SPOKE NET "/virtualNetworks/spoke-1"
#define VNET_BODY "{\"location\":\"eastus\",\"properties\":{\"addressSpace\":{\"addressPrefixes\":[\"10.9.0.0/16\"]}}}"

struct fixture {
	struct emulator *e;
	char base[160];
	char auth[200]; /* "Authorization: Bearer ..." or "" */
};

static json_t *
vnet(const char *name, const char *prefix)
{
	return json_pack("{s:o,s:s,s:s,s:s,s:{s:{s:[s]},s:[],s:[]}}", "id",
	    json_sprintf("%s/virtualNetworks/%s", NET, name), "name", name, "type",
	    "Microsoft.Network/virtualNetworks", "location", "eastus", "properties", "addressSpace",
	    "addressPrefixes", prefix, "subnets", "virtualNetworkPeerings");
}

/* hub and spoke-1, plus an authorization document when given (stolen) */
static json_t *
seed(json_t *authz)
{
	json_t *doc = json_pack("{s:s,s:s,s:[s],s:[o,o],s:{}}", "format", "netwave.topology/v1", "cloud",
	    "AzureCloud", "subscriptions", SUB, "resources", vnet("hub", "10.0.0.0/16"),
	    vnet("spoke-1", "10.1.0.0/16"), "observed");

	if (authz != NULL)
		json_object_set_new(doc, "x-netwave-authz", authz);
	return doc;
}

static struct test_resp
call(struct fixture *f, const char *method, const char *path, const char *body)
{
	const char *const headers[] = { f->auth, NULL };
	struct test_resp r = test_http(f->base, method, path, body, f->auth[0] != '\0' ? headers : NULL);

	ck_assert_int_eq(r.rc, CURLE_OK);
	return r;
}

/* Asserts the status (and error code when given) of one call, then frees it. */
static void
expect(struct fixture *f, const char *method, const char *path, const char *body, long status,
    const char *code)
{
	struct test_resp r = call(f, method, path, body);

	ck_assert_msg(r.status == status, "%s %s: expected %ld, got %ld: %s", method, path, status, r.status,
	    r.body != NULL ? r.body : "");
	if (code != NULL)
		ck_assert_str_eq(test_resp_error_code(&r), code);
	test_resp_free(&r);
}

/*
 * Clients: app-net (Network Contributor on the subscription), app-read
 * (Reader on the subscription, Network Contributor on spoke-1 only),
 * app-custom (a custom role: everything in Microsoft.Network but commit),
 * app-open (no roleAssignments: everything).
 */
static json_t *
clients(void)
{
	return json_pack("{s:s, s:[{s:s,s:s,s:[{s:s,s:s}]}, {s:s,s:s,s:s,s:[{s:s,s:s},{s:s,s:s}]},"
	    "{s:s,s:s,s:[{s:s,s:s}]}, {s:s,s:s}],"
	    "s:[{s:s,s:s,s:[{s:[s,s],s:[s]}]}]}",
	    "format", "netwave.emulator-clients/v1", "clients",
	    "clientId", "app-net", "clientSecret", "s1", "roleAssignments", "scope", SUBP, "role",
	    "Network Contributor",
	    "clientId", "app-read", "clientSecret", "s2", "objectId", "oid-read", "roleAssignments", "scope", SUBP,
	    "role", "acdd72a7-3385-48ef-bd42-f606fba81ae7", "scope", SPOKE, "role", "Network Contributor",
	    "clientId", "app-custom", "clientSecret", "s3", "roleAssignments", "scope", RG, "role", "No Commit",
	    "clientId", "app-open", "clientSecret", "s4",
	    "roleDefinitions", "name", "No Commit", "id", "11111111-2222-3333-4444-555555555555", "permissions",
	    "actions", "Microsoft.Network/*", "Microsoft.Resources/subscriptions/resourceGroups/read", "notActions",
	    "Microsoft.Network/networkManagers/commit/action");
}

static void
start(struct fixture *f, json_t *clients_doc, json_t *authz)
{
	struct emulator_opts o = { .time_scale = 100000, .rng_seed = 42 };
	struct nw_err err = { 0 };
	json_t *doc = seed(authz);

	memset(f, 0, sizeof(*f));
	o.no_auth = clients_doc == NULL;
	o.clients_json = clients_doc;
	o.seed_json = doc;
	ck_assert_msg(emulator_start(&f->e, &o, &err) == 0, "emulator did not start: %s", err.msg);
	snprintf(f->base, sizeof(f->base), "%s", emulator_base_url(f->e));
	json_decref(doc);
	json_decref(clients_doc);
}

/* Signs in as client (secret) and sends its token from then on. */
static void
sign_in(struct fixture *f, const char *client, const char *secret)
{
	char form[400];
	struct test_resp r;

	f->auth[0] = '\0';
	snprintf(form, sizeof(form), "grant_type=client_credentials&client_id=%s&client_secret=%s"
	    "&scope=https%%3A%%2F%%2Fmanagement.azure.com%%2F.default", client, secret);
	r = call(f, "POST", "/tenant-1/oauth2/v2.0/token", form);
	ck_assert_int_eq(r.status, 200);
	snprintf(f->auth, sizeof(f->auth), "Authorization: Bearer %s", json_str(r.json, "access_token"));
	test_resp_free(&r);
}

/* --- role assignments ----------------------------------------------------------------- */

START_TEST(test_a_reader_is_refused_writes_with_arms_authorization_failed)
{
	struct fixture f;
	struct test_resp r;

	start(&f, clients(), NULL);
	sign_in(&f, "app-read", "s2");
	expect(&f, "GET", NET "/virtualNetworks/hub" API, NULL, 200, NULL);
	expect(&f, "GET", NET "/virtualNetworks" API, NULL, 200, NULL);
	r = call(&f, "PUT", NET "/virtualNetworks/hub" API, VNET_BODY);
	ck_assert_int_eq(r.status, 403);
	ck_assert_str_eq(test_resp_error_code(&r), "AuthorizationFailed");
	ck_assert_str_eq(test_resp_error_message(&r), "The client 'app-read' with object id 'oid-read' does not have "
	    "authorization to perform action 'Microsoft.Network/virtualNetworks/write' over scope '"
	    NET "/virtualNetworks/hub' or the scope is invalid. If access was recently granted, please refresh "
	    "your credentials.");
	test_resp_free(&r);
	/* nothing was written */
	r = call(&f, "GET", NET "/virtualNetworks/hub" API, NULL);
	ck_assert_str_eq(json_string_value(json_array_get(json_path(r.json, "properties", "addressSpace",
	    "addressPrefixes", NULL), 0)), "10.0.0.0/16");
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_an_assignment_inherits_down_to_the_resource_and_its_children_only)
{
	struct fixture f;

	start(&f, clients(), NULL);
	sign_in(&f, "app-read", "s2");
	/* Network Contributor on spoke-1: it and its subnets, not the hub beside it */
	expect(&f, "PUT", SPOKE "/subnets/a" API, "{\"properties\":{\"addressPrefix\":\"10.1.1.0/24\"}}", 201, NULL);
	expect(&f, "DELETE", NET "/virtualNetworks/hub" API, NULL, 403, "AuthorizationFailed");
	expect(&f, "PUT", NET "/virtualNetworks/hub/subnets/a" API, "{\"properties\":{\"addressPrefix\":\"10.0.1.0/24\"}}",
	    403, "AuthorizationFailed");
	/* Network Contributor on the subscription reaches every group below it */
	sign_in(&f, "app-net", "s1");
	expect(&f, "PUT", NET "/virtualNetworks/new-1" API, VNET_BODY, 201, NULL);
	expect(&f, "GET", NET "/virtualNetworks" API, NULL, 200, NULL);
	expect(&f, "GET", SUBP "?api-version=2021-04-01", NULL, 200, NULL);
	/* a feature's registration is Microsoft.Features', which the role lacks */
	expect(&f, "POST", SUBP "/providers/Microsoft.Features/providers/Microsoft.Network/features/F/register"
	    "?api-version=2021-07-01", "{}", 403, "AuthorizationFailed");
	/* but not the resource groups themselves */
	expect(&f, "PUT", SUBP "/resourceGroups/rg-two?api-version=2021-04-01", "{\"location\":\"eastus\"}", 403,
	    "AuthorizationFailed");
	/* no roleAssignments: everything, as before */
	sign_in(&f, "app-open", "s4");
	expect(&f, "PUT", SUBP "/resourceGroups/rg-two?api-version=2021-04-01", "{\"location\":\"eastus\"}", 201, NULL);
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_a_custom_roles_not_action_refuses_the_commit)
{
	struct fixture f;
	struct test_resp r;

	start(&f, clients(), NULL);
	sign_in(&f, "app-custom", "s3");
	r = call(&f, "POST", NET "/networkManagers/nm/commit" API, "{\"targetLocations\":[\"eastus\"]}");
	ck_assert_int_eq(r.status, 403);
	ck_assert_str_eq(test_resp_error_code(&r), "AuthorizationFailed");
	/* the action, and the network manager as the scope, not the commit path */
	ck_assert(strstr(test_resp_error_message(&r), "'Microsoft.Network/networkManagers/commit/action' over scope '"
	    NET "/networkManagers/nm'") != NULL);
	test_resp_free(&r);
	expect(&f, "PUT", NET "/virtualNetworks/new-2" API, VNET_BODY, 201, NULL);
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_the_permissions_api_answers_the_roles_at_and_above_the_scope)
{
	struct fixture f;
	struct test_resp r;
	const json_t *value;

	start(&f, clients(), NULL);
	sign_in(&f, "app-read", "s2");
	r = call(&f, "GET", RG AUTHZ "/permissions" PERM_API, NULL);
	ck_assert_int_eq(r.status, 200);
	value = json_object_get(r.json, "value");
	ck_assert_uint_eq(json_array_size(value), 1);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(json_array_get(value, 0), "actions"), 0)),
	    "*/read");
	test_resp_free(&r);
	/* at spoke-1 its Network Contributor adds to the Reader from the subscription */
	r = call(&f, "GET", SPOKE AUTHZ "/permissions" PERM_API, NULL);
	ck_assert_int_eq(r.status, 200);
	value = json_object_get(r.json, "value");
	ck_assert_uint_eq(json_array_size(value), 2);
	ck_assert(json_is_array(json_object_get(json_array_get(value, 1), "notDataActions")));
	test_resp_free(&r);
	expect(&f, "GET", RG AUTHZ "/permissions?api-version=1999-01-01", NULL, 400, "InvalidApiVersionParameter");
	expect(&f, "POST", RG AUTHZ "/permissions" PERM_API, "{}", 405, NULL);
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_a_bad_role_assignment_in_the_clients_file_is_named)
{
	struct emulator *e = NULL;
	struct emulator_opts o = { .time_scale = 1 };
	struct nw_err err = { 0 };
	json_t *c = json_pack("{s:s, s:[{s:s,s:s,s:[{s:s,s:s}]}]}", "format", "netwave.emulator-clients/v1",
	    "clients", "clientId", "a", "clientSecret", "s", "roleAssignments", "scope", SUBP, "role", "Superhero");
	json_t *doc = seed(NULL);

	o.clients_json = c;
	o.seed_json = doc;
	ck_assert_int_eq(emulator_start(&e, &o, &err), NW_EINPUT);
	ck_assert(strstr(err.msg, "/clients/0/roleAssignments/0/role") != NULL);
	ck_assert(strstr(err.msg, "Superhero") != NULL);
	json_decref(doc);
	json_decref(c);
}
END_TEST

/* --- deny assignments ----------------------------------------------------------------- */

START_TEST(test_a_deny_assignment_refuses_its_principals_even_an_owner)
{
	struct fixture f;
	struct test_resp r;
	json_t *authz = json_pack("{s:[{s:s,s:s,s:{s:s,s:[{s:[s],s:[]}],s:[{s:s,s:s}]}}]}", "denyAssignments",
	    "id", SUBP AUTHZ "/denyAssignments/d-1", "name", "d-1", "properties", "scope", RG,
	    "permissions", "actions", "Microsoft.Network/*/delete", "notActions", "principals", "id",
	    "00000000-0000-0000-0000-000000000000", "type", "Everyone");

	start(&f, clients(), authz);
	sign_in(&f, "app-open", "s4");
	r = call(&f, "DELETE", SPOKE API, NULL);
	ck_assert_int_eq(r.status, 403);
	ck_assert_str_eq(test_resp_error_code(&r), "AuthorizationFailed");
	ck_assert(strstr(test_resp_error_message(&r), "because of the deny assignment with name 'd-1'") != NULL);
	test_resp_free(&r);
	expect(&f, "PUT", NET "/virtualNetworks/new-3" API, VNET_BODY, 201, NULL);
	/* listed at the subscription (below it) and at the resource (above it) */
	r = call(&f, "GET", SUBP AUTHZ "/denyAssignments" PERM_API, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(r.json, "value")), 1);
	test_resp_free(&r);
	r = call(&f, "GET", SPOKE AUTHZ "/denyAssignments" PERM_API, NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(r.json, "value")), 1);
	test_resp_free(&r);
	r = call(&f, "GET", SUBP "/resourceGroups/other" AUTHZ "/denyAssignments" PERM_API, NULL);
	ck_assert_int_eq(r.status, 404);
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

/* --- locks ---------------------------------------------------------------------------- */

START_TEST(test_locks_are_created_listed_at_each_scope_and_deleted)
{
	struct fixture f;
	struct test_resp r;

	start(&f, NULL, NULL);
	r = call(&f, "PUT", SPOKE AUTHZ "/locks/ro" LOCKS_API, "{\"properties\":{\"level\":\"ReadOnly\",\"notes\":\"x\"}}");
	ck_assert_int_eq(r.status, 201);
	ck_assert_str_eq(json_str(r.json, "id"), SPOKE AUTHZ "/locks/ro");
	ck_assert_str_eq(json_str(r.json, "type"), "Microsoft.Authorization/locks");
	ck_assert_str_eq(json_path_str(r.json, "properties", "level", NULL), "ReadOnly");
	test_resp_free(&r);
	expect(&f, "PUT", RG AUTHZ "/locks/nd" LOCKS_API, "{\"properties\":{\"level\":\"CanNotDelete\"}}", 201, NULL);
	expect(&f, "PUT", RG AUTHZ "/locks/nd" LOCKS_API, "{\"properties\":{\"level\":\"CanNotDelete\"}}", 200, NULL);
	expect(&f, "PUT", SUBP AUTHZ "/locks/bad" LOCKS_API, "{\"properties\":{\"level\":\"Sometimes\"}}", 400, NULL);
	expect(&f, "PUT", NET "/virtualNetworks/nope" AUTHZ "/locks/x" LOCKS_API,
	    "{\"properties\":{\"level\":\"ReadOnly\"}}", 404, "ResourceNotFound");
	/* the subscription lists every lock in it, the group its own and its resources', the resource its own */
	r = call(&f, "GET", SUBP AUTHZ "/locks" LOCKS_API, NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(r.json, "value")), 2);
	test_resp_free(&r);
	r = call(&f, "GET", RG AUTHZ "/locks" LOCKS_API, NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(r.json, "value")), 2);
	test_resp_free(&r);
	r = call(&f, "GET", SPOKE AUTHZ "/locks" LOCKS_API, NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(r.json, "value")), 1);
	test_resp_free(&r);
	/* atScope(): the scope and above */
	r = call(&f, "GET", SPOKE AUTHZ "/locks" LOCKS_API "&$filter=atScope()", NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(r.json, "value")), 2);
	test_resp_free(&r);
	expect(&f, "GET", SPOKE AUTHZ "/locks/ro" LOCKS_API, NULL, 200, NULL);
	expect(&f, "DELETE", SPOKE AUTHZ "/locks/ro" LOCKS_API, NULL, 200, NULL);
	expect(&f, "DELETE", SPOKE AUTHZ "/locks/ro" LOCKS_API, NULL, 204, NULL);
	expect(&f, "GET", SPOKE AUTHZ "/locks/ro" LOCKS_API, NULL, 404, "LockNotFound");
	/* the state keeps them */
	r = call(&f, "GET", "/__netwave/state", NULL);
	ck_assert_uint_eq(json_array_size(json_path(r.json, "x-netwave-authz", "locks", NULL)), 1);
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_a_read_only_lock_refuses_writes_and_actions_below_it)
{
	struct fixture f;
	struct test_resp r;

	start(&f, NULL, NULL);
	expect(&f, "PUT", SPOKE AUTHZ "/locks/ro" LOCKS_API, "{\"properties\":{\"level\":\"ReadOnly\"}}", 201, NULL);
	r = call(&f, "PUT", SPOKE "/subnets/a" API, "{\"properties\":{\"addressPrefix\":\"10.1.1.0/24\"}}");
	ck_assert_int_eq(r.status, 409);
	ck_assert_str_eq(test_resp_error_code(&r), "ScopeLocked");
	ck_assert_str_eq(test_resp_error_message(&r), "The scope '" SPOKE "/subnets/a' cannot perform write operation "
	    "because following scope(s) are locked: '" SPOKE "'. Please remove the lock and try again.");
	test_resp_free(&r);
	expect(&f, "DELETE", SPOKE API, NULL, 409, "ScopeLocked");
	expect(&f, "GET", SPOKE API, NULL, 200, NULL);
	/* the hub beside it is free */
	expect(&f, "PUT", NET "/virtualNetworks/hub/subnets/a" API, "{\"properties\":{\"addressPrefix\":\"10.0.1.0/24\"}}",
	    201, NULL);
	/* removing the lock frees it */
	expect(&f, "DELETE", SPOKE AUTHZ "/locks/ro" LOCKS_API, NULL, 200, NULL);
	expect(&f, "PUT", SPOKE "/subnets/a" API, "{\"properties\":{\"addressPrefix\":\"10.1.1.0/24\"}}", 201, NULL);
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_a_seeded_can_not_delete_lock_refuses_deletes_only)
{
	struct fixture f;
	struct test_resp r;
	json_t *authz = json_pack("{s:[{s:s,s:{s:s}}]}", "locks", "id", RG AUTHZ "/locks/keep", "properties",
	    "level", "CanNotDelete");

	start(&f, NULL, authz);
	expect(&f, "PUT", NET "/virtualNetworks/new-4" API, VNET_BODY, 201, NULL);
	r = call(&f, "DELETE", SPOKE API, NULL);
	ck_assert_int_eq(r.status, 409);
	ck_assert_str_eq(test_resp_error_code(&r), "ScopeLocked");
	ck_assert(strstr(test_resp_error_message(&r), "cannot perform delete operation") != NULL);
	ck_assert(strstr(test_resp_error_message(&r), "'" RG "'") != NULL);
	test_resp_free(&r);
	/* deleting the subscription's group is refused by the lock below it too */
	expect(&f, "DELETE", RG "?api-version=2021-04-01", NULL, 409, "ScopeLocked");
	r = call(&f, "GET", RG AUTHZ "/locks/keep" LOCKS_API, NULL);
	test_resp_expect_str(&r, 200, "name", "keep");
	emulator_stop(f.e);
}
END_TEST

/* --- policy --------------------------------------------------------------------------- */

static json_t *
pe_policy(void)
{
	return json_pack("{s:[{s:s,s:s,s:s,s:{s:{s:[{s:s,s:s},{s:s,s:s}]},s:{s:s}}}]}", "policyAssignments",
	    "name", "deny-pe-basic", "scope", RG, "policyDefinitionId",
	    SUBP AUTHZ "/policyDefinitions/no-pe-basic", "policyRule", "if", "allOf", "field", "type", "equals",
	    "Microsoft.Network/virtualNetworks", "field", "Microsoft.Network/virtualNetworks/privateEndpointVNetPolicies",
	    "equals", "Basic", "then", "effect", "deny");
}

START_TEST(test_a_deny_policy_refuses_a_matching_put_with_its_identifiers)
{
	struct fixture f;
	struct test_resp r;
	const json_t *info;

	start(&f, NULL, pe_policy());
	r = call(&f, "PUT", SPOKE API, "{\"location\":\"eastus\",\"properties\":{\"addressSpace\":{\"addressPrefixes\":"
	    "[\"10.1.0.0/16\"]},\"privateEndpointVNetPolicies\":\"basic\"}}");
	ck_assert_int_eq(r.status, 403);
	ck_assert_str_eq(test_resp_error_code(&r), "RequestDisallowedByPolicy");
	ck_assert_str_eq(json_path_str(r.json, "error", "target", NULL), "spoke-1");
	ck_assert(strncmp(test_resp_error_message(&r), "Resource 'spoke-1' was disallowed by policy. Policy identifiers: '[", 66) == 0);
	ck_assert(strstr(test_resp_error_message(&r), RG AUTHZ "/policyAssignments/deny-pe-basic") != NULL);
	info = json_path(r.json, "error", "additionalInfo", NULL);
	ck_assert_str_eq(json_str(json_array_get(info, 0), "type"), "PolicyViolation");
	info = json_object_get(json_array_get(info, 0), "info");
	ck_assert_str_eq(json_str(info, "policyDefinitionId"), SUBP AUTHZ "/policyDefinitions/no-pe-basic");
	ck_assert_str_eq(json_str(info, "policyAssignmentName"), "deny-pe-basic");
	test_resp_free(&r);
	/* Disabled is allowed, and so is a subnet (another type) */
	expect(&f, "PUT", SPOKE API, "{\"location\":\"eastus\",\"properties\":{\"addressSpace\":{\"addressPrefixes\":"
	    "[\"10.1.0.0/16\"]},\"privateEndpointVNetPolicies\":\"Disabled\"}}", 200, NULL);
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_check_policy_restrictions_evaluates_content_and_pending_fields)
{
	struct fixture f;
	struct test_resp r;
	const json_t *ev;

	start(&f, NULL, pe_policy());
	r = call(&f, "POST", RG "/providers/Microsoft.PolicyInsights/checkPolicyRestrictions?api-version=2022-03-01",
	    "{\"resourceDetails\":{\"resourceContent\":{\"type\":\"Microsoft.Network/virtualNetworks\",\"name\":\"v\","
	    "\"properties\":{\"privateEndpointVNetPolicies\":\"Basic\"}},\"apiVersion\":\"2026-01-01\"},"
	    "\"pendingFields\":[{\"field\":\"Microsoft.Network/virtualNetworks/privateEndpointVNetPolicies\","
	    "\"values\":[\"Basic\",\"Disabled\"]}]}");
	ck_assert_int_eq(r.status, 200);
	ev = json_array_get(json_path(r.json, "contentEvaluationResult", "policyEvaluations", NULL), 0);
	ck_assert_str_eq(json_str(ev, "evaluationResult"), "NonCompliant");
	ck_assert_str_eq(json_path_str(ev, "policyInfo", "policyAssignmentId", NULL),
	    RG AUTHZ "/policyAssignments/deny-pe-basic");
	ck_assert_uint_eq(json_array_size(json_path(ev, "evaluationDetails", "evaluatedExpressions", NULL)), 2);
	ev = json_array_get(json_object_get(r.json, "fieldRestrictions"), 0);
	ck_assert_str_eq(json_str(ev, "field"), "Microsoft.Network/virtualNetworks/privateEndpointVNetPolicies");
	ck_assert_uint_eq(json_array_size(json_object_get(ev, "restrictions")), 1);
	ck_assert_str_eq(json_string_value(json_array_get(json_path(json_array_get(json_object_get(ev, "restrictions"), 0),
	    "values", NULL), 0)), "Basic");
	test_resp_free(&r);
	/* at another group the assignment does not apply */
	r = call(&f, "POST", SUBP "/providers/Microsoft.PolicyInsights/checkPolicyRestrictions?api-version=2022-03-01",
	    "{\"resourceDetails\":{\"resourceContent\":{\"type\":\"Microsoft.Network/virtualNetworks\","
	    "\"properties\":{\"privateEndpointVNetPolicies\":\"Basic\"}},\"scope\":\"" SUBP "/resourceGroups/x\"}}");
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(json_array_size(json_path(r.json, "contentEvaluationResult", "policyEvaluations", NULL)), 0);
	test_resp_free(&r);
	expect(&f, "POST", SUBP "/providers/Microsoft.PolicyInsights/checkPolicyRestrictions?api-version=2022-03-01",
	    "{}", 400, "InvalidCheckRestrictionsRequest");
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_the_control_endpoint_replaces_the_document_and_rejects_bad_rules)
{
	struct fixture f;
	struct test_resp r;

	start(&f, NULL, NULL);
	r = call(&f, "PUT", "/__netwave/authz", "{\"policyAssignments\":[{\"name\":\"p\",\"scope\":\"" SUBP "\","
	    "\"policyDefinitionId\":\"d\",\"policyRule\":{\"if\":{\"field\":\"type\",\"equalz\":\"x\"},"
	    "\"then\":{\"effect\":\"deny\"}}}]}");
	ck_assert_int_eq(r.status, 400);
	ck_assert(strstr(test_resp_error_message(&r), "/policyAssignments/0/policyRule/if") != NULL);
	test_resp_free(&r);
	expect(&f, "PUT", "/__netwave/authz", "{\"policyAssignments\":[{\"name\":\"p\",\"scope\":\"" SUBP "\","
	    "\"policyDefinitionId\":\"d\",\"policyRule\":{\"if\":{\"field\":\"location\",\"notIn\":[\"westus\"]},"
	    "\"then\":{\"effect\":\"Deny\"}}}]}", 200, NULL);
	expect(&f, "PUT", NET "/virtualNetworks/new-5" API, VNET_BODY, 403, "RequestDisallowedByPolicy");
	expect(&f, "DELETE", "/__netwave/authz", NULL, 200, NULL);
	expect(&f, "PUT", NET "/virtualNetworks/new-5" API, VNET_BODY, 201, NULL);
	emulator_stop(f.e);
}
END_TEST

int
main(void)
{
	const TTest *const emulator_authz_tests[] = {
		TEST_CASE("core", 120),
		test_a_reader_is_refused_writes_with_arms_authorization_failed,
		test_an_assignment_inherits_down_to_the_resource_and_its_children_only,
		test_a_custom_roles_not_action_refuses_the_commit,
		test_the_permissions_api_answers_the_roles_at_and_above_the_scope,
		test_a_bad_role_assignment_in_the_clients_file_is_named,
		test_a_deny_assignment_refuses_its_principals_even_an_owner,
		test_locks_are_created_listed_at_each_scope_and_deleted,
		test_a_read_only_lock_refuses_writes_and_actions_below_it,
		test_a_seeded_can_not_delete_lock_refuses_deletes_only,
		test_a_deny_policy_refuses_a_matching_put_with_its_identifiers,
		test_check_policy_restrictions_evaluates_content_and_pending_fields,
		test_the_control_endpoint_replaces_the_document_and_rejects_bad_rules,
		NULL,
	};

	return test_main("emulator_authz", emulator_authz_tests);
}
