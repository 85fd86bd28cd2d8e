/*
 * The certificate credential's two halves against each other, in process:
 * the client assertion netwave signs (providers/azure/auth_cert.c) has the
 * header and claims Microsoft's certificate-credentials page asks for, and
 * the emulator's token endpoint check (providers/emulator/auth_assert.c)
 * accepts it and the older RS256 + x5t form, and refuses each way an
 * assertion can be wrong with Entra ID's AADSTS code.  Also the key files
 * netwave refuses (wrong PKCS#12 password, key and certificate that do not
 * match), and each cloud's token scope against the audiences its metadata
 * endpoint publishes.  Keys and certificates are made here with OpenSSL.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "plan/jsonutil.h"
#include "providers/azure/internal.h"
#include "providers/emulator/auth_assert.h"
#include "tests/testutil.h"

#define NOW 1900000000.0
#define AUD "http://127.0.0.1:1/tenant-1/oauth2/v2.0/token"
#define CLIENT "cert-app"

struct pki {
	EVP_PKEY *key;
	X509 *cert;
	char dir[64];
	char pem[128];
};

static EVP_PKEY *
rsa_key(void)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
	EVP_PKEY *key = NULL;

	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(EVP_PKEY_keygen_init(ctx), 1);
	ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048), 1);
	ck_assert_int_eq(EVP_PKEY_keygen(ctx, &key), 1);
	EVP_PKEY_CTX_free(ctx);
	return key;
}

/* A self-signed certificate valid from NOW - 1 day for days days. */
static X509 *
self_signed(EVP_PKEY *key, long days)
{
	X509 *x = X509_new();
	X509_NAME *name;

	ck_assert_ptr_nonnull(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	ASN1_TIME_set(X509_getm_notBefore(x), (time_t)NOW - 86400);
	ASN1_TIME_set(X509_getm_notAfter(x), (time_t)NOW - 86400 + days * 86400);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"netwave-test",
	    -1, -1, 0);
	X509_set_issuer_name(x, name);
	ck_assert_int_gt(X509_sign(x, key, EVP_sha256()), 0);
	return x;
}

