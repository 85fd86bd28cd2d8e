/*
 * The Azure provider end to end against the ARM emulator, in process on
 * 127.0.0.1: every credential, token refresh, retries and throttling
 * (counted and timed through the emulator's request log), long-running
 * operations of every shape, error translation, --verbose redaction, TLS
 * with a CA made at test time, and discovery round trips (synth -> seed
 * -> discover == seed) through Resource Graph and through the list
 * fallback.  The few shapes the emulator cannot produce (a Location-only
 * or header-less long-running operation, the App Service managed identity
 * endpoint) come from a small scripted server in this file.
 *
 * Every wait is scaled (azure_opts.delay_scale), so no test sleeps for
 * real seconds.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>

#include "plan/jsonutil.h"
#include "plan/synth.h"
#include "plan/topology.h"
#include "providers/azure/azure.h"
#include "providers/emulator/emulator.h"
#include "providers/provider.h"
#include "tests/testhttp.h"
#include "tests/testutil.h"

extern char **environ;

#define SUB "00000000-0000-0000-0000-000000000001"
#define RG "/subscriptions/" SUB "/resourceGroups/rg-net"
#define NET RG "/providers/Microsoft.Network"
#define API "?api-version=" AZURE_API_NETWORK
#define SECRET "s3cret-Value-never-logged"

/* --- a small estate ---------------------------------------------------------------- */

static json_t *
small_seed(void)
{
	json_t *doc = json_pack("{s:s,s:s,s:[s],s:[],s:{}}", "format", TOPOLOGY_FORMAT,
	    "cloud", "AzureCloud", "subscriptions", SUB, "resources", "observed");
	json_t *res = json_object_get(doc, "resources");

	json_array_append_new(res, test_seed_vnet("hub", "10.0.0.0/16", "10.0.1.0/24"));
	json_array_append_new(res, test_seed_vnet("spoke-1", "10.1.0.0/16", "10.1.0.0/24"));
	json_array_append_new(res, test_seed_vnet("spoke-2", "10.2.0.0/16", "10.2.0.0/24"));
	json_array_append_new(res, test_seed_nic("nic-1", "10.1.0.4",
	    NET "/virtualNetworks/spoke-1/subnets/default"));
	return doc;
}

/* --- fixture: an emulator and a provider pointed at it ----------------------------- */

struct env {
	const char *k[24];
	const char *v[24];
	size_t n;
};

static const char *
env_lookup(void *arg, const char *name)
{
	struct env *e = arg;
	size_t i;

	for (i = 0; i < e->n; i++)
		if (strcmp(e->k[i], name) == 0)
			return e->v[i];
	return NULL;
}

static void
env_set(struct env *e, const char *k, const char *v)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (strcmp(e->k[i], k) == 0) {
			e->v[i] = v;
			return;
		}
	ck_assert(e->n < 24);
	e->k[e->n] = k;
	e->v[e->n++] = v;
}

struct fx {
	struct emulator *e;
	char base[128];
	struct provider *p;
	struct env env;
	struct azure_opts o;
	double clock_offset;
	char tmp[256];
	char *logbuf;
	size_t loglen;
	FILE *log;
};

static double
fx_clock(void *arg)
{
	struct fx *f = arg;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9 + f->clock_offset;
}

static const char *clients_doc =
    "{\"format\":\"netwave.emulator-clients/v1\",\"clients\":["
    "{\"clientId\":\"app-1\",\"tenantId\":\"*\",\"clientSecret\":\"" SECRET "\"},"
    "{\"clientId\":\"app-wi\",\"clientAssertion\":\"eyJhbGciOiJSUzI1NiJ9.assertion.sig\"}],"
    "\"managedIdentity\":{\"clientId\":\"mi-1\"}}";

/* Starts an emulator (seed NULL: the small estate; eo may be NULL) with its clients. */
static void
fx_emulator(struct fx *f, json_t *seed, struct emulator_opts *eo)
{
	struct emulator_opts o = { 0 };
	struct nw_err err = { 0 };
	json_t *clients = json_loads(clients_doc, 0, NULL);

	memset(f, 0, sizeof(*f));
	if (eo != NULL)
		o = *eo;
	if (seed == NULL)
		seed = small_seed();
	o.seed_json = seed;
	if (o.time_scale == 0)
		o.time_scale = 100000;
	if (o.rng_seed == 0)
		o.rng_seed = 7;
	o.clients_json = clients;
	ck_assert_msg(emulator_start(&f->e, &o, &err) == 0, "emulator did not start: %s", err.msg);
	json_decref(seed);
	json_decref(clients);
	snprintf(f->base, sizeof(f->base), "%s", emulator_base_url(f->e));
	snprintf(f->tmp, sizeof(f->tmp), "/tmp/nw-provider-XXXXXX");
	ck_assert(mkdtemp(f->tmp) != NULL);
	f->o.arm_endpoint = f->base;
	f->o.authority_host = f->base;
	f->o.getenv = env_lookup;
	f->o.getenv_arg = &f->env;
	f->o.clock = fx_clock;
	f->o.clock_arg = f;
	f->o.delay_scale = 0.001;
	f->o.rng_seed = 42;
	/* no IMDS and no az unless a test says so */
	env_set(&f->env, "NETWAVE_IMDS_ENDPOINT", "http://127.0.0.1:9");
	env_set(&f->env, "PATH", "/nonexistent");
}

static void
fx_secret_env(struct fx *f)
{
	env_set(&f->env, "AZURE_TENANT_ID", "tenant-1");
	env_set(&f->env, "AZURE_CLIENT_ID", "app-1");
	env_set(&f->env, "AZURE_CLIENT_SECRET", SECRET);
}

static void
fx_provider(struct fx *f)
{
	struct nw_err err = { 0 };

	provider_free(f->p);
	f->p = NULL;
	ck_assert_msg(azure_provider_new(&f->p, &f->o, &err) == 0, "provider: %s", err.msg);
}

static void
fx_capture_log(struct fx *f)
{
	f->log = open_memstream(&f->logbuf, &f->loglen);
	ck_assert(f->log != NULL);
	f->o.log = f->log;
}

/* The verbose log so far (borrowed). */
static const char *
fx_log_text(struct fx *f)
{
	fflush(f->log);
	return f->logbuf != NULL ? f->logbuf : "";
}

static void
fx_stop(struct fx *f)
{
	provider_free(f->p);
	emulator_stop(f->e);
	if (f->log != NULL)
		fclose(f->log);
	free(f->logbuf);
	test_rm_rf(f->tmp);
}

static void
fx_faults(struct fx *f, const char *rules)
{
	struct nw_err err = { 0 };
	char *text = NULL;
	json_t *doc;

	ck_assert(asprintf(&text, "{\"format\":\"netwave.faults/v1\",\"rules\":[%s]}", rules) > 0);
	doc = json_loads(text, 0, NULL);
	ck_assert_msg(doc != NULL, "bad fault rules: %s", text);
	ck_assert_msg(emulator_faults_set(f->e, doc, &err) == 0, "faults: %s", err.msg);
	json_decref(doc);
	free(text);
}

/* Request log entries whose method matches and whose path contains needle (new reference). */
static json_t *
fx_requests(struct fx *f, const char *method, const char *needle)
{
	json_t *all = emulator_requests(f->e), *out = json_array(), *ent;
	size_t i;

	json_array_foreach(all, i, ent) {
		const char *m = json_str(ent, "method"), *p = json_str(ent, "path");
		if (method != NULL && (m == NULL || strcmp(m, method) != 0))
			continue;
		if (needle != NULL && (p == NULL || strcasestr(p, needle) == NULL))
			continue;
		json_array_append(out, ent);
	}
	json_decref(all);
	return out;
}

static size_t
fx_count(struct fx *f, const char *method, const char *needle)
{
	json_t *r = fx_requests(f, method, needle);
	size_t n = json_array_size(r);

	json_decref(r);
	return n;
}

static int
entry_status(json_t *reqs, size_t i)
{
	return (int)json_integer_value(json_object_get(json_array_get(reqs, i), "status"));
}

/* The log's "2026-01-01T12:00:00.1234567Z" as seconds. */
static double
entry_time(json_t *reqs, size_t i)
{
	const char *s = json_str(json_array_get(reqs, i), "time");
	struct tm tm = { 0 };
	const char *rest;
	double frac = 0;

	ck_assert(s != NULL);
	rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	ck_assert(rest != NULL);
	if (*rest == '.')
		frac = strtod(rest, NULL);
	return (double)timegm(&tm) + frac;
}

static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A token straight from the emulator's token endpoint (for NETWAVE_ACCESS_TOKEN and az). */
static char *
emulator_token(struct fx *f)
{
	char url[256], *body = NULL, *tok;
	size_t len = 0;
	FILE *mem = open_memstream(&body, &len);
	CURL *c = curl_easy_init();
	json_t *v;

	snprintf(url, sizeof(url), "%s/tenant-1/oauth2/v2.0/token", f->base);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, "grant_type=client_credentials&client_id=app-1"
	    "&scope=https%3A%2F%2Fmanagement.azure.com%2F.default&client_secret=" SECRET);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, mem);
	ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_cleanup(c);
	fclose(mem);
	v = json_loads(body, 0, NULL);
	free(body);
	ck_assert(json_str(v, "access_token") != NULL);
	tok = strdup(json_str(v, "access_token"));
	json_decref(v);
	emulator_requests_clear(f->e);
	return tok;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	ck_assert_msg(fd >= 0, "cannot write %s", path);
	ck_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
}

/* Puts on f's PATH a stand-in az whose body (a shell script) answers for it. */
static void
fx_fake_az(struct fx *f, const char *script)
{
	char az[300];

	snprintf(az, sizeof(az), "%s/az", f->tmp);
	write_file(az, script, 0755);
	env_set(&f->env, "PATH", f->tmp);
}

/*
 * A stand-in az on f's PATH that records its arguments one a line in
 * args (a path under f->tmp, of size bytes) and answers with a token from
 * the emulator.
 */
static void
fx_recording_az(struct fx *f, char *args, size_t size)
{
	char *script = NULL, *tok = emulator_token(f);

	snprintf(args, size, "%s/args", f->tmp);
	ck_assert(asprintf(&script, "#!/bin/sh\nfor a in \"$@\"; do printf '%%s\\n' \"$a\"; done > '%s'\n"
	    "printf '{\"accessToken\": \"%s\", \"expires_on\": %ld, \"tokenType\": \"Bearer\"}\\n'\n",
	    args, tok, (long)time(NULL) + 3600) > 0);
	fx_fake_az(f, script);
	free(script);
	free(tok);
}

/* --- credentials ------------------------------------------------------------------- */

