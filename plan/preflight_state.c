/*
 * Preflight, the judges of state: resource groups present (or created by
 * the plan), resources the plan writes in a terminal provisioning state,
 * no gateway migration or network manager commit already running,
 * resource providers and preview features registered (or registered by a
 * step of the plan).  Pure; called by preflight_judge.
 *
 * Sources:
 *   https://learn.microsoft.com/azure/azure-resource-manager/management/resource-providers-and-types
 *     (registrationState: NotRegistered, Registering, Registered, Unregistering)
 *   https://learn.microsoft.com/rest/api/resources/features/get (properties.state: NotRegistered,
 *     Pending, Registering, Registered, Unregistering, Unregistered)
 *   https://learn.microsoft.com/azure/azure-resource-manager/troubleshooting/error-resource-group-not-found
 *   https://learn.microsoft.com/rest/api/virtualnetwork/virtual-network-gateways/get
 *     (virtualNetworkGatewayMigrationStatus: state InProgress while a phase runs)
 *   https://learn.microsoft.com/rest/api/networkmanager/network-manager-deployment-status/list
 *     (deploymentStatus Deploying while a commit runs)
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "plan/preflight.h"

int preflight_judge_state(struct preflight *pf, const json_t *writes, const json_t *reads,
    const json_t *facts, struct nw_err *err);

static bool
failed_fact(const json_t *v)
{
	return json_is_object(v) && json_str(v, "error") != NULL;
}

/* --- resource groups ---------------------------------------------------------------------- */

