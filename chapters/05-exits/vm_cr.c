/* vm_cr.c: CR0 and CR4 as the guest sees them (guest/host masks and read shadows, SDM Vol. 3C,
 * 24.6.6 and 25.3) and the emulation of MOV to CR0/CR4, CLTS and LMSW when they exit. */
#include "exercise.h"
#include "exit_qual.h"
#include "kernel.h"
#include "vm.h"
#include "vmx_controls.h"

/*
 * For each bit of CR0 and CR4 (25.3):
 *
 *   mask bit 0: the guest owns it. MOV to CR writes it, MOV from CR reads it, no exit.
 *   mask bit 1: the host owns it. MOV from CR reads the read shadow's bit; MOV to CR
 *               exits if the new value differs from the shadow in any owned bit.
 *
 * The host owns what VMX operation fixes (IA32_VMX_CR0/4_FIXED0 = 1 must be 1, FIXED1
 * = 0 must be 0, 23.8): the guest may believe it cleared CR0.NE or never set CR4.VMXE,
 * while the CPU keeps them as VMX requires. It also owns CR4.VMXE and CR4.SMXE outright,
 * because this guest is told it has neither (CPUID), and the bits of vm->cr.cr4_hidden.
 */
static uint64_t owned_cr0(const struct vm *vm)
{
    const struct vmx_caps *c = vm->vcpu.caps;
    uint64_t fixed0 = c->cr0_fixed0;
    if (vm->vcpu.controls.proc2 & SECONDARY_EXEC_UNRESTRICTED_GUEST)
        fixed0 &= ~(CR0_PE | CR0_PG);        /* 26.3.1.1: the guest may clear them */
    return (fixed0 | ~c->cr0_fixed1) & 0xffffffffull;
}

static uint64_t owned_cr4(const struct vm *vm)
{
    const struct vmx_caps *c = vm->vcpu.caps;
    return (c->cr4_fixed0 | ~c->cr4_fixed1 | CR4_VMXE | CR4_SMXE | vm->cr.cr4_hidden) & 0xffffffffull;
}

void vm_cr_init(struct vm *vm)
{
    vm->cr.cr0_mask = owned_cr0(vm);
    vm->cr.cr4_mask = owned_cr4(vm);
    // BEGIN EXERCISE 05-2: give the guest its own view of CR0 and CR4
    // Instruction: Write CR0_GUEST_HOST_MASK and CR4_GUEST_HOST_MASK from vm->cr.cr0_mask and
    //   vm->cr.cr4_mask. Write the read shadows: CR0_READ_SHADOW = the guest's CR0 as it is
    //   (GUEST_CR0), CR4_READ_SHADOW = GUEST_CR4 without CR4_VMXE, so the guest never sees VMXE.
    // Hint: SDM Vol. 3C, 24.6.6 and 25.3 (MOV from CR0/CR4 returns shadow bits where the mask is set).
    vmcs_writel(CR0_GUEST_HOST_MASK, vm->cr.cr0_mask);
    vmcs_writel(CR4_GUEST_HOST_MASK, vm->cr.cr4_mask);
    vmcs_writel(CR0_READ_SHADOW, vmcs_readl(GUEST_CR0));
    vmcs_writel(CR4_READ_SHADOW, vmcs_readl(GUEST_CR4) & ~CR4_VMXE);
    // END EXERCISE 05-2
    vm->cr.ready = true;
}

static uint64_t guest_view(uint64_t real, uint64_t shadow, uint64_t mask)
{
    return (shadow & mask) | (real & ~mask);
}

uint64_t vm_guest_cr0(struct vm *vm)
{
    (void)vm;
    return guest_view(vmcs_readl(GUEST_CR0), vmcs_readl(CR0_READ_SHADOW), vmcs_readl(CR0_GUEST_HOST_MASK));
}

uint64_t vm_guest_cr4(struct vm *vm)
{
    (void)vm;
    return guest_view(vmcs_readl(GUEST_CR4), vmcs_readl(CR4_READ_SHADOW), vmcs_readl(CR4_GUEST_HOST_MASK));
}

static enum vcpu_action refuse_gp(struct vm *vm, const char *what, uint64_t value)
{
    vm->cr.refused++;
    if (!vm->quiet)
        kprintf("cr: %s 0x%lx refused: #GP(0) injected\n", what, value);
    vm_inject_gp(vm);
    return VCPU_RESUME;                  /* a fault: RIP stays at the instruction */
}

static bool long_mode_active(struct vm *vm)
{
    return (vm->vcpu.controls.entry & VM_ENTRY_IA32E_MODE) != 0;
}

/* MOV to CR0 (SDM Vol. 2B, MOV; Vol. 3A, 2.5): the checks a CPU makes, then real and shadow. */
static enum vcpu_action emulate_cr0(struct vm *vm, uint64_t value)
{
    const struct vmx_caps *c = vm->vcpu.caps;
    if (value >> 32 || ((value & CR0_PG) && !(value & CR0_PE)) ||
        ((value & CR0_NW) && !(value & CR0_CD)))
        return refuse_gp(vm, "MOV to CR0", value);
    if (long_mode_active(vm) && !(value & CR0_PG))
        return refuse_gp(vm, "MOV to CR0 clearing PG in IA-32e mode", value);
    uint64_t fixed0 = c->cr0_fixed0;
    if (vm->vcpu.controls.proc2 & SECONDARY_EXEC_UNRESTRICTED_GUEST)
        fixed0 &= ~(CR0_PE | CR0_PG);
    else if ((value & (CR0_PE | CR0_PG)) != (CR0_PE | CR0_PG))
        return vm_stop(vm, VM_STOP_REFUSED, "the guest turned off protection or paging "
                       "(CR0 0x%lx); this CPU has no unrestricted guest to run it", value);
    uint64_t real = (value | fixed0) & c->cr0_fixed1;
    vmcs_writel(GUEST_CR0, real);
    vmcs_writel(CR0_READ_SHADOW, value);
    vm->cr.cr0_writes++;
    vm->cr.last_guest_cr0 = value, vm->cr.last_real_cr0 = real;
    return VCPU_RESUME;
}

