/*
 * IPv4 and IPv6 prefixes: strict parsing (as strict as ARM), canonical
 * formatting (RFC 5952 for IPv6), containment and overlap, a
 * longest-prefix-match table, and aggregation into the fewest supernets.
 * Everything above (topology, routes, planner, emulator) speaks in these.
 */
#ifndef NETWAVE_PLAN_CIDR_H
#define NETWAVE_PLAN_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan/err.h"

/* Enough for "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128" and a NUL. */
#define CIDR_STRLEN 56

/*
 * A prefix, or an address when len is 32 (IPv4) or 128 (IPv6).  The
 * address is in network byte order; IPv4 uses addr[0..3] and the rest is
 * zero.  Bits beyond len are always zero, so two equal prefixes compare
 * equal with memcmp over the whole struct.
 */
struct cidr {
	uint8_t family; /* 4 or 6 */
	uint8_t len;    /* 0..32 or 0..128 */
	uint8_t addr[16];
};

/*
 * Parses "a.b.c.d/n" or an IPv6 prefix "x::/n".  The length is required.
 * Rejected, each with its own message: leading zeros in an IPv4 octet
 * ("010"), octets over 255, too few or too many octets, bad IPv6 groups,
 * a missing, empty, non-numeric or out-of-range length, and host bits set
 * beyond the length (the message names the bits and the prefix meant).
 * Returns 0, or NW_EINPUT with a message that quotes the input.
 */
int cidr_parse(struct cidr *out, const char *s, struct nw_err *err);

/* Parses a plain address (no "/n"); the result has the full length. */
int cidr_parse_addr(struct cidr *out, const char *s, struct nw_err *err);

/* Canonical "10.0.0.0/16" or "2001:db8::/32" (RFC 5952: lowercase,
 * longest run of two or more zero groups compressed, first on a tie). */
void cidr_format(const struct cidr *c, char buf[CIDR_STRLEN]);

/* The address alone, without "/n". */
void cidr_format_addr(const struct cidr *c, char buf[CIDR_STRLEN]);

/* Total order: family, then address, then length (shorter first). */
int cidr_compare(const struct cidr *a, const struct cidr *b);

bool cidr_equal(const struct cidr *a, const struct cidr *b);

/* True when inner lies inside outer (same family, inner.len >= outer.len). */
bool cidr_contains(const struct cidr *outer, const struct cidr *inner);

/* True when the two share at least one address. */
bool cidr_overlaps(const struct cidr *a, const struct cidr *b);

/* The enclosing prefix of length len (len <= c->len). */
struct cidr cidr_supernet(const struct cidr *c, unsigned len);

/* The last address of the prefix (all host bits one), as a full-length cidr. */
struct cidr cidr_last(const struct cidr *c);

/* The maximum length for the family: 32 or 128. */
unsigned cidr_max_len(const struct cidr *c);

/* Sorts in cidr_compare order. */
void cidr_sort(struct cidr *v, size_t n);

/*
 * A longest-prefix-match table of prefixes to values, IPv4 and IPv6
 * together.  Built for hundreds of thousands of routes: lookups cost one
 * hash probe per distinct prefix length present.
 */
struct cidr_table;

/* New empty table; NULL on out of memory. */
struct cidr_table *cidr_table_new(void);

/* Frees the table (not the values); accepts NULL. */
void cidr_table_free(struct cidr_table *t);

/*
 * Adds prefix -> value.  Returns 0 when added, 1 when the prefix was
 * already present (the old value is kept), NW_ENOMEM on failure, and
 * NW_EINPUT for a NULL value (lookups use NULL for "no match").
 */
int cidr_table_add(struct cidr_table *t, const struct cidr *prefix, void *value);

/* The value stored for exactly this prefix, or NULL. */
void *cidr_table_get(const struct cidr_table *t, const struct cidr *prefix);

/*
 * The value of the longest prefix that contains addr (a prefix or a full
 * address), or NULL.  When matched is not NULL it receives that prefix.
 */
void *cidr_table_lookup(const struct cidr_table *t, const struct cidr *addr,
    struct cidr *matched);

/*
 * All prefixes that contain addr, longest first: writes up to max values
 * (and prefixes, when not NULL) and returns how many there are in all.
 */
size_t cidr_table_lookup_all(const struct cidr_table *t, const struct cidr *addr,
    void **values, struct cidr *prefixes, size_t max);

/* Number of prefixes in the table. */
size_t cidr_table_count(const struct cidr_table *t);

/*
 * Aggregation.  Computes the fewest non-overlapping prefixes that together
 * cover every address of `cover`, such that no result prefix contains (is
 * equal to or a supernet of) any prefix of `forbid`.  A result prefix may
 * lie inside a forbidden prefix: a more specific route is how Azure space
 * stays reachable under an on-premises supernet.  The result may cover
 * addresses not in `cover`; that is what summarization is for.
 *
 * min_len4 / min_len6 are the shortest lengths a result may use (0: no
 * floor), so a summary never grows into 0.0.0.0/0.  The floor only stops
 * growth: a cover prefix already shorter than it is kept as it is.
 *
 * Fails with NW_EINPUT, naming both, when a cover prefix itself contains a
 * forbidden prefix (nothing can cover it without covering the other).
 * On success *out is a new array sorted by cidr_compare (free() it), and
 * *nout its length.
 */
struct cidr_aggregate_opts {
	unsigned min_len4;
	unsigned min_len6;
};

int cidr_aggregate(struct cidr **out, size_t *nout,
    const struct cidr *cover, size_t ncover,
    const struct cidr *forbid, size_t nforbid,
    const struct cidr_aggregate_opts *opts, struct nw_err *err);

#endif
