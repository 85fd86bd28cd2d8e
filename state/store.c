/*
 * The plan store: netwave's one SQLite file.  `netwave plan` saves a
 * netwave.plan/v1 document here (kept whole as canonical JSON, and shred
 * into waves, steps and gates rows); apply and rollback then move those
 * rows through their states, each move committed together with its
 * journal event, under a lease that keeps two runs off one plan.
 *
 * Opening is careful because the file is the user's: before SQLite may
 * write anything we look at the header ourselves and then at the schema
 * through a read-only connection, so a file that is not SQLite, a
 * database of some other program, a store from a newer netwave or a
 * damaged file is refused and left exactly as it was.  The schema is
 * versioned with PRAGMA user_version; the migrations below bring an
 * older store up to date in one transaction.
 *
 * This file opens, migrates and closes the store; the rest of it is in
 * store_plan.c (saving and reading plans), store_run.c (steps, waves,
 * gates and the journal), store_lease.c (the lease) and store_sql.c (the
 * helpers they share, store_int.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "plan/jsonutil.h"
#include "state/store_int.h"

/* How long a writer waits for another one before giving up. */
#define STORE_BUSY_TIMEOUT_MS 5000

/* ---- schema ------------------------------------------------------------ */

/*
 * Version 0 turns an empty file into a netwave store: only netwave_meta,
 * which is how a store is told apart from any other SQLite file.
 */
static const char *const schema_v0[] = {
	"CREATE TABLE netwave_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)",
	"INSERT INTO netwave_meta (key, value) VALUES ('application', 'netwave')",
	NULL,
};

/*
 * Version 1: plans and what apply needs.  The columns that come from the
 * plan document are guarded by triggers, so not even a hand-written UPDATE
 * can make the tables disagree with the document they were made from; only
 * the run state (status, attempts, images, times) moves.
 */
