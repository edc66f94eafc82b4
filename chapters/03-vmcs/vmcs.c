/* vmcs.c: VMCS regions made current and cleared, field access that explains its own
 * failures by the VM-instruction error's name, and a readable dump of the current VMCS. */
#include "vmcs.h"

#include "exercise.h"
#include "kernel.h"
#include "vmxon.h"

/* VMCLEAR/VMPTRLD failed: say which, on which region, and the SDM's reason. */
static _Noreturn void vmcs_pointer_failed(const char *insn, uint64_t pa, enum vmx_status s)
{
    uint32_t error = s == VMX_FAIL_VALID ? vmx_instruction_error() : 0;
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
    // BEGIN EXERCISE 03-1: make a new VMCS the current VMCS
    // Instruction: Allocate a region holding the revision id (chapter 02's vmx_region_alloc()
    //   fills vmcs->region and vmcs->pa), initialize it with VMCLEAR, then make it current with
    //   VMPTRLD, using vmcs_clear() and vmcs_load().
    // Hint: SDM Vol. 3C, 24.11.3 (initializing a VMCS) and 24.2 (the region).
    vmcs->region = vmx_region_alloc(caps, &vmcs->pa);
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
 * A failed VMREAD/VMWRITE. With VMfailValid the reason is in the VM-instruction
 * error field of the current VMCS: read it now, before anything else (a later
 * failing instruction overwrites it, and after VMXOFF it cannot be read at all).
 */
static _Noreturn void vmcs_access_failed(const char *insn, uint32_t field, enum vmx_status s)
{
    const char *name = vmcs_field_name(field);
    // BEGIN EXERCISE 03-3: explain a failed VMREAD/VMWRITE
    // Instruction: panic() with the instruction, the field's name and encoding, and the
    //   outcome: on VMfailValid also the VM-instruction error number and its SDM name; on
    //   VMfailInvalid say that no VMCS is current.
    // Hint: SDM Vol. 3C, 30.2 and 30.4; vmx_instruction_error(), vmx_error_name().
    if (s == VMX_FAIL_VALID) {
        uint32_t error = vmx_instruction_error();
        panic("%s %s (0x%x): VMfailValid, error %u: %s", insn, name ? name : "?", field, error,
              vmx_error_name(error));
    }
    panic("%s %s (0x%x): %s%s", insn, name ? name : "?", field, vmx_status_name(s),
          s == VMX_FAIL_INVALID ? " (no current VMCS)" : "");
    // END EXERCISE 03-3
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
    for (unsigned i = 0; i < vmcs_field_count; i++) {
        uint32_t f = vmcs_fields[i].encoding;
        uint64_t value;
        if (!(types_mask & (1u << VMCS_FIELD_TYPE(f))) || VMCS_FIELD_ACCESS_HIGH(f))
            continue;
        if (vmread(f, &value) != VMX_SUCCEED)
            continue;                                  /* a field this CPU does not have */
        kprintf("  %-28s %0*lx%s", vmcs_fields[i].name, digits[VMCS_FIELD_WIDTH(f)], value,
                ++column % 2 ? "" : "\n");
        if (column % 2)
            kprintf("%*s", 18 - digits[VMCS_FIELD_WIDTH(f)], "");
    }
    if (column % 2)
        kprintf("\n");
}
