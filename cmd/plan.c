/*
 * netwave plan --current C (--target T | --intent I): computes the plan
 * (plan/planner.h) that takes the estate from C to T (or to what the
 * intent expands to), stores it in the plan store and prints the review
 * report.  A plan with blockers is printed as its report (blockers included) and
 * its blockers on stderr, exits 1 and is not stored.  The same inputs give
 * the same plan: one already stored is shown again, with its creation time.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "plan/iac.h"
#include "plan/iac_findings.h"
#include "plan/intent.h"
#include "plan/jsonutil.h"
#include "plan/memtune.h"
#include "plan/plan_json.h"
#include "plan/planner.h"
#include "plan/report.h"
#include "plan/routes.h"
#include "plan/topology.h"
#include "state/store.h"

static const struct cmd_option plan_options[] = {
	{ "current", 0, "FILE", 0, "the estate as it is (netwave.topology/v1)" },
	{ "target", 0, "FILE", 0, "the estate as it should be (from netwave target or by hand)" },
	{ "intent", 0, "FILE", 0, "an intent (netwave.intent/v1), expanded as netwave target does" },
	CMD_DB_OPTION,
	CMD_FORMAT_OPTION("text|markdown|json", "report format (default text)"),
	CMD_OUT_OPTION("write the report to FILE (atomically) instead of stdout"),
	{ "now", 0, "RFC3339", 0, "the plan's creation time (default $SOURCE_DATE_EPOCH, else the clock)" },
	{ "iac-state", 0, "FILE", OPT_REPEAT, "Terraform state (docs/iac.md): findings for what the code manages" },
	{ NULL, 0, NULL, 0, NULL },
};

static int plan_exec(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err);

const struct cmd_entry cmd_plan_entry = {
	.name = "plan",
	.usage = "--current C (--target T | --intent I) [--db FILE] [-o text|markdown|json] "
	    "[--out REPORT] [--now RFC3339] [--iac-state FILE]...",
	.summary = "plan the change from the current to the target topology, store it, print the report",
	.description =
	    "Diffs the current and target topologies, turns every difference into the steps of a\n"
	    "change kind (listed below) with their inverses, assigns VNets to the rollout's waves,\n"
	    "adds the gates, rehearses each wave on the route engine and estimates time under the\n"
	    "ARM write budget.  The plan is stored in the plan store and its id printed on stderr;\n"
	    "the report goes to stdout or to --out.  -o markdown is the change-review document;\n"
	    "json is netwave.plan/v1 (docs/plan.md).\n"
	    "A difference no procedure makes, a platform limit exceeded, or a wave that would cut\n"
	    "spokes off each other blocks the plan: its report (blockers included) is written, the\n"
	    "blockers go to stderr, nothing is stored and the exit code is 1.  Planning again from\n"
	    "the same inputs gives the same plan back (exit 0): the one already stored is shown.\n"
	    "Bad input exits 2.",
	.options = plan_options,
	.min_args = 0,
	.max_args = 0,
	.exec = plan_exec,
	.flags = CMD_MAKES_STORE | CMD_HELP_KINDS,
};

/* --now: an RFC 3339 time. */
static int
parse_rfc3339(const char *s, time_t *out, struct nw_err *err)
{
	if (time_parse_rfc3339(s, out) != 0)
		return err_set(err, NW_EINPUT, "--now: '%s' is not an RFC 3339 time such as "
		    "2026-11-21T20:00:00Z", s);
	return 0;
}

/*
 * The expanded target repeats most of the current topology: let it hold
 * the current's own objects for the resources the intent leaves alone, so
 * a large estate is held in memory once, not twice.
 */
static void
share_unchanged(json_t *doc, const struct topology *cur)
{
	json_t *resources = json_object_get(doc, "resources"), *r;
	size_t i;

	json_array_foreach(resources, i, r) {
		const char *id;
		struct topo_resource *cr;

		/* the expansion keeps the current's order and shares what it leaves alone */
		if (i < cur->nres && cur->res[i].json == r)
			continue;
		id = json_str(r, "id");
		cr = id != NULL ? topology_find(cur, id) : NULL;
		if (cr != NULL && cr->json != r && json_equal(cr->json, r))
			json_array_set(resources, i, cr->json);
	}
}

