/* stress.c: many system calls, bad arguments that must fail cleanly, and four
 * children sharing the CPU; checks that no frame leaked and the tick preempted them. */
#include "ulib.h"

#define CALLS 2000
#define CHILDREN 4

int main(void)
{
    struct tinyos_stats before, after;
    int errors = 0, code;
    stats(&before);

    long pid = getpid();
    unsigned long t0 = rdtsc();
    for (int i = 0; i < CALLS; i++)
        errors += getpid() != pid;
    unsigned long cycles = (rdtsc() - t0) / CALLS;
    for (int i = 0; i < 100; i++)
        errors += yield() != 0;

    /* Each of these must return -1, not crash the kernel. */
    errors += write((void *)0x10, 4) != -1;                     /* unmapped */
    errors += write((void *)0xFFFFFFFF80200000ul, 4) != -1;     /* kernel memory */
    errors += read((void *)0x400000, 1) != -1;                  /* read-only program text */
    errors += syscall3(999, 0, 0, 0) != -1;                     /* no such system call */
    errors += spawn("no-such-program") != -1;
    errors += wait(12345, &code) != -1;                         /* not a child */
    errors += sleep_us(~0ul) != -1;
    errors += stats((void *)0) != -1;

    /* The children run at once; each reports whether the tick took the CPU from it. */
    long pids[CHILDREN];
    int preempted_children = 0;
    for (int i = 0; i < CHILDREN; i++)
        pids[i] = spawn("child");
    for (int i = 0; i < CHILDREN; i++) {
        errors += pids[i] < 0 || wait(pids[i], &code) != pids[i] || code % 100 != pids[i] % 100;
        preempted_children += code == pids[i] % 100;
    }
    errors += preempted_children != CHILDREN;

    stats(&after);
    long leaked = (long)before.free_frames - (long)after.free_frames;
    unsigned long preempted = after.preemptions - before.preemptions;
    errors += leaked != 0;
    errors += preempted == 0;
    printf("syscall-stress: calls=%d cycles_per_call=%lu children=%d children_preempted=%d "
           "preemptions=%lu leaked_frames=%ld errors=%d\n", CALLS, cycles, CHILDREN,
           preempted_children, preempted, leaked, errors);
    return errors ? 1 : 0;
}
