/*
 * The emulator's server: starts libmicrohttpd (a thread per connection,
 * so a latency fault delays only its own client), collects each request,
 * finds its entry in the route table (router.c), runs it through
 * authentication, throttling and the fault rules unless the entry is open,
 * serves it, logs it, and writes the answer with ARM's headers.  One mutex guards the
 * estate; it is released only while a latency fault sleeps.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "plan/jsonutil.h"
#include "plan/topology.h"
#include "providers/emulator/emu.h"

/* --- the request log ------------------------------------------------------ */

static void
log_request(struct emulator *e, struct emu_req *r, double started)
{
	char when[40];
	json_t *ent;
	const char *crid = emu_header_in(r, "x-ms-client-request-id");

	if (r->nolog)
		return;
	emu_time_iso(started, when);
	ent = json_pack("{s:I,s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:s}",
	    "seq", (json_int_t)++e->seq, "time", when, "method", r->method, "path", r->path,
	    "query", r->query_text != NULL ? r->query_text : "",
	    "status", r->reset ? 0 : r->status, "operation", r->op,
	    "requestId", r->request_id, "correlationId", r->correlation_id);
	if (ent == NULL)
		return;
	json_object_set_new(ent, "clientRequestId", crid != NULL ? json_string(crid) : json_null());
	json_object_set_new(ent, "fault", r->fault[0] != '\0' ? json_string(r->fault) : json_null());
	if (r->reset)
		json_object_set_new(ent, "reset", json_true());
	json_array_append_new(e->log, ent);
	if (json_array_size(e->log) > e->max_log) {
		/* drop the oldest tenth at once so trimming stays cheap */
		size_t drop = e->max_log / 10 + 1, i;
		json_t *keep = json_array();

		if (keep == NULL)
			return; /* out of memory: trimmed at a later request */
		for (i = drop; i < json_array_size(e->log); i++)
			json_array_append(keep, json_array_get(e->log, i));
		json_decref(e->log);
		e->log = keep;
	}
}


/* --- serving ------------------------------------------------------------------ */

/* What ARM does before a handler sees the request; false once answered. */
static bool
admit(struct emulator *e, struct emu_req *r, struct fault_hit *hit)
{
	char sub[128];

	if (!auth_check(e, r))
		return false;
	if (e->latency_ms > 0) {
		/* the round trip (--latency), throttled or not; without the lock, as a latency fault */
		pthread_mutex_unlock(&e->lock);
		usleep((useconds_t)(e->latency_ms * 1000.0));
		pthread_mutex_lock(&e->lock);
		lro_advance(e);
	}
	r->cls = arm_classify(r, sub, sizeof(sub));
	if (sub[0] != '\0' && r->cls != EMU_CLASS_NONE && !throttle_take(e, r, sub, r->cls))
		return false;
	faults_match(e, r, hit);
	if (r->latency > 0) {
		/* sleep without the lock so other clients are not delayed */
		pthread_mutex_unlock(&e->lock);
		usleep((useconds_t)(r->latency * 1e6));
		pthread_mutex_lock(&e->lock);
		lro_advance(e);
	}
	switch (hit->kind) {
	case FAULT_ERROR:
		if (hit->retry_after >= 0)
			emu_header(r, "Retry-After", "%d", hit->retry_after);
		emu_reply_error(r, hit->status, hit->code, "%s", hit->message);
		emu_op_name(r, "fault");
		return false;
	case FAULT_RESET_BEFORE:
		r->reset = true;
		emu_op_name(r, "fault");
		return false;
	default:
		return true;
	}
}

/* The faults that act after the request was served. */
static void
after_faults(struct emulator *e, struct emu_req *r, const struct fault_hit *hit, size_t before)
{
	size_t i;

	/* operations this request started take the fault's outcome */
	for (i = before; i < e->nops; i++)
		faults_apply_op(hit, e->ops[i]);
	if (hit->kind == FAULT_EMPTY_STATUS && r->status < 300) {
		/* the network manager: the commit path without "/commit" */
		char *low = emu_lower(r->path);
		char *slash = low != NULL ? strrchr(low, '/') : NULL;
		if (slash != NULL && strcmp(slash, "/commit") == 0) {
			*slash = '\0';
			json_object_set_new(e->empty_status, low, json_integer(hit->count));
		}
		free(low);
	}
	if (hit->kind == FAULT_RESET_AFTER)
		r->reset = true;
}

