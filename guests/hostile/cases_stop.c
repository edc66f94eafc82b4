/* cases_stop.c: the hostile cases that must end their VM (the outcome is the hypervisor's report),
 * and the randomized guest that mixes every hostile operation for a seeded number of steps. */
#include "hrt.h"

#define RAM_END ((uint64_t)GUEST_RAM_MB << 20)

/* Each reports "before" = 1, does its deed, and reports "after" = 1 if it is still running:
 * the test wants the first and never the second. */
int case_stops(int which)
{
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idt = {0, 0};
    uint64_t p = LAPIC_PAGE, c = 16;
    report("before", 1);
    switch (which) {
    case CASE_TRIPLE:                    /* an injected #GP with no IDT: #GP, #DF, shutdown */
        asm volatile("lidt %0; rdmsr" :: "m"(idt), "c"(0x3a) : "rax", "rdx", "memory");
        break;
    case CASE_INVD:                      /* exits unconditionally (SDM Vol. 3C, 25.1.2) */
        asm volatile("invd" ::: "memory");
        break;
    case CASE_APIC_MOVE:                 /* legal on a CPU, not emulated here */
        grt_wrmsr(0x1b, 0xfec00000ull | (1u << 11) | (1u << 8));
        break;
    case CASE_CLI_HLT:
        asm volatile("cli; hlt" ::: "memory");
        break;
    case CASE_STI_HLT:                   /* no timer armed: nothing will ever wake it */
        asm volatile("sti; hlt; cli" ::: "memory");
        break;
    case CASE_STRING_MMIO:               /* INS into the local APIC's page */
        asm volatile("rep insb" : "+D"(p), "+c"(c) : "d"(0x80) : "memory");
        break;
    case CASE_PHYS_ALU:                  /* OR on an address without RAM: not a MOV */
        asm volatile("orl $1, (%0)" :: "r"(RAM_END + 0x1000) : "memory", "cc");
        break;
    case CASE_MMIO_ADD:                  /* ADD on a device register: neither decoder's */
        asm volatile("addl $1, (%0)" :: "r"(HPET_PAGE + 0x108) : "memory", "cc");
        break;
    case CASE_IDT_MMIO:                  /* delivering #UD reads the IDT from a device page */
        idt.base = HPET_PAGE, idt.limit = 0xfff;
        asm volatile("lidt %0; ud2" :: "m"(idt) : "memory");
        break;
    case CASE_HLT_FAR:                   /* one-shot, the longest count, divide by 128 */
        apic_enable();
        apic_write(0x3e0, 0xa);
        apic_write(0x320, 0x40);
        apic_write(0x380, 0xffffffffu);
        asm volatile("sti; hlt; cli" ::: "memory");
        break;
    case CASE_SPIN:                      /* no exit ever: only the host's watchdog ends it */
        for (volatile uint64_t n = 0;; n++)
            ;
    }
    report("after", 1);
    return 0;
}

/* ---- the randomized guest ---- */

static uint8_t sbuf[4096] __attribute__((aligned(4096)));

static void random_string_op(uint64_t r)
{
    uint64_t p = (uint64_t)sbuf + ((r >> 8) & 0x3ff), c = (r >> 20) & 0x3ff;
    if (r & 1)
        asm volatile("rep insb" : "+D"(p), "+c"(c) : "d"(0x80) : "memory");
    else
        asm volatile("rep outsb" : "+S"(p), "+c"(c) : "d"(0x80) : "memory");
    if (c != 0)
        mismatch("REP INS/OUTS left a count", c);
}

static void random_device_op(uint64_t r)
{
    static const unsigned writable[] = {0x80, 0xb0, 0x280, 0x320, 0x350, 0x360, 0x370, 0x380, 0x3e0};
    volatile uint8_t *page = (volatile uint8_t *)(r & 1 ? HPET_PAGE : LAPIC_PAGE);
    unsigned size = 1u << ((r >> 1) & 3), off = (unsigned)(r >> 8) & 0xfff;
    uint64_t v;
    if ((r >> 3) & 1 && !(r & 1))
        try_write(page + writable[(r >> 24) % 9], 4, r >> 32);
    else if (try_read(page + off, size, &v) != NO_FAULT)
        mismatch("device read faulted", off);
}

static void random_misc_op(uint64_t r)
{
    uint64_t v;
    switch (r % 5) {
    case 0:
        if (TRY_INSN("vmclear %0", :: "m"(v) : "memory") != 6)
            mismatch("VMCLEAR not #UD", 0);
        break;
    case 1:
        v = hypercall(32 + (r >> 8) % 1000, r, r, r, r).status;
        if ((int64_t)v != HC_ENOSYS)
            mismatch("unknown hypercall", v);
        break;
    case 2:
        (void)grt_cpuid((uint32_t)(r >> 8), (uint32_t)(r >> 40));
        break;
    case 3:
        (void)hypercall(HC_REPORT, r, (r >> 8) & 63, r, 0);        /* a key from anywhere */
        break;
    default:
        if (TRY_INSN("ud2", ::: "memory") != 6)
            mismatch("UD2 not #UD", 0);
        break;
    }
}

int case_random(uint64_t seed, uint64_t steps)
{
    uint64_t done = 0;
    rng_seed(seed);
    apic_enable();
    for (int v = 32; v < 256; v++)
        irq_counting(v, true);
    for (; done < steps; done++) {
        uint64_t r = rng_next();
        switch ((r >> 56) % 9) {
        case 0: random_port_op(r); break;
        case 1: random_msr_op(r); break;
        case 2: random_cr_op(r); break;
        case 3: random_mem_op(r); break;
        case 4: random_irq_op(r); break;
        case 5: random_string_op(r); break;
        case 6: random_device_op(r); break;
        case 7: random_misc_op(r); break;
        default:
            /* Rarely, one of the acts that end the VM: the run must end with a report. */
            if ((seed & 1) && rng_below(48) == 0) {
                int stop = (int)(CASE_TRIPLE + rng_below(CASE_HLT_FAR - CASE_TRIPLE));
                report("steps", done);
                report("mismatches", mismatches);
                report("stopping", (uint64_t)stop);
                return case_stops(stop);
            }
            break;
        }
    }
    uint64_t irqs = 0;
    for (int v = 0; v < 256; v++)
        irqs += irq_seen[v];
    apic_write(0x320, 1u << 16);
    report("steps", done);
    report("irqs", irqs);
    return 0;
}
