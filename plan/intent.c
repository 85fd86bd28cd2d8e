/*
 * The intent (see intent.h): loads a netwave.intent/v1 file as strictly
 * as the topology loader loads a topology (this file: loader plumbing,
 * selectors, changes; the rollout is intent_rollout.c, each kind's keys
 * are its plan/proc/<kind>_intent.c), and expands it against the
 * current topology into the target topology the diff and the planner
 * work from (intent_expand.c).  The expansion is the end state after every wave, the
 * decommission phase included; how to get there safely is the planner's
 * business, not this file's.  What to change is decided from the current
 * topology (members, advertised prefixes, routes), never from the half-
 * expanded one; the edits merge into one working copy, so two meshes of
 * one manager both end up in a region's deployed set, and the order of
 * changes only matters where two of them write the same property.
 */
#include "config.h"

#include <fnmatch.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/cidr.h"
#include "plan/findings.h"
#include "plan/gwmigrate.h"
#include "plan/intent.h"
#include "plan/intent_impl.h"
#include "plan/jsonutil.h"
#include "plan/limits.h"
#include "plan/procedure.h"
#include "plan/rgroups.h"
#include "plan/routes.h"

void
intent_loader_init(struct intent_loader *l, const char *source, const char *pointer,
    struct nw_err *err)
{
	memset(l, 0, sizeof(*l));
	l->source = source != NULL ? source : "<memory>";
	l->err = err;
	snprintf(l->ptr, sizeof(l->ptr), "%s", pointer != NULL ? pointer : "");
}

int
intent_fail(struct intent_loader *l, const char *fmt, ...)
{
	char msg[NW_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (l->ptr[0] == '\0')
		return err_set(l->err, NW_EINPUT, "%s: %s", l->source, msg);
	return err_set(l->err, NW_EINPUT, "%s: %s: %s", l->source, l->ptr, msg);
}

int
intent_fail_at(struct intent_loader *l, const char *key, const char *fmt, ...)
{
	char msg[NW_ERR_MSG_MAX];
	size_t old;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	old = intent_push(l, key);
	rc = intent_fail(l, "%s", msg);
	intent_pop(l, old);
	return rc;
}

size_t
intent_push(struct intent_loader *l, const char *key)
{
	size_t old = strlen(l->ptr);

	json_pointer_push(l->ptr, sizeof(l->ptr), key);
	return old;
}

size_t
intent_push_index(struct intent_loader *l, size_t i)
{
	size_t old = strlen(l->ptr);

	json_pointer_push_index(l->ptr, sizeof(l->ptr), i);
	return old;
}

void
intent_pop(struct intent_loader *l, size_t old)
{
	l->ptr[old] = '\0';
}

const char *
intent_json_kind(const json_t *v)
{
	static const char *const names[8] = {
		"an object", "an array", "a string", "a number", "a number", "true", "false", "null",
	};

	return json_kind_name(v, names);
}

int
intent_parse_array(struct intent_loader *l, const json_t *arr, size_t elem, void *out, size_t *n,
    intent_elem_fn *parse)
{
	char *base = calloc(json_array_size(arr), elem);
	size_t i;
	int rc = 0;

	if (base == NULL)
		return intent_nomem(l->err);
	memcpy(out, &base, sizeof(base));
	for (i = 0; i < json_array_size(arr) && rc == 0; i++) {
		size_t old = intent_push_index(l, i);

		*n = i + 1;
		rc = parse(l, base + i * elem, json_array_get(arr, i));
		intent_pop(l, old);
	}
	return rc;
}

char *
intent_strdup(const char *s)
{
	return s == NULL ? NULL : strdup(s);
}

int
intent_nomem(struct nw_err *err)
{
	return err_set(err, NW_ENOMEM, "out of memory");
}

int
intent_check_object(struct intent_loader *l, const json_t *v, const char *what, const char *const *allowed)
{
	if (!json_is_object(v))
		return intent_fail(l, "expected %s, found %s", what, intent_json_kind(v));
	return intent_check_keys(l, v, allowed);
}

/* Unknown keys are errors: a typo must not silently mean "not given". */
int
intent_check_keys(struct intent_loader *l, const json_t *obj, const char *const *allowed)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach((json_t *)obj, key, v) {
		char expected[512] = "";
		bool ok = false;

		for (i = 0; allowed[i] != NULL; i++) {
			if (strcmp(allowed[i], key) == 0)
				ok = true;
			if (i > 0)
				strncat(expected, allowed[i + 1] == NULL ? " or " : ", ",
				    sizeof(expected) - strlen(expected) - 1);
			strncat(expected, allowed[i], sizeof(expected) - strlen(expected) - 1);
		}
		if (!ok)
			return intent_fail_at(l, key, "unknown key \"%s\"; expected %s", key, expected);
	}
	return 0;
}

