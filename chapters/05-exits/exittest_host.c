/* exittest_host.c: checkpoints from the exittest guest's reports, each combining what the
 * guest saw with what the hypervisor counted since the previous report. */
#include "exittest_host.h"

#include "exit_qual.h"
#include "host_timer.h"
#include "kernel.h"
#include "vmx_controls.h"
#include "vmx_exit.h"

uint64_t run_seed(void)
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

static uint32_t from_seed(uint64_t s)
{
    return ((uint32_t)s ^ SEED_XOR) * SEED_MUL + (uint32_t)(s >> 32);
}

void exittest_log_io(struct exittest *t, const struct io_access *a)
{
    if (t->echo_n < ARRAY_SIZE(t->echo_log))
        t->echo_log[t->echo_n++] = *a;
}

/* The same CR-access handling, plus a note of the real CR0 while the guest cleared NE. */
enum vcpu_action exittest_cr_access(struct vm *vm)
{
    struct exittest *t = vm->user;
    enum vcpu_action a = vm_handle_cr_access(vm);
    if (vm->cr.cr0_writes && !(vm->cr.last_guest_cr0 & CR0_NE))
        t->ne_cleared_real_cr0 = vm->cr.last_real_cr0;
    return a;
}

void exittest_report_controls(struct exittest *t, const struct vcpu_config *c)
{
    const struct vmx_controls *v = &t->vm.vcpu.controls;
    checkpoint("controls", "pin=0x%x proc=0x%x proc2=0x%x exit=0x%x entry=0x%x pin_want=0x%x "
               "proc_want=0x%x exit_want=0x%x timer=%s exception_bitmap=0x%x", v->pin, v->proc,
               v->proc2, v->exit, v->entry,
               c->controls.pin.required | c->controls.pin.optional,
               c->controls.proc.required | c->controls.proc.optional,
               c->controls.exit.required | c->controls.exit.optional,
               vm_timer_backend_name(&t->vm), vmcs_read32(EXCEPTION_BITMAP));
}

#define D(field) (t->vm.field - t->prev.field)
#define EXITS(r) D(exit_count[r])

static void io_pattern(const struct exittest *t, unsigned first, unsigned n, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (unsigned i = first; i < first + n && i < t->echo_n && len + 4 < size; i++)
        len += (size_t)ksnprintf(buf + len, size - len, "%s%c%u", i > first ? "," : "",
                                 t->echo_log[i].in ? 'i' : 'o', t->echo_log[i].size);
}

static uint32_t logged(const struct exittest *t, unsigned i)
{
    return i < t->echo_n ? t->echo_log[i].value : 0xdeadbeef;
}

static void report_io(struct exittest *t, const uint64_t *v)
{
    char pattern[64], spattern[64];
    io_pattern(t, 0, 6, pattern, sizeof(pattern));
    checkpoint("io-sizes", "pattern=%s out1=0x%x out2=0x%x out4=0x%x hin1=0x%x hin2=0x%x hin4=0x%x "
               "gin1=0x%lx gin2=0x%lx gin4=0x%lx", pattern, logged(t, 0), logged(t, 2), logged(t, 4),
               logged(t, 1), logged(t, 3), logged(t, 5), v[0], v[1], v[2]);
    io_pattern(t, 6, 9, spattern, sizeof(spattern));
    uint32_t outs = logged(t, 6) | logged(t, 7) << 8 | logged(t, 8) << 16 | logged(t, 9) << 24;
    checkpoint("io-string", "pattern=%s outs=0x%x str_in=0x%lx ins0=0x%lx ins1=0x%lx ins2=0x%lx "
               "rsi_moved=%lu rdi_moved=%lu rcx_left=%lu string_exits=%lu", spattern, outs, v[3],
               v[4], v[5], v[6], v[7], v[8], v[9], D(io.string));
    checkpoint("io-unknown", "nobody1=0x%lx nobody2=0x%lx nobody4=0x%lx unknown=%lu", v[10], v[11],
               v[12], D(io.unknown));
    checkpoint("io-bitmap", "io_exits=%lu guest_intercepted=%lu passed=%lu post_intercepted=%d "
               "next_intercepted=%d", EXITS(EXIT_REASON_IO_INSTRUCTION), v[13], v[14],
               vm_io_intercepted(&t->vm, POST_PORT), vm_io_intercepted(&t->vm, POST_PORT + 1));
}

