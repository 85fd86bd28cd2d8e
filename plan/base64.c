/*
 * Base64 decoding (RFC 4648) for the provider and the emulator
 * (plan/base64.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "plan/base64.h"

/* RFC 4648 section 4 (standard) and section 5 (URL and file name safe). */
static const char std_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int
digit(char ch, bool url)
{
	const char *alphabet = url ? url_alphabet : std_alphabet;
	const char *p = ch != '\0' ? strchr(alphabet, ch) : NULL;

	return p != NULL ? (int)(p - alphabet) : -1;
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
		if ((d = digit(s[i], url)) < 0) {
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
