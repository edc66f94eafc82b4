/* vmx_exit_names.c: the basic exit reasons in the SDM's words (Vol. 3D, Appendix C,
 * Table C-1), and what a VM-entry failure's exit qualification means (Vol. 3C, 26.7). */
#include "vmx_exit.h"

#include <stddef.h>

static const char *const names[] = {
    [EXIT_REASON_EXCEPTION_NMI] = "exception or non-maskable interrupt",
    [EXIT_REASON_EXTERNAL_INTERRUPT] = "external interrupt",
    [EXIT_REASON_TRIPLE_FAULT] = "triple fault",
    [EXIT_REASON_INIT_SIGNAL] = "INIT signal",
    [EXIT_REASON_SIPI_SIGNAL] = "start-up IPI (SIPI)",
    [EXIT_REASON_IO_SMI] = "I/O system-management interrupt",
    [EXIT_REASON_OTHER_SMI] = "other SMI",
    [EXIT_REASON_INTERRUPT_WINDOW] = "interrupt window",
    [EXIT_REASON_NMI_WINDOW] = "NMI window",
    [EXIT_REASON_TASK_SWITCH] = "task switch",
    [EXIT_REASON_CPUID] = "CPUID",
    [EXIT_REASON_GETSEC] = "GETSEC",
    [EXIT_REASON_HLT] = "HLT",
    [EXIT_REASON_INVD] = "INVD",
    [EXIT_REASON_INVLPG] = "INVLPG",
    [EXIT_REASON_RDPMC] = "RDPMC",
    [EXIT_REASON_RDTSC] = "RDTSC",
    [EXIT_REASON_RSM] = "RSM",
    [EXIT_REASON_VMCALL] = "VMCALL",
    [EXIT_REASON_VMCLEAR] = "VMCLEAR",
    [EXIT_REASON_VMLAUNCH] = "VMLAUNCH",
    [EXIT_REASON_VMPTRLD] = "VMPTRLD",
    [EXIT_REASON_VMPTRST] = "VMPTRST",
    [EXIT_REASON_VMREAD] = "VMREAD",
    [EXIT_REASON_VMRESUME] = "VMRESUME",
    [EXIT_REASON_VMWRITE] = "VMWRITE",
    [EXIT_REASON_VMOFF] = "VMXOFF",
    [EXIT_REASON_VMON] = "VMXON",
    [EXIT_REASON_CR_ACCESS] = "control-register access",
    [EXIT_REASON_DR_ACCESS] = "MOV DR",
    [EXIT_REASON_IO_INSTRUCTION] = "I/O instruction",
    [EXIT_REASON_MSR_READ] = "RDMSR",
    [EXIT_REASON_MSR_WRITE] = "WRMSR",
    [EXIT_REASON_INVALID_STATE] = "VM-entry failure due to invalid guest state",
    [EXIT_REASON_MSR_LOAD_FAIL] = "VM-entry failure due to MSR loading",
    [EXIT_REASON_MWAIT_INSTRUCTION] = "MWAIT",
    [EXIT_REASON_MONITOR_TRAP_FLAG] = "monitor trap flag",
    [EXIT_REASON_MONITOR_INSTRUCTION] = "MONITOR",
    [EXIT_REASON_PAUSE_INSTRUCTION] = "PAUSE",
    [EXIT_REASON_MCE_DURING_VMENTRY] = "VM-entry failure due to machine-check event",
    [EXIT_REASON_TPR_BELOW_THRESHOLD] = "TPR below threshold",
    [EXIT_REASON_APIC_ACCESS] = "APIC access",
    [EXIT_REASON_EOI_INDUCED] = "virtualized EOI",
    [EXIT_REASON_GDTR_IDTR] = "access to GDTR or IDTR",
    [EXIT_REASON_LDTR_TR] = "access to LDTR or TR",
    [EXIT_REASON_EPT_VIOLATION] = "EPT violation",
    [EXIT_REASON_EPT_MISCONFIG] = "EPT misconfiguration",
    [EXIT_REASON_INVEPT] = "INVEPT",
    [EXIT_REASON_RDTSCP] = "RDTSCP",
    [EXIT_REASON_PREEMPTION_TIMER] = "VMX-preemption timer expired",
    [EXIT_REASON_INVVPID] = "INVVPID",
    [EXIT_REASON_WBINVD] = "WBINVD",
    [EXIT_REASON_XSETBV] = "XSETBV",
    [EXIT_REASON_APIC_WRITE] = "APIC write",
    [EXIT_REASON_RDRAND] = "RDRAND",
    [EXIT_REASON_INVPCID] = "INVPCID",
    [EXIT_REASON_VMFUNC] = "VMFUNC",
    [EXIT_REASON_ENCLS] = "ENCLS",
    [EXIT_REASON_RDSEED] = "RDSEED",
    [EXIT_REASON_PML_FULL] = "page-modification log full",
    [EXIT_REASON_XSAVES] = "XSAVES",
    [EXIT_REASON_XRSTORS] = "XRSTORS",
};

const char *vmx_exit_reason_name(uint32_t basic_reason)
{
    if (basic_reason < sizeof(names) / sizeof(names[0]) && names[basic_reason])
        return names[basic_reason];
    return "unknown exit reason";
}

const char *vmx_entry_failure_qualification_name(uint32_t basic_reason, uint64_t qualification)
{
    if (basic_reason == EXIT_REASON_MSR_LOAD_FAIL)
        return "the 1-based index of the MSR-load entry that failed";
    switch (qualification) {
    case ENTRY_FAIL_DEFAULT: return "no further information";
    case ENTRY_FAIL_PDPTE: return "a PDPTE could not be loaded";
    case ENTRY_FAIL_NMI: return "NMI injection with NMI blocking in the guest";
    case ENTRY_FAIL_VMCS_LINK_PTR: return "invalid VMCS link pointer";
    }
    return "reserved qualification";
}
