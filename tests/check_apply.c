/*
 * The apply engine (state/apply/apply.h) against the in-process ARM emulator,
 * through the real Azure provider and authentication: a synthesized
 * estate is served, discovered, planned from an intent, and applied and
 * rolled back wave by wave.  The assertions are on the emulator's estate
 * (compared with the target or with an earlier dump through the diff
 * module, which ignores what ARM computes), its request log (no POST
 * action accepted twice), the plan store, the journal and the history.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <git2.h>
#include <jansson.h>
#include <sqlite3.h>

#include "plan/diff.h"
#include "plan/intent.h"
#include "plan/jsonutil.h"
#include "plan/planner.h"
#include "plan/synth.h"
#include "plan/topology.h"
#include "providers/azure/azure.h"
#include "providers/emulator/emulator.h"
#include "state/apply/apply.h"
#include "state/apply/internal.h"
#include "state/history.h"
#include "state/store.h"
#include "tests/testutil.h"

#define CANARY_SECRET "canary-Zq9-secret-4711"
#define TIME_SCALE 5000.0

/* ------------------------------------------------------------------ */
/* Fixture */

struct fx {
	char dir[64];
	char current_path[128];
	char db_path[128];
	struct emulator *e;
	struct provider *p;
	struct store *st;
	struct history *h;
	char sub[64];
	char plan_id[64];
	json_t *plan;
	json_t *events;
	double faults_delay;
	unsigned token_lifetime;
	bool frozen_clock;
};

/* The whole environment the provider sees: a service principal the emulator knows. */
static const char *
fake_getenv(void *arg, const char *name)
{
	static const char *const env[][2] = {
		{ "AZURE_TENANT_ID", "00000000-0000-4000-8000-00000000aaaa" },
		{ "AZURE_CLIENT_ID", "netwave-tests" },
		{ "AZURE_CLIENT_SECRET", CANARY_SECRET },
	};

	(void)arg;
	for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++)
		if (strcmp(name, env[i][0]) == 0)
			return env[i][1];
	return NULL;
}

static double
frozen(void *arg)
{
	(void)arg;
	return 1.9e9;
}

static void
fx_provider(struct fx *f)
{
	struct azure_opts ao = { 0 };
	struct nw_err err = { 0 };

	provider_free(f->p);
	f->p = NULL;
	ao.arm_endpoint = emulator_base_url(f->e);
	ao.authority_host = emulator_base_url(f->e);
	ao.getenv = fake_getenv;
	ao.poll_interval = 0.01;
	ao.delay_scale = 0.01;
	ao.rng_seed = 7;
	if (f->frozen_clock)
		ao.clock = frozen;
	ck_assert_msg(azure_provider_new(&f->p, &ao, &err) == 0, "provider: %s", err.msg);
}

/* An estate of hubs x spokes served by a fresh emulator, discovered into current.json. */
static void
fx_start_pe(struct fx *f, unsigned hubs, unsigned spokes, unsigned pe, const json_t *faults)
{
	struct synth_opts so = { 0 };
	struct emulator_opts eo = { 0 };
	struct azure_discover_opts dopts = { 0 };
	struct nw_err err = { 0 };
	struct topology *t = NULL;
	const char *subs[1];
	json_t *doc = NULL, *estate = NULL;

	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/check-apply.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	snprintf(f->current_path, sizeof(f->current_path), "%s/current.json", f->dir);
	snprintf(f->db_path, sizeof(f->db_path), "%s/netwave.db", f->dir);
	so.hubs = hubs;
	so.spokes_per_hub = spokes;
	so.pe_per_spoke = pe;
	so.seed = 3;
	ck_assert_msg(synth_generate(&estate, &so, &err) == 0, "synth: %s", err.msg);
	snprintf(f->sub, sizeof(f->sub), "%s",
	    json_string_value(json_array_get(json_object_get(estate, "subscriptions"), 0)));
	eo.seed_json = estate;
	eo.time_scale = TIME_SCALE;
	eo.rng_seed = 11;
	eo.faults_json = faults;
	eo.token_lifetime = 0;
	ck_assert_msg(emulator_start(&f->e, &eo, &err) == 0, "emulator: %s", err.msg);
	json_decref(estate);
	fx_provider(f);
	subs[0] = f->sub;
	dopts.subscriptions = subs;
	dopts.nsubscriptions = 1;
	ck_assert_msg(azure_discover(&doc, f->p, &dopts, NULL, &err) == 0, "discover: %s", err.msg);
	ck_assert_msg(topology_load_json(&t, doc, "<discovered>", &err) == 0, "load: %s", err.msg);
	ck_assert_msg(topology_write_file(t, f->current_path, &err) == 0, "write: %s", err.msg);
	topology_free(t);
	ck_assert_msg(store_open(&f->st, f->db_path, true, &err) == 0, "store: %s", err.msg);
	f->events = json_array();
	emulator_requests_clear(f->e);
}

static void
fx_start(struct fx *f, unsigned hubs, unsigned spokes, const json_t *faults)
{
	fx_start_pe(f, hubs, spokes, 0, faults);
}

/* Whether any file under dir holds needle. */
static bool
tree_holds(const char *dir, const char *needle)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;

	if (d == NULL)
		return false;
	while (!found && (de = readdir(d)) != NULL) {
		char path[1024];
		struct stat sb;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &sb) != 0)
			continue;
		if (S_ISDIR(sb.st_mode)) {
			found = tree_holds(path, needle);
		} else if (S_ISREG(sb.st_mode)) {
			char *buf = NULL;
			size_t len = 0;
			struct nw_err err = { 0 };
			if (file_read_all(&buf, &len, path, (size_t)1 << 28, &err) == 0) {
				found = memmem(buf, len, needle, strlen(needle)) != NULL;
				free(buf);
			}
		}
	}
	closedir(d);
	return found;
}

/*
 * Asserts that no secret or token reached the files under dir (database,
 * journal, history) or the events a run sent.
 */
static void
assert_no_secret(const char *dir, const json_t *events)
{
	char *text = json_dumps(events, JSON_COMPACT);

	ck_assert(!tree_holds(dir, CANARY_SECRET));
	ck_assert(!tree_holds(dir, "nwemu_"));
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_null(strstr(text, CANARY_SECRET));
	ck_assert_ptr_null(strstr(text, "nwemu_"));
	free(text);
}

/* Ends a test; every test proves, once the store and history are closed, that no secret was written. */
static void
fx_stop(struct fx *f)
{
	history_close(f->h);
	store_close(f->st);
	assert_no_secret(f->dir, f->events);
	provider_free(f->p);
	emulator_stop(f->e);
	json_decref(f->plan);
	json_decref(f->events);
	test_rm_rf(f->dir);
}

/* Plans the changes ("mesh", "gateway", "summarize", joined by commas) in three waves. */
static void fx_plan_edited(struct fx *f, const char *changes, void (*edit)(json_t *plan));

static void
fx_plan(struct fx *f, const char *changes)
{
	fx_plan_edited(f, changes, NULL);
}

