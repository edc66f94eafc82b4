/* guest_state.h: the guest-state area for the ways a guest can start: 64-bit mode with page
 * tables the hypervisor built, or real mode under "unrestricted guest" (SDM Vol. 3C, 24.4). */
#ifndef GUEST_STATE_H
#define GUEST_STATE_H

#include <stdint.h>

#include "vcpu.h"

/* A segment register as the VMCS holds it: selector, base, limit, access rights (24.4.1). */
struct guest_segment {
    uint16_t selector;
    uint64_t base;
    uint32_t limit;
    uint32_t ar;                 /* Table 24-2; AR_UNUSABLE for a null segment */
};

/* Access-rights values used below (type | S << 4 | DPL << 5 | P << 7 | L << 13 | DB << 14 | G << 15). */
#define AR_UNUSABLE          0x10000u
#define AR_CODE64            0xa09bu    /* code, exec/read, accessed, present, L = 1, G = 1 */
#define AR_DATA32            0xc093u    /* data, read/write, accessed, present, D/B = 1, G = 1 */
#define AR_CODE16            0x009bu    /* real-mode code: exec/read, accessed, present */
#define AR_DATA16            0x0093u    /* real-mode data: read/write, accessed, present */
#define AR_TSS_BUSY          0x008bu    /* busy 32/64-bit TSS, present */

enum guest_seg { GUEST_SEG_ES, GUEST_SEG_CS, GUEST_SEG_SS, GUEST_SEG_DS, GUEST_SEG_FS,
                 GUEST_SEG_GS, GUEST_SEG_LDTR, GUEST_SEG_TR };

/* Write one segment register's four fields (they are 2 encodings apart, ES first). */
void guest_set_segment(enum guest_seg seg, const struct guest_segment *s);

/*
 * A 64-bit guest (IA-32e mode, CS.L = 1) with paging on, which every VMX CPU can run:
 * CR0 with PE, PG and what IA32_VMX_CR0_FIXED0 needs, CR4 with PAE (and VMXE, fixed
 * in VMX operation), EFER.LME/LMA, flat segments, TR a busy TSS. cr3 points to page
 * tables the hypervisor built; without EPT they translate straight to host-physical
 * memory. Sets the "IA-32e mode guest" entry control.
 */
void guest_state_long_mode(struct vcpu *vcpu, uint64_t cr3, uint64_t rip, uint64_t rsp);

/*
 * A guest that starts in real mode at cs:ip, as a PC does after its firmware, with
 * CR0.PE = CR0.PG = 0. Only possible with "unrestricted guest" (which needs EPT):
 * returns -1 if this vCPU was built without it. Chapter 07 starts its guests here.
 */
int guest_state_real_mode(struct vcpu *vcpu, uint16_t cs, uint16_t ip, uint16_t sp);

#endif
