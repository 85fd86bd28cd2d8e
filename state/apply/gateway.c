/*
 * The gateway an ExpressRoute migration made, settled by fact.  Azure
 * names the new gateway as the user asked or "<name>_migrate", tags it
 * CreatedBy: GatewaySKUMigration and puts it in the old gateway's
 * GatewaySubnet (plan/gwmigrate.h); after commitMigration the old gateway
 * is gone.  So after prepare apply lists the gateways of the resource
 * group, takes the tagged one in the same GatewaySubnet, and journals its
 * id ("migrated-gateway", under the prepare step); the gates, the history,
 * the job that reads a committed migration's phase and rollback use that
 * id, never a guessed name.  When it differs from the plan's prediction
 * (the prepare step's "newGateway"), an event says so and the found one
 * is used.  VPN gateways migrate in place: there is nothing to find.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/arm_api.h"
#include "plan/gwmigrate.h"
#include "plan/json_own.h"
#include "plan/jsonutil.h"
#include "state/apply/internal.h"

#define API_NETWORK ARM_API_NETWORK
#define EVENT_FOUND "migrated-gateway"
#define EVENT_GONE "migrated-gateway-gone"

/* The plan's prepareMigration step for a gateway: its wave, id and predicted new gateway. */
static const json_t *
prepare_step(const struct run *r, const char *gateway_id, int *wave_idx)
{
	const json_t *w, *s;
	size_t i, k;

	json_array_foreach(json_object_get(r->plan, "waves"), i, w)
		json_array_foreach(json_object_get(w, "steps"), k, s) {
			const char *res = json_str(s, "resource");
			const json_t *op = json_object_get(s, "operation");
			if (res != NULL && strcasecmp(res, gateway_id) == 0 && action_kind_of(op) != NULL &&
			    action_kind_of(op)->makes_resource) {
				*wave_idx = (int)i;
				return s;
			}
		}
	return NULL;
}

/* The last journaled finding for gateway_id ({gateway, newGateway, ...}), borrowed from the run's cache. */
static const json_t *
journaled(struct run *r, const char *gateway_id, struct nw_err *err, int *rc)
{
	json_t *journal = NULL, *ev;
	const json_t *found = NULL;
	size_t i;

	*rc = 0;
	if (r->migrated == NULL && (r->migrated = json_object()) == NULL) {
		*rc = err_set(err, NW_ENOMEM, "out of memory");
		return NULL;
	}
	if (!r->migrated_loaded) {
		if ((*rc = store_journal_list(r->st, r->plan_id, &journal, err)) != 0)
			return NULL;
		json_array_foreach(journal, i, ev) {
			const json_t *d = json_object_get(ev, "detail");
			if (strcmp(json_str(ev, "event"), EVENT_FOUND) == 0 && json_str(d, "gateway") != NULL &&
			    json_str(d, "newGateway") != NULL)
				json_object_set(r->migrated, json_str(d, "gateway"), (json_t *)d);
			else if (strcmp(json_str(ev, "event"), EVENT_GONE) == 0 && json_str(d, "gateway") != NULL)
				json_object_del(r->migrated, json_str(d, "gateway"));
		}
		json_decref(journal);
		r->migrated_loaded = true;
	}
	{
		const char *k;
		json_t *v;
		json_object_foreach(r->migrated, k, v)
			if (strcasecmp(k, gateway_id) == 0)
				found = v;
	}
	return found;
}

/*
 * The resources of type ("virtualNetworkGateways", "connections") in the
 * resource group of id, a new array in *out; what names them in an error
 * ("cannot list the gateways beside <id>").
 */
static int
list_beside(struct run *r, const char *id, const char *type, const char *what, json_t **out,
    struct nw_err *err)
{
	const char *p = strstr(id, "/providers/");
	int rc;

