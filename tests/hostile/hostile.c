/* hostile.c: a test kernel on chapter 07's hypervisor that runs hostile guests one after another,
 * each in a fresh VM, and checks after each that the hypervisor's own memory and state are intact. */
#include "hostile.h"
#include "host_timer.h"
#include "kernel.h"
#include "mm.h"
#include "platform.h"
#include "vmx_controls.h"
#include "vmx_exit.h"
#include "vmxon.h"

const char chapter_title[] = "Hostile guests under chapter 07's hypervisor";

/*
 * The command line (tests/hostile/checkpoints.toml): cases=NAME,NAME,... (or "all": every
 * case but "random"), seeds=FIRST-LAST and steps=N for the randomized guest, tsc_khz=N,
 * budget_ms=N (guest time a VM may run before the watchdog stops it).
 *
 * For each VM: platform_create() and platform_load() of the guest module (the same image
 * for every case; HC_INFO tells it its case), a run, what the guest reported and what the
 * hypervisor saw as two checkpoint lines, platform_destroy(), then the integrity check:
 * a checksum of the kernel's code and read-only data, a canary in its data and BSS, the
 * host state VM exits do not restore (TPR, MSRs), and the free page count.
 */
#define WATCHDOG_TICK_TSC 100000         /* 20 ms at Bochs' 5 MHz */

static const char *const case_names[] = {
#define HOSTILE_NAME(id, name) name,
    HOSTILE_CASES(HOSTILE_NAME)
#undef HOSTILE_NAME
};

struct report_line {
    char key[REPORT_KEY_MAX + 1];
    uint64_t value;
};

/* What the current VM is doing, for its hypercalls and the watchdog. */
static struct {
    struct platform p;           /* big: static */
    int which;
    uint64_t seed, steps;
    struct report_line reports[REPORTS_MAX];
    unsigned nreports, bad_reports;
    uint64_t deadline;
    bool watchdog;
    vm_exit_handler extint, preempt;
} run;

/* ---- integrity: what no guest may change ---- */

extern const char kernel_start[], extable_end[];
static uint64_t canary_data[512] = {1};          /* in .data */
static uint64_t canary_bss[512];                 /* in .bss */
static uint64_t canary_seed, text_sum0;

struct host_state {
    uint64_t efer, sysenter_cs, sysenter_esp, sysenter_eip, fs_base, gs_base, pat, tpr;
};
static struct host_state host0;

static uint64_t checksum(const char *from, const char *to)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const uint64_t *p = (const uint64_t *)from; p < (const uint64_t *)to; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    return h;
}

static uint64_t canary_word(unsigned i, int which)
{
    return (canary_seed + i * 0x9e3779b97f4a7c15ull) ^ (which ? 0x5555555555555555ull : 0);
}

static void host_state_read(struct host_state *s)
{
    s->efer = rdmsr(MSR_EFER);
    s->sysenter_cs = rdmsr(MSR_IA32_SYSENTER_CS);
    s->sysenter_esp = rdmsr(MSR_IA32_SYSENTER_ESP);
    s->sysenter_eip = rdmsr(MSR_IA32_SYSENTER_EIP);
    s->fs_base = rdmsr(MSR_FS_BASE);
    s->gs_base = rdmsr(MSR_GS_BASE);
    s->pat = rdmsr(MSR_IA32_CR_PAT);
    s->tpr = host_timer()->running ? *(volatile uint32_t *)phys_to_virt(host_timer()->lapic_base + 0x80) : 0;
}

static void integrity_init(void)
{
    char nonce[24] = "";
    cmdline_get("nonce", nonce, sizeof(nonce));
    canary_seed = checksum(nonce, nonce + 16);
    for (unsigned i = 0; i < 512; i++) {
        canary_data[i] = canary_word(i, 0);
        canary_bss[i] = canary_word(i, 1);
    }
    text_sum0 = checksum(kernel_start, extable_end);
    host_state_read(&host0);
}

struct integrity {
    bool text_ok, canary_ok, host_ok;
};

