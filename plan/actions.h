/*
 * Action kinds: what each operation a plan's step sends to ARM is, as a
 * const table (plan/actions.c), and the pure judges of the state it
 * changes (plan/actions_state.c).  For each POST action netwave sends the
 * table says its ARM action name and the path it acts on, where its
 * state is read, what it promises when done, how a request that may have
 * arrived is settled after a crash or a lost answer, whether it is
 * irreversible, and the RBAC permission it needs; PUT, PATCH and DELETE
 * get their permission from the resource type they write.  The apply
 * engine (state/apply/) does the I/O and asks these functions; it
 * compares no action names itself.  Pure: no network, no database.
 */
#ifndef NETWAVE_PLAN_ACTIONS_H
#define NETWAVE_PLAN_ACTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "plan/err.h"

enum action_id {
	ACTION_NONE = 0,
	ACTION_COMMIT,               /* networkManagers/{nm}/commit */
	ACTION_PREPARE_MIGRATION,    /* virtualNetworkGateways/{gw}/prepareMigration */
	ACTION_EXECUTE_MIGRATION,
	ACTION_COMMIT_MIGRATION,     /* irreversible: deletes the old gateway */
	ACTION_ABORT_MIGRATION,
	ACTION_FEATURE_REGISTER,     /* Microsoft.Features/providers/{ns}/features/{f}/register */
	ACTION_FEATURE_UNREGISTER,
	ACTION_PROVIDER_REGISTER,    /* /subscriptions/{s}/providers/{ns}/register */
	ACTION_PROVIDER_UNREGISTER,
};

/* Where the state a POST action changes is read. */
enum action_read {
	ACTION_READ_RESOURCE = 0,    /* the resource itself (PUT, PATCH, DELETE, GET) */
	ACTION_READ_DEPLOYMENTS,     /* the network manager's listDeploymentStatus */
	ACTION_READ_MIGRATION,       /* the gateway's virtualNetworkGatewayMigrationStatus */
	ACTION_READ_FEATURE,         /* the feature's properties.state */
	ACTION_READ_PROVIDER,        /* the resource provider's registrationState */
};

enum expect_result { EXPECT_MET = 0, EXPECT_NOT_YET, EXPECT_FAILED };

/*
 * The pure judges of one way of reading a state (one per enum
 * action_read).  op is the step's operation ({method, path, body}); image
 * the state read (NULL when absent).
 */
struct action_state {
	/* What the action itself promises; why gets the reason when not met. */
	enum expect_result (*expect)(const json_t *op, const json_t *image, char *why, size_t size);
	/* True when the state shows the action running (so the request was received). */
	bool (*running)(const json_t *op, const json_t *image);
	/* True when current is the state before as far as op is concerned. */
	bool (*restored)(const json_t *op, const json_t *before, const json_t *current);
	/* True when two states are the same (so nothing was received in between). */
	bool (*unchanged)(const json_t *op, const json_t *a, const json_t *b);
};

/* The judges of each way of reading (actions_state.c). */
extern const struct action_state action_state_resource;
extern const struct action_state action_state_deployments;
extern const struct action_state action_state_migration;
extern const struct action_state action_state_feature;
extern const struct action_state action_state_provider;

/* One kind of POST action. */
struct action_kind {
	enum action_id id;
	const char *segment;     /* the ARM action, the path's last segment: "commit", "prepareMigration" */
	const char *within;      /* the path shape it acts on: "/providers/Microsoft.Network/networkManagers/" */
	enum action_read read;   /* where its state is read */
	const struct action_state *state; /* the judges of that state */
	const char *done;        /* the state or phase it ends in: "Deployed", "PrepareSucceeded" */
	const char *running;     /* the state while it runs: "Deploying", "InProgress" */
	bool irreversible;       /* nothing undoes it (commitMigration deletes the old gateway) */
	bool gone_is_done;       /* the resource read is deleted by the action: gone settles it as done */
	bool makes_resource;     /* it creates a second resource beside the one it acts on (prepareMigration) */
	bool pairs_resources;    /* the resource and the one its migration made are recorded together */
	bool undo_resets_status; /* its inverse puts the status back to None, the rest as it was */
	/* The RBAC action it needs; NULL when it is the namespace's own (provider register). */
	const char *permission;
};

