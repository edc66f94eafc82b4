/* main.c: chapter 01 kernel: does this CPU have VMX, and what exactly can it do?
 * Prints every capability MSR decoded, with a checkpoint line for each fact. */
#include "exercise.h"
#include "kernel.h"
#include "trap.h"
#include "vmx_caps.h"
#include "vmx_controls.h"

const char chapter_title[] = "Chapter 01: detect VMX";

static const char *memory_type_name(uint32_t type)
{
    return type == 0 ? "uncacheable" : type == 6 ? "write-back" : "reserved";
}

/* The vendor decides the architecture: VT-x is Intel's; AMD's SVM is another one. */
static bool check_vendor(void)
{
    struct cpuid_regs r = cpuid(0, 0);
    char vendor[13] = "";
    // BEGIN EXERCISE 01-1: the vendor string from CPUID leaf 0
    // Instruction: Copy the 12 characters of the vendor string from the registers of
    //   CPUID leaf 0 into vendor[] and end it with '\0'.
    // Hint: SDM Vol. 2A, CPUID, leaf 0: the order is EBX, EDX, ECX (not alphabetical),
    //   4 characters each, first character in the lowest byte. memcpy() is in lib.h.
    memcpy(vendor + 0, &r.ebx, 4);
    memcpy(vendor + 4, &r.edx, 4);
    memcpy(vendor + 8, &r.ecx, 4);
    vendor[12] = '\0';
    // END EXERCISE 01-1
    kprintf("CPU vendor: %s, highest basic CPUID leaf 0x%x\n", vendor, r.eax);
    checkpoint("vendor", "vendor=%s max_leaf=0x%x", vendor, r.eax);
    if (!strcmp(vendor, "GenuineIntel"))
        return true;
    if (!strcmp(vendor, "AuthenticAMD"))
        kprintf("  This is an AMD CPU. VT-x is Intel's; AMD's virtualization (SVM, AMD-V)\n"
                "  is a different architecture that this tutorial does not cover.\n");
    else
        kprintf("  Not an Intel CPU: VT-x may still be present (some emulators), checking CPUID.\n");
    return false;
}

static void explain_missing_vmx(void)
{
    kprintf("CPUID.1:ECX.VMX[bit 5] = 0: this CPU cannot execute VMX instructions.\n"
            "What to do (docs/00-setup.md):\n"
            "  - QEMU's software emulator (TCG) has no VMX at all: use Bochs, which the tests\n"
            "    use by default (tools/runner.py --emu bochs).\n"
            "  - Under KVM, VMX reaches a guest only with nested virtualization:\n"
            "    'modprobe kvm_intel nested=1' on the host, then QEMU '-enable-kvm -cpu host'.\n"
            "  - On real hardware, enable 'Intel Virtualization Technology' in the firmware setup.\n");
}

static void report_feature_control(void)
{
    uint64_t fc = 0;
    int vector = rdmsr_safe(MSR_IA32_FEAT_CTL, &fc);
    if (vector != NO_FAULT) {
        kprintf("IA32_FEATURE_CONTROL: reading it raised %s\n", exception_mnemonic(vector));
        checkpoint("feature-control", "fault=%d", vector);
        return;
    }
    bool locked = fc & FEAT_CTL_LOCKED, outside = fc & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX;
    kprintf("IA32_FEATURE_CONTROL = 0x%lx: %s, VMX outside SMX %s\n", fc,
            locked ? "locked" : "unlocked", outside ? "enabled" : "disabled");
    if (!locked)
        kprintf("  Unlocked: VMXON raises #GP until software sets bit 2 and the lock bit\n"
                "  (firmware usually does; with our boot ROM chapter 02 does it).\n");
    else if (!outside)
        kprintf("  Locked with VMX disabled: only a reset and a firmware setting can change it.\n");
    checkpoint("feature-control", "value=0x%lx locked=%d outside_smx=%d inside_smx=%d", fc,
               locked, outside, (int)!!(fc & FEAT_CTL_VMX_ENABLED_INSIDE_SMX));
}

static void report_basic(uint64_t b)
{
    kprintf("IA32_VMX_BASIC = 0x%016lx\n", b);
    kprintf("  VMCS revision id 0x%x, VMXON/VMCS region size %u bytes, memory type %u (%s)\n",
            VMX_BASIC_REVISION(b), VMX_BASIC_VMCS_SIZE(b), VMX_BASIC_MEM_TYPE(b),
            memory_type_name(VMX_BASIC_MEM_TYPE(b)));
    kprintf("  32-bit physical addresses only: %d, dual-monitor SMM: %d, INS/OUTS info: %d, "
            "TRUE controls: %d\n", VMX_BASIC_ADDR32(b), VMX_BASIC_DUAL_MONITOR(b),
            VMX_BASIC_INOUT(b), VMX_BASIC_TRUE_CTLS(b));
    checkpoint("vmx-basic", "raw=0x%lx revision=0x%x vmcs_size=%u mem_type=%u addr32=%d "
               "dual_monitor=%d inout=%d true_ctls=%d", b, VMX_BASIC_REVISION(b),
               VMX_BASIC_VMCS_SIZE(b), VMX_BASIC_MEM_TYPE(b), VMX_BASIC_ADDR32(b),
               VMX_BASIC_DUAL_MONITOR(b), VMX_BASIC_INOUT(b), VMX_BASIC_TRUE_CTLS(b));
}

