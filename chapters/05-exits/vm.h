/* vm.h: a virtual machine with one vCPU and its exit dispatcher: a handler per basic exit
 * reason, per-reason counters, registries for devices, and a clean stop with a full report. */
#ifndef VM_H
#define VM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "guest_mem.h"
#include "hypercall.h"
#include "vcpu.h"
#include "vm_cpuid.h"
#include "vm_cr.h"
#include "vm_event.h"
#include "vm_io.h"
#include "vm_msr.h"
#include "vm_timer.h"

/* Basic exit reasons 0-64 (SDM Vol. 3D, Appendix C, Table C-1, revision 059). */
#define VM_EXIT_REASONS 65

struct vm;
typedef enum vcpu_action (*vm_exit_handler)(struct vm *vm);

/* Why a VM stopped. */
enum vm_stop_kind {
    VM_RUNNING = 0,
    VM_STOP_GUEST,               /* the guest asked (a hypercall, a power-off port) */
    VM_STOP_UNHANDLED,           /* an exit nobody handles: reported in full */
    VM_STOP_TRIPLE_FAULT,        /* exit reason 2: the guest's CPU would have shut down */
    VM_STOP_REFUSED,             /* the guest did something the hypervisor cannot emulate */
    VM_STOP_ENTRY_FAILED,        /* VM entry failed (chapter 04's report was printed) */
};

struct vm {
    struct vcpu vcpu;            /* first: the exit stub and vcpu_run() see only this */
    vm_exit_handler handlers[VM_EXIT_REASONS];
    uint64_t exit_count[VM_EXIT_REASONS];
    uint64_t exits;
    enum vm_stop_kind stop;
    char stop_why[160];
    uint64_t stop_status;        /* VM_STOP_GUEST: what the guest said */
    bool quiet;                  /* no log line per refused or unknown access */

    struct vm_mem mem;           /* guest-physical memory (chapter 06: EPT) */
    struct vm_cr cr;
    struct vm_cpuid cpuid;
    struct vm_io io;
    struct vm_msr msr;
    struct vm_events ev;
    struct vm_timer timer;
    struct vm_hypercalls hc;
    void *user;                  /* for whoever runs the VM */
};

/*
 * The controls every VM of chapters 05-07 needs on top of chapter 04's: external-
 * interrupt exiting with "acknowledge interrupt on exit" (the host keeps its timer),
 * I/O and MSR bitmaps, and the VMX-preemption timer where the CPU has one.
 */
void vm_default_config(struct vcpu_config *config);

/*
 * Build the vCPU (chapter 04) and the dispatcher: every basic exit reason gets the
 * default handler of this chapter or "unhandled". The guest's state comes next
 * (guest_state_long_mode() ...), then vm_run(). Returns 0, or -1 (vm->vcpu.error says why).
 */
int vm_create(struct vm *vm, const struct vmx_caps *caps, const struct vcpu_config *config);
void vm_destroy(struct vm *vm);

/* Run until the VM stops; returns why (vm->stop_why has the words). */
enum vm_stop_kind vm_run(struct vm *vm);

/* Replace the handler of one basic exit reason. */
void vm_set_exit_handler(struct vm *vm, uint32_t reason, vm_exit_handler handler);

/* Stop the VM: records why, returns VCPU_STOP for the handler to return. A stop of
 * kind UNHANDLED, TRIPLE_FAULT or REFUSED prints the full report (vm_report()). */
enum vcpu_action vm_stop(struct vm *vm, enum vm_stop_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *vm_stop_kind_name(enum vm_stop_kind kind);

/* Move the guest past the instruction that exited, ending any STI/MOV-SS blocking. */
void vm_skip_instruction(struct vm *vm);

/* The guest's general-purpose register n (0 RAX ... 15 R15; 4 is RSP, kept in the VMCS). */
uint64_t vm_gpr_read(struct vm *vm, unsigned n);
void vm_gpr_write(struct vm *vm, unsigned n, uint64_t value);
/* The guest's current privilege level: SS.DPL (SDM Vol. 3A, 5.5). */
unsigned vm_guest_cpl(struct vm *vm);

/* Set or clear a primary processor-based control at run time (interrupt window, ...). */
void vm_set_proc_control(struct vm *vm, uint32_t bit, bool on);
bool vm_proc_control_allowed(const struct vm *vm, uint32_t bit);

/* Reports: the stop report (reason, qualification, RIP and instruction bytes through the
 * guest's page tables, registers, counters) and the per-reason exit counters alone. */
void vm_report(struct vm *vm);
void vm_print_exit_counts(const struct vm *vm);

/* The default handler for exits nobody handles: stop with the full report. */
enum vcpu_action vm_exit_unhandled(struct vm *vm);

#endif
