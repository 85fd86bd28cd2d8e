/*
 * Long-running operations as ARM runs them (reference/azure-arm.md,
 * section 5): each has a GUID, a deadline (nominal seconds divided by the
 * time scale), and is completed lazily, before the next request looks at
 * the estate, so no timer thread touches the state.  The
 * Azure-AsyncOperation URL always answers 200 with {id, name, status,
 * startTime, endTime, error}; the Location URL answers 202 while running,
 * then the synchronous result.  Each operation carries the completion
 * its handler gave it (struct emu_op_class): this file calls nothing else
 * of the emulator's handlers.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "plan/vec.h"
#include "providers/emulator/emu.h"

/* Completed operations kept for polling; the oldest go first. */
#define LRO_KEEP 200000

static void
op_free(struct emu_op *op)
{
	if (op == NULL)
		return;
	free(op->fail_code);
	free(op->fail_msg);
	json_decref(op->args);
	json_decref(op->result);
	free(op);
}

static void
reindex(struct emulator *e)
{
	size_t i;

	json_object_clear(e->opindex);
	for (i = 0; i < e->nops; i++)
		json_object_set_new(e->opindex, e->ops[i]->id, json_integer((json_int_t)i));
}

static void
trim(struct emulator *e)
{
	size_t drop = 0, i, j;

	if (e->nops < LRO_KEEP)
		return;
	/* drop the oldest finished tenth; running ones stay */
	for (i = 0, j = 0; i < e->nops; i++) {
		if (drop < LRO_KEEP / 10 && e->ops[i]->state != OP_RUNNING) {
			op_free(e->ops[i]);
			drop++;
			continue;
		}
		e->ops[j++] = e->ops[i];
	}
	e->nops = j;
	reindex(e);
}

/* Copies s to *at in an operation's text and moves *at past it; the copy. */
static const char *
text_put(char **at, const char *s)
{
	const char *copy = strcpy(*at, s);

	*at += strlen(s) + 1;
	return copy;
}

/* The same, for a region: "East US" -> "eastus", as regions appear in URLs. */
static const char *
text_put_region(char **at, const char *region)
{
	char *copy = *at, *d = copy;
	const char *p;

	for (p = region; *p != '\0'; p++)
		if (*p != ' ')
			*d++ = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	*d = '\0';
	*at = d + 1;
	return copy;
}

/* Room for one more operation in a list; false on out of memory. */
static bool
grow(struct emu_op ***list, size_t n, size_t *cap)
{
	return VEC_GROW(*list, cap, n + 1) == 0;
}

/* Room for one more in both lists and the index; false on out of memory. */
static bool
reserve(struct emulator *e)
{
	if (e->opindex == NULL && (e->opindex = json_object()) == NULL)
		return false;
	return grow(&e->ops, e->nops, &e->capops) &&
	    grow(&e->running, e->nrunning, &e->caprunning);
}

struct emu_op *
lro_new(struct emulator *e, const struct emu_op_class *cls, enum emu_op_kind kind,
    const char *action, const char *target, const char *subscription, const char *region,
    double nominal)
{
	const char *sub = subscription != NULL ? subscription : "";
	const char *reg = region != NULL ? region : "global";
	size_t text = (action != NULL ? strlen(action) + 1 : 0) + strlen(target) + 1 +
	    strlen(sub) + 1 + strlen(reg) + 1;
	struct emu_op *op = calloc(1, sizeof(*op) + text);
	char *at;

	if (op == NULL || !reserve(e))
		goto oom;
	emu_guid(e, op->id);
	op->cls = cls;
	op->kind = kind;
	at = op->text;
	op->action = action != NULL ? text_put(&at, action) : NULL;
	op->target = text_put(&at, target);
	op->subscription = text_put(&at, sub);
	op->region = text_put_region(&at, reg);
	op->start = clock_wall();
	op->deadline = clock_mono() + emu_scaled(e, nominal);
	op->state = OP_RUNNING;
	op->forced = OP_RUNNING;
	op->result_status = 200;
	if (json_object_set_new(e->opindex, op->id, json_integer((json_int_t)e->nops)) != 0)
		goto oom;
	e->ops[e->nops++] = op;
	e->running[e->nrunning++] = op;
	return op;
oom:
	op_free(op);
	return NULL;
}

