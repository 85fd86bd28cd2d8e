/*
 * summarize-gateway-prefixes, the kind's own header: what its entry
 * (summarize_prefixes.c) takes from its intent part
 * (summarize_prefixes_intent.c).  Nothing else includes it but the
 * tests.
 */
#ifndef NETWAVE_PLAN_PROC_SUMMARIZE_PREFIXES_H
#define NETWAVE_PLAN_PROC_SUMMARIZE_PREFIXES_H

#include <jansson.h>

#include "plan/intent.h"
#include "plan/kinds.h"

/* Its wave kind (summarize_prefixes.c), plan/kinds.h. */
extern const struct wave_kind_def wave_kind_summarize;
#define WAVE_SUMMARIZE (&wave_kind_summarize) /* summarized gateway prefixes on hubs */

/* A summarize-gateway-prefixes change of the intent (intent_change.state). */
struct sum_change {
	struct intent_selector hubs;
	unsigned min_len4;        /* minPrefixLength.ipv4, default 12 */
	unsigned min_len6;        /* minPrefixLength.ipv6, default 40 */
};

static inline const struct sum_change *
sum_of(const struct intent_change *c)
{
	return c->state;
}

struct intent_loader;
struct intent_expander;

int sum_intent_parse(struct intent_loader *l, struct intent_change *c, const json_t *v);
void sum_intent_free(void *state);
int sum_intent_expand(struct intent_expander *e, const struct intent_change *c);

#endif
