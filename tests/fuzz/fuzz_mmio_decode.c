/* fuzz_mmio_decode.c: libFuzzer target for the instruction decoders behind MMIO emulation: chapter
 * 06's MOV/MOVZX decoder and chapter 07's AND/OR/XOR/TEST decoder, on any bytes a guest can place. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alu_decode.h"
#include "fuzz.h"
#include "mov_decode.h"

/*
 * Input: one byte of options (bit 0: 64-bit mode), then the instruction bytes. Chapter 07
 * fetches at most 15 bytes, fewer at the end of a page, and hands the same buffer to both
 * decoders (MOV first); so does this target. Invariants checked on every input:
 *   - an accepted instruction is 1-15 bytes, within the bytes given, with a size of 1, 2,
 *     4 or 8 and a register 0-15 (a high-byte register only for byte operations);
 *   - the decoder reads nothing past the instruction: the same bytes cut to the decoded
 *     length decode the same way (so a page end after the instruction cannot change it);
 *   - no byte sequence is both a MOV and an AND/OR/XOR/TEST;
 *   - the helpers that compute register results keep to the operand size.
 */
/* Field by field: a struct's padding bytes are not part of the answer. */
static bool same_mov(const struct mov_insn *a, const struct mov_insn *b)
{
    return a->length == b->length && a->size == b->size && a->store == b->store &&
           a->has_imm == b->has_imm && a->imm == b->imm && a->reg == b->reg &&
           a->high_byte == b->high_byte && a->dest_size == b->dest_size &&
           a->zero_extend == b->zero_extend;
}

static void check_mov(const uint8_t *code, unsigned n, enum mov_mode mode, uint64_t reg_value)
{
    struct mov_insn d, again;
    const char *why = NULL;
    if (!mov_decode(code, n, mode, &d, &why)) {
        FUZZ_ASSERT(why != NULL && why[0] != '\0');
        return;
    }
    FUZZ_ASSERT(d.length >= 1 && d.length <= n && d.length <= 15);
    FUZZ_ASSERT(d.size == 1 || d.size == 2 || d.size == 4 || d.size == 8);
    FUZZ_ASSERT(d.dest_size == 1 || d.dest_size == 2 || d.dest_size == 4 || d.dest_size == 8);
    FUZZ_ASSERT(d.reg <= 15);
    FUZZ_ASSERT(!d.high_byte || (d.size == 1 && d.reg >= 4 && d.reg <= 7));
    FUZZ_ASSERT(!d.has_imm || d.store);
    FUZZ_ASSERT(!d.zero_extend || (!d.store && d.dest_size >= d.size));   /* 66 0F B7: 16 to 16 */
    FUZZ_ASSERT(mode == MOV_MODE_64 || d.size != 8);
    FUZZ_ASSERT(mov_decode(code, d.length, mode, &again, &why));
    FUZZ_ASSERT(same_mov(&d, &again));
    uint64_t mask = d.size == 8 ? ~0ull : (1ull << (8 * d.size)) - 1;
    if (d.store)
        FUZZ_ASSERT((mov_store_value(&d, reg_value) & ~mask) == 0);
    else {
        uint64_t r = mov_load_result(&d, reg_value, ~0ull);
        if (d.dest_size == 4)
            FUZZ_ASSERT(r >> 32 == 0);          /* a 32-bit load zero-extends */
        if (d.dest_size <= 2 && !d.high_byte)
            FUZZ_ASSERT((r & ~((1ull << (8 * d.dest_size)) - 1)) ==
                        (reg_value & ~((1ull << (8 * d.dest_size)) - 1)));
    }
}

static void check_alu(const uint8_t *code, unsigned n, bool long_mode, uint64_t rflags)
{
    struct alu_insn d, again;
    if (alu_decode(code, n, long_mode, &d))
        return;
    FUZZ_ASSERT(d.len >= 1 && d.len <= n && d.len <= 15);
    FUZZ_ASSERT(d.size == 1 || d.size == 2 || d.size == 4 || d.size == 8);
    FUZZ_ASSERT(d.reg >= -1 && d.reg <= 15);
    FUZZ_ASSERT(!d.high_byte || (d.size == 1 && d.reg >= 0 && d.reg <= 3));
    FUZZ_ASSERT(d.op == ALU_TEST ? !d.to_mem || d.reg < 0 : 1);
    FUZZ_ASSERT(long_mode || d.size != 8);
    FUZZ_ASSERT(alu_decode(code, d.len, long_mode, &again) == 0);
    FUZZ_ASSERT(d.op == again.op && d.to_mem == again.to_mem && d.len == again.len &&
                d.size == again.size && d.reg == again.reg && d.high_byte == again.high_byte &&
                d.imm == again.imm);
    uint64_t mask = d.size == 8 ? ~0ull : (1ull << (8 * d.size)) - 1;
    uint64_t v = alu_result(&d, rflags * 0x9e3779b97f4a7c15ull, ~rflags);
    FUZZ_ASSERT((v & ~mask) == 0);
    /* Only CF, PF, ZF, SF and OF change (AF is undefined and kept). */
    uint64_t f = alu_flags(rflags, v, d.size);
    FUZZ_ASSERT(((f ^ rflags) & ~0x8c5ull) == 0);
    FUZZ_ASSERT(!(f & 1) && !(f & 0x800));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    bool long_mode = data[0] & 1;
    unsigned n = size - 1 > 15 ? 15 : (unsigned)(size - 1);
    /* An exact-size copy: ASan reports any read past the bytes the guest provided. */
    uint8_t *code = malloc(n ? n : 1);
    memcpy(code, data + 1, n);
    uint64_t salt = 0;
    for (unsigned i = 0; i < n; i++)
        salt = salt * 131 + code[i];
    check_mov(code, n, long_mode ? MOV_MODE_64 : MOV_MODE_32, salt);
    check_alu(code, n, long_mode, (salt & 0xfd7) | 2);
    struct mov_insn m;
    struct alu_insn a;
    const char *why;
    FUZZ_ASSERT(!(mov_decode(code, n, long_mode ? MOV_MODE_64 : MOV_MODE_32, &m, &why) &&
                  alu_decode(code, n, long_mode, &a) == 0));
    free(code);
    return 0;
}