void
lro_force(struct emu_op *op, enum emu_op_state state, const char *code, const char *msg)
{
	op->forced = state;
	free(op->fail_code);
	free(op->fail_msg);
	op->fail_code = emu_strdup(code);
	op->fail_msg = emu_strdup(msg);
}

static void
complete(struct emulator *e, struct emu_op *op)
{
	op->state = op->forced != OP_RUNNING ? op->forced : OP_SUCCEEDED;
	op->end = clock_wall();
	if (op->state != OP_SUCCEEDED && op->fail_code == NULL) {
		op->fail_code = emu_strdup(op->state == OP_CANCELED ? "OperationCanceled" :
		    "InternalServerError");
		op->fail_msg = emu_strdup(op->state == OP_CANCELED ? "The operation was canceled." :
		    "An error occurred.");
	}
	/* the operation's own completion, set by the handler that started it */
	if (op->cls != NULL && op->cls->done != NULL)
		op->cls->done(e, op);
}

static int
cmp_deadline(const void *a, const void *b)
{
	const struct emu_op *x = *(struct emu_op *const *)a, *y = *(struct emu_op *const *)b;

	return x->deadline < y->deadline ? -1 : x->deadline > y->deadline ? 1 : 0;
}

static void
advance_until(struct emulator *e, double now, bool all)
{
	struct emu_op **due = NULL;
	size_t ndue = 0, i, j;

	if (e->nrunning == 0)
		return;
	due = malloc(e->nrunning * sizeof(*due));
	if (due == NULL)
		return; /* out of memory: they complete at the next request */
	for (i = 0, j = 0; i < e->nrunning; i++) {
		if (all || e->running[i]->deadline <= now)
			due[ndue++] = e->running[i];
		else
			e->running[j++] = e->running[i];
	}
	e->nrunning = j;
	/* in deadline order, so later operations see the earlier ones done */
	qsort(due, ndue, sizeof(*due), cmp_deadline);
	for (i = 0; i < ndue; i++)
		complete(e, due[i]);
	free(due);
	trim(e);
}

void
lro_advance(struct emulator *e)
{
	advance_until(e, clock_mono(), false);
}

void
lro_finish_all(struct emulator *e)
{
	/* completions may start nothing new, but loop in case one does */
	int guard = 0;

	while (e->nrunning > 0 && guard++ < 8)
		advance_until(e, 0, true);
}

static bool
id_under(const char *a, const char *b)
{
	size_t lb = strlen(b);

	return strncasecmp(a, b, lb) == 0 && (a[lb] == '\0' || a[lb] == '/');
}

struct emu_op *
lro_busy(struct emulator *e, const char *id)
{
	size_t i;

	for (i = 0; i < e->nrunning; i++) {
		struct emu_op *op = e->running[i];

		/* reads hold nothing; a commit has its own conflict rule (avnm.c) */
		if (op->cls == NULL || !op->cls->holds)
			continue;
		if (id_under(op->target, id) || id_under(id, op->target))
			return op;
	}
	return NULL;
}

static struct emu_op *
find(struct emulator *e, const char *id)
{
	json_t *v = e->opindex != NULL ? json_object_get(e->opindex, id) : NULL;
	size_t i;

	if (v == NULL) {
		/* ids are GUIDs; accept any casing */
		for (i = 0; i < e->nops; i++)
			if (strcasecmp(e->ops[i]->id, id) == 0)
				return e->ops[i];
		return NULL;
	}
	i = (size_t)json_integer_value(v);
	return i < e->nops ? e->ops[i] : NULL;
}

static const char *
status_name(enum emu_op_state s)
{
	switch (s) {
	case OP_SUCCEEDED:
		return "Succeeded";
	case OP_FAILED:
		return "Failed";
	case OP_CANCELED:
		return "Canceled";
	default:
		return "InProgress";
	}
}

