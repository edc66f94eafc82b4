/* vmxon.h: entering and leaving VMX operation (SDM Vol. 3C, 23.7-23.8; 30.3 VMXON, VMXOFF).
 * Every later chapter calls vmx_enable() and vmx_disable() from here. */
#ifndef VMXON_H
#define VMXON_H

#include <stdbool.h>
#include <stdint.h>

#include "vmx_caps.h"
#include "vmx_insn.h"

/* The VMXON region and whether this CPU is in VMX operation. */
struct vmx_root {
    void *region;
    uint64_t region_pa;
    bool on;
};

/* What vmx_feature_control_enable() found (SDM Vol. 3C, 23.7). */
enum feature_control_state {
    FEATURE_CONTROL_READY,       /* locked with VMX outside SMX enabled */
    FEATURE_CONTROL_LOCKED_OFF,  /* locked with VMX disabled: only firmware can change it */
    FEATURE_CONTROL_FAULT,       /* RDMSR/WRMSR faulted */
};

/* Sets bit 2 and the lock bit if firmware left the MSR unlocked. */
enum feature_control_state vmx_feature_control_enable(uint64_t *before, uint64_t *after);
/* A control-register value forced to the bits VMX operation requires (SDM Vol. 3D, A.7-A.8). */
uint64_t vmx_apply_fixed_bits(uint64_t value, uint64_t fixed0, uint64_t fixed1);
/* CR0 and CR4 adjusted to IA32_VMX_CR{0,4}_FIXED{0,1}, CR4.VMXE set (23.8). */
void vmx_adjust_control_registers(const struct vmx_caps *caps);
/* A zeroed VMXON or VMCS region holding the revision id (24.2, 24.11.5). */
void *vmx_region_alloc(const struct vmx_caps *caps, uint64_t *pa);
/* A physical address every VMX pointer must satisfy: within the CPU's width (A.1). */
bool vmx_pa_fits(const struct vmx_caps *caps, uint64_t pa);

/* VMXON with a fresh region; root->on tells whether it succeeded. */
enum vmx_status vmx_on(const struct vmx_caps *caps, struct vmx_root *root);
enum vmx_status vmx_off(struct vmx_root *root);

/*
 * Everything above in order, for later chapters: returns only in VMX root
 * operation. Explains and ends the chapter (skip) when firmware locked VMX off,
 * panics with the reason on anything else.
 */
void vmx_enable(const struct vmx_caps *caps, struct vmx_root *root);
void vmx_disable(struct vmx_root *root);

#endif
