/* lapic_timer.c: the local APIC timer (SDM Vol. 3A, 10.5.4): initial count, current count, divide
 * configuration, one-shot and periodic modes, kept as "count0 at TSC start" on the shared clock. */
#include "exercise.h"
#include "lapic.h"

#define LVT_TIMER 0              /* lvt[] index of APIC_LVTT */

/* Divide configuration (Figure 10-10): bits 3, 1:0; 0b111 means divide by 1. */
static uint32_t divisor(uint32_t tdcr)
{
    uint32_t v = ((tdcr >> 1) & 4) | (tdcr & 3);
    return v == 7 ? 1 : 2u << v;
}

/* TSC ticks for n timer counts, rounded up: the count reaches 0 at or after that time. */
static uint64_t counts_to_tsc(const struct lapic *a, uint64_t counts)
{
    return vclock_from(a->clock, counts * divisor(a->tdcr), a->timer_hz);
}

void lapic_timer_reset(struct lapic *a)
{
    a->tmict = a->tdcr = a->count0 = 0;
    a->start = a->deadline = a->period_tsc = 0;
}

/*
 * A periodic timer's period, at least LAPIC_MIN_PERIOD_US of guest time. A CPU would fire
 * every few nanoseconds if asked; each expiry here costs a VM exit, so a guest asking for
 * that would get no time left to run (Linux's KVM clamps the same way, min_timer_period_us).
 */
#define LAPIC_MIN_PERIOD_US 200

static uint64_t period_of(const struct lapic *a)
{
    uint64_t p = a->tmict ? counts_to_tsc(a, a->tmict) : 0, min = a->clock->tsc_hz / (1000000 / LAPIC_MIN_PERIOD_US);
    return p && p < min ? min : p;
}

/* Count down from count at TSC now; count 0 stops the timer. */
static void start_counting(struct lapic *a, uint32_t count, uint64_t now)
{
    a->count0 = count;
    a->start = now;
    a->deadline = count ? now + counts_to_tsc(a, count) : 0;
    a->period_tsc = period_of(a);
}

/*
 * An expiry: the LVT timer entry's vector is raised unless masked (a masked timer still
 * counts). One-shot stops at 0; periodic reloads the initial count. A periodic timer the
 * host looked at late fires once for all the periods it missed, as the IRR has one bit.
 */
void lapic_timer_advance(struct lapic *a, uint64_t now)
{
    if (!a->deadline || now < a->deadline)
        return;
    // BEGIN EXERCISE 07-3: the LAPIC timer reaches 0
    // Instruction: Raise the vector of the LVT timer entry (lapic_raise()) unless it is
    //   masked, and count the expiry in a->timer_irqs. Periodic (APIC_LVT_TIMER_PERIODIC, with
    //   a non-zero initial count): count0 = tmict again, start = the latest period boundary at
    //   or before now (deadline + whole periods missed), deadline one period after start.
    //   One-shot: count0 = 0, start = now, deadline = 0 (stopped).
    // Hint: SDM Vol. 3A, 10.5.4; a->period_tsc is one period in TSC ticks.
    uint32_t lvt = a->lvt[LVT_TIMER];
    if (!(lvt & APIC_LVT_MASKED))
        lapic_raise(a, (uint8_t)lvt);
    a->timer_irqs++;
    if ((lvt & APIC_LVT_TIMER_PERIODIC) && a->tmict && a->period_tsc) {
        uint64_t missed = (now - a->deadline) / a->period_tsc;
        a->count0 = a->tmict;
        a->start = a->deadline + missed * a->period_tsc;
        a->deadline = a->start + a->period_tsc;
    } else {
        a->count0 = 0;
        a->start = now;
        a->deadline = 0;
    }
    // END EXERCISE 07-3
}

uint32_t lapic_timer_current(struct lapic *a, uint64_t now)
{
    lapic_timer_advance(a, now);
    if (!a->deadline)
        return 0;
    uint64_t elapsed = vclock_to(a->clock, now - a->start, a->timer_hz) / divisor(a->tdcr);
    return elapsed >= a->count0 ? 0 : a->count0 - (uint32_t)elapsed;
}

/* Writes of the timer's registers; the LVT timer entry itself is lapic.c's. */
void lapic_timer_write(struct lapic *a, uint32_t reg, uint32_t value, uint64_t now)
{
    lapic_timer_advance(a, now);
    if (reg == APIC_TMICT) {
        a->tmict = value;                /* a write (re)starts the countdown; 0 stops it */
        a->timer_arms++;
        start_counting(a, value, now);
    } else if (reg == APIC_TDCR) {
        /* A new divider applies from now on: keep the current count, change its rate. */
        uint32_t current = lapic_timer_current(a, now);
        a->tdcr = value & 0xb;
        if (a->deadline)
            start_counting(a, current, now);
        else
            a->period_tsc = period_of(a);
    }
}
