/* test_vmx_check.c: chapter 04's software VM-entry checker fed through a fake field reader:
 * good 64-bit and real-mode VMCSs pass, and each broken one gets the SDM's verdict. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "vmcs_field.h"
#include "vmx_check.h"
#include "vmx_controls.h"
#include "vmx_exit.h"
#include "vmx_insn.h"
#include "x86.h"

struct caught_fault caught_fault;

/* The fake VMCS: one value per encoding; and a little fake physical memory. */
static uint64_t vmcs[0x7000];
static struct { uint64_t pa, value; } memory[8];

static uint64_t fake_read(void *ctx, uint32_t field)
{
    (void)ctx;
    return field < sizeof(vmcs) / sizeof(vmcs[0]) ? vmcs[field] : 0;
}

static uint64_t fake_read_phys(void *ctx, uint64_t pa)
{
    (void)ctx;
    for (unsigned i = 0; i < sizeof(memory) / sizeof(memory[0]); i++)
        if (memory[i].pa == pa)
            return memory[i].value;
    return 0;
}

static const struct vmcs_reader reader = {fake_read, fake_read_phys, NULL};
static struct vmx_caps caps;
static const struct vmx_check_env env = {&caps, 40, 0x200000, true};
#define CURRENT_VMCS 0x200000

/* Bochs' Haswell, as in tests/cpu-models.toml: TRUE controls, EPT, unrestricted guest. */
static void haswell_caps(void)
{
    caps = (struct vmx_caps){
        .basic = 0x00d810000000002bull, .misc = 0x200401e0,
        .cr0_fixed0 = 0x80000021, .cr0_fixed1 = 0xffffffff, .cr4_fixed0 = 0x2000, .cr4_fixed1 = 0x1727ff,
        .procbased2 = 0x00047fff00000000ull, .ept_vpid = 0x00000f0106334141ull, .vmfunc = 1,
        .has_true_ctls = true, .has_procbased2 = true, .has_ept_vpid = true, .has_vmfunc = true,
        .pin_ctls = 0x0000007f00000016ull, .proc_ctls = 0xf7f9fffe04006172ull,
        .exit_ctls = 0x007fffff00036dfbull, .entry_ctls = 0x0000ffff000011fbull,
    };
}

static void seg(int n, uint16_t sel, uint64_t base, uint32_t limit, uint32_t ar)
{
    vmcs[GUEST_ES_SELECTOR + 2 * n] = sel;
    vmcs[GUEST_ES_BASE + 2 * n] = base;
    vmcs[GUEST_ES_LIMIT + 2 * n] = limit;
    vmcs[GUEST_ES_AR_BYTES + 2 * n] = ar;
}

/* What chapter 04's vcpu_create() and guest_state_long_mode() write. */
static void good_long_mode_vmcs(void)
{
    memset(vmcs, 0, sizeof(vmcs));
    memset(memory, 0, sizeof(memory));
    vmcs[PIN_BASED_VM_EXEC_CONTROL] = 0x16;
    vmcs[CPU_BASED_VM_EXEC_CONTROL] = 0x040061f2;
    vmcs[VM_EXIT_CONTROLS] = 0x36dfb | VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_LOAD_IA32_EFER;
    vmcs[VM_ENTRY_CONTROLS] = 0x11fb | VM_ENTRY_IA32E_MODE | VM_ENTRY_LOAD_IA32_EFER;
    vmcs[HOST_CR0] = 0x80010031;
    vmcs[HOST_CR3] = 0x10a000;
    vmcs[HOST_CR4] = 0x2020;
    vmcs[HOST_CS_SELECTOR] = 0x08;
    vmcs[HOST_SS_SELECTOR] = vmcs[HOST_DS_SELECTOR] = vmcs[HOST_ES_SELECTOR] = 0x10;
    vmcs[HOST_TR_SELECTOR] = 0x18;
    vmcs[HOST_TR_BASE] = 0x108000;
    vmcs[HOST_GDTR_BASE] = 0x107000;
    vmcs[HOST_IDTR_BASE] = 0x106000;
    vmcs[HOST_IA32_EFER] = EFER_LME | EFER_LMA;
    vmcs[HOST_RIP] = 0x101234;
    vmcs[GUEST_CR0] = 0x80000031;
    vmcs[GUEST_CR3] = 0x12c000;
    vmcs[GUEST_CR4] = 0x2020;
    vmcs[GUEST_IA32_EFER] = EFER_LME | EFER_LMA;
    seg(1, 0x08, 0, 0xffffffff, 0xa09b);
    seg(0, 0x10, 0, 0xffffffff, 0xc093);
    for (int n = 2; n <= 5; n++)
        seg(n, 0x10, 0, 0xffffffff, 0xc093);
    seg(6, 0, 0, 0, 0x10000);
    seg(7, 0x18, 0, 0x67, 0x8b);
    vmcs[GUEST_RIP] = 0x12a000;
    vmcs[GUEST_RSP] = 0x12c000;
    vmcs[GUEST_RFLAGS] = 2;
    vmcs[GUEST_DR7] = 0x400;
    vmcs[VMCS_LINK_POINTER] = ~0ull;
}

