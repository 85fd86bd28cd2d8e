/*
 * netwave history: reads the history repository (state/history.h) that
 * discover, apply and rollback commit to (log, show, diff), and records
 * a topology file into it for users who discover with other tools
 * (record).  The library returns documents; this file prints them.
 */
#include "config.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "plan/jsonutil.h"
#include "plan/topology.h"
#include "state/history.h"

static const struct cmd_option opts_history[] = {
	{ "history", 0, "DIR", 0, "the history repository (default netwave-history beside the "
	  "plan store)" },
	{ "db", 0, "FILE", 0, "the plan store whose history to use (default $NETWAVE_DB, else "
	  "./netwave.db)" },
	CMD_FORMAT_OPTION("text|json", "output format (default text)"),
	{ "max", 0, "N", 0, "log: at most N commits (default all)" },
	{ "resource", 0, "ID", 0, "show: the file of this resource id at REV" },
	{ "message", 'm', "TEXT", 0, "record: the commit message (first line is the subject)" },
	{ "operator", 0, "NAME", 0, "record: the Operator trailer (default the user name)" },
	{ "tag", 0, "NAME", 0, "record: tag the resulting commit" },
	{ NULL, 0, NULL, 0, NULL },
};

static int exec_history(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err);

const struct cmd_entry cmd_history_entry = {
	.name = "history",
	.usage = "log | show REV [--resource ID] | diff REV1 REV2 | record TOPOLOGY [-m TEXT] "
	"[--history DIR] [-o text|json]",
	.summary = "read the git history of the estate, or record a topology into it",
	.description =
	"The history is a git repository with one canonical JSON file per resource under\n"
	"SUBSCRIPTION/RESOURCE-GROUP/NAMESPACE/TYPE/NAME.json, volatile fields removed and\n"
	"secret-looking values redacted.  discover, apply and rollback commit to it; the\n"
	"commits carry Plan-Id, Wave, Steps and Operator trailers, and tags mark applied\n"
	"waves.\n"
	"\n"
	"  log               the commits, newest first, with their trailers and tags\n"
	"  show REV          a commit and the files it changed with their diffs;\n"
	"                    REV:PATH or --resource ID gives a file at REV\n"
	"  diff REV1 REV2    the files that differ, as unified diffs\n"
	"  record TOPOLOGY   snapshot a topology file (from another discovery tool) into\n"
	"                    the history; commits only when something changed\n"
	"\n"
	"REV is anything git understands: a commit id or prefix, HEAD~2, a tag.\n"
	"docs/history.md describes the layout and the message format.",
	.options = opts_history,
	.min_args = 1,
	.max_args = 3,
	.exec = exec_history,
	.flags = CMD_NEEDS_HISTORY,
};

static const char *const subcommands[] = { "log", "show", "diff", "record" };

/* The user who runs the command, for the Operator trailer. */
static const char *
operator_name(const struct cmd_args *a)
{
	const struct passwd *pw;
	const char *name = cmd_arg(a, "operator");

	if (name != NULL && *name != '\0')
		return name;
	pw = getpwuid(geteuid());
	if (pw != NULL && pw->pw_name != NULL && *pw->pw_name != '\0')
		return pw->pw_name;
	name = getenv("USER");
	return name != NULL && *name != '\0' ? name : "unknown";
}

static void
print_trailers(FILE *f, const json_t *trailers, const char *indent, const char *sep)
{
	static const char *const order[] = { "Plan-Id", "Wave", "Steps", "Operator" };
	const char *key;
	json_t *v;
	size_t i;
	bool first = true;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *val = json_str(trailers, order[i]);
		if (val == NULL)
			continue;
		fprintf(f, "%s%s: %s", first ? indent : sep, order[i], val);
		first = false;
	}
	json_object_foreach((json_t *)trailers, key, v) {
		for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
			if (strcmp(order[i], key) == 0)
				break;
		if (i < sizeof(order) / sizeof(order[0]) || !json_is_string(v))
			continue;
		fprintf(f, "%s%s: %s", first ? indent : sep, key, json_string_value(v));
		first = false;
	}
	if (!first)
		fputc('\n', f);
}

static void
print_tags(FILE *f, const json_t *tags)
{
	size_t i;
	json_t *t;

	if (json_array_size(tags) == 0)
		return;
	fputs("  (tag:", f);
	json_array_foreach(tags, i, t)
		fprintf(f, "%s %s", i > 0 ? "," : "", json_string_value(t));
	fputc(')', f);
}

static void
print_log(FILE *f, const json_t *doc)
{
	const json_t *commits = json_object_get(doc, "commits");
	size_t i;
	json_t *c;

	if (json_array_size(commits) == 0) {
		fprintf(f, "no commits in history '%s'\n", json_str(doc, "history"));
		return;
	}
	json_array_foreach(commits, i, c) {
		fprintf(f, "%s  %s  %s", json_str(c, "shortId"), json_str(c, "time"),
		    json_str(c, "subject"));
		print_tags(f, json_object_get(c, "tags"));
		fputc('\n', f);
		print_trailers(f, json_object_get(c, "trailers"), "    ", "  ");
	}
}

