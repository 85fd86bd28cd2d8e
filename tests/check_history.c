/*
 * Tests of the history (state/history.c): files at the documented paths
 * with canonical content, volatile fields gone, no commit for no change,
 * updates and deletions, trailers read back, tags, locks left by dead
 * processes recovered and live ones refused, hostile ids rejected,
 * secrets absent from every object, and the real git binary reading the
 * result.  Each test works in its own temporary directory with libgit2's
 * config search paths pointed there, so the user's ~/.gitconfig does not
 * change the signature.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include <check.h>
#include <git2.h>
#include <jansson.h>

#include "plan/jsonutil.h"
#include "state/history.h"
#include "tests/testutil.h"

/* 2026-11-21T20:00:00Z */
#define T0 ((time_t)1795291200)

#define SUB "00000000-0000-0000-0000-000000000001"
#define RG_ID "/subscriptions/" SUB "/resourceGroups/rg-net"
#define NET RG_ID "/providers/Microsoft.Network"
#define SPOKE_ID NET "/virtualNetworks/spoke-1"
#define HUB_ID NET "/virtualNetworks/hub"
#define NM_ID NET "/networkManagers/nm"
#define NG_ID NM_ID "/networkGroups/mesh"
#define CONN_ID NET "/connections/conn-1"

#define SPOKE_PATH SUB "/rg-net/Microsoft.Network/virtualNetworks/spoke-1.json"
#define HUB_PATH SUB "/rg-net/Microsoft.Network/virtualNetworks/hub.json"
#define NM_PATH SUB "/rg-net/Microsoft.Network/networkManagers/nm.json"
#define NG_PATH SUB "/rg-net/Microsoft.Network/networkManagers/nm/networkGroups/mesh.json"
#define CONN_PATH SUB "/rg-net/Microsoft.Network/connections/conn-1.json"

static char tmpdir[256];
static char repo_dir[300];

static const char *const SPOKE_JSON =
    "{\"id\": \"" SPOKE_ID "\", \"name\": \"spoke-1\","
    " \"type\": \"Microsoft.Network/virtualNetworks\", \"location\": \"eastus\","
    " \"etag\": \"W/\\\"1\\\"\", \"tags\": {\"env\": \"dev\", \"etag\": \"kept\"},"
    " \"systemData\": {\"createdAt\": \"2026-01-01T00:00:00Z\"},"
    " \"properties\": {\"provisioningState\": \"Succeeded\", \"resourceGuid\": \"guid-1\","
    "   \"addressSpace\": {\"addressPrefixes\": [\"10.1.0.0/24\"]},"
    "   \"subnets\": [{\"name\": \"default\", \"etag\": \"W/\\\"2\\\"\","
    "     \"properties\": {\"addressPrefix\": \"10.1.0.0/26\", \"provisioningState\": \"Succeeded\"}}]}}";

/* What SPOKE_JSON must be stored as, byte for byte. */
static const char *const SPOKE_CANONICAL =
    "{\n"
    "  \"id\": \"" SPOKE_ID "\",\n"
    "  \"location\": \"eastus\",\n"
    "  \"name\": \"spoke-1\",\n"
    "  \"properties\": {\n"
    "    \"addressSpace\": {\n"
    "      \"addressPrefixes\": [\n"
    "        \"10.1.0.0/24\"\n"
    "      ]\n"
    "    },\n"
    "    \"subnets\": [\n"
    "      {\n"
    "        \"name\": \"default\",\n"
    "        \"properties\": {\n"
    "          \"addressPrefix\": \"10.1.0.0/26\"\n"
    "        }\n"
    "      }\n"
    "    ]\n"
    "  },\n"
    "  \"tags\": {\n"
    "    \"env\": \"dev\",\n"
    "    \"etag\": \"kept\"\n"
    "  },\n"
    "  \"type\": \"Microsoft.Network/virtualNetworks\"\n"
    "}\n";

static const char *const HUB_JSON =
    "{\"id\": \"" HUB_ID "\", \"name\": \"hub\", \"type\": \"Microsoft.Network/virtualNetworks\","
    " \"properties\": {\"addressSpace\": {\"addressPrefixes\": [\"10.0.0.0/24\"]}}}";
static const char *const NM_JSON =
    "{\"id\": \"" NM_ID "\", \"name\": \"nm\", \"type\": \"Microsoft.Network/networkManagers\","
    " \"properties\": {\"provisioningState\": \"Succeeded\"}}";
static const char *const NG_JSON =
    "{\"id\": \"" NG_ID "\", \"name\": \"mesh\","
    " \"type\": \"Microsoft.Network/networkManagers/networkGroups\","
    " \"properties\": {\"memberType\": \"VirtualNetwork\"}}";
static const char *const CONN_JSON =
    "{\"id\": \"" CONN_ID "\", \"name\": \"conn-1\", \"type\": \"Microsoft.Network/connections\","
    " \"properties\": {\"connectionType\": \"IPsec\", \"sharedKey\": \"tr0ub4dor-shared-key\","
    "   \"ingressBytesTransferred\": 123}}";

/* ---- fixtures and helpers --------------------------------------------- */

static void
setup(void)
{
	char home[300];
	int level;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_history.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(repo_dir, sizeof(repo_dir), "%s/history", tmpdir);
	snprintf(home, sizeof(home), "%s/home", tmpdir);
	ck_assert_int_eq(mkdir(home, 0700), 0);
	ck_assert_int_ge(git_libgit2_init(), 1);
	for (level = GIT_CONFIG_LEVEL_PROGRAMDATA; level <= GIT_CONFIG_LEVEL_GLOBAL; level++)
		ck_assert_int_eq(git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, home), 0);
}

static void
teardown(void)
{
	git_libgit2_shutdown();
	test_rm_rf(tmpdir);
}

static struct history *
open_history(void)
{
	struct history *h = NULL;
	struct nw_err err = { 0 };
	int rc = history_open(&h, repo_dir, true, &err);

	ck_assert_msg(rc == 0, "history_open: %s", err.msg);
	history_lock_wait_set(h, 0);
	return h;
}

/* A JSON array of the resources given as JSON texts, ending with NULL. */
static json_t *
resources(const char *first, ...)
{
	json_t *a = json_array();
	const char *text;
	va_list ap;

	va_start(ap, first);
	for (text = first; text != NULL; text = va_arg(ap, const char *)) {
		json_error_t je;
		json_t *r = json_loads(text, 0, &je);

		ck_assert_msg(r != NULL, "fixture: %s", je.text);
		json_array_append_new(a, r);
	}
	va_end(ap);
	return a;
}

static struct history_commit_info
info_record(const char *subject)
{
	struct history_commit_info info = { 0 };

	info.event = HISTORY_EVENT_RECORD;
	info.subject = subject;
	info.operator_name = "tester";
	info.time = T0;
	return info;
}

