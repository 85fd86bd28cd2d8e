/*
 * IPv4 and IPv6 prefixes for the rest of netwave: strict parsing (what ARM
 * rejects, we reject first, with a message that says why), RFC 5952
 * formatting, prefix arithmetic, the longest-prefix-match table the route
 * engine and the emulator look routes up in, and the aggregation behind
 * summarize-gateway-prefixes.  Pure computation: no I/O, no global state.
 */
#include "config.h"

#include <assert.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/cidr.h"

/* Longest address text we try to read; the longest valid one is 45. */
#define ADDR_TEXT_MAX 64
/* Room for the reason part of a parse message. */
#define WHY_MAX 192
/* How much of a bad input a message quotes before eliding it. */
#define QUOTE_MAX 96

/* ---- small helpers ------------------------------------------------------ */

static unsigned
family_max_len(unsigned family)
{
	return family == 6 ? 128 : 32;
}

static bool
cidr_valid(const struct cidr *c)
{
	return (c->family == 4 || c->family == 6) && c->len <= family_max_len(c->family);
}

/* Clears every bit of addr from bit `len` on. */
static void
addr_mask(uint8_t addr[16], unsigned len)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned start = 8 * i;

		if (len >= start + 8)
			continue;
		if (len <= start)
			addr[i] = 0;
		else
			addr[i] &= (uint8_t)(0xff << (8 - (len - start)));
	}
}

/* A copy of c with family-foreign bytes and host bits cleared. */
static struct cidr
cidr_canon(const struct cidr *c)
{
	struct cidr r = *c;

	addr_mask(r.addr, r.len);
	return r;
}

/*
 * The input as a message may quote it: quotes, backslashes and
 * non-printable bytes escaped, long inputs cut, so a hostile string
 * cannot forge or flood a message.
 */
static void
quote_input(char *dst, size_t n, const char *s)
{
	size_t o = 0;

	assert(n > 8);
	if (s == NULL)
		s = "";
	for (size_t i = 0; s[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)s[i];
		char tmp[8];
		size_t k;

		if (i >= QUOTE_MAX) {
			snprintf(tmp, sizeof(tmp), "...");
		} else if (ch == '"' || ch == '\\') {
			snprintf(tmp, sizeof(tmp), "\\%c", ch);
		} else if (ch < 0x20 || ch >= 0x7f) {
			snprintf(tmp, sizeof(tmp), "\\x%02x", ch);
		} else {
			tmp[0] = (char)ch;
			tmp[1] = '\0';
		}
		k = strlen(tmp);
		if (o + k + 1 > n)
			break;
		memcpy(dst + o, tmp, k);
		o += k;
		if (i >= QUOTE_MAX)
			break;
	}
	dst[o] = '\0';
}

/* A character for a message: printable as is, anything else escaped. */
static void
quote_char(char buf[8], char ch)
{
	unsigned char u = (unsigned char)ch;

	if (u >= 0x21 && u < 0x7f && u != '\'' && u != '\\')
		snprintf(buf, 8, "%c", ch);
	else
		snprintf(buf, 8, "\\x%02x", u);
}

/* ---- parsing ------------------------------------------------------------ */

/*
 * Strict dotted quad: exactly four decimal octets, each 0..255, no
 * leading zeros (ARM and modern inet_pton read "010" differently, so we
 * refuse to guess).  `what` names it in messages ("" or "embedded IPv4 ").
 */
