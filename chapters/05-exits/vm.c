/* vm.c: the exit dispatcher: one handler per basic exit reason, counted, with the steps every
 * exit and entry needs around it (IDT-vectoring, timer, event injection, gdb stub). */
#include "vm.h"

#include "exercise.h"
#include "exit_qual.h"
#include "gdbstub.h"
#include "kernel.h"
#include "mm.h"
#include "vmx_controls.h"
#include "vmcs_fast.h"
#include "vmx_exit.h"
#include "vmxtrace.h"

void vm_default_config(struct vcpu_config *c)
{
    vcpu_default_config(c);
    /* Interrupts for the host exit the guest and are acknowledged by the exit, so the
     * host learns the vector from VM_EXIT_INTR_INFO (24.6.1, 24.7.1, 27.2.2). */
    c->controls.pin.required |= PIN_BASED_EXT_INTR_MASK;
    c->controls.exit.required |= VM_EXIT_ACK_INTR_ON_EXIT;
    /* Time for the guest even while it spins, where the CPU has the timer (25.5.1). */
    c->controls.pin.optional |= PIN_BASED_VMX_PREEMPTION_TIMER;
    /* Every port and MSR exits unless its bit is cleared (24.6.4, 24.6.9). */
    c->controls.proc.required |= CPU_BASED_USE_IO_BITMAPS | CPU_BASED_USE_MSR_BITMAPS;
    /* MOV to and from CR8 exit: without these (and without a TPR shadow) they reach the
     * CPU's own local APIC, whose task priority then stays the guest's (25.3, 24.6.2). */
    c->controls.proc.required |= CPU_BASED_CR8_LOAD_EXITING | CPU_BASED_CR8_STORE_EXITING;
}

static enum vcpu_action exit_triple_fault(struct vm *vm)
{
    return vm_stop(vm, VM_STOP_TRIPLE_FAULT, "triple fault: the guest could not deliver a "
                   "double fault and its CPU would have shut down");
}

/* VMX instructions in the guest: it was told there is no VMX (CPUID.1:ECX[5] = 0), so it
 * gets what a CPU without VMX gives, #UD (SDM Vol. 3C, 30.3: CR4.VMXE = 0). */
static enum vcpu_action exit_vmx_instruction(struct vm *vm)
{
    vm_inject_ud(vm);
    return VCPU_RESUME;
}

static const struct {
    uint32_t reason;
    vm_exit_handler fn;
} default_handlers[] = {
    {EXIT_REASON_EXCEPTION_NMI, vm_handle_exception},
    {EXIT_REASON_EXTERNAL_INTERRUPT, vm_handle_external_interrupt},
    {EXIT_REASON_TRIPLE_FAULT, exit_triple_fault},
    {EXIT_REASON_INTERRUPT_WINDOW, vm_handle_interrupt_window},
    {EXIT_REASON_CPUID, vm_handle_cpuid},
    {EXIT_REASON_HLT, vm_handle_hlt},
    {EXIT_REASON_VMCALL, vm_handle_vmcall},
    {EXIT_REASON_VMCLEAR, exit_vmx_instruction},
    {EXIT_REASON_VMLAUNCH, exit_vmx_instruction},
    {EXIT_REASON_VMPTRLD, exit_vmx_instruction},
    {EXIT_REASON_VMPTRST, exit_vmx_instruction},
    {EXIT_REASON_VMREAD, exit_vmx_instruction},
    {EXIT_REASON_VMRESUME, exit_vmx_instruction},
    {EXIT_REASON_VMWRITE, exit_vmx_instruction},
    {EXIT_REASON_VMOFF, exit_vmx_instruction},
    {EXIT_REASON_VMON, exit_vmx_instruction},
    {EXIT_REASON_INVEPT, exit_vmx_instruction},
    {EXIT_REASON_INVVPID, exit_vmx_instruction},
    {EXIT_REASON_CR_ACCESS, vm_handle_cr_access},
    {EXIT_REASON_IO_INSTRUCTION, vm_handle_io},
    {EXIT_REASON_MSR_READ, vm_handle_rdmsr},
    {EXIT_REASON_MSR_WRITE, vm_handle_wrmsr},
    {EXIT_REASON_PREEMPTION_TIMER, vm_handle_preemption_timer},
};

int vm_create(struct vm *vm, const struct vmx_caps *caps, const struct vcpu_config *config)
{
    *vm = (struct vm){0};
    if (vcpu_create(&vm->vcpu, caps, config))
        return -1;
    for (unsigned r = 0; r < VM_EXIT_REASONS; r++)
        vm->handlers[r] = vm_exit_unhandled;
    for (unsigned i = 0; i < ARRAY_SIZE(default_handlers); i++)
        vm->handlers[default_handlers[i].reason] = default_handlers[i].fn;
    vm_mem_init(vm);
    vm_io_init(vm);
    vm_msr_init(vm);
    vm_events_init(vm);
    vm_timer_init(vm);
    return 0;
}

