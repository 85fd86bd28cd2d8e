/*
 * The emulator's private header: the server state shared by its files.
 * They sit in layers, and a file calls only the layers below it:
 *
 *   emulator.c   serves HTTP: authentication, throttling, faults, the log
 *   router.c     the route table and the dispatcher that walks it
 *   handlers     arm*.c resource CRUD, rgroups.c, features.c, avnm.c,
 *                gateway.c, effective.c, graph.c, auth.c, control.c
 *   services     store.c the estate, lro.c long-running operations
 *                (which call only the completion each operation carries),
 *                faults.c, throttle.c, persist.c SQLite
 *   util.c       strings, clocks, answers, ids; api.c the api-versions
 *
 * Every function here that takes a struct emulator runs with e->lock held
 * unless it says so.
 */
#ifndef NETWAVE_PROVIDERS_EMULATOR_EMU_H
#define NETWAVE_PROVIDERS_EMULATOR_EMU_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "plan/arm_api.h"
#include "plan/clock.h"
#include "plan/cost.h"
#include "plan/err.h"
#include "providers/emulator/emulator.h"

/* api-versions (reference/azure-arm.md); the first of each list is the current one. */
#define EMU_API_NETWORK ARM_API_NETWORK
#define EMU_API_FEATURES ARM_API_FEATURES
#define EMU_API_RESOURCES ARM_API_RESOURCES
#define EMU_API_GRAPH ARM_API_GRAPH
#define EMU_TYPE_RESOURCE_GROUP "Microsoft.Resources/resourceGroups"

/* Nominal durations in seconds, divided by the time scale (docs/emulator.md). */
#define EMU_DUR_PUT 5.0          /* VNet, subnet, peering, route table, ... */
#define EMU_DUR_DELETE 10.0
#define EMU_DUR_GATEWAY_PUT 1800.0
#define EMU_DUR_ACTION 5.0       /* effectiveRouteTable, circuit route table */
/* The durations netwave's cost model counts (plan/cost.h, where their sources are) */
#define EMU_DUR_COMMIT ((double)COST_AVNM_COMMIT_SECONDS) /* AVNM commit: Deploying then Deployed */
#define EMU_DUR_AVNM_DELETE 10.0
#define EMU_DUR_FEATURE ((double)COST_FEATURE_REGISTRATION_SECONDS) /* Registering then Registered */
#define EMU_DUR_PREPARE ((double)COST_PREPARE_MIGRATION_SECONDS) /* gateway migration: up to ~45 min */
#define EMU_DUR_EXECUTE 300.0    /* ~5 min of downtime */
#define EMU_DUR_COMMIT_MIGRATION ((double)COST_COMMIT_MIGRATION_SECONDS)
#define EMU_DUR_ABORT 600.0

/* Suggested poll interval, nominal seconds (RPC: 10 to 600). */
#define EMU_POLL_INTERVAL COST_ARM_POLL

#define EMU_MAX_BODY_DEFAULT ((size_t)4 << 20)

enum emu_class { EMU_CLASS_NONE = 0, EMU_CLASS_READ, EMU_CLASS_WRITE, EMU_CLASS_DELETE };

/* One request, from the wire to the answer. */
struct emu_req {
	/* in */
	char method[16];
	char *path;          /* decoded, without the query */
	json_t *query;       /* argument name -> string value */
	char *query_text;    /* the query re-encoded for the log, secrets left out */
	char *body;          /* NUL-terminated */
	size_t body_len;
	json_t *hdr;         /* lowercase header name -> value */
	char base[256];      /* "http://127.0.0.1:PORT" as the client addressed us */
	char request_id[40];
	char correlation_id[80];

	/* out */
	int status;
	char *resp;          /* body text or NULL */
	json_t *resp_hdr;    /* header name -> value */
	bool reset;          /* close the connection without an answer */
	bool nolog;          /* control endpoints are not logged */
	char op[200];        /* the operation it performed, for the log */
	char fault[120];     /* the fault that fired, for the log */
	double latency;      /* seconds to wait before answering (faults) */
	json_t *parsed;      /* the body parsed as JSON (borrowed from here; freed with the request) */
	const char *subscription; /* borrowed from path parsing, for throttling */
	enum emu_class cls;
	/* the clients-file entry of the caller (borrowed from e->clients), NULL when the
	 * emulator is open or the caller is the managed identity: authz.c */
	const json_t *caller;
};