static struct history_result
record(struct history *h, enum history_mode mode, json_t *res, const char *const *removed,
    size_t nremoved, const struct history_commit_info *info)
{
	struct history_change c = { mode, res, removed, nremoved };
	struct history_result out;
	struct nw_err err = { 0 };
	int rc = history_record(h, &c, info, &out, &err);

	ck_assert_msg(rc == 0, "history_record: %s", err.msg);
	return out;
}

static int
record_fails(struct history *h, enum history_mode mode, json_t *res,
    const struct history_commit_info *info, struct nw_err *err)
{
	struct history_change c = { mode, res, NULL, 0 };
	struct history_result out;
	int rc = history_record(h, &c, info, &out, err);

	ck_assert_msg(rc != 0, "history_record should have failed");
	ck_assert_int_eq(rc, err->code);
	return rc;
}

/* The bytes of a file at HEAD read through libgit2 (malloc'd), or NULL when absent. */
static char *
head_file(const char *path)
{
	git_repository *repo = NULL;
	git_object *obj = NULL;
	char spec[1024];
	char *s = NULL;

	ck_assert_int_eq(git_repository_open(&repo, repo_dir), 0);
	snprintf(spec, sizeof(spec), "HEAD:%s", path);
	if (git_revparse_single(&obj, repo, spec) == 0) {
		git_blob *b = (git_blob *)obj;
		size_t n = (size_t)git_blob_rawsize(b);

		s = malloc(n + 1);
		memcpy(s, git_blob_rawcontent(b), n);
		s[n] = '\0';
	}
	git_object_free(obj);
	git_repository_free(repo);
	return s;
}

/* The bytes of a file in the working tree (malloc'd), or NULL. */
static char *
work_file(const char *path)
{
	char full[1024], *s = NULL;
	size_t len;
	struct nw_err err = { 0 };

	snprintf(full, sizeof(full), "%s/%s", repo_dir, path);
	if (access(full, F_OK) != 0)
		return NULL;
	ck_assert_int_eq(file_read_all(&s, &len, full, 1 << 20, &err), 0);
	return s;
}

static json_t *
log_of(struct history *h)
{
	json_t *doc = NULL;
	struct nw_err err = { 0 };

	ck_assert_msg(history_log(h, 0, &doc, &err) == 0, "history_log: %s", err.msg);
	return doc;
}

static size_t
commit_count(struct history *h)
{
	json_t *doc = log_of(h);
	size_t n = json_array_size(json_object_get(doc, "commits"));

	json_decref(doc);
	return n;
}

static void
write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static void
age_file(const char *path, time_t seconds)
{
	struct utimbuf t;

	t.actime = t.modtime = time(NULL) - seconds;
	ck_assert_int_eq(utime(path, &t), 0);
}

static char *
git_path(const char *rel)
{
	static char buf[1024];

	snprintf(buf, sizeof(buf), "%s/.git/%s", repo_dir, rel);
	return buf;
}

/* ---- layout and content ----------------------------------------------- */

START_TEST(test_record_writes_one_canonical_file_per_resource_at_its_id_path)
{
	struct history *h = open_history();
	json_t *res = resources(SPOKE_JSON, HUB_JSON, NM_JSON, NG_JSON, CONN_JSON, NULL);
	struct history_commit_info info = info_record("first snapshot");
	struct history_result r = record(h, HISTORY_REPLACE, res, NULL, 0, &info);
	char *spoke = head_file(SPOKE_PATH), *work = work_file(SPOKE_PATH);
	char *nm = head_file(NM_PATH), *ng = head_file(NG_PATH);

	ck_assert(r.committed);
	ck_assert_uint_eq(strlen(r.commit), HISTORY_ID_HEX);
	ck_assert_uint_eq(r.written, 5);
	ck_assert_uint_eq(r.deleted, 0);
	ck_assert_ptr_nonnull(spoke);
	ck_assert_str_eq(spoke, SPOKE_CANONICAL);
	/* the working tree is checked out for people who browse it */
	ck_assert_ptr_nonnull(work);
	ck_assert_str_eq(work, SPOKE_CANONICAL);
	/* a child resource sits under its parent's directory, beside the parent's file */
	ck_assert_ptr_nonnull(nm);
	ck_assert_ptr_nonnull(ng);
	ck_assert_ptr_nonnull(strstr(ng, "\"memberType\": \"VirtualNetwork\""));
	free(spoke);
	free(work);
	free(nm);
	free(ng);
	json_decref(res);
	history_close(h);
}
END_TEST

START_TEST(test_volatile_fields_are_removed_at_every_depth_but_not_from_tags)
{
	struct history *h = open_history();
	json_t *res = resources(SPOKE_JSON, NM_JSON, CONN_JSON, NULL);
	struct history_commit_info info = info_record("snapshot");
	char *spoke, *nm, *conn;

	record(h, HISTORY_REPLACE, res, NULL, 0, &info);
	spoke = head_file(SPOKE_PATH);
	nm = head_file(NM_PATH);
	conn = head_file(CONN_PATH);
	ck_assert_ptr_null(strstr(spoke, "provisioningState"));
	ck_assert_ptr_null(strstr(spoke, "resourceGuid"));
	ck_assert_ptr_null(strstr(spoke, "systemData"));
	ck_assert_ptr_null(strstr(spoke, "W/"));          /* etags, top-level and of the subnet */
	ck_assert_ptr_nonnull(strstr(spoke, "\"etag\": \"kept\"")); /* a tag is the user's */
	ck_assert_ptr_null(strstr(nm, "provisioningState"));
	ck_assert_ptr_null(strstr(conn, "ingressBytesTransferred"));
	ck_assert_ptr_nonnull(strstr(conn, "\"connectionType\": \"IPsec\""));
	free(spoke);
	free(nm);
	free(conn);
	json_decref(res);
	history_close(h);
}
END_TEST

START_TEST(test_a_record_that_changes_nothing_makes_no_commit)
{
	struct history *h = open_history();
	json_t *res = resources(SPOKE_JSON, HUB_JSON, NULL);
	json_t *again = resources(SPOKE_JSON, HUB_JSON, NULL);
	struct history_commit_info info = info_record("snapshot");
	struct history_result r1, r2, r3;

	r1 = record(h, HISTORY_REPLACE, res, NULL, 0, &info);
	r2 = record(h, HISTORY_REPLACE, res, NULL, 0, &info);
	ck_assert(r1.committed);
	ck_assert(!r2.committed);
	ck_assert_str_eq(r2.commit, r1.commit);
	ck_assert_uint_eq(r2.written, 0);
	/* only volatile fields differ: still the same tree */
	json_object_set_new(json_array_get(again, 0), "etag", json_string("W/\"99\""));
	json_object_set_new(json_object_get(json_array_get(again, 0), "properties"),
	    "provisioningState", json_string("Updating"));
	r3 = record(h, HISTORY_REPLACE, again, NULL, 0, &info);
	ck_assert(!r3.committed);
	ck_assert_str_eq(r3.commit, r1.commit);
	ck_assert_uint_eq(commit_count(h), 1);
	json_decref(res);
	json_decref(again);
	history_close(h);
}
END_TEST

