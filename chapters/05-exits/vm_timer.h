/* vm_timer.h: time for the guest: one deadline per vCPU in TSC ticks with a callback, kept by
 * the VMX-preemption timer where the CPU has one, else by the host's own LAPIC timer ticks. */
#ifndef VM_TIMER_H
#define VM_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu.h"

struct vm;
typedef void (*vm_timer_fn)(struct vm *vm, void *ctx);

enum vm_timer_backend {
    VM_TIMER_PREEMPTION,         /* exit reason 52 at the deadline, even if the guest spins */
    VM_TIMER_HOST_TICK,          /* checked at every exit; the host tick guarantees one */
};

struct vm_timer {
    uint64_t deadline;           /* TSC; 0: not armed */
    vm_timer_fn fn;
    void *ctx;
    enum vm_timer_backend backend;
    unsigned rate;               /* preemption timer: one tick per 2^rate TSC ticks */
    bool pin_on;                 /* "activate VMX-preemption timer" is set now */
    uint64_t slice;              /* TSC ticks the guest may run without an exit (preemption
                                    timer only; 0: no limit). The host's own interrupts
                                    should bring it back anyway; this does even when they
                                    do not (Bochs ignores them while the guest has IF = 0) */
    uint64_t wait_limit;         /* TSC: a halted vCPU waits until then at most (0: no limit),
                                    then the VM stops. A guest may halt with a timer that
                                    fires for ever but never wakes it (masked, or below its
                                    task priority): a CPU would sleep for ever, and so would a
                                    host that has nothing else to run */
    uint64_t fired, preemption_exits, host_exits;
    uint64_t last_late, max_late;          /* TSC ticks between deadline and callback */
};

void vm_timer_init(struct vm *vm);
/* Call fn(vm, ctx) once, at the first exit at or after TSC value deadline. */
void vm_timer_arm(struct vm *vm, uint64_t deadline, vm_timer_fn fn, void *ctx);
void vm_timer_cancel(struct vm *vm);
const char *vm_timer_backend_name(const struct vm *vm);

/* Dispatcher steps: fire a due deadline; program the preemption timer before an entry;
 * wait for the deadline while the vCPU is halted (false: nothing would ever wake it, or
 * timer.wait_limit passed). */
void vm_timer_poll(struct vm *vm);
void vm_timer_before_entry(struct vm *vm);
bool vm_timer_wait(struct vm *vm);

enum vcpu_action vm_handle_preemption_timer(struct vm *vm);
enum vcpu_action vm_handle_external_interrupt(struct vm *vm);

#endif
