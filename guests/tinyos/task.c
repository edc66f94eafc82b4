/* task.c: tasks and the scheduler: kernel tasks and user processes, a FIFO ready
 * queue served round robin on a 10 ms tick, sleeping, exit and wait, and the idle loop. */
#include "kernel.h"

/*
 * Every task has a slot in tasks[] and a kernel stack in kstacks[]; slot 0 is the
 * idle task, which is kmain() itself on the boot stack. A task is in exactly one
 * state:
 *
 *   READY -> RUNNING -> READY        preempted by the tick, or yielded
 *                    -> SLEEPING     until a TSC deadline (task_tick wakes it)
 *                    -> WAITING      for a child to exit
 *                    -> ZOMBIE       exited; its parent's wait() frees the slot
 *
 * The scheduler only runs with interrupts off: from the timer interrupt, from a
 * system call (IA32_FMASK clears IF) or with cli in the idle loop and kernel tasks.
 * The LAPIC timer is one-shot, re-armed for the nearest deadline: the next tick or
 * the earliest sleeper, whichever comes first, so a sleep ends on time, not on a tick.
 */
#define MAX_TASKS   16
#define KSTACK_SIZE 8192
#define TICK_HZ     100

enum task_state { UNUSED, READY, RUNNING, SLEEPING, WAITING, ZOMBIE };

struct task {
    int pid;
    enum task_state state;
    u64 ksp;                     /* saved by switch_context */
    u64 *pml4;                   /* NULL for kernel tasks: they use boot_pml4 */
    struct task *parent;         /* NULL: nobody waits; the idle loop frees it */
    struct task *next;           /* ready queue link */
    u64 wake_tsc;
    int wait_pid, exit_code;
};

static struct task tasks[MAX_TASKS];
static u8 kstacks[MAX_TASKS][KSTACK_SIZE] __attribute__((aligned(16)));
static struct task *ready_head, *ready_tail, *idle;
struct task *current;
static int next_pid;
static u64 tick_tsc, next_tick;
static struct tinyos_stats counters;

static void make_ready(struct task *t)
{
    t->state = READY;
    t->next = NULL;
    if (ready_tail)
        ready_tail->next = t;
    else
        ready_head = t;
    ready_tail = t;
}

static struct task *take_ready(void)
{
    struct task *t = ready_head;
    if (t) {
        ready_head = t->next;
        if (!ready_head)
            ready_tail = NULL;
    }
    return t;
}

static u64 kstack_top(struct task *t)
{
    return (u64)kstacks[t - tasks] + KSTACK_SIZE;
}

/* Run the next ready task (or idle). The current task, if still RUNNING, goes to the
 * back of the queue. Returns when this task is scheduled again. */
static void schedule(void)
{
    struct task *prev = current;
    if (prev->state == RUNNING && prev != idle)
        make_ready(prev);
    struct task *next = take_ready();
    if (!next)
        next = idle;
    next->state = RUNNING;
    if (next == prev)
        return;
    counters.switches++;
    current = next;
    /* A new address space on every switch, as NimbOS does (no PCIDs, no INVLPG). */
    write_cr3(V2P(next->pml4 ? next->pml4 : boot_pml4));
    cpu_set_kernel_stack(kstack_top(next));
    switch_context(&prev->ksp, next->ksp);
}

/* Arm the LAPIC timer for the nearest deadline: the next tick or a sleeper's wake-up. */
static void rearm(void)
{
    u64 deadline = next_tick;
    for (int i = 1; i < MAX_TASKS; i++)
        if (tasks[i].state == SLEEPING && tasks[i].wake_tsc < deadline)
            deadline = tasks[i].wake_tsc;
    timer_arm(deadline);
}

/* The LAPIC timer interrupt: wake sleepers whose time has come, preempt on the tick. */
void task_tick(void)
{
    u64 now = rdtsc();
    int resched = 0;
    for (int i = 1; i < MAX_TASKS; i++) {
        if (tasks[i].state == SLEEPING && tasks[i].wake_tsc <= now) {
            make_ready(&tasks[i]);
            resched = 1;
        }
    }
    if (now >= next_tick) {
        counters.ticks++;
        next_tick = now + tick_tsc;
        if (current != idle && ready_head)
            counters.preemptions++;
        resched = 1;
    }
    rearm();
    if (resched)
        schedule();
}

static struct task *task_alloc(void)
{
    for (int i = 1; i < MAX_TASKS; i++) {
        if (tasks[i].state == UNUSED) {
            tasks[i] = (struct task){ .pid = next_pid++, .state = READY };
            return &tasks[i];
        }
    }
    return NULL;
}

/* The stack switch_context() will pop for a task that never ran: callee-saved
 * registers (r15 r14 r13 r12 rbx rbp) and a return address. */
static void initial_frame(struct task *t, u64 top, u64 ret, u64 r12, u64 r13)
{
    u64 *sp = (u64 *)top;
    *--sp = ret;
    *--sp = 0;                   /* rbp: ends backtraces */
    *--sp = 0;                   /* rbx */
    *--sp = r12;
    *--sp = r13;
    *--sp = 0;                   /* r14 */
    *--sp = 0;                   /* r15 */
    t->ksp = (u64)sp;
}

