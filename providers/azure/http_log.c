/*
 * The transport's --verbose log and its error messages: request and
 * response lines with every secret redacted (tokens, keys, passwords,
 * client assertions, form fields and URL query values that carry them;
 * reference/reliability-and-performance.md section 3), and libcurl's
 * failures turned into one sentence that names the host and the fix.
 * http.c calls these; nothing here sends anything.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "providers/azure/internal.h"

#define LOG_BODY_MAX 4096

/* --- redaction -------------------------------------------------------------------------- */

static bool
sensitive_key(const char *k)
{
	static const char *const keys[] = { "accesstoken", "refreshtoken", "idtoken",
		"clientsecret", "clientassertion", "assertion", "token", "password", "secret",
		"sig", "xidentityheader", NULL };
	char norm[64];
	size_t n = 0;

	for (; *k != '\0' && n + 1 < sizeof(norm); k++)
		if (*k != '_' && *k != '-')
			norm[n++] = (char)(*k >= 'A' && *k <= 'Z' ? *k - 'A' + 'a' : *k);
	norm[n] = '\0';
	return str_in(norm, keys, strcmp);
}

static void
redact_json(json_t *v)
{
	const char *k;
	json_t *e;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach(v, k, e) {
			if (sensitive_key(k) && !json_is_object(e) && !json_is_array(e))
				json_object_set_new(v, k, json_string("REDACTED"));
			else
				redact_json(e);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e)
			redact_json(e);
	}
}

static bool
looks_like_form(const char *body, size_t len)
{
	size_t i;

	if (len == 0 || memchr(body, '=', len) == NULL)
		return false;
	for (i = 0; i < len; i++)
		if (body[i] == ' ' || body[i] == '\n' || body[i] == '{' || body[i] == '"')
			return false;
	return true;
}

char *
az_redact_body(const char *body, size_t len)
{
	json_error_t je;
	json_t *v;
	char *out = NULL;

	if (body == NULL || len == 0)
		return strdup("");
	v = json_loadb(body, len, JSON_DECODE_ANY, &je);
	if (v != NULL) {
		redact_json(v);
		out = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
		json_decref(v);
		return out;
	}
	if (looks_like_form(body, len)) {
		/* key=value&key=value: keep the keys, redact sensitive values */
		size_t cap = len + 64, n = 0, i = 0;

		out = malloc(cap);
		if (out == NULL)
			return NULL;
		while (i < len) {
			size_t j = i, eq;
			char key[64];
			size_t klen;

			while (j < len && body[j] != '&')
				j++;
			for (eq = i; eq < j && body[eq] != '='; eq++)
				;
			klen = eq - i < sizeof(key) - 1 ? eq - i : sizeof(key) - 1;
			memcpy(key, body + i, klen);
			key[klen] = '\0';
			if (n + (j - i) + 16 >= cap) {
				char *bigger;
				cap = (cap + (j - i) + 16) * 2;
				if ((bigger = realloc(out, cap)) == NULL) {
					free(out);
					return NULL;
				}
				out = bigger;
			}
			if (n > 0)
				out[n++] = '&';
			if (eq < j && sensitive_key(key)) {
				memcpy(out + n, body + i, eq - i + 1);
				n += eq - i + 1;
				memcpy(out + n, "REDACTED", 8);
				n += 8;
			} else {
				memcpy(out + n, body + i, j - i);
				n += j - i;
			}
			i = j + 1;
		}
		out[n] = '\0';
		return out;
	}
	if (asprintf(&out, "[%zu bytes, not JSON: not shown]", len) < 0)
		return NULL;
	return out;
}

/* The URL with values of sensitive query parameters replaced. */
static char *
redact_url(const char *url)
{
	const char *q = strchr(url, '?');
	char *out, *body;
	size_t head;

	if (q == NULL)
		return strdup(url);
	head = (size_t)(q - url) + 1;
	body = az_redact_body(q + 1, strlen(q + 1));
	if (body == NULL)
		return NULL;
	if (body[0] == '[') {
		/* not a form: a query we cannot read is not printed */
		free(body);
		body = strdup("REDACTED");
		if (body == NULL)
			return NULL;
	}
	out = malloc(head + strlen(body) + 1);
	if (out != NULL) {
		memcpy(out, url, head);
		strcpy(out + head, body);
	}
	free(body);
	return out;
}

