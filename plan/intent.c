/*
 * The intent (see intent.h): loads a netwave.intent/v1 file as strictly
 * as the topology loader loads a topology, and expands it against the
 * current topology into the target topology the diff and the planner
 * work from.  The expansion is the end state after every wave, the
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
#include "plan/intent.h"
#include "plan/jsonutil.h"
#include "plan/limits.h"
#include "plan/rgroups.h"
#include "plan/routes.h"

#define PTR_MAX 1024

#define FEATURE_HIGH_SCALE_GROUP "Microsoft.Network/AllowHighScaleConnectedGroup"
#define FEATURE_HSPE "Microsoft.Network/EnableMaxPrivateEndpointsVia64kPath"

/* ------------------------------------------------------------------ */
/* Loader plumbing: where we are, and messages that say so             */

struct loader {
	const char *source;
	char ptr[PTR_MAX];
	struct nw_err *err;
};

static int fail(struct loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(struct loader *l, const char *fmt, ...)
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

static size_t
push(struct loader *l, const char *key)
{
	size_t old = strlen(l->ptr);

	json_pointer_push(l->ptr, sizeof(l->ptr), key);
	return old;
}

static size_t
push_index(struct loader *l, size_t i)
{
	size_t old = strlen(l->ptr);

	json_pointer_push_index(l->ptr, sizeof(l->ptr), i);
	return old;
}

static void
pop(struct loader *l, size_t old)
{
	l->ptr[old] = '\0';
}

static const char *
kind_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
		return "null";
	}
	return "a value";
}

static char *
xstrdup(const char *s)
{
	return s == NULL ? NULL : strdup(s);
}

static int
nomem(struct nw_err *err)
{
	return err_set(err, NW_ENOMEM, "out of memory");
}

/* Unknown keys are errors: a typo must not silently mean "not given". */
static int
check_keys(struct loader *l, const json_t *obj, const char *const *allowed)
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
		if (!ok) {
			int rc;
			size_t old = push(l, key);
			rc = fail(l, "unknown key \"%s\"; expected %s", key, expected);
			pop(l, old);
			return rc;
		}
	}
	return 0;
}

/* obj.key as a non-empty string; *out NULL when absent and !required. */
static int
get_string(struct loader *l, const json_t *obj, const char *key, bool required, const char **out)
{
	json_t *v = json_object_get(obj, key);
	size_t old;
	int rc = 0;

	*out = NULL;
	if (v == NULL) {
		if (required)
			return fail(l, "no \"%s\"", key);
		return 0;
	}
	old = push(l, key);
	if (!json_is_string(v))
		rc = fail(l, "expected a string, found %s", kind_name(v));
	else if (json_string_length(v) == 0)
		rc = fail(l, "expected a non-empty string");
	else if (strlen(json_string_value(v)) != json_string_length(v))
		rc = fail(l, "the string holds a NUL character");
	else
		*out = json_string_value(v);
	pop(l, old);
	return rc;
}

static int
get_bool(struct loader *l, const json_t *obj, const char *key, bool *out)
{
	json_t *v = json_object_get(obj, key);
	size_t old;
	int rc = 0;

	if (v == NULL)
		return 0;
	if (!json_is_boolean(v)) {
		old = push(l, key);
		rc = fail(l, "expected true or false, found %s", kind_name(v));
		pop(l, old);
		return rc;
	}
	*out = json_is_true(v);
	return 0;
}

