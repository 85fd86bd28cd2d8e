/*
 * The growable array's one growth rule (see vec.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "plan/err.h"
#include "plan/vec.h"

int
vec_grow(void *pp, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *p, *np;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	while (ncap < need)
		ncap *= 2;
	memcpy(&p, pp, sizeof(p));
	np = realloc(p, ncap * elem);
	if (np == NULL)
		return NW_ENOMEM;
	memcpy(pp, &np, sizeof(np));
	*cap = ncap;
	return 0;
}
