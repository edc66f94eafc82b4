/* eptest.c: chapter 06's test guest: its own RAM at guest-physical 0, a device it reaches only
 * through EPT violations, memory allocated when touched, and probes outside its RAM. */
#include "eptest.h"

#include "grt.h"

static uint64_t seed, mode, flags, canary_hpa, code_hpa;
static uint64_t v[REPORT_MAX];

static void report(int test, unsigned n)
{
    hypercall(HC_REPORT, (uint64_t)test, (uint64_t)v, n, 0);
}

static inline uint64_t rd64(uint64_t a) { return *(volatile uint64_t *)a; }
static inline void wr64(uint64_t a, uint64_t x) { *(volatile uint64_t *)a = x; }

/* Guest-physical 0 (linear 0 too): a page of values only this run can produce. */
static void test_pattern(void)
{
    for (uint64_t i = 0; i < 512; i++)
        wr64(8 * i, seed * (i + 1));
    v[0] = 512, v[1] = flags & FLAG_HIGH_RAM, v[2] = 0;
    if (flags & FLAG_HIGH_RAM) {
        for (uint64_t i = 0; i < 8; i++)
            wr64(HIGH_PROBE + 8 * i, ~seed + i);
        v[2] = 1;
        for (uint64_t i = 0; i < 8; i++)
            v[2] &= rd64(HIGH_PROBE + 8 * i) == ~seed + i;
    }
    report(T_PATTERN, 3);
}

/* Every MOV form of mov_decode.h, against the device page. */
static void test_mmio(void)
{
    uint64_t dev = DEVICE_GPA, s = seed, x;
    register uint64_t r9 asm("r9") = s ^ R9_KEY;
    register uint64_t r10 asm("r10");
    asm volatile("movb %b0, (%1)" :: "a"(s), "b"(dev) : "memory");
    asm volatile("movw %w0, 2(%1)" :: "a"(s >> 8), "b"(dev) : "memory");
    asm volatile("movl %k0, 4(%1)" :: "a"(s >> 16), "b"(dev) : "memory");
    asm volatile("movq %0, 8(%1)" :: "a"(~s), "b"(dev) : "memory");
    asm volatile("movq %%r9, 0x10(%0,%1,8)" :: "b"(dev), "c"(0ull), "r"(r9) : "memory");
    asm volatile("movb $0x12, 0x18(%0)" :: "b"(dev) : "memory");
    asm volatile("movw $0x1234, 0x1a(%0)" :: "b"(dev) : "memory");
    asm volatile("movl $0x89abcdef, 0x1c(%0)" :: "b"(dev) : "memory");
    asm volatile("movq $-2, 0x20(%0)" :: "b"(dev) : "memory");
    asm volatile("movb %%ah, 0x28(%0)" :: "b"(dev), "a"(s) : "memory");
    x = 0x1122334455667788ull;
    asm volatile("movb (%1), %%dl" : "+d"(x) : "b"(dev) : "memory");
    v[0] = x;
    x = 0x1122334455667788ull;
    asm volatile("movw 2(%1), %%dx" : "+d"(x) : "b"(dev) : "memory");
    v[1] = x;
    x = 0x1122334455667788ull;
    asm volatile("movl 4(%1), %%edx" : "+d"(x) : "b"(dev) : "memory");
    v[2] = x;
    asm volatile("movq 8(%1), %%r10" : "=r"(r10) : "b"(dev) : "memory");
    v[3] = r10;
    x = ~0ull;
    asm volatile("movzbl 0x18(%1), %%eax" : "+a"(x) : "b"(dev) : "memory");
    v[4] = x;
    x = ~0ull;
    asm volatile("movzwl 0x1a(%1), %%eax" : "+a"(x) : "b"(dev) : "memory");
    v[5] = x;
    asm volatile("movq 0x10(%1), %0" : "=r"(x) : "b"(dev) : "memory");
    v[6] = x;
    asm volatile("movq 0x20(%1), %0" : "=r"(x) : "b"(dev) : "memory");
    v[7] = x;
    asm volatile("movq 0x40(%1), %0" : "=r"(x) : "b"(dev) : "memory");
    v[8] = x;
    x = 0x1122334455667788ull;
    asm volatile("movb 0x28(%1), %%ch" : "+c"(x) : "b"(dev) : "memory");
    v[9] = x;
    report(T_MMIO, 10);
}

static void test_status(void)
{
    v[0] = rd64(STATUS_GPA);                          /* mapped read-only: no exit */
    asm volatile("movl %k0, 8(%1)" :: "a"(seed), "b"(STATUS_GPA) : "memory");   /* exits */
    v[1] = rd64(STATUS_GPA + 8);
    report(T_STATUS, 2);
}

