/*
 * Shared helpers for the Check suites (see testutil.h).
 */
#include "config.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

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

void
test_add_all(TCase *tc, const TTest *const tests[])
{
	size_t i;

	for (i = 0; tests[i] != NULL; i++)
		tcase_add_test(tc, tests[i]);
}

TCase *
test_case(Suite *s, const char *name, double timeout, const TTest *const tests[])
{
	TCase *tc = tcase_create(name);

	if (timeout > 0)
		tcase_set_timeout(tc, timeout);
	test_add_all(tc, tests);
	suite_add_tcase(s, tc);
	return tc;
}

Suite *
test_suite(const char *name, const char *tcase, double timeout, const TTest *const tests[])
{
	Suite *s = suite_create(name);

	test_case(s, tcase, timeout, tests);
	return s;
}

int
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
