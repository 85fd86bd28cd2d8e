/*
 * The HTTP client of the emulator suites (see testhttp.h): libcurl with
 * connect and total timeouts, no signals, the body and every header kept.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <check.h>

#include "plan/jsonutil.h"
#include "tests/testhttp.h"

#define SEED_NET "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-net" \
	"/providers/Microsoft.Network"

static size_t
on_body(char *p, size_t sz, size_t n, void *ud)
{
	struct test_resp *r = ud;
	char *nb = realloc(r->body, r->len + sz * n + 1);

	ck_assert_ptr_nonnull(nb);
	r->body = nb;
	memcpy(r->body + r->len, p, sz * n);
	r->len += sz * n;
	r->body[r->len] = '\0';
	return sz * n;
}

static size_t
on_header(char *p, size_t sz, size_t n, void *ud)
{
	struct test_resp *r = ud;
	size_t len = sz * n, i;
	char *colon = memchr(p, ':', len);

	if (colon != NULL) {
		char name[128], value[2048];
		size_t nl = (size_t)(colon - p), vl;
		const char *v = colon + 1;

		if (nl >= sizeof(name))
			return len;
		for (i = 0; i < nl; i++)
			name[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] - 'A' + 'a' : p[i]);
		name[nl] = '\0';
		while (v < p + len && *v == ' ')
			v++;
		vl = (size_t)(p + len - v);
		while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
			vl--;
		if (vl >= sizeof(value))
			vl = sizeof(value) - 1;
		memcpy(value, v, vl);
		value[vl] = '\0';
		json_object_set_new(r->hdr, name, json_string(value));
	}
	return len;
}

/* The request's headers: the extra ones, and a Content-Type for body unless they carry one. */
static struct curl_slist *
request_headers(const char *body, const char *const headers[])
{
	struct curl_slist *h = NULL;
	bool typed = false;
	size_t i;

	for (i = 0; headers != NULL && headers[i] != NULL; i++) {
		h = curl_slist_append(h, headers[i]);
		typed |= strncasecmp(headers[i], "Content-Type:", 13) == 0;
	}
	if (body != NULL && !typed)
		h = curl_slist_append(h, strncmp(body, "grant_type", 10) == 0 ?
		    "Content-Type: application/x-www-form-urlencoded" : "Content-Type: application/json");
	return h;
}

struct test_resp
test_http(const char *base, const char *method, const char *url, const char *body,
    const char *const headers[])
{
	struct test_resp r = { 0 };
	CURL *c = curl_easy_init();
	struct curl_slist *h = request_headers(body, headers);
	char full[4096];
	struct timespec t0, t1;

	ck_assert_ptr_nonnull(c);
	r.hdr = json_object();
	snprintf(full, sizeof(full), "%s%s", strncmp(url, "http", 4) == 0 ? "" : base, url);
	curl_easy_setopt(c, CURLOPT_URL, full);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r.rc = curl_easy_perform(c);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r.secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
	if (r.body != NULL)
		r.json = json_loads(r.body, 0, NULL);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return r;
}

const char *
test_resp_header(const struct test_resp *r, const char *name)
{
	return json_str(r->hdr, name);
}

const char *
test_resp_error_code(const struct test_resp *r)
{
	return json_path_str(r->json, "error", "code", NULL);
}

const char *
test_resp_error_message(const struct test_resp *r)
{
	return json_path_str(r->json, "error", "message", NULL);
}

void
test_resp_expect_str(struct test_resp *r, long status, const char *key, const char *want)
{
	const char *got = json_str(r->json, key);

	ck_assert_msg(r->status == status, "expected %ld, got %ld: %s", status, r->status,
	    r->body != NULL ? r->body : "");
	ck_assert_msg(got != NULL && strcmp(got, want) == 0, "\"%s\" is %s%s%s, not \"%s\"", key,
	    got != NULL ? "\"" : "", got != NULL ? got : "missing", got != NULL ? "\"" : "", want);
	test_resp_free(r);
}

void
test_resp_free(struct test_resp *r)
{
	free(r->body);
	json_decref(r->json);
	json_decref(r->hdr);
	memset(r, 0, sizeof(*r));
}

json_t *
test_seed_vnet(const char *name, const char *prefix, const char *subnet_prefix)
{
	json_t *v = json_pack("{s:o,s:s,s:s,s:s,s:{s:s},s:{s:{s:[s]},s:[],s:[]}}",
	    "id", json_sprintf("%s/virtualNetworks/%s", SEED_NET, name), "name", name,
	    "type", "Microsoft.Network/virtualNetworks", "location", "eastus",
	    "tags", "role", "spoke",
	    "properties", "addressSpace", "addressPrefixes", prefix, "subnets",
	    "virtualNetworkPeerings");

	if (subnet_prefix != NULL)
		json_array_append_new(json_path(v, "properties", "subnets", NULL),
		    json_pack("{s:s,s:o,s:{s:s}}", "name", "default", "id",
		    json_sprintf("%s/virtualNetworks/%s/subnets/default", SEED_NET, name), "properties",
		    "addressPrefix", subnet_prefix));
	return v;
}

json_t *
test_seed_nic(const char *name, const char *ip, const char *subnet_id)
{
	return json_pack("{s:o,s:s,s:s,s:s,s:{s:[{s:s,s:{s:s,s:{s:s}}}]}}",
	    "id", json_sprintf("%s/networkInterfaces/%s", SEED_NET, name), "name", name, "type",
	    "Microsoft.Network/networkInterfaces", "location", "eastus", "properties",
	    "ipConfigurations", "name", "ipconfig1", "properties", "privateIPAddress", ip,
	    "subnet", "id", subnet_id);
}
