/*
 * Virtual network gateway migration to Standard public IPs
 * (reference/azure-arm.md, section 3): prepareMigration,
 * executeMigration, commitMigration and abortMigration move
 * properties.virtualNetworkGatewayMigrationStatus through the documented
 * phases, each behind a long-running operation of its documented length
 * (divided by the time scale).  Prepare creates the second gateway
 * ("<name>_migrated", tagged CreatedBy: GatewaySKUMigration, with copies
 * of the connections and, for VPN gateways, Standard copies of the Basic
 * public IPs), execute moves traffic to it, commit deletes the old gateway
 * with its connections and Basic IPs, abort removes the new ones and
 * restores the original.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "plan/topology.h"
#include "providers/emulator/emu.h"

#define MIGRATED_SUFFIX "_migrated"

static const char *
phase_of(json_t *gw)
{
	const char *p = json_path_str(gw, "properties", "virtualNetworkGatewayMigrationStatus",
	    "phase", NULL);
	return p != NULL ? p : "None";
}

static const char *
state_of(json_t *gw)
{
	const char *s = json_path_str(gw, "properties", "virtualNetworkGatewayMigrationStatus",
	    "state", NULL);
	return s != NULL ? s : "None";
}

static void
set_status(struct emulator *e, json_t *gw, const char *state, const char *phase, const char *msg)
{
	json_t *props = json_object_get(gw, "properties");

	if (!json_is_object(props)) {
		props = json_object();
		json_object_set_new(gw, "properties", props);
	}
	json_object_set_new(props, "virtualNetworkGatewayMigrationStatus", json_pack("{s:s,s:s,s:s}",
	    "state", state, "phase", phase, "errorMessage", msg != NULL ? msg : ""));
	emu_store_etag(e, gw);
	emu_store_touch(e, json_str(gw, "id"));
}

/* The zone-redundant SKU a migration moves to. */
static const char *
az_sku(const char *sku)
{
	static const char *const map[][2] = {
		{ "VpnGw1", "VpnGw1AZ" }, { "VpnGw2", "VpnGw2AZ" }, { "VpnGw3", "VpnGw3AZ" },
		{ "VpnGw4", "VpnGw4AZ" }, { "VpnGw5", "VpnGw5AZ" }, { "Standard", "ErGw1AZ" },
		{ "HighPerformance", "ErGw2AZ" }, { "UltraPerformance", "ErGw3AZ" },
		{ "Basic", "VpnGw1AZ" },
	};
	size_t i;

	for (i = 0; sku != NULL && i < sizeof(map) / sizeof(map[0]); i++)
		if (strcasecmp(map[i][0], sku) == 0)
			return map[i][1];
	return sku;
}

static bool
phase_allows(const char *action, const char *phase, const char *state, const char **needs)
{
	bool ok_state = strcmp(state, "Succeeded") == 0 || strcmp(state, "None") == 0;
	bool failed = strcmp(state, "Failed") == 0;

	if (strcmp(action, "prepareMigration") == 0) {
		*needs = "None or AbortSucceeded";
		return ((strcmp(phase, "None") == 0 || strcmp(phase, "AbortSucceeded") == 0) && !failed) ||
		    (strcmp(phase, "Prepare") == 0 && failed);
	}
	if (strcmp(action, "executeMigration") == 0) {
		*needs = "PrepareSucceeded";
		return (strcmp(phase, "PrepareSucceeded") == 0 && ok_state) ||
		    (strcmp(phase, "Execute") == 0 && failed);
	}
	if (strcmp(action, "commitMigration") == 0) {
		*needs = "ExecuteSucceeded";
		return (strcmp(phase, "ExecuteSucceeded") == 0 && ok_state) ||
		    (strcmp(phase, "Commit") == 0 && failed);
	}
	*needs = "PrepareSucceeded or ExecuteSucceeded";
	return ((strcmp(phase, "PrepareSucceeded") == 0 || strcmp(phase, "ExecuteSucceeded") == 0) &&
	    ok_state) || ((strcmp(phase, "Prepare") == 0 || strcmp(phase, "Execute") == 0) && failed);
}

