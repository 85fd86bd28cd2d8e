/*
 * Check suite for plan/iac.c, plan/iac_findings.c and plan/export*.c: the
 * Terraform states of tests/data/iac (written the way Terraform writes
 * them: a raw version-4 file with for_each and count instances and a
 * `terraform show -json` document with nested modules) mapped to
 * addresses; bad states refused with the file and the position; a plan's
 * IaC findings, pins and risk; the Terraform and ARM template export.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/export.h"
#include "plan/export_hcl.h"
#include "plan/iac.h"
#include "plan/iac_findings.h"
#include "plan/intent.h"
#include "plan/jsonutil.h"
#include "plan/planner.h"
#include "tests/testutil.h"

#define SUB "/subscriptions/00000000-0000-4000-8000-e8a6d050dd01"
#define SPOKES SUB "/resourceGroups/rg-spokes-01/providers/Microsoft.Network"

static struct iac_map *
load(const char *rel)
{
	struct iac_map *m = iac_map_new();
	struct nw_err err = { 0 };

	ck_assert_ptr_nonnull(m);
	ck_assert_msg(iac_map_load_file(m, test_data_path(rel), &err) == 0, "%s", err.msg);
	return m;
}

static const char *
address_of(const struct iac_map *m, const char *id)
{
	const struct iac_entry *e;

	ck_assert_msg(iac_map_find(m, id, &e) >= 1, "%s is not in the map", id);
	return e->address;
}

START_TEST(test_raw_state_maps_for_each_and_count_instances_to_addresses)
{
	struct iac_map *m = load("iac/terraform.tfstate");

	ck_assert_str_eq(address_of(m, SPOKES "/virtualNetworks/spoke-01-0002"),
	    "module.spokes.azurerm_virtual_network.this[\"spoke-01-0002\"]");
	ck_assert_str_eq(address_of(m, SPOKES "/virtualNetworks/spoke-01-0004/virtualNetworkPeerings/to-spoke-01-0003"),
	    "azurerm_virtual_network_peering.spoke_pair[1]");
	ck_assert_str_eq(address_of(m, SPOKES "/virtualNetworks/spoke-01-0001/subnets/endpoints"),
	    "module.spokes.azurerm_subnet.endpoints[\"spoke-01-0001\"]");
	/* one state file; 20 managed instances (the data source is not one) */
	ck_assert_uint_eq(m->nfiles, 1);
	ck_assert_uint_eq(m->ninstances, 20);
	iac_map_free(m);
}
END_TEST

START_TEST(test_ids_are_matched_without_regard_to_case)
{
	struct iac_map *m = load("iac/terraform.tfstate");

	ck_assert_str_eq(address_of(m, "/SUBSCRIPTIONS/00000000-0000-4000-8000-E8A6D050DD01/resourcegroups/"
	    "RG-SPOKES-01/providers/microsoft.network/virtualnetworks/SPOKE-01-0003"),
	    "module.spokes.azurerm_virtual_network.this[\"spoke-01-0003\"]");
	iac_map_free(m);
}
END_TEST

START_TEST(test_children_declared_inline_map_to_their_parent)
{
	struct iac_map *m = load("iac/terraform.tfstate");
	const struct iac_entry *e;

	ck_assert_uint_eq(iac_map_find(m, SUB "/resourceGroups/rg-hub-01/providers/Microsoft.Network/"
	    "virtualNetworks/hub-01/subnets/GatewaySubnet", &e), 1);
	ck_assert_str_eq(e->address, "module.hub[\"hub-01\"].azurerm_virtual_network.this");
	ck_assert_str_eq(e->block, "subnet");
	/* routes have no id in azurerm's block: the id is built from the table's and the name */
	ck_assert_uint_eq(iac_map_find(m, SPOKES "/routeTables/rt-spoke-01-0001-via-gateway/routes/"
	    "to-spoke-01-0002", &e), 1);
	ck_assert_str_eq(e->address, "azurerm_route_table.via_gateway");
	ck_assert_str_eq(e->block, "route");
	iac_map_free(m);
}
END_TEST

