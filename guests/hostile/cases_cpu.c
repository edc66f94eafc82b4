/* cases_cpu.c: hostile uses of privileged instructions: sensitive and random MSRs, reserved and
 * hidden control-register bits, XSETBV, VMX instructions, the same from CPL 3; and a sane guest. */
#include "hrt.h"

#define NONCANON 0x0000800000000000ull

/* ---- the MSR map of the platform (docs/07-nimbos.md) ---- */

static bool passthrough_msr(uint32_t m)
{
    return m == 0x174 || m == 0x277 || m == 0x175 || m == 0x176 || m == 0xc0000080 || (m >= 0xc0000081 && m <= 0xc0000084) ||
           m == 0xc0000100 || m == 0xc0000101 || m == 0xc0000102;
}

/* Readable x2APIC registers (SDM Vol. 3A, Table 10-6) of an APIC with six LVT entries. */
static bool x2apic_readable(uint32_t m)
{
    return m == 0x802 || m == 0x803 || m == 0x808 || m == 0x80a || m == 0x80d || m == 0x80f ||
           (m >= 0x810 && m <= 0x828) || m == 0x830 || (m >= 0x832 && m <= 0x839) || m == 0x83e;
}

/* RDMSR: #GP unless the platform has the MSR (x2APIC registers: in x2APIC mode only). */
static bool read_ok(uint32_t m)
{
    uint64_t base = 0;
    if (m >= 0x800 && m <= 0x8ff) {
        grt_rdmsr(0x1b, &base);
        return (base & 0x400) && x2apic_readable(m);
    }
    return passthrough_msr(m) || m == 0x10 || m == 0x1b;
}

static struct { uint64_t reads, rd_gp, rd_gp_expected, writes, wr_gp, wr_gp_expected; } ms;

static void msr_read(uint32_t m)
{
    uint64_t v;
    bool ok = read_ok(m);
    int vec = grt_rdmsr(m, &v);
    ms.reads++, ms.rd_gp += vec == 13, ms.rd_gp_expected += !ok;
    if (vec != (ok ? NO_FAULT : 13))
        mismatch("RDMSR", (uint64_t)m << 8 | (unsigned)(vec & 0xff));
}

/* WRMSR of an MSR the platform does not have, or may not be written: #GP. */
static void msr_write_refused(uint32_t m, uint64_t value)
{
    int vec = grt_wrmsr(m, value);
    ms.writes++, ms.wr_gp += vec == 13, ms.wr_gp_expected++;
    if (vec != 13)
        mismatch("WRMSR not refused", m);
}

static uint32_t random_msr(uint64_t r)
{
    switch (r & 7) {
    case 0: return (uint32_t)(r >> 32);
    case 1: return 0xc0000000u + (uint32_t)((r >> 8) & 0x1fff);
    case 2: return 0x800u + (uint32_t)((r >> 8) & 0xff);
    case 3: return 0x480u + (uint32_t)((r >> 8) & 0x1f);
    default: return (uint32_t)((r >> 8) & 0x1fff);
    }
}

void random_msr_op(uint64_t r)
{
    uint32_t m = random_msr(r);
    if (!((r >> 3) & 1))
        msr_read(m);
    else if (!read_ok(m) && !(m >= 0x800 && m <= 0x8ff))
        msr_write_refused(m, rng_next());
}

