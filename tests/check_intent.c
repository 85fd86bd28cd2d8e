/*
 * Check suite for plan/intent: the loader (every selector key, bad intents
 * named by file and JSON pointer, syntax errors by line and column), and
 * the expansion into a target topology for each change kind, on the small
 * hand-made estate in tests/data/intent/estate.json and on synthesized
 * ones: mesh members without hubs and without spokes that stay inspected,
 * static members, the configuration and its deployments (goal state),
 * the 250-member feature rule, the HSPE thresholds, the decommission end
 * state, Standard gateway IPs, minimal summaries that never cover
 * on-premises or another hub, and byte-for-byte determinism.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <check.h>

#include "plan/cidr.h"
#include "plan/diff.h"
#include "plan/gwmigrate.h"
#include "plan/intent.h"
#include "plan/jsonutil.h"
#include "plan/procedure.h"
#include "plan/proc/avnm_mesh.h"
#include "plan/proc/gateway_standard_ip.h"
#include "plan/proc/summarize_prefixes.h"
#include "plan/synth.h"
#include "plan/topology.h"
#include "tests/testutil.h"

#define SUB "00000000-0000-4000-8000-00000000e57a"
#define PFX "/subscriptions/" SUB "/resourceGroups/"
#define NM1 PFX "rg-net/providers/Microsoft.Network/networkManagers/nm-1"
#define NMNEW PFX "rg-new/providers/Microsoft.Network/networkManagers/nm-new"
#define VNET(rg, n) PFX rg "/providers/Microsoft.Network/virtualNetworks/" n
#define SPOKE(n) VNET("rg-spokes", n)
#define RT(n) PFX "rg-spokes/providers/Microsoft.Network/routeTables/" n

#define MESH(members, extra) \
	"{ \"kind\": \"avnm-mesh\", \"networkManager\": { \"id\": \"" NM1 "\" }," \
	"  \"networkGroup\": \"mesh\", \"members\": " members extra " }"

/* ------------------------------------------------------------------ */
/* helpers                                                             */

static char *
intent_text(const char *changes, const char *rollout)
{
	size_t n = strlen(changes) + (rollout != NULL ? strlen(rollout) : 0) + 128;
	char *s = malloc(n);

	ck_assert_ptr_nonnull(s);
	snprintf(s, n, "{ \"format\": \"netwave.intent/v1\", \"changes\": [ %s ]%s%s }", changes,
	    rollout != NULL ? ", \"rollout\": " : "", rollout != NULL ? rollout : "");
	return s;
}

static struct intent *
intent_ok(const char *changes, const char *rollout)
{
	char *text = intent_text(changes, rollout);
	struct intent *in = NULL;
	struct nw_err err = { 0 };
	int rc = intent_load_buffer(&in, text, strlen(text), "intent.json", &err);

	ck_assert_msg(rc == 0, "intent did not load: %s", err.msg);
	free(text);
	return in;
}

/* Loads raw text expected to fail; returns the error. */
static struct nw_err
load_error_text(const char *text)
{
	struct intent *in = NULL;
	struct nw_err err = { 0 };
	int rc = intent_load_buffer(&in, text, strlen(text), "intent.json", &err);

	ck_assert_msg(rc != 0, "intent loaded but should have been rejected: %s", text);
	ck_assert_ptr_null(in);
	ck_assert_int_eq(rc, err.code);
	return err;
}

static struct nw_err
load_error(const char *changes, const char *rollout)
{
	char *text = intent_text(changes, rollout);
	struct nw_err err = load_error_text(text);

	free(text);
	return err;
}

static void
assert_msg_has(const struct nw_err *err, const char *want)
{
	ck_assert_msg(strstr(err->msg, want) != NULL, "message \"%s\" lacks \"%s\"", err->msg, want);
}

static struct topology *
estate(void)
{
	struct topology *t = NULL;
	struct nw_err err = { 0 };

	ck_assert_msg(topology_load_file(&t, test_data_path("intent/estate.json"), NULL, &err) == 0,
	    "estate: %s", err.msg);
	return t;
}

/* Expands and loads the result (which must load, without new warnings). */
static struct topology *
expand(const struct intent *in, const struct topology *cur)
{
	struct topology *t = NULL;
	struct nw_err err = { 0 };
	json_t *doc = NULL;

	ck_assert_msg(intent_target(&doc, in, cur, &err) == 0, "intent_target: %s", err.msg);
	ck_assert_msg(topology_load_json(&t, doc, "<target>", &err) == 0, "target: %s", err.msg);
	ck_assert_msg(t->nwarnings <= cur->nwarnings, "target warns: %s: %s", t->warnings[0].pointer,
	    t->warnings[0].message);
	return t;
}

static struct nw_err
expand_error(const struct intent *in, const struct topology *cur)
{
	struct nw_err err = { 0 };
	json_t *doc = NULL;
	int rc = intent_target(&doc, in, cur, &err);

	ck_assert_msg(rc != 0, "expansion should have failed");
	ck_assert_ptr_null(doc);
	ck_assert_int_eq(rc, NW_EINPUT);
	return err;
}

static json_t *
res_json(const struct topology *t, const char *id)
{
	const struct topo_resource *r = topology_find(t, id);

	ck_assert_msg(r != NULL, "no resource %s", id);
	return r->json;
}

static json_t *
named(json_t *arr, const char *name)
{
	size_t i;

	for (i = 0; i < json_array_size(arr); i++)
		if (strcmp(json_str(json_array_get(arr, i), "name"), name) == 0)
			return json_array_get(arr, i);
	return NULL;
}

static const char *
subnet_policy(const struct topology *t, const char *vnet, const char *subnet)
{
	json_t *s = named(json_path(res_json(t, vnet), "properties", "subnets", NULL), subnet);

	ck_assert_ptr_nonnull(s);
	return json_path_str(s, "properties", "privateEndpointNetworkPolicies", NULL);
}

static size_t
count_type(const struct topology *t, const char *type)
{
	size_t i, n = 0;

	for (i = 0; i < t->nres; i++)
		if (strcasecmp(t->res[i].type_name, type) == 0)
			n++;
	return n;
}

/* observed.avnmDeployments[nm][region].Connectivity, or NULL. */
static json_t *
deployed(const struct topology *t, const char *nm, const char *region)
{
	return json_path(t->root, "observed", "avnmDeployments", nm, region, "Connectivity", NULL);
}

static bool
list_has(const json_t *arr, const char *s)
{
	size_t i;

	for (i = 0; i < json_array_size(arr); i++)
		if (strcasecmp(json_string_value(json_array_get(arr, i)), s) == 0)
			return true;
	return false;
}

static json_t *
synth(unsigned hubs, unsigned spokes, unsigned pes, unsigned udr, bool two_regions)
{
	static const char *const regions[] = { "eastus", "westus" };
	struct synth_opts o = { .hubs = hubs, .spokes_per_hub = spokes, .pe_per_spoke = pes,
		.udr_spokes = udr, .seed = 7, .regions = regions, .nregions = two_regions ? 2 : 1 };
	struct nw_err err = { 0 };
	json_t *doc = NULL;

	ck_assert_msg(synth_generate(&doc, &o, &err) == 0, "synth: %s", err.msg);
	return doc;
}

/* A mesh of every spoke of a synthesized estate, with nm-synth in its subscription. */
static struct intent *
synth_mesh_intent(const struct topology *t, const char *extra)
{
	char changes[2048];

	snprintf(changes, sizeof(changes),
	    "{ \"kind\": \"avnm-mesh\", \"networkManager\": { \"id\": \"/subscriptions/%s/"
	    "resourceGroups/rg-net/providers/Microsoft.Network/networkManagers/nm-synth\" },"
	    "  \"networkGroup\": \"all-spokes\", \"members\": { \"tags\": { \"role\": \"spoke\" } }%s }",
	    t->vnets[0].res->subscription, extra);
	return intent_ok(changes, NULL);
}

static const char *
synth_feature(const struct topology *t)
{
	return topology_feature_state(t, "Microsoft.Network/AllowHighScaleConnectedGroup");
}

/* connectedGroupPrivateEndpointsScale of the configuration the expansion made (*-mesh). */
static const char *
config_scale(const struct topology *t)
{
	size_t i;

	for (i = 0; i < t->nres; i++)
		if (t->res[i].type == TOPO_CONNECTIVITY_CONFIG &&
		    strlen(t->res[i].name) > 5 &&
		    strcmp(t->res[i].name + strlen(t->res[i].name) - 5, "-mesh") == 0)
			return json_path_str(t->res[i].json, "properties", "connectivityCapabilities",
			    "connectedGroupPrivateEndpointsScale", NULL);
	return NULL;
}

/* Adds n private endpoints in a subnet of a synthesized document. */
static void
add_private_endpoints(json_t *doc, const char *subnet_id, unsigned n)
{
	json_t *res = json_object_get(doc, "resources");
	unsigned i;

	for (i = 0; i < n; i++) {
		char id[512];
		snprintf(id, sizeof(id), "%.200s/resourceGroups/rg-extra/providers/Microsoft.Network/"
		    "privateEndpoints/pe-extra-%u", "/subscriptions/00000000-0000-4000-8000-000000000abc", i);
		json_array_append_new(res, json_pack("{s:s, s:s, s:s, s:s, s:{s:{s:s}}}", "id", id,
		    "name", strrchr(id, '/') + 1, "type", "Microsoft.Network/privateEndpoints",
		    "location", "eastus", "properties", "subnet", "id", subnet_id));
	}
}