/* obj.key as a non-empty string; *out NULL when absent and !required. */
int
intent_get_string(struct intent_loader *l, const json_t *obj, const char *key, bool required, const char **out)
{
	json_t *v = json_object_get(obj, key);
	size_t old;
	int rc = 0;

	*out = NULL;
	if (v == NULL) {
		if (required)
			return intent_fail(l, "no \"%s\"", key);
		return 0;
	}
	old = intent_push(l, key);
	if (!json_is_string(v))
		rc = intent_fail(l, "expected a string, found %s", intent_json_kind(v));
	else if (json_string_length(v) == 0)
		rc = intent_fail(l, "expected a non-empty string");
	else if (strlen(json_string_value(v)) != json_string_length(v))
		rc = intent_fail(l, "the string holds a NUL character");
	else
		*out = json_string_value(v);
	intent_pop(l, old);
	return rc;
}

int
intent_get_integer(struct intent_loader *l, const json_t *obj, const char *key, const char *what,
    long long min, long long max, long long *out)
{
	const json_t *v = json_object_get(obj, key);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v))
		return intent_fail_at(l, key, "expected %s, found %s", what, intent_json_kind(v));
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return intent_fail_at(l, key, "%lld is out of range: expected %lld to %lld",
		    (long long)json_integer_value(v), min, max);
	*out = json_integer_value(v);
	return 0;
}

int
intent_get_bool(struct intent_loader *l, const json_t *obj, const char *key, bool *out)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return intent_fail_at(l, key, "expected true or false, found %s", intent_json_kind(v));
	*out = json_is_true(v);
	return 0;
}

