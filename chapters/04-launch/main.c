/* main.c: chapter 04 kernel: the first VM entry and exit. Broken VMCSs are judged by the
 * software checker and by the CPU; then real guests compute from the run's nonce via VMCALL. */
#include "exercise.h"
#include "guest_state.h"
#include "kernel.h"
#include "mm.h"
#include "vcpu.h"
#include "vmx_controls.h"
#include "vmx_exit.h"
#include "vmxon.h"
#include "vmxtrace.h"

const char chapter_title[] = "Chapter 04: the first VM entry and exit";

/* guest.S: the guest programs and their protocol. */
extern const char guest64_start[], guest64_hello[], guest64_end[], guest16_start[], guest16_end[];
#define SEED_XOR 0xa5a5a5a5u
#define SEED_MUL 0x9e3779b1u
enum { VMCALL_HELLO = 1, VMCALL_RESULT = 2, VMCALL_DONE = 3 };

/* The seed is the run's nonce read as a hexadecimal number: it changes with every run. */
static uint64_t run_seed(void)
{
    uint64_t seed = 0;
    for (const char *p = run_nonce(); *p; p++) {
        int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
        if (d < 0)
            break;
        seed = seed << 4 | (uint64_t)d;
    }
    return seed;
}

static uint32_t expected_result(uint64_t seed)
{
    return ((uint32_t)seed ^ SEED_XOR) * SEED_MUL + (uint32_t)(seed >> 32);
}

/* What one guest run produced, filled in by handle_exit(). */
struct guest_run {
    uint64_t seed;
    uint32_t result;
    bool got_result, check_gprs;
    unsigned vmcalls, gprs_checked, gprs_ok;
    struct vmx_exit_info hello;
    uint64_t cr0_at_hello;
};

/* Values the host puts into the guest's registers before the first entry. */
static uint64_t gpr_pattern(int i)
{
    return 0x0101010101010101ull * (uint64_t)(i + 1);
}

/* At "hello" the 64-bit guest has inverted RCX..R15: did each value go in and come out? */
static void check_gprs(const struct vcpu *v, struct guest_run *run)
{
    for (int i = 0; i < 16; i++) {
        if (i == 4)
            continue;                       /* RSP lives in the VMCS */
        uint64_t want = i == 0 ? VMCALL_HELLO : ~gpr_pattern(i);
        run->gprs_checked++;
        run->gprs_ok += v->regs.gpr[i] == want;
    }
}

static enum vcpu_action handle_exit(struct vcpu *v)
{
    struct guest_run *run = v->user;
    if (v->exit.basic != EXIT_REASON_VMCALL) {
        kprintf("unexpected VM exit: reason %u (%s), qualification 0x%lx, guest RIP 0x%lx\n",
                v->exit.basic, vmx_exit_reason_name(v->exit.basic), v->exit.qualification,
                v->exit.guest_rip);
        return VCPU_STOP;
    }
    if (run->vmcalls++ == 0) {
        run->hello = v->exit;
        run->cr0_at_hello = vmcs_readl(GUEST_CR0);
        if (run->check_gprs)
            check_gprs(v, run);
    }
    kprintf("  VM exit %lu: reason %u (%s), qualification %lu, instruction length %u, guest RIP "
            "0x%lx, RAX %lu\n", v->exits, v->exit.basic, vmx_exit_reason_name(v->exit.basic),
            v->exit.qualification, v->exit.instruction_len, v->exit.guest_rip, v->regs.rax);
    // BEGIN EXERCISE 04-4: answer a VMCALL and resume the guest
    // Instruction: The call number is in the guest's RAX (v->regs.rax). For VMCALL_HELLO put
    //   the seed's bits 31:0 into the guest's RBX and bits 63:32 into RCX. For VMCALL_RESULT
    //   store RBX's low 32 bits in run->result, set run->got_result and return VCPU_STOP; for
    //   anything else return VCPU_STOP. Otherwise move the guest past the VMCALL and resume.
    // Hint: SDM Vol. 3C, 27.2.4 (VM-exit instruction length); vcpu_skip_instruction().
    switch (v->regs.rax) {
    case VMCALL_HELLO:
        v->regs.rbx = (uint32_t)run->seed;
        v->regs.rcx = run->seed >> 32;
        break;
    case VMCALL_RESULT:
        run->result = (uint32_t)v->regs.rbx;
        run->got_result = true;
        return VCPU_STOP;
    default:
        return VCPU_STOP;
    }
    vcpu_skip_instruction(v);
    return VCPU_RESUME;
    // END EXERCISE 04-4
}

