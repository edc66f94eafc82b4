/* lapic.c: the local APIC's registers (SDM Vol. 3A, chapter 10): IA32_APIC_BASE and the mode
 * changes, one register file behind the xAPIC page and the x2APIC MSRs, priorities, EOI, IPIs. */
#include "lapic.h"

#include "lib.h"

#define LVT_ERROR 5
#define ESR_RECV_ILLEGAL_VECTOR (1u << 6)
#define SPIV_WRITABLE 0x3ffu     /* vector, APIC enable, focus checking */

/* Which bits of each LVT entry software may write (Figure 10-8): the rest read as 0. */
static const uint32_t lvt_writable[APIC_LVTS] = {
    0x300ff,                     /* timer: vector, mask, mode (no TSC-deadline: not offered) */
    0x107ff,                     /* thermal: vector, delivery mode, mask */
    0x107ff,                     /* performance counters */
    0x1a7ff,                     /* LINT0: vector, delivery mode, polarity, trigger, mask */
    0x1a7ff,                     /* LINT1 */
    0x100ff,                     /* error: vector, mask */
};

/* The power-up state of 10.4.7.1: everything 0 but LVTs masked, SVR 0xFF, DFR all ones. */
static void reset_registers(struct lapic *a)
{
    a->tpr = a->ldr = a->esr = a->esr_pending = a->icr_lo = a->icr_hi = 0;
    a->dfr = 0xffffffffu;
    a->svr = 0xff;
    for (int i = 0; i < APIC_LVTS; i++)
        a->lvt[i] = APIC_LVT_MASKED;
    memset(a->irr, 0, sizeof(a->irr));
    memset(a->isr, 0, sizeof(a->isr));
    memset(a->tmr, 0, sizeof(a->tmr));
    a->irr_count = 0;
    lapic_timer_reset(a);
}

void lapic_init(struct lapic *a, const struct vclock *clock, uint64_t timer_hz, bool x2apic_allowed)
{
    *a = (struct lapic){.clock = clock, .timer_hz = timer_hz, .x2apic_allowed = x2apic_allowed};
    a->base = APIC_DEFAULT_BASE | APIC_BASE_BSP | APIC_BASE_ENABLE;
    a->phys_bits = 36;
    reset_registers(a);
}

enum lapic_mode lapic_mode(const struct lapic *a)
{
    if (!(a->base & APIC_BASE_ENABLE))
        return LAPIC_DISABLED;
    return (a->base & APIC_BASE_EXTD) ? LAPIC_X2APIC : LAPIC_XAPIC;
}

/*
 * IA32_APIC_BASE (10.4.4, 10.12.5): EN and EXTD select disabled, xAPIC or x2APIC. From
 * x2APIC the only way out is disabled; from disabled the only way in is xAPIC; EXTD
 * without EN, or EXTD on a CPU without x2APIC (a reserved bit then), is #GP. Disabling
 * resets the APIC. Moving the page elsewhere is allowed on hardware but not emulated.
 */
int lapic_set_base(struct lapic *a, uint64_t value, uint64_t now)
{
    (void)now;
    uint64_t reserved = 0xff | (1ull << 9) | ~((1ull << a->phys_bits) - 1);
    bool en = value & APIC_BASE_ENABLE, extd = value & APIC_BASE_EXTD;
    if (!a->x2apic_allowed)
        reserved |= APIC_BASE_EXTD;
    if ((value & reserved) || (extd && !en))
        return LAPIC_GP;
    enum lapic_mode from = lapic_mode(a), to = !en ? LAPIC_DISABLED : extd ? LAPIC_X2APIC : LAPIC_XAPIC;
    if ((from == LAPIC_X2APIC && to == LAPIC_XAPIC) || (from == LAPIC_DISABLED && to == LAPIC_X2APIC))
        return LAPIC_GP;
    if ((value & ~0xfffull) != APIC_DEFAULT_BASE)
        return LAPIC_UNSUPPORTED;
    if (to == LAPIC_DISABLED && from != LAPIC_DISABLED)
        reset_registers(a);
    a->base = (value & ~APIC_BASE_BSP) | APIC_BASE_BSP;        /* this is the only CPU */
    if (to == LAPIC_X2APIC)
        a->ldr = 1;                      /* logical x2APIC ID of APIC 0: cluster 0, bit 0 */
    return LAPIC_OK;
}

/* ---- interrupts: IRR, ISR, priorities (10.8) ---- */

static int highest(const uint32_t *bits)
{
    for (int w = 7; w >= 0; w--)
        if (bits[w])
            return w * 32 + 31 - __builtin_clz(bits[w]);
    return -1;
}

