/* vmx_check.c: the checks VM entry makes on the VMX controls and the host-state area
 * (SDM Vol. 3C, 26.2), which fail with VMfailValid, error 7 or 8, before the guest runs. */
#include "vmx_check.h"

#include <stdarg.h>

#include "printf.h"
#include "vmx_check_priv.h"
#include "vmx_controls.h"
#include "x86.h"

bool check_fail(struct checker *c, enum entry_outcome outcome, uint32_t code, uint64_t qual,
                const char *section, const char *fmt, ...)
{
    struct entry_verdict *v = c->v;
    va_list ap;
    v->outcome = outcome;
    v->error = outcome == ENTRY_VMFAIL ? code : 0;
    v->exit_reason = outcome == ENTRY_FAIL_EXIT ? code : 0;
    v->qualification = qual;
    v->section = section;
    va_start(ap, fmt);
    kvsnprintf(v->why, sizeof(v->why), fmt, ap);
    va_end(ap);
    return true;
}

const char *entry_outcome_name(enum entry_outcome outcome)
{
    switch (outcome) {
    case ENTRY_OK: return "ok";
    case ENTRY_VMFAIL: return "vmfail";
    case ENTRY_FAIL_EXIT: return "exit";
    }
    return "?";
}

/* One control word against its capability MSR (26.2.1; Vol. 3D, A.3-A.5). */
static bool check_allowed(struct checker *c, const char *section, const char *word,
                          const struct bit_name *names, uint32_t value, uint64_t msr)
{
    uint32_t must1 = CTL_MUST_BE_1(msr), may1 = CTL_MAY_BE_1(msr);
    uint32_t bad0 = must1 & ~value, bad1 = value & ~may1;
    if (counted(c, bad0 != 0)) {
        unsigned bit = (unsigned)__builtin_ctz(bad0);
        const char *name = bit_name_lookup(names, bit);
        return FAIL_CONTROL(c, section, "%s control bit %u (%s) is 0, but the capability MSR "
                            "requires 1 (value 0x%x, must-be-1 bits 0x%x)", word, bit,
                            name ? name : "reserved, default 1", value, must1);
    }
    if (counted(c, bad1 != 0)) {
        unsigned bit = (unsigned)__builtin_ctz(bad1);
        const char *name = bit_name_lookup(names, bit);
        return FAIL_CONTROL(c, section, "%s control bit %u (%s) is 1, but this CPU does not "
                            "allow it (value 0x%x, may-be-1 bits 0x%x)", word, bit,
                            name ? name : "reserved", value, may1);
    }
    return false;
}

/* A control's physical address: 4 KiB aligned and within the width (26.2.1.1). */
static bool check_page_field(struct checker *c, uint32_t field, const char *what)
{
    uint64_t pa = rd(c, field);
    if (counted(c, !page_address_ok(c, pa)))
        return FAIL_CONTROL(c, "26.2.1.1", "%s 0x%lx is not 4 KiB aligned or beyond the "
                            "physical-address width", what, pa);
    return false;
}

/* EPTP (24.6.11): memory type, walk length, A/D enable as IA32_VMX_EPT_VPID_CAP allows. */
static bool check_eptp(struct checker *c)
{
    uint64_t eptp = rd(c, EPT_POINTER), cap = c->env->caps->ept_vpid;
    unsigned type = eptp & 7, walk = ((eptp >> 3) & 7) + 1;
    bool type_ok = (type == 0 && (cap & VMX_EPTP_UC_BIT)) || (type == 6 && (cap & VMX_EPTP_WB_BIT));
    if (counted(c, !type_ok))
        return FAIL_CONTROL(c, "26.2.1.1", "EPTP memory type %u is not one IA32_VMX_EPT_VPID_CAP "
                            "allows (0 = UC if bit 8, 6 = WB if bit 14)", type);
    if (counted(c, walk != 4))
        return FAIL_CONTROL(c, "26.2.1.1", "EPTP page-walk length %u: it must be 4 (bits 5:3 = 3)",
                            walk);
    if (counted(c, (eptp & (1u << 6)) && !(cap & VMX_EPT_AD_BIT)))
        return FAIL_CONTROL(c, "26.2.1.1", "EPTP bit 6 (accessed/dirty flags) is set, but the CPU "
                            "has no EPT A/D flags");
    if (counted(c, (eptp & 0xf80) || !fits_phys(c, eptp)))
        return FAIL_CONTROL(c, "26.2.1.1", "EPTP 0x%lx has reserved bits 11:7 set or an address "
                            "beyond the physical-address width", eptp);
    return false;
}

