/*
 * Tests for plan/cidr: strict parsing and its messages, RFC 5952
 * formatting, prefix arithmetic, the longest-prefix-match table (checked
 * against brute force on 200,000 prefixes) and aggregation (checked
 * against an independent minimum on random inputs).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/cidr.h"
#include "tests/testutil.h"

/* ---- helpers ------------------------------------------------------------ */

/* A deterministic generator, so a failure reproduces. */
static uint64_t
rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static unsigned
rng_below(uint64_t *s, unsigned n)
{
	return (unsigned)(rng_next(s) % n);
}

/* Parses s as an address (addr) or a prefix; fails the test naming it. */
static struct cidr
parse(const char *s, bool addr)
{
	struct cidr c;
	struct nw_err err = { 0 };
	int rc = addr ? cidr_parse_addr(&c, s, &err) : cidr_parse(&c, s, &err);

	ck_assert_msg(rc == 0, "cannot parse %s\"%s\": %s", addr ? "address " : "", s, err.msg);
	return c;
}

static struct cidr
P(const char *s)
{
	return parse(s, false);
}

static struct cidr
A(const char *s)
{
	return parse(s, true);
}

/* The message a rejected prefix gets; fails when it is accepted. */
static struct nw_err
reject(const char *s)
{
	struct cidr c;
	struct nw_err err = { 0 };
	int rc = cidr_parse(&c, s, &err);

	ck_assert_msg(rc == NW_EINPUT, "\"%s\" was accepted (rc %d)", s, rc);
	ck_assert_int_eq(err.code, NW_EINPUT);
	return err;
}

static void
assert_reject_says(const char *s, const char *needle)
{
	struct nw_err err = reject(s);
	char quoted[256];

	snprintf(quoted, sizeof(quoted), "invalid prefix \"%s\": ", s);
	ck_assert_msg(strncmp(err.msg, quoted, strlen(quoted)) == 0,
	    "message for \"%s\" does not start by quoting it: %s", s, err.msg);
	ck_assert_msg(strstr(err.msg, needle) != NULL,
	    "message for \"%s\" lacks \"%s\": %s", s, needle, err.msg);
}

static void
assert_formats(const char *in, const char *want)
{
	struct cidr c = P(in), back;
	char buf[CIDR_STRLEN];

	cidr_format(&c, buf);
	ck_assert_msg(strcmp(buf, want) == 0, "\"%s\" formats as \"%s\", want \"%s\"",
	    in, buf, want);
	back = P(buf);
	ck_assert_msg(cidr_equal(&back, &c), "\"%s\" does not read back", buf);
}

static struct cidr
v4(uint32_t a, unsigned len)
{
	struct cidr c = { .family = 4, .len = (uint8_t)len };

	if (len < 32)
		a &= len == 0 ? 0 : ~0U << (32 - len);
	c.addr[0] = (uint8_t)(a >> 24);
	c.addr[1] = (uint8_t)(a >> 16);
	c.addr[2] = (uint8_t)(a >> 8);
	c.addr[3] = (uint8_t)a;
	return c;
}

static uint32_t
v4_u32(const struct cidr *c)
{
	return (uint32_t)c->addr[0] << 24 | (uint32_t)c->addr[1] << 16 |
	    (uint32_t)c->addr[2] << 8 | c->addr[3];
}

/* Independent of plan/cidr: does the IPv4 prefix (oa, ol) hold (ia, il)? */
static int
u32_contains(uint32_t oa, unsigned ol, uint32_t ia, unsigned il)
{
	uint32_t m = ol == 0 ? 0 : ~0U << (32 - ol);

	return il >= ol && (ia & m) == (oa & m);
}

static void
assert_list(const struct cidr *v, size_t n, const char *const *want, size_t nwant)
{
	char buf[CIDR_STRLEN];

	ck_assert_msg(n == nwant, "got %zu prefixes, want %zu", n, nwant);
	for (size_t i = 0; i < n; i++) {
		cidr_format(&v[i], buf);
		ck_assert_msg(strcmp(buf, want[i]) == 0, "result %zu is %s, want %s",
		    i, buf, want[i]);
	}
}

static int
aggregate_strs(struct cidr **out, size_t *nout, const char *const *cover,
    size_t nc, const char *const *forbid, size_t nf, unsigned f4, unsigned f6,
    struct nw_err *err)
{
	struct cidr c[16], f[16];
	struct cidr_aggregate_opts o = { .min_len4 = f4, .min_len6 = f6 };

