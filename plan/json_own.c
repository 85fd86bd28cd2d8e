/*
 * JSON values owned by address: made empty and released in one call each
 * (json_own.h).
 */
#include "config.h"

#include "plan/err.h"
#include "plan/json_own.h"

int
json_objects_new_each(json_t **const v[])
{
	for (; *v != NULL; v++)
		if ((**v = json_object()) == NULL)
			return NW_ENOMEM;
	return 0;
}

void
json_release_each(json_t **const v[])
{
	for (; *v != NULL; v++)
		json_decref(**v);
}
