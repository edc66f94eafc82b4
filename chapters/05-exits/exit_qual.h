/* exit_qual.h: what a VM exit's qualification and interruption-information fields mean
 * (SDM Vol. 3C, 24.8.3, 24.9.2-24.9.3, 27.2.1), decoded into structs by pure, host-tested code. */
#ifndef EXIT_QUAL_H
#define EXIT_QUAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Interruption information: the VM-exit field (24.9.2, Table 24-15), the IDT-vectoring
 * field (24.9.3, Table 24-16) and the VM-entry field (24.8.3, Table 24-13) share one
 * layout, so one set of names serves all three (Linux's names):
 *
 *   31     30-13   12            11           10:8   7:0
 *   valid  0       NMI unblock.  error code   type   vector
 */
#define INTR_INFO_VECTOR_MASK        0xffu
#define INTR_INFO_INTR_TYPE_MASK     0x700u
#define INTR_INFO_DELIVER_CODE_MASK  0x800u
#define INTR_INFO_UNBLOCK_NMI        0x1000u
#define INTR_INFO_VALID_MASK         0x80000000u
#define INTR_TYPE_EXT_INTR           (0u << 8)   /* external interrupt */
#define INTR_TYPE_NMI_INTR           (2u << 8)
#define INTR_TYPE_HARD_EXCEPTION     (3u << 8)   /* #PF, #GP, #UD, ... */
#define INTR_TYPE_SOFT_INTR          (4u << 8)   /* INT n */
#define INTR_TYPE_PRIV_SW_EXCEPTION  (5u << 8)   /* INT1 (ICEBP) */
#define INTR_TYPE_SOFT_EXCEPTION     (6u << 8)   /* INT3, INTO */
#define INTR_TYPE_OTHER_EVENT        (7u << 8)
/* The VM-entry field allows only bits 31, 11, 10:8 and 7:0 (26.2.1.3). */
#define INTR_INFO_ENTRY_MASK         (INTR_INFO_VALID_MASK | INTR_INFO_DELIVER_CODE_MASK | \
                                      INTR_INFO_INTR_TYPE_MASK | INTR_INFO_VECTOR_MASK)

struct intr_info {
    bool valid, has_error_code, nmi_unblocking;
    uint8_t vector;
    uint8_t type;                /* 0-7, INTR_TYPE_* >> 8 */
};
struct intr_info intr_info_decode(uint32_t info);
const char *intr_type_name(unsigned type);          /* "external interrupt", ... */
/* Does injecting this type need VM_ENTRY_INSTRUCTION_LEN (software events, 26.5.1.1)? */
bool intr_type_has_length(unsigned type);

/*
 * Two exceptions at once: the second arises while the first is being delivered, or the
 * hypervisor injects one while an earlier one waits for re-injection. SDM Vol. 3A, 6.15,
 * Table 6-5: benign ones are delivered one after the other, a contributory exception or
 * #PF on top of #PF or a contributory one is a double fault, anything on a #DF a triple.
 */
enum exception_combination { EXCEPTION_SERIAL, EXCEPTION_DOUBLE_FAULT, EXCEPTION_TRIPLE_FAULT };
enum exception_combination exception_combine(uint8_t first, uint8_t second);

/* Guest interruptibility state (24.4.2, Table 24-3) and activity states (Table 24-4). */
#define GUEST_INTR_STATE_STI         (1u << 0)
#define GUEST_INTR_STATE_MOV_SS      (1u << 1)
#define GUEST_INTR_STATE_SMI         (1u << 2)
#define GUEST_INTR_STATE_NMI         (1u << 3)
#define GUEST_ACTIVITY_ACTIVE        0
#define GUEST_ACTIVITY_HLT           1
#define GUEST_ACTIVITY_SHUTDOWN      2
#define GUEST_ACTIVITY_WAIT_SIPI     3

/* I/O instructions (27.2.1, Table 27-5). */
struct io_qual {
    uint16_t port;
    uint8_t size;                /* 1, 2 or 4 bytes */
    bool in;                     /* IN/INS (else OUT/OUTS) */
    bool string, rep, imm;       /* INS/OUTS; REP prefix; port was an immediate (else DX) */
};
bool io_qual_decode(uint64_t qualification, struct io_qual *out);   /* false: bad size field */

/* INS/OUTS VM-exit instruction information (27.2.4, Table 27-8). */
struct io_string_info {
    unsigned addr_size;          /* 2, 4 or 8 bytes */
    unsigned segment;            /* 0 ES, 1 CS, 2 SS, 3 DS, 4 FS, 5 GS (OUTS only) */
};
bool io_string_info_decode(uint32_t info, struct io_string_info *out);

/* Control-register accesses (27.2.1, Table 27-3). */
enum cr_access_type { CR_ACCESS_MOV_TO_CR = 0, CR_ACCESS_MOV_FROM_CR = 1, CR_ACCESS_CLTS = 2,
                      CR_ACCESS_LMSW = 3 };
struct cr_qual {
    uint8_t cr;                  /* 0, 3, 4 or 8 */
    uint8_t type;                /* enum cr_access_type */
    uint8_t gpr;                 /* register number (RAX 0 ... R15 15) for MOV */
    bool lmsw_memory;            /* LMSW with a memory operand */
    uint16_t lmsw_data;          /* LMSW's source operand */
};
struct cr_qual cr_qual_decode(uint64_t qualification);

/* MOV DR (27.2.1, Table 27-4). */
struct dr_qual {
    uint8_t dr, gpr;
    bool from_dr;                /* MOV from DR (else MOV to DR) */
};
struct dr_qual dr_qual_decode(uint64_t qualification);

/* EPT violations (27.2.1, Table 27-7). */
struct ept_violation_qual {
    bool read, write, fetch;                /* what the access was */
    bool readable, writable, executable;    /* what the EPT entries allowed */
    bool gla_valid;                         /* GUEST_LINEAR_ADDRESS is valid */
    bool gla_translation;                   /* the access was the translated address itself (else a
                                               guest paging-structure access); valid if gla_valid */
    bool nmi_unblocking;
};
struct ept_violation_qual ept_violation_qual_decode(uint64_t qualification);

/* Task switches (27.2.1, Table 27-2). */
struct task_switch_qual {
    uint16_t selector;
    uint8_t source;              /* 0 CALL, 1 IRET, 2 JMP, 3 task gate in the IDT */
};
struct task_switch_qual task_switch_qual_decode(uint64_t qualification);

/* One line in words for a report: "OUT of 1 byte to port 0x3f8 (DX)", ... */
int exit_qual_describe(uint32_t basic_reason, uint64_t qualification, char *buf, size_t size);
/* "#GP (hardware exception), error code 0x0" for an interruption-information value. */
int intr_info_describe(uint32_t info, uint32_t error_code, char *buf, size_t size);

#endif
