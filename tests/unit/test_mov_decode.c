/* test_mov_decode.c: chapter 06's MMIO instruction decoder on byte sequences produced by GNU as
 * (the listing is in each row's comment): length, size, direction, register, immediate. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "mov_decode.h"

struct row {
    const char *text;
    uint8_t bytes[15];
    unsigned n;
    /* expected */
    unsigned length, size, reg, dest_size;
    int store, has_imm, high_byte, zero_extend;
    uint64_t imm;
};

static const struct row good[] = {
    {"mov %al,(%rbx)", {0x88, 0x03}, 2, 2, 1, 0, 1, 1, 0, 0, 0, 0},
    {"mov %ax,0x2(%rbx)", {0x66, 0x89, 0x43, 0x02}, 4, 4, 2, 0, 2, 1, 0, 0, 0, 0},
    {"mov %eax,0x4(%rbx)", {0x89, 0x43, 0x04}, 3, 3, 4, 0, 4, 1, 0, 0, 0, 0},
    {"mov %rax,0x8(%rbx)", {0x48, 0x89, 0x43, 0x08}, 4, 4, 8, 0, 8, 1, 0, 0, 0, 0},
    {"mov %r9,0x10(%rbx,%rcx,8)", {0x4c, 0x89, 0x4c, 0xcb, 0x10}, 5, 5, 8, 9, 8, 1, 0, 0, 0, 0},
    {"mov (%rbx),%dl", {0x8a, 0x13}, 2, 2, 1, 2, 1, 0, 0, 0, 0, 0},
    {"mov 0x2(%rbx),%dx", {0x66, 0x8b, 0x53, 0x02}, 4, 4, 2, 2, 2, 0, 0, 0, 0, 0},
    {"mov 0x4(%rbx),%edx", {0x8b, 0x53, 0x04}, 3, 3, 4, 2, 4, 0, 0, 0, 0, 0},
    {"mov 0x8(%rbx),%r10", {0x4c, 0x8b, 0x53, 0x08}, 4, 4, 8, 10, 8, 0, 0, 0, 0, 0},
    {"movzbl (%rbx),%eax", {0x0f, 0xb6, 0x03}, 3, 3, 1, 0, 4, 0, 0, 0, 1, 0},
    {"movzwl 0x2(%rbx),%eax", {0x0f, 0xb7, 0x43, 0x02}, 4, 4, 2, 0, 4, 0, 0, 0, 1, 0},
    {"movzbq 0x30(%rbx),%r11", {0x4c, 0x0f, 0xb6, 0x5b, 0x30}, 5, 5, 1, 11, 8, 0, 0, 0, 1, 0},
    {"movb $0x12,0x20(%rbx)", {0xc6, 0x43, 0x20, 0x12}, 4, 4, 1, 0, 1, 1, 1, 0, 0, 0x12},
    {"movw $0x1234,0x22(%rbx)", {0x66, 0xc7, 0x43, 0x22, 0x34, 0x12}, 6, 6, 2, 0, 2, 1, 1, 0, 0, 0x1234},
    {"movl $0x89abcdef,0x24(%rbx)", {0xc7, 0x43, 0x24, 0xef, 0xcd, 0xab, 0x89}, 7, 7, 4, 0, 4, 1, 1, 0, 0, 0x89abcdef},
    {"movq $-2,0x28(%rbx)", {0x48, 0xc7, 0x43, 0x28, 0xfe, 0xff, 0xff, 0xff}, 8, 8, 8, 0, 8, 1, 1, 0, 0,
     0xfffffffffffffffeull},
    {"mov %ah,0x31(%rbx)", {0x88, 0x63, 0x31}, 3, 3, 1, 4, 1, 1, 0, 1, 0, 0},
    {"mov %sil,0x32(%rbx)", {0x40, 0x88, 0x73, 0x32}, 4, 4, 1, 6, 1, 1, 0, 0, 0, 0},
    {"mov %eax,%fs:0x100", {0x64, 0x89, 0x04, 0x25, 0x00, 0x01, 0x00, 0x00}, 8, 8, 4, 0, 4, 1, 0, 0, 0, 0},
    {"mov 0x12345678(%rip),%eax", {0x8b, 0x05, 0x78, 0x56, 0x34, 0x12}, 6, 6, 4, 0, 4, 0, 0, 0, 0, 0},
    {"movabs %eax,0xd0000000", {0xa3, 0x00, 0x00, 0x00, 0xd0, 0, 0, 0, 0}, 9, 9, 4, 0, 4, 1, 0, 0, 0, 0},
    {"mov %rax,(%rsp)", {0x48, 0x89, 0x04, 0x24}, 4, 4, 8, 0, 8, 1, 0, 0, 0, 0},
    {"mov 0x0(%rbp),%rax", {0x48, 0x8b, 0x45, 0x00}, 4, 4, 8, 0, 8, 0, 0, 0, 0, 0},
    {"mov %rax,0x11223344(,%rcx,4)", {0x48, 0x89, 0x04, 0x8d, 0x44, 0x33, 0x22, 0x11}, 8, 8, 8, 0, 8, 1, 0, 0, 0, 0},
    /* A longer buffer than the instruction: the length must still be exact. */
    {"mov %eax,0x4(%rbx); nop", {0x89, 0x43, 0x04, 0x90, 0x90}, 5, 3, 4, 0, 4, 1, 0, 0, 0, 0},
};

