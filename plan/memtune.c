/*
 * glibc allocator settings for planning a large estate (plan/memtune.h).
 * Measured on the 5,000-spoke benchmark estate (bench/bench_plan.sh):
 * without them plan's peak resident memory grows from 454 MiB to 581 MiB,
 * as the small chunks the fast bins hold are not coalesced into the large
 * blocks the plan's dumps then need.
 */
#include "config.h"

#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "plan/memtune.h"

void
memtune_bulk_begin(void)
{
#if defined(__GLIBC__) && defined(M_MXFAST)
	/*
	 * With glibc's fast bins on, every free of a large block (a
	 * topology's views, a dump buffer) first walks all the small ones
	 * the bins hold; without them the frees cost less in all, by about a
	 * twentieth of the run, and freed nodes coalesce for reuse.
	 */
	mallopt(M_MXFAST, 0);
#endif
}

void
memtune_release(void)
{
#ifdef __GLIBC__
	/* give the freed topologies' pages back: the dumps ahead are tens of megabytes each */
	malloc_trim(0);
#endif
}
