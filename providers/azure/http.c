/*
 * The transport under the Azure provider: one libcurl multi handle that
 * runs every request of a run concurrently in one thread, a timer heap
 * for requests that wait (back-off, Retry-After, throttling, polls), the
 * client-side token buckets per subscription, the retry policy of the
 * Azure SDK guidelines (reference/reliability-and-performance.md section
 * 2), and the --verbose log with secrets redacted (section 3).
 *
 * A transfer is one logical request: it keeps its x-ms-client-request-id
 * across retries, and its done callback runs once with the answer that
 * stands (or a transport error).  ops.c builds operations on top.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "plan/jsonutil.h"
#include "plan/vec.h"
#include "providers/azure/internal.h"

#define DEFAULT_MAX_RETRIES 3
#define DEFAULT_RETRY_DELAY 0.8
#define DEFAULT_RETRY_MAX_DELAY 60.0
#define DEFAULT_MAX_WAIT 900.0
#define DEFAULT_POLL_INTERVAL 2.0
#define DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define DEFAULT_TIMEOUT_MS 100000L
#define DEFAULT_CONCURRENCY 16u
#define MAX_RESPONSE_BYTES ((size_t)256 << 20)

/* --- URLs ------------------------------------------------------------------------------- */

static bool
url_parts(const char *url, char **scheme, char **host, char **port)
{
	CURLU *u = curl_url();
	bool ok = false;

	*scheme = *host = *port = NULL;
	if (u == NULL)
		return false;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) == CURLUE_OK)
		ok = true;
	curl_url_cleanup(u);
	if (!ok) {
		curl_free(*scheme);
		curl_free(*host);
		curl_free(*port);
		*scheme = *host = *port = NULL;
	}
	return ok;
}

bool
az_same_origin(const char *url, const char *base)
{
	char *s1, *h1, *p1, *s2, *h2, *p2;
	bool same = false;

	if (!url_parts(url, &s1, &h1, &p1))
		return false;
	if (url_parts(base, &s2, &h2, &p2)) {
		same = strcasecmp(s1, s2) == 0 && strcasecmp(h1, h2) == 0 && strcmp(p1, p2) == 0;
		curl_free(s2);
		curl_free(h2);
		curl_free(p2);
	}
	curl_free(s1);
	curl_free(h1);
	curl_free(p1);
	return same;
}

