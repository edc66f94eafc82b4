/* exittest.h: the protocol between chapter 05's hypervisor and its test guest (exittest.c):
 * hypercall numbers, run modes, test ids and the values each test reports. */
#ifndef EXITTEST_H
#define EXITTEST_H

/* Hypercalls (ABI: chapters/05-exits/hypercall.h). */
enum {
    HC_HELLO = 1,       /* -> RBX = seed (the run's nonce), RCX = mode, RDX = host tick period */
    HC_REPORT = 2,      /* RBX = test id, RCX = address of uint64_t values[], RDX = count */
    HC_TIMER = 3,       /* RBX = vector, RCX = delay in TSC ticks, RDX = how many times */
    HC_DONE = 4,        /* RBX = status: the guest is finished */
    HC_NOP = 5,         /* nothing: the benchmark's round trip */
};
#define HC_UNKNOWN 0x1d         /* never registered: must return HC_ENOSYS */

/* What the guest does in this run (HC_HELLO's RCX). */
enum { MODE_TESTS = 0, MODE_UNHANDLED = 1, MODE_TRIPLE_FAULT = 2, MODE_BENCH = 3 };

/* The devices and addresses the tests use. */
#define ECHO_PORT       0x510   /* 4 ports: OUT latches the value, IN returns latch ^ ECHO_XOR, then latch + 1 */
#define ECHO_XOR        0x5a5a5a5au
#define NOBODY_PORT     0x250   /* no device: reads all ones */
#define POST_PORT       0x80    /* passed through: no exit */
#define LAZY_STACK      0x600000ull   /* one page the hypervisor maps on first touch */
#define MSR_EMULATED    0x1b    /* IA32_APIC_BASE, emulated */
#define MSR_DENIED_1    0x480   /* IA32_VMX_BASIC: no VMX for this guest */
#define MSR_DENIED_2    0x3a    /* IA32_FEATURE_CONTROL, written */
#define MSR_DENIED_3    0x40001234u   /* outside the bitmap's ranges: always exits */

/* The seed-derived values the guest uses: every run is different. */
#define SEED_XOR 0xa5a5a5a5u
#define SEED_MUL 0x9e3779b1u
#define VECTOR_WINDOW(seed)   (0x40 + ((seed) & 0x1f))          /* event injection test */
#define VECTOR_IDTV(seed)     (0x60 + (((seed) >> 5) & 0x1f))   /* IDT-vectoring test */
#define VECTOR_HLT(seed)      (0x80 + (((seed) >> 10) & 0x1f))  /* HLT test */
#define VECTOR_PERIODIC(seed) (0xa0 + (((seed) >> 15) & 0x1f))  /* repeated timer */

/* Test ids (HC_REPORT's RBX) and the values each reports, in this order. */
enum {
    T_VMCALL = 1,       /* seed, result, unknown_status, vmcalls */
    T_CPUID,            /* ecx1, eax40, ebx40, ecx40, edx40, eax41, eax4f, cpuids */
    T_MSR,              /* fs_written, fs_read, apic_read, apic_written, apic_reread, gp_faults,
                           gp_vectors_ok, rd_intercepted, wr_intercepted, efer */
    T_IO,               /* in1, in2, in4, str_in, ins0, ins1, ins2, rsi_moved, rdi_moved, rcx_left,
                           nobody1, nobody2, nobody4, intercepted, passed */
    T_CR,               /* cr0, cr4, cr4_vmxe_fault, cr0_without_ne, cr_writes, cr3_moves */
    T_EXCEPTIONS,       /* bp, ud, bp_rip_ok, ud_rip_ok */
    T_EVENTS,           /* vector, before_sti, after_sti, periodic_vector, periodic */
    T_IDT_VECTORING,    /* vector, count, on_ist */
    T_HLT,              /* vector, count, delay, elapsed */
    T_EXTINT,           /* spun */
    T_BENCH,            /* iterations, cpuid, vmcall, io, loop */
    T_COUNT
};
#define REPORT_MAX 16

#endif
