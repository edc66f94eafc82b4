/* syscall.c: the system calls (numbers in syscall_nr.h). Every pointer a program
 * passes is checked against its page table before the kernel touches it. */
#include "kernel.h"

#define NAME_MAX 32
#define SLEEP_MAX_US (60ul * 1000000)

static int user_ok(u64 va, u64 len, int write)
{
    return vm_user_ok(task_pml4(current), va, len, write);
}

static i64 sys_write(u64 buf, u64 len)
{
    if (!user_ok(buf, len, 0))
        return -1;
    for (u64 i = 0; i < len; i++)
        console_putc(((const char *)buf)[i]);
    return (i64)len;
}

/* Polls the UART (as NimbOS does), letting other tasks and interrupts in between. */
static i64 sys_read(u64 buf, u64 len)
{
    if (len == 0 || !user_ok(buf, len, 1))
        return -1;
    task_note_prompt();
    int c;
    while ((c = console_getc()) < 0) {
        __asm__ volatile("sti; pause; cli");
        task_yield();
    }
    u64 n = 0;
    do
        ((char *)buf)[n++] = (char)c;
    while (n < len && (c = console_getc()) >= 0);
    return (i64)n;
}

/* Copies a NUL-terminated name from user memory; 0 when it is bad or too long. */
static int copy_name(u64 va, char *name)
{
    for (int i = 0; i < NAME_MAX; i++) {
        if (!user_ok(va + i, 1, 0))
            return 0;
        name[i] = ((const char *)va)[i];
        if (!name[i])
            return 1;
    }
    return 0;
}

static i64 sys_spawn(u64 name_va)
{
    char name[NAME_MAX];
    if (!copy_name(name_va, name))
        return -1;
    struct task *t = task_user(name, current);
    if (!t)
        return -1;
    task_start(t);
    return task_pid(t);
}

static i64 sys_wait(u64 pid, u64 code_va)
{
    int code;
    if (!user_ok(code_va, sizeof(int), 1) || task_wait((int)pid, &code) < 0)
        return -1;
    *(int *)code_va = code;
    return (i64)pid;
}

static i64 sys_program(u64 index, u64 buf, u64 len)
{
    u64 n = 0;
    while (user_programs[n].name && n < index)
        n++;
    const char *name = user_programs[n].name;
    if (!name || strlen(name) + 1 > len || !user_ok(buf, len, 1))
        return -1;
    memcpy((void *)buf, name, strlen(name) + 1);
    return 0;
}

static i64 sys_stats(u64 va)
{
    if (!user_ok(va, sizeof(struct tinyos_stats), 1))
        return -1;
    task_stats((struct tinyos_stats *)va);
    return 0;
}

void syscall_dispatch(struct trapframe *tf)
{
    u64 a0 = tf->rdi, a1 = tf->rsi, a2 = tf->rdx;
    i64 ret = -1;
    switch (tf->rax) {
    case SYS_WRITE:   ret = sys_write(a0, a1); break;
    case SYS_READ:    ret = sys_read(a0, a1); break;
    case SYS_EXIT:    task_exit((int)a0);
    case SYS_YIELD:   task_yield(); ret = 0; break;
    case SYS_GETPID:  ret = task_pid(current); break;
    case SYS_SLEEP:
        if (a0 > SLEEP_MAX_US)
            break;
        task_sleep_until(rdtsc() + us_to_tsc(a0));
        ret = 0;
        break;
    case SYS_TIME:    ret = (i64)tsc_to_us(rdtsc()); break;
    case SYS_SPAWN:   ret = sys_spawn(a0); break;
    case SYS_WAIT:    ret = sys_wait(a0, a1); break;
    case SYS_PROGRAM: ret = sys_program(a0, a1, a2); break;
    case SYS_STATS:   ret = sys_stats(a0); break;
    }
    tf->rax = (u64)ret;
}

const struct program *program_find(const char *name)
{
    for (const struct program *p = user_programs; p->name; p++)
        if (strcmp(p->name, name) == 0)
            return p;
    return NULL;
}