void
az_url_path(const char *url, char *out, size_t size)
{
	const char *p = strstr(url, "://");
	size_t n;

	p = p != NULL ? strchr(p + 3, '/') : url;
	if (p == NULL)
		p = "/";
	n = strcspn(p, "?#");
	if (n >= size)
		n = size - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

/* The host of a URL for messages ("127.0.0.1:8443"). */
void
az_url_host(const char *url, char *out, size_t size)
{
	const char *p = strstr(url, "://");
	size_t n;

	p = p != NULL ? p + 3 : url;
	n = strcspn(p, "/?#");
	if (n >= size)
		n = size - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

/* --- failures that decide a retry ------------------------------------------------------ */

/* Failures of TLS or of the URL itself: never retried. */
static bool
tls_error(CURLcode rc)
{
	return rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
	    rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_SSL_CERTPROBLEM ||
	    rc == CURLE_SSL_CIPHER || rc == CURLE_SSL_ENGINE_NOTFOUND ||
	    rc == CURLE_SSL_ENGINE_SETFAILED || rc == CURLE_SSL_ISSUER_ERROR ||
	    rc == CURLE_SSL_CRL_BADFILE || rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH ||
	    rc == CURLE_SSL_INVALIDCERTSTATUS || rc == CURLE_UNSUPPORTED_PROTOCOL ||
	    rc == CURLE_URL_MALFORMAT;
}

/* Failures that happen before the request could have reached the server. */
static bool
before_send(CURLcode rc)
{
	return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
	    rc == CURLE_COULDNT_RESOLVE_PROXY;
}

/* --- client ------------------------------------------------------------------------------ */

static double
positive_or(double v, double def)
{
	return v > 0 ? v : def;
}

static char *
strip_slash_dup(const char *s)
{
	char *d = strdup(s);
	size_t n;

	if (d == NULL)
		return NULL;
	n = strlen(d);
	while (n > 0 && d[n - 1] == '/')
		d[--n] = '\0';
	return d;
}

/* http:// is allowed only on loopback: tokens and secrets never cross a network in clear. */
static bool
url_secure(const char *url)
{
	char *s, *h, *p;
	bool ok;

	if (!url_parts(url, &s, &h, &p))
		return false;
	ok = strcasecmp(s, "https") == 0 ||
	    (strcasecmp(s, "http") == 0 && (strcmp(h, "127.0.0.1") == 0 ||
	    strncmp(h, "127.", 4) == 0 || strcmp(h, "[::1]") == 0 || strcmp(h, "::1") == 0 ||
	    strcasecmp(h, "localhost") == 0));
	curl_free(s);
	curl_free(h);
	curl_free(p);
	return ok;
}

int
az_client_init(struct az_client *c, const struct azure_opts *o, struct nw_err *err)
{
	static const struct azure_opts none = { 0 };
	const struct azure_cloud *cloud;
	const char *authority;
	int i;

	memset(c, 0, sizeof(*c));
	if (o == NULL)
		o = &none;
	c->getenv = o->getenv;
	c->getenv_arg = o->getenv_arg;
	c->clock = o->clock;
	c->clock_arg = o->clock_arg;
	cloud = azure_cloud_find(o->cloud != NULL ? o->cloud : "AzureCloud");
	if (cloud == NULL)
		return err_set(err, NW_EINPUT, "unknown cloud '%s'; expected one of %s", o->cloud,
		    azure_cloud_names());
	snprintf(c->cloud, sizeof(c->cloud), "%s", cloud->name);
	authority = o->authority_host;
	if (authority == NULL) {
		const char *env = c->getenv != NULL ? c->getenv(c->getenv_arg, "AZURE_AUTHORITY_HOST") :
		    getenv("AZURE_AUTHORITY_HOST");
		authority = env != NULL && env[0] != '\0' ? env : cloud->authority_host;
	}
	c->arm = strip_slash_dup(o->arm_endpoint != NULL ? o->arm_endpoint : cloud->arm_endpoint);
	c->authority = strip_slash_dup(authority);
	c->scope = strdup(cloud->scope);
	if (c->arm == NULL || c->authority == NULL || c->scope == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	if (!url_secure(c->arm))
		return err_set(err, NW_EINPUT, "ARM endpoint '%s' must be an https URL "
		    "(plain http is allowed only on loopback)", c->arm);
	if (!url_secure(c->authority))
		return err_set(err, NW_EINPUT, "authority host '%s' must be an https URL "
		    "(plain http is allowed only on loopback)", c->authority);
	if (o->ca_file != NULL) {
		if (access(o->ca_file, R_OK) != 0)
			return err_set(err, NW_EINPUT, "cannot read CA file '%s': %s", o->ca_file,
			    strerror(errno));
		if ((c->ca_file = strdup(o->ca_file)) == NULL)
			return err_set(err, NW_ENOMEM, "out of memory");
	}
	if (o->tenant != NULL && (c->tenant = strdup(o->tenant)) == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	c->log = o->log;
	c->max_retries = o->max_retries < 0 ? 0 : o->max_retries == 0 ? DEFAULT_MAX_RETRIES :
	    (unsigned)o->max_retries;
	c->retry_delay = positive_or(o->retry_delay, DEFAULT_RETRY_DELAY);
	c->retry_max_delay = positive_or(o->retry_max_delay, DEFAULT_RETRY_MAX_DELAY);
	c->max_wait = positive_or(o->max_wait, DEFAULT_MAX_WAIT);
	c->poll_interval = positive_or(o->poll_interval, DEFAULT_POLL_INTERVAL);
	c->scale = positive_or(o->delay_scale, 1.0);
	c->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms :
	    DEFAULT_CONNECT_TIMEOUT_MS;
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	c->max_concurrency = o->max_concurrency > 0 ? o->max_concurrency : DEFAULT_CONCURRENCY;
	c->bucket_size[AZ_READ] = positive_or(o->read_bucket, 250);
	c->bucket_refill[AZ_READ] = positive_or(o->read_refill, 25);
	c->bucket_size[AZ_WRITE] = positive_or(o->write_bucket, 200);
	c->bucket_refill[AZ_WRITE] = positive_or(o->write_refill, 10);
	c->bucket_size[AZ_DELETE] = positive_or(o->delete_bucket, 200);
	c->bucket_refill[AZ_DELETE] = positive_or(o->delete_refill, 10);
	c->rng = o->rng_seed != 0 ? o->rng_seed : az_seed();
	for (i = 0; i < 4; i++)
		az_rand(c);
	snprintf(c->user_agent, sizeof(c->user_agent), "netwave/%s", PACKAGE_VERSION);
	c->multi = curl_multi_init();
	if (c->multi == NULL)
		return err_set(err, NW_EIO, "cannot start libcurl's multi interface");
	curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)c->max_concurrency);
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)c->max_concurrency);
	return 0;
}

static void heap_remove(struct az_client *c, struct az_xfer *x);

