/* fuzz_mmio_diff.c: libFuzzer target comparing the MMIO decoders (chapters 06 and 07) with an
 * independent disassembler, Capstone: whatever they accept must be that instruction, that length. */
#include <capstone/capstone.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alu_decode.h"
#include "fuzz.h"
#include "mov_decode.h"

/*
 * Input as fuzz_mmio_decode.c: an options byte (bit 0: 64-bit mode), then the bytes. When
 * chapter 06's MOV decoder or chapter 07's ALU decoder accepts them, Capstone (Debian's
 * libcapstone) must decode the same bytes as one instruction of the same length and kind
 * (MOV/MOVZX/MOVABS, AND/OR/XOR/TEST), with a memory operand of the decoded size in the
 * decoded direction, the same register or immediate. A wrong length moves the guest's RIP
 * into the middle of an instruction; a wrong register or size corrupts its state.
 */
static csh handle[2];

/* Capstone's register to (number 0-15, high byte); -1 if it is none of the 16. */
static int reg_number(x86_reg r, bool *high)
{
    static const x86_reg regs[][4] = {
        {X86_REG_AL, X86_REG_AX, X86_REG_EAX, X86_REG_RAX}, {X86_REG_CL, X86_REG_CX, X86_REG_ECX, X86_REG_RCX},
        {X86_REG_DL, X86_REG_DX, X86_REG_EDX, X86_REG_RDX}, {X86_REG_BL, X86_REG_BX, X86_REG_EBX, X86_REG_RBX},
        {X86_REG_SPL, X86_REG_SP, X86_REG_ESP, X86_REG_RSP}, {X86_REG_BPL, X86_REG_BP, X86_REG_EBP, X86_REG_RBP},
        {X86_REG_SIL, X86_REG_SI, X86_REG_ESI, X86_REG_RSI}, {X86_REG_DIL, X86_REG_DI, X86_REG_EDI, X86_REG_RDI},
        {X86_REG_R8B, X86_REG_R8W, X86_REG_R8D, X86_REG_R8}, {X86_REG_R9B, X86_REG_R9W, X86_REG_R9D, X86_REG_R9},
        {X86_REG_R10B, X86_REG_R10W, X86_REG_R10D, X86_REG_R10}, {X86_REG_R11B, X86_REG_R11W, X86_REG_R11D, X86_REG_R11},
        {X86_REG_R12B, X86_REG_R12W, X86_REG_R12D, X86_REG_R12}, {X86_REG_R13B, X86_REG_R13W, X86_REG_R13D, X86_REG_R13},
        {X86_REG_R14B, X86_REG_R14W, X86_REG_R14D, X86_REG_R14}, {X86_REG_R15B, X86_REG_R15W, X86_REG_R15D, X86_REG_R15},
    };
    static const x86_reg highs[4] = {X86_REG_AH, X86_REG_CH, X86_REG_DH, X86_REG_BH};
    *high = false;
    for (int i = 0; i < 4; i++)
        if (r == highs[i])
            return *high = true, i;
    for (int i = 0; i < 16; i++)
        for (int w = 0; w < 4; w++)
            if (regs[i][w] == r)
                return i;
    return -1;
}

/* The one memory operand and the other one of a two-operand instruction (Intel order). */
struct cs_view {
    unsigned size, mem_size;
    unsigned id;
    int mem_index;               /* 0: memory is the destination, 1: the source */
    const cs_x86_op *other;
};

static bool view(const uint8_t *code, unsigned n, bool long_mode, struct cs_view *v, cs_insn **insn)
{
    size_t count = cs_disasm(handle[long_mode], code, n, 0x1000, 1, insn);
    if (count != 1)
        return false;
    const cs_x86 *x = &(*insn)->detail->x86;
    *v = (struct cs_view){(*insn)->size, 0, (*insn)->id, -1, NULL};
    for (int i = 0; i < x->op_count && i < 2; i++) {
        if (x->operands[i].type == X86_OP_MEM)
            v->mem_index = i, v->mem_size = x->operands[i].size;
        else
            v->other = &x->operands[i];
    }
    return x->op_count == 2 && v->mem_index >= 0 && v->other;
}

