/* cases_io.c: hostile port I/O: IN/OUT of every size on ports with and without devices and at the
 * end of the port space, INS/OUTS with REP, odd counts, both directions, faults; hypercall abuse. */
#include "hrt.h"

static bool pic_port(uint16_t p)
{
    return p == PORT_PIC1 || p == PORT_PIC1 + 1 || p == PORT_PIC2 || p == PORT_PIC2 + 1;
}

/* The platform's port map: a device decides by the first port of an access. */
static bool device_port(uint16_t p)
{
    return (p >= PORT_COM1 && p < PORT_COM1 + 8) || pic_port(p) || p == PORT_PM1A_CNT ||
           p == PORT_PM1A_CNT + 1 || p == PORT_DEBUG_EXIT || p == PORT_BOCHS_OFF;
}

/* Writes there would end the VM or garble the console this guest reports on. */
static bool keep_out(uint16_t p)
{
    return (p >= PORT_COM1 && p < PORT_COM1 + 8) || p == PORT_PM1A_CNT ||
           p == PORT_PM1A_CNT + 1 || p == PORT_DEBUG_EXIT || p == PORT_BOCHS_OFF;
}

static struct { uint64_t in, out, gp, gp_expected, ones, ones_expected, unknown; } io;

/* One access with the outcome the map predicts: #GP for a wide PIC access, all ones from a
 * port without a device, nothing else. */
static void port_access(uint16_t port, unsigned size, bool out, uint32_t value)
{
    uint32_t v = 0, ones = 0xffffffffu >> (32 - 8 * size);
    bool gp = pic_port(port) && size != 1, dev = device_port(port);
    int vec;
    if (out && keep_out(port))
        return;
    vec = out ? try_out(port, size, value) : try_in(port, size, &v);
    out ? io.out++ : io.in++;
    io.unknown += !dev;
    io.gp += vec == 13, io.gp_expected += gp;
    if (vec != (gp ? 13 : NO_FAULT))
        mismatch(out ? "OUT fault" : "IN fault", (uint64_t)port << 8 | size << 4 | (unsigned)(vec & 15));
    if (!out && !dev) {
        io.ones += v == ones, io.ones_expected++;
        if (v != ones)
            mismatch("IN from a port without a device", (uint64_t)port << 32 | v);
    }
}

static void all_sizes(uint16_t port, uint32_t value)
{
    for (unsigned size = 1; size <= 4; size *= 2) {
        port_access(port, size, false, 0);
        port_access(port, size, true, value);
    }
}

void random_port_op(uint64_t r)
{
    static const unsigned sizes[3] = {1, 2, 4};
    uint16_t port = (r >> 8) & 1 ? (uint16_t)(r >> 16) : (uint16_t)(0xfff0 + ((r >> 16) & 15));
    port_access(port, sizes[(r >> 4) % 3], r & 1, (uint32_t)(r >> 32));
}

