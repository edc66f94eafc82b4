/* hrt.c: the hostile guest's runtime on top of guests/lib: reports, instructions that may fault,
 * the physical-page window, the local APIC, counting interrupts, CPL 3, the PRNG, main(). */
#include "hrt.h"

unsigned mismatches;
volatile uint64_t irq_seen[256];
volatile uint8_t irq_order[256];
volatile unsigned irq_order_n;

static size_t slen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

void report(const char *key, uint64_t value)
{
    hypercall(HC_REPORT, (uint64_t)key, slen(key), value, 0);
}

void mismatch(const char *what, uint64_t detail)
{
    if (mismatches++ < 8)
        gprintf("hostile: unexpected: %s (0x%lx)\n", what, detail);
}

/* ---- instructions that may fault ---- */

int try_in(uint16_t port, unsigned size, uint32_t *value)
{
    uint32_t v = 0;
    int vec;
    if (size == 1)
        vec = TRY_INSN("inb %%dx, %%al", : "+a"(v) : "d"(port) : "memory");
    else if (size == 2)
        vec = TRY_INSN("inw %%dx, %%ax", : "+a"(v) : "d"(port) : "memory");
    else
        vec = TRY_INSN("inl %%dx, %%eax", : "+a"(v) : "d"(port) : "memory");
    *value = v;
    return vec;
}

int try_out(uint16_t port, unsigned size, uint32_t value)
{
    if (size == 1)
        return TRY_INSN("outb %%al, %%dx", :: "a"(value), "d"(port) : "memory");
    if (size == 2)
        return TRY_INSN("outw %%ax, %%dx", :: "a"(value), "d"(port) : "memory");
    return TRY_INSN("outl %%eax, %%dx", :: "a"(value), "d"(port) : "memory");
}

int try_read(const volatile void *p, unsigned size, uint64_t *value)
{
    uint64_t v = 0;
    int vec;
    if (size == 1)
        vec = TRY_INSN("movzbq (%1), %0", : "+r"(v) : "r"(p) : "memory");
    else if (size == 2)
        vec = TRY_INSN("movzwq (%1), %0", : "+r"(v) : "r"(p) : "memory");
    else if (size == 4)
        vec = TRY_INSN("movl (%1), %k0", : "+r"(v) : "r"(p) : "memory");
    else
        vec = TRY_INSN("movq (%1), %0", : "+r"(v) : "r"(p) : "memory");
    *value = v;
    return vec;
}

int try_write(volatile void *p, unsigned size, uint64_t value)
{
    if (size == 1)
        return TRY_INSN("movb %b0, (%1)", :: "r"(value), "r"(p) : "memory");
    if (size == 2)
        return TRY_INSN("movw %w0, (%1)", :: "r"(value), "r"(p) : "memory");
    if (size == 4)
        return TRY_INSN("movl %k0, (%1)", :: "r"(value), "r"(p) : "memory");
    return TRY_INSN("movq %0, (%1)", :: "r"(value), "r"(p) : "memory");
}

int try_write_cr0(uint64_t v) { return TRY_INSN("mov %0, %%cr0", :: "r"(v) : "memory"); }
int try_write_cr3(uint64_t v) { return TRY_INSN("mov %0, %%cr3", :: "r"(v) : "memory"); }
int try_write_cr8(uint64_t v) { return TRY_INSN("mov %0, %%cr8", :: "r"(v) : "memory"); }

int try_xsetbv(uint32_t index, uint64_t value)
{
    return TRY_INSN("xsetbv", :: "c"(index), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)) : "memory");
}

/* ---- the window: PML4[1] -> PDPT -> PD -> one page table of 512 slots ---- */

extern uint64_t hostile_pml4[512];
static uint64_t win_pdpt[512] __attribute__((aligned(4096)));
static uint64_t win_pd[512] __attribute__((aligned(4096)));
static uint64_t win_pt[512] __attribute__((aligned(4096)));

