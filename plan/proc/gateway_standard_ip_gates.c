/*
 * gateway-standard-ip's own gate kind (plan/gates.h): migration-phase, a
 * gateway migration's phase, with its pure judge.  Source of the state
 * judged: the gateway migration status (learn.microsoft.com/rest/api/
 * network-gateway/virtual-network-gateways,
 * properties.virtualNetworkGatewayMigrationStatus).
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "plan/gates.h"
#include "plan/jsonutil.h"
#include "plan/proc/gateway_standard_ip.h"

/* ------------------------------------------------------------------ */
/* migration-phase */

static enum gate_outcome
judge_migration_phase(const json_t *params, const json_t *reads, json_t *ev)
{
	const char *want = json_str(params, "phase");
	json_t *seen = json_array();
	enum gate_outcome worst = GATE_PASSED;
	char why[1024] = "";
	const json_t *rd;
	size_t i;

	json_object_set_new(ev, "gateways", seen);
	json_array_foreach(reads, i, rd) {
		const char *id = json_str(rd, "gateway"), *alt = json_str(rd, "newGateway");
		const json_t *res = json_object_get(rd, "resource");
		const json_t *ms = json_path(res, "properties", "virtualNetworkGatewayMigrationStatus", NULL);
		const char *phase = json_str(ms, "phase") != NULL ? json_str(ms, "phase") : "None";
		const char *state = json_str(ms, "state") != NULL ? json_str(ms, "state") : "None";
		const char *msg = json_str(ms, "errorMessage");
		bool exists = json_is_object(res);

		json_array_append_new(seen, json_pack("{s:s?, s:s?, s:s?, s:s, s:s, s:b}", "gateway", id, "read",
		    exists && alt != NULL && json_str(res, "id") != NULL && strcasecmp(json_str(res, "id"), alt) == 0 ?
		    alt : NULL, "newGateway", alt, "phase", phase, "state", state, "exists", exists));
		if (!exists) {
			snprintf(why, sizeof(why), "gateway %s does not exist", gate_short_name(id));
			worst = GATE_FAILED;
		} else if (strcasecmp(state, "InProgress") == 0) {
			snprintf(why, sizeof(why), "%s: phase %s in progress", gate_short_name(id), phase);
			worst = gate_worse(worst, GATE_NOT_YET);
		} else if (want != NULL && (strcasecmp(phase, want) != 0 || strcasecmp(state, "Failed") == 0)) {
			snprintf(why, sizeof(why), "%s: phase %s (%s), expected %s%s%s", gate_short_name(id), phase,
			    state, want, msg != NULL && msg[0] ? ": " : "", msg != NULL ? msg : "");
			worst = GATE_FAILED;
		}
	}
	if (worst == GATE_PASSED)
		return gate_finish(ev, GATE_PASSED, "%zu gateway(s) in phase %s", json_array_size(seen),
		    want != NULL ? want : "?");
	return gate_finish(ev, worst, "%s", why);
}

/* ------------------------------------------------------------------ */
/* The definition */

const struct gate_kind_def gate_kind_migration_phase = {
	.name = "migration-phase",
	.meaning = "a gateway migration's phase (PrepareSucceeded, ExecuteSucceeded, CommitSucceeded)",
	.read = GATE_READ_GATEWAYS,
	.judge = judge_migration_phase,
	.cost = GATE_COST_GETS,
};

const struct gate_kind_def *const gw_gate_kinds[] = {
	&gate_kind_migration_phase,
	NULL,
};
