/*
 * Virtual network gateway migration to Standard public IPs
 * (reference/azure-arm.md, section 3): prepareMigration,
 * executeMigration, commitMigration and abortMigration move
 * properties.virtualNetworkGatewayMigrationStatus through the documented
 * phases, each behind a long-running operation of its documented length
 * (divided by the time scale).  Microsoft documents the two gateway kinds
 * differently, and both are modelled (plan/gwmigrate.h has the pages):
 *
 * - ExpressRoute (learn expressroute/gateway-migration): prepare deploys a
 *   second gateway in the same GatewaySubnet, named as the request asks or
 *   "<name>_migrate", tagged CreatedBy: GatewaySKUMigration, on its AZ SKU
 *   with a Microsoft-managed address (no public IP resource), and copies
 *   the connections as "<conn>_migrate"; execute moves traffic to it;
 *   commit deletes the old gateway and its connections (the Basic public IP
 *   stays: Learn does not say it is deleted); abort deletes the new ones
 *   and restores the original.
 * - VPN (learn vpn-gateway/basic-public-ip-migrate-howto): in place.  The
 *   public IP reports migrationPhase; execute moves the gateway to its AZ
 *   SKU and the public IP to Standard keeping its address; commit ends the
 *   migration (migrationPhase Committed); abort puts both back.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/gwmigrate.h"
#include "plan/jsonutil.h"
#include "plan/topology.h"
#include "providers/emulator/emu.h"

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
	/* errorMessage only when there is one */
	json_object_set_new(props, "virtualNetworkGatewayMigrationStatus", json_pack("{s:s,s:s,s:s*}",
	    "state", state, "phase", phase, "errorMessage", msg != NULL && msg[0] != '\0' ? msg : NULL));
	emu_store_etag(e, gw);
	emu_store_touch(e, json_str(gw, "id"));
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
	emu_store_etag(e, pip);
	emu_store_touch(e, pip_id);
}

/* The public IPs of a gateway's ipConfigurations, by id. */
static json_t *
pips_of(json_t *gw)
{
	json_t *out = json_array(), *c;
	size_t i;

	json_array_foreach(json_path(gw, "properties", "ipConfigurations", NULL), i, c) {
		const char *pid = json_path_str(c, "properties", "publicIPAddress", "id", NULL);
		if (pid != NULL)
			json_array_append_new(out, json_string(pid));
	}
	return out;
}

/*
 * The id of the new ExpressRoute gateway: the name the request asks for
 * (GWM_BODY_NAME_FIELD, see plan/gwmigrate.h: undocumented) or Azure's
 * default.  NULL with an error answer when the name cannot be used.
 */
static char *
new_gateway_id(struct emulator *e, struct emu_req *r, const char *gw_id, const json_t *body)
{
	const json_t *nv = json_object_get(body, GWM_BODY_NAME_FIELD);
	const char *name = json_string_value(nv);
	char *id;

	if (nv != NULL && !gwm_name_valid(name)) {
		emu_reply_error(r, 400, "InvalidResourceName",
		    "Resource name %s is invalid. The name can be up to 80 characters long. It must begin with a word character, and it must end with a word character or with '_'. The name may contain word characters or '.', '-', '_'.",
		    name != NULL ? name : "(not a string)");
		return NULL;
	}
	id = gwm_new_id(gw_id, name);
	if (emu_store_get(e, id) != NULL) {
		emu_reply_error(r, 400, "InvalidResourceName",
		    "Cannot prepare the migration of %s: a resource named %s already exists.", gw_id, id);
		free(id);
		return NULL;
	}
	return id;
}

