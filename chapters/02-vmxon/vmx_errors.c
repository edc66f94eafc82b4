/* vmx_errors.c: what a VMX instruction's outcome means: RFLAGS decoded (SDM Vol. 3C, 30.2)
 * and the VM-instruction error numbers in the SDM's words (30.4, Table 30-1). */
#include "vmx_insn.h"

#include <stddef.h>

#include "x86.h"

enum vmx_status vmx_status_from_rflags(uint64_t rflags)
{
    /* VMfailInvalid sets CF, VMfailValid sets ZF; both clear the other flags (30.2). */
    if (rflags & RFLAGS_CF)
        return VMX_FAIL_INVALID;
    if (rflags & RFLAGS_ZF)
        return VMX_FAIL_VALID;
    return VMX_SUCCEED;
}

const char *vmx_status_name(enum vmx_status status)
{
    switch (status) {
    case VMX_SUCCEED: return "VMsucceed";
    case VMX_FAIL_INVALID: return "VMfailInvalid";
    case VMX_FAIL_VALID: return "VMfailValid";
    case VMX_FAULT: return "exception";
    }
    return "?";
}

/* SDM Vol. 3C, Table 30-1 (325384-059US); 14, 21 and 27 are reserved. */
static const char *const error_names[] = {
    [VMXERR_VMCALL_IN_VMX_ROOT_OPERATION] = "VMCALL executed in VMX root operation",
    [VMXERR_VMCLEAR_INVALID_ADDRESS] = "VMCLEAR with invalid physical address",
    [VMXERR_VMCLEAR_VMXON_POINTER] = "VMCLEAR with VMXON pointer",
    [VMXERR_VMLAUNCH_NONCLEAR_VMCS] = "VMLAUNCH with non-clear VMCS",
    [VMXERR_VMRESUME_NONLAUNCHED_VMCS] = "VMRESUME with non-launched VMCS",
    [VMXERR_VMRESUME_AFTER_VMXOFF] = "VMRESUME after VMXOFF (VMXOFF and VMXON between "
                                     "VMLAUNCH and VMRESUME)",
    [VMXERR_ENTRY_INVALID_CONTROL_FIELD] = "VM entry with invalid control field(s)",
    [VMXERR_ENTRY_INVALID_HOST_STATE_FIELD] = "VM entry with invalid host-state field(s)",
    [VMXERR_VMPTRLD_INVALID_ADDRESS] = "VMPTRLD with invalid physical address",
    [VMXERR_VMPTRLD_VMXON_POINTER] = "VMPTRLD with VMXON pointer",
    [VMXERR_VMPTRLD_INCORRECT_VMCS_REVISION_ID] = "VMPTRLD with incorrect VMCS revision identifier",
    [VMXERR_UNSUPPORTED_VMCS_COMPONENT] = "VMREAD/VMWRITE from/to unsupported VMCS component",
    [VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT] = "VMWRITE to read-only VMCS component",
    [VMXERR_VMXON_IN_VMX_ROOT_OPERATION] = "VMXON executed in VMX root operation",
    [VMXERR_ENTRY_INVALID_EXECUTIVE_VMCS_POINTER] = "VM entry with invalid executive-VMCS pointer",
    [VMXERR_ENTRY_NONLAUNCHED_EXECUTIVE_VMCS] = "VM entry with non-launched executive VMCS",
    [VMXERR_ENTRY_EXECUTIVE_VMCS_POINTER_NOT_VMXON_POINTER] =
        "VM entry with executive-VMCS pointer not VMXON pointer",
    [VMXERR_VMCALL_NONCLEAR_VMCS] = "VMCALL with non-clear VMCS",
    [VMXERR_VMCALL_INVALID_VM_EXIT_CONTROL_FIELDS] = "VMCALL with invalid VM-exit control fields",
    [VMXERR_VMCALL_INCORRECT_MSEG_REVISION_ID] = "VMCALL with incorrect MSEG revision identifier",
    [VMXERR_VMXOFF_UNDER_DUAL_MONITOR_TREATMENT_OF_SMIS_AND_SMM] =
        "VMXOFF under dual-monitor treatment of SMIs and SMM",
    [VMXERR_VMCALL_INVALID_SMM_MONITOR_FEATURES] = "VMCALL with invalid SMM-monitor features",
    [VMXERR_ENTRY_INVALID_VM_EXECUTION_CONTROL_FIELDS_IN_EXECUTIVE_VMCS] =
        "VM entry with invalid VM-execution control fields in executive VMCS",
    [VMXERR_ENTRY_EVENTS_BLOCKED_BY_MOV_SS] = "VM entry with events blocked by MOV SS",
    [VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID] = "Invalid operand to INVEPT/INVVPID",
};

const char *vmx_error_name(uint32_t error)
{
    if (error == 0)
        return "no error recorded";
    if (error >= sizeof(error_names) / sizeof(error_names[0]))
        return "unknown error number";
    return error_names[error] ? error_names[error] : "reserved error number";
}
