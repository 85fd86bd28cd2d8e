/*
 * Management locks (Microsoft.Authorization/locks) in the emulator: the
 * locks API at a subscription, a resource group or a resource, locks
 * given with the seed or /__netwave/authz, and the refusal of writes
 * below a lock (locks_admit, called by authz_admit).
 *
 * Sources: REST specification specification/resources/resource-manager/
 * Microsoft.Authorization/stable/2016-09-01/locks.json ("Management Locks",
 * https://learn.microsoft.com/rest/api/resources/management-locks): paths,
 * the body {"properties":{"level","notes","owners"}}, list "at resource
 * group level" being the group and its resources, $filter=atScope();
 * "Lock your resources to protect your infrastructure",
 * https://learn.microsoft.com/azure/azure-resource-manager/management/lock-resources:
 * CanNotDelete refuses deletion, ReadOnly refuses every write, delete and
 * POST action below the scope, a lock applies to everything below it.
 * The ScopeLocked message is ARM's as seen in answers; docs/emulator.md
 * says that Learn names the error without printing the whole message.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "plan/jsonutil.h"
#include "providers/emulator/emu.h"

#define LOCKS_MARKER "/providers/Microsoft.Authorization/locks"
#define LOCK_TYPE "Microsoft.Authorization/locks"

/* The scope a lock sits at: its id without /providers/Microsoft.Authorization/locks/{name}. */
static char *
lock_scope(const json_t *lock)
{
	return authz_scope_of(json_str(lock, "id"), LOCKS_MARKER);
}

static json_t *
locks_list(struct emulator *e)
{
	json_t *d = authz_doc(e);

	return d != NULL ? json_object_get(d, "locks") : NULL;
}

/* Index of the lock with this id in the list, or -1. */
static long
lock_find(const json_t *list, const char *id)
{
	const json_t *l;
	size_t i;

	json_array_foreach(list, i, l)
		if (json_str(l, "id") != NULL && strcasecmp(json_str(l, "id"), id) == 0)
			return (long)i;
	return -1;
}

static bool
level_valid(const char *level)
{
	return level != NULL && (strcmp(level, "CanNotDelete") == 0 || strcmp(level, "ReadOnly") == 0);
}

/* The resource or group a lock's scope names exists (a subscription's is checked by the route). */
static bool
scope_exists(struct emulator *e, const struct emu_call *c, const char *scope)
{
	json_t *parent, *child, *arr;
	size_t idx;

	if (strcasestr(scope, "/providers/") != NULL)
		return emu_store_find(e, scope, &parent, &child, &arr, &idx);
	if (c->rg != NULL)
		return emu_store_rg_exists(e, c->sub, c->rg);
	return true;
}

static void
lock_put(struct emulator *e, struct emu_req *r, const struct emu_call *c, const char *id, const char *scope)
{
	const json_t *props = json_object_get(r->parsed, "properties");
	const char *level = json_str(props, "level");
	json_t *list = locks_list(e), *lock;
	long at;

	if (!json_is_object(props) || !level_valid(level)) {
		emu_reply_error(r, 400, "InvalidRequestContent",
		    "The request content was invalid: properties.level must be 'CanNotDelete' or 'ReadOnly'.");
		return;
	}
	if (!scope_exists(e, c, scope)) {
		emu_reply_error(r, 404, "ResourceNotFound", "The Resource '%s' was not found.", scope);
		return;
	}
	lock = json_pack("{s:s, s:s, s:s, s:{s:s}}", "id", id, "name", emu_id_last(id), "type", LOCK_TYPE,
	    "properties", "level", level);
	if (lock == NULL || list == NULL) {
		json_decref(lock);
		e->oom = true;
		return;
	}
	if (json_str(props, "notes") != NULL)
		json_object_set_new(json_object_get(lock, "properties"), "notes", json_string(json_str(props, "notes")));
	if (json_is_array(json_object_get(props, "owners")))
		json_object_set(json_object_get(lock, "properties"), "owners", json_object_get(props, "owners"));
	at = lock_find(list, id);
	if (at >= 0)
		json_array_set(list, (size_t)at, lock);
	else
		json_array_append(list, lock);
	emu_store_touch_docs(e);
	emu_op_name(r, "lock %s", level);
	emu_reply_json(r, at >= 0 ? 200 : 201, lock);
}

