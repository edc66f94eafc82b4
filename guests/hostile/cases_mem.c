/* cases_mem.c: hostile memory accesses: every kind of guest-physical address without RAM (the
 * hypervisor's own host-physical addresses among them) and the device pages at every size, offset. */
#include "hrt.h"

extern char image_start[], image_mem_end[];
#define RAM_END ((uint64_t)GUEST_RAM_MB << 20)

static struct { uint64_t ones, ones_expected, own, own_expected; } ph;

/* Without RAM or device: reads of every size are all ones, a write vanishes (a PC's bus). */
static void empty_bus(unsigned slot, uint64_t gpa)
{
    volatile uint8_t *p = window_map(slot, gpa, PTE_P | PTE_W);
    uint64_t v;
    for (unsigned size = 1; size <= 8; size *= 2) {
        int vec = try_read(p + 8, size, &v);
        ph.ones_expected++;
        if (vec == NO_FAULT && v == (size == 8 ? ~0ull : (1ull << (8 * size)) - 1))
            ph.ones++;
        else
            mismatch("read without RAM", gpa);
    }
    try_write(p + 8, 4, 0x12345678);
    try_read(p + 8, 4, &v);
    ph.ones_expected++, ph.ones += v == 0xffffffffu;
}

void random_mem_op(uint64_t r)
{
    static const uint64_t bases[] = {RAM_END, 0xfec00000, 0xfed01000, 0xfee01000, 0xfffff000,
                                     0x100000000ull, 0x2000000000ull};
    uint64_t gpa = bases[r % 7] + (((r >> 8) & 0x3f) << 12);      /* 256 KiB: no device there */
    volatile uint8_t *p = window_map(10, gpa, PTE_P | PTE_W);
    uint64_t v;
    unsigned size = 1u << ((r >> 16) & 3), off = (unsigned)(r >> 20) & 0xff8;
    if ((r >> 24) & 1) {
        try_write(p + off, size, r);
    } else if (try_read(p + off, size, &v) != NO_FAULT || v != (size == 8 ? ~0ull : (1ull << (8 * size)) - 1)) {
        mismatch("random read without RAM", gpa + off);
    }
}

int case_phys(void)
{
    const unsigned phy = maxphyaddr();
    const uint64_t addrs[] = {RAM_END, RAM_END + 0x200000, 0x80000000ull, 0xfebff000ull,
                              0xfec00000ull, 0xfed01000ull, 0xfedff000ull, 0xfee01000ull,
                              0xfffff000ull, 0x100000000ull, 0x1000000000ull,
                              (1ull << phy) - 0x1000};
    for (unsigned i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++)
        empty_bus(i, addrs[i]);
    /* The hypervisor's own memory by its host-physical addresses: guest-physical addresses
     * are not host-physical ones. Below the guest's RAM size they are its own RAM (written
     * and read back where that spoils nothing of its own), above it nothing at all. */
    for (uint64_t which = 0; which < HOST_ADDR_COUNT; which++) {
        struct hc_result r = hypercall(HC_HOST_ADDR, which, 0, 0, 0);
        uint64_t hpa = r.rbx & ~7ull;
        if (r.status)
            continue;
        if (hpa >= RAM_END) {
            empty_bus(20 + (unsigned)which, hpa);
            continue;
        }
        volatile uint64_t *p = window_map(20 + (unsigned)which, hpa, PTE_P | PTE_W);
        bool mine = hpa >= (uint64_t)image_start && hpa < (uint64_t)image_mem_end;
        if (!mine && hpa >= 0x10000) {
            *p = 0x6e6f6e63657363ull;    /* would overwrite the hypervisor if EPT let it */
            ph.own_expected++, ph.own += *p == 0x6e6f6e63657363ull;
        }
    }
    report("ones", ph.ones);
    report("ones_expected", ph.ones_expected);
    report("own_ram", ph.own);
    report("own_ram_expected", ph.own_expected);
    /* Beyond MAXPHYADDR a paging entry has reserved bits: #PF with RSVD (SDM Vol. 3A, 4.7). */
    volatile uint8_t *far = window_map(40, 1ull << phy, PTE_P | PTE_W);
    uint64_t v;
    report("beyond_maxphy", (uint64_t)try_read(far, 4, &v));
    report("beyond_maxphy_rsvd", (grt_fault.error_code >> 3) & 1);
    return 0;
}

