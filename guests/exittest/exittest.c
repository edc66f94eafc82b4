/* exittest.c: chapter 05's test guest: drives each kind of VM exit the hypervisor handles and
 * reports what it saw with HC_REPORT, so the hypervisor and the test can both check. */
#include "exittest.h"

#include "grt.h"

#define CR0_NE (1ull << 5)
#define CR4_VMXE (1ull << 13)
#define MSR_FS_BASE 0xc0000100u

static uint64_t seed, mode, tick_period;
static uint64_t v[REPORT_MAX];

static void report(int test, unsigned n)
{
    hypercall(HC_REPORT, (uint64_t)test, (uint64_t)v, n, 0);
}

static uint32_t from_seed(uint64_t s)
{
    return ((uint32_t)s ^ SEED_XOR) * SEED_MUL + (uint32_t)(s >> 32);
}

static void test_vmcall(void)
{
    struct hc_result u = hypercall(HC_UNKNOWN, 1, 2, 3, 4);
    v[0] = seed, v[1] = from_seed(seed), v[2] = (uint64_t)u.status, v[3] = 2;   /* HELLO, UNKNOWN */
    report(T_VMCALL, 4);
}

static void test_cpuid(void)
{
    struct grt_cpuid a = grt_cpuid(1, 0), b = grt_cpuid(0x40000000, 0), c = grt_cpuid(0x40000001, 0);
    struct grt_cpuid d = grt_cpuid(0x4000000f, 0);
    v[0] = a.ecx, v[1] = b.eax, v[2] = b.ebx, v[3] = b.ecx, v[4] = b.edx, v[5] = c.eax;
    v[6] = d.eax, v[7] = 4;
    report(T_CPUID, 8);
}

static void test_msr(void)
{
    uint64_t fs = (seed << 12) & 0x00007ffffffff000ull, apic, apic2;
    int f1, f2, f3;
    grt_wrmsr(MSR_FS_BASE, fs);                       /* passed through: no exits */
    grt_rdmsr(MSR_FS_BASE, &v[1]);
    v[0] = fs;
    grt_rdmsr(MSR_EMULATED, &apic);                   /* emulated: 2 reads, 1 write */
    apic2 = 0xfe000000ull | (seed & 0xff) << 12 | (apic & 0x900);
    grt_wrmsr(MSR_EMULATED, apic2);
    grt_rdmsr(MSR_EMULATED, &v[4]);
    v[2] = apic, v[3] = apic2;
    uint64_t dummy;
    f1 = grt_rdmsr(MSR_DENIED_1, &dummy);             /* refused: #GP each */
    f2 = grt_wrmsr(MSR_DENIED_2, 5);
    f3 = grt_rdmsr(MSR_DENIED_3, &dummy);
    v[5] = (f1 == 13) + (f2 == 13) + (f3 == 13);
    v[6] = f1 == 13 && f2 == 13 && f3 == 13;
    v[7] = 4, v[8] = 2;                               /* intercepted reads and writes */
    grt_rdmsr(0xc0000080, &v[9]);                     /* EFER: passed through, or emulated */
    report(T_MSR, 10);
}

