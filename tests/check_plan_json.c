/*
 * Tests of the canonical writer (plan/plan_json.c) and the SHA-256 under
 * it (plan/sha256.c): the writer gives jansson's bytes for every flag
 * netwave uses; a plan's id is the hash of its text without "id" and
 * "createdAt" whatever the place of those members, and the text the same
 * pass leaves is the plan's canonical text; the creation time can be
 * changed in the text; the store's compact bodies come from the text as
 * it would write them; the SHA extensions and the portable code agree.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "plan/jsonutil.h"
#include "plan/plan_json.h"
#include "plan/sha256.h"
#include "tests/testutil.h"

/* The id as the planner defined it before the single pass: the hash of a copy without the two members. */
static void
id_by_copy(const json_t *plan, char id[PLAN_JSON_ID_LEN])
{
	json_t *copy = json_copy((json_t *)plan);
	char hex[SHA256_HEX_LEN], *text;

	json_object_del(copy, "id");
	json_object_del(copy, "createdAt");
	text = json_dump_canonical(copy);
	ck_assert_ptr_nonnull(text);
	sha256_hex(text, strlen(text), hex);
	snprintf(id, PLAN_JSON_ID_LEN, "pl-%.12s", hex);
	free(text);
	json_decref(copy);
}

/* Seals plan and checks the id against id_by_copy and the text against jansson's. */
static void
check_seal(json_t *plan)
{
	struct plan_text t = { 0 };
	struct nw_err err = { 0 };
	char want[PLAN_JSON_ID_LEN], *text;

	id_by_copy(plan, want);
	ck_assert_msg(plan_json_seal(plan, &t, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(json_str(plan, "id"), want);
	text = json_dump_canonical(plan);
	ck_assert_str_eq(t.s, text);
	ck_assert_uint_eq(t.len, strlen(text));
	free(text);
	plan_text_clear(&t);
	ck_assert_ptr_null(t.s);

	/* without a text: the same id */
	json_object_del(plan, "id");
	ck_assert_int_eq(plan_json_seal(plan, NULL, &err), 0);
	ck_assert_str_eq(json_str(plan, "id"), want);
}

START_TEST(test_the_id_leaves_out_id_and_created_at_wherever_they_sort)
{
	/* in the middle, as in every real plan */
	json_t *p = json_pack("{s:s, s:s, s:[i, {s:s}], s:{s:b}}", "format", "netwave.plan/v1",
	    "createdAt", "2026-11-21T20:00:00Z", "waves", 1, "name", "pilot", "summary", "risk", 1);
	check_seal(p);
	json_decref(p);
	/* createdAt first, id last: the members kept end the way a last member does */
	p = json_pack("{s:s, s:i}", "createdAt", "2026-11-21T20:00:00Z", "blockers", 0);
	check_seal(p);
	json_decref(p);
	/* nothing but the two: the hash is that of "{}" */
	p = json_pack("{s:s}", "createdAt", "2026-11-21T20:00:00Z");
	check_seal(p);
	json_decref(p);
	/* no createdAt, and an old id replaced */
	p = json_pack("{s:s, s:s, s:[]}", "id", "pl-ffffffffffff", "zeta", "\xc3\xa9t\xc3\xa9\n", "a", NULL);
	check_seal(p);
	json_decref(p);
}
END_TEST

START_TEST(test_a_large_plan_is_written_once_as_jansson_writes_it)
{
	json_t *p = json_pack("{s:s, s:[]}", "createdAt", "2026-11-21T20:00:00Z", "waves");
	json_t *steps = json_object_get(p, "waves");
	char key[32];
	int i;

	/* more than a chunk and more than the first buffer: the text grows and the hash follows */
	for (i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "k%05d", 20000 - i);
		json_array_append_new(steps, json_pack("{s:i, s:s, s:{s:s}}", "seq", i, "id", key, "body",
		    "addressPrefix", "10.1.2.0/24 \"quoted\" \\ \x01"));
	}
	check_seal(p);
	json_decref(p);
}
END_TEST

START_TEST(test_the_creation_time_changes_in_the_text_as_in_the_plan)
{
	json_t *p = json_pack("{s:s, s:s, s:i}", "createdAt", "2026-11-21T20:00:00Z", "format",
	    "netwave.plan/v1", "n", 3);
	struct plan_text t = { 0 };
	struct nw_err err = { 0 };
	const char *whens[] = { "2025-01-02T03:04:05Z", "a much longer time \"with quotes\"", "x", NULL };
	char *text, id[PLAN_JSON_ID_LEN];
	int i;

	ck_assert_int_eq(plan_json_seal(p, &t, &err), 0);
	snprintf(id, sizeof(id), "%s", json_str(p, "id"));
	for (i = 0; whens[i] != NULL; i++) {
		ck_assert_msg(plan_text_set_created_at(&t, p, whens[i], &err) == 0, "%s", err.msg);
		ck_assert_str_eq(json_str(p, "createdAt"), whens[i]);
		text = json_dump_canonical(p);
		ck_assert_str_eq(t.s, text);
		ck_assert_uint_eq(t.len, strlen(text));
		free(text);
	}
	/* the id does not cover the time */
	json_object_del(p, "id");
	ck_assert_int_eq(plan_json_seal(p, NULL, &err), 0);
	ck_assert_str_eq(json_str(p, "id"), id);
	plan_text_clear(&t);
	json_decref(p);
}
END_TEST

/* plan_text_compact's text of v, or NULL; the store's own dump of it is what it must equal. */
static void
check_compact(const struct plan_text *t, const json_t *v, bool held)
{
	size_t len = 0, want_len;
	char *got = plan_text_compact(t, v, &len);
	char *want = plan_json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY, false, &want_len);

	if (!held) {
		ck_assert_ptr_null(got);
	} else {
		ck_assert_ptr_nonnull(got);
		ck_assert_str_eq(got, want);
		ck_assert_uint_eq(len, want_len);
	}
	free(got);
	free(want);
}

