/* vmxtrace.c: the trace lines of vmxtrace.h, printed only when the command line asks,
 * and the switch for Bochs' instruction trace through its iodebug port. */
#include "vmxtrace.h"

#include "kernel.h"

#define BOCHS_IODEBUG_PORT 0x8a00
#define IODEBUG_ENABLE 0x8a00
#define IODEBUG_TRACE_ON 0x8ae3
#define IODEBUG_TRACE_OFF 0x8ae2
#define BOCHS_E9_PORT 0xe9

enum {
    TRACE_LINES = 1,            /* vmxtrace=1, e9 or insns */
    TRACE_E9 = 2,               /* the lines go to Bochs' port 0xE9, not the console */
    TRACE_INSNS = 4,            /* and Bochs traces instructions where the kernel asks */
};
static int mode = -1;           /* -1: the command line was not read yet */

static int trace_mode(void)
{
    if (mode < 0) {
        char v[8];
        if (!cmdline_get("vmxtrace", v, sizeof(v)) || !strcmp(v, "0"))
            mode = 0;
        else if (!strcmp(v, "insns"))
            mode = TRACE_LINES | TRACE_E9 | TRACE_INSNS;
        else
            mode = TRACE_LINES | (!strcmp(v, "e9") ? TRACE_E9 : 0);
    }
    return mode;
}

bool vmx_trace_enabled(void)
{
    return trace_mode() != 0;
}

/*
 * One line, "vmxtrace tsc=<TSC> ...". On the console it costs the emulated serial
 * line's time, about 87 us per character at 115200 baud: long enough for a timer to
 * fire between two lines, so a chapter with a periodic timer could spend all its
 * time printing. Bochs' port 0xE9 ("port_e9_hack: enabled=1", which tools/runner.py
 * sets for traced runs) takes a character per OUT instruction, without delay.
 */
static void emit(const char *fmt, va_list ap)
{
    if (!(trace_mode() & TRACE_E9)) {
        kprintf("vmxtrace tsc=%lu ", rdtsc());
        kvprintf(fmt, ap);
        kprintf("\n");
        return;
    }
    char line[256];
    int n = ksnprintf(line, sizeof(line), "vmxtrace tsc=%lu ", rdtsc());
    kvsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    for (const char *p = line; *p; p++)
        outb(BOCHS_E9_PORT, (uint8_t)*p);
    outb(BOCHS_E9_PORT, '\n');
}

void vmx_trace(const char *fmt, ...)
{
    if (!trace_mode())
        return;
    va_list ap;
    va_start(ap, fmt);
    emit(fmt, ap);
    va_end(ap);
}

static void trace_line(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(fmt, ap);
    va_end(ap);
}

void vmx_trace_insns(bool on)
{
    if (!(trace_mode() & TRACE_INSNS))
        return;
    /* The trace must not cover this function's own output. */
    if (on)
        trace_line("INSNS on");
    outw(BOCHS_IODEBUG_PORT, IODEBUG_ENABLE);
    outw(BOCHS_IODEBUG_PORT, on ? IODEBUG_TRACE_ON : IODEBUG_TRACE_OFF);
    if (!on)
        trace_line("INSNS off");
}
