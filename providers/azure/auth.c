/*
 * Credentials for ARM, tried in DefaultAzureCredential's order and with
 * its variable names (reference/azure-arm.md section 7): a token the user
 * already has (NETWAVE_ACCESS_TOKEN), the client secret
 * (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET), the client
 * certificate (AZURE_CLIENT_CERTIFICATE_PATH, auth_cert.c), workload
 * identity (AZURE_FEDERATED_TOKEN_FILE), managed identity (the App
 * Service IDENTITY_ENDPOINT/IDENTITY_HEADER variant, else IMDS, whose
 * address NETWAVE_IMDS_ENDPOINT overrides), then the Azure CLI, run
 * without a shell and only when `az` is on PATH.
 *
 * Tokens and secrets live in memory only, are overwritten before they
 * are freed, and never reach a log line or a message: messages name the
 * credential ("client secret credential (AZURE_CLIENT_ID app-1, tenant
 * t-1)"), never what it holds.  A token is refreshed ahead of its expiry
 * and once after ARM answers 401 (http.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "plan/base64.h"
#include "plan/jsonutil.h"
#include "providers/azure/internal.h"

extern char **environ;

#define IMDS_DEFAULT "http://169.254.169.254"
#define PROBE_TIMEOUT_MS 1000L
#define CLI_TIMEOUT_S 60
#define CLI_MAX_OUTPUT ((size_t)1 << 20)
#define TOKEN_MAX_BYTES ((size_t)1 << 20)
#define REFRESH_MARGIN 300.0

void
az_secure_free(char *s)
{
	if (s == NULL)
		return;
	volatile char *p = s;
	while (*p != '\0')
		*p++ = '\0';
	free(s);
}

void
az_secure_zero(void *buf, size_t len)
{
	volatile unsigned char *p = buf;

	while (len-- > 0)
		*p++ = 0;
}

void
az_token_clear(struct az_token *t)
{
	az_secure_free(t->value);
	memset(t, 0, sizeof(*t));
}

void
az_cred_clear(struct az_cred *cred)
{
	az_cert_free(cred->cert);
	az_secure_zero(cred, sizeof(*cred));
}

static const char *
env_get(struct az_client *c, const char *name)
{
	const char *v = c->getenv != NULL ? c->getenv(c->getenv_arg, name) : getenv(name);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* The tenant to sign in to: --tenant, else AZURE_TENANT_ID, else NULL. */
static const char *
tenant_of(struct az_client *c)
{
	return c->tenant != NULL && c->tenant[0] != '\0' ? c->tenant : env_get(c, "AZURE_TENANT_ID");
}

bool
az_auth_refreshable(const struct az_client *c)
{
	return c->cred.kind != AZ_CRED_ACCESS_TOKEN && c->cred.kind != AZ_CRED_NONE;
}

void
az_auth_invalidate(struct az_client *c, unsigned gen)
{
	if (gen == c->token_gen)
		c->token_invalid = true;
}

/* The resource of a scope: "https://management.azure.com/.default" -> "https://management.azure.com". */
static void
scope_resource(const char *scope, char *out, size_t size)
{
	size_t n = strlen(scope);

	if (n > 9 && strcmp(scope + n - 9, "/.default") == 0)
		n -= 9;
	if (n >= size)
		n = size - 1;
	memcpy(out, scope, n);
	out[n] = '\0';
}

/* Tenant ids and names go into a URL path: only what Entra ID allows. */
static bool
tenant_ok(const char *t)
{
	if (t == NULL || *t == '\0' || strlen(t) > 128)
		return false;
	for (; *t != '\0'; t++)
		if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') || (*t >= '0' && *t <= '9') ||
		    *t == '-' || *t == '.' || *t == '_'))
			return false;
	return true;
}

/* --- one synchronous HTTP exchange, with the transport's retries ---------------------------- */

struct sync_resp {
	char *body;
	size_t len, cap;
	json_t *headers;
};

static size_t
sync_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sync_resp *r = arg;

	return az_body_append(&r->body, &r->len, &r->cap, data, size * nmemb, TOKEN_MAX_BYTES, true);
}

