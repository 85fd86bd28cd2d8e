/*
 * The intent: what the user wants, in a few lines (netwave.intent/v1,
 * docs/intent.md), and its expansion into a full target topology, the
 * input of the diff and the planner.  `netwave target` is the command;
 * `netwave plan --intent` does the same before planning.
 *
 * The loader is as strict as the topology loader: unknown keys, unknown
 * change kinds, wrong types and selectors that match nothing are NW_EINPUT
 * naming the file and the JSON pointer; syntax errors name the line and
 * column.  Selectors and the rollout section are exported because the
 * planner reads them again from a target topology's x-netwave-rollout.
 */
#ifndef NETWAVE_PLAN_INTENT_H
#define NETWAVE_PLAN_INTENT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "plan/err.h"
#include "plan/topology.h"

struct routes_ctx; /* plan/routes.h */

#define INTENT_FORMAT "netwave.intent/v1"

/* Largest intent file accepted. */
#define INTENT_MAX_BYTES ((size_t)16 << 20)

/* Default floors of summarized prefixes (intent "minPrefixLength"). */
#define INTENT_MIN_PREFIX_LEN4 12
#define INTENT_MIN_PREFIX_LEN6 40

struct intent_tag {
	const char *key;   /* borrowed from the JSON */
	const char *value; /* "*" means: the tag is present, any value */
};

/*
 * A selector: every key given must match (AND); within a list, any entry
 * (OR).  Tag keys and values are compared exactly (ARM keeps tag case);
 * names are fnmatch globs compared case-insensitively; ids and resource
 * groups case-insensitively; locations case-insensitively, ignoring
 * spaces ("East US" is "eastus").  Strings are borrowed from the JSON.
 */
enum intent_criterion {
	INTENT_NAMES,           /* "names" */
	INTENT_IDS,             /* "ids" */
	INTENT_RESOURCE_GROUPS, /* "resourceGroups" */
	INTENT_LOCATIONS,       /* "locations" */
	INTENT_CRITERIA         /* how many */
};

/* One criterion's strings: v[0..n-1], the array owned, the strings borrowed. */
struct intent_strlist {
	const char **v;
	size_t n;
};

struct intent_selector {
	bool all;
	struct intent_tag *tags;
	size_t ntags;
	struct intent_strlist lists[INTENT_CRITERIA]; /* an empty list is not given */
	char *pointer; /* owned: where it sits in its document, for messages */
};

/*
 * Parses a selector object at pointer inside a document named source
 * (both only for messages).  NW_EINPUT for an unknown key, a wrong type,
 * an empty selector or list, or "all" that is not true.  Borrows strings
 * from v, which must outlive the selector.
 */
int intent_selector_parse(struct intent_selector *out, const json_t *v, const char *source,
    const char *pointer, struct nw_err *err);

void intent_selector_free(struct intent_selector *s);

/* True when the resource matches every key of the selector. */
bool intent_selector_match(const struct intent_selector *s, const struct topo_resource *r);

/*
 * One change of the intent.  Its kind owns what it parsed: the intent
 * gives state a zeroed block (struct procedure_intent in plan/procedure.h),
 * the kind's parse hook fills it, its clear hook frees what it holds, and
 * only the kind's own files know its shape.
 */
struct intent_change {
	const char *kind; /* the change kind's name (its procedure's), static */
	json_t *json;     /* the change object (borrowed from the intent) */
	char *pointer;    /* owned: "/changes/<i>" */
	void *state;      /* the kind's parsed change, owned by the kind */
};

/* The rollout section (also carried as a target topology's x-netwave-rollout). */
struct intent_wave {
	const char *name;                /* borrowed */
	bool has_members;
	struct intent_selector members;  /* valid when has_members */
	size_t max;                      /* 0: no cap */
	char *pointer;                   /* owned: "/rollout/waves/<i>" */
};

