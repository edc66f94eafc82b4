/* timer.c: time, as NimbOS keeps it: the HPET calibrates the TSC and the local APIC
 * timer at boot; then RDTSC is the clock and the LAPIC timer, one-shot, the alarm. */
#include "kernel.h"

/*
 * Local APIC (SDM Vol. 3A, chapter 10): through MSRs 0x800 + offset/16 in x2APIC
 * mode (10.12), through MMIO at IA32_APIC_BASE otherwise. CPUID.1:ECX[21] decides.
 */
#define LAPIC_EOI       0x0B0
#define LAPIC_SVR       0x0F0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_ICR 0x380        /* initial count */
#define LAPIC_TIMER_CCR 0x390        /* current count */
#define LAPIC_TIMER_DCR 0x3E0        /* divide configuration */
#define LVT_MASKED      (1u << 16)
#define APIC_BASE_EN    (1ul << 11)
#define APIC_BASE_EXTD  (1ul << 10)  /* x2APIC mode */

/* HPET (IA-PC HPET specification 1.0a, 2.3): 64-bit registers at 0xFED00000. */
#define HPET_PA         0xFED00000ul
#define HPET_CAP        0x000
#define HPET_CONFIG     0x010
#define HPET_COUNTER    0x0F0
#define HPET_TIMER_CFG(n) (0x100 + 0x20 * (n))
#define HPET_CAP_LEGACY (1ul << 15)
#define HPET_CAP_64BIT  (1ul << 13)
#define HPET_TN_INT_ENB (1ul << 2)

#define CALIBRATE_ROUNDS 5
#define CALIBRATE_MS     10

u64 tsc_hz;
static u64 tsc_khz, lapic_khz, hpet_hz;
static int x2apic, hpet_64bit;
static u64 lapic_pa;

static u32 lapic_read(u32 reg)
{
    return x2apic ? (u32)rdmsr(0x800 + (reg >> 4)) : mmio_read32(lapic_pa + reg);
}

static void lapic_write(u32 reg, u32 v)
{
    if (x2apic)
        wrmsr(0x800 + (reg >> 4), v);
    else
        mmio_write32(lapic_pa + reg, v);
}

void lapic_eoi(void)
{
    lapic_write(LAPIC_EOI, 0);
}

static void lapic_init(void)
{
    x2apic = cpu_has_x2apic();
    u64 base = rdmsr(MSR_APIC_BASE);
    lapic_pa = base & 0xFFFFFF000ul;
    if (lapic_pa >= (4ul << 30))
        panic("LAPIC at 0x%lx, outside the 4 GiB tinyos maps", lapic_pa);
    /* x2APIC is entered from xAPIC mode by setting EXTD with EN (SDM 3A, 10.12.1). */
    wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN | (x2apic ? APIC_BASE_EXTD : 0));
    if (x2apic)
        kprintf("LAPIC: x2APIC mode (MSRs)\n");
    else
        kprintf("LAPIC: xAPIC mode at 0x%lx\n", lapic_pa);

    lapic_write(LAPIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);
    lapic_write(LAPIC_LVT_LINT0, LVT_MASKED);      /* the PICs are masked: nothing comes here */
    lapic_write(LAPIC_LVT_LINT1, LVT_MASKED);
    lapic_write(LAPIC_LVT_ERROR, VEC_ERROR);
    lapic_write(LAPIC_SVR, VEC_SPURIOUS);          /* spurious vector first, */
    lapic_write(LAPIC_SVR, 0x100 | VEC_SPURIOUS);  /* then software-enable the APIC */
    lapic_write(LAPIC_TIMER_DCR, 0xB);             /* divide by 1 */
}

