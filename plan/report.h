/*
 * The dry-run report: a netwave.plan/v1 document (docs/plan.md) rendered
 * for people.  Markdown is the change-review document a team attaches to
 * its change ticket; text is the short form for a terminal; json is the
 * plan itself, canonical.  Everything comes from the plan document, so a
 * stored plan renders exactly as it did when it was made, and the same
 * document always gives the same bytes.
 */
#ifndef NETWAVE_PLAN_REPORT_H
#define NETWAVE_PLAN_REPORT_H

#include <stddef.h>

#include <jansson.h>

#include "plan/err.h"
#include "plan/kinds.h"

enum report_format { REPORT_TEXT, REPORT_MARKDOWN, REPORT_JSON };

/*
 * Renders plan (borrowed) into a malloc'd NUL-terminated string.  wave,
 * when not NULL, restricts the report to the wave of that name (json: the
 * wave object alone); NW_EINPUT naming the waves there are when none has
 * that name.  NW_EINPUT when plan is not a netwave.plan/v1 document.
 */
int report_render(char **out, const json_t *plan, enum report_format fmt, const char *wave,
    struct nw_err *err);

/* The blockers of a plan, one per line ("blocker: <code>: <message>"); malloc'd. */
char *report_blockers(const json_t *plan);

/* The entries of array `what` ("members", "steps") over the plan's waves of one kind. */
size_t report_wave_count(const json_t *plan, const struct wave_kind_def *kind, const char *what);

/* 3304 -> "3,304" into buf. */
const char *report_num(json_int_t v, char *buf, size_t size);

/* "45 s", "12 min", "1 h 30 min", "14 d" into buf. */
const char *report_duration(long seconds, char *buf, size_t size);

#endif