/* MOV to CR4: bits the CPU lacks, VMXE and SMXE (hidden from this guest) fault. */
static enum vcpu_action emulate_cr4(struct vm *vm, uint64_t value)
{
    /* A CPU without the feature has the bit reserved: CR4.OSXSAVE without XSAVE is #GP
     * (SDM Vol. 3A, 2.5); otherwise XSETBV, which always exits, would reach the host. */
    if (value & vm->cr.cr4_hidden)
        return refuse_gp(vm, "MOV to CR4 with a bit of a feature CPUID hides", value);
    // BEGIN EXERCISE 05-3: emulate MOV to CR4
    // Instruction: Refuse (refuse_gp()) a value with bits the CPU does not support (set in
    //   ~IA32_VMX_CR4_FIXED1, or above bit 31), with VMXE or SMXE (this guest has neither),
    //   or without PAE while the guest is in IA-32e mode. Otherwise write the real CR4 with
    //   what VMX needs ((value | FIXED0) & FIXED1) and the read shadow with the guest's value.
    // Hint: SDM Vol. 3C, 23.8 and 25.3; Vol. 2B, MOV (Move to/from Control Registers).
    const struct vmx_caps *c = vm->vcpu.caps;
    if ((value & ~c->cr4_fixed1) || value >> 32 || (value & (CR4_VMXE | CR4_SMXE)))
        return refuse_gp(vm, "MOV to CR4", value);
    if (long_mode_active(vm) && !(value & CR4_PAE))
        return refuse_gp(vm, "MOV to CR4 clearing PAE in IA-32e mode", value);
    uint64_t real = (value | c->cr4_fixed0) & c->cr4_fixed1;
    vmcs_writel(GUEST_CR4, real);
    vmcs_writel(CR4_READ_SHADOW, value);
    // END EXERCISE 05-3
    vm->cr.cr4_writes++;
    vm->cr.last_guest_cr4 = value, vm->cr.last_real_cr4 = vmcs_readl(GUEST_CR4);
    return VCPU_RESUME;
}

/* MOV to CR8 (64-bit mode only): bits 63:4 are reserved (SDM Vol. 2B, MOV to CR). */
static enum vcpu_action emulate_cr8(struct vm *vm, uint64_t value)
{
    if (value >> 4)
        return refuse_gp(vm, "MOV to CR8", value);
    if (vm->cr.cr8_write)
        vm->cr.cr8_write(vm, vm->cr.cr8_ctx, value);
    else
        vm->cr.cr8 = value;
    return VCPU_RESUME;
}

static uint64_t guest_cr8(struct vm *vm)
{
    return vm->cr.cr8_read ? vm->cr.cr8_read(vm, vm->cr.cr8_ctx) : vm->cr.cr8;
}

static enum vcpu_action mov_to_cr(struct vm *vm, const struct cr_qual *q)
{
    uint64_t value = vm_gpr_read(vm, q->gpr);
    switch (q->cr) {
    case 0:
        return emulate_cr0(vm, value);
    case 3:                              /* only with CR3-load exiting (not used here) */
        vmcs_writel(GUEST_CR3, value & ~(1ull << 63));
        return VCPU_RESUME;
    case 4:
        return emulate_cr4(vm, value);
    case 8:
        return emulate_cr8(vm, value);
    default:
        return vm_stop(vm, VM_STOP_UNHANDLED, "MOV to CR%u is not emulated", q->cr);
    }
}

enum vcpu_action vm_handle_cr_access(struct vm *vm)
{
    struct cr_qual q = cr_qual_decode(vm->vcpu.exit.qualification);
    enum vcpu_action a;
    uint64_t cr0 = vm_guest_cr0(vm), faults = vm->ev.exceptions_injected;
    switch (q.type) {
    case CR_ACCESS_MOV_TO_CR:
        a = mov_to_cr(vm, &q);
        break;
    case CR_ACCESS_MOV_FROM_CR:          /* CR8-store exiting (CR3-store: chapter 07's start) */
        vm_gpr_write(vm, q.gpr, q.cr == 3 ? vmcs_readl(GUEST_CR3) : q.cr == 8 ? guest_cr8(vm) : 0);
        a = VCPU_RESUME;
        break;
    case CR_ACCESS_CLTS:
        a = emulate_cr0(vm, cr0 & ~CR0_TS);
        break;
    default:                             /* LMSW: bits 3:0 only, and it cannot clear PE */
        a = emulate_cr0(vm, (cr0 & ~0xeull) | (q.lmsw_data & 0xf) | (cr0 & CR0_PE));
        break;
    }
    /* A refused write injected #GP: the instruction did not complete (RIP stays). */
    if (a == VCPU_RESUME && vm->ev.exceptions_injected == faults)
        vm_skip_instruction(vm);
    return a;
}