static const char *const schema_v1[] = {
	"CREATE TABLE plans ("
	" id TEXT PRIMARY KEY NOT NULL,"
	" created_at TEXT NOT NULL,"
	" current_fingerprint TEXT NOT NULL,"
	" target_fingerprint TEXT NOT NULL,"
	" status TEXT NOT NULL DEFAULT 'planned' CHECK (status IN"
	"  ('planned', 'applying', 'applied', 'partial', 'rolled-back', 'superseded')),"
	" superseded_by TEXT REFERENCES plans (id) ON DELETE RESTRICT,"
	" document TEXT NOT NULL)",
	"CREATE INDEX plans_by_current ON plans (current_fingerprint, status)",
	"CREATE INDEX plans_by_created ON plans (created_at)",
	"CREATE INDEX plans_by_superseded ON plans (superseded_by)",

	"CREATE TABLE waves ("
	" plan_id TEXT NOT NULL REFERENCES plans (id) ON DELETE RESTRICT,"
	" idx INTEGER NOT NULL CHECK (idx >= 0),"
	" name TEXT NOT NULL,"
	" kind TEXT NOT NULL,"
	" soak_seconds INTEGER NOT NULL DEFAULT 0 CHECK (soak_seconds >= 0),"
	" status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN"
	"  ('pending', 'running', 'done', 'failed', 'rolled-back')),"
	" started_at INTEGER,"
	" finished_at INTEGER,"
	" PRIMARY KEY (plan_id, idx))",

	"CREATE TABLE steps ("
	" plan_id TEXT NOT NULL,"
	" step_id TEXT NOT NULL,"
	" wave_idx INTEGER NOT NULL,"
	" seq INTEGER NOT NULL,"
	" procedure TEXT NOT NULL,"
	" action TEXT NOT NULL,"
	" resource TEXT NOT NULL,"
	" serialize_key TEXT NOT NULL,"
	" operation TEXT NOT NULL,"
	" inverse TEXT,"
	" irreversible INTEGER NOT NULL CHECK (irreversible IN (0, 1)),"
	" long_running INTEGER NOT NULL CHECK (long_running IN (0, 1)),"
	" status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN"
	"  ('pending', 'started', 'done', 'failed', 'rolled-back', 'skipped')),"
	" direction TEXT NOT NULL DEFAULT 'forward' CHECK (direction IN ('forward', 'rollback')),"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT,"
	" poll_url TEXT,"
	" before_image TEXT,"
	" after_image TEXT,"
	" started_at INTEGER,"
	" finished_at INTEGER,"
	" PRIMARY KEY (plan_id, step_id),"
	" UNIQUE (plan_id, wave_idx, seq),"
	" FOREIGN KEY (plan_id, wave_idx) REFERENCES waves (plan_id, idx) ON DELETE RESTRICT,"
	" CHECK ((inverse IS NULL) = (irreversible = 1)))",
	"CREATE INDEX steps_by_status ON steps (plan_id, status)",

	"CREATE TABLE gates ("
	" plan_id TEXT NOT NULL,"
	" gate_id TEXT NOT NULL,"
	" wave_idx INTEGER NOT NULL,"
	" seq INTEGER NOT NULL,"
	" kind TEXT NOT NULL,"
	" params TEXT NOT NULL,"
	" budget TEXT,"
	" status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN"
	"  ('pending', 'passed', 'failed', 'inconclusive', 'error')),"
	" last_result TEXT,"
	" failures INTEGER NOT NULL DEFAULT 0,"
	" inconclusive INTEGER NOT NULL DEFAULT 0,"
	" errors INTEGER NOT NULL DEFAULT 0,"
	" checked_at INTEGER,"
	" PRIMARY KEY (plan_id, gate_id),"
	" UNIQUE (plan_id, wave_idx, seq),"
	" FOREIGN KEY (plan_id, wave_idx) REFERENCES waves (plan_id, idx) ON DELETE RESTRICT)",

	"CREATE TABLE journal ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" plan_id TEXT NOT NULL REFERENCES plans (id) ON DELETE RESTRICT,"
	" at INTEGER NOT NULL,"
	" event TEXT NOT NULL,"
	" wave_idx INTEGER,"
	" step_id TEXT,"
	" detail TEXT)",
	"CREATE INDEX journal_by_plan ON journal (plan_id, seq)",

	"CREATE TABLE leases ("
	" plan_id TEXT PRIMARY KEY NOT NULL REFERENCES plans (id) ON DELETE RESTRICT,"
	" owner TEXT NOT NULL,"
	" pid INTEGER NOT NULL,"
	" host TEXT NOT NULL,"
	" acquired_at INTEGER NOT NULL,"
	" expires_at INTEGER NOT NULL)",

	"CREATE TRIGGER plans_immutable BEFORE UPDATE OF"
	" id, created_at, current_fingerprint, target_fingerprint, document ON plans"
	" BEGIN SELECT RAISE(ABORT,"
	"  'netwave plans are immutable: make a new plan, it supersedes this one'); END",
	"CREATE TRIGGER waves_immutable BEFORE UPDATE OF plan_id, idx, name, kind, soak_seconds ON waves"
	" BEGIN SELECT RAISE(ABORT, 'netwave waves are immutable apart from their run state'); END",
	"CREATE TRIGGER steps_immutable BEFORE UPDATE OF"
	" plan_id, step_id, wave_idx, seq, procedure, action, resource, serialize_key,"
	" operation, inverse, irreversible, long_running ON steps"
	" BEGIN SELECT RAISE(ABORT, 'netwave steps are immutable apart from their run state'); END",
	"CREATE TRIGGER gates_immutable BEFORE UPDATE OF"
	" plan_id, gate_id, wave_idx, seq, kind, params, budget ON gates"
	" BEGIN SELECT RAISE(ABORT, 'netwave gates are immutable apart from their results'); END",
	"CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal"
	" BEGIN SELECT RAISE(ABORT, 'the netwave journal is append-only'); END",
	"CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal"
	" BEGIN SELECT RAISE(ABORT, 'the netwave journal is append-only'); END",

	"PRAGMA user_version = 1",
	NULL,
};

/*
 * Version 2: the last preflight of each plan (state/store_preflight.c), kept
 * beside the plan rather than in it, since a plan is immutable and its
 * preflight is re-run against an estate that moves.
 */
static const char *const schema_v2[] = {
	"CREATE TABLE preflights ("
	" plan_id TEXT PRIMARY KEY NOT NULL REFERENCES plans (id) ON DELETE CASCADE,"
	" checked_at INTEGER NOT NULL,"
	" blockers INTEGER NOT NULL,"
	" warnings INTEGER NOT NULL,"
	" document TEXT NOT NULL)",
	"PRAGMA user_version = 2",
	NULL,
};

/* migrations[v] brings a store from version v - 1 (or nothing) to v. */
static const char *const *const migrations[] = { schema_v0, schema_v1, schema_v2 };

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == STORE_SCHEMA_VERSION + 1,
    "one migration per schema version");


/* ---- opening ------------------------------------------------------------ */