/* A long-running operation. */
enum emu_op_state { OP_RUNNING = 0, OP_SUCCEEDED, OP_FAILED, OP_CANCELED };

enum emu_op_kind {
	OP_PUT = 1,       /* a resource write: provisioningState Updating -> Succeeded */
	OP_DELETE,        /* Deleting -> gone */
	OP_ACTION,        /* a POST action; action names it */
	OP_INTERNAL,      /* no URL: feature registration */
};

struct emu_op;
struct emu_req;
struct emulator;

/*
 * What a kind of operation does when its time comes, given to lro_new by
 * the handler that starts it (the route table names it): lro.c calls
 * these and nothing else.
 */
struct emu_op_class {
	const char *name;
	/* Settles the estate once the operation ends (op->state says how). */
	void (*done)(struct emulator *e, struct emu_op *op);
	/* Answers the result URL of a succeeded operation; NULL: op->result. */
	void (*result)(struct emulator *e, struct emu_req *r, const struct emu_op *op);
	/* While it runs, the target and its children take no other write. */
	bool holds;
};

struct emu_op {
	char id[40];            /* GUID */
	const struct emu_op_class *cls;
	enum emu_op_kind kind;
	/* what it works on, fixed at lro_new: held in text[] */
	const char *action;     /* "commit", "effectiveRouteTable", ...; NULL for PUT/DELETE */
	const char *target;     /* resource id, stored casing */
	const char *subscription;
	const char *region;     /* as in URLs: lowercase, no spaces */
	double start;           /* epoch seconds */
	double end;             /* epoch seconds once done */
	double deadline;        /* monotonic seconds */
	enum emu_op_state state;
	enum emu_op_state forced; /* OP_RUNNING: none; OP_FAILED/OP_CANCELED from a fault */
	char *fail_code;
	char *fail_msg;
	bool lost;              /* a fault: its status and result URLs answer 404 */
	json_t *args;           /* input the completion needs (owned) */
	json_t *result;         /* the final result body (owned), NULL for none */
	int result_status;      /* HTTP status of the final result: 200 or 204 */
	char text[];            /* action, target, subscription and region, one allocation */
};

struct emu_bucket {
	double tokens;
	double last; /* monotonic seconds */
};

struct emu_sub_buckets {
	char *subscription; /* lowercase */
	struct emu_bucket b[3]; /* read, write, delete */
};

struct emu_fault;
struct MHD_Daemon;
struct sqlite3;
struct topology;
struct routes_ctx;

struct emulator {
	pthread_mutex_t lock;
	struct MHD_Daemon *mhd;
	char base_url[128];
	unsigned port;
	bool tls;
	char *tls_cert;  /* PEM text */
	char *tls_key;

	/* options, resolved */
	double scale;
	double latency_ms;   /* emulator_opts.latency_ms: real milliseconds per ARM request */
	bool no_auth;
	unsigned token_lifetime;
	unsigned page_size, max_page_size;
	double bucket_size[3], bucket_refill[3]; /* by enum emu_class - 1 */
	size_t max_body;
	size_t max_log;

	/* the estate */
	json_t *res;        /* lowercase id -> resource (ARM JSON) */
	json_t *rgs;        /* "sub/rg" lowercase -> the group as ARM returns it, plus subscriptionId */
	json_t *doc;        /* the other top-level keys of the topology document */
	json_t *observed;   /* observed.* */
	json_t *subfeatures; /* subscription lowercase -> feature -> state, once one registers there */
	json_t *deploy;     /* AVNM deployment records: nm idl -> [records] (see avnm.c) */
	json_t *empty_status; /* nm idl -> count of listDeploymentStatus calls to answer empty */
	json_t *snapshots;  /* gateway migration: old gateway idl -> pre-prepare copies */
	uint64_t gen;       /* bumps on every change of the estate */

