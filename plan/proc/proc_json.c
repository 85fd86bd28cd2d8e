/*
 * The JSON members a change kind's state owns, made and released in one
 * call each (proc_json.h).
 */
#include "config.h"

#include <stdarg.h>

#include "plan/err.h"
#include "plan/proc/proc_json.h"

int
proc_json_objects_new(json_t **first, ...)
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
proc_json_release(json_t **first, ...)
{
	json_t **v;
	va_list ap;

	va_start(ap, first);
	for (v = first; v != NULL; v = va_arg(ap, json_t **))
		json_decref(*v);
	va_end(ap);
}
