/*
 * The planner (see planner.h): current and target topologies in, a
 * netwave.plan/v1 document out.  It sits between the diff and the plan
 * store: `netwave plan` loads (or expands) the topologies, calls
 * planner_plan, and stores what comes out when nothing blocks it.
 *
 * A driver: the change kinds are the entries of the registry
 * (plan/procedure.h, plan/procedures.c), each in its own files under
 * plan/proc/, and planner_plan runs their phases in order:
 *  1. diff the two topologies;
 *  2. detect: each procedure finds what it has to do (avnm-mesh from the
 *     target's mesh connectivity configurations, the others from the
 *     differences);
 *  3. claim: every difference is offered to the procedures in turn; the
 *     one that carries it out claims it, and whatever is left unclaimed
 *     blocks the plan;
 *  4. check the platform limits and prerequisites (blockers, findings,
 *     the limits table);
 *  5. build the waves, in registry order, then each kind's last waves
 *     (the decommission comes after everything); every step an ARM
 *     operation with its inverse (or marked irreversible), built with
 *     plan/plan_build.h;
 *  6. rehearse the waves on the route engine (plan/rehearse.c) and attach
 *     the gates that need the rehearsed routes;
 *  7. estimate reads, writes and time under the write budget
 *     (plan/plan_budget.c), and wrap up the summary and the plan id.
 */
#include "config.h"

#include <assert.h>
#include <pthread.h>
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/diff.h"
#include "plan/findings.h"
#include "plan/jsonutil.h"
#include "plan/plan_build.h"
#include "plan/planner.h"
#include "plan/procedure.h"
#include "plan/rehearse.h"
#include "plan/rgroups.h"
#include "plan/sha256.h"

/* ------------------------------------------------------------------ */
/* Claiming the differences */

/*
 * Every difference goes through here once: the first procedure that
 * carries it out claims it and records what it needs to build its steps.
 * Anything left unclaimed is reported as not supported.
 */
static int
claim_all(struct plan_ctx *p)
{
	size_t i, k;

	for (i = 0; i < p->diff.n; i++) {
		struct diff_entry *e = &p->diff.v[i];
		const struct topo_resource *r = NULL;

		if (strcmp(e->resource_id, "observed") != 0) {
			r = topology_find(e->kind == DIFF_REMOVED ? p->cur : p->tgt, e->resource_id);
			if (r == NULL)
				continue;
		}
		for (k = 0; procedures[k] != NULL; k++) {
			int rc;

			if (procedures[k]->claim == NULL)
				continue;
			rc = procedures[k]->claim(p, e, r);
			if (rc < 0)
				return plan_nomem(p);
			if (rc > 0) {
				e->claimed_by = procedures[k]->name;
				p->uses[k] = true;
				break;
			}
		}
	}
	return 0;
}

/*
 * A target that records a group the current estate lacks (the target
 * predicts the groups a change creates): the procedure that writes into
 * the group claims its record, and wave_prepare creates it.
 */
static void
rg_claim(struct plan_ctx *p)
{
	size_t i, k;

	for (i = 0; i < p->diff.n; i++) {
		struct diff_entry *e = &p->diff.v[i];
		size_t n = strlen(e->resource_id);

		if (e->claimed_by != NULL || e->kind != DIFF_ADDED || !rgroups_is_group_type(e->type))
			continue;
		for (k = 0; k < p->diff.n && e->claimed_by == NULL; k++) {
			const struct diff_entry *o = &p->diff.v[k];
			if (o->claimed_by != NULL && strncasecmp(o->resource_id, e->resource_id, n) == 0 &&
			    o->resource_id[n] == '/')
				e->claimed_by = o->claimed_by;
		}
	}
}

/* Whatever no procedure claimed blocks the plan. */
static void
unclaimed_blockers(struct plan_ctx *p)
{
	size_t i;

	for (i = 0; i < p->diff.n; i++) {
		const struct diff_entry *e = &p->diff.v[i];
		json_t *o;
		char msg[2048];

		if (e->claimed_by != NULL)
			continue;
		snprintf(msg, sizeof(msg), "not supported: %s %s%s%s; no procedure makes this change",
		    diff_kind_name(e->kind), e->resource_id, e->pointer[0] ? " at " : "",
		    e->pointer);
		o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "code", "not-supported", "message", msg,
		    "resource", e->resource_id, "pointer", e->pointer, "kind", diff_kind_name(e->kind));
		if (o != NULL)
			json_array_append_new(p->blockers, o);
	}
}

