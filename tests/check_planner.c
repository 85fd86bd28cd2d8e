/*
 * Check suite for plan/planner and plan/sha256: SHA-256 against the FIPS
 * 180-4 vectors and the fingerprints made with it; then one test per rule
 * of the planner (issue 3): the 250 and 5,000 member thresholds, the
 * 2,000/1,000 and 20,000/5,000 private endpoint thresholds, overlap, a VNet
 * already in two connected groups, goal-state commits that keep what is
 * active, spokes that stay inspected, gateways sharing a circuit one at a
 * time, summaries that are minimal and never cover on-premises, wave
 * assignment with caps and overflow, waves that would cut spokes off, and
 * differences no procedure supports.  Inputs come from synth_generate and
 * intent_target, or from small estates built here in JSON.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <check.h>

#include "plan/cidr.h"
#include "plan/intent.h"
#include "plan/jsonutil.h"
#include "plan/planner.h"
#include "plan/sha256.h"
#include "plan/synth.h"
#include "plan/topology.h"
#include "tests/testutil.h"

#define SUB "00000000-0000-4000-8000-0000000000aa"
#define RG "/subscriptions/" SUB "/resourceGroups/rg-net/providers/Microsoft.Network/"
#define NM RG "networkManagers/nm-1"
#define NG NM "/networkGroups/g-mesh"
#define CC NM "/connectivityConfigurations/g-mesh-mesh"

/* ------------------------------------------------------------------ */
/* helpers                                                             */

static json_t *
synth_doc(unsigned hubs, unsigned spokes, unsigned pe, unsigned udr)
{
	struct synth_opts o = { .hubs = hubs, .spokes_per_hub = spokes, .pe_per_spoke = pe,
		.udr_spokes = udr, .seed = 5 };
	struct nw_err err = { 0 };
	json_t *doc = NULL;

	ck_assert_msg(synth_generate(&doc, &o, &err) == 0, "synth: %s", err.msg);
	return doc;
}

/* The target an intent expands to (new document). */
static json_t *
expand(const struct topology *cur, const char *text)
{
	struct intent *in = NULL;
	struct nw_err err = { 0 };
	json_t *doc = NULL;

	ck_assert_msg(intent_load_buffer(&in, text, strlen(text), "intent.json", &err) == 0, "intent: %s",
	    err.msg);
	ck_assert_msg(intent_target(&doc, in, cur, &err) == 0, "target: %s", err.msg);
	intent_free(in);
	return doc;
}

/* Plans cur -> tgt; *rc gets the status, the plan is returned (never NULL). */
static json_t *
plan_of(const struct topology *cur, const struct topology *tgt, int *rc, struct nw_err *err)
{
	struct planner_opts o = { .now = 1795377600, .current_source = "current.json",
		.target_source = "target.json" };
	json_t *plan = NULL;

	*rc = planner_plan(&plan, cur, tgt, &o, err);
	ck_assert_msg(plan != NULL, "no plan: %s", err->msg);
	return plan;
}

/* Plans and expects no blocker. */
static json_t *
plan_ok(const struct topology *cur, const struct topology *tgt)
{
	struct nw_err err = { 0 };
	int rc;
	json_t *plan = plan_of(cur, tgt, &rc, &err);

	ck_assert_msg(rc == 0, "plan blocked: %s", err.msg);
	ck_assert_int_eq(json_array_size(json_object_get(plan, "blockers")), 0);
	return plan;
}

static const json_t *
find_code(const json_t *plan, const char *list, const char *code)
{
	return test_json_find(plan, list, "code", code);
}

static const json_t *
wave_named(const json_t *plan, const char *name)
{
	return test_json_find(plan, "waves", "name", name);
}

static size_t
count_action(const json_t *plan, const char *action)
{
	const json_t *w, *s;
	size_t i, k, n = 0;

	json_array_foreach(json_object_get(plan, "waves"), i, w)
		json_array_foreach(json_object_get(w, "steps"), k, s)
			if (strcmp(json_str(s, "action"), action) == 0)
				n++;
	return n;
}

static const json_t *
first_step(const json_t *plan, const char *action)
{
	const json_t *w, *s;
	size_t i, k;

	json_array_foreach(json_object_get(plan, "waves"), i, w)
		json_array_foreach(json_object_get(w, "steps"), k, s)
			if (strcmp(json_str(s, "action"), action) == 0)
				return s;
	return NULL;
}

static void
add(json_t *arr, json_t *v)
{
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(json_array_append_new(arr, v), 0);
}

/* ------------------------------------------------------------------ */
/* A small mesh estate built here: n VNets, each with a subnet holding private endpoints */

struct mest {
	unsigned nvnets;
	unsigned pe_each;         /* private endpoints in every VNet */
	unsigned pe_first;        /* extra ones in the first VNet */
	bool high_scale;          /* connectedGroupPrivateEndpointsScale HighScale */
	bool hspe_ready;          /* target VNets Basic, subnets Enabled */
	const char *feature;      /* target AllowHighScaleConnectedGroup state */
	bool disallow_overlap;
	const char *overlap;      /* a prefix for the second VNet that overlaps the first */
};

static void
vnet_id(char *buf, size_t n, unsigned i)
{
	snprintf(buf, n, RG "virtualNetworks/vnet-%05u", i);
}

static json_t *
mest_vnet(unsigned i, const char *prefix_override, const char *vpol, const char *spol)
{
	char id[256], sid[300], pfx[32], spfx[32];

	vnet_id(id, sizeof(id), i);
	snprintf(sid, sizeof(sid), "%s/subnets/pe", id);
	snprintf(pfx, sizeof(pfx), "10.%u.%u.0/24", 100 + i / 256, i % 256);
	snprintf(spfx, sizeof(spfx), "10.%u.%u.0/25", 100 + i / 256, i % 256);
	if (prefix_override != NULL)
		snprintf(pfx, sizeof(pfx), "%s", prefix_override);
	return json_pack("{s:s, s:s+, s:s, s:s, s:{s:s}, s:{s:{s:[s]}, s:s, s:[{s:s, s:s, s:{s:s, s:s}}]}}",
	    "id", id, "name", "vnet-", strrchr(id, '-') + 1, "type", TYPE_VNET, "location", "eastus",
	    "tags", "role", "spoke", "properties", "addressSpace", "addressPrefixes",
	    pfx, "privateEndpointVNetPolicies", vpol, "subnets", "id", sid, "name", "pe", "properties",
	    "addressPrefix", prefix_override != NULL ? prefix_override : spfx,
	    "privateEndpointNetworkPolicies", spol);
}

static void
mest_docs(const struct mest *m, json_t **cur, json_t **tgt)
{
	json_t *c = json_pack("{s:s, s:[s], s:[], s:{s:{s:s}}}", "format", TOPOLOGY_FORMAT,
	    "subscriptions", SUB, "resources", "observed", "features",
	    "Microsoft.Network/AllowHighScaleConnectedGroup", "NotRegistered");
	json_t *t = json_pack("{s:s, s:[s], s:[], s:{s:{s:s}, s:{s:{s:{s:[s]}}}}}", "format", TOPOLOGY_FORMAT,
	    "subscriptions", SUB, "resources", "observed", "features",
	    "Microsoft.Network/AllowHighScaleConnectedGroup", m->feature ? m->feature : "NotRegistered",
	    "avnmDeployments", NM, "eastus", "Connectivity", CC);
	json_t *cr, *tr;
	unsigned i, k;

	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(t);
	cr = json_object_get(c, "resources");
	tr = json_object_get(t, "resources");
	for (i = 1; i <= m->nvnets; i++) {
		const char *ov = i == 2 ? m->overlap : NULL;
		unsigned npe = m->pe_each + (i == 1 ? m->pe_first : 0);
		char id[256], sm[512];

		add(cr, mest_vnet(i, ov, "Disabled", "Disabled"));
		add(tr, mest_vnet(i, ov, m->hspe_ready ? "Basic" : "Disabled",
		    m->hspe_ready ? "Enabled" : "Disabled"));
		vnet_id(id, sizeof(id), i);
		for (k = 0; k < npe; k++) {
			char pe[300], sid[300];
			json_t *o;

			snprintf(pe, sizeof(pe), RG "privateEndpoints/pe-%u-%u", i, k);
			snprintf(sid, sizeof(sid), "%s/subnets/pe", id);
			o = json_pack("{s:s, s:s, s:s, s:s, s:{s:{s:s}}}", "id", pe, "name", strrchr(pe, '/') + 1,
			    "type", TYPE_PRIVATE_ENDPOINT, "location", "eastus", "properties", "subnet", "id", sid);
			add(cr, json_deep_copy(o));
			add(tr, o);
		}
		snprintf(sm, sizeof(sm), NG "/staticMembers/sm-vnet-%05u", i);
		add(tr, json_pack("{s:s, s:s, s:s, s:{s:s}}", "id", sm, "name", strrchr(sm, '/') + 1, "type",
		    TYPE_STATIC_MEMBER, "properties", "resourceId", id));
	}
	add(tr, json_pack("{s:s, s:s, s:s, s:s, s:{s:{s:[s]}, s:[s]}}", "id", NM, "name", "nm-1", "type",
	    TYPE_NETWORK_MANAGER, "location", "eastus", "properties", "networkManagerScopes",
	    "subscriptions", "/subscriptions/" SUB, "networkManagerScopeAccesses", "Connectivity"));
	add(tr, json_pack("{s:s, s:s, s:s, s:{s:s}}", "id", NG, "name", "g-mesh", "type", TYPE_NETWORK_GROUP,
	    "properties", "memberType", "VirtualNetwork"));
	add(tr, json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s, s:[{s:s, s:s, s:s, s:s}], s:{s:s, s:s, s:s}}}",
	    "id", CC, "name", "g-mesh-mesh", "type", TYPE_CONNECTIVITY_CONFIG, "properties",
	    "connectivityTopology", "Mesh", "isGlobal", "False", "deleteExistingPeering", "False",
	    "appliesToGroups", "networkGroupId", NG, "groupConnectivity", "None", "isGlobal", "False",
	    "useHubGateway", "False", "connectivityCapabilities", "connectedGroupPrivateEndpointsScale",
	    m->high_scale ? "HighScale" : "Standard", "connectedGroupAddressOverlap",
	    m->disallow_overlap ? "Disallowed" : "Allowed", "peeringEnforcement", "Unenforced"));
	*cur = c;
	*tgt = t;
}

