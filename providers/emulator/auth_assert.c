/*
 * The emulator's check of a certificate client assertion, as Entra ID does
 * it at the token endpoint (auth.c calls it for a client that has
 * keyCredentials in the clients file).  The assertion is a JWT signed with
 * the private key of a certificate registered on the application
 * (https://learn.microsoft.com/entra/identity-platform/certificate-credentials):
 * header alg PS256 with x5t#S256 (SHA-256 thumbprint of the DER
 * certificate), or the older RS256 with x5t (SHA-1); claims aud = the token
 * endpoint, iss = sub = the client id, exp, nbf, jti.
 *
 * The keys are the application's keyCredentials as Microsoft Graph shows
 * them (https://learn.microsoft.com/graph/api/resources/keycredential):
 * "key" is the base64 DER certificate; its validity is the certificate's.
 *
 * Answers, with the codes Entra ID sends (the messages are those seen from
 * Entra ID; the page https://login.microsoftonline.com/error?code=N has
 * each code):
 *   malformed JWT                        400 invalid_request AADSTS50027
 *   no registered key with the thumbprint 401 invalid_client AADSTS700027 (The key was not found.)
 *   the key expired or not yet valid     401 invalid_client AADSTS700027 (The key used is expired.)
 *   signature does not verify            401 invalid_client AADSTS700027 (signature did not match)
 *   iss or sub is not the client_id      401 invalid_client AADSTS700021
 *   aud is not this token endpoint       401 invalid_client AADSTS700023
 *   outside nbf..exp                     401 invalid_client AADSTS700024
 *   x5c whose first certificate is not the one x5t names, or not
 *   base64 DER certificates              400 invalid_request AADSTS50027
 * The last row is the emulator's reading of RFC 7515 (section 4.1.6: the
 * certificate holding the signing key comes first; 4.1.7/4.1.8: a thumbprint
 * names that certificate): Entra ID documents x5c only as what subject
 * name/issuer authentication needs, not what it answers to a mismatch.
 * The emulator checks the chain's shape, never trusts a key from it: the key
 * must still be one of the application's keyCredentials.
 * The clock skew Entra ID allows is not documented; the emulator allows
 * 300 s, Microsoft.IdentityModel's default (TokenValidationParameters.
 * DefaultClockSkew).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "plan/base64.h"
#include "plan/jsonutil.h"
#include "providers/emulator/auth_assert.h"
#include "providers/emulator/emu.h"

#define CLOCK_SKEW 300.0
#define DOCS "Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials ."

static json_t *
b64_json(const char *s, size_t n)
{
	size_t len;
	unsigned char *raw = base64_decode(s, n, true, &len);
	json_t *v;

	if (raw == NULL)
		return NULL;
	v = json_loadb((const char *)raw, len, 0, NULL);
	free(raw);
	if (v != NULL && !json_is_object(v)) {
		json_decref(v);
		return NULL;
	}
	return v;
}

/* A registered certificate (new reference), or NULL when "key" is not a base64 DER certificate. */
static X509 *
key_cert(const json_t *kc)
{
	const char *k = json_str(kc, "key");
	unsigned char *der;
	const unsigned char *p;
	size_t len;
	X509 *x;

	if (k == NULL || (der = base64_decode(k, strlen(k), false, &len)) == NULL)
		return NULL;
	p = der;
	x = d2i_X509(NULL, &p, (long)len);
	free(der);
	ERR_clear_error();
	return x;
}

int
auth_assert_check_keys(const json_t *client, size_t index, struct nw_err *err)
{
	const json_t *keys = json_object_get(client, "keyCredentials"), *kc;
	size_t i;

	if (keys == NULL)
		return 0;
	if (!json_is_array(keys) || json_array_size(keys) == 0)
		return err_set(err, NW_EINPUT, "clients: /clients/%zu/keyCredentials: expected a "
		    "non-empty array", index);
	json_array_foreach(keys, i, kc) {
		X509 *x = key_cert(kc);
		const char *type = json_str(kc, "type");
		if (x == NULL)
			return err_set(err, NW_EINPUT, "clients: /clients/%zu/keyCredentials/%zu/key: "
			    "expected the certificate's DER encoding in base64", index, i);
		X509_free(x);
		if (type != NULL && strcmp(type, "AsymmetricX509Cert") != 0)
			return err_set(err, NW_EINPUT, "clients: /clients/%zu/keyCredentials/%zu/type: "
			    "expected \"AsymmetricX509Cert\"", index, i);
	}
	return 0;
}

static void
hex_of(const unsigned char *d, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02X", d[i]);
}

