/*
 * gateway-standard-ip: gateways from Basic to Standard public IPs through
 * Azure's own migration (seeds/003; reference/azure-arm.md): validate,
 * prepare, execute, soak, commit, one gateway per circuit at a time.  The
 * kind's entry, its state, its claims and its waves.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/cost.h"
#include "plan/gates.h"
#include "plan/gwmigrate.h"
#include "plan/json_own.h"
#include "plan/jsonutil.h"
#include "plan/plan_build.h"
#include "plan/procedure.h"
#include "plan/proc/gateway_standard_ip.h"
#include "plan/rehearse.h"
#include "plan/report.h"

/* Prepare "typically takes up to 45 minutes", the cutover up to 15 (sources in plan/cost.c). */
#define SECONDS_PREPARE COST_PREPARE_MIGRATION_SECONDS
#define SECONDS_EXECUTE COST_EXECUTE_MIGRATION_SECONDS

extern const struct procedure procedure_gateway_standard_ip;

struct gw {
	const struct topo_gateway *g;  /* current */
	const struct topo_gateway *gt; /* target */
	size_t comp;                   /* circuit-sharing component */
	size_t round;
	bool valid;
};

struct gw_state {
	struct gw *gws;
	size_t ngws;
};

static struct gw_state *
gw_state(const struct plan_ctx *p)
{
	return plan_ctx_state(p, &procedure_gateway_standard_ip);
}

/*
 * The gateway an ExpressRoute migration leaves in place of g in the
 * target (plan/gwmigrate.h): g gone, a new gateway tagged CreatedBy:
 * GatewaySKUMigration in the same GatewaySubnet.  NULL when none.
 */
static const struct topo_gateway *
gw_successor(const struct plan_ctx *p, const struct topo_gateway *g)
{
	size_t i;

	if (g->subnet_id == NULL || topology_find(p->tgt, g->res->id) != NULL)
		return NULL;
	for (i = 0; i < p->tgt->ngateways; i++) {
		const struct topo_gateway *t = &p->tgt->gateways[i];
		if (topology_find(p->cur, t->res->id) == NULL && gwm_is_tagged(t->res->json) &&
		    t->subnet_id != NULL && topo_id_compare(t->subnet_id, g->subnet_id) == 0)
			return t;
	}
	return NULL;
}

/* The current gateway a new one of the target replaces (the inverse of gw_successor). */
static const struct topo_gateway *
gw_predecessor(const struct plan_ctx *p, const struct topo_gateway *t)
{
	size_t i;

	if (topology_find(p->cur, t->res->id) != NULL || !gwm_is_tagged(t->res->json))
		return NULL;
	for (i = 0; i < p->cur->ngateways; i++)
		if (gw_successor(p, &p->cur->gateways[i]) == t)
			return &p->cur->gateways[i];
	return NULL;
}

/* Is the change the SKU a migration moves a gateway to in place (VpnGw1 -> VpnGw1AZ)? */
static bool
gw_sku_moves_to_az(const struct diff_entry *e)
{
	const char *a = json_string_value(e->before), *b = json_string_value(e->after);

	return (strcmp(e->pointer, "/properties/sku/name") == 0 ||
	    strcmp(e->pointer, "/properties/sku/tier") == 0) && a != NULL && b != NULL &&
	    strcasecmp(a, b) != 0 && strcasecmp(gwm_az_sku(a), b) == 0;
}

/* Is a removed or added connection one an ExpressRoute migration deletes or copies? */
static const struct topo_gateway *
gw_of_migrated_connection(const struct plan_ctx *p, const struct diff_entry *e)
{
	const struct topo_resource *r;
	const struct topo_connection *c;

	if (e->pointer[0] != '\0')
		return NULL;
	r = topology_find(e->kind == DIFF_REMOVED ? p->cur : p->tgt, e->resource_id);
	if (r == NULL || r->type != TOPO_CONNECTION)
		return NULL;
	c = r->view;
	if (c->gateway == NULL)
		return NULL;
	if (e->kind == DIFF_REMOVED)
		return gw_successor(p, c->gateway) != NULL ? c->gateway : NULL;
	return gw_predecessor(p, c->gateway);
}