/* ExpressRoute: the second gateway and copies of the connections, beside the old ones. */
static void
prepare_er(struct emulator *e, json_t *gw, json_t *snap, const char *new_id, json_t *conns)
{
	json_t *ngw = copy_as(e, gw, new_id), *props = json_object_get(ngw, "properties");
	json_t *tags = json_object_get(ngw, "tags"), *c, *cid, *new_conns = json_array();
	size_t i;

	if (!json_is_object(tags)) {
		tags = json_object();
		json_object_set_new(ngw, "tags", tags);
	}
	json_object_set_new(tags, GWM_TAG_KEY, json_string(GWM_TAG_VALUE));
	json_object_del(props, "virtualNetworkGatewayMigrationStatus");
	json_object_set_new(props, "adminState", json_string("Disabled"));
	json_object_set_new(props, "provisioningState", json_string("Updating"));
	if (json_path_str(props, "sku", "name", NULL) != NULL) {
		const char *to = gwm_az_sku(json_path_str(props, "sku", "name", NULL));
		json_object_set_new(json_object_get(props, "sku"), "name", json_string(to));
		json_object_set_new(json_object_get(props, "sku"), "tier", json_string(to));
	}
	json_array_foreach(json_object_get(props, "ipConfigurations"), i, c) {
		const char *cname = json_str(c, "name");

		if (cname != NULL)
			json_object_set_new(c, "id", json_sprintf("%s/ipConfigurations/%s", new_id, cname));
		/* a Microsoft-managed (HOBO) address: no public IP resource */
		json_object_del(json_object_get(c, "properties"), "publicIPAddress");
	}
	emu_store_put(e, new_id, ngw);
	json_array_foreach(conns, i, cid) {
		json_t *oc = emu_store_get(e, json_string_value(cid));
		char *ncid = gwm_connection_id(json_string_value(cid));
		json_t *nc = copy_as(e, oc, ncid), *cp = json_object_get(nc, "properties");

		if (json_is_object(cp)) {
			json_object_set_new(cp, "virtualNetworkGateway1", json_pack("{s:s}", "id", new_id));
			json_object_set_new(cp, "provisioningState", json_string("Updating"));
		}
		emu_store_put(e, ncid, nc);
		json_array_append_new(new_conns, json_string(ncid));
		free(ncid);
	}
	json_object_set_new(snap, "newGateway", json_string(new_id));
	json_object_set_new(snap, "newConnections", new_conns);
}

/*
 * Starts a prepare: remembers the original (gateway, connections, public
 * IPs) so abort can restore it, then makes what the gateway kind makes.
 */
static void
prepare(struct emulator *e, json_t *gw, struct emu_op *op, const char *mtype, const char *new_id)
{
	const char *gw_id = json_str(gw, "id");
	bool er = gwm_is_expressroute(gw);
	char *low = emu_lower(gw_id);
	json_t *conns = connections_of(e, gw_id), *pips = pips_of(gw), *snap, *cid;
	size_t i;

	if (low == NULL)
		e->oom = true; /* the snapshot cannot be kept: the request is answered 500 */

	snap = json_pack("{s:o, s:[], s:[], s:s}", "gateway", json_deep_copy(gw), "connections",
	    "publicIPs", "kind", er ? "ExpressRoute" : "Vpn");
	json_array_foreach(conns, i, cid)
		json_array_append_new(json_object_get(snap, "connections"),
		    json_deep_copy(emu_store_get(e, json_string_value(cid))));
	json_array_foreach(pips, i, cid)
		if (emu_store_get(e, json_string_value(cid)) != NULL)
			json_array_append_new(json_object_get(snap, "publicIPs"),
			    json_deep_copy(emu_store_get(e, json_string_value(cid))));
	if (er) {
		prepare_er(e, gw, snap, new_id, conns);
	} else {
		/* VPN: the public IP migrates in place and reports its phase */
		json_array_foreach(pips, i, cid)
			set_pip_phase(e, json_string_value(cid), "Prepare");
	}
	json_object_set(e->snapshots, low, snap);
	emu_store_touch_docs(e); /* the snapshot must outlive a crash: abort and restart need it */
	op->args = json_pack("{s:s, s:s?, s:O?}", "migrationType", mtype, "newGateway",
	    json_str(snap, "newGateway"), "newConnections", json_object_get(snap, "newConnections"));
	json_decref(snap);
	json_decref(conns);
	json_decref(pips);
	free(low);
}