int case_msr(void)
{
    uint64_t v, old;
    int vec;
    /* VMX and SMX configuration, VMX capabilities, SMM, MTRRs, debug: not this guest's. */
    static const uint32_t denied[] = {0x3a, 0x9b, 0x1f2, 0x1f3, 0xfe, 0x2ff, 0x200, 0x1d9,
                                      0x1a0, 0x3b, 0xc0000103, 0x40000000, 0xffffffff};
    apic_enable();                                  /* x2APIC mode if CPUID offers it */
    for (uint32_t m = 0x480; m <= 0x491; m++) {
        msr_read(m);
        msr_write_refused(m, 0);
    }
    for (unsigned i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
        msr_read(denied[i]);
        msr_write_refused(denied[i], 5);
    }
    msr_write_refused(0x10, 0);                     /* the TSC is read-only here */
    for (int i = 0; i < 400; i++)
        random_msr_op(rng_next());
    report("reads", ms.reads);
    report("rd_gp", ms.rd_gp);
    report("rd_gp_expected", ms.rd_gp_expected);
    report("writes", ms.writes);
    report("wr_gp", ms.wr_gp);
    report("wr_gp_expected", ms.wr_gp_expected);
    /* SYSENTER_*: the guest's own (VMCS guest state); non-canonical is #GP (Vol. 2B, WRMSR). */
    grt_wrmsr(0x174, 0x1234);
    grt_rdmsr(0x174, &v);
    report("sysenter_cs_ok", v == 0x1234);
    grt_wrmsr(0x174, 0);
    report("sysenter_esp_noncanon", (uint64_t)grt_wrmsr(0x175, NONCANON));
    report("sysenter_eip_noncanon", (uint64_t)grt_wrmsr(0x176, NONCANON));
    report("fs_base_noncanon", (uint64_t)grt_wrmsr(0xc0000100, NONCANON));
    report("kernel_gs_noncanon", (uint64_t)grt_wrmsr(0xc0000102, NONCANON));
    report("lstar_noncanon", (uint64_t)grt_wrmsr(0xc0000082, NONCANON));
    /* PAT is the guest's (the VMCS switches it): a reserved memory type is #GP. */
    report("pat_type2", (uint64_t)grt_wrmsr(0x277, 0x0007040600070402ull));
    /* EFER: reserved bits and clearing LME in long mode are #GP. */
    grt_rdmsr(0xc0000080, &old);
    report("efer_bit1", (uint64_t)grt_wrmsr(0xc0000080, old | 2));
    report("efer_bit63", (uint64_t)grt_wrmsr(0xc0000080, old | (1ull << 63)));
    report("efer_clear_lme", (uint64_t)grt_wrmsr(0xc0000080, old & ~0x100ull));
    grt_rdmsr(0xc0000080, &v);
    report("efer_kept", v == old);
    /* IA32_APIC_BASE: where the platform's APIC is, reserved bits #GP (10.4.4). */
    grt_rdmsr(0x1b, &v);
    report("apic_base", v & ~0x400ull);
    report("apic_base_bit9", (uint64_t)grt_wrmsr(0x1b, v | (1u << 9)));
    report("apic_base_extd_no_en", (uint64_t)grt_wrmsr(0x1b, (v & ~0x800ull) | 0x400));
    /* x2APIC registers that are read-only, write-only or absent: #GP in x2APIC mode; in
     * xAPIC mode (no x2APIC offered) every x2APIC MSR is #GP (SDM Vol. 3A, 10.12.1.2). */
    report("x2apic_mode", apic_x2());
    vec = grt_wrmsr(0x803, 1) == 13;                           /* version: read-only */
    vec += grt_rdmsr(0x80b, &v) == 13;                         /* EOI: write-only */
    vec += grt_wrmsr(0x80b, 1) == 13;                          /* EOI: only 0 */
    vec += grt_wrmsr(0x83f, 0x100) == 13;                      /* SELF IPI: a vector */
    vec += grt_rdmsr(0x831, &v) == 13;                         /* no ICR2 in x2APIC mode */
    vec += grt_wrmsr(0x838, 1ull << 32) == 13;                 /* 32-bit registers */
    report("x2apic_gp", (uint64_t)vec);
    return 0;
}

/* ---- control registers ---- */

