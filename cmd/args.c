/*
 * Option parsing for every subcommand, from each command's option table,
 * with "did you mean" for anything unknown.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "plan/jsonutil.h"

static size_t
levenshtein(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[64];

	if (lb >= sizeof(row) / sizeof(row[0]) || la >= 64)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t prev = row[0], tmp;
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = prev + cost;
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

const char *
cmd_nearest(const char *word, const char *const *candidates, size_t n)
{
	const char *best = NULL;
	size_t bestd = SIZE_MAX, i, limit;

	for (i = 0; i < n; i++) {
		size_t d = levenshtein(word, candidates[i]);
		/* a prefix of a candidate ("--form") is a near match too */
		if (strlen(word) >= 2 && strncmp(candidates[i], word, strlen(word)) == 0)
			d = 1;
		if (d < bestd) {
			bestd = d;
			best = candidates[i];
		}
	}
	limit = strlen(word) / 2 + 1;
	if (limit > 3)
		limit = 3;
	return bestd <= limit ? best : NULL;
}

/* The output format option: flagged OPT_FORMAT, or an entry named "format". */
static int
format_index(const struct cmd_args *a)
{
	size_t i;

	for (i = 0; i < a->nopts; i++)
		if ((a->opts[i].flags & OPT_FORMAT) || strcmp(a->opts[i].name, "format") == 0)
			return (int)i;
	return -1;
}

/* --output and --format name the format option whichever of them the table uses. */
static int
find_long(const struct cmd_args *a, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < a->nopts; i++)
		if (strlen(a->opts[i].name) == len && strncmp(a->opts[i].name, name, len) == 0)
			return (int)i;
	if ((len == 6 && strncmp(name, "output", 6) == 0) || (len == 6 && strncmp(name, "format", 6) == 0))
		return format_index(a);
	return -1;
}

/* -o is the output format, as for az, kubectl and helm, unless the table says otherwise. */
static int
find_short(const struct cmd_args *a, char c)
{
	size_t i;

	for (i = 0; i < a->nopts; i++)
		if (a->opts[i].short_name == c)
			return (int)i;
	if (c == 'o')
		return format_index(a);
	return -1;
}

static int
unknown_option(const struct cmd_args *a, const struct cmd_entry *cmd, const char *given,
    struct nw_err *err)
{
	const char *names[CMD_MAX_OPTIONS + 2];
	char word[128];
	const char *near;
	size_t i, n = 0;

	snprintf(word, sizeof(word), "%s", given + (given[1] == '-' ? 2 : 1));
	word[strcspn(word, "=")] = '\0';
	for (i = 0; i < a->nopts; i++)
		names[n++] = a->opts[i].name;
	names[n++] = "help";
	if (format_index(a) >= 0)
		names[n++] = "output";
	near = cmd_nearest(word, names, n);
	if (near != NULL)
		return err_set(err, NW_EINPUT, "unknown option '%s' for '%s'; did you mean '--%s'?",
		    given, cmd->name, near);
	return err_set(err, NW_EINPUT, "unknown option '%s' for '%s'; see 'netwave %s --help'",
	    given, cmd->name, cmd->name);
}

/* A word any command's format option knows, whether or not this one allows it. */
static bool
is_format_name(const char *v)
{
	static const char *const names[] = { "text", "json", "markdown", "table", NULL };

	return str_in(v, names, strcmp);
}

/*
 * "-o FILE" used to name the file discover, synth, target and plan write.
 * A value that looks like a path ("-", or with a "/" or a ".") and is no
 * format goes on meaning that, with a notice, where the command has
 * --out; "-o json" is the format, never a file named json, and "-o yaml"
 * an unknown format.
 */
static int
legacy_out(struct cmd_args *a, int idx, const char *value)
{
	int out;

	if (idx != format_index(a) || is_format_name(value) ||
	    (strcmp(value, "-") != 0 && strpbrk(value, "/.") == NULL) ||
	    (out = find_long(a, "out", 3)) < 0)
		return idx;
	snprintf(a->notice, sizeof(a->notice), "'-o %s' is deprecated: -o and --output now choose the "
	    "output format; use '--out %s'", value, value);
	return out;
}

static int
store(struct cmd_args *a, int idx, const char *value, struct nw_err *err)
{
	const struct cmd_option *o;

	idx = legacy_out(a, idx, value);
	o = &a->opts[idx];

	if (a->count[idx] > 0 && !(o->flags & OPT_REPEAT) && o->arg != NULL &&
	    strcmp(a->value[idx], value) != 0)
		return err_set(err, NW_EINPUT, "option '--%s' given twice ('%s' and '%s')",
		    o->name, a->value[idx], value);
	if (o->flags & OPT_REPEAT) {
		const char **nv = realloc(a->values[idx], (a->count[idx] + 2) * sizeof(*nv));
		if (nv == NULL)
			return err_set(err, NW_ENOMEM, "out of memory");
		nv[a->count[idx]] = value;
		nv[a->count[idx] + 1] = NULL;
		a->values[idx] = nv;
	}
	a->value[idx] = value;
	a->count[idx]++;
	return 0;
}

int
cmd_args_parse(struct cmd_args *a, const struct cmd_entry *cmd, int argc, char **argv,
    struct nw_err *err)
{
	int i, rc;
	bool options_done = false;