static struct integrity integrity_check(void)
{
    struct integrity r = {checksum(kernel_start, extable_end) == text_sum0, true, true};
    struct host_state now;
    for (unsigned i = 0; i < 512; i++)
        r.canary_ok &= canary_data[i] == canary_word(i, 0) && canary_bss[i] == canary_word(i, 1);
    host_state_read(&now);
    r.host_ok = !memcmp(&now, &host0, sizeof(now));
    if (!r.host_ok)
        kprintf("hostile: host state changed: EFER 0x%lx/0x%lx SYSENTER_CS 0x%lx/0x%lx ESP 0x%lx/0x%lx "
                "EIP 0x%lx/0x%lx FS 0x%lx/0x%lx GS 0x%lx/0x%lx PAT 0x%lx/0x%lx TPR 0x%lx/0x%lx\n",
                host0.efer, now.efer, host0.sysenter_cs, now.sysenter_cs, host0.sysenter_esp,
                now.sysenter_esp, host0.sysenter_eip, now.sysenter_eip, host0.fs_base, now.fs_base,
                host0.gs_base, now.gs_base, host0.pat, now.pat, host0.tpr, now.tpr);
    return r;
}

/* ---- the hypercalls of guests/hostile/hostile.h ---- */

static long hc_exit(struct vm *vm, struct vm_hypercall *hc)
{
    vm->stop_status = hc->arg[0];
    vm_stop(vm, VM_STOP_GUEST, "the guest exited with status %lu", hc->arg[0]);
    return 0;
}

static long hc_info(struct vm *vm, struct vm_hypercall *hc)
{
    (void)vm;
    hc->ret[0] = (uint64_t)run.which, hc->ret[1] = run.seed, hc->ret[2] = run.steps;
    return 0;
}

/* A key is read from guest memory: canonical, mapped, short, and only [a-z0-9_]. */
static long hc_report(struct vm *vm, struct vm_hypercall *hc)
{
    char key[REPORT_KEY_MAX + 1];
    struct guest_walk w;
    uint64_t la = hc->arg[0], len = hc->arg[1];
    bool canonical = (uint64_t)((int64_t)(la << 16) >> 16) == la;
    if (!canonical || len == 0 || len > REPORT_KEY_MAX || run.nreports == REPORTS_MAX ||
        vm_read_guest(vm, la, key, len, &w)) {
        run.bad_reports++;
        return HC_EINVAL;
    }
    for (uint64_t i = 0; i < len; i++) {
        char c = key[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
            run.bad_reports++;
            return HC_EINVAL;
        }
    }
    key[len] = '\0';
    memcpy(run.reports[run.nreports].key, key, len + 1);
    run.reports[run.nreports++].value = hc->arg[2];
    return 0;
}

static long hc_host_addr(struct vm *vm, struct vm_hypercall *hc)
{
    struct platform *p = vm->user;
    const void *addr[HOST_ADDR_COUNT] = {kernel_start, canary_data, p->ram, p->mem.ept.pml4,
                                         p->vm.vcpu.vmcs.region};
    if (hc->arg[0] >= HOST_ADDR_COUNT)
        return HC_EINVAL;
    hc->ret[0] = virt_to_phys(addr[hc->arg[0]]);
    return 0;
}

/* ---- the watchdog: the host's tick and the preemption timer bring the host back ---- */

static enum vcpu_action check_watchdog(struct vm *vm, enum vcpu_action a)
{
    if (a == VCPU_RESUME && vm->stop == VM_RUNNING && rdtsc() > run.deadline) {
        run.watchdog = true;
        return vm_stop(vm, VM_STOP_REFUSED, "watchdog: the guest ran longer than its budget");
    }
    return a;
}

static enum vcpu_action watch_extint(struct vm *vm)
{
    return check_watchdog(vm, run.extint(vm));
}

static enum vcpu_action watch_preempt(struct vm *vm)
{
    return check_watchdog(vm, run.preempt(vm));
}

/* A halted guest wakes at its timer's deadline: one after the budget is a watchdog stop now
 * (while halted, the host waits in chapter 05's vm_timer_wait(), where nothing checks). */
static enum vcpu_action watch_hlt(struct vm *vm)
{
    enum vcpu_action a = vm_handle_hlt(vm);
    if (a == VCPU_RESUME && vm->ev.halted && vm->timer.deadline > run.deadline) {
        run.watchdog = true;
        return vm_stop(vm, VM_STOP_REFUSED, "watchdog: the guest halted until after its budget");
    }
    return a;
}

/* ---- one VM ---- */

static const char *stop_word(const struct vm *vm)
{
    if (run.watchdog)
        return "watchdog";
    switch (vm->stop) {
    case VM_STOP_GUEST: return "guest";
    case VM_STOP_UNHANDLED: return "unhandled";
    case VM_STOP_TRIPLE_FAULT: return "triple-fault";
    case VM_STOP_REFUSED: return "refused";
    case VM_STOP_ENTRY_FAILED: return "entry-failed";
    default: return "running";
    }
}

