/* vmx_check_guest.c: the checks VM entry makes on the guest-state area (SDM Vol. 3C, 26.3.1)
 * and the VM-entry MSR-load list (26.4); a failure is a VM exit with reason 33 or 34. */
#include "printf.h"
#include "vmx_check_priv.h"
#include "vmx_controls.h"
#include "x86.h"

/* Access-rights fields (SDM Vol. 3C, 24.4.1, Table 24-2). */
#define AR_TYPE(ar)     ((ar) & 0xfu)
#define AR_S(ar)        (((ar) >> 4) & 1u)
#define AR_DPL(ar)      (((ar) >> 5) & 3u)
#define AR_P(ar)        (((ar) >> 7) & 1u)
#define AR_L(ar)        (((ar) >> 13) & 1u)
#define AR_DB(ar)       (((ar) >> 14) & 1u)
#define AR_G(ar)        (((ar) >> 15) & 1u)
#define AR_UNUSABLE(ar) (((ar) >> 16) & 1u)
#define AR_RESERVED     0xfffe0f00u

enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR, SEG_COUNT };
static const char *const seg_names[SEG_COUNT] = {"ES", "CS", "SS", "DS", "FS", "GS", "LDTR", "TR"};

struct seg {
    uint16_t sel;
    uint64_t base;
    uint32_t limit, ar;
};

/* The eight segment registers' fields are laid out in this order, 2 encodings apart. */
static void read_segments(struct checker *c, struct seg *s)
{
    for (int n = 0; n < SEG_COUNT; n++)
        s[n] = (struct seg){
            .sel = (uint16_t)rd(c, GUEST_ES_SELECTOR + 2 * n),
            .base = rd(c, GUEST_ES_BASE + 2 * n),
            .limit = (uint32_t)rd(c, GUEST_ES_LIMIT + 2 * n),
            .ar = (uint32_t)rd(c, GUEST_ES_AR_BYTES + 2 * n),
        };
}

/* 26.3.1.1: control registers, debug registers, MSRs. */
static bool check_guest_registers(struct checker *c)
{
    const struct vmx_caps *caps = c->env->caps;
    uint64_t cr0 = rd(c, GUEST_CR0), cr4 = rd(c, GUEST_CR4), fixed0 = caps->cr0_fixed0;
    const char *s = "26.3.1.1";
    if (c->unrestricted)
        fixed0 &= ~(CR0_PE | CR0_PG);      /* unrestricted guest: real mode, paging off allowed */
    if (counted(c, (cr0 & fixed0) != fixed0 || (cr0 & ~caps->cr0_fixed1)))
        return FAIL_GUEST(c, s, "GUEST_CR0 0x%lx: IA32_VMX_CR0_FIXED0 needs bits 0x%lx set%s",
                          cr0, fixed0, c->unrestricted ? "" : " (PE and PG may be 0 only with "
                          "\"unrestricted guest\")");
    if (counted(c, c->unrestricted && (cr0 & CR0_PG) && !(cr0 & CR0_PE)))
        return FAIL_GUEST(c, s, "GUEST_CR0 0x%lx: paging without protected mode", cr0);
    if (counted(c, (cr4 & caps->cr4_fixed0) != caps->cr4_fixed0 || (cr4 & ~caps->cr4_fixed1)))
        return FAIL_GUEST(c, s, "GUEST_CR4 0x%lx: IA32_VMX_CR4_FIXED0 needs 0x%lx set (VMXE, in "
                          "the guest too), FIXED1 0x%lx allows nothing else", cr4,
                          caps->cr4_fixed0, caps->cr4_fixed1);
    if (counted(c, (c->entry & VM_ENTRY_LOAD_DEBUG_CONTROLS) && (rd(c, GUEST_DR7) >> 32)))
        return FAIL_GUEST(c, s, "GUEST_DR7 bits 63:32 must be 0");
    if (counted(c, c->ia32e_guest && (!(cr0 & CR0_PG) || !(cr4 & CR4_PAE))))
        return FAIL_GUEST(c, s, "\"IA-32e mode guest\" needs CR0.PG = 1 and CR4.PAE = 1");
    if (counted(c, !c->ia32e_guest && (cr4 & CR4_PCIDE)))
        return FAIL_GUEST(c, s, "CR4.PCIDE = 1 needs \"IA-32e mode guest\"");
    if (counted(c, !fits_phys(c, rd(c, GUEST_CR3))))
        return FAIL_GUEST(c, s, "GUEST_CR3 0x%lx is beyond the physical-address width", rd(c, GUEST_CR3));
    if (counted(c, !is_canonical(rd(c, GUEST_SYSENTER_ESP)) || !is_canonical(rd(c, GUEST_SYSENTER_EIP))))
        return FAIL_GUEST(c, s, "GUEST_SYSENTER_ESP/EIP must be canonical");
    if (counted(c, (c->entry & VM_ENTRY_LOAD_IA32_PAT) && !pat_ok(rd(c, GUEST_IA32_PAT))))
        return FAIL_GUEST(c, s, "GUEST_IA32_PAT 0x%lx holds an invalid memory type", rd(c, GUEST_IA32_PAT));
    if (c->entry & VM_ENTRY_LOAD_IA32_EFER) {
        uint64_t efer = rd(c, GUEST_IA32_EFER);
        bool lma = efer & EFER_LMA, lme = efer & EFER_LME;
        if (counted(c, (efer & ~EFER_VALID_BITS) || lma != c->ia32e_guest ||
                       ((cr0 & CR0_PG) && lme != lma)))
            return FAIL_GUEST(c, s, "GUEST_IA32_EFER 0x%lx: reserved bits, or LMA differs from "
                              "\"IA-32e mode guest\" (%d), or LME from LMA with paging on",
                              efer, c->ia32e_guest);
    }
    return false;
}

