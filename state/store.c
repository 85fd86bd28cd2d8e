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
#include "plan/plan_json.h"
#include "state/store.h"

/* How long a writer waits for another one before giving up. */
#define STORE_BUSY_TIMEOUT_MS 5000

/* SQLite's own default: a checkpoint once the log holds this many pages. */
#ifndef SQLITE_DEFAULT_WAL_AUTOCHECKPOINT
#define SQLITE_DEFAULT_WAL_AUTOCHECKPOINT 1000
#endif

/* Candidates named when a plan id prefix is ambiguous. */
#define STORE_PREFIX_SHOWN 5

struct store {
	sqlite3 *db;
	char *path;
};

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

/* migrations[v] brings a store from version v - 1 (or nothing) to v. */
static const char *const *const migrations[] = { schema_v0, schema_v1 };

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == STORE_SCHEMA_VERSION + 1,
    "one migration per schema version");

/*
 * A plan's status follows from its lease, waves and steps; it is kept in
 * plans.status by working it out in every transaction that moves any of
 * them, so listing plans never has to walk their steps.  The row is only
 * written when the status changes: an UPDATE rewrites the whole record,
 * document included, which for a plan of thousands of steps is megabytes
 * per step transition (and why document is the last column: reading the
 * others never walks its overflow pages).
 */
static const char sql_plan_status[] =
	"SELECT CASE"
	" WHEN EXISTS (SELECT 1 FROM leases WHERE plan_id = ?1) THEN 'applying'"
	" WHEN EXISTS (SELECT 1 FROM waves WHERE plan_id = ?1)"
	"  AND NOT EXISTS (SELECT 1 FROM waves WHERE plan_id = ?1 AND status <> 'done') THEN 'applied'"
	" WHEN NOT EXISTS (SELECT 1 FROM steps WHERE plan_id = ?1"
	"   AND status IN ('started', 'done', 'failed'))"
	"  AND NOT EXISTS (SELECT 1 FROM waves WHERE plan_id = ?1"
	"   AND status IN ('running', 'done', 'failed'))"
	"  AND (EXISTS (SELECT 1 FROM steps WHERE plan_id = ?1 AND status = 'rolled-back')"
	"   OR EXISTS (SELECT 1 FROM waves WHERE plan_id = ?1 AND status = 'rolled-back'))"
	"  THEN 'rolled-back'"
	" WHEN EXISTS (SELECT 1 FROM steps WHERE plan_id = ?1 AND status <> 'pending')"
	"  OR EXISTS (SELECT 1 FROM waves WHERE plan_id = ?1 AND status <> 'pending') THEN 'partial'"
	" WHEN superseded_by IS NOT NULL THEN 'superseded'"
	" ELSE 'planned' END, status"
	" FROM plans WHERE id = ?1";

/* ---- names of states ---------------------------------------------------- */

static const char *const step_status_names[] = {
	"pending", "started", "done", "failed", "rolled-back", "skipped",
};
static const char *const direction_names[] = { "forward", "rollback" };
static const char *const wave_status_names[] = {
	"pending", "running", "done", "failed", "rolled-back",
};
static const char *const gate_outcome_names[] = { "passed", "failed", "inconclusive", "error" };

#define NAME_OF(table, v) \
	((unsigned)(v) < sizeof(table) / sizeof(table[0]) ? table[(unsigned)(v)] : "?")

const char *
store_step_status_name(enum store_step_status s)
{
	return NAME_OF(step_status_names, s);
}

const char *
store_direction_name(enum store_direction d)
{
	return NAME_OF(direction_names, d);
}

const char *
store_wave_status_name(enum store_wave_status s)
{
	return NAME_OF(wave_status_names, s);
}

const char *
store_gate_outcome_name(enum store_gate_outcome o)
{
	return NAME_OF(gate_outcome_names, o);
}

static int
step_status_parse(const char *s)
{
	for (size_t i = 0; s != NULL && i < sizeof(step_status_names) / sizeof(step_status_names[0]); i++)
		if (strcmp(s, step_status_names[i]) == 0)
			return (int)i;
	return -1;
}

/* ---- errors ------------------------------------------------------------- */

static int
status_from_sqlite(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_NOMEM:
		return NW_ENOMEM;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_TOOBIG:
		return NW_EINPUT;
	default:
		return NW_EIO;
	}
}

/*
 * The one place SQLite's errors become ours: "<what> in plan store 'x.db':
 * <sqlite's message>".  Call it straight after the failing call, before a
 * ROLLBACK replaces the connection's message.
 */
static int err_from_sqlite(struct nw_err *err, struct store *st, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
err_from_sqlite(struct nw_err *err, struct store *st, int rc, const char *fmt, ...)
{
	char what[NW_ERR_MSG_MAX];
	const char *msg;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	msg = st->db != NULL ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc);
	if (rc == SQLITE_NOMEM)
		msg = sqlite3_errstr(rc);
	return err_set(err, status_from_sqlite(rc), "%s in plan store '%s': %s", what, st->path, msg);
}

/* The same for opening, where the file is all there is to name. */
static int
err_from_sqlite_open(struct nw_err *err, sqlite3 *db, const char *path, int rc)
{
	const char *msg = db != NULL && rc != SQLITE_NOMEM ? sqlite3_errmsg(db) : sqlite3_errstr(rc);

	return err_set(err, status_from_sqlite(rc), "cannot open plan store '%s': %s", path, msg);
}

static int
err_no_plan(struct nw_err *err, struct store *st, const char *plan_id)
{
	return err_set(err, NW_EINPUT, "no plan '%s' in plan store '%s'", plan_id, st->path);
}

/* ---- small SQL helpers -------------------------------------------------- */

static int
sql_prepare(struct store *st, const char *sql, sqlite3_stmt **out)
{
	return sqlite3_prepare_v2(st->db, sql, -1, out, NULL);
}

static int
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	return v == NULL ? sqlite3_bind_null(s, i) : sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

/*
 * JSON columns hold compact text with sorted keys; NULL (or JSON null)
 * stays NULL.  SQLite takes the text over rather than copying it.
 */
static int
bind_json(sqlite3_stmt *s, int i, const json_t *v)
{
	char *text;
	size_t len;

	if (v == NULL || json_is_null(v))
		return sqlite3_bind_null(s, i);
	text = plan_json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY, false, &len);
	if (text == NULL)
		return SQLITE_NOMEM;
	return sqlite3_bind_text64(s, i, text, len, free, SQLITE_UTF8);
}

/* Runs a statement that returns no rows (or whose rows do not matter). */
static int
sql_run(sqlite3_stmt *s)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		;
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int
tx_begin(struct store *st)
{
	return sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
}

static int
tx_commit(struct store *st)
{
	return sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
}

static void
tx_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

static void
time_iso(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "@%lld", (long long)t);
}

/* The text of a column, copied (sqlite's copy dies at the next step); NULL stays NULL. */
static char *
col_strdup(sqlite3_stmt *s, int i, bool *nomem)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	char *copy;

	if (t == NULL)
		return NULL;
	copy = strdup((const char *)t);
	if (copy == NULL)
		*nomem = true;
	return copy;
}

static json_t *
col_json_string(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t == NULL ? json_null() : json_string((const char *)t);
}

/* A stored JSON column as a value (json_loads copies); NULL when the text is damaged. */
static json_t *
col_json(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	if (t == NULL)
		return json_null();
	return json_loads((const char *)t, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
}

static json_t *
col_time(sqlite3_stmt *s, int i)
{
	char buf[40];

	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return json_null();
	time_iso((time_t)sqlite3_column_int64(s, i), buf, sizeof(buf));
	return json_string(buf);
}

/* Sets key to v (stolen); false when v is NULL (out of memory or a damaged column). */
static bool
obj_put(json_t *obj, const char *key, json_t *v)
{
	return v != NULL && json_object_set_new(obj, key, v) == 0;
}

static int
plan_refresh(struct store *st, const char *plan_id)
{
	sqlite3_stmt *s = NULL;
	char status[32] = "";
	bool changed = false;
	int rc = sql_prepare(st, sql_plan_status, &s);

	if (rc == SQLITE_OK)
		rc = bind_text(s, 1, plan_id);
	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *want = sqlite3_column_text(s, 0);
		const unsigned char *have = sqlite3_column_text(s, 1);

		changed = want != NULL && (have == NULL || strcmp((const char *)want, (const char *)have) != 0);
		if (changed)
			snprintf(status, sizeof(status), "%s", (const char *)want);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (rc != SQLITE_OK || !changed)
		return rc;
	rc = sql_prepare(st, "UPDATE plans SET status = ?2 WHERE id = ?1", &s);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 1, plan_id);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 2, status);
	if (rc == SQLITE_OK)
		rc = sql_run(s);
	sqlite3_finalize(s);
	return rc;
}

static int
plan_exists(struct store *st, const char *plan_id, bool *found)
{
	sqlite3_stmt *s = NULL;
	int rc = sql_prepare(st, "SELECT 1 FROM plans WHERE id = ?1", &s);

	*found = false;
	if (rc == SQLITE_OK)
		rc = bind_text(s, 1, plan_id);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(s);
		*found = rc == SQLITE_ROW;
		rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
	}
	sqlite3_finalize(s);
	return rc;
}