/* 26.2.1.1: the VM-execution controls and the addresses they bring along. */
static bool check_execution_controls(struct checker *c)
{
    const struct vmx_caps *caps = c->env->caps;
    const char *s = "26.2.1.1";
    if (check_allowed(c, s, "pin-based", pin_based_bit_names, c->pin, caps->pin_ctls) ||
        check_allowed(c, s, "primary processor-based", cpu_based_bit_names, c->proc, caps->proc_ctls))
        return true;
    if ((c->proc & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS) &&
        check_allowed(c, s, "secondary processor-based", secondary_exec_bit_names, c->proc2,
                      caps->procbased2))
        return true;
    if (counted(c, rd(c, CR3_TARGET_COUNT) > VMX_MISC_CR3_TARGETS(caps->misc)))
        return FAIL_CONTROL(c, s, "CR3-target count %lu exceeds IA32_VMX_MISC[24:16] = %u",
                            rd(c, CR3_TARGET_COUNT), VMX_MISC_CR3_TARGETS(caps->misc));
    if ((c->proc & CPU_BASED_USE_IO_BITMAPS) &&
        (check_page_field(c, IO_BITMAP_A, "I/O bitmap A") ||
         check_page_field(c, IO_BITMAP_B, "I/O bitmap B")))
        return true;
    if ((c->proc & CPU_BASED_USE_MSR_BITMAPS) && check_page_field(c, MSR_BITMAP, "MSR bitmap"))
        return true;
    if (c->proc & CPU_BASED_TPR_SHADOW) {
        if (check_page_field(c, VIRTUAL_APIC_PAGE_ADDR, "virtual-APIC address"))
            return true;
        if (counted(c, !(c->proc2 & SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY) &&
                       (rd(c, TPR_THRESHOLD) & ~0xfull)))
            return FAIL_CONTROL(c, s, "TPR threshold bits 31:4 must be 0");
    } else if (counted(c, c->proc2 & (SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE |
                                      SECONDARY_EXEC_APIC_REGISTER_VIRT |
                                      SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY))) {
        return FAIL_CONTROL(c, s, "x2APIC virtualization, APIC-register virtualization and "
                            "virtual-interrupt delivery need \"use TPR shadow\"");
    }
    if (counted(c, !(c->pin & PIN_BASED_NMI_EXITING) && (c->pin & PIN_BASED_VIRTUAL_NMIS)))
        return FAIL_CONTROL(c, s, "\"virtual NMIs\" needs \"NMI exiting\"");
    if (counted(c, !(c->pin & PIN_BASED_VIRTUAL_NMIS) && (c->proc & CPU_BASED_NMI_WINDOW_EXITING)))
        return FAIL_CONTROL(c, s, "\"NMI-window exiting\" needs \"virtual NMIs\"");
    if ((c->proc2 & SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES) &&
        check_page_field(c, APIC_ACCESS_ADDR, "APIC-access address"))
        return true;
    if (counted(c, (c->proc2 & SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE) &&
                   (c->proc2 & SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES)))
        return FAIL_CONTROL(c, s, "\"virtualize x2APIC mode\" and \"virtualize APIC accesses\" "
                            "exclude each other");
    if (counted(c, (c->proc2 & SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY) &&
                   !(c->pin & PIN_BASED_EXT_INTR_MASK)))
        return FAIL_CONTROL(c, s, "\"virtual-interrupt delivery\" needs \"external-interrupt exiting\"");
    if (counted(c, (c->pin & PIN_BASED_POSTED_INTR) &&
                   (!(c->proc2 & SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY) ||
                    !(c->exit & VM_EXIT_ACK_INTR_ON_EXIT) || (rd(c, POSTED_INTR_NV) & 0xff00) ||
                    (rd(c, POSTED_INTR_DESC_ADDR) & 0x3f) || !fits_phys(c, rd(c, POSTED_INTR_DESC_ADDR)))))
        return FAIL_CONTROL(c, s, "posted interrupts need virtual-interrupt delivery, "
                            "acknowledge-on-exit, a vector < 256 and a 64-byte aligned descriptor");
    if (counted(c, (c->proc2 & SECONDARY_EXEC_ENABLE_VPID) && rd(c, VIRTUAL_PROCESSOR_ID) == 0))
        return FAIL_CONTROL(c, s, "VPID 0 is the host's: an enabled VPID must not be 0");
    if ((c->proc2 & SECONDARY_EXEC_ENABLE_EPT) && check_eptp(c))
        return true;
    if (counted(c, (c->proc2 & (SECONDARY_EXEC_UNRESTRICTED_GUEST | SECONDARY_EXEC_ENABLE_PML)) &&
                   !(c->proc2 & SECONDARY_EXEC_ENABLE_EPT)))
        return FAIL_CONTROL(c, s, "\"unrestricted guest\" and \"enable PML\" need \"enable EPT\"");
    if ((c->proc2 & SECONDARY_EXEC_ENABLE_PML) && check_page_field(c, PML_ADDRESS, "PML address"))
        return true;
    if (c->proc2 & SECONDARY_EXEC_ENABLE_VMFUNC) {
        uint64_t f = rd(c, VM_FUNCTION_CONTROL);
        if (counted(c, f & ~caps->vmfunc))
            return FAIL_CONTROL(c, s, "VM-function controls 0x%lx beyond IA32_VMX_VMFUNC 0x%lx",
                                f, caps->vmfunc);
        if (f & 1) {                    /* EPTP switching (25.5.5.3) */
            if (counted(c, !(c->proc2 & SECONDARY_EXEC_ENABLE_EPT)))
                return FAIL_CONTROL(c, s, "EPTP switching needs \"enable EPT\"");
            if (check_page_field(c, EPTP_LIST_ADDRESS, "EPTP-list address"))
                return true;
        }
    }
    if ((c->proc2 & SECONDARY_EXEC_SHADOW_VMCS) &&
        (check_page_field(c, VMREAD_BITMAP, "VMREAD bitmap") ||
         check_page_field(c, VMWRITE_BITMAP, "VMWRITE bitmap")))
        return true;
    if ((c->proc2 & SECONDARY_EXEC_EPT_VIOLATION_VE) &&
        check_page_field(c, VE_INFORMATION_ADDRESS, "virtualization-exception information address"))
        return true;
    return false;
}