static void
serve(struct emulator *e, struct emu_req *r)
{
	struct fault_hit hit = { 0 };
	struct emu_call call;
	const struct emu_route *rt;
	double started = clock_wall();
	struct nw_err err = { 0 };
	char **seg = NULL;
	size_t nseg = 0, before;

	pthread_mutex_lock(&e->lock);
	e->oom = false;
	lro_advance(e);
	if (emu_split(r->path, &seg, &nseg) != 0) {
		emu_reply_oom(r);
		goto done;
	}
	rt = emu_route_find(r->method, seg, nseg, &call);
	if (rt != NULL && (rt->flags & ROUTE_CONTROL) == ROUTE_CONTROL)
		r->nolog = true;
	if ((rt == NULL || (rt->flags & ROUTE_OPEN) == 0) && !admit(e, r, &hit))
		goto done;
	before = e->nops;
	emu_route_call(e, r, &call);
	after_faults(e, r, &hit, before);
	if (e->oom)
		emu_reply_oom(r);
done:
	emu_split_free(seg, nseg);
	if (e->db != NULL && persist_flush(e, &err) != 0)
		fprintf(stderr, "netwave emulator: %s\n", err.msg);
	log_request(e, r, started);
	pthread_mutex_unlock(&e->lock);
}


/* --- libmicrohttpd glue ------------------------------------------------------- */

struct conn {
	struct emu_req r;
	size_t cap;
	bool too_big;
	bool answered;
};

static void
req_free(struct emu_req *r)
{
	free(r->path);
	json_decref(r->query);
	free(r->query_text);
	free(r->body);
	json_decref(r->hdr);
	free(r->resp);
	json_decref(r->resp_hdr);
	json_decref(r->parsed);
}

static enum MHD_Result
collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct emu_req *r = cls;

	(void)kind;
	if (key != NULL)
		json_object_set_new(r->query, key, json_string(value != NULL ? value : ""));
	return MHD_YES;
}

static enum MHD_Result
collect_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct emu_req *r = cls;
	char *low;

	(void)kind;
	if (key == NULL || value == NULL)
		return MHD_YES;
	low = emu_lower(key);
	if (low == NULL)
		return MHD_NO; /* out of memory: req_init answers 500 */
	json_object_set_new(r->hdr, low, json_string(value));
	free(low);
	return MHD_YES;
}

static bool
secret_arg(const char *k)
{
	return strcasecmp(k, "client_secret") == 0 || strcasecmp(k, "client_assertion") == 0 ||
	    strcasecmp(k, "access_token") == 0 || strcasecmp(k, "code") == 0 ||
	    strcasecmp(k, "sig") == 0;
}

/* Appends to *buf; on out of memory frees it and leaves NULL, and later calls do nothing. */
static void
append_raw(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*buf == NULL)
		return;
	if (*len + n + 1 > *cap) {
		char *nb;

		*cap = (*cap + n + 1) * 2;
		nb = realloc(*buf, *cap);
		if (nb == NULL) {
			free(*buf);
			*buf = NULL;
			return;
		}
		*buf = nb;
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
}

static void
append_escaped(char **buf, size_t *len, size_t *cap, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char tmp[4];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~' || c == '$') {
			append_raw(buf, len, cap, s, 1);
		} else {
			snprintf(tmp, sizeof(tmp), "%%%02X", c);
			append_raw(buf, len, cap, tmp, 3);
		}
	}
}

/* The query as text for the log, with anything secret-looking redacted; NULL on out of memory. */
static char *
query_text(const json_t *q)
{
	char *buf = emu_strdup("");
	size_t len = 0, cap = 1;
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)q, k, v) {
		if (len > 0)
			append_raw(&buf, &len, &cap, "&", 1);
		append_escaped(&buf, &len, &cap, k);
		append_raw(&buf, &len, &cap, "=", 1);
		append_escaped(&buf, &len, &cap, secret_arg(k) ? "REDACTED" : json_string_value(v));
	}
	return buf;
}