/*
 * The report is rendered before the plan is stored and put in place once
 * it is: a report for a file is written as it is rendered into a
 * temporary file beside it (the name file_write_atomic uses), renamed into
 * place once the plan is stored and removed if it is not; a report for
 * standard output is kept in memory and printed once the plan is stored.
 * So nothing is written unless the plan is stored, and a report that
 * cannot be written keeps the plan out of the store.  The JSON report is
 * the text report_render gives (the plan's canonical JSON) from the
 * planner's faster dumper.
 */
struct report_job {
	const json_t *plan;
	const struct plan_text *doc; /* the plan's canonical text: the JSON report */
	enum report_format rf;
	const char *path;   /* NULL: standard output, or device */
	const char *device; /* an existing non-regular file (/dev/null): written in place */
	char *tmp;          /* the temporary file, while it exists */
	char *text;         /* the report, for standard output */
	size_t len;
	int fd, write_errno;
	int rc;
	struct nw_err err;
};

static int
report_write_cb(const char *buf, size_t size, void *data)
{
	struct report_job *j = data;

	if (file_write_all(j->fd, buf, size) != 0) {
		j->write_errno = errno;
		return -1;
	}
	return 0;
}

static int
report_to_file(struct report_job *j)
{
	size_t n = strlen(j->path) + 32;
	int rc;

	if ((j->tmp = malloc(n)) == NULL)
		return err_set(&j->err, NW_ENOMEM, "out of memory");
	snprintf(j->tmp, n, "%s.tmp.%ld", j->path, (long)getpid());
	j->fd = open(j->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (j->fd < 0) {
		rc = err_set(&j->err, NW_EIO, "cannot write '%s': %s", j->path, strerror(errno));
		free(j->tmp);
		j->tmp = NULL;
		return rc;
	}
	if (j->rf == REPORT_JSON) {
		if (report_write_cb(j->doc->s, j->doc->len, j) != 0)
			return err_set(&j->err, NW_EIO, "cannot write '%s': %s", j->path,
			    strerror(j->write_errno));
	} else {
		if ((rc = report_render(&j->text, j->plan, j->rf, NULL, &j->err)) != 0)
			return rc;
		if (report_write_cb(j->text, strlen(j->text), j) != 0)
			return err_set(&j->err, NW_EIO, "cannot write '%s': %s", j->path,
			    strerror(j->write_errno));
	}
	rc = fsync(j->fd);
	if (close(j->fd) != 0)
		rc = -1;
	j->fd = -1;
	if (rc != 0)
		return err_set(&j->err, NW_EIO, "cannot write '%s': %s", j->path, strerror(errno));
	return 0;
}

static void
report_run(struct report_job *j)
{
	if (j->path != NULL) {
		j->rc = report_to_file(j);
	} else if (j->rf == REPORT_JSON) {
		j->rc = 0; /* the plan's text, written with its id */
	} else {
		j->rc = report_render(&j->text, j->plan, j->rf, NULL, &j->err);
		if (j->rc == 0)
			j->len = strlen(j->text);
	}
}

/* Puts a finished report in place: the rename of its file, or the text on out. */
static int
report_publish(struct report_job *j, FILE *out, struct nw_err *err)
{
	const char *text = j->rf == REPORT_JSON ? j->doc->s : j->text;
	size_t len = j->rf == REPORT_JSON ? j->doc->len : j->len;
	char *dir;
	int dfd;

	if (j->device != NULL)
		return file_write_atomic(j->device, text, len, err);
	if (j->path == NULL) {
		fwrite(text, 1, len, out);
		return 0;
	}
	if (rename(j->tmp, j->path) != 0)
		return err_set(err, NW_EIO, "cannot write '%s': %s", j->path, strerror(errno));
	free(j->tmp);
	j->tmp = NULL;
	if ((dir = strdup(j->path)) != NULL) {
		dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			(void)fsync(dfd);
			close(dfd);
		}
	}
	free(dir);
	return 0;
}

static void
report_job_clean(struct report_job *j)
{
	if (j->fd >= 0)
		close(j->fd);
	if (j->tmp != NULL) {
		unlink(j->tmp);
		free(j->tmp);
	}
	free(j->text);
}

/* The target; *rctx the route engine's context on cur when the intent built one (for the planner). */
static int
load_target(struct cmd_ctx *ctx, const struct cmd_args *a, const struct topology *cur,
    struct topology **out, struct routes_ctx **rctx, struct nw_err *err)
{
	const char *ipath = cmd_arg(a, "intent");
	struct intent *in = NULL;
	json_t *doc = NULL;
	int rc;

