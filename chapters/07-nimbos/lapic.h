/* lapic.h: a local APIC as a plain state machine, one register file seen two ways: xAPIC MMIO
 * offsets and x2APIC MSRs; timer (one-shot, periodic) on the shared clock; IRR/ISR with EOI. */
#ifndef CH07_LAPIC_H
#define CH07_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "vclock.h"

/* Register offsets in the xAPIC page (SDM Vol. 3A, Table 10-1; Linux apicdef.h names).
 * In x2APIC mode register offset o is MSR 0x800 + o / 16 (10.12.1.2, Table 10-6). */
#define APIC_ID        0x020
#define APIC_LVR       0x030
#define APIC_TASKPRI   0x080
#define APIC_ARBPRI    0x090
#define APIC_PROCPRI   0x0a0
#define APIC_EOI       0x0b0
#define APIC_RRR       0x0c0
#define APIC_LDR       0x0d0
#define APIC_DFR       0x0e0
#define APIC_SPIV      0x0f0
#define APIC_ISR       0x100
#define APIC_TMR       0x180
#define APIC_IRR       0x200
#define APIC_ESR       0x280
#define APIC_ICR       0x300
#define APIC_ICR2      0x310
#define APIC_LVTT      0x320
#define APIC_LVTTHMR   0x330
#define APIC_LVTPC     0x340
#define APIC_LVT0      0x350
#define APIC_LVT1      0x360
#define APIC_LVTERR    0x370
#define APIC_TMICT     0x380
#define APIC_TMCCT     0x390
#define APIC_TDCR      0x3e0
#define APIC_SELF_IPI  0x3f0      /* x2APIC only */

#define APIC_X2APIC_MSR_FIRST 0x800
#define APIC_X2APIC_MSR_LAST  0x8ff
#define APIC_DEFAULT_BASE     0xfee00000ull
#define APIC_BASE_BSP         (1ull << 8)
#define APIC_BASE_EXTD        (1ull << 10)     /* x2APIC mode */
#define APIC_BASE_ENABLE      (1ull << 11)
#define APIC_LVT_MASKED       (1u << 16)
#define APIC_LVT_TIMER_PERIODIC (1u << 17)
#define APIC_SPIV_ENABLED     (1u << 8)
#define APIC_VERSION          0x00050014u      /* version 0x14, six LVT entries (max index 5) */
#define APIC_LVTS             6                /* timer, thermal, perf, LINT0, LINT1, error */

/* Results of an access: a #GP for the guest (what the CPU would do), or something this
 * model cannot do (the VM stops with a report rather than pretend). */
#define LAPIC_OK          0
#define LAPIC_GP         (-1)
#define LAPIC_UNSUPPORTED (-2)

enum lapic_mode { LAPIC_DISABLED, LAPIC_XAPIC, LAPIC_X2APIC };

struct lapic {
    const struct vclock *clock;
    uint64_t timer_hz;           /* the timer's input clock before the divider */
    bool x2apic_allowed;         /* CPUID.1:ECX[21] as the guest sees it */
    unsigned phys_bits;          /* MAXPHYADDR: IA32_APIC_BASE bits above are reserved */
    uint64_t base;               /* IA32_APIC_BASE */
    uint32_t tpr, ldr, dfr, svr;
    uint32_t esr, esr_pending;   /* ESR as last latched; errors since (10.5.3) */
    uint32_t lvt[APIC_LVTS];
    uint32_t icr_lo, icr_hi;
    uint32_t irr[8], isr[8], tmr[8];
    unsigned irr_count;          /* bits set in irr: "nothing pending" without a scan */
    /* timer (10.5.4): counting down from count0 since TSC value start, deadline the next 0 */
    uint32_t tmict, tdcr, count0;
    uint64_t start, deadline, period_tsc;
    uint64_t timer_irqs, timer_arms, accepted, eois, ipis, ignored_ipis, msr_accesses, mmio_accesses;
};

/* Power-on state in xAPIC mode at 0xFEE00000 (BSP, enabled), as firmware leaves it. */
void lapic_init(struct lapic *a, const struct vclock *clock, uint64_t timer_hz, bool x2apic_allowed);
enum lapic_mode lapic_mode(const struct lapic *a);

/* IA32_APIC_BASE: the mode changes of 10.12.5 (Figure 10-27); invalid ones are #GP. */
int lapic_set_base(struct lapic *a, uint64_t value, uint64_t now);

/* xAPIC: a 32-bit access at offset (0-0xfff) in the APIC page. Other widths or
 * offsets inside a 16-byte slot are undefined on hardware: reads give 0, writes vanish. */
uint32_t lapic_mmio_read(struct lapic *a, uint32_t offset, uint64_t now);
void lapic_mmio_write(struct lapic *a, uint32_t offset, uint32_t value, uint64_t now);

/* x2APIC: RDMSR/WRMSR of 0x800-0x8ff. LAPIC_GP where 10.12.1.2 says #GP. */
int lapic_msr_read(struct lapic *a, uint32_t msr, uint64_t now, uint64_t *value);
int lapic_msr_write(struct lapic *a, uint32_t msr, uint64_t value, uint64_t now);

/* Interrupts: a local vector raised (timer, error, self-IPI); the highest one the
 * processor priority lets through (-1: none); the CPU taking it (IRR -> ISR). */
void lapic_raise(struct lapic *a, uint8_t vector);
int lapic_pending(const struct lapic *a);
void lapic_accept(struct lapic *a, int vector);

/* Timer: bring it up to time now (raising its vector for an expiry), and the TSC value
 * of its next expiry (0: none). lapic_timer.c. */
void lapic_timer_advance(struct lapic *a, uint64_t now);
static inline uint64_t lapic_next_deadline(const struct lapic *a) { return a->deadline; }

/* Internal to lapic.c and lapic_timer.c. */
void lapic_timer_reset(struct lapic *a);
uint32_t lapic_timer_current(struct lapic *a, uint64_t now);
void lapic_timer_write(struct lapic *a, uint32_t reg, uint32_t value, uint64_t now);

#endif
