/*
 * The history: a git repository (libgit2) holding one canonical JSON file
 * per resource, with a commit after each discover, each wave applied and
 * each wave rolled back.  discover, apply and rollback call
 * history_record; `netwave history` reads it back (log, show, diff).
 * docs/history.md describes the layout for people who open it with git.
 *
 * Layout: the file of a resource is its ARM id with the "subscriptions",
 * "resourceGroups" and "providers" keywords dropped and ".json" added:
 *   /subscriptions/S/resourceGroups/RG/providers/Microsoft.Network/virtualNetworks/spoke-1
 *   -> S/RG/Microsoft.Network/virtualNetworks/spoke-1.json
 * so a child resource sits under its parent's directory
 * (S/RG/Microsoft.Network/networkManagers/nm/networkGroups/g.json beside
 * nm.json).  Segments "." and ".." are rejected; a leading dot, '%' and
 * characters that are unsafe in file names are percent-encoded.
 *
 * Content: the resource with volatile fields removed (HISTORY_VOLATILE)
 * and secret-looking values replaced by "<redacted>", dumped with sorted
 * keys, two-space indent and a trailing newline.
 *
 * The caller initialises libgit2 (git_libgit2_init) before history_open
 * and shuts it down after the last history_close; cmd/main.c does so.
 */
#ifndef NETWAVE_STATE_HISTORY_H
#define NETWAVE_STATE_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "plan/err.h"

/* A full commit id in hex, and its buffer size. */
#define HISTORY_ID_HEX 40
#define HISTORY_ID_SIZE (HISTORY_ID_HEX + 1)

/* The branch a new history starts on. */
#define HISTORY_BRANCH "main"

/* The signature used when git config names no user. */
#define HISTORY_TOOL_NAME "netwave"
#define HISTORY_TOOL_EMAIL "netwave@localhost"

/* What replaces a secret-looking value. */
#define HISTORY_REDACTED "<redacted>"

/*
 * A git lock file (index.lock, a ref's .lock) older than this, found while
 * we hold .git/netwave.lock, was left by a crashed process and is removed.
 */
#define HISTORY_STALE_LOCK_SECONDS 60

/* How long history_record and history_lock wait for a live holder by default. */
#define HISTORY_LOCK_WAIT_MS 5000u

struct history;

/*
 * Opens the history in dir.  When dir holds no repository and create is
 * true, creates it (and dir): a non-bare repository whose HEAD is the
 * unborn branch HISTORY_BRANCH, so the first record is a root commit;
 * the config gets netwave.history=v1.  Refuses with NW_EINPUT: a missing
 * history when create is false, a directory that is neither empty nor a
 * repository, and a repository not made by netwave (its working tree is
 * netwave's to overwrite, a user's must never be).  Turns on
 * GIT_OPT_ENABLE_FSYNC_GITDIR (a process-wide libgit2 option).
 * Returns a new history in *out, closed with history_close.
 */
int history_open(struct history **out, const char *dir, bool create, struct nw_err *err);

/* Releases the lock if held and closes; accepts NULL. */
void history_close(struct history *h);

/* The directory as given to history_open (borrowed). */
const char *history_dir(const struct history *h);

/* How long to wait for a live holder of .git/netwave.lock (0: fail at once). */
void history_lock_wait_set(struct history *h, unsigned ms);

/*
 * Progress of history_record on a large estate: cb (NULL: none) is called
 * after each resource is written, with how many of the change's resources
 * are done and their count.
 */
typedef void (*history_progress_fn)(void *arg, size_t done, size_t total);
void history_progress_set(struct history *h, history_progress_fn cb, void *arg);

/*
 * Takes .git/netwave.lock (created with O_CREAT|O_EXCL, holding
 * "pid=P start=S host=H"), so a caller can hold the history across
 * several records; history_record takes it itself when not held.  A lock
 * whose process is dead (kill(pid, 0), and the process start time on
 * Linux, which catches a reused pid) is broken; a live one is waited for
 * up to the lock wait, then NW_ELOCKED naming the holder.  Taking it
 * twice through the same struct is an error (NW_EINPUT).
 */
int history_lock(struct history *h, struct nw_err *err);

/* Releases .git/netwave.lock when this struct holds it. */
void history_unlock(struct history *h);

/* What a commit records. */
enum history_event {
	HISTORY_EVENT_RECORD = 0, /* a snapshot given by the user; subject required */
	HISTORY_EVENT_DISCOVER,   /* "discover: N resources" */
	HISTORY_EVENT_APPLY,      /* "apply wave W of plan P: N steps" */
	HISTORY_EVENT_ROLLBACK,   /* "roll back wave W of plan P: N steps" */
};

