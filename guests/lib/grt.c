/* grt.c: the guest runtime: descriptor tables, the C side of interrupt handling with fault
 * recovery, the COM1 console (through common/printf.c) and grt_main(). */
#include "grt.h"

#include <stdarg.h>

#include "printf.h"

#define HC_EXIT 4                        /* guests/exittest/exittest.h: HC_DONE */
#define COM1 0x3f8

volatile uint64_t grt_vector_count[256];
volatile uint64_t grt_last_vector, grt_last_rip, grt_last_rsp, grt_last_cr2;
volatile struct grt_fault grt_fault = {.vector = -1};
uint64_t grt_console_io;

static grt_handler handlers[256];
extern const uint64_t grt_stubs[256];
struct extable_entry {
    uint64_t insn, cont;
};
extern const struct extable_entry grt_extable_start[], grt_extable_end[];

/*
 *   0x00 null   0x08 64-bit code   0x10 data   0x18 TSS (16 bytes)
 * Our own tables: the hypervisor started us with GDTR and IDTR limits of 0.
 */
static uint64_t gdt[5] __attribute__((aligned(16)));
static struct __attribute__((packed)) {
    uint32_t reserved0;
    uint64_t rsp[3], reserved1, ist[7], reserved2;
    uint16_t reserved3, iomap_base;
} tss __attribute__((aligned(16)));
static struct __attribute__((packed)) gate {
    uint16_t off0, sel;
    uint8_t ist, attr;
    uint16_t off1;
    uint32_t off2, reserved;
} idt[256] __attribute__((aligned(16)));
struct __attribute__((packed)) dtr {
    uint16_t limit;
    uint64_t base;
};

void *memset(void *d, int c, size_t n)
{
    unsigned char *p = d;
    while (n--)
        *p++ = (unsigned char)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    unsigned char *p = d;
    const unsigned char *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

void grt_init(void)
{
    uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;
    gdt[1] = 0x00af9a000000ffffull;
    gdt[2] = 0x00cf92000000ffffull;
    gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
             (((base >> 24) & 0xff) << 56);
    gdt[4] = base >> 32;
    tss.iomap_base = sizeof(tss);
    struct dtr g = {sizeof(gdt) - 1, (uint64_t)gdt};
    asm volatile("lgdt %0\n\t"
                 "pushq $0x08\n\t"
                 "leaq 1f(%%rip), %%rax\n\t"
                 "pushq %%rax\n\t"
                 "lretq\n"
                 "1: movl $0x10, %%eax\n\t"
                 "movl %%eax, %%ds\n\tmovl %%eax, %%es\n\tmovl %%eax, %%ss\n\t"
                 "movw $0x18, %%ax\n\tltr %%ax"
                 :: "m"(g) : "rax", "memory");
    for (int v = 0; v < 256; v++) {
        uint64_t off = grt_stubs[v];
        idt[v] = (struct gate){(uint16_t)off, 0x08, 0, 0x8e, (uint16_t)(off >> 16),
                               (uint32_t)(off >> 32), 0};
    }
    struct dtr i = {sizeof(idt) - 1, (uint64_t)idt};
    asm volatile("lidt %0" :: "m"(i));
}

void grt_set_handler(int vector, grt_handler h)
{
    handlers[vector & 255] = h;
}

void grt_set_ist(int vector, int ist, uint64_t stack_top)
{
    tss.ist[ist - 1] = stack_top;
    idt[vector & 255].ist = (uint8_t)ist;
}

static uint64_t read_cr2(void)
{
    uint64_t v;
    asm volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

static void halt_forever(void)
{
    for (;;)
        hypercall(HC_EXIT, 99, 0, 0, 0);
}

void grt_trap(struct grt_frame *f);
void grt_trap(struct grt_frame *f)
{
    grt_vector_count[f->vector]++;
    grt_last_vector = f->vector, grt_last_rip = f->rip, grt_last_rsp = (uint64_t)f;
    if (f->vector == 14)
        grt_last_cr2 = read_cr2();
    if (handlers[f->vector]) {
        handlers[f->vector](f);
        return;
    }
    if (f->vector >= 32)
        return;                          /* a counted interrupt: nothing to acknowledge */
    for (const struct extable_entry *e = grt_extable_start; e < grt_extable_end; e++) {
        if (e->insn == f->rip) {
            grt_fault.vector = (int)f->vector;
            grt_fault.error_code = f->error_code;
            grt_fault.rip = f->rip;
            grt_fault.cr2 = f->vector == 14 ? grt_last_cr2 : 0;
            f->rip = e->cont;
            return;
        }
    }
    gprintf("guest: unexpected exception %lu, error code 0x%lx at RIP 0x%lx\n", f->vector,
            f->error_code, f->rip);
    halt_forever();
}

void gputc(char c)
{
    grt_console_io++;
    while (!(inb(COM1 + 5) & 0x20))      /* LSR.THRE: transmitter ready */
        grt_console_io++;
    grt_console_io++;
    outb(COM1, (uint8_t)c);
}

static void emit(char c, void *ctx)
{
    (void)ctx;
    gputc(c);
}

int gprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvformat(emit, 0, fmt, ap);
    va_end(ap);
    return n;
}

int grt_rdmsr(uint32_t msr, uint64_t *value)
{
    uint32_t lo = 0, hi = 0;
    grt_fault_arm();
    asm volatile("1: rdmsr\n2:\n" GRT_EXTABLE(1b, 2b) : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
    *value = (uint64_t)hi << 32 | lo;
    return grt_fault.vector;
}

int grt_wrmsr(uint32_t msr, uint64_t value)
{
    grt_fault_arm();
    asm volatile("1: wrmsr\n2:\n" GRT_EXTABLE(1b, 2b)
                 :: "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)) : "memory");
    return grt_fault.vector;
}

int grt_write_cr4(uint64_t value)
{
    grt_fault_arm();
    asm volatile("1: mov %0, %%cr4\n2:\n" GRT_EXTABLE(1b, 2b) :: "r"(value) : "memory");
    return grt_fault.vector;
}

void grt_spin(uint64_t ticks)
{
    uint64_t t0 = rdtsc();
    while (rdtsc() - t0 < ticks)
        asm volatile("pause");
}

void grt_main(void);
void grt_main(void)
{
    grt_init();
    int status = guest_main();
    for (;;)
        hypercall(HC_EXIT, (uint64_t)status, 0, 0, 0);
}
