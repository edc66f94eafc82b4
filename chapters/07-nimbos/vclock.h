/* vclock.h: the one clock every virtual device counts from: the host's TSC and its rate, so the
 * guest's TSC, LAPIC timer and HPET agree (with Bochs' clock sync=none the TSC rate is ips). */
#ifndef CH07_VCLOCK_H
#define CH07_VCLOCK_H

#include <stdint.h>

struct vclock {
    uint64_t tsc_hz;             /* TSC ticks per second, measured or stated (cmdline tsc_khz=) */
};

/*
 * a * mul / div without a 128-bit type (a kernel without libgcc has no 128-bit division):
 * a = q * div + r, so a * mul / div = q * mul + r * mul / div, and r * mul < div * mul,
 * which fits 64 bits for every rate here (div and mul below 2^32). Rounds down.
 */
static inline uint64_t muldiv64(uint64_t a, uint64_t mul, uint64_t div)
{
    return (a / div) * mul + (a % div) * mul / div;
}

/* The same, rounded up: the first count at or after a time, the first time at or after a count. */
static inline uint64_t muldiv64_up(uint64_t a, uint64_t mul, uint64_t div)
{
    uint64_t q = a / div, r = a % div;
    return q * mul + (r * mul + div - 1) / div;
}

/* Ticks of a clock running at hz, in tsc ticks; and TSC ticks in n ticks of that clock. */
static inline uint64_t vclock_to(const struct vclock *c, uint64_t tsc_ticks, uint64_t hz)
{
    return muldiv64(tsc_ticks, hz, c->tsc_hz);
}

static inline uint64_t vclock_from(const struct vclock *c, uint64_t ticks, uint64_t hz)
{
    return muldiv64_up(ticks, c->tsc_hz, hz);
}

#endif