/* Limit and granularity agree (26.3.1.2): G = 0 needs limit[31:20] = 0, G = 1 limit[11:0] = 0xfff. */
static bool limit_ok(const struct seg *s)
{
    if ((s->limit & 0xfff) != 0xfff && AR_G(s->ar))
        return false;
    if ((s->limit & 0xfff00000u) && !AR_G(s->ar))
        return false;
    return true;
}

/* What every usable code/data segment, TR and LDTR share: P, reserved bits, G/limit. */
static bool check_common_ar(struct checker *c, const struct seg *s, int n)
{
    if (counted(c, !AR_P(s->ar)))
        return FAIL_GUEST(c, "26.3.1.2", "guest %s access rights 0x%x: not present (bit 7 P = 0)",
                          seg_names[n], s->ar);
    if (counted(c, s->ar & AR_RESERVED))
        return FAIL_GUEST(c, "26.3.1.2", "guest %s access rights 0x%x: reserved bits 11:8 or "
                          "31:17 set", seg_names[n], s->ar);
    if (counted(c, !limit_ok(s)))
        return FAIL_GUEST(c, "26.3.1.2", "guest %s limit 0x%x does not agree with G = %u",
                          seg_names[n], s->limit, AR_G(s->ar));
    return false;
}

static bool check_code_data_ar(struct checker *c, const struct seg *seg)
{
    const struct seg *cs = &seg[SEG_CS], *ss = &seg[SEG_SS];
    unsigned cs_type = AR_TYPE(cs->ar);
    bool pe = rd(c, GUEST_CR0) & CR0_PE;
    const char *s = "26.3.1.2";
    if (counted(c, !(cs_type == 9 || cs_type == 11 || cs_type == 13 || cs_type == 15 ||
                     (c->unrestricted && cs_type == 3))))
        return FAIL_GUEST(c, s, "guest CS access rights 0x%x: type %u is not an accessed code "
                          "segment (9, 11, 13, 15; or 3 with unrestricted guest)", cs->ar, cs_type);
    if (counted(c, !AR_S(cs->ar)))
        return FAIL_GUEST(c, s, "guest CS access rights 0x%x: S = 0 (a system segment)", cs->ar);
    if (counted(c, (cs_type == 3 && AR_DPL(cs->ar) != 0) ||
                   ((cs_type == 9 || cs_type == 11) && AR_DPL(cs->ar) != AR_DPL(ss->ar)) ||
                   ((cs_type == 13 || cs_type == 15) && AR_DPL(cs->ar) > AR_DPL(ss->ar))))
        return FAIL_GUEST(c, s, "guest CS DPL %u does not fit SS DPL %u for CS type %u",
                          AR_DPL(cs->ar), AR_DPL(ss->ar), cs_type);
    if (check_common_ar(c, cs, SEG_CS))
        return true;
    if (counted(c, c->ia32e_guest && AR_L(cs->ar) && AR_DB(cs->ar)))
        return FAIL_GUEST(c, s, "guest CS has L = 1 and D = 1 (not allowed in IA-32e mode)");
    if (!AR_UNUSABLE(ss->ar)) {
        if (counted(c, AR_TYPE(ss->ar) != 3 && AR_TYPE(ss->ar) != 7))
            return FAIL_GUEST(c, s, "guest SS access rights 0x%x: type %u is not a read/write "
                              "accessed data segment (3 or 7)", ss->ar, AR_TYPE(ss->ar));
        if (counted(c, !AR_S(ss->ar)))
            return FAIL_GUEST(c, s, "guest SS access rights 0x%x: S = 0", ss->ar);
        if (check_common_ar(c, ss, SEG_SS))
            return true;
    }
    if (counted(c, !c->unrestricted && AR_DPL(ss->ar) != (ss->sel & 3u)))
        return FAIL_GUEST(c, s, "guest SS DPL %u differs from SS.RPL %u", AR_DPL(ss->ar), ss->sel & 3u);
    if (counted(c, (cs_type == 3 || !pe) && AR_DPL(ss->ar) != 0))
        return FAIL_GUEST(c, s, "guest SS DPL must be 0 in real mode or with a data-type CS");
    for (int n = SEG_ES; n <= SEG_GS; n++) {
        const struct seg *d = &seg[n];
        if (n == SEG_CS || n == SEG_SS || AR_UNUSABLE(d->ar))
            continue;
        if (counted(c, !(AR_TYPE(d->ar) & 1) || ((AR_TYPE(d->ar) & 8) && !(AR_TYPE(d->ar) & 2))))
            return FAIL_GUEST(c, s, "guest %s access rights 0x%x: type %u is not accessed, or an "
                              "unreadable code segment", seg_names[n], d->ar, AR_TYPE(d->ar));
        if (counted(c, !AR_S(d->ar)))
            return FAIL_GUEST(c, s, "guest %s access rights 0x%x: S = 0", seg_names[n], d->ar);
        if (counted(c, !c->unrestricted && AR_TYPE(d->ar) <= 11 && AR_DPL(d->ar) < (d->sel & 3u)))
            return FAIL_GUEST(c, s, "guest %s DPL %u is below its RPL %u", seg_names[n],
                              AR_DPL(d->ar), d->sel & 3u);
        if (check_common_ar(c, d, n))
            return true;
    }
    return false;
}

