/*
 * Check suite for the pictures (plan/picture.h): the Graphviz drawing of a
 * path and of a topology on tests/data/check/mixed.json (worked out by
 * hand in tests/cli/cli_routes.sh), quoting of odd names, and the Mermaid
 * timeline and traffic chart of a small hand-written plan.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "plan/picture.h"
#include "tests/testutil.h"

/* What a writer wrote to a memory stream (malloc'd). */
struct mem {
	char *buf;
	size_t len;
	FILE *f;
};

static void
mem_open(struct mem *m)
{
	m->buf = NULL;
	m->len = 0;
	m->f = open_memstream(&m->buf, &m->len);
	ck_assert_ptr_nonnull(m->f);
}

static const char *
mem_text(struct mem *m)
{
	ck_assert_int_eq(fclose(m->f), 0);
	m->f = NULL;
	return m->buf;
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Node statements: lines that declare a node (not an edge). */
static size_t
count_nodes(const char *dot)
{
	size_t n = 0;

	for (const char *l = dot; l != NULL && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *end = strchr(l, '\n');
		size_t len = end != NULL ? (size_t)(end - l) : strlen(l);
		char line[2048];

		if (len >= sizeof(line))
			len = sizeof(line) - 1;
		memcpy(line, l, len);
		line[len] = '\0';
		if (strstr(line, "\" [label=") != NULL && strstr(line, "\" -> \"") == NULL)
			n++;
	}
	return n;
}

struct env {
	struct topology *t;
	struct routes_ctx *ctx;
};

static void
env_open(struct env *e)
{
	struct nw_err err = { 0 };

	ck_assert_msg(topology_load_file(&e->t, test_data_path("check/mixed.json"), NULL, &err) == 0,
	    "%s", err.msg);
	ck_assert_int_eq(routes_ctx_new(&e->ctx, e->t, &err), 0);
}

static void
env_close(struct env *e)
{
	routes_ctx_free(e->ctx);
	topology_free(e->t);
}

static char *
path_dot(struct env *e, const char *from, const char *to)
{
	struct route_endpoint a, b;
	struct path_result *rows = NULL;
	struct nw_err err = { 0 };
	const struct cidr *d;
	size_t n = 0, nd;
	struct mem m;

	ck_assert_int_eq(routes_endpoint_resolve(&a, e->t, from, &err), 0);
	ck_assert_int_eq(routes_endpoint_resolve(&b, e->t, to, &err), 0);
	routes_endpoint_prefixes(&d, &nd, &b);
	ck_assert_int_eq(routes_path_sources(&rows, &n, e->ctx, a.vnet, a.subnet, d, nd, &err), 0);
	mem_open(&m);
	ck_assert_int_eq(picture_path_dot(m.f, &a, &b, rows, n, routes_path_worst(rows, n), &err), 0);
	free(rows);
	mem_text(&m);
	return m.buf;
}

START_TEST(test_path_picture_draws_each_subnet_and_the_hops_of_its_class)
{
	struct env e;
	char *dot, *again;

	env_open(&e);
	dot = path_dot(&e, "spoke-1", "spoke-2");
	ck_assert_msg(strncmp(dot, "digraph \"netwave-path\" {\n", 25) == 0, "%s", dot);
	ck_assert_ptr_nonnull(strstr(dot, "label=\"spoke-1 -> spoke-2: hairpin er-1\""));
	/* two sources, the appliance, a gateway, the circuit, the destination */
	ck_assert_uint_eq(count_nodes(dot), 6);
	ck_assert_uint_eq(count(dot, "\" -> \""), 6);
	ck_assert_ptr_nonnull(strstr(dot, "\"src:0\" -> \"appliance:10.0.1.4\""));
	ck_assert_ptr_nonnull(strstr(dot, "[label=\"circuit route 10.2.0.0/16\""));
	again = path_dot(&e, "spoke-1", "spoke-2");
	ck_assert_str_eq(dot, again);
	free(again);
	free(dot);
	/* one subnet through the firewall: no gateway, no circuit */
	dot = path_dot(&e, "spoke-1/workload", "spoke-3");
	ck_assert_ptr_null(strstr(dot, "gateway:"));
	ck_assert_uint_eq(count(dot, "\" -> \""), 2);
	free(dot);
	env_close(&e);
}
END_TEST

START_TEST(test_path_picture_quotes_odd_names)
{
	struct env e;
	struct route_endpoint a, b;
	struct path_result r;
	struct mem m;
	struct nw_err err = { 0 };
	struct topology *t = test_topology(
	    "{\"format\": \"netwave.topology/v1\", \"resources\": ["
	    "{\"id\": \"/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/a\","
	    " \"name\": \"a\\\"b\\\\c\", \"type\": \"Microsoft.Network/virtualNetworks\","
	    " \"properties\": {\"addressSpace\": {\"addressPrefixes\": [\"10.1.0.0/16\"]}}}]}");

	(void)e;
	ck_assert_int_eq(routes_endpoint_resolve(&a, t, "a\"b\\c", &err), 0);
	b = a;
	memset(&r, 0, sizeof(r));
	r.cls = PATH_LOCAL;
	mem_open(&m);
	ck_assert_int_eq(picture_path_dot(m.f, &a, &b, &r, 1, 0, &err), 0);
	mem_text(&m);
	ck_assert_msg(strstr(m.buf, "label=\"a\\\"b\\\\c -> a\\\"b\\\\c: local\"") != NULL, "%s", m.buf);
	free(m.buf);
	topology_free(t);
}
END_TEST

START_TEST(test_topology_picture_groups_spokes_by_hub_and_classes)
{
	struct env e;
	struct findings f;
	struct nw_err err = { 0 };
	struct mem m;
	const char *dot;

	env_open(&e);
	ck_assert_int_eq(findings_check(&f, e.t, e.ctx, &err), 0);
	mem_open(&m);
	ck_assert_int_eq(picture_topology_dot(m.f, e.t, &f, &err), 0);
	dot = mem_text(&m);
	ck_assert_uint_eq(count(dot, "subgraph \"cluster_"), 1);
	ck_assert_ptr_nonnull(strstr(dot, "\"spokes:0\" [label=\"2 spokes\\nvia-appliance + hairpin\\nspoke-1, spoke-2\""));
	ck_assert_ptr_nonnull(strstr(dot, "\"spokes:1\" [label=\"1 spoke\\nhairpin\\nspoke-3\""));
	ck_assert_uint_eq(count_nodes(dot), 6);
	ck_assert_uint_eq(count(dot, "\" -> \""), 6);
	free(m.buf);
	findings_free(&f);
	env_close(&e);
}
END_TEST

static json_t *
small_plan(void)
{
	json_t *p = json_loads(
	    "{\"format\": \"netwave.plan/v1\", \"createdAt\": \"2026-11-21T20:00:00Z\", \"waves\": ["
	    " {\"name\": \"prepare\", \"kind\": \"prepare\", \"estimate\": {\"seconds\": 0}, \"soakSeconds\": 0,"
	    "  \"traffic\": {\"flows\": 10, \"before\": {\"hairpin\": 10}, \"after\": {\"hairpin\": 10}}},"
	    " {\"name\": \"pilot\", \"kind\": \"mesh\", \"estimate\": {\"seconds\": 100}, \"soakSeconds\": 60,"
	    "  \"traffic\": {\"flows\": 10, \"before\": {\"hairpin\": 10}, \"after\": {\"hairpin\": 6, \"mesh\": 4}}},"
	    " {\"name\": \"gw: one\", \"kind\": \"gateway\", \"estimate\": {\"seconds\": 300}, \"soakSeconds\": 0,"
	    "  \"maintenanceWindow\": true,"
	    "  \"window\": \"the maintenance window starting 2026-11-28T22:00:00Z (240 minutes)\","
	    "  \"traffic\": {\"flows\": 10, \"before\": {\"hairpin\": 6, \"mesh\": 4}, \"after\": {\"hairpin\": 6, \"mesh\": 4}}}"
	    "]}", 0, NULL);

	ck_assert_ptr_nonnull(p);
	return p;
}

/* The Mermaid text of small_plan() (owned). */
static char *
small_plan_mermaid(void)
{
	json_t *plan = small_plan();
	struct mem m;

	mem_open(&m);
	report_mermaid_write(m.f, plan);
	mem_text(&m);
	json_decref(plan);
	return m.buf;
}

START_TEST(test_mermaid_timeline_places_waves_soaks_and_the_window)
{
	char *md = small_plan_mermaid();

	/* 2026-11-21T20:00:00Z is 1795291200; the window 2026-11-28T22:00:00Z 1795903200 */
	ck_assert_ptr_nonnull(strstr(md, "```mermaid\ngantt\n"));
	ck_assert_ptr_nonnull(strstr(md, "    window of 240 minutes :done, mw3, 1795903200, 1795917600\n"));
	ck_assert_ptr_nonnull(strstr(md, "    1 prepare :milestone, w1, 1795291200, 1795291200\n"));
	ck_assert_ptr_nonnull(strstr(md, "    2 pilot (mesh) :w2, 1795291200, 1795291300\n"));
	ck_assert_ptr_nonnull(strstr(md, "    soak after 2 :active, s2, 1795291300, 1795291360\n"));
	/* the window wave waits for the window, and its ':' cannot end the task name */
	ck_assert_ptr_nonnull(strstr(md, "    3 gw  one (gateway) :crit, w3, 1795903200, 1795903500\n"));
	free(md);
}
END_TEST

START_TEST(test_mermaid_traffic_chart_has_a_line_per_class_before_and_after_each_wave)
{
	char *md = small_plan_mermaid();
	json_t *plan;
	struct mem m;

	ck_assert_ptr_nonnull(strstr(md, "(green mesh, orange hairpin)"));
	ck_assert_ptr_nonnull(strstr(md, "x-axis [\"before\", \"1 prepare\", \"2 pilot\", \"3 gw  one\"]\n"));
	ck_assert_ptr_nonnull(strstr(md, "y-axis \"flows\" 0 --> 10\n"));
	ck_assert_ptr_nonnull(strstr(md, "    line [0, 0, 4, 4]\n"));
	ck_assert_ptr_nonnull(strstr(md, "    line [10, 10, 6, 6]\n"));
	ck_assert_uint_eq(count(md, "    line ["), 2);
	free(md);
	/* no waves, no charts */
	plan = json_pack("{s:s, s:[]}", "format", "netwave.plan/v1", "waves");
	mem_open(&m);
	report_mermaid_write(m.f, plan);
	ck_assert_str_eq(mem_text(&m), "");
	free(m.buf);
	json_decref(plan);
}
END_TEST

int
main(void)
{
	const TTest *const picture_tests[] = {
		TEST_CASE("dot", 0),
		test_path_picture_draws_each_subnet_and_the_hops_of_its_class,
		test_path_picture_quotes_odd_names,
		test_topology_picture_groups_spokes_by_hub_and_classes,
		TEST_CASE("mermaid", 0),
		test_mermaid_timeline_places_waves_soaks_and_the_window,
		test_mermaid_traffic_chart_has_a_line_per_class_before_and_after_each_wave,
		NULL,
	};

	return test_main("picture", picture_tests);
}
