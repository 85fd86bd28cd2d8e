/*
 * JSON values a struct or a function owns, named by address: made empty
 * and released in one call each, so that a state's new and free (a
 * change kind's struct rsi_state, struct mesh_state ...) and a function's
 * done: label do not repeat a line per value.  The macros gather their
 * arguments into an array of json_t **, so the compiler checks each one's
 * type as it would for json_decref.
 */
#ifndef NETWAVE_PLAN_JSON_OWN_H
#define NETWAVE_PLAN_JSON_OWN_H

#include <jansson.h>

/*
 * json_objects_new(&a, &b, ...) sets each json_t * to a new empty object;
 * NW_ENOMEM when one cannot be made (those after it are left alone: a
 * state starts zeroed).
 */
#define json_objects_new(...) json_objects_new_each((json_t **const[]){ __VA_ARGS__, NULL })

/* json_release_all(&a, &b, ...) releases each json_t * (NULL ones too). */
#define json_release_all(...) json_release_each((json_t **const[]){ __VA_ARGS__, NULL })

/* What the macros call: v is NULL-terminated. */
int json_objects_new_each(json_t **const v[]);
void json_release_each(json_t **const v[]);

#endif
