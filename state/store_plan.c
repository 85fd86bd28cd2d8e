/*
 * Plans in the plan store: a netwave.plan/v1 document checked, saved whole
 * (its canonical text, as plan_json_seal wrote it) and shred into waves,
 * steps and gates rows in one transaction; read back by id or prefix, and
 * listed with their status and lease.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sqlite3.h>

#include "plan/jsonutil.h"
#include "plan/memtune.h"
#include "plan/plan_json.h"
#include "state/store_int.h"

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

static int
step_check(const char *id, const json_t *s, size_t wi, size_t si, struct nw_err *err)
{
	static const char *const required[] = { "procedure", "action", "resource" };
	const char *sid = json_str(s, "id");
	const json_t *inv = json_object_get(s, "inverse");
	bool irreversible = json_is_true(json_object_get(s, "irreversible"));

	if (!json_is_object(s) || sid == NULL || sid[0] == '\0')
		return plan_bad(err, id, "wave %zu step %zu has no \"id\"", wi, si);
	for (size_t k = 0; k < sizeof(required) / sizeof(required[0]); k++)
		if (!is_nonempty_string(json_object_get(s, required[k])))
			return plan_bad(err, id, "step %s has no \"%s\"", sid, required[k]);
	if (json_object_get(s, "serializeKey") != NULL &&
	    !is_nonempty_string(json_object_get(s, "serializeKey")))
		return plan_bad(err, id, "step %s has a \"serializeKey\" that is not a string", sid);
	if (!json_is_object(json_object_get(s, "operation")))
		return plan_bad(err, id, "step %s has no \"operation\" object", sid);
	if (inv != NULL && !json_is_null(inv) && !json_is_object(inv))
		return plan_bad(err, id, "step %s has an \"inverse\" that is not an object", sid);
	if (irreversible && json_is_object(inv))
		return plan_bad(err, id, "step %s is irreversible but has an inverse", sid);
	if (!irreversible && !json_is_object(inv))
		return plan_bad(err, id, "step %s has no inverse and is not marked irreversible", sid);
	return 0;
}

static int
gate_check(const char *id, const json_t *g, size_t wi, size_t gi, struct nw_err *err)
{
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
	return 0;
}

static int
wave_check(const char *id, const json_t *w, size_t wi, struct nw_err *err)
{
	const json_t *steps = json_object_get(w, "steps"), *gates = json_object_get(w, "gates");
	const json_t *soak = json_object_get(w, "soakSeconds"), *v;
	size_t i;
	int rc;

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
		return plan_bad(err, id, "wave %zu has a \"soakSeconds\" that is not a count of seconds", wi);
	if (!json_is_array(steps))
		return plan_bad(err, id, "wave %zu has no \"steps\" array", wi);
	if (gates != NULL && !json_is_array(gates))
		return plan_bad(err, id, "wave %zu has \"gates\" that is not an array", wi);
	json_array_foreach(steps, i, v)
		if ((rc = step_check(id, v, wi, i, err)) != 0)
			return rc;
	json_array_foreach(gates, i, v)
		if ((rc = gate_check(id, v, wi, i, err)) != 0)
			return rc;
	return 0;
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
	const json_t *waves = json_object_get(plan, "waves"), *w;
	size_t wi;
	int rc;

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
	json_array_foreach(waves, wi, w)
		if ((rc = wave_check(id, w, wi, err)) != 0)
			return rc;
	return 0;
}

/*
 * Binds v's compact text: from the plan's sealed text when it holds v, so
 * that thousands of bodies are not written a second time, else written.
 */
static int
bind_body(sqlite3_stmt *s, int i, const json_t *v, const struct plan_text *text)
{
	size_t len;
	char *t = json_is_object(v) ? plan_text_compact(text, v, &len) : NULL;

	if (t == NULL)
		return st_bind_json(s, i, v);
	return sqlite3_bind_text64(s, i, t, len, free, SQLITE_UTF8);
}

