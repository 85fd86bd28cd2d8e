/*
 * The Azure provider: ARM over HTTPS with libcurl's multi interface, so
 * many operations run at once in one thread.  It authenticates as
 * DefaultAzureCredential does, retries and backs off as the Azure SDK
 * guidelines say, keeps a client-side token bucket per subscription so
 * it slows down before ARM answers 429, follows long-running operations,
 * and translates every error once (reference/azure-arm.md sections 5 to
 * 7, reference/reliability-and-performance.md sections 2 and 3).
 *
 * azure_provider_new gives a struct provider (providers/provider.h); the
 * emulator is the same provider pointed at another endpoint.
 * azure_discover reads an estate into a netwave.topology/v1 document.
 */
#ifndef NETWAVE_PROVIDERS_AZURE_H
#define NETWAVE_PROVIDERS_AZURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "plan/arm_api.h"
#include "plan/err.h"
#include "providers/provider.h"

/* api-versions netwave sends (what @azure/arm-network 39 and the SDKs send). */
#define AZURE_API_NETWORK ARM_API_NETWORK
#define AZURE_API_FEATURES ARM_API_FEATURES
#define AZURE_API_GRAPH ARM_API_GRAPH

/*
 * A cloud's endpoints, as its ARM metadata endpoint publishes them
 * ({arm}/metadata/endpoints?api-version=2022-09-01: resourceManager,
 * authentication.loginEndpoint, authentication.audiences).
 */
struct azure_cloud {
	const char *name;           /* "AzureCloud", "AzureUSGovernment", "AzureChinaCloud" */
	const char *arm_endpoint;   /* "https://management.azure.com" (no trailing slash) */
	const char *authority_host; /* "https://login.microsoftonline.com" */
	const char *scope;          /* "https://management.azure.com/.default" */
	const char *audiences[2];   /* authentication.audiences: the token audiences ARM accepts */
};

/* True when scope, less "/.default", is one of the cloud's published audiences. */
bool azure_cloud_scope_ok(const struct azure_cloud *c, const char *scope);

/* The clouds, for tests and help: *n entries. */
const struct azure_cloud *azure_clouds(size_t *n);

/* The named cloud (case-insensitive), or NULL. */
const struct azure_cloud *azure_cloud_find(const char *name);

/* "AzureCloud, AzureUSGovernment, AzureChinaCloud", for messages. */
const char *azure_cloud_names(void);

/* Looks up an environment variable; the default is getenv. */
typedef const char *(*azure_getenv_fn)(void *arg, const char *name);

/* The wall clock in seconds since the epoch; the default is the real one. */
typedef double (*azure_clock_fn)(void *arg);

/*
 * Options.  Zero means the default everywhere, so `struct azure_opts o =
 * { 0 }` talks to the public cloud with the Azure SDK's retry policy.
 */
struct azure_opts {
	const char *cloud;          /* a cloud name; NULL: AzureCloud */
	const char *arm_endpoint;   /* overrides the cloud's ("http://127.0.0.1:PORT" for the emulator) */
	const char *authority_host; /* overrides AZURE_AUTHORITY_HOST and the cloud's */
	const char *ca_file;        /* PEM bundle to verify servers with (CURLOPT_CAINFO) */
	const char *tenant;         /* --tenant: the tenant to sign in to, instead of AZURE_TENANT_ID
	                             * (client secret, certificate, workload identity, Azure CLI) */
	FILE *log;                  /* --verbose: every request and answer, secrets redacted; NULL: none */

	int max_retries;            /* retries of a failed request: 0 means 3, negative means none */
	double retry_delay;         /* first back-off delay in seconds; 0 means 0.8 */
	double retry_max_delay;     /* longest back-off delay; 0 means 60 */
	double max_wait;            /* longest Retry-After honoured, and longest a request stays parked
	                             * by throttling; 0 means 900 seconds */
	double poll_interval;       /* between status polls when ARM sends no Retry-After; 0 means 2 */
	double delay_scale;         /* multiplies every wait (back-off, Retry-After, polls, bucket
	                             * refills); tests use 0.001; 0 means 1 */
	long connect_timeout_ms;    /* 0 means 10 s */
	long timeout_ms;            /* per request; 0 means 100 s */
	unsigned max_concurrency;   /* requests on the wire at once; 0 means 16 */

	/* Client-side token buckets per subscription; 0 means ARM's (250/25, 200/10, 200/10). */
	double read_bucket, read_refill;
	double write_bucket, write_refill;
	double delete_bucket, delete_refill;

