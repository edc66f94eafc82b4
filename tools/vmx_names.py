# vmx_names.py: names for the numbers in a VMX trace: VMCS field encodings, exit reasons,
# VM-instruction errors. Linux vmx.h names; SDM Vol. 3D appendices B and C, Vol. 3C 30.4.
"""Lookup tables for tools/vmx_trace.py (and anything else on the host that decodes VMX)."""

# SDM Vol. 3D, appendix C (basic exit reasons). Linux names (arch/x86/include/uapi/asm/vmx.h);
# the few Linux does not name carry the SDM's wording.
EXIT_REASONS = {
    0: "EXCEPTION_NMI", 1: "EXTERNAL_INTERRUPT", 2: "TRIPLE_FAULT", 3: "INIT_SIGNAL",
    4: "SIPI_SIGNAL", 5: "IO_SMI", 6: "OTHER_SMI", 7: "INTERRUPT_WINDOW", 8: "NMI_WINDOW",
    9: "TASK_SWITCH", 10: "CPUID", 11: "GETSEC", 12: "HLT", 13: "INVD", 14: "INVLPG",
    15: "RDPMC", 16: "RDTSC", 17: "RSM", 18: "VMCALL", 19: "VMCLEAR", 20: "VMLAUNCH",
    21: "VMPTRLD", 22: "VMPTRST", 23: "VMREAD", 24: "VMRESUME", 25: "VMWRITE", 26: "VMOFF",
    27: "VMON", 28: "CR_ACCESS", 29: "DR_ACCESS", 30: "IO_INSTRUCTION", 31: "MSR_READ",
    32: "MSR_WRITE", 33: "INVALID_STATE", 34: "MSR_LOAD_FAIL", 36: "MWAIT_INSTRUCTION",
    37: "MONITOR_TRAP_FLAG", 39: "MONITOR_INSTRUCTION", 40: "PAUSE_INSTRUCTION",
    41: "MCE_DURING_VMENTRY", 43: "TPR_BELOW_THRESHOLD", 44: "APIC_ACCESS",
    45: "EOI_INDUCED", 46: "GDTR_IDTR", 47: "LDTR_TR", 48: "EPT_VIOLATION",
    49: "EPT_MISCONFIG", 50: "INVEPT", 51: "RDTSCP", 52: "PREEMPTION_TIMER", 53: "INVVPID",
    54: "WBINVD", 55: "XSETBV", 56: "APIC_WRITE", 57: "RDRAND", 58: "INVPCID", 59: "VMFUNC",
    60: "ENCLS", 61: "RDSEED", 62: "PML_FULL", 63: "XSAVES", 64: "XRSTORS",
}

# SDM Vol. 3C, 30.4: what VMfailValid's error number means.
VM_INSTRUCTION_ERRORS = {
    1: "VMCALL executed in VMX root operation",
    2: "VMCLEAR with invalid physical address",
    3: "VMCLEAR with VMXON pointer",
    4: "VMLAUNCH with non-clear VMCS",
    5: "VMRESUME with non-launched VMCS",
    6: "VMRESUME after VMXOFF",
    7: "VM entry with invalid control field(s)",
    8: "VM entry with invalid host-state field(s)",
    9: "VMPTRLD with invalid physical address",
    10: "VMPTRLD with VMXON pointer",
    11: "VMPTRLD with incorrect VMCS revision identifier",
    12: "VMREAD/VMWRITE from/to unsupported VMCS component",
    13: "VMWRITE to read-only VMCS component",
    15: "VMXON executed in VMX root operation",
    16: "VM entry with invalid executive-VMCS pointer",
    17: "VM entry with non-launched executive VMCS",
    18: "VM entry with executive-VMCS pointer not VMXON pointer",
    19: "VMCALL with non-clear VMCS",
    20: "VMCALL with invalid VM-exit control fields",
    22: "VMCALL with incorrect MSEG revision identifier",
    23: "VMXOFF under dual-monitor treatment of SMIs and SMM",
    24: "VMCALL with invalid SMM-monitor features",
    25: "VM entry with invalid VM-execution control fields in executive VMCS",
    26: "VM entry with events blocked by MOV SS",
    28: "Invalid operand to INVEPT/INVVPID",
}

_SEGS = ["ES", "CS", "SS", "DS", "FS", "GS", "LDTR", "TR"]


