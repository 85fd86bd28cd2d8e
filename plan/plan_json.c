/*
 * The canonical JSON writer (plan_json.h): jansson's dump, byte for byte,
 * made fast, with a SHA-256 beside it so that a text can be hashed while
 * it is written.  Topology fingerprints hash the text as it comes and keep
 * none of it; a plan is written once into memory and hashed on the way for
 * its id, leaving out the two members the id does not cover, so the store
 * and the report take the very bytes that were hashed.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/jsonutil.h"
#include "plan/plan_json.h"
#include "plan/sha256.h"

/*
 * jansson's json_dump_callback, byte for byte, for the flags netwave
 * dumps with (JSON_INDENT(n), JSON_COMPACT, JSON_SORT_KEYS,
 * JSON_ENSURE_ASCII, JSON_ENCODE_ANY), about three times faster: a plan
 * of thousands of steps is written for its id, the store and the report,
 * and its topologies for their fingerprints, and jansson spends
 * most of that time checking every object for loops (a printf and a hash
 * table per object) and handing out output a few bytes at a time.  Here
 * the output goes out in large chunks, keys are sorted without a look-up
 * per key, and a depth limit stands in for the loop check (jansson's
 * parser stops at the same depth, so only a cycle reaches it).  Reals
 * and the flags we never use go to jansson itself.
 */

#define DUMP_CHUNK 65536
#define DUMP_MAX_DEPTH 2048 /* jansson's JSON_PARSER_MAX_DEPTH */

/* Where a member left out of the hash has its value in the text. */
struct dump_span {
	size_t at, end;
};

#define DUMP_SKIP_MAX 2

/*
 * Where a plan's step and gate bodies are (plan_text_compact): the node and
 * its text's distance from the end of the text, which stays right when
 * plan_text_set_created_at changes the length of a member before them.
 */
struct plan_text_span {
	const json_t *node;
	size_t from_end, len;
};

/* The spans a dumper collects: members named in capture_keys of the objects at depth 4. */
struct span_list {
	struct plan_text_span *v;
	size_t n, cap;
	bool failed;
};

#define CAPTURE_DEPTH 4 /* a step or gate object: plan, waves, a wave, steps or gates, the object */
static const char *const capture_keys[] = { "budget", "inverse", "operation", "params", NULL };

/*
 * A dumper either streams, handing its chunk to cb (or to the hash only,
 * without cb) whenever it fills, or grows: buf is then the whole text, made
 * larger as needed, and nothing is handed out.  Growing skips a copy of
 * the text and, for the many small bodies the store writes, a large chunk
 * per dump.
 */
struct dumper {
	json_dump_callback_t cb; /* NULL: the text only goes to the hash */
	void *data;
	bool grow;
	size_t flags;
	unsigned indent; /* spaces per level, 0 for none */
	bool failed;
	size_t out;      /* bytes handed to cb before buf */
	/*
	 * The hash, when there is one, takes the text as it goes out except
	 * while it is paused: buf[hash_from..len) is what it still has to take.
	 */
	struct sha256 *hash;
	bool hashing;
	size_t hash_from;
	/* top-level members left out of the hash (NULL-terminated), and where their values went */
	const char *const *skip;
	struct dump_span span[DUMP_SKIP_MAX];
	struct span_list *capture; /* NULL: none; from_end holds the start until the end is known */
	char *buf;
	size_t len, cap;
	char chunk[]; /* buf when streaming */
};

/* A streaming dumper (grow false), or a growing one that starts with cap bytes. */
static struct dumper *
dumper_new(size_t flags, json_dump_callback_t cb, void *data, bool grow, size_t cap)
{
	struct dumper *d = malloc(sizeof(*d) + (grow ? 0 : DUMP_CHUNK));

	if (d == NULL)
		return NULL;
	memset(d, 0, sizeof(*d));
	d->cb = cb;
	d->data = data;
	d->flags = flags;
	d->indent = (unsigned)(flags & JSON_MAX_INDENT);
	d->grow = grow;
	d->cap = grow ? cap : DUMP_CHUNK;
	d->buf = grow ? malloc(cap) : d->chunk;
	if (d->buf == NULL) {
		free(d);
		return NULL;
	}
	return d;
}

