/* vmxon.c: the steps that take a CPU into VMX root operation and back, in the order
 * the SDM gives them (Vol. 3C, 23.7 and 31.5): feature control, CR0/CR4, region, VMXON. */
#include "vmxon.h"

#include "exercise.h"
#include "kernel.h"
#include "mm.h"
#include "trap.h"

/*
 * Step 1: IA32_FEATURE_CONTROL (SDM Vol. 3C, 23.7). VMXON raises #GP unless the
 * lock bit (0) is set and, outside SMX, bit 2 is set. Firmware normally writes
 * and locks it at boot; our boot ROM is no firmware, so on Bochs it is still 0
 * and we must do it. Once locked, the MSR cannot change until the next reset.
 */
enum feature_control_state vmx_feature_control_enable(uint64_t *before, uint64_t *after)
{
    uint64_t fc = 0;
    *before = *after = 0;
    if (rdmsr_safe(MSR_IA32_FEAT_CTL, &fc) != NO_FAULT)
        return FEATURE_CONTROL_FAULT;
    *before = fc;
    // BEGIN EXERCISE 02-1: lock IA32_FEATURE_CONTROL with VMX enabled
    // Instruction: If the lock bit is clear, write the MSR back with bit 2 (VMX outside
    //   SMX) and bit 0 (lock) set, using wrmsr_safe() (return FEATURE_CONTROL_FAULT if it
    //   faults), then read the MSR again into fc.
    // Hint: SDM Vol. 3C, 23.7. The bit names are FEAT_CTL_* in vmx_caps.h.
    if (!(fc & FEAT_CTL_LOCKED)) {
        if (wrmsr_safe(MSR_IA32_FEAT_CTL, fc | FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX | FEAT_CTL_LOCKED) !=
            NO_FAULT)
            return FEATURE_CONTROL_FAULT;
        if (rdmsr_safe(MSR_IA32_FEAT_CTL, &fc) != NO_FAULT)
            return FEATURE_CONTROL_FAULT;
    }
    // END EXERCISE 02-1
    *after = fc;
    if ((fc & FEAT_CTL_LOCKED) && (fc & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX))
        return FEATURE_CONTROL_READY;
    return FEATURE_CONTROL_LOCKED_OFF;
}

/*
 * Step 2: CR0 and CR4 (SDM Vol. 3C, 23.8; Vol. 3D, A.7-A.8). A bit set in FIXED0
 * must be 1, a bit clear in FIXED1 must be 0, in VMX operation. For CR4 that
 * includes VMXE (bit 13), which also makes the VMX instructions exist at all:
 * with CR4.VMXE = 0, VMXON raises #UD.
 */
uint64_t vmx_apply_fixed_bits(uint64_t value, uint64_t fixed0, uint64_t fixed1)
{
    return (value | fixed0) & fixed1;
}

void vmx_adjust_control_registers(const struct vmx_caps *caps)
{
    // BEGIN EXERCISE 02-2: CR0 and CR4 as VMX operation requires
    // Instruction: Write CR0 and CR4 back with the bits IA32_VMX_CR{0,4}_FIXED0 require set,
    //   and the bits IA32_VMX_CR{0,4}_FIXED1 forbid cleared; make sure CR4.VMXE is set.
    // Hint: SDM Vol. 3C, 23.8; vmx_apply_fixed_bits(), read_cr0()/write_cr0(), caps->cr0_fixed0.
    write_cr0(vmx_apply_fixed_bits(read_cr0(), caps->cr0_fixed0, caps->cr0_fixed1));
    write_cr4(vmx_apply_fixed_bits(read_cr4() | CR4_VMXE, caps->cr4_fixed0, caps->cr4_fixed1));
    // END EXERCISE 02-2
    if ((read_cr0() & caps->cr0_fixed0) != caps->cr0_fixed0 || !(read_cr4() & CR4_VMXE))
        panic("CR0 0x%lx, CR4 0x%lx: IA32_VMX_CR0_FIXED0 (0x%lx) bits or CR4.VMXE missing",
              read_cr0(), read_cr4(), caps->cr0_fixed0);
}

bool vmx_pa_fits(const struct vmx_caps *caps, uint64_t pa)
{
    /* IA32_VMX_BASIC[48]: addresses limited to 32 bits (only on CPUs without long mode). */
    unsigned bits = VMX_BASIC_ADDR32(caps->basic) ? 32 : cpu_phys_addr_bits();
    return bits >= 64 || (pa >> bits) == 0;
}

