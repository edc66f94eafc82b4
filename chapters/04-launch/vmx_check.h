/* vmx_check.h: a software model of the VM-entry checks (SDM Vol. 3C, 26.2-26.4): reads a VMCS
 * through a reader and names, in words, the first check the CPU would refuse. */
#ifndef VMX_CHECK_H
#define VMX_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "vmx_caps.h"

/*
 * Where the checker gets its data. In the kernel, read() is VMREAD of the current
 * VMCS and read_phys() reads memory; in the host unit tests both are tables. read()
 * returns 0 for a field the CPU does not have.
 */
struct vmcs_reader {
    uint64_t (*read)(void *ctx, uint32_t field);
    uint64_t (*read_phys)(void *ctx, uint64_t pa);     /* 8 bytes at a physical address */
    void *ctx;
};

/* What the checks depend on besides the VMCS. */
struct vmx_check_env {
    const struct vmx_caps *caps;
    unsigned phys_bits;          /* MAXPHYADDR, CPUID 0x80000008:EAX[7:0] */
    uint64_t current_vmcs;       /* VMPTRST: the link pointer must differ from it */
    bool host_ia32e;             /* is the CPU doing VMLAUNCH in IA-32e mode (26.2.4)? */
};

/* The outcome the checks predict for VMLAUNCH/VMRESUME. */
enum entry_outcome {
    ENTRY_OK,                    /* no check failed: the guest starts */
    ENTRY_VMFAIL,                /* VMfailValid with error (7 controls, 8 host state; 26.2) */
    ENTRY_FAIL_EXIT,             /* a VM exit with bit 31 set: reason 33 or 34 (26.3, 26.4, 26.7) */
};

struct entry_verdict {
    enum entry_outcome outcome;
    uint32_t error;              /* ENTRY_VMFAIL: the VM-instruction error */
    uint32_t exit_reason;        /* ENTRY_FAIL_EXIT: the basic exit reason */
    uint64_t qualification;      /* ENTRY_FAIL_EXIT: the exit qualification (26.7) */
    const char *section;         /* the SDM section of the violated check */
    unsigned checks;             /* how many checks ran */
    char why[200];               /* the violated check, in words */
};

/*
 * Run the checks in the CPU's order: VM-execution, VM-exit and VM-entry controls
 * (26.2.1), host state (26.2.2-26.2.4), guest state (26.3.1.1-26.3.1.5), MSR loading
 * (26.4). Stops at the first violation. Not modelled: the basic checks of 26.1
 * (launch state, MOV-SS blocking), PDPTEs (26.3.1.6), the TPR-threshold/VTPR check,
 * performance-counter MSR values, and MSRs a WRMSR would refuse for model reasons.
 */
void vmx_check_entry(const struct vmcs_reader *reader, const struct vmx_check_env *env,
                     struct entry_verdict *verdict);

const char *entry_outcome_name(enum entry_outcome outcome);   /* "ok", "vmfail", "exit" */

#endif