/* The same, with the plan edited (edit may be NULL) before it is stored. */
static void
fx_plan_edited(struct fx *f, const char *changes, void (*edit)(json_t *plan))
{
	char path[160], buf[4096];
	size_t n = 0;
	struct intent *in = NULL;
	struct topology *cur = NULL, *tgt = NULL;
	struct planner_opts po = { 0 };
	struct nw_err err = { 0 };
	json_t *tdoc = NULL;
	FILE *fp;
	int rc;

	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "{\"format\": \"netwave.intent/v1\", \"changes\": [");
	if (strstr(changes, "mesh") != NULL)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "{\"kind\": \"avnm-mesh\", \"networkManager\": "
		    "{\"id\": \"/subscriptions/%s/resourceGroups/rg-connectivity/providers/Microsoft.Network/"
		    "networkManagers/nm-test\"}, \"networkGroup\": \"mesh-spokes\", \"members\": {\"tags\": "
		    "{\"role\": \"spoke\"}}%s},", f->sub, strstr(changes, "hspe") != NULL ?
		    ", \"highScalePrivateEndpoints\": true" : "");
	if (strstr(changes, "gateway") != NULL)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "{\"kind\": \"gateway-standard-ip\", "
		    "\"gateways\": {\"all\": true}},");
	if (strstr(changes, "summarize") != NULL)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "{\"kind\": \"summarize-gateway-prefixes\", "
		    "\"hubs\": {\"tags\": {\"role\": \"hub\"}}},");
	buf[n - 1] = ']';
	snprintf(buf + n, sizeof(buf) - n, ", \"rollout\": {\"waves\": [{\"name\": \"pilot\", \"members\": "
	    "{\"tags\": {\"env\": \"dev\"}}}, {\"name\": \"light\", \"members\": {\"tags\": {\"traffic\": "
	    "\"light\"}}}, {\"name\": \"rest\"}], \"soak\": {\"betweenWaves\": \"0s\"}}}");
	snprintf(path, sizeof(path), "%s/intent.json", f->dir);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(buf, fp);
	fclose(fp);
	ck_assert_msg(intent_load_file(&in, path, &err) == 0, "intent: %s", err.msg);
	ck_assert_msg(topology_load_file(&cur, f->current_path, NULL, &err) == 0, "current: %s", err.msg);
	ck_assert_msg(intent_target(&tdoc, in, cur, &err) == 0, "target: %s", err.msg);
	ck_assert_msg(topology_load_json(&tgt, tdoc, "<target>", &err) == 0, "target: %s", err.msg);
	po.now = 1800000000;
	po.current_source = f->current_path;
	po.target_source = path;
	json_decref(f->plan);
	f->plan = NULL;
	rc = planner_plan(&f->plan, cur, tgt, &po, &err);
	ck_assert_msg(rc == 0, "plan: %s", err.msg);
	if (edit != NULL)
		edit(f->plan);
	ck_assert_msg(store_plan_save(f->st, f->plan, &err) == 0, "save: %s", err.msg);
	snprintf(f->plan_id, sizeof(f->plan_id), "%s", json_str(f->plan, "id"));
	snprintf(path, sizeof(path), "%s/target.json", f->dir);
	ck_assert_msg(topology_write_file(tgt, path, &err) == 0, "write target: %s", err.msg);
	intent_free(in);
	topology_free(cur);
	topology_free(tgt);
}

static void
collect(void *arg, const json_t *ev)
{
	struct fx *f = arg;

	if (strcmp(json_str(ev, "event"), "tick") != 0)
		json_array_append_new(f->events, json_deep_copy(ev));
}

static struct apply_opts
fx_opts(struct fx *f, enum apply_direction dir, enum apply_scope scope, const char *wave)
{
	struct apply_opts o = { 0 };

	o.direction = dir;
	o.scope = scope;
	o.wave = wave;
	o.yes = true;
	o.parallel = 8;
	o.owner = "check_apply";
	o.operator_name = "tester";
	o.history = f->h;
	o.soak_scale = TIME_SCALE;
	o.soak_wait_max = 10;
	o.poll_interval = 0.02;
	o.gate_timeout = 20;
	o.step_timeout = 60;
	o.on_event = collect;
	o.event_arg = f;
	return o;
}

static int
fx_run(struct fx *f, const struct apply_opts *o, struct apply_result *res, struct nw_err *err)
{
	return apply_run(f->st, f->p, f->plan_id, o, res, err);
}

static void
fx_ok(struct fx *f, enum apply_direction dir, enum apply_scope scope, const char *wave)
{
	struct apply_opts o = fx_opts(f, dir, scope, wave);
	struct apply_result res;
	struct nw_err err = { 0 };
	int rc = fx_run(f, &o, &res, &err);

	ck_assert_msg(rc == 0, "%s %s: rc %d: %s", dir == APPLY_FORWARD ? "apply" : "rollback",
	    wave != NULL ? wave : "", rc, err.msg);
	apply_result_clear(&res);
}

static struct topology *
fx_state(struct fx *f)
{
	struct topology *t = NULL;
	struct nw_err err = { 0 };

	ck_assert_msg(topology_load_json(&t, emulator_state(f->e), "<emulator>", &err) == 0, "state: %s",
	    err.msg);
	return t;
}

static struct topology *
fx_load(struct fx *f, const char *name)
{
	char path[160];
	struct topology *t = NULL;
	struct nw_err err = { 0 };

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	ck_assert_msg(topology_load_file(&t, path, NULL, &err) == 0, "%s: %s", name, err.msg);
	return t;
}

/* The differences between two topologies, printed; observed.circuitRoutes never differ. */
static size_t
diff_count(const struct topology *a, const struct topology *b, const char *what)
{
	struct diff d = { 0 };
	struct nw_err err = { 0 };
	size_t i, n;

	ck_assert_msg(diff_topologies(&d, a, b, &err) == 0, "diff: %s", err.msg);
	n = d.n;
	for (i = 0; i < d.n && i < 10; i++)
		fprintf(stderr, "%s: %s %s %s\n", what, diff_kind_name(d.v[i].kind), d.v[i].resource_id,
		    d.v[i].pointer);
	diff_free(&d);
	return n;
}

/* The plan's status now (apply_status), asserting that it could be read. */
static json_t *
fx_status(struct fx *f)
{
	struct nw_err err = { 0 };
	json_t *st = NULL;

	ck_assert_msg(apply_status(&st, f->st, f->plan_id, time(NULL), &err) == 0, "status: %s", err.msg);
	return st;
}

/* Asserts that the emulator's estate is the plan's target; what names the moment in the diff's lines. */
static void
fx_assert_at_target(struct fx *f, const char *what)
{
	struct topology *tgt = fx_load(f, "target.json"), *now = fx_state(f);

	ck_assert_uint_eq(diff_count(tgt, now, what), 0);
	topology_free(tgt);
	topology_free(now);
}

/* The position of the plan's wave called name, or -1. */
static int
wave_index(struct fx *f, const char *name)
{
	size_t i;

	if (json_array_find(json_object_get(f->plan, "waves"), "name", name, strcmp, &i) == NULL)
		return -1;
	return (int)i;
}

