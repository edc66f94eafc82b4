/* ept_vmx.h: the two invalidation instructions of EPT and VPID (SDM Vol. 3C, 30.3 INVEPT and
 * INVVPID, 28.3.3): cached guest-physical and linear translations to drop after a change. */
#ifndef EPT_VMX_H
#define EPT_VMX_H

#include <stdint.h>

#include "vmx_insn.h"

/* INVEPT types (30.3): 1 single-context (one EPTP), 2 all-context. 0 and 3 are reserved. */
#define VMX_EPT_EXTENT_CONTEXT     1
#define VMX_EPT_EXTENT_GLOBAL      2
/* INVVPID types: 0 one linear address, 1 single-context, 2 all-context, 3 single-context
 * retaining global translations. */
#define VMX_VPID_EXTENT_INDIVIDUAL_ADDR       0
#define VMX_VPID_EXTENT_SINGLE_CONTEXT        1
#define VMX_VPID_EXTENT_ALL_CONTEXT           2
#define VMX_VPID_EXTENT_SINGLE_NON_GLOBAL     3

static inline enum vmx_status invept(uint64_t type, uint64_t eptp)
{
    struct { uint64_t eptp, reserved; } desc = {eptp, 0};
    return VMX_INSN("invept %[desc], %[type]", : [desc] "m"(desc), [type] "r"(type) : "cc", "memory");
}

static inline enum vmx_status invvpid(uint64_t type, uint16_t vpid, uint64_t linear)
{
    struct { uint64_t vpid, linear; } desc = {vpid, linear};
    return VMX_INSN("invvpid %[desc], %[type]", : [desc] "m"(desc), [type] "r"(type) : "cc", "memory");
}

#endif