struct task *task_kernel(void (*fn)(u64), u64 arg)
{
    struct task *t = task_alloc();
    if (!t)
        panic("no free task slot");
    /* 16 bytes below the top keep the stack 16-byte aligned at the call in kernel_task_entry. */
    initial_frame(t, kstack_top(t) - 16, (u64)kernel_task_entry, (u64)fn, arg);
    return t;
}

/* A process for an embedded program: its address space, stack, and a trapframe
 * that trap_return will IRETQ into user mode at the ELF entry point. */
struct task *task_user(const char *name, struct task *parent)
{
    const struct program *prog = program_find(name);
    if (!prog)
        return NULL;
    struct task *t = task_alloc();
    u64 *pml4 = t ? vm_create() : NULL;
    u64 entry;
    int ok = pml4 && elf_load(pml4, prog->start, prog->end - prog->start, &entry) == 0;
    for (int i = 1; ok && i <= USER_STACK_PAGES; i++) {
        u64 pa = frame_alloc();
        ok = pa && vm_map(pml4, USER_STACK_TOP - i * PAGE_SIZE, pa, PTE_U | PTE_W | PTE_NX) == 0;
        if (!ok && pa)
            frame_free(pa);
    }
    if (!ok) {
        if (pml4)
            vm_destroy(pml4);
        if (t)
            t->state = UNUSED;
        return NULL;
    }
    t->pml4 = pml4;
    t->parent = parent;
    struct trapframe *tf = (struct trapframe *)(kstack_top(t) - sizeof(struct trapframe));
    memset(tf, 0, sizeof(*tf));
    tf->rip = entry;
    tf->cs = SEL_UCODE;
    tf->rflags = 0x202;          /* IF: user mode always runs with interrupts on */
    tf->rsp = USER_STACK_TOP - 8; /* as if _start had been called */
    tf->ss = SEL_UDATA;
    initial_frame(t, (u64)tf, (u64)trap_return, 0, 0);
    return t;
}

void task_start(struct task *t)
{
    u64 flags = irq_save();
    make_ready(t);
    irq_restore(flags);
}

int task_pid(struct task *t)
{
    return t->pid;
}

u64 *task_pml4(struct task *t)
{
    return t->pml4;
}

void task_yield(void)
{
    u64 flags = irq_save();
    schedule();
    irq_restore(flags);
}

void task_sleep_until(u64 tsc)
{
    u64 flags = irq_save();
    current->wake_tsc = tsc;
    current->state = SLEEPING;
    rearm();
    schedule();
    irq_restore(flags);
}

void task_exit(int code)
{
    __asm__ volatile("cli");
    struct task *t = current;
    t->exit_code = code;
    if (t->pml4) {
        write_cr3(V2P(boot_pml4));       /* leave the address space before freeing it */
        vm_destroy(t->pml4);
        t->pml4 = NULL;
    }
    for (int i = 1; i < MAX_TASKS; i++)  /* orphans: the idle loop will free them */
        if (tasks[i].state != UNUSED && tasks[i].parent == t)
            tasks[i].parent = NULL;
    t->state = ZOMBIE;
    if (t->parent && t->parent->state == WAITING && t->parent->wait_pid == t->pid)
        make_ready(t->parent);
    schedule();
    panic("a zombie ran again");
}

/* Wait for child pid to exit; returns pid and its exit code, or -1 if not a child. */
int task_wait(int pid, int *code)
{
    struct task *child = NULL;
    for (int i = 1; i < MAX_TASKS; i++)
        if (tasks[i].state != UNUSED && tasks[i].pid == pid && tasks[i].parent == current)
            child = &tasks[i];
    if (!child)
        return -1;
    u64 flags = irq_save();
    while (child->state != ZOMBIE) {
        current->state = WAITING;
        current->wait_pid = pid;
        schedule();
    }
    irq_restore(flags);
    *code = child->exit_code;
    child->state = UNUSED;
    return pid;
}

void task_stats(struct tinyos_stats *s)
{
    *s = counters;
    s->free_frames = frames_free();
}

/* The TSC at which the console first waited for input: boot-to-prompt time. */
void task_note_prompt(void)
{
    if (!counters.boot_tsc)
        counters.boot_tsc = rdtsc();
}

void task_init(void)
{
    idle = &tasks[0];
    idle->state = RUNNING;
    current = idle;
    next_pid = 1;
    tick_tsc = tsc_hz / TICK_HZ;
    counters.tsc_khz = tsc_hz / 1000;
}

/* Task 0: free orphans, power off when nothing is left, else wait for interrupts.
 * NimbOS never executes HLT, and neither does this loop: it spins with IF=1. */
void task_idle(void)
{
    next_tick = rdtsc() + tick_tsc;      /* the first tick: the scheduler starts now */
    rearm();
    for (;;) {
        __asm__ volatile("cli");
        int alive = 0;
        for (int i = 1; i < MAX_TASKS; i++) {
            if (tasks[i].state == ZOMBIE && !tasks[i].parent)
                tasks[i].state = UNUSED;
            alive += tasks[i].state != UNUSED;
        }
        if (!alive)
            poweroff("all tasks exited");
        schedule();
        __asm__ volatile("sti; pause");
    }
}