static void
pki_make(struct pki *p)
{
	FILE *f;

	memset(p, 0, sizeof(*p));
	snprintf(p->dir, sizeof(p->dir), "/tmp/nw-creds.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(p->dir));
	p->key = rsa_key();
	p->cert = self_signed(p->key, 30);
	snprintf(p->pem, sizeof(p->pem), "%s/cert.pem", p->dir);
	f = fopen(p->pem, "w");
	ck_assert_ptr_nonnull(f);
	PEM_write_X509(f, p->cert);
	PEM_write_PrivateKey(f, p->key, NULL, NULL, 0, NULL, NULL);
	fclose(f);
}

static void
pki_free(struct pki *p)
{
	char cmd[160];

	EVP_PKEY_free(p->key);
	X509_free(p->cert);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p->dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* {clientId, keyCredentials: [{key: base64 DER}]} for the emulator (new reference). */
static json_t *
client_with(X509 *cert)
{
	unsigned char *der = NULL;
	int n = i2d_X509(cert, &der);
	char *b64 = malloc((size_t)n * 2 + 4);
	json_t *v;

	ck_assert_int_gt(n, 0);
	EVP_EncodeBlock((unsigned char *)b64, der, n);
	OPENSSL_free(der);
	v = json_pack("{s:s,s:[{s:s,s:s}]}", "clientId", CLIENT, "keyCredentials", "type",
	    "AsymmetricX509Cert", "key", b64);
	free(b64);
	return v;
}

static json_t *
part_json(const char *jwt, int which)
{
	const char *a = jwt, *b;
	unsigned char raw[4096];
	size_t n = 0, i;
	unsigned acc = 0;
	int bits = 0;

	while (which-- > 0)
		a = strchr(a, '.') + 1;
	b = strchr(a, '.');
	for (i = 0; a + i < b; i++) {
		char ch = a[i];
		int d = ch >= 'A' && ch <= 'Z' ? ch - 'A' : ch >= 'a' && ch <= 'z' ? ch - 'a' + 26 :
		    ch >= '0' && ch <= '9' ? ch - '0' + 52 : ch == '-' ? 62 : 63;
		acc = (acc << 6) | (unsigned)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			raw[n++] = (unsigned char)(acc >> bits);
		}
	}
	return json_loadb((const char *)raw, n, 0, NULL);
}

static char *
signed_assertion(struct pki *p)
{
	struct az_cert *c = NULL;
	struct nw_err err = { 0 };
	char *jwt = NULL;

	ck_assert_int_eq(az_cert_load(&c, p->pem, NULL, NOW, &err), 0);
	ck_assert_int_eq(az_cert_assertion(&jwt, c, AUD, CLIENT, NOW, "0f0e0d0c-1111-4222-8333-444455556666",
	    &err), 0);
	az_cert_free(c);
	return jwt;
}

START_TEST(test_assertion_is_ps256_with_the_sha256_thumbprint_and_entras_claims)
{
	struct pki p;
	char *jwt, want[64];
	unsigned char *der = NULL, md[32];
	unsigned int mdlen;
	int n;
	json_t *h, *c;

	pki_make(&p);
	jwt = signed_assertion(&p);
	h = part_json(jwt, 0);
	c = part_json(jwt, 1);
	ck_assert_str_eq(json_str(h, "alg"), "PS256");
	ck_assert_str_eq(json_str(h, "typ"), "JWT");
	n = i2d_X509(p.cert, &der);
	EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL);
	OPENSSL_free(der);
	az_b64url(want, sizeof(want), md, mdlen);
	ck_assert_str_eq(json_str(h, "x5t#S256"), want);
	ck_assert_str_eq(json_str(c, "aud"), AUD);
	ck_assert_str_eq(json_str(c, "iss"), CLIENT);
	ck_assert_str_eq(json_str(c, "sub"), CLIENT);
	ck_assert_str_eq(json_str(c, "jti"), "0f0e0d0c-1111-4222-8333-444455556666");
	ck_assert_int_eq(json_integer_value(json_object_get(c, "nbf")), (json_int_t)NOW);
	ck_assert_int_eq(json_integer_value(json_object_get(c, "exp")), (json_int_t)NOW + 600);
	ck_assert_ptr_null(strstr(jwt, "="));
	json_decref(h);
	json_decref(c);
	free(jwt);
	pki_free(&p);
}
END_TEST

START_TEST(test_emulator_accepts_the_assertion_netwave_signs)
{
	struct pki p;
	struct auth_assert_fail f;
	json_t *client;
	char *jwt;

	pki_make(&p);
	client = client_with(p.cert);
	jwt = signed_assertion(&p);
	ck_assert_msg(auth_assert_verify(client, jwt, CLIENT, AUD, NOW + 10, &f), "%d %s", f.code,
	    f.msg);
	/* the audience is compared as a URL, case aside */
	ck_assert(auth_assert_verify(client, jwt, CLIENT, "HTTP://127.0.0.1:1/tenant-1/oauth2/v2.0/token",
	    NOW + 10, &f));
	json_decref(client);
	free(jwt);
	pki_free(&p);
}
END_TEST

/* The base64 DER of cert as x5c carries it (malloc'd). */
static char *
der64(X509 *cert)
{
	unsigned char *der = NULL;
	int n = i2d_X509(cert, &der);
	char *b64 = malloc((size_t)n * 2 + 4);

	ck_assert_int_gt(n, 0);
	EVP_EncodeBlock((unsigned char *)b64, der, n);
	OPENSSL_free(der);
	return b64;
}

