/* syscall_nr.h: the system call numbers, shared by the kernel (syscall.c) and the
 * user library (user/ulib.c). Arguments follow Linux: RAX = number, RDI, RSI, RDX. */
#ifndef TINYOS_SYSCALL_NR_H
#define TINYOS_SYSCALL_NR_H

#define SYS_WRITE     1   /* write(buf, len) -> len; output to the console        */
#define SYS_READ      2   /* read(buf, len) -> n >= 1; waits for console input    */
#define SYS_EXIT      3   /* exit(code); never returns                            */
#define SYS_YIELD     4   /* yield() -> 0                                         */
#define SYS_GETPID    5   /* getpid() -> pid                                      */
#define SYS_SLEEP     6   /* sleep_us(us) -> 0                                    */
#define SYS_TIME      7   /* time_us() -> microseconds since boot (TSC)           */
#define SYS_SPAWN     8   /* spawn(name) -> pid, or -1 when there is no such program */
#define SYS_WAIT      9   /* wait(pid, &code) -> pid, or -1 when pid is not a child */
#define SYS_PROGRAM  10   /* program(i, buf, len) -> 0: the name of embedded program i */
#define SYS_STATS    11   /* stats(&struct tinyos_stats) -> 0                     */
#define NR_SYSCALLS  12

/* What SYS_STATS reports: kernel counters a test program can compare. */
struct tinyos_stats {
    unsigned long free_frames;    /* 4 KiB frames not in use                     */
    unsigned long ticks;          /* scheduler ticks (10 ms) since boot          */
    unsigned long switches;       /* context switches                            */
    unsigned long preemptions;    /* switches forced by the tick                 */
    unsigned long boot_tsc;       /* TSC when the first console read waited: boot to prompt */
    unsigned long tsc_khz;        /* calibrated TSC rate                         */
};

#endif