static void
dumper_free(struct dumper *d)
{
	if (d != NULL && d->grow)
		free(d->buf);
	free(d);
}

/* Bytes going out of the dumper: to the hash unless it is paused, and to the callback. */
static void
dump_emit(struct dumper *d, const char *s, size_t n)
{
	if (d->hash != NULL && d->hashing)
		sha256_update(d->hash, s, n);
	if (d->cb != NULL && !d->failed && d->cb(s, n, d->data) != 0)
		d->failed = true;
	d->out += n;
}

static void
dump_flush(struct dumper *d)
{
	if (d->grow)
		return; /* the text stays in buf */
	if (d->hash != NULL && d->hashing)
		sha256_update(d->hash, d->buf + d->hash_from, d->len - d->hash_from);
	if (d->len > 0 && d->cb != NULL && !d->failed && d->cb(d->buf, d->len, d->data) != 0)
		d->failed = true;
	d->out += d->len;
	d->len = 0;
	d->hash_from = 0;
}

/*
 * Makes room for n more bytes in buf: flushes a streaming dumper, grows a
 * growing one (doubling: for big texts realloc moves pages, not bytes).
 * False when they do not fit: more than a chunk, or out of memory (failed
 * is set then).
 */
static bool
dump_room(struct dumper *d, size_t n)
{
	size_t cap = d->cap;
	char *b;

	if (n <= d->cap - d->len)
		return true;
	if (!d->grow) {
		dump_flush(d);
		return n <= d->cap;
	}
	if (d->failed)
		return false;
	while (n > cap - d->len)
		cap *= 2;
	if ((b = realloc(d->buf, cap)) == NULL) {
		d->failed = true;
		return false;
	}
	d->buf = b;
	d->cap = cap;
	return true;
}

static void
dump_put(struct dumper *d, const char *s, size_t n)
{
	if (!dump_room(d, n)) {
		if (!d->grow)
			dump_emit(d, s, n);
		return;
	}
	memcpy(d->buf + d->len, s, n);
	d->len += n;
}

/* The text from here on goes to the callback only, until dump_hash_resume. */
static void
dump_hash_pause(struct dumper *d)
{
	if (d->hash != NULL && d->hashing) {
		sha256_update(d->hash, d->buf + d->hash_from, d->len - d->hash_from);
		d->hashing = false;
	}
}

static void
dump_hash_resume(struct dumper *d)
{
	if (d->hash != NULL && !d->hashing) {
		d->hashing = true;
		d->hash_from = d->len;
	}
}

/* The position in the whole text of the next byte. */
static size_t
dump_pos(const struct dumper *d)
{
	return d->out + d->len;
}