START_TEST(test_client_secret_gets_a_token_once_and_reads)
{
	struct fx f;
	struct nw_err err = { 0 };
	json_t *v = NULL, *reqs;

	fx_emulator(&f, NULL, NULL);
	fx_secret_env(&f);
	fx_provider(&f);
	ck_assert_msg(provider_read(f.p, NET "/virtualNetworks/hub" API, &v, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(json_str(v, "name"), "hub");
	json_decref(v);
	ck_assert_int_eq(provider_read(f.p, NET "/virtualNetworks/spoke-1" API, &v, &err), 0);
	json_decref(v);
	ck_assert_ptr_nonnull(strstr(azure_credential_name(f.p), "client secret credential"));
	ck_assert_ptr_nonnull(strstr(azure_credential_name(f.p), "app-1"));
	ck_assert_ptr_null(strstr(azure_credential_name(f.p), SECRET));
	reqs = fx_requests(&f, "POST", "/tenant-1/oauth2/v2.0/token");
	ck_assert_int_eq(json_array_size(reqs), 1);
	ck_assert_int_eq(entry_status(reqs, 0), 200);
	json_decref(reqs);
	reqs = fx_requests(&f, "GET", "/virtualNetworks/");
	ck_assert_int_eq(json_array_size(reqs), 2);
	ck_assert_int_eq(entry_status(reqs, 0), 200);
	ck_assert_int_eq(entry_status(reqs, 1), 200);
	json_decref(reqs);
	fx_stop(&f);
}
END_TEST

START_TEST(test_invalid_secret_fails_naming_the_credential_never_the_secret)
{
	struct fx f;
	struct nw_err err = { 0 };
	json_t *v = NULL;

	fx_emulator(&f, NULL, NULL);
	fx_secret_env(&f);
	env_set(&f.env, "AZURE_CLIENT_SECRET", "wrong-" SECRET);
	fx_provider(&f);
	ck_assert_int_eq(provider_read(f.p, NET "/virtualNetworks/hub" API, &v, &err), NW_EFAIL);
	ck_assert_ptr_null(v);
	ck_assert_ptr_nonnull(strstr(err.msg, "client secret credential"));
	ck_assert_ptr_nonnull(strstr(err.msg, "invalid_client"));
	ck_assert_ptr_nonnull(strstr(err.msg, "AADSTS7000215"));
	ck_assert_ptr_null(strstr(err.msg, SECRET));
	/* the chain stops at a configured credential that fails; no ARM request went out */
	ck_assert_int_eq(fx_count(&f, "POST", "/oauth2/v2.0/token"), 1);
	ck_assert_int_eq(fx_count(&f, "GET", "/virtualNetworks/"), 0);
	/* and a second request fails the same way without asking again */
	ck_assert_int_eq(provider_read(f.p, NET "/virtualNetworks/spoke-1" API, &v, &err), NW_EFAIL);
	ck_assert_int_eq(fx_count(&f, "POST", "/oauth2/v2.0/token"), 1);
	fx_stop(&f);
}
END_TEST

START_TEST(test_workload_identity_sends_the_assertion_from_the_token_file)
{
	struct fx f;
	struct nw_err err = { 0 };
	char path[300];
	json_t *v = NULL;

	fx_emulator(&f, NULL, NULL);
	snprintf(path, sizeof(path), "%s/federated-token", f.tmp);
	write_file(path, "eyJhbGciOiJSUzI1NiJ9.assertion.sig\n", 0600);
	env_set(&f.env, "AZURE_TENANT_ID", "tenant-1");
	env_set(&f.env, "AZURE_CLIENT_ID", "app-wi");
	env_set(&f.env, "AZURE_FEDERATED_TOKEN_FILE", path);
	fx_provider(&f);
	ck_assert_msg(provider_read(f.p, NET "/virtualNetworks/hub" API, &v, &err) == 0, "%s", err.msg);
	json_decref(v);
	ck_assert_ptr_nonnull(strstr(azure_credential_name(f.p), "workload identity"));
	ck_assert_int_eq(fx_count(&f, "POST", "/tenant-1/oauth2/v2.0/token"), 1);

	/* a different assertion is refused by the token endpoint */
	write_file(path, "eyJhbGciOiJSUzI1NiJ9.other.sig", 0600);
	f.clock_offset = 4000; /* force a refresh */
	ck_assert_int_eq(provider_read(f.p, NET "/virtualNetworks/hub" API, &v, &err), NW_EFAIL);
	ck_assert_ptr_nonnull(strstr(err.msg, "workload identity credential"));
	ck_assert_ptr_nonnull(strstr(err.msg, "AADSTS700027"));
	ck_assert_ptr_null(strstr(err.msg, "other.sig"));
	fx_stop(&f);
}
END_TEST

START_TEST(test_managed_identity_uses_the_imds_endpoint_of_the_emulator)
{
	struct fx f;
	struct nw_err err = { 0 };
	json_t *v = NULL, *reqs;

	fx_emulator(&f, NULL, NULL);
	env_set(&f.env, "NETWAVE_IMDS_ENDPOINT", f.base);
	fx_provider(&f);
	ck_assert_msg(provider_read(f.p, NET "/virtualNetworks/hub" API, &v, &err) == 0, "%s", err.msg);
	json_decref(v);
	ck_assert_ptr_nonnull(strstr(azure_credential_name(f.p), "managed identity credential (IMDS"));
	/* the probe (no Metadata header: 400) then the real request */
	reqs = fx_requests(&f, "GET", "/metadata/identity/oauth2/token");
	ck_assert_int_eq(json_array_size(reqs), 2);
	ck_assert_int_eq(entry_status(reqs, 0), 400);
	ck_assert_int_eq(entry_status(reqs, 1), 200);
	ck_assert_ptr_nonnull(strstr(json_str(json_array_get(reqs, 1), "query"),
	    "resource=https%3A%2F%2Fmanagement.azure.com"));
	json_decref(reqs);
	fx_stop(&f);
}
END_TEST

START_TEST(test_access_token_from_the_environment_is_used_as_is)
{
	struct fx f;
	struct nw_err err = { 0 };
	json_t *v = NULL;
	char *tok;

	fx_emulator(&f, NULL, NULL);
	tok = emulator_token(&f);
	env_set(&f.env, "NETWAVE_ACCESS_TOKEN", tok);
	fx_secret_env(&f); /* comes first in the chain, so these are not used */
	fx_provider(&f);
	ck_assert_msg(provider_read(f.p, NET "/virtualNetworks/hub" API, &v, &err) == 0, "%s", err.msg);
	json_decref(v);
	ck_assert_int_eq(fx_count(&f, NULL, "/oauth2/"), 0);
	ck_assert_str_eq(azure_credential_name(f.p), "NETWAVE_ACCESS_TOKEN");
	free(tok);
	fx_stop(&f);
}
END_TEST

START_TEST(test_rejected_environment_token_is_not_retried_and_not_shown)
{
	struct fx f;
	struct nw_err err = { 0 };
	json_t *v = NULL;

	fx_emulator(&f, NULL, NULL);
	env_set(&f.env, "NETWAVE_ACCESS_TOKEN", "fake-token-0123456789abcdef");
	fx_provider(&f);
	ck_assert_int_eq(provider_read(f.p, NET "/virtualNetworks/hub" API, &v, &err), NW_EFAIL);
	ck_assert_ptr_nonnull(strstr(err.msg, "ARM rejected the access token of "
	    "NETWAVE_ACCESS_TOKEN: HTTP 401 InvalidAuthenticationToken"));
	ck_assert_ptr_null(strstr(err.msg, "fake-token-0123456789abcdef"));
	ck_assert_int_eq(fx_count(&f, "GET", "/virtualNetworks/hub"), 1);
	fx_stop(&f);
}
END_TEST

START_TEST(test_azure_cli_runs_az_with_an_argv_and_no_shell)
{
	struct fx f;
	struct nw_err err = { 0 };
	char args[300], *got;
	size_t len;
	json_t *v = NULL;

	fx_emulator(&f, NULL, NULL);
	fx_recording_az(&f, args, sizeof(args));
	env_set(&f.env, "AZURE_TENANT_ID", "tenant-1");
	fx_provider(&f);
	ck_assert_msg(provider_read(f.p, NET "/virtualNetworks/hub" API, &v, &err) == 0, "%s", err.msg);
	json_decref(v);
	ck_assert_ptr_nonnull(strstr(azure_credential_name(f.p), "Azure CLI credential"));
	ck_assert_int_eq(file_read_all(&got, &len, args, 4096, &err), 0);
	ck_assert_str_eq(got, "account\nget-access-token\n--output\njson\n--scope\n"
	    "https://management.azure.com/.default\n--tenant\ntenant-1\n");
	free(got);
	fx_stop(&f);
}
END_TEST

/* --tenant (azure_opts.tenant) wins over AZURE_TENANT_ID, for the Azure CLI too */
START_TEST(test_tenant_option_replaces_azure_tenant_id)
{
	struct fx f;
	struct nw_err err = { 0 };
	char args[300], *got;
	size_t len;
	json_t *v = NULL;

	fx_emulator(&f, NULL, NULL);
	fx_recording_az(&f, args, sizeof(args));
	env_set(&f.env, "AZURE_TENANT_ID", "tenant-env");
	f.o.tenant = "contoso.onmicrosoft.com";
	fx_provider(&f);
	ck_assert_msg(provider_read(f.p, NET "/virtualNetworks/hub" API, &v, &err) == 0, "%s", err.msg);
	json_decref(v);
	ck_assert_int_eq(file_read_all(&got, &len, args, 4096, &err), 0);
	ck_assert_ptr_nonnull(strstr(got, "--tenant\ncontoso.onmicrosoft.com\n"));
	ck_assert_ptr_null(strstr(got, "tenant-env"));
	free(got);
	fx_stop(&f);
}
END_TEST

START_TEST(test_azure_cli_failure_is_reported_with_its_message)
{
	struct fx f;
	struct nw_err err = { 0 };
	json_t *v = NULL;

	fx_emulator(&f, NULL, NULL);
	fx_fake_az(&f, "#!/bin/sh\necho \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1\n");
	fx_provider(&f);
	ck_assert_int_eq(provider_read(f.p, NET "/virtualNetworks/hub" API, &v, &err), NW_EFAIL);
	ck_assert_ptr_nonnull(strstr(err.msg, "'az account get-access-token' failed (exit 1)"));
	ck_assert_ptr_nonnull(strstr(err.msg, "az login"));
	fx_stop(&f);
}
END_TEST

START_TEST(test_no_credential_says_what_was_tried)
{
	struct fx f;
	struct nw_err err = { 0 };
	json_t *v = NULL;

	fx_emulator(&f, NULL, NULL);
	fx_provider(&f);
	ck_assert_int_eq(provider_read(f.p, NET "/virtualNetworks/hub" API, &v, &err), NW_EFAIL);
	ck_assert_ptr_nonnull(strstr(err.msg, "no Azure credential is available"));
	ck_assert_ptr_nonnull(strstr(err.msg, "NETWAVE_ACCESS_TOKEN"));
	ck_assert_ptr_nonnull(strstr(err.msg, "AZURE_CLIENT_SECRET"));
	ck_assert_ptr_nonnull(strstr(err.msg, "IMDS"));
	ck_assert_ptr_nonnull(strstr(err.msg, "az is not on PATH"));
	ck_assert_int_eq(fx_count(&f, "GET", "/virtualNetworks/"), 0);
	fx_stop(&f);
}
END_TEST

START_TEST(test_token_is_refreshed_ahead_of_its_expiry)
{
	struct fx f;
	struct nw_err err = { 0 };
	json_t *v = NULL;

	fx_emulator(&f, NULL, NULL);
	fx_secret_env(&f);
	fx_provider(&f);
	ck_assert_int_eq(provider_read(f.p, NET "/virtualNetworks/hub" API, &v, &err), 0);
	json_decref(v);
	f.clock_offset = 1000; /* well inside the 3599 s lifetime: no refresh */
	ck_assert_int_eq(provider_read(f.p, NET "/virtualNetworks/hub" API, &v, &err), 0);
	json_decref(v);
	ck_assert_int_eq(fx_count(&f, "POST", "/oauth2/v2.0/token"), 1);
	f.clock_offset = 3400; /* within five minutes of expiry: refresh before sending */
	ck_assert_int_eq(provider_read(f.p, NET "/virtualNetworks/hub" API, &v, &err), 0);
	json_decref(v);
	ck_assert_int_eq(fx_count(&f, "POST", "/oauth2/v2.0/token"), 2);
	/* no request was refused on the way */
	ck_assert_int_eq(fx_count(&f, "GET", "/virtualNetworks/hub"), 3);
	fx_stop(&f);
}
END_TEST

START_TEST(test_expired_token_mid_run_is_refreshed_once)
{
	struct fx f;
	struct nw_err err = { 0 };
	json_t *v = NULL, *reqs;

	fx_emulator(&f, NULL, NULL);
	fx_secret_env(&f);
	fx_provider(&f);
	ck_assert_int_eq(provider_read(f.p, NET "/virtualNetworks/hub" API, &v, &err), 0);
	json_decref(v);
	fx_faults(&f, "{\"method\":\"GET\",\"path\":\"*/virtualNetworks/spoke-1\",\"action\":\"error\","
	    "\"status\":401,\"code\":\"ExpiredAuthenticationToken\",\"times\":1}");
	ck_assert_msg(provider_read(f.p, NET "/virtualNetworks/spoke-1" API, &v, &err) == 0, "%s",
	    err.msg);
	ck_assert_str_eq(json_str(v, "name"), "spoke-1");
	json_decref(v);
	ck_assert_int_eq(fx_count(&f, "POST", "/oauth2/v2.0/token"), 2);
	reqs = fx_requests(&f, "GET", "/virtualNetworks/spoke-1");
	ck_assert_int_eq(json_array_size(reqs), 2);
	ck_assert_int_eq(entry_status(reqs, 0), 401);
	ck_assert_int_eq(entry_status(reqs, 1), 200);
	/* one logical request: the same client request id */
	ck_assert_str_eq(json_str(json_array_get(reqs, 0), "clientRequestId"),
	    json_str(json_array_get(reqs, 1), "clientRequestId"));
	json_decref(reqs);
	fx_stop(&f);
}
END_TEST

START_TEST(test_second_401_is_an_error_naming_the_credential)
{
	struct fx f;
	struct nw_err err = { 0 };
	json_t *v = NULL;

	fx_emulator(&f, NULL, NULL);
	fx_secret_env(&f);
	fx_provider(&f);
	fx_faults(&f, "{\"method\":\"GET\",\"path\":\"*/virtualNetworks/hub\",\"action\":\"error\","
	    "\"status\":401,\"code\":\"ExpiredAuthenticationToken\",\"message\":\"The access token "
	    "expiry UTC time is earlier than current UTC time.\"}");
	ck_assert_int_eq(provider_read(f.p, NET "/virtualNetworks/hub" API, &v, &err), NW_EFAIL);
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot GET " NET "/virtualNetworks/hub: ARM rejected "
	    "the access token of client secret credential (AZURE_CLIENT_ID app-1, tenant tenant-1): HTTP 401 "
	    "ExpiredAuthenticationToken: The access token expiry"));
	ck_assert_ptr_null(strstr(err.msg, SECRET));
	ck_assert_ptr_null(strstr(err.msg, "nwemu_"));
	ck_assert_int_eq(fx_count(&f, "GET", "/virtualNetworks/hub"), 2);
	ck_assert_int_eq(fx_count(&f, "POST", "/oauth2/v2.0/token"), 2);
	fx_stop(&f);
}
END_TEST

/* --- a scripted server for the shapes the emulator does not make ------------------- */

struct stub_resp {
	int status;
	const char *headers; /* "Name: value\n..."; "{base}" becomes the server's URL */
	const char *body;
};

struct stub_route {
	const char *method;
	const char *path;
	struct stub_resp r[6];
	int n;
	int hits;
	const char *need_header; /* "x-identity-header: v": 401 without it */
	char last_auth[256];
	char last_ua[128];
	char last_ae[128];
	char last_crid[64];
};

struct stub {
	struct MHD_Daemon *d;
	char base[64];
	struct stub_route *routes;
	size_t nroutes;
	pthread_mutex_t m;
};

static char *
expand(const char *s, const char *base)
{
	size_t cap = strlen(s) * 2 + strlen(base) * 4 + 1, n = 0;
	char *out = malloc(cap);

	while (*s != '\0') {
		if (strncmp(s, "{base}", 6) == 0) {
			n += (size_t)snprintf(out + n, cap - n, "%s", base);
			s += 6;
		} else {
			out[n++] = *s++;
		}
	}
	out[n] = '\0';
	return out;
}