START_TEST(test_an_empty_history_stays_empty_when_nothing_is_recorded)
{
	struct history *h = open_history();
	json_t *none = json_array();
	struct history_commit_info info = info_record("nothing");
	struct history_result r = record(h, HISTORY_REPLACE, none, NULL, 0, &info);

	ck_assert(!r.committed);
	ck_assert_str_eq(r.commit, "");
	ck_assert_uint_eq(commit_count(h), 0);
	json_decref(none);
	history_close(h);
}
END_TEST

START_TEST(test_an_update_writes_only_the_given_resources_and_deletes_removed_ids)
{
	struct history *h = open_history();
	json_t *all = resources(SPOKE_JSON, HUB_JSON, NM_JSON, NG_JSON, NULL);
	json_t *changed = resources(HUB_JSON, NULL);
	const char *removed[] = { NG_ID, NET "/virtualNetworks/never-recorded" };
	struct history_commit_info info = info_record("snapshot");
	struct history_result r;
	json_t *show = NULL, *files;
	struct nw_err err = { 0 };
	char *hub, *ng, *spoke;

	record(h, HISTORY_REPLACE, all, NULL, 0, &info);
	json_object_set_new(json_object_get(json_array_get(changed, 0), "properties"),
	    "enableDdosProtection", json_true());
	r = record(h, HISTORY_UPDATE, changed, removed, 2, &info);
	ck_assert(r.committed);
	ck_assert_uint_eq(r.written, 1);
	ck_assert_uint_eq(r.deleted, 1);
	hub = head_file(HUB_PATH);
	ng = head_file(NG_PATH);
	spoke = head_file(SPOKE_PATH);
	ck_assert_ptr_nonnull(strstr(hub, "enableDdosProtection"));
	ck_assert_ptr_null(ng);
	ck_assert_ptr_nonnull(spoke); /* untouched resources stay */
	ck_assert_ptr_null(work_file(NG_PATH));
	/* the commit shows exactly the two files */
	ck_assert_msg(history_show(h, "HEAD", NULL, &show, &err) == 0, "%s", err.msg);
	files = json_object_get(show, "files"); /* sorted by path */
	ck_assert_uint_eq(json_array_size(files), 2);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(files, 0), "path")),
	    NG_PATH);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(files, 0), "status")),
	    "deleted");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(files, 0), "id")), NG_ID);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(files, 1), "path")),
	    HUB_PATH);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(files, 1), "status")),
	    "modified");
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(files, 1), "id")),
	    HUB_ID);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_array_get(files, 1),
	    "diff")), "+    \"enableDdosProtection\": true"));
	json_decref(show);
	free(hub);
	free(spoke);
	json_decref(all);
	json_decref(changed);
	history_close(h);
}
END_TEST

START_TEST(test_a_replace_deletes_what_the_estate_no_longer_has)
{
	struct history *h = open_history();
	json_t *all = resources(SPOKE_JSON, HUB_JSON, NULL);
	json_t *less = resources(HUB_JSON, NULL);
	struct history_commit_info info = info_record("snapshot");
	struct history_result r;
	char *spoke;

	record(h, HISTORY_REPLACE, all, NULL, 0, &info);
	r = record(h, HISTORY_REPLACE, less, NULL, 0, &info);
	ck_assert(r.committed);
	ck_assert_uint_eq(r.written, 0);
	ck_assert_uint_eq(r.deleted, 1);
	spoke = head_file(SPOKE_PATH);
	ck_assert_ptr_null(spoke);
	ck_assert_uint_eq(commit_count(h), 2);
	json_decref(all);
	json_decref(less);
	history_close(h);
}
END_TEST

START_TEST(test_an_id_that_changes_case_replaces_its_file)
{
	struct history *h = open_history();
	json_t *a = resources(SPOKE_JSON, NULL);
	json_t *b = resources(SPOKE_JSON, NULL);
	struct history_commit_info info = info_record("snapshot");
	struct history_result r;
	char *old, *renamed;

	record(h, HISTORY_REPLACE, a, NULL, 0, &info);
	json_object_set_new(json_array_get(b, 0), "id", json_string("/subscriptions/" SUB
	    "/resourceGroups/RG-NET/providers/Microsoft.Network/virtualNetworks/spoke-1"));
	r = record(h, HISTORY_UPDATE, b, NULL, 0, &info);
	ck_assert(r.committed);
	old = head_file(SPOKE_PATH);
	renamed = head_file(SUB "/RG-NET/Microsoft.Network/virtualNetworks/spoke-1.json");
	ck_assert_ptr_null(old);
	ck_assert_ptr_nonnull(renamed);
	free(renamed);
	json_decref(a);
	json_decref(b);
	history_close(h);
}
END_TEST

START_TEST(test_an_estate_of_hundreds_of_resources_is_stored_and_updated)
{
	struct history *h = open_history();
	json_t *res = json_array(), *one = json_array();
	struct history_commit_info info = info_record("large snapshot");
	struct history_result r;
	char id[256], path[256];
	char *text;
	size_t i;

	for (i = 0; i < 700; i++) {
		snprintf(id, sizeof(id), NET "/virtualNetworks/spoke-%04zu", i);
		json_array_append_new(res, json_pack("{s:s, s:s, s:{s:{s:[s]}}}", "id", id, "name",
		    id + strlen(NET "/virtualNetworks/"), "properties", "addressSpace",
		    "addressPrefixes", "10.2.0.0/24"));
	}
	r = record(h, HISTORY_REPLACE, res, NULL, 0, &info);
	ck_assert_uint_eq(r.written, 700);
	snprintf(path, sizeof(path), SUB "/rg-net/Microsoft.Network/virtualNetworks/spoke-0699.json");
	text = head_file(path);
	ck_assert_ptr_nonnull(strstr(text, "spoke-0699"));
	free(text);
	json_array_append(one, json_array_get(res, 350));
	json_object_set_new(json_array_get(one, 0), "location", json_string("westeurope"));
	r = record(h, HISTORY_UPDATE, one, NULL, 0, &info);
	ck_assert_uint_eq(r.written, 1);
	text = head_file(SUB "/rg-net/Microsoft.Network/virtualNetworks/spoke-0350.json");
	ck_assert_ptr_nonnull(strstr(text, "westeurope"));
	free(text);
	text = head_file(SUB "/rg-net/Microsoft.Network/virtualNetworks/spoke-0349.json");
	ck_assert_ptr_nonnull(text);
	free(text);
	json_decref(res);
	json_decref(one);
	history_close(h);
}
END_TEST

struct progress_seen {
	size_t calls, last, total;
	bool in_order;
};

