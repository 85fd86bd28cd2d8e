/*
 * The canonical JSON writer, and what is made from it: topology
 * fingerprints and a plan's id and text.  A plan is written canonically
 * once: the pass that hashes it for its id also leaves the text that the
 * plan store keeps and `netwave plan --format json` prints, so a plan of
 * tens of megabytes is never serialised twice.  A building block of plan/:
 * the planner and the store both use it, neither through the other.
 */
#ifndef NETWAVE_PLAN_PLAN_JSON_H
#define NETWAVE_PLAN_PLAN_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "plan/err.h"
#include "plan/topology.h"

/*
 * jansson's json_dump_callback and json_dumps, the same bytes for the flags
 * netwave uses (JSON_SORT_KEYS, JSON_INDENT, JSON_COMPACT, JSON_ENSURE_ASCII,
 * JSON_ENCODE_ANY), about three times faster.  plan_json_dumps returns a
 * malloc'd text (with a trailing newline when asked) and its length in
 * *len, or NULL on out of memory (or invalid UTF-8, as jansson).
 */
int plan_json_dump(const json_t *v, size_t flags, json_dump_callback_t cb, void *data);
char *plan_json_dumps(const json_t *v, size_t flags, bool newline, size_t *len);

/* "sha256:" and the SHA-256 of the canonical text of t (topology_dump). */
#define PLAN_JSON_FINGERPRINT_LEN (7 + 64 + 1)
int plan_json_fingerprint(char out[PLAN_JSON_FINGERPRINT_LEN], const struct topology *t,
    struct nw_err *err);

/* "pl-" and twelve hex digits. */
#define PLAN_JSON_ID_LEN (3 + 12 + 1)

/*
 * A plan's canonical text: json_dump_canonical(plan), a newline and a NUL,
 * in s (malloc'd, len bytes without the NUL).  Lives on the caller's
 * stack, starts zeroed, is emptied by plan_text_clear.
 */
struct plan_text_span;
struct plan_text {
	char *s;
	size_t len;
	size_t created_at, created_len; /* the span of "createdAt"'s value (quotes and all) in s */
	/* where each step's operation and inverse, and each gate's params and budget, are in s */
	struct plan_text_span *spans;
	size_t nspans;
};

/*
 * Gives plan its "id": "pl-" and the first twelve hex digits of the
 * SHA-256 of the canonical text (and newline) of plan without its "id" and
 * "createdAt", so that the same inputs give the same id whenever they are
 * planned.  When text is not NULL, the same pass leaves the plan's
 * canonical text there (id included); the bytes hashed are those bytes
 * without the two members.  Any earlier "id" is replaced.  NW_ENOMEM (or
 * NW_EINPUT for a string that is not UTF-8), plan unchanged and text empty
 * then.
 */
int plan_json_seal(json_t *plan, struct plan_text *text, struct nw_err *err);

/*
 * Sets the plan's "createdAt" to when in both plan and text (made by
 * plan_json_seal from this plan): the id does not cover it, so a plan
 * planned again keeps the time it was first stored with.  NW_ENOMEM.
 */
int plan_text_set_created_at(struct plan_text *text, json_t *plan, const char *when,
    struct nw_err *err);

/*
 * The compact text (JSON_COMPACT | JSON_SORT_KEYS, as the plan store keeps
 * a step's operation and inverse and a gate's params and budget) of v, one
 * of those objects of the plan text was sealed from, made from the sealed
 * text by dropping its indentation rather than written again: malloc'd,
 * its length in *len.  NULL when the text does not hold v, when the two
 * texts could differ (a \u escape: the sealed text escapes non-ASCII
 * characters) or out of memory; the caller then writes v itself.
 */
char *plan_text_compact(const struct plan_text *text, const json_t *v, size_t *len);

/* Frees the text and zeroes the struct; NULL and an empty text are fine. */
void plan_text_clear(struct plan_text *text);

#endif
