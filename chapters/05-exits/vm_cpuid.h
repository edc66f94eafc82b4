/* vm_cpuid.h: CPUID as the guest sees it: the host's answers with the VMX and SMX bits
 * cleared, the hypervisor bit set, and leaves 0x40000000-0x40000001 naming this hypervisor. */
#ifndef VM_CPUID_H
#define VM_CPUID_H

#include <stdint.h>

#include "vcpu.h"
#include "x86.h"

struct vm;

/* Leaf 0x40000000: EAX the highest hypervisor leaf, EBX:ECX:EDX this 12-byte signature. */
#define VM_CPUID_SIGNATURE   "vtx-tutorial"
#define VM_CPUID_LEAF_BASE   0x40000000u
#define VM_CPUID_LEAF_ABI    0x40000001u       /* EAX: the hypercall ABI version */
#define VM_CPUID_LEAF_MAX    VM_CPUID_LEAF_ABI

/* Called after the default view is computed: a later chapter adjusts what it needs. */
typedef void (*vm_cpuid_filter)(struct vm *vm, void *ctx, uint32_t leaf, uint32_t subleaf,
                                struct cpuid_regs *r);

struct vm_cpuid {
    vm_cpuid_filter filter;
    void *ctx;
};

void vm_cpuid_set_filter(struct vm *vm, vm_cpuid_filter filter, void *ctx);
/* What the guest gets for a leaf: the default view, then the filter. */
struct cpuid_regs vm_cpuid(struct vm *vm, uint32_t leaf, uint32_t subleaf);

enum vcpu_action vm_handle_cpuid(struct vm *vm);

#endif
