/*
 * Private to providers/azure: the client (libcurl multi handle, timer
 * heap, token buckets, credential), the transfer (one logical HTTP
 * request with its retries) and the hooks between http.c (transport,
 * retries, throttling, logging), auth.c (credentials), ops.c
 * (operations, long-running operations, paging, errors) and azure.c.
 */
#ifndef NETWAVE_PROVIDERS_AZURE_INTERNAL_H
#define NETWAVE_PROVIDERS_AZURE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <curl/curl.h>
#include <jansson.h>

#include "plan/clock.h"
#include "plan/err.h"
#include "providers/azure/azure.h"
#include "providers/provider.h"

/* Bucket classes, as ARM counts them. */
enum az_class { AZ_CLASS_NONE = -1, AZ_READ = 0, AZ_WRITE = 1, AZ_DELETE = 2 };

struct az_bucket {
	double tokens;
	double capacity;
	double refill;        /* tokens per (unscaled) second */
	double last;          /* monotonic time of the last refill */
	double blocked_until; /* monotonic; a 429 blocks the class until then */
	size_t in_flight;
};

struct az_sub {
	char id[64];
	struct az_bucket b[3];
	unsigned long throttled;
};

/* Transfer flags. */
enum {
	AZ_XFER_AUTH = 1 << 0,       /* send a bearer token */
	AZ_XFER_IDEMPOTENT = 1 << 1, /* may be resent when the connection drops after sending */
	AZ_XFER_GRAPH = 1 << 2,      /* Resource Graph (its own quota) */
};

struct az_xfer;
typedef void (*az_xfer_done_fn)(struct az_xfer *x, void *arg);

enum az_where { AZ_X_NEW = 0, AZ_X_READY, AZ_X_TIMER, AZ_X_FLIGHT, AZ_X_DONE };

/* One logical request: the same x-ms-client-request-id across its retries. */
struct az_xfer {
	struct az_client *c;
	/* the request, fixed by az_xfer_new: held in text[] */
	const char *method;
	const char *url;
	char *body;           /* NUL-terminated; zeroed when the transfer is freed */
	size_t body_len;
	const char *content_type;
	unsigned flags;
	char request_id[40];
	enum az_class cls;
	char sub[64];

	/* progress */
	enum az_where where;
	double due;           /* monotonic; when it may be (re)sent */
	size_t heap_pos;
	struct az_xfer *next; /* ready queue */
	unsigned attempts;    /* sent so far */
	unsigned retries;     /* retries counted against max_retries */
	double parked;        /* seconds parked by Retry-After so far (unscaled) */
	unsigned token_gen;   /* generation of the token it was sent with */
	bool reauthed;        /* got a fresh token after a 401 already */
	double sent_at;

	/* the answer */
	long status;          /* 0: none */
	json_t *headers;      /* lowercase name -> value */
	char *resp;
	size_t resp_len, resp_cap;
	CURLcode curl_rc;
	char curl_err[CURL_ERROR_SIZE];
	int rc;               /* 0, or a negative status when no usable answer came */
	struct nw_err err;

	CURL *easy;
	struct curl_slist *req_headers;

	az_xfer_done_fn done;
	void *done_arg;
	char text[];          /* method, URL and body, one allocation with the transfer */
};

struct az_token {
	char *value;          /* zeroed before it is freed */
	double expires_on;    /* wall clock; 0: unknown (never refreshed ahead) */
	double fetched_at;
};

enum az_cred_kind {
	AZ_CRED_NONE = 0,
	AZ_CRED_ACCESS_TOKEN,   /* NETWAVE_ACCESS_TOKEN */
	AZ_CRED_SECRET,         /* AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET */
	AZ_CRED_ASSERTION,      /* ... AZURE_FEDERATED_TOKEN_FILE */
	AZ_CRED_MI_APPSERVICE,  /* IDENTITY_ENDPOINT, IDENTITY_HEADER */
	AZ_CRED_MI_IMDS,        /* IMDS (NETWAVE_IMDS_ENDPOINT) */
	AZ_CRED_CLI,            /* az account get-access-token */
	AZ_CRED_CERT,           /* ... AZURE_CLIENT_CERTIFICATE_PATH (auth_cert.c) */
};