/* ------------------------------------------------------------------ */
/* Canonical text, fast */

/*
 * jansson's json_dump_callback, byte for byte, for the flags netwave
 * dumps with (JSON_INDENT(n), JSON_COMPACT, JSON_SORT_KEYS,
 * JSON_ENSURE_ASCII, JSON_ENCODE_ANY), about three times faster: a plan
 * of thousands of steps is dumped for its id, for the store and for the
 * report, and its topologies for their fingerprints, and jansson spends
 * most of that time checking every object for loops (a printf and a hash
 * table per object) and handing out output a few bytes at a time.  Here
 * the output goes out in large chunks, keys are sorted without a look-up
 * per key, and a depth limit stands in for the loop check (jansson's
 * parser stops at the same depth, so only a cycle reaches it).  Reals
 * and the flags we never use go to jansson itself.
 */

/* planner_json_dump and planner_json_dumps are declared in plan/planner.h. */

#define DUMP_CHUNK 65536
#define DUMP_MAX_DEPTH 2048 /* jansson's JSON_PARSER_MAX_DEPTH */

struct dumper {
	json_dump_callback_t cb;
	void *data;
	size_t flags;
	unsigned indent; /* spaces per level, 0 for none */
	bool failed;
	size_t len;
	char buf[DUMP_CHUNK];
};

static void
dump_flush(struct dumper *d)
{
	if (d->len > 0 && !d->failed && d->cb(d->buf, d->len, d->data) != 0)
		d->failed = true;
	d->len = 0;
}

static void
dump_put(struct dumper *d, const char *s, size_t n)
{
	if (n > DUMP_CHUNK - d->len) {
		dump_flush(d);
		if (n > DUMP_CHUNK) {
			if (!d->failed && d->cb(s, n, d->data) != 0)
				d->failed = true;
			return;
		}
	}
	memcpy(d->buf + d->len, s, n);
	d->len += n;
}

/* A newline and depth levels of indentation, or the space after a comma without indentation. */
static void
dump_indent(struct dumper *d, int depth, bool space)
{
	size_t n = (size_t)depth * d->indent;

	if (d->indent > 0) {
		if (n + 1 > DUMP_CHUNK - d->len) {
			dump_flush(d);
			if (n + 1 > DUMP_CHUNK) {
				/* deeper than a chunk: rare enough to go space by space */
				dump_put(d, "\n", 1);
				while (n-- > 0)
					dump_put(d, " ", 1);
				return;
			}
		}
		d->buf[d->len++] = '\n';
		memset(d->buf + d->len, ' ', n);
		d->len += n;
	} else if (space && !(d->flags & JSON_COMPACT)) {
		dump_put(d, " ", 1);
	}
}

/* The length of the UTF-8 sequence at p (jansson's rules), 0 when it is not valid. */
static size_t
utf8_seq(const unsigned char *p, size_t avail, uint32_t *cp)
{
	size_t n, i;
	uint32_t v;

	if (p[0] >= 0xC2 && p[0] <= 0xDF) {
		n = 2;
		v = p[0] & 0x1F;
	} else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
		n = 3;
		v = p[0] & 0x0F;
	} else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
		n = 4;
		v = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n > avail)
		return 0;
	for (i = 1; i < n; i++) {
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
		v = (v << 6) | (p[i] & 0x3F);
	}
	if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF) || (n == 3 && v < 0x800) ||
	    (n == 4 && v < 0x10000))
		return 0;
	*cp = v;
	return n;
}

/*
 * Might a byte of w need escaping or decoding (below 0x20, '"', '\\',
 * 0x80 and up)?  The usual bit tricks; a false alarm only costs the
 * byte-by-byte path.
 */
static inline bool
word_needs_look(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');

	return (((w - ones * 0x20) | (q - ones) | (b - ones) | w) & high) != 0;
}

/*
 * A JSON string.  Runs that need no escape go out whole, as jansson's do;
 * on invalid UTF-8 the run in progress is dropped and -1 returned, as
 * jansson does.
 */