static int
parse_v4(uint8_t out[4], const char *s, size_t n, const char *what,
    char why[WHY_MAX])
{
	size_t parts = 1, i, start;
	unsigned octet = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			parts++;
		} else if (s[i] < '0' || s[i] > '9') {
			char ch[8];

			quote_char(ch, s[i]);
			snprintf(why, WHY_MAX, "bad character '%s' in %saddress%s",
			    ch, what, what[0] == '\0' ? " (want a dotted IPv4 "
			    "or an IPv6 address)" : "");
			return -1;
		}
	}
	if (parts < 4) {
		snprintf(why, WHY_MAX, "too few octets in %saddress (%zu, want 4)",
		    what, parts);
		return -1;
	}
	if (parts > 4) {
		snprintf(why, WHY_MAX, "too many octets in %saddress (%zu, want 4)",
		    what, parts);
		return -1;
	}
	start = 0;
	for (i = 0; i <= n; i++) {
		size_t len;
		unsigned v = 0;

		if (i < n && s[i] != '.')
			continue;
		len = i - start;
		if (len == 0) {
			snprintf(why, WHY_MAX, "octet %u of %saddress is empty",
			    octet + 1, what);
			return -1;
		}
		if (len > 1 && s[start] == '0') {
			snprintf(why, WHY_MAX, "octet %u \"%.*s\" of %saddress has a "
			    "leading zero", octet + 1, (int)(len > 8 ? 8 : len),
			    s + start, what);
			return -1;
		}
		for (size_t k = start; k < i && v <= 255; k++)
			v = v * 10 + (unsigned)(s[k] - '0');
		if (len > 3 || v > 255) {
			snprintf(why, WHY_MAX, "octet %u \"%.*s\" of %saddress is over 255",
			    octet + 1, (int)(len > 8 ? 8 : len), s + start, what);
			return -1;
		}
		out[octet++] = (uint8_t)v;
		start = i + 1;
	}
	return 0;
}

static int
hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * One run of groups separated by single colons (the part before or after
 * "::", or the whole address).  Writes up to 8 groups into g (an embedded
 * IPv4 address counts two) and sets *ng.  `last` says whether the run
 * ends the address, the only place an embedded IPv4 address may stand.
 */
static int
parse_v6_groups(uint16_t g[8], unsigned *ng, const char *s, size_t n, bool last,
    char why[WHY_MAX])
{
	size_t start = 0;

	*ng = 0;
	if (n == 0)
		return 0;
	for (size_t i = 0; i <= n; i++) {
		size_t len;
		const char *seg;
		unsigned v = 0;

		if (i < n && s[i] != ':')
			continue;
		seg = s + start;
		len = i - start;
		start = i + 1;
		if (len == 0) {
			snprintf(why, WHY_MAX, "empty IPv6 group (a lone ':' at "
			    "the start or end, or between groups)");
			return -1;
		}
		if (memchr(seg, '.', len) != NULL) {
			uint8_t b[4];

			if (!last || i != n) {
				snprintf(why, WHY_MAX, "bad IPv6 group \"%.*s\" (an "
				    "embedded IPv4 address must come last)",
				    (int)(len > 16 ? 16 : len), seg);
				return -1;
			}
			if (parse_v4(b, seg, len, "embedded IPv4 ", why) != 0)
				return -1;
			if (*ng + 2 > 8) {
				snprintf(why, WHY_MAX, "too many IPv6 groups "
				    "(more than 8)");
				return -1;
			}
			g[(*ng)++] = (uint16_t)(b[0] << 8 | b[1]);
			g[(*ng)++] = (uint16_t)(b[2] << 8 | b[3]);
			continue;
		}
		if (len > 4) {
			snprintf(why, WHY_MAX, "bad IPv6 group \"%.*s\" (more than 4 "
			    "hex digits)", (int)(len > 16 ? 16 : len), seg);
			return -1;
		}
		for (size_t k = 0; k < len; k++) {
			int h = hex_value(seg[k]);

			if (h < 0) {
				snprintf(why, WHY_MAX, "bad IPv6 group \"%.*s\" "
				    "(not hexadecimal)", (int)len, seg);
				return -1;
			}
			v = v << 4 | (unsigned)h;
		}
		if (*ng >= 8) {
			snprintf(why, WHY_MAX, "too many IPv6 groups (more than 8)");
			return -1;
		}
		g[(*ng)++] = (uint16_t)v;
	}
	return 0;
}