/* 4-level page tables for the 64-bit guest, 4 KiB pages (SDM Vol. 3A, 4.5). */
#define PTE_P 1ull
#define PTE_W 2ull

static uint64_t *next_table(uint64_t *table, unsigned index)
{
    if (!(table[index] & PTE_P)) {
        void *page = page_alloc(1);
        if (!page)
            panic("out of memory for guest page tables");
        table[index] = virt_to_phys(page) | PTE_P | PTE_W;
    }
    return phys_to_virt(table[index] & ~0xfffull);
}

static void map_page(uint64_t *pml4, uint64_t va, uint64_t pa, uint64_t flags)
{
    uint64_t *pdpt = next_table(pml4, (va >> 39) & 511);
    uint64_t *pd = next_table(pdpt, (va >> 30) & 511);
    uint64_t *pt = next_table(pd, (va >> 21) & 511);
    pt[(va >> 12) & 511] = pa | flags | PTE_P;
}

/*
 * The 64-bit guest's memory: a code page and a stack page, mapped at their own
 * addresses by page tables that map nothing else. Without EPT the guest's
 * "physical" addresses are host-physical: these page tables are all that keeps
 * it from the rest of memory (chapter 06 adds EPT for a real boundary).
 */
struct long_mode_guest {
    uint64_t cr3, rip, rsp;
};

static void build_long_mode_guest(struct long_mode_guest *g)
{
    uint8_t *code = page_alloc(1), *stack = page_alloc(1);
    uint64_t *pml4 = page_alloc(1);
    if (!code || !stack || !pml4)
        panic("out of memory for the guest");
    memcpy(code, guest64_start, (size_t)(guest64_end - guest64_start));
    map_page(pml4, virt_to_phys(code), virt_to_phys(code), 0);          /* read-only */
    map_page(pml4, virt_to_phys(stack), virt_to_phys(stack), PTE_W);
    *g = (struct long_mode_guest){virt_to_phys(pml4), virt_to_phys(code),
                                  virt_to_phys(stack) + PAGE_SIZE};
}

/*
 * The real-mode guest's memory: guest-physical 0-64 KiB backed by 16 host pages
 * through a minimal EPT (one table per level, 4 KiB pages, write-back). Chapter 06
 * builds EPT properly; "unrestricted guest" requires EPT, so we need this much now.
 */
#define EPT_RWX 7ull
#define EPT_MEMTYPE_WB (6ull << 3)

static uint64_t build_real_mode_guest(const struct vmx_caps *caps)
{
    uint8_t *ram = page_alloc(16);
    uint64_t *pml4 = page_alloc(1), *pdpt = page_alloc(1), *pd = page_alloc(1), *pt = page_alloc(1);
    if (!ram || !pml4 || !pdpt || !pd || !pt)
        panic("out of memory for the guest");
    memcpy(ram + 0x8000, guest16_start, (size_t)(guest16_end - guest16_start));
    pml4[0] = virt_to_phys(pdpt) | EPT_RWX;
    pdpt[0] = virt_to_phys(pd) | EPT_RWX;
    pd[0] = virt_to_phys(pt) | EPT_RWX;
    for (int i = 0; i < 16; i++)
        pt[i] = (virt_to_phys(ram) + (uint64_t)i * PAGE_SIZE) | EPT_RWX | EPT_MEMTYPE_WB;
    /* EPTP (24.6.11): walk length 4 (bits 5:3 = 3), memory type WB if allowed, else UC. */
    return virt_to_phys(pml4) | 3u << 3 | (caps->ept_vpid & VMX_EPTP_WB_BIT ? 6 : 0);
}

/*
 * Broken VMCSs: each case changes one or two fields of a good VMCS the way learners
 * get them wrong, asks the software checker (vmx_check.c) what VM entry will say,
 * tries VMLAUNCH, and reports both verdicts. The VMCS is restored after each case.
 */
