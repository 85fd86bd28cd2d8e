/*
 * The lease on a plan: one run at a time, held by an owner on a host with
 * an expiry, taken over when it expired or its process is gone, renewed
 * and released; every change journaled.
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
#include "state/store_int.h"

/* ---- leases ------------------------------------------------------------- */

/* Room for a host name, as struct lease_holder keeps it. */
#define LEASE_HOST_MAX 256

struct lease_holder {
	bool found;
	char owner[256];
	long long pid;
	char host[LEASE_HOST_MAX];
	long long acquired_at, expires_at;
};

static void
host_name(char *buf, size_t size)
{
	if (gethostname(buf, size) != 0)
		snprintf(buf, size, "unknown");
	buf[size - 1] = '\0';
}

static void
lease_fill(sqlite3_stmt *s, void *arg)
{
	struct lease_holder *h = arg;
	const unsigned char *owner = sqlite3_column_text(s, 0);
	const unsigned char *host = sqlite3_column_text(s, 2);

	snprintf(h->owner, sizeof(h->owner), "%s", owner != NULL ? (const char *)owner : "");
	h->pid = sqlite3_column_int64(s, 1);
	snprintf(h->host, sizeof(h->host), "%s", host != NULL ? (const char *)host : "");
	h->acquired_at = sqlite3_column_int64(s, 3);
	h->expires_at = sqlite3_column_int64(s, 4);
}

static int
lease_read(struct store *st, const char *plan_id, struct lease_holder *h)
{
	memset(h, 0, sizeof(*h));
	return st_read_row(st, lease_fill, h, &h->found,
	    "SELECT owner, pid, host, acquired_at, expires_at FROM leases WHERE plan_id = ?1", "s", plan_id);
}

/*
 * Every lease change starts here: this host named (LEASE_HOST_MAX bytes),
 * the transaction begun (the caller ends it with st_tx_end) and the
 * holder read.  SQLITE_OK or SQLite's error.
 */
static int
lease_tx_begin(struct store *st, const char *plan_id, char *host, struct lease_holder *held)
{
	int rc;

	host_name(host, LEASE_HOST_MAX);
	rc = st_tx_begin(st);
	if (rc == SQLITE_OK)
		rc = lease_read(st, plan_id, held);
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

	st_time_iso((time_t)h->expires_at, until, sizeof(until));
	return err_set(err, NW_ELOCKED,
	    "%s plan %s: another run holds it (owner '%s', pid %lld on host '%s', until %s)", lead,
	    plan_id, h->owner, h->pid, h->host, until);
}

static json_t *
lease_holder_json(const struct lease_holder *h)
{
	char acquired[40], expires[40];

	st_time_iso((time_t)h->acquired_at, acquired, sizeof(acquired));
	st_time_iso((time_t)h->expires_at, expires, sizeof(expires));
	return json_pack("{s:s, s:I, s:s, s:s, s:s}", "owner", h->owner, "pid", (json_int_t)h->pid,
	    "host", h->host, "acquiredAt", acquired, "expiresAt", expires);
}

/* The owner a lease is asked for, and its time to live (doing: "take", "renew", "release"). */
static int
lease_args_check(const char *plan_id, const char *owner, long ttl_seconds, const char *doing,
    struct nw_err *err)
{
	if (ttl_seconds <= 0)
		return err_set(err, NW_EINPUT, "cannot %s the lease on plan %s: the lease needs a positive "
		    "time to live", doing, plan_id);
	if (!lease_owner_ok(owner))
		return err_set(err, NW_EINPUT,
		    "cannot %s the lease on plan %s: the owner must be a name of 1 to 255 characters", doing,
		    plan_id);
	return 0;
}

