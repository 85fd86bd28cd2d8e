/*
 * The ARM emulator driven over HTTP with libcurl, as a client would: an
 * in-process emulator on 127.0.0.1 (port 0) per test, seeded from inline
 * topology JSON, and assertions on status codes, ARM headers, bodies,
 * long-running operations, paging, validation, throttling, every fault
 * action, AVNM, features, gateway migration, effective routes,
 * authentication, Resource Graph, persistence and the request log.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <curl/curl.h>
#include <pthread.h>
#include <jansson.h>

#include "plan/jsonutil.h"
#include "providers/emulator/emulator.h"
#include "tests/testhttp.h"
#include "tests/testutil.h"

#define SUB "00000000-0000-0000-0000-000000000001"
#define RG "/subscriptions/" SUB "/resourceGroups/rg-net"
#define NET RG "/providers/Microsoft.Network"
#define API "?api-version=2026-01-01"

/* --- a seed estate ------------------------------------------------------------ */

/* hub, spoke-1..n (10.<i>.0.0/16), a NIC in spoke-1 */
static json_t *
seed(int nspokes)
{
	json_t *doc = json_pack("{s:s,s:s,s:[s],s:[],s:{}}", "format", "netwave.topology/v1",
	    "cloud", "AzureCloud", "subscriptions", SUB, "resources", "observed");
	json_t *res = json_object_get(doc, "resources");
	int i;

	json_array_append_new(res, test_seed_vnet("hub", "10.0.0.0/16", "10.0.1.0/24"));
	for (i = 1; i <= nspokes; i++) {
		char name[32], pfx[32], spfx[32];
		snprintf(name, sizeof(name), "spoke-%d", i);
		snprintf(pfx, sizeof(pfx), "10.%d.0.0/16", i);
		snprintf(spfx, sizeof(spfx), "10.%d.0.0/24", i);
		json_array_append_new(res, test_seed_vnet(name, pfx, spfx));
	}
	json_array_append_new(res, test_seed_nic("nic-1", "10.1.0.4",
	    NET "/virtualNetworks/spoke-1/subnets/default"));
	return doc;
}

struct fixture {
	struct emulator *e;
	char base[160];
};

static void
start_with(struct fixture *f, struct emulator_opts *o, json_t *doc)
{
	struct nw_err err = { 0 };

	o->seed_json = doc;
	if (o->time_scale == 0)
		o->time_scale = 100000;
	if (o->rng_seed == 0)
		o->rng_seed = 42;
	ck_assert_msg(emulator_start(&f->e, o, &err) == 0, "emulator did not start: %s", err.msg);
	snprintf(f->base, sizeof(f->base), "%s", emulator_base_url(f->e));
	json_decref(doc);
}

static void
start(struct fixture *f, double scale)
{
	struct emulator_opts o = { .no_auth = true, .time_scale = scale };

	start_with(f, &o, seed(3));
}

/* --- HTTP ----------------------------------------------------------------------- */

/* A request; url is absolute or a path on the fixture; extra headers "Name: value", NULL-ended. */
static struct test_resp
call(struct fixture *f, const char *method, const char *url, const char *body, ...)
{
	const char *headers[8];
	size_t n = 0;
	va_list ap;

	va_start(ap, body);
	while ((headers[n] = va_arg(ap, const char *)) != NULL) {
		n++;
		ck_assert_uint_lt(n, 8);
	}
	va_end(ap);
	return test_http(f->base, method, url, body, headers);
}

#define GET(f, url) call((f), "GET", (url), NULL, NULL)
#define PUT(f, url, body) call((f), "PUT", (url), (body), NULL)
#define POST(f, url, body) call((f), "POST", (url), (body), NULL)
#define DEL(f, url) call((f), "DELETE", (url), NULL, NULL)

static const char *
pstate(const json_t *obj)
{
	return json_path_str(obj, "properties", "provisioningState", NULL);
}

/* Polls an Azure-AsyncOperation URL until it is terminal; returns the last answer. */
static struct test_resp
poll_async(struct fixture *f, const char *url)
{
	int i;

	for (i = 0; i < 500; i++) {
		struct test_resp r = GET(f, url);
		const char *st = json_str(r.json, "status");

		ck_assert_int_eq(r.status, 200);
		if (st != NULL && strcmp(st, "InProgress") != 0)
			return r;
		test_resp_free(&r);
		usleep(10000);
	}
	ck_abort_msg("operation %s did not finish", url);
	return (struct test_resp){ 0 };
}

/* Polls a Location URL until it stops answering 202. */
static struct test_resp
poll_location(struct fixture *f, const char *url)
{
	int i;

	for (i = 0; i < 500; i++) {
		struct test_resp r = GET(f, url);

		if (r.status != 202)
			return r;
		ck_assert_ptr_nonnull(test_resp_header(&r, "location"));
		test_resp_free(&r);
		usleep(10000);
	}
	ck_abort_msg("operation %s did not finish", url);
	return (struct test_resp){ 0 };
}

static void
wait_put(struct fixture *f, struct test_resp *r)
{
	struct test_resp a;

	ck_assert_msg(r->status == 200 || r->status == 201 || r->status == 202,
	    "unexpected status %ld: %s", r->status, r->body != NULL ? r->body : "");
	if (test_resp_header(r, "azure-asyncoperation") == NULL)
		return;
	a = poll_async(f, test_resp_header(r, "azure-asyncoperation"));
	ck_assert_str_eq(json_str(a.json, "status"), "Succeeded");
	test_resp_free(&a);
}

/* --- basics ----------------------------------------------------------------------- */