/* RFC 4291 section 2.2 text forms: full, "::" once, embedded IPv4 last. */
static int
parse_v6(uint8_t out[16], const char *s, size_t n, char why[WHY_MAX])
{
	uint16_t head[8], tail[8], g[8] = { 0 };
	unsigned nh = 0, nt = 0;
	const char *dc = NULL;

	for (size_t i = 0; i + 1 < n; i++) {
		if (s[i] == ':' && s[i + 1] == ':') {
			if (dc != NULL) {
				snprintf(why, WHY_MAX, "more than one \"::\" in IPv6 "
				    "address");
				return -1;
			}
			dc = s + i;
			i++;
			if (i + 1 < n && s[i + 1] == ':') {
				snprintf(why, WHY_MAX, "\":::\" in IPv6 address");
				return -1;
			}
		}
	}
	if (dc == NULL) {
		if (parse_v6_groups(g, &nh, s, n, true, why) != 0)
			return -1;
		if (nh < 8) {
			snprintf(why, WHY_MAX, "too few IPv6 groups (%u, want 8, "
			    "or \"::\" for a run of zeros)", nh);
			return -1;
		}
	} else {
		size_t hl = (size_t)(dc - s);

		if (parse_v6_groups(head, &nh, s, hl, false, why) != 0)
			return -1;
		if (parse_v6_groups(tail, &nt, dc + 2, n - hl - 2, true, why) != 0)
			return -1;
		if (nh + nt > 7) {
			snprintf(why, WHY_MAX, "too many IPv6 groups around \"::\" "
			    "(%u, at most 7)", nh + nt);
			return -1;
		}
		memcpy(g, head, nh * sizeof(g[0]));
		memcpy(g + 8 - nt, tail, nt * sizeof(g[0]));
	}
	for (unsigned i = 0; i < 8; i++) {
		out[2 * i] = (uint8_t)(g[i] >> 8);
		out[2 * i + 1] = (uint8_t)g[i];
	}
	return 0;
}

/* The length after "/": decimal, no sign, no leading zero, within range. */
static int
parse_len(unsigned *out, const char *s, unsigned max, unsigned family,
    char why[WHY_MAX])
{
	size_t n = strlen(s);
	unsigned v = 0;

	if (n == 0) {
		snprintf(why, WHY_MAX, "empty length after \"/\"");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9') {
			snprintf(why, WHY_MAX, "length \"%.*s\" is not a decimal "
			    "number", (int)(n > 16 ? 16 : n), s);
			return -1;
		}
	}
	if (n > 1 && s[0] == '0') {
		snprintf(why, WHY_MAX, "length \"%.*s\" has a leading zero",
		    (int)(n > 16 ? 16 : n), s);
		return -1;
	}
	for (size_t i = 0; i < n && v <= max; i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	if (n > 3 || v > max) {
		snprintf(why, WHY_MAX, "length %.*s is out of range for IPv%u "
		    "(0 to %u)", (int)(n > 16 ? 16 : n), s, family, max);
		return -1;
	}
	*out = v;
	return 0;
}

static int
parse_any(struct cidr *out, const char *s, bool want_len, struct nw_err *err)
{
	const char *what = want_len ? "prefix" : "address";
	char q[QUOTE_MAX * 4 + 8], why[WHY_MAX], text[ADDR_TEXT_MAX];
	const char *slash;
	struct cidr c = { 0 };
	size_t alen;
	unsigned len;

	memset(out, 0, sizeof(*out));
	quote_input(q, sizeof(q), s);
	if (s == NULL || s[0] == '\0')
		return err_set(err, NW_EINPUT, "invalid %s \"\": empty string", what);
	for (const char *p = s; *p != '\0'; p++) {
		if (isspace((unsigned char)*p))
			return err_set(err, NW_EINPUT, "invalid %s \"%s\": "
			    "contains whitespace", what, q);
		if (*p == '%')
			return err_set(err, NW_EINPUT, "invalid %s \"%s\": zone ids "
			    "(\"%%...\") are not allowed", what, q);
	}
	slash = strchr(s, '/');
	if (want_len && slash == NULL)
		return err_set(err, NW_EINPUT, "invalid prefix \"%s\": missing "
		    "length (want address/length, such as 10.0.0.0/16)", q);
	if (!want_len && slash != NULL)
		return err_set(err, NW_EINPUT, "invalid address \"%s\": unexpected "
		    "length (want an address without \"/n\")", q);
	alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (alen == 0)
		return err_set(err, NW_EINPUT, "invalid %s \"%s\": empty address "
		    "before \"/\"", what, q);
	if (alen >= sizeof(text))
		return err_set(err, NW_EINPUT, "invalid %s \"%s\": address too long",
		    what, q);
	memcpy(text, s, alen);
	text[alen] = '\0';

	if (memchr(text, ':', alen) != NULL) {
		c.family = 6;
		if (parse_v6(c.addr, text, alen, why) != 0)
			return err_set(err, NW_EINPUT, "invalid %s \"%s\": %s", what,
			    q, why);
	} else {
		c.family = 4;
		if (parse_v4(c.addr, text, alen, "", why) != 0)
			return err_set(err, NW_EINPUT, "invalid %s \"%s\": %s", what,
			    q, why);
	}

	len = family_max_len(c.family);
	if (slash != NULL && parse_len(&len, slash + 1, family_max_len(c.family),
	    c.family, why) != 0)
		return err_set(err, NW_EINPUT, "invalid %s \"%s\": %s", what, q, why);
	c.len = (uint8_t)len;

	if (want_len) {
		struct cidr net = cidr_canon(&c), host = c;
		char hbuf[CIDR_STRLEN], nbuf[CIDR_STRLEN];

		if (memcmp(net.addr, c.addr, sizeof(c.addr)) != 0) {
			for (unsigned i = 0; i < 16; i++)
				host.addr[i] = (uint8_t)(c.addr[i] ^ net.addr[i]);
			host.len = (uint8_t)family_max_len(c.family);
			cidr_format_addr(&host, hbuf);
			cidr_format(&net, nbuf);
			return err_set(err, NW_EINPUT, "invalid prefix \"%s\": host "
			    "bits %s set beyond /%u (did you mean %s?)", q, hbuf,
			    len, nbuf);
		}
	}
	*out = c;
	return 0;
}

