/*
 * Tests of the plan store (state/store.c): plans saved and read back
 * byte for byte, prefixes, superseding, immutability, the files it must
 * refuse without touching, migrations, the step and wave transitions with
 * their journal, gates, and the lease.  Each test works in its own
 * temporary directory with fixed times, and pokes at the file with plain
 * sqlite3 where only a second program could show the behaviour.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>
#include <sqlite3.h>

#include "plan/jsonutil.h"
#include "state/store.h"
#include "tests/testutil.h"

/* 2026-11-21T20:00:00Z */
#define T0 ((time_t)1795291200)

#define FP_A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define FP_B "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define FP_T "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

static char tmpdir[256];
static char db[300];

static void
setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_store.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(db, sizeof(db), "%s/netwave.db", tmpdir);
}

static void
teardown(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char p[600];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(tmpdir);
}

/* ---- helpers ------------------------------------------------------------- */

static const char *
in_dir(const char *name)
{
	static char p[600];

	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	return p;
}

static bool
exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

static char *
slurp(const char *path, size_t *len)
{
	struct nw_err err = { 0 };
	char *buf = NULL;

	ck_assert_msg(file_read_all(&buf, len, path, 64u << 20, &err) == 0, "%s", err.msg);
	return buf;
}

static void
spill(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* Runs SQL on the file through a connection of its own; returns SQLite's code. */
static int
raw_exec(const char *path, const char *sql, char *msg, size_t msg_size)
{
	sqlite3 *h = NULL;
	char *e = NULL;
	int rc = sqlite3_open(path, &h);

	if (rc == SQLITE_OK)
		rc = sqlite3_exec(h, sql, NULL, NULL, &e);
	if (msg != NULL)
		snprintf(msg, msg_size, "%s", e != NULL ? e : "");
	sqlite3_free(e);
	sqlite3_close(h);
	return rc;
}

static long long
raw_int(const char *path, const char *sql)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *s = NULL;
	long long v = -1;

	ck_assert_int_eq(sqlite3_open(path, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(h);
	return v;
}

static struct store *
open_ok(const char *path, bool create)
{
	struct nw_err err = { 0 };
	struct store *st = NULL;

	ck_assert_msg(store_open(&st, path, create, &err) == 0, "%s", err.msg);
	ck_assert_ptr_nonnull(st);
	return st;
}

static json_t *
step(int wave, int n, bool irreversible)
{
	char id[32], res[160];

	snprintf(id, sizeof(id), "w%02d-s%04d", wave, n);
	snprintf(res, sizeof(res),
	    "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-net/providers/"
	    "Microsoft.Network/virtualNetworks/spoke-%d-%d", wave, n);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[], s:{s:s, s:s, s:s, s:{s:{s:s}}},"
			 " s:o, s:b, s:b, s:i, s:i}",
	    "id", id, "procedure", "avnm-mesh", "action", "add-static-member", "description",
	    "add the spoke to the mesh group", "resource", res, "serializeKey", res, "dependsOn",
	    "operation", "method", "PUT", "path", res, "apiVersion", "2024-05-01", "body", "properties",
	    "resourceId", res,
	    "inverse", irreversible ? json_null() :
				      json_pack("{s:s, s:s, s:s}", "method", "DELETE", "path", res,
					  "apiVersion", "2024-05-01"),
	    "irreversible", irreversible, "longRunning", n == 2, "reads", 1, "writes", 1);
}

static json_t *
wave(int idx, const char *name, bool last_irreversible)
{
	char gid[32];

	snprintf(gid, sizeof(gid), "w%02d-g01", idx);
	return json_pack("{s:i, s:s, s:s, s:[], s:i, s:b, s:{s:i, s:i, s:i}, s:[s],"
			 " s:s, s:[o, o, o], s:[{s:s, s:s, s:s, s:{s:s}, s:{s:i, s:i, s:i}}]}",
	    "index", idx, "name", name, "kind", "mesh", "members", "soakSeconds", idx == 0 ? 0 : 600,
	    "maintenanceWindow", false, "estimate", "writes", 3, "reads", 3, "seconds", 1, "risks",
	    "private endpoint connections reset for about a second", "rollback",
	    "remove the wave's static members and commit", "steps", step(idx, 1, false),
	    step(idx, 2, false), step(idx, 3, last_irreversible), "gates", "id", gid, "kind",
	    "deployment-status", "description", "the mesh is deployed in eastus", "params", "region",
	    "eastus", "budget", "failures", 0, "inconclusive", 1, "errors", 2);
}

/* A netwave.plan/v1 document (docs/plan.md): two waves of three steps and a gate each. */
static json_t *
make_plan(const char *id, const char *created, const char *current_fp)
{
	json_t *p = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:[s], s:[s],"
			      " s:{s:f, s:i}, s:{s:i, s:i, s:i}, s:[], s:[], s:[], s:[], s:[], s:[o, o]}",
	    "format", "netwave.plan/v1", "id", id, "createdAt", created, "current", "fingerprint",
	    current_fp, "source", "current.json", "target", "fingerprint", FP_T, "source",
	    "target.json", "subscriptions", "00000000-0000-0000-0000-000000000001", "changes",
	    "avnm-mesh", "writeBudget", "writesPerSecond", 3.33, "burst", 200, "summary", "vnets", 6,
	    "waves", 2, "steps", 6, "prerequisites", "blockers", "findings", "limits", "inspected",
	    "waves", wave(0, "pilot", false), wave(1, "rest", true));

	ck_assert_ptr_nonnull(p);
	return p;
}

static void
save_ok(struct store *st, const json_t *plan)
{
	struct nw_err err = { 0 };

	ck_assert_msg(store_plan_save(st, plan, &err) == 0, "%s", err.msg);
}

static struct store *
store_with_plan(const char *id)
{
	struct store *st = open_ok(db, true);
	json_t *p = make_plan(id, "2026-11-21T20:00:00Z", FP_A);

	save_ok(st, p);
	json_decref(p);
	return st;
}

static const char *
plan_status(struct store *st, const char *id)
{
	static char status[32];
	struct nw_err err = { 0 };
	json_t *list = NULL, *p;
	size_t i;

	ck_assert_msg(store_plan_list(st, &list, &err) == 0, "%s", err.msg);
	status[0] = '\0';
	json_array_foreach(list, i, p)
		if (strcmp(json_str(p, "id"), id) == 0)
			snprintf(status, sizeof(status), "%s", json_str(p, "status"));
	json_decref(list);
	return status;
}

