/*
 * The provider interface: the one way the apply engine, rollback, gates
 * and discovery touch a real estate, whatever the cloud.  A provider runs
 * operations: read a resource, list a collection (following its pages),
 * send a write (PUT, PATCH, POST action, DELETE) and follow it to its end,
 * run a query for a gate.  It reports what it cost (reads, writes,
 * deletes) and how throttled it is.  Azure (providers/azure) is the first
 * implementation; the emulator is Azure at another address.
 *
 * Operations are asynchronous so that many run at once in one thread:
 * create them with provider_op_new, hand them over with provider_submit,
 * and drive the provider with provider_run until they are finished (or
 * use the synchronous helpers at the end of this header).  A write's
 * long-running state (phase, poll URL, final URL, request id) is plain
 * data: provider_op_state gives it as JSON for the journal, and
 * provider_op_restore turns it back into an operation that resumes
 * polling where a crashed run left off, without sending the write again.
 */
#ifndef NETWAVE_PROVIDERS_PROVIDER_H
#define NETWAVE_PROVIDERS_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "plan/err.h"

#define PROVIDER_OP_STATE_FORMAT "netwave.provider-op/v1"

enum provider_op_kind {
	PROVIDER_OP_READ = 1,  /* GET one resource; result is its body */
	PROVIDER_OP_LIST,      /* GET a collection, following nextLink; result is the array of items */
	PROVIDER_OP_WRITE,     /* PUT, PATCH, POST action or DELETE, followed to its end */
	PROVIDER_OP_POST_LIST, /* a POST that reads, paged by a body skipToken; result is the array */
	PROVIDER_OP_QUERY,     /* a query (Azure: Resource Graph), every page; result is the rows */
};

/* Where an operation is.  Only DONE and FAILED are final. */
enum provider_op_phase {
	PROVIDER_PHASE_NEW = 0, /* not sent yet */
	PROVIDER_PHASE_SENT,    /* the request is in flight or waiting to be (re)sent */
	PROVIDER_PHASE_POLLING, /* accepted; following poll_url */
	PROVIDER_PHASE_FINAL,   /* succeeded; reading the final result */
	PROVIDER_PHASE_DONE,
	PROVIDER_PHASE_FAILED,
};

/* How a long-running operation is followed (reference/azure-arm.md, section 5). */
enum provider_poll_kind {
	PROVIDER_POLL_NONE = 0,
	PROVIDER_POLL_ASYNC,    /* the Azure-AsyncOperation URL: 200 with a status */
	PROVIDER_POLL_LOCATION, /* the Location URL: 202 while running, then the result */
	PROVIDER_POLL_RESOURCE, /* the resource itself: its provisioningState */
};

/* The error a cloud gave, kept apart from the message for callers that branch on it. */
struct provider_error {
	int http_status;     /* 0 when no answer came (network, TLS) */
	char code[128];      /* ARM's error.code ("Conflict", "ExpiredAuthenticationToken"), "" if none */
	char message[768];   /* ARM's error.message, "" if none */
	char target[256];    /* ARM's error.target, "" if none */
	char request_id[80]; /* x-ms-request-id of the answer, "" if none */
};

struct provider_op;
typedef void (*provider_op_done_fn)(struct provider_op *op, void *arg);

struct provider_op {
	/* What to do (owned; set by provider_op_new). */
	enum provider_op_kind kind;
	char *method;       /* "GET", "PUT", "PATCH", "POST", "DELETE" */
	char *path;         /* a path below the endpoint with its query (api-version), or an absolute URL */
	json_t *body;       /* request body, NULL for none */
	json_t *scopes;     /* QUERY: array of subscription ids; NULL for all the caller can see */
	bool idempotent;    /* may be sent again when a connection drops after sending;
	                     * true for every method but POST, and for POST_LIST and QUERY */

	/* The state that survives a crash (provider_op_state). */
	enum provider_op_phase phase;
	enum provider_poll_kind poll_kind;
	char *poll_url;     /* absolute; NULL until accepted */
	char *final_url;    /* absolute URL of the final GET (POST with Location); NULL if none */
	char client_request_id[40]; /* x-ms-client-request-id of the first request, kept across retries */

	/* The outcome, once DONE or FAILED. */
	int status;                  /* 0, or a negative nw_status when FAILED */
	struct nw_err err;           /* the message when FAILED: what, HTTP status, code, message, request id */
	struct provider_error error; /* the cloud's error when FAILED */
	int http_status;             /* status of the last answer */
	bool outcome_unknown;        /* FAILED after ARM accepted it, without learning how it ended
	                              * (its status URL answered 404): read the state to settle it */
	json_t *result;              /* DONE: the resource, result body, or array of items; may be NULL */

	/* What it took. */
	unsigned requests;  /* HTTP requests sent for it (retries and polls included) */
	unsigned retries;   /* requests sent again after a failure or a throttle */
	unsigned polls;     /* status polls */

	/* Called once when it becomes DONE or FAILED, from inside provider_run; may submit more. */
	provider_op_done_fn done;
	/* Called when a write is accepted and its poll URL is known (phase POLLING): the
	 * moment to journal provider_op_state.  NULL: not called. */
	provider_op_done_fn accepted;
	void *done_arg;

	void *impl;         /* the provider's; do not touch */
};

