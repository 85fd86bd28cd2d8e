/*
 * JSON values a struct or a function owns, named by address: made empty
 * and released in one call each, so that a state's new and free (a
 * change kind's struct rsi_state, struct mesh_state ...) and a function's
 * done: label do not repeat a line per value.
 */
#ifndef NETWAVE_PLAN_JSON_OWN_H
#define NETWAVE_PLAN_JSON_OWN_H

#include <jansson.h>

/*
 * Sets *first and each further json_t ** argument, up to a NULL, to a new
 * empty object; NW_ENOMEM when one cannot be made (those after it are left
 * alone: a state starts zeroed).
 */
int json_objects_new(json_t **first, ...) __attribute__((sentinel));

/* Releases *first and the json_t * each further argument, up to a NULL, points to (NULL ones too). */
void json_release_all(json_t **first, ...) __attribute__((sentinel));

#endif