static void report_msr(struct exittest *t, const uint64_t *v)
{
    checkpoint("msr-passthrough", "fs_written=0x%lx fs_read=0x%lx vmcs_fs=0x%lx intercepted=%d",
               v[0], v[1], vmcs_readl(GUEST_FS_BASE),
               vm_msr_intercepted(&t->vm, MSR_FS_BASE, false) | vm_msr_intercepted(&t->vm, MSR_FS_BASE, true));
    checkpoint("msr-emulated", "apic_read=0x%lx apic_written=0x%lx apic_reread=0x%lx rd_exits=%lu "
               "wr_exits=%lu guest_rd=%lu guest_wr=%lu efer=0x%lx efer_intercepted=%d", v[2], v[3],
               v[4], EXITS(EXIT_REASON_MSR_READ), EXITS(EXIT_REASON_MSR_WRITE), v[7], v[8], v[9],
               vm_msr_intercepted(&t->vm, MSR_EFER, false));
    checkpoint("msr-gp", "gp_faults=%lu vectors_ok=%lu refused=%lu", v[5], v[6], D(msr.refused));
}

static void report_cpuid(struct exittest *t, const uint64_t *v)
{
    char sig[13];
    for (int i = 0; i < 12; i++) {
        char c = (char)(v[2 + i / 4] >> (8 * (i % 4)));
        sig[i] = c > ' ' && c < 127 ? c : '?';
    }
    sig[12] = '\0';
    checkpoint("cpuid", "ecx=0x%lx host_ecx=0x%x sig=%s max_leaf=0x%lx abi=%lu beyond=0x%lx "
               "exits=%lu guest_cpuids=%lu", v[0], cpuid(1, 0).ecx, sig, v[1], v[5], v[6],
               EXITS(EXIT_REASON_CPUID), v[7]);
}

static void report_events(struct exittest *t, int test, const uint64_t *v)
{
    switch (test) {
    case T_EVENTS:
        checkpoint("event-injection", "vector=%lu before=%lu after=%lu injected=%lu deferred=%lu "
                   "window_exits=%lu periodic_vector=%lu periodic=%lu", v[0], v[1], v[2],
                   D(ev.irqs_injected), D(ev.deferred), D(ev.window_exits), v[3], v[4]);
        break;
    case T_IDT_VECTORING:
        checkpoint("idt-vectoring", "vector=%lu count=%lu on_ist=%lu pf_vectoring=0x%x "
                   "lazy_faults=%lu reinjected=%lu pf_exits=%lu", v[0], v[1], v[2], t->pf_vectoring,
                   t->lazy_faults, D(ev.reinjected), D(ev.exceptions[14]));
        break;
    case T_HLT:
        checkpoint("hlt", "vector=%lu count=%lu delay=%lu elapsed=%lu hlt_exits=%lu", v[0], v[1],
                   v[2], v[3], EXITS(EXIT_REASON_HLT));
        break;
    default:
        checkpoint("external-interrupt", "spun=%lu host_exits=%lu timer_ticks=%lu period=%lu "
                   "vector=0x%x", v[0], EXITS(EXIT_REASON_EXTERNAL_INTERRUPT), D(timer.host_exits),
                   host_timer()->period_tsc, HOST_TIMER_VECTOR);
    }
}

static void report_bench(const uint64_t *v)
{
    uint64_t n = v[0] ? v[0] : 1;
    kprintf("exit round trips, TSC ticks per iteration (loop overhead %lu subtracted): CPUID %lu, "
            "VMCALL %lu, IN from a port %lu\n", v[4] / n, (v[1] - v[4]) / n, (v[2] - v[4]) / n,
            (v[3] - v[4]) / n);
    checkpoint("bench", "iterations=%lu cpuid=%lu vmcall=%lu io=%lu loop=%lu", n, (v[1] - v[4]) / n,
               (v[2] - v[4]) / n, (v[3] - v[4]) / n, v[4] / n);
}

