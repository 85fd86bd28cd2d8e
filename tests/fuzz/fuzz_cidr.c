/*
 * Fuzz target: the CIDR parser (plan/cidr.h).  Each line of the input is
 * a prefix, or with a leading '-' a prefix to keep out of a summary, or
 * with a leading '@' a plain address.  Checked: what parses formats to
 * text that parses back to the same prefix and formats the same again;
 * what fails says why; and the accepted prefixes, summarized with
 * cidr_aggregate, give disjoint supernets that cover every prefix and
 * contain no prefix kept out.
 */
#include "config.h"

#include <string.h>

#include "plan/cidr.h"
#include "tests/fuzz/fuzz.h"

#define MAX_LINES 64

static void
check_prefix(const char *line, const struct cidr *c)
{
	char text[CIDR_STRLEN], again[CIDR_STRLEN];
	struct cidr back;
	struct nw_err err = { 0 };

	FUZZ_CHECK(c->family == 4 || c->family == 6, "'%s': family %u", line, c->family);
	FUZZ_CHECK(c->len <= cidr_max_len(c), "'%s': length %u", line, c->len);
	{
		struct cidr sup = cidr_supernet(c, c->len);
		FUZZ_CHECK(memcmp(&sup, c, sizeof(sup)) == 0, "'%s': bits set beyond the length", line);
	}
	cidr_format(c, text);
	FUZZ_CHECK(memchr(text, '\0', sizeof(text)) != NULL, "'%s': unterminated text", line);
	FUZZ_CHECK(cidr_parse(&back, text, &err) == 0, "'%s' formats as '%s', which does not "
	    "parse: %s", line, text, err.msg);
	FUZZ_CHECK(cidr_equal(&back, c), "'%s' -> '%s' parses to another prefix", line, text);
	cidr_format(&back, again);
	FUZZ_CHECK(strcmp(text, again) == 0, "'%s': '%s' then '%s'", line, text, again);
	FUZZ_CHECK(cidr_contains(c, c) && cidr_overlaps(c, c), "'%s': not inside itself", line);
	{
		struct cidr last = cidr_last(c);
		FUZZ_CHECK(cidr_contains(c, &last), "'%s': last address outside", line);
	}
}

static void
check_address(const char *line, const struct cidr *c)
{
	char text[CIDR_STRLEN];
	struct cidr back;
	struct nw_err err = { 0 };

	FUZZ_CHECK(c->len == cidr_max_len(c), "'%s': address of length %u", line, c->len);
	cidr_format_addr(c, text);
	FUZZ_CHECK(cidr_parse_addr(&back, text, &err) == 0, "'%s' formats as '%s', which does not "
	    "parse: %s", line, text, err.msg);
	FUZZ_CHECK(cidr_equal(&back, c), "'%s' -> '%s' parses to another address", line, text);
}

/* The summary's promises: disjoint, sorted, covering, and clear of what is kept out. */
static void
check_aggregate(const struct cidr *cover, size_t ncover, const struct cidr *forbid,
    size_t nforbid)
{
	struct cidr_aggregate_opts opts = { 8, 32 };
	struct cidr *out = NULL;
	struct cidr_table *t = NULL;
	size_t nout = 0, i, j;
	struct nw_err err = { 0 };

	if (cidr_aggregate(&out, &nout, cover, ncover, forbid, nforbid, &opts, &err) != 0) {
		FUZZ_CHECK(err.code == NW_EINPUT || err.code == NW_ENOMEM, "code %d", err.code);
		FUZZ_CHECK(err.msg[0] != '\0', "an error without a message");
		return;
	}
	t = cidr_table_new();
	if (t == NULL)
		goto done;
	for (i = 0; i < nout; i++) {
		if (i > 0)
			FUZZ_CHECK(cidr_compare(&out[i - 1], &out[i]) < 0, "summary not sorted at %zu", i);
		for (j = i + 1; j < nout; j++)
			FUZZ_CHECK(!cidr_overlaps(&out[i], &out[j]), "summary %zu and %zu overlap", i, j);
		for (j = 0; j < nforbid; j++)
			FUZZ_CHECK(!cidr_contains(&out[i], &forbid[j]), "summary %zu contains a prefix "
			    "kept out", i);
		FUZZ_CHECK(cidr_table_add(t, &out[i], &out[i]) == 0, "summary %zu twice", i);
	}
	for (i = 0; i < ncover; i++) {
		struct cidr last = cidr_last(&cover[i]);
		FUZZ_CHECK(cidr_table_lookup(t, &cover[i], NULL) != NULL, "the start of prefix %zu "
		    "is not covered", i);
		FUZZ_CHECK(cidr_table_lookup(t, &last, NULL) != NULL, "the end of prefix %zu is not "
		    "covered", i);
	}
done:
	cidr_table_free(t);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cidr cover[MAX_LINES], forbid[MAX_LINES];
	size_t ncover = 0, nforbid = 0, lines = 0;
	char *text = fuzz_text(data, size), *line, *next;

	if (text == NULL)
		return 0;
	for (line = text; line != NULL && lines < MAX_LINES; line = next, lines++) {
		struct nw_err err = { 0 };
		struct cidr c;
		bool is_forbid = line[0] == '-', is_addr = line[0] == '@';
		const char *s = is_forbid || is_addr ? line + 1 : line;
		int rc;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		rc = is_addr ? cidr_parse_addr(&c, s, &err) : cidr_parse(&c, s, &err);
		if (rc != 0) {
			FUZZ_CHECK(rc == NW_EINPUT && err.code == NW_EINPUT, "'%s': rc %d", s, rc);
			FUZZ_CHECK(err.msg[0] != '\0', "'%s': an error without a message", s);
			continue;
		}
		if (is_addr) {
			check_address(s, &c);
			continue;
		}
		check_prefix(s, &c);
		if (is_forbid)
			forbid[nforbid++] = c;
		else
			cover[ncover++] = c;
	}
	if (ncover > 0)
		check_aggregate(cover, ncover, forbid, nforbid);
	free(text);
	return 0;
}
