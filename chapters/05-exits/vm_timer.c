/* vm_timer.c: one deadline per vCPU: the VMX-preemption timer (SDM Vol. 3C, 25.5.1) counts it
 * down while the guest runs; without one, every exit checks it and the host tick forces exits. */
#include "exercise.h"
#include "host_timer.h"
#include "kernel.h"
#include "vm.h"
#include "vmx_controls.h"

static void set_pin_timer(struct vm *vm, bool on)
{
    uint32_t pin = vm->vcpu.controls.pin;
    pin = on ? pin | PIN_BASED_VMX_PREEMPTION_TIMER : pin & ~PIN_BASED_VMX_PREEMPTION_TIMER;
    vm->vcpu.controls.pin = pin;
    vmcs_write32(PIN_BASED_VM_EXEC_CONTROL, pin);
    vm->timer.pin_on = on;
}

/* vm_default_config() asked for the preemption timer as optional: if the CPU gave it, it
 * is our backend. It stays off until a deadline is armed (a value of 0 exits at once). */
void vm_timer_init(struct vm *vm)
{
    bool have = vm->vcpu.controls.pin & PIN_BASED_VMX_PREEMPTION_TIMER;
    vm->timer.backend = have ? VM_TIMER_PREEMPTION : VM_TIMER_HOST_TICK;
    vm->timer.rate = VMX_MISC_PREEMPTION_TIMER_RATE(vm->vcpu.caps->misc);
    if (have)
        set_pin_timer(vm, false);
}

const char *vm_timer_backend_name(const struct vm *vm)
{
    return vm->timer.backend == VM_TIMER_PREEMPTION ? "preemption-timer" : "host-tick";
}

void vm_timer_arm(struct vm *vm, uint64_t deadline, vm_timer_fn fn, void *ctx)
{
    vm->timer.deadline = deadline ? deadline : 1;
    vm->timer.fn = fn;
    vm->timer.ctx = ctx;
}

void vm_timer_cancel(struct vm *vm)
{
    vm->timer.deadline = 0;
}

/*
 * At most one deadline per call: the callback may arm the next one already in the past (a
 * guest's periodic timer faster than this code runs), and a loop here would then never end.
 * A deadline still due makes the next entry exit at once (preemption timer 0), so every
 * expiry still fires, one per exit, and the host gets its exit handlers in between.
 */
void vm_timer_poll(struct vm *vm)
{
    uint64_t now;
    if (vm->timer.deadline && (now = rdtsc()) >= vm->timer.deadline) {
        vm->timer.last_late = now - vm->timer.deadline;
        if (vm->timer.last_late > vm->timer.max_late)
            vm->timer.max_late = vm->timer.last_late;
        vm->timer.fired++;
        vm->timer.deadline = 0;
        vm->timer.fn(vm, vm->timer.ctx);          /* may arm the next deadline */
    }
}

/*
 * The preemption timer counts down from VMX_PREEMPTION_TIMER_VALUE by one every 2^rate
 * TSC ticks (IA32_VMX_MISC[4:0], A.6) while the guest runs, and exits (reason 52) at 0.
 * VM entry loads the value we write: the remaining time, rounded up, at each entry.
 */
static void program_slice(struct vm *vm)
{
    struct vm_timer *t = &vm->timer;
    uint64_t ticks = (t->slice + (1ull << t->rate) - 1) >> t->rate;
    vmcs_write32(VMX_PREEMPTION_TIMER_VALUE, ticks > 0xffffffffu ? 0xffffffffu : (uint32_t)ticks);
    if (!t->pin_on)
        set_pin_timer(vm, true);
}

void vm_timer_before_entry(struct vm *vm)
{
    struct vm_timer *t = &vm->timer;
    if (t->backend != VM_TIMER_PREEMPTION)
        return;
    if (!t->deadline) {
        if (t->slice)
            program_slice(vm);           /* no deadline, but a time slice */
        else if (t->pin_on)
            set_pin_timer(vm, false);
        return;
    }
    // BEGIN EXERCISE 05-9: program the VMX-preemption timer for the next deadline
    // Instruction: Write VMX_PREEMPTION_TIMER_VALUE with the TSC ticks left until t->deadline
    //   converted to timer ticks (divide by 2^t->rate, rounding up; 0 if the deadline has
    //   passed; at most 0xffffffff), then make sure the pin-based control is on (set_pin_timer()).
    // Hint: SDM Vol. 3C, 25.5.1 and Vol. 3D, A.6; rdtsc().
    uint64_t now = rdtsc(), left = t->deadline > now ? t->deadline - now : 0;
    uint64_t ticks = (left + (1ull << t->rate) - 1) >> t->rate;
    vmcs_write32(VMX_PREEMPTION_TIMER_VALUE, ticks > 0xffffffffu ? 0xffffffffu : (uint32_t)ticks);
    if (!t->pin_on)
        set_pin_timer(vm, true);
    // END EXERCISE 05-9
    if (t->slice && t->deadline > rdtsc() + t->slice)
        program_slice(vm);               /* the time slice ends first */
}

/* A halted vCPU: the host sleeps until the deadline's callback raises an interrupt, in
 * HLT while a whole host tick fits before the deadline, then polling the TSC. */
bool vm_timer_wait(struct vm *vm)
{
    while (vm->ev.halted) {
        uint64_t now = rdtsc();
        if (!vm->timer.deadline)
            return false;
        if (vm->timer.wait_limit && now >= vm->timer.wait_limit)
            return false;                /* a deadline is armed, but the host stops waiting */
        if (now >= vm->timer.deadline)
            vm_timer_poll(vm);
        else if (host_timer()->running && vm->timer.deadline - now > host_timer()->period_tsc)
            host_idle();
        else
            cpu_relax();
    }
    return true;
}

enum vcpu_action vm_handle_preemption_timer(struct vm *vm)
{
    vm->timer.preemption_exits++;        /* the dispatcher's vm_timer_poll() fires it */
    return VCPU_RESUME;
}

/*
 * An interrupt for the host arrived while the guest ran (pin-based "external-interrupt
 * exiting"); "acknowledge interrupt on exit" took it from the local APIC, so its vector is
 * in VM_EXIT_INTR_INFO (27.2.2) and only an EOI is left to do. The guest never sees it.
 */
enum vcpu_action vm_handle_external_interrupt(struct vm *vm)
{
    uint32_t info = vmcs_read32(VM_EXIT_INTR_INFO);
    vm->timer.host_exits++;
    if (!host_timer_interrupt((uint8_t)info) && !vm->quiet)
        kprintf("host interrupt vector %u during the guest: not the host timer's\n", info & 0xff);
    return VCPU_RESUME;
}
