/*
 * Check suite for the topology loader's own parse (plan/topology_parse.c):
 * a text loads into the tree jansson would have made, member order and
 * all; repeated string values share one node; what the fast parse leaves
 * to jansson (escapes, non-ASCII, reals, long integers, errors) loads or
 * fails exactly as jansson has it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "plan/jsonutil.h"
#include "plan/topology.h"
#include "tests/testutil.h"

/* A topology text whose resources array holds res. */
static char *
doc_with(const char *res)
{
	const char *head = "{\"format\": \"netwave.topology/v1\", \"subscriptions\": [\"s-1\"],\r\n"
	    "\t\"resources\": [";
	size_t n = strlen(head) + strlen(res) + 8;
	char *s = malloc(n);

	ck_assert_ptr_nonnull(s);
	snprintf(s, n, "%s%s]}\n", head, res);
	return s;
}

/* The text loads, and its tree is jansson's: equal, and in the same member order. */
static void
expect_as_jansson(const char *text, size_t len)
{
	struct topology *t = NULL;
	struct nw_err err = { 0 };
	json_error_t je;
	json_t *want = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	char *a, *b;

	ck_assert_msg(want != NULL, "jansson: %s", je.text);
	ck_assert_msg(topology_load_buffer(&t, text, len, "<test>", NULL, &err) == 0, "%s", err.msg);
	ck_assert(json_equal(t->root, want));
	/* without JSON_SORT_KEYS: members in the order they were read */
	a = json_dumps(t->root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	b = json_dumps(want, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	json_decref(want);
	topology_free(t);
}

static const char vnet[] =
    "{\"id\": \"/subscriptions/s-1/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/%s\","
    " \"name\": \"%s\", \"type\": \"Microsoft.Network/virtualNetworks\", \"location\": \"eastus\","
    " \"tags\": {\"env\": \"dev\", \"\": \"\"},"
    " \"properties\": {\"addressSpace\": {\"addressPrefixes\": [\"10.%d.0.0/16\"]},"
    " \"subnets\": [], \"x\": {\"n\": [0, -0, 7, -42, 123456789012345678, true, false, null, {}, [[]]]},"
    " \"provisioningState\": \"Succeeded\"}}";

START_TEST(test_every_valid_file_loads_into_the_tree_jansson_makes)
{
	static const char *const files[] = {
		"topo/hub-spoke.json", "topo/all-types.json", "topo/unknown.json",
		"topo/doc-example.json", "topo/canonical.json",
	};
	size_t i, len;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *text = NULL;
		struct nw_err err = { 0 };

		ck_assert_int_eq(file_read_all(&text, &len, test_data_path(files[i]), 1 << 24, &err), 0);
		expect_as_jansson(text, len);
		free(text);
	}
}
END_TEST

START_TEST(test_every_json_value_kind_loads_as_jansson_reads_it)
{
	char a[1024], b[1024], res[2200];
	char *text;

	snprintf(a, sizeof(a), vnet, "a", "a", 1);
	snprintf(b, sizeof(b), vnet, "b", "b", 2);
	snprintf(res, sizeof(res), "%s ,\n\t%s", a, b);
	text = doc_with(res);
	expect_as_jansson(text, strlen(text));
	free(text);
}
END_TEST

START_TEST(test_repeated_string_values_share_one_node)
{
	char a[1024], b[1024], res[2200];
	struct topology *t;
	json_t *ra, *rb;
	char *text;

	snprintf(a, sizeof(a), vnet, "a", "a", 1);
	snprintf(b, sizeof(b), vnet, "b", "b", 2);
	snprintf(res, sizeof(res), "%s, %s", a, b);
	text = doc_with(res);
	t = test_topology(text);
	ra = json_array_get(t->resources, 0);
	rb = json_array_get(t->resources, 1);
	ck_assert_ptr_eq(json_object_get(ra, "location"), json_object_get(rb, "location"));
	ck_assert_ptr_eq(json_object_get(ra, "type"), json_object_get(rb, "type"));
	ck_assert_ptr_eq(json_object_get(json_object_get(ra, "tags"), "env"),
	    json_object_get(json_object_get(rb, "tags"), "env"));
	ck_assert_ptr_ne(json_object_get(ra, "id"), json_object_get(rb, "id"));
	ck_assert_str_eq(json_string_value(json_object_get(rb, "name")), "b");
	/* the canonical text is the one of jansson's tree: each place writes its value */
	{
		struct topology *j = test_topology_doc(json_loads(text, JSON_REJECT_DUPLICATES, NULL),
		    "<jansson>");
		char *dt = topology_dump(t), *dj = topology_dump(j);

		ck_assert_ptr_nonnull(dt);
		ck_assert_str_eq(dt, dj);
		free(dt);
		free(dj);
		topology_free(j);
	}
	topology_free(t);
	free(text);
}
END_TEST

START_TEST(test_texts_left_to_jansson_load_as_before)
{
	static const char *const odd[] = {
		"\"name\": \"a\\\"b\\\\c\\/d\\n\\u00e9\\ud83d\\ude00\"",
		"\"name\": \"caf\xc3\xa9\"",
		"\"name\": \"n\", \"x\": 1.5",
		"\"name\": \"n\", \"x\": 1e3",
		"\"name\": \"n\", \"x\": 1234567890123456789",
		"\"name\": \"n\", \"x\": -9223372036854775807",
	};
	char res[512];
	size_t i;

	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		char *text;

		snprintf(res, sizeof(res), "{\"id\": \"/x/%zu\", \"type\": \"Other.Thing/things\", %s}", i,
		    odd[i]);
		text = doc_with(res);
		expect_as_jansson(text, strlen(text));
		free(text);
	}
}
END_TEST

START_TEST(test_syntax_errors_keep_the_messages_jansson_gives)
{
	static const struct {
		const char *res, *want;
	} bad[] = {
		{ "{\"id\": \"/x/1\", \"id\": \"/x/2\"}", "duplicate object key" },
		{ "{\"id\": \"/x/1\",}", "string or '}' expected" },
		{ "{\"id\": \"/x/1\" \"type\": \"t\"}", "'}' expected" },
		{ "{\"id\": 01}", "invalid token" },
		{ "{\"id\": tru}", "invalid token" },
		{ "{\"id\": \"a\tb\"}", "control character 0x9" },
		{ "{\"id\": 99999999999999999999}", "too big integer" },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *text = doc_with(bad[i].res);
		struct nw_err e = test_topology_error(text);

		ck_assert_int_eq(e.code, NW_EINPUT);
		ck_assert_msg(strstr(e.msg, bad[i].want) != NULL && strstr(e.msg, "line 2, column") != NULL,
		    "%zu: %s", i, e.msg);
		free(text);
	}
	{
		/* text after the document */
		struct nw_err e = test_topology_error("{\"format\": \"netwave.topology/v1\", "
		    "\"resources\": []} []");

		ck_assert_msg(strstr(e.msg, "end of file expected") != NULL, "%s", e.msg);
	}
}
END_TEST

int
main(void)
{
	const TTest *const parse_tests[] = {
		TEST_CASE("parse", 0),
		test_every_valid_file_loads_into_the_tree_jansson_makes,
		test_every_json_value_kind_loads_as_jansson_reads_it,
		test_repeated_string_values_share_one_node,
		test_texts_left_to_jansson_load_as_before,
		test_syntax_errors_keep_the_messages_jansson_gives,
		NULL,
	};

	return test_main("topology_parse", parse_tests);
}