/* A newline and depth levels of indentation, or the space after a comma without indentation. */
static void
dump_indent(struct dumper *d, int depth, bool space)
{
	size_t n = (size_t)depth * d->indent;

	if (d->indent > 0) {
		if (!dump_room(d, n + 1)) {
			if (d->grow)
				return; /* out of memory: failed is set */
			/* deeper than a chunk: rare enough to go space by space */
			dump_put(d, "\n", 1);
			while (n-- > 0)
				dump_put(d, " ", 1);
			return;
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

static void
dump_key(struct dumper *d, const struct dump_member *m)
{
	(void)dump_string(d, m->key, m->len); /* jansson ignores a bad key too */
	if (d->flags & JSON_COMPACT)
		dump_put(d, ":", 1);
	else
		dump_put(d, ": ", 2);
}

/* Whether m is a member whose span d collects. */
static bool
capture_wanted(const struct dumper *d, const struct dump_member *m, int depth)
{
	if (d->capture == NULL || depth != CAPTURE_DEPTH || !json_is_object(m->value))
		return false;
	for (size_t k = 0; capture_keys[k] != NULL; k++)
		if (strlen(capture_keys[k]) == m->len && memcmp(capture_keys[k], m->key, m->len) == 0)
			return true;
	return false;
}

static void
capture_add(struct span_list *l, const json_t *node, size_t at, size_t end)
{
	struct plan_text_span *v = l->v;
	size_t cap = l->n < l->cap ? l->cap : 2 * l->cap + 1024;

	/* a step and a gate give two each: thousands for a large plan */
	if (cap > l->cap && (v = realloc(l->v, cap * sizeof(*v))) != NULL) {
		l->v = v;
		l->cap = cap;
	}
	if (l->n < l->cap)
		l->v[l->n++] = (struct plan_text_span){ node, at, end - at };
	else
		l->failed = true;
}

/* A member's value, its span collected when d wants it. */
static int
dump_member_value(struct dumper *d, const struct dump_member *m, int depth)
{
	size_t at;
	int rc;

	if (!capture_wanted(d, m, depth))
		return dump_value(d, m->value, depth + 1);
	at = dump_pos(d);
	rc = dump_value(d, m->value, depth + 1);
	if (rc == 0)
		capture_add(d->capture, m->value, at, dump_pos(d));
	return rc;
}

/* An object's members after its "{", and the indentation before its "}". */
static int
dump_members(struct dumper *d, const struct dump_member *m, size_t n, int depth)
{
	size_t i;
	int rc = 0;

	dump_indent(d, depth + 1, false);
	for (i = 0; i < n && rc == 0; i++) {
		dump_key(d, &m[i]);
		rc = dump_member_value(d, &m[i], depth);
		if (rc == 0 && i + 1 < n) {
			dump_put(d, ",", 1);
			dump_indent(d, depth + 1, true);
		} else if (rc == 0) {
			dump_indent(d, depth, false);
		}
	}
	return rc;
}

/* The index of m's key in d->skip, or -1. */
static int
dump_skip_index(const struct dumper *d, const struct dump_member *m)
{
	int k;

	for (k = 0; d->skip[k] != NULL && k < DUMP_SKIP_MAX; k++)
		if (strlen(d->skip[k]) == m->len && memcmp(d->skip[k], m->key, m->len) == 0)
			return k;
	return -1;
}

/*
 * The top-level members when some are left out of the hash: the text
 * has them all, the hash the text the object would have without them.
 * A member left out takes the separator after it along; when the members
 * kept all come first, the last of them ends the way the last member does.
 * With none kept the hash has "{}" (its "{" is already in).
 */
static int
dump_members_skipping(struct dumper *d, const struct dump_member *m, size_t n)
{
	size_t i, kept = 0, last_kept = 0;
	int rc = 0, k;

	for (i = 0; i < n; i++)
		if (dump_skip_index(d, &m[i]) < 0) {
			kept++;
			last_kept = i;
		}
	if (kept == 0) {
		/* the hash is done with this object: "{" is in, "}" goes in now */
		dump_hash_pause(d);
		sha256_update(d->hash, "}", 1);
	}
	dump_indent(d, 1, false);
	for (i = 0; i < n && rc == 0; i++) {
		if ((k = dump_skip_index(d, &m[i])) >= 0)
			dump_hash_pause(d);
		else
			dump_hash_resume(d);
		dump_key(d, &m[i]);
		if (k >= 0)
			d->span[k].at = dump_pos(d);
		rc = dump_value(d, m[i].value, 1);
		if (k >= 0)
			d->span[k].end = dump_pos(d);
		if (rc == 0 && kept > 0 && i == last_kept && i + 1 < n) {
			dump_hash_pause(d);
			sha256_update(d->hash, "\n", 1);
		}
		if (rc == 0 && i + 1 < n) {
			dump_put(d, ",", 1);
			dump_indent(d, 1, true);
		} else if (rc == 0) {
			dump_indent(d, 0, false);
		}
	}
	if (kept > 0)
		dump_hash_resume(d);
	return rc;
}

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
	if (depth == 0 && d->skip != NULL)
		rc = dump_members_skipping(d, m, n);
	else
		rc = dump_members(d, m, n, depth);
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

/* Writes v through d: 0, or -1 when the value, the callback or memory failed. */
static int
dump_run(struct dumper *d, const json_t *v)
{
	int rc;

	if (d == NULL)
		return -1;
	rc = dump_value(d, v, 0);
	if (rc == 0)
		dump_flush(d);
	return rc != 0 || d->failed ? -1 : 0;
}

/* A growing dumper's text, with a newline when asked and a NUL; d keeps none of it. */
static char *
dump_take(struct dumper *d, bool newline, size_t *len)
{
	char *text;

	if (!dump_room(d, 2))
		return NULL;
	if (newline)
		d->buf[d->len++] = '\n';
	d->buf[d->len] = '\0';
	text = d->buf;
	if (len != NULL)
		*len = d->len;
	d->buf = NULL;
	return text;
}

int
plan_json_dump(const json_t *v, size_t flags, json_dump_callback_t cb, void *data)
{
	struct dumper *d;
	int rc;

	if (flags & (JSON_ESCAPE_SLASH | JSON_EMBED))
		return json_dump_callback(v, cb, data, flags);
	if (!(flags & JSON_ENCODE_ANY) && !json_is_object(v) && !json_is_array(v))
		return -1;
	d = dumper_new(flags, cb, data, false, 0);
	rc = dump_run(d, v);
	dumper_free(d);
	return rc;
}

/* Where a growing text starts: most texts dumped whole are a request body of a kilobyte or two. */
#define DUMP_TEXT_START 1024

char *
plan_json_dumps(const json_t *v, size_t flags, bool newline, size_t *len)
{
	struct dumper *d;
	char *text = NULL;

	if (flags & (JSON_ESCAPE_SLASH | JSON_EMBED)) {
		/* jansson's own, for the flags the fast path leaves to it */
		if ((text = json_dumps(v, flags)) == NULL)
			return NULL;
		if (newline) {
			size_t n = strlen(text);
			char *t = realloc(text, n + 2);

			if (t == NULL) {
				free(text);
				return NULL;
			}
			text = t;
			memcpy(text + n, "\n", 2);
		}
		if (len != NULL)
			*len = strlen(text);
		return text;
	}
	if (!(flags & JSON_ENCODE_ANY) && !json_is_object(v) && !json_is_array(v))
		return NULL;
	d = dumper_new(flags, NULL, NULL, true, DUMP_TEXT_START);
	if (dump_run(d, v) == 0)
		text = dump_take(d, newline, len);
	dumper_free(d);
	return text;
}

/* ------------------------------------------------------------------ */
/* Hashes */

static void
digest_hex(struct sha256 *s, char hex[SHA256_HEX_LEN])
{
	static const char digits[] = "0123456789abcdef";
	uint8_t dg[SHA256_DIGEST_LEN];
	int i;

	sha256_final(s, dg);
	for (i = 0; i < SHA256_DIGEST_LEN; i++) {
		hex[2 * i] = digits[dg[i] >> 4];
		hex[2 * i + 1] = digits[dg[i] & 15];
	}
	hex[64] = '\0';
}

int
plan_json_fingerprint(char out[PLAN_JSON_FINGERPRINT_LEN], const struct topology *t,
    struct nw_err *err)
{
	char hex[SHA256_HEX_LEN];
	json_t *canonical = topology_canonical_root(t->root);
	struct dumper *d = NULL;
	struct sha256 s;
	int rc = -1;

	/* the SHA-256 of topology_dump's text, hashed as it is written: none of it is kept */
	sha256_init(&s);
	if (canonical != NULL &&
	    (d = dumper_new(JSON_CANONICAL | JSON_ENCODE_ANY, NULL, NULL, false, 0)) != NULL) {
		d->hash = &s;
		d->hashing = true;
		rc = dump_run(d, canonical);
	}
	dumper_free(d);
	json_decref(canonical);
	if (rc != 0)
		return err_set(err, NW_ENOMEM, "out of memory computing a fingerprint");
	sha256_update(&s, "\n", 1);
	digest_hex(&s, hex);
	snprintf(out, PLAN_JSON_FINGERPRINT_LEN, "sha256:%s", hex);
	return 0;
}

/* ------------------------------------------------------------------ */
/* A plan's id and text */

/* The id's place in the text until the hash is known: as long as an id. */
static const char id_placeholder[PLAN_JSON_ID_LEN] = "pl-000000000000";

/* The two members of a plan its id does not cover, in the order of dumper.span. */
static const char *const seal_skip[] = { "createdAt", "id", NULL };
enum { SEAL_CREATED_AT, SEAL_ID };

/* Where a plan's text starts growing: a small plan's size; a large one doubles it a few times. */
#define SEAL_TEXT_START ((size_t)1 << 20)

static int
text_span_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct plan_text_span *)a)->node;
	uintptr_t y = (uintptr_t)((const struct plan_text_span *)b)->node;

	return x < y ? -1 : x > y;
}

