/* test_lapic_hpet.c: chapter 07's local APIC (modes and IA32_APIC_BASE, both register views,
 * timer modes and divider on the shared clock, priorities, EOI, errors) and HPET registers. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "hpet.h"
#include "lapic.h"

#define TSC_HZ 5000000ull        /* Bochs at ips 5,000,000 with clock sync=none */
#define BASE_XAPIC (APIC_DEFAULT_BASE | APIC_BASE_BSP | APIC_BASE_ENABLE)
#define BASE_X2APIC (BASE_XAPIC | APIC_BASE_EXTD)

static struct vclock clk = {TSC_HZ};

static uint64_t msr_read(struct lapic *a, uint32_t msr, uint64_t now)
{
    uint64_t v = 0xdead;
    CHECK(lapic_msr_read(a, msr, now, &v) == LAPIC_OK);
    return v;
}

static void test_modes(void)
{
    struct lapic a;
    uint64_t v;
    lapic_init(&a, &clk, TSC_HZ, false);
    CHECK(lapic_mode(&a) == LAPIC_XAPIC && a.base == 0xfee00900);
    CHECK(lapic_mmio_read(&a, APIC_LVR, 0) == APIC_VERSION && lapic_mmio_read(&a, APIC_SPIV, 0) == 0xff);
    CHECK(lapic_mmio_read(&a, APIC_DFR, 0) == 0xffffffff && lapic_mmio_read(&a, APIC_LVTT, 0) == 0x10000);
    CHECK(lapic_mmio_read(&a, APIC_LVR + 4, 0) == 0 && lapic_mmio_read(&a, 0x800, 0) == 0);
    CHECK(lapic_msr_read(&a, 0x803, 0, &v) == LAPIC_GP);          /* x2APIC MSRs: #GP in xAPIC */
    CHECK(lapic_set_base(&a, BASE_X2APIC, 0) == LAPIC_GP);        /* no x2APIC in CPUID */

    lapic_init(&a, &clk, TSC_HZ, true);
    CHECK(lapic_set_base(&a, BASE_XAPIC | (1ull << 9), 0) == LAPIC_GP);     /* reserved bit */
    CHECK(lapic_set_base(&a, BASE_XAPIC | (1ull << 40), 0) == LAPIC_GP);    /* above MAXPHYADDR */
    CHECK(lapic_set_base(&a, APIC_DEFAULT_BASE | APIC_BASE_EXTD, 0) == LAPIC_GP);  /* EXTD, no EN */
    CHECK(lapic_set_base(&a, 0xfec00000 | APIC_BASE_ENABLE, 0) == LAPIC_UNSUPPORTED);
    lapic_mmio_write(&a, APIC_TASKPRI, 0x20, 0);
    CHECK(lapic_set_base(&a, BASE_X2APIC, 0) == LAPIC_OK && lapic_mode(&a) == LAPIC_X2APIC);
    CHECK(msr_read(&a, 0x808, 0) == 0x20);                        /* state kept across the switch */
    CHECK(msr_read(&a, 0x802, 0) == 0 && msr_read(&a, 0x803, 0) == APIC_VERSION);
    CHECK(msr_read(&a, 0x80d, 0) == 1);                           /* logical ID: cluster 0, bit 0 */
    CHECK(lapic_mmio_read(&a, APIC_LVR, 0) == 0);                 /* the page is gone */
    /* x2APIC rules (SDM Vol. 3A, 10.12.1.2). */
    CHECK(lapic_msr_write(&a, 0x80d, 5, 0) == LAPIC_GP);          /* LDR read-only */
    CHECK(lapic_msr_write(&a, 0x802, 0, 0) == LAPIC_GP);          /* ID read-only */
    CHECK(lapic_msr_read(&a, 0x809, 0, &v) == LAPIC_GP);          /* no APR */
    CHECK(lapic_msr_read(&a, 0x80e, 0, &v) == LAPIC_GP);          /* no DFR */
    CHECK(lapic_msr_read(&a, 0x831, 0, &v) == LAPIC_GP);          /* no ICR2 */
    CHECK(lapic_msr_read(&a, 0x80b, 0, &v) == LAPIC_GP);          /* EOI write-only */
    CHECK(lapic_msr_read(&a, 0x83f, 0, &v) == LAPIC_GP);          /* SELF IPI write-only */
    CHECK(lapic_msr_write(&a, 0x80b, 1, 0) == LAPIC_GP && lapic_msr_write(&a, 0x80b, 0, 0) == LAPIC_OK);
    CHECK(lapic_msr_write(&a, 0x828, 1, 0) == LAPIC_GP && lapic_msr_write(&a, 0x828, 0, 0) == LAPIC_OK);
    CHECK(lapic_msr_write(&a, 0x808, 1ull << 32, 0) == LAPIC_GP);
    CHECK(lapic_msr_write(&a, 0x839, 1, 0) == LAPIC_GP);          /* current count read-only */
    CHECK(lapic_msr_read(&a, 0x8ff, 0, &v) == LAPIC_GP && lapic_msr_read(&a, 0x900, 0, &v) == LAPIC_GP);
    /* Out of x2APIC only through "disabled"; disabling resets the registers. */
    CHECK(lapic_set_base(&a, BASE_XAPIC, 0) == LAPIC_GP);
    CHECK(lapic_set_base(&a, APIC_DEFAULT_BASE, 0) == LAPIC_OK && lapic_mode(&a) == LAPIC_DISABLED);
    CHECK(lapic_msr_read(&a, 0x808, 0, &v) == LAPIC_GP && lapic_mmio_read(&a, APIC_LVR, 0) == 0);
    CHECK(lapic_set_base(&a, BASE_X2APIC, 0) == LAPIC_GP);        /* disabled -> x2APIC skips xAPIC */
    CHECK(lapic_set_base(&a, BASE_XAPIC, 0) == LAPIC_OK);
    CHECK(lapic_mmio_read(&a, APIC_TASKPRI, 0) == 0 && lapic_mmio_read(&a, APIC_LDR, 0) == 0);
}

