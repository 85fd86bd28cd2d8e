/*
 * Fuzz target: the topology loader (plan/topology.h), from memory as
 * `netwave check -` reads standard input.  Checked: a failure is bad
 * input with a message naming the document; a success is indexed (every
 * resource is found again by its id) and its canonical dump loads again
 * and dumps to the same bytes.
 */
#include "config.h"

#include <string.h>

#include "plan/topology.h"
#include "tests/fuzz/fuzz.h"

#define NAME "fuzz.json"

static void
check_loaded(const struct topology *t)
{
	struct topology *again = NULL;
	struct nw_err err = { 0 };
	char *dump, *dump2 = NULL;

	for (size_t i = 0; i < t->nres; i++) {
		const struct topo_resource *r = &t->res[i];
		const struct topo_resource *f = topology_find(t, r->id);
		FUZZ_CHECK(f != NULL && topo_id_compare(f->id, r->id) == 0, "resource %zu ('%s') is "
		    "not found by its id", i, r->id);
	}
	dump = topology_dump(t);
	if (dump == NULL)
		return; /* out of memory */
	FUZZ_CHECK(strlen(dump) > 0 && dump[strlen(dump) - 1] == '\n', "dump without a final newline");
	FUZZ_CHECK(topology_load_buffer(&again, dump, strlen(dump), "dump", NULL, &err) == 0,
	    "the canonical dump does not load: %s", err.msg);
	FUZZ_CHECK(again->nres == t->nres, "%zu resources, then %zu", t->nres, again->nres);
	dump2 = topology_dump(again);
	FUZZ_CHECK(dump2 == NULL || strcmp(dump, dump2) == 0, "load -> dump -> load -> dump "
	    "changes the bytes");
	free(dump2);
	free(dump);
	topology_free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct topology_load_opts opts = { FUZZ_MAX_INPUT, 0 };
	struct topology *t = NULL;
	struct nw_err err = { 0 };
	int rc;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	rc = topology_load_buffer(&t, (const char *)data, size, NAME, &opts, &err);
	if (fuzz_accepted(rc, t, &err, NAME, "document"))
		check_loaded(t);
	topology_free(t);
	return 0;
}