/*
 * Ends the text with a newline and a NUL, puts the id in its place, notes
 * where createdAt is, and keeps the bodies' spans (sorted by node) unless
 * collecting them ran out of memory: plan_text_compact then has none.
 */
static int
seal_text_finish(struct plan_text *text, struct dumper *d, struct span_list *bodies, const char *id)
{
	const struct dump_span *span = d->span;

	/* the value is the quoted placeholder: the id goes between the quotes */
	if (span[SEAL_ID].end - span[SEAL_ID].at != PLAN_JSON_ID_LEN + 1)
		return -1;
	if ((text->s = dump_take(d, true, &text->len)) == NULL)
		return -1;
	memcpy(text->s + span[SEAL_ID].at + 1, id, PLAN_JSON_ID_LEN - 1);
	text->created_at = span[SEAL_CREATED_AT].at;
	text->created_len = span[SEAL_CREATED_AT].end - span[SEAL_CREATED_AT].at;
	if (bodies->failed || bodies->n == 0)
		return 0;
	for (size_t i = 0; i < bodies->n; i++)
		bodies->v[i].from_end = text->len - bodies->v[i].from_end;
	qsort(bodies->v, bodies->n, sizeof(*bodies->v), text_span_cmp);
	text->spans = bodies->v;
	text->nspans = bodies->n;
	bodies->v = NULL;
	return 0;
}