/* An MSR-store/load area: 16-byte aligned, all of it within the width (26.2.1.2-3). */
static bool check_msr_area(struct checker *c, const char *section, uint32_t count_field,
                           uint32_t addr_field, const char *what)
{
    uint64_t n = rd(c, count_field), pa = rd(c, addr_field);
    if (n == 0)
        return false;
    if (counted(c, (pa & 0xf) || !fits_phys(c, pa) || !fits_phys(c, pa + n * 16 - 1)))
        return FAIL_CONTROL(c, section, "%s area 0x%lx (%lu entries) is not 16-byte aligned or "
                            "not within the physical-address width", what, pa, n);
    return false;
}

/* 26.2.1.3: the event to inject, if the valid bit (31) of VM_ENTRY_INTR_INFO_FIELD is set. */
static bool check_event_injection(struct checker *c)
{
    uint32_t info = (uint32_t)rd(c, VM_ENTRY_INTR_INFO_FIELD);
    unsigned vector = info & 0xff, type = (info >> 8) & 7;
    bool deliver = info & (1u << 11), pe = rd(c, GUEST_CR0) & CR0_PE;
    bool has_code = type == 3 && pe && (vector == 8 || (vector >= 10 && vector <= 14) || vector == 17);
    const char *s = "26.2.1.3";
    if (!(info & 0x80000000u))
        return false;
    if (counted(c, type == 1 || (type == 7 && !(c->proc & CPU_BASED_MONITOR_TRAP_FLAG))))
        return FAIL_CONTROL(c, s, "event injection: interruption type %u is reserved here", type);
    if (counted(c, (type == 2 && vector != 2) || (type == 3 && vector > 31) || (type == 7 && vector)))
        return FAIL_CONTROL(c, s, "event injection: vector %u does not fit interruption type %u",
                            vector, type);
    if (counted(c, deliver != has_code))
        return FAIL_CONTROL(c, s, "event injection: \"deliver error code\" is %d, but vector %u "
                            "of type %u %s an error code", deliver, vector, type,
                            has_code ? "pushes" : "pushes no");
    if (counted(c, info & 0x7ffff000u))
        return FAIL_CONTROL(c, s, "event injection: reserved bits 30:12 are not 0");
    if (counted(c, deliver && (rd(c, VM_ENTRY_EXCEPTION_ERROR_CODE) & 0xffff0000u)))
        return FAIL_CONTROL(c, s, "event injection: error-code bits 31:16 are not 0");
    if (counted(c, (type == 4 || type == 5 || type == 6) &&
                   (rd(c, VM_ENTRY_INSTRUCTION_LEN) == 0 || rd(c, VM_ENTRY_INSTRUCTION_LEN) > 15)))
        return FAIL_CONTROL(c, s, "event injection: a software event needs an instruction "
                            "length of 1 to 15");
    return false;
}