/*
 * Step 3: the VMXON region (SDM Vol. 3C, 24.11.5), which has the format of a VMCS
 * region (24.2): IA32_VMX_BASIC[44:32] bytes, 4 KiB aligned, within the physical-
 * address width, its first 4 bytes the VMCS revision identifier with bit 31 clear.
 * The rest belongs to the CPU; software never reads or writes it.
 *
 *   byte 0       4            8                                   size
 *   +------------+------------+-----------------------------------+
 *   | revision id| (abort     | processor-owned, format unknown   |
 *   | bit 31 = 0 |  indicator)|                                   |
 *   +------------+------------+-----------------------------------+
 */
void *vmx_region_alloc(const struct vmx_caps *caps, uint64_t *pa)
{
    uint32_t size = VMX_BASIC_VMCS_SIZE(caps->basic);
    void *region = NULL;
    if (size == 0 || size > PAGE_SIZE)
        panic("IA32_VMX_BASIC says the region is %u bytes; expected 1..4096", size);
    // BEGIN EXERCISE 02-3: a VMXON/VMCS region
    // Instruction: Allocate one zeroed page (it is 4 KiB aligned), write the VMCS revision
    //   identifier from IA32_VMX_BASIC[30:0] into its first 4 bytes (bit 31 clear), and
    //   store the page's physical address in *pa.
    // Hint: SDM Vol. 3C, 24.2 and 24.11.5; page_alloc(), virt_to_phys(), VMX_BASIC_REVISION().
    region = page_alloc(1);
    if (!region)
        panic("out of memory for a VMX region");
    *(volatile uint32_t *)region = VMX_BASIC_REVISION(caps->basic);
    *pa = virt_to_phys(region);
    // END EXERCISE 02-3
    if (!IS_ALIGNED(*pa, PAGE_SIZE) || !vmx_pa_fits(caps, *pa))
        panic("region at 0x%lx is not 4 KiB aligned or beyond the physical-address width", *pa);
    return region;
}

/* Step 4: VMXON (SDM Vol. 3C, 30.3). Succeeds, or fails invalid (bad region), or faults. */
enum vmx_status vmx_on(const struct vmx_caps *caps, struct vmx_root *root)
{
    root->region = vmx_region_alloc(caps, &root->region_pa);
    enum vmx_status status = vmxon(root->region_pa);
    root->on = status == VMX_SUCCEED;
    return status;
}

/* VMXOFF leaves VMX operation; only then may CR4.VMXE be cleared (23.8). */
enum vmx_status vmx_off(struct vmx_root *root)
{
    enum vmx_status status = vmxoff();
    if (status == VMX_SUCCEED)
        root->on = false;
    return status;
}

static void explain_locked_off(uint64_t fc)
{
    kprintf("IA32_FEATURE_CONTROL = 0x%lx: locked with VMX outside SMX disabled.\n"
            "  Firmware locked virtualization off, and the lock holds until the next reset:\n"
            "  enable \"Intel Virtualization Technology\" (VT-x) in the firmware setup.\n", fc);
}

void vmx_enable(const struct vmx_caps *caps, struct vmx_root *root)
{
    uint64_t before, after;
    switch (vmx_feature_control_enable(&before, &after)) {
    case FEATURE_CONTROL_READY:
        break;
    case FEATURE_CONTROL_LOCKED_OFF:
        explain_locked_off(after);
        skip_chapter("IA32_FEATURE_CONTROL locked with VMX disabled (0x%lx)", after);
    case FEATURE_CONTROL_FAULT:
        panic("IA32_FEATURE_CONTROL could not be read or written (%s)",
              exception_mnemonic(caught_fault.vector));
    }
    vmx_adjust_control_registers(caps);
    enum vmx_status s = vmx_on(caps, root);
    if (s != VMX_SUCCEED)
        panic("VMXON: %s%s%s", vmx_status_name(s), s == VMX_FAULT ? " " : "",
              s == VMX_FAULT ? exception_mnemonic(caught_fault.vector) : "");
}

void vmx_disable(struct vmx_root *root)
{
    enum vmx_status s = vmx_off(root);
    if (s != VMX_SUCCEED)
        panic("VMXOFF: %s", vmx_status_name(s));
    write_cr4(read_cr4() & ~CR4_VMXE);
}
