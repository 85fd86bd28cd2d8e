/*
 * Shared by the fuzz targets (one LLVMFuzzerTestOneInput per parser, see
 * docs/testing.md): the input cap and the invariant check.  Each target is
 * linked twice: with clang's libFuzzer (`make fuzz`), and with replay.c
 * into a plain program that `make check` runs over the committed corpus
 * and the regression inputs, so a crash once found stays fixed without
 * clang.
 */
#ifndef NETWAVE_TESTS_FUZZ_FUZZ_H
#define NETWAVE_TESTS_FUZZ_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/err.h"

/* Larger inputs are skipped: a run stays bounded in time and memory. */
#define FUZZ_MAX_INPUT ((size_t)1 << 20)

/*
 * An invariant of the parser under test.  A broken one is a finding:
 * abort() so that libFuzzer saves the input and replay fails.
 */
#define FUZZ_CHECK(cond, ...)                                                        \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "%s:%d: invariant broken: %s: ", __FILE__,   \
			    __LINE__, #cond);                                        \
			fprintf(stderr, __VA_ARGS__);                                \
			fputc('\n', stderr);                                         \
			abort();                                                     \
		}                                                                    \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Whether a parser of the document called name (what it is, in messages)
 * accepted it (rc 0).  A refusal is checked: it returned nothing (out, its
 * result, is NULL), only bad input or memory refuses, and a bad-input
 * message starts with the name.
 */
static inline bool
fuzz_accepted(int rc, const void *out, const struct nw_err *err, const char *name, const char *what)
{
	if (rc == 0)
		return true;
	FUZZ_CHECK(out == NULL, "a refused %s was returned", what);
	FUZZ_CHECK(rc == NW_EINPUT || rc == NW_ENOMEM, "rc %d: %s", rc, err->msg);
	FUZZ_CHECK(rc != NW_EINPUT || strncmp(err->msg, name, strlen(name)) == 0,
	    "the message does not name the %s: %s", what, err->msg);
	return false;
}

/* A NUL-terminated copy of the input (malloc'd), or NULL when it is too large. */
static inline char *
fuzz_text(const uint8_t *data, size_t size)
{
	char *s;

	if (size > FUZZ_MAX_INPUT || (s = malloc(size + 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < size; i++)
		s[i] = (char)data[i];
	s[size] = '\0';
	return s;
}

#endif