START_TEST(test_the_chain_goes_in_x5c_only_when_asked_and_leaf_first)
{
	struct pki p, ca;
	struct az_cert *c = NULL;
	struct nw_err err = { 0 };
	struct auth_assert_fail f;
	json_t *client, *h;
	char *jwt = NULL, *leaf, *other, hdr[8192], h64[12000], bad[12400];
	size_t n;
	FILE *fp;

	pki_make(&p);
	pki_make(&ca);
	/* a second certificate after the key: the rest of the chain the file holds */
	fp = fopen(p.pem, "a");
	ck_assert_ptr_nonnull(fp);
	PEM_write_X509(fp, ca.cert);
	fclose(fp);
	client = client_with(p.cert);
	leaf = der64(p.cert);
	other = der64(ca.cert);

	ck_assert_int_eq(az_cert_load(&c, p.pem, NULL, NOW, &err), 0);
	ck_assert_uint_eq(az_cert_chain_length(c), 2);
	/* off by default, as azure-identity */
	ck_assert_int_eq(az_cert_assertion(&jwt, c, AUD, CLIENT, NOW, "j-1", &err), 0);
	h = part_json(jwt, 0);
	ck_assert_ptr_null(json_object_get(h, "x5c"));
	json_decref(h);
	free(jwt);

	az_cert_send_chain(c, true);
	ck_assert_int_eq(az_cert_assertion(&jwt, c, AUD, CLIENT, NOW, "j-1", &err), 0);
	h = part_json(jwt, 0);
	ck_assert_uint_eq(json_array_size(json_object_get(h, "x5c")), 2);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(h, "x5c"), 0)), leaf);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(h, "x5c"), 1)), other);
	ck_assert_msg(auth_assert_verify(client, jwt, CLIENT, AUD, NOW + 10, &f), "%d %s", f.code,
	    f.msg);

	/* a chain whose first certificate is not the signing one: malformed, before any key is tried */
	json_array_remove(json_object_get(h, "x5c"), 0);
	json_array_append_new(json_object_get(h, "x5c"), json_string(leaf));
	n = json_dumpb(h, hdr, sizeof(hdr) - 1, JSON_COMPACT);
	ck_assert(n > 0 && n < sizeof(hdr));
	hdr[n] = '\0';
	az_b64url(h64, sizeof(h64), (const unsigned char *)hdr, strlen(hdr));
	snprintf(bad, sizeof(bad), "%s%s", h64, strchr(jwt, '.'));
	ck_assert(!auth_assert_verify(client, bad, CLIENT, AUD, NOW + 10, &f));
	ck_assert_int_eq(f.status, 400);
	ck_assert_int_eq(f.code, 50027);
	ck_assert_ptr_nonnull(strstr(f.msg, "x5c"));

	json_decref(h);
	json_decref(client);
	free(jwt);
	free(leaf);
	free(other);
	az_cert_free(c);
	pki_free(&p);
	pki_free(&ca);
}
END_TEST

/* An RS256 assertion with x5t (SHA-1), signed by hand with key; claims as given. */
static char *
rs256(EVP_PKEY *key, X509 *cert, const char *claims)
{
	unsigned char *der = NULL, md[20], sig[512];
	unsigned int mdlen;
	size_t siglen = sizeof(sig);
	char x5t[40], hdr[200], h64[300], c64[1200], s64[800], input[1600], *out;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int n = i2d_X509(cert, &der);

	EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha1(), NULL);
	OPENSSL_free(der);
	az_b64url(x5t, sizeof(x5t), md, mdlen);
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"x5t\":\"%s\"}", x5t);
	az_b64url(h64, sizeof(h64), (const unsigned char *)hdr, strlen(hdr));
	az_b64url(c64, sizeof(c64), (const unsigned char *)claims, strlen(claims));
	snprintf(input, sizeof(input), "%s.%s", h64, c64);
	ck_assert_int_eq(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key), 1);
	ck_assert_int_eq(EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)input,
	    strlen(input)), 1);
	EVP_MD_CTX_free(ctx);
	az_b64url(s64, sizeof(s64), sig, siglen);
	ck_assert_int_ge(asprintf(&out, "%s.%s", input, s64), 0);
	return out;
}

static const char *
claims_text(char *buf, size_t size, const char *iss, const char *aud, double nbf, double exp)
{
	snprintf(buf, size, "{\"aud\":\"%s\",\"exp\":%.0f,\"iss\":\"%s\",\"jti\":\"j-1\",\"nbf\":%.0f,"
	    "\"sub\":\"%s\"}", aud, exp, iss, nbf, iss);
	return buf;
}

/* Verifies jwt and returns the AADSTS code (0 when accepted). */
static int
verdict(json_t *client, const char *jwt, double now, struct auth_assert_fail *f)
{
	return auth_assert_verify(client, jwt, CLIENT, AUD, now, f) ? 0 : f->code;
}

