/* test_vmx_caps.c: chapter 01's capability reader against simulated CPUs. A fake
 * rdmsr_safe() raises "#GP" for MSRs the simulated CPU lacks, as real hardware does. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "trap.h"
#include "vmx_caps.h"
#include "vmx_controls.h"

struct caught_fault caught_fault;

struct fake_msr {
    uint32_t index;
    uint64_t value;
};
static const struct fake_msr *cpu_msrs;
static int reads_of_absent;

int rdmsr_safe(uint32_t msr, uint64_t *value)
{
    for (const struct fake_msr *m = cpu_msrs; m->index; m++)
        if (m->index == msr) {
            *value = m->value;
            return NO_FAULT;
        }
    reads_of_absent++;
    caught_fault.vector = EXC_GP;
    return EXC_GP;
}

/* A CPU with TRUE controls, secondary controls, EPT/VPID and VM functions. */
static const struct fake_msr full_cpu[] = {
    {MSR_IA32_VMX_BASIC, 0x00d810000000002bull},
    {MSR_IA32_VMX_PINBASED_CTLS, 0x0000007f00000016ull},
    {MSR_IA32_VMX_PROCBASED_CTLS, 0xf7f9fffe0401e172ull},
    {MSR_IA32_VMX_EXIT_CTLS, 0x007fffff00036dffull},
    {MSR_IA32_VMX_ENTRY_CTLS, 0x0000ffff000011ffull},
    {MSR_IA32_VMX_MISC, 0x200401e0}, {MSR_IA32_VMX_CR0_FIXED0, 0x80000021},
    {MSR_IA32_VMX_CR0_FIXED1, 0xffffffff}, {MSR_IA32_VMX_CR4_FIXED0, 0x2000},
    {MSR_IA32_VMX_CR4_FIXED1, 0x1727ff}, {MSR_IA32_VMX_VMCS_ENUM, 0x34},
    {MSR_IA32_VMX_PROCBASED_CTLS2, 0x00047fff00000000ull},
    {MSR_IA32_VMX_EPT_VPID_CAP, 0x00000f0106334141ull},
    {MSR_IA32_VMX_TRUE_PINBASED_CTLS, 0x0000007f00000016ull},
    {MSR_IA32_VMX_TRUE_PROCBASED_CTLS, 0xf7f9fffe04006172ull},
    {MSR_IA32_VMX_TRUE_EXIT_CTLS, 0x007fffff00036dfbull},
    {MSR_IA32_VMX_TRUE_ENTRY_CTLS, 0x0000ffff000011fbull},
    {MSR_IA32_VMX_VMFUNC, 1}, {0, 0},
};

/* An old CPU: no TRUE controls (BASIC[55] = 0) and no secondary controls (bit 63 clear). */
static const struct fake_msr old_cpu[] = {
    {MSR_IA32_VMX_BASIC, 0x005a08000000000dull},
    {MSR_IA32_VMX_PINBASED_CTLS, 0x0000003f00000016ull},
    {MSR_IA32_VMX_PROCBASED_CTLS, 0x77f9fffe0401e172ull},
    {MSR_IA32_VMX_EXIT_CTLS, 0x0003ffff00036dffull},
    {MSR_IA32_VMX_ENTRY_CTLS, 0x00003fff000011ffull},
    {MSR_IA32_VMX_MISC, 0x403c0}, {MSR_IA32_VMX_CR0_FIXED0, 0x80000021},
    {MSR_IA32_VMX_CR0_FIXED1, 0xffffffff}, {MSR_IA32_VMX_CR4_FIXED0, 0x2000},
    {MSR_IA32_VMX_CR4_FIXED1, 0x27ff}, {MSR_IA32_VMX_VMCS_ENUM, 0x2c}, {0, 0},
};

/* A CPU whose announced MSR faults anyway: the reader must name it, not crash. */
static const struct fake_msr broken_cpu[] = {
    {MSR_IA32_VMX_BASIC, 0x00d810000000002bull}, {0, 0},
};

int main(void)
{
    struct vmx_caps c;

    cpu_msrs = full_cpu;
    reads_of_absent = 0;
    CHECK(vmx_caps_read(&c) == 0);
    CHECK(reads_of_absent == 0);
    CHECK(c.has_true_ctls && c.has_procbased2 && c.has_ept_vpid && c.has_vmfunc);
    CHECK(c.proc_ctls == 0xf7f9fffe04006172ull);          /* the TRUE variant */
    CHECK(VMX_BASIC_REVISION(c.basic) == 0x2b);
    CHECK(VMX_BASIC_VMCS_SIZE(c.basic) == 4096);
    CHECK(VMX_BASIC_MEM_TYPE(c.basic) == 6);
    CHECK(VMX_BASIC_INOUT(c.basic) == 1);
    CHECK(CTL_MUST_BE_1(c.pin_ctls) == 0x16 && CTL_MAY_BE_1(c.pin_ctls) == 0x7f);
    CHECK(VMX_MISC_MAX_MSR_LIST(c.misc) == 512);
    CHECK(VMX_MISC_VMWRITE_ANY_FIELD(c.misc) == 1);
    CHECK(!vmx_has_procbased3(c.procbased));

    cpu_msrs = old_cpu;
    reads_of_absent = 0;
    CHECK(vmx_caps_read(&c) == 0);
    CHECK(reads_of_absent == 0);                         /* never touched an absent MSR */
    CHECK(!c.has_true_ctls && !c.has_procbased2 && !c.has_ept_vpid && !c.has_vmfunc);
    CHECK(c.proc_ctls == c.procbased);                   /* plain MSRs without BASIC[55] */
    CHECK(VMX_BASIC_REVISION(c.basic) == 0xd);

    cpu_msrs = broken_cpu;
    CHECK(vmx_caps_read(&c) == MSR_IA32_VMX_PINBASED_CTLS);

    CHECK(!strcmp(bit_name_lookup(cpu_based_bit_names, 7), "CPU_BASED_HLT_EXITING"));
    CHECK(!strcmp(bit_name_lookup(secondary_exec_bit_names, 7), "SECONDARY_EXEC_UNRESTRICTED_GUEST"));
    CHECK(bit_name_lookup(pin_based_bit_names, 1) == NULL);
    return CHECK_DONE();
}
