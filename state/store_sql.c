/*
 * What the plan store's files share (store_int.h): the names of states,
 * SQLite's errors made ours, binding and reading columns, transactions,
 * the plan status kept up to date, and journal events.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "plan/jsonutil.h"
#include "plan/plan_json.h"
#include "state/store_int.h"

/*
 * A plan's status follows from its lease, waves and steps; it is kept in
 * plans.status by working it out in every transaction that moves any of
 * them, so listing plans never has to walk their steps.  The row is only
 * written when the status changes: an UPDATE rewrites the whole record,
 * document included, which for a plan of thousands of steps is megabytes
 * per step transition (and why document is the last column: reading the
 * others never walks its overflow pages).
 */
const char st_sql_plan_status[] =
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

int
st_step_status_parse(const char *s)
{
	for (size_t i = 0; s != NULL && i < sizeof(step_status_names) / sizeof(step_status_names[0]); i++)
		if (strcmp(s, step_status_names[i]) == 0)
			return (int)i;
	return -1;
}

/* ---- errors ------------------------------------------------------------- */

int
st_status_from_sqlite(int rc)
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
int
st_err_sqlite(struct nw_err *err, struct store *st, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

int
st_err_sqlite(struct nw_err *err, struct store *st, int rc, const char *fmt, ...)
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
	return err_set(err, st_status_from_sqlite(rc), "%s in plan store '%s': %s", what, st->path, msg);
}

/* The same for opening, where the file is all there is to name. */
int
st_err_sqlite_open(struct nw_err *err, sqlite3 *db, const char *path, int rc)
{
	const char *msg = db != NULL && rc != SQLITE_NOMEM ? sqlite3_errmsg(db) : sqlite3_errstr(rc);

	return err_set(err, st_status_from_sqlite(rc), "cannot open plan store '%s': %s", path, msg);
}

int
st_err_no_plan(struct nw_err *err, struct store *st, const char *plan_id)
{
	return err_set(err, NW_EINPUT, "no plan '%s' in plan store '%s'", plan_id, st->path);
}

/* ---- small SQL helpers -------------------------------------------------- */

int
st_prepare(struct store *st, const char *sql, sqlite3_stmt **out)
{
	return sqlite3_prepare_v2(st->db, sql, -1, out, NULL);
}

int
st_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	return v == NULL ? sqlite3_bind_null(s, i) : sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

/*
 * JSON columns hold compact text with sorted keys; NULL (or JSON null)
 * stays NULL.  SQLite takes the text over rather than copying it.
 */
int
st_bind_json(sqlite3_stmt *s, int i, const json_t *v)
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

int
st_vbind(sqlite3_stmt *s, const char *fmt, va_list ap)
{
	int i, rc = SQLITE_OK;

	for (i = 1; fmt[i - 1] != '\0' && rc == SQLITE_OK; i++) {
		switch (fmt[i - 1]) {
		case 's':
			rc = st_bind_text(s, i, va_arg(ap, const char *));
			break;
		case 'I':
			rc = sqlite3_bind_int64(s, i, va_arg(ap, sqlite3_int64));
			break;
		case 'i':
			rc = sqlite3_bind_int(s, i, va_arg(ap, int));
			break;
		case 'b':
			rc = sqlite3_bind_int(s, i, va_arg(ap, int) != 0);
			break;
		case 'j':
			rc = st_bind_json(s, i, va_arg(ap, const json_t *));
			break;
		case 'n':
			rc = sqlite3_bind_null(s, i);
			break;
		default:
			rc = SQLITE_MISUSE;
			break;
		}
	}
	return rc;
}

int
st_bind(sqlite3_stmt *s, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = st_vbind(s, fmt, ap);
	va_end(ap);
	return rc;
}

/* Runs a statement that returns no rows (or whose rows do not matter). */
int
st_run(sqlite3_stmt *s)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		;
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int
st_tx_begin(struct store *st)
{
	return sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
}

int
st_tx_commit(struct store *st)
{
	return sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
}

void
st_tx_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

int
st_tx_end(struct store *st, int ret, int rc, struct nw_err *err, const char *fmt, ...)
{
	char what[NW_ERR_MSG_MAX];
	va_list ap;

	if (ret == 0 && rc != SQLITE_OK) {
		va_start(ap, fmt);
		vsnprintf(what, sizeof(what), fmt, ap);
		va_end(ap);
		ret = st_err_sqlite(err, st, rc, "%s", what);
	}
	st_tx_rollback(st);
	return ret;
}

void
st_time_iso(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "@%lld", (long long)t);
}

/* The text of a column, copied (sqlite's copy dies at the next step); NULL stays NULL. */
char *
st_col_strdup(sqlite3_stmt *s, int i, bool *nomem)
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

json_t *
st_col_json_string(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t == NULL ? json_null() : json_string((const char *)t);
}

/* A stored JSON column as a value (json_loads copies); NULL when the text is damaged. */
json_t *
st_col_json(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	if (t == NULL)
		return json_null();
	return json_loads((const char *)t, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
}

json_t *
st_col_time(sqlite3_stmt *s, int i)
{
	char buf[40];

	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return json_null();
	st_time_iso((time_t)sqlite3_column_int64(s, i), buf, sizeof(buf));
	return json_string(buf);
}

/* Sets key to v (stolen); false when v is NULL (out of memory or a damaged column). */
bool
st_obj_put(json_t *obj, const char *key, json_t *v)
{
	return v != NULL && json_object_set_new(obj, key, v) == 0;
}

/* Keeps in arg (32 bytes) the status the plan should have when plans.status holds another. */
static void
status_fill(sqlite3_stmt *s, void *arg)
{
	char *status = arg;
	const unsigned char *want = sqlite3_column_text(s, 0);
	const unsigned char *have = sqlite3_column_text(s, 1);

	if (want != NULL && (have == NULL || strcmp((const char *)want, (const char *)have) != 0))
		snprintf(status, 32, "%s", (const char *)want);
}

int
st_plan_refresh(struct store *st, const char *plan_id)
{
	char status[32] = "";
	bool found = false;
	int rc = st_read_row(st, status_fill, status, &found, st_sql_plan_status, "s", plan_id);

	if (rc != SQLITE_OK || status[0] == '\0')
		return rc;
	return st_exec(st, "UPDATE plans SET status = ?2 WHERE id = ?1", "ss", plan_id, status);
}

int
st_plan_exists(struct store *st, const char *plan_id, bool *found)
{
	return st_read_row(st, NULL, NULL, found, "SELECT 1 FROM plans WHERE id = ?1", "s", plan_id);
}

/* Appends one journal event inside the caller's transaction. */
int
st_journal_add(struct store *st, const char *plan_id, time_t now, const char *event, int wave_idx,
    const char *step_id, const json_t *detail)
{
	sqlite3_stmt *s = NULL;
	int rc = st_prepare(st,
	    "INSERT INTO journal (plan_id, at, event, wave_idx, step_id, detail)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &s);

	if (rc == SQLITE_OK)
		rc = st_bind(s, "sIs", plan_id, (sqlite3_int64)now, event);
	if (rc == SQLITE_OK)
		rc = wave_idx >= 0 ? sqlite3_bind_int(s, 4, wave_idx) : sqlite3_bind_null(s, 4);
	if (rc == SQLITE_OK)
		rc = st_bind_text(s, 5, step_id);
	if (rc == SQLITE_OK)
		rc = st_bind_json(s, 6, detail);
	if (rc == SQLITE_OK)
		rc = st_run(s);
	sqlite3_finalize(s);
	return rc;
}