static uint64_t cr0(void) { uint64_t v; asm volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static uint64_t cr4(void) { uint64_t v; asm volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static uint64_t cr8(void) { uint64_t v; asm volatile("mov %%cr8, %0" : "=r"(v)); return v; }

#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define CR4_VMXE (1ull << 13)
#define CR4_SMXE (1ull << 14)
#define CR4_OSXSAVE (1ull << 18)
#define CR4_PKE (1ull << 22)

void random_cr_op(uint64_t r)
{
    static const uint64_t bad4[] = {CR4_VMXE, CR4_SMXE, 1ull << 31, 1ull << 32, 1ull << 63, CR4_OSXSAVE};
    uint64_t c4 = cr4(), c0 = cr0();
    int vec;
    switch (r % 5) {
    case 0:
        vec = grt_write_cr4(c4 | bad4[(r >> 8) % 6]);
        if (vec != 13)
            mismatch("MOV to CR4 with a reserved or hidden bit", c4 | bad4[(r >> 8) % 6]);
        break;
    case 1:
        vec = grt_write_cr4(c4 & ~CR4_PAE);
        if (vec != 13)
            mismatch("MOV to CR4 clearing PAE in long mode", (uint64_t)vec);
        break;
    case 2:
        vec = try_write_cr0((r & 256) ? (c0 | (1ull << 29)) & ~(1ull << 30) : c0 & ~(1ull << 31));
        if (vec != 13)
            mismatch("MOV to CR0: NW without CD, or PG off in long mode", (uint64_t)vec);
        break;
    case 3:
        vec = try_write_cr8(16 + ((r >> 8) & 0xff));
        if (vec != 13)
            mismatch("MOV to CR8 with reserved bits", (uint64_t)vec);
        break;
    default:
        vec = try_xsetbv((uint32_t)(r >> 8) & 3, r >> 16);
        if (vec != 6)
            mismatch("XSETBV without CR4.OSXSAVE", (uint64_t)vec);
        break;
    }
    if (cr4() != c4 || cr0() != c0)
        mismatch("a refused MOV to CR changed the register", cr4());
}

int case_cr(void)
{
    uint64_t c4 = cr4(), c0 = cr0(), c3 = read_cr3();
    report("cr4_vmxe_visible", (c4 & CR4_VMXE) != 0);
    report("vmxe", (uint64_t)grt_write_cr4(c4 | CR4_VMXE));
    report("smxe", (uint64_t)grt_write_cr4(c4 | CR4_SMXE));
    report("bit31", (uint64_t)grt_write_cr4(c4 | (1ull << 31)));
    report("bit32", (uint64_t)grt_write_cr4(c4 | (1ull << 32)));
    report("la57", (uint64_t)grt_write_cr4(c4 | CR4_LA57));
    report("pke", (uint64_t)grt_write_cr4(c4 | CR4_PKE));
    report("pae_off", (uint64_t)grt_write_cr4(c4 & ~CR4_PAE));
    /* CPUID says no XSAVE (chapter 07 hides it): OSXSAVE must not be settable, and XSETBV
     * without it is #UD (SDM Vol. 2C, XSETBV), whatever its operands. */
    report("cpuid_xsave", (grt_cpuid(1, 0).ecx >> 26) & 1);
    report("osxsave", (uint64_t)grt_write_cr4(c4 | CR4_OSXSAVE));
    report("xsetbv", (uint64_t)try_xsetbv(0, 3));
    report("xsetbv_bad", (uint64_t)try_xsetbv(1, ~0ull));
    grt_write_cr4(c4);
    report("cr4_unchanged", cr4() == c4);
    report("pg_off", (uint64_t)try_write_cr0(c0 & ~(1ull << 31)));
    report("nw_no_cd", (uint64_t)try_write_cr0((c0 | (1ull << 29)) & ~(1ull << 30)));
    report("cr0_bit32", (uint64_t)try_write_cr0(c0 | (1ull << 32)));
    /* CR0.NE is fixed to 1 in VMX operation: the guest may clear it and sees it clear. */
    report("ne_clear", (uint64_t)try_write_cr0(c0 & ~(1ull << 5)));
    report("ne_seen_clear", !(cr0() & (1ull << 5)));
    try_write_cr0(c0);
    report("cr0_unchanged", cr0() == c0);
    report("cr3_bit63", (uint64_t)try_write_cr3(c3 | (1ull << 63)));
    report("cr3_above_maxphy", (uint64_t)try_write_cr3(c3 | (1ull << maxphyaddr())));
    /* CR8 is the task priority: the guest's own, 4 bits (SDM Vol. 3A, 10.8.6.1). */
    report("cr8_bit4", (uint64_t)try_write_cr8(16));
    try_write_cr8(15);
    report("cr8_readback", cr8());
    try_write_cr8(0);
    for (int i = 0; i < 200; i++)
        random_cr_op(rng_next());
    /* Left behind on purpose: a task priority of 14. It must stay this guest's (the next
     * guest starts with CR8 = 0, the host's local APIC keeps its own TPR). */
    try_write_cr8(14);
    return 0;
}

/* ---- VMX instructions: this guest has no VMX (CPUID), so each is #UD ---- */

static uint64_t vmx_region[512] __attribute__((aligned(4096)));

static unsigned vmx_all(void)
{
    uint64_t pa = (uint64_t)vmx_region, v = 0, desc[2] = {0, 0};
    unsigned ud = 0;
    ud += TRY_INSN("vmxon %0", :: "m"(pa) : "memory") == 6;
    ud += TRY_INSN("vmclear %0", :: "m"(pa) : "memory") == 6;
    ud += TRY_INSN("vmptrld %0", :: "m"(pa) : "memory") == 6;
    ud += TRY_INSN("vmptrst %0", : "=m"(v) :: "memory") == 6;
    ud += TRY_INSN("vmread %1, %0", : "=r"(v) : "r"(0x681eull) : "memory") == 6;
    ud += TRY_INSN("vmwrite %0, %1", :: "r"(v), "r"(0x681eull) : "memory") == 6;
    ud += TRY_INSN("vmlaunch", ::: "memory") == 6;
    ud += TRY_INSN("vmresume", ::: "memory") == 6;
    ud += TRY_INSN("vmxoff", ::: "memory") == 6;
    ud += TRY_INSN("invept %0, %1", :: "m"(desc), "r"(1ull) : "memory") == 6;
    ud += TRY_INSN("invvpid %0, %1", :: "m"(desc), "r"(1ull) : "memory") == 6;
    ud += TRY_INSN("vmfunc", :: "a"(0), "c"(0) : "memory") == 6;
    ud += TRY_INSN("getsec", :: "a"(0) : "memory") == 6;
    return ud;
}
#define VMX_INSNS 13

int case_vmx(void)
{
    report("cpuid_vmx", (grt_cpuid(1, 0).ecx >> 5) & 1);
    report("cpuid_hypervisor", (grt_cpuid(1, 0).ecx >> 31) & 1);
    report("ud", vmx_all());
    report("ud_expected", VMX_INSNS);
    report("wbinvd", (uint64_t)TRY_INSN("wbinvd", ::: "memory"));
    /* CPUID everywhere: leaves the CPU has, the hypervisor's, and none. */
    unsigned odd = 0;
    for (int i = 0; i < 200; i++) {
        uint64_t r = rng_next();
        struct grt_cpuid c = grt_cpuid((uint32_t)r, (uint32_t)(r >> 32));
        odd += (c.ecx >> 5) & 1 && (uint32_t)r == 1;
    }
    report("cpuid_random_vmx", odd);
    return 0;
}

/* ---- the same from CPL 3: privilege checks come before any VM exit ---- */

static volatile int64_t user_vmcall;
static volatile int user_in, user_rdmsr, user_hlt, user_vmxon, user_cr, user_cpuid;

static void user_code(void)
{
    uint64_t v, pa = 0;
    uint32_t lo, hi;
    asm volatile("vmcall" : "=a"(user_vmcall) : "a"((uint64_t)HC_INFO) : "rbx", "rcx", "rdx", "memory");
    user_in = TRY_INSN("inb $0x80, %%al", ::: "rax", "memory");
    user_rdmsr = TRY_INSN("rdmsr", : "=a"(lo), "=d"(hi) : "c"(0x10) : "memory");
    user_hlt = TRY_INSN("hlt", ::: "memory");
    user_vmxon = TRY_INSN("vmxon %0", :: "m"(pa) : "memory");
    user_cr = TRY_INSN("mov %%cr4, %0", : "=r"(v) :: "memory");
    user_cpuid = TRY_INSN("cpuid", : "=a"(lo), "=b"(hi), "=c"(lo), "=d"(hi) : "a"(0) : "memory");
}

int case_user(void)
{
    run_user(user_code);
    report("vmcall", (uint64_t)user_vmcall);
    report("in", (uint64_t)user_in);
    report("rdmsr", (uint64_t)user_rdmsr);
    report("hlt", (uint64_t)user_hlt);
    report("vmxon", (uint64_t)user_vmxon);
    report("mov_cr", (uint64_t)user_cr);
    report("cpuid", (uint64_t)user_cpuid);
    return 0;
}

/* ---- a well-behaved guest: the platform works, before and after the hostile ones ---- */

int case_sane(void)
{
    struct grt_cpuid c = grt_cpuid(1, 0);
    report("cpuid_vmx", (c.ecx >> 5) & 1);
    report("cpuid_hypervisor", (c.ecx >> 31) & 1);
    /* One LAPIC timer interrupt, one-shot, taken in HLT with interrupts on. */
    apic_enable();
    irq_counting(0x40, true);
    apic_write(0x3e0, 0xb);                      /* divide by 1 */
    apic_write(0x320, 0x40);                     /* one-shot, vector 0x40 */
    apic_write(0x380, 5000);
    asm volatile("sti; hlt; cli" ::: "memory");
    report("timer_irqs", irq_seen[0x40]);
    /* What a previous guest may have left in registers the hypervisor does not switch:
     * CR8 is the task priority, which must be this guest's own (0 at power-on). */
    report("cr8_at_start", cr8());
    return 0;
}
