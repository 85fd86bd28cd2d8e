/*
 * Base64 decoding (RFC 4648), shared by the Azure provider (a JWT's exp
 * claim) and the emulator (client assertions, certificates, list skip
 * tokens), so one decoder serves every reader of base64.
 */
#ifndef NETWAVE_PLAN_BASE64_H
#define NETWAVE_PLAN_BASE64_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Decodes the n characters at s into a new buffer (free it), with a NUL
 * after its *outlen bytes.  url: the URL alphabet ('-', '_') without
 * padding (RFC 4648 section 5); else the standard alphabet, which stops at
 * '=' and passes over line breaks and spaces (PEM bodies).  NULL when a
 * character is outside the alphabet or out of memory.
 */
unsigned char *base64_decode(const char *s, size_t n, bool url, size_t *outlen);

#endif
