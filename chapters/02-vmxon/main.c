/* main.c: chapter 02 kernel: enter VMX root operation and leave it again, showing on the
 * way each way VMXON and friends fail (#UD, #GP, VMfailInvalid, VMfailValid). */
#include "kernel.h"
#include "mm.h"
#include "trap.h"
#include "vmx_caps.h"
#include "vmxon.h"

const char chapter_title[] = "Chapter 02: VMXON";

/* "VMfailValid (error 15: VMXON executed in VMX root operation)" and friends. */
static void print_outcome(const char *what, enum vmx_status s, uint32_t error)
{
    kprintf("  %s: %s", what, vmx_status_name(s));
    if (s == VMX_FAULT)
        kprintf(" %s (%s)", exception_mnemonic(caught_fault.vector),
                exception_name(caught_fault.vector));
    if (s == VMX_FAIL_VALID)
        kprintf(" (error %u: %s)", error, vmx_error_name(error));
    kprintf("\n");
}

static int vector_of(enum vmx_status s)
{
    return s == VMX_FAULT ? caught_fault.vector : NO_FAULT;
}

/* CF and ZF as the instruction left them, for checkpoints (SDM Vol. 3C, 30.2). */
static int cf_of(enum vmx_status s) { return s == VMX_FAIL_INVALID; }
static int zf_of(enum vmx_status s) { return s == VMX_FAIL_VALID; }

/* A region with whatever revision word the demonstration needs. */
static uint64_t region_with_revision(uint32_t revision)
{
    uint32_t *page = page_alloc(1);
    if (!page)
        panic("out of memory");
    *page = revision;
    return virt_to_phys(page);
}

/* #UD: without CR4.VMXE the VMX instructions do not exist (SDM Vol. 3C, 30.3, VMXON). */
static void demonstrate_vmxe_off(uint64_t region_pa)
{
    kprintf("VMXON with CR4.VMXE = 0 (CR4 = 0x%lx):\n", read_cr4());
    enum vmx_status s = vmxon(region_pa);
    print_outcome("VMXON", s, 0);
    checkpoint("vmxon-no-vmxe", "cr4=0x%lx vector=%d", read_cr4(), vector_of(s));
}

/* Step 2 of vmxon.c, reported: CR0/CR4 before and after the FIXED0/FIXED1 adjustment. */
static void adjust_control_registers(const struct vmx_caps *caps)
{
    /*
     * common/boot.S already set CR0.NE (numeric errors reported as #MF), which VMX
     * operation requires. A kernel from the BIOS era might not have; clear it here
     * so that the adjustment has something to do, as it would on such a kernel.
     */
    write_cr0(read_cr0() & ~CR0_NE);
    uint64_t cr0 = read_cr0(), cr4 = read_cr4();
    vmx_adjust_control_registers(caps);
    kprintf("CR0 0x%lx -> 0x%lx, CR4 0x%lx -> 0x%lx (IA32_VMX_CR0_FIXED0 0x%lx, "
            "IA32_VMX_CR4_FIXED0 0x%lx)\n", cr0, read_cr0(), cr4, read_cr4(), caps->cr0_fixed0,
            caps->cr4_fixed0);
    checkpoint("cr-fixed", "cr0_before=0x%lx cr0=0x%lx cr4_before=0x%lx cr4=0x%lx", cr0,
               read_cr0(), cr4, read_cr4());
}

/* #GP: VMXON before IA32_FEATURE_CONTROL is locked with bit 2 set (23.7). */
static void demonstrate_unlocked(uint64_t region_pa)
{
    uint64_t fc = 0;
    rdmsr_safe(MSR_IA32_FEAT_CTL, &fc);
    kprintf("VMXON with IA32_FEATURE_CONTROL = 0x%lx:\n", fc);
    if ((fc & FEAT_CTL_LOCKED) && (fc & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX)) {
        kprintf("  (firmware already locked it with VMX enabled: nothing to show)\n");
        checkpoint("vmxon-unlocked", "feature_control=0x%lx vector=-1", fc);
        return;
    }
    enum vmx_status s = vmxon(region_pa);
    print_outcome("VMXON", s, 0);
    checkpoint("vmxon-unlocked", "feature_control=0x%lx vector=%d", fc, vector_of(s));
}