/* NimbOS's set-up and calibration through x2APIC MSRs (nimbos-guest.md). */
static void test_nimbos_sequence(void)
{
    struct lapic a;
    lapic_init(&a, &clk, TSC_HZ, true);
    CHECK(lapic_set_base(&a, BASE_X2APIC, 0) == LAPIC_OK);
    CHECK(lapic_msr_write(&a, 0x832, 0x100f0, 0) == LAPIC_OK);
    CHECK(lapic_msr_write(&a, 0x835, 0, 0) == LAPIC_OK && lapic_msr_write(&a, 0x836, 0, 0) == LAPIC_OK);
    CHECK(lapic_msr_write(&a, 0x837, 0xf2, 0) == LAPIC_OK);
    CHECK(msr_read(&a, 0x837, 0) == 0x100f2);                     /* software-disabled: stays masked */
    CHECK(lapic_msr_write(&a, 0x80f, 0xf1, 0) == LAPIC_OK && lapic_msr_write(&a, 0x80f, 0x1f1, 0) == LAPIC_OK);
    CHECK(msr_read(&a, 0x80f, 0) == 0x1f1);
    CHECK(lapic_msr_write(&a, 0x83e, 0xb, 0) == LAPIC_OK && msr_read(&a, 0x83e, 0) == 0xb);
    /* Calibration: masked one-shot from 0xFFFFFFFF, 10 ms of TSC later. */
    uint64_t t0 = 1000000;
    CHECK(lapic_msr_write(&a, 0x838, 0xffffffff, t0) == LAPIC_OK);
    CHECK(msr_read(&a, 0x839, t0 + 50000) == 0xffffffffull - 50000);
    CHECK(lapic_pending(&a) == -1);
    /* Run time: one-shot, vector 0xF0, EOI after each. */
    CHECK(lapic_msr_write(&a, 0x832, 0xf0, t0) == LAPIC_OK);
    CHECK(lapic_msr_write(&a, 0x838, 5000, t0) == LAPIC_OK && lapic_next_deadline(&a) == t0 + 5000);
    lapic_timer_advance(&a, t0 + 4999);
    CHECK(lapic_pending(&a) == -1 && msr_read(&a, 0x839, t0 + 4999) == 1);
    lapic_timer_advance(&a, t0 + 5000);
    CHECK(lapic_pending(&a) == 0xf0 && lapic_next_deadline(&a) == 0);
    CHECK(msr_read(&a, 0x839, t0 + 6000) == 0);
    lapic_accept(&a, 0xf0);
    CHECK(lapic_pending(&a) == -1 && msr_read(&a, 0x810 + 7, 0) == 1u << 16);   /* ISR bit 0xF0 */
    lapic_raise(&a, 0xf0);                                        /* same class as in service */
    CHECK(lapic_pending(&a) == -1 && msr_read(&a, 0x820 + 7, 0) == 1u << 16);   /* IRR bit 0xF0 */
    CHECK(lapic_msr_write(&a, 0x80b, 0, 0) == LAPIC_OK);
    CHECK(lapic_pending(&a) == 0xf0 && a.eois == 1 && a.accepted == 1);
}