void
az_client_cleanup(struct az_client *c)
{
	struct az_xfer *x;

	while (c->ready_head != NULL) {
		x = c->ready_head;
		c->ready_head = x->next;
		az_xfer_free(x);
	}
	while (c->nheap > 0) {
		x = c->heap[0];
		heap_remove(c, x);
		az_xfer_free(x);
	}
	free(c->heap);
	if (c->multi != NULL)
		curl_multi_cleanup(c->multi);
	free(c->subs);
	az_token_clear(&c->token);
	az_cred_clear(&c->cred);
	free(c->arm);
	free(c->authority);
	free(c->scope);
	free(c->ca_file);
	free(c->tenant);
	memset(c, 0, sizeof(*c));
}

/* --- the timer heap ----------------------------------------------------------------------- */

static void
heap_swap(struct az_client *c, size_t i, size_t j)
{
	struct az_xfer *t = c->heap[i];

	c->heap[i] = c->heap[j];
	c->heap[j] = t;
	c->heap[i]->heap_pos = i;
	c->heap[j]->heap_pos = j;
}

static void
heap_up(struct az_client *c, size_t i)
{
	while (i > 0 && c->heap[(i - 1) / 2]->due > c->heap[i]->due) {
		heap_swap(c, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
heap_down(struct az_client *c, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < c->nheap && c->heap[l]->due < c->heap[m]->due)
			m = l;
		if (r < c->nheap && c->heap[r]->due < c->heap[m]->due)
			m = r;
		if (m == i)
			return;
		heap_swap(c, i, m);
		i = m;
	}
}

static void
heap_push(struct az_client *c, struct az_xfer *x)
{
	if (VEC_GROW(c->heap, &c->capheap, c->nheap + 1) != 0)
		abort(); /* out of memory in the scheduler: nothing sane to do */
	x->where = AZ_X_TIMER;
	x->heap_pos = c->nheap;
	c->heap[c->nheap++] = x;
	heap_up(c, x->heap_pos);
}

static void
heap_remove(struct az_client *c, struct az_xfer *x)
{
	size_t i = x->heap_pos;

	if (x->where != AZ_X_TIMER || i >= c->nheap || c->heap[i] != x)
		return;
	c->nheap--;
	if (i != c->nheap) {
		c->heap[i] = c->heap[c->nheap];
		c->heap[i]->heap_pos = i;
		heap_down(c, i);
		heap_up(c, i);
	}
	x->where = AZ_X_NEW;
}

static void
ready_push(struct az_client *c, struct az_xfer *x)
{
	x->where = AZ_X_READY;
	x->next = NULL;
	if (c->ready_tail != NULL)
		c->ready_tail->next = x;
	else
		c->ready_head = x;
	c->ready_tail = x;
}

static void
ready_remove(struct az_client *c, struct az_xfer *x)
{
	struct az_xfer **pp, *prev = NULL;

	for (pp = &c->ready_head; *pp != NULL; prev = *pp, pp = &(*pp)->next) {
		if (*pp == x) {
			*pp = x->next;
			if (c->ready_tail == x)
				c->ready_tail = prev;
			x->next = NULL;
			x->where = AZ_X_NEW;
			return;
		}
	}
}

/* --- subscriptions and buckets --------------------------------------------------------------- */

/* The subscription in an ARM URL ("/subscriptions/{id}/..."), or "". */
static void
url_subscription(const char *url, char *out, size_t size)
{
	const char *p = strstr(url, "://");
	const char *s;
	size_t n;

	out[0] = '\0';
	p = p != NULL ? strchr(p + 3, '/') : url;
	if (p == NULL || strncasecmp(p, "/subscriptions/", 15) != 0)
		return;
	s = p + 15;
	n = strcspn(s, "/?#");
	if (n == 0 || n >= size)
		return;
	memcpy(out, s, n);
	out[n] = '\0';
}

static struct az_sub *
sub_get(struct az_client *c, const char *id)
{
	size_t i;
	int k;

	for (i = 0; i < c->nsubs; i++)
		if (strcasecmp(c->subs[i].id, id) == 0)
			return &c->subs[i];
	if (VEC_GROW(c->subs, &c->capsubs, c->nsubs + 1) != 0)
		return NULL;
	memset(&c->subs[c->nsubs], 0, sizeof(c->subs[0]));
	snprintf(c->subs[c->nsubs].id, sizeof(c->subs[0].id), "%s", id);
	for (k = 0; k < 3; k++) {
		struct az_bucket *b = &c->subs[c->nsubs].b[k];
		b->capacity = b->tokens = c->bucket_size[k];
		b->refill = c->bucket_refill[k];
		b->last = clock_mono();
	}
	return &c->subs[c->nsubs++];
}

static void
bucket_refill(struct az_client *c, struct az_bucket *b, double now)
{
	if (now > b->last) {
		b->tokens += (now - b->last) * b->refill / c->scale;
		if (b->tokens > b->capacity)
			b->tokens = b->capacity;
		b->last = now;
	}
}

/* 0 when a token was taken, else the (real) seconds to wait for one. */
static double
bucket_take(struct az_client *c, struct az_bucket *b, double now)
{
	bucket_refill(c, b, now);
	if (now < b->blocked_until)
		return b->blocked_until - now;
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		return 0;
	}
	return (1.0 - b->tokens) * c->scale / b->refill;
}

