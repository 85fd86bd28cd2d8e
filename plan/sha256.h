/*
 * SHA-256 (FIPS 180-4), for the fingerprints a plan records of the
 * topologies it was made from and for plan ids.  Small and dependency-free
 * so plan/ stays pure: no OpenSSL for one hash.
 */
#ifndef NETWAVE_PLAN_SHA256_H
#define NETWAVE_PLAN_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32
/* 64 hex digits and a NUL. */
#define SHA256_HEX_LEN 65

struct sha256 {
	uint32_t h[8];
	uint64_t nbytes;   /* message length so far */
	uint8_t buf[64];   /* the partial block */
	size_t nbuf;
	/* the compression function over n 64-byte blocks: portable C or the CPU's SHA extensions */
	void (*blocks)(uint32_t state[8], const uint8_t *p, size_t n);
};

/* Starts a digest, with the CPU's SHA instructions when it has them. */
void sha256_init(struct sha256 *s);

/* Starts a digest that uses the portable code only (for tests: both must agree). */
void sha256_init_portable(struct sha256 *s);

/* Adds len bytes of data; may be called any number of times. */
void sha256_update(struct sha256 *s, const void *data, size_t len);

/* Pads, writes the digest and leaves s unusable until sha256_init. */
void sha256_final(struct sha256 *s, uint8_t out[SHA256_DIGEST_LEN]);

/* One-shot digest of a buffer as 64 lowercase hex digits. */
void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN]);

#endif
