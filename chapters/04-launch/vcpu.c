/* vcpu.c: building a vCPU (controls, host state, the fields every guest needs) and running
 * it: VM entry through vmenter.S, exit information read, the exit handler called. */
#include "vcpu.h"

#include <stddef.h>

#include "desc.h"
#include "exercise.h"
#include "gdbstub.h"
#include "kernel.h"
#include "mm.h"
#include "vmx_controls.h"
#include "vmx_exit.h"
#include "vmxtrace.h"

/* vmenter.S hard-codes these. */
_Static_assert(offsetof(struct vcpu, regs) == 0, "vmenter.S: regs at offset 0");
_Static_assert(offsetof(struct vcpu, host_rsp) == 128, "vmenter.S: host_rsp at offset 128");
_Static_assert(HOST_RSP == 0x6c14, "vmenter.S: HOST_RSP encoding");
_Static_assert(offsetof(struct guest_regs, r15) == 120, "vmenter.S: register order");

void vcpu_default_config(struct vcpu_config *c)
{
    *c = (struct vcpu_config){0};
    /* HLT exits: a guest that halts must come back to us rather than sleep forever. */
    c->controls.proc.required = CPU_BASED_HLT_EXITING;
    /* Our host is 64-bit: a VM exit must return to 64-bit mode (SDM Vol. 3C, 26.2.4). */
    c->controls.exit.required = VM_EXIT_HOST_ADDR_SPACE_SIZE;
    /* Switch IA32_EFER and IA32_PAT between guest and host where the CPU can (24.7.1,
     * 24.8.1); without them the guest runs with the host's PAT and NXE. */
    c->controls.exit.optional = VM_EXIT_LOAD_IA32_EFER | VM_EXIT_SAVE_IA32_EFER |
                                VM_EXIT_LOAD_IA32_PAT | VM_EXIT_SAVE_IA32_PAT;
    c->controls.entry.optional = VM_ENTRY_LOAD_IA32_EFER | VM_ENTRY_LOAD_IA32_PAT;
}

/* A system segment's base from its 16-byte GDT descriptor (SDM Vol. 3A, 7.2.3). */
uint64_t system_segment_base(uint16_t selector)
{
    struct dtr gdtr = sgdt();
    const uint64_t *d = (const uint64_t *)(gdtr.base + (selector & ~7u));
    uint64_t base = ((d[0] >> 16) & 0xffffff) | (((d[0] >> 56) & 0xff) << 24);
    return base | (d[1] << 32);                      /* 64-bit TSS: 16-byte descriptor */
}

/*
 * The host-state area (SDM Vol. 3C, 24.5): what a VM exit loads (27.5). Taken from
 * the running CPU, because the exit must land in exactly this kernel: its page
 * tables, its descriptor tables, its TSS. The checks it must pass are 26.2.2-26.2.4.
 */
void vcpu_setup_host_state(struct vcpu *v)
{
    /* HOST_RSP is written by vmenter.S, with the stack pointer of each VM entry. */
    // BEGIN EXERCISE 04-2: the host-state area
    // Instruction: Write HOST_CR0/CR3/CR4, the selectors HOST_CS/SS/DS/ES/FS/GS/TR_SELECTOR,
    //   the bases HOST_FS/GS/TR/GDTR/IDTR_BASE, the three SYSENTER MSRs, and HOST_RIP, the
    //   address a VM exit continues at (vmx_vmexit in vmenter.S).
    // Hint: SDM Vol. 3C, 24.5 and 26.2.2-26.2.4; read_cr0(), read_cs(), read_tr(), sgdt(),
    //   rdmsr(MSR_FS_BASE), system_segment_base(). A null TR is refused (error 8).
    vmcs_writel(HOST_CR0, read_cr0());
    vmcs_writel(HOST_CR3, read_cr3());
    vmcs_writel(HOST_CR4, read_cr4());
    vmcs_write16(HOST_CS_SELECTOR, read_cs());
    vmcs_write16(HOST_SS_SELECTOR, read_ss());
    vmcs_write16(HOST_DS_SELECTOR, read_ds());
    vmcs_write16(HOST_ES_SELECTOR, read_es());
    vmcs_write16(HOST_FS_SELECTOR, read_fs());
    vmcs_write16(HOST_GS_SELECTOR, read_gs());
    vmcs_write16(HOST_TR_SELECTOR, read_tr());
    vmcs_writel(HOST_FS_BASE, rdmsr(MSR_FS_BASE));
    vmcs_writel(HOST_GS_BASE, rdmsr(MSR_GS_BASE));
    vmcs_writel(HOST_TR_BASE, system_segment_base(read_tr()));
    vmcs_writel(HOST_GDTR_BASE, sgdt().base);
    vmcs_writel(HOST_IDTR_BASE, sidt().base);
    vmcs_write32(HOST_IA32_SYSENTER_CS, rdmsr(MSR_IA32_SYSENTER_CS));
    vmcs_writel(HOST_IA32_SYSENTER_ESP, rdmsr(MSR_IA32_SYSENTER_ESP));
    vmcs_writel(HOST_IA32_SYSENTER_EIP, rdmsr(MSR_IA32_SYSENTER_EIP));
    vmcs_writel(HOST_RIP, (uint64_t)vmx_vmexit);
    // END EXERCISE 04-2
    /* IA32_EFER and IA32_PAT only when the VM-exit controls load them (27.5.1). */
    if (v->controls.exit & VM_EXIT_LOAD_IA32_EFER)
        vmcs_write64(HOST_IA32_EFER, rdmsr(MSR_EFER));
    if (v->controls.exit & VM_EXIT_LOAD_IA32_PAT)
        vmcs_write64(HOST_IA32_PAT, rdmsr(MSR_IA32_CR_PAT));
}