static json_t *
step_get(struct store *st, const char *plan, const char *id)
{
	struct nw_err err = { 0 };
	json_t *s = NULL;

	ck_assert_msg(store_step_get(st, plan, id, &s, &err) == 0, "%s", err.msg);
	return s;
}

/* Asserts that a call passed &e as its error succeeded, showing the message if not. */
#define OK(call)                                          \
	do {                                              \
		struct nw_err e = { 0 };                  \
		int rc_ = (call);                         \
		ck_assert_msg(rc_ == 0, "%s", e.msg);     \
	} while (0)

static void
start_ok(struct store *st, const char *step_id, enum store_direction way, const json_t *image,
    time_t now)
{
	struct nw_err err = { 0 };

	ck_assert_msg(store_step_start(st, "pl-000000000001", step_id, way, image, NULL, now, &err) == 0,
	    "%s", err.msg);
}

static void
finish_ok(struct store *st, const char *step_id, enum store_step_status status,
    const json_t *image, time_t now)
{
	struct nw_err err = { 0 };

	ck_assert_msg(
	    store_step_finish(st, "pl-000000000001", step_id, status, image, NULL, now, &err) == 0,
	    "%s", err.msg);
}

#define PLAN "pl-000000000001"

/* ---- plans --------------------------------------------------------------- */

START_TEST(test_a_saved_plan_comes_back_byte_identical)
{
	struct store *st = open_ok(db, true);
	struct nw_err err = { 0 };
	json_t *p = make_plan(PLAN, "2026-11-21T20:00:00Z", FP_A), *back = NULL;
	char *want, *got;

	save_ok(st, p);
	store_close(st);
	st = open_ok(db, false);
	ck_assert_msg(store_plan_get(st, PLAN, &back, &err) == 0, "%s", err.msg);
	want = json_dump_canonical(p);
	got = json_dump_canonical(back);
	ck_assert_str_eq(got, want);
	/* and the row holds the canonical text itself */
	store_close(st);
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM steps"), 6);
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM gates"), 2);
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM waves WHERE soak_seconds = 600"), 1);
	ck_assert_int_eq(raw_int(db, "SELECT length(document) FROM plans"), (long long)strlen(want));
	free(want);
	free(got);
	json_decref(p);
	json_decref(back);
}
END_TEST

START_TEST(test_saving_the_same_plan_twice_changes_nothing)
{
	struct store *st = store_with_plan(PLAN);
	json_t *p = make_plan(PLAN, "2026-11-21T20:00:00Z", FP_A);

	save_ok(st, p);
	store_close(st);
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM plans"), 1);
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM steps"), 6);
	json_decref(p);
}
END_TEST