struct saved_field {
    uint32_t field;
    uint64_t value;
};
struct breakage {
    struct saved_field saved[4];
    int n;
};

static void break_field(struct breakage *b, uint32_t field, uint64_t value)
{
    uint64_t old = 0;
    vmread(field, &old);
    b->saved[b->n++] = (struct saved_field){field, old};
    vmwrite(field, value);
}

static uint64_t field(uint32_t f)
{
    uint64_t v = 0;
    vmread(f, &v);
    return v;
}

static void unadjusted_controls(struct breakage *b)
{
    break_field(b, CPU_BASED_VM_EXEC_CONTROL, CPU_BASED_HLT_EXITING);
}
static void null_host_tr(struct breakage *b) { break_field(b, HOST_TR_SELECTOR, 0); }
static void host_cr4_without_vmxe(struct breakage *b)
{
    break_field(b, HOST_CR4, field(HOST_CR4) & ~CR4_VMXE);
}
static void guest_cr0_without_ne(struct breakage *b)
{
    break_field(b, GUEST_CR0, field(GUEST_CR0) & ~CR0_NE);
}
static void guest_cs_not_present(struct breakage *b)
{
    break_field(b, GUEST_CS_AR_BYTES, field(GUEST_CS_AR_BYTES) & ~0x80ull);
}
static void guest_rflags_zero(struct breakage *b) { break_field(b, GUEST_RFLAGS, 0); }
static void sti_blocking_without_if(struct breakage *b)
{
    break_field(b, GUEST_INTERRUPTIBILITY_INFO, 1);      /* blocking by STI; RFLAGS.IF is 0 */
}
static void bad_activity_state(struct breakage *b) { break_field(b, GUEST_ACTIVITY_STATE, 4); }
static void link_pointer_zero(struct breakage *b) { break_field(b, VMCS_LINK_POINTER, 0); }

/* Two MSR-load entries: IA32_SYSENTER_CS (harmless, restored by the exit), then IA32_FS_BASE. */
static uint64_t msr_load_area[4] __attribute__((aligned(16)));
static void msr_load_fs_base(struct breakage *b)
{
    msr_load_area[0] = MSR_IA32_SYSENTER_CS;
    msr_load_area[1] = rdmsr(MSR_IA32_SYSENTER_CS);
    msr_load_area[2] = MSR_FS_BASE;
    msr_load_area[3] = 0;
    break_field(b, VM_ENTRY_MSR_LOAD_ADDR, virt_to_phys(msr_load_area));
    break_field(b, VM_ENTRY_MSR_LOAD_COUNT, 2);
}

static const struct broken_case {
    const char *id, *mistake;
    void (*apply)(struct breakage *b);
} broken_cases[] = {
    {"broken-controls", "controls written without the capability MSRs (HLT exiting only)",
     unadjusted_controls},
    {"broken-host-tr", "host TR selector 0 (no TSS loaded)", null_host_tr},
    {"broken-host-cr4", "host CR4 without VMXE", host_cr4_without_vmxe},
    {"broken-guest-cr0", "guest CR0 without NE", guest_cr0_without_ne},
    {"broken-guest-cs", "guest CS access rights without the present bit", guest_cs_not_present},
    {"broken-guest-rflags", "guest RFLAGS 0 (bit 1 must be 1)", guest_rflags_zero},
    {"broken-sti-blocking", "blocking by STI while RFLAGS.IF = 0", sti_blocking_without_if},
    {"broken-activity", "activity state 4 (there are only 0-3)", bad_activity_state},
    {"broken-link-pointer", "VMCS link pointer left 0 instead of ~0", link_pointer_zero},
    {"broken-msr-load", "IA32_FS_BASE in the VM-entry MSR-load list", msr_load_fs_base},
};

static void print_verdict(const char *who, enum entry_outcome o, uint32_t code, uint64_t qual)
{
    if (o == ENTRY_VMFAIL)
        kprintf("  %-10s VMfailValid, error %u: %s\n", who, code, vmx_error_name(code));
    else if (o == ENTRY_FAIL_EXIT)
        kprintf("  %-10s VM exit, reason %u (%s), qualification %lu\n", who, code,
                vmx_exit_reason_name(code), qual);
    else
        kprintf("  %-10s the guest ran\n", who);
}

