/* vcpu.h: a virtual CPU: its VMCS, the guest registers the exit stub saves, the controls it
 * was built with, and the run loop. Later chapters extend it through the config and hooks. */
#ifndef VCPU_H
#define VCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "vmcs.h"
#include "vmx_adjust.h"
#include "vmx_check.h"

/*
 * The guest's general-purpose registers, which VMX does not save (only RSP, RIP and
 * RFLAGS are in the VMCS). vmenter.S stores them here on every VM exit and loads
 * them before every VM entry. Indexed by register number (rax 0, rcx 1, ... r15 15),
 * the numbering exit qualifications use (e.g. MOV to CR, SDM Vol. 3C, Table 27-3);
 * slot 4 (rsp) is unused, the guest's RSP is GUEST_RSP in the VMCS.
 */
struct guest_regs {
    union {
        uint64_t gpr[16];
        struct {
            uint64_t rax, rcx, rdx, rbx, rsp_unused, rbp, rsi, rdi;
            uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
        };
    };
};

/* What the last VM exit said (SDM Vol. 3C, 24.9.1). */
struct vmx_exit_info {
    uint32_t reason;             /* the whole field: bit 31 = VM-entry failure */
    uint32_t basic;              /* bits 15:0 */
    uint64_t qualification;
    uint32_t instruction_len;
    uint64_t guest_rip;
};

struct vcpu;
enum vcpu_action { VCPU_RESUME, VCPU_STOP };
typedef enum vcpu_action (*vcpu_exit_handler)(struct vcpu *vcpu);

/* How vcpu_run() ended. */
enum vcpu_run_result {
    VCPU_STOPPED,                /* the exit handler returned VCPU_STOP */
    VCPU_ENTRY_VMFAIL,           /* VMLAUNCH/VMRESUME failed: vcpu->entry_error */
    VCPU_ENTRY_FAILED,           /* VM exit with bit 31 set: invalid guest state, MSR loading */
    VCPU_NO_HANDLER,             /* a VM exit, and no handler installed */
};

struct vcpu {
    struct guest_regs regs;      /* offset 0: vmenter.S relies on it */
    uint64_t host_rsp;           /* offset 128: HOST_RSP as last written by vmenter.S */
    bool launched;               /* VMLAUNCH succeeded: use VMRESUME from now on */
    struct vmcs vmcs;
    const struct vmx_caps *caps;
    struct vmx_controls controls;          /* as adjusted by vcpu_create() */
    vcpu_exit_handler handle_exit;         /* called for every VM exit (chapter 05: a dispatcher) */
    void *user;                            /* for whoever installed the handler */
    struct vmx_exit_info exit;             /* the last VM exit */
    uint64_t exits;                        /* VM exits handled so far */
    enum vmx_status entry_status;          /* of the last failed VMLAUNCH/VMRESUME */
    uint32_t entry_error;                  /* its VM-instruction error (VMfailValid) */
    bool check_before_launch;              /* run vmx_check_entry() before VMLAUNCH (default) */
    bool quiet_failures;                   /* print no report or VMCS dump on entry failure */
    struct entry_verdict predicted;        /* the software checker's verdict before VMLAUNCH */
    char error[192];                       /* why vcpu_create() failed */
};

/* What a vCPU needs from the CPU; later chapters add bits to the request. */
struct vcpu_config {
    struct vmx_controls_request controls;
    uint32_t exception_bitmap;             /* exceptions that cause VM exits (24.6.3) */
};

/* A configuration every guest of this tutorial needs: 64-bit host, HLT exits, and the
 * IA32_EFER/IA32_PAT switching controls where the CPU has them. */
void vcpu_default_config(struct vcpu_config *config);

/*
 * Build a vCPU: adjust the controls (vcpu->error names a required bit the CPU lacks),
 * create its VMCS and make it current, write controls, host state and the guest
 * fields every guest needs (VMCS link pointer, activity state, ...). The guest's own
 * state comes next, from guest_state.c. Returns 0, or -1 with vcpu->error set.
 */
int vcpu_create(struct vcpu *vcpu, const struct vmx_caps *caps, const struct vcpu_config *config);
/* VMCLEAR the VMCS (before VMXOFF, or before the VMCS moves to another CPU). */
void vcpu_destroy(struct vcpu *vcpu);
/* Make this vCPU's VMCS the current one (needed when several vCPUs exist). */
void vcpu_load(struct vcpu *vcpu);

/* The host-state area from the running CPU (SDM Vol. 3C, 24.5); HOST_RSP is vmenter.S's. */
uint64_t system_segment_base(uint16_t selector);     /* TSS or LDT base, from the GDT */
void vcpu_setup_host_state(struct vcpu *vcpu);

/* Enter the guest and handle exits until the handler stops or entry fails. */
enum vcpu_run_result vcpu_run(struct vcpu *vcpu);
/* Move the guest past the instruction that caused the exit (VMCALL, CPUID, ...). */
void vcpu_skip_instruction(struct vcpu *vcpu);

/* vmenter.S: load guest registers, VMLAUNCH or VMRESUME, and after the VM exit save
 * them again. VMX_SUCCEED means "a VM exit happened"; otherwise how the entry failed. */
enum vmx_status vmx_vcpu_enter(struct vcpu *vcpu, int launched);
void vmx_vmexit(void);           /* HOST_RIP: not to be called */

/* Reports for humans: the exit reason, qualification and a VMCS dump. */
void vcpu_report_entry_failure(const struct vcpu *vcpu);
void vcpu_report_vmfail(const struct vcpu *vcpu);

/* The software checker with this vCPU's VMCS (it must be current). */
void vcpu_check_entry(const struct vcpu *vcpu, struct entry_verdict *verdict);

#endif