/* Collects the request; -1 on out of memory (r can still be answered and freed). */
static int
req_init(struct emulator *e, struct emu_req *r, struct MHD_Connection *c, const char *url,
    const char *method)
{
	const char *host, *corr;
	int rc = 0;

	snprintf(r->method, sizeof(r->method), "%s", method);
	r->path = emu_strdup(url);
	r->query = json_object();
	r->hdr = json_object();
	r->resp_hdr = json_object();
	r->status = 500;
	if (r->path == NULL || r->query == NULL || r->hdr == NULL || r->resp_hdr == NULL)
		rc = -1;
	else if (MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, r) < 0 ||
	    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, r) < 0)
		rc = -1;
	r->query_text = r->query != NULL ? query_text(r->query) : NULL;
	host = emu_header_in(r, "host");
	if (host != NULL && strlen(host) < 200 && strpbrk(host, " /\\\"'<>") == NULL)
		snprintf(r->base, sizeof(r->base), "%s://%s", e->tls ? "https" : "http", host);
	else
		snprintf(r->base, sizeof(r->base), "%s", e->base_url);
	pthread_mutex_lock(&e->lock);
	emu_guid(e, r->request_id);
	pthread_mutex_unlock(&e->lock);
	corr = emu_header_in(r, "x-ms-correlation-request-id");
	if (corr != NULL && strlen(corr) < sizeof(r->correlation_id) &&
	    strpbrk(corr, "\r\n") == NULL)
		snprintf(r->correlation_id, sizeof(r->correlation_id), "%s", corr);
	else
		snprintf(r->correlation_id, sizeof(r->correlation_id), "%s", r->request_id);
	return rc;
}

static enum MHD_Result
send_answer(struct emulator *e, struct MHD_Connection *c, struct emu_req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	const char *k;
	json_t *v;
	const char *crid = emu_header_in(r, "x-ms-client-request-id");

	resp = MHD_create_response_from_buffer(r->resp != NULL ? strlen(r->resp) : 0,
	    r->resp != NULL ? r->resp : (void *)"", MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	if (r->resp != NULL)
		MHD_add_response_header(resp, "Content-Type", "application/json; charset=utf-8");
	MHD_add_response_header(resp, "x-ms-request-id", r->request_id);
	MHD_add_response_header(resp, "x-ms-correlation-request-id", r->correlation_id);
	if (crid != NULL && strpbrk(crid, "\r\n") == NULL && strlen(crid) < 200)
		MHD_add_response_header(resp, "x-ms-client-request-id", crid);
	MHD_add_response_header(resp, "Cache-Control", "no-cache");
	json_object_foreach(r->resp_hdr, k, v)
		MHD_add_response_header(resp, k, json_string_value(v));
	ret = MHD_queue_response(c, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	(void)e;
	return ret;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct emulator *e = cls;
	struct conn *cc = *con_cls;

	(void)version;
	if (cc == NULL) {
		const char *cl;

		cc = calloc(1, sizeof(*cc));
		if (cc == NULL)
			return MHD_NO;
		*con_cls = cc;
		if (req_init(e, &cc->r, c, url, method) != 0) {
			/* not logged: the log needs memory too */
			emu_reply_oom(&cc->r);
			cc->answered = true;
			return send_answer(e, c, &cc->r);
		}
		cl = emu_header_in(&cc->r, "content-length");
		if (cl != NULL && strtoull(cl, NULL, 10) > e->max_body)
			cc->too_big = true;
		if (cc->too_big) {
			/* answer before reading the body: the client sees 413 at once */
			emu_reply_error(&cc->r, 413, "RequestEntityTooLarge",
			    "The request content size exceeds the maximum size of %zu bytes.",
			    e->max_body);
			emu_op_name(&cc->r, "rejected: body too large");
			pthread_mutex_lock(&e->lock);
			log_request(e, &cc->r, clock_wall());
			pthread_mutex_unlock(&e->lock);
			cc->answered = true;
			return send_answer(e, c, &cc->r);
		}
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (!cc->too_big && cc->r.body_len + *upload_size > e->max_body) {
			cc->too_big = true;
			free(cc->r.body);
			cc->r.body = NULL;
			cc->r.body_len = 0;
		}
		if (!cc->too_big) {
			if (cc->r.body_len + *upload_size + 1 > cc->cap) {
				size_t ncap = (cc->r.body_len + *upload_size + 1) * 2;
				char *nb = realloc(cc->r.body, ncap);
				if (nb == NULL)
					return MHD_NO;
				cc->r.body = nb;
				cc->cap = ncap;
			}
			memcpy(cc->r.body + cc->r.body_len, upload, *upload_size);
			cc->r.body_len += *upload_size;
			cc->r.body[cc->r.body_len] = '\0';
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (cc->answered)
		return MHD_YES;
	cc->answered = true;
	if (cc->too_big) {
		emu_reply_error(&cc->r, 413, "RequestEntityTooLarge",
		    "The request content size exceeds the maximum size of %zu bytes.", e->max_body);
		emu_op_name(&cc->r, "rejected: body too large");
		pthread_mutex_lock(&e->lock);
		log_request(e, &cc->r, clock_wall());
		pthread_mutex_unlock(&e->lock);
		return send_answer(e, c, &cc->r);
	}
	if (cc->r.body_len > 0) {
		json_error_t jerr;
		cc->r.parsed = json_loadb(cc->r.body, cc->r.body_len, JSON_REJECT_DUPLICATES, &jerr);
	}
	serve(e, &cc->r);
	if (cc->r.reset)
		return MHD_NO; /* libmicrohttpd closes the connection without an answer */
	return send_answer(e, c, &cc->r);
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct conn *cc = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (cc == NULL)
		return;
	req_free(&cc->r);
	free(cc);
	*con_cls = NULL;
}

/* --- start and stop ---------------------------------------------------------- */

static int
parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len, struct nw_err *err)
{
	char host[128];
	const char *colon;
	char *end;
	unsigned long port;

	memset(ss, 0, sizeof(*ss));
	if (s == NULL)
		s = "127.0.0.1:0";
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || close[1] != ':' || (size_t)(close - s - 1) >= sizeof(host))
			return err_set(err, NW_EINPUT, "invalid listen address '%s': expected [ADDR]:PORT", s);
		memcpy(host, s + 1, (size_t)(close - s - 1));
		host[close - s - 1] = '\0';
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
			return err_set(err, NW_EINPUT, "invalid listen address '%s': expected ADDR:PORT", s);
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
	}
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || port > 65535 || errno != 0)
		return err_set(err, NW_EINPUT, "invalid listen address '%s': bad port", s);
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
		return 0;
	}
	return err_set(err, NW_EINPUT, "invalid listen address '%s': '%s' is not an IP address",
	    s, host);
}