static void set_error(struct lapic *a, uint32_t bit)
{
    a->esr_pending |= bit;
    uint32_t lvt = a->lvt[LVT_ERROR];
    if (!(lvt & APIC_LVT_MASKED) && (lvt & 0xff) >= 16)
        lapic_raise(a, (uint8_t)lvt);
}

/* Vectors 0-15 are illegal for APIC interrupts: they set an error instead (10.5.3). */
void lapic_raise(struct lapic *a, uint8_t vector)
{
    if (vector < 16) {
        set_error(a, ESR_RECV_ILLEGAL_VECTOR);
        return;
    }
    uint32_t bit = 1u << (vector & 31);
    if (!(a->irr[vector >> 5] & bit)) {
        a->irr[vector >> 5] |= bit;
        a->irr_count++;
    }
}

/* PPR = TPR if its class is at least the highest in-service class, else that class. */
static uint32_t processor_priority(const struct lapic *a)
{
    int isrv = highest(a->isr);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
    return (a->tpr & 0xf0) >= isr_class ? a->tpr & 0xff : isr_class;
}

int lapic_pending(const struct lapic *a)
{
    if (!a->irr_count || lapic_mode(a) == LAPIC_DISABLED || !(a->svr & APIC_SPIV_ENABLED))
        return -1;
    int v = highest(a->irr);
    return ((uint32_t)v & 0xf0) > (processor_priority(a) & 0xf0) ? v : -1;
}

void lapic_accept(struct lapic *a, int vector)
{
    uint32_t bit = 1u << (vector & 31);
    if (vector < 16 || vector > 255 || !(a->irr[vector >> 5] & bit))
        return;
    a->irr[vector >> 5] &= ~bit;
    a->irr_count--;
    a->isr[vector >> 5] |= bit;
    a->accepted++;
}

static void eoi(struct lapic *a)
{
    int v = highest(a->isr);
    if (v >= 0)
        a->isr[v >> 5] &= ~(1u << (v & 31));
    a->eois++;
}

/* An IPI (10.6): only "fixed" ones that reach this CPU have an effect; there is no other. */
static void send_ipi(struct lapic *a, uint32_t lo, uint32_t dest, bool x2apic)
{
    uint32_t shorthand = (lo >> 18) & 3, mode = (lo >> 8) & 7;
    bool to_self = shorthand == 1 || shorthand == 2 ||
                   (shorthand == 0 && (dest == 0 || dest == (x2apic ? 0xffffffffu : 0xffu)));
    a->ipis++;
    if (mode == 0 && to_self)
        lapic_raise(a, (uint8_t)lo);
    else
        a->ignored_ipis++;
}

/* ---- the register file ---- */

static int lvt_index(uint32_t reg)
{
    return reg >= APIC_LVTT && reg <= APIC_LVTERR ? (int)(reg - APIC_LVTT) / 16 : -1;
}

/* Read register reg; false if there is none at that offset (in this mode). */
static bool read_reg(struct lapic *a, uint32_t reg, uint64_t now, uint32_t *v, bool x2)
{
    int lvt = lvt_index(reg);
    if (lvt >= 0) {
        *v = a->lvt[lvt];
        return true;
    }
    if (reg >= APIC_ISR && reg < APIC_ISR + 0x180) {
        const uint32_t *bank = reg < APIC_TMR ? a->isr : reg < APIC_IRR ? a->tmr : a->irr;
        *v = bank[(reg & 0x7f) >> 4];
        return true;
    }
    switch (reg) {
    case APIC_ID:       *v = 0; return true;     /* APIC ID 0 (xAPIC: bits 31:24) */
    case APIC_LVR:      *v = APIC_VERSION; return true;
    case APIC_TASKPRI:  *v = a->tpr; return true;
    case APIC_ARBPRI:   *v = 0; return !x2;
    case APIC_PROCPRI:  *v = processor_priority(a); return true;
    case APIC_RRR:      *v = 0; return !x2;
    case APIC_LDR:      *v = a->ldr; return true;
    case APIC_DFR:      *v = a->dfr; return !x2;
    case APIC_SPIV:     *v = a->svr; return true;
    case APIC_ESR:      *v = a->esr; return true;
    case APIC_ICR:      *v = a->icr_lo; return true;
    case APIC_ICR2:     *v = a->icr_hi; return !x2;
    case APIC_TMICT:    *v = a->tmict; return true;
    case APIC_TMCCT:    *v = lapic_timer_current(a, now); return true;
    case APIC_TDCR:     *v = a->tdcr; return true;
    default:            return false;            /* EOI and SELF IPI are write-only */
    }
}