static int
gw_record(struct plan_ctx *p, const struct topo_gateway *g)
{
	struct gw_state *gs = gw_state(p);
	size_t i;
	struct gw *x;

	for (i = 0; i < gs->ngws; i++)
		if (gs->gws[i].g == g)
			return 0;
	x = realloc(gs->gws, (gs->ngws + 1) * sizeof(*x));
	if (x == NULL)
		return NW_ENOMEM;
	gs->gws = x;
	memset(&gs->gws[gs->ngws], 0, sizeof(*gs->gws));
	gs->gws[gs->ngws].g = g;
	{
		struct topo_resource *r = topology_find(p->tgt, g->res->id);
		gs->gws[gs->ngws].gt = r != NULL && r->type == TOPO_GATEWAY ? r->view : gw_successor(p, g);
	}
	gs->ngws++;
	return 0;
}

static const struct topo_gateway *
gateway_of_pip(const struct topology *t, const char *pip)
{
	size_t i, k;

	for (i = 0; i < t->ngateways; i++)
		for (k = 0; k < t->gateways[i].npublic_ips; k++)
			if (t->gateways[i].public_ip_ids[k] != NULL &&
			    topo_id_compare(t->gateways[i].public_ip_ids[k], pip) == 0)
				return &t->gateways[i];
	return NULL;
}

static int
cmp_gw(const void *a, const void *b)
{
	const struct gw *x = a, *y = b;

	return topo_id_compare(x->g->res->id, y->g->res->id);
}

static const char *
gw_circuit_key(const struct topo_gateway *g)
{
	size_t i;

	for (i = 0; i < g->nconnections; i++)
		if (g->connections[i]->peer_id != NULL)
			return g->connections[i]->peer_id;
	return g->res->id;
}

/* The validate stage of seeds/003, on the current topology; false with a blocker when it fails. */
static bool
gw_validate(struct plan_ctx *p, struct gw *x)
{
	static const char *const busy[] = { "Prepare", "PrepareSucceeded", "Execute", "ExecuteSucceeded",
		"Commit", NULL };
	const struct topo_gateway *g = x->g;
	const struct topo_subnet *sn = g->subnet_id != NULL ? topology_find_subnet(p->cur, g->subnet_id) : NULL;
	size_t i;
	bool basic = false, ok = true;

	if (sn == NULL) {
		plan_blocker(p, "gateway-subnet", g->res->id, "gateway %s: its GatewaySubnet is not in the "
		    "topology, so its size cannot be checked", g->res->name);
		ok = false;
	} else {
		bool big = false;
		for (i = 0; i < sn->prefixes.n; i++)
			if (sn->prefixes.v[i].family == 4 && sn->prefixes.v[i].len <= 27)
				big = true;
		if (!big) {
			char c[CIDR_STRLEN] = "?";
			if (sn->prefixes.n > 0)
				cidr_format(&sn->prefixes.v[0], c);
			plan_blocker(p, "gateway-subnet-too-small", g->res->id,
			    "gateway %s: GatewaySubnet %s is smaller than /27; the migration deploys a "
			    "second gateway beside the first and needs /27 or larger", g->res->name, c);
			ok = false;
		}
	}
	if (g->provisioning_state != NULL && strcasecmp(g->provisioning_state, "Succeeded") != 0) {
		plan_blocker(p, "gateway-not-succeeded", g->res->id, "gateway %s: provisioningState is %s, "
		    "not Succeeded", g->res->name, g->provisioning_state);
		ok = false;
	}
	if ((g->migration_state != NULL && strcasecmp(g->migration_state, "InProgress") == 0) ||
	    plan_str_in(g->migration_phase, busy)) {
		plan_blocker(p, "gateway-migration-in-progress", g->res->id, "gateway %s: a migration is "
		    "already in progress (state %s, phase %s); commit or abort it first", g->res->name,
		    g->migration_state ? g->migration_state : "?", g->migration_phase ? g->migration_phase : "?");
		ok = false;
	}
	for (i = 0; i < g->npublic_ips; i++)
		if (g->public_ips[i] != NULL && g->public_ips[i]->sku_name != NULL &&
		    strcasecmp(g->public_ips[i]->sku_name, "Basic") == 0)
			basic = true;
	if (!basic) {
		plan_blocker(p, "gateway-not-basic", g->res->id, "gateway %s has no Basic public IP: there is "
		    "nothing to migrate", g->res->name);
		ok = false;
	}
	if (x->gt == NULL || x->gt->migration_phase == NULL ||
	    strcasecmp(x->gt->migration_phase, "CommitSucceeded") != 0) {
		plan_blocker(p, "gateway-end-state", g->res->id, "gateway %s: the target must end the migration "
		    "committed (virtualNetworkGatewayMigrationStatus phase CommitSucceeded); it says %s",
		    g->res->name, x->gt != NULL && x->gt->migration_phase ? x->gt->migration_phase : "nothing");
		ok = false;
	}
	return ok;
}

