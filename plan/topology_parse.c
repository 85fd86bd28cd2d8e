/*
 * The topology text parsed into jansson's tree with one node per distinct
 * string value (plan/topology_impl.h), for the documents netwave and ARM
 * write; anything else is left to json_loadb, which then gives the very
 * tree or error it always gave.
 *
 * Why: ARM repeats the same values across thousands of resources
 * ("Succeeded", "eastus", the child types, the hub VNet every peering
 * names).  In the 5,000-spoke bench estate 392,000 of the 542,000 string
 * values repeat one of 150,000, and jansson gives each its own node and
 * copy: about 39 MB of the document's 200 MB heap.  Sharing them after
 * jansson's parse frees that memory in small holes all over the
 * document, which the plan's own nodes then fill, so that freeing the
 * topology before the plan is written gives back less than it should;
 * here the repeats are never allocated.  Sharing changes no text and no
 * value: planning treats strings as immutable (the intent copies a node
 * it writes to when it is shared, plan/intent_expand.c), and a dump
 * writes a shared node where it stands, the same bytes.
 *
 * What is handled here: objects, arrays, strings of printable ASCII
 * without escapes, integers of at most 18 digits, true, false and null,
 * whitespace as JSON defines it.  A backslash, a control or non-ASCII
 * byte in a string, a real, a longer integer, a duplicate key or any
 * syntax error ends the attempt (NULL), and the caller parses with
 * jansson.  So does nesting deeper than the caller allows, and a NUL
 * byte anywhere: a text this parser takes needs no other check.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plan/topology_impl.h"

/* jansson's JSON_PARSER_MAX_DEPTH: deeper texts are jansson's to refuse */
#define PARSE_MAX_DEPTH 2048

/* ------------------------------------------------------------------ */
/* The string table: one node per distinct value                       */

struct intern_slot {
	json_t *s; /* NULL: empty */
	uint64_t hash;
};

struct intern_table {
	struct intern_slot *v;
	size_t cap, n;
};

/* A word at a time: the strings are tens of megabytes in all. */
static uint64_t
intern_hash(const char *s, size_t len)
{
	uint64_t h = 0x9E3779B97F4A7C15ULL ^ len, w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xFF51AFD7ED558CCDULL;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, s, len);
	h = (h ^ w) * 0xC4CEB9FE1A85EC53ULL;
	return h ^ (h >> 29);
}

static struct intern_slot *
intern_slot(const struct intern_table *t, const char *s, size_t len, uint64_t hash)
{
	size_t mask = t->cap - 1, i = (size_t)hash & mask;

	for (;; i = (i + 1) & mask) {
		struct intern_slot *e = &t->v[i];

		if (e->s == NULL)
			return e;
		if (e->hash == hash && json_string_length(e->s) == len &&
		    memcmp(json_string_value(e->s), s, len) == 0)
			return e;
	}
}

static int
intern_grow(struct intern_table *t)
{
	struct intern_slot *old = t->v;
	size_t oldcap = t->cap, i;

	t->cap = oldcap != 0 ? oldcap * 2 : 4096;
	if ((t->v = calloc(t->cap, sizeof(*t->v))) == NULL) {
		t->v = old;
		t->cap = oldcap;
		return -1;
	}
	for (i = 0; i < oldcap; i++)
		if (old[i].s != NULL)
			*intern_slot(t, json_string_value(old[i].s), json_string_length(old[i].s),
			    old[i].hash) = old[i];
	free(old);
	return 0;
}

/* A new reference to the node holding s[0..len), made the first time; NULL on out of memory. */
static json_t *
intern_get(struct intern_table *t, const char *s, size_t len)
{
	uint64_t h = intern_hash(s, len);
	struct intern_slot *e;

	if ((t->n + 1) * 2 > t->cap && intern_grow(t) != 0)
		return NULL;
	e = intern_slot(t, s, len, h);
	if (e->s == NULL) {
		if ((e->s = json_stringn_nocheck(s, len)) == NULL)
			return NULL;
		e->hash = h;
		t->n++;
	}
	return json_incref(e->s);
}

/* ------------------------------------------------------------------ */
/* The parser                                                          */

struct parser {
	const unsigned char *p, *end;
	int max_depth; /* containers nested deeper are left to the caller's checks */
	struct intern_table strings;
};

static json_t *parse_value(struct parser *ps, int depth);