START_TEST(test_get_answers_the_seeded_vnet_with_arm_headers)
{
	struct fixture f;
	struct test_resp r;
	struct timespec t0, t1;

	start(&f, 1); /* at time scale 1 the bucket refills slowly enough to count */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = GET(&f, NET "/virtualNetworks/spoke-1" API);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(json_str(r.json, "name"), "spoke-1");
	ck_assert_str_eq(json_str(json_array_get(json_path(r.json, "properties", "subnets", NULL), 0),
	    "name"), "default");
	ck_assert_ptr_nonnull(test_resp_header(&r, "x-ms-request-id"));
	ck_assert_ptr_nonnull(test_resp_header(&r, "x-ms-correlation-request-id"));
	ck_assert_ptr_nonnull(test_resp_header(&r, "date"));
	ck_assert_str_eq(test_resp_header(&r, "x-ms-ratelimit-remaining-subscription-reads"), "249");
	ck_assert_str_eq(test_resp_header(&r, "content-type"), "application/json; charset=utf-8");
	test_resp_free(&r);
	/*
	 * A second read takes another token: 248, plus what the bucket refilled
	 * (25 a second) since the first read, on a busy machine.
	 */
	{
		double elapsed;
		int left;

		r = GET(&f, NET "/virtualNetworks/hub" API);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		elapsed = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		left = atoi(test_resp_header(&r, "x-ms-ratelimit-remaining-subscription-reads"));
		ck_assert_int_ge(left, 248);
		ck_assert_int_le(left, 248 + (int)(elapsed * 25.0));
		ck_assert_int_le(left, 249);
		test_resp_free(&r);
	}
	/* the client's correlation id is echoed */
	r = call(&f, "GET", NET "/virtualNetworks/hub" API, NULL,
	    "x-ms-correlation-request-id: corr-123", "x-ms-client-request-id: client-9", NULL);
	ck_assert_str_eq(test_resp_header(&r, "x-ms-correlation-request-id"), "corr-123");
	ck_assert_str_eq(test_resp_header(&r, "x-ms-client-request-id"), "client-9");
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_api_version_missing_or_unknown_is_a_cloud_error_400)
{
	struct fixture f;
	struct test_resp r;

	start(&f, 0);
	r = GET(&f, NET "/virtualNetworks/hub");
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(test_resp_error_code(&r), "MissingApiVersionParameter");
	ck_assert_ptr_nonnull(strstr(json_path_str(r.json, "error", "message", NULL), "api-version"));
	test_resp_free(&r);
	r = GET(&f, NET "/virtualNetworks/hub?api-version=2019-01-01");
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(test_resp_error_code(&r), "InvalidApiVersionParameter");
	ck_assert_ptr_nonnull(strstr(json_path_str(r.json, "error", "message", NULL), "2019-01-01"));
	test_resp_free(&r);
	/* an older version the SDK sends is accepted */
	r = GET(&f, NET "/virtualNetworks/hub?api-version=2024-05-01");
	ck_assert_int_eq(r.status, 200);
	test_resp_free(&r);
	/* features have their own versions */
	r = GET(&f, "/subscriptions/" SUB "/providers/Microsoft.Features/providers/Microsoft.Network/features/AllowHighScaleConnectedGroup" API);
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(test_resp_error_code(&r), "InvalidApiVersionParameter");
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_unknown_paths_answer_as_arm_does)
{
	struct fixture f;
	struct test_resp r;

	start(&f, 0);
	r = GET(&f, NET "/virtualNetwerks/hub" API);
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(test_resp_error_code(&r), "InvalidResourceType");
	ck_assert_ptr_nonnull(strstr(json_path_str(r.json, "error", "message", NULL), "virtualNetwerks"));
	test_resp_free(&r);
	r = GET(&f, NET "/virtualNetworks/hub/subnetz" API);
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(test_resp_error_code(&r), "InvalidResourceType");
	test_resp_free(&r);
	r = GET(&f, NET "/virtualNetworks/nope" API);
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(test_resp_error_code(&r), "ResourceNotFound");
	test_resp_free(&r);
	r = GET(&f, "/subscriptions/" SUB "/resourceGroups/rg-none/providers/Microsoft.Network/virtualNetworks/hub" API);
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(test_resp_error_code(&r), "ResourceGroupNotFound");
	test_resp_free(&r);
	r = GET(&f, "/subscriptions/99999999-0000-0000-0000-000000000009/resourceGroups/rg-net/providers/Microsoft.Network/virtualNetworks/hub" API);
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(test_resp_error_code(&r), "SubscriptionNotFound");
	test_resp_free(&r);
	r = GET(&f, RG "/providers/Microsoft.Compute/virtualMachines/vm" API);
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(test_resp_error_code(&r), "InvalidResourceNamespace");
	test_resp_free(&r);
	r = GET(&f, NET "/virtualNetworks/hub/subnets/nope" API);
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(test_resp_error_code(&r), "NotFound");
	test_resp_free(&r);
	r = GET(&f, NET "/virtualNetworks/gone/subnets/default" API);
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(test_resp_error_code(&r), "ParentResourceNotFound");
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

/* The route table: a path it knows under another method is 405, after ARM's checks. */
START_TEST(test_a_known_path_asked_with_another_method_is_405)
{
	struct fixture f;
	struct test_resp r;
	json_t *log, *ent;
	size_t i;

	start(&f, 0);
	/* an action is a POST; asked with GET it is not allowed, on any resource */
	r = GET(&f, NET "/virtualNetworkGateways/nope/prepareMigration" API);
	ck_assert_int_eq(r.status, 405);
	ck_assert_str_eq(test_resp_error_code(&r), "MethodNotAllowed");
	test_resp_free(&r);
	r = call(&f, "PUT", NET "/networkManagers/nm/commit" API, "{}", NULL);
	ck_assert_int_eq(r.status, 405);
	test_resp_free(&r);
	/* ... but the api-version is checked first, as ARM does */
	r = GET(&f, NET "/virtualNetworkGateways/nope/prepareMigration?api-version=1999-01-01");
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(test_resp_error_code(&r), "InvalidApiVersionParameter");
	test_resp_free(&r);
	/* an action belongs to its type: on a VNet it names no type */
	r = POST(&f, NET "/virtualNetworks/hub/prepareMigration" API, "{}");
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(test_resp_error_code(&r), "InvalidResourceType");
	test_resp_free(&r);
	/* an action on a resource that does not exist */
	r = POST(&f, NET "/virtualNetworkGateways/nope/prepareMigration" API, "{}");
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(test_resp_error_code(&r), "ResourceNotFound");
	test_resp_free(&r);
	/* a collection takes GET only */
	r = POST(&f, NET "/virtualNetworks" API, "{}");
	ck_assert_int_eq(r.status, 405);
	test_resp_free(&r);
	/* the operation status URLs take GET only */
	r = call(&f, "DELETE", "/subscriptions/" SUB "/providers/Microsoft.Network/locations/eastus/operations/x" API, NULL, NULL);
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(test_resp_error_code(&r), "InvalidResourceType");
	test_resp_free(&r);
	/* an unknown control endpoint is 404 and, as every control endpoint, not logged */
	r = GET(&f, "/__netwave/nope");
	ck_assert_int_eq(r.status, 404);
	test_resp_free(&r);
	log = emulator_requests(f.e);
	ck_assert_int_gt((int)json_array_size(log), 0);
	json_array_foreach(log, i, ent)
		ck_assert_ptr_null(strstr(json_str(ent, "path"), "__netwave"));
	json_decref(log);
	emulator_stop(f.e);
}
END_TEST

/* Each operation carries its kind's completion: a read holds nothing, a write holds its resource. */
START_TEST(test_an_operation_holds_its_resource_only_when_its_kind_does)
{
	struct fixture f;
	struct test_resp r, p;

	/* slow enough that every operation here is still running when the next request comes */
	start(&f, 0.01);
	r = POST(&f, NET "/networkInterfaces/nic-1/effectiveRouteTable" API, NULL);
	ck_assert_int_eq(r.status, 202);
	p = call(&f, "PATCH", NET "/networkInterfaces/nic-1" API, "{\"tags\":{\"a\":\"b\"}}", NULL);
	ck_assert_msg(p.status == 200, "a write during a read: %ld %s", p.status, p.body);
	test_resp_free(&p);
	test_resp_free(&r);
	r = PUT(&f, NET "/virtualNetworks/spoke-2" API,
	    "{\"location\":\"eastus\",\"properties\":{\"addressSpace\":{\"addressPrefixes\":[\"10.2.0.0/16\"]}}}");
	ck_assert_msg(r.status == 200 || r.status == 201, "PUT: %ld %s", r.status, r.body);
	ck_assert_ptr_nonnull(test_resp_header(&r, "azure-asyncoperation"));
	p = call(&f, "PATCH", NET "/virtualNetworks/spoke-2" API, "{\"tags\":{\"a\":\"b\"}}", NULL);
	ck_assert_int_eq(p.status, 429);
	ck_assert_str_eq(test_resp_error_code(&p), "RetryableErrorDueToAnotherOperation");
	test_resp_free(&p);
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_malformed_json_is_400_invalid_request_content)
{
	struct fixture f;
	struct test_resp r;

	start(&f, 0);
	r = PUT(&f, NET "/virtualNetworks/x" API, "{\"location\": \"eastus\", ");
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(test_resp_error_code(&r), "InvalidRequestContent");
	test_resp_free(&r);
	r = PUT(&f, NET "/virtualNetworks/x" API, "[1,2]");
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(test_resp_error_code(&r), "InvalidRequestContent");
	test_resp_free(&r);
	r = PUT(&f, NET "/virtualNetworks/x" API, "{\"properties\":{}}");
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(test_resp_error_code(&r), "LocationRequired");
	test_resp_free(&r);
	/* nothing was created */
	r = GET(&f, NET "/virtualNetworks/x" API);
	ck_assert_int_eq(r.status, 404);
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_body_over_4mb_is_413)
{
	struct fixture f;
	struct test_resp r;
	size_t n = ((size_t)4 << 20) + 100;
	char *big = malloc(n + 1);

	ck_assert_ptr_nonnull(big);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	big[n] = '\0';
	start(&f, 0);
	r = PUT(&f, NET "/virtualNetworks/big" API, big);
	ck_assert_int_eq(r.status, 413);
	ck_assert_str_eq(test_resp_error_code(&r), "RequestEntityTooLarge");
	test_resp_free(&r);
	/* the server still answers afterwards */
	r = GET(&f, NET "/virtualNetworks/hub" API);
	ck_assert_int_eq(r.status, 200);
	test_resp_free(&r);
	free(big);
	emulator_stop(f.e);
}
END_TEST

/* --- CRUD and long-running operations ------------------------------------------------ */

START_TEST(test_put_creates_201_behind_an_operation_that_succeeds)
{
	struct fixture f;
	struct test_resp r, a, l, g;
	const char *body = "{\"location\":\"eastus\",\"properties\":{\"addressSpace\":{\"addressPrefixes\":[\"10.50.0.0/16\"]}}}";

	/* scale 2: the 5 s nominal operation runs 2.5 s, so a busy machine still sees it running */
	start(&f, 2);
	r = PUT(&f, NET "/virtualNetworks/new-1" API, body);
	ck_assert_int_eq(r.status, 201);
	ck_assert_str_eq(pstate(r.json), "Updating");
	ck_assert_str_eq(json_str(r.json, "id"), NET "/virtualNetworks/new-1");
	ck_assert_str_eq(json_str(r.json, "type"), "Microsoft.Network/virtualNetworks");
	ck_assert_ptr_nonnull(json_str(r.json, "etag"));
	ck_assert_ptr_nonnull(test_resp_header(&r, "azure-asyncoperation"));
	ck_assert_ptr_nonnull(test_resp_header(&r, "location"));
	ck_assert_ptr_nonnull(test_resp_header(&r, "retry-after"));
	ck_assert_msg(strncmp(test_resp_header(&r, "azure-asyncoperation"), f.base, strlen(f.base)) == 0,
	    "status URL is not absolute: %s", test_resp_header(&r, "azure-asyncoperation"));
	ck_assert_ptr_nonnull(strstr(test_resp_header(&r, "azure-asyncoperation"),
	    "/providers/Microsoft.Network/locations/eastus/operations/"));
	a = GET(&f, test_resp_header(&r, "azure-asyncoperation"));
	ck_assert_int_eq(a.status, 200);
	ck_assert_str_eq(json_str(a.json, "status"), "InProgress");
	ck_assert_ptr_nonnull(json_str(a.json, "startTime"));
	ck_assert_ptr_nonnull(json_str(a.json, "name"));
	ck_assert_ptr_nonnull(json_str(a.json, "id"));
	test_resp_free(&a);
	l = GET(&f, test_resp_header(&r, "location"));
	ck_assert_int_eq(l.status, 202);
	test_resp_free(&l);
	g = GET(&f, NET "/virtualNetworks/new-1" API);
	ck_assert_str_eq(pstate(g.json), "Updating");
	test_resp_free(&g);
	a = poll_async(&f, test_resp_header(&r, "azure-asyncoperation"));
	ck_assert_str_eq(json_str(a.json, "status"), "Succeeded");
	ck_assert_ptr_nonnull(json_str(a.json, "endTime"));
	test_resp_free(&a);
	l = poll_location(&f, test_resp_header(&r, "location"));
	ck_assert_int_eq(l.status, 200);
	ck_assert_str_eq(pstate(l.json), "Succeeded");
	test_resp_free(&l);
	g = GET(&f, NET "/virtualNetworks/new-1" API);
	ck_assert_str_eq(pstate(g.json), "Succeeded");
	test_resp_free(&g);
	test_resp_free(&r);
	/* PUT again is an update: 200 */
	r = PUT(&f, NET "/virtualNetworks/new-1" API, body);
	ck_assert_int_eq(r.status, 200);
	wait_put(&f, &r);
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_delete_is_202_with_location_then_the_resource_is_gone)
{
	struct fixture f;
	struct test_resp r, l;

	start(&f, 0);
	r = DEL(&f, NET "/virtualNetworks/spoke-3" API);
	ck_assert_int_eq(r.status, 202);
	ck_assert_ptr_nonnull(test_resp_header(&r, "location"));
	ck_assert_ptr_nonnull(test_resp_header(&r, "retry-after"));
	l = poll_location(&f, test_resp_header(&r, "location"));
	ck_assert_int_eq(l.status, 204);
	test_resp_free(&l);
	test_resp_free(&r);
	r = GET(&f, NET "/virtualNetworks/spoke-3" API);
	ck_assert_int_eq(r.status, 404);
	test_resp_free(&r);
	/* deleting what is not there is 204 */
	r = DEL(&f, NET "/virtualNetworks/spoke-3" API);
	ck_assert_int_eq(r.status, 204);
	ck_assert_ptr_nonnull(test_resp_header(&r, "x-ms-ratelimit-remaining-subscription-deletes"));
	test_resp_free(&r);
	/* a subnet used by a NIC cannot go */
	r = DEL(&f, NET "/virtualNetworks/spoke-1/subnets/default" API);
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(test_resp_error_code(&r), "InUseSubnetCannotBeDeleted");
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_list_pages_with_top_and_absolute_next_links)
{
	struct fixture f;
	struct emulator_opts o = { .no_auth = true };
	char url[4096];
	json_t *seen = json_object();
	int pages = 0;

	start_with(&f, &o, seed(4)); /* hub + 4 spokes */
	snprintf(url, sizeof(url), "%s%s", f.base, NET "/virtualNetworks" API "&$top=2");
	for (;;) {
		struct test_resp r = GET(&f, url);
		json_t *v;
		size_t i;
		const char *next;

		ck_assert_int_eq(r.status, 200);
		ck_assert_int_le(json_array_size(json_object_get(r.json, "value")), 2);
		json_array_foreach(json_object_get(r.json, "value"), i, v)
			json_object_set_new(seen, json_str(v, "id"), json_true());
		pages++;
		next = json_str(r.json, "nextLink");
		/* never null-but-present garbage: a string or absent */
		ck_assert(json_object_get(r.json, "nextLink") == NULL || next != NULL);
		if (next == NULL) {
			test_resp_free(&r);
			break;
		}
		ck_assert_msg(strncmp(next, f.base, strlen(f.base)) == 0, "nextLink not absolute: %s", next);
		ck_assert_ptr_nonnull(strstr(next, "$skipToken="));
		ck_assert_str_ne(next, "");
		snprintf(url, sizeof(url), "%s", next);
		test_resp_free(&r);
		ck_assert_int_lt(pages, 10);
	}
	ck_assert_int_eq(pages, 3);
	ck_assert_int_eq(json_object_size(seen), 5);
	json_decref(seen);
	/* subscription-wide list, and a bad $top */
	{
		struct test_resp r = GET(&f, "/subscriptions/" SUB
		    "/providers/Microsoft.Network/virtualNetworks" API);
		ck_assert_int_eq(r.status, 200);
		ck_assert_int_eq(json_array_size(json_object_get(r.json, "value")), 5);
		ck_assert_ptr_null(json_object_get(r.json, "nextLink"));
		test_resp_free(&r);
		r = GET(&f, NET "/virtualNetworks" API "&$top=0");
		ck_assert_int_eq(r.status, 400);
		test_resp_free(&r);
		r = GET(&f, NET "/virtualNetworks/hub/subnets" API);
		ck_assert_int_eq(r.status, 200);
		ck_assert_int_eq(json_array_size(json_object_get(r.json, "value")), 1);
		test_resp_free(&r);
	}
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_subnets_must_fit_the_space_and_not_overlap)
{
	struct fixture f;
	struct test_resp r;

	start(&f, 0);
	r = PUT(&f, NET "/virtualNetworks/spoke-1/subnets/out" API,
	    "{\"properties\":{\"addressPrefix\":\"10.99.0.0/24\"}}");
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(test_resp_error_code(&r), "NetcfgSubnetRangeOutsideVnet");
	ck_assert_ptr_nonnull(strstr(json_path_str(r.json, "error", "message", NULL), "spoke-1"));
	test_resp_free(&r);
	r = PUT(&f, NET "/virtualNetworks/spoke-1/subnets/over" API,
	    "{\"properties\":{\"addressPrefix\":\"10.1.0.128/25\"}}");
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(test_resp_error_code(&r), "NetcfgSubnetRangesOverlap");
	test_resp_free(&r);
	r = PUT(&f, NET "/virtualNetworks/spoke-1/subnets/bits" API,
	    "{\"properties\":{\"addressPrefix\":\"10.1.1.7/24\"}}");
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(test_resp_error_code(&r), "InvalidCIDRNotation");
	ck_assert_ptr_nonnull(strstr(json_path_str(r.json, "error", "message", NULL), "10.1.1.0/24"));
	test_resp_free(&r);
	r = PUT(&f, NET "/virtualNetworks/spoke-1/subnets/junk" API,
	    "{\"properties\":{\"addressPrefix\":\"ten.one/8\"}}");
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(test_resp_error_code(&r), "InvalidAddressPrefixFormat");
	test_resp_free(&r);
	r = PUT(&f, NET "/virtualNetworks/spoke-1/subnets/ok" API,
	    "{\"properties\":{\"addressPrefix\":\"10.1.1.0/24\",\"privateEndpointNetworkPolicies\":\"Enabled\"}}");
	ck_assert_int_eq(r.status, 201);
	ck_assert_str_eq(json_str(r.json, "id"), NET "/virtualNetworks/spoke-1/subnets/ok");
	wait_put(&f, &r);
	test_resp_free(&r);
	r = GET(&f, NET "/virtualNetworks/spoke-1" API);
	ck_assert_int_eq(json_array_size(json_path(r.json, "properties", "subnets", NULL)), 2);
	test_resp_free(&r);
	/* a VNet PUT whose subnets overlap is refused as a whole */
	r = PUT(&f, NET "/virtualNetworks/bad" API,
	    "{\"location\":\"eastus\",\"properties\":{\"addressSpace\":{\"addressPrefixes\":[\"10.60.0.0/16\"]},"
	    "\"subnets\":[{\"name\":\"a\",\"properties\":{\"addressPrefix\":\"10.60.0.0/24\"}},"
	    "{\"name\":\"b\",\"properties\":{\"addressPrefix\":\"10.60.0.0/23\"}}]}}");
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(test_resp_error_code(&r), "NetcfgSubnetRangesOverlap");
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_peering_is_initiated_until_the_remote_peers_back)
{
	struct fixture f;
	struct test_resp r;
	const char *p1 = "{\"properties\":{\"remoteVirtualNetwork\":{\"id\":\"" NET "/virtualNetworks/hub\"},\"allowVirtualNetworkAccess\":true}}";
	const char *p2 = "{\"properties\":{\"remoteVirtualNetwork\":{\"id\":\"" NET "/virtualNetworks/spoke-2\"}}}";

	start(&f, 0);
	r = PUT(&f, NET "/virtualNetworks/spoke-2/virtualNetworkPeerings/to-hub" API, p1);
	ck_assert_int_eq(r.status, 201);
	ck_assert_str_eq(json_path_str(r.json, "properties", "peeringState", NULL), "Initiated");
	wait_put(&f, &r);
	test_resp_free(&r);
	r = GET(&f, NET "/virtualNetworks/spoke-2/virtualNetworkPeerings/to-hub" API);
	ck_assert_str_eq(json_path_str(r.json, "properties", "peeringState", NULL), "Initiated");
	test_resp_free(&r);
	r = PUT(&f, NET "/virtualNetworks/hub/virtualNetworkPeerings/to-spoke-2" API, p2);
	ck_assert_int_eq(r.status, 201);
	ck_assert_str_eq(json_path_str(r.json, "properties", "peeringState", NULL), "Connected");
	wait_put(&f, &r);
	test_resp_free(&r);
	r = GET(&f, NET "/virtualNetworks/spoke-2/virtualNetworkPeerings/to-hub" API);
	ck_assert_str_eq(json_path_str(r.json, "properties", "peeringState", NULL), "Connected");
	ck_assert_str_eq(json_path_str(r.json, "properties", "peeringSyncLevel", NULL), "FullyInSync");
	ck_assert_str_eq(json_string_value(json_array_get(json_path(r.json, "properties",
	    "remoteAddressSpace", "addressPrefixes", NULL), 0)), "10.0.0.0/16");
	test_resp_free(&r);
	/* the VNet shows the peering inside it */
	r = GET(&f, NET "/virtualNetworks/hub" API);
	ck_assert_str_eq(json_str(json_array_get(json_path(r.json, "properties",
	    "virtualNetworkPeerings", NULL), 0), "name"), "to-spoke-2");
	test_resp_free(&r);
	/* removing one side disconnects the other */
	r = DEL(&f, NET "/virtualNetworks/hub/virtualNetworkPeerings/to-spoke-2" API);
	ck_assert_int_eq(r.status, 202);
	{
		struct test_resp l = poll_location(&f, test_resp_header(&r, "location"));
		ck_assert_int_eq(l.status, 204);
		test_resp_free(&l);
	}
	test_resp_free(&r);
	{
		struct test_resp g = { 0 };
		int i;
		for (i = 0; i < 100; i++) {
			g = GET(&f, NET "/virtualNetworks/spoke-2/virtualNetworkPeerings/to-hub" API);
			if (strcmp(json_path_str(g.json, "properties", "peeringState", NULL), "Disconnected") == 0)
				break;
			test_resp_free(&g);
			usleep(10000);
		}
		ck_assert_str_eq(json_path_str(g.json, "properties", "peeringState", NULL), "Disconnected");
		test_resp_free(&g);
	}
	/* a remote that does not exist, or overlaps */
	r = PUT(&f, NET "/virtualNetworks/spoke-2/virtualNetworkPeerings/to-ghost" API,
	    "{\"properties\":{\"remoteVirtualNetwork\":{\"id\":\"" NET "/virtualNetworks/ghost\"}}}");
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(test_resp_error_code(&r), "InvalidResourceReference");
	test_resp_free(&r);
	r = PUT(&f, NET "/virtualNetworks/spoke-2/virtualNetworkPeerings/gw" API,
	    "{\"properties\":{\"remoteVirtualNetwork\":{\"id\":\"" NET "/virtualNetworks/spoke-3\"},\"useRemoteGateways\":true}}");
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(test_resp_error_code(&r), "RemoteVnetHasNoGateways");
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

/* PUT url body and wait for its operation */
static void
put_done(struct fixture *f, const char *url, const char *body)
{
	struct test_resp r = PUT(f, url, body);

	wait_put(f, &r);
	test_resp_free(&r);
}

static const char *
sync_level(struct fixture *f, const char *url)
{
	static char out[64];
	struct test_resp r = GET(f, url);

	snprintf(out, sizeof(out), "%s", r.json != NULL ? json_path_str(r.json, "properties",
	    "peeringSyncLevel", NULL) : "(none)");
	test_resp_free(&r);
	return out;
}

START_TEST(test_a_spoke_space_change_unsyncs_only_the_peerings_between_the_two)
{
	struct fixture f;
	char body[300];
	int i;

	/* the hub is peered both ways with spoke-1 and spoke-2; a spoke write
	 * updates the hub's peering towards that spoke and no other */
	start(&f, 0);
	for (i = 1; i <= 2; i++) {
		char url[300];

		snprintf(url, sizeof(url), NET "/virtualNetworks/spoke-%d/virtualNetworkPeerings/to-hub" API, i);
		put_done(&f, url, "{\"properties\":{\"remoteVirtualNetwork\":{\"id\":\"" NET "/virtualNetworks/hub\"}}}");
		snprintf(url, sizeof(url), NET "/virtualNetworks/hub/virtualNetworkPeerings/to-spoke-%d" API, i);
		snprintf(body, sizeof(body), "{\"properties\":{\"remoteVirtualNetwork\":{\"id\":\"" NET "/virtualNetworks/spoke-%d\"}}}", i);
		put_done(&f, url, body);
	}
	ck_assert_str_eq(sync_level(&f, NET "/virtualNetworks/hub/virtualNetworkPeerings/to-spoke-1" API), "FullyInSync");
	put_done(&f, NET "/virtualNetworks/spoke-1" API,
	    "{\"location\":\"eastus\",\"properties\":{\"addressSpace\":{\"addressPrefixes\":[\"10.1.0.0/16\",\"10.101.0.0/16\"]},"
	    "\"subnets\":[{\"name\":\"default\",\"properties\":{\"addressPrefix\":\"10.1.0.0/24\"}}]}}");
	ck_assert_str_eq(sync_level(&f, NET "/virtualNetworks/hub/virtualNetworkPeerings/to-spoke-1" API), "LocalNotInSync");
	ck_assert_str_eq(sync_level(&f, NET "/virtualNetworks/spoke-1/virtualNetworkPeerings/to-hub" API), "RemoteNotInSync");
	ck_assert_str_eq(sync_level(&f, NET "/virtualNetworks/hub/virtualNetworkPeerings/to-spoke-2" API), "FullyInSync");
	ck_assert_str_eq(sync_level(&f, NET "/virtualNetworks/spoke-2/virtualNetworkPeerings/to-hub" API), "FullyInSync");
	/* syncing the hub's side brings both back */
	put_done(&f, NET "/virtualNetworks/hub/virtualNetworkPeerings/to-spoke-1" API "&syncRemoteAddressSpace=true",
	    "{\"properties\":{\"remoteVirtualNetwork\":{\"id\":\"" NET "/virtualNetworks/spoke-1\"}}}");
	ck_assert_str_eq(sync_level(&f, NET "/virtualNetworks/hub/virtualNetworkPeerings/to-spoke-1" API), "FullyInSync");
	ck_assert_str_eq(sync_level(&f, NET "/virtualNetworks/spoke-1/virtualNetworkPeerings/to-hub" API), "FullyInSync");
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_a_write_while_an_operation_runs_is_retryable_429)
{
	struct fixture f;
	struct test_resp r, s;

	start(&f, 1); /* real durations: the PUT runs for 5 s */
	r = PUT(&f, NET "/virtualNetworks/spoke-1" API,
	    "{\"location\":\"eastus\",\"properties\":{\"addressSpace\":{\"addressPrefixes\":[\"10.1.0.0/16\"]},"
	    "\"subnets\":[{\"name\":\"default\",\"properties\":{\"addressPrefix\":\"10.1.0.0/24\"}}]}}");
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(test_resp_header(&r, "retry-after"), "5");
	s = PUT(&f, NET "/virtualNetworks/spoke-1/subnets/two" API,
	    "{\"properties\":{\"addressPrefix\":\"10.1.2.0/24\"}}");
	ck_assert_int_eq(s.status, 429);
	ck_assert_str_eq(test_resp_error_code(&s), "RetryableErrorDueToAnotherOperation");
	ck_assert_ptr_nonnull(test_resp_header(&s, "retry-after"));
	ck_assert_int_ge(atoi(test_resp_header(&s, "retry-after")), 1);
	test_resp_free(&s);
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_if_match_mismatch_is_412)
{
	struct fixture f;
	struct test_resp r, g;
	char h[256];

	start(&f, 0);
	r = call(&f, "PATCH", NET "/virtualNetworks/hub" API, "{\"tags\":{\"a\":\"b\"}}",
	    "If-Match: W/\"stale\"", NULL);
	ck_assert_int_eq(r.status, 412);
	ck_assert_str_eq(test_resp_error_code(&r), "PreconditionFailed");
	test_resp_free(&r);
	g = GET(&f, NET "/virtualNetworks/hub" API);
	snprintf(h, sizeof(h), "If-Match: %s", json_str(g.json, "etag") != NULL ?
	    json_str(g.json, "etag") : "*");
	r = call(&f, "PATCH", NET "/virtualNetworks/hub" API, "{\"tags\":{\"a\":\"b\"}}", h, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(json_path_str(r.json, "tags", "a", NULL), "b");
	ck_assert_ptr_null(json_path(r.json, "tags", "role", NULL)); /* tags are replaced */
	test_resp_free(&r);
	test_resp_free(&g);
	emulator_stop(f.e);
}
END_TEST


struct worker {
	struct fixture *f;
	int id;
	int created;
};

static void *
put_many(void *arg)
{
	struct worker *w = arg;
	int i;

	for (i = 0; i < 25; i++) {
		char url[256], body[256];
		struct test_resp r;

		snprintf(url, sizeof(url), NET "/virtualNetworks/w%d-%d" API, w->id, i);
		snprintf(body, sizeof(body), "{\"location\":\"eastus\",\"properties\":{\"addressSpace\":"
		    "{\"addressPrefixes\":[\"10.%d.%d.0/24\"]}}}", 100 + w->id, i);
		r = PUT(w->f, url, body);
		if (r.status == 201)
			w->created++;
		test_resp_free(&r);
	}
	return NULL;
}

START_TEST(test_concurrent_clients_are_served_consistently)
{
	struct fixture f;
	struct worker w[4];
	pthread_t th[4];
	struct test_resp r;
	json_t *log, *ent;
	size_t i, puts = 0;

	start(&f, 0);
	for (i = 0; i < 4; i++) {
		w[i] = (struct worker){ .f = &f, .id = (int)i };
		ck_assert_int_eq(pthread_create(&th[i], NULL, put_many, &w[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(w[i].created, 25);
	}
	r = GET(&f, "/subscriptions/" SUB "/providers/Microsoft.Network/virtualNetworks" API "&$top=1000");
	ck_assert_int_eq(json_array_size(json_object_get(r.json, "value")), 104);
	test_resp_free(&r);
	log = emulator_requests(f.e);
	json_array_foreach(log, i, ent)
		if (strcmp(json_str(ent, "method"), "PUT") == 0 &&
		    json_integer_value(json_object_get(ent, "status")) == 201)
			puts++;
	ck_assert_int_eq(puts, 100);
	json_decref(log);
	/* HEAD answers without a body */
	r = call(&f, "HEAD", NET "/virtualNetworks/w0-0" API, NULL, NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_null(r.body);
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

/* --- throttling ------------------------------------------------------------------------ */

START_TEST(test_a_write_burst_beyond_the_bucket_gets_429_with_the_refill_wait)
{
	struct fixture f;
	struct test_resp r;
	int i, last = -1;

	/*
	 * time scale 0.0001: the write bucket refills 0.001 token/s, one token
	 * takes 1,000 s, so no token comes back while a slow machine sends the burst
	 */
	start(&f, 0.0001);
	for (i = 0; i < 200; i++) {
		r = call(&f, "PATCH", NET "/virtualNetworks/hub" API, "{\"tags\":{\"n\":\"x\"}}", NULL);
		ck_assert_int_eq(r.status, 200);
		last = atoi(test_resp_header(&r, "x-ms-ratelimit-remaining-subscription-writes"));
		test_resp_free(&r);
	}
	ck_assert_int_eq(last, 0);
	r = call(&f, "PATCH", NET "/virtualNetworks/hub" API, "{\"tags\":{\"n\":\"y\"}}", NULL);
	ck_assert_int_eq(r.status, 429);
	ck_assert_str_eq(test_resp_error_code(&r), "SubscriptionRequestsThrottled");
	/* the whole seconds until one token: 1,000 less what the burst's own time refilled */
	ck_assert_int_le(atoi(test_resp_header(&r, "retry-after")), 1000);
	ck_assert_int_ge(atoi(test_resp_header(&r, "retry-after")), 500);
	ck_assert_str_eq(test_resp_header(&r, "x-ms-ratelimit-remaining-subscription-writes"), "0");
	test_resp_free(&r);
	/* reads have their own bucket */
	r = GET(&f, NET "/virtualNetworks/hub" API);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(json_path_str(r.json, "tags", "n", NULL), "x");
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

/* --- faults ------------------------------------------------------------------------------- */

static void
set_faults(struct fixture *f, const char *json)
{
	struct test_resp r = PUT(f, "/__netwave/faults", json);

	ck_assert_msg(r.status == 200, "faults refused: %s", r.body != NULL ? r.body : "");
	test_resp_free(&r);
}

#define VNET_BODY "{\"location\":\"eastus\",\"properties\":{\"addressSpace\":{\"addressPrefixes\":[\"10.70.0.0/16\"]}}}"

START_TEST(test_fault_error_answers_the_status_code_on_the_nth_match)
{
	struct fixture f;
	struct test_resp r;
	static const struct { int status; const char *code; } cases[] = {
		{ 429, "RetryableErrorDueToAnotherOperation" }, { 409, "AnotherOperationInProgress" },
		{ 412, "PreconditionFailed" }, { 500, "InternalServerError" }, { 502, "BadGateway" },
		{ 503, "ServiceUnavailable" },
	};
	size_t i;

	start(&f, 0);
	set_faults(&f, "{\"format\":\"netwave.faults/v1\",\"rules\":[{\"name\":\"second-get\","
	    "\"method\":\"GET\",\"path\":\"/subscriptions/*/virtualNetworks/hub\",\"nth\":2,"
	    "\"action\":\"error\",\"status\":429,\"retryAfter\":7}]}");
	r = GET(&f, NET "/virtualNetworks/hub" API);
	ck_assert_int_eq(r.status, 200);
	test_resp_free(&r);
	r = GET(&f, NET "/virtualNetworks/hub" API);
	ck_assert_int_eq(r.status, 429);
	ck_assert_str_eq(test_resp_error_code(&r), "RetryableErrorDueToAnotherOperation");
	ck_assert_str_eq(test_resp_header(&r, "retry-after"), "7");
	test_resp_free(&r);
	r = GET(&f, NET "/virtualNetworks/hub" API);
	ck_assert_int_eq(r.status, 200);
	test_resp_free(&r);
	r = GET(&f, "/__netwave/faults");
	ck_assert_int_eq(json_integer_value(json_path(json_array_get(json_object_get(r.json, "rules"), 0),
	    "matched", NULL)), 3);
	ck_assert_int_eq(json_integer_value(json_path(json_array_get(json_object_get(r.json, "rules"), 0),
	    "fired", NULL)), 1);
	test_resp_free(&r);
	/* other paths never matched */
	r = GET(&f, NET "/virtualNetworks/spoke-1" API);
	ck_assert_int_eq(r.status, 200);
	test_resp_free(&r);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char doc[512];
		snprintf(doc, sizeof(doc), "{\"format\":\"netwave.faults/v1\",\"rules\":[{\"method\":\"PUT\","
		    "\"path\":\"*/virtualNetworks/f*\",\"action\":\"error\",\"status\":%d}]}", cases[i].status);
		set_faults(&f, doc);
		r = PUT(&f, NET "/virtualNetworks/fx" API, VNET_BODY);
		ck_assert_int_eq(r.status, cases[i].status);
		ck_assert_str_eq(test_resp_error_code(&r), cases[i].code);
		test_resp_free(&r);
	}
	r = GET(&f, NET "/virtualNetworks/fx" API);
	ck_assert_int_eq(r.status, 404); /* none of them wrote */
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_fault_reset_before_and_after_the_write)
{
	struct fixture f;
	struct test_resp r;

	start(&f, 0);
	set_faults(&f, "{\"format\":\"netwave.faults/v1\",\"rules\":[{\"method\":\"PUT\","
	    "\"path\":\"*/virtualNetworks/before\",\"action\":\"reset-before\"},{\"method\":\"PUT\","
	    "\"path\":\"*/virtualNetworks/after\",\"action\":\"reset-after\"}]}");
	r = PUT(&f, NET "/virtualNetworks/before" API, VNET_BODY);
	ck_assert_int_ne(r.rc, CURLE_OK);
	test_resp_free(&r);
	r = GET(&f, NET "/virtualNetworks/before" API);
	ck_assert_int_eq(r.status, 404);
	test_resp_free(&r);
	r = PUT(&f, NET "/virtualNetworks/after" API, VNET_BODY);
	ck_assert_int_ne(r.rc, CURLE_OK);
	test_resp_free(&r);
	r = GET(&f, NET "/virtualNetworks/after" API);
	ck_assert_int_eq(r.status, 200);
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_fault_latency_delays_the_answer)
{
	struct fixture f;
	struct test_resp r;

	start(&f, 0);
	set_faults(&f, "{\"format\":\"netwave.faults/v1\",\"rules\":[{\"method\":\"GET\","
	    "\"path\":\"*/virtualNetworks/hub\",\"action\":\"latency\",\"ms\":300}]}");
	r = GET(&f, NET "/virtualNetworks/hub" API);
	ck_assert_int_eq(r.status, 200);
	ck_assert_msg(r.secs >= 0.3, "answered after %.3f s", r.secs);
	test_resp_free(&r);
	r = GET(&f, NET "/virtualNetworks/spoke-1" API);
	ck_assert_msg(r.secs < 0.3, "unmatched request delayed %.3f s", r.secs);
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_fault_operations_end_failed_canceled_or_lost)
{
	struct fixture f;
	struct test_resp r, a;

	start(&f, 0);
	set_faults(&f, "{\"format\":\"netwave.faults/v1\",\"rules\":["
	    "{\"method\":\"PUT\",\"path\":\"*/virtualNetworks/fail\",\"action\":\"lro-failed\",\"code\":\"InternalServerError\"},"
	    "{\"method\":\"PUT\",\"path\":\"*/virtualNetworks/cancel\",\"action\":\"lro-canceled\"},"
	    "{\"method\":\"PUT\",\"path\":\"*/virtualNetworks/lost\",\"action\":\"status-404\"}]}");
	r = PUT(&f, NET "/virtualNetworks/fail" API, VNET_BODY);
	ck_assert_int_eq(r.status, 201);
	a = poll_async(&f, test_resp_header(&r, "azure-asyncoperation"));
	ck_assert_str_eq(json_str(a.json, "status"), "Failed");
	ck_assert_str_eq(json_path_str(a.json, "error", "code", NULL), "InternalServerError");
	test_resp_free(&a);
	a = poll_location(&f, test_resp_header(&r, "location"));
	ck_assert_int_eq(a.status, 400);
	test_resp_free(&a);
	test_resp_free(&r);
	r = GET(&f, NET "/virtualNetworks/fail" API);
	ck_assert_str_eq(pstate(r.json), "Failed");
	test_resp_free(&r);

	r = PUT(&f, NET "/virtualNetworks/cancel" API, VNET_BODY);
	a = poll_async(&f, test_resp_header(&r, "azure-asyncoperation"));
	ck_assert_str_eq(json_str(a.json, "status"), "Canceled");
	ck_assert_ptr_nonnull(json_path_str(a.json, "error", "code", NULL));
	test_resp_free(&a);
	test_resp_free(&r);

	r = PUT(&f, NET "/virtualNetworks/lost" API, VNET_BODY);
	ck_assert_int_eq(r.status, 201);
	a = GET(&f, test_resp_header(&r, "azure-asyncoperation"));
	ck_assert_int_eq(a.status, 404);
	test_resp_free(&a);
	a = GET(&f, test_resp_header(&r, "location"));
	ck_assert_int_eq(a.status, 404);
	test_resp_free(&a);
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_fault_probability_is_reproducible_with_the_seed)
{
	char pattern[2][64];
	int run, i, fired = 0;

	for (run = 0; run < 2; run++) {
		struct fixture f;
		struct emulator_opts o = { .no_auth = true, .rng_seed = 7 };

		start_with(&f, &o, seed(1));
		set_faults(&f, "{\"format\":\"netwave.faults/v1\",\"rules\":[{\"method\":\"GET\","
		    "\"probability\":0.5,\"action\":\"error\",\"status\":503}]}");
		for (i = 0; i < 40; i++) {
			struct test_resp r = GET(&f, NET "/virtualNetworks/hub" API);
			pattern[run][i] = r.status == 503 ? 'x' : '.';
			if (run == 0 && r.status == 503)
				fired++;
			test_resp_free(&r);
		}
		pattern[run][40] = '\0';
		emulator_stop(f.e);
	}
	ck_assert_str_eq(pattern[0], pattern[1]);
	ck_assert_int_gt(fired, 5);
	ck_assert_int_lt(fired, 35);
}
END_TEST

START_TEST(test_faults_document_errors_name_the_rule)
{
	struct fixture f;
	struct test_resp r;

	start(&f, 0);
	r = PUT(&f, "/__netwave/faults", "{\"format\":\"netwave.faults/v1\",\"rules\":[{\"action\":\"explode\"}]}");
	ck_assert_int_eq(r.status, 400);
	ck_assert_ptr_nonnull(strstr(r.body, "/rules/0/action"));
	test_resp_free(&r);
	r = PUT(&f, "/__netwave/faults", "{\"format\":\"netwave.faults/v1\",\"rules\":[{\"action\":\"error\",\"status\":200}]}");
	ck_assert_int_eq(r.status, 400);
	ck_assert_ptr_nonnull(strstr(r.body, "/rules/0/status"));
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

/* --- control endpoints ------------------------------------------------------------------- */

START_TEST(test_request_log_records_method_path_status_and_operation)
{
	struct fixture f;
	struct test_resp r;
	json_t *log, *ent;

	start(&f, 0);
	r = call(&f, "GET", NET "/virtualNetworks/hub" API, NULL, "x-ms-client-request-id: cid-1", NULL);
	test_resp_free(&r);
	r = GET(&f, NET "/virtualNetworks/nope" API);
	test_resp_free(&r);
	r = PUT(&f, NET "/virtualNetworks/logged" API, VNET_BODY);
	test_resp_free(&r);
	r = GET(&f, "/__netwave/requests");
	ck_assert_int_eq(r.status, 200);
	log = r.json;
	ck_assert_int_eq(json_array_size(log), 3); /* control endpoints are not logged */
	ent = json_array_get(log, 0);
	ck_assert_str_eq(json_str(ent, "method"), "GET");
	ck_assert_str_eq(json_str(ent, "path"), NET "/virtualNetworks/hub");
	ck_assert_str_eq(json_str(ent, "query"), "api-version=2026-01-01");
	ck_assert_int_eq(json_integer_value(json_object_get(ent, "status")), 200);
	ck_assert_str_eq(json_str(ent, "operation"), "get Microsoft.Network/virtualNetworks");
	ck_assert_str_eq(json_str(ent, "clientRequestId"), "cid-1");
	ck_assert_ptr_nonnull(json_str(ent, "time"));
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(log, 1), "status")), 404);
	ck_assert_str_eq(json_str(json_array_get(log, 2), "operation"),
	    "create Microsoft.Network/virtualNetworks");
	test_resp_free(&r);
	r = DEL(&f, "/__netwave/requests");
	ck_assert_int_eq(r.status, 204);
	test_resp_free(&r);
	log = emulator_requests(f.e);
	ck_assert_int_eq(json_array_size(log), 0);
	json_decref(log);
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_state_is_a_topology_and_drift_bypasses_arm)
{
	struct fixture f;
	struct test_resp r;
	json_t *doc, *res;
	size_t i;
	bool found = false;

	start(&f, 0);
	r = call(&f, "PATCH", "/__netwave/resources?id=" NET "/virtualNetworks/hub",
	    "{\"properties\":{\"privateEndpointVNetPolicies\":\"Basic\"}}", NULL);
	ck_assert_int_eq(r.status, 200);
	test_resp_free(&r);
	r = GET(&f, "/__netwave/state");
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(json_str(r.json, "format"), "netwave.topology/v1");
	json_array_foreach(json_object_get(r.json, "resources"), i, res)
		if (strcmp(json_str(res, "id"), NET "/virtualNetworks/hub") == 0) {
			found = true;
			ck_assert_str_eq(json_path_str(res, "properties", "privateEndpointVNetPolicies", NULL), "Basic");
			ck_assert_str_eq(json_string_value(json_array_get(json_path(res, "properties",
			    "addressSpace", "addressPrefixes", NULL), 0)), "10.0.0.0/16");
		}
	ck_assert(found);
	test_resp_free(&r);
	doc = emulator_requests(f.e);
	ck_assert_int_eq(json_array_size(doc), 0);
	json_decref(doc);
	/* the in-process accessor agrees */
	doc = emulator_state(f.e);
	/* seed(3)'s five resources, then their group rg-net as Resource Groups - Get returns it */
	ck_assert_int_eq(json_array_size(json_object_get(doc, "resources")), 6);
	ck_assert_str_eq(json_str(json_array_get(json_object_get(doc, "resources"), 5), "id"), RG);
	ck_assert_str_eq(json_str(json_array_get(json_object_get(doc, "resources"), 5), "type"),
	    "Microsoft.Resources/resourceGroups");
	json_decref(doc);
	/* drift on an embedded child */
	r = call(&f, "PUT", "/__netwave/resources?id=" NET "/virtualNetworks/hub/subnets/default",
	    "{\"name\":\"default\",\"properties\":{\"addressPrefix\":\"10.0.9.0/24\"}}", NULL);
	ck_assert_int_eq(r.status, 200);
	test_resp_free(&r);
	r = GET(&f, NET "/virtualNetworks/hub/subnets/default" API);
	ck_assert_str_eq(json_path_str(r.json, "properties", "addressPrefix", NULL), "10.0.9.0/24");
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

/* --- AVNM ----------------------------------------------------------------------------------- */

#define NM NET "/networkManagers/nm-1"

static void
avnm_setup(struct fixture *f, const char *caps)
{
	struct test_resp r;
	char body[1024];

	r = PUT(f, NM API, "{\"location\":\"eastus\",\"properties\":{\"networkManagerScopes\":{"
	    "\"subscriptions\":[\"/subscriptions/" SUB "\"]},\"networkManagerScopeAccesses\":[\"Connectivity\"]}}");
	ck_assert_msg(r.status == 201, "nm: %ld %s", r.status, r.body);
	ck_assert_str_eq(pstate(r.json), "Succeeded");
	test_resp_free(&r);
	r = PUT(f, NM "/networkGroups/mesh" API, "{\"properties\":{\"memberType\":\"VirtualNetwork\"}}");
	ck_assert_int_eq(r.status, 201);
	test_resp_free(&r);
	r = PUT(f, NM "/networkGroups/mesh/staticMembers/s1" API,
	    "{\"properties\":{\"resourceId\":\"" NET "/virtualNetworks/spoke-1\"}}");
	ck_assert_int_eq(r.status, 201);
	ck_assert_str_eq(json_path_str(r.json, "properties", "region", NULL), "eastus");
	test_resp_free(&r);
	r = PUT(f, NM "/networkGroups/mesh/staticMembers/s2" API,
	    "{\"properties\":{\"resourceId\":\"" NET "/virtualNetworks/spoke-2\"}}");
	ck_assert_int_eq(r.status, 201);
	test_resp_free(&r);
	snprintf(body, sizeof(body), "{\"properties\":{\"connectivityTopology\":\"Mesh\","
	    "\"appliesToGroups\":[{\"networkGroupId\":\"" NM "/networkGroups/mesh\","
	    "\"groupConnectivity\":\"None\",\"isGlobal\":\"False\"}],\"isGlobal\":\"False\""
	    "%s%s}}", caps != NULL ? ",\"connectivityCapabilities\":" : "", caps != NULL ? caps : "");
	r = PUT(f, NM "/connectivityConfigurations/cc" API, body);
	ck_assert_msg(r.status == 201, "cc: %ld %s", r.status, r.body);
	test_resp_free(&r);
}

static struct test_resp
commit(struct fixture *f, const char *ids)
{
	char body[1024];

	snprintf(body, sizeof(body), "{\"targetLocations\":[\"eastus\"],\"commitType\":\"Connectivity\","
	    "\"configurationIds\":[%s]}", ids);
	return POST(f, NM "/commit" API, body);
}

START_TEST(test_avnm_commit_deploys_a_goal_state_per_region)
{
	struct fixture f;
	struct test_resp r, a, s;
	json_t *doc;

	start(&f, 0);
	avnm_setup(&f, NULL);
	r = commit(&f, "\"" NM "/connectivityConfigurations/cc\"");
	ck_assert_int_eq(r.status, 202);
	ck_assert_ptr_nonnull(test_resp_header(&r, "location"));
	ck_assert_str_eq(json_str(r.json, "commitType"), "Connectivity");
	ck_assert_ptr_nonnull(json_str(r.json, "commitId"));
	a = poll_location(&f, test_resp_header(&r, "location"));
	ck_assert_int_eq(a.status, 200);
	ck_assert_str_eq(json_str(a.json, "commitType"), "Connectivity");
	test_resp_free(&a);
	test_resp_free(&r);
	s = POST(&f, NM "/listDeploymentStatus" API, "{\"regions\":[\"eastus\"],\"deploymentTypes\":[\"Connectivity\"]}");
	ck_assert_int_eq(s.status, 200);
	ck_assert_int_eq(json_array_size(json_object_get(s.json, "value")), 1);
	ck_assert_str_eq(json_str(json_array_get(json_object_get(s.json, "value"), 0), "deploymentStatus"), "Deployed");
	test_resp_free(&s);
	s = POST(&f, NM "/listActiveConnectivityConfigurations" API, "{\"regions\":[\"eastus\"]}");
	ck_assert_int_eq(s.status, 200);
	ck_assert_str_eq(json_str(json_array_get(json_object_get(s.json, "value"), 0), "id"),
	    NM "/connectivityConfigurations/cc");
	ck_assert_str_eq(json_str(json_array_get(json_object_get(s.json, "value"), 0), "region"), "eastus");
	ck_assert_str_eq(json_str(json_array_get(json_path(json_array_get(json_object_get(s.json,
	    "value"), 0), "configurationGroups", NULL), 0), "id"), NM "/networkGroups/mesh");
	test_resp_free(&s);
	s = POST(&f, NET "/virtualNetworks/spoke-1/listNetworkManagerEffectiveConnectivityConfigurations" API, "{}");
	ck_assert_int_eq(s.status, 200);
	ck_assert_int_eq(json_array_size(json_object_get(s.json, "value")), 1);
	test_resp_free(&s);
	s = POST(&f, NET "/virtualNetworks/spoke-3/listNetworkManagerEffectiveConnectivityConfigurations" API, "{}");
	ck_assert_int_eq(json_array_size(json_object_get(s.json, "value")), 0);
	test_resp_free(&s);
	doc = emulator_state(f.e);
	ck_assert_str_eq(json_string_value(json_array_get(json_path(doc, "observed", "avnmDeployments",
	    NM, "eastus", "Connectivity", NULL), 0)), NM "/connectivityConfigurations/cc");
	json_decref(doc);
	/* the route engine sees the connected group: spoke-1's NIC reaches spoke-2 over it */
	r = POST(&f, NET "/networkInterfaces/nic-1/effectiveRouteTable" API, NULL);
	a = poll_location(&f, test_resp_header(&r, "location"));
	ck_assert_int_eq(a.status, 200);
	{
		json_t *v;
		size_t i;
		bool cg = false;
		json_array_foreach(json_object_get(a.json, "value"), i, v)
			if (strcmp(json_string_value(json_array_get(json_object_get(v, "addressPrefix"), 0)),
			    "10.2.0.0/16") == 0 && strcmp(json_str(v, "nextHopType"), "ConnectedGroup") == 0)
				cg = true;
		ck_assert_msg(cg, "no ConnectedGroup route to spoke-2: %s", a.body);
	}
	test_resp_free(&a);
	test_resp_free(&r);
	/* deleting a deployed configuration needs force or an undeploy */
	r = DEL(&f, NM "/connectivityConfigurations/cc" API);
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(test_resp_error_code(&r), "ConfigurationIsDeployed");
	test_resp_free(&r);
	/* an empty commit undeploys */
	r = commit(&f, "");
	a = poll_location(&f, test_resp_header(&r, "location"));
	test_resp_free(&a);
	test_resp_free(&r);
	doc = emulator_state(f.e);
	ck_assert_ptr_null(json_path(doc, "observed", "avnmDeployments", NM, NULL));
	json_decref(doc);
	r = DEL(&f, NM "/connectivityConfigurations/cc" API);
	ck_assert_int_eq(r.status, 202);
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_avnm_validation_of_groups_members_and_configurations)
{
	struct fixture f;
	struct test_resp r;

	start(&f, 0);
	r = PUT(&f, NM API, "{\"location\":\"eastus\",\"properties\":{}}");
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(test_resp_error_code(&r), "InvalidNetworkManagerScope");
	test_resp_free(&r);
	avnm_setup(&f, NULL);
	r = PUT(&f, NM "/networkGroups/mesh/staticMembers/ghost" API,
	    "{\"properties\":{\"resourceId\":\"" NET "/virtualNetworks/ghost\"}}");
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(test_resp_error_code(&r), "InvalidResourceReference");
	test_resp_free(&r);
	r = PUT(&f, NM "/connectivityConfigurations/bad" API,
	    "{\"properties\":{\"connectivityTopology\":\"Mesh\",\"appliesToGroups\":[{\"networkGroupId\":\""
	    NM "/networkGroups/mesh\",\"groupConnectivity\":\"None\"}],\"isGlobal\":true}}");
	ck_assert_int_eq(r.status, 400);
	ck_assert_ptr_nonnull(strstr(json_path_str(r.json, "error", "message", NULL), "isGlobal"));
	test_resp_free(&r);
	r = PUT(&f, NM "/connectivityConfigurations/bad" API,
	    "{\"properties\":{\"connectivityTopology\":\"Star\",\"appliesToGroups\":[]}}");
	ck_assert_int_eq(r.status, 400);
	test_resp_free(&r);
	r = PUT(&f, NET "/networkManagers/none/networkGroups/g" API, "{\"properties\":{}}");
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(test_resp_error_code(&r), "ParentResourceNotFound");
	test_resp_free(&r);
	r = GET(&f, NM "/networkGroups/mesh/staticMembers" API);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(json_array_size(json_object_get(r.json, "value")), 2);
	test_resp_free(&r);
	r = commit(&f, "\"" NM "/connectivityConfigurations/missing\"");
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(test_resp_error_code(&r), "InvalidResourceReference");
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

static void
commit_fails_with(struct fixture *f, const char *code)
{
	struct test_resp r = commit(f, "\"" NM "/connectivityConfigurations/cc\""), a, s;

	ck_assert_int_eq(r.status, 202);
	a = poll_async(f, test_resp_header(&r, "azure-asyncoperation"));
	ck_assert_str_eq(json_str(a.json, "status"), "Failed");
	ck_assert_str_eq(json_path_str(a.json, "error", "code", NULL), code);
	test_resp_free(&a);
	test_resp_free(&r);
	s = POST(f, NM "/listDeploymentStatus" API, "{}");
	ck_assert_str_eq(json_str(json_array_get(json_object_get(s.json, "value"), 0), "deploymentStatus"), "Failed");
	ck_assert_str_ne(json_str(json_array_get(json_object_get(s.json, "value"), 0), "errorMessage"), "");
	test_resp_free(&s);
}

START_TEST(test_avnm_limits_fail_the_commit_with_clear_errors)
{
	struct fixture f;
	json_t *doc;

	/* HighScale private endpoints when a member lacks privateEndpointVNetPolicies Basic */
	start(&f, 0);
	avnm_setup(&f, "{\"connectedGroupPrivateEndpointsScale\":\"HighScale\","
	    "\"connectedGroupAddressOverlap\":\"Allowed\",\"peeringEnforcement\":\"Unenforced\"}");
	commit_fails_with(&f, "HighScalePrivateEndpointsNotEnabled");
	doc = emulator_state(f.e);
	ck_assert_ptr_null(json_path(doc, "observed", "avnmDeployments", NM, NULL));
	json_decref(doc);
	emulator_stop(f.e);

	/* overlap under Disallowed */
	{
		struct emulator_opts o = { .no_auth = true };
		json_t *s = seed(3);
		json_t *v2 = json_array_get(json_object_get(s, "resources"), 2);
		json_array_set_new(json_path(v2, "properties", "addressSpace", "addressPrefixes", NULL), 0,
		    json_string("10.1.128.0/17"));
		json_array_clear(json_path(v2, "properties", "subnets", NULL));
		start_with(&f, &o, s);
	}
	avnm_setup(&f, "{\"connectedGroupPrivateEndpointsScale\":\"Standard\","
	    "\"connectedGroupAddressOverlap\":\"Disallowed\",\"peeringEnforcement\":\"Unenforced\"}");
	commit_fails_with(&f, "ConnectedGroupAddressOverlap");
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_avnm_more_than_250_members_needs_the_feature)
{
	struct fixture f;
	struct emulator_opts o = { .no_auth = true };
	json_t *s = seed(251), *res = json_object_get(s, "resources");
	struct test_resp r, a;
	int i;

	json_array_append_new(res, json_pack("{s:s,s:s,s:s,s:s,s:{s:{s:[s]},s:[s]}}",
	    "id", NM, "name", "nm-1", "type", "Microsoft.Network/networkManagers", "location", "eastus",
	    "properties", "networkManagerScopes", "subscriptions", "/subscriptions/" SUB,
	    "networkManagerScopeAccesses", "Connectivity"));
	json_array_append_new(res, json_pack("{s:s,s:s,s:s,s:{s:s}}", "id", NM "/networkGroups/mesh",
	    "name", "mesh", "type", "Microsoft.Network/networkManagers/networkGroups", "properties",
	    "memberType", "VirtualNetwork"));
	for (i = 1; i <= 251; i++)
		json_array_append_new(res, json_pack("{s:o,s:o,s:s,s:{s:o}}",
		    "id", json_sprintf("%s/networkGroups/mesh/staticMembers/m%d", NM, i),
		    "name", json_sprintf("m%d", i),
		    "type", "Microsoft.Network/networkManagers/networkGroups/staticMembers",
		    "properties", "resourceId", json_sprintf("%s/virtualNetworks/spoke-%d", NET, i)));
	json_array_append_new(res, json_pack("{s:s,s:s,s:s,s:{s:s,s:[{s:s,s:s}]}}",
	    "id", NM "/connectivityConfigurations/cc", "name", "cc", "type",
	    "Microsoft.Network/networkManagers/connectivityConfigurations", "properties",
	    "connectivityTopology", "Mesh", "appliesToGroups", "networkGroupId", NM "/networkGroups/mesh",
	    "groupConnectivity", "None"));
	start_with(&f, &o, s);
	commit_fails_with(&f, "ConnectedGroupMemberLimitExceeded");
	/* register the feature, wait for Registered, then it deploys */
	r = POST(&f, "/subscriptions/" SUB "/providers/Microsoft.Features/providers/Microsoft.Network/features/AllowHighScaleConnectedGroup/register?api-version=2021-07-01", NULL);
	ck_assert_int_eq(r.status, 200);
	test_resp_free(&r);
	for (i = 0; i < 200; i++) {
		r = GET(&f, "/subscriptions/" SUB "/providers/Microsoft.Features/providers/Microsoft.Network/features/AllowHighScaleConnectedGroup?api-version=2021-07-01");
		if (strcmp(json_path_str(r.json, "properties", "state", NULL), "Registered") == 0)
			break;
		test_resp_free(&r);
		usleep(10000);
	}
	ck_assert_str_eq(json_path_str(r.json, "properties", "state", NULL), "Registered");
	test_resp_free(&r);
	r = commit(&f, "\"" NM "/connectivityConfigurations/cc\"");
	a = poll_async(&f, test_resp_header(&r, "azure-asyncoperation"));
	ck_assert_str_eq(json_str(a.json, "status"), "Succeeded");
	test_resp_free(&a);
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_avnm_a_vnet_in_three_connected_groups_is_refused)
{
	struct fixture f;
	struct test_resp r, a;
	const char *names[] = { "cc", "cc2", "cc3" };
	char ids[1024] = "", body[1024];
	size_t i;

	start(&f, 0);
	avnm_setup(&f, NULL);
	for (i = 1; i < 3; i++) {
		snprintf(body, sizeof(body), "{\"properties\":{\"connectivityTopology\":\"Mesh\","
		    "\"appliesToGroups\":[{\"networkGroupId\":\"" NM "/networkGroups/mesh\",\"groupConnectivity\":\"None\"}]}}");
		snprintf(ids, sizeof(ids), NM "/connectivityConfigurations/%s" API, names[i]);
		r = PUT(&f, ids, body);
		ck_assert_int_eq(r.status, 201);
		test_resp_free(&r);
	}
	r = commit(&f, "\"" NM "/connectivityConfigurations/cc\",\"" NM "/connectivityConfigurations/cc2\"");
	a = poll_async(&f, test_resp_header(&r, "azure-asyncoperation"));
	ck_assert_str_eq(json_str(a.json, "status"), "Succeeded");
	test_resp_free(&a);
	test_resp_free(&r);
	r = commit(&f, "\"" NM "/connectivityConfigurations/cc\",\"" NM "/connectivityConfigurations/cc2\",\"" NM "/connectivityConfigurations/cc3\"");
	a = poll_async(&f, test_resp_header(&r, "azure-asyncoperation"));
	ck_assert_str_eq(json_str(a.json, "status"), "Failed");
	ck_assert_str_eq(json_path_str(a.json, "error", "code", NULL), "ConnectedGroupLimitPerVnetExceeded");
	test_resp_free(&a);
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_fault_empty_deployment_status_right_after_a_commit)
{
	struct fixture f;
	struct test_resp r, a, s;

	start(&f, 0);
	avnm_setup(&f, NULL);
	set_faults(&f, "{\"format\":\"netwave.faults/v1\",\"rules\":[{\"method\":\"POST\","
	    "\"path\":\"*/commit\",\"action\":\"empty-deployment-status\",\"count\":2}]}");
	r = commit(&f, "\"" NM "/connectivityConfigurations/cc\"");
	a = poll_location(&f, test_resp_header(&r, "location"));
	test_resp_free(&a);
	test_resp_free(&r);
	s = POST(&f, NM "/listDeploymentStatus" API, "{}");
	ck_assert_int_eq(s.status, 200);
	ck_assert_int_eq(json_array_size(json_object_get(s.json, "value")), 0);
	test_resp_free(&s);
	s = POST(&f, NM "/listDeploymentStatus" API, "{}");
	ck_assert_int_eq(json_array_size(json_object_get(s.json, "value")), 0);
	test_resp_free(&s);
	s = POST(&f, NM "/listDeploymentStatus" API, "{}");
	ck_assert_int_eq(json_array_size(json_object_get(s.json, "value")), 1);
	test_resp_free(&s);
	emulator_stop(f.e);
}
END_TEST

/* --- features ------------------------------------------------------------------------------- */

START_TEST(test_feature_registration_goes_registering_then_registered)
{
	struct fixture f;
	struct test_resp r;
	const char *url = "/subscriptions/" SUB "/providers/Microsoft.Features/providers/Microsoft.Network/features/AllowHighScaleConnectedGroup?api-version=2021-07-01";
	json_t *doc;
	int i;

	start(&f, 1000); /* 300 s nominal: 0.3 s */
	r = GET(&f, url);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(json_path_str(r.json, "properties", "state", NULL), "NotRegistered");
	ck_assert_str_eq(json_str(r.json, "name"), "Microsoft.Network/AllowHighScaleConnectedGroup");
	ck_assert_str_eq(json_str(r.json, "type"), "Microsoft.Features/providers/features");
	test_resp_free(&r);
	r = POST(&f, "/subscriptions/" SUB "/providers/Microsoft.Features/providers/Microsoft.Network/features/AllowHighScaleConnectedGroup/register?api-version=2021-07-01", NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(json_path_str(r.json, "properties", "state", NULL), "Registering");
	test_resp_free(&r);
	r = GET(&f, url);
	ck_assert_str_eq(json_path_str(r.json, "properties", "state", NULL), "Registering");
	test_resp_free(&r);
	for (i = 0; i < 200; i++) {
		r = GET(&f, url);
		if (strcmp(json_path_str(r.json, "properties", "state", NULL), "Registered") == 0)
			break;
		test_resp_free(&r);
		usleep(10000);
	}
	ck_assert_str_eq(json_path_str(r.json, "properties", "state", NULL), "Registered");
	test_resp_free(&r);
	doc = emulator_state(f.e);
	ck_assert_str_eq(json_string_value(json_path(doc, "observed", "features",
	    "Microsoft.Network/AllowHighScaleConnectedGroup", NULL)), "Registered");
	json_decref(doc);
	r = POST(&f, "/subscriptions/" SUB "/providers/Microsoft.Network/register?api-version=2021-04-01", NULL);
	test_resp_expect_str(&r, 200, "registrationState", "Registered");
	emulator_stop(f.e);
}
END_TEST

/* --- gateway migration ------------------------------------------------------------------- */

static json_t *
gateway_seed(void)
{
	json_t *s = seed(1), *res = json_object_get(s, "resources");

	json_array_append_new(json_path(json_array_get(res, 0), "properties", "subnets", NULL),
	    json_pack("{s:s,s:s,s:{s:s}}", "name", "GatewaySubnet", "id",
	    NET "/virtualNetworks/hub/subnets/GatewaySubnet", "properties", "addressPrefix", "10.0.0.0/27"));
	json_array_append_new(res, json_pack("{s:s,s:s,s:s,s:s,s:{s:s},s:{s:s,s:s,s:s}}",
	    "id", NET "/publicIPAddresses/gw-pip", "name", "gw-pip", "type",
	    "Microsoft.Network/publicIPAddresses", "location", "eastus", "sku", "name", "Basic",
	    "properties", "publicIPAllocationMethod", "Dynamic", "ipAddress", "20.1.2.3",
	    "provisioningState", "Succeeded"));
	json_array_append_new(res, json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:s,s:{s:s,s:s},s:s,s:[{s:s,s:{s:{s:s},s:{s:s}}}]}}",
	    "id", NET "/virtualNetworkGateways/gw", "name", "gw", "type",
	    "Microsoft.Network/virtualNetworkGateways", "location", "eastus", "properties",
	    "gatewayType", "Vpn", "vpnType", "RouteBased", "sku", "name", "VpnGw1", "tier", "VpnGw1",
	    "provisioningState", "Succeeded", "ipConfigurations", "name", "default", "properties",
	    "subnet", "id", NET "/virtualNetworks/hub/subnets/GatewaySubnet", "publicIPAddress", "id",
	    NET "/publicIPAddresses/gw-pip"));
	json_array_append_new(res, json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:{s:s},s:s}}",
	    "id", NET "/connections/conn", "name", "conn", "type", "Microsoft.Network/connections",
	    "location", "eastus", "properties", "connectionType", "IPsec", "virtualNetworkGateway1",
	    "id", NET "/virtualNetworkGateways/gw", "provisioningState", "Succeeded"));
	return s;
}

/* The seed with its gateway made an ExpressRoute gateway (SKU Standard) on the same Basic IP. */
static json_t *
er_gateway_seed(void)
{
	json_t *s = gateway_seed(), *r;
	size_t i;

	json_array_foreach(json_object_get(s, "resources"), i, r) {
		json_t *p = json_object_get(r, "properties");
		if (strcmp(json_str(r, "name"), "gw") == 0) {
			json_object_set_new(p, "gatewayType", json_string("ExpressRoute"));
			json_object_del(p, "vpnType");
			json_object_set_new(p, "sku", json_pack("{s:s, s:s}", "name", "Standard", "tier",
			    "Standard"));
		} else if (strcmp(json_str(r, "name"), "conn") == 0) {
			json_object_set_new(p, "connectionType", json_string("ExpressRoute"));
		}
	}
	return s;
}

/* Sends a migration action and follows it; then the gateway at gw_path is in phase. */
static void
migrate_at(struct fixture *f, const char *action, const char *body, const char *gw_path,
    const char *phase)
{
	char url[512];
	struct test_resp r, l, g;

	snprintf(url, sizeof(url), NET "/virtualNetworkGateways/gw/%s" API, action);
	r = POST(f, url, body);
	ck_assert_msg(r.status == 202, "%s: %ld %s", action, r.status, r.body != NULL ? r.body : "");
	ck_assert_ptr_nonnull(test_resp_header(&r, "location"));
	ck_assert_ptr_nonnull(test_resp_header(&r, "azure-asyncoperation"));
	l = poll_location(f, test_resp_header(&r, "location"));
	ck_assert_int_eq(l.status, 200);
	test_resp_free(&l);
	test_resp_free(&r);
	g = GET(f, gw_path);
	ck_assert_int_eq(g.status, 200);
	ck_assert_str_eq(json_path_str(g.json, "properties", "virtualNetworkGatewayMigrationStatus",
	    "phase", NULL), phase);
	ck_assert_str_eq(json_path_str(g.json, "properties", "virtualNetworkGatewayMigrationStatus",
	    "state", NULL), "Succeeded");
	test_resp_free(&g);
}

static void
migrate(struct fixture *f, const char *action, const char *body, const char *phase)
{
	migrate_at(f, action, body, NET "/virtualNetworkGateways/gw" API, phase);
}

static void
assert_status(struct fixture *f, const char *path, long status)
{
	struct test_resp r = GET(f, path);

	ck_assert_msg(r.status == status, "%s: %ld, expected %ld", path, r.status, status);
	test_resp_free(&r);
}

START_TEST(test_a_vpn_gateway_migrates_in_place_and_abort_restores)
{
	struct fixture f;
	struct emulator_opts o = { .no_auth = true };
	struct test_resp r;

	start_with(&f, &o, gateway_seed());
	r = POST(&f, NET "/virtualNetworkGateways/gw/executeMigration" API, NULL);
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(test_resp_error_code(&r), "InvalidGatewayMigrationPhase");
	test_resp_free(&r);
	migrate(&f, "prepareMigration", "{\"migrationType\":\"UpgradeDeploymentToStandardIP\"}",
	    "PrepareSucceeded");
	/* learn vpn-gateway/basic-public-ip-migrate-howto: in place, no second gateway */
	assert_status(&f, NET "/virtualNetworkGateways/gw_migrate" API, 404);
	assert_status(&f, NET "/connections/conn_migrate" API, 404);
	r = GET(&f, NET "/publicIPAddresses/gw-pip" API);
	ck_assert_str_eq(json_path_str(r.json, "properties", "migrationPhase", NULL), "Prepare");
	test_resp_free(&r);
	migrate(&f, "executeMigration", NULL, "ExecuteSucceeded");
	r = GET(&f, NET "/virtualNetworkGateways/gw" API);
	ck_assert_str_eq(json_path_str(r.json, "properties", "sku", "name", NULL), "VpnGw1AZ");
	test_resp_free(&r);
	r = GET(&f, NET "/publicIPAddresses/gw-pip" API);
	ck_assert_str_eq(json_path_str(r.json, "sku", "name", NULL), "Standard");
	ck_assert_str_eq(json_path_str(r.json, "properties", "ipAddress", NULL), "20.1.2.3");
	test_resp_free(&r);
	migrate(&f, "abortMigration", NULL, "AbortSucceeded");
	/* the original as it was before prepare, not as execute left it */
	r = GET(&f, NET "/virtualNetworkGateways/gw" API);
	ck_assert_str_eq(json_path_str(r.json, "properties", "sku", "name", NULL), "VpnGw1");
	test_resp_free(&r);
	r = GET(&f, NET "/publicIPAddresses/gw-pip" API);
	ck_assert_str_eq(json_path_str(r.json, "sku", "name", NULL), "Basic");
	ck_assert_str_eq(json_path_str(r.json, "properties", "migrationPhase", NULL), "None");
	test_resp_free(&r);
	/* prepare again after abort, then commit: the same gateway, its IP Standard with its address */
	migrate(&f, "prepareMigration", "{\"migrationType\":\"UpgradeDeploymentToStandardIP\"}",
	    "PrepareSucceeded");
	migrate(&f, "executeMigration", NULL, "ExecuteSucceeded");
	migrate(&f, "commitMigration", NULL, "CommitSucceeded");
	assert_status(&f, NET "/connections/conn" API, 200);
	r = GET(&f, NET "/publicIPAddresses/gw-pip" API);
	ck_assert_str_eq(json_path_str(r.json, "sku", "name", NULL), "Standard");
	ck_assert_str_eq(json_path_str(r.json, "properties", "publicIPAllocationMethod", NULL), "Static");
	ck_assert_str_eq(json_path_str(r.json, "properties", "ipAddress", NULL), "20.1.2.3");
	ck_assert_str_eq(json_path_str(r.json, "properties", "migrationPhase", NULL), "Committed");
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_an_expressroute_migration_names_its_gateway_and_connections_as_azure_does)
{
	struct fixture f;
	struct emulator_opts o = { .no_auth = true };
	struct test_resp r;

	start_with(&f, &o, er_gateway_seed());
	migrate(&f, "prepareMigration", "{\"migrationType\":\"UpgradeDeploymentToStandardIP\"}",
	    "PrepareSucceeded");
	/* learn expressroute/gateway-migration: "_migrate" appended, tagged, same GatewaySubnet */
	r = GET(&f, NET "/virtualNetworkGateways/gw_migrate" API);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(json_path_str(r.json, "tags", "CreatedBy", NULL), "GatewaySKUMigration");
	ck_assert_str_eq(json_path_str(r.json, "properties", "sku", "name", NULL), "ErGw1AZ");
	ck_assert_str_eq(json_path_str(json_array_get(json_path(r.json, "properties", "ipConfigurations",
	    NULL), 0), "properties", "subnet", "id", NULL), NET "/virtualNetworks/hub/subnets/GatewaySubnet");
	ck_assert_ptr_null(json_path(json_array_get(json_path(r.json, "properties", "ipConfigurations",
	    NULL), 0), "properties", "publicIPAddress", NULL));
	test_resp_free(&r);
	r = GET(&f, NET "/connections/conn_migrate" API);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(json_path_str(r.json, "properties", "virtualNetworkGateway1", "id", NULL),
	    NET "/virtualNetworkGateways/gw_migrate");
	test_resp_free(&r);
	migrate(&f, "executeMigration", NULL, "ExecuteSucceeded");
	r = GET(&f, NET "/virtualNetworkGateways/gw" API);
	ck_assert_str_eq(json_path_str(r.json, "properties", "adminState", NULL), "Disabled");
	test_resp_free(&r);
	migrate(&f, "abortMigration", NULL, "AbortSucceeded");
	assert_status(&f, NET "/virtualNetworkGateways/gw_migrate" API, 404);
	assert_status(&f, NET "/connections/conn_migrate" API, 404);
	r = GET(&f, NET "/virtualNetworkGateways/gw" API);
	ck_assert_str_eq(json_path_str(r.json, "properties", "sku", "name", NULL), "Standard");
	ck_assert_ptr_null(json_path(r.json, "properties", "adminState", NULL));
	test_resp_free(&r);
	/* a name the request gives is used (an undocumented field: plan/gwmigrate.h) */
	r = POST(&f, NET "/virtualNetworkGateways/gw/prepareMigration" API,
	    "{\"migrationType\":\"UpgradeDeploymentToStandardIP\",\"newGatewayName\":\"-bad\"}");
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(test_resp_error_code(&r), "InvalidResourceName");
	test_resp_free(&r);
	migrate(&f, "prepareMigration", "{\"migrationType\":\"UpgradeDeploymentToStandardIP\","
	    "\"newGatewayName\":\"gw-az\"}", "PrepareSucceeded");
	assert_status(&f, NET "/virtualNetworkGateways/gw_migrate" API, 404);
	assert_status(&f, NET "/connections/conn_migrate" API, 200);
	migrate(&f, "executeMigration", NULL, "ExecuteSucceeded");
	migrate_at(&f, "commitMigration", NULL, NET "/virtualNetworkGateways/gw-az" API, "CommitSucceeded");
	/* after commit the old gateway and its connections are deleted */
	assert_status(&f, NET "/virtualNetworkGateways/gw" API, 404);
	assert_status(&f, NET "/connections/conn" API, 404);
	r = GET(&f, NET "/connections/conn_migrate" API);
	ck_assert_str_eq(json_path_str(r.json, "properties", "virtualNetworkGateway1", "id", NULL),
	    NET "/virtualNetworkGateways/gw-az");
	test_resp_free(&r);
	r = GET(&f, NET "/virtualNetworkGateways/gw-az" API);
	ck_assert_str_eq(json_path_str(r.json, "properties", "adminState", NULL), "Enabled");
	test_resp_free(&r);
	/* the Basic IP is not migrated (Learn names no change to it): left, detached */
	r = GET(&f, NET "/publicIPAddresses/gw-pip" API);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(json_path_str(r.json, "sku", "name", NULL), "Basic");
	ck_assert_ptr_null(json_path(r.json, "properties", "ipConfiguration", NULL));
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_connections_show_gateway_references_with_properties_as_arm_does)
{
	struct fixture f;
	struct emulator_opts o = { .no_auth = true };
	struct test_resp r;
	json_t *v;

	/* the seed stores {id} only; @azure/arm-network cannot read a
	 * connection whose gateway reference lacks "properties" */
	start_with(&f, &o, gateway_seed());
	r = GET(&f, NET "/connections/conn" API);
	ck_assert_int_eq(r.status, 200);
	ck_assert(json_is_object(json_path(r.json, "properties", "virtualNetworkGateway1",
	    "properties", NULL)));
	ck_assert_str_eq(json_path_str(r.json, "properties", "virtualNetworkGateway1", "id", NULL),
	    NET "/virtualNetworkGateways/gw");
	test_resp_free(&r);
	r = GET(&f, NET "/connections" API);
	ck_assert_int_eq(r.status, 200);
	v = json_array_get(json_object_get(r.json, "value"), 0);
	ck_assert(json_is_object(json_path(v, "properties", "virtualNetworkGateway1", "properties",
	    NULL)));
	test_resp_free(&r);
	/* the stored estate keeps what it was given */
	r = GET(&f, "/__netwave/resources?id=" NET "/connections/conn");
	ck_assert_ptr_null(json_path(r.json, "properties", "virtualNetworkGateway1", "properties",
	    NULL));
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

/* --- effective routes ---------------------------------------------------------------------- */

START_TEST(test_nic_effective_routes_come_from_the_route_engine)
{
	struct fixture f;
	struct test_resp r, l;
	json_t *v;
	size_t i;
	bool local = false, peer = false;

	start(&f, 0);
	r = PUT(&f, NET "/virtualNetworks/spoke-1/virtualNetworkPeerings/p" API,
	    "{\"properties\":{\"remoteVirtualNetwork\":{\"id\":\"" NET "/virtualNetworks/hub\"}}}");
	wait_put(&f, &r);
	test_resp_free(&r);
	r = PUT(&f, NET "/virtualNetworks/hub/virtualNetworkPeerings/p" API,
	    "{\"properties\":{\"remoteVirtualNetwork\":{\"id\":\"" NET "/virtualNetworks/spoke-1\"}}}");
	wait_put(&f, &r);
	test_resp_free(&r);
	r = POST(&f, NET "/networkInterfaces/nic-1/effectiveRouteTable" API, NULL);
	ck_assert_int_eq(r.status, 202);
	l = poll_location(&f, test_resp_header(&r, "location"));
	ck_assert_int_eq(l.status, 200);
	json_array_foreach(json_object_get(l.json, "value"), i, v) {
		const char *pfx = json_string_value(json_array_get(json_object_get(v, "addressPrefix"), 0));
		ck_assert_ptr_nonnull(json_str(v, "source"));
		ck_assert_ptr_nonnull(json_str(v, "state"));
		ck_assert(json_is_array(json_object_get(v, "nextHopIpAddress")));
		if (strcmp(pfx, "10.1.0.0/16") == 0 && strcmp(json_str(v, "nextHopType"), "VnetLocal") == 0)
			local = true;
		if (strcmp(pfx, "10.0.0.0/16") == 0 && strcmp(json_str(v, "nextHopType"), "VNetPeering") == 0)
			peer = true;
	}
	ck_assert_msg(local, "no VnetLocal route: %s", l.body);
	ck_assert_msg(peer, "no VNetPeering route: %s", l.body);
	test_resp_free(&l);
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST


START_TEST(test_circuit_route_table_comes_from_the_route_engine)
{
	struct fixture f;
	struct emulator_opts o = { .no_auth = true };
	json_t *s = seed(1), *res = json_object_get(s, "resources"), *v;
	struct test_resp r, l;
	size_t i;
	bool onprem = false, hub = false;

	json_array_append_new(json_path(json_array_get(res, 0), "properties", "subnets", NULL),
	    json_pack("{s:s,s:s,s:{s:s}}", "name", "GatewaySubnet", "id",
	    NET "/virtualNetworks/hub/subnets/GatewaySubnet", "properties", "addressPrefix", "10.0.0.0/27"));
	json_array_append_new(res, json_pack("{s:s,s:s,s:s,s:s,s:{s:[{s:s,s:s,s:{s:s}}]}}",
	    "id", NET "/expressRouteCircuits/er", "name", "er", "type",
	    "Microsoft.Network/expressRouteCircuits", "location", "eastus", "properties", "peerings",
	    "name", "AzurePrivatePeering", "id", NET "/expressRouteCircuits/er/peerings/AzurePrivatePeering",
	    "properties", "peeringType", "AzurePrivatePeering"));
	json_array_append_new(res, json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:{s:s},s:s,s:[{s:s,s:{s:{s:s}}}]}}",
	    "id", NET "/virtualNetworkGateways/ergw", "name", "ergw", "type",
	    "Microsoft.Network/virtualNetworkGateways", "location", "eastus", "properties",
	    "gatewayType", "ExpressRoute", "sku", "name", "ErGw1AZ", "provisioningState", "Succeeded",
	    "ipConfigurations", "name", "default", "properties", "subnet", "id",
	    NET "/virtualNetworks/hub/subnets/GatewaySubnet"));
	json_array_append_new(res, json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:{s:s},s:{s:s}}}",
	    "id", NET "/connections/er-conn", "name", "er-conn", "type", "Microsoft.Network/connections",
	    "location", "eastus", "properties", "connectionType", "ExpressRoute",
	    "virtualNetworkGateway1", "id", NET "/virtualNetworkGateways/ergw", "peer", "id",
	    NET "/expressRouteCircuits/er"));
	json_object_set_new(json_object_get(s, "observed"), "circuitRoutes", json_pack("{s:[{s:s,s:s,s:s}]}",
	    NET "/expressRouteCircuits/er", "network", "192.168.0.0/16", "nextHop", "172.16.0.1",
	    "path", "65020"));
	start_with(&f, &o, s);
	r = POST(&f, NET "/expressRouteCircuits/er/peerings/AzurePrivatePeering/routeTables/primary" API, NULL);
	ck_assert_msg(r.status == 202, "%ld %s", r.status, r.body != NULL ? r.body : "");
	l = poll_location(&f, test_resp_header(&r, "location"));
	ck_assert_int_eq(l.status, 200);
	json_array_foreach(json_object_get(l.json, "value"), i, v) {
		if (strcmp(json_str(v, "network"), "192.168.0.0/16") == 0 &&
		    strcmp(json_str(v, "path"), "65020") == 0)
			onprem = true;
		if (strcmp(json_str(v, "network"), "10.0.0.0/16") == 0)
			hub = true;
	}
	ck_assert_msg(onprem, "no on-premises route: %s", l.body);
	ck_assert_msg(hub, "the hub is not advertised: %s", l.body);
	test_resp_free(&l);
	test_resp_free(&r);
	r = POST(&f, NET "/expressRouteCircuits/er/peerings/AzurePrivatePeering/routeTables/tertiary" API, NULL);
	ck_assert_int_eq(r.status, 400);
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

