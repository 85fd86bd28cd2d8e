/*
 * How a large plan's memory is handled by the C library, in one place:
 * the planner makes and frees millions of small JSON nodes, then dumps
 * tens of megabytes.  A command declares the phases; what that means for
 * glibc's allocator (and why) lives here, so cmd/ holds no allocator
 * tuning.  Both calls do nothing on a C library other than glibc.
 */
#ifndef NETWAVE_PLAN_MEMTUNE_H
#define NETWAVE_PLAN_MEMTUNE_H

/* Before loading a large estate and planning it. */
void memtune_bulk_begin(void);

/* After freeing the topologies, before the large dumps of the plan. */
void memtune_release(void);

#endif