	memset(a, 0, sizeof(*a));
	a->opts = cmd->options;
	while (cmd->options != NULL && cmd->options[a->nopts].name != NULL)
		a->nopts++;
	a->pos = calloc((size_t)argc + 1, sizeof(*a->pos));
	if (a->pos == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");

	for (i = 0; i < argc; i++) {
		const char *s = argv[i];
		int idx;

		if (options_done || s[0] != '-' || strcmp(s, "-") == 0) {
			a->pos[a->npos++] = argv[i];
			continue;
		}
		if (strcmp(s, "--") == 0) {
			options_done = true;
			continue;
		}
		if (s[1] == '-') {
			const char *name = s + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);

			idx = find_long(a, name, len);
			if (idx < 0)
				return unknown_option(a, cmd, s, err);
			if (a->opts[idx].arg == NULL) {
				if (eq != NULL)
					return err_set(err, NW_EINPUT, "option '--%s' takes no value",
					    a->opts[idx].name);
				rc = store(a, idx, "", err);
			} else if (eq != NULL) {
				rc = store(a, idx, eq + 1, err);
			} else {
				if (i + 1 >= argc)
					return err_set(err, NW_EINPUT, "option '--%s' needs a value (%s)",
					    a->opts[idx].name, a->opts[idx].arg);
				rc = store(a, idx, argv[++i], err);
			}
		} else {
			if (s[2] != '\0' && find_short(a, s[1]) >= 0 && a->opts[find_short(a, s[1])].arg) {
				idx = find_short(a, s[1]);
				rc = store(a, idx, s + 2, err);
			} else {
				if (s[2] != '\0')
					return unknown_option(a, cmd, s, err);
				idx = find_short(a, s[1]);
				if (idx < 0)
					return unknown_option(a, cmd, s, err);
				if (a->opts[idx].arg == NULL) {
					rc = store(a, idx, "", err);
				} else {
					if (i + 1 >= argc)
						return err_set(err, NW_EINPUT, "option '-%c' needs a value (%s)",
						    s[1], a->opts[idx].arg);
					rc = store(a, idx, argv[++i], err);
				}
			}
		}
		if (rc != 0)
			return rc;
	}
	if (a->npos < cmd->min_args)
		return err_set(err, NW_EINPUT, "'%s' needs %s; usage: netwave %s %s", cmd->name,
		    cmd->min_args == 1 ? "an argument" : "more arguments", cmd->name, cmd->usage);
	if (a->npos > cmd->max_args)
		return err_set(err, NW_EINPUT, "unexpected argument '%s'; usage: netwave %s %s",
		    a->pos[cmd->max_args], cmd->name, cmd->usage);
	return 0;
}

void
cmd_args_free(struct cmd_args *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < CMD_MAX_OPTIONS; i++)
		free(a->values[i]);
	free(a->pos);
	memset(a, 0, sizeof(*a));
}

static int
index_of(const struct cmd_args *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->nopts; i++)
		if (strcmp(a->opts[i].name, name) == 0)
			return (int)i;
	return -1;
}

const char *
cmd_arg(const struct cmd_args *a, const char *name)
{
	int i = index_of(a, name);

	return i >= 0 && a->count[i] > 0 ? a->value[i] : NULL;
}

const char *const *
cmd_arg_all(const struct cmd_args *a, const char *name, size_t *n)
{
	static const char *const none[] = { NULL };
	int i = index_of(a, name);

	if (i < 0 || a->count[i] == 0 || a->values[i] == NULL) {
		if (n != NULL)
			*n = 0;
		return none;
	}
	if (n != NULL)
		*n = a->count[i];
	return a->values[i];
}

int
cmd_arg_required(const struct cmd_args *a, const char *name, const struct cmd_entry *cmd,
    struct nw_err *err)
{
	if (cmd_arg(a, name) == NULL)
		return err_set(err, NW_EINPUT, "option '--%s' is required; usage: netwave %s %s", name,
		    cmd->name, cmd->usage);
	return 0;
}

bool
cmd_flag(const struct cmd_args *a, const char *name)
{
	int i = index_of(a, name);

	return i >= 0 && a->count[i] > 0;
}

int
cmd_arg_format(const struct cmd_args *a, unsigned allowed, enum output_format def,
    enum output_format *out, struct nw_err *err)
{
	static const struct {
		const char *name;
		enum output_format f;
	} formats[] = {
		{ "text", FORMAT_TEXT }, { "json", FORMAT_JSON }, { "markdown", FORMAT_MARKDOWN },
		{ "dot", FORMAT_DOT }, { "table", FORMAT_TABLE },
	};
	int idx = format_index(a);
	const char *v = idx >= 0 && a->count[idx] > 0 ? a->value[idx] : NULL;
	char list[64] = "";
	size_t i;

	*out = def;
	if (v == NULL)
		return 0;
	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (!(allowed & formats[i].f))
			continue;
		if (strcmp(v, formats[i].name) == 0) {
			*out = formats[i].f;
			return 0;
		}
		if (list[0] != '\0')
			strcat(list, "|");
		strcat(list, formats[i].name);
	}
	return err_set(err, NW_EINPUT, "unknown format '%s' (expected %s)", v, list);
}

int
cmd_arg_ulong(const struct cmd_args *a, const char *name, unsigned long min,
    unsigned long max, unsigned long def, unsigned long *out, struct nw_err *err)
{
	const char *v = cmd_arg(a, name);
	char *end;
	unsigned long n;

	*out = def;
	if (v == NULL)
		return 0;
	errno = 0;
	if (v[0] < '0' || v[0] > '9')
		return err_set(err, NW_EINPUT, "option '--%s': '%s' is not a whole number", name, v);
	n = strtoul(v, &end, 10);
	if (*end != '\0' || errno != 0)
		return err_set(err, NW_EINPUT, "option '--%s': '%s' is not a whole number", name, v);
	if (n < min || n > max)
		return err_set(err, NW_EINPUT, "option '--%s': %lu is out of range (%lu to %lu)",
		    name, n, min, max);
	*out = n;
	return 0;
}