	/* sorted index of e->res keys, rebuilt when the set of keys changes */
	const char **sorted;
	size_t nsorted;
	uint64_t keys_gen;   /* bumps when a key is added or removed */
	uint64_t sorted_gen;
	bool sorted_valid;

	/* the estate as a topology, for the route engine, per generation */
	struct topology *topo;
	struct routes_ctx *rctx;
	uint64_t topo_gen;
	bool topo_valid;

	/* operations: every one still kept (for polling), oldest first, and
	 * the running ones */
	struct emu_op **ops;
	size_t nops, capops;
	json_t *opindex;    /* id -> index into ops */
	struct emu_op **running;
	size_t nrunning, caprunning;

	/* throttling */
	struct emu_sub_buckets *subs;
	size_t nsubs, capsubs;

	/* faults */
	struct emu_fault *faults;
	size_t nfaults;
	json_t *faults_doc;
	uint64_t fault_rng;     /* --seed-rng: each fault rule's generator starts from it */
	uint64_t id_rng;

	/* authentication */
	json_t *clients;    /* array of {tenant, clientId, secret, assertion} or NULL: open */
	json_t *tokens;     /* token -> {exp, tenant, clientId} */
	json_t *directory;  /* {subscriptions, managementGroups} from the clients file (tenant.c) */
	char *mi_client_id; /* managed identity's client id */
	json_t *role_defs;  /* the clients file's custom roleDefinitions (authz.c), or NULL */

	/* request log */
	json_t *log;
	uint64_t seq;

	/* an allocation failed while serving the current request: it is answered 500 */
	bool oom;

	/* persistence */
	struct sqlite3 *db;
	json_t *dirty;      /* lowercase ids changed since the last flush */
	bool dirty_docs;    /* observed, rgs, doc, deploy changed */
};

/* --- util.c: helpers for answering ------------------------------------------ */

/* Sets a JSON answer; steals body (may be NULL for no body). */
void emu_reply_json(struct emu_req *r, int status, json_t *body);

