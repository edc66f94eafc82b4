/* cases_irq.c: hostile interrupts and exceptions: the LAPIC timer at its shortest period, every
 * vector raised with interrupts off, exception storms, double faults while delivering an event. */
#include "hrt.h"

static uint64_t spin_count(uint64_t ticks)
{
    uint64_t n = 0, t0 = rdtsc();
    while (rdtsc() - t0 < ticks)
        n++;
    return n;
}

#define LVT_PERIODIC (1u << 17)
#define LVT_MASKED (1u << 16)

/* In the flood with interrupts on, the timer fires again before its handler is done: after
 * 50 interrupts the handler masks it, or the guest would do nothing else (as on a CPU). */
static void flood_tick(struct grt_frame *f)
{
    (void)f;
    if (++irq_seen[0x40] >= 50)
        apic_write(0x320, LVT_MASKED);
    apic_eoi();
}

int case_timer_flood(void)
{
    apic_enable();
    grt_set_handler(0x40, flood_tick);
    uint64_t base = spin_count(200000);
    /* Periodic, initial count 1, divide by 1: as often as the timer can fire. */
    apic_write(0x3e0, 0xb);
    apic_write(0x320, LVT_PERIODIC | 0x40);
    apic_write(0x380, 1);
    uint64_t flood = spin_count(200000);
    report("taken_while_cli", irq_seen[0x40]);
    report("baseline", base);
    report("flood", flood);
    report("progress_pct", base ? flood * 100 / base : 0);
    /* Interrupts on: they are taken, one after the other, until the handler masks the timer. */
    uint64_t t0 = rdtsc();
    asm volatile("sti" ::: "memory");
    while (irq_seen[0x40] < 50 && rdtsc() - t0 < 2000000)
        asm volatile("pause");
    asm volatile("cli" ::: "memory");
    report("taken_after_sti", irq_seen[0x40]);
    apic_write(0x380, 0);
    return 0;
}

int case_irq_flood(void)
{
    apic_enable();
    for (int v = 32; v < 256; v++)
        irq_counting(v, true);
    /* Every vector 32-255 as a self-IPI, interrupts off (SDM Vol. 3A, 10.12.11 and 10.6.1). */
    for (int v = 32; v < 256; v++) {
        if (apic_x2())
            grt_wrmsr(0x83f, (uint64_t)v);
        else
            apic_write(0x300, (1u << 18) | (uint32_t)v);     /* destination shorthand: self */
    }
    if (apic_x2())
        grt_wrmsr(0x83f, 5);                 /* an illegal vector: an error, no interrupt */
    else
        apic_write(0x300, (1u << 18) | 5);
    for (int i = 0; i < 100; i++)
        (void)inb(0x80);                     /* exits, with interrupts pending and IF = 0 */
    unsigned early = irq_order_n;
    /* TPR 0x80: only classes 9-15 (vectors 0x90-0xff) get through, highest first. */
    apic_write(0x80, 0x80);
    asm volatile("sti; nop; nop; nop; cli" ::: "memory");
    for (int i = 0; i < 50; i++) {
        asm volatile("sti; nop; cli" ::: "memory");
    }
    unsigned high = irq_order_n;
    apic_write(0x80, 0);
    for (int i = 0; i < 400 && irq_order_n < 224; i++)
        asm volatile("sti; nop; cli" ::: "memory");
    bool order = true;
    for (unsigned i = 1; i < irq_order_n; i++)
        if (i != high && irq_order[i] >= irq_order[i - 1])
            order = false;
    apic_write(0x280, 0);
    report("early", early);
    report("above_tpr", high);
    report("received", irq_order_n);
    report("order_ok", order);
    report("lowest_after_tpr", high ? irq_order[high - 1] : 0);
    report("esr", apic_read(0x280));
    return 0;
}

static volatile uint64_t bp_count;

static void count_bp(struct grt_frame *f)
{
    (void)f;
    bp_count++;
}

int case_storm(void)
{
    unsigned ud = 0, gp = 0, de = 0, pf = 0;
    volatile uint8_t *hole = window_map(7, 0, 0);
    uint64_t v;
    grt_set_handler(3, count_bp);
    for (int i = 0; i < 20000; i++)
        ud += TRY_INSN("ud2", ::: "memory") == 6;
    for (int i = 0; i < 3000; i++)
        gp += grt_rdmsr(0x3a, &v) == 13;             /* injected by the hypervisor */
    for (int i = 0; i < 5000; i++)
        asm volatile("int3" ::: "memory");
    for (int i = 0; i < 5000; i++) {
        uint32_t a = 1, d = 0, zero = 0;
        de += TRY_INSN("divl %2", : "+a"(a), "+d"(d) : "r"(zero) : "memory") == 0;
    }
    for (int i = 0; i < 3000; i++)
        pf += try_read(hole, 1, &v) == 14;
    report("ud", ud);
    report("gp", gp);
    report("bp", bp_count);
    report("de", de);
    report("pf", pf);
    return 0;
}

