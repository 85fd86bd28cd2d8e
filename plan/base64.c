/*
 * Base64 decoding (RFC 4648) for the provider and the emulator
 * (plan/base64.h).
 */
#include "config.h"

#include <stdlib.h>

#include "plan/base64.h"

static int
digit(unsigned char ch, bool url)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == (url ? '-' : '+'))
		return 62;
	if (ch == (url ? '_' : '/'))
		return 63;
	return -1;
}

unsigned char *
base64_decode(const char *s, size_t n, bool url, size_t *outlen)
{
	unsigned char *out = malloc(n * 3 / 4 + 3);
	unsigned acc = 0;
	int bits = 0;
	size_t i, o = 0;

	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		int d;
		if (!url && s[i] == '=')
			break;
		if (!url && (s[i] == '\n' || s[i] == '\r' || s[i] == ' '))
			continue;
		if ((d = digit((unsigned char)s[i], url)) < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}
