/*
 * Small helpers every module needs around jansson and files: typed
 * getters that borrow, JSON pointer building, canonical dumps, and an
 * atomic file write so no command ever leaves half a file behind.
 */
#ifndef NETWAVE_PLAN_JSONUTIL_H
#define NETWAVE_PLAN_JSONUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "plan/err.h"

/* Flags for every dump whose output is compared or hashed. */
#define JSON_CANONICAL (JSON_SORT_KEYS | JSON_INDENT(2) | JSON_ENSURE_ASCII)

/* obj.key as a string, or NULL when absent or not a string (borrowed). */
const char *json_str(const json_t *obj, const char *key);

/* Follows a path of keys ("properties", "sku", "name", NULL); NULL if any is missing. */
json_t *json_path(const json_t *obj, ...) __attribute__((sentinel));

/* json_path ending in a string; NULL when absent or not a string. */
const char *json_path_str(const json_t *obj, ...) __attribute__((sentinel));

/*
 * Reads a boolean that ARM sometimes sends as a string ("True"/"False",
 * any case) and sometimes as a JSON boolean; def when absent.
 */
bool json_truthy(const json_t *v, bool def);

/* Appends "/" and the escaped token (~ as ~0, / as ~1) to a pointer buffer. */
void json_pointer_push(char *buf, size_t size, const char *token);
void json_pointer_push_index(char *buf, size_t size, size_t index);

/* The last segment of an ARM id (the resource's name); "" for NULL. Borrowed. */
const char *arm_id_name(const char *id);

/*
 * Parses an RFC 3339 time: "2026-11-21T20:00:00Z" or with a "+hh:mm" /
 * "-hh:mm" offset; fractions of seconds are ignored.  Returns 0, or -1
 * when s is NULL or not such a time.
 */
int time_parse_rfc3339(const char *s, time_t *out);

/* Canonical text of any JSON value (JSON_CANONICAL), with a trailing newline; malloc'd. */
char *json_dump_canonical(const json_t *v);

/*
 * Writes data to path atomically: a temporary file beside it, fsync,
 * rename, fsync of the directory.  "-" writes to standard output; a path
 * that is a device or a pipe (/dev/null) is written in place, never
 * replaced.
 * NW_EIO with the path and the reason on failure; the target is untouched.
 */
int file_write_atomic(const char *path, const char *data, size_t len, struct nw_err *err);

/* Writes all of data to fd, going on after short writes and EINTR; -1 with errno set on failure. */
int file_write_all(int fd, const char *data, size_t len);

/*
 * Removes dir and everything under it, not following symbolic links: 0, or
 * -1 with errno set (ENOENT when dir is not there).
 */
int file_remove_tree(const char *dir);

/*
 * Reads a whole file ("-" for standard input) into a NUL-terminated
 * malloc'd buffer.  Fails with NW_EINPUT when it is larger than max_bytes,
 * NW_EIO when it cannot be read.
 */
int file_read_all(char **out, size_t *len, const char *path, size_t max_bytes, struct nw_err *err);

#endif