/* Whether path ends with suffix, ignoring case as ARM does in paths. */
static bool
path_ends_with(const char *path, const char *suffix)
{
	size_t lp = path != NULL ? strlen(path) : 0, ls = strlen(suffix);

	return path != NULL && lp >= ls && strcasecmp(path + lp - ls, suffix) == 0;
}

static size_t
plan_steps_named(struct fx *f, const char *suffix)
{
	const json_t *w, *s;
	size_t i, k, n = 0;

	json_array_foreach(json_object_get(f->plan, "waves"), i, w)
		json_array_foreach(json_object_get(w, "steps"), k, s)
			if (path_ends_with(json_path_str(s, "operation", "path", NULL), suffix))
				n++;
	return n;
}

/*
 * Requests the emulator logged with this status (0: any 2xx), method
 * (NULL: any) and path ending with suffix (NULL: any).
 */
static size_t
count_requests(struct fx *f, int status, const char *method, const char *suffix)
{
	json_t *log = emulator_requests(f->e), *r;
	size_t i, n = 0;

	json_array_foreach(log, i, r) {
		const char *m = json_str(r, "method");
		json_int_t st = json_integer_value(json_object_get(r, "status"));

		if ((status != 0 ? st == status : st >= 200 && st < 300) &&
		    (method == NULL || (m != NULL && strcmp(m, method) == 0)) &&
		    (suffix == NULL || path_ends_with(json_str(r, "path"), suffix)))
			n++;
	}
	json_decref(log);
	return n;
}

/* Accepted (2xx) POST requests whose path ends with suffix. */
static size_t
accepted_posts(struct fx *f, const char *suffix)
{
	return count_requests(f, 0, "POST", suffix);
}

static size_t
count_status(struct fx *f, int status)
{
	return count_requests(f, status, NULL, NULL);
}

static size_t
count_events(struct fx *f, const char *name)
{
	const json_t *ev;
	size_t i, n = 0;

	json_array_foreach(f->events, i, ev)
		if (strcmp(json_str(ev, "event"), name) == 0)
			n++;
	return n;
}

static bool
has_event(struct fx *f, const char *name)
{
	return count_events(f, name) > 0;
}

/* ------------------------------------------------------------------ */
/* Tests */

START_TEST(test_a_three_wave_mesh_migration_ends_at_the_target)
{
	struct fx f;
	json_t *waves = NULL;
	struct nw_err err = { 0 };

	fx_start(&f, 2, 6, NULL);
	fx_plan(&f, "mesh");
	ck_assert_int_eq(wave_index(&f, "rest"), 3);
	fx_ok(&f, APPLY_FORWARD, APPLY_ALL, NULL);
	fx_assert_at_target(&f, "target vs estate");
	ck_assert_int_eq(store_wave_list(f.st, f.plan_id, &waves, &err), 0);
	ck_assert_str_eq(json_str(json_array_get(waves, 3), "status"), "done");
	ck_assert_uint_eq(accepted_posts(&f, "/commit"), plan_steps_named(&f, "/commit"));
	json_decref(waves);
	fx_stop(&f);
}
END_TEST

START_TEST(test_rolling_back_each_wave_restores_the_estate_from_before_it)
{
	struct fx f;
	struct topology *before[4] = { NULL }, *now;
	int i;

	fx_start(&f, 2, 6, NULL);
	fx_plan(&f, "mesh");
	for (i = 0; i < 4; i++) {
		before[i] = fx_state(&f);
		fx_ok(&f, APPLY_FORWARD, APPLY_NEXT, NULL);
	}
	for (i = 3; i >= 0; i--) {
		char what[64];
		fx_ok(&f, APPLY_ROLLBACK, APPLY_NEXT, NULL);
		now = fx_state(&f);
		snprintf(what, sizeof(what), "before wave %d vs after its rollback", i);
		ck_assert_uint_eq(diff_count(before[i], now, what), 0);
		topology_free(now);
	}
	ck_assert(has_event(&f, "rollback-proven"));
	ck_assert(!has_event(&f, "rollback-not-proven"));
	for (i = 0; i < 4; i++)
		topology_free(before[i]);
	fx_stop(&f);
}
END_TEST

/* The first resource of t whose id ends with suffix (ignoring case), or NULL. */
static json_t *
find_res(struct topology *t, const char *suffix)
{
	size_t i;

	for (i = 0; i < t->nres; i++)
		if (path_ends_with(t->res[i].id, suffix))
			return t->res[i].json;
	return NULL;
}

/*
 * Asserts that the estate now holds the gateway whose id ends with kept,
 * at migration phase phase, and none whose id ends with gone.
 */
static void
assert_gateway_phase(struct topology *now, const char *gone, const char *kept, const char *phase)
{
	const json_t *gw = find_res(now, kept);

	ck_assert_ptr_null(find_res(now, gone));
	ck_assert_msg(gw != NULL, "no gateway %s", kept);
	ck_assert_str_eq(json_path_str(gw, "properties", "virtualNetworkGatewayMigrationStatus", "phase", NULL),
	    phase);
}

START_TEST(test_a_gateway_migration_goes_through_commit_and_rollback_stops_in_front_of_it)
{
	struct fx f;
	struct topology *now;
	struct apply_opts o;
	struct apply_result res;
	struct nw_err err = { 0 };
	int rc;

	fx_start(&f, 1, 2, NULL);
	fx_plan(&f, "gateway");
	ck_assert_int_ge(wave_index(&f, "gateways-1-commit"), 0);
	fx_ok(&f, APPLY_FORWARD, APPLY_ALL, NULL);
	now = fx_state(&f);
	assert_gateway_phase(now, "/virtualNetworkGateways/ergw-hub-01",
	    "/virtualNetworkGateways/ergw-hub-01_migrate", "CommitSucceeded");
	ck_assert_uint_eq(accepted_posts(&f, "/prepareMigration"), 1);
	ck_assert_uint_eq(accepted_posts(&f, "/executeMigration"), 1);
	ck_assert_uint_eq(accepted_posts(&f, "/commitMigration"), 1);
	/* the new gateway was found by fact after prepare, where the plan predicted it */
	ck_assert(has_event(&f, "migrated-gateway-found"));
	ck_assert(!has_event(&f, "migrated-gateway-unexpected"));
	topology_free(now);
	o = fx_opts(&f, APPLY_ROLLBACK, APPLY_NEXT, NULL);
	rc = fx_run(&f, &o, &res, &err);
	ck_assert_int_eq(rc, NW_EIRREVERSIBLE);
	ck_assert_msg(strstr(err.msg, "cannot be undone") != NULL && strstr(err.msg, "commitMigration") != NULL,
	    "%s", err.msg);
	ck_assert_uint_eq(accepted_posts(&f, "/abortMigration"), 0);
	apply_result_clear(&res);
	fx_stop(&f);
}
END_TEST