static void
progress_note(void *arg, size_t done, size_t total)
{
	struct progress_seen *p = arg;

	p->in_order = p->in_order && done == p->last + 1;
	p->calls++;
	p->last = done;
	p->total = total;
}

START_TEST(test_record_reports_progress_resource_by_resource_when_asked)
{
	struct history *h = open_history();
	json_t *res = json_array();
	struct history_commit_info info = info_record("progress");
	struct progress_seen seen = { .in_order = true };
	struct history_result r;
	char id[256];
	size_t i;

	for (i = 0; i < 250; i++) {
		snprintf(id, sizeof(id), NET "/virtualNetworks/spoke-%04zu", i);
		json_array_append_new(res, json_pack("{s:s, s:s}", "id", id, "name", "spoke"));
	}
	history_progress_set(h, progress_note, &seen);
	r = record(h, HISTORY_REPLACE, res, NULL, 0, &info);
	ck_assert_uint_eq(r.written, 250);
	ck_assert_uint_eq(seen.calls, 250);
	ck_assert_uint_eq(seen.last, 250);
	ck_assert_uint_eq(seen.total, 250);
	ck_assert(seen.in_order);
	/* unset: no more calls */
	history_progress_set(h, NULL, NULL);
	json_object_set_new(json_array_get(res, 0), "location", json_string("eastus"));
	r = record(h, HISTORY_REPLACE, res, NULL, 0, &info);
	ck_assert_uint_eq(r.written, 1);
	ck_assert_uint_eq(seen.calls, 250);
	json_decref(res);
	history_close(h);
}
END_TEST

/* ---- the message ------------------------------------------------------ */

START_TEST(test_subject_and_trailers_parse_back_from_the_log)
{
	struct history *h = open_history();
	json_t *v1 = resources(SPOKE_JSON, NULL), *v2 = resources(SPOKE_JSON, HUB_JSON, NULL);
	struct history_commit_info info = { 0 };
	json_t *doc, *c, *tr;

	info.event = HISTORY_EVENT_DISCOVER;
	info.operator_name = "alice";
	info.time = T0;
	record(h, HISTORY_REPLACE, v1, NULL, 0, &info);
	info.event = HISTORY_EVENT_APPLY;
	info.plan_id = "pl-1234abcd";
	info.wave = "pilot";
	info.steps = 12;
	info.body = "Peered the pilot spokes into the mesh.";
	info.time = T0 + 60;
	record(h, HISTORY_UPDATE, v2, NULL, 0, &info);

	doc = log_of(h);
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "commits")), 2);
	c = json_array_get(json_object_get(doc, "commits"), 0); /* newest first */
	ck_assert_str_eq(json_string_value(json_object_get(c, "subject")),
	    "apply wave pilot of plan pl-1234abcd: 12 steps");
	ck_assert_str_eq(json_string_value(json_object_get(c, "time")), "2026-11-21T20:01:00Z");
	ck_assert_str_eq(json_string_value(json_object_get(c, "body")),
	    "Peered the pilot spokes into the mesh.\n\nWrote 1 resource file and removed 0.");
	tr = json_object_get(c, "trailers");
	ck_assert_str_eq(json_string_value(json_object_get(tr, "Plan-Id")), "pl-1234abcd");
	ck_assert_str_eq(json_string_value(json_object_get(tr, "Wave")), "pilot");
	ck_assert_str_eq(json_string_value(json_object_get(tr, "Steps")), "12");
	ck_assert_str_eq(json_string_value(json_object_get(tr, "Operator")), "alice");
	ck_assert_uint_ge(strlen(json_string_value(json_object_get(c, "shortId"))), 7);
	ck_assert_uint_eq(json_array_size(json_object_get(c, "parents")), 1);
	/* no user in git config: the tool's own signature */
	ck_assert_str_eq(json_string_value(json_path(c, "author", "name", NULL)), "netwave");
	ck_assert_str_eq(json_string_value(json_path(c, "author", "email", NULL)),
	    "netwave@localhost");

	c = json_array_get(json_object_get(doc, "commits"), 1);
	ck_assert_str_eq(json_string_value(json_object_get(c, "subject")), "discover: 1 resource");
	tr = json_object_get(c, "trailers");
	ck_assert_str_eq(json_string_value(json_object_get(tr, "Operator")), "alice");
	ck_assert_ptr_null(json_object_get(tr, "Plan-Id"));
	ck_assert_ptr_null(json_object_get(tr, "Steps"));
	ck_assert_uint_eq(json_array_size(json_object_get(c, "parents")), 0);
	json_decref(doc);
	json_decref(v1);
	json_decref(v2);
	history_close(h);
}
END_TEST

START_TEST(test_a_rollback_says_so_in_its_subject)
{
	struct history *h = open_history();
	json_t *v1 = resources(SPOKE_JSON, NULL);
	struct history_commit_info info = { 0 };
	json_t *doc;

	info.event = HISTORY_EVENT_ROLLBACK;
	info.plan_id = "pl-1";
	info.wave = "light";
	info.steps = 1;
	info.operator_name = "bob";
	info.time = T0;
	record(h, HISTORY_REPLACE, v1, NULL, 0, &info);
	doc = log_of(h);
	ck_assert_str_eq(json_string_value(json_path(json_array_get(json_object_get(doc,
	    "commits"), 0), "subject", NULL)), "roll back wave light of plan pl-1: 1 step");
	json_decref(doc);
	json_decref(v1);
	history_close(h);
}
END_TEST

START_TEST(test_the_signature_comes_from_git_config_when_it_names_a_user)
{
	struct history *h = open_history();
	json_t *v1 = resources(SPOKE_JSON, NULL);
	struct history_commit_info info = info_record("snapshot");
	git_repository *repo = NULL;
	git_config *cfg = NULL;
	json_t *doc, *c;

	ck_assert_int_eq(git_repository_open(&repo, repo_dir), 0);
	ck_assert_int_eq(git_repository_config(&cfg, repo), 0);
	ck_assert_int_eq(git_config_set_string(cfg, "user.name", "Ada Lovelace"), 0);
	ck_assert_int_eq(git_config_set_string(cfg, "user.email", "ada@example.org"), 0);
	git_config_free(cfg);
	git_repository_free(repo);
	history_close(h);
	h = open_history(); /* config is read when the repository is opened */
	record(h, HISTORY_REPLACE, v1, NULL, 0, &info);
	doc = log_of(h);
	c = json_array_get(json_object_get(doc, "commits"), 0);
	ck_assert_str_eq(json_string_value(json_path(c, "author", "name", NULL)), "Ada Lovelace");
	ck_assert_str_eq(json_string_value(json_path(c, "author", "email", NULL)),
	    "ada@example.org");
	json_decref(doc);
	json_decref(v1);
	history_close(h);
}
END_TEST