/* Inserts the waves, steps and gates of a checked plan (inside the save transaction). */
static int
plan_insert_rows(struct store *st, const char *id, const json_t *waves, const struct plan_text *text)
{
	sqlite3_stmt *ws = NULL, *ss = NULL, *gs = NULL;
	size_t wi, si, gi;
	const json_t *w, *s, *g;
	int rc;

	rc = st_prepare(st,
	    "INSERT INTO waves (plan_id, idx, name, kind, soak_seconds) VALUES (?1, ?2, ?3, ?4, ?5)",
	    &ws);
	if (rc == SQLITE_OK)
		rc = st_prepare(st,
		    "INSERT INTO steps (plan_id, step_id, wave_idx, seq, procedure, action, resource,"
		    " serialize_key, operation, inverse, irreversible, long_running)"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)", &ss);
	if (rc == SQLITE_OK)
		rc = st_prepare(st,
		    "INSERT INTO gates (plan_id, gate_id, wave_idx, seq, kind, params, budget)"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", &gs);
	if (rc != SQLITE_OK)
		goto done;

	json_array_foreach(waves, wi, w) {
		const json_t *soak = json_object_get(w, "soakSeconds");

		sqlite3_reset(ws);
		if ((rc = st_bind(ws, "sIssI", id, (sqlite3_int64)wi, json_str(w, "name"), json_str(w, "kind"),
		    (sqlite3_int64)(soak != NULL ? json_integer_value(soak) : 0))) != SQLITE_OK ||
		    (rc = st_run(ws)) != SQLITE_OK)
			goto done;

		json_array_foreach(json_object_get(w, "steps"), si, s) {
			const char *key = json_str(s, "serializeKey");

			sqlite3_reset(ss);
			/* a step without a key serializes on the resource it touches */
			if ((rc = st_bind(ss, "ssIIssssnnbb", id, json_str(s, "id"), (sqlite3_int64)wi,
			    (sqlite3_int64)si, json_str(s, "procedure"), json_str(s, "action"),
			    json_str(s, "resource"), key != NULL ? key : json_str(s, "resource"),
			    json_is_true(json_object_get(s, "irreversible")),
			    json_is_true(json_object_get(s, "longRunning")))) != SQLITE_OK ||
			    (rc = bind_body(ss, 9, json_object_get(s, "operation"), text)) != SQLITE_OK ||
			    (rc = bind_body(ss, 10, json_object_get(s, "inverse"), text)) != SQLITE_OK ||
			    (rc = st_run(ss)) != SQLITE_OK)
				goto done;
		}

		json_array_foreach(json_object_get(w, "gates"), gi, g) {
			const json_t *params = json_object_get(g, "params");
			json_t *empty = NULL;

			sqlite3_reset(gs);
			if (params == NULL)
				params = empty = json_object();
			if ((rc = st_bind(gs, "ssIIsnn", id, json_str(g, "id"), (sqlite3_int64)wi,
			    (sqlite3_int64)gi, json_str(g, "kind"))) != SQLITE_OK ||
			    (rc = bind_body(gs, 6, params, text)) != SQLITE_OK ||
			    (rc = bind_body(gs, 7, json_object_get(g, "budget"), text)) != SQLITE_OK ||
			    (rc = st_run(gs)) != SQLITE_OK) {
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
	return st_exec(st,
	    "UPDATE plans SET status = 'superseded', superseded_by ="
	    " (SELECT id FROM plans WHERE current_fingerprint = ?1 AND status = 'planned'"
	    "  ORDER BY created_at DESC, rowid DESC LIMIT 1)"
	    " WHERE current_fingerprint = ?1 AND status = 'planned' AND id <>"
	    " (SELECT id FROM plans WHERE current_fingerprint = ?1 AND status = 'planned'"
	    "  ORDER BY created_at DESC, rowid DESC LIMIT 1)", "s", fingerprint);
}

int
store_plan_save(struct store *st, const json_t *plan, struct nw_err *err)
{
	struct plan_text text = { 0 };
	int rc;

	text.s = plan_json_dumps(plan, JSON_CANONICAL | JSON_ENCODE_ANY, true, &text.len);
	if (text.s == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	rc = store_plan_save_text(st, plan, &text, err);
	plan_text_clear(&text);
	return rc;
}

/*
 * The plan insert outside the write-ahead log.  In WAL mode every page of
 * the transaction goes to the log and is copied again into the database at
 * the next checkpoint: for the 5,000-spoke bench estate that is 126 MB
 * written twice.  With a rollback journal the new pages go straight into
 * the database file and the journal keeps only the few existing pages the
 * insert changes (b-tree roots, the free list).  The commit stays atomic:
 * SQLite syncs the journal before it writes the database, and a crash
 * before the journal is gone rolls the database back on the next open
 * (sqlite.org/atomiccommit.html), so a plan is stored whole or not at all.
 * SQLite leaves WAL mode only when no other connection has the store open
 * (sqlite.org/pragma.html#pragma_journal_mode); otherwise the insert goes
 * through the log as before.  True when the mode changed.
 */
static bool
bulk_journal(struct store *st, const char *mode)
{
	sqlite3_stmt *s = NULL;
	bool changed = false;
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA journal_mode = %s", mode);
	if (st_prepare(st, sql, &s) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
		const char *got = (const char *)sqlite3_column_text(s, 0);
		changed = got != NULL && strcasecmp(got, mode) == 0;
	}
	sqlite3_finalize(s);
	return changed;
}

/* What the plans row takes from the document besides its text, kept past the tree's release. */
enum { ROW_ID, ROW_CREATED_AT, ROW_CURRENT, ROW_TARGET, ROW_FIELDS };

static void
plan_row_clear(char *row[ROW_FIELDS])
{
	for (int i = 0; i < ROW_FIELDS; i++)
		free(row[i]);
}

/* The fields plan_check vouched for (non-empty strings) copied into row; -1 on out of memory. */
static int
plan_row_copy(char *row[ROW_FIELDS], const json_t *plan)
{
	const char *v[ROW_FIELDS] = {
		[ROW_ID] = json_str(plan, "id"),
		[ROW_CREATED_AT] = json_str(plan, "createdAt"),
		[ROW_CURRENT] = json_path_str(plan, "current", "fingerprint", NULL),
		[ROW_TARGET] = json_path_str(plan, "target", "fingerprint", NULL),
	};

	for (int i = 0; i < ROW_FIELDS; i++)
		if ((row[i] = strdup(v[i])) == NULL)
			return -1;
	return 0;
}

/* A plan's document by its id. */
static const char plan_doc_sql[] = "SELECT document FROM plans WHERE id = ?1";

/*
 * Saves plan with its text; when owned is not NULL it holds the caller's
 * reference to plan, released once the rows are in (*owned set to NULL).
 */
static int
plan_save(struct store *st, const json_t *plan, json_t **owned, const struct plan_text *text,
    struct nw_err *err)
{
	const char *doc = text->s;
	size_t len = text->len;
	sqlite3_stmt *s = NULL;
	char *row[ROW_FIELDS] = { NULL };
	const char *id, *current;
	bool rollback_journal = false;
	int rc, ret = 0;

	ret = plan_check(plan, err);
	if (ret != 0)
		return ret;
	if (plan_row_copy(row, plan) != 0) {
		plan_row_clear(row);
		return err_set(err, NW_ENOMEM, "out of memory");
	}
	id = row[ROW_ID];
	current = row[ROW_CURRENT];

	rollback_journal = bulk_journal(st, "delete");
	rc = st_tx_begin(st);
	if (rc == SQLITE_OK)
		rc = st_query_row(st, &s, plan_doc_sql, "s", id);
	if (rc == SQLITE_ROW) {
		const unsigned char *stored = sqlite3_column_text(s, 0);

		/* saving the same plan again is harmless; a different one under its id is not */
		if (stored == NULL || (size_t)sqlite3_column_bytes(s, 0) != len ||
		    memcmp(stored, doc, len) != 0)
			ret = err_set(err, NW_EINPUT,
			    "cannot save plan %s: a different plan with this id is already in plan store '%s'",
			    id, st->path);
		rc = SQLITE_OK;
		goto done;
	}
	if (rc != SQLITE_DONE)
		goto done;
	sqlite3_finalize(s);
	s = NULL;

	rc = sqlite3_exec(st->db, "PRAGMA defer_foreign_keys = ON", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = plan_insert_rows(st, id, json_object_get(plan, "waves"), text);
	if (rc != SQLITE_OK)
		goto done;
	if (owned != NULL) {
		/*
		 * The tree is done with: SQLite copies the text into its record
		 * next (70 MB for the 5,000-spoke bench estate), so the tree's
		 * pages go back first rather than being held beside that copy.
		 */
		json_decref(*owned);
		*owned = NULL;
		plan = NULL;
		memtune_release();
	}
	rc = st_prepare(st,
	    "INSERT INTO plans (id, created_at, current_fingerprint, target_fingerprint, document)"
	    " VALUES (?1, ?2, ?3, ?4, ?5)", &s);
	if (rc == SQLITE_OK)
		rc = st_bind(s, "ssss", id, row[ROW_CREATED_AT], current, row[ROW_TARGET]);
	if (rc == SQLITE_OK) /* the text outlives the statement: no copy */
		rc = sqlite3_bind_text64(s, 5, doc, len, SQLITE_STATIC, SQLITE_UTF8);
	if (rc == SQLITE_OK)
		rc = st_run(s);
	/* finalized before what follows: finalizing a statement that ran clears the connection's error */
	sqlite3_finalize(s);
	s = NULL;
	if (rc == SQLITE_OK)
		rc = plan_supersede(st, current);
	if (rc == SQLITE_OK) {
		/*
		 * In WAL mode (another connection kept it there), the commit makes
		 * the plan durable in the log; copying the log's hundred-odd
		 * megabytes into the database is left to the next checkpoint, at
		 * the latest when the store is closed.
		 */
		sqlite3_wal_autocheckpoint(st->db, 0);
		rc = st_tx_commit(st);
		sqlite3_wal_autocheckpoint(st->db, SQLITE_DEFAULT_WAL_AUTOCHECKPOINT);
	}
done:
	sqlite3_finalize(s);
	ret = st_tx_end(st, ret, rc, err, "cannot save plan %s", id);
	/*
	 * Back to WAL.  Should another process hold the store just now, it
	 * stays in rollback mode, which is as safe; store_open puts every
	 * connection back in WAL mode when it opens the store.
	 */
	if (rollback_journal)
		(void)bulk_journal(st, "wal");
	plan_row_clear(row);
	return ret;
}

int
store_plan_save_text(struct store *st, const json_t *plan, const struct plan_text *text,
    struct nw_err *err)
{
	return plan_save(st, plan, NULL, text, err);
}

int
store_plan_save_text_release(struct store *st, json_t **plan, const struct plan_text *text,
    struct nw_err *err)
{
	return plan_save(st, *plan, plan, text, err);
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
	rc = st_query_row(st, &s, "SELECT created_at FROM plans WHERE id = ?1", "s", id);
	if (rc == SQLITE_ROW)
		*out = st_col_strdup(s, 0, &nomem);
	else if (rc != SQLITE_DONE)
		ret = st_err_sqlite(err, st, rc, "cannot read plan %s", id);
	if (nomem)
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
	rc = st_prepare(st,
	    "SELECT id FROM plans WHERE id = ?1"
	    " UNION ALL SELECT id FROM plans WHERE id <> ?1"
	    "  AND NOT EXISTS (SELECT 1 FROM plans WHERE id = ?1)"
	    "  AND (substr(id, 1, length(?1)) = ?1 OR substr(id, 1, length(?1) + 3) = 'pl-' || ?1)"
	    " ORDER BY 1", &s);
	if (rc == SQLITE_OK)
		rc = st_bind_text(s, 1, id_or_prefix);
	if (rc != SQLITE_OK)
		goto sqlfail;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *mid = (const char *)sqlite3_column_text(s, 0);

		if (matches == 0)
			id = st_col_strdup(s, 0, &nomem);
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
		ret = st_err_no_plan(err, st, id_or_prefix);
		goto done;
	}
	if (matches > 1) {
		ret = err_set(err, NW_EINPUT, "plan id '%s' is ambiguous: %zu plans match (%s%s)",
		    id_or_prefix, matches, names, matches > STORE_PREFIX_SHOWN ? ", ..." : "");
		goto done;
	}
	sqlite3_finalize(s);
	s = NULL;
	rc = st_query_row(st, &s, plan_doc_sql, "s", id);
	if (rc == SQLITE_DONE) {
		ret = st_err_no_plan(err, st, id_or_prefix);
		goto done;
	}
	if (rc != SQLITE_ROW)
		goto sqlfail;
	*out = plan_parse(st, id, s, 0, err);
	ret = *out != NULL ? 0 : (err != NULL && err->code != 0 ? err->code : NW_EINPUT);
	goto done;
sqlfail:
	ret = st_err_sqlite(err, st, rc, "cannot read plan %s", id_or_prefix);
done:
	sqlite3_finalize(s);
	free(id);
	return ret;
}

static const struct st_col plan_cols[] = {
	{ "id", 's' }, { "createdAt", 's' }, { "status", 's' }, { "currentFingerprint", 's' },
	{ "targetFingerprint", 's' }, { "waves", 'I' }, { "steps", 'I' }, { "stepsDone", 'I' },
	{ "supersededBy", 's' }, { NULL, 0 },
};

/* The lease's columns, after plan_cols. */
static const struct st_col lease_cols[] = {
	{ "owner", 's' }, { "pid", 'I' }, { "host", 's' }, { "acquiredAt", 't' }, { "expiresAt", 't' },
	{ NULL, 0 },
};

/* A plan row (plan_cols), with its lease when one is held. */
static json_t *
plan_row_json(sqlite3_stmt *s, void *arg)
{
	json_t *p = st_row_json(s, 0, plan_cols);

	(void)arg;
	if (p != NULL && sqlite3_column_type(s, 9) != SQLITE_NULL &&
	    !st_obj_put(p, "lease", st_row_json(s, 9, lease_cols))) {
		json_decref(p);
		return NULL;
	}
	return p;
}

int
store_plan_list(struct store *st, json_t **out, struct nw_err *err)
{
	const struct st_query q = {
		"SELECT p.id, p.created_at, p.status, p.current_fingerprint, p.target_fingerprint,"
		" (SELECT count(*) FROM waves w WHERE w.plan_id = p.id),"
		" (SELECT count(*) FROM steps s WHERE s.plan_id = p.id),"
		" (SELECT count(*) FROM steps s WHERE s.plan_id = p.id AND s.status = 'done'),"
		" p.superseded_by, l.owner, l.pid, l.host, l.acquired_at, l.expires_at"
		" FROM plans p LEFT JOIN leases l ON l.plan_id = p.id"
		" ORDER BY p.created_at DESC, p.rowid DESC", NULL, plan_row_json, NULL,
	};

	return st_list(st, &q, "cannot list plans", out, err, "");
}