/*
 * The id of the gateway an ExpressRoute migration of x leaves (the
 * target's prediction), or NULL when x migrates in place (VPN).
 */
static const char *
gw_new_id(const struct gw *x)
{
	if (x->gt == NULL || topo_id_compare(x->gt->res->id, x->g->res->id) == 0)
		return NULL;
	return x->gt->res->id;
}

/*
 * Names on step st (prepare or commit) the gateway the migration creates:
 * the plan's prediction; apply finds the real one after prepare and
 * journals it.  0 with nothing to say for an in-place migration.
 */
static int
gw_step_new_gateway(json_t *st, const struct gw *x)
{
	if (gw_new_id(x) == NULL)
		return 0;
	return json_object_set_new(st, "newGateway", json_string(gw_new_id(x))) != 0 ? NW_ENOMEM : 0;
}

/*
 * The prepareMigration body: the documented migrationType, and the new
 * gateway's name only when the target names it other than Azure's default
 * (GWM_BODY_NAME_FIELD is undocumented: plan/gwmigrate.h).
 */
static json_t *
gw_prepare_body(const struct gw *x)
{
	const char *nid = gw_new_id(x);
	char *def = gwm_new_id(x->g->res->id, NULL);
	json_t *b = json_pack("{s:s}", "migrationType", "UpgradeDeploymentToStandardIP");

	if (b != NULL && nid != NULL && def != NULL && topo_id_compare(nid, def) != 0)
		json_object_set_new(b, GWM_BODY_NAME_FIELD, json_string(strrchr(nid, '/') + 1));
	free(def);
	return b;
}