static enum MHD_Result
stub_handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	static int marker;
	struct stub *s = cls;
	struct stub_route *rt = NULL;
	struct MHD_Response *resp;
	const struct stub_resp *r;
	char *body, *hdrs, *line, *save = NULL;
	enum MHD_Result ret;
	size_t i;
	int status;

	(void)version;
	(void)upload;
	if (*con_cls == NULL) {
		*con_cls = &marker;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		*upload_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&s->m);
	for (i = 0; i < s->nroutes; i++)
		if (strcmp(s->routes[i].method, method) == 0 && strcmp(s->routes[i].path, url) == 0)
			rt = &s->routes[i];
	if (rt == NULL) {
		pthread_mutex_unlock(&s->m);
		resp = MHD_create_response_from_buffer(2, (void *)"{}", MHD_RESPMEM_PERSISTENT);
		ret = MHD_queue_response(conn, 404, resp);
		MHD_destroy_response(resp);
		return ret;
	}
	{
		const char *a = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
		const char *ua = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "User-Agent");
		const char *ae = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept-Encoding");
		const char *id = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    "x-ms-client-request-id");
		snprintf(rt->last_auth, sizeof(rt->last_auth), "%s", a != NULL ? a : "");
		snprintf(rt->last_ua, sizeof(rt->last_ua), "%s", ua != NULL ? ua : "");
		snprintf(rt->last_ae, sizeof(rt->last_ae), "%s", ae != NULL ? ae : "");
		snprintf(rt->last_crid, sizeof(rt->last_crid), "%s", id != NULL ? id : "");
	}
	if (rt->need_header != NULL) {
		char name[64];
		const char *colon = strchr(rt->need_header, ':'), *v;
		snprintf(name, sizeof(name), "%.*s", (int)(colon - rt->need_header), rt->need_header);
		v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
		if (v == NULL || strcmp(v, colon + 2) != 0) {
			rt->hits++;
			pthread_mutex_unlock(&s->m);
			resp = MHD_create_response_from_buffer(2, (void *)"{}", MHD_RESPMEM_PERSISTENT);
			ret = MHD_queue_response(conn, 401, resp);
			MHD_destroy_response(resp);
			return ret;
		}
	}
	r = &rt->r[rt->hits < rt->n ? rt->hits : rt->n - 1];
	rt->hits++;
	status = r->status;
	body = expand(r->body != NULL ? r->body : "", s->base);
	hdrs = expand(r->headers != NULL ? r->headers : "", s->base);
	pthread_mutex_unlock(&s->m);
	resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
	for (line = strtok_r(hdrs, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');
		if (colon == NULL)
			continue;
		*colon = '\0';
		MHD_add_response_header(resp, line, colon + 2);
	}
	free(hdrs);
	if (r->body != NULL)
		MHD_add_response_header(resp, "Content-Type", "application/json");
	ret = MHD_queue_response(conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void
stub_start(struct stub *s, struct stub_route *routes, size_t n)
{
	const union MHD_DaemonInfo *info;

	memset(s, 0, sizeof(*s));
	s->routes = routes;
	s->nroutes = n;
	pthread_mutex_init(&s->m, NULL);
	s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
	    stub_handle, s, MHD_OPTION_SOCK_ADDR, NULL, MHD_OPTION_END);
	ck_assert(s->d != NULL);
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%u", (unsigned)info->port);
}

static void
stub_stop(struct stub *s)
{
	MHD_stop_daemon(s->d);
	pthread_mutex_destroy(&s->m);
}

/* A provider on the stub, with a token from the environment. */
static struct provider *
stub_provider(struct stub *s, struct env *env)
{
	struct azure_opts o = { 0 };
	struct nw_err err = { 0 };
	struct provider *p = NULL;

	env_set(env, "NETWAVE_ACCESS_TOKEN", "stub-token");
	o.arm_endpoint = s->base;
	o.authority_host = s->base;
	o.getenv = env_lookup;
	o.getenv_arg = env;
	o.delay_scale = 0.001;
	o.rng_seed = 3;
	ck_assert_msg(azure_provider_new(&p, &o, &err) == 0, "%s", err.msg);
	return p;
}

START_TEST(test_app_service_managed_identity_sends_the_identity_header)
{
	struct stub_route routes[] = {
		{ .method = "GET", .path = "/msi/token",
		  .r = { { 200, NULL, "{\"access_token\":\"appsvc-token\",\"expires_on\":"
		  "\"4102444800\",\"resource\":\"https://management.azure.com\",\"token_type\":\"Bearer\"}" } }, .n = 1, .need_header = "X-IDENTITY-HEADER: header-secret" },
		{ .method = "GET", .path = "/subscriptions/" SUB "/resourceGroups/rg-net/providers/Microsoft.Network/"
		  "virtualNetworks/hub",
		  .r = { { 200, NULL, "{\"id\":\"x\",\"name\":\"hub\"}" } }, .n = 1 },
	};
	struct stub s;
	struct env env = { 0 };
	struct azure_opts o = { 0 };
	struct nw_err err = { 0 };
	struct provider *p = NULL;
	char endpoint[128], *logbuf = NULL;
	size_t loglen = 0;
	json_t *v = NULL;

	stub_start(&s, routes, 2);
	snprintf(endpoint, sizeof(endpoint), "%s/msi/token", s.base);
	env_set(&env, "IDENTITY_ENDPOINT", endpoint);
	env_set(&env, "IDENTITY_HEADER", "header-secret");
	o.arm_endpoint = s.base;
	o.getenv = env_lookup;
	o.getenv_arg = &env;
	o.log = open_memstream(&logbuf, &loglen);
	ck_assert_int_eq(azure_provider_new(&p, &o, &err), 0);
	ck_assert_msg(provider_read(p, NET "/virtualNetworks/hub" API, &v, &err) == 0, "%s", err.msg);
	json_decref(v);
	fflush(o.log);
	ck_assert_ptr_nonnull(strstr(logbuf, "X-IDENTITY-HEADER: REDACTED"));
	ck_assert_ptr_null(strstr(logbuf, "header-secret"));
	ck_assert_ptr_null(strstr(logbuf, "appsvc-token"));
	ck_assert_int_eq(routes[0].hits, 1);
	ck_assert_str_eq(routes[1].last_auth, "Bearer appsvc-token");
	ck_assert_ptr_nonnull(strstr(azure_credential_name(p), "IDENTITY_ENDPOINT"));
	provider_free(p);
	fclose(o.log);
	free(logbuf);
	stub_stop(&s);
}
END_TEST

/* --- retries and throttling -------------------------------------------------------- */

START_TEST(test_429_retry_after_is_honoured_with_one_request_id)
{
	struct fx f;
	struct nw_err err = { 0 };
	json_t *v = NULL, *reqs;
	double t0, took, gap1, gap2;
	struct provider_op *op;

	fx_emulator(&f, NULL, NULL);
	fx_secret_env(&f);
	f.o.delay_scale = 0.02; /* Retry-After 3 s -> 60 ms */
	fx_provider(&f);
	ck_assert_int_eq(provider_read(f.p, NET "/virtualNetworks/hub" API, &v, &err), 0);
	json_decref(v);
	emulator_requests_clear(f.e);
	fx_faults(&f, "{\"method\":\"GET\",\"path\":\"*/virtualNetworks/spoke-1\",\"action\":\"error\","
	    "\"status\":429,\"retryAfter\":3,\"times\":2}");
	op = provider_op_new(PROVIDER_OP_READ, "GET", NET "/virtualNetworks/spoke-1" API, NULL);
	t0 = now_mono();
	ck_assert_int_eq(provider_submit(f.p, op, &err), 0);
	ck_assert_msg(provider_wait(f.p, op, &err) == 0, "%s", err.msg);
	took = now_mono() - t0;
	ck_assert_uint_eq(op->requests, 3);
	ck_assert_uint_eq(op->retries, 2);
	reqs = fx_requests(&f, "GET", "/virtualNetworks/spoke-1");
	ck_assert_int_eq(json_array_size(reqs), 3);
	ck_assert_int_eq(entry_status(reqs, 0), 429);
	ck_assert_int_eq(entry_status(reqs, 1), 429);
	ck_assert_int_eq(entry_status(reqs, 2), 200);
	ck_assert_str_eq(json_str(json_array_get(reqs, 0), "clientRequestId"), op->client_request_id);
	ck_assert_str_eq(json_str(json_array_get(reqs, 2), "clientRequestId"), op->client_request_id);
	gap1 = entry_time(reqs, 1) - entry_time(reqs, 0);
	gap2 = entry_time(reqs, 2) - entry_time(reqs, 1);
	ck_assert_msg(gap1 >= 0.055 && gap2 >= 0.055, "gaps %.3f %.3f", gap1, gap2);
	ck_assert_msg(took >= 0.11 && took < 2.0, "took %.3f", took);
	json_decref(reqs);
	provider_op_free(op);
	{
		struct provider_stats st;
		provider_stats_get(f.p, &st);
		ck_assert_uint_eq(st.throttled, 2);
	}
	fx_stop(&f);
}
END_TEST

START_TEST(test_503_storm_gives_up_after_three_retries)
{
	struct fx f;
	struct nw_err err = { 0 };
	json_t *v = NULL, *reqs;

	fx_emulator(&f, NULL, NULL);
	fx_secret_env(&f);
	fx_provider(&f);
	fx_faults(&f, "{\"method\":\"GET\",\"path\":\"*/virtualNetworks/hub\",\"action\":\"error\","
	    "\"status\":503}");
	ck_assert_int_eq(provider_read(f.p, NET "/virtualNetworks/hub" API, &v, &err), NW_EFAIL);
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot GET " NET "/virtualNetworks/hub: HTTP 503 "
	    "ServiceUnavailable"));
	ck_assert_ptr_nonnull(strstr(err.msg, "request id "));
	reqs = fx_requests(&f, "GET", "/virtualNetworks/hub");
	ck_assert_int_eq(json_array_size(reqs), 4); /* the first and three retries */
	json_decref(reqs);

	/* a storm that passes: three 503s then an answer */
	fx_faults(&f, "{\"method\":\"GET\",\"path\":\"*/virtualNetworks/spoke-2\",\"action\":\"error\","
	    "\"status\":503,\"times\":3}");
	ck_assert_msg(provider_read(f.p, NET "/virtualNetworks/spoke-2" API, &v, &err) == 0, "%s",
	    err.msg);
	json_decref(v);
	reqs = fx_requests(&f, "GET", "/virtualNetworks/spoke-2");
	ck_assert_int_eq(json_array_size(reqs), 4);
	ck_assert_int_eq(entry_status(reqs, 3), 200);
	json_decref(reqs);
	fx_stop(&f);
}
END_TEST

START_TEST(test_backoff_without_retry_after_grows_exponentially)
{
	struct fx f;
	struct nw_err err = { 0 };
	json_t *v = NULL, *reqs;
	double g1, g2, g3;

	fx_emulator(&f, NULL, NULL);
	fx_secret_env(&f);
	f.o.delay_scale = 0.05; /* 0.8 s base -> 40 ms */
	fx_provider(&f);
	fx_faults(&f, "{\"method\":\"GET\",\"path\":\"*/virtualNetworks/hub\",\"action\":\"error\","
	    "\"status\":500,\"times\":3}");
	ck_assert_int_eq(provider_read(f.p, NET "/virtualNetworks/hub" API, &v, &err), 0);
	json_decref(v);
	reqs = fx_requests(&f, "GET", "/virtualNetworks/hub");
	ck_assert_int_eq(json_array_size(reqs), 4);
	g1 = entry_time(reqs, 1) - entry_time(reqs, 0);
	g2 = entry_time(reqs, 2) - entry_time(reqs, 1);
	g3 = entry_time(reqs, 3) - entry_time(reqs, 2);
	/* (2^n - 1) * 0.8 s * [0.8, 1.3), scaled: 32-52 ms, 96-156 ms, 224-364 ms (the upper
	 * bounds leave room for a loaded machine) */
	ck_assert_msg(g1 >= 0.030 && g1 < 1.0, "first gap %.3f", g1);
	ck_assert_msg(g2 >= 0.094 && g2 < 1.5, "second gap %.3f", g2);
	ck_assert_msg(g3 >= 0.220 && g3 < 2.0, "third gap %.3f", g3);
	json_decref(reqs);
	fx_stop(&f);
}
END_TEST

START_TEST(test_4xx_without_retry_after_is_not_retried)
{
	struct fx f;
	struct nw_err err = { 0 };
	struct provider_op *op;
	json_t *body = json_pack("{s:{s:s}}", "tags", "a", "b");

	fx_emulator(&f, NULL, NULL);
	fx_secret_env(&f);
	fx_provider(&f);
	fx_faults(&f, "{\"method\":\"PATCH\",\"path\":\"*/virtualNetworks/hub\",\"action\":\"error\","
	    "\"status\":409,\"code\":\"AnotherOperationInProgress\",\"message\":\"Another operation "
	    "is in progress.\",\"times\":1}");
	op = provider_op_new(PROVIDER_OP_WRITE, "PATCH", NET "/virtualNetworks/hub" API, body);
	ck_assert_int_eq(provider_submit(f.p, op, &err), 0);
	ck_assert_int_eq(provider_wait(f.p, op, &err), NW_EFAIL);
	ck_assert_int_eq(op->error.http_status, 409);
	ck_assert_str_eq(op->error.code, "AnotherOperationInProgress");
	ck_assert_str_eq(op->error.message, "Another operation is in progress.");
	ck_assert(op->error.request_id[0] != '\0');
	ck_assert_int_eq(fx_count(&f, "PATCH", "/virtualNetworks/hub"), 1);
	provider_op_free(op);

	/* the same with Retry-After is retried */
	fx_faults(&f, "{\"method\":\"PATCH\",\"path\":\"*/virtualNetworks/hub\",\"action\":\"error\","
	    "\"status\":409,\"retryAfter\":2,\"times\":1}");
	emulator_requests_clear(f.e);
	ck_assert_msg(provider_send(f.p, "PATCH", NET "/virtualNetworks/hub" API, body, NULL, &err) == 0,
	    "%s", err.msg);
	ck_assert_int_eq(fx_count(&f, "PATCH", "/virtualNetworks/hub"), 2);
	json_decref(body);
	fx_stop(&f);
}
END_TEST