/* ------------------------------------------------------------------ */
/* loading                                                             */

START_TEST(test_the_documented_example_loads_with_its_rollout)
{
	struct intent *in = NULL;
	struct nw_err err = { 0 };
	const struct intent_rollout *r;

	ck_assert_msg(intent_load_file(&in, test_data_path("intent/good-full.json"), &err) == 0,
	    "%s", err.msg);
	ck_assert_uint_eq(in->nchanges, 3);
	ck_assert_str_eq(in->changes[0].kind, "avnm-mesh");
	ck_assert_str_eq(mesh_of(&in->changes[0])->network_group, "mesh-all-spokes");
	ck_assert(mesh_of(&in->changes[0])->high_scale_private_endpoints);
	ck_assert(!mesh_of(&in->changes[0])->global);
	ck_assert_uint_eq(mesh_of(&in->changes[0])->nscope_subscriptions, 1);
	ck_assert_str_eq(in->changes[1].kind, "gateway-standard-ip");
	ck_assert(gw_of(&in->changes[1])->gateways.all);
	ck_assert_str_eq(in->changes[2].kind, "summarize-gateway-prefixes");
	ck_assert_uint_eq(sum_of(&in->changes[2])->min_len4, 12);
	ck_assert_uint_eq(sum_of(&in->changes[2])->min_len6, 40);
	r = &in->parsed_rollout;
	ck_assert_uint_eq(r->nwaves, 3);
	ck_assert_str_eq(r->waves[0].name, "pilot");
	ck_assert_uint_eq(r->waves[0].max, 50);
	ck_assert(r->waves[1].has_members);
	ck_assert(!r->waves[2].has_members);
	ck_assert_str_eq(r->waves[2].pointer, "/rollout/waves/2");
	ck_assert_int_eq(r->soak_before_decommission, 14 * 86400);
	ck_assert_int_eq(r->soak_between_waves, 0);
	ck_assert(!r->has_maintenance_window);
	ck_assert(r->has_write_budget);
	ck_assert(r->writes_per_second > 3.29 && r->writes_per_second < 3.31);
	ck_assert_uint_eq(r->burst, 200);
	intent_free(in);
}
END_TEST

static struct nw_err
file_error(const char *rel)
{
	struct intent *in = NULL;
	struct nw_err err = { 0 };
	int rc = intent_load_file(&in, test_data_path(rel), &err);

	ck_assert_msg(rc == NW_EINPUT, "%s: rc %d: %s", rel, rc, err.msg);
	ck_assert_ptr_null(in);
	ck_assert_msg(strncmp(err.msg, test_data_path(rel), strlen(test_data_path(rel))) == 0,
	    "message does not start with the file name: %s", err.msg);
	return err;
}

/* The kinds listed are the registry's, in its order: "a, b or c". */
START_TEST(test_an_unknown_change_kind_is_named_with_its_pointer_and_the_kinds)
{
	struct nw_err err = file_error("intent/bad-unknown-kind.json");
	const char *head = ": /changes/1/kind: unknown change kind \"avnm-meshh\"; expected ";
	const char *rest = strstr(err.msg, head);
	size_t i, n;

	ck_assert_msg(rest != NULL, "%s", err.msg);
	rest += strlen(head);
	ck_assert_msg(strncmp(rest, "avnm-mesh, ", 11) == 0, "%s", err.msg);
	for (i = 0; procedures[i] != NULL; i++) {
		const char *sep = procedures[i + 1] == NULL ? "" : procedures[i + 2] == NULL ? " or " : ", ";

		ck_assert_ptr_nonnull(procedures[i]->intent);
		n = strlen(procedures[i]->name);
		ck_assert_msg(strncmp(rest, procedures[i]->name, n) == 0 && strncmp(rest + n, sep, strlen(sep)) == 0,
		    "%s lacks %s%s", err.msg, procedures[i]->name, sep);
		rest += n + strlen(sep);
	}
	ck_assert_str_eq(rest, "");
}
END_TEST

START_TEST(test_an_unknown_key_is_named_with_its_pointer_and_the_keys_expected)
{
	struct nw_err err = file_error("intent/bad-unknown-key.json");

	assert_msg_has(&err, ": /changes/0/memberz: unknown key \"memberz\"; expected kind, "
	    "description, networkManager, networkGroup, members, highScalePrivateEndpoints or global");
	err = load_error(MESH("{ \"tags\": { \"a\": \"b\" }, \"name\": [\"x\"] }", ""), NULL);
	assert_msg_has(&err, "intent.json: /changes/0/members/name: unknown key \"name\"");
	err = load_error("{ \"kind\": \"gateway-standard-ip\", \"gateways\": { \"all\": true } }",
	    "{ \"waves\": [ { \"name\": \"a\", \"member\": {} } ] }");
	assert_msg_has(&err, "intent.json: /rollout/waves/0/member: unknown key \"member\"");
	err = load_error_text("{ \"format\": \"netwave.intent/v1\", \"change\": [] }");
	assert_msg_has(&err, "intent.json: /change: unknown key \"change\"");
}
END_TEST

START_TEST(test_wrong_types_are_named_with_pointer_and_what_was_found)
{
	struct nw_err err = file_error("intent/bad-wrong-type.json");

	assert_msg_has(&err, ": /changes/0/hubs/names: expected an array of strings, found a string");
	err = load_error(MESH("{ \"tags\": { \"role\": 1 } }", ""), NULL);
	assert_msg_has(&err, "intent.json: /changes/0/members/tags/role: expected a string tag value");
	err = load_error(MESH("{ \"all\": true }", ", \"highScalePrivateEndpoints\": \"yes\""), NULL);
	assert_msg_has(&err, "/changes/0/highScalePrivateEndpoints: expected true or false, found a string");
	err = load_error(MESH("{ \"ids\": [\"a\", 7] }", ""), NULL);
	assert_msg_has(&err, "/changes/0/members/ids/1: expected a string, found a number");
	err = load_error(MESH("{ \"all\": false }", ""), NULL);
	assert_msg_has(&err, "/changes/0/members/all: expected true, found false");
	err = load_error("{ \"kind\": 3 }", NULL);
	assert_msg_has(&err, "/changes/0/kind: expected a string, found a number");
	err = load_error("{ \"kind\": \"gateway-standard-ip\", \"gateways\": [] }", NULL);
	assert_msg_has(&err, "/changes/0/gateways: expected a selector object");
	err = load_error("{ \"kind\": \"gateway-standard-ip\", \"gateways\": { \"all\": true } }",
	    "{ \"waves\": { } }");
	assert_msg_has(&err, "/rollout/waves: expected an array of waves, found an object");
	err = load_error("{ \"kind\": \"gateway-standard-ip\", \"gateways\": { \"all\": true } }",
	    "{ \"waves\": [ { \"name\": \"a\", \"max\": 0 } ] }");
	assert_msg_has(&err, "/rollout/waves/0/max: 0 is out of range");
	err = load_error("{ \"kind\": \"gateway-standard-ip\", \"gateways\": { \"all\": true } }",
	    "{ \"soak\": { \"beforeDecommission\": \"14 days\" } }");
	assert_msg_has(&err, "/rollout/soak/beforeDecommission: invalid duration \"14 days\"");
	err = load_error("{ \"kind\": \"gateway-standard-ip\", \"gateways\": { \"all\": true } }",
	    "{ \"writeBudget\": { \"writesPerSecond\": -1 } }");
	assert_msg_has(&err, "/rollout/writeBudget/writesPerSecond: expected a number of writes");
	err = load_error("{ \"kind\": \"gateway-standard-ip\", \"gateways\": { \"all\": true } }",
	    "{ \"maintenanceWindow\": { \"start\": \"saturday\", \"duration\": \"4h\" } }");
	assert_msg_has(&err, "/rollout/maintenanceWindow/start: invalid time \"saturday\"");
	err = load_error("{ \"kind\": \"summarize-gateway-prefixes\", \"hubs\": { \"all\": true },"
	    " \"minPrefixLength\": 40 }", NULL);
	assert_msg_has(&err, "/changes/0/minPrefixLength: 40 is out of range");
	err = load_error("{ \"kind\": \"summarize-gateway-prefixes\", \"hubs\": { \"all\": true },"
	    " \"prefixes\": [\"10.0.0.1/8\"] }", NULL);
	assert_msg_has(&err, "intent.json: /changes/0/prefixes/0: ");
	err = load_error("{ \"kind\": \"avnm-mesh\", \"networkManager\": { \"id\": \"/subscriptions/x/"
	    "resourceGroups/r/providers/Microsoft.Network/virtualNetworks/v\" }, \"networkGroup\": \"g\","
	    " \"members\": { \"all\": true } }", NULL);
	assert_msg_has(&err, "/changes/0/networkManager/id: \"/subscriptions/x/resourceGroups/r/"
	    "providers/Microsoft.Network/virtualNetworks/v\" is not a network manager id");
}
END_TEST

START_TEST(test_a_syntax_error_gives_line_and_column)
{
	struct nw_err err = file_error("intent/bad-syntax.json");

	assert_msg_has(&err, ": line 5, column ");
}
END_TEST

