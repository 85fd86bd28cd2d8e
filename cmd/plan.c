/*
 * netwave plan --current C (--target T | --intent I): computes the plan
 * (plan/planner.h) that takes the estate from C to T (or to what the
 * intent expands to), stores it in the plan store and prints the review
 * report.  A plan with blockers is printed as its blockers, exits 1 and is
 * not stored.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "plan/intent.h"
#include "plan/jsonutil.h"
#include "plan/planner.h"
#include "plan/report.h"
#include "plan/topology.h"
#include "state/store.h"

static const struct cmd_option plan_options[] = {
	{ "current", 0, "FILE", 0, "the estate as it is (netwave.topology/v1)" },
	{ "target", 0, "FILE", 0, "the estate as it should be (from netwave target or by hand)" },
	{ "intent", 0, "FILE", 0, "an intent (netwave.intent/v1), expanded as netwave target does" },
	{ "db", 0, "FILE", 0, "the plan store (default $NETWAVE_DB, else ./netwave.db)" },
	{ "format", 0, "text|markdown|json", 0, "report format (default text)" },
	{ "output", 'o', "REPORT", 0, "write the report to REPORT (atomically) instead of stdout" },
	{ "now", 0, "RFC3339", 0, "the plan's creation time (default $SOURCE_DATE_EPOCH, else the clock)" },
	{ NULL, 0, NULL, 0, NULL },
};

/* The plan store's path: --db, else $NETWAVE_DB, else ./netwave.db. */
const char *cmd_db_path(const struct cmd_args *a);

const char *
cmd_db_path(const struct cmd_args *a)
{
	const char *db = cmd_arg(a, "db");

	if (db == NULL || *db == '\0')
		db = getenv("NETWAVE_DB");
	if (db == NULL || *db == '\0')
		db = "netwave.db";
	return db;
}

/* "2026-11-21T20:00:00Z" or with a "+hh:mm"/"-hh:mm" offset; fractions of seconds ignored. */
static int
parse_rfc3339(const char *s, time_t *out, struct nw_err *err)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec, n = 0, oh = 0, om = 0;
	const char *p;
	long off = 0;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19)
		goto bad;
	p = s + n;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		off = 0;
	} else if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) == 2 &&
	    n == 5 && p[6] == '\0' && oh < 24 && om < 60) {
		off = (oh * 60L + om) * 60L * (*p == '-' ? -1 : 1);
	} else {
		goto bad;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		goto bad;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out = timegm(&tm) - off;
	return 0;
bad:
	return err_set(err, NW_EINPUT, "--now: '%s' is not an RFC 3339 time such as "
	    "2026-11-21T20:00:00Z", s);
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
		const char *id = json_str(r, "id");
		struct topo_resource *cr = id != NULL ? topology_find(cur, id) : NULL;

		if (cr != NULL && cr->json != r && json_equal(cr->json, r))
			json_array_set(resources, i, cr->json);
	}
}

static int
load_target(struct cmd_ctx *ctx, const struct cmd_args *a, const struct topology *cur,
    struct topology **out, struct nw_err *err)
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
	rc = intent_target(&doc, in, cur, err);
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

static int
plan_exec(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err)
{
	struct topology *cur = NULL, *tgt = NULL;
	struct store *st = NULL;
	struct planner_opts opts = { 0 };
	enum output_format fmt;
	enum report_format rf;
	json_t *plan = NULL;
	char *report = NULL;
	const char *db = cmd_db_path(a), *output = cmd_arg(a, "output");
	int rc;

	if (cmd_arg(a, "current") == NULL)
		return err_set(err, NW_EINPUT, "option '--current' is required; usage: netwave plan %s",
		    cmd_plan_entry.usage);
	if ((cmd_arg(a, "target") == NULL) == (cmd_arg(a, "intent") == NULL))
		return err_set(err, NW_EINPUT, "give exactly one of '--target' and '--intent'; usage: "
		    "netwave plan %s", cmd_plan_entry.usage);
	rc = cmd_arg_format(a, FORMAT_TEXT | FORMAT_MARKDOWN | FORMAT_JSON, FORMAT_TEXT, &fmt, err);
	if (rc != 0)
		return rc;
	rf = fmt == FORMAT_JSON ? REPORT_JSON : fmt == FORMAT_MARKDOWN ? REPORT_MARKDOWN : REPORT_TEXT;
	opts.now = ctx->now;
	if (cmd_arg(a, "now") != NULL && (rc = parse_rfc3339(cmd_arg(a, "now"), &opts.now, err)) != 0)
		return rc;
	opts.current_source = cmd_arg(a, "current");
	opts.target_source = cmd_arg(a, "intent") != NULL ? cmd_arg(a, "intent") : cmd_arg(a, "target");

	if ((rc = cmd_topology_load(ctx, cmd_arg(a, "current"), true, &cur, err)) != 0)
		goto done;
	if ((rc = load_target(ctx, a, cur, &tgt, err)) != 0)
		goto done;
	rc = planner_plan(&plan, cur, tgt, &opts, err);
	if (rc == NW_EFAIL && plan != NULL) {
		/* blocked: say why, store nothing */
		char *b = report_blockers(plan);
		if (b != NULL)
			fputs(b, ctx->err);
		free(b);
		goto done;
	}
	if (rc != 0)
		goto done;
	/* the plan holds what it needs of the topologies: free them before the big dumps */
	topology_free(tgt);
	topology_free(cur);
	tgt = cur = NULL;
	if ((rc = report_render(&report, plan, rf, NULL, err)) != 0)
		goto done;
	if ((rc = store_open(&st, db, true, err)) != 0) {
		err_prefix(err, "cannot open plan store '%s'", db);
		goto done;
	}
	if ((rc = store_plan_save(st, plan, err)) != 0) {
		err_prefix(err, "cannot store plan %s in '%s'", json_str(plan, "id"), db);
		goto done;
	}
	fprintf(ctx->err, "plan %s stored in %s\n", json_str(plan, "id"), db);
	if (output != NULL && strcmp(output, "-") != 0)
		rc = file_write_atomic(output, report, strlen(report), err);
	else
		fputs(report, ctx->out);
done:
	store_close(st);
	free(report);
	json_decref(plan);
	topology_free(tgt);
	topology_free(cur);
	return rc;
}

const struct cmd_entry cmd_plan_entry = {
	.name = "plan",
	.usage = "--current C (--target T | --intent I) [--db FILE] [--format text|markdown|json] "
	    "[-o REPORT] [--now RFC3339]",
	.summary = "plan the change from the current to the target topology, store it, print the report",
	.description =
	    "Diffs the current and target topologies, turns every difference into procedure steps\n"
	    "(avnm-mesh, gateway-standard-ip, summarize-gateway-prefixes) with their inverses,\n"
	    "assigns VNets to the rollout's waves, adds the gates, rehearses each wave on the route\n"
	    "engine and estimates time under the ARM write budget.  The plan is stored in the plan\n"
	    "store and its id printed on stderr; the report goes to stdout or to -o.  --format\n"
	    "markdown is the change-review document; json is netwave.plan/v1 (docs/plan.md).\n"
	    "A difference no procedure makes, a platform limit exceeded, or a wave that would cut\n"
	    "spokes off each other blocks the plan: its blockers are printed, nothing is stored and\n"
	    "the exit code is 1.  Bad input exits 2.",
	.options = plan_options,
	.min_args = 0,
	.max_args = 0,
	.exec = plan_exec,
};