/* Guest fields that are the same for every guest (24.4.2) and controls set to "nothing". */
static void setup_common_guest_fields(struct vcpu *v, const struct vcpu_config *c)
{
    vmcs_write64(VMCS_LINK_POINTER, ~0ull);          /* no shadow VMCS: must be ~0 (26.3.1.5) */
    vmcs_write32(GUEST_ACTIVITY_STATE, 0);           /* active */
    vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, 0);
    vmcs_writel(GUEST_PENDING_DBG_EXCEPTIONS, 0);
    vmcs_write64(GUEST_IA32_DEBUGCTL, 0);
    vmcs_writel(GUEST_DR7, 0x400);                   /* its reset value */
    vmcs_write32(GUEST_SYSENTER_CS, 0);
    vmcs_writel(GUEST_SYSENTER_ESP, 0);
    vmcs_writel(GUEST_SYSENTER_EIP, 0);
    if (v->controls.entry & VM_ENTRY_LOAD_IA32_PAT)
        vmcs_write64(GUEST_IA32_PAT, 0x0007040600070406ull);   /* the reset value */
    if (v->controls.entry & VM_ENTRY_LOAD_IA32_EFER)
        vmcs_write64(GUEST_IA32_EFER, 0);            /* guest_state.c sets LME/LMA if needed */
    vmcs_write32(EXCEPTION_BITMAP, c->exception_bitmap);
    vmcs_write32(PAGE_FAULT_ERROR_CODE_MASK, 0);
    vmcs_write32(PAGE_FAULT_ERROR_CODE_MATCH, 0);
    vmcs_write32(CR3_TARGET_COUNT, 0);
    vmcs_write32(VM_EXIT_MSR_STORE_COUNT, 0);
    vmcs_write32(VM_EXIT_MSR_LOAD_COUNT, 0);
    vmcs_write32(VM_ENTRY_MSR_LOAD_COUNT, 0);
    vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, 0);       /* no event to inject */
    vmcs_writel(CR0_GUEST_HOST_MASK, 0);             /* the guest owns CR0 and CR4 (ch 05) */
    vmcs_writel(CR4_GUEST_HOST_MASK, 0);
}

int vcpu_create(struct vcpu *v, const struct vmx_caps *caps, const struct vcpu_config *c)
{
    *v = (struct vcpu){.caps = caps, .check_before_launch = true};
    if (vmx_adjust_controls(caps, &c->controls, &v->controls, v->error, sizeof(v->error)))
        return -1;
    vmcs_create(caps, &v->vmcs);
    vmcs_write32(PIN_BASED_VM_EXEC_CONTROL, v->controls.pin);
    vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, v->controls.proc);
    if (v->controls.proc & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS)
        vmcs_write32(SECONDARY_VM_EXEC_CONTROL, v->controls.proc2);
    vmcs_write32(VM_EXIT_CONTROLS, v->controls.exit);
    vmcs_write32(VM_ENTRY_CONTROLS, v->controls.entry);
    vcpu_setup_host_state(v);
    setup_common_guest_fields(v, c);
    return 0;
}

void vcpu_load(struct vcpu *v)
{
    if (vmcs_current() != v->vmcs.pa)
        vmcs_load(&v->vmcs);
}

void vcpu_destroy(struct vcpu *v)
{
    vmcs_clear(&v->vmcs);
    v->launched = false;
}

/* RIP and the instruction length were read at the exit (27.2.4: the length is valid
 * for exits caused by instructions, such as VMCALL, CPUID, HLT, I/O). */
void vcpu_skip_instruction(struct vcpu *v)
{
    v->exit.guest_rip += v->exit.instruction_len;
    vmcs_writel(GUEST_RIP, v->exit.guest_rip);
}

/* The software checker before the first VMLAUNCH: say what the CPU will refuse. */
static void check_before_launch(struct vcpu *v)
{
    vcpu_check_entry(v, &v->predicted);
    if (v->predicted.outcome != ENTRY_OK && !v->quiet_failures)
        kprintf("software check before VMLAUNCH: %s (SDM Vol. 3C, %s)\n", v->predicted.why,
                v->predicted.section);
}

