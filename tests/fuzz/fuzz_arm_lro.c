/*
 * Fuzz target: how providers/azure/ops.c follows a write through ARM's
 * long-running-operation contract (reference/azure-arm.md section 5):
 * the initial answer (status, Azure-AsyncOperation, Location,
 * Retry-After, provisioningState), the status bodies it polls
 * ({"status": ..., "error": {...}}), the final GET and the error bodies.
 *
 * The first line names the write, "PUT", "PATCH", "POST" or "DELETE",
 * optionally followed by "async|location|resource <url>" (resumed from
 * the journal while polling) or "final <url>" (a POST resumed at its
 * final GET); the answers follow (armfake.h).  Checked, beyond what
 * fuzz_arm_run checks for every operation: the write is sent once, every
 * later request is a GET (a poll never sends the write again), and a
 * DELETE that succeeds has no result.
 */
#include "config.h"

#include <string.h>

#include "tests/fuzz/armfake.h"
#include "tests/fuzz/fuzz.h"

#define RESOURCE FUZZ_SUB "/resourceGroups/rg-1/providers/Microsoft.Network/virtualNetworks/vnet-1" \
	"?api-version=2024-05-01"
#define ACTION FUZZ_SUB "/resourceGroups/rg-1/providers/Microsoft.Network/networkManagers/nm-1" \
	"/commit?api-version=2024-05-01"

struct seen {
	const struct provider_op *op;
	bool resumed;
};

static void
on_seen(const struct az_xfer *x, unsigned n, void *arg)
{
	const struct seen *s = arg;

	if (n == 0 && !s->resumed) {
		FUZZ_CHECK(strcmp(x->method, s->op->method) == 0, "first request %s, not %s", x->method,
		    s->op->method);
		return;
	}
	FUZZ_CHECK(strcmp(x->method, "GET") == 0, "request %u is %s %s: the write sent again", n,
	    x->method, x->url);
	FUZZ_CHECK(x->body == NULL, "a GET with a body");
}

/* "async <url>" and the like: the state a journal would give back. */
static void
resume(struct provider_op *op, char *how)
{
	char *url = strchr(how, ' ');

	if (url == NULL)
		return;
	*url++ = '\0';
	if (strcmp(how, "final") == 0) {
		op->phase = PROVIDER_PHASE_FINAL;
		op->final_url = strdup(url);
		return;
	}
	op->phase = PROVIDER_PHASE_POLLING;
	op->poll_kind = strcmp(how, "async") == 0 ? PROVIDER_POLL_ASYNC :
	    strcmp(how, "location") == 0 ? PROVIDER_POLL_LOCATION : PROVIDER_POLL_RESOURCE;
	if (op->poll_kind != PROVIDER_POLL_RESOURCE)
		op->poll_url = strdup(url);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_arm f;
	struct provider_op *op = NULL;
	struct seen s;
	json_t *body = NULL;
	char *first = NULL, *how;
	bool is_post, is_delete;

	if (!fuzz_arm_init(&f, data, size))
		return 0;
	if ((first = strdup(fuzz_arm_line(&f))) == NULL)
		goto done;
	how = strchr(first, ' ');
	if (how != NULL)
		*how++ = '\0';
	is_post = strcmp(first, "POST") == 0;
	is_delete = strcmp(first, "DELETE") == 0;
	if (is_post)
		body = json_pack("{s:[s],s:s}", "targetLocations", "eastus", "commitType", "Connectivity");
	else if (!is_delete)
		body = json_pack("{s:s,s:{}}", "location", "eastus", "properties");
	op = provider_op_new(PROVIDER_OP_WRITE, first, is_post ? ACTION : RESOURCE, body);
	if (op == NULL)
		goto done;
	if (how != NULL)
		resume(op, how);
	s.op = op;
	/* what az_op_submit follows instead of sending the write again */
	s.resumed = op->phase == PROVIDER_PHASE_FINAL || (op->phase == PROVIDER_PHASE_POLLING &&
	    (op->poll_kind == PROVIDER_POLL_RESOURCE || op->poll_url != NULL));
	if (fuzz_arm_run(&f, op, &(struct fuzz_arm_hooks){ on_seen, NULL, &s }) && is_delete)
		FUZZ_CHECK(op->result == NULL, "a DELETE with a result");
done:
	provider_op_free(op);
	json_decref(body);
	free(first);
	fuzz_arm_cleanup(&f);
	return 0;
}
