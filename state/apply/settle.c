/*
 * How a write that may have reached ARM is settled by reading, never by
 * sending it again blindly (state/apply/internal.h).  A connection reset
 * after sending, a timeout, an operation whose status URL answers 404, a
 * crash of netwave or a restart of ARM all leave the same question: did
 * the request arrive, and how did it end?  The answer comes from the state
 * the request changes:
 *
 *   - a POST action from the table below: each kind names the state it
 *     changes, what shows it was received (the state moved since the image
 *     journaled just before sending), running, and done;
 *   - a PUT or PATCH: the resource now carries every field the body sets
 *     (then it arrived; it is not sent again);
 *   - a DELETE: the resource is gone, or deleting.
 *
 * apply_jobs.c asks state_settle() and acts on the verdict: send (it
 * provably did not arrive, or a PUT's body is not there), follow (it is
 * running), done (check the step's expectations), failed, or unknown.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "state/apply/internal.h"

/*
 * The POST actions netwave sends, each with how to read its state.  Order
 * matters where paths overlap: a feature's "register" is tried before a
 * resource provider's.
 *   commit: POST .../networkManagers/{nm}/commit, state in
 *     listDeploymentStatus (deploymentStatus Deploying/Deployed/Failed and
 *     commitTime) - learn.microsoft.com/rest/api/networkmanager/network-manager-commits/post
 *     and .../network-manager-deployment-status/list.
 *   gateway migration: POST .../virtualNetworkGateways/{gw}/{prepare,execute,
 *     commit,abort}Migration, state in the gateway's
 *     properties.virtualNetworkGatewayMigrationStatus {state, phase} -
 *     learn.microsoft.com/rest/api/network-gateway/virtual-network-gateways;
 *     after commitMigration of an ExpressRoute gateway the old gateway is
 *     deleted (learn.microsoft.com/azure/expressroute/gateway-migration), so
 *     finding it gone settles the commit as done.
 *   feature: POST /subscriptions/{s}/providers/Microsoft.Features/providers/
 *     {ns}/features/{f}/register, state properties.state (Registering,
 *     Registered) - learn.microsoft.com/rest/api/resources/features/register.
 *   provider: POST /subscriptions/{s}/providers/{ns}/register, state
 *     registrationState - learn.microsoft.com/rest/api/resources/providers/register.
 */
static const struct action_kind action_kinds[] = {
	{ ACTION_COMMIT, "commit", "/providers/Microsoft.Network/networkManagers/",
	  ACTION_READ_DEPLOYMENTS, "Deployed", "Deploying", false },
	{ ACTION_PREPARE_MIGRATION, "prepareMigration", "/providers/Microsoft.Network/virtualNetworkGateways/",
	  ACTION_READ_MIGRATION, "PrepareSucceeded", "InProgress", false },
	{ ACTION_EXECUTE_MIGRATION, "executeMigration", "/providers/Microsoft.Network/virtualNetworkGateways/",
	  ACTION_READ_MIGRATION, "ExecuteSucceeded", "InProgress", false },
	{ ACTION_COMMIT_MIGRATION, "commitMigration", "/providers/Microsoft.Network/virtualNetworkGateways/",
	  ACTION_READ_MIGRATION, "CommitSucceeded", "InProgress", true },
	{ ACTION_ABORT_MIGRATION, "abortMigration", "/providers/Microsoft.Network/virtualNetworkGateways/",
	  ACTION_READ_MIGRATION, "AbortSucceeded", "InProgress", false },
	{ ACTION_FEATURE_REGISTER, "register", "/providers/Microsoft.Features/",
	  ACTION_READ_FEATURE, "Registered", "Registering", false },
	{ ACTION_FEATURE_UNREGISTER, "unregister", "/providers/Microsoft.Features/",
	  ACTION_READ_FEATURE, "Unregistered", "Unregistering", false },
	{ ACTION_PROVIDER_REGISTER, "register", "/providers/",
	  ACTION_READ_PROVIDER, "Registered", "Registering", false },
	{ ACTION_PROVIDER_UNREGISTER, "unregister", "/providers/",
	  ACTION_READ_PROVIDER, "Unregistered", "Unregistering", false },
};

