/*
 * The clocks and the UUID text the provider, the emulator and the state
 * share: monotonic seconds for timers and deadlines, wall-clock seconds
 * for tokens, logs and timestamps, and the RFC 4122 version 4 form of
 * 128 random bits.  The randomness itself stays with each caller.
 */
#ifndef NETWAVE_PLAN_CLOCK_H
#define NETWAVE_PLAN_CLOCK_H

#include <stdint.h>

/* Seconds on the monotonic clock (CLOCK_MONOTONIC): only differences mean anything. */
double clock_mono(void);

/* Seconds since the epoch (CLOCK_REALTIME). */
double clock_wall(void);

/* hi and lo as a version 4 UUID, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" (RFC 4122 4.4). */
void uuid_v4_text(char out[40], uint64_t hi, uint64_t lo);

#endif
