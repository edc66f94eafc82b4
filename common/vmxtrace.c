/* vmxtrace.c: the trace lines of vmxtrace.h, printed only when the command line asks,
 * and the switch for Bochs' instruction trace through its iodebug port. */
#include "vmxtrace.h"

#include "kernel.h"

#define BOCHS_IODEBUG_PORT 0x8a00
#define IODEBUG_ENABLE 0x8a00
#define IODEBUG_TRACE_ON 0x8ae3
#define IODEBUG_TRACE_OFF 0x8ae2

static int mode = -1;            /* -1 not read yet, 0 off, 1 lines, 2 lines and instructions */

static int trace_mode(void)
{
    if (mode < 0) {
        char v[8];
        mode = !cmdline_get("vmxtrace", v, sizeof(v)) || !strcmp(v, "0") ? 0
               : !strcmp(v, "insns") ? 2 : 1;
    }
    return mode;
}

bool vmx_trace_enabled(void)
{
    return trace_mode() > 0;
}

void vmx_trace(const char *fmt, ...)
{
    if (!trace_mode())
        return;
    va_list ap;
    va_start(ap, fmt);
    kprintf("vmxtrace tsc=%lu ", rdtsc());
    kvprintf(fmt, ap);
    kprintf("\n");
    va_end(ap);
}

void vmx_trace_insns(bool on)
{
    if (trace_mode() != 2)
        return;
    /* The trace must not cover this function's own (long) console output. */
    if (on)
        kprintf("vmxtrace tsc=%lu INSNS on\n", rdtsc());
    outw(BOCHS_IODEBUG_PORT, IODEBUG_ENABLE);
    outw(BOCHS_IODEBUG_PORT, on ? IODEBUG_TRACE_ON : IODEBUG_TRACE_OFF);
    if (!on)
        kprintf("vmxtrace tsc=%lu INSNS off\n", rdtsc());
}