/* Appends one journal event inside the caller's transaction. */
static int
journal_add(struct store *st, const char *plan_id, time_t now, const char *event, int wave_idx,
    const char *step_id, const json_t *detail)
{
	sqlite3_stmt *s = NULL;
	int rc = sql_prepare(st,
	    "INSERT INTO journal (plan_id, at, event, wave_idx, step_id, detail)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &s);

	if (rc == SQLITE_OK)
		rc = bind_text(s, 1, plan_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 2, (sqlite3_int64)now);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 3, event);
	if (rc == SQLITE_OK)
		rc = wave_idx >= 0 ? sqlite3_bind_int(s, 4, wave_idx) : sqlite3_bind_null(s, 4);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 5, step_id);
	if (rc == SQLITE_OK)
		rc = bind_json(s, 6, detail);
	if (rc == SQLITE_OK)
		rc = sql_run(s);
	sqlite3_finalize(s);
	return rc;
}

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

			app = col_strdup(s, 0, &nomem);
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
	ret = err_from_sqlite_open(err, db, path, rc);
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
		ret = err_from_sqlite_open(err, db, path, rc);
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
	int rc = sql_prepare(st, sql, &s), ret = 0;

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
		ret = err_from_sqlite_open(err, st->db, st->path, rc);
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

	rc = tx_begin(st);
	if (rc != SQLITE_OK)
		return err_from_sqlite_open(err, st->db, st->path, rc);
	ret = schema_probe(st->db, st->path, &objects, &has_meta, &version, err);
	if (ret == 0)
		ret = refuse_unless_ours(st->path, objects, has_meta, version, create, err);
	if (ret != 0)
		goto done;
	for (int v = has_meta ? version + 1 : 0; v <= STORE_SCHEMA_VERSION; v++) {
		for (const char *const *sql = migrations[v]; *sql != NULL; sql++) {
			rc = sqlite3_exec(st->db, *sql, NULL, NULL, NULL);
			if (rc != SQLITE_OK) {
				ret = err_set(err, status_from_sqlite(rc),
				    "cannot migrate plan store '%s' to schema %d: %s", st->path, v,
				    sqlite3_errmsg(st->db));
				goto done;
			}
		}
	}
	rc = tx_commit(st);
	if (rc != SQLITE_OK)
		ret = err_from_sqlite_open(err, st->db, st->path, rc);
done:
	tx_rollback(st);
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
		ret = err_from_sqlite_open(err, st->db, path, rc);
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
	int rc = sql_prepare(st, sql, &s);

	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (text != NULL)
			*text = col_strdup(s, 0, &nomem);
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
		return err_from_sqlite(err, st, rc, "cannot read the settings");
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

/* ---- saving plans ------------------------------------------------------- */

static int
plan_bad(struct nw_err *err, const char *id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
plan_bad(struct nw_err *err, const char *id, const char *fmt, ...)
{
	char what[NW_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (id != NULL)
		return err_set(err, NW_EINPUT, "cannot save plan %s: %s", id, what);
	return err_set(err, NW_EINPUT, "cannot save plan: %s", what);
}

static bool
is_nonempty_string(const json_t *v)
{
	return json_is_string(v) && json_string_length(v) > 0;
}

/*
 * Everything the tables need from the document, checked before the
 * transaction starts so a bad plan is refused with a message that says
 * where, and rollback can trust that inverse is null exactly when a step
 * is irreversible.
 */
static int
plan_check(const json_t *plan, struct nw_err *err)
{
	const char *id = json_str(plan, "id");
	const json_t *waves = json_object_get(plan, "waves");
	size_t wi, si, gi;
	const json_t *w, *s, *g;

	if (!json_is_object(plan))
		return plan_bad(err, NULL, "the document is not a JSON object");
	if (json_str(plan, "format") == NULL || strcmp(json_str(plan, "format"), "netwave.plan/v1") != 0)
		return plan_bad(err, id, "the document is not netwave.plan/v1");
	if (id == NULL || id[0] == '\0')
		return plan_bad(err, NULL, "the document has no \"id\"");
	if (!is_nonempty_string(json_object_get(plan, "createdAt")))
		return plan_bad(err, id, "no \"createdAt\"");
	if (!is_nonempty_string(json_path(plan, "current", "fingerprint", NULL)))
		return plan_bad(err, id, "no \"current\".\"fingerprint\"");
	if (!is_nonempty_string(json_path(plan, "target", "fingerprint", NULL)))
		return plan_bad(err, id, "no \"target\".\"fingerprint\"");
	if (!json_is_array(waves))
		return plan_bad(err, id, "\"waves\" is not an array");
	json_array_foreach(waves, wi, w) {
		const json_t *steps = json_object_get(w, "steps"), *gates = json_object_get(w, "gates");
		const json_t *soak = json_object_get(w, "soakSeconds");

		if (!json_is_object(w))
			return plan_bad(err, id, "wave %zu is not an object", wi);
		if (!json_is_integer(json_object_get(w, "index")) ||
		    json_integer_value(json_object_get(w, "index")) != (json_int_t)wi)
			return plan_bad(err, id, "wave %zu has \"index\" other than %zu", wi, wi);
		if (!is_nonempty_string(json_object_get(w, "name")))
			return plan_bad(err, id, "wave %zu has no \"name\"", wi);
		if (!is_nonempty_string(json_object_get(w, "kind")))
			return plan_bad(err, id, "wave %zu has no \"kind\"", wi);
		if (soak != NULL && (!json_is_integer(soak) || json_integer_value(soak) < 0))
			return plan_bad(err, id, "wave %zu has a \"soakSeconds\" that is not a count of seconds",
			    wi);
		if (!json_is_array(steps))
			return plan_bad(err, id, "wave %zu has no \"steps\" array", wi);
		if (gates != NULL && !json_is_array(gates))
			return plan_bad(err, id, "wave %zu has \"gates\" that is not an array", wi);
		json_array_foreach(steps, si, s) {
			const char *sid = json_str(s, "id");
			const json_t *inv = json_object_get(s, "inverse");
			bool irreversible = json_is_true(json_object_get(s, "irreversible"));
			static const char *const required[] = { "procedure", "action", "resource" };

			if (!json_is_object(s) || sid == NULL || sid[0] == '\0')
				return plan_bad(err, id, "wave %zu step %zu has no \"id\"", wi, si);
			for (size_t k = 0; k < sizeof(required) / sizeof(required[0]); k++)
				if (!is_nonempty_string(json_object_get(s, required[k])))
					return plan_bad(err, id, "step %s has no \"%s\"", sid, required[k]);
			if (json_object_get(s, "serializeKey") != NULL &&
			    !is_nonempty_string(json_object_get(s, "serializeKey")))
				return plan_bad(err, id, "step %s has a \"serializeKey\" that is not a string",
				    sid);
			if (!json_is_object(json_object_get(s, "operation")))
				return plan_bad(err, id, "step %s has no \"operation\" object", sid);
			if (inv != NULL && !json_is_null(inv) && !json_is_object(inv))
				return plan_bad(err, id, "step %s has an \"inverse\" that is not an object", sid);
			if (irreversible && json_is_object(inv))
				return plan_bad(err, id, "step %s is irreversible but has an inverse", sid);
			if (!irreversible && !json_is_object(inv))
				return plan_bad(err, id, "step %s has no inverse and is not marked irreversible",
				    sid);
		}
		json_array_foreach(gates, gi, g) {
			const char *gid = json_str(g, "id");
			const json_t *params = json_object_get(g, "params"), *budget = json_object_get(g, "budget");

			if (!json_is_object(g) || gid == NULL || gid[0] == '\0')
				return plan_bad(err, id, "wave %zu gate %zu has no \"id\"", wi, gi);
			if (!is_nonempty_string(json_object_get(g, "kind")))
				return plan_bad(err, id, "gate %s has no \"kind\"", gid);
			if (params != NULL && !json_is_object(params))
				return plan_bad(err, id, "gate %s has \"params\" that is not an object", gid);
			if (budget != NULL && !json_is_null(budget) && !json_is_object(budget))
				return plan_bad(err, id, "gate %s has a \"budget\" that is not an object", gid);
		}
	}
	return 0;
}

/* Inserts the waves, steps and gates of a checked plan (inside the save transaction). */
static int
plan_insert_rows(struct store *st, const char *id, const json_t *waves)
{
	sqlite3_stmt *ws = NULL, *ss = NULL, *gs = NULL;
	size_t wi, si, gi;
	const json_t *w, *s, *g;
	int rc;

	rc = sql_prepare(st,
	    "INSERT INTO waves (plan_id, idx, name, kind, soak_seconds) VALUES (?1, ?2, ?3, ?4, ?5)",
	    &ws);
	if (rc == SQLITE_OK)
		rc = sql_prepare(st,
		    "INSERT INTO steps (plan_id, step_id, wave_idx, seq, procedure, action, resource,"
		    " serialize_key, operation, inverse, irreversible, long_running)"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)", &ss);
	if (rc == SQLITE_OK)
		rc = sql_prepare(st,
		    "INSERT INTO gates (plan_id, gate_id, wave_idx, seq, kind, params, budget)"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", &gs);
	if (rc != SQLITE_OK)
		goto done;

	json_array_foreach(waves, wi, w) {
		const json_t *soak = json_object_get(w, "soakSeconds");

		sqlite3_reset(ws);
		if ((rc = bind_text(ws, 1, id)) != SQLITE_OK ||
		    (rc = sqlite3_bind_int64(ws, 2, (sqlite3_int64)wi)) != SQLITE_OK ||
		    (rc = bind_text(ws, 3, json_str(w, "name"))) != SQLITE_OK ||
		    (rc = bind_text(ws, 4, json_str(w, "kind"))) != SQLITE_OK ||
		    (rc = sqlite3_bind_int64(ws, 5, soak != NULL ? json_integer_value(soak) : 0)) != SQLITE_OK ||
		    (rc = sql_run(ws)) != SQLITE_OK)
			goto done;

		json_array_foreach(json_object_get(w, "steps"), si, s) {
			const char *key = json_str(s, "serializeKey");

			sqlite3_reset(ss);
			if ((rc = bind_text(ss, 1, id)) != SQLITE_OK ||
			    (rc = bind_text(ss, 2, json_str(s, "id"))) != SQLITE_OK ||
			    (rc = sqlite3_bind_int64(ss, 3, (sqlite3_int64)wi)) != SQLITE_OK ||
			    (rc = sqlite3_bind_int64(ss, 4, (sqlite3_int64)si)) != SQLITE_OK ||
			    (rc = bind_text(ss, 5, json_str(s, "procedure"))) != SQLITE_OK ||
			    (rc = bind_text(ss, 6, json_str(s, "action"))) != SQLITE_OK ||
			    (rc = bind_text(ss, 7, json_str(s, "resource"))) != SQLITE_OK ||
			    /* a step without a key serializes on the resource it touches */
			    (rc = bind_text(ss, 8, key != NULL ? key : json_str(s, "resource"))) != SQLITE_OK ||
			    (rc = bind_json(ss, 9, json_object_get(s, "operation"))) != SQLITE_OK ||
			    (rc = bind_json(ss, 10, json_object_get(s, "inverse"))) != SQLITE_OK ||
			    (rc = sqlite3_bind_int(ss, 11, json_is_true(json_object_get(s, "irreversible")))) !=
				SQLITE_OK ||
			    (rc = sqlite3_bind_int(ss, 12, json_is_true(json_object_get(s, "longRunning")))) !=
				SQLITE_OK ||
			    (rc = sql_run(ss)) != SQLITE_OK)
				goto done;
		}

		json_array_foreach(json_object_get(w, "gates"), gi, g) {
			const json_t *params = json_object_get(g, "params");
			json_t *empty = NULL;

			sqlite3_reset(gs);
			if (params == NULL)
				params = empty = json_object();
			if ((rc = bind_text(gs, 1, id)) != SQLITE_OK ||
			    (rc = bind_text(gs, 2, json_str(g, "id"))) != SQLITE_OK ||
			    (rc = sqlite3_bind_int64(gs, 3, (sqlite3_int64)wi)) != SQLITE_OK ||
			    (rc = sqlite3_bind_int64(gs, 4, (sqlite3_int64)gi)) != SQLITE_OK ||
			    (rc = bind_text(gs, 5, json_str(g, "kind"))) != SQLITE_OK ||
			    (rc = bind_json(gs, 6, params)) != SQLITE_OK ||
			    (rc = bind_json(gs, 7, json_object_get(g, "budget"))) != SQLITE_OK ||
			    (rc = sql_run(gs)) != SQLITE_OK) {
				json_decref(empty);
				goto done;
			}
			json_decref(empty);
		}
	}
done:
	sqlite3_finalize(ws);
	sqlite3_finalize(ss);
	sqlite3_finalize(gs);
	return rc;
}

/*
 * Of the plans made from one current topology and never started, only the
 * newest (by createdAt, then by saving order) stays "planned"; the others
 * point at it through superseded_by.
 */
static int
plan_supersede(struct store *st, const char *fingerprint)
{
	sqlite3_stmt *s = NULL;
	int rc = sql_prepare(st,
	    "UPDATE plans SET status = 'superseded', superseded_by ="
	    " (SELECT id FROM plans WHERE current_fingerprint = ?1 AND status = 'planned'"
	    "  ORDER BY created_at DESC, rowid DESC LIMIT 1)"
	    " WHERE current_fingerprint = ?1 AND status = 'planned' AND id <>"
	    " (SELECT id FROM plans WHERE current_fingerprint = ?1 AND status = 'planned'"
	    "  ORDER BY created_at DESC, rowid DESC LIMIT 1)", &s);

	if (rc == SQLITE_OK)
		rc = bind_text(s, 1, fingerprint);
	if (rc == SQLITE_OK)
		rc = sql_run(s);
	sqlite3_finalize(s);
	return rc;
}

int
store_plan_save(struct store *st, const json_t *plan, struct nw_err *err)
{
	size_t len;
	char *doc = plan_json_dumps(plan, JSON_CANONICAL | JSON_ENCODE_ANY, true, &len);
	int rc;

	if (doc == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	rc = store_plan_save_text(st, plan, doc, len, err);
	free(doc);
	return rc;
}

int
store_plan_save_text(struct store *st, const json_t *plan, const char *doc, size_t len,
    struct nw_err *err)
{
	sqlite3_stmt *s = NULL;
	const char *id, *current;
	int rc, ret = 0;

	ret = plan_check(plan, err);
	if (ret != 0)
		return ret;
	id = json_str(plan, "id");
	current = json_path_str(plan, "current", "fingerprint", NULL);

	rc = tx_begin(st);
	if (rc != SQLITE_OK)
		goto sqlfail;
	rc = sql_prepare(st, "SELECT document FROM plans WHERE id = ?1", &s);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 1, id);
	if (rc != SQLITE_OK)
		goto sqlfail;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *stored = sqlite3_column_text(s, 0);

		/* saving the same plan again is harmless; a different one under its id is not */
		if (stored == NULL || (size_t)sqlite3_column_bytes(s, 0) != len ||
		    memcmp(stored, doc, len) != 0)
			ret = err_set(err, NW_EINPUT,
			    "cannot save plan %s: a different plan with this id is already in plan store '%s'",
			    id, st->path);
		goto done;
	}
	if (rc != SQLITE_DONE)
		goto sqlfail;
	sqlite3_finalize(s);
	s = NULL;

	rc = sqlite3_exec(st->db, "PRAGMA defer_foreign_keys = ON", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = plan_insert_rows(st, id, json_object_get(plan, "waves"));
	if (rc != SQLITE_OK)
		goto sqlfail;
	rc = sql_prepare(st,
	    "INSERT INTO plans (id, created_at, current_fingerprint, target_fingerprint, document)"
	    " VALUES (?1, ?2, ?3, ?4, ?5)", &s);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 1, id);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 2, json_str(plan, "createdAt"));
	if (rc == SQLITE_OK)
		rc = bind_text(s, 3, current);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 4, json_path_str(plan, "target", "fingerprint", NULL));
	if (rc == SQLITE_OK) /* the text outlives the statement: no copy */
		rc = sqlite3_bind_text64(s, 5, doc, len, SQLITE_STATIC, SQLITE_UTF8);
	if (rc == SQLITE_OK)
		rc = sql_run(s);
	if (rc == SQLITE_OK)
		rc = plan_supersede(st, current);
	if (rc == SQLITE_OK) {
		/*
		 * The commit makes the plan durable in the write-ahead log; copying
		 * the log's hundred-odd megabytes into the database is left to the
		 * next checkpoint, at the latest when the store is closed, so the
		 * caller can do other work beside it.
		 */
		sqlite3_wal_autocheckpoint(st->db, 0);
		rc = tx_commit(st);
		sqlite3_wal_autocheckpoint(st->db, SQLITE_DEFAULT_WAL_AUTOCHECKPOINT);
	}
	if (rc == SQLITE_OK)
		goto done;
sqlfail:
	ret = err_from_sqlite(err, st, rc, "cannot save plan %s", id);
done:
	sqlite3_finalize(s);
	tx_rollback(st);
	return ret;
}

