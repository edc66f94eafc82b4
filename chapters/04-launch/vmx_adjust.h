/* vmx_adjust.h: VMX control words adjusted to what this CPU allows (SDM Vol. 3D, A.3-A.5):
 * a request of required and optional bits goes in; the value, or the missing bits, come out. */
#ifndef VMX_ADJUST_H
#define VMX_ADJUST_H

#include <stddef.h>
#include <stdint.h>

#include "vmx_caps.h"

/* What a hypervisor wants of one control word. Bits the CPU forces to 1 come anyway. */
struct vmx_ctl_request {
    uint32_t required;           /* must be 1, or the vCPU cannot be built */
    uint32_t optional;           /* 1 if the CPU allows it, else silently 0 */
};

/* The five control words of a VMCS (SDM Vol. 3C, 24.6-24.8). */
struct vmx_controls_request {
    struct vmx_ctl_request pin, proc, proc2, exit, entry;
};
struct vmx_controls {
    uint32_t pin, proc, proc2, exit, entry;
};

/*
 * One control word against its capability MSR: bits 31:0 allowed-0 (1 = must be 1),
 * bits 63:32 allowed-1 (1 = may be 1). Returns must-be-1 | (wanted & may-be-1);
 * *missing gets the required bits the CPU does not allow.
 */
uint32_t vmx_adjust_ctl(uint64_t cap_msr, uint32_t required, uint32_t optional, uint32_t *missing);

/*
 * All five words against the MSRs the CPU says to use (the TRUE_* ones when
 * IA32_VMX_BASIC[55] = 1). Secondary controls are activated (primary bit 31) exactly
 * when one is set. Returns 0, or -1 with `why` naming the first required bit that
 * the CPU cannot provide.
 */
int vmx_adjust_controls(const struct vmx_caps *caps, const struct vmx_controls_request *req,
                        struct vmx_controls *out, char *why, size_t why_size);

#endif
