/* hypercall.h: VMCALL as the guest's system call into the hypervisor: the ABI, a table of
 * handlers chapters fill in, and the exit handler that runs them. */
#ifndef HYPERCALL_H
#define HYPERCALL_H

#include <stdint.h>

#include "vcpu.h"

/*
 * The hypercall ABI (version VM_HYPERCALL_ABI_VERSION, reported by CPUID 0x40000001):
 *
 *   VMCALL at CPL 0 with RAX = the hypercall number,
 *                        RBX, RCX, RDX, RSI = arguments 0-3
 *   returns              RAX = 0 or a negative HC_E* status,
 *                        RBX, RCX, RDX = results (unchanged unless the call says otherwise)
 *   every other register, RSP and RFLAGS are preserved
 *
 * The same registers as KVM's hypercalls. A VMCALL at CPL > 0 returns HC_EPERM: a
 * guest's user programs must not reach the hypervisor behind their kernel's back.
 */
#define VM_HYPERCALL_ABI_VERSION 1
#define VM_HYPERCALLS 32                /* numbers 0-31 */
#define HC_EPERM   (-1L)
#define HC_EINVAL  (-22L)
#define HC_ENOSYS  (-1000L)             /* no such hypercall (KVM's value) */

struct vm;
struct vm_hypercall {
    uint64_t nr;
    uint64_t arg[4];             /* RBX, RCX, RDX, RSI */
    uint64_t ret[3];             /* RBX, RCX, RDX after the call; preset to their values */
};
/* Returns the status for RAX; may call vm_stop() (then the guest is not resumed). */
typedef long (*vm_hypercall_fn)(struct vm *vm, struct vm_hypercall *hc);

struct vm_hypercalls {
    vm_hypercall_fn fn[VM_HYPERCALLS];
    const char *name[VM_HYPERCALLS];
    uint64_t calls, unknown, refused;
};

int vm_hypercall_register(struct vm *vm, unsigned nr, vm_hypercall_fn fn, const char *name);
enum vcpu_action vm_handle_vmcall(struct vm *vm);

#endif