static bool check_system_segments(struct checker *c, const struct seg *seg)
{
    const struct seg *tr = &seg[SEG_TR], *ldtr = &seg[SEG_LDTR];
    unsigned t = AR_TYPE(tr->ar);
    if (counted(c, AR_UNUSABLE(tr->ar) || (t != 11 && (c->ia32e_guest || t != 3)) || AR_S(tr->ar)))
        return FAIL_GUEST(c, "26.3.1.2", "guest TR access rights 0x%x: TR must be usable, a busy "
                          "TSS (type 11, or 3 outside IA-32e mode) with S = 0", tr->ar);
    if (check_common_ar(c, tr, SEG_TR))
        return true;
    if (!AR_UNUSABLE(ldtr->ar)) {
        if (counted(c, AR_TYPE(ldtr->ar) != 2 || AR_S(ldtr->ar)))
            return FAIL_GUEST(c, "26.3.1.2", "guest LDTR access rights 0x%x: a usable LDTR has "
                              "type 2 and S = 0", ldtr->ar);
        if (check_common_ar(c, ldtr, SEG_LDTR))
            return true;
    }
    return false;
}

/* 26.3.1.2: selectors, bases, limits and access rights of the eight segment registers. */
static bool check_guest_segments(struct checker *c, const struct seg *seg, bool v86)
{
    const char *s = "26.3.1.2";
    if (counted(c, (seg[SEG_TR].sel & 4) || (!AR_UNUSABLE(seg[SEG_LDTR].ar) && (seg[SEG_LDTR].sel & 4))))
        return FAIL_GUEST(c, s, "guest TR (or usable LDTR) selector has TI = 1");
    if (counted(c, !v86 && !c->unrestricted && (seg[SEG_SS].sel & 3) != (seg[SEG_CS].sel & 3)))
        return FAIL_GUEST(c, s, "guest SS.RPL %u differs from CS.RPL %u", seg[SEG_SS].sel & 3,
                          seg[SEG_CS].sel & 3);
    if (counted(c, !is_canonical(seg[SEG_TR].base) || !is_canonical(seg[SEG_FS].base) ||
                   !is_canonical(seg[SEG_GS].base) ||
                   (!AR_UNUSABLE(seg[SEG_LDTR].ar) && !is_canonical(seg[SEG_LDTR].base))))
        return FAIL_GUEST(c, s, "a guest TR/FS/GS/LDTR base is not canonical");
    for (int n = SEG_ES; n <= SEG_DS; n++)
        if (counted(c, (n == SEG_CS || !AR_UNUSABLE(seg[n].ar)) && (seg[n].base >> 32)))
            return FAIL_GUEST(c, s, "guest %s base 0x%lx: bits 63:32 must be 0", seg_names[n],
                              seg[n].base);
    if (v86) {
        for (int n = SEG_ES; n <= SEG_GS; n++)
            if (counted(c, seg[n].base != (uint64_t)seg[n].sel << 4 || seg[n].limit != 0xffff ||
                           seg[n].ar != 0xf3))
                return FAIL_GUEST(c, s, "virtual-8086 guest %s: base must be selector << 4, limit "
                                  "0xffff, access rights 0xf3", seg_names[n]);
    } else if (check_code_data_ar(c, seg)) {
        return true;
    }
    return check_system_segments(c, seg);
}