static size_t
sync_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sync_resp *r = arg;

	az_header_store(r->headers, data, size * nmemb, 255);
	return size * nmemb;
}

static void
sync_resp_clear(struct sync_resp *r)
{
	if (r->body != NULL) {
		az_secure_zero(r->body, r->len);
		free(r->body);
	}
	json_decref(r->headers);
	memset(r, 0, sizeof(*r));
}

static void
scaled_sleep(struct az_client *c, double seconds)
{
	double s = seconds * c->scale;
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

/*
 * Sends one request (GET when body is NULL, else POST) and retries it as
 * the transport does; *status is 0 with err set when no answer came.
 * what names the credential for messages.
 */
static int
http_sync(struct az_client *c, const char *url, struct curl_slist *headers, const char *body,
    long timeout_ms, bool retry, struct sync_resp *r, long *status, const char *what,
    struct nw_err *err)
{
	unsigned attempt;

	*status = 0;
	for (attempt = 0;; attempt++) {
		char errbuf[CURL_ERROR_SIZE] = "";
		double t0 = clock_mono();
		CURL *e = curl_easy_init();
		CURLcode rc;

		if (e == NULL)
			return err_set(err, NW_ENOMEM, "cannot create a libcurl handle");
		sync_resp_clear(r);
		r->headers = json_object();
		az_easy_common(c, e);
		if (timeout_ms > 0) {
			curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
			curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
		}
		curl_easy_setopt(e, CURLOPT_URL, url);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sync_body);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
		curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, sync_header);
		curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
		curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
		if (body != NULL) {
			curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
			curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
		}
		az_log_request(c, body != NULL ? "POST" : "GET", url, headers, body,
		    body != NULL ? strlen(body) : 0, NULL);
		c->stats.auth++;
		rc = curl_easy_perform(e);
		if (rc == CURLE_OK)
			curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
		curl_easy_cleanup(e);
		if (rc == CURLE_OK)
			az_log_response(c, body != NULL ? "POST" : "GET", url, *status, r->headers,
			    r->body, r->len, (clock_mono() - t0) * 1000.0);
		if (rc != CURLE_OK) {
			*status = 0;
			if (retry && attempt < c->max_retries && rc != CURLE_PEER_FAILED_VERIFICATION &&
			    rc != CURLE_SSL_CACERT_BADFILE) {
				scaled_sleep(c, c->retry_delay * (double)(1u << attempt));
				continue;
			}
			az_curl_error(err, rc, errbuf, body != NULL ? "POST" : "GET", url);
			err_prefix(err, "cannot get a token with %s", what);
			return err->code;
		}
		if (retry && attempt < c->max_retries && (*status == 429 || *status >= 500)) {
			scaled_sleep(c, c->retry_delay * (double)(1u << attempt));
			continue;
		}
		return 0;
	}
}

/* --- token answers ------------------------------------------------------------------------ */

static double
number_of(const json_t *v)
{
	if (json_is_number(v))
		return json_number_value(v);
	if (json_is_string(v)) {
		char *end;
		double d = strtod(json_string_value(v), &end);
		if (end != json_string_value(v) && *end == '\0')
			return d;
	}
	return -1;
}

/* Fills t from {access_token|accessToken, expires_on|expires_in|expiresOn}. */
static int
token_from_json(struct az_client *c, json_t *v, struct az_token *t, const char *what,
    struct nw_err *err)
{
	const char *tok = json_str(v, "access_token");
	double now = az_wall(c), on, in;