/* Broken VMCSs never run a guest: if one does, it stops at its first exit. */
static enum vcpu_action stop_at_first_exit(struct vcpu *v)
{
    (void)v;
    return VCPU_STOP;
}

static void try_broken_case(struct vcpu *v, const struct broken_case *bc, int n)
{
    struct breakage b = {0};
    struct entry_verdict checker;
    enum entry_outcome hw = ENTRY_OK;
    uint32_t hw_code = 0;
    uint64_t hw_qual = 0;
    kprintf("Broken VMCS %d/%u: %s\n", n, (unsigned)ARRAY_SIZE(broken_cases), bc->mistake);
    vmx_trace("EXPECT failure %s", bc->mistake);     /* for tools/vmx_trace.py: on purpose */
    bc->apply(&b);
    vcpu_check_entry(v, &checker);
    kprintf("  checker:   %s (SDM Vol. 3C, %s)\n", checker.why, checker.section);
    print_verdict("predicted:", checker.outcome, checker.outcome == ENTRY_VMFAIL ? checker.error :
                  checker.exit_reason, checker.qualification);
    v->quiet_failures = n != 5;             /* one full report with a VMCS dump is enough */
    switch (vcpu_run(v)) {
    case VCPU_ENTRY_VMFAIL:
        hw = ENTRY_VMFAIL, hw_code = v->entry_error;
        break;
    case VCPU_ENTRY_FAILED:
        hw = ENTRY_FAIL_EXIT, hw_code = v->exit.basic, hw_qual = v->exit.qualification;
        break;
    default:
        break;
    }
    print_verdict("CPU:", hw, hw_code, hw_qual);
    checkpoint(bc->id, "checker=%s checker_code=%u checker_qual=%lu hw=%s hw_code=%u hw_qual=%lu",
               entry_outcome_name(checker.outcome),
               checker.outcome == ENTRY_VMFAIL ? checker.error : checker.exit_reason,
               checker.qualification, entry_outcome_name(hw), hw_code, hw_qual);
    while (b.n--)
        vmwrite(b.saved[b.n].field, b.saved[b.n].value);
}

static void show_broken_cases(const struct vmx_caps *caps, const struct long_mode_guest *g)
{
    struct vcpu_config config;
    struct vcpu v;
    struct entry_verdict good;
    vcpu_default_config(&config);
    if (vcpu_create(&v, caps, &config))
        panic("vcpu_create: %s", v.error);
    guest_state_long_mode(&v, g->cr3, g->rip, g->rsp);
    v.handle_exit = stop_at_first_exit;
    v.check_before_launch = false;
    vcpu_check_entry(&v, &good);
    kprintf("The good VMCS: %s\n", good.why);
    checkpoint("checker-good", "checker=%s checks=%u", entry_outcome_name(good.outcome), good.checks);
    for (unsigned i = 0; i < ARRAY_SIZE(broken_cases); i++)
        try_broken_case(&v, &broken_cases[i], (int)i + 1);
    vcpu_destroy(&v);
}

static void report_controls(const char *id, const struct vcpu_config *c, const struct vcpu *v)
{
    const struct vmx_controls_request *r = &c->controls;
    kprintf("Controls: pin 0x%x, primary 0x%x, secondary 0x%x, exit 0x%x, entry 0x%x\n",
            v->controls.pin, v->controls.proc, v->controls.proc2, v->controls.exit,
            v->controls.entry);
    checkpoint(id, "pin_want=0x%x pin=0x%x proc_want=0x%x proc=0x%x proc2_want=0x%x proc2=0x%x "
               "exit_want=0x%x exit=0x%x entry_want=0x%x entry=0x%x",
               r->pin.required | r->pin.optional, v->controls.pin,
               r->proc.required | r->proc.optional, v->controls.proc,
               r->proc2.required | r->proc2.optional, v->controls.proc2,
               r->exit.required | r->exit.optional, v->controls.exit,
               r->entry.required | r->entry.optional, v->controls.entry);
}

