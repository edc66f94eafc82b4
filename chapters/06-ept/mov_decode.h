/* mov_decode.h: decoding the instruction behind an MMIO EPT violation: the MOV and MOVZX forms
 * kernels use for device registers, with their length (the exit does not give it). */
#ifndef MOV_DECODE_H
#define MOV_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Accepted (SDM Vol. 2B, MOV and MOVZX), with a memory operand (ModRM.mod != 3):
 *
 *   88 /r  MOV r/m8, r8        89 /r  MOV r/m16/32/64, r      stores of a register
 *   8A /r  MOV r8, r/m8        8B /r  MOV r16/32/64, r/m      loads
 *   C6 /0  MOV r/m8, imm8      C7 /0  MOV r/m16/32/64, imm16/32 (sign-extended to 64)
 *   0F B6  MOVZX r, r/m8       0F B7  MOVZX r, r/m16          loads, zero-extended
 *   A0-A3  MOV between the accumulator and an absolute address (moffs, no ModRM)
 *
 * with the prefixes 66 (16-bit operand), REX (64-bit mode only: W, R, X, B) and segment
 * overrides. Anything else (LOCK, REP, other opcodes, a register operand, 16-bit
 * addressing) is refused with a reason: emulating it wrongly would corrupt the guest.
 */
struct mov_insn {
    unsigned length;             /* bytes, prefixes included: how far RIP moves */
    unsigned size;               /* bytes read or written in memory: 1, 2, 4 or 8 */
    bool store;                  /* memory is written (else read) */
    bool has_imm;                /* the stored value is an immediate */
    uint64_t imm;                /* ... sign-extended to the operand size */
    unsigned reg;                /* the register operand, 0 (RAX) ... 15 (R15) */
    bool high_byte;              /* AH, CH, DH or BH: byte register 4-7 without REX */
    unsigned dest_size;          /* loads: bytes written to the register (2, 4, 8; or 1) */
    bool zero_extend;            /* MOVZX */
};

enum mov_mode { MOV_MODE_32 = 32, MOV_MODE_64 = 64 };

/* Decode bytes[0..n) in a 32-bit or 64-bit code segment. Returns true, or false with
 * *why naming what was refused. */
bool mov_decode(const uint8_t *bytes, size_t n, enum mov_mode mode, struct mov_insn *out,
                const char **why);

/* The value a store writes, taken from the register operand's current value. */
uint64_t mov_store_value(const struct mov_insn *d, uint64_t reg_value);
/* The register's new value after a load of value (SDM Vol. 1, 3.4.1.1: 32-bit results
 * zero-extend to 64 bits, 8- and 16-bit results leave the other bits alone). */
uint64_t mov_load_result(const struct mov_insn *d, uint64_t reg_value, uint64_t value);

#endif