/* Ids of the connections whose virtualNetworkGateway1 is this gateway. */
static json_t *
connections_of(struct emulator *e, const char *gw_id)
{
	const char **keys;
	size_t n, i;
	json_t *out = json_array();

	emu_store_sorted(e, &keys, &n);
	for (i = 0; i < n; i++) {
		json_t *c = json_object_get(e->res, keys[i]);
		const char *type = json_str(c, "type");
		const char *g1 = json_path_str(c, "properties", "virtualNetworkGateway1", "id", NULL);

		if (type != NULL && strcasecmp(type, TYPE_CONNECTION) == 0 && g1 != NULL &&
		    strcasecmp(g1, gw_id) == 0)
			json_array_append_new(out, json_string(json_str(c, "id")));
	}
	return out;
}

static char *
renamed(const char *id)
{
	return emu_printf("%s%s", id, MIGRATED_SUFFIX);
}

static json_t *
copy_as(struct emulator *e, json_t *src, const char *new_id)
{
	json_t *c = json_deep_copy(src);
	char g[40];

	json_object_set_new(c, "id", json_string(new_id));
	json_object_set_new(c, "name", json_string(strrchr(new_id, '/') + 1));
	emu_store_etag(e, c);
	emu_guid(e, g);
	if (json_is_object(json_object_get(c, "properties")))
		json_object_set_new(json_object_get(c, "properties"), "resourceGuid", json_string(g));
	return c;
}

static void
set_pip_phase(struct emulator *e, const char *pip_id, const char *phase)
{
	json_t *pip = emu_store_get(e, pip_id);

	if (pip == NULL)
		return;
	if (!json_is_object(json_object_get(pip, "properties")))
		json_object_set_new(pip, "properties", json_object());
	json_object_set_new(json_object_get(pip, "properties"), "migrationPhase", json_string(phase));
	emu_store_touch(e, pip_id);
}

static void
prepare(struct emulator *e, json_t *gw, struct emu_op *op, const char *mtype)
{
	const char *gw_id = json_str(gw, "id");
	bool er = json_path_str(gw, "properties", "gatewayType", NULL) != NULL &&
	    strcasecmp(json_path_str(gw, "properties", "gatewayType", NULL), "ExpressRoute") == 0;
	char *new_id = renamed(gw_id), *low = emu_lower(gw_id);
	json_t *ngw = copy_as(e, gw, new_id), *props = json_object_get(ngw, "properties");
	json_t *tags = json_object_get(ngw, "tags"), *c, *conns, *cid;
	json_t *snap, *new_conns = json_array(), *new_pips = json_array(), *old_pips = json_array();
	size_t i;

	/* remember the original so abort can restore it: copies, since the
	 * later steps edit the live gateway and connections in place */
	snap = json_pack("{s:o,s:[]}", "gateway", json_deep_copy(gw), "connections");
	conns = connections_of(e, gw_id);
	json_array_foreach(conns, i, cid)
		json_array_append_new(json_object_get(snap, "connections"),
		    json_deep_copy(emu_store_get(e, json_string_value(cid))));
	json_object_set_new(e->snapshots, low, snap);

	if (!json_is_object(tags)) {
		tags = json_object();
		json_object_set_new(ngw, "tags", tags);
	}
	json_object_set_new(tags, "CreatedBy", json_string("GatewaySKUMigration"));
	json_object_del(props, "virtualNetworkGatewayMigrationStatus");
	json_object_set_new(props, "adminState", json_string("Disabled"));
	json_object_set_new(props, "provisioningState", json_string("Updating"));
	if (json_path_str(props, "sku", "name", NULL) != NULL) {
		const char *to = az_sku(json_path_str(props, "sku", "name", NULL));
		json_object_set_new(json_object_get(props, "sku"), "name", json_string(to));
		json_object_set_new(json_object_get(props, "sku"), "tier", json_string(to));
	}
	json_array_foreach(json_object_get(props, "ipConfigurations"), i, c) {
		const char *pip_id = json_path_str(c, "properties", "publicIPAddress", "id", NULL);
		const char *cname = json_str(c, "name");

		if (cname != NULL)
			json_object_set_new(c, "id", json_sprintf("%s/ipConfigurations/%s", new_id, cname));
		if (pip_id == NULL)
			continue;
		json_array_append_new(old_pips, json_string(pip_id));
		if (er) {
			/* ExpressRoute: a Microsoft-managed (HOBO) address, no public IP resource */
			json_object_del(json_object_get(c, "properties"), "publicIPAddress");
		} else {
			json_t *pip = emu_store_get(e, pip_id);
			char *npid = renamed(pip_id);

			if (pip != NULL && emu_store_get(e, npid) == NULL) {
				json_t *np = copy_as(e, pip, npid), *pp = json_object_get(np, "properties");

				json_object_set_new(np, "sku", json_pack("{s:s,s:s}", "name", "Standard",
				    "tier", "Regional"));
				if (json_is_object(pp)) {
					json_object_set_new(pp, "publicIPAllocationMethod", json_string("Static"));
					json_object_set_new(pp, "migrationPhase", json_string("Prepare"));
					json_object_set_new(pp, "ipConfiguration", json_pack("{s:o}", "id",
					    json_sprintf("%s/ipConfigurations/%s", new_id,
					    cname != NULL ? cname : "default")));
				}
				emu_store_put(e, npid, np);
				json_array_append_new(new_pips, json_string(npid));
			}
			if (emu_store_get(e, npid) != NULL)
				json_object_set_new(json_object_get(c, "properties"), "publicIPAddress",
				    json_pack("{s:s}", "id", npid));
			free(npid);
		}
	}
	emu_store_put(e, new_id, ngw);
	json_array_foreach(conns, i, cid) {
		json_t *oc = emu_store_get(e, json_string_value(cid));
		char *ncid = renamed(json_string_value(cid));
		json_t *nc = copy_as(e, oc, ncid), *cp = json_object_get(nc, "properties");

		if (json_is_object(cp)) {
			json_object_set_new(cp, "virtualNetworkGateway1", json_pack("{s:s}", "id", new_id));
			json_object_set_new(cp, "provisioningState", json_string("Updating"));
		}
		emu_store_put(e, ncid, nc);
		json_array_append_new(new_conns, json_string(ncid));
		free(ncid);
	}
	json_array_foreach(old_pips, i, cid)
		set_pip_phase(e, json_string_value(cid), "Prepare");
	op->args = json_pack("{s:s,s:s,s:o,s:o,s:o}", "newGateway", new_id, "migrationType", mtype,
	    "newConnections", new_conns, "newPublicIPs", new_pips, "oldPublicIPs", old_pips);
	json_decref(conns);
	free(new_id);
	free(low);
}

