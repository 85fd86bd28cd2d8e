/*
 * Authentication as Microsoft Entra ID and ARM do it, on loopback
 * (reference/azure-arm.md, section 7): the OAuth2 client-credentials
 * token endpoint (client secret or client assertion, certificate
 * assertions checked in auth_assert.c) for configured clients, an
 * IMDS-shaped managed identity endpoint, and the bearer check
 * on every ARM route (401 InvalidAuthenticationToken /
 * ExpiredAuthenticationToken) unless --no-auth.  Tokens are opaque random
 * strings from the kernel's generator with a configurable lifetime;
 * neither tokens nor secrets ever reach the request log, the state or an
 * error message.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "plan/jsonutil.h"
#include "providers/emulator/auth_assert.h"
#include "providers/emulator/emu.h"
#include "providers/emulator/tenant.h"

#define CLIENTS_FORMAT "netwave.emulator-clients/v1"
#define ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

int
auth_load_clients(struct emulator *e, const json_t *doc, struct nw_err *err)
{
	json_t *list = json_object_get(doc, "clients"), *c, *out;
	json_t *mi = json_object_get(doc, "managedIdentity");
	json_t *life = json_object_get(doc, "tokenLifetime");
	size_t i;

	if (!json_is_object(doc) || json_str(doc, "format") == NULL ||
	    strcmp(json_str(doc, "format"), CLIENTS_FORMAT) != 0)
		return err_set(err, NW_EINPUT, "clients: /format: expected \"%s\"", CLIENTS_FORMAT);
	if (!json_is_array(list))
		return err_set(err, NW_EINPUT, "clients: /clients: expected an array");
	out = json_array();
	json_array_foreach(list, i, c) {
		const char *id = json_str(c, "clientId");
		if (id == NULL || id[0] == '\0') {
			json_decref(out);
			return err_set(err, NW_EINPUT, "clients: /clients/%zu/clientId: missing", i);
		}
		if (json_str(c, "clientSecret") == NULL && json_str(c, "clientAssertion") == NULL &&
		    !json_is_true(json_object_get(c, "anyAssertion")) &&
		    json_object_get(c, "keyCredentials") == NULL) {
			json_decref(out);
			return err_set(err, NW_EINPUT, "clients: /clients/%zu: needs clientSecret, "
			    "keyCredentials, clientAssertion or anyAssertion", i);
		}
		if (auth_assert_check_keys(c, i, err) != 0) {
			json_decref(out);
			return err->code;
		}
		json_array_append(out, c);
	}
	if (tenant_load(e, doc, err) != 0 || authz_load_clients(e, doc, err) != 0) {
		json_decref(out);
		return err->code;
	}
	json_decref(e->clients);
	e->clients = out;
	if (json_str(mi, "clientId") != NULL) {
		free(e->mi_client_id);
		e->mi_client_id = emu_strdup(json_str(mi, "clientId"));
	}
	if (life != NULL) {
		if (!json_is_integer(life) || json_integer_value(life) < 1 ||
		    json_integer_value(life) > 86400 * 7)
			return err_set(err, NW_EINPUT, "clients: /tokenLifetime: seconds from 1 to 604800");
		e->token_lifetime = (unsigned)json_integer_value(life);
	}
	return 0;
}

void
auth_free(struct emulator *e)
{
	json_decref(e->clients);
	json_decref(e->tokens);
	json_decref(e->directory);
	json_decref(e->role_defs);
	e->role_defs = NULL;
	e->clients = NULL;
	e->tokens = NULL;
	e->directory = NULL;
}

/* Compares without stopping at the first difference. */
static bool
same_secret(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = (unsigned char)(la != lb);

	for (i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

static int
new_token(struct emulator *e, char out[80], const char *tenant, const char *client)
{
	unsigned char raw[32];
	size_t i;
	const char *k;
	json_t *v;
	void *tmp;
	double now = clock_wall();

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -1;
	snprintf(out, 80, "nwemu_");
	for (i = 0; i < sizeof(raw); i++)
		snprintf(out + 6 + 2 * i, 3, "%02x", raw[i]);
	/* forget expired tokens now and then */
	if (json_object_size(e->tokens) > 10000)
		json_object_foreach_safe(e->tokens, tmp, k, v)
			if (json_real_value(json_object_get(v, "exp")) < now)
				json_object_del(e->tokens, k);
	json_object_set_new(e->tokens, out, json_pack("{s:f,s:s,s:s}", "exp",
	    now + e->token_lifetime, "tenant", tenant, "clientId", client));
	return 0;
}

/* Entra ID's error shape. */
static void
aad_error(struct emu_req *r, int status, const char *error, int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
aad_error(struct emu_req *r, int status, const char *error, int code, const char *fmt, ...)
{
	char msg[1024], desc[1400], when[40];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emu_time_iso(clock_wall(), when);
	snprintf(desc, sizeof(desc), "AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
	    code, msg, r->request_id, r->correlation_id, when);
	emu_reply_json(r, status, json_pack("{s:s,s:s,s:[i],s:s,s:s,s:s}", "error", error,
	    "error_description", desc, "error_codes", code, "timestamp", when, "trace_id",
	    r->request_id, "correlation_id", r->correlation_id));
}

static char *
form_decode(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t i, o = 0;

	if (out == NULL)
		return NULL; /* out of memory: the field is missing, and the request is refused */
	for (i = 0; i < n; i++) {
		if (s[i] == '+')
			out[o++] = ' ';
		else if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2])) {
			char hex[3] = { s[i + 1], s[i + 2], 0 };
			char *end;
			long v = strtol(hex, &end, 16);
			if (*end == '\0') {
				out[o++] = (char)v;
				i += 2;
			} else {
				out[o++] = s[i];
			}
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
}

/* Parses application/x-www-form-urlencoded into an object (new reference). */
static json_t *
form_parse(const char *body)
{
	json_t *out = json_object();
	const char *p = body != NULL ? body : "";

	while (*p != '\0') {
		const char *amp = strchr(p, '&'), *eq;
		size_t len = amp != NULL ? (size_t)(amp - p) : strlen(p);
		char *k, *v;

		eq = memchr(p, '=', len);
		if (eq != NULL) {
			k = form_decode(p, (size_t)(eq - p));
			v = form_decode(eq + 1, len - (size_t)(eq - p) - 1);
			json_object_set_new(out, k, json_string(v));
			free(k);
			free(v);
		}
		p += len;
		if (*p == '&')
			p++;
	}
	return out;
}

static json_t *
find_client(struct emulator *e, const char *tenant, const char *client_id)
{
	json_t *c;
	size_t i;

	json_array_foreach(e->clients, i, c) {
		const char *t = json_str(c, "tenantId");
		if (strcmp(json_str(c, "clientId"), client_id) == 0 &&
		    (t == NULL || strcmp(t, "*") == 0 || strcasecmp(t, tenant) == 0))
			return c;
	}
	return NULL;
}

void
auth_token(struct emulator *e, struct emu_req *r, const char *tenant)
{
	json_t *form = NULL, *client;
	const char *grant, *cid, *secret, *atype, *assertion, *scope;
	char token[80];

	if (strcmp(r->method, "POST") != 0) {
		aad_error(r, 405, "invalid_request", 900561,
		    "The endpoint only accepts POST requests. Received a %s request.", r->method);
		return;
	}
	form = form_parse(r->body);
	grant = json_str(form, "grant_type");
	cid = json_str(form, "client_id");
	secret = json_str(form, "client_secret");
	atype = json_str(form, "client_assertion_type");
	assertion = json_str(form, "client_assertion");
	scope = json_str(form, "scope");
	emu_op_name(r, "token for %s", cid != NULL ? cid : "(no client)");
	if (grant == NULL || strcmp(grant, "client_credentials") != 0) {
		aad_error(r, 400, "unsupported_grant_type", 70003,
		    "The app requested an unsupported grant type '%s'.", grant != NULL ? grant : "");
		goto done;
	}
	if (cid == NULL || cid[0] == '\0') {
		aad_error(r, 400, "invalid_request", 900144,
		    "The request body must contain the following parameter: 'client_id'.");
		goto done;
	}
	if (scope == NULL || strlen(scope) < 9 || strcmp(scope + strlen(scope) - 9, "/.default") != 0) {
		aad_error(r, 400, "invalid_scope", 1002012,
		    "The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).",
		    scope != NULL ? scope : "(none)");
		goto done;
	}
	if ((secret == NULL || secret[0] == '\0') && (assertion == NULL || assertion[0] == '\0')) {
		aad_error(r, 401, "invalid_client", 7000218,
		    "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
		goto done;
	}
	if (assertion != NULL && (atype == NULL || strcmp(atype, ASSERTION_TYPE) != 0)) {
		aad_error(r, 401, "invalid_client", 700024,
		    "Client assertion type is not %s.", ASSERTION_TYPE);
		goto done;
	}
	if (e->clients != NULL) {
		client = find_client(e, tenant, cid);
		if (client == NULL) {
			aad_error(r, 400, "unauthorized_client", 700016,
			    "Application with identifier '%s' was not found in the directory '%s'.", cid,
			    tenant);
			goto done;
		}
		if (secret != NULL && secret[0] != '\0') {
			const char *want = json_str(client, "clientSecret");
			if (want == NULL || !same_secret(secret, want)) {
				aad_error(r, 401, "invalid_client", 7000215,
				    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.",
				    cid);
				goto done;
			}
		} else if (json_object_get(client, "keyCredentials") != NULL) {
			/* the assertion's audience is this token endpoint, as the client addressed it */
			char *aud = emu_printf("%s/%s/oauth2/v2.0/token", r->base, tenant);
			struct auth_assert_fail f;
			bool ok = auth_assert_verify(client, assertion, cid, aud, clock_wall(), &f);
			free(aud);
			if (!ok) {
				aad_error(r, f.status, f.error, f.code, "%s", f.msg);
				goto done;
			}
		} else {
			const char *want = json_str(client, "clientAssertion");
			bool any = json_is_true(json_object_get(client, "anyAssertion"));
			if (!any && (want == NULL || !same_secret(assertion, want))) {
				aad_error(r, 401, "invalid_client", 700027,
				    "Client assertion failed signature validation.");
				goto done;
			}
		}
	}
	if (new_token(e, token, tenant, cid) != 0) {
		aad_error(r, 500, "temporarily_unavailable", 90033,
		    "A transient error has occurred. Please try again.");
		goto done;
	}
	emu_reply_json(r, 200, json_pack("{s:s,s:i,s:i,s:s}", "token_type", "Bearer", "expires_in",
	    (int)e->token_lifetime, "ext_expires_in", (int)e->token_lifetime, "access_token", token));
done:
	json_decref(form);
}

void
auth_imds(struct emulator *e, struct emu_req *r)
{
	const char *meta = emu_header_in(r, "metadata");
	const char *api = emu_query(r, "api-version");
	const char *resource = emu_query(r, "resource");
	const char *cid = emu_query(r, "client_id");
	char token[80], exp[32], nbf[32], life[32];
	double now = clock_wall();

	emu_op_name(r, "managed identity token");
	if (strcmp(r->method, "GET") != 0) {
		emu_reply_json(r, 405, json_pack("{s:s,s:s}", "error", "invalid_request",
		    "error_description", "Only GET is supported"));
		return;
	}
	if (meta == NULL || strcasecmp(meta, "true") != 0) {
		emu_reply_json(r, 400, json_pack("{s:s,s:s}", "error", "invalid_request",
		    "error_description", "Required metadata header not specified"));
		return;
	}
	if (api == NULL) {
		emu_reply_json(r, 400, json_pack("{s:s,s:s}", "error", "invalid_request",
		    "error_description", "Required query variable 'api-version' is missing"));
		return;
	}
	if (resource == NULL || resource[0] == '\0') {
		emu_reply_json(r, 400, json_pack("{s:s,s:s}", "error", "invalid_request",
		    "error_description", "Required query variable 'resource' is missing"));
		return;
	}
	if (cid != NULL && strcmp(cid, e->mi_client_id) != 0) {
		emu_reply_json(r, 400, json_pack("{s:s,s:s}", "error", "invalid_request",
		    "error_description", "Identity not found"));
		return;
	}
	if (new_token(e, token, "managed-identity", e->mi_client_id) != 0) {
		emu_reply_json(r, 500, json_pack("{s:s,s:s}", "error", "temporarily_unavailable",
		    "error_description", "A transient error has occurred"));
		return;
	}
	/* IMDS sends every number as a string */
	snprintf(exp, sizeof(exp), "%lld", (long long)(now + e->token_lifetime));
	snprintf(nbf, sizeof(nbf), "%lld", (long long)now);
	snprintf(life, sizeof(life), "%u", e->token_lifetime);
	emu_reply_json(r, 200, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "access_token", token,
	    "client_id", e->mi_client_id, "expires_in", life, "expires_on", exp, "ext_expires_in", life,
	    "not_before", nbf, "resource", resource, "token_type", "Bearer"));
}

/*
 * MSAL (behind @azure/identity) reads this document before it asks for a
 * token from any authority it does not know, and refuses to go on without
 * it (endpoints_resolution_error): the four fields it checks are
 * authorization_endpoint, token_endpoint, issuer and jwks_uri.  The shape
 * is Entra ID's, with the emulator's own base URL as the host, so the
 * token endpoint MSAL then calls is this server's.
 */
void
auth_openid(struct emulator *e, struct emu_req *r, const char *tenant)
{
	char *pre;

	(void)e;
	emu_op_name(r, "openid configuration");
	if (strcmp(r->method, "GET") != 0) {
		aad_error(r, 405, "invalid_request", 900561,
		    "The endpoint only accepts GET requests.");
		return;
	}
	pre = emu_printf("%s/%s", r->base, tenant);
	emu_reply_json(r, 200, json_pack("{s:s+,s:[sss],s:s+,s:[sss],s:[s],s:[s],s:[ssss],"
	    "s:[ssss],s:s+,s:b,s:s,s:s+,s:s+,s:b,s:b,s:s+,s:s,s:s,s:s}",
	    "token_endpoint", pre, "/oauth2/v2.0/token",
	    "token_endpoint_auth_methods_supported", "client_secret_post", "private_key_jwt",
	    "client_secret_basic",
	    "jwks_uri", pre, "/discovery/v2.0/keys",
	    "response_modes_supported", "query", "fragment", "form_post",
	    "subject_types_supported", "pairwise",
	    "id_token_signing_alg_values_supported", "RS256",
	    "response_types_supported", "code", "id_token", "code id_token", "id_token token",
	    "scopes_supported", "openid", "profile", "email", "offline_access",
	    "issuer", pre, "/v2.0",
	    "request_uri_parameter_supported", 0,
	    "userinfo_endpoint", "https://graph.microsoft.com/oidc/userinfo",
	    "authorization_endpoint", pre, "/oauth2/v2.0/authorize",
	    "device_authorization_endpoint", pre, "/oauth2/v2.0/devicecode",
	    "http_logout_supported", 1,
	    "frontchannel_logout_supported", 1,
	    "end_session_endpoint", pre, "/oauth2/v2.0/logout",
	    "cloud_instance_name", "microsoftonline.com",
	    "cloud_graph_host_name", "graph.windows.net",
	    "msgraph_host", "graph.microsoft.com"));
	free(pre);
}

/* The tokens are opaque, not signed JWTs: there are no keys to publish. */
void
auth_jwks(struct emulator *e, struct emu_req *r)
{
	(void)e;
	emu_op_name(r, "signing keys");
	emu_reply_json(r, 200, json_pack("{s:[]}", "keys"));
}

/*
 * ARM's 401: the challenge names the token endpoint and why (the
 * description), the CloudError code and message say the same.
 */
static bool
unauthenticated(struct emu_req *r, const char *why, const char *code, const char *message)
{
	emu_header(r, "WWW-Authenticate",
	    "Bearer authorization_uri=\"%s/common/oauth2/v2.0/authorize\", error=\"invalid_token\", error_description=\"%s\"",
	    r->base, why);
	emu_reply_error(r, 401, code, "%s", message);
	emu_op_name(r, "unauthenticated");
	return false;
}

bool
auth_check(struct emulator *e, struct emu_req *r)
{
	const char *h = emu_header_in(r, "authorization");
	json_t *t;
	double exp, now;

	if (e->no_auth)
		return true;
	if (h == NULL)
		return unauthenticated(r,
		    "The authentication failed because of missing 'Authorization' header.",
		    "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.");
	if (strncasecmp(h, "Bearer ", 7) != 0 || h[7] == '\0')
		return unauthenticated(r,
		    "The authentication failed because of an invalid 'Authorization' header.",
		    "AuthenticationFailed",
		    "Authentication failed. The 'Authorization' header is provided in an invalid format.");
	t = json_object_get(e->tokens, h + 7);
	if (t == NULL)
		return unauthenticated(r, "The access token is invalid.", "InvalidAuthenticationToken",
		    "The access token is invalid.");
	exp = json_real_value(json_object_get(t, "exp"));
	now = clock_wall();
	if (exp <= now) {
		char a[40], b[40], msg[160];
		emu_time_iso(exp, a);
		emu_time_iso(now, b);
		snprintf(msg, sizeof(msg),
		    "The access token expiry UTC time '%s' is earlier than current UTC time '%s'.", a, b);
		return unauthenticated(r, "The access token has expired.", "ExpiredAuthenticationToken", msg);
	}
	/* who is asking, for the role assignments (authz.c); NULL for the managed identity */
	if (json_str(t, "tenant") != NULL && json_str(t, "clientId") != NULL)
		r->caller = find_client(e, json_str(t, "tenant"), json_str(t, "clientId"));
	return true;
}