def _vmcs_fields():
    """SDM Vol. 3D, appendix B, with Linux's enum vmcs_field names; the same names as the
    kernels' table, chapters/03-vmcs/vmcs_field.h (tests/tools/test_vmx_trace.py compares)."""
    f = {0x0000: "VIRTUAL_PROCESSOR_ID", 0x0002: "POSTED_INTR_NV", 0x0004: "EPTP_INDEX",
         0x0810: "GUEST_INTR_STATUS", 0x0812: "GUEST_PML_INDEX"}
    for i, s in enumerate(_SEGS):
        f[0x0800 + 2 * i] = "GUEST_%s_SELECTOR" % s
        f[0x4800 + 2 * i] = "GUEST_%s_LIMIT" % s
        f[0x4814 + 2 * i] = "GUEST_%s_AR_BYTES" % s
        f[0x6806 + 2 * i] = "GUEST_%s_BASE" % s
    for i, s in enumerate(_SEGS[:6] + ["TR"]):
        f[0x0c00 + 2 * i] = "HOST_%s_SELECTOR" % s
    f.update({
        0x2000: "IO_BITMAP_A", 0x2002: "IO_BITMAP_B", 0x2004: "MSR_BITMAP",
        0x2006: "VM_EXIT_MSR_STORE_ADDR", 0x2008: "VM_EXIT_MSR_LOAD_ADDR",
        0x200a: "VM_ENTRY_MSR_LOAD_ADDR", 0x200c: "EXECUTIVE_VMCS_POINTER",
        0x200e: "PML_ADDRESS", 0x2010: "TSC_OFFSET", 0x2012: "VIRTUAL_APIC_PAGE_ADDR",
        0x2014: "APIC_ACCESS_ADDR", 0x2016: "POSTED_INTR_DESC_ADDR",
        0x2018: "VM_FUNCTION_CONTROL", 0x201a: "EPT_POINTER", 0x201c: "EOI_EXIT_BITMAP0",
        0x201e: "EOI_EXIT_BITMAP1", 0x2020: "EOI_EXIT_BITMAP2", 0x2022: "EOI_EXIT_BITMAP3",
        0x2024: "EPTP_LIST_ADDRESS", 0x2026: "VMREAD_BITMAP", 0x2028: "VMWRITE_BITMAP",
        0x202a: "VE_INFORMATION_ADDRESS", 0x202c: "XSS_EXIT_BITMAP",
        0x202e: "ENCLS_EXITING_BITMAP", 0x2030: "SPP_TABLE_POINTER", 0x2032: "TSC_MULTIPLIER",
        0x2400: "GUEST_PHYSICAL_ADDRESS",
        0x2800: "VMCS_LINK_POINTER", 0x2802: "GUEST_IA32_DEBUGCTL", 0x2804: "GUEST_IA32_PAT",
        0x2806: "GUEST_IA32_EFER", 0x2808: "GUEST_IA32_PERF_GLOBAL_CTRL",
        0x280a: "GUEST_PDPTR0", 0x280c: "GUEST_PDPTR1", 0x280e: "GUEST_PDPTR2",
        0x2810: "GUEST_PDPTR3", 0x2812: "GUEST_BNDCFGS", 0x2814: "GUEST_IA32_RTIT_CTL",
        0x2818: "GUEST_IA32_PKRS",
        0x2c00: "HOST_IA32_PAT", 0x2c02: "HOST_IA32_EFER", 0x2c04: "HOST_IA32_PERF_GLOBAL_CTRL",
        0x2c06: "HOST_IA32_PKRS",
        0x4000: "PIN_BASED_VM_EXEC_CONTROL", 0x4002: "CPU_BASED_VM_EXEC_CONTROL",
        0x4004: "EXCEPTION_BITMAP", 0x4006: "PAGE_FAULT_ERROR_CODE_MASK",
        0x4008: "PAGE_FAULT_ERROR_CODE_MATCH", 0x400a: "CR3_TARGET_COUNT",
        0x400c: "VM_EXIT_CONTROLS", 0x400e: "VM_EXIT_MSR_STORE_COUNT",
        0x4010: "VM_EXIT_MSR_LOAD_COUNT", 0x4012: "VM_ENTRY_CONTROLS",
        0x4014: "VM_ENTRY_MSR_LOAD_COUNT", 0x4016: "VM_ENTRY_INTR_INFO_FIELD",
        0x4018: "VM_ENTRY_EXCEPTION_ERROR_CODE", 0x401a: "VM_ENTRY_INSTRUCTION_LEN",
        0x401c: "TPR_THRESHOLD", 0x401e: "SECONDARY_VM_EXEC_CONTROL", 0x4020: "PLE_GAP",
        0x4022: "PLE_WINDOW",
        0x4400: "VM_INSTRUCTION_ERROR", 0x4402: "VM_EXIT_REASON", 0x4404: "VM_EXIT_INTR_INFO",
        0x4406: "VM_EXIT_INTR_ERROR_CODE", 0x4408: "IDT_VECTORING_INFO_FIELD",
        0x440a: "IDT_VECTORING_ERROR_CODE", 0x440c: "VM_EXIT_INSTRUCTION_LEN",
        0x440e: "VMX_INSTRUCTION_INFO",
        0x4810: "GUEST_GDTR_LIMIT", 0x4812: "GUEST_IDTR_LIMIT",
        0x4824: "GUEST_INTERRUPTIBILITY_INFO", 0x4826: "GUEST_ACTIVITY_STATE",
        0x4828: "GUEST_SMBASE", 0x482a: "GUEST_SYSENTER_CS",
        0x482e: "VMX_PREEMPTION_TIMER_VALUE", 0x4c00: "HOST_IA32_SYSENTER_CS",
        0x6000: "CR0_GUEST_HOST_MASK", 0x6002: "CR4_GUEST_HOST_MASK",
        0x6004: "CR0_READ_SHADOW", 0x6006: "CR4_READ_SHADOW",
        0x6008: "CR3_TARGET_VALUE0", 0x600a: "CR3_TARGET_VALUE1",
        0x600c: "CR3_TARGET_VALUE2", 0x600e: "CR3_TARGET_VALUE3",
        0x6400: "EXIT_QUALIFICATION", 0x6402: "IO_RCX", 0x6404: "IO_RSI",
        0x6406: "IO_RDI", 0x6408: "IO_RIP", 0x640a: "GUEST_LINEAR_ADDRESS",
        0x6800: "GUEST_CR0", 0x6802: "GUEST_CR3", 0x6804: "GUEST_CR4",
        0x6816: "GUEST_GDTR_BASE", 0x6818: "GUEST_IDTR_BASE", 0x681a: "GUEST_DR7",
        0x681c: "GUEST_RSP", 0x681e: "GUEST_RIP", 0x6820: "GUEST_RFLAGS",
        0x6822: "GUEST_PENDING_DBG_EXCEPTIONS", 0x6824: "GUEST_SYSENTER_ESP",
        0x6826: "GUEST_SYSENTER_EIP", 0x6828: "GUEST_S_CET", 0x682a: "GUEST_SSP",
        0x682c: "GUEST_INTR_SSP_TABLE",
        0x6c00: "HOST_CR0", 0x6c02: "HOST_CR3", 0x6c04: "HOST_CR4", 0x6c06: "HOST_FS_BASE",
        0x6c08: "HOST_GS_BASE", 0x6c0a: "HOST_TR_BASE", 0x6c0c: "HOST_GDTR_BASE",
        0x6c0e: "HOST_IDTR_BASE", 0x6c10: "HOST_IA32_SYSENTER_ESP",
        0x6c12: "HOST_IA32_SYSENTER_EIP", 0x6c14: "HOST_RSP", 0x6c16: "HOST_RIP",
        0x6c18: "HOST_S_CET", 0x6c1a: "HOST_SSP", 0x6c1c: "HOST_INTR_SSP_TABLE",
    })
    return f


VMCS_FIELDS = _vmcs_fields()


def field_name(encoding):
    """GUEST_RIP for 0x681e; a 64-bit field's high half (bit 0 = 1) gets _HIGH."""
    if encoding in VMCS_FIELDS:
        return VMCS_FIELDS[encoding]
    if encoding & 1 and (encoding >> 13) & 3 == 1 and encoding - 1 in VMCS_FIELDS:
        return VMCS_FIELDS[encoding - 1] + "_HIGH"
    return "field 0x%x" % encoding


def exit_reason_name(reason):
    """'EXIT_REASON_CPUID' for 10; bit 31 (VM-entry failure) is described too."""
    basic = reason & 0xffff
    name = "EXIT_REASON_" + EXIT_REASONS[basic] if basic in EXIT_REASONS else "reason %d" % basic
    if reason & 0x80000000:
        name += " (VM-entry failure)"
    return name


def instruction_error(number):
    return VM_INSTRUCTION_ERRORS.get(number, "unknown VM-instruction error %d" % number)