struct history_commit_info {
	enum history_event event;
	const char *subject;  /* one line; NULL for the event's own subject */
	const char *body;     /* paragraphs before the trailers, may be NULL */
	const char *plan_id;  /* Plan-Id trailer, NULL for none (required for apply and rollback) */
	const char *wave;     /* Wave trailer, NULL for none (required for apply and rollback) */
	long long steps;      /* Steps trailer of apply and rollback (required there); ignored otherwise */
	const char *operator_name; /* Operator trailer, required: the user name */
	time_t time;          /* author and committer time (UTC) */
	const char *tag;      /* tag to point at the result (e.g. "pl-1/pilot/applied"), NULL for none */
};

enum history_mode {
	/* The resources are the whole estate: every other file is deleted (after discover). */
	HISTORY_REPLACE = 0,
	/* Only these resources are written and removed_ids deleted (after a wave). */
	HISTORY_UPDATE,
};

struct history_change {
	enum history_mode mode;
	const json_t *resources;        /* array of ARM resource objects (borrowed); a topology's ->resources */
	const char *const *removed_ids; /* HISTORY_UPDATE: ids whose files go; may be NULL */
	size_t nremoved;
};

struct history_result {
	char commit[HISTORY_ID_SIZE]; /* HEAD afterwards; "" when the history is still empty */
	bool committed;               /* false: the tree did not change and no commit was made */
	size_t written;               /* files added or changed */
	size_t deleted;               /* files removed */
	size_t redacted;              /* values replaced by HISTORY_REDACTED in the files written */
};

/*
 * Writes the resources as canonical files, deletes what the change says,
 * and commits when the tree changed, with a message of a subject, the
 * body, a line counting the files, and the trailers Plan-Id, Wave,
 * Steps and Operator.  The signature is git config's user.name and
 * user.email, else HISTORY_TOOL_NAME <HISTORY_TOOL_EMAIL>, at info->time.
 * A no-op leaves HEAD alone and says so in out->committed.  The branch
 * moves by compare-and-swap from the commit the tree was built on; the
 * tag is created, or moved from where it was read, the same way.  Then
 * the working tree is checked out (files edited there are overwritten).
 *
 * Ids are matched case-insensitively, as ARM does: a resource whose id
 * differs only in case from a stored one replaces its file.  Fails with
 * NW_EINPUT (and writes nothing) for: a resource without an id, an id not
 * of the form /subscriptions/S/resourceGroups/RG/providers/NS/TYPE/NAME
 * [/TYPE/NAME...], a "." or ".." segment or a NUL, two resources with
 * one id, an id both written and removed, a multi-line info field, a
 * message that carries a secret-looking value.  NW_ELOCKED when the
 * lock is held (history_lock) or a git lock file is live (younger than
 * HISTORY_STALE_LOCK_SECONDS and not left by a dead netwave);
 * stale ones are removed and the step retried once.
 */
int history_record(struct history *h, const struct history_change *change,
    const struct history_commit_info *info, struct history_result *out, struct nw_err *err);

/*
 * The repository path of a resource id (see the layout above), malloc'd
 * in *out; NW_EINPUT naming the id when it has no such path.
 */
int history_path_for_id(char **out, const char *id, struct nw_err *err);

/*
 * The canonical stored form of a resource: a new object without the
 * volatile fields, secrets redacted (*nredacted counts them; may be NULL).
 * *out is a new reference.
 */
int history_resource_clean(json_t **out, const json_t *resource, size_t *nredacted,
    struct nw_err *err);

/*
 * Where the history lives by default: "netwave-history" beside the
 * database (db_path; NULL for ./netwave.db).  Writes into buf.
 */
int history_default_dir(char *buf, size_t size, const char *db_path, struct nw_err *err);

/*
 * The commits reachable from HEAD, newest first, at most max (0: all), as
 * netwave.history-log/v1: {format, history, commits: [{commit, shortId,
 * parents, time, author: {name, email}, subject, body, trailers: {Plan-Id,
 * Wave, Steps, Operator, ...}, tags}]}; time is RFC 3339 UTC.  An empty
 * history gives no commits.  *out is a new reference.
 */
int history_log(struct history *h, size_t max, json_t **out, struct nw_err *err);

/*
 * One revision (anything git rev-parse takes), as netwave.history-show/v1:
 * the commit as history_log gives it plus files: [{path, id, status
 * (added, modified, deleted), diff}] against its first parent (or the
 * empty tree).  For "REV:PATH", or when path is not NULL, the file at
 * that revision instead: {format, history, rev, path, id, content}.
 * NW_EINPUT for an unknown revision or path.  *out is a new reference.
 */
int history_show(struct history *h, const char *rev, const char *path, json_t **out,
    struct nw_err *err);

/*
 * What changed from rev1 to rev2, as netwave.history-diff/v1: {format,
 * history, from, to, files: [{path, id, status, diff}]}, files sorted by
 * path, diffs unified with three lines of context.  *out is a new
 * reference.
 */
int history_diff(struct history *h, const char *rev1, const char *rev2, json_t **out,
    struct nw_err *err);

#endif