static void test_timer_modes(void)
{
    struct lapic a;
    uint64_t t = 7;
    lapic_init(&a, &clk, TSC_HZ, false);
    lapic_mmio_write(&a, APIC_SPIV, 0x1ff, t);
    lapic_mmio_write(&a, APIC_TDCR, 0xb, t);
    lapic_mmio_write(&a, APIC_LVTT, 0x200f0, t);                  /* periodic */
    lapic_mmio_write(&a, APIC_TMICT, 1000, t);
    CHECK(lapic_next_deadline(&a) == t + 1000);
    lapic_timer_advance(&a, t + 1000);
    CHECK(lapic_pending(&a) == 0xf0 && lapic_next_deadline(&a) == t + 2000);
    lapic_accept(&a, 0xf0);
    lapic_mmio_write(&a, APIC_EOI, 0, t);
    lapic_timer_advance(&a, t + 5500);                            /* late: one interrupt, in phase */
    CHECK(lapic_pending(&a) == 0xf0 && lapic_next_deadline(&a) == t + 6000);
    CHECK(lapic_mmio_read(&a, APIC_TMCCT, t + 5500) == 500 && a.timer_irqs == 2);
    lapic_accept(&a, 0xf0);
    lapic_mmio_write(&a, APIC_EOI, 0, t);
    lapic_mmio_write(&a, APIC_TMICT, 0, t + 5500);                /* 0 stops it */
    CHECK(lapic_next_deadline(&a) == 0 && lapic_mmio_read(&a, APIC_TMCCT, t + 9000) == 0);

    /* Dividers (Figure 10-10): 0x3 = 16, 0xa = 128, 0x0 = 2, 0xb = 1. */
    static const uint32_t tdcr[4] = {0x3, 0xa, 0x0, 0xb}, div[4] = {16, 128, 2, 1};
    lapic_mmio_write(&a, APIC_LVTT, 0x100f0, t);                  /* one-shot, masked */
    for (int i = 0; i < 4; i++) {
        lapic_mmio_write(&a, APIC_TDCR, tdcr[i], t);
        lapic_mmio_write(&a, APIC_TMICT, 100, t);
        CHECK(lapic_next_deadline(&a) == t + 100 * div[i]);
        CHECK(lapic_mmio_read(&a, APIC_TMCCT, t + 3 * div[i]) == 97);
    }
    /* A masked timer counts to 0 without an interrupt. */
    lapic_timer_advance(&a, t + 100);
    CHECK(lapic_mmio_read(&a, APIC_IRR + 0x70, t) == 0 && lapic_mmio_read(&a, APIC_TMCCT, t + 100) == 0);
    /* Changing the divider keeps the current count and changes the rate. */
    lapic_mmio_write(&a, APIC_TDCR, 0xb, t);
    lapic_mmio_write(&a, APIC_TMICT, 1000, t);
    CHECK(lapic_mmio_read(&a, APIC_TMCCT, t + 400) == 600);
    lapic_mmio_write(&a, APIC_TDCR, 0x0, t + 400);
    CHECK(lapic_next_deadline(&a) == t + 400 + 1200 && lapic_mmio_read(&a, APIC_TMCCT, t + 600) == 500);

    /* A timer clock slower than the TSC: 1 GHz against 2.5 GHz, rounded up to whole TSC ticks. */
    struct vclock fast = {2500000000ull};
    lapic_init(&a, &fast, 1000000000ull, false);
    lapic_mmio_write(&a, APIC_TDCR, 0xb, 0);
    lapic_mmio_write(&a, APIC_TMICT, 1001, 0);
    CHECK(lapic_next_deadline(&a) == 2503 && lapic_mmio_read(&a, APIC_TMCCT, 2) == 1001);
    CHECK(lapic_mmio_read(&a, APIC_TMCCT, 2500) == 1);
}