/* Counters since the provider was made. */
struct provider_stats {
	unsigned long reads;      /* GET/HEAD requests sent (polls included) */
	unsigned long writes;     /* PUT/PATCH/POST requests sent */
	unsigned long deletes;    /* DELETE requests sent */
	unsigned long auth;       /* token requests */
	unsigned long retries;    /* requests sent again */
	unsigned long throttled;  /* answers 429 */
	unsigned long failures;   /* operations that ended FAILED */
	size_t in_flight;         /* requests on the wire now */
	size_t waiting;           /* requests parked: backing off, throttled or polling later */
	size_t pending;           /* operations submitted and not finished */
	double parked_until;      /* seconds from now until the last parked request is due, 0 if none */
};

struct provider;

/* What an implementation provides (providers/azure). */
struct provider_vtable {
	const char *name;
	int (*submit)(void *impl, struct provider_op *op, struct nw_err *err);
	int (*run)(void *impl, double timeout, struct nw_err *err);
	void (*cancel)(void *impl, struct provider_op *op);
	void (*stats)(void *impl, struct provider_stats *out);
	json_t *(*throttle)(void *impl);
	void (*free)(void *impl);
};

/* Wraps an implementation (steals impl; vt->free releases it). NULL on out of memory. */
struct provider *provider_new(const struct provider_vtable *vt, void *impl);

/* Frees the provider; operations still submitted are cancelled first.  Accepts NULL. */
void provider_free(struct provider *p);

/* "azure". */
const char *provider_name(const struct provider *p);

/* The implementation's object, for code that knows which provider it holds. */
void *provider_impl(const struct provider *p);

/* --- operations ------------------------------------------------------------------ */

/*
 * A new operation (free with provider_op_free).  body is borrowed (a
 * reference is taken).  NULL on out of memory.  For PROVIDER_OP_QUERY,
 * path is the query text and method is ignored.
 */
struct provider_op *provider_op_new(enum provider_op_kind kind, const char *method,
    const char *path, const json_t *body);

/* Frees an operation that is not submitted (or is finished).  Accepts NULL. */
void provider_op_free(struct provider_op *op);

/* True once DONE or FAILED. */
bool provider_op_finished(const struct provider_op *op);

/*
 * The operation's resumable state as a JSON object (new reference):
 * {format, kind, method, path, body, phase, pollKind, pollUrl, finalUrl,
 * clientRequestId}.  No credential is ever part of it.
 */
json_t *provider_op_state(const struct provider_op *op);

/*
 * An operation from a journaled state.  A write that had been accepted
 * (phase POLLING or FINAL) resumes polling when submitted; one that was
 * never answered (NEW or SENT) is sent again, which ARM's PUT and DELETE
 * allow; the caller reconciles a POST action before resending it
 * (DESIGN.md, "Apply and rollback").  NW_EINPUT naming the bad field.
 */
int provider_op_restore(struct provider_op **out, const json_t *state, struct nw_err *err);

/* "polling", "done", ... */
const char *provider_phase_name(enum provider_op_phase phase);

/* --- running ---------------------------------------------------------------------- */

/*
 * Hands an operation over (it stays the caller's; do not free it until
 * it is finished or cancelled).  Fails with NW_EINPUT for an operation
 * the provider cannot run (a bad path, a URL on another host).
 */
int provider_submit(struct provider *p, struct provider_op *op, struct nw_err *err);

/*
 * Drives every submitted operation for at most timeout seconds (< 0: until
 * all are finished).  Returns 0 when it returns normally, whatever the
 * operations' outcomes; a negative status only when the provider itself
 * broke (out of memory, libcurl).  Operations that finish get their
 * done callback.
 */
int provider_run(struct provider *p, double timeout, struct nw_err *err);

/* Runs until op is finished; returns op->status (its err is copied into err). */
int provider_wait(struct provider *p, struct provider_op *op, struct nw_err *err);

/* Stops following an operation: it becomes FAILED with "cancelled" at once. */
void provider_cancel(struct provider *p, struct provider_op *op);

void provider_stats_get(const struct provider *p, struct provider_stats *out);

/*
 * The throttling state (new reference): per subscription, per class
 * (reads, writes, deletes) the tokens the client thinks are left, the
 * bucket size, the refill per second, and how long it is blocked.
 */
json_t *provider_throttle_state(const struct provider *p);

/* --- synchronous helpers ---------------------------------------------------------- */

/* GET a resource: *out is the body (new reference), or NULL when it does not exist (404). */
int provider_read(struct provider *p, const char *path, json_t **out, struct nw_err *err);

/* GET a collection with every page: *out is the array of items (new reference). */
int provider_list(struct provider *p, const char *path, json_t **out, struct nw_err *err);

/*
 * Sends a write and follows it to its end: *out (may be NULL) gets the
 * final resource or result body (new reference, NULL when there is none).
 */
int provider_send(struct provider *p, const char *method, const char *path, const json_t *body,
    json_t **out, struct nw_err *err);

/*
 * Runs n operations together: submits every one, then drives the provider
 * until all are finished, so reads batched by scope go out side by side
 * within the provider's own throttling.  Returns 0 when the provider
 * worked, whatever each operation's outcome (read op->status); a negative
 * status only when it broke (then the unfinished ones are cancelled).
 */
int provider_run_all(struct provider *p, struct provider_op *const *ops, size_t n, struct nw_err *err);

/* Runs a query over the given subscriptions (NULL: all visible); *out is the rows. */
int provider_query(struct provider *p, const char *query, const json_t *subscriptions,
    json_t **out, struct nw_err *err);

#endif