/* What guest_state_real_mode() writes, with EPT and unrestricted guest enabled. */
static void good_real_mode_vmcs(void)
{
    good_long_mode_vmcs();
    vmcs[CPU_BASED_VM_EXEC_CONTROL] |= CPU_BASED_ACTIVATE_SECONDARY_CONTROLS;
    vmcs[SECONDARY_VM_EXEC_CONTROL] = SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_UNRESTRICTED_GUEST;
    vmcs[EPT_POINTER] = 0x300000 | 3 << 3 | 6;
    vmcs[VM_ENTRY_CONTROLS] &= ~(uint64_t)VM_ENTRY_IA32E_MODE;
    vmcs[GUEST_IA32_EFER] = 0;
    vmcs[GUEST_CR0] = 0x30;
    vmcs[GUEST_CR3] = 0;
    vmcs[GUEST_CR4] = 0x2000;
    seg(1, 0, 0, 0xffff, 0x9b);
    for (int n = 0; n <= 5; n++)
        if (n != 1)
            seg(n, 0, 0, 0xffff, 0x93);
    seg(7, 0, 0, 0xffff, 0x8b);
    vmcs[GUEST_RIP] = 0x8000;
    vmcs[GUEST_RSP] = 0x7000;
}

static struct entry_verdict verdict;

static void expect(const char *what, enum entry_outcome outcome, uint32_t code, uint64_t qual)
{
    vmx_check_entry(&reader, &env, &verdict);
    uint32_t got = verdict.outcome == ENTRY_VMFAIL ? verdict.error : verdict.exit_reason;
    if (verdict.outcome != outcome || got != code || verdict.qualification != qual) {
        fprintf(stderr, "%s: got %s %u/%lu (%s), expected %s %u/%lu\n", what,
                entry_outcome_name(verdict.outcome), got, (unsigned long)verdict.qualification,
                verdict.why, entry_outcome_name(outcome), code, (unsigned long)qual);
        check_failures++;
    }
}

static void test_good(void)
{
    good_long_mode_vmcs();
    expect("good 64-bit guest", ENTRY_OK, 0, 0);
    CHECK(verdict.checks > 50 && strstr(verdict.why, "no violation"));
    good_real_mode_vmcs();
    expect("good real-mode guest", ENTRY_OK, 0, 0);
}

