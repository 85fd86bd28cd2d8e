/*
 * glibc allocator settings for planning a large estate (plan/memtune.h).
 * Measured on the 5,000-spoke benchmark estate (bench/bench_plan.sh):
 * without them plan's peak resident memory grows from 454 MiB to 581 MiB,
 * as the small chunks the fast bins hold are not coalesced into the large
 * blocks the plan's dumps then need; and the heap backed by huge pages
 * takes plan's page faults from about 155,000 to 38,000 and its CPU time
 * down by about a fifth, for 7 MiB more at the peak.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#ifdef __linux__
#include <sys/mman.h>
#include <unistd.h>
#endif

#include "plan/memtune.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MEMTUNE_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define MEMTUNE_SANITIZED 1
#endif

/* not under a sanitizer, whose allocator keeps its own heap */
#if defined(__GLIBC__) && defined(__linux__) && defined(MADV_HUGEPAGE) && defined(M_TOP_PAD) && \
    !defined(MEMTUNE_SANITIZED)
#define MEMTUNE_HUGE 1
/* How far the heap grows at once while planning: more than the bench estate's plan needs. */
#define HEAP_STEP ((size_t)1 << 30)
#define HUGE_PAGE ((uintptr_t)2 << 20)

/*
 * Grows the heap by HEAP_STEP now and asks for that stretch to be backed
 * by transparent huge pages (where the system leaves that to madvise):
 * the planner touches hundreds of megabytes of small JSON nodes, and on
 * the bench estate faulting them in 4 KiB at a time took about 155,000
 * page faults and about a fifth of plan's CPU time; with huge pages
 * about 38,000, most of them in the blocks glibc maps on their own.
 * Only what is touched is resident, as before.  Best effort: when the
 * heap does not grow here (a free block served the probe) or the kernel
 * says no, nothing changes.
 */
static void
heap_huge(void)
{
	void *probe;
	uintptr_t lo, hi;

	mallopt(M_TOP_PAD, (int)HEAP_STEP);
	/* larger than what the start-up left free, smaller than an mmap'd block */
	if ((probe = malloc(96 << 10)) == NULL)
		return;
	lo = ((uintptr_t)probe + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	hi = (uintptr_t)sbrk(0) & ~(HUGE_PAGE - 1);
	/* only the stretch just below the break, where glibc put the probe */
	if (hi > lo && hi - (uintptr_t)probe <= HEAP_STEP + ((size_t)1 << 20))
		(void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
	free(probe);
}
#endif

void
memtune_bulk_begin(void)
{
#ifdef MEMTUNE_HUGE
	heap_huge();
#endif
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
