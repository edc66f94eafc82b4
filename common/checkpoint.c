/* checkpoint.c: prints checkpoint, skip and end lines in the format of
 * docs/checkpoints.md, and powers the machine off with the status. */
#include "checkpoint.h"

#include "exercise.h"
#include "gdbstub.h"
#include "kernel.h"
#include "serial.h"
#include "vmxtrace.h"

static char nonce[40];

const char *run_nonce(void)
{
    if (!nonce[0] && !cmdline_get("nonce", nonce, sizeof(nonce)))
        nonce[0] = '-', nonce[1] = '\0';
    return nonce;
}

void checkpoint(const char *id, const char *fields_fmt, ...)
{
    va_list ap;
    va_start(ap, fields_fmt);
    kprintf("@ckpt %s nonce=%s ", id, run_nonce());
    kvprintf(fields_fmt, ap);
    kprintf("\n");
    va_end(ap);
    vmx_trace("CHECKPOINT %s", id);     /* ends a section of the VMX timeline */
}

void skip_chapter(const char *reason_fmt, ...)
{
    va_list ap;
    va_start(ap, reason_fmt);
    kprintf("@skip nonce=%s ", run_nonce());
    kvprintf(reason_fmt, ap);
    kprintf("\n");
    va_end(ap);
    poweroff(STATUS_SKIP);
}

/*
 * Leave the emulator: QEMU's isa-debug-exit device (iobase 0xf4) exits with
 * (value << 1) | 1; Bochs exits when "Shutdown" is written to port 0x8900;
 * QEMU's ACPI power-off port 0x604 is the fallback. On real hardware none of
 * these exists and the CPU halts.
 */
void poweroff(int status)
{
    cli();
    kprintf("@end nonce=%s status=%d tsc=%lu\n", run_nonce(), status, rdtsc());
    gdbstub_exit(status);               /* gdb shows "exited with code N" */
    outb(0xf4, (uint8_t)status);
    for (const char *s = "Shutdown"; *s; s++)
        outb(0x8900, (uint8_t)*s);
    outw(0x604, 0x2000);
    for (;;)
        hlt();
}

void exercise_todo(const char *id, const char *func)
{
    kprintf("\nEXERCISE %s is not done yet (reached in %s): read its instruction and hint\n"
            "above TODO_EXERCISE(\"%s\") in the source.\n", id, func, id);
    kprintf("@todo nonce=%s exercise=%s\n", run_nonce(), id);
    poweroff(STATUS_FAIL);
}