/* Write register reg; false if it cannot be written (in this mode). */
static bool write_reg(struct lapic *a, uint32_t reg, uint32_t v, uint64_t now, bool x2)
{
    int lvt = lvt_index(reg);
    if (lvt >= 0) {
        if (lvt == 0)
            lapic_timer_advance(a, now);         /* expiries so far use the old entry */
        v &= lvt_writable[lvt];
        if (!(a->svr & APIC_SPIV_ENABLED))
            v |= APIC_LVT_MASKED;                /* software-disabled: masks stay set (10.4.7.2) */
        a->lvt[lvt] = v;
        return true;
    }
    switch (reg) {
    case APIC_TASKPRI:  a->tpr = v & 0xff; return true;
    case APIC_EOI:      eoi(a); return true;
    case APIC_LDR:      a->ldr = v & 0xff000000u; return !x2;
    case APIC_DFR:      a->dfr = v | 0x0fffffffu; return !x2;
    case APIC_ESR:                               /* a write latches the errors since the last */
        a->esr = a->esr_pending;
        a->esr_pending = 0;
        return true;
    case APIC_SPIV:
        a->svr = v & SPIV_WRITABLE;
        if (!(v & APIC_SPIV_ENABLED))
            for (int i = 0; i < APIC_LVTS; i++)
                a->lvt[i] |= APIC_LVT_MASKED;
        return true;
    case APIC_ICR:
        a->icr_lo = v & ~(1u << 12);             /* delivery status: always idle */
        if (!x2)
            send_ipi(a, a->icr_lo, a->icr_hi >> 24, false);
        return true;
    case APIC_ICR2:     a->icr_hi = v & 0xff000000u; return !x2;
    case APIC_TMICT:
    case APIC_TDCR:     lapic_timer_write(a, reg, v, now); return true;
    case APIC_SELF_IPI:
        if (x2)
            lapic_raise(a, (uint8_t)v);
        return x2;
    default:            return false;            /* ID, version, PPR, ISR/TMR/IRR, CCR: read-only */
    }
}

uint32_t lapic_mmio_read(struct lapic *a, uint32_t offset, uint64_t now)
{
    uint32_t v = 0;
    a->mmio_accesses++;
    if (lapic_mode(a) != LAPIC_XAPIC || (offset & 0xf) || !read_reg(a, offset, now, &v, false))
        return 0;
    return offset == APIC_ID ? v << 24 : v;
}

void lapic_mmio_write(struct lapic *a, uint32_t offset, uint32_t value, uint64_t now)
{
    a->mmio_accesses++;
    if (lapic_mode(a) == LAPIC_XAPIC && !(offset & 0xf))
        write_reg(a, offset, value, now, false);
}

/*
 * x2APIC (10.12.1.2): MSR 0x800 + n is register n * 16. #GP for a register that does not
 * exist in x2APIC mode, a read of a write-only or write of a read-only one, and when the
 * APIC is not in x2APIC mode. The ICR is one 64-bit MSR (destination in bits 63:32);
 * EOI and SELF IPI take only their defined bits.
 */
int lapic_msr_read(struct lapic *a, uint32_t msr, uint64_t now, uint64_t *value)
{
    uint32_t v;
    a->msr_accesses++;
    if (lapic_mode(a) != LAPIC_X2APIC || msr < APIC_X2APIC_MSR_FIRST || msr > APIC_X2APIC_MSR_LAST)
        return LAPIC_GP;
    uint32_t reg = (msr - APIC_X2APIC_MSR_FIRST) << 4;
    if (!read_reg(a, reg, now, &v, true))
        return LAPIC_GP;
    *value = reg == APIC_ICR ? (uint64_t)a->icr_hi << 32 | v : v;
    return LAPIC_OK;
}

int lapic_msr_write(struct lapic *a, uint32_t msr, uint64_t value, uint64_t now)
{
    a->msr_accesses++;
    if (lapic_mode(a) != LAPIC_X2APIC || msr < APIC_X2APIC_MSR_FIRST || msr > APIC_X2APIC_MSR_LAST)
        return LAPIC_GP;
    uint32_t reg = (msr - APIC_X2APIC_MSR_FIRST) << 4;
    if (reg == APIC_ICR) {
        a->icr_hi = (uint32_t)(value >> 32);
        a->icr_lo = (uint32_t)value & ~(1u << 12);
        send_ipi(a, a->icr_lo, a->icr_hi, true);
        return LAPIC_OK;
    }
    if (value >> 32 || ((reg == APIC_EOI || reg == APIC_ESR) && value) ||
        (reg == APIC_SELF_IPI && value > 0xff))
        return LAPIC_GP;
    return write_reg(a, reg, (uint32_t)value, now, true) ? LAPIC_OK : LAPIC_GP;
}
