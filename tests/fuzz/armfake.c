/*
 * The fake ARM of the providers/azure fuzz targets (armfake.h): parses
 * the answers out of the input and drives an operation through the real
 * client code (ops.c) with them, checking what every operation promises.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "tests/fuzz/armfake.h"
#include "tests/fuzz/fuzz.h"

#define SEPARATOR "\n====\n"

static double
fixed_clock(void *arg)
{
	(void)arg;
	return 1.8e9; /* a fixed wall clock: HTTP-date Retry-After gives the same delay every run */
}

bool
fuzz_arm_init(struct fuzz_arm *f, const uint8_t *data, size_t size)
{
	struct azure_opts o = { 0 };
	struct nw_err err = { 0 };

	memset(f, 0, sizeof(*f));
	if ((f->text = fuzz_text(data, size)) == NULL)
		return false;
	f->cur = f->text;
	o.arm_endpoint = FUZZ_ARM;
	o.rng_seed = 1;
	o.clock = fixed_clock;
	if (az_client_init(&f->c, &o, &err) != 0) {
		az_client_cleanup(&f->c);
		free(f->text);
		return false;
	}
	return true;
}

void
fuzz_arm_cleanup(struct fuzz_arm *f)
{
	az_client_cleanup(&f->c);
	free(f->text);
}

const char *
fuzz_arm_line(struct fuzz_arm *f)
{
	char *line = f->cur, *nl = strchr(line, '\n');

	if (nl != NULL) {
		*nl = '\0';
		f->cur = nl + 1;
	} else {
		f->cur = line + strlen(line);
	}
	return line;
}

/* "Name: value" as on_header stores it: the name lowercased, the value trimmed. */
static void
add_header(struct az_xfer *x, char *line)
{
	char *colon = strchr(line, ':'), *v, *end;

	if (colon == NULL || colon == line || colon - line >= 128)
		return;
	*colon = '\0';
	for (char *p = line; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	end = v + strlen(v);
	while (end > v && (end[-1] == '\r' || end[-1] == ' '))
		*--end = '\0';
	json_object_set_new(x->headers, line, json_string(v)); /* NULL (not UTF-8): not set */
}

bool
fuzz_arm_answer(struct fuzz_arm *f, struct az_xfer *x)
{
	char *chunk = f->cur, *sep, *body, *line, *next;
	size_t len;

	if (*chunk == '\0' || f->answered >= FUZZ_ARM_MAX_ANSWERS)
		return false;
	sep = strstr(chunk, SEPARATOR);
	if (sep != NULL) {
		*sep = '\0';
		f->cur = sep + strlen(SEPARATOR);
	} else {
		f->cur = chunk + strlen(chunk);
	}
	body = strstr(chunk, "\n\n");
	if (body != NULL) {
		*body = '\0';
		body += 2;
	}
	next = strchr(chunk, '\n');
	if (next != NULL)
		*next++ = '\0';
	x->status = strtol(chunk, NULL, 10);
	for (line = next; line != NULL; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		add_header(x, line);
	}
	x->attempts = 1;
	f->answered++;
	if (x->status <= 0 || x->status > 999) {
		x->status = 0;
		x->rc = err_set(&x->err, NW_EIO, "cannot %s %s: the connection was reset", x->method,
		    x->url);
		return true;
	}
	len = body != NULL ? strlen(body) : 0;
	if (len > 0 && (x->resp = malloc(len + 1)) != NULL) {
		memcpy(x->resp, body, len + 1);
		x->resp_len = len;
		x->resp_cap = len + 1;
	}
	return true;
}

struct run_state {
	unsigned done;
	unsigned accepted;
};

static void
on_done(struct provider_op *op, void *arg)
{
	struct run_state *s = arg;

	FUZZ_CHECK(provider_op_finished(op), "done called on an unfinished operation");
	s->done++;
}

static void
on_accepted(struct provider_op *op, void *arg)
{
	struct run_state *s = arg;

	FUZZ_CHECK(op->phase == PROVIDER_PHASE_POLLING, "accepted in phase %d", (int)op->phase);
	FUZZ_CHECK(op->poll_kind == PROVIDER_POLL_RESOURCE || op->poll_url != NULL,
	    "accepted with nothing to poll");
	s->accepted++;
}

bool
fuzz_arm_run(struct fuzz_arm *f, struct provider_op *op, const struct fuzz_arm_hooks *h)
{
	struct az_client *c = &f->c;
	struct run_state s = { 0, 0 };
	struct nw_err err = { 0 };
	struct az_xfer *x;
	unsigned n = 0;
	/* the longest a request may be put off: ARM's Retry-After as honoured, or a poll */
	double horizon = (c->max_wait > c->poll_interval ? c->max_wait : c->poll_interval) *
	    c->scale + 60.0;

	op->done = on_done;
	op->accepted = on_accepted;
	op->done_arg = &s;
	if (az_op_submit(c, op, &err) != 0) {
		FUZZ_CHECK(err.msg[0] != '\0', "a refused operation without a message");
		return false;
	}
	while ((x = az_client_take(c)) != NULL) {
		FUZZ_CHECK(s.done == 0, "a request queued after the operation finished: %s %s",
		    x->method, x->url);
		FUZZ_CHECK(!(x->flags & AZ_XFER_AUTH) || az_same_origin(x->url, c->arm),
		    "the token would go to '%s'", x->url);
		FUZZ_CHECK(x->due <= clock_mono() + horizon, "a request put off for %.0f seconds",
		    x->due - clock_mono());
		if (h->seen != NULL)
			h->seen(x, n, h->arg);
		n++;
		if (!fuzz_arm_answer(f, x)) {
			/* the input is used up: the operation still holds x, and cancelling frees it */
			az_op_cancel(c, op);
			break;
		}
		if (h->answered != NULL)
			h->answered(x, h->arg);
		az_xfer_complete(x);
	}
	if (op->impl != NULL)
		az_ops_cancel_all(c);
	FUZZ_CHECK(op->impl == NULL && provider_op_finished(op), "the operation is not finished");
	FUZZ_CHECK(s.done <= 1, "done called %u times", s.done);
	FUZZ_CHECK(s.accepted <= 1, "accepted called %u times", s.accepted);
	FUZZ_CHECK(op->requests == f->answered, "%u requests counted, %u answered", op->requests,
	    f->answered);
	if (op->phase == PROVIDER_PHASE_FAILED) {
		FUZZ_CHECK(op->status < 0, "failed with status %d", op->status);
		FUZZ_CHECK(strncmp(op->err.msg, "cannot ", 7) == 0, "failure message '%s'", op->err.msg);
	} else {
		FUZZ_CHECK(op->phase == PROVIDER_PHASE_DONE && op->status == 0, "phase %d, status %d",
		    (int)op->phase, op->status);
	}
	FUZZ_CHECK(az_client_take(c) == NULL, "a request left queued");
	return op->phase == PROVIDER_PHASE_DONE;
}