int
cidr_parse(struct cidr *out, const char *s, struct nw_err *err)
{
	return parse_any(out, s, true, err);
}

int
cidr_parse_addr(struct cidr *out, const char *s, struct nw_err *err)
{
	return parse_any(out, s, false, err);
}

/* ---- formatting --------------------------------------------------------- */

/*
 * RFC 5952.  IPv4-mapped addresses (::ffff:0:0/96) are written with the
 * IPv4 part dotted, as section 5 recommends, so "::ffff:10.0.0.0/104"
 * reads back as it was written.
 */
static void
format_v6(const uint8_t a[16], char *buf, size_t n)
{
	uint16_t g[8];
	int best = -1, bestlen = 0;
	size_t o = 0;

	for (unsigned i = 0; i < 8; i++)
		g[i] = (uint16_t)(a[2 * i] << 8 | a[2 * i + 1]);
	if (g[0] == 0 && g[1] == 0 && g[2] == 0 && g[3] == 0 && g[4] == 0 &&
	    g[5] == 0xffff) {
		snprintf(buf, n, "::ffff:%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
		return;
	}
	for (int i = 0; i < 8;) {
		int j = i;

		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > bestlen && j - i >= 2) {
			best = i;
			bestlen = j - i;
		}
		i = j > i ? j : i + 1;
	}
	buf[0] = '\0';
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			o += (size_t)snprintf(buf + o, n - o, "::");
			i += bestlen - 1;
			continue;
		}
		if (i > 0 && i != best + bestlen)
			o += (size_t)snprintf(buf + o, n - o, ":");
		o += (size_t)snprintf(buf + o, n - o, "%x", g[i]);
	}
}

void
cidr_format_addr(const struct cidr *c, char buf[CIDR_STRLEN])
{
	if (c->family == 6)
		format_v6(c->addr, buf, CIDR_STRLEN);
	else if (c->family == 4)
		snprintf(buf, CIDR_STRLEN, "%u.%u.%u.%u", c->addr[0], c->addr[1],
		    c->addr[2], c->addr[3]);
	else
		snprintf(buf, CIDR_STRLEN, "<family %u>", c->family);
}

void
cidr_format(const struct cidr *c, char buf[CIDR_STRLEN])
{
	size_t n;

	cidr_format_addr(c, buf);
	n = strlen(buf);
	snprintf(buf + n, CIDR_STRLEN - n, "/%u", c->len);
}

/* ---- arithmetic --------------------------------------------------------- */

int
cidr_compare(const struct cidr *a, const struct cidr *b)
{
	int r;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	r = memcmp(a->addr, b->addr, sizeof(a->addr));
	if (r != 0)
		return r < 0 ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return 0;
}