	azure_getenv_fn getenv;     /* credentials' environment; NULL: the process's */
	void *getenv_arg;
	azure_clock_fn clock;       /* token expiry; NULL: the real clock */
	void *clock_arg;
	uint64_t rng_seed;          /* jitter and request ids; 0: from the kernel */
};

/*
 * A provider for ARM.  NW_EINPUT for an unknown cloud, a malformed
 * endpoint or an unreadable CA file.  Credentials are chosen and tokens
 * fetched at the first request, not here.
 */
int azure_provider_new(struct provider **out, const struct azure_opts *opts, struct nw_err *err);

/*
 * The credential in use, e.g. "client secret credential (AZURE_CLIENT_ID
 * app-1, tenant t-1)", or NULL before the first token.  Never a secret.
 */
const char *azure_credential_name(const struct provider *p);

/*
 * Fetches a token now (choosing the credential first if needed), so a
 * command fails early with a clear message.  0 or NW_EFAIL/NW_EIO.
 */
int azure_authenticate(struct provider *p, struct nw_err *err);

/* The ARM endpoint in use (no trailing slash). */
const char *azure_arm_endpoint(const struct provider *p);

/* --- scope ------------------------------------------------------------------------- */

struct azure_scope_opts {
	const char *const *subscriptions; /* ids or display names, as given; may be 0 */
	size_t nsubscriptions;
	const char *management_group;     /* a management group id whose subscriptions to add; NULL */
	azure_getenv_fn getenv;           /* for AZURE_SUBSCRIPTION_ID; NULL: the process's */
	void *getenv_arg;
};

/*
 * The subscription ids to read (*out: a new array of strings, no
 * duplicates): each given id as is, each name resolved through
 * Subscriptions - List, the management group's descendants through Get
 * Descendants; with neither, AZURE_SUBSCRIPTION_ID then
 * ARM_SUBSCRIPTION_ID.  NW_EINPUT naming the value and the candidates for
 * a name matching no subscription or several, for an empty management
 * group, or when nothing says which subscription; ARM's errors otherwise.
 */
int azure_scope_resolve(json_t **out, struct provider *p, const struct azure_scope_opts *o,
    struct nw_err *err);

/* --- discovery ---------------------------------------------------------------------- */

enum azure_discover_source {
	AZURE_SOURCE_AUTO = 0,  /* Resource Graph, the list calls when it is not available */
	AZURE_SOURCE_GRAPH,     /* Resource Graph only */
	AZURE_SOURCE_LIST,      /* ARM list calls per type only */
};

struct azure_discover_opts {
	const char *const *subscriptions; /* GUIDs, at least one */
	size_t nsubscriptions;
	const char *const *resource_groups; /* NULL/0: every group */
	size_t nresource_groups;
	const char *cloud;          /* written to the document; NULL: "AzureCloud" */
	enum azure_discover_source source;
	FILE *log;                  /* the source chosen, denied types, warnings; NULL: silent */
	FILE *progress;             /* a terminal for a progress line; NULL: none */
	bool deployments;           /* also read each group's ARM deployment history (docs/iac.md) */
};

struct azure_discover_report {
	enum azure_discover_source source; /* what was used: GRAPH or LIST */
	size_t resources;
	unsigned long requests;     /* HTTP requests to ARM (token requests not counted) */
	unsigned graph_queries;     /* Resource Graph pages */
	unsigned list_calls;        /* list pages */
	size_t denied;              /* (type, subscription) pairs ARM refused with 403 */
	char graph_fallback[512];   /* why Resource Graph was not used, "" when it was */
};

/*
 * Reads the estate: resources (Resource Graph, or the list calls), then
 * observed: each circuit's private-peering route table, the preview
 * feature states, and for each network manager the connectivity
 * configurations deployed per region.  *out is a netwave.topology/v1
 * document (new reference), not yet canonical: load it with
 * topology_load_json and write it with topology_write_file.  Types ARM
 * refuses (403) are reported on o->log and skipped; NW_EFAIL when nothing
 * at all could be read.  rep may be NULL.
 */
int azure_discover(json_t **out, struct provider *p, const struct azure_discover_opts *o,
    struct azure_discover_report *rep, struct nw_err *err);

/* The resource types discovery reads, NULL-terminated (ARM casing). */
extern const char *const azure_discover_types[];

#endif