volatile void *window_map(unsigned slot, uint64_t gpa, uint64_t flags)
{
    uint64_t la = WINDOW_BASE + (uint64_t)(slot & 511) * 4096;
    if (!hostile_pml4[1]) {
        win_pdpt[0] = (uint64_t)win_pd | PTE_P | PTE_W | PTE_U;
        win_pd[0] = (uint64_t)win_pt | PTE_P | PTE_W | PTE_U;
        hostile_pml4[1] = (uint64_t)win_pdpt | PTE_P | PTE_W | PTE_U;
    }
    win_pt[slot & 511] = (gpa & ~0xfffull & ~PTE_NX) | flags;
    asm volatile("invlpg (%0)" :: "r"(la) : "memory");
    return (volatile void *)(la + (gpa & 0xfff));
}

unsigned maxphyaddr(void)
{
    return grt_cpuid(0x80000008, 0).eax & 0xff;
}

/* ---- local APIC ---- */

bool apic_x2(void)
{
    return grt_cpuid(1, 0).ecx & (1u << 21);
}

uint32_t apic_read(uint32_t reg)
{
    uint64_t v = 0;
    if (apic_x2()) {
        grt_rdmsr(0x800 + reg / 16, &v);
        return (uint32_t)v;
    }
    return *(volatile uint32_t *)(LAPIC_PAGE + reg);
}

void apic_write(uint32_t reg, uint32_t value)
{
    if (apic_x2())
        grt_wrmsr(0x800 + reg / 16, value);
    else
        *(volatile uint32_t *)(LAPIC_PAGE + reg) = value;
}

void apic_enable(void)
{
    uint64_t base;
    grt_rdmsr(0x1b, &base);
    if (apic_x2() && !(base & (1u << 10)))
        grt_wrmsr(0x1b, base | (1u << 10) | (1u << 11));
    apic_write(0xf0, 0x1ff);
}

void apic_eoi(void)
{
    apic_write(0xb0, 0);
}

static bool eoi_vector[256];

static void counting_handler(struct grt_frame *f)
{
    irq_seen[f->vector & 255]++;
    if (irq_order_n < 256)
        irq_order[irq_order_n++] = (uint8_t)f->vector;
    if (eoi_vector[f->vector & 255])
        apic_eoi();
}

void irq_counting(int vector, bool eoi)
{
    eoi_vector[vector & 255] = eoi;
    grt_set_handler(vector, counting_handler);
}

/* ---- CPL 3: a GDT with user segments, RSP0 in the TSS, a gate user code may call ---- */

#define SEL_USER_DATA 0x2b               /* GDT entry 5, RPL 3 */
#define SEL_USER_CODE 0x33               /* GDT entry 6, RPL 3 */
#define RETURN_VECTOR 0x81

struct __attribute__((packed)) dtr { uint16_t limit; uint64_t base; };
static uint64_t user_gdt[8] __attribute__((aligned(16)));
static uint8_t kstack[8192] __attribute__((aligned(16)));
static uint8_t ustack[8192] __attribute__((aligned(16)));
uint64_t hostile_user_return_rsp;
void hostile_run_user(void (*fn)(void), uint64_t user_rsp);
void hostile_run_user_resume(void);

/* Entries 0-4 as guests/lib made them (null, code, data, the TSS's 16 bytes), then user
 * data and 64-bit user code; RSP0 in the TSS (whose base the descriptor holds). */
static void user_setup(void)
{
    struct dtr g, i;
    asm volatile("sgdt %0; sidt %1" : "=m"(g), "=m"(i));
    const uint64_t *old = (const uint64_t *)g.base;
    for (int k = 0; k < 5; k++)
        user_gdt[k] = old[k];
    user_gdt[5] = 0x00cff2000000ffffull;
    user_gdt[6] = 0x00affa000000ffffull;
    struct dtr n = {sizeof(user_gdt) - 1, (uint64_t)user_gdt};
    asm volatile("lgdt %0" :: "m"(n));
    uint64_t tss = ((user_gdt[3] >> 16) & 0xffffff) | ((user_gdt[3] >> 56) << 24) | (user_gdt[4] << 32);
    *(uint64_t *)(tss + 4) = (uint64_t)kstack + sizeof(kstack);
    uint8_t *gate = (uint8_t *)i.base + 16 * RETURN_VECTOR;
    gate[5] = 0xee;                      /* present, DPL 3, 64-bit interrupt gate */
}

