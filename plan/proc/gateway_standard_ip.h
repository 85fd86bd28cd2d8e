/*
 * gateway-standard-ip, the kind's own header: what its entry
 * (gateway_standard_ip.c) takes from its intent part
 * (gateway_standard_ip_intent.c).  Nothing else includes it but the
 * tests.
 */
#ifndef NETWAVE_PLAN_PROC_GATEWAY_STANDARD_IP_H
#define NETWAVE_PLAN_PROC_GATEWAY_STANDARD_IP_H

#include <jansson.h>

#include "plan/intent.h"
#include "plan/kinds.h"

/* Its wave kinds and gate kind (gateway_standard_ip.c), plan/kinds.h. */
extern const struct wave_kind_def wave_kind_gateway, wave_kind_gateway_commit;
#define WAVE_GATEWAY (&wave_kind_gateway)               /* gateway migration: validate, prepare, execute */
#define WAVE_GATEWAY_COMMIT (&wave_kind_gateway_commit) /* gateway migration: commit (irreversible) */
extern const struct gate_kind_def gate_kind_migration_phase;
extern const struct gate_kind_def *const gw_gate_kinds[];
#define GATE_MIGRATION_PHASE (&gate_kind_migration_phase) /* a gateway migration's phase */

/* A gateway-standard-ip change of the intent (intent_change.state). */
struct gw_change {
	struct intent_selector gateways;
	const json_t *new_names;  /* newNames: gateway name or id -> new name, or NULL */
};

static inline const struct gw_change *
gw_of(const struct intent_change *c)
{
	return c->state;
}

/* Its part of the intent (gateway_standard_ip_intent.c), plan/procedure.h. */
extern const struct procedure_intent gw_intent;

#endif
