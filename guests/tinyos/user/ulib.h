/* ulib.h: what tinyos user programs can call: the system calls as C functions,
 * printf, and the shared string and formatting functions (../tinylib.h). */
#ifndef TINYOS_ULIB_H
#define TINYOS_ULIB_H

#include "../syscall_nr.h"
#include "../tinylib.h"

long write(const void *buf, unsigned long len);
long read(void *buf, unsigned long len);
void exit(int code) __attribute__((noreturn));
long yield(void);
long getpid(void);
long sleep_us(unsigned long us);
unsigned long time_us(void);
long spawn(const char *name);
long wait(long pid, int *code);
long program(unsigned long index, char *buf, unsigned long len);
long stats(struct tinyos_stats *s);
long syscall3(long nr, long a0, long a1, long a2);

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline unsigned long rdtsc(void)
{
    unsigned int lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((unsigned long)hi << 32) | lo;
}

int main(void);

#endif
