/* guest_start.c: the vCPU's first state: real mode at the start stub (unrestricted guest), or 32-bit
 * protected mode whose "paging off" is an identity map the guest cannot see, until it pages. */
#include "exercise.h"
#include "exit_qual.h"
#include "guest_boot.h"
#include "guest_state.h"
#include "kernel.h"
#include "mm.h"
#include "platform.h"
#include "vmx_controls.h"
#include "vmx_exit.h"

/*
 * Without "unrestricted guest" VM entry insists on CR0.PE = 1 and CR0.PG = 1 (SDM Vol. 3C,
 * 26.3.1.1, IA32_VMX_CR0_FIXED0), but a multiboot kernel expects paging off. So the CPU
 * pages through an identity map of all 4 GiB with 4 MiB pages, which lives in a page the
 * hypervisor owns (mapped read-only above the guest's RAM), while the guest is shown a CR0
 * without PG (read shadow), its own CR3 (CR3-load and -store exiting) and its own CR4 and
 * EFER (kept aside: real EFER.LME must stay 0 while real CR0.PG is 1 and LMA is 0,
 * 26.3.1.1). When the guest sets CR0.PG, its CR3, CR4 and EFER become the real ones, long
 * mode starts if it asked for it, and the exits of this phase are switched off for good.
 */
#define PDE_4M (0x1ull | 0x2 | 0x4 | 0x20 | 0x40 | 0x80)   /* P, RW, US, A, D, PS */

struct pm_shadow {
    bool active;                 /* the guest thinks paging is off; the identity map pages */
    uint64_t cr3, cr4, efer;     /* the guest's values, not yet the real ones */
    uint64_t identity_gpa;
};
static struct pm_shadow shadow;

static bool has_ug(const struct platform *p)
{
    return p->vm.vcpu.controls.proc2 & SECONDARY_EXEC_UNRESTRICTED_GUEST;
}

/* ---- IA32_EFER, in either phase (SDM Vol. 3A, 2.2.1 and 9.8.5) ---- */

static uint64_t guest_efer(void)
{
    return shadow.active ? shadow.efer : vmcs_read64(GUEST_IA32_EFER);
}


static int efer_read(struct vm *vm, void *ctx, uint32_t msr, uint64_t *value)
{
    (void)vm, (void)msr;
    ((struct platform *)ctx)->msr_other++;
    *value = guest_efer();
    return 0;
}

/* SCE, LME and (with NX) NXE are writable, LMA is the CPU's; LME cannot change while
 * paging is on. Anything else is #GP, as on a CPU. */
static int efer_write(struct vm *vm, void *ctx, uint32_t msr, uint64_t value)
{
    struct platform *p = ctx;
    (void)msr;
    uint64_t old = guest_efer(), allowed = EFER_SCE | EFER_LME | EFER_LMA | (p->nx ? EFER_NX : 0);
    bool paging = vm_guest_cr0(vm) & CR0_PG;
    p->efer_writes++;
    p->msr_other++;
    if ((value & ~allowed) || (paging && ((value ^ old) & EFER_LME)))
        return -1;
    value = (value & ~EFER_LMA) | (old & EFER_LMA);
    if (shadow.active)
        shadow.efer = value;
    else
        vmcs_write64(GUEST_IA32_EFER, value);
    return 0;
}

/* ---- the protected-mode phase: CR exits while the guest's paging is off ---- */

static enum vcpu_action gp(struct vm *vm)
{
    vm_inject_gp(vm);
    return VCPU_RESUME;
}