/* The commit wave of round r (after the soak): commitMigration on each gateway of the round. */
static int
gateway_commit_wave(struct plan_ctx *p, size_t r, const json_t *commit_ids, const json_t *phase_exec,
    const json_t *new_gws)
{
	struct gw_state *gs = gw_state(p);
	struct wave *w;
	char name[64];

	snprintf(name, sizeof(name), "gateways-%zu-commit", r + 1);
	w = plan_wave_new(p, WAVE_GATEWAY_COMMIT, name);
	if (w == NULL)
		return NW_ENOMEM;
	{
		const json_t *iv;
		size_t ii;
		json_array_foreach(commit_ids, ii, iv) {
			const struct gw *x = &gs->gws[json_integer_value(iv)];
			const struct topo_gateway *g = x->g;
			char path[1024];
			json_t *st;
			struct step_spec s = {
				.procedure = procedure_gateway_standard_ip.name, .action = "commit-migration",
				.resource = g->res->id, .serialize = gw_circuit_key(g), .lro = true,
				.inverse = NULL, .reads = 2, .writes = 1,
			};

			snprintf(path, sizeof(path), "%s/commitMigration", g->res->id);
			s.op = plan_op_new("POST", path, ARM_API_NETWORK, NULL);
			s.expect = json_pack("[o]", plan_expect_eq("/properties/virtualNetworkGatewayMigrationStatus/phase",
			    "CommitSucceeded"));
			if (gw_new_id(x) != NULL)
				st = plan_step_add(w, &s, "commitMigration on %s: deletes the old gateway and its "
				    "connections (irreversible); %s and its connections carry on", g->res->name,
				    strrchr(gw_new_id(x), '/') + 1);
			else
				st = plan_step_add(w, &s, "commitMigration on %s: ends the in-place migration "
				    "(irreversible); its public IPs stay Standard with their addresses", g->res->name);
			if (st == NULL || gw_step_new_gateway(st, x) != 0)
				return NW_ENOMEM;
			if (g->vnet != NULL && !plan_ids_has(w->members, g->vnet->res->id))
				json_array_append_new(w->members, json_string(g->vnet->res->id));
			if (plan_wave_add_gw(w, g) != 0)
				return NW_ENOMEM;
		}
	}
	if (plan_gate_add(w, GATE_MIGRATION_PHASE, "after", json_pack("{s:O, s:s, s:O}", "gateways", phase_exec,
	    "phase", "CommitSucceeded", "newGateways", new_gws), (int)json_array_size(phase_exec),
	    "every gateway of the wave reports phase CommitSucceeded") != 0)
		return NW_ENOMEM;
	plan_wave_risk(w, "irreversible: commitMigration deletes the old gateways and their connections; "
	    "after it, abortMigration is no longer possible");
	plan_wave_rollback(w, "none: commitMigration cannot be undone; a problem found after it is fixed "
	    "forward on the new gateway");
	return 0;
}