/* A non-empty array of non-empty strings; *out malloc'd (strings borrowed). */
int
intent_get_string_list(struct intent_loader *l, const json_t *v, const char ***out, size_t *n)
{
	const char **list;
	json_t *item;
	size_t i;

	*out = NULL;
	*n = 0;
	if (!json_is_array(v))
		return intent_fail(l, "expected an array of strings, found %s", intent_json_kind(v));
	if (json_array_size(v) == 0)
		return intent_fail(l, "the list is empty, so it would match nothing");
	list = calloc(json_array_size(v), sizeof(*list));
	if (list == NULL)
		return intent_nomem(l->err);
	json_array_foreach(v, i, item) {
		if (!json_is_string(item) || json_string_length(item) == 0) {
			size_t old = intent_push_index(l, i);
			int rc = json_is_string(item) ?
			    intent_fail(l, "expected a non-empty string") :
			    intent_fail(l, "expected a string, found %s", intent_json_kind(item));
			intent_pop(l, old);
			free(list);
			return rc;
		}
		list[i] = json_string_value(item);
	}
	*out = list;
	*n = json_array_size(v);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Selectors                                                           */

static const char *const SELECTOR_KEYS[] = {
	"tags", "names", "ids", "resourceGroups", "locations", "all", NULL,
};

/* The key of each string criterion, by enum intent_criterion. */
static const char *const CRITERION_KEYS[INTENT_CRITERIA] = {
	[INTENT_NAMES] = "names",
	[INTENT_IDS] = "ids",
	[INTENT_RESOURCE_GROUPS] = "resourceGroups",
	[INTENT_LOCATIONS] = "locations",
};

int
intent_selector_load(struct intent_loader *l, struct intent_selector *s, const json_t *v)
{
	enum intent_criterion c;
	json_t *item;
	size_t old;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	if ((s->pointer = intent_strdup(l->ptr)) == NULL)
		return intent_nomem(l->err);
	if ((rc = intent_check_object(l, v, "a selector object (tags, names, ids, resourceGroups, locations "
	    "or all)", SELECTOR_KEYS)) != 0)
		return rc;
	if (json_object_size(v) == 0)
		return intent_fail(l, "the selector is empty; to select everything say \"all\": true");

	if ((item = json_object_get(v, "all")) != NULL) {
		old = intent_push(l, "all");
		if (!json_is_true(item))
			rc = intent_fail(l, "expected true, found %s (leave \"all\" out to select less)",
			    intent_json_kind(item));
		intent_pop(l, old);
		if (rc != 0)
			return rc;
		s->all = true;
	}
	if ((item = json_object_get(v, "tags")) != NULL) {
		const char *tk;
		json_t *tv;

		old = intent_push(l, "tags");
		if (!json_is_object(item))
			rc = intent_fail(l, "expected an object of tag names to values, found %s",
			    intent_json_kind(item));
		else if (json_object_size(item) == 0)
			rc = intent_fail(l, "no tags given, so it would match nothing");
		else if ((s->tags = calloc(json_object_size(item), sizeof(*s->tags))) == NULL)
			rc = intent_nomem(l->err);
		if (rc == 0) {
			json_object_foreach(item, tk, tv) {
				if (!json_is_string(tv)) {
					size_t o2 = intent_push(l, tk);
					rc = intent_fail(l, "expected a string tag value (\"*\" for any value), "
					    "found %s", intent_json_kind(tv));
					intent_pop(l, o2);
					break;
				}
				s->tags[s->ntags].key = tk;
				s->tags[s->ntags].value = json_string_value(tv);
				s->ntags++;
			}
		}
		intent_pop(l, old);
		if (rc != 0)
			return rc;
	}
	for (c = 0; c < INTENT_CRITERIA; c++) {
		if ((item = json_object_get(v, CRITERION_KEYS[c])) == NULL)
			continue;
		old = intent_push(l, CRITERION_KEYS[c]);
		rc = intent_get_string_list(l, item, &s->lists[c].v, &s->lists[c].n);
		intent_pop(l, old);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
intent_selector_parse(struct intent_selector *out, const json_t *v, const char *source,
    const char *pointer, struct nw_err *err)
{
	struct intent_loader l;
	int rc;

	intent_loader_init(&l, source, pointer, err);
	if ((rc = intent_selector_load(&l, out, v)) != 0)
		intent_selector_free(out);
	return rc;
}

void
intent_selector_free(struct intent_selector *s)
{
	enum intent_criterion c;

	if (s == NULL)
		return;
	free(s->tags);
	for (c = 0; c < INTENT_CRITERIA; c++)
		free(s->lists[c].v);
	free(s->pointer);
	memset(s, 0, sizeof(*s));
}

/* True when one entry of criterion c matches the resource. */
static bool
criterion_match(enum intent_criterion c, const char *want, const struct topo_resource *r)
{
	switch (c) {
	case INTENT_NAMES:
		return r->name != NULL && fnmatch(want, r->name, FNM_CASEFOLD) == 0;
	case INTENT_IDS:
		return topo_id_compare(want, r->id) == 0;
	case INTENT_RESOURCE_GROUPS:
		return r->resource_group != NULL && strcasecmp(want, r->resource_group) == 0;
	case INTENT_LOCATIONS:
		return r->location != NULL && topo_location_equal(want, r->location);
	case INTENT_CRITERIA:
		break;
	}
	return false;
}

bool
intent_selector_match(const struct intent_selector *s, const struct topo_resource *r)
{
	enum intent_criterion c;
	size_t i;
	bool any;

	for (i = 0; i < s->ntags; i++) {
		const char *v = topology_tag(r, s->tags[i].key);
		if (v == NULL || (strcmp(s->tags[i].value, "*") != 0 && strcmp(v, s->tags[i].value) != 0))
			return false;
	}
	for (c = 0; c < INTENT_CRITERIA; c++) {
		const struct intent_strlist *list = &s->lists[c];

		if (list->n == 0)
			continue;
		for (any = false, i = 0; i < list->n && !any; i++)
			any = criterion_match(c, list->v[i], r);
		if (!any)
			return false;
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* Changes                                                             */



/* The i-th "/"-separated segment of an id (0 is the one after the leading "/"). */
bool
intent_id_segment(const char *id, size_t i, const char **seg, size_t *len)
{
	if (*id != '/')
		return false;
	id++;
	for (;;) {
		size_t n = strcspn(id, "/");
		if (i == 0) {
			*seg = id;
			*len = n;
			return true;
		}
		if (id[n] == '\0')
			return false;
		id += n + 1;
		i--;
	}
}

bool
intent_segment_is(const char *id, size_t i, const char *want)
{
	const char *s;
	size_t n;

	return intent_id_segment(id, i, &s, &n) && n == strlen(want) && strncasecmp(s, want, n) == 0;
}

/* /subscriptions/S/resourceGroups/G/providers/Microsoft.Network/networkManagers/N */
bool
intent_network_manager_id_ok(const char *id)
{
	const char *s;
	size_t n, i;

	for (i = 0; i < 8; i++)
		if (!intent_id_segment(id, i, &s, &n) || n == 0)
			return false;
	return intent_segment_is(id, 0, "subscriptions") && intent_segment_is(id, 2, "resourceGroups") &&
	    intent_segment_is(id, 4, "providers") && intent_segment_is(id, 5, "Microsoft.Network") &&
	    intent_segment_is(id, 6, "networkManagers") && !intent_id_segment(id, 8, &s, &n);
}

/* ARM's rule for network group names: letters, digits, "_", ".", "-"; 1 to 64. */
bool
intent_arm_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 64)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '.' || c == '-'))
			return false;
	}
	return s[0] != '.' && s[0] != '-' && s[n - 1] != '.';
}

