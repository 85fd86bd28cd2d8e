/*
 * Optional persistence of the emulator's estate (--state DB), so a
 * restarted emulator keeps what was created, changed and deployed.  One
 * row per resource (by lowercase id) and one per document (observed,
 * resource groups, deployment records, migration snapshots, the topology
 * document's other keys); after each request the rows that changed are
 * written in one transaction.  Operations in flight are not stored: a
 * clean stop completes them first, and a crash leaves provisioning states
 * that the next start settles (docs/emulator.md).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "plan/jsonutil.h"
#include "providers/emulator/emu.h"

#define SCHEMA_VERSION "1"

static const char *const schema =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS resources(idl TEXT PRIMARY KEY, body TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS docs(name TEXT PRIMARY KEY, body TEXT NOT NULL);";

static int
err_db(struct emulator *e, struct nw_err *err, const char *what)
{
	return err_set(err, NW_EIO, "state database: %s: %s", what,
	    e->db != NULL ? sqlite3_errmsg(e->db) : "not open");
}

static int
exec(struct emulator *e, const char *sql, struct nw_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(e->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(err, NW_EIO, "state database: %s", msg != NULL ? msg : "failed");
		sqlite3_free(msg);
		return NW_EIO;
	}
	return 0;
}

/* The documents that are not resources, by name. */
static json_t **
doc_slot(struct emulator *e, const char *name)
{
	if (strcmp(name, "doc") == 0)
		return &e->doc;
	if (strcmp(name, "observed") == 0)
		return &e->observed;
	if (strcmp(name, "rgs") == 0)
		return &e->rgs;
	if (strcmp(name, "deploy") == 0)
		return &e->deploy;
	if (strcmp(name, "snapshots") == 0)
		return &e->snapshots;
	if (strcmp(name, "subfeatures") == 0)
		return &e->subfeatures;
	return NULL;
}

static const char *const doc_names[] = { "doc", "observed", "rgs", "deploy", "snapshots",
	"subfeatures", NULL };

/*
 * Settles what an interrupted run left half-way in every resource; what
 * a kind left (a commit, a migration step) is settled by its own file
 * (emu_routes_settle).
 */
static void
settle(struct emulator *e)
{
	const char *k;
	json_t *v, *f;
	void *tmp;

	json_object_foreach_safe(e->res, tmp, k, v) {
		const char *st = json_path_str(v, "properties", "provisioningState", NULL);

		if (st == NULL)
			continue;
		if (strcmp(st, "Deleting") == 0) {
			json_object_del(e->res, k);
			continue;
		}
		if (strcmp(st, "Updating") == 0 || strcmp(st, "Creating") == 0)
			arm_set_state(v, "Succeeded");
	}
	f = json_object_get(e->observed, "features");
	json_object_foreach(f, k, v) {
		if (json_is_string(v) && strcmp(json_string_value(v), "Registering") == 0)
			json_object_set_new(f, k, json_string("Registered"));
		else if (json_is_string(v) && strcmp(json_string_value(v), "Unregistering") == 0)
			json_object_set_new(f, k, json_string("Unregistered"));
	}
}

