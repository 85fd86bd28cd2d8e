/*
 * Fuzz target: ARM's error answers as providers/azure reads them: the
 * CloudError body ({"error": {"code", "message", "target", "details"}},
 * a bare error object, Entra ID's {error, error_description}) made into
 * the message and struct provider_error (az_error_from_answer), the
 * Retry-After headers (az_retry_after), and the redaction of answer
 * bodies before --verbose logs them (az_redact_body).
 *
 * The input is one answer (armfake.h).  Checked: the message says what
 * failed and the HTTP status; code, message and target are ARM's when
 * they fit; the wait asked for is "none" or a finite number of seconds;
 * and no value of a secret-named field survives redaction.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "tests/fuzz/armfake.h"
#include "tests/fuzz/fuzz.h"

#define WHAT "PUT " FUZZ_SUB "/resourceGroups/rg-1"

static void
check_field(const char *got, size_t size, const json_t *from, const char *key)
{
	const char *want = json_str(from, key);

	FUZZ_CHECK(memchr(got, '\0', size) != NULL, "%s not terminated", key);
	if (want != NULL && strlen(want) < size && strchr(want, '\0') == want + strlen(want))
		FUZZ_CHECK(strcmp(got, want) == 0, "%s '%s', ARM said '%s'", key, got, want);
}

static void
check_error(const struct az_xfer *x)
{
	struct nw_err err = { 0 };
	struct provider_error perr;
	char lead[600];
	json_t *body = x->resp != NULL ? json_loadb(x->resp, x->resp_len, JSON_DECODE_ANY, NULL) :
	    NULL;
	const json_t *e = json_object_get(body, "error");

	FUZZ_CHECK(az_error_from_answer(&err, &perr, x, WHAT) == NW_EFAIL, "not a failure");
	FUZZ_CHECK(err.code == NW_EFAIL, "code %d", err.code);
	snprintf(lead, sizeof(lead), "cannot %s: HTTP %ld", WHAT, x->status);
	FUZZ_CHECK(strncmp(err.msg, lead, strlen(lead)) == 0, "message '%s'", err.msg);
	FUZZ_CHECK(perr.http_status == (int)x->status, "status %d", perr.http_status);
	if (json_is_object(e)) {
		check_field(perr.code, sizeof(perr.code), e, "code");
		check_field(perr.target, sizeof(perr.target), e, "target");
		if (json_str(e, "message") != NULL && json_str(e, "message")[0] != '\0')
			check_field(perr.message, sizeof(perr.message), e, "message");
	} else if (json_is_string(e)) {
		check_field(perr.code, sizeof(perr.code), body, "error");
	}
	json_decref(body);
}

static bool
secret_key(const char *k)
{
	static const char *const keys[] = { "access_token", "refresh_token", "id_token",
		"client_secret", "client_assertion", "password", "secret", "token", NULL };

	for (size_t i = 0; keys[i] != NULL; i++)
		if (strcasecmp(k, keys[i]) == 0)
			return true;
	return false;
}

/* Every secret-named scalar in the redacted text reads "REDACTED". */
static void
check_redacted(const json_t *v)
{
	const char *k;
	json_t *e;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, e) {
			if (secret_key(k) && !json_is_object(e) && !json_is_array(e))
				FUZZ_CHECK(json_is_string(e) && strcmp(json_string_value(e), "REDACTED") == 0,
				    "'%s' not redacted", k);
			else
				check_redacted(e);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e)
			check_redacted(e);
	}
}

/* A form body (key=value&...): every secret-named key's value reads REDACTED. */
static void
check_form(char *out)
{
	char *pair, *save = NULL;

	for (pair = strtok_r(out, "&", &save); pair != NULL; pair = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(pair, '=');
		if (eq == NULL)
			continue;
		*eq = '\0';
		if (secret_key(pair) || strcasecmp(pair, "assertion") == 0)
			FUZZ_CHECK(strcmp(eq + 1, "REDACTED") == 0, "form field '%s' not redacted", pair);
	}
}

static void
check_redaction(const struct az_xfer *x)
{
	char *out = az_redact_body(x->resp, x->resp_len);
	json_t *v;

	if (out == NULL)
		return; /* out of memory */
	v = json_loads(out, JSON_DECODE_ANY, NULL);
	if (v != NULL)
		check_redacted(v);
	else if (strchr(out, '=') != NULL)
		check_form(out);
	json_decref(v);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_arm f;
	struct az_xfer *x = NULL;
	double ra;

	if (!fuzz_arm_init(&f, data, size))
		return 0;
	x = az_xfer_new(&f.c, "PUT", FUZZ_ARM FUZZ_SUB "/resourceGroups/rg-1?api-version=2024-03-01",
	    "{}", 2, "application/json", AZ_XFER_AUTH);
	if (x == NULL || !fuzz_arm_answer(&f, x))
		goto done;
	if (x->status != 0)
		check_error(x);
	ra = az_retry_after(x);
	FUZZ_CHECK(ra == -1 || (isfinite(ra) && ra >= 0), "Retry-After gives %g seconds", ra);
	check_redaction(x);
done:
	az_xfer_free(x);
	fuzz_arm_cleanup(&f);
	return 0;
}