int
intent_check_arm_name(struct intent_loader *l, const char *key, const char *what, const char *name)
{
	if (intent_arm_name_ok(name))
		return 0;
	return intent_fail_at(l, key, "invalid %s name \"%s\": use 1 to 64 letters, digits, '_', '.' or '-'",
	    what, name);
}

int
intent_selector_at(struct intent_loader *l, const json_t *obj, const char *key, struct intent_selector *s)
{
	json_t *v = json_object_get(obj, key);
	size_t old;
	int rc;

	if (v == NULL)
		return intent_fail(l, "no \"%s\": say which resources this change is for (a selector, "
		    "or {\"all\": true})", key);
	old = intent_push(l, key);
	rc = intent_selector_load(l, s, v);
	intent_pop(l, old);
	return rc;
}

/* The kinds an intent may name, from the registry: "a, b or c". */
static const char *
known_kinds(char *buf, size_t size)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; procedures[i] != NULL; i++)
		if (procedures[i]->intent != NULL)
			n++;
	for (i = 0; procedures[i] != NULL && n > 0; i++) {
		if (procedures[i]->intent == NULL)
			continue;
		if (buf[0] != '\0')
			strncat(buf, n == 1 ? " or " : ", ", size - strlen(buf) - 1);
		strncat(buf, procedures[i]->name, size - strlen(buf) - 1);
		n--;
	}
	return buf;
}

static int
change_parse(struct intent_loader *l, void *elem, const json_t *v)
{
	struct intent_change *c = elem;
	const struct procedure *proc;
	char names[512];
	const char *kind;
	size_t old;
	int rc;

	c->json = (json_t *)v; /* the intent's own document, which it owns */
	if ((c->pointer = intent_strdup(l->ptr)) == NULL)
		return intent_nomem(l->err);
	if (!json_is_object(v))
		return intent_fail(l, "expected a change object with a \"kind\", found %s", intent_json_kind(v));
	if ((rc = intent_get_string(l, v, "kind", true, &kind)) != 0)
		return rc;
	if ((rc = intent_get_string(l, v, "description", false, &(const char *){ NULL })) != 0)
		return rc;
	proc = procedure_find(kind);
	if (proc != NULL && proc->intent != NULL) {
		c->kind = proc->name;
		if ((c->state = calloc(1, proc->intent->size)) == NULL)
			return intent_nomem(l->err);
		return proc->intent->parse(l, c->state, v);
	}
	old = intent_push(l, "kind");
	rc = intent_fail(l, "unknown change kind \"%s\"; expected %s", kind, known_kinds(names, sizeof(names)));
	intent_pop(l, old);
	return rc;
}

static void
change_free(struct intent_change *c)
{
	const struct procedure *proc = procedure_find(c->kind);

	free(c->pointer);
	if (c->state != NULL && proc != NULL && proc->intent != NULL)
		proc->intent->clear(c->state);
	free(c->state);
}

/* ------------------------------------------------------------------ */
/* Loading                                                             */

static const char *const TOP_KEYS[] = { "format", "description", "changes", "rollout", NULL };