/* Plans a mesh estate; returns the plan, *rc the status. */
static json_t *
mest_plan(const struct mest *m, int *rc)
{
	json_t *c, *t, *plan;
	struct topology *cur, *tgt;
	struct nw_err err = { 0 };

	mest_docs(m, &c, &t);
	cur = test_topology_doc(c, "current.json");
	tgt = test_topology_doc(t, "target.json");
	plan = plan_of(cur, tgt, rc, &err);
	topology_free(cur);
	topology_free(tgt);
	return plan;
}

/* ------------------------------------------------------------------ */
/* SHA-256 (FIPS 180-4 examples) and fingerprints                      */

START_TEST(test_sha256_matches_the_fips_180_4_vectors)
{
	static const char m448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	char hex[SHA256_HEX_LEN];

	sha256_hex("abc", 3, hex);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256_hex("", 0, hex);
	ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_hex(m448, strlen(m448), hex);
	ck_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}
END_TEST

START_TEST(test_sha256_of_a_million_a_in_uneven_pieces)
{
	static const char digits[] = "0123456789abcdef";
	uint8_t d[SHA256_DIGEST_LEN];
	char buf[1000], hex[SHA256_HEX_LEN];
	struct sha256 s;
	size_t done = 0, piece = 1;
	int i;

	memset(buf, 'a', sizeof(buf));
	sha256_init(&s);
	/* pieces of 1, 2, ... 999 bytes cross every block boundary position */
	while (done < 1000000) {
		size_t n = piece < 1000000 - done ? piece : 1000000 - done;
		sha256_update(&s, buf, n);
		done += n;
		piece = piece % 999 + 1;
	}
	sha256_final(&s, d);
	for (i = 0; i < SHA256_DIGEST_LEN; i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 15];
	}
	hex[64] = '\0';
	ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

START_TEST(test_fingerprint_is_the_sha256_of_the_canonical_topology_text)
{
	struct topology *t = test_topology_doc(synth_doc(1, 3, 1, 0), "current.json");
	char fp[PLAN_JSON_FINGERPRINT_LEN], hex[SHA256_HEX_LEN], want[PLAN_JSON_FINGERPRINT_LEN];
	struct nw_err err = { 0 };
	char *text = topology_dump(t);

	ck_assert_int_eq(plan_json_fingerprint(fp, t, &err), 0);
	sha256_hex(text, strlen(text), hex);
	snprintf(want, sizeof(want), "sha256:%s", hex);
	ck_assert_str_eq(fp, want);
	free(text);
	topology_free(t);
}
END_TEST

/* ------------------------------------------------------------------ */
/* avnm-mesh, phase 0: thresholds                                      */

START_TEST(test_250_members_need_no_feature_registration)
{
	struct mest m = { .nvnets = 250 };
	int rc;
	json_t *plan = mest_plan(&m, &rc);

	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_null(find_code(plan, "prerequisites", "feature-registration"));
	ck_assert_int_eq(count_action(plan, "register-feature"), 0);
	ck_assert_int_eq(count_action(plan, "add-static-member"), 250);
	json_decref(plan);
}
END_TEST

START_TEST(test_251_members_register_the_high_scale_feature_first)
{
	struct mest m = { .nvnets = 251, .feature = "Registered" };
	const json_t *st, *w;
	int rc;
	json_t *plan = mest_plan(&m, &rc);

	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_nonnull(find_code(plan, "prerequisites", "feature-registration"));
	st = first_step(plan, "register-feature");
	ck_assert_ptr_nonnull(st);
	ck_assert_str_eq(json_path_str(st, "operation", "path", NULL),
	    "/subscriptions/" SUB "/providers/Microsoft.Features/providers/Microsoft.Network/features/"
	    "AllowHighScaleConnectedGroup/register");
	ck_assert_str_eq(json_path_str(st, "inverse", "method", NULL), "POST");
	/* the registration is in the first wave, gated, before any member is added */
	w = json_array_get(json_object_get(plan, "waves"), 0);
	ck_assert_str_eq(json_str(w, "kind"), "prepare");
	ck_assert_str_eq(json_str(json_array_get(json_object_get(w, "steps"), 0), "action"), "register-feature");
	ck_assert_str_eq(json_str(json_array_get(json_object_get(w, "gates"), 0), "kind"), "feature-registered");
	json_decref(plan);
}
END_TEST

START_TEST(test_251_members_without_the_feature_are_blocked)
{
	struct mest m = { .nvnets = 251 };
	const json_t *b;
	int rc;
	json_t *plan = mest_plan(&m, &rc);

	ck_assert_int_eq(rc, NW_EFAIL);
	b = find_code(plan, "blockers", "feature-not-registered");
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(strstr(json_str(b, "message"), "251 VNets"));
	json_decref(plan);
}
END_TEST

START_TEST(test_more_than_5000_members_are_blocked)
{
	struct mest m = { .nvnets = 5001, .feature = "Registered" };
	const json_t *b;
	int rc;
	json_t *plan = mest_plan(&m, &rc);

	ck_assert_int_eq(rc, NW_EFAIL);
	b = find_code(plan, "blockers", "mesh-too-large");
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(strstr(json_str(b, "message"), "5001 VNets"));
	json_decref(plan);
}
END_TEST

START_TEST(test_2000_private_endpoints_need_no_hspe_but_2001_do)
{
	struct mest ok = { .nvnets = 4, .pe_each = 500 };
	struct mest over = { .nvnets = 4, .pe_each = 500, .pe_first = 1 };
	int rc;
	json_t *plan = mest_plan(&ok, &rc);

	ck_assert_int_eq(rc, 0);
	ck_assert_ptr_null(find_code(plan, "prerequisites", "hspe"));
	json_decref(plan);
	plan = mest_plan(&over, &rc);
	ck_assert_int_eq(rc, NW_EFAIL);
	ck_assert_ptr_nonnull(find_code(plan, "prerequisites", "hspe"));
	ck_assert_ptr_nonnull(find_code(plan, "blockers", "hspe-required"));
	json_decref(plan);
}
END_TEST

START_TEST(test_1001_private_endpoints_in_one_vnet_need_hspe)
{
	struct mest m = { .nvnets = 2, .pe_first = 1001 };
	int rc;
	json_t *plan = mest_plan(&m, &rc);

	ck_assert_int_eq(rc, NW_EFAIL);
	ck_assert_ptr_nonnull(find_code(plan, "blockers", "hspe-required"));
	json_decref(plan);
}
END_TEST

START_TEST(test_hspe_sets_subnet_policies_then_the_vnet_inside_the_window)
{
	struct mest m = { .nvnets = 3, .pe_each = 700, .high_scale = true, .hspe_ready = true };
	const json_t *w, *s0, *s1;
	int rc;
	json_t *plan = mest_plan(&m, &rc);

	ck_assert_msg(rc == 0, "blocked");
	ck_assert_ptr_nonnull(find_code(plan, "prerequisites", "hspe"));
	w = wave_named(plan, "hspe-unattached");
	ck_assert_ptr_nonnull(w);
	ck_assert_str_eq(json_str(w, "kind"), "hspe");
	ck_assert(json_is_true(json_object_get(w, "maintenanceWindow")));
	s0 = json_array_get(json_object_get(w, "steps"), 0);
	s1 = json_array_get(json_object_get(w, "steps"), 1);
	ck_assert_str_eq(json_str(s0, "action"), "set-subnet-private-endpoint-policies");
	ck_assert_str_eq(json_str(s1, "action"), "set-vnet-private-endpoint-policies");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(s1, "dependsOn"), 0)),
	    json_str(s0, "id"));
	ck_assert_str_eq(json_path_str(s1, "operation", "body", "properties", "privateEndpointVNetPolicies", NULL),
	    "Basic");
	ck_assert_str_eq(json_path_str(s1, "inverse", "body", "properties", "privateEndpointVNetPolicies", NULL),
	    "Disabled");
	ck_assert(json_is_true(json_object_get(s0, "maintenanceWindow")));
	/* HSPE comes before the first mesh wave */
	ck_assert_int_lt(json_integer_value(json_object_get(w, "index")),
	    json_integer_value(json_object_get(wave_named(plan, "mesh"), "index")));
	json_decref(plan);
}
END_TEST

START_TEST(test_hspe_configuration_with_a_member_not_ready_is_blocked)
{
	struct mest m = { .nvnets = 3, .pe_each = 700, .high_scale = true };
	int rc;
	json_t *plan = mest_plan(&m, &rc);

	ck_assert_int_eq(rc, NW_EFAIL);
	ck_assert_ptr_nonnull(find_code(plan, "blockers", "hspe-not-ready"));
	json_decref(plan);
}
END_TEST

START_TEST(test_more_than_20000_private_endpoints_are_blocked)
{
	struct mest m = { .nvnets = 5, .pe_each = 4000, .pe_first = 1, .high_scale = true,
		.hspe_ready = true };
	const json_t *b;
	int rc;
	json_t *plan = mest_plan(&m, &rc);

	ck_assert_int_eq(rc, NW_EFAIL);
	b = find_code(plan, "blockers", "private-endpoints-over-limit");
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(strstr(json_str(b, "message"), "20001"));
	json_decref(plan);
}
END_TEST

START_TEST(test_more_than_5000_private_endpoints_in_one_vnet_are_blocked)
{
	struct mest m = { .nvnets = 2, .pe_first = 5001, .high_scale = true, .hspe_ready = true };
	const json_t *b;
	int rc;
	json_t *plan = mest_plan(&m, &rc);

	ck_assert_int_eq(rc, NW_EFAIL);
	b = find_code(plan, "blockers", "private-endpoints-over-limit");
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(strstr(json_str(b, "message"), "vnet-00001 has 5001"));
	json_decref(plan);
}
END_TEST

START_TEST(test_overlapping_members_are_reported)
{
	struct mest m = { .nvnets = 3, .overlap = "10.100.1.0/24" };
	const json_t *f;
	int rc;
	json_t *plan;

	/* vnet-00002 takes vnet-00001's space */
	plan = mest_plan(&m, &rc);
	ck_assert_int_eq(rc, 0);
	f = find_code(plan, "findings", "address-overlap");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(strstr(json_str(f, "message"), "vnet-00001"));
	ck_assert_ptr_nonnull(strstr(json_str(f, "message"), "vnet-00002"));
	json_decref(plan);
}
END_TEST

START_TEST(test_overlapping_members_block_when_overlap_is_disallowed)
{
	struct mest m = { .nvnets = 3, .overlap = "10.100.1.0/24", .disallow_overlap = true };
	int rc;
	json_t *plan = mest_plan(&m, &rc);

	ck_assert_int_eq(rc, NW_EFAIL);
	ck_assert_ptr_nonnull(find_code(plan, "blockers", "address-overlap"));
	json_decref(plan);
}
END_TEST

