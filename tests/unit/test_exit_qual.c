/* test_exit_qual.c: chapter 05's decoders of exit qualifications and interruption information
 * against encodings built by hand from the SDM's tables (Vol. 3C, 24.9, 27.2). */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "exit_qual.h"
#include "vmx_exit.h"

const char *exception_mnemonic(int vector)
{
    return vector == 13 ? "#GP" : vector == 14 ? "#PF" : vector == 3 ? "#BP" : "#??";
}

static uint64_t io(unsigned port, unsigned size, int in, int string, int rep, int imm)
{
    return (uint64_t)port << 16 | (size - 1) | in << 3 | string << 4 | rep << 5 | imm << 6;
}

static void test_io(void)
{
    struct io_qual q;
    CHECK(io_qual_decode(io(0x3f8, 1, 0, 0, 0, 0), &q));
    CHECK(q.port == 0x3f8 && q.size == 1 && !q.in && !q.string && !q.rep && !q.imm);
    CHECK(io_qual_decode(io(0x510, 2, 1, 1, 1, 0), &q));
    CHECK(q.port == 0x510 && q.size == 2 && q.in && q.string && q.rep && !q.imm);
    CHECK(io_qual_decode(io(0x80, 4, 1, 0, 0, 1), &q));
    CHECK(q.port == 0x80 && q.size == 4 && q.in && q.imm);
    CHECK(io_qual_decode(io(0xffff, 1, 1, 0, 0, 0), &q) && q.port == 0xffff);
    /* Size field 2 (3 bytes) and 4-7 do not exist. */
    CHECK(!io_qual_decode(0x3f80002, &q));
    CHECK(!io_qual_decode(0x3f80004, &q));

    struct io_string_info si;
    CHECK(io_string_info_decode(2u << 7 | 3u << 15, &si) && si.addr_size == 8 && si.segment == 3);
    CHECK(io_string_info_decode(0, &si) && si.addr_size == 2 && si.segment == 0);
    CHECK(!io_string_info_decode(3u << 7, &si));          /* address size 3: reserved */
    CHECK(!io_string_info_decode(6u << 15, &si));         /* segment 6: none */

    char buf[96];
    exit_qual_describe(EXIT_REASON_IO_INSTRUCTION, io(0x3f8, 1, 0, 0, 0, 0), buf, sizeof(buf));
    CHECK(!strcmp(buf, "OUT of 1 byte to port 0x3f8 (DX)"));
    exit_qual_describe(EXIT_REASON_IO_INSTRUCTION, io(0x510, 2, 1, 1, 1, 0), buf, sizeof(buf));
    CHECK(!strcmp(buf, "REP INS of 2 bytes from port 0x510 (DX)"));
}

static void test_cr_dr(void)
{
    /* MOV to CR4 from RBX (register 3): CR 4, type 0, register in bits 11:8. */
    struct cr_qual c = cr_qual_decode(4 | 0 << 4 | 3 << 8);
    CHECK(c.cr == 4 && c.type == CR_ACCESS_MOV_TO_CR && c.gpr == 3);
    c = cr_qual_decode(0 | 1 << 4 | 15 << 8);
    CHECK(c.cr == 0 && c.type == CR_ACCESS_MOV_FROM_CR && c.gpr == 15);
    c = cr_qual_decode(0 | 3 << 4 | 1 << 6 | 0x000bull << 16);
    CHECK(c.type == CR_ACCESS_LMSW && c.lmsw_memory && c.lmsw_data == 0xb);
    char buf[96];
    exit_qual_describe(EXIT_REASON_CR_ACCESS, 0 | 0 << 4 | 8 << 8, buf, sizeof(buf));
    CHECK(!strcmp(buf, "MOV to CR0 from R8"));
    struct dr_qual d = dr_qual_decode(7 | 1 << 4 | 2 << 8);
    CHECK(d.dr == 7 && d.from_dr && d.gpr == 2);
}

static void test_ept_and_task_switch(void)
{
    /* A write to a page whose entry allows read and execute, linear address valid. */
    struct ept_violation_qual e = ept_violation_qual_decode(0x2 | 0x8 | 0x20 | 0x80 | 0x100);
    CHECK(!e.read && e.write && !e.fetch && e.readable && !e.writable && e.executable);
    CHECK(e.gla_valid && e.gla_translation && !e.nmi_unblocking);
    e = ept_violation_qual_decode(0x4 | 0x1000);
    CHECK(e.fetch && !e.readable && !e.gla_valid && e.nmi_unblocking);
    struct task_switch_qual t = task_switch_qual_decode(0x28 | 3ull << 30);
    CHECK(t.selector == 0x28 && t.source == 3);
}

static void test_intr_info(void)
{
    /* #GP with an error code, as VM_EXIT_INTR_INFO reports it. */
    struct intr_info i = intr_info_decode(0x80000b0d);
    CHECK(i.valid && i.has_error_code && i.vector == 13 && i.type == 3 && !i.nmi_unblocking);
    i = intr_info_decode(0x80000603);                     /* INT3: software exception */
    CHECK(i.valid && !i.has_error_code && i.vector == 3 && i.type == 6);
    CHECK(!intr_info_decode(0x0000030d).valid);
    CHECK(intr_type_has_length(4) && intr_type_has_length(5) && intr_type_has_length(6));
    CHECK(!intr_type_has_length(0) && !intr_type_has_length(3) && !intr_type_has_length(2));
    CHECK((0x80000b0du & INTR_INFO_ENTRY_MASK) == 0x80000b0du);
    CHECK((0x80001b0du & INTR_INFO_ENTRY_MASK) == 0x80000b0du);   /* bit 12 is not for entry */
    char buf[96];
    intr_info_describe(0x80000b0e, 0x2, buf, sizeof(buf));
    CHECK(!strcmp(buf, "#PF 14 (hardware exception), error code 0x2"));
    intr_info_describe(0x80000031, 0, buf, sizeof(buf));
    CHECK(!strcmp(buf, "vector 49 (external interrupt)"));
}

/* SDM Vol. 3A, Table 6-5. */
static void test_exception_combine(void)
{
    CHECK(exception_combine(14, 14) == EXCEPTION_DOUBLE_FAULT);
    CHECK(exception_combine(14, 13) == EXCEPTION_DOUBLE_FAULT);
    CHECK(exception_combine(13, 13) == EXCEPTION_DOUBLE_FAULT);
    CHECK(exception_combine(0, 10) == EXCEPTION_DOUBLE_FAULT);
    CHECK(exception_combine(13, 14) == EXCEPTION_SERIAL);
    CHECK(exception_combine(3, 13) == EXCEPTION_SERIAL);
    CHECK(exception_combine(14, 6) == EXCEPTION_SERIAL);
    CHECK(exception_combine(8, 13) == EXCEPTION_TRIPLE_FAULT);
    CHECK(exception_combine(8, 14) == EXCEPTION_TRIPLE_FAULT);
    CHECK(exception_combine(8, 6) == EXCEPTION_SERIAL);
}

int main(void)
{
    test_io();
    test_cr_dr();
    test_ept_and_task_switch();
    test_intr_info();
    test_exception_combine();
    return CHECK_DONE();
}