static json_t *
vnet_body(const char *prefix)
{
	return json_pack("{s:s,s:{s:{s:[s]},s:[{s:s,s:{s:s}}]}}", "location", "eastus",
	    "properties", "addressSpace", "addressPrefixes", prefix, "subnets", "name", "default",
	    "properties", "addressPrefix", prefix);
}

START_TEST(test_connection_reset_before_a_put_is_sent_again)
{
	struct fx f;
	struct nw_err err = { 0 };
	json_t *body = vnet_body("10.9.0.0/24"), *res = NULL, *reqs;

	fx_emulator(&f, NULL, NULL);
	fx_secret_env(&f);
	fx_provider(&f);
	fx_faults(&f, "{\"method\":\"PUT\",\"path\":\"*/virtualNetworks/new-1\",\"action\":\"reset-before\","
	    "\"times\":1}");
	ck_assert_msg(provider_send(f.p, "PUT", NET "/virtualNetworks/new-1" API, body, &res, &err) == 0,
	    "%s", err.msg);
	ck_assert_str_eq(json_path_str(res, "properties", "provisioningState", NULL), "Succeeded");
	reqs = fx_requests(&f, "PUT", "/virtualNetworks/new-1");
	ck_assert_int_eq(json_array_size(reqs), 2);
	ck_assert(json_is_true(json_object_get(json_array_get(reqs, 0), "reset")));
	ck_assert_int_eq(entry_status(reqs, 1), 201); /* created by the second: the first did nothing */
	ck_assert_str_eq(json_str(json_array_get(reqs, 0), "clientRequestId"),
	    json_str(json_array_get(reqs, 1), "clientRequestId"));
	json_decref(reqs);
	json_decref(res);
	json_decref(body);
	fx_stop(&f);
}
END_TEST

START_TEST(test_connection_reset_after_a_put_converges)
{
	struct fx f;
	struct nw_err err = { 0 };
	json_t *body = vnet_body("10.9.0.0/24"), *res = NULL, *reqs;

	fx_emulator(&f, NULL, NULL);
	fx_secret_env(&f);
	fx_provider(&f);
	fx_faults(&f, "{\"method\":\"PUT\",\"path\":\"*/virtualNetworks/new-1\",\"action\":\"reset-after\","
	    "\"times\":1}");
	ck_assert_msg(provider_send(f.p, "PUT", NET "/virtualNetworks/new-1" API, body, &res, &err) == 0,
	    "%s", err.msg);
	ck_assert_str_eq(json_path_str(res, "properties", "provisioningState", NULL), "Succeeded");
	reqs = fx_requests(&f, "PUT", "/virtualNetworks/new-1");
	ck_assert_int_ge(json_array_size(reqs), 2);
	ck_assert(json_is_true(json_object_get(json_array_get(reqs, 0), "reset")));
	/* the write had been applied: the resend replaced it (200), it did not create it again */
	ck_assert_int_ne(entry_status(reqs, json_array_size(reqs) - 1), 201);
	json_decref(reqs);
	json_decref(res);
	json_decref(body);
	fx_stop(&f);
}
END_TEST

START_TEST(test_connection_reset_after_a_post_action_is_not_sent_again)
{
	struct fx f;
	struct nw_err err = { 0 };
	json_t *res = NULL;

	fx_emulator(&f, NULL, NULL);
	fx_secret_env(&f);
	fx_provider(&f);
	fx_faults(&f, "{\"method\":\"POST\",\"path\":\"*/effectiveRouteTable\",\"action\":\"reset-after\","
	    "\"times\":1}");
	ck_assert_int_eq(provider_send(f.p, "POST", NET "/networkInterfaces/nic-1/effectiveRouteTable"
	    API, NULL, &res, &err), NW_EIO);
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot POST " NET "/networkInterfaces/nic-1/"
	    "effectiveRouteTable"));
	ck_assert_ptr_nonnull(strstr(err.msg, "may have been carried out, so it was not sent again"));
	ck_assert_int_eq(fx_count(&f, "POST", "/effectiveRouteTable"), 1);
	fx_stop(&f);
}
END_TEST

START_TEST(test_long_retry_after_parks_one_operation_while_others_finish)
{
	struct fx f;
	struct nw_err err = { 0 };
	struct provider_op *a, *b;
	struct provider_stats st;
	json_t *v = NULL;

	fx_emulator(&f, NULL, NULL);
	fx_secret_env(&f);
	f.o.delay_scale = 0.001; /* Retry-After 307 s -> 307 ms */
	fx_provider(&f);
	ck_assert_int_eq(provider_read(f.p, NET "/virtualNetworks/hub" API, &v, &err), 0);
	json_decref(v);
	fx_faults(&f, "{\"method\":\"GET\",\"path\":\"*/virtualNetworks/spoke-1\",\"action\":\"error\","
	    "\"status\":429,\"retryAfter\":307,\"times\":1}");
	a = provider_op_new(PROVIDER_OP_READ, "GET", NET "/virtualNetworks/spoke-1" API, NULL);
	b = provider_op_new(PROVIDER_OP_READ, "GET", NET "/virtualNetworks/spoke-2" API, NULL);
	ck_assert_int_eq(provider_submit(f.p, a, &err), 0);
	ck_assert_int_eq(provider_submit(f.p, b, &err), 0);
	ck_assert_int_eq(provider_run(f.p, 0.15, &err), 0);
	ck_assert_int_eq(b->phase, PROVIDER_PHASE_DONE);
	ck_assert(!provider_op_finished(a));
	provider_stats_get(f.p, &st);
	ck_assert_uint_eq(st.pending, 1);
	ck_assert_uint_eq(st.waiting, 1);
	ck_assert_uint_eq(st.throttled, 1);
	ck_assert_msg(st.parked_until > 0 && st.parked_until < 0.31, "parked %.3f", st.parked_until);
	ck_assert_int_eq(provider_run(f.p, -1, &err), 0);
	ck_assert_int_eq(a->phase, PROVIDER_PHASE_DONE);
	ck_assert_str_eq(json_str(a->result, "name"), "spoke-1");
	provider_op_free(a);
	provider_op_free(b);
	fx_stop(&f);
}
END_TEST

START_TEST(test_retry_after_longer_than_the_limit_fails_clearly)
{
	struct fx f;
	struct nw_err err = { 0 };
	json_t *v = NULL;

	fx_emulator(&f, NULL, NULL);
	fx_secret_env(&f);
	f.o.max_wait = 60;
	fx_provider(&f);
	fx_faults(&f, "{\"method\":\"GET\",\"path\":\"*/virtualNetworks/hub\",\"action\":\"error\","
	    "\"status\":429,\"code\":\"SubscriptionRequestsThrottled\",\"retryAfter\":307}");
	ck_assert_int_eq(provider_read(f.p, NET "/virtualNetworks/hub" API, &v, &err), NW_EFAIL);
	ck_assert_ptr_nonnull(strstr(err.msg, "HTTP 429 SubscriptionRequestsThrottled"));
	ck_assert_int_eq(fx_count(&f, "GET", "/virtualNetworks/hub"), 1);
	fx_stop(&f);
}
END_TEST

START_TEST(test_client_bucket_slows_down_before_arm_says_429)
{
	struct emulator_opts eo = { 0 };
	struct fx f;
	struct nw_err err = { 0 };
	json_t *v = NULL, *reqs, *th;
	size_t i, n429 = 0;
	double t0;

	eo.read_bucket = 5;
	eo.read_refill = 50;
	eo.time_scale = 1;
	fx_emulator(&f, NULL, &eo);
	fx_secret_env(&f);
	f.o.delay_scale = 1;
	f.o.read_refill = 45; /* a little slower than ARM refills */
	f.o.max_concurrency = 1;
	fx_provider(&f);
	t0 = now_mono();
	for (i = 0; i < 20; i++) {
		ck_assert_msg(provider_read(f.p, NET "/virtualNetworks/hub" API, &v, &err) == 0, "%s",
		    err.msg);
		json_decref(v);
	}
	reqs = fx_requests(&f, "GET", "/virtualNetworks/hub");
	ck_assert_int_eq(json_array_size(reqs), 20);
	for (i = 0; i < json_array_size(reqs); i++)
		if (entry_status(reqs, i) == 429)
			n429++;
	ck_assert_uint_eq(n429, 0);
	/* 15 reads beyond the bucket of 5 at 45 a second */
	ck_assert_msg(now_mono() - t0 >= 0.30, "took %.3f", now_mono() - t0);
	json_decref(reqs);
	th = provider_throttle_state(f.p);
	ck_assert(json_object_get(th, SUB) != NULL);
	ck_assert(json_number_value(json_path(th, SUB, "reads", "tokens", NULL)) < 5.0);
	ck_assert(json_number_value(json_path(th, SUB, "writes", "bucket", NULL)) == 200.0);
	json_decref(th);
	fx_stop(&f);
}
END_TEST

START_TEST(test_subscription_throttle_holds_back_the_whole_class)
{
	struct fx f;
	struct nw_err err = { 0 };
	struct provider_op *a, *b;
	json_t *v = NULL, *reqs;

	fx_emulator(&f, NULL, NULL);
	fx_secret_env(&f);
	f.o.delay_scale = 0.01; /* 10 s -> 100 ms */
	f.o.max_concurrency = 1;
	fx_provider(&f);
	ck_assert_int_eq(provider_read(f.p, NET "/virtualNetworks/hub" API, &v, &err), 0);
	json_decref(v);
	fx_faults(&f, "{\"method\":\"GET\",\"path\":\"*/virtualNetworks/spoke-1\",\"action\":\"error\","
	    "\"status\":429,\"code\":\"SubscriptionRequestsThrottled\",\"retryAfter\":10,\"times\":1}");
	a = provider_op_new(PROVIDER_OP_READ, "GET", NET "/virtualNetworks/spoke-1" API, NULL);
	b = provider_op_new(PROVIDER_OP_READ, "GET", NET "/virtualNetworks/spoke-2" API, NULL);
	ck_assert_int_eq(provider_submit(f.p, a, &err), 0);
	ck_assert_int_eq(provider_run(f.p, 0.02, &err), 0);
	ck_assert_int_eq(provider_submit(f.p, b, &err), 0);
	ck_assert_int_eq(provider_run(f.p, -1, &err), 0);
	ck_assert_int_eq(a->phase, PROVIDER_PHASE_DONE);
	ck_assert_int_eq(b->phase, PROVIDER_PHASE_DONE);
	reqs = fx_requests(&f, "GET", "/virtualNetworks/spoke-1");
	ck_assert_int_eq(json_array_size(reqs), 2);
	ck_assert_int_eq(entry_status(reqs, 0), 429);
	{
		json_t *two = fx_requests(&f, "GET", "/virtualNetworks/spoke-2");
		double waited = entry_time(two, 0) - entry_time(reqs, 0);
		/* spoke-2 waited for the subscription's read throttle to pass (100 ms) */
		ck_assert_int_eq(json_array_size(two), 1);
		ck_assert_int_eq(entry_status(two, 0), 200);
		ck_assert_msg(waited >= 0.09, "spoke-2 went out %.3f s after the 429", waited);
		json_decref(two);
	}
	json_decref(reqs);
	provider_op_free(a);
	provider_op_free(b);
	fx_stop(&f);
}
END_TEST

START_TEST(test_retry_after_ms_headers_are_honoured)
{
	struct stub_route routes[] = {
		{ .method = "GET", .path = NET "/virtualNetworks/a",
		  .r = { { 429, "retry-after-ms: 150\nRetry-After: 30", "{}" }, { 200, NULL, "{\"name\":\"a\"}" } },
		  .n = 2 },
		{ .method = "GET", .path = NET "/virtualNetworks/b",
		  .r = { { 503, "x-ms-retry-after-ms: 120", "{}" }, { 200, NULL, "{\"name\":\"b\"}" } },
		  .n = 2 },
	};
	struct azure_opts o = { 0 };
	struct env env = { 0 };
	struct nw_err err = { 0 };
	struct provider *p = NULL;
	struct stub s;
	json_t *v = NULL;
	double t0, took;

	stub_start(&s, routes, 2);
	env_set(&env, "NETWAVE_ACCESS_TOKEN", "stub-token");
	o.arm_endpoint = s.base;
	o.getenv = env_lookup;
	o.getenv_arg = &env;
	o.delay_scale = 1; /* real time: milliseconds are what is being checked */
	ck_assert_int_eq(azure_provider_new(&p, &o, &err), 0);
	t0 = now_mono();
	ck_assert_msg(provider_read(p, NET "/virtualNetworks/a" API, &v, &err) == 0, "%s", err.msg);
	took = now_mono() - t0;
	json_decref(v);
	/* retry-after-ms wins over Retry-After (150 ms, not 30 s) */
	ck_assert_msg(took >= 0.14 && took < 5, "took %.3f", took);
	t0 = now_mono();
	ck_assert_msg(provider_read(p, NET "/virtualNetworks/b" API, &v, &err) == 0, "%s", err.msg);
	took = now_mono() - t0;
	json_decref(v);
	ck_assert_msg(took >= 0.11 && took < 1, "took %.3f", took);
	ck_assert_int_eq(routes[0].hits, 2);
	ck_assert_int_eq(routes[1].hits, 2);
	provider_free(p);
	stub_stop(&s);
}
END_TEST

START_TEST(test_a_request_that_takes_too_long_times_out)
{
	struct fx f;
	struct nw_err err = { 0 };
	json_t *v = NULL;

	fx_emulator(&f, NULL, NULL);
	fx_secret_env(&f);
	f.o.timeout_ms = 100;
	f.o.max_retries = -1;
	fx_provider(&f);
	ck_assert_int_eq(provider_read(f.p, NET "/virtualNetworks/spoke-1" API, &v, &err), 0);
	json_decref(v);
	fx_faults(&f, "{\"method\":\"GET\",\"path\":\"*/virtualNetworks/hub\",\"action\":\"latency\","
	    "\"ms\":400}");
	ck_assert_int_eq(provider_read(f.p, NET "/virtualNetworks/hub" API, &v, &err), NW_EIO);
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot GET " NET "/virtualNetworks/hub: 127.0.0.1:"));
	ck_assert_ptr_nonnull(strstr(err.msg, "did not answer in time"));
	fx_stop(&f);
}
END_TEST