START_TEST(test_duplicate_keys_are_rejected_with_their_place)
{
	struct nw_err err = file_error("intent/bad-duplicate-key.json");

	assert_msg_has(&err, ": line 4, column ");
	assert_msg_has(&err, "duplicate object key");
}
END_TEST

START_TEST(test_a_document_that_is_not_an_intent_says_what_it_is)
{
	struct nw_err err;

	err = load_error_text("{ \"changes\": [] }");
	assert_msg_has(&err, "intent.json: no \"format\"");
	err = load_error_text("{ \"format\": \"netwave.topology/v1\", \"resources\": [] }");
	assert_msg_has(&err, "this is a topology");
	err = load_error_text("{ \"format\": \"netwave.intent/v1\" }");
	assert_msg_has(&err, "no \"changes\"");
	err = load_error_text("{ \"format\": \"netwave.intent/v1\", \"changes\": [] }");
	assert_msg_has(&err, "intent.json: /changes: the list is empty");
	err = load_error_text("[1]");
	assert_msg_has(&err, "the top level is an array");
	err = load_error_text("  \n");
	assert_msg_has(&err, "the file is empty");
}
END_TEST

START_TEST(test_empty_selectors_and_missing_selectors_are_rejected)
{
	struct nw_err err;

	err = load_error(MESH("{ }", ""), NULL);
	assert_msg_has(&err, "/changes/0/members: the selector is empty; to select everything say "
	    "\"all\": true");
	err = load_error(MESH("{ \"names\": [] }", ""), NULL);
	assert_msg_has(&err, "/changes/0/members/names: the list is empty");
	err = load_error(MESH("{ \"tags\": { } }", ""), NULL);
	assert_msg_has(&err, "/changes/0/members/tags: no tags given");
	err = load_error("{ \"kind\": \"gateway-standard-ip\" }", NULL);
	assert_msg_has(&err, "intent.json: /changes/0: no \"gateways\"");
}
END_TEST

START_TEST(test_two_meshes_of_one_group_and_duplicate_wave_names_are_rejected)
{
	struct nw_err err;

	err = load_error(MESH("{ \"all\": true }", "") ", " MESH("{ \"all\": true }", ""), NULL);
	assert_msg_has(&err, "/changes/1/networkGroup: network group \"mesh\" is already meshed by "
	    "/changes/0");
	err = load_error("{ \"kind\": \"gateway-standard-ip\", \"gateways\": { \"all\": true } }",
	    "{ \"waves\": [ { \"name\": \"a\" }, { \"name\": \"a\" } ] }");
	assert_msg_has(&err, "/rollout/waves/1/name: wave name \"a\" is already used by "
	    "/rollout/waves/0");
}
END_TEST

START_TEST(test_durations_take_units_and_reject_the_rest)
{
	ck_assert_int_eq(intent_duration_parse("14d"), 14 * 86400);
	ck_assert_int_eq(intent_duration_parse("1h30m"), 5400);
	ck_assert_int_eq(intent_duration_parse("0s"), 0);
	ck_assert_int_eq(intent_duration_parse("2w"), 14 * 86400);
	ck_assert_int_eq(intent_duration_parse(""), -1);
	ck_assert_int_eq(intent_duration_parse("14"), -1);
	ck_assert_int_eq(intent_duration_parse("d"), -1);
	ck_assert_int_eq(intent_duration_parse("1x"), -1);
	ck_assert_int_eq(intent_duration_parse("99999999999999999999s"), -1);
}
END_TEST

/* ------------------------------------------------------------------ */
/* selectors                                                           */

/* Names of the estate's VNets a selector matches, space-separated. */
static void
matches(const struct topology *t, const char *selector, char *buf, size_t size)
{
	struct intent_selector s;
	struct nw_err err = { 0 };
	json_error_t jerr;
	json_t *v = json_loads(selector, JSON_REJECT_DUPLICATES, &jerr);
	size_t i;

	ck_assert_msg(v != NULL, "selector JSON: %s", jerr.text);
	ck_assert_msg(intent_selector_parse(&s, v, "x.json", "/sel", &err) == 0, "%s", err.msg);
	buf[0] = '\0';
	for (i = 0; i < t->nvnets; i++) {
		if (!intent_selector_match(&s, t->vnets[i].res))
			continue;
		if (buf[0] != '\0')
			strncat(buf, " ", size - strlen(buf) - 1);
		strncat(buf, t->vnets[i].res->name, size - strlen(buf) - 1);
	}
	intent_selector_free(&s);
	json_decref(v);
}

#define ASSERT_MATCHES(t, sel, want) do { \
	char got_[512]; \
	matches((t), (sel), got_, sizeof(got_)); \
	ck_assert_msg(strcmp(got_, (want)) == 0, "%s matched \"%s\", expected \"%s\"", (sel), got_, \
	    (want)); \
} while (0)

START_TEST(test_tags_select_by_value_and_star_selects_by_presence)
{
	struct topology *t = estate();

	ASSERT_MATCHES(t, "{\"tags\": {\"env\": \"dev\"}}", "spoke-a");
	ASSERT_MATCHES(t, "{\"tags\": {\"env\": \"prod\", \"traffic\": \"light\"}}", "spoke-b");
	ASSERT_MATCHES(t, "{\"tags\": {\"traffic\": \"*\"}}", "spoke-b");
	ASSERT_MATCHES(t, "{\"tags\": {\"ROLE\": \"hub\"}}", "hub-1 hub-2");
	ASSERT_MATCHES(t, "{\"tags\": {\"role\": \"Hub\"}}", "");
	ASSERT_MATCHES(t, "{\"tags\": {\"nosuchtag\": \"*\"}}", "");
	topology_free(t);
}
END_TEST

START_TEST(test_names_are_case_insensitive_globs)
{
	struct topology *t = estate();

	ASSERT_MATCHES(t, "{\"names\": [\"SPOKE-?\"]}", "spoke-a spoke-b spoke-c spoke-d spoke-e");
	ASSERT_MATCHES(t, "{\"names\": [\"hub-*\", \"spoke-[ab]\"]}", "hub-1 hub-2 spoke-a spoke-b");
	ASSERT_MATCHES(t, "{\"names\": [\"spoke\"]}", "");
	topology_free(t);
}
END_TEST

START_TEST(test_ids_and_resource_groups_compare_case_insensitively)
{
	struct topology *t = estate();

	ASSERT_MATCHES(t, "{\"ids\": [\"/SUBSCRIPTIONS/" SUB "/RESOURCEGROUPS/RG-SPOKES/providers/"
	    "microsoft.network/virtualnetworks/SPOKE-C\"]}", "spoke-c");
	ASSERT_MATCHES(t, "{\"resourceGroups\": [\"RG-SPOKES-WEST\", \"rg-hub-1\"]}", "hub-1 spoke-d");
	topology_free(t);
}
END_TEST

START_TEST(test_locations_ignore_case_and_spaces)
{
	struct topology *t = estate();

	ASSERT_MATCHES(t, "{\"locations\": [\"West US\"]}", "hub-2 spoke-d");
	ASSERT_MATCHES(t, "{\"locations\": [\"westus2\"]}", "");
	topology_free(t);
}
END_TEST

START_TEST(test_all_selects_everything_and_keys_combine_with_and)
{
	struct topology *t = estate();

	ASSERT_MATCHES(t, "{\"all\": true}", "hub-1 hub-2 spoke-a spoke-b spoke-c spoke-d spoke-e");
	ASSERT_MATCHES(t, "{\"tags\": {\"role\": \"spoke\"}, \"locations\": [\"westus\"]}", "spoke-d");
	ASSERT_MATCHES(t, "{\"all\": true, \"names\": [\"hub-2\"]}", "hub-2");
	ASSERT_MATCHES(t, "{\"names\": [\"spoke-*\"], \"resourceGroups\": [\"rg-spokes\"],"
	    " \"tags\": {\"env\": \"prod\"}}", "spoke-b spoke-c spoke-e");
	topology_free(t);
}
END_TEST

/* ------------------------------------------------------------------ */
/* avnm-mesh on the small estate                                       */

START_TEST(test_mesh_members_leave_out_hubs_and_spokes_that_stay_inspected)
{
	struct topology *t = estate();
	struct intent *in = intent_ok(MESH("{ \"all\": true }", ""), NULL);
	size_t *m = NULL, *insp = NULL, nm = 0, ninsp = 0, i;
	struct nw_err err = { 0 };
	char names[256] = "";

	ck_assert_msg(intent_mesh_members(&m, &nm, &insp, &ninsp, &in->changes[0], t, &err) == 0,
	    "%s", err.msg);
	for (i = 0; i < nm; i++) {
		strcat(names, t->vnets[m[i]].res->name);
		strcat(names, " ");
	}
	ck_assert_str_eq(names, "spoke-a spoke-b spoke-d spoke-e ");
	/* spoke-c's workload subnet sends the others to the firewall (its other subnet hairpins) */
	ck_assert_uint_eq(ninsp, 1);
	ck_assert_str_eq(t->vnets[insp[0]].res->name, "spoke-c");
	free(m);
	free(insp);
	intent_free(in);
	topology_free(t);
}
END_TEST