/* A plan that predicted another name than the one Azure gives (as if Azure ignored the chosen one). */
static void
predict_another_name(json_t *plan)
{
	const json_t *w, *st;
	size_t i, k;

	json_array_foreach(json_object_get(plan, "waves"), i, w)
		json_array_foreach(json_object_get(w, "steps"), k, st) {
			const char *p = json_str(st, "newGateway");
			if (p != NULL && strstr(p, "_migrate") != NULL) {
				char *other = NULL;
				ck_assert_int_ge(asprintf(&other, "%.*s-az", (int)(strlen(p) - strlen("_migrate")), p), 0);
				json_object_set_new((json_t *)st, "newGateway", json_string(other));
				free(other);
			}
		}
}

START_TEST(test_the_gateway_a_migration_made_is_found_by_fact_when_the_plan_guessed_wrong)
{
	struct fx f;
	struct topology *now;
	const json_t *ev;
	size_t i;
	bool said = false;

	fx_start(&f, 1, 2, NULL);
	fx_plan_edited(&f, "gateway", predict_another_name);
	fx_ok(&f, APPLY_FORWARD, APPLY_ALL, NULL);
	now = fx_state(&f);
	ck_assert_ptr_null(find_res(now, "/virtualNetworkGateways/ergw-hub-01-az"));
	ck_assert_ptr_nonnull(find_res(now, "/virtualNetworkGateways/ergw-hub-01_migrate"));
	/* the event names both; the commit and its gate went by the one found */
	json_array_foreach(f.events, i, ev)
		if (strcmp(json_str(ev, "event"), "migrated-gateway-unexpected") == 0) {
			ck_assert_ptr_nonnull(strstr(json_str(ev, "predicted"), "/ergw-hub-01-az"));
			ck_assert_ptr_nonnull(strstr(json_str(ev, "found"), "/ergw-hub-01_migrate"));
			said = true;
		}
	ck_assert(said);
	ck_assert_uint_eq(accepted_posts(&f, "/commitMigration"), 1);
	ck_assert(!has_event(&f, "gate-failed"));
	topology_free(now);
	fx_stop(&f);
}
END_TEST

START_TEST(test_a_gateway_migration_rolled_back_before_commit_is_aborted)
{
	struct fx f;
	struct topology *before, *now;

	fx_start(&f, 1, 2, NULL);
	fx_plan(&f, "gateway");
	before = fx_state(&f);
	fx_ok(&f, APPLY_FORWARD, APPLY_WAVE, "gateways-1");
	now = fx_state(&f);
	ck_assert_ptr_nonnull(find_res(now, "/virtualNetworkGateways/ergw-hub-01_migrate"));
	topology_free(now);
	fx_ok(&f, APPLY_ROLLBACK, APPLY_NEXT, NULL);
	now = fx_state(&f);
	assert_gateway_phase(now, "/virtualNetworkGateways/ergw-hub-01_migrate",
	    "/virtualNetworkGateways/ergw-hub-01", "AbortSucceeded");
	/* one abort undoes both prepare and execute */
	ck_assert_uint_eq(accepted_posts(&f, "/abortMigration"), 1);
	ck_assert(has_event(&f, "rollback-proven"));
	/* the aborted gateway is forgotten: applying again finds the new one again, by fact */
	ck_assert_uint_eq(count_events(&f, "migrated-gateway-found"), 1);
	topology_free(now);
	fx_ok(&f, APPLY_FORWARD, APPLY_WAVE, "gateways-1");
	ck_assert_uint_eq(count_events(&f, "migrated-gateway-found"), 2);
	now = fx_state(&f);
	ck_assert_ptr_nonnull(find_res(now, "/virtualNetworkGateways/ergw-hub-01_migrate"));
	topology_free(before);
	topology_free(now);
	fx_stop(&f);
}
END_TEST

/* A user route for another pilot spoke's space to None on the first pilot spoke's workload subnet. */
static void
break_a_mesh_route(struct fx *f)
{
	struct topology *t = fx_state(f);
	struct nw_err err = { 0 };
	const json_t *w = json_array_get(json_object_get(f->plan, "waves"), (size_t)wave_index(f, "pilot"));
	const char *a = json_string_value(json_array_get(json_object_get(w, "members"), 0));
	const char *b = json_string_value(json_array_get(json_object_get(w, "members"), 1));
	struct topo_vnet *va = topology_find_vnet(t, a), *vb = topology_find_vnet(t, b);
	json_t *rt, *vnet, *sub;
	char rtid[512], pfx[CIDR_STRLEN];
	size_t i;

	ck_assert_ptr_nonnull(va);
	ck_assert_ptr_nonnull(vb);
	cidr_format(&vb->prefixes.v[0], pfx);
	snprintf(rtid, sizeof(rtid), "/subscriptions/%s/resourceGroups/rg-connectivity/providers/"
	    "Microsoft.Network/routeTables/rt-break", f->sub);
	rt = json_pack("{s:s, s:s, s:s, s:s, s:{s:b, s:[{s:s, s:s, s:{s:s, s:s}}]}}", "id", rtid, "name",
	    "rt-break", "type", "Microsoft.Network/routeTables", "location", "eastus", "properties",
	    "disableBgpRoutePropagation", 0, "routes", "name", "drop", "id", "x", "properties",
	    "addressPrefix", pfx, "nextHopType", "None");
	json_object_set_new(json_array_get(json_path(rt, "properties", "routes", NULL), 0), "id",
	    json_sprintf("%s/routes/drop", rtid));
	ck_assert_int_eq(emulator_resource_put(f->e, rtid, rt, &err), 0);
	vnet = json_deep_copy(va->res->json);
	json_array_foreach(json_path(vnet, "properties", "subnets", NULL), i, sub)
		if (strcmp(json_str(sub, "name"), "workload") == 0)
			json_object_set_new(json_object_get(sub, "properties"), "routeTable",
			    json_pack("{s:s}", "id", rtid));
	ck_assert_int_eq(emulator_resource_put(f->e, a, vnet, &err), 0);
	json_decref(rt);
	json_decref(vnet);
	topology_free(t);
}

START_TEST(test_a_missing_route_fails_the_gate_and_stops_the_run)
{
	struct fx f;
	struct apply_opts o;
	struct apply_result res;
	struct nw_err err = { 0 };
	json_t *waves = NULL;
	int rc;

	fx_start(&f, 2, 6, NULL);
	fx_plan(&f, "mesh");
	fx_ok(&f, APPLY_FORWARD, APPLY_NEXT, NULL); /* prepare */
	break_a_mesh_route(&f);
	o = fx_opts(&f, APPLY_FORWARD, APPLY_ALL, NULL);
	rc = fx_run(&f, &o, &res, &err);
	ck_assert_int_eq(rc, NW_EFAIL);
	ck_assert_msg(strstr(err.msg, "effective-routes") != NULL, "%s", err.msg);
	ck_assert_ptr_nonnull(res.evidence);
	ck_assert_str_eq(json_str(res.evidence, "outcome"), "failed");
	ck_assert_uint_ge(json_array_size(json_path(res.evidence, "evidence", "missing", NULL)), 1);
	ck_assert_int_eq(store_wave_list(f.st, f.plan_id, &waves, &err), 0);
	ck_assert_str_eq(json_str(json_array_get(waves, 1), "status"), "failed");
	ck_assert_str_eq(json_str(json_array_get(waves, 2), "status"), "pending");
	json_decref(waves);
	apply_result_clear(&res);
	fx_stop(&f);
}
END_TEST