/* Gateway i's steps in its round's wave: validate, prepare (and its gate), execute. */
static int
gw_round_steps(struct plan_ctx *p, struct wave *w, size_t i, const char *wt, json_t *names,
    json_t *phase_exec, json_t *commit_ids, json_t *new_gws)
{
	struct gw_state *gs = gw_state(p);
	const struct gw *x = &gs->gws[i];
	const struct topo_gateway *g = x->g;
	const char *ckey = gw_circuit_key(g);
	char path[1024], abort_path[1024];
	json_t *st, *val, *prep;

	json_array_append_new(names, json_string(g->res->name));
	if (g->vnet != NULL && !plan_ids_has(w->members, g->vnet->res->id))
		json_array_append_new(w->members, json_string(g->vnet->res->id));
	if (plan_wave_add_gw(w, g) != 0)
		return NW_ENOMEM;
	snprintf(abort_path, sizeof(abort_path), "%s/abortMigration", g->res->id);
	{
		struct step_spec s = {
			.procedure = procedure_gateway_standard_ip.name, .action = "validate-migration",
			.resource = g->res->id, .serialize = ckey, .reads = 1, .writes = 0,
			.op = plan_op_new("GET", g->res->id, ARM_API_NETWORK, NULL),
			.inverse = plan_op_none("a read changes nothing"),
			.expect = json_pack("[o]", plan_expect_eq("/properties/provisioningState", "Succeeded")),
		};
		val = plan_step_add(w, &s, "validate %s again before the migration: GatewaySubnet /27 or "
		    "larger, provisioningState Succeeded, no migration in progress, a Basic public IP",
		    g->res->name);
	}
	if (val == NULL)
		return NW_ENOMEM;
	snprintf(path, sizeof(path), "%s/prepareMigration", g->res->id);
	{
		struct step_spec s = {
			.procedure = procedure_gateway_standard_ip.name, .action = "prepare-migration",
			.resource = g->res->id, .serialize = ckey, .lro = true, .seconds = SECONDS_PREPARE,
			.op = plan_op_new("POST", path, ARM_API_NETWORK, gw_prepare_body(x)),
			.inverse = plan_op_new("POST", abort_path, ARM_API_NETWORK, NULL),
			.expect = json_pack("[o]", plan_expect_eq("/properties/virtualNetworkGatewayMigrationStatus/phase",
			    "PrepareSucceeded")),
			.depends = json_pack("[s]", plan_step_id(val)), .reads = 2, .writes = 1,
		};
		if (gw_new_id(x) != NULL)
			prep = plan_step_add(w, &s, "prepareMigration on %s: deploys a second gateway %s "
			    "with a Microsoft-managed Standard IP beside it and copies its connections (up "
			    "to about 45 minutes; the gateway is locked against changes until commit or "
			    "abort)", g->res->name, strrchr(gw_new_id(x), '/') + 1);
		else
			prep = plan_step_add(w, &s, "prepareMigration on %s: prepares its Basic public IPs "
			    "for an in-place move to Standard (up to about 45 minutes; the gateway is "
			    "locked against changes until commit or abort)", g->res->name);
	}
	if (prep == NULL || gw_step_new_gateway(prep, x) != 0)
		return NW_ENOMEM;
	if (gw_new_id(x) != NULL &&
	    json_object_set_new(new_gws, g->res->id, json_string(gw_new_id(x))) != 0)
		return NW_ENOMEM;
	if (plan_gate_add(w, GATE_MIGRATION_PHASE, "after-step", json_pack("{s:s, s:s, s:s}", "gateway",
	    g->res->id, "phase", "PrepareSucceeded", "afterStep", plan_step_id(prep)), 1,
	    "%s reports virtualNetworkGatewayMigrationStatus phase PrepareSucceeded before "
	    "executeMigration is sent", g->res->name) != 0)
		return NW_ENOMEM;
	snprintf(path, sizeof(path), "%s/executeMigration", g->res->id);
	{
		struct step_spec s = {
			.procedure = procedure_gateway_standard_ip.name, .action = "execute-migration",
			.resource = g->res->id, .serialize = ckey, .lro = true, .mw = true,
			.seconds = SECONDS_EXECUTE,
			.op = plan_op_new("POST", path, ARM_API_NETWORK, NULL),
			.inverse = plan_op_new("POST", abort_path, ARM_API_NETWORK, NULL),
			.expect = json_pack("[o]", plan_expect_eq("/properties/virtualNetworkGatewayMigrationStatus/phase",
			    "ExecuteSucceeded")),
			.depends = json_pack("[s]", plan_step_id(prep)), .reads = 2, .writes = 1,
		};
		st = plan_step_add(w, &s, "executeMigration on %s: cuts traffic over to the new gateway "
		    "(up to about 15 minutes, brief interruptions), inside %s", g->res->name, wt);
	}
	if (st == NULL)
		return NW_ENOMEM;
	json_array_append_new(phase_exec, json_string(g->res->id));
	json_array_append_new(commit_ids, json_integer((json_int_t)i));
	{
		const struct topo_vnet *sp[1];
		size_t nsp = plan_gw_spokes(p, g, sp, 0);
		plan_wave_risk(w, "executeMigration on %s moves on-premises traffic of %s and its %zu "
		    "spokes to the new gateway: brief connectivity interruptions while the Migrate stage "
		    "runs, up to 15 minutes (techcommunity.microsoft.com/blog/azurenetworkingblog/"
		    "expressroute-gateway-microsoft-initiated-migration/4497689) inside %s", g->res->name,
		    g->vnet != NULL ? g->vnet->res->name : "its VNet", nsp, wt);
	}
	return 0;
}