/* --- the table (actions.c) --------------------------------------------------------------- */

/*
 * The kind of the operation op ({method, path}): NULL when op is not a
 * POST, or a POST netwave does not send.
 */
const struct action_kind *action_kind_of(const json_t *op);

/* The kind of a POST to path (method ignored), or NULL. */
const struct action_kind *action_kind_find(const char *path);

/* The kind with this id (never NULL for a valid id; NULL for ACTION_NONE). */
const struct action_kind *action_kind_get(enum action_id id);

/* The judges of op's state: its kind's, or the resource's for PUT, PATCH, DELETE and GET. */
const struct action_state *action_state_of(const json_t *op);

/* True when op is a POST action (not idempotent). */
bool action_op_is_post(const json_t *op);

/* The last segment of op's path ("commit", "prepareMigration"), "" without a path. */
const char *action_op_name(const json_t *op);

/* True when op is of kind id. */
bool action_op_is(const json_t *op, enum action_id id);

/*
 * The RBAC permission ARM checks for method on path, written into buf:
 * "Microsoft.Network/virtualNetworks/write",
 * "Microsoft.Network/networkManagers/commit/action".  0, or NW_EINPUT
 * when path names no resource type (then buf is "").
 */
int action_permission(const char *method, const char *path, char *buf, size_t size, struct nw_err *err);

/* --- pure judges (actions_state.c) ------------------------------------------------------ */

/*
 * Whether image (the state after op was carried out) is what the step
 * expects: the step's "expect" list for forward operations, and what the
 * action itself promises (a commit Deployed with its configurations, a
 * migration in its phase, a feature Registered, a resource Succeeded, a
 * deleted resource gone).  why gets the reason when not met.
 */
enum expect_result action_expect(const json_t *op, const json_t *expect, const json_t *image,
    char *why, size_t size);

/* True when the state shows op's action running (so the request was received). */
bool action_in_progress(const json_t *op, const json_t *image);

/*
 * True when current is the state before (the stored before-image) as far
 * as op (a forward operation) is concerned: nothing is left to undo.
 */
bool action_restored(const json_t *op, const json_t *before, const json_t *current);

/* True when two states of what op changes are the same (so nothing was received). */
bool action_unchanged(const json_t *op, const json_t *a, const json_t *b);

/* True when image carries every field body sets (strings without case; arrays element by element). */
bool action_body_applied(const json_t *body, const json_t *image);

enum settle_verdict {
	SETTLE_SEND = 0, /* it provably did not arrive, or a PUT's body is not there: send it */
	SETTLE_FOLLOW,   /* it is running: read again later */
	SETTLE_DONE,     /* it arrived and ended: check the step's expectations */
	SETTLE_FAILED,   /* it arrived and failed (why says how) */
	SETTLE_UNKNOWN,  /* the state cannot tell: stop, do not send */
};

/*
 * Settles a write that may have reached ARM from the state it changes
 * (image, NULL when absent): a PUT or PATCH by its body, a DELETE by the
 * resource being gone, a POST action by its kind, comparing with pre (the
 * image journaled just before it was sent, when pre_known).
 */
enum settle_verdict action_settle(const json_t *op, const json_t *expect, const json_t *pre,
    bool pre_known, const json_t *image, char *why, size_t size);

/*
 * Compares resources as the diff module does (read-only fields ignored):
 * appends {resource, pointer, kind, before, after} entries to changes.
 * expected or actual may be NULL (absent).
 */
int resource_compare(const char *id, const json_t *expected, const json_t *actual, json_t *changes,
    struct nw_err *err);

/*
 * The same over sets: expected and actual map lowercase ids to a resource
 * or null; a parent is judged without its embedded children.
 */
int resource_compare_sets(const json_t *expected, const json_t *actual, json_t *changes, struct nw_err *err);

/* json pointer lookup (RFC 6901) on a value; borrowed, NULL when absent. */
const json_t *json_pointer_get(const json_t *v, const char *pointer);

/* Compares two JSON values, strings without case; true when equal. */
bool json_equal_nocase(const json_t *a, const json_t *b);

#endif
