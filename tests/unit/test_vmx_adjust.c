/* test_vmx_adjust.c: chapter 04's control adjustment against tables of allowed-0/allowed-1
 * settings, on CPUs with and without the TRUE capability MSRs (SDM Vol. 3D, A.2-A.5). */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "trap.h"
#include "vmx_adjust.h"
#include "vmx_caps.h"
#include "vmx_controls.h"

struct caught_fault caught_fault;

/* One control word: (msr, required, optional) -> (value, missing). */
static const struct {
    uint64_t msr;
    uint32_t required, optional, value, missing;
} table[] = {
    /* Nothing wanted: exactly the must-be-1 (default1) bits. */
    {0x0000007f00000016ull, 0, 0, 0x16, 0},
    /* A wanted bit the CPU allows is set; a must-be-1 bit stays even if not wanted. */
    {0x0000007f00000016ull, 0x01, 0, 0x17, 0},
    {0x0000007f00000016ull, 0, 0x08, 0x1e, 0},
    /* Optional and not allowed: silently 0. Required and not allowed: missing. */
    {0x0000003f00000016ull, 0, 0x40, 0x16, 0},
    {0x0000003f00000016ull, 0x40, 0, 0x16, 0x40},
    {0x0000003f00000016ull, 0x41, 0x80, 0x17, 0x40},
    /* Primary controls of Bochs' Haswell, TRUE variant: CR3 exits (15, 16) may be 0. */
    {0xf7f9fffe04006172ull, CPU_BASED_HLT_EXITING, 0, 0x040061f2, 0},
    /* The plain MSR forces them to 1. */
    {0xf7f9fffe0401e172ull, CPU_BASED_HLT_EXITING, 0, 0x0401e1f2, 0},
    /* Bit 31 may be 1 everywhere here; bit 17 (tertiary controls) is not allowed. */
    {0xf7f9fffe04006172ull, CPU_BASED_ACTIVATE_SECONDARY_CONTROLS, CPU_BASED_ACTIVATE_TERTIARY_CONTROLS,
     0x84006172, 0},
    /* All bits wanted: the result is exactly the allowed-1 bits. */
    {0x0003ffff00036dfbull, 0, 0xffffffff, 0x0003ffff, 0},
    /* A CPU with no flexibility at all. */
    {0x0000001600000016ull, 0x01, 0x08, 0x16, 0x01},
};

static void test_table(void)
{
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        uint32_t missing = 0xdeadbeef;
        uint32_t value = vmx_adjust_ctl(table[i].msr, table[i].required, table[i].optional, &missing);
        if (value != table[i].value || missing != table[i].missing)
            fprintf(stderr, "row %zu: value 0x%x missing 0x%x, expected 0x%x 0x%x\n", i, value,
                    missing, table[i].value, table[i].missing);
        CHECK(value == table[i].value && missing == table[i].missing);
        /* Whatever is asked, the result obeys the MSR. */
        CHECK((value & CTL_MUST_BE_1(table[i].msr)) == CTL_MUST_BE_1(table[i].msr));
        CHECK((value & ~CTL_MAY_BE_1(table[i].msr)) == 0);
    }
}

/* A fake RDMSR over one simulated CPU, for vmx_caps_read(). */
struct fake_msr {
    uint32_t index;
    uint64_t value;
};
static const struct fake_msr *cpu_msrs;

int rdmsr_safe(uint32_t msr, uint64_t *value)
{
    for (const struct fake_msr *m = cpu_msrs; m->index; m++)
        if (m->index == msr) {
            *value = m->value;
            return NO_FAULT;
        }
    caught_fault.vector = EXC_GP;
    return EXC_GP;
}

/* Bochs' Haswell (tests/cpu-models.toml). */
static const struct fake_msr haswell[] = {
    {MSR_IA32_VMX_BASIC, 0x00d810000000002bull}, {MSR_IA32_VMX_PINBASED_CTLS, 0x0000007f00000016ull},
    {MSR_IA32_VMX_PROCBASED_CTLS, 0xf7f9fffe0401e172ull}, {MSR_IA32_VMX_EXIT_CTLS, 0x007fffff00036dffull},
    {MSR_IA32_VMX_ENTRY_CTLS, 0x0000ffff000011ffull}, {MSR_IA32_VMX_MISC, 0x200401e0},
    {MSR_IA32_VMX_CR0_FIXED0, 0x80000021}, {MSR_IA32_VMX_CR0_FIXED1, 0xffffffff},
    {MSR_IA32_VMX_CR4_FIXED0, 0x2000}, {MSR_IA32_VMX_CR4_FIXED1, 0x1727ff},
    {MSR_IA32_VMX_VMCS_ENUM, 0x34}, {MSR_IA32_VMX_PROCBASED_CTLS2, 0x00047fff00000000ull},
    {MSR_IA32_VMX_EPT_VPID_CAP, 0x00000f0106334141ull},
    {MSR_IA32_VMX_TRUE_PINBASED_CTLS, 0x0000007f00000016ull},
    {MSR_IA32_VMX_TRUE_PROCBASED_CTLS, 0xf7f9fffe04006172ull},
    {MSR_IA32_VMX_TRUE_EXIT_CTLS, 0x007fffff00036dfbull},
    {MSR_IA32_VMX_TRUE_ENTRY_CTLS, 0x0000ffff000011fbull}, {MSR_IA32_VMX_VMFUNC, 1}, {0, 0},
};