bool
cidr_equal(const struct cidr *a, const struct cidr *b)
{
	return a->family == b->family && a->len == b->len &&
	    memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

bool
cidr_contains(const struct cidr *outer, const struct cidr *inner)
{
	uint8_t o[16], in[16];

	if (outer->family != inner->family || inner->len < outer->len)
		return false;
	memcpy(o, outer->addr, sizeof(o));
	memcpy(in, inner->addr, sizeof(in));
	addr_mask(o, outer->len);
	addr_mask(in, outer->len);
	return memcmp(o, in, sizeof(o)) == 0;
}

bool
cidr_overlaps(const struct cidr *a, const struct cidr *b)
{
	return cidr_contains(a, b) || cidr_contains(b, a);
}

/* A len longer than the prefix's own leaves it as it is. */
struct cidr
cidr_supernet(const struct cidr *c, unsigned len)
{
	struct cidr r = *c;

	if (len < r.len)
		r.len = (uint8_t)len;
	addr_mask(r.addr, r.len);
	return r;
}

struct cidr
cidr_last(const struct cidr *c)
{
	struct cidr r = cidr_canon(c);
	unsigned max = family_max_len(c->family);

	for (unsigned bit = c->len; bit < max; bit++)
		r.addr[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
	r.len = (uint8_t)max;
	return r;
}

unsigned
cidr_max_len(const struct cidr *c)
{
	return family_max_len(c->family);
}

static int
cidr_qsort_cmp(const void *a, const void *b)
{
	return cidr_compare(a, b);
}

void
cidr_sort(struct cidr *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), cidr_qsort_cmp);
}

/* ---- longest-prefix-match table ----------------------------------------- */

/*
 * One open-addressing hash table per prefix length present, keyed by the
 * masked address as two 64-bit words (IPv4 sits in the top 32 bits, so
 * both families share the code).  A lookup probes the lengths present,
 * longest first, and stops at the first hit: at most 33 or 129 probes,
 * usually a handful, and no allocation.  Values are never NULL, so a NULL
 * value marks an empty slot.
 *
 * With many prefixes the probes are cache misses, and most of them miss.
 * A large family therefore also keeps a filter: for each of 65536
 * regions (the top 16 bits of an IPv4 address, a hash of the top 32 of an
 * IPv6 one), a bit per length at or past that split saying whether any
 * prefix of that length lies there.  One read then skips the lengths that
 * cannot match.  Collisions only set extra bits, so the filter never hides
 * a match.
 */
struct lpm_slot {
	uint64_t hi, lo;
	void *value;
};

struct lpm_bucket {
	struct lpm_slot *slots; /* NULL while no prefix has this length */
	size_t mask;            /* capacity - 1, capacity a power of two */
	size_t count;
};

#define LPM_FILTER_BITS 16
#define LPM_FILTER_FROM 4096 /* prefixes in a family before it gets a filter */

struct lpm_family {
	struct lpm_bucket by_len[129];
	uint8_t lens[129]; /* lengths present, longest first */
	unsigned nlens;
	unsigned split;    /* 16 for IPv4, 32 for IPv6 */
	size_t count;
	uint64_t *filter;  /* NULL while small; bit len - split per region */
};

struct cidr_table {
	struct lpm_family fam[2]; /* [0] IPv4, [1] IPv6 */
	size_t count;
};

static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint64_t
key_hash(uint64_t hi, uint64_t lo)
{
	return mix64(hi ^ (lo * 0x9e3779b97f4a7c15ULL));
}

/* The address as two words, the IPv4 address in the top 32 bits. */
static void
key_load(const struct cidr *c, uint64_t *hi, uint64_t *lo)
{
	uint64_t h = 0, l = 0;

	for (unsigned i = 0; i < 8; i++) {
		h = h << 8 | c->addr[i];
		l = l << 8 | c->addr[8 + i];
	}
	*hi = h;
	*lo = l;
}

/* Keeps the first len bits (counted from the top of 128 for both families). */
static inline void
key_mask(unsigned len, uint64_t *hi, uint64_t *lo)
{
	if (len == 0) {
		*hi = 0;
		*lo = 0;
	} else if (len < 64) {
		*hi &= ~0ULL << (64 - len);
		*lo = 0;
	} else if (len == 64) {
		*lo = 0;
	} else if (len < 128) {
		*lo &= ~0ULL << (128 - len);
	}
}