START_TEST(test_data_sources_are_read_not_managed)
{
	struct iac_map *m = load("iac/terraform.tfstate");
	const struct iac_entry *e;

	ck_assert_uint_eq(iac_map_find(m, SUB, &e), 0);
	iac_map_free(m);
}
END_TEST

START_TEST(test_show_json_reads_nested_modules_and_azapi)
{
	struct iac_map *m = load("iac/show.json");
	const struct iac_entry *e;
	size_t n;

	ck_assert_str_eq(address_of(m, SUB "/resourceGroups/rg-spokes-02/providers/Microsoft.Network/"
	    "virtualNetworks/spoke-02-0003"),
	    "module.platform.module.spoke[\"spoke-02-0003\"].azurerm_virtual_network.this");
	/* hub-02: the azurerm VNet and the azapi_update_resource that sets its summary */
	n = iac_map_find(m, SUB "/resourceGroups/rg-hub-02/providers/Microsoft.Network/virtualNetworks/hub-02", &e);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(e[0].address, "module.platform.azapi_update_resource.hub_summary");
	ck_assert_str_eq(e[1].address, "module.platform.azurerm_virtual_network.hub");
	ck_assert_uint_eq(m->ninstances, 6); /* the data source is left out */
	iac_map_free(m);
}
END_TEST

static void
expect_bad(const char *rel, const char *position)
{
	struct iac_map *m = load("iac/terraform.tfstate");
	struct nw_err err = { 0 };
	size_t before = m->n;
	char path[4096];

	snprintf(path, sizeof(path), "%s", test_data_path(rel));
	ck_assert_int_eq(iac_map_load_file(m, path, &err), NW_EINPUT);
	ck_assert_msg(strstr(err.msg, path) != NULL, "no file name in: %s", err.msg);
	ck_assert_msg(strstr(err.msg, position) != NULL, "no '%s' in: %s", position, err.msg);
	ck_assert_uint_eq(m->n, before); /* nothing half-read */
	ck_assert_uint_eq(m->nfiles, 1);
	iac_map_free(m);
}

START_TEST(test_bad_states_name_the_file_and_the_position)
{
	expect_bad("iac/bad-truncated.tfstate", "line 44, column 28");
	expect_bad("iac/bad-not-json.tfstate", "line 1, column 1");
	expect_bad("iac/bad-version.tfstate", "/version: state version 3 is not read");
	expect_bad("iac/bad-plan.json", "/planned_values: this is a plan");
}
END_TEST

START_TEST(test_instance_keys_are_quoted_as_terraform_quotes_them)
{
	static const char state[] = "{\"version\": 4, \"resources\": [{\"module\": \"module.m[0]\", "
	    "\"mode\": \"managed\", \"type\": \"azurerm_subnet\", \"name\": \"s\", \"instances\": ["
	    "{\"index_key\": \"a\\\"b\\\\c\", \"attributes\": {\"id\": \"" SPOKES "/virtualNetworks/v/subnets/x\"}},"
	    "{\"index_key\": 7, \"attributes\": {\"id\": \"" SPOKES "/virtualNetworks/v/subnets/y\"}},"
	    "{\"attributes\": {\"id\": \"not an azure id\"}}]}]}";
	struct iac_map *m = iac_map_new();
	struct nw_err err = { 0 };

	ck_assert_int_eq(iac_map_load_buffer(m, state, strlen(state), "s.tfstate", &err), 0);
	ck_assert_str_eq(address_of(m, SPOKES "/virtualNetworks/v/subnets/x"),
	    "module.m[0].azurerm_subnet.s[\"a\\\"b\\\\c\"]");
	ck_assert_str_eq(address_of(m, SPOKES "/virtualNetworks/v/subnets/y"), "module.m[0].azurerm_subnet.s[7]");
	ck_assert_uint_eq(m->n, 2);
	ck_assert_uint_eq(m->ninstances, 3);
	iac_map_free(m);
}
END_TEST