START_TEST(test_bad_messages_and_missing_fields_are_refused)
{
	struct history *h = open_history();
	json_t *v1 = resources(SPOKE_JSON, NULL);
	struct history_commit_info info = info_record("two\nlines");
	struct nw_err err = { 0 };

	record_fails(h, HISTORY_REPLACE, v1, &info, &err);
	ck_assert_int_eq(err.code, NW_EINPUT);
	info = info_record("snapshot");
	info.operator_name = NULL;
	record_fails(h, HISTORY_REPLACE, v1, &info, &err);
	ck_assert_ptr_nonnull(strstr(err.msg, "operator"));
	info = info_record(NULL);
	info.event = HISTORY_EVENT_APPLY;
	info.wave = "pilot";
	info.steps = 1;
	record_fails(h, HISTORY_REPLACE, v1, &info, &err);
	ck_assert_ptr_nonnull(strstr(err.msg, "plan id"));
	info = info_record("rotate DefaultEndpointsProtocol=https;AccountName=x;AccountKey=abc==");
	record_fails(h, HISTORY_REPLACE, v1, &info, &err);
	ck_assert_ptr_nonnull(strstr(err.msg, "secret"));
	info = info_record("snapshot");
	info.tag = "bad..tag";
	record_fails(h, HISTORY_REPLACE, v1, &info, &err);
	ck_assert_ptr_nonnull(strstr(err.msg, "tag"));
	ck_assert_uint_eq(commit_count(h), 0);
	json_decref(v1);
	history_close(h);
}
END_TEST

/* ---- tags ------------------------------------------------------------- */

START_TEST(test_a_tag_marks_the_commit_and_moves_when_the_wave_is_applied_again)
{
	struct history *h = open_history();
	json_t *v1 = resources(SPOKE_JSON, NULL), *v2 = resources(SPOKE_JSON, HUB_JSON, NULL);
	struct history_commit_info info = info_record("snapshot");
	struct history_result r1, r2, r3;
	git_repository *repo = NULL;
	git_oid oid;
	char hex[HISTORY_ID_SIZE];
	json_t *doc, *tags;

	info.tag = "pl-1/pilot/applied";
	r1 = record(h, HISTORY_REPLACE, v1, NULL, 0, &info);
	ck_assert_int_eq(git_repository_open(&repo, repo_dir), 0);
	ck_assert_int_eq(git_reference_name_to_id(&oid, repo, "refs/tags/pl-1/pilot/applied"), 0);
	git_oid_tostr(hex, sizeof(hex), &oid);
	ck_assert_str_eq(hex, r1.commit);
	doc = log_of(h);
	tags = json_object_get(json_array_get(json_object_get(doc, "commits"), 0), "tags");
	ck_assert_uint_eq(json_array_size(tags), 1);
	ck_assert_str_eq(json_string_value(json_array_get(tags, 0)), "pl-1/pilot/applied");
	json_decref(doc);

	r2 = record(h, HISTORY_REPLACE, v2, NULL, 0, &info);
	ck_assert_int_eq(git_reference_name_to_id(&oid, repo, "refs/tags/pl-1/pilot/applied"), 0);
	git_oid_tostr(hex, sizeof(hex), &oid);
	ck_assert_str_eq(hex, r2.commit);
	ck_assert_str_ne(r1.commit, r2.commit);

	/* a no-op record still tags: the wave was applied, it just changed nothing stored */
	info.tag = "pl-1/light/applied";
	r3 = record(h, HISTORY_REPLACE, v2, NULL, 0, &info);
	ck_assert(!r3.committed);
	ck_assert_int_eq(git_reference_name_to_id(&oid, repo, "refs/tags/pl-1/light/applied"), 0);
	git_oid_tostr(hex, sizeof(hex), &oid);
	ck_assert_str_eq(hex, r2.commit);
	git_repository_free(repo);
	json_decref(v1);
	json_decref(v2);
	history_close(h);
}
END_TEST

/* ---- locks ------------------------------------------------------------ */

static long
dead_pid(void)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return (long)pid;
}

START_TEST(test_a_lock_left_by_a_dead_process_is_recovered_with_its_git_locks)
{
	struct history *h = open_history();
	json_t *v1 = resources(SPOKE_JSON, NULL), *v2 = resources(SPOKE_JSON, HUB_JSON, NULL);
	struct history_commit_info info = info_record("snapshot");
	struct history_result r;
	char host[256], content[512];

	record(h, HISTORY_REPLACE, v1, NULL, 0, &info);
	/* a netwave killed in the middle of a commit: its lock, the index's and the branch's */
	gethostname(host, sizeof(host));
	host[sizeof(host) - 1] = '\0';
	snprintf(content, sizeof(content), "pid=%ld start=0 host=%s\n", dead_pid(), host);
	write_text(git_path("netwave.lock"), content);
	write_text(git_path("index.lock"), "");
	write_text(git_path("refs/heads/main.lock"), "");
	r = record(h, HISTORY_REPLACE, v2, NULL, 0, &info);
	ck_assert(r.committed);
	ck_assert_int_ne(access(git_path("netwave.lock"), F_OK), 0);
	ck_assert_int_ne(access(git_path("index.lock"), F_OK), 0);
	ck_assert_int_ne(access(git_path("refs/heads/main.lock"), F_OK), 0);
	ck_assert_uint_eq(commit_count(h), 2);
	json_decref(v1);
	json_decref(v2);
	history_close(h);
}
END_TEST

START_TEST(test_a_lock_whose_pid_now_belongs_to_another_process_is_recovered)
{
	struct history *h = open_history();
	json_t *v1 = resources(SPOKE_JSON, NULL);
	struct history_commit_info info = info_record("snapshot");
	struct history_result r;
	char host[256], content[512];

	if (access("/proc/self/stat", R_OK) != 0) {
		history_close(h);
		json_decref(v1);
		return; /* no start times to compare on this system */
	}
	/* our pid is alive, but the recorded start time is not ours: a reused pid */
	gethostname(host, sizeof(host));
	host[sizeof(host) - 1] = '\0';
	snprintf(content, sizeof(content), "pid=%ld start=1 host=%s\n", (long)getpid(), host);
	write_text(git_path("netwave.lock"), content);
	r = record(h, HISTORY_REPLACE, v1, NULL, 0, &info);
	ck_assert(r.committed);
	ck_assert_int_ne(access(git_path("netwave.lock"), F_OK), 0);
	json_decref(v1);
	history_close(h);
}
END_TEST