	ck_assert(nc <= 16 && nf <= 16);
	for (size_t i = 0; i < nc; i++)
		c[i] = P(cover[i]);
	for (size_t i = 0; i < nf; i++)
		f[i] = P(forbid[i]);
	return cidr_aggregate(out, nout, c, nc, f, nf, &o, err);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Asserts that aggregating cover around forbid, with floors f4 and f6, gives want. */
static void
expect_aggregate(const char *const *cover, size_t nc, const char *const *forbid, size_t nf, unsigned f4,
    unsigned f6, const char *const *want, size_t nwant)
{
	struct cidr *out = NULL;
	size_t n = 0;
	struct nw_err err = { 0 };

	ck_assert_msg(aggregate_strs(&out, &n, cover, nc, forbid, nf, f4, f6, &err) == 0, "aggregate: %s",
	    err.msg);
	assert_list(out, n, want, nwant);
	free(out);
}

/* ---- parsing ------------------------------------------------------------ */

START_TEST(test_ipv4_prefixes_parse_into_bytes_and_format_back)
{
	struct cidr c = P("10.1.0.0/16");

	ck_assert_int_eq(c.family, 4);
	ck_assert_int_eq(c.len, 16);
	ck_assert_int_eq(c.addr[0], 10);
	ck_assert_int_eq(c.addr[1], 1);
	for (unsigned i = 2; i < 16; i++)
		ck_assert_int_eq(c.addr[i], 0);
	assert_formats("10.1.0.0/16", "10.1.0.0/16");
	assert_formats("0.0.0.0/0", "0.0.0.0/0");
	assert_formats("255.255.255.255/32", "255.255.255.255/32");
	assert_formats("192.168.0.0/24", "192.168.0.0/24");
	assert_formats("0.0.0.0/32", "0.0.0.0/32");
	c = P("255.255.255.255/32");
	ck_assert_int_eq(c.addr[3], 255);
	ck_assert_int_eq(c.len, 32);
}
END_TEST

START_TEST(test_ipv4_leading_zeros_are_rejected_but_a_lone_zero_is_fine)
{
	assert_reject_says("010.0.0.0/8", "octet 1 \"010\" of address has a leading zero");
	assert_reject_says("10.00.0.0/16", "octet 2 \"00\" of address has a leading zero");
	assert_reject_says("10.0.0.01/32", "leading zero");
	P("0.0.0.0/0");
	P("10.0.0.0/8");
	P("100.64.0.0/10");
}
END_TEST

START_TEST(test_ipv4_octets_over_255_are_rejected)
{
	assert_reject_says("256.0.0.0/8", "octet 1 \"256\" of address is over 255");
	assert_reject_says("10.0.0.1000/32", "octet 4 \"1000\" of address is over 255");
	assert_reject_says("10.99999999999999999999.0.0/16", "is over 255");
	P("10.255.0.0/16");
}
END_TEST

START_TEST(test_ipv4_wrong_octet_counts_and_bad_characters_are_rejected)
{
	assert_reject_says("10.0.0/24", "too few octets in address (3, want 4)");
	assert_reject_says("10/8", "too few octets in address (1, want 4)");
	assert_reject_says("10.0.0.0.0/8", "too many octets in address (5, want 4)");
	assert_reject_says("10..0.0/8", "octet 2 of address is empty");
	assert_reject_says("10.0.0./24", "octet 4 of address is empty");
	assert_reject_says("10.0.0.a/32", "bad character 'a'");
	assert_reject_says("+10.0.0.0/8", "bad character '+'");
	assert_reject_says("0x0a.0.0.0/8", "bad character 'x'");
	assert_reject_says("/8", "empty address");
}
END_TEST

START_TEST(test_lengths_must_be_present_decimal_plain_and_in_range)
{
	assert_reject_says("10.0.0.0", "missing length");
	assert_reject_says("2001:db8::", "missing length");
	assert_reject_says("10.0.0.0/", "empty length");
	assert_reject_says("10.0.0.0/x", "length \"x\" is not a decimal number");
	assert_reject_says("10.0.0.0/-1", "is not a decimal number");
	assert_reject_says("10.0.0.0/+8", "is not a decimal number");
	assert_reject_says("10.0.0.0/8/8", "is not a decimal number");
	assert_reject_says("10.0.0.0/08", "length \"08\" has a leading zero");
	assert_reject_says("10.0.0.0/00", "has a leading zero");
	assert_reject_says("10.0.0.0/33", "length 33 is out of range for IPv4 (0 to 32)");
	assert_reject_says("::/129", "length 129 is out of range for IPv6 (0 to 128)");
	assert_reject_says("10.0.0.0/99999999999999999999",
	    "is out of range for IPv4 (0 to 32)");
	ck_assert_int_eq(P("0.0.0.0/0").len, 0);
	ck_assert_int_eq(P("::/0").len, 0);
	ck_assert_int_eq(P("10.0.0.0/32").len, 32);
	ck_assert_int_eq(P("::/128").len, 128);
}
END_TEST

START_TEST(test_host_bits_set_are_rejected_naming_the_bits_and_the_prefix_meant)
{
	struct nw_err e = reject("10.1.2.3/16");

	ck_assert_str_eq(e.msg, "invalid prefix \"10.1.2.3/16\": host bits 0.0.2.3 "
	    "set beyond /16 (did you mean 10.1.0.0/16?)");
	e = reject("2001:db8::1/64");
	ck_assert_str_eq(e.msg, "invalid prefix \"2001:db8::1/64\": host bits ::1 "
	    "set beyond /64 (did you mean 2001:db8::/64?)");
	e = reject("10.0.0.1/0");
	ck_assert_str_eq(e.msg, "invalid prefix \"10.0.0.1/0\": host bits 10.0.0.1 "
	    "set beyond /0 (did you mean 0.0.0.0/0?)");
	assert_reject_says("10.0.0.129/25",
	    "host bits 0.0.0.1 set beyond /25 (did you mean 10.0.0.128/25?)");
	P("10.0.0.128/25");
}
END_TEST

START_TEST(test_whitespace_zone_ids_and_empty_strings_are_rejected)
{
	struct cidr c;
	struct nw_err err = { 0 };

	assert_reject_says("", "empty string");
	ck_assert_int_eq(cidr_parse(&c, NULL, &err), NW_EINPUT);
	assert_reject_says(" 10.0.0.0/8", "whitespace");
	assert_reject_says("10.0.0.0/8 ", "whitespace");
	assert_reject_says("10.0.0.0 /8", "whitespace");
	assert_reject_says("10.0.0.0/ 8", "whitespace");
	assert_reject_says("fe80::1%eth0/128", "zone ids");
	assert_reject_says("fe80::%1/64", "zone ids");
	/* Control characters are escaped, so a message stays one line. */
	err = reject("10.0.0.0/8\n");
	ck_assert_str_eq(err.msg, "invalid prefix \"10.0.0.0/8\\x0a\": contains whitespace");
	err = reject("a\"b/8");
	ck_assert_msg(strstr(err.msg, "\"a\\\"b/8\"") != NULL, "%s", err.msg);
}
END_TEST

START_TEST(test_each_kind_of_failure_has_its_own_message)
{
	static const char *const bad[] = {
		"010.0.0.0/8", "256.0.0.0/8", "10.0.0/24", "10.0.0.0.0/8",
		"10..0.0/8", "1x.0.0.0/8", "12345::/16", "1::2::/64", "g::/16",
		"1:2:3:4:5:6:7/128", "1:2:3:4:5:6:7:8:9/128", ":1::/128",
		"1.2.3.4::/128", "10.0.0.0", "10.0.0.0/", "10.0.0.0/x",
		"10.0.0.0/08", "10.0.0.0/33", "10.0.0.1/8", "", " 1.0.0.0/8",
		"fe80::1%0/128", "1:2:3:4:5:6:7:8::/128", "::ffff:1.2.3/128",
	};
	char msgs[N(bad)][NW_ERR_MSG_MAX];

	for (size_t i = 0; i < N(bad); i++) {
		struct nw_err e = reject(bad[i]);
		const char *reason = strstr(e.msg, "\": ");

		ck_assert_ptr_nonnull(reason);
		snprintf(msgs[i], sizeof(msgs[i]), "%s", reason);
		/* Numbers and quoted parts differ by input: keep only the words. */
		for (char *p = msgs[i]; *p != '\0'; p++)
			if (*p == '"') {
				char *q = strchr(p + 1, '"');

				if (q == NULL)
					break;
				memset(p, '_', (size_t)(q - p) + 1);
				p = q;
			} else if ((*p >= '0' && *p <= '9') || *p == '\'') {
				*p = '#';
			}
	}
	for (size_t i = 0; i < N(bad); i++)
		for (size_t j = i + 1; j < N(bad); j++)
			ck_assert_msg(strcmp(msgs[i], msgs[j]) != 0,
			    "\"%s\" and \"%s\" get the same kind of message: %s",
			    bad[i], bad[j], msgs[i]);
}
END_TEST

START_TEST(test_ipv6_text_forms_of_rfc4291_parse)
{
	/* a text form (an address, or a prefix), bytes it parses to (at -1: no more), its length (-1: any) */
	static const struct {
		const char *text;
		bool addr;
		struct {
			int at, value;
		} bytes[3];
		int len;
	} forms[] = {
		{ "::1", true, { { 15, 1 }, { -1, 0 }, { -1, 0 } }, 128 },
		{ "1::", true, { { 1, 1 }, { -1, 0 }, { -1, 0 } }, -1 },
		{ "1:2:3:4:5:6:7::", true, { { 13, 7 }, { 15, 0 }, { -1, 0 } }, -1 },
		{ "::2:3:4:5:6:7:8", true, { { 1, 0 }, { 15, 8 }, { -1, 0 } }, -1 },
		{ "::ffff:10.0.0.0/104", false, { { 10, 0xff }, { 11, 0xff }, { 12, 10 } }, 104 },
		{ "64:ff9b::192.0.2.33", true, { { 1, 0x64 }, { 12, 192 }, { 15, 33 } }, -1 },
		{ "1:2:3:4:5:6:1.2.3.4", true, { { 11, 6 }, { 12, 1 }, { -1, 0 } }, -1 },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true, { { 0, 0xff }, { 15, 0xff }, { -1, 0 } }, -1 },
	};
	struct cidr c = P("2001:0db8:0000:0000:0000:0000:0000:0000/32"), d;