/* --- authentication --------------------------------------------------------------------------- */

static char *
token(struct fixture *f, const char *form, long *status)
{
	struct test_resp r = call(f, "POST", "/tenant-1/oauth2/v2.0/token", form,
	    "Content-Type: application/x-www-form-urlencoded", NULL);
	char *t = NULL;

	*status = r.status;
	if (json_str(r.json, "access_token") != NULL)
		t = strdup(json_str(r.json, "access_token"));
	if (r.status == 200) {
		ck_assert_str_eq(json_str(r.json, "token_type"), "Bearer");
		ck_assert_int_gt(json_integer_value(json_object_get(r.json, "expires_in")), 0);
	}
	test_resp_free(&r);
	return t;
}

START_TEST(test_arm_routes_demand_a_valid_bearer_token)
{
	struct fixture f;
	struct emulator_opts o = { 0 };
	json_t *clients = json_pack("{s:s,s:[{s:s,s:s},{s:s,s:s}],s:i}", "format",
	    "netwave.emulator-clients/v1", "clients", "clientId", "app-1", "clientSecret", "fake-secret",
	    "clientId", "app-2", "clientAssertion", "signed-assertion-text", "tokenLifetime", 1);
	struct test_resp r;
	char auth[200], *t;
	long st;
	json_t *log;
	char *logtext;

	o.clients_json = clients;
	start_with(&f, &o, seed(1));
	r = GET(&f, NET "/virtualNetworks/hub" API);
	ck_assert_int_eq(r.status, 401);
	ck_assert_str_eq(test_resp_error_code(&r), "AuthenticationFailed");
	ck_assert_ptr_nonnull(test_resp_header(&r, "www-authenticate"));
	test_resp_free(&r);
	r = call(&f, "GET", NET "/virtualNetworks/hub" API, NULL, "Authorization: Bearer nonsense", NULL);
	ck_assert_int_eq(r.status, 401);
	ck_assert_str_eq(test_resp_error_code(&r), "InvalidAuthenticationToken");
	test_resp_free(&r);
	t = token(&f, "grant_type=client_credentials&client_id=app-1&client_secret=wrong&scope=https%3A%2F%2Fmanagement.azure.com%2F.default", &st);
	ck_assert_int_eq(st, 401);
	ck_assert_ptr_null(t);
	t = token(&f, "grant_type=client_credentials&client_id=app-9&client_secret=x&scope=https%3A%2F%2Fmanagement.azure.com%2F.default", &st);
	ck_assert_int_eq(st, 400);
	t = token(&f, "grant_type=client_credentials&client_id=app-2&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=signed-assertion-text&scope=https%3A%2F%2Fmanagement.azure.com%2F.default", &st);
	ck_assert_int_eq(st, 200);
	ck_assert_ptr_nonnull(t);
	free(t);
	t = token(&f, "grant_type=client_credentials&client_id=app-1&client_secret=fake-secret&scope=https%3A%2F%2Fmanagement.azure.com%2F.default", &st);
	ck_assert_int_eq(st, 200);
	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_null(strchr(t, '.')); /* opaque, not three dotted segments */
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", t);
	r = call(&f, "GET", NET "/virtualNetworks/hub" API, NULL, auth, NULL);
	ck_assert_int_eq(r.status, 200);
	test_resp_free(&r);
	usleep(1100000); /* lifetime 1 s */
	r = call(&f, "GET", NET "/virtualNetworks/hub" API, NULL, auth, NULL);
	ck_assert_int_eq(r.status, 401);
	ck_assert_str_eq(test_resp_error_code(&r), "ExpiredAuthenticationToken");
	test_resp_free(&r);
	/* managed identity in the IMDS shape */
	r = GET(&f, "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com");
	ck_assert_int_eq(r.status, 400);
	test_resp_free(&r);
	r = call(&f, "GET", "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com",
	    NULL, "Metadata: true", NULL);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(json_str(r.json, "access_token"));
	ck_assert_ptr_nonnull(json_str(r.json, "expires_on"));
	test_resp_free(&r);
	/* no secret or token anywhere in the log or the state */
	log = emulator_requests(f.e);
	logtext = json_dumps(log, 0);
	ck_assert_ptr_null(strstr(logtext, "fake-secret"));
	ck_assert_ptr_null(strstr(logtext, "signed-assertion-text"));
	ck_assert_ptr_null(strstr(logtext, t));
	free(logtext);
	json_decref(log);
	log = emulator_state(f.e);
	logtext = json_dumps(log, 0);
	ck_assert_ptr_null(strstr(logtext, "fake-secret"));
	ck_assert_ptr_null(strstr(logtext, t));
	free(logtext);
	json_decref(log);
	free(t);
	json_decref(clients);
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_openid_configuration_points_msal_at_the_emulator)
{
	struct fixture f;
	struct emulator_opts o = { 0 };
	struct test_resp r;
	char want[300];

	/* MSAL reads this document before it asks any authority it does not
	 * know for a token, and gives up without these four fields */
	start_with(&f, &o, seed(1));
	r = GET(&f, "/tenant-1/v2.0/.well-known/openid-configuration");
	ck_assert_int_eq(r.status, 200);
	snprintf(want, sizeof(want), "%s/tenant-1/oauth2/v2.0/token", f.base);
	ck_assert_str_eq(json_str(r.json, "token_endpoint"), want);
	snprintf(want, sizeof(want), "%s/tenant-1/v2.0", f.base);
	ck_assert_str_eq(json_str(r.json, "issuer"), want);
	ck_assert_ptr_nonnull(json_str(r.json, "authorization_endpoint"));
	ck_assert_ptr_nonnull(json_str(r.json, "jwks_uri"));
	test_resp_free(&r);
	r = GET(&f, "/tenant-1/discovery/v2.0/keys");
	ck_assert_int_eq(r.status, 200);
	ck_assert(json_is_array(json_object_get(r.json, "keys")));
	test_resp_free(&r);
	/* other paths under a tenant are still ARM's, and need a token */
	r = GET(&f, "/tenant-1/v2.0/.well-known/other");
	ck_assert_int_eq(r.status, 401);
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

/* --- Resource Graph ------------------------------------------------------------------------------- */

START_TEST(test_resource_graph_answers_the_discovery_subset_in_pages)
{
	struct fixture f;
	struct emulator_opts o = { .no_auth = true };
	struct test_resp r;
	json_t *first;
	char body[1024];

	start_with(&f, &o, seed(4));
	r = POST(&f, "/providers/Microsoft.ResourceGraph/resources?api-version=2021-03-01",
	    "{\"subscriptions\":[\"" SUB "\"],\"query\":\"Resources | where type =~ 'Microsoft.Network/virtualNetworks' | project id, name, properties | order by name asc\"}");
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(r.json, "totalRecords")), 5);
	first = json_array_get(json_object_get(r.json, "data"), 0);
	ck_assert_str_eq(json_str(first, "name"), "hub");
	ck_assert_ptr_nonnull(json_object_get(first, "properties"));
	ck_assert_ptr_null(json_object_get(first, "location"));
	test_resp_free(&r);
	r = POST(&f, "/providers/Microsoft.ResourceGraph/resources?api-version=2022-10-01",
	    "{\"query\":\"Resources | where type in~ ('microsoft.network/networkinterfaces') and subscriptionId in ('" SUB "') | project id\"}");
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(r.json, "count")), 1);
	test_resp_free(&r);
	/* pages of $top with $skipToken */
	snprintf(body, sizeof(body), "{\"query\":\"Resources | where type =~ 'microsoft.network/virtualnetworks' | project id\",\"options\":{\"$top\":2}}");
	r = POST(&f, "/providers/Microsoft.ResourceGraph/resources?api-version=2021-03-01", body);
	ck_assert_int_eq(json_integer_value(json_object_get(r.json, "count")), 2);
	ck_assert_ptr_nonnull(json_str(r.json, "$skipToken"));
	snprintf(body, sizeof(body), "{\"query\":\"Resources | where type =~ 'microsoft.network/virtualnetworks' | project id\",\"options\":{\"$top\":2,\"$skipToken\":\"%s\"}}",
	    json_str(r.json, "$skipToken"));
	test_resp_free(&r);
	r = POST(&f, "/providers/Microsoft.ResourceGraph/resources?api-version=2021-03-01", body);
	ck_assert_int_eq(json_integer_value(json_object_get(r.json, "count")), 2);
	test_resp_free(&r);
	/* outside the subset: a clear error */
	r = POST(&f, "/providers/Microsoft.ResourceGraph/resources?api-version=2021-03-01",
	    "{\"query\":\"Resources | summarize count() by type\"}");
	ck_assert_int_eq(r.status, 400);
	ck_assert_ptr_nonnull(strstr(r.body, "summarize"));
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