/* Adds another network manager with two deployed mesh configurations holding vnet-00001. */
static void
add_two_connected_groups(json_t *doc)
{
	json_t *r = json_object_get(doc, "resources");
	const char *nm = RG "networkManagers/nm-old";
	char vid[256];
	int k;

	vnet_id(vid, sizeof(vid), 1);
	add(r, json_pack("{s:s, s:s, s:s, s:s, s:{s:{s:[s]}}}", "id", nm, "name", "nm-old", "type",
	    TYPE_NETWORK_MANAGER, "location", "eastus", "properties", "networkManagerScopes",
	    "subscriptions", "/subscriptions/" SUB));
	for (k = 0; k < 2; k++) {
		char ng[300], sm[400], cc[300];

		snprintf(ng, sizeof(ng), "%s/networkGroups/old-%d", nm, k);
		snprintf(sm, sizeof(sm), "%s/staticMembers/sm-1", ng);
		snprintf(cc, sizeof(cc), "%s/connectivityConfigurations/old-%d", nm, k);
		add(r, json_pack("{s:s, s:s, s:s, s:{s:s}}", "id", ng, "name", strrchr(ng, '/') + 1, "type",
		    TYPE_NETWORK_GROUP, "properties", "memberType", "VirtualNetwork"));
		add(r, json_pack("{s:s, s:s, s:s, s:{s:s}}", "id", sm, "name", "sm-1", "type",
		    TYPE_STATIC_MEMBER, "properties", "resourceId", vid));
		add(r, json_pack("{s:s, s:s, s:s, s:{s:s, s:[{s:s, s:s}]}}", "id", cc, "name",
		    strrchr(cc, '/') + 1, "type", TYPE_CONNECTIVITY_CONFIG, "properties", "connectivityTopology",
		    "Mesh", "appliesToGroups", "networkGroupId", ng, "groupConnectivity", "None"));
	}
	{
		json_t *obs = json_object_get(doc, "observed"), *dep = json_object_get(obs, "avnmDeployments");
		if (dep == NULL) {
			dep = json_object();
			json_object_set_new(obs, "avnmDeployments", dep);
		}
		json_object_set_new(dep, nm, json_pack("{s:{s:[s, s]}}", "eastus", "Connectivity",
		    RG "networkManagers/nm-old/connectivityConfigurations/old-0",
		    RG "networkManagers/nm-old/connectivityConfigurations/old-1"));
	}
}

START_TEST(test_a_vnet_already_in_two_connected_groups_is_blocked)
{
	struct mest m = { .nvnets = 3 };
	json_t *c, *t, *plan;
	struct topology *cur, *tgt;
	struct nw_err err = { 0 };
	const json_t *b;
	int rc;

	mest_docs(&m, &c, &t);
	add_two_connected_groups(c);
	add_two_connected_groups(t);
	cur = test_topology_doc(c, "current.json");
	tgt = test_topology_doc(t, "target.json");
	plan = plan_of(cur, tgt, &rc, &err);
	ck_assert_int_eq(rc, NW_EFAIL);
	b = find_code(plan, "blockers", "connected-groups");
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(strstr(json_str(b, "message"), "vnet-00001 is already in 2 connected groups"));
	ck_assert_ptr_nonnull(strstr(json_str(b, "resource"), "vnet-00001"));
	json_decref(plan);
	topology_free(cur);
	topology_free(tgt);
}
END_TEST

/* ------------------------------------------------------------------ */
/* phase 3: goal-state commits                                          */

/* The current topology deploys cc-existing in eastus under the same manager. */
static void
add_existing_config(json_t *doc, bool with_manager)
{
	json_t *r = json_object_get(doc, "resources"), *obs = json_object_get(doc, "observed");
	const char *ng = NM "/networkGroups/g-old", *cc = NM "/connectivityConfigurations/cc-existing";
	char vid[256];

	vnet_id(vid, sizeof(vid), 90);
	add(r, mest_vnet(90, NULL, "Disabled", "Disabled"));
	if (with_manager)
		add(r, json_pack("{s:s, s:s, s:s, s:s, s:{s:{s:[s]}, s:[s]}}", "id", NM, "name", "nm-1",
		    "type", TYPE_NETWORK_MANAGER, "location", "eastus", "properties", "networkManagerScopes",
		    "subscriptions", "/subscriptions/" SUB, "networkManagerScopeAccesses", "Connectivity"));
	add(r, json_pack("{s:s, s:s, s:s, s:{s:s}}", "id", ng, "name", "g-old", "type", TYPE_NETWORK_GROUP,
	    "properties", "memberType", "VirtualNetwork"));
	add(r, json_pack("{s:s, s:s, s:s, s:{s:s}}", "id", NM "/networkGroups/g-old/staticMembers/sm-90",
	    "name", "sm-90", "type", TYPE_STATIC_MEMBER, "properties", "resourceId", vid));
	add(r, json_pack("{s:s, s:s, s:s, s:{s:s, s:[{s:s, s:s}]}}", "id", cc, "name", "cc-existing",
	    "type", TYPE_CONNECTIVITY_CONFIG, "properties", "connectivityTopology", "Mesh",
	    "appliesToGroups", "networkGroupId", ng, "groupConnectivity", "None"));
	if (json_object_get(obs, "avnmDeployments") == NULL)
		json_object_set_new(obs, "avnmDeployments", json_object());
	json_object_set_new(json_object_get(obs, "avnmDeployments"), NM,
	    json_pack("{s:{s:[s]}}", "eastus", "Connectivity", cc));
}

START_TEST(test_commit_keeps_configs_already_active_in_region)
{
	struct mest m = { .nvnets = 3 };
	json_t *c, *t, *plan, *tres;
	struct topology *cur, *tgt;
	const json_t *st, *ids, *inv;
	size_t i;

	mest_docs(&m, &c, &t);
	add_existing_config(c, true);
	/* the target: the same, plus ours; its deployment lists both */
	tres = json_object_get(t, "resources");
	for (i = json_array_size(tres); i-- > 0;)
		if (strcmp(json_str(json_array_get(tres, i), "id"), NM) == 0)
			json_array_remove(tres, i);
	add_existing_config(t, true);
	json_object_set_new(json_path(t, "observed", "avnmDeployments", NULL), NM,
	    json_pack("{s:{s:[s, s]}}", "eastus", "Connectivity", NM "/connectivityConfigurations/cc-existing", CC));
	cur = test_topology_doc(c, "current.json");
	tgt = test_topology_doc(t, "target.json");
	plan = plan_ok(cur, tgt);
	st = first_step(plan, "commit");
	ck_assert_ptr_nonnull(st);
	ids = json_path(st, "operation", "body", "configurationIds", NULL);
	ck_assert_int_eq(json_array_size(ids), 2);
	ck_assert_str_eq(json_string_value(json_array_get(ids, 0)), NM "/connectivityConfigurations/cc-existing");
	ck_assert_str_eq(json_string_value(json_array_get(ids, 1)), CC);
	ck_assert_str_eq(json_path_str(st, "operation", "body", "commitType", NULL), "Connectivity");
	ck_assert_str_eq(json_string_value(json_array_get(json_path(st, "operation", "body", "targetLocations",
	    NULL), 0)), "eastus");
	/* its inverse commits what was active before, which undoes only ours */
	inv = json_path(st, "inverse", "body", "configurationIds", NULL);
	ck_assert_int_eq(json_array_size(inv), 1);
	ck_assert_str_eq(json_string_value(json_array_get(inv, 0)), NM "/connectivityConfigurations/cc-existing");
	json_decref(plan);
	topology_free(cur);
	topology_free(tgt);
}
END_TEST

START_TEST(test_a_target_that_drops_an_active_config_is_not_supported)
{
	struct mest m = { .nvnets = 3 };
	json_t *c, *t, *plan, *tres;
	struct topology *cur, *tgt;
	struct nw_err err = { 0 };
	const json_t *b;
	size_t i;
	int rc;

	mest_docs(&m, &c, &t);
	add_existing_config(c, true);
	tres = json_object_get(t, "resources");
	for (i = json_array_size(tres); i-- > 0;)
		if (strcmp(json_str(json_array_get(tres, i), "id"), NM) == 0)
			json_array_remove(tres, i);
	add_existing_config(t, true);
	/* the target's commit forgets cc-existing */
	json_object_set_new(json_path(t, "observed", "avnmDeployments", NULL), NM,
	    json_pack("{s:{s:[s]}}", "eastus", "Connectivity", CC));
	cur = test_topology_doc(c, "current.json");
	tgt = test_topology_doc(t, "target.json");
	plan = plan_of(cur, tgt, &rc, &err);
	ck_assert_int_eq(rc, NW_EFAIL);
	b = find_code(plan, "blockers", "not-supported");
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(strstr(json_str(b, "pointer"), "/observed/avnmDeployments/"));
	json_decref(plan);
	topology_free(cur);
	topology_free(tgt);
}
END_TEST

/* ------------------------------------------------------------------ */
/* stays inspected, and the synthesized estate end to end              */

static const char *const MESH_INTENT =
    "{ \"format\": \"netwave.intent/v1\", \"changes\": [ { \"kind\": \"avnm-mesh\","
    "  \"networkManager\": { \"id\": \"/subscriptions/00000000-0000-4000-8000-d3f0106bc147/resourceGroups/"
    "rg-connectivity/providers/Microsoft.Network/networkManagers/nm-1\" },"
    "  \"networkGroup\": \"all-spokes\", \"members\": { \"tags\": { \"role\": \"spoke\" } } } ],"
    "  \"rollout\": { \"waves\": [ { \"name\": \"pilot\", \"members\": { \"tags\": { \"env\": \"dev\" } }, \"max\": 2 },"
    "  { \"name\": \"rest\" } ], \"soak\": { \"betweenWaves\": \"1h\", \"beforeDecommission\": \"14d\" } } }";

