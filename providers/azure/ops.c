/*
 * Operations on top of the transport: a read, a list that follows
 * nextLink, a POST that pages with a body skipToken (AVNM list*), a
 * Resource Graph query that pages with $skipToken, and a write followed
 * to its end as ARM's long-running-operation contract says
 * (reference/azure-arm.md section 5): Azure-AsyncOperation preferred,
 * else Location, else the resource's provisioningState; Retry-After
 * between polls; Failed and Canceled carry ARM's code and message; the
 * final GET as ARM's rules say (PUT and PATCH: the resource; POST with
 * Location: that URL; DELETE: none).
 *
 * ARM's errors are translated here, once, into struct nw_err and struct
 * provider_error: what was attempted, HTTP status, code, message,
 * target, request id.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "providers/azure/internal.h"

#define MAX_PAGES 1000000u

struct az_op {
	struct az_client *c;
	struct provider_op *op;
	struct az_xfer *x;
	struct az_op *prev, *next;
	char *url;              /* absolute URL of the request (the resource of a PUT/PATCH/DELETE) */
	char api_version[32];
	json_t *acc;            /* pages so far */
	char *last_page;        /* the previous nextLink/skipToken, to stop a loop */
	unsigned quick_polls;   /* polls ARM told to make at once (Retry-After: 0) */
	unsigned pages;
	char what[700];         /* "PUT /subscriptions/.../vnet-1" */
};

static void send_initial(struct az_op *a);

/* --- error translation ----------------------------------------------------------------- */

static json_t *
answer_json(const struct az_xfer *x)
{
	if (x->resp == NULL || x->resp_len == 0)
		return NULL;
	return json_loadb(x->resp, x->resp_len, JSON_DECODE_ANY, NULL);
}

