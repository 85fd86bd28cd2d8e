/*
 * The command-line layer: the table of subcommands (one file each), the
 * context main() builds and passes down, option parsing and output.  No
 * domain logic lives here: commands parse, call the library and print.
 */
#ifndef NETWAVE_CMD_CMD_H
#define NETWAVE_CMD_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "plan/err.h"

enum output_format {
	FORMAT_TEXT = 1 << 0,
	FORMAT_JSON = 1 << 1,
	FORMAT_MARKDOWN = 1 << 2,
	FORMAT_DOT = 1 << 3,      /* Graphviz (path, check) */
	FORMAT_TABLE = 1 << 4,
};

struct cmd_args;
struct store;
struct provider;
struct history;

/*
 * What main() builds for every command: no global mutable state.  The
 * store, provider and history are set up by the dispatcher from the
 * command's setup flags (enum cmd_setup_flags) and closed after it runs;
 * a command borrows them.
 */
struct cmd_ctx {
	FILE *out;        /* results */
	FILE *err;        /* diagnostics */
	bool out_is_tty;
	bool err_is_tty;
	time_t now;       /* SOURCE_DATE_EPOCH when set, else the clock */
	const char *argv0;
	const struct cmd_args *args; /* the command's parsed options (borrowed) */
	const char *db_path;         /* CMD_NEEDS_STORE / CMD_MAKES_STORE: the plan store's path */
	struct store *store;         /* CMD_NEEDS_STORE: open; CMD_MAKES_STORE: once cmd_store_open ran */
	struct provider *provider;   /* CMD_NEEDS_PROVIDER: open (with CMD_SETUP_ON_USE, once cmd_provider_get ran) */
	struct history *history;     /* CMD_NEEDS_HISTORY: once cmd_history_open ran */
	char history_dir[4096];      /* CMD_NEEDS_HISTORY: where the history lives */
	unsigned setup;              /* the running command's enum cmd_setup_flags */
};

/*
 * What a command needs set up before it runs, as git's RUN_SETUP: the
 * dispatcher (cmd/setup.c) opens it, hands it over in the context and
 * closes it afterwards, so commands do not open these themselves.
 */
enum cmd_setup_flags {
	CMD_NEEDS_STORE = 1 << 0,    /* an existing plan store (--db, $NETWAVE_DB, ./netwave.db) */
	CMD_MAKES_STORE = 1 << 1,    /* a plan store the command may create: opened on first use */
	CMD_NEEDS_PROVIDER = 1 << 2, /* a cloud provider from the provider options */
	CMD_NEEDS_HISTORY = 1 << 3,  /* the history repository: its path resolved, opened on use */
	CMD_NO_MAN = 1 << 4,         /* hidden from the man page and completion (none yet) */
	/*
	 * With CMD_NEEDS_STORE, CMD_NEEDS_PROVIDER and CMD_NEEDS_HISTORY: open
	 * each on first use (cmd_store_open, cmd_provider_get, cmd_history_open)
	 * rather than before the command runs, so the command checks its own
	 * options first and opens only what its path needs (apply --dry-run
	 * never opens the provider when the plan carries its topology).
	 */
	CMD_SETUP_ON_USE = 1 << 5,
	CMD_HELP_KINDS = 1 << 6,     /* its help lists the change kinds of the registry */
};

enum cmd_option_flags {
	OPT_REPEAT = 1 << 0, /* may be given more than once */
	OPT_FORMAT = 1 << 1, /* the output format: -o, --output and --format all set it */
};

/*
 * The output format option every command that prints results has: -o and
 * --output as az, kubectl and helm use them, --format kept as an alias.
 * FORMATS is what the help shows ("text|json").  A table may instead keep
 * an entry named "format": args.c gives it -o and --output all the same.
 */
#define CMD_FORMAT_OPTION(FORMATS, HELP) \
	{ "output", 'o', FORMATS, OPT_FORMAT, HELP }

/* The plan store a command reads or writes (cmd_db_path resolves it). */
#define CMD_DB_OPTION \
	{ "db", 0, "FILE", 0, "the plan store (default $NETWAVE_DB, else ./netwave.db)" }

/* The history repository apply and rollback commit each wave to. */
#define CMD_HISTORY_OPTION \
	{ "history", 0, "DIR", 0, "the history repository (default netwave-history beside the store)" }

/* The file a command writes its result to (Terraform's -out). */
#define CMD_OUT_OPTION(HELP) { "out", 0, "FILE", 0, HELP }

struct cmd_option {
	const char *name;  /* long name, without "--" */
	char short_name;   /* 0 when none */
	const char *arg;   /* the argument's name in help; NULL for a flag */
	unsigned flags;
	const char *help;
};

