/* vm_cpuid.c: CPUID exits (SDM Vol. 3C, 25.1.2: CPUID always exits): the host's answer with
 * what this guest must not see removed, and the hypervisor leaves 0x40000000-0x40000001. */
#include "exercise.h"
#include "hypercall.h"
#include "kernel.h"
#include "vm.h"

void vm_cpuid_set_filter(struct vm *vm, vm_cpuid_filter filter, void *ctx)
{
    vm->cpuid.filter = filter;
    vm->cpuid.ctx = ctx;
}

/* "vtx-tutorial" as EBX, ECX, EDX: four bytes each, little-endian, like "GenuineIntel". */
static uint32_t signature_word(unsigned i)
{
    const char *s = VM_CPUID_SIGNATURE;
    return (uint32_t)(uint8_t)s[4 * i] | (uint32_t)(uint8_t)s[4 * i + 1] << 8 |
           (uint32_t)(uint8_t)s[4 * i + 2] << 16 | (uint32_t)(uint8_t)s[4 * i + 3] << 24;
}

static struct cpuid_regs default_view(struct vm *vm, uint32_t leaf, uint32_t subleaf)
{
    /* Leaves 0x40000000-0x4fffffff are reserved for hypervisors (SDM Vol. 2A, CPUID). */
    if (leaf >= VM_CPUID_LEAF_BASE && leaf <= 0x4fffffffu) {
        if (leaf == VM_CPUID_LEAF_BASE)
            return (struct cpuid_regs){VM_CPUID_LEAF_MAX, signature_word(0), signature_word(1),
                                       signature_word(2)};
        if (leaf == VM_CPUID_LEAF_ABI)
            return (struct cpuid_regs){VM_HYPERCALL_ABI_VERSION, 0, 0, 0};
        return (struct cpuid_regs){0, 0, 0, 0};
    }
    struct cpuid_regs r = cpuid(leaf, subleaf);
    if (leaf == 1) {
        // BEGIN EXERCISE 05-4: the guest's view of CPUID leaf 1
        // Instruction: Clear ECX bit 5 (VMX: the guest gets no VMX of its own) and bit 6 (SMX:
        //   GETSEC would exit unconditionally), and set ECX bit 31 (a hypervisor is present).
        // Hint: SDM Vol. 2A, CPUID, Table 3-10; CPUID_1_ECX_* in x86.h.
        r.ecx &= ~(CPUID_1_ECX_VMX | CPUID_1_ECX_SMX);
        r.ecx |= CPUID_1_ECX_HYPERVISOR;
        // END EXERCISE 05-4
        /* OSXSAVE (bit 27) shows CR4.OSXSAVE: the guest's, not the host's. */
        r.ecx = (r.ecx & ~(1u << 27)) | (vm_guest_cr4(vm) & CR4_OSXSAVE ? 1u << 27 : 0);
    }
    return r;
}

struct cpuid_regs vm_cpuid(struct vm *vm, uint32_t leaf, uint32_t subleaf)
{
    struct cpuid_regs r = default_view(vm, leaf, subleaf);
    if (vm->cpuid.filter)
        vm->cpuid.filter(vm, vm->cpuid.ctx, leaf, subleaf, &r);
    return r;
}

/* CPUID writes EAX, EBX, ECX, EDX and zeroes their upper halves in 64-bit mode. */
enum vcpu_action vm_handle_cpuid(struct vm *vm)
{
    struct guest_regs *g = &vm->vcpu.regs;
    struct cpuid_regs r = vm_cpuid(vm, (uint32_t)g->rax, (uint32_t)g->rcx);
    g->rax = r.eax, g->rbx = r.ebx, g->rcx = r.ecx, g->rdx = r.edx;
    vm_skip_instruction(vm);
    return VCPU_RESUME;
}
