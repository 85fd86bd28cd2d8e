/*
 * jansson and file helpers shared by every module (see jsonutil.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plan/jsonutil.h"

const char *
json_str(const json_t *obj, const char *key)
{
	json_t *v;

	if (!json_is_object(obj))
		return NULL;
	v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static json_t *
json_vpath(const json_t *obj, va_list ap)
{
	const char *key;
	json_t *cur = (json_t *)obj;

	while ((key = va_arg(ap, const char *)) != NULL) {
		if (!json_is_object(cur))
			return NULL;
		cur = json_object_get(cur, key);
		if (cur == NULL)
			return NULL;
	}
	return cur;
}

json_t *
json_path(const json_t *obj, ...)
{
	va_list ap;
	json_t *v;

	va_start(ap, obj);
	v = json_vpath(obj, ap);
	va_end(ap);
	return v;
}

bool
json_truthy(const json_t *v, bool def)
{
	if (v == NULL || json_is_null(v))
		return def;
	if (json_is_boolean(v))
		return json_is_true(v);
	if (json_is_string(v)) {
		if (strcasecmp(json_string_value(v), "true") == 0)
			return true;
		if (strcasecmp(json_string_value(v), "false") == 0)
			return false;
	}
	return def;
}

json_t *
json_object_keys_sorted(const json_t *obj, int (*cmp)(const void *, const void *))
{
	json_t *arr = json_array(), *x;
	const char **v = malloc((json_object_size(obj) + 1) * sizeof(*v)), *k;
	size_t n = 0, i;

	if (arr == NULL || v == NULL) {
		json_decref(arr);
		free(v);
		return NULL;
	}
	json_object_foreach((json_t *)obj, k, x)
		v[n++] = k;
	qsort(v, n, sizeof(*v), cmp);
	for (i = 0; i < n; i++)
		json_array_append_new(arr, json_string(v[i]));
	free(v);
	return arr;
}

bool
json_array_has_str(const json_t *arr, const char *s, int (*cmp)(const char *, const char *))
{
	const json_t *x;
	size_t i;

	json_array_foreach(arr, i, x)
		if (json_is_string(x) && cmp(json_string_value(x), s) == 0)
			return true;
	return false;
}

json_t *
json_array_find(const json_t *arr, const char *key, const char *value,
    int (*cmp)(const char *, const char *), size_t *index)
{
	json_t *x;
	size_t i;

	if (value == NULL)
		return NULL;
	json_array_foreach(arr, i, x)
		if (json_str(x, key) != NULL && cmp(json_str(x, key), value) == 0) {
			if (index != NULL)
				*index = i;
			return x;
		}
	return NULL;
}

const char *
json_text(char *buf, size_t size, const json_t *v, const char *absent, size_t max)
{
	char *s;

	if (v == NULL) {
		snprintf(buf, size, "%s", absent);
		return buf;
	}
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
	if (s != NULL && max > 3 && strlen(s) > max)
		snprintf(buf, size, "%.*s...", (int)(max - 3), s);
	else
		snprintf(buf, size, "%s", s != NULL ? s : "?");
	free(s);
	return buf;
}

const char *
str_lower(char *buf, size_t size, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < size; i++)
		buf[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
	buf[i] = '\0';
	return buf;
}

char *
str_lower_dup(const char *s)
{
	size_t n = strlen(s != NULL ? s : "") + 1;
	char *d = malloc(n);

	if (d != NULL)
		str_lower(d, n, s != NULL ? s : "");
	return d;
}

bool
str_in(const char *s, const char *const *list, int (*cmp)(const char *, const char *))
{
	for (; s != NULL && *list != NULL; list++)
		if (cmp(s, *list) == 0)
			return true;
	return false;
}

char *
str_dup_pair(const char *a, const char *b, char **b_copy)
{
	size_t la = strlen(a) + 1, lb = strlen(b) + 1;
	char *p = malloc(la + lb);

	if (p == NULL)
		return NULL;
	memcpy(p, a, la);
	*b_copy = memcpy(p + la, b, lb);
	return p;
}

bool
json_array_equal_by(const json_t *a, const json_t *b, bool (*eq)(const json_t *, const json_t *))
{
	size_t i;

	if (json_array_size(a) != json_array_size(b))
		return false;
	for (i = 0; i < json_array_size(a); i++)
		if (!eq(json_array_get(a, i), json_array_get(b, i)))
			return false;
	return true;
}

const char *
arm_id_name(const char *id)
{
	const char *s;

	if (id == NULL)
		return "";
	s = strrchr(id, '/');
	return s != NULL && s[1] != '\0' ? s + 1 : id;
}

int
time_parse_rfc3339(const char *s, time_t *out)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec, n = 0, oh = 0, om = 0;
	const char *p;
	long off = 0;

	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
	    n != 19)
		return -1;
	p = s + n;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		off = 0;
	} else if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) == 2 &&
	    n == 5 && p[6] == '\0' && oh < 24 && om < 60) {
		off = (oh * 60L + om) * 60L * (*p == '-' ? -1 : 1);
	} else {
		return -1;
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*out = timegm(&tm) - off;
	return 0;
}

size_t
json_pointer_append(char *buf, size_t n, size_t size, const char *token)
{
	if (n + 1 >= size)
		return n;
	buf[n++] = '/';
	for (; *token != '\0' && n + 2 < size; token++) {
		if (*token == '~' || *token == '/') {
			buf[n++] = '~';
			buf[n++] = *token == '~' ? '0' : '1';
		} else {
			buf[n++] = *token;
		}
	}
	buf[n] = '\0';
	return n;
}

void
json_pointer_push(char *buf, size_t size, const char *token)
{
	json_pointer_append(buf, strlen(buf), size, token);
}

const char *
json_pointer_unescape(const char *p, char *buf, size_t size)
{
	size_t n = 0;

	while (*p != '\0' && *p != '/' && n + 1 < size) {
		if (p[0] == '~' && (p[1] == '0' || p[1] == '1')) {
			buf[n++] = p[1] == '0' ? '~' : '/';
			p += 2;
		} else {
			buf[n++] = *p++;
		}
	}
	buf[n] = '\0';
	return p;
}

const char *
json_kind_name(const json_t *v, const char *const names[8])
{
	json_type t = json_typeof(v);

	return (unsigned)t < 8 ? names[t] : names[JSON_NULL];
}

bool
json_text_blank(const char **buf, size_t *len)
{
	size_t i;

	if (*len >= 3 && memcmp(*buf, "\xEF\xBB\xBF", 3) == 0) {
		*buf += 3;
		*len -= 3;
	}
	for (i = 0; i < *len; i++)
		if ((*buf)[i] != ' ' && (*buf)[i] != '\t' && (*buf)[i] != '\n' && (*buf)[i] != '\r')
			return false;
	return true;
}

void
json_pointer_push_index(char *buf, size_t size, size_t index)
{
	char tok[32];

	snprintf(tok, sizeof(tok), "%zu", index);
	json_pointer_push(buf, size, tok);
}

char *
json_dump_canonical(const json_t *v)
{
	char *s, *t;
	size_t n;

	s = json_dumps(v, JSON_CANONICAL | JSON_ENCODE_ANY);
	if (s == NULL)
		return NULL;
	n = strlen(s);
	t = realloc(s, n + 2);
	if (t == NULL) {
		free(s);
		return NULL;
	}
	t[n] = '\n';
	t[n + 1] = '\0';
	return t;
}

int
file_write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, data, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

int
file_write_atomic(const char *path, const char *data, size_t len, struct nw_err *err)
{
	char *tmp = NULL, *dircopy = NULL;
	int fd = -1, dfd = -1, rc = NW_EIO;
	struct stat st;
	size_t n;

	if (strcmp(path, "-") == 0) {
		if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
			return err_set(err, NW_EIO, "cannot write to standard output: %s", strerror(errno));
		return 0;
	}
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* a device or a pipe (-o /dev/null): renaming over it would replace it */
		if (S_ISDIR(st.st_mode))
			return err_set(err, NW_EINPUT, "cannot write '%s': is a directory", path);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || file_write_all(fd, data, len) != 0) {
			rc = err_set(err, NW_EIO, "cannot write '%s': %s", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return rc;
		}
		close(fd);
		return 0;
	}
	n = strlen(path) + 32;
	tmp = malloc(n);
	if (tmp == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err_set(err, NW_EIO, "cannot write '%s': %s", path, strerror(errno));
		goto done;
	}
	if (file_write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		err_set(err, NW_EIO, "cannot write '%s': %s", path, strerror(errno));
		goto done;
	}
	if (close(fd) != 0) {
		fd = -1;
		err_set(err, NW_EIO, "cannot write '%s': %s", path, strerror(errno));
		goto done;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		err_set(err, NW_EIO, "cannot write '%s': %s", path, strerror(errno));
		goto done;
	}
	free(tmp);
	tmp = NULL;
	dircopy = strdup(path);
	if (dircopy != NULL) {
		dfd = open(dirname(dircopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			(void)fsync(dfd);
			close(dfd);
		}
	}
	rc = 0;
done:
	if (fd >= 0)
		close(fd);
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
	}
	free(dircopy);
	return rc;
}

