/* mov_decode.c: a decoder for exactly the instructions of mov_decode.h, checked on the host
 * against byte sequences an assembler produced (tests/unit/test_mov_decode.c). */
#include "mov_decode.h"

#include "exercise.h"

static bool refuse(const char **why, const char *reason)
{
    *why = reason;
    return false;
}

/* ModRM, SIB and displacement bytes after the opcode (SDM Vol. 2A, 2.1.5, Tables 2-2, 2-3). */
static unsigned modrm_length(const uint8_t *p, size_t left, bool *ok)
{
    uint8_t modrm = p[0];
    unsigned mod = modrm >> 6, rm = modrm & 7, len = 1;
    *ok = false;
    if (mod == 3)
        return 0;                        /* a register, not memory: not an MMIO access */
    if (rm == 4) {                       /* a SIB byte follows */
        if (left < 2)
            return 0;
        if (mod == 0 && (p[1] & 7) == 5)
            len += 4;                    /* SIB with no base: disp32 */
        len++;
    }
    if (mod == 1)
        len += 1;
    else if (mod == 2 || (mod == 0 && rm == 5))
        len += 4;                        /* disp32, or RIP-relative in 64-bit mode */
    *ok = len <= left;
    return len;
}

/* A0-A3: MOV between AL/AX/EAX/RAX and an absolute address (moffs), no ModRM byte;
 * 32-bit code uses them for fixed device addresses such as the local APIC's. */
static bool decode_moffs(const uint8_t *b, size_t n, unsigned i, unsigned addr_size,
                         unsigned wide, struct mov_insn *out, const char **why)
{
    uint8_t op = b[i];
    if (i + 1 + addr_size > n)
        return refuse(why, "truncated absolute address (moffs)");
    *out = (struct mov_insn){
        .length = i + 1 + addr_size,
        .size = (op & 1) ? wide : 1,
        .dest_size = (op & 1) ? wide : 1,
        .store = op >= 0xa2,
        .reg = 0,                        /* always the accumulator */
    };
    return true;
}