static void
print_files(FILE *f, const json_t *files)
{
	size_t i, added = 0, modified = 0, deleted = 0;
	json_t *file;

	json_array_foreach(files, i, file) {
		const char *st = json_str(file, "status");
		if (strcmp(st, "added") == 0)
			added++;
		else if (strcmp(st, "deleted") == 0)
			deleted++;
		else
			modified++;
	}
	fprintf(f, "%zu file%s changed: %zu added, %zu modified, %zu deleted\n",
	    json_array_size(files), json_array_size(files) == 1 ? "" : "s", added, modified, deleted);
	json_array_foreach(files, i, file)
		fprintf(f, "  %-8s  %s\n", json_str(file, "status"), json_str(file, "path"));
	json_array_foreach(files, i, file) {
		fputc('\n', f);
		fputs(json_str(file, "diff"), f);
	}
}

static void
print_show(FILE *f, const json_t *doc)
{
	const char *body;

	if (json_object_get(doc, "content") != NULL) {
		fputs(json_str(doc, "content"), f);
		return;
	}
	fprintf(f, "commit %s", json_str(doc, "commit"));
	print_tags(f, json_object_get(doc, "tags"));
	fprintf(f, "\nAuthor: %s <%s>\nDate:   %s\n\n    %s\n",
	    json_path_str(doc, "author", "name", NULL), json_path_str(doc, "author", "email", NULL),
	    json_str(doc, "time"), json_str(doc, "subject"));
	body = json_str(doc, "body");
	if (body != NULL && *body != '\0') {
		const char *p = body;

		fputc('\n', f);
		while (*p != '\0') {
			const char *nl = strchr(p, '\n');
			size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);

			fprintf(f, len > 0 ? "    %.*s\n" : "%.*s\n", (int)len, p);
			p += len + (nl != NULL);
		}
	}
	if (json_object_size(json_object_get(doc, "trailers")) > 0) {
		fputc('\n', f);
		print_trailers(f, json_object_get(doc, "trailers"), "    ", "\n    ");
	}
	fputc('\n', f);
	print_files(f, json_object_get(doc, "files"));
}

static void
print_diff(FILE *f, const json_t *doc)
{
	size_t i;
	json_t *file;

	json_array_foreach(json_object_get(doc, "files"), i, file)
		fputs(json_str(file, "diff"), f);
}