const struct action_kind *
action_kind_of(const json_t *op)
{
	const char *path = json_str(op, "path");
	const char *a;
	size_t i;

	if (!step_is_action(op) || path == NULL)
		return NULL;
	a = op_action(op);
	for (i = 0; i < sizeof(action_kinds) / sizeof(action_kinds[0]); i++)
		if (strcmp(a, action_kinds[i].segment) == 0 && strcasestr(path, action_kinds[i].within) != NULL)
			return &action_kinds[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* PUT and DELETE */

/* What ARM computes whatever a body says (as plan/diff.h ignores it). */
static bool
read_only(const char *key)
{
	static const char *const keys[] = { "etag", "provisioningState", "resourceGuid", "systemData" };
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

bool
body_applied(const json_t *body, const json_t *image)
{
	const char *k;
	const json_t *v;
	size_t i;

	if (body == NULL || json_is_null(body))
		return image == NULL || json_is_null(image);
	if (image == NULL)
		return false;
	if (json_is_object(body)) {
		if (!json_is_object(image))
			return false;
		json_object_foreach((json_t *)body, k, v)
			if (!read_only(k) && !body_applied(v, json_object_get(image, k)))
				return false;
		return true;
	}
	if (json_is_array(body)) {
		if (!json_is_array(image) || json_array_size(body) != json_array_size(image))
			return false;
		json_array_foreach(body, i, v)
			if (!body_applied(v, json_array_get(image, i)))
				return false;
		return true;
	}
	if (json_is_string(body) && json_is_string(image))
		return strcasecmp(json_string_value(body), json_string_value(image)) == 0;
	if (json_is_number(body) && json_is_number(image))
		return json_number_value(body) == json_number_value(image);
	return json_equal(body, image);
}

static const char *
prov_state(const json_t *image)
{
	return json_path_str(image, "properties", "provisioningState", NULL);
}

static bool
terminal(const char *ps)
{
	return ps == NULL || strcasecmp(ps, "Succeeded") == 0 || strcasecmp(ps, "Failed") == 0 ||
	    strcasecmp(ps, "Canceled") == 0;
}

static enum settle_verdict
settle_write(const json_t *op, const json_t *image, char *why, size_t size)
{
	const char *m = json_str(op, "method");
	const char *ps = prov_state(image);

	if (m != NULL && strcmp(m, "DELETE") == 0) {
		if (image == NULL)
			return SETTLE_DONE;
		if (ps != NULL && strcasecmp(ps, "Deleting") == 0) {
			snprintf(why, size, "it is being deleted");
			return SETTLE_FOLLOW;
		}
		snprintf(why, size, "it still exists");
		return SETTLE_SEND;
	}
	if (!body_applied(json_object_get(op, "body"), image)) {
		if (image != NULL && !terminal(ps)) {
			/* another write is running on it: wait for it to end before judging */
			snprintf(why, size, "it is %s", ps);
			return SETTLE_FOLLOW;
		}
		snprintf(why, size, image == NULL ? "it does not exist" : "it does not carry the body sent");
		return SETTLE_SEND;
	}
	if (!terminal(ps)) {
		snprintf(why, size, "it carries the body sent and is %s", ps);
		return SETTLE_FOLLOW;
	}
	return SETTLE_DONE;
}

/* ------------------------------------------------------------------ */
/* POST actions */

enum settle_verdict
state_settle(const json_t *op, const json_t *expect, const json_t *pre, bool pre_known,
    const json_t *image, char *why, size_t size)
{
	const struct action_kind *k = action_kind_of(op);
	enum expect_result er;

	why[0] = '\0';
	if (!step_is_action(op))
		return settle_write(op, image, why, size);
	if (k != NULL && k->gone_is_done && image == NULL && (!pre_known || pre != NULL)) {
		snprintf(why, size, "the gateway is gone: the commit deleted it");
		return SETTLE_DONE;
	}
	/*
	 * Unchanged since the journaled before-image comes first: a commit whose
	 * goal state was already deployed (every wave after the first commits
	 * the same configurations) meets its expectation without arriving, and
	 * only its commit time tells whether it did.
	 */
	if (pre_known && state_unchanged(op, pre, image)) {
		snprintf(why, size, "its state has not moved since just before it was sent");
		return SETTLE_SEND;
	}
	er = state_expect(op, expect, image, why, size);
	if (er == EXPECT_MET)
		return SETTLE_DONE;
	if (state_in_progress(op, image))
		return SETTLE_FOLLOW;
	if (er == EXPECT_FAILED && pre_known)
		return SETTLE_FAILED;
	return SETTLE_UNKNOWN;
}
