/*
 * Fuzz target: how providers/azure reads pages of ARM answers: Resource
 * Graph query pages ({"data": [...], "$skipToken": ...}), list pages that
 * follow nextLink, POST lists that page with a body skipToken (AVNM's
 * list*), single reads, and the Resource Graph rows that discovery turns
 * into ARM-shaped resources (az_graph_row_to_resource).
 *
 * The first line names the read, "QUERY", "LIST", "POSTLIST" or "READ";
 * the answers follow (armfake.h).  Checked, beyond fuzz_arm_run: each
 * next page is asked for with the token the previous page gave, on the
 * ARM endpoint; a finished list holds every item of every page, in
 * order; and each row, made a resource, keeps its fields and its type
 * (in ARM's casing) and has no null.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "tests/fuzz/armfake.h"
#include "tests/fuzz/fuzz.h"

#define LIST_PATH FUZZ_SUB "/providers/Microsoft.Network/virtualNetworks?api-version=2024-05-01"
#define POST_LIST_PATH FUZZ_SUB "/resourceGroups/rg-1/providers/Microsoft.Network/networkManagers" \
	"/nm-1/listDeploymentStatus?api-version=2024-05-01"
#define QUERY "resources | where type =~ 'microsoft.network/virtualnetworks'"

struct pages {
	enum provider_op_kind kind;
	json_t *items;     /* every item of the pages answered 200, as the client should keep them */
	char *token;       /* the last page's token, to be asked for next */
};

static const char *
items_key(enum provider_op_kind kind)
{
	return kind == PROVIDER_OP_QUERY ? "data" : "value";
}

static const char *
token_key(enum provider_op_kind kind)
{
	return kind == PROVIDER_OP_QUERY ? "$skipToken" :
	    kind == PROVIDER_OP_POST_LIST ? "skipToken" : "nextLink";
}

/* The request for page n > 0 asks for the token of page n - 1. */
static void
on_seen(const struct az_xfer *x, unsigned n, void *arg)
{
	struct pages *p = arg;
	json_t *req = NULL;

	if (n == 0 || p->token == NULL)
		return;
	if (p->kind == PROVIDER_OP_LIST) {
		FUZZ_CHECK(strncmp(x->url, p->token, strlen(p->token)) == 0, "asked for '%s' after "
		    "nextLink '%s'", x->url, p->token);
		return;
	}
	req = x->body != NULL ? json_loads(x->body, 0, NULL) : NULL;
	FUZZ_CHECK(strcmp(x->method, "POST") == 0 && req != NULL, "page %u: %s without a body", n,
	    x->method);
	{
		const char *t = p->kind == PROVIDER_OP_QUERY ?
		    json_path_str(req, "options", "$skipToken", NULL) : json_str(req, "skipToken");
		FUZZ_CHECK(t != NULL && strcmp(t, p->token) == 0, "page %u asks for '%s', not '%s'", n,
		    t != NULL ? t : "(none)", p->token);
	}
	json_decref(req);
}

/* Notes what an answered page holds (before the client reads it). */
static void
note_page(const struct az_xfer *x, void *arg)
{
	struct pages *p = arg;
	json_t *body;
	const char *t;

	free(p->token);
	p->token = NULL;
	if (x->status != 200 || x->resp == NULL)
		return;
	body = json_loadb(x->resp, x->resp_len, JSON_DECODE_ANY, NULL);
	if (json_is_object(body)) {
		json_t *items = json_object_get(body, items_key(p->kind));
		if (json_is_array(items))
			json_array_extend(p->items, items);
		t = json_str(body, token_key(p->kind));
		if (t != NULL && t[0] != '\0')
			p->token = strdup(t);
	}
	json_decref(body);
}

static void
check_row(const json_t *row)
{
	json_t *res = az_graph_row_to_resource(row);
	const char *type = json_str(row, "type"), *k;
	json_t *v;

	if (type == NULL) {
		FUZZ_CHECK(res == NULL, "a row without a type made a resource");
		return;
	}
	if (res == NULL)
		return; /* out of memory */
	FUZZ_CHECK(json_str(res, "type") != NULL && strcasecmp(json_str(res, "type"), type) == 0,
	    "type '%s' became '%s'", type, json_str(res, "type"));
	json_object_foreach(res, k, v) {
		FUZZ_CHECK(!json_is_null(v), "field '%s' is null", k);
		if (strcmp(k, "type") != 0)
			FUZZ_CHECK(json_equal(v, json_object_get(row, k)), "field '%s' changed", k);
	}
	json_decref(res);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_arm f;
	struct provider_op *op = NULL;
	struct pages p = { 0 };
	const char *first;
	const char *path;

	if (!fuzz_arm_init(&f, data, size))
		return 0;
	first = fuzz_arm_line(&f);
	p.kind = strcmp(first, "LIST") == 0 ? PROVIDER_OP_LIST :
	    strcmp(first, "POSTLIST") == 0 ? PROVIDER_OP_POST_LIST :
	    strcmp(first, "READ") == 0 ? PROVIDER_OP_READ : PROVIDER_OP_QUERY;
	path = p.kind == PROVIDER_OP_LIST || p.kind == PROVIDER_OP_READ ? LIST_PATH :
	    p.kind == PROVIDER_OP_POST_LIST ? POST_LIST_PATH : QUERY;
	if ((p.items = json_array()) == NULL ||
	    (op = provider_op_new(p.kind, NULL, path, NULL)) == NULL)
		goto done;
	if (fuzz_arm_run(&f, op, &(struct fuzz_arm_hooks){ on_seen, note_page, &p })) {
		if (p.kind != PROVIDER_OP_READ) {
			FUZZ_CHECK(json_is_array(op->result), "a list that is not an array");
			FUZZ_CHECK(json_equal(op->result, p.items), "%zu items kept of %zu given",
			    json_array_size(op->result), json_array_size(p.items));
		}
		if (p.kind == PROVIDER_OP_QUERY) {
			size_t i;
			json_t *row;
			json_array_foreach(op->result, i, row)
				check_row(row);
		}
	}
done:
	provider_op_free(op);
	json_decref(p.items);
	free(p.token);
	fuzz_arm_cleanup(&f);
	return 0;
}
