/* trap.c: decides what an exception or interrupt means: a caught fault from a
 * "safe" instruction, a registered handler (timer, gdb stub), or a fatal report. */
#include "trap.h"

#include "kernel.h"

struct caught_fault caught_fault = {.vector = NO_FAULT};
static trap_handler handlers[256];

struct extable_entry {
    uint64_t insn, cont;
};
extern const struct extable_entry extable_start[], extable_end[];

static const char *const names[32][2] = {
    {"#DE", "Divide Error"}, {"#DB", "Debug"}, {"NMI", "Non-maskable Interrupt"},
    {"#BP", "Breakpoint"}, {"#OF", "Overflow"}, {"#BR", "BOUND Range Exceeded"},
    {"#UD", "Invalid Opcode"}, {"#NM", "Device Not Available"}, {"#DF", "Double Fault"},
    {"#MF", "Coprocessor Segment Overrun"}, {"#TS", "Invalid TSS"},
    {"#NP", "Segment Not Present"}, {"#SS", "Stack-Segment Fault"},
    {"#GP", "General Protection"}, {"#PF", "Page Fault"}, {"--", "Reserved"},
    {"#MF", "x87 Floating-Point Error"}, {"#AC", "Alignment Check"},
    {"#MC", "Machine Check"}, {"#XM", "SIMD Floating-Point"},
    {"#VE", "Virtualization Exception"}, {"#CP", "Control Protection"},
    {"--", "Reserved"}, {"--", "Reserved"}, {"--", "Reserved"}, {"--", "Reserved"},
    {"--", "Reserved"}, {"--", "Reserved"}, {"#HV", "Hypervisor Injection"},
    {"#VC", "VMM Communication"}, {"#SX", "Security Exception"}, {"--", "Reserved"},
};

const char *exception_mnemonic(int vector)
{
    return vector >= 0 && vector < 32 ? names[vector][0] : "IRQ";
}

const char *exception_name(int vector)
{
    return vector >= 0 && vector < 32 ? names[vector][1] : "External Interrupt";
}

void trap_register(int vector, trap_handler handler)
{
    assert(vector >= 0 && vector < 256);
    handlers[vector] = handler;
}

/* A fault at a listed instruction resumes at its continue label. */
static bool recover_from_fault(struct trap_frame *f)
{
    for (const struct extable_entry *e = extable_start; e < extable_end; e++) {
        if (e->insn != f->rip)
            continue;
        caught_fault.vector = (int)f->vector;
        caught_fault.error_code = f->error_code;
        caught_fault.rip = f->rip;
        f->rip = e->cont;
        return true;
    }
    return false;
}

void trap_dispatch(struct trap_frame *f)
{
    if (f->vector < 32 && recover_from_fault(f))
        return;
    if (handlers[f->vector]) {
        handlers[f->vector](f);
        return;
    }
    if (f->vector < 32)
        panic_frame(f, "unexpected exception %s (%s, vector %lu), error code 0x%lx at RIP 0x%lx",
                    exception_mnemonic((int)f->vector), exception_name((int)f->vector),
                    f->vector, f->error_code, f->rip);
    panic_frame(f, "unexpected interrupt, vector %lu at RIP 0x%lx", f->vector, f->rip);
}

int rdmsr_safe(uint32_t msr, uint64_t *value)
{
    uint32_t lo = 0, hi = 0;
    fault_arm();
    asm volatile("1: rdmsr\n2:\n" EXTABLE(1b, 2b) : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
    *value = ((uint64_t)hi << 32) | lo;
    return fault_take();
}

int wrmsr_safe(uint32_t msr, uint64_t value)
{
    fault_arm();
    asm volatile("1: wrmsr\n2:\n" EXTABLE(1b, 2b)
                 :: "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)) : "memory");
    return fault_take();
}

int write_cr4_safe(uint64_t value)
{
    fault_arm();
    asm volatile("1: mov %0, %%cr4\n2:\n" EXTABLE(1b, 2b) :: "r"(value) : "memory");
    return fault_take();
}
