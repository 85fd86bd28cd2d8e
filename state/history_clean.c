/*
 * What a history file is called and what goes in it: the repository path
 * of an ARM resource id (case-folded, escaped, nested by the id's
 * segments) and the canonical stored form of a resource, without its
 * volatile fields and with anything that looks like a secret redacted.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "plan/jsonutil.h"
#include "state/history_int.h"

/* ---- paths ------------------------------------------------------------ */

/*
 * Bytes that must not appear raw in a path segment: control characters,
 * the separators and reserved characters of common file systems, and '%'
 * itself so the encoding stays reversible.
 */
static bool
byte_unsafe(unsigned char c)
{
	return c < 0x20 || c == 0x7f || strchr("/\\:*?\"<>|%", c) != NULL;
}

/* Appends the encoded segment s[0..len) to buf at *pos (buf has room). */
static void
segment_encode(char *buf, size_t *pos, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		/*
		 * A leading dot would make hidden files and ".git"; a trailing
		 * dot or space is dropped by some file systems.
		 */
		bool edge = (i == 0 && c == '.') || (i == len - 1 && (c == '.' || c == ' '));

		if (byte_unsafe(c) || edge) {
			buf[(*pos)++] = '%';
			buf[(*pos)++] = hex[c >> 4];
			buf[(*pos)++] = hex[c & 15];
		} else {
			buf[(*pos)++] = (char)c;
		}
	}
}

int
history_path_for_id(char **out, const char *id, struct nw_err *err)
{
	static const char *const keywords[] = { "subscriptions", "resourceGroups", "providers" };
	const char *seg[ID_MAX_SEGMENTS];
	size_t seglen[ID_MAX_SEGMENTS];
	size_t nseg = 0, i, pos = 0;
	const char *p;
	char *buf;

	*out = NULL;
	if (id == NULL || id[0] != '/')
		return err_set(err, NW_EINPUT, "resource id '%s' does not start with '/'",
		    id != NULL ? id : "(null)");
	for (p = id + 1;;) {
		const char *slash = strchr(p, '/');
		size_t len = slash != NULL ? (size_t)(slash - p) : strlen(p);

		if (nseg == ID_MAX_SEGMENTS)
			return err_set(err, NW_EINPUT, "resource id '%s' has more than %d segments",
			    id, ID_MAX_SEGMENTS);
		if (len == 0)
			return err_set(err, NW_EINPUT, "resource id '%s' has an empty segment", id);
		if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return err_set(err, NW_EINPUT, "resource id '%s' has a '%.*s' segment; "
			    "it cannot name a file in the history", id, (int)len, p);
		seg[nseg] = p;
		seglen[nseg++] = len;
		if (slash == NULL)
			break;
		p = slash + 1;
	}
	/* a resource group itself, subscriptions/S/resourceGroups/RG: S/RG.json beside S/RG/ */
	if (nseg == 4 && seglen[0] == strlen(keywords[0]) &&
	    strncasecmp(seg[0], keywords[0], seglen[0]) == 0 && seglen[2] == strlen(keywords[1]) &&
	    strncasecmp(seg[2], keywords[1], seglen[2]) == 0) {
		if ((buf = malloc(strlen(id) * 3 + sizeof(".json"))) == NULL)
			return hi_oom(err);
		segment_encode(buf, &pos, seg[1], seglen[1]);
		buf[pos++] = '/';
		segment_encode(buf, &pos, seg[3], seglen[3]);
		memcpy(buf + pos, ".json", sizeof(".json"));
		*out = buf;
		return 0;
	}
	/* subscriptions/S/resourceGroups/RG/providers/NS/TYPE/NAME[/TYPE/NAME...] */
	if (nseg < 8 || (nseg - 6) % 2 != 0)
		goto shape;
	for (i = 0; i < 3; i++)
		if (seglen[2 * i] != strlen(keywords[i]) ||
		    strncasecmp(seg[2 * i], keywords[i], seglen[2 * i]) != 0)
			goto shape;
	buf = malloc(strlen(id) * 3 + sizeof(".json"));
	if (buf == NULL)
		return hi_oom(err);
	for (i = 1; i < nseg; i++) {
		if (i == 2 || i == 4)
			continue; /* the resourceGroups and providers keywords */
		if (pos > 0)
			buf[pos++] = '/';
		segment_encode(buf, &pos, seg[i], seglen[i]);
	}
	memcpy(buf + pos, ".json", sizeof(".json"));
	*out = buf;
	return 0;
shape:
	return err_set(err, NW_EINPUT, "resource id '%s' is not of the form /subscriptions/S/"
	    "resourceGroups/RG/providers/NAMESPACE/TYPE/NAME (or a resource group, "
	    "/subscriptions/S/resourceGroups/RG); the history keeps resource groups and what is in "
	    "them only", id);
}

/* ---- cleaning: volatile fields and secrets ---------------------------- */

/*
 * Fields that change without anyone changing the resource: concurrency
 * tokens, provisioning state, ARM's bookkeeping, timestamps and traffic
 * counters.  Removed at any depth (embedded subnets and peerings carry
 * their own), except inside "tags", which are the user's.
 */
