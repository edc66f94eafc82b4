/* host_timer.h: the host's own periodic timer on its local APIC (xAPIC registers), which keeps
 * ticking while a guest runs: each tick is an external-interrupt VM exit the host answers. */
#ifndef HOST_TIMER_H
#define HOST_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#define HOST_TIMER_VECTOR    0xec
#define HOST_SPURIOUS_VECTOR 0xff

struct host_timer_info {
    bool running;
    uint64_t period_tsc;         /* asked for */
    uint32_t initial_count;      /* LAPIC timer counts per period (divide by 1) */
    uint64_t lapic_per_1k_tsc;   /* calibration: LAPIC timer counts per 1000 TSC ticks */
    uint64_t ticks;              /* interrupts taken, in the host or through VM exits */
    uint64_t lapic_base;
};

/*
 * Mask the legacy PICs, enable the local APIC (SVR), calibrate its timer against the
 * TSC and start it periodic, every period_tsc TSC ticks, on HOST_TIMER_VECTOR. The
 * host runs with interrupts off; ticks arrive as VM exits while a guest runs
 * (external-interrupt exiting), or in host_idle(). Returns false without a local APIC.
 */
bool host_timer_start(uint64_t period_tsc);
void host_timer_stop(void);
const struct host_timer_info *host_timer(void);

/* A VM exit acknowledged interrupt vector for the host (VM_EXIT_ACK_INTR_ON_EXIT): count
 * it and signal end of interrupt. Returns false if the vector is not the host timer's. */
bool host_timer_interrupt(uint8_t vector);
/* Sleep until the next host interrupt (STI; HLT; CLI). */
void host_idle(void);

#endif
