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

static const struct cmd_option demo_options[] = {
	{ "dir", 0, "DIR", 0, "where the demo keeps its files (default ./netwave-demo; remade each run)" },
	{ "hubs", 0, "N", 0, "hubs, each with an ExpressRoute gateway (default 2)" },
	{ "spokes", 0, "N", 0, "spokes in all, shared among the hubs (default 60)" },
	{ "time-scale", 0, "X", 0, "how much faster than Azure the emulator runs (default 3600)" },
	CMD_FORMAT_OPTION("text|json", "text (default) or one JSON event per line"),
	{ NULL, 0, NULL, 0, NULL },
};

static int demo_exec(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err);

const struct cmd_entry cmd_demo_entry = {
	.name = "demo",
	.usage = "[--dir DIR] [--hubs N] [--spokes N] [--time-scale X] [-o text|json]",
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

#define DEMO_MARKER ".netwave-demo"

static double
now_s(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
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
			if (file_remove_tree(dir) != 0 && errno != ENOENT)
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
		json_t *ev = json_pack("{s:s, s:s, s:s}", "format", "netwave.demo/v1", "event",
		    "demo-step", "message", buf);
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

/* Everything one demo run holds: paths, the emulator, the provider, the stores. */
struct demo {
	struct cmd_ctx *ctx;
	bool json;
	unsigned long hubs, spokes, scale;
	struct synth_opts so;
	struct emulator *emu;
	struct provider *p;
	struct store *st;
	struct history *h;
	struct topology *cur;
	json_t *estate, *plan;
	const char *plan_id;
	char estate_p[4096], current_p[4096], intent_p[4096], target_p[4096], db_p[4096];
	char hist_p[4096], report_p[4096], sub[128];
};

static int
demo_paths(struct demo *d, const char *dir, struct nw_err *err)
{
	int rc;

	if ((rc = prepare_dir(dir, err)) != 0)
		return rc;
	if ((rc = join(d->estate_p, sizeof(d->estate_p), dir, "estate.json", err)) != 0 ||
	    (rc = join(d->current_p, sizeof(d->current_p), dir, "current.json", err)) != 0 ||
	    (rc = join(d->intent_p, sizeof(d->intent_p), dir, "intent.json", err)) != 0 ||
	    (rc = join(d->target_p, sizeof(d->target_p), dir, "target.json", err)) != 0 ||
	    (rc = join(d->db_p, sizeof(d->db_p), dir, "netwave.db", err)) != 0 ||
	    (rc = join(d->hist_p, sizeof(d->hist_p), dir, "netwave-history", err)) != 0 ||
	    (rc = join(d->report_p, sizeof(d->report_p), dir, "plan.md", err)) != 0)
		return rc;
	return 0;
}

/* 1. an estate */
static int
demo_estate(struct demo *d, struct nw_err *err)
{
	char *text;
	char n[64];
	int rc;

	d->so.hubs = (unsigned)d->hubs;
	d->so.spokes_per_hub = (unsigned)(d->spokes / d->hubs);
	d->so.udr_spokes = d->so.spokes_per_hub >= 10 ? 1 : 0;
	d->so.seed = 1;
	if ((rc = synth_generate(&d->estate, &d->so, err)) != 0)
		return rc;
	text = json_dump_canonical(d->estate);
	rc = text != NULL ? file_write_atomic(d->estate_p, text, strlen(text), err) :
	    err_set(err, NW_ENOMEM, "out of memory");
	free(text);
	if (rc != 0)
		return rc;
	snprintf(d->sub, sizeof(d->sub), "%s", json_string_value(json_array_get(
	    json_object_get(d->estate, "subscriptions"), 0)));
	heading(d->ctx, d->json, "an estate: %lu hubs with ExpressRoute gateways on Basic IPs, %s "
	    "hairpinning through the circuit (%s)", d->hubs, output_noun(n, sizeof(n),
	    (unsigned long long)d->so.hubs * d->so.spokes_per_hub, "spoke", NULL), d->estate_p);
	return 0;
}

/* 2. an emulator serving it, and the real Azure provider talking to it */
static int
demo_emulator(struct demo *d, struct nw_err *err)
{
	static const struct emulator_credential env = { "00000000-0000-4000-8000-0000000de770",
	    "netwave-demo", "demo-only-secret" };
	struct emulator_opts eo = { 0 };
	struct azure_opts ao = { 0 };
	int rc;

	eo.seed_json = d->estate;
	eo.time_scale = (double)d->scale;
	eo.rng_seed = 1;
	if ((rc = emulator_start(&d->emu, &eo, err)) != 0) {
		err_prefix(err, "demo: cannot start the emulator");
		return rc;
	}
	ao.arm_endpoint = emulator_base_url(d->emu);
	ao.authority_host = emulator_base_url(d->emu);
	ao.getenv = cmd_emulator_getenv;
	ao.getenv_arg = (void *)&env;
	ao.poll_interval = 0.05;
	if ((rc = azure_provider_new(&d->p, &ao, err)) != 0)
		return rc;
	heading(d->ctx, d->json, "an ARM emulator on %s (time x%lu: a 45-minute gateway prepare takes "
	    "%.1f s)", emulator_base_url(d->emu), d->scale, 2700.0 / (double)d->scale);
	return 0;
}

/* 3. discover, and the history's first commit */
static int
demo_discover(struct demo *d, struct nw_err *err)
{
	struct azure_discover_opts dopts = { 0 };
	struct azure_discover_report drep;
	struct history_commit_info hi = { 0 };
	struct history_result hr;
	struct history_change hc;
	const char *subs[1] = { d->sub };
	json_t *doc = NULL;
	char n[64], r[64];
	int rc;

	dopts.subscriptions = subs;
	dopts.nsubscriptions = 1;
	dopts.cloud = "AzureCloud";
	memset(&drep, 0, sizeof(drep));
	if ((rc = azure_discover(&doc, d->p, &dopts, &drep, err)) != 0)
		return rc;
	rc = topology_load_json(&d->cur, doc, d->current_p, err);
	if (rc != 0 || (rc = topology_write_file(d->cur, d->current_p, err)) != 0)
		return rc;
	if ((rc = history_open(&d->h, d->hist_p, true, err)) != 0)
		return rc;
	hc = (struct history_change){ HISTORY_REPLACE, d->cur->resources, NULL, 0 };
	hi.event = HISTORY_EVENT_DISCOVER;
	hi.operator_name = cmd_operator_name();
	hi.time = d->ctx->now;
	if ((rc = history_record(d->h, &hc, &hi, &hr, err)) != 0)
		return rc;
	heading(d->ctx, d->json, "discover: %s in %s -> %s", output_noun(n, sizeof(n), drep.resources,
	    "resource", NULL), output_noun(r, sizeof(r), drep.requests, "request", NULL), d->current_p);
	return 0;
}

/* 4. intent, target, plan, the change-review document */
static int
demo_plan(struct demo *d, struct nw_err *err)
{
	struct planner_opts po = { 0 };
	struct topology *tgt = NULL;
	struct intent *in = NULL;
	json_t *tdoc = NULL;
	char rg[256], *md = NULL, *report = NULL;
	int rc;

	if ((rc = write_intent(d->intent_p, d->sub, connectivity_rg(d->estate, rg, sizeof(rg)), err)) != 0 ||
	    (rc = intent_load_file(&in, d->intent_p, err)) != 0 ||
	    (rc = intent_target(&tdoc, in, d->cur, err)) != 0)
		goto done;
	rc = topology_load_json(&tgt, tdoc, d->target_p, err);
	if (rc != 0 || (rc = topology_write_file(tgt, d->target_p, err)) != 0)
		goto done;
	po.now = d->ctx->now;
	po.current_source = d->current_p;
	po.target_source = d->intent_p;
	if ((rc = planner_plan(&d->plan, d->cur, tgt, &po, err)) != 0) {
		char *b = rc == NW_EFAIL && d->plan != NULL ? report_blockers(d->plan) : NULL;
		if (b != NULL)
			fputs(b, d->ctx->err);
		free(b);
		goto done;
	}
	if ((rc = store_open(&d->st, d->db_p, true, err)) != 0 ||
	    (rc = store_plan_save(d->st, d->plan, err)) != 0)
		goto done;
	d->plan_id = json_str(d->plan, "id");
	if ((rc = report_render(&md, d->plan, REPORT_MARKDOWN, NULL, err)) != 0 ||
	    (rc = file_write_atomic(d->report_p, md, strlen(md), err)) != 0)
		goto done;
	heading(d->ctx, d->json, "the plan (intent %s; the change-review document is %s)", d->intent_p,
	    d->report_p);
	if (!d->json) {
		if ((rc = report_render(&report, d->plan, REPORT_TEXT, NULL, err)) != 0)
			goto done;
		fputs(report, d->ctx->out);
	}
done:
	free(report);
	free(md);
	topology_free(tgt);
	intent_free(in);
	return rc;
}

/* 5. apply every wave; 6. roll the last one back and apply it again */
static int
demo_apply(struct demo *d, struct nw_err *err)
{
	volatile sig_atomic_t stop = 0;
	struct apply_opts o = { 0 };
	const json_t *waves = json_object_get(d->plan, "waves");
	const char *last = json_str(json_array_get(waves, json_array_size(waves) - 1), "name");
	struct progress pr;
	int rc;

	progress_init(&pr, d->ctx, d->json);
	pr.steps = false; /* a line per wave and gate tells the story; status has the steps */
	o.direction = APPLY_FORWARD;
	o.scope = APPLY_ALL;
	o.yes = true; /* the demo confirms the gateway commits itself: nothing here is real */
	o.parallel = 16;
	o.owner = "netwave demo";
	o.operator_name = cmd_operator_name();
	o.history = d->h;
	o.soak_scale = (double)d->scale;
	o.soak_wait_max = 60;
	o.poll_interval = 0.05;
	o.gate_timeout = 120;
	o.interrupt = &stop;
	o.on_event = progress_event;
	o.event_arg = &pr;
	cmd_interrupt_catch(&stop);
	heading(d->ctx, d->json, "apply every wave (soaks run %lu times faster, like the emulator)",
	    d->scale);
	if ((rc = run_waves(d->ctx, d->st, d->p, d->plan_id, &o, "apply", err)) != 0)
		goto done;
	heading(d->ctx, d->json, "roll the last wave (%s) back: inverses in reverse order, then prove "
	    "the way back", last);
	o.direction = APPLY_ROLLBACK;
	o.scope = APPLY_NEXT;
	if ((rc = run_waves(d->ctx, d->st, d->p, d->plan_id, &o, "rollback", err)) != 0)
		goto done;
	heading(d->ctx, d->json, "apply wave %s again", last);
	o.direction = APPLY_FORWARD;
	o.scope = APPLY_NEXT;
	rc = run_waves(d->ctx, d->st, d->p, d->plan_id, &o, "apply again", err);
done:
	cmd_interrupt_restore();
	return rc;
}

/* 7. the history, and where things are */
static int
demo_history(struct demo *d, double t0, struct nw_err *err)
{
	json_t *log = NULL;
	int rc;

	if ((rc = history_log(d->h, 0, &log, err)) != 0)
		return rc;
	heading(d->ctx, d->json, "the history (git log in %s): one commit per discover, wave applied "
	    "and wave rolled back", d->hist_p);
	if (d->json) {
		char *line = json_dumps(log, JSON_COMPACT | JSON_SORT_KEYS);
		fprintf(d->ctx->out, "%s\n", line != NULL ? line : "");
		free(line);
	} else {
		print_history(d->ctx, log);
	}
	json_decref(log);
	heading(d->ctx, d->json, "done in %.1f s", now_s() - t0);
	if (!d->json)
		fprintf(d->ctx->out,
		    "  plan store   %s   (netwave status %s --db %s)\n"
		    "  history      %s   (netwave history log --history %s)\n"
		    "  estate       %s, discovered as %s\n"
		    "  intent       %s, target %s, review %s\n",
		    d->db_p, d->plan_id, d->db_p, d->hist_p, d->hist_p, d->estate_p, d->current_p,
		    d->intent_p, d->target_p, d->report_p);
	return 0;
}

static int
demo_exec(struct cmd_ctx *ctx, const struct cmd_args *a, struct nw_err *err)
{
	const char *dir = cmd_arg(a, "dir") != NULL ? cmd_arg(a, "dir") : "netwave-demo";
	struct demo *d = calloc(1, sizeof(*d));
	enum output_format fmt;
	double t0 = now_s();
	int rc;

	if (d == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	d->ctx = ctx;
	if ((rc = cmd_arg_format(a, FORMAT_TEXT | FORMAT_JSON, FORMAT_TEXT, &fmt, err)) != 0 ||
	    (rc = cmd_arg_ulong(a, "hubs", 1, 16, 2, &d->hubs, err)) != 0 ||
	    (rc = cmd_arg_ulong(a, "spokes", 1, 2000, 60, &d->spokes, err)) != 0 ||
	    (rc = cmd_arg_ulong(a, "time-scale", 1, 1000000, 3600, &d->scale, err)) != 0)
		goto done;
	d->json = fmt == FORMAT_JSON;
	if (d->spokes < d->hubs) {
		rc = err_set(err, NW_EINPUT, "option '--spokes': at least one spoke per hub (%lu)", d->hubs);
		goto done;
	}
	if ((rc = demo_paths(d, dir, err)) != 0 || (rc = demo_estate(d, err)) != 0 ||
	    (rc = demo_emulator(d, err)) != 0 || (rc = demo_discover(d, err)) != 0 ||
	    (rc = demo_plan(d, err)) != 0 || (rc = demo_apply(d, err)) != 0)
		goto done;
	rc = demo_history(d, t0, err);
done:
	json_decref(d->plan);
	topology_free(d->cur);
	history_close(d->h);
	store_close(d->st);
	provider_free(d->p);
	emulator_stop(d->emu);
	json_decref(d->estate);
	free(d);
	return rc;
}