static int
intent_parse(struct intent *in, struct nw_err *err)
{
	struct intent_loader l;
	json_t *format, *changes;
	size_t i, old;
	int rc;

	intent_loader_init(&l, in->source, NULL, err);
	if (!json_is_object(in->root))
		return intent_fail(&l, "the top level is %s, not an object: an intent is an object with "
		    "\"format\": \"%s\"", intent_json_kind(in->root), INTENT_FORMAT);
	format = json_object_get(in->root, "format");
	if (format == NULL)
		return intent_fail(&l, "no \"format\": an intent starts with \"format\": \"%s\"",
		    INTENT_FORMAT);
	old = intent_push(&l, "format");
	if (!json_is_string(format) || strcmp(json_string_value(format), INTENT_FORMAT) != 0) {
		if (json_is_string(format))
			rc = intent_fail(&l, "unknown format \"%s\", expected \"%s\"%s",
			    json_string_value(format), INTENT_FORMAT,
			    strcmp(json_string_value(format), TOPOLOGY_FORMAT) == 0 ?
			    " (this is a topology: pass it as --current or --target)" : "");
		else
			rc = intent_fail(&l, "expected the string \"%s\", found %s", INTENT_FORMAT,
			    intent_json_kind(format));
		return rc;
	}
	intent_pop(&l, old);
	if ((rc = intent_check_keys(&l, in->root, TOP_KEYS)) != 0 ||
	    (rc = intent_get_string(&l, in->root, "description", false, &(const char *){ NULL })) != 0)
		return rc;
	changes = json_object_get(in->root, "changes");
	if (changes == NULL)
		return intent_fail(&l, "no \"changes\": an intent lists at least one change");
	old = intent_push(&l, "changes");
	if (!json_is_array(changes))
		return intent_fail(&l, "expected an array of changes, found %s", intent_json_kind(changes));
	if (json_array_size(changes) == 0)
		return intent_fail(&l, "the list is empty: an intent lists at least one change");
	if ((rc = intent_parse_array(&l, changes, sizeof(*in->changes), &in->changes, &in->nchanges,
	    change_parse)) != 0)
		return rc;
	intent_pop(&l, old);
	for (i = 0; i < in->nchanges; i++) {
		const struct procedure *proc = procedure_find(in->changes[i].kind);
		if (proc->intent->check != NULL && (rc = proc->intent->check(&l, in, i)) != 0)
			return rc;
	}
	in->rollout = json_object_get(in->root, "rollout");
	if (in->rollout != NULL && json_is_null(in->rollout))
		in->rollout = NULL;
	l.ptr[0] = '\0';
	old = intent_push(&l, "rollout");
	rc = intent_rollout_load(&l, &in->parsed_rollout, in->rollout);
	intent_pop(&l, old);
	return rc;
}

static int
intent_from_json(struct intent **out, json_t *root, const char *name, struct nw_err *err)
{
	struct intent *in;
	int rc;

	*out = NULL;
	in = calloc(1, sizeof(*in));
	if (in == NULL || (in->source = strdup(name)) == NULL) {
		free(in);
		json_decref(root);
		return intent_nomem(err);
	}
	in->root = root;
	if ((rc = intent_parse(in, err)) != 0) {
		intent_free(in);
		return rc;
	}
	*out = in;
	return 0;
}

int
intent_load_buffer(struct intent **out, const char *buf, size_t len, const char *name,
    struct nw_err *err)
{
	json_error_t jerr;
	json_t *root;

	*out = NULL;
	if (name == NULL)
		name = "<memory>";
	if (len > INTENT_MAX_BYTES)
		return err_set(err, NW_EINPUT, "%s: input is %zu bytes, over the limit of %zu bytes",
		    name, len, INTENT_MAX_BYTES);
	if (json_text_blank(&buf, &len))
		return err_set(err, NW_EINPUT, "%s: the file is empty, expected a JSON object", name);
	if (memchr(buf, '\0', len) != NULL)
		return err_set(err, NW_EINPUT, "%s: NUL byte: this is binary data, not JSON text",
		    name);
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return err_set(err, NW_EINPUT, "%s: line %d, column %d: %s", name, jerr.line,
		    jerr.column, jerr.text);
	return intent_from_json(out, root, name, err);
}

int
intent_load_file(struct intent **out, const char *path, struct nw_err *err)
{
	const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if ((rc = file_read_all(&buf, &len, path, INTENT_MAX_BYTES, err)) != 0)
		return err != NULL && err->code < 0 ? err->code : rc;
	rc = intent_load_buffer(out, buf, len, name, err);
	free(buf);
	return rc;
}

void
intent_free(struct intent *in)
{
	size_t i;

	if (in == NULL)
		return;
	for (i = 0; i < in->nchanges; i++)
		change_free(&in->changes[i]);
	free(in->changes);
	intent_rollout_free(&in->parsed_rollout);
	json_decref(in->root);
	free(in->source);
	free(in);
}

