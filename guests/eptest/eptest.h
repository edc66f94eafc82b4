/* eptest.h: the protocol between chapter 06's hypervisor and its test guest (eptest.c): the
 * guest-physical memory map, the virtual device, hypercalls, modes and the values of each report. */
#ifndef EPTEST_H
#define EPTEST_H

/* Hypercalls (ABI: chapters/05-exits/hypercall.h), the numbers of exittest.h plus one. */
enum { HC_HELLO = 1, HC_REPORT = 2, HC_TIMER = 3, HC_DONE = 4, HC_TARGETS = 6 };
/* HC_HELLO -> RBX seed, RCX mode, RDX flags; HC_TARGETS -> RBX the hypervisor's canary page,
 * RCX the hypervisor's own code (host-physical addresses the guest will try to reach). */
#define FLAG_HIGH_RAM 1          /* the 1 GiB at HIGH_RAM exists */

enum { MODE_TESTS = 0, MODE_MISCONFIG = 1, MODE_REFUSE = 2 };

/* The guest-physical memory map (identity-mapped by the guest's page tables). */
#define RAM_SIZE         (4ull << 20)        /* RAM at 0; the image at 0x200000 */
#define PT_BASE          0x1000ull           /* PML4, PDPT, 4 PDs: 0-4 GiB in 2 MiB pages */
#define HIGH_RAM         (1ull << 30)        /* 1 GiB of RAM at 1 GiB, if the machine has 2 GiB */
#define HIGH_PROBE       (HIGH_RAM + 0x123000ull)
#define LAZY_BASE        0x800000ull         /* 16 pages, allocated on first touch: */
#define LAZY_READ        (LAZY_BASE + 0x0000)    /* only read */
#define LAZY_PATTERN     (LAZY_BASE + 0x1000)    /* written, read back */
#define LAZY_TWICE       (LAZY_BASE + 0x2000)    /* written twice */
#define LAZY_STACK       (LAZY_BASE + 0x3000)    /* an interrupt stack (IST) */
#define LAZY_PT          (LAZY_BASE + 0x4000)    /* a page table of the guest's */
#define LAZY_UNTOUCHED   (LAZY_BASE + 0x5000)    /* never touched */
#define PT_PROBE_LINEAR  0x7fe00000ull       /* mapped through the page table at LAZY_PT */
#define DEVICE_GPA       0xd0000000ull       /* the virtual device: every access exits */
#define STATUS_GPA       0xd0001000ull       /* its status page: read directly, writes exit */
#define MISCONFIG_GPA    0xd0002000ull       /* misconfigured on purpose (MODE_MISCONFIG) */

/* The device: 64 bytes of registers that read back as written ^ DEVICE_XOR, then at 0x40 an
 * identity register ("HVTDEV01"). Status page: u64 [0] = seed ^ STATUS_KEY; a write of v to
 * offset 8 makes u64 [1] = v * 3. */
#define DEVICE_XOR       0x5a5a5a5a5a5a5a5aull
#define DEVICE_ID        0x3130564544545648ull
#define STATUS_KEY       0xc3c3c3c3c3c3c3c3ull
#define R9_KEY           0x0123456789abcdefull

#define SEED_XOR 0xa5a5a5a5u
#define SEED_MUL 0x9e3779b1u
#define VECTOR_LAZY(seed) (0x40 + ((seed) & 0x3f))

/* Test ids (HC_REPORT) and their values. */
enum {
    T_PATTERN = 1,      /* words, high, high_ok */
    T_MMIO,             /* ten loads: dl, dx, edx, r10, movzb, movzw, q10, q20, id, ch */
    T_STATUS,           /* read0, read1 */
    T_LAZY,             /* read_value, pattern_ok, twice_value */
    T_LAZY_IDTV,        /* vector, count, on_ist */
    T_PT_VIOLATION,     /* fault_vector, fault_address_ok, error_code */
    T_ISOLATION,        /* probes, in_ram, outside, as_expected */
    T_COUNT
};
#define REPORT_MAX 12
#define ISOLATION_PROBES 6

#endif
