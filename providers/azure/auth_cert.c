/*
 * The certificate credential, as azure-identity's ClientCertificateCredential
 * and EnvironmentCredential do it: AZURE_CLIENT_CERTIFICATE_PATH names a PEM
 * file holding the private key and the certificate, or a PKCS#12 file
 * (AZURE_CLIENT_CERTIFICATE_PASSWORD opens it, or an encrypted PEM key).
 * Each token request carries a client assertion: a JWT signed with the
 * certificate's key, whose header names the certificate by the SHA-256
 * thumbprint of its DER encoding.
 *
 * The format is Microsoft's "certificate credentials" page
 * (https://learn.microsoft.com/entra/identity-platform/certificate-credentials):
 * header alg PS256, typ JWT, x5t#S256; claims aud (the token endpoint),
 * exp, iss and sub (the client id), jti (a GUID), nbf.  It is what
 * @azure/identity 4 sends through msal-node (ClientAssertion.createJwt with
 * a SHA-256 thumbprint: PS256, x5t#S256, exp = nbf + 600 s).  The older
 * RS256 + x5t (SHA-1) form is still accepted by Entra ID and by the
 * emulator, but netwave does not send it.
 *
 * With AZURE_CLIENT_SEND_CERTIFICATE_CHAIN set to 1 or true (azure-identity's
 * EnvironmentCredential reads the same variable; sendCertificateChain in
 * @azure/identity) the header also carries x5c: the certificate first, then
 * the rest of the chain the file holds, each the standard base64 of its DER
 * encoding (RFC 7515, section 4.1.6), which subject name/issuer
 * authentication needs.
 *
 * The key stays in OpenSSL's memory and never reaches a log or a message;
 * the file's bytes and the password are overwritten once read.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "plan/jsonutil.h"
#include "providers/azure/internal.h"

#define CERT_MAX_BYTES ((size_t)1 << 20)
#define ASSERTION_LIFETIME 600 /* msal-node: exp = nbf + 600 */

struct az_cert {
	EVP_PKEY *key;
	unsigned char sha1[20];
	unsigned char sha256[32];
	double not_after;  /* epoch seconds */
	json_t *x5c;       /* the chain, certificate first (RFC 7515 x5c) */
	bool send_chain;   /* AZURE_CLIENT_SEND_CERTIFICATE_CHAIN */
};

void
az_cert_free(struct az_cert *c)
{
	if (c == NULL)
		return;
	EVP_PKEY_free(c->key);
	json_decref(c->x5c);
	free(c);
}

size_t
az_b64url(char *out, size_t size, const unsigned char *in, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0, i;

	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		size_t k, left = n - i;
		if (left > 1)
			v |= (unsigned)in[i + 1] << 8;
		if (left > 2)
			v |= in[i + 2];
		for (k = 0; k < (left >= 3 ? 4 : left + 1); k++) {
			if (o + 1 >= size)
				goto done;
			out[o++] = tab[(v >> (18 - 6 * k)) & 63];
		}
	}
done:
	if (size > 0)
		out[o] = '\0';
	return o;
}

/* No passphrase prompt ever: the password comes from the environment or not at all. */
static int
pem_password(char *buf, int size, int rwflag, void *arg)
{
	const char *pw = arg;
	int n;

	(void)rwflag;
	if (pw == NULL)
		return -1;
	n = (int)strlen(pw);
	if (n > size)
		return -1;
	memcpy(buf, pw, (size_t)n);
	return n;
}

static double
asn1_time_epoch(const ASN1_TIME *t)
{
	struct tm tm = { 0 };

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (double)timegm(&tm);
}

/* The certificate among certs whose public key is key's (the chain may come first). */
static X509 *
matching_cert(STACK_OF(X509) *certs, EVP_PKEY *key)
{
	int i;

	for (i = 0; i < sk_X509_num(certs); i++)
		if (X509_check_private_key(sk_X509_value(certs, i), key) == 1)
			return sk_X509_value(certs, i);
	return NULL;
}