#define CMD_MAX_OPTIONS 32

struct cmd_args {
	const struct cmd_option *opts;
	size_t nopts;
	const char *value[CMD_MAX_OPTIONS];    /* last value given ("" for a flag) */
	unsigned count[CMD_MAX_OPTIONS];       /* how often given */
	const char **values[CMD_MAX_OPTIONS];  /* every value of an OPT_REPEAT option */
	char **pos;                            /* positional arguments (borrowed from argv) */
	size_t npos;
	char notice[256]; /* a deprecation the parser met ("-o FILE"), for main to print */
};

struct cmd_entry;
typedef int (*cmd_exec_fn)(struct cmd_ctx *ctx, const struct cmd_args *args, struct nw_err *err);

struct cmd_entry {
	const char *name;
	const char *usage;       /* what follows "netwave NAME" */
	const char *summary;     /* one line for "netwave help" */
	const char *description; /* paragraphs for "netwave help NAME", may be NULL */
	const struct cmd_option *options; /* ends with an entry whose name is NULL */
	size_t min_args;
	size_t max_args;
	cmd_exec_fn exec;
	unsigned flags; /* enum cmd_setup_flags */
};

/* The table, in cmd/main.c. */
extern const struct cmd_entry *const cmd_table[];

extern const struct cmd_entry cmd_check_entry;
extern const struct cmd_entry cmd_discover_entry;
extern const struct cmd_entry cmd_routes_entry;
extern const struct cmd_entry cmd_path_entry;
extern const struct cmd_entry cmd_synth_entry;
extern const struct cmd_entry cmd_emulator_entry;
extern const struct cmd_entry cmd_target_entry;
extern const struct cmd_entry cmd_plan_entry;
extern const struct cmd_entry cmd_show_entry;
extern const struct cmd_entry cmd_plans_entry;
extern const struct cmd_entry cmd_history_entry;
extern const struct cmd_entry cmd_apply_entry;
extern const struct cmd_entry cmd_rollback_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_demo_entry;
extern const struct cmd_entry cmd_export_entry;
extern const struct cmd_entry cmd_preflight_entry;

struct topology;
struct iac_map;

/*
 * The IaC map of a command (cmd/export.c): every --iac-state file read, and
 * the ARM deployment history of t (may be NULL); *out NULL when there is
 * neither.  NW_EINPUT naming the file and position of a bad state.
 */
int cmd_iac_states(const struct cmd_args *a, const struct topology *t, struct iac_map **out,
    struct nw_err *err);

/*
 * The preflight apply runs before its first write (and on resume before its
 * next): the plan's writes not yet done judged against the estate behind p,
 * kept in the store; current (may be NULL) is --current, for circuits.  A blocker prints the findings on ctx->err and fails
 * with NW_EFAIL before anything is sent (cmd/preflight.c).
 */
int cmd_preflight_guard(struct cmd_ctx *ctx, struct store *st, struct provider *p, const char *plan_arg,
    const char *current, struct nw_err *err);

/* Prints IaC findings ({severity, code, message}) under "infrastructure as code:"; NULL prints nothing. */
void cmd_iac_print(struct cmd_ctx *ctx, const json_t *findings);

/* --- setup.c ------------------------------------------------------------- */

/* Sets up what cmd's flags ask for in ctx; cmd_teardown undoes it (always call it). */
int cmd_setup(struct cmd_ctx *ctx, const struct cmd_entry *cmd, const struct cmd_args *a,
    struct nw_err *err);
void cmd_teardown(struct cmd_ctx *ctx);

/* The plan store's path: --db, else $NETWAVE_DB, else ./netwave.db. */
const char *cmd_db_path(const struct cmd_args *a);

/*
 * CMD_MAKES_STORE: opens (creating) the plan store at ctx->db_path on
 * first use and returns it (borrowed: the dispatcher closes it).  With
 * CMD_NEEDS_STORE | CMD_SETUP_ON_USE, the same for an existing store.
 */
int cmd_store_open(struct cmd_ctx *ctx, struct store **out, struct nw_err *err);

/*
 * CMD_NEEDS_PROVIDER: the provider, opened from the provider options on
 * first use (CMD_SETUP_ON_USE) or by the dispatcher (borrowed).
 */
int cmd_provider_get(struct cmd_ctx *ctx, struct provider **out, struct nw_err *err);

/*
 * CMD_NEEDS_HISTORY: opens the history at ctx->history_dir on first use,
 * creating it when create (borrowed: the dispatcher closes it).
 */