	if (tok == NULL)
		tok = json_str(v, "accessToken");
	if (tok == NULL || tok[0] == '\0')
		return err_set(err, NW_EFAIL, "cannot get a token with %s: the answer has no access token",
		    what);
	az_token_clear(t);
	if ((t->value = strdup(tok)) == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	t->fetched_at = now;
	on = number_of(json_object_get(v, "expires_on"));
	in = number_of(json_object_get(v, "expires_in"));
	if (on > 0)
		t->expires_on = on;
	else if (in > 0)
		t->expires_on = now + in;
	else if (json_str(v, "expiresOn") != NULL) {
		/* the Azure CLI before 2.54: local time "2024-05-01 12:34:56.000000" */
		struct tm tm = { 0 };
		if (strptime(json_str(v, "expiresOn"), "%Y-%m-%d %H:%M:%S", &tm) != NULL) {
			tm.tm_isdst = -1;
			t->expires_on = (double)mktime(&tm);
		}
	}
	return 0;
}

/* "AADSTS7000215: Invalid client secret provided. ..." up to the first line or Trace ID. */
static void
entra_error(const json_t *v, char *out, size_t size)
{
	const char *code = json_str(v, "error");
	const char *desc = json_str(v, "error_description");
	size_t n;

	if (code == NULL)
		code = json_path_str(v, "error", "code", NULL);
	if (desc == NULL)
		desc = json_path_str(v, "error", "message", NULL);
	if (desc == NULL)
		desc = json_str(v, "message");
	snprintf(out, size, "%s%s%s", code != NULL ? code : "", code != NULL && desc != NULL ? ": " : "",
	    desc != NULL ? desc : "");
	n = strcspn(out, "\r\n");
	out[n] = '\0';
	if (strstr(out, " Trace ID") != NULL)
		*strstr(out, " Trace ID") = '\0';
}

static int
token_from_answer(struct az_client *c, struct sync_resp *r, long status, const char *what,
    struct nw_err *err)
{
	json_t *v = r->body != NULL ? json_loadb(r->body, r->len, 0, NULL) : NULL;
	int rc;

