/* main.c: tinyos's kmain(): bring up the console, CPU tables, memory, timers and
 * tasks, start two kernel tasks and the user shell, then become the idle task. */
#include "kernel.h"

/* The kernel tasks show that kernel code is scheduled like any program. */
static void test_kernel_task(u64 arg)
{
    kprintf("test kernel task: pid = TaskId(%d), arg = 0x%lx\n", task_pid(current), arg);
    for (int i = 0; i < 3; i++)
        task_yield();
}

void kmain(void)
{
    console_init();
    kprintf("\narch = x86_64\nplatform = tinyos-x86_64\n");
    cpu_init();
    mm_init();
    outb(0x21, 0xFF);            /* mask both 8259 PICs: the LAPIC timer is the only source */
    outb(0xA1, 0xFF);
    timer_init();
    task_init();

    kprintf("Running tasks...\n");
    struct task *shell = task_user("shell", NULL);
    if (!shell)
        panic("cannot start the shell");
    task_start(task_kernel(test_kernel_task, 0xdead));
    task_start(task_kernel(test_kernel_task, 0xbeef));
    task_start(shell);
    task_idle();
}
