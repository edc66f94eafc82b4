/* guest_state.c: guest-state areas for a 64-bit guest and for a real-mode guest under
 * "unrestricted guest", each passing the checks of SDM Vol. 3C, 26.3.1 by construction. */
#include "guest_state.h"

#include "exercise.h"
#include "kernel.h"
#include "vmx_controls.h"

void guest_set_segment(enum guest_seg seg, const struct guest_segment *s)
{
    uint32_t n = 2 * (uint32_t)seg;
    vmwrite(GUEST_ES_SELECTOR + n, s->selector);
    vmwrite(GUEST_ES_BASE + n, s->base);
    vmwrite(GUEST_ES_LIMIT + n, s->limit);
    vmwrite(GUEST_ES_AR_BYTES + n, s->ar);
}

/* CR0/CR4 as the guest wants them, plus what VMX operation forces (23.8, 26.3.1.1). */
static uint64_t fixed(uint64_t value, uint64_t fixed0, uint64_t fixed1)
{
    return (value | fixed0) & fixed1;
}

static void set_entry_control(struct vcpu *v, uint32_t bit, bool on)
{
    v->controls.entry = on ? v->controls.entry | bit : v->controls.entry & ~bit;
    vmcs_write32(VM_ENTRY_CONTROLS, v->controls.entry);
}

void guest_state_long_mode(struct vcpu *v, uint64_t cr3, uint64_t rip, uint64_t rsp)
{
    set_entry_control(v, VM_ENTRY_IA32E_MODE, true);
    // BEGIN EXERCISE 04-3: the guest-state area of a 64-bit guest
    // Instruction: Write GUEST_CR0 (PE, PG, NE, ET plus the IA32_VMX_CR0_FIXED0 bits) and
    //   GUEST_CR4 (PAE plus the FIXED0 bits); CS a 64-bit code segment (selector 0x08,
    //   AR_CODE64), SS/DS/ES/FS/GS flat data segments (0x10, AR_DATA32, limit 0xffffffff),
    //   LDTR unusable, TR a busy TSS (0x18, AR_TSS_BUSY, limit 0x67); GDTR and IDTR base 0
    //   and limit 0; GUEST_RFLAGS with only bit 1 set.
    // Hint: SDM Vol. 3C, 24.4.1 and 26.3.1.1-26.3.1.4; fixed(), guest_set_segment(), v->caps.
    const struct vmx_caps *caps = v->caps;
    vmcs_writel(GUEST_CR0, fixed(CR0_PE | CR0_PG | CR0_NE | CR0_ET, caps->cr0_fixed0, caps->cr0_fixed1));
    vmcs_writel(GUEST_CR4, fixed(CR4_PAE, caps->cr4_fixed0, caps->cr4_fixed1));
    guest_set_segment(GUEST_SEG_CS, &(struct guest_segment){0x08, 0, 0xffffffff, AR_CODE64});
    for (enum guest_seg s = GUEST_SEG_ES; s <= GUEST_SEG_GS; s++)
        if (s != GUEST_SEG_CS)
            guest_set_segment(s, &(struct guest_segment){0x10, 0, 0xffffffff, AR_DATA32});
    guest_set_segment(GUEST_SEG_LDTR, &(struct guest_segment){0, 0, 0, AR_UNUSABLE});
    guest_set_segment(GUEST_SEG_TR, &(struct guest_segment){0x18, 0, 0x67, AR_TSS_BUSY});
    vmcs_writel(GUEST_GDTR_BASE, 0);
    vmcs_write32(GUEST_GDTR_LIMIT, 0);
    vmcs_writel(GUEST_IDTR_BASE, 0);
    vmcs_write32(GUEST_IDTR_LIMIT, 0);
    vmcs_writel(GUEST_RFLAGS, RFLAGS_FIXED);
    // END EXERCISE 04-3
    /* EFER.LMA must match "IA-32e mode guest" when VM entry loads EFER (26.3.1.1). */
    if (v->controls.entry & VM_ENTRY_LOAD_IA32_EFER)
        vmcs_write64(GUEST_IA32_EFER, EFER_LME | EFER_LMA);
    vmcs_writel(GUEST_CR3, cr3);
    vmcs_writel(GUEST_RIP, rip);
    vmcs_writel(GUEST_RSP, rsp);
}

/*
 * Real mode as a PC's firmware leaves it: CS:IP, segments with 64 KiB limits and
 * bases selector << 4, no paging, no protection. With "unrestricted guest", VM entry
 * accepts CR0.PE = 0 and CR0.PG = 0 (26.3.1.1) and a real-mode CS of type 11 with
 * DPL 0 (26.3.1.2). TR must still be a usable busy TSS: the CPU checks it even though
 * real mode never uses it. The IDT at 0 with limit 0x3ff is the real-mode vector table.
 */
int guest_state_real_mode(struct vcpu *v, uint16_t cs, uint16_t ip, uint16_t sp)
{
    const struct vmx_caps *caps = v->caps;
    if (!(v->controls.proc2 & SECONDARY_EXEC_UNRESTRICTED_GUEST))
        return -1;
    set_entry_control(v, VM_ENTRY_IA32E_MODE, false);
    vmcs_writel(GUEST_CR0, fixed(CR0_NE | CR0_ET, caps->cr0_fixed0 & ~(CR0_PE | CR0_PG),
                                 caps->cr0_fixed1));
    vmcs_writel(GUEST_CR3, 0);
    vmcs_writel(GUEST_CR4, fixed(0, caps->cr4_fixed0, caps->cr4_fixed1));
    if (v->controls.entry & VM_ENTRY_LOAD_IA32_EFER)
        vmcs_write64(GUEST_IA32_EFER, 0);
    guest_set_segment(GUEST_SEG_CS, &(struct guest_segment){cs, (uint64_t)cs << 4, 0xffff, AR_CODE16});
    for (enum guest_seg s = GUEST_SEG_ES; s <= GUEST_SEG_GS; s++)
        if (s != GUEST_SEG_CS)
            guest_set_segment(s, &(struct guest_segment){0, 0, 0xffff, AR_DATA16});
    guest_set_segment(GUEST_SEG_LDTR, &(struct guest_segment){0, 0, 0xffff, AR_UNUSABLE});
    guest_set_segment(GUEST_SEG_TR, &(struct guest_segment){0, 0, 0xffff, AR_TSS_BUSY});
    vmcs_writel(GUEST_GDTR_BASE, 0);
    vmcs_write32(GUEST_GDTR_LIMIT, 0xffff);
    vmcs_writel(GUEST_IDTR_BASE, 0);
    vmcs_write32(GUEST_IDTR_LIMIT, 0x3ff);
    vmcs_writel(GUEST_RIP, ip);
    vmcs_writel(GUEST_RSP, sp);
    vmcs_writel(GUEST_RFLAGS, RFLAGS_FIXED);
    return 0;
}
