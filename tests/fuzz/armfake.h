/*
 * ARM's side of the conversation for the fuzz targets of providers/azure:
 * a client that sends nothing (az_client_take) and answers each transfer
 * with the next answer of the input.  The input is text, answers separated
 * by a line "====":
 *
 *   202
 *   azure-asyncoperation: https://management.azure.com/.../operations/1
 *   retry-after: 0
 *
 *   {"status":"InProgress"}
 *   ====
 *   200
 *   ...
 *
 * The first line of an answer is the HTTP status (0: the connection
 * failed, no answer), then header lines up to an empty line, then the
 * body.  Targets read their own first line (what to ask) with
 * fuzz_arm_line before the answers.
 */
#ifndef NETWAVE_TESTS_FUZZ_ARMFAKE_H
#define NETWAVE_TESTS_FUZZ_ARMFAKE_H

#include <stdbool.h>

#include "providers/azure/internal.h"

#define FUZZ_ARM "https://management.azure.com"
#define FUZZ_SUB "/subscriptions/00000000-0000-4000-8000-000000000001"

/* At most this many answers are read from one input. */
#define FUZZ_ARM_MAX_ANSWERS 64

struct fuzz_arm {
	struct az_client c;
	char *text;        /* the input, NUL-terminated (owned) */
	char *cur;         /* what is left of it */
	unsigned answered; /* transfers answered so far */
};

/* Starts a client on FUZZ_ARM; false when the input is too large or memory is short. */
bool fuzz_arm_init(struct fuzz_arm *f, const uint8_t *data, size_t size);
void fuzz_arm_cleanup(struct fuzz_arm *f);

/* The next line of the input (borrowed, without its newline), or "" at the end. */
const char *fuzz_arm_line(struct fuzz_arm *f);

/* Answers x with the next answer; false (x untouched) when the input is used up. */
bool fuzz_arm_answer(struct fuzz_arm *f, struct az_xfer *x);

/*
 * The target's own look at a transfer: `seen` before it is answered (n
 * counts from 0), `answered` once the answer is in it and before the
 * client reads it.  Either may be NULL.
 */
struct fuzz_arm_hooks {
	void (*seen)(const struct az_xfer *x, unsigned n, void *arg);
	void (*answered)(const struct az_xfer *x, void *arg);
	void *arg;
};

/*
 * Submits op and answers its transfers until it finishes or the input is
 * used up (then cancels it).  Checks what holds for every operation: each
 * request goes to the ARM endpoint and is not due later than the longest
 * wait the client honours, `done` runs at most once and nothing is left
 * queued after it, the requests counted are those answered, and a failure
 * carries a message.  Returns whether the operation succeeded.
 */
bool fuzz_arm_run(struct fuzz_arm *f, struct provider_op *op, const struct fuzz_arm_hooks *h);

#endif