bool mov_decode(const uint8_t *b, size_t n, enum mov_mode mode, struct mov_insn *out,
                const char **why)
{
    struct mov_insn d = {0};
    bool opsize16 = false, addr32 = false;
    unsigned rex = 0, i = 0;
    /* Legacy prefixes, then REX (which must come last, 2.2.1). */
    for (; i < n && i < 14; i++) {
        uint8_t p = b[i];
        if (p == 0x66)
            opsize16 = true;
        else if (p == 0x2e || p == 0x36 || p == 0x3e || p == 0x26 || p == 0x64 || p == 0x65)
            continue;                    /* segment override: the EPT gives the address */
        else if (p == 0x67 && mode == MOV_MODE_64)
            addr32 = true;               /* 32-bit addressing: same ModRM lengths */
        else if (p == 0x67 || p == 0xf0 || p == 0xf2 || p == 0xf3)
            return refuse(why, "prefix 67 (16-bit addressing), F0 (LOCK) or F2/F3 (REP)");
        else
            break;
    }
    if (mode == MOV_MODE_64 && i < n && (b[i] & 0xf0) == 0x40)
        rex = b[i++];
    if (i >= n)
        return refuse(why, "the instruction ends before its opcode");
    if (b[i] >= 0xa0 && b[i] <= 0xa3)
        return decode_moffs(b, n, i, mode == MOV_MODE_64 && !addr32 ? 8 : 4,
                            (rex & 8) ? 8 : opsize16 ? 2 : 4, out, why);
    // BEGIN EXERCISE 06-4: which MOV is it?
    // Instruction: Read the opcode, b[i++]. 88 and 8A move a byte (size 1); 89, 8B and C7 move
    //   8 bytes with REX.W (rex & 8), 2 with the 66 prefix (opsize16), else 4; C6 moves 1.
    //   88, 89, C6, C7 store (C6 and C7 an immediate), 8A and 8B load. 0F B6 and 0F B7 (read
    //   the second byte too) are MOVZX loads of 1 and 2 bytes into a register of 8 (REX.W),
    //   2 (66) or 4 bytes. Set d.size, d.dest_size (a load's register size), d.store,
    //   d.has_imm and d.zero_extend; refuse (refuse()) every other opcode.
    // Hint: SDM Vol. 2A, 2.2.1 (REX); Vol. 2B, MOV and MOVZX (the opcode tables).
    uint8_t op = b[i++];
    unsigned wide = (rex & 8) ? 8 : opsize16 ? 2 : 4;
    if (op == 0x0f) {
        if (i >= n || (b[i] != 0xb6 && b[i] != 0xb7))
            return refuse(why, "a two-byte opcode other than MOVZX (0F B6, 0F B7)");
        d.size = b[i++] == 0xb6 ? 1 : 2;
        d.zero_extend = true;
        d.dest_size = wide;
    } else if (op == 0x88 || op == 0x8a || op == 0xc6) {
        d.size = d.dest_size = 1;
    } else if (op == 0x89 || op == 0x8b || op == 0xc7) {
        d.size = d.dest_size = wide;
    } else {
        return refuse(why, "not a MOV to or from memory (88, 89, 8A, 8B, C6, C7) or MOVZX");
    }
    d.store = op == 0x88 || op == 0x89 || op == 0xc6 || op == 0xc7;
    d.has_imm = op == 0xc6 || op == 0xc7;
    // END EXERCISE 06-4
    /* ModRM.reg is the register operand, extended by REX.R (2.2.1.2); C6/C7 need /0. */
    if (i >= n)
        return refuse(why, "the instruction ends before its ModRM byte");
    d.reg = ((b[i] >> 3) & 7) | ((rex & 4) ? 8 : 0);
    if (d.has_imm && ((b[i] >> 3) & 7) != 0)
        return refuse(why, "C6/C7 with a ModRM.reg other than /0");
    /* Byte registers 4-7 are AH, CH, DH, BH without a REX prefix, SPL..DIL with one. */
    d.high_byte = d.size == 1 && !d.zero_extend && !rex && d.reg >= 4 && !d.has_imm;
    bool ok;
    unsigned m = modrm_length(b + i, n - i, &ok);
    if (!ok)
        return refuse(why, m == 0 ? "a register operand: not a memory access" : "truncated ModRM/SIB/displacement");
    i += m;
    if (d.has_imm) {
        unsigned isize = d.size == 1 ? 1 : opsize16 && d.size == 2 ? 2 : 4;   /* no imm64 */
        if (i + isize > n)
            return refuse(why, "truncated immediate");
        uint64_t v = 0;
        for (unsigned k = 0; k < isize; k++)
            v |= (uint64_t)b[i + k] << (8 * k);
        if (isize == 4 && d.size == 8 && (v & 0x80000000u))
            v |= 0xffffffff00000000ull;          /* imm32 sign-extended to 64 bits */
        d.imm = v;
        i += isize;
    }
    if (i > 15)
        return refuse(why, "longer than 15 bytes");
    d.length = i;
    *out = d;
    return true;
}

static uint64_t mask_of(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

uint64_t mov_store_value(const struct mov_insn *d, uint64_t reg_value)
{
    if (d->has_imm)
        return d->imm & mask_of(d->size);
    if (d->high_byte)
        return (reg_value >> 8) & 0xff;
    return reg_value & mask_of(d->size);
}

uint64_t mov_load_result(const struct mov_insn *d, uint64_t reg_value, uint64_t value)
{
    value &= mask_of(d->size);                    /* MOVZX: the upper bits are zero */
    if (d->high_byte)
        return (reg_value & ~0xff00ull) | value << 8;
    if (d->dest_size == 4 || d->dest_size == 8)
        return value;                             /* a 32-bit write zero-extends */
    return (reg_value & ~mask_of(d->dest_size)) | value;
}
