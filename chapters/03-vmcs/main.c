/* main.c: chapter 03 kernel: VMCS regions, the current-VMCS pointer, launch state, and
 * every field read and written, with each VM-instruction error the issue lists shown. */
#include "kernel.h"
#include "mm.h"
#include "trap.h"
#include "vmcs.h"
#include "vmx_controls.h"
#include "vmxon.h"

const char chapter_title[] = "Chapter 03: the VMCS";

/* The outcome of a VMX instruction as (ZF, error): the error only after VMfailValid. */
struct outcome {
    enum vmx_status status;
    uint32_t error;
};

static struct outcome outcome_of(enum vmx_status s)
{
    return (struct outcome){s, vmcs_instruction_error(s)};
}

static void print_outcome(const char *what, struct outcome o)
{
    kprintf("  %-44s %s", what, vmx_status_name(o.status));
    if (o.status == VMX_FAIL_VALID)
        kprintf(", error %u: %s", o.error, vmx_error_name(o.error));
    if (o.status == VMX_FAULT)
        kprintf(" %s", exception_mnemonic(caught_fault.vector));
    kprintf("\n");
}

static uint64_t region_with_revision(uint32_t revision)
{
    uint32_t *page = page_alloc(1);
    if (!page)
        panic("out of memory");
    *page = revision;
    return virt_to_phys(page);
}

/* Before any VMPTRLD there is no current VMCS: VMPTRST says ~0, failures are VMfailInvalid. */
static void demonstrate_no_current(const struct vmx_caps *caps)
{
    uint64_t current = vmcs_current();
    struct outcome bad = outcome_of(vmptrld(region_with_revision(VMX_BASIC_REVISION(caps->basic) + 1)));
    kprintf("No current VMCS yet: VMPTRST gives 0x%lx\n", current);
    print_outcome("VMPTRLD of a region with a wrong revision id:", bad);
    checkpoint("no-current-vmcs", "current=0x%lx bad_cf=%d bad_zf=%d", current,
               bad.status == VMX_FAIL_INVALID, bad.status == VMX_FAIL_VALID);
}

/* VMCLEAR leaves a VMCS "clear": VMRESUME needs "launched", VMLAUNCH then checks controls. */
static void demonstrate_launch_state(const struct vmcs *vmcs)
{
    kprintf("Launch state after VMCLEAR + VMPTRLD of 0x%lx:\n", vmcs->pa);
    struct outcome resume = outcome_of(vmresume_expecting_failure());
    print_outcome("VMRESUME:", resume);
    struct outcome launch = outcome_of(vmlaunch_expecting_failure());
    print_outcome("VMLAUNCH (every field still 0):", launch);
    checkpoint("launch-state", "resume_zf=%d resume_error=%u launch_zf=%d launch_error=%u",
               resume.status == VMX_FAIL_VALID, resume.error, launch.status == VMX_FAIL_VALID,
               launch.error);
}

/* VMPTRLD/VMCLEAR of pointers the CPU refuses, with a current VMCS to hold the error. */
static void demonstrate_pointer_errors(const struct vmx_caps *caps, const struct vmx_root *root,
                                       const struct vmcs *vmcs)
{
    uint64_t wrong = region_with_revision(VMX_BASIC_REVISION(caps->basic) + 1);
    kprintf("VMCS pointers the CPU refuses (current VMCS 0x%lx holds the error numbers):\n",
            vmcs->pa);
    struct outcome rev = outcome_of(vmptrld(wrong));
    print_outcome("VMPTRLD, wrong revision id:", rev);
    struct outcome on = outcome_of(vmptrld(root->region_pa));
    print_outcome("VMPTRLD of the VMXON region:", on);
    struct outcome mis = outcome_of(vmptrld(vmcs->pa + 8));
    print_outcome("VMPTRLD, pointer not 4 KiB aligned:", mis);
    struct outcome clr_on = outcome_of(vmclear(root->region_pa));
    print_outcome("VMCLEAR of the VMXON region:", clr_on);
    struct outcome clr_mis = outcome_of(vmclear(vmcs->pa + 8));
    print_outcome("VMCLEAR, pointer not 4 KiB aligned:", clr_mis);
    uint64_t current = vmcs_current();
    kprintf("  the current VMCS is still 0x%lx\n", current);
    checkpoint("pointer-errors", "revision_error=%u vmxon_error=%u address_error=%u "
               "clear_vmxon_error=%u clear_address_error=%u current=0x%lx vmcs=0x%lx", rev.error,
               on.error, mis.error, clr_on.error, clr_mis.error, current, vmcs->pa);
}

/* A field beyond IA32_VMX_VMCS_ENUM's highest index exists on no CPU of this kind (A.9). */
static void demonstrate_unsupported_field(const struct vmx_caps *caps)
{
    unsigned max_index = (caps->vmcs_enum >> 1) & 0x1ff;
    uint32_t field = (max_index + 1) << 1;             /* a 16-bit control field */
    uint64_t value;
    struct outcome rd = outcome_of(vmread(field, &value));
    struct outcome wr = outcome_of(vmwrite(field, 1));
    kprintf("Field 0x%x (index %u, past IA32_VMX_VMCS_ENUM's highest index %u):\n", field,
            max_index + 1, max_index);
    print_outcome("VMREAD:", rd);
    print_outcome("VMWRITE:", wr);
    checkpoint("unsupported-field", "max_index=0x%x field=0x%x read_error=%u write_error=%u",
               max_index, field, rd.error, wr.error);
}

