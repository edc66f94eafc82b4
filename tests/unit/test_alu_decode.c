/* test_alu_decode.c: chapter 07's decoder for AND/OR/XOR/TEST on device registers (the forms NimbOS
 * emits that chapter 06's MOV decoder refuses): lengths, operands, results, flags, refusals. */
#include "alu_decode.h"
#include "check.h"

#define DECODE(bytes, long_mode, d) alu_decode((const uint8_t *)(bytes), sizeof(bytes) - 1, long_mode, d)
#define CF 0x1ull
#define PF 0x4ull
#define ZF 0x40ull
#define SF 0x80ull
#define OF 0x800ull

int main(void)
{
    struct alu_insn d;
    /* NimbOS: clear HPET timer n's interrupt enable: and qword [rbp+rdx+0x100], -5 */
    CHECK(DECODE("\x48\x83\xa4\x15\x00\x01\x00\x00\xfb", true, &d) == 0);
    CHECK(d.op == ALU_AND && d.to_mem && d.size == 8 && d.reg == -1 && d.len == 9);
    CHECK(d.imm == 0xfffffffffffffffbull);
    CHECK(alu_result(&d, 0x00f0000000000034ull, d.imm) == 0x00f0000000000030ull);
    /* NimbOS, xAPIC: and ecx, [rax] (reading the LVT timer folded into an AND) */
    CHECK(DECODE("\x23\x08\xc1\xe6", true, &d) == 0);
    CHECK(d.op == ALU_AND && !d.to_mem && d.size == 4 && d.reg == 1 && d.len == 2);
    /* The other forms: OR/XOR both ways, 16-bit and byte operands, imm32, TEST */
    CHECK(DECODE("\x09\x08", true, &d) == 0 && d.op == ALU_OR && d.to_mem && d.reg == 1 && d.size == 4);
    CHECK(DECODE("\x4c\x0b\x40\x10", true, &d) == 0 && d.op == ALU_OR && !d.to_mem && d.reg == 8 && d.size == 8 && d.len == 4);
    CHECK(DECODE("\x33\x04\x24", true, &d) == 0 && d.op == ALU_XOR && !d.to_mem && d.len == 3);
    CHECK(DECODE("\x66\x21\x08", true, &d) == 0 && d.size == 2 && d.len == 3);
    CHECK(DECODE("\x20\x20", true, &d) == 0 && d.size == 1 && d.high_byte && d.reg == 0);   /* and [rax], ah */
    CHECK(DECODE("\x40\x20\x20", true, &d) == 0 && !d.high_byte && d.reg == 4);           /* and [rax], spl */
    CHECK(DECODE("\x81\x08\x00\x01\x00\x00", true, &d) == 0 && d.op == ALU_OR && d.imm == 0x100 && d.len == 6);
    CHECK(DECODE("\x66\x81\x08\x34\x12", true, &d) == 0 && d.size == 2 && d.imm == 0x1234 && d.len == 5);
    CHECK(DECODE("\x80\x30\x0f", true, &d) == 0 && d.op == ALU_XOR && d.size == 1 && d.imm == 0xf);
    CHECK(DECODE("\x85\x08", true, &d) == 0 && d.op == ALU_TEST && !d.to_mem && d.reg == 1);
    CHECK(DECODE("\xf7\x80\x20\x03\x00\x00\x00\x00\x01\x00", true, &d) == 0 && d.op == ALU_TEST &&
          d.imm == 0x10000 && d.len == 10);
    CHECK(DECODE("\x3e\x21\x40\x7f", false, &d) == 0 && d.len == 4);       /* DS prefix, 32-bit code */
    CHECK(DECODE("\x21\x05\x10\x20\x30\x40", true, &d) == 0 && d.len == 6);  /* RIP-relative */
    /* Flags: CF = OF = 0; ZF, SF, PF from the result at the operand size; the rest kept */
    CHECK(alu_flags(CF | OF | 0x202, 0, 4) == (ZF | PF | 0x202));
    CHECK(alu_flags(0x2, 0x80000000u, 4) == (SF | PF | 0x2));
    CHECK(alu_flags(0x2, 0x80000000u, 8) == (PF | 0x2));
    CHECK(alu_flags(ZF | 0x2, 0x7, 1) == 0x2);                             /* odd parity */
    CHECK(alu_result(&(struct alu_insn){.op = ALU_XOR, .size = 1}, 0x1ff, 0xf0) == 0x0f);
    /* Refused: MOV (chapter 06's), ADD/SUB/CMP (arithmetic flags), register operands,
     * 16-bit addressing, TEST /1, cut bytes, REX outside 64-bit mode */
    CHECK(DECODE("\x8b\x00", true, &d) == -1 && DECODE("\x89\x00", true, &d) == -1);
    CHECK(DECODE("\x01\x00", true, &d) == -1 && DECODE("\x83\x00\x01", true, &d) == -1);
    CHECK(DECODE("\x39\x00", true, &d) == -1 && DECODE("\x21\xc0", true, &d) == -1);
    CHECK(DECODE("\x67\x21\x00", true, &d) == -1 && DECODE("\xf7\x08\x00\x00\x00\x00", true, &d) == -1);
    CHECK(DECODE("\x81\x20\x00\x01", true, &d) == -1 && DECODE("\x21\x04", true, &d) == -1);
    CHECK(DECODE("\x48", true, &d) == -1 && DECODE("\x48\x21\x00", false, &d) == -1);
    return CHECK_DONE();
}