	ck_assert_int_eq(c.family, 6);
	ck_assert_int_eq(c.len, 32);
	ck_assert_int_eq(c.addr[0], 0x20);
	ck_assert_int_eq(c.addr[1], 0x01);
	ck_assert_int_eq(c.addr[2], 0x0d);
	ck_assert_int_eq(c.addr[3], 0xb8);
	d = P("2001:db8::/32");
	ck_assert(cidr_equal(&c, &d));
	d = P("2001:DB8::/32");
	ck_assert(cidr_equal(&c, &d));
	c = P("::/0");
	for (unsigned i = 0; i < 16; i++)
		ck_assert_int_eq(c.addr[i], 0);
	for (size_t i = 0; i < N(forms); i++) {
		const char *text = forms[i].text;

		c = parse(text, forms[i].addr);
		for (size_t k = 0; k < N(forms[i].bytes) && forms[i].bytes[k].at >= 0; k++) {
			int at = forms[i].bytes[k].at, want = forms[i].bytes[k].value;

			ck_assert_msg(c.addr[at] == want, "%s: byte %d is %#x, not %#x", text, at, c.addr[at], want);
		}
		if (forms[i].len >= 0)
			ck_assert_msg(c.len == forms[i].len, "%s: length %u, not %d", text, c.len, forms[i].len);
	}
}
END_TEST

START_TEST(test_bad_ipv6_groups_and_shapes_are_rejected)
{
	assert_reject_says("12345::/16", "bad IPv6 group \"12345\" (more than 4 hex digits)");
	assert_reject_says("g::/16", "bad IPv6 group \"g\" (not hexadecimal)");
	assert_reject_says("2001:db8:::/48", "\":::\"");
	assert_reject_says("1::2::/64", "more than one \"::\"");
	assert_reject_says("1:2:3:4:5:6:7/128", "too few IPv6 groups (7, want 8");
	assert_reject_says("1:2:3:4:5:6:7:8:9/128", "too many IPv6 groups");
	assert_reject_says("1:2:3:4:5:6:7:8::/128", "too many IPv6 groups around \"::\"");
	assert_reject_says("1:2:3:4:5:6:7:1.2.3.4/128", "too many IPv6 groups");
	assert_reject_says(":1::/128", "empty IPv6 group");
	assert_reject_says("1::2:/128", "empty IPv6 group");
	assert_reject_says(":/0", "empty IPv6 group");
	assert_reject_says("::1.2.3.4:5/128", "an embedded IPv4 address must come last");
	assert_reject_says("1.2.3.4::/128", "an embedded IPv4 address must come last");
	assert_reject_says("::ffff:1.2.3/128", "too few octets in embedded IPv4 address");
	assert_reject_says("::ffff:010.0.0.0/104", "of embedded IPv4 address has a leading zero");
	assert_reject_says("::ffff:300.0.0.0/104", "of embedded IPv4 address is over 255");
	assert_reject_says("-::/16", "not hexadecimal");
	assert_reject_says("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:"
	    "ffff:ffff:ffff:ffff/128", "address too long");
}
END_TEST