/* 26.2.1.2 and 26.2.1.3: VM-exit and VM-entry controls. */
static bool check_exit_entry_controls(struct checker *c)
{
    const struct vmx_caps *caps = c->env->caps;
    if (check_allowed(c, "26.2.1.2", "VM-exit", vm_exit_bit_names, c->exit, caps->exit_ctls))
        return true;
    if (counted(c, !(c->pin & PIN_BASED_VMX_PREEMPTION_TIMER) &&
                   (c->exit & VM_EXIT_SAVE_VMX_PREEMPTION_TIMER)))
        return FAIL_CONTROL(c, "26.2.1.2", "\"save VMX-preemption timer value\" needs \"activate "
                            "VMX-preemption timer\"");
    if (check_msr_area(c, "26.2.1.2", VM_EXIT_MSR_STORE_COUNT, VM_EXIT_MSR_STORE_ADDR, "VM-exit MSR-store") ||
        check_msr_area(c, "26.2.1.2", VM_EXIT_MSR_LOAD_COUNT, VM_EXIT_MSR_LOAD_ADDR, "VM-exit MSR-load"))
        return true;
    if (check_allowed(c, "26.2.1.3", "VM-entry", vm_entry_bit_names, c->entry, caps->entry_ctls))
        return true;
    if (check_event_injection(c))
        return true;
    if (check_msr_area(c, "26.2.1.3", VM_ENTRY_MSR_LOAD_COUNT, VM_ENTRY_MSR_LOAD_ADDR, "VM-entry MSR-load"))
        return true;
    if (counted(c, c->entry & (VM_ENTRY_SMM | VM_ENTRY_DEACT_DUAL_MONITOR)))
        return FAIL_CONTROL(c, "26.2.1.3", "\"entry to SMM\" and \"deactivate dual-monitor "
                            "treatment\" must be 0 outside SMM");
    return false;
}

/* 26.2.2: host control registers and MSRs. */
static bool check_host_registers(struct checker *c)
{
    const struct vmx_caps *caps = c->env->caps;
    uint64_t cr0 = rd(c, HOST_CR0), cr4 = rd(c, HOST_CR4), cr3 = rd(c, HOST_CR3);
    const char *s = "26.2.2";
    if (counted(c, (cr0 & caps->cr0_fixed0) != caps->cr0_fixed0 || (cr0 & ~caps->cr0_fixed1)))
        return FAIL_HOST(c, s, "HOST_CR0 0x%lx: IA32_VMX_CR0_FIXED0 needs 0x%lx set, FIXED1 "
                         "0x%lx allows nothing else", cr0, caps->cr0_fixed0, caps->cr0_fixed1);
    if (counted(c, (cr4 & caps->cr4_fixed0) != caps->cr4_fixed0 || (cr4 & ~caps->cr4_fixed1)))
        return FAIL_HOST(c, s, "HOST_CR4 0x%lx: IA32_VMX_CR4_FIXED0 needs 0x%lx set (VMXE), "
                         "FIXED1 0x%lx allows nothing else", cr4, caps->cr4_fixed0, caps->cr4_fixed1);
    if (counted(c, !fits_phys(c, cr3)))
        return FAIL_HOST(c, s, "HOST_CR3 0x%lx is beyond the physical-address width", cr3);
    if (counted(c, !is_canonical(rd(c, HOST_IA32_SYSENTER_ESP)) ||
                   !is_canonical(rd(c, HOST_IA32_SYSENTER_EIP))))
        return FAIL_HOST(c, s, "HOST_IA32_SYSENTER_ESP/EIP must be canonical");
    if (counted(c, (c->exit & VM_EXIT_LOAD_IA32_PAT) && !pat_ok(rd(c, HOST_IA32_PAT))))
        return FAIL_HOST(c, s, "HOST_IA32_PAT 0x%lx holds an invalid memory type", rd(c, HOST_IA32_PAT));
    if (c->exit & VM_EXIT_LOAD_IA32_EFER) {
        uint64_t efer = rd(c, HOST_IA32_EFER);
        bool lma = efer & EFER_LMA, lme = efer & EFER_LME;
        if (counted(c, (efer & ~EFER_VALID_BITS) || lma != c->host64 || lme != c->host64))
            return FAIL_HOST(c, s, "HOST_IA32_EFER 0x%lx: reserved bits, or LMA/LME differ from "
                             "\"host address-space size\" (%d)", efer, c->host64);
    }
    return false;
}