START_TEST(test_auto_rollback_undoes_a_wave_whose_gate_failed_and_proves_it)
{
	struct fx f;
	struct apply_opts o;
	struct apply_result res;
	struct nw_err err = { 0 };
	struct topology *before, *now;
	json_t *waves = NULL;
	int rc;

	fx_start(&f, 2, 6, NULL);
	fx_plan(&f, "mesh");
	fx_ok(&f, APPLY_FORWARD, APPLY_NEXT, NULL);
	break_a_mesh_route(&f);
	before = fx_state(&f);
	o = fx_opts(&f, APPLY_FORWARD, APPLY_NEXT, NULL);
	o.auto_rollback = true;
	rc = fx_run(&f, &o, &res, &err);
	ck_assert_int_eq(rc, NW_EFAIL);
	ck_assert(res.rolled_back);
	ck_assert_msg(strstr(err.msg, "rolled back and the way back proven") != NULL, "%s", err.msg);
	ck_assert(has_event(&f, "rollback-proven"));
	now = fx_state(&f);
	ck_assert_uint_eq(diff_count(before, now, "before pilot vs after its automatic rollback"), 0);
	ck_assert_int_eq(store_wave_list(f.st, f.plan_id, &waves, &err), 0);
	ck_assert_str_eq(json_str(json_array_get(waves, 1), "status"), "rolled-back");
	json_decref(waves);
	/* status shows why: the gate that failed, failed, with its evidence */
	{
		json_t *st = NULL;
		const json_t *g, *wv;
		size_t i;
		bool seen = false;

		st = fx_status(&f);
		wv = json_array_get(json_object_get(st, "waves"), 1);
		ck_assert_str_eq(json_str(wv, "status"), "rolled-back");
		json_array_foreach(json_object_get(wv, "gates"), i, g)
			if (strcmp(json_str(g, "kind"), "effective-routes") == 0 &&
			    strcmp(json_str(g, "status"), "failed") == 0) {
				seen = true;
				ck_assert_ptr_nonnull(json_object_get(g, "evidence"));
				ck_assert_ptr_nonnull(json_path(g, "evidence", "summary", NULL));
			}
		ck_assert_msg(seen, "no failed effective-routes gate in the status after the rollback");
		json_decref(st);
	}
	topology_free(before);
	topology_free(now);
	apply_result_clear(&res);
	fx_stop(&f);
}
END_TEST

/*
 * Stops a run (as SIGTERM does) at the first event named at that comes
 * after one named after (NULL: from the start); the events are collected
 * as usual.
 */
struct interrupter {
	struct fx *f;
	const char *after;
	const char *at;
	bool armed;
	volatile sig_atomic_t flag;
};

static void
interrupt_on_event(void *arg, const json_t *ev)
{
	struct interrupter *in = arg;
	const char *name = json_str(ev, "event");

	collect(in->f, ev);
	if (in->after != NULL && strcmp(name, in->after) == 0)
		in->armed = true;
	if (in->armed && strcmp(name, in->at) == 0)
		in->flag = 1;
}

/* Has in stop the run o starts (see struct interrupter). */
static void
fx_interrupt(struct fx *f, struct apply_opts *o, struct interrupter *in, const char *after, const char *at)
{
	memset(in, 0, sizeof(*in));
	in->f = f;
	in->after = after;
	in->at = at;
	in->armed = after == NULL;
	o->on_event = interrupt_on_event;
	o->event_arg = in;
	o->interrupt = &in->flag;
}

START_TEST(test_status_after_an_interrupted_rollback_says_so_and_how_to_resume)
{
	struct fx f;
	struct apply_opts o;
	struct apply_result res;
	struct nw_err err = { 0 };
	struct interrupter in;
	json_t *st = NULL, *waves = NULL;
	const json_t *wv;
	int rc;

	fx_start(&f, 2, 6, NULL);
	fx_plan(&f, "mesh");
	fx_ok(&f, APPLY_FORWARD, APPLY_NEXT, NULL);
	break_a_mesh_route(&f);
	o = fx_opts(&f, APPLY_FORWARD, APPLY_NEXT, NULL);
	o.auto_rollback = true;
	o.parallel = 1;
	/* once the automatic rollback has undone a step */
	fx_interrupt(&f, &o, &in, "auto-rollback", "step-rolled-back");
	rc = fx_run(&f, &o, &res, &err);
	ck_assert_msg(rc == NW_EPARTIAL, "rc %d: %s", rc, err.msg);
	apply_result_clear(&res);
	st = fx_status(&f);
	wv = json_array_get(json_object_get(st, "waves"), 1);
	/* not "running": no run is on it; it stopped part way through its rollback */
	ck_assert_str_eq(json_str(wv, "status"), "interrupted");
	ck_assert_str_eq(json_str(wv, "interruptedDuring"), "rollback");
	ck_assert_int_ge(json_integer_value(json_path(wv, "steps", "rolled-back", NULL)), 1);
	ck_assert_msg(strstr(json_path_str(st, "next", "command", NULL), "netwave rollback ") != NULL,
	    "%s", json_path_str(st, "next", "command", NULL));
	ck_assert_msg(strstr(json_path_str(st, "next", "action", NULL), "resume the rollback") != NULL,
	    "%s", json_path_str(st, "next", "action", NULL));
	json_decref(st);
	/* and that command finishes the rollback */
	fx_ok(&f, APPLY_ROLLBACK, APPLY_WAVE, "pilot");
	ck_assert_int_eq(store_wave_list(f.st, f.plan_id, &waves, &err), 0);
	ck_assert_str_eq(json_str(json_array_get(waves, 1), "status"), "rolled-back");
	json_decref(waves);
	fx_stop(&f);
}
END_TEST

START_TEST(test_drift_between_plan_and_apply_stops_naming_the_property)
{
	struct fx f;
	struct apply_opts o;
	struct apply_result res;
	struct nw_err err = { 0 };
	struct topology *t;
	json_t *hub;
	int rc;

	fx_start(&f, 2, 2, NULL);
	fx_plan(&f, "summarize");
	t = fx_state(&f);
	hub = json_deep_copy(find_res(t, "/virtualNetworks/hub-02"));
	json_object_set_new(json_object_get(hub, "properties"), "enableDdosProtection", json_true());
	ck_assert_int_eq(emulator_resource_put(f.e, json_str(hub, "id"), hub, &err), 0);
	emulator_requests_clear(f.e);
	o = fx_opts(&f, APPLY_FORWARD, APPLY_ALL, NULL);
	rc = fx_run(&f, &o, &res, &err);
	ck_assert_int_eq(rc, NW_ESTALE);
	ck_assert_msg(strstr(err.msg, "hub-02") != NULL && strstr(err.msg, "/properties/enableDdosProtection")
	    != NULL, "%s", err.msg);
	ck_assert_ptr_nonnull(res.evidence);
	/* nothing was written */
	ck_assert_uint_eq(accepted_posts(&f, ""), 0);
	{
		json_t *log = emulator_requests(f.e), *r;
		size_t i;
		json_array_foreach(log, i, r)
			ck_assert_str_eq(json_str(r, "method"), "GET");
		json_decref(log);
	}
	apply_result_clear(&res);
	json_decref(hub);
	topology_free(t);
	fx_stop(&f);
}
END_TEST