/* ---- reading plans ------------------------------------------------------ */

/* Parses the document column of the current row (json_loadb copies it before the next step). */
static json_t *
plan_parse(struct store *st, const char *id, sqlite3_stmt *s, int col, struct nw_err *err)
{
	const char *text = (const char *)sqlite3_column_text(s, col);
	json_error_t je;
	json_t *doc;

	if (text == NULL) {
		err_set(err, sqlite3_errcode(st->db) == SQLITE_NOMEM ? NW_ENOMEM : NW_EINPUT,
		    "cannot read plan %s in plan store '%s': no document", id, st->path);
		return NULL;
	}
	doc = json_loadb(text, (size_t)sqlite3_column_bytes(s, col), JSON_REJECT_DUPLICATES, &je);
	if (doc == NULL)
		err_set(err, NW_EINPUT,
		    "cannot read plan %s in plan store '%s': the stored document is damaged: %s", id,
		    st->path, je.text);
	return doc;
}

int
store_plan_created_at(struct store *st, const char *id, char **out, struct nw_err *err)
{
	sqlite3_stmt *s = NULL;
	bool nomem = false;
	int rc, ret = 0;

	*out = NULL;
	rc = sql_prepare(st, "SELECT created_at FROM plans WHERE id = ?1", &s);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 1, id);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			*out = col_strdup(s, 0, &nomem);
			rc = SQLITE_DONE;
		}
	}
	if (rc != SQLITE_DONE)
		ret = err_from_sqlite(err, st, rc, "cannot read plan %s", id);
	else if (nomem)
		ret = err_set(err, NW_ENOMEM, "out of memory");
	sqlite3_finalize(s);
	return ret;
}