/* The ten cases chapter 04 shows on the CPU, here without a CPU. */
static void test_chapter_cases(void)
{
    good_long_mode_vmcs();
    vmcs[CPU_BASED_VM_EXEC_CONTROL] = CPU_BASED_HLT_EXITING;
    expect("unadjusted controls", ENTRY_VMFAIL, 7, 0);
    CHECK(strstr(verdict.why, "bit 1 (reserved, default 1) is 0") && !strcmp(verdict.section, "26.2.1.1"));
    good_long_mode_vmcs();
    vmcs[HOST_TR_SELECTOR] = 0;
    expect("host TR 0", ENTRY_VMFAIL, 8, 0);
    CHECK(strstr(verdict.why, "TR selector is 0"));
    good_long_mode_vmcs();
    vmcs[HOST_CR4] &= ~CR4_VMXE;
    expect("host CR4 without VMXE", ENTRY_VMFAIL, 8, 0);
    good_long_mode_vmcs();
    vmcs[GUEST_CR0] &= ~CR0_NE;
    expect("guest CR0 without NE", ENTRY_FAIL_EXIT, 33, 0);
    good_long_mode_vmcs();
    vmcs[GUEST_CS_AR_BYTES] &= ~0x80ull;
    expect("guest CS not present", ENTRY_FAIL_EXIT, 33, 0);
    CHECK(strstr(verdict.why, "CS") && strstr(verdict.why, "not present"));
    good_long_mode_vmcs();
    vmcs[GUEST_RFLAGS] = 0;
    expect("guest RFLAGS 0", ENTRY_FAIL_EXIT, 33, 0);
    good_long_mode_vmcs();
    vmcs[GUEST_INTERRUPTIBILITY_INFO] = 1;
    expect("STI blocking with IF = 0", ENTRY_FAIL_EXIT, 33, 0);
    good_long_mode_vmcs();
    vmcs[GUEST_ACTIVITY_STATE] = 4;
    expect("activity state 4", ENTRY_FAIL_EXIT, 33, 0);
    good_long_mode_vmcs();
    vmcs[VMCS_LINK_POINTER] = 0;
    expect("link pointer 0", ENTRY_FAIL_EXIT, 33, ENTRY_FAIL_VMCS_LINK_PTR);
    good_long_mode_vmcs();
    vmcs[VM_ENTRY_MSR_LOAD_COUNT] = 2;
    vmcs[VM_ENTRY_MSR_LOAD_ADDR] = 0x5000;
    memory[0].pa = 0x5000, memory[0].value = MSR_IA32_SYSENTER_CS;
    memory[1].pa = 0x5010, memory[1].value = MSR_FS_BASE;
    expect("IA32_FS_BASE in the MSR-load list", ENTRY_FAIL_EXIT, 34, 2);
}