START_TEST(test_emulator_checks_each_part_of_an_assertion_as_entra_does)
{
	struct pki p, other;
	struct auth_assert_fail f;
	json_t *client;
	char buf[600], *jwt;

	pki_make(&p);
	pki_make(&other);
	client = client_with(p.cert);

	/* the older form: RS256 with the SHA-1 thumbprint */
	jwt = rs256(p.key, p.cert, claims_text(buf, sizeof(buf), CLIENT, AUD, NOW, NOW + 600));
	ck_assert_int_eq(verdict(client, jwt, NOW + 1, &f), 0);
	/* a byte of the signature changed */
	jwt[strlen(jwt) - 3] = jwt[strlen(jwt) - 3] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(verdict(client, jwt, NOW + 1, &f), 700027);
	ck_assert_int_eq(f.status, 401);
	ck_assert_str_eq(f.error, "invalid_client");
	ck_assert_ptr_nonnull(strstr(f.msg, "did not match the expected signature value"));
	free(jwt);

	/* signed with a certificate the app does not have */
	jwt = rs256(other.key, other.cert, claims_text(buf, sizeof(buf), CLIENT, AUD, NOW, NOW + 600));
	ck_assert_int_eq(verdict(client, jwt, NOW + 1, &f), 700027);
	ck_assert_ptr_nonnull(strstr(f.msg, "The key was not found."));
	free(jwt);

	/* the registered certificate's key, but claims that lie */
	jwt = rs256(p.key, p.cert, claims_text(buf, sizeof(buf), "someone-else", AUD, NOW, NOW + 600));
	ck_assert_int_eq(verdict(client, jwt, NOW + 1, &f), 700021);
	free(jwt);
	jwt = rs256(p.key, p.cert, claims_text(buf, sizeof(buf), CLIENT,
	    "https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token", NOW, NOW + 600));
	ck_assert_int_eq(verdict(client, jwt, NOW + 1, &f), 700023);
	free(jwt);

	/* its time range, with the 300 s of clock skew */
	jwt = rs256(p.key, p.cert, claims_text(buf, sizeof(buf), CLIENT, AUD, NOW, NOW + 600));
	ck_assert_int_eq(verdict(client, jwt, NOW + 600 + 299, &f), 0);
	ck_assert_int_eq(verdict(client, jwt, NOW + 600 + 301, &f), 700024);
	ck_assert_ptr_nonnull(strstr(f.msg, "Client assertion is not within its valid time range."));
	ck_assert_int_eq(verdict(client, jwt, NOW - 301, &f), 700024);
	/* the certificate itself expired (valid 30 days from NOW - 1 day) */
	ck_assert_int_eq(verdict(client, jwt, NOW + 30 * 86400.0, &f), 700027);
	ck_assert_ptr_nonnull(strstr(f.msg, "The key used is expired."));
	free(jwt);

	/* malformed */
	ck_assert_int_eq(verdict(client, "not-a-jwt", NOW, &f), 50027);
	ck_assert_int_eq(f.status, 400);
	ck_assert_int_eq(verdict(client, "e30.e30.AAAA", NOW, &f), 50027);
	json_decref(client);
	pki_free(&p);
	pki_free(&other);
}
END_TEST

/*
 * Writes dir/name (its path in path): cert, then key (NULL: none), as
 * PKCS#8 encrypted with password when one is given.
 */
