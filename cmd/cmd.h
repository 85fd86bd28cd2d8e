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
};

/* What main() builds for every command: no global mutable state. */
struct cmd_ctx {
	FILE *out;        /* results */
	FILE *err;        /* diagnostics */
	bool out_is_tty;
	bool err_is_tty;
	time_t now;       /* SOURCE_DATE_EPOCH when set, else the clock */
	const char *argv0;
};

enum cmd_option_flags {
	OPT_REPEAT = 1 << 0, /* may be given more than once */
};

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

struct topology;
struct iac_map;

/*
 * The IaC map of a command (cmd/export.c): every --iac-state file read, and
 * the ARM deployment history of t (may be NULL); *out NULL when there is
 * neither.  NW_EINPUT naming the file and position of a bad state.
 */
int cmd_iac_states(const struct cmd_args *a, const struct topology *t, struct iac_map **out,
    struct nw_err *err);

/* Prints IaC findings ({severity, code, message}) under "infrastructure as code:"; NULL prints nothing. */
void cmd_iac_print(struct cmd_ctx *ctx, const json_t *findings);

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

/* True when a flag was given. */
bool cmd_flag(const struct cmd_args *a, const char *name);

/* --format, checked against the formats the command allows; def when absent. */
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

struct topology;

/*
 * Loads a topology for a command: errors say "cannot load topology: ..."
 * (the loader names the file, line and column or JSON pointer); the
 * loader's warnings go to the diagnostics stream when print_warnings.
 */
int cmd_topology_load(struct cmd_ctx *ctx, const char *path, bool print_warnings,
    struct topology **out, struct nw_err *err);

/*
 * The VNet named by a name or a full id; NW_EINPUT naming the nearest
 * VNet when there is none, or asking for the id when a name is ambiguous.
 */
struct topo_vnet *cmd_find_vnet(const struct topology *t, const char *name_or_id,
    struct nw_err *err);

/* The last segment of an ARM id (the resource's name), for text output. */
const char *cmd_short_name(const char *id);

#endif
