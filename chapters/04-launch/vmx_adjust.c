/* vmx_adjust.c: control words built from a request and the capability MSRs, the step the
 * issue trackers of other tutorials show most learners get wrong (VM-instruction error 7). */
#include "vmx_adjust.h"

#include "exercise.h"
#include "panic.h"
#include "printf.h"
#include "vmx_controls.h"

uint32_t vmx_adjust_ctl(uint64_t cap_msr, uint32_t required, uint32_t optional, uint32_t *missing)
{
    uint32_t must1 = CTL_MUST_BE_1(cap_msr), may1 = CTL_MAY_BE_1(cap_msr), value = 0;
    *missing = 0;
    // BEGIN EXERCISE 04-1: adjust a control word to its capability MSR
    // Instruction: The value has every bit the MSR requires (must1), plus each required or
    //   optional bit the MSR allows to be 1 (may1). Store in *missing the required bits it
    //   does not allow.
    // Hint: SDM Vol. 3D, A.3.1 (allowed-0 settings in bits 31:0, allowed-1 in bits 63:32).
    value = must1 | ((required | optional) & may1);
    *missing = required & ~may1;
    // END EXERCISE 04-1
    if ((value & must1) != must1 || (value & ~may1) || (value & ~(must1 | required | optional)) ||
        (*missing & ~required))
        panic("control 0x%x (missing 0x%x) does not obey capability MSR 0x%lx", value, *missing,
              cap_msr);
    return value;
}

/* "secondary control bit 7 (SECONDARY_EXEC_UNRESTRICTED_GUEST) is required, but ..." */
static int explain_missing(char *why, size_t size, const char *word, const struct bit_name *names,
                           const char *msr, uint32_t missing)
{
    unsigned bit = (unsigned)__builtin_ctz(missing);
    const char *name = bit_name_lookup(names, bit);
    ksnprintf(why, size, "%s control bit %u (%s) is required, but %s does not allow it to be 1",
              word, bit, name ? name : "reserved", msr);
    return -1;
}

int vmx_adjust_controls(const struct vmx_caps *caps, const struct vmx_controls_request *req,
                        struct vmx_controls *out, char *why, size_t why_size)
{
    uint32_t missing = 0, proc_required = req->proc.required;
    bool t = caps->has_true_ctls;
    *out = (struct vmx_controls){0};
    if (why_size)
        why[0] = '\0';

    /* Secondary controls first: whether any is set decides primary bit 31 (24.6.2). */
    if (caps->has_procbased2)
        out->proc2 = vmx_adjust_ctl(caps->procbased2, req->proc2.required, req->proc2.optional,
                                    &missing);
    else
        missing = req->proc2.required;      /* no IA32_VMX_PROCBASED_CTLS2: nothing allowed */
    if (missing)
        return explain_missing(why, why_size, "secondary processor-based",
                               secondary_exec_bit_names,
                               caps->has_procbased2 ? "IA32_VMX_PROCBASED_CTLS2"
                                                    : "this CPU (it has no secondary controls)",
                               missing);
    if (out->proc2)
        proc_required |= CPU_BASED_ACTIVATE_SECONDARY_CONTROLS;

    out->pin = vmx_adjust_ctl(caps->pin_ctls, req->pin.required, req->pin.optional, &missing);
    if (missing)
        return explain_missing(why, why_size, "pin-based", pin_based_bit_names,
                               t ? "IA32_VMX_TRUE_PINBASED_CTLS" : "IA32_VMX_PINBASED_CTLS", missing);
    out->proc = vmx_adjust_ctl(caps->proc_ctls, proc_required, req->proc.optional, &missing);
    if (missing)
        return explain_missing(why, why_size, "primary processor-based", cpu_based_bit_names,
                               t ? "IA32_VMX_TRUE_PROCBASED_CTLS" : "IA32_VMX_PROCBASED_CTLS",
                               missing);
    if (!(out->proc & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS))
        out->proc2 = 0;                     /* ignored by the CPU when not activated */
    out->exit = vmx_adjust_ctl(caps->exit_ctls, req->exit.required, req->exit.optional, &missing);
    if (missing)
        return explain_missing(why, why_size, "VM-exit", vm_exit_bit_names,
                               t ? "IA32_VMX_TRUE_EXIT_CTLS" : "IA32_VMX_EXIT_CTLS", missing);
    out->entry = vmx_adjust_ctl(caps->entry_ctls, req->entry.required, req->entry.optional,
                                &missing);
    if (missing)
        return explain_missing(why, why_size, "VM-entry", vm_entry_bit_names,
                               t ? "IA32_VMX_TRUE_ENTRY_CTLS" : "IA32_VMX_ENTRY_CTLS", missing);
    return 0;
}