int
store_plan_get(struct store *st, const char *id_or_prefix, json_t **out, struct nw_err *err)
{
	sqlite3_stmt *s = NULL;
	char *id = NULL;
	char names[NW_ERR_MSG_MAX / 2] = "";
	size_t matches = 0, used = 0;
	bool nomem = false;
	int rc, ret = 0;

	*out = NULL;
	if (id_or_prefix == NULL || strlen(id_or_prefix) < 4)
		return err_set(err, NW_EINPUT, "plan id '%s' is too short: give at least 4 characters",
		    id_or_prefix != NULL ? id_or_prefix : "");

	/* an exact id first, then a prefix of the id or of the id without "pl-" */
	rc = sql_prepare(st,
	    "SELECT id FROM plans WHERE id = ?1"
	    " UNION ALL SELECT id FROM plans WHERE id <> ?1"
	    "  AND NOT EXISTS (SELECT 1 FROM plans WHERE id = ?1)"
	    "  AND (substr(id, 1, length(?1)) = ?1 OR substr(id, 1, length(?1) + 3) = 'pl-' || ?1)"
	    " ORDER BY 1", &s);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 1, id_or_prefix);
	if (rc != SQLITE_OK)
		goto sqlfail;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *mid = (const char *)sqlite3_column_text(s, 0);

		if (matches == 0)
			id = col_strdup(s, 0, &nomem);
		if (matches < STORE_PREFIX_SHOWN && mid != NULL && used < sizeof(names)) {
			int n = snprintf(names + used, sizeof(names) - used, "%s%s", matches > 0 ? ", " : "",
			    mid);

			if (n > 0)
				used += (size_t)n;
		}
		matches++;
	}
	if (rc != SQLITE_DONE)
		goto sqlfail;
	if (nomem) {
		ret = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	if (matches == 0) {
		ret = err_no_plan(err, st, id_or_prefix);
		goto done;
	}
	if (matches > 1) {
		ret = err_set(err, NW_EINPUT, "plan id '%s' is ambiguous: %zu plans match (%s%s)",
		    id_or_prefix, matches, names, matches > STORE_PREFIX_SHOWN ? ", ..." : "");
		goto done;
	}
	sqlite3_finalize(s);
	s = NULL;
	rc = sql_prepare(st, "SELECT document FROM plans WHERE id = ?1", &s);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 1, id);
	if (rc != SQLITE_OK)
		goto sqlfail;
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		ret = err_no_plan(err, st, id_or_prefix);
		goto done;
	}
	if (rc != SQLITE_ROW)
		goto sqlfail;
	*out = plan_parse(st, id, s, 0, err);
	ret = *out != NULL ? 0 : (err != NULL && err->code != 0 ? err->code : NW_EINPUT);
	goto done;
sqlfail:
	ret = err_from_sqlite(err, st, rc, "cannot read plan %s", id_or_prefix);
done:
	sqlite3_finalize(s);
	free(id);
	return ret;
}

/* A lease from columns owner, pid, host, acquired_at, expires_at starting at i. */
static json_t *
lease_json(sqlite3_stmt *s, int i)
{
	json_t *o = json_object();

	if (o == NULL || !obj_put(o, "owner", col_json_string(s, i)) ||
	    !obj_put(o, "pid", json_integer(sqlite3_column_int64(s, i + 1))) ||
	    !obj_put(o, "host", col_json_string(s, i + 2)) ||
	    !obj_put(o, "acquiredAt", col_time(s, i + 3)) ||
	    !obj_put(o, "expiresAt", col_time(s, i + 4))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int
store_plan_list(struct store *st, json_t **out, struct nw_err *err)
{
	sqlite3_stmt *s = NULL;
	json_t *list = json_array();
	int rc, ret = 0;

	*out = NULL;
	if (list == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	rc = sql_prepare(st,
	    "SELECT p.id, p.created_at, p.status, p.current_fingerprint, p.target_fingerprint,"
	    " (SELECT count(*) FROM waves w WHERE w.plan_id = p.id),"
	    " (SELECT count(*) FROM steps s WHERE s.plan_id = p.id),"
	    " (SELECT count(*) FROM steps s WHERE s.plan_id = p.id AND s.status = 'done'),"
	    " p.superseded_by, l.owner, l.pid, l.host, l.acquired_at, l.expires_at"
	    " FROM plans p LEFT JOIN leases l ON l.plan_id = p.id"
	    " ORDER BY p.created_at DESC, p.rowid DESC", &s);
	if (rc != SQLITE_OK)
		goto sqlfail;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *p = json_object();

		if (p == NULL || json_array_append_new(list, p) != 0 ||
		    !obj_put(p, "id", col_json_string(s, 0)) ||
		    !obj_put(p, "createdAt", col_json_string(s, 1)) ||
		    !obj_put(p, "status", col_json_string(s, 2)) ||
		    !obj_put(p, "currentFingerprint", col_json_string(s, 3)) ||
		    !obj_put(p, "targetFingerprint", col_json_string(s, 4)) ||
		    !obj_put(p, "waves", json_integer(sqlite3_column_int64(s, 5))) ||
		    !obj_put(p, "steps", json_integer(sqlite3_column_int64(s, 6))) ||
		    !obj_put(p, "stepsDone", json_integer(sqlite3_column_int64(s, 7))) ||
		    !obj_put(p, "supersededBy", col_json_string(s, 8)) ||
		    (sqlite3_column_type(s, 9) != SQLITE_NULL && !obj_put(p, "lease", lease_json(s, 9)))) {
			ret = err_set(err, NW_ENOMEM, "out of memory");
			goto done;
		}
	}
	if (rc != SQLITE_DONE)
		goto sqlfail;
	*out = list;
	list = NULL;
	goto done;
sqlfail:
	ret = err_from_sqlite(err, st, rc, "cannot list plans");
done:
	sqlite3_finalize(s);
	json_decref(list);
	return ret;
}

/* ---- steps -------------------------------------------------------------- */

#define STEP_COLUMNS \
	"step_id, wave_idx, seq, procedure, action, resource, serialize_key, operation, inverse," \
	" irreversible, long_running, status, direction, attempts, last_error, poll_url," \
	" before_image, after_image, started_at, finished_at"

/* A step row (STEP_COLUMNS) as JSON; NULL when out of memory or a JSON column is damaged. */
static json_t *
step_json(sqlite3_stmt *s)
{
	json_t *o = json_object();

	if (o == NULL || !obj_put(o, "id", col_json_string(s, 0)) ||
	    !obj_put(o, "wave", json_integer(sqlite3_column_int64(s, 1))) ||
	    !obj_put(o, "seq", json_integer(sqlite3_column_int64(s, 2))) ||
	    !obj_put(o, "procedure", col_json_string(s, 3)) ||
	    !obj_put(o, "action", col_json_string(s, 4)) ||
	    !obj_put(o, "resource", col_json_string(s, 5)) ||
	    !obj_put(o, "serializeKey", col_json_string(s, 6)) ||
	    !obj_put(o, "operation", col_json(s, 7)) || !obj_put(o, "inverse", col_json(s, 8)) ||
	    !obj_put(o, "irreversible", json_boolean(sqlite3_column_int(s, 9) != 0)) ||
	    !obj_put(o, "longRunning", json_boolean(sqlite3_column_int(s, 10) != 0)) ||
	    !obj_put(o, "status", col_json_string(s, 11)) ||
	    !obj_put(o, "direction", col_json_string(s, 12)) ||
	    !obj_put(o, "attempts", json_integer(sqlite3_column_int64(s, 13))) ||
	    !obj_put(o, "lastError", col_json_string(s, 14)) ||
	    !obj_put(o, "pollUrl", col_json_string(s, 15)) ||
	    !obj_put(o, "beforeImage", col_json(s, 16)) || !obj_put(o, "afterImage", col_json(s, 17)) ||
	    !obj_put(o, "startedAt", col_time(s, 18)) || !obj_put(o, "finishedAt", col_time(s, 19))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* What a transition needs to know about a step, read inside its transaction. */
struct step_state {
	bool found;
	int status;       /* enum store_step_status, -1 when unknown */
	bool rolling_back;
	bool irreversible;
	int wave_idx;
	long long attempts;
};

static int
step_state_read(struct store *st, const char *plan_id, const char *step_id, struct step_state *ss)
{
	sqlite3_stmt *s = NULL;
	int rc = sql_prepare(st,
	    "SELECT status, direction, irreversible, wave_idx, attempts FROM steps"
	    " WHERE plan_id = ?1 AND step_id = ?2", &s);

	memset(ss, 0, sizeof(*ss));
	if (rc == SQLITE_OK)
		rc = bind_text(s, 1, plan_id);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 2, step_id);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			const char *dir = (const char *)sqlite3_column_text(s, 1);

			ss->found = true;
			ss->status = step_status_parse((const char *)sqlite3_column_text(s, 0));
			ss->rolling_back = dir != NULL && strcmp(dir, "rollback") == 0;
			ss->irreversible = sqlite3_column_int(s, 2) != 0;
			ss->wave_idx = sqlite3_column_int(s, 3);
			ss->attempts = sqlite3_column_int64(s, 4);
			rc = SQLITE_OK;
		} else if (rc == SQLITE_DONE) {
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(s);
	return rc;
}

/* The NW_EINPUT for a step that is not there, telling a missing plan from a missing step. */
static int
err_no_step(struct nw_err *err, struct store *st, const char *plan_id, const char *step_id)
{
	bool found = false;

	if (plan_exists(st, plan_id, &found) == SQLITE_OK && !found)
		return err_no_plan(err, st, plan_id);
	return err_set(err, NW_EINPUT, "no step '%s' in plan %s", step_id, plan_id);
}

static int
err_step_state(struct nw_err *err, const char *doing, const char *step_id, const char *plan_id,
    const struct step_state *ss, const char *why)
{
	return err_set(err, NW_EINPUT, "cannot %s step %s of plan %s: it is %s%s%s", doing, step_id,
	    plan_id, store_step_status_name((enum store_step_status)ss->status),
	    ss->status == STORE_STEP_STARTED && ss->rolling_back ? " (rolling back)" : "", why);
}

int
store_step_start(struct store *st, const char *plan_id, const char *step_id,
    enum store_direction dir, const json_t *image, const char *poll_url, time_t now,
    struct nw_err *err)
{
	struct step_state ss;
	sqlite3_stmt *s = NULL;
	json_t *detail = NULL;
	int rc, ret = 0, image_mode;

	if (dir != STORE_FORWARD && dir != STORE_ROLLBACK)
		return err_set(err, NW_EINPUT, "cannot start step %s of plan %s: no such direction %d",
		    step_id, plan_id, (int)dir);
	rc = tx_begin(st);
	if (rc == SQLITE_OK)
		rc = step_state_read(st, plan_id, step_id, &ss);
	if (rc != SQLITE_OK)
		goto sqlfail;
	if (!ss.found) {
		ret = err_no_step(err, st, plan_id, step_id);
		goto done;
	}
	if (dir == STORE_FORWARD) {
		if (ss.status == STORE_STEP_DONE ||
		    (ss.status == STORE_STEP_STARTED && ss.rolling_back) || ss.status < 0) {
			ret = err_step_state(err, "start", step_id, plan_id, &ss, "");
			goto done;
		}
		/*
		 * 1: a fresh before-image; 2: keep the one from an earlier
		 * attempt, the state before anything was sent.
		 */
		image_mode = ss.status == STORE_STEP_FAILED || ss.status == STORE_STEP_STARTED ? 2 : 1;
	} else {
		if (ss.irreversible) {
			ret = err_set(err, NW_EINPUT,
			    "cannot roll back step %s of plan %s: it is irreversible, its change cannot be undone",
			    step_id, plan_id);
			goto done;
		}
		if (ss.status != STORE_STEP_DONE && ss.status != STORE_STEP_FAILED &&
		    ss.status != STORE_STEP_STARTED) {
			ret = err_step_state(err, "roll back", step_id, plan_id, &ss, ": nothing to undo");
			goto done;
		}
		image_mode = 0;
	}

	rc = sql_prepare(st,
	    "UPDATE steps SET status = 'started', direction = ?3, attempts = attempts + 1,"
	    " poll_url = ?4, started_at = ?5, finished_at = NULL,"
	    " before_image = CASE ?6 WHEN 1 THEN ?7 WHEN 2 THEN coalesce(before_image, ?7)"
	    "  ELSE before_image END"
	    " WHERE plan_id = ?1 AND step_id = ?2", &s);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 1, plan_id);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 2, step_id);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 3, store_direction_name(dir));
	if (rc == SQLITE_OK)
		rc = bind_text(s, 4, poll_url);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 5, (sqlite3_int64)now);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(s, 6, image_mode);
	if (rc == SQLITE_OK)
		rc = bind_json(s, 7, image);
	if (rc == SQLITE_OK)
		rc = sql_run(s);
	if (rc != SQLITE_OK)
		goto sqlfail;

	detail = json_pack("{s:s, s:I, s:s?}", "direction", store_direction_name(dir), "attempt",
	    (json_int_t)(ss.attempts + 1), "pollUrl", poll_url);
	if (detail != NULL && dir == STORE_ROLLBACK && image != NULL &&
	    json_object_set(detail, "image", (json_t *)image) != 0) {
		json_decref(detail);
		detail = NULL;
	}
	if (detail == NULL) {
		ret = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	rc = journal_add(st, plan_id, now, "step-started", ss.wave_idx, step_id, detail);
	if (rc == SQLITE_OK)
		rc = plan_refresh(st, plan_id);
	if (rc == SQLITE_OK)
		rc = tx_commit(st);
	if (rc == SQLITE_OK)
		goto done;
sqlfail:
	ret = err_from_sqlite(err, st, rc, "cannot start step %s of plan %s", step_id, plan_id);
done:
	sqlite3_finalize(s);
	json_decref(detail);
	tx_rollback(st);
	return ret;
}