static const struct {
    const char *text;
    uint8_t bytes[15];
    unsigned n;
} bad[] = {
    {"addl $0x1,(%rbx)", {0x83, 0x03, 0x01}, 3},
    {"lock mov %eax,(%rbx)", {0xf0, 0x89, 0x03}, 3},
    {"rep movsb", {0xf3, 0xa4}, 2},
    {"mov %eax,%ecx (register)", {0x89, 0xc1}, 2},
    {"movsbl (%rbx),%eax (sign-extending)", {0x0f, 0xbe, 0x03}, 3},
    {"truncated disp32", {0x8b, 0x05, 0x78, 0x56}, 4},
    {"truncated imm32", {0xc7, 0x43, 0x24, 0xef, 0xcd}, 5},
    {"C7 /1", {0xc7, 0x4b, 0x24, 0, 0, 0, 0}, 7},
    {"prefix only", {0x66}, 1},
};

static void test_good(void)
{
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        const struct row *r = &good[i];
        struct mov_insn d;
        const char *why = "";
        bool ok = mov_decode(r->bytes, r->n, MOV_MODE_64, &d, &why);
        bool same = ok && d.length == r->length && d.size == r->size && d.reg == r->reg &&
                    d.dest_size == r->dest_size && d.store == r->store && d.has_imm == r->has_imm &&
                    d.high_byte == r->high_byte && d.zero_extend == r->zero_extend && d.imm == r->imm;
        if (!same)
            fprintf(stderr, "%s: ok %d (%s) length %u size %u reg %u dest %u store %d imm %d/0x%lx high %d zx %d\n",
                    r->text, ok, why, d.length, d.size, d.reg, d.dest_size, d.store, d.has_imm,
                    (unsigned long)d.imm, d.high_byte, d.zero_extend);
        CHECK(same);
    }
}

static void test_bad(void)
{
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct mov_insn d;
        const char *why = NULL;
        bool ok = mov_decode(bad[i].bytes, bad[i].n, MOV_MODE_64, &d, &why);
        if (ok || !why)
            fprintf(stderr, "%s: accepted\n", bad[i].text);
        CHECK(!ok && why);
    }
}

static void test_32bit_mode(void)
{
    struct mov_insn d;
    const char *why;
    /* In 32-bit code 0x48 is DEC EAX, not REX.W: refused as an opcode. */
    static const uint8_t rexw[] = {0x48, 0x89, 0x43, 0x08};
    CHECK(!mov_decode(rexw, sizeof(rexw), MOV_MODE_32, &d, &why));
    /* movl %eax, 0xfee000b0 as 32-bit code: A3 with a 4-byte address. */
    static const uint8_t moffs[] = {0xa3, 0xb0, 0x00, 0xe0, 0xfe};
    CHECK(mov_decode(moffs, sizeof(moffs), MOV_MODE_32, &d, &why) && d.length == 5 && d.size == 4 && d.store);
    /* 67 in 32-bit code means 16-bit addressing: refused. */
    static const uint8_t a16[] = {0x67, 0x89, 0x07};
    CHECK(!mov_decode(a16, sizeof(a16), MOV_MODE_32, &d, &why));
}

static void test_register_results(void)
{
    struct mov_insn d;
    const char *why;
    static const uint8_t mov_ah[] = {0x88, 0x63, 0x31}, load_dx[] = {0x66, 0x8b, 0x53, 0x02};
    static const uint8_t load_edx[] = {0x8b, 0x53, 0x04}, movzbq[] = {0x4c, 0x0f, 0xb6, 0x5b, 0x30};
    CHECK(mov_decode(mov_ah, sizeof(mov_ah), MOV_MODE_64, &d, &why));
    CHECK(mov_store_value(&d, 0x1122334455667788ull) == 0x77);
    CHECK(mov_decode(load_dx, sizeof(load_dx), MOV_MODE_64, &d, &why));
    CHECK(mov_load_result(&d, 0x1122334455667788ull, 0xabcd) == 0x112233445566abcdull);
    CHECK(mov_decode(load_edx, sizeof(load_edx), MOV_MODE_64, &d, &why));
    CHECK(mov_load_result(&d, 0x1122334455667788ull, 0xdeadbeef) == 0xdeadbeefull);
    CHECK(mov_decode(movzbq, sizeof(movzbq), MOV_MODE_64, &d, &why));
    CHECK(mov_load_result(&d, ~0ull, 0xfff7) == 0xf7);
}

int main(void)
{
    test_good();
    test_bad();
    test_32bit_mode();
    test_register_results();
    return CHECK_DONE();
}