static void read_exit_info(struct vcpu *v)
{
    v->exit.reason = vmcs_read32(VM_EXIT_REASON);
    v->exit.basic = VMX_EXIT_REASON_BASIC(v->exit.reason);
    v->exit.qualification = vmcs_readl(EXIT_QUALIFICATION);
    v->exit.instruction_len = vmcs_read32(VM_EXIT_INSTRUCTION_LEN);
    v->exit.guest_rip = vmcs_readl(GUEST_RIP);
}

/*
 * One VM entry, with the debugging aids of docs/debugging.md around it. They do
 * nothing unless the kernel command line asks for them (vmxtrace=, gdb=).
 */
static enum vmx_status enter_guest(struct vcpu *v)
{
    vmx_trace("%s", v->launched ? "VMRESUME" : "VMLAUNCH");   /* the VMX timeline */
    vmx_trace_insns(true);          /* Bochs traces instructions from here (vmxtrace=insns) */
    gdbstub_guest_enter();          /* gdb's Ctrl-C (an NMI) must not reach the guest */
    enum vmx_status status = vmx_vcpu_enter(v, v->launched);
    gdbstub_guest_exit();           /* back in the host: a Ctrl-C sent meanwhile stops here */
    vmx_trace_insns(false);
    return status;
}

enum vcpu_run_result vcpu_run(struct vcpu *v)
{
    vcpu_load(v);
    if (!v->launched && v->check_before_launch)
        check_before_launch(v);
    for (;;) {
        v->entry_status = enter_guest(v);
        if (v->entry_status != VMX_SUCCEED) {
            /* Read the error now: the next VMX failure would overwrite it. */
            v->entry_error = vmcs_instruction_error(v->entry_status);
            vmx_trace("%s rc=%d error=%u", v->launched ? "VMRESUME" : "VMLAUNCH",
                      v->entry_status, v->entry_error);
            if (!v->quiet_failures)
                vcpu_report_vmfail(v);
            return VCPU_ENTRY_VMFAIL;
        }
        read_exit_info(v);
        if (v->exit.reason & VMX_EXIT_REASONS_FAILED_VMENTRY) {
            if (!v->quiet_failures)
                vcpu_report_entry_failure(v);
            return VCPU_ENTRY_FAILED;          /* launch state unchanged (26.7) */
        }
        v->launched = true;
        v->exits++;
        if (!v->handle_exit)
            return VCPU_NO_HANDLER;
        if (v->handle_exit(v) == VCPU_STOP)
            return VCPU_STOPPED;
    }
}

void vcpu_report_vmfail(const struct vcpu *v)
{
    kprintf("%s failed: %s", v->launched ? "VMRESUME" : "VMLAUNCH", vmx_status_name(v->entry_status));
    if (v->entry_status == VMX_FAIL_VALID)
        kprintf(", VM-instruction error %u: %s", v->entry_error, vmx_error_name(v->entry_error));
    kprintf("\n");
    if (v->entry_error == VMXERR_ENTRY_INVALID_CONTROL_FIELD ||
        v->entry_error == VMXERR_ENTRY_INVALID_HOST_STATE_FIELD) {
        kprintf("  The controls and host state (checks: SDM Vol. 3C, 26.2):\n");
        vmcs_dump(1u << VMCS_FIELD_TYPE_CONTROL | 1u << VMCS_FIELD_TYPE_HOST);
    }
}

void vcpu_report_entry_failure(const struct vcpu *v)
{
    kprintf("VM entry failed: exit reason 0x%x = bit 31 | %u (%s), qualification %lu (%s)\n",
            v->exit.reason, v->exit.basic, vmx_exit_reason_name(v->exit.basic),
            v->exit.qualification,
            vmx_entry_failure_qualification_name(v->exit.basic, v->exit.qualification));
    kprintf("  The guest-state area (checks: SDM Vol. 3C, 26.3; MSR loading: 26.4):\n");
    vmcs_dump(1u << VMCS_FIELD_TYPE_GUEST);
}

/* The checker reads the current VMCS with VMREAD and memory through the 1:1 map. */
static uint64_t read_field(void *ctx, uint32_t field)
{
    uint64_t value = 0;
    (void)ctx;
    return vmread(field, &value) == VMX_SUCCEED ? value : 0;
}

static uint64_t read_phys(void *ctx, uint64_t pa)
{
    (void)ctx;
    if (pa >= (4ull << 30) - 8)
        return ~0ull;                       /* beyond our 1:1 map: no RAM there, reads as 1s */
    return *(volatile const uint64_t *)phys_to_virt(pa);
}

void vcpu_check_entry(const struct vcpu *v, struct entry_verdict *verdict)
{
    const struct vmcs_reader reader = {read_field, read_phys, NULL};
    const struct vmx_check_env env = {
        .caps = v->caps,
        .phys_bits = cpu_phys_addr_bits(),
        .current_vmcs = vmcs_current(),
        .host_ia32e = (rdmsr(MSR_EFER) & EFER_LMA) != 0,
    };
    vmx_check_entry(&reader, &env, verdict);
}
