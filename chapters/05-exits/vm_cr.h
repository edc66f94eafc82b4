/* vm_cr.h: control-register virtualization: guest/host masks and read shadows give the guest
 * its own view of CR0 and CR4 (CR4.VMXE hidden); MOV to CR3 runs without an exit. */
#ifndef VM_CR_H
#define VM_CR_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu.h"

struct vm;

struct vm_cr {
    bool ready;                  /* masks and shadows written (vm_cr_init) */
    uint64_t cr0_mask, cr4_mask; /* bits the hypervisor owns: a guest write that changes
                                    one of them exits; reads of them see the shadow */
    uint64_t cr4_hidden;         /* CR4 bits of features CPUID hides from this guest (set
                                    before vm_cr_init): owned, and setting one is #GP */
    /* CR8 is the task priority, TPR[7:4] (SDM Vol. 3A, 10.8.6.1): kept here, or by a local
     * APIC model that installs cr8_read/cr8_write (both or neither). */
    uint64_t cr8;
    uint64_t (*cr8_read)(struct vm *vm, void *ctx);
    void (*cr8_write)(struct vm *vm, void *ctx, uint64_t value);
    void *cr8_ctx;
    uint64_t cr0_writes, cr4_writes, refused;
    uint64_t last_guest_cr0, last_real_cr0;      /* the last MOV to CR0 handled */
    uint64_t last_guest_cr4, last_real_cr4;
};

/*
 * Masks and shadows from the guest state written so far: CR0 owns the bits VMX fixes
 * (IA32_VMX_CR0_FIXED0/1; PE and PG are the guest's under unrestricted guest), CR4 owns
 * VMXE, SMXE, cr4_hidden and every bit FIXED1 forbids. The shadows start as the guest's current
 * values with VMXE cleared. vm_run() calls it before the first entry.
 */
void vm_cr_init(struct vm *vm);

/* The value the guest reads: shadow bits where the mask is set, real bits elsewhere. */
uint64_t vm_guest_cr0(struct vm *vm);
uint64_t vm_guest_cr4(struct vm *vm);

enum vcpu_action vm_handle_cr_access(struct vm *vm);

#endif