/* The guest's reports, each key prefixed "g_": a guest cannot forge a fact of the hypervisor's. */
static void guest_reports(char *line, size_t size)
{
    size_t n = 0;
    line[0] = '\0';
    for (unsigned i = 0; i < run.nreports && n + 64 < size; i++)
        n += (size_t)ksnprintf(line + n, size - n, " g_%s=0x%lx", run.reports[i].key,
                               run.reports[i].value);
}

struct totals {
    unsigned vms, text_bad, canary_bad, host_bad;
    long leaked;
};

static void run_one(const struct vmx_caps *caps, const struct platform_options *base, int which,
                    uint64_t seed, uint64_t steps, uint64_t budget, const void *image, size_t size,
                    struct totals *t)
{
    struct platform *p = &run.p;
    struct platform_options opt = *base;
    char why[200];
    size_t free0 = mm_free_pages();
    opt.x2apic = which != CASE_MMIO && base->x2apic;        /* the xAPIC page needs xAPIC mode */
    run.which = which, run.seed = seed, run.steps = steps;
    run.nreports = run.bad_reports = 0, run.watchdog = false;
    kprintf("---- hostile guest: %s (seed %lu) ----\n", case_names[which], seed);
    if (platform_create(p, caps, &opt, why, sizeof(why)) ||
        platform_load(p, image, size, why, sizeof(why)))
        panic("the hostile guest cannot run: %s", why);
    struct vm *vm = &p->vm;
    if (vm_hypercall_register(vm, HC_EXIT, hc_exit, "exit") ||
        vm_hypercall_register(vm, HC_INFO, hc_info, "info") ||
        vm_hypercall_register(vm, HC_REPORT, hc_report, "report") ||
        vm_hypercall_register(vm, HC_HOST_ADDR, hc_host_addr, "host address"))
        panic("cannot register the hostile hypercalls");
    run.extint = vm->handlers[EXIT_REASON_EXTERNAL_INTERRUPT];
    run.preempt = vm->handlers[EXIT_REASON_PREEMPTION_TIMER];
    vm_set_exit_handler(vm, EXIT_REASON_EXTERNAL_INTERRUPT, watch_extint);
    vm_set_exit_handler(vm, EXIT_REASON_PREEMPTION_TIMER, watch_preempt);
    vm_set_exit_handler(vm, EXIT_REASON_HLT, watch_hlt);
    /* Bochs takes no host interrupt while the guest has IF = 0 (docs/security.md): the
     * preemption timer's time slice brings the host back from a guest that never exits. */
    vm->timer.slice = WATCHDOG_TICK_TSC;
    uint64_t t0 = rdtsc();
    run.deadline = t0 + budget;
    vm->timer.wait_limit = run.deadline; /* halted with a timer that never wakes it */
    platform_run(p);
    if (vm->stop == VM_STOP_REFUSED && vm->ev.halted && vm->timer.deadline)
        run.watchdog = true;             /* the wait limit above stopped it */
    uint64_t ran = rdtsc() - t0;
    kprintf("hostile: %s: %s: %s\n", case_names[which], vm_stop_kind_name(vm->stop), vm->stop_why);
    static char reports[REPORTS_MAX * 48];
    guest_reports(reports, sizeof(reports));
    /* What the hypervisor saw and what the guest reported, on one line: the test compares. */
    checkpoint(case_names[which], "seed=%lu stop=%s exit=%u status=%lu tsc=%lu exits=%lu "
               "injected=%lu irqs=%lu io_unknown=%lu io_refused=%lu msr_refused=%lu cr_refused=%lu "
               "unassigned=%lu hpet_odd=%lu bad_reports=%u%s", seed, stop_word(vm), vm->vcpu.exit.basic,
               vm->stop_status, ran, vm->exits, vm->ev.exceptions_injected, vm->ev.irqs_injected,
               vm->io.unknown, vm->io.refused, vm->msr.refused, vm->cr.refused,
               p->mem.unassigned_reads + p->mem.unassigned_writes, p->hpet.odd_accesses,
               run.bad_reports, reports);
    bool launched = vm->vcpu.launched;
    platform_destroy(p);
    struct integrity in = integrity_check();
    long leaked = (long)free0 - (long)mm_free_pages();
    t->vms++, t->text_bad += !in.text_ok, t->canary_bad += !in.canary_ok, t->host_bad += !in.host_ok;
    t->leaked += leaked;
    checkpoint("integrity", "case=%s seed=%lu launched=%d text_ok=%d canary_ok=%d host_ok=%d "
               "leaked_pages=%ld", case_names[which], seed, launched, in.text_ok, in.canary_ok,
               in.host_ok, leaked);
}