/* --- persistence -------------------------------------------------------------------------------- */

START_TEST(test_state_database_keeps_the_estate_across_a_restart)
{
	struct fixture f;
	char path[] = "/tmp/check_emulator_XXXXXX";
	char db[300];
	int fd = mkstemp(path);
	struct test_resp r;

	ck_assert_int_ge(fd, 0);
	close(fd);
	unlink(path);
	snprintf(db, sizeof(db), "%s.db", path);
	{
		struct emulator_opts o = { .no_auth = true, .state_path = db, .time_scale = 1 };
		start_with(&f, &o, seed(1));
	}
	r = PUT(&f, NET "/virtualNetworks/kept" API, VNET_BODY);
	ck_assert_int_eq(r.status, 201); /* still Updating when the emulator stops */
	test_resp_free(&r);
	emulator_stop(f.e);
	{
		struct emulator_opts o = { .no_auth = true, .state_path = db };
		start_with(&f, &o, json_pack("{s:s,s:[],s:[]}", "format", "netwave.topology/v1",
		    "subscriptions", "resources")); /* the seed is ignored: the database has an estate */
	}
	r = GET(&f, NET "/virtualNetworks/kept" API);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(pstate(r.json), "Succeeded");
	test_resp_free(&r);
	r = GET(&f, NET "/virtualNetworks/hub" API);
	ck_assert_int_eq(r.status, 200);
	test_resp_free(&r);
	emulator_stop(f.e);
	unlink(db);
	{
		char wal[320];
		snprintf(wal, sizeof(wal), "%s-wal", db);
		unlink(wal);
		snprintf(wal, sizeof(wal), "%s-shm", db);
		unlink(wal);
	}
}
END_TEST