static void
key_from(const struct cidr *c, unsigned len, uint64_t *hi, uint64_t *lo)
{
	key_load(c, hi, lo);
	key_mask(len, hi, lo);
}

static void
key_to(struct cidr *c, unsigned family, unsigned len, uint64_t hi, uint64_t lo)
{
	memset(c, 0, sizeof(*c));
	c->family = (uint8_t)family;
	c->len = (uint8_t)len;
	for (unsigned i = 0; i < 8; i++) {
		c->addr[7 - i] = (uint8_t)(hi >> (8 * i));
		c->addr[15 - i] = (uint8_t)(lo >> (8 * i));
	}
}

/* The filter region of an address, and the bit for a length (0: none). */
static size_t
filter_region(const struct lpm_family *f, uint64_t hi)
{
	if (f->split == 16)
		return (size_t)(hi >> 48);
	return (size_t)(mix64(hi >> 32) >> (64 - LPM_FILTER_BITS));
}

static uint64_t
filter_bit(const struct lpm_family *f, unsigned len)
{
	if (len < f->split || len - f->split > 63)
		return 0;
	return 1ULL << (len - f->split);
}

/*
 * Builds the filter once the family is big enough to need it.  It is
 * only a shortcut, so running out of memory here is not an error.
 */
static void
filter_build(struct lpm_family *f)
{
	f->filter = calloc((size_t)1 << LPM_FILTER_BITS, sizeof(*f->filter));
	if (f->filter == NULL)
		return;
	for (unsigned l = f->split; l <= 128; l++) {
		const struct lpm_bucket *b = &f->by_len[l];

		for (size_t i = 0; b->slots != NULL && i <= b->mask; i++)
			if (b->slots[i].value != NULL)
				f->filter[filter_region(f, b->slots[i].hi)] |=
				    filter_bit(f, l);
	}
}

static struct lpm_family *
table_family(const struct cidr_table *t, unsigned family)
{
	if (family == 4)
		return (struct lpm_family *)&t->fam[0];
	if (family == 6)
		return (struct lpm_family *)&t->fam[1];
	return NULL;
}

static struct lpm_slot *
bucket_find(const struct lpm_bucket *b, uint64_t hi, uint64_t lo)
{
	size_t i;

	if (b->slots == NULL)
		return NULL;
	for (i = key_hash(hi, lo) & b->mask;; i = (i + 1) & b->mask) {
		struct lpm_slot *s = &b->slots[i];

		if (s->value == NULL)
			return NULL;
		if (s->hi == hi && s->lo == lo)
			return s;
	}
}

/* Places a key known to be absent; the bucket has room. */
static void
bucket_place(struct lpm_slot *slots, size_t mask, uint64_t hi, uint64_t lo,
    void *value)
{
	size_t i = key_hash(hi, lo) & mask;

	while (slots[i].value != NULL)
		i = (i + 1) & mask;
	slots[i].hi = hi;
	slots[i].lo = lo;
	slots[i].value = value;
}

/* Keeps the load at or under one half, where linear probing stays short. */
static int
bucket_reserve(struct lpm_bucket *b, size_t want)
{
	size_t cap = b->slots != NULL ? b->mask + 1 : 0, ncap;
	struct lpm_slot *ns;

	if (want * 2 <= cap)
		return 0;
	ncap = cap != 0 ? cap : 8;
	while (want * 2 > ncap) {
		if (ncap > SIZE_MAX / 2 / sizeof(*ns))
			return NW_ENOMEM;
		ncap *= 2;
	}
	ns = calloc(ncap, sizeof(*ns));
	if (ns == NULL)
		return NW_ENOMEM;
	for (size_t i = 0; i < cap; i++)
		if (b->slots[i].value != NULL)
			bucket_place(ns, ncap - 1, b->slots[i].hi, b->slots[i].lo,
			    b->slots[i].value);
	free(b->slots);
	b->slots = ns;
	b->mask = ncap - 1;
	return 0;
}

struct cidr_table *
cidr_table_new(void)
{
	struct cidr_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->fam[0].split = 16;
	t->fam[1].split = 32;
	return t;
}