static void check_mov(const uint8_t *code, unsigned n, bool long_mode, const struct mov_insn *d)
{
    cs_insn *insn = NULL;
    struct cs_view v;
    bool high;
    FUZZ_ASSERT(view(code, n, long_mode, &v, &insn));
    FUZZ_ASSERT(v.size == d->length);
    FUZZ_ASSERT(v.id == X86_INS_MOV || v.id == X86_INS_MOVZX || v.id == X86_INS_MOVABS);
    FUZZ_ASSERT(v.mem_size == d->size);
    FUZZ_ASSERT(v.mem_index == (d->store ? 0 : 1));
    if (d->has_imm) {
        FUZZ_ASSERT(v.other->type == X86_OP_IMM);
        uint64_t mask = d->size == 8 ? ~0ull : (1ull << (8 * d->size)) - 1;
        FUZZ_ASSERT(((uint64_t)v.other->imm & mask) == (d->imm & mask));
    } else {
        FUZZ_ASSERT(v.other->type == X86_OP_REG);
        int r = reg_number(v.other->reg, &high);                    /* AH is reg 4 there */
        FUZZ_ASSERT(r == (int)(d->high_byte ? d->reg - 4 : d->reg) && high == d->high_byte);
        FUZZ_ASSERT(d->store || v.other->size == d->dest_size);
    }
    cs_free(insn, 1);
}

static void check_alu(const uint8_t *code, unsigned n, bool long_mode, const struct alu_insn *d)
{
    static const unsigned ids[4] = {X86_INS_AND, X86_INS_OR, X86_INS_XOR, X86_INS_TEST};
    cs_insn *insn = NULL;
    struct cs_view v;
    bool high;
    FUZZ_ASSERT(view(code, n, long_mode, &v, &insn));
    FUZZ_ASSERT(v.size == d->len);
    FUZZ_ASSERT(v.id == ids[d->op]);
    FUZZ_ASSERT(v.mem_size == d->size);
    FUZZ_ASSERT(d->op == ALU_TEST || v.mem_index == (d->to_mem ? 0 : 1));
    if (d->reg < 0) {
        FUZZ_ASSERT(v.other->type == X86_OP_IMM);
        uint64_t mask = d->size == 8 ? ~0ull : (1ull << (8 * d->size)) - 1;
        FUZZ_ASSERT(((uint64_t)v.other->imm & mask) == (d->imm & mask));
    } else {
        FUZZ_ASSERT(v.other->type == X86_OP_REG);
        int r = reg_number(v.other->reg, &high);
        FUZZ_ASSERT(r == d->reg && high == d->high_byte);
    }
    cs_free(insn, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!handle[0]) {
        if (cs_open(CS_ARCH_X86, CS_MODE_32, &handle[0]) || cs_open(CS_ARCH_X86, CS_MODE_64, &handle[1]))
            abort();
        cs_option(handle[0], CS_OPT_DETAIL, CS_OPT_ON);
        cs_option(handle[1], CS_OPT_DETAIL, CS_OPT_ON);
    }
    if (size < 1)
        return 0;
    bool long_mode = data[0] & 1;
    unsigned n = size - 1 > 15 ? 15 : (unsigned)(size - 1);
    const uint8_t *code = data + 1;
    struct mov_insn m;
    struct alu_insn a;
    const char *why;
    if (mov_decode(code, n, long_mode ? MOV_MODE_64 : MOV_MODE_32, &m, &why))
        check_mov(code, n, long_mode, &m);
    else if (alu_decode(code, n, long_mode, &a) == 0)
        check_alu(code, n, long_mode, &a);
    return 0;
}
