/*
 * The history repository (history.h): discover, apply and rollback hand
 * it the resources they saw; it keeps one canonical JSON file per
 * resource in a git repository and commits when something changed, so
 * `git log -p` in the history directory is the audit trail of an estate.
 *
 * Trees are built in memory from HEAD's tree (no index is involved in a
 * commit), the branch moves by compare-and-swap, and only then is the
 * working tree checked out for people who browse it.  A netwave-owned
 * lock file (.git/netwave.lock) keeps two netwave processes apart and
 * tells us whether a git lock file left behind belongs to a dead one.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>

#include "plan/jsonutil.h"
#include "state/history.h"

/* The config key that marks a repository as a netwave history. */
#define HISTORY_CONFIG_KEY "netwave.history"
#define HISTORY_CONFIG_VALUE "v1"

#define LOCK_NAME "netwave.lock"
/* A lock file we cannot parse is being written, unless it is older than this. */
#define LOCK_UNREADABLE_GRACE_SECONDS 10
#define LOCK_POLL_MS 50
/* ARM ids are short; this bounds the tree depth and the work per id. */
#define ID_MAX_SEGMENTS 64

struct history {
	git_repository *repo;
	char *dir;       /* as given, for messages */
	char *gitdir;    /* the .git directory, with a trailing slash */
	char *lock_path; /* gitdir + LOCK_NAME */
	bool locked;     /* this struct holds the lock */
	unsigned lock_wait_ms;
	/*
	 * When we broke a dead netwave's lock: the time it was taken.  Git
	 * lock files made after it were made by that process, so they are
	 * stale however young they are.  0 when not.
	 */
	time_t recovered_since;
};

/* ---- errors ----------------------------------------------------------- */

static int
status_from_git(int rc, const git_error *e)
{
	if (e != NULL && e->klass == GIT_ERROR_NOMEMORY)
		return NW_ENOMEM;
	switch (rc) {
	case GIT_ELOCKED:
		return NW_ELOCKED;
	case GIT_ENOTFOUND:
	case GIT_EAMBIGUOUS:
	case GIT_EINVALIDSPEC:
	case GIT_EUNBORNBRANCH:
	case GIT_EOWNER:
	case GIT_EBAREREPO:
		return NW_EINPUT;
	default:
		return NW_EIO;
	}
}

static int err_from_git(struct nw_err *err, const struct history *h, const char *dir, int rc,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * Translates a libgit2 failure once, where it enters our code: "<what> in
 * history '<dir>': <libgit2's message>".  git_error_last() is read first,
 * before anything else can overwrite it.
 */
static int
err_from_git(struct nw_err *err, const struct history *h, const char *dir, int rc,
    const char *fmt, ...)
{
	const git_error *e = git_error_last();
	char msg[512], what[512];
	va_list ap;

	snprintf(msg, sizeof(msg), "%s", e != NULL && e->message != NULL ? e->message :
	    "unknown libgit2 error");
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return err_set(err, status_from_git(rc, e), "%s in history '%s': %s (libgit2 %d)", what,
	    h != NULL ? h->dir : dir, msg, rc);
}

static int
oom(struct nw_err *err)
{
	return err_set(err, NW_ENOMEM, "out of memory");
}

static void
oid_hex(char out[HISTORY_ID_SIZE], const git_oid *oid)
{
	git_oid_fmt(out, oid);
	out[HISTORY_ID_HEX] = '\0';
}

static void
time_rfc3339(char *buf, size_t size, time_t t)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "%lld", (long long)t);
}

static char
ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool
ascii_ieq(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
		if (ascii_lower(*a) != ascii_lower(*b))
			return false;
	return *a == *b;
}

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
			return oom(err);
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
		return oom(err);
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
		if (ascii_ieq(key, volatile_keys[i]))
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
			norm[n++] = ascii_lower(*key);
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