static uint64_t decimal(const char *s)
{
    uint64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++)
        v = v * 10 + (uint64_t)(*s - '0');
    return v;
}

static int case_by_name(const char *name, size_t len)
{
    for (int i = 0; i < CASE_COUNT; i++)
        if (strlen(case_names[i]) == len && !memcmp(case_names[i], name, len))
            return i;
    return -1;
}

static const struct boot_module *guest_module(void)
{
    for (int i = 0; i < boot_info.module_count; i++)
        if (!strcmp(boot_info.modules[i].name, "guest"))
            return &boot_info.modules[i];
    return NULL;
}

int chapter_main(void)
{
    struct vmx_caps caps;
    struct vmx_root root;
    struct platform_options opt = {0};
    struct totals t = {0};
    char cases[400], seeds[40];
    const struct boot_module *m = guest_module();
    if (!cpu_has_vmx())
        skip_chapter("CPUID.1:ECX.VMX = 0: no VMX on this CPU");
    if (vmx_caps_read(&caps))
        panic("reading the VMX capability MSRs faulted");
    if (!caps.has_procbased2 || !(CTL_MAY_BE_1(caps.procbased2) & SECONDARY_EXEC_ENABLE_EPT))
        skip_chapter("no EPT on this CPU: chapter 07's hypervisor does not run here");
    if (!m)
        panic("no boot module named \"guest\" (build:guests/hostile/hostile.bin=guest)");
    opt.ram_size = (uint64_t)GUEST_RAM_MB << 20;
    opt.x2apic = cmdline_get_u64("x2apic", 1) != 0;
    opt.tsc_khz = cmdline_get_u64("tsc_khz", 0);
    opt.tsc_stated = opt.tsc_khz != 0;
    if (!opt.tsc_khz && !(opt.tsc_khz = tsc_measure_khz()))
        panic("the TSC rate could not be measured: give tsc_khz= on the command line");
    uint64_t budget = cmdline_get_u64("budget_ms", 20000) * opt.tsc_khz;
    uint64_t steps = cmdline_get_u64("steps", 300);
    if (!cmdline_get("cases", cases, sizeof(cases)))
        memcpy(cases, "all", 4);
    if (!host_timer_start(WATCHDOG_TICK_TSC))        /* the watchdog's clock, while guests spin */
        kprintf("hostile: no host timer: a guest that never exits is not stopped\n");
    kprintf("host timer: every %lu TSC ticks (%u LAPIC counts)\n", host_timer()->period_tsc,
            host_timer()->initial_count);
    integrity_init();
    vmx_enable(&caps, &root);
    const void *image = phys_to_virt(m->start);
    size_t size = m->end - m->start;
    for (const char *c = cases; *c;) {
        size_t len = 0;
        while (c[len] && c[len] != ',')
            len++;
        if (len == 3 && !memcmp(c, "all", 3)) {
            for (int i = 0; i < CASE_RANDOM; i++)
                run_one(&caps, &opt, i, 0, 0, budget, image, size, &t);
        } else if (case_by_name(c, len) == CASE_RANDOM) {
            uint64_t first = 1, last = 4;
            if (cmdline_get("seeds", seeds, sizeof(seeds))) {
                char *dash = strchr(seeds, '-');
                first = decimal(seeds);
                last = dash ? decimal(dash + 1) : first;
            }
            for (uint64_t s = first; s <= last; s++)
                run_one(&caps, &opt, CASE_RANDOM, s, steps, budget, image, size, &t);
        } else if (case_by_name(c, len) >= 0) {
            run_one(&caps, &opt, case_by_name(c, len), 0, 0, budget, image, size, &t);
        } else {
            kprintf("hostile: unknown case \"%.*s\"\n", (int)len, c);
            return STATUS_FAIL;
        }
        c += len + (c[len] == ',');
    }
    vmx_disable(&root);
    host_timer_stop();
    checkpoint("hostile", "vms=%u text_bad=%u canary_bad=%u host_bad=%u leaked_pages=%ld", t.vms,
               t.text_bad, t.canary_bad, t.host_bad, t.leaked);
    return STATUS_OK;
}
