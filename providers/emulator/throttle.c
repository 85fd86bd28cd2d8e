/*
 * ARM's token buckets (reference/azure-arm.md, section 5): per
 * subscription, one bucket each for reads, writes and deletes, refilled
 * continuously (the refill is multiplied by the time scale, so a scaled
 * emulator throttles as a fast-forwarded ARM would).  Every answer carries
 * the remaining count; an empty bucket answers 429
 * SubscriptionRequestsThrottled with the whole seconds until one token is
 * back, rounded up.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "providers/emulator/emu.h"

static const char *const class_names[] = { "", "reads", "writes", "deletes" };
static const char *const class_words[] = { "", "read", "write", "delete" };

static struct emu_sub_buckets *
buckets_for(struct emulator *e, const char *sub)
{
	char *low = emu_lower(sub);
	size_t i;
	int k;

	if (low == NULL)
		return NULL;
	for (i = 0; i < e->nsubs; i++)
		if (strcmp(e->subs[i].subscription, low) == 0) {
			free(low);
			return &e->subs[i];
		}
	if (e->nsubs == e->capsubs) {
		size_t cap = e->capsubs * 2 + 8;
		struct emu_sub_buckets *v = realloc(e->subs, cap * sizeof(*v));

		if (v == NULL) {
			free(low);
			return NULL;
		}
		e->subs = v;
		e->capsubs = cap;
	}
	e->subs[e->nsubs].subscription = low;
	for (k = 0; k < 3; k++) {
		e->subs[e->nsubs].b[k].tokens = e->bucket_size[k];
		e->subs[e->nsubs].b[k].last = clock_mono();
	}
	return &e->subs[e->nsubs++];
}

bool
throttle_take(struct emulator *e, struct emu_req *r, const char *sub, enum emu_class cls)
{
	struct emu_sub_buckets *sb = buckets_for(e, sub);
	int k = (int)cls - 1;
	struct emu_bucket *b;
	double now = clock_mono(), rate = e->bucket_refill[k] * e->scale;
	char hname[96];

	if (sb == NULL) {
		emu_reply_oom(r);
		return false;
	}
	b = &sb->b[k];

	b->tokens += (now - b->last) * rate;
	if (b->tokens > e->bucket_size[k])
		b->tokens = e->bucket_size[k];
	b->last = now;
	snprintf(hname, sizeof(hname), "x-ms-ratelimit-remaining-subscription-%s", class_names[cls]);
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		emu_header(r, hname, "%d", (int)floor(b->tokens));
		return true;
	}
	{
		double secs = (1.0 - b->tokens) / rate;
		int retry = (int)ceil(secs);

		if (retry < 1)
			retry = 1;
		emu_header(r, hname, "0");
		emu_header(r, "Retry-After", "%d", retry);
		emu_reply_error(r, 429, "SubscriptionRequestsThrottled",
		    "Number of '%s' requests for subscription '%s' actor '%s' exceeded. Please try again after '%d' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling for additional information.",
		    class_words[cls], sub, "netwave-emulator", retry);
		emu_op_name(r, "throttled");
	}
	return false;
}

void
throttle_free(struct emulator *e)
{
	size_t i;

	for (i = 0; i < e->nsubs; i++)
		free(e->subs[i].subscription);
	free(e->subs);
	e->subs = NULL;
	e->nsubs = e->capsubs = 0;
}