int
store_lease_acquire(struct store *st, const char *plan_id, const char *owner, long ttl_seconds,
    time_t now, struct nw_err *err)
{
	struct lease_holder held, mine;
	json_t *detail = NULL;
	const char *why = NULL;
	bool found = false, extend = false;
	int rc, ret = 0;

	if ((ret = lease_args_check(plan_id, owner, ttl_seconds, "take", err)) != 0)
		return ret;
	memset(&mine, 0, sizeof(mine));
	mine.found = true;
	snprintf(mine.owner, sizeof(mine.owner), "%s", owner);
	mine.pid = (long long)getpid();
	mine.acquired_at = (long long)now;
	mine.expires_at = (long long)now + ttl_seconds;

	rc = lease_tx_begin(st, plan_id, mine.host, &held);
	if (rc == SQLITE_OK)
		rc = st_plan_exists(st, plan_id, &found);
	if (rc != SQLITE_OK)
		goto done;
	if (!found) {
		ret = st_err_no_plan(err, st, plan_id);
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
	rc = st_exec(st,
	    "INSERT INTO leases (plan_id, owner, pid, host, acquired_at, expires_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
	    " ON CONFLICT (plan_id) DO UPDATE SET owner = excluded.owner, pid = excluded.pid,"
	    " host = excluded.host, acquired_at = excluded.acquired_at,"
	    " expires_at = excluded.expires_at",
	    "ssIsII", plan_id, mine.owner, (sqlite3_int64)mine.pid, mine.host,
		    (sqlite3_int64)mine.acquired_at, (sqlite3_int64)mine.expires_at);
	if (rc != SQLITE_OK)
		goto done;
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
		rc = st_journal_add(st, plan_id, now, why != NULL ? "lease-taken-over" : "lease-acquired", -1,
		    NULL, detail);
	}
	if (rc == SQLITE_OK)
		rc = st_plan_refresh(st, plan_id);
	if (rc == SQLITE_OK)
		rc = st_tx_commit(st);
done:
	json_decref(detail);
	return st_tx_end(st, ret, rc, err, "cannot take the lease on plan %s", plan_id);
}

int
store_lease_renew(struct store *st, const char *plan_id, const char *owner, long ttl_seconds,
    time_t now, struct nw_err *err)
{
	struct lease_holder held;
	char host[LEASE_HOST_MAX];
	int rc, ret = 0;

	if ((ret = lease_args_check(plan_id, owner, ttl_seconds, "renew", err)) != 0)
		return ret;
	rc = lease_tx_begin(st, plan_id, host, &held);
	if (rc != SQLITE_OK)
		goto done;
	if (!lease_is_mine(&held, owner, host)) {
		if (held.found)
			ret = err_lease_held(err, plan_id, &held, "lost the lease on");
		else
			ret = err_set(err, NW_ELOCKED, "lost the lease on plan %s: no lease is held", plan_id);
		goto done;
	}
	rc = st_exec(st, "UPDATE leases SET expires_at = ?2 WHERE plan_id = ?1",
	    "sI", plan_id, (sqlite3_int64)now + ttl_seconds);
	if (rc == SQLITE_OK)
		rc = st_tx_commit(st);
done:
	return st_tx_end(st, ret, rc, err, "cannot renew the lease on plan %s", plan_id);
}

int
store_lease_release(struct store *st, const char *plan_id, const char *owner, time_t now,
    struct nw_err *err)
{
	struct lease_holder held;
	json_t *detail = NULL;
	char host[LEASE_HOST_MAX];
	int rc, ret = 0;

	if ((ret = lease_args_check(plan_id, owner, 1, "release", err)) != 0)
		return ret;
	rc = lease_tx_begin(st, plan_id, host, &held);
	if (rc != SQLITE_OK || !held.found) /* no lease: nothing to release */
		goto done;
	if (!lease_is_mine(&held, owner, host)) {
		ret = err_lease_held(err, plan_id, &held, "cannot release the lease on");
		goto done;
	}
	rc = st_exec(st, "DELETE FROM leases WHERE plan_id = ?1", "s", plan_id);
	if (rc != SQLITE_OK)
		goto done;
	detail = lease_holder_json(&held);
	if (detail == NULL) {
		ret = err_set(err, NW_ENOMEM, "out of memory");
		goto done;
	}
	rc = st_journal_commit(st, plan_id, now, "lease-released", -1, NULL, detail, true);
done:
	json_decref(detail);
	return st_tx_end(st, ret, rc, err, "cannot release the lease on plan %s", plan_id);
}

int
store_lease_get(struct store *st, const char *plan_id, json_t **out, struct nw_err *err)
{
	struct lease_holder held;
	int rc, ret;

	*out = NULL;
	ret = st_check_plan_wave(st, plan_id, -1, "read the lease", err);
	if (ret != 0)
		return ret;
	rc = lease_read(st, plan_id, &held);
	if (rc != SQLITE_OK)
		return st_err_sqlite(err, st, rc, "cannot read the lease on plan %s", plan_id);
	*out = held.found ? lease_holder_json(&held) : json_null();
	if (*out == NULL)
		return err_set(err, NW_ENOMEM, "out of memory");
	return 0;
}

