/* mmio_decode.h: just enough x86 decoding to emulate an access to an MMIO page: MOV and MOVZX,
 * and AND/OR/XOR/TEST on a device register. (Stand-in until chapter 06's decoder lands.) */
#ifndef CH07_MMIO_DECODE_H
#define CH07_MMIO_DECODE_H

#include <stdbool.h>
#include <stdint.h>

/* What the instruction does with its memory operand M and its other operand S. */
enum mmio_op {
    MMIO_MOV,                    /* to_mem: M = S;           else: reg = M (MOVZX: zero-extended) */
    MMIO_AND, MMIO_OR, MMIO_XOR, /* to_mem: M = M op S;      else: reg = reg op M; flags set */
    MMIO_TEST,                   /* flags of M & S, nothing written */
};

struct mmio_insn {
    enum mmio_op op;
    bool to_mem;                 /* the device register is written */
    unsigned len;                /* bytes of the instruction, prefixes included */
    unsigned size;               /* bytes accessed in memory: 1, 2, 4 or 8 */
    int reg;                     /* the register operand (0 RAX .. 15 R15); -1: an immediate */
    bool high_byte;              /* AH, CH, DH, BH: reg 0-3, bits 15:8 */
    unsigned dest_size;          /* a register result: bytes of the register written */
    uint64_t imm;                /* the immediate operand, sign-extended to the operand size */
};

/*
 * Decode code[0 .. n) in 64-bit mode (long) or 32-bit protected mode. Returns 0, or -1 for
 * anything else: compilers emit MOV for volatile accesses, and AND/OR/TEST with a memory
 * operand when they fold a read or a read-modify-write of a register (NimbOS clears a HPET
 * timer's interrupt bit with "and qword [rbp+rdx+0x100], -5"; it reads the xAPIC LVT
 * timer with "and ecx, [rax]").
 */
int mmio_decode(const uint8_t *code, unsigned n, bool long_mode, struct mmio_insn *out);

#endif
