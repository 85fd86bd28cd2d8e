/*
 * The cloud-neutral half of the provider interface (provider.h): the
 * operation object and its journaled state, dispatch to the
 * implementation, and the synchronous helpers discovery and simple
 * commands use.  Nothing here knows about HTTP or Azure.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "providers/provider.h"

struct provider {
	const struct provider_vtable *vt;
	void *impl;
};

struct provider *
provider_new(const struct provider_vtable *vt, void *impl)
{
	struct provider *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		if (vt != NULL && vt->free != NULL)
			vt->free(impl);
		return NULL;
	}
	p->vt = vt;
	p->impl = impl;
	return p;
}

void
provider_free(struct provider *p)
{
	if (p == NULL)
		return;
	if (p->vt->free != NULL)
		p->vt->free(p->impl);
	free(p);
}

const char *
provider_name(const struct provider *p)
{
	return p->vt->name;
}

void *
provider_impl(const struct provider *p)
{
	return p->impl;
}

/* --- operations ------------------------------------------------------------------ */

static const char *const phase_names[] = {
	[PROVIDER_PHASE_NEW] = "new",
	[PROVIDER_PHASE_SENT] = "sent",
	[PROVIDER_PHASE_POLLING] = "polling",
	[PROVIDER_PHASE_FINAL] = "final",
	[PROVIDER_PHASE_DONE] = "done",
	[PROVIDER_PHASE_FAILED] = "failed",
};

static const char *const poll_names[] = {
	[PROVIDER_POLL_NONE] = "none",
	[PROVIDER_POLL_ASYNC] = "azure-asyncoperation",
	[PROVIDER_POLL_LOCATION] = "location",
	[PROVIDER_POLL_RESOURCE] = "provisioning-state",
};

static const char *const kind_names[] = {
	[PROVIDER_OP_READ] = "read",
	[PROVIDER_OP_LIST] = "list",
	[PROVIDER_OP_WRITE] = "write",
	[PROVIDER_OP_POST_LIST] = "post-list",
	[PROVIDER_OP_QUERY] = "query",
};

const char *
provider_phase_name(enum provider_op_phase phase)
{
	if ((size_t)phase < sizeof(phase_names) / sizeof(phase_names[0]))
		return phase_names[phase];
	return "unknown";
}

struct provider_op *
provider_op_new(enum provider_op_kind kind, const char *method, const char *path,
    const json_t *body)
{
	struct provider_op *op = calloc(1, sizeof(*op));

	if (op == NULL)
		return NULL;
	op->kind = kind;
	if (kind == PROVIDER_OP_QUERY)
		method = "POST";
	else if (kind == PROVIDER_OP_READ || kind == PROVIDER_OP_LIST)
		method = "GET";
	else if (kind == PROVIDER_OP_POST_LIST)
		method = "POST";
	op->method = strdup(method != NULL ? method : "GET");
	op->path = strdup(path != NULL ? path : "");
	if (op->method == NULL || op->path == NULL) {
		provider_op_free(op);
		return NULL;
	}
	/* upper case, so comparisons elsewhere are plain */
	for (char *m = op->method; *m != '\0'; m++)
		if (*m >= 'a' && *m <= 'z')
			*m = (char)(*m - 'a' + 'A');
	if (body != NULL)
		op->body = json_incref((json_t *)body);
	op->idempotent = kind != PROVIDER_OP_WRITE || strcmp(op->method, "POST") != 0;
	return op;
}

void
provider_op_free(struct provider_op *op)
{
	if (op == NULL)
		return;
	free(op->method);
	free(op->path);
	json_decref(op->body);
	json_decref(op->scopes);
	free(op->poll_url);
	free(op->final_url);
	json_decref(op->result);
	free(op);
}

bool
provider_op_finished(const struct provider_op *op)
{
	return op->phase == PROVIDER_PHASE_DONE || op->phase == PROVIDER_PHASE_FAILED;
}