/* "subject\n\nbody" from --message: the first line is the subject, the rest the body. */
static int
message_split(char **subject, const char **body, const char *msg, struct nw_err *err)
{
	const char *nl = strchr(msg, '\n');

	*body = NULL;
	*subject = strndup(msg, nl != NULL ? (size_t)(nl - msg) : strlen(msg));
	if (*subject == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	if (nl != NULL) {
		while (*nl == '\n' || *nl == '\r')
			nl++;
		if (*nl != '\0')
			*body = nl;
	}
	if (**subject == '\0')
		return err_set(err, NW_EINPUT, "option '--message': the first line is empty");
	return 0;
}

/*
 * "recorded N of M resources" on a terminal, rewritten in place every
 * hundred resources and ended with a newline at the last (or when the
 * record stops early): recording a large estate takes a while.  Nothing
 * when stderr is not a terminal.
 */
struct record_progress {
	FILE *err;
	bool open; /* a line without its newline is on the terminal */
};

static void
record_progress_cb(void *arg, size_t done, size_t total)
{
	struct record_progress *p = arg;

	if (done % 100 != 0 && done != total)
		return;
	fprintf(p->err, "\rrecorded %zu of %zu resources", done, total);
	p->open = done != total;
	if (!p->open)
		fputc('\n', p->err);
	fflush(p->err);
}

static int
exec_record(struct cmd_ctx *ctx, const struct cmd_args *a, struct history *h,
    enum output_format fmt, struct nw_err *err)
{
	struct history_commit_info info = { 0 };
	struct history_change change = { 0 };
	struct record_progress progress = { .err = ctx->err };
	struct history_result res;
	struct topology *t = NULL;
	char *subject = NULL;
	const char *msg = cmd_arg(a, "message");
	json_t *doc = NULL;
	int rc;

	if (a->npos != 2) {
		rc = err_set(err, NW_EINPUT, "usage: netwave history record TOPOLOGY [--message TEXT]");
		goto done;
	}
	if ((rc = cmd_topology_load(ctx, a->pos[1], true, &t, err)) != 0)
		goto done;
	if (msg != NULL) {
		if ((rc = message_split(&subject, &info.body, msg, err)) != 0)
			goto done;
	} else if (asprintf(&subject, "record %s: %zu resource%s",
	    strcmp(a->pos[1], "-") == 0 ? "standard input" : a->pos[1], t->nres,
	    t->nres == 1 ? "" : "s") < 0) {
		subject = NULL;
		rc = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	info.event = HISTORY_EVENT_RECORD;
	info.subject = subject;
	info.operator_name = operator_name(a);
	info.time = ctx->now;
	info.tag = cmd_arg(a, "tag");
	change.mode = HISTORY_REPLACE;
	change.resources = t->resources;
	if (ctx->err_is_tty)
		history_progress_set(h, record_progress_cb, &progress);
	rc = history_record(h, &change, &info, &res, err);
	history_progress_set(h, NULL, NULL);
	if (progress.open)
		fputc('\n', ctx->err);
	if (rc != 0)
		goto done;
	if (fmt == FORMAT_JSON) {
		doc = json_pack("{s:s, s:s, s:s?, s:b, s:I, s:I, s:I}", "format",
		    "netwave.history-record/v1", "history", history_dir(h), "commit",
		    res.commit[0] != '\0' ? res.commit : NULL, "committed", res.committed,
		    "written", (json_int_t)res.written, "deleted", (json_int_t)res.deleted,
		    "redacted", (json_int_t)res.redacted);
		rc = doc != NULL ? output_json(ctx, doc, err) : err_set(err, NW_ENOMEM, "out of memory");
	} else if (res.committed) {
		fprintf(ctx->out, "recorded %s in history '%s': %zu file%s written, %zu deleted\n",
		    res.commit, history_dir(h), res.written, res.written == 1 ? "" : "s",
		    res.deleted);
	} else if (res.commit[0] != '\0') {
		fprintf(ctx->out, "no change: history '%s' stays at %s\n", history_dir(h), res.commit);
	} else {
		fprintf(ctx->out, "no change: history '%s' is empty and the topology has no "
		    "resources\n", history_dir(h));
	}
	if (res.redacted > 0)
		output_warn(ctx, "%zu secret-looking value%s replaced by \"%s\"", res.redacted,
		    res.redacted == 1 ? "" : "s", HISTORY_REDACTED);
done:
	json_decref(doc);
	free(subject);
	topology_free(t);
	return rc;
}

static int
exec_history(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err)
{
	const char *sub = a->pos[0];
	struct history *h = NULL;
	enum output_format fmt;
	unsigned long max;
	json_t *doc = NULL;
	int rc;

	if ((rc = cmd_arg_format(a, FORMAT_TEXT | FORMAT_JSON, FORMAT_TEXT, &fmt, err)) != 0 ||
	    (rc = cmd_arg_ulong(a, "max", 0, 1000000000ul, 0, &max, err)) != 0)
		return rc;
	if (strcmp(sub, "log") == 0 ? a->npos != 1 : strcmp(sub, "show") == 0 ? a->npos != 2 :
	    strcmp(sub, "diff") == 0 ? a->npos != 3 : strcmp(sub, "record") == 0 ? a->npos != 2 :
	    true) {
		const char *near = cmd_nearest(sub, subcommands, 4);
		bool known = near != NULL && strcmp(near, sub) == 0;

		if (known)
			return err_set(err, NW_EINPUT, "wrong number of arguments for 'history %s'; "
			    "usage: netwave history %s", sub, cmd_history_entry.usage);
		if (near != NULL)
			return err_set(err, NW_EINPUT, "unknown history command '%s'; did you mean "
			    "'%s'?", sub, near);
		return err_set(err, NW_EINPUT, "unknown history command '%s'; use log, show, diff "
		    "or record", sub);
	}
	if ((rc = cmd_history_open(ctx, strcmp(sub, "record") == 0, &h, err)) != 0)
		goto done;
	if (strcmp(sub, "record") == 0) {
		rc = exec_record(ctx, a, h, fmt, err);
		goto done;
	}
	if (strcmp(sub, "log") == 0) {
		rc = history_log(h, max, &doc, err);
	} else if (strcmp(sub, "show") == 0) {
		const char *resource = cmd_arg(a, "resource");
		char *path = NULL;

		if (resource != NULL && (rc = history_path_for_id(&path, resource, err)) != 0) {
			err_prefix(err, "option '--resource'");
			goto done;
		}
		rc = history_show(h, a->pos[1], path, &doc, err);
		free(path);
	} else {
		rc = history_diff(h, a->pos[1], a->pos[2], &doc, err);
	}
	if (rc != 0)
		goto done;
	if (fmt == FORMAT_JSON)
		rc = output_json(ctx, doc, err);
	else if (strcmp(sub, "log") == 0)
		print_log(ctx->out, doc);
	else if (strcmp(sub, "show") == 0)
		print_show(ctx->out, doc);
	else
		print_diff(ctx->out, doc);
done:
	json_decref(doc);
	return rc;
}