/*
 * When to poll a running operation again: the poll interval, scaled, or
 * what is left of the operation if that is sooner.  Retry-After is whole
 * seconds, rounded: under a large time scale it is 0, poll at once;
 * retry-after-ms gives clients that read it the scaled interval.
 */
static void
retry_after(struct emulator *e, struct emu_req *r, const struct emu_op *op)
{
	double left = op->deadline - clock_mono();
	double wait = emu_scaled(e, EMU_POLL_INTERVAL);

	if (left < wait)
		wait = left;
	if (wait < 0)
		wait = 0;
	emu_header(r, "Retry-After", "%d", (int)floor(wait + 0.5));
	emu_header(r, "retry-after-ms", "%ld", wait * 1000 < 1 ? 1L : (long)ceil(wait * 1000));
}

static void
handle_status(struct emulator *e, struct emu_req *r, const char *opid, bool result)
{
	struct emu_op *op = find(e, opid);
	char t[40];
	json_t *body;

	emu_op_name(r, "poll %s", result ? "operationResults" : "operations");
	if (op == NULL || op->lost) {
		emu_reply_error(r, 404, "OperationNotFound", "The operation '%s' could not be found.", opid);
		return;
	}
	if (op->state == OP_RUNNING)
		retry_after(e, r, op);
	if (!result) {
		emu_time_iso(op->start, t);
		body = json_pack("{s:o,s:s,s:s,s:s}", "id",
		    json_sprintf("/subscriptions/%s/providers/Microsoft.Network/locations/%s/operations/%s",
		    op->subscription, op->region, op->id), "name", op->id, "status",
		    status_name(op->state), "startTime", t);
		if (op->state != OP_RUNNING) {
			emu_time_iso(op->end, t);
			json_object_set_new(body, "endTime", json_string(t));
		}
		if (op->state == OP_FAILED || op->state == OP_CANCELED)
			json_object_set_new(body, "error", json_pack("{s:s,s:s}", "code", op->fail_code,
			    "message", op->fail_msg));
		emu_reply_json(r, 200, body);
		return;
	}
	if (op->state == OP_RUNNING) {
		emu_header(r, "Location",
		    "%s/subscriptions/%s/providers/Microsoft.Network/locations/%s/operationResults/%s?api-version=%s",
		    r->base, op->subscription, op->region, op->id, EMU_API_NETWORK);
		emu_reply_empty(r, 202);
		return;
	}
	if (op->state != OP_SUCCEEDED) {
		emu_reply_error(r, 400, op->fail_code, "%s", op->fail_msg);
		return;
	}
	if (op->cls != NULL && op->cls->result != NULL)
		op->cls->result(e, r, op);
	else if (op->result != NULL) {
		emu_reply_json(r, op->result_status, json_deep_copy(op->result));
	} else {
		emu_reply_empty(r, op->result_status);
	}
}

/* .../providers/Microsoft.Network/locations/{l}/operations/{id}: the last capture */
void
lro_route_status(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	handle_status(e, r, c->cap[c->ncap - 1], false);
}

void
lro_route_result(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	handle_status(e, r, c->cap[c->ncap - 1], true);
}

void
arm_reply_lro(struct emulator *e, struct emu_req *r, const struct emu_op *op, int status,
    json_t *body)
{
	emu_header(r, "Azure-AsyncOperation",
	    "%s/subscriptions/%s/providers/Microsoft.Network/locations/%s/operations/%s?api-version=%s",
	    r->base, op->subscription, op->region, op->id, EMU_API_NETWORK);
	emu_header(r, "Location",
	    "%s/subscriptions/%s/providers/Microsoft.Network/locations/%s/operationResults/%s?api-version=%s",
	    r->base, op->subscription, op->region, op->id, EMU_API_NETWORK);
	retry_after(e, r, op);
	if (body != NULL)
		emu_reply_json(r, status, body);
	else
		emu_reply_empty(r, status);
}

void
lro_free_all(struct emulator *e)
{
	size_t i;

	for (i = 0; i < e->nops; i++)
		op_free(e->ops[i]);
	free(e->ops);
	free(e->running);
	json_decref(e->opindex);
	e->ops = NULL;
	e->running = NULL;
	e->nops = e->nrunning = 0;
}