int
plan_json_seal(json_t *plan, struct plan_text *text, struct nw_err *err)
{
	struct dumper *d = NULL;
	struct span_list bodies = { 0 };
	struct sha256 s;
	json_t *old = json_incref(json_object_get(plan, "id"));
	char hex[SHA256_HEX_LEN], id[PLAN_JSON_ID_LEN];
	int rc = -1;

	if (text != NULL)
		memset(text, 0, sizeof(*text));
	sha256_init(&s);
	/*
	 * One pass: the text (id placeholder and all) to memory, and to the
	 * hash all of it but "createdAt" and "id"; the id is then written
	 * over its placeholder.  Without text, the hash only.
	 */
	if (json_is_object(plan) && json_object_set_new(plan, "id", json_string(id_placeholder)) == 0 &&
	    (d = dumper_new(JSON_CANONICAL | JSON_ENCODE_ANY, NULL, NULL, text != NULL,
	    SEAL_TEXT_START)) != NULL) {
		d->hash = &s;
		d->hashing = true;
		d->skip = seal_skip;
		d->capture = text != NULL ? &bodies : NULL;
		rc = dump_run(d, plan);
	}
	if (rc == 0) {
		/* a growing dumper hashes at the end what it has not handed out */
		dump_hash_pause(d);
		sha256_update(&s, "\n", 1);
		digest_hex(&s, hex);
		snprintf(id, sizeof(id), "pl-%.12s", hex);
		rc = json_object_set_new(plan, "id", json_string(id));
	}
	if (rc == 0 && text != NULL)
		rc = seal_text_finish(text, d, &bodies, id);
	if (rc != 0) {
		/* the plan as it came */
		if (old != NULL)
			json_object_set(plan, "id", old);
		else if (json_is_object(plan))
			json_object_del(plan, "id");
		rc = err_set(err, NW_ENOMEM, "out of memory writing the plan");
	}
	dumper_free(d);
	free(bodies.v);
	json_decref(old);
	return rc;
}