/* 26.3.1.3 and 26.3.1.4: descriptor-table registers, RIP and RFLAGS. */
static bool check_tables_rip_rflags(struct checker *c, const struct seg *seg)
{
    uint64_t rip = rd(c, GUEST_RIP), rflags = rd(c, GUEST_RFLAGS);
    uint32_t intr = (uint32_t)rd(c, VM_ENTRY_INTR_INFO_FIELD);
    bool long_cs = c->ia32e_guest && AR_L(seg[SEG_CS].ar);
    if (counted(c, !is_canonical(rd(c, GUEST_GDTR_BASE)) || !is_canonical(rd(c, GUEST_IDTR_BASE))))
        return FAIL_GUEST(c, "26.3.1.3", "guest GDTR/IDTR base is not canonical");
    if (counted(c, (rd(c, GUEST_GDTR_LIMIT) >> 16) || (rd(c, GUEST_IDTR_LIMIT) >> 16)))
        return FAIL_GUEST(c, "26.3.1.3", "guest GDTR/IDTR limit bits 31:16 must be 0");
    if (counted(c, long_cs ? !is_canonical(rip) : (rip >> 32) != 0))
        return FAIL_GUEST(c, "26.3.1.4", "GUEST_RIP 0x%lx: %s", rip, long_cs ? "not canonical" :
                          "bits 63:32 must be 0 outside 64-bit mode");
    if (counted(c, rflags & 0xffffffffffc08028ull))
        return FAIL_GUEST(c, "26.3.1.4", "GUEST_RFLAGS 0x%lx: reserved bits 63:22, 15, 5 or 3 set",
                          rflags);
    if (counted(c, !(rflags & RFLAGS_FIXED)))
        return FAIL_GUEST(c, "26.3.1.4", "GUEST_RFLAGS 0x%lx: bit 1 must be 1", rflags);
    if (counted(c, (rflags & RFLAGS_VM) && (c->ia32e_guest || !(rd(c, GUEST_CR0) & CR0_PE))))
        return FAIL_GUEST(c, "26.3.1.4", "GUEST_RFLAGS.VM = 1 in IA-32e mode or real mode");
    if (counted(c, (intr & 0x80000000u) && ((intr >> 8) & 7) == 0 && !(rflags & RFLAGS_IF)))
        return FAIL_GUEST(c, "26.3.1.4", "injecting an external interrupt with GUEST_RFLAGS.IF = 0");
    return false;
}