START_TEST(test_udr_spokes_stay_inspected)
{
	struct topology *cur = test_topology_doc(synth_doc(2, 4, 1, 2), "current.json"), *tgt;
	const json_t *x, *w;
	json_t *plan;
	size_t i, k;

	tgt = test_topology_doc(expand(cur, MESH_INTENT), "target.json");
	plan = plan_ok(cur, tgt);
	/* the two spokes forced through their hub's firewall are listed, not migrated */
	ck_assert_int_eq(json_array_size(json_object_get(plan, "inspected")), 2);
	json_array_foreach(json_object_get(plan, "inspected"), i, x) {
		struct topo_vnet *v = topology_find_vnet(cur, json_string_value(x));
		const json_t *m;
		size_t q;

		ck_assert_ptr_nonnull(v);
		ck_assert_ptr_nonnull(v->subnets[0].route_table);
		json_array_foreach(json_object_get(plan, "waves"), k, w) {
			if (strcmp(json_str(w, "kind"), "mesh") != 0)
				continue;
			json_array_foreach(json_object_get(w, "members"), q, m)
				ck_assert_str_ne(json_string_value(m), v->res->id);
		}
	}
	ck_assert_ptr_nonnull(find_code(plan, "findings", "stays-inspected"));
	ck_assert_int_eq(count_action(plan, "add-static-member"), 6);
	json_decref(plan);
	topology_free(cur);
	topology_free(tgt);
}
END_TEST

START_TEST(test_mesh_waves_move_hairpin_flows_to_the_mesh_and_gate_them)
{
	struct topology *cur = test_topology_doc(synth_doc(2, 4, 1, 0), "current.json"), *tgt;
	const json_t *pilot, *rest, *g;
	json_t *plan;
	size_t i;
	bool routes = false, onprem = false, deployed = false, soak = false;

	tgt = test_topology_doc(expand(cur, MESH_INTENT), "target.json");
	plan = plan_ok(cur, tgt);
	pilot = wave_named(plan, "pilot");
	rest = wave_named(plan, "rest");
	ck_assert_ptr_nonnull(pilot);
	ck_assert_ptr_nonnull(rest);
	/* 8 spokes, 56 flows: 2 in the pilot (2 flows meshed), everything meshed after rest */
	ck_assert_int_eq(json_integer_value(json_path(pilot, "traffic", "before", "hairpin", NULL)), 56);
	ck_assert_int_eq(json_integer_value(json_path(pilot, "traffic", "after", "mesh", NULL)), 2);
	ck_assert_int_eq(json_integer_value(json_path(rest, "traffic", "after", "mesh", NULL)), 56);
	ck_assert_ptr_null(json_path(rest, "traffic", "after", "hairpin", NULL));
	json_array_foreach(json_object_get(pilot, "gates"), i, g) {
		const char *k = json_str(g, "kind");
		if (strcmp(k, "effective-routes") == 0) {
			routes = true;
			ck_assert_str_eq(json_path_str(g, "params", "scope", NULL), "all-pairs");
			ck_assert_str_eq(json_path_str(g, "params", "nextHopType", NULL), "ConnectedGroup");
		}
		onprem |= strcmp(k, "onprem-routes") == 0;
		deployed |= strcmp(k, "deployment-status") == 0;
		soak |= strcmp(k, "soak") == 0 && json_integer_value(json_path(g, "params", "seconds", NULL)) == 3600;
	}
	ck_assert(routes && onprem && deployed && soak);
	/* later waves check a sample of pairs */
	json_array_foreach(json_object_get(rest, "gates"), i, g)
		if (strcmp(json_str(g, "kind"), "effective-routes") == 0) {
			ck_assert_str_eq(json_path_str(g, "params", "scope", NULL), "sample");
			ck_assert_int_gt(json_array_size(json_path(g, "params", "pairs", NULL)), 0);
		}
	json_decref(plan);
	topology_free(cur);
	topology_free(tgt);
}
END_TEST

START_TEST(test_the_first_wave_gates_only_pairs_a_user_route_leaves_meshed)
{
	struct synth_opts so = { .hubs = 2, .spokes_per_hub = 4, .pe_per_spoke = 1,
		.gateway_udr_spokes = 2, .vpn_gateways = 1, .seed = 5 };
	struct nw_err err = { 0 };
	struct topology *cur, *tgt;
	json_t *doc = NULL, *plan;
	const json_t *pilot, *g, *ids = NULL;
	const char *intent =
	    "{ \"format\": \"netwave.intent/v1\", \"changes\": [ { \"kind\": \"avnm-mesh\","
	    "  \"networkManager\": { \"id\": \"/subscriptions/00000000-0000-4000-8000-d3f0106bc147/"
	    "resourceGroups/rg-connectivity/providers/Microsoft.Network/networkManagers/nm-1\" },"
	    "  \"networkGroup\": \"all-spokes\", \"members\": { \"tags\": { \"role\": \"spoke\" } } } ],"
	    "  \"rollout\": { \"waves\": [ { \"name\": \"pilot\", \"members\": { \"tags\": { \"env\": "
	    "\"dev\" } } }, { \"name\": \"rest\" } ] } }";
	size_t i, n1 = 0;

	ck_assert_msg(synth_generate(&doc, &so, &err) == 0, "synth: %s", err.msg);
	cur = test_topology_doc(doc, "current.json");
	tgt = test_topology_doc(expand(cur, intent), "target.json");
	plan = plan_ok(cur, tgt);
	pilot = wave_named(plan, "pilot");
	ck_assert_ptr_nonnull(pilot);
	json_array_foreach(json_object_get(pilot, "gates"), i, g)
		if (strcmp(json_str(g, "kind"), "effective-routes") == 0)
			ids = json_path(g, "params", "vnets", NULL);
	/* spoke-0N-0001 routes spoke-0N-0002's /24 to the gateway (the route engine follows it
	 * to the VPN gateway) until the decommission: of the four dev spokes, one of each such
	 * pair is left out of the all-pairs gate */
	ck_assert_ptr_nonnull(ids);
	ck_assert_uint_eq(json_array_size(ids), 2);
	json_array_foreach(ids, i, g)
		if (strstr(json_string_value(g), "/spoke-01-000") != NULL)
			n1++;
	ck_assert_uint_eq(n1, 1);
	json_decref(plan);
	topology_free(cur);
	topology_free(tgt);
}
END_TEST

/* ------------------------------------------------------------------ */
/* gateway-standard-ip                                                 */

static const char *const GW_INTENT =
    "{ \"format\": \"netwave.intent/v1\", \"changes\": [ { \"kind\": \"gateway-standard-ip\","
    "  \"gateways\": { \"all\": true } } ] }";

START_TEST(test_gateways_sharing_a_circuit_migrate_one_at_a_time)
{
	struct topology *cur = test_topology_doc(synth_doc(2, 2, 0, 0), "current.json"), *tgt;
	const json_t *w1, *w2, *c1, *prep, *exec, *commit, *g;
	json_t *plan;
	size_t i;
	bool phase_gate = false;

	tgt = test_topology_doc(expand(cur, GW_INTENT), "target.json");
	plan = plan_ok(cur, tgt);
	w1 = wave_named(plan, "gateways-1");
	c1 = wave_named(plan, "gateways-1-commit");
	w2 = wave_named(plan, "gateways-2");
	ck_assert_ptr_nonnull(w1);
	ck_assert_ptr_nonnull(c1);
	ck_assert_ptr_nonnull(w2);
	/* one gateway per wave: both share er-circuit-01; the second starts after the first commits */
	ck_assert_int_eq(json_array_size(json_object_get(w1, "members")), 1);
	ck_assert_int_eq(json_array_size(json_object_get(w2, "members")), 1);
	ck_assert_int_lt(json_integer_value(json_object_get(c1, "index")),
	    json_integer_value(json_object_get(w2, "index")));
	prep = json_array_get(json_object_get(w1, "steps"), 1);
	exec = json_array_get(json_object_get(w1, "steps"), 2);
	ck_assert_str_eq(json_str(prep, "action"), "prepare-migration");
	ck_assert_str_eq(json_path_str(prep, "operation", "body", "migrationType", NULL),
	    "UpgradeDeploymentToStandardIP");
	ck_assert_ptr_nonnull(strstr(json_path_str(prep, "inverse", "path", NULL), "/abortMigration"));
	ck_assert_str_eq(json_str(exec, "action"), "execute-migration");
	ck_assert(json_is_true(json_object_get(exec, "maintenanceWindow")));
	ck_assert_ptr_nonnull(strstr(json_path_str(exec, "inverse", "path", NULL), "/abortMigration"));
	json_array_foreach(json_object_get(w1, "gates"), i, g)
		if (strcmp(json_str(g, "kind"), "migration-phase") == 0 &&
		    json_path_str(g, "params", "phase", NULL) != NULL &&
		    strcmp(json_path_str(g, "params", "phase", NULL), "PrepareSucceeded") == 0) {
			phase_gate = true;
			ck_assert_str_eq(json_path_str(g, "params", "afterStep", NULL), json_str(prep, "id"));
		}
	ck_assert(phase_gate);
	commit = json_array_get(json_object_get(c1, "steps"), 0);
	ck_assert_str_eq(json_str(commit, "action"), "commit-migration");
	ck_assert(json_is_true(json_object_get(commit, "irreversible")));
	ck_assert(json_is_null(json_object_get(commit, "inverse")));
	json_decref(plan);
	topology_free(cur);
	topology_free(tgt);
}
END_TEST

START_TEST(test_gateways_on_different_circuits_migrate_together)
{
	json_t *doc = synth_doc(2, 2, 0, 0), *res = json_object_get(doc, "resources"), *r, *c2 = NULL;
	struct topology *cur, *tgt;
	const char *c1id = NULL;
	char c2id[512];
	json_t *plan;
	size_t i;

	/* a second circuit for hub-02 */
	json_array_foreach(res, i, r)
		if (strcmp(json_str(r, "type"), TYPE_CIRCUIT) == 0) {
			c1id = json_str(r, "id");
			c2 = json_deep_copy(r);
		}
	ck_assert_ptr_nonnull(c2);
	snprintf(c2id, sizeof(c2id), "%.*s02", (int)strlen(c1id) - 2, c1id);
	json_object_set_new(c2, "id", json_string(c2id));
	json_object_set_new(c2, "name", json_string(strrchr(c2id, '/') + 1));
	add(res, c2);
	json_object_set(json_path(doc, "observed", "circuitRoutes", NULL), c2id,
	    json_object_get(json_path(doc, "observed", "circuitRoutes", NULL), c1id));
	json_array_foreach(res, i, r)
		if (strcmp(json_str(r, "type"), TYPE_CONNECTION) == 0 && strstr(json_str(r, "name"), "hub-02") != NULL)
			json_object_set_new(json_path(r, "properties", "peer", NULL), "id", json_string(c2id));
	cur = test_topology_doc(doc, "current.json");
	tgt = test_topology_doc(expand(cur, GW_INTENT), "target.json");
	plan = plan_ok(cur, tgt);
	ck_assert_ptr_nonnull(wave_named(plan, "gateways-1"));
	ck_assert_ptr_null(wave_named(plan, "gateways-2"));
	ck_assert_int_eq(json_array_size(json_object_get(wave_named(plan, "gateways-1"), "members")), 2);
	ck_assert_int_eq(count_action(plan, "prepare-migration"), 2);
	json_decref(plan);
	topology_free(cur);
	topology_free(tgt);
}
END_TEST