static void
bucket_correct(struct az_client *c, struct az_xfer *x, double now)
{
	static const char *const names[3] = { "x-ms-ratelimit-remaining-subscription-reads",
		"x-ms-ratelimit-remaining-subscription-writes",
		"x-ms-ratelimit-remaining-subscription-deletes" };
	struct az_sub *s;
	int k;

	if (x->sub[0] == '\0' || (s = sub_get(c, x->sub)) == NULL)
		return;
	for (k = 0; k < 3; k++) {
		const char *v = az_xfer_header(x, names[k]);
		char *end;
		double n;

		if (v == NULL)
			continue;
		n = strtod(v, &end);
		if (end == v || n < 0)
			continue;
		/* ARM knows best; requests it has not counted yet are still ours to count */
		bucket_refill(c, &s->b[k], now);
		if (n > s->b[k].capacity)
			s->b[k].capacity = n;
		s->b[k].tokens = n - (double)s->b[k].in_flight;
		if (s->b[k].tokens < 0)
			s->b[k].tokens = 0;
	}
}

json_t *
az_throttle_json(struct az_client *c)
{
	static const char *const cls[3] = { "reads", "writes", "deletes" };
	json_t *out = json_object();
	double now = clock_mono();
	size_t i;
	int k;

	for (i = 0; i < c->nsubs; i++) {
		json_t *s = json_object();
		for (k = 0; k < 3; k++) {
			struct az_bucket *b = &c->subs[i].b[k];
			bucket_refill(c, b, now);
			json_object_set_new(s, cls[k], json_pack("{s:f,s:f,s:f,s:f}", "tokens", b->tokens,
			    "bucket", b->capacity, "refillPerSecond", b->refill, "blockedSeconds",
			    b->blocked_until > now ? (b->blocked_until - now) / c->scale : 0.0));
		}
		json_object_set_new(s, "throttled", json_integer((json_int_t)c->subs[i].throttled));
		json_object_set_new(out, c->subs[i].id, s);
	}
	return out;
}

/* --- transfers ------------------------------------------------------------------------------ */

struct az_xfer *
az_xfer_new(struct az_client *c, const char *method, const char *url, const char *body,
    size_t body_len, const char *content_type, unsigned flags)
{
	size_t lm = strlen(method) + 1, lu = strlen(url) + 1;
	struct az_xfer *x = calloc(1, sizeof(*x) + lm + lu + (body != NULL ? body_len + 1 : 0));

	if (x == NULL)
		return NULL;
	x->c = c;
	x->method = memcpy(x->text, method, lm);
	x->url = memcpy(x->text + lm, url, lu);
	if (body != NULL) {
		x->body = memcpy(x->text + lm + lu, body, body_len);
		x->body[body_len] = '\0';
		x->body_len = body_len;
	}
	if ((x->headers = json_object()) == NULL) {
		az_xfer_free(x);
		return NULL;
	}
	x->content_type = content_type;
	x->flags = flags;
	az_uuid(c, x->request_id);
	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
		x->cls = AZ_READ;
	else if (strcmp(method, "DELETE") == 0)
		x->cls = AZ_DELETE;
	else
		x->cls = AZ_WRITE;
	url_subscription(url, x->sub, sizeof(x->sub));
	if (x->sub[0] == '\0' || !(flags & AZ_XFER_AUTH))
		x->cls = AZ_CLASS_NONE;
	return x;
}

void
az_xfer_free(struct az_xfer *x)
{
	if (x == NULL)
		return;
	if (x->easy != NULL)
		curl_easy_cleanup(x->easy);
	az_headers_free(x->req_headers);
	az_secure_zero(x->body, x->body_len);
	json_decref(x->headers);
	free(x->resp);
	free(x);
}

const char *
az_xfer_header(const struct az_xfer *x, const char *name)
{
	return json_str(x->headers, name);
}

void
az_xfer_start(struct az_xfer *x, double delay, az_xfer_done_fn done, void *arg)
{
	x->done = done;
	x->done_arg = arg;
	if (delay > 0) {
		x->due = clock_mono() + delay * x->c->scale;
		heap_push(x->c, x);
	} else {
		x->due = clock_mono();
		ready_push(x->c, x);
	}
}

