/*
 * Wave and gate kinds by name (plan/kinds.h): the shared gate kinds of
 * plan/gates.c, then the kinds each change kind lists in its registry
 * entry (plan/procedures.c).  A plan names a kind by its string; this is
 * where the string is turned back into the definition.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "plan/gates.h"
#include "plan/kinds.h"
#include "plan/procedure.h"

const char *
wave_kind_name(const struct wave_kind_def *k)
{
	return k != NULL ? k->name : "";
}

const char *
gate_kind_name(const struct gate_kind_def *k)
{
	return k != NULL ? k->name : "";
}

/* The k-th kind of a procedure's list (the shared gate kinds' for NULL), or NULL past its end. */
typedef const void *(*kind_at_fn)(const struct procedure *proc, size_t k);

static const void *
wave_at(const struct procedure *proc, size_t k)
{
	return proc != NULL && proc->wave_kinds != NULL ? proc->wave_kinds[k] : NULL;
}

static const void *
gate_at(const struct procedure *proc, size_t k)
{
	if (proc == NULL)
		return gate_kinds_shared[k];
	return proc->gate_kinds != NULL ? proc->gate_kinds[k] : NULL;
}

/* The *i-th kind counting across the shared list and each procedure's, in registry order. */
static const void *
kind_next(kind_at_fn at, size_t *i)
{
	const void *x;
	size_t n = *i, p, k;

	for (p = 0; p == 0 || procedures[p - 1] != NULL; p++)
		for (k = 0; (x = at(p == 0 ? NULL : procedures[p - 1], k)) != NULL; k++)
			if (n-- == 0) {
				(*i)++;
				return x;
			}
	return NULL;
}

const struct wave_kind_def *
wave_kind_next(size_t *i)
{
	return kind_next(wave_at, i);
}

const struct gate_kind_def *
gate_kind_next(size_t *i)
{
	return kind_next(gate_at, i);
}

static const char *
wave_name(const void *k)
{
	return ((const struct wave_kind_def *)k)->name;
}

static const char *
gate_name(const void *k)
{
	return ((const struct gate_kind_def *)k)->name;
}

/* The kind named s among those at lists, or NULL. */
static const void *
kind_find(kind_at_fn at, const char *(*name)(const void *), const char *s)
{
	const void *k;
	size_t i = 0;

	while (s != NULL && (k = kind_next(at, &i)) != NULL)
		if (strcmp(name(k), s) == 0)
			return k;
	return NULL;
}

const struct wave_kind_def *
wave_kind_parse(const char *s)
{
	return kind_find(wave_at, wave_name, s);
}

const struct gate_kind_def *
gate_kind_parse(const char *s)
{
	return kind_find(gate_at, gate_name, s);
}

bool
wave_kind_has(const char *s, enum wave_kind_flag f)
{
	const struct wave_kind_def *k = wave_kind_parse(s);

	return k != NULL && (k->flags & (unsigned)f) != 0;
}
