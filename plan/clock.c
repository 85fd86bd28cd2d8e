/*
 * Clocks and UUID text shared by the provider, the emulator and the state
 * (clock.h): one place that reads the system clocks as seconds.
 */
#include "config.h"

#include <stdio.h>
#include <time.h>

#include "plan/clock.h"

static double
clock_seconds(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
clock_mono(void)
{
	return clock_seconds(CLOCK_MONOTONIC);
}

double
clock_wall(void)
{
	return clock_seconds(CLOCK_REALTIME);
}

void
uuid_v4_text(char out[40], uint64_t hi, uint64_t lo)
{
	snprintf(out, 40, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(hi >> 32),
	    (unsigned)((hi >> 16) & 0xffff), (unsigned)(hi & 0xfff),
	    (unsigned)(0x8000 | ((lo >> 48) & 0x3fff)), (unsigned long long)(lo & 0xffffffffffffULL));
}