START_TEST(test_a_second_run_on_a_held_plan_gets_locked_naming_the_holder)
{
	struct fx f;
	struct apply_opts o;
	struct apply_result res;
	struct nw_err err = { 0 };
	sqlite3 *db = NULL;
	char sql[512], host[256];
	int rc;

	fx_start(&f, 1, 2, NULL);
	fx_plan(&f, "summarize");
	gethostname(host, sizeof(host));
	/* pid 1 is alive on every Linux host: a live holder that is not us */
	ck_assert_int_eq(sqlite3_open(f.db_path, &db), SQLITE_OK);
	snprintf(sql, sizeof(sql), "INSERT INTO leases (plan_id, owner, pid, host, acquired_at, expires_at) "
	    "VALUES ('%s', 'alice apply', 1, '%s', %ld, %ld)", f.plan_id, host, (long)time(NULL),
	    (long)time(NULL) + 600);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	o = fx_opts(&f, APPLY_FORWARD, APPLY_ALL, NULL);
	rc = fx_run(&f, &o, &res, &err);
	ck_assert_int_eq(rc, NW_ELOCKED);
	ck_assert_msg(strstr(err.msg, "alice apply") != NULL, "%s", err.msg);
	ck_assert_uint_eq(accepted_posts(&f, ""), 0);
	apply_result_clear(&res);
	fx_stop(&f);
}
END_TEST

/*
 * Applies the whole plan with the engine killed after crash_after journal
 * writes; when it was, applies again as a new process would (a new
 * provider: in-flight requests die with the old one), at most three times.
 * Asserts, naming what, that the run then completed and sent every commit
 * exactly once; returns whether the crash happened.
 */
static bool
fx_crash_and_resume(struct fx *f, unsigned crash_after, const char *what)
{
	struct apply_opts o = fx_opts(f, APPLY_FORWARD, APPLY_ALL, NULL);
	struct apply_result res;
	struct nw_err err = { 0 };
	int rc, again = 0;
	bool crashed;

	o.crash_after = crash_after;
	rc = fx_run(f, &o, &res, &err);
	apply_result_clear(&res);
	crashed = rc == NW_EPARTIAL;
	if (crashed) {
		fx_provider(f);
		o.crash_after = 0;
		do {
			err_clear(&err);
			rc = fx_run(f, &o, &res, &err);
			apply_result_clear(&res);
		} while (rc == NW_EPARTIAL && ++again < 3);
	}
	ck_assert_msg(rc == 0, "%s: rc %d: %s", what, rc, err.msg);
	ck_assert_msg(accepted_posts(f, "/commit") == plan_steps_named(f, "/commit"),
	    "%s: %zu commits accepted for %zu commit steps", what, accepted_posts(f, "/commit"),
	    plan_steps_named(f, "/commit"));
	return crashed;
}

START_TEST(test_killed_at_random_step_boundaries_the_run_resumes_without_duplicates)
{
	unsigned trial, seed = 20261121, crashed = 0, reconciled = 0;

	for (trial = 0; trial < 24; trial++) {
		struct fx f;
		unsigned after;
		char what[64];

		fx_start(&f, 1, 4, NULL);
		fx_plan(&f, trial % 3 == 2 ? "mesh,gateway" : "mesh");
		seed = seed * 1103515245u + 12345u;
		after = 1 + (seed >> 8) % 40;
		snprintf(what, sizeof(what), "trial %u (crash after %u writes)", trial, after);
		if (fx_crash_and_resume(&f, after, what))
			crashed++;
		ck_assert_uint_le(accepted_posts(&f, "/prepareMigration"), plan_steps_named(&f, "/prepareMigration"));
		ck_assert_uint_le(accepted_posts(&f, "/executeMigration"), plan_steps_named(&f, "/executeMigration"));
		ck_assert_uint_le(accepted_posts(&f, "/commitMigration"), plan_steps_named(&f, "/commitMigration"));
		if (has_event(&f, "step-reconcile"))
			reconciled++;
		if (trial % 3 != 2) {
			fx_assert_at_target(&f, "target vs estate after a crash");
		}
		fx_stop(&f);
	}
	fprintf(stderr, "crash trials: %u crashed, %u with a started step to reconcile\n", crashed,
	    reconciled);
	ck_assert_uint_ge(crashed, 20);
	ck_assert_uint_ge(reconciled, 5);
}
END_TEST

/*
 * Every journal write in turn, not a random sample: a crash between a
 * commit's "started" and its request matters most in the waves after the
 * first, whose commits re-deploy a goal state that is already deployed.
 */
START_TEST(test_crash_after_every_journal_write_sends_each_commit_exactly_once)
{
	unsigned k, crashed = 0;
	bool stopped = true;

	/* until the whole run takes fewer writes than k: every boundary was tried */
	for (k = 1; k <= 80 && stopped; k++) {
		struct fx f;
		char what[64];

		fx_start(&f, 1, 4, NULL);
		fx_plan(&f, "mesh");
		snprintf(what, sizeof(what), "crash after %u writes", k);
		stopped = fx_crash_and_resume(&f, k, what);
		if (stopped)
			crashed++;
		fx_stop(&f);
	}
	ck_assert_uint_ge(crashed, 10);
	ck_assert(!stopped);
}
END_TEST

START_TEST(test_throttling_and_server_error_storms_are_survived)
{
	struct fx f;
	struct topology *tgt, *now;
	json_t *faults = json_pack("{s:s, s:[{s:s, s:s, s:f, s:s, s:i, s:i}, {s:s, s:f, s:s, s:i}, "
	    "{s:s, s:s, s:f, s:s, s:i}, {s:s, s:s, s:i, s:s, s:i, s:s}]}",
	    "format", "netwave.faults/v1", "rules",
	    "method", "PUT", "path", "*/staticMembers/*", "probability", 0.4, "action", "error", "status", 429,
	    "retryAfter", 1,
	    "method", "GET", "probability", 0.15, "action", "error", "status", 503,
	    "method", "PUT", "path", "*/networkManagers/*", "probability", 0.3, "action", "error",
	    "status", 500,
	    "method", "POST", "path", "*/commit", "nth", 1, "action", "error", "status", 409,
	    "code", "AnotherOperationInProgress");

	fx_start(&f, 2, 5, faults);
	fx_plan(&f, "mesh");
	fx_ok(&f, APPLY_FORWARD, APPLY_ALL, NULL);
	ck_assert_uint_ge(count_status(&f, 429), 1);
	ck_assert_uint_ge(count_status(&f, 503), 1);
	tgt = fx_load(&f, "target.json");
	now = fx_state(&f);
	ck_assert_uint_eq(diff_count(tgt, now, "target vs estate after storms"), 0);
	ck_assert_uint_eq(accepted_posts(&f, "/commit"), plan_steps_named(&f, "/commit"));
	topology_free(tgt);
	topology_free(now);
	json_decref(faults);
	fx_stop(&f);
}
END_TEST