static void
copy_field(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

/* Fills perr's code, message and target from an error object. */
static void
error_fields(struct provider_error *perr, const json_t *body)
{
	const json_t *e = json_object_get(body, "error");

	if (json_is_string(e)) {
		/* Entra ID's {error, error_description} */
		copy_field(perr->code, sizeof(perr->code), json_string_value(e));
		copy_field(perr->message, sizeof(perr->message), json_str(body, "error_description"));
		return;
	}
	if (!json_is_object(e))
		e = body; /* some RPs answer the error object bare */
	copy_field(perr->code, sizeof(perr->code), json_str(e, "code"));
	copy_field(perr->message, sizeof(perr->message), json_str(e, "message"));
	copy_field(perr->target, sizeof(perr->target), json_str(e, "target"));
	if (perr->message[0] == '\0' && json_is_array(json_object_get(e, "details"))) {
		const json_t *d = json_array_get(json_object_get(e, "details"), 0);
		copy_field(perr->message, sizeof(perr->message), json_str(d, "message"));
	}
}

static void
format_error(struct nw_err *err, const struct provider_error *perr, const char *what,
    const char *lead)
{
	char tail[512] = "";
	size_t n = 0;

	if (perr->target[0] != '\0')
		n += (size_t)snprintf(tail + n, sizeof(tail) - n, "target %s", perr->target);
	if (perr->request_id[0] != '\0')
		snprintf(tail + n, sizeof(tail) - n, "%srequest id %s", n > 0 ? "; " : "",
		    perr->request_id);
	err_set(err, NW_EFAIL, "cannot %s: %s%s%s%s%s%s%s", what, lead,
	    perr->code[0] != '\0' ? " " : "", perr->code, perr->message[0] != '\0' ? ": " : "",
	    perr->message, tail[0] != '\0' ? " (" : "", tail);
	if (tail[0] != '\0') {
		size_t m = strlen(err->msg);
		if (m + 1 < sizeof(err->msg)) {
			err->msg[m] = ')';
			err->msg[m + 1] = '\0';
		}
	}
}

int
az_error_from_answer(struct nw_err *err, struct provider_error *perr, const struct az_xfer *x,
    const char *what)
{
	json_t *body = answer_json(x);
	char lead[64];

	memset(perr, 0, sizeof(*perr));
	perr->http_status = (int)x->status;
	copy_field(perr->request_id, sizeof(perr->request_id), az_xfer_header(x, "x-ms-request-id"));
	if (body != NULL)
		error_fields(perr, body);
	json_decref(body);
	snprintf(lead, sizeof(lead), "HTTP %ld", x->status);
	format_error(err, perr, what, lead);
	return NW_EFAIL;
}

/* --- finishing ------------------------------------------------------------------------- */

static void
unlink_op(struct az_op *a)
{
	struct az_client *c = a->c;

	if (a->prev != NULL)
		a->prev->next = a->next;
	else if (c->ops == a)
		c->ops = a->next;
	if (a->next != NULL)
		a->next->prev = a->prev;
	a->prev = a->next = NULL;
	if (c->pending_ops > 0)
		c->pending_ops--;
}

static void
op_free_impl(struct az_op *a)
{
	free(a->url);
	json_decref(a->acc);
	free(a->last_page);
	free(a);
}

static void
finish_op(struct az_op *a, bool notify)
{
	struct provider_op *op = a->op;

	unlink_op(a);
	op->impl = NULL;
	if (op->phase == PROVIDER_PHASE_FAILED)
		a->c->stats.failures++;
	op_free_impl(a);
	if (notify && op->done != NULL)
		op->done(op, op->done_arg);
}

static void
succeed(struct az_op *a, json_t *result)
{
	json_decref(a->op->result);
	a->op->result = result;
	a->op->phase = PROVIDER_PHASE_DONE;
	a->op->status = 0;
	finish_op(a, true);
}

static void
fail_with(struct az_op *a, const struct nw_err *err, const struct provider_error *perr)
{
	a->op->err = *err;
	if (perr != NULL)
		a->op->error = *perr;
	else
		memset(&a->op->error, 0, sizeof(a->op->error));
	a->op->status = err->code != 0 ? err->code : NW_EFAIL;
	a->op->phase = PROVIDER_PHASE_FAILED;
	finish_op(a, true);
}

static void
fail_msg(struct az_op *a, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
fail_msg(struct az_op *a, int code, const char *fmt, ...)
{
	struct nw_err err = { 0 };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err.msg, sizeof(err.msg), fmt, ap);
	va_end(ap);
	err.code = code;
	fail_with(a, &err, NULL);
}

static void
fail_answer(struct az_op *a, const struct az_xfer *x)
{
	struct nw_err err = { 0 };
	struct provider_error perr;

	az_error_from_answer(&err, &perr, x, a->what);
	if (x->status == 401) {
		char lead[300];
		snprintf(lead, sizeof(lead), "ARM rejected the access token of %s: HTTP 401",
		    a->c->cred.name[0] != '\0' ? a->c->cred.name : "the credential");
		format_error(&err, &perr, a->what, lead);
	} else if (x->status == 429) {
		char lead[128];
		snprintf(lead, sizeof(lead), "still throttled after waiting %.0f seconds: HTTP 429",
		    x->parked);
		format_error(&err, &perr, a->what, lead);
	}
	fail_with(a, &err, &perr);
}

/* A transfer that got no usable answer (network, TLS, credential). */
static void
fail_transport(struct az_op *a, const struct az_xfer *x)
{
	struct provider_error perr;

	memset(&perr, 0, sizeof(perr));
	fail_with(a, &x->err, &perr);
}

/* --- helpers --------------------------------------------------------------------------- */

static void
account(struct az_op *a, const struct az_xfer *x, bool poll)
{
	a->op->requests += x->attempts;
	if (x->attempts > 1)
		a->op->retries += x->attempts - 1;
	if (poll)
		a->op->polls++;
	a->op->http_status = (int)x->status;
	a->x = NULL;
}

/* A transfer of the operation ended (poll: a status poll): counted; false when it failed below HTTP. */
static bool
arrived(struct az_op *a, const struct az_xfer *x, bool poll)
{
	account(a, x, poll);
	if (x->rc != 0) {
		fail_transport(a, x);
		return false;
	}
	return true;
}

/* url with api-version added when it has none (ARM's poll URLs and nextLinks usually do). */
static char *
with_api_version(const struct az_op *a, const char *url)
{
	char *out = NULL;

	if (strstr(url, "api-version=") != NULL || a->api_version[0] == '\0')
		return strdup(url);
	if (asprintf(&out, "%s%capi-version=%s", url, strchr(url, '?') != NULL ? '&' : '?',
	    a->api_version) < 0)
		return NULL;
	return out;
}

static void
api_version_of(const char *url, char *out, size_t size)
{
	const char *p = strstr(url, "api-version=");
	size_t n;

	out[0] = '\0';
	if (p == NULL)
		return;
	p += 12;
	n = strcspn(p, "&#");
	if (n < size) {
		memcpy(out, p, n);
		out[n] = '\0';
	}
}

/* Sends a request for the operation; the callback gets the transfer.  -1 when it failed the op (freed). */
static int
send_req(struct az_op *a, const char *method, const char *url, const json_t *body,
    unsigned extra_flags, double delay, az_xfer_done_fn cb, const char *request_id)
{
	struct az_client *c = a->c;
	char *text = NULL;
	struct az_xfer *x;

	if (body != NULL && (text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL) {
		fail_msg(a, NW_ENOMEM, "out of memory");
		return -1;
	}
	x = az_xfer_new(c, method, url, text, text != NULL ? strlen(text) : 0,
	    text != NULL ? "application/json" : NULL, AZ_XFER_AUTH | extra_flags);
	free(text);
	if (x == NULL) {
		fail_msg(a, NW_ENOMEM, "out of memory");
		return -1;
	}
	if (request_id != NULL && request_id[0] != '\0')
		snprintf(x->request_id, sizeof(x->request_id), "%s", request_id);
	a->x = x;
	az_xfer_start(x, delay, cb, a);
	return 0;
}

static bool
lower_contains(const char *s, const char *needle)
{
	size_t n = strlen(needle);

	for (; s != NULL && *s != '\0'; s++)
		if (strncasecmp(s, needle, n) == 0)
			return true;
	return false;
}

/* "Succeeded", "Failed", "Canceled" or NULL (running or absent). */
static const char *
terminal_state(const char *state)
{
	if (state == NULL)
		return NULL;
	if (lower_contains(state, "succeeded"))
		return "Succeeded";
	if (lower_contains(state, "fail"))
		return "Failed";
	if (strcasecmp(state, "canceled") == 0 || strcasecmp(state, "cancelled") == 0)
		return "Canceled";
	return NULL;
}

/*
 * Retry-After when ARM sends one, else the default interval.  "Retry-After:
 * 0" while still running would have us spin: those waits start at 50 ms and
 * double up to the interval.  A Retry-After longer than the longest wait
 * honoured (max_wait) is cut to it: a poll is only a read, and a huge or
 * garbled value must not put the operation to sleep for good.
 */
static double
poll_delay(struct az_op *a, const struct az_xfer *x)
{
	double ra = az_retry_after(x), d;

	if (ra > a->c->max_wait)
		return a->c->max_wait;
	if (ra > 0)
		return ra;
	if (ra < 0)
		return a->c->poll_interval;
	d = 0.05 * (double)(1u << (a->quick_polls < 10 ? a->quick_polls : 10));
	a->quick_polls++;
	return d < a->c->poll_interval ? d : a->c->poll_interval;
}

/* --- reads and pages ------------------------------------------------------------------- */

static void on_page(struct az_xfer *x, void *arg);

static bool
page_guard(struct az_op *a, const char *token)
{
	if (++a->pages > MAX_PAGES || (a->last_page != NULL && strcmp(a->last_page, token) == 0)) {
		fail_msg(a, NW_EFAIL, "cannot %s: ARM gave the same page token twice ('%.80s')", a->what,
		    token);
		return false;
	}
	free(a->last_page);
	a->last_page = strdup(token);
	return true;
}

static void
append_items(struct az_op *a, const json_t *items)
{
	if (json_is_array(items))
		json_array_extend(a->acc, (json_t *)items);
}

static void
on_page(struct az_xfer *x, void *arg)
{
	struct az_op *a = arg;
	struct provider_op *op = a->op;
	json_t *body;
	const char *next;

	if (!arrived(a, x, false))
		return;
	if (x->status != 200) {
		fail_answer(a, x);
		return;
	}
	body = answer_json(x);
	if (!json_is_object(body)) {
		json_decref(body);
		fail_msg(a, NW_EFAIL, "cannot %s: the answer is not a JSON object", a->what);
		return;
	}
	if (op->kind == PROVIDER_OP_READ) {
		succeed(a, body);
		return;
	}
	if (op->kind == PROVIDER_OP_QUERY) {
		append_items(a, json_object_get(body, "data"));
		next = json_str(body, "$skipToken");
		if (next != NULL && next[0] != '\0') {
			json_t *req = json_deep_copy(op->body);
			if (!page_guard(a, next)) {
				json_decref(req);
				json_decref(body);
				return;
			}
			json_object_set_new(json_object_get(req, "options"), "$skipToken", json_string(next));
			send_req(a, "POST", a->url, req, AZ_XFER_IDEMPOTENT | AZ_XFER_GRAPH, 0, on_page, NULL);
			json_decref(req);
			json_decref(body);
			return;
		}
	} else if (op->kind == PROVIDER_OP_POST_LIST) {
		append_items(a, json_object_get(body, "value"));
		next = json_str(body, "skipToken");
		if (next != NULL && next[0] != '\0') {
			json_t *req = op->body != NULL ? json_deep_copy(op->body) : json_object();
			if (!page_guard(a, next)) {
				json_decref(req);
				json_decref(body);
				return;
			}
			json_object_set_new(req, "skipToken", json_string(next));
			send_req(a, "POST", a->url, req, AZ_XFER_IDEMPOTENT, 0, on_page, NULL);
			json_decref(req);
			json_decref(body);
			return;
		}
	} else {
		append_items(a, json_object_get(body, "value"));
		next = json_str(body, "nextLink");
		if (next != NULL && next[0] != '\0') {
			char *url;
			if (!az_same_origin(next, a->c->arm)) {
				fail_msg(a, NW_EFAIL, "cannot %s: ARM's nextLink points to another host "
				    "('%.200s')", a->what, next);
				json_decref(body);
				return;
			}
			if (!page_guard(a, next)) {
				json_decref(body);
				return;
			}
			url = with_api_version(a, next);
			if (url == NULL) {
				json_decref(body);
				fail_msg(a, NW_ENOMEM, "out of memory");
				return;
			}
			send_req(a, "GET", url, NULL, AZ_XFER_IDEMPOTENT, 0, on_page, NULL);
			free(url);
			json_decref(body);
			return;
		}
	}
	json_decref(body);
	{
		json_t *items = a->acc;
		a->acc = NULL;
		succeed(a, items);
	}
}

/* --- writes ---------------------------------------------------------------------------- */

static void on_poll(struct az_xfer *x, void *arg);
static void on_final(struct az_xfer *x, void *arg);

static bool
is_method(const struct az_op *a, const char *m)
{
	return strcmp(a->op->method, m) == 0;
}

static void
schedule_poll(struct az_op *a, double delay)
{
	const char *url = a->op->poll_kind == PROVIDER_POLL_RESOURCE ? a->url : a->op->poll_url;
	char *u = with_api_version(a, url);

	if (u == NULL) {
		fail_msg(a, NW_ENOMEM, "out of memory");
		return;
	}
	send_req(a, "GET", u, NULL, AZ_XFER_IDEMPOTENT, delay, on_poll, NULL);
	free(u);
}

static void
final_get(struct az_op *a)
{
	a->op->phase = PROVIDER_PHASE_FINAL;
	if (is_method(a, "PUT") || is_method(a, "PATCH")) {
		send_req(a, "GET", a->url, NULL, AZ_XFER_IDEMPOTENT, 0, on_final, NULL);
		return;
	}
	if (is_method(a, "POST") && a->op->final_url != NULL) {
		char *u = with_api_version(a, a->op->final_url);
		if (u == NULL) {
			fail_msg(a, NW_ENOMEM, "out of memory");
			return;
		}
		send_req(a, "GET", u, NULL, AZ_XFER_IDEMPOTENT, 0, on_final, NULL);
		free(u);
		return;
	}
	succeed(a, NULL);
}

static bool
set_poll(struct az_op *a, enum provider_poll_kind kind, const char *url)
{
	free(a->op->poll_url);
	a->op->poll_url = NULL;
	a->op->poll_kind = kind;
	if (url != NULL) {
		if (!az_same_origin(url, a->c->arm)) {
			fail_msg(a, NW_EFAIL, "cannot %s: ARM's status URL points to another host ('%.200s')",
			    a->what, url);
			return false;
		}
		if ((a->op->poll_url = strdup(url)) == NULL) {
			fail_msg(a, NW_ENOMEM, "out of memory");
			return false;
		}
	}
	return true;
}

static void
start_polling(struct az_op *a, double delay)
{
	a->op->phase = PROVIDER_PHASE_POLLING;
	if (a->op->accepted != NULL)
		a->op->accepted(a->op, a->op->done_arg);
	schedule_poll(a, delay);
}

/* An LRO that ended Failed or Canceled: ARM's code and message. */
static void
fail_lro(struct az_op *a, const char *state, const json_t *body, const struct az_xfer *x)
{
	struct provider_error perr;
	struct nw_err err = { 0 };
	char lead[64];

	memset(&perr, 0, sizeof(perr));
	perr.http_status = (int)x->status;
	copy_field(perr.request_id, sizeof(perr.request_id), az_xfer_header(x, "x-ms-request-id"));
	if (json_is_object(json_object_get(body, "error")))
		error_fields(&perr, body);
	if (perr.code[0] == '\0')
		copy_field(perr.code, sizeof(perr.code), strcmp(state, "Canceled") == 0 ?
		    "OperationCanceled" : "OperationFailed");
	snprintf(lead, sizeof(lead), "the operation ended %s:", state);
	format_error(&err, &perr, a->what, lead);
	fail_with(a, &err, &perr);
}

/* The status URL answered 404: fall back to the resource when there is one. */
static void
status_lost(struct az_op *a, const struct az_xfer *x)
{
	if (is_method(a, "PUT") || is_method(a, "PATCH") || is_method(a, "DELETE")) {
		if (a->c->log != NULL)
			fprintf(a->c->log, "netwave: the status URL of %s answered 404; following the "
			    "resource instead\n", a->what);
		if (!set_poll(a, PROVIDER_POLL_RESOURCE, NULL))
			return;
		schedule_poll(a, poll_delay(a, x));
		return;
	}
	{
		struct nw_err err = { 0 };
		struct provider_error perr;
		az_error_from_answer(&err, &perr, x, a->what);
		format_error(&err, &perr, a->what, "lost track of the operation: its status URL "
		    "answered HTTP 404");
		{
			size_t n = strlen(err.msg);
			snprintf(err.msg + n, sizeof(err.msg) - n, "; its outcome is unknown, so read the "
			    "resource before trying again");
		}
		a->op->outcome_unknown = true;
		fail_with(a, &err, &perr);
	}
}

/* The answer to a write's first request: done, failed, or how to follow it. */
static void
on_initial(struct az_xfer *x, void *arg)
{
	struct az_op *a = arg;
	const char *async = az_xfer_header(x, "azure-asyncoperation");
	const char *loc = az_xfer_header(x, "location");
	json_t *body;
	const char *state;

	if (!arrived(a, x, false))
		return;
	if (x->status == 404 && is_method(a, "DELETE")) {
		succeed(a, NULL); /* already gone */
		return;
	}
	if (x->status < 200 || x->status >= 300) {
		fail_answer(a, x);
		return;
	}
	body = answer_json(x);
	state = json_path_str(body, "properties", "provisioningState", NULL);
	if ((is_method(a, "PUT") || is_method(a, "PATCH")) && terminal_state(state) != NULL) {
		/* the resource says it is finished, whatever the headers */
		if (strcmp(terminal_state(state), "Succeeded") == 0)
			succeed(a, body);
		else {
			fail_lro(a, terminal_state(state), body, x);
			json_decref(body);
		}
		return;
	}
	if (async != NULL) {
		if (!set_poll(a, PROVIDER_POLL_ASYNC, async))
			goto done;
		if (loc != NULL && is_method(a, "POST") && az_same_origin(loc, a->c->arm)) {
			free(a->op->final_url);
			a->op->final_url = strdup(loc);
		}
	} else if (loc != NULL) {
		if (!set_poll(a, PROVIDER_POLL_LOCATION, loc))
			goto done;
	} else if ((is_method(a, "PUT") || is_method(a, "PATCH")) &&
	    (state != NULL || x->status == 202)) {
		if (!set_poll(a, PROVIDER_POLL_RESOURCE, NULL))
			goto done;
	} else if (is_method(a, "DELETE") && x->status == 202) {
		if (!set_poll(a, PROVIDER_POLL_RESOURCE, NULL))
			goto done;
	} else if (is_method(a, "DELETE")) {
		succeed(a, NULL);
		goto done;
	} else {
		succeed(a, body);
		return;
	}
	start_polling(a, poll_delay(a, x));
done:
	json_decref(body);
}

/* An Azure-AsyncOperation status answer; takes body when it is handed on. */
static void
poll_async(struct az_op *a, struct az_xfer *x, json_t **body)
{
	struct provider_op *op = a->op;
	const char *st;

	if (x->status == 404) {
		status_lost(a, x);
		return;
	}
	if (x->status != 200 && x->status != 202) {
		fail_answer(a, x);
		return;
	}
	st = json_str(*body, "status");
	if (st == NULL) {
		if (x->status == 202)
			schedule_poll(a, poll_delay(a, x));
		else
			final_get(a);
		return;
	}
	if (terminal_state(st) == NULL) {
		schedule_poll(a, poll_delay(a, x));
		return;
	}
	if (strcmp(terminal_state(st), "Succeeded") != 0) {
		fail_lro(a, terminal_state(st), *body, x);
		return;
	}
	if (is_method(a, "POST") && op->final_url == NULL) {
		const char *rl = json_str(*body, "resourceLocation");
		if (rl == NULL || !az_same_origin(rl, a->c->arm)) {
			op->phase = PROVIDER_PHASE_FINAL;
			succeed(a, *body);
			*body = NULL;
			return;
		}
		op->final_url = strdup(rl);
	}
	final_get(a);
}

/* A Location status answer: 202 while running, the result (or the error) when done. */
static void
poll_location(struct az_op *a, struct az_xfer *x, json_t **body)
{
	if (x->status == 202) {
		schedule_poll(a, poll_delay(a, x));
		return;
	}
	if (x->status == 404) {
		status_lost(a, x);
		return;
	}
	if (x->status < 200 || x->status >= 300) {
		/* the operation failed: the Location URL answers with its error */
		json_t *e = json_object_get(*body, "error");
		if (x->status < 500 && json_is_object(e))
			fail_lro(a, lower_contains(json_str(e, "code"), "cancel") ? "Canceled" :
			    "Failed", *body, x);
		else
			fail_answer(a, x);
		return;
	}
	if (is_method(a, "PUT") || is_method(a, "PATCH")) {
		final_get(a);
		return;
	}
	a->op->phase = PROVIDER_PHASE_FINAL;
	if (is_method(a, "DELETE") || x->status == 204) {
		succeed(a, NULL);
	} else {
		succeed(a, *body);
		*body = NULL;
	}
}

/* The resource itself read back: its provisioningState (or, for a DELETE, its absence) settles it. */
static void
poll_resource(struct az_op *a, struct az_xfer *x, json_t **body)
{
	const char *st;

	if (is_method(a, "DELETE") && x->status == 404) {
		succeed(a, NULL);
		return;
	}
	if (x->status != 200) {
		fail_answer(a, x);
		return;
	}
	st = terminal_state(json_path_str(*body, "properties", "provisioningState", NULL));
	if (is_method(a, "DELETE")) {
		if (st != NULL && strcmp(st, "Succeeded") != 0)
			fail_lro(a, st, *body, x);
		else
			schedule_poll(a, poll_delay(a, x));
		return;
	}
	if (json_path_str(*body, "properties", "provisioningState", NULL) == NULL ||
	    (st != NULL && strcmp(st, "Succeeded") == 0)) {
		succeed(a, *body);
		*body = NULL;
	} else if (st != NULL) {
		fail_lro(a, st, *body, x);
	} else {
		schedule_poll(a, poll_delay(a, x));
	}
}

static void
on_poll(struct az_xfer *x, void *arg)
{
	struct az_op *a = arg;
	json_t *body;

	if (!arrived(a, x, true))
		return;
	if (x->status == 401) {
		fail_answer(a, x);
		return;
	}
	body = answer_json(x);
	switch (a->op->poll_kind) {
	case PROVIDER_POLL_ASYNC:
		poll_async(a, x, &body);
		break;
	case PROVIDER_POLL_LOCATION:
		poll_location(a, x, &body);
		break;
	case PROVIDER_POLL_RESOURCE:
		poll_resource(a, x, &body);
		break;
	default:
		fail_msg(a, NW_EFAIL, "cannot %s: no way to follow the operation", a->what);
		break;
	}
	json_decref(body);
}

static void
on_final(struct az_xfer *x, void *arg)
{
	struct az_op *a = arg;

	if (!arrived(a, x, false))
		return;
	if (x->status == 202 && is_method(a, "POST")) {
		/* the result is not ready yet: keep polling the Location URL */
		if (!set_poll(a, PROVIDER_POLL_LOCATION, a->op->final_url))
			return;
		a->op->phase = PROVIDER_PHASE_POLLING;
		schedule_poll(a, poll_delay(a, x));
		return;
	}
	if (x->status < 200 || x->status >= 300)
		fail_answer(a, x);
	else
		succeed(a, x->status == 204 ? NULL : answer_json(x));
}

/* --- submit / cancel --------------------------------------------------------------------- */

static void
send_initial(struct az_op *a)
{
	struct provider_op *op = a->op;
	json_t *empty = NULL;
	int rc = -1;

	op->phase = PROVIDER_PHASE_SENT;
	switch (op->kind) {
	case PROVIDER_OP_READ:
	case PROVIDER_OP_LIST:
		rc = send_req(a, "GET", a->url, NULL, AZ_XFER_IDEMPOTENT, 0, on_page,
		    op->client_request_id);
		break;
	case PROVIDER_OP_POST_LIST:
		if (op->body == NULL)
			empty = json_object();
		rc = send_req(a, "POST", a->url, op->body != NULL ? op->body : empty,
		    AZ_XFER_IDEMPOTENT, 0, on_page, op->client_request_id);
		json_decref(empty);
		break;
	case PROVIDER_OP_QUERY:
		rc = send_req(a, "POST", a->url, op->body, AZ_XFER_IDEMPOTENT | AZ_XFER_GRAPH, 0, on_page,
		    op->client_request_id);
		break;
	case PROVIDER_OP_WRITE:
		rc = send_req(a, op->method, a->url, op->body, op->idempotent ? AZ_XFER_IDEMPOTENT : 0,
		    0, on_initial, op->client_request_id);
		break;
	}
	if (rc == 0 && a->x != NULL && op->client_request_id[0] == '\0')
		snprintf(op->client_request_id, sizeof(op->client_request_id), "%s", a->x->request_id);
}

/* Whether an operation can be submitted at all: kind and method. */
static int
op_check(const struct provider_op *op, struct nw_err *err)
{
	if (op->impl != NULL)
		return err_set(err, NW_EINPUT, "operation %s %s is already submitted", op->method, op->path);
	if (op->kind < PROVIDER_OP_READ || op->kind > PROVIDER_OP_QUERY)
		return err_set(err, NW_EINPUT, "unknown operation kind %d", (int)op->kind);
	if (op->kind == PROVIDER_OP_WRITE && strcmp(op->method, "PUT") != 0 &&
	    strcmp(op->method, "PATCH") != 0 && strcmp(op->method, "POST") != 0 &&
	    strcmp(op->method, "DELETE") != 0)
		return err_set(err, NW_EINPUT, "cannot send %s: a write is PUT, PATCH, POST or DELETE",
		    op->method);
	return 0;
}

/*
 * The URL an operation goes to: Resource Graph for a query, else ARM's
 * endpoint and the path (an absolute URL only when it is ARM's own).
 * a->url stays NULL when out of memory.
 */
static int
op_url(struct az_op *a, struct provider_op *op, struct nw_err *err)
{
	struct az_client *c = a->c;

	if (op->kind == PROVIDER_OP_QUERY) {
		json_t *body;
		if (asprintf(&a->url, "%s/providers/Microsoft.ResourceGraph/resources?api-version=%s",
		    c->arm, AZURE_API_GRAPH) < 0)
			a->url = NULL;
		snprintf(a->what, sizeof(a->what), "run a Resource Graph query");
		body = json_pack("{s:s,s:{s:i,s:s}}", "query", op->path, "options", "$top", 1000,
		    "resultFormat", "objectArray");
		if (body != NULL && json_is_array(op->scopes) && json_array_size(op->scopes) > 0)
			json_object_set(body, "subscriptions", op->scopes);
		json_decref(op->body);
		op->body = body;
	} else if (strncmp(op->path, "https://", 8) == 0 || strncmp(op->path, "http://", 7) == 0) {
		if (!az_same_origin(op->path, c->arm))
			return err_set(err, NW_EINPUT, "cannot %s %s: the URL is not on the ARM endpoint %s",
			    op->method, op->path, c->arm);
		a->url = strdup(op->path);
	} else if (op->path[0] == '/') {
		if (asprintf(&a->url, "%s%s", c->arm, op->path) < 0)
			a->url = NULL;
	} else {
		return err_set(err, NW_EINPUT, "cannot %s '%s': a path starts with '/'", op->method,
		    op->path);
	}
	/* a journaled status or result URL gets the token too: it must be ARM's (a journal
	 * written against another endpoint, or edited, is refused, not followed) */
	if (op->kind == PROVIDER_OP_WRITE && op->phase != PROVIDER_PHASE_NEW &&
	    ((op->poll_url != NULL && !az_same_origin(op->poll_url, c->arm)) ||
	    (op->final_url != NULL && !az_same_origin(op->final_url, c->arm))))
		return err_set(err, NW_EINPUT, "cannot resume %s %s: its journaled %s URL is not on the "
		    "ARM endpoint %s", op->method, op->path, op->poll_url != NULL &&
		    !az_same_origin(op->poll_url, c->arm) ? "status" : "result", c->arm);
	return 0;
}

/* Sends a new operation, or picks a journaled one up where it was. */
static void
op_start(struct az_op *a, struct provider_op *op)
{
	if (op->kind == PROVIDER_OP_WRITE && op->phase == PROVIDER_PHASE_POLLING) {
		if (op->poll_kind == PROVIDER_POLL_NONE ||
		    (op->poll_kind != PROVIDER_POLL_RESOURCE && op->poll_url == NULL)) {
			op->phase = PROVIDER_PHASE_NEW;
			send_initial(a);
		} else {
			/* resumed from the journal: follow it, do not send it again */
			schedule_poll(a, 0);
		}
	} else if (op->kind == PROVIDER_OP_WRITE && op->phase == PROVIDER_PHASE_FINAL) {
		final_get(a);
	} else {
		op->phase = PROVIDER_PHASE_NEW;
		send_initial(a);
	}
}

int
az_op_submit(struct az_client *c, struct provider_op *op, struct nw_err *err)
{
	struct az_op *a;
	char path[600];

	if (op_check(op, err) != 0)
		return err->code;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	a->c = c;
	a->op = op;
	if (op_url(a, op, err) != 0) {
		op_free_impl(a);
		return err->code;
	}
	if (a->url == NULL || (op->kind != PROVIDER_OP_WRITE && op->kind != PROVIDER_OP_READ &&
	    (a->acc = json_array()) == NULL)) {
		op_free_impl(a);
		return err_set(err, NW_ENOMEM, "out of memory");
	}
	api_version_of(a->url, a->api_version, sizeof(a->api_version));
	if (op->kind != PROVIDER_OP_QUERY) {
		az_url_path(a->url, path, sizeof(path));
		snprintf(a->what, sizeof(a->what), "%s %s", op->method, path);
	}
	op->impl = a;
	op->status = 0;
	err_clear(&op->err);
	memset(&op->error, 0, sizeof(op->error));
	a->next = c->ops;
	if (c->ops != NULL)
		c->ops->prev = a;
	c->ops = a;
	c->pending_ops++;
	op_start(a, op);
	return 0;
}

void
az_op_cancel(struct az_client *c, struct provider_op *op)
{
	struct az_op *a = op->impl;

	(void)c;
	if (a == NULL)
		return;
	if (a->x != NULL) {
		az_xfer_abort(a->x);
		a->x = NULL;
	}
	fail_msg(a, NW_EFAIL, "cannot %s: cancelled", a->what);
}

void
az_ops_cancel_all(struct az_client *c)
{
	while (c->ops != NULL) {
		struct az_op *a = c->ops;
		struct provider_op *op = a->op;

		if (a->x != NULL) {
			az_xfer_abort(a->x);
			a->x = NULL;
		}
		err_set(&op->err, NW_EFAIL, "cannot %s: cancelled", a->what);
		op->status = NW_EFAIL;
		op->phase = PROVIDER_PHASE_FAILED;
		finish_op(a, false);
	}
}