	if (ipath == NULL)
		return cmd_topology_load(ctx, cmd_arg(a, "target"), true, out, err);
	rc = intent_load_file(&in, ipath, err);
	if (rc != 0) {
		err_prefix(err, "cannot load intent");
		return rc;
	}
	rc = intent_target_ctx(&doc, in, cur, rctx, err);
	if (rc == 0)
		share_unchanged(doc, cur);
	if (rc == 0) {
		rc = topology_load_json(out, doc, ipath, err);
		doc = NULL;
		if (rc != 0)
			err_prefix(err, "cannot expand intent '%s'", ipath);
	}
	json_decref(doc);
	intent_free(in);
	return rc;
}

/*
 * A blocked plan: its report (which lists the blockers) in the format asked
 * for, to stdout or --out, and the blockers on stderr.  Returns NW_EFAIL with
 * the planner's message, or the error writing the report.
 */
static int
plan_blocked(struct cmd_ctx *ctx, const json_t *plan, const struct plan_text *doc,
    enum report_format rf, const char *output, struct nw_err *err)
{
	char *b = report_blockers(plan), *text = NULL;
	const char *shown = doc->s; /* the JSON report is the plan's text */
	struct nw_err werr = { 0 };
	int rc = 0;

	if (b != NULL)
		fputs(b, ctx->err);
	free(b);
	if (rf != REPORT_JSON) {
		rc = report_render(&text, plan, rf, NULL, &werr);
		shown = text;
	}
	if (rc == 0) {
		if (output != NULL && strcmp(output, "-") != 0)
			rc = file_write_atomic(output, shown, strlen(shown), &werr);
		else
			fputs(shown, ctx->out);
	}
	free(text);
	if (rc != 0) {
		*err = werr;
		return rc;
	}
	return NW_EFAIL; /* err holds the planner's "the plan is blocked: ..." */
}

/* The options: what to plan from, the report's format and the plan's time. */
static int
plan_args(struct cmd_ctx *ctx, const struct cmd_args *a, struct planner_opts *opts,
    enum report_format *rf, struct nw_err *err)
{
	enum output_format fmt;
	int rc;

	if ((rc = cmd_arg_required(a, "current", &cmd_plan_entry, err)) != 0)
		return rc;
	if ((cmd_arg(a, "target") == NULL) == (cmd_arg(a, "intent") == NULL))
		return err_set(err, NW_EINPUT, "give exactly one of '--target' and '--intent'; usage: "
		    "netwave plan %s", cmd_plan_entry.usage);
	rc = cmd_arg_format(a, FORMAT_TEXT | FORMAT_MARKDOWN | FORMAT_JSON, FORMAT_TEXT, &fmt, err);
	if (rc != 0)
		return rc;
	*rf = fmt == FORMAT_JSON ? REPORT_JSON : fmt == FORMAT_MARKDOWN ? REPORT_MARKDOWN : REPORT_TEXT;
	opts->now = ctx->now;
	opts->unsealed = true; /* sealed by plan_exec, once the topologies are freed */
	if (cmd_arg(a, "now") != NULL && (rc = parse_rfc3339(cmd_arg(a, "now"), &opts->now, err)) != 0)
		return rc;
	opts->current_source = cmd_arg(a, "current");
	opts->target_source = cmd_arg(a, "intent") != NULL ? cmd_arg(a, "intent") : cmd_arg(a, "target");
	return 0;
}

/*
 * The same inputs give the same plan: the id hashes everything but the
 * creation time, so a plan already stored under this id is this plan,
 * made earlier.  It keeps its creation time, and is what is shown;
 * *stored_at gets that time (NULL for a new plan).
 */
static int
plan_adopt_stored(struct cmd_ctx *ctx, json_t *plan, struct plan_text *pt, char **stored_at,
    struct nw_err *err)
{
	struct store *st;
	int rc;

	if ((rc = cmd_store_open(ctx, &st, err)) != 0)
		return rc;
	if ((rc = store_plan_created_at(st, json_str(plan, "id"), stored_at, err)) != 0)
		return rc;
	if (*stored_at != NULL)
		return plan_text_set_created_at(pt, plan, *stored_at, err);
	return 0;
}

/*
 * Renders the report, stores the plan's sealed text, then puts the report
 * in place.  The store releases the plan (*planp NULL after) once it has
 * its rows: nothing after needs more of it than its id.
 */