START_TEST(test_a_deployment_names_what_it_last_wrote)
{
	static const char observed[] = "{\"armDeployments\": ["
	    "{\"name\": \"old\", \"id\": \"d1\", \"properties\": {\"timestamp\": \"2026-01-01T00:00:00Z\", "
	    "\"provisioningState\": \"Succeeded\", \"outputResources\": [{\"id\": \"" SPOKES "/virtualNetworks/a\"}, "
	    "{\"id\": \"" SPOKES "/virtualNetworks/b\"}]}},"
	    "{\"name\": \"new\", \"id\": \"d2\", \"properties\": {\"timestamp\": \"2026-03-01T00:00:00Z\", "
	    "\"provisioningState\": \"Succeeded\", \"outputResources\": [{\"id\": \"" SPOKES "/virtualNetworks/A\"}]}},"
	    "{\"name\": \"failed\", \"id\": \"d3\", \"properties\": {\"timestamp\": \"2026-04-01T00:00:00Z\", "
	    "\"provisioningState\": \"Failed\", \"outputResources\": [{\"id\": \"" SPOKES "/virtualNetworks/b\"}]}}]}";
	json_t *obs = json_loads(observed, 0, NULL);
	struct iac_map *m = iac_map_new();
	struct nw_err err = { 0 };
	const struct iac_entry *e;

	ck_assert_ptr_nonnull(obs);
	ck_assert_int_eq(iac_map_add_deployments(m, obs, &err), 0);
	ck_assert_uint_eq(iac_map_find(m, SPOKES "/virtualNetworks/a", &e), 1);
	ck_assert_str_eq(e->address, "new");
	ck_assert_int_eq(e->source, IAC_DEPLOYMENT);
	ck_assert_uint_eq(iac_map_find(m, SPOKES "/virtualNetworks/b", &e), 1);
	ck_assert_str_eq(e->address, "old"); /* the failed deployment does not count */
	json_decref(obs);
	iac_map_free(m);
}
END_TEST

/* ---- a plan ---- */

struct planned {
	struct topology *cur, *tgt;
	json_t *plan;
};

static void
plan_fixture(struct planned *p)
{
	struct intent *in = NULL;
	struct planner_opts opts = { .now = 1795291200 };
	struct nw_err err = { 0 };
	json_t *doc = NULL;

	ck_assert_msg(topology_load_file(&p->cur, test_data_path("iac/current.json"), NULL, &err) == 0,
	    "%s", err.msg);
	ck_assert_msg(intent_load_file(&in, test_data_path("iac/intent.json"), &err) == 0, "%s", err.msg);
	ck_assert_msg(intent_target(&doc, in, p->cur, &err) == 0, "%s", err.msg);
	ck_assert_msg(topology_load_json(&p->tgt, doc, "target", &err) == 0, "%s", err.msg);
	ck_assert_msg(planner_plan(&p->plan, p->cur, p->tgt, &opts, &err) == 0, "%s", err.msg);
	intent_free(in);
}

static void
plan_free(struct planned *p)
{
	json_decref(p->plan);
	topology_free(p->cur);
	topology_free(p->tgt);
}

static const json_t *
find_finding(const json_t *plan, const char *code, const char *resource_tail)
{
	const json_t *f;
	size_t i;

	json_array_foreach(json_object_get(plan, "findings"), i, f) {
		const char *r = json_str(f, "resource");

		if (strcmp(json_str(f, "code"), code) == 0 && r != NULL &&
		    strlen(r) >= strlen(resource_tail) &&
		    strcmp(r + strlen(r) - strlen(resource_tail), resource_tail) == 0)
			return f;
	}
	return NULL;
}

/* The finding code on a resource ending in resource_tail, asserted to be there and to say text. */
static const json_t *
finding_says(const json_t *plan, const char *code, const char *resource_tail, const char *text)
{
	const json_t *f = find_finding(plan, code, resource_tail);

	ck_assert_msg(f != NULL, "no %s finding on ...%s", code, resource_tail);
	ck_assert_ptr_nonnull(strstr(json_str(f, "message"), text));
	return f;
}

static const json_t *
wave_named(const json_t *plan, const char *name)
{
	return test_json_find(plan, "waves", "name", name);
}