START_TEST(test_a_gateway_with_a_small_gateway_subnet_is_blocked)
{
	json_t *doc = synth_doc(1, 1, 0, 0), *r;
	struct topology *cur, *tgt;
	struct nw_err err = { 0 };
	json_t *plan;
	size_t i, k;
	int rc;

	/* shrink GatewaySubnet to a /28 */
	json_array_foreach(json_object_get(doc, "resources"), i, r) {
		json_t *sn;
		if (strcmp(json_str(r, "type"), TYPE_VNET) != 0)
			continue;
		json_array_foreach(json_path(r, "properties", "subnets", NULL), k, sn)
			if (strcmp(json_str(sn, "name"), "GatewaySubnet") == 0)
				json_object_set_new(json_object_get(sn, "properties"), "addressPrefix",
				    json_string("10.1.0.0/28"));
	}
	cur = test_topology_doc(doc, "current.json");
	tgt = test_topology_doc(expand(cur, GW_INTENT), "target.json");
	plan = plan_of(cur, tgt, &rc, &err);
	ck_assert_int_eq(rc, NW_EFAIL);
	ck_assert_ptr_nonnull(find_code(plan, "blockers", "gateway-subnet-too-small"));
	ck_assert_ptr_nonnull(strstr(err.msg, "smaller than /27"));
	json_decref(plan);
	topology_free(cur);
	topology_free(tgt);
}
END_TEST

/* ------------------------------------------------------------------ */
/* summarize-gateway-prefixes                                          */

START_TEST(test_summaries_are_minimal_and_never_cover_on_premises)
{
	struct topology *cur = test_topology_doc(synth_doc(2, 4, 0, 0), "current.json"), *tgt;
	const char *intent = "{ \"format\": \"netwave.intent/v1\", \"changes\": [ { \"kind\": "
	    "\"summarize-gateway-prefixes\", \"hubs\": { \"tags\": { \"role\": \"hub\" } } } ] }";
	const json_t *w, *row;
	json_t *plan;
	size_t i, k, q;

	tgt = test_topology_doc(expand(cur, intent), "target.json");
	plan = plan_ok(cur, tgt);
	w = wave_named(plan, "summarize");
	ck_assert_ptr_nonnull(w);
	/* hub and four spokes, five prefixes before, one summary after */
	ck_assert_int_eq(json_array_size(json_object_get(w, "advertised")), 2);
	json_array_foreach(json_object_get(w, "advertised"), i, row) {
		ck_assert_int_eq(json_integer_value(json_object_get(row, "ipv4Before")), 5);
		ck_assert_int_eq(json_integer_value(json_object_get(row, "ipv4After")), 1);
		ck_assert_int_eq(json_integer_value(json_object_get(row, "maxIpv4")), 1000);
	}
	for (i = 0; i < tgt->nvnets; i++) {
		const struct topo_vnet *v = &tgt->vnets[i];
		for (k = 0; k < v->summarized.n; k++)
			for (q = 0; q < tgt->circuits[0].nroutes; q++)
				ck_assert(!cidr_contains(&v->summarized.v[k], &tgt->circuits[0].routes[q].prefix));
	}
	ck_assert_ptr_nonnull(first_step(plan, "set-summarized-gateway-prefixes"));
	json_decref(plan);
	topology_free(cur);
	topology_free(tgt);
}
END_TEST

START_TEST(test_a_summary_covering_on_premises_is_blocked)
{
	json_t *c = synth_doc(1, 2, 0, 0), *t = json_deep_copy(c), *r;
	struct topology *cur, *tgt;
	struct nw_err err = { 0 };
	const json_t *b;
	json_t *plan;
	size_t i;
	int rc;

	json_array_foreach(json_object_get(t, "resources"), i, r)
		if (strcmp(json_str(r, "type"), TYPE_VNET) == 0 && strcmp(json_str(r, "name"), "hub-01") == 0)
			json_object_set_new(json_object_get(r, "properties"), "summarizedGatewayPrefixes",
			    json_pack("{s:[s]}", "addressPrefixes", "10.0.0.0/8"));
	cur = test_topology_doc(c, "current.json");
	tgt = test_topology_doc(t, "target.json");
	plan = plan_of(cur, tgt, &rc, &err);
	ck_assert_int_eq(rc, NW_EFAIL);
	b = find_code(plan, "blockers", "summary-covers-on-premises");
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(strstr(json_str(b, "message"), "10.0.0.0/8"));
	json_decref(plan);
	topology_free(cur);
	topology_free(tgt);
}
END_TEST

/* ------------------------------------------------------------------ */
/* waves                                                               */

static const char *const WAVES_TOPO =
    "{ \"format\": \"netwave.topology/v1\", \"resources\": ["
#define V(n, tags) "{ \"id\": \"" RG "virtualNetworks/" n "\", \"name\": \"" n "\", \"type\": \"" TYPE_VNET \
	"\", \"location\": \"eastus\", \"tags\": " tags ", \"properties\": { \"addressSpace\": " \
	"{ \"addressPrefixes\": [] } } }"
    V("d1", "{ \"env\": \"dev\" }") "," V("d2", "{ \"env\": \"dev\" }") "," V("d3", "{ \"env\": \"dev\" }") ","
    V("l1", "{ \"traffic\": \"light\" }") "," V("x1", "{}") "," V("d4", "{ \"env\": \"dev\", \"traffic\": \"light\" }")
    "] }";
#undef V

static void
assign(const char *rollout_text, size_t *out, json_t *warnings, struct topology **tp)
{
	struct intent_rollout ro = { 0 };
	struct nw_err err = { 0 };
	json_error_t je;
	json_t *rv = json_loads(rollout_text, 0, &je);
	const struct topo_vnet *v[6];
	struct topology *t = test_topology(WAVES_TOPO);
	size_t i;

	ck_assert_ptr_nonnull(rv);
	ck_assert_msg(intent_rollout_parse(&ro, rv, "target.json", "/x-netwave-rollout", &err) == 0, "%s",
	    err.msg);
	for (i = 0; i < 6; i++)
		v[i] = &t->vnets[i];
	ck_assert_int_eq(planner_waves_assign(out, &ro, v, 6, warnings, &err), 0);
	intent_rollout_free(&ro);
	json_decref(rv);
	*tp = t;
}

START_TEST(test_waves_take_the_first_match_with_caps_and_overflow)
{
	size_t w[6];
	json_t *warnings = json_array();
	struct topology *t;

	/* pilot takes two dev VNets; d3 overflows into light; x1 to the wave without a selector */
	assign("{ \"waves\": [ { \"name\": \"pilot\", \"members\": { \"tags\": { \"env\": \"dev\" } }, \"max\": 2 },"
	    " { \"name\": \"light\", \"members\": { \"tags\": { \"traffic\": \"light\" } } }, { \"name\": \"rest\" } ] }",
	    w, warnings, &t);
	ck_assert_uint_eq(w[0], 0);
	ck_assert_uint_eq(w[1], 0);
	ck_assert_uint_eq(w[2], 1);
	ck_assert_uint_eq(w[3], 1);
	ck_assert_uint_eq(w[4], 2);
	/* d4 matches pilot first (dev), which is full: overflow, not its own light match */
	ck_assert_uint_eq(w[5], 1);
	ck_assert_int_eq(json_array_size(warnings), 0);
	json_decref(warnings);
	topology_free(t);
}
END_TEST

START_TEST(test_overflow_skips_full_waves_and_empty_waves_are_dropped_with_a_warning)
{
	size_t w[6];
	json_t *warnings = json_array();
	struct topology *t;

	assign("{ \"waves\": [ { \"name\": \"pilot\", \"members\": { \"tags\": { \"env\": \"dev\" } }, \"max\": 1 },"
	    " { \"name\": \"small\", \"members\": { \"tags\": { \"env\": \"dev\" } }, \"max\": 1 },"
	    " { \"name\": \"nobody\", \"members\": { \"tags\": { \"env\": \"none\" } } },"
	    " { \"name\": \"rest\" } ] }", w, warnings, &t);
	ck_assert_uint_eq(w[0], 0);
	ck_assert_uint_eq(w[1], 1);
	/* d3: pilot and small are full, so the overflow lands in the next wave with room */
	ck_assert_uint_eq(w[2], 2);
	ck_assert_uint_eq(w[4], 3);
	ck_assert_int_eq(json_array_size(warnings), 0);
	json_decref(warnings);
	warnings = json_array();
	topology_free(t);
	assign("{ \"waves\": [ { \"name\": \"pilot\", \"members\": { \"tags\": { \"env\": \"dev\" } } },"
	    " { \"name\": \"nobody\", \"members\": { \"tags\": { \"env\": \"none\" } } },"
	    " { \"name\": \"rest\" } ] }", w, warnings, &t);
	ck_assert_int_eq(json_array_size(warnings), 1);
	ck_assert_str_eq(json_string_value(json_array_get(warnings, 0)), "wave nobody is empty and is dropped");
	json_decref(warnings);
	topology_free(t);
}
END_TEST

START_TEST(test_unmatched_vnets_without_an_open_wave_go_last_with_a_warning)
{
	size_t w[6];
	json_t *warnings = json_array();
	struct topology *t;

	assign("{ \"waves\": [ { \"name\": \"pilot\", \"members\": { \"tags\": { \"env\": \"dev\" } } },"
	    " { \"name\": \"light\", \"members\": { \"tags\": { \"traffic\": \"light\" } } } ] }", w, warnings, &t);
	ck_assert_uint_eq(w[4], 1);
	ck_assert_int_eq(json_array_size(warnings), 1);
	ck_assert_ptr_nonnull(strstr(json_string_value(json_array_get(warnings, 0)), "x1 matches no wave"));
	json_decref(warnings);
	topology_free(t);
}
END_TEST