void vm_destroy(struct vm *vm)
{
    vcpu_destroy(&vm->vcpu);             /* VMCLEAR: the region is no longer the CPU's */
    page_free(vm->vcpu.vmcs.region, 1);  /* one page from vmx_region_alloc() (chapter 02) */
    vm_io_destroy(vm);
    vm_msr_destroy(vm);
}

void vm_set_exit_handler(struct vm *vm, uint32_t reason, vm_exit_handler handler)
{
    assert(reason < VM_EXIT_REASONS);
    vm->handlers[reason] = handler ? handler : vm_exit_unhandled;
}

const char *vm_stop_kind_name(enum vm_stop_kind kind)
{
    static const char *const names[] = {"running", "stopped by the guest", "unhandled exit",
                                        "triple fault", "refused", "VM entry failed"};
    return kind < ARRAY_SIZE(names) ? names[kind] : "?";
}

enum vcpu_action vm_stop(struct vm *vm, enum vm_stop_kind kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(vm->stop_why, sizeof(vm->stop_why), fmt, ap);
    va_end(ap);
    vm->stop = kind;
    if (kind == VM_STOP_UNHANDLED || kind == VM_STOP_TRIPLE_FAULT || kind == VM_STOP_REFUSED)
        vm_report(vm);
    return VCPU_STOP;
}

enum vcpu_action vm_exit_unhandled(struct vm *vm)
{
    uint32_t r = vm->vcpu.exit.basic;
    return vm_stop(vm, VM_STOP_UNHANDLED, "no handler for exit reason %u (%s)", r,
                   vmx_exit_reason_name(r));
}

/*
 * An instruction that exits has not completed (SDM Vol. 3C, 27.1): its handler does the
 * work and moves RIP past it (VM_EXIT_INSTRUCTION_LEN, 27.2.4). It also ends blocking by
 * STI or MOV SS, which covered exactly this instruction (24.4.2): left set, an interrupt
 * would wait one more instruction, and after "STI; HLT" the woken guest would not take it.
 */
void vm_skip_instruction(struct vm *vm)
{
    struct vmx_exit_info *x = &vm->vcpu.exit;
    x->guest_rip += x->instruction_len;
    vmcs_fast_writel(GUEST_RIP, x->guest_rip);
    uint32_t intr = vmcs_fast_read32(GUEST_INTERRUPTIBILITY_INFO);
    if (intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS))
        vmcs_fast_write32(GUEST_INTERRUPTIBILITY_INFO,
                          intr & ~(GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS));
}

void vmcs_fast_failed(const char *insn, uint32_t field)
{
    const char *name = vmcs_field_name(field);
    uint32_t error = vmx_instruction_error();
    panic("%s %s (0x%x) failed on the exit path: %s", insn, name ? name : "?", field,
          error ? vmx_error_name(error) : "VMfailInvalid (no current VMCS)");
}

uint64_t vm_gpr_read(struct vm *vm, unsigned n)
{
    return n == 4 ? vmcs_readl(GUEST_RSP) : vm->vcpu.regs.gpr[n & 15];
}

void vm_gpr_write(struct vm *vm, unsigned n, uint64_t value)
{
    if (n == 4)
        vmcs_writel(GUEST_RSP, value);
    else
        vm->vcpu.regs.gpr[n & 15] = value;
}

unsigned vm_guest_cpl(struct vm *vm)
{
    (void)vm;
    return (vmcs_fast_read32(GUEST_SS_AR_BYTES) >> 5) & 3;
}

bool vm_proc_control_allowed(const struct vm *vm, uint32_t bit)
{
    return (CTL_MAY_BE_1(vm->vcpu.caps->proc_ctls) & bit) == bit;
}

void vm_set_proc_control(struct vm *vm, uint32_t bit, bool on)
{
    uint32_t v = on ? vm->vcpu.controls.proc | bit : vm->vcpu.controls.proc & ~bit;
    if (v != vm->vcpu.controls.proc) {
        vm->vcpu.controls.proc = v;
        vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, v);
    }
}

/* Exits that can happen while an event is being delivered through the guest's IDT, so
 * IDT_VECTORING_INFO may be valid (SDM Vol. 3C, 27.2.3): read it only after these. */
#define VECTORING_EXITS (BIT(EXIT_REASON_EXCEPTION_NMI) | BIT(EXIT_REASON_TRIPLE_FAULT) |     \
                         BIT(EXIT_REASON_TASK_SWITCH) | BIT(EXIT_REASON_APIC_ACCESS) |        \
                         BIT(EXIT_REASON_EPT_VIOLATION) | BIT(EXIT_REASON_EPT_MISCONFIG) |    \
                         BIT(EXIT_REASON_PML_FULL))