void
gateway_action(struct emulator *e, struct emu_req *r, const char *gw_id, const char *action,
    json_t *body)
{
	json_t *gw = emu_store_get(e, gw_id);
	const char *phase = phase_of(gw), *state = state_of(gw), *needs = "";
	const char *mtype = json_str(body, "migrationType");
	const char *pstate = json_path_str(gw, "properties", "provisioningState", NULL);
	static const char *const mtypes[] = { "UpgradeDeploymentToStandardIP",
		"UpgradeGatewayToDualStack", "MigrateGatewayForPointToSiteProfile", NULL };
	struct emu_op *busy, *op;
	double dur;
	char *sub;
	size_t i;

	if (json_str(gw, "type") == NULL || strcasecmp(json_str(gw, "type"), TYPE_GATEWAY) != 0) {
		emu_reply_error(r, 404, "ResourceNotFound", "The Resource '%s' was not found.", gw_id);
		return;
	}
	busy = lro_busy(e, gw_id);
	if (busy != NULL) {
		emu_header(r, "Retry-After", "%d", 1);
		emu_reply_error(r, 429, "RetryableErrorDueToAnotherOperation",
		    "Operation %s on virtual network gateway %s is not allowed because another operation (%s) is in progress. Retry the request after the other operation completes.",
		    action, gw_id, busy->action != NULL ? busy->action : "Put");
		return;
	}
	if (strcmp(action, "prepareMigration") == 0) {
		for (i = 0; mtypes[i] != NULL; i++)
			if (mtype != NULL && strcmp(mtypes[i], mtype) == 0)
				break;
		if (mtypes[i] == NULL) {
			emu_reply_error(r, 400, "InvalidRequestFormat",
			    "Cannot parse the request: migrationType '%s' is not one of UpgradeDeploymentToStandardIP, UpgradeGatewayToDualStack, MigrateGatewayForPointToSiteProfile.",
			    mtype != NULL ? mtype : "(absent)");
			return;
		}
		if (pstate != NULL && strcmp(pstate, "Succeeded") != 0) {
			emu_reply_error(r, 400, "GatewayNotInSucceededState",
			    "Virtual network gateway %s is in provisioning state %s; a migration needs Succeeded.",
			    gw_id, pstate);
			return;
		}
	}
	if (!phase_allows(action, phase, state, &needs)) {
		emu_reply_error(r, 400, "InvalidGatewayMigrationPhase",
		    "Cannot start %s on virtual network gateway %s: its migration phase is %s (state %s); %s needs phase %s.",
		    action, gw_id, phase, state, action, needs);
		return;
	}
	if (strcmp(action, "commitMigration") == 0 || strcmp(action, "abortMigration") == 0 ||
	    strcmp(action, "executeMigration") == 0) {
		char *low = emu_lower(gw_id);
		bool have = json_object_get(e->snapshots, low) != NULL;
		free(low);
		if (!have) {
			emu_reply_error(r, 400, "InvalidGatewayMigrationPhase",
			    "Virtual network gateway %s has no prepared migration.", gw_id);
			return;
		}
	}
	dur = strcmp(action, "prepareMigration") == 0 ? EMU_DUR_PREPARE :
	    strcmp(action, "executeMigration") == 0 ? EMU_DUR_EXECUTE :
	    strcmp(action, "commitMigration") == 0 ? EMU_DUR_COMMIT_MIGRATION : EMU_DUR_ABORT;
	sub = arm_id_part(gw_id, "subscriptions");
	op = lro_new(e, OP_ACTION, action, gw_id, sub, json_str(gw, "location"), dur);
	free(sub);
	if (strcmp(action, "prepareMigration") == 0) {
		prepare(e, gw, op, mtype);
		set_status(e, gw, "InProgress", "Prepare", NULL);
	} else {
		/* later steps remember the second gateway from the prepare snapshot */
		char *new_id = renamed(gw_id);
		op->args = json_pack("{s:s}", "newGateway", new_id);
		free(new_id);
		set_status(e, gw, "InProgress", strcmp(action, "executeMigration") == 0 ? "Execute" :
		    strcmp(action, "commitMigration") == 0 ? "Commit" : "Abort", NULL);
	}
	emu_op_name(r, "action %s", action);
	arm_reply_lro(e, r, op, 202, NULL);
}