START_TEST(test_a_live_lock_is_refused_naming_its_holder)
{
	struct history *h1 = open_history(), *h2 = open_history();
	json_t *v1 = resources(SPOKE_JSON, NULL);
	struct history_commit_info info = info_record("snapshot");
	struct nw_err err = { 0 };
	char pid[32];

	ck_assert_msg(history_lock(h1, &err) == 0, "%s", err.msg);
	record_fails(h2, HISTORY_REPLACE, v1, &info, &err);
	ck_assert_int_eq(err.code, NW_ELOCKED);
	snprintf(pid, sizeof(pid), "process %ld", (long)getpid());
	ck_assert_msg(strstr(err.msg, pid) != NULL, "%s", err.msg);
	ck_assert_ptr_nonnull(strstr(err.msg, "netwave.lock"));
	ck_assert_uint_eq(commit_count(h2), 0);
	/* the holder can record, and once it lets go so can the other */
	record(h1, HISTORY_REPLACE, v1, NULL, 0, &info);
	history_unlock(h1);
	record(h2, HISTORY_REPLACE, v1, NULL, 0, &info);
	ck_assert_int_ne(access(git_path("netwave.lock"), F_OK), 0);
	json_decref(v1);
	history_close(h1);
	history_close(h2);
}
END_TEST

START_TEST(test_a_young_git_lock_is_respected_and_an_old_one_cleared)
{
	struct history *h = open_history();
	json_t *v1 = resources(SPOKE_JSON, NULL), *v2 = resources(SPOKE_JSON, HUB_JSON, NULL);
	struct history_commit_info info = info_record("snapshot");
	struct nw_err err = { 0 };

	record(h, HISTORY_REPLACE, v1, NULL, 0, &info);
	write_text(git_path("index.lock"), "");
	record_fails(h, HISTORY_REPLACE, v2, &info, &err);
	ck_assert_int_eq(err.code, NW_ELOCKED);
	ck_assert_msg(strstr(err.msg, "index.lock") != NULL, "%s", err.msg);
	ck_assert_uint_eq(commit_count(h), 1); /* refused before committing */
	age_file(git_path("index.lock"), HISTORY_STALE_LOCK_SECONDS + 5);
	record(h, HISTORY_REPLACE, v2, NULL, 0, &info);
	ck_assert_uint_eq(commit_count(h), 2);
	ck_assert_int_ne(access(git_path("index.lock"), F_OK), 0);
	json_decref(v1);
	json_decref(v2);
	history_close(h);
}
END_TEST

/* ---- hostile ids ------------------------------------------------------ */

START_TEST(test_ids_that_could_escape_the_tree_are_rejected)
{
	static const char *const bad[] = {
		"/subscriptions/" SUB "/resourceGroups/../providers/Microsoft.Network/virtualNetworks/x",
		"/subscriptions/" SUB "/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/..",
		"/subscriptions/" SUB "/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/.",
		"/subscriptions/" SUB "/resourceGroups/rg//providers/Microsoft.Network/virtualNetworks/x",
		"/subscriptions/" SUB "/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/x/",
		"subscriptions/" SUB "/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/x",
		"/subscriptions/" SUB "/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks",
		"/subscriptions/" SUB "/providers/Microsoft.Network/virtualNetworks/x",
	};
	struct history *h = open_history();
	struct history_commit_info info = info_record("snapshot");
	struct nw_err err = { 0 };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *res = json_pack("[{s:s}]", "id", bad[i]);
		char *path = NULL;

		record_fails(h, HISTORY_REPLACE, res, &info, &err);
		ck_assert_int_eq(err.code, NW_EINPUT);
		ck_assert_msg(strstr(err.msg, bad[i]) != NULL, "%s", err.msg);
		ck_assert_int_eq(history_path_for_id(&path, bad[i], &err), NW_EINPUT);
		ck_assert_ptr_null(path);
		json_decref(res);
	}
	{
		/* a NUL inside the id would cut the path short */
		json_t *res = json_loads("[{\"id\": \"/subscriptions/s/resourceGroups/rg/providers/"
		    "NS/t/x\\u0000/../../evil\"}]", JSON_ALLOW_NUL, NULL);

		ck_assert_ptr_nonnull(res);
		record_fails(h, HISTORY_REPLACE, res, &info, &err);
		ck_assert_ptr_nonnull(strstr(err.msg, "NUL"));
		json_decref(res);
	}
	ck_assert_uint_eq(commit_count(h), 0);
	history_close(h);
}
END_TEST

START_TEST(test_leading_dots_and_unsafe_characters_are_encoded)
{
	struct nw_err err = { 0 };
	char *path = NULL;

	ck_assert_int_eq(history_path_for_id(&path, "/subscriptions/S/resourceGroups/.git/providers/"
	    "Microsoft.Network/virtualNetworks/a:b%c\\d", &err), 0);
	ck_assert_str_eq(path, "S/%2Egit/Microsoft.Network/virtualNetworks/a%3Ab%25c%5Cd.json");
	free(path);
	ck_assert_int_eq(history_path_for_id(&path, "/SUBSCRIPTIONS/S/resourcegroups/rg/PROVIDERS/"
	    "Microsoft.Network/networkManagers/nm/networkGroups/g.", &err), 0);
	ck_assert_str_eq(path, "S/rg/Microsoft.Network/networkManagers/nm/networkGroups/g%2E.json");
	free(path);
	/* a resource group itself sits beside the directory of what is in it */
	ck_assert_int_eq(history_path_for_id(&path, "/subscriptions/S/resourcegroups/.rg:x", &err), 0);
	ck_assert_str_eq(path, "S/%2Erg%3Ax.json");
	free(path);
	ck_assert_int_eq(history_path_for_id(&path, "/subscriptions/S/locks/rg", &err), NW_EINPUT);
	ck_assert_ptr_null(path);
}
END_TEST

START_TEST(test_two_resources_with_one_id_are_refused)
{
	struct history *h = open_history();
	json_t *res = resources(SPOKE_JSON, HUB_JSON, SPOKE_JSON, NULL);
	const char *removed[] = { SPOKE_ID };
	struct history_commit_info info = info_record("snapshot");
	struct history_change c = { HISTORY_UPDATE, NULL, removed, 1 };
	struct history_result out;
	struct nw_err err = { 0 };

	record_fails(h, HISTORY_REPLACE, res, &info, &err);
	ck_assert_ptr_nonnull(strstr(err.msg, "resources 0 and 2"));
	json_array_remove(res, 2);
	c.resources = res;
	ck_assert_int_eq(history_record(h, &c, &info, &out, &err), NW_EINPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "both written and removed"));
	json_decref(res);
	history_close(h);
}
END_TEST

/* ---- secrets ---------------------------------------------------------- */

static const char *const secrets[] = {
	"tr0ub4dor-shared-key",
	"er-auth-key-0b1c2d",
	"hunter2-admin",
	"client-secret-value-xyz",
	"ZmFrZS1rZXk=",
	"eyJhIjoxfQ.eyJiIjoyLCJjIjozfQ.ZmFrZS1zaWduYXR1cmU",
	"tag-password-value",
};

struct odb_scan {
	git_odb *odb;
	size_t objects;
	const char *found;
};