static void test_priorities_and_errors(void)
{
    struct lapic a;
    lapic_init(&a, &clk, TSC_HZ, true);
    lapic_raise(&a, 0x50);
    CHECK(lapic_pending(&a) == -1);                               /* software-disabled (SVR 0xFF) */
    lapic_mmio_write(&a, APIC_SPIV, 0x1ff, 0);
    lapic_raise(&a, 0xf0);
    CHECK(lapic_pending(&a) == 0xf0);
    lapic_mmio_write(&a, APIC_TASKPRI, 0xf0, 0);
    CHECK(lapic_pending(&a) == -1 && lapic_mmio_read(&a, APIC_PROCPRI, 0) == 0xf0);
    lapic_mmio_write(&a, APIC_TASKPRI, 0x40, 0);
    CHECK(lapic_pending(&a) == 0xf0);
    lapic_accept(&a, 0xf0);
    CHECK(lapic_pending(&a) == -1 && lapic_mmio_read(&a, APIC_PROCPRI, 0) == 0xf0);
    lapic_mmio_write(&a, APIC_EOI, 0, 0);
    CHECK(lapic_pending(&a) == 0x50);
    lapic_accept(&a, 0x77);                                       /* not requested: ignored */
    CHECK(a.accepted == 1);

    /* Illegal vector from the timer: an error, raised through LVT error when unmasked. */
    lapic_mmio_write(&a, APIC_LVTERR, 0xf2, 0);
    lapic_mmio_write(&a, APIC_LVTT, 0x05, 0);
    lapic_mmio_write(&a, APIC_TMICT, 10, 0);
    lapic_timer_advance(&a, 20);                                  /* divide by 2 since reset */
    CHECK(lapic_mmio_read(&a, APIC_ESR, 0) == 0);                 /* not latched yet */
    lapic_mmio_write(&a, APIC_ESR, 0, 0);
    CHECK(lapic_mmio_read(&a, APIC_ESR, 0) == 0x40 && lapic_pending(&a) == 0xf2);

    /* IPIs to itself: fixed, by shorthand or by its own ID; others are counted and dropped. */
    lapic_mmio_write(&a, APIC_ICR, 0x40000 | 0x61, 0);            /* shorthand "self" */
    lapic_mmio_write(&a, APIC_ICR2, 0x05000000, 0);
    lapic_mmio_write(&a, APIC_ICR, 0x62, 0);                      /* to APIC 5: nobody */
    lapic_mmio_write(&a, APIC_ICR, 0x4500, 0);                    /* INIT: not emulated */
    CHECK(lapic_mmio_read(&a, APIC_IRR + 0x30, 0) == 0x2 && a.ipis == 3 && a.ignored_ipis == 2);
    CHECK(lapic_set_base(&a, BASE_X2APIC, 0) == LAPIC_OK);
    CHECK(lapic_msr_write(&a, 0x83f, 0x63, 0) == LAPIC_OK && lapic_msr_write(&a, 0x83f, 0x163, 0) == LAPIC_GP);
    CHECK(lapic_msr_write(&a, 0x830, 0x64, 0) == LAPIC_OK);       /* ICR, destination 0 */
    CHECK(lapic_msr_read(&a, 0x823, 0, &(uint64_t){0}) == LAPIC_OK);
    CHECK(msr_read(&a, 0x823, 0) == 0x1a);                        /* 0x61, 0x63, 0x64 */
    /* Software disable masks every LVT entry. */
    CHECK(lapic_msr_write(&a, 0x80f, 0xff, 0) == LAPIC_OK && msr_read(&a, 0x837, 0) == 0x100f2);
}