/* Ids of resources made by prepare: the new gateway, its connections and IPs. */
static void
made_by_prepare(struct emulator *e, const char *gw_id, json_t **conns, json_t **pips)
{
	char *new_id = renamed(gw_id);
	size_t i;
	json_t *ngw = emu_store_get(e, new_id), *c;

	*conns = connections_of(e, new_id);
	*pips = json_array();
	json_array_foreach(json_path(ngw, "properties", "ipConfigurations", NULL), i, c) {
		const char *pid = json_path_str(c, "properties", "publicIPAddress", "id", NULL);
		size_t len = strlen(MIGRATED_SUFFIX);
		if (pid != NULL && strlen(pid) > len &&
		    strcasecmp(pid + strlen(pid) - len, MIGRATED_SUFFIX) == 0)
			json_array_append_new(*pips, json_string(pid));
	}
	free(new_id);
}

static void
old_pips(json_t *gw, json_t *out)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_path(gw, "properties", "ipConfigurations", NULL), i, c) {
		const char *pid = json_path_str(c, "properties", "publicIPAddress", "id", NULL);
		if (pid != NULL)
			json_array_append_new(out, json_string(pid));
	}
}

static void
set_admin(struct emulator *e, const char *id, const char *admin, const char *pstate)
{
	json_t *g = emu_store_get(e, id);

	if (g == NULL)
		return;
	if (!json_is_object(json_object_get(g, "properties")))
		json_object_set_new(g, "properties", json_object());
	if (admin != NULL)
		json_object_set_new(json_object_get(g, "properties"), "adminState", json_string(admin));
	if (pstate != NULL)
		json_object_set_new(json_object_get(g, "properties"), "provisioningState",
		    json_string(pstate));
	emu_store_etag(e, g);
	emu_store_touch(e, id);
}