void
gateway_action(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	const char *gw_id = c->target, *action = c->route->action;
	json_t *body = r->parsed;
	json_t *gw = emu_store_get(e, gw_id);
	const char *phase = phase_of(gw), *state = state_of(gw), *needs = "";
	const char *mtype = json_str(body, "migrationType");
	const char *pstate = json_path_str(gw, "properties", "provisioningState", NULL);
	static const char *const mtypes[] = { "UpgradeDeploymentToStandardIP",
		"UpgradeGatewayToDualStack", "MigrateGatewayForPointToSiteProfile", NULL };
	struct emu_op *busy, *op;
	double dur;
	char *sub, *new_id = NULL;
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
	if (strcmp(action, "prepareMigration") == 0 && gwm_is_expressroute(gw)) {
		new_id = new_gateway_id(e, r, gw_id, body);
		if (new_id == NULL)
			return;
	}
	dur = strcmp(action, "prepareMigration") == 0 ? EMU_DUR_PREPARE :
	    strcmp(action, "executeMigration") == 0 ? EMU_DUR_EXECUTE :
	    strcmp(action, "commitMigration") == 0 ? EMU_DUR_COMMIT_MIGRATION : EMU_DUR_ABORT;
	sub = arm_id_part(gw_id, "subscriptions");
	op = lro_new(e, c->route->op, OP_ACTION, action, gw_id, sub, json_str(gw, "location"), dur);
	free(sub);
	if (op == NULL) {
		free(new_id);
		emu_reply_oom(r);
		return;
	}
	if (strcmp(action, "prepareMigration") == 0) {
		prepare(e, gw, op, mtype, new_id);
		set_status(e, gw, "InProgress", "Prepare", NULL);
	} else {
		set_status(e, gw, "InProgress", strcmp(action, "executeMigration") == 0 ? "Execute" :
		    strcmp(action, "commitMigration") == 0 ? "Commit" : "Abort", NULL);
	}
	free(new_id);
	emu_op_name(r, "action %s", action);
	arm_reply_lro(e, r, op, 202, NULL);
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

/* ExpressRoute: deletes what prepare made (the new gateway and its connections). */
static void
remove_new(struct emulator *e, const json_t *snap)
{
	const json_t *v;
	size_t i;

	json_array_foreach(json_object_get(snap, "newConnections"), i, v)
		emu_store_del(e, json_string_value(v));
	if (json_str(snap, "newGateway") != NULL)
		emu_store_del(e, json_str(snap, "newGateway"));
}

/* Puts the original gateway, connections and public IPs back (abort, failed prepare). */
static json_t *
restore(struct emulator *e, const json_t *snap, json_t *gw)
{
	const json_t *c;
	size_t i;

	remove_new(e, snap);
	if (json_object_get(snap, "gateway") != NULL) {
		gw = json_deep_copy(json_object_get(snap, "gateway"));
		emu_store_etag(e, gw);
		emu_store_put(e, json_str(gw, "id"), gw);
	}
	json_array_foreach(json_object_get(snap, "connections"), i, c)
		if (json_str(c, "id") != NULL && emu_store_get(e, json_str(c, "id")) == NULL)
			emu_store_put(e, json_str(c, "id"), json_deep_copy(c));
	json_array_foreach(json_object_get(snap, "publicIPs"), i, c)
		if (json_str(c, "id") != NULL) {
			json_t *p = json_deep_copy(c);
			emu_store_etag(e, p);
			emu_store_put(e, json_str(c, "id"), p);
		}
	return gw;
}

/* VPN execute: the gateway on its AZ SKU, its public IPs Standard with the same address. */
static void
execute_vpn(struct emulator *e, json_t *gw)
{
	json_t *props = json_object_get(gw, "properties"), *pips = pips_of(gw), *v;
	size_t i;

	if (json_path_str(props, "sku", "name", NULL) != NULL) {
		const char *to = gwm_az_sku(json_path_str(props, "sku", "name", NULL));
		json_object_set_new(json_object_get(props, "sku"), "name", json_string(to));
		json_object_set_new(json_object_get(props, "sku"), "tier", json_string(to));
	}
	json_array_foreach(pips, i, v) {
		json_t *pip = emu_store_get(e, json_string_value(v));
		if (pip == NULL)
			continue;
		json_object_set_new(pip, "sku", json_pack("{s:s, s:s}", "name", "Standard", "tier",
		    "Regional"));
		if (json_is_object(json_object_get(pip, "properties")))
			json_object_set_new(json_object_get(pip, "properties"), "publicIPAllocationMethod",
			    json_string("Static"));
		emu_store_etag(e, pip);
		emu_store_touch(e, json_string_value(v));
	}
	json_decref(pips);
}

/* Commit: ExpressRoute deletes the old gateway and its connections; VPN ends in place. */
static void
commit(struct emulator *e, json_t *gw, const json_t *snap)
{
	const char *new_id = json_str(snap, "newGateway");
	json_t *pips = pips_of(gw), *conns, *v;
	size_t i;

	if (new_id == NULL) {
		json_array_foreach(pips, i, v)
			set_pip_phase(e, json_string_value(v), "Committed");
		set_status(e, gw, "Succeeded", "CommitSucceeded", NULL);
		json_decref(pips);
		return;
	}
	conns = connections_of(e, json_str(gw, "id"));
	json_array_foreach(conns, i, v)
		emu_store_del(e, json_string_value(v));
	/* the Basic IP stays, no longer attached to anything */
	json_array_foreach(pips, i, v) {
		json_t *pip = emu_store_get(e, json_string_value(v));
		if (pip != NULL && json_is_object(json_object_get(pip, "properties"))) {
			json_object_del(json_object_get(pip, "properties"), "ipConfiguration");
			emu_store_etag(e, pip);
			emu_store_touch(e, json_string_value(v));
		}
	}
	emu_store_del(e, json_str(gw, "id"));
	if (emu_store_get(e, new_id) != NULL) {
		set_admin(e, new_id, "Enabled", "Succeeded");
		set_status(e, emu_store_get(e, new_id), "Succeeded", "CommitSucceeded", NULL);
	}
	json_decref(conns);
	json_decref(pips);
}

static void
migration_failed(struct emulator *e, const char *gw_id, const char *phase, const char *msg)
{
	json_t *gw = emu_store_get(e, gw_id), *snap;
	char *low = emu_lower(gw_id);

	if (gw == NULL || low == NULL) {
		free(low);
		return;
	}
	/* a failed step keeps its phase with state Failed; a failed prepare leaves nothing behind */
	snap = json_object_get(e->snapshots, low);
	if (strcmp(phase, "Prepare") == 0 && snap != NULL) {
		json_incref(snap);
		gw = restore(e, snap, gw);
		json_object_del(e->snapshots, low);
		emu_store_touch_docs(e);
		json_decref(snap);
	}
	set_status(e, gw, "Failed", phase, msg);
	free(low);
}

static void
migration_done(struct emulator *e, struct emu_op *op)
{
	json_t *gw = emu_store_get(e, op->target), *v;
	const char *a = op->action;
	char *low = emu_lower(op->target);
	json_t *snap = json_incref(json_object_get(e->snapshots, low));

	if (low == NULL)
		e->oom = true;
	const char *new_id = json_str(snap, "newGateway");
	bool ok = op->state == OP_SUCCEEDED;
	size_t i;

	op->result_status = 200;
	if (gw == NULL)
		goto done;
	if (!ok) {
		migration_failed(e, op->target, strcmp(a, "prepareMigration") == 0 ? "Prepare" :
		    strcmp(a, "executeMigration") == 0 ? "Execute" :
		    strcmp(a, "commitMigration") == 0 ? "Commit" : "Abort", op->fail_msg);
		goto done;
	}
	if (strcmp(a, "prepareMigration") == 0) {
		set_status(e, gw, "Succeeded", "PrepareSucceeded", NULL);
		if (new_id != NULL)
			set_admin(e, new_id, NULL, "Succeeded");
		json_array_foreach(json_object_get(snap, "newConnections"), i, v) {
			json_t *c = emu_store_get(e, json_string_value(v));
			if (c != NULL) {
				arm_set_state(c, "Succeeded");
				emu_store_touch(e, json_string_value(v));
			}
		}
	} else if (strcmp(a, "executeMigration") == 0) {
		if (new_id != NULL) {
			/* traffic moves to the new gateway */
			set_admin(e, new_id, "Enabled", NULL);
			set_admin(e, op->target, "Disabled", NULL);
		} else {
			execute_vpn(e, gw);
		}
		set_status(e, gw, "Succeeded", "ExecuteSucceeded", NULL);
	} else if (strcmp(a, "commitMigration") == 0) {
		commit(e, gw, snap);
		json_object_del(e->snapshots, low);
	} else {
		const json_t *c;

		gw = restore(e, snap, gw);
		/* an abort leaves its public IPs' migration phase at None; a failed
		 * prepare (restore alone) leaves them as they were before it */
		json_array_foreach(json_object_get(snap, "publicIPs"), i, c)
			if (json_str(c, "id") != NULL)
				set_pip_phase(e, json_str(c, "id"), "None");
		set_status(e, gw, "Succeeded", "AbortSucceeded", NULL);
		json_object_del(e->snapshots, low);
	}
done:
	json_decref(snap);
	emu_store_touch_docs(e);
	free(low);
}

/* Every migration step is one operation; while it runs, the gateway takes no other write. */
const struct emu_op_class gateway_migration_op = {
	.name = "gateway migration",
	.done = migration_done,
	.holds = true,
};

/*
 * A migration step left running has no operation any more (operations
 * live in memory): it did not complete.  ARM does not document what a
 * client sees after its own restart; the emulator ends such a step Failed,
 * keeping its phase as a failed step does (virtualNetworkGatewayMigrationStatus
 * enum docs), so a client reading the state learns it ended and may send
 * it again.  A prepare leaves nothing behind, as a failed one.
 */
void
gateway_settle(struct emulator *e)
{
	json_t *running = json_array(), *v;
	const char *k;
	size_t n;

	if (running == NULL)
		return;
	json_object_foreach(e->res, k, v) {
		json_t *ms = json_path(v, "properties", "virtualNetworkGatewayMigrationStatus", NULL);
		const char *ms_state = json_str(ms, "state");

		if (ms_state != NULL && strcmp(ms_state, "InProgress") == 0 && json_str(v, "id") != NULL)
			json_array_append_new(running, json_pack("{s:s, s:s}", "id", json_str(v, "id"),
			    "phase", json_str(ms, "phase") != NULL ? json_str(ms, "phase") : "Prepare"));
	}
	json_array_foreach(running, n, v)
		migration_failed(e, json_str(v, "id"), json_str(v, "phase"), EMU_INTERRUPTED);
	json_decref(running);
}