START_TEST(test_step_and_gate_bodies_come_compact_from_the_sealed_text)
{
	json_t *p = json_pack("{s:s, s:s, s:[{s:[{s:s, s:{s:s, s:{s:[s, s], s:{}, s:[]}, s:s}, s:n}], "
	    "s:[{s:{s:[i, i], s:s}, s:{s:i}}]}]}", "format", "netwave.plan/v1",
	    "createdAt", "2026-11-21T20:00:00Z", "waves",
	    "steps", "id", "w01-s0001", "operation", "method", "PUT", "body", "prefixes", "10.0.0.0/8",
	    "a \"b\": c,\n  d \\ e", "empty", "none", "path", "/x y", "inverse",
	    "gates", "params", "n", 1, 2, "s", "{ \"x\": [1, 2] }", "budget", "seconds", 30);
	json_t *w = json_array_get(json_object_get(p, "waves"), 0);
	json_t *st = json_array_get(json_object_get(w, "steps"), 0);
	json_t *g = json_array_get(json_object_get(w, "gates"), 0);
	json_t *other = json_pack("{s:s}", "method", "PUT");
	struct plan_text t = { 0 };
	struct nw_err err = { 0 };

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(plan_json_seal(p, &t, &err), 0);
	check_compact(&t, json_object_get(st, "operation"), true);
	check_compact(&t, json_object_get(g, "params"), true);
	check_compact(&t, json_object_get(g, "budget"), true);
	/* a body the sealed text does not hold is written by the caller */
	check_compact(&t, other, false);
	/* the spans count from the end: a creation time of another length leaves them right */
	ck_assert_int_eq(plan_text_set_created_at(&t, p, "a much longer creation time", &err), 0);
	check_compact(&t, json_object_get(st, "operation"), true);
	check_compact(&t, json_object_get(g, "budget"), true);
	plan_text_clear(&t);

	/* a non-ASCII character is escaped in the sealed text only: left to the caller */
	json_object_set_new(json_object_get(st, "operation"), "path", json_string("/caf\xc3\xa9"));
	ck_assert_int_eq(plan_json_seal(p, &t, &err), 0);
	check_compact(&t, json_object_get(st, "operation"), false);
	check_compact(&t, json_object_get(g, "params"), true);
	plan_text_clear(&t);
	json_decref(other);
	json_decref(p);
}
END_TEST

