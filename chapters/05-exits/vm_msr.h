/* vm_msr.h: RDMSR/WRMSR through the MSR bitmap: pass-through for MSRs the VMCS switches,
 * emulation for registered ones, #GP injected into the guest for every other MSR. */
#ifndef VM_MSR_H
#define VM_MSR_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu.h"

struct vm;

/* Return 0, or -1: the access is refused and the guest gets #GP(0). */
typedef int (*vm_msr_read_fn)(struct vm *vm, void *ctx, uint32_t msr, uint64_t *value);
typedef int (*vm_msr_write_fn)(struct vm *vm, void *ctx, uint32_t msr, uint64_t value);

#define VM_MSR_HANDLERS 24
struct vm_msr_handler {
    uint32_t first, last;
    vm_msr_read_fn read;         /* NULL: reads are refused */
    vm_msr_write_fn write;       /* NULL: writes are refused */
    void *ctx;
    const char *name;
};

struct vm_msr {
    uint8_t *bitmap;             /* 4 KiB: read low, read high, write low, write high (24.6.9) */
    struct vm_msr_handler h[VM_MSR_HANDLERS];
    unsigned n;
    uint64_t reads, writes, refused;
};

/* Allocate the bitmap with every bit set (every MSR access exits). */
void vm_msr_init(struct vm *vm);
void vm_msr_destroy(struct vm *vm);

/* MSRs first .. first + count - 1 are emulated by these functions. */
int vm_msr_register(struct vm *vm, uint32_t first, uint32_t count, vm_msr_read_fn read,
                    vm_msr_write_fn write, void *ctx, const char *name);
/*
 * Let RDMSR and/or WRMSR of one MSR run without an exit (clear its bitmap bits). Only
 * for MSRs whose guest value the VMCS switches (FS_BASE, GS_BASE, SYSENTER_*), or the
 * guest changes the host's. MSRs outside 0-0x1fff and 0xc0000000-0xc0001fff always exit.
 */
int vm_msr_passthrough(struct vm *vm, uint32_t msr, bool read, bool write);
/* Pass through the MSRs the guest-state area holds: FS_BASE, GS_BASE, SYSENTER_CS/ESP/EIP,
 * and IA32_EFER and IA32_PAT where the entry and exit controls load and save them (without
 * them, EFER is emulated: readable, unchangeable). */
void vm_msr_passthrough_guest_state(struct vm *vm);
bool vm_msr_intercepted(const struct vm *vm, uint32_t msr, bool write);

enum vcpu_action vm_handle_rdmsr(struct vm *vm);
enum vcpu_action vm_handle_wrmsr(struct vm *vm);

#endif
