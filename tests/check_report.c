/*
 * Check suite for plan/report: the change-review report of a small
 * synthesized estate (netwave synth --hubs 2 --spokes-per-hub 6
 * --pe-per-spoke 2 --udr-spokes 2 --seed 5) and tests/data/plan/intent.json
 * (a mesh in three waves, gateway migrations, summarized prefixes),
 * compared byte for byte with the golden files in tests/data/plan/; the
 * sections a reviewer needs; one wave alone; bad inputs.
 *
 * After a deliberate change to the planner or the report, regenerate the
 * golden files with NETWAVE_UPDATE_GOLDEN=1 ./tests/check_report and
 * review the difference like any other change.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "plan/intent.h"
#include "plan/jsonutil.h"
#include "plan/planner.h"
#include "plan/report.h"
#include "plan/synth.h"
#include "plan/topology.h"
#include "tests/testutil.h"

/* 2026-11-21T20:00:00Z */
#define GOLDEN_NOW 1795291200

/* The plan of the golden estate (new reference). */
static json_t *
golden_plan(void)
{
	struct synth_opts so = { .hubs = 2, .spokes_per_hub = 6, .pe_per_spoke = 2, .udr_spokes = 2,
		.seed = 5 };
	struct planner_opts po = { .now = GOLDEN_NOW, .current_source = "current.json",
		.target_source = "intent.json" };
	struct topology *cur = NULL, *tgt = NULL;
	struct intent *in = NULL;
	struct nw_err err = { 0 };
	json_t *doc = NULL, *plan = NULL;

	ck_assert_msg(synth_generate(&doc, &so, &err) == 0, "%s", err.msg);
	ck_assert_msg(topology_load_json(&cur, doc, "current.json", &err) == 0, "%s", err.msg);
	ck_assert_msg(intent_load_file(&in, test_data_path("plan/intent.json"), &err) == 0, "%s", err.msg);
	ck_assert_msg(intent_target(&doc, in, cur, &err) == 0, "%s", err.msg);
	ck_assert_msg(topology_load_json(&tgt, doc, "target.json", &err) == 0, "%s", err.msg);
	ck_assert_msg(planner_plan(&plan, cur, tgt, &po, &err) == 0, "%s", err.msg);
	intent_free(in);
	topology_free(cur);
	topology_free(tgt);
	return plan;
}

static char *
render(const json_t *plan, enum report_format f, const char *wave)
{
	struct nw_err err = { 0 };
	char *out = NULL;

	ck_assert_msg(report_render(&out, plan, f, wave, &err) == 0, "%s", err.msg);
	ck_assert_ptr_nonnull(out);
	return out;
}

/*
 * Renders the golden plan as f and compares it with tests/data/plan/<name>
 * (NETWAVE_UPDATE_GOLDEN rewrites it).
 */
static void
golden(enum report_format f, const char *name)
{
	json_t *plan = golden_plan();
	char *text = render(plan, f, NULL);
	char rel[256];

	snprintf(rel, sizeof(rel), "plan/%s", name);
	test_golden(rel, text);
	free(text);
	json_decref(plan);
}

START_TEST(test_json_report_matches_the_golden_plan)
{
	golden(REPORT_JSON, "plan.json");
}
END_TEST

START_TEST(test_markdown_report_matches_the_golden_document)
{
	golden(REPORT_MARKDOWN, "plan.md");
}
END_TEST

START_TEST(test_text_report_matches_the_golden_summary)
{
	golden(REPORT_TEXT, "plan.txt");
}
END_TEST

START_TEST(test_markdown_has_every_section_a_reviewer_needs)
{
	static const char *const sections[] = {
		"## Summary", "| Risk | **medium** |", "## What this plan does", "## Prerequisites and blockers",
		"### Blockers", "## Limits", "| VNets per mesh (connected group) | 10 | 250 | https://learn.microsoft.com/azure/virtual-network-manager/concept-limitations |",
		"## Waves at a glance", "## Wave 2: pilot", "**Members (3):** spoke-01-0001, spoke-01-0002, spoke-02-0001",
		"**Traffic before and after**", "| mesh: AVNM connected group, direct in the datacenter | 0 | 6 | +6 |",
		"**How to roll this wave back:**", "**Maintenance window:** yes, the maintenance window starting "
		"2026-11-28T22:00:00Z (240 minutes)", "brief connectivity interruptions",
		"| ergw-hub-01 | 7 | 1 | 1000 |", "## Irreversible steps", "commitMigration on ergw-hub-01",
		"## Fingerprints", "| current | current.json | `sha256:", "spoke-01-0005 stays on its firewall path",
		NULL,
	};
	json_t *plan = golden_plan();
	char *text = render(plan, REPORT_MARKDOWN, NULL);
	size_t i;

	for (i = 0; sections[i] != NULL; i++)
		ck_assert_msg(strstr(text, sections[i]) != NULL, "markdown lacks: %s", sections[i]);
	free(text);
	json_decref(plan);
}
END_TEST

