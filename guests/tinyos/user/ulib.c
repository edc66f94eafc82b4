/* ulib.c: the user-side library: the program entry point, system call stubs
 * (SYSCALL with the Linux register convention) and a buffered printf. */
#include "ulib.h"

/* Entered by IRETQ from the kernel with RSP 8 bytes below a 16-byte boundary. */
__attribute__((section(".text.start"), noreturn)) void _start(void)
{
    exit(main());
}

long syscall3(long nr, long a0, long a1, long a2)
{
    long ret;
    /* SYSCALL overwrites RCX (return RIP) and R11 (RFLAGS). */
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a0), "S"(a1), "d"(a2)
                     : "rcx", "r11", "memory");
    return ret;
}

long write(const void *buf, unsigned long len) { return syscall3(SYS_WRITE, (long)buf, (long)len, 0); }
long read(void *buf, unsigned long len) { return syscall3(SYS_READ, (long)buf, (long)len, 0); }
long yield(void) { return syscall3(SYS_YIELD, 0, 0, 0); }
long getpid(void) { return syscall3(SYS_GETPID, 0, 0, 0); }
long sleep_us(unsigned long us) { return syscall3(SYS_SLEEP, (long)us, 0, 0); }
unsigned long time_us(void) { return (unsigned long)syscall3(SYS_TIME, 0, 0, 0); }
long spawn(const char *name) { return syscall3(SYS_SPAWN, (long)name, 0, 0); }
long wait(long pid, int *code) { return syscall3(SYS_WAIT, pid, (long)code, 0); }
long stats(struct tinyos_stats *s) { return syscall3(SYS_STATS, (long)s, 0, 0); }

long program(unsigned long index, char *buf, unsigned long len)
{
    return syscall3(SYS_PROGRAM, (long)index, (long)buf, (long)len);
}

void exit(int code)
{
    syscall3(SYS_EXIT, code, 0, 0);
    for (;;)
        ;
}

/* printf collects its output and writes it with as few system calls as possible. */
struct outbuf {
    char data[128];
    unsigned long len;
};

static void out_put(char c, void *ctx)
{
    struct outbuf *b = ctx;
    b->data[b->len++] = c;
    if (b->len == sizeof(b->data)) {
        write(b->data, b->len);
        b->len = 0;
    }
}

int printf(const char *fmt, ...)
{
    struct outbuf b;
    b.len = 0;
    va_list ap;
    va_start(ap, fmt);
    vformat(out_put, &b, fmt, ap);
    va_end(ap);
    if (b.len)
        write(b.data, b.len);
    return 0;
}