struct az_cert;

/*
 * The chosen credential.  Its values are held inline ("" when unset), so
 * az_cred_clear wipes every one of them, the secrets with the rest.
 */
struct az_cred {
	enum az_cred_kind kind;
	char name[256];       /* for messages: never a secret */
	char tenant[129];     /* tenant_ok allows 128 characters */
	char client_id[256];
	char secret[1024];
	char token_file[4096];
	char endpoint[2048];
	char header_secret[1024]; /* IDENTITY_HEADER */
	char az_path[4096];   /* the az binary */
	struct az_cert *cert; /* AZ_CRED_CERT: the key and the certificate's thumbprints */
};

struct az_client {
	/* configuration (owned copies) */
	char cloud[64];
	char *arm;            /* endpoint, no trailing slash */
	char *authority;      /* no trailing slash */
	char *scope;          /* ".../.default" */
	char *ca_file;
	char *tenant;         /* --tenant: instead of AZURE_TENANT_ID; NULL: none */
	FILE *log;
	unsigned max_retries;
	double retry_delay, retry_max_delay, max_wait, poll_interval, scale;
	long connect_timeout_ms, timeout_ms;
	unsigned max_concurrency;
	double bucket_size[3], bucket_refill[3];
	azure_getenv_fn getenv;
	void *getenv_arg;
	azure_clock_fn clock;
	void *clock_arg;
	uint64_t rng;
	char user_agent[64];

	CURLM *multi;
	struct az_xfer **heap;
	size_t nheap, capheap;
	struct az_xfer *ready_head, *ready_tail;
	size_t in_flight;

	struct az_sub *subs;
	size_t nsubs, capsubs;
	double graph_blocked_until;

	struct az_cred cred;
	bool cred_chosen;
	struct az_token token;
	unsigned token_gen;
	bool token_invalid;   /* a 401 said so: fetch a new one before the next request */
	bool auth_failed;     /* the credential failed: every request fails the same way */
	struct nw_err auth_err;

	struct provider_stats stats;
	size_t pending_ops;
	struct az_op *ops;    /* every submitted, unfinished operation (doubly linked) */
};

/* --- http.c, clock.c, http_log.c ---------------------------------------------------- */

double az_wall(struct az_client *c);
uint64_t az_rand(struct az_client *c);
uint64_t az_seed(void);
void az_uuid(struct az_client *c, char out[40]);

int az_client_init(struct az_client *c, const struct azure_opts *o, struct nw_err *err);
void az_client_cleanup(struct az_client *c);

/*
 * A new transfer (owned by the caller until az_xfer_start, then by the
 * client until its done callback returns, when it is freed).  body is
 * copied; url must be absolute.
 */
struct az_xfer *az_xfer_new(struct az_client *c, const char *method, const char *url,
    const char *body, size_t body_len, const char *content_type, unsigned flags);
/* Queues it to be sent after delay (unscaled) seconds. */
void az_xfer_start(struct az_xfer *x, double delay, az_xfer_done_fn done, void *arg);
/* Stops a transfer that has not completed; its callback is not called. */
void az_xfer_abort(struct az_xfer *x);
void az_xfer_free(struct az_xfer *x);
/* A response header (lowercase name), or NULL. */
const char *az_xfer_header(const struct az_xfer *x, const char *name);

/* Drives transfers for at most timeout seconds (< 0: until idle). */
int az_client_run(struct az_client *c, double timeout, struct nw_err *err);
bool az_client_idle(const struct az_client *c);

/* Frees a header list, overwriting each line first: one may carry a token or a secret. */
void az_headers_free(struct curl_slist *h);