static void enable_feature_control(void)
{
    uint64_t before, after;
    enum feature_control_state st = vmx_feature_control_enable(&before, &after);
    kprintf("IA32_FEATURE_CONTROL 0x%lx -> 0x%lx\n", before, after);
    checkpoint("feature-control-lock", "before=0x%lx after=0x%lx", before, after);
    if (st == FEATURE_CONTROL_FAULT)
        panic("IA32_FEATURE_CONTROL: %s", exception_mnemonic(caught_fault.vector));
    if (st == FEATURE_CONTROL_LOCKED_OFF) {
        kprintf("  Locked with VMX disabled: firmware forbids VMX until the next reset.\n"
                "  Enable \"Intel Virtualization Technology\" in the firmware setup.\n");
        skip_chapter("IA32_FEATURE_CONTROL locked with VMX disabled (0x%lx)", after);
    }
}

/* VMfailInvalid: a region the CPU refuses (30.3 VMXON: revision, alignment, width). */
static void demonstrate_bad_regions(const struct vmx_caps *caps)
{
    uint32_t revision = VMX_BASIC_REVISION(caps->basic);
    uint64_t wrong = region_with_revision(revision + 1);
    uint64_t bit31 = region_with_revision(revision | 0x80000000u);
    uint64_t good = region_with_revision(revision);
    uint64_t misaligned = good + 0x800;
    uint64_t beyond = 1ull << cpu_phys_addr_bits();

    kprintf("VMXON with regions the CPU must refuse:\n");
    enum vmx_status s_wrong = vmxon(wrong), s_bit31 = vmxon(bit31);
    print_outcome("revision id off by one", s_wrong, 0);
    print_outcome("revision id with bit 31 set (a shadow-VMCS marker)", s_bit31, 0);
    checkpoint("vmxon-bad-revision", "revision=0x%x wrong=0x%x wrong_cf=%d wrong_zf=%d "
               "bit31=0x%x bit31_cf=%d bit31_zf=%d", revision, revision + 1, cf_of(s_wrong),
               zf_of(s_wrong), revision | 0x80000000u, cf_of(s_bit31), zf_of(s_bit31));

    enum vmx_status s_mis = vmxon(misaligned), s_beyond = vmxon(beyond);
    print_outcome("pointer not 4 KiB aligned", s_mis, 0);
    print_outcome("pointer beyond the physical-address width", s_beyond, 0);
    checkpoint("vmxon-bad-pointer", "misaligned=0x%lx misaligned_cf=%d misaligned_zf=%d "
               "beyond=0x%lx beyond_cf=%d beyond_zf=%d", misaligned, cf_of(s_mis),
               zf_of(s_mis), beyond, cf_of(s_beyond), zf_of(s_beyond));
}

/*
 * VMXON in VMX root operation: error 15 (30.3 VMXON), but only if there is a
 * current VMCS to record it. Without one it is VMfailInvalid: the error number
 * lives in the current VMCS, and there is none. So load one (chapter 03 explains
 * VMCLEAR and VMPTRLD) and try again.
 */