/* Paging on: the guest's CR3, CR4 and EFER become real (9.8.5: long mode if EFER.LME). */
static enum vcpu_action enable_paging(struct platform *p, uint64_t cr0)
{
    struct vm *vm = &p->vm;
    const struct vmx_caps *c = vm->vcpu.caps;
    bool long_mode = shadow.efer & EFER_LME;
    if (long_mode && !(shadow.cr4 & CR4_PAE))
        return gp(vm);                   /* MOV to CR0: PG with LME but no PAE (Vol. 2B, MOV) */
    if (!long_mode && (shadow.cr4 & CR4_PAE)) {
        /* PAE paging with EPT: VM entry loads the four PDPTEs from the VMCS (26.3.2.4). */
        const uint64_t *pdpte = vm_gpa_to_hva(vm, shadow.cr3 & 0xffffffe0u);
        if (!pdpte || (shadow.cr3 & 0xfe0) > 0xfe0)
            return vm_stop(vm, VM_STOP_REFUSED, "PAE page-directory-pointer table at 0x%lx is "
                           "not in RAM", shadow.cr3);
        vmcs_write64(GUEST_PDPTR0, pdpte[0]);
        vmcs_write64(GUEST_PDPTR1, pdpte[1]);
        vmcs_write64(GUEST_PDPTR2, pdpte[2]);
        vmcs_write64(GUEST_PDPTR3, pdpte[3]);
    }
    shadow.active = false;
    platform_mem_unmap_page(p, shadow.identity_gpa);     /* the identity map is done with */
    // BEGIN EXERCISE 07-6: the guest turns paging on
    // Instruction: Make the guest's values real: GUEST_CR3 = shadow.cr3, GUEST_CR4 =
    //   shadow.cr4 with IA32_VMX_CR4_FIXED0/1 applied, and CR4_GUEST_HOST_MASK back to chapter
    //   05's vm->cr.cr4_mask. GUEST_IA32_EFER = shadow.efer, with LMA if long_mode, and then
    //   also the "IA-32e mode guest" entry control (vm->vcpu.controls.entry and the VMCS).
    // Hint: SDM Vol. 3A, 9.8.5 (long mode: LME, then PG sets LMA); Vol. 3C, 26.3.1.1 (LMA
    //   must equal "IA-32e mode guest", and LME when PG is 1).
    vmcs_writel(GUEST_CR3, shadow.cr3);
    vmcs_writel(GUEST_CR4, (shadow.cr4 | c->cr4_fixed0) & c->cr4_fixed1);
    vmcs_writel(CR4_GUEST_HOST_MASK, vm->cr.cr4_mask);
    vmcs_write64(GUEST_IA32_EFER, shadow.efer | (long_mode ? EFER_LMA : 0));
    if (long_mode) {
        vm->vcpu.controls.entry |= VM_ENTRY_IA32E_MODE;
        vmcs_write32(VM_ENTRY_CONTROLS, vm->vcpu.controls.entry);
    }
    // END EXERCISE 07-6
    /* CR0 last: the real one with PG, the guest's view, chapter 05's mask. */
    vmcs_writel(GUEST_CR0, (cr0 | c->cr0_fixed0) & c->cr0_fixed1);
    vmcs_writel(CR0_READ_SHADOW, cr0);
    vmcs_writel(CR0_GUEST_HOST_MASK, vm->cr.cr0_mask);
    vm_set_proc_control(vm, CPU_BASED_CR3_LOAD_EXITING | CPU_BASED_CR3_STORE_EXITING, false);
    vm_msr_passthrough(vm, MSR_EFER, true, true);     /* the VMCS switches it from now on */
    return VCPU_RESUME;
}

static enum vcpu_action shadow_cr0(struct platform *p, uint64_t value)
{
    struct vm *vm = &p->vm;
    const struct vmx_caps *c = vm->vcpu.caps;
    if (value >> 32 || ((value & CR0_NW) && !(value & CR0_CD)) || ((value & CR0_PG) && !(value & CR0_PE)))
        return gp(vm);
    if (!(value & CR0_PE))
        return vm_stop(vm, VM_STOP_REFUSED, "the guest went back to real mode (CR0 0x%lx): not "
                       "emulated without unrestricted guest", value);
    if (value & CR0_PG)
        return enable_paging(p, value);
    vmcs_writel(CR0_READ_SHADOW, value);
    vmcs_writel(GUEST_CR0, (value | CR0_PG | c->cr0_fixed0) & c->cr0_fixed1);
    return VCPU_RESUME;
}

static enum vcpu_action pm_cr_access(struct vm *vm)
{
    struct platform *p = vm->user;
    if (!shadow.active)
        return vm_handle_cr_access(vm);  /* chapter 05's, once the guest pages */
    struct cr_qual q = cr_qual_decode(vm->vcpu.exit.qualification);
    uint64_t cr0 = vmcs_readl(CR0_READ_SHADOW), faults = vm->ev.exceptions_injected;
    enum vcpu_action a = VCPU_RESUME;
    p->pm_cr_exits++;
    if (q.type == CR_ACCESS_MOV_FROM_CR && q.cr == 3) {
        vm_gpr_write(vm, q.gpr, shadow.cr3);
    } else if (q.type == CR_ACCESS_MOV_TO_CR && q.cr == 3) {
        shadow.cr3 = vm_gpr_read(vm, q.gpr) & 0xffffffffu;
    } else if (q.type == CR_ACCESS_MOV_TO_CR && q.cr == 4) {
        uint64_t v = vm_gpr_read(vm, q.gpr);
        if ((v & ~vm->vcpu.caps->cr4_fixed1) || v >> 32 || (v & (CR4_VMXE | CR4_SMXE | vm->cr.cr4_hidden)))
            return gp(vm);
        shadow.cr4 = v;
        vmcs_writel(CR4_READ_SHADOW, v);
    } else if (q.type == CR_ACCESS_MOV_TO_CR && q.cr == 0) {
        a = shadow_cr0(p, vm_gpr_read(vm, q.gpr));
    } else if (q.type == CR_ACCESS_CLTS) {
        a = shadow_cr0(p, cr0 & ~CR0_TS);
    } else if (q.type == CR_ACCESS_LMSW) {
        a = shadow_cr0(p, (cr0 & ~0xeull) | (q.lmsw_data & 0xf) | (cr0 & CR0_PE));
    } else {
        return vm_stop(vm, VM_STOP_UNHANDLED, "CR%u access type %u before paging", q.cr, q.type);
    }
    if (a == VCPU_RESUME && vm->ev.exceptions_injected == faults)
        vm_skip_instruction(vm);
    return a;
}