static const char *const volatile_keys[] = {
	"etag",
	"provisioningState",
	"resourceGuid",
	"systemData",
	"gatewayManagerEtag",
	"createdAt",
	"createdTime",
	"changedTime",
	"lastModifiedAt",
	"lastModifiedTime",
	"lastModifiedUtc",
	"lastUpdatedTime",
	"ingressBytesTransferred",
	"egressBytesTransferred",
	"lastConnectionEstablishedUtcTime",
	NULL,
};

/*
 * Property names whose values are secrets, matched on the lowercased name
 * with '_' and '-' left out, as substrings: clientSecret, sharedKey,
 * authorizationKey, radiusServerSecret, adminPassword, ...
 */
static const char *const secret_name_parts[] = {
	"password", "passwd", "secret", "sharedkey", "authorizationkey", "authkey",
	"privatekey", "accesstoken", "refreshtoken", "idtoken", "bearertoken", "sastoken",
	"apikey", "accountkey", "accesskey", "servicekey", "primarykey", "secondarykey",
	"signingkey", "credential",
	NULL,
};

/*
 * Fragments of string values that carry a secret wherever they appear:
 * storage and Service Bus connection strings, SAS signatures, passwords
 * in connection strings, PEM private keys, bearer tokens.
 */
static const char *const secret_value_parts[] = {
	"accountkey=", "sharedaccesskey=", "sharedaccesssignature=", "password=", "pwd=",
	"client_secret=", "?sig=", "&sig=", "private key-----", "bearer ",
	NULL,
};

static bool
is_volatile_key(const char *key)
{
	size_t i;

	for (i = 0; volatile_keys[i] != NULL; i++)
		if (hi_ascii_ieq(key, volatile_keys[i]))
			return true;
	return false;
}

static bool
is_secret_name(const char *key)
{
	char norm[128];
	size_t i, n = 0;

	for (; *key != '\0' && n < sizeof(norm) - 1; key++)
		if (*key != '_' && *key != '-')
			norm[n++] = hi_ascii_lower(*key);
	norm[n] = '\0';
	for (i = 0; secret_name_parts[i] != NULL; i++)
		if (strstr(norm, secret_name_parts[i]) != NULL)
			return true;
	return false;
}

/* A JSON Web Token: three base64url parts, the first a JSON object ("eyJ"). */
static bool
looks_like_jwt(const char *s)
{
	size_t dots = 0, n = 0;

	if (strncmp(s, "eyJ", 3) != 0)
		return false;
	for (; *s != '\0'; s++, n++) {
		if (*s == '.')
			dots++;
		else if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '=')
			return false;
	}
	return dots == 2 && n >= 32;
}

bool
hi_is_secret_value(const char *s)
{
	const char *p;
	size_t i;

	for (p = s; *p != '\0'; p++) {
		for (i = 0; secret_value_parts[i] != NULL; i++) {
			const char *a = p, *b = secret_value_parts[i];

			while (*b != '\0' && hi_ascii_lower(*a) == *b) {
				a++;
				b++;
			}
			if (*b == '\0')
				return true;
		}
		if ((p == s || !isalnum((unsigned char)p[-1])) && looks_like_jwt(p))
			return true;
	}
	return false;
}

/*
 * Cleans v in place (v is our own deep copy).  in_tags: inside a "tags"
 * object, where nothing is volatile but secrets are still redacted.
 */
static int
clean_value(json_t *v, bool in_tags, size_t *nredacted)
{
	if (json_is_object(v)) {
		const char *key;
		json_t *child;
		void *tmp;

		json_object_foreach_safe(v, tmp, key, child) {
			if (!in_tags && is_volatile_key(key)) {
				json_object_del(v, key);
			} else if (is_secret_name(key) && !json_is_null(child)) {
				if (json_object_set_new(v, key, json_string(HISTORY_REDACTED)) != 0)
					return NW_ENOMEM;
				(*nredacted)++;
			} else if (json_is_string(child) && hi_is_secret_value(json_string_value(child))) {
				if (json_object_set_new(v, key, json_string(HISTORY_REDACTED)) != 0)
					return NW_ENOMEM;
				(*nredacted)++;
			} else if (clean_value(child, in_tags || strcmp(key, "tags") == 0,
			    nredacted) != 0) {
				return NW_ENOMEM;
			}
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *child;

		json_array_foreach(v, i, child) {
			if (json_is_string(child) && hi_is_secret_value(json_string_value(child))) {
				if (json_array_set_new(v, i, json_string(HISTORY_REDACTED)) != 0)
					return NW_ENOMEM;
				(*nredacted)++;
			} else if (clean_value(child, in_tags, nredacted) != 0) {
				return NW_ENOMEM;
			}
		}
	}
	return 0;
}

int
history_resource_clean(json_t **out, const json_t *resource, size_t *nredacted,
    struct nw_err *err)
{
	json_t *copy;
	size_t n = 0;

	*out = NULL;
	copy = json_deep_copy(resource);
	if (copy == NULL)
		return hi_oom(err);
	if (clean_value(copy, false, &n) != 0) {
		json_decref(copy);
		return hi_oom(err);
	}
	if (nredacted != NULL)
		*nredacted = n;
	*out = copy;
	return 0;
}

