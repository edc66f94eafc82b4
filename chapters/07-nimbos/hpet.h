/* hpet.h: a High Precision Event Timer block as a plain state machine: capabilities, general
 * configuration, a 64-bit main counter derived from the shared clock, three timers' registers. */
#ifndef CH07_HPET_H
#define CH07_HPET_H

#include <stdbool.h>
#include <stdint.h>

#include "vclock.h"

/* Register offsets (IA-PC HPET Specification 1.0a, 2.3.1, Table 2). */
#define HPET_ID            0x000     /* general capabilities and ID */
#define HPET_CFG           0x010     /* general configuration */
#define HPET_STATUS        0x020     /* general interrupt status */
#define HPET_COUNTER       0x0f0     /* main counter */
#define HPET_Tn_CFG(n)     (0x100 + 0x20 * (n))
#define HPET_Tn_CMP(n)     (0x108 + 0x20 * (n))
#define HPET_Tn_ROUTE(n)   (0x110 + 0x20 * (n))

#define HPET_BASE          0xfed00000ull
#define HPET_TIMERS        3
#define HPET_PERIOD_FS     10000000ull                 /* 10 ns: a 100 MHz counter */
#define HPET_HZ            (1000000000000000ull / HPET_PERIOD_FS)
#define HPET_ID_LEGSUP     (1ull << 15)                /* LegacyReplacement route capable */
#define HPET_ID_64BIT      (1ull << 13)
#define HPET_CFG_ENABLE    (1ull << 0)
#define HPET_CFG_LEGACY    (1ull << 1)
#define HPET_TN_INT_ENB    (1ull << 2)

struct hpet_timer {
    uint64_t config, comparator, route;
};

struct hpet {
    const struct vclock *clock;
    uint64_t config, status;
    uint64_t counter;            /* the main counter's value at TSC enabled_at (or frozen) */
    uint64_t enabled_at;
    struct hpet_timer t[HPET_TIMERS];
    uint64_t reads, writes, counter_reads, odd_accesses, interrupt_enables;
};

void hpet_init(struct hpet *h, const struct vclock *clock);
uint64_t hpet_capabilities(void);

/* A guest access of size 4 or 8 bytes at offset (0-0x3ff), aligned to its size; anything
 * else is undefined by the specification: reads give 0, writes vanish (odd_accesses). */
uint64_t hpet_read(struct hpet *h, uint32_t offset, unsigned size, uint64_t now);
void hpet_write(struct hpet *h, uint32_t offset, unsigned size, uint64_t value, uint64_t now);

/* The main counter at TSC value now. */
uint64_t hpet_counter(const struct hpet *h, uint64_t now);

#endif