static int
remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

int
file_remove_tree(const char *dir)
{
	return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int
file_read_all(char **out, size_t *len, const char *path, size_t max_bytes, struct nw_err *err)
{
	FILE *f = NULL;
	char *buf = NULL, *nb;
	size_t cap = 0, n = 0;
	int rc = NW_EIO;
	bool is_stdin = strcmp(path, "-") == 0;
	struct stat st;

	*out = NULL;
	*len = 0;
	f = is_stdin ? stdin : fopen(path, "rb");
	if (f == NULL)
		/* a file that is not there is the user's mistake, not the machine's */
		return err_set(err, errno == ENOENT || errno == ENOTDIR ? NW_EINPUT : NW_EIO,
		    "cannot read '%s': %s", path, strerror(errno));
	if (!is_stdin && fstat(fileno(f), &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			rc = err_set(err, NW_EINPUT, "cannot read '%s': is a directory", path);
			goto done;
		}
		if (S_ISREG(st.st_mode) && (size_t)st.st_size > max_bytes) {
			rc = err_set(err, NW_EINPUT, "%s: file is %lld bytes, over the limit of %zu bytes",
			    path, (long long)st.st_size, max_bytes);
			goto done;
		}
	}
	for (;;) {
		size_t r;

		if (n + 1 >= cap) {
			cap = cap == 0 ? 65536 : cap * 2;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				rc = err_set(err, NW_ENOMEM, "out of memory reading '%s'", path);
				goto done;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (n > max_bytes) {
			rc = err_set(err, NW_EINPUT, "%s: input is over the limit of %zu bytes", path, max_bytes);
			goto done;
		}
		if (r == 0) {
			if (ferror(f)) {
				rc = err_set(err, NW_EIO, "cannot read '%s': %s", path, strerror(errno));
				goto done;
			}
			break;
		}
	}
	if (buf == NULL) {
		buf = malloc(1);
		if (buf == NULL) {
			rc = err_set(err, NW_ENOMEM, "out of memory");
			goto done;
		}
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
	rc = 0;
done:
	free(buf);
	if (f != NULL && !is_stdin)
		fclose(f);
	return rc;
}
