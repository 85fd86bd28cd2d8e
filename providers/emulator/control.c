/*
 * The emulator's control endpoints under /__netwave/ (docs/emulator.md):
 * health, the estate as a topology, the request log, the fault rules,
 * observed values, and out-of-band writes of resources (drift).  They are
 * not ARM: no authentication, no throttling, no log entry.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "plan/jsonutil.h"
#include "plan/topology.h"
#include "providers/emulator/emu.h"

static json_t *
merge_patch(json_t *target, const json_t *patch)
{
	const char *k;
	json_t *v;

	if (!json_is_object(patch))
		return json_deep_copy(patch);
	if (!json_is_object(target))
		target = json_object();
	else
		json_incref(target);
	json_object_foreach((json_t *)patch, k, v) {
		if (json_is_null(v))
			json_object_del(target, k);
		else
			json_object_set_new(target, k, merge_patch(json_object_get(target, k), v));
	}
	return target;
}

int
control_drift_put(struct emulator *e, const char *id, const json_t *res, bool patch,
    struct nw_err *err)
{
	json_t *parent = NULL, *child = NULL, *arr = NULL, *obj;
	size_t idx = 0;
	bool found = emu_store_find(e, id, &parent, &child, &arr, &idx);

	if (res == NULL) {
		if (!found)
			return err_set(err, NW_EINPUT, "no resource '%s'", id);
		if (child != NULL) {
			json_array_remove(arr, idx);
			emu_store_touch(e, json_str(parent, "id"));
		} else {
			emu_store_del(e, id);
		}
		return 0;
	}
	if (!json_is_object(res))
		return err_set(err, NW_EINPUT, "resource '%s' is not a JSON object", id);
	if (child != NULL) {
		obj = patch ? merge_patch(child, res) : json_deep_copy(res);
		json_object_set_new(obj, "id", json_string(json_str(child, "id") != NULL ?
		    json_str(child, "id") : id));
		json_array_set_new(arr, idx, obj);
		emu_store_touch(e, json_str(parent, "id"));
		return 0;
	}
	if (!found) {
		/* a new embedded child of an existing parent */
		char *pid = arm_id_parent(id);
		json_t *p2 = NULL, *c2 = NULL, *a2 = NULL;
		size_t i2;

		if (pid != NULL && emu_store_find(e, pid, &p2, &c2, &a2, &i2) && c2 == NULL) {
			const char *kinds[][2] = { { "/subnets/", "subnets" },
				{ "/virtualnetworkpeerings/", "virtualNetworkPeerings" },
				{ "/routes/", "routes" }, { "/peerings/", "peerings" } };
			char *low = emu_lower(id);
			size_t k;

			if (low == NULL) {
				free(pid);
				return err_set(err, NW_ENOMEM, "out of memory writing '%s'", id);
			}
			for (k = 0; k < 4; k++) {
				const char *hit = strstr(low + strlen(pid), kinds[k][0]);
				if (hit == low + strlen(pid) && !json_is_object(emu_store_get(e, id))) {
					json_t *props = json_object_get(p2, "properties");
					json_t *list;
					if (!json_is_object(props)) {
						props = json_object();
						json_object_set_new(p2, "properties", props);
					}
					list = json_object_get(props, kinds[k][1]);
					if (!json_is_array(list)) {
						list = json_array();
						json_object_set_new(props, kinds[k][1], list);
					}
					obj = json_deep_copy(res);
					json_object_set_new(obj, "id", json_string(id));
					json_array_append_new(list, obj);
					emu_store_touch(e, json_str(p2, "id"));
					free(low);
					free(pid);
					return 0;
				}
			}
			free(low);
		}
		free(pid);
	}
	obj = patch && parent != NULL ? merge_patch(parent, res) : json_deep_copy(res);
	if (json_str(obj, "id") == NULL)
		json_object_set_new(obj, "id", json_string(id));
	emu_store_put(e, parent != NULL ? json_str(parent, "id") : id, obj);
	return 0;
}