START_TEST(test_empty_mesh_waves_are_dropped_from_the_plan)
{
	struct topology *cur = test_topology_doc(synth_doc(1, 3, 0, 0), "current.json"), *tgt;
	const char *intent =
	    "{ \"format\": \"netwave.intent/v1\", \"changes\": [ { \"kind\": \"avnm-mesh\","
	    "  \"networkManager\": { \"id\": \"/subscriptions/00000000-0000-4000-8000-d3f0106bc147/resourceGroups/"
	    "rg-connectivity/providers/Microsoft.Network/networkManagers/nm-1\" },"
	    "  \"networkGroup\": \"all\", \"members\": { \"tags\": { \"role\": \"spoke\" } } } ],"
	    "  \"rollout\": { \"waves\": [ { \"name\": \"canary\", \"members\": { \"names\": [\"nothing-*\"] } },"
	    "  { \"name\": \"rest\" } ] } }";
	const json_t *f;
	json_t *plan;

	tgt = test_topology_doc(expand(cur, intent), "target.json");
	plan = plan_ok(cur, tgt);
	ck_assert_ptr_null(wave_named(plan, "canary"));
	ck_assert_ptr_nonnull(wave_named(plan, "rest"));
	f = find_code(plan, "findings", "wave-assignment");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(json_str(f, "message"), "wave canary is empty and is dropped");
	json_decref(plan);
	topology_free(cur);
	topology_free(tgt);
}
END_TEST

/* ------------------------------------------------------------------ */
/* rehearsal, decommission, unsupported differences                    */

/* Two spokes in two regions, peered only with each other; the target meshes them per region. */
static void
peered_docs(json_t **cur, json_t **tgt, bool global)
{
	const char *a = RG "virtualNetworks/spoke-a", *b = RG "virtualNetworks/spoke-b";
	json_t *c = json_pack("{s:s, s:[s], s:[], s:{}}", "format", TOPOLOGY_FORMAT, "subscriptions", SUB,
	    "resources", "observed"), *t, *tr;
	const char *ends[2][4] = { { a, "spoke-a", "eastus", "10.1.0.0/16" }, { b, "spoke-b", "westus", "10.2.0.0/16" } };
	int i;

	for (i = 0; i < 2; i++) {
		char pid[512];
		snprintf(pid, sizeof(pid), "%s/virtualNetworkPeerings/to-other", ends[i][0]);
		add(json_object_get(c, "resources"), json_pack(
		    "{s:s, s:s, s:s, s:s, s:{s:s}, s:{s:{s:[s]}, s:[{s:s, s:s, s:{s:s}}], "
		    "s:[{s:s, s:s, s:{s:{s:s}, s:s, s:b, s:{s:[s]}}}]}}",
		    "id", ends[i][0], "name", ends[i][1], "type", TYPE_VNET, "location", ends[i][2], "tags", "role",
		    "spoke", "properties", "addressSpace", "addressPrefixes", ends[i][3], "subnets", "name",
		    "workload", "id", "x", "properties", "addressPrefix", ends[i][3], "virtualNetworkPeerings",
		    "id", pid, "name", "to-other", "properties", "remoteVirtualNetwork", "id", ends[1 - i][0],
		    "peeringState", "Connected", "allowVirtualNetworkAccess", 1, "remoteAddressSpace",
		    "addressPrefixes", ends[1 - i][3]));
	}
	/* subnet ids were placeholders: give them their real ids */
	for (i = 0; i < 2; i++) {
		char sid[512];
		json_t *sn = json_array_get(json_path(json_array_get(json_object_get(c, "resources"), (size_t)i),
		    "properties", "subnets", NULL), 0);
		snprintf(sid, sizeof(sid), "%s/subnets/workload", ends[i][0]);
		json_object_set_new(sn, "id", json_string(sid));
	}
	t = json_deep_copy(c);
	tr = json_object_get(t, "resources");
	for (i = 0; i < 2; i++)
		json_object_set_new(json_object_get(json_array_get(tr, (size_t)i), "properties"),
		    "virtualNetworkPeerings", json_array());
	add(tr, json_pack("{s:s, s:s, s:s, s:s, s:{s:{s:[s]}}}", "id", NM, "name", "nm-1", "type",
	    TYPE_NETWORK_MANAGER, "location", "eastus", "properties", "networkManagerScopes", "subscriptions",
	    "/subscriptions/" SUB));
	add(tr, json_pack("{s:s, s:s, s:s, s:{s:s}}", "id", NG, "name", "g-mesh", "type", TYPE_NETWORK_GROUP,
	    "properties", "memberType", "VirtualNetwork"));
	add(tr, json_pack("{s:s, s:s, s:s, s:{s:s}}", "id", NG "/staticMembers/sm-spoke-a", "name", "sm-spoke-a",
	    "type", TYPE_STATIC_MEMBER, "properties", "resourceId", a));
	add(tr, json_pack("{s:s, s:s, s:s, s:{s:s}}", "id", NG "/staticMembers/sm-spoke-b", "name", "sm-spoke-b",
	    "type", TYPE_STATIC_MEMBER, "properties", "resourceId", b));
	add(tr, json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:[{s:s, s:s}]}}", "id", CC, "name", "g-mesh-mesh",
	    "type", TYPE_CONNECTIVITY_CONFIG, "properties", "connectivityTopology", "Mesh", "isGlobal",
	    global ? "True" : "False", "appliesToGroups", "networkGroupId", NG, "groupConnectivity", "None"));
	json_object_set_new(json_object_get(t, "observed"), "avnmDeployments",
	    json_pack("{s:{s:{s:[s]}, s:{s:[s]}}}", NM, "eastus", "Connectivity", CC, "westus", "Connectivity", CC));
	*cur = c;
	*tgt = t;
}

START_TEST(test_a_wave_that_makes_a_pair_unreachable_blocks_naming_it)
{
	json_t *c, *t, *plan;
	struct topology *cur, *tgt;
	struct nw_err err = { 0 };
	const json_t *b;
	int rc;

	/* not global: one connected group per region, so the peering was their only path */
	peered_docs(&c, &t, false);
	cur = test_topology_doc(c, "current.json");
	tgt = test_topology_doc(t, "target.json");
	plan = plan_of(cur, tgt, &rc, &err);
	ck_assert_int_eq(rc, NW_EFAIL);
	b = find_code(plan, "blockers", "unreachable");
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(strstr(json_str(b, "message"), "wave decommission"));
	ck_assert_ptr_nonnull(strstr(json_str(b, "message"), "spoke-a"));
	ck_assert_ptr_nonnull(strstr(json_str(b, "message"), "spoke-b"));
	ck_assert_int_eq(json_array_size(json_object_get(b, "pair")), 2);
	/* members in two regions without isGlobal are pointed out as well */
	ck_assert_ptr_nonnull(find_code(plan, "findings", "mesh-not-global"));
	json_decref(plan);
	topology_free(cur);
	topology_free(tgt);
}
END_TEST

START_TEST(test_decommission_deletes_peerings_only_after_the_soak)
{
	json_t *c, *t, *plan;
	struct topology *cur, *tgt;
	const json_t *w, *g, *s;
	size_t i, n;

	peered_docs(&c, &t, true);
	cur = test_topology_doc(c, "current.json");
	tgt = test_topology_doc(t, "target.json");
	plan = plan_ok(cur, tgt);
	n = json_array_size(json_object_get(plan, "waves"));
	w = json_array_get(json_object_get(plan, "waves"), n - 1);
	ck_assert_str_eq(json_str(w, "kind"), "decommission");
	g = json_array_get(json_object_get(w, "gates"), 0);
	ck_assert_str_eq(json_str(g, "kind"), "soak");
	ck_assert_str_eq(json_str(g, "when"), "before");
	ck_assert_int_eq(json_integer_value(json_path(g, "params", "seconds", NULL)), 14 * 86400);
	ck_assert_int_eq(json_array_size(json_object_get(w, "steps")), 2);
	json_array_foreach(json_object_get(w, "steps"), i, s) {
		ck_assert_str_eq(json_str(s, "action"), "delete-peering");
		ck_assert_str_eq(json_path_str(s, "operation", "method", NULL), "DELETE");
		ck_assert(json_is_true(json_object_get(s, "irreversible")));
		ck_assert(json_is_null(json_object_get(s, "inverse")));
	}
	/* the mesh keeps them connected: nothing unreachable, peering flows now mesh */
	ck_assert_int_eq(json_integer_value(json_path(w, "traffic", "after", "mesh", NULL)), 2);
	json_decref(plan);
	topology_free(cur);
	topology_free(tgt);
}
END_TEST

/* spoke-a's subnet gets a route table steering spoke-b's space to the gateway. */
static void
add_hairpin_route(json_t *doc, bool with_route)
{
	const char *rt = RG "routeTables/rt-a";
	json_t *r = json_object_get(doc, "resources"), *a = json_array_get(r, 0), *routes = json_array();

	if (with_route)
		add(routes, json_pack("{s:s, s:s, s:{s:s, s:s}}", "id", RG "routeTables/rt-a/routes/to-b", "name",
		    "to-b", "properties", "addressPrefix", "10.2.0.0/16", "nextHopType", "VirtualNetworkGateway"));
	add(r, json_pack("{s:s, s:s, s:s, s:s, s:{s:o}}", "id", rt, "name", "rt-a", "type", TYPE_ROUTE_TABLE,
	    "location", "eastus", "properties", "routes", routes));
	json_object_set_new(json_object_get(json_array_get(json_path(a, "properties", "subnets", NULL), 0),
	    "properties"), "routeTable", json_pack("{s:s}", "id", rt));
}

START_TEST(test_decommission_deletes_routes_that_only_steered_member_traffic)
{
	json_t *c, *t, *plan;
	struct topology *cur, *tgt;
	const json_t *st;

	peered_docs(&c, &t, true);
	add_hairpin_route(c, true);
	add_hairpin_route(t, false);
	cur = test_topology_doc(c, "current.json");
	tgt = test_topology_doc(t, "target.json");
	plan = plan_ok(cur, tgt);
	st = first_step(plan, "delete-route");
	ck_assert_ptr_nonnull(st);
	ck_assert_str_eq(json_path_str(st, "operation", "path", NULL), RG "routeTables/rt-a/routes/to-b");
	ck_assert(json_is_true(json_object_get(st, "irreversible")));
	ck_assert_str_eq(json_str(json_array_get(json_object_get(plan, "waves"),
	    json_array_size(json_object_get(plan, "waves")) - 1), "kind"), "decommission");
	json_decref(plan);
	topology_free(cur);
	topology_free(tgt);
}
END_TEST