int
store_step_set_poll_url(struct store *st, const char *plan_id, const char *step_id,
    const char *poll_url, time_t now, struct nw_err *err)
{
	struct step_state ss;
	sqlite3_stmt *s = NULL;
	json_t *detail = NULL;
	int rc, ret = 0;

	rc = tx_begin(st);
	if (rc == SQLITE_OK)
		rc = step_state_read(st, plan_id, step_id, &ss);
	if (rc != SQLITE_OK)
		goto sqlfail;
	if (!ss.found) {
		ret = err_no_step(err, st, plan_id, step_id);
		goto done;
	}
	if (ss.status != STORE_STEP_STARTED) {
		ret = err_step_state(err, "record the poll url of", step_id, plan_id, &ss, ", not started");
		goto done;
	}
	rc = sql_prepare(st, "UPDATE steps SET poll_url = ?3 WHERE plan_id = ?1 AND step_id = ?2", &s);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 1, plan_id);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 2, step_id);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 3, poll_url);
	if (rc == SQLITE_OK)
		rc = sql_run(s);
	if (rc != SQLITE_OK)
		goto sqlfail;
	detail = json_pack("{s:s?}", "pollUrl", poll_url);
	if (detail == NULL) {
		ret = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	rc = journal_add(st, plan_id, now, "step-polling", ss.wave_idx, step_id, detail);
	if (rc == SQLITE_OK)
		rc = tx_commit(st);
	if (rc == SQLITE_OK)
		goto done;
sqlfail:
	ret = err_from_sqlite(err, st, rc, "cannot record the poll url of step %s of plan %s", step_id,
	    plan_id);
done:
	sqlite3_finalize(s);
	json_decref(detail);
	tx_rollback(st);
	return ret;
}

/* Whether finish(status) may follow the state ss; *why explains a refusal. */
static bool
step_finish_allowed(const struct step_state *ss, enum store_step_status status, const char **why)
{
	bool started = ss->status == STORE_STEP_STARTED;

	*why = "";
	switch (status) {
	case STORE_STEP_DONE:
		*why = started ? ", not applying" : ", not started";
		return started && !ss->rolling_back;
	case STORE_STEP_ROLLED_BACK:
		*why = started ? ", not rolling back" : ", not started";
		return started && ss->rolling_back;
	case STORE_STEP_FAILED:
		*why = ", not started";
		return started;
	case STORE_STEP_SKIPPED:
		return ss->status == STORE_STEP_PENDING || ss->status == STORE_STEP_FAILED ||
		    ss->status == STORE_STEP_ROLLED_BACK || (started && !ss->rolling_back);
	default:
		return false;
	}
}

int
store_step_finish(struct store *st, const char *plan_id, const char *step_id,
    enum store_step_status status, const json_t *image, const char *error, time_t now,
    struct nw_err *err)
{
	struct step_state ss;
	sqlite3_stmt *s = NULL;
	json_t *detail = NULL;
	const char *why;
	char event[32];
	int rc, ret = 0;

	if (status != STORE_STEP_DONE && status != STORE_STEP_FAILED &&
	    status != STORE_STEP_ROLLED_BACK && status != STORE_STEP_SKIPPED)
		return err_set(err, NW_EINPUT, "cannot finish step %s of plan %s as '%s'", step_id, plan_id,
		    store_step_status_name(status));
	rc = tx_begin(st);
	if (rc == SQLITE_OK)
		rc = step_state_read(st, plan_id, step_id, &ss);
	if (rc != SQLITE_OK)
		goto sqlfail;
	if (!ss.found) {
		ret = err_no_step(err, st, plan_id, step_id);
		goto done;
	}
	if (!step_finish_allowed(&ss, status, &why)) {
		char doing[64];

		snprintf(doing, sizeof(doing), "mark %s", store_step_status_name(status));
		ret = err_step_state(err, doing, step_id, plan_id, &ss, why);
		goto done;
	}
	rc = sql_prepare(st,
	    "UPDATE steps SET status = ?3, last_error = ?4, finished_at = ?5,"
	    " after_image = CASE WHEN ?6 THEN ?7 ELSE after_image END"
	    " WHERE plan_id = ?1 AND step_id = ?2", &s);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 1, plan_id);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 2, step_id);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 3, store_step_status_name(status));
	if (rc == SQLITE_OK)
		rc = bind_text(s, 4, error);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 5, (sqlite3_int64)now);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(s, 6, status == STORE_STEP_DONE);
	if (rc == SQLITE_OK)
		rc = bind_json(s, 7, image);
	if (rc == SQLITE_OK)
		rc = sql_run(s);
	if (rc != SQLITE_OK)
		goto sqlfail;

	detail = json_pack("{s:s, s:I, s:s?}", "direction",
	    ss.rolling_back && ss.status != STORE_STEP_PENDING ? "rollback" : "forward", "attempt",
	    (json_int_t)ss.attempts, "error", error);
	if (detail != NULL && status == STORE_STEP_ROLLED_BACK && image != NULL &&
	    json_object_set(detail, "image", (json_t *)image) != 0) {
		json_decref(detail);
		detail = NULL;
	}
	if (detail == NULL) {
		ret = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	snprintf(event, sizeof(event), "step-%s", store_step_status_name(status));
	rc = journal_add(st, plan_id, now, event, ss.wave_idx, step_id, detail);
	if (rc == SQLITE_OK)
		rc = plan_refresh(st, plan_id);
	if (rc == SQLITE_OK)
		rc = tx_commit(st);
	if (rc == SQLITE_OK)
		goto done;
sqlfail:
	ret = err_from_sqlite(err, st, rc, "cannot finish step %s of plan %s", step_id, plan_id);
done:
	sqlite3_finalize(s);
	json_decref(detail);
	tx_rollback(st);
	return ret;
}