START_TEST(test_gate_query_runs_on_resource_graph)
{
	struct fx f;
	struct nw_err err = { 0 };
	json_t *rows = NULL, *subs = json_pack("[s]", SUB);

	fx_emulator(&f, NULL, NULL);
	fx_secret_env(&f);
	fx_provider(&f);
	ck_assert_msg(provider_query(f.p, "Resources | where type =~ 'microsoft.network/virtualnetworks'"
	    " | where name startswith 'spoke' | project name, prefix = properties.addressSpace."
	    "addressPrefixes | order by name asc", subs, &rows, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(json_array_size(rows), 2);
	ck_assert_str_eq(json_str(json_array_get(rows, 0), "name"), "spoke-1");
	ck_assert_str_eq(json_str(json_array_get(rows, 1), "name"), "spoke-2");
	ck_assert_int_eq(fx_count(&f, "POST", "/providers/Microsoft.ResourceGraph/resources"), 1);
	json_decref(rows);
	rows = NULL;
	ck_assert_int_eq(provider_query(f.p, "Resources | summarize count()", subs, &rows, &err),
	    NW_EFAIL);
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot run a Resource Graph query: HTTP 400 BadRequest"));
	json_decref(subs);
	fx_stop(&f);
}
END_TEST

/* --- long-running operations ------------------------------------------------------- */

START_TEST(test_put_follows_azure_asyncoperation_then_gets_the_resource)
{
	struct fx f;
	struct nw_err err = { 0 };
	json_t *body = vnet_body("10.9.0.0/24"), *reqs;
	struct provider_op *op;

	fx_emulator(&f, NULL, NULL);
	fx_secret_env(&f);
	fx_provider(&f);
	op = provider_op_new(PROVIDER_OP_WRITE, "PUT", NET "/virtualNetworks/new-1" API, body);
	ck_assert_int_eq(provider_submit(f.p, op, &err), 0);
	ck_assert_msg(provider_wait(f.p, op, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(op->poll_kind, PROVIDER_POLL_ASYNC);
	ck_assert_ptr_nonnull(strstr(op->poll_url, "/providers/Microsoft.Network/locations/eastus/"
	    "operations/"));
	ck_assert_str_eq(json_path_str(op->result, "properties", "provisioningState", NULL),
	    "Succeeded");
	reqs = fx_requests(&f, NULL, "/subscriptions/");
	ck_assert_int_ge(json_array_size(reqs), 3);
	ck_assert_str_eq(json_str(json_array_get(reqs, 0), "method"), "PUT");
	ck_assert_ptr_nonnull(strstr(json_str(json_array_get(reqs, 1), "path"), "/operations/"));
	ck_assert_str_eq(json_str(json_array_get(reqs, json_array_size(reqs) - 1), "method"), "GET");
	ck_assert_str_eq(json_str(json_array_get(reqs, json_array_size(reqs) - 1), "path"),
	    NET "/virtualNetworks/new-1");
	json_decref(reqs);
	provider_op_free(op);
	json_decref(body);
	fx_stop(&f);
}
END_TEST

START_TEST(test_delete_follows_the_operation_and_does_no_final_get)
{
	struct fx f;
	struct nw_err err = { 0 };
	json_t *v = NULL, *reqs;

	fx_emulator(&f, NULL, NULL);
	fx_secret_env(&f);
	fx_provider(&f);
	ck_assert_msg(provider_send(f.p, "DELETE", NET "/virtualNetworks/spoke-2" API, NULL, &v, &err)
	    == 0, "%s", err.msg);
	ck_assert_ptr_null(v);
	reqs = fx_requests(&f, "GET", "/virtualNetworks/spoke-2");
	ck_assert_int_eq(json_array_size(reqs), 0);
	json_decref(reqs);
	ck_assert_int_eq(provider_read(f.p, NET "/virtualNetworks/spoke-2" API, &v, &err), 0);
	ck_assert_ptr_null(v); /* gone: 404 reads as NULL */
	/* deleting what is gone is done at once */
	ck_assert_int_eq(provider_send(f.p, "DELETE", NET "/virtualNetworks/spoke-2" API, NULL, NULL,
	    &err), 0);
	fx_stop(&f);
}
END_TEST

START_TEST(test_post_action_result_comes_from_the_location_url)
{
	struct fx f;
	struct nw_err err = { 0 };
	json_t *res = NULL, *reqs;

	fx_emulator(&f, NULL, NULL);
	fx_secret_env(&f);
	fx_provider(&f);
	ck_assert_msg(provider_send(f.p, "POST", NET "/networkInterfaces/nic-1/effectiveRouteTable" API,
	    NULL, &res, &err) == 0, "%s", err.msg);
	ck_assert(json_array_size(json_object_get(res, "value")) > 0);
	ck_assert_str_eq(json_str(json_array_get(json_object_get(res, "value"), 0), "source"), "Default");
	reqs = fx_requests(&f, "GET", "/operationResults/");
	ck_assert_int_eq(json_array_size(reqs), 1); /* the final GET of Location */
	json_decref(reqs);
	json_decref(res);
	fx_stop(&f);
}
END_TEST

START_TEST(test_failed_operation_carries_arm_code_and_message)
{
	struct fx f;
	struct nw_err err = { 0 };
	json_t *body = vnet_body("10.9.0.0/24");
	struct provider_op *op;

	fx_emulator(&f, NULL, NULL);
	fx_secret_env(&f);
	fx_provider(&f);
	fx_faults(&f, "{\"method\":\"PUT\",\"path\":\"*/virtualNetworks/new-1\",\"action\":\"lro-failed\","
	    "\"code\":\"NetcfgInternalError\",\"message\":\"The network configuration failed.\"}");
	op = provider_op_new(PROVIDER_OP_WRITE, "PUT", NET "/virtualNetworks/new-1" API, body);
	ck_assert_int_eq(provider_submit(f.p, op, &err), 0);
	ck_assert_int_eq(provider_wait(f.p, op, &err), NW_EFAIL);
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot PUT " NET "/virtualNetworks/new-1: the operation "
	    "ended Failed: NetcfgInternalError: The network configuration failed."));
	ck_assert_str_eq(op->error.code, "NetcfgInternalError");
	ck_assert_int_eq(op->phase, PROVIDER_PHASE_FAILED);
	provider_op_free(op);
	json_decref(body);
	fx_stop(&f);
}
END_TEST

START_TEST(test_canceled_operation_is_an_error)
{
	struct fx f;
	struct nw_err err = { 0 };

	fx_emulator(&f, NULL, NULL);
	fx_secret_env(&f);
	fx_provider(&f);
	fx_faults(&f, "{\"method\":\"DELETE\",\"path\":\"*/virtualNetworks/spoke-2\",\"action\":"
	    "\"lro-canceled\"}");
	ck_assert_int_eq(provider_send(f.p, "DELETE", NET "/virtualNetworks/spoke-2" API, NULL, NULL,
	    &err), NW_EFAIL);
	ck_assert_ptr_nonnull(strstr(err.msg, "the operation ended Canceled: OperationCanceled"));
	fx_stop(&f);
}
END_TEST

START_TEST(test_vanished_status_url_falls_back_to_the_resource_for_a_put)
{
	struct fx f;
	struct nw_err err = { 0 };
	json_t *body = vnet_body("10.9.0.0/24"), *res = NULL;

	fx_emulator(&f, NULL, NULL);
	fx_secret_env(&f);
	fx_provider(&f);
	fx_faults(&f, "{\"method\":\"PUT\",\"path\":\"*/virtualNetworks/new-1\",\"action\":\"status-404\"}");
	ck_assert_msg(provider_send(f.p, "PUT", NET "/virtualNetworks/new-1" API, body, &res, &err) == 0,
	    "%s", err.msg);
	ck_assert_str_eq(json_path_str(res, "properties", "provisioningState", NULL), "Succeeded");
	ck_assert_int_ge(fx_count(&f, "GET", "/operations/"), 1);
	json_decref(res);
	json_decref(body);
	fx_stop(&f);
}
END_TEST

START_TEST(test_vanished_status_url_of_an_action_is_an_unknown_outcome)
{
	struct fx f;
	struct nw_err err = { 0 };

	fx_emulator(&f, NULL, NULL);
	fx_secret_env(&f);
	fx_provider(&f);
	fx_faults(&f, "{\"method\":\"POST\",\"path\":\"*/effectiveRouteTable\",\"action\":\"status-404\"}");
	ck_assert_int_eq(provider_send(f.p, "POST", NET "/networkInterfaces/nic-1/effectiveRouteTable"
	    API, NULL, NULL, &err), NW_EFAIL);
	ck_assert_ptr_nonnull(strstr(err.msg, "lost track of the operation: its status URL answered "
	    "HTTP 404 OperationNotFound"));
	ck_assert_ptr_nonnull(strstr(err.msg, "outcome is unknown"));
	fx_stop(&f);
}
END_TEST

static void
capture_state(struct provider_op *op, void *arg)
{
	json_t **out = arg;

	json_decref(*out);
	*out = provider_op_state(op);
}

START_TEST(test_journaled_operation_resumes_polling_without_resending)
{
	struct emulator_opts eo = { 0 };
	struct fx f;
	struct nw_err err = { 0 };
	json_t *body = vnet_body("10.9.0.0/24"), *state = NULL;
	struct provider_op *op, *again = NULL;
	char *text;

	eo.time_scale = 20; /* a 5 s PUT takes 250 ms */
	fx_emulator(&f, NULL, &eo);
	fx_secret_env(&f);
	f.o.delay_scale = 0.1;
	fx_provider(&f);
	op = provider_op_new(PROVIDER_OP_WRITE, "PUT", NET "/virtualNetworks/new-1" API, body);
	op->accepted = capture_state;
	op->done_arg = &state;
	ck_assert_int_eq(provider_submit(f.p, op, &err), 0);
	while (state == NULL)
		ck_assert_int_eq(provider_run(f.p, 0.01, &err), 0);
	/* the journal: plain data, no credential */
	text = json_dumps(state, JSON_COMPACT);
	ck_assert_ptr_nonnull(strstr(text, "\"phase\":\"polling\""));
	ck_assert_ptr_nonnull(strstr(text, "\"pollKind\":\"azure-asyncoperation\""));
	ck_assert_ptr_nonnull(strstr(text, "/operations/"));
	ck_assert_ptr_null(strstr(text, "nwemu_"));
	ck_assert_ptr_null(strstr(text, SECRET));
	free(text);
	/* the process dies: a new provider picks the operation up from the journal */
	provider_cancel(f.p, op);
	provider_op_free(op);
	fx_provider(&f);
	ck_assert_int_eq(provider_op_restore(&again, state, &err), 0);
	ck_assert_int_eq(provider_submit(f.p, again, &err), 0);
	ck_assert_msg(provider_wait(f.p, again, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(json_path_str(again->result, "properties", "provisioningState", NULL),
	    "Succeeded");
	ck_assert_int_eq(fx_count(&f, "PUT", "/virtualNetworks/new-1"), 1);
	provider_op_free(again);
	json_decref(state);
	json_decref(body);
	fx_stop(&f);
}
END_TEST

START_TEST(test_restoring_a_bad_state_names_the_problem)
{
	struct nw_err err = { 0 };
	struct provider_op *op = NULL;
	json_t *s = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "format", PROVIDER_OP_STATE_FORMAT, "kind",
	    "write", "method", "PUT", "path", "/x", "phase", "polling", "pollKind", "location");

	ck_assert_int_eq(provider_op_restore(&op, s, &err), NW_EINPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "polling without a pollUrl"));
	ck_assert_ptr_null(op);
	json_object_set_new(s, "format", json_string("other"));
	ck_assert_int_eq(provider_op_restore(&op, s, &err), NW_EINPUT);
	json_decref(s);
}
END_TEST

/* Shapes the emulator does not produce: Location only, provisioningState only, HTTP-date Retry-After. */
START_TEST(test_location_only_and_provisioning_state_only_operations)
{
	struct stub_route routes[] = {
		{ .method = "PUT", .path = NET "/routeTables/rt-loc",
		  .r = { { 202, "Location: {base}/op/loc1\nRetry-After: 0", NULL } }, .n = 1 },
		{ .method = "GET", .path = "/op/loc1",
		  .r = { { 202, "Location: {base}/op/loc1\nRetry-After: 0", NULL },
		  { 200, NULL, "{}" } }, .n = 2 },
		{ .method = "GET", .path = NET "/routeTables/rt-loc",
		  .r = { { 200, NULL, "{\"name\":\"rt-loc\",\"properties\":"
		  "{\"provisioningState\":\"Succeeded\"}}" } }, .n = 1 },
		{ .method = "PUT", .path = NET "/routeTables/rt-ps",
		  .r = { { 201, NULL, "{\"name\":\"rt-ps\",\"properties\":"
		  "{\"provisioningState\":\"Updating\"}}" } }, .n = 1 },
		{ .method = "GET", .path = NET "/routeTables/rt-ps",
		  .r = { { 200, NULL, "{\"properties\":{\"provisioningState\":"
		  "\"Updating\"}}" }, { 200, NULL, "{\"name\":\"rt-ps\",\"properties\":"
		  "{\"provisioningState\":\"Succeeded\"}}" } }, .n = 2 },
		{ .method = "DELETE", .path = NET "/routeTables/rt-del",
		  .r = { { 202, "Location: {base}/op/del1\n"
		  "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT", NULL } }, .n = 1 },
		{ .method = "GET", .path = "/op/del1",
		  .r = { { 202, NULL, NULL }, { 204, NULL, NULL } }, .n = 2 },
		{ .method = "POST", .path = NET "/routeTables/rt-loc/act",
		  .r = { { 202, "Azure-AsyncOperation: {base}/op/as1", NULL } }, .n = 1 },
		{ .method = "GET", .path = "/op/as1",
		  .r = { { 200, NULL, "{\"status\":\"InProgress\"}" },
		  { 200, NULL, "{\"status\":\"Succeeded\",\"properties\":{\"output\":42}}" } }, .n = 2 },
		{ .method = "PUT", .path = NET "/routeTables/rt-bad",
		  .r = { { 201, NULL, "{\"properties\":{\"provisioningState\":"
		  "\"Creating\"}}" } }, .n = 1 },
		{ .method = "GET", .path = NET "/routeTables/rt-bad",
		  .r = { { 200, NULL, "{\"properties\":{\"provisioningState\":"
		  "\"Failed\"}}" } }, .n = 1 },
		{ .method = "PUT", .path = NET "/routeTables/rt-far",
		  .r = { { 202, "Azure-AsyncOperation: http://example.com/op", NULL } }, .n = 1 },
	};
	struct stub s;
	struct env env = { 0 };
	struct provider *p;
	struct nw_err err = { 0 };
	json_t *res = NULL, *body = json_pack("{s:s}", "location", "eastus");
	struct provider_op *op;

	stub_start(&s, routes, sizeof(routes) / sizeof(routes[0]));
	p = stub_provider(&s, &env);

	op = provider_op_new(PROVIDER_OP_WRITE, "PUT", NET "/routeTables/rt-loc" API, body);
	ck_assert_int_eq(provider_submit(p, op, &err), 0);
	ck_assert_msg(provider_wait(p, op, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(op->poll_kind, PROVIDER_POLL_LOCATION);
	ck_assert_str_eq(json_str(op->result, "name"), "rt-loc");
	ck_assert_int_eq(routes[1].hits, 2);
	ck_assert_int_eq(routes[2].hits, 1); /* final GET of the resource */
	provider_op_free(op);

	op = provider_op_new(PROVIDER_OP_WRITE, "PUT", NET "/routeTables/rt-ps" API, body);
	ck_assert_int_eq(provider_submit(p, op, &err), 0);
	ck_assert_msg(provider_wait(p, op, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(op->poll_kind, PROVIDER_POLL_RESOURCE);
	ck_assert_str_eq(json_str(op->result, "name"), "rt-ps");
	ck_assert_int_eq(routes[4].hits, 2);
	provider_op_free(op);

	/* a Retry-After date in the past means poll now */
	ck_assert_msg(provider_send(p, "DELETE", NET "/routeTables/rt-del" API, NULL, &res, &err) == 0,
	    "%s", err.msg);
	ck_assert_ptr_null(res);
	ck_assert_int_eq(routes[6].hits, 2);

	/* an action with only Azure-AsyncOperation: the result is the status body */
	ck_assert_msg(provider_send(p, "POST", NET "/routeTables/rt-loc/act" API, NULL, &res, &err) == 0,
	    "%s", err.msg);
	ck_assert_int_eq(json_integer_value(json_path(res, "properties", "output", NULL)), 42);
	json_decref(res);

	ck_assert_int_eq(provider_send(p, "PUT", NET "/routeTables/rt-bad" API, body, NULL, &err),
	    NW_EFAIL);
	ck_assert_ptr_nonnull(strstr(err.msg, "the operation ended Failed"));

	/* a status URL on another host is refused: the token never leaves the endpoint */
	ck_assert_int_eq(provider_send(p, "PUT", NET "/routeTables/rt-far" API, body, NULL, &err),
	    NW_EFAIL);
	ck_assert_ptr_nonnull(strstr(err.msg, "status URL points to another host"));

	json_decref(body);
	provider_free(p);
	stub_stop(&s);
}
END_TEST

/* --- errors, redaction, TLS, clouds ------------------------------------------------ */

START_TEST(test_error_carries_status_code_message_target_and_request_id)
{
	struct fx f;
	struct nw_err err = { 0 };
	json_t *body = vnet_body("10.9.0.1/24"), *reqs;
	struct provider_op *op;

	fx_emulator(&f, NULL, NULL);
	fx_secret_env(&f);
	fx_provider(&f);
	op = provider_op_new(PROVIDER_OP_WRITE, "PUT", NET "/virtualNetworks/new-1" API, body);
	ck_assert_int_eq(provider_submit(f.p, op, &err), 0);
	ck_assert_int_eq(provider_wait(f.p, op, &err), NW_EFAIL);
	ck_assert_int_eq(op->error.http_status, 400);
	ck_assert_str_eq(op->error.code, "InvalidCIDRNotation");
	ck_assert(op->error.message[0] != '\0');
	reqs = fx_requests(&f, "PUT", "/virtualNetworks/new-1");
	ck_assert_str_eq(op->error.request_id, json_str(json_array_get(reqs, 0), "requestId"));
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot PUT " NET "/virtualNetworks/new-1: HTTP 400 "
	    "InvalidCIDRNotation: "));
	ck_assert_ptr_nonnull(strstr(err.msg, op->error.request_id));
	json_decref(reqs);
	provider_op_free(op);
	json_decref(body);
	fx_stop(&f);
}
END_TEST

START_TEST(test_verbose_log_redacts_tokens_and_secrets)
{
	struct fx f;
	struct nw_err err = { 0 };
	json_t *v = NULL;
	const char *log;
	char *tok;

	fx_emulator(&f, NULL, NULL);
	fx_capture_log(&f);
	fx_secret_env(&f);
	fx_provider(&f);
	ck_assert_int_eq(provider_read(f.p, NET "/virtualNetworks/hub" API, &v, &err), 0);
	json_decref(v);
	log = fx_log_text(&f);
	ck_assert_ptr_nonnull(strstr(log, "netwave: > GET " ));
	ck_assert_ptr_nonnull(strstr(log, "Authorization: REDACTED"));
	ck_assert_ptr_nonnull(strstr(log, "client_secret=REDACTED"));
	ck_assert_ptr_nonnull(strstr(log, "\"access_token\":\"REDACTED\""));
	ck_assert_ptr_nonnull(strstr(log, "x-ms-ratelimit-remaining-subscription-reads"));
	ck_assert_ptr_null(strstr(log, SECRET));
	ck_assert_ptr_null(strstr(log, "nwemu_"));
	ck_assert_ptr_null(strstr(log, "Authorization: Bearer"));

	/* a token the user gave never shows either */
	tok = emulator_token(&f);
	env_set(&f.env, "NETWAVE_ACCESS_TOKEN", tok);
	fx_provider(&f);
	ck_assert_int_eq(provider_read(f.p, NET "/virtualNetworks/hub" API, &v, &err), 0);
	json_decref(v);
	log = fx_log_text(&f);
	ck_assert_ptr_null(strstr(log, tok));
	free(tok);
	fx_stop(&f);
}
END_TEST

static int
run_quiet(char *const argv[])
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st = 0;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A CA and a certificate for 127.0.0.1 signed by it, made with the openssl binary. */
static void
make_ca(const char *dir, const char *name, bool with_server)
{
	char key[300], pem[300], skey[300], csr[300], spem[300], ext[300], subj[64];

	snprintf(key, sizeof(key), "%s/%s.key", dir, name);
	snprintf(pem, sizeof(pem), "%s/%s.pem", dir, name);
	snprintf(subj, sizeof(subj), "/CN=netwave test %s", name);
	{
		char *argv[] = { "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
			"ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", pem, "-subj", subj,
			"-days", "2", NULL };
		ck_assert_msg(run_quiet(argv) == 0, "openssl could not make a CA (is it installed?)");
	}
	if (!with_server)
		return;
	snprintf(skey, sizeof(skey), "%s/server.key", dir);
	snprintf(csr, sizeof(csr), "%s/server.csr", dir);
	snprintf(spem, sizeof(spem), "%s/server.pem", dir);
	snprintf(ext, sizeof(ext), "%s/server.ext", dir);
	write_file(ext, "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n", 0600);
	{
		char *argv[] = { "openssl", "req", "-newkey", "ec", "-pkeyopt",
			"ec_paramgen_curve:prime256v1", "-nodes", "-keyout", skey, "-out", csr, "-subj",
			"/CN=127.0.0.1", NULL };
		ck_assert(run_quiet(argv) == 0);
	}
	{
		char serial[300];
		snprintf(serial, sizeof(serial), "%s/%s.srl", dir, name);
		char *argv[] = { "openssl", "x509", "-req", "-in", csr, "-CA", pem, "-CAkey", key,
			"-CAserial", serial, "-CAcreateserial", "-out", spem, "-days", "2", "-extfile", ext,
			NULL };
		ck_assert(run_quiet(argv) == 0);
	}
}

START_TEST(test_tls_with_a_test_ca_and_a_wrong_ca_fails_clearly)
{
	char dir[] = "/tmp/nw-tls-XXXXXX", cert[300], key[300], ca[300], wrong[300];
	struct emulator_opts eo = { 0 };
	struct nw_err err = { 0 };
	struct fx f;
	json_t *v = NULL;

	ck_assert(mkdtemp(dir) != NULL);
	make_ca(dir, "ca", true);
	make_ca(dir, "other", false);
	snprintf(cert, sizeof(cert), "%s/server.pem", dir);
	snprintf(key, sizeof(key), "%s/server.key", dir);
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	snprintf(wrong, sizeof(wrong), "%s/other.pem", dir);
	eo.tls_cert_path = cert;
	eo.tls_key_path = key;
	fx_emulator(&f, NULL, &eo);
	ck_assert(strncmp(f.base, "https://", 8) == 0);
	fx_secret_env(&f);

	f.o.ca_file = ca;
	fx_provider(&f);
	ck_assert_msg(provider_read(f.p, NET "/virtualNetworks/hub" API, &v, &err) == 0, "%s", err.msg);
	json_decref(v);

	f.o.ca_file = wrong;
	fx_provider(&f);
	ck_assert_int_eq(provider_read(f.p, NET "/virtualNetworks/hub" API, &v, &err), NW_EIO);
	ck_assert_ptr_nonnull(strstr(err.msg, "is not trusted"));
	ck_assert_ptr_nonnull(strstr(err.msg, "--ca-file"));

	f.o.ca_file = NULL; /* the system's CAs do not know it either */
	fx_provider(&f);
	ck_assert_int_eq(provider_read(f.p, NET "/virtualNetworks/hub" API, &v, &err), NW_EIO);
	ck_assert_ptr_nonnull(strstr(err.msg, "is not trusted"));

	f.o.ca_file = "/nonexistent/ca.pem";
	provider_free(f.p);
	ck_assert_int_eq(azure_provider_new(&f.p, &f.o, &err), NW_EINPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot read CA file '/nonexistent/ca.pem'"));
	f.p = NULL;
	fx_stop(&f);
	test_rm_rf(dir);
}
END_TEST

START_TEST(test_plain_http_is_refused_off_loopback)
{
	struct azure_opts o = { 0 };
	struct nw_err err = { 0 };
	struct provider *p = NULL;

	o.arm_endpoint = "http://management.example.com";
	ck_assert_int_eq(azure_provider_new(&p, &o, &err), NW_EINPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "must be an https URL"));
	o.arm_endpoint = "http://127.0.0.1:8080";
	o.authority_host = "http://login.example.com";
	ck_assert_int_eq(azure_provider_new(&p, &o, &err), NW_EINPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "authority host"));
	o.authority_host = NULL;
	o.cloud = "AzureGermanCloud";
	ck_assert_int_eq(azure_provider_new(&p, &o, &err), NW_EINPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "unknown cloud 'AzureGermanCloud'"));
}
END_TEST

START_TEST(test_urls_off_the_endpoint_are_refused)
{
	struct fx f;
	struct nw_err err = { 0 };
	struct provider_op *op;

	fx_emulator(&f, NULL, NULL);
	fx_secret_env(&f);
	fx_provider(&f);
	op = provider_op_new(PROVIDER_OP_READ, "GET", "https://evil.example.com/subscriptions/x", NULL);
	ck_assert_int_eq(provider_submit(f.p, op, &err), NW_EINPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "not on the ARM endpoint"));
	provider_op_free(op);
	fx_stop(&f);
}
END_TEST

START_TEST(test_clouds_have_their_endpoints_and_scopes)
{
	const struct azure_cloud *c;
	struct fx f;
	struct nw_err err = { 0 };
	json_t *v = NULL;

	c = azure_cloud_find("azurecloud");
	ck_assert_str_eq(c->arm_endpoint, "https://management.azure.com");
	ck_assert_str_eq(c->authority_host, "https://login.microsoftonline.com");
	ck_assert_str_eq(c->scope, "https://management.azure.com/.default");
	c = azure_cloud_find("AzureUSGovernment");
	ck_assert_str_eq(c->arm_endpoint, "https://management.usgovcloudapi.net");
	ck_assert_str_eq(c->authority_host, "https://login.microsoftonline.us");
	ck_assert_str_eq(c->scope, "https://management.usgovcloudapi.net/.default");
	c = azure_cloud_find("AzureChinaCloud");
	ck_assert_str_eq(c->arm_endpoint, "https://management.chinacloudapi.cn");
	ck_assert_str_eq(c->authority_host, "https://login.chinacloudapi.cn");
	ck_assert_str_eq(c->scope, "https://management.chinacloudapi.cn/.default");
	ck_assert_ptr_null(azure_cloud_find("AzureGermanCloud"));

	/* the scope a token is asked for follows the cloud, whatever the endpoint */
	fx_emulator(&f, NULL, NULL);
	fx_capture_log(&f);
	fx_secret_env(&f);
	f.o.cloud = "AzureUSGovernment";
	fx_provider(&f);
	ck_assert_int_eq(provider_read(f.p, NET "/virtualNetworks/hub" API, &v, &err), 0);
	json_decref(v);
	ck_assert_ptr_nonnull(strstr(fx_log_text(&f),
	    "scope=https%3A%2F%2Fmanagement.usgovcloudapi.net%2F.default"));
	fx_stop(&f);
}
END_TEST

START_TEST(test_requests_carry_user_agent_request_id_and_accept_gzip)
{
	struct stub_route routes[] = {
		{ .method = "GET", .path = NET "/virtualNetworks/hub",
		  .r = { { 200, NULL, "{\"name\":\"hub\"}" } }, .n = 1 },
	};
	struct stub s;
	struct env env = { 0 };
	struct provider *p;
	struct nw_err err = { 0 };
	struct provider_op *op;

	stub_start(&s, routes, 1);
	p = stub_provider(&s, &env);
	op = provider_op_new(PROVIDER_OP_READ, "GET", NET "/virtualNetworks/hub" API, NULL);
	ck_assert_int_eq(provider_submit(p, op, &err), 0);
	ck_assert_int_eq(provider_wait(p, op, &err), 0);
	ck_assert_str_eq(routes[0].last_auth, "Bearer stub-token");
	ck_assert_str_eq(routes[0].last_ua, "netwave/" PACKAGE_VERSION);
	ck_assert_ptr_nonnull(strstr(routes[0].last_ae, "gzip"));
	ck_assert_str_eq(routes[0].last_crid, op->client_request_id);
	ck_assert_int_eq(strlen(op->client_request_id), 36);
	ck_assert_int_eq(op->client_request_id[14], '4');
	provider_op_free(op);
	provider_free(p);
	stub_stop(&s);
}
END_TEST

/* --- discovery ------------------------------------------------------------------------ */

static json_t *
synth_doc(unsigned hubs, unsigned spokes, unsigned pes)
{
	struct synth_opts so = { 0 };
	struct nw_err err = { 0 };
	json_t *doc = NULL;

	so.hubs = hubs;
	so.spokes_per_hub = spokes;
	so.pe_per_spoke = pes;
	so.seed = 1;
	ck_assert_msg(synth_generate(&doc, &so, &err) == 0, "%s", err.msg);
	return doc;
}

/*
 * What ARM computes or adds and a seed may not have: etags, resource
 * GUIDs, and the empty "properties" ARM's GET and list put in a reference
 * ({"id": ..., "properties": {}}) that Resource Graph does not show.
 */
static void
strip_computed(json_t *v)
{
	const char *k;
	json_t *e;
	size_t i;
	void *tmp;

	if (json_is_object(v)) {
		json_object_del(v, "etag");
		json_object_del(v, "resourceGuid");
		json_object_foreach_safe(v, tmp, k, e) {
			strip_computed(e);
			if (json_is_object(e) && json_str(e, "id") != NULL && json_object_size(e) == 2 &&
			    json_is_object(json_object_get(e, "properties")) &&
			    json_object_size(json_object_get(e, "properties")) == 0)
				json_object_del(e, "properties");
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e)
			strip_computed(e);
	}
}

/* observed with empty maps and lists dropped, so "absent" equals "empty". */
static void
strip_empty(json_t *v)
{
	const char *k;
	json_t *e;
	void *tmp;

	json_object_foreach_safe(v, tmp, k, e) {
		strip_empty(e);
		if ((json_is_object(e) && json_object_size(e) == 0) ||
		    (json_is_array(e) && json_array_size(e) == 0))
			json_object_del(v, k);
	}
}

static const char *
subscription_of(const json_t *doc)
{
	return json_string_value(json_array_get(json_object_get(doc, "subscriptions"), 0));
}

/* The seed's resource groups: the groups of its resources (lowercase "/subscriptions/s/resourcegroups/g" -> true). */
static json_t *
seed_groups(const json_t *seed)
{
	json_t *set = json_object(), *r;
	size_t i;

	json_array_foreach(json_object_get(seed, "resources"), i, r) {
		char *low = strdup(json_str(r, "id")), *p;
		int slashes = 0;

		for (p = low; *p != '\0'; p++) {
			*p = (char)tolower((unsigned char)*p);
			if (*p == '/' && ++slashes == 5) {
				*p = '\0';
				break;
			}
		}
		if (slashes >= 4 && strncmp(low, "/subscriptions/", 15) == 0)
			json_object_set_new(set, low, json_true());
		free(low);
	}
	return set;
}

/*
 * Every seed resource is discovered equal (modulo computed fields), except
 * skip_type; and so is every group the seed's resources sit in, as
 * "Resource Groups - Get" returns it, and nothing else.
 */
static void
assert_same_estate(const json_t *seed, const json_t *got, const char *skip_type)
{
	json_t *groups = seed_groups(seed);
	size_t ngroups = 0;
	json_t *a = json_deep_copy(seed), *b = json_deep_copy(got), *r, *idx = json_object();
	size_t i, n = 0;

	strip_computed(a);
	strip_computed(b);
	json_array_foreach(json_object_get(b, "resources"), i, r) {
		char *low = strdup(json_str(r, "id"));
		for (char *c = low; *c != '\0'; c++)
			*c = (char)tolower((unsigned char)*c);
		json_object_set(idx, low, r);
		free(low);
	}
	json_array_foreach(json_object_get(a, "resources"), i, r) {
		char *low = strdup(json_str(r, "id"));
		json_t *other;
		for (char *c = low; *c != '\0'; c++)
			*c = (char)tolower((unsigned char)*c);
		other = json_object_get(idx, low);
		free(low);
		if (skip_type != NULL && strcasecmp(json_str(r, "type"), skip_type) == 0 && other == NULL)
			continue;
		n++;
		ck_assert_msg(other != NULL, "not discovered: %s", json_str(r, "id"));
		if (!json_equal(r, other)) {
			char *x = json_dumps(r, JSON_SORT_KEYS | JSON_COMPACT);
			char *y = json_dumps(other, JSON_SORT_KEYS | JSON_COMPACT);
			ck_abort_msg("differs: %s\nseed:       %.600s\ndiscovered: %.600s", json_str(r, "id"),
			    x, y);
		}
	}
	json_array_foreach(json_object_get(b, "resources"), i, r) {
		char *low;

		if (strcmp(json_str(r, "type"), "Microsoft.Resources/resourceGroups") != 0)
			continue;
		low = strdup(json_str(r, "id"));
		for (char *c = low; *c != '\0'; c++)
			*c = (char)tolower((unsigned char)*c);
		ck_assert_msg(json_object_get(groups, low) != NULL, "a group the seed does not have: %s", low);
		free(low);
		ck_assert_str_eq(json_str(r, "name"), strrchr(json_str(r, "id"), '/') + 1);
		ck_assert_ptr_nonnull(json_str(r, "location"));
		ngroups++;
	}
	ck_assert_uint_eq(ngroups, json_object_size(groups));
	ck_assert_msg(json_array_size(json_object_get(b, "resources")) == n + ngroups,
	    "discovered %zu, seed %zu and %zu groups", json_array_size(json_object_get(b, "resources")),
	    n, ngroups);
	json_decref(groups);
	{
		json_t *oa = json_deep_copy(json_object_get(a, "observed"));
		json_t *ob = json_deep_copy(json_object_get(b, "observed"));
		strip_empty(oa);
		strip_empty(ob);
		if (!json_equal(oa, ob)) {
			char *x = json_dumps(oa, JSON_SORT_KEYS | JSON_COMPACT);
			char *y = json_dumps(ob, JSON_SORT_KEYS | JSON_COMPACT);
			ck_abort_msg("observed differs:\nseed:       %.900s\ndiscovered: %.900s", x, y);
		}
		json_decref(oa);
		json_decref(ob);
	}
	json_decref(idx);
	json_decref(a);
	json_decref(b);
}

static int
discover(struct fx *f, const char *sub, enum azure_discover_source src, json_t **out,
    struct azure_discover_report *rep, struct nw_err *err)
{
	const char *subs[1] = { sub };
	struct azure_discover_opts o = { 0 };

	o.subscriptions = subs;
	o.nsubscriptions = 1;
	o.source = src;
	o.log = f->log;
	return azure_discover(out, f->p, &o, rep, err);
}

START_TEST(test_discover_round_trip_through_resource_graph)
{
	json_t *seed = synth_doc(2, 3, 1), *got = NULL;
	struct azure_discover_report rep;
	struct nw_err err = { 0 };
	char sub[64];
	struct fx f;

	snprintf(sub, sizeof(sub), "%s", subscription_of(seed));
	fx_emulator(&f, json_incref(seed), NULL);
	fx_capture_log(&f);
	fx_secret_env(&f);
	fx_provider(&f);
	ck_assert_msg(discover(&f, sub, AZURE_SOURCE_AUTO, &got, &rep, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(rep.source, AZURE_SOURCE_GRAPH);
	/* one query of Resources, one of ResourceContainers (the groups) */
	ck_assert_uint_eq(rep.graph_queries, 2);
	ck_assert_uint_eq(rep.list_calls, 0);
	{
		json_t *g = seed_groups(seed);
		ck_assert_uint_eq(rep.resources, json_array_size(json_object_get(seed, "resources")) +
		    json_object_size(g));
		json_decref(g);
	}
	assert_same_estate(seed, got, NULL);
	ck_assert_ptr_nonnull(strstr(fx_log_text(&f), "discover: Resource Graph: "));
	ck_assert_int_eq(fx_count(&f, "POST", "/providers/Microsoft.ResourceGraph/resources"), 2);
	ck_assert_int_eq(fx_count(&f, "POST", "/routeTables/primary"), 1);
	json_decref(got);
	json_decref(seed);
	fx_stop(&f);
}
END_TEST

START_TEST(test_discover_round_trip_through_the_list_fallback)
{
	json_t *seed = synth_doc(2, 3, 1), *got = NULL;
	struct azure_discover_report rep;
	struct nw_err err = { 0 };
	char sub[64];
	struct fx f;

	snprintf(sub, sizeof(sub), "%s", subscription_of(seed));
	fx_emulator(&f, json_incref(seed), NULL);
	fx_capture_log(&f);
	fx_secret_env(&f);
	fx_provider(&f);
	fx_faults(&f, "{\"method\":\"POST\",\"path\":\"/providers/Microsoft.ResourceGraph/*\",\"action\":"
	    "\"error\",\"status\":403,\"code\":\"AuthorizationFailed\"}");
	ck_assert_msg(discover(&f, sub, AZURE_SOURCE_AUTO, &got, &rep, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(rep.source, AZURE_SOURCE_LIST);
	ck_assert_str_eq(rep.graph_fallback, "HTTP 403 AuthorizationFailed");
	ck_assert_ptr_nonnull(strstr(fx_log_text(&f), "discover: Resource Graph is not available "
	    "(HTTP 403 AuthorizationFailed); listing each type instead"));
	ck_assert_uint_ge(rep.list_calls, 13);
	/* the emulator does not list every type it was seeded with (azureFirewalls): those are
	 * reported, and everything else must come back the same */
	assert_same_estate(seed, got, "Microsoft.Network/azureFirewalls");
	json_decref(got);
	json_decref(seed);
	fx_stop(&f);
}
END_TEST

static char *
discover_text(struct fx *f, const char *sub, enum azure_discover_source src)
{
	struct topology *t = NULL;
	struct nw_err err = { 0 };
	json_t *got = NULL;
	char *text;

	fx_provider(f);
	ck_assert_msg(discover(f, sub, src, &got, NULL, &err) == 0, "%s", err.msg);
	ck_assert_msg(topology_load_json(&t, got, "<d>", &err) == 0, "%s", err.msg);
	text = topology_dump(t);
	topology_free(t);
	return text;
}

START_TEST(test_discover_twice_gives_the_same_bytes)
{
	json_t *seed = synth_doc(1, 4, 2);
	char sub[64], *one, *two;
	struct fx f;

	snprintf(sub, sizeof(sub), "%s", subscription_of(seed));
	fx_emulator(&f, json_incref(seed), NULL);
	fx_secret_env(&f);
	one = discover_text(&f, sub, AZURE_SOURCE_GRAPH);
	two = discover_text(&f, sub, AZURE_SOURCE_GRAPH);
	ck_assert_str_eq(one, two);
	free(one);
	free(two);
	one = discover_text(&f, sub, AZURE_SOURCE_LIST);
	two = discover_text(&f, sub, AZURE_SOURCE_LIST);
	ck_assert_str_eq(one, two);
	free(one);
	free(two);
	json_decref(seed);
	fx_stop(&f);
}
END_TEST

START_TEST(test_discover_pages_through_graph_and_lists)
{
	json_t *seed = synth_doc(1, 300, 2), *got = NULL;
	struct azure_discover_report rep;
	struct nw_err err = { 0 };
	char sub[64];
	struct fx f;
	size_t n;

	n = json_array_size(json_object_get(seed, "resources"));
	ck_assert_uint_gt(n, 1000);
	snprintf(sub, sizeof(sub), "%s", subscription_of(seed));
	fx_emulator(&f, json_incref(seed), NULL);
	fx_secret_env(&f);
	fx_provider(&f);
	ck_assert_msg(discover(&f, sub, AZURE_SOURCE_GRAPH, &got, &rep, &err) == 0, "%s", err.msg);
	{
		json_t *g = seed_groups(seed);
		ck_assert_uint_eq(rep.resources, n + json_object_size(g));
		json_decref(g);
	}
	/* and one page of ResourceContainers for the groups */
	ck_assert_uint_eq(rep.graph_queries, (n + 999) / 1000 + 1);
	json_decref(got);
	ck_assert_msg(discover(&f, sub, AZURE_SOURCE_LIST, &got, &rep, &err) == 0, "%s", err.msg);
	{
		/* one list call per type and page of 100, following nextLink */
		unsigned want = 0;
		size_t t, k;
		json_t *r;
		for (t = 0; azure_discover_types[t] != NULL; t++) {
			size_t count = 0;
			if (strstr(azure_discover_types[t], "networkManagers/") != NULL ||
			    strstr(azure_discover_types[t], "virtualHubs/") != NULL)
				continue;
			json_array_foreach(json_object_get(seed, "resources"), k, r)
				if (strcmp(json_str(r, "type"), azure_discover_types[t]) == 0)
					count++;
			want += count == 0 ? 1 : (unsigned)((count + 99) / 100);
		}
		want++; /* Resource Groups - List, one page */
		ck_assert_uint_eq(rep.list_calls, want);
	}
	ck_assert_int_ge(fx_count(&f, "GET", "/virtualNetworks"), 4);
	json_decref(got);
	json_decref(seed);
	fx_stop(&f);
}
END_TEST

START_TEST(test_discover_reports_denied_types_and_goes_on)
{
	json_t *seed = synth_doc(1, 2, 1), *got = NULL;
	struct azure_discover_report rep;
	struct nw_err err = { 0 };
	char sub[64];
	struct fx f;

	snprintf(sub, sizeof(sub), "%s", subscription_of(seed));
	fx_emulator(&f, json_incref(seed), NULL);
	fx_capture_log(&f);
	fx_secret_env(&f);
	fx_provider(&f);
	fx_faults(&f, "{\"method\":\"GET\",\"path\":\"/subscriptions/*/providers/Microsoft.Network/"
	    "privateEndpoints\",\"action\":\"error\",\"status\":403,\"code\":\"AuthorizationFailed\"}");
	ck_assert_msg(discover(&f, sub, AZURE_SOURCE_LIST, &got, &rep, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(rep.denied, 1);
	ck_assert_ptr_nonnull(strstr(fx_log_text(&f), "warning: no permission to read "
	    "Microsoft.Network/privateEndpoints in subscription"));
	{
		json_t *r;
		size_t i, pes = 0, vnets = 0;
		json_array_foreach(json_object_get(got, "resources"), i, r) {
			if (strcmp(json_str(r, "type"), TYPE_PRIVATE_ENDPOINT) == 0)
				pes++;
			if (strcmp(json_str(r, "type"), TYPE_VNET) == 0)
				vnets++;
		}
		ck_assert_uint_eq(pes, 0);
		ck_assert_uint_eq(vnets, 3);
	}
	json_decref(got);
	got = NULL;

	/* nothing readable at all is an error */
	fx_faults(&f, "{\"method\":\"GET\",\"path\":\"/subscriptions/*/providers/Microsoft.Network/*\","
	    "\"action\":\"error\",\"status\":403,\"code\":\"AuthorizationFailed\"}");
	ck_assert_int_eq(discover(&f, sub, AZURE_SOURCE_LIST, &got, &rep, &err), NW_EFAIL);
	ck_assert_ptr_nonnull(strstr(err.msg, "nothing could be read"));
	ck_assert_ptr_null(got);
	json_decref(seed);
	fx_stop(&f);
}
END_TEST

static json_t *
avnm_seed(void)
{
	json_t *doc = small_seed(), *res = json_object_get(doc, "resources");
	const char *nm = NET "/networkManagers/nm-1";

	json_array_append_new(res, json_pack("{s:s,s:s,s:s,s:s,s:{s:{s:[s],s:[]},s:[s]}}",
	    "id", nm, "name", "nm-1", "type", TYPE_NETWORK_MANAGER, "location", "eastus",
	    "properties", "networkManagerScopes", "subscriptions", "/subscriptions/" SUB,
	    "managementGroups", "networkManagerScopeAccesses", "Connectivity"));
	json_array_append_new(res, json_pack("{s:s,s:s,s:s,s:{s:s}}",
	    "id", NET "/networkManagers/nm-1/networkGroups/ng-1", "name", "ng-1", "type",
	    TYPE_NETWORK_GROUP, "properties", "memberType", "VirtualNetwork"));
	json_array_append_new(res, json_pack("{s:s,s:s,s:s,s:{s:s}}",
	    "id", NET "/networkManagers/nm-1/networkGroups/ng-1/staticMembers/sm-1", "name", "sm-1",
	    "type", TYPE_STATIC_MEMBER, "properties", "resourceId", NET "/virtualNetworks/spoke-1"));
	json_array_append_new(res, json_pack("{s:s,s:s,s:s,s:{s:s,s:s,s:[{s:s,s:s}]}}",
	    "id", NET "/networkManagers/nm-1/connectivityConfigurations/mesh-1", "name", "mesh-1",
	    "type", TYPE_CONNECTIVITY_CONFIG, "properties", "connectivityTopology", "Mesh",
	    "isGlobal", "False", "appliesToGroups", "networkGroupId",
	    NET "/networkManagers/nm-1/networkGroups/ng-1", "groupConnectivity", "None"));
	json_object_set_new(json_object_get(doc, "observed"), "features", json_pack("{s:s,s:s}",
	    "Microsoft.Network/AllowHighScaleConnectedGroup", "Registered",
	    "Microsoft.Network/EnableMaxPrivateEndpointsVia64kPath", "NotRegistered"));
	json_object_set_new(json_object_get(doc, "observed"), "avnmDeployments",
	    json_pack("{s:{s:{s:[s]}}}", nm, "eastus", "Connectivity",
	    NET "/networkManagers/nm-1/connectivityConfigurations/mesh-1"));
	return doc;
}

START_TEST(test_discover_reads_avnm_children_and_deployments)
{
	json_t *seed = avnm_seed(), *got = NULL;
	struct azure_discover_report rep;
	struct nw_err err = { 0 };
	enum azure_discover_source src;
	struct fx f;

	fx_emulator(&f, json_incref(seed), NULL);
	fx_secret_env(&f);
	fx_provider(&f);
	for (src = AZURE_SOURCE_GRAPH; src <= AZURE_SOURCE_LIST; src++) {
		ck_assert_msg(discover(&f, SUB, src, &got, &rep, &err) == 0, "%s", err.msg);
		assert_same_estate(seed, got, NULL);
		ck_assert_str_eq(json_string_value(json_array_get(json_path(got, "observed",
		    "avnmDeployments", NET "/networkManagers/nm-1", "eastus", "Connectivity", NULL), 0)),
		    NET "/networkManagers/nm-1/connectivityConfigurations/mesh-1");
		json_decref(got);
	}
	ck_assert_int_ge(fx_count(&f, "POST", "/listActiveConnectivityConfigurations"), 2);
	ck_assert_int_ge(fx_count(&f, "GET", "/networkGroups/ng-1/staticMembers"), 2);
	json_decref(seed);
	fx_stop(&f);
}
END_TEST

START_TEST(test_discover_resource_group_filter_and_bad_input)
{
	json_t *seed = synth_doc(2, 1, 0), *got = NULL, *r;
	const char *rgs[1] = { "rg-hub-01" };
	struct azure_discover_opts o = { 0 };
	struct azure_discover_report rep;
	struct nw_err err = { 0 };
	const char *subs[1];
	char sub[64];
	struct fx f;
	size_t i;
	enum azure_discover_source src;

	snprintf(sub, sizeof(sub), "%s", subscription_of(seed));
	subs[0] = sub;
	fx_emulator(&f, json_incref(seed), NULL);
	fx_secret_env(&f);
	fx_provider(&f);
	o.subscriptions = subs;
	o.nsubscriptions = 1;
	o.resource_groups = rgs;
	o.nresource_groups = 1;
	for (src = AZURE_SOURCE_GRAPH; src <= AZURE_SOURCE_LIST; src++) {
		o.source = src;
		ck_assert_msg(azure_discover(&got, f.p, &o, &rep, &err) == 0, "%s", err.msg);
		ck_assert_uint_gt(json_array_size(json_object_get(got, "resources")), 0);
		json_array_foreach(json_object_get(got, "resources"), i, r)
			ck_assert_msg(strcasestr(json_str(r, "id"), "/resourceGroups/rg-hub-01/") != NULL ||
			    (strcmp(json_str(r, "type"), "Microsoft.Resources/resourceGroups") == 0 &&
			    strcmp(json_str(r, "name"), "rg-hub-01") == 0),
			    "outside the group: %s", json_str(r, "id"));
		json_decref(got);
		got = NULL;
	}
	rgs[0] = "rg'; drop";
	ck_assert_int_eq(azure_discover(&got, f.p, &o, &rep, &err), NW_EINPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "is not a valid resource group name"));
	subs[0] = "not-a-guid";
	o.nresource_groups = 0;
	ck_assert_int_eq(azure_discover(&got, f.p, &o, &rep, &err), NW_EINPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "subscription 'not-a-guid' is not a subscription id"));
	json_decref(seed);
	fx_stop(&f);
}
END_TEST

START_TEST(test_discover_keeps_only_routes_learned_from_on_premises)
{
	json_t *seed = synth_doc(2, 2, 0), *got = NULL, *routes, *r, *v;
	struct nw_err err = { 0 };
	const char *k;
	char sub[64];
	struct fx f;
	size_t i;

	snprintf(sub, sizeof(sub), "%s", subscription_of(seed));
	fx_emulator(&f, json_incref(seed), NULL);
	fx_secret_env(&f);
	fx_provider(&f);
	/* the circuit's table also holds what the hub gateways advertise (AS path 65515) */
	{
		struct provider *p = f.p;
		json_t *res = NULL;
		json_object_foreach(json_path(seed, "observed", "circuitRoutes", NULL), k, v) {
			char *path = NULL;
			ck_assert(asprintf(&path, "%s/peerings/AzurePrivatePeering/routeTables/primary" API,
			    k) > 0);
			ck_assert_msg(provider_send(p, "POST", path, NULL, &res, &err) == 0, "%s", err.msg);
			free(path);
			{
				bool azure = false;
				json_array_foreach(json_object_get(res, "value"), i, r)
					if (strcmp(json_str(r, "path"), "65515") == 0)
						azure = true;
				ck_assert_msg(azure, "the emulator's table has no gateway routes to filter");
			}
			json_decref(res);
		}
	}
	ck_assert_int_eq(discover(&f, sub, AZURE_SOURCE_AUTO, &got, NULL, &err), 0);
	routes = json_path(got, "observed", "circuitRoutes", NULL);
	ck_assert_uint_eq(json_object_size(routes), 1);
	json_object_foreach(routes, k, v)
		json_array_foreach(v, i, r)
			ck_assert_str_ne(json_str(r, "path"), "65515");
	json_decref(got);
	json_decref(seed);
	fx_stop(&f);
}
END_TEST

int
main(void)
{
	const TTest *const provider_tests[] = {
		TEST_CASE("credentials", 120),
		test_client_secret_gets_a_token_once_and_reads,
		test_invalid_secret_fails_naming_the_credential_never_the_secret,
		test_workload_identity_sends_the_assertion_from_the_token_file,
		test_managed_identity_uses_the_imds_endpoint_of_the_emulator,
		test_app_service_managed_identity_sends_the_identity_header,
		test_access_token_from_the_environment_is_used_as_is,
		test_rejected_environment_token_is_not_retried_and_not_shown,
		test_azure_cli_runs_az_with_an_argv_and_no_shell,
		test_tenant_option_replaces_azure_tenant_id,
		test_azure_cli_failure_is_reported_with_its_message,
		test_no_credential_says_what_was_tried,
		test_token_is_refreshed_ahead_of_its_expiry,
		test_expired_token_mid_run_is_refreshed_once,
		test_second_401_is_an_error_naming_the_credential,
		TEST_CASE("retries and throttling", 120),
		test_429_retry_after_is_honoured_with_one_request_id,
		test_503_storm_gives_up_after_three_retries,
		test_backoff_without_retry_after_grows_exponentially,
		test_4xx_without_retry_after_is_not_retried,
		test_connection_reset_before_a_put_is_sent_again,
		test_connection_reset_after_a_put_converges,
		test_connection_reset_after_a_post_action_is_not_sent_again,
		test_long_retry_after_parks_one_operation_while_others_finish,
		test_retry_after_longer_than_the_limit_fails_clearly,
		test_client_bucket_slows_down_before_arm_says_429,
		test_subscription_throttle_holds_back_the_whole_class,
		test_retry_after_ms_headers_are_honoured,
		test_a_request_that_takes_too_long_times_out,
		test_gate_query_runs_on_resource_graph,
		TEST_CASE("long-running operations", 120),
		test_put_follows_azure_asyncoperation_then_gets_the_resource,
		test_delete_follows_the_operation_and_does_no_final_get,
		test_post_action_result_comes_from_the_location_url,
		test_failed_operation_carries_arm_code_and_message,
		test_canceled_operation_is_an_error,
		test_vanished_status_url_falls_back_to_the_resource_for_a_put,
		test_vanished_status_url_of_an_action_is_an_unknown_outcome,
		test_journaled_operation_resumes_polling_without_resending,
		test_restoring_a_bad_state_names_the_problem,
		test_location_only_and_provisioning_state_only_operations,
		TEST_CASE("errors, redaction, TLS, clouds", 120),
		test_error_carries_status_code_message_target_and_request_id,
		test_verbose_log_redacts_tokens_and_secrets,
		test_tls_with_a_test_ca_and_a_wrong_ca_fails_clearly,
		test_plain_http_is_refused_off_loopback,
		test_urls_off_the_endpoint_are_refused,
		test_clouds_have_their_endpoints_and_scopes,
		test_requests_carry_user_agent_request_id_and_accept_gzip,
		TEST_CASE("discovery", 300),
		test_discover_round_trip_through_resource_graph,
		test_discover_round_trip_through_the_list_fallback,
		test_discover_twice_gives_the_same_bytes,
		test_discover_pages_through_graph_and_lists,
		test_discover_reports_denied_types_and_goes_on,
		test_discover_reads_avnm_children_and_deployments,
		test_discover_resource_group_filter_and_bad_input,
		test_discover_keeps_only_routes_learned_from_on_premises,
		NULL,
	};

	return test_main("provider", provider_tests);
}