START_TEST(test_a_different_plan_under_a_stored_id_is_refused)
{
	struct store *st = store_with_plan(PLAN);
	struct nw_err err = { 0 };
	json_t *p = make_plan(PLAN, "2026-11-22T08:00:00Z", FP_A), *back = NULL;

	ck_assert_int_eq(store_plan_save(st, p, &err), NW_EINPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot save plan " PLAN));
	ck_assert_ptr_nonnull(strstr(err.msg, "different plan"));
	ck_assert_int_eq(store_plan_get(st, PLAN, &back, &err), 0);
	ck_assert_str_eq(json_str(back, "createdAt"), "2026-11-21T20:00:00Z");
	json_decref(back);
	json_decref(p);
	store_close(st);
}
END_TEST

START_TEST(test_a_plan_whose_reversible_step_has_no_inverse_is_refused)
{
	struct store *st = open_ok(db, true);
	struct nw_err err = { 0 };
	json_t *p = make_plan(PLAN, "2026-11-21T20:00:00Z", FP_A);
	json_t *s = json_array_get(json_object_get(json_array_get(json_object_get(p, "waves"), 0),
	    "steps"), 1);

	json_object_set_new(s, "inverse", json_null());
	ck_assert_int_eq(store_plan_save(st, p, &err), NW_EINPUT);
	ck_assert_str_eq(err.msg, "cannot save plan " PLAN
	    ": step w00-s0002 has no inverse and is not marked irreversible");
	store_close(st);
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM plans"), 0);
	json_decref(p);
}
END_TEST

START_TEST(test_a_plan_is_found_by_a_unique_prefix_with_or_without_pl)
{
	struct store *st = open_ok(db, true);
	struct nw_err err = { 0 };
	json_t *a = make_plan("pl-3f9a1c2b7d40", "2026-11-21T20:00:00Z", FP_A);
	json_t *b = make_plan("pl-3f11aa00bb22", "2026-11-21T20:00:01Z", FP_B);
	json_t *got = NULL;

	save_ok(st, a);
	save_ok(st, b);
	ck_assert_msg(store_plan_get(st, "pl-3f9a", &got, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(json_str(got, "id"), "pl-3f9a1c2b7d40");
	json_decref(got);
	ck_assert_msg(store_plan_get(st, "3f11", &got, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(json_str(got, "id"), "pl-3f11aa00bb22");
	json_decref(got);
	json_decref(a);
	json_decref(b);
	store_close(st);
}
END_TEST

START_TEST(test_an_ambiguous_prefix_names_the_candidates)
{
	struct store *st = open_ok(db, true);
	struct nw_err err = { 0 };
	json_t *a = make_plan("pl-3f9a1c2b7d40", "2026-11-21T20:00:00Z", FP_A);
	json_t *b = make_plan("pl-3f11aa00bb22", "2026-11-21T20:00:01Z", FP_B);
	json_t *got = NULL;

	save_ok(st, a);
	save_ok(st, b);
	ck_assert_int_eq(store_plan_get(st, "pl-3f", &got, &err), NW_EINPUT);
	ck_assert_ptr_null(got);
	ck_assert_str_eq(err.msg,
	    "plan id 'pl-3f' is ambiguous: 2 plans match (pl-3f11aa00bb22, pl-3f9a1c2b7d40)");
	json_decref(a);
	json_decref(b);
	store_close(st);
}
END_TEST

START_TEST(test_an_unknown_or_too_short_prefix_is_bad_input)
{
	struct store *st = store_with_plan(PLAN);
	struct nw_err err = { 0 };
	json_t *got = NULL;
	char want[400];

	ck_assert_int_eq(store_plan_get(st, "pl-ffff", &got, &err), NW_EINPUT);
	snprintf(want, sizeof(want), "no plan 'pl-ffff' in plan store '%s'", db);
	ck_assert_str_eq(err.msg, want);
	ck_assert_int_eq(store_plan_get(st, "pl-", &got, &err), NW_EINPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "too short"));
	ck_assert_ptr_null(got);
	store_close(st);
}
END_TEST

START_TEST(test_plans_are_listed_newest_first_and_older_ones_superseded)
{
	struct store *st = open_ok(db, true);
	struct nw_err err = { 0 };
	json_t *old = make_plan("pl-000000000001", "2026-11-20T10:00:00Z", FP_A);
	json_t *other = make_plan("pl-000000000002", "2026-11-21T10:00:00Z", FP_B);
	json_t *newer = make_plan("pl-000000000003", "2026-11-22T10:00:00Z", FP_A);
	json_t *list = NULL, *e;

	save_ok(st, old);
	save_ok(st, other);
	ck_assert_str_eq(plan_status(st, "pl-000000000001"), "planned");
	save_ok(st, newer);
	ck_assert_msg(store_plan_list(st, &list, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(json_array_size(list), 3);
	e = json_array_get(list, 0);
	ck_assert_str_eq(json_str(e, "id"), "pl-000000000003");
	ck_assert_str_eq(json_str(e, "status"), "planned");
	ck_assert(json_is_null(json_object_get(e, "supersededBy")));
	ck_assert_int_eq(json_integer_value(json_object_get(e, "waves")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(e, "steps")), 6);
	ck_assert_str_eq(json_str(e, "currentFingerprint"), FP_A);
	ck_assert_str_eq(json_str(e, "targetFingerprint"), FP_T);
	e = json_array_get(list, 1);
	ck_assert_str_eq(json_str(e, "id"), "pl-000000000002");
	ck_assert_str_eq(json_str(e, "status"), "planned"); /* another topology: untouched */
	e = json_array_get(list, 2);
	ck_assert_str_eq(json_str(e, "id"), "pl-000000000001");
	ck_assert_str_eq(json_str(e, "status"), "superseded");
	ck_assert_str_eq(json_str(e, "supersededBy"), "pl-000000000003");
	json_decref(list);
	json_decref(old);
	json_decref(other);
	json_decref(newer);
	store_close(st);
}
END_TEST

START_TEST(test_a_started_plan_is_never_superseded)
{
	struct store *st = store_with_plan(PLAN);
	json_t *newer = make_plan("pl-000000000009", "2026-11-22T10:00:00Z", FP_A);

	start_ok(st, "w00-s0001", STORE_FORWARD, NULL, T0);
	save_ok(st, newer);
	ck_assert_str_eq(plan_status(st, PLAN), "partial");
	ck_assert_str_eq(plan_status(st, "pl-000000000009"), "planned");
	json_decref(newer);
	store_close(st);
}
END_TEST

START_TEST(test_stored_plans_cannot_be_edited_even_with_sqlite3)
{
	struct store *st = store_with_plan(PLAN);
	struct nw_err err = { 0 };
	json_t *back = NULL;
	char msg[256];

	ck_assert_int_eq(raw_exec(db, "UPDATE plans SET document = '{}'", msg, sizeof(msg)),
	    SQLITE_CONSTRAINT);
	ck_assert_ptr_nonnull(strstr(msg, "immutable"));
	ck_assert_int_eq(raw_exec(db, "UPDATE steps SET operation = '{}'", msg, sizeof(msg)),
	    SQLITE_CONSTRAINT);
	/* and their rows are kept by foreign keys that restrict */
	ck_assert_int_eq(raw_exec(db, "PRAGMA foreign_keys = ON; DELETE FROM plans", msg, sizeof(msg)),
	    SQLITE_CONSTRAINT);
	ck_assert_msg(store_plan_get(st, PLAN, &back, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(json_str(back, "format"), "netwave.plan/v1");
	json_decref(back);
	store_close(st);
}
END_TEST

/* ---- files it must refuse ------------------------------------------------ */

static void
assert_refused_unchanged(const char *path, bool create, const char *want_suffix)
{
	struct nw_err err = { 0 };
	struct store *st = NULL;
	size_t before_len, after_len;
	char *before = slurp(path, &before_len), *after;
	char want[600];

	ck_assert_int_eq(store_open(&st, path, create, &err), NW_EINPUT);
	ck_assert_ptr_null(st);
	snprintf(want, sizeof(want), "cannot open plan store '%s': %s", path, want_suffix);
	ck_assert_str_eq(err.msg, want);
	after = slurp(path, &after_len);
	ck_assert_uint_eq(after_len, before_len);
	ck_assert(memcmp(before, after, before_len) == 0);
	free(before);
	free(after);
}

START_TEST(test_a_file_that_is_not_sqlite_is_refused_and_left_unchanged)
{
	const char text[] = "{\"format\": \"netwave.topology/v1\", \"resources\": []}\n";

	spill(db, text, sizeof(text) - 1);
	assert_refused_unchanged(db, true, "is not an SQLite database");
	spill(db, "SQLite", 6); /* too short to be one */
	assert_refused_unchanged(db, true, "is not an SQLite database");
	ck_assert(!exists(in_dir("netwave.db-wal")));
	ck_assert(!exists(in_dir("netwave.db-shm")));
}
END_TEST

START_TEST(test_a_foreign_sqlite_database_is_refused_and_left_unchanged)
{
	ck_assert_int_eq(raw_exec(db,
			     "CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT);"
			     "INSERT INTO photos (name) VALUES ('beach.jpg');",
			     NULL, 0),
	    SQLITE_OK);
	assert_refused_unchanged(db, true, "not a netwave plan store (no netwave_meta table)");
	assert_refused_unchanged(db, false, "not a netwave plan store (no netwave_meta table)");
	ck_assert(!exists(in_dir("netwave.db-wal")));
	ck_assert(!exists(in_dir("netwave.db-journal")));
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM sqlite_master"), 1);
}
END_TEST

START_TEST(test_a_sqlite_database_naming_another_application_is_refused)
{
	ck_assert_int_eq(raw_exec(db,
			     "CREATE TABLE netwave_meta (key TEXT PRIMARY KEY, value TEXT);"
			     "INSERT INTO netwave_meta VALUES ('application', 'netwalk');",
			     NULL, 0),
	    SQLITE_OK);
	assert_refused_unchanged(db, true,
	    "not a netwave plan store (netwave_meta names application 'netwalk')");
}
END_TEST

START_TEST(test_a_store_from_a_newer_schema_is_refused_and_left_unchanged)
{
	struct store *st = store_with_plan(PLAN);

	store_close(st);
	ck_assert_int_eq(raw_exec(db, "PRAGMA user_version = 3", NULL, 0), SQLITE_OK);
	ck_assert(!exists(in_dir("netwave.db-wal")));
	assert_refused_unchanged(db, true,
	    "was written by a newer netwave (schema 3, this one understands 2)");
	/* it was only read: no -wal or -shm left beside it */
	ck_assert(!exists(in_dir("netwave.db-wal")));
	ck_assert(!exists(in_dir("netwave.db-shm")));
	ck_assert_int_eq(raw_int(db, "PRAGMA user_version"), 3);
}
END_TEST

START_TEST(test_a_truncated_store_is_refused_with_sqlites_error_named)
{
	struct store *st = store_with_plan(PLAN);
	struct nw_err err = { 0 };
	struct stat sb;
	size_t before_len, after_len;
	char *before, *after, want[400];

	store_close(st);
	ck_assert_int_eq(stat(db, &sb), 0);
	ck_assert_int_gt(sb.st_size, 8192);
	ck_assert_int_eq(truncate(db, sb.st_size / 2), 0);
	before = slurp(db, &before_len);
	ck_assert_int_eq(store_open(&st, db, true, &err), NW_EINPUT);
	ck_assert_ptr_null(st);
	snprintf(want, sizeof(want), "cannot open plan store '%s': database disk image is malformed",
	    db);
	ck_assert_str_eq(err.msg, want);
	after = slurp(db, &after_len);
	ck_assert_uint_eq(after_len, before_len);
	ck_assert(memcmp(before, after, before_len) == 0);
	free(before);
	free(after);
}
END_TEST

START_TEST(test_a_damaged_page_is_reported_naming_the_store)
{
	struct store *st = store_with_plan(PLAN);
	struct nw_err err = { 0 };
	json_t *got = NULL;
	char *bytes;
	size_t len;
	int rc;

	store_close(st);
	bytes = slurp(db, &len);
	ck_assert_uint_gt(len, 3 * 4096);
	/* every page after the schema page becomes garbage */
	for (size_t i = 4096; i < len; i++)
		bytes[i] = (char)(0x5a ^ (i * 31));
	spill(db, bytes, len);
	free(bytes);
	rc = store_open(&st, db, false, &err);
	if (rc == 0) {
		rc = store_plan_get(st, PLAN, &got, &err);
		store_close(st);
	}
	ck_assert_int_eq(rc, NW_EINPUT);
	ck_assert_ptr_null(got);
	ck_assert_msg(strstr(err.msg, db) != NULL, "%s", err.msg);
	ck_assert_msg(strstr(err.msg, "malformed") != NULL, "%s", err.msg);
}
END_TEST

START_TEST(test_a_missing_file_is_bad_input_unless_creating)
{
	struct nw_err err = { 0 };
	struct store *st = NULL;
	struct stat sb;
	char want[400];

	ck_assert_int_eq(store_open(&st, db, false, &err), NW_EINPUT);
	snprintf(want, sizeof(want), "cannot open plan store '%s': no such file", db);
	ck_assert_str_eq(err.msg, want);
	ck_assert(!exists(db));
	st = open_ok(db, true);
	store_close(st);
	ck_assert_int_eq(stat(db, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	ck_assert_int_eq(raw_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM netwave_meta"
				     " WHERE key = 'application' AND value = 'netwave'"), 1);
}
END_TEST

START_TEST(test_an_empty_file_becomes_a_store_only_when_creating)
{
	struct nw_err err = { 0 };
	struct store *st = NULL;

	spill(db, "", 0);
	ck_assert_int_eq(store_open(&st, db, false, &err), NW_EINPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "not a netwave plan store (empty file)"));
	st = open_ok(db, true);
	store_close(st);
	ck_assert_int_eq(raw_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
}
END_TEST

START_TEST(test_a_version_0_store_is_migrated_when_opened)
{
	struct store *st;
	json_t *p = make_plan(PLAN, "2026-11-21T20:00:00Z", FP_A);

	ck_assert_int_eq(raw_exec(db,
			     "CREATE TABLE netwave_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);"
			     "INSERT INTO netwave_meta (key, value) VALUES ('application', 'netwave');",
			     NULL, 0),
	    SQLITE_OK);
	ck_assert_int_eq(raw_int(db, "PRAGMA user_version"), 0);
	st = open_ok(db, false);
	save_ok(st, p);
	ck_assert_str_eq(plan_status(st, PLAN), "planned");
	store_close(st);
	ck_assert_int_eq(raw_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"), 6);
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM netwave_meta"), 1);
	json_decref(p);
}
END_TEST

START_TEST(test_connections_run_wal_with_foreign_keys_full_sync_and_a_busy_timeout)
{
	struct store *st = open_ok(db, true);
	struct nw_err err = { 0 };
	json_t *info = NULL;

	ck_assert_msg(store_info_get(st, &info, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(json_str(info, "journalMode"), "wal");
	ck_assert(json_is_true(json_object_get(info, "foreignKeys")));
	ck_assert_str_eq(json_str(info, "synchronous"), "full");
	ck_assert_int_eq(json_integer_value(json_object_get(info, "busyTimeoutMs")), 5000);
	ck_assert_int_eq(json_integer_value(json_object_get(info, "schemaVersion")), STORE_SCHEMA_VERSION);
	json_decref(info);
	store_close(st);
	/* WAL is a property of the file too */
	{
		sqlite3 *h = NULL;
		sqlite3_stmt *s = NULL;

		ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
		ck_assert_int_eq(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
		ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
		ck_assert_str_eq((const char *)sqlite3_column_text(s, 0), "wal");
		sqlite3_finalize(s);
		sqlite3_close(h);
	}
}
END_TEST

/* The size of the store's write-ahead log, 0 when there is none. */
static long long
wal_size(void)
{
	struct stat sb;

	return stat(in_dir("netwave.db-wal"), &sb) == 0 ? (long long)sb.st_size : 0;
}

START_TEST(test_a_plan_goes_in_outside_the_log_unless_another_connection_holds_the_store)
{
	struct store *st = open_ok(db, true);
	json_t *p = make_plan(PLAN, "2026-11-21T20:00:00Z", FP_A);
	json_t *q = make_plan("pl-000000000002", "2026-11-21T21:00:00Z", FP_B);
	struct nw_err err = { 0 };
	json_t *info = NULL;
	sqlite3 *h = NULL;
	sqlite3_stmt *s = NULL;

	/* alone: the pages go through the rollback journal, none into the log */
	save_ok(st, p);
	ck_assert_int_eq(wal_size(), 0);
	ck_assert(!exists(in_dir("netwave.db-journal")));
	ck_assert_msg(store_info_get(st, &info, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(json_str(info, "journalMode"), "wal");
	json_decref(info);

	/* another connection open: SQLite stays in WAL mode and the plan goes through the log */
	ck_assert_int_eq(sqlite3_open(db, &h), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h, "SELECT count(*) FROM plans", -1, &s, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	sqlite3_finalize(s);
	save_ok(st, q);
	ck_assert_int_gt(wal_size(), 0);
	ck_assert_msg(store_info_get(st, &info, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(json_str(info, "journalMode"), "wal");
	json_decref(info);
	sqlite3_close(h);
	store_close(st);

	/* both whole */
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM plans"), 2);
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM steps WHERE plan_id = 'pl-000000000002'"),
	    raw_int(db, "SELECT count(*) FROM steps WHERE plan_id = '" PLAN "'"));
	ck_assert_int_gt(raw_int(db, "SELECT count(*) FROM steps WHERE plan_id = '" PLAN "'"), 0);
	json_decref(p);
	json_decref(q);
}
END_TEST

/* ---- steps, waves, gates, journal ---------------------------------------- */

START_TEST(test_a_step_goes_started_then_done_with_the_journal_in_order)
{
	struct store *st = store_with_plan(PLAN);
	struct nw_err err = { 0 };
	json_t *before = json_pack("{s:s}", "state", "before");
	json_t *after = json_pack("{s:s}", "state", "after");
	json_t *s, *journal = NULL, *e;
	static const char *const events[] = {
		"step-started", "step-polling", "step-done", "step-started", "step-failed",
	};

	ck_assert_msg(store_step_start(st, PLAN, "w00-s0002", STORE_FORWARD, before, NULL, T0, &err) ==
		0, "%s", err.msg);
	/* committed before anything is sent: another connection sees it */
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM steps WHERE step_id = 'w00-s0002'"
				     " AND status = 'started' AND before_image IS NOT NULL"), 1);
	ck_assert_msg(store_step_set_poll_url(st, PLAN, "w00-s0002",
			  "https://management.azure.com/op/1?api-version=2024-05-01", T0 + 1, &err) == 0,
	    "%s", err.msg);
	s = step_get(st, PLAN, "w00-s0002");
	ck_assert_str_eq(json_str(s, "status"), "started");
	ck_assert_str_eq(json_str(s, "pollUrl"), "https://management.azure.com/op/1?api-version=2024-05-01");
	ck_assert_int_eq(json_integer_value(json_object_get(s, "attempts")), 1);
	ck_assert_str_eq(json_str(s, "startedAt"), "2026-11-21T20:00:00Z");
	json_decref(s);
	ck_assert_str_eq(plan_status(st, PLAN), "partial");

	finish_ok(st, "w00-s0002", STORE_STEP_DONE, after, T0 + 30);
	start_ok(st, "w00-s0003", STORE_FORWARD, NULL, T0 + 31);
	ck_assert_msg(store_step_finish(st, PLAN, "w00-s0003", STORE_STEP_FAILED, NULL,
			  "409 AnotherOperationInProgress", T0 + 32, &err) == 0, "%s", err.msg);

	s = step_get(st, PLAN, "w00-s0002");
	ck_assert_str_eq(json_str(s, "status"), "done");
	ck_assert(json_equal(json_object_get(s, "beforeImage"), before));
	ck_assert(json_equal(json_object_get(s, "afterImage"), after));
	ck_assert_str_eq(json_str(s, "finishedAt"), "2026-11-21T20:00:30Z");
	ck_assert(json_is_true(json_object_get(s, "longRunning")));
	ck_assert_str_eq(json_path_str(s, "operation", "method", NULL), "PUT");
	json_decref(s);
	s = step_get(st, PLAN, "w00-s0003");
	ck_assert_str_eq(json_str(s, "lastError"), "409 AnotherOperationInProgress");
	json_decref(s);

	ck_assert_msg(store_journal_list(st, PLAN, &journal, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(json_array_size(journal), 5);
	for (size_t i = 0; i < 5; i++) {
		e = json_array_get(journal, i);
		ck_assert_str_eq(json_str(e, "event"), events[i]);
		ck_assert_int_eq(json_integer_value(json_object_get(e, "wave")), 0);
		if (i > 0)
			ck_assert_int_gt(json_integer_value(json_object_get(e, "seq")),
			    json_integer_value(json_object_get(json_array_get(journal, i - 1), "seq")));
	}
	ck_assert_str_eq(json_str(json_array_get(journal, 2), "step"), "w00-s0002");
	ck_assert_str_eq(json_str(json_array_get(journal, 2), "at"), "2026-11-21T20:00:30Z");
	ck_assert_str_eq(json_path_str(json_array_get(journal, 4), "detail", "error", NULL),
	    "409 AnotherOperationInProgress");
	json_decref(journal);
	json_decref(before);
	json_decref(after);
	store_close(st);
}
END_TEST

START_TEST(test_a_retry_keeps_the_before_image_from_the_first_attempt)
{
	struct store *st = store_with_plan(PLAN);
	json_t *first = json_pack("{s:i}", "v", 1), *second = json_pack("{s:i}", "v", 2), *s;

	start_ok(st, "w00-s0001", STORE_FORWARD, first, T0);
	finish_ok(st, "w00-s0001", STORE_STEP_FAILED, NULL, T0 + 1);
	start_ok(st, "w00-s0001", STORE_FORWARD, second, T0 + 2);
	s = step_get(st, PLAN, "w00-s0001");
	ck_assert(json_equal(json_object_get(s, "beforeImage"), first));
	ck_assert_int_eq(json_integer_value(json_object_get(s, "attempts")), 2);
	json_decref(s);
	json_decref(first);
	json_decref(second);
	store_close(st);
}
END_TEST

START_TEST(test_step_transitions_out_of_order_are_refused_and_change_nothing)
{
	struct store *st = store_with_plan(PLAN);
	struct nw_err err = { 0 };
	json_t *s;

	ck_assert_int_eq(store_step_finish(st, PLAN, "w00-s0001", STORE_STEP_DONE, NULL, NULL, T0, &err),
	    NW_EINPUT);
	ck_assert_str_eq(err.msg, "cannot mark done step w00-s0001 of plan " PLAN
	    ": it is pending, not started");
	start_ok(st, "w00-s0001", STORE_FORWARD, NULL, T0);
	finish_ok(st, "w00-s0001", STORE_STEP_DONE, NULL, T0 + 1);
	ck_assert_int_eq(store_step_start(st, PLAN, "w00-s0001", STORE_FORWARD, NULL, NULL, T0 + 2, &err),
	    NW_EINPUT);
	ck_assert_str_eq(err.msg, "cannot start step w00-s0001 of plan " PLAN ": it is done");
	ck_assert_int_eq(store_step_start(st, PLAN, "w00-s0009", STORE_FORWARD, NULL, NULL, T0, &err),
	    NW_EINPUT);
	ck_assert_str_eq(err.msg, "no step 'w00-s0009' in plan " PLAN);
	ck_assert_int_eq(store_step_start(st, "pl-nothere", "w00-s0001", STORE_FORWARD, NULL, NULL, T0,
			     &err), NW_EINPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "no plan 'pl-nothere'"));
	s = step_get(st, PLAN, "w00-s0001");
	ck_assert_str_eq(json_str(s, "status"), "done");
	ck_assert_int_eq(json_integer_value(json_object_get(s, "attempts")), 1);
	json_decref(s);
	store_close(st);
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM journal"), 2);
}
END_TEST

START_TEST(test_rollback_runs_through_started_and_refuses_irreversible_steps)
{
	struct store *st = store_with_plan(PLAN);
	struct nw_err err = { 0 };
	json_t *b = json_pack("{s:s}", "s", "b"), *s;

	start_ok(st, "w01-s0003", STORE_FORWARD, NULL, T0);
	finish_ok(st, "w01-s0003", STORE_STEP_DONE, NULL, T0 + 1);
	ck_assert_int_eq(store_step_start(st, PLAN, "w01-s0003", STORE_ROLLBACK, NULL, NULL, T0 + 2, &err),
	    NW_EINPUT);
	ck_assert_str_eq(err.msg, "cannot roll back step w01-s0003 of plan " PLAN
	    ": it is irreversible, its change cannot be undone");

	start_ok(st, "w01-s0001", STORE_FORWARD, b, T0);
	finish_ok(st, "w01-s0001", STORE_STEP_DONE, NULL, T0 + 1);
	start_ok(st, "w01-s0001", STORE_ROLLBACK, NULL, T0 + 2);
	s = step_get(st, PLAN, "w01-s0001");
	ck_assert_str_eq(json_str(s, "status"), "started");
	ck_assert_str_eq(json_str(s, "direction"), "rollback");
	json_decref(s);
	ck_assert_int_eq(store_step_finish(st, PLAN, "w01-s0001", STORE_STEP_DONE, NULL, NULL, T0 + 3,
			     &err), NW_EINPUT);
	finish_ok(st, "w01-s0001", STORE_STEP_ROLLED_BACK, NULL, T0 + 3);
	s = step_get(st, PLAN, "w01-s0001");
	ck_assert_str_eq(json_str(s, "status"), "rolled-back");
	ck_assert(json_equal(json_object_get(s, "beforeImage"), b));
	ck_assert_int_eq(json_integer_value(json_object_get(s, "attempts")), 2);
	json_decref(s);
	ck_assert_int_eq(store_step_start(st, PLAN, "w01-s0002", STORE_ROLLBACK, NULL, NULL, T0, &err),
	    NW_EINPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "nothing to undo"));
	json_decref(b);
	store_close(st);
}
END_TEST

static void
run_wave(struct store *st, int w, time_t now)
{
	char id[32];

	OK(store_wave_set_status(st, PLAN, w, STORE_WAVE_RUNNING, now, &e));
	for (int n = 1; n <= 3; n++) {
		snprintf(id, sizeof(id), "w%02d-s%04d", w, n);
		start_ok(st, id, STORE_FORWARD, NULL, now + n);
		finish_ok(st, id, STORE_STEP_DONE, NULL, now + n);
	}
	OK(store_wave_set_status(st, PLAN, w, STORE_WAVE_DONE, now + 10, &e));
}

START_TEST(test_plan_status_follows_its_waves_and_steps)
{
	struct store *st = store_with_plan(PLAN);
	struct nw_err err = { 0 };
	json_t *waves = NULL;

	ck_assert_str_eq(plan_status(st, PLAN), "planned");
	OK(store_wave_set_status(st, PLAN, 0, STORE_WAVE_RUNNING, T0, &e));
	start_ok(st, "w00-s0001", STORE_FORWARD, NULL, T0);
	finish_ok(st, "w00-s0001", STORE_STEP_DONE, NULL, T0 + 1);
	ck_assert_int_eq(store_wave_set_status(st, PLAN, 0, STORE_WAVE_DONE, T0 + 2, &err), NW_EINPUT);
	ck_assert_str_eq(err.msg, "cannot mark wave 0 of plan " PLAN " done: step w00-s0002 is pending");
	ck_assert_str_eq(plan_status(st, PLAN), "partial");

	/* roll the started wave back */
	start_ok(st, "w00-s0001", STORE_ROLLBACK, NULL, T0 + 3);
	ck_assert_int_eq(store_wave_set_status(st, PLAN, 0, STORE_WAVE_ROLLED_BACK, T0 + 4, &err),
	    NW_EINPUT);
	ck_assert_str_eq(err.msg,
	    "cannot mark wave 0 of plan " PLAN " rolled-back: step w00-s0001 is started");
	finish_ok(st, "w00-s0001", STORE_STEP_ROLLED_BACK, NULL, T0 + 4);
	OK(store_wave_set_status(st, PLAN, 0, STORE_WAVE_ROLLED_BACK, T0 + 5, &e));
	ck_assert_str_eq(plan_status(st, PLAN), "rolled-back");

	run_wave(st, 0, T0 + 100);
	ck_assert_str_eq(plan_status(st, PLAN), "partial");
	run_wave(st, 1, T0 + 200);
	ck_assert_str_eq(plan_status(st, PLAN), "applied");

	ck_assert_msg(store_wave_list(st, PLAN, &waves, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(json_array_size(waves), 2);
	ck_assert_str_eq(json_path_str(json_array_get(waves, 1), "status", NULL), "done");
	ck_assert_str_eq(json_path_str(json_array_get(waves, 1), "name", NULL), "rest");
	ck_assert_str_eq(json_path_str(json_array_get(waves, 1), "finishedAt", NULL),
	    "2026-11-21T20:03:30Z");
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(waves, 1), "soakSeconds")), 600);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(waves, 1), "stepsDone")), 3);
	ck_assert_uint_eq(json_array_size(json_object_get(json_array_get(waves, 1), "gates")), 1);
	json_decref(waves);
	store_close(st);
}
END_TEST

START_TEST(test_gate_results_are_counted_separately_and_reset_per_wave)
{
	struct store *st = store_with_plan(PLAN);
	struct nw_err err = { 0 };
	json_t *evidence = json_pack("{s:s}", "deploymentStatus", "Deploying"), *gates = NULL, *g;

	OK(store_gate_record(st, PLAN, "w00-g01", STORE_GATE_INCONCLUSIVE, evidence, T0, &e));
	OK(store_gate_record(st, PLAN, "w00-g01", STORE_GATE_ERROR, NULL, T0 + 1, &e));
	OK(store_gate_record(st, PLAN, "w00-g01", STORE_GATE_ERROR, NULL, T0 + 2, &e));
	OK(store_gate_record(st, PLAN, "w00-g01", STORE_GATE_FAILED, evidence, T0 + 3, &e));
	ck_assert_msg(store_gate_list(st, PLAN, 0, &gates, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(json_array_size(gates), 1);
	g = json_array_get(gates, 0);
	ck_assert_str_eq(json_str(g, "status"), "failed");
	ck_assert_int_eq(json_integer_value(json_object_get(g, "failures")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(g, "inconclusive")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(g, "errors")), 2);
	ck_assert(json_equal(json_object_get(g, "lastResult"), evidence));
	ck_assert_str_eq(json_path_str(g, "params", "region", NULL), "eastus");
	ck_assert_int_eq(json_integer_value(json_path(g, "budget", "errors", NULL)), 2);
	json_decref(gates);

	ck_assert_int_eq(store_gate_record(st, PLAN, "w09-g01", STORE_GATE_PASSED, NULL, T0, &err),
	    NW_EINPUT);
	ck_assert_str_eq(err.msg, "no gate 'w09-g01' in plan " PLAN);

	OK(store_gate_reset(st, PLAN, 0, T0 + 4, &e));
	ck_assert_msg(store_gate_list(st, PLAN, -1, &gates, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(json_array_size(gates), 2);
	g = json_array_get(gates, 0);
	ck_assert_str_eq(json_str(g, "status"), "pending");
	ck_assert_int_eq(json_integer_value(json_object_get(g, "errors")), 0);
	json_decref(gates);
	json_decref(evidence);
	store_close(st);
	ck_assert_int_eq(raw_int(db, "SELECT count(*) FROM journal WHERE event LIKE 'gate%'"), 5);
}
END_TEST

START_TEST(test_the_journal_cannot_be_rewritten)
{
	struct store *st = store_with_plan(PLAN);
	json_t *detail = json_pack("{s:i}", "retryAfter", 30), *journal = NULL;
	char msg[200];

	OK(store_journal_append(st, PLAN, "step-throttled", 0, "w00-s0001", detail, T0, &e));
	store_close(st);
	ck_assert_int_eq(raw_exec(db, "DELETE FROM journal", msg, sizeof(msg)), SQLITE_CONSTRAINT);
	ck_assert_ptr_nonnull(strstr(msg, "append-only"));
	ck_assert_int_eq(raw_exec(db, "UPDATE journal SET event = 'x'", msg, sizeof(msg)),
	    SQLITE_CONSTRAINT);
	st = open_ok(db, false);
	OK(store_journal_list(st, PLAN, &journal, &e));
	ck_assert_uint_eq(json_array_size(journal), 1);
	ck_assert_str_eq(json_str(json_array_get(journal, 0), "event"), "step-throttled");
	ck_assert(json_equal(json_object_get(json_array_get(journal, 0), "detail"), detail));
	json_decref(journal);
	json_decref(detail);
	store_close(st);
}
END_TEST

/* ---- the lease ----------------------------------------------------------- */

START_TEST(test_a_live_lease_refuses_a_second_run_naming_the_holder)
{
	struct store *st = store_with_plan(PLAN);
	struct nw_err err = { 0 };
	char host[256], want[700];

	gethostname(host, sizeof(host));
	host[sizeof(host) - 1] = '\0';
	OK(store_lease_acquire(st, PLAN, "alice apply", 300, T0, &e));
	ck_assert_str_eq(plan_status(st, PLAN), "applying");
	ck_assert_int_eq(store_lease_acquire(st, PLAN, "bob apply", 300, T0 + 60, &err), NW_ELOCKED);
	snprintf(want, sizeof(want),
	    "cannot take plan " PLAN ": another run holds it (owner 'alice apply', pid %ld on host '%s',"
	    " until 2026-11-21T20:05:00Z)", (long)getpid(), host);
	ck_assert_str_eq(err.msg, want);
	/* the same holder asking again just extends it */
	OK(store_lease_acquire(st, PLAN, "alice apply", 300, T0 + 120, &e));
	ck_assert_int_eq(store_lease_acquire(st, PLAN, "bob apply", 300, T0 + 301, &err), NW_ELOCKED);
	store_close(st);
}
END_TEST

START_TEST(test_an_expired_lease_is_taken_over_and_its_holder_loses_it)
{
	struct store *st = store_with_plan(PLAN);
	struct nw_err err = { 0 };
	json_t *lease = NULL, *journal = NULL, *last;

	OK(store_lease_acquire(st, PLAN, "alice apply", 300, T0, &e));
	OK(store_lease_renew(st, PLAN, "alice apply", 300, T0 + 100, &e));
	ck_assert_int_eq(store_lease_acquire(st, PLAN, "bob apply", 300, T0 + 399, &err), NW_ELOCKED);
	OK(store_lease_acquire(st, PLAN, "bob apply", 300, T0 + 400, &e));
	OK(store_lease_get(st, PLAN, &lease, &e));
	ck_assert_str_eq(json_str(lease, "owner"), "bob apply");
	ck_assert_str_eq(json_str(lease, "expiresAt"), "2026-11-21T20:11:40Z");
	json_decref(lease);

	ck_assert_int_eq(store_lease_renew(st, PLAN, "alice apply", 300, T0 + 401, &err), NW_ELOCKED);
	ck_assert_ptr_nonnull(strstr(err.msg, "lost the lease on plan " PLAN));
	ck_assert_ptr_nonnull(strstr(err.msg, "owner 'bob apply'"));
	ck_assert_int_eq(store_lease_release(st, PLAN, "alice apply", T0 + 402, &err), NW_ELOCKED);

	OK(store_journal_list(st, PLAN, &journal, &e));
	last = json_array_get(journal, json_array_size(journal) - 1);
	ck_assert_str_eq(json_str(last, "event"), "lease-taken-over");
	ck_assert_str_eq(json_path_str(last, "detail", "reason", NULL), "expired");
	ck_assert_str_eq(json_path_str(last, "detail", "previous", "owner", NULL), "alice apply");
	json_decref(journal);

	OK(store_lease_release(st, PLAN, "bob apply", T0 + 403, &e));
	OK(store_lease_get(st, PLAN, &lease, &e));
	ck_assert(json_is_null(lease));
	json_decref(lease);
	ck_assert_str_eq(plan_status(st, PLAN), "planned");
	/* releasing a lease nobody holds is harmless */
	OK(store_lease_release(st, PLAN, "bob apply", T0 + 404, &e));
	store_close(st);
}
END_TEST

START_TEST(test_a_lease_left_by_a_dead_process_is_taken_over_before_it_expires)
{
	struct store *st = store_with_plan(PLAN);
	json_t *journal = NULL, *last, *list = NULL;
	int status = -1;
	pid_t child;

	store_close(st); /* never fork with a connection open */
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		struct nw_err err = { 0 };
		struct store *cs = NULL;
		int rc = store_open(&cs, db, false, &err);

		if (rc == 0)
			rc = store_lease_acquire(cs, PLAN, "crashed apply", 3600, T0, &err);
		store_close(cs);
		_exit(rc == 0 ? 0 : 1); /* and leave the lease behind, as a kill -9 would */
	}
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	st = open_ok(db, false);
	OK(store_plan_list(st, &list, &e));
	ck_assert_str_eq(json_path_str(json_array_get(list, 0), "lease", "owner", NULL), "crashed apply");
	ck_assert_str_eq(json_str(json_array_get(list, 0), "status"), "applying");
	json_decref(list);
	OK(store_lease_acquire(st, PLAN, "second apply", 300, T0 + 60, &e));
	OK(store_journal_list(st, PLAN, &journal, &e));
	last = json_array_get(journal, json_array_size(journal) - 1);
	ck_assert_str_eq(json_str(last, "event"), "lease-taken-over");
	ck_assert_str_eq(json_path_str(last, "detail", "reason", NULL), "holder process is gone");
	ck_assert_int_eq(json_integer_value(json_path(last, "detail", "previous", "pid", NULL)), child);
	json_decref(journal);
	store_close(st);
}
END_TEST

int
main(void)
{
	const TTest *const store_tests[] = {
		TEST_CASE("plans", 0),
		test_a_saved_plan_comes_back_byte_identical,
		test_saving_the_same_plan_twice_changes_nothing,
		test_a_different_plan_under_a_stored_id_is_refused,
		test_a_plan_whose_reversible_step_has_no_inverse_is_refused,
		test_a_plan_is_found_by_a_unique_prefix_with_or_without_pl,
		test_an_ambiguous_prefix_names_the_candidates,
		test_an_unknown_or_too_short_prefix_is_bad_input,
		test_plans_are_listed_newest_first_and_older_ones_superseded,
		test_a_started_plan_is_never_superseded,
		test_stored_plans_cannot_be_edited_even_with_sqlite3,
		TEST_CASE("files", 0),
		test_a_file_that_is_not_sqlite_is_refused_and_left_unchanged,
		test_a_foreign_sqlite_database_is_refused_and_left_unchanged,
		test_a_sqlite_database_naming_another_application_is_refused,
		test_a_store_from_a_newer_schema_is_refused_and_left_unchanged,
		test_a_truncated_store_is_refused_with_sqlites_error_named,
		test_a_damaged_page_is_reported_naming_the_store,
		test_a_missing_file_is_bad_input_unless_creating,
		test_an_empty_file_becomes_a_store_only_when_creating,
		test_a_version_0_store_is_migrated_when_opened,
		test_connections_run_wal_with_foreign_keys_full_sync_and_a_busy_timeout,
		test_a_plan_goes_in_outside_the_log_unless_another_connection_holds_the_store,
		TEST_CASE("run", 0),
		test_a_step_goes_started_then_done_with_the_journal_in_order,
		test_a_retry_keeps_the_before_image_from_the_first_attempt,
		test_step_transitions_out_of_order_are_refused_and_change_nothing,
		test_rollback_runs_through_started_and_refuses_irreversible_steps,
		test_plan_status_follows_its_waves_and_steps,
		test_gate_results_are_counted_separately_and_reset_per_wave,
		test_the_journal_cannot_be_rewritten,
		TEST_CASE("lease", 0),
		test_a_live_lease_refuses_a_second_run_naming_the_holder,
		test_an_expired_lease_is_taken_over_and_its_holder_loses_it,
		test_a_lease_left_by_a_dead_process_is_taken_over_before_it_expires,
		NULL,
	};

	return test_main_fixture("store", store_tests, setup, teardown);
}
