/* mmio_decode.c: MOV (88, 89, 8A, 8B, C6, C7), MOVZX (0F B6, 0F B7), AND/OR/XOR to memory (08, 09,
 * 20, 21, 30, 31, 80, 81, 83) with prefixes and ModRM/SIB addressing (SDM Vol. 2A, 2.1-2.2). */
#include "mmio_decode.h"

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

/* Opcode bits 5:3 of 08/09 (OR), 20/21 (AND), 30/31 (XOR) and ModRM.reg of 80/81/83 (/1 OR,
 * /4 AND, /6 XOR) name the operation; ADD, SUB and the rest would need arithmetic flags. */
static int logic_kind(unsigned which, struct mmio_insn *out)
{
    if (which == 1)
        out->op = MMIO_OR;
    else if (which == 4)
        out->op = MMIO_AND;
    else if (which == 6)
        out->op = MMIO_XOR;
    else
        return -1;
    return 0;
}

static int logic_reg(struct mmio_insn *out, uint8_t op, unsigned reg, uint8_t rex, unsigned opsize,
                     unsigned len)
{
    if (logic_kind(op >> 3, out))
        return -1;
    out->size = (op & 1) ? opsize : 1;
    out->reg = (int)reg;
    out->high_byte = out->size == 1 && !rex && reg >= 4;
    if (out->high_byte)
        out->reg = (int)reg - 4;
    out->write = true;
    out->len = len;
    return len <= 15 ? 0 : -1;
}

static int logic_imm(struct mmio_insn *out, const uint8_t *code, unsigned n, uint8_t op,
                     unsigned which, unsigned opsize, unsigned i)
{
    unsigned imm = op == 0x81 ? (opsize == 2 ? 2 : 4) : 1;
    if (logic_kind(which, out) || i + imm > n)
        return -1;
    uint64_t v = 0;
    for (unsigned k = 0; k < imm; k++)
        v |= (uint64_t)code[i + k] << (8 * k);
    if (op == 0x83)
        v = (uint64_t)(int64_t)(int8_t)v;            /* imm8 sign-extended */
    else if (imm == 4)
        v = (uint64_t)(int64_t)(int32_t)v;           /* imm32 sign-extended */
    out->imm = v;
    out->size = op == 0x80 ? 1 : opsize;
    out->write = true;
    out->len = i + imm;
    return out->len <= 15 ? 0 : -1;
}

int mmio_decode(const uint8_t *code, unsigned n, bool long_mode, struct mmio_insn *out)
{
    unsigned i = 0, opsize = 4;
    uint8_t rex = 0;
    *out = (struct mmio_insn){.reg = -1};
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
    bool movzx = false;
    if (op == 0x0f) {
        if (i >= n || (code[i] != 0xb6 && code[i] != 0xb7))
            return -1;
        movzx = true;
        op = code[i++];
    }
    int m = modrm_bytes(code + i, n - i);
    if (m < 0)
        return -1;
    unsigned reg = ((code[i] >> 3) & 7) | (rex & 4 ? 8 : 0);
    i += (unsigned)m;
    if (!movzx && (op == 0x08 || op == 0x09 || op == 0x20 || op == 0x21 || op == 0x30 || op == 0x31))
        return logic_reg(out, op, reg, rex, opsize, i);
    if (!movzx && (op == 0x80 || op == 0x81 || op == 0x83))
        return logic_imm(out, code, n, op, reg & 7, opsize, i);
    switch (op) {
    case 0x88: case 0x89: case 0x8a: case 0x8b:
        out->size = (op & 1) ? opsize : 1;
        out->write = op < 0x8a;
        out->reg = (int)reg;
        out->high_byte = out->size == 1 && !rex && reg >= 4;
        if (out->high_byte)
            out->reg = (int)reg - 4;
        out->dest_size = out->size;
        out->op = out->write ? MMIO_STORE : MMIO_LOAD;
        break;
    case 0xc6: case 0xc7: {
        if (reg & 7)
            return -1;                   /* /0 only */
        unsigned imm = op == 0xc6 ? 1 : opsize == 2 ? 2 : 4;
        if (i + imm > n)
            return -1;
        uint64_t v = 0;
        for (unsigned k = 0; k < imm; k++)
            v |= (uint64_t)code[i + k] << (8 * k);
        if (imm == 4 && opsize == 8)
            v = (uint64_t)(int64_t)(int32_t)v;       /* imm32 sign-extended to 64 bits */
        out->imm = v;
        out->size = op == 0xc6 ? 1 : opsize;
        out->write = true;
        out->op = MMIO_STORE;
        i += imm;
        break;
    }
    case 0xb6: case 0xb7:
        if (!movzx)
            return -1;
        out->size = op == 0xb6 ? 1 : 2;
        out->reg = (int)reg;
        out->dest_size = opsize == 2 ? 2 : opsize;
        out->op = MMIO_LOAD;
        break;
    default:
        return -1;
    }
    if (i > 15)
        return -1;
    out->len = i;
    return 0;
}
