/* vmcs.c: VMCS regions made current and cleared, field access that explains its own
 * failures by the VM-instruction error's name, and a readable dump of the current VMCS. */
#include "vmcs.h"

#include "exercise.h"
#include "kernel.h"
#include "vmxon.h"

/* VMCLEAR/VMPTRLD failed: say which, on which region, and the SDM's reason. */
static _Noreturn void vmcs_pointer_failed(const char *insn, uint64_t pa, enum vmx_status s)
{
    uint32_t error = vmcs_instruction_error(s);
    panic("%s 0x%lx: %s%s%s", insn, pa, vmx_status_name(s), error ? ": " : "",
          error ? vmx_error_name(error) : "");
}

void vmcs_clear(const struct vmcs *vmcs)
{
    enum vmx_status s = vmclear(vmcs->pa);
    if (s != VMX_SUCCEED)
        vmcs_pointer_failed("VMCLEAR", vmcs->pa, s);
}

void vmcs_load(const struct vmcs *vmcs)
{
    enum vmx_status s = vmptrld(vmcs->pa);
    if (s != VMX_SUCCEED)
        vmcs_pointer_failed("VMPTRLD", vmcs->pa, s);
}

/*
 * The states of a VMCS (SDM Vol. 3C, 24.1, Figure 24-1):
 *
 *            VMCLEAR                    VMPTRLD                    VMLAUNCH
 *   (any) -----------> clear, not -------------> clear, -------------> launched,
 *                      current                   current                current
 *                         ^                                               |
 *                         +-------------------- VMCLEAR ------------------+
 *
 * VMCLEAR also writes any VMCS data the CPU keeps internally back to the region,
 * so software must VMCLEAR a new region before its first VMPTRLD (24.11.3).
 */
void vmcs_create(const struct vmx_caps *caps, struct vmcs *vmcs)
{
    vmcs->region = vmx_region_alloc(caps, &vmcs->pa);        /* revision id, as VMXON's */
    // BEGIN EXERCISE 03-1: make a new VMCS the current VMCS
    // Instruction: Initialize the new VMCS (vmcs->pa) with VMCLEAR, then make it the current
    //   VMCS with VMPTRLD, using vmcs_clear() and vmcs_load().
    // Hint: SDM Vol. 3C, 24.11.3 (initializing a VMCS) and 24.1 (VMCS states).
    vmcs_clear(vmcs);
    vmcs_load(vmcs);
    // END EXERCISE 03-1
}

uint64_t vmcs_current(void)
{
    uint64_t pa = 0;
    if (vmptrst(&pa) != VMX_SUCCEED)
        panic("VMPTRST failed: not in VMX operation?");
    return pa;
}

/*
 * Why a VMX instruction failed. With VMfailValid the reason is in the VM-instruction
 * error field of the current VMCS: read it now, before anything else (the next failing
 * instruction overwrites it, and after VMXOFF it cannot be read at all). With
 * VMfailInvalid there is no current VMCS, hence no number.
 */
uint32_t vmcs_instruction_error(enum vmx_status s)
{
    uint32_t error = 0;
    // BEGIN EXERCISE 03-3: read why a VMX instruction failed
    // Instruction: After VMfailValid (and only then), read the VM-instruction error number
    //   from the current VMCS into `error`.
    // Hint: SDM Vol. 3C, 30.2 and 30.4; VMREAD of the field VM_INSTRUCTION_ERROR, or
    //   vmx_instruction_error() in vmx_insn.h.
    if (s == VMX_FAIL_VALID)
        error = vmx_instruction_error();
    // END EXERCISE 03-3
    if (s == VMX_FAIL_VALID && error == 0)
        panic("VMfailValid, but no VM-instruction error number was read");
    return error;
}

static _Noreturn void vmcs_access_failed(const char *insn, uint32_t field, enum vmx_status s)
{
    const char *name = vmcs_field_name(field);
    uint32_t error = vmcs_instruction_error(s);
    panic("%s %s (0x%x): %s%s%s%s", insn, name ? name : "?", field, vmx_status_name(s),
          error ? ": " : "", error ? vmx_error_name(error) : "",
          s == VMX_FAIL_INVALID ? " (no current VMCS)" : "");
}

uint64_t __vmcs_readl(uint32_t field)
{
    uint64_t value = 0;
    enum vmx_status s = vmread(field, &value);
    if (s != VMX_SUCCEED)
        vmcs_access_failed("VMREAD", field, s);
    return value;
}

void __vmcs_writel(uint32_t field, uint64_t value)
{
    enum vmx_status s = vmwrite(field, value);
    if (s != VMX_SUCCEED)
        vmcs_access_failed("VMWRITE", field, s);
}

void vmcs_dump(unsigned types_mask)
{
    static const int digits[] = {4, 16, 8, 16};       /* by width: 16, 64, 32, natural */
    unsigned column = 0;
    int pad = 0;
    for (unsigned i = 0; i < vmcs_field_count; i++) {
        uint32_t f = vmcs_fields[i].encoding;
        uint64_t value;
        if (!(types_mask & (1u << VMCS_FIELD_TYPE(f))) || VMCS_FIELD_ACCESS_HIGH(f))
            continue;
        if (vmread(f, &value) != VMX_SUCCEED)
            continue;                                  /* a field this CPU does not have */
        int d = digits[VMCS_FIELD_WIDTH(f)];
        kprintf("%*s%-28s %0*lx", column % 2 ? pad : 2, "", vmcs_fields[i].name, d, value);
        if (column++ % 2)
            kprintf("\n");
        pad = 20 - d;
    }
    if (column % 2)
        kprintf("\n");
}