void
cidr_table_free(struct cidr_table *t)
{
	if (t == NULL)
		return;
	for (unsigned f = 0; f < 2; f++) {
		for (unsigned l = 0; l <= 128; l++)
			free(t->fam[f].by_len[l].slots);
		free(t->fam[f].filter);
	}
	free(t);
}

/* A NULL value, an unknown family or a length out of range: NW_EINPUT. */
int
cidr_table_add(struct cidr_table *t, const struct cidr *prefix, void *value)
{
	struct lpm_family *f;
	struct lpm_bucket *b;
	uint64_t hi, lo;
	bool fresh;
	int rc;

	if (t == NULL || prefix == NULL || value == NULL || !cidr_valid(prefix))
		return NW_EINPUT;
	f = table_family(t, prefix->family);
	b = &f->by_len[prefix->len];
	key_from(prefix, prefix->len, &hi, &lo);
	if (bucket_find(b, hi, lo) != NULL)
		return 1;
	fresh = b->slots == NULL;
	rc = bucket_reserve(b, b->count + 1);
	if (rc != 0)
		return rc;
	bucket_place(b->slots, b->mask, hi, lo, value);
	b->count++;
	f->count++;
	t->count++;
	if (f->filter != NULL)
		f->filter[filter_region(f, hi)] |= filter_bit(f, prefix->len);
	else if (f->count >= LPM_FILTER_FROM)
		filter_build(f);
	if (fresh) {
		unsigned i = f->nlens;

		while (i > 0 && f->lens[i - 1] < prefix->len) {
			f->lens[i] = f->lens[i - 1];
			i--;
		}
		f->lens[i] = prefix->len;
		f->nlens++;
	}
	return 0;
}

void *
cidr_table_get(const struct cidr_table *t, const struct cidr *prefix)
{
	const struct lpm_family *f;
	const struct lpm_slot *s;
	uint64_t hi, lo;

	if (t == NULL || prefix == NULL || !cidr_valid(prefix))
		return NULL;
	f = table_family(t, prefix->family);
	key_from(prefix, prefix->len, &hi, &lo);
	s = bucket_find(&f->by_len[prefix->len], hi, lo);
	return s != NULL ? s->value : NULL;
}

size_t
cidr_table_lookup_all(const struct cidr_table *t, const struct cidr *addr,
    void **values, struct cidr *prefixes, size_t max)
{
	const struct lpm_family *f;
	uint64_t ahi, alo, present = ~0ULL;
	size_t found = 0;

	if (t == NULL || addr == NULL || !cidr_valid(addr))
		return 0;
	f = table_family(t, addr->family);
	key_load(addr, &ahi, &alo);
	if (f->filter != NULL && addr->len >= f->split)
		present = f->filter[filter_region(f, ahi)];
	for (unsigned i = 0; i < f->nlens; i++) {
		unsigned len = f->lens[i];
		const struct lpm_slot *s;
		uint64_t hi = ahi, lo = alo, bit = filter_bit(f, len);

		if (len > addr->len || (bit != 0 && (present & bit) == 0))
			continue;
		key_mask(len, &hi, &lo);
		s = bucket_find(&f->by_len[len], hi, lo);
		if (s == NULL)
			continue;
		if (found < max) {
			if (values != NULL)
				values[found] = s->value;
			if (prefixes != NULL)
				key_to(&prefixes[found], addr->family, len, hi, lo);
		}
		found++;
	}
	return found;
}

void *
cidr_table_lookup(const struct cidr_table *t, const struct cidr *addr,
    struct cidr *matched)
{
	void *v = NULL;

	if (cidr_table_lookup_all(t, addr, &v, matched, 1) == 0)
		return NULL;
	return v;
}

size_t
cidr_table_count(const struct cidr_table *t)
{
	return t != NULL ? t->count : 0;
}

/* ---- aggregation -------------------------------------------------------- */

/*
 * Why the result is minimal.  Call a prefix allowed when it contains no
 * forbidden prefix and its length is at least the floor, or it lies
 * inside a cover prefix (a cover prefix shorter than the floor is kept as
 * it is: the floor stops growth, it does not split what was asked for).
 * Allowedness passes down to sub-prefixes, so each cover prefix c has a
 * shortest allowed ancestor A(c).  Any valid answer must hold, for the
 * first address of each c, a prefix nested with c and allowed, hence
 * inside A(c); the maximal A(c) are pairwise disjoint, so no answer has
 * fewer prefixes than there are maximal A(c), and those cover everything.
 * Computing A(c) with the floor lowered to c's own length when c is
 * shorter gives the same maximal set.
 */

