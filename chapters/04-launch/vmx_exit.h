/* vmx_exit.h: basic exit reasons (SDM Vol. 3D, Appendix C) with Linux's names, and the
 * exit-reason field's layout (Vol. 3C, 24.9.1), for every chapter that handles VM exits. */
#ifndef VMX_EXIT_H
#define VMX_EXIT_H

#include <stdint.h>

/* The exit-reason field (24.9.1, Table 24-14): bits 15:0 the basic reason, bit 31 set
 * when VM entry failed (then the guest never ran). */
#define VMX_EXIT_REASON_BASIC(r)           ((r) & 0xffffu)
#define VMX_EXIT_REASONS_FAILED_VMENTRY    0x80000000u

#define EXIT_REASON_EXCEPTION_NMI          0
#define EXIT_REASON_EXTERNAL_INTERRUPT     1
#define EXIT_REASON_TRIPLE_FAULT           2
#define EXIT_REASON_INIT_SIGNAL            3
#define EXIT_REASON_SIPI_SIGNAL            4
#define EXIT_REASON_IO_SMI                 5
#define EXIT_REASON_OTHER_SMI              6
#define EXIT_REASON_INTERRUPT_WINDOW       7
#define EXIT_REASON_NMI_WINDOW             8
#define EXIT_REASON_TASK_SWITCH            9
#define EXIT_REASON_CPUID                  10
#define EXIT_REASON_GETSEC                 11
#define EXIT_REASON_HLT                    12
#define EXIT_REASON_INVD                   13
#define EXIT_REASON_INVLPG                 14
#define EXIT_REASON_RDPMC                  15
#define EXIT_REASON_RDTSC                  16
#define EXIT_REASON_RSM                    17
#define EXIT_REASON_VMCALL                 18
#define EXIT_REASON_VMCLEAR                19
#define EXIT_REASON_VMLAUNCH               20
#define EXIT_REASON_VMPTRLD                21
#define EXIT_REASON_VMPTRST                22
#define EXIT_REASON_VMREAD                 23
#define EXIT_REASON_VMRESUME               24
#define EXIT_REASON_VMWRITE                25
#define EXIT_REASON_VMOFF                  26
#define EXIT_REASON_VMON                   27
#define EXIT_REASON_CR_ACCESS              28
#define EXIT_REASON_DR_ACCESS              29
#define EXIT_REASON_IO_INSTRUCTION         30
#define EXIT_REASON_MSR_READ               31
#define EXIT_REASON_MSR_WRITE              32
#define EXIT_REASON_INVALID_STATE          33
#define EXIT_REASON_MSR_LOAD_FAIL          34
#define EXIT_REASON_MWAIT_INSTRUCTION      36
#define EXIT_REASON_MONITOR_TRAP_FLAG      37
#define EXIT_REASON_MONITOR_INSTRUCTION    39
#define EXIT_REASON_PAUSE_INSTRUCTION      40
#define EXIT_REASON_MCE_DURING_VMENTRY     41
#define EXIT_REASON_TPR_BELOW_THRESHOLD    43
#define EXIT_REASON_APIC_ACCESS            44
#define EXIT_REASON_EOI_INDUCED            45
#define EXIT_REASON_GDTR_IDTR              46
#define EXIT_REASON_LDTR_TR                47
#define EXIT_REASON_EPT_VIOLATION          48
#define EXIT_REASON_EPT_MISCONFIG          49
#define EXIT_REASON_INVEPT                 50
#define EXIT_REASON_RDTSCP                 51
#define EXIT_REASON_PREEMPTION_TIMER       52
#define EXIT_REASON_INVVPID                53
#define EXIT_REASON_WBINVD                 54
#define EXIT_REASON_XSETBV                 55
#define EXIT_REASON_APIC_WRITE             56
#define EXIT_REASON_RDRAND                 57
#define EXIT_REASON_INVPCID                58
#define EXIT_REASON_VMFUNC                 59
#define EXIT_REASON_ENCLS                  60
#define EXIT_REASON_RDSEED                 61
#define EXIT_REASON_PML_FULL               62
#define EXIT_REASON_XSAVES                 63
#define EXIT_REASON_XRSTORS                64

/* The SDM's words for a basic exit reason ("VMCALL", "VM-entry failure due to ..."). */
const char *vmx_exit_reason_name(uint32_t basic_reason);

/* Exit qualification of a VM-entry failure exit (SDM Vol. 3C, 26.7). */
#define ENTRY_FAIL_DEFAULT                 0
#define ENTRY_FAIL_PDPTE                   2
#define ENTRY_FAIL_NMI                     3
#define ENTRY_FAIL_VMCS_LINK_PTR           4
const char *vmx_entry_failure_qualification_name(uint32_t basic_reason, uint64_t qualification);

#endif