/* Before every VM entry: deadlines, a halted vCPU's sleep, the event to inject. */
static enum vcpu_action prepare_entry(struct vm *vm)
{
    if (vm_events_idle(&vm->ev) && !vm->timer.deadline && !vm->timer.pin_on && !vm->timer.slice) {
        gdbstub_guest_enter();           /* the common case, kept short */
        return VCPU_RESUME;
    }
    if (vm->timer.deadline)
        vm_timer_poll(vm);
    vm_events_before_entry(vm);
    while (vm->ev.halted) {
        if (!vm_timer_wait(vm))
            return vm_stop(vm, VM_STOP_REFUSED, vm->timer.deadline ?
                           "the guest stayed halted past the host's wait limit (its timer "
                           "fires, but no interrupt wakes it)" :
                           "the guest halted with interrupts enabled, "
                           "but nothing will ever raise one (no timer armed)");
        vm_events_before_entry(vm);
    }
    vm_timer_before_entry(vm);
    gdbstub_guest_enter();
    return VCPU_RESUME;
}

/* After every VM exit: count it, run its handler, prepare the next entry. */
static inline __attribute__((always_inline)) enum vcpu_action vm_dispatch(struct vm *vm)
{
    uint32_t reason = vm->vcpu.exit.basic;
    vm->exits++;
    if (reason >= VM_EXIT_REASONS)
        return vm_stop(vm, VM_STOP_UNHANDLED, "exit reason %u is not in the SDM revision "
                       "this code follows", reason);
    vm->exit_count[reason]++;
    if (VECTORING_EXITS & BIT(reason))
        vm_events_after_exit(vm);
    if (vm->handlers[reason](vm) == VCPU_STOP || vm->stop != VM_RUNNING) {
        if (vm->stop == VM_RUNNING)
            vm->stop = VM_STOP_GUEST;
        return VCPU_STOP;
    }
    return prepare_entry(vm);
}

static enum vm_stop_kind entry_failed(struct vm *vm, bool vmfail)
{
    if (vmfail)
        vcpu_report_vmfail(&vm->vcpu);
    else
        vcpu_report_entry_failure(&vm->vcpu);
    vm->stop = VM_STOP_ENTRY_FAILED;
    ksnprintf(vm->stop_why, sizeof(vm->stop_why), "VM entry failed (report above)");
    return vm->stop;
}

/*
 * The run loop. Chapter 04's vcpu_run() does the same with chapter 03's checked accessors;
 * here the four fields every exit needs are read with one VMREAD each (vmcs_fast.h), which
 * is most of what makes an exit cheap (docs/05-exits.md has the figures).
 */
static inline __attribute__((always_inline)) enum vm_stop_kind run(struct vm *vm, const bool trace)
{
    struct vcpu *v = &vm->vcpu;
    vm->stop = VM_RUNNING;
    vm->stop_why[0] = '\0';
    vcpu_load(v);
    if (!vm->cr.ready)
        vm_cr_init(vm);
    if (!v->launched && v->check_before_launch) {
        vcpu_check_entry(v, &v->predicted);       /* chapter 04's software checker */
        if (v->predicted.outcome != ENTRY_OK)
            kprintf("software check before VMLAUNCH: %s (SDM Vol. 3C, %s)\n", v->predicted.why,
                    v->predicted.section);
    }
    if (prepare_entry(vm) == VCPU_STOP)
        return vm->stop;
    for (;;) {
        if (trace)
            vmx_trace("%s", v->launched ? "VMRESUME" : "VMLAUNCH");
        v->entry_status = vmx_vcpu_enter(v, v->launched);
        gdbstub_guest_exit();
        if (v->entry_status != VMX_SUCCEED) {
            v->entry_error = vmcs_instruction_error(v->entry_status);
            if (trace)
                vmx_trace("%s rc=%d error=%u", v->launched ? "VMRESUME" : "VMLAUNCH",
                          v->entry_status, v->entry_error);
            return entry_failed(vm, true);
        }
        v->exit.reason = vmcs_fast_read32(VM_EXIT_REASON);
        v->exit.basic = VMX_EXIT_REASON_BASIC(v->exit.reason);
        v->exit.qualification = vmcs_fast_readl(EXIT_QUALIFICATION);
        v->exit.instruction_len = vmcs_fast_read32(VM_EXIT_INSTRUCTION_LEN);
        v->exit.guest_rip = vmcs_fast_readl(GUEST_RIP);
        if (trace)
            vmx_trace("EXIT reason=0x%x qual=0x%lx rip=0x%lx", v->exit.reason,
                      v->exit.qualification, v->exit.guest_rip);
        if (v->exit.reason & VMX_EXIT_REASONS_FAILED_VMENTRY)
            return entry_failed(vm, false);       /* the VMCS stays "clear" (26.7) */
        v->launched = true;
        v->exits++;
        if (vm_dispatch(vm) == VCPU_STOP)
            return vm->stop;
    }
}

/* With vmxtrace= the loop also prints the lines of tools/vmx_trace.py's timeline, as chapter
 * 04's does (vmxtrace.h); the compiler makes two copies of it, so without, exits cost nothing more. */
enum vm_stop_kind vm_run(struct vm *vm)
{
    return vmx_trace_enabled() ? run(vm, true) : run(vm, false);
}