/* 26.3.1.5: activity and interruptibility state, pending debug exceptions, link pointer. */
static bool check_non_register_state(struct checker *c, const struct seg *seg)
{
    uint64_t activity = rd(c, GUEST_ACTIVITY_STATE), intr_state = rd(c, GUEST_INTERRUPTIBILITY_INFO);
    uint64_t rflags = rd(c, GUEST_RFLAGS), link = rd(c, VMCS_LINK_POINTER);
    uint32_t supported = VMX_MISC_ACTIVITY_STATES(c->env->caps->misc);   /* bit n-1: state n */
    uint32_t event = (uint32_t)rd(c, VM_ENTRY_INTR_INFO_FIELD);
    const char *s = "26.3.1.5";
    if (counted(c, activity > 3 || (activity && !(supported & (1u << (activity - 1))))))
        return FAIL_GUEST(c, s, "GUEST_ACTIVITY_STATE %lu: not an activity state this CPU has "
                          "(0 active; 1 HLT, 2 shutdown, 3 wait-for-SIPI as IA32_VMX_MISC[8:6] "
                          "allows)", activity);
    if (counted(c, activity == 1 && AR_DPL(seg[SEG_SS].ar) != 0))
        return FAIL_GUEST(c, s, "the HLT activity state needs SS.DPL = 0");
    if (counted(c, intr_state & ~0x1full))
        return FAIL_GUEST(c, s, "GUEST_INTERRUPTIBILITY_INFO 0x%lx: reserved bits 31:5 set", intr_state);
    if (counted(c, (intr_state & 3) == 3))
        return FAIL_GUEST(c, s, "blocking by STI and by MOV SS cannot both be set");
    if (counted(c, (intr_state & 1) && !(rflags & RFLAGS_IF)))
        return FAIL_GUEST(c, s, "blocking by STI with GUEST_RFLAGS.IF = 0: an STI that left IF 0 "
                          "blocks nothing");
    if (counted(c, (intr_state & 3) && activity != 0))
        return FAIL_GUEST(c, s, "STI/MOV-SS blocking needs the active activity state");
    if (counted(c, intr_state & 4))
        return FAIL_GUEST(c, s, "blocking by SMI outside SMM");
    if (counted(c, (event & 0x80000000u) && ((event >> 8) & 7) <= 2 && (intr_state & 3)))
        return FAIL_GUEST(c, s, "injecting an interrupt or NMI while blocked by STI or MOV SS");
    if (counted(c, rd(c, GUEST_PENDING_DBG_EXCEPTIONS) & 0xffffffffffffaff0ull))
        return FAIL_GUEST(c, s, "GUEST_PENDING_DBG_EXCEPTIONS: reserved bits set");
    if (link != ~0ull) {
        uint32_t want = VMX_BASIC_REVISION(c->env->caps->basic);
        bool shadow = c->proc2 & SECONDARY_EXEC_SHADOW_VMCS;
        uint32_t found = (uint32_t)c->r->read_phys(c->r->ctx, link & ~0xfffull);
        const char *why = !page_address_ok(c, link) ? "not 4 KiB aligned or beyond the width"
                        : (found & 0x7fffffffu) != want || (found >> 31) != shadow
                            ? "it does not point at a VMCS with this CPU's revision id"
                        : link == c->env->current_vmcs ? "it is the current VMCS itself" : NULL;
        if (counted(c, why != NULL))
            return check_fail(c, ENTRY_FAIL_EXIT, EXIT_REASON_INVALID_STATE, ENTRY_FAIL_VMCS_LINK_PTR,
                              s, "VMCS_LINK_POINTER 0x%lx: %s (set it to ~0 when there is no "
                              "shadow VMCS)", link, why);
    }
    return false;
}

bool check_guest_state(struct checker *c)
{
    struct seg seg[SEG_COUNT];
    read_segments(c, seg);
    bool v86 = (rd(c, GUEST_RFLAGS) & RFLAGS_VM) && !c->ia32e_guest && (rd(c, GUEST_CR0) & CR0_PE);
    return check_guest_registers(c) || check_guest_segments(c, seg, v86) ||
           check_tables_rip_rflags(c, seg) || check_non_register_state(c, seg);
}

/*
 * 26.4: the VM-entry MSR-load list, 16 bytes per entry: MSR index in bits 31:0,
 * reserved bits 63:32, the value in bits 127:64. A failure is exit reason 34 with
 * the 1-based number of the failing entry as qualification.
 */
bool check_msr_load(struct checker *c)
{
    uint64_t n = rd(c, VM_ENTRY_MSR_LOAD_COUNT), pa = rd(c, VM_ENTRY_MSR_LOAD_ADDR);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t lo = c->r->read_phys(c->r->ctx, pa + 16 * i);
        uint32_t msr = (uint32_t)lo;
        const char *why = (lo >> 32) ? "reserved bits 63:32 are set"
                        : msr == MSR_FS_BASE || msr == MSR_GS_BASE ? "IA32_FS_BASE and IA32_GS_BASE "
                          "cannot be loaded this way (use GUEST_FS_BASE/GUEST_GS_BASE)"
                        : (msr >> 8) == 0x8 ? "x2APIC MSRs (0x800-0x8ff) cannot be loaded this way"
                        : msr == 0x9b ? "IA32_SMM_MONITOR_CTL can be written only in SMM" : NULL;
        if (counted(c, why != NULL))
            return check_fail(c, ENTRY_FAIL_EXIT, EXIT_REASON_MSR_LOAD_FAIL, i + 1, "26.4",
                              "VM-entry MSR-load entry %lu (MSR 0x%x): %s", i + 1, msr, why);
    }
    return false;
}
