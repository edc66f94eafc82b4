/* mmio_decode.h: just enough x86 decoding to emulate an access to an MMIO page: the MOV forms
 * compilers emit for volatile loads and stores, and AND/OR/XOR on a register. (Stand-in until chapter 06's decoder lands.) */
#ifndef CH07_MMIO_DECODE_H
#define CH07_MMIO_DECODE_H

#include <stdbool.h>
#include <stdint.h>

/* What the instruction does with the memory operand. */
enum mmio_op {
    MMIO_LOAD,                   /* MOV reg, mem; MOVZX */
    MMIO_STORE,                  /* MOV mem, reg/imm */
    MMIO_AND, MMIO_OR, MMIO_XOR, /* read, combine with reg/imm, write back, set the flags */
};

struct mmio_insn {
    enum mmio_op op;
    unsigned len;                /* bytes of the instruction, prefixes included */
    unsigned size;               /* bytes accessed in memory: 1, 2, 4 or 8 */
    bool write;                  /* the device is written (a store or a read-modify-write) */
    int reg;                     /* the register (0 RAX .. 15 R15) loaded or stored; -1: imm */
    bool high_byte;              /* AH, CH, DH, BH: reg 0-3, bits 15:8 */
    unsigned dest_size;          /* a load: bytes of the destination register written */
    uint64_t imm;                /* a store of an immediate */
};

/* Decode code[0 .. n) in 64-bit mode (long) or 32-bit protected mode. Returns 0, or -1
 * for anything but MOV/MOVZX between a register or immediate and memory, and AND, OR,
 * XOR of memory with a register or immediate (compilers emit "and [reg+disp], imm8" to
 * clear a bit of a device register). */
int mmio_decode(const uint8_t *code, unsigned n, bool long_mode, struct mmio_insn *out);

#endif
