/* vmcs_field.h: every VMCS field encoding of SDM Vol. 3D, Appendix B, named as Linux's
 * arch/x86/include/asm/vmx.h names them, and the bits of an encoding decoded (24.11.2). */
#ifndef VMCS_FIELD_H
#define VMCS_FIELD_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A field encoding is a 32-bit number (SDM Vol. 3C, 24.11.2, Table 24-17):
 *
 *   31      15 14  13 12 11  10 9          1   0
 *   +---------+------+--+------+------------+------+
 *   | reserved| width| 0| type |   index    |access|
 *   +---------+------+--+------+------------+------+
 *   width: 0 16-bit, 1 64-bit, 2 32-bit, 3 natural-width (64 bits in 64-bit mode)
 *   type:  0 control, 1 VM-exit information (read-only), 2 guest state, 3 host state
 *   access (64-bit fields only): 0 the whole field, 1 its high 32 bits ("_HIGH")
 */
#define VMCS_FIELD_ACCESS_HIGH(f) ((unsigned)(f) & 1u)
#define VMCS_FIELD_INDEX(f)       (((unsigned)(f) >> 1) & 0x1ffu)
#define VMCS_FIELD_TYPE(f)        (((unsigned)(f) >> 10) & 3u)
#define VMCS_FIELD_WIDTH(f)       (((unsigned)(f) >> 13) & 3u)
#define VMCS_FIELD_RESERVED_BITS  0xffff9000u

enum vmcs_field_width {
    VMCS_FIELD_WIDTH_U16 = 0,
    VMCS_FIELD_WIDTH_U64 = 1,
    VMCS_FIELD_WIDTH_U32 = 2,
    VMCS_FIELD_WIDTH_NATURAL_WIDTH = 3,
};

enum vmcs_field_type {
    VMCS_FIELD_TYPE_CONTROL = 0,
    VMCS_FIELD_TYPE_READ_ONLY_DATA = 1,   /* VM-exit information */
    VMCS_FIELD_TYPE_GUEST = 2,
    VMCS_FIELD_TYPE_HOST = 3,
};

/*
 * The fields, as one list (an "X macro") so that the enum and the table of names
 * in vmcs_fields.c cannot disagree. F16/F32/FN: one encoding; F64: the field and
 * its _HIGH half. Grouped as SDM Vol. 3D, B.1-B.4. Fields marked "later" were
 * added to the SDM after revision 059 (Bochs' newer models have some of them).
 */
