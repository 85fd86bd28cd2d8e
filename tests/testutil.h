/*
 * Helpers shared by the Check suites: loading topologies (inline JSON,
 * documents, files under tests/data), golden files, findings and JSON
 * look-ups, temporary trees, and running a suite from one flat list of its
 * test cases and tests (test_main) with the usual reporting.
 */
#ifndef NETWAVE_TESTS_TESTUTIL_H
#define NETWAVE_TESTS_TESTUTIL_H

#include <check.h>
#include <jansson.h>

#include "plan/findings.h"
#include "plan/topology.h"

/* Path of a file under tests/data (uses $top_srcdir, else "."); static buffer. */
const char *test_data_path(const char *rel);

/* Loads a topology from JSON text; fails the test with the loader's message. */
struct topology *test_topology(const char *json_text);

/* Loads the topology file tests/data/rel; fails the test with the loader's message. */
struct topology *test_topology_file(const char *rel);

/*
 * Loads a topology from doc (stolen), called name in messages; fails the
 * test with the loader's message.
 */
struct topology *test_topology_doc(json_t *doc, const char *name);

/* Loads JSON text expected to be rejected; returns the error (code and message). */
struct nw_err test_topology_error(const char *json_text);

/* How many findings of f have this severity and code, and a message containing text (NULL: any). */
size_t test_findings_count(const struct findings *f, enum finding_severity sev, const char *code,
    const char *text);

/*
 * The first object of the array under key list of doc whose string field
 * equals value, or NULL (borrowed).
 */
const json_t *test_json_find(const json_t *doc, const char *list, const char *field,
    const char *value);

/*
 * Asserts that text is the golden file tests/data/rel, naming the first
 * byte that differs; with NETWAVE_UPDATE_GOLDEN set, rewrites the file
 * instead.
 */
void test_golden(const char *rel, const char *text);

/* Removes dir and everything below it (links are not followed). */
void test_rm_rf(const char *dir);

/*
 * In a list for test_main: starts the test case named name, whose tests
 * follow it in the list, each within timeout seconds (0: Check's default).
 * It is a TTest with no function, so one flat list holds cases and tests.
 */
#define TEST_CASE(name, timeout) (&(const TTest){ (name), NULL, NULL, (timeout) })

/*
 * A suite's main: runs the suite named name whose test cases and tests
 * are listed in tests (NULL-terminated, starting with a TEST_CASE), in
 * order, with libcurl initialised around the run; returns the process exit
 * status.
 */
int test_main(const char *name, const TTest *const tests[]);

/* test_main with setup and teardown run around each test, in its process. */
int test_main_fixture(const char *name, const TTest *const tests[], SFun setup, SFun teardown);

#endif