START_TEST(test_one_wave_can_be_shown_alone)
{
	json_t *plan = golden_plan();
	char *md = render(plan, REPORT_MARKDOWN, "light"), *js = render(plan, REPORT_JSON, "light");
	char *tx = render(plan, REPORT_TEXT, "light");
	json_error_t je;
	json_t *w = json_loads(js, 0, &je);

	ck_assert_ptr_nonnull(strstr(md, "## Wave 3: light"));
	ck_assert_ptr_null(strstr(md, "## Wave 2: pilot"));
	ck_assert_ptr_null(strstr(md, "## Summary"));
	ck_assert_ptr_nonnull(w);
	ck_assert_str_eq(json_str(w, "name"), "light");
	ck_assert_ptr_nonnull(strstr(tx, "w03-s0001"));
	json_decref(w);
	free(md);
	free(js);
	free(tx);
	json_decref(plan);
}
END_TEST

START_TEST(test_an_unknown_wave_is_named_with_the_waves_there_are)
{
	json_t *plan = golden_plan();
	struct nw_err err = { 0 };
	char *out = NULL;

	ck_assert_int_eq(report_render(&out, plan, REPORT_TEXT, "pilott", &err), NW_EINPUT);
	ck_assert_ptr_null(out);
	ck_assert_ptr_nonnull(strstr(err.msg, "has no wave 'pilott'"));
	ck_assert_ptr_nonnull(strstr(err.msg, "prepare, pilot, light, rest, gateways-1"));
	json_decref(plan);
}
END_TEST

START_TEST(test_a_document_that_is_not_a_plan_is_refused)
{
	json_t *doc = json_pack("{s:s}", "format", "netwave.topology/v1");
	struct nw_err err = { 0 };
	char *out = NULL;

	ck_assert_int_eq(report_render(&out, doc, REPORT_MARKDOWN, NULL, &err), NW_EINPUT);
	ck_assert_str_eq(err.msg, "cannot render: not a netwave.plan/v1 document");
	json_decref(doc);
}
END_TEST

START_TEST(test_blockers_are_listed_one_per_line)
{
	json_t *plan = json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}]}", "format", "netwave.plan/v1",
	    "blockers", "code", "not-supported", "message", "not supported: changed x at /p",
	    "code", "unreachable", "message", "wave rest would make b unreachable from a");
	char *b = report_blockers(plan);

	ck_assert_str_eq(b, "blocker: not-supported: not supported: changed x at /p\n"
	    "blocker: unreachable: wave rest would make b unreachable from a\n");
	free(b);
	json_decref(plan);
}
END_TEST

START_TEST(test_durations_read_like_a_person_wrote_them)
{
	char buf[32];

	ck_assert_str_eq(report_duration(0, buf, sizeof(buf)), "none");
	ck_assert_str_eq(report_duration(45, buf, sizeof(buf)), "45 s");
	ck_assert_str_eq(report_duration(61, buf, sizeof(buf)), "2 min");
	ck_assert_str_eq(report_duration(3600, buf, sizeof(buf)), "1 h");
	ck_assert_str_eq(report_duration(5400, buf, sizeof(buf)), "1 h 30 min");
	ck_assert_str_eq(report_duration(14 * 86400, buf, sizeof(buf)), "14 d");
}
END_TEST

int
main(void)
{
	const TTest *const report_tests[] = {
		TEST_CASE("report", 120),
		test_json_report_matches_the_golden_plan,
		test_markdown_report_matches_the_golden_document,
		test_text_report_matches_the_golden_summary,
		test_markdown_has_every_section_a_reviewer_needs,
		test_one_wave_can_be_shown_alone,
		test_an_unknown_wave_is_named_with_the_waves_there_are,
		test_a_document_that_is_not_a_plan_is_refused,
		test_blockers_are_listed_one_per_line,
		test_durations_read_like_a_person_wrote_them,
		NULL,
	};

	return test_main("report", report_tests);
}
