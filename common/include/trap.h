/* trap.h: exceptions and interrupts: the saved register frame, handlers, and
 * "safe" instructions whose fault is caught and returned instead of fatal. */
#ifndef TRAP_H
#define TRAP_H

#include <stdint.h>

/* Saved by trap_entry.S; the last fields are what the CPU pushed (SDM Vol. 3A, 6.14.2). */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

enum {
    EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5,
    EXC_UD = 6, EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12,
    EXC_GP = 13, EXC_PF = 14, EXC_MF = 16, EXC_AC = 17, EXC_MC = 18, EXC_XM = 19,
    EXC_VE = 20, EXC_CP = 21,
};

typedef void (*trap_handler)(struct trap_frame *frame);

void trap_register(int vector, trap_handler handler);
const char *exception_mnemonic(int vector);   /* "#GP" */
const char *exception_name(int vector);       /* "General Protection" */

/*
 * Fault recovery, the way Linux's exception tables work: an instruction
 * that may fault is listed with EXTABLE(insn_label, continue_label). When it
 * faults, the trap handler records the fault in caught_fault and resumes at
 * the continue label instead of reporting a fatal exception.
 *
 *   fault_arm();
 *   asm volatile("1: rdmsr\n2:\n" EXTABLE(1b, 2b) : ...);
 *   int vector = fault_take();          // NO_FAULT, or the exception vector
 */
#define NO_FAULT (-1)
#define EXTABLE(insn, cont)                                                  \
    ".pushsection __extable, \"a\"\n\t.balign 8\n\t.quad " #insn ", " #cont  \
    "\n\t.popsection\n\t"

struct caught_fault {
    int vector;
    uint64_t error_code;
    uint64_t rip;
};
extern struct caught_fault caught_fault;

static inline void fault_arm(void)
{
    caught_fault.vector = NO_FAULT;
    asm volatile("" ::: "memory");
}

static inline int fault_take(void)
{
    asm volatile("" ::: "memory");
    return caught_fault.vector;
}

int rdmsr_safe(uint32_t msr, uint64_t *value);   /* NO_FAULT or the vector (13 = #GP) */
int wrmsr_safe(uint32_t msr, uint64_t value);
int write_cr4_safe(uint64_t value);

#endif