/*
 * A file: URI for path, so that the read-only check can ask for mode=ro and
 * immutable, and so that no character of a path is ever read as URI syntax.
 */
static char *
path_uri(const char *path, const char *query)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(path), q = strlen(query);
	char *uri = malloc(8 + 3 * n + 1 + q + 1), *p;

	if (uri == NULL)
		return NULL;
	p = uri;
	memcpy(p, "file:", 5);
	p += 5;
	if (path[0] == '/') {
		/* an empty authority, so "//x" can never be read as a host */
		memcpy(p, "//", 2);
		p += 2;
	}
	for (const unsigned char *c = (const unsigned char *)path; *c != '\0'; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		    *c == '/' || *c == '.' || *c == '-' || *c == '_' || *c == '~') {
			*p++ = (char)*c;
		} else {
			*p++ = '%';
			*p++ = hex[*c >> 4];
			*p++ = hex[*c & 15];
		}
	}
	*p++ = '?';
	memcpy(p, query, q + 1);
	return uri;
}

/*
 * Looks at the first bytes ourselves, before SQLite is allowed near the
 * file: anything not starting with SQLite's magic is refused here.  Sets
 * *wal when the header says the database is in WAL mode.
 */
static int
check_header(const char *path, bool *wal, struct nw_err *err)
{
	static const char magic[16] = "SQLite format 3";
	unsigned char head[100];
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	*wal = false;
	if (fd < 0)
		return err_set(err, NW_EIO, "cannot open plan store '%s': %s", path, strerror(errno));
	while (got < sizeof(head)) {
		ssize_t n = read(fd, head + got, sizeof(head) - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			return err_set(err, NW_EIO, "cannot read plan store '%s': %s", path, strerror(e));
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got < sizeof(magic) || memcmp(head, magic, sizeof(magic)) != 0)
		return err_set(err, NW_EINPUT, "cannot open plan store '%s': is not an SQLite database",
		    path);
	*wal = got >= 20 && (head[18] == 2 || head[19] == 2);
	return 0;
}

static bool
file_exists(const char *path, const char *suffix)
{
	char buf[4096];
	struct stat sb;

	if ((size_t)snprintf(buf, sizeof(buf), "%s%s", path, suffix) >= sizeof(buf))
		return true; /* cannot tell: assume it does, the careful answer */
	return stat(buf, &sb) == 0;
}

/*
 * What kind of database a connection looks at, read without writing:
 * *objects counts its schema objects, *has_meta says whether netwave_meta
 * exists and names netwave, *version is its user_version.
 */
static int
schema_probe(sqlite3 *db, const char *path, int *objects, bool *has_meta, int *version,
    struct nw_err *err)
{
	sqlite3_stmt *s = NULL;
	char *app = NULL;
	int rc, ret = 0;
	bool meta_table = false;

	*objects = 0;
	*has_meta = false;
	*version = 0;
	rc = sqlite3_prepare_v2(db,
	    "SELECT count(*), sum(type = 'table' AND name = 'netwave_meta')"
	    " FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'", -1, &s, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		*objects = sqlite3_column_int(s, 0);
		meta_table = sqlite3_column_int(s, 1) > 0;
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (rc != SQLITE_OK)
		goto sqlfail;

	rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		*version = sqlite3_column_int(s, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (rc != SQLITE_OK)
		goto sqlfail;

	if (!meta_table)
		goto done;
	rc = sqlite3_prepare_v2(db, "SELECT value FROM netwave_meta WHERE key = 'application'", -1, &s,
	    NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			bool nomem = false;

			app = st_col_strdup(s, 0, &nomem);
			if (nomem) {
				ret = err_set(err, NW_ENOMEM, "out of memory");
				goto done;
			}
			rc = SQLITE_OK;
		} else if (rc == SQLITE_DONE) {
			rc = SQLITE_OK;
		}
	}
	if (rc != SQLITE_OK)
		goto sqlfail;
	if (app == NULL || strcmp(app, "netwave") != 0) {
		ret = err_set(err, NW_EINPUT,
		    "cannot open plan store '%s': not a netwave plan store (netwave_meta names application '%s')",
		    path, app != NULL ? app : "");
		goto done;
	}
	*has_meta = true;
	goto done;
sqlfail:
	ret = st_err_sqlite_open(err, db, path, rc);
done:
	sqlite3_finalize(s);
	free(app);
	return ret;
}

/*
 * An SQLite database with nothing in it at all may become a store, but
 * only when asked to create one (it is also what a store looks like for
 * an instant while another process creates it).
 */
static int
refuse_unless_ours(const char *path, int objects, bool has_meta, int version, bool create,
    struct nw_err *err)
{
	if (!has_meta && (objects > 0 || version != 0 || !create))
		return err_set(err, NW_EINPUT,
		    "cannot open plan store '%s': not a netwave plan store (no netwave_meta table)", path);
	if (version > STORE_SCHEMA_VERSION)
		return err_set(err, NW_EINPUT,
		    "cannot open plan store '%s': was written by a newer netwave"
		    " (schema %d, this one understands %d)",
		    path, version, STORE_SCHEMA_VERSION);
	return 0;
}

/*
 * The read-only look at an existing file.  A WAL database whose -wal file
 * is absent has nothing outside the main file, so it is read as immutable:
 * a plain read-only open would leave -wal and -shm files beside a database
 * we are about to refuse.
 */
static int
check_readonly(const char *path, bool wal, bool create, struct nw_err *err)
{
	bool immutable = wal && !file_exists(path, "-wal");
	char *uri = path_uri(path, immutable ? "mode=ro&immutable=1" : "mode=ro");
	sqlite3 *db = NULL;
	int objects, version, rc, ret;
	bool has_meta;

	if (uri == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
	free(uri);
	if (rc != SQLITE_OK) {
		ret = st_err_sqlite_open(err, db, path, rc);
		goto done;
	}
	sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS);
	ret = schema_probe(db, path, &objects, &has_meta, &version, err);
	if (ret == 0)
		ret = refuse_unless_ours(path, objects, has_meta, version, create, err);
done:
	sqlite3_close_v2(db);
	return ret;
}

/* One pragma whose answer must read back as expected (journal_mode, foreign_keys). */
static int
pragma_expect(struct store *st, const char *sql, const char *want, struct nw_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc = st_prepare(st, sql, &s), ret = 0;

	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *got = sqlite3_column_text(s, 0);

		if (want != NULL && (got == NULL || strcmp((const char *)got, want) != 0))
			ret = err_set(err, NW_EIO, "cannot open plan store '%s': '%s' answered '%s', not '%s'",
			    st->path, sql, got != NULL ? (const char *)got : "", want);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_OK)
		ret = st_err_sqlite_open(err, st->db, st->path, rc);
	sqlite3_finalize(s);
	return ret;
}

/*
 * Brings the schema to STORE_SCHEMA_VERSION in one transaction.  The
 * checks are made again inside it, under the write lock, because another
 * process may have created or migrated the store since we looked.
 */
static int
migrate(struct store *st, bool create, struct nw_err *err)
{
	int objects, version, rc, ret = 0;
	bool has_meta;

	ret = schema_probe(st->db, st->path, &objects, &has_meta, &version, err);
	if (ret != 0 || (has_meta && version == STORE_SCHEMA_VERSION))
		return ret;

	rc = st_tx_begin(st);
	if (rc != SQLITE_OK)
		return st_err_sqlite_open(err, st->db, st->path, rc);
	ret = schema_probe(st->db, st->path, &objects, &has_meta, &version, err);
	if (ret == 0)
		ret = refuse_unless_ours(st->path, objects, has_meta, version, create, err);
	if (ret != 0)
		goto done;
	for (int v = has_meta ? version + 1 : 0; v <= STORE_SCHEMA_VERSION; v++) {
		for (const char *const *sql = migrations[v]; *sql != NULL; sql++) {
			rc = sqlite3_exec(st->db, *sql, NULL, NULL, NULL);
			if (rc != SQLITE_OK) {
				ret = err_set(err, st_status_from_sqlite(rc),
				    "cannot migrate plan store '%s' to schema %d: %s", st->path, v,
				    sqlite3_errmsg(st->db));
				goto done;
			}
		}
	}
	rc = st_tx_commit(st);
	if (rc != SQLITE_OK)
		ret = st_err_sqlite_open(err, st->db, st->path, rc);
done:
	st_tx_rollback(st);
	return ret;
}

int
store_open(struct store **out, const char *path, bool create, struct nw_err *err)
{
	struct store *st = NULL;
	struct stat sb;
	char *uri = NULL;
	bool wal = false, fresh = false;
	int rc, ret = 0;

	*out = NULL;
	if (path == NULL || path[0] == '\0')
		return err_set(err, NW_EINPUT, "cannot open plan store: no path given");
	if (stat(path, &sb) != 0) {
		int fd;

		if (errno != ENOENT)
			return err_set(err, NW_EIO, "cannot open plan store '%s': %s", path, strerror(errno));
		if (!create)
			return err_set(err, NW_EINPUT, "cannot open plan store '%s': no such file", path);
		/* made here, not by SQLite, so the store (and its -wal, -shm) are private */
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
		if (fd < 0 && errno != EEXIST)
			return err_set(err, NW_EIO, "cannot create plan store '%s': %s", path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			fresh = true;
		}
		if (stat(path, &sb) != 0)
			return err_set(err, NW_EIO, "cannot open plan store '%s': %s", path, strerror(errno));
	}
	if (!S_ISREG(sb.st_mode))
		return err_set(err, NW_EINPUT, "cannot open plan store '%s': not a regular file", path);
	if (sb.st_size == 0) {
		if (!create && !fresh)
			return err_set(err, NW_EINPUT,
			    "cannot open plan store '%s': not a netwave plan store (empty file)", path);
	} else {
		ret = check_header(path, &wal, err);
		if (ret == 0)
			ret = check_readonly(path, wal, create, err);
		if (ret != 0)
			return ret;
	}

	st = calloc(1, sizeof(*st));
	if (st == NULL || (st->path = strdup(path)) == NULL) {
		ret = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	uri = path_uri(path, "mode=rw");
	if (uri == NULL) {
		ret = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	rc = sqlite3_open_v2(uri, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI, NULL);
	if (rc != SQLITE_OK) {
		ret = st_err_sqlite_open(err, st->db, path, rc);
		goto done;
	}
	sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
	/* no writable_schema tricks, even from a damaged or hostile file */
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
	ret = pragma_expect(st, "PRAGMA foreign_keys = ON", NULL, err);
	if (ret == 0)
		ret = pragma_expect(st, "PRAGMA foreign_keys", "1", err);
	if (ret == 0)
		ret = pragma_expect(st, "PRAGMA journal_mode = WAL", "wal", err);
	if (ret == 0)
		ret = pragma_expect(st, "PRAGMA synchronous = FULL", NULL, err);
	if (ret == 0)
		ret = migrate(st, create || fresh, err);
	if (ret != 0)
		goto done;
	*out = st;
	st = NULL;
done:
	free(uri);
	store_close(st);
	return ret;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	sqlite3_close_v2(st->db);
	free(st->path);
	free(st);
}

/* The first column of a one-row pragma, as text (copied) or integer. */
static int
pragma_read(struct store *st, const char *sql, char **text, long long *num)
{
	sqlite3_stmt *s = NULL;
	bool nomem = false;
	int rc = st_prepare(st, sql, &s);

	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (text != NULL)
			*text = st_col_strdup(s, 0, &nomem);
		if (num != NULL)
			*num = sqlite3_column_int64(s, 0);
		rc = nomem ? SQLITE_NOMEM : SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_ERROR;
	}
	sqlite3_finalize(s);
	return rc;
}

int
store_info_get(struct store *st, json_t **out, struct nw_err *err)
{
	static const char *const sync_names[] = { "off", "normal", "full", "extra" };
	char *mode = NULL;
	long long version = 0, fk = 0, sync = 0, busy = 0;
	int rc;

	*out = NULL;
	rc = pragma_read(st, "PRAGMA user_version", NULL, &version);
	if (rc == SQLITE_OK)
		rc = pragma_read(st, "PRAGMA journal_mode", &mode, NULL);
	if (rc == SQLITE_OK)
		rc = pragma_read(st, "PRAGMA foreign_keys", NULL, &fk);
	if (rc == SQLITE_OK)
		rc = pragma_read(st, "PRAGMA synchronous", NULL, &sync);
	if (rc == SQLITE_OK)
		rc = pragma_read(st, "PRAGMA busy_timeout", NULL, &busy);
	if (rc != SQLITE_OK) {
		free(mode);
		return st_err_sqlite(err, st, rc, "cannot read the settings");
	}
	*out = json_pack("{s:s, s:I, s:s, s:b, s:s, s:I}", "path", st->path, "schemaVersion",
	    (json_int_t)version, "journalMode", mode != NULL ? mode : "", "foreignKeys", fk != 0,
	    "synchronous", sync >= 0 && sync < 4 ? sync_names[sync] : "?", "busyTimeoutMs",
	    (json_int_t)busy);
	free(mode);
	if (*out == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	return 0;
}

