/* desc.h: the kernel's GDT, TSS and IDT. VM entry later copies these into the
 * VMCS host-state area, which is why the TSS must exist (host TR may not be 0). */
#ifndef DESC_H
#define DESC_H

#include <stdint.h>

#define KERNEL_CS 0x08
#define KERNEL_DS 0x10
#define KERNEL_TSS 0x18          /* 16-byte system descriptor, slots 3 and 4 */

#define IST_DOUBLE_FAULT 1       /* #DF and NMI run on their own stacks */
#define IST_NMI 2

struct __attribute__((packed)) tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
};

void desc_init(void);
uint64_t tss_base(void);

#endif
