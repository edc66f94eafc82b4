/* kernel.h: tinyos's one kernel header: types, the memory map, CPU instructions
 * as inline functions, and every kernel function other files call. */
#ifndef TINYOS_KERNEL_H
#define TINYOS_KERNEL_H

#include <stdint.h>

#include "syscall_nr.h"
#include "tinylib.h"

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t i64;

/* ---- memory map (README.md draws it) ---- */
#define KERNEL_BASE   0xFFFFFFFF80000000ul   /* the image runs at -2 GiB + physical   */
#define PHYS_OFFSET   0xFFFFFF8000000000ul   /* all of 0..4 GiB, as in NimbOS          */
#define P2V(pa)       ((void *)((u64)(pa) + PHYS_OFFSET))
#define V2P(va)       ((u64)(va) - ((u64)(va) >= KERNEL_BASE ? KERNEL_BASE : PHYS_OFFSET))
#define RAM_END       (16ul << 20)           /* the hypervisor's default guest RAM     */
#define PAGE_SIZE     4096ul
#define USER_BASE     0x400000ul             /* programs are linked here (user/user.ld) */
#define USER_STACK_TOP 0x800000ul
#define USER_STACK_PAGES 4                   /* an unmapped guard page lies below      */

#define PTE_P   (1ul << 0)
#define PTE_W   (1ul << 1)
#define PTE_U   (1ul << 2)
#define PTE_PS  (1ul << 7)
#define PTE_NX  (1ul << 63)
#define PTE_ADDR 0x000FFFFFFFFFF000ul

/* ---- GDT selectors (cpu.c); the order is the one SYSCALL/SYSRET dictate ---- */
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UDATA 0x1B       /* 0x18 | RPL 3 */
#define SEL_UCODE 0x23       /* 0x20 | RPL 3 */
#define SEL_TSS   0x28

/* ---- interrupt vectors: the LAPIC is the only interrupt source ---- */
#define VEC_TIMER    0xF0
#define VEC_SPURIOUS 0xF1
#define VEC_ERROR    0xF2

/* ---- MSRs ---- */
#define MSR_APIC_BASE      0x1B
#define MSR_EFER           0xC0000080
#define MSR_STAR           0xC0000081
#define MSR_LSTAR          0xC0000082
#define MSR_FMASK          0xC0000084
#define MSR_GS_BASE        0xC0000101
#define MSR_KERNEL_GS_BASE 0xC0000102

static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }

static inline u64 rdmsr(u32 msr)
{
    u32 lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((u64)hi << 32) | lo;
}

static inline void wrmsr(u32 msr, u64 v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

static inline u64 rdtsc(void)
{
    u32 lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((u64)hi << 32) | lo;
}

static inline void cpuid(u32 leaf, u32 r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

static inline u64 read_cr2(void) { u64 v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline u64 read_cr3(void) { u64 v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline void write_cr3(u64 v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }

/* Interrupts off around a critical section; irq_restore() puts IF back as it was. */
static inline u64 irq_save(void)
{
    u64 flags;
    __asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
    return flags;
}
static inline void irq_restore(u64 flags)
{
    if (flags & 0x200)
        __asm__ volatile("sti" ::: "memory");
}

static inline u64 mmio_read64(u64 pa) { return *(volatile u64 *)P2V(pa); }
static inline void mmio_write64(u64 pa, u64 v) { *(volatile u64 *)P2V(pa) = v; }
static inline u32 mmio_read32(u64 pa) { return *(volatile u32 *)P2V(pa); }
static inline void mmio_write32(u64 pa, u32 v) { *(volatile u32 *)P2V(pa) = v; }

/* What the CPU saved and the entry stubs (trap.S) pushed: one layout for interrupts,
 * exceptions and system calls, so a task always resumes from the same structure. */
struct trapframe {
    u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    u64 vector, error;
    u64 rip, cs, rflags, rsp, ss;
};

/* The per-CPU block GS points at in the kernel (SWAPGS exchanges it with the user's GS). */
struct percpu {
    u64 kstack_top;          /* offset 0: the running task's kernel stack (syscall entry) */
    u64 user_rsp;            /* offset 8: the user stack pointer while in a system call    */
};

/* console.c */
void console_init(void);
void console_putc(char c);
int console_getc(void);                  /* -1 when nothing was typed */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void poweroff(const char *why) __attribute__((noreturn));

/* cpu.c */
extern struct percpu percpu;
void cpu_init(void);
void cpu_set_kernel_stack(u64 top);
int cpu_has_x2apic(void);

/* timer.c */
extern u64 tsc_hz;
void timer_init(void);
void timer_arm(u64 deadline_tsc);
void lapic_eoi(void);
u64 tsc_to_us(u64 tsc);
u64 us_to_tsc(u64 us);

/* mm.c */
void mm_init(void);
u64 frame_alloc(void);                   /* a zeroed frame's physical address, or 0 */
void frame_free(u64 pa);
u64 frames_free(void);
u64 *vm_create(void);                    /* a PML4 sharing the kernel's half */
void vm_destroy(u64 *pml4);
int vm_map(u64 *pml4, u64 va, u64 pa, u64 flags);
int vm_user_ok(u64 *pml4, u64 va, u64 len, int write);
int elf_load(u64 *pml4, const u8 *image, size_t size, u64 *entry);
extern u64 boot_pml4[];

/* task.c */
struct task;
extern struct task *current;
void task_init(void);
struct task *task_kernel(void (*fn)(u64), u64 arg);
struct task *task_user(const char *program, struct task *parent);
void task_start(struct task *t);
int task_pid(struct task *t);
u64 *task_pml4(struct task *t);
void task_exit(int code) __attribute__((noreturn));
void task_yield(void);
void task_sleep_until(u64 tsc);
int task_wait(int pid, int *code);
void task_tick(void);
void task_idle(void) __attribute__((noreturn));
void task_stats(struct tinyos_stats *s);
void task_note_prompt(void);

/* programs.S (generated by embed.py): the user programs linked into the image */
struct program {
    const char *name;
    const u8 *start, *end;
};
extern const struct program user_programs[];
const struct program *program_find(const char *name);

/* syscall.c and trap.c */
void syscall_dispatch(struct trapframe *tf);
void trap_dispatch(struct trapframe *tf);

/* trap.S */
void syscall_entry(void);
void trap_return(void);
void kernel_task_entry(void);
void switch_context(u64 *save_rsp, u64 new_rsp);
extern u64 trap_vectors[];

#endif