static void hpet_init(void)
{
    u64 cap = mmio_read64(HPET_PA + HPET_CAP);
    u64 period_fs = cap >> 32;
    if (!(cap & HPET_CAP_LEGACY) || period_fs == 0 || period_fs > 100000000)
        panic("HPET: capabilities 0x%lx: no LegacyReplacement route or a bad period", cap);
    hpet_hz = 1000000000000000ul / period_fs;
    hpet_64bit = (cap & HPET_CAP_64BIT) != 0;
    int timers = (int)((cap >> 8) & 0x1F) + 1;
    kprintf("HPET: %lu.%06lu MHz, %s, %d timers\n", hpet_hz / 1000000, hpet_hz % 1000000,
            hpet_64bit ? "64-bit" : "32-bit", timers);

    /* Stop, keep every comparator quiet (tinyos never takes an HPET interrupt),
     * then run the main counter with the legacy route on, as NimbOS does. */
    mmio_write64(HPET_PA + HPET_CONFIG, 0);
    for (int n = 0; n < timers; n++) {
        u64 cfg = mmio_read64(HPET_PA + HPET_TIMER_CFG(n));
        mmio_write64(HPET_PA + HPET_TIMER_CFG(n), cfg & ~HPET_TN_INT_ENB);
    }
    mmio_write64(HPET_PA + HPET_CONFIG, 3);        /* ENABLE_CNF | LEG_RT_CNF */
}

static u64 hpet_now(void)
{
    u64 v = mmio_read64(HPET_PA + HPET_COUNTER);
    return hpet_64bit ? v : (u32)v;
}

/* Count TSC cycles and LAPIC timer ticks over CALIBRATE_ROUNDS x 10 ms of HPET time. */
static void calibrate(void)
{
    u64 tsc = 0, lapic = 0, hpet = 0, wait = hpet_hz * CALIBRATE_MS / 1000;
    for (int i = 0; i < CALIBRATE_ROUNDS; i++) {
        u64 h0 = hpet_now(), h1;
        u64 t0 = rdtsc();
        lapic_write(LAPIC_TIMER_ICR, 0xFFFFFFFF);  /* masked one-shot: only counts down */
        do
            h1 = hpet_now();
        while ((hpet_64bit ? h1 - h0 : (u32)(h1 - h0)) < wait);
        u64 t1 = rdtsc();
        u32 left = lapic_read(LAPIC_TIMER_CCR);
        tsc += t1 - t0;
        hpet += hpet_64bit ? h1 - h0 : (u32)(h1 - h0);
        lapic += 0xFFFFFFFFu - left;
    }
    lapic_write(LAPIC_TIMER_ICR, 0);
    lapic_khz = lapic * (hpet_hz / 1000) / hpet;
    if (!tsc_khz)
        tsc_khz = tsc * (hpet_hz / 1000) / hpet;
    if (!tsc_khz || !lapic_khz)
        panic("calibration: TSC %lu kHz, LAPIC timer %lu kHz", tsc_khz, lapic_khz);
    tsc_hz = tsc_khz * 1000;
}

void timer_init(void)
{
    lapic_init();
    hpet_init();
    /* CPUID leaf 0x16 (if present and non-zero) states the TSC rate in MHz. */
    u32 r[4];
    cpuid(0, r);
    if (r[0] >= 0x16) {
        cpuid(0x16, r);
        tsc_khz = (u64)r[0] * 1000;
    }
    calibrate();
    kprintf("Calibrated TSC frequency: %lu.%03lu MHz\n", tsc_khz / 1000, tsc_khz % 1000);
    kprintf("Calibrated LAPIC frequency: %lu.%03lu MHz\n", lapic_khz / 1000, lapic_khz % 1000);
}

/* One-shot alarm at a TSC deadline; the tick (task.c) re-arms it every time. */
void timer_arm(u64 deadline)
{
    u64 now = rdtsc();
    u64 delta = deadline > now ? deadline - now : 0;
    if (delta > tsc_hz / 10)                        /* keeps delta * lapic_khz in 64 bits */
        delta = tsc_hz / 10;
    u64 count = delta * lapic_khz / tsc_khz;
    lapic_write(LAPIC_LVT_TIMER, VEC_TIMER);        /* one-shot, unmasked */
    lapic_write(LAPIC_TIMER_ICR, count ? (u32)count : 1);
}

u64 tsc_to_us(u64 tsc)
{
    return tsc / tsc_khz * 1000 + tsc % tsc_khz * 1000 / tsc_khz;
}

u64 us_to_tsc(u64 us)
{
    return us * tsc_khz / 1000;
}