/*
 * A forbidden prefix inside p, or NULL.  fb is sorted by cidr_compare; the
 * prefixes inside p are exactly a run starting at p's lower bound, so one
 * binary search answers.
 */
static const struct cidr *
forbidden_inside(const struct cidr *fb, size_t n, const struct cidr *p)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cidr_compare(&fb[mid], p) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n && cidr_contains(p, &fb[lo]))
		return &fb[lo];
	return NULL;
}

int
cidr_aggregate(struct cidr **out, size_t *nout,
    const struct cidr *cover, size_t ncover,
    const struct cidr *forbid, size_t nforbid,
    const struct cidr_aggregate_opts *opts, struct nw_err *err)
{
	struct cidr *fb = NULL, *res = NULL;
	unsigned floor4 = opts != NULL ? opts->min_len4 : 0;
	unsigned floor6 = opts != NULL ? opts->min_len6 : 0;
	size_t nres = 0;
	int rc = 0;

	*out = NULL;
	*nout = 0;
	if (floor4 > 32)
		floor4 = 32;
	if (floor6 > 128)
		floor6 = 128;
	for (size_t i = 0; i < ncover; i++)
		if (!cidr_valid(&cover[i]))
			return err_set(err, NW_EINPUT, "cannot aggregate: cover "
			    "prefix %zu has family %u and length %u", i,
			    cover[i].family, cover[i].len);
	for (size_t i = 0; i < nforbid; i++)
		if (!cidr_valid(&forbid[i]))
			return err_set(err, NW_EINPUT, "cannot aggregate: forbidden "
			    "prefix %zu has family %u and length %u", i,
			    forbid[i].family, forbid[i].len);
	if (ncover == 0)
		return 0;

	if (nforbid > 0) {
		fb = malloc(nforbid * sizeof(*fb));
		if (fb == NULL) {
			rc = err_set(err, NW_ENOMEM, "cannot aggregate: out of memory");
			goto done;
		}
		for (size_t i = 0; i < nforbid; i++)
			fb[i] = cidr_canon(&forbid[i]);
		cidr_sort(fb, nforbid);
	}
	res = malloc(ncover * sizeof(*res));
	if (res == NULL) {
		rc = err_set(err, NW_ENOMEM, "cannot aggregate: out of memory");
		goto done;
	}

	for (size_t i = 0; i < ncover; i++) {
		struct cidr c = cidr_canon(&cover[i]);
		const struct cidr *bad = forbidden_inside(fb, nforbid, &c);
		unsigned lo = c.family == 4 ? floor4 : floor6, hi = c.len;

		if (bad != NULL) {
			char cb[CIDR_STRLEN], fbuf[CIDR_STRLEN];

			cidr_format(&c, cb);
			cidr_format(bad, fbuf);
			rc = err_set(err, NW_EINPUT, "cannot aggregate: cover prefix "
			    "%s contains forbidden prefix %s (nothing can cover "
			    "the one without the other)", cb, fbuf);
			goto done;
		}
		if (lo > hi)
			lo = hi;
		/* Allowed lengths form [A(c).len, c.len]: binary search. */
		while (lo < hi) {
			unsigned mid = lo + (hi - lo) / 2;
			struct cidr p = cidr_supernet(&c, mid);

			if (forbidden_inside(fb, nforbid, &p) == NULL)
				hi = mid;
			else
				lo = mid + 1;
		}
		res[i] = cidr_supernet(&c, lo);
	}

	/*
	 * In cidr_compare order a prefix comes before everything inside it, and
	 * the prefixes are laminar, so one that lies inside any kept prefix
	 * lies inside the last one kept.
	 */
	cidr_sort(res, ncover);
	for (size_t i = 0; i < ncover; i++) {
		if (nres > 0 && cidr_contains(&res[nres - 1], &res[i]))
			continue;
		res[nres++] = res[i];
	}
	*out = res;
	*nout = nres;
	res = NULL;
done:
	free(fb);
	free(res);
	return rc;
}