static void demonstrate_vmxon_twice(const struct vmx_caps *caps, struct vmx_root *root)
{
    kprintf("VMXON again, in VMX root operation:\n");
    enum vmx_status s_none = vmxon(root->region_pa);
    print_outcome("without a current VMCS", s_none, 0);

    uint64_t vmcs_pa;
    vmx_region_alloc(caps, &vmcs_pa);
    if (vmclear(vmcs_pa) != VMX_SUCCEED || vmptrld(vmcs_pa) != VMX_SUCCEED)
        panic("VMCLEAR/VMPTRLD of a fresh VMCS failed");
    enum vmx_status s_cur = vmxon(root->region_pa);
    uint32_t error = s_cur == VMX_FAIL_VALID ? vmx_instruction_error() : 0;
    print_outcome("with a current VMCS", s_cur, error);
    checkpoint("vmxon-in-root", "none_cf=%d none_zf=%d cf=%d zf=%d error=%u", cf_of(s_none),
               zf_of(s_none), cf_of(s_cur), zf_of(s_cur), error);
    if (vmclear(vmcs_pa) != VMX_SUCCEED)
        panic("VMCLEAR failed");
}

/* CR4.VMXE cannot be cleared in VMX operation (23.8): MOV to CR4 raises #GP. */
static void demonstrate_vmxe_locked(void)
{
    int vector = write_cr4_safe(read_cr4() & ~CR4_VMXE);
    kprintf("Clearing CR4.VMXE in VMX operation: %s; CR4.VMXE is still %d\n",
            vector == NO_FAULT ? "allowed (wrong!)" : exception_mnemonic(vector),
            !!(read_cr4() & CR4_VMXE));
    checkpoint("cr4-vmxe-locked", "vector=%d vmxe=%d", vector, !!(read_cr4() & CR4_VMXE));
}

/* After VMXOFF the VMX instructions raise #UD again, VMREAD of the error field too. */
static void leave_vmx(struct vmx_root *root)
{
    kprintf("Leaving VMX operation:\n");
    enum vmx_status s = vmx_off(root);
    print_outcome("VMXOFF", s, 0);
    uint64_t error = 0;
    enum vmx_status s_read = vmread(VMX_INSTRUCTION_ERROR_FIELD, &error);
    int vmread_vector = vector_of(s_read);
    print_outcome("VMREAD of the VM-instruction error field after VMXOFF", s_read, 0);
    int vector = write_cr4_safe(read_cr4() & ~CR4_VMXE);
    kprintf("Clearing CR4.VMXE after VMXOFF: %s\n",
            vector == NO_FAULT ? "allowed" : exception_mnemonic(vector));
    checkpoint("vmxoff", "cf=%d zf=%d vmread_vector=%d clear_vmxe_vector=%d vmxe=%d", cf_of(s),
               zf_of(s), vmread_vector, vector, !!(read_cr4() & CR4_VMXE));
}

int chapter_main(void)
{
    if (!cpu_has_vmx()) {
        kprintf("CPUID.1:ECX.VMX = 0: this CPU has no VMX (see chapter 01).\n");
        skip_chapter("CPUID.1:ECX.VMX = 0: no VMX on this CPU");
    }
    struct vmx_caps caps;
    if (vmx_caps_read(&caps))
        panic("reading the VMX capability MSRs faulted");
    uint64_t scratch_pa = region_with_revision(VMX_BASIC_REVISION(caps.basic));

    demonstrate_vmxe_off(scratch_pa);
    adjust_control_registers(&caps);
    demonstrate_unlocked(scratch_pa);
    enable_feature_control();
    demonstrate_bad_regions(&caps);

    struct vmx_root root;
    enum vmx_status s = vmx_on(&caps, &root);
    kprintf("VMXON with a good region at 0x%lx (revision id 0x%x):\n", root.region_pa,
            *(uint32_t *)root.region);
    print_outcome("VMXON", s, 0);
    checkpoint("vmxon", "region=0x%lx revision=0x%x cf=%d zf=%d vector=%d", root.region_pa,
               *(uint32_t *)root.region, cf_of(s), zf_of(s), vector_of(s));
    if (!root.on) {
        kprintf("VMXON failed: nothing more to show.\n");
        return STATUS_FAIL;
    }
    kprintf("In VMX root operation.\n");
    demonstrate_vmxon_twice(&caps, &root);
    demonstrate_vmxe_locked();
    leave_vmx(&root);
    return STATUS_OK;
}