static int
dump_string(struct dumper *d, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s, *end = p + len, *run = p;
	bool ascii = (d->flags & JSON_ENSURE_ASCII) != 0;
	char esc[6];

	dump_put(d, "\"", 1);
	while (p < end) {
		uint32_t cp;
		size_t n;

		/* eight plain bytes at a time, the common case */
		while (end - p >= 8) {
			uint64_t w;

			memcpy(&w, p, 8);
			if (word_needs_look(w))
				break;
			p += 8;
		}
		if (p == end)
			break;
		if (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') {
			p++;
			continue;
		}
		if (*p >= 0x80) {
			if ((n = utf8_seq(p, (size_t)(end - p), &cp)) == 0)
				return -1;
			if (!ascii) {
				p += n;
				continue;
			}
		} else {
			n = 1;
			cp = *p;
		}
		dump_put(d, (const char *)run, (size_t)(p - run));
		switch (cp) {
		case '\\': dump_put(d, "\\\\", 2); break;
		case '"': dump_put(d, "\\\"", 2); break;
		case '\b': dump_put(d, "\\b", 2); break;
		case '\f': dump_put(d, "\\f", 2); break;
		case '\n': dump_put(d, "\\n", 2); break;
		case '\r': dump_put(d, "\\r", 2); break;
		case '\t': dump_put(d, "\\t", 2); break;
		default: {
			/* \uXXXX, or a UTF-16 surrogate pair of them beyond the BMP */
			uint32_t units[2];
			int k, nu = 0;

			if (cp < 0x10000) {
				units[nu++] = cp;
			} else {
				units[nu++] = 0xD800 | ((cp - 0x10000) >> 10);
				units[nu++] = 0xDC00 | ((cp - 0x10000) & 0x3FF);
			}
			for (k = 0; k < nu; k++) {
				esc[0] = '\\';
				esc[1] = 'u';
				esc[2] = hex[(units[k] >> 12) & 15];
				esc[3] = hex[(units[k] >> 8) & 15];
				esc[4] = hex[(units[k] >> 4) & 15];
				esc[5] = hex[units[k] & 15];
				dump_put(d, esc, 6);
			}
			break;
		}
		}
		p += n;
		run = p;
	}
	dump_put(d, (const char *)run, (size_t)(p - run));
	dump_put(d, "\"", 1);
	return 0;
}

struct dump_member {
	const char *key;
	size_t len;
	json_t *value;
};

