/* exit_qual.c: decoders for exit qualifications and interruption information (SDM Vol. 3C,
 * 24.9, 27.2) and their one-line descriptions; no VMX instruction here, so tested on the host. */
#include "exit_qual.h"

#include "exercise.h"
#include "printf.h"
#include "trap.h"
#include "vmx_exit.h"

struct intr_info intr_info_decode(uint32_t info)
{
    return (struct intr_info){
        .valid = (info & INTR_INFO_VALID_MASK) != 0,
        .has_error_code = (info & INTR_INFO_DELIVER_CODE_MASK) != 0,
        .nmi_unblocking = (info & INTR_INFO_UNBLOCK_NMI) != 0,
        .vector = (uint8_t)(info & INTR_INFO_VECTOR_MASK),
        .type = (uint8_t)((info & INTR_INFO_INTR_TYPE_MASK) >> 8),
    };
}

const char *intr_type_name(unsigned type)
{
    static const char *const names[8] = {
        "external interrupt", "reserved", "NMI", "hardware exception", "software interrupt",
        "privileged software exception", "software exception", "other event",
    };
    return names[type & 7];
}

/* INT n, INT3/INTO and INT1 are delivered "after" their instruction: injecting one
 * needs the instruction length, so the pushed RIP is the next instruction (26.5.1.1). */
bool intr_type_has_length(unsigned type)
{
    return type == 4 || type == 5 || type == 6;
}

/* Contributory exceptions: #DE, #TS, #NP, #SS, #GP (SDM Vol. 3A, Table 6-4). */
static bool contributory(uint8_t v)
{
    return v == 0 || (v >= 10 && v <= 13);
}

enum exception_combination exception_combine(uint8_t first, uint8_t second)
{
    bool second_bad = contributory(second) || second == 14;
    if (first == 8)
        return second_bad ? EXCEPTION_TRIPLE_FAULT : EXCEPTION_SERIAL;
    if (contributory(first))
        return contributory(second) ? EXCEPTION_DOUBLE_FAULT : EXCEPTION_SERIAL;
    if (first == 14)
        return second_bad ? EXCEPTION_DOUBLE_FAULT : EXCEPTION_SERIAL;
    return EXCEPTION_SERIAL;
}

/*
 * Exit qualification of an I/O instruction (Table 27-5):
 *
 *   31:16 port   6 operand (0 DX, 1 immediate)   5 REP   4 string   3 direction (1 = IN)
 *   2:0 size - 1 (0, 1 or 3)
 */
bool io_qual_decode(uint64_t q, struct io_qual *out)
{
    struct io_qual d = {0};
    // BEGIN EXERCISE 05-1: decode an I/O exit qualification
    // Instruction: Fill d from the qualification q: the port (bits 31:16), the access size in
    //   bytes (bits 2:0 hold the size - 1), the direction (bit 3: 1 = IN), string (bit 4),
    //   REP (bit 5) and immediate operand (bit 6).
    // Hint: SDM Vol. 3C, 27.2.1, Table 27-5.
    d.port = (uint16_t)(q >> 16);
    d.size = (uint8_t)((q & 7) + 1);
    d.in = (q >> 3) & 1;
    d.string = (q >> 4) & 1;
    d.rep = (q >> 5) & 1;
    d.imm = (q >> 6) & 1;
    // END EXERCISE 05-1
    /* Size fields 0, 1 and 3 only (1, 2, 4 bytes): a decoder must not make up another size. */
    if ((q & 7) == 2 || (q & 7) > 3)
        return false;
    *out = d;
    return true;
}

/* INS/OUTS instruction information (Table 27-8): bits 9:7 address size, 17:15 segment. */
bool io_string_info_decode(uint32_t info, struct io_string_info *out)
{
    unsigned as = (info >> 7) & 7, seg = (info >> 15) & 7;
    if (as > 2 || seg > 5)
        return false;
    out->addr_size = 2u << as;
    out->segment = seg;
    return true;
}

struct cr_qual cr_qual_decode(uint64_t q)
{
    return (struct cr_qual){
        .cr = (uint8_t)(q & 15),
        .type = (uint8_t)((q >> 4) & 3),
        .lmsw_memory = (q >> 6) & 1,
        .gpr = (uint8_t)((q >> 8) & 15),
        .lmsw_data = (uint16_t)(q >> 16),
    };
}

struct dr_qual dr_qual_decode(uint64_t q)
{
    return (struct dr_qual){.dr = (uint8_t)(q & 7), .from_dr = (q >> 4) & 1,
                            .gpr = (uint8_t)((q >> 8) & 15)};
}

struct ept_violation_qual ept_violation_qual_decode(uint64_t q)
{
    return (struct ept_violation_qual){
        .read = q & 1, .write = (q >> 1) & 1, .fetch = (q >> 2) & 1,
        .readable = (q >> 3) & 1, .writable = (q >> 4) & 1, .executable = (q >> 5) & 1,
        .gla_valid = (q >> 7) & 1, .gla_translation = (q >> 8) & 1,
        .nmi_unblocking = (q >> 12) & 1,
    };
}