static int
load_pem(const char *buf, size_t len, const char *path, const char *password, EVP_PKEY **key,
    STACK_OF(X509) *certs, struct nw_err *err)
{
	BIO *bio = BIO_new_mem_buf(buf, (int)len);
	X509 *x;

	if (bio == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	/* every certificate (a chain may come with it), skipping the other blocks */
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		sk_X509_push(certs, x);
	ERR_clear_error();
	BIO_free(bio);
	/* the key: plain or encrypted, PKCS#8 or traditional */
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	*key = PEM_read_bio_PrivateKey(bio, NULL, pem_password, (void *)password);
	ERR_clear_error();
	BIO_free(bio);
	if (*key != NULL)
		return 0;
	if (memmem(buf, len, "ENCRYPTED", 9) != NULL)
		return err_set(err, NW_EINPUT, "AZURE_CLIENT_CERTIFICATE_PATH '%s': the private key is "
		    "encrypted and %s", path, password == NULL ?
		    "AZURE_CLIENT_CERTIFICATE_PASSWORD is not set" :
		    "AZURE_CLIENT_CERTIFICATE_PASSWORD does not open it");
	return err_set(err, NW_EINPUT, "AZURE_CLIENT_CERTIFICATE_PATH '%s': no private key in the "
	    "PEM file (expected the certificate and its private key, as azure-identity does)", path);
}

static int
load_p12(BIO *bio, const char *path, const char *password, EVP_PKEY **key, STACK_OF(X509) *certs,
    struct nw_err *err)
{
	PKCS12 *p12 = d2i_PKCS12_bio(bio, NULL);
	X509 *cert = NULL;
	STACK_OF(X509) *ca = NULL;
	const char *pw = password != NULL ? password : "";
	int rc = 0;

	if (p12 == NULL) {
		ERR_clear_error();
		return err_set(err, NW_EINPUT, "AZURE_CLIENT_CERTIFICATE_PATH '%s': neither PEM nor "
		    "PKCS#12 (expected a PEM file with the certificate and its private key, or a .pfx)",
		    path);
	}
	if (PKCS12_mac_present(p12) && PKCS12_verify_mac(p12, pw, -1) != 1 &&
	    !(password == NULL && PKCS12_verify_mac(p12, NULL, 0) == 1)) {
		ERR_clear_error();
		rc = err_set(err, NW_EINPUT, "AZURE_CLIENT_CERTIFICATE_PATH '%s': %s", path,
		    password == NULL ? "the PKCS#12 file needs a password and "
		    "AZURE_CLIENT_CERTIFICATE_PASSWORD is not set" :
		    "AZURE_CLIENT_CERTIFICATE_PASSWORD is not the PKCS#12 file's password");
		goto done;
	}
	if (PKCS12_parse(p12, pw, key, &cert, &ca) != 1 || *key == NULL) {
		ERR_clear_error();
		rc = err_set(err, NW_EINPUT, "AZURE_CLIENT_CERTIFICATE_PATH '%s': the PKCS#12 file "
		    "holds no private key that opens (expected a certificate with its key)", path);
		goto done;
	}
	if (cert != NULL) {
		sk_X509_push(certs, cert);
		cert = NULL;
	}
	while (ca != NULL && sk_X509_num(ca) > 0)
		sk_X509_push(certs, sk_X509_shift(ca));
done:
	X509_free(cert);
	sk_X509_pop_free(ca, X509_free);
	PKCS12_free(p12);
	return rc;
}

/* Standard base64 of x's DER encoding as a new JSON string, or NULL. */
static json_t *
der_b64(X509 *x)
{
	unsigned char *der = NULL, *b64;
	int n = i2d_X509(x, &der);
	json_t *s = NULL;

	if (n <= 0)
		return NULL;
	if ((b64 = malloc(((size_t)n + 2) / 3 * 4 + 1)) != NULL) {
		EVP_EncodeBlock(b64, der, n);
		s = json_string((const char *)b64);
		free(b64);
	}
	OPENSSL_free(der);
	return s;
}

/* The x5c array: leaf first, then every other certificate in the file's order. */
static json_t *
chain_x5c(STACK_OF(X509) *certs, X509 *leaf)
{
	json_t *a = json_array();
	int i;

	if (a == NULL || json_array_append_new(a, der_b64(leaf)) != 0)
		goto fail;
	for (i = 0; i < sk_X509_num(certs); i++)
		if (sk_X509_value(certs, i) != leaf &&
		    json_array_append_new(a, der_b64(sk_X509_value(certs, i))) != 0)
			goto fail;
	return a;
fail:
	json_decref(a);
	return NULL;
}

static int
cert_fill(struct az_cert *c, X509 *x, const char *path, double now, struct nw_err *err)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);
	unsigned int len;
	char when[32];
	time_t t;

	if (n <= 0)
		return err_set(err, NW_EINPUT, "AZURE_CLIENT_CERTIFICATE_PATH '%s': the certificate "
		    "does not encode", path);
	EVP_Digest(der, (size_t)n, c->sha1, &len, EVP_sha1(), NULL);
	EVP_Digest(der, (size_t)n, c->sha256, &len, EVP_sha256(), NULL);
	OPENSSL_free(der);
	c->not_after = asn1_time_epoch(X509_get0_notAfter(x));
	if (EVP_PKEY_base_id(c->key) != EVP_PKEY_RSA)
		return err_set(err, NW_EINPUT, "AZURE_CLIENT_CERTIFICATE_PATH '%s': the key is not RSA "
		    "(Entra ID signs and checks client assertions with RSA keys)", path);
	if (c->not_after > 0 && c->not_after <= now) {
		char hex[41];
		size_t i;
		t = (time_t)c->not_after;
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
		for (i = 0; i < 20; i++)
			snprintf(hex + 2 * i, 3, "%02X", c->sha1[i]);
		return err_set(err, NW_EINPUT, "AZURE_CLIENT_CERTIFICATE_PATH '%s': the certificate "
		    "(thumbprint %s) expired at %s; Entra ID refuses expired keys (AADSTS700027): "
		    "renew it and upload the new one to the app registration", path, hex, when);
	}
	return 0;
}