/* A control endpoint answers only what it knows; anything else is not found. */
static void
not_found(struct emu_req *r)
{
	emu_reply_error(r, 404, "NotFound", "no control endpoint %s %s", r->method, r->path);
}

void
control_unknown(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	(void)e;
	(void)c;
	not_found(r);
}

void
control_health(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	(void)c;
	/* who answers, and how fast its clock runs: `apply` scales its soaks by it */
	emu_reply_json(r, 200, json_pack("{s:s, s:s, s:f, s:f}", "status", "ok", "service",
	    "netwave-emulator", "timeScale", e->scale, "latencyMs", e->latency_ms));
}

void
control_state(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	json_t *doc = emu_store_doc(e);
	char *text = doc != NULL ? topology_dump_json(doc) : NULL;

	(void)c;
	json_decref(doc);
	if (text == NULL) {
		emu_reply_error(r, 500, "InternalServerError", "cannot dump the state");
		return;
	}
	free(r->resp);
	r->resp = text;
	r->status = 200;
}

void
control_requests(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	(void)c;
	if (strcmp(r->method, "GET") == 0) {
		emu_reply_json(r, 200, json_deep_copy(e->log));
		return;
	}
	json_array_clear(e->log);
	emu_reply_empty(r, 204);
}

void
control_faults(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	struct nw_err err = { 0 };
	bool put = strcmp(r->method, "PUT") == 0;

	(void)c;
	if (strcmp(r->method, "GET") == 0) {
		emu_reply_json(r, 200, faults_dump(e));
		return;
	}
	if (put && r->parsed == NULL) {
		emu_reply_error(r, 400, "InvalidRequestContent", "the faults document is not JSON");
		return;
	}
	if (faults_load(e, put ? r->parsed : NULL, &err) != 0) {
		emu_reply_error(r, 400, "InvalidFaults", "%s", err.msg);
		return;
	}
	emu_reply_json(r, 200, faults_dump(e));
}

void
control_observed(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	json_t *n;

	(void)c;
	if (strcmp(r->method, "GET") == 0) {
		emu_reply_json(r, 200, json_deep_copy(e->observed));
		return;
	}
	if (!json_is_object(r->parsed)) {
		not_found(r);
		return;
	}
	n = merge_patch(e->observed, r->parsed);
	if (n == NULL) {
		emu_reply_oom(r);
		return;
	}
	json_decref(e->observed);
	e->observed = n;
	emu_store_touch_docs(e);
	emu_reply_json(r, 200, json_deep_copy(e->observed));
}

void
control_resources(struct emulator *e, struct emu_req *r, const struct emu_call *c)
{
	const char *id = emu_query(r, "id");
	json_t *parent = NULL, *child = NULL, *arr = NULL;
	struct nw_err err = { 0 };
	bool del = strcmp(r->method, "DELETE") == 0;
	size_t idx;

	(void)c;
	if (id == NULL || id[0] != '/') {
		emu_reply_error(r, 400, "InvalidRequest", "the id query parameter is required");
		return;
	}
	if (strcmp(r->method, "GET") == 0) {
		if (!emu_store_find(e, id, &parent, &child, &arr, &idx)) {
			emu_reply_error(r, 404, "ResourceNotFound", "no resource '%s'", id);
			return;
		}
		emu_reply_json(r, 200, json_deep_copy(child != NULL ? child : parent));
		return;
	}
	if (!del && strcmp(r->method, "PUT") != 0 && strcmp(r->method, "PATCH") != 0) {
		not_found(r);
		return;
	}
	if (!del && r->parsed == NULL) {
		emu_reply_error(r, 400, "InvalidRequestContent", "the body is not JSON");
		return;
	}
	if (control_drift_put(e, id, del ? NULL : r->parsed, strcmp(r->method, "PATCH") == 0,
	    &err) != 0) {
		emu_reply_error(r, del ? 404 : 400, "InvalidRequest", "%s", err.msg);
		return;
	}
	if (del) {
		emu_reply_empty(r, 204);
		return;
	}
	emu_store_find(e, id, &parent, &child, &arr, &idx);
	emu_reply_json(r, 200, json_deep_copy(child != NULL ? child : parent));
}
