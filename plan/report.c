/*
 * Rendering of a plan document (see report.h).  Markdown is written for
 * a network engineer who has never seen netwave: it says what changes, in
 * which order, what each wave does to traffic, what can go wrong, how
 * each wave is undone, and what cannot be undone.  Text is the same in a
 * few lines per wave.  Both read only the plan document.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/jsonutil.h"
#include "plan/kinds.h"
#include "plan/picture.h"
#include "plan/procedure.h"
#include "plan/report.h"
#include "plan/iac_findings.h"

/* Members are listed by name up to this many; the JSON plan has them all. */
#define MAX_MEMBERS_LISTED 100
/* Waves with more steps than this show them grouped by action. */
#define MAX_STEPS_LISTED 30

const char *
report_duration(long s, char *buf, size_t size)
{
	if (s <= 0)
		snprintf(buf, size, "none");
	else if (s < 60)
		snprintf(buf, size, "%ld s", s);
	else if (s < 3600)
		snprintf(buf, size, "%ld min", (s + 59) / 60);
	else if (s < 86400 || s % 86400 != 0)
		snprintf(buf, size, s % 3600 == 0 ? "%ld h" : "%ld h %ld min", s / 3600, (s % 3600 + 59) / 60);
	else
		snprintf(buf, size, "%ld d", s / 86400);
	return buf;
}

/* An estimate: like report_duration, but nothing to wait for reads "< 1 min". */
static const char *
eta(long s, char *buf, size_t size)
{
	if (s < 60) {
		snprintf(buf, size, "< 1 min");
		return buf;
	}
	return report_duration(s, buf, size);
}

size_t
report_wave_count(const json_t *plan, const struct wave_kind_def *kind, const char *what)
{
	const json_t *w;
	size_t i, n = 0;

	json_array_foreach(json_object_get(plan, "waves"), i, w)
		if (wave_kind_parse(json_str(w, "kind")) == kind)
			n += json_array_size(json_object_get(w, what));
	return n;
}

const char *
report_num(json_int_t v, char *buf, size_t size)
{
	char tmp[32];
	size_t n, i, k = 0, lead;

	snprintf(tmp, sizeof(tmp), "%lld", (long long)(v < 0 ? -v : v));
	n = strlen(tmp);
	lead = n % 3 ? n % 3 : 3;
	if (v < 0 && k + 1 < size)
		buf[k++] = '-';
	for (i = 0; i < n && k + 2 < size; i++) {
		if (i > 0 && (i - lead) % 3 == 0 && i >= lead)
			buf[k++] = ',';
		buf[k++] = tmp[i];
	}
	buf[k] = '\0';
	return buf;
}