/* --- resource groups (Microsoft.Resources 2021-04-01) ---------------------------------- */

#define SUB_B "00000000-0000-0000-0000-000000000002"
#define RGAPI "?api-version=2021-04-01"

/* seed(n), plus an empty group in a second subscription the topology records */
static json_t *
rg_seed(void)
{
	json_t *doc = seed(1);

	json_array_append_new(json_object_get(doc, "subscriptions"), json_string(SUB_B));
	json_array_append_new(json_object_get(doc, "resources"), json_pack("{s:s,s:s,s:s,s:s,s:{s:s},s:{s:s}}",
	    "id", "/subscriptions/" SUB_B "/resourceGroups/rg-Empty", "name", "rg-Empty",
	    "type", "Microsoft.Resources/resourceGroups", "location", "westeurope",
	    "tags", "owner", "net", "properties", "provisioningState", "Succeeded"));
	return doc;
}

START_TEST(test_resource_groups_are_served_as_arm_serves_them)
{
	struct fixture f;
	struct emulator_opts o = { .no_auth = true };
	struct test_resp r;
	json_t *doc;

	start_with(&f, &o, rg_seed());
	/* recorded, and implied by the seeded resources */
	r = GET(&f, "/subscriptions/" SUB_B "/resourcegroups/RG-EMPTY" RGAPI);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(json_str(r.json, "id"), "/subscriptions/" SUB_B "/resourceGroups/rg-Empty");
	ck_assert_str_eq(json_str(r.json, "type"), "Microsoft.Resources/resourceGroups");
	ck_assert_str_eq(json_str(r.json, "location"), "westeurope");
	ck_assert_str_eq(json_path_str(r.json, "tags", "owner", NULL), "net");
	ck_assert_str_eq(pstate(r.json), "Succeeded");
	test_resp_free(&r);
	r = call(&f, "HEAD", "/subscriptions/" SUB "/resourceGroups/rg-net" RGAPI, NULL, NULL);
	ck_assert_int_eq(r.status, 204);
	test_resp_free(&r);
	r = call(&f, "HEAD", "/subscriptions/" SUB "/resourceGroups/rg-none" RGAPI, NULL, NULL);
	ck_assert_int_eq(r.status, 404);
	test_resp_free(&r);
	r = GET(&f, "/subscriptions/" SUB "/resourceGroups/rg-none" RGAPI);
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(test_resp_error_code(&r), "ResourceGroupNotFound");
	test_resp_free(&r);
	/* a network write into a group that does not exist */
	r = PUT(&f, "/subscriptions/" SUB_B "/resourceGroups/rg-new/providers/Microsoft.Network/virtualNetworks/v" API,
	    "{\"location\": \"eastus\", \"properties\": {\"addressSpace\": {\"addressPrefixes\": [\"10.9.0.0/16\"]}}}");
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(test_resp_error_code(&r), "ResourceGroupNotFound");
	test_resp_free(&r);
	/* create 201, update 200, location fixed once created */
	r = PUT(&f, "/subscriptions/" SUB_B "/resourceGroups/rg-new" RGAPI, "{\"location\": \"eastus\"}");
	test_resp_expect_str(&r, 201, "name", "rg-new");
	r = PUT(&f, "/subscriptions/" SUB_B "/resourceGroups/RG-NEW" RGAPI, "{\"location\": \"eastus\", \"tags\": {\"a\": \"b\"}}");
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(json_str(r.json, "name"), "rg-new");
	ck_assert_str_eq(json_path_str(r.json, "tags", "a", NULL), "b");
	test_resp_free(&r);
	r = PUT(&f, "/subscriptions/" SUB_B "/resourceGroups/rg-new" RGAPI, "{\"location\": \"westus\"}");
	ck_assert_int_eq(r.status, 409);
	ck_assert_str_eq(test_resp_error_code(&r), "InvalidResourceGroupLocation");
	test_resp_free(&r);
	r = PUT(&f, "/subscriptions/" SUB_B "/resourceGroups/rg-new" RGAPI, "{}");
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(test_resp_error_code(&r), "LocationRequired");
	test_resp_free(&r);
	/* the list, in name order, per subscription */
	r = GET(&f, "/subscriptions/" SUB_B "/resourcegroups" RGAPI);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(r.json, "value")), 2);
	ck_assert_str_eq(json_str(json_array_get(json_object_get(r.json, "value"), 0), "name"), "rg-Empty");
	ck_assert_str_eq(json_str(json_array_get(json_object_get(r.json, "value"), 1), "name"), "rg-new");
	test_resp_free(&r);
	r = GET(&f, "/subscriptions/" SUB "/resourcegroups" "?api-version=2026-01-01");
	ck_assert_int_eq(r.status, 400);
	ck_assert_str_eq(test_resp_error_code(&r), "InvalidApiVersionParameter");
	test_resp_free(&r);
	/* the estate records them, so a discovery sees them */
	doc = emulator_state(f.e);
	ck_assert_int_eq(json_array_size(json_object_get(doc, "resources")), 3 + 3);
	json_decref(doc);
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_deleting_a_resource_group_deletes_everything_in_it)
{
	struct fixture f;
	struct emulator_opts o = { .no_auth = true };
	struct test_resp r, a;

	start_with(&f, &o, rg_seed());
	r = GET(&f, RG "/resources" RGAPI);
	ck_assert_int_eq(r.status, 200);
	/* top-level resources only: hub, spoke-1, nic-1 */
	ck_assert_uint_eq(json_array_size(json_object_get(r.json, "value")), 3);
	ck_assert_str_eq(json_str(json_array_get(json_object_get(r.json, "value"), 0), "type"),
	    "Microsoft.Network/networkInterfaces");
	ck_assert_ptr_null(json_path(json_array_get(json_object_get(r.json, "value"), 0), "properties", NULL));
	test_resp_free(&r);
	r = DEL(&f, RG RGAPI);
	ck_assert_int_eq(r.status, 202);
	ck_assert_ptr_nonnull(test_resp_header(&r, "location"));
	a = poll_location(&f, test_resp_header(&r, "location"));
	ck_assert_int_eq(a.status, 200);
	test_resp_free(&a);
	test_resp_free(&r);
	r = GET(&f, RG RGAPI);
	ck_assert_int_eq(r.status, 404);
	test_resp_free(&r);
	r = GET(&f, NET "/virtualNetworks/hub" API);
	ck_assert_int_eq(r.status, 404);
	ck_assert_str_eq(test_resp_error_code(&r), "ResourceGroupNotFound");
	test_resp_free(&r);
	r = DEL(&f, RG RGAPI);
	ck_assert_int_eq(r.status, 404);
	test_resp_free(&r);
	/* the other subscription's group is untouched */
	r = GET(&f, "/subscriptions/" SUB_B "/resourceGroups/rg-empty/resources" RGAPI);
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(r.json, "value")), 0);
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_resource_graph_serves_resource_containers)
{
	struct fixture f;
	struct emulator_opts o = { .no_auth = true };
	struct test_resp r;
	const json_t *row;

	start_with(&f, &o, rg_seed());
	r = POST(&f, "/providers/Microsoft.ResourceGraph/resources?api-version=2021-03-01",
	    "{\"subscriptions\": [\"" SUB "\", \"" SUB_B "\"], \"query\": \"ResourceContainers | where "
	    "type =~ 'microsoft.resources/subscriptions/resourcegroups' | order by id asc\"}");
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(r.json, "data")), 2);
	row = json_array_get(json_object_get(r.json, "data"), 1);
	ck_assert_str_eq(json_str(row, "id"), "/subscriptions/" SUB_B "/resourceGroups/rg-Empty");
	ck_assert_str_eq(json_str(row, "type"), "microsoft.resources/subscriptions/resourcegroups");
	ck_assert_str_eq(json_str(row, "resourceGroup"), "rg-empty");
	ck_assert_str_eq(json_str(row, "subscriptionId"), SUB_B);
	ck_assert_str_eq(json_path_str(row, "tags", "owner", NULL), "net");
	test_resp_free(&r);
	/* scoped to one subscription; subscriptions are containers too */
	r = POST(&f, "/providers/Microsoft.ResourceGraph/resources?api-version=2021-03-01",
	    "{\"subscriptions\": [\"" SUB_B "\"], \"query\": \"ResourceContainers | order by id asc\"}");
	ck_assert_int_eq(r.status, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(r.json, "data")), 2);
	ck_assert_str_eq(json_str(json_array_get(json_object_get(r.json, "data"), 0), "type"),
	    "microsoft.resources/subscriptions");
	test_resp_free(&r);
	emulator_stop(f.e);
}
END_TEST

