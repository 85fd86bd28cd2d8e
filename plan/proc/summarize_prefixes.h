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

/* Its part of the intent (summarize_prefixes_intent.c), plan/procedure.h. */
extern const struct procedure_intent sum_intent;

#endif
