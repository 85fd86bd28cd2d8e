/*
 * The ARM emulator: a local HTTP(S) server that answers as Azure Resource
 * Manager does for the subset of ARM netwave uses (DESIGN.md, "The
 * emulator"; reference/azure-arm.md), so that discover, apply, the demo
 * and the command-line tests run with no cloud account.  `netwave
 * emulator` runs one as a process; tests and `netwave demo` run one in
 * process through this API.
 *
 * The estate is held as ARM JSON keyed by lowercase id, seeded from a
 * netwave.topology/v1 document, optionally persisted in SQLite.  Requests
 * are served by libmicrohttpd threads; one mutex guards the state.
 */
#ifndef NETWAVE_PROVIDERS_EMULATOR_H
#define NETWAVE_PROVIDERS_EMULATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "plan/err.h"

struct emulator;

struct emulator_opts {
	/* "127.0.0.1:0" when NULL; "[::1]:P" for IPv6 loopback.  Port 0 picks a free port. */
	const char *listen;

	/* The seed estate: a netwave.topology/v1 document.  seed_json (borrowed)
	 * wins over seed_path; neither gives an empty estate.  Ignored when the
	 * state database already holds an estate. */
	const char *seed_path;
	const json_t *seed_json;

	/* SQLite file that keeps the estate across restarts; NULL: memory only. */
	const char *state_path;

	/* Fault rules (netwave.faults/v1, docs/emulator.md); json wins over path. */
	const char *faults_path;
	const json_t *faults_json;

	/* OAuth2 clients (netwave.emulator-clients/v1); json wins over path.
	 * Without either, any client id with a non-empty secret or assertion
	 * gets a token. */
	const char *clients_path;
	const json_t *clients_json;

	/* Nominal durations (long-running operations, feature registration,
	 * migrations) and throttle refill are divided / multiplied by this;
	 * 0 means 1. */
	double time_scale;

	/* Every ARM request (not the token endpoints or /__netwave/) is answered
	 * this many real milliseconds late, as a round trip to ARM is; 0: none. */
	double latency_ms;

	/* Serve HTTPS with these PEM files (both or neither). */
	const char *tls_cert_path;
	const char *tls_key_path;

	/* ARM routes accept requests without a bearer token. */
	bool no_auth;

	/* Seeds the generator behind probabilistic faults, GUIDs and etags, so
	 * runs are reproducible; 0 picks one from the clock. */
	uint64_t rng_seed;

	/* Access token lifetime in (real) seconds; 0 means 3599. */
	unsigned token_lifetime;

	/* Default and largest page of a list; 0 means 100 and 1000. */
	unsigned page_size;
	unsigned max_page_size;

	/* Token buckets per subscription; 0 means ARM's (250/25, 200/10, 200/10). */
	double read_bucket, read_refill;
	double write_bucket, write_refill;
	double delete_bucket, delete_refill;

	/* Largest request body in bytes; 0 means ARM's 4 MB. */
	size_t max_body;

	/* Keep at most this many request log entries (oldest dropped); 0 means 100000. */
	size_t max_log;
};

/*
 * Starts a server with its own threads and returns once it listens.
 * NW_EINPUT for bad options or an invalid seed/faults/clients document,
 * NW_EIO when it cannot listen or open the state database.
 */
int emulator_start(struct emulator **out, const struct emulator_opts *o, struct nw_err *err);

/* Stops the server, waits for its threads and frees everything; accepts NULL. */
void emulator_stop(struct emulator *e);

/* "http://127.0.0.1:PORT" (https with TLS), no trailing slash; borrowed. */
const char *emulator_base_url(const struct emulator *e);

/* The port it listens on. */
unsigned emulator_port(const struct emulator *e);

/*
 * The current estate as a netwave.topology/v1 document (new reference),
 * as GET /__netwave/state serves it, or NULL when memory runs out.
 * Operations whose time has come are completed first.
 */
json_t *emulator_state(struct emulator *e);

/*
 * The request log (new reference): an array of
 * {seq, time, method, path, query, status, operation, clientRequestId,
 * requestId, fault}, oldest first, as GET /__netwave/requests serves it.
 */
json_t *emulator_requests(struct emulator *e);

/* Empties the request log. */
void emulator_requests_clear(struct emulator *e);

/*
 * Replaces the fault rules (a netwave.faults/v1 document, borrowed); NULL
 * removes them all.  NW_EINPUT with the rule's pointer when invalid.
 */
int emulator_faults_set(struct emulator *e, const json_t *doc, struct nw_err *err);

/*
 * Writes a resource out of band (drift), as PUT /__netwave/resources does:
 * no validation, no request log entry, no operation.  NULL res deletes it.
 */
int emulator_resource_put(struct emulator *e, const char *id, const json_t *res,
    struct nw_err *err);

#endif
