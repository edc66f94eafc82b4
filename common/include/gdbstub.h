/* gdbstub.h: a GDB remote-serial-protocol stub on COM2, so gdb can debug any chapter
 * kernel in Bochs, QEMU or on real hardware. docs/debugging.md shows how to use it. */
#ifndef GDBSTUB_H
#define GDBSTUB_H

#include <stdbool.h>

/*
 * The stub is off unless the command line asks for it:
 *
 *   gdb=1     stop before chapter_main() and wait for gdb on COM2
 *   gdb=run   arm the stub but do not wait; gdb may attach later (Ctrl-C stops)
 *
 * Once armed, breakpoints (int3), single step (RFLAGS.TF), fatal exceptions and
 * panic() stop in gdb, and a Ctrl-C from gdb interrupts the kernel wherever it
 * is, even in a "cli; for (;;)" loop: COM2's receive interrupt is routed through
 * the IOAPIC as an NMI (see gdbstub.c for why).
 */
void gdbstub_init(void);            /* kmain() calls it; reads gdb= from the command line */
bool gdbstub_active(void);          /* armed, and gdb has not detached */

/* Stop here as if gdb had set a breakpoint (does nothing when the stub is off). */
void gdbstub_breakpoint(void);

/*
 * For chapters that run a guest. Call gdbstub_guest_enter() right before
 * VMLAUNCH/VMRESUME and gdbstub_guest_exit() right after every VM exit: while
 * the guest runs, the Ctrl-C NMI is masked so the guest never receives it (an
 * NMI in VMX non-root operation without "NMI exiting" goes to the guest, SDM
 * Vol. 3C, 25.3); at the exit, a Ctrl-C that arrived meanwhile stops in gdb.
 * The stub never reads or writes guest state on its own.
 */
void gdbstub_guest_enter(void);
void gdbstub_guest_exit(void);

/* panic() and poweroff() call these so gdb sees the panic and the end of the run. */
void gdbstub_panic(void);
void gdbstub_exit(int status);

#endif