/* Round r of the gateway migrations: validate, prepare, execute; then the commit wave. */
static int
gateway_round(struct plan_ctx *p, size_t r)
{
	struct gw_state *gs = gw_state(p);
	struct wave *w;
	char name[64], wt[256];
	json_t *phase_exec = json_array(), *commit_ids = json_array(), *names = json_array();
	json_t *new_gws = json_object();
	size_t i;
	int rc = NW_ENOMEM;
	long soak = p->ro.soak_between_waves > 3600 ? p->ro.soak_between_waves : 3600;

	if (phase_exec == NULL || commit_ids == NULL || names == NULL || new_gws == NULL)
		goto done;
	snprintf(name, sizeof(name), "gateways-%zu", r + 1);
	w = plan_wave_new(p, WAVE_GATEWAY, name);
	if (w == NULL)
		goto done;
	plan_window_text(p, wt, sizeof(wt));
	for (i = 0; i < gs->ngws; i++)
		if (gs->gws[i].round == r &&
		    gw_round_steps(p, w, i, wt, names, phase_exec, commit_ids, new_gws) != 0)
			goto done;
	if (plan_gate_add(w, GATE_MIGRATION_PHASE, "after", json_pack("{s:O, s:s}", "gateways", phase_exec,
	    "phase", "ExecuteSucceeded"), (int)json_array_size(phase_exec),
	    "every gateway of the wave reports phase ExecuteSucceeded") != 0)
		goto done;
	w->soak = soak;
	w->soak_desc = "on the new gateways before the irreversible commit";
	plan_wave_risk(w, "prepareMigration takes up to about 45 minutes per gateway; gateways that share "
	    "a circuit migrate one at a time, so this wave holds one gateway per circuit");
	{
		char list[1024] = "";
		const json_t *nv;
		size_t ni;
		json_array_foreach(names, ni, nv) {
			if (ni > 0)
				strncat(list, ", ", sizeof(list) - strlen(list) - 1);
			strncat(list, json_string_value(nv), sizeof(list) - strlen(list) - 1);
		}
		plan_wave_rollback(w, "abortMigration on %s: traffic goes back to the old gateway and the "
		    "new gateway and its connections are deleted; possible until commitMigration", list);
	}

	/* the commit: its own wave, after the soak */
	if (gateway_commit_wave(p, r, commit_ids, phase_exec, new_gws) != 0)
		goto done;
	rc = 0;
done:
	json_release_all(&phase_exec, &commit_ids, &names, &new_gws);
	return rc == 0 ? 0 : plan_nomem(p);
}

