/*
 * Mermaid charts for the Markdown review (plan/picture.h): where change
 * tickets live a ```mermaid block renders as a picture (GitHub; an Azure
 * DevOps wiki takes the same chart between "::: mermaid" and ":::").  A Gantt chart lays the waves out in time: each wave for its
 * estimated duration, its soak after it, waves that need the maintenance
 * window moved to the window's start, and the window itself; an xychart
 * shows the spoke-to-spoke flows per class before and after each wave.
 * Syntax: https://mermaid.js.org/syntax/gantt.html and
 * https://mermaid.js.org/syntax/xyChart.html (xychart needs Mermaid 10.6
 * or later; the Markdown's wave sections carry the same numbers in text).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "plan/jsonutil.h"
#include "plan/picture.h"
#include "plan/routes.h"

/* One colour per path class for the traffic chart, in enum path_class order. */
static const char *const class_colour[PATH_NCLASSES] = {
	"#9e9e9e", "#6d4c41", "#2e7d32", "#1565c0", "#ef6c00", "#6a1b9a", "#c62828",
};

static const char *const class_colour_name[PATH_NCLASSES] = {
	"grey", "brown", "green", "blue", "orange", "purple", "red",
};

static json_int_t
jint(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static const char *
jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

/* "2026-11-21T20:00:00Z" (what may follow is ignored) as seconds since the epoch; -1 if not that shape. */
static long long
parse_utc(const char *s)
{
	char utc[sizeof("2026-11-21T20:00:00Z")];
	time_t t;

	if (s == NULL || strlen(s) < sizeof(utc) - 1)
		return -1;
	memcpy(utc, s, sizeof(utc) - 1);
	utc[sizeof(utc) - 1] = '\0';
	return time_parse_rfc3339(utc, &t) == 0 ? (long long)t : -1;
}

/*
 * The window a wave names: the planner writes "the maintenance window
 * starting <UTC time> (<n> minutes)" (plan/planner.c, window_text).
 * False when the rollout gave none.
 */
static bool
wave_window(long long *start, long *minutes, const json_t *w)
{
	char when[32];

	if (sscanf(jstr(w, "window"), "the maintenance window starting %31s (%ld minutes)", when,
		minutes) != 2)
		return false;
	*start = parse_utc(when);
	return *start >= 0;
}

/* A task name: Mermaid ends it at ':' and starts a comment at '#'. */
static void
task_name(char *buf, size_t n, const char *s)
{
	size_t k = 0;

	for (; *s && k + 1 < n; s++)
		buf[k++] = (*s == ':' || *s == '#' || *s == ';') ? ' ' : *s;
	buf[k] = '\0';
}

static void
gantt(FILE *o, const json_t *plan)
{
	const json_t *waves = json_object_get(plan, "waves"), *w;
	long long t0 = parse_utc(jstr(plan, "createdAt")), t, last_window = -1;
	size_t i;

	if (t0 < 0)
		t0 = 0;
	fprintf(o, "```mermaid\ngantt\n    title Waves from %s on: estimated time, soaks, maintenance windows\n",
	    jstr(plan, "createdAt"));
	fputs("    dateFormat X\n    axisFormat %m-%d %H:%M\n", o);
	/* the windows first, each once */
	json_array_foreach(waves, i, w) {
		long long ws;
		long mins;

		if (!json_is_true(json_object_get(w, "maintenanceWindow")) || !wave_window(&ws, &mins, w) ||
		    ws == last_window)
			continue;
		if (last_window < 0)
			fputs("    section Maintenance window\n", o);
		fprintf(o, "    window of %ld minutes :done, mw%zu, %lld, %lld\n", mins, i + 1, ws,
		    ws + (long long)mins * 60);
		last_window = ws;
	}
	fputs("    section Waves\n", o);
	t = t0;
	json_array_foreach(waves, i, w) {
		long long secs = jint(json_object_get(w, "estimate"), "seconds"), soak = jint(w, "soakSeconds");
		long long ws;
		long mins;
		bool mw = json_is_true(json_object_get(w, "maintenanceWindow"));
		char name[160];

		if (mw && wave_window(&ws, &mins, w) && ws > t)
			t = ws;
		task_name(name, sizeof(name), jstr(w, "name"));
		if (secs <= 0)
			fprintf(o, "    %zu %s :milestone, w%zu, %lld, %lld\n", i + 1, name, i + 1, t, t);
		else
			fprintf(o, "    %zu %s (%s) :%sw%zu, %lld, %lld\n", i + 1, name, jstr(w, "kind"),
			    mw ? "crit, " : "", i + 1, t, t + secs);
		t += secs;
		if (soak > 0) {
			fprintf(o, "    soak after %zu :active, s%zu, %lld, %lld\n", i + 1, i + 1, t, t + soak);
			t += soak;
		}
	}
	fputs("```\n\n", o);
}

static void
traffic_chart(FILE *o, const json_t *plan)
{
	const json_t *waves = json_object_get(plan, "waves"), *w, *first;
	json_int_t flows = 0;
	unsigned present = 0;
	size_t i;
	bool comma = false;

	first = json_object_get(json_array_get(waves, 0), "traffic");
	if (first == NULL)
		return;
	json_array_foreach(waves, i, w) {
		const json_t *tr = json_object_get(w, "traffic");

		if (jint(tr, "flows") > flows)
			flows = jint(tr, "flows");
		for (int c = 0; c < PATH_NCLASSES; c++)
			if (jint(json_object_get(tr, "before"), path_class_name((enum path_class)c)) > 0 ||
			    jint(json_object_get(tr, "after"), path_class_name((enum path_class)c)) > 0)
				present |= 1u << c;
	}
	if (present == 0)
		return;
	fputs("Spoke-to-spoke flows per class, before the first wave and after each (", o);
	for (int c = 0; c < PATH_NCLASSES; c++)
		if (present & (1u << c)) {
			fprintf(o, "%s%s %s%s", comma ? ", " : "", class_colour_name[c],
			    path_class_name((enum path_class)c), c == PATH_VIA_APPLIANCE ? " (inspected)" : "");
			comma = true;
		}
	fputs("):\n\n```mermaid\n%%{init: {\"themeVariables\": {\"xyChart\": {\"plotColorPalette\": \"", o);
	comma = false;
	for (int c = 0; c < PATH_NCLASSES; c++)
		if (present & (1u << c)) {
			fprintf(o, "%s%s", comma ? ", " : "", class_colour[c]);
			comma = true;
		}
	fputs("\"}}}}%%\nxychart-beta\n    title \"Traffic shift per wave\"\n    x-axis [\"before\"", o);
	json_array_foreach(waves, i, w) {
		char name[160];

		task_name(name, sizeof(name), jstr(w, "name"));
		fprintf(o, ", \"%zu %s\"", i + 1, name);
	}
	fprintf(o, "]\n    y-axis \"flows\" 0 --> %lld\n", (long long)flows);
	for (int c = 0; c < PATH_NCLASSES; c++) {
		const char *cn = path_class_name((enum path_class)c);

		if (!(present & (1u << c)))
			continue;
		fprintf(o, "    line [%lld", (long long)jint(json_object_get(first, "before"), cn));
		json_array_foreach(waves, i, w)
			fprintf(o, ", %lld", (long long)jint(json_object_get(json_object_get(w, "traffic"), "after"), cn));
		fputs("]\n", o);
	}
	fputs("```\n\n", o);
}

void
report_mermaid_write(FILE *o, const json_t *plan)
{
	if (json_array_size(json_object_get(plan, "waves")) == 0)
		return;
	fputs("## Timeline and traffic shift\n\n", o);
	gantt(o, plan);
	traffic_chart(o, plan);
}
