/*
 * Conditional operations and inverses: an operation or inverse the plan
 * marks with a "condition" is sent only when the condition holds when it
 * would be sent; otherwise the step is settled with nothing sent and the
 * reason journaled.  Called by jobs.c once the resource's state has
 * been read (j->pre).
 *
 * "absent" (create-resource-group): the PUT creates the group only when
 * it does not exist.  Create Or Update replaces a group's tags
 * (https://learn.microsoft.com/rest/api/resources/resource-groups/create-or-update),
 * so a group someone made since the plan is left as it is.
 *
 * "created-and-empty" (create-resource-group): ARM deletes every resource
 * in a group it deletes (https://learn.microsoft.com/rest/api/resources/resource-groups/delete),
 * so the group goes only when this step created it (its before-image, read
 * before the PUT was sent, was absent) and nothing is in it now
 * (https://learn.microsoft.com/rest/api/resources/resources/list-by-resource-group).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/arm_api.h"
#include "plan/jsonutil.h"
#include "state/apply/internal.h"

#define RG_API ARM_API_RESOURCES

static enum inverse_verdict
created_and_empty(struct job *j, char *why, size_t size)
{
	const json_t *inv = json_object_get(j->step, "inverse");
	json_t *list = NULL;
	struct nw_err e = { 0 };
	char *path = NULL;
	enum inverse_verdict v;
	int rc;

	if (j->before_image != NULL) {
		snprintf(why, size, "%s existed before the plan: netwave did not create it and leaves it",
		    j->resource);
		return INVERSE_SKIP;
	}
	if (j->pre == NULL)
		return INVERSE_SEND; /* already gone: the engine settles it as restored */
	if (asprintf(&path, "%s/resources?api-version=%s", json_str(inv, "path"), RG_API) < 0) {
		snprintf(why, size, "out of memory");
		return INVERSE_FAIL;
	}
	rc = provider_list(j->r->p, path, &list, &e);
	free(path);
	if (rc != 0) {
		snprintf(why, size, "cannot tell whether %s is empty before deleting it: %s", j->resource,
		    e.msg);
		return INVERSE_FAIL;
	}
	if (json_array_size(list) > 0) {
		snprintf(why, size, "%s holds %zu resource%s (first %s): not deleted, a group is deleted "
		    "with everything in it", j->resource, json_array_size(list),
		    json_array_size(list) == 1 ? "" : "s", json_str(json_array_get(list, 0), "id") != NULL ?
		    json_str(json_array_get(list, 0), "id") : "?");
		v = INVERSE_SKIP;
	} else {
		v = INVERSE_SEND;
	}
	json_decref(list);
	return v;
}

bool
apply_operation_unneeded(struct job *j, char *why, size_t size)
{
	const char *cond = json_str(json_object_get(j->step, "operation"), "condition");

	why[0] = '\0';
	if (cond == NULL || strcmp(cond, "absent") != 0 || j->pre == NULL)
		return false;
	snprintf(why, size, "%s exists already: nothing to create, and it is left as it is",
	    j->resource);
	return true;
}

enum inverse_verdict
apply_inverse_check(struct job *j, char *why, size_t size)
{
	const char *cond = json_str(json_object_get(j->step, "inverse"), "condition");

	why[0] = '\0';
	if (cond == NULL)
		return INVERSE_SEND;
	if (strcmp(cond, "created-and-empty") == 0)
		return created_and_empty(j, why, size);
	snprintf(why, size, "step %s has an inverse condition this version does not know: %s", j->id,
	    cond);
	return INVERSE_FAIL;
}