int
store_step_get(struct store *st, const char *plan_id, const char *step_id, json_t **out,
    struct nw_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc, ret = 0;

	*out = NULL;
	rc = sql_prepare(st, "SELECT " STEP_COLUMNS " FROM steps WHERE plan_id = ?1 AND step_id = ?2",
	    &s);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 1, plan_id);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 2, step_id);
	if (rc != SQLITE_OK)
		goto sqlfail;
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		ret = err_no_step(err, st, plan_id, step_id);
		goto done;
	}
	if (rc != SQLITE_ROW)
		goto sqlfail;
	*out = step_json(s);
	if (*out == NULL)
		ret = err_set(err, NW_ENOMEM, "cannot read step %s of plan %s: out of memory or damaged JSON",
		    step_id, plan_id);
	goto done;
sqlfail:
	ret = err_from_sqlite(err, st, rc, "cannot read step %s of plan %s", step_id, plan_id);
done:
	sqlite3_finalize(s);
	return ret;
}

/* NW_EINPUT unless the plan (and, for wave_idx >= 0, the wave) exists. */
static int
check_plan_wave(struct store *st, const char *plan_id, int wave_idx, const char *doing,
    struct nw_err *err)
{
	sqlite3_stmt *s = NULL;
	bool found = false;
	int rc = plan_exists(st, plan_id, &found), ret = 0;

	if (rc != SQLITE_OK)
		goto sqlfail;
	if (!found)
		return err_no_plan(err, st, plan_id);
	if (wave_idx < 0)
		return 0;
	rc = sql_prepare(st, "SELECT 1 FROM waves WHERE plan_id = ?1 AND idx = ?2", &s);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 1, plan_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(s, 2, wave_idx);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		ret = err_set(err, NW_EINPUT, "no wave %d in plan %s", wave_idx, plan_id);
		goto done;
	}
	if (rc == SQLITE_ROW)
		goto done;
sqlfail:
	ret = err_from_sqlite(err, st, rc, "cannot %s of plan %s", doing, plan_id);
done:
	sqlite3_finalize(s);
	return ret;
}

/*
 * The rows of one table (steps or gates) of a plan, of one wave or of all
 * (wave_idx < 0), in wave order: what store_step_list and store_gate_list
 * share.  sql selects plan_id = ?1 and wave ?2; row turns a row into JSON.
 */
static int
list_wave_rows(struct store *st, const char *plan_id, int wave_idx, const char *sql,
    json_t *(*row)(sqlite3_stmt *), const char *what, json_t **out, struct nw_err *err)
{
	sqlite3_stmt *s = NULL;
	json_t *list = NULL;
	char doing[64];
	int rc, ret;

	*out = NULL;
	snprintf(doing, sizeof(doing), "list the %s", what);
	ret = check_plan_wave(st, plan_id, wave_idx, doing, err);
	if (ret != 0)
		return ret;
	list = json_array();
	if (list == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	rc = sql_prepare(st, sql, &s);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 1, plan_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(s, 2, wave_idx);
	if (rc != SQLITE_OK)
		goto sqlfail;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (json_array_append_new(list, row(s)) != 0) {
			ret = err_set(err, NW_ENOMEM,
			    "cannot list the %s of plan %s: out of memory or damaged JSON", what, plan_id);
			goto done;
		}
	}
	if (rc != SQLITE_DONE)
		goto sqlfail;
	*out = list;
	list = NULL;
	goto done;
sqlfail:
	ret = err_from_sqlite(err, st, rc, "cannot list the %s of plan %s", what, plan_id);
done:
	sqlite3_finalize(s);
	json_decref(list);
	return ret;
}

int
store_step_list(struct store *st, const char *plan_id, int wave_idx, json_t **out,
    struct nw_err *err)
{
	return list_wave_rows(st, plan_id, wave_idx,
	    "SELECT " STEP_COLUMNS " FROM steps WHERE plan_id = ?1 AND (?2 < 0 OR wave_idx = ?2)"
	    " ORDER BY wave_idx, seq", step_json, "steps", out, err);
}

/* ---- waves -------------------------------------------------------------- */

int
store_wave_set_status(struct store *st, const char *plan_id, int wave_idx,
    enum store_wave_status status, time_t now, struct nw_err *err)
{
	sqlite3_stmt *s = NULL;
	char event[32];
	const char *name = store_wave_status_name(status);
	int rc, ret = 0;

	if ((unsigned)status > STORE_WAVE_ROLLED_BACK)
		return err_set(err, NW_EINPUT, "cannot set wave %d of plan %s to status %d", wave_idx,
		    plan_id, (int)status);
	rc = tx_begin(st);
	if (rc != SQLITE_OK)
		goto sqlfail;
	ret = check_plan_wave(st, plan_id, wave_idx, "set the status of a wave", err);
	if (ret != 0)
		goto done;

	if (status == STORE_WAVE_DONE || status == STORE_WAVE_ROLLED_BACK) {
		/* a wave is done or rolled back only when its steps agree */
		rc = sql_prepare(st,
		    "SELECT step_id, status FROM steps WHERE plan_id = ?1 AND wave_idx = ?2 AND"
		    " CASE ?3 WHEN 'done' THEN status NOT IN ('done', 'skipped')"
		    " ELSE status IN ('done', 'started') END ORDER BY seq LIMIT 1", &s);
		if (rc == SQLITE_OK)
			rc = bind_text(s, 1, plan_id);
		if (rc == SQLITE_OK)
			rc = sqlite3_bind_int(s, 2, wave_idx);
		if (rc == SQLITE_OK)
			rc = bind_text(s, 3, name);
		if (rc != SQLITE_OK)
			goto sqlfail;
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			ret = err_set(err, NW_EINPUT, "cannot mark wave %d of plan %s %s: step %s is %s",
			    wave_idx, plan_id, name, (const char *)sqlite3_column_text(s, 0),
			    (const char *)sqlite3_column_text(s, 1));
			goto done;
		}
		if (rc != SQLITE_DONE)
			goto sqlfail;
		sqlite3_finalize(s);
		s = NULL;
	}

	rc = sql_prepare(st,
	    "UPDATE waves SET status = ?3,"
	    " started_at = CASE ?3 WHEN 'running' THEN ?4 WHEN 'pending' THEN NULL ELSE started_at END,"
	    " finished_at = CASE WHEN ?3 IN ('running', 'pending') THEN NULL ELSE ?4 END"
	    " WHERE plan_id = ?1 AND idx = ?2", &s);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 1, plan_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(s, 2, wave_idx);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 3, name);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 4, (sqlite3_int64)now);
	if (rc == SQLITE_OK)
		rc = sql_run(s);
	if (rc != SQLITE_OK)
		goto sqlfail;
	snprintf(event, sizeof(event), "wave-%s", name);
	rc = journal_add(st, plan_id, now, event, wave_idx, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = plan_refresh(st, plan_id);
	if (rc == SQLITE_OK)
		rc = tx_commit(st);
	if (rc == SQLITE_OK)
		goto done;
sqlfail:
	ret = err_from_sqlite(err, st, rc, "cannot set wave %d of plan %s to %s", wave_idx, plan_id,
	    name);
done:
	sqlite3_finalize(s);
	tx_rollback(st);
	return ret;
}

#define GATE_COLUMNS \
	"gate_id, wave_idx, kind, params, budget, status, last_result, failures, inconclusive," \
	" errors, checked_at"