/* Exit-information fields are read-only unless IA32_VMX_MISC[29] (A.6). */
static void demonstrate_read_only(const struct vmx_caps *caps)
{
    int any = VMX_MISC_VMWRITE_ANY_FIELD(caps->misc);
    struct outcome wr = outcome_of(vmwrite(VM_EXIT_REASON, 0x12));
    uint32_t back = vmcs_read32(VM_EXIT_REASON);
    kprintf("VMWRITE to VM_EXIT_REASON (IA32_VMX_MISC[29] = %d):\n", any);
    print_outcome("VMWRITE:", wr);
    checkpoint("vmwrite-read-only", "vmwrite_any=%d zf=%d error=%u readback=0x%x", any,
               wr.status == VMX_FAIL_VALID, wr.error, back);
}

/* Width and HIGH access: what VMWRITE keeps of a value, by field width (24.11.2). */
static void demonstrate_widths(void)
{
    struct vmcs_field_bits b;
    vmcs_field_decode(GUEST_RIP, &b);
    kprintf("GUEST_RIP = 0x%x: %s, %s, index %u; TSC_OFFSET_HIGH = 0x%x: the high half of 0x%x\n",
            GUEST_RIP, vmcs_width_name(b.width), vmcs_type_name(b.type), b.index,
            TSC_OFFSET_HIGH, TSC_OFFSET);
    vmwrite(GUEST_CS_SELECTOR, ~0ull);
    vmwrite(GUEST_CS_LIMIT, ~0ull);
    vmwrite(GUEST_RIP, ~0ull);
    uint16_t sel = vmcs_read16(GUEST_CS_SELECTOR);
    uint32_t limit = vmcs_read32(GUEST_CS_LIMIT);
    uint64_t rip = vmcs_readl(GUEST_RIP);
    vmcs_write64(TSC_OFFSET, 0x1122334455667788ull);
    uint32_t high = vmcs_read32(TSC_OFFSET_HIGH);
    vmcs_write32(TSC_OFFSET_HIGH, 0xaabbccdd);
    uint64_t full = vmcs_read64(TSC_OFFSET);
    kprintf("  VMWRITE of ~0: GUEST_CS_SELECTOR 0x%x, GUEST_CS_LIMIT 0x%x, GUEST_RIP 0x%lx\n",
            sel, limit, rip);
    kprintf("  TSC_OFFSET 0x1122334455667788: its _HIGH reads 0x%x; _HIGH := 0xaabbccdd "
            "gives 0x%lx\n", high, full);
    checkpoint("field-widths", "rip_field=0x%x rip_width=%d rip_type=%d rip_index=%u sel=0x%x "
               "limit=0x%x rip=0x%lx high=0x%x full=0x%lx", GUEST_RIP, b.width, b.type, b.index,
               sel, limit, rip, high, full);
}

/* A value for a field: different per field, cut to its width; access rights: defined bits only. */
static uint64_t pattern_for(uint32_t f)
{
    uint64_t p = 0x0123456789abcdefull ^ ((uint64_t)f * 0x9e3779b97f4a7c15ull);
    if (f >= GUEST_ES_AR_BYTES && f <= GUEST_TR_AR_BYTES)
        return p & 0x1f0ff;       /* some CPUs keep only these bits (24.4.1, Table 24-2) */
    switch (VMCS_FIELD_WIDTH(f)) {
    case VMCS_FIELD_WIDTH_U16: return p & 0xffff;
    case VMCS_FIELD_WIDTH_U32: return p & 0xffffffff;
    default: return VMCS_FIELD_ACCESS_HIGH(f) ? p & 0xffffffff : p;
    }
}

struct roundtrip {
    unsigned supported, unsupported, written, read_only, mismatches, failures, high;
    uint32_t first_mismatch;
};

static bool field_supported(uint32_t f)
{
    uint64_t v;
    return vmread(f, &v) == VMX_SUCCEED;
}

/* Write a pattern into one field and read it back; false if it was not written. */
static bool roundtrip_field(uint32_t f, bool vmwrite_any, struct roundtrip *r)
{
    uint64_t back = 0, want = pattern_for(f);
    if (VMCS_FIELD_TYPE(f) == VMCS_FIELD_TYPE_READ_ONLY_DATA && !vmwrite_any) {
        r->read_only++;
        return false;
    }
    if (vmwrite(f, want) != VMX_SUCCEED || vmread(f, &back) != VMX_SUCCEED) {
        r->failures++;
        return false;
    }
    r->written++;
    if (back != want && !r->mismatches++)
        r->first_mismatch = f;
    return true;
}

