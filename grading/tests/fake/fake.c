/* fake.c: a test-only kernel for the grader's own tests (grading/tests/): it misbehaves
 * the way "case=" on the command line asks (hang, garbage, flood, triple fault, forged lines). */
#include "exercise.h"
#include "kernel.h"
#include "serial.h"

const char chapter_title[] = "grader test kernel";

/* A value only this run can know: the first 8 hex digits of the nonce, transformed. */
static uint64_t from_nonce(void)
{
    uint64_t v = 0;
    const char *n = run_nonce();
    for (int i = 0; i < 8 && n[i]; i++)
        v = v * 16 + (uint64_t)(n[i] <= '9' ? n[i] - '0' : (n[i] | 0x20) - 'a' + 10);
    return v ^ 0x5a5a5a5a;
}

static void good_lines(void)
{
    checkpoint("a", "v=42");
    checkpoint("b", "v=0x%lx", from_nonce());
}

/* The Bochs and QEMU exits poweroff() uses, without its "@end" line. */
static _Noreturn void raw_exit(void)
{
    outb(0xf4, 0);
    for (const char *s = "Shutdown"; *s; s++)
        outb(0x8900, (uint8_t)*s);
    for (;;)
        cpu_relax();
}

static void garbage(void)
{
    uint32_t x = 12345;
    for (int i = 0; i < 4096; i++) {
        x = x * 1103515245 + 12345;
        serial_putc(COM1_PORT, (char)(x >> 16));
    }
    /* Fragments that look like protocol lines but are not at the start of a line. */
    kprintf(" @ckpt a nonce=%s v=1 \x1b[2J\x7f\n", run_nonce());
    serial_putc(COM1_PORT, '\0');
    serial_putc(COM1_PORT, '\n');
}

static void forged(void)
{
    kprintf("@ckpt a nonce=0123456789abcdef v=42\n");        /* a recorded run's nonce */
    kprintf("@ckpt b v=0x%lx\n", from_nonce());               /* no nonce at all */
    kprintf("@ckpt a nonce= v=42\n");                         /* an empty one */
}

static _Noreturn void triple_fault(void)
{
    struct dtr none = { 0, 0 };
    asm volatile("lidt %0; int3" : : "m"(none));
    for (;;)
        cpu_relax();
}

int chapter_main(void)
{
    char c[16] = "ok";
    cmdline_get("case", c, sizeof(c));
    if (!strcmp(c, "triple"))
        triple_fault();
    if (!strcmp(c, "garbage"))
        garbage();
    if (!strcmp(c, "forged")) {
        forged();
        return STATUS_OK;
    }
    if (!strcmp(c, "todo"))
        TODO_EXERCISE("99-1");
    if (!strcmp(c, "nonl")) {
        checkpoint("a", "v=42");
        kprintf("@ckpt b nonce=%s v=0x%lx", run_nonce(), from_nonce());
        raw_exit();
    }
    if (!strcmp(c, "hang")) {
        checkpoint("a", "v=42");
        for (;;)
            cpu_relax();
    }
    good_lines();
    if (!strcmp(c, "flood"))
        for (uint64_t i = 0;; i++)
            kprintf("flood %lu: the kernel prints without end .............................\n", i);
    if (!strcmp(c, "big")) {
        uint64_t n = cmdline_get_u64("kib", 1024);
        for (uint64_t i = 0; i < n * 16; i++)
            kprintf("%063lu\n", i);         /* 64 bytes a line */
        checkpoint("big", "lines=%lu", n * 16);
    }
    return STATUS_OK;
}