START_TEST(test_mesh_adds_group_static_members_and_configuration)
{
	struct topology *t = estate(), *g;
	struct intent *in = intent_ok(MESH("{ \"tags\": { \"role\": \"spoke\" } }", ""), NULL);
	json_t *cc, *grp;
	const struct topo_static_member *sm;

	g = expand(in, t);
	grp = res_json(g, NM1 "/networkGroups/mesh");
	ck_assert_str_eq(json_path_str(grp, "properties", "memberType", NULL), "VirtualNetwork");
	ck_assert_uint_eq(count_type(g, TYPE_STATIC_MEMBER), 4);
	sm = topology_find(g, NM1 "/networkGroups/mesh/staticMembers/sm-spoke-a")->view;
	ck_assert_str_eq(sm->resource_id, SPOKE("spoke-a"));
	ck_assert_ptr_nonnull(sm->vnet);
	ck_assert_ptr_null(topology_find(g, NM1 "/networkGroups/mesh/staticMembers/sm-spoke-c"));
	ck_assert_ptr_nonnull(topology_find(g, NM1 "/networkGroups/mesh/staticMembers/sm-spoke-d"));
	cc = json_object_get(res_json(g, NM1 "/connectivityConfigurations/mesh-mesh"), "properties");
	ck_assert_str_eq(json_str(cc, "connectivityTopology"), "Mesh");
	ck_assert_str_eq(json_str(cc, "deleteExistingPeering"), "False");
	ck_assert_uint_eq(json_array_size(json_object_get(cc, "appliesToGroups")), 1);
	ck_assert_str_eq(json_str(json_array_get(json_object_get(cc, "appliesToGroups"), 0),
	    "networkGroupId"), NM1 "/networkGroups/mesh");
	ck_assert_str_eq(json_str(json_array_get(json_object_get(cc, "appliesToGroups"), 0),
	    "groupConnectivity"), "None");
	ck_assert_str_eq(json_str(json_array_get(json_object_get(cc, "appliesToGroups"), 0),
	    "useHubGateway"), "False");
	ck_assert_str_eq(json_path_str(cc, "connectivityCapabilities",
	    "connectedGroupPrivateEndpointsScale", NULL), "Standard");
	ck_assert_str_eq(json_path_str(cc, "connectivityCapabilities",
	    "connectedGroupAddressOverlap", NULL), "Allowed");
	ck_assert_str_eq(json_path_str(cc, "connectivityCapabilities", "peeringEnforcement", NULL),
	    "Unenforced");
	/* 4 members: no high-scale feature, no HSPE */
	ck_assert_str_eq(synth_feature(g), "NotRegistered");
	ck_assert_str_eq(subnet_policy(g, SPOKE("spoke-b"), "endpoints"), "Disabled");
	topology_free(g);
	intent_free(in);
	topology_free(t);
}
END_TEST

START_TEST(test_mesh_keeps_an_existing_manager_and_adds_connectivity_access_and_scope)
{
	struct topology *t = estate(), *g;
	struct intent *in = intent_ok(
	    "{ \"kind\": \"avnm-mesh\", \"networkManager\": { \"id\": \"" NM1 "\","
	    "  \"scope\": { \"subscriptions\": [\"/SUBSCRIPTIONS/" SUB "\","
	    "    \"/subscriptions/11111111-1111-4111-8111-111111111111\"] } },"
	    "  \"networkGroup\": \"mesh\", \"members\": { \"all\": true } }", NULL);
	json_t *acc, *subs;

	g = expand(in, t);
	ck_assert_uint_eq(count_type(g, TYPE_NETWORK_MANAGER), 1);
	acc = json_path(res_json(g, NM1), "properties", "networkManagerScopeAccesses", NULL);
	ck_assert_uint_eq(json_array_size(acc), 2);
	ck_assert_str_eq(json_string_value(json_array_get(acc, 0)), "SecurityAdmin");
	ck_assert_str_eq(json_string_value(json_array_get(acc, 1)), "Connectivity");
	/* the subscription already in scope (in another casing) is not repeated */
	subs = json_path(res_json(g, NM1), "properties", "networkManagerScopes", "subscriptions", NULL);
	ck_assert_uint_eq(json_array_size(subs), 2);
	ck_assert_str_eq(json_string_value(json_array_get(subs, 0)), "/subscriptions/" SUB);
	ck_assert_str_eq(json_string_value(json_array_get(subs, 1)),
	    "/subscriptions/11111111-1111-4111-8111-111111111111");
	topology_free(g);
	intent_free(in);
	topology_free(t);
}
END_TEST

START_TEST(test_mesh_adds_an_absent_manager_in_the_first_members_region_with_the_scope)
{
	struct topology *t = estate(), *g;
	struct intent *in = intent_ok(
	    "{ \"kind\": \"avnm-mesh\", \"networkManager\": { \"id\": \"" NMNEW "\","
	    "  \"scope\": { \"subscriptions\": [\"/subscriptions/" SUB "\"],"
	    "               \"managementGroups\": [\"/providers/Microsoft.Management/managementGroups/mg\"] } },"
	    "  \"networkGroup\": \"west\", \"members\": { \"locations\": [\"westus\"] } }", NULL);
	json_t *nm;

	g = expand(in, t);
	nm = res_json(g, NMNEW);
	ck_assert_str_eq(json_str(nm, "name"), "nm-new");
	ck_assert_str_eq(json_str(nm, "location"), "westus");
	ck_assert_str_eq(json_string_value(json_array_get(json_path(nm, "properties",
	    "networkManagerScopes", "subscriptions", NULL), 0)), "/subscriptions/" SUB);
	ck_assert_uint_eq(json_array_size(json_path(nm, "properties", "networkManagerScopes",
	    "managementGroups", NULL)), 1);
	ck_assert_str_eq(json_string_value(json_array_get(json_path(nm, "properties",
	    "networkManagerScopeAccesses", NULL), 0)), "Connectivity");
	/* hub-2 matched the location but is a hub: only spoke-d joins */
	ck_assert_uint_eq(count_type(g, TYPE_STATIC_MEMBER), 1);
	ck_assert_ptr_nonnull(topology_find(g, NMNEW "/networkGroups/west/staticMembers/sm-spoke-d"));
	topology_free(g);
	intent_free(in);
	topology_free(t);
}
END_TEST

START_TEST(test_mesh_is_global_when_members_span_regions_or_the_intent_says_so)
{
	static const struct {
		const char *members, *extra, *want;
	} cases[] = {
		{ "{ \"all\": true }", "", "True" },
		{ "{ \"locations\": [\"eastus\"] }", "", "False" },
		{ "{ \"locations\": [\"eastus\"] }", ", \"global\": true", "True" },
	};
	struct topology *t = estate();
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char change[1024];
		struct intent *in;
		struct topology *g;
		json_t *cc;

		snprintf(change, sizeof(change), MESH("%s", "%s"), cases[i].members, cases[i].extra);
		in = intent_ok(change, NULL);
		g = expand(in, t);
		cc = json_object_get(res_json(g, NM1 "/connectivityConfigurations/mesh-mesh"),
		    "properties");
		ck_assert_str_eq(json_str(cc, "isGlobal"), cases[i].want);
		ck_assert_str_eq(json_str(json_array_get(json_object_get(cc, "appliesToGroups"), 0),
		    "isGlobal"), cases[i].want);
		topology_free(g);
		intent_free(in);
	}
	topology_free(t);
}
END_TEST

START_TEST(test_mesh_deployments_keep_configurations_already_active_in_each_region)
{
	struct topology *t = estate(), *g;
	struct intent *in = intent_ok(MESH("{ \"all\": true }", ""), NULL);
	json_t *east, *west;

	g = expand(in, t);
	east = deployed(g, NM1, "eastus");
	ck_assert_uint_eq(json_array_size(east), 2);
	ck_assert(list_has(east, NM1 "/connectivityConfigurations/cc-existing"));
	ck_assert(list_has(east, NM1 "/connectivityConfigurations/mesh-mesh"));
	west = deployed(g, NM1, "westus");
	ck_assert_uint_eq(json_array_size(west), 1);
	ck_assert(list_has(west, NM1 "/connectivityConfigurations/mesh-mesh"));
	/* other configuration types in a region are left as they were */
	ck_assert_ptr_nonnull(json_path(g->root, "observed", "avnmDeployments", NM1, "westus",
	    "SecurityAdmin", NULL));
	ck_assert_uint_eq(g->ndeployments, 3);
	topology_free(g);
	intent_free(in);

	/* two meshes of one manager in one region: the commit lists both, and what was there */
	in = intent_ok(
	    "{ \"kind\": \"avnm-mesh\", \"networkManager\": { \"id\": \"" NM1 "\" },"
	    "  \"networkGroup\": \"ab\", \"members\": { \"names\": [\"spoke-a\", \"spoke-b\"] } },"
	    "{ \"kind\": \"avnm-mesh\", \"networkManager\": { \"id\": \"" NM1 "\" },"
	    "  \"networkGroup\": \"e\", \"members\": { \"names\": [\"spoke-e\"] } }", NULL);
	g = expand(in, t);
	east = deployed(g, NM1, "eastus");
	ck_assert_uint_eq(json_array_size(east), 3);
	ck_assert(list_has(east, NM1 "/connectivityConfigurations/cc-existing"));
	ck_assert(list_has(east, NM1 "/connectivityConfigurations/ab-mesh"));
	ck_assert(list_has(east, NM1 "/connectivityConfigurations/e-mesh"));
	ck_assert_ptr_null(deployed(g, NM1, "westus"));
	topology_free(g);
	intent_free(in);
	topology_free(t);
}
END_TEST