static void
release_slot(struct az_client *c, struct az_xfer *x)
{
	if (x->where != AZ_X_FLIGHT)
		return;
	curl_multi_remove_handle(c->multi, x->easy);
	curl_easy_cleanup(x->easy);
	x->easy = NULL;
	az_headers_free(x->req_headers);
	x->req_headers = NULL;
	c->in_flight--;
	if (x->cls != AZ_CLASS_NONE) {
		struct az_sub *s = sub_get(c, x->sub);
		if (s != NULL && s->b[x->cls].in_flight > 0)
			s->b[x->cls].in_flight--;
	}
	x->where = AZ_X_NEW;
}

void
az_xfer_abort(struct az_xfer *x)
{
	struct az_client *c = x->c;

	if (x->where == AZ_X_TIMER)
		heap_remove(c, x);
	else if (x->where == AZ_X_READY)
		ready_remove(c, x);
	else if (x->where == AZ_X_FLIGHT)
		release_slot(c, x);
	az_xfer_free(x);
}

size_t
az_body_append(char **buf, size_t *len, size_t *cap, const char *data, size_t n, size_t max,
    bool secret)
{
	if (*len + n + 1 > max)
		return 0;
	if (*len + n + 1 > *cap) {
		size_t ncap = (*len + n + 1) * 2;
		char *b = malloc(ncap);
		if (b == NULL)
			return 0;
		if (*buf != NULL) {
			memcpy(b, *buf, *len);
			if (secret)
				az_secure_zero(*buf, *len);
			free(*buf);
		}
		*buf = b;
		*cap = ncap;
	}
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
	return n;
}

void
az_header_store(json_t *headers, const char *data, size_t n, size_t max_value)
{
	char name[128];
	size_t k, v0, v1;
	json_t *v;

	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* a new status line: only the last answer's headers count */
		json_object_clear(headers);
		return;
	}
	for (k = 0; k < n && data[k] != ':'; k++)
		;
	if (k == n || k == 0 || k >= sizeof(name))
		return;
	for (size_t i = 0; i < k; i++)
		name[i] = (char)(data[i] >= 'A' && data[i] <= 'Z' ? data[i] - 'A' + 'a' : data[i]);
	name[k] = '\0';
	v0 = k + 1;
	while (v0 < n && (data[v0] == ' ' || data[v0] == '\t'))
		v0++;
	v1 = n;
	while (v1 > v0 && (data[v1 - 1] == '\r' || data[v1 - 1] == '\n' || data[v1 - 1] == ' '))
		v1--;
	if (v1 - v0 > max_value)
		v1 = v0 + max_value;
	v = json_stringn(data + v0, strnlen(data + v0, v1 - v0));
	if (v != NULL)
		json_object_set_new(headers, name, v);
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct az_xfer *x = arg;

	/* 0 ends the transfer with CURLE_WRITE_ERROR */
	return az_body_append(&x->resp, &x->resp_len, &x->resp_cap, data, size * nmemb,
	    MAX_RESPONSE_BYTES, false);
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct az_xfer *x = arg;

	az_header_store(x->headers, data, size * nmemb, SIZE_MAX);
	return size * nmemb;
}

void
az_easy_common(struct az_client *c, CURL *easy)
{
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, c->user_agent);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->ca_file != NULL)
		curl_easy_setopt(easy, CURLOPT_CAINFO, c->ca_file);
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
}

static void complete(struct az_client *c, struct az_xfer *x);

void
az_headers_free(struct curl_slist *h)
{
	struct curl_slist *l;

	for (l = h; l != NULL; l = l->next) {
		volatile char *p = l->data;
		while (*p != '\0')
			*p++ = '\0';
	}
	curl_slist_free_all(h);
}

/* Appends a line; on failure frees the whole list and leaves *h NULL. */
static bool
headers_add(struct curl_slist **h, const char *line)
{
	struct curl_slist *t = curl_slist_append(*h, line);

	if (t == NULL) {
		az_headers_free(*h);
		*h = NULL;
		return false;
	}
	*h = t;
	return true;
}