static void test_hpet(void)
{
    struct hpet h;
    uint64_t t0 = 123456;
    hpet_init(&h, &clk);
    uint64_t cap = hpet_read(&h, HPET_ID, 8, 0);
    CHECK(cap & HPET_ID_LEGSUP && cap & HPET_ID_64BIT && ((cap >> 8) & 0x1f) == 2);
    CHECK(cap >> 32 == 10000000 && (cap & 0xff) == 1 && ((cap >> 16) & 0xffff) == 0x8086);
    CHECK(hpet_read(&h, HPET_ID + 4, 4, 0) == 10000000 && hpet_read(&h, HPET_ID, 4, 0) == (uint32_t)cap);
    CHECK(hpet_read(&h, HPET_COUNTER, 8, t0) == 0 && hpet_read(&h, HPET_COUNTER, 8, t0 + 999) == 0);
    /* NimbOS: stop, quiet every timer, then enable with the legacy route. */
    hpet_write(&h, HPET_CFG, 8, 0, t0);
    for (int n = 0; n < HPET_TIMERS; n++) {
        uint64_t c = hpet_read(&h, HPET_Tn_CFG(n), 8, t0);
        CHECK((c & HPET_TN_INT_ENB) == 0 && (c >> 32) == 0x00f00000 && (c & (1 << 5)));
        CHECK(!!(c & (1 << 4)) == (n == 0));                      /* periodic-capable: timer 0 */
        hpet_write(&h, HPET_Tn_CFG(n), 8, c & ~HPET_TN_INT_ENB, t0);
    }
    hpet_write(&h, HPET_CFG, 8, 3, t0);
    CHECK(hpet_read(&h, HPET_CFG, 8, t0) == 3);
    /* 10 ms of TSC at 5 MHz is 1,000,000 ticks of 10 ns. */
    CHECK(hpet_read(&h, HPET_COUNTER, 8, t0 + 50000) == 1000000);
    CHECK(hpet_read(&h, HPET_COUNTER, 8, t0 + 1) == 20);
    hpet_write(&h, HPET_CFG, 8, 2, t0 + 50000);                   /* stop: frozen */
    CHECK(hpet_read(&h, HPET_COUNTER, 8, t0 + 90000) == 1000000);
    hpet_write(&h, HPET_CFG, 4, 3, t0 + 100000);                  /* restart, 32-bit write */
    CHECK(hpet_read(&h, HPET_COUNTER, 8, t0 + 100005) == 1000100);
    hpet_write(&h, HPET_COUNTER + 4, 4, 7, t0 + 100005);          /* high half only */
    CHECK(hpet_read(&h, HPET_COUNTER, 8, t0 + 100005) == (7ull << 32 | 1000100));
    CHECK(hpet_read(&h, HPET_COUNTER + 4, 4, t0 + 100006) == 7);

    /* Timer registers: read-only bits stay; TYPE only on timer 0; VAL_SET reads 0; no FSB. */
    hpet_write(&h, HPET_Tn_CFG(1), 8, ~0ull, 0);
    uint64_t c1 = hpet_read(&h, HPET_Tn_CFG(1), 8, 0);
    CHECK(c1 == ((0x00f00000ull << 32) | 0x3f26) && h.interrupt_enables == 1);
    hpet_write(&h, HPET_Tn_CFG(0), 8, 0x48, 0);
    CHECK(hpet_read(&h, HPET_Tn_CFG(0), 8, 0) == ((0x00f00000ull << 32) | 0x38));
    hpet_write(&h, HPET_Tn_CMP(2), 8, 0x123456789ull, 0);
    CHECK(hpet_read(&h, HPET_Tn_CMP(2), 8, 0) == 0x123456789ull);
    hpet_write(&h, HPET_Tn_CFG(2), 8, 1 << 8, 0);                 /* 32-bit mode */
    CHECK(hpet_read(&h, HPET_Tn_CMP(2), 8, 0) == 0x23456789ull);
    hpet_write(&h, HPET_Tn_CFG(2) + 4, 4, 0, 0);                  /* high half: read-only bits */
    CHECK(hpet_read(&h, HPET_Tn_CFG(2), 8, 0) >> 32 == 0x00f00000);
    h.status = 5;
    hpet_write(&h, HPET_STATUS, 8, 4, 0);
    CHECK(hpet_read(&h, HPET_STATUS, 8, 0) == 1);
    /* Undefined accesses: other sizes, misaligned, no register. */
    CHECK(hpet_read(&h, HPET_ID, 2, 0) == 0 && hpet_read(&h, HPET_ID + 4, 8, 0) == 0);
    CHECK(hpet_read(&h, 0x400, 4, 0) == 0 && hpet_read(&h, 0x0a0, 8, 0) == 0);
    hpet_write(&h, HPET_CFG, 1, 0, 0);
    CHECK(hpet_read(&h, HPET_CFG, 8, 0) == 3 && h.odd_accesses == 2);
}

int main(void)
{
    test_modes();
    test_nimbos_sequence();
    test_timer_modes();
    test_priorities_and_errors();
    test_hpet();
    return CHECK_DONE();
}