static void
lock_list_reply(struct emulator *e, struct emu_req *r, const char *scope)
{
	const char *filter = emu_query(r, "$filter");
	bool at_scope = filter != NULL && strcasestr(filter, "atScope()") != NULL;
	json_t *value = json_array(), *list = locks_list(e);
	const json_t *l;
	size_t i;

	if (value == NULL || list == NULL) {
		json_decref(value);
		e->oom = true;
		return;
	}
	json_array_foreach(list, i, l) {
		char *ls = lock_scope(l);
		/* by default the scope and below; atScope(): the scope and above */
		if (ls != NULL && (at_scope ? authz_scope_covers(ls, scope) : authz_scope_covers(scope, ls)))
			json_array_append(value, (json_t *)l);
		free(ls);
	}
	emu_op_name(r, "list locks");
	emu_reply_json(r, 200, json_pack("{s:o}", "value", value));
}

void
locks_handle(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	char *scope = NULL, *id = NULL;
	const char *tail, *mark;
	json_t *list;
	long at;

	if (!emu_api_ok(r, EMU_NS_LOCKS))
		return;
	if ((scope = authz_scope_of(r->path, LOCKS_MARKER)) == NULL)
		goto oom;
	/* what follows the last .../locks in the path as sent */
	for (tail = r->path, at = -1; (mark = strcasestr(tail, LOCKS_MARKER)) != NULL; tail = mark + 1)
		at = mark - r->path;
	tail = r->path + at + strlen(LOCKS_MARKER);
	if (*tail != '/' || tail[1] == '\0') {
		if (strcmp(r->method, "GET") == 0)
			lock_list_reply(e, r, scope);
		else
			emu_reply_bad_method(r);
		goto done;
	}
	if ((id = emu_printf("%s%s%s", scope, LOCKS_MARKER, tail)) == NULL || (list = locks_list(e)) == NULL)
		goto oom;
	at = lock_find(list, id);
	if (strcmp(r->method, "PUT") == 0) {
		lock_put(e, r, c, id, scope);
	} else if (strcmp(r->method, "GET") == 0 && at >= 0) {
		emu_op_name(r, "get lock");
		emu_reply_json(r, 200, json_incref(json_array_get(list, (size_t)at)));
	} else if (strcmp(r->method, "GET") == 0) {
		emu_reply_error(r, 404, "LockNotFound", "The lock '%s' could not be found.", emu_id_last(id));
	} else if (strcmp(r->method, "DELETE") == 0) {
		/* Management Locks - Delete: 200 when it was there, 204 when it was not */
		if (at >= 0) {
			json_array_remove(list, (size_t)at);
			emu_store_touch_docs(e);
		}
		emu_op_name(r, "delete lock");
		emu_reply_empty(r, at >= 0 ? 200 : 204);
	} else {
		emu_reply_bad_method(r);
	}
	goto done;
oom:
	e->oom = true;
done:
	free(scope);
	free(id);
}

/* Appends ", 'scope'" to the list of locking scopes (malloc'd, replaced). */
static char *
add_scope(char *names, const char *scope)
{
	char *out = names == NULL ? emu_printf("'%s'", scope) : emu_printf("%s, '%s'", names, scope);

	free(names);
	return out;
}

bool
locks_admit(struct emulator *e, struct emu_req *r)
{
	const json_t *list = json_object_get(json_object_get(e->doc, "x-netwave-authz"), "locks"), *l;
	bool del = strcmp(r->method, "DELETE") == 0;
	char *names = NULL;
	size_t i;

	json_array_foreach(list, i, l) {
		const char *level = json_str(json_object_get(l, "properties"), "level");
		char *ls = lock_scope(l);
		bool above = ls != NULL && authz_scope_covers(ls, r->path);
		/* deleting a scope deletes what is below it, locks below included */
		bool below = ls != NULL && del && authz_scope_covers(r->path, ls);

		if ((above || below) && level != NULL && (strcmp(level, "ReadOnly") == 0 || del))
			names = add_scope(names, ls);
		free(ls);
	}
	if (names == NULL)
		return true;
	emu_reply_error(r, 409, "ScopeLocked",
	    "The scope '%s' cannot perform %s operation because following scope(s) are locked: %s. "
	    "Please remove the lock and try again.", r->path, del ? "delete" : "write", names);
	emu_op_name(r, "locked");
	free(names);
	return false;
}