static int
start_easy(struct az_client *c, struct az_xfer *x)
{
	char hdr[256];
	CURL *e = curl_easy_init();
	struct curl_slist *h = NULL;
	bool ok;

	if (e == NULL)
		return err_set(&x->err, NW_ENOMEM, "cannot create a libcurl handle");
	free(x->resp);
	x->resp = NULL;
	x->resp_len = x->resp_cap = 0;
	x->status = 0;
	x->curl_rc = CURLE_OK;
	x->curl_err[0] = '\0';
	json_object_clear(x->headers);

	az_easy_common(c, e);
	curl_easy_setopt(e, CURLOPT_URL, x->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->curl_err);
	/*
	 * libcurl silently sends a request again on a fresh connection when a
	 * reused one dies before any answer ("Connection died, retrying a fresh
	 * connect"): a write that reached ARM would be carried out twice.  A
	 * request that must not be repeated gets a connection of its own, so a
	 * reset after sending reaches the caller, who settles it by reading.
	 */
	curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, (x->flags & AZ_XFER_IDEMPOTENT) ? 0L : 1L);
	if (strcmp(x->method, "GET") == 0) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, x->method);
		if (strcmp(x->method, "DELETE") != 0 || x->body != NULL) {
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)(x->body != NULL ? x->body_len : 0));
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body != NULL ? x->body : "");
		}
	}
	snprintf(hdr, sizeof(hdr), "x-ms-client-request-id: %s", x->request_id);
	ok = headers_add(&h, hdr) && headers_add(&h, "Accept: application/json") &&
	    headers_add(&h, "Expect:");
	if (ok && x->content_type != NULL) {
		snprintf(hdr, sizeof(hdr), "Content-Type: %s", x->content_type);
		ok = headers_add(&h, hdr);
	}
	if (ok && (x->flags & AZ_XFER_AUTH)) {
		char *auth = NULL;
		if (asprintf(&auth, "Authorization: Bearer %s", c->token.value) < 0)
			auth = NULL;
		ok = auth != NULL && headers_add(&h, auth);
		az_secure_free(auth);
		x->token_gen = c->token_gen;
	}
	if (!ok) {
		az_headers_free(h);
		curl_easy_cleanup(e);
		return err_set(&x->err, NW_ENOMEM, "out of memory");
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	x->easy = e;
	x->req_headers = h;
	if (curl_multi_add_handle(c->multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		x->easy = NULL;
		az_headers_free(h);
		x->req_headers = NULL;
		return err_set(&x->err, NW_EIO, "cannot add a request to libcurl's multi handle");
	}
	x->where = AZ_X_FLIGHT;
	x->attempts++;
	x->sent_at = clock_mono();
	c->in_flight++;
	if (x->cls != AZ_CLASS_NONE) {
		struct az_sub *s = sub_get(c, x->sub);
		if (s != NULL)
			s->b[x->cls].in_flight++;
	}
	if (strcmp(x->method, "GET") == 0 || strcmp(x->method, "HEAD") == 0)
		c->stats.reads++;
	else if (strcmp(x->method, "DELETE") == 0)
		c->stats.deletes++;
	else
		c->stats.writes++;
	if (x->attempts > 1)
		c->stats.retries++;
	az_log_request(c, x->method, x->url, h, x->body, x->body_len, x->request_id);
	return 0;
}

/* Moves due timers to the ready queue, then starts what the limits allow. */
static void
dispatch(struct az_client *c)
{
	double now = clock_mono();

	while (c->nheap > 0 && c->heap[0]->due <= now) {
		struct az_xfer *x = c->heap[0];
		heap_remove(c, x);
		ready_push(c, x);
	}
	while (c->ready_head != NULL && c->in_flight < c->max_concurrency) {
		struct az_xfer *x = c->ready_head;
		double wait = 0;

		c->ready_head = x->next;
		if (c->ready_head == NULL)
			c->ready_tail = NULL;
		x->next = NULL;
		x->where = AZ_X_NEW;
		if (x->cls != AZ_CLASS_NONE) {
			struct az_sub *s = sub_get(c, x->sub);
			if (s != NULL)
				wait = bucket_take(c, &s->b[x->cls], now);
		}
		if (wait <= 0 && (x->flags & AZ_XFER_GRAPH) && now < c->graph_blocked_until)
			wait = c->graph_blocked_until - now;
		if (wait > 0) {
			x->due = now + wait;
			heap_push(c, x);
			continue;
		}
		if (x->flags & AZ_XFER_AUTH) {
			if (!az_same_origin(x->url, c->arm)) {
				char host[256];
				az_url_host(x->url, host, sizeof(host));
				x->rc = err_set(&x->err, NW_EFAIL, "refusing to send the access token to %s, "
				    "which is not the ARM endpoint %s", host, c->arm);
				complete(c, x);
				continue;
			}
			if (az_auth_ensure(c, &x->err) != 0) {
				x->rc = x->err.code != 0 ? x->err.code : NW_EFAIL;
				complete(c, x);
				continue;
			}
		}
		if (start_easy(c, x) != 0) {
			x->rc = x->err.code;
			complete(c, x);
		}
	}
}

double
az_retry_after(const struct az_xfer *x)
{
	static const char *const ms_headers[] = { "retry-after-ms", "x-ms-retry-after-ms", NULL };
	const char *v;
	char *end;
	size_t i;

	for (i = 0; ms_headers[i] != NULL; i++) {
		v = az_xfer_header(x, ms_headers[i]);
		if (v != NULL) {
			double ms = strtod(v, &end);
			if (end != v && isfinite(ms) && ms >= 0)
				return ms / 1000.0;
		}
	}
	v = az_xfer_header(x, "retry-after");
	if (v != NULL) {
		double s = strtod(v, &end);
		time_t when;
		if (end != v && *end == '\0' && isfinite(s) && s >= 0)
			return s;
		/* an HTTP date */
		when = curl_getdate(v, NULL);
		if (when != (time_t)-1) {
			double d = (double)when - az_wall(x->c);
			return d > 0 ? d : 0;
		}
	}
	return -1;
}

/* Exponential back-off with jitter (azcore: (2^n - 1) * base * U[0.8, 1.3)), capped. */
static double
backoff(struct az_client *c, unsigned n)
{
	double jitter = 0.8 + 0.5 * (double)(az_rand(c) >> 11) / 9007199254740992.0;
	double d = (ldexp(1.0, (int)(n < 30 ? n : 30)) - 1.0) * c->retry_delay * jitter;

	return d < c->retry_max_delay ? d : c->retry_max_delay;
}

static void
requeue(struct az_client *c, struct az_xfer *x, double delay)
{
	x->due = clock_mono() + delay * c->scale;
	heap_push(c, x);
}

static void
complete(struct az_client *c, struct az_xfer *x)
{
	x->where = AZ_X_DONE;
	if (x->done != NULL)
		x->done(x, x->done_arg);
	az_xfer_free(x);
}

/* The error code in a CloudError body, "" when none. */
static void
body_code(const struct az_xfer *x, char *out, size_t size)
{
	json_t *v = x->resp != NULL ? json_loadb(x->resp, x->resp_len, 0, NULL) : NULL;
	const char *code = json_path_str(v, "error", "code", NULL);

	if (code == NULL)
		code = json_str(v, "code");
	snprintf(out, size, "%s", code != NULL ? code : "");
	json_decref(v);
}

static void
graph_quota(struct az_client *c, struct az_xfer *x, double now)
{
	const char *rem = az_xfer_header(x, "x-ms-user-quota-remaining");
	const char *reset = az_xfer_header(x, "x-ms-user-quota-resets-after");
	unsigned h, m, s;

	if (rem == NULL || atoi(rem) > 0 || reset == NULL)
		return;
	if (sscanf(reset, "%u:%u:%u", &h, &m, &s) == 3)
		c->graph_blocked_until = now + (h * 3600.0 + m * 60.0 + s) * c->scale;
}

/* A transfer that got no answer: retried when it cannot have been carried out, else an error. */
static void
finish_transport(struct az_client *c, struct az_xfer *x)
{
	bool pre = before_send(x->curl_rc);

	if (!tls_error(x->curl_rc) && (pre || (x->flags & AZ_XFER_IDEMPOTENT)) &&
	    x->retries < c->max_retries) {
		x->retries++;
		requeue(c, x, backoff(c, x->retries));
		return;
	}
	az_curl_error(&x->err, x->curl_rc, x->curl_err, x->method, x->url);
	if (!pre && !tls_error(x->curl_rc) && !(x->flags & AZ_XFER_IDEMPOTENT)) {
		/* the request may have been carried out: never resent blindly */
		size_t n = strlen(x->err.msg);
		snprintf(x->err.msg + n, sizeof(x->err.msg) - n,
		    "; the request may have been carried out, so it was not sent again");
	}
	x->rc = NW_EIO;
	complete(c, x);
}

/* A 429: parked for Retry-After (or back-off), holding back its whole class when ARM throttled the subscription. */
static void
finish_throttled(struct az_client *c, struct az_xfer *x, double now, double ra)
{
	char code[128];
	struct az_sub *s = x->sub[0] != '\0' ? sub_get(c, x->sub) : NULL;
	double delay = ra >= 0 ? ra : backoff(c, x->retries + 1);

	c->stats.throttled++;
	if (s != NULL)
		s->throttled++;
	if (x->parked + delay > c->max_wait) {
		complete(c, x);
		return;
	}
	body_code(x, code, sizeof(code));
	/* a subscription throttle holds back every request of the class, not just this one */
	if (s != NULL && x->cls != AZ_CLASS_NONE &&
	    strcmp(code, "RetryableErrorDueToAnotherOperation") != 0 &&
	    strcmp(code, "AnotherOperationInProgress") != 0) {
		double until = now + delay * c->scale;
		if (until > s->b[x->cls].blocked_until)
			s->b[x->cls].blocked_until = until;
	}
	if ((x->flags & AZ_XFER_GRAPH) && now + delay * c->scale > c->graph_blocked_until)
		c->graph_blocked_until = now + delay * c->scale;
	x->parked += delay;
	requeue(c, x, delay);
}

/* Whether an answer is one the Azure SDK guidelines retry (ra: its Retry-After, < 0 when none). */
static bool
status_retryable(long status, double ra)
{
	return status == 408 || status == 429 || status == 500 || status == 502 ||
	    status == 503 || status == 504 || (status >= 400 && status < 500 && ra >= 0);
}

/* An answer (or a failure) came back: retry it, park it, or hand it over. */
static void
finish(struct az_client *c, struct az_xfer *x)
{
	double now = clock_mono(), ra;
	long status;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	x->status = x->curl_rc == CURLE_OK ? status : 0;
	release_slot(c, x);
	if (x->curl_rc == CURLE_OK)
		az_log_response(c, x->method, x->url, x->status, x->headers, x->resp, x->resp_len,
		    (now - x->sent_at) * 1000.0);
	else if (c->log != NULL)
		fprintf(c->log, "netwave: < (no answer) %s %s: %s\n", x->method, x->url,
		    x->curl_err[0] != '\0' ? x->curl_err : curl_easy_strerror(x->curl_rc));

	if (x->curl_rc != CURLE_OK) {
		finish_transport(c, x);
		return;
	}
	bucket_correct(c, x, now);
	if (x->flags & AZ_XFER_GRAPH)
		graph_quota(c, x, now);

	if (x->status == 401 && (x->flags & AZ_XFER_AUTH)) {
		if (!x->reauthed && az_auth_refreshable(c)) {
			/* once: the token may have expired under us */
			x->reauthed = true;
			az_auth_invalidate(c, x->token_gen);
			ready_push(c, x);
			return;
		}
		complete(c, x); /* ops.c names the credential */
		return;
	}

	ra = az_retry_after(x);
	if (!status_retryable(x->status, ra))
		complete(c, x);
	else if (x->status == 429)
		finish_throttled(c, x, now, ra);
	else if (x->retries >= c->max_retries || ra > c->max_wait)
		complete(c, x);
	else {
		x->retries++;
		requeue(c, x, ra >= 0 ? ra : backoff(c, x->retries));
	}
}

static void
collect(struct az_client *c)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
		struct az_xfer *x = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		if (x == NULL)
			continue;
		x->curl_rc = m->data.result;
		finish(c, x);
	}
}