static void back_to_kernel(struct grt_frame *f)
{
    f->rip = (uint64_t)hostile_run_user_resume;
    f->cs = 0x08;
    f->ss = 0x10;
    f->rsp = hostile_user_return_rsp;
    f->rflags = 0x2;
}

void run_user(void (*fn)(void))
{
    static bool ready;
    if (!ready) {
        user_setup();
        grt_set_handler(RETURN_VECTOR, back_to_kernel);
        ready = true;
    }
    hostile_run_user(fn, (uint64_t)ustack + sizeof(ustack));
}

asm(".text\n"
    ".globl hostile_run_user, hostile_run_user_resume\n"
    "hostile_run_user:\n"
    "  pushq %rbx; pushq %rbp; pushq %r12; pushq %r13; pushq %r14; pushq %r15\n"
    "  movq %rsp, hostile_user_return_rsp(%rip)\n"
    "  pushq $0x2b\n"                    /* SS */
    "  pushq %rsi\n"                     /* RSP */
    "  pushq $0x2\n"                     /* RFLAGS: IF = 0, IOPL = 0 */
    "  pushq $0x33\n"                    /* CS */
    "  leaq 1f(%rip), %rax\n"
    "  pushq %rax\n"
    "  iretq\n"
    "1: call *%rdi\n"
    "  int $0x81\n"
    "hostile_run_user_resume:\n"
    "  popq %r15; popq %r14; popq %r13; popq %r12; popq %rbp; popq %rbx\n"
    "  ret\n");

/* ---- PRNG: xorshift64* ---- */

static uint64_t rng_state = 1;

void rng_seed(uint64_t seed)
{
    rng_state = seed * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull;
    if (!rng_state)
        rng_state = 1;
}

uint64_t rng_next(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

/* ---- main: which case this VM runs ---- */

static const char *const case_names[] = {
#define HOSTILE_NAME(id, name) name,
    HOSTILE_CASES(HOSTILE_NAME)
#undef HOSTILE_NAME
};

int guest_main(void)
{
    struct hc_result info = hypercall(HC_INFO, 0, 0, 0, 0);
    uint64_t which = info.rbx, seed = info.rcx, steps = info.rdx;
    int status;
    if (info.status != 0 || which >= CASE_COUNT) {
        gprintf("hostile: no case from the hypervisor (status %ld, case %lu)\n", info.status, which);
        return 98;
    }
    gprintf("hostile: case %s\n", case_names[which]);
    switch (which) {
    case CASE_SANE:         status = case_sane(); break;
    case CASE_PORTS:        status = case_ports(); break;
    case CASE_STRING_IO:    status = case_string_io(); break;
    case CASE_MSR:          status = case_msr(); break;
    case CASE_CR:           status = case_cr(); break;
    case CASE_VMX:          status = case_vmx(); break;
    case CASE_USER:         status = case_user(); break;
    case CASE_PHYS:         status = case_phys(); break;
    case CASE_MMIO:         status = case_mmio(); break;
    case CASE_TIMER_FLOOD:  status = case_timer_flood(); break;
    case CASE_IRQ_FLOOD:    status = case_irq_flood(); break;
    case CASE_STORM:        status = case_storm(); break;
    case CASE_DOUBLE_FAULT: status = case_double_fault(); break;
    case CASE_HYPERCALL:    status = case_hypercall(); break;
    case CASE_RANDOM:       status = case_random(seed, steps); break;
    default:                status = case_stops((int)which); break;
    }
    report("mismatches", mismatches);
    gprintf("hostile: case %s done, %u unexpected outcomes\n", case_names[which], mismatches);
    return status;
}