static int
odb_scan_cb(const git_oid *oid, void *payload)
{
	struct odb_scan *s = payload;
	git_odb_object *obj = NULL;
	size_t i;

	ck_assert_int_eq(git_odb_read(&obj, s->odb, oid), 0);
	s->objects++;
	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		if (memmem(git_odb_object_data(obj), git_odb_object_size(obj), secrets[i],
		    strlen(secrets[i])) != NULL)
			s->found = secrets[i];
	git_odb_object_free(obj);
	return 0;
}

START_TEST(test_secret_looking_values_are_redacted_and_absent_from_every_object)
{
	struct history *h = open_history();
	json_t *res = resources(CONN_JSON,
	    "{\"id\": \"" NET "/expressRouteCircuits/er/authorizations/a1\", \"name\": \"a1\","
	    " \"properties\": {\"authorizationKey\": \"er-auth-key-0b1c2d\"}}",
	    "{\"id\": \"" NET "/virtualNetworkGateways/gw\", \"name\": \"gw\","
	    " \"tags\": {\"password\": \"tag-password-value\"},"
	    " \"properties\": {\"vpnClientConfiguration\": {\"radiusServerSecret\": null,"
	    "   \"aad\": {\"client_secret\": \"client-secret-value-xyz\"}},"
	    "   \"adminPassword\": \"hunter2-admin\","
	    "   \"diagnostics\": [\"DefaultEndpointsProtocol=https;AccountName=x;"
	    "AccountKey=ZmFrZS1rZXk=;EndpointSuffix=core.windows.net\"],"
	    "   \"note\": \"eyJhIjoxfQ.eyJiIjoyLCJjIjozfQ.ZmFrZS1zaWduYXR1cmU\","
	    "   \"publicCertData\": \"MIIC-public\"}}",
	    NULL);
	struct history_commit_info info = info_record("snapshot");
	struct history_result r = record(h, HISTORY_REPLACE, res, NULL, 0, &info);
	git_repository *repo = NULL;
	struct odb_scan scan = { 0 };
	char *conn = head_file(CONN_PATH);
	char *gw = head_file(SUB "/rg-net/Microsoft.Network/virtualNetworkGateways/gw.json");
	json_t *doc = NULL;
	struct nw_err err = { 0 };
	size_t i;

	struct history_result again;

	ck_assert_uint_eq(r.redacted, 7);
	/* unchanged files are not written again, so nothing more is redacted */
	again = record(h, HISTORY_REPLACE, res, NULL, 0, &info);
	ck_assert(!again.committed);
	ck_assert_uint_eq(again.redacted, 0);
	ck_assert_ptr_nonnull(strstr(conn, "\"sharedKey\": \"" HISTORY_REDACTED "\""));
	ck_assert_ptr_nonnull(strstr(gw, "\"adminPassword\": \"" HISTORY_REDACTED "\""));
	ck_assert_ptr_nonnull(strstr(gw, "\"radiusServerSecret\": null")); /* nothing to hide */
	ck_assert_ptr_nonnull(strstr(gw, "MIIC-public"));                  /* public stays */
	/* loose objects are compressed: read every object back through libgit2 */
	ck_assert_int_eq(git_repository_open(&repo, repo_dir), 0);
	ck_assert_int_eq(git_repository_odb(&scan.odb, repo), 0);
	ck_assert_int_eq(git_odb_foreach(scan.odb, odb_scan_cb, &scan), 0);
	ck_assert_uint_ge(scan.objects, 8); /* blobs, trees, the commit */
	ck_assert_msg(scan.found == NULL, "secret '%s' reached the repository", scan.found);
	git_odb_free(scan.odb);
	git_repository_free(repo);
	/* nor the working tree or the show output */
	ck_assert_int_eq(history_show(h, "HEAD", NULL, &doc, &err), 0);
	{
		char *text = json_dumps(doc, 0);
		for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
			ck_assert_ptr_null(strstr(text, secrets[i]));
		free(text);
	}
	json_decref(doc);
	free(conn);
	free(gw);
	json_decref(res);
	history_close(h);
}
END_TEST

/* ---- reading ---------------------------------------------------------- */

START_TEST(test_show_and_diff_give_unified_diffs_and_files_at_a_revision)
{
	struct history *h = open_history();
	json_t *v1 = resources(SPOKE_JSON, NULL), *v2 = resources(SPOKE_JSON, NULL);
	struct history_commit_info info = info_record("snapshot");
	struct history_result r1, r2;
	json_t *doc = NULL, *f;
	struct nw_err err = { 0 };
	const char *diff;

	r1 = record(h, HISTORY_REPLACE, v1, NULL, 0, &info);
	json_array_set_new(json_path(json_array_get(v2, 0), "properties", "addressSpace",
	    "addressPrefixes", NULL), 0, json_string("10.1.0.0/23"));
	r2 = record(h, HISTORY_REPLACE, v2, NULL, 0, &info);

	ck_assert_msg(history_diff(h, r1.commit, "HEAD", &doc, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "from")), r1.commit);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "to")), r2.commit);
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "files")), 1);
	f = json_array_get(json_object_get(doc, "files"), 0);
	diff = json_string_value(json_object_get(f, "diff"));
	ck_assert_ptr_nonnull(strstr(diff, "--- a/" SPOKE_PATH));
	ck_assert_ptr_nonnull(strstr(diff, "-        \"10.1.0.0/24\""));
	ck_assert_ptr_nonnull(strstr(diff, "+        \"10.1.0.0/23\""));
	json_decref(doc);

	/* the root commit shows every file as added */
	ck_assert_int_eq(history_show(h, "HEAD~1", NULL, &doc, &err), 0);
	ck_assert_str_eq(json_string_value(json_path(json_array_get(json_object_get(doc, "files"),
	    0), "status", NULL)), "added");
	json_decref(doc);

	/* a file at a revision, by path or by REV:PATH */
	ck_assert_int_eq(history_show(h, "HEAD~1", SPOKE_PATH, &doc, &err), 0);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "content")), SPOKE_CANONICAL);
	ck_assert_str_eq(json_string_value(json_object_get(doc, "id")), SPOKE_ID);
	json_decref(doc);
	ck_assert_int_eq(history_show(h, "HEAD:" SPOKE_PATH, NULL, &doc, &err), 0);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(doc, "content")),
	    "10.1.0.0/23"));
	json_decref(doc);

	ck_assert_int_eq(history_show(h, "nosuchrev", NULL, &doc, &err), NW_EINPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "nosuchrev"));
	ck_assert_int_eq(history_show(h, "HEAD", "no/such.json", &doc, &err), NW_EINPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "no/such.json"));
	ck_assert_int_eq(history_diff(h, "HEAD", "HEAD~5", &doc, &err), NW_EINPUT);
	json_decref(v1);
	json_decref(v2);
	history_close(h);
}
END_TEST