static int
load_json_file(json_t **out, const char *path, const char *what, struct nw_err *err)
{
	json_error_t jerr;

	*out = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (*out == NULL)
		return err_set(err, NW_EINPUT, "cannot load %s '%s': line %d: %s", what, path,
		    jerr.line, jerr.text);
	return 0;
}

static int
load_seed(struct emulator *e, const struct emulator_opts *o, struct nw_err *err)
{
	struct topology *t = NULL;
	int rc;

	if (o->seed_json != NULL) {
		json_t *copy = json_deep_copy(o->seed_json);
		if (copy == NULL)
			return err_set(err, NW_ENOMEM, "out of memory copying the seed");
		rc = topology_load_json(&t, copy, "<seed>", err);
	} else if (o->seed_path != NULL) {
		rc = topology_load_file(&t, o->seed_path, NULL, err);
	} else {
		json_t *empty = json_pack("{s:s,s:[],s:[],s:{}}", "format", TOPOLOGY_FORMAT,
		    "subscriptions", "resources", "observed");
		rc = emu_store_load_doc(e, empty, err);
		json_decref(empty);
		return rc;
	}
	if (rc != 0) {
		err_prefix(err, "cannot seed the emulator");
		return rc;
	}
	rc = emu_store_load_doc(e, t->root, err);
	topology_free(t);
	return rc;
}

static int
read_pem(char **out, const char *path, struct nw_err *err)
{
	size_t len;

	return file_read_all(out, &len, path, 1 << 20, err);
}

/* The options with their defaults (ARM's where ARM has one). */
static void
opts_resolve(struct emulator *e, const struct emulator_opts *o)
{
	double dflt_size[3] = { 250, 200, 200 }, dflt_refill[3] = { 25, 10, 10 };
	double sizes[3] = { o->read_bucket, o->write_bucket, o->delete_bucket };
	double refills[3] = { o->read_refill, o->write_refill, o->delete_refill };
	uint64_t seed;
	int i;

	e->scale = o->time_scale > 0 ? o->time_scale : 1.0;
	e->latency_ms = o->latency_ms > 0 && isfinite(o->latency_ms) ? o->latency_ms : 0;
	e->no_auth = o->no_auth;
	e->token_lifetime = o->token_lifetime > 0 ? o->token_lifetime : 3599;
	e->page_size = o->page_size > 0 ? o->page_size : 100;
	e->max_page_size = o->max_page_size > 0 ? o->max_page_size : 1000;
	if (e->page_size > e->max_page_size)
		e->page_size = e->max_page_size;
	e->max_body = o->max_body > 0 ? o->max_body : EMU_MAX_BODY_DEFAULT;
	e->max_log = o->max_log > 0 ? o->max_log : 100000;
	for (i = 0; i < 3; i++) {
		e->bucket_size[i] = sizes[i] > 0 ? sizes[i] : dflt_size[i];
		e->bucket_refill[i] = refills[i] > 0 ? refills[i] : dflt_refill[i];
	}
	seed = o->rng_seed != 0 ? o->rng_seed : (uint64_t)(clock_wall() * 1e6) ^ (uint64_t)getpid();
	e->fault_rng = seed;
	e->id_rng = seed ^ 0x5bd1e9955bd1e995ULL;
}

