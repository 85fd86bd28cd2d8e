/*
 * netwave demo: the whole flow on a machine with nothing but netwave.
 * It synthesizes an estate (plan/synth.h), serves it from an in-process
 * ARM emulator on a free loopback port with a large time scale,
 * discovers it through the real Azure provider and authentication,
 * writes an intent (a mesh in three waves, gateways to Standard IPs,
 * summarized gateway prefixes), plans it, prints the review report,
 * applies every wave with its gates and progress, rolls the last wave
 * back, applies it again, and prints the history log and where
 * everything lives.  Nothing leaves 127.0.0.1.
 */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "cmd/apply.h"
#include "cmd/cmd.h"
#include "plan/intent.h"
#include "plan/jsonutil.h"
#include "plan/planner.h"
#include "plan/report.h"
#include "plan/synth.h"
#include "plan/topology.h"
#include "providers/azure/azure.h"
#include "providers/emulator/emulator.h"
#include "state/apply/apply.h"
#include "state/history.h"
#include "state/store.h"

#define DEMO_MARKER ".netwave-demo"


static double
now_s(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
join(char *buf, size_t size, const char *dir, const char *name, struct nw_err *err)
{
	if ((size_t)snprintf(buf, size, "%s/%s", dir, name) >= size)
		return err_set(err, NW_EINPUT, "option '--dir': path too long");
	return 0;
}

/* The demo's directory: created, or emptied when an earlier demo made it. */
static int
prepare_dir(const char *dir, struct nw_err *err)
{
	char marker[4096];
	struct stat sb;
	int rc;

	if ((rc = join(marker, sizeof(marker), dir, DEMO_MARKER, err)) != 0)
		return rc;
	if (stat(dir, &sb) == 0) {
		if (!S_ISDIR(sb.st_mode))
			return err_set(err, NW_EINPUT, "cannot use '%s' for the demo: it is not a directory", dir);
		if (stat(marker, &sb) == 0) {
			/* an earlier demo's: start over */
			if (nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
				return err_set(err, NW_EIO, "cannot clear '%s': %s", dir, strerror(errno));
		} else if (rmdir(dir) != 0) {
			return err_set(err, NW_EINPUT, "cannot use '%s' for the demo: it holds files that are not "
			    "an earlier demo's; give another --dir", dir);
		}
	} else if (errno != ENOENT) {
		return err_set(err, NW_EIO, "cannot use '%s': %s", dir, strerror(errno));
	}
	if (mkdir(dir, 0700) != 0)
		return err_set(err, NW_EIO, "cannot create '%s': %s", dir, strerror(errno));
	return file_write_atomic(marker, "netwave demo\n", 13, err);
}

static void
heading(struct cmd_ctx *ctx, bool json, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
heading(struct cmd_ctx *ctx, bool json, const char *fmt, ...)
{
	va_list ap;
	char buf[1024];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (json) {
		json_t *ev = json_pack("{s:s, s:s}", "event", "demo-step", "message", buf);
		char *line = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);
		fprintf(ctx->out, "%s\n", line != NULL ? line : "");
		free(line);
		json_decref(ev);
	} else {
		fprintf(ctx->out, "\n== %s\n", buf);
	}
	fflush(ctx->out);
}

/* The intent the demo plans: every change netwave knows, in three waves. */
static int
write_intent(const char *path, const char *sub, const char *rg, struct nw_err *err)
{
	char buf[4096];
	int n = snprintf(buf, sizeof(buf),
	    "{\n"
	    "  \"format\": \"netwave.intent/v1\",\n"
	    "  \"description\": \"mesh every spoke in three waves, move the gateways to Standard IPs, "
	    "summarize the hubs\",\n"
	    "  \"changes\": [\n"
	    "    { \"kind\": \"avnm-mesh\",\n"
	    "      \"networkManager\": { \"id\": \"/subscriptions/%s/resourceGroups/%s/providers/"
	    "Microsoft.Network/networkManagers/nm-demo\" },\n"
	    "      \"networkGroup\": \"mesh-all-spokes\",\n"
	    "      \"members\": { \"tags\": { \"role\": \"spoke\" } } },\n"
	    "    { \"kind\": \"gateway-standard-ip\", \"gateways\": { \"all\": true } },\n"
	    "    { \"kind\": \"summarize-gateway-prefixes\", \"hubs\": { \"tags\": { \"role\": \"hub\" } } }\n"
	    "  ],\n"
	    "  \"rollout\": {\n"
	    "    \"waves\": [ { \"name\": \"pilot\", \"members\": { \"tags\": { \"env\": \"dev\" } } },\n"
	    "               { \"name\": \"light\", \"members\": { \"tags\": { \"traffic\": \"light\" } } },\n"
	    "               { \"name\": \"rest\" } ],\n"
	    "    \"soak\": { \"beforeDecommission\": \"14d\", \"betweenWaves\": \"0s\" }\n"
	    "  }\n"
	    "}\n", sub, rg);

	return file_write_atomic(path, buf, (size_t)n, err);
}

/* The resource group of the estate's circuit (the emulator only knows groups that hold something). */
static const char *
connectivity_rg(const json_t *estate, char *buf, size_t size)
{
	const json_t *r;
	size_t i;

	snprintf(buf, size, "rg-connectivity");
	json_array_foreach(json_object_get(estate, "resources"), i, r) {
		const char *id = json_str(r, "id"), *p, *q;
		if (id == NULL || strstr(id, "/expressRouteCircuits/") == NULL ||
		    (p = strstr(id, "/resourceGroups/")) == NULL)
			continue;
		p += 16;
		q = strchr(p, '/');
		if (q != NULL && (size_t)(q - p) < size)
			snprintf(buf, size, "%.*s", (int)(q - p), p);
		break;
	}
	return buf;
}

static void
print_history(struct cmd_ctx *ctx, const json_t *log)
{
	const json_t *c, *t;
	size_t i, k;

	json_array_foreach(json_object_get(log, "commits"), i, c) {
		fprintf(ctx->out, "  %.7s  %s", json_str(c, "commit"), json_str(c, "subject"));
		json_array_foreach(json_object_get(c, "tags"), k, t)
			fprintf(ctx->out, "  [%s]", json_string_value(t));
		fputc('\n', ctx->out);
	}
}

static int
run_waves(struct cmd_ctx *ctx, struct store *st, struct provider *p, const char *plan_id,
    struct apply_opts *o, const char *what, struct nw_err *err)
{
	struct apply_result res;
	int rc;

	memset(&res, 0, sizeof(res));
	rc = apply_run(st, p, plan_id, o, &res, err);
	progress_close(o->event_arg);
	if (res.evidence != NULL)
		progress_evidence(ctx->err, res.evidence);
	apply_result_clear(&res);
	if (rc != 0)
		err_prefix(err, "demo: %s", what);
	return rc;
}

static int
demo_exec(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err)
{
	const char *dir = cmd_arg(a, "dir") != NULL ? cmd_arg(a, "dir") : "netwave-demo";
	unsigned long hubs, spokes, scale;
	enum output_format fmt;
	struct synth_opts so = { 0 };
	struct emulator_opts eo = { 0 };
	struct azure_opts ao = { 0 };
	struct azure_discover_opts dopts = { 0 };
	struct azure_discover_report drep;
	struct emulator_credential env = { "00000000-0000-4000-8000-0000000de770", "netwave-demo", "demo-only-secret" };
	struct emulator *emu = NULL;
	struct provider *p = NULL;
	struct store *st = NULL;
	struct history *h = NULL;
	struct topology *cur = NULL, *tgt = NULL;
	struct intent *in = NULL;
	struct planner_opts po = { 0 };
	struct apply_opts o = { 0 };
	struct progress pr;
	json_t *estate = NULL, *doc = NULL, *tdoc = NULL, *plan = NULL, *log = NULL;
	char estate_p[4096], current_p[4096], intent_p[4096], target_p[4096], db_p[4096], hist_p[4096];
	char report_p[4096], rg[256], sub[128], *report = NULL, *md = NULL;
	const char *subs[1], *plan_id, *last = NULL;
	volatile sig_atomic_t stop = 0;
	double t0 = now_s();
	bool json;
	int rc;

	if ((rc = cmd_arg_format(a, FORMAT_TEXT | FORMAT_JSON, FORMAT_TEXT, &fmt, err)) != 0 ||
	    (rc = cmd_arg_ulong(a, "hubs", 1, 16, 2, &hubs, err)) != 0 ||
	    (rc = cmd_arg_ulong(a, "spokes", 1, 2000, 60, &spokes, err)) != 0 ||
	    (rc = cmd_arg_ulong(a, "time-scale", 1, 1000000, 3600, &scale, err)) != 0)
		return rc;
	json = fmt == FORMAT_JSON;
	if (spokes < hubs)
		return err_set(err, NW_EINPUT, "option '--spokes': at least one spoke per hub (%lu)", hubs);
	if ((rc = prepare_dir(dir, err)) != 0)
		return rc;
	if ((rc = join(estate_p, sizeof(estate_p), dir, "estate.json", err)) != 0 ||
	    (rc = join(current_p, sizeof(current_p), dir, "current.json", err)) != 0 ||
	    (rc = join(intent_p, sizeof(intent_p), dir, "intent.json", err)) != 0 ||
	    (rc = join(target_p, sizeof(target_p), dir, "target.json", err)) != 0 ||
	    (rc = join(db_p, sizeof(db_p), dir, "netwave.db", err)) != 0 ||
	    (rc = join(hist_p, sizeof(hist_p), dir, "netwave-history", err)) != 0 ||
	    (rc = join(report_p, sizeof(report_p), dir, "plan.md", err)) != 0)
		return rc;

	/* 1. an estate */
	so.hubs = (unsigned)hubs;
	so.spokes_per_hub = (unsigned)(spokes / hubs);
	so.udr_spokes = so.spokes_per_hub >= 10 ? 1 : 0;
	so.seed = 1;
	if ((rc = synth_generate(&estate, &so, err)) != 0)
		goto done;
	{
		char *text = json_dump_canonical(estate);
		rc = text != NULL ? file_write_atomic(estate_p, text, strlen(text), err) :
		    err_set(err, NW_ENOMEM, "out of memory");
		free(text);
		if (rc != 0)
			goto done;
	}
	snprintf(sub, sizeof(sub), "%s", json_string_value(json_array_get(json_object_get(estate,
	    "subscriptions"), 0)));
	heading(ctx, json, "an estate: %lu hubs with ExpressRoute gateways on Basic IPs, %u spokes "
	    "hairpinning through the circuit (%s)", hubs, so.hubs * so.spokes_per_hub, estate_p);

	/* 2. an emulator serving it */
	eo.seed_json = estate;
	eo.time_scale = (double)scale;
	eo.rng_seed = 1;
	if ((rc = emulator_start(&emu, &eo, err)) != 0) {
		err_prefix(err, "demo: cannot start the emulator");
		goto done;
	}
	ao.arm_endpoint = emulator_base_url(emu);
	ao.authority_host = emulator_base_url(emu);
	ao.getenv = cmd_emulator_getenv;
	ao.getenv_arg = &env;
	ao.poll_interval = 0.05;
	if ((rc = azure_provider_new(&p, &ao, err)) != 0)
		goto done;
	heading(ctx, json, "an ARM emulator on %s (time x%lu: a 45-minute gateway prepare takes %.1f s)",
	    emulator_base_url(emu), scale, 2700.0 / (double)scale);

	/* 3. discover */
	subs[0] = sub;
	dopts.subscriptions = subs;
	dopts.nsubscriptions = 1;
	dopts.cloud = "AzureCloud";
	memset(&drep, 0, sizeof(drep));
	if ((rc = azure_discover(&doc, p, &dopts, &drep, err)) != 0)
		goto done;
	rc = topology_load_json(&cur, doc, current_p, err);
	doc = NULL;
	if (rc != 0 || (rc = topology_write_file(cur, current_p, err)) != 0)
		goto done;
	if ((rc = history_open(&h, hist_p, true, err)) != 0)
		goto done;
	{
		struct history_change hc = { HISTORY_REPLACE, cur->resources, NULL, 0 };
		struct history_commit_info hi = { 0 };
		struct history_result hr;
		hi.event = HISTORY_EVENT_DISCOVER;
		hi.operator_name = cmd_operator_name();
		hi.time = ctx->now;
		if ((rc = history_record(h, &hc, &hi, &hr, err)) != 0)
			goto done;
	}
	heading(ctx, json, "discover: %zu resources in %lu requests -> %s", drep.resources, drep.requests,
	    current_p);

	/* 4. intent, target, plan */
	if ((rc = write_intent(intent_p, sub, connectivity_rg(estate, rg, sizeof(rg)), err)) != 0 ||
	    (rc = intent_load_file(&in, intent_p, err)) != 0 ||
	    (rc = intent_target(&tdoc, in, cur, err)) != 0)
		goto done;
	rc = topology_load_json(&tgt, tdoc, target_p, err);
	tdoc = NULL;
	if (rc != 0 || (rc = topology_write_file(tgt, target_p, err)) != 0)
		goto done;
	po.now = ctx->now;
	po.current_source = current_p;
	po.target_source = intent_p;
	if ((rc = planner_plan(&plan, cur, tgt, &po, err)) != 0) {
		if (rc == NW_EFAIL && plan != NULL) {
			char *b = report_blockers(plan);
			if (b != NULL)
				fputs(b, ctx->err);
			free(b);
		}
		goto done;
	}
	if ((rc = store_open(&st, db_p, true, err)) != 0 || (rc = store_plan_save(st, plan, err)) != 0)
		goto done;
	plan_id = json_str(plan, "id");
	if ((rc = report_render(&md, plan, REPORT_MARKDOWN, NULL, err)) != 0 ||
	    (rc = file_write_atomic(report_p, md, strlen(md), err)) != 0)
		goto done;
	heading(ctx, json, "the plan (intent %s; the change-review document is %s)", intent_p, report_p);
	if (!json) {
		if ((rc = report_render(&report, plan, REPORT_TEXT, NULL, err)) != 0)
			goto done;
		fputs(report, ctx->out);
	}

	/* 5. apply every wave */
	progress_init(&pr, ctx, json);
	pr.steps = false; /* a line per wave and gate tells the story; status has the steps */
	o.direction = APPLY_FORWARD;
	o.scope = APPLY_ALL;
	o.yes = true; /* the demo confirms the gateway commits itself: nothing here is real */
	o.parallel = 16;
	o.owner = "netwave demo";
	o.operator_name = cmd_operator_name();
	o.history = h;
	o.soak_scale = (double)scale;
	o.soak_wait_max = 60;
	o.poll_interval = 0.05;
	o.gate_timeout = 120;
	o.interrupt = &stop;
	o.on_event = progress_event;
	o.event_arg = &pr;
	cmd_interrupt_catch(&stop);
	heading(ctx, json, "apply every wave (soaks run %lu times faster, like the emulator)", scale);
	if ((rc = run_waves(ctx, st, p, plan_id, &o, "apply", err)) != 0)
		goto done;

	/* 6. roll the last wave back, and apply it again */
	{
		const json_t *waves = json_object_get(plan, "waves");
		last = json_str(json_array_get(waves, json_array_size(waves) - 1), "name");
	}
	heading(ctx, json, "roll the last wave (%s) back: inverses in reverse order, then prove the way "
	    "back", last);
	o.direction = APPLY_ROLLBACK;
	o.scope = APPLY_NEXT;
	if ((rc = run_waves(ctx, st, p, plan_id, &o, "rollback", err)) != 0)
		goto done;
	heading(ctx, json, "apply wave %s again", last);
	o.direction = APPLY_FORWARD;
	o.scope = APPLY_NEXT;
	if ((rc = run_waves(ctx, st, p, plan_id, &o, "apply again", err)) != 0)
		goto done;

	/* 7. the history, and where things are */
	if ((rc = history_log(h, 0, &log, err)) != 0)
		goto done;
	heading(ctx, json, "the history (git log in %s): one commit per discover, wave applied and wave "
	    "rolled back", hist_p);
	if (json) {
		char *line = json_dumps(log, JSON_COMPACT | JSON_SORT_KEYS);
		fprintf(ctx->out, "%s\n", line != NULL ? line : "");
		free(line);
	} else {
		print_history(ctx, log);
	}
	heading(ctx, json, "done in %.1f s", now_s() - t0);
	if (!json)
		fprintf(ctx->out,
		    "  plan store   %s   (netwave status %s --db %s)\n"
		    "  history      %s   (netwave history log --history %s)\n"
		    "  estate       %s, discovered as %s\n"
		    "  intent       %s, target %s, review %s\n",
		    db_p, plan_id, db_p, hist_p, hist_p, estate_p, current_p, intent_p, target_p, report_p);
done:
	cmd_interrupt_restore();
	json_decref(log);
	free(report);
	free(md);
	json_decref(plan);
	json_decref(tdoc);
	json_decref(doc);
	intent_free(in);
	topology_free(tgt);
	topology_free(cur);
	history_close(h);
	store_close(st);
	provider_free(p);
	emulator_stop(emu);
	json_decref(estate);
	return rc;
}

static const struct cmd_option demo_options[] = {
	{ "dir", 0, "DIR", 0, "where the demo keeps its files (default ./netwave-demo; remade each run)" },
	{ "hubs", 0, "N", 0, "hubs, each with an ExpressRoute gateway (default 2)" },
	{ "spokes", 0, "N", 0, "spokes in all, shared among the hubs (default 60)" },
	{ "time-scale", 0, "X", 0, "how much faster than Azure the emulator runs (default 3600)" },
	{ "format", 0, "text|json", 0, "text (default) or one JSON event per line" },
	{ NULL, 0, NULL, 0, NULL },
};

const struct cmd_entry cmd_demo_entry = {
	.name = "demo",
	.usage = "[--dir DIR] [--hubs N] [--spokes N] [--time-scale X]",
	.summary = "see the whole flow on a synthetic estate, with nothing but netwave installed",
	.description =
	    "Synthesizes an estate (2 hubs, 60 spokes by default), serves it from an ARM emulator\n"
	    "on a free 127.0.0.1 port, discovers it, plans an AVNM mesh in three waves plus the\n"
	    "gateway migration to Standard IPs and summarized gateway prefixes, prints the review\n"
	    "report, applies every wave with its gates, rolls the last wave back and applies it\n"
	    "again, and prints the history.  Everything it writes goes in --dir; nothing leaves\n"
	    "this machine.",
	.options = demo_options,
	.min_args = 0,
	.max_args = 0,
	.exec = demo_exec,
};