/* 26.2.3: host selectors and bases; 26.2.4: host address-space size. */
static bool check_host_segments(struct checker *c)
{
    static const struct { uint32_t field; const char *name; } sel[] = {
        {HOST_ES_SELECTOR, "ES"}, {HOST_CS_SELECTOR, "CS"}, {HOST_SS_SELECTOR, "SS"},
        {HOST_DS_SELECTOR, "DS"}, {HOST_FS_SELECTOR, "FS"}, {HOST_GS_SELECTOR, "GS"},
        {HOST_TR_SELECTOR, "TR"},
    };
    for (unsigned i = 0; i < sizeof(sel) / sizeof(sel[0]); i++)
        if (counted(c, rd(c, sel[i].field) & 7))
            return FAIL_HOST(c, "26.2.3", "host %s selector 0x%lx has RPL or TI bits set",
                             sel[i].name, rd(c, sel[i].field));
    if (counted(c, rd(c, HOST_CS_SELECTOR) == 0))
        return FAIL_HOST(c, "26.2.3", "host CS selector is 0 (null)");
    if (counted(c, rd(c, HOST_TR_SELECTOR) == 0))
        return FAIL_HOST(c, "26.2.3", "host TR selector is 0 (null): the host needs a TSS");
    if (counted(c, !c->host64 && rd(c, HOST_SS_SELECTOR) == 0))
        return FAIL_HOST(c, "26.2.3", "host SS selector is 0 with a 32-bit host");
    if (counted(c, !is_canonical(rd(c, HOST_FS_BASE)) || !is_canonical(rd(c, HOST_GS_BASE)) ||
                   !is_canonical(rd(c, HOST_TR_BASE)) || !is_canonical(rd(c, HOST_GDTR_BASE)) ||
                   !is_canonical(rd(c, HOST_IDTR_BASE))))
        return FAIL_HOST(c, "26.2.3", "a host FS/GS/TR/GDTR/IDTR base is not canonical");

    if (counted(c, c->env->host_ia32e != c->host64))
        return FAIL_HOST(c, "26.2.4", "\"host address-space size\" is %d, but the CPU %s in "
                         "IA-32e mode", c->host64, c->env->host_ia32e ? "is" : "is not");
    if (counted(c, !c->host64 && c->ia32e_guest))
        return FAIL_HOST(c, "26.2.4", "\"IA-32e mode guest\" needs \"host address-space size\"");
    if (counted(c, c->host64 && (!(rd(c, HOST_CR4) & CR4_PAE) || !is_canonical(rd(c, HOST_RIP)))))
        return FAIL_HOST(c, "26.2.4", "a 64-bit host needs HOST_CR4.PAE = 1 and a canonical HOST_RIP");
    if (counted(c, !c->host64 && ((rd(c, HOST_CR4) & CR4_PCIDE) || (rd(c, HOST_RIP) >> 32))))
        return FAIL_HOST(c, "26.2.4", "a 32-bit host needs HOST_CR4.PCIDE = 0 and HOST_RIP < 4 GiB");
    return false;
}

void vmx_check_entry(const struct vmcs_reader *reader, const struct vmx_check_env *env,
                     struct entry_verdict *verdict)
{
    struct checker c = {.r = reader, .env = env, .v = verdict};
    *verdict = (struct entry_verdict){.outcome = ENTRY_OK, .section = "26.2-26.4"};
    c.pin = (uint32_t)rd(&c, PIN_BASED_VM_EXEC_CONTROL);
    c.proc = (uint32_t)rd(&c, CPU_BASED_VM_EXEC_CONTROL);
    /* The secondary controls count only when activated (24.6.2). */
    c.proc2 = c.proc & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS
                  ? (uint32_t)rd(&c, SECONDARY_VM_EXEC_CONTROL) : 0;
    c.exit = (uint32_t)rd(&c, VM_EXIT_CONTROLS);
    c.entry = (uint32_t)rd(&c, VM_ENTRY_CONTROLS);
    c.ia32e_guest = c.entry & VM_ENTRY_IA32E_MODE;
    c.unrestricted = c.proc2 & SECONDARY_EXEC_UNRESTRICTED_GUEST;
    c.host64 = c.exit & VM_EXIT_HOST_ADDR_SPACE_SIZE;
    if (check_execution_controls(&c) || check_exit_entry_controls(&c) ||
        check_host_registers(&c) || check_host_segments(&c) || check_guest_state(&c) ||
        check_msr_load(&c))
        return;
    ksnprintf(verdict->why, sizeof(verdict->why), "no violation found in %u checks",
              verdict->checks);
}
