/* x86.h: CPU helpers every chapter uses: CPUID, MSRs, control registers, ports.
 * Register and MSR names follow the Intel SDM and Linux's msr-index.h. */
#ifndef X86_H
#define X86_H

#include <stdbool.h>
#include <stdint.h>

/* Control-register bits (SDM Vol. 3A, 2.5). */
#define CR0_PE (1ul << 0)
#define CR0_MP (1ul << 1)
#define CR0_EM (1ul << 2)
#define CR0_TS (1ul << 3)
#define CR0_ET (1ul << 4)
#define CR0_NE (1ul << 5)
#define CR0_WP (1ul << 16)
#define CR0_AM (1ul << 18)
#define CR0_NW (1ul << 29)
#define CR0_CD (1ul << 30)
#define CR0_PG (1ul << 31)

#define CR4_VME        (1ul << 0)
#define CR4_PVI        (1ul << 1)
#define CR4_TSD        (1ul << 2)
#define CR4_DE         (1ul << 3)
#define CR4_PSE        (1ul << 4)
#define CR4_PAE        (1ul << 5)
#define CR4_MCE        (1ul << 6)
#define CR4_PGE        (1ul << 7)
#define CR4_PCE        (1ul << 8)
#define CR4_OSFXSR     (1ul << 9)
#define CR4_OSXMMEXCPT (1ul << 10)
#define CR4_VMXE       (1ul << 13)
#define CR4_SMXE       (1ul << 14)
#define CR4_FSGSBASE   (1ul << 16)
#define CR4_PCIDE      (1ul << 17)
#define CR4_OSXSAVE    (1ul << 18)
#define CR4_SMEP       (1ul << 20)
#define CR4_SMAP       (1ul << 21)

#define RFLAGS_CF (1ul << 0)
#define RFLAGS_PF (1ul << 2)
#define RFLAGS_AF (1ul << 4)
#define RFLAGS_ZF (1ul << 6)
#define RFLAGS_SF (1ul << 7)
#define RFLAGS_TF (1ul << 8)
#define RFLAGS_IF (1ul << 9)
#define RFLAGS_DF (1ul << 10)
#define RFLAGS_OF (1ul << 11)
#define RFLAGS_VM (1ul << 17)
#define RFLAGS_FIXED (1ul << 1)           /* bit 1 always reads as 1 */

/* MSRs (SDM Vol. 4, chapter 2; Linux arch/x86/include/asm/msr-index.h). */
#define MSR_IA32_APICBASE          0x0000001b
#define MSR_IA32_FEAT_CTL          0x0000003a
#define MSR_IA32_TSC               0x00000010
#define MSR_IA32_SYSENTER_CS       0x00000174
#define MSR_IA32_SYSENTER_ESP      0x00000175
#define MSR_IA32_SYSENTER_EIP      0x00000176
#define MSR_IA32_DEBUGCTLMSR       0x000001d9
#define MSR_IA32_CR_PAT            0x00000277
#define MSR_IA32_MTRR_DEF_TYPE     0x000002ff
#define MSR_EFER                   0xc0000080
#define MSR_STAR                   0xc0000081
#define MSR_LSTAR                  0xc0000082
#define MSR_SYSCALL_MASK           0xc0000084
#define MSR_FS_BASE                0xc0000100
#define MSR_GS_BASE                0xc0000101
#define MSR_KERNEL_GS_BASE         0xc0000102

#define EFER_SCE (1ul << 0)
#define EFER_LME (1ul << 8)
#define EFER_LMA (1ul << 10)
#define EFER_NX  (1ul << 11)

/* CPUID.1:ECX feature bits used by the chapters. */
#define CPUID_1_ECX_VMX        (1u << 5)
#define CPUID_1_ECX_SMX        (1u << 6)
#define CPUID_1_ECX_X2APIC     (1u << 21)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)

struct cpuid_regs {
    uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
    struct cpuid_regs r;
    asm volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                 : "a"(leaf), "c"(subleaf));
    return r;
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t value)
{
    asm volatile("wrmsr" :: "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
                 : "memory");
}

#define DEFINE_CR_ACCESSORS(n)                                              \
    static inline uint64_t read_cr##n(void)                                 \
    {                                                                       \
        uint64_t v;                                                         \
        asm volatile("mov %%cr" #n ", %0" : "=r"(v));                       \
        return v;                                                           \
    }                                                                       \
    static inline void write_cr##n(uint64_t v)                              \
    {                                                                       \
        asm volatile("mov %0, %%cr" #n :: "r"(v) : "memory");               \
    }
DEFINE_CR_ACCESSORS(0)
DEFINE_CR_ACCESSORS(2)
DEFINE_CR_ACCESSORS(3)
DEFINE_CR_ACCESSORS(4)
#undef DEFINE_CR_ACCESSORS

static inline uint64_t read_dr7(void)
{
    uint64_t v;
    asm volatile("mov %%dr7, %0" : "=r"(v));
    return v;
}

static inline uint64_t read_rflags(void)
{
    uint64_t v;
    asm volatile("pushfq; popq %0" : "=r"(v));
    return v;
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static inline void outb(uint16_t port, uint8_t v) { asm volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { asm volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { asm volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint16_t inw(uint16_t port) { uint16_t v; asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint32_t inl(uint16_t port) { uint32_t v; asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline void cli(void) { asm volatile("cli" ::: "memory"); }
static inline void sti(void) { asm volatile("sti" ::: "memory"); }
static inline void hlt(void) { asm volatile("hlt" ::: "memory"); }
static inline void cpu_relax(void) { asm volatile("pause" ::: "memory"); }

/* Descriptor-table registers, as SGDT/SIDT store them (SDM Vol. 3A, 2.4). */
struct __attribute__((packed)) dtr {
    uint16_t limit;
    uint64_t base;
};

static inline struct dtr sgdt(void) { struct dtr d; asm volatile("sgdt %0" : "=m"(d)); return d; }
static inline struct dtr sidt(void) { struct dtr d; asm volatile("sidt %0" : "=m"(d)); return d; }

#define DEFINE_SEG_READER(seg)                                              \
    static inline uint16_t read_##seg(void)                                 \
    {                                                                       \
        uint16_t v;                                                         \
        asm volatile("mov %%" #seg ", %0" : "=r"(v));                       \
        return v;                                                           \
    }
DEFINE_SEG_READER(cs)
DEFINE_SEG_READER(ds)
DEFINE_SEG_READER(es)
DEFINE_SEG_READER(ss)
DEFINE_SEG_READER(fs)
DEFINE_SEG_READER(gs)
#undef DEFINE_SEG_READER

static inline uint16_t read_tr(void) { uint16_t v; asm volatile("str %0" : "=r"(v)); return v; }
static inline uint16_t read_ldtr(void) { uint16_t v; asm volatile("sldt %0" : "=r"(v)); return v; }

/* Physical-address width from CPUID 0x80000008:EAX[7:0] (SDM Vol. 3A, 4.1.4). */
static inline unsigned cpu_phys_addr_bits(void)
{
    if (cpuid(0x80000000, 0).eax < 0x80000008)
        return 36;
    return cpuid(0x80000008, 0).eax & 0xff;
}

#endif
