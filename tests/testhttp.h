/*
 * An HTTP client for the Check suites that drive the ARM emulator over
 * HTTP as a client would (check_emulator*.c): one request with libcurl,
 * its status, body (and body as JSON), headers and duration.
 */
#ifndef NETWAVE_TESTS_TESTHTTP_H
#define NETWAVE_TESTS_TESTHTTP_H

#include <stddef.h>

#include <curl/curl.h>
#include <jansson.h>

struct test_resp {
	long status;
	CURLcode rc;  /* of curl_easy_perform */
	char *body;   /* NUL-terminated, or NULL when there was none */
	size_t len;
	json_t *json; /* the body parsed, or NULL */
	json_t *hdr;  /* lowercase header name -> value */
	double secs;  /* how long the request took */
};

/*
 * Sends method to url (absolute, or a path under base) with body (NULL:
 * none; a body starting "grant_type" goes as a form, any other as JSON,
 * unless headers carry a Content-Type) and the extra headers "Name: value"
 * (NULL-terminated; NULL: none).  The test fails when no request could be
 * made; a transport error is left in rc.
 */
struct test_resp test_http(const char *base, const char *method, const char *url,
    const char *body, const char *const headers[]);

/* The value of a header (name in lowercase) of r, or NULL (borrowed). */
const char *test_resp_header(const struct test_resp *r, const char *name);

/* The code and message of the ARM error r's body carries ({"error": {...}}), or NULL (borrowed). */
const char *test_resp_error_code(const struct test_resp *r);
const char *test_resp_error_message(const struct test_resp *r);

/*
 * Asserts that r answered status with a JSON body whose member key is the
 * string want, then frees r.
 */
void test_resp_expect_str(struct test_resp *r, long status, const char *key, const char *want);

/* Frees what r holds and clears it. */
void test_resp_free(struct test_resp *r);

/*
 * Seed resources in the emulator's subscription 0000...0001, resource
 * group rg-net, eastus (new references): a VNet tagged role=spoke with a
 * subnet "default" (subnet_prefix NULL: no subnet), and a NIC whose
 * ipconfig1 holds ip in the subnet with id subnet_id.
 */
json_t *test_seed_vnet(const char *name, const char *prefix, const char *subnet_prefix);
json_t *test_seed_nic(const char *name, const char *ip, const char *subnet_id);

#endif