int cmd_history_open(struct cmd_ctx *ctx, bool create, struct history **out, struct nw_err *err);

/* --- args.c -------------------------------------------------------------- */

/*
 * Parses argv (after the command name) for cmd: --name value, --name=value,
 * -x value, flags, "--" to end options.  Unknown options fail with
 * NW_EINPUT naming the nearest known one.  "--help" is handled by main()
 * before this is called.
 */
int cmd_args_parse(struct cmd_args *a, const struct cmd_entry *cmd, int argc, char **argv,
    struct nw_err *err);
void cmd_args_free(struct cmd_args *a);

/* The last value of an option, or NULL when not given. */
const char *cmd_arg(const struct cmd_args *a, const char *name);

/* Every value of a repeatable option (NULL-terminated, possibly empty); n gets the count. */
const char *const *cmd_arg_all(const struct cmd_args *a, const char *name, size_t *n);

/* 0 when the option was given; else NW_EINPUT naming it and cmd's usage. */
int cmd_arg_required(const struct cmd_args *a, const char *name, const struct cmd_entry *cmd,
    struct nw_err *err);

/* True when a flag was given. */
bool cmd_flag(const struct cmd_args *a, const char *name);

/*
 * The output format (-o, --output or --format), checked against the
 * formats the command allows; def when absent.
 */
int cmd_arg_format(const struct cmd_args *a, unsigned allowed, enum output_format def,
    enum output_format *out, struct nw_err *err);

/* An unsigned number option within [min, max]; def when absent. */
int cmd_arg_ulong(const struct cmd_args *a, const char *name, unsigned long min,
    unsigned long max, unsigned long def, unsigned long *out, struct nw_err *err);

/* The nearest of candidates to word by edit distance, or NULL if none is close. */
const char *cmd_nearest(const char *word, const char *const *candidates, size_t n);

/* --- output.c ------------------------------------------------------------ */

/* Prints a JSON value canonically (sorted keys, indented) and a newline. */
int output_json(struct cmd_ctx *ctx, const json_t *v, struct nw_err *err);

/* A warning on the diagnostics stream: "netwave: warning: ...". */
void output_warn(struct cmd_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints usage and options of a command (for --help and help CMD). */
void output_command_help(FILE *f, const struct cmd_entry *cmd);

/* "1,004": a count grouped by thousands, the one way cmd/ prints counts (buf >= 32). */
const char *output_count(char *buf, size_t size, unsigned long long n);

/* "1 VNet" / "2 VNets": a count and a noun, singular or plural (plural NULL: noun + "s"). */
const char *output_noun(char *buf, size_t size, unsigned long long n, const char *noun,
    const char *plural);

/* --- help.c -------------------------------------------------------------- */

/* "netwave help [COMMAND | --man | --completion bash|zsh]". */
int cmd_help_run(struct cmd_ctx *ctx, int argc, char **argv, struct nw_err *err);

/* The general usage (for "netwave", "netwave --help", "netwave help"). */
void cmd_help_usage(FILE *f);

/*
 * The change kinds of the registry (plan/procedures.c), each with what it
 * changes, for a CMD_HELP_KINDS command's help: as text, or as roff for
 * the manual page.
 */
void cmd_help_kinds(FILE *f, bool man);

/* The entry of a command by name, or NULL. */
const struct cmd_entry *cmd_find(const char *name);

/* NW_EINPUT for an unknown command, naming the nearest one (main.c). */
int cmd_unknown_command(const char *name, struct nw_err *err);

struct topology;

/*
 * Loads a topology for a command: errors say "cannot load topology: ..."
 * (the loader names the file, line and column or JSON pointer); the
 * loader's warnings go to the diagnostics stream when print_warnings.
 */
int cmd_topology_load(struct cmd_ctx *ctx, const char *path, bool print_warnings,
    struct topology **out, struct nw_err *err);

/*
 * Loads the topology document a command made or read (doc, stolen; name
 * is its source in messages) into *out and writes it to path.  A document
 * that does not load says "<what> does not load"; when netwave built it
 * itself (ours) that is a bug, NW_EFAIL, not bad input.
 */
int cmd_topology_write(struct topology **out, json_t *doc, const char *name, const char *what, bool ours,
    const char *path, struct nw_err *err);

/*
 * The VNet named by a name or a full id; NW_EINPUT naming the nearest
 * VNet when there is none, or asking for the id when a name is ambiguous.
 */
struct topo_vnet *cmd_find_vnet(const struct topology *t, const char *name_or_id,
    struct nw_err *err);

/* The last segment of an ARM id (the resource's name), for text output. */
const char *cmd_short_name(const char *id);

#endif
