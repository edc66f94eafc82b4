/* vmx_insn.h: the VMX instructions as C functions (SDM Vol. 3C, 30.3). Each returns its
 * outcome decoded from RFLAGS (30.2), or VMX_FAULT when it raised an exception. */
#ifndef VMX_INSN_H
#define VMX_INSN_H

#include <stdint.h>

#include "trap.h"
#include "vmxtrace.h"

/*
 * How a VMX instruction reports (SDM Vol. 3C, 30.2), in RFLAGS:
 *
 *   VMsucceed      CF = 0, ZF = 0
 *   VMfailInvalid  CF = 1         there is no current VMCS, so nowhere to put an error number
 *   VMfailValid    ZF = 1         the error number is in the current VMCS's
 *                                 VM-instruction error field (read it with VMREAD)
 *
 * An instruction that is not allowed at all (CR4.VMXE = 0, not in VMX operation,
 * IA32_FEATURE_CONTROL not set up) raises an exception instead: #UD or #GP. These
 * wrappers catch it (the EXTABLE mechanism of common/trap.h) and return VMX_FAULT,
 * with the vector in caught_fault.vector, so a demonstration can show it.
 */
enum vmx_status {
    VMX_SUCCEED = 0,
    VMX_FAIL_INVALID = 1,
    VMX_FAIL_VALID = 2,
    VMX_FAULT = 3,
};

enum vmx_status vmx_status_from_rflags(uint64_t rflags);
const char *vmx_status_name(enum vmx_status status);       /* "VMfailValid" */

/* VM-instruction error numbers (SDM Vol. 3C, 30.4, Table 30-1), Linux's names. */
enum vm_instruction_error_number {
    VMXERR_VMCALL_IN_VMX_ROOT_OPERATION = 1,
    VMXERR_VMCLEAR_INVALID_ADDRESS = 2,
    VMXERR_VMCLEAR_VMXON_POINTER = 3,
    VMXERR_VMLAUNCH_NONCLEAR_VMCS = 4,
    VMXERR_VMRESUME_NONLAUNCHED_VMCS = 5,
    VMXERR_VMRESUME_AFTER_VMXOFF = 6,
    VMXERR_ENTRY_INVALID_CONTROL_FIELD = 7,
    VMXERR_ENTRY_INVALID_HOST_STATE_FIELD = 8,
    VMXERR_VMPTRLD_INVALID_ADDRESS = 9,
    VMXERR_VMPTRLD_VMXON_POINTER = 10,
    VMXERR_VMPTRLD_INCORRECT_VMCS_REVISION_ID = 11,
    VMXERR_UNSUPPORTED_VMCS_COMPONENT = 12,
    VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT = 13,
    VMXERR_VMXON_IN_VMX_ROOT_OPERATION = 15,
    VMXERR_ENTRY_INVALID_EXECUTIVE_VMCS_POINTER = 16,
    VMXERR_ENTRY_NONLAUNCHED_EXECUTIVE_VMCS = 17,
    VMXERR_ENTRY_EXECUTIVE_VMCS_POINTER_NOT_VMXON_POINTER = 18,
    VMXERR_VMCALL_NONCLEAR_VMCS = 19,
    VMXERR_VMCALL_INVALID_VM_EXIT_CONTROL_FIELDS = 20,
    VMXERR_VMCALL_INCORRECT_MSEG_REVISION_ID = 22,
    VMXERR_VMXOFF_UNDER_DUAL_MONITOR_TREATMENT_OF_SMIS_AND_SMM = 23,
    VMXERR_VMCALL_INVALID_SMM_MONITOR_FEATURES = 24,
    VMXERR_ENTRY_INVALID_VM_EXECUTION_CONTROL_FIELDS_IN_EXECUTIVE_VMCS = 25,
    VMXERR_ENTRY_EVENTS_BLOCKED_BY_MOV_SS = 26,
    VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID = 28,
};

/* The SDM's words for an error number; "reserved" or "unknown" for the others. */
const char *vmx_error_name(uint32_t error);

/* The encoding of the VM-instruction error field (SDM Vol. 3D, B.3.2). Chapter 03's
 * vmcs_field.h names every field; this one is needed already to explain VMfailValid. */
#define VMX_INSTRUCTION_ERROR_FIELD 0x4400u

/* RFLAGS right after the instruction; on a fault the continue label skips the read. */
#define VMX_INSN(insn_text, ...)                                             \
    ({                                                                       \
        uint64_t rflags_ = 0;                                                \
        fault_arm();                                                         \
        asm volatile("1: " insn_text "\n\t"                                  \
                     "pushfq\n\t"                                            \
                     "popq %[rflags]\n"                                      \
                     "2:\n\t" EXTABLE(1b, 2b)                                \
                     : [rflags] "+r"(rflags_) __VA_ARGS__);                  \
        fault_take() != NO_FAULT ? VMX_FAULT : vmx_status_from_rflags(rflags_); \
    })

