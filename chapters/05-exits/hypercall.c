/* hypercall.c: VMCALL exits (SDM Vol. 3C, 25.1.2: VMCALL in VMX non-root operation always
 * exits) run the registered hypercall with the ABI of hypercall.h. */
#include "hypercall.h"

#include "kernel.h"
#include "vm.h"

int vm_hypercall_register(struct vm *vm, unsigned nr, vm_hypercall_fn fn, const char *name)
{
    if (nr >= VM_HYPERCALLS || vm->hc.fn[nr])
        return -1;
    vm->hc.fn[nr] = fn;
    vm->hc.name[nr] = name;
    return 0;
}

enum vcpu_action vm_handle_vmcall(struct vm *vm)
{
    struct guest_regs *g = &vm->vcpu.regs;
    struct vm_hypercall hc = {.nr = g->rax, .arg = {g->rbx, g->rcx, g->rdx, g->rsi},
                              .ret = {g->rbx, g->rcx, g->rdx}};
    long status;
    if (vm_guest_cpl(vm) != 0) {
        vm->hc.refused++;
        status = HC_EPERM;
    } else if (hc.nr < VM_HYPERCALLS && vm->hc.fn[hc.nr]) {
        vm->hc.calls++;
        status = vm->hc.fn[hc.nr](vm, &hc);
        if (vm->stop != VM_RUNNING)
            return VCPU_STOP;
    } else {
        vm->hc.unknown++;
        status = HC_ENOSYS;
    }
    g->rax = (uint64_t)status;
    g->rbx = hc.ret[0], g->rcx = hc.ret[1], g->rdx = hc.ret[2];
    vm_skip_instruction(vm);
    return VCPU_RESUME;
}