bool
az_client_idle(const struct az_client *c)
{
	return c->in_flight == 0 && c->nheap == 0 && c->ready_head == NULL;
}

int
az_client_run(struct az_client *c, double timeout, struct nw_err *err)
{
	double deadline = timeout < 0 ? INFINITY : clock_mono() + timeout;

	for (;;) {
		double now, wait;
		long ct = -1;
		int running, ms;
		CURLMcode mc;

		dispatch(c);
		mc = curl_multi_perform(c->multi, &running);
		if (mc != CURLM_OK)
			return err_set(err, NW_EIO, "libcurl failed: %s", curl_multi_strerror(mc));
		collect(c);
		if (c->ready_head != NULL && c->in_flight < c->max_concurrency)
			continue; /* callbacks queued more */
		if (az_client_idle(c))
			return 0;
		now = clock_mono();
		if (now >= deadline)
			return 0;
		wait = deadline - now;
		if (c->nheap > 0 && c->heap[0]->due - now < wait)
			wait = c->heap[0]->due - now;
		if (c->in_flight > 0 && curl_multi_timeout(c->multi, &ct) == CURLM_OK && ct >= 0 &&
		    ct / 1000.0 < wait)
			wait = ct / 1000.0;
		if (wait < 0)
			wait = 0;
		ms = wait > 1000.0 ? 1000000 : (int)ceil(wait * 1000.0);
		if (c->in_flight == 0) {
			/* nothing on the wire: just sleep until the next timer */
			struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
			nanosleep(&ts, NULL);
			continue;
		}
		mc = curl_multi_poll(c->multi, NULL, 0, ms, NULL);
		if (mc != CURLM_OK)
			return err_set(err, NW_EIO, "libcurl failed: %s", curl_multi_strerror(mc));
	}
}

/* --- a transport seam for tests/fuzz ------------------------------------------------- */

struct az_xfer *
az_client_take(struct az_client *c)
{
	struct az_xfer *x = c->ready_head;

	if (x != NULL)
		ready_remove(c, x);
	else if (c->nheap > 0) {
		x = c->heap[0];
		heap_remove(c, x);
	}
	if (x != NULL)
		x->where = AZ_X_NEW;
	return x;
}

void
az_xfer_complete(struct az_xfer *x)
{
	complete(x->c, x);
}