#define VMCS_FIELD_LIST(F16, F64, F32, FN)                                     \
    /* B.1.1 16-bit control fields */                                          \
    F16(VIRTUAL_PROCESSOR_ID, 0x0000)                                          \
    F16(POSTED_INTR_NV, 0x0002)                                                \
    F16(EPTP_INDEX, 0x0004)                                                    \
    /* B.1.2 16-bit guest-state fields */                                      \
    F16(GUEST_ES_SELECTOR, 0x0800)                                             \
    F16(GUEST_CS_SELECTOR, 0x0802)                                             \
    F16(GUEST_SS_SELECTOR, 0x0804)                                             \
    F16(GUEST_DS_SELECTOR, 0x0806)                                             \
    F16(GUEST_FS_SELECTOR, 0x0808)                                             \
    F16(GUEST_GS_SELECTOR, 0x080a)                                             \
    F16(GUEST_LDTR_SELECTOR, 0x080c)                                           \
    F16(GUEST_TR_SELECTOR, 0x080e)                                             \
    F16(GUEST_INTR_STATUS, 0x0810)                                             \
    F16(GUEST_PML_INDEX, 0x0812)                                               \
    /* B.1.3 16-bit host-state fields */                                       \
    F16(HOST_ES_SELECTOR, 0x0c00)                                              \
    F16(HOST_CS_SELECTOR, 0x0c02)                                              \
    F16(HOST_SS_SELECTOR, 0x0c04)                                              \
    F16(HOST_DS_SELECTOR, 0x0c06)                                              \
    F16(HOST_FS_SELECTOR, 0x0c08)                                              \
    F16(HOST_GS_SELECTOR, 0x0c0a)                                              \
    F16(HOST_TR_SELECTOR, 0x0c0c)                                              \
    /* B.2.1 64-bit control fields */                                          \
    F64(IO_BITMAP_A, 0x2000)                                                   \
    F64(IO_BITMAP_B, 0x2002)                                                   \
    F64(MSR_BITMAP, 0x2004)                                                    \
    F64(VM_EXIT_MSR_STORE_ADDR, 0x2006)                                        \
    F64(VM_EXIT_MSR_LOAD_ADDR, 0x2008)                                         \
    F64(VM_ENTRY_MSR_LOAD_ADDR, 0x200a)                                        \
    F64(EXECUTIVE_VMCS_POINTER, 0x200c)                                        \
    F64(PML_ADDRESS, 0x200e)                                                   \
    F64(TSC_OFFSET, 0x2010)                                                    \
    F64(VIRTUAL_APIC_PAGE_ADDR, 0x2012)                                        \
    F64(APIC_ACCESS_ADDR, 0x2014)                                              \
    F64(POSTED_INTR_DESC_ADDR, 0x2016)                                         \
    F64(VM_FUNCTION_CONTROL, 0x2018)                                           \
    F64(EPT_POINTER, 0x201a)                                                   \
    F64(EOI_EXIT_BITMAP0, 0x201c)                                              \
    F64(EOI_EXIT_BITMAP1, 0x201e)                                              \
    F64(EOI_EXIT_BITMAP2, 0x2020)                                              \
    F64(EOI_EXIT_BITMAP3, 0x2022)                                              \
    F64(EPTP_LIST_ADDRESS, 0x2024)                                             \
    F64(VMREAD_BITMAP, 0x2026)                                                 \
    F64(VMWRITE_BITMAP, 0x2028)                                                \
    F64(VE_INFORMATION_ADDRESS, 0x202a)                                        \
    F64(XSS_EXIT_BITMAP, 0x202c)                                               \
    F64(ENCLS_EXITING_BITMAP, 0x202e)                                          \
    F64(SPP_TABLE_POINTER, 0x2030)                  /* later */                \
    F64(TSC_MULTIPLIER, 0x2032)                                                \
    /* B.2.2 64-bit read-only data field */                                    \
    F64(GUEST_PHYSICAL_ADDRESS, 0x2400)                                        \
    /* B.2.3 64-bit guest-state fields */                                      \
    F64(VMCS_LINK_POINTER, 0x2800)                                             \
    F64(GUEST_IA32_DEBUGCTL, 0x2802)                                           \
    F64(GUEST_IA32_PAT, 0x2804)                                                \
    F64(GUEST_IA32_EFER, 0x2806)                                               \
    F64(GUEST_IA32_PERF_GLOBAL_CTRL, 0x2808)                                   \
    F64(GUEST_PDPTR0, 0x280a)                                                  \
    F64(GUEST_PDPTR1, 0x280c)                                                  \
    F64(GUEST_PDPTR2, 0x280e)                                                  \
    F64(GUEST_PDPTR3, 0x2810)                                                  \
    F64(GUEST_BNDCFGS, 0x2812)                                                 \
    F64(GUEST_IA32_RTIT_CTL, 0x2814)                /* later */                \
    F64(GUEST_IA32_PKRS, 0x2818)                    /* later */                \
    /* B.2.4 64-bit host-state fields */                                       \
    F64(HOST_IA32_PAT, 0x2c00)                                                 \
    F64(HOST_IA32_EFER, 0x2c02)                                                \
    F64(HOST_IA32_PERF_GLOBAL_CTRL, 0x2c04)                                    \
    F64(HOST_IA32_PKRS, 0x2c06)                     /* later */                \
    /* B.3.1 32-bit control fields */                                          \
    F32(PIN_BASED_VM_EXEC_CONTROL, 0x4000)                                     \
    F32(CPU_BASED_VM_EXEC_CONTROL, 0x4002)                                     \
    F32(EXCEPTION_BITMAP, 0x4004)                                              \
    F32(PAGE_FAULT_ERROR_CODE_MASK, 0x4006)                                    \
    F32(PAGE_FAULT_ERROR_CODE_MATCH, 0x4008)                                   \
    F32(CR3_TARGET_COUNT, 0x400a)                                              \
    F32(VM_EXIT_CONTROLS, 0x400c)                                              \
    F32(VM_EXIT_MSR_STORE_COUNT, 0x400e)                                       \
    F32(VM_EXIT_MSR_LOAD_COUNT, 0x4010)                                        \
    F32(VM_ENTRY_CONTROLS, 0x4012)                                             \
    F32(VM_ENTRY_MSR_LOAD_COUNT, 0x4014)                                       \
    F32(VM_ENTRY_INTR_INFO_FIELD, 0x4016)                                      \
    F32(VM_ENTRY_EXCEPTION_ERROR_CODE, 0x4018)                                 \
    F32(VM_ENTRY_INSTRUCTION_LEN, 0x401a)                                      \
    F32(TPR_THRESHOLD, 0x401c)                                                 \
    F32(SECONDARY_VM_EXEC_CONTROL, 0x401e)                                     \
    F32(PLE_GAP, 0x4020)                                                       \
    F32(PLE_WINDOW, 0x4022)                                                    \
    /* B.3.2 32-bit read-only data fields */                                   \
    F32(VM_INSTRUCTION_ERROR, 0x4400)                                          \
    F32(VM_EXIT_REASON, 0x4402)                                                \
    F32(VM_EXIT_INTR_INFO, 0x4404)                                             \
    F32(VM_EXIT_INTR_ERROR_CODE, 0x4406)                                       \
    F32(IDT_VECTORING_INFO_FIELD, 0x4408)                                      \
    F32(IDT_VECTORING_ERROR_CODE, 0x440a)                                      \
    F32(VM_EXIT_INSTRUCTION_LEN, 0x440c)                                       \
    F32(VMX_INSTRUCTION_INFO, 0x440e)                                          \
    /* B.3.3 32-bit guest-state fields */                                      \
    F32(GUEST_ES_LIMIT, 0x4800)                                                \
    F32(GUEST_CS_LIMIT, 0x4802)                                                \
    F32(GUEST_SS_LIMIT, 0x4804)                                                \
    F32(GUEST_DS_LIMIT, 0x4806)                                                \
    F32(GUEST_FS_LIMIT, 0x4808)                                                \
    F32(GUEST_GS_LIMIT, 0x480a)                                                \
    F32(GUEST_LDTR_LIMIT, 0x480c)                                              \
    F32(GUEST_TR_LIMIT, 0x480e)                                                \
    F32(GUEST_GDTR_LIMIT, 0x4810)                                              \
    F32(GUEST_IDTR_LIMIT, 0x4812)                                              \
    F32(GUEST_ES_AR_BYTES, 0x4814)                                             \
    F32(GUEST_CS_AR_BYTES, 0x4816)                                             \
    F32(GUEST_SS_AR_BYTES, 0x4818)                                             \
    F32(GUEST_DS_AR_BYTES, 0x481a)                                             \
    F32(GUEST_FS_AR_BYTES, 0x481c)                                             \
    F32(GUEST_GS_AR_BYTES, 0x481e)                                             \
    F32(GUEST_LDTR_AR_BYTES, 0x4820)                                           \
    F32(GUEST_TR_AR_BYTES, 0x4822)                                             \
    F32(GUEST_INTERRUPTIBILITY_INFO, 0x4824)                                   \
    F32(GUEST_ACTIVITY_STATE, 0x4826)                                          \
    F32(GUEST_SMBASE, 0x4828)                                                  \
    F32(GUEST_SYSENTER_CS, 0x482a)                                             \
    F32(VMX_PREEMPTION_TIMER_VALUE, 0x482e)                                    \
    /* B.3.4 32-bit host-state field */                                        \
    F32(HOST_IA32_SYSENTER_CS, 0x4c00)                                         \
    /* B.4.1 natural-width control fields */                                   \
    FN(CR0_GUEST_HOST_MASK, 0x6000)                                            \
    FN(CR4_GUEST_HOST_MASK, 0x6002)                                            \
    FN(CR0_READ_SHADOW, 0x6004)                                                \
    FN(CR4_READ_SHADOW, 0x6006)                                                \
    FN(CR3_TARGET_VALUE0, 0x6008)                                              \
    FN(CR3_TARGET_VALUE1, 0x600a)                                              \
    FN(CR3_TARGET_VALUE2, 0x600c)                                              \
    FN(CR3_TARGET_VALUE3, 0x600e)                                              \
    /* B.4.2 natural-width read-only data fields */                            \
    FN(EXIT_QUALIFICATION, 0x6400)                                             \
    FN(IO_RCX, 0x6402)                                                         \
    FN(IO_RSI, 0x6404)                                                         \
    FN(IO_RDI, 0x6406)                                                         \
    FN(IO_RIP, 0x6408)                                                         \
    FN(GUEST_LINEAR_ADDRESS, 0x640a)                                           \
    /* B.4.3 natural-width guest-state fields */                               \
    FN(GUEST_CR0, 0x6800)                                                      \
    FN(GUEST_CR3, 0x6802)                                                      \
    FN(GUEST_CR4, 0x6804)                                                      \
    FN(GUEST_ES_BASE, 0x6806)                                                  \
    FN(GUEST_CS_BASE, 0x6808)                                                  \
    FN(GUEST_SS_BASE, 0x680a)                                                  \
    FN(GUEST_DS_BASE, 0x680c)                                                  \
    FN(GUEST_FS_BASE, 0x680e)                                                  \
    FN(GUEST_GS_BASE, 0x6810)                                                  \
    FN(GUEST_LDTR_BASE, 0x6812)                                                \
    FN(GUEST_TR_BASE, 0x6814)                                                  \
    FN(GUEST_GDTR_BASE, 0x6816)                                                \
    FN(GUEST_IDTR_BASE, 0x6818)                                                \
    FN(GUEST_DR7, 0x681a)                                                      \
    FN(GUEST_RSP, 0x681c)                                                      \
    FN(GUEST_RIP, 0x681e)                                                      \
    FN(GUEST_RFLAGS, 0x6820)                                                   \
    FN(GUEST_PENDING_DBG_EXCEPTIONS, 0x6822)                                   \
    FN(GUEST_SYSENTER_ESP, 0x6824)                                             \
    FN(GUEST_SYSENTER_EIP, 0x6826)                                             \
    FN(GUEST_S_CET, 0x6828)                         /* later */                \
    FN(GUEST_SSP, 0x682a)                           /* later */                \
    FN(GUEST_INTR_SSP_TABLE, 0x682c)                /* later */                \
    /* B.4.4 natural-width host-state fields */                                \
    FN(HOST_CR0, 0x6c00)                                                       \
    FN(HOST_CR3, 0x6c02)                                                       \
    FN(HOST_CR4, 0x6c04)                                                       \
    FN(HOST_FS_BASE, 0x6c06)                                                   \
    FN(HOST_GS_BASE, 0x6c08)                                                   \
    FN(HOST_TR_BASE, 0x6c0a)                                                   \
    FN(HOST_GDTR_BASE, 0x6c0c)                                                 \
    FN(HOST_IDTR_BASE, 0x6c0e)                                                 \
    FN(HOST_IA32_SYSENTER_ESP, 0x6c10)                                         \
    FN(HOST_IA32_SYSENTER_EIP, 0x6c12)                                         \
    FN(HOST_RSP, 0x6c14)                                                       \
    FN(HOST_RIP, 0x6c16)                                                       \
    FN(HOST_S_CET, 0x6c18)                          /* later */                \
    FN(HOST_SSP, 0x6c1a)                            /* later */                \
    FN(HOST_INTR_SSP_TABLE, 0x6c1c)                 /* later */