json_t *
provider_op_state(const struct provider_op *op)
{
	json_t *s = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "format", PROVIDER_OP_STATE_FORMAT,
	    "kind", kind_names[op->kind], "method", op->method, "path", op->path,
	    "phase", provider_phase_name(op->phase), "pollKind", poll_names[op->poll_kind]);

	if (s == NULL)
		return NULL;
	if (op->body != NULL)
		json_object_set(s, "body", op->body);
	if (op->scopes != NULL)
		json_object_set(s, "scopes", op->scopes);
	if (op->poll_url != NULL)
		json_object_set_new(s, "pollUrl", json_string(op->poll_url));
	if (op->final_url != NULL)
		json_object_set_new(s, "finalUrl", json_string(op->final_url));
	if (op->client_request_id[0] != '\0')
		json_object_set_new(s, "clientRequestId", json_string(op->client_request_id));
	if (!op->idempotent)
		json_object_set_new(s, "idempotent", json_false());
	return s;
}

static int
name_index(const char *const *names, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (names[i] != NULL && s != NULL && strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

int
provider_op_restore(struct provider_op **out, const json_t *state, struct nw_err *err)
{
	struct provider_op *op = NULL;
	const char *fmt = json_str(state, "format");
	int kind, phase, poll;
	const char *s;

	*out = NULL;
	if (!json_is_object(state) || fmt == NULL || strcmp(fmt, PROVIDER_OP_STATE_FORMAT) != 0)
		return err_set(err, NW_EINPUT, "cannot restore operation: format is not \"%s\"",
		    PROVIDER_OP_STATE_FORMAT);
	kind = name_index(kind_names, sizeof(kind_names) / sizeof(kind_names[0]),
	    json_str(state, "kind"));
	if (kind <= 0)
		return err_set(err, NW_EINPUT, "cannot restore operation: unknown kind");
	if (json_str(state, "method") == NULL || json_str(state, "path") == NULL)
		return err_set(err, NW_EINPUT, "cannot restore operation: method or path missing");
	phase = name_index(phase_names, sizeof(phase_names) / sizeof(phase_names[0]),
	    json_str(state, "phase"));
	if (phase < 0)
		return err_set(err, NW_EINPUT, "cannot restore operation: unknown phase");
	poll = name_index(poll_names, sizeof(poll_names) / sizeof(poll_names[0]),
	    json_str(state, "pollKind") != NULL ? json_str(state, "pollKind") : "none");
	if (poll < 0)
		return err_set(err, NW_EINPUT, "cannot restore operation: unknown pollKind");
	if (phase == PROVIDER_PHASE_POLLING && (poll == PROVIDER_POLL_NONE ||
	    (poll != PROVIDER_POLL_RESOURCE && json_str(state, "pollUrl") == NULL)))
		return err_set(err, NW_EINPUT, "cannot restore operation: polling without a pollUrl");
	op = provider_op_new((enum provider_op_kind)kind, json_str(state, "method"),
	    json_str(state, "path"), json_object_get(state, "body"));
	if (op == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	/* a finished operation is resumed by looking again, not by trusting the journal */
	if (phase == PROVIDER_PHASE_DONE || phase == PROVIDER_PHASE_FAILED)
		phase = poll != PROVIDER_POLL_NONE ? PROVIDER_PHASE_POLLING : PROVIDER_PHASE_NEW;
	op->phase = (enum provider_op_phase)phase;
	op->poll_kind = (enum provider_poll_kind)poll;
	if (json_object_get(state, "scopes") != NULL)
		op->scopes = json_incref(json_object_get(state, "scopes"));
	if ((s = json_str(state, "pollUrl")) != NULL && (op->poll_url = strdup(s)) == NULL)
		goto nomem;
	if ((s = json_str(state, "finalUrl")) != NULL && (op->final_url = strdup(s)) == NULL)
		goto nomem;
	if ((s = json_str(state, "clientRequestId")) != NULL)
		snprintf(op->client_request_id, sizeof(op->client_request_id), "%s", s);
	if (json_is_false(json_object_get(state, "idempotent")))
		op->idempotent = false;
	*out = op;
	return 0;
nomem:
	provider_op_free(op);
	return err_set(err, NW_ENOMEM, "out of memory");
}

/* --- running ---------------------------------------------------------------------- */

int
provider_submit(struct provider *p, struct provider_op *op, struct nw_err *err)
{
	return p->vt->submit(p->impl, op, err);
}

int
provider_run(struct provider *p, double timeout, struct nw_err *err)
{
	return p->vt->run(p->impl, timeout, err);
}

int
provider_wait(struct provider *p, struct provider_op *op, struct nw_err *err)
{
	int rc;

	if (!provider_op_finished(op)) {
		if ((rc = p->vt->run(p->impl, -1, err)) != 0)
			return rc;
		/* run(-1) returns only when nothing is left to do */
		if (!provider_op_finished(op))
			return err_set(err, NW_EFAIL, "the provider stopped with %s %s unfinished",
			    op->method, op->path);
	}
	if (op->status != 0) {
		*err = op->err;
		return op->status;
	}
	return 0;
}

void
provider_cancel(struct provider *p, struct provider_op *op)
{
	p->vt->cancel(p->impl, op);
}

void
provider_stats_get(const struct provider *p, struct provider_stats *out)
{
	memset(out, 0, sizeof(*out));
	p->vt->stats(p->impl, out);
}

json_t *
provider_throttle_state(const struct provider *p)
{
	return p->vt->throttle(p->impl);
}

/* --- synchronous helpers ---------------------------------------------------------- */

/* Submits op, waits, and hands its result to *out; frees op. */
static int
run_one(struct provider *p, struct provider_op *op, json_t **out, bool missing_ok,
    struct nw_err *err)
{
	int rc;

	if (out != NULL)
		*out = NULL;
	if (op == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	if ((rc = provider_submit(p, op, err)) != 0)
		goto done;
	rc = provider_wait(p, op, err);
	if (rc != 0 && missing_ok && op->error.http_status == 404) {
		err_clear(err);
		rc = 0;
		goto done;
	}
	if (rc == 0 && out != NULL) {
		*out = op->result;
		op->result = NULL;
	}
done:
	provider_op_free(op);
	return rc;
}

int
provider_read(struct provider *p, const char *path, json_t **out, struct nw_err *err)
{
	return run_one(p, provider_op_new(PROVIDER_OP_READ, "GET", path, NULL), out, true, err);
}

int
provider_list(struct provider *p, const char *path, json_t **out, struct nw_err *err)
{
	return run_one(p, provider_op_new(PROVIDER_OP_LIST, "GET", path, NULL), out, false, err);
}

int
provider_send(struct provider *p, const char *method, const char *path, const json_t *body,
    json_t **out, struct nw_err *err)
{
	return run_one(p, provider_op_new(PROVIDER_OP_WRITE, method, path, body), out, false, err);
}

int
provider_query(struct provider *p, const char *query, const json_t *subscriptions,
    json_t **out, struct nw_err *err)
{
	struct provider_op *op = provider_op_new(PROVIDER_OP_QUERY, "POST", query, NULL);

	if (op != NULL && subscriptions != NULL)
		op->scopes = json_incref((json_t *)subscriptions);
	return run_one(p, op, out, false, err);
}

int
provider_run_all(struct provider *p, struct provider_op *const *ops, size_t n, struct nw_err *err)
{
	size_t i, sent = 0;
	int rc = 0;

	for (i = 0; i < n; i++) {
		if (ops[i] == NULL)
			continue;
		if ((rc = provider_submit(p, ops[i], err)) != 0)
			break;
		sent = i + 1;
	}
	if (rc == 0)
		rc = provider_run(p, -1, err);
	if (rc != 0)
		for (i = 0; i < sent; i++)
			if (ops[i] != NULL && !provider_op_finished(ops[i]))
				provider_cancel(p, ops[i]);
	return rc;
}