/* The registered certificate whose thumbprint the header names (new reference), or NULL. */
static X509 *
find_key(const json_t *client, const unsigned char *thumb, size_t tlen)
{
	const json_t *kc;
	size_t i;

	json_array_foreach(json_object_get(client, "keyCredentials"), i, kc) {
		X509 *x = key_cert(kc);
		unsigned char *der = NULL, md[32];
		unsigned int mdlen = 0;
		int n;

		if (x == NULL)
			continue;
		n = i2d_X509(x, &der);
		if (n > 0)
			EVP_Digest(der, (size_t)n, md, &mdlen, tlen == 20 ? EVP_sha1() : EVP_sha256(), NULL);
		OPENSSL_free(der);
		if (n > 0 && mdlen == tlen && memcmp(md, thumb, tlen) == 0)
			return x;
		X509_free(x);
	}
	return NULL;
}

static bool
signature_ok(X509 *x, bool pss, const char *input, size_t inlen, const unsigned char *sig,
    size_t siglen)
{
	EVP_PKEY *key = X509_get0_pubkey(x);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	bool ok = false;

	if (md != NULL && key != NULL &&
	    EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, key) == 1 &&
	    (!pss || (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1)))
		ok = EVP_DigestVerify(md, sig, siglen, (const unsigned char *)input, inlen) == 1;
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return ok;
}