/* Sets the options every easy handle gets (TLS, timeouts, user agent, gzip). */
void az_easy_common(struct az_client *c, CURL *easy);

/* The host of a URL for messages ("127.0.0.1:8443"); http.c. */
void az_url_host(const char *url, char *out, size_t size);

/* Logs a request or answer to c->log with secrets redacted (http_log.c). */
void az_log_request(struct az_client *c, const char *method, const char *url,
    const struct curl_slist *headers, const char *body, size_t len, const char *request_id);
void az_log_response(struct az_client *c, const char *method, const char *url, long status,
    const json_t *headers, const char *body, size_t len, double ms);
/* Body text with token and secret fields replaced by REDACTED; malloc'd. */
char *az_redact_body(const char *body, size_t len);

/* "the TLS certificate ..." style text for a curl failure. */
void az_curl_error(struct nw_err *err, CURLcode rc, const char *errbuf, const char *method,
    const char *url);

/* Seconds a Retry-After / retry-after-ms / x-ms-retry-after-ms asks for; < 0 when none. */
double az_retry_after(const struct az_xfer *x);

/* True when the URL's scheme, host and port are the endpoint's. */
bool az_same_origin(const char *url, const char *base);

/* The path part of an absolute URL (without the query), for messages; static-free copy. */
void az_url_path(const char *url, char *out, size_t size);

json_t *az_throttle_json(struct az_client *c);

/*
 * The transport seam of tests/fuzz, which answers transfers itself instead
 * of sending them: az_client_take unqueues the next transfer (ready ones
 * first, then timers whatever their due time; NULL when none), and
 * az_xfer_complete hands it, answered (status, headers, resp) or failed
 * (rc, err), to its callback and frees it, as a transfer off the wire is.
 */
struct az_xfer *az_client_take(struct az_client *c);
void az_xfer_complete(struct az_xfer *x);

/* --- auth.c -------------------------------------------------------------------------- */

/*
 * Makes sure c->token is valid for a while (choosing the credential the
 * first time, refreshing ahead of expiry or after a 401).  Blocking.
 */
int az_auth_ensure(struct az_client *c, struct nw_err *err);
/* After a 401: the token of generation gen is not good any more. */
void az_auth_invalidate(struct az_client *c, unsigned gen);
/* True when the credential can get a new token (not NETWAVE_ACCESS_TOKEN). */
bool az_auth_refreshable(const struct az_client *c);
void az_cred_clear(struct az_cred *cred);
void az_token_clear(struct az_token *t);
/* Overwrites a string's bytes before it is freed. */
void az_secure_free(char *s);

/* Zeroes len bytes at buf in a way the compiler keeps. */
void az_secure_zero(void *buf, size_t len);

/* --- auth_cert.c -------------------------------------------------------------------- */

/*
 * Loads a certificate credential's key and certificate from path (PEM with
 * both, or PKCS#12), password opening an encrypted key or the PKCS#12 file
 * (NULL: none).  NW_EINPUT naming the file and what was expected for an
 * unreadable file, a wrong or missing password, no key, no certificate
 * matching the key, a non-RSA key or a certificate expired at now.
 */
int az_cert_load(struct az_cert **out, const char *path, const char *password, double now,
    struct nw_err *err);
void az_cert_free(struct az_cert *c);
/* Whether assertions carry the chain (x5c); off until asked for. */
void az_cert_send_chain(struct az_cert *c, bool on);
/* How many certificates x5c holds (the certificate and the rest of the file's chain). */
size_t az_cert_chain_length(const struct az_cert *c);
/* The SHA-1 thumbprint as Azure shows it (40 uppercase hex digits), for messages. */
void az_cert_thumbprint(const struct az_cert *c, char out[41]);
/*
 * A client assertion (new string): PS256, x5t#S256 (and x5c when the chain
 * is sent), claims aud, exp (now + 600), iss = sub = client_id, jti, nbf (now).
 */