/* Every field of the SDM's list: supported or not, and if writable, does it keep a value? */
static void demonstrate_all_fields(const struct vmx_caps *caps)
{
    struct vmcs scratch;
    struct roundtrip r = {0};
    vmcs_create(caps, &scratch);
    for (unsigned i = 0; i < vmcs_field_count; i++) {
        uint32_t f = vmcs_fields[i].encoding;
        if (!field_supported(f)) {
            r.unsupported++;
            continue;
        }
        r.supported++;
        bool written = roundtrip_field(f, VMX_MISC_VMWRITE_ANY_FIELD(caps->misc), &r);
        /* A _HIGH half comes after its full field: the full value must show it too. */
        if (written && VMCS_FIELD_ACCESS_HIGH(f)) {
            uint64_t full = 0;
            vmread(f - 1, &full);
            r.high++;
            if ((full >> 32) != pattern_for(f) && !r.mismatches++)
                r.first_mismatch = f;
        }
    }
    kprintf("All %u fields of the SDM's list: %u supported, %u not on this CPU; %u written and "
            "read back, %u mismatches, %u failed, %u read-only skipped\n", vmcs_field_count,
            r.supported, r.unsupported, r.written, r.mismatches, r.failures, r.read_only);
    if (r.mismatches)
        kprintf("  first mismatch: %s\n", vmcs_field_name(r.first_mismatch));
    checkpoint("all-fields", "fields=%u supported=%u unsupported=%u written=%u mismatches=%u "
               "failures=%u read_only=%u high=%u vmwrite_any=%d ept_pointer=%d vpid=%d "
               "preemption_timer=%d secondary=%d vmfunc=%d guest_efer=%d guest_pat=%d",
               vmcs_field_count, r.supported, r.unsupported, r.written, r.mismatches, r.failures,
               r.read_only, r.high, VMX_MISC_VMWRITE_ANY_FIELD(caps->misc),
               field_supported(EPT_POINTER), field_supported(VIRTUAL_PROCESSOR_ID),
               field_supported(VMX_PREEMPTION_TIMER_VALUE),
               field_supported(SECONDARY_VM_EXEC_CONTROL), field_supported(VM_FUNCTION_CONTROL),
               field_supported(GUEST_IA32_EFER), field_supported(GUEST_IA32_PAT));
    vmcs_clear(&scratch);
}

/* The data belongs to the VMCS it was written to: switch with VMPTRLD and back. */
static void demonstrate_switch(const struct vmx_caps *caps, struct vmcs *a)
{
    struct vmcs b;
    vmcs_load(a);
    vmcs_writel(GUEST_RIP, 0xaaaa0000);
    vmcs_create(caps, &b);
    vmcs_writel(GUEST_RIP, 0xbbbb0000);
    uint64_t b_rip = vmcs_readl(GUEST_RIP);
    vmcs_load(a);
    uint64_t a_rip = vmcs_readl(GUEST_RIP), current = vmcs_current();
    vmcs_clear(a);
    uint64_t after_clear = vmcs_current();
    vmcs_load(&b);
    uint64_t b_again = vmcs_readl(GUEST_RIP);
    kprintf("Two VMCSs: A 0x%lx GUEST_RIP 0x%lx, B 0x%lx GUEST_RIP 0x%lx; after VMPTRLD A, "
            "VMPTRST = 0x%lx; after VMCLEAR A, VMPTRST = 0x%lx\n", a->pa, a_rip, b.pa, b_again,
            current, after_clear);
    checkpoint("vmcs-switch", "a=0x%lx b=0x%lx a_rip=0x%lx b_rip=0x%lx b_again=0x%lx "
               "current=0x%lx after_clear=0x%lx", a->pa, b.pa, a_rip, b_rip, b_again, current,
               after_clear);
    vmcs_clear(&b);
}

int chapter_main(void)
{
    if (!cpu_has_vmx())
        skip_chapter("CPUID.1:ECX.VMX = 0: no VMX on this CPU");
    struct vmx_caps caps;
    struct vmx_root root;
    if (vmx_caps_read(&caps))
        panic("reading the VMX capability MSRs faulted");
    vmx_enable(&caps, &root);
    kprintf("In VMX root operation (VMXON region 0x%lx). VMCS revision id 0x%x, region %u "
            "bytes.\n", root.region_pa, VMX_BASIC_REVISION(caps.basic),
            VMX_BASIC_VMCS_SIZE(caps.basic));

    demonstrate_no_current(&caps);
    struct vmcs vmcs;
    vmcs_create(&caps, &vmcs);
    uint64_t current = vmcs_current();
    kprintf("VMCLEAR + VMPTRLD of 0x%lx: VMPTRST now gives 0x%lx\n", vmcs.pa, current);
    checkpoint("vmcs-current", "vmcs=0x%lx current=0x%lx revision=0x%x", vmcs.pa, current,
               *(uint32_t *)vmcs.region);
    demonstrate_launch_state(&vmcs);
    demonstrate_pointer_errors(&caps, &root, &vmcs);
    demonstrate_unsupported_field(&caps);
    demonstrate_read_only(&caps);
    demonstrate_widths();
    demonstrate_all_fields(&caps);
    demonstrate_switch(&caps, &vmcs);
    vmx_disable(&root);
    kprintf("VMXOFF: done.\n");
    return STATUS_OK;
}