START_TEST(test_dumps_gives_jansson_bytes_for_every_flag_netwave_uses)
{
	static const size_t flags[] = {
		JSON_CANONICAL, JSON_COMPACT | JSON_SORT_KEYS, JSON_INDENT(4), JSON_COMPACT,
		JSON_SORT_KEYS | JSON_ENSURE_ASCII, 0,
	};
	json_t *v = json_pack("{s:s, s:[i, f, b, n, {}, []], s:{s:s, s:s}, s:s}", "b", "\xf0\x9f\x98\x80 emoji",
	    "a", -42, 1.5, 1, "z", "y", "tab\there", "x", "\xe2\x82\xac", "ctl", "\x1f\x7f/");
	size_t i, len;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		char *want = json_dumps(v, flags[i]), *got = plan_json_dumps(v, flags[i], false, &len);

		ck_assert_ptr_nonnull(got);
		ck_assert_str_eq(got, want);
		ck_assert_uint_eq(len, strlen(want));
		free(got);
		got = plan_json_dumps(v, flags[i], true, &len);
		ck_assert_uint_eq(len, strlen(want) + 1);
		ck_assert_int_eq(got[len - 1], '\n');
		free(got);
		free(want);
	}
	json_decref(v);
}
END_TEST

START_TEST(test_the_sha_extensions_and_the_portable_code_agree)
{
	static uint8_t buf[4096 + 77];
	uint8_t a[SHA256_DIGEST_LEN], b[SHA256_DIGEST_LEN];
	struct sha256 x, y;
	size_t n, i;
	uint32_t r = 12345;

	for (i = 0; i < sizeof(buf); i++) {
		r = r * 1103515245 + 12345;
		buf[i] = (uint8_t)(r >> 16);
	}
	/* every length around the block boundaries, fed in uneven pieces */
	for (n = 0; n < sizeof(buf); n += n < 200 ? 1 : 61) {
		sha256_init(&x);
		sha256_init_portable(&y);
		for (i = 0; i < n; i += 1 + i % 97) {
			size_t k = 1 + i % 97 < n - i ? 1 + i % 97 : n - i;

			sha256_update(&x, buf + i, k);
			sha256_update(&y, buf + i, k);
		}
		sha256_final(&x, a);
		sha256_final(&y, b);
		ck_assert_msg(memcmp(a, b, sizeof(a)) == 0, "length %zu", n);
	}
	/* FIPS 180-2 appendix B.2, the two-block message */
	sha256_init_portable(&y);
	sha256_update(&y, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56);
	sha256_final(&y, b);
	ck_assert_uint_eq(b[0], 0x24);
	ck_assert_uint_eq(b[31], 0xc1);
}
END_TEST

int
main(void)
{
	const TTest *const plan_json_tests[] = {
		TEST_CASE("core", 0),
		test_the_id_leaves_out_id_and_created_at_wherever_they_sort,
		test_a_large_plan_is_written_once_as_jansson_writes_it,
		test_the_creation_time_changes_in_the_text_as_in_the_plan,
		test_step_and_gate_bodies_come_compact_from_the_sealed_text,
		test_dumps_gives_jansson_bytes_for_every_flag_netwave_uses,
		test_the_sha_extensions_and_the_portable_code_agree,
		NULL,
	};

	return test_main("plan_json", plan_json_tests);
}