START_TEST(test_features_register_per_subscription)
{
	struct fixture f;
	struct emulator_opts o = { .no_auth = true, .time_scale = 1000 };
	struct test_resp r;
	const char *fa = "/subscriptions/" SUB "/providers/Microsoft.Features/providers/Microsoft.Network/features/EnableMaxPrivateEndpointsVia64kPath";
	const char *fb = "/subscriptions/" SUB_B "/providers/Microsoft.Features/providers/Microsoft.Network/features/EnableMaxPrivateEndpointsVia64kPath";
	char url[512];
	json_t *doc;
	int i;

	start_with(&f, &o, rg_seed());
	snprintf(url, sizeof(url), "%s/register?api-version=2021-07-01", fa);
	r = POST(&f, url, NULL);
	ck_assert_str_eq(json_path_str(r.json, "properties", "state", NULL), "Registering");
	test_resp_free(&r);
	snprintf(url, sizeof(url), "%s?api-version=2021-07-01", fa);
	for (i = 0; i < 300; i++) {
		r = GET(&f, url);
		if (strcmp(json_path_str(r.json, "properties", "state", NULL), "Registered") == 0)
			break;
		test_resp_free(&r);
		usleep(10000);
	}
	ck_assert_str_eq(json_path_str(r.json, "properties", "state", NULL), "Registered");
	test_resp_free(&r);
	/* the other subscription has not registered it; the estate is as its least */
	snprintf(url, sizeof(url), "%s?api-version=2021-07-01", fb);
	r = GET(&f, url);
	ck_assert_str_eq(json_path_str(r.json, "properties", "state", NULL), "NotRegistered");
	test_resp_free(&r);
	doc = emulator_state(f.e);
	ck_assert_str_eq(json_string_value(json_path(doc, "observed", "features",
	    "Microsoft.Network/EnableMaxPrivateEndpointsVia64kPath", NULL)), "NotRegistered");
	json_decref(doc);
	snprintf(url, sizeof(url), "%s/register?api-version=2021-07-01", fb);
	r = POST(&f, url, NULL);
	ck_assert_int_eq(r.status, 200);
	test_resp_free(&r);
	snprintf(url, sizeof(url), "%s?api-version=2021-07-01", fb);
	for (i = 0; i < 300; i++) {
		r = GET(&f, url);
		if (strcmp(json_path_str(r.json, "properties", "state", NULL), "Registered") == 0)
			break;
		test_resp_free(&r);
		usleep(10000);
	}
	ck_assert_str_eq(json_path_str(r.json, "properties", "state", NULL), "Registered");
	test_resp_free(&r);
	doc = emulator_state(f.e);
	ck_assert_str_eq(json_string_value(json_path(doc, "observed", "features",
	    "Microsoft.Network/EnableMaxPrivateEndpointsVia64kPath", NULL)), "Registered");
	json_decref(doc);
	emulator_stop(f.e);
}
END_TEST

