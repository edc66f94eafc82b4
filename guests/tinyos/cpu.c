/* cpu.c: the processor's tables and system-call set-up: GDT with user segments and a
 * TSS, the IDT, SYSCALL/SYSRET MSRs, the per-CPU block behind GS, and the CPUID report. */
#include "kernel.h"

/*
 * GDT layout. SYSCALL loads CS from STAR[47:32] and SS = that + 8; SYSRET to
 * 64-bit mode loads SS = STAR[63:48] + 8 and CS = STAR[63:48] + 16 (SDM Vol. 2B,
 * SYSCALL/SYSRET), so user data must come right before user code.
 */
static u64 gdt[7] = {
    0,
    0x00209A0000000000,          /* 0x08 kernel code: 64-bit, DPL 0 */
    0x0000920000000000,          /* 0x10 kernel data */
    0x0000F20000000000,          /* 0x18 user data, DPL 3 */
    0x0020FA0000000000,          /* 0x20 user code: 64-bit, DPL 3 */
    0, 0,                        /* 0x28 the TSS (a 16-byte descriptor) */
};

/* The 64-bit TSS (SDM Vol. 3A, 7.7): only RSP0 matters, the stack for entries from ring 3. */
static struct {
    u32 reserved0;
    u64 rsp[3];
    u64 reserved1;
    u64 ist[7];
    u64 reserved2;
    u16 reserved3, iomap_base;
} __attribute__((packed)) tss;

struct idt_gate {
    u16 offset_low, selector;
    u8 ist, type;
    u16 offset_mid;
    u32 offset_high, reserved;
};
static struct idt_gate idt[256];

struct percpu percpu;

struct __attribute__((packed)) table_pointer {
    u16 limit;
    u64 base;
};

static void set_gate(int vector, u64 handler)
{
    idt[vector] = (struct idt_gate){
        .offset_low = (u16)handler, .selector = SEL_KCODE, .ist = 0,
        .type = 0x8E,                    /* present, DPL 0, 64-bit interrupt gate: IF cleared */
        .offset_mid = (u16)(handler >> 16), .offset_high = (u32)(handler >> 32),
    };
}

static void load_tables(void)
{
    u64 base = (u64)&tss, limit = sizeof(tss) - 1;
    gdt[5] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ul << 40) | (((base >> 24) & 0xFF) << 56);
    gdt[6] = base >> 32;
    tss.iomap_base = sizeof(tss);        /* no I/O bitmap: user mode has no port access */

    struct table_pointer gp = { sizeof(gdt) - 1, (u64)gdt };
    struct table_pointer ip = { sizeof(idt) - 1, (u64)idt };
    __asm__ volatile(
        "lgdt %0\n\t"
        "pushq %1\n\t"                   /* reload CS with a far return */
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "movw %w2, %%ax\n\t"
        "movw %%ax, %%ds\n\t"
        "movw %%ax, %%es\n\t"
        "movw %%ax, %%ss\n\t"
        "ltr %w3\n\t"
        "lidt %4"
        : : "m"(gp), "i"(SEL_KCODE), "i"(SEL_KDATA), "r"((u16)SEL_TSS), "m"(ip) : "rax", "memory");
}

void cpu_set_kernel_stack(u64 top)
{
    tss.rsp[0] = top;
    percpu.kstack_top = top;
}

int cpu_has_x2apic(void)
{
    u32 r[4];
    cpuid(1, r);
    return (r[2] >> 21) & 1;
}

/* The CPUID facts tinyos depends on, printed so a test can compare them with the CPU. */
static void report_cpu(void)
{
    u32 r[4], max_ext;
    char vendor[13];
    cpuid(0, r);
    memcpy(vendor, &r[1], 4);
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);
    vendor[12] = '\0';
    u32 max_leaf = r[0];
    cpuid(0x80000000, r);
    max_ext = r[0];
    int pages_1g = 0, nx = 0;
    if (max_ext >= 0x80000001) {
        cpuid(0x80000001, r);
        pages_1g = (r[3] >> 26) & 1;
        nx = (r[3] >> 20) & 1;
    }
    extern u32 boot_has_1g_pages;
    kprintf("cpu: vendor=%s max_leaf=0x%x max_ext=0x%x x2apic=%d pages_1g=%d nx=%d\n",
            vendor, max_leaf, max_ext, cpu_has_x2apic(), pages_1g, nx);
    kprintf("paging: boot tables use %s pages\n", boot_has_1g_pages ? "1 GiB" : "2 MiB");
}

void cpu_init(void)
{
    report_cpu();
    load_tables();
    for (int i = 0; i < 35; i++)
        set_gate(i < 32 ? i : 0xF0 + (i - 32), trap_vectors[i]);

    /* GS.base = the per-CPU block while in the kernel; the user's GS (0) waits in
     * KERNEL_GS_BASE until the first SWAPGS on the way to user mode. */
    wrmsr(MSR_GS_BASE, (u64)&percpu);
    wrmsr(MSR_KERNEL_GS_BASE, 0);

    /* SYSCALL/SYSRET (SDM Vol. 3A, 5.8.8): EFER.SCE enables them; FMASK clears IF,
     * TF, DF and AC on entry, so system calls run with interrupts off. */
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | 1);
    wrmsr(MSR_STAR, ((u64)(SEL_KDATA | 3) << 48) | ((u64)SEL_KCODE << 32));
    wrmsr(MSR_LSTAR, (u64)syscall_entry);
    wrmsr(MSR_FMASK, 0x40700);
}
