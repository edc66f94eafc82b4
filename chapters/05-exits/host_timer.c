/* host_timer.c: the host's periodic LAPIC timer (SDM Vol. 3A, 10.5.4), calibrated against the
 * TSC, and the end-of-interrupt for ticks that arrive through VM exits or in host_idle(). */
#include "host_timer.h"

#include "kernel.h"
#include "mm.h"
#include "trap.h"

/* xAPIC registers, offsets from the APIC base (SDM Vol. 3A, Table 10-1). */
#define LAPIC_EOI        0x0b0
#define LAPIC_SVR        0x0f0
#define LAPIC_LVT_TIMER  0x320
#define LAPIC_TIMER_ICR  0x380
#define LAPIC_TIMER_CCR  0x390
#define LAPIC_TIMER_DCR  0x3e0
#define LVT_MASKED       (1u << 16)
#define LVT_PERIODIC     (1u << 17)
#define SVR_ENABLE       (1u << 8)
#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_X2APIC (1ull << 10)
#define CALIBRATION_TSC  20000

static struct host_timer_info ht;

static uint32_t lapic_read(uint32_t reg)
{
    return *(volatile uint32_t *)phys_to_virt(ht.lapic_base + reg);
}

static void lapic_write(uint32_t reg, uint32_t value)
{
    *(volatile uint32_t *)phys_to_virt(ht.lapic_base + reg) = value;
}

const struct host_timer_info *host_timer(void)
{
    return &ht;
}

bool host_timer_interrupt(uint8_t vector)
{
    if (vector == HOST_SPURIOUS_VECTOR)
        return false;                    /* spurious: no EOI (10.9) */
    lapic_write(LAPIC_EOI, 0);
    if (vector != HOST_TIMER_VECTOR)
        return false;
    ht.ticks++;
    return true;
}

static void tick_in_host(struct trap_frame *f)
{
    host_timer_interrupt((uint8_t)f->vector);
}

void host_idle(void)
{
    asm volatile("sti; hlt; cli" ::: "memory");
}

/* LAPIC timer counts per 1000 TSC ticks, measured with a masked one-shot countdown. */
static uint64_t calibrate(void)
{
    lapic_write(LAPIC_TIMER_DCR, 0xb);                     /* divide by 1 */
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | HOST_TIMER_VECTOR);
    lapic_write(LAPIC_TIMER_ICR, 0xffffffffu);
    uint64_t t0 = rdtsc(), t1;
    while ((t1 = rdtsc()) - t0 < CALIBRATION_TSC)
        cpu_relax();
    uint32_t counted = 0xffffffffu - lapic_read(LAPIC_TIMER_CCR);
    lapic_write(LAPIC_TIMER_ICR, 0);
    return (uint64_t)counted * 1000 / (t1 - t0);
}

bool host_timer_start(uint64_t period_tsc)
{
    uint64_t base;
    if (!(cpuid(1, 0).edx & (1u << 9)) || rdmsr_safe(MSR_IA32_APICBASE, &base) != NO_FAULT)
        return false;                    /* no local APIC */
    if (base & APIC_BASE_X2APIC)
        return false;                    /* the registers are MSRs then; we use xAPIC MMIO */
    if (!(base & APIC_BASE_ENABLE))
        wrmsr(MSR_IA32_APICBASE, base | APIC_BASE_ENABLE);
    ht.lapic_base = base & 0xffffff000ull;
    /* The 8259 PICs stay masked: the only host interrupt is this timer. */
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    trap_register(HOST_TIMER_VECTOR, tick_in_host);
    trap_register(HOST_SPURIOUS_VECTOR, tick_in_host);
    lapic_write(LAPIC_SVR, SVR_ENABLE | HOST_SPURIOUS_VECTOR);
    ht.lapic_per_1k_tsc = calibrate();
    uint64_t count = period_tsc * ht.lapic_per_1k_tsc / 1000;
    ht.initial_count = count == 0 ? 1 : count > 0xffffffffu ? 0xffffffffu : (uint32_t)count;
    ht.period_tsc = period_tsc;
    lapic_write(LAPIC_LVT_TIMER, LVT_PERIODIC | HOST_TIMER_VECTOR);
    lapic_write(LAPIC_TIMER_ICR, ht.initial_count);
    ht.running = true;
    return true;
}

void host_timer_stop(void)
{
    if (!ht.running)
        return;
    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | HOST_TIMER_VECTOR);
    lapic_write(LAPIC_TIMER_ICR, 0);
    ht.running = false;
}