static int
plan_store_and_report(struct cmd_ctx *ctx, json_t **planp, const struct plan_text *pt,
    enum report_format rf, const char *stored_at, struct nw_err *err)
{
	const char *output = cmd_arg(ctx->args, "out");
	struct report_job rj = { .fd = -1 };
	char id[PLAN_JSON_ID_LEN];
	struct stat ost;
	int rc;

	snprintf(id, sizeof(id), "%s", json_str(*planp, "id"));
	rj.plan = *planp;
	rj.doc = pt;
	rj.rf = rf;
	rj.path = output != NULL && strcmp(output, "-") != 0 ? output : NULL;
	if (rj.path != NULL && stat(rj.path, &ost) == 0 && !S_ISREG(ost.st_mode)) {
		/* renaming a temporary file over /dev/null would replace the device */
		rj.device = rj.path;
		rj.path = NULL;
	}
	report_run(&rj);
	if ((rc = rj.rc) != 0) {
		*err = rj.err;
		goto done;
	}
	rj.plan = NULL;
	if ((rc = store_plan_save_text_release(ctx->store, planp, pt, err)) != 0) {
		err_prefix(err, "cannot store plan %s in '%s'", id, ctx->db_path);
		goto done;
	}
	if (stored_at != NULL)
		fprintf(ctx->err, "plan %s already stored in %s (created %s): the same inputs give the "
		    "same plan\n", id, ctx->db_path, stored_at);
	else
		fprintf(ctx->err, "plan %s stored in %s\n", id, ctx->db_path);
	rc = report_publish(&rj, ctx->out, err);
done:
	report_job_clean(&rj);
	return rc;
}

/* What IaC manages becomes part of the plan before it is shown or stored (docs/iac.md). */
static int
plan_iac(json_t *plan, const struct iac_map *iac, const struct topology *cur,
    const struct topology *tgt, struct nw_err *err)
{
	struct nw_err ierr = { 0 };
	int rc = iac_plan_annotate(plan, iac, cur, tgt, &ierr);

	if (rc != 0)
		*err = ierr;
	return rc;
}

static int
plan_exec(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err)
{
	struct topology *cur = NULL, *tgt = NULL;
	struct planner_opts opts = { 0 };
	struct iac_map *iac = NULL;
	struct plan_text pt = { 0 };
	enum report_format rf = REPORT_TEXT;
	json_t *plan = NULL;
	char *stored_at = NULL;
	bool blocked;
	int rc;

	if ((rc = plan_args(ctx, a, &opts, &rf, err)) != 0)
		return rc;
	memtune_bulk_begin();
	if ((rc = cmd_topology_load(ctx, cmd_arg(a, "current"), true, &cur, err)) != 0)
		goto done;
	/* Terraform state and deployment history: a bad state is refused before planning */
	if ((rc = cmd_iac_states(a, cur, &iac, err)) != 0)
		goto done;
	if ((rc = load_target(ctx, a, cur, &tgt, &opts.cur_ctx, err)) != 0)
		goto done;
	rc = planner_plan(&plan, cur, tgt, &opts, err);
	opts.cur_ctx = NULL; /* the planner's now */
	blocked = rc == NW_EFAIL && plan != NULL;
	if ((rc != 0 && !blocked) || (rc = plan_iac(plan, iac, cur, tgt, err)) != 0)
		goto done;
	/* the plan holds what it needs of the topologies: free them before it is written */
	topology_free(tgt);
	topology_free(cur);
	tgt = cur = NULL;
	memtune_release();
	/* written once: its id, the store and the JSON report share the text */
	if ((rc = plan_json_seal(plan, &pt, err)) != 0)
		goto done;
	if (blocked) {
		/* the report with its blockers, and why on stderr; nothing stored */
		rc = plan_blocked(ctx, plan, &pt, rf, cmd_arg(a, "out"), err);
		goto done;
	}
	if ((rc = plan_adopt_stored(ctx, plan, &pt, &stored_at, err)) != 0)
		goto done;
	rc = plan_store_and_report(ctx, &plan, &pt, rf, stored_at, err);
done:
	routes_ctx_free(opts.cur_ctx);
	json_decref(plan);
	iac_map_free(iac);
	plan_text_clear(&pt);
	topology_free(tgt);
	topology_free(cur);
	free(stored_at);
	return rc;
}