void exittest_report(struct exittest *t, int test, const uint64_t *v, unsigned n)
{
    static const unsigned want[T_COUNT] = {
        [T_VMCALL] = 4, [T_CPUID] = 8, [T_MSR] = 10, [T_IO] = 15, [T_CR] = 6, [T_EXCEPTIONS] = 4,
        [T_EVENTS] = 5, [T_IDT_VECTORING] = 3, [T_HLT] = 4, [T_EXTINT] = 1, [T_BENCH] = 5,
    };
    if (test <= 0 || test >= T_COUNT || n != want[test]) {
        kprintf("exittest: a report with test id %d and %u values: not in the protocol\n", test, n);
        return;
    }
    t->reports++;
    switch (test) {
    case T_VMCALL:
        checkpoint("vmcall", "seed=0x%lx result=0x%lx enosys=0x%lx exits=%lu guest_vmcalls=%lu "
                   "verified=%d", v[0], v[1], v[2], EXITS(EXIT_REASON_VMCALL), v[3],
                   v[0] == t->seed && v[1] == from_seed(t->seed));
        break;
    case T_CPUID:
        report_cpuid(t, v);
        break;
    case T_MSR:
        report_msr(t, v);
        break;
    case T_IO:
        report_io(t, v);
        break;
    case T_CR:
        checkpoint("cr-shadow", "gcr0=0x%lx gcr4=0x%lx vmcs_cr4=0x%lx vmxe_fault=%ld gcr0_no_ne=0x%lx "
                   "real_cr0=0x%lx cr_exits=%lu guest_cr_writes=%lu cr3_moves=%lu cr3_exiting=%d",
                   v[0], v[1], vmcs_readl(GUEST_CR4), (long)v[2], v[3], t->ne_cleared_real_cr0,
                   EXITS(EXIT_REASON_CR_ACCESS), v[4], v[5],
                   (t->vm.vcpu.controls.proc & (CPU_BASED_CR3_LOAD_EXITING | CPU_BASED_CR3_STORE_EXITING)) != 0);
        break;
    case T_EXCEPTIONS:
        checkpoint("exceptions", "bp=%lu ud=%lu bp_exits=%lu ud_exits=%lu bp_type=%u ud_type=%u "
                   "bp_len=%u bp_rip_ok=%lu ud_rip_ok=%lu", v[0], v[1], D(ev.exceptions[3]),
                   D(ev.exceptions[6]), t->exc_type[1], t->exc_type[0], t->exc_len[1], v[2], v[3]);
        break;
    case T_BENCH:
        report_bench(v);
        break;
    default:
        report_events(t, test, v);
    }
    t->prev = t->vm;
}

static void report_stop(struct exittest *t, const char *id, enum vm_stop_kind stop)
{
    uint8_t bytes[4] = {0};
    struct guest_walk w;
    vm_access_guest(&t->vm, vm_guest_rip_linear(&t->vm), bytes, sizeof(bytes), PFERR_FETCH, &w);
    checkpoint(id, "reason=%u stop=%d rip=0x%lx bytes=0x%02x%02x%02x%02x rax=0x%lx rbx=0x%lx "
               "idtr_limit=%u exits=%lu", t->vm.vcpu.exit.basic, stop, t->vm.vcpu.exit.guest_rip,
               bytes[0], bytes[1], bytes[2], bytes[3], t->vm.vcpu.regs.rax, t->vm.vcpu.regs.rbx,
               vmcs_read32(GUEST_IDTR_LIMIT), t->vm.exits);
}

bool exittest_finish(struct exittest *t, enum vm_stop_kind stop)
{
    struct vm *vm = &t->vm;
    switch (t->mode) {
    case MODE_TESTS:
        for (int i = 0; i < 2; i++)      /* the same facts, judged by two checkpoints */
            checkpoint(i ? "preemption-timer" : "timer", "backend=%s preemption_exits=%lu fired=%lu "
                       "max_late=%lu", vm_timer_backend_name(vm), vm->timer.preemption_exits,
                       vm->timer.fired, vm->timer.max_late);
        checkpoint("exit-counters", "total=%lu sum=%lu exception=%lu extint=%lu intwin=%lu cpuid=%lu "
                   "hlt=%lu vmcall=%lu cr=%lu io=%lu rdmsr=%lu wrmsr=%lu preempt=%lu", vm->exits,
                   ({ uint64_t s = 0; for (unsigned r = 0; r < VM_EXIT_REASONS; r++) s += vm->exit_count[r]; s; }),
                   vm->exit_count[EXIT_REASON_EXCEPTION_NMI], vm->exit_count[EXIT_REASON_EXTERNAL_INTERRUPT],
                   vm->exit_count[EXIT_REASON_INTERRUPT_WINDOW], vm->exit_count[EXIT_REASON_CPUID],
                   vm->exit_count[EXIT_REASON_HLT], vm->exit_count[EXIT_REASON_VMCALL],
                   vm->exit_count[EXIT_REASON_CR_ACCESS], vm->exit_count[EXIT_REASON_IO_INSTRUCTION],
                   vm->exit_count[EXIT_REASON_MSR_READ], vm->exit_count[EXIT_REASON_MSR_WRITE],
                   vm->exit_count[EXIT_REASON_PREEMPTION_TIMER]);
        checkpoint("guest-done", "stop=%d status=%lu reports=%u", stop, vm->stop_status, t->reports);
        return stop == VM_STOP_GUEST && vm->stop_status == 0 && t->reports == 10;
    case MODE_UNHANDLED:
        report_stop(t, "unhandled-exit", stop);
        return stop == VM_STOP_UNHANDLED;
    case MODE_TRIPLE_FAULT:
        report_stop(t, "triple-fault", stop);
        return stop == VM_STOP_TRIPLE_FAULT;
    default:
        return stop == VM_STOP_GUEST && t->reports == 1;
    }
}