START_TEST(test_the_log_of_an_empty_history_has_no_commits)
{
	struct history *h = open_history();
	json_t *doc = log_of(h);
	struct nw_err err = { 0 };
	json_t *show = NULL;

	ck_assert_str_eq(json_string_value(json_object_get(doc, "format")), "netwave.history-log/v1");
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "commits")), 0);
	ck_assert_int_eq(history_show(h, "HEAD", NULL, &show, &err), NW_EINPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "no commits yet"));
	json_decref(doc);
	history_close(h);
}
END_TEST

/* ---- opening ---------------------------------------------------------- */

/* Asserts that history_open refuses dir (asked to create it or not) naming why in text, and opens nothing. */
static void
assert_open_refused(const char *dir, bool create, const char *text)
{
	struct history *h = NULL;
	struct nw_err err = { 0 };

	ck_assert_int_eq(history_open(&h, dir, create, &err), NW_EINPUT);
	ck_assert_msg(strstr(err.msg, text) != NULL, "%s", err.msg);
	ck_assert_ptr_null(h);
}

START_TEST(test_open_refuses_what_is_not_a_netwave_history)
{
	git_repository *repo = NULL;
	char path[400];

	/* absent, and not asked to create */
	assert_open_refused(repo_dir, false, "no history");
	/* a directory with someone's files */
	ck_assert_int_eq(mkdir(repo_dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/notes.txt", repo_dir);
	write_text(path, "mine\n");
	assert_open_refused(repo_dir, true, "not an empty directory");
	/* someone's git repository: its working tree is not ours to overwrite */
	snprintf(path, sizeof(path), "%s/theirs", tmpdir);
	ck_assert_int_eq(git_repository_init(&repo, path, 0), 0);
	git_repository_free(repo);
	assert_open_refused(path, true, "did not create");
}
END_TEST

START_TEST(test_the_default_history_sits_beside_the_database)
{
	char buf[256];
	struct nw_err err = { 0 };

	ck_assert_int_eq(history_default_dir(buf, sizeof(buf), "/var/lib/nw/plans.db", &err), 0);
	ck_assert_str_eq(buf, "/var/lib/nw/netwave-history");
	ck_assert_int_eq(history_default_dir(buf, sizeof(buf), NULL, &err), 0);
	ck_assert_str_eq(buf, "netwave-history");
	ck_assert_int_eq(history_default_dir(buf, 8, "/a/very/long/path.db", &err), NW_EINPUT);
}
END_TEST

/* ---- the real git binary ---------------------------------------------- */

static bool
have_git(void)
{
	return system("command -v git >/dev/null 2>&1") == 0;
}

/* Output of a shell command (malloc'd); *status gets its exit status. */
static char *
sh(const char *cmd, int *status)
{
	FILE *p = popen(cmd, "r");
	char *buf = calloc(1, 65536);
	size_t n;

	ck_assert_ptr_nonnull(p);
	n = fread(buf, 1, 65535, p);
	buf[n] = '\0';
	*status = pclose(p);
	return buf;
}

START_TEST(test_the_git_binary_reads_the_history)
{
	struct history *h;
	json_t *v1 = resources(SPOKE_JSON, NULL), *v2 = resources(SPOKE_JSON, HUB_JSON, NULL);
	struct history_commit_info info = { 0 };
	char cmd[1024];
	char *out;
	int status;

	if (!have_git())
		return; /* nothing to compare with on this machine */
	h = open_history();
	info.event = HISTORY_EVENT_DISCOVER;
	info.operator_name = "alice";
	info.time = T0;
	record(h, HISTORY_REPLACE, v1, NULL, 0, &info);
	info.event = HISTORY_EVENT_APPLY;
	info.plan_id = "pl-9";
	info.wave = "pilot";
	info.steps = 3;
	info.tag = "pl-9/pilot/applied";
	record(h, HISTORY_UPDATE, v2, NULL, 0, &info);

	snprintf(cmd, sizeof(cmd), "git -C '%s' log --format='%%s|%%(trailers:key=Wave,valueonly)"
	    "|%%an' 2>&1", repo_dir);
	out = sh(cmd, &status);
	ck_assert_msg(status == 0, "git log failed: %s", out);
	ck_assert_msg(strstr(out, "apply wave pilot of plan pl-9: 3 steps|pilot") != NULL, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "discover: 1 resource|"));
	free(out);
	snprintf(cmd, sizeof(cmd), "git -C '%s' status --porcelain 2>&1", repo_dir);
	out = sh(cmd, &status);
	ck_assert_msg(status == 0 && out[0] == '\0', "working tree differs from HEAD: %s", out);
	free(out);
	snprintf(cmd, sizeof(cmd), "git -C '%s' fsck --strict 2>&1 && git -C '%s' tag", repo_dir,
	    repo_dir);
	out = sh(cmd, &status);
	ck_assert_msg(status == 0, "git fsck: %s", out);
	ck_assert_ptr_nonnull(strstr(out, "pl-9/pilot/applied"));
	free(out);
	json_decref(v1);
	json_decref(v2);
	history_close(h);
}
END_TEST

int
main(void)
{
	const TTest *const history_tests[] = {
		TEST_CASE("history", 30),
		test_record_writes_one_canonical_file_per_resource_at_its_id_path,
		test_volatile_fields_are_removed_at_every_depth_but_not_from_tags,
		test_a_record_that_changes_nothing_makes_no_commit,
		test_an_empty_history_stays_empty_when_nothing_is_recorded,
		test_an_update_writes_only_the_given_resources_and_deletes_removed_ids,
		test_a_replace_deletes_what_the_estate_no_longer_has,
		test_an_id_that_changes_case_replaces_its_file,
		test_an_estate_of_hundreds_of_resources_is_stored_and_updated,
		test_record_reports_progress_resource_by_resource_when_asked,
		test_subject_and_trailers_parse_back_from_the_log,
		test_a_rollback_says_so_in_its_subject,
		test_the_signature_comes_from_git_config_when_it_names_a_user,
		test_bad_messages_and_missing_fields_are_refused,
		test_a_tag_marks_the_commit_and_moves_when_the_wave_is_applied_again,
		test_a_lock_left_by_a_dead_process_is_recovered_with_its_git_locks,
		test_a_lock_whose_pid_now_belongs_to_another_process_is_recovered,
		test_a_live_lock_is_refused_naming_its_holder,
		test_a_young_git_lock_is_respected_and_an_old_one_cleared,
		test_ids_that_could_escape_the_tree_are_rejected,
		test_leading_dots_and_unsafe_characters_are_encoded,
		test_two_resources_with_one_id_are_refused,
		test_secret_looking_values_are_redacted_and_absent_from_every_object,
		test_show_and_diff_give_unified_diffs_and_files_at_a_revision,
		test_the_log_of_an_empty_history_has_no_commits,
		test_open_refuses_what_is_not_a_netwave_history,
		test_the_default_history_sits_beside_the_database,
		test_the_git_binary_reads_the_history,
		NULL,
	};

	return test_main_fixture("history", history_tests, setup, teardown);
}
