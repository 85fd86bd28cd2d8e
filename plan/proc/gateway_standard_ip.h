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

struct intent_loader;
struct intent_expander;

int gw_intent_parse(struct intent_loader *l, struct intent_change *c, const json_t *v);
void gw_intent_free(void *state);
int gw_intent_expand(struct intent_expander *e, const struct intent_change *c);

#endif