int
main(void)
{
	const TTest *const emulator_tests[] = {
		TEST_CASE("emulator", 60),
		test_get_answers_the_seeded_vnet_with_arm_headers,
		test_api_version_missing_or_unknown_is_a_cloud_error_400,
		test_unknown_paths_answer_as_arm_does,
		test_a_known_path_asked_with_another_method_is_405,
		test_an_operation_holds_its_resource_only_when_its_kind_does,
		test_malformed_json_is_400_invalid_request_content,
		test_body_over_4mb_is_413,
		test_put_creates_201_behind_an_operation_that_succeeds,
		test_delete_is_202_with_location_then_the_resource_is_gone,
		test_list_pages_with_top_and_absolute_next_links,
		test_subnets_must_fit_the_space_and_not_overlap,
		test_peering_is_initiated_until_the_remote_peers_back,
		test_a_spoke_space_change_unsyncs_only_the_peerings_between_the_two,
		test_a_write_while_an_operation_runs_is_retryable_429,
		test_if_match_mismatch_is_412,
		test_concurrent_clients_are_served_consistently,
		test_a_write_burst_beyond_the_bucket_gets_429_with_the_refill_wait,
		test_fault_error_answers_the_status_code_on_the_nth_match,
		test_fault_reset_before_and_after_the_write,
		test_fault_latency_delays_the_answer,
		test_fault_operations_end_failed_canceled_or_lost,
		test_fault_probability_is_reproducible_with_the_seed,
		test_faults_document_errors_name_the_rule,
		test_request_log_records_method_path_status_and_operation,
		test_state_is_a_topology_and_drift_bypasses_arm,
		test_avnm_commit_deploys_a_goal_state_per_region,
		test_avnm_validation_of_groups_members_and_configurations,
		test_avnm_limits_fail_the_commit_with_clear_errors,
		test_avnm_more_than_250_members_needs_the_feature,
		test_avnm_a_vnet_in_three_connected_groups_is_refused,
		test_fault_empty_deployment_status_right_after_a_commit,
		test_feature_registration_goes_registering_then_registered,
		test_resource_groups_are_served_as_arm_serves_them,
		test_deleting_a_resource_group_deletes_everything_in_it,
		test_resource_graph_serves_resource_containers,
		test_features_register_per_subscription,
		test_a_vpn_gateway_migrates_in_place_and_abort_restores,
		test_an_expressroute_migration_names_its_gateway_and_connections_as_azure_does,
		test_connections_show_gateway_references_with_properties_as_arm_does,
		test_openid_configuration_points_msal_at_the_emulator,
		test_nic_effective_routes_come_from_the_route_engine,
		test_circuit_route_table_comes_from_the_route_engine,
		test_arm_routes_demand_a_valid_bearer_token,
		test_resource_graph_answers_the_discovery_subset_in_pages,
		test_state_database_keeps_the_estate_across_a_restart,
		NULL,
	};

	return test_main("emulator", emulator_tests);
}
