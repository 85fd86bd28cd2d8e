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
#define json_path_str(...) json_string_value(json_path(__VA_ARGS__))

/*
 * Reads a boolean that ARM sometimes sends as a string ("True"/"False",
 * any case) and sometimes as a JSON boolean; def when absent.
 */
bool json_truthy(const json_t *v, bool def);

/* Appends "/" and the escaped token (~ as ~0, / as ~1) to a pointer buffer. */
void json_pointer_push(char *buf, size_t size, const char *token);
void json_pointer_push_index(char *buf, size_t size, size_t index);

/*
 * json_pointer_push for a buffer whose length n the caller keeps: returns
 * the new length (n when "/" does not fit, the buffer then unchanged).
 */
size_t json_pointer_append(char *buf, size_t n, size_t size, const char *token);

/*
 * Unescapes the pointer token at p (just after its "/") into buf, cut to
 * size - 1 bytes; returns where reading stopped: the next "/", the end, or
 * the first byte that did not fit.
 */
const char *json_pointer_unescape(const char *p, char *buf, size_t size);

/*
 * How an error message names v's JSON type: names[json_typeof(v)], a
 * module's own table in jansson's json_type order (object, array, string,
 * integer, real, true, false, null).
 */
const char *json_kind_name(const json_t *v, const char *const names[8]);

/*
 * Drops a UTF-8 byte order mark (PowerShell writes one; it carries no
 * meaning) from *buf and *len; true when nothing but spaces, tabs and line
 * ends is left.
 */
bool json_text_blank(const char **buf, size_t *len);

/*
 * The keys of obj as a new array of strings sorted by cmp, a qsort
 * comparator over const char *; NULL on out of memory.
 */
json_t *json_object_keys_sorted(const json_t *obj, int (*cmp)(const void *, const void *));

/* True when arr holds a string equal to s by cmp (strcmp, strcasecmp, topo_id_compare ...). */
bool json_array_has_str(const json_t *arr, const char *s, int (*cmp)(const char *, const char *));

/*
 * The first object of arr whose string member key equals value by cmp
 * (strcmp, strcasecmp ...), its position in *index when index is not NULL;
 * NULL when there is none or value is NULL.  Borrowed.
 */
json_t *json_array_find(const json_t *arr, const char *key, const char *value,
    int (*cmp)(const char *, const char *), size_t *index);

/*
 * v as compact JSON with sorted keys, for a message, into buf; absent when
 * v is NULL.  A text over max characters (max 0: no limit) keeps its first
 * max - 3 and ends in "...".  Returns buf.
 */
const char *json_text(char *buf, size_t size, const json_t *v, const char *absent, size_t max);

/* s in ASCII lower case, cut to size - 1 bytes, into buf (which may be s itself); returns buf. */
const char *str_lower(char *buf, size_t size, const char *s);

/* A malloc'd ASCII-lowercase copy of s ("" for NULL); NULL on out of memory. */
char *str_lower_dup(const char *s);

/*
 * Copies a and b into one allocation: returns the copy of a, which owns
 * the block (one free), and sets *b_copy to the copy of b inside it.
 * NULL on out of memory.
 */
char *str_dup_pair(const char *a, const char *b, char **b_copy);

/*
 * Whether s is one of list (NULL-terminated), compared with cmp (strcmp,
 * strcasecmp); false for a NULL s.
 */
bool str_in(const char *s, const char *const *list, int (*cmp)(const char *, const char *));

/* True when a and b are arrays of one size whose items, in order, are equal by eq. */
bool json_array_equal_by(const json_t *a, const json_t *b, bool (*eq)(const json_t *, const json_t *));

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
