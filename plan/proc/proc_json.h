/*
 * The JSON members a change kind's state owns (struct rsi_state's hubs,
 * struct mesh_state's memberset ...): made and released in one call each,
 * the members named by address, so that a kind's state_new and state_free
 * do not repeat a line per member.
 */
#ifndef NETWAVE_PLAN_PROC_PROC_JSON_H
#define NETWAVE_PLAN_PROC_PROC_JSON_H

#include <jansson.h>

/*
 * Sets *first and each further json_t ** argument, up to a NULL, to a new
 * empty object; NW_ENOMEM when one cannot be made (those after it are left
 * alone: a state starts zeroed).
 */
int proc_json_objects_new(json_t **first, ...) __attribute__((sentinel));

/* Releases *first and the json_t * each further argument, up to a NULL, points to (NULL ones too). */
void proc_json_release(json_t **first, ...) __attribute__((sentinel));

#endif
