/*
 * summarize-gateway-prefixes, the kind's own header: what its entry
 * (summarize_prefixes.c) takes from its intent part
 * (summarize_prefixes_intent.c).  Nothing else includes it.
 */
#ifndef NETWAVE_PLAN_PROC_SUMMARIZE_PREFIXES_H
#define NETWAVE_PLAN_PROC_SUMMARIZE_PREFIXES_H

#include <jansson.h>

#include "plan/intent.h"

struct intent_loader;
struct intent_expander;

int sum_intent_parse(struct intent_loader *l, struct intent_change *c, const json_t *v);
int sum_intent_expand(struct intent_expander *e, const struct intent_change *c);

#endif
