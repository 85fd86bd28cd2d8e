/*
 * JSON values owned by address: made empty and released in one call each
 * (json_own.h).
 */
#include "config.h"

#include <stdarg.h>

#include "plan/err.h"
#include "plan/json_own.h"

int
json_objects_new(json_t **first, ...)
{
	json_t **v;
	va_list ap;
	int rc = 0;

	va_start(ap, first);
	for (v = first; v != NULL && rc == 0; v = va_arg(ap, json_t **))
		if ((*v = json_object()) == NULL)
			rc = NW_ENOMEM;
	va_end(ap);
	return rc;
}

void
json_release_all(json_t **first, ...)
{
	json_t **v;
	va_list ap;

	va_start(ap, first);
	for (v = first; v != NULL; v = va_arg(ap, json_t **))
		json_decref(*v);
	va_end(ap);
}
