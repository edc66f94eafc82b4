/* vmx_caps.c: reads the VMX capability MSRs, each only when the CPU says it exists,
 * so a missing MSR is never read by accident (reading it raises #GP). */
#include "vmx_caps.h"

#include "exercise.h"
#include "kernel.h"
#include "trap.h"
#include "vmx_controls.h"

bool cpu_has_vmx(void)
{
    return cpuid(1, 0).ecx & CPUID_1_ECX_VMX;
}

/* SDM Vol. 3D, A.3.3: IA32_VMX_PROCBASED_CTLS2 exists if bit 63 of
 * IA32_VMX_PROCBASED_CTLS is 1 ("activate secondary controls" may be 1). */
bool vmx_has_procbased2(uint64_t procbased)
{
    return CTL_MAY_BE_1(procbased) & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS;
}

/* A.10: IA32_VMX_EPT_VPID_CAP exists if "enable EPT" or "enable VPID" may be 1. */
bool vmx_has_ept_vpid(uint64_t procbased2)
{
    return CTL_MAY_BE_1(procbased2) & (SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_ENABLE_VPID);
}

/* A.11: IA32_VMX_VMFUNC exists if "enable VM functions" may be 1. */
bool vmx_has_vmfunc(uint64_t procbased2)
{
    return CTL_MAY_BE_1(procbased2) & SECONDARY_EXEC_ENABLE_VMFUNC;
}

/* IA32_VMX_PROCBASED_CTLS3 exists if "activate tertiary controls" may be 1. */
bool vmx_has_procbased3(uint64_t procbased)
{
    return CTL_MAY_BE_1(procbased) & CPU_BASED_ACTIVATE_TERTIARY_CONTROLS;
}

/* Read one MSR; on a fault remember which one, so the caller can report it. */
static void read_cap(uint32_t msr, uint64_t *value, uint32_t *failed)
{
    if (*failed)
        return;
    if (rdmsr_safe(msr, value) != NO_FAULT)
        *failed = msr;
}

uint32_t vmx_caps_read(struct vmx_caps *c)
{
    uint32_t failed = 0;
    *c = (struct vmx_caps){0};
    /* 0x480-0x48A exist on every CPU with CPUID.1:ECX.VMX = 1 (Vol. 3D, A.1). */
    read_cap(MSR_IA32_VMX_BASIC, &c->basic, &failed);
    read_cap(MSR_IA32_VMX_PINBASED_CTLS, &c->pinbased, &failed);
    read_cap(MSR_IA32_VMX_PROCBASED_CTLS, &c->procbased, &failed);
    read_cap(MSR_IA32_VMX_EXIT_CTLS, &c->exit, &failed);
    read_cap(MSR_IA32_VMX_ENTRY_CTLS, &c->entry, &failed);
    read_cap(MSR_IA32_VMX_MISC, &c->misc, &failed);
    read_cap(MSR_IA32_VMX_CR0_FIXED0, &c->cr0_fixed0, &failed);
    read_cap(MSR_IA32_VMX_CR0_FIXED1, &c->cr0_fixed1, &failed);
    read_cap(MSR_IA32_VMX_CR4_FIXED0, &c->cr4_fixed0, &failed);
    read_cap(MSR_IA32_VMX_CR4_FIXED1, &c->cr4_fixed1, &failed);
    read_cap(MSR_IA32_VMX_VMCS_ENUM, &c->vmcs_enum, &failed);

    /* The TRUE_* MSRs exist, and are the ones to use, when BASIC[55] = 1 (A.2). */
    // BEGIN EXERCISE 01-2: the TRUE control MSRs, only when IA32_VMX_BASIC[55] = 1
    // Instruction: Set c->has_true_ctls from IA32_VMX_BASIC bit 55. Only when it is 1, read
    //   the four IA32_VMX_TRUE_*_CTLS MSRs into c->true_*. Then make c->pin_ctls,
    //   proc_ctls, exit_ctls and entry_ctls the TRUE values if they exist, else the plain ones.
    // Hint: SDM Vol. 3D, A.1 and A.2; VMX_BASIC_TRUE_CTLS() and read_cap() above.
    c->has_true_ctls = VMX_BASIC_TRUE_CTLS(c->basic);
    if (c->has_true_ctls) {
        read_cap(MSR_IA32_VMX_TRUE_PINBASED_CTLS, &c->true_pinbased, &failed);
        read_cap(MSR_IA32_VMX_TRUE_PROCBASED_CTLS, &c->true_procbased, &failed);
        read_cap(MSR_IA32_VMX_TRUE_EXIT_CTLS, &c->true_exit, &failed);
        read_cap(MSR_IA32_VMX_TRUE_ENTRY_CTLS, &c->true_entry, &failed);
    }
    c->pin_ctls = c->has_true_ctls ? c->true_pinbased : c->pinbased;
    c->proc_ctls = c->has_true_ctls ? c->true_procbased : c->procbased;
    c->exit_ctls = c->has_true_ctls ? c->true_exit : c->exit;
    c->entry_ctls = c->has_true_ctls ? c->true_entry : c->entry;
    // END EXERCISE 01-2

    // BEGIN EXERCISE 01-3: read an MSR only when the CPU says it exists
    // Instruction: Set c->has_procbased2, c->has_ept_vpid and c->has_vmfunc, and read
    //   IA32_VMX_PROCBASED_CTLS2, IA32_VMX_EPT_VPID_CAP and IA32_VMX_VMFUNC only when the
    //   CPU announces them. Reading an absent MSR raises #GP, which read_cap() reports.
    // Hint: SDM Vol. 3D, A.3.3, A.10, A.11; the vmx_has_*() functions above. EPT_VPID_CAP
    //   and VMFUNC are announced in PROCBASED_CTLS2, which itself may be absent.
    c->has_procbased2 = vmx_has_procbased2(c->procbased);
    if (c->has_procbased2)
        read_cap(MSR_IA32_VMX_PROCBASED_CTLS2, &c->procbased2, &failed);
    c->has_ept_vpid = c->has_procbased2 && vmx_has_ept_vpid(c->procbased2);
    if (c->has_ept_vpid)
        read_cap(MSR_IA32_VMX_EPT_VPID_CAP, &c->ept_vpid, &failed);
    c->has_vmfunc = c->has_procbased2 && vmx_has_vmfunc(c->procbased2);
    if (c->has_vmfunc)
        read_cap(MSR_IA32_VMX_VMFUNC, &c->vmfunc, &failed);
    // END EXERCISE 01-3
    return failed;
}
