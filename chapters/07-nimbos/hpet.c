/* hpet.c: HPET registers (IA-PC HPET Specification 1.0a, 2.3): 64-bit registers readable and
 * writable in 32-bit halves, read-only capability bits kept, the counter running from the TSC. */
#include "exercise.h"
#include "hpet.h"

#define TN_WRITABLE   0x7f4eull  /* INT_TYPE, INT_ENB, TYPE, VAL_SET, 32MODE, INT_ROUTE, FSB_EN... */
#define TN_TYPE       (1ull << 3)            /* periodic */
#define TN_PER_CAP    (1ull << 4)
#define TN_SIZE_CAP   (1ull << 5)            /* 64-bit comparator */
#define TN_VAL_SET    (1ull << 6)
#define TN_32MODE     (1ull << 8)
#define TN_FSB_EN     (1ull << 14)
#define TN_ROUTE_CAP  (0x00f00000ull << 32)  /* may be routed to I/O APIC inputs 20-23 */

/*
 * GCAP_ID: revision 1, timers - 1 in bits 12:8, a 64-bit counter, LegacyReplacement
 * capable, vendor 0x8086, and the period in femtoseconds in bits 63:32.
 */
uint64_t hpet_capabilities(void)
{
    return 1 | (uint64_t)(HPET_TIMERS - 1) << 8 | HPET_ID_64BIT | HPET_ID_LEGSUP |
           0x8086ull << 16 | HPET_PERIOD_FS << 32;
}

/* Timer 0 can be periodic (as on PC chipsets); none can deliver through FSB messages. */
static uint64_t timer_ro_bits(int n)
{
    return TN_ROUTE_CAP | TN_SIZE_CAP | (n == 0 ? TN_PER_CAP : 0);
}

void hpet_init(struct hpet *h, const struct vclock *clock)
{
    *h = (struct hpet){.clock = clock};
    for (int n = 0; n < HPET_TIMERS; n++) {
        h->t[n].config = timer_ro_bits(n);
        h->t[n].comparator = ~0ull;
    }
}

uint64_t hpet_counter(const struct hpet *h, uint64_t now)
{
    uint64_t ticks = 0;                  /* HPET ticks since the counter was started */
    if (!(h->config & HPET_CFG_ENABLE) || now < h->enabled_at)
        return h->counter;               /* stopped: it holds its value */
    // BEGIN EXERCISE 07-4: the HPET's main counter from the TSC
    // Instruction: The counter has run since TSC value h->enabled_at: set ticks to the TSC
    //   ticks since then converted to ticks of HPET_HZ, so that the guest's HPET and TSC
    //   agree on every second (the caller adds the value it started from).
    // Hint: IA-PC HPET 1.0a, 2.3.4-2.3.5; vclock_to() in vclock.h (no 128-bit division).
    ticks = vclock_to(h->clock, now - h->enabled_at, HPET_HZ);
    // END EXERCISE 07-4
    return h->counter + ticks;
}

/* The 64-bit value of the register at offset (8-aligned); false if there is none. */
static bool read64(struct hpet *h, uint32_t reg, uint64_t now, uint64_t *v)
{
    if (reg >= HPET_Tn_CFG(0) && reg < HPET_Tn_CFG(HPET_TIMERS)) {
        const struct hpet_timer *t = &h->t[(reg - HPET_Tn_CFG(0)) / 0x20];
        switch ((reg - HPET_Tn_CFG(0)) % 0x20) {
        case 0:  *v = t->config; return true;
        case 8:  *v = (t->config & TN_32MODE) ? (uint32_t)t->comparator : t->comparator; return true;
        case 16: *v = t->route; return true;
        default: return false;
        }
    }
    switch (reg) {
    case HPET_ID:      *v = hpet_capabilities(); return true;
    case HPET_CFG:     *v = h->config; return true;
    case HPET_STATUS:  *v = h->status; return true;
    case HPET_COUNTER: *v = hpet_counter(h, now); h->counter_reads++; return true;
    default:           return false;
    }
}

static void write_timer(struct hpet *h, int n, uint32_t field, uint64_t v)
{
    struct hpet_timer *t = &h->t[n];
    if (field == 0) {
        uint64_t writable = TN_WRITABLE & ~TN_FSB_EN & ~(n == 0 ? 0 : TN_TYPE);
        if ((v & HPET_TN_INT_ENB) && !(t->config & HPET_TN_INT_ENB))
            h->interrupt_enables++;      /* no I/O APIC here: such an interrupt goes nowhere */
        t->config = timer_ro_bits(n) | (v & writable & ~TN_VAL_SET);   /* VAL_SET reads 0 */
    } else if (field == 8) {
        t->comparator = (t->config & TN_32MODE) ? (uint32_t)v : v;
    } else if (field == 16) {
        t->route = v;
    }
}

/* Writes of whole 64-bit registers; read-only registers ignore them. */
static void write64(struct hpet *h, uint32_t reg, uint64_t v, uint64_t now)
{
    if (reg >= HPET_Tn_CFG(0) && reg < HPET_Tn_CFG(HPET_TIMERS)) {
        write_timer(h, (int)(reg - HPET_Tn_CFG(0)) / 0x20, (reg - HPET_Tn_CFG(0)) % 0x20, v);
        return;
    }
    switch (reg) {
    case HPET_CFG:
        /* Starting freezes nothing, stopping freezes the count where it is (2.3.5). */
        if ((v & HPET_CFG_ENABLE) && !(h->config & HPET_CFG_ENABLE))
            h->enabled_at = now;
        else if (!(v & HPET_CFG_ENABLE) && (h->config & HPET_CFG_ENABLE))
            h->counter = hpet_counter(h, now);
        h->config = v & (HPET_CFG_ENABLE | HPET_CFG_LEGACY);
        break;
    case HPET_STATUS:
        h->status &= ~v;                 /* write 1 to clear */
        break;
    case HPET_COUNTER:
        h->counter = v;                  /* software should stop the counter first (2.3.8) */
        h->enabled_at = now;
        break;
    default:
        break;
    }
}

uint64_t hpet_read(struct hpet *h, uint32_t offset, unsigned size, uint64_t now)
{
    uint64_t v;
    h->reads++;
    if ((size != 4 && size != 8) || (offset & (size - 1)) || offset > 0x3ff ||
        !read64(h, offset & ~7u, now, &v)) {
        h->odd_accesses += size != 4 && size != 8;
        return 0;
    }
    return size == 8 ? v : (uint32_t)(v >> (8 * (offset & 4)));
}

/* A 32-bit write changes its half of the register; the other half keeps its value. */
void hpet_write(struct hpet *h, uint32_t offset, unsigned size, uint64_t value, uint64_t now)
{
    uint64_t old;
    h->writes++;
    if ((size != 4 && size != 8) || (offset & (size - 1)) || offset > 0x3ff) {
        h->odd_accesses++;
        return;
    }
    uint32_t reg = offset & ~7u;
    if (size == 4) {
        if (!read64(h, reg, now, &old))
            return;
        unsigned shift = 8 * (offset & 4);
        value = (old & ~(0xffffffffull << shift)) | ((value & 0xffffffffull) << shift);
    }
    write64(h, reg, value, now);
}