/* The estate: the state database's, else the seed's (written to the database). */
static int
load_estate(struct emulator *e, const struct emulator_opts *o, struct nw_err *err)
{
	bool loaded = false;
	int rc;

	if (o->state_path != NULL) {
		rc = persist_open(e, o->state_path, &loaded, err);
		if (rc != 0)
			return rc;
		if (loaded)
			emu_routes_settle(e); /* what each kind left half-way when it stopped */
	}
	if (loaded)
		return 0;
	rc = load_seed(e, o, err);
	/* the seed's locks, policy and deny assignments (authz.c) */
	if (rc == 0 && (rc = authz_load_doc(e, json_object_get(e->doc, "x-netwave-authz"), err)) != 0)
		err_prefix(err, "cannot seed the emulator");
	if (rc == 0 && e->db != NULL)
		rc = persist_save_all(e, err);
	return rc;
}

/*
 * A rules document: the options' JSON when given, else the file's, read by
 * load; nothing when neither is given.  With name_file, what load finds
 * wrong in a file names the file.
 */
static int
load_rule_doc(struct emulator *e, const json_t *given, const char *path, const char *what,
    int (*load)(struct emulator *, const json_t *, struct nw_err *), bool name_file,
    struct nw_err *err)
{
	json_t *doc = NULL;
	int rc;

	if (given == NULL && path == NULL)
		return 0;
	if (given == NULL && (rc = load_json_file(&doc, path, what, err)) != 0)
		return rc;
	rc = load(e, given != NULL ? given : doc, err);
	if (rc != 0 && given == NULL && name_file)
		err_prefix(err, "%s", path);
	json_decref(doc);
	return rc;
}

/* The fault rules and the OAuth2 clients, from the options' JSON or files. */
static int
load_rules(struct emulator *e, const struct emulator_opts *o, struct nw_err *err)
{
	int rc = load_rule_doc(e, o->faults_json, o->faults_path, "faults", faults_load, true, err);

	if (rc == 0)
		rc = load_rule_doc(e, o->clients_json, o->clients_path, "clients", auth_load_clients, false,
		    err);
	return rc;
}

/* Starts libmicrohttpd on the address (with TLS when asked) and sets base_url. */
static int
listen_on(struct emulator *e, const struct emulator_opts *o, struct sockaddr_storage *ss,
    struct nw_err *err)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_AUTO;
	const union MHD_DaemonInfo *info;
	char host[64];
	int rc;

	if (o->tls_cert_path != NULL) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
			return err_set(err, NW_EINPUT, "this libmicrohttpd was built without TLS");
		rc = read_pem(&e->tls_cert, o->tls_cert_path, err);
		if (rc == 0)
			rc = read_pem(&e->tls_key, o->tls_key_path, err);
		if (rc != 0)
			return rc;
		e->tls = true;
		flags |= MHD_USE_TLS;
	}
	if (e->tls)
		e->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, e,
		    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)ss,
		    MHD_OPTION_NOTIFY_COMPLETED, on_completed, e,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
		    MHD_OPTION_HTTPS_MEM_CERT, e->tls_cert,
		    MHD_OPTION_HTTPS_MEM_KEY, e->tls_key,
		    MHD_OPTION_END);
	else
		e->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, e,
		    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)ss,
		    MHD_OPTION_NOTIFY_COMPLETED, on_completed, e,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
		    MHD_OPTION_END);
	if (e->mhd == NULL)
		return err_set(err, NW_EIO, "cannot listen on %s: %s",
		    o->listen != NULL ? o->listen : "127.0.0.1:0",
		    errno != 0 ? strerror(errno) : "libmicrohttpd refused to start");
	info = MHD_get_daemon_info(e->mhd, MHD_DAEMON_INFO_BIND_PORT);
	e->port = info != NULL ? info->port : 0;
	if (ss->ss_family == AF_INET6) {
		char a[48];
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ss)->sin6_addr, a, sizeof(a));
		snprintf(host, sizeof(host), "[%s]", a);
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)ss)->sin_addr, host, sizeof(host));
	}
	snprintf(e->base_url, sizeof(e->base_url), "%s://%s:%u", e->tls ? "https" : "http", host,
	    e->port);
	return 0;
}