#define VMCS_ENUM_ONE(name, enc) name = enc,
#define VMCS_ENUM_TWO(name, enc) name = enc, name##_HIGH = enc + 1,
enum vmcs_field {
    VMCS_FIELD_LIST(VMCS_ENUM_ONE, VMCS_ENUM_TWO, VMCS_ENUM_ONE, VMCS_ENUM_ONE)
};
#undef VMCS_ENUM_ONE
#undef VMCS_ENUM_TWO

/* Each field, with its name, for dumps and for walking all of them. */
struct vmcs_field_info {
    uint32_t encoding;
    const char *name;
};
extern const struct vmcs_field_info vmcs_fields[];
extern const unsigned vmcs_field_count;
const char *vmcs_field_name(uint32_t encoding);    /* NULL if not in the SDM's list */

/* An encoding taken apart (24.11.2); false if a reserved bit is set. */
struct vmcs_field_bits {
    enum vmcs_field_width width;
    enum vmcs_field_type type;
    unsigned index;
    bool high;
};
bool vmcs_field_decode(uint32_t encoding, struct vmcs_field_bits *bits);
const char *vmcs_width_name(enum vmcs_field_width width);   /* "16-bit" */
const char *vmcs_type_name(enum vmcs_field_type type);      /* "guest-state" */

#endif
