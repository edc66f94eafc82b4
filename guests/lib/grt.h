/* grt.h: the guest runtime every test guest in guests/ links: 64-bit ring-0 start-up, its own
 * GDT, TSS and IDT, exception and interrupt handlers, a COM1 console, hypercalls. */
#ifndef GRT_H
#define GRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the entry stubs save: the same layout as the host kernel's struct trap_frame. */
struct grt_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};
typedef void (*grt_handler)(struct grt_frame *f);

/* Provided by each guest: runs after grt_init(); its return value goes to HC exit. */
int guest_main(void);

void grt_init(void);                          /* GDT, TSS, IDT; interrupts stay off */
void grt_set_handler(int vector, grt_handler h);
void grt_set_ist(int vector, int ist, uint64_t stack_top);   /* ist 1-7 */

/* Counters every handler updates before calling a registered one. */
extern volatile uint64_t grt_vector_count[256];
extern volatile uint64_t grt_last_vector, grt_last_rip, grt_last_rsp, grt_last_cr2;

/*
 * Fault recovery for instructions that are expected to fault (#GP from RDMSR, #PF from
 * a probe): GRT_SAFE("rdmsr") resumes after the instruction and sets grt_fault.
 */
struct grt_fault {
    int vector;                  /* -1: none */
    uint64_t error_code, rip, cr2;
};
extern volatile struct grt_fault grt_fault;
#define GRT_EXTABLE(insn, cont) \
    ".pushsection grt_extable, \"a\"\n\t.balign 8\n\t.quad " #insn ", " #cont "\n\t.popsection\n\t"
static inline void grt_fault_arm(void) { grt_fault.vector = -1; asm volatile("" ::: "memory"); }

/* Hypercalls (the ABI of chapters/05-exits/hypercall.h). */
struct hc_result {
    int64_t status;
    uint64_t rbx, rcx, rdx;
};
static inline struct hc_result hypercall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3)
{
    struct hc_result r;
    asm volatile("vmcall" : "=a"(r.status), "=b"(r.rbx), "=c"(r.rcx), "=d"(r.rdx)
                 : "a"(nr), "b"(a0), "c"(a1), "d"(a2), "S"(a3) : "memory");
    return r;
}

/* Console on COM1, polled like a 16550 driver: LSR bit 5, then THR. */
void gputc(char c);
int gprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern uint64_t grt_console_io;              /* IN and OUT instructions the console executed */

/* The instructions the tests use. */
struct grt_cpuid { uint32_t eax, ebx, ecx, edx; };
static inline struct grt_cpuid grt_cpuid(uint32_t leaf, uint32_t sub)
{
    struct grt_cpuid r;
    asm volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(sub));
    return r;
}
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}
static inline void outb(uint16_t p, uint8_t v) { asm volatile("outb %0, %1" :: "a"(v), "Nd"(p)); }
static inline void outw(uint16_t p, uint16_t v) { asm volatile("outw %0, %1" :: "a"(v), "Nd"(p)); }
static inline void outl(uint16_t p, uint32_t v) { asm volatile("outl %0, %1" :: "a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; asm volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint16_t inw(uint16_t p) { uint16_t v; asm volatile("inw %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint32_t inl(uint16_t p) { uint32_t v; asm volatile("inl %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline void cli(void) { asm volatile("cli" ::: "memory"); }
static inline void sti(void) { asm volatile("sti" ::: "memory"); }
static inline uint64_t read_cr0(void) { uint64_t v; asm volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr3(void) { uint64_t v; asm volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr4(void) { uint64_t v; asm volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void write_cr0(uint64_t v) { asm volatile("mov %0, %%cr0" :: "r"(v) : "memory"); }
static inline void write_cr3(uint64_t v) { asm volatile("mov %0, %%cr3" :: "r"(v) : "memory"); }

/* RDMSR/WRMSR/MOV to CR4 that may fault: the vector, or -1. */
int grt_rdmsr(uint32_t msr, uint64_t *value);
int grt_wrmsr(uint32_t msr, uint64_t value);
int grt_write_cr4(uint64_t value);

/* Spin until the TSC has advanced by ticks (interrupts as they are). */
void grt_spin(uint64_t ticks);

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

#endif