int
emulator_start(struct emulator **out, const struct emulator_opts *o, struct nw_err *err)
{
	struct emulator *e;
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	int rc;

	*out = NULL;
	rc = parse_listen(o->listen, &ss, &sslen, err);
	if (rc != 0)
		return rc;
	if ((o->tls_cert_path == NULL) != (o->tls_key_path == NULL))
		return err_set(err, NW_EINPUT, "--tls-cert and --tls-key go together");
	if (o->time_scale < 0 || isnan(o->time_scale) || isinf(o->time_scale))
		return err_set(err, NW_EINPUT, "invalid time scale %g: expected a positive number",
		    o->time_scale);
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	pthread_mutex_init(&e->lock, NULL);
	opts_resolve(e, o);
	e->log = json_array();
	e->tokens = json_object();
	e->empty_status = json_object();
	e->snapshots = json_object();
	e->dirty = json_object();
	e->mi_client_id = emu_strdup("7f0c3a52-4e0b-4a8e-9c7d-000000000001");
	if (e->log == NULL || e->tokens == NULL || e->empty_status == NULL ||
	    e->snapshots == NULL || e->dirty == NULL || e->mi_client_id == NULL) {
		rc = err_set(err, NW_ENOMEM, "out of memory starting the emulator");
		goto fail;
	}
	rc = load_estate(e, o, err);
	if (rc == 0)
		rc = load_rules(e, o, err);
	if (rc == 0)
		rc = listen_on(e, o, &ss, err);
	if (rc != 0)
		goto fail;
	*out = e;
	return 0;
fail:
	emulator_stop(e);
	return rc;
}

void
emulator_stop(struct emulator *e)
{
	struct nw_err err = { 0 };

	if (e == NULL)
		return;
	if (e->mhd != NULL)
		MHD_stop_daemon(e->mhd);
	if (e->db != NULL) {
		/* a stopped emulator is as if its operations had had their time */
		lro_finish_all(e);
		if (persist_flush(e, &err) != 0)
			fprintf(stderr, "netwave emulator: %s\n", err.msg);
		persist_close(e);
	}
	lro_free_all(e);
	emu_store_free(e);
	throttle_free(e);
	faults_free(e);
	auth_free(e);
	json_decref(e->log);
	json_decref(e->empty_status);
	json_decref(e->snapshots);
	json_decref(e->dirty);
	free(e->tls_cert);
	free(e->tls_key);
	free(e->mi_client_id);
	pthread_mutex_destroy(&e->lock);
	free(e);
}

const char *
emulator_base_url(const struct emulator *e)
{
	return e->base_url;
}

unsigned
emulator_port(const struct emulator *e)
{
	return e->port;
}

json_t *
emulator_state(struct emulator *e)
{
	json_t *doc;

	pthread_mutex_lock(&e->lock);
	lro_advance(e);
	doc = emu_store_doc(e);
	pthread_mutex_unlock(&e->lock);
	return doc;
}

json_t *
emulator_requests(struct emulator *e)
{
	json_t *log;

	pthread_mutex_lock(&e->lock);
	log = json_deep_copy(e->log);
	pthread_mutex_unlock(&e->lock);
	return log;
}

void
emulator_requests_clear(struct emulator *e)
{
	pthread_mutex_lock(&e->lock);
	json_array_clear(e->log);
	pthread_mutex_unlock(&e->lock);
}

int
emulator_faults_set(struct emulator *e, const json_t *doc, struct nw_err *err)
{
	int rc;

	pthread_mutex_lock(&e->lock);
	rc = faults_load(e, doc, err);
	pthread_mutex_unlock(&e->lock);
	return rc;
}

int
emulator_resource_put(struct emulator *e, const char *id, const json_t *res, struct nw_err *err)
{
	int rc;

	pthread_mutex_lock(&e->lock);
	lro_advance(e);
	rc = control_drift_put(e, id, res, false, err);
	if (rc == 0 && e->db != NULL)
		rc = persist_flush(e, err);
	pthread_mutex_unlock(&e->lock);
	return rc;
}