int case_ports(void)
{
    /* Every 61st port, the edges of the devices, the end of the port space (a 4-byte IN at
     * 0xffff wraps to port 0: it exits unconditionally, SDM Vol. 3C, 25.1.3), random ports. */
    static const uint16_t edges[] = {0x1e, 0x1f, 0x20, 0x21, 0x22, 0x9f, 0xa0, 0xa1, 0xa2, 0xf3,
                                     0xf5, 0x3f5, 0x3f6, 0x3f7, 0x400, 0x401, 0x603, 0x606,
                                     0x88ff, 0x8901, 0xfffc, 0xfffd, 0xfffe, 0xffff, 0};
    for (uint32_t p = 0; p <= 0xffff; p += 61)
        all_sizes((uint16_t)p, (uint32_t)(p * 0x9e3779b1u));
    for (unsigned i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
        all_sizes(edges[i], 0x5a5aa5a5u);
    for (int i = 0; i < 300; i++)
        random_port_op(rng_next());
    /* The immediate form (ports 0-255) goes through the same exit. */
    uint8_t b = 0;
    asm volatile("inb $0x80, %0" : "=a"(b));
    io.in++, io.unknown++, io.ones_expected++, io.ones += b == 0xff;
    report("in", io.in);
    report("out", io.out);
    report("gp", io.gp);
    report("gp_expected", io.gp_expected);
    report("ones", io.ones);
    report("ones_expected", io.ones_expected);
    report("unknown", io.unknown);
    return 0;
}

/* ---- INS/OUTS ---- */

static uint8_t buf[16384] __attribute__((aligned(4096)));

#define STRING_OP(name, insn, reg)                                                        \
    static int name(uint16_t port, uint64_t *ptr, uint64_t *count, bool down)            \
    {                                                                                     \
        uint64_t p = *ptr, c = *count;                                                    \
        grt_fault_arm();                                                                  \
        asm volatile("testb %b4, %b4; jz 3f; std\n3:\n1: " insn "\n2:\ncld\n"             \
                     GRT_EXTABLE(1b, 2b) : "+" reg(p), "+c"(c) : "d"(port), "m"(buf), "q"(down) \
                     : "memory", "cc");                                                   \
        *ptr = p, *count = c;                                                             \
        return grt_fault.vector;                                                          \
    }
STRING_OP(rep_insb, "rep insb", "D")
STRING_OP(rep_insw, "rep insw", "D")
STRING_OP(rep_insl, "rep insl", "D")
STRING_OP(rep_outsb, "rep outsb", "S")
STRING_OP(addr32_rep_insb, "addr32 rep insb", "D")
STRING_OP(outsb_once, "outsb", "S")

static bool filled(const uint8_t *p, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return false;
    return true;
}

int case_string_io(void)
{
    const uint16_t nobody = 0x80;        /* no device: reads all ones, writes vanish */
    uint64_t p, c;
    int v;
    /* A REP INSB of 200 bytes: all ones, RDI moved, RCX 0, nothing past the end. */
    memset(buf, 0, sizeof(buf));
    p = (uint64_t)buf, c = 200;
    v = rep_insb(nobody, &p, &c, false);
    report("ins_fault", (uint64_t)v);
    report("ins_ok", filled(buf, 200, 0xff) && buf[200] == 0 && p == (uint64_t)buf + 200 && c == 0);
    /* Backwards (RFLAGS.DF = 1), 16-bit elements. */
    memset(buf, 0, sizeof(buf));
    p = (uint64_t)buf + 2 * 9, c = 10;
    v = rep_insw(nobody, &p, &c, true);
    report("ins_down_ok", v == NO_FAULT && filled(buf, 20, 0xff) && buf[20] == 0 && c == 0 &&
           p == (uint64_t)buf - 2);
    /* More elements than the hypervisor does per exit (it re-executes the rest). */
    p = (uint64_t)buf, c = 10000;
    v = rep_outsb(nobody, &p, &c, false);
    report("outs_long_ok", v == NO_FAULT && c == 0 && p == (uint64_t)buf + 10000);
    /* A count of zero does nothing at all. */
    p = (uint64_t)buf, c = 0;
    v = rep_insl(nobody, &p, &c, false);
    report("count0_ok", v == NO_FAULT && c == 0 && p == (uint64_t)buf);
    /* 32-bit address size: ECX counts, RCX's upper half is ignored (and cleared). */
    memset(buf, 0, 16);
    p = (uint64_t)buf, c = 0xffffffff00000003ull;
    v = addr32_rep_insb(nobody, &p, &c, false);
    report("addr32_ok", v == NO_FAULT && c == 0 && filled(buf, 3, 0xff) && buf[3] == 0);
    /* Into a page that is not present: #PF at the first element there, the registers at it,
     * CR2 its address, error code "write, not present" (SDM Vol. 3A, 4.7). */
    volatile uint8_t *ram = window_map(0, (uint64_t)buf, PTE_P | PTE_W);
    volatile uint8_t *hole = window_map(1, 0, 0);
    (void)ram;
    p = (uint64_t)hole - 16, c = 100;
    v = rep_insl(nobody, &p, &c, false);
    report("pf_vector", (uint64_t)v);
    report("pf_ok", v == 14 && grt_fault.cr2 == (uint64_t)hole && p == (uint64_t)hole && c == 96 &&
           grt_fault.error_code == 2);
    /* Into a read-only page: #PF "write, present", nothing written, RCX as it was. */
    volatile uint8_t *ro = window_map(2, (uint64_t)buf + 4096, PTE_P | PTE_U);
    buf[4096] = 0x11;
    p = (uint64_t)ro, c = 5;
    v = rep_insb(nobody, &p, &c, false);
    report("ro_ok", v == 14 && grt_fault.error_code == 3 && c == 5 && buf[4096] == 0x11);
    /* A non-canonical source: #GP(0), as a CPU checks before any access (SDM Vol. 1, 3.3.7.1). */
    p = 0x0000800000000000ull, c = 1;
    v = outsb_once(nobody, &p, &c, false);
    report("noncanonical_vector", (uint64_t)v);
    /* A device that refuses the width (the PICs are 8-bit): #GP, RCX unchanged. */
    p = (uint64_t)buf, c = 4;
    v = rep_insw(PORT_PIC1 + 1, &p, &c, false);
    report("pic_wide_ok", v == 13 && c == 4);
    return 0;
}

/* ---- hypercalls with numbers nobody registered and arguments that point nowhere ---- */

int case_hypercall(void)
{
    static const uint64_t numbers[] = {0, 1, 2, 3, 5, 6, 7, 11, 31, 32, 1000, 0x8000000000000000ull, ~0ull};
    static const char good[] = "good_key";
    unsigned enosys = 0, einval = 0, ok = 0;
    for (unsigned i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++)
        enosys += hypercall(numbers[i], 1, 2, 3, 4).status == HC_ENOSYS;
    volatile char *hole = window_map(3, 0, 0);
    volatile char *mmio = window_map(4, LAPIC_PAGE, PTE_P | PTE_W);
    static char edge[8192] __attribute__((aligned(4096)));
    window_map(5, (uint64_t)edge, PTE_P | PTE_W);            /* slot 5: RAM, slot 6: hole */
    window_map(6, 0, 0);
    volatile char *cross = (volatile char *)(WINDOW_BASE + 6 * 4096 - 3);
    cross[0] = 'a', cross[1] = 'b', cross[2] = 'c';
    const struct { uint64_t key, len; } bad[] = {
        {0, 4}, {0x8000000000000000ull, 4}, {0x0000800000000000ull, 4}, {(uint64_t)hole, 4},
        {(uint64_t)mmio, 4}, {(uint64_t)good, 0}, {(uint64_t)good, 32}, {(uint64_t)good, ~0ull},
        {(uint64_t)"Upper", 5}, {(uint64_t)"a b", 3}, {(uint64_t)"a=b", 3}, {(uint64_t)cross, 6},
        {(uint64_t)"x\n@end", 6},
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        einval += hypercall(HC_REPORT, bad[i].key, bad[i].len, 1, 0).status == HC_EINVAL;
    einval += hypercall(HC_HOST_ADDR, 99, 0, 0, 0).status == HC_EINVAL;
    ok += hypercall(HC_REPORT, (uint64_t)good, 8, 7, 0).status == 0;
    ok += hypercall(HC_INFO, 0, 0, 0, 0).status == 0;
    report("enosys", enosys);
    report("enosys_expected", sizeof(numbers) / sizeof(numbers[0]));
    report("einval", einval);
    report("einval_expected", sizeof(bad) / sizeof(bad[0]) + 1);
    report("ok", ok);
    return 0;
}
