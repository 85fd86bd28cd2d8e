/*
 * Statements of the plan store in one call: a row into JSON from a column
 * table (the read side of st_bind), a query into an array of such rows,
 * one row into a caller's struct, a write that returns nothing, and the
 * journal entry and commit that end a change.  store_plan.c, store_run.c
 * and store_lease.c go through these rather than each stepping its own
 * statements.
 */
#include "config.h"

#include <stdarg.h>

#include <sqlite3.h>

#include "state/store_int.h"

static json_t *
col_value(sqlite3_stmt *s, int i, char kind)
{
	switch (kind) {
	case 's':
		return st_col_json_string(s, i);
	case 'I':
		return json_integer(sqlite3_column_int64(s, i));
	case 'N':
		return sqlite3_column_type(s, i) == SQLITE_NULL ? json_null() :
								  json_integer(sqlite3_column_int64(s, i));
	case 'b':
		return json_boolean(sqlite3_column_int(s, i) != 0);
	case 't':
		return st_col_time(s, i);
	case 'j':
		return st_col_json(s, i);
	default:
		return NULL;
	}
}

/* Prepares sql and binds its parameters as st_bind's fmt says; *out NULL on failure. */
static int
prepare_bound(struct store *st, const char *sql, const char *fmt, va_list ap, sqlite3_stmt **out)
{
	int rc = st_prepare(st, sql, out);

	if (rc == SQLITE_OK)
		rc = st_vbind(*out, fmt, ap);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(*out);
		*out = NULL;
	}
	return rc;
}

/* prepare_bound, then the first step: SQLITE_ROW, SQLITE_DONE or SQLite's error. */
static int
vquery_row(struct store *st, sqlite3_stmt **out, const char *sql, const char *fmt, va_list ap)
{
	int rc = prepare_bound(st, sql, fmt, ap, out);

	return rc == SQLITE_OK ? sqlite3_step(*out) : rc;
}

json_t *
st_row_json(sqlite3_stmt *s, int first, const struct st_col *cols)
{
	json_t *o = json_object();
	int i;

	for (i = 0; o != NULL && cols[i].key != NULL; i++)
		if (!st_obj_put(o, cols[i].key, col_value(s, first + i, cols[i].kind))) {
			json_decref(o);
			return NULL;
		}
	return o;
}

int
st_list(struct store *st, const struct st_query *q, const char *doing, json_t **out,
    struct nw_err *err, const char *fmt, ...)
{
	sqlite3_stmt *s = NULL;
	json_t *list = json_array();
	va_list ap;
	int rc, ret = 0;

	*out = NULL;
	if (list == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	va_start(ap, fmt);
	rc = prepare_bound(st, q->sql, fmt, ap, &s);
	va_end(ap);
	while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_t *v = q->row != NULL ? q->row(s, q->arg) : st_row_json(s, 0, q->cols);

		if (json_array_append_new(list, v) != 0) {
			ret = err_set(err, NW_ENOMEM, "%s: out of memory or damaged JSON", doing);
			goto done;
		}
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_DONE) {
		ret = st_err_sqlite(err, st, rc, "%s", doing);
		goto done;
	}
	*out = list;
	list = NULL;
done:
	sqlite3_finalize(s);
	json_decref(list);
	return ret;
}

int
st_read_row(struct store *st, void (*fill)(sqlite3_stmt *s, void *arg), void *arg, bool *found,
    const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *s = NULL;
	va_list ap;
	int rc;

	*found = false;
	va_start(ap, fmt);
	rc = vquery_row(st, &s, sql, fmt, ap);
	va_end(ap);
	if (rc == SQLITE_ROW) {
		*found = true;
		if (fill != NULL)
			fill(s, arg);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
	}
	sqlite3_finalize(s);
	return rc;
}

int
st_query_row(struct store *st, sqlite3_stmt **out, const char *sql, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vquery_row(st, out, sql, fmt, ap);
	va_end(ap);
	return rc;
}

int
st_exec(struct store *st, const char *sql, const char *fmt, ...)
{
	sqlite3_stmt *s = NULL;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = prepare_bound(st, sql, fmt, ap, &s);
	va_end(ap);
	if (rc == SQLITE_OK)
		rc = st_run(s);
	sqlite3_finalize(s);
	return rc;
}

int
st_journal_commit(struct store *st, const char *plan_id, time_t now, const char *event, int wave_idx,
    const char *step_id, const json_t *detail, bool refresh)
{
	int rc = st_journal_add(st, plan_id, now, event, wave_idx, step_id, detail);

	if (rc == SQLITE_OK && refresh)
		rc = st_plan_refresh(st, plan_id);
	if (rc == SQLITE_OK)
		rc = st_tx_commit(st);
	return rc;
}
