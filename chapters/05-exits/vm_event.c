/* vm_event.c: event injection (SDM Vol. 3C, 26.5): virtual interrupts when RFLAGS.IF and the
 * interruptibility state allow, else interrupt-window exiting; exceptions; IDT-vectoring. */
#include "exercise.h"
#include "exit_qual.h"
#include "kernel.h"
#include "vm.h"
#include "vmx_controls.h"

void vm_events_init(struct vm *vm)
{
    vm->ev.reinject_irq = -1;
}

/* The default interrupt source: a set of pending vectors, the highest first, like an IRR. */
static int irr_highest(const struct vm *vm)
{
    for (int w = 3; w >= 0; w--)
        if (vm->ev.irr[w])
            return w * 64 + 63 - __builtin_clzll(vm->ev.irr[w]);
    return -1;
}

static int source_pending(struct vm *vm)
{
    return vm->ev.ops ? vm->ev.ops->pending(vm, vm->ev.ops_ctx) : irr_highest(vm);
}

static void source_accept(struct vm *vm, int vector)
{
    if (vm->ev.ops)
        vm->ev.ops->accept(vm, vm->ev.ops_ctx, vector);
    else
        vm->ev.irr[vector / 64] &= ~(1ull << (vector % 64));
}

void vm_irq_set_ops(struct vm *vm, const struct vm_irq_ops *ops, void *ctx)
{
    vm->ev.ops = ops;
    vm->ev.ops_ctx = ctx;
}

void vm_irq_raise(struct vm *vm, uint8_t vector)
{
    vm->ev.irr[vector / 64] |= 1ull << (vector % 64);
    vm->ev.halted = false;               /* HLT ends with the next interrupt */
}

bool vm_irq_pending(struct vm *vm)
{
    return vm->ev.reinject_irq >= 0 || source_pending(vm) >= 0;
}

static void set_slot(struct vm *vm, uint32_t info, uint32_t error_code, uint32_t len)
{
    vm->ev.inject_info = info;
    vm->ev.inject_error = error_code;
    vm->ev.inject_len = len;
}

