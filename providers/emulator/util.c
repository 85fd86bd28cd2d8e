/*
 * Small helpers every file of the emulator uses, below everything else:
 * strings, the seeded generator, clocks, setting an answer on a request,
 * and reading ARM ids.  Nothing here calls another emulator file, so
 * handlers, the store and the operations module can all use it without
 * calling back into each other.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "plan/jsonutil.h"
#include "providers/emulator/emu.h"

/* --- small helpers ------------------------------------------------------ */

char *
emu_strdup(const char *s)
{
	return strdup(s != NULL ? s : "");
}

char *
emu_printf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

char *
emu_lower_printf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL, *q;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	for (q = s; *q != '\0'; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
	return s;
}

char *
emu_lower(const char *s)
{
	char *p = emu_strdup(s);
	char *q;

	if (p == NULL)
		return NULL;
	for (q = p; *q != '\0'; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
	return p;
}

uint64_t
emu_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void
emu_guid(struct emulator *e, char out[40])
{
	uint64_t a = emu_rand(&e->id_rng), b = emu_rand(&e->id_rng);

	uuid_v4_text(out, a, b);
}

void
emu_time_iso(double epoch, char out[40])
{
	time_t t = (time_t)floor(epoch);
	long frac = (long)((epoch - floor(epoch)) * 1e7);
	struct tm tm;

	if (frac > 9999999)
		frac = 9999999;
	char day[24];

	gmtime_r(&t, &tm);
	if (strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		day[0] = '\0';
	snprintf(out, 40, "%s.%07ldZ", day, frac);
}

double
emu_scaled(const struct emulator *e, double nominal)
{
	return nominal / e->scale;
}

/* --- answers ------------------------------------------------------------ */

void
emu_reply_json(struct emu_req *r, int status, json_t *body)
{
	free(r->resp);
	r->resp = NULL;
	r->status = status;
	if (body != NULL) {
		r->resp = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(body);
		if (r->resp == NULL)
			r->status = 500;
	}
}

void
emu_reply_error(struct emu_req *r, int status, const char *code, const char *fmt, ...)
{
	va_list ap;
	char msg[2048];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emu_reply_json(r, status, json_pack("{s:{s:s,s:s}}", "error", "code", code,
	    "message", msg));
}

void
emu_reply_no_path(struct emu_req *r)
{
	emu_reply_error(r, 404, "NotFound", "The requested path '%s' was not found.", r->path);
}

void
emu_reply_bad_method(struct emu_req *r)
{
	emu_reply_error(r, 405, "MethodNotAllowed",
	    "The requested resource does not support http method '%s'.", r->method);
}

void
emu_reply_oom(struct emu_req *r)
{
	free(r->resp);
	r->status = 500;
	/* ARM's CloudError for a failure of its own; without memory for it, no body */
	r->resp = strdup("{\"error\":{\"code\":\"InternalServerError\",\"message\":"
	    "\"The server ran out of memory serving the request.\"}}");
}

void
emu_reply_empty(struct emu_req *r, int status)
{
	free(r->resp);
	r->resp = NULL;
	r->status = status;
}

void
emu_header(struct emu_req *r, const char *name, const char *fmt, ...)
{
	va_list ap;
	char v[2048];

	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	json_object_set_new(r->resp_hdr, name, json_string(v));
}

const char *
emu_query(const struct emu_req *r, const char *name)
{
	const char *k;
	json_t *v;

	json_object_foreach(r->query, k, v)
		if (strcasecmp(k, name) == 0)
			return json_string_value(v);
	return NULL;
}

const char *
emu_header_in(const struct emu_req *r, const char *lname)
{
	return json_str(r->hdr, lname);
}

void
emu_op_name(struct emu_req *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->op, sizeof(r->op), fmt, ap);
	va_end(ap);
}

/* --- ARM ids ------------------------------------------------------------------ */

int
emu_split(const char *path, char ***out, size_t *count)
{
	char **v = NULL;
	size_t n = 0;
	const char *p = path;

	*out = NULL;
	*count = 0;
	while (*p != '\0') {
		const char *s;
		char **nv;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		s = p;
		while (*p != '\0' && *p != '/')
			p++;
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (nv == NULL)
			goto oom;
		v = nv;
		v[n] = strndup(s, (size_t)(p - s));
		if (v[n] == NULL)
			goto oom;
		n++;
	}
	*out = v;
	*count = n;
	return 0;
oom:
	emu_split_free(v, n);
	return -1;
}

void
emu_split_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

char *
arm_id_part(const char *id, const char *key)
{
	char **seg;
	size_t n, i;
	char *out = NULL;

	if (emu_split(id, &seg, &n) != 0)
		return NULL;

	for (i = 0; i + 1 < n; i++)
		if (strcasecmp(seg[i], key) == 0) {
			out = emu_strdup(seg[i + 1]);
			break;
		}
	emu_split_free(seg, n);
	return out;
}

char *
arm_id_parent(const char *id)
{
	char *p = emu_strdup(id);
	int cut = 0;
	size_t i;

	if (p == NULL)
		return NULL;
	for (i = strlen(p); i > 0; i--)
		if (p[i - 1] == '/' && ++cut == 2) {
			p[i - 1] = '\0';
			return p;
		}
	free(p);
	return NULL;
}

void
arm_set_state(json_t *obj, const char *state)
{
	json_t *props = json_object_get(obj, "properties");

	if (!json_is_object(props)) {
		props = json_object();
		json_object_set_new(obj, "properties", props);
	}
	json_object_set_new(props, "provisioningState", json_string(state));
}

const char *
emu_id_last(const char *id)
{
	const char *s = strrchr(id, '/');
	return s != NULL ? s + 1 : id;
}