START_TEST(test_a_difference_no_procedure_makes_blocks_the_plan)
{
	json_t *c = synth_doc(1, 2, 0, 0), *t = json_deep_copy(c), *r;
	struct topology *cur, *tgt;
	struct nw_err err = { 0 };
	const json_t *b;
	json_t *plan;
	size_t i;
	int rc;

	json_array_foreach(json_object_get(t, "resources"), i, r)
		if (strcmp(json_str(r, "name"), "spoke-01-0001") == 0)
			json_object_set_new(json_path(r, "properties", "addressSpace", NULL), "addressPrefixes",
			    json_pack("[s, s]", "10.1.1.0/24", "10.9.9.0/24"));
	cur = test_topology_doc(c, "current.json");
	tgt = test_topology_doc(t, "target.json");
	plan = plan_of(cur, tgt, &rc, &err);
	ck_assert_int_eq(rc, NW_EFAIL);
	b = find_code(plan, "blockers", "not-supported");
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(json_str(b, "pointer"), "/properties/addressSpace/addressPrefixes");
	ck_assert_ptr_nonnull(strstr(json_str(b, "resource"), "spoke-01-0001"));
	ck_assert_ptr_nonnull(strstr(err.msg, "not supported"));
	json_decref(plan);
	topology_free(cur);
	topology_free(tgt);
}
END_TEST

/* ------------------------------------------------------------------ */
/* the plan as a whole                                                 */

static const char *const ALL_INTENT =
    "{ \"format\": \"netwave.intent/v1\", \"changes\": ["
    " { \"kind\": \"avnm-mesh\", \"networkManager\": { \"id\": \"/subscriptions/00000000-0000-4000-8000-d3f0106bc147"
    "/resourceGroups/rg-connectivity/providers/Microsoft.Network/networkManagers/nm-1\" },"
    "   \"networkGroup\": \"all\", \"members\": { \"tags\": { \"role\": \"spoke\" } }, \"highScalePrivateEndpoints\": true },"
    " { \"kind\": \"gateway-standard-ip\", \"gateways\": { \"all\": true } },"
    " { \"kind\": \"summarize-gateway-prefixes\", \"hubs\": { \"tags\": { \"role\": \"hub\" } } } ],"
    " \"rollout\": { \"waves\": [ { \"name\": \"pilot\", \"members\": { \"tags\": { \"env\": \"dev\" } }, \"max\": 2 },"
    " { \"name\": \"rest\" } ] } }";

START_TEST(test_every_step_has_an_inverse_or_is_irreversible_and_costs)
{
	struct topology *cur = test_topology_doc(synth_doc(2, 3, 1, 1), "current.json"), *tgt;
	const json_t *w, *s;
	json_t *plan;
	size_t i, k;

	tgt = test_topology_doc(expand(cur, ALL_INTENT), "target.json");
	plan = plan_ok(cur, tgt);
	ck_assert_int_eq(json_array_size(json_object_get(plan, "changes")), 3);
	json_array_foreach(json_object_get(plan, "waves"), i, w) {
		ck_assert_int_eq(json_integer_value(json_object_get(w, "index")), (json_int_t)i);
		ck_assert_ptr_nonnull(json_str(w, "rollback"));
		ck_assert_ptr_nonnull(json_object_get(w, "estimate"));
		ck_assert_ptr_nonnull(json_object_get(w, "traffic"));
		ck_assert_int_gt(json_array_size(json_object_get(w, "gates")), 0);
		json_array_foreach(json_object_get(w, "steps"), k, s) {
			bool irr = json_is_true(json_object_get(s, "irreversible"));
			ck_assert_msg(irr == json_is_null(json_object_get(s, "inverse")), "step %s",
			    json_str(s, "id"));
			ck_assert_ptr_nonnull(json_str(s, "resource"));
			ck_assert_ptr_nonnull(json_path_str(s, "operation", "method", NULL));
			ck_assert_ptr_nonnull(json_path_str(s, "operation", "path", NULL));
			ck_assert(json_is_integer(json_object_get(s, "reads")));
			ck_assert(json_is_integer(json_object_get(s, "writes")));
		}
	}
	/* phase order: prepare, hspe, mesh, gateways, summarize */
	ck_assert_str_eq(json_str(json_array_get(json_object_get(plan, "waves"), 0), "kind"), "prepare");
	ck_assert_str_eq(json_str(json_array_get(json_object_get(plan, "waves"), 1), "kind"), "hspe");
	ck_assert_str_eq(json_str(json_array_get(json_object_get(plan, "waves"), 3), "kind"), "mesh");
	ck_assert_str_eq(json_str(json_array_get(json_object_get(plan, "waves"),
	    json_array_size(json_object_get(plan, "waves")) - 1), "kind"), "summarize");
	json_decref(plan);
	topology_free(cur);
	topology_free(tgt);
}
END_TEST

START_TEST(test_the_same_inputs_give_the_same_plan_bytes)
{
	struct topology *cur = test_topology_doc(synth_doc(2, 3, 1, 1), "current.json"), *tgt;
	json_t *a, *b;
	char *ta, *tb;
	const char *id;

	tgt = test_topology_doc(expand(cur, ALL_INTENT), "target.json");
	a = plan_ok(cur, tgt);
	b = plan_ok(cur, tgt);
	ta = json_dump_canonical(a);
	tb = json_dump_canonical(b);
	ck_assert_str_eq(ta, tb);
	id = json_str(a, "id");
	ck_assert_int_eq(strlen(id), 15);
	ck_assert_int_eq(strncmp(id, "pl-", 3), 0);
	ck_assert_uint_eq(strspn(id + 3, "0123456789abcdef"), 12);
	ck_assert_str_eq(json_str(a, "createdAt"), "2026-11-22T20:00:00Z");
	ck_assert_int_eq(strncmp(json_path_str(a, "current", "fingerprint", NULL), "sha256:", 7), 0);
	free(ta);
	free(tb);
	json_decref(a);
	json_decref(b);
	topology_free(cur);
	topology_free(tgt);
}
END_TEST

START_TEST(test_hspe_bodies_keep_the_peerings_the_decommission_removes_later)
{
	json_t *c, *t, *plan, *r;
	struct topology *cur, *tgt;
	const json_t *st;
	size_t i;

	peered_docs(&c, &t, true);
	/* the target also turns HSPE on for both */
	json_array_foreach(json_object_get(t, "resources"), i, r)
		if (strcmp(json_str(r, "type"), TYPE_VNET) == 0)
			json_object_set_new(json_object_get(r, "properties"), "privateEndpointVNetPolicies",
			    json_string("Basic"));
	cur = test_topology_doc(c, "current.json");
	tgt = test_topology_doc(t, "target.json");
	plan = plan_ok(cur, tgt);
	st = first_step(plan, "set-vnet-private-endpoint-policies");
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(json_array_size(json_path(st, "operation", "body", "properties",
	    "virtualNetworkPeerings", NULL)), 1);
	ck_assert_ptr_null(json_path(st, "operation", "body", "properties", "provisioningState", NULL));
	ck_assert_int_eq(count_action(plan, "delete-peering"), 2);
	json_decref(plan);
	topology_free(cur);
	topology_free(tgt);
}
END_TEST

START_TEST(test_write_budget_eta_follows_the_token_bucket)
{
	double tokens = 200;

	/* 1,000 per 300 s: the burst is free, then 3.33 writes a second */
	ck_assert_int_eq(planner_budget_seconds(200, &tokens, 200, 1000, 300), 0);
	ck_assert_int_eq(planner_budget_seconds(1, &tokens, 200, 1000, 300), 1);
	tokens = 200;
	ck_assert_int_eq(planner_budget_seconds(1200, &tokens, 200, 1000, 300), 300);
	tokens = 200;
	ck_assert_int_eq(planner_budget_seconds(1200, &tokens, 200, 10, 1), 100);
}
END_TEST