static bool
is_secret_value(const char *s)
{
	const char *p;
	size_t i;

	for (p = s; *p != '\0'; p++) {
		for (i = 0; secret_value_parts[i] != NULL; i++) {
			const char *a = p, *b = secret_value_parts[i];

			while (*b != '\0' && ascii_lower(*a) == *b) {
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
			} else if (json_is_string(child) && is_secret_value(json_string_value(child))) {
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
			if (json_is_string(child) && is_secret_value(json_string_value(child))) {
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
		return oom(err);
	if (clean_value(copy, false, &n) != 0) {
		json_decref(copy);
		return oom(err);
	}
	if (nredacted != NULL)
		*nredacted = n;
	*out = copy;
	return 0;
}

/* ---- the netwave lock ------------------------------------------------- */

/* The start time of a process in clock ticks since boot (Linux); false when unknown. */
static bool
proc_start_time(long pid, unsigned long long *out)
{
	char path[64], buf[1024];
	const char *p;
	FILE *f;
	size_t n;
	int field;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "re");
	if (f == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* the command name (field 2) may hold spaces and parentheses: skip past the last ')' */
	p = strrchr(buf, ')');
	if (p == NULL)
		return false;
	p++;
	for (field = 2; field < 21; field++) {
		p = strchr(p + 1, ' ');
		if (p == NULL)
			return false;
	}
	return sscanf(p, " %llu", out) == 1;
}

static void
host_name(char *buf, size_t size)
{
	if (gethostname(buf, size) != 0 || buf[0] == '\0')
		snprintf(buf, size, "localhost");
	buf[size - 1] = '\0';
	/* the lock file is space-separated */
	for (; *buf != '\0'; buf++)
		if (isspace((unsigned char)*buf))
			*buf = '_';
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Reads a small file into buf; -1 with errno on failure. */
static ssize_t
read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

struct lock_holder {
	bool parsed;
	long pid;
	unsigned long long start; /* 0 when unknown */
	char host[256];
};

static void
holder_parse(struct lock_holder *lh, const char *content)
{
	memset(lh, 0, sizeof(*lh));
	lh->parsed = sscanf(content, "pid=%ld start=%llu host=%255s", &lh->pid, &lh->start,
	    lh->host) == 3 && lh->pid > 0;
}

/* Whether the holder is certainly gone.  A holder on another host is taken to be alive. */
static bool
holder_dead(const struct lock_holder *lh, time_t age)
{
	char host[256];
	unsigned long long start;

	if (!lh->parsed)
		return age > LOCK_UNREADABLE_GRACE_SECONDS;
	host_name(host, sizeof(host));
	if (strcmp(host, lh->host) != 0)
		return false;
	if (kill((pid_t)lh->pid, 0) != 0 && errno == ESRCH)
		return true;
	/* alive, unless the pid was reused by a process started later */
	return lh->start != 0 && proc_start_time(lh->pid, &start) && start != lh->start;
}

/*
 * Removes a lock judged dead whose content was `seen`.  It is renamed
 * first and checked: if another process broke it and took the lock in
 * between, the name now holds that process's lock, which is put back.
 */
static int
lock_break(struct history *h, const char *seen, struct nw_err *err)
{
	char aside[4096], now[512];
	struct stat st;

	snprintf(aside, sizeof(aside), "%s.stale.%ld", h->lock_path, (long)getpid());
	if (rename(h->lock_path, aside) != 0) {
		if (errno == ENOENT)
			return 0;
		return err_set(err, NW_EIO, "cannot remove stale lock '%s': %s", h->lock_path,
		    strerror(errno));
	}
	if (read_small(aside, now, sizeof(now)) >= 0 && strcmp(now, seen) != 0) {
		if (link(aside, h->lock_path) != 0 && errno != EEXIST) {
			int e = errno;
			unlink(aside);
			return err_set(err, NW_EIO, "cannot restore lock '%s': %s", h->lock_path,
			    strerror(e));
		}
		unlink(aside);
		return 0;
	}
	if (stat(aside, &st) == 0)
		h->recovered_since = st.st_mtime;
	unlink(aside);
	return 0;
}

static int
lock_create(struct history *h, struct nw_err *err)
{
	char content[512], host[256];
	unsigned long long start = 0;
	size_t len, off = 0;
	int fd;

	host_name(host, sizeof(host));
	(void)proc_start_time((long)getpid(), &start);
	snprintf(content, sizeof(content), "pid=%ld start=%llu host=%s\n", (long)getpid(), start,
	    host);
	len = strlen(content);
	fd = open(h->lock_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno == EEXIST ? 1 : err_set(err, NW_EIO, "cannot create lock '%s': %s",
		    h->lock_path, strerror(errno));
	while (off < len) {
		ssize_t n = write(fd, content + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = errno;
			close(fd);
			unlink(h->lock_path);
			return err_set(err, NW_EIO, "cannot write lock '%s': %s", h->lock_path,
			    strerror(e));
		}
		off += (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		int e = errno;
		unlink(h->lock_path);
		return err_set(err, NW_EIO, "cannot write lock '%s': %s", h->lock_path, strerror(e));
	}
	return 0;
}

int
history_lock(struct history *h, struct nw_err *err)
{
	uint64_t deadline = now_ms() + h->lock_wait_ms;
	int rc;

	if (h->locked)
		return err_set(err, NW_EINPUT, "history '%s' is already locked by this caller", h->dir);
	h->recovered_since = 0;
	for (;;) {
		struct lock_holder lh;
		char content[512], since[32];
		struct stat st;
		time_t age;

		if ((rc = lock_create(h, err)) <= 0) {
			if (rc == 0)
				h->locked = true;
			return rc;
		}
		if (read_small(h->lock_path, content, sizeof(content)) < 0 ||
		    stat(h->lock_path, &st) != 0) {
			if (errno == ENOENT)
				continue; /* released while we looked */
			return err_set(err, NW_EIO, "cannot read lock '%s': %s", h->lock_path,
			    strerror(errno));
		}
		age = time(NULL) - st.st_mtime;
		holder_parse(&lh, content);
		if (holder_dead(&lh, age)) {
			if ((rc = lock_break(h, content, err)) != 0)
				return rc;
			continue;
		}
		if (now_ms() >= deadline) {
			time_rfc3339(since, sizeof(since), st.st_mtime);
			if (!lh.parsed)
				return err_set(err, NW_ELOCKED, "history '%s' is locked: '%s' is being "
				    "written by another process", h->dir, h->lock_path);
			return err_set(err, NW_ELOCKED, "history '%s' is locked by netwave process "
			    "%ld%s on %s since %s (%s); try again when it has finished", h->dir,
			    lh.pid, lh.pid == (long)getpid() ? " (this process)" : "", lh.host, since,
			    h->lock_path);
		}
		{
			struct timespec ts = { 0, LOCK_POLL_MS * 1000000L };
			nanosleep(&ts, NULL);
		}
	}
}

void
history_unlock(struct history *h)
{
	if (h == NULL || !h->locked)
		return;
	unlink(h->lock_path);
	h->locked = false;
}

void
history_lock_wait_set(struct history *h, unsigned ms)
{
	h->lock_wait_ms = ms;
}

/*
 * Git's own lock files that a record may meet.  We hold netwave.lock, so
 * no netwave process made them; a crashed one did when they are old or
 * younger than the dead netwave lock we broke, a live git command did
 * otherwise.  Stale ones are removed; a live one is NW_ELOCKED.
 */
static int
git_locks_clear(struct history *h, const char *const *refs, size_t nrefs, struct nw_err *err)
{
	static const char *const fixed[] = { "index", "HEAD", "packed-refs", "config" };
	size_t i, nfixed = sizeof(fixed) / sizeof(fixed[0]);
	time_t now = time(NULL);

	for (i = 0; i < nfixed + nrefs; i++) {
		const char *name = i < nfixed ? fixed[i] : refs[i - nfixed];
		char path[4096];
		struct stat st;
		bool stale;

		if (name == NULL)
			continue;
		snprintf(path, sizeof(path), "%s%s.lock", h->gitdir, name);
		if (lstat(path, &st) != 0)
			continue;
		stale = now - st.st_mtime >= HISTORY_STALE_LOCK_SECONDS ||
		    (h->recovered_since != 0 && st.st_mtime >= h->recovered_since - 1);
		if (!stale)
			return err_set(err, NW_ELOCKED, "history '%s' is locked: git lock '%s' was made "
			    "%lld s ago by another process; if no git command is running in the "
			    "history, remove it", h->dir, path, (long long)(now - st.st_mtime));
		if (unlink(path) != 0 && errno != ENOENT)
			return err_set(err, NW_EIO, "cannot remove stale git lock '%s': %s", path,
			    strerror(errno));
	}
	return 0;
}

/* ---- open and close --------------------------------------------------- */

/* 1 when path is an existing non-empty directory or a non-directory, 0 when absent or empty. */
static int
dir_occupied(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int occupied = 0;

	if (stat(path, &st) != 0)
		return 0;
	if (!S_ISDIR(st.st_mode))
		return 1;
	d = opendir(path);
	if (d == NULL)
		return 1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			occupied = 1;
			break;
		}
	closedir(d);
	return occupied;
}

static int
history_init(git_repository **out, const char *dir, struct nw_err *err)
{
	git_repository_init_options opts;
	git_repository *repo = NULL;
	git_config *cfg = NULL;
	int rc;

	git_repository_init_options_init(&opts, GIT_REPOSITORY_INIT_OPTIONS_VERSION);

	if (dir_occupied(dir))
		return err_set(err, NW_EINPUT, "cannot create history in '%s': it exists and is not "
		    "an empty directory or a git repository", dir);
	opts.flags = GIT_REPOSITORY_INIT_MKPATH | GIT_REPOSITORY_INIT_NO_REINIT;
	opts.initial_head = HISTORY_BRANCH;
	opts.description = "netwave history: one canonical JSON file per Azure resource";
	if ((rc = git_repository_init_ext(&repo, dir, &opts)) < 0) {
		rc = err_from_git(err, NULL, dir, rc, "cannot create history");
		goto done;
	}
	if ((rc = git_repository_config(&cfg, repo)) < 0 ||
	    (rc = git_config_set_string(cfg, HISTORY_CONFIG_KEY, HISTORY_CONFIG_VALUE)) < 0) {
		rc = err_from_git(err, NULL, dir, rc, "cannot configure new history");
		goto done;
	}
	*out = repo;
	repo = NULL;
done:
	git_config_free(cfg);
	git_repository_free(repo);
	return rc;
}

/* Refuses a repository netwave did not make: its working tree is not ours to overwrite. */
static int
history_check_ours(git_repository *repo, const char *dir, struct nw_err *err)
{
	git_config *cfg = NULL;
	git_buf value = { 0 };
	int rc;

	if (git_repository_is_bare(repo))
		return err_set(err, NW_EINPUT, "'%s' is a bare git repository, not a netwave history",
		    dir);
	if ((rc = git_repository_config(&cfg, repo)) < 0)
		return err_from_git(err, NULL, dir, rc, "cannot read config");
	rc = git_config_get_string_buf(&value, cfg, HISTORY_CONFIG_KEY);
	if (rc == GIT_ENOTFOUND)
		rc = err_set(err, NW_EINPUT, "'%s' is a git repository that netwave did not create; "
		    "give the history a directory of its own", dir);
	else if (rc < 0)
		rc = err_from_git(err, NULL, dir, rc, "cannot read config");
	git_buf_dispose(&value);
	git_config_free(cfg);
	return rc;
}

int
history_open(struct history **out, const char *dir, bool create, struct nw_err *err)
{
	struct history *h = NULL;
	git_repository *repo = NULL;
	const char *gitdir;
	int rc;

	*out = NULL;
	if (dir == NULL || *dir == '\0')
		return err_set(err, NW_EINPUT, "no history directory given");
	/* durability: objects, refs and the index are fsynced with their directories */
	git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
	rc = git_repository_open_ext(&repo, dir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
	if (rc == GIT_ENOTFOUND) {
		if (!create)
			return err_set(err, NW_EINPUT, "no history in '%s'; discover, apply and "
			    "'netwave history record' create it", dir);
		if ((rc = history_init(&repo, dir, err)) != 0)
			goto done;
	} else if (rc < 0) {
		rc = err_from_git(err, NULL, dir, rc, "cannot open history");
		goto done;
	} else if ((rc = history_check_ours(repo, dir, err)) != 0) {
		goto done;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		rc = oom(err);
		goto done;
	}
	gitdir = git_repository_path(repo);
	h->dir = strdup(dir);
	h->gitdir = strdup(gitdir);
	h->lock_path = malloc(strlen(gitdir) + sizeof(LOCK_NAME));
	if (h->dir == NULL || h->gitdir == NULL || h->lock_path == NULL) {
		rc = oom(err);
		goto done;
	}
	sprintf(h->lock_path, "%s%s", gitdir, LOCK_NAME);
	h->lock_wait_ms = HISTORY_LOCK_WAIT_MS;
	h->repo = repo;
	repo = NULL;
	*out = h;
	h = NULL;
	rc = 0;
done:
	history_close(h);
	git_repository_free(repo);
	return rc;
}

void
history_close(struct history *h)
{
	if (h == NULL)
		return;
	history_unlock(h);
	git_repository_free(h->repo);
	free(h->dir);
	free(h->gitdir);
	free(h->lock_path);
	free(h);
}

const char *
history_dir(const struct history *h)
{
	return h->dir;
}

int
history_default_dir(char *buf, size_t size, const char *db_path, struct nw_err *err)
{
	const char *db = db_path != NULL && *db_path != '\0' ? db_path : "netwave.db";
	const char *slash = strrchr(db, '/');
	int n;

	if (slash == NULL)
		n = snprintf(buf, size, "netwave-history");
	else
		n = snprintf(buf, size, "%.*s/netwave-history", (int)(slash - db), db);
	if (n < 0 || (size_t)n >= size)
		return err_set(err, NW_EINPUT, "history path beside '%s' is too long", db);
	return 0;
}

/* ---- the tree as a flat map of paths ---------------------------------- */

struct tentry {
	char *path;
	git_oid oid;
	git_filemode_t mode;
	bool old;          /* in HEAD's tree */
	git_oid old_oid;
	char *old_path;    /* the path in HEAD when this record renamed it by case */
	bool deleted;
	size_t written_by; /* 1 + index of the resource written here, 0 none */
	bool removed_by;   /* named in removed_ids */
	size_t redacted;   /* values this record redacted in the file */
};

struct tmap {
	struct tentry *v;
	size_t n, cap;
	size_t *slots; /* 1 + index into v, 0 for empty */
	size_t nslots;
	bool oom;
};

static size_t
path_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)ascii_lower(*s);
		h *= 1099511628211ull;
	}
	return (size_t)h;
}

/* The entry whose path equals path case-insensitively, or NULL. */
static struct tentry *
tmap_find(struct tmap *m, const char *path)
{
	size_t i;

	if (m->nslots == 0)
		return NULL;
	for (i = path_hash(path) & (m->nslots - 1); m->slots[i] != 0; i = (i + 1) & (m->nslots - 1))
		if (ascii_ieq(m->v[m->slots[i] - 1].path, path))
			return &m->v[m->slots[i] - 1];
	return NULL;
}

static void
tmap_slot_put(struct tmap *m, size_t idx)
{
	size_t i = path_hash(m->v[idx].path) & (m->nslots - 1);

	while (m->slots[i] != 0)
		i = (i + 1) & (m->nslots - 1);
	m->slots[i] = idx + 1;
}

/* Adds a new entry (the caller checked it is absent); takes path. */
static struct tentry *
tmap_add(struct tmap *m, char *path)
{
	size_t i;

	if (m->n == m->cap) {
		size_t cap = m->cap != 0 ? m->cap * 2 : 256;
		struct tentry *v = realloc(m->v, cap * sizeof(*v));
		if (v == NULL)
			goto fail;
		m->v = v;
		m->cap = cap;
	}
	if ((m->n + 1) * 2 > m->nslots) {
		size_t nslots = m->nslots != 0 ? m->nslots * 2 : 512;
		size_t *slots;

		while ((m->n + 1) * 2 > nslots)
			nslots *= 2;
		slots = calloc(nslots, sizeof(*slots));
		if (slots == NULL)
			goto fail;
		free(m->slots);
		m->slots = slots;
		m->nslots = nslots;
		for (i = 0; i < m->n; i++)
			tmap_slot_put(m, i);
	}
	memset(&m->v[m->n], 0, sizeof(m->v[m->n]));
	m->v[m->n].path = path;
	m->v[m->n].mode = GIT_FILEMODE_BLOB;
	tmap_slot_put(m, m->n);
	return &m->v[m->n++];
fail:
	free(path);
	m->oom = true;
	return NULL;
}

static void
tmap_free(struct tmap *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->v[i].path);
		free(m->v[i].old_path);
	}
	free(m->v);
	free(m->slots);
}

static int
tree_walk_cb(const char *root, const git_tree_entry *entry, void *payload)
{
	struct tmap *m = payload;
	struct tentry *e;
	char *path;

	if (git_tree_entry_type(entry) == GIT_OBJECT_TREE)
		return 0;
	path = malloc(strlen(root) + strlen(git_tree_entry_name(entry)) + 1);
	if (path == NULL) {
		m->oom = true;
		return -1;
	}
	sprintf(path, "%s%s", root, git_tree_entry_name(entry));
	if ((e = tmap_add(m, path)) == NULL)
		return -1;
	git_oid_cpy(&e->oid, git_tree_entry_id(entry));
	git_oid_cpy(&e->old_oid, git_tree_entry_id(entry));
	e->mode = git_tree_entry_filemode(entry);
	e->old = true;
	return 0;
}

static int
entry_cmp(const void *a, const void *b)
{
	const struct tentry *const *x = a, *const *y = b;

	return strcmp((*x)->path, (*y)->path);
}

/* Builds the tree of v[0..n) (sorted by path) below the prefix of length off. */
static int
tree_build(git_oid *out, struct history *h, struct tentry **v, size_t n, size_t off,
    struct nw_err *err)
{
	git_treebuilder *tb = NULL;
	char *name = NULL;
	size_t i = 0;
	int rc;

	if ((rc = git_treebuilder_new(&tb, h->repo, NULL)) < 0) {
		rc = err_from_git(err, h, NULL, rc, "cannot build tree");
		goto done;
	}
	while (i < n) {
		const char *rest = v[i]->path + off;
		const char *slash = strchr(rest, '/');
		git_oid sub;
		size_t len, j;

		if (slash == NULL) {
			if ((rc = git_treebuilder_insert(NULL, tb, rest, &v[i]->oid, v[i]->mode)) < 0) {
				rc = err_from_git(err, h, NULL, rc, "cannot add '%s'", v[i]->path);
				goto done;
			}
			i++;
			continue;
		}
		len = (size_t)(slash - rest);
		for (j = i + 1; j < n && strncmp(v[j]->path + off, rest, len + 1) == 0; j++)
			;
		free(name);
		if ((name = strndup(rest, len)) == NULL) {
			rc = oom(err);
			goto done;
		}
		/* a file "x.json" and a directory "x.json" of a child: the ids say so, not us */
		if (git_treebuilder_get(tb, name) != NULL) {
			rc = err_set(err, NW_EINPUT, "'%.*s' would be both a file and a directory in "
			    "history '%s' (from '%s')", (int)(off + len), v[i]->path, h->dir,
			    v[i]->path);
			goto done;
		}
		if ((rc = tree_build(&sub, h, v + i, j - i, off + len + 1, err)) != 0)
			goto done;
		if ((rc = git_treebuilder_insert(NULL, tb, name, &sub, GIT_FILEMODE_TREE)) < 0) {
			rc = err_from_git(err, h, NULL, rc, "cannot add directory '%.*s'",
			    (int)(off + len), v[i]->path);
			goto done;
		}
		i = j;
	}
	if ((rc = git_treebuilder_write(out, tb)) < 0) {
		rc = err_from_git(err, h, NULL, rc, "cannot write tree");
		goto done;
	}
	rc = 0;
done:
	free(name);
	git_treebuilder_free(tb);
	return rc;
}

/* ---- HEAD ------------------------------------------------------------- */

/*
 * The branch HEAD names (malloc'd "refs/heads/..."), and its commit, or
 * NULL when the branch is unborn.  A detached HEAD is refused: commits
 * there would be lost to the next checkout of the branch.
 */
static int
head_read(struct history *h, char **branch, git_commit **commit, struct nw_err *err)
{
	git_reference *head = NULL;
	git_oid oid;
	int rc;

	*branch = NULL;
	*commit = NULL;
	if ((rc = git_reference_lookup(&head, h->repo, "HEAD")) < 0) {
		rc = err_from_git(err, h, NULL, rc, "cannot read HEAD");
		goto done;
	}
	if (git_reference_type(head) != GIT_REFERENCE_SYMBOLIC) {
		rc = err_set(err, NW_EINPUT, "HEAD is detached in history '%s'; check out a branch "
		    "(git -C '%s' checkout %s)", h->dir, h->dir, HISTORY_BRANCH);
		goto done;
	}
	if ((*branch = strdup(git_reference_symbolic_target(head))) == NULL) {
		rc = oom(err);
		goto done;
	}
	rc = git_reference_name_to_id(&oid, h->repo, *branch);
	if (rc == GIT_ENOTFOUND) {
		rc = 0;
		goto done;
	}
	if (rc < 0 || (rc = git_commit_lookup(commit, h->repo, &oid)) < 0) {
		rc = err_from_git(err, h, NULL, rc, "cannot read branch '%s'", *branch);
		goto done;
	}
	rc = 0;
done:
	git_reference_free(head);
	if (rc != 0) {
		free(*branch);
		*branch = NULL;
	}
	return rc;
}

/* ---- the commit message ----------------------------------------------- */

/* A single-line field of the message; NW_EINPUT naming it otherwise. */
static int
check_line(const char *what, const char *v, bool required, struct nw_err *err)
{
	const char *p;

	if (v == NULL || *v == '\0')
		return required ? err_set(err, NW_EINPUT, "history record needs %s", what) : 0;
	for (p = v; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return err_set(err, NW_EINPUT, "%s for the history must be one line without "
			    "control characters", what);
	if (isspace((unsigned char)v[0]) || isspace((unsigned char)v[strlen(v) - 1]))
		return err_set(err, NW_EINPUT, "%s for the history has leading or trailing blanks",
		    what);
	return 0;
}

static int
info_check(const struct history_commit_info *info, struct nw_err *err)
{
	bool needs_plan = info->event == HISTORY_EVENT_APPLY || info->event == HISTORY_EVENT_ROLLBACK;
	const char *fields[] = { info->subject, info->body, info->plan_id, info->wave,
	    info->operator_name, info->tag };
	size_t i;
	int rc;

	if ((rc = check_line("a subject", info->subject, info->event == HISTORY_EVENT_RECORD,
	    err)) != 0 ||
	    (rc = check_line("a plan id", info->plan_id, needs_plan, err)) != 0 ||
	    (rc = check_line("a wave", info->wave, needs_plan, err)) != 0 ||
	    (rc = check_line("an operator", info->operator_name, true, err)) != 0 ||
	    (rc = check_line("a tag", info->tag, false, err)) != 0)
		return rc;
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (fields[i] != NULL && is_secret_value(fields[i]))
			return err_set(err, NW_EINPUT, "the message for the history looks like it holds "
			    "a secret; it is not recorded");
	if (needs_plan && info->steps < 0)
		return err_set(err, NW_EINPUT, "history record of a wave needs its step count");
	if (info->tag != NULL) {
		char ref[1024];
		int valid = 0;

		snprintf(ref, sizeof(ref), "refs/tags/%s", info->tag);
		if (git_reference_name_is_valid(&valid, ref) < 0 || !valid)
			return err_set(err, NW_EINPUT, "'%s' is not a valid tag name", info->tag);
	}
	return 0;
}

static int
message_build(char **out, const struct history_commit_info *info, size_t nresources,
    const struct history_result *res)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (f == NULL)
		return NW_ENOMEM;
	if (info->subject != NULL)
		fputs(info->subject, f);
	else if (info->event == HISTORY_EVENT_DISCOVER)
		fprintf(f, "discover: %zu resource%s", nresources, nresources == 1 ? "" : "s");
	else {
		fprintf(f, "%s wave %s of plan %s", info->event == HISTORY_EVENT_APPLY ? "apply" :
		    "roll back", info->wave, info->plan_id);
		fprintf(f, ": %lld step%s", info->steps, info->steps == 1 ? "" : "s");
	}
	fputs("\n\n", f);
	if (info->body != NULL && info->body[0] != '\0') {
		size_t n = strlen(info->body);

		while (n > 0 && isspace((unsigned char)info->body[n - 1]))
			n--;
		fprintf(f, "%.*s\n\n", (int)n, info->body);
	}
	fprintf(f, "Wrote %zu resource file%s and removed %zu.", res->written,
	    res->written == 1 ? "" : "s", res->deleted);
	if (res->redacted > 0)
		fprintf(f, " Redacted %zu secret-looking value%s.", res->redacted,
		    res->redacted == 1 ? "" : "s");
	fputs("\n\n", f);
	if (info->plan_id != NULL)
		fprintf(f, "Plan-Id: %s\n", info->plan_id);
	if (info->wave != NULL)
		fprintf(f, "Wave: %s\n", info->wave);
	if (info->event == HISTORY_EVENT_APPLY || info->event == HISTORY_EVENT_ROLLBACK)
		fprintf(f, "Steps: %lld\n", info->steps);
	fprintf(f, "Operator: %s\n", info->operator_name);
	if (fclose(f) != 0) {
		free(buf);
		return NW_ENOMEM;
	}
	*out = buf;
	return 0;
}

/* git config's user when it names one, else the tool's own signature. */
static int
signature_make(git_signature **out, struct history *h, time_t when, struct nw_err *err)
{
	git_signature *def = NULL;
	int rc;

	if (git_signature_default(&def, h->repo) == 0)
		rc = git_signature_new(out, def->name, def->email, (git_time_t)when, 0);
	else
		rc = git_signature_new(out, HISTORY_TOOL_NAME, HISTORY_TOOL_EMAIL, (git_time_t)when, 0);
	git_signature_free(def);
	if (rc < 0)
		return err_from_git(err, h, NULL, rc, "cannot make signature");
	return 0;
}

/* ---- record ----------------------------------------------------------- */

/*
 * Points ref at oid: created when expected is NULL, else moved from
 * expected (compare and swap).  A stale git lock is cleared and the
 * update tried once more.
 */
static int
ref_update(struct history *h, const char *ref, const git_oid *oid, const git_oid *expected,
    const char *log, struct nw_err *err)
{
	git_reference *r = NULL;
	const char *refs[1] = { ref };
	int rc, attempt;

	for (attempt = 0;; attempt++) {
		if (expected == NULL)
			rc = git_reference_create(&r, h->repo, ref, oid, 0, log);
		else
			rc = git_reference_create_matching(&r, h->repo, ref, oid, 1, expected, log);
		git_reference_free(r);
		r = NULL;
		if (rc != GIT_ELOCKED || attempt > 0)
			break;
		if ((rc = git_locks_clear(h, refs, 1, err)) != 0)
			return rc;
	}
	if (rc == GIT_EMODIFIED || rc == GIT_EEXISTS)
		return err_set(err, NW_EFAIL, "'%s' in history '%s' moved while netwave was "
		    "recording (another git command?); run again", ref, h->dir);
	if (rc < 0)
		return err_from_git(err, h, NULL, rc, "cannot update '%s'", ref);
	return 0;
}

static int
tag_update(struct history *h, const char *tag, const git_oid *oid, struct nw_err *err)
{
	char ref[1024];
	git_oid cur;
	int rc;

	snprintf(ref, sizeof(ref), "refs/tags/%s", tag);
	rc = git_reference_name_to_id(&cur, h->repo, ref);
	if (rc == GIT_ENOTFOUND)
		return ref_update(h, ref, oid, NULL, "netwave: tag", err);
	if (rc < 0)
		return err_from_git(err, h, NULL, rc, "cannot read tag '%s'", tag);
	if (git_oid_equal(&cur, oid))
		return 0;
	return ref_update(h, ref, oid, &cur, "netwave: move tag", err);
}

/* Makes the working tree and index match HEAD for people browsing the history. */
static int
worktree_update(struct history *h, struct nw_err *err)
{
	git_checkout_options opts;
	int rc, attempt;

	git_checkout_options_init(&opts, GIT_CHECKOUT_OPTIONS_VERSION);
	opts.checkout_strategy = GIT_CHECKOUT_FORCE;
	for (attempt = 0;; attempt++) {
		rc = git_checkout_head(h->repo, &opts);
		if (rc != GIT_ELOCKED || attempt > 0)
			break;
		if ((rc = git_locks_clear(h, NULL, 0, err)) != 0)
			return rc;
	}
	if (rc < 0)
		return err_from_git(err, h, NULL, rc, "cannot check out the working tree");
	return 0;
}

/*
 * Places every resource in the map (paths only), refusing bad ids and
 * duplicates.  (*placed)[i] is the index of resource i's entry: indexes,
 * because the map's array moves as it grows.
 */
static int
record_place(struct history *h, struct tmap *m, const struct history_change *c,
    size_t **placed, struct nw_err *err)
{
	size_t i, n = json_array_size(c->resources);
	size_t *v;
	int rc;

	*placed = v = calloc(n + 1, sizeof(*v));
	if (v == NULL)
		return oom(err);
	for (i = 0; i < n; i++) {
		const json_t *r = json_array_get(c->resources, i);
		const json_t *idv = json_object_get(r, "id");
		const char *id = json_string_value(idv);
		struct tentry *e;
		char *path;

		if (!json_is_object(r))
			return err_set(err, NW_EINPUT, "resource %zu for history '%s' is not an object",
			    i, h->dir);
		if (id == NULL)
			return err_set(err, NW_EINPUT, "resource %zu for history '%s' has no \"id\"", i,
			    h->dir);
		if (strlen(id) != json_string_length(idv))
			return err_set(err, NW_EINPUT, "resource %zu for history '%s' has a NUL in its "
			    "id", i, h->dir);
		if ((rc = history_path_for_id(&path, id, err)) != 0) {
			err_prefix(err, "resource %zu for history '%s'", i, h->dir);
			return rc;
		}
		e = tmap_find(m, path);
		if (e != NULL && e->written_by != 0) {
			free(path);
			return err_set(err, NW_EINPUT, "resources %zu and %zu for history '%s' have one "
			    "id '%s'", e->written_by - 1, i, h->dir, id);
		}
		if (e == NULL) {
			if ((e = tmap_add(m, path)) == NULL)
				return oom(err);
		} else if (strcmp(e->path, path) != 0) {
			/* the id changed case: the file follows it */
			if (e->old && e->old_path == NULL) {
				e->old_path = e->path;
				e->path = path;
			} else {
				free(e->path);
				e->path = path;
			}
		} else {
			free(path);
		}
		e->written_by = i + 1;
		e->deleted = false;
		v[i] = (size_t)(e - m->v);
	}
	return 0;
}

static int
record_remove(struct history *h, struct tmap *m, const struct history_change *c,
    struct nw_err *err)
{
	size_t i;
	int rc;

	if (c->mode == HISTORY_UPDATE) {
		for (i = 0; i < c->nremoved; i++) {
			struct tentry *e;
			char *path;

			if ((rc = history_path_for_id(&path, c->removed_ids[i], err)) != 0) {
				err_prefix(err, "removed id %zu for history '%s'", i, h->dir);
				return rc;
			}
			e = tmap_find(m, path);
			free(path);
			if (e == NULL)
				continue; /* never recorded: nothing to remove */
			if (e->written_by != 0)
				return err_set(err, NW_EINPUT, "'%s' is both written and removed in one "
				    "history record", c->removed_ids[i]);
			e->deleted = true;
			e->removed_by = true;
		}
		return 0;
	}
	/* a whole estate: what was not seen is gone; top-level files are not resources */
	for (i = 0; i < m->n; i++)
		if (m->v[i].written_by == 0 && strchr(m->v[i].path, '/') != NULL)
			m->v[i].deleted = true;
	return 0;
}

/* Cleans, dumps and stores every placed resource as a blob. */
static int
record_blobs(struct history *h, struct tmap *m, const struct history_change *c,
    const size_t *placed, struct nw_err *err)
{
	json_t *clean = NULL;
	char *text = NULL;
	size_t i, n = json_array_size(c->resources);
	int rc = 0;

	for (i = 0; i < n; i++) {
		struct tentry *e;
		size_t red = 0;

		if ((rc = history_resource_clean(&clean, json_array_get(c->resources, i), &red,
		    err)) != 0)
			goto done;
		if ((text = json_dump_canonical(clean)) == NULL) {
			rc = oom(err);
			goto done;
		}
		e = &m->v[placed[i]];
		if ((rc = git_blob_create_from_buffer(&e->oid, h->repo, text, strlen(text))) < 0) {
			rc = err_from_git(err, h, NULL, rc, "cannot write '%s'", e->path);
			goto done;
		}
		e->mode = GIT_FILEMODE_BLOB;
		e->redacted = red;
		json_decref(clean);
		clean = NULL;
		free(text);
		text = NULL;
	}
done:
	json_decref(clean);
	free(text);
	return rc;
}

int
history_record(struct history *h, const struct history_change *change,
    const struct history_commit_info *info, struct history_result *out, struct nw_err *err)
{
	struct tmap m = { 0 };
	struct tentry **live = NULL;
	size_t *placed = NULL;
	git_commit *parent = NULL;
	git_tree *parent_tree = NULL;
	git_signature *sig = NULL;
	char *branch = NULL, *msg = NULL;
	const char *lock_refs[2];
	char tag_ref[1024];
	git_oid tree_oid, head_oid;
	bool took_lock = false, have_head = false;
	size_t i, nlive = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (change->resources != NULL && !json_is_array(change->resources))
		return err_set(err, NW_EINPUT, "resources for history '%s' are not an array", h->dir);
	if ((rc = info_check(info, err)) != 0)
		return rc;
	if (!h->locked) {
		if ((rc = history_lock(h, err)) != 0)
			return rc;
		took_lock = true;
	}
	if ((rc = head_read(h, &branch, &parent, err)) != 0)
		goto done;
	/* a git lock left by a crash is cleared before anything is committed */
	snprintf(tag_ref, sizeof(tag_ref), "refs/tags/%s", info->tag != NULL ? info->tag : "");
	lock_refs[0] = branch;
	lock_refs[1] = info->tag != NULL ? tag_ref : NULL;
	if ((rc = git_locks_clear(h, lock_refs, 2, err)) != 0)
		goto done;

	if (parent != NULL) {
		if ((rc = git_commit_tree(&parent_tree, parent)) < 0) {
			rc = err_from_git(err, h, NULL, rc, "cannot read the tree of HEAD");
			goto done;
		}
		rc = git_tree_walk(parent_tree, GIT_TREEWALK_PRE, tree_walk_cb, &m);
		if (m.oom) {
			rc = oom(err);
			goto done;
		}
		if (rc < 0) {
			rc = err_from_git(err, h, NULL, rc, "cannot read the tree of HEAD");
			goto done;
		}
	}
	if ((rc = record_place(h, &m, change, &placed, err)) != 0 ||
	    (rc = record_remove(h, &m, change, err)) != 0 ||
	    (rc = record_blobs(h, &m, change, placed, err)) != 0)
		goto done;

	live = calloc(m.n + 1, sizeof(*live));
	if (live == NULL) {
		rc = oom(err);
		goto done;
	}
	for (i = 0; i < m.n; i++) {
		struct tentry *e = &m.v[i];

		if (e->deleted) {
			if (e->old)
				out->deleted++;
			continue;
		}
		live[nlive++] = e;
		if (!e->old || !git_oid_equal(&e->oid, &e->old_oid) || e->old_path != NULL) {
			out->written++;
			out->redacted += e->redacted;
		}
	}
	qsort(live, nlive, sizeof(*live), entry_cmp);
	if ((rc = tree_build(&tree_oid, h, live, nlive, 0, err)) != 0)
		goto done;

	if (parent != NULL) {
		git_oid_cpy(&head_oid, git_commit_id(parent));
		have_head = true;
	}
	out->committed = parent != NULL ? !git_oid_equal(&tree_oid, git_commit_tree_id(parent)) :
	    nlive > 0;
	if (out->committed) {
		git_tree *tree = NULL;
		const git_commit *parents[1] = { parent };

		if (message_build(&msg, info, json_array_size(change->resources), out) != 0) {
			rc = oom(err);
			goto done;
		}
		if ((rc = signature_make(&sig, h, info->time, err)) != 0)
			goto done;
		if ((rc = git_tree_lookup(&tree, h->repo, &tree_oid)) < 0) {
			rc = err_from_git(err, h, NULL, rc, "cannot read the new tree");
			goto done;
		}
		rc = git_commit_create(&head_oid, h->repo, NULL, sig, sig, NULL, msg, tree,
		    parent != NULL ? 1 : 0, parents);
		git_tree_free(tree);
		if (rc < 0) {
			rc = err_from_git(err, h, NULL, rc, "cannot commit");
			goto done;
		}
		if ((rc = ref_update(h, branch, &head_oid, parent != NULL ? git_commit_id(parent) :
		    NULL, "netwave: record", err)) != 0)
			goto done;
		have_head = true;
	} else {
		out->written = out->deleted = out->redacted = 0;
	}
	if (have_head) {
		oid_hex(out->commit, &head_oid);
		if (info->tag != NULL && (rc = tag_update(h, info->tag, &head_oid, err)) != 0)
			goto done;
		if ((rc = worktree_update(h, err)) != 0) {
			if (out->committed)
				err_prefix(err, "committed %.12s", out->commit);
			goto done;
		}
	}
	rc = 0;
done:
	if (took_lock)
		history_unlock(h);
	git_signature_free(sig);
	git_tree_free(parent_tree);
	git_commit_free(parent);
	tmap_free(&m);
	free(placed);
	free(live);
	free(branch);
	free(msg);
	return rc;
}

/* ---- reading: log, show, diff ----------------------------------------- */

struct tag_scan {
	git_repository *repo;
	json_t *map; /* commit hex -> [tag names] */
	int rc;
};

static int
tag_scan_cb(const char *name, void *payload)
{
	struct tag_scan *ts = payload;
	git_reference *ref = NULL;
	git_object *obj = NULL;
	char hex[HISTORY_ID_SIZE];
	json_t *list;

	if (git_reference_lookup(&ref, ts->repo, name) < 0 ||
	    git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) < 0) {
		/* a tag of something else is not ours to list */
		git_reference_free(ref);
		return 0;
	}
	oid_hex(hex, git_object_id(obj));
	list = json_object_get(ts->map, hex);
	if (list == NULL) {
		list = json_array();
		if (list == NULL || json_object_set_new(ts->map, hex, list) != 0)
			ts->rc = NW_ENOMEM;
	}
	if (ts->rc == 0 && json_array_append_new(list, json_string(name + strlen("refs/tags/"))) != 0)
		ts->rc = NW_ENOMEM;
	git_object_free(obj);
	git_reference_free(ref);
	return ts->rc;
}

static int
tags_read(struct history *h, json_t **out, struct nw_err *err)
{
	struct tag_scan ts = { h->repo, json_object(), 0 };
	int rc;

	*out = NULL;
	if (ts.map == NULL)
		return oom(err);
	rc = git_reference_foreach_glob(h->repo, "refs/tags/*", tag_scan_cb, &ts);
	if (ts.rc != 0 || rc < 0) {
		json_decref(ts.map);
		return ts.rc != 0 ? oom(err) : err_from_git(err, h, NULL, rc, "cannot read tags");
	}
	*out = ts.map;
	return 0;
}

static int
cmp_json_str(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* The commit as a JSON object (history_log's entries). */
static int
commit_json(json_t **out, struct history *h, const git_commit *c, const json_t *tagmap,
    struct nw_err *err)
{
	git_message_trailer_array tr = { 0 };
	const git_signature *a = git_commit_author(c);
	const char *body = git_commit_body((git_commit *)c);
	json_t *o = NULL, *parents, *trailers, *tags, *t;
	char hex[HISTORY_ID_SIZE], when[32];
	git_buf shortid = { 0 };
	unsigned i;
	size_t blen;
	int rc;

	*out = NULL;
	if ((rc = git_object_short_id(&shortid, (const git_object *)c)) < 0)
		return err_from_git(err, h, NULL, rc, "cannot abbreviate a commit id");
	if ((rc = git_message_trailers(&tr, git_commit_message(c))) < 0) {
		git_buf_dispose(&shortid);
		return err_from_git(err, h, NULL, rc, "cannot read trailers");
	}
	/* the body without the trailer paragraph, which "trailers" carries */
	blen = body != NULL ? strlen(body) : 0;
	while (blen > 0 && isspace((unsigned char)body[blen - 1]))
		blen--;
	if (tr.count > 0 && blen > 0) {
		size_t k = blen;
		while (k >= 2 && !(body[k - 1] == '\n' && body[k - 2] == '\n'))
			k--;
		blen = k >= 2 ? k - 2 : 0;
	}
	oid_hex(hex, git_commit_id(c));
	time_rfc3339(when, sizeof(when), (time_t)git_commit_time(c));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s%, s:{s:s, s:s}}",
	    "commit", hex, "shortId", shortid.ptr, "time", when,
	    "subject", git_commit_summary((git_commit *)c) != NULL ?
	    git_commit_summary((git_commit *)c) : "",
	    "body", body != NULL ? body : "", blen,
	    "author", "name", a->name, "email", a->email);
	parents = json_array();
	trailers = json_object();
	tags = json_array();
	if (o == NULL || json_object_set_new(o, "parents", parents) != 0 ||
	    json_object_set_new(o, "trailers", trailers) != 0 ||
	    json_object_set_new(o, "tags", tags) != 0)
		goto nomem;
	for (i = 0; i < git_commit_parentcount(c); i++) {
		char phex[HISTORY_ID_SIZE];

		oid_hex(phex, git_commit_parent_id(c, i));
		if (json_array_append_new(parents, json_string(phex)) != 0)
			goto nomem;
	}
	for (i = 0; i < tr.count; i++)
		if (json_object_get(trailers, tr.trailers[i].key) == NULL &&
		    json_object_set_new(trailers, tr.trailers[i].key,
		    json_string(tr.trailers[i].value)) != 0)
			goto nomem;
	if ((t = json_object_get(tagmap, hex)) != NULL) {
		size_t k, n = json_array_size(t);
		json_t **v = calloc(n + 1, sizeof(*v));

		if (v == NULL)
			goto nomem;
		for (k = 0; k < n; k++)
			v[k] = json_array_get(t, k);
		qsort(v, n, sizeof(*v), cmp_json_str);
		for (k = 0; k < n; k++)
			if (json_array_append(tags, v[k]) != 0) {
				free(v);
				goto nomem;
			}
		free(v);
	}
	git_message_trailer_array_free(&tr);
	git_buf_dispose(&shortid);
	*out = o;
	return 0;
nomem:
	git_message_trailer_array_free(&tr);
	git_buf_dispose(&shortid);
	json_decref(o);
	return oom(err);
}

int
history_log(struct history *h, size_t max, json_t **out, struct nw_err *err)
{
	git_revwalk *walk = NULL;
	json_t *doc = NULL, *commits, *tagmap = NULL;
	git_oid oid;
	size_t n = 0;
	int rc;

	*out = NULL;
	doc = json_pack("{s:s, s:s, s:[]}", "format", "netwave.history-log/v1", "history", h->dir,
	    "commits");
	if (doc == NULL)
		return oom(err);
	commits = json_object_get(doc, "commits");
	if ((rc = tags_read(h, &tagmap, err)) != 0)
		goto done;
	if ((rc = git_revwalk_new(&walk, h->repo)) < 0 ||
	    (rc = git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL)) < 0) {
		rc = err_from_git(err, h, NULL, rc, "cannot walk commits");
		goto done;
	}
	if (git_repository_head_unborn(h->repo) == 1)
		goto finish; /* nothing recorded yet */
	if ((rc = git_revwalk_push_head(walk)) < 0) {
		rc = err_from_git(err, h, NULL, rc, "cannot read HEAD");
		goto done;
	}
	while ((max == 0 || n < max) && (rc = git_revwalk_next(&oid, walk)) == 0) {
		git_commit *c = NULL;
		json_t *cj = NULL;

		if ((rc = git_commit_lookup(&c, h->repo, &oid)) < 0) {
			rc = err_from_git(err, h, NULL, rc, "cannot read a commit");
			goto done;
		}
		rc = commit_json(&cj, h, c, tagmap, err);
		git_commit_free(c);
		if (rc != 0)
			goto done;
		if (json_array_append_new(commits, cj) != 0) {
			rc = oom(err);
			goto done;
		}
		n++;
	}
	if (rc < 0 && rc != GIT_ITEROVER) {
		rc = err_from_git(err, h, NULL, rc, "cannot walk commits");
		goto done;
	}
finish:
	*out = doc;
	doc = NULL;
	rc = 0;
done:
	git_revwalk_free(walk);
	json_decref(tagmap);
	json_decref(doc);
	return rc;
}

