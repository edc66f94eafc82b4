/* trap.c: what happens after an interrupt or exception stub (trap.S): the LAPIC timer
 * drives the scheduler; a faulting user program is killed; a faulting kernel panics. */
#include "kernel.h"

static const char *const exception_names[32] = {
    "Divide Error", "Debug", "NMI", "Breakpoint", "Overflow", "BOUND Range Exceeded",
    "Invalid Opcode", "Device Not Available", "Double Fault", "Coprocessor Segment Overrun",
    "Invalid TSS", "Segment Not Present", "Stack Fault", "General Protection",
    "Page Fault", "Reserved", "x87 FPU Error", "Alignment Check", "Machine Check",
    "SIMD Floating-Point", "Virtualization", "Control Protection",
};

void trap_dispatch(struct trapframe *tf)
{
    switch (tf->vector) {
    case VEC_TIMER:
        lapic_eoi();
        task_tick();
        return;
    case VEC_SPURIOUS:           /* no EOI for a spurious interrupt (SDM Vol. 3A, 10.9) */
        return;
    case VEC_ERROR:
        kprintf("[tinyos] LAPIC error interrupt\n");
        lapic_eoi();
        return;
    }
    const char *name = tf->vector < 32 && exception_names[tf->vector] ? exception_names[tf->vector]
                                                                       : "Exception";
    if ((tf->cs & 3) == 3) {
        /* A user program's fault ends the program, not the system: exit code -1. */
        if (tf->vector == 14)
            kprintf("Page Fault @ 0x%lx, kernel killed it. (pid %d, rip 0x%lx, error 0x%lx)\n",
                    read_cr2(), task_pid(current), tf->rip, tf->error);
        else
            kprintf("%s @ rip 0x%lx, kernel killed it. (pid %d)\n", name, tf->rip,
                    task_pid(current));
        task_exit(-1);
    }
    panic("%s (vector %lu) in the kernel at rip 0x%lx, error 0x%lx, cr2 0x%lx", name,
          tf->vector, tf->rip, tf->error, read_cr2());
}