START_TEST(test_mesh_decommission_removes_member_peerings_and_hairpin_only_routes)
{
	struct topology *t = estate(), *g;
	struct intent *in = intent_ok(MESH("{ \"all\": true }", ""), NULL);
	json_t *routes;

	g = expand(in, t);
	/* the manual spoke-a <-> spoke-b peering goes from both sides; hub peerings stay */
	ck_assert_uint_eq(topology_find_vnet(g, SPOKE("spoke-a"))->npeerings, 1);
	ck_assert_str_eq(topology_find_vnet(g, SPOKE("spoke-a"))->peerings[0].name, "to-hub");
	ck_assert_uint_eq(topology_find_vnet(g, SPOKE("spoke-b"))->npeerings, 1);
	ck_assert_uint_eq(topology_find_vnet(g, VNET("rg-hub-1", "hub-1"))->npeerings, 4);
	/* rt-hairpin (only members use it): routes to member space go, to the hub and to the
	 * inspected spoke stay; to-spoke-e covers spoke-e's two prefixes together */
	routes = json_path(res_json(g, RT("rt-hairpin")), "properties", "routes", NULL);
	ck_assert_uint_eq(json_array_size(routes), 2);
	ck_assert_ptr_null(named(routes, "to-spoke-b"));
	ck_assert_ptr_null(named(routes, "to-spoke-e"));
	ck_assert_ptr_nonnull(named(routes, "to-hub"));
	ck_assert_ptr_nonnull(named(routes, "to-spoke-c"));
	/* rt-mixed is also used by the inspected spoke: left alone */
	routes = json_path(res_json(g, RT("rt-mixed")), "properties", "routes", NULL);
	ck_assert_uint_eq(json_array_size(routes), 1);
	/* the firewall route stays */
	ck_assert_uint_eq(json_array_size(json_path(res_json(g, RT("rt-firewall")), "properties",
	    "routes", NULL)), 1);
	topology_free(g);
	intent_free(in);
	topology_free(t);
}
END_TEST

START_TEST(test_hspe_when_asked_sets_subnet_and_vnet_policies_of_members_only)
{
	struct topology *t = estate(), *g;
	struct intent *in = intent_ok(MESH("{ \"all\": true }", ", \"highScalePrivateEndpoints\": true"),
	    NULL);

	g = expand(in, t);
	ck_assert_str_eq(subnet_policy(g, SPOKE("spoke-b"), "endpoints"), "Enabled");
	ck_assert_str_eq(subnet_policy(g, SPOKE("spoke-b"), "endpoints2"), "RouteTableEnabled");
	ck_assert_ptr_null(subnet_policy(g, SPOKE("spoke-b"), "workload")); /* no endpoints there */
	ck_assert_str_eq(topology_find_vnet(g, SPOKE("spoke-b"))->pe_vnet_policies, "Basic");
	ck_assert_str_eq(topology_find_vnet(g, SPOKE("spoke-a"))->pe_vnet_policies, "Basic");
	/* the inspected spoke is no member: untouched */
	ck_assert_ptr_null(topology_find_vnet(g, SPOKE("spoke-c"))->pe_vnet_policies);
	ck_assert_ptr_null(subnet_policy(g, SPOKE("spoke-c"), "workload"));
	ck_assert_ptr_null(topology_find_vnet(g, VNET("rg-hub-1", "hub-1"))->pe_vnet_policies);
	ck_assert_str_eq(config_scale(g), "HighScale");
	topology_free(g);
	intent_free(in);
	topology_free(t);
}
END_TEST

START_TEST(test_a_selector_matching_nothing_is_an_error_naming_the_pointer)
{
	struct topology *t = estate();
	struct intent *in = NULL;
	struct nw_err err = { 0 };

	ck_assert_int_eq(intent_load_file(&in, test_data_path("intent/bad-no-match.json"), &err), 0);
	err = expand_error(in, t);
	ck_assert_msg(strstr(err.msg, "bad-no-match.json: /changes/1/members: matches no VNet") != NULL,
	    "%s", err.msg);
	intent_free(in);

	in = intent_ok("{ \"kind\": \"gateway-standard-ip\", \"gateways\": { \"names\": [\"vpn-*\"] } }",
	    NULL);
	err = expand_error(in, t);
	assert_msg_has(&err, "intent.json: /changes/0/gateways: matches no gateway");
	intent_free(in);

	in = intent_ok("{ \"kind\": \"summarize-gateway-prefixes\", \"hubs\": { \"names\": [\"nohub\"] } }",
	    NULL);
	err = expand_error(in, t);
	assert_msg_has(&err, "intent.json: /changes/0/hubs: matches no VNet");
	intent_free(in);

	in = intent_ok("{ \"kind\": \"summarize-gateway-prefixes\", \"hubs\": { \"names\": [\"spoke-*\"] } }",
	    NULL);
	err = expand_error(in, t);
	assert_msg_has(&err, "intent.json: /changes/0/hubs: matches no VNet with a gateway");
	intent_free(in);
	topology_free(t);
}
END_TEST

START_TEST(test_a_mesh_of_only_hubs_is_an_error)
{
	struct topology *t = estate();
	struct intent *in = intent_ok(MESH("{ \"names\": [\"hub-*\"] }", ""), NULL);
	struct nw_err err = expand_error(in, t);

	assert_msg_has(&err, "intent.json: /changes/0/members: matches no VNet that can join the mesh: "
	    "2 hubs (VNets with a gateway or tagged role=hub) and 0 spokes whose traffic");
	intent_free(in);
	topology_free(t);
}
END_TEST

/* ------------------------------------------------------------------ */
/* gateway-standard-ip                                                 */

#define PIP1 PFX "rg-hub-1/providers/Microsoft.Network/publicIPAddresses/pip-ergw-1"
#define PIP2 PFX "rg-hub-2/providers/Microsoft.Network/publicIPAddresses/pip-ergw-2"
#define GW1 PFX "rg-hub-1/providers/Microsoft.Network/virtualNetworkGateways/ergw-1"
#define GW2 PFX "rg-hub-2/providers/Microsoft.Network/virtualNetworkGateways/ergw-2"

#define CONN1 PFX "rg-hub-1/providers/Microsoft.Network/connections/conn-1"

START_TEST(test_an_expressroute_migration_ends_on_a_new_tagged_gateway_named_as_azure_names_it)
{
	struct topology *t = estate(), *g;
	struct intent *in = intent_ok("{ \"kind\": \"gateway-standard-ip\", \"gateways\": { \"all\": true } }",
	    NULL);
	const struct topo_gateway *gw;
	const struct topo_connection *c;
	const json_t *ip;

	g = expand(in, t);
	/* learn expressroute/gateway-migration: the old gateway and its connections are deleted */
	ck_assert_ptr_null(topology_find(g, GW1));
	ck_assert_ptr_null(topology_find(g, CONN1));
	gw = topology_find(g, GW1 "_migrate")->view;
	ck_assert_str_eq(gw->res->name, "ergw-1_migrate");
	ck_assert_str_eq(json_path_str(gw->res->json, "tags", "CreatedBy", NULL), "GatewaySKUMigration");
	ck_assert_str_eq(gw->migration_state, "Succeeded");
	ck_assert_str_eq(gw->migration_phase, "CommitSucceeded");
	ck_assert_str_eq(gw->sku, gwm_az_sku(((const struct topo_gateway *)topology_find(t, GW1)->view)->sku));
	ck_assert_ptr_ne(strstr(gw->sku, "AZ"), NULL);
	ck_assert_str_eq(gw->subnet_id, ((const struct topo_gateway *)topology_find(t, GW1)->view)->subnet_id);
	ip = json_array_get(json_path(gw->res->json, "properties", "ipConfigurations", NULL), 0);
	ck_assert_str_eq(json_str(ip, "id"), GW1 "_migrate/ipConfigurations/default");
	ck_assert_ptr_null(json_path(ip, "properties", "publicIPAddress", NULL));
	c = topology_find(g, CONN1 "_migrate")->view;
	ck_assert_str_eq(c->gateway_id, GW1 "_migrate");
	ck_assert_str_eq(c->peer_id, ((const struct topo_connection *)topology_find(t, CONN1)->view)->peer_id);
	/* the Basic public IP is left as it was: Learn does not say the migration touches it */
	ck_assert(json_equal(res_json(g, PIP1), res_json(t, PIP1)));
	/* ergw-2 is already on Standard: nothing to migrate */
	gw = topology_find(g, GW2)->view;
	ck_assert_str_eq(gw->migration_phase, "None");
	ck_assert(json_equal(res_json(g, PIP2), res_json(t, PIP2)));
	topology_free(g);
	intent_free(in);
	topology_free(t);
}
END_TEST

START_TEST(test_new_names_name_the_new_expressroute_gateway)
{
	struct topology *t = estate(), *g;
	struct intent *in = intent_ok("{ \"kind\": \"gateway-standard-ip\", \"gateways\": { \"all\": true },"
	    " \"newNames\": { \"ERGW-1\": \"ergw-1-az\" } }", NULL);

	g = expand(in, t);
	ck_assert_ptr_nonnull(topology_find(g, PFX "rg-hub-1/providers/Microsoft.Network/"
	    "virtualNetworkGateways/ergw-1-az"));
	ck_assert_ptr_null(topology_find(g, GW1 "_migrate"));
	ck_assert_ptr_null(topology_find(g, GW1));
	/* the connections keep Azure's own naming */
	ck_assert_str_eq(((const struct topo_connection *)topology_find(g, CONN1 "_migrate")->view)->gateway_id,
	    PFX "rg-hub-1/providers/Microsoft.Network/virtualNetworkGateways/ergw-1-az");
	topology_free(g);
	intent_free(in);
	topology_free(t);
}
END_TEST

