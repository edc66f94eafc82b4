/* fake.c: a kernel that misbehaves on purpose, for the grader's own tests (grading/tests):
 * each "case=" on the command line is one way a student's kernel can go wrong. */
#include "kernel.h"
#include "serial.h"

const char chapter_title[] = "grader self-test kernel";

static char which[16];

/* The honest report: a value the test knows, and this run's nonce handed back. */
static void report(void)
{
    char id[40];
    ksnprintf(id, sizeof(id), "answer-%s", which);
    checkpoint(id, "value=%d", 42);
    ksnprintf(id, sizeof(id), "echo-%s", which);
    checkpoint(id, "back=0x%s", run_nonce());
}

static void raw(const char *s)
{
    while (*s)
        serial_putc(COM1_PORT, *s++);
}

/* Leave the emulator without printing the "@end" line (poweroff() prints one). */
static _Noreturn void quiet_poweroff(void)
{
    outb(0xf4, 0);
    for (const char *s = "Shutdown"; *s; s++)
        outb(0x8900, (uint8_t)*s);
    for (;;)
        hlt();
}

/* Every byte value, escape sequences, carriage returns, and protocol lines that are
 * broken or belong to no run: none of it may confuse the grader. */
static void garbage(void)
{
    for (int round = 0; round < 8; round++)
        for (int b = 0; b < 256; b++)
            serial_putc(COM1_PORT, (char)(b ^ (round * 37)));
    raw("\n\x1b[2J\x1b[31m\r@ckpt\n@end\n@ckpt answer-other nonce=\xff\xfe value=\x01\n");
    raw("@end nonce=0000000000000000 status=0 tsc=1\n@skip\n\xef\xbb\xbf\xc3\x28\n");
}

static void flood(unsigned long lines)
{
    for (unsigned long i = 0; lines == 0 || i < lines; i++)
        kprintf("flood %08lx: the kernel is printing a lot, as a runaway loop would\n", i);
}

static _Noreturn void triple_fault(void)
{
    struct dtr none = {0, 0};
    asm volatile("lidt %0; int3" : : "m"(none));
    for (;;)
        hlt();
}

int chapter_main(void)
{
    cmdline_get("case", which, sizeof(which));
    if (!strcmp(which, "triple")) {
        raw("binary \x01\x02\x1b[0m\x7f\xff before dying\n");   /* reports must show it safely */
        /* Bochs loses what the UART has not sent yet when it stops: wait until it is empty. */
        while (!(inb(COM1_PORT + 5) & 0x40))
            cpu_relax();
        triple_fault();                        /* before the first checkpoint */
    }
    if (!strcmp(which, "hang"))
        for (;;)
            hlt();
    if (!strcmp(which, "garbage"))
        garbage();
    if (!strcmp(which, "flood"))
        flood(16384);                          /* 1.2 MB, then the report */
    if (!strcmp(which, "endless"))
        flood(0);
    if (!strcmp(which, "fakenonce")) {
        /* A recorded line from another run, and one without a nonce at all. */
        kprintf("@ckpt answer-fakenonce nonce=0123456789abcdef value=42\n");
        kprintf("@ckpt echo-fakenonce back=0x%s\n", run_nonce());
        return STATUS_OK;
    }
    report();
    if (!strcmp(which, "nonewline")) {
        kprintf("@end nonce=%s status=0 tsc=0", run_nonce());   /* the log's last line, unended */
        quiet_poweroff();
    }
    return STATUS_OK;
}