static void test_io(void)
{
    uint64_t console0 = grt_console_io;
    gprintf("exittest: console through the I/O bitmap, token %08x\n", from_seed(seed));
    uint64_t console = grt_console_io - console0;
    outb(ECHO_PORT, (uint8_t)seed);
    v[0] = inb(ECHO_PORT);
    outw(ECHO_PORT, (uint16_t)(seed >> 8));
    v[1] = inw(ECHO_PORT);
    outl(ECHO_PORT, (uint32_t)(seed >> 32));
    v[2] = inl(ECHO_PORT);
    /* REP OUTSB of four bytes, then REP INSW of three words. */
    uint8_t out[4] = {(uint8_t)(seed >> 8), (uint8_t)(seed >> 16), (uint8_t)(seed >> 24), (uint8_t)(seed >> 40)};
    uint16_t in[4] = {0, 0, 0, 0xdead};
    const uint8_t *src = out;
    uint16_t *dst = in;
    uint64_t count = 4;
    asm volatile("rep outsb" : "+S"(src), "+c"(count) : "d"(ECHO_PORT) : "memory");
    v[3] = inb(ECHO_PORT);
    outw(ECHO_PORT, (uint16_t)(seed >> 16));
    count = 3;
    asm volatile("rep insw" : "+D"(dst), "+c"(count) : "d"(ECHO_PORT) : "memory");
    v[4] = in[0], v[5] = in[1], v[6] = in[2];
    v[7] = (uint64_t)(src - out), v[8] = (uint64_t)((uint8_t *)dst - (uint8_t *)in), v[9] = count;
    v[10] = inb(NOBODY_PORT), v[11] = inw(NOBODY_PORT), v[12] = inl(NOBODY_PORT);
    outb(NOBODY_PORT, 1);
    for (int i = 0; i < 4; i++)
        outb(POST_PORT, (uint8_t)i);                  /* passed through */
    v[13] = console + 6 + 4 + 4;                      /* intercepted IN/OUT/INS/OUTS */
    v[14] = 4;
    report(T_IO, 15);
}

static void test_cr(void)
{
    uint64_t cr0 = read_cr0(), cr4 = read_cr4();
    v[0] = cr0, v[1] = cr4;
    v[2] = (uint64_t)grt_write_cr4(cr4 | CR4_VMXE);   /* exits, refused: #GP */
    write_cr0(cr0 & ~CR0_NE);                         /* exits: NE is the hypervisor's */
    v[3] = read_cr0();
    write_cr0(cr0);
    for (int i = 0; i < 4; i++)
        write_cr3(read_cr3());                        /* no exits */
    v[4] = 3, v[5] = 8;
    report(T_CR, 6);
}

static void on_bp(struct grt_frame *f) { (void)f; }
static void on_ud(struct grt_frame *f) { f->rip += 2; }      /* past UD2 */

static void test_exceptions(void)
{
    uint64_t after1, after2, ud_at;
    grt_set_handler(3, on_bp);
    grt_set_handler(6, on_ud);
    asm volatile("int3\n1: leaq 1b(%%rip), %0" : "=r"(after1));
    v[2] = grt_last_rip == after1;
    asm volatile("int3\n1: leaq 1b(%%rip), %0" : "=r"(after2));
    v[2] &= grt_last_rip == after2;
    asm volatile("leaq 1f(%%rip), %0\n1: ud2" : "=r"(ud_at));
    v[3] = grt_last_rip == ud_at;
    v[0] = grt_vector_count[3], v[1] = grt_vector_count[6];
    report(T_EXCEPTIONS, 4);
}

static uint64_t wait_for(unsigned vector, uint64_t count, uint64_t max_ticks)
{
    uint64_t t0 = rdtsc();
    while (grt_vector_count[vector] < count && rdtsc() - t0 < max_ticks)
        asm volatile("pause");
    return grt_vector_count[vector];
}

static void test_events(void)
{
    unsigned vec = VECTOR_WINDOW(seed), per = VECTOR_PERIODIC(seed);
    cli();
    hypercall(HC_TIMER, vec, 2000, 1, 0);
    /* With IF = 0 the interrupt must wait. Each iteration exits (HC_NOP), so the deadline
     * is seen on every timer backend, and each entry finds the window closed. */
    for (uint64_t t0 = rdtsc(); rdtsc() - t0 < 3 * tick_period + 20000;)
        hypercall(HC_NOP, 0, 0, 0, 0);
    v[0] = vec, v[1] = grt_vector_count[vec];
    asm volatile("sti; nop; cli" ::: "memory");       /* the window opens after the NOP */
    v[2] = grt_vector_count[vec];
    hypercall(HC_TIMER, per, 3000, 3, 0);
    sti();
    v[4] = wait_for(per, 3, 10 * tick_period + 100000);
    cli();
    v[3] = per;
    report(T_EVENTS, 5);
}