START_TEST(test_plan_names_address_and_remedy_for_what_the_code_manages)
{
	struct planned p = { 0 };
	struct iac_map *m = load("iac/terraform.tfstate");
	struct nw_err err = { 0 };
	const json_t *f, *w, *row;
	char *before, *after;
	const char *id0;

	plan_fixture(&p);
	before = json_dumps(p.plan, JSON_SORT_KEYS);
	id0 = json_str(p.plan, "id");
	ck_assert_ptr_nonnull(id0);
	before = before != NULL ? before : strdup("");
	ck_assert_int_eq(iac_plan_annotate(p.plan, m, p.cur, p.tgt, &err), 0);
	/* a deleted peering: terraform state rm of its address */
	finding_says(p.plan, "iac-delete", "/spoke-01-0003/virtualNetworkPeerings/to-spoke-01-0004",
	    "terraform state rm 'azurerm_virtual_network_peering.spoke_pair[0]'");
	/* a route declared inline: the block goes, no state rm */
	finding_says(p.plan, "iac-delete", "/routes/to-spoke-01-0002",
	    "a route block of azurerm_route_table.via_gateway");
	/* a pinned property: the attribute, the code's value and the plan's */
	f = finding_says(p.plan, "iac-pinned", "/spoke-01-0002/subnets/endpoints",
	    "pins private_endpoint_network_policies = \"Disabled\"");
	ck_assert_ptr_nonnull(strstr(json_str(f, "message"), "to \"Enabled\""));
	/* the ExpressRoute commit deletes the gateway and its replacement is to be imported */
	finding_says(p.plan, "iac-delete", "/virtualNetworkGateways/ergw-hub-01",
	    "ergw-hub-01_migrate replaces it");
	/* what the plan creates is for export */
	ck_assert_ptr_nonnull(find_finding(p.plan, "iac-import", "/networkManagers/nm-eastus"));
	/* per wave: the hspe wave lists the pins */
	w = wave_named(p.plan, "hspe-hub-01");
	ck_assert_ptr_nonnull(w);
	ck_assert_uint_eq(json_array_size(json_object_get(w, "iac")), 8);
	row = json_array_get(json_object_get(w, "iac"), 0);
	ck_assert_str_eq(json_str(row, "action"), "change");
	ck_assert_uint_eq(json_array_size(json_object_get(row, "pins")), 1);
	/* the risk for the change board */
	ck_assert_ptr_nonnull(strstr(json_string_value(json_array_get(json_path(p.plan, "summary",
	    "riskReasons", NULL), json_array_size(json_path(p.plan, "summary", "riskReasons", NULL)) - 1)),
	    "the decommission deletes 2 peerings IaC manages"));
	/* the plan changed, so did its id; the shared key never shows */
	after = json_dumps(p.plan, JSON_SORT_KEYS);
	ck_assert_ptr_nonnull(after);
	ck_assert_str_ne(before, after);
	ck_assert_ptr_null(strstr(after, "TopSecretSharedKey"));
	free(before);
	free(after);
	iac_map_free(m);
	plan_free(&p);
}
END_TEST

START_TEST(test_plan_without_iac_is_left_alone)
{
	struct planned p = { 0 };
	struct iac_map *m = iac_map_new();
	struct nw_err err = { 0 };
	json_t *copy;

	plan_fixture(&p);
	copy = json_deep_copy(p.plan);
	ck_assert_int_eq(iac_plan_annotate(p.plan, m, p.cur, p.tgt, &err), 0);
	ck_assert(json_equal(copy, p.plan));
	ck_assert_int_eq(iac_plan_annotate(p.plan, NULL, p.cur, p.tgt, &err), 0);
	ck_assert(json_equal(copy, p.plan));
	json_decref(copy);
	iac_map_free(m);
	plan_free(&p);
}
END_TEST