/* The estate with ergw-1 made a VPN gateway (VpnGw2) on its Basic public IP. */
static struct topology *
vpn_estate(void)
{
	json_error_t je;
	json_t *doc = json_load_file(test_data_path("intent/estate.json"), 0, &je), *r;
	struct topology *t = NULL;
	struct nw_err err = { 0 };
	size_t i;

	ck_assert_ptr_nonnull(doc);
	json_array_foreach(json_object_get(doc, "resources"), i, r)
		if (strcasecmp(json_str(r, "id"), GW1) == 0) {
			json_t *p = json_object_get(r, "properties");
			json_object_set_new(p, "gatewayType", json_string("Vpn"));
			json_object_set_new(p, "vpnType", json_string("RouteBased"));
			json_object_set_new(p, "sku", json_pack("{s:s, s:s}", "name", "VpnGw2", "tier", "VpnGw2"));
		}
	ck_assert_msg(topology_load_json(&t, doc, "vpn.json", &err) == 0, "%s", err.msg);
	return t;
}

START_TEST(test_a_vpn_gateway_migrates_in_place_keeping_its_address)
{
	struct topology *t = vpn_estate(), *g;
	struct intent *in = intent_ok("{ \"kind\": \"gateway-standard-ip\", \"gateways\": { \"all\": true } }",
	    NULL);
	const struct topo_public_ip *ip;
	const struct topo_gateway *gw;

	g = expand(in, t);
	/* learn vpn-gateway/basic-public-ip-migrate-howto: same gateway, same address */
	ip = topology_find(g, PIP1)->view;
	ck_assert_str_eq(ip->sku_name, "Standard");
	ck_assert_str_eq(ip->sku_tier, "Regional");
	ck_assert_str_eq(ip->allocation, "Static");
	ck_assert_str_eq(ip->ip_address, "203.0.113.10");
	ck_assert_str_eq(ip->migration_phase, "Committed");
	gw = topology_find(g, GW1)->view;
	ck_assert_str_eq(gw->migration_phase, "CommitSucceeded");
	ck_assert_str_eq(gw->sku, "VpnGw2AZ");
	ck_assert_ptr_null(topology_find(g, GW1 "_migrate"));
	ck_assert_ptr_nonnull(topology_find(g, CONN1));
	topology_free(g);
	intent_free(in);
	topology_free(t);
}
END_TEST

START_TEST(test_new_names_that_cannot_be_used_are_rejected_with_their_pointer)
{
	struct topology *t = estate(), *v = vpn_estate();
	struct intent *in;
	struct nw_err err;

	err = load_error("{ \"kind\": \"gateway-standard-ip\", \"gateways\": { \"all\": true },"
	    " \"newNames\": [\"x\"] }", NULL);
	assert_msg_has(&err, "intent.json: /changes/0/newNames: expected an object");
	err = load_error("{ \"kind\": \"gateway-standard-ip\", \"gateways\": { \"all\": true },"
	    " \"newNames\": { \"ergw-1\": \"-bad name\" } }", NULL);
	assert_msg_has(&err, "intent.json: /changes/0/newNames/ergw-1: \"-bad name\" is not a valid "
	    "gateway name");
	err = load_error("{ \"kind\": \"gateway-standard-ip\", \"gateways\": { \"all\": true },"
	    " \"newNames\": { \"ergw-1\": 3 } }", NULL);
	assert_msg_has(&err, "intent.json: /changes/0/newNames/ergw-1: expected the new gateway's name");
	in = intent_ok("{ \"kind\": \"gateway-standard-ip\", \"gateways\": { \"names\": [\"ergw-2\"] },"
	    " \"newNames\": { \"ergw-1\": \"ergw-1-az\" } }", NULL);
	err = expand_error(in, t);
	assert_msg_has(&err, "intent.json: /changes/0/newNames/ergw-1: names no gateway this change migrates");
	intent_free(in);
	/* the new gateway cannot take the name of one that exists (here: itself) */
	in = intent_ok("{ \"kind\": \"gateway-standard-ip\", \"gateways\": { \"all\": true },"
	    " \"newNames\": { \"ergw-1\": \"ERGW-1\" } }", NULL);
	err = expand_error(in, t);
	assert_msg_has(&err, "intent.json: /changes/0/newNames/ergw-1: the new gateway of ergw-1 would be "
	    "ERGW-1, which already exists");
	intent_free(in);
	in = intent_ok("{ \"kind\": \"gateway-standard-ip\", \"gateways\": { \"all\": true },"
	    " \"newNames\": { \"ergw-1\": \"ergw-1-az\" } }", NULL);
	err = expand_error(in, v);
	assert_msg_has(&err, "intent.json: /changes/0/newNames/ergw-1: ergw-1 is a Vpn gateway: it "
	    "migrates in place and keeps its name");
	intent_free(in);
	topology_free(t);
	topology_free(v);
}
END_TEST

START_TEST(test_only_selected_gateways_migrate)
{
	struct topology *t = estate(), *g;
	struct intent *in = intent_ok("{ \"kind\": \"gateway-standard-ip\", \"gateways\": "
	    "{ \"names\": [\"ERGW-2\"] } }", NULL);

	g = expand(in, t);
	ck_assert_str_eq(((const struct topo_public_ip *)topology_find(g, PIP1)->view)->sku_name,
	    "Basic");
	ck_assert_str_eq(((const struct topo_gateway *)topology_find(g, GW1)->view)->migration_phase,
	    "None");
	topology_free(g);
	intent_free(in);
	topology_free(t);
}
END_TEST

/* ------------------------------------------------------------------ */
/* summarize-gateway-prefixes                                          */

static void
summaries(const struct topology *g, const char *hub_rg, const char *hub, char *buf, size_t size)
{
	char id[512];
	const struct topo_vnet *v;
	size_t i;

	snprintf(id, sizeof(id), PFX "%s/providers/Microsoft.Network/virtualNetworks/%s", hub_rg, hub);
	v = topology_find_vnet(g, id);
	ck_assert_ptr_nonnull(v);
	buf[0] = '\0';
	for (i = 0; i < v->summarized.n; i++) {
		char c[CIDR_STRLEN];
		cidr_format(&v->summarized.v[i], c);
		if (i > 0)
			strncat(buf, " ", size - strlen(buf) - 1);
		strncat(buf, c, size - strlen(buf) - 1);
	}
}

START_TEST(test_summaries_are_minimal_and_avoid_on_premises_and_other_hubs)
{
	struct topology *t = estate(), *g;
	struct intent *in = intent_ok("{ \"kind\": \"summarize-gateway-prefixes\", "
	    "\"hubs\": { \"tags\": { \"role\": \"hub\" } }, \"prefixes\": \"auto\" }", NULL);
	char got[256];

	g = expand(in, t);
	/* hub-1 advertises 10.1.0-3.0/24 and 10.1.6-7.0/24; on-premises owns 10.1.4.0/24, so
	 * 10.1.0.0/21 is out and two prefixes are the fewest; neither claims unused space */
	summaries(g, "rg-hub-1", "hub-1", got, sizeof(got));
	ck_assert_str_eq(got, "10.1.0.0/22 10.1.6.0/23");
	summaries(g, "rg-hub-2", "hub-2", got, sizeof(got));
	ck_assert_str_eq(got, "10.2.0.0/23");
	topology_free(g);
	intent_free(in);
	topology_free(t);
}
END_TEST

START_TEST(test_summaries_never_contain_a_forbidden_prefix_on_a_synthesized_estate)
{
	struct topology *t = test_topology_doc(synth(3, 20, 0, 0, false), "<synth>"), *g;
	struct intent *in = intent_ok("{ \"kind\": \"summarize-gateway-prefixes\", "
	    "\"hubs\": { \"all\": true } }", NULL);
	size_t i, j, k, l;

	g = expand(in, t);
	for (i = 0; i < g->nvnets; i++) {
		const struct topo_vnet *hub = &g->vnets[i];
		const struct topo_vnet *cur = topology_find_vnet(t, hub->res->id);
		if (hub->ngateways == 0) {
			ck_assert_uint_eq(hub->summarized.n, 0);
			continue;
		}
		ck_assert_uint_eq(hub->summarized.n, 1); /* one block per synth hub */
		for (j = 0; j < hub->summarized.n; j++) {
			const struct cidr *s = &hub->summarized.v[j];
			/* no on-premises prefix, no other VNet that is not behind this hub */
			for (k = 0; k < g->ncircuits; k++)
				for (l = 0; l < g->circuits[k].nroutes; l++)
					ck_assert(!cidr_contains(s, &g->circuits[k].routes[l].prefix));
			for (k = 0; k < g->nvnets; k++) {
				const struct topo_vnet *o = &g->vnets[k];
				bool behind = o == hub;
				for (l = 0; l < o->npeerings; l++)
					behind = behind || (o->peerings[l].remote == hub &&
					    o->peerings[l].use_remote_gateways);
				for (l = 0; !behind && l < o->prefixes.n; l++)
					ck_assert(!cidr_overlaps(s, &o->prefixes.v[l]));
			}
		}
		/* the hub's own space is covered */
		for (j = 0; j < cur->prefixes.n; j++)
			ck_assert(cidr_contains(&hub->summarized.v[0], &cur->prefixes.v[j]));
	}
	topology_free(g);
	intent_free(in);
	topology_free(t);
}
END_TEST

