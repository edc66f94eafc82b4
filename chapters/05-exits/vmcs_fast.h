/* vmcs_fast.h: VMREAD and VMWRITE for the exit path: the compile-time width checks of vmcs.h,
 * but one instruction and a test each, with no fault recovery, as every exit runs through here. */
#ifndef VMCS_FAST_H
#define VMCS_FAST_H

#include <stdint.h>

#include "vmcs.h"

/*
 * chapter 03's accessors catch a faulting VMREAD (EXTABLE) and decode RFLAGS in a
 * function: right for code that explores, about 25 instructions per field. On the exit
 * path the VMCS is current and every field exists, so a failure is a bug in this code:
 * one SETBE records CF or ZF (VMfailInvalid or VMfailValid, SDM Vol. 3C, 30.2) and a
 * cold function panics with the field's name.
 */
_Noreturn void vmcs_fast_failed(const char *insn, uint32_t field);

static inline __attribute__((always_inline)) uint64_t __vmcs_fast_read(uint32_t field)
{
    uint64_t value;
    uint8_t failed;
    asm volatile("vmread %[field], %[value]\n\tsetbe %[failed]"
                 : [value] "=r"(value), [failed] "=qm"(failed) : [field] "r"((uint64_t)field) : "cc");
    if (__builtin_expect(failed, 0))
        vmcs_fast_failed("VMREAD", field);
    return value;
}

static inline __attribute__((always_inline)) void __vmcs_fast_write(uint32_t field, uint64_t value)
{
    uint8_t failed;
    asm volatile("vmwrite %[value], %[field]\n\tsetbe %[failed]"
                 : [failed] "=qm"(failed) : [field] "r"((uint64_t)field), [value] "r"(value)
                 : "cc", "memory");
    if (__builtin_expect(failed, 0))
        vmcs_fast_failed("VMWRITE", field);
}

#define vmcs_fast_read32(f) \
    (VMCS_CHECK_WIDTH(f, VMCS_IS_U32(f), "vmcs_fast_read32"), (uint32_t)__vmcs_fast_read(f))
#define vmcs_fast_readl(f) \
    (VMCS_CHECK_WIDTH(f, VMCS_IS_NATURAL(f), "vmcs_fast_readl"), __vmcs_fast_read(f))
#define vmcs_fast_write32(f, v) \
    (VMCS_CHECK_WIDTH(f, VMCS_IS_U32(f), "vmcs_fast_write32"), __vmcs_fast_write(f, (uint32_t)(v)))
#define vmcs_fast_writel(f, v) \
    (VMCS_CHECK_WIDTH(f, VMCS_IS_NATURAL(f), "vmcs_fast_writel"), __vmcs_fast_write(f, (uint64_t)(v)))

#endif
