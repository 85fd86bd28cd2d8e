/*
 * Inside the plan store (state/store*.c), not for its users: the store
 * handle and the helpers its files share.  SQLite codes come back as
 * SQLite codes; st_err_sqlite turns them into ours, once, where they
 * leave the store.
 */
#ifndef NETWAVE_STATE_STORE_INT_H
#define NETWAVE_STATE_STORE_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>
#include <sqlite3.h>

#include "plan/err.h"
#include "state/store.h"

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

/* Works out a plan's status from its lease, waves and steps (?1: the plan id). */
extern const char st_sql_plan_status[];

/* ---- errors ---- */

/* NW_ENOMEM, NW_EINPUT (damaged, constraint) or NW_EIO for a SQLite result code. */
int st_status_from_sqlite(int rc);

/*
 * The one place SQLite's errors become ours: "<what> in plan store 'x.db':
 * <sqlite's message>".  Call it straight after the failing call, before a
 * ROLLBACK replaces the connection's message.
 */
int st_err_sqlite(struct nw_err *err, struct store *st, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The same for opening, where the file is all there is to name. */
int st_err_sqlite_open(struct nw_err *err, sqlite3 *db, const char *path, int rc);

/* NW_EINPUT: "no plan '<id>' in plan store '<path>'". */
int st_err_no_plan(struct nw_err *err, struct store *st, const char *plan_id);

/* ---- statements ---- */

int st_prepare(struct store *st, const char *sql, sqlite3_stmt **out);

/*
 * Binds parameters 1, 2, ... of s from the arguments, one letter of fmt
 * each: 's' a string (const char *, NULL binds NULL), 'I' a sqlite3_int64,
 * 'i' an int, 'b' a bool as 0 or 1 (passed as int), 'j' a JSON value as
 * compact text with sorted keys (const json_t *, NULL or JSON null binds
 * NULL), 'n' NULL (no argument).  Returns SQLITE_OK or the first failure;
 * SQLITE_MISUSE for a letter it does not know.
 */
int st_bind(sqlite3_stmt *s, const char *fmt, ...);
int st_vbind(sqlite3_stmt *s, const char *fmt, va_list ap);

int st_bind_text(sqlite3_stmt *s, int i, const char *v);

/*
 * JSON columns hold compact text with sorted keys; NULL (or JSON null)
 * stays NULL.  SQLite takes the text over rather than copying it.
 */
int st_bind_json(sqlite3_stmt *s, int i, const json_t *v);

/* Runs a statement that returns no rows (or whose rows do not matter). */
int st_run(sqlite3_stmt *s);

int st_tx_begin(struct store *st);
int st_tx_commit(struct store *st);
/* Rolls back the transaction in progress, if any. */
void st_tx_rollback(struct store *st);

/*
 * Ends a write begun with st_tx_begin, from its done: label.  An error
 * already set (ret) stands; else a SQLite failure rc (not SQLITE_OK)
 * becomes ours, named by fmt as st_err_sqlite names it.  Then whatever was
 * not committed is rolled back.  Returns the error code, 0 when none.
 */
int st_tx_end(struct store *st, int ret, int rc, struct nw_err *err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* ---- columns ---- */

/* RFC 3339 in UTC, or "@<seconds>" for a time gmtime cannot take. */
void st_time_iso(time_t t, char *buf, size_t size);

/* The text of a column, copied (sqlite's copy dies at the next step); NULL stays NULL. */
char *st_col_strdup(sqlite3_stmt *s, int i, bool *nomem);

/* A text column as a JSON string, NULL as JSON null. */
json_t *st_col_json_string(sqlite3_stmt *s, int i);

/* A stored JSON column as a value (json_loads copies); NULL when the text is damaged. */
json_t *st_col_json(sqlite3_stmt *s, int i);

/* A time column (seconds) as RFC 3339, NULL as JSON null. */
json_t *st_col_time(sqlite3_stmt *s, int i);

/* ---- reading rows (store_rows.c) ---- */

/*
 * One column of a row read into a JSON object: its key and kind, 's' text
 * (NULL as null), 'I' an integer, 'N' an integer or null, 'b' a boolean,
 * 't' a time (st_col_time), 'j' a stored JSON value (st_col_json).  A
 * table of them ends with a NULL key.
 */
struct st_col {
	const char *key;
	char kind;
};

/* Columns first, first + 1, ... of the current row as an object; NULL when out of memory or damaged. */
json_t *st_row_json(sqlite3_stmt *s, int first, const struct st_col *cols);

/* What st_list reads: the query, and how a row becomes JSON (row, else the cols table). */
struct st_query {
	const char *sql;
	const struct st_col *cols;
	json_t *(*row)(sqlite3_stmt *s, void *arg); /* NULL when out of memory or damaged */
	void *arg;
};

/*
 * Runs q with its parameters bound as st_bind's fmt says and puts each
 * row's JSON in a new array *out.  On failure, "<doing>: out of memory or
 * damaged JSON" (NW_ENOMEM) for a row that could not be made, else
 * SQLite's error under doing.
 */
int st_list(struct store *st, const struct st_query *q, const char *doing, json_t **out,
    struct nw_err *err, const char *fmt, ...);

/*
 * Reads the first row of sql (parameters as st_bind's fmt) with fill(s,
 * arg), or only asks whether there is one when fill is NULL; *found says
 * whether there was one.  SQLITE_OK or SQLite's error.
 */
int st_read_row(struct store *st, void (*fill)(sqlite3_stmt *s, void *arg), void *arg, bool *found,
    const char *sql, const char *fmt, ...);

/*
 * Prepares sql, binds its parameters as st_bind's fmt says and steps to
 * its first row: SQLITE_ROW (the row is in *out), SQLITE_DONE when there
 * is none, or SQLite's error.  The caller finalizes *out in every case.
 */
int st_query_row(struct store *st, sqlite3_stmt **out, const char *sql, const char *fmt, ...);

/* Runs sql, which returns no rows, with its parameters bound as st_bind's fmt says. */
int st_exec(struct store *st, const char *sql, const char *fmt, ...);

/*
 * Ends a change: journals event (st_journal_add), works the plan's status
 * out again when refresh, and commits.  SQLITE_OK or the first failure.
 */
int st_journal_commit(struct store *st, const char *plan_id, time_t now, const char *event, int wave_idx,
    const char *step_id, const json_t *detail, bool refresh);

/* Sets key to v (stolen); false when v is NULL (out of memory or a damaged column). */
bool st_obj_put(json_t *obj, const char *key, json_t *v);

/* ---- plans, steps and the journal ---- */

/* Index of a step status name (store_step_status_name), -1 when unknown. */
int st_step_status_parse(const char *s);

/* Recomputes plans.status for plan_id and writes it when it changed. */
int st_plan_refresh(struct store *st, const char *plan_id);

int st_plan_exists(struct store *st, const char *plan_id, bool *found);

/* Appends a journal event (detail borrowed, may be NULL) in the caller's transaction. */
int st_journal_add(struct store *st, const char *plan_id, time_t now, const char *event, int wave_idx,
    const char *step_id, const json_t *detail);

/*
 * NW_EINPUT unless plan_id exists and has wave wave_idx (wave_idx < 0: the plan only);
 * doing names the operation in the message.
 */
int st_check_plan_wave(struct store *st, const char *plan_id, int wave_idx, const char *doing,
    struct nw_err *err);

#endif