/* The "id" of a stored resource file, or NULL (new reference). */
static json_t *
blob_resource_id(git_repository *repo, const git_oid *oid)
{
	git_blob *b = NULL;
	json_t *doc, *id = NULL;

	if (git_oid_is_zero(oid) || git_blob_lookup(&b, repo, oid) < 0)
		return NULL;
	doc = json_loadb(git_blob_rawcontent(b), (size_t)git_blob_rawsize(b), 0, NULL);
	if (json_is_string(json_object_get(doc, "id")))
		id = json_incref(json_object_get(doc, "id"));
	json_decref(doc);
	git_blob_free(b);
	return id;
}

/* The changed files between two trees (either may be NULL: the empty tree). */
static int
diff_files(json_t **out, struct history *h, git_tree *from, git_tree *to, struct nw_err *err)
{
	git_diff_options opts;
	git_diff *diff = NULL;
	json_t *files = NULL;
	size_t i, n;
	int rc;

	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	*out = NULL;
	opts.context_lines = 3;
	if ((rc = git_diff_tree_to_tree(&diff, h->repo, from, to, &opts)) < 0) {
		rc = err_from_git(err, h, NULL, rc, "cannot compare trees");
		goto done;
	}
	if ((files = json_array()) == NULL) {
		rc = oom(err);
		goto done;
	}
	n = git_diff_num_deltas(diff);
	for (i = 0; i < n; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		git_patch *patch = NULL;
		git_buf text = { 0 };
		const char *status;
		json_t *f, *id;

		status = d->status == GIT_DELTA_ADDED ? "added" :
		    d->status == GIT_DELTA_DELETED ? "deleted" : "modified";
		if ((rc = git_patch_from_diff(&patch, diff, i)) < 0 ||
		    (rc = git_patch_to_buf(&text, patch)) < 0) {
			git_patch_free(patch);
			rc = err_from_git(err, h, NULL, rc, "cannot diff '%s'", d->new_file.path);
			goto done;
		}
		git_patch_free(patch);
		id = blob_resource_id(h->repo, d->status == GIT_DELTA_DELETED ? &d->old_file.id :
		    &d->new_file.id);
		f = json_pack("{s:s, s:s, s:s%, s:o}", "path", d->status == GIT_DELTA_DELETED ?
		    d->old_file.path : d->new_file.path, "status", status, "diff",
		    text.ptr != NULL ? text.ptr : "", text.size, "id", id != NULL ? id : json_null());
		git_buf_dispose(&text);
		if (f == NULL || json_array_append_new(files, f) != 0) {
			rc = oom(err);
			goto done;
		}
	}
	*out = files;
	files = NULL;
	rc = 0;
done:
	json_decref(files);
	git_diff_free(diff);
	return rc;
}