/* ---- double faults: a fault while delivering an event, with #DF on its own stack ---- */

static uint8_t df_stack[8192] __attribute__((aligned(16)));
static volatile uint64_t df_seen, df_error;
uint64_t hostile_df_rsp;
int hostile_df_try(void (*fn)(void));
void hostile_df_landing(void);

asm(".text\n"
    ".globl hostile_df_try, hostile_df_landing\n"
    "hostile_df_try:\n"
    "  pushq %rbx; pushq %rbp; pushq %r12; pushq %r13; pushq %r14; pushq %r15\n"
    "  movq %rsp, hostile_df_rsp(%rip)\n"
    "  call *%rdi\n"
    "  xorl %eax, %eax\n"
    "  jmp 1f\n"
    "hostile_df_landing:\n"
    "  movl $1, %eax\n"
    "1: popq %r15; popq %r14; popq %r13; popq %r12; popq %rbp; popq %rbx\n"
    "  ret\n");

/* A double fault is an abort (SDM Vol. 3A, 6.15, interrupt 8): no return to where it came
 * from; the handler resumes after the hostile_df_try() that provoked it. */
static void on_double_fault(struct grt_frame *f)
{
    df_seen++;
    df_error = f->error_code;
    f->rip = (uint64_t)hostile_df_landing;
    f->rsp = hostile_df_rsp;
}

static uint8_t *idt_gate(int vector)
{
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } i;
    asm volatile("sidt %0" : "=m"(i));
    return (uint8_t *)i.base + 16 * vector;
}

static void injected_gp(void)
{
    uint32_t lo, hi;
    asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0x3a) : "memory");   /* #GP from the hypervisor */
}

static void injected_pf(void)
{
    uint64_t p = (uint64_t)window_map(8, 0, 0), c = 4;
    asm volatile("rep insb" : "+D"(p), "+c"(c) : "d"(0x80) : "memory");  /* #PF from the hypervisor */
}

static void gp_without_stack(void)
{
    uint64_t hole = (uint64_t)window_map(9, 0, 0) + 4096;
    asm volatile("movq %%rsp, %%r12\n\t"
                 "movq %0, %%rsp\n\t"
                 "rdmsr\n\t"
                 "movq %%r12, %%rsp" :: "r"(hole), "c"(0x3a) : "rax", "rdx", "r12", "memory");
}

int case_double_fault(void)
{
    grt_set_handler(8, on_double_fault);
    grt_set_ist(8, 1, (uint64_t)df_stack + sizeof(df_stack));
    /* #GP injected while its gate is not present: #NP (contributory) on #GP: #DF. */
    uint8_t *gate = idt_gate(13);
    gate[5] &= 0x7f;
    int r1 = hostile_df_try(injected_gp);
    gate[5] |= 0x80;
    report("gp_np", (uint64_t)r1);
    /* #PF injected (INS into a missing page) while its gate is not present: #DF. */
    gate = idt_gate(14);
    gate[5] &= 0x7f;
    int r2 = hostile_df_try(injected_pf);
    gate[5] |= 0x80;
    report("pf_np", (uint64_t)r2);
    /* #GP injected with RSP in a missing page: #PF delivering it, #PF delivering that: #DF. */
    int r3 = hostile_df_try(gp_without_stack);
    report("no_stack", (uint64_t)r3);
    report("double_faults", df_seen);
    report("error_code", df_error);
    return 0;
}

void random_irq_op(uint64_t r)
{
    switch (r % 6) {
    case 0:
        if (apic_x2())
            grt_wrmsr(0x83f, 32 + (r >> 8) % 224);
        else
            apic_write(0x300, (1u << 18) | (uint32_t)(32 + (r >> 8) % 224));
        break;
    case 1:
        apic_write(0x3e0, (uint32_t)(r >> 8) & 0xb);
        apic_write(0x320, ((r >> 12) & 1 ? LVT_PERIODIC : 0) | (uint32_t)(32 + (r >> 16) % 224));
        apic_write(0x380, 1000 + (uint32_t)(r >> 24) % 20000);
        break;
    case 2:
        apic_write(0x320, LVT_MASKED);
        break;
    case 3:
        asm volatile("sti; nop; nop; cli" ::: "memory");
        break;
    case 4:
        apic_write(0x80, (uint32_t)(r >> 8) & 0xf0);
        break;
    default:
        (void)TRY_INSN("ud2", ::: "memory");
        break;
    }
}