static json_int_t
jint(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static const char *
jstr_or(const json_t *o, const char *k, const char *def)
{
	const char *s = json_str(o, k);

	return s != NULL ? s : def;
}

/* Escapes the characters that break a markdown table cell. */
static void
md_cell(FILE *f, const char *s)
{
	for (; s != NULL && *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '\n')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
}

static const char *
change_title(const char *kind)
{
	const struct procedure *proc = procedure_find(kind);

	return proc != NULL ? proc->title : kind;
}

/* The report's heading for a wave of this kind: its definition's title, else the kind itself. */
static const char *
kind_title(const char *kind)
{
	const struct wave_kind_def *k = wave_kind_parse(kind);

	return k != NULL && k->title != NULL ? k->title : kind;
}

static const char *const class_order[] = {
	"local", "peering", "mesh", "via-appliance", "hairpin", "on-premises", "unreachable", NULL,
};

/* What each of class_order means, in the same order. */
static const char *const class_meanings[] = {
	"inside the same VNet (overlapping space)",
	"direct VNet peering",
	"AVNM connected group, direct in the datacenter",
	"through a firewall or appliance (user routes)",
	"out through the gateway and back over the ExpressRoute circuit (MSEE)",
	"handed to on-premises routing",
	"no route",
};

static const char *
class_meaning(const char *c)
{
	size_t i;

	for (i = 0; class_order[i] != NULL && strcmp(c, class_order[i]) != 0; i++)
		;
	return class_meanings[class_order[i] != NULL ? i : 6];
}

/* How a step is undone, in a few words. */
static const char *
undo_text(const json_t *st, char *buf, size_t size)
{
	const json_t *inv = json_object_get(st, "inverse");
	const char *m = jstr_or(inv, "method", "");

	if (json_is_true(json_object_get(st, "irreversible")))
		snprintf(buf, size, "**irreversible**");
	else if (strcmp(m, "NONE") == 0)
		snprintf(buf, size, "nothing to undo");
	else if (strcmp(m, "DELETE") == 0)
		snprintf(buf, size, "delete it");
	else if (strcmp(m, "PUT") == 0)
		snprintf(buf, size, "put back today's definition");
	else if (strcmp(m, "POST") == 0 && strcmp(arm_id_name(json_str(inv, "path")), "commit") == 0)
		snprintf(buf, size, "commit what was active before");
	else
		snprintf(buf, size, "%s %s", m, arm_id_name(json_str(inv, "path")));
	return buf;
}

static int
no_such_wave(const json_t *plan, const char *name, struct nw_err *err)
{
	char names[1024] = "";
	const json_t *w;
	size_t i;

	json_array_foreach(json_object_get(plan, "waves"), i, w) {
		if (i > 0)
			strncat(names, ", ", sizeof(names) - strlen(names) - 1);
		strncat(names, jstr_or(w, "name", "?"), sizeof(names) - strlen(names) - 1);
	}
	return err_set(err, NW_EINPUT, "plan %s has no wave '%s'; its waves are: %s",
	    jstr_or(plan, "id", "?"), name, names[0] ? names : "(none)");
}

/* ------------------------------------------------------------------ */
/* markdown */

static void
md_summary(FILE *f, const json_t *plan)
{
	const json_t *s = json_object_get(plan, "summary"), *wb = json_object_get(plan, "writeBudget");
	const json_t *x;
	char a[32], b[32], c[32], d1[32], d2[32];
	size_t i;

	fprintf(f, "## Summary\n\n| | |\n|---|---|\n");
	fprintf(f, "| VNets touched | %s |\n", report_num(jint(s, "vnets"), a, sizeof(a)));
	fprintf(f, "| Waves | %s |\n", report_num(jint(s, "waves"), a, sizeof(a)));
	fprintf(f, "| Steps | %s (%s ARM writes, %s reads including gates) |\n",
	    report_num(jint(s, "steps"), a, sizeof(a)), report_num(jint(s, "writes"), b, sizeof(b)),
	    report_num(jint(s, "reads"), c, sizeof(c)));
	fprintf(f, "| Estimated time | %s of operations and write throttling, plus %s of soak between "
	    "waves |\n", eta((long)jint(s, "etaSeconds"), d1, sizeof(d1)),
	    report_duration((long)jint(s, "soakSeconds"), d2, sizeof(d2)));
	fprintf(f, "| Write budget | %s-write burst, refilled at %s writes per %s (%s) |\n",
	    report_num(jint(wb, "burst"), a, sizeof(a)), report_num(jint(wb, "refillWrites"), b, sizeof(b)),
	    report_duration((long)jint(wb, "refillSeconds"), d1, sizeof(d1)), jstr_or(wb, "source", ""));
	fprintf(f, "| Risk | **%s** |\n", jstr_or(s, "risk", "?"));
	fprintf(f, "| Irreversible steps | %s |\n", report_num(jint(s, "irreversibleSteps"), a, sizeof(a)));
	fprintf(f, "| Steps inside a maintenance window | %s |\n",
	    report_num(jint(s, "maintenanceWindowSteps"), a, sizeof(a)));
	fputc('\n', f);
	if (json_array_size(json_object_get(s, "riskReasons")) > 0) {
		fprintf(f, "The risk is **%s** because:\n\n", jstr_or(s, "risk", "?"));
		json_array_foreach(json_object_get(s, "riskReasons"), i, x)
			fprintf(f, "- %s\n", json_string_value(x));
		fputc('\n', f);
	}
}

/* What the plan does, in a few sentences built from its waves. */
/* Every create-resource-group step of the plan, in plan order (borrowed steps). */
static size_t
created_groups(const json_t *plan, const json_t **out, size_t max)
{
	const json_t *w, *st;
	size_t i, k, n = 0;

	json_array_foreach(json_object_get(plan, "waves"), i, w)
		json_array_foreach(json_object_get(w, "steps"), k, st)
			if (strcmp(jstr_or(st, "action", ""), "create-resource-group") == 0) {
				if (n < max)
					out[n] = st;
				n++;
			}
	return n;
}

static const char *
group_location(const json_t *st)
{
	return jstr_or(json_object_get(json_object_get(st, "operation"), "body"), "location", "?");
}

static void
md_overview(FILE *f, const json_t *plan)
{
	const json_t *ch;
	size_t k;

	fprintf(f, "## What this plan does\n\n");
	if (json_array_size(json_object_get(plan, "changes")) == 0)
		fprintf(f, "Nothing: the current and target topologies do not differ.\n\n");
	json_array_foreach(json_object_get(plan, "changes"), k, ch) {
		const struct procedure *proc = procedure_find(json_string_value(ch));

		if (proc != NULL && proc->report_overview != NULL)
			proc->report_overview(f, plan);
		else
			fprintf(f, "- %s\n", json_string_value(ch));
	}
	{
		const json_t *g[64];
		size_t n = created_groups(plan, g, 64), j;

		if (n > 0) {
			fprintf(f, "- **Resource groups.** The change writes into %zu resource group%s that "
			    "do%s not exist; the prepare wave creates %s first:", n, n == 1 ? "" : "s",
			    n == 1 ? "es" : "", n == 1 ? "it" : "them");
			for (j = 0; j < n && j < 64; j++)
				fprintf(f, "%s `%s` (%s)", j > 0 ? "," : "", jstr_or(g[j], "resource", "?"),
				    group_location(g[j]));
			fprintf(f, "%s. Rolling back deletes a group only if this plan created it and it is "
			    "empty.\n", n > 64 ? ", ..." : "");
		}
	}
	fputc('\n', f);
}

static void
md_list_section(FILE *f, const char *title, const json_t *arr, const char *empty)
{
	const json_t *x;
	size_t i;

	fprintf(f, "### %s\n\n", title);
	if (json_array_size(arr) == 0) {
		fprintf(f, "%s\n\n", empty);
		return;
	}
	json_array_foreach(arr, i, x) {
		fprintf(f, "- **%s**: %s", jstr_or(x, "code", "?"), jstr_or(x, "message", ""));
		if (json_str(x, "pointer") != NULL && json_str(x, "pointer")[0] != '\0')
			fprintf(f, " (`%s`)", json_str(x, "pointer"));
		fputc('\n', f);
	}
	fputc('\n', f);
}

static void
md_findings(FILE *f, const json_t *plan)
{
	const json_t *x;
	size_t i;

	fprintf(f, "## Prerequisites and blockers\n\n");
	md_list_section(f, "Prerequisites", json_object_get(plan, "prerequisites"),
	    "None beyond what the waves themselves do.");
	md_list_section(f, "Blockers", json_object_get(plan, "blockers"),
	    "None: nothing stops this plan.");
	fprintf(f, "### Findings\n\n");
	if (json_array_size(json_object_get(plan, "findings")) == 0)
		fprintf(f, "None.\n\n");
	else {
		json_array_foreach(json_object_get(plan, "findings"), i, x)
			fprintf(f, "- %s, **%s**: %s\n", jstr_or(x, "severity", "?"), jstr_or(x, "code", "?"),
			    jstr_or(x, "message", ""));
		fputc('\n', f);
	}
	/* plan reads a topology file: what only the live estate can tell is left to preflight */
	fprintf(f, "### Preflight\n\nNot run: the plan was made offline from a topology file, so the caller's "
	    "permissions, deny assignments, management locks, Azure Policy, and the live state of resources, "
	    "providers and features were not checked. Run `netwave preflight %s` before the change window "
	    "(docs/preflight.md); `netwave apply` runs it before its first write.\n\n", jstr_or(plan, "id", "PLAN"));
}

static void
md_limits(FILE *f, const json_t *plan)
{
	const json_t *x;
	char a[32], b[32];
	size_t i;

	fprintf(f, "## Limits\n\nThe platform limits this plan comes near, with the value it reaches "
	    "and where the limit comes from.\n\n");
	if (json_array_size(json_object_get(plan, "limits")) == 0) {
		fprintf(f, "None apply.\n\n");
		return;
	}
	fprintf(f, "| What | Value | Limit | Source | Where |\n|---|---:|---:|---|---|\n");
	json_array_foreach(json_object_get(plan, "limits"), i, x) {
		fputs("| ", f);
		md_cell(f, jstr_or(x, "what", "?"));
		fprintf(f, " | %s | %s | %s | %s |\n", report_num(jint(x, "value"), a, sizeof(a)),
		    report_num(jint(x, "max"), b, sizeof(b)), jstr_or(x, "source", ""),
		    arm_id_name(json_str(x, "resource")));
	}
	fputc('\n', f);
}

static void
md_glance(FILE *f, const json_t *plan)
{
	const json_t *w;
	char a[32], b[32], d1[32], d2[32];
	size_t i;

	fprintf(f, "## Waves at a glance\n\n| # | Wave | What | VNets | Steps | Writes | Time | "
	    "Maintenance window | Soak after |\n|---:|---|---|---:|---:|---:|---:|---|---:|\n");
	json_array_foreach(json_object_get(plan, "waves"), i, w) {
		const json_t *e = json_object_get(w, "estimate");
		fprintf(f, "| %lld | %s | %s | %s | %zu | %s | %s | %s | %s |\n", (long long)jint(w, "index") + 1,
		    jstr_or(w, "name", "?"), kind_title(jstr_or(w, "kind", "")),
		    report_num((json_int_t)json_array_size(json_object_get(w, "members")), a, sizeof(a)),
		    json_array_size(json_object_get(w, "steps")), report_num(jint(e, "writes"), b, sizeof(b)),
		    eta((long)jint(e, "seconds"), d1, sizeof(d1)),
		    json_is_true(json_object_get(w, "maintenanceWindow")) ? "yes" : "no",
		    report_duration((long)jint(w, "soakSeconds"), d2, sizeof(d2)));
	}
	fputc('\n', f);
}

static void
md_traffic(FILE *f, const json_t *w)
{
	const json_t *t = json_object_get(w, "traffic");
	const json_t *b = json_object_get(t, "before"), *a = json_object_get(t, "after");
	char x[32], y[32], z[32];
	size_t i, k;

	if (t == NULL)
		return;
	if (json_equal(b, a)) {
		fprintf(f, "**Traffic:** no spoke-to-spoke path changes (");
		for (i = 0, k = 0; class_order[i] != NULL; i++)
			if (jint(a, class_order[i]) > 0)
				fprintf(f, "%s%s %s", k++ > 0 ? ", " : "", report_num(jint(a, class_order[i]), x, sizeof(x)),
				    class_order[i]);
		fprintf(f, "%s).\n\n", k == 0 ? "no flows" : "");
		return;
	}
	fprintf(f, "**Traffic before and after** (spoke-to-spoke flows, %s ordered pairs, from the route "
	    "engine):\n\n| Path | Before | After | Change |\n|---|---:|---:|---:|\n",
	    report_num(jint(t, "flows"), x, sizeof(x)));
	for (i = 0; class_order[i] != NULL; i++) {
		json_int_t vb = jint(b, class_order[i]), va = jint(a, class_order[i]);
		if (vb == 0 && va == 0)
			continue;
		fprintf(f, "| %s: %s | %s | %s | %s%s |\n", class_order[i], class_meaning(class_order[i]),
		    report_num(vb, x, sizeof(x)), report_num(va, y, sizeof(y)), va > vb ? "+" : "",
		    va == vb ? "0" : report_num(va - vb, z, sizeof(z)));
	}
	fputc('\n', f);
}

static void
md_steps(FILE *f, const json_t *w)
{
	const json_t *steps = json_object_get(w, "steps"), *st = NULL;
	size_t i, n = json_array_size(steps);

	if (n == 0)
		return;
	if (n <= MAX_STEPS_LISTED) {
		fprintf(f, "| Step | What | Resource | Undo |\n|---|---|---|---|\n");
		json_array_foreach(steps, i, st) {
			char u[128];
			fprintf(f, "| %s | ", jstr_or(st, "id", "?"));
			md_cell(f, jstr_or(st, "description", ""));
			fprintf(f, " | %s | %s |\n", arm_id_name(json_str(st, "resource")),
			    undo_text(st, u, sizeof(u)));
		}
	} else {
		/* grouped: one row per action, in the order the actions first appear */
		const char *actions[64];
		size_t counts[64], na = 0, k;

		json_array_foreach(steps, i, st) {
			const char *a = jstr_or(st, "action", "?");
			for (k = 0; k < na; k++)
				if (strcmp(actions[k], a) == 0)
					break;
			if (k == na && na < 64) {
				actions[na] = a;
				counts[na++] = 0;
			}
			if (k < 64)
				counts[k]++;
		}
		fprintf(f, "%zu steps, by action (the JSON plan lists each one):\n\n| Action | Steps | "
		    "First step | Undo |\n|---|---:|---|---|\n", n);
		for (k = 0; k < na; k++) {
			json_array_foreach(steps, i, st)
				if (strcmp(jstr_or(st, "action", "?"), actions[k]) == 0)
					break;
			{
				char u[128];
				fprintf(f, "| %s | %zu | ", actions[k], counts[k]);
				md_cell(f, jstr_or(st, "description", ""));
				fprintf(f, " | %s |\n", undo_text(st, u, sizeof(u)));
			}
		}
	}
	fputc('\n', f);
}

static void
md_wave(FILE *f, const json_t *w)
{
	const json_t *e = json_object_get(w, "estimate"), *x;
	const json_t *members = json_object_get(w, "members");
	char a[32], b[32], d1[32], d2[32], d3[32];
	size_t i;

	fprintf(f, "## Wave %lld: %s\n\n*%s*\n\n", (long long)jint(w, "index") + 1, jstr_or(w, "name", "?"),
	    kind_title(jstr_or(w, "kind", "")));
	fprintf(f, "**Members (%zu):** ", json_array_size(members));
	if (json_array_size(members) == 0)
		fputs("none", f);
	json_array_foreach(members, i, x) {
		if (i == MAX_MEMBERS_LISTED) {
			fprintf(f, " and %zu more (the JSON plan lists all)", json_array_size(members) - i);
			break;
		}
		fprintf(f, "%s%s", i > 0 ? ", " : "", arm_id_name(json_string_value(x)));
	}
	fputs("\n\n", f);
	fprintf(f, "**Cost:** %s ARM write%s and %s read%s, ", report_num(jint(e, "writes"), a, sizeof(a)),
	    jint(e, "writes") == 1 ? "" : "s", report_num(jint(e, "reads"), b, sizeof(b)),
	    jint(e, "reads") == 1 ? "" : "s");
	if (jint(e, "seconds") == 0) {
		fprintf(f, "sent within ARM's buckets without waiting.\n\n");
	} else {
		char d4[32], d5[32];
		fprintf(f, "about %s: %s waiting for ARM's buckets, %s of operations, %s of gates, %s of "
		    "round trips (the reads include %lld polls and %lld drift-check reads; docs/plan.md, "
		    "\"estimate\").\n\n", report_duration((long)jint(e, "seconds"), d1, sizeof(d1)),
		    report_duration((long)jint(e, "throttleSeconds"), d2, sizeof(d2)),
		    report_duration((long)jint(e, "operationSeconds"), d3, sizeof(d3)),
		    report_duration((long)jint(e, "gateSeconds"), d4, sizeof(d4)),
		    report_duration((long)jint(e, "requestSeconds"), d5, sizeof(d5)),
		    (long long)jint(e, "polls"), (long long)jint(e, "driftReads"));
	}
	if (json_is_true(json_object_get(w, "maintenanceWindow")))
		fprintf(f, "**Maintenance window:** yes, %s.\n\n", jstr_or(w, "window", "required"));
	else
		fprintf(f, "**Maintenance window:** not needed.\n\n");
	fprintf(f, "**Steps:**\n\n");
	md_steps(f, w);
	fprintf(f, "**Gates** (all must pass before the next wave):\n\n");
	if (json_array_size(json_object_get(w, "gates")) == 0)
		fprintf(f, "- none\n");
	json_array_foreach(json_object_get(w, "gates"), i, x) {
		const char *when = jstr_or(x, "when", "after");
		fprintf(f, "- `%s` %s%s%s\n", jstr_or(x, "kind", "?"),
		    strcmp(when, "before") == 0 ? "(before the wave starts) " :
		    strcmp(when, "after-step") == 0 ? "(between steps) " : "", jstr_or(x, "description", ""),
		    gate_kind_parse(jstr_or(x, "kind", "")) == GATE_SOAK ? "" : "");
	}
	fputc('\n', f);
	if (json_object_get(w, "advertised") != NULL) {
		fprintf(f, "**Prefixes each gateway advertises to the circuit:**\n\n| Gateway | IPv4 before "
		    "| IPv4 after | Limit | IPv6 before | IPv6 after | Limit |\n|---|---:|---:|---:|---:|---:|---:|\n");
		json_array_foreach(json_object_get(w, "advertised"), i, x)
			fprintf(f, "| %s | %lld | %lld | %lld | %lld | %lld | %lld |\n",
			    arm_id_name(json_str(x, "gateway")), (long long)jint(x, "ipv4Before"),
			    (long long)jint(x, "ipv4After"), (long long)jint(x, "maxIpv4"),
			    (long long)jint(x, "ipv6Before"), (long long)jint(x, "ipv6After"),
			    (long long)jint(x, "maxIpv6"));
		fputc('\n', f);
	}
	md_traffic(f, w);
	iac_report_wave_md(f, w);
	fprintf(f, "**Risks:**\n\n");
	if (json_array_size(json_object_get(w, "risks")) == 0)
		fprintf(f, "- none known\n");
	json_array_foreach(json_object_get(w, "risks"), i, x)
		fprintf(f, "- %s\n", json_string_value(x));
	fprintf(f, "\n**How to roll this wave back:** %s.\n\n", jstr_or(w, "rollback", "not given"));
}

static void
md_irreversible(FILE *f, const json_t *plan)
{
	const json_t *w, *st;
	size_t i, k, n = 0;

	fprintf(f, "## Irreversible steps\n\nThese cannot be undone by netwave; each sits behind a "
	    "soak and asks for confirmation when applied.\n\n");
	json_array_foreach(json_object_get(plan, "waves"), i, w)
		json_array_foreach(json_object_get(w, "steps"), k, st) {
			if (!json_is_true(json_object_get(st, "irreversible")))
				continue;
			if (n++ == 0)
				fprintf(f, "| Step | Wave | What |\n|---|---|---|\n");
			fprintf(f, "| %s | %s | ", jstr_or(st, "id", "?"), jstr_or(w, "name", "?"));
			md_cell(f, jstr_or(st, "description", ""));
			fputs(" |\n", f);
		}
	if (n == 0)
		fprintf(f, "None.\n");
	fputc('\n', f);
}

static void
md_fingerprints(FILE *f, const json_t *plan)
{
	const json_t *c = json_object_get(plan, "current"), *t = json_object_get(plan, "target");

	fprintf(f, "## Fingerprints\n\nThe plan applies only to these exact topologies; `netwave apply` "
	    "stops if the estate has drifted from the current one.\n\n| | File | SHA-256 of the "
	    "canonical JSON |\n|---|---|---|\n| current | %s | `%s` |\n| target | %s | `%s` |\n\n",
	    jstr_or(c, "source", "?"), jstr_or(c, "fingerprint", "?"), jstr_or(t, "source", "?"),
	    jstr_or(t, "fingerprint", "?"));
}

static void
md_glossary(FILE *f)
{
	fprintf(f, "## Reading this plan\n\n"
	    "- A **wave** is a group of steps applied together; the next wave starts only when every "
	    "**gate** of the previous one passes (deployment status, effective routes, on-premises "
	    "routes, migration phases) and its **soak** time has passed.\n"
	    "- Every step has an **inverse** that undoes it, unless it is marked **irreversible**. "
	    "Rolling a wave back runs its inverses, last step first.\n"
	    "- **Hairpin**: spoke-to-spoke traffic that leaves Azure through the ExpressRoute gateway, "
	    "turns around at the circuit's edge routers (MSEE) and comes back. **Mesh**: an AVNM "
	    "connected group, where spokes reach each other directly (next hop `ConnectedGroup`).\n"
	    "- A **commit** deploys AVNM configurations to a region and replaces whatever was deployed "
	    "there before (goal state), which is why each commit lists every configuration already "
	    "active in its region.\n"
	    "- Traffic figures come from netwave's route engine applied to the topology after each "
	    "wave; they count ordered spoke pairs, not packets.\n");
}

static void
render_markdown(FILE *f, const json_t *plan, const json_t *only)
{
	const json_t *ch, *w;
	size_t i;

	fprintf(f, "# Change plan %s\n\n", jstr_or(plan, "id", "?"));
	fprintf(f, "Planned %s by netwave from `%s` (the estate as it is) and `%s` (as it should be). "
	    "Changes: ", jstr_or(plan, "createdAt", "?"), jstr_or(json_object_get(plan, "current"), "source", "?"),
	    jstr_or(json_object_get(plan, "target"), "source", "?"));
	if (json_array_size(json_object_get(plan, "changes")) == 0)
		fputs("none", f);
	json_array_foreach(json_object_get(plan, "changes"), i, ch)
		fprintf(f, "%s%s", i > 0 ? "; " : "", change_title(json_string_value(ch)));
	fputs(".\n\n", f);
	if (only != NULL) {
		fprintf(f, "This extract shows wave %s only.\n\n", jstr_or(only, "name", "?"));
		md_wave(f, only);
		md_fingerprints(f, plan);
		return;
	}
	md_summary(f, plan);
	md_overview(f, plan);
	md_findings(f, plan);
	md_limits(f, plan);
	md_glance(f, plan);
	report_mermaid_write(f, plan);
	json_array_foreach(json_object_get(plan, "waves"), i, w)
		md_wave(f, w);
	md_irreversible(f, plan);
	md_fingerprints(f, plan);
	md_glossary(f);
}

/* ------------------------------------------------------------------ */
/* text */

static void
text_wave(FILE *f, const json_t *w, bool detail)
{
	const json_t *e = json_object_get(w, "estimate"), *t = json_object_get(w, "traffic"), *x;
	char a[32], d1[32], d2[32];
	size_t i, k;

	fprintf(f, "  %2lld  %-20s %-14s %5zu VNets %5zu steps %6s writes  %s%s\n",
	    (long long)jint(w, "index") + 1, jstr_or(w, "name", "?"), jstr_or(w, "kind", "?"),
	    json_array_size(json_object_get(w, "members")), json_array_size(json_object_get(w, "steps")),
	    report_num(jint(e, "writes"), a, sizeof(a)), eta((long)jint(e, "seconds"), d1, sizeof(d1)),
	    json_is_true(json_object_get(w, "maintenanceWindow")) ? "  [maintenance window]" : "");
	if (jint(e, "seconds") > 0) {
		char d3[32], d4[32], d5[32];
		fprintf(f, "      time: buckets %s, operations %s, gates %s (%lld reads)\n",
		    report_duration((long)jint(e, "throttleSeconds"), d3, sizeof(d3)),
		    report_duration((long)jint(e, "operationSeconds"), d4, sizeof(d4)),
		    report_duration((long)jint(e, "gateSeconds"), d5, sizeof(d5)), (long long)jint(e, "reads"));
	}
	if (jint(w, "soakSeconds") > 0)
		fprintf(f, "      soak %s after\n", report_duration((long)jint(w, "soakSeconds"), d2, sizeof(d2)));
	if (t != NULL && !json_equal(json_object_get(t, "before"), json_object_get(t, "after"))) {
		fputs("      traffic:", f);
		for (k = 0; class_order[k] != NULL; k++) {
			json_int_t vb = jint(json_object_get(t, "before"), class_order[k]);
			json_int_t va = jint(json_object_get(t, "after"), class_order[k]);
			if (vb != va)
				fprintf(f, " %s %lld -> %lld;", class_order[k], (long long)vb, (long long)va);
		}
		fputc('\n', f);
	}
	if (!detail)
		return;
	fprintf(f, "      members: ");
	json_array_foreach(json_object_get(w, "members"), i, x)
		fprintf(f, "%s%s", i > 0 ? " " : "", arm_id_name(json_string_value(x)));
	fputc('\n', f);
	json_array_foreach(json_object_get(w, "steps"), i, x)
		fprintf(f, "      %s  %s%s\n", jstr_or(x, "id", "?"), jstr_or(x, "description", ""),
		    json_is_true(json_object_get(x, "irreversible")) ? "  [irreversible]" : "");
	json_array_foreach(json_object_get(w, "gates"), i, x)
		fprintf(f, "      gate %-18s %s\n", jstr_or(x, "kind", "?"), jstr_or(x, "description", ""));
	json_array_foreach(json_object_get(w, "risks"), i, x)
		fprintf(f, "      risk: %s\n", json_string_value(x));
	fprintf(f, "      rollback: %s\n", jstr_or(w, "rollback", ""));
}

static void
render_text(FILE *f, const json_t *plan, const json_t *only)
{
	const json_t *s = json_object_get(plan, "summary"), *x, *w;
	char a[32], b[32], c[32], d1[32], d2[32];
	size_t i;

	fprintf(f, "plan %s (%s)\n", jstr_or(plan, "id", "?"), jstr_or(plan, "createdAt", "?"));
	fprintf(f, "  current %s  %s\n  target  %s  %s\n", jstr_or(json_object_get(plan, "current"), "fingerprint", "?"),
	    jstr_or(json_object_get(plan, "current"), "source", "?"),
	    jstr_or(json_object_get(plan, "target"), "fingerprint", "?"),
	    jstr_or(json_object_get(plan, "target"), "source", "?"));
	if (only != NULL) {
		fputs("wave:\n", f);
		text_wave(f, only, true);
		return;
	}
	fputs("  changes:", f);
	json_array_foreach(json_object_get(plan, "changes"), i, x)
		fprintf(f, " %s", json_string_value(x));
	if (json_array_size(json_object_get(plan, "changes")) == 0)
		fputs(" none", f);
	fputc('\n', f);
	fprintf(f, "  %s VNets, %lld waves, %s steps, %s writes, about %s plus %s of soak, risk %s, "
	    "%lld irreversible steps\n", report_num(jint(s, "vnets"), a, sizeof(a)), (long long)jint(s, "waves"),
	    report_num(jint(s, "steps"), c, sizeof(c)), report_num(jint(s, "writes"), b, sizeof(b)),
	    eta((long)jint(s, "etaSeconds"), d1, sizeof(d1)),
	    report_duration((long)jint(s, "soakSeconds"), d2, sizeof(d2)), jstr_or(s, "risk", "?"),
	    (long long)jint(s, "irreversibleSteps"));
	if (json_array_size(json_object_get(plan, "blockers")) > 0) {
		fputs("\nblockers:\n", f);
		json_array_foreach(json_object_get(plan, "blockers"), i, x)
			fprintf(f, "  %s: %s\n", jstr_or(x, "code", "?"), jstr_or(x, "message", ""));
	}
	if (json_array_size(json_object_get(plan, "prerequisites")) > 0) {
		fputs("\nprerequisites:\n", f);
		json_array_foreach(json_object_get(plan, "prerequisites"), i, x)
			fprintf(f, "  %s: %s\n", jstr_or(x, "code", "?"), jstr_or(x, "message", ""));
	}
	fprintf(f, "\npreflight: not run (plan is offline): permissions, deny assignments, locks, policy and "
	    "live state are checked by 'netwave preflight %s' and by apply before its first write\n",
	    jstr_or(plan, "id", "PLAN"));
	{
		const json_t *g[64];
		size_t n = created_groups(plan, g, 64), j;

		if (n > 0) {
			fputs("\nresource groups created (the change writes into them; rollback deletes one "
			    "only if this plan created it and it is empty):\n", f);
			for (j = 0; j < n && j < 64; j++)
				fprintf(f, "  %s  %s  step %s\n", jstr_or(g[j], "resource", "?"), group_location(g[j]),
				    jstr_or(g[j], "id", "?"));
			if (n > 64)
				fprintf(f, "  ... and %zu more\n", n - 64);
		}
	}
	if (json_array_size(json_object_get(plan, "findings")) > 0) {
		fputs("\nfindings:\n", f);
		json_array_foreach(json_object_get(plan, "findings"), i, x)
			fprintf(f, "  %-7s  %-20s  %s\n", jstr_or(x, "severity", "?"), jstr_or(x, "code", "?"),
			    jstr_or(x, "message", ""));
	}
	fputs("\nwaves:\n", f);
	json_array_foreach(json_object_get(plan, "waves"), i, w)
		text_wave(f, w, false);
	fputs("\nirreversible steps:\n", f);
	{
		size_t n = 0, k;
		json_array_foreach(json_object_get(plan, "waves"), i, w)
			json_array_foreach(json_object_get(w, "steps"), k, x)
				if (json_is_true(json_object_get(x, "irreversible"))) {
					fprintf(f, "  %s  %s\n", jstr_or(x, "id", "?"), jstr_or(x, "description", ""));
					n++;
				}
		if (n == 0)
			fputs("  none\n", f);
	}
}

/* ------------------------------------------------------------------ */

int
report_render(char **out, const json_t *plan, enum report_format fmt, const char *wave,
    struct nw_err *err)
{
	const json_t *only = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	*out = NULL;
	if (!json_is_object(plan) || json_str(plan, "format") == NULL ||
	    strcmp(json_str(plan, "format"), "netwave.plan/v1") != 0)
		return err_set(err, NW_EINPUT, "cannot render: not a netwave.plan/v1 document");
	if (wave != NULL &&
	    (only = json_array_find(json_object_get(plan, "waves"), "name", wave, strcmp, NULL)) == NULL)
		return no_such_wave(plan, wave, err);
	if (fmt == REPORT_JSON) {
		*out = json_dump_canonical(only != NULL ? only : plan);
		return *out != NULL ? 0 : err_set(err, NW_ENOMEM, "out of memory rendering the plan");
	}
	f = open_memstream(&buf, &len);
	if (f == NULL)
		return err_set(err, NW_ENOMEM, "out of memory rendering the plan");
	if (fmt == REPORT_MARKDOWN)
		render_markdown(f, plan, only);
	else
		render_text(f, plan, only);
	if (fclose(f) != 0 || buf == NULL) {
		free(buf);
		return err_set(err, NW_ENOMEM, "out of memory rendering the plan");
	}
	*out = buf;
	return 0;
}

char *
report_blockers(const json_t *plan)
{
	const json_t *x;
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL)
		return NULL;
	json_array_foreach(json_object_get(plan, "blockers"), i, x)
		fprintf(f, "blocker: %s: %s\n", jstr_or(x, "code", "?"), jstr_or(x, "message", ""));
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