/* Run one guest to its result and say whether it computed the right thing. */
static bool run_guest(struct vcpu *v, struct guest_run *run, const char *id)
{
    run->seed = run_seed();
    v->user = run;
    v->handle_exit = handle_exit;
    enum vcpu_run_result r = vcpu_run(v);
    bool verified = r == VCPU_STOPPED && run->got_result && run->result == expected_result(run->seed);
    kprintf("Guest result 0x%x for seed 0x%lx: %s\n", run->result, run->seed,
            verified ? "as computed by the host" : "WRONG or missing");
    checkpoint(id, "seed=0x%lx result=0x%x vmcalls=%u exits=%lu cr0=0x%lx verified=%d", run->seed,
               run->result, run->vmcalls, v->exits, run->cr0_at_hello, verified);
    return verified;
}

static bool long_mode_guest(const struct vmx_caps *caps, const struct long_mode_guest *g)
{
    struct vcpu_config config;
    struct vcpu v;
    struct guest_run run = {.check_gprs = true};
    vcpu_default_config(&config);
    if (vcpu_create(&v, caps, &config))
        panic("vcpu_create: %s", v.error);
    report_controls("controls-long", &config, &v);
    guest_state_long_mode(&v, g->cr3, g->rip, g->rsp);
    for (int i = 0; i < 16; i++)
        v.regs.gpr[i] = gpr_pattern(i);
    kprintf("64-bit guest: CR3 0x%lx, RIP 0x%lx, RSP 0x%lx\n", g->cr3, g->rip, g->rsp);
    bool ok = run_guest(&v, &run, "guest-long-mode");
    checkpoint("vmcall-exit", "checker=%s reason=%u qualification=%lu instr_len=%u rip_offset=%lu "
               "vmcall_offset=%lu gprs_checked=%u gprs_ok=%u", entry_outcome_name(v.predicted.outcome),
               run.hello.reason, run.hello.qualification, run.hello.instruction_len,
               run.hello.guest_rip - g->rip, (uint64_t)(guest64_hello - guest64_start),
               run.gprs_checked, run.gprs_ok);
    vcpu_destroy(&v);
    return ok;
}

/* Real mode needs "unrestricted guest"; without it, vcpu_create() says which bit is missing. */
static bool real_mode_guest(const struct vmx_caps *caps)
{
    struct vcpu_config config;
    struct vcpu v;
    struct guest_run run = {0};
    vcpu_default_config(&config);
    config.controls.proc2.required = SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_UNRESTRICTED_GUEST;
    int created = vcpu_create(&v, caps, &config) == 0;
    kprintf("Real-mode guest: %s%s\n", created ? "unrestricted guest available" :
            "cannot be built: ", created ? "" : v.error);
    checkpoint("unrestricted-guest", "created=%d", created);
    if (!created) {
        kprintf("  Without \"unrestricted guest\" a guest cannot run with CR0.PE = 0 or CR0.PG = 0;\n"
                "  it must start with paging on, as the 64-bit guest above does.\n");
        return true;
    }
    report_controls("controls-real", &config, &v);
    vmcs_write64(EPT_POINTER, build_real_mode_guest(caps));
    if (guest_state_real_mode(&v, 0, 0x8000, 0x7000))
        panic("real-mode guest state without unrestricted guest");
    bool ok = run_guest(&v, &run, "guest-real-mode");
    vcpu_destroy(&v);
    return ok;
}

int chapter_main(void)
{
    if (!cpu_has_vmx())
        skip_chapter("CPUID.1:ECX.VMX = 0: no VMX on this CPU");
    struct vmx_caps caps;
    struct vmx_root root;
    struct long_mode_guest g;
    if (vmx_caps_read(&caps))
        panic("reading the VMX capability MSRs faulted");
    vmx_enable(&caps, &root);
    build_long_mode_guest(&g);

    show_broken_cases(&caps, &g);
    bool ok = long_mode_guest(&caps, &g);
    ok &= real_mode_guest(&caps);

    vmx_disable(&root);
    kprintf("VMXOFF. %s\n", ok ? "Every guest computed what the host expected." :
            "A guest did not compute what the host expected.");
    return ok ? STATUS_OK : STATUS_FAIL;
}
