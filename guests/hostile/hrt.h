/* hrt.h: what every hostile case uses: reporting to the test kernel, instructions that may fault
 * (the vector comes back, -1 for none), a window onto any guest-physical page, a seeded PRNG. */
#ifndef HRT_H
#define HRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "grt.h"
#include "hostile.h"

#define NO_FAULT (-1)

/* A fact for the test: "key=value" on the case's checkpoint line (HC_REPORT). */
void report(const char *key, uint64_t value);
/* Count an outcome that differs from what the platform map says, and remember the first. */
void mismatch(const char *what, uint64_t detail);
extern unsigned mismatches;

/* ---- instructions that may fault: return the vector, or NO_FAULT ---- */
#define TRY_INSN(insn, ...) ({                                                           \
    grt_fault_arm();                                                                     \
    asm volatile("1: " insn "\n2:\n" GRT_EXTABLE(1b, 2b) __VA_ARGS__);                   \
    grt_fault.vector; })

int try_in(uint16_t port, unsigned size, uint32_t *value);
int try_out(uint16_t port, unsigned size, uint32_t value);
int try_read(const volatile void *p, unsigned size, uint64_t *value);
int try_write(volatile void *p, unsigned size, uint64_t value);
int try_write_cr0(uint64_t v);
int try_write_cr3(uint64_t v);
int try_write_cr8(uint64_t v);
int try_xsetbv(uint32_t index, uint64_t value);

/* ---- guest-physical pages seen through a window of linear addresses ---- */
#define WINDOW_BASE 0x8000000000ull      /* PML4 entry 1: 512 4-KiB slots */
#define PTE_P  0x1ull
#define PTE_W  0x2ull
#define PTE_U  0x4ull
#define PTE_NX (1ull << 63)
/* Map guest-physical page gpa (any address, even beyond MAXPHYADDR) with flags at slot;
 * returns the linear address of gpa. */
volatile void *window_map(unsigned slot, uint64_t gpa, uint64_t flags);
unsigned maxphyaddr(void);

/* ---- interrupts and the local APIC (x2APIC MSRs or xAPIC MMIO, as CPUID offers) ---- */
bool apic_x2(void);
uint32_t apic_read(uint32_t reg);
void apic_write(uint32_t reg, uint32_t value);
void apic_enable(void);                  /* SVR: enabled, spurious vector 0xff */
void apic_eoi(void);
/* Count interrupts of one vector (handler: count + EOI), and the order they came in. */
void irq_counting(int vector, bool eoi);
extern volatile uint64_t irq_seen[256];
extern volatile uint8_t irq_order[256];
extern volatile unsigned irq_order_n;
/* Run fn at CPL 3 (user segments, the same page tables); back at CPL 0 when fn returns. */
void run_user(void (*fn)(void));

/* ---- a seeded PRNG (xorshift64*): the same seed, the same run ---- */
void rng_seed(uint64_t seed);
uint64_t rng_next(void);
static inline uint64_t rng_below(uint64_t n) { return n ? rng_next() % n : 0; }

/* The cases (one function each; cases_*.c). */
int case_sane(void);
int case_ports(void);
int case_string_io(void);
int case_msr(void);
int case_cr(void);
int case_vmx(void);
int case_user(void);
int case_phys(void);
int case_mmio(void);
int case_timer_flood(void);
int case_irq_flood(void);
int case_storm(void);
int case_double_fault(void);
int case_hypercall(void);
int case_stops(int which);
int case_random(uint64_t seed, uint64_t steps);

/* For the randomized case: one operation of a case, chosen by r (cases_*.c). */
void random_port_op(uint64_t r);
void random_msr_op(uint64_t r);
void random_cr_op(uint64_t r);
void random_mem_op(uint64_t r);
void random_irq_op(uint64_t r);

#endif