void vm_inject_exception(struct vm *vm, uint8_t vector, bool has_error_code, uint32_t error_code)
{
    uint32_t info = INTR_INFO_VALID_MASK | INTR_TYPE_HARD_EXCEPTION | vector |
                    (has_error_code ? INTR_INFO_DELIVER_CODE_MASK : 0);
    uint32_t prev = vm->ev.inject_info;
    if ((prev & INTR_INFO_VALID_MASK) && (prev & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_HARD_EXCEPTION) {
        switch (exception_combine((uint8_t)prev, vector)) {
        case EXCEPTION_TRIPLE_FAULT:
            vm_stop(vm, VM_STOP_TRIPLE_FAULT, "exception %u while delivering a double fault",
                    vector);
            return;
        case EXCEPTION_DOUBLE_FAULT:
            info = INTR_INFO_VALID_MASK | INTR_TYPE_HARD_EXCEPTION | INTR_INFO_DELIVER_CODE_MASK | 8;
            error_code = 0;
            break;
        case EXCEPTION_SERIAL:
            break;
        }
    }
    set_slot(vm, info, error_code, 0);
    vm->ev.exceptions_injected++;
}

void vm_inject_gp(struct vm *vm)
{
    vm_inject_exception(vm, 13, true, 0);
}

void vm_inject_ud(struct vm *vm)
{
    vm_inject_exception(vm, 6, false, 0);
}

/* #PF also needs CR2, which is not in the VMCS: the host loads it right before entry. */
void vm_inject_pf(struct vm *vm, uint64_t address, uint32_t error_code)
{
    vm_inject_exception(vm, 14, true, error_code);
    vm->ev.cr2 = address;
    vm->ev.cr2_pending = true;
}

void vm_reflect_exception(struct vm *vm, const struct vm_exception *e)
{
    /* INT3 and INTO: a software exception, delivered after the instruction (26.5.1.1). */
    if (e->type == 6 || e->type == 5) {
        set_slot(vm, INTR_INFO_VALID_MASK | (uint32_t)e->type << 8 | e->vector, 0, e->instruction_len);
        vm->ev.exceptions_injected++;
    } else if (e->vector == 14) {
        vm_inject_pf(vm, e->qualification, e->error_code);
    } else {
        vm_inject_exception(vm, e->vector, e->has_error_code, e->error_code);
    }
}

void vm_intercept_exception(struct vm *vm, uint8_t vector, vm_exception_fn fn)
{
    assert(vector < 32);
    vmcs_set_bits32(EXCEPTION_BITMAP, 1u << vector);
    vm->ev.on_exception[vector] = fn;
}

/*
 * After an exit that can happen during event delivery: if IDT_VECTORING_INFO is valid,
 * the guest never received that event, and nothing else will deliver it (27.2.3). An
 * external interrupt goes back to waiting for an open window; an exception or software
 * interrupt is injected again as it was, with its error code and instruction length.
 */
void vm_events_after_exit(struct vm *vm)
{
    uint32_t info = vmcs_read32(IDT_VECTORING_INFO_FIELD);
    vm->ev.last_vectoring = info;
    if (!(info & INTR_INFO_VALID_MASK))
        return;
    vm->ev.reinjected++;
    // BEGIN EXERCISE 05-7: re-inject an event whose delivery a VM exit interrupted
    // Instruction: For an external interrupt (type INTR_TYPE_EXT_INTR) store its vector in
    //   vm->ev.reinject_irq: it waits for the guest's next interrupt window like any other.
    //   Otherwise fill the injection slot (set_slot()) with the information bits VM entry
    //   accepts (INTR_INFO_ENTRY_MASK), the error code (IDT_VECTORING_ERROR_CODE) if bit 11 is
    //   set, and VM_EXIT_INSTRUCTION_LEN for the software types (intr_type_has_length()).
    // Hint: SDM Vol. 3C, 24.9.3 (Table 24-16), 27.2.3 and 26.5.1.
    unsigned type = (info & INTR_INFO_INTR_TYPE_MASK) >> 8;
    vm->ev.last_vectoring_error = 0;
    if ((info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_EXT_INTR) {
        vm->ev.reinject_irq = (int)(info & INTR_INFO_VECTOR_MASK);
        return;
    }
    if (info & INTR_INFO_DELIVER_CODE_MASK)
        vm->ev.last_vectoring_error = vmcs_read32(IDT_VECTORING_ERROR_CODE);
    set_slot(vm, info & INTR_INFO_ENTRY_MASK, vm->ev.last_vectoring_error,
             intr_type_has_length(type) ? vmcs_read32(VM_EXIT_INSTRUCTION_LEN) : 0);
    // END EXERCISE 05-7
}

/* Can an external interrupt be delivered now? RFLAGS.IF = 1, no blocking by STI or MOV SS
 * (24.4.2), and not halted in the VMCS (we never enter in the HLT state). */
static bool interrupt_window_open(void)
{
    // BEGIN EXERCISE 05-8: may an interrupt be injected now?
    // Instruction: Return true only if the guest's RFLAGS.IF is 1 and its interruptibility
    //   state has neither blocking by STI nor blocking by MOV SS. Injecting otherwise makes
    //   VM entry fail (exit reason 33) or deliver an interrupt the guest has masked.
    // Hint: SDM Vol. 3C, 24.4.2 (Table 24-3), 26.3.1.5; GUEST_RFLAGS, GUEST_INTERRUPTIBILITY_INFO.
    if (!(vmcs_readl(GUEST_RFLAGS) & RFLAGS_IF))
        return false;
    return !(vmcs_read32(GUEST_INTERRUPTIBILITY_INFO) & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS));
    // END EXERCISE 05-8
}

static void set_window(struct vm *vm, bool on)
{
    if (vm->ev.window != on) {
        vm->ev.window = on;
        vm_set_proc_control(vm, CPU_BASED_INTR_WINDOW_EXITING, on);
    }
}

static void write_injection(struct vm *vm, uint32_t info, uint32_t error_code, uint32_t len)
{
    vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, info);
    if (info & INTR_INFO_DELIVER_CODE_MASK)
        vmcs_write32(VM_ENTRY_EXCEPTION_ERROR_CODE, error_code);
    if (len)
        vmcs_write32(VM_ENTRY_INSTRUCTION_LEN, len);
    vm->ev.last_injected = info;
}