struct task_switch_qual task_switch_qual_decode(uint64_t q)
{
    return (struct task_switch_qual){.selector = (uint16_t)q, .source = (uint8_t)((q >> 30) & 3)};
}

static const char *const gpr_names[16] = {
    "RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
    "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15",
};

static int describe_io(uint64_t q, char *buf, size_t size)
{
    struct io_qual io;
    if (!io_qual_decode(q, &io))
        return ksnprintf(buf, size, "I/O with an invalid size field %lu", q & 7);
    return ksnprintf(buf, size, "%s%s%s of %u byte%s %s port 0x%x (%s)", io.rep ? "REP " : "",
                     io.in ? "IN" : "OUT", io.string ? "S" : "", io.size, io.size > 1 ? "s" : "",
                     io.in ? "from" : "to", io.port, io.imm ? "immediate" : "DX");
}

static int describe_cr(uint64_t q, char *buf, size_t size)
{
    struct cr_qual c = cr_qual_decode(q);
    switch (c.type) {
    case CR_ACCESS_MOV_TO_CR:
        return ksnprintf(buf, size, "MOV to CR%u from %s", c.cr, gpr_names[c.gpr]);
    case CR_ACCESS_MOV_FROM_CR:
        return ksnprintf(buf, size, "MOV from CR%u to %s", c.cr, gpr_names[c.gpr]);
    case CR_ACCESS_CLTS:
        return ksnprintf(buf, size, "CLTS");
    default:
        return ksnprintf(buf, size, "LMSW 0x%x (%s operand)", c.lmsw_data,
                         c.lmsw_memory ? "memory" : "register");
    }
}

static int describe_ept(uint64_t q, char *buf, size_t size)
{
    struct ept_violation_qual e = ept_violation_qual_decode(q);
    const char *kind = e.fetch ? "fetch" : e.write && e.read ? "read-write" : e.write ? "write" : "read";
    return ksnprintf(buf, size, "%s access; the entry allowed %s%s%s; linear address %s", kind,
                     e.readable ? "R" : "-", e.writable ? "W" : "-", e.executable ? "X" : "-",
                     !e.gla_valid ? "not valid" : e.gla_translation ? "valid (the access itself)"
                                                                     : "valid (a guest page-table access)");
}

int exit_qual_describe(uint32_t reason, uint64_t q, char *buf, size_t size)
{
    switch (reason) {
    case EXIT_REASON_EXCEPTION_NMI:
        return ksnprintf(buf, size, "0x%lx (#PF: the faulting linear address; #DB: DR6 bits)", q);
    case EXIT_REASON_IO_INSTRUCTION:
        return describe_io(q, buf, size);
    case EXIT_REASON_CR_ACCESS:
        return describe_cr(q, buf, size);
    case EXIT_REASON_DR_ACCESS: {
        struct dr_qual d = dr_qual_decode(q);
        return d.from_dr ? ksnprintf(buf, size, "MOV from DR%u to %s", d.dr, gpr_names[d.gpr])
                         : ksnprintf(buf, size, "MOV to DR%u from %s", d.dr, gpr_names[d.gpr]);
    }
    case EXIT_REASON_TASK_SWITCH: {
        static const char *const src[4] = {"CALL", "IRET", "JMP", "task gate in the IDT"};
        struct task_switch_qual t = task_switch_qual_decode(q);
        return ksnprintf(buf, size, "to TSS selector 0x%x by %s", t.selector, src[t.source]);
    }
    case EXIT_REASON_INVLPG:
        return ksnprintf(buf, size, "linear address 0x%lx", q);
    case EXIT_REASON_EPT_VIOLATION:
        return describe_ept(q, buf, size);
    case EXIT_REASON_INVALID_STATE:
    case EXIT_REASON_MSR_LOAD_FAIL:
        return ksnprintf(buf, size, "%lu (%s)", q, vmx_entry_failure_qualification_name(reason, q));
    default:
        return ksnprintf(buf, size, "0x%lx%s", q, q ? "" : " (none for this exit)");
    }
}

int intr_info_describe(uint32_t info, uint32_t error_code, char *buf, size_t size)
{
    struct intr_info i = intr_info_decode(info);
    if (!i.valid)
        return ksnprintf(buf, size, "not valid");
    const char *name = i.type == 3 || i.type == 5 || i.type == 6 ? exception_mnemonic(i.vector)
                       : i.type == 2 ? "NMI" : "vector";
    int n = ksnprintf(buf, size, "%s %u (%s)", name, i.vector, intr_type_name(i.type));
    if (i.has_error_code && (size_t)n < size)
        n += ksnprintf(buf + n, size - (size_t)n, ", error code 0x%x", error_code);
    return n;
}
