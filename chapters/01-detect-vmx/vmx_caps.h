/* vmx_caps.h: the VMX capability MSRs (SDM Vol. 3D, Appendix A): their numbers,
 * which exist on which CPU, and small decoders. Every later chapter reads them here. */
#ifndef VMX_CAPS_H
#define VMX_CAPS_H

#include <stdbool.h>
#include <stdint.h>

/* IA32_FEATURE_CONTROL bits (SDM Vol. 3C, 23.7). */
#define FEAT_CTL_LOCKED                  (1ull << 0)
#define FEAT_CTL_VMX_ENABLED_INSIDE_SMX  (1ull << 1)
#define FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX (1ull << 2)

/* Capability MSR numbers (SDM Vol. 3D, Appendix A; Linux msr-index.h names). */
#define MSR_IA32_VMX_BASIC               0x480
#define MSR_IA32_VMX_PINBASED_CTLS       0x481
#define MSR_IA32_VMX_PROCBASED_CTLS      0x482
#define MSR_IA32_VMX_EXIT_CTLS           0x483
#define MSR_IA32_VMX_ENTRY_CTLS          0x484
#define MSR_IA32_VMX_MISC                0x485
#define MSR_IA32_VMX_CR0_FIXED0          0x486
#define MSR_IA32_VMX_CR0_FIXED1          0x487
#define MSR_IA32_VMX_CR4_FIXED0          0x488
#define MSR_IA32_VMX_CR4_FIXED1          0x489
#define MSR_IA32_VMX_VMCS_ENUM           0x48a
#define MSR_IA32_VMX_PROCBASED_CTLS2     0x48b
#define MSR_IA32_VMX_EPT_VPID_CAP        0x48c
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS  0x48d
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48e
#define MSR_IA32_VMX_TRUE_EXIT_CTLS      0x48f
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS     0x490
#define MSR_IA32_VMX_VMFUNC              0x491
#define MSR_IA32_VMX_PROCBASED_CTLS3     0x492

/* IA32_VMX_BASIC fields (SDM Vol. 3D, A.1). */
#define VMX_BASIC_REVISION(b)      ((uint32_t)((b) & 0x7fffffff))
#define VMX_BASIC_VMCS_SIZE(b)     ((uint32_t)(((b) >> 32) & 0x1fff))
#define VMX_BASIC_ADDR32(b)        ((int)(((b) >> 48) & 1))   /* physical addresses limited to 32 bits */
#define VMX_BASIC_DUAL_MONITOR(b)  ((int)(((b) >> 49) & 1))
#define VMX_BASIC_MEM_TYPE(b)      ((uint32_t)(((b) >> 50) & 0xf))
#define VMX_BASIC_INOUT(b)         ((int)(((b) >> 54) & 1))   /* INS/OUTS exits report details */
#define VMX_BASIC_TRUE_CTLS(b)     ((int)(((b) >> 55) & 1))

/* A control MSR: bits 31:0 allowed-0 settings (1 = must be 1), 63:32 allowed-1 (1 = may be 1). */
#define CTL_MUST_BE_1(msr) ((uint32_t)(msr))
#define CTL_MAY_BE_1(msr)  ((uint32_t)((msr) >> 32))

/* IA32_VMX_MISC fields (SDM Vol. 3D, A.6). */
#define VMX_MISC_PREEMPTION_TIMER_RATE(m) ((uint32_t)((m) & 0x1f))  /* timer ticks every 2^rate TSC */
#define VMX_MISC_SAVES_EFER_LMA(m)        ((int)(((m) >> 5) & 1))
#define VMX_MISC_ACTIVITY_STATES(m)       ((uint32_t)(((m) >> 6) & 7)) /* HLT, shutdown, wait-for-SIPI */
#define VMX_MISC_CR3_TARGETS(m)           ((uint32_t)(((m) >> 16) & 0x1ff))
#define VMX_MISC_MAX_MSR_LIST(m)          (512u * ((uint32_t)(((m) >> 25) & 7) + 1))
#define VMX_MISC_VMWRITE_ANY_FIELD(m)     ((int)(((m) >> 29) & 1))
#define VMX_MISC_MSEG_REVISION(m)         ((uint32_t)((m) >> 32))

/* IA32_VMX_EPT_VPID_CAP bits (SDM Vol. 3D, A.10). */
#define VMX_EPT_EXECUTE_ONLY_BIT         (1ull << 0)
#define VMX_EPT_PAGE_WALK_4_BIT          (1ull << 6)
#define VMX_EPTP_UC_BIT                  (1ull << 8)
#define VMX_EPTP_WB_BIT                  (1ull << 14)
#define VMX_EPT_2MB_PAGE_BIT             (1ull << 16)
#define VMX_EPT_1GB_PAGE_BIT             (1ull << 17)
#define VMX_EPT_INVEPT_BIT               (1ull << 20)
#define VMX_EPT_AD_BIT                   (1ull << 21)
#define VMX_EPT_EXTENT_CONTEXT_BIT       (1ull << 25)
#define VMX_EPT_EXTENT_GLOBAL_BIT        (1ull << 26)
#define VMX_VPID_INVVPID_BIT             (1ull << 32)
#define VMX_VPID_EXTENT_INDIVIDUAL_ADDR_BIT (1ull << 40)
#define VMX_VPID_EXTENT_SINGLE_CONTEXT_BIT  (1ull << 41)
#define VMX_VPID_EXTENT_GLOBAL_CONTEXT_BIT  (1ull << 42)
#define VMX_VPID_EXTENT_SINGLE_NON_GLOBAL_BIT (1ull << 43)

/*
 * Everything a hypervisor must know before it writes a single VMCS field.
 * The *_ctls values are the ones to adjust controls against: the TRUE_*
 * MSR when IA32_VMX_BASIC[55] = 1, the plain one otherwise (SDM Vol. 3D, A.2).
 */
struct vmx_caps {
    uint64_t basic, misc, vmcs_enum;
    uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
    uint64_t pinbased, procbased, exit, entry;            /* plain MSRs */
    uint64_t true_pinbased, true_procbased, true_exit, true_entry;
    uint64_t procbased2, ept_vpid, vmfunc;
    bool has_true_ctls, has_procbased2, has_ept_vpid, has_vmfunc;
    uint64_t pin_ctls, proc_ctls, exit_ctls, entry_ctls;  /* the ones to adjust against */
};

bool cpu_has_vmx(void);
/* Reads every capability MSR that CPUID and the other MSRs say exists.
 * Returns 0, or the number of an MSR whose read faulted unexpectedly. */
uint32_t vmx_caps_read(struct vmx_caps *caps);

/* Why an MSR exists (SDM Vol. 3D, A.3.3, A.10, A.11): pure functions, host-tested. */
bool vmx_has_procbased2(uint64_t procbased);
bool vmx_has_ept_vpid(uint64_t procbased2);
bool vmx_has_vmfunc(uint64_t procbased2);
bool vmx_has_procbased3(uint64_t procbased);

#endif