struct intent_rollout {
	struct intent_wave *waves;
	size_t nwaves;
	long soak_before_decommission;   /* seconds; default 14 days */
	long soak_between_waves;         /* seconds; default 0 */
	bool has_maintenance_window;
	const char *window_start;        /* "YYYY-MM-DDTHH:MM:SSZ", borrowed */
	long window_seconds;             /* the window's duration */
	bool has_write_budget;
	double writes_per_second;        /* writeBudget.writesPerSecond */
	unsigned long burst;             /* writeBudget.burst */
	unsigned long sample_size;       /* gates' pair sample in later waves; default 20 */
};

#define INTENT_DEFAULT_SOAK_DECOMMISSION (14L * 86400)
#define INTENT_DEFAULT_SAMPLE_SIZE 20

/*
 * Parses a rollout object (NULL gives the defaults) found at pointer in
 * the document named source.  Durations are strings of numbers with
 * units s, m, h, d, w ("14d", "1h30m", "0s").  Wave names must be unique,
 * at most one wave may have no selector and it must be the last, max is a
 * positive integer.  Borrows strings from v.
 */
int intent_rollout_parse(struct intent_rollout *out, const json_t *v, const char *source,
    const char *pointer, struct nw_err *err);

void intent_rollout_free(struct intent_rollout *r);

/* Parses a duration string as above into seconds; -1 when it is not one. */
long intent_duration_parse(const char *s);

struct intent {
	char *source;                  /* file name for messages */
	json_t *root;                  /* owned */
	struct intent_change *changes;
	size_t nchanges;
	json_t *rollout;               /* borrowed from root; NULL when absent */
	struct intent_rollout parsed_rollout;
};

/*
 * Loads an intent from a file ("-" reads standard input).  NW_EINPUT with
 * "<file>: line L, column C: ..." or "<file>: <pointer>: ..." for bad
 * input, NW_EIO when the file cannot be read.  *out is a new intent.
 */
int intent_load_file(struct intent **out, const char *path, struct nw_err *err);

/* The same from a buffer; name is used in messages. */
int intent_load_buffer(struct intent **out, const char *buf, size_t len, const char *name,
    struct nw_err *err);

void intent_free(struct intent *in);

/*
 * Expands the intent against the current topology into the target: a new
 * netwave.topology/v1 document (*out, new reference) holding the current
 * resources and observations with the intended end state applied (after
 * every wave, including the decommission phase), plus x-netwave-rollout
 * (the intent's rollout, verbatim, when given) and x-netwave-changes (the
 * intent's changes, verbatim).  Ids keep the current topology's casing.
 * The result is deterministic: the same inputs give the same document.
 *
 * NW_EINPUT naming the intent's file and pointer when a selector matches
 * nothing ("matches no VNet", "matches no gateway", ...) or a summary
 * cannot avoid an on-premises prefix or another hub's space (naming
 * both).  Does not check the planner's blocking limits (over 5,000
 * members, ...): the planner reports those.
 */
int intent_target(json_t **out, const struct intent *in, const struct topology *cur,
    struct nw_err *err);

/*
 * intent_target, and in *ctx (caller's, NULL when the expansion needed
 * none or failed) the route engine's context on cur the expansion built,
 * for the planner to use rather than build the same one again
 * (planner_opts.cur_ctx).
 */
int intent_target_ctx(json_t **out, const struct intent *in, const struct topology *cur,
    struct routes_ctx **ctx, struct nw_err *err);

/*
 * The network group an avnm-mesh change meshes, or NULL when c is a change
 * of another kind.
 */
const char *intent_mesh_group(const struct intent_change *c);

/*
 * The VNets an avnm-mesh change puts into the mesh, as indexes into
 * cur->vnets in topology order: those its selector matches, minus hubs
 * and the spokes that stay inspected.  inspected (may be NULL) receives
 * the matched spokes left out because their traffic to another member
 * goes through an appliance today.  Both arrays are malloc'd.
 */
int intent_mesh_members(size_t **members, size_t *nmembers, size_t **inspected,
    size_t *ninspected, const struct intent_change *c, const struct topology *cur,
    struct nw_err *err);

#endif