/*
 * Right before VM entry: at most one event can be injected (26.5.1). An exception or a
 * re-injected event goes first; an interrupt then waits for an interrupt-window exit.
 * VM entry clears nothing here by itself: every VM exit clears the valid bit of
 * VM_ENTRY_INTR_INFO_FIELD (24.8.3), so an event is injected exactly once.
 */
void vm_events_before_entry(struct vm *vm)
{
    struct vm_events *ev = &vm->ev;
    if (ev->inject_info & INTR_INFO_VALID_MASK) {
        write_injection(vm, ev->inject_info, ev->inject_error, ev->inject_len);
        if (ev->cr2_pending)
            write_cr2(ev->cr2);
        ev->cr2_pending = false;
        set_slot(vm, 0, 0, 0);
        set_window(vm, vm_irq_pending(vm));
        return;
    }
    int vector = ev->reinject_irq >= 0 ? ev->reinject_irq : source_pending(vm);
    if (vector < 0) {
        set_window(vm, false);
        return;
    }
    if (!interrupt_window_open()) {
        ev->deferred++;
        set_window(vm, true);
        return;
    }
    write_injection(vm, INTR_INFO_VALID_MASK | INTR_TYPE_EXT_INTR | (uint32_t)vector, 0, 0);
    if (ev->reinject_irq >= 0)
        ev->reinject_irq = -1;
    else
        source_accept(vm, vector);
    ev->irqs_injected++;
    set_window(vm, vm_irq_pending(vm));
}

enum vcpu_action vm_handle_exception(struct vm *vm)
{
    uint32_t info = vmcs_read32(VM_EXIT_INTR_INFO);
    struct intr_info i = intr_info_decode(info);
    struct vm_exception e = {
        .vector = i.vector, .type = i.type, .has_error_code = i.has_error_code,
        .error_code = i.has_error_code ? vmcs_read32(VM_EXIT_INTR_ERROR_CODE) : 0,
        .qualification = vm->vcpu.exit.qualification,
        .instruction_len = vm->vcpu.exit.instruction_len,
    };
    if (i.type == 2 || i.vector >= 32)
        return vm_exit_unhandled(vm);    /* an NMI: we never ask for NMI exiting */
    vm->ev.exceptions[i.vector]++;
    if (vm->ev.on_exception[i.vector])
        return vm->ev.on_exception[i.vector](vm, &e);
    vm_reflect_exception(vm, &e);
    return VCPU_RESUME;
}

enum vcpu_action vm_handle_interrupt_window(struct vm *vm)
{
    vm->ev.window_exits++;               /* the window is open: vm_events_before_entry() injects */
    return VCPU_RESUME;
}

/*
 * HLT: the guest has nothing to do until an interrupt. The vCPU stops entering the guest
 * (the dispatcher waits in vm_timer_wait()) and resumes after the HLT when one is pending.
 * With RFLAGS.IF = 0 nothing could ever wake it: the VM stops with a report instead.
 */
enum vcpu_action vm_handle_hlt(struct vm *vm)
{
    vm_skip_instruction(vm);
    if (!(vmcs_readl(GUEST_RFLAGS) & RFLAGS_IF))
        return vm_stop(vm, VM_STOP_REFUSED, "HLT with interrupts disabled: the guest would "
                       "sleep forever");
    if (!vm_irq_pending(vm))
        vm->ev.halted = true;
    return VCPU_RESUME;
}