static void
log_body(FILE *f, const char *prefix, const char *body, size_t len)
{
	char *red;
	size_t n;

	if (body == NULL || len == 0)
		return;
	red = az_redact_body(body, len);
	if (red == NULL)
		return;
	n = strlen(red);
	if (n > LOG_BODY_MAX)
		fprintf(f, "%s%.*s ... (%zu more bytes)\n", prefix, LOG_BODY_MAX, red, n - LOG_BODY_MAX);
	else
		fprintf(f, "%s%s\n", prefix, red);
	free(red);
}

void
az_log_request(struct az_client *c, const char *method, const char *url,
    const struct curl_slist *headers, const char *body, size_t len, const char *request_id)
{
	const struct curl_slist *h;
	char *u;

	if (c->log == NULL)
		return;
	u = redact_url(url);
	fprintf(c->log, "netwave: > %s %s\n", method, u != NULL ? u : "(url)");
	free(u);
	for (h = headers; h != NULL; h = h->next) {
		const char *colon = strchr(h->data, ':');
		size_t klen = colon != NULL ? (size_t)(colon - h->data) : strlen(h->data);
		char key[64];

		snprintf(key, sizeof(key), "%.*s", (int)(klen < 63 ? klen : 63), h->data);
		if (strcasecmp(key, "Authorization") == 0 || sensitive_key(key))
			fprintf(c->log, "netwave: >   %s: REDACTED\n", key);
		else
			fprintf(c->log, "netwave: >   %s\n", h->data);
	}
	(void)request_id;
	log_body(c->log, "netwave: >   ", body, len);
}

void
az_log_response(struct az_client *c, const char *method, const char *url, long status,
    const json_t *headers, const char *body, size_t len, double ms)
{
	static const char *const shown[] = { "content-type", "date", "retry-after",
		"retry-after-ms", "x-ms-retry-after-ms", "location", "azure-asyncoperation",
		"x-ms-request-id", "x-ms-correlation-request-id", "x-ms-client-request-id",
		"x-ms-ratelimit-remaining-subscription-reads",
		"x-ms-ratelimit-remaining-subscription-writes",
		"x-ms-ratelimit-remaining-subscription-deletes", "x-ms-user-quota-remaining",
		"x-ms-user-quota-resets-after", "content-length", "content-encoding", NULL };
	const char *k;
	json_t *v;
	char *u;

	if (c->log == NULL)
		return;
	u = redact_url(url);
	fprintf(c->log, "netwave: < %ld %s %s (%.0f ms)\n", status, method, u != NULL ? u : "(url)",
	    ms);
	free(u);
	json_object_foreach((json_t *)headers, k, v) {
		size_t i;
		bool ok = false;

		for (i = 0; shown[i] != NULL; i++)
			if (strcmp(shown[i], k) == 0)
				ok = true;
		if (ok && (strcmp(k, "location") == 0 || strcmp(k, "azure-asyncoperation") == 0)) {
			char *r = redact_url(json_string_value(v));
			fprintf(c->log, "netwave: <   %s: %s\n", k, r != NULL ? r : "");
			free(r);
		} else {
			fprintf(c->log, "netwave: <   %s: %s\n", k, ok ? json_string_value(v) : "REDACTED");
		}
	}
	log_body(c->log, "netwave: <   ", body, len);
	fflush(c->log);
}

/* --- errors ------------------------------------------------------------------------------ */

void
az_curl_error(struct nw_err *err, CURLcode rc, const char *errbuf, const char *method,
    const char *url)
{
	char path[512], host[256];
	const char *detail = errbuf != NULL && errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);

	az_url_path(url, path, sizeof(path));
	az_url_host(url, host, sizeof(host));
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
#if LIBCURL_VERSION_NUM < 0x073e00
	case CURLE_SSL_CACERT:
#endif
		err_set(err, NW_EIO, "cannot %s %s: the TLS certificate of %s is not trusted (%s); "
		    "if your own CA signed it, pass that CA with --ca-file", method, path, host, detail);
		break;
	case CURLE_SSL_CACERT_BADFILE:
		err_set(err, NW_EIO, "cannot %s %s: cannot read the CA file (%s)", method, path, detail);
		break;
	case CURLE_SSL_CONNECT_ERROR:
		err_set(err, NW_EIO, "cannot %s %s: TLS handshake with %s failed (%s)", method, path,
		    host, detail);
		break;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		err_set(err, NW_EIO, "cannot %s %s: cannot connect to %s (%s)", method, path, host,
		    detail);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		err_set(err, NW_EIO, "cannot %s %s: %s did not answer in time (%s)", method, path, host,
		    detail);
		break;
	default:
		err_set(err, NW_EIO, "cannot %s %s: connection to %s failed (%s)", method, path, host,
		    detail);
		break;
	}
}