static void
pem_file(char *path, size_t size, const char *dir, const char *name, X509 *cert, EVP_PKEY *key,
    const char *password)
{
	FILE *f;

	snprintf(path, size, "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	PEM_write_X509(f, cert);
	if (key != NULL && password != NULL)
		PEM_write_PKCS8PrivateKey(f, key, EVP_aes_256_cbc(), NULL, 0, NULL, (void *)password);
	else if (key != NULL)
		PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	fclose(f);
}

/* Asserts that the key file at path opens with password (NULL: none). */
static void
cert_opens(const char *path, const char *password)
{
	struct az_cert *c = NULL;
	struct nw_err err = { 0 };

	ck_assert_msg(az_cert_load(&c, path, password, NOW, &err) == 0, "%s: %s", path, err.msg);
	az_cert_free(c);
}

/* Asserts that the key file at path is refused at time now as bad input saying why. */
static void
cert_refused(const char *path, const char *password, double now, const char *why)
{
	struct az_cert *c = NULL;
	struct nw_err err = { 0 };

	ck_assert_int_eq(az_cert_load(&c, path, password, now, &err), NW_EINPUT);
	ck_assert_msg(strstr(err.msg, why) != NULL, "%s: %s", path, err.msg);
	ck_assert_ptr_null(c);
	/* the password is never in the message */
	ck_assert(password == NULL || strstr(err.msg, password) == NULL);
}

START_TEST(test_key_files_netwave_refuses_say_why)
{
	struct pki p, other;
	char path[160];
	PKCS12 *p12;
	FILE *f;

	pki_make(&p);
	pki_make(&other);

	/* PKCS#12 with a password: the right one opens it, a wrong one and none say so */
	p12 = PKCS12_create("right-pw", "netwave", p.key, p.cert, NULL, 0, 0, 0, 0, 0);
	ck_assert_ptr_nonnull(p12);
	snprintf(path, sizeof(path), "%s/cert.pfx", p.dir);
	f = fopen(path, "wb");
	i2d_PKCS12_fp(f, p12);
	fclose(f);
	PKCS12_free(p12);
	cert_opens(path, "right-pw");
	cert_refused(path, "wrong-pw", NOW, "is not the PKCS#12 file's password");
	cert_refused(path, NULL, NOW, "AZURE_CLIENT_CERTIFICATE_PASSWORD is not set");

	/* a PEM file whose key is encrypted (PKCS#8): the password opens it */
	pem_file(path, sizeof(path), p.dir, "enc.pem", p.cert, p.key, "pem-pw");
	cert_opens(path, "pem-pw");
	cert_refused(path, "nope", NOW, "AZURE_CLIENT_CERTIFICATE_PASSWORD does not open it");
	cert_refused(path, NULL, NOW, "encrypted and AZURE_CLIENT_CERTIFICATE_PASSWORD is not set");

	/* a certificate and a key that are not a pair */
	pem_file(path, sizeof(path), p.dir, "mixed.pem", other.cert, p.key, NULL);
	cert_refused(path, NULL, NOW, "no certificate in the file matches its private key");

	/* a certificate without its key */
	pem_file(path, sizeof(path), p.dir, "nokey.pem", p.cert, NULL, NULL);
	cert_refused(path, NULL, NOW, "no private key");

	/* expired at the time of use */
	cert_refused(p.pem, NULL, NOW + 40 * 86400.0, "expired at");
	pki_free(&p);
	pki_free(&other);
}
END_TEST

START_TEST(test_each_clouds_scope_is_an_audience_its_metadata_publishes)
{
	size_t n, i;
	const struct azure_cloud *c = azure_clouds(&n);

	ck_assert_uint_eq(n, 3);
	for (i = 0; i < n; i++)
		ck_assert_msg(azure_cloud_scope_ok(&c[i], c[i].scope), "%s: %s", c[i].name, c[i].scope);
	/* what the Azure CLI asks for (the first audience) is as good */
	ck_assert(azure_cloud_scope_ok(azure_cloud_find("AzureUSGovernment"),
	    "https://management.core.usgovcloudapi.net//.default"));
	ck_assert(azure_cloud_scope_ok(azure_cloud_find("AzureCloud"),
	    "https://management.core.windows.net//.default"));
	/* another cloud's audience is not */
	ck_assert(!azure_cloud_scope_ok(azure_cloud_find("AzureUSGovernment"),
	    "https://management.azure.com/.default"));
	ck_assert(!azure_cloud_scope_ok(azure_cloud_find("AzureChinaCloud"),
	    "https://management.chinacloudapi.cn"));
}
END_TEST

int
main(void)
{
	const TTest *const creds_tests[] = {
		TEST_CASE("certificate", 60),
		test_assertion_is_ps256_with_the_sha256_thumbprint_and_entras_claims,
		test_emulator_accepts_the_assertion_netwave_signs,
		test_the_chain_goes_in_x5c_only_when_asked_and_leaf_first,
		test_emulator_checks_each_part_of_an_assertion_as_entra_does,
		test_key_files_netwave_refuses_say_why,
		test_each_clouds_scope_is_an_audience_its_metadata_publishes,
		NULL,
	};

	return test_main("creds", creds_tests);
}