static void
fail(struct auth_assert_fail *f, int status, const char *error, int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
fail(struct auth_assert_fail *f, int status, const char *error, int code, const char *fmt, ...)
{
	va_list ap;

	f->status = status;
	f->error = error;
	f->code = code;
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
}

static double
asn1_epoch(const ASN1_TIME *t)
{
	struct tm tm = { 0 };

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (double)timegm(&tm);
}

/* The claims: issuer, audience, time range.  True when they hold. */
static bool
claims_ok(const json_t *claims, const char *client_id, const char *audience, double now,
    struct auth_assert_fail *f)
{
	const char *iss = json_str(claims, "iss"), *sub = json_str(claims, "sub");
	const char *aud = json_str(claims, "aud");
	const json_t *jexp = json_object_get(claims, "exp"), *jnbf = json_object_get(claims, "nbf");
	double exp = json_is_number(jexp) ? json_number_value(jexp) : 0;
	double nbf = json_is_number(jnbf) ? json_number_value(jnbf) : 0;
	char a[40], b[40], c[40];

	if (iss == NULL || sub == NULL || strcmp(iss, client_id) != 0 || strcmp(sub, client_id) != 0) {
		fail(f, 401, "invalid_client", 700021, "Client assertion application identifier doesn't "
		    "match 'client_id' parameter. " DOCS);
		return false;
	}
	if (aud == NULL || strcasecmp(aud, audience) != 0) {
		fail(f, 401, "invalid_client", 700023, "Client assertion audience claim does not match "
		    "Realm issuer. " DOCS);
		return false;
	}
	if (exp <= 0 || now > exp + CLOCK_SKEW || now + CLOCK_SKEW < nbf) {
		emu_time_iso(now, a);
		emu_time_iso(nbf, b);
		emu_time_iso(exp, c);
		fail(f, 401, "invalid_client", 700024, "Client assertion is not within its valid time "
		    "range. Current time: %s, assertion valid from %s, expiry time of assertion %s. "
		    DOCS, a, b, c);
		return false;
	}
	return true;
}

/* The header's algorithm and thumbprint; false (f filled) when it has none usable. */
static bool
header_thumb(const json_t *hdr, bool *pss, unsigned char *thumb, size_t *tlen,
    struct auth_assert_fail *f)
{
	const char *alg = json_str(hdr, "alg");
	const char *t256 = json_str(hdr, "x5t#S256"), *t1 = json_str(hdr, "x5t");
	const char *t = t256 != NULL ? t256 : t1;
	unsigned char *raw;
	size_t n;

	*pss = alg != NULL && strcmp(alg, "PS256") == 0;
	if (alg == NULL || (strcmp(alg, "PS256") != 0 && strcmp(alg, "RS256") != 0)) {
		fail(f, 400, "invalid_request", 50027, "JWT token is invalid or malformed. The "
		    "signing algorithm '%s' is not supported: expected PS256 or RS256.",
		    alg != NULL ? alg : "");
		return false;
	}
	raw = t != NULL ? base64_decode(t, strlen(t), true, &n) : NULL;
	if (raw == NULL || n != (t256 != NULL ? 32u : 20u)) {
		free(raw);
		fail(f, 400, "invalid_request", 50027, "JWT token is invalid or malformed. The header "
		    "has no x5t#S256 or x5t thumbprint of the signing certificate.");
		return false;
	}
	memcpy(thumb, raw, n);
	*tlen = n;
	free(raw);
	return true;
}

/* True when hdr has no x5c, or when its first certificate has the thumbprint the header names. */
static bool
x5c_ok(const json_t *hdr, const unsigned char *thumb, size_t tlen, struct auth_assert_fail *f)
{
	const json_t *x5c = json_object_get(hdr, "x5c"), *v;
	bool ok = json_is_array(x5c) && json_array_size(x5c) > 0;
	size_t i;

	if (x5c == NULL)
		return true;
	json_array_foreach(x5c, i, v) {
		unsigned char *der, md[32];
		const unsigned char *p;
		unsigned int mdlen = 0;
		size_t len;
		X509 *x;

		if (!ok || !json_is_string(v) ||
		    (der = base64_decode(json_string_value(v), json_string_length(v), false, &len)) == NULL) {
			ok = false;
			break;
		}
		p = der;
		x = d2i_X509(NULL, &p, (long)len);
		ERR_clear_error();
		if (x != NULL && i == 0)
			EVP_Digest(der, len, md, &mdlen, tlen == 20 ? EVP_sha1() : EVP_sha256(), NULL);
		ok = x != NULL && (i > 0 || (mdlen == tlen && memcmp(md, thumb, tlen) == 0));
		X509_free(x);
		free(der);
	}
	if (!ok)
		fail(f, 400, "invalid_request", 50027, "JWT token is invalid or malformed. The header's "
		    "x5c must hold base64 DER certificates, the signing certificate (the one x5t names) "
		    "first.");
	return ok;
}

bool
auth_assert_verify(const json_t *client, const char *assertion, const char *client_id,
    const char *audience, double now, struct auth_assert_fail *f)
{
	const char *d1 = strchr(assertion, '.'), *d2 = d1 != NULL ? strchr(d1 + 1, '.') : NULL;
	json_t *hdr = NULL, *claims = NULL;
	unsigned char thumb[32], *sig = NULL;
	size_t tlen = 0, siglen = 0;
	char hex[65];
	X509 *x = NULL;
	bool pss = false, ok = false;
	double from, to;

	memset(f, 0, sizeof(*f));
	if (d1 == NULL || d2 == NULL || strchr(d2 + 1, '.') != NULL ||
	    (hdr = b64_json(assertion, (size_t)(d1 - assertion))) == NULL ||
	    (claims = b64_json(d1 + 1, (size_t)(d2 - d1 - 1))) == NULL ||
	    (sig = base64_decode(d2 + 1, strlen(d2 + 1), true, &siglen)) == NULL) {
		fail(f, 400, "invalid_request", 50027, "JWT token is invalid or malformed.");
		goto done;
	}
	if (!header_thumb(hdr, &pss, thumb, &tlen, f) || !x5c_ok(hdr, thumb, tlen, f))
		goto done;
	hex_of(thumb, tlen, hex);
	if ((x = find_key(client, thumb, tlen)) == NULL) {
		fail(f, 401, "invalid_client", 700027, "The certificate with identifier used to sign the "
		    "client assertion is not registered on application. [Reason - The key was not found., "
		    "Thumbprint of key used by client: '%s', Please visit the Azure Portal, Graph "
		    "Explorer or directly use MS Graph to see configured keys for app Id '%s'.]", hex,
		    client_id);
		goto done;
	}
	from = asn1_epoch(X509_get0_notBefore(x));
	to = asn1_epoch(X509_get0_notAfter(x));
	if (now < from || now > to) {
		char a[40], b[40];
		emu_time_iso(from, a);
		emu_time_iso(to, b);
		fail(f, 401, "invalid_client", 700027, "Client assertion failed signature validation. "
		    "[Reason - The key used is expired., Thumbprint of key used by client: '%s', Found "
		    "key 'Start=%s, End=%s']", hex, a, b);
		goto done;
	}
	if (!signature_ok(x, pss, assertion, (size_t)(d2 - assertion), sig, siglen)) {
		fail(f, 401, "invalid_client", 700027, "Client assertion contains an invalid signature. "
		    "[Reason - The provided signature value did not match the expected signature value., "
		    "Thumbprint of key used by client: '%s']", hex);
		goto done;
	}
	ok = claims_ok(claims, client_id, audience, now, f);
done:
	X509_free(x);
	free(sig);
	json_decref(hdr);
	json_decref(claims);
	return ok;
}