/* More checks of each section, beyond the chapter's demonstrations. */
static void test_more_cases(void)
{
    good_long_mode_vmcs();
    vmcs[VM_EXIT_CONTROLS] &= ~(uint64_t)VM_EXIT_HOST_ADDR_SPACE_SIZE;
    expect("32-bit host on a 64-bit CPU", ENTRY_VMFAIL, 8, 0);
    good_long_mode_vmcs();
    vmcs[HOST_CS_SELECTOR] = 0x0b;
    expect("host CS with RPL 3", ENTRY_VMFAIL, 8, 0);
    good_long_mode_vmcs();
    vmcs[HOST_RIP] = 0x0000800000000000ull;
    expect("non-canonical host RIP", ENTRY_VMFAIL, 8, 0);
    good_long_mode_vmcs();
    vmcs[PIN_BASED_VM_EXEC_CONTROL] |= PIN_BASED_POSTED_INTR | (1u << 10);
    expect("pin-based bit beyond allowed-1", ENTRY_VMFAIL, 7, 0);
    good_real_mode_vmcs();
    vmcs[SECONDARY_VM_EXEC_CONTROL] = SECONDARY_EXEC_UNRESTRICTED_GUEST;
    expect("unrestricted guest without EPT", ENTRY_VMFAIL, 7, 0);
    good_real_mode_vmcs();
    vmcs[EPT_POINTER] = 0x300000 | 3 << 3 | 1;            /* memory type 1 (WC): not allowed */
    expect("EPTP memory type 1", ENTRY_VMFAIL, 7, 0);
    good_real_mode_vmcs();
    vmcs[EPT_POINTER] = 0x300000 | 2 << 3 | 6;            /* 3-level walk */
    expect("EPTP walk length 3", ENTRY_VMFAIL, 7, 0);
    good_real_mode_vmcs();
    vmcs[SECONDARY_VM_EXEC_CONTROL] = SECONDARY_EXEC_ENABLE_EPT;   /* real mode without UG */
    expect("real mode without unrestricted guest", ENTRY_FAIL_EXIT, 33, 0);
    CHECK(strstr(verdict.why, "GUEST_CR0"));
    good_real_mode_vmcs();
    vmcs[CPU_BASED_VM_EXEC_CONTROL] &= ~(uint64_t)CPU_BASED_ACTIVATE_SECONDARY_CONTROLS;
    expect("secondary controls not activated", ENTRY_FAIL_EXIT, 33, 0);
    good_long_mode_vmcs();
    vmcs[VM_ENTRY_INTR_INFO_FIELD] = 0x80000020;            /* external interrupt 32, IF = 0 */
    expect("external interrupt injected with IF = 0", ENTRY_FAIL_EXIT, 33, 0);
    vmcs[GUEST_RFLAGS] = 0x202;
    expect("external interrupt injected with IF = 1", ENTRY_OK, 0, 0);
    vmcs[VM_ENTRY_INTR_INFO_FIELD] = 0x80000b0d;            /* #GP with its error code */
    expect("#GP injected with an error code", ENTRY_OK, 0, 0);
    vmcs[VM_ENTRY_INTR_INFO_FIELD] = 0x8000030d;            /* #GP without it */
    expect("#GP injected without its error code", ENTRY_VMFAIL, 7, 0);
    good_long_mode_vmcs();
    vmcs[GUEST_CS_AR_BYTES] = 0xe09b;                       /* L = 1 and D = 1 */
    expect("64-bit CS with D = 1", ENTRY_FAIL_EXIT, 33, 0);
    good_long_mode_vmcs();
    vmcs[GUEST_TR_AR_BYTES] = 0x89;                         /* available, not busy */
    expect("TR not busy", ENTRY_FAIL_EXIT, 33, 0);
    good_long_mode_vmcs();
    vmcs[GUEST_SS_LIMIT] = 0xffff0;                         /* G = 1 with limit[11:0] != 0xfff */
    vmcs[GUEST_SS_AR_BYTES] = 0xc093;
    expect("SS limit and G disagree", ENTRY_FAIL_EXIT, 33, 0);
    good_long_mode_vmcs();
    vmcs[GUEST_IA32_EFER] = EFER_LME;                       /* LMA must match IA-32e mode guest */
    expect("guest EFER.LMA = 0 in IA-32e mode", ENTRY_FAIL_EXIT, 33, 0);
    good_long_mode_vmcs();
    vmcs[GUEST_RIP] = 0x0000800000000000ull;
    expect("non-canonical guest RIP in 64-bit mode", ENTRY_FAIL_EXIT, 33, 0);
    good_long_mode_vmcs();
    vmcs[VMCS_LINK_POINTER] = CURRENT_VMCS;
    memory[0].pa = CURRENT_VMCS, memory[0].value = 0x2b;
    expect("link pointer = current VMCS", ENTRY_FAIL_EXIT, 33, ENTRY_FAIL_VMCS_LINK_PTR);
    vmcs[VMCS_LINK_POINTER] = 0x201000;
    memory[1].pa = 0x201000, memory[1].value = 0x2b;
    expect("link pointer to another VMCS", ENTRY_OK, 0, 0);
    good_long_mode_vmcs();
    vmcs[GUEST_ACTIVITY_STATE] = 1;                         /* HLT with SS.DPL 0: fine */
    expect("HLT activity state", ENTRY_OK, 0, 0);
}

int main(void)
{
    haswell_caps();
    test_good();
    test_chapter_cases();
    test_more_cases();
    return CHECK_DONE();
}
