/*
 * Time and randomness for the Azure transport: a monotonic clock for
 * timers, the wall clock (or a test's) for tokens and logs, and a small
 * generator for retry jitter and x-ms-client-request-id values, which need
 * spread, not secrecy.
 */
#include "config.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "plan/clock.h"
#include "providers/azure/internal.h"

double
az_wall(struct az_client *c)
{
	if (c->clock != NULL)
		return c->clock(c->clock_arg);
	return clock_wall();
}

uint64_t
az_rand(struct az_client *c)
{
	/* xorshift64*: jitter and request ids need spread, not secrecy */
	uint64_t x = c->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	c->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

void
az_uuid(struct az_client *c, char out[40])
{
	uint64_t a = az_rand(c), b = az_rand(c);

	uuid_v4_text(out, a, b);
}

/* A seed for az_rand from the kernel, else from the clock and the pid; never 0. */
uint64_t
az_seed(void)
{
	uint64_t v = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
			v = 0;
		close(fd);
	}
	if (v == 0)
		v = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(clock_mono() * 1e9);
	return v != 0 ? v : 0x9E3779B97F4A7C15ULL;
}