static int
revparse(git_object **out, struct history *h, const char *rev, struct nw_err *err)
{
	int rc = git_revparse_single(out, h->repo, rev);

	if (rc == GIT_ENOTFOUND || rc == GIT_EUNBORNBRANCH)
		return err_set(err, NW_EINPUT, "unknown revision '%s' in history '%s'%s", rev, h->dir,
		    git_repository_head_unborn(h->repo) == 1 ? " (it has no commits yet)" : "");
	if (rc < 0)
		return err_from_git(err, h, NULL, rc, "cannot resolve '%s'", rev);
	return 0;
}

/* A file at a revision: {format, history, rev, path, id, content}. */
static int
show_file(json_t **out, struct history *h, const char *rev, const char *path, struct nw_err *err)
{
	git_object *obj = NULL;
	json_t *doc = NULL, *content, *id;
	char *spec = NULL;
	int rc;

	if (asprintf(&spec, "%s:%s", rev, path) < 0) {
		spec = NULL;
		return oom(err);
	}
	rc = git_revparse_single(&obj, h->repo, spec);
	if (rc == GIT_ENOTFOUND || rc == GIT_EUNBORNBRANCH) {
		rc = err_set(err, NW_EINPUT, "no file '%s' at '%s' in history '%s'", path, rev, h->dir);
		goto done;
	}
	if (rc < 0) {
		rc = err_from_git(err, h, NULL, rc, "cannot resolve '%s'", spec);
		goto done;
	}
	if (git_object_type(obj) != GIT_OBJECT_BLOB) {
		rc = err_set(err, NW_EINPUT, "'%s' at '%s' in history '%s' is a directory, not a file",
		    path, rev, h->dir);
		goto done;
	}
	content = json_stringn(git_blob_rawcontent((git_blob *)obj),
	    (size_t)git_blob_rawsize((git_blob *)obj));
	if (content == NULL) {
		rc = err_set(err, NW_EINPUT, "'%s' at '%s' in history '%s' is not UTF-8 text", path,
		    rev, h->dir);
		goto done;
	}
	id = blob_resource_id(h->repo, git_object_id(obj));
	doc = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "format", "netwave.history-show/v1",
	    "history", h->dir, "rev", rev, "path", path, "content", content, "id",
	    id != NULL ? id : json_null());
	if (doc == NULL) {
		rc = oom(err);
		goto done;
	}
	*out = doc;
	rc = 0;
