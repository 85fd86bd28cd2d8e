/*
 * The plan store's preflight table: the last `netwave preflight` (or the
 * preflight apply ran before its first write) of each plan, as its
 * netwave.preflight/v1 document with its time and counts, so `show` and
 * `status` can say when the estate was last checked and what was found.
 */
#include "config.h"

#include <sqlite3.h>

#include "plan/jsonutil.h"
#include "state/store.h"
#include "state/store_int.h"

int
store_preflight_save(struct store *st, const char *plan_id, const json_t *doc, time_t now, struct nw_err *err)
{
	static const char sql[] =
	    "INSERT INTO preflights (plan_id, checked_at, blockers, warnings, document) VALUES (?1, ?2, ?3, ?4, ?5)"
	    " ON CONFLICT (plan_id) DO UPDATE SET checked_at = ?2, blockers = ?3, warnings = ?4, document = ?5";
	const json_t *sum = json_object_get(doc, "summary");
	int rc, ret;

	if ((ret = st_check_plan_wave(st, plan_id, -1, "keep the preflight", err)) != 0)
		return ret;
	if ((rc = st_tx_begin(st)) != SQLITE_OK)
		return st_err_sqlite(err, st, rc, "cannot keep the preflight of plan %s", plan_id);
	rc = st_exec(st, sql, "sIIIj", plan_id, (sqlite3_int64)now,
	    (sqlite3_int64)json_integer_value(json_object_get(sum, "blockers")),
	    (sqlite3_int64)json_integer_value(json_object_get(sum, "warnings")), doc);
	if (rc == SQLITE_OK)
		rc = st_tx_commit(st);
	if (rc != SQLITE_OK) {
		ret = st_err_sqlite(err, st, rc, "cannot keep the preflight of plan %s", plan_id);
		st_tx_rollback(st);
		return ret;
	}
	return 0;
}

int
store_preflight_get(struct store *st, const char *plan_id, json_t **out, struct nw_err *err)
{
	static const char sql[] = "SELECT document FROM preflights WHERE plan_id = ?1";
	sqlite3_stmt *s = NULL;
	int rc, ret;

	*out = NULL;
	if ((ret = st_check_plan_wave(st, plan_id, -1, "read the preflight", err)) != 0)
		return ret;
	rc = st_prepare(st, sql, &s);
	if (rc == SQLITE_OK)
		rc = st_bind(s, "s", plan_id);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*out = st_col_json(s, 0);
		rc = *out != NULL ? SQLITE_DONE : SQLITE_CORRUPT;
	} else if (rc == SQLITE_DONE) {
		*out = json_null();
	}
	if (rc != SQLITE_DONE)
		ret = st_err_sqlite(err, st, rc, "cannot read the preflight of plan %s", plan_id);
	sqlite3_finalize(s);
	return ret;
}