/* ---- the device pages ---- */

#define HPET ((volatile uint8_t *)HPET_PAGE)
#define APIC ((volatile uint8_t *)LAPIC_PAGE)
#define T0_CFG 0x100

static uint64_t rd(volatile uint8_t *base, unsigned off, unsigned size)
{
    uint64_t v = 0xdead;
    if (try_read(base + off, size, &v) != NO_FAULT)
        mismatch("device read faulted", off);
    return v;
}

static unsigned hpet_odd;

static void hpet_sweep(void)
{
    /* Every size at every offset of the register block and past it: odd widths and offsets
     * read 0 and never fault. */
    for (unsigned off = 0; off < 0x440; off += 3) {
        for (unsigned size = 1; size <= 8; size *= 2) {
            uint64_t v = rd(HPET, off, size);
            bool odd = size != 4 && size != 8;
            hpet_odd += odd;
            if ((odd || (off & (size - 1)) || off > 0x3ff) && v != 0)
                mismatch("odd HPET read not 0", (uint64_t)off << 8 | size);
        }
    }
}

static void apic_sweep(void)
{
    for (unsigned off = 0; off < 0x1000; off += 7) {
        for (unsigned size = 1; size <= 8; size *= 2) {
            uint64_t v = rd(APIC, off, size);
            if ((size != 4 || (off & 15)) && v != 0)
                mismatch("odd APIC read not 0", (uint64_t)off << 8 | size);
        }
    }
}

int case_mmio(void)
{
    uint64_t v;
    report("hpet_id", rd(HPET, 0, 8));
    report("hpet_id_lo", rd(HPET, 0, 4));
    report("hpet_id_hi", rd(HPET, 4, 4));
    hpet_sweep();
    report("hpet_odd_reads", hpet_odd);
    /* Odd writes vanish; 8-byte and ALU read-modify-writes on timer 0's configuration. */
    try_write(HPET + T0_CFG, 1, 0xff);
    try_write(HPET + T0_CFG + 1, 2, 0xffff);
    report("hpet_t0_after_odd", rd(HPET, T0_CFG, 8) & 0xffff);
    asm volatile("orq $4, (%0)" :: "r"(HPET + T0_CFG) : "memory", "cc");
    report("hpet_or", rd(HPET, T0_CFG, 4) & 4);
    asm volatile("andq $-5, 0x100(%0,%1)" :: "r"(HPET), "r"(0ull) : "memory", "cc");   /* NimbOS's */
    report("hpet_and", rd(HPET, T0_CFG, 4) & 4);
    asm volatile("xorl $4, (%0)" :: "r"(HPET + T0_CFG) : "memory", "cc");
    uint8_t zf;
    asm volatile("testl $4, (%1); setz %0" : "=r"(zf) : "r"(HPET + T0_CFG) : "memory", "cc");
    report("hpet_xor_test", (uint64_t)!zf);
    v = ~0ull;
    asm volatile("andq (%1), %0" : "+r"(v) : "r"(HPET + T0_CFG) : "memory", "cc");
    report("hpet_and_reg", (v & 4) >> 2);
    /* An access running off the end of the page: never past it. */
    report("hpet_page_end", rd(HPET, 0xffc, 8));
    /* The xAPIC page (this case runs with x2APIC hidden). */
    report("apic_version", rd(APIC, 0x30, 4));
    report("apic_version_byte", rd(APIC, 0x30, 1));
    report("apic_version_qword", rd(APIC, 0x30, 8));
    report("apic_unaligned", rd(APIC, 0x31, 4));
    try_write(APIC + 0x80, 4, 0x20);                 /* TPR */
    try_write(APIC + 0x80, 1, 0x70);                 /* odd width: vanishes */
    try_write(APIC + 0x81, 4, 0x70);                 /* inside the slot: vanishes */
    report("apic_tpr", rd(APIC, 0x80, 4));
    try_write(APIC + 0x20, 4, 0x55000000);           /* APIC ID: read-only */
    report("apic_id", rd(APIC, 0x20, 4));
    apic_sweep();
    asm volatile("orl $0x100, (%0)" :: "r"(APIC + 0xf0) : "memory", "cc");
    report("apic_svr", rd(APIC, 0xf0, 4));
    try_write(APIC + 0x80, 4, 0);
    return 0;
}