static json_t *
gate_json(sqlite3_stmt *s)
{
	json_t *o = json_object();

	if (o == NULL || !obj_put(o, "id", col_json_string(s, 0)) ||
	    !obj_put(o, "wave", json_integer(sqlite3_column_int64(s, 1))) ||
	    !obj_put(o, "kind", col_json_string(s, 2)) || !obj_put(o, "params", col_json(s, 3)) ||
	    !obj_put(o, "budget", col_json(s, 4)) || !obj_put(o, "status", col_json_string(s, 5)) ||
	    !obj_put(o, "lastResult", col_json(s, 6)) ||
	    !obj_put(o, "failures", json_integer(sqlite3_column_int64(s, 7))) ||
	    !obj_put(o, "inconclusive", json_integer(sqlite3_column_int64(s, 8))) ||
	    !obj_put(o, "errors", json_integer(sqlite3_column_int64(s, 9))) ||
	    !obj_put(o, "checkedAt", col_time(s, 10))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int
store_gate_list(struct store *st, const char *plan_id, int wave_idx, json_t **out,
    struct nw_err *err)
{
	return list_wave_rows(st, plan_id, wave_idx,
	    "SELECT " GATE_COLUMNS " FROM gates WHERE plan_id = ?1 AND (?2 < 0 OR wave_idx = ?2)"
	    " ORDER BY wave_idx, seq", gate_json, "gates", out, err);
}

int
store_wave_list(struct store *st, const char *plan_id, json_t **out, struct nw_err *err)
{
	sqlite3_stmt *s = NULL;
	json_t *list = NULL, *gates = NULL;
	int rc, ret;

	*out = NULL;
	ret = store_gate_list(st, plan_id, -1, &gates, err);
	if (ret != 0)
		return ret;
	list = json_array();
	if (list == NULL) {
		ret = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	rc = sql_prepare(st,
	    "SELECT w.idx, w.name, w.kind, w.soak_seconds, w.status, w.started_at, w.finished_at,"
	    " (SELECT count(*) FROM steps s WHERE s.plan_id = w.plan_id AND s.wave_idx = w.idx),"
	    " (SELECT count(*) FROM steps s WHERE s.plan_id = w.plan_id AND s.wave_idx = w.idx"
	    "  AND s.status = 'done')"
	    " FROM waves w WHERE w.plan_id = ?1 ORDER BY w.idx", &s);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 1, plan_id);
	if (rc != SQLITE_OK)
		goto sqlfail;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *w = json_object(), *wg, *g;
		json_int_t idx = sqlite3_column_int64(s, 0);
		size_t i;

		if (w == NULL || json_array_append_new(list, w) != 0 ||
		    !obj_put(w, "gates", (wg = json_array())) ||
		    !obj_put(w, "index", json_integer(idx)) ||
		    !obj_put(w, "name", col_json_string(s, 1)) ||
		    !obj_put(w, "kind", col_json_string(s, 2)) ||
		    !obj_put(w, "soakSeconds", json_integer(sqlite3_column_int64(s, 3))) ||
		    !obj_put(w, "status", col_json_string(s, 4)) ||
		    !obj_put(w, "startedAt", col_time(s, 5)) ||
		    !obj_put(w, "finishedAt", col_time(s, 6)) ||
		    !obj_put(w, "steps", json_integer(sqlite3_column_int64(s, 7))) ||
		    !obj_put(w, "stepsDone", json_integer(sqlite3_column_int64(s, 8)))) {
			ret = err_set(err, NW_ENOMEM, "out of memory");
			goto done;
		}
		json_array_foreach(gates, i, g) {
			if (json_integer_value(json_object_get(g, "wave")) == idx &&
			    json_array_append(wg, g) != 0) {
				ret = err_set(err, NW_ENOMEM, "out of memory");
				goto done;
			}
		}
	}
	if (rc != SQLITE_DONE)
		goto sqlfail;
	*out = list;
	list = NULL;
	goto done;
sqlfail:
	ret = err_from_sqlite(err, st, rc, "cannot list the waves of plan %s", plan_id);
done:
	sqlite3_finalize(s);
	json_decref(list);
	json_decref(gates);
	return ret;
}

/* ---- gates -------------------------------------------------------------- */

int
store_gate_record(struct store *st, const char *plan_id, const char *gate_id,
    enum store_gate_outcome outcome, const json_t *result, time_t now, struct nw_err *err)
{
	sqlite3_stmt *s = NULL;
	json_t *detail = NULL;
	char event[32];
	const char *name = store_gate_outcome_name(outcome);
	int rc, ret = 0, wave_idx;
	bool found = false;

	if ((unsigned)outcome > STORE_GATE_ERROR)
		return err_set(err, NW_EINPUT, "cannot record gate %s of plan %s: no such outcome %d",
		    gate_id, plan_id, (int)outcome);
	rc = tx_begin(st);
	if (rc == SQLITE_OK)
		rc = sql_prepare(st, "SELECT wave_idx FROM gates WHERE plan_id = ?1 AND gate_id = ?2", &s);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 1, plan_id);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 2, gate_id);
	if (rc != SQLITE_OK)
		goto sqlfail;
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		rc = plan_exists(st, plan_id, &found);
		if (rc != SQLITE_OK)
			goto sqlfail;
		ret = found ? err_set(err, NW_EINPUT, "no gate '%s' in plan %s", gate_id, plan_id) :
			      err_no_plan(err, st, plan_id);
		goto done;
	}
	if (rc != SQLITE_ROW)
		goto sqlfail;
	wave_idx = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	s = NULL;

	rc = sql_prepare(st,
	    "UPDATE gates SET status = ?3, last_result = ?4, checked_at = ?5,"
	    " failures = failures + (?3 = 'failed'),"
	    " inconclusive = inconclusive + (?3 = 'inconclusive'),"
	    " errors = errors + (?3 = 'error')"
	    " WHERE plan_id = ?1 AND gate_id = ?2", &s);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 1, plan_id);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 2, gate_id);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 3, name);
	if (rc == SQLITE_OK)
		rc = bind_json(s, 4, result);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 5, (sqlite3_int64)now);
	if (rc == SQLITE_OK)
		rc = sql_run(s);
	if (rc != SQLITE_OK)
		goto sqlfail;
	detail = json_pack("{s:s, s:O?}", "gate", gate_id, "result", (json_t *)result);
	if (detail == NULL) {
		ret = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	snprintf(event, sizeof(event), "gate-%s", name);
	rc = journal_add(st, plan_id, now, event, wave_idx, NULL, detail);
	if (rc == SQLITE_OK)
		rc = tx_commit(st);
	if (rc == SQLITE_OK)
		goto done;
sqlfail:
	ret = err_from_sqlite(err, st, rc, "cannot record gate %s of plan %s", gate_id, plan_id);
done:
	sqlite3_finalize(s);
	json_decref(detail);
	tx_rollback(st);
	return ret;
}

int
store_gate_reset(struct store *st, const char *plan_id, int wave_idx, time_t now,
    struct nw_err *err)
{
	sqlite3_stmt *s = NULL;
	int rc, ret = 0;

	if (wave_idx < 0)
		return err_set(err, NW_EINPUT, "cannot reset gates of plan %s: no wave given", plan_id);
	rc = tx_begin(st);
	if (rc != SQLITE_OK)
		goto sqlfail;
	ret = check_plan_wave(st, plan_id, wave_idx, "reset the gates", err);
	if (ret != 0)
		goto done;
	rc = sql_prepare(st,
	    "UPDATE gates SET status = 'pending', last_result = NULL, failures = 0, inconclusive = 0,"
	    " errors = 0, checked_at = NULL WHERE plan_id = ?1 AND wave_idx = ?2", &s);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 1, plan_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(s, 2, wave_idx);
	if (rc == SQLITE_OK)
		rc = sql_run(s);
	if (rc == SQLITE_OK)
		rc = journal_add(st, plan_id, now, "gates-reset", wave_idx, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = tx_commit(st);
	if (rc == SQLITE_OK)
		goto done;
sqlfail:
	ret = err_from_sqlite(err, st, rc, "cannot reset the gates of wave %d of plan %s", wave_idx,
	    plan_id);
done:
	sqlite3_finalize(s);
	tx_rollback(st);
	return ret;
}

/* ---- journal ------------------------------------------------------------ */

int
store_journal_append(struct store *st, const char *plan_id, const char *event, int wave_idx,
    const char *step_id, const json_t *detail, time_t now, struct nw_err *err)
{
	bool found = false;
	int rc, ret = 0;

	if (event == NULL || event[0] == '\0')
		return err_set(err, NW_EINPUT, "cannot journal for plan %s: no event name", plan_id);
	rc = tx_begin(st);
	if (rc == SQLITE_OK)
		rc = plan_exists(st, plan_id, &found);
	if (rc != SQLITE_OK)
		goto sqlfail;
	if (!found) {
		ret = err_no_plan(err, st, plan_id);
		goto done;
	}
	rc = journal_add(st, plan_id, now, event, wave_idx, step_id, detail);
	if (rc == SQLITE_OK)
		rc = tx_commit(st);
	if (rc == SQLITE_OK)
		goto done;
sqlfail:
	ret = err_from_sqlite(err, st, rc, "cannot journal %s for plan %s", event, plan_id);
done:
	tx_rollback(st);
	return ret;
}

int
store_journal_list(struct store *st, const char *plan_id, json_t **out, struct nw_err *err)
{
	sqlite3_stmt *s = NULL;
	json_t *list = NULL;
	int rc, ret;

	*out = NULL;
	ret = check_plan_wave(st, plan_id, -1, "read the journal", err);
	if (ret != 0)
		return ret;
	list = json_array();
	if (list == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	rc = sql_prepare(st,
	    "SELECT seq, at, event, wave_idx, step_id, detail FROM journal WHERE plan_id = ?1"
	    " ORDER BY seq", &s);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 1, plan_id);
	if (rc != SQLITE_OK)
		goto sqlfail;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *e = json_object();

		if (e == NULL || json_array_append_new(list, e) != 0 ||
		    !obj_put(e, "seq", json_integer(sqlite3_column_int64(s, 0))) ||
		    !obj_put(e, "at", col_time(s, 1)) || !obj_put(e, "event", col_json_string(s, 2)) ||
		    !obj_put(e, "wave", sqlite3_column_type(s, 3) == SQLITE_NULL ?
			json_null() : json_integer(sqlite3_column_int64(s, 3))) ||
		    !obj_put(e, "step", col_json_string(s, 4)) || !obj_put(e, "detail", col_json(s, 5))) {
			ret = err_set(err, NW_ENOMEM,
			    "cannot read the journal of plan %s: out of memory or damaged JSON", plan_id);
			goto done;
		}
	}
	if (rc != SQLITE_DONE)
		goto sqlfail;
	*out = list;
	list = NULL;
	goto done;
sqlfail:
	ret = err_from_sqlite(err, st, rc, "cannot read the journal of plan %s", plan_id);
done:
	sqlite3_finalize(s);
	json_decref(list);
	return ret;
}

/* ---- leases ------------------------------------------------------------- */

struct lease_holder {
	bool found;
	char owner[256];
	long long pid;
	char host[256];
	long long acquired_at, expires_at;
};

static void
host_name(char *buf, size_t size)
{
	if (gethostname(buf, size) != 0)
		snprintf(buf, size, "unknown");
	buf[size - 1] = '\0';
}

static int
lease_read(struct store *st, const char *plan_id, struct lease_holder *h)
{
	sqlite3_stmt *s = NULL;
	int rc = sql_prepare(st,
	    "SELECT owner, pid, host, acquired_at, expires_at FROM leases WHERE plan_id = ?1", &s);

	memset(h, 0, sizeof(*h));
	if (rc == SQLITE_OK)
		rc = bind_text(s, 1, plan_id);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW) {
			const unsigned char *owner = sqlite3_column_text(s, 0);
			const unsigned char *host = sqlite3_column_text(s, 2);

			h->found = true;
			snprintf(h->owner, sizeof(h->owner), "%s", owner != NULL ? (const char *)owner : "");
			h->pid = sqlite3_column_int64(s, 1);
			snprintf(h->host, sizeof(h->host), "%s", host != NULL ? (const char *)host : "");
			h->acquired_at = sqlite3_column_int64(s, 3);
			h->expires_at = sqlite3_column_int64(s, 4);
			rc = SQLITE_OK;
		} else if (rc == SQLITE_DONE) {
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(s);
	return rc;
}