/* Sets a CloudError answer {"error":{"code","message"}}. */
void emu_reply_error(struct emu_req *r, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ARM's 404 NotFound for a path it serves nothing at. */
void emu_reply_no_path(struct emu_req *r);

/* ARM's 405 MethodNotAllowed for a method the path does not serve. */
void emu_reply_bad_method(struct emu_req *r);

/* Answers ARM's 500 for an allocation that failed. */
void emu_reply_oom(struct emu_req *r);

/* Sets an answer without a body. */
void emu_reply_empty(struct emu_req *r, int status);

/* Adds a response header. */
void emu_header(struct emu_req *r, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A query argument (name compared case-insensitively), or NULL. */
const char *emu_query(const struct emu_req *r, const char *name);

/* A request header (lowercase name), or NULL. */
const char *emu_header_in(const struct emu_req *r, const char *lname);

/* Records the operation for the log. */
void emu_op_name(struct emu_req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A new GUID from the seeded generator. */
void emu_guid(struct emulator *e, char out[40]);

/* "2026-01-02T03:04:05.1234567Z" */
void emu_time_iso(double epoch, char out[40]);

/* Nominal seconds to real seconds under the time scale. */
double emu_scaled(const struct emulator *e, double nominal);

/*
 * An ASCII lowercase copy, a copy (NULL copies as ""), printf into a new
 * string: malloc'd, NULL on out of memory.  A caller that cannot go on
 * without one sets e->oom, and the request is answered 500 (emu_reply_oom).
 */
char *emu_lower(const char *s);
char *emu_strdup(const char *s);
char *emu_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* emu_printf, lowercased (store keys and prefixes are lowercase ids). */
char *emu_lower_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The next value of a splitmix64 generator. */
uint64_t emu_rand(uint64_t *state);

/* A path split at '/', empty segments dropped (malloc'd); -1 on out of memory. */
int emu_split(const char *path, char ***out, size_t *n);
void emu_split_free(char **v, size_t n);

/*
 * The segment of an id after key ("subscriptions", "resourceGroups"),
 * malloc'd; NULL when absent or out of memory.
 */
char *arm_id_part(const char *id, const char *key);

/*
 * The parent id of a child resource id (drops the last type/name pair),
 * malloc'd; NULL for none or out of memory.
 */
char *arm_id_parent(const char *id);

/* The last segment of an id (borrowed). */
const char *emu_id_last(const char *id);

/* Sets properties.provisioningState (creating properties when absent). */
void arm_set_state(json_t *obj, const char *state);

/* --- api.c: the accepted api-versions ---------------------------------------- */

enum emu_ns { EMU_NS_NETWORK, EMU_NS_RESOURCES, EMU_NS_FEATURES, EMU_NS_GRAPH, EMU_NS_AUTHORIZATION,
	EMU_NS_LOCKS, EMU_NS_POLICY_INSIGHTS };

/* The request's api-version is one the namespace takes; else answers 400, false. */
bool emu_api_ok(struct emu_req *r, enum emu_ns ns);

/* The same without answering. */
bool emu_api_known(const struct emu_req *r, enum emu_ns ns);

/* emu_api_ok for Microsoft.Resources. */
bool arm_api_resources_ok(struct emu_req *r);

/* --- router.c: the route table ------------------------------------------------ */

#define EMU_MAX_CAPTURES 8

/* What the dispatcher hands a handler. */
struct emu_call {
	const struct emu_route *route;  /* the entry served */
	const struct emu_route *other;  /* an action the path names under another method */
	char **seg;                     /* the path's segments (borrowed) */
	size_t nseg;
	const char *cap[EMU_MAX_CAPTURES]; /* the segments the '*' of the pattern matched */
	size_t ncap;
	const char *sub;                /* under /subscriptions/{s}, else NULL */
	const char *rg;                 /* under .../resourceGroups/{rg}, else NULL */
	bool wrong_method;
	/* ROUTE_ACTION, set by arm_action_prelude (owned by the call) */
	char *id;                       /* the resource acted on, as the path names it */
	char *target;                   /* the same, as stored */
	const char *name;               /* the last segment */
};

typedef void (*emu_handler_fn)(struct emulator *e, struct emu_req *r, const struct emu_call *c);

enum {
	ROUTE_OPEN = 1 << 0,          /* before authentication, throttling and faults */
	ROUTE_CONTROL = ROUTE_OPEN | 1 << 1, /* /__netwave/: also not logged */
	ROUTE_API_RESOURCES = 1 << 2, /* Microsoft.Resources api-version, checked first */
	ROUTE_API_NETWORK = 1 << 3,   /* Microsoft.Network api-version, checked first */
	ROUTE_SUB = 1 << 4,           /* the subscription must exist */
	ROUTE_RG = 1 << 5,            /* the resource group must exist */
	ROUTE_ACTION = 1 << 6,        /* a POST action on an existing Microsoft.Network resource */
};

struct emu_route {
	const char *method;           /* NULL: any (the handler answers the others) */
	const char *path;             /* segments; "*" one, "**" (last) any number */
	const char *action;           /* the ARM action the path ends with, or NULL */
	emu_handler_fn handler;
	const struct emu_op_class *op; /* the completion of the operations it starts */
	unsigned flags;
};

extern const struct emu_route emu_routes[];

/* The entry for a request (NULL: none); fills c, whose seg stays borrowed. */
const struct emu_route *emu_route_find(const char *method, char **seg, size_t nseg,
    struct emu_call *c);

/* Serves a request through the entry emu_route_find chose (404 when none). */
void emu_route_call(struct emulator *e, struct emu_req *r, struct emu_call *c);

/* Runs every kind's settling of a state loaded from the database. */
void emu_routes_settle(struct emulator *e);

/* The message of an operation a restart interrupted. */
#define EMU_INTERRUPTED "the operation was interrupted by a restart of the service; send it again"

/* --- store.c: the estate ----------------------------------------------------- */

/* The resource (top-level entry) with this id, borrowed; NULL if none. */
json_t *emu_store_get(struct emulator *e, const char *id);

/* Stores a resource under its id; steals res. */
void emu_store_put(struct emulator *e, const char *id, json_t *res);

/* Removes a resource; no-op when absent. */
void emu_store_del(struct emulator *e, const char *id);

/* Marks a resource changed in place (after editing the JSON store_get gave). */
void emu_store_touch(struct emulator *e, const char *id);

/* Marks the documents (observed, resource groups, deployments) changed. */
void emu_store_touch_docs(struct emulator *e);

/* Lowercase ids in sorted order (borrowed until the next change). */
void emu_store_sorted(struct emulator *e, const char ***keys, size_t *n);

/* First index in the sorted keys whose key is >= key. */
size_t emu_store_lower_bound(struct emulator *e, const char *key);

/*
 * Finds a resource by id, top-level or embedded (a subnet, a peering, a
 * route, a circuit peering).  *parent receives the top-level resource
 * (borrowed), *child the embedded object or NULL for a top-level one,
 * *arr and *idx the array holding the child.  Returns false when absent.
 */
bool emu_store_find(struct emulator *e, const char *id, json_t **parent, json_t **child,
    json_t **arr, size_t *idx);

/* A new etag W/"guid". */
void emu_store_etag(struct emulator *e, json_t *obj);

/*
 * Loads an estate from a topology document; replaces the current one.  The
 * resources are shared with doc, not copied: the caller must not change
 * them afterwards (load_seed frees its topology at once).
 */
int emu_store_load_doc(struct emulator *e, const json_t *doc, struct nw_err *err);

/* The estate as a netwave.topology/v1 document (new reference); NULL on out of memory. */
json_t *emu_store_doc(struct emulator *e);

/* Resource groups. */
bool emu_store_rg_exists(struct emulator *e, const char *sub, const char *rg);
/* A stored group as "Resource Groups - Get" returns it (new reference). */
json_t *emu_store_rg_wire(const json_t *g);
json_t *emu_store_rg_get(struct emulator *e, const char *sub, const char *rg);
void emu_store_rg_put(struct emulator *e, const char *sub, const char *rg, const char *location);
void emu_store_rg_del(struct emulator *e, const char *sub, const char *rg);

/* Subscriptions known to the estate (topology's list plus those of resources). */
bool emu_store_sub_exists(struct emulator *e, const char *sub);

/* observed.features[name], or NULL. */
const char *emu_store_feature(struct emulator *e, const char *name);
void emu_store_feature_set(struct emulator *e, const char *name, const char *state);

/*
 * A feature's state in one subscription: its own once it was registered or
 * unregistered there, else the estate's (observed.features), else NULL.
 */
const char *emu_store_feature_sub(struct emulator *e, const char *sub, const char *name);

/*
 * Sets a feature's state in one subscription; observed.features then holds,
 * for the estate, the least-registered state among its subscriptions (as
 * discovery, reading each subscription, records it).
 */
void emu_store_feature_sub_set(struct emulator *e, const char *sub, const char *name,
    const char *state);

/* The estate loaded as a topology and a route context for this generation
 * (cached; borrowed).  NULL with err set when the estate does not load. */
int emu_store_routes(struct emulator *e, struct topology **t, struct routes_ctx **rctx,
    struct nw_err *err);

/* Frees everything the store holds. */
void emu_store_free(struct emulator *e);

/* --- arm.c, arm_*.c: Microsoft.Network resources ----------------------------- */

/* GET /subscriptions/{s} */
void arm_subscription_get(struct emulator *e, struct emu_req *r, const struct emu_call *c);

/* /subscriptions/{s}/providers/Microsoft.Network/...: lists of top-level types */
void arm_subscription_scope(struct emulator *e, struct emu_req *r, const struct emu_call *c);

/* .../providers/Microsoft.Network/locations/... that is no operation */
void arm_bad_location(struct emulator *e, struct emu_req *r, const struct emu_call *c);

/* A namespace the emulator does not serve. */
void arm_bad_namespace(struct emulator *e, struct emu_req *r, const struct emu_call *c);

/* /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Network/...: CRUD and lists */
void arm_network(struct emulator *e, struct emu_req *r, const struct emu_call *c);

/*
 * Before a ROUTE_ACTION handler: the body is JSON and the resource exists;
 * sets c->id, c->target and c->name.  -1 when answered.
 */
int arm_action_prelude(struct emulator *e, struct emu_req *r, struct emu_call *c);

/* Resource PUTs and DELETEs behind an operation. */
extern const struct emu_op_class arm_write_op;

/* The throttling class and subscription of an ARM request (before auth). */
enum emu_class arm_classify(const struct emu_req *r, char *sub, size_t subsize);

/*
 * A stored resource as ARM writes it in an answer (new reference): a
 * connection's gateway references get the "properties" object ARM sends
 * and the official SDK requires.
 */
json_t *arm_wire(const json_t *res);

/* Recomputes peering states after VNets or peerings changed. */
void arm_peerings_sync(struct emulator *e, const char *vnet_id);

/* --- lro.c: long-running operations ------------------------------------------ */

/*
 * A new running operation (owned by e), finishing after nominal seconds,
 * completed by cls; NULL on out of memory.
 */
struct emu_op *lro_new(struct emulator *e, const struct emu_op_class *cls, enum emu_op_kind kind,
    const char *action, const char *target, const char *subscription, const char *region,
    double nominal);

/*
 * Sets Azure-AsyncOperation, Location and Retry-After for an operation
 * and the 202/201/200 answer (body stolen, may be NULL).
 */
void arm_reply_lro(struct emulator *e, struct emu_req *r, const struct emu_op *op, int status,
    json_t *body);

/* Completes every operation whose time has come (called before each request). */
void lro_advance(struct emulator *e);

/* Completes every running operation at once (shutdown). */
void lro_finish_all(struct emulator *e);

/* The running operation holding this resource or one of its children, or NULL. */
struct emu_op *lro_busy(struct emulator *e, const char *id);

/* GET .../locations/{l}/operations/{id} and .../operationResults/{id}. */
void lro_route_status(struct emulator *e, struct emu_req *r, const struct emu_call *c);
void lro_route_result(struct emulator *e, struct emu_req *r, const struct emu_call *c);

/* Marks an operation to end Failed or Canceled with this error. */
void lro_force(struct emu_op *op, enum emu_op_state state, const char *code, const char *msg);

void lro_free_all(struct emulator *e);

/* --- deployments.c: ARM deployment history (Microsoft.Resources) ------------- */

/* .../resourcegroups/{rg}/providers/Microsoft.Resources/deployments[/{name}]; nrest counts the segments after the namespace. */
void deployments_handle(struct emulator *e, struct emu_req *r, const char *sub, const char *rg,
    const char *name, size_t nrest);
/* --- control.c: /__netwave/ ------------------------------------------------------ */

void control_health(struct emulator *e, struct emu_req *r, const struct emu_call *c);
void control_state(struct emulator *e, struct emu_req *r, const struct emu_call *c);
void control_requests(struct emulator *e, struct emu_req *r, const struct emu_call *c);
void control_faults(struct emulator *e, struct emu_req *r, const struct emu_call *c);
void control_observed(struct emulator *e, struct emu_req *r, const struct emu_call *c);
void control_resources(struct emulator *e, struct emu_req *r, const struct emu_call *c);
void control_unknown(struct emulator *e, struct emu_req *r, const struct emu_call *c);

/* Writes (NULL: deletes) or merges a resource out of band, as PUT /__netwave/resources. */
int control_drift_put(struct emulator *e, const char *id, const json_t *res, bool patch,
    struct nw_err *err);

/* --- rgroups.c: resource groups (Microsoft.Resources) ------------------------ */

void rgroups_list(struct emulator *e, struct emu_req *r, const struct emu_call *c);
void rgroups_one(struct emulator *e, struct emu_req *r, const struct emu_call *c);
void rgroups_resources(struct emulator *e, struct emu_req *r, const struct emu_call *c);

/* A resource group's delete: its resources and the group go. */
extern const struct emu_op_class rgroups_delete_op;

/* --- avnm.c --------------------------------------------------------------------- */

/* Validates an AVNM resource PUT; 0 or an error already answered (returns -1). */
int avnm_validate_put(struct emulator *e, struct emu_req *r, const char *type, const char *id,
    json_t *body);

/* After an AVNM resource was written (fills read-only fields). */
void avnm_after_put(struct emulator *e, const char *type, json_t *res);

/* Checks an AVNM delete; -1 when answered with an error. */
int avnm_check_delete(struct emulator *e, struct emu_req *r, const char *type, const char *id,
    bool force);

/* POST actions on a network manager or a VNet. */
void avnm_commit(struct emulator *e, struct emu_req *r, const struct emu_call *c);
void avnm_list_deployment_status(struct emulator *e, struct emu_req *r, const struct emu_call *c);
void avnm_list_active(struct emulator *e, struct emu_req *r, const struct emu_call *c);
void avnm_list_effective(struct emulator *e, struct emu_req *r, const struct emu_call *c);

/* A commit: Deploying, then Deployed or Failed. */
extern const struct emu_op_class avnm_commit_op;

/* Cleans deployments when a network manager or configuration goes away. */
void avnm_forget(struct emulator *e, const char *id);

/* Deployments a restart interrupted end Failed. */
void avnm_settle(struct emulator *e);

/* --- gateway.c ------------------------------------------------------------------ */

void gateway_action(struct emulator *e, struct emu_req *r, const struct emu_call *c);
extern const struct emu_op_class gateway_migration_op;

/* Migration steps a restart interrupted end Failed, as a failed step does. */
void gateway_settle(struct emulator *e);

/* --- effective.c ---------------------------------------------------------------- */

void effective_nic_action(struct emulator *e, struct emu_req *r, const struct emu_call *c);
void effective_circuit_action(struct emulator *e, struct emu_req *r, const struct emu_call *c);
extern const struct emu_op_class effective_nic_op;
extern const struct emu_op_class effective_circuit_op;

/* --- features.c ----------------------------------------------------------------- */

/* /subscriptions/{s}/providers/Microsoft.Features/... and provider registration. */
void features_handle(struct emulator *e, struct emu_req *r, const struct emu_call *c);
extern const struct emu_op_class features_op;

/* --- throttle.c ----------------------------------------------------------------- */

/*
 * Takes one token of the request's class for the subscription; sets the
 * remaining-count header.  Returns false after answering 429.
 */
bool throttle_take(struct emulator *e, struct emu_req *r, const char *sub, enum emu_class cls);

void throttle_free(struct emulator *e);

/* --- faults.c ------------------------------------------------------------------- */

/* Parses a netwave.faults/v1 document into e->faults (replacing them). */
int faults_load(struct emulator *e, const json_t *doc, struct nw_err *err);

/* The rules with their counters (new reference). */
json_t *faults_dump(struct emulator *e);

/*
 * What the faults say about this request, decided before it is served:
 * sets r->latency, and returns a struct of actions to take.
 */
enum fault_kind {
	FAULT_NONE = 0,
	FAULT_ERROR,         /* answer status/code instead of serving */
	FAULT_RESET_BEFORE,  /* close without serving */
	FAULT_RESET_AFTER,   /* serve, then close without answering */
	FAULT_LRO_FAILED,    /* serve; the operation it starts ends Failed */
	FAULT_LRO_CANCELED,  /* ... Canceled */
	FAULT_LRO_LOST,      /* serve; the operation's status URLs answer 404 */
	FAULT_EMPTY_STATUS,  /* serve (a commit); listDeploymentStatus answers empty next */
};

struct fault_hit {
	enum fault_kind kind;
	int status;
	char code[96];
	char message[256];
	int retry_after;     /* seconds, -1 none */
	int count;           /* FAULT_EMPTY_STATUS: how many calls */
	char name[64];
};

void faults_match(struct emulator *e, struct emu_req *r, struct fault_hit *hit);

void faults_free(struct emulator *e);

/* Applies a fault hit to an operation a request just started. */
void faults_apply_op(const struct fault_hit *hit, struct emu_op *op);

/* --- auth.c --------------------------------------------------------------------- */

int auth_load_clients(struct emulator *e, const json_t *doc, struct nw_err *err);

/* True when the request may go on; else answered 401. */
bool auth_check(struct emulator *e, struct emu_req *r);

/* POST /{tenant}/oauth2/v2.0/token */
void auth_token(struct emulator *e, struct emu_req *r, const char *tenant);

/* GET /metadata/identity/oauth2/token (IMDS) */
void auth_imds(struct emulator *e, struct emu_req *r);

/* GET /{tenant}/v2.0/.well-known/openid-configuration, which MSAL reads first */
void auth_openid(struct emulator *e, struct emu_req *r, const char *tenant);

/* GET /{tenant}/discovery/v2.0/keys */
void auth_jwks(struct emulator *e, struct emu_req *r);

void auth_free(struct emulator *e);

/* --- authz.c, locks.c, policy.c: the refusals ARM makes before a handler ------- */

/*
 * Checks the clients file's roleAssignments and roleDefinitions (each
 * assignment's scope and role); keeps the custom roles in e->role_defs.
 */
int authz_load_clients(struct emulator *e, const json_t *doc, struct nw_err *err);

/*
 * The checks ARM makes once the caller is authenticated and the route
 * known, in the emulator's order: deny assignments, role assignments
 * (403 AuthorizationFailed), management locks (409 ScopeLocked), policy
 * deny (403 RequestDisallowedByPolicy).  False once answered.
 */
bool authz_admit(struct emulator *e, struct emu_req *r, const struct emu_call *c);

/* The estate's authorization document (x-netwave-authz in e->doc), created when absent; borrowed. */
json_t *authz_doc(struct emulator *e);

/* The scope below {scope}/providers/Microsoft.Authorization/..., lowercase-free copy (malloc'd). */
char *authz_scope_of(const char *path, const char *marker);

/* True when scope is ancestor (or the same) of path, compared by segment without case. */
bool authz_scope_covers(const char *scope, const char *path);

/* GET {scope}/providers/Microsoft.Authorization/permissions */
void authz_permissions(struct emulator *e, struct emu_req *r, const struct emu_call *c);

/* {scope}/providers/Microsoft.Authorization/denyAssignments[/{id}] */
void authz_deny_assignments(struct emulator *e, struct emu_req *r, const struct emu_call *c);

/* Deny assignments refusing action to the caller at path: 403 answered, true. */
bool authz_denied_by_assignment(struct emulator *e, struct emu_req *r, const char *action, const char *path);

/* {scope}/providers/Microsoft.Authorization/locks[/{name}] */
void locks_handle(struct emulator *e, struct emu_req *r, const struct emu_call *c);

/* A lock refusing this write: 409 ScopeLocked answered, false. */
bool locks_admit(struct emulator *e, struct emu_req *r);

/* Checks and stores locks, policy and deny assignments given with the seed or the control endpoint. */
int authz_load_doc(struct emulator *e, const json_t *doc, struct nw_err *err);

/* A policy deny matching this PUT's body: 403 RequestDisallowedByPolicy answered, false. */
bool policy_admit(struct emulator *e, struct emu_req *r, const char *write_action);

/* POST .../providers/Microsoft.PolicyInsights/checkPolicyRestrictions */
void policy_check_restrictions(struct emulator *e, struct emu_req *r, const struct emu_call *c);

/* Validates the policyAssignments list of an authorization document. */
int policy_validate(const json_t *list, struct nw_err *err);

/* GET/PUT/DELETE /__netwave/authz: the locks, policy and deny assignments document */
void control_authz(struct emulator *e, struct emu_req *r, const struct emu_call *c);

/* --- graph.c -------------------------------------------------------------------- */

/* POST /providers/Microsoft.ResourceGraph/resources */
void graph_handle(struct emulator *e, struct emu_req *r, const struct emu_call *c);

/* The other paths under Microsoft.ResourceGraph. */
void graph_unknown(struct emulator *e, struct emu_req *r, const struct emu_call *c);

/* --- persist.c ------------------------------------------------------------------ */

/* Opens (creating) the state database; *loaded true when it held an estate. */
int persist_open(struct emulator *e, const char *path, bool *loaded, struct nw_err *err);

/* Writes what changed since the last flush in one transaction. */
int persist_flush(struct emulator *e, struct nw_err *err);

/* Writes everything (after seeding a new database). */
int persist_save_all(struct emulator *e, struct nw_err *err);

void persist_close(struct emulator *e);

#endif
