/*
 * The intent's rollout section (intent.h, intent_rollout_parse), also
 * carried as a target topology's x-netwave-rollout: waves and their
 * selectors, soaks, the maintenance window, the write budget.
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
get_duration(struct intent_loader *l, const json_t *obj, const char *key, long *out)
{
	json_t *v = json_object_get(obj, key);
	long d;

	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return intent_fail_at(l, key, "expected a duration string such as \"14d\" or \"1h30m\", "
		    "found %s", intent_json_kind(v));
	if ((d = intent_duration_parse(json_string_value(v))) < 0)
		return intent_fail_at(l, key, "invalid duration \"%s\": expected numbers with units s, m, "
		    "h, d or w, such as \"14d\" or \"1h30m\"", json_string_value(v));
	*out = d;
	return 0;
}

/* A whole number from 1 to max; *out untouched when absent. */
static int
get_count(struct intent_loader *l, const json_t *obj, const char *key, unsigned long max,
    unsigned long *out)
{
	long long v = (long long)*out;
	int rc = intent_get_integer(l, obj, key, "a whole number", 1, (long long)max, &v);

	*out = (unsigned long)v;
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
wave_parse(struct intent_loader *l, struct intent_rollout *r, struct intent_wave *w, const json_t *v)
{
	json_t *m;
	size_t j;
	int rc;

	if ((w->pointer = intent_strdup(l->ptr)) == NULL)
		return intent_nomem(l->err);
	if ((rc = intent_check_object(l, v, "a wave object with a \"name\"", WAVE_KEYS)) != 0 ||
	    (rc = intent_get_string(l, v, "name", true, &w->name)) != 0)
		return rc;
	for (j = 0; j < r->nwaves; j++) {
		if (strcmp(r->waves[j].name, w->name) == 0) {
			return intent_fail_at(l, "name", "wave name \"%s\" is already used by %s", w->name,
			    r->waves[j].pointer);
		}
	}
	if ((m = json_object_get(v, "members")) != NULL) {
		size_t old = intent_push(l, "members");
		rc = intent_selector_load(l, &w->members, m);
		intent_pop(l, old);
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

int
intent_rollout_load(struct intent_loader *l, struct intent_rollout *r, const json_t *v)
{
	json_t *item;
	size_t old, i;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	r->soak_before_decommission = INTENT_DEFAULT_SOAK_DECOMMISSION;
	r->sample_size = INTENT_DEFAULT_SAMPLE_SIZE;
	if (v == NULL || json_is_null(v))
		return 0;
	if ((rc = intent_check_object(l, v, "a rollout object", ROLLOUT_KEYS)) != 0)
		return rc;

	if ((item = json_object_get(v, "waves")) != NULL) {
		old = intent_push(l, "waves");
		if (!json_is_array(item))
			rc = intent_fail(l, "expected an array of waves, found %s", intent_json_kind(item));
		else if (json_array_size(item) > 0 &&
		    (r->waves = calloc(json_array_size(item), sizeof(*r->waves))) == NULL)
			rc = intent_nomem(l->err);
		for (i = 0; rc == 0 && i < json_array_size(item); i++) {
			size_t o2 = intent_push_index(l, i);
			rc = wave_parse(l, r, &r->waves[i], json_array_get(item, i));
			intent_pop(l, o2);
			r->nwaves = i + 1;
		}
		intent_pop(l, old);
		if (rc != 0)
			return rc;
	}
	if ((item = json_object_get(v, "soak")) != NULL) {
		old = intent_push(l, "soak");
		if ((rc = intent_check_object(l, item, "an object with beforeDecommission and betweenWaves",
		    SOAK_KEYS)) == 0 &&
		    (rc = get_duration(l, item, "beforeDecommission", &r->soak_before_decommission)) == 0)
			rc = get_duration(l, item, "betweenWaves", &r->soak_between_waves);
		intent_pop(l, old);
		if (rc != 0)
			return rc;
	}
	if ((item = json_object_get(v, "maintenanceWindow")) != NULL && !json_is_null(item)) {
		old = intent_push(l, "maintenanceWindow");
		if ((rc = intent_check_object(l, item, "null or an object with \"start\" and \"duration\"",
		    WINDOW_KEYS)) == 0 &&
		    (rc = intent_get_string(l, item, "start", true, &r->window_start)) == 0) {
			if (!utc_timestamp_ok(r->window_start)) {
				size_t o2 = intent_push(l, "start");
				rc = intent_fail(l, "invalid time \"%s\": expected UTC as "
				    "YYYY-MM-DDTHH:MM:SSZ", r->window_start);
				intent_pop(l, o2);
			} else if (json_object_get(item, "duration") == NULL) {
				rc = intent_fail(l, "no \"duration\"");
			} else {
				rc = get_duration(l, item, "duration", &r->window_seconds);
			}
			if (rc == 0 && r->window_seconds <= 0) {
				size_t o2 = intent_push(l, "duration");
				rc = intent_fail(l, "the window must last longer than 0s");
				intent_pop(l, o2);
			}
		}
		intent_pop(l, old);
		if (rc != 0)
			return rc;
		r->has_maintenance_window = true;
	}
	if ((item = json_object_get(v, "writeBudget")) != NULL) {
		json_t *wps;

		old = intent_push(l, "writeBudget");
		if ((rc = intent_check_object(l, item, "an object with writesPerSecond and burst",
		    BUDGET_KEYS)) == 0) {
			r->burst = (unsigned long)limit_get(LIMIT_ARM_WRITE_BUCKET)->value;
			r->writes_per_second = (double)limit_get(LIMIT_NETWORK_WRITES_5MIN)->value / 300.0;
			if ((wps = json_object_get(item, "writesPerSecond")) != NULL) {
				size_t o2 = intent_push(l, "writesPerSecond");
				if (!json_is_number(wps))
					rc = intent_fail(l, "expected a number, found %s", intent_json_kind(wps));
				else if (!(json_number_value(wps) > 0) || !isfinite(json_number_value(wps)) ||
				    json_number_value(wps) > 1e6)
					rc = intent_fail(l, "expected a number of writes per second above 0");
				else
					r->writes_per_second = json_number_value(wps);
				intent_pop(l, o2);
			}
			if (rc == 0)
				rc = get_count(l, item, "burst", 1000000ul, &r->burst);
		}
		intent_pop(l, old);
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
	struct intent_loader l;
	int rc;

	intent_loader_init(&l, source, pointer, err);
	if ((rc = intent_rollout_load(&l, out, v)) != 0)
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

