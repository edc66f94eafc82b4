/* vmcs.h: the current VMCS: making one current (region, VMCLEAR, VMPTRLD) and accessing
 * its fields through Linux-style accessors whose width is checked at compile time. */
#ifndef VMCS_H
#define VMCS_H

#include <stdint.h>

#include "vmcs_field.h"
#include "vmx_caps.h"
#include "vmx_insn.h"

/* A VMCS region (SDM Vol. 3C, 24.2) and its physical address, the VMCS pointer. */
struct vmcs {
    void *region;
    uint64_t pa;
};

/* A new VMCS, initialized with VMCLEAR and made current with VMPTRLD (24.11.3). */
void vmcs_create(const struct vmx_caps *caps, struct vmcs *vmcs);
void vmcs_clear(const struct vmcs *vmcs);     /* VMCLEAR, panics with the error's name */
void vmcs_load(const struct vmcs *vmcs);      /* VMPTRLD, panics with the error's name */
uint64_t vmcs_current(void);                  /* VMPTRST: ~0 when no VMCS is current */
/* After a failed VMX instruction: the VM-instruction error (VMfailValid), else 0. */
uint32_t vmcs_instruction_error(enum vmx_status s);
#define VMCS_NONE (~0ull)

/*
 * Field access. vmcs_read16(GUEST_CS_SELECTOR) compiles; vmcs_read16(GUEST_RIP)
 * does not: a natural-width field read as 16 bits would silently lose bits 63:16.
 * Like Linux's vmcs_check16/32/64/l, the width comes from the encoding itself
 * (bits 14:13), here with a static assertion, so the field must be a constant.
 * The 32-bit accessors also take a 64-bit field's _HIGH half, a 32-bit access.
 * For a field only known at run time, use vmread()/vmwrite() of vmx_insn.h.
 */
#define VMCS_IS_U16(f) (VMCS_FIELD_WIDTH(f) == VMCS_FIELD_WIDTH_U16)
#define VMCS_IS_U32(f)                                                       \
    (VMCS_FIELD_WIDTH(f) == VMCS_FIELD_WIDTH_U32 ||                          \
     (VMCS_FIELD_WIDTH(f) == VMCS_FIELD_WIDTH_U64 && VMCS_FIELD_ACCESS_HIGH(f)))
#define VMCS_IS_U64(f) (VMCS_FIELD_WIDTH(f) == VMCS_FIELD_WIDTH_U64 && !VMCS_FIELD_ACCESS_HIGH(f))
#define VMCS_IS_NATURAL(f) (VMCS_FIELD_WIDTH(f) == VMCS_FIELD_WIDTH_NATURAL_WIDTH)

#define VMCS_CHECK_WIDTH(f, ok, accessor)                                    \
    ((void)sizeof(struct {                                                   \
        _Static_assert(ok, accessor ": " #f " is a field of another width"); \
        int vmcs_check_;                                                     \
    }))

uint64_t __vmcs_readl(uint32_t field);
void __vmcs_writel(uint32_t field, uint64_t value);

#define vmcs_read16(f) (VMCS_CHECK_WIDTH(f, VMCS_IS_U16(f), "vmcs_read16"), (uint16_t)__vmcs_readl(f))
#define vmcs_read32(f) (VMCS_CHECK_WIDTH(f, VMCS_IS_U32(f), "vmcs_read32"), (uint32_t)__vmcs_readl(f))
#define vmcs_read64(f) (VMCS_CHECK_WIDTH(f, VMCS_IS_U64(f), "vmcs_read64"), (uint64_t)__vmcs_readl(f))
#define vmcs_readl(f) (VMCS_CHECK_WIDTH(f, VMCS_IS_NATURAL(f), "vmcs_readl"), __vmcs_readl(f))

#define vmcs_write16(f, v) \
    (VMCS_CHECK_WIDTH(f, VMCS_IS_U16(f), "vmcs_write16"), __vmcs_writel(f, (uint16_t)(v)))
#define vmcs_write32(f, v) \
    (VMCS_CHECK_WIDTH(f, VMCS_IS_U32(f), "vmcs_write32"), __vmcs_writel(f, (uint32_t)(v)))
#define vmcs_write64(f, v) \
    (VMCS_CHECK_WIDTH(f, VMCS_IS_U64(f), "vmcs_write64"), __vmcs_writel(f, (uint64_t)(v)))
#define vmcs_writel(f, v) \
    (VMCS_CHECK_WIDTH(f, VMCS_IS_NATURAL(f), "vmcs_writel"), __vmcs_writel(f, (uint64_t)(v)))

/* Read-modify-write helpers for control words. */
#define vmcs_set_bits32(f, bits) vmcs_write32(f, vmcs_read32(f) | (bits))
#define vmcs_clear_bits32(f, bits) vmcs_write32(f, vmcs_read32(f) & ~(uint32_t)(bits))

/*
 * Print every field of the current VMCS whose type is in types_mask
 * (1 << VMCS_FIELD_TYPE_*), name = value, skipping fields the CPU lacks.
 */
void vmcs_dump(unsigned types_mask);
#define VMCS_DUMP_ALL 0xfu

#endif