START_TEST(test_azapi_body_and_azurerm_3x_booleans_are_pins)
{
	struct planned p = { 0 };
	struct iac_map *m = load("iac/show.json");
	struct nw_err err = { 0 };

	ck_assert_int_eq(iac_map_load_file(m, test_data_path("iac/legacy.tfstate"), &err), 0);
	plan_fixture(&p);
	ck_assert_int_eq(iac_plan_annotate(p.plan, m, p.cur, p.tgt, &err), 0);
	finding_says(p.plan, "iac-pinned", "/virtualNetworks/hub-02",
	    "pins body/properties/summarizedGatewayPrefixes/addressPrefixes = [\"10.2.0.0/16\"]");
	finding_says(p.plan, "iac-pinned", "/spoke-02-0001/subnets/endpoints",
	    "module.legacy[0].azurerm_subnet.endpoints");
	iac_map_free(m);
	plan_free(&p);
}
END_TEST

START_TEST(test_review_report_has_the_wave_iac_table)
{
	json_t *w = json_pack("{s:[{s:s, s:s, s:s, s:s, s:s, s:[{s:s, s:s, s:s, s:s}]}]}", "iac",
	    "resource", SPOKES "/virtualNetworks/spoke-01-0001", "address", "module.spokes.x[\"a|b\"]",
	    "source", "s.tfstate", "managedBy", "terraform", "action", "change", "pins", "attribute",
	    "private_endpoint_vnet_policies", "property", "/properties/privateEndpointVNetPolicies",
	    "code", "\"Disabled\"", "plan", "\"Basic\"");
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(w);
	iac_report_wave_md(f, w);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(text, "| spoke-01-0001 | `module.spokes.x[\"a'b\"]` (Terraform, s.tfstate) | "
	    "changes | `private_endpoint_vnet_policies` = `\"Disabled\"`, the wave sets `\"Basic\"` |"));
	free(text);
	json_decref(w);
}
END_TEST

/* ---- export ---- */

static char *
export_text(const char *rel, const struct export_opts *o, struct export_result *r)
{
	struct topology *t = NULL;
	struct nw_err err = { 0 };
	char *text;

	ck_assert_msg(topology_load_file(&t, test_data_path(rel), NULL, &err) == 0, "%s", err.msg);
	ck_assert_msg(export_terraform(r, t, o, &err) == 0, "%s", err.msg);
	text = strdup(r->root);
	topology_free(t);
	return text;
}

START_TEST(test_export_writes_azurerm_with_aligned_arguments_and_imports)
{
	struct export_opts o = { .providers = true };
	struct export_result r;
	char *a = export_text("topo/all-types.json", &o, &r), *b;

	ck_assert_ptr_nonnull(strstr(a, "resource \"azurerm_network_manager_static_member\" \"sm-spoke\" {\n"
	    "  name                      = \"sm-spoke\"\n"
	    "  network_group_id          = azurerm_network_manager_network_group.ng-a.id\n"
	    "  target_virtual_network_id = \"" "/subscriptions/11111111-2222-3333-4444-555555555555/"
	    "resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/spoke\"\n}\n"));
	/* a multi-line value ends the run and is not aligned */
	ck_assert_ptr_nonnull(strstr(a, "  resource_id = azurerm_network_manager_connectivity_configuration.cc-hub.id\n"
	    "  body = {\n    properties = {\n      connectivityCapabilities = {\n"
	    "        connectedGroupAddressOverlap        = \"Disallowed\"\n"));
	ck_assert_ptr_nonnull(strstr(a, "import {\n  to = azurerm_network_manager_deployment.nm-eastus-Connectivity\n"
	    "  id = \"/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-net/providers/"
	    "Microsoft.Network/networkManagers/nm/commit|eastus|Connectivity\"\n}\n"));
	ck_assert_uint_eq(r.nimports, 10);
	ck_assert_uint_eq(r.nresources, 12);
	export_result_free(&r);
	/* deterministic */
	b = export_text("topo/all-types.json", &o, &r);
	ck_assert_str_eq(a, b);
	export_result_free(&r);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_export_leaves_out_what_the_code_holds_and_lays_out_a_module)
{
	static const char state[] = "{\"version\": 4, \"resources\": [{\"mode\": \"managed\", "
	    "\"type\": \"azurerm_network_manager\", \"name\": \"main\", \"instances\": [{\"attributes\": "
	    "{\"id\": \"/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-net/"
	    "providers/Microsoft.Network/networkManagers/nm\"}}]}]}";
	struct iac_map *m = iac_map_new();
	struct export_opts o = { .module = "mesh", .managed = m };
	struct export_result r;
	struct nw_err err = { 0 };
	char *a;

	ck_assert_int_eq(iac_map_load_buffer(m, state, strlen(state), "s", &err), 0);
	a = export_text("topo/all-types.json", &o, &r);
	ck_assert_uint_eq(r.nmanaged, 1);
	ck_assert_ptr_null(strstr(r.module_text, "resource \"azurerm_network_manager\""));
	/* the manager the code holds is named by its id, not a reference */
	ck_assert_ptr_nonnull(strstr(r.module_text, "network_manager_id = \"/subscriptions/"));
	ck_assert_ptr_nonnull(strstr(a, "module \"mesh\" {\n  source = \"./modules/mesh\"\n}\n"));
	ck_assert_ptr_nonnull(strstr(a, "  to = module.mesh.azurerm_network_manager_network_group.ng-a\n"));
	ck_assert_ptr_null(strstr(a, "terraform {")); /* providers were not asked for */
	export_result_free(&r);
	free(a);
	iac_map_free(m);
}
END_TEST