/*
 * Each wrapper also reports itself through vmx_trace() (common/include/vmxtrace.h):
 * Bochs logs VM entries and exits but not VMXON, VMCLEAR, VMPTRLD, VMREAD or VMWRITE,
 * and tools/vmx_trace.py needs them for its timeline (docs/debugging.md). rc= is the
 * enum vmx_status, vector= the exception after VMX_FAULT (else -1). Without vmxtrace=
 * on the kernel command line a trace call prints nothing.
 */
static inline int vmx_fault_vector(enum vmx_status s)
{
    return s == VMX_FAULT ? caught_fault.vector : NO_FAULT;
}

/* VMXON with the physical address of a VMXON region (30.3, VMXON). */
static inline enum vmx_status vmxon(uint64_t region_pa)
{
    enum vmx_status s = VMX_INSN("vmxon %[pa]", : [pa] "m"(region_pa) : "cc", "memory");
    vmx_trace("VMXON addr=0x%lx rc=%d vector=%d", region_pa, s, vmx_fault_vector(s));
    return s;
}

static inline enum vmx_status vmxoff(void)
{
    enum vmx_status s = VMX_INSN("vmxoff", : : "cc", "memory");
    vmx_trace("VMXOFF rc=%d vector=%d", s, vmx_fault_vector(s));
    return s;
}

/* VMCLEAR: write the VMCS back to its region, launch state "clear", not current. */
static inline enum vmx_status vmclear(uint64_t vmcs_pa)
{
    enum vmx_status s = VMX_INSN("vmclear %[pa]", : [pa] "m"(vmcs_pa) : "cc", "memory");
    vmx_trace("VMCLEAR addr=0x%lx rc=%d vector=%d", vmcs_pa, s, vmx_fault_vector(s));
    return s;
}

/* VMPTRLD: make the VMCS at this address the current VMCS. */
static inline enum vmx_status vmptrld(uint64_t vmcs_pa)
{
    enum vmx_status s = VMX_INSN("vmptrld %[pa]", : [pa] "m"(vmcs_pa) : "cc", "memory");
    vmx_trace("VMPTRLD addr=0x%lx rc=%d vector=%d", vmcs_pa, s, vmx_fault_vector(s));
    return s;
}

/* VMPTRST: the current-VMCS pointer, ~0 when there is none. */
static inline enum vmx_status vmptrst(uint64_t *vmcs_pa)
{
    enum vmx_status s = VMX_INSN("vmptrst %[pa]", , [pa] "=m"(*vmcs_pa) : : "cc", "memory");
    vmx_trace("VMPTRST addr=0x%lx rc=%d vector=%d", *vmcs_pa, s, vmx_fault_vector(s));
    return s;
}

/* VMREAD of any width: the value arrives zero-extended to 64 bits (24.11.2). */
static inline enum vmx_status vmread(uint32_t field, uint64_t *value)
{
    uint64_t v = 0;
    enum vmx_status s = VMX_INSN("vmread %[field], %[value]", , [value] "+r"(v)
                                 : [field] "r"((uint64_t)field) : "cc");
    vmx_trace("VMREAD field=0x%x value=0x%lx rc=%d vector=%d", field, v, s, vmx_fault_vector(s));
    *value = v;
    return s;
}

static inline enum vmx_status vmwrite(uint32_t field, uint64_t value)
{
    enum vmx_status s = VMX_INSN("vmwrite %[value], %[field]", : [field] "r"((uint64_t)field),
                                 [value] "r"(value) : "cc", "memory");
    vmx_trace("VMWRITE field=0x%x value=0x%lx rc=%d vector=%d", field, value, s,
              vmx_fault_vector(s));
    return s;
}

/*
 * VMLAUNCH and VMRESUME as plain instructions, for demonstrating how they FAIL
 * (chapter 03). If they succeeded, the CPU would leave this function for the
 * guest; chapter 04's vmenter.S is the real entry path, which also handles the exit.
 */
static inline enum vmx_status vmlaunch_expecting_failure(void)
{
    enum vmx_status s = VMX_INSN("vmlaunch", : : "cc", "memory");
    vmx_trace("VMLAUNCH rc=%d vector=%d", s, vmx_fault_vector(s));
    return s;
}

static inline enum vmx_status vmresume_expecting_failure(void)
{
    enum vmx_status s = VMX_INSN("vmresume", : : "cc", "memory");
    vmx_trace("VMRESUME rc=%d vector=%d", s, vmx_fault_vector(s));
    return s;
}

/* The VM-instruction error number after VMfailValid; 0 if it cannot be read. */
static inline uint32_t vmx_instruction_error(void)
{
    uint64_t error = 0;
    if (vmread(VMX_INSTRUCTION_ERROR_FIELD, &error) != VMX_SUCCEED)
        return 0;
    return (uint32_t)error;
}

#endif