/* An old CPU: no TRUE MSRs (BASIC[55] = 0), no secondary controls (PROCBASED bit 63 = 0). */
static const struct fake_msr old_cpu[] = {
    {MSR_IA32_VMX_BASIC, 0x005a08000000000dull}, {MSR_IA32_VMX_PINBASED_CTLS, 0x0000003f00000016ull},
    {MSR_IA32_VMX_PROCBASED_CTLS, 0x77f9fffe0401e172ull}, {MSR_IA32_VMX_EXIT_CTLS, 0x0003ffff00036dffull},
    {MSR_IA32_VMX_ENTRY_CTLS, 0x00003fff000011ffull}, {MSR_IA32_VMX_MISC, 0x403c0},
    {MSR_IA32_VMX_CR0_FIXED0, 0x80000021}, {MSR_IA32_VMX_CR0_FIXED1, 0xffffffff},
    {MSR_IA32_VMX_CR4_FIXED0, 0x2000}, {MSR_IA32_VMX_CR4_FIXED1, 0x27ff},
    {MSR_IA32_VMX_VMCS_ENUM, 0x2c}, {0, 0},
};

static struct vmx_controls_request default_request(void)
{
    struct vmx_controls_request r = {0};
    r.proc.required = CPU_BASED_HLT_EXITING;
    r.exit.required = VM_EXIT_HOST_ADDR_SPACE_SIZE;
    r.exit.optional = VM_EXIT_LOAD_IA32_EFER | VM_EXIT_LOAD_IA32_PAT;
    r.entry.optional = VM_ENTRY_LOAD_IA32_EFER;
    return r;
}

static void test_controls_haswell(void)
{
    struct vmx_caps caps;
    struct vmx_controls out;
    char why[200];
    cpu_msrs = haswell;
    CHECK(vmx_caps_read(&caps) == 0 && caps.has_true_ctls);
    struct vmx_controls_request r = default_request();
    CHECK(vmx_adjust_controls(&caps, &r, &out, why, sizeof(why)) == 0 && why[0] == '\0');
    CHECK(out.pin == 0x16);
    CHECK(out.proc == 0x040061f2);            /* TRUE: CR3 exits not forced */
    CHECK(out.proc2 == 0);                    /* nothing wanted: secondary controls off */
    CHECK(out.exit == (0x36dfb | VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_LOAD_IA32_EFER |
                       VM_EXIT_LOAD_IA32_PAT));
    CHECK(out.entry == (0x11fb | VM_ENTRY_LOAD_IA32_EFER));

    /* A secondary control activates the secondary controls (primary bit 31). */
    r.proc2.required = SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_UNRESTRICTED_GUEST;
    CHECK(vmx_adjust_controls(&caps, &r, &out, why, sizeof(why)) == 0);
    CHECK(out.proc2 == 0x82 && (out.proc & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS));
    /* A bit the CPU lacks is named: Haswell's CTLS2 has no bit 20 (XSAVES). */
    r.proc2.required = SECONDARY_EXEC_ENABLE_XSAVES;
    CHECK(vmx_adjust_controls(&caps, &r, &out, why, sizeof(why)) == -1);
    CHECK(strstr(why, "SECONDARY_EXEC_ENABLE_XSAVES") && strstr(why, "IA32_VMX_PROCBASED_CTLS2"));
}

static void test_controls_old_cpu(void)
{
    struct vmx_caps caps;
    struct vmx_controls out;
    char why[200];
    cpu_msrs = old_cpu;
    CHECK(vmx_caps_read(&caps) == 0 && !caps.has_true_ctls && !caps.has_procbased2);
    struct vmx_controls_request r = default_request();
    CHECK(vmx_adjust_controls(&caps, &r, &out, why, sizeof(why)) == 0);
    CHECK(out.proc == 0x0401e1f2);            /* plain MSR: CR3-load/store exiting forced */
    CHECK(out.exit == (0x36dff | VM_EXIT_HOST_ADDR_SPACE_SIZE));   /* EFER/PAT dropped */
    CHECK(out.entry == 0x11ff);
    /* Optional secondary controls on a CPU without them: quietly none. */
    r.proc2.optional = SECONDARY_EXEC_ENABLE_EPT;
    CHECK(vmx_adjust_controls(&caps, &r, &out, why, sizeof(why)) == 0 && out.proc2 == 0 &&
          !(out.proc & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS));
    /* Required ones: an error that says why. */
    r.proc2.required = SECONDARY_EXEC_UNRESTRICTED_GUEST;
    CHECK(vmx_adjust_controls(&caps, &r, &out, why, sizeof(why)) == -1);
    CHECK(strstr(why, "SECONDARY_EXEC_UNRESTRICTED_GUEST") && strstr(why, "no secondary controls"));
    /* A required pin-based bit beyond allowed-1 (the preemption timer, bit 6). */
    r = default_request();
    r.pin.required = PIN_BASED_VMX_PREEMPTION_TIMER;
    CHECK(vmx_adjust_controls(&caps, &r, &out, why, sizeof(why)) == -1);
    CHECK(strstr(why, "pin-based control bit 6 (PIN_BASED_VMX_PREEMPTION_TIMER)") &&
          strstr(why, "IA32_VMX_PINBASED_CTLS"));
}

int main(void)
{
    test_table();
    test_controls_haswell();
    test_controls_old_cpu();
    return CHECK_DONE();
}