START_TEST(test_hcl_strings_escape_templates)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	hcl_write_string(f, "a\"b\\c${x}%{y}$z\n");
	fclose(f);
	ck_assert_str_eq(text, "\"a\\\"b\\\\c$${x}%%{y}$z\\n\"");
	free(text);
}
END_TEST

START_TEST(test_arm_template_nests_a_deployment_per_resource_group)
{
	struct topology *t = NULL;
	struct export_opts o = { 0 };
	struct nw_err err = { 0 };
	json_t *doc = NULL, *inner, *r;
	char *text;
	size_t i;
	bool member = false;

	ck_assert_int_eq(topology_load_file(&t, test_data_path("topo/all-types.json"), NULL, &err), 0);
	ck_assert_int_eq(export_arm_template(&doc, t, &o, &err), 0);
	ck_assert_uint_eq(json_array_size(json_object_get(doc, "resources")), 1);
	ck_assert_str_eq(json_str(json_array_get(json_object_get(doc, "resources"), 0), "resourceGroup"), "rg-net");
	inner = json_path(json_array_get(json_object_get(doc, "resources"), 0), "properties", "template",
	    "resources", NULL);
	json_array_foreach(inner, i, r)
		if (strcmp(json_str(r, "name"), "nm/ng-a/sm-spoke") == 0) {
			member = true;
			ck_assert_str_eq(json_string_value(json_array_get(json_object_get(r, "dependsOn"), 0)),
			    "[resourceId('Microsoft.Network/networkManagers/networkGroups', 'nm', 'ng-a')]");
		}
	ck_assert(member);
	text = json_dump_canonical(doc);
	ck_assert_ptr_null(strstr(text, "provisioningState"));
	free(text);
	json_decref(doc);
	topology_free(t);
}
END_TEST

int
main(void)
{
	const TTest *const iac_tests[] = {
		TEST_CASE("core", 120),
		test_raw_state_maps_for_each_and_count_instances_to_addresses,
		test_ids_are_matched_without_regard_to_case,
		test_children_declared_inline_map_to_their_parent,
		test_data_sources_are_read_not_managed,
		test_show_json_reads_nested_modules_and_azapi,
		test_bad_states_name_the_file_and_the_position,
		test_instance_keys_are_quoted_as_terraform_quotes_them,
		test_a_deployment_names_what_it_last_wrote,
		test_plan_names_address_and_remedy_for_what_the_code_manages,
		test_plan_without_iac_is_left_alone,
		test_azapi_body_and_azurerm_3x_booleans_are_pins,
		test_review_report_has_the_wave_iac_table,
		test_export_writes_azurerm_with_aligned_arguments_and_imports,
		test_export_leaves_out_what_the_code_holds_and_lays_out_a_module,
		test_hcl_strings_escape_templates,
		test_arm_template_nests_a_deployment_per_resource_group,
		NULL,
	};

	return test_main("iac", iac_tests);
}
