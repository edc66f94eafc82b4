/* vm_event.h: events into the guest: virtual interrupts delivered when the guest can take
 * them (else interrupt-window exiting), exceptions, and re-injection after IDT-vectoring. */
#ifndef VM_EVENT_H
#define VM_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu.h"

struct vm;

/*
 * Where virtual interrupts come from. The default is a 256-bit set of pending vectors
 * (highest first, gone once injected); chapter 07's virtual local APIC brings its own
 * (IRR/ISR with EOI) through these two functions.
 */
struct vm_irq_ops {
    int (*pending)(struct vm *vm, void *ctx);            /* highest vector waiting, or -1 */
    void (*accept)(struct vm *vm, void *ctx, int vector); /* it is being injected now */
};

/* An exception as the VM exit reported it (24.9.2) and its exit qualification. */
struct vm_exception {
    uint8_t vector, type;        /* type: INTR_TYPE_* >> 8 */
    bool has_error_code;
    uint32_t error_code;
    uint64_t qualification;      /* #PF: the linear address */
    uint32_t instruction_len;    /* software exceptions (INT3, INTO) */
};
typedef enum vcpu_action (*vm_exception_fn)(struct vm *vm, const struct vm_exception *e);

struct vm_events {
    uint64_t irr[4];                       /* the default source: pending vectors */
    const struct vm_irq_ops *ops;
    void *ops_ctx;
    uint32_t inject_info;                  /* the event of the next VM entry (valid bit) */
    uint32_t inject_error, inject_len;
    int reinject_irq;                      /* an interrupt whose delivery an exit cut short */
    bool window;                           /* interrupt-window exiting is on */
    bool halted;                           /* HLT: no entry until an interrupt is pending */
    bool cr2_pending;                      /* a #PF is injected: load CR2 before the entry */
    uint64_t cr2;
    vm_exception_fn on_exception[32];      /* exceptions in the exception bitmap */
    /* what happened, for reports and checkpoints */
    uint64_t irqs_injected, exceptions_injected, reinjected, window_exits, deferred;
    uint64_t exceptions[32];
    uint32_t last_vectoring, last_vectoring_error;
    uint32_t last_injected;
};

void vm_events_init(struct vm *vm);

/* Nothing to inject, nothing waiting, no window requested: the common case of the exit path. */
static inline bool vm_events_idle(const struct vm_events *ev)
{
    return !ev->inject_info && ev->reinject_irq < 0 && !ev->window && !ev->halted && !ev->ops &&
           !(ev->irr[0] | ev->irr[1] | ev->irr[2] | ev->irr[3]);
}

/* Raise virtual interrupt vector (32-255) in the default source. */
void vm_irq_raise(struct vm *vm, uint8_t vector);
void vm_irq_set_ops(struct vm *vm, const struct vm_irq_ops *ops, void *ctx);
bool vm_irq_pending(struct vm *vm);

/* Inject an exception at the next entry (two at once combine as SDM Vol. 3A, Table 6-5 says). */
void vm_inject_exception(struct vm *vm, uint8_t vector, bool has_error_code, uint32_t error_code);
void vm_inject_gp(struct vm *vm);                        /* #GP(0) */
void vm_inject_ud(struct vm *vm);
void vm_inject_pf(struct vm *vm, uint64_t address, uint32_t error_code);
/* Hand an intercepted exception back to the guest as if the exit never happened. */
void vm_reflect_exception(struct vm *vm, const struct vm_exception *e);

/* Intercept an exception (exception bitmap, 24.6.3) and optionally handle it (else reflect). */
void vm_intercept_exception(struct vm *vm, uint8_t vector, vm_exception_fn fn);

/* Dispatcher steps: after every exit that can interrupt event delivery, before every entry. */
void vm_events_after_exit(struct vm *vm);
void vm_events_before_entry(struct vm *vm);

enum vcpu_action vm_handle_exception(struct vm *vm);
enum vcpu_action vm_handle_interrupt_window(struct vm *vm);
enum vcpu_action vm_handle_hlt(struct vm *vm);

#endif
