/*
 * Shared helpers for the Check suites (see testutil.h).
 */
#include "config.h"

#include <assert.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "plan/jsonutil.h"
#include "tests/testutil.h"

const char *
test_data_path(const char *rel)
{
	static char buf[4096];
	const char *top = getenv("top_srcdir");

	snprintf(buf, sizeof(buf), "%s/tests/data/%s", top != NULL ? top : ".", rel);
	return buf;
}

struct topology *
test_topology(const char *json_text)
{
	struct topology *t = NULL;
	struct nw_err err = { 0 };
	int rc = topology_load_buffer(&t, json_text, strlen(json_text), "<test>", NULL, &err);

	ck_assert_msg(rc == 0, "topology did not load: %s", err.msg);
	ck_assert_ptr_nonnull(t);
	return t;
}

struct topology *
test_topology_file(const char *rel)
{
	struct topology *t = NULL;
	struct nw_err err = { 0 };
	int rc = topology_load_file(&t, test_data_path(rel), NULL, &err);

	ck_assert_msg(rc == 0, "%s did not load: %s", rel, err.msg);
	ck_assert_ptr_nonnull(t);
	return t;
}

struct topology *
test_topology_doc(json_t *doc, const char *name)
{
	struct topology *t = NULL;
	struct nw_err err = { 0 };

	ck_assert_msg(topology_load_json(&t, doc, name, &err) == 0, "%s: %s", name, err.msg);
	return t;
}

struct nw_err
test_topology_error(const char *json_text)
{
	struct topology *t = NULL;
	struct nw_err err = { 0 };
	int rc = topology_load_buffer(&t, json_text, strlen(json_text), "<test>", NULL, &err);

	ck_assert_msg(rc != 0, "topology loaded but should have been rejected");
	ck_assert_ptr_null(t);
	ck_assert_int_eq(rc, err.code);
	return err;
}

size_t
test_findings_count(const struct findings *f, enum finding_severity sev, const char *code,
    const char *text)
{
	size_t i, n = 0;

	for (i = 0; i < f->n; i++)
		if (f->v[i].severity == sev && strcmp(f->v[i].code, code) == 0 &&
		    (text == NULL || strstr(f->v[i].message, text) != NULL))
			n++;
	return n;
}

const json_t *
test_json_find(const json_t *doc, const char *list, const char *field, const char *value)
{
	const json_t *x;
	size_t i;

	json_array_foreach(json_object_get(doc, list), i, x) {
		const char *v = json_str(x, field);

		if (v != NULL && strcmp(v, value) == 0)
			return x;
	}
	return NULL;
}

void
test_golden(const char *rel, const char *text)
{
	const char *path = test_data_path(rel);
	struct nw_err err = { 0 };
	char *want = NULL;
	size_t len = 0, i = 0;

	if (getenv("NETWAVE_UPDATE_GOLDEN") != NULL) {
		ck_assert_msg(file_write_atomic(path, text, strlen(text), &err) == 0, "%s", err.msg);
		return;
	}
	ck_assert_msg(file_read_all(&want, &len, path, 64 << 20, &err) == 0, "%s", err.msg);
	if (strcmp(want, text) != 0) {
		while (want[i] != '\0' && want[i] == text[i])
			i++;
		ck_abort_msg("%s differs from its golden file at byte %zu: got \"%.80s\", want \"%.80s\" "
		    "(NETWAVE_UPDATE_GOLDEN=1 rewrites it)", rel, i, text + i, want + i);
	}
	free(want);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

void
test_rm_rf(const char *dir)
{
	if (dir[0] != '\0')
		nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Runs a suite and returns the process exit status (0 when all passed). */
static int
test_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int
test_main_fixture(const char *name, const TTest *const tests[], SFun setup, SFun teardown)
{
	Suite *s;
	TCase *tc = NULL;
	size_t i;
	int rc;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return EXIT_FAILURE;
	s = suite_create(name);
	for (i = 0; tests[i] != NULL; i++) {
		if (tests[i]->fn != NULL) {
			assert(tc != NULL); /* the list starts with a TEST_CASE */
			tcase_add_test(tc, tests[i]);
			continue;
		}
		tc = tcase_create(tests[i]->name);
		if (tests[i]->line > 0)
			tcase_set_timeout(tc, tests[i]->line);
		if (setup != NULL || teardown != NULL)
			tcase_add_checked_fixture(tc, setup, teardown);
		suite_add_tcase(s, tc);
	}
	rc = test_run_suite(s);
	curl_global_cleanup();
	return rc;
}

int
test_main(const char *name, const TTest *const tests[])
{
	return test_main_fixture(name, tests, NULL, NULL);
}