static int
judge_groups(struct preflight *pf, const json_t *writes, const json_t *facts, struct nw_err *err)
{
	json_t *created = json_object(), *seen = json_object(), *w;
	const json_t *names;
	char key[512], low[512], fix[640];
	size_t i, unread = 0;
	int rc = 0;

	if (created == NULL || seen == NULL) {
		rc = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	json_array_foreach(writes, i, w)
		if (json_is_true(json_object_get(w, "createsGroup"))) {
			snprintf(key, sizeof(key), "%s/%s", json_str(w, "subscription"), json_str(w, "resourceGroup"));
			json_object_set_new(created, str_lower(low, sizeof(low), key), json_true());
		}
	json_array_foreach(writes, i, w) {
		const char *sub = json_str(w, "subscription"), *rg = json_str(w, "resourceGroup");
		if (rg == NULL || strcmp(json_str(w, "role"), PF_ROLE_ROLLBACK) == 0)
			continue;
		snprintf(key, sizeof(key), "%s/%s", sub, rg);
		str_lower(low, sizeof(low), key);
		if (json_object_get(created, low) != NULL || json_object_get(seen, low) != NULL)
			continue;
		json_object_set_new(seen, low, json_true());
		names = json_object_get(json_object_get(facts, "resourceGroups"), str_lower(key, sizeof(key), sub));
		if (names == NULL || failed_fact(names)) {
			unread++;
			continue;
		}
		if (json_array_has_str(names, rg, strcasecmp))
			continue;
		snprintf(fix, sizeof(fix), "create it (az group create --subscription %s --name %s --location LOCATION) "
		    "or discover and plan again, which adds a create-resource-group step", sub, rg);
		snprintf(key, sizeof(key), "/subscriptions/%s/resourceGroups/%s", sub, rg);
		if ((rc = preflight_add(pf, PF_BLOCKER, "group-missing", "state", key, key, json_str(w, "step"), err, fix,
		    "resource group %s does not exist and the plan does not create it: ARM would answer "
		    "ResourceGroupNotFound", rg)) != 0)
			goto done;
	}
	rc = preflight_check_note(pf, "groups", unread == 0, "resource groups listed once per subscription", err);
done:
	json_decref(created);
	json_decref(seen);
	return rc;
}

/* --- resources ---------------------------------------------------------------------------- */

static bool
terminal(const char *state)
{
	return state == NULL || strcasecmp(state, "Succeeded") == 0 || strcasecmp(state, "Failed") == 0 ||
	    strcasecmp(state, "Canceled") == 0;
}

static int
resource_one(struct preflight *pf, const json_t *w, const char *id, const json_t *res, struct nw_err *err)
{
	const char *ps = json_path_str(res, "properties", "provisioningState", NULL);
	const char *ms = json_path_str(res, "properties", "virtualNetworkGatewayMigrationStatus", "state", NULL);
	const char *mp = json_path_str(res, "properties", "virtualNetworkGatewayMigrationStatus", "phase", NULL);

	if (!terminal(ps))
		return preflight_add(pf, PF_BLOCKER, "resource-busy", "state", id, NULL, json_str(w, "step"), err,
		    "wait for the operation running on it to end (az resource wait --updated --ids ID), then run "
		    "preflight again", "%s is %s: a write to it now would be refused or race the operation running "
		    "on it (AnotherOperationInProgress)", arm_id_name(id), ps);
	if (ms != NULL && strcasecmp(ms, "InProgress") == 0)
		return preflight_add(pf, PF_BLOCKER, "migration-in-progress", "state", id, NULL, json_str(w, "step"), err,
		    "let the running migration phase end (its status is the gateway's "
		    "virtualNetworkGatewayMigrationStatus) before applying", "gateway %s has a migration phase "
		    "running (%s, InProgress)", arm_id_name(id), mp != NULL ? mp : "?");
	return 0;
}

static int
judge_resources(struct preflight *pf, const json_t *writes, const json_t *reads, const json_t *facts,
    struct nw_err *err)
{
	const json_t *res = json_object_get(facts, "resources"), *colls = json_object_get(facts, "collections");
	const json_t *w, *c, *r;
	json_t *seen = json_object();
	char id[2048], coll[2048], low[2048];
	size_t i, unread = 0;
	int rc = 0;

	if (seen == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	json_array_foreach(json_object_get(reads, "collections"), i, c) {
		const json_t *v = json_object_get(colls, str_lower(low, sizeof(low), json_string_value(c)));
		if (v == NULL || failed_fact(v))
			unread++;
	}
	json_array_foreach(writes, i, w) {
		if (strcmp(json_str(w, "role"), PF_ROLE_ROLLBACK) == 0 ||
		    !preflight_top_resource(id, sizeof(id), coll, sizeof(coll), json_str(w, "path")))
			continue;
		str_lower(low, sizeof(low), id);
		if (json_object_get(seen, low) != NULL || (r = json_object_get(res, low)) == NULL)
			continue;
		json_object_set_new(seen, low, json_true());
		if ((rc = resource_one(pf, w, id, r, err)) != 0)
			goto done;
	}
	json_array_foreach(json_object_get(reads, "networkManagers"), i, c) {
		const json_t *st = json_object_get(json_object_get(facts, "deployments"),
		    str_lower(low, sizeof(low), json_str(c, "id")));
		size_t k;
		if (st == NULL || failed_fact(st)) {
			unread++;
			continue;
		}
		json_array_foreach(st, k, r)
			if (json_is_string(r) && strcasecmp(json_string_value(r), "Deploying") == 0) {
				if ((rc = preflight_add(pf, PF_BLOCKER, "commit-in-progress", "state", json_str(c, "id"), NULL,
				    NULL, err, "wait until listDeploymentStatus shows no Deploying region, then run preflight "
				    "again", "network manager %s has a commit deploying: a second commit would be refused "
				    "until it ends", arm_id_name(json_str(c, "id")))) != 0)
					goto done;
				break;
			}
	}
	rc = preflight_check_note(pf, "resources", unread == 0, "provisioning and migration states read by "
	    "collection (group and type), commits by network manager", err);
done:
	json_decref(seen);
	return rc;
}

/* --- providers and features -------------------------------------------------------------- */

/* True when some forward write POSTs to suffix under /subscriptions/{sub}. */
static bool
plan_posts(const json_t *writes, const char *sub, const char *suffix)
{
	const json_t *w;
	char want[1024];
	size_t i;

	snprintf(want, sizeof(want), "/subscriptions/%s%s", sub, suffix);
	json_array_foreach(writes, i, w)
		if (strcmp(json_str(w, "method"), "POST") == 0 && strcmp(json_str(w, "role"), PF_ROLE_ROLLBACK) != 0 &&
		    strcasecmp(json_str(w, "path"), want) == 0)
			return true;
	return false;
}

static int
provider_one(struct preflight *pf, const json_t *writes, const json_t *p, const char *state, struct nw_err *err)
{
	const char *sub = json_str(p, "subscription"), *ns = json_str(p, "namespace");
	char suffix[512], res[512], fix[512];

	snprintf(suffix, sizeof(suffix), "/providers/%s/register", ns);
	snprintf(res, sizeof(res), "/subscriptions/%s/providers/%s", sub, ns);
	snprintf(fix, sizeof(fix), "az provider register --namespace %s --subscription %s, and wait for Registered",
	    ns, sub);
	if (strcasecmp(state, "Registered") == 0)
		return 0;
	if (plan_posts(writes, sub, suffix))
		return preflight_add(pf, PF_INFO, "provider-registered-by-plan", "state", res, NULL, NULL, err, NULL,
		    "%s is %s on subscription %s; a step of the plan registers it", ns, state, sub);
	if (strcasecmp(state, "Registering") == 0)
		return preflight_add(pf, PF_WARNING, "provider-registering", "state", res, NULL, NULL, err, fix,
		    "%s is still Registering on subscription %s: writes may be refused until it is Registered", ns, sub);
	return preflight_add(pf, PF_BLOCKER, "provider-unregistered", "state", res, NULL, NULL, err, fix,
	    "%s is %s on subscription %s and no step registers it: ARM would answer "
	    "MissingSubscriptionRegistration", ns, state, sub);
}

static int
feature_one(struct preflight *pf, const json_t *f, const char *state, struct nw_err *err)
{
	const char *sub = json_str(f, "subscription"), *ns = json_str(f, "namespace"), *name = json_str(f, "feature");
	char res[512];

	snprintf(res, sizeof(res), "/subscriptions/%s/providers/Microsoft.Features/providers/%s/features/%s",
	    sub, ns, name);
	if (strcasecmp(state, "Registering") == 0 || strcasecmp(state, "Pending") == 0)
		return preflight_add(pf, PF_WARNING, "feature-registering", "state", res, NULL, NULL, err,
		    "nothing to do but wait: the plan's feature gate waits for Registered before the waves that need it; "
		    "a Pending feature needs Microsoft's approval",
		    "feature %s/%s is %s on subscription %s: the waves that need it wait until it is Registered",
		    ns, name, state, sub);
	if (strcasecmp(state, "Unregistering") == 0)
		return preflight_add(pf, PF_WARNING, "feature-unregistering", "state", res, NULL, NULL, err,
		    "wait until it is Unregistered, then apply (the plan registers it again)",
		    "feature %s/%s is Unregistering on subscription %s: registering it again before that ends is "
		    "undocumented", ns, name, sub);
	return preflight_add(pf, PF_INFO, "feature-state", "state", res, NULL, NULL, err, NULL,
	    "feature %s/%s is %s on subscription %s; the plan registers it", ns, name, state, sub);
}

static int
judge_registrations(struct preflight *pf, const json_t *writes, const json_t *reads, const json_t *facts,
    struct nw_err *err)
{
	const json_t *p, *st;
	char key[1024], low[1024];
	size_t i, unread = 0;
	int rc;

	json_array_foreach(json_object_get(reads, "providers"), i, p) {
		snprintf(key, sizeof(key), "%s/%s", json_str(p, "subscription"), json_str(p, "namespace"));
		st = json_object_get(json_object_get(facts, "providers"), str_lower(low, sizeof(low), key));
		if (!json_is_string(st)) {
			unread++;
			continue;
		}
		if ((rc = provider_one(pf, writes, p, json_string_value(st), err)) != 0)
			return rc;
	}
	json_array_foreach(json_object_get(reads, "features"), i, p) {
		snprintf(key, sizeof(key), "%s/%s/%s", json_str(p, "subscription"), json_str(p, "namespace"),
		    json_str(p, "feature"));
		st = json_object_get(json_object_get(facts, "features"), str_lower(low, sizeof(low), key));
		if (!json_is_string(st)) {
			unread++;
			continue;
		}
		if ((rc = feature_one(pf, p, json_string_value(st), err)) != 0)
			return rc;
	}
	return preflight_check_note(pf, "registrations", unread == 0, "resource providers and preview features "
	    "read once per subscription", err);
}

int
preflight_judge_state(struct preflight *pf, const json_t *writes, const json_t *reads, const json_t *facts,
    struct nw_err *err)
{
	int rc;

	if ((rc = judge_groups(pf, writes, facts, err)) != 0 ||
	    (rc = judge_resources(pf, writes, reads, facts, err)) != 0)
		return rc;
	return judge_registrations(pf, writes, reads, facts, err);
}