START_TEST(test_an_expired_token_is_refreshed_mid_run)
{
	struct fx f;
	struct emulator_opts eo = { 0 };
	struct nw_err err = { 0 };
	struct provider_stats ps;

	fx_start(&f, 1, 4, NULL);
	fx_plan(&f, "mesh");
	/* a new emulator on the same estate whose tokens live one second; our clock never moves */
	eo.seed_json = emulator_state(f.e);
	eo.time_scale = TIME_SCALE;
	eo.token_lifetime = 1;
	emulator_stop(f.e);
	ck_assert_int_eq(emulator_start(&f.e, &eo, &err), 0);
	json_decref((json_t *)eo.seed_json);
	f.frozen_clock = true;
	fx_provider(&f);
	fx_ok(&f, APPLY_FORWARD, APPLY_NEXT, NULL);
	sleep(2);
	fx_ok(&f, APPLY_FORWARD, APPLY_ALL, NULL);
	ck_assert_uint_ge(count_status(&f, 401), 1);
	provider_stats_get(f.p, &ps);
	ck_assert_uint_ge(ps.auth, 2);
	fx_assert_at_target(&f, "target vs estate after a token refresh");
	fx_stop(&f);
}
END_TEST

START_TEST(test_history_has_one_commit_per_wave_and_no_secret_is_stored_anywhere)
{
	struct fx f;
	struct nw_err err = { 0 };
	char hdir[160];
	json_t *log = NULL, *c, *show = NULL;
	size_t i, applied = 0;

	fx_start(&f, 2, 4, NULL);
	snprintf(hdir, sizeof(hdir), "%s/netwave-history", f.dir);
	ck_assert_int_eq(history_open(&f.h, hdir, true, &err), 0);
	fx_plan(&f, "mesh");
	fx_ok(&f, APPLY_FORWARD, APPLY_ALL, NULL);
	fx_ok(&f, APPLY_ROLLBACK, APPLY_NEXT, NULL);
	ck_assert_int_eq(history_log(f.h, 0, &log, &err), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(log, "commits")), 5);
	json_array_foreach(json_object_get(log, "commits"), i, c) {
		const json_t *t = json_object_get(c, "trailers");
		ck_assert_str_eq(json_str(t, "Plan-Id"), f.plan_id);
		ck_assert_str_eq(json_str(t, "Operator"), "tester");
		ck_assert_ptr_nonnull(json_str(t, "Wave"));
		ck_assert_ptr_nonnull(json_str(t, "Steps"));
		if (strstr(json_str(c, "subject"), "apply") != NULL) {
			applied++;
			ck_assert_uint_eq(json_array_size(json_object_get(c, "tags")), 1);
		}
	}
	ck_assert_uint_eq(applied, 4);
	/* the newest is the rollback of rest; the one before it, rest applied, wrote its static members */
	ck_assert_str_eq(json_path_str(json_array_get(json_object_get(log, "commits"), 0), "trailers", "Wave",
	    NULL), "rest");
	{
		char tag[128];
		bool member = false;
		snprintf(tag, sizeof(tag), "%s/rest/applied", f.plan_id);
		ck_assert_int_eq(history_show(f.h, tag, NULL, &show, &err), 0);
		json_array_foreach(json_object_get(show, "files"), i, c)
			if (strstr(json_str(c, "path"), "/staticMembers/") != NULL &&
			    strcmp(json_str(c, "status"), "added") == 0)
				member = true;
		ck_assert(member);
	}
	/* no secret or token anywhere: database, journal, history, events */
	assert_no_secret(f.dir, f.events);
	json_decref(log);
	json_decref(show);
	fx_stop(&f);
}
END_TEST

START_TEST(test_irreversible_steps_need_a_confirmation)
{
	struct fx f;
	struct apply_opts o;
	struct apply_result res;
	struct nw_err err = { 0 };
	int rc;

	fx_start(&f, 1, 2, NULL);
	fx_plan(&f, "gateway");
	fx_ok(&f, APPLY_FORWARD, APPLY_WAVE, "gateways-1");
	emulator_requests_clear(f.e);
	o = fx_opts(&f, APPLY_FORWARD, APPLY_NEXT, NULL);
	o.yes = false;
	rc = fx_run(&f, &o, &res, &err);
	ck_assert_int_eq(rc, NW_EIRREVERSIBLE);
	ck_assert_msg(strstr(err.msg, "--yes") != NULL && strstr(err.msg, "irreversible") != NULL, "%s",
	    err.msg);
	ck_assert_uint_eq(accepted_posts(&f, "/commitMigration"), 0);
	apply_result_clear(&res);
	fx_ok(&f, APPLY_FORWARD, APPLY_NEXT, NULL);
	ck_assert_uint_eq(accepted_posts(&f, "/commitMigration"), 1);
	fx_stop(&f);
}
END_TEST

START_TEST(test_a_soak_not_yet_passed_stops_the_run_with_the_time_it_needs)
{
	struct fx f;
	struct apply_opts o;
	struct apply_result res;
	struct nw_err err = { 0 };
	json_t *st = NULL;
	int rc;

	fx_start(&f, 1, 2, NULL);
	fx_plan(&f, "gateway");
	o = fx_opts(&f, APPLY_FORWARD, APPLY_ALL, NULL);
	o.soak_scale = 1;
	o.soak_wait_max = 0;
	rc = fx_run(&f, &o, &res, &err);
	ck_assert_int_eq(rc, NW_EPARTIAL);
	ck_assert_msg(strstr(err.msg, "soaking") != NULL && strstr(err.msg, "gateways-1-commit") != NULL,
	    "%s", err.msg);
	ck_assert_str_ne(res.soak_until, "");
	ck_assert_uint_eq(accepted_posts(&f, "/commitMigration"), 0);
	st = fx_status(&f);
	ck_assert(json_is_true(json_path(json_array_get(json_object_get(st, "waves"), 0), "soak", "running",
	    NULL)));
	ck_assert(json_is_true(json_path(st, "next", "blockedBySoak", NULL)));
	ck_assert_str_eq(json_path_str(st, "next", "wave", NULL), "gateways-1-commit");
	json_decref(st);
	apply_result_clear(&res);
	fx_stop(&f);
}
END_TEST