static int
waves_gateways(struct plan_ctx *p)
{
	struct gw_state *gs = gw_state(p);
	size_t i, k, nrounds = 0, r;
	size_t *comp_size = NULL;

	if (gs->ngws == 0)
		return 0;
	qsort(gs->gws, gs->ngws, sizeof(*gs->gws), cmp_gw);
	for (i = 0; i < gs->ngws; i++)
		gs->gws[i].valid = gw_validate(p, &gs->gws[i]);
	/* components of gateways sharing a circuit; a gateway's round is its place in its component */
	for (i = 0; i < gs->ngws; i++)
		gs->gws[i].comp = i;
	for (i = 0; i < gs->ngws; i++)
		for (k = 0; k < i; k++)
			if (plan_gw_shares_circuit(gs->gws[i].g, gs->gws[k].g)) {
				size_t from = gs->gws[i].comp, to = gs->gws[k].comp;
				for (size_t q = 0; q <= i; q++)
					if (gs->gws[q].comp == from)
						gs->gws[q].comp = to;
			}
	comp_size = calloc(gs->ngws, sizeof(*comp_size));
	if (comp_size == NULL)
		return plan_nomem(p);
	for (i = 0; i < gs->ngws; i++) {
		gs->gws[i].round = comp_size[gs->gws[i].comp]++;
		if (gs->gws[i].round + 1 > nrounds)
			nrounds = gs->gws[i].round + 1;
	}
	free(comp_size);

	for (r = 0; r < nrounds; r++) {
		int rc = gateway_round(p, r);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/*
 * The differences a migration makes: the old gateway and its connections
 * go and the new ones come (ExpressRoute), or the gateway's SKU, public
 * IPs and migration status change in place (VPN).
 */
static int
gw_claim(struct plan_ctx *p, struct diff_entry *e, const struct topo_resource *r)
{
	const char *ptr = e->pointer;
	const struct topo_gateway *g = NULL;

	if (r == NULL)
		return 0;
	switch (r->type) {
	case TOPO_GATEWAY:
		if (ptr[0] == '\0' && e->kind != DIFF_CHANGED) {
			/* an ExpressRoute migration: the old gateway goes, the new one comes */
			g = e->kind == DIFF_REMOVED ?
			    (gw_successor(p, r->view) != NULL ? r->view : NULL) : gw_predecessor(p, r->view);
		} else if (e->kind != DIFF_REMOVED &&
		    (plan_pointer_under(ptr, "/properties/virtualNetworkGatewayMigrationStatus") ||
		     gw_sku_moves_to_az(e))) {
			struct topo_resource *cr = topology_find(p->cur, r->id);
			g = cr != NULL && cr->type == TOPO_GATEWAY ? cr->view : NULL;
		}
		break;
	case TOPO_CONNECTION:
		g = gw_of_migrated_connection(p, e);
		break;
	case TOPO_PUBLIC_IP:
		if (e->kind != DIFF_REMOVED &&
		    (plan_pointer_under(ptr, "/sku") || plan_pointer_under(ptr, "/properties/publicIPAllocationMethod") ||
		     plan_pointer_under(ptr, "/properties/migrationPhase")))
			g = gateway_of_pip(p->cur, r->id);
		break;
	default:
		break;
	}
	if (g == NULL)
		return 0;
	return gw_record(p, g) == 0 ? 1 : NW_ENOMEM;
}

/* After a gateway wave: on-premises routes from the hub and its spokes, on the new gateway. */
static int
gw_rehearsed(struct plan_ctx *p, struct wave *w, struct rstate *before, const struct rstate *after)
{
	size_t g;
	int rc = 0;

	(void)after;
	if (w->kind != WAVE_GATEWAY)
		return 0;
	for (g = 0; g < w->ngws && rc == 0; g++) {
		const struct topo_vnet *sp[64];
		size_t idx[65], n = 0, ns, q;
		char what[512];

		if (w->gws[g]->vnet != NULL)
			idx[n++] = (size_t)(w->gws[g]->vnet - p->cur->vnets);
		ns = plan_gw_spokes(p, w->gws[g], sp, 64);
		for (q = 0; q < ns && q < 64; q++)
			idx[n++] = (size_t)(sp[q] - p->cur->vnets);
		snprintf(what, sizeof(what), "%s and its spokes, on the new gateway %s",
		    w->gws[g]->vnet != NULL ? w->gws[g]->vnet->res->name : "the hub",
		    w->gws[g]->res->name);
		if (n > 0 && p->nonprem > 0 && (rc = plan_rehearse_unpark(p, before)) != 0)
			return rc;
		rc = plan_gate_onprem(p, w, before, idx, n, what);
	}
	return rc;
}

static int
gw_state_new(struct plan_ctx *p, void **out)
{
	(void)p;
	*out = calloc(1, sizeof(struct gw_state));
	return *out != NULL ? 0 : NW_ENOMEM;
}

static void
gw_state_free(void *state)
{
	struct gw_state *s = state;

	if (s != NULL)
		free(s->gws);
	free(s);
}

/* Its line of the report's "What this plan does", from the plan's waves. */
static void
gw_report_overview(FILE *f, const json_t *plan)
{
	size_t gws = report_wave_count(plan, WAVE_GATEWAY, "members");

	fprintf(f, "- **Gateway migration (gateway-standard-ip).** %zu gateway%s move%s from "
	    "Basic to Standard public IPs through Azure's validate, prepare, execute and commit "
	    "stages. Gateways that share an ExpressRoute circuit migrate one at a time.\n",
	    gws, gws == 1 ? "" : "s", gws == 1 ? "s" : "");
}

/* ------------------------------------------------------------------ */
/* Its gate kind: migration-phase, judged on the gateway migration status
 * (learn.microsoft.com/rest/api/network-gateway/virtual-network-gateways,
 * properties.virtualNetworkGatewayMigrationStatus) */

static enum gate_outcome
judge_migration_phase(const json_t *params, const json_t *reads, json_t *ev)
{
	const char *want = json_str(params, "phase");
	struct gate_tally t;
	const json_t *rd;
	size_t i;

	gate_tally_start(&t, ev, "gateways");
	json_array_foreach(reads, i, rd) {
		const char *id = json_str(rd, "gateway"), *alt = json_str(rd, "newGateway");
		const json_t *res = json_object_get(rd, "resource");
		const json_t *ms = json_path(res, "properties", "virtualNetworkGatewayMigrationStatus", NULL);
		const char *phase = json_str(ms, "phase") != NULL ? json_str(ms, "phase") : "None";
		const char *state = json_str(ms, "state") != NULL ? json_str(ms, "state") : "None";
		const char *msg = json_str(ms, "errorMessage");
		bool exists = json_is_object(res);

		json_array_append_new(t.items, json_pack("{s:s?, s:s?, s:s?, s:s, s:s, s:b}", "gateway", id, "read",
		    exists && alt != NULL && json_str(res, "id") != NULL && strcasecmp(json_str(res, "id"), alt) == 0 ?
		    alt : NULL, "newGateway", alt, "phase", phase, "state", state, "exists", exists));
		if (!exists)
			gate_tally_miss(&t, GATE_FAILED, "gateway %s does not exist", gate_short_name(id));
		else if (strcasecmp(state, "InProgress") == 0)
			gate_tally_miss(&t, GATE_NOT_YET, "%s: phase %s in progress", gate_short_name(id), phase);
		else if (want != NULL && (strcasecmp(phase, want) != 0 || strcasecmp(state, "Failed") == 0))
			gate_tally_miss(&t, GATE_FAILED, "%s: phase %s (%s), expected %s%s%s", gate_short_name(id),
			    phase, state, want, msg != NULL && msg[0] ? ": " : "", msg != NULL ? msg : "");
	}
	return gate_tally_finish(&t, ev, "%zu gateway(s) in phase %s", json_array_size(t.items),
	    want != NULL ? want : "?");
}

/* Its gate and wave kinds (what each means: gateway_standard_ip.h). */
const struct gate_kind_def gate_kind_migration_phase = {
	"migration-phase", GATE_READ_GATEWAYS, NULL, judge_migration_phase, GATE_COST_GETS };
const struct gate_kind_def *const gw_gate_kinds[] = { &gate_kind_migration_phase, NULL };
const struct wave_kind_def wave_kind_gateway = { "gateway", "gateway migration: validate, prepare, execute", 0 };
const struct wave_kind_def wave_kind_gateway_commit = { "gateway-commit", "gateway migration: commit", 0 };

static const struct wave_kind_def *const gw_wave_kinds[] = { WAVE_GATEWAY, WAVE_GATEWAY_COMMIT, NULL };

const struct procedure procedure_gateway_standard_ip = {
	.name = "gateway-standard-ip",
	.title = "gateways from Basic to Standard public IPs",
	.summary = "Standard public IPs on gateways, through Azure's gateway migration",
	.wave_kinds = gw_wave_kinds,
	.gate_kinds = gw_gate_kinds,
	.state_new = gw_state_new,
	.state_free = gw_state_free,
	.claim = gw_claim,
	.waves = waves_gateways,
	.rehearsed = gw_rehearsed,
	.report_overview = gw_report_overview,
	.intent = &gw_intent,
};
