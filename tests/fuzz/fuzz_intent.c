/*
 * Fuzz target: the intent loader (plan/intent.h) and, for an intent that
 * loads, its expansion into a target topology against a small synthesized
 * estate (two hubs in two regions, spokes tagged role/env/traffic as
 * `netwave synth` tags them).  Checked: a failure is bad input naming the
 * file; wave names are unique and durations not negative; a mesh's
 * members and the spokes left out are distinct VNets of the estate, in
 * topology order; the expansion is deterministic and gives a topology
 * that loads.
 */
#include "config.h"

#include <string.h>

#include "plan/intent.h"
#include "plan/synth.h"
#include "tests/fuzz/fuzz.h"

#define NAME "intent.json"

/* The estate every intent is expanded against: built once, read-only after. */
static struct topology *
estate(void)
{
	static struct topology *t;
	static const char *const regions[] = { "eastus", "westus" };
	struct synth_opts o = { .hubs = 2, .spokes_per_hub = 4, .pe_per_spoke = 2,
		.regions = regions, .nregions = 2, .udr_spokes = 1, .seed = 9 };
	struct nw_err err = { 0 };
	json_t *doc = NULL;

	if (t != NULL)
		return t;
	FUZZ_CHECK(synth_generate(&doc, &o, &err) == 0, "synth: %s", err.msg);
	FUZZ_CHECK(topology_load_json(&t, doc, "estate", &err) == 0, "estate: %s", err.msg);
	return t;
}

static void
check_rollout(const struct intent_rollout *r)
{
	FUZZ_CHECK(r->soak_before_decommission >= 0 && r->soak_between_waves >= 0,
	    "negative soak %ld, %ld", r->soak_before_decommission, r->soak_between_waves);
	for (size_t i = 0; i < r->nwaves; i++)
		for (size_t j = i + 1; j < r->nwaves; j++)
			FUZZ_CHECK(strcmp(r->waves[i].name, r->waves[j].name) != 0, "two waves named "
			    "'%s'", r->waves[i].name);
}

static void
check_members(const struct intent_change *c, const struct topology *cur)
{
	size_t *m = NULL, *insp = NULL, nm = 0, ninsp = 0, i, j;
	struct nw_err err = { 0 };

	if (intent_mesh_members(&m, &nm, &insp, &ninsp, c, cur, &err) == 0) {
		for (i = 0; i < nm; i++) {
			FUZZ_CHECK(m[i] < cur->nvnets, "member %zu is VNet %zu of %zu", i, m[i],
			    cur->nvnets);
			FUZZ_CHECK(i == 0 || m[i - 1] < m[i], "members out of topology order");
			for (j = 0; j < ninsp; j++)
				FUZZ_CHECK(insp[j] != m[i], "VNet %zu both a member and left out", m[i]);
		}
		for (j = 0; j < ninsp; j++)
			FUZZ_CHECK(insp[j] < cur->nvnets, "left-out VNet %zu of %zu", insp[j], cur->nvnets);
	} else {
		FUZZ_CHECK(err.msg[0] != '\0', "members failed without a message");
	}
	free(m);
	free(insp);
}

static void
check_target(const struct intent *in)
{
	struct topology *cur = estate(), *tt = NULL;
	json_t *a = NULL, *b = NULL;
	struct nw_err err = { 0 }, err2 = { 0 };
	int rc, rc2;

	check_rollout(&in->parsed_rollout);
	for (size_t i = 0; i < in->nchanges; i++)
		if (intent_mesh_group(&in->changes[i]) != NULL)
			check_members(&in->changes[i], cur);
	rc = intent_target(&a, in, cur, &err);
	rc2 = intent_target(&b, in, cur, &err2);
	FUZZ_CHECK(rc == rc2, "the same intent expands with %d, then %d", rc, rc2);
	if (!fuzz_accepted(rc, a, &err, NAME, "intent")) {
		FUZZ_CHECK(strcmp(err.msg, err2.msg) == 0, "two messages: '%s', '%s'", err.msg, err2.msg);
		goto done;
	}
	FUZZ_CHECK(json_equal(a, b), "the same intent expands to two targets");
	rc = topology_load_json(&tt, json_incref(a), "target", &err);
	FUZZ_CHECK(rc == 0, "the target does not load: %s", err.msg);
done:
	topology_free(tt);
	json_decref(a);
	json_decref(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct intent *in = NULL;
	struct nw_err err = { 0 };
	int rc;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	rc = intent_load_buffer(&in, (const char *)data, size, NAME, &err);
	if (fuzz_accepted(rc, in, &err, NAME, "intent"))
		check_target(in);
	intent_free(in);
	return 0;
}