START_TEST(test_the_prefix_floor_limits_how_far_summaries_grow)
{
	struct topology *t = estate(), *g;
	struct intent *in = intent_ok("{ \"kind\": \"summarize-gateway-prefixes\", "
	    "\"hubs\": { \"names\": [\"hub-1\"] }, \"minPrefixLength\": { \"ipv4\": 23 } }", NULL);
	char got[256];

	g = expand(in, t);
	summaries(g, "rg-hub-1", "hub-1", got, sizeof(got));
	ck_assert_str_eq(got, "10.1.0.0/23 10.1.2.0/23 10.1.6.0/23");
	/* hub-2 was not selected */
	summaries(g, "rg-hub-2", "hub-2", got, sizeof(got));
	ck_assert_str_eq(got, "");
	topology_free(g);
	intent_free(in);
	topology_free(t);
}
END_TEST

START_TEST(test_a_summary_that_must_cover_an_on_premises_prefix_names_both)
{
	struct topology *t, *g = NULL;
	json_t *doc;
	struct intent *in;
	struct nw_err err;
	json_t *routes;
	const char *circuit = PFX "rg-conn/providers/Microsoft.Network/expressRouteCircuits/er-1";

	/* on-premises also announces spoke-b's exact prefix: nothing can cover it */
	t = estate();
	doc = json_deep_copy(t->root);
	routes = json_path(doc, "observed", "circuitRoutes", circuit, NULL);
	json_array_append_new(routes, json_pack("{s:s}", "network", "10.1.2.0/24"));
	topology_free(t);
	t = test_topology_doc(doc, "<synth>");
	in = intent_ok("{ \"kind\": \"summarize-gateway-prefixes\", \"hubs\": { \"names\": [\"hub-1\"] } }",
	    NULL);
	err = expand_error(in, t);
	assert_msg_has(&err, "intent.json: /changes/0/hubs: cannot summarize what hub hub-1 advertises");
	assert_msg_has(&err, "10.1.2.0/24");
	intent_free(in);

	in = intent_ok("{ \"kind\": \"summarize-gateway-prefixes\", \"hubs\": { \"names\": [\"hub-2\"] },"
	    " \"prefixes\": [\"10.0.0.0/12\"] }", NULL);
	err = expand_error(in, t);
	assert_msg_has(&err, "intent.json: /changes/0/prefixes/0: hub hub-2: summary 10.0.0.0/12 would "
	    "cover 10.1.");
	intent_free(in);

	in = intent_ok("{ \"kind\": \"summarize-gateway-prefixes\", \"hubs\": { \"names\": [\"hub-2\"] },"
	    " \"prefixes\": [\"10.2.0.0/23\"] }", NULL);
	g = expand(in, t);
	ck_assert_uint_eq(topology_find_vnet(g, VNET("rg-hub-2", "hub-2"))->summarized.n, 1);
	topology_free(g);
	intent_free(in);
	topology_free(t);
}
END_TEST

/* ------------------------------------------------------------------ */
/* the target as a whole                                               */

START_TEST(test_target_carries_rollout_and_changes_verbatim_and_keeps_id_casing)
{
	struct topology *t = estate(), *g;
	struct intent *in = NULL;
	struct nw_err err = { 0 };
	char upper[512];
	size_t i;

	ck_assert_int_eq(intent_load_file(&in, test_data_path("intent/good-full.json"), &err), 0);
	g = expand(in, t);
	ck_assert(json_equal(json_object_get(g->root, "x-netwave-rollout"),
	    json_object_get(in->root, "rollout")));
	ck_assert(json_equal(json_object_get(g->root, "x-netwave-changes"),
	    json_object_get(in->root, "changes")));
	topology_free(g);
	intent_free(in);

	/* the network manager named in another casing keeps the current casing */
	snprintf(upper, sizeof(upper), "%s", NM1);
	for (i = 0; upper[i] != '\0'; i++)
		if (upper[i] >= 'a' && upper[i] <= 'z')
			upper[i] = (char)(upper[i] - 32);
	{
		char change[2048];
		snprintf(change, sizeof(change), "{ \"kind\": \"avnm-mesh\", \"networkManager\": "
		    "{ \"id\": \"%s\" }, \"networkGroup\": \"mesh\", \"members\": { \"all\": true } }",
		    upper);
		in = intent_ok(change, NULL);
	}
	g = expand(in, t);
	ck_assert_uint_eq(count_type(g, TYPE_NETWORK_MANAGER), 1);
	ck_assert_str_eq(topology_find(g, NM1 "/networkGroups/mesh")->id, NM1 "/networkGroups/mesh");
	ck_assert_ptr_nonnull(json_object_get(json_path(g->root, "observed", "avnmDeployments", NULL),
	    NM1));
	ck_assert_ptr_null(json_object_get(g->root, "x-netwave-rollout"));
	topology_free(g);
	intent_free(in);
	topology_free(t);
}
END_TEST

static char *
target_bytes(const char *intent_changes, json_t *cur_doc)
{
	struct topology *cur = test_topology_doc(cur_doc, "<synth>");
	struct intent *in = intent_ok(intent_changes, "{ \"waves\": [ { \"name\": \"all\" } ] }");
	struct nw_err err = { 0 };
	json_t *doc = NULL;
	char *s;

	ck_assert_msg(intent_target(&doc, in, cur, &err) == 0, "%s", err.msg);
	s = topology_dump_json(doc);
	json_decref(doc);
	intent_free(in);
	topology_free(cur);
	return s;
}

START_TEST(test_target_is_deterministic)
{
	const char *changes =
	    "{ \"kind\": \"avnm-mesh\", \"networkManager\": { \"id\": \"/subscriptions/x/resourceGroups/"
	    "rg/providers/Microsoft.Network/networkManagers/nm\" }, \"networkGroup\": \"g\","
	    " \"members\": { \"all\": true } },"
	    "{ \"kind\": \"gateway-standard-ip\", \"gateways\": { \"all\": true } },"
	    "{ \"kind\": \"summarize-gateway-prefixes\", \"hubs\": { \"all\": true } }";
	char *a = target_bytes(changes, synth(2, 10, 2, 2, true));
	char *b = target_bytes(changes, synth(2, 10, 2, 2, true));

	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_the_diff_of_a_target_touches_only_what_the_intent_asks)
{
	struct topology *t = estate(), *g;
	struct intent *in = NULL;
	struct nw_err err = { 0 };
	struct diff d = { 0 };
	size_t i;

	ck_assert_int_eq(intent_load_file(&in, test_data_path("intent/good-full.json"), &err), 0);
	g = expand(in, t);
	ck_assert_int_eq(diff_topologies(&d, t, g, &err), 0);
	for (i = 0; i < d.n; i++) {
		const struct diff_entry *e = &d.v[i];
		/* never a resource of the inspected spoke, never a removal of a resource */
		ck_assert_msg(strcasecmp(e->resource_id, SPOKE("spoke-c")) != 0, "%s %s",
		    e->resource_id, e->pointer);
		/* but for the ExpressRoute gateway the migration replaces, and its connection */
		ck_assert_msg(!(e->kind == DIFF_REMOVED && e->pointer[0] == '\0') ||
		    strcasecmp(e->resource_id, GW1) == 0 || strcasecmp(e->resource_id, CONN1) == 0,
		    "%s removed", e->resource_id);
		ck_assert_msg(strcmp(e->pointer, "/x-netwave-rollout") != 0, "%s", e->pointer);
	}
	ck_assert_ptr_nonnull(d.n > 0 ? &d.v[0] : NULL);
	diff_free(&d);
	topology_free(g);
	intent_free(in);
	topology_free(t);
}
END_TEST

/* ------------------------------------------------------------------ */
/* synthesized estates                                                 */