int
persist_open(struct emulator *e, const char *path, bool *loaded, struct nw_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	*loaded = false;
	if (sqlite3_open_v2(path, &e->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		rc = err_set(err, NW_EIO, "cannot open state database '%s': %s", path,
		    e->db != NULL ? sqlite3_errmsg(e->db) : "out of memory");
		sqlite3_close(e->db);
		e->db = NULL;
		return rc;
	}
	sqlite3_busy_timeout(e->db, 5000);
	rc = exec(e, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
	    err);
	if (rc == 0)
		rc = exec(e, schema, err);
	if (rc != 0)
		goto fail;
	if (sqlite3_prepare_v2(e->db, "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL) !=
	    SQLITE_OK) {
		rc = err_db(e, err, "reading meta");
		goto fail;
	}
	sqlite3_bind_text(st, 1, "schema", -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		if (v == NULL || strcmp(v, SCHEMA_VERSION) != 0) {
			rc = err_set(err, NW_EINPUT, "state database '%s' has schema %s; this emulator reads %s",
			    path, v != NULL ? v : "(none)", SCHEMA_VERSION);
			goto fail;
		}
		*loaded = true;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (!*loaded)
		return 0;

	/* load the estate */
	json_decref(e->res);
	e->res = json_object();
	if (sqlite3_prepare_v2(e->db, "SELECT idl, body FROM resources", -1, &st, NULL) != SQLITE_OK) {
		rc = err_db(e, err, "reading resources");
		goto fail;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_error_t jerr;
		json_t *v = json_loads((const char *)sqlite3_column_text(st, 1), 0, &jerr);
		if (v == NULL) {
			rc = err_set(err, NW_EINPUT, "state database '%s': resource %s: %s", path,
			    (const char *)sqlite3_column_text(st, 0), jerr.text);
			goto fail;
		}
		json_object_set_new(e->res, (const char *)sqlite3_column_text(st, 0), v);
	}
	if (rc != SQLITE_DONE) {
		rc = err_db(e, err, "reading resources");
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(e->db, "SELECT name, body FROM docs", -1, &st, NULL) != SQLITE_OK) {
		rc = err_db(e, err, "reading documents");
		goto fail;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t **slot = doc_slot(e, (const char *)sqlite3_column_text(st, 0));
		json_t *v = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);

		if (slot == NULL || v == NULL) {
			json_decref(v);
			continue;
		}
		json_decref(*slot);
		*slot = v;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (e->doc == NULL)
		e->doc = json_pack("{s:s,s:[]}", "format", "netwave.topology/v1", "subscriptions");
	if (e->observed == NULL)
		e->observed = json_object();
	if (e->rgs == NULL)
		e->rgs = json_object();
	if (e->deploy == NULL)
		e->deploy = json_object();
	if (e->snapshots == NULL)
		e->snapshots = json_object();
	if (e->subfeatures == NULL)
		e->subfeatures = json_object();
	settle(e);
	e->gen++;
	e->keys_gen++;
	return 0;
fail:
	sqlite3_finalize(st);
	sqlite3_close(e->db);
	e->db = NULL;
	return rc;
}

/* Runs st, an insert of (?1 name, ?2 text), with v as compact JSON; what names it in errors. */
static int
put_json(struct emulator *e, sqlite3_stmt *st, const char *name, const json_t *v,
    const char *what, struct nw_err *err)
{
	char *text = json_dumps(v, JSON_COMPACT);
	int rc = 0;

	if (text == NULL)
		return err_set(err, NW_ENOMEM, "out of memory saving %s", name);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, text, -1, SQLITE_TRANSIENT);
	free(text);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = err_db(e, err, what);
	sqlite3_reset(st);
	return rc;
}

int
persist_flush(struct emulator *e, struct nw_err *err)
{
	sqlite3_stmt *put = NULL, *del = NULL, *doc = NULL;
	const char *k;
	json_t *v;
	int rc = 0;
	size_t i;

	if (e->db == NULL || (json_object_size(e->dirty) == 0 && !e->dirty_docs))
		return 0;
	rc = exec(e, "BEGIN IMMEDIATE", err);
	if (rc != 0)
		return rc;
	if (sqlite3_prepare_v2(e->db, "INSERT OR REPLACE INTO resources(idl, body) VALUES (?1, ?2)",
	    -1, &put, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(e->db, "DELETE FROM resources WHERE idl = ?1", -1, &del, NULL) !=
	    SQLITE_OK ||
	    sqlite3_prepare_v2(e->db, "INSERT OR REPLACE INTO docs(name, body) VALUES (?1, ?2)", -1,
	    &doc, NULL) != SQLITE_OK) {
		rc = err_db(e, err, "preparing writes");
		goto fail;
	}
	json_object_foreach(e->dirty, k, v) {
		json_t *res = json_object_get(e->res, k);

		if (res != NULL) {
			if ((rc = put_json(e, put, k, res, "saving a resource", err)) != 0)
				goto fail;
		} else {
			sqlite3_bind_text(del, 1, k, -1, SQLITE_TRANSIENT);
			if (sqlite3_step(del) != SQLITE_DONE) {
				rc = err_db(e, err, "deleting a resource");
				goto fail;
			}
			sqlite3_reset(del);
		}
	}
	if (e->dirty_docs)
		for (i = 0; doc_names[i] != NULL; i++) {
			json_t *body = *doc_slot(e, doc_names[i]);

			if (body != NULL &&
			    (rc = put_json(e, doc, doc_names[i], body, "saving a document", err)) != 0)
				goto fail;
		}
	sqlite3_finalize(put);
	sqlite3_finalize(del);
	sqlite3_finalize(doc);
	rc = exec(e, "COMMIT", err);
	if (rc != 0)
		return rc;
	json_object_clear(e->dirty);
	e->dirty_docs = false;
	return 0;
fail:
	sqlite3_finalize(put);
	sqlite3_finalize(del);
	sqlite3_finalize(doc);
	exec(e, "ROLLBACK", &(struct nw_err){ 0 });
	return rc;
}

int
persist_save_all(struct emulator *e, struct nw_err *err)
{
	const char *k;
	json_t *v;
	sqlite3_stmt *st = NULL;
	int rc;

	json_object_foreach(e->res, k, v)
		json_object_set_new(e->dirty, k, json_true());
	e->dirty_docs = true;
	rc = persist_flush(e, err);
	if (rc != 0)
		return rc;
	if (sqlite3_prepare_v2(e->db, "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)", -1,
	    &st, NULL) != SQLITE_OK)
		return err_db(e, err, "writing meta");
	sqlite3_bind_text(st, 1, "schema", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, SCHEMA_VERSION, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : err_db(e, err, "writing meta");
	sqlite3_finalize(st);
	return rc;
}

void
persist_close(struct emulator *e)
{
	if (e->db != NULL)
		sqlite3_close(e->db);
	e->db = NULL;
}