int az_cert_assertion(char **out, const struct az_cert *c, const char *aud, const char *client_id,
    double now, const char *jti, struct nw_err *err);
/* base64url without padding of n bytes into out (size bytes with the NUL); the length written. */
size_t az_b64url(char *out, size_t size, const unsigned char *in, size_t n);

/* --- ops.c --------------------------------------------------------------------------- */

struct az_op;
int az_op_submit(struct az_client *c, struct provider_op *op, struct nw_err *err);
void az_op_cancel(struct az_client *c, struct provider_op *op);
void az_ops_cancel_all(struct az_client *c);

/*
 * Fills err and perr from an answer that failed: "<what>: HTTP <status>
 * <code>: <message> (target ...; request id ...)".
 */
int az_error_from_answer(struct nw_err *err, struct provider_error *perr,
    const struct az_xfer *x, const char *what);

/* --- http.c: what curl's callbacks share ------------------------------------------- */

/*
 * A write callback's work: appends data (n bytes) to *buf, grown as needed
 * and NUL-terminated, no more than max bytes in all; with secret the old
 * buffer is wiped before it is freed (token answers).  n, or 0 (which ends
 * the transfer) when over max or out of memory.
 */
size_t az_body_append(char **buf, size_t *len, size_t *cap, const char *data, size_t n, size_t max,
    bool secret);

/*
 * A header callback's work: a status line clears headers (only the last
 * answer's count); a "name: value" line sets the lowercased name to the
 * value without surrounding blanks, cut to max_value bytes.
 */
void az_header_store(json_t *headers, const char *data, size_t n, size_t max_value);

/* --- discover.c ---------------------------------------------------------------------- */

/*
 * A Resource Graph row in ARM's shape (new reference): ARM's fields only,
 * ARM's type casing, no nulls.  NULL when the row has no string "type".
 */
json_t *az_graph_row_to_resource(const json_t *row);

/* --- discover_deployments.c ---------------------------------------------------------- */

/* The request listing a resource group's deployments (malloc'd); NULL when out of memory. */
char *az_deployments_path(const char *group_id);

/* The subscription id of an ARM id ("/subscriptions/SUB/..."), "" when it has none. */
void az_subscription_of(char *buf, size_t size, const char *id);

/* Appends to kept what discover records of each deployment in items (DeploymentExtended). */
void az_deployments_keep(json_t *kept, const json_t *items);
/* --- discover_circuits.c ------------------------------------------------------------- */

/*
 * The POST that reads the routes a circuit's private peering learned
 * (malloc'd); NULL when the circuit has no AzurePrivatePeering or out of memory.
 */
char *az_circuit_routes_path(const json_t *circuit);

/* What observed.circuitRoutes keeps of that POST's answer (new reference): on-premises routes only. */
json_t *az_circuit_routes_keep(const json_t *answer);

/* providers/azure/discover_ars.c: what discovery reads of Azure Route Server. */
struct az_ars_child {
	const char *segment; /* "bgpConnections" */
	const char *type;    /* "Microsoft.Network/virtualHubs/bgpConnections" */
};

/* The child lists under each route server; ends with { NULL, NULL }. */
extern const struct az_ars_child az_ars_children[];

/* A virtualHubs resource with no virtualWan. */
bool az_ars_is_route_server(const json_t *res);

/* A bgpConnections resource whose parent (in resources: lowercase id -> resource) is a route server. */
bool az_ars_is_bgp_connection(const json_t *resources, const json_t *res);

/* The POST path of a connection's learnedRoutes or advertisedRoutes (malloc'd); -1 on out of memory. */
int az_ars_routes_path(char **out, const char *connection_id, bool advertised);

/* Stores an answer under bgp_routes[connection_id]; -1 when it is not ARM's shape or out of memory. */
int az_ars_store(json_t *bgp_routes, const char *connection_id, bool advertised, const json_t *answer);

#endif