done:
	free(spec);
	git_object_free(obj);
	return rc;
}

int
history_show(struct history *h, const char *rev, const char *path, json_t **out,
    struct nw_err *err)
{
	git_object *obj = NULL;
	git_commit *c = NULL, *parent = NULL;
	git_tree *tree = NULL, *ptree = NULL;
	json_t *doc = NULL, *files = NULL, *tagmap = NULL;
	const char *colon;
	int rc;

	*out = NULL;
	if (path != NULL)
		return show_file(out, h, rev, path, err);
	if ((colon = strchr(rev, ':')) != NULL) {
		char *r = strndup(rev, (size_t)(colon - rev));

		if (r == NULL)
			return oom(err);
		rc = show_file(out, h, *r != '\0' ? r : "HEAD", colon + 1, err);
		free(r);
		return rc;
	}
	if ((rc = revparse(&obj, h, rev, err)) != 0)
		goto done;
	if ((rc = git_object_peel((git_object **)&c, obj, GIT_OBJECT_COMMIT)) < 0) {
		rc = err_set(err, NW_EINPUT, "'%s' in history '%s' is not a commit", rev, h->dir);
		goto done;
	}
	if ((rc = git_commit_tree(&tree, c)) < 0 ||
	    (git_commit_parentcount(c) > 0 && ((rc = git_commit_parent(&parent, c, 0)) < 0 ||
	    (rc = git_commit_tree(&ptree, parent)) < 0))) {
		rc = err_from_git(err, h, NULL, rc, "cannot read '%s'", rev);
		goto done;
	}
	if ((rc = tags_read(h, &tagmap, err)) != 0 ||
	    (rc = commit_json(&doc, h, c, tagmap, err)) != 0 ||
	    (rc = diff_files(&files, h, ptree, tree, err)) != 0)
		goto done;
	if (json_object_set_new(doc, "files", files) != 0 ||
	    json_object_set_new(doc, "format", json_string("netwave.history-show/v1")) != 0 ||
	    json_object_set_new(doc, "history", json_string(h->dir)) != 0 ||
	    json_object_set_new(doc, "rev", json_string(rev)) != 0) {
		files = NULL;
		rc = oom(err);
		goto done;
	}
	files = NULL;
	*out = doc;
	doc = NULL;
	rc = 0;
done:
	json_decref(doc);
	json_decref(files);
	json_decref(tagmap);
	git_tree_free(tree);
	git_tree_free(ptree);
	git_commit_free(parent);
	git_commit_free(c);
	git_object_free(obj);
	return rc;
}

