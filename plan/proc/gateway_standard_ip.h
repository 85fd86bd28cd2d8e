/*
 * gateway-standard-ip, the kind's own header: what its entry
 * (gateway_standard_ip.c) takes from its intent part
 * (gateway_standard_ip_intent.c).  Nothing else includes it.
 */
#ifndef NETWAVE_PLAN_PROC_GATEWAY_STANDARD_IP_H
#define NETWAVE_PLAN_PROC_GATEWAY_STANDARD_IP_H

#include <jansson.h>

#include "plan/intent.h"

struct intent_loader;
struct intent_expander;

int gw_intent_parse(struct intent_loader *l, struct intent_change *c, const json_t *v);
int gw_intent_expand(struct intent_expander *e, const struct intent_change *c);

#endif