static void
remove_new(struct emulator *e, const char *gw_id)
{
	json_t *conns, *pips, *v;
	char *new_id = renamed(gw_id);
	size_t i;

	made_by_prepare(e, gw_id, &conns, &pips);
	json_array_foreach(conns, i, v)
		emu_store_del(e, json_string_value(v));
	json_array_foreach(pips, i, v)
		emu_store_del(e, json_string_value(v));
	emu_store_del(e, new_id);
	json_decref(conns);
	json_decref(pips);
	free(new_id);
}

void
gateway_op_done(struct emulator *e, struct emu_op *op)
{
	json_t *gw = emu_store_get(e, op->target), *pips, *v, *conns;
	const char *a = op->action;
	const char *new_id = json_str(op->args, "newGateway");
	char *low = emu_lower(op->target);
	bool ok = op->state == OP_SUCCEEDED;
	size_t i;

	op->result_status = 200;
	if (gw == NULL)
		goto done;
	if (!ok) {
		/* a failed step keeps its phase with state Failed */
		set_status(e, gw, "Failed", strcmp(a, "prepareMigration") == 0 ? "Prepare" :
		    strcmp(a, "executeMigration") == 0 ? "Execute" :
		    strcmp(a, "commitMigration") == 0 ? "Commit" : "Abort", op->fail_msg);
		if (strcmp(a, "prepareMigration") == 0) {
			pips = json_array();
			old_pips(gw, pips);
			remove_new(e, op->target);
			json_array_foreach(pips, i, v)
				set_pip_phase(e, json_string_value(v), "None");
			json_decref(pips);
		}
		goto done;
	}
	if (strcmp(a, "prepareMigration") == 0) {
		set_status(e, gw, "Succeeded", "PrepareSucceeded", NULL);
		set_admin(e, new_id, NULL, "Succeeded");
		json_array_foreach(json_object_get(op->args, "newConnections"), i, v) {
			json_t *c = emu_store_get(e, json_string_value(v));
			if (c != NULL) {
				arm_set_state(c, "Succeeded");
				emu_store_touch(e, json_string_value(v));
			}
		}
	} else if (strcmp(a, "executeMigration") == 0) {
		/* traffic moves to the new gateway */
		set_admin(e, new_id, "Enabled", NULL);
		set_admin(e, op->target, "Disabled", NULL);
		set_status(e, gw, "Succeeded", "ExecuteSucceeded", NULL);
	} else if (strcmp(a, "commitMigration") == 0) {
		json_t *ngw = emu_store_get(e, new_id);

		pips = json_array();
		old_pips(gw, pips);
		conns = connections_of(e, op->target);
		json_array_foreach(conns, i, v)
			emu_store_del(e, json_string_value(v));
		emu_store_del(e, op->target);
		json_array_foreach(pips, i, v) {
			const char *pid = json_string_value(v);
			char *npid = renamed(pid);
			json_t *np = emu_store_get(e, npid);
			/* the Basic IP goes; its Standard copy keeps the address */
			if (np != NULL) {
				emu_store_del(e, pid);
				set_pip_phase(e, npid, "Committed");
			} else {
				set_pip_phase(e, pid, "Committed");
			}
			free(npid);
		}
		json_decref(pips);
		json_decref(conns);
		if (ngw != NULL) {
			set_admin(e, new_id, "Enabled", "Succeeded");
			set_status(e, ngw, "Succeeded", "CommitSucceeded", NULL);
		}
		json_object_del(e->snapshots, low);
	} else {
		json_t *snap = json_object_get(e->snapshots, low), *orig, *c;

		remove_new(e, op->target);
		orig = json_deep_copy(json_object_get(snap, "gateway"));
		if (orig != NULL) {
			emu_store_put(e, op->target, orig);
			gw = orig;
		}
		json_array_foreach(json_object_get(snap, "connections"), i, c)
			if (json_str(c, "id") != NULL && emu_store_get(e, json_str(c, "id")) == NULL)
				emu_store_put(e, json_str(c, "id"), json_deep_copy(c));
		pips = json_array();
		old_pips(gw, pips);
		json_array_foreach(pips, i, v)
			set_pip_phase(e, json_string_value(v), "None");
		json_decref(pips);
		set_status(e, gw, "Succeeded", "AbortSucceeded", NULL);
		json_object_del(e->snapshots, low);
	}
done:
	emu_store_touch_docs(e);
	free(low);
}