/* Owners are names for people; a bound keeps them whole in struct lease_holder. */
static bool
lease_owner_ok(const char *owner)
{
	return owner != NULL && owner[0] != '\0' &&
	    strlen(owner) < sizeof(((struct lease_holder *)0)->owner);
}

static bool
lease_is_mine(const struct lease_holder *h, const char *owner, const char *host)
{
	return h->found && strcmp(h->owner, owner) == 0 && h->pid == (long long)getpid() &&
	    strcmp(h->host, host) == 0;
}

/* Why a lease may be taken over, or NULL when its holder may still be working. */
static const char *
lease_vacant_why(const struct lease_holder *h, const char *host, time_t now)
{
	if (h->expires_at <= (long long)now)
		return "expired";
	/* only a process on this host can be asked whether it still exists */
	if (strcmp(h->host, host) == 0 && h->pid > 0 && (pid_t)h->pid == h->pid &&
	    kill((pid_t)h->pid, 0) != 0 && errno == ESRCH)
		return "holder process is gone";
	return NULL;
}

static int
err_lease_held(struct nw_err *err, const char *plan_id, const struct lease_holder *h,
    const char *lead)
{
	char until[40];

	time_iso((time_t)h->expires_at, until, sizeof(until));
	return err_set(err, NW_ELOCKED,
	    "%s plan %s: another run holds it (owner '%s', pid %lld on host '%s', until %s)", lead,
	    plan_id, h->owner, h->pid, h->host, until);
}

static json_t *
lease_holder_json(const struct lease_holder *h)
{
	char acquired[40], expires[40];

	time_iso((time_t)h->acquired_at, acquired, sizeof(acquired));
	time_iso((time_t)h->expires_at, expires, sizeof(expires));
	return json_pack("{s:s, s:I, s:s, s:s, s:s}", "owner", h->owner, "pid", (json_int_t)h->pid,
	    "host", h->host, "acquiredAt", acquired, "expiresAt", expires);
}

int
store_lease_acquire(struct store *st, const char *plan_id, const char *owner, long ttl_seconds,
    time_t now, struct nw_err *err)
{
	struct lease_holder held, mine;
	sqlite3_stmt *s = NULL;
	json_t *detail = NULL;
	const char *why = NULL;
	bool found = false, extend = false;
	int rc, ret = 0;

	if (!lease_owner_ok(owner) || ttl_seconds <= 0)
		return err_set(err, NW_EINPUT, "cannot take the lease on plan %s: %s", plan_id,
		    ttl_seconds <= 0 ? "the lease needs a positive time to live" :
				       "the owner must be a name of 1 to 255 characters");
	memset(&mine, 0, sizeof(mine));
	mine.found = true;
	snprintf(mine.owner, sizeof(mine.owner), "%s", owner);
	mine.pid = (long long)getpid();
	host_name(mine.host, sizeof(mine.host));
	mine.acquired_at = (long long)now;
	mine.expires_at = (long long)now + ttl_seconds;

	rc = tx_begin(st);
	if (rc == SQLITE_OK)
		rc = plan_exists(st, plan_id, &found);
	if (rc == SQLITE_OK)
		rc = lease_read(st, plan_id, &held);
	if (rc != SQLITE_OK)
		goto sqlfail;
	if (!found) {
		ret = err_no_plan(err, st, plan_id);
		goto done;
	}
	if (held.found) {
		extend = lease_is_mine(&held, owner, mine.host);
		if (!extend) {
			why = lease_vacant_why(&held, mine.host, now);
			if (why == NULL) {
				ret = err_lease_held(err, plan_id, &held, "cannot take");
				goto done;
			}
		} else {
			mine.acquired_at = held.acquired_at;
		}
	}
	rc = sql_prepare(st,
	    "INSERT INTO leases (plan_id, owner, pid, host, acquired_at, expires_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
	    " ON CONFLICT (plan_id) DO UPDATE SET owner = excluded.owner, pid = excluded.pid,"
	    " host = excluded.host, acquired_at = excluded.acquired_at,"
	    " expires_at = excluded.expires_at", &s);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 1, plan_id);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 2, mine.owner);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 3, mine.pid);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 4, mine.host);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 5, mine.acquired_at);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 6, mine.expires_at);
	if (rc == SQLITE_OK)
		rc = sql_run(s);
	if (rc != SQLITE_OK)
		goto sqlfail;
	if (!extend) {
		detail = lease_holder_json(&mine);
		if (detail != NULL && why != NULL &&
		    (json_object_set_new(detail, "previous", lease_holder_json(&held)) != 0 ||
			json_object_set_new(detail, "reason", json_string(why)) != 0)) {
			json_decref(detail);
			detail = NULL;
		}
		if (detail == NULL) {
			ret = err_set(err, NW_ENOMEM, "out of memory");
			goto done;
		}
		rc = journal_add(st, plan_id, now, why != NULL ? "lease-taken-over" : "lease-acquired", -1,
		    NULL, detail);
	}
	if (rc == SQLITE_OK)
		rc = plan_refresh(st, plan_id);
	if (rc == SQLITE_OK)
		rc = tx_commit(st);
	if (rc == SQLITE_OK)
		goto done;
sqlfail:
	ret = err_from_sqlite(err, st, rc, "cannot take the lease on plan %s", plan_id);
done:
	sqlite3_finalize(s);
	json_decref(detail);
	tx_rollback(st);
	return ret;
}

int
store_lease_renew(struct store *st, const char *plan_id, const char *owner, long ttl_seconds,
    time_t now, struct nw_err *err)
{
	struct lease_holder held;
	sqlite3_stmt *s = NULL;
	char host[256];
	int rc, ret = 0;

	if (!lease_owner_ok(owner) || ttl_seconds <= 0)
		return err_set(err, NW_EINPUT, "cannot renew the lease on plan %s: %s", plan_id,
		    ttl_seconds <= 0 ? "the lease needs a positive time to live" :
				       "the owner must be a name of 1 to 255 characters");
	host_name(host, sizeof(host));
	rc = tx_begin(st);
	if (rc == SQLITE_OK)
		rc = lease_read(st, plan_id, &held);
	if (rc != SQLITE_OK)
		goto sqlfail;
	if (!lease_is_mine(&held, owner, host)) {
		if (held.found)
			ret = err_lease_held(err, plan_id, &held, "lost the lease on");
		else
			ret = err_set(err, NW_ELOCKED, "lost the lease on plan %s: no lease is held", plan_id);
		goto done;
	}
	rc = sql_prepare(st, "UPDATE leases SET expires_at = ?2 WHERE plan_id = ?1", &s);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 1, plan_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(s, 2, (sqlite3_int64)now + ttl_seconds);
	if (rc == SQLITE_OK)
		rc = sql_run(s);
	if (rc == SQLITE_OK)
		rc = tx_commit(st);
	if (rc == SQLITE_OK)
		goto done;
sqlfail:
	ret = err_from_sqlite(err, st, rc, "cannot renew the lease on plan %s", plan_id);
done:
	sqlite3_finalize(s);
	tx_rollback(st);
	return ret;
}

int
store_lease_release(struct store *st, const char *plan_id, const char *owner, time_t now,
    struct nw_err *err)
{
	struct lease_holder held;
	sqlite3_stmt *s = NULL;
	json_t *detail = NULL;
	char host[256];
	int rc, ret = 0;

	if (!lease_owner_ok(owner))
		return err_set(err, NW_EINPUT,
		    "cannot release the lease on plan %s: the owner must be a name of 1 to 255 characters",
		    plan_id);
	host_name(host, sizeof(host));
	rc = tx_begin(st);
	if (rc == SQLITE_OK)
		rc = lease_read(st, plan_id, &held);
	if (rc != SQLITE_OK)
		goto sqlfail;
	if (!held.found)
		goto done;
	if (!lease_is_mine(&held, owner, host)) {
		ret = err_lease_held(err, plan_id, &held, "cannot release the lease on");
		goto done;
	}
	rc = sql_prepare(st, "DELETE FROM leases WHERE plan_id = ?1", &s);
	if (rc == SQLITE_OK)
		rc = bind_text(s, 1, plan_id);
	if (rc == SQLITE_OK)
		rc = sql_run(s);
	if (rc != SQLITE_OK)
		goto sqlfail;
	detail = lease_holder_json(&held);
	if (detail == NULL) {
		ret = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	rc = journal_add(st, plan_id, now, "lease-released", -1, NULL, detail);
	if (rc == SQLITE_OK)
		rc = plan_refresh(st, plan_id);
	if (rc == SQLITE_OK)
		rc = tx_commit(st);
	if (rc == SQLITE_OK)
		goto done;
sqlfail:
	ret = err_from_sqlite(err, st, rc, "cannot release the lease on plan %s", plan_id);
done:
	sqlite3_finalize(s);
	json_decref(detail);
	tx_rollback(st);
	return ret;
}

int
store_lease_get(struct store *st, const char *plan_id, json_t **out, struct nw_err *err)
{
	struct lease_holder held;
	int rc, ret;

	*out = NULL;
	ret = check_plan_wave(st, plan_id, -1, "read the lease", err);
	if (ret != 0)
		return ret;
	rc = lease_read(st, plan_id, &held);
	if (rc != SQLITE_OK)
		return err_from_sqlite(err, st, rc, "cannot read the lease on plan %s", plan_id);
	*out = held.found ? lease_holder_json(&held) : json_null();
	if (*out == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	return 0;
}