/* One line per bit that software may set or must set; bits fixed at 0 are omitted. */
static void print_control_bits(const struct bit_name *names, uint64_t ctl)
{
    for (unsigned bit = 0; bit < 32; bit++) {
        bool must1 = CTL_MUST_BE_1(ctl) & (1u << bit), may1 = CTL_MAY_BE_1(ctl) & (1u << bit);
        const char *name = bit_name_lookup(names, bit);
        if (!may1)
            continue;
        kprintf("    bit %2u %-40s %s\n", bit, name ? name : "(reserved)",
                must1 ? "must be 1" : "may be 0 or 1");
    }
}

static void report_controls(const char *id, const char *msr_name, const struct bit_name *names,
                            uint64_t plain, bool has_true, uint64_t true_value)
{
    uint64_t effective = has_true ? true_value : plain;
    kprintf("%s = 0x%016lx%s\n", msr_name, plain, has_true ? "" : " (no TRUE variant)");
    if (has_true)
        kprintf("  TRUE variant = 0x%016lx: the one to use, since IA32_VMX_BASIC[55] = 1\n",
                true_value);
    print_control_bits(names, effective);
    if (has_true)
        checkpoint(id, "must1=0x%x may1=0x%x true_must1=0x%x true_may1=0x%x",
                   CTL_MUST_BE_1(plain), CTL_MAY_BE_1(plain), CTL_MUST_BE_1(true_value),
                   CTL_MAY_BE_1(true_value));
    else
        checkpoint(id, "must1=0x%x may1=0x%x", CTL_MUST_BE_1(plain), CTL_MAY_BE_1(plain));
}

static void report_misc_and_fixed(const struct vmx_caps *c)
{
    uint64_t m = c->misc;
    kprintf("IA32_VMX_MISC = 0x%016lx\n", m);
    kprintf("  preemption timer: 1 tick per 2^%u TSC ticks; activity states mask 0x%x "
            "(HLT, shutdown, wait-for-SIPI)\n", VMX_MISC_PREEMPTION_TIMER_RATE(m),
            VMX_MISC_ACTIVITY_STATES(m));
    kprintf("  CR3-target values %u, MSR list limit %u, VMWRITE to exit-information fields %d\n",
            VMX_MISC_CR3_TARGETS(m), VMX_MISC_MAX_MSR_LIST(m), VMX_MISC_VMWRITE_ANY_FIELD(m));
    checkpoint("vmx-misc", "raw=0x%lx preemption_rate=%u activity=0x%x cr3_targets=%u "
               "max_msr_list=%u vmwrite_any=%d", m, VMX_MISC_PREEMPTION_TIMER_RATE(m),
               VMX_MISC_ACTIVITY_STATES(m), VMX_MISC_CR3_TARGETS(m), VMX_MISC_MAX_MSR_LIST(m),
               VMX_MISC_VMWRITE_ANY_FIELD(m));

    /* SDM Vol. 3D, A.7-A.8: a bit set in FIXED0 must be 1; a bit clear in FIXED1 must be 0. */
    kprintf("IA32_VMX_CR0_FIXED0/1 = 0x%lx / 0x%lx: in VMX operation CR0 needs bits 0x%lx set\n",
            c->cr0_fixed0, c->cr0_fixed1, c->cr0_fixed0);
    kprintf("IA32_VMX_CR4_FIXED0/1 = 0x%lx / 0x%lx: in VMX operation CR4 needs bits 0x%lx set\n",
            c->cr4_fixed0, c->cr4_fixed1, c->cr4_fixed0);
    checkpoint("cr-fixed", "cr0_fixed0=0x%lx cr0_fixed1=0x%lx cr4_fixed0=0x%lx cr4_fixed1=0x%lx",
               c->cr0_fixed0, c->cr0_fixed1, c->cr4_fixed0, c->cr4_fixed1);
    kprintf("IA32_VMX_VMCS_ENUM = 0x%lx: highest VMCS field index %lu\n", c->vmcs_enum,
            (c->vmcs_enum >> 1) & 0x1ff);
    checkpoint("vmcs-enum", "raw=0x%lx max_index=%lu", c->vmcs_enum, (c->vmcs_enum >> 1) & 0x1ff);
}