/* The identity map: 1024 page-directory entries of 4 MiB (32-bit paging, CR4.PSE; 4.3). */
static int build_identity_map(struct platform *p, char *why, size_t n)
{
    uint32_t *pd = page_alloc(1);
    if (!pd) {
        ksnprintf(why, n, "out of memory for the start-up identity map");
        return -1;
    }
    for (uint32_t i = 0; i < 1024; i++)
        pd[i] = (i << 22) | (uint32_t)PDE_4M;  /* A and D preset: the CPU never writes here */
    p->identity_page = pd;
    shadow.identity_gpa = p->ram_size;      /* the first page above the guest's RAM */
    return platform_mem_map_page(p, shadow.identity_gpa, pd, why, n);
}

static int start_protected(struct platform *p, char *why, size_t n)
{
    struct vm *vm = &p->vm;
    const struct vmx_caps *c = vm->vcpu.caps;
    if (build_identity_map(p, why, n))
        return -1;
    shadow = (struct pm_shadow){.active = true, .identity_gpa = shadow.identity_gpa};
    /* EFER exits in this phase (chapter 05 lets the guest write it directly otherwise). */
    if (vm_msr_passthrough(vm, MSR_EFER, false, false) ||
        vm_msr_register(vm, MSR_EFER, 1, efer_read, efer_write, p, "IA32_EFER (start-up)")) {
        ksnprintf(why, n, "no room for the EFER handler");
        return -1;
    }
    vm->vcpu.controls.entry &= ~VM_ENTRY_IA32E_MODE;
    vmcs_write32(VM_ENTRY_CONTROLS, vm->vcpu.controls.entry);
    guest_set_segment(GUEST_SEG_CS, &(struct guest_segment){0x08, 0, 0xffffffff, 0xc09b});
    for (enum guest_seg s = GUEST_SEG_ES; s <= GUEST_SEG_GS; s++)
        if (s != GUEST_SEG_CS)
            guest_set_segment(s, &(struct guest_segment){0x10, 0, 0xffffffff, AR_DATA32});
    guest_set_segment(GUEST_SEG_LDTR, &(struct guest_segment){0, 0, 0, AR_UNUSABLE});
    guest_set_segment(GUEST_SEG_TR, &(struct guest_segment){0, 0, 0x67, AR_TSS_BUSY});
    vmcs_writel(GUEST_GDTR_BASE, GUEST_STUB_GPA + (guest_start_stub_gdt - guest_start_stub));
    vmcs_write32(GUEST_GDTR_LIMIT, 23);
    vmcs_writel(GUEST_IDTR_BASE, 0);
    vmcs_write32(GUEST_IDTR_LIMIT, 0);
    vmcs_writel(GUEST_CR3, shadow.identity_gpa);
    vmcs_writel(GUEST_CR4, (CR4_PSE | c->cr4_fixed0) & c->cr4_fixed1);
    vmcs_writel(GUEST_CR0, (CR0_PE | CR0_PG | CR0_NE | CR0_ET | c->cr0_fixed0) & c->cr0_fixed1);
    vmcs_write64(GUEST_IA32_EFER, 0);
    vmcs_writel(GUEST_RIP, p->image.entry);
    vmcs_writel(GUEST_RSP, GUEST_STACK_TOP);
    vmcs_writel(GUEST_RFLAGS, RFLAGS_FIXED);
    vm->vcpu.regs.rax = MB1_LOADER_MAGIC;
    vm->vcpu.regs.rbx = GUEST_INFO_GPA;
    /* Chapter 05's masks and shadows, then this phase's: CR0.PE/PG and all of CR4 exit. */
    vm_cr_init(vm);
    vmcs_writel(CR0_GUEST_HOST_MASK, vm->cr.cr0_mask | CR0_PE | CR0_PG);
    vmcs_writel(CR0_READ_SHADOW, CR0_PE | CR0_ET);
    vmcs_writel(CR4_GUEST_HOST_MASK, 0xffffffffull);
    vmcs_writel(CR4_READ_SHADOW, 0);
    vm_set_proc_control(vm, CPU_BASED_CR3_LOAD_EXITING | CPU_BASED_CR3_STORE_EXITING, true);
    vmcs_write32(CR3_TARGET_COUNT, 0);
    return 0;
}

int guest_start(struct platform *p, char *why, size_t n)
{
    struct vm *vm = &p->vm;
    vm_set_exit_handler(vm, EXIT_REASON_CR_ACCESS, pm_cr_access);
    if (has_ug(p) && !p->opt.force_protected) {
        p->start = START_REAL_MODE_STUB;
        return guest_state_real_mode(&vm->vcpu, 0, GUEST_STUB_GPA, GUEST_STACK_TOP);
    }
    p->start = START_PROTECTED_MODE;
    return start_protected(p, why, n);
}
