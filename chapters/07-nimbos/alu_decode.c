/* alu_decode.c: AND/OR/XOR both ways (08-0B, 20-23, 30-33, 80, 81, 83) and TEST (84, 85, F6/F7 /0)
 * with a memory operand: prefixes, REX, ModRM/SIB, immediates (SDM Vol. 2A, 2.1-2.2). */
#include "alu_decode.h"

/* Bytes of ModRM, SIB and displacement after the opcode (32/64-bit addressing, Table 2-2). */
static int modrm_bytes(const uint8_t *p, unsigned left)
{
    if (left < 1)
        return -1;
    unsigned mod = p[0] >> 6, rm = p[0] & 7, n = 1;
    if (mod == 3)
        return -1;                       /* a register operand: not a memory access */
    if (rm == 4) {                       /* SIB follows */
        if (left < 2)
            return -1;
        n++;
        if (mod == 0 && (p[1] & 7) == 5)
            n += 4;                      /* no base: disp32 */
    } else if (mod == 0 && rm == 5) {
        n += 4;                          /* disp32 (RIP-relative in 64-bit mode) */
    }
    n += mod == 1 ? 1 : mod == 2 ? 4 : 0;
    return n <= left ? (int)n : -1;
}

/* The operation of the ALU opcodes 08-0B (OR), 20-23 (AND), 30-33 (XOR), by opcode bits 5:3,
 * also ModRM.reg of 80/81/83 (/1 OR, /4 AND, /6 XOR); the others need arithmetic flags. */
static int logic_op(unsigned which, enum alu_op *op)
{
    switch (which) {
    case 1: *op = ALU_OR; return 0;
    case 4: *op = ALU_AND; return 0;
    case 6: *op = ALU_XOR; return 0;
    default: return -1;
    }
}

/* An immediate of imm bytes at code[i], sign-extended to the operand size. */
static int take_imm(struct alu_insn *d, const uint8_t *code, unsigned n, unsigned *i, unsigned imm)
{
    uint64_t v = 0;
    if (*i + imm > n)
        return -1;
    for (unsigned k = 0; k < imm; k++)
        v |= (uint64_t)code[*i + k] << (8 * k);
    if (imm == 1 && d->size > 1)
        v = (uint64_t)(int64_t)(int8_t)v;
    else if (imm == 4 && d->size == 8)
        v = (uint64_t)(int64_t)(int32_t)v;
    d->imm = v;
    *i += imm;
    return 0;
}

int alu_decode(const uint8_t *code, unsigned n, bool long_mode, struct alu_insn *d)
{
    unsigned i = 0, opsize = 4;
    uint8_t rex = 0;
    *d = (struct alu_insn){.reg = -1};
    for (; i < n; i++) {                 /* legacy prefixes */
        uint8_t b = code[i];
        if (b == 0x66)
            opsize = 2;
        else if (b == 0x67)
            return -1;                   /* another address size: not needed, not decoded */
        else if (b != 0x2e && b != 0x36 && b != 0x3e && b != 0x26 && b != 0x64 && b != 0x65)
            break;
    }
    if (long_mode && i < n && (code[i] & 0xf0) == 0x40)
        rex = code[i++];                 /* REX: W R X B */
    if (rex & 8)
        opsize = 8;
    if (i >= n)
        return -1;
    uint8_t op = code[i++];
    int m = modrm_bytes(code + i, n - i);
    if (m < 0)
        return -1;
    unsigned reg = ((code[i] >> 3) & 7) | (rex & 4 ? 8 : 0), sub = reg & 7;
    i += (unsigned)m;
    d->size = (op & 1) ? opsize : 1;     /* even opcodes are the byte forms */
    d->reg = (int)reg;
    if ((op & 0xc4) == 0x00 && op < 0x40) {                /* ALU r/m, r (00-01) and r, r/m (02-03) */
        if (logic_op(op >> 3, &d->op))
            return -1;
        d->to_mem = !(op & 2);
    } else if (op == 0x84 || op == 0x85) {
        d->op = ALU_TEST;
    } else if (op == 0xf6 || op == 0xf7) {
        if (sub)
            return -1;                   /* /0: TEST r/m, imm */
        d->op = ALU_TEST;
        d->reg = -1;
        if (take_imm(d, code, n, &i, d->size == 8 ? 4 : d->size))
            return -1;
    } else if (op == 0x80 || op == 0x81 || op == 0x83) {
        if (logic_op(sub, &d->op))
            return -1;
        d->to_mem = true;
        d->reg = -1;
        d->size = op == 0x80 ? 1 : opsize;
        if (take_imm(d, code, n, &i, op == 0x81 ? (opsize == 2 ? 2 : 4) : 1))
            return -1;
    } else {
        return -1;
    }
    if (d->reg >= 0 && d->size == 1 && !rex && reg >= 4) {
        d->high_byte = true;             /* without REX, byte registers 4-7 are AH, CH, DH, BH */
        d->reg = (int)reg - 4;
    }
    d->len = i;
    return i <= 15 ? 0 : -1;
}

uint64_t alu_result(const struct alu_insn *d, uint64_t mem, uint64_t src)
{
    uint64_t mask = d->size == 8 ? ~0ull : (1ull << (8 * d->size)) - 1;
    mem &= mask, src &= mask;
    return d->op == ALU_OR ? mem | src : d->op == ALU_XOR ? mem ^ src : mem & src;
}

uint64_t alu_flags(uint64_t rflags, uint64_t result, unsigned size)
{
    const uint64_t cf = 1, pf = 1 << 2, zf = 1 << 6, sf = 1 << 7, of = 1 << 11;
    uint64_t f = rflags & ~(cf | pf | zf | sf | of);
    if (!result)
        f |= zf;
    if ((result >> (8 * size - 1)) & 1)
        f |= sf;
    if (!(__builtin_popcount((unsigned)(result & 0xff)) & 1))
        f |= pf;                         /* even parity of the low byte */
    return f;
}