static void report_ept_vpid(const struct vmx_caps *c)
{
    uint64_t e = c->ept_vpid;
    if (!c->has_ept_vpid) {
        kprintf("IA32_VMX_EPT_VPID_CAP: absent (neither EPT nor VPID can be enabled)\n");
        checkpoint("ept-vpid", "present=0");
        return;
    }
    kprintf("IA32_VMX_EPT_VPID_CAP = 0x%016lx\n", e);
    kprintf("  EPT: 4-level walk %d, UC %d, WB %d, 2 MiB pages %d, 1 GiB pages %d, "
            "A/D flags %d, execute-only %d\n", !!(e & VMX_EPT_PAGE_WALK_4_BIT),
            !!(e & VMX_EPTP_UC_BIT), !!(e & VMX_EPTP_WB_BIT), !!(e & VMX_EPT_2MB_PAGE_BIT),
            !!(e & VMX_EPT_1GB_PAGE_BIT), !!(e & VMX_EPT_AD_BIT), !!(e & VMX_EPT_EXECUTE_ONLY_BIT));
    kprintf("  INVEPT %d (single-context %d, all-context %d), INVVPID %d\n",
            !!(e & VMX_EPT_INVEPT_BIT), !!(e & VMX_EPT_EXTENT_CONTEXT_BIT),
            !!(e & VMX_EPT_EXTENT_GLOBAL_BIT), !!(e & VMX_VPID_INVVPID_BIT));
    checkpoint("ept-vpid", "present=1 raw=0x%lx walk4=%d wb=%d pages_2m=%d pages_1g=%d ad=%d "
               "invept=%d invvpid=%d", e, !!(e & VMX_EPT_PAGE_WALK_4_BIT), !!(e & VMX_EPTP_WB_BIT),
               !!(e & VMX_EPT_2MB_PAGE_BIT), !!(e & VMX_EPT_1GB_PAGE_BIT), !!(e & VMX_EPT_AD_BIT),
               !!(e & VMX_EPT_INVEPT_BIT), !!(e & VMX_VPID_INVVPID_BIT));
}

/* Reading an MSR the CPU does not have raises #GP (SDM Vol. 2B, RDMSR): shown
 * with IA32_VMX_PROCBASED_CTLS3, which exists only with tertiary controls. */
static void demonstrate_absent_msr(const struct vmx_caps *c)
{
    bool present = vmx_has_procbased3(c->procbased);
    uint64_t value = 0;
    int vector = rdmsr_safe(MSR_IA32_VMX_PROCBASED_CTLS3, &value);
    kprintf("IA32_VMX_PROCBASED_CTLS3: %s by the CPU; RDMSR %s%s\n",
            present ? "announced" : "not announced",
            vector == NO_FAULT ? "succeeded" : "raised ", vector == NO_FAULT ? "" :
            exception_mnemonic(vector));
    checkpoint("absent-msr", "msr=0x%x present=%d vector=%d", MSR_IA32_VMX_PROCBASED_CTLS3,
               present, vector);
}

int chapter_main(void)
{
    bool intel = check_vendor();
    bool vmx = cpu_has_vmx();
    checkpoint("cpuid-vmx", "vmx=%d intel=%d", vmx, intel);
    if (!vmx) {
        explain_missing_vmx();
        skip_chapter("CPUID.1:ECX.VMX = 0: no VMX on this CPU");
    }
    kprintf("CPUID.1:ECX.VMX[bit 5] = 1: VMX is supported\n");
    kprintf("Physical-address width: %u bits (CPUID 0x80000008:EAX[7:0])\n", cpu_phys_addr_bits());
    checkpoint("phys-addr-width", "bits=%u", cpu_phys_addr_bits());
    report_feature_control();

    struct vmx_caps caps;
    uint32_t failed = vmx_caps_read(&caps);
    if (failed) {
        kprintf("RDMSR 0x%x raised %s although the CPU announced it\n", failed,
                exception_mnemonic(caught_fault.vector));
        return STATUS_FAIL;
    }
    report_basic(caps.basic);
    report_controls("ctls-pin", "IA32_VMX_PINBASED_CTLS", pin_based_bit_names, caps.pinbased,
                    caps.has_true_ctls, caps.true_pinbased);
    report_controls("ctls-proc", "IA32_VMX_PROCBASED_CTLS", cpu_based_bit_names, caps.procbased,
                    caps.has_true_ctls, caps.true_procbased);
    if (caps.has_procbased2)
        report_controls("ctls-proc2", "IA32_VMX_PROCBASED_CTLS2", secondary_exec_bit_names,
                        caps.procbased2, false, 0);
    else
        checkpoint("ctls-proc2", "present=0");
    report_controls("ctls-exit", "IA32_VMX_EXIT_CTLS", vm_exit_bit_names, caps.exit,
                    caps.has_true_ctls, caps.true_exit);
    report_controls("ctls-entry", "IA32_VMX_ENTRY_CTLS", vm_entry_bit_names, caps.entry,
                    caps.has_true_ctls, caps.true_entry);
    report_misc_and_fixed(&caps);
    report_ept_vpid(&caps);
    kprintf("IA32_VMX_VMFUNC: %s\n", caps.has_vmfunc ? "present" : "absent");
    checkpoint("vmfunc", "present=%d raw=0x%lx", caps.has_vmfunc, caps.vmfunc);
    demonstrate_absent_msr(&caps);
    return STATUS_OK;
}
