/*
 * Inside the history repository (state/history*.c), not for its users:
 * the handle and the helpers its files share.  libgit2's errors become
 * ours in hi_err_git, once, where they enter our code.
 */
#ifndef NETWAVE_STATE_HISTORY_INT_H
#define NETWAVE_STATE_HISTORY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <git2.h>

#include "plan/err.h"
#include "state/history.h"

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
	history_progress_fn progress; /* history_progress_set; NULL when none */
	void *progress_arg;
};

/*
 * Translates a libgit2 failure once, where it enters our code: "<what> in
 * history '<dir>': <libgit2's message>" (dir names it when h is NULL).
 */
int hi_err_git(struct nw_err *err, const struct history *h, const char *dir, int rc,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* NW_ENOMEM, "out of memory". */
int hi_oom(struct nw_err *err);

/* A commit id as HISTORY_ID_HEX hex digits and a NUL. */
void hi_oid_hex(char out[HISTORY_ID_SIZE], const git_oid *oid);

/* RFC 3339 in UTC, or the seconds when gmtime cannot take them. */
void hi_time_rfc3339(char *buf, size_t size, time_t t);

char hi_ascii_lower(char c);
/* ASCII case-insensitive equality, whatever the locale. */
bool hi_ascii_ieq(const char *a, const char *b);

/* Does a string value look like a secret (a key, a token, a JWT)? */
bool hi_is_secret_value(const char *s);

/*
 * Clears git lock files a crashed netwave left behind (the fixed ones and
 * the refs given, NULLs skipped); NW_ELOCKED when a live process holds one.
 * The caller holds the netwave lock.
 */
int hi_git_locks_clear(struct history *h, const char *const *refs, size_t nrefs, struct nw_err *err);

#endif