static void
skip_space(struct parser *ps)
{
	while (ps->p < ps->end &&
	    (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
		ps->p++;
}

/* Might a byte of w end a plain string run ('"', '\\', below 0x20, 0x80 and up)? */
static inline bool
word_stops(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');

	return (((w - ones * 0x20) | (q - ones) | (b - ones) | w) & high) != 0;
}

/* At the opening quote: the string's bytes, when plain; NULL otherwise. */
static const char *
scan_string(struct parser *ps, size_t *len)
{
	const unsigned char *s = ++ps->p, *p = s;

	for (;;) {
		while (ps->end - p >= 8) {
			uint64_t w;

			memcpy(&w, p, 8);
			if (word_stops(w))
				break;
			p += 8;
		}
		if (p >= ps->end || *p == '\\' || *p < 0x20 || *p >= 0x80)
			return NULL; /* unterminated, an escape, or a byte jansson checks */
		if (*p == '"')
			break;
		p++;
	}
	*len = (size_t)(p - s);
	ps->p = p + 1;
	return (const char *)s;
}

/* -?(0|[1-9][0-9]*) of at most 18 digits, as jansson reads it; NULL for anything else. */
static json_t *
parse_integer(struct parser *ps)
{
	const unsigned char *p = ps->p;
	bool neg = false;
	json_int_t v = 0;
	int digits = 0;

	if (*p == '-') {
		neg = true;
		p++;
	}
	if (p < ps->end && *p == '0' && p + 1 < ps->end && p[1] >= '0' && p[1] <= '9')
		return NULL;
	for (; p < ps->end && *p >= '0' && *p <= '9'; p++) {
		if (++digits > 18)
			return NULL; /* jansson's to read or refuse */
		v = v * 10 + (*p - '0');
	}
	if (digits == 0 ||
	    (p < ps->end && (*p == '.' || *p == 'e' || *p == 'E')))
		return NULL;
	ps->p = p;
	return json_integer(neg ? -v : v);
}

static json_t *
parse_word(struct parser *ps, const char *word, json_t *(*make)(void))
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return NULL;
	ps->p += n;
	return make();
}

/* One member "key": value into obj; -1 when the text is not one this parser takes. */
static int
parse_member(struct parser *ps, json_t *obj, int depth)
{
	const char *key;
	size_t klen;
	json_t *v;

	if (ps->p >= ps->end || *ps->p != '"' || (key = scan_string(ps, &klen)) == NULL)
		return -1;
	/* a duplicate is an error jansson words */
	if (json_object_getn(obj, key, klen) != NULL)
		return -1;
	skip_space(ps);
	if (ps->p >= ps->end || *ps->p != ':')
		return -1;
	ps->p++;
	if ((v = parse_value(ps, depth + 1)) == NULL)
		return -1;
	return json_object_setn_new_nocheck(obj, key, klen, v) != 0 ? -1 : 0;
}

/* At '{' or '[': the container and its members or elements. */
static json_t *
parse_container(struct parser *ps, int depth)
{
	bool object = *ps->p == '{';
	json_t *c = object ? json_object() : json_array();
	json_t *v;

	ps->p++;
	skip_space(ps);
	if (c == NULL || depth >= ps->max_depth)
		goto fail;
	if (ps->p < ps->end && *ps->p == (object ? '}' : ']')) {
		ps->p++;
		return c;
	}
	for (;;) {
		skip_space(ps);
		if (object) {
			if (parse_member(ps, c, depth) != 0)
				goto fail;
		} else if ((v = parse_value(ps, depth + 1)) == NULL ||
		    json_array_append_new(c, v) != 0) {
			goto fail;
		}
		skip_space(ps);
		if (ps->p >= ps->end)
			goto fail;
		if (*ps->p == (object ? '}' : ']')) {
			ps->p++;
			return c;
		}
		if (*ps->p++ != ',')
			goto fail;
	}
fail:
	json_decref(c);
	return NULL;
}

static json_t *
parse_value(struct parser *ps, int depth)
{
	const char *s;
	size_t len;

	skip_space(ps);
	if (ps->p >= ps->end)
		return NULL;
	switch (*ps->p) {
	case '{':
	case '[':
		return parse_container(ps, depth);
	case '"':
		if ((s = scan_string(ps, &len)) == NULL)
			return NULL;
		return intern_get(&ps->strings, s, len);
	case 't':
		return parse_word(ps, "true", json_true);
	case 'f':
		return parse_word(ps, "false", json_false);
	case 'n':
		return parse_word(ps, "null", json_null);
	default:
		return parse_integer(ps);
	}
}

json_t *
tl_parse_text(const char *buf, size_t len, int max_depth)
{
#if JANSSON_VERSION_HEX >= 0x020e00
	struct parser ps = { (const unsigned char *)buf, (const unsigned char *)buf + len,
		max_depth < PARSE_MAX_DEPTH ? max_depth : PARSE_MAX_DEPTH, { 0 } };
	json_t *root = NULL;
	size_t i;

	skip_space(&ps);
	/* a document is an object or an array, followed by nothing but space */
	if (ps.p < ps.end && (*ps.p == '{' || *ps.p == '['))
		root = parse_container(&ps, 0);
	skip_space(&ps);
	if (root != NULL && ps.p != ps.end) {
		json_decref(root);
		root = NULL;
	}
	/* the table's references go; the document holds its own */
	for (i = 0; i < ps.strings.cap; i++)
		json_decref(ps.strings.v[i].s);
	free(ps.strings.v);
	return root;
#else
	/* json_object_getn and json_object_setn_new_nocheck came in jansson 2.14 */
	(void)buf;
	(void)len;
	(void)max_depth;
	return NULL;
#endif
}
