/* desc.c: builds the GDT (code, data, TSS), loads TR, and fills the IDT from
 * the 256 entry stubs of trap_entry.S. */
#include "desc.h"

#include "lib.h"
#include "x86.h"

/*
 *   0x00  null
 *   0x08  KERNEL_CS  64-bit code, DPL 0
 *   0x10  KERNEL_DS  data, DPL 0
 *   0x18  KERNEL_TSS 64-bit TSS (16 bytes: two slots)
 *
 * Why a TSS at all when nothing runs in ring 3: VM entry checks that the
 * host TR selector is not null (SDM Vol. 3C, 26.2.3), and the TSS's IST
 * stacks let #DF and NMI run on a known-good stack.
 */
static uint64_t gdt[5] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));
static uint8_t ist_stacks[2][4096] __attribute__((aligned(16)));

struct __attribute__((packed)) idt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t reserved;
};
static struct idt_gate idt[256] __attribute__((aligned(16)));
extern const uint64_t trap_stubs[256];          /* trap_entry.S */

static void load_gdt_and_tss(void)
{
    uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;
    gdt[0] = 0;
    gdt[1] = 0x00AF9A000000FFFFull;
    gdt[2] = 0x00CF92000000FFFFull;
    /* Type 9 = available 64-bit TSS, present (SDM Vol. 3A, 7.2.3). */
    gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
             (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    gdt[4] = base >> 32;
    tss.ist[IST_DOUBLE_FAULT - 1] = (uint64_t)ist_stacks[0] + sizeof(ist_stacks[0]);
    tss.ist[IST_NMI - 1] = (uint64_t)ist_stacks[1] + sizeof(ist_stacks[1]);
    tss.iomap_base = sizeof(tss);                 /* no I/O permission bitmap */

    struct dtr gdtr = {sizeof(gdt) - 1, (uint64_t)gdt};
    asm volatile("lgdt %0" :: "m"(gdtr));
    /* Reload CS with a far return, the data segments directly. */
    asm volatile("pushq %0\n\t"
                 "leaq 1f(%%rip), %%rax\n\t"
                 "pushq %%rax\n\t"
                 "lretq\n"
                 "1:\n\t"
                 "mov %1, %%ds\n\tmov %1, %%es\n\tmov %1, %%ss"
                 :: "i"(KERNEL_CS), "r"((uint64_t)KERNEL_DS) : "rax", "memory");
    asm volatile("ltr %w0" :: "r"(KERNEL_TSS));
}

static void load_idt(void)
{
    for (int v = 0; v < 256; v++) {
        uint64_t off = trap_stubs[v];
        idt[v] = (struct idt_gate){
            .offset_low = off & 0xffff,
            .selector = KERNEL_CS,
            .ist = v == 8 ? IST_DOUBLE_FAULT : v == 2 ? IST_NMI : 0,
            .type_attr = 0x8e,                    /* present, DPL 0, interrupt gate */
            .offset_mid = (off >> 16) & 0xffff,
            .offset_high = off >> 32,
        };
    }
    struct dtr idtr = {sizeof(idt) - 1, (uint64_t)idt};
    asm volatile("lidt %0" :: "m"(idtr));
}

void desc_init(void)
{
    load_gdt_and_tss();
    load_idt();
}

uint64_t tss_base(void)
{
    return (uint64_t)&tss;
}