	if (status != 200) {
		char detail[600] = "";
		if (v != NULL)
			entra_error(v, detail, sizeof(detail));
		json_decref(v);
		return err_set(err, NW_EFAIL, "cannot get a token with %s: HTTP %ld%s%s", what, status,
		    detail[0] != '\0' ? " " : "", detail);
	}
	if (v == NULL)
		return err_set(err, NW_EFAIL, "cannot get a token with %s: the answer is not JSON", what);
	rc = token_from_json(c, v, &c->token, what, err);
	{
		/* the parsed copy holds the token too */
		json_t *at = json_object_get(v, "access_token");
		if (json_is_string(at))
			az_secure_zero((char *)json_string_value(at), strlen(json_string_value(at)));
		at = json_object_get(v, "accessToken");
		if (json_is_string(at))
			az_secure_zero((char *)json_string_value(at), strlen(json_string_value(at)));
	}
	json_decref(v);
	return rc;
}

/*
 * Sends a token request (a form POST, or a GET when form is NULL) with the
 * headers h (NULL: out of memory) and keeps the token it answers.  A probe
 * sends once, briefly, and only asks whether anything answers.
 */
static int
token_request(struct az_client *c, const char *url, struct curl_slist *h, const char *form,
    bool probe_only, struct nw_err *err)
{
	struct sync_resp r = { 0 };
	long status;
	int rc;

	if (h == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	rc = http_sync(c, url, h, form, probe_only ? PROBE_TIMEOUT_MS : 0, !probe_only, &r, &status,
	    c->cred.name, err);
	if (rc == 0 && !probe_only)
		rc = token_from_answer(c, &r, status, c->cred.name, err);
	sync_resp_clear(&r);
	return rc;
}

/* --- each credential ----------------------------------------------------------------------- */

static int
fetch_client(struct az_client *c, struct nw_err *err)
{
	struct az_cred *cr = &c->cred;
	struct curl_slist *h = NULL;
	char *url = NULL, *form = NULL, *assertion = NULL;
	char *e_client = NULL, *e_scope = NULL, *e_secret = NULL;
	CURL *esc = curl_easy_init();
	int rc;

	if (esc == NULL)
		return err_set(err, NW_ENOMEM, "cannot create a libcurl handle");
	if (cr->kind == AZ_CRED_ASSERTION) {
		size_t len;
		struct nw_err ferr = { 0 };
		if (file_read_all(&assertion, &len, cr->token_file, TOKEN_MAX_BYTES, &ferr) != 0) {
			rc = err_set(err, NW_EFAIL, "cannot get a token with %s: %s", cr->name, ferr.msg);
			goto done;
		}
		while (len > 0 && (assertion[len - 1] == '\n' || assertion[len - 1] == '\r' ||
		    assertion[len - 1] == ' '))
			assertion[--len] = '\0';
		if (len == 0) {
			rc = err_set(err, NW_EFAIL, "cannot get a token with %s: the token file '%s' is empty",
			    cr->name, cr->token_file);
			goto done;
		}
	}
	if (asprintf(&url, "%s/%s/oauth2/v2.0/token", c->authority, cr->tenant) < 0) {
		url = NULL;
		rc = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	if (cr->kind == AZ_CRED_CERT) {
		/* the assertion's audience is the token endpoint it is posted to */
		char jti[40];
		az_uuid(c, jti);
		if ((rc = az_cert_assertion(&assertion, cr->cert, url, cr->client_id, az_wall(c), jti,
		    err)) != 0) {
			err_prefix(err, "cannot get a token with %s", cr->name);
			goto done;
		}
	}
	e_client = curl_easy_escape(esc, cr->client_id, 0);
	e_scope = curl_easy_escape(esc, c->scope, 0);
	e_secret = curl_easy_escape(esc, cr->kind == AZ_CRED_SECRET ? cr->secret : assertion, 0);
	if (e_client == NULL || e_scope == NULL || e_secret == NULL) {
		rc = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	if (asprintf(&form, cr->kind == AZ_CRED_SECRET ?
	    "grant_type=client_credentials&client_id=%s&scope=%s&client_secret=%s" :
	    "grant_type=client_credentials&client_id=%s&scope=%s&client_assertion_type="
	    "urn%%3Aietf%%3Aparams%%3Aoauth%%3Aclient-assertion-type%%3Ajwt-bearer&client_assertion=%s",
	    e_client, e_scope, e_secret) < 0) {
		form = NULL;
		rc = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	h = curl_slist_append(NULL, "Content-Type: application/x-www-form-urlencoded");
	if (h != NULL)
		h = curl_slist_append(h, "Accept: application/json");
	rc = token_request(c, url, h, form, false, err);
done:
	az_headers_free(h);
	free(url);
	az_secure_free(form);
	az_secure_free(assertion);
	curl_free(e_client);
	curl_free(e_scope);
	if (e_secret != NULL) {
		az_secure_zero(e_secret, strlen(e_secret));
		curl_free(e_secret);
	}
	curl_easy_cleanup(esc);
	return rc;
}

static int
fetch_managed(struct az_client *c, bool probe_only, struct nw_err *err)
{
	struct az_cred *cr = &c->cred;
	struct curl_slist *h = NULL;
	char resource[256], *url = NULL, *e_res = NULL, *e_client = NULL, *hdr = NULL;
	CURL *esc = curl_easy_init();
	const char *client = env_get(c, "AZURE_CLIENT_ID");
	int rc;

	if (esc == NULL)
		return err_set(err, NW_ENOMEM, "cannot create a libcurl handle");
	scope_resource(c->scope, resource, sizeof(resource));
	e_res = curl_easy_escape(esc, resource, 0);
	e_client = client != NULL ? curl_easy_escape(esc, client, 0) : NULL;
	if (e_res == NULL) {
		rc = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	if (cr->kind == AZ_CRED_MI_APPSERVICE) {
		if (asprintf(&url, "%s%sapi-version=2019-08-01&resource=%s%s%s", cr->endpoint,
		    strchr(cr->endpoint, '?') != NULL ? "&" : "?", e_res,
		    e_client != NULL ? "&client_id=" : "", e_client != NULL ? e_client : "") < 0 ||
		    asprintf(&hdr, "X-IDENTITY-HEADER: %s", cr->header_secret) < 0) {
			url = NULL;
			rc = err_set(err, NW_ENOMEM, "out of memory");
			goto done;
		}
		h = curl_slist_append(NULL, hdr);
	} else {
		if (asprintf(&url, "%s/metadata/identity/oauth2/token?api-version=2018-02-01&resource=%s%s%s",
		    cr->endpoint, e_res, e_client != NULL ? "&client_id=" : "",
		    e_client != NULL ? e_client : "") < 0) {
			url = NULL;
			rc = err_set(err, NW_ENOMEM, "out of memory");
			goto done;
		}
		/* the probe goes without Metadata: any HTTP answer says IMDS is there */
		h = curl_slist_append(NULL, probe_only ? "Accept: application/json" : "Metadata: true");
	}
	rc = token_request(c, url, h, NULL, probe_only, err);
done:
	az_headers_free(h);
	free(url);
	az_secure_free(hdr);
	curl_free(e_res);
	curl_free(e_client);
	curl_easy_cleanup(esc);
	return rc;
}

/* The az binary on PATH (the credential's PATH), in out; false when there is none. */
static bool
find_on_path(struct az_client *c, const char *name, char *out, size_t size)
{
	const char *path = env_get(c, "PATH");
	const char *p;

	out[0] = '\0';
	if (path == NULL)
		return false;
	for (p = path;;) {
		size_t n = strcspn(p, ":");
		struct stat st;
		int len = n > 0 ? snprintf(out, size, "%.*s/%s", (int)n, p, name) : -1;

		if (len > 0 && (size_t)len < size && stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(out, X_OK) == 0)
			return true;
		out[0] = '\0';
		if (p[n] == '\0')
			return false;
		p += n + 1;
	}
}

/* Reads what the child writes on out and errfd until both close or the deadline passes. */
static int
read_child(int outfd, int errfd, char **out, size_t *outlen, char *errtext, size_t errsize,
    double deadline)
{
	struct pollfd pfd[2] = { { outfd, POLLIN, 0 }, { errfd, POLLIN, 0 } };
	size_t cap = 4096, elen = 0;
	char *buf = malloc(cap);

	*out = NULL;
	*outlen = 0;
	errtext[0] = '\0';
	if (buf == NULL)
		return -1;
	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		double left = deadline - clock_mono();
		char tmp[4096];
		int k;

		if (left <= 0) {
			az_secure_zero(buf, *outlen);
			free(buf);
			return -2;
		}
		if (poll(pfd, 2, (int)(left * 1000) + 1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (k = 0; k < 2; k++) {
			ssize_t n;
			if (pfd[k].fd < 0 || !(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(pfd[k].fd, tmp, sizeof(tmp));
			if (n <= 0) {
				pfd[k].fd = -1;
				continue;
			}
			if (k == 0) {
				if (*outlen + (size_t)n + 1 > CLI_MAX_OUTPUT)
					continue;
				if (*outlen + (size_t)n + 1 > cap) {
					char *b = malloc(cap * 2 + (size_t)n);
					if (b == NULL)
						continue;
					memcpy(b, buf, *outlen);
					az_secure_zero(buf, *outlen);
					free(buf);
					buf = b;
					cap = cap * 2 + (size_t)n;
				}
				memcpy(buf + *outlen, tmp, (size_t)n);
				*outlen += (size_t)n;
			} else if (elen + 1 < errsize) {
				size_t m = (size_t)n < errsize - elen - 1 ? (size_t)n : errsize - elen - 1;
				memcpy(errtext + elen, tmp, m);
				elen += m;
				errtext[elen] = '\0';
			}
			az_secure_zero(tmp, sizeof(tmp));
		}
	}
	buf[*outlen] = '\0';
	*out = buf;
	return 0;
}

static int
fetch_cli(struct az_client *c, struct nw_err *err)
{
	struct az_cred *cr = &c->cred;
	const char *tenant;
	char *argv[10];
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, argc = 0, st = 0, rc, rd;
	posix_spawn_file_actions_t fa;
	char errtext[512], *out = NULL;
	size_t outlen = 0;
	json_t *v = NULL;
	pid_t pid;

	argv[argc++] = cr->az_path;
	argv[argc++] = (char *)"account";
	argv[argc++] = (char *)"get-access-token";
	argv[argc++] = (char *)"--output";
	argv[argc++] = (char *)"json";
	argv[argc++] = (char *)"--scope";
	argv[argc++] = c->scope;
	tenant = tenant_of(c);
	if (tenant != NULL && tenant_ok(tenant)) {
		argv[argc++] = (char *)"--tenant";
		argv[argc++] = (char *)tenant;
	}
	argv[argc] = NULL;
	if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
		rc = err_set(err, NW_EIO, "cannot get a token with %s: cannot make a pipe: %s", cr->name,
		    strerror(errno));
		goto done;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	/* an argv array and no shell: nothing in it is ever interpreted (CWE-78) */
	rd = posix_spawn(&pid, cr->az_path, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;
	if (rd != 0) {
		rc = err_set(err, NW_EIO, "cannot get a token with %s: cannot run '%s': %s", cr->name,
		    cr->az_path, strerror(rd));
		goto done;
	}
	c->stats.auth++;
	rd = read_child(outp[0], errp[0], &out, &outlen, errtext, sizeof(errtext),
	    clock_mono() + CLI_TIMEOUT_S);
	if (rd == -2)
		kill(pid, SIGKILL); /* the child we started, by its id */
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (rd == -2) {
		rc = err_set(err, NW_EIO, "cannot get a token with %s: 'az account get-access-token' "
		    "did not finish in %d seconds", cr->name, CLI_TIMEOUT_S);
		goto done;
	}
	if (rd != 0) {
		rc = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		errtext[strcspn(errtext, "\r\n")] = '\0';
		rc = err_set(err, NW_EFAIL, "cannot get a token with %s: 'az account get-access-token' "
		    "failed (exit %d)%s%s", cr->name, WIFEXITED(st) ? WEXITSTATUS(st) : -1,
		    errtext[0] != '\0' ? ": " : "", errtext);
		goto done;
	}
	v = json_loadb(out, outlen, 0, NULL);
	if (v == NULL) {
		rc = err_set(err, NW_EFAIL, "cannot get a token with %s: its output is not JSON", cr->name);
		goto done;
	}
	rc = token_from_json(c, v, &c->token, cr->name, err);
	{
		json_t *at = json_object_get(v, "accessToken");
		if (json_is_string(at))
			az_secure_zero((char *)json_string_value(at), strlen(json_string_value(at)));
	}
done:
	json_decref(v);
	if (out != NULL) {
		az_secure_zero(out, outlen);
		free(out);
	}
	if (outp[0] >= 0)
		close(outp[0]);
	if (errp[0] >= 0)
		close(errp[0]);
	if (outp[1] >= 0)
		close(outp[1]);
	if (errp[1] >= 0)
		close(errp[1]);
	return rc;
}

/* The exp claim of a JWT, or 0 when it is not one (opaque tokens are fine). */
static double
jwt_exp(const char *tok)
{
	const char *a = strchr(tok, '.'), *b;
	unsigned char *buf;
	size_t n = 0;
	json_t *v;
	double exp = 0;

	if (a == NULL || (b = strchr(a + 1, '.')) == NULL || b - a > 8192)
		return 0;
	/* the payload is base64url (RFC 7519 section 3) */
	buf = base64_decode(a + 1, (size_t)(b - a - 1), true, &n);
	if (buf == NULL)
		return 0;
	v = json_loadb((const char *)buf, n, 0, NULL);
	if (json_is_number(json_object_get(v, "exp")))
		exp = json_number_value(json_object_get(v, "exp"));
	json_decref(v);
	free(buf);
	return exp;
}

/* --- choosing -------------------------------------------------------------------------------- */

/* Copies the value of the variable what into dst; an error, naming only what, when too long. */
static int
set_value(char *dst, size_t size, const char *src, const char *what, struct nw_err *err)
{
	if (strlen(src) >= size)
		return err_set(err, NW_EINPUT, "%s is longer than %zu characters", what, size - 1);
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

/*
 * The environment's service principal, in EnvironmentCredential's order
 * (client secret, then certificate) and then workload identity: 1 when one
 * is configured and chosen, 0 when none is, or an error.
 */
static int
choose_environment(struct az_client *c, struct nw_err *err)
{
	struct az_cred *cr = &c->cred;
	const char *tenant = tenant_of(c);
	const char *client = env_get(c, "AZURE_CLIENT_ID");
	const char *secret = env_get(c, "AZURE_CLIENT_SECRET");
	const char *cert = env_get(c, "AZURE_CLIENT_CERTIFICATE_PATH");
	const char *fed = env_get(c, "AZURE_FEDERATED_TOKEN_FILE");
	const char *what = secret != NULL ? "AZURE_CLIENT_SECRET" : cert != NULL ?
	    "AZURE_CLIENT_CERTIFICATE_PATH" : "AZURE_FEDERATED_TOKEN_FILE";
	int rc;

	if (secret == NULL && cert == NULL && fed == NULL)
		return 0;
	if (tenant == NULL || client == NULL)
		return err_set(err, NW_EINPUT, "%s is set but %s is not", what,
		    tenant == NULL ? "AZURE_TENANT_ID (or --tenant)" : "AZURE_CLIENT_ID");
	if (!tenant_ok(tenant))
		return err_set(err, NW_EINPUT, "%s '%s' is not a tenant id or domain",
		    c->tenant != NULL ? "option '--tenant'" : "AZURE_TENANT_ID", tenant);
	if ((rc = set_value(cr->tenant, sizeof(cr->tenant), tenant, "AZURE_TENANT_ID", err)) != 0 ||
	    (rc = set_value(cr->client_id, sizeof(cr->client_id), client, "AZURE_CLIENT_ID",
	    err)) != 0)
		return rc;
	if (secret != NULL) {
		cr->kind = AZ_CRED_SECRET;
		snprintf(cr->name, sizeof(cr->name),
		    "client secret credential (AZURE_CLIENT_ID %.60s, tenant %.60s)", client, tenant);
		rc = set_value(cr->secret, sizeof(cr->secret), secret, "AZURE_CLIENT_SECRET", err);
		return rc != 0 ? rc : 1;
	}
	if (cert != NULL) {
		char thumb[41];
		const char *chain;
		bool send;
		cr->kind = AZ_CRED_CERT;
		if ((rc = az_cert_load(&cr->cert, cert, env_get(c, "AZURE_CLIENT_CERTIFICATE_PASSWORD"),
		    az_wall(c), err)) != 0)
			return rc;
		az_cert_thumbprint(cr->cert, thumb);
		chain = env_get(c, "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN");
		/* azure-identity takes "1" or "true" (any case); anything else leaves it off */
		send = chain != NULL && (strcmp(chain, "1") == 0 || strcasecmp(chain, "true") == 0);
		az_cert_send_chain(cr->cert, send);
		snprintf(cr->name, sizeof(cr->name), "client certificate credential (AZURE_CLIENT_ID "
		    "%.60s, tenant %.60s, thumbprint %s%s)", client, tenant, thumb,
		    send ? ", with x5c" : "");
		return 1;
	}
	cr->kind = AZ_CRED_ASSERTION;
	snprintf(cr->name, sizeof(cr->name), "workload identity credential (AZURE_CLIENT_ID "
	    "%.60s, tenant %.60s)", client, tenant);
	rc = set_value(cr->token_file, sizeof(cr->token_file), fed, "AZURE_FEDERATED_TOKEN_FILE", err);
	return rc != 0 ? rc : 1;
}

static int
choose(struct az_client *c, struct nw_err *err)
{
	struct az_cred *cr = &c->cred;
	const char *v;
	char tried[1024] = "";
	struct nw_err perr = { 0 };
	int rc;

	az_cred_clear(cr);
	if ((v = env_get(c, "NETWAVE_ACCESS_TOKEN")) != NULL) {
		double exp = jwt_exp(v);
		cr->kind = AZ_CRED_ACCESS_TOKEN;
		snprintf(cr->name, sizeof(cr->name), "NETWAVE_ACCESS_TOKEN");
		if (exp > 0 && exp <= az_wall(c))
			return err_set(err, NW_EFAIL, "the access token in NETWAVE_ACCESS_TOKEN has expired; "
			    "get a new one (az account get-access-token) or unset it");
		az_token_clear(&c->token);
		if ((c->token.value = strdup(v)) == NULL)
			return err_set(err, NW_ENOMEM, "out of memory");
		c->token.expires_on = exp;
		c->token.fetched_at = az_wall(c);
		return 0;
	}
	strcat(tried, "NETWAVE_ACCESS_TOKEN is not set");

	if ((rc = choose_environment(c, err)) != 0)
		return rc < 0 ? rc : 0;
	strcat(tried, "; environment: AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH and "
	    "AZURE_FEDERATED_TOKEN_FILE are not set");

	if ((v = env_get(c, "IDENTITY_ENDPOINT")) != NULL && env_get(c, "IDENTITY_HEADER") != NULL) {
		cr->kind = AZ_CRED_MI_APPSERVICE;
		snprintf(cr->name, sizeof(cr->name), "managed identity credential (IDENTITY_ENDPOINT %.120s)",
		    v);
		if ((rc = set_value(cr->endpoint, sizeof(cr->endpoint), v, "IDENTITY_ENDPOINT", err)) != 0)
			return rc;
		return set_value(cr->header_secret, sizeof(cr->header_secret),
		    env_get(c, "IDENTITY_HEADER"), "IDENTITY_HEADER", err);
	}
	v = env_get(c, "NETWAVE_IMDS_ENDPOINT");
	if (v == NULL)
		v = env_get(c, "AZURE_POD_IDENTITY_AUTHORITY_HOST");
	if (v == NULL)
		v = IMDS_DEFAULT;
	cr->kind = AZ_CRED_MI_IMDS;
	snprintf(cr->name, sizeof(cr->name), "managed identity credential (IMDS at %.120s)", v);
	if ((rc = set_value(cr->endpoint, sizeof(cr->endpoint), v, "the IMDS endpoint", err)) != 0)
		return rc;
	{
		size_t n = strlen(cr->endpoint);
		while (n > 0 && cr->endpoint[n - 1] == '/')
			cr->endpoint[--n] = '\0';
	}
	if (fetch_managed(c, true, &perr) == 0)
		return 0;
	{
		size_t n = strlen(tried);
		snprintf(tried + n, sizeof(tried) - n, "; managed identity: no IMDS answered at %.120s", v);
	}

	az_cred_clear(cr);
	if (find_on_path(c, "az", cr->az_path, sizeof(cr->az_path))) {
		cr->kind = AZ_CRED_CLI;
		snprintf(cr->name, sizeof(cr->name), "Azure CLI credential (%.200s)", cr->az_path);
		return 0;
	}
	strcat(tried, "; Azure CLI: az is not on PATH");
	return err_set(err, NW_EFAIL, "no Azure credential is available (%s); set "
	    "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, run 'az login', or see "
	    "docs/discover.md", tried);
}

static int
fetch(struct az_client *c, struct nw_err *err)
{
	switch (c->cred.kind) {
	case AZ_CRED_SECRET:
	case AZ_CRED_ASSERTION:
	case AZ_CRED_CERT:
		return fetch_client(c, err);
	case AZ_CRED_MI_APPSERVICE:
	case AZ_CRED_MI_IMDS:
		return fetch_managed(c, false, err);
	case AZ_CRED_CLI:
		return fetch_cli(c, err);
	case AZ_CRED_ACCESS_TOKEN:
		return 0;
	default:
		return err_set(err, NW_EFAIL, "no Azure credential is chosen");
	}
}

int
az_auth_ensure(struct az_client *c, struct nw_err *err)
{
	double now, margin;
	int rc;

	if (c->auth_failed) {
		*err = c->auth_err;
		return err->code;
	}
	if (!c->cred_chosen) {
		if ((rc = choose(c, err)) != 0)
			goto fail;
		c->cred_chosen = true;
		if (c->log != NULL)
			fprintf(c->log, "netwave: credential: %s\n", c->cred.name);
	}
	now = az_wall(c);
	margin = 0;
	if (c->token.expires_on > 0) {
		double life = c->token.expires_on - c->token.fetched_at;
		margin = life / 2 < REFRESH_MARGIN ? life / 2 : REFRESH_MARGIN;
	}
	if (c->token.value != NULL && !c->token_invalid &&
	    (c->token.expires_on <= 0 || now < c->token.expires_on - margin))
		return 0;
	if (c->cred.kind == AZ_CRED_ACCESS_TOKEN) {
		/* nothing to refresh with: use it and let ARM say */
		c->token_invalid = false;
		return 0;
	}
	if ((rc = fetch(c, err)) != 0)
		goto fail;
	c->token_gen++;
	c->token_invalid = false;
	return 0;
fail:
	c->auth_failed = true;
	c->auth_err = *err;
	return rc;
}