static void test_idt_vectoring(void)
{
    unsigned vec = VECTOR_IDTV(seed);
    grt_set_ist(vec, 1, LAZY_STACK + 4096);           /* its stack page is not mapped yet */
    hypercall(HC_TIMER, vec, 1000, 1, 0);
    sti();
    v[1] = wait_for(vec, 1, 4 * tick_period + 100000);
    cli();
    v[0] = vec;
    v[2] = grt_last_vector == vec && grt_last_rsp >= LAZY_STACK && grt_last_rsp < LAZY_STACK + 4096;
    report(T_IDT_VECTORING, 3);
}

static void test_hlt(void)
{
    unsigned vec = VECTOR_HLT(seed);
    uint64_t delay = 30000;
    hypercall(HC_TIMER, vec, delay, 1, 0);
    uint64_t t0 = rdtsc();
    asm volatile("sti; hlt; cli" ::: "memory");
    v[3] = rdtsc() - t0;
    v[0] = vec, v[1] = grt_vector_count[vec], v[2] = delay;
    report(T_HLT, 4);
}

/* With IF = 1: Bochs 2.7 keeps external interrupts masked in a guest entered with
 * RFLAGS.IF = 0 until the guest itself changes IF (its VM entry updates the interrupt mask
 * before it marks the CPU as a guest), although external-interrupt exiting makes IF
 * irrelevant on a real CPU (SDM Vol. 3C, 24.6.1). */
static void test_external_interrupts(void)
{
    v[0] = 5 * tick_period;
    sti();
    grt_spin(v[0]);
    cli();
    report(T_EXTINT, 1);
}

static void run_tests(void)
{
    test_vmcall();
    test_cpuid();
    test_msr();
    test_io();
    test_cr();
    test_exceptions();
    test_events();
    test_idt_vectoring();
    test_hlt();
    test_external_interrupts();
    gprintf("exittest: every test reported\n");
}

/* Round trips, as TSC ticks per iteration (Bochs with clock sync=none: instructions). */
static void bench(void)
{
    enum { N = 2000 };
    uint64_t t;
    t = rdtsc();
    for (int i = 0; i < N; i++)
        asm volatile("nop");
    v[4] = rdtsc() - t;
    t = rdtsc();
    for (int i = 0; i < N; i++) {
        uint32_t a = 0, b, c = 0, d;
        asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    }
    v[1] = rdtsc() - t;
    t = rdtsc();
    for (int i = 0; i < N; i++)
        hypercall(HC_NOP, 0, 0, 0, 0);
    v[2] = rdtsc() - t;
    t = rdtsc();
    for (int i = 0; i < N; i++)
        (void)inb(0x3fd);                             /* COM1's line status: a console's poll */
    v[3] = rdtsc() - t;
    v[0] = N;
    report(T_BENCH, 5);
}

int guest_main(void)
{
    struct hc_result h = hypercall(HC_HELLO, 0, 0, 0, 0);
    seed = h.rbx, mode = h.rcx, tick_period = h.rdx ? h.rdx : 10000;
    switch (mode) {
    case MODE_TESTS:
        run_tests();
        return 0;
    case MODE_UNHANDLED:
        /* INVD exits unconditionally (SDM Vol. 3C, 25.1.2); this hypervisor does not handle it. */
        asm volatile("movq %0, %%rax\n\tmovq %1, %%rbx\n\tinvd" :: "r"(seed), "r"(~seed) : "rax", "rbx");
        return 1;
    case MODE_TRIPLE_FAULT: {
        /* No IDT: #DE cannot be delivered (#GP), nor can the #GP (#DF), nor the #DF. */
        struct __attribute__((packed)) { uint16_t limit; uint64_t base; } none = {0, 0};
        asm volatile("lidt %0\n\txorl %%ecx, %%ecx\n\tdivl %%ecx" :: "m"(none) : "rax", "rcx", "rdx");
        return 1;
    }
    case MODE_BENCH:
        bench();
        return 0;
    }
    return 2;
}
