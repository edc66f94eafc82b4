/* fuzz_exit_qual.c: libFuzzer target for chapter 05's decoders of VM-exit fields (qualification,
 * interruption and instruction information): any 64-bit value, any buffer size for the reports. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exit_qual.h"
#include "fuzz.h"
#include "vmx_exit.h"

/* common/trap.c's table is kernel code: the host build gets the same answers for the report. */
const char *exception_mnemonic(int vector)
{
    static const char *const names[32] = {
        "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP", "#SS",
        "#GP", "#PF", "15", "#MF", "#AC", "#MC", "#XM", "#VE", "21", "22", "23", "24", "25", "26",
        "27", "28", "29", "#SX", "31"};
    return vector >= 0 && vector < 32 ? names[vector] : "IRQ";
}

struct input {
    uint64_t qualification;
    uint32_t info, error_code, reason;
    uint8_t first, second, buf_size;
};

/* A report into a buffer of exactly size bytes (ASan sees one byte too far): terminated,
 * and the returned length is what a large enough buffer would hold, as snprintf's. */
static void check_report(int n, const char *buf, size_t size)
{
    FUZZ_ASSERT(n >= 0);
    if (size) {
        size_t len = strnlen(buf, size);
        FUZZ_ASSERT(len < size);
        FUZZ_ASSERT(len == ((size_t)n < size ? (size_t)n : size - 1));
    }
}

static void check_decoders(const struct input *in)
{
    uint64_t q = in->qualification;
    struct io_qual io;
    if (io_qual_decode(q, &io)) {
        FUZZ_ASSERT(io.size == 1 || io.size == 2 || io.size == 4);
        FUZZ_ASSERT(io.port == (uint16_t)(q >> 16) && io.in == ((q >> 3) & 1));
        FUZZ_ASSERT(io.string == ((q >> 4) & 1) && io.rep == ((q >> 5) & 1) && io.imm == ((q >> 6) & 1));
    } else {
        FUZZ_ASSERT((q & 7) == 2 || (q & 7) > 3);
    }
    struct io_string_info si;
    if (io_string_info_decode(in->info, &si))
        FUZZ_ASSERT((si.addr_size == 2 || si.addr_size == 4 || si.addr_size == 8) && si.segment <= 5);
    struct cr_qual c = cr_qual_decode(q);
    FUZZ_ASSERT(c.cr <= 15 && c.gpr <= 15 && c.type <= 3);
    struct dr_qual d = dr_qual_decode(q);
    FUZZ_ASSERT(d.dr <= 7 && d.gpr <= 15);
    struct task_switch_qual t = task_switch_qual_decode(q);
    FUZZ_ASSERT(t.source <= 3);
    struct intr_info ii = intr_info_decode(in->info);
    FUZZ_ASSERT(ii.type <= 7 && ii.valid == (in->info >> 31));
    FUZZ_ASSERT(intr_type_name(ii.type) != NULL);
    enum exception_combination e = exception_combine(in->first, in->second);
    FUZZ_ASSERT(e == EXCEPTION_SERIAL || e == EXCEPTION_DOUBLE_FAULT || e == EXCEPTION_TRIPLE_FAULT);
    /* Anything on a double fault that is not benign ends in a triple fault (SDM Vol. 3A, 6.15). */
    if (in->first == 8 && (in->second == 0 || (in->second >= 10 && in->second <= 14)))
        FUZZ_ASSERT(e == EXCEPTION_TRIPLE_FAULT);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {0};
    memcpy(&in, data, size < sizeof(in) ? size : sizeof(in));
    check_decoders(&in);
    size_t bs = in.buf_size;
    char *buf = malloc(bs ? bs : 1);
    /* Every basic reason the SDM revision has, and a few it has not. */
    uint32_t reason = in.reason % 80;
    check_report(exit_qual_describe(reason, in.qualification, buf, bs), buf, bs);
    check_report(intr_info_describe(in.info, in.error_code, buf, bs), buf, bs);
    free(buf);
    return 0;
}