/* jansson's key order: bytes, then length. */
static int
dump_member_cmp(const struct dump_member *x, const struct dump_member *y)
{
	int c = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);

	if (c != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

static int
dump_member_qcmp(const void *a, const void *b)
{
	return dump_member_cmp(a, b);
}

static int dump_value(struct dumper *d, const json_t *v, int depth);

static int
dump_object(struct dumper *d, const json_t *v, int depth)
{
	struct dump_member small[32], *m = small;
	size_t n = json_object_size(v), i = 0, j;
	void *it;
	int rc = 0;

	dump_put(d, "{", 1);
	if (n == 0) {
		dump_put(d, "}", 1);
		return 0;
	}
	if (n > sizeof(small) / sizeof(small[0]) && (m = malloc(n * sizeof(*m))) == NULL)
		return -1;
	for (it = json_object_iter((json_t *)v); it != NULL && i < n;
	    it = json_object_iter_next((json_t *)v, it), i++) {
		m[i].key = json_object_iter_key(it);
#if JANSSON_VERSION_HEX >= 0x020e00
		m[i].len = json_object_iter_key_len(it);
#else
		m[i].len = strlen(m[i].key);
#endif
		m[i].value = json_object_iter_value(it);
	}
	n = i;
	if (d->flags & JSON_SORT_KEYS) {
		if (n > 16) {
			qsort(m, n, sizeof(*m), dump_member_qcmp);
		} else {
			for (i = 1; i < n; i++) {
				struct dump_member x = m[i];
				for (j = i; j > 0 && dump_member_cmp(&m[j - 1], &x) > 0; j--)
					m[j] = m[j - 1];
				m[j] = x;
			}
		}
	}
	dump_indent(d, depth + 1, false);
	for (i = 0; i < n && rc == 0; i++) {
		(void)dump_string(d, m[i].key, m[i].len); /* jansson ignores a bad key too */
		if (d->flags & JSON_COMPACT)
			dump_put(d, ":", 1);
		else
			dump_put(d, ": ", 2);
		rc = dump_value(d, m[i].value, depth + 1);
		if (rc == 0 && i + 1 < n) {
			dump_put(d, ",", 1);
			dump_indent(d, depth + 1, true);
		} else if (rc == 0) {
			dump_indent(d, depth, false);
		}
	}
	if (m != small)
		free(m);
	if (rc == 0)
		dump_put(d, "}", 1);
	return rc;
}

static int
dump_value(struct dumper *d, const json_t *v, int depth)
{
	char buf[64];
	size_t i, n;
	int len;

	if (v == NULL || depth > DUMP_MAX_DEPTH)
		return -1;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return dump_object(d, v, depth);
	case JSON_ARRAY:
		n = json_array_size(v);
		dump_put(d, "[", 1);
		if (n == 0) {
			dump_put(d, "]", 1);
			return 0;
		}
		dump_indent(d, depth + 1, false);
		for (i = 0; i < n; i++) {
			if (dump_value(d, json_array_get(v, i), depth + 1) != 0)
				return -1;
			if (i + 1 < n) {
				dump_put(d, ",", 1);
				dump_indent(d, depth + 1, true);
			} else {
				dump_indent(d, depth, false);
			}
		}
		dump_put(d, "]", 1);
		return 0;
	case JSON_STRING:
		return dump_string(d, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		len = snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		if (len < 0 || (size_t)len >= sizeof(buf))
			return -1;
		dump_put(d, buf, (size_t)len);
		return 0;
	case JSON_TRUE:
		dump_put(d, "true", 4);
		return 0;
	case JSON_FALSE:
		dump_put(d, "false", 5);
		return 0;
	case JSON_NULL:
		dump_put(d, "null", 4);
		return 0;
	default: {
		/* reals: jansson's own formatting, precision flag and all */
		char *s = json_dumps(v, d->flags | JSON_ENCODE_ANY);

		if (s == NULL)
			return -1;
		dump_put(d, s, strlen(s));
		free(s);
		return 0;
	}
	}
}

int
planner_json_dump(const json_t *v, size_t flags, json_dump_callback_t cb, void *data)
{
	struct dumper *d;
	int rc;

	if (flags & (JSON_ESCAPE_SLASH | JSON_EMBED))
		return json_dump_callback(v, cb, data, flags);
	if (!(flags & JSON_ENCODE_ANY) && !json_is_object(v) && !json_is_array(v))
		return -1;
	if ((d = malloc(sizeof(*d))) == NULL)
		return -1;
	d->cb = cb;
	d->data = data;
	d->flags = flags;
	d->indent = (unsigned)(flags & JSON_MAX_INDENT);
	d->failed = false;
	d->len = 0;
	rc = dump_value(d, v, 0);
	if (rc == 0)
		dump_flush(d);
	rc = rc != 0 || d->failed ? -1 : 0;
	free(d);
	return rc;
}

struct dump_text {
	char *s;
	size_t len, cap;
};

static int
dump_text_cb(const char *buf, size_t size, void *data)
{
	struct dump_text *t = data;

	if (size + 2 > t->cap - t->len) {
		/* doubling: for big texts realloc moves pages, not bytes */
		size_t cap = t->cap == 0 ? DUMP_CHUNK : t->cap;
		char *s;

		while (size + 2 > cap - t->len)
			cap *= 2;
		if ((s = realloc(t->s, cap)) == NULL)
			return -1;
		t->s = s;
		t->cap = cap;
	}
	memcpy(t->s + t->len, buf, size);
	t->len += size;
	return 0;
}

char *
planner_json_dumps(const json_t *v, size_t flags, bool newline, size_t *len)
{
	struct dump_text t = { 0 };

	if (planner_json_dump(v, flags, dump_text_cb, &t) != 0 || dump_text_cb("", 0, &t) != 0) {
		free(t.s);
		return NULL;
	}
	if (newline)
		t.s[t.len++] = '\n';
	t.s[t.len] = '\0';
	if (len != NULL)
		*len = t.len;
	return t.s;
}

/* ------------------------------------------------------------------ */
/* Entry points */

static int
hash_cb(const char *buf, size_t size, void *data)
{
	sha256_update(data, buf, size);
	return 0;
}

/*
 * Hashing beside the dump: the text goes through a small ring of chunks to
 * a second thread that hashes them, so a plan's id costs the longer of
 * the two instead of their sum.  Used for the plan id only, which nothing
 * else runs beside; the fingerprints already have a thread of their own.
 */
#define HASH_CHUNK ((size_t)256 << 10)
#define HASH_SLOTS 4

struct hash_pipe {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct sha256 *s;
	char *buf[HASH_SLOTS];
	size_t len[HASH_SLOTS];
	size_t produced, consumed; /* chunks handed over and chunks hashed */
	bool done;
};

static void *
hash_pipe_run(void *arg)
{
	struct hash_pipe *h = arg;
	size_t slot;

	pthread_mutex_lock(&h->mu);
	for (;;) {
		while (h->consumed == h->produced && !h->done)
			pthread_cond_wait(&h->cv, &h->mu);
		if (h->consumed == h->produced)
			break;
		slot = h->consumed % HASH_SLOTS;
		pthread_mutex_unlock(&h->mu);
		sha256_update(h->s, h->buf[slot], h->len[slot]);
		pthread_mutex_lock(&h->mu);
		h->consumed++;
		pthread_cond_broadcast(&h->cv);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

/* Hands the filling chunk over, waiting for a free one. */
static void
hash_pipe_publish(struct hash_pipe *h)
{
	pthread_mutex_lock(&h->mu);
	h->produced++;
	pthread_cond_broadcast(&h->cv);
	while (h->produced - h->consumed >= HASH_SLOTS)
		pthread_cond_wait(&h->cv, &h->mu);
	h->len[h->produced % HASH_SLOTS] = 0;
	pthread_mutex_unlock(&h->mu);
}

static int
hash_pipe_cb(const char *buf, size_t size, void *data)
{
	struct hash_pipe *h = data;

	while (size > 0) {
		/* only this thread touches the filling slot until it is published */
		size_t slot = h->produced % HASH_SLOTS, n = HASH_CHUNK - h->len[slot];

		if (n > size)
			n = size;
		memcpy(h->buf[slot] + h->len[slot], buf, n);
		h->len[slot] += n;
		buf += n;
		size -= n;
		if (h->len[slot] == HASH_CHUNK)
			hash_pipe_publish(h);
	}
	return 0;
}

/* The canonical text of v into s, hashed on a second thread when one can be had. */
static int
hash_dump_piped(const json_t *v, struct sha256 *s)
{
	struct hash_pipe h;
	pthread_t t;
	bool mu = false, cv = false;
	size_t i;
	int rc;

	memset(&h, 0, sizeof(h));
	h.s = s;
	for (i = 0; i < HASH_SLOTS; i++)
		if ((h.buf[i] = malloc(HASH_CHUNK)) == NULL)
			break;
	if (i < HASH_SLOTS || !(mu = pthread_mutex_init(&h.mu, NULL) == 0) ||
	    !(cv = pthread_cond_init(&h.cv, NULL) == 0) ||
	    pthread_create(&t, NULL, hash_pipe_run, &h) != 0) {
		/* no second thread: hash as the text comes */
		rc = planner_json_dump(v, JSON_CANONICAL | JSON_ENCODE_ANY, hash_cb, s);
		goto done;
	}
	rc = planner_json_dump(v, JSON_CANONICAL | JSON_ENCODE_ANY, hash_pipe_cb, &h);
	pthread_mutex_lock(&h.mu);
	if (h.len[h.produced % HASH_SLOTS] > 0)
		h.produced++;
	h.done = true;
	pthread_cond_broadcast(&h.cv);
	pthread_mutex_unlock(&h.mu);
	pthread_join(t, NULL);
done:
	if (cv)
		pthread_cond_destroy(&h.cv);
	if (mu)
		pthread_mutex_destroy(&h.mu);
	for (i = 0; i < HASH_SLOTS; i++)
		free(h.buf[i]);
	return rc;
}

/*
 * The SHA-256 of json_dump_canonical(v), computed as the text is produced
 * instead of from a copy of it: a large estate's canonical text is tens of
 * megabytes.
 */
static int
hash_canonical(const json_t *v, bool piped, char hex[SHA256_HEX_LEN])
{
	static const char digits[] = "0123456789abcdef";
	uint8_t d[SHA256_DIGEST_LEN];
	struct sha256 s;
	int i;

	sha256_init(&s);
	if ((piped ? hash_dump_piped(v, &s) :
	    planner_json_dump(v, JSON_CANONICAL | JSON_ENCODE_ANY, hash_cb, &s)) != 0)
		return NW_ENOMEM;
	sha256_update(&s, "\n", 1);
	sha256_final(&s, d);
	for (i = 0; i < SHA256_DIGEST_LEN; i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 15];
	}
	hex[64] = '\0';
	return 0;
}

int
planner_fingerprint(char out[PLANNER_FINGERPRINT_LEN], const struct topology *t, struct nw_err *err)
{
	char hex[SHA256_HEX_LEN];
	json_t *canonical = topology_canonical_root(t->root);
	int rc = NW_ENOMEM;

	/* the same text as topology_dump, hashed as it is produced */
	if (canonical != NULL)
		rc = hash_canonical(canonical, false, hex);
	json_decref(canonical);
	if (rc != 0)
		return err_set(err, NW_ENOMEM, "out of memory computing a fingerprint");
	snprintf(out, PLANNER_FINGERPRINT_LEN, "sha256:%s", hex);
	return 0;
}

/*
 * The two fingerprints are two canonical dumps of large documents and
 * depend on nothing else the planner does, so they run beside it.  Both
 * threads only read the topologies (jansson's reference counts are atomic).
 */
struct fp_job {
	const struct topology *cur, *tgt;
	char fc[PLANNER_FINGERPRINT_LEN], ft[PLANNER_FINGERPRINT_LEN];
	struct nw_err err;
	int rc;
};

static void *
fp_run(void *arg)
{
	struct fp_job *j = arg;

	j->rc = planner_fingerprint(j->fc, j->cur, &j->err);
	if (j->rc == 0)
		j->rc = planner_fingerprint(j->ft, j->tgt, &j->err);
	return NULL;
}

static int
onprem_collect(struct plan_ctx *p)
{
	size_t i, k, n = 0, total = 0;

	for (i = 0; i < p->cur->ncircuits; i++)
		total += p->cur->circuits[i].nroutes;
	p->onprem = calloc(total + 1, sizeof(*p->onprem));
	if (p->onprem == NULL)
		return plan_nomem(p);
	for (i = 0; i < p->cur->ncircuits; i++)
		for (k = 0; k < p->cur->circuits[i].nroutes; k++)
			p->onprem[n++] = p->cur->circuits[i].routes[k].prefix;
	cidr_sort(p->onprem, n);
	for (i = 0, k = 0; i < n; i++)
		if (k == 0 || !cidr_equal(&p->onprem[k - 1], &p->onprem[i]))
			p->onprem[k++] = p->onprem[i];
	p->nonprem = k;
	return 0;
}

static void
ctx_free(struct plan_ctx *p)
{
	size_t i;

	for (i = 0; i < p->nw; i++)
		plan_wave_free(&p->w[i]);
	free(p->w);
	for (i = 0; procedures[i] != NULL; i++)
		if (procedures[i]->state_free != NULL)
			procedures[i]->state_free(p->state[i]);
	free(p->is_hub);
	free(p->onprem);
	routes_ctx_free(p->cur_ctx);
	json_decref(p->blockers);
	json_decref(p->findings);
	json_decref(p->prereqs);
	json_decref(p->limits);
	json_decref(p->inspected);
	diff_free(&p->diff);
	if (p->ro_parsed)
		intent_rollout_free(&p->ro);
}

static int
plan_id(json_t *plan, struct plan_ctx *p)
{
	json_t *copy = json_copy(plan);
	char hex[SHA256_HEX_LEN], id[3 + 12 + 1];
	int rc;

	if (copy == NULL)
		return plan_nomem(p);
	json_object_del(copy, "id");
	json_object_del(copy, "createdAt");
	rc = hash_canonical(copy, true, hex);
	json_decref(copy);
	if (rc != 0)
		return plan_nomem(p);
	snprintf(id, sizeof(id), "pl-%.12s", hex);
	json_object_set_new(plan, "id", json_string(id));
	return 0;
}

static int
cmp_json_finding(const void *a, const void *b)
{
	static const char *const order[] = { "error", "warning", "info", NULL };
	const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
	int sx = 3, sy = 3, i, c;

	for (i = 0; order[i] != NULL; i++) {
		if (json_str(x, "severity") && strcmp(json_str(x, "severity"), order[i]) == 0)
			sx = i;
		if (json_str(y, "severity") && strcmp(json_str(y, "severity"), order[i]) == 0)
			sy = i;
	}
	if (sx != sy)
		return sx - sy;
	c = strcmp(json_str(x, "code"), json_str(y, "code"));
	return c;
}

/* Findings: errors first, then by code; the order within a code is the order found (stable). */
static json_t *
sorted_findings(json_t *f)
{
	size_t n = json_array_size(f), i, j;
	json_t **v = malloc((n + 1) * sizeof(*v)), *out = json_array();

	if (v == NULL || out == NULL) {
		free(v);
		json_decref(out);
		return NULL;
	}
	for (i = 0; i < n; i++)
		v[i] = json_array_get(f, i);
	/* insertion sort: stable, and the lists are short */
	for (i = 1; i < n; i++) {
		json_t *x = v[i];
		for (j = i; j > 0 && cmp_json_finding(&v[j - 1], &x) > 0; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	for (i = 0; i < n; i++)
		json_array_append(out, v[i]);
	free(v);
	return out;
}


/* The context: the notes, the hubs, the rollout, each procedure's state. */
static int
ctx_init(struct plan_ctx *p, const struct topology *cur, const struct topology *tgt,
    const struct planner_opts *opts, struct nw_err *err)
{
	size_t i;
	int rc;

	p->cur = cur;
	p->tgt = tgt;
	p->o = opts;
	p->err = err;
	p->blockers = json_array();
	p->findings = json_array();
	p->prereqs = json_array();
	p->limits = json_array();
	p->inspected = json_array();
	p->is_hub = calloc(cur->nvnets + 1, sizeof(*p->is_hub));
	if (p->blockers == NULL || p->findings == NULL || p->prereqs == NULL || p->limits == NULL ||
	    p->inspected == NULL || p->is_hub == NULL)
		return plan_nomem(p);
	for (i = 0; procedures[i] != NULL; i++) {
		assert(i < PLAN_MAX_PROCEDURES);
		if (procedures[i]->state_new != NULL && procedures[i]->state_new(p, &p->state[i]) != 0)
			return plan_nomem(p);
	}
	for (i = 0; i < cur->nvnets; i++)
		p->is_hub[i] = findings_is_hub(&cur->vnets[i]);
	rc = intent_rollout_parse(&p->ro, json_object_get(tgt->root, "x-netwave-rollout"), tgt->source,
	    "/x-netwave-rollout", err);
	if (rc != 0)
		return rc;
	p->ro_parsed = true;
	p->sample = opts != NULL && opts->sample_size > 0 ? opts->sample_size :
	    p->ro.sample_size > 0 ? (unsigned)p->ro.sample_size : PLANNER_DEFAULT_SAMPLE;
	return 0;
}

#define EACH_PHASE(p, rc, fn) do { \
	for (size_t k_ = 0; procedures[k_] != NULL && (rc) == 0; k_++) \
		if (procedures[k_]->fn != NULL) \
			(rc) = procedures[k_]->fn(p); \
} while (0)

/* Phases 1 to 6: diff, detect, claim, check, waves, rehearsal. */
static int
run_phases(struct plan_ctx *p)
{
	int rc = diff_topologies(&p->diff, p->cur, p->tgt, p->err);

	if (rc == 0)
		rc = routes_ctx_new(&p->cur_ctx, p->cur, p->err);
	if (rc == 0)
		rc = onprem_collect(p);
	EACH_PHASE(p, rc, detect);
	if (rc == 0)
		rc = claim_all(p);
	if (rc != 0)
		return rc;
	rg_claim(p);
	unclaimed_blockers(p);
	EACH_PHASE(p, rc, check);
	/* the waves, in phase order */
	EACH_PHASE(p, rc, waves);
	EACH_PHASE(p, rc, waves_last);
	if (rc == 0)
		rc = plan_rehearse(p);
	return rc;
}

/* The plan document around the waves. */
static int
assemble(json_t **out, struct plan_ctx *p, const struct fp_job *fj)
{
	json_t *plan = json_object(), *summary = json_object(), *changes = json_array();
	json_t *waves = NULL, *wb = NULL;
	const struct planner_opts *opts = p->o;
	time_t now = opts != NULL ? opts->now : 0;
	char when[32];
	struct tm tm;
	size_t i;
	int rc;

	if (plan == NULL || summary == NULL || changes == NULL) {
		json_decref(plan);
		json_decref(summary);
		json_decref(changes);
		return plan_nomem(p);
	}
	rc = plan_budget_finish(p, summary, &waves, &wb);
	for (i = 0; procedures[i] != NULL; i++)
		if (p->uses[i])
			json_array_append_new(changes, json_string(procedures[i]->name));
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_set_new(plan, "format", json_string(PLAN_FORMAT));
	json_object_set_new(plan, "createdAt", json_string(when));
	json_object_set_new(plan, "current", json_pack("{s:s, s:s}", "fingerprint", fj->fc, "source",
	    opts != NULL && opts->current_source != NULL ? opts->current_source : p->cur->source));
	json_object_set_new(plan, "target", json_pack("{s:s, s:s}", "fingerprint", fj->ft, "source",
	    opts != NULL && opts->target_source != NULL ? opts->target_source : p->tgt->source));
	json_object_set_new(plan, "subscriptions", json_object_get(p->cur->root, "subscriptions") != NULL ?
	    json_deep_copy(json_object_get(p->cur->root, "subscriptions")) : json_array());
	json_object_set_new(plan, "changes", changes);
	json_object_set_new(plan, "writeBudget", wb);
	json_object_set_new(plan, "summary", summary);
	json_object_set(plan, "prerequisites", p->prereqs);
	json_object_set(plan, "blockers", p->blockers);
	json_object_set_new(plan, "findings", sorted_findings(p->findings));
	json_object_set(plan, "limits", p->limits);
	json_object_set(plan, "inspected", p->inspected);
	json_object_set_new(plan, "waves", waves);
	if (rc == 0)
		rc = plan_id(plan, p);
	if (rc != 0) {
		json_decref(plan);
		return rc;
	}
	*out = plan;
	return 0;
}

int
planner_plan(json_t **out, const struct topology *cur, const struct topology *tgt,
    const struct planner_opts *opts, struct nw_err *err)
{
	struct plan_ctx p = { 0 };
	struct fp_job fj = { 0 };
	pthread_t fpt;
	bool fp_started = false;
	json_t *plan = NULL;
	int rc;

	*out = NULL;
	rc = ctx_init(&p, cur, tgt, opts, err);
	if (rc != 0)
		goto done;
	fj.cur = cur;
	fj.tgt = tgt;
	fp_started = pthread_create(&fpt, NULL, fp_run, &fj) == 0;
	if (!fp_started)
		fp_run(&fj);
	rc = run_phases(&p);
	if (rc != 0)
		goto done;
	if (fp_started) {
		pthread_join(fpt, NULL);
		fp_started = false;
	}
	if (fj.rc != 0) {
		*err = fj.err;
		rc = fj.rc;
		goto done;
	}
	rc = assemble(&plan, &p, &fj);
	if (rc != 0)
		goto done;
	if (json_array_size(p.blockers) > 0) {
		size_t nb = json_array_size(p.blockers);
		char more[64] = "";

		/* the first blocker and the count: the plan's blockers array has them all */
		if (nb > 1)
			snprintf(more, sizeof(more), " (%zu blockers in all)", nb);
		rc = err_set(err, NW_EFAIL, "the plan is blocked: %s%s",
		    json_str(json_array_get(p.blockers, 0), "message"), more);
	}
	*out = plan;
	plan = NULL;
done:
	if (fp_started)
		pthread_join(fpt, NULL);
	json_decref(plan);
	ctx_free(&p);
	return rc;
}
