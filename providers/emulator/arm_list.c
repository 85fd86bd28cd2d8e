/*
 * Lists of Microsoft.Network resources as ARM pages them: {value,
 * nextLink}, in id order, $top items a page (default and largest from the
 * options), continued with an opaque $skipToken.  A child type's list
 * comes from its parent's array; a top-level type's from the sorted ids,
 * under a resource group or a whole subscription.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/base64.h"
#include "plan/jsonutil.h"
#include "providers/emulator/arm.h"

static int
parse_top(struct emulator *e, struct emu_req *r, unsigned *top)
{
	const char *t = emu_query(r, "$top");
	char *end;
	unsigned long v;

	*top = e->page_size;
	if (t == NULL)
		return 0;
	v = strtoul(t, &end, 10);
	if (t[0] == '\0' || *end != '\0' || t[0] == '-' || v < 1 || v > e->max_page_size) {
		emu_reply_error(r, 400, "InvalidTopParameter",
		    "The value '%s' of query parameter '$top' is invalid: it must be an integer between 1 and %u.",
		    t, e->max_page_size);
		return -1;
	}
	*top = (unsigned)v;
	return 0;
}

/* base64url without padding, so the token needs no escaping in a URL. */
static char *
token_encode(const char *s)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t n = strlen(s), i, o = 0;
	char *out = malloc(n * 4 / 3 + 5);

	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		out[o++] = tbl[(v >> 18) & 63];
		out[o++] = tbl[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = tbl[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = tbl[v & 63];
	}
	out[o] = '\0';
	return out;
}

/* A skip token back to the key it carries; NULL when it is not one of ours. */
static char *
token_decode(const char *s)
{
	size_t n;

	return (char *)base64_decode(s, strlen(s), true, &n);
}

struct item {
	const char *key;  /* lowercase id, the order and the skip token */
	json_t *obj;
};

static int
cmp_item(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->key, ((const struct item *)b)->key);
}

static void
reply_page(struct emulator *e, struct emu_req *r, struct item *items, size_t n, unsigned top)
{
	const char *tok = emu_query(r, "$skipToken");
	char *after = NULL;
	size_t i = 0, taken = 0;
	json_t *value = json_array(), *out;

	if (tok != NULL) {
		after = token_decode(tok);
		if (after == NULL) {
			emu_reply_error(r, 400, "InvalidSkipToken", "The $skipToken '%s' is not valid.", tok);
			json_decref(value);
			return;
		}
		while (i < n && strcmp(items[i].key, after) <= 0)
			i++;
	}
	for (; i < n && taken < top; i++, taken++)
		json_array_append_new(value, arm_wire(items[i].obj));
	out = json_pack("{s:o}", "value", value);
	if (i < n) {
		char *t = token_encode(items[i - 1].key);
		const char *api = emu_query(r, "api-version");

		if (t == NULL) {
			json_decref(out);
			free(after);
			emu_reply_oom(r);
			return;
		}

		if (emu_query(r, "$top") != NULL)
			json_object_set_new(out, "nextLink", json_sprintf(
			    "%s%s?api-version=%s&$top=%u&$skipToken=%s", r->base, r->path, api, top, t));
		else
			json_object_set_new(out, "nextLink", json_sprintf("%s%s?api-version=%s&$skipToken=%s",
			    r->base, r->path, api, t));
		free(t);
	}
	free(after);
	(void)e;
	emu_reply_json(r, 200, out);
}

/* Room for more items (and their lowercase keys); -1 on out of memory. */
static int
grow(struct item **items, char ***lowkeys, size_t *cap)
{
	size_t ncap = *cap * 2 + 16;
	struct item *ni = realloc(*items, ncap * sizeof(**items));

	if (ni == NULL)
		return -1;
	*items = ni;
	if (lowkeys != NULL) {
		char **nk = realloc(*lowkeys, ncap * sizeof(**lowkeys));
		if (nk == NULL)
			return -1;
		*lowkeys = nk;
	}
	*cap = ncap;
	return 0;
}

void
arm_list_resources(struct emulator *e, struct emu_req *r, struct arm_path *p)
{
	const struct arm_type *t = p->type;
	struct item *items = NULL;
	size_t n = 0, cap = 0;
	unsigned top;
	char **lowkeys = NULL;
	size_t nlow = 0, i;

	if (parse_top(e, r, &top) != 0)
		return;
	emu_op_name(r, "list %s", t->type);
	if (t->embed != NULL) {
		json_t *pp, *pc, *c;

		if (!emu_store_find(e, p->parent_id, &pp, &pc, NULL, NULL) || pc != NULL) {
			emu_reply_error(r, 404, "ResourceNotFound",
			    "The Resource '%s/%s' under resource group '%s' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
			    p->ptype->type, emu_id_last(p->parent_id), p->rg);
			return;
		}
		json_array_foreach(json_path(pp, "properties", t->embed, NULL), i, c) {
			if (n == cap && grow(&items, &lowkeys, &cap) != 0)
				goto oom;
			lowkeys[nlow] = emu_lower(json_str(c, "id") != NULL ? json_str(c, "id") : "");
			if (lowkeys[nlow] == NULL)
				goto oom;
			items[n].key = lowkeys[nlow++];
			items[n++].obj = c;
		}
		qsort(items, n, sizeof(*items), cmp_item);
	} else {
		const char **keys;
		size_t nk, start;
		char *pref;

		if (p->parent_id != NULL && p->ptype != NULL) {
			json_t *pp, *pc;
			if (!emu_store_find(e, p->parent_id, &pp, &pc, NULL, NULL) || pc != NULL) {
				emu_reply_error(r, 404, "ParentResourceNotFound",
				    "Can not perform requested operation on nested resource. Parent resource '%s' not found.",
				    emu_id_last(p->parent_id));
				return;
			}
		}
		{
			char *raw = p->rg != NULL ? emu_printf("%s/%s/", p->parent_id, arm_type_leaf(t)) :
			    emu_printf("/subscriptions/%s/", p->sub);

			pref = raw != NULL ? emu_lower(raw) : NULL;
			free(raw);
			if (pref == NULL)
				goto oom;
		}
		emu_store_sorted(e, &keys, &nk);
		start = emu_store_lower_bound(e, pref);
		for (i = start; i < nk && strncmp(keys[i], pref, strlen(pref)) == 0; i++) {
			json_t *obj = json_object_get(e->res, keys[i]);
			const char *type = json_str(obj, "type");

			if (type == NULL || strcasecmp(type, t->type) != 0)
				continue;
			/* direct children only */
			if (p->rg != NULL && strchr(keys[i] + strlen(pref), '/') != NULL)
				continue;
			if (n == cap && grow(&items, NULL, &cap) != 0) {
				free(pref);
				goto oom;
			}
			items[n].key = keys[i];
			items[n++].obj = obj;
		}
		free(pref);
	}
	reply_page(e, r, items, n, top);
	goto done;
oom:
	emu_reply_oom(r);
done:
	for (i = 0; i < nlow; i++)
		free(lowkeys[i]);
	free(lowkeys);
	free(items);
}