int
az_cert_load(struct az_cert **out, const char *path, const char *password, double now,
    struct nw_err *err)
{
	struct az_cert *c = NULL;
	char *buf = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	STACK_OF(X509) *certs = sk_X509_new_null();
	struct nw_err ferr = { 0 };
	X509 *x;
	int rc;

	*out = NULL;
	if (certs == NULL || (c = calloc(1, sizeof(*c))) == NULL) {
		rc = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	if (file_read_all(&buf, &len, path, CERT_MAX_BYTES, &ferr) != 0) {
		rc = err_set(err, NW_EINPUT, "AZURE_CLIENT_CERTIFICATE_PATH: %s", ferr.msg);
		goto done;
	}
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		rc = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	if (memmem(buf, len, "-----BEGIN", 10) != NULL)
		rc = load_pem(buf, len, path, password, &c->key, certs, err);
	else
		rc = load_p12(bio, path, password, &c->key, certs, err);
	if (rc != 0)
		goto done;
	if (sk_X509_num(certs) == 0) {
		rc = err_set(err, NW_EINPUT, "AZURE_CLIENT_CERTIFICATE_PATH '%s': no certificate in the "
		    "file (expected the certificate with its private key)", path);
		goto done;
	}
	if ((x = matching_cert(certs, c->key)) == NULL) {
		ERR_clear_error();
		rc = err_set(err, NW_EINPUT, "AZURE_CLIENT_CERTIFICATE_PATH '%s': no certificate in the "
		    "file matches its private key", path);
		goto done;
	}
	if ((rc = cert_fill(c, x, path, now, err)) != 0)
		goto done;
	if ((c->x5c = chain_x5c(certs, x)) == NULL) {
		rc = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	*out = c;
	c = NULL;
done:
	BIO_free(bio);
	if (buf != NULL) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	sk_X509_pop_free(certs, X509_free);
	az_cert_free(c);
	return rc;
}

void
az_cert_send_chain(struct az_cert *c, bool on)
{
	c->send_chain = on;
}

size_t
az_cert_chain_length(const struct az_cert *c)
{
	return json_array_size(c->x5c);
}

void
az_cert_thumbprint(const struct az_cert *c, char out[41])
{
	size_t i;

	for (i = 0; i < 20; i++)
		snprintf(out + 2 * i, 3, "%02X", c->sha1[i]);
}

/* base64url of a JSON object's compact, sorted text; malloc'd. */
static char *
b64_json(json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	size_t n, cap;
	char *out;

	if (text == NULL)
		return NULL;
	n = strlen(text);
	cap = (n + 2) / 3 * 4 + 1;
	if ((out = malloc(cap)) != NULL)
		az_b64url(out, cap, (const unsigned char *)text, n);
	free(text);
	return out;
}

/* RSASSA-PSS with SHA-256, MGF1 SHA-256 and a 32-byte salt (RFC 7518 section 3.5). */
static int
sign_ps256(EVP_PKEY *key, const char *input, unsigned char **sig, size_t *siglen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int ok = 0;

	*sig = NULL;
	if (md == NULL)
		return -1;
	if (EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, key) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1 &&
	    EVP_DigestSign(md, NULL, siglen, (const unsigned char *)input, strlen(input)) == 1 &&
	    (*sig = malloc(*siglen)) != NULL &&
	    EVP_DigestSign(md, *sig, siglen, (const unsigned char *)input, strlen(input)) == 1)
		ok = 1;
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	if (!ok) {
		free(*sig);
		*sig = NULL;
		return -1;
	}
	return 0;
}

int
az_cert_assertion(char **out, const struct az_cert *c, const char *aud, const char *client_id,
    double now, const char *jti, struct nw_err *err)
{
	char x5t[48];
	json_t *hdr = NULL, *claims = NULL;
	char *h = NULL, *p = NULL, *input = NULL, *sig64 = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	long long t = (long long)now;
	int rc = 0;

	*out = NULL;
	az_b64url(x5t, sizeof(x5t), c->sha256, sizeof(c->sha256));
	hdr = json_pack("{s:s,s:s,s:s}", "alg", "PS256", "typ", "JWT", "x5t#S256", x5t);
	if (hdr != NULL && c->send_chain && json_object_set(hdr, "x5c", c->x5c) != 0) {
		rc = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	claims = json_pack("{s:s,s:I,s:s,s:s,s:I,s:s}", "aud", aud, "exp",
	    (json_int_t)(t + ASSERTION_LIFETIME), "iss", client_id, "jti", jti, "nbf", (json_int_t)t,
	    "sub", client_id);
	if (hdr == NULL || claims == NULL || (h = b64_json(hdr)) == NULL ||
	    (p = b64_json(claims)) == NULL || asprintf(&input, "%s.%s", h, p) < 0) {
		input = NULL;
		rc = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	if (sign_ps256(c->key, input, &sig, &siglen) != 0) {
		rc = err_set(err, NW_EFAIL, "cannot sign the client assertion with the certificate's "
		    "key");
		goto done;
	}
	if ((sig64 = malloc((siglen + 2) / 3 * 4 + 1)) == NULL) {
		rc = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	az_b64url(sig64, (siglen + 2) / 3 * 4 + 1, sig, siglen);
	if (asprintf(out, "%s.%s", input, sig64) < 0) {
		*out = NULL;
		rc = err_set(err, NW_ENOMEM, "out of memory");
	}
done:
	json_decref(hdr);
	json_decref(claims);
	free(h);
	free(p);
	free(input);
	free(sig);
	free(sig64);
	return rc;
}