static void test_lazy(void)
{
    v[0] = rd64(LAZY_READ);
    for (uint64_t i = 0; i < 8; i++)
        wr64(LAZY_PATTERN + 8 * i, seed ^ (i << 56));
    v[1] = 1;
    for (uint64_t i = 0; i < 8; i++)
        v[1] &= rd64(LAZY_PATTERN + 8 * i) == (seed ^ (i << 56));
    wr64(LAZY_TWICE, 1);
    wr64(LAZY_TWICE + 8, seed);                       /* the page exists now: no exit */
    v[2] = rd64(LAZY_TWICE + 8);
    report(T_LAZY, 3);
}

/* An interrupt whose stack (IST 1) is a lazy page nobody touched yet. */
static void test_lazy_idtv(void)
{
    unsigned vec = VECTOR_LAZY(seed);
    grt_set_ist(vec, 1, LAZY_STACK + 4096);
    hypercall(HC_TIMER, vec, 1000, 1, 0);
    sti();
    for (uint64_t t0 = rdtsc(); !grt_vector_count[vec] && rdtsc() - t0 < 200000;)
        asm volatile("pause");
    cli();
    v[0] = vec, v[1] = grt_vector_count[vec];
    v[2] = grt_last_vector == vec && grt_last_rsp >= LAZY_STACK && grt_last_rsp < LAZY_STACK + 4096;
    report(T_LAZY_IDTV, 3);
}

/* Our own page tables point at a lazy page: the CPU's page walk touches it first. */
static void test_pt_violation(void)
{
    uint64_t *pd1 = (uint64_t *)(PT_BASE + 0x3000);   /* PD for 1-2 GiB (PT_BASE + 0x2000 + 0x1000) */
    unsigned index = (PT_PROBE_LINEAR >> 21) & 511;
    pd1[index] = LAZY_PT | 3;                         /* present, writable: a page table */
    asm volatile("invlpg (%0)" :: "r"(PT_PROBE_LINEAR) : "memory");
    uint64_t x = 0;
    grt_fault_arm();
    asm volatile("1: movq (%1), %0\n2:\n" GRT_EXTABLE(1b, 2b) : "+r"(x) : "r"(PT_PROBE_LINEAR) : "memory");
    v[0] = (uint64_t)grt_fault.vector, v[1] = grt_fault.cr2 == PT_PROBE_LINEAR;
    v[2] = grt_fault.error_code;
    report(T_PT_VIOLATION, 3);
}

/*
 * Addresses the hypervisor owns or the PC would have devices at. Inside our RAM they are
 * our own memory (what we write, we read back); outside it nothing answers (all ones).
 * Neither way may the hypervisor's memory or devices change: the host checks.
 */
static bool in_our_ram(uint64_t a)
{
    return a < RAM_SIZE || ((flags & FLAG_HIGH_RAM) && a >= HIGH_RAM && a < 2 * HIGH_RAM);
}

static void test_isolation(void)
{
    uint64_t probes[ISOLATION_PROBES] = {RAM_SIZE + 0x1000, canary_hpa, code_hpa, 0xfee00000,
                                         0xfec00000, (flags & FLAG_HIGH_RAM) ? 0x80000000 : HIGH_RAM};
    v[0] = ISOLATION_PROBES, v[1] = v[2] = v[3] = 0;
    for (int i = 0; i < ISOLATION_PROBES; i++) {
        uint64_t before = rd64(probes[i]);
        wr64(probes[i], seed ^ (uint64_t)i);
        uint64_t after = rd64(probes[i]);
        if (in_our_ram(probes[i]))
            v[1]++, v[3] += after == (seed ^ (uint64_t)i);
        else
            v[2]++, v[3] += before == ~0ull && after == ~0ull;
    }
    report(T_ISOLATION, 4);
}

int guest_main(void)
{
    struct hc_result h = hypercall(HC_HELLO, 0, 0, 0, 0), t = hypercall(HC_TARGETS, 0, 0, 0, 0);
    seed = h.rbx, mode = h.rcx, flags = h.rdx, canary_hpa = t.rbx, code_hpa = t.rcx;
    if (mode == MODE_MISCONFIG)
        return (int)rd64(MISCONFIG_GPA);
    if (mode == MODE_REFUSE) {
        asm volatile("addl $1, (%0)" :: "r"(DEVICE_GPA) : "memory");
        return 1;
    }
    test_pattern();
    test_mmio();
    test_status();
    test_lazy();
    test_lazy_idtv();
    test_pt_violation();
    test_isolation();
    gprintf("eptest: every test reported\n");
    return 0;
}
