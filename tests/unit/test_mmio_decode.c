/* test_mmio_decode.c: chapter 07's MMIO instruction decoder on the forms NimbOS and tinyos emit
 * (MOV, MOVZX, AND/OR/XOR/TEST with memory), their lengths and operands, and what it refuses. */
#include <string.h>

#include "check.h"
#include "mmio_decode.h"

#define DECODE(bytes, long_mode, d) mmio_decode((const uint8_t *)(bytes), sizeof(bytes) - 1, long_mode, d)

int main(void)
{
    struct mmio_insn d;
    /* NimbOS: clear HPET timer n's interrupt enable: and qword [rbp+rdx+0x100], -5 */
    CHECK(DECODE("\x48\x83\xa4\x15\x00\x01\x00\x00\xfb", true, &d) == 0);
    CHECK(d.op == MMIO_AND && d.to_mem && d.size == 8 && d.reg == -1 && d.len == 9);
    CHECK(d.imm == 0xfffffffffffffffbull);
    /* NimbOS, xAPIC: and ecx, [rax] (a read folded into an AND) */
    CHECK(DECODE("\x23\x08\xc1\xe6", true, &d) == 0);
    CHECK(d.op == MMIO_AND && !d.to_mem && d.size == 4 && d.reg == 1 && d.len == 2);
    /* MOV loads and stores: 32 and 64 bits, REX.R, 16 bits, RIP-relative, SIB forms */
    CHECK(DECODE("\x8b\x00", true, &d) == 0 && d.op == MMIO_MOV && !d.to_mem && d.size == 4 && d.len == 2);
    CHECK(DECODE("\x4c\x8b\x40\x10", true, &d) == 0 && d.reg == 8 && d.size == 8 && d.len == 4);
    CHECK(DECODE("\x48\x89\x10", true, &d) == 0 && d.to_mem && d.reg == 2 && d.size == 8 && d.len == 3);
    CHECK(DECODE("\x66\x89\x08", true, &d) == 0 && d.size == 2 && d.reg == 1 && d.len == 3);
    CHECK(DECODE("\x8b\x05\x10\x20\x30\x40", true, &d) == 0 && d.len == 6);
    CHECK(DECODE("\x8b\x04\x24", true, &d) == 0 && d.len == 3);
    CHECK(DECODE("\x8b\x04\x25\x00\x00\xe0\xfe", true, &d) == 0 && d.len == 7);
    CHECK(DECODE("\x8b\x84\x91\x00\x03\x00\x00", true, &d) == 0 && d.len == 7);
    CHECK(DECODE("\x3e\x8b\x40\x7f", false, &d) == 0 && d.len == 4);       /* DS prefix, 32-bit */
    /* Immediates: C7 imm32 (sign-extended with REX.W), C6 imm8, 66 C7 imm16 */
    CHECK(DECODE("\xc7\x00\x78\x56\x34\x12", true, &d) == 0 && d.to_mem && d.imm == 0x12345678 && d.len == 6);
    CHECK(DECODE("\x48\xc7\x40\x08\xff\xff\xff\xff", true, &d) == 0 && d.imm == ~0ull && d.size == 8 && d.len == 8);
    CHECK(DECODE("\xc6\x00\xab", true, &d) == 0 && d.size == 1 && d.imm == 0xab && d.len == 3);
    CHECK(DECODE("\x66\xc7\x00\x34\x12", true, &d) == 0 && d.size == 2 && d.imm == 0x1234 && d.len == 5);
    /* Byte registers: AH without REX, SPL with it; MOVZX destinations are never high bytes */
    CHECK(DECODE("\x88\x20", true, &d) == 0 && d.high_byte && d.reg == 0 && d.size == 1);
    CHECK(DECODE("\x40\x88\x20", true, &d) == 0 && !d.high_byte && d.reg == 4);
    CHECK(DECODE("\x0f\xb6\x30", true, &d) == 0 && !d.high_byte && d.reg == 6 && d.size == 1 && d.dest_size == 4);
    CHECK(DECODE("\x48\x0f\xb7\x00", true, &d) == 0 && d.size == 2 && d.dest_size == 8 && d.len == 4);
    /* OR/XOR both ways, TEST */
    CHECK(DECODE("\x09\x08", true, &d) == 0 && d.op == MMIO_OR && d.to_mem && d.reg == 1);
    CHECK(DECODE("\x33\x08", true, &d) == 0 && d.op == MMIO_XOR && !d.to_mem);
    CHECK(DECODE("\x81\x08\x00\x01\x00\x00", true, &d) == 0 && d.op == MMIO_OR && d.imm == 0x100 && d.len == 6);
    CHECK(DECODE("\x85\x08", true, &d) == 0 && d.op == MMIO_TEST && !d.to_mem && d.reg == 1);
    CHECK(DECODE("\xf7\x00\x00\x10\x00\x00", true, &d) == 0 && d.op == MMIO_TEST && d.imm == 0x1000 && d.len == 6);
    /* Refused: ADD/SUB/CMP (arithmetic flags), register operands, 16-bit addressing, cut bytes */
    CHECK(DECODE("\x01\x00", true, &d) == -1 && DECODE("\x83\x00\x01", true, &d) == -1);
    CHECK(DECODE("\x39\x00", true, &d) == -1 && DECODE("\x8b\xc0", true, &d) == -1);
    CHECK(DECODE("\x67\x8b\x00", true, &d) == -1 && DECODE("\xc7\x40\x00", true, &d) == -1);
    CHECK(DECODE("\x8b\x04", true, &d) == -1 && DECODE("\x0f\x05", true, &d) == -1);
    CHECK(DECODE("\xf7\x10", true, &d) == -1 && DECODE("\x48", true, &d) == -1);
    /* 0x48 is DEC EAX outside 64-bit mode: not a prefix, not a MOV */
    CHECK(DECODE("\x48\x8b\x00", false, &d) == -1);
    return CHECK_DONE();
}