int
plan_text_set_created_at(struct plan_text *text, json_t *plan, const char *when,
    struct nw_err *err)
{
	json_t *v = json_string(when);
	char *q = NULL, *s;
	size_t qlen = 0, tail;
	int rc = 0;

	if (v == NULL || (q = plan_json_dumps(v, JSON_CANONICAL | JSON_ENCODE_ANY, false, &qlen)) == NULL) {
		rc = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	if (text->s == NULL || text->created_len == 0) {
		rc = err_set(err, NW_EFAIL, "cannot set the creation time: the plan text has none");
		goto done;
	}
	tail = text->len - text->created_at - text->created_len;
	if (qlen > text->created_len) {
		if ((s = realloc(text->s, text->len - text->created_len + qlen + 1)) == NULL) {
			rc = err_set(err, NW_ENOMEM, "out of memory");
			goto done;
		}
		text->s = s;
	}
	/* the tail and its NUL move over when the new time is not as long as the old one */
	memmove(text->s + text->created_at + qlen, text->s + text->created_at + text->created_len,
	    tail + 1);
	memcpy(text->s + text->created_at, q, qlen);
	text->len = text->len - text->created_len + qlen;
	text->created_len = qlen;
	if (json_object_set_new(plan, "createdAt", v) != 0)
		rc = err_set(err, NW_ENOMEM, "out of memory");
	v = NULL;
done:
	json_decref(v);
	free(q);
	return rc;
}

char *
plan_text_compact(const struct plan_text *text, const json_t *v, size_t *len)
{
	struct plan_text_span key = { v, 0, 0 };
	const struct plan_text_span *sp;
	const char *in, *end;
	char *out, *o;
	bool quoted = false;

	if (text->nspans == 0 ||
	    (sp = bsearch(&key, text->spans, text->nspans, sizeof(*sp), text_span_cmp)) == NULL ||
	    sp->from_end > text->len || (out = malloc(sp->len + 1)) == NULL)
		return NULL;
	in = text->s + text->len - sp->from_end;
	end = in + sp->len;
	/* outside strings the canonical text adds only a newline and indentation, and ": " for ":" */
	for (o = out; in < end; in++) {
		if (quoted) {
			*o++ = *in;
			if (*in == '"') {
				quoted = false;
			} else if (*in == '\\' && in + 1 < end) {
				if (in[1] == 'u')
					break; /* maybe a non-ASCII character, raw in the compact text */
				*o++ = *++in;
			}
		} else if (*in != '\n' && *in != ' ') {
			quoted = *in == '"';
			*o++ = *in;
		}
	}
	if (in < end) {
		free(out);
		return NULL;
	}
	*o = '\0';
	*len = (size_t)(o - out);
	return out;
}

void
plan_text_clear(struct plan_text *text)
{
	if (text == NULL)
		return;
	free(text->s);
	free(text->spans);
	memset(text, 0, sizeof(*text));
}