/* A non-empty array of non-empty strings; *out malloc'd (strings borrowed). */
static int
get_string_list(struct loader *l, const json_t *v, const char ***out, size_t *n)
{
	const char **list;
	json_t *item;
	size_t i;

	*out = NULL;
	*n = 0;
	if (!json_is_array(v))
		return fail(l, "expected an array of strings, found %s", kind_name(v));
	if (json_array_size(v) == 0)
		return fail(l, "the list is empty, so it would match nothing");
	list = calloc(json_array_size(v), sizeof(*list));
	if (list == NULL)
		return nomem(l->err);
	json_array_foreach(v, i, item) {
		if (!json_is_string(item) || json_string_length(item) == 0) {
			size_t old = push_index(l, i);
			int rc = json_is_string(item) ?
			    fail(l, "expected a non-empty string") :
			    fail(l, "expected a string, found %s", kind_name(item));
			pop(l, old);
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

static int
selector_parse(struct loader *l, struct intent_selector *s, const json_t *v)
{
	json_t *item;
	size_t old, i;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	if ((s->pointer = xstrdup(l->ptr)) == NULL)
		return nomem(l->err);
	if (!json_is_object(v))
		return fail(l, "expected a selector object (tags, names, ids, resourceGroups, "
		    "locations or all), found %s", kind_name(v));
	if (json_object_size(v) == 0)
		return fail(l, "the selector is empty; to select everything say \"all\": true");
	if ((rc = check_keys(l, v, SELECTOR_KEYS)) != 0)
		return rc;

	if ((item = json_object_get(v, "all")) != NULL) {
		old = push(l, "all");
		if (!json_is_true(item))
			rc = fail(l, "expected true, found %s (leave \"all\" out to select less)",
			    kind_name(item));
		pop(l, old);
		if (rc != 0)
			return rc;
		s->all = true;
	}
	if ((item = json_object_get(v, "tags")) != NULL) {
		const char *tk;
		json_t *tv;

		old = push(l, "tags");
		if (!json_is_object(item))
			rc = fail(l, "expected an object of tag names to values, found %s",
			    kind_name(item));
		else if (json_object_size(item) == 0)
			rc = fail(l, "no tags given, so it would match nothing");
		else if ((s->tags = calloc(json_object_size(item), sizeof(*s->tags))) == NULL)
			rc = nomem(l->err);
		if (rc == 0) {
			json_object_foreach(item, tk, tv) {
				if (!json_is_string(tv)) {
					size_t o2 = push(l, tk);
					rc = fail(l, "expected a string tag value (\"*\" for any value), "
					    "found %s", kind_name(tv));
					pop(l, o2);
					break;
				}
				s->tags[s->ntags].key = tk;
				s->tags[s->ntags].value = json_string_value(tv);
				s->ntags++;
			}
		}
		pop(l, old);
		if (rc != 0)
			return rc;
	}
	static const struct {
		const char *key;
		size_t off_list, off_n;
	} lists[] = {
		{ "names", offsetof(struct intent_selector, names), offsetof(struct intent_selector, nnames) },
		{ "ids", offsetof(struct intent_selector, ids), offsetof(struct intent_selector, nids) },
		{ "resourceGroups", offsetof(struct intent_selector, resource_groups),
		  offsetof(struct intent_selector, nresource_groups) },
		{ "locations", offsetof(struct intent_selector, locations),
		  offsetof(struct intent_selector, nlocations) },
	};
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		if ((item = json_object_get(v, lists[i].key)) == NULL)
			continue;
		old = push(l, lists[i].key);
		rc = get_string_list(l, item, (const char ***)((char *)s + lists[i].off_list),
		    (size_t *)((char *)s + lists[i].off_n));
		pop(l, old);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
intent_selector_parse(struct intent_selector *out, const json_t *v, const char *source,
    const char *pointer, struct nw_err *err)
{
	struct loader l;
	int rc;

	memset(&l, 0, sizeof(l));
	l.source = source != NULL ? source : "<memory>";
	l.err = err;
	snprintf(l.ptr, sizeof(l.ptr), "%s", pointer != NULL ? pointer : "");
	if ((rc = selector_parse(&l, out, v)) != 0)
		intent_selector_free(out);
	return rc;
}

void
intent_selector_free(struct intent_selector *s)
{
	if (s == NULL)
		return;
	free(s->tags);
	free(s->names);
	free(s->ids);
	free(s->resource_groups);
	free(s->locations);
	free(s->pointer);
	memset(s, 0, sizeof(*s));
}

bool
intent_selector_match(const struct intent_selector *s, const struct topo_resource *r)
{
	size_t i;
	bool any;

	for (i = 0; i < s->ntags; i++) {
		const char *v = topology_tag(r, s->tags[i].key);
		if (v == NULL || (strcmp(s->tags[i].value, "*") != 0 && strcmp(v, s->tags[i].value) != 0))
			return false;
	}
	if (s->nnames > 0) {
		for (any = false, i = 0; i < s->nnames && !any; i++)
			any = r->name != NULL && fnmatch(s->names[i], r->name, FNM_CASEFOLD) == 0;
		if (!any)
			return false;
	}
	if (s->nids > 0) {
		for (any = false, i = 0; i < s->nids && !any; i++)
			any = topo_id_compare(s->ids[i], r->id) == 0;
		if (!any)
			return false;
	}
	if (s->nresource_groups > 0) {
		for (any = false, i = 0; i < s->nresource_groups && !any; i++)
			any = r->resource_group != NULL &&
			    strcasecmp(s->resource_groups[i], r->resource_group) == 0;
		if (!any)
			return false;
	}
	if (s->nlocations > 0) {
		for (any = false, i = 0; i < s->nlocations && !any; i++)
			any = r->location != NULL && topo_location_equal(s->locations[i], r->location);
		if (!any)
			return false;
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* Rollout                                                             */

long
intent_duration_parse(const char *s)
{
	long total = 0;

	if (s == NULL || *s == '\0')
		return -1;
	while (*s != '\0') {
		long n = 0, unit;

		if (*s < '0' || *s > '9')
			return -1;
		for (; *s >= '0' && *s <= '9'; s++) {
			if (n > (LONG_MAX - 9) / 10)
				return -1;
			n = n * 10 + (*s - '0');
		}
		switch (*s) {
		case 's':
			unit = 1;
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'd':
			unit = 86400;
			break;
		case 'w':
			unit = 7 * 86400;
			break;
		default:
			return -1;
		}
		s++;
		if (n > (LONG_MAX - total) / unit)
			return -1;
		total += n * unit;
	}
	return total;
}

static int
get_duration(struct loader *l, const json_t *obj, const char *key, long *out)
{
	json_t *v = json_object_get(obj, key);
	size_t old;
	long d;
	int rc = 0;

	if (v == NULL)
		return 0;
	old = push(l, key);
	if (!json_is_string(v))
		rc = fail(l, "expected a duration string such as \"14d\" or \"1h30m\", found %s",
		    kind_name(v));
	else if ((d = intent_duration_parse(json_string_value(v))) < 0)
		rc = fail(l, "invalid duration \"%s\": expected numbers with units s, m, h, d or w, "
		    "such as \"14d\" or \"1h30m\"", json_string_value(v));
	else
		*out = d;
	pop(l, old);
	return rc;
}

/* A whole number from 1 to max; *out untouched when absent. */
static int
get_count(struct loader *l, const json_t *obj, const char *key, unsigned long max,
    unsigned long *out)
{
	json_t *v = json_object_get(obj, key);
	size_t old;
	int rc = 0;

	if (v == NULL)
		return 0;
	old = push(l, key);
	if (!json_is_integer(v))
		rc = fail(l, "expected a whole number, found %s", kind_name(v));
	else if (json_integer_value(v) < 1 || (unsigned long long)json_integer_value(v) > max)
		rc = fail(l, "%lld is out of range: expected 1 to %lu",
		    (long long)json_integer_value(v), max);
	else
		*out = (unsigned long)json_integer_value(v);
	pop(l, old);
	return rc;
}

static bool
utc_timestamp_ok(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	size_t i;
	int mon, day, hh, mm, ss;

	if (strlen(s) != sizeof(shape) - 1)
		return false;
	for (i = 0; shape[i] != '\0'; i++) {
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
			return false;
	}
	mon = (s[5] - '0') * 10 + (s[6] - '0');
	day = (s[8] - '0') * 10 + (s[9] - '0');
	hh = (s[11] - '0') * 10 + (s[12] - '0');
	mm = (s[14] - '0') * 10 + (s[15] - '0');
	ss = (s[17] - '0') * 10 + (s[18] - '0');
	return mon >= 1 && mon <= 12 && day >= 1 && day <= 31 && hh <= 23 && mm <= 59 && ss <= 59;
}

static const char *const ROLLOUT_KEYS[] = {
	"waves", "soak", "maintenanceWindow", "writeBudget", "sampleSize", NULL,
};
static const char *const WAVE_KEYS[] = { "name", "members", "max", NULL };
static const char *const SOAK_KEYS[] = { "beforeDecommission", "betweenWaves", NULL };
static const char *const WINDOW_KEYS[] = { "start", "duration", NULL };
static const char *const BUDGET_KEYS[] = { "writesPerSecond", "burst", NULL };

static int
wave_parse(struct loader *l, struct intent_rollout *r, struct intent_wave *w, const json_t *v)
{
	json_t *m;
	size_t j;
	int rc;

	if ((w->pointer = xstrdup(l->ptr)) == NULL)
		return nomem(l->err);
	if (!json_is_object(v))
		return fail(l, "expected a wave object with a \"name\", found %s", kind_name(v));
	if ((rc = check_keys(l, v, WAVE_KEYS)) != 0 ||
	    (rc = get_string(l, v, "name", true, &w->name)) != 0)
		return rc;
	for (j = 0; j < r->nwaves; j++) {
		if (strcmp(r->waves[j].name, w->name) == 0) {
			size_t old = push(l, "name");
			rc = fail(l, "wave name \"%s\" is already used by %s", w->name,
			    r->waves[j].pointer);
			pop(l, old);
			return rc;
		}
	}
	if ((m = json_object_get(v, "members")) != NULL) {
		size_t old = push(l, "members");
		rc = selector_parse(l, &w->members, m);
		pop(l, old);
		if (rc != 0)
			return rc;
		w->has_members = true;
	}
	unsigned long max = 0;
	if ((rc = get_count(l, v, "max", 1000000ul, &max)) != 0)
		return rc;
	w->max = max;
	return 0;
}

static int
rollout_parse(struct loader *l, struct intent_rollout *r, const json_t *v)
{
	json_t *item;
	size_t old, i;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	r->soak_before_decommission = INTENT_DEFAULT_SOAK_DECOMMISSION;
	r->sample_size = INTENT_DEFAULT_SAMPLE_SIZE;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return fail(l, "expected a rollout object, found %s", kind_name(v));
	if ((rc = check_keys(l, v, ROLLOUT_KEYS)) != 0)
		return rc;

	if ((item = json_object_get(v, "waves")) != NULL) {
		old = push(l, "waves");
		if (!json_is_array(item))
			rc = fail(l, "expected an array of waves, found %s", kind_name(item));
		else if (json_array_size(item) > 0 &&
		    (r->waves = calloc(json_array_size(item), sizeof(*r->waves))) == NULL)
			rc = nomem(l->err);
		for (i = 0; rc == 0 && i < json_array_size(item); i++) {
			size_t o2 = push_index(l, i);
			rc = wave_parse(l, r, &r->waves[i], json_array_get(item, i));
			pop(l, o2);
			r->nwaves = i + 1;
		}
		pop(l, old);
		if (rc != 0)
			return rc;
	}
	if ((item = json_object_get(v, "soak")) != NULL) {
		old = push(l, "soak");
		if (!json_is_object(item))
			rc = fail(l, "expected an object with beforeDecommission and betweenWaves, "
			    "found %s", kind_name(item));
		else if ((rc = check_keys(l, item, SOAK_KEYS)) == 0 &&
		    (rc = get_duration(l, item, "beforeDecommission", &r->soak_before_decommission)) == 0)
			rc = get_duration(l, item, "betweenWaves", &r->soak_between_waves);
		pop(l, old);
		if (rc != 0)
			return rc;
	}
	if ((item = json_object_get(v, "maintenanceWindow")) != NULL && !json_is_null(item)) {
		old = push(l, "maintenanceWindow");
		if (!json_is_object(item))
			rc = fail(l, "expected null or an object with \"start\" and \"duration\", "
			    "found %s", kind_name(item));
		else if ((rc = check_keys(l, item, WINDOW_KEYS)) == 0 &&
		    (rc = get_string(l, item, "start", true, &r->window_start)) == 0) {
			if (!utc_timestamp_ok(r->window_start)) {
				size_t o2 = push(l, "start");
				rc = fail(l, "invalid time \"%s\": expected UTC as "
				    "YYYY-MM-DDTHH:MM:SSZ", r->window_start);
				pop(l, o2);
			} else if (json_object_get(item, "duration") == NULL) {
				rc = fail(l, "no \"duration\"");
			} else {
				rc = get_duration(l, item, "duration", &r->window_seconds);
			}
			if (rc == 0 && r->window_seconds <= 0) {
				size_t o2 = push(l, "duration");
				rc = fail(l, "the window must last longer than 0s");
				pop(l, o2);
			}
		}
		pop(l, old);
		if (rc != 0)
			return rc;
		r->has_maintenance_window = true;
	}
	if ((item = json_object_get(v, "writeBudget")) != NULL) {
		json_t *wps;

		old = push(l, "writeBudget");
		if (!json_is_object(item))
			rc = fail(l, "expected an object with writesPerSecond and burst, found %s",
			    kind_name(item));
		else if ((rc = check_keys(l, item, BUDGET_KEYS)) == 0) {
			r->burst = (unsigned long)limit_get(LIMIT_ARM_WRITE_BUCKET)->value;
			r->writes_per_second = (double)limit_get(LIMIT_NETWORK_WRITES_5MIN)->value / 300.0;
			if ((wps = json_object_get(item, "writesPerSecond")) != NULL) {
				size_t o2 = push(l, "writesPerSecond");
				if (!json_is_number(wps))
					rc = fail(l, "expected a number, found %s", kind_name(wps));
				else if (!(json_number_value(wps) > 0) || !isfinite(json_number_value(wps)) ||
				    json_number_value(wps) > 1e6)
					rc = fail(l, "expected a number of writes per second above 0");
				else
					r->writes_per_second = json_number_value(wps);
				pop(l, o2);
			}
			if (rc == 0)
				rc = get_count(l, item, "burst", 1000000ul, &r->burst);
		}
		pop(l, old);
		if (rc != 0)
			return rc;
		r->has_write_budget = true;
	}
	return get_count(l, v, "sampleSize", 1000000ul, &r->sample_size);
}

int
intent_rollout_parse(struct intent_rollout *out, const json_t *v, const char *source,
    const char *pointer, struct nw_err *err)
{
	struct loader l;
	int rc;

	memset(&l, 0, sizeof(l));
	l.source = source != NULL ? source : "<memory>";
	l.err = err;
	snprintf(l.ptr, sizeof(l.ptr), "%s", pointer != NULL ? pointer : "");
	if ((rc = rollout_parse(&l, out, v)) != 0)
		intent_rollout_free(out);
	return rc;
}

void
intent_rollout_free(struct intent_rollout *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nwaves; i++) {
		intent_selector_free(&r->waves[i].members);
		free(r->waves[i].pointer);
	}
	free(r->waves);
	memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------------ */
/* Changes                                                             */

static const char *const KIND_NAMES[] = {
	[INTENT_AVNM_MESH] = "avnm-mesh",
	[INTENT_GATEWAY_STANDARD_IP] = "gateway-standard-ip",
	[INTENT_SUMMARIZE_PREFIXES] = "summarize-gateway-prefixes",
};

const char *
intent_kind_name(enum intent_kind k)
{
	if ((size_t)k < sizeof(KIND_NAMES) / sizeof(KIND_NAMES[0]))
		return KIND_NAMES[k];
	return "unknown";
}

static const char *const MESH_KEYS[] = {
	"kind", "description", "networkManager", "networkGroup", "members",
	"highScalePrivateEndpoints", "global", NULL,
};
static const char *const GATEWAY_KEYS[] = { "kind", "description", "gateways", NULL };
static const char *const SUMMARIZE_KEYS[] = {
	"kind", "description", "hubs", "prefixes", "minPrefixLength", NULL,
};
static const char *const NM_KEYS[] = { "id", "scope", NULL };
static const char *const SCOPE_KEYS[] = { "subscriptions", "managementGroups", NULL };
static const char *const MIN_LEN_KEYS[] = { "ipv4", "ipv6", NULL };

/* The i-th "/"-separated segment of an id (0 is the one after the leading "/"). */
static bool
id_segment(const char *id, size_t i, const char **seg, size_t *len)
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

static bool
segment_is(const char *id, size_t i, const char *want)
{
	const char *s;
	size_t n;

	return id_segment(id, i, &s, &n) && n == strlen(want) && strncasecmp(s, want, n) == 0;
}

/* /subscriptions/S/resourceGroups/G/providers/Microsoft.Network/networkManagers/N */
static bool
network_manager_id_ok(const char *id)
{
	const char *s;
	size_t n, i;

	for (i = 0; i < 8; i++)
		if (!id_segment(id, i, &s, &n) || n == 0)
			return false;
	return segment_is(id, 0, "subscriptions") && segment_is(id, 2, "resourceGroups") &&
	    segment_is(id, 4, "providers") && segment_is(id, 5, "Microsoft.Network") &&
	    segment_is(id, 6, "networkManagers") && !id_segment(id, 8, &s, &n);
}

/* ARM's rule for network group names: letters, digits, "_", ".", "-"; 1 to 64. */
static bool
arm_name_ok(const char *s)
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

static int
selector_at(struct loader *l, const json_t *obj, const char *key, struct intent_selector *s)
{
	json_t *v = json_object_get(obj, key);
	size_t old;
	int rc;

	if (v == NULL)
		return fail(l, "no \"%s\": say which resources this change is for (a selector, "
		    "or {\"all\": true})", key);
	old = push(l, key);
	rc = selector_parse(l, s, v);
	pop(l, old);
	return rc;
}

static int
mesh_parse(struct loader *l, struct intent_change *c, const json_t *v)
{
	json_t *nm, *scope, *item;
	size_t old, o2;
	int rc;

	if ((rc = check_keys(l, v, MESH_KEYS)) != 0)
		return rc;
	nm = json_object_get(v, "networkManager");
	if (nm == NULL)
		return fail(l, "no \"networkManager\": give {\"id\": \"/subscriptions/.../"
		    "networkManagers/NAME\"}");
	old = push(l, "networkManager");
	if (!json_is_object(nm)) {
		rc = fail(l, "expected an object with \"id\" and \"scope\", found %s", kind_name(nm));
		goto out;
	}
	if ((rc = check_keys(l, nm, NM_KEYS)) != 0 ||
	    (rc = get_string(l, nm, "id", true, &c->network_manager_id)) != 0)
		goto out;
	if (!network_manager_id_ok(c->network_manager_id)) {
		o2 = push(l, "id");
		rc = fail(l, "\"%s\" is not a network manager id: expected /subscriptions/SUB/"
		    "resourceGroups/RG/providers/Microsoft.Network/networkManagers/NAME",
		    c->network_manager_id);
		pop(l, o2);
		goto out;
	}
	if ((scope = json_object_get(nm, "scope")) != NULL) {
		o2 = push(l, "scope");
		if (!json_is_object(scope))
			rc = fail(l, "expected an object with subscriptions and managementGroups, "
			    "found %s", kind_name(scope));
		else
			rc = check_keys(l, scope, SCOPE_KEYS);
		if (rc == 0 && (item = json_object_get(scope, "subscriptions")) != NULL) {
			size_t o3 = push(l, "subscriptions");
			rc = get_string_list(l, item, &c->scope_subscriptions, &c->nscope_subscriptions);
			for (size_t i = 0; rc == 0 && i < c->nscope_subscriptions; i++) {
				if (!segment_is(c->scope_subscriptions[i], 0, "subscriptions") ||
				    id_segment(c->scope_subscriptions[i], 2, &(const char *){ NULL },
					&(size_t){ 0 })) {
					size_t o4 = push_index(l, i);
					rc = fail(l, "\"%s\" is not a subscription scope: expected "
					    "/subscriptions/GUID", c->scope_subscriptions[i]);
					pop(l, o4);
				}
			}
			pop(l, o3);
		}
		if (rc == 0 && (item = json_object_get(scope, "managementGroups")) != NULL) {
			size_t o3 = push(l, "managementGroups");
			rc = get_string_list(l, item, &c->scope_management_groups,
			    &c->nscope_management_groups);
			pop(l, o3);
		}
		if (rc == 0 && c->nscope_subscriptions == 0 && c->nscope_management_groups == 0)
			rc = fail(l, "the scope names no subscriptions and no management groups");
		pop(l, o2);
	}
out:
	pop(l, old);
	if (rc != 0)
		return rc;
	if ((rc = get_string(l, v, "networkGroup", true, &c->network_group)) != 0)
		return rc;
	if (!arm_name_ok(c->network_group)) {
		old = push(l, "networkGroup");
		rc = fail(l, "invalid network group name \"%s\": use 1 to 64 letters, digits, "
		    "'_', '.' or '-'", c->network_group);
		pop(l, old);
		return rc;
	}
	if ((rc = selector_at(l, v, "members", &c->members)) != 0 ||
	    (rc = get_bool(l, v, "highScalePrivateEndpoints", &c->high_scale_private_endpoints)) != 0)
		return rc;
	return get_bool(l, v, "global", &c->global);
}

static int
min_len_parse(struct loader *l, struct intent_change *c, const json_t *v)
{
	static const char *const fam[] = { "ipv4", "ipv6" };
	unsigned *dst[] = { &c->min_len4, &c->min_len6 };
	const unsigned maxv[] = { 32, 128 };
	size_t i, old;
	int rc = 0;

	if (v == NULL)
		return 0;
	old = push(l, "minPrefixLength");
	if (json_is_integer(v)) {
		/* a plain number is the IPv4 floor, the common case */
		if (json_integer_value(v) < 0 || json_integer_value(v) > 32)
			rc = fail(l, "%lld is out of range: an IPv4 prefix length is 0 to 32",
			    (long long)json_integer_value(v));
		else
			c->min_len4 = (unsigned)json_integer_value(v);
	} else if (json_is_object(v)) {
		if ((rc = check_keys(l, v, MIN_LEN_KEYS)) == 0) {
			for (i = 0; i < 2 && rc == 0; i++) {
				json_t *n = json_object_get(v, fam[i]);
				size_t o2;
				if (n == NULL)
					continue;
				o2 = push(l, fam[i]);
				if (!json_is_integer(n))
					rc = fail(l, "expected a prefix length, found %s", kind_name(n));
				else if (json_integer_value(n) < 0 ||
				    json_integer_value(n) > (json_int_t)maxv[i])
					rc = fail(l, "%lld is out of range: expected 0 to %u",
					    (long long)json_integer_value(n), maxv[i]);
				else
					*dst[i] = (unsigned)json_integer_value(n);
				pop(l, o2);
			}
		}
	} else {
		rc = fail(l, "expected a prefix length or {\"ipv4\": N, \"ipv6\": M}, found %s",
		    kind_name(v));
	}
	pop(l, old);
	return rc;
}

static int
summarize_parse(struct loader *l, struct intent_change *c, const json_t *v)
{
	json_t *p;
	size_t old, i;
	int rc;

	if ((rc = check_keys(l, v, SUMMARIZE_KEYS)) != 0 ||
	    (rc = selector_at(l, v, "hubs", &c->hubs)) != 0 ||
	    (rc = min_len_parse(l, c, json_object_get(v, "minPrefixLength"))) != 0)
		return rc;
	if ((p = json_object_get(v, "prefixes")) == NULL)
		return 0;
	old = push(l, "prefixes");
	if (json_is_string(p)) {
		if (strcmp(json_string_value(p), "auto") != 0)
			rc = fail(l, "expected \"auto\" or an array of prefixes, found \"%s\"",
			    json_string_value(p));
	} else if (json_is_array(p)) {
		if (json_array_size(p) == 0)
			rc = fail(l, "the list is empty: give the summaries, or \"auto\"");
		for (i = 0; rc == 0 && i < json_array_size(p); i++) {
			json_t *e = json_array_get(p, i);
			struct cidr cidr;
			size_t o2 = push_index(l, i);
			if (!json_is_string(e))
				rc = fail(l, "expected a prefix string, found %s", kind_name(e));
			else if ((rc = cidr_parse(&cidr, json_string_value(e), l->err)) != 0)
				err_prefix(l->err, "%s: %s", l->source, l->ptr);
			pop(l, o2);
		}
	} else {
		rc = fail(l, "expected \"auto\" or an array of prefixes, found %s", kind_name(p));
	}
	pop(l, old);
	return rc;
}

static int
change_parse(struct loader *l, struct intent_change *c, json_t *v)
{
	const char *kind;
	size_t old;
	int rc;

	c->json = v;
	c->min_len4 = INTENT_MIN_PREFIX_LEN4;
	c->min_len6 = INTENT_MIN_PREFIX_LEN6;
	if ((c->pointer = xstrdup(l->ptr)) == NULL)
		return nomem(l->err);
	if (!json_is_object(v))
		return fail(l, "expected a change object with a \"kind\", found %s", kind_name(v));
	if ((rc = get_string(l, v, "kind", true, &kind)) != 0)
		return rc;
	if ((rc = get_string(l, v, "description", false, &(const char *){ NULL })) != 0)
		return rc;
	if (strcmp(kind, "avnm-mesh") == 0) {
		c->kind = INTENT_AVNM_MESH;
		return mesh_parse(l, c, v);
	}
	if (strcmp(kind, "gateway-standard-ip") == 0) {
		c->kind = INTENT_GATEWAY_STANDARD_IP;
		if ((rc = check_keys(l, v, GATEWAY_KEYS)) != 0)
			return rc;
		return selector_at(l, v, "gateways", &c->gateways);
	}
	if (strcmp(kind, "summarize-gateway-prefixes") == 0) {
		c->kind = INTENT_SUMMARIZE_PREFIXES;
		return summarize_parse(l, c, v);
	}
	old = push(l, "kind");
	rc = fail(l, "unknown change kind \"%s\"; expected avnm-mesh, gateway-standard-ip or "
	    "summarize-gateway-prefixes", kind);
	pop(l, old);
	return rc;
}

static void
change_free(struct intent_change *c)
{
	free(c->pointer);
	free(c->scope_subscriptions);
	free(c->scope_management_groups);
	intent_selector_free(&c->members);
	intent_selector_free(&c->gateways);
	intent_selector_free(&c->hubs);
}

/* ------------------------------------------------------------------ */
/* Loading                                                             */

static const char *const TOP_KEYS[] = { "format", "description", "changes", "rollout", NULL };

static int
intent_parse(struct intent *in, struct nw_err *err)
{
	struct loader l;
	json_t *format, *changes;
	size_t i, old;
	int rc;

	memset(&l, 0, sizeof(l));
	l.source = in->source;
	l.err = err;
	if (!json_is_object(in->root))
		return fail(&l, "the top level is %s, not an object: an intent is an object with "
		    "\"format\": \"%s\"", kind_name(in->root), INTENT_FORMAT);
	format = json_object_get(in->root, "format");
	if (format == NULL)
		return fail(&l, "no \"format\": an intent starts with \"format\": \"%s\"",
		    INTENT_FORMAT);
	old = push(&l, "format");
	if (!json_is_string(format) || strcmp(json_string_value(format), INTENT_FORMAT) != 0) {
		if (json_is_string(format))
			rc = fail(&l, "unknown format \"%s\", expected \"%s\"%s",
			    json_string_value(format), INTENT_FORMAT,
			    strcmp(json_string_value(format), TOPOLOGY_FORMAT) == 0 ?
			    " (this is a topology: pass it as --current or --target)" : "");
		else
			rc = fail(&l, "expected the string \"%s\", found %s", INTENT_FORMAT,
			    kind_name(format));
		return rc;
	}
	pop(&l, old);
	if ((rc = check_keys(&l, in->root, TOP_KEYS)) != 0 ||
	    (rc = get_string(&l, in->root, "description", false, &(const char *){ NULL })) != 0)
		return rc;
	changes = json_object_get(in->root, "changes");
	if (changes == NULL)
		return fail(&l, "no \"changes\": an intent lists at least one change");
	old = push(&l, "changes");
	if (!json_is_array(changes))
		return fail(&l, "expected an array of changes, found %s", kind_name(changes));
	if (json_array_size(changes) == 0)
		return fail(&l, "the list is empty: an intent lists at least one change");
	in->changes = calloc(json_array_size(changes), sizeof(*in->changes));
	if (in->changes == NULL)
		return nomem(err);
	for (i = 0; i < json_array_size(changes); i++) {
		size_t o2 = push_index(&l, i);
		in->nchanges = i + 1;
		if ((rc = change_parse(&l, &in->changes[i], json_array_get(changes, i))) != 0)
			return rc;
		pop(&l, o2);
	}
	pop(&l, old);
	for (i = 0; i < in->nchanges; i++) {
		size_t j;
		/* two meshes of one group would fight over its configuration */
		for (j = 0; j < i; j++) {
			struct intent_change *a = &in->changes[j], *b = &in->changes[i];
			if (a->kind == INTENT_AVNM_MESH && b->kind == INTENT_AVNM_MESH &&
			    topo_id_compare(a->network_manager_id, b->network_manager_id) == 0 &&
			    strcasecmp(a->network_group, b->network_group) == 0) {
				snprintf(l.ptr, sizeof(l.ptr), "%s/networkGroup", b->pointer);
				return fail(&l, "network group \"%s\" is already meshed by %s",
				    b->network_group, a->pointer);
			}
		}
	}
	in->rollout = json_object_get(in->root, "rollout");
	if (in->rollout != NULL && json_is_null(in->rollout))
		in->rollout = NULL;
	l.ptr[0] = '\0';
	old = push(&l, "rollout");
	rc = rollout_parse(&l, &in->parsed_rollout, in->rollout);
	pop(&l, old);
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
		return nomem(err);
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
	size_t i;

	*out = NULL;
	if (name == NULL)
		name = "<memory>";
	if (len > INTENT_MAX_BYTES)
		return err_set(err, NW_EINPUT, "%s: input is %zu bytes, over the limit of %zu bytes",
		    name, len, INTENT_MAX_BYTES);
	if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
		buf += 3;
		len -= 3;
	}
	for (i = 0; i < len; i++)
		if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\n' && buf[i] != '\r')
			break;
	if (i == len)
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

/* ------------------------------------------------------------------ */
/* Expansion: the working document                                     */

/*
 * The target shares the current topology's JSON wherever the intent leaves
 * it alone (copy on write): a large estate is held once, not twice, and the
 * diff finds unchanged subtrees by pointer.  A current resource is copied
 * only when a change touches it, and then only down the path the change
 * takes (mut_object, mut_array): a node the current topology also holds
 * has a reference count over 1 and is copied before it is written, one
 * only the target holds is written in place.  Nothing may write to a
 * resource got from work_of or work_find; work_edit gives a writable one.
 */
enum work_state { WORK_SHARED = 0, WORK_SHALLOW, WORK_DEEP };

struct expander {
	const struct intent *in;
	const struct topology *cur;
	struct routes_ctx *ctx;  /* built on first use */
	json_t *root;            /* the target being built (owned) */
	json_t *resources;       /* its /resources (borrowed) */
	json_t *added;           /* lowercase id -> resource added by the expansion (owned) */
	unsigned char *state;    /* per current resource: enum work_state */
	struct nw_err *err;
};

static char *
lower_dup(const char *s)
{
	char *d = strdup(s), *p;

	if (d != NULL)
		for (p = d; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p + 32);
	return d;
}

/* A current resource as the target has it, for reading only. */
static json_t *
work_of(const struct expander *e, const struct topo_resource *r)
{
	return json_array_get(e->resources, r->index);
}

/*
 * A current resource made writable: a new object in the target whose
 * members are still shared (to be made writable with mut_object and
 * mut_array on the way down), or with deep a full copy, for the few
 * resources whose edits are many and small.  NULL on out of memory.
 */
static json_t *
work_edit(struct expander *e, const struct topo_resource *r, bool deep)
{
	json_t *v = json_array_get(e->resources, r->index), *c;

	if (v == NULL)
		return NULL;
	if (e->state[r->index] == WORK_DEEP || (e->state[r->index] == WORK_SHALLOW && !deep))
		return v;
	c = deep ? json_deep_copy(v) : json_copy(v);
	if (c == NULL || json_array_set_new(e->resources, r->index, c) != 0)
		return NULL;
	e->state[r->index] = deep ? WORK_DEEP : WORK_SHALLOW;
	return c;
}

/* Is v held elsewhere too (by the current topology), so that writing it needs a copy first? */
static bool
shared(const json_t *v)
{
	return v->refcount > 1;
}

/*
 * obj[key] as an object the target alone holds (borrowed): copied
 * (shallowly) when shared, created when absent or not an object.  obj
 * must be writable itself.  NULL on out of memory.
 */
static json_t *
mut_object(json_t *obj, const char *key)
{
	json_t *v;

	if (obj == NULL)
		return NULL;
	v = json_object_get(obj, key);
	if (!json_is_object(v) || shared(v)) {
		v = json_is_object(v) ? json_copy(v) : json_object();
		if (v == NULL || json_object_set_new(obj, key, v) != 0)
			return NULL;
	}
	return v;
}

/* obj[key] as an array the target alone holds (borrowed); NULL when it is not an array. */
static json_t *
mut_array(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_array(v))
		return NULL;
	if (shared(v)) {
		v = json_copy(v);
		if (v == NULL || json_object_set_new(obj, key, v) != 0)
			return NULL;
	}
	return v;
}

/* arr[i], an object, as one the target alone holds (borrowed); arr must be writable. */
static json_t *
mut_element(json_t *arr, size_t i)
{
	json_t *v = json_array_get(arr, i);

	if (!json_is_object(v))
		return NULL;
	if (shared(v)) {
		v = json_copy(v);
		if (v == NULL || json_array_set_new(arr, i, v) != 0)
			return NULL;
	}
	return v;
}

/* A writable resource of the target by id (fully copied if current), or NULL. */
static json_t *
work_find_edit(struct expander *e, const char *id)
{
	const struct topo_resource *r = topology_find(e->cur, id);
	char *key;
	json_t *v;

	if (r != NULL)
		return work_edit(e, r, true);
	if ((key = lower_dup(id)) == NULL)
		return NULL;
	v = json_object_get(e->added, key);
	free(key);
	return v;
}

/* A resource of the target by id: a current one (its working copy) or one we added. */
static json_t *
work_find(const struct expander *e, const char *id)
{
	const struct topo_resource *r = topology_find(e->cur, id);
	char *key;
	json_t *v;

	if (r != NULL)
		return work_of(e, r);
	if ((key = lower_dup(id)) == NULL)
		return NULL;
	v = json_object_get(e->added, key);
	free(key);
	return v;
}

/* Adds a resource (steals res). */
static int
work_add(struct expander *e, json_t *res)
{
	char *key;
	int rc = 0;

	if (res == NULL)
		return nomem(e->err);
	key = lower_dup(json_str(res, "id"));
	if (key == NULL || json_object_set(e->added, key, res) != 0 ||
	    json_array_append(e->resources, res) != 0)
		rc = nomem(e->err);
	free(key);
	json_decref(res);
	return rc;
}

/* obj[key] as an object, created when absent (borrowed). */
static json_t *
obj_child(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_object(v))
		return v;
	v = json_object();
	if (v == NULL || json_object_set_new(obj, key, v) != 0)
		return NULL;
	return v;
}

/* The member of obj whose key equals key case-insensitively, or NULL. */
static json_t *
obj_get_ci(json_t *obj, const char *key, const char **found)
{
	const char *k;
	json_t *v;

	json_object_foreach(obj, k, v) {
		if (strcasecmp(k, key) == 0) {
			if (found != NULL)
				*found = k;
			return v;
		}
	}
	return NULL;
}

/* The element of a named-children array with this name (case-insensitive). */
static json_t *
named_child(json_t *arr, const char *name, size_t *index)
{
	size_t i;

	for (i = 0; i < json_array_size(arr); i++) {
		const char *n = json_str(json_array_get(arr, i), "name");
		if (n != NULL && strcasecmp(n, name) == 0) {
			if (index != NULL)
				*index = i;
			return json_array_get(arr, i);
		}
	}
	return NULL;
}

static int
set_str(struct expander *e, json_t *obj, const char *key, const char *value)
{
	if (obj == NULL || json_object_set_new(obj, key, json_string(value)) != 0)
		return nomem(e->err);
	return 0;
}

static int
ensure_ctx(struct expander *e)
{
	if (e->ctx != NULL)
		return 0;
	return routes_ctx_new(&e->ctx, e->cur, e->err);
}

static int
selector_fail(const struct intent *in, const struct intent_selector *s, struct nw_err *err,
    const char *what)
{
	return err_set(err, NW_EINPUT, "%s: %s: matches no %s", in->source, s->pointer, what);
}

/* ------------------------------------------------------------------ */
/* avnm-mesh                                                           */

static bool
has_appliance_route(const struct topo_route_table *rt)
{
	size_t i;

	for (i = 0; rt != NULL && i < rt->nroutes; i++)
		if (rt->routes[i].next_hop == NH_VIRTUAL_APPLIANCE ||
		    rt->routes[i].next_hop == NH_VIRTUAL_APPLIANCE_ECMP)
			return true;
	return false;
}

/*
 * Does traffic from spoke v to another candidate go through an appliance
 * today?  Only subnets whose route table has an appliance route can, so
 * only those get their effective routes computed.
 */
static int
stays_inspected(bool *out, const struct routes_ctx *ctx, const struct topology *t,
    const struct topo_vnet *v, const size_t *cand, size_t ncand, struct nw_err *err)
{
	size_t i, j, k;
	int rc;

	*out = false;
	for (i = 0; i < v->nsubnets && !*out; i++) {
		const struct topo_subnet *s = &v->subnets[i];
		struct route_set set = { 0 };

		if (s->is_infrastructure || !has_appliance_route(s->route_table))
			continue;
		if ((rc = routes_effective(&set, ctx, s, err)) != 0)
			return rc;
		for (j = 0; j < ncand && !*out; j++) {
			const struct topo_vnet *o = &t->vnets[cand[j]];
			if (o == v)
				continue;
			for (k = 0; k < o->prefixes.n && !*out; k++) {
				const struct route *r = routes_lookup(&set, &o->prefixes.v[k]);
				*out = r != NULL && r->source == ROUTE_SRC_USER &&
				    (r->next_hop == NH_VIRTUAL_APPLIANCE ||
					r->next_hop == NH_VIRTUAL_APPLIANCE_ECMP);
			}
		}
		route_set_free(&set);
	}
	return 0;
}

struct mesh_sel {
	size_t *members, nmembers;
	size_t *inspected, ninspected;
	size_t nmatched, nhubs;
};

static void
mesh_sel_free(struct mesh_sel *m)
{
	free(m->members);
	free(m->inspected);
	memset(m, 0, sizeof(*m));
}

static int
mesh_select(struct mesh_sel *m, const struct routes_ctx *ctx, const struct intent_change *c,
    const struct topology *t, struct nw_err *err)
{
	size_t *cand = NULL, ncand = 0, i;
	int rc = 0;

	memset(m, 0, sizeof(*m));
	cand = calloc(t->nvnets + 1, sizeof(*cand));
	m->members = calloc(t->nvnets + 1, sizeof(*m->members));
	m->inspected = calloc(t->nvnets + 1, sizeof(*m->inspected));
	if (cand == NULL || m->members == NULL || m->inspected == NULL) {
		rc = nomem(err);
		goto done;
	}
	for (i = 0; i < t->nvnets; i++) {
		if (!intent_selector_match(&c->members, t->vnets[i].res))
			continue;
		m->nmatched++;
		if (findings_is_hub(&t->vnets[i]))
			m->nhubs++;
		else
			cand[ncand++] = i;
	}
	for (i = 0; i < ncand; i++) {
		bool insp;
		if ((rc = stays_inspected(&insp, ctx, t, &t->vnets[cand[i]], cand, ncand, err)) != 0)
			goto done;
		if (insp)
			m->inspected[m->ninspected++] = cand[i];
		else
			m->members[m->nmembers++] = cand[i];
	}
done:
	free(cand);
	if (rc != 0)
		mesh_sel_free(m);
	return rc;
}

int
intent_mesh_members(size_t **members, size_t *nmembers, size_t **inspected, size_t *ninspected,
    const struct intent_change *c, const struct topology *cur, struct nw_err *err)
{
	struct routes_ctx *ctx = NULL;
	struct mesh_sel m;
	int rc;

	*members = NULL;
	*nmembers = 0;
	if (inspected != NULL) {
		*inspected = NULL;
		*ninspected = 0;
	}
	if ((rc = routes_ctx_new(&ctx, cur, err)) != 0)
		return rc;
	rc = mesh_select(&m, ctx, c, cur, err);
	routes_ctx_free(ctx);
	if (rc != 0)
		return rc;
	*members = m.members;
	*nmembers = m.nmembers;
	if (inspected != NULL) {
		*inspected = m.inspected;
		*ninspected = m.ninspected;
	} else {
		free(m.inspected);
	}
	return 0;
}

/* The id of a child: parent + "/" + collection + "/" + name (malloc'd). */
static char *
child_id(const char *parent, const char *collection, const char *name)
{
	size_t n = strlen(parent) + strlen(collection) + strlen(name) + 3;
	char *s = malloc(n);

	if (s != NULL)
		snprintf(s, n, "%s/%s/%s", parent, collection, name);
	return s;
}

/* The last segment of an id. */
static const char *
last_segment(const char *id)
{
	const char *s = strrchr(id, '/');

	return s != NULL ? s + 1 : id;
}

static int
str_cmp_ci(const void *a, const void *b)
{
	int c = strcasecmp(*(const char *const *)a, *(const char *const *)b);

	return c != 0 ? c : strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Appends s to the string array obj[key] (created when absent) unless it is there in any case. */
static int
list_add_ci(json_t *obj, const char *key, const char *s)
{
	json_t *arr = json_object_get(obj, key);
	size_t i;

	for (i = 0; json_is_array(arr) && i < json_array_size(arr); i++)
		if (json_is_string(json_array_get(arr, i)) &&
		    strcasecmp(json_string_value(json_array_get(arr, i)), s) == 0)
			return 0;
	if (!json_is_array(arr)) {
		arr = json_array();
		if (arr == NULL || json_object_set_new(obj, key, arr) != 0)
			return NW_ENOMEM;
	}
	return json_array_append_new(arr, json_string(s)) != 0 ? NW_ENOMEM : 0;
}

/* Adds the network manager, or makes sure an existing one may hold connectivity configurations. */
static int
mesh_manager(struct expander *e, const struct intent_change *c, const struct topology *t,
    const struct mesh_sel *m, const char **nm_id)
{
	const struct topo_resource *cur_nm = topology_find(t, c->network_manager_id);
	json_t *nm, *props, *scopes, *subs;
	const char **subv = NULL;
	size_t i, nsub = 0;
	int rc = 0;

	if (cur_nm != NULL) {
		/* a mesh needs Connectivity among the manager's scope accesses, and the
		 * scope the intent names (members outside it cannot join) */
		*nm_id = cur_nm->id;
		props = obj_child(work_edit(e, cur_nm, true), "properties");
		scopes = obj_child(props, "networkManagerScopes");
		if (props == NULL || scopes == NULL ||
		    list_add_ci(props, "networkManagerScopeAccesses", "Connectivity") != 0)
			return nomem(e->err);
		for (i = 0; i < c->nscope_subscriptions; i++)
			if (list_add_ci(scopes, "subscriptions", c->scope_subscriptions[i]) != 0)
				return nomem(e->err);
		for (i = 0; i < c->nscope_management_groups; i++)
			if (list_add_ci(scopes, "managementGroups", c->scope_management_groups[i]) != 0)
				return nomem(e->err);
		return 0;
	}
	if ((nm = work_find(e, c->network_manager_id)) != NULL) {
		*nm_id = json_str(nm, "id");
		return 0;
	}
	*nm_id = c->network_manager_id;
	nm = json_pack("{s:s, s:s, s:s, s:s, s:{s:{}, s:[s]}}",
	    "id", c->network_manager_id,
	    "name", last_segment(c->network_manager_id),
	    "type", TYPE_NETWORK_MANAGER,
	    "location", t->vnets[m->members[0]].res->location != NULL ?
		t->vnets[m->members[0]].res->location : "global",
	    "properties", "networkManagerScopes", "networkManagerScopeAccesses", "Connectivity");
	if (nm == NULL)
		return nomem(e->err);
	scopes = json_path(nm, "properties", "networkManagerScopes", NULL);
	subs = json_array();
	if (subs == NULL || json_object_set_new(scopes, "subscriptions", subs) != 0) {
		rc = nomem(e->err);
		goto done;
	}
	if (c->nscope_subscriptions > 0 || c->nscope_management_groups > 0) {
		for (i = 0; i < c->nscope_subscriptions; i++)
			if (json_array_append_new(subs, json_string(c->scope_subscriptions[i])) != 0)
				rc = nomem(e->err);
		if (c->nscope_management_groups > 0) {
			json_t *mgs = json_array();
			if (mgs == NULL || json_object_set_new(scopes, "managementGroups", mgs) != 0)
				rc = nomem(e->err);
			for (i = 0; rc == 0 && i < c->nscope_management_groups; i++)
				if (json_array_append_new(mgs, json_string(c->scope_management_groups[i])) != 0)
					rc = nomem(e->err);
		}
	} else {
		/* no scope given: the subscriptions the members live in */
		subv = calloc(m->nmembers, sizeof(*subv));
		if (subv == NULL) {
			rc = nomem(e->err);
			goto done;
		}
		for (i = 0; i < m->nmembers; i++)
			if (t->vnets[m->members[i]].res->subscription != NULL)
				subv[nsub++] = t->vnets[m->members[i]].res->subscription;
		qsort(subv, nsub, sizeof(*subv), str_cmp_ci);
		for (i = 0; i < nsub && rc == 0; i++) {
			char buf[256];
			if (i > 0 && strcasecmp(subv[i], subv[i - 1]) == 0)
				continue;
			snprintf(buf, sizeof(buf), "/subscriptions/%s", subv[i]);
			if (json_array_append_new(subs, json_string(buf)) != 0)
				rc = nomem(e->err);
		}
	}
	if (rc != 0)
		goto done;
	rc = work_add(e, nm);
	nm = NULL;
done:
	json_decref(nm);
	free(subv);
	return rc;
}

/* Is the VNet already a static member of the group (in the current topology)? */
static bool
already_member(const struct topology *t, const char *ng_id, const struct topo_vnet *v)
{
	size_t i;

	for (i = 0; i < t->nmembers; i++) {
		const struct topo_static_member *sm = &t->members[i];
		const char *id = sm->res->id;
		size_t n = strlen(ng_id);
		if (strlen(id) > n && strncasecmp(id, ng_id, n) == 0 && id[n] == '/' &&
		    sm->resource_id != NULL && topo_id_compare(sm->resource_id, v->res->id) == 0)
			return true;
	}
	return false;
}

static int
mesh_static_members(struct expander *e, const struct topology *t, const char *ng_id,
    const size_t *group, size_t ngroup)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < ngroup && rc == 0; i++) {
		const struct topo_vnet *v = &t->vnets[group[i]];
		char name[128], *id = NULL;
		unsigned k;

		if (already_member(t, ng_id, v))
			continue;
		/* two VNets of one name in different groups still get distinct members */
		for (k = 1;; k++) {
			json_t *old;
			if (k == 1)
				snprintf(name, sizeof(name), "sm-%s", v->res->name);
			else
				snprintf(name, sizeof(name), "sm-%s-%u", v->res->name, k);
			free(id);
			if ((id = child_id(ng_id, "staticMembers", name)) == NULL)
				return nomem(e->err);
			old = work_find(e, id);
			if (old == NULL)
				break;
			if (json_path_str(old, "properties", "resourceId", NULL) != NULL &&
			    topo_id_compare(json_path_str(old, "properties", "resourceId", NULL),
				v->res->id) == 0)
				goto next;
		}
		rc = work_add(e, json_pack("{s:s, s:s, s:s, s:{s:s}}", "id", id, "name", name,
		    "type", TYPE_STATIC_MEMBER, "properties", "resourceId", v->res->id));
next:
		free(id);
	}
	return rc;
}

/* Every VNet the group holds after the change: the members plus existing static members. */
static int
group_vnets(size_t **out, size_t *nout, const struct topology *t, const char *ng_id,
    const struct mesh_sel *m, struct nw_err *err)
{
	bool *in = calloc(t->nvnets + 1, sizeof(*in));
	size_t *v = calloc(t->nvnets + 1, sizeof(*v));
	size_t i, n = 0, len = strlen(ng_id);

	if (in == NULL || v == NULL) {
		free(in);
		free(v);
		return nomem(err);
	}
	for (i = 0; i < m->nmembers; i++)
		in[m->members[i]] = true;
	for (i = 0; i < t->nmembers; i++) {
		const struct topo_static_member *sm = &t->members[i];
		if (sm->vnet != NULL && strlen(sm->res->id) > len &&
		    strncasecmp(sm->res->id, ng_id, len) == 0 && sm->res->id[len] == '/')
			in[(size_t)(sm->vnet - t->vnets)] = true;
	}
	for (i = 0; i < t->nvnets; i++)
		if (in[i])
			v[n++] = i;
	free(in);
	*out = v;
	*nout = n;
	return 0;
}

static int
mesh_config(struct expander *e, const struct intent_change *c, const char *nm_id,
    const char *ng_id, bool global, bool hspe, const char **cc_id_out, char **cc_id_owned)
{
	char name[128];
	json_t *cc, *props, *groups, *g = NULL, *caps;
	size_t i;

	snprintf(name, sizeof(name), "%s-mesh", c->network_group);
	if ((*cc_id_owned = child_id(nm_id, "connectivityConfigurations", name)) == NULL)
		return nomem(e->err);
	cc = work_find(e, *cc_id_owned);
	if (cc == NULL) {
		if (work_add(e, json_pack("{s:s, s:s, s:s, s:{}}", "id", *cc_id_owned, "name", name,
		    "type", TYPE_CONNECTIVITY_CONFIG, "properties")) != 0)
			return nomem(e->err);
	}
	if ((cc = work_find_edit(e, *cc_id_owned)) == NULL)
		return nomem(e->err);
	*cc_id_out = json_str(cc, "id");
	props = obj_child(cc, "properties");
	if (props == NULL)
		return nomem(e->err);
	groups = json_object_get(props, "appliesToGroups");
	if (!json_is_array(groups)) {
		groups = json_array();
		if (groups == NULL || json_object_set_new(props, "appliesToGroups", groups) != 0)
			return nomem(e->err);
	}
	for (i = 0; i < json_array_size(groups) && g == NULL; i++) {
		const char *gid = json_str(json_array_get(groups, i), "networkGroupId");
		if (gid != NULL && topo_id_compare(gid, ng_id) == 0)
			g = json_array_get(groups, i);
	}
	if (g == NULL) {
		g = json_object();
		if (g == NULL || json_array_append_new(groups, g) != 0)
			return nomem(e->err);
	}
	caps = obj_child(props, "connectivityCapabilities");
	if (set_str(e, g, "networkGroupId", ng_id) != 0 ||
	    set_str(e, g, "groupConnectivity", "None") != 0 ||
	    set_str(e, g, "isGlobal", global ? "True" : "False") != 0 ||
	    set_str(e, g, "useHubGateway", "False") != 0 ||
	    set_str(e, props, "connectivityTopology", "Mesh") != 0 ||
	    set_str(e, props, "isGlobal", global ? "True" : "False") != 0 ||
	    set_str(e, props, "deleteExistingPeering", "False") != 0 ||
	    set_str(e, caps, "connectedGroupPrivateEndpointsScale", hspe ? "HighScale" : "Standard") != 0 ||
	    set_str(e, caps, "connectedGroupAddressOverlap", "Allowed") != 0 ||
	    set_str(e, caps, "peeringEnforcement", "Unenforced") != 0)
		return nomem(e->err);
	return 0;
}

/* observed.avnmDeployments[nm][region].Connectivity gains cc (goal state keeps the rest). */
static int
mesh_deploy(struct expander *e, const struct topology *t, const char *nm_id, const char *cc_id,
    const size_t *group, size_t ngroup)
{
	json_t *observed = obj_child(e->root, "observed"), *deps, *nm, *region, *list;
	const char *key;
	size_t i, j;

	if (observed == NULL || (deps = obj_child(observed, "avnmDeployments")) == NULL)
		return nomem(e->err);
	if ((nm = obj_get_ci(deps, nm_id, NULL)) == NULL || !json_is_object(nm))
		nm = obj_child(deps, nm_id);
	if (nm == NULL)
		return nomem(e->err);
	for (i = 0; i < ngroup; i++) {
		const char *loc = t->vnets[group[i]].res->location;
		bool have = false;

		if (loc == NULL)
			continue;
		json_t *v;

		region = NULL;
		json_object_foreach(nm, key, v) {
			if (region == NULL && json_is_object(v) && topo_location_equal(key, loc))
				region = v;
		}
		if (region == NULL)
			region = obj_child(nm, loc);
		if (region == NULL)
			return nomem(e->err);
		list = obj_get_ci(region, "Connectivity", &key);
		if (!json_is_array(list)) {
			list = json_array();
			if (list == NULL || json_object_set_new(region, "Connectivity", list) != 0)
				return nomem(e->err);
		}
		for (j = 0; j < json_array_size(list) && !have; j++) {
			const char *s = json_string_value(json_array_get(list, j));
			have = s != NULL && topo_id_compare(s, cc_id) == 0;
		}
		if (!have && json_array_append_new(list, json_string(cc_id)) != 0)
			return nomem(e->err);
	}
	return 0;
}

static int
mesh_hspe(struct expander *e, const struct topology *t, const size_t *group, size_t ngroup)
{
	size_t i, j;

	for (i = 0; i < ngroup; i++) {
		const struct topo_vnet *v = &t->vnets[group[i]];
		json_t *props = mut_object(work_edit(e, v->res, false), "properties");
		json_t *subnets = NULL;

		if (props == NULL)
			return nomem(e->err);
		for (j = 0; j < v->nsubnets; j++) {
			const struct topo_subnet *s = &v->subnets[j];
			const char *pol = s->pe_network_policies;
			json_t *ws, *sp;
			size_t at;

			if (s->nprivate_endpoints == 0 || (pol != NULL &&
			    (strcasecmp(pol, "Enabled") == 0 || strcasecmp(pol, "RouteTableEnabled") == 0)))
				continue;
			if (named_child(json_object_get(props, "subnets"), s->name, &at) == NULL)
				continue;
			if ((subnets == NULL && (subnets = mut_array(props, "subnets")) == NULL) ||
			    (ws = mut_element(subnets, at)) == NULL)
				return nomem(e->err);
			sp = mut_object(ws, "properties");
			if (set_str(e, sp, "privateEndpointNetworkPolicies", "Enabled") != 0)
				return nomem(e->err);
		}
		if (set_str(e, props, "privateEndpointVNetPolicies", "Basic") != 0)
			return nomem(e->err);
	}
	return 0;
}

/* a + 1 within the family; false when it overflows past the last address. */
static bool
addr_next(struct cidr *a)
{
	int i;

	for (i = (int)cidr_max_len(a) / 8 - 1; i >= 0; i--) {
		if (++a->addr[i] != 0)
			return true;
	}
	return false;
}

/* Is every address of p inside the union of the prefixes (sorted by cidr_compare)? */
static bool
covered_by(const struct cidr *p, const struct cidr *v, size_t n)
{
	struct cidr next = *p, last = cidr_last(p);
	size_t i, alen = cidr_max_len(p) / 8;

	next.len = (uint8_t)cidr_max_len(p);
	for (i = 0; i < n; i++) {
		const struct cidr *q = &v[i];
		struct cidr ql;

		if (q->family != p->family || !cidr_overlaps(p, q))
			continue;
		if (cidr_contains(q, p))
			return true;
		if (memcmp(q->addr, next.addr, alen) > 0)
			return false; /* a gap before q */
		ql = cidr_last(q);
		if (memcmp(ql.addr, next.addr, alen) >= 0) {
			next = ql;
			if (!addr_next(&next) || memcmp(next.addr, last.addr, alen) > 0)
				return true;
		}
	}
	return false;
}

/*
 * Decommission: manual peerings between two group VNets, and user routes
 * to the gateway for prefixes inside the group's space in route tables
 * only group subnets use (elsewhere they still steer someone else).
 */
static int
mesh_decommission(struct expander *e, const struct topology *t, const size_t *group,
    size_t ngroup)
{
	bool *in = calloc(t->nvnets + 1, sizeof(*in));
	unsigned char *use = calloc(t->nroute_tables + 1, 1);
	struct cidr *space = NULL;
	size_t nspace = 0, cap = 0, i, j;
	int rc = 0;

	if (in == NULL || use == NULL) {
		rc = nomem(e->err);
		goto done;
	}
	for (i = 0; i < ngroup; i++)
		in[group[i]] = true;

	for (i = 0; i < ngroup; i++) {
		const struct topo_vnet *v = &t->vnets[group[i]];
		json_t *peerings = json_path(work_of(e, v->res), "properties", "virtualNetworkPeerings",
		    NULL);
		bool mine = false;

		for (j = 0; j < v->npeerings; j++) {
			const struct topo_peering *p = &v->peerings[j];
			const struct topo_vnet *r = p->remote;
			size_t at;

			if (r == NULL && p->remote_id != NULL)
				r = topology_find_vnet(t, p->remote_id);
			if (r == NULL || !in[(size_t)(r - t->vnets)])
				continue;
			if (named_child(peerings, p->name, &at) == NULL)
				continue;
			if (!mine) {
				peerings = mut_array(mut_object(work_edit(e, v->res, false), "properties"),
				    "virtualNetworkPeerings");
				if (peerings == NULL) {
					rc = nomem(e->err);
					goto done;
				}
				mine = true;
			}
			json_array_remove(peerings, at);
		}
		if (v->prefixes.n > cap - nspace || space == NULL) {
			size_t ncap = (cap + v->prefixes.n) * 2 + 8;
			struct cidr *s = realloc(space, ncap * sizeof(*s));
			if (s == NULL) {
				rc = nomem(e->err);
				goto done;
			}
			space = s;
			cap = ncap;
		}
		memcpy(space + nspace, v->prefixes.v, v->prefixes.n * sizeof(*space));
		nspace += v->prefixes.n;
	}
	if (space != NULL)
		cidr_sort(space, nspace);

	/* bit 1: a group subnet uses the table; bit 2: some other subnet does */
	for (i = 0; i < t->nvnets; i++)
		for (j = 0; j < t->vnets[i].nsubnets; j++) {
			const struct topo_route_table *rt = t->vnets[i].subnets[j].route_table;
			if (rt != NULL)
				use[(size_t)(rt - t->route_tables)] |= in[i] ? 1 : 2;
		}
	for (i = 0; i < t->nroute_tables; i++) {
		const struct topo_route_table *rt = &t->route_tables[i];
		json_t *routes = json_path(work_of(e, rt->res), "properties", "routes", NULL);
		bool mine = false;

		if (use[i] != 1)
			continue;
		for (j = 0; j < rt->nroutes; j++) {
			const struct topo_route *r = &rt->routes[j];
			size_t at;

			if (r->next_hop != NH_VIRTUAL_NETWORK_GATEWAY ||
			    !covered_by(&r->prefix, space, nspace))
				continue;
			if (r->name == NULL || named_child(routes, r->name, &at) == NULL)
				continue;
			if (!mine) {
				routes = mut_array(mut_object(work_edit(e, rt->res, false), "properties"),
				    "routes");
				if (routes == NULL) {
					rc = nomem(e->err);
					goto done;
				}
				mine = true;
			}
			json_array_remove(routes, at);
		}
	}
done:
	free(in);
	free(use);
	free(space);
	return rc;
}

static int
expand_mesh(struct expander *e, const struct intent_change *c)
{
	const struct topology *t = e->cur;
	struct mesh_sel m = { 0 };
	const char *nm_id = NULL, *cc_id = NULL;
	char *ng_id = NULL, *cc_owned = NULL;
	size_t *group = NULL, ngroup = 0, i, pe_total = 0, pe_max = 0;
	bool global = c->global, hspe;
	json_t *ng;
	int rc;

	if ((rc = ensure_ctx(e)) != 0 || (rc = mesh_select(&m, e->ctx, c, t, e->err)) != 0)
		return rc;
	if (m.nmatched == 0) {
		rc = selector_fail(e->in, &c->members, e->err, "VNet");
		goto done;
	}
	if (m.nmembers == 0) {
		rc = err_set(e->err, NW_EINPUT, "%s: %s: matches no VNet that can join the mesh: "
		    "%zu hub%s (VNets with a gateway or tagged role=hub) and %zu spoke%s whose "
		    "traffic to the others goes through a firewall today",
		    e->in->source, c->members.pointer, m.nhubs, m.nhubs == 1 ? "" : "s",
		    m.ninspected, m.ninspected == 1 ? "" : "s");
		goto done;
	}
	if ((rc = mesh_manager(e, c, t, &m, &nm_id)) != 0)
		goto done;
	if ((ng_id = child_id(nm_id, "networkGroups", c->network_group)) == NULL) {
		rc = nomem(e->err);
		goto done;
	}
	if ((ng = work_find(e, ng_id)) == NULL) {
		if ((rc = work_add(e, json_pack("{s:s, s:s, s:s, s:{s:s}}", "id", ng_id,
		    "name", c->network_group, "type", TYPE_NETWORK_GROUP,
		    "properties", "memberType", "VirtualNetwork"))) != 0)
			goto done;
	} else {
		/* keep the group's own casing for every id built from it */
		char *s = strdup(json_str(ng, "id") != NULL ? json_str(ng, "id") : ng_id);
		if (s == NULL) {
			rc = nomem(e->err);
			goto done;
		}
		free(ng_id);
		ng_id = s;
	}
	if ((rc = mesh_static_members(e, t, ng_id, m.members, m.nmembers)) != 0 ||
	    (rc = group_vnets(&group, &ngroup, t, ng_id, &m, e->err)) != 0)
		goto done;

	for (i = 0; i < ngroup; i++) {
		const struct topo_vnet *v = &t->vnets[group[i]];
		pe_total += v->nprivate_endpoints;
		if (v->nprivate_endpoints > pe_max)
			pe_max = v->nprivate_endpoints;
		if (v->res->location != NULL && t->vnets[group[0]].res->location != NULL &&
		    !topo_location_equal(v->res->location, t->vnets[group[0]].res->location))
			global = true;
	}
	hspe = c->high_scale_private_endpoints ||
	    pe_total > (size_t)limit_get(LIMIT_MESH_PE)->value ||
	    pe_max > (size_t)limit_get(LIMIT_VNET_PE)->value;

	if ((rc = mesh_config(e, c, nm_id, ng_id, global, hspe, &cc_id, &cc_owned)) != 0 ||
	    (rc = mesh_deploy(e, t, nm_id, cc_id, group, ngroup)) != 0)
		goto done;
	if (ngroup > (size_t)limit_get(LIMIT_MESH_VNETS)->value &&
	    set_str(e, obj_child(obj_child(e->root, "observed"), "features"),
		FEATURE_HIGH_SCALE_GROUP, "Registered") != 0) {
		rc = nomem(e->err);
		goto done;
	}
	/* High-Scale Private Endpoints need their feature registered as well
	 * (learn.microsoft.com/azure/private-link/increase-private-endpoint-vnet-limits) */
	if (hspe && set_str(e, obj_child(obj_child(e->root, "observed"), "features"),
	    FEATURE_HSPE, "Registered") != 0) {
		rc = nomem(e->err);
		goto done;
	}
	if (hspe && (rc = mesh_hspe(e, t, group, ngroup)) != 0)
		goto done;
	rc = mesh_decommission(e, t, group, ngroup);
done:
	mesh_sel_free(&m);
	free(group);
	free(ng_id);
	free(cc_owned);
	return rc;
}

/* ------------------------------------------------------------------ */
/* gateway-standard-ip                                                 */

static int
expand_gateways(struct expander *e, const struct intent_change *c)
{
	const struct topology *t = e->cur;
	size_t i, j, matched = 0;

	for (i = 0; i < t->ngateways; i++) {
		const struct topo_gateway *g = &t->gateways[i];
		bool basic = false;

		if (!intent_selector_match(&c->gateways, g->res))
			continue;
		matched++;
		for (j = 0; j < g->npublic_ips; j++) {
			const struct topo_public_ip *ip = g->public_ips[j];
			json_t *w;

			if (ip == NULL || ip->sku_name == NULL || strcasecmp(ip->sku_name, "Basic") != 0)
				continue;
			basic = true;
			w = work_edit(e, ip->res, true);
			if (w == NULL || json_object_set_new(w, "sku", json_pack("{s:s, s:s}", "name", "Standard",
			    "tier", "Regional")) != 0 ||
			    set_str(e, obj_child(w, "properties"), "publicIPAllocationMethod", "Static") != 0)
				return nomem(e->err);
		}
		if (basic && json_object_set_new(obj_child(work_edit(e, g->res, true), "properties"),
		    "virtualNetworkGatewayMigrationStatus",
		    json_pack("{s:s, s:s}", "state", "Succeeded", "phase", "CommitSucceeded")) != 0)
			return nomem(e->err);
	}
	if (matched == 0)
		return selector_fail(e->in, &c->gateways, e->err, "gateway");
	return 0;
}

/* ------------------------------------------------------------------ */
/* summarize-gateway-prefixes                                          */

struct cidr_list {
	struct cidr *v;
	size_t n, cap;
};

static int
cidr_list_add(struct cidr_list *l, const struct cidr *v, size_t n)
{
	if (l->n + n > l->cap) {
		size_t cap = (l->n + n) * 2 + 16;
		struct cidr *p = realloc(l->v, cap * sizeof(*p));
		if (p == NULL)
			return NW_ENOMEM;
		l->v = p;
		l->cap = cap;
	}
	memcpy(l->v + l->n, v, n * sizeof(*v));
	l->n += n;
	return 0;
}

static bool
gateway_in(const struct topo_vnet *v, const struct topo_gateway *g)
{
	size_t i;

	for (i = 0; i < v->ngateways; i++)
		if (v->gateways[i] == g)
			return true;
	return false;
}

/* What the hub must not cover: on-premises routes of its circuits, every other hub's space. */
static int
summary_forbid(struct expander *e, const struct topo_vnet *hub, struct cidr_list *forbid)
{
	const struct topology *t = e->cur;
	size_t i, j, k;

	for (i = 0; i < hub->ngateways; i++) {
		const struct topo_gateway *g = hub->gateways[i];
		for (j = 0; j < g->nconnections; j++) {
			const struct topo_circuit *ci = g->connections[j]->circuit;
			for (k = 0; ci != NULL && k < ci->nroutes; k++)
				if (cidr_list_add(forbid, &ci->routes[k].prefix, 1) != 0)
					return nomem(e->err);
		}
	}
	for (i = 0; i < t->ngateways; i++) {
		const struct topo_prefixes *adv;
		if (gateway_in(hub, &t->gateways[i]))
			continue;
		adv = routes_gateway_advertised(e->ctx, &t->gateways[i]);
		if (cidr_list_add(forbid, adv->v, adv->n) != 0)
			return nomem(e->err);
	}
	for (i = 0; i < t->nvnets; i++) {
		if (&t->vnets[i] == hub || !findings_is_hub(&t->vnets[i]))
			continue;
		if (cidr_list_add(forbid, t->vnets[i].prefixes.v, t->vnets[i].prefixes.n) != 0)
			return nomem(e->err);
	}
	return 0;
}

static bool
addr_bit(const struct cidr *a, unsigned i)
{
	return (a->addr[i / 8] >> (7 - i % 8)) & 1;
}

/*
 * cidr_aggregate gives the largest allowed supernets; each is shrunk to
 * the smallest prefix that still spans the cover inside it.  The count
 * stays minimal, the results stay disjoint and free of forbidden prefixes
 * (a sub-prefix cannot contain what its parent does not), and the hub no
 * longer claims unused space that on-premises may own under a supernet.
 */
static void
summary_shrink(struct cidr *v, size_t n, const struct cidr *cover, size_t ncover)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		size_t alen = cidr_max_len(&v[i]) / 8;
		struct cidr lo = { 0 }, hi = { 0 };
		bool any = false;
		unsigned len;

		for (j = 0; j < ncover; j++) {
			const struct cidr *c = &cover[j];
			struct cidr s, e;

			if (c->family != v[i].family || !cidr_overlaps(c, &v[i]))
				continue;
			if (cidr_contains(c, &v[i])) {
				any = false;
				break; /* nothing smaller spans it */
			}
			s = *c;
			e = cidr_last(c);
			if (!any || memcmp(s.addr, lo.addr, alen) < 0)
				lo = s;
			if (!any || memcmp(e.addr, hi.addr, alen) > 0)
				hi = e;
			any = true;
		}
		if (!any)
			continue;
		for (len = v[i].len; len < cidr_max_len(&v[i]); len++)
			if (addr_bit(&lo, len) != addr_bit(&hi, len))
				break;
		lo.len = (uint8_t)cidr_max_len(&lo);
		v[i] = cidr_supernet(&lo, len);
	}
}

static int
set_summaries(struct expander *e, const struct topo_vnet *hub, const struct cidr *v, size_t n)
{
	json_t *props = mut_object(work_edit(e, hub->res, false), "properties"), *arr = json_array();
	size_t i;

	if (props == NULL || arr == NULL ||
	    json_object_set_new(props, "summarizedGatewayPrefixes",
		json_pack("{s:o}", "addressPrefixes", arr)) != 0)
		return nomem(e->err);
	for (i = 0; i < n; i++) {
		char buf[CIDR_STRLEN];
		cidr_format(&v[i], buf);
		if (json_array_append_new(arr, json_string(buf)) != 0)
			return nomem(e->err);
	}
	return 0;
}

/* Explicit summaries: each one checked against what it must not cover. */
static int
summary_explicit(struct expander *e, const struct intent_change *c, const struct topo_vnet *hub,
    const json_t *list, const struct cidr_list *forbid)
{
	struct cidr *v = calloc(json_array_size(list) + 1, sizeof(*v));
	size_t i, j, n = json_array_size(list);
	char a[CIDR_STRLEN], b[CIDR_STRLEN];
	int rc = 0;

	if (v == NULL)
		return nomem(e->err);
	for (i = 0; i < n && rc == 0; i++) {
		if ((rc = cidr_parse(&v[i], json_string_value(json_array_get(list, i)), e->err)) != 0)
			break;
		for (j = 0; j < forbid->n && rc == 0; j++) {
			if (!cidr_contains(&v[i], &forbid->v[j]))
				continue;
			cidr_format(&v[i], a);
			cidr_format(&forbid->v[j], b);
			rc = err_set(e->err, NW_EINPUT, "%s: %s/prefixes/%zu: hub %s: summary %s would "
			    "cover %s, which is on-premises or another hub's space", e->in->source,
			    c->pointer, i, hub->res->name, a, b);
		}
		for (j = 0; j < i && rc == 0; j++) {
			if (!cidr_overlaps(&v[i], &v[j]))
				continue;
			cidr_format(&v[i], a);
			cidr_format(&v[j], b);
			rc = err_set(e->err, NW_EINPUT, "%s: %s/prefixes/%zu: summary %s overlaps %s; "
			    "summaries must not overlap", e->in->source, c->pointer, i, a, b);
		}
	}
	if (rc == 0) {
		cidr_sort(v, n);
		rc = set_summaries(e, hub, v, n);
	}
	free(v);
	return rc;
}

static int
expand_summaries(struct expander *e, const struct intent_change *c)
{
	const struct topology *t = e->cur;
	const json_t *explicit = json_object_get(c->json, "prefixes");
	struct cidr_aggregate_opts o = { c->min_len4, c->min_len6 };
	size_t i, j, matched = 0, hubs = 0;
	int rc;

	if ((rc = ensure_ctx(e)) != 0)
		return rc;
	if (!json_is_array(explicit))
		explicit = NULL;
	for (i = 0; i < t->nvnets; i++) {
		const struct topo_vnet *hub = &t->vnets[i];
		struct cidr_list cover = { 0 }, forbid = { 0 };
		struct cidr *out = NULL;
		size_t nout = 0;

		if (!intent_selector_match(&c->hubs, hub->res))
			continue;
		matched++;
		if (hub->ngateways == 0)
			continue;
		hubs++;
		for (j = 0; j < hub->ngateways && rc == 0; j++) {
			const struct topo_prefixes *adv = routes_gateway_advertised(e->ctx,
			    hub->gateways[j]);
			if (cidr_list_add(&cover, adv->v, adv->n) != 0)
				rc = nomem(e->err);
		}
		if (rc == 0)
			rc = summary_forbid(e, hub, &forbid);
		if (rc == 0 && explicit != NULL) {
			rc = summary_explicit(e, c, hub, explicit, &forbid);
		} else if (rc == 0 && cover.n > 0) {
			rc = cidr_aggregate(&out, &nout, cover.v, cover.n, forbid.v, forbid.n, &o, e->err);
			if (rc != 0)
				err_prefix(e->err, "%s: %s/hubs: cannot summarize what hub %s advertises",
				    e->in->source, c->pointer, hub->res->name);
			else {
				summary_shrink(out, nout, cover.v, cover.n);
				rc = set_summaries(e, hub, out, nout);
			}
		}
		free(out);
		free(cover.v);
		free(forbid.v);
		if (rc != 0)
			return rc;
	}
	if (matched == 0)
		return selector_fail(e->in, &c->hubs, e->err, "VNet");
	if (hubs == 0)
		return err_set(e->err, NW_EINPUT, "%s: %s: matches no VNet with a gateway: %zu VNet%s "
		    "matched, none of them has a gateway to advertise prefixes", e->in->source,
		    c->hubs.pointer, matched, matched == 1 ? "" : "s");
	return 0;
}

/* ------------------------------------------------------------------ */

int
intent_target(json_t **out, const struct intent *in, const struct topology *cur,
    struct nw_err *err)
{
	struct expander e;
	json_t *changes;
	size_t i;
	int rc = 0;

	*out = NULL;
	memset(&e, 0, sizeof(e));
	e.in = in;
	e.cur = cur;
	e.err = err;
	/* shared with the current topology but for /resources (its members stay
	 * shared, see work_edit) and the small /observed, which changes often */
	e.root = json_copy(cur->root);
	e.added = json_object();
	e.state = calloc(json_array_size(json_object_get(cur->root, "resources")) + 1, 1);
	if (e.root == NULL || e.added == NULL || e.state == NULL) {
		rc = nomem(err);
		goto done;
	}
	if (json_is_array(json_object_get(e.root, "resources")) &&
	    json_object_set_new(e.root, "resources",
		json_copy(json_object_get(e.root, "resources"))) != 0) {
		rc = nomem(err);
		goto done;
	}
	if (json_object_get(e.root, "observed") != NULL &&
	    json_object_set_new(e.root, "observed",
		json_deep_copy(json_object_get(e.root, "observed"))) != 0) {
		rc = nomem(err);
		goto done;
	}
	e.resources = json_object_get(e.root, "resources");
	for (i = 0; i < in->nchanges && rc == 0; i++) {
		const struct intent_change *c = &in->changes[i];
		switch (c->kind) {
		case INTENT_AVNM_MESH:
			rc = expand_mesh(&e, c);
			break;
		case INTENT_GATEWAY_STANDARD_IP:
			rc = expand_gateways(&e, c);
			break;
		case INTENT_SUMMARIZE_PREFIXES:
			rc = expand_summaries(&e, c);
			break;
		}
	}
	/* a group the change writes into that does not exist yet exists after apply */
	if (rc == 0)
		rc = rgroups_predict(e.resources, cur, err);
	if (rc != 0)
		goto done;
	changes = json_object_get(in->root, "changes");
	if (json_object_set_new(e.root, "x-netwave-changes", json_deep_copy(changes)) != 0) {
		rc = nomem(err);
		goto done;
	}
	if (in->rollout != NULL) {
		if (json_object_set_new(e.root, "x-netwave-rollout", json_deep_copy(in->rollout)) != 0) {
			rc = nomem(err);
			goto done;
		}
	} else {
		json_object_del(e.root, "x-netwave-rollout");
	}
	*out = e.root;
	e.root = NULL;
done:
	routes_ctx_free(e.ctx);
	json_decref(e.added);
	json_decref(e.root);
	free(e.state);
	return rc;
}