START_TEST(test_ipv6_formats_per_rfc5952)
{
	assert_formats("2001:0db8:0:0:0:0:0:0/32", "2001:db8::/32");
	assert_formats("2001:DB8::ABCD/128", "2001:db8::abcd/128");
	assert_formats("1:0:0:1:0:0:0:0/128", "1:0:0:1::/128");
	/* A tie between two runs compresses the first. */
	assert_formats("1:0:0:0:1:0:0:0/128", "1::1:0:0:0/128");
	assert_formats("2001:db8:0:0:1:0:0:1/128", "2001:db8::1:0:0:1/128");
	/* The longest run wins even when it comes later. */
	assert_formats("0:0:1:0:0:0:0:0/48", "0:0:1::/48");
	assert_formats("1:0:0:2:0:0:0:3/128", "1:0:0:2::3/128");
	/* A single zero group is never compressed. */
	assert_formats("1:0:1:1:1:1:1:1/128", "1:0:1:1:1:1:1:1/128");
	assert_formats("2001:db8:0:1:1:1:1:1/128", "2001:db8:0:1:1:1:1:1/128");
	assert_formats("::/0", "::/0");
	assert_formats("0:0:0:0:0:0:0:0/128", "::/128");
	assert_formats("0:0:0:0:0:0:0:1/128", "::1/128");
	assert_formats("1::/16", "1::/16");
	assert_formats("fe80:0:0:0:0:0:0:0/10", "fe80::/10");
	assert_formats("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
	assert_formats("2001:0db8:0001:0010:0100:1000:0000:0000/96",
	    "2001:db8:1:10:100:1000::/96");
	/* IPv4-mapped addresses keep the dotted tail (RFC 5952 section 5). */
	assert_formats("::ffff:10.0.0.0/104", "::ffff:10.0.0.0/104");
	assert_formats("0:0:0:0:0:ffff:a00:0/104", "::ffff:10.0.0.0/104");
	assert_formats("::ffff:0:0/96", "::ffff:0.0.0.0/96");
	assert_formats("::ffff:255.255.255.255/128", "::ffff:255.255.255.255/128");
	/* Other embedded forms are plain hexadecimal. */
	assert_formats("::10.0.0.1/128", "::a00:1/128");
	assert_formats("64:ff9b::192.0.2.0/120", "64:ff9b::c000:200/120");
}
END_TEST

START_TEST(test_parse_addr_takes_plain_addresses_only)
{
	struct cidr c = A("10.1.2.3");
	char buf[CIDR_STRLEN];
	struct nw_err err = { 0 };

	ck_assert_int_eq(c.family, 4);
	ck_assert_int_eq(c.len, 32);
	cidr_format_addr(&c, buf);
	ck_assert_str_eq(buf, "10.1.2.3");
	cidr_format(&c, buf);
	ck_assert_str_eq(buf, "10.1.2.3/32");
	c = A("2001:db8::1");
	ck_assert_int_eq(c.family, 6);
	ck_assert_int_eq(c.len, 128);
	cidr_format_addr(&c, buf);
	ck_assert_str_eq(buf, "2001:db8::1");
	ck_assert_int_eq(cidr_parse_addr(&c, "10.0.0.0/8", &err), NW_EINPUT);
	ck_assert_str_eq(err.msg, "invalid address \"10.0.0.0/8\": unexpected length "
	    "(want an address without \"/n\")");
	ck_assert_int_eq(cidr_parse_addr(&c, "010.1.2.3", &err), NW_EINPUT);
	ck_assert_msg(strstr(err.msg, "invalid address \"010.1.2.3\": ") == err.msg &&
	    strstr(err.msg, "leading zero") != NULL, "%s", err.msg);
	ck_assert_int_eq(cidr_parse_addr(&c, "", &err), NW_EINPUT);
	ck_assert_int_eq(cidr_parse_addr(&c, "fe80::1%eth0", &err), NW_EINPUT);
}
END_TEST

/* ---- arithmetic --------------------------------------------------------- */

START_TEST(test_compare_orders_family_then_address_then_length)
{
	struct cidr v[] = {
		P("2001:db8::/32"), P("10.0.0.0/16"), P("10.0.0.0/8"), P("9.0.0.0/8"),
		P("::/0"), P("10.0.0.0/32"), P("0.0.0.0/0"), P("10.128.0.0/9"),
	};
	static const char *const want[] = {
		"0.0.0.0/0", "9.0.0.0/8", "10.0.0.0/8", "10.0.0.0/16", "10.0.0.0/32",
		"10.128.0.0/9", "::/0", "2001:db8::/32",
	};
	struct cidr a = P("10.0.0.0/8"), b = P("10.0.0.0/16");

	ck_assert_int_lt(cidr_compare(&a, &b), 0);
	ck_assert_int_gt(cidr_compare(&b, &a), 0);
	ck_assert_int_eq(cidr_compare(&a, &a), 0);
	ck_assert(cidr_equal(&a, &a));
	ck_assert(!cidr_equal(&a, &b));
	cidr_sort(v, N(v));
	assert_list(v, N(v), want, N(want));
}
END_TEST

START_TEST(test_contains_overlaps_supernet_last_and_max_len)
{
	struct cidr all4 = P("0.0.0.0/0"), all6 = P("::/0"), a = P("10.0.0.0/8");
	struct cidr b = P("10.1.0.0/16"), c = P("11.0.0.0/8"), h = P("10.1.2.3/32");
	struct cidr s, l;
	char buf[CIDR_STRLEN];

	ck_assert(cidr_contains(&a, &b));
	ck_assert(cidr_contains(&a, &a));
	ck_assert(!cidr_contains(&b, &a));
	ck_assert(!cidr_contains(&a, &c));
	ck_assert(cidr_contains(&all4, &h));
	ck_assert(cidr_contains(&b, &h));
	ck_assert(!cidr_contains(&all6, &h));
	ck_assert(!cidr_contains(&all4, &all6));
	ck_assert(cidr_overlaps(&a, &b));
	ck_assert(cidr_overlaps(&b, &a));
	ck_assert(!cidr_overlaps(&a, &c));
	ck_assert(!cidr_overlaps(&all4, &all6));

	s = cidr_supernet(&h, 12);
	cidr_format(&s, buf);
	ck_assert_str_eq(buf, "10.0.0.0/12");
	s = cidr_supernet(&h, 0);
	cidr_format(&s, buf);
	ck_assert_str_eq(buf, "0.0.0.0/0");
	s = cidr_supernet(&h, 32);
	ck_assert(cidr_equal(&s, &h));
	s = P("2001:db8:ffff::/48");
	s = cidr_supernet(&s, 33);
	cidr_format(&s, buf);
	ck_assert_str_eq(buf, "2001:db8:8000::/33");

	l = cidr_last(&b);
	cidr_format(&l, buf);
	ck_assert_str_eq(buf, "10.1.255.255/32");
	l = cidr_last(&all4);
	cidr_format(&l, buf);
	ck_assert_str_eq(buf, "255.255.255.255/32");
	l = cidr_last(&h);
	ck_assert(cidr_equal(&l, &h));
	l = P("2001:db8::/32");
	l = cidr_last(&l);
	cidr_format(&l, buf);
	ck_assert_str_eq(buf, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff/128");
	l = P("10.0.0.0/31");
	l = cidr_last(&l);
	cidr_format(&l, buf);
	ck_assert_str_eq(buf, "10.0.0.1/32");

	ck_assert_uint_eq(cidr_max_len(&a), 32);
	ck_assert_uint_eq(cidr_max_len(&all6), 128);
}
END_TEST

/* ---- table -------------------------------------------------------------- */

static int vals[16];

START_TEST(test_table_add_twice_keeps_the_old_value)
{
	struct cidr_table *t = cidr_table_new();
	struct cidr p = P("10.0.0.0/8"), q = P("10.0.0.0/16");

	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(cidr_table_count(t), 0);
	ck_assert_ptr_null(cidr_table_get(t, &p));
	ck_assert_int_eq(cidr_table_add(t, &p, &vals[0]), 0);
	ck_assert_int_eq(cidr_table_add(t, &p, &vals[1]), 1);
	ck_assert_int_eq(cidr_table_add(t, &q, &vals[2]), 0);
	ck_assert_uint_eq(cidr_table_count(t), 2);
	ck_assert_ptr_eq(cidr_table_get(t, &p), &vals[0]);
	ck_assert_ptr_eq(cidr_table_get(t, &q), &vals[2]);
	q = P("10.0.0.0/12");
	ck_assert_ptr_null(cidr_table_get(t, &q));
	cidr_table_free(t);
	cidr_table_free(NULL);
}
END_TEST

START_TEST(test_table_rejects_null_values_and_bad_prefixes)
{
	struct cidr_table *t = cidr_table_new();
	struct cidr p = P("10.0.0.0/8"), bad = p;

	ck_assert_int_eq(cidr_table_add(t, &p, NULL), NW_EINPUT);
	ck_assert_uint_eq(cidr_table_count(t), 0);
	ck_assert_ptr_null(cidr_table_lookup(t, &p, NULL));
	bad.family = 5;
	ck_assert_int_eq(cidr_table_add(t, &bad, &vals[0]), NW_EINPUT);
	bad = p;
	bad.len = 33;
	ck_assert_int_eq(cidr_table_add(t, &bad, &vals[0]), NW_EINPUT);
	ck_assert_uint_eq(cidr_table_count(t), 0);
	cidr_table_free(t);
}
END_TEST

/* One look-up: key (an address, or a prefix when prefix is set) finds &vals[want]. */
struct lookup_case {
	const char *key;
	bool prefix;
	int want;
	const char *match; /* the prefix it matched, as text (NULL: not asked for) */
};

static void
expect_lookups(const struct cidr_table *t, const struct lookup_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct lookup_case *c = &cases[i];
		struct cidr k = parse(c->key, !c->prefix), m;
		char buf[CIDR_STRLEN];

		ck_assert_msg(cidr_table_lookup(t, &k, c->match != NULL ? &m : NULL) == &vals[c->want],
		    "%s does not find entry %d", c->key, c->want);
		if (c->match != NULL) {
			cidr_format(&m, buf);
			ck_assert_msg(strcmp(buf, c->match) == 0, "%s matched %s, not %s", c->key, buf, c->match);
		}
	}
}

START_TEST(test_table_lookup_picks_the_longest_prefix)
{
	struct cidr_table *t = cidr_table_new();
	static const char *const pfx[] = {
		"0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3/32",
		"::/0", "2001:db8::/32", "2001:db8:1::/48", "::ffff:10.0.0.0/104",
	};
	/* what each key finds among pfx, and the prefix it matched (NULL: not asked) */
	static const struct lookup_case lookups[] = {
		{ "10.1.2.3", false, 4, "10.1.2.3/32" },
		{ "10.1.2.4", false, 3, "10.1.2.0/24" },
		{ "10.1.3.4", false, 2, NULL },
		{ "10.200.0.1", false, 1, "10.0.0.0/8" },
		{ "192.0.2.1", false, 0, "0.0.0.0/0" },
		/* A prefix as the key matches only prefixes holding all of it. */
		{ "10.1.0.0/16", true, 2, NULL },
		{ "10.0.0.0/15", true, 1, NULL },
		/* The families do not see each other: ::ffff:10.1.2.3 is IPv6. */
		{ "::ffff:10.1.2.3", false, 8, "::ffff:10.0.0.0/104" },
		{ "2001:db8:1:2::9", false, 7, "2001:db8:1::/48" },
		{ "2001:db8:2::1", false, 6, NULL },
		{ "fe80::1", false, 5, NULL },
	};
	struct cidr m, a;

	for (size_t i = 0; i < N(pfx); i++) {
		struct cidr p = P(pfx[i]);

		ck_assert_int_eq(cidr_table_add(t, &p, &vals[i]), 0);
	}
	ck_assert_uint_eq(cidr_table_count(t), N(pfx));
	expect_lookups(t, lookups, N(lookups));
	cidr_table_free(t);

	/* Without a default route a miss is NULL. */
	t = cidr_table_new();
	a = P("10.1.0.0/16");
	ck_assert_int_eq(cidr_table_add(t, &a, &vals[0]), 0);
	a = A("11.0.0.1");
	ck_assert_ptr_null(cidr_table_lookup(t, &a, &m));
	a = A("2001:db8::1");
	ck_assert_ptr_null(cidr_table_lookup(t, &a, NULL));
	cidr_table_free(t);
}
END_TEST

START_TEST(test_table_lookup_all_returns_containing_prefixes_longest_first)
{
	struct cidr_table *t = cidr_table_new();
	static const char *const pfx[] = {
		"10.1.2.0/24", "0.0.0.0/0", "10.1.0.0/16", "10.0.0.0/8",
		"10.2.0.0/16", "10.1.2.128/25", "::/0",
	};
	static const char *const want[] = {
		"10.1.2.0/24", "10.1.0.0/16", "10.0.0.0/8", "0.0.0.0/0",
	};
	void *v[8];
	struct cidr got[8], a = A("10.1.2.3");

	for (size_t i = 0; i < N(pfx); i++) {
		struct cidr p = P(pfx[i]);

		ck_assert_int_eq(cidr_table_add(t, &p, &vals[i]), 0);
	}
	ck_assert_uint_eq(cidr_table_lookup_all(t, &a, v, got, 8), 4);
	assert_list(got, 4, want, N(want));
	ck_assert_ptr_eq(v[0], &vals[0]);
	ck_assert_ptr_eq(v[1], &vals[2]);
	ck_assert_ptr_eq(v[2], &vals[3]);
	ck_assert_ptr_eq(v[3], &vals[1]);
	/* Fewer slots than matches: the longest come first, the count is all. */
	memset(v, 0, sizeof(v));
	ck_assert_uint_eq(cidr_table_lookup_all(t, &a, v, NULL, 2), 4);
	ck_assert_ptr_eq(v[0], &vals[0]);
	ck_assert_ptr_eq(v[1], &vals[2]);
	ck_assert_ptr_null(v[2]);
	ck_assert_uint_eq(cidr_table_lookup_all(t, &a, NULL, NULL, 0), 4);
	a = A("10.1.2.200");
	ck_assert_uint_eq(cidr_table_lookup_all(t, &a, v, got, 8), 5);
	ck_assert_ptr_eq(v[0], &vals[5]);
	a = A("2001:db8::1");
	ck_assert_uint_eq(cidr_table_lookup_all(t, &a, v, got, 8), 1);
	ck_assert_ptr_eq(v[0], &vals[6]);
	cidr_table_free(t);
}
END_TEST

#define BIG_N 200000
#define BIG_SAMPLE 400

/* Brute force: the first-added entry of the longest prefix holding a. */
static long
brute_lpm(const uint32_t *addr, const uint8_t *len, size_t n, uint32_t a,
    unsigned *count)
{
	long best = -1;
	unsigned seen = 0; /* bit l set: some prefix of length l holds a */
	uint64_t lens = 0;

	for (size_t i = 0; i < n; i++) {
		if (!u32_contains(addr[i], len[i], a, 32))
			continue;
		lens |= 1ULL << len[i];
		if (best < 0 || len[i] > len[best])
			best = (long)i;
	}
	for (unsigned l = 0; l <= 32; l++)
		seen += (unsigned)((lens >> l) & 1);
	*count = seen;
	return best;
}

START_TEST(test_table_with_200000_prefixes_agrees_with_brute_force)
{
	struct cidr_table *t = cidr_table_new();
	uint32_t *addr = malloc(BIG_N * sizeof(*addr));
	uint8_t *len = malloc(BIG_N);
	size_t added = 0, bad = 0;
	uint64_t rng = 0x9e3779b97f4a7c15ULL;

	ck_assert(t != NULL && addr != NULL && len != NULL);
	for (size_t i = 0; i < BIG_N; i++) {
		uint32_t a = (uint32_t)rng_next(&rng);
		unsigned l = 24 + rng_below(&rng, 9);
		struct cidr p;
		int rc;

		/*
		 * Half crowd into 10.0.0.0/12, so prefixes nest and repeat; a few
		 * are shorter, on both sides of the table's /16 filter split.
		 */
		if (i % 2 == 0)
			a = 0x0a000000U | (a & 0x000fffffU);
		if (i % 64 == 1)
			l = 8 + rng_below(&rng, 16);
		p = v4(a, l);
		addr[i] = v4_u32(&p);
		len[i] = (uint8_t)l;
		/* Hot loops count failures: each Check assertion costs a write. */
		rc = cidr_table_add(t, &p, (void *)(uintptr_t)(i + 1));
		bad += rc != 0 && rc != 1;
		added += rc == 0;
	}
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(cidr_table_count(t), added);
	ck_assert_uint_lt(added, BIG_N); /* some repeats were refused */

	for (unsigned k = 0; k < BIG_SAMPLE; k++) {
		uint32_t a = (uint32_t)rng_next(&rng);
		struct cidr q, m, got[33];
		void *v[33];
		unsigned count;
		long want;
		size_t n;

		if (k % 3 != 0) {
			size_t i = rng_below(&rng, BIG_N);
			uint32_t host = len[i] == 32 ? 0 : (uint32_t)rng_next(&rng) &
			    (~0U >> len[i]);

			a = addr[i] | host;
		}
		q = v4(a, 32);
		want = brute_lpm(addr, len, BIG_N, a, &count);
		if (want < 0) {
			ck_assert_ptr_null(cidr_table_lookup(t, &q, NULL));
			ck_assert_uint_eq(cidr_table_lookup_all(t, &q, v, got, 33), 0);
			continue;
		}
		ck_assert_ptr_eq(cidr_table_lookup(t, &q, &m),
		    (void *)(uintptr_t)(want + 1));
		ck_assert_uint_eq(m.len, len[want]);
		ck_assert_uint_eq(v4_u32(&m), addr[want]);
		n = cidr_table_lookup_all(t, &q, v, got, 33);
		ck_assert_uint_eq(n, count);
		for (size_t j = 0; j < n; j++) {
			ck_assert(u32_contains(v4_u32(&got[j]), got[j].len, a, 32));
			ck_assert_ptr_eq(cidr_table_get(t, &got[j]), v[j]);
			if (j > 0)
				ck_assert_uint_lt(got[j].len, got[j - 1].len);
		}
	}

	/* Every stored prefix finds itself or something longer inside it. */
	for (size_t i = 0; i < BIG_N; i++) {
		struct cidr p = v4(addr[i], len[i]), m;
		void *v = cidr_table_lookup(t, &p, &m);

		bad += v == NULL || v != cidr_table_get(t, &p) || !cidr_equal(&m, &p);
	}
	ck_assert_uint_eq(bad, 0);
	cidr_table_free(t);
	free(addr);
	free(len);
}
END_TEST

START_TEST(test_table_holds_many_ipv6_prefixes)
{
	struct cidr_table *t = cidr_table_new();
	uint64_t rng = 12345;
	enum { n = 20000 };
	static struct cidr p[n];
	size_t bad = 0;

	for (size_t i = 0; i < n; i++) {
		struct cidr c = { .family = 6, .len = (uint8_t)(32 + rng_below(&rng, 97)) };

		for (unsigned b = 0; b < 16; b++)
			c.addr[b] = (uint8_t)rng_next(&rng);
		c.addr[0] = 0x20;
		c.addr[1] = 0x01;
		p[i] = cidr_supernet(&c, c.len);
		bad += cidr_table_add(t, &p[i], &p[i]) < 0;
	}
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_gt(cidr_table_count(t), n - 10);
	for (size_t i = 0; i < n; i++) {
		struct cidr last = cidr_last(&p[i]), m;
		void *v = cidr_table_lookup(t, &last, &m);

		const struct cidr *g = cidr_table_get(t, &p[i]);

		bad += v == NULL || !cidr_contains(&m, &last) || m.len < p[i].len ||
		    g == NULL || !cidr_equal(g, &p[i]) || !cidr_equal(v, &m);
	}
	ck_assert_uint_eq(bad, 0);
	cidr_table_free(t);
}
END_TEST

/* ---- aggregation -------------------------------------------------------- */

START_TEST(test_aggregate_finds_the_fewest_prefixes_around_a_forbidden_one)
{
	static const char *const cover[] = { "10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16" };
	static const char *const forbid[] = { "10.0.0.0/16" };
	static const char *const want[] = { "10.1.0.0/16", "10.2.0.0/15" };

	expect_aggregate(cover, N(cover), forbid, N(forbid), 8, 0, want, N(want));
}
END_TEST

START_TEST(test_aggregate_may_lie_inside_a_forbidden_supernet)
{
	static const char *const cover[] = { "10.1.0.0/16" };
	static const char *const cover2[] = { "10.1.0.0/16", "10.200.0.0/16" };
	static const char *const forbid[] = { "10.0.0.0/8" };
	static const char *const want[] = { "10.0.0.0/9" };
	static const char *const want2[] = { "10.0.0.0/9", "10.128.0.0/9" };

	expect_aggregate(cover, N(cover), forbid, N(forbid), 8, 0, want, N(want));
	expect_aggregate(cover2, N(cover2), forbid, N(forbid), 0, 0, want2, N(want2));
}
END_TEST

START_TEST(test_aggregate_honours_the_floor)
{
	static const char *const cover[] = { "10.0.0.0/24", "10.0.1.0/24" };
	static const char *const all[] = { "0.0.0.0/0" };
	static const char *const w16[] = { "10.0.0.0/16" };
	static const char *const w23[] = { "10.0.0.0/23" };
	static const char *const w24[] = { "10.0.0.0/24", "10.0.1.0/24" };
	static const char *const wide[] = { "10.0.0.0/8", "10.1.0.0/16", "11.0.0.0/8" };
	static const char *const wwide[] = { "10.0.0.0/8", "11.0.0.0/8" };

	expect_aggregate(cover, 2, NULL, 0, 0, 0, all, 1);
	expect_aggregate(cover, 2, NULL, 0, 16, 0, w16, 1);
	expect_aggregate(cover, 2, NULL, 0, 23, 0, w23, 1);
	expect_aggregate(cover, 2, NULL, 0, 24, 0, w24, 2);
	expect_aggregate(cover, 2, NULL, 0, 99, 0, w24, 2);
	/* A cover prefix shorter than the floor stays as it is, not split. */
	expect_aggregate(wide, N(wide), NULL, 0, 16, 0, wwide, N(wwide));
}
END_TEST

START_TEST(test_aggregate_rejects_a_cover_prefix_holding_a_forbidden_one)
{
	static const char *const cover[] = { "192.168.0.0/16", "10.0.0.0/8" };
	static const char *const forbid[] = { "172.16.0.0/12", "10.1.0.0/16" };
	static const char *const eq[] = { "10.0.0.0/8" };
	static const char *const cover6[] = { "2001:db8::/32" };
	static const char *const forbid6[] = { "2001:db8:5::/48" };
	struct cidr *out = NULL;
	size_t n = 7;
	struct nw_err err = { 0 };

	ck_assert_int_eq(aggregate_strs(&out, &n, cover, N(cover), forbid, N(forbid),
	    0, 0, &err), NW_EINPUT);
	ck_assert_ptr_null(out);
	ck_assert_uint_eq(n, 0);
	ck_assert_str_eq(err.msg, "cannot aggregate: cover prefix 10.0.0.0/8 contains "
	    "forbidden prefix 10.1.0.0/16 (nothing can cover the one without the other)");
	ck_assert_int_eq(aggregate_strs(&out, &n, eq, 1, eq, 1, 0, 0, &err), NW_EINPUT);
	ck_assert_msg(strstr(err.msg, "cover prefix 10.0.0.0/8 contains forbidden "
	    "prefix 10.0.0.0/8") != NULL, "%s", err.msg);
	ck_assert_int_eq(aggregate_strs(&out, &n, cover6, 1, forbid6, 1, 0, 0, &err),
	    NW_EINPUT);
	ck_assert_msg(strstr(err.msg, "2001:db8::/32") != NULL &&
	    strstr(err.msg, "2001:db8:5::/48") != NULL, "%s", err.msg);
}
END_TEST

START_TEST(test_aggregate_ipv6_and_mixed_families)
{
	static const char *const cover[] = {
		"2001:db8:2::/48", "10.1.0.0/16", "2001:db8:1::/48", "2001:db8:3::/48",
		"10.0.0.0/16",
	};
	static const char *const forbid[] = { "2001:db8::/48", "10.2.0.0/16" };
	static const char *const want[] = {
		"10.0.0.0/15", "2001:db8:1::/48", "2001:db8:2::/47",
	};
	static const char *const cover2[] = { "2001:db8:1::/48", "2001:db8:ff::/48" };
	static const char *const want2[] = { "2001:db8::/32" };

	expect_aggregate(cover, N(cover), forbid, N(forbid), 8, 32, want, N(want));
	/* The IPv4 floor does not bind IPv6, and the other way round. */
	expect_aggregate(cover2, N(cover2), NULL, 0, 30, 32, want2, N(want2));
}
END_TEST

START_TEST(test_aggregate_of_nothing_is_nothing)
{
	static const char *const forbid[] = { "10.0.0.0/8" };
	struct cidr dummy, *out = &dummy;
	size_t n = 99;
	struct nw_err err = { 0 };

	ck_assert_int_eq(aggregate_strs(&out, &n, NULL, 0, forbid, 1, 0, 0, &err), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(cidr_aggregate(&out, &n, NULL, 0, NULL, 0, NULL, &err), 0);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_aggregate_dedupes_and_absorbs_nested_cover)
{
	static const char *const cover[] = {
		"10.0.0.0/24", "10.0.0.0/24", "10.0.0.128/25", "10.0.0.7/32",
		"10.0.0.0/22",
	};
	static const char *const want[] = { "10.0.0.0/22" };

	expect_aggregate(cover, N(cover), NULL, 0, 22, 0, want, N(want));
}
END_TEST

/*
 * The brute-force side of the property check, written without plan/cidr:
 * a prefix may be used when it holds no forbidden prefix and is at least
 * the floor long or lies inside a cover prefix.  The fewest disjoint
 * usable prefixes covering the cover addresses under a node is 0 when the
 * node holds none of them, 1 when the node is usable, else the sum over
 * its two halves.
 */
struct trial {
	uint32_t ca[8], fa[8];
	unsigned cl[8], fl[8], nc, nf, floor;
};

static int
trial_usable(const struct trial *tr, uint32_t a, unsigned l)
{
	int inside_cover = 0;

	for (unsigned i = 0; i < tr->nf; i++)
		if (u32_contains(a, l, tr->fa[i], tr->fl[i]))
			return 0;
	for (unsigned i = 0; i < tr->nc; i++)
		inside_cover |= u32_contains(tr->ca[i], tr->cl[i], a, l);
	return l >= tr->floor || inside_cover;
}

static unsigned
trial_min(const struct trial *tr, uint32_t a, unsigned l)
{
	int any = 0;

	for (unsigned i = 0; i < tr->nc; i++)
		any |= u32_contains(a, l, tr->ca[i], tr->cl[i]) ||
		    u32_contains(tr->ca[i], tr->cl[i], a, l);
	if (!any)
		return 0;
	if (trial_usable(tr, a, l))
		return 1;
	ck_assert_uint_lt(l, 32);
	return trial_min(tr, a, l + 1) + trial_min(tr, a | 1U << (31 - l), l + 1);
}

START_TEST(test_aggregate_is_minimal_on_random_small_inputs)
{
	const uint32_t base = 0x0a000000U; /* everything within 10.0.0.0/16 */
	uint64_t rng = 0xdecafbad;
	unsigned ok = 0, refused = 0;

	for (unsigned trial = 0; trial < 3000; trial++) {
		struct trial tr = { 0 };
		struct cidr c[8], f[8], *out = NULL;
		struct cidr_aggregate_opts o;
		struct nw_err err = { 0 };
		size_t n = 0;
		int conflict = 0, rc;

		tr.nc = 1 + rng_below(&rng, 6);
		tr.nf = rng_below(&rng, 7);
		tr.floor = 16 + rng_below(&rng, 11);
		o.min_len4 = tr.floor;
		o.min_len6 = 0;
		for (unsigned i = 0; i < tr.nc; i++) {
			tr.cl[i] = 20 + rng_below(&rng, 11);
			tr.ca[i] = base | ((uint32_t)rng_next(&rng) & 0x0fffU);
			c[i] = v4(tr.ca[i], tr.cl[i]);
			tr.ca[i] = v4_u32(&c[i]);
		}
		for (unsigned i = 0; i < tr.nf; i++) {
			tr.fl[i] = 18 + rng_below(&rng, 15);
			/* Mostly near the cover, sometimes in the next /20. */
			tr.fa[i] = base | ((uint32_t)rng_next(&rng) &
			    (rng_below(&rng, 4) == 0 ? 0x1fffU : 0x0fffU));
			f[i] = v4(tr.fa[i], tr.fl[i]);
			tr.fa[i] = v4_u32(&f[i]);
		}
		for (unsigned i = 0; i < tr.nc; i++)
			for (unsigned j = 0; j < tr.nf; j++)
				conflict |= u32_contains(tr.ca[i], tr.cl[i], tr.fa[j],
				    tr.fl[j]);

		rc = cidr_aggregate(&out, &n, c, tr.nc, f, tr.nf, &o, &err);
		if (conflict) {
			ck_assert_int_eq(rc, NW_EINPUT);
			ck_assert_ptr_null(out);
			refused++;
			continue;
		}
		ck_assert_msg(rc == 0, "trial %u: %s", trial, err.msg);
		ok++;
		ck_assert_uint_eq(n, trial_min(&tr, base, 16));
		for (size_t i = 0; i < n; i++) {
			uint32_t ra = v4_u32(&out[i]);
			unsigned rl = out[i].len;

			ck_assert_int_eq(out[i].family, 4);
			ck_assert_msg(trial_usable(&tr, ra, rl),
			    "trial %u: result %zu is not usable", trial, i);
			for (size_t j = i + 1; j < n; j++) {
				ck_assert_int_lt(cidr_compare(&out[i], &out[j]), 0);
				ck_assert(!u32_contains(ra, rl, v4_u32(&out[j]), out[j].len));
				ck_assert(!u32_contains(v4_u32(&out[j]), out[j].len, ra, rl));
			}
		}
		/* Disjoint results: the sizes of their parts in c add up to c. */
		for (unsigned i = 0; i < tr.nc; i++) {
			uint64_t got = 0;

			for (size_t j = 0; j < n; j++) {
				uint32_t ra = v4_u32(&out[j]);

				if (u32_contains(ra, out[j].len, tr.ca[i], tr.cl[i]))
					got += 1ULL << (32 - tr.cl[i]);
				else if (u32_contains(tr.ca[i], tr.cl[i], ra, out[j].len))
					got += 1ULL << (32 - out[j].len);
			}
			ck_assert_msg(got == 1ULL << (32 - tr.cl[i]),
			    "trial %u: cover %u not covered exactly", trial, i);
		}
		free(out);
	}
	/* Both branches ran often enough to mean something. */
	ck_assert_uint_gt(ok, 1000);
	ck_assert_uint_gt(refused, 100);
}
END_TEST

START_TEST(test_aggregate_scales_to_tens_of_thousands)
{
	enum { nc = 40000, nf = 20000 };
	struct cidr *c = malloc(nc * sizeof(*c)), *f = malloc(nf * sizeof(*f));
	struct cidr *out = NULL;
	struct cidr_aggregate_opts o = { .min_len4 = 8, .min_len6 = 0 };
	struct nw_err err = { 0 };
	uint64_t rng = 77;
	size_t n = 0, covered = 0;

	ck_assert(c != NULL && f != NULL);
	/* Cover: /24s in the even /16s of 10/8; forbidden: /24s in the odd. */
	for (size_t i = 0; i < nc; i++) {
		uint32_t a = 0x0a000000U | (uint32_t)rng_below(&rng, 128) << 17 |
		    (uint32_t)rng_below(&rng, 256) << 8;

		c[i] = v4(a, 24);
	}
	for (size_t i = 0; i < nf; i++) {
		uint32_t a = 0x0a010000U | (uint32_t)rng_below(&rng, 128) << 17 |
		    (uint32_t)rng_below(&rng, 256) << 8;

		f[i] = v4(a, 24);
	}
	ck_assert_int_eq(cidr_aggregate(&out, &n, c, nc, f, nf, &o, &err), 0);
	/* Each even /16 holding cover collapses into one /16 at most. */
	ck_assert_uint_le(n, 128);
	ck_assert_uint_gt(n, 0);
	for (size_t i = 0; i < nc; i++) {
		size_t lo = 0, hi = n;

		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (cidr_compare(&out[mid], &c[i]) <= 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		covered += lo > 0 && cidr_contains(&out[lo - 1], &c[i]);
	}
	ck_assert_uint_eq(covered, nc);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(out[i].len, 16);
	free(out);
	free(c);
	free(f);
}
END_TEST

int
main(void)
{
	const TTest *const cidr_tests[] = {
		TEST_CASE("parse", 0),
		test_ipv4_prefixes_parse_into_bytes_and_format_back,
		test_ipv4_leading_zeros_are_rejected_but_a_lone_zero_is_fine,
		test_ipv4_octets_over_255_are_rejected,
		test_ipv4_wrong_octet_counts_and_bad_characters_are_rejected,
		test_lengths_must_be_present_decimal_plain_and_in_range,
		test_host_bits_set_are_rejected_naming_the_bits_and_the_prefix_meant,
		test_whitespace_zone_ids_and_empty_strings_are_rejected,
		test_each_kind_of_failure_has_its_own_message,
		test_ipv6_text_forms_of_rfc4291_parse,
		test_bad_ipv6_groups_and_shapes_are_rejected,
		test_ipv6_formats_per_rfc5952,
		test_parse_addr_takes_plain_addresses_only,
		TEST_CASE("arithmetic", 0),
		test_compare_orders_family_then_address_then_length,
		test_contains_overlaps_supernet_last_and_max_len,
		/* The big cases run under sanitizers on two cores: give them room. */
		TEST_CASE("table", 120),
		test_table_add_twice_keeps_the_old_value,
		test_table_rejects_null_values_and_bad_prefixes,
		test_table_lookup_picks_the_longest_prefix,
		test_table_lookup_all_returns_containing_prefixes_longest_first,
		test_table_with_200000_prefixes_agrees_with_brute_force,
		test_table_holds_many_ipv6_prefixes,
		TEST_CASE("aggregate", 120),
		test_aggregate_finds_the_fewest_prefixes_around_a_forbidden_one,
		test_aggregate_may_lie_inside_a_forbidden_supernet,
		test_aggregate_honours_the_floor,
		test_aggregate_rejects_a_cover_prefix_holding_a_forbidden_one,
		test_aggregate_ipv6_and_mixed_families,
		test_aggregate_of_nothing_is_nothing,
		test_aggregate_dedupes_and_absorbs_nested_cover,
		test_aggregate_is_minimal_on_random_small_inputs,
		test_aggregate_scales_to_tens_of_thousands,
		NULL,
	};

	return test_main("cidr", cidr_tests);
}
