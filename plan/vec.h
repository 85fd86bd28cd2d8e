/*
 * The growable array every module keeps (a pointer, a count, a capacity):
 * one growth rule, so an append is "grow, then store" wherever it happens;
 * and the three-way comparison the arrays' qsort comparators are made of.
 */
#ifndef NETWAVE_PLAN_VEC_H
#define NETWAVE_PLAN_VEC_H

#include <stddef.h>

/*
 * Grows the array *pp (any object pointer type, passed by address) to hold
 * at least need elements of elem bytes, doubling from 8.  The pointer goes
 * in and out through memcpy so no pointer is read through an lvalue of
 * another type.  0, or NW_ENOMEM with *pp and *cap untouched.
 */
int vec_grow(void *pp, size_t *cap, size_t need, size_t elem);

/* vec_grow for an array variable arr: VEC_GROW(f->v, &f->cap, f->n + 1). */
#define VEC_GROW(arr, capp, need) vec_grow(&(arr), (capp), (need), sizeof(*(arr)))

/* Frees an array and leaves it empty: VEC_CLEAR(s->v, s->n). */
#define VEC_CLEAR(arr, n) (free(arr), (arr) = NULL, (n) = 0)

/* -1, 0 or 1 as a is below, equal to or above b (numbers or pointers into one array). */
#define CMP3(a, b) (((a) > (b)) - ((a) < (b)))

#endif