START_TEST(test_an_interrupted_run_stops_partial_and_the_same_call_resumes)
{
	struct fx f;
	struct apply_opts o;
	struct apply_result res;
	struct nw_err err = { 0 };
	struct interrupter in;
	json_t *st = NULL;
	int rc;

	fx_start(&f, 2, 6, NULL);
	fx_plan(&f, "mesh");
	o = fx_opts(&f, APPLY_FORWARD, APPLY_ALL, NULL);
	fx_interrupt(&f, &o, &in, NULL, "step-done");
	rc = fx_run(&f, &o, &res, &err);
	ck_assert_int_eq(rc, NW_EPARTIAL);
	apply_result_clear(&res);
	st = fx_status(&f);
	ck_assert_ptr_null(json_object_get(st, "lease") != NULL && !json_is_null(json_object_get(st, "lease")) ?
	    (void *)1 : NULL);
	json_decref(st);
	fx_ok(&f, APPLY_FORWARD, APPLY_ALL, NULL);
	fx_assert_at_target(&f, "target vs estate after an interruption");
	fx_stop(&f);
}
END_TEST

START_TEST(test_status_names_waves_steps_gates_and_what_is_next)
{
	struct fx f;
	json_t *st = NULL;
	const json_t *w;

	fx_start(&f, 2, 4, NULL);
	fx_plan(&f, "mesh");
	fx_ok(&f, APPLY_FORWARD, APPLY_THROUGH, "pilot");
	st = fx_status(&f);
	ck_assert_str_eq(json_str(st, "format"), "netwave.status/v1");
	w = json_array_get(json_object_get(st, "waves"), 1);
	ck_assert_str_eq(json_str(w, "name"), "pilot");
	ck_assert_str_eq(json_str(w, "status"), "done");
	ck_assert_int_eq(json_integer_value(json_path(w, "steps", "done", NULL)),
	    json_integer_value(json_path(w, "steps", "total", NULL)));
	ck_assert_str_eq(json_str(json_array_get(json_object_get(w, "gates"), 0), "status"), "passed");
	ck_assert_str_eq(json_path_str(st, "next", "wave", NULL), "light");
	ck_assert_str_eq(json_path_str(st, "next", "action", NULL), "apply");
	json_decref(st);
	fx_stop(&f);
}
END_TEST

/* POSTs ending in suffix that ARM carried out: answered 2xx, or carried out then reset (reset-after). */
static size_t
carried_out_posts(struct fx *f, const char *suffix)
{
	json_t *log = emulator_requests(f->e), *r;
	size_t i, n = 0, ls = strlen(suffix);

	json_array_foreach(log, i, r) {
		const char *m = json_str(r, "method"), *p = json_str(r, "path");
		json_int_t st = json_integer_value(json_object_get(r, "status"));
		bool reset = json_is_true(json_object_get(r, "reset"));
		if (m != NULL && strcmp(m, "POST") == 0 && p != NULL && strlen(p) >= ls &&
		    strcasecmp(p + strlen(p) - ls, suffix) == 0 && ((st >= 200 && st < 300) || reset))
			n++;
	}
	json_decref(log);
	return n;
}

/* Subnets written by the HSPE wave are judged as themselves, never as drift of their VNets. */
START_TEST(test_an_hspe_wave_and_the_waves_after_it_see_no_false_drift_in_subnets)
{
	struct fx f;
	json_t *ev;
	size_t i, subnet_steps = 0;
	const json_t *w, *st;

	fx_start_pe(&f, 1, 3, 1, NULL);
	fx_plan(&f, "mesh,hspe");
	ck_assert_int_ge(wave_index(&f, "hspe-hub-01"), 0);
	json_array_foreach(json_object_get(f.plan, "waves"), i, w) {
		size_t k;
		json_array_foreach(json_object_get(w, "steps"), k, st)
			if (strstr(json_str(st, "resource"), "/subnets/") != NULL)
				subnet_steps++;
	}
	ck_assert_uint_gt(subnet_steps, 0);
	fx_ok(&f, APPLY_FORWARD, APPLY_ALL, NULL);
	json_array_foreach(f.events, i, ev)
		ck_assert_msg(strcmp(json_str(ev, "event"), "drift") != 0, "drift reported");
	/* and rolled back wave by wave, each rollback proven, the same model judging the children */
	fx_ok(&f, APPLY_ROLLBACK, APPLY_ALL, NULL);
	fx_stop(&f);
}
END_TEST

/* commitMigration under a reset after sending and a lost operation: settled, sent once. */
START_TEST(test_commit_migration_under_a_reset_or_a_lost_operation_is_sent_once)
{
	static const char *const kinds[] = { "reset-after", "status-404" };
	size_t k;

	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct fx f;
		json_t *faults = json_pack("{s:s, s:[{s:s, s:s, s:i, s:s}]}", "format", "netwave.faults/v1",
		    "rules", "method", "POST", "path", "*/commitMigration", "times", 1, "action", kinds[k]);
		struct topology *now;

		fx_start(&f, 1, 2, faults);
		fx_plan(&f, "gateway");
		fx_ok(&f, APPLY_FORWARD, APPLY_ALL, NULL);
		ck_assert_uint_eq(carried_out_posts(&f, "/commitMigration"), 1);
		ck_assert_uint_eq(carried_out_posts(&f, "/prepareMigration"), 1);
		now = fx_state(&f);
		ck_assert_msg(find_res(now, "/virtualNetworkGateways/ergw-hub-01") == NULL, "%s: the old gateway "
		    "is deleted", kinds[k]);
		topology_free(now);
		json_decref(faults);
		fx_stop(&f);
	}
}
END_TEST

int
main(void)
{
	const TTest *const apply_tests[] = {
		TEST_CASE("apply", 300),
		test_a_three_wave_mesh_migration_ends_at_the_target,
		test_rolling_back_each_wave_restores_the_estate_from_before_it,
		test_a_gateway_migration_goes_through_commit_and_rollback_stops_in_front_of_it,
		test_a_gateway_migration_rolled_back_before_commit_is_aborted,
		test_the_gateway_a_migration_made_is_found_by_fact_when_the_plan_guessed_wrong,
		test_a_missing_route_fails_the_gate_and_stops_the_run,
		test_auto_rollback_undoes_a_wave_whose_gate_failed_and_proves_it,
		test_status_after_an_interrupted_rollback_says_so_and_how_to_resume,
		test_drift_between_plan_and_apply_stops_naming_the_property,
		test_a_second_run_on_a_held_plan_gets_locked_naming_the_holder,
		test_killed_at_random_step_boundaries_the_run_resumes_without_duplicates,
		test_crash_after_every_journal_write_sends_each_commit_exactly_once,
		test_throttling_and_server_error_storms_are_survived,
		test_an_expired_token_is_refreshed_mid_run,
		test_history_has_one_commit_per_wave_and_no_secret_is_stored_anywhere,
		test_irreversible_steps_need_a_confirmation,
		test_a_soak_not_yet_passed_stops_the_run_with_the_time_it_needs,
		test_an_interrupted_run_stops_partial_and_the_same_call_resumes,
		test_status_names_waves_steps_gates_and_what_is_next,
		test_commit_migration_under_a_reset_or_a_lost_operation_is_sent_once,
		test_an_hspe_wave_and_the_waves_after_it_see_no_false_drift_in_subnets,
		NULL,
	};
	int rc;

	git_libgit2_init();
	rc = test_main("apply", apply_tests);
	git_libgit2_shutdown();
	return rc;
}