/* A revision's tree and the id to show for it (the commit's when it is one). */
static int
rev_tree(git_tree **tree, char hex[HISTORY_ID_SIZE], struct history *h, const char *rev,
    struct nw_err *err)
{
	git_object *obj = NULL, *commit = NULL;
	int rc;

	*tree = NULL;
	if ((rc = revparse(&obj, h, rev, err)) != 0)
		return rc;
	if (git_object_peel((git_object **)tree, obj, GIT_OBJECT_TREE) < 0) {
		git_object_free(obj);
		return err_set(err, NW_EINPUT, "'%s' in history '%s' is neither a commit nor a tree",
		    rev, h->dir);
	}
	if (git_object_peel(&commit, obj, GIT_OBJECT_COMMIT) == 0)
		oid_hex(hex, git_object_id(commit));
	else
		oid_hex(hex, git_tree_id(*tree));
	git_object_free(commit);
	git_object_free(obj);
	return 0;
}

int
history_diff(struct history *h, const char *rev1, const char *rev2, json_t **out,
    struct nw_err *err)
{
	git_tree *a = NULL, *b = NULL;
	json_t *files = NULL;
	char ha[HISTORY_ID_SIZE], hb[HISTORY_ID_SIZE];
	int rc;

	*out = NULL;
	if ((rc = rev_tree(&a, ha, h, rev1, err)) != 0 ||
	    (rc = rev_tree(&b, hb, h, rev2, err)) != 0 ||
	    (rc = diff_files(&files, h, a, b, err)) != 0)
		goto done;
	*out = json_pack("{s:s, s:s, s:s, s:s, s:o}", "format", "netwave.history-diff/v1",
	    "history", h->dir, "from", ha, "to", hb, "files", files);
	files = NULL; /* stolen by "o", also on failure */
	if (*out == NULL)
		rc = oom(err);
done:
	json_decref(files);
	git_tree_free(a);
	git_tree_free(b);
	return rc;
}
