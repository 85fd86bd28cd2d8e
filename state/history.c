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
 *
 * This file opens and closes a history and keeps its lock; the rest is in
 * history_clean.c (paths and cleaning), history_record.c (writing a
 * commit) and history_read.c (log, show, diff), sharing history_int.h.
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
#include "state/history_int.h"

/* The config key that marks a repository as a netwave history. */
#define HISTORY_CONFIG_KEY "netwave.history"
#define HISTORY_CONFIG_VALUE "v1"

#define LOCK_NAME "netwave.lock"
/* A lock file we cannot parse is being written, unless it is older than this. */
#define LOCK_UNREADABLE_GRACE_SECONDS 10
#define LOCK_POLL_MS 50

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

int hi_err_git(struct nw_err *err, const struct history *h, const char *dir, int rc,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/*
 * Translates a libgit2 failure once, where it enters our code: "<what> in
 * history '<dir>': <libgit2's message>".  git_error_last() is read first,
 * before anything else can overwrite it.
 */
int
hi_err_git(struct nw_err *err, const struct history *h, const char *dir, int rc,
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

int
hi_oom(struct nw_err *err)
{
	return err_set(err, NW_ENOMEM, "out of memory");
}

void
hi_oid_hex(char out[HISTORY_ID_SIZE], const git_oid *oid)
{
	git_oid_fmt(out, oid);
	out[HISTORY_ID_HEX] = '\0';
}

void
hi_time_rfc3339(char *buf, size_t size, time_t t)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "%lld", (long long)t);
}

char
hi_ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool
hi_ascii_ieq(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
		if (hi_ascii_lower(*a) != hi_ascii_lower(*b))
			return false;
	return *a == *b;
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
			hi_time_rfc3339(since, sizeof(since), st.st_mtime);
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

void
history_progress_set(struct history *h, history_progress_fn cb, void *arg)
{
	h->progress = cb;
	h->progress_arg = arg;
}

/*
 * Git's own lock files that a record may meet.  We hold netwave.lock, so
 * no netwave process made them; a crashed one did when they are old or
 * younger than the dead netwave lock we broke, a live git command did
 * otherwise.  Stale ones are removed; a live one is NW_ELOCKED.
 */
int
hi_git_locks_clear(struct history *h, const char *const *refs, size_t nrefs, struct nw_err *err)
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
		rc = hi_err_git(err, NULL, dir, rc, "cannot create history");
		goto done;
	}
	if ((rc = git_repository_config(&cfg, repo)) < 0 ||
	    (rc = git_config_set_string(cfg, HISTORY_CONFIG_KEY, HISTORY_CONFIG_VALUE)) < 0) {
		rc = hi_err_git(err, NULL, dir, rc, "cannot configure new history");
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
		return hi_err_git(err, NULL, dir, rc, "cannot read config");
	rc = git_config_get_string_buf(&value, cfg, HISTORY_CONFIG_KEY);
	if (rc == GIT_ENOTFOUND)
		rc = err_set(err, NW_EINPUT, "'%s' is a git repository that netwave did not create; "
		    "give the history a directory of its own", dir);
	else if (rc < 0)
		rc = hi_err_git(err, NULL, dir, rc, "cannot read config");
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
		rc = hi_err_git(err, NULL, dir, rc, "cannot open history");
		goto done;
	} else if ((rc = history_check_ours(repo, dir, err)) != 0) {
		goto done;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		rc = hi_oom(err);
		goto done;
	}
	gitdir = git_repository_path(repo);
	h->dir = strdup(dir);
	h->gitdir = strdup(gitdir);
	h->lock_path = malloc(strlen(gitdir) + sizeof(LOCK_NAME));
	if (h->dir == NULL || h->gitdir == NULL || h->lock_path == NULL) {
		rc = hi_oom(err);
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