START_TEST(test_synth_estate_mesh_leaves_udr_spokes_out_and_deploys_in_member_regions)
{
	json_t *doc = synth(2, 20, 2, 3, true);
	struct topology *t, *g;
	struct intent *in;
	char cc_id[512], existing[512], nm_id[512];
	size_t i, inspected = 0, members = 0;

	/* an existing configuration of the same manager already deployed in eastus, under a
	 * key spelled in another casing */
	t = test_topology_doc(json_deep_copy(doc), "<synth>");
	snprintf(existing, sizeof(existing), "/subscriptions/%s/resourceGroups/rg-net/providers/"
	    "Microsoft.Network/networkManagers/nm-synth/connectivityConfigurations/legacy-hub-spoke",
	    t->vnets[0].res->subscription);
	snprintf(nm_id, sizeof(nm_id), "/subscriptions/%s/resourceGroups/rg-net/providers/"
	    "Microsoft.Network/networkManagers/NM-SYNTH", t->vnets[0].res->subscription);
	topology_free(t);
	json_object_set_new(json_object_get(doc, "observed"), "avnmDeployments",
	    json_pack("{s:{s:{s:[s]}}}", nm_id, "eastus", "Connectivity", existing));
	t = test_topology_doc(doc, "<synth>");
	in = synth_mesh_intent(t, "");
	g = expand(in, t);
	for (i = 0; i < t->nvnets; i++) {
		const struct topo_vnet *v = &t->vnets[i];
		char smid[512];
		bool is_member;
		if (topology_tag(v->res, "role") == NULL || strcmp(topology_tag(v->res, "role"), "spoke") != 0)
			continue;
		snprintf(smid, sizeof(smid), "/subscriptions/%s/resourceGroups/rg-net/providers/"
		    "Microsoft.Network/networkManagers/nm-synth/networkGroups/all-spokes/staticMembers/"
		    "sm-%s", v->res->subscription, v->res->name);
		is_member = topology_find(g, smid) != NULL;
		/* a spoke stays out exactly when synth routed it through the firewall */
		ck_assert_msg(is_member == (topology_tag(v->res, "inspection") == NULL), "%s",
		    v->res->name);
		if (is_member)
			members++;
		else
			inspected++;
	}
	ck_assert_uint_eq(inspected, 3);
	ck_assert_uint_eq(members, 37);
	ck_assert_uint_eq(count_type(g, TYPE_STATIC_MEMBER), 37);
	/* deployed in both member regions; the existing eastus configuration is kept, and the
	 * manager's key keeps the casing the observations used */
	snprintf(cc_id, sizeof(cc_id), "/subscriptions/%s/resourceGroups/rg-net/providers/"
	    "Microsoft.Network/networkManagers/nm-synth/connectivityConfigurations/all-spokes-mesh",
	    t->vnets[0].res->subscription);
	ck_assert_uint_eq(json_array_size(deployed(g, nm_id, "eastus")), 2);
	ck_assert(list_has(deployed(g, nm_id, "eastus"), existing));
	ck_assert(list_has(deployed(g, nm_id, "eastus"), cc_id));
	ck_assert_uint_eq(json_array_size(deployed(g, nm_id, "westus")), 1);
	ck_assert(list_has(deployed(g, nm_id, "westus"), cc_id));
	ck_assert_str_eq(json_path_str(res_json(g, cc_id), "properties", "isGlobal", NULL), "True");
	/* 37 members and 74 endpoints: under both thresholds */
	ck_assert_str_eq(synth_feature(g), "NotRegistered");
	ck_assert_str_eq(config_scale(g), "Standard");
	topology_free(g);
	intent_free(in);
	topology_free(t);
}
END_TEST

START_TEST(test_more_than_250_members_register_the_high_scale_feature)
{
	struct topology *t, *g;
	struct intent *in;

	t = test_topology_doc(synth(1, 250, 0, 0, false), "<synth>");
	in = synth_mesh_intent(t, "");
	g = expand(in, t);
	ck_assert_uint_eq(count_type(g, TYPE_STATIC_MEMBER), 250);
	ck_assert_str_eq(synth_feature(g), "NotRegistered");
	topology_free(g);
	intent_free(in);
	topology_free(t);

	t = test_topology_doc(synth(2, 126, 0, 0, false), "<synth>");
	in = synth_mesh_intent(t, "");
	g = expand(in, t);
	ck_assert_uint_eq(count_type(g, TYPE_STATIC_MEMBER), 252);
	ck_assert_str_eq(synth_feature(g), "Registered");
	topology_free(g);
	intent_free(in);
	topology_free(t);
}
END_TEST

START_TEST(test_hspe_follows_the_2000_per_group_threshold)
{
	struct topology *t, *g;
	struct intent *in;
	const struct topo_vnet *v;

	t = test_topology_doc(synth(1, 20, 100, 0, false), "<synth>"); /* exactly 2,000 */
	in = synth_mesh_intent(t, "");
	g = expand(in, t);
	ck_assert_str_eq(config_scale(g), "Standard");
	v = topology_find_vnet_by_name(g, "spoke-01-0001");
	ck_assert_str_eq(v->pe_vnet_policies, "Disabled");
	topology_free(g);
	intent_free(in);
	topology_free(t);

	t = test_topology_doc(synth(1, 21, 96, 0, false), "<synth>"); /* 2,016 */
	in = synth_mesh_intent(t, "");
	g = expand(in, t);
	ck_assert_str_eq(config_scale(g), "HighScale");
	v = topology_find_vnet_by_name(g, "spoke-01-0021");
	ck_assert_str_eq(v->pe_vnet_policies, "Basic");
	ck_assert_str_eq(subnet_policy(g, v->res->id, "endpoints"), "Enabled");
	ck_assert_str_eq(subnet_policy(g, v->res->id, "workload"), "Disabled");
	/* the hub holds no endpoints and is no member */
	ck_assert_str_eq(topology_find_vnet_by_name(g, "hub-01")->pe_vnet_policies, "Disabled");
	topology_free(g);
	intent_free(in);
	topology_free(t);
}
END_TEST

START_TEST(test_hspe_follows_the_1000_per_vnet_threshold)
{
	static const unsigned extra[] = { 999, 1000 }; /* with synth's one: 1,000 and 1,001 */
	size_t i;

	for (i = 0; i < 2; i++) {
		json_t *doc = synth(1, 2, 1, 0, false);
		struct topology *t, *g;
		struct intent *in;
		char subnet[512];

		t = test_topology_doc(json_deep_copy(doc), "<synth>");
		snprintf(subnet, sizeof(subnet), "%s/subnets/endpoints",
		    topology_find_vnet_by_name(t, "spoke-01-0001")->res->id);
		topology_free(t);
		add_private_endpoints(doc, subnet, extra[i]);
		t = test_topology_doc(doc, "<synth>");
		ck_assert_uint_eq(topology_find_vnet_by_name(t, "spoke-01-0001")->nprivate_endpoints,
		    extra[i] + 1);
		in = synth_mesh_intent(t, "");
		g = expand(in, t);
		ck_assert_str_eq(config_scale(g), i == 0 ? "Standard" : "HighScale");
		ck_assert_str_eq(topology_find_vnet_by_name(g, "spoke-01-0002")->pe_vnet_policies,
		    i == 0 ? "Disabled" : "Basic");
		topology_free(g);
		intent_free(in);
		topology_free(t);
	}
}
END_TEST

int
main(void)
{
	const TTest *const intent_tests[] = {
		TEST_CASE("load", 0),
		test_the_documented_example_loads_with_its_rollout,
		test_an_unknown_change_kind_is_named_with_its_pointer_and_the_kinds,
		test_an_unknown_key_is_named_with_its_pointer_and_the_keys_expected,
		test_wrong_types_are_named_with_pointer_and_what_was_found,
		test_a_syntax_error_gives_line_and_column,
		test_duplicate_keys_are_rejected_with_their_place,
		test_a_document_that_is_not_an_intent_says_what_it_is,
		test_empty_selectors_and_missing_selectors_are_rejected,
		test_two_meshes_of_one_group_and_duplicate_wave_names_are_rejected,
		test_durations_take_units_and_reject_the_rest,
		TEST_CASE("selectors", 0),
		test_tags_select_by_value_and_star_selects_by_presence,
		test_names_are_case_insensitive_globs,
		test_ids_and_resource_groups_compare_case_insensitively,
		test_locations_ignore_case_and_spaces,
		test_all_selects_everything_and_keys_combine_with_and,
		TEST_CASE("expansion", 0),
		test_mesh_members_leave_out_hubs_and_spokes_that_stay_inspected,
		test_mesh_adds_group_static_members_and_configuration,
		test_mesh_keeps_an_existing_manager_and_adds_connectivity_access_and_scope,
		test_mesh_adds_an_absent_manager_in_the_first_members_region_with_the_scope,
		test_mesh_is_global_when_members_span_regions_or_the_intent_says_so,
		test_mesh_deployments_keep_configurations_already_active_in_each_region,
		test_mesh_decommission_removes_member_peerings_and_hairpin_only_routes,
		test_hspe_when_asked_sets_subnet_and_vnet_policies_of_members_only,
		test_a_selector_matching_nothing_is_an_error_naming_the_pointer,
		test_a_mesh_of_only_hubs_is_an_error,
		test_an_expressroute_migration_ends_on_a_new_tagged_gateway_named_as_azure_names_it,
		test_new_names_name_the_new_expressroute_gateway,
		test_a_vpn_gateway_migrates_in_place_keeping_its_address,
		test_new_names_that_cannot_be_used_are_rejected_with_their_pointer,
		test_only_selected_gateways_migrate,
		test_summaries_are_minimal_and_avoid_on_premises_and_other_hubs,
		test_the_prefix_floor_limits_how_far_summaries_grow,
		test_a_summary_that_must_cover_an_on_premises_prefix_names_both,
		test_target_carries_rollout_and_changes_verbatim_and_keeps_id_casing,
		test_the_diff_of_a_target_touches_only_what_the_intent_asks,
		TEST_CASE("synthesized", 120),
		test_summaries_never_contain_a_forbidden_prefix_on_a_synthesized_estate,
		test_target_is_deterministic,
		test_synth_estate_mesh_leaves_udr_spokes_out_and_deploys_in_member_regions,
		test_more_than_250_members_register_the_high_scale_feature,
		test_hspe_follows_the_2000_per_group_threshold,
		test_hspe_follows_the_1000_per_vnet_threshold,
		NULL,
	};

	return test_main("intent", intent_tests);
}