START_TEST(test_big_waves_wait_for_the_write_budget)
{
	struct mest m = { .nvnets = 600, .feature = "Registered" };
	const json_t *w;
	int rc;
	json_t *plan = mest_plan(&m, &rc);

	ck_assert_int_eq(rc, 0);
	w = wave_named(plan, "mesh");
	/* 600 static members and a commit, and the gates' POSTs */
	/*
	 * The buckets are full again after the prepare wave's feature registration (300 s).
	 * Steps: 601 writes, (601 - 200) / 10 = 40.1 s; reads 1,202 + 601 drift + 18 polls
	 * of the 180 s commit = 1,821, (1,821 - 250) / 25 = 62.84 s.  The commit refills
	 * the buckets.  Gates: deployment-status (1 POST) and effective-routes (600 POSTs,
	 * each polled once): 601 writes, (601 - 200) / 10 = 40.1 s; 600 reads, 14 s.
	 * Throttling 102.94 s; + 180 s + the effective-routes poll (10 s) = 292.94 -> 293.
	 */
	ck_assert_int_eq(json_integer_value(json_path(w, "estimate", "writes", NULL)), 1202);
	ck_assert_int_eq(json_integer_value(json_path(w, "estimate", "reads", NULL)), 2421);
	ck_assert_int_eq(json_integer_value(json_path(w, "estimate", "polls", NULL)), 618);
	ck_assert_int_eq(json_integer_value(json_path(w, "estimate", "throttleSeconds", NULL)), 103);
	ck_assert_int_eq(json_integer_value(json_path(w, "estimate", "operationSeconds", NULL)), 180);
	ck_assert_int_eq(json_integer_value(json_path(w, "estimate", "gateSeconds", NULL)), 10);
	ck_assert_int_eq(json_integer_value(json_path(w, "estimate", "seconds", NULL)), 293);
	ck_assert_int_eq(json_integer_value(json_path(wave_named(plan, "prepare"), "estimate", "gateSeconds",
	    NULL)), 300);
	ck_assert_int_eq(json_integer_value(json_path(plan, "writeBudget", "refillWrites", NULL)), 10);
	ck_assert_int_eq(json_integer_value(json_path(plan, "writeBudget", "refillSeconds", NULL)), 1);
	json_decref(plan);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Resource groups and feature registrations (issue 9, items 3 and 5)  */

#define SUB2 "00000000-0000-4000-8000-0000000000bb"

/* An intent whose manager sits in group rg (subscription sub) of a synthesized estate (stolen). */
static json_t *
rg_intent_plan(json_t *cur_doc, const char *sub, const char *rg, json_t **target_out)
{
	char intent[1024];
	struct topology *cur, *tgt;
	json_t *tdoc, *plan;

	ck_assert_int_eq(json_array_append_new(json_object_get(cur_doc, "subscriptions"),
	    json_string(SUB2)), 0);
	cur = test_topology_doc(cur_doc, "current.json");
	snprintf(intent, sizeof(intent),
	    "{\"format\": \"netwave.intent/v1\", \"changes\": [{\"kind\": \"avnm-mesh\", "
	    "\"networkManager\": {\"id\": \"/subscriptions/%s/resourceGroups/%s/providers/"
	    "Microsoft.Network/networkManagers/nm-rg\"}, \"networkGroup\": \"mesh\", "
	    "\"members\": {\"tags\": {\"role\": \"spoke\"}}}]}", sub, rg);
	tdoc = expand(cur, intent);
	if (target_out != NULL)
		*target_out = json_incref(tdoc);
	tgt = test_topology_doc(tdoc, "target.json");
	plan = plan_ok(cur, tgt);
	topology_free(cur);
	topology_free(tgt);
	return plan;
}

START_TEST(test_a_manager_in_a_missing_group_gets_the_group_created_first)
{
	json_t *target = NULL, *plan = rg_intent_plan(synth_doc(1, 3, 0, 0), SUB2, "rg-new", &target);
	const json_t *w = json_array_get(json_object_get(plan, "waves"), 0), *st, *nm, *rec, *d;
	const char *gid = "/subscriptions/" SUB2 "/resourceGroups/rg-new";
	size_t i;
	bool depends = false;

	ck_assert_str_eq(json_str(w, "kind"), "prepare");
	st = json_array_get(json_object_get(w, "steps"), 0);
	ck_assert_str_eq(json_str(st, "action"), "create-resource-group");
	ck_assert_str_eq(json_str(st, "resource"), gid);
	ck_assert_str_eq(json_path_str(st, "operation", "method", NULL), "PUT");
	ck_assert_str_eq(json_path_str(st, "operation", "path", NULL), gid);
	ck_assert_str_eq(json_path_str(st, "operation", "apiVersion", NULL), "2021-04-01");
	ck_assert_str_eq(json_path_str(st, "operation", "body", "location", NULL), "eastus");
	/* created only when absent: a PUT would replace the tags of a group made since */
	ck_assert_str_eq(json_path_str(st, "operation", "condition", NULL), "absent");
	/* undone only when this plan created it and it is empty */
	ck_assert_str_eq(json_path_str(st, "inverse", "method", NULL), "DELETE");
	ck_assert_str_eq(json_path_str(st, "inverse", "condition", NULL), "created-and-empty");
	ck_assert_int_eq(count_action(plan, "create-resource-group"), 1);
	nm = first_step(plan, "put-network-manager");
	ck_assert_ptr_nonnull(nm);
	json_array_foreach(json_object_get(nm, "dependsOn"), i, d)
		if (json_is_integer(d) ? json_integer_value(d) == 0 :
		    strcmp(json_string_value(d), json_str(st, "id")) == 0)
			depends = true;
	ck_assert_msg(depends, "the network manager's PUT does not wait for its group");
	/* the target predicts the group, as Resource Groups - Get returns it */
	rec = test_json_find(target, "resources", "id", gid);
	ck_assert_ptr_nonnull(rec);
	ck_assert_str_eq(json_str(rec, "type"), "Microsoft.Resources/resourceGroups");
	ck_assert_str_eq(json_str(rec, "location"), "eastus");
	ck_assert_str_eq(json_path_str(rec, "properties", "provisioningState", NULL), "Succeeded");
	ck_assert_ptr_nonnull(strstr(json_str(w, "rollback"), "rg-new only if this plan created it"));
	json_decref(target);
	json_decref(plan);
}
END_TEST

START_TEST(test_a_group_that_holds_resources_or_is_recorded_is_not_created)
{
	json_t *doc = synth_doc(1, 3, 0, 0), *plan;
	char sub[64];

	/* rg-spokes-01 holds the spokes; ARM compares group names case-insensitively */
	snprintf(sub, sizeof(sub), "%s",
	    json_string_value(json_array_get(json_object_get(doc, "subscriptions"), 0)));
	plan = rg_intent_plan(doc, sub, "RG-SPOKES-01", NULL);
	ck_assert_int_eq(count_action(plan, "create-resource-group"), 0);
	json_decref(plan);
	/* an empty group the topology records (as discovery does) exists too */
	doc = synth_doc(1, 3, 0, 0);
	add(json_object_get(doc, "resources"), json_pack("{s:s, s:s, s:s, s:s, s:{s:s}}", "id",
	    "/subscriptions/" SUB2 "/resourceGroups/rg-empty", "name", "rg-empty", "type",
	    "Microsoft.Resources/resourceGroups", "location", "westeurope", "properties",
	    "provisioningState", "Succeeded"));
	plan = rg_intent_plan(doc, SUB2, "rg-empty", NULL);
	ck_assert_int_eq(count_action(plan, "create-resource-group"), 0);
	json_decref(plan);
}
END_TEST

START_TEST(test_hspe_registers_its_feature_on_the_manager_and_member_subscriptions)
{
	json_t *doc = synth_doc(1, 17, 120, 0), *plan;
	char sub1[64];
	const json_t *w, *st, *g, *v;
	size_t i, nfeat = 0, nprov = 0;
	bool on1 = false, on2 = false;

	snprintf(sub1, sizeof(sub1), "%s",
	    json_string_value(json_array_get(json_object_get(doc, "subscriptions"), 0)));
	plan = rg_intent_plan(doc, SUB2, "rg-new", NULL);
	ck_assert_ptr_nonnull(find_code(plan, "prerequisites", "hspe"));
	w = json_array_get(json_object_get(plan, "waves"), 0);
	json_array_foreach(json_object_get(w, "steps"), i, st) {
		const char *a = json_str(st, "action"), *path = json_path_str(st, "operation", "path", NULL);
		if (strcmp(a, "register-feature") == 0) {
			nfeat++;
			ck_assert_ptr_nonnull(strstr(path, "/providers/Microsoft.Features/providers/"
			    "Microsoft.Network/features/EnableMaxPrivateEndpointsVia64kPath/register"));
			on1 |= strstr(path, sub1) != NULL;
			on2 |= strstr(path, SUB2) != NULL;
		} else if (strcmp(a, "register-provider") == 0) {
			nprov++;
		}
	}
	/* on the members' subscription and the network manager's */
	ck_assert_uint_eq(nfeat, 2);
	ck_assert_uint_eq(nprov, 2);
	ck_assert(on1 && on2);
	g = json_array_get(json_object_get(w, "gates"), 0);
	ck_assert_str_eq(json_str(g, "kind"), "feature-registered");
	ck_assert_str_eq(json_path_str(g, "params", "state", NULL), "Registered");
	ck_assert_uint_eq(json_array_size(json_path(g, "params", "subscriptions", NULL)), 2);
	ck_assert_uint_eq(json_array_size(json_path(g, "params", "features", NULL)), 1);
	json_array_foreach(json_path(g, "params", "features", NULL), i, v)
		ck_assert_str_eq(json_string_value(v), "Microsoft.Network/EnableMaxPrivateEndpointsVia64kPath");
	json_decref(plan);
	/* a feature the estate already has registered needs no step */
	doc = synth_doc(1, 17, 120, 0);
	json_object_set_new(json_object_get(doc, "observed"), "features", json_pack("{s:s}",
	    "Microsoft.Network/EnableMaxPrivateEndpointsVia64kPath", "Registered"));
	plan = rg_intent_plan(doc, SUB2, "rg-new", NULL);
	ck_assert_int_eq(count_action(plan, "register-feature"), 0);
	json_decref(plan);
}
END_TEST

int
main(void)
{
	const TTest *const planner_tests[] = {
		TEST_CASE("planner", 300),
		test_sha256_matches_the_fips_180_4_vectors,
		test_sha256_of_a_million_a_in_uneven_pieces,
		test_fingerprint_is_the_sha256_of_the_canonical_topology_text,
		test_250_members_need_no_feature_registration,
		test_a_manager_in_a_missing_group_gets_the_group_created_first,
		test_a_group_that_holds_resources_or_is_recorded_is_not_created,
		test_hspe_registers_its_feature_on_the_manager_and_member_subscriptions,
		test_251_members_register_the_high_scale_feature_first,
		test_251_members_without_the_feature_are_blocked,
		test_more_than_5000_members_are_blocked,
		test_2000_private_endpoints_need_no_hspe_but_2001_do,
		test_1001_private_endpoints_in_one_vnet_need_hspe,
		test_hspe_sets_subnet_policies_then_the_vnet_inside_the_window,
		test_hspe_configuration_with_a_member_not_ready_is_blocked,
		test_more_than_20000_private_endpoints_are_blocked,
		test_more_than_5000_private_endpoints_in_one_vnet_are_blocked,
		test_overlapping_members_are_reported,
		test_overlapping_members_block_when_overlap_is_disallowed,
		test_a_vnet_already_in_two_connected_groups_is_blocked,
		test_commit_keeps_configs_already_active_in_region,
		test_a_target_that_drops_an_active_config_is_not_supported,
		test_udr_spokes_stay_inspected,
		test_mesh_waves_move_hairpin_flows_to_the_mesh_and_gate_them,
		test_gateways_sharing_a_circuit_migrate_one_at_a_time,
		test_gateways_on_different_circuits_migrate_together,
		test_a_gateway_with_a_small_gateway_subnet_is_blocked,
		test_summaries_are_minimal_and_never_cover_on_premises,
		test_a_summary_covering_on_premises_is_blocked,
		test_waves_take_the_first_match_with_caps_and_overflow,
		test_overflow_skips_full_waves_and_empty_waves_are_dropped_with_a_warning,
		test_unmatched_vnets_without_an_open_wave_go_last_with_a_warning,
		test_empty_mesh_waves_are_dropped_from_the_plan,
		test_a_wave_that_makes_a_pair_unreachable_blocks_naming_it,
		test_decommission_deletes_peerings_only_after_the_soak,
		test_decommission_deletes_routes_that_only_steered_member_traffic,
		test_a_difference_no_procedure_makes_blocks_the_plan,
		test_every_step_has_an_inverse_or_is_irreversible_and_costs,
		test_the_same_inputs_give_the_same_plan_bytes,
		test_hspe_bodies_keep_the_peerings_the_decommission_removes_later,
		test_write_budget_eta_follows_the_token_bucket,
		test_big_waves_wait_for_the_write_budget,
		test_the_first_wave_gates_only_pairs_a_user_route_leaves_meshed,
		NULL,
	};

	return test_main("planner", planner_tests);
}
