/* alu_decode.h: the MMIO instructions chapter 06's MOV decoder leaves out: AND, OR, XOR and TEST
 * with a device register as an operand, which compilers emit for bit operations on registers. */
#ifndef CH07_ALU_DECODE_H
#define CH07_ALU_DECODE_H

#include <stdbool.h>
#include <stdint.h>

/* What the instruction does with its memory operand M and its other operand S. */
enum alu_op {
    ALU_AND, ALU_OR, ALU_XOR,    /* to_mem: M = M op S;  else: reg = reg op M */
    ALU_TEST,                    /* M & S for the flags only */
};

struct alu_insn {
    enum alu_op op;
    bool to_mem;                 /* the device register is written back */
    unsigned len;                /* bytes of the instruction, prefixes included */
    unsigned size;               /* bytes accessed in memory: 1, 2, 4 or 8 */
    int reg;                     /* the register operand (0 RAX .. 15 R15); -1: an immediate */
    bool high_byte;              /* AH, CH, DH, BH: reg 0-3, bits 15:8 */
    uint64_t imm;                /* the immediate, sign-extended to the operand size */
};

/*
 * Decode code[0 .. n) in 64-bit mode (long) or 32-bit protected mode (SDM Vol. 2A, AND,
 * OR, XOR, TEST): 08-0B, 20-23, 30-33 /r, 80/81/83 /1 /4 /6 ib/iz, 84/85 /r, F6/F7 /0,
 * with a memory operand. Returns 0, or -1 for anything else (ADD, SUB, CMP would need the
 * arithmetic flags). NimbOS clears a HPET timer's interrupt bit with "and qword
 * [rbp+rdx+0x100], -5" and reads its xAPIC LVT timer with "and ecx, [rax]".
 */
int alu_decode(const uint8_t *code, unsigned n, bool long_mode, struct alu_insn *out);

/* The result and the flags the instruction leaves (SF, ZF, PF from the result; CF = OF =
 * 0; AF undefined, kept): the new RFLAGS from the old. */
uint64_t alu_result(const struct alu_insn *d, uint64_t mem, uint64_t src);
uint64_t alu_flags(uint64_t rflags, uint64_t result, unsigned size);

#endif