	*out = NULL;
	if (p == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	rc = run_list(r, out, err, "%.*s/providers/Microsoft.Network/%s?api-version=%s", (int)(p - id), id,
	    type, API_NETWORK);
	if (rc != 0)
		err_prefix(err, "cannot list the %s beside %s", what, id);
	return rc;
}

static const char *
subnet_of(const json_t *gw)
{
	return json_path_str(json_array_get(json_path(gw, "properties", "ipConfigurations", NULL), 0),
	    "properties", "subnet", "id", NULL);
}

/*
 * Finds the new gateway among the resource group's: tagged by a migration,
 * not the old one, in the old one's GatewaySubnet (when the old one is
 * still there to say which).  The prediction wins a tie; otherwise only a
 * single candidate is taken.  *out malloc'd or NULL.
 */
static int
find_by_fact(struct run *r, const char *gateway_id, const json_t *old, const char *predicted,
    char **out, struct nw_err *err)
{
	json_t *all = NULL, *g, *cands;
	const char *subnet = subnet_of(old);
	size_t i;
	int rc;

	*out = NULL;
	if ((rc = list_beside(r, gateway_id, "virtualNetworkGateways", "gateways", &all, err)) != 0)
		return rc;
	if ((cands = json_array()) == NULL) {
		json_decref(all);
		return err_set(err, NW_ENOMEM, "out of memory");
	}
	json_array_foreach(all, i, g) {
		const char *id = json_str(g, "id");
		if (id == NULL || strcasecmp(id, gateway_id) == 0 || !gwm_is_tagged(g))
			continue;
		if (subnet != NULL && (subnet_of(g) == NULL || strcasecmp(subnet_of(g), subnet) != 0))
			continue;
		json_array_append_new(cands, json_string(id));
	}
	json_array_foreach(cands, i, g)
		if (predicted != NULL && strcasecmp(json_string_value(g), predicted) == 0)
			*out = strdup(predicted);
	if (*out == NULL && json_array_size(cands) == 1)
		*out = strdup(json_string_value(json_array_get(cands, 0)));
	if (*out == NULL && json_array_size(cands) > 1)
		run_event(r, "migrated-gateway-ambiguous", json_pack("{s:s, s:O}", "gateway", gateway_id,
		    "candidates", cands));
	json_decref(all);
	json_decref(cands);
	return 0;
}

/*
 * The connections of the old gateway and of the new one, among the old
 * gateway's resource group's (Learn: prepare copies them, commit deletes
 * the old ones), for the history.  New references (arrays of ids).
 */
static int
connections_by_fact(struct run *r, const char *gateway_id, const char *new_id, json_t **conns,
    json_t **new_conns, struct nw_err *err)
{
	json_t *all = NULL, *c;
	size_t i;
	int rc;

	*conns = *new_conns = NULL;
	if ((rc = list_beside(r, gateway_id, "connections", "connections", &all, err)) != 0)
		return rc;
	*conns = json_array();
	*new_conns = json_array();
	if (*conns == NULL || *new_conns == NULL) {
		json_release_all(&all, conns, new_conns);
		*conns = *new_conns = NULL;
		return err_set(err, NW_ENOMEM, "out of memory");
	}
	json_array_foreach(all, i, c) {
		const char *g1 = json_path_str(c, "properties", "virtualNetworkGateway1", "id", NULL);
		if (g1 == NULL || json_str(c, "id") == NULL)
			continue;
		if (strcasecmp(g1, gateway_id) == 0)
			json_array_append_new(*conns, json_string(json_str(c, "id")));
		else if (strcasecmp(g1, new_id) == 0)
			json_array_append_new(*new_conns, json_string(json_str(c, "id")));
	}
	json_decref(all);
	return 0;
}

int
gateway_migrated_find(struct run *r, const char *gateway_id, char **out, struct nw_err *err)
{
	const json_t *step;
	const char *predicted = NULL, *phase;
	const json_t *have;
	json_t *old = NULL, *detail, *conns = NULL, *new_conns = NULL;
	char *path = NULL;
	int wave_idx = -1, rc;

	*out = NULL;
	have = journaled(r, gateway_id, err, &rc);
	if (rc != 0)
		return rc;
	if (have != NULL) {
		*out = strdup(json_str(have, "newGateway"));
		return *out != NULL ? 0 : err_set(err, NW_ENOMEM, "out of memory");
	}
	step = prepare_step(r, gateway_id, &wave_idx);
	predicted = json_str(step, "newGateway");
	path = path_with_version(gateway_id, API_NETWORK);
	if (path == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	rc = provider_read(r->p, path, &old, err);
	free(path);
	if (rc != 0) {
		err_prefix(err, "cannot read gateway %s", gateway_id);
		return rc;
	}
	/*
	 * VPN gateways migrate in place: there is no other gateway to find; nor
	 * is there one before the old gateway reports a prepared migration (a
	 * tagged gateway from an earlier migration is not this one's)
	 */
	phase = json_path_str(old, "properties", "virtualNetworkGatewayMigrationStatus", "phase", NULL);
	if ((old != NULL && !gwm_is_expressroute(old)) || (old == NULL && step != NULL && predicted == NULL) ||
	    (old != NULL && (phase == NULL || strcasecmp(phase, "None") == 0 ||
	    strcasecmp(phase, "Prepare") == 0 || strcasecmp(phase, "AbortSucceeded") == 0))) {
		json_decref(old);
		return 0;
	}
	rc = find_by_fact(r, gateway_id, old, predicted, out, err);
	json_decref(old);
	if (rc == 0 && *out != NULL)
		rc = connections_by_fact(r, gateway_id, *out, &conns, &new_conns, err);
	if (rc != 0 || *out == NULL) {
		free(*out);
		*out = NULL;
		return rc;
	}
	if (predicted != NULL && strcasecmp(predicted, *out) != 0)
		run_event(r, "migrated-gateway-unexpected", json_pack("{s:s, s:s, s:s}", "gateway", gateway_id,
		    "predicted", predicted, "found", *out));
	/*
	 * Journaled as a cache of a fact that can be found again: a crash on
	 * either side of this write needs no settling, so it is not a crash point.
	 */
	detail = json_pack("{s:s, s:s, s:s?, s:s, s:o, s:o}", "gateway", gateway_id, "newGateway", *out,
	    "predicted", predicted, "how", "tagged " GWM_TAG_KEY ": " GWM_TAG_VALUE ", in the same GatewaySubnet",
	    "connections", conns, "newConnections", new_conns);
	rc = detail == NULL ? err_set(err, NW_ENOMEM, "out of memory") :
	    store_journal_append(r->st, r->plan_id, EVENT_FOUND, step != NULL ? wave_idx : -1,
	    step != NULL ? json_str(step, "id") : NULL, detail, run_time(r), err);
	if (rc != 0) {
		json_decref(detail);
		free(*out);
		*out = NULL;
		return rc;
	}
	json_object_set_new(r->migrated, gateway_id, detail);
	run_event(r, "migrated-gateway-found", json_pack("{s:s, s:s}", "gateway", gateway_id, "found", *out));
	return 0;
}

char *
gateway_migrated_id(struct run *r, const char *gateway_id)
{
	struct nw_err e = { 0 };
	char *out = NULL;
	int wave_idx;

	if (gateway_migrated_find(r, gateway_id, &out, &e) == 0 && out != NULL)
		return out;
	/* nothing found (or it could not be looked for): the plan's prediction, if any */
	{
		const char *pred = json_str(prepare_step(r, gateway_id, &wave_idx), "newGateway");
		return pred != NULL ? strdup(pred) : NULL;
	}
}

json_t *
gateway_migrated_connections(struct run *r, const char *gateway_id)
{
	struct nw_err e = { 0 };
	json_t *out = json_array(), *v;
	const json_t *d;
	size_t i;
	int rc;

	d = journaled(r, gateway_id, &e, &rc);
	if (out == NULL || d == NULL)
		return out;
	json_array_foreach(json_object_get(d, "connections"), i, v)
		json_array_append(out, v);
	json_array_foreach(json_object_get(d, "newConnections"), i, v)
		json_array_append(out, v);
	return out;
}

int
gateway_migrated_forget(struct run *r, const char *gateway_id, struct nw_err *err)
{
	json_t *detail;
	int rc, wave_idx = -1;
	const json_t *step = prepare_step(r, gateway_id, &wave_idx);

	if (journaled(r, gateway_id, err, &rc) == NULL)
		return rc;
	detail = json_pack("{s:s}", "gateway", gateway_id);
	if (detail == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	rc = store_journal_append(r->st, r->plan_id, EVENT_GONE, step != NULL ? wave_idx : -1,
	    step != NULL ? json_str(step, "id") : NULL, detail, run_time(r), err);
	json_decref(detail);
	if (rc == 0)
		json_object_del(r->migrated, gateway_id);
	return rc;
}
