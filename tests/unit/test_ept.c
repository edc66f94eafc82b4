/* test_ept.c: chapter 06's EPT builder and walker over tables in host memory, with the capability
 * values of Bochs' Lynnfield (2 MiB pages) and Haswell (also 1 GiB pages, A/D flags). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ept.h"

#define LYNNFIELD_CAP 0x00000f0106114141ull
#define HASWELL_CAP   0x00000f0106334141ull
#define GIB (1ull << 30)
#define MIB (1ull << 20)

static unsigned allocated, freed;

static void *alloc_table(void *ctx)
{
    (void)ctx;
    void *p = aligned_alloc(4096, 4096);
    if (p) {
        memset(p, 0, 4096);
        allocated++;
    }
    return p;
}
static void free_table(void *ctx, void *t) { (void)ctx; free(t); freed++; }
/* "Physical" addresses of tables are their host pointers here. */
static uint64_t to_phys(void *ctx, const void *t) { (void)ctx; return (uint64_t)t; }
static void *to_virt(void *ctx, uint64_t pa) { (void)ctx; return (void *)pa; }
static const struct ept_ops ops = {alloc_table, free_table, to_phys, to_virt, 0};

static void test_caps(void)
{
    struct ept_caps l = ept_caps_decode(LYNNFIELD_CAP), h = ept_caps_decode(HASWELL_CAP);
    CHECK(l.walk4 && l.eptp_wb && l.eptp_uc && l.pages_2m && !l.pages_1g && !l.ad && l.execute_only);
    CHECK(l.invept && l.invept_single && l.invept_all);
    CHECK(l.invvpid && l.invvpid_address && l.invvpid_single && l.invvpid_all && l.invvpid_single_globals);
    CHECK(h.pages_1g && h.ad && h.pages_2m);
}

static void test_eptp(void)
{
    struct ept_caps c = ept_caps_decode(HASWELL_CAP);
    struct ept e;
    CHECK(ept_init(&e, &c, &ops, true) == 0);
    CHECK(ept_pointer(&e) == (e.pml4_pa | 6 | 3 << 3 | 1 << 6));
    ept_destroy(&e);
    c = ept_caps_decode(LYNNFIELD_CAP);
    CHECK(ept_init(&e, &c, &ops, true) == 0 && !e.ad);          /* no A/D on Lynnfield */
    CHECK(ept_pointer(&e) == (e.pml4_pa | 6 | 3 << 3));
    ept_destroy(&e);
    c.eptp_wb = false;
    CHECK(ept_init(&e, &c, &ops, false) == 0 && (ept_pointer(&e) & 0x3f) == (3 << 3));
    ept_destroy(&e);
}

/* The chapter's memory map: 4 MiB at 0 (2 MiB aligned backing) and 1 GiB at 1 GiB. */
static void build(uint64_t cap, uint64_t leaves[3])
{
    struct ept_caps c = ept_caps_decode(cap);
    struct ept e;
    struct ept_lookup l;
    allocated = freed = 0;
    CHECK(ept_init(&e, &c, &ops, false) == 0);
    CHECK(ept_map(&e, 0, 0x1400000, 4 * MIB, EPT_RWX, EPT_MT_WB) == 0);
    CHECK(ept_map(&e, GIB, GIB, GIB, EPT_RWX, EPT_MT_WB) == 0);
    CHECK(ept_map(&e, 0xd0001000, 0x3000000, 4096, EPT_READ, EPT_MT_UC) == 0);
    memcpy(leaves, e.leaves, sizeof(e.leaves));
    CHECK(ept_lookup(&e, 0x1234, &l) && l.hpa == 0x1401234 && l.perms == EPT_RWX);
    CHECK(ept_lookup(&e, 0x3fffff, &l) && l.hpa == 0x17fffff);
    CHECK(ept_lookup(&e, GIB + 0x12345678, &l) && l.hpa == GIB + 0x12345678);
    CHECK(l.page_size == (c.pages_1g ? GIB : 2 * MIB));
    CHECK(ept_lookup(&e, 0xd0001008, &l) && l.hpa == 0x3000008 && l.perms == EPT_READ && l.level == 1);
    CHECK(((*l.entry >> 3) & 7) == EPT_MT_UC);
    CHECK(!ept_lookup(&e, 4 * MIB, &l) && !ept_lookup(&e, 0xd0000000, &l));
    /* The same guest page twice, or a 4 KiB page inside a 2 MiB one: refused. */
    CHECK(ept_map(&e, 0, 0x1400000, 4096, EPT_RWX, EPT_MT_WB) == -1);
    CHECK(ept_map(&e, 0x1000, 0x9000, 4096, EPT_RWX, EPT_MT_WB) == -1);
    CHECK(ept_map(&e, 0x123, 0x9000, 4096, EPT_RWX, EPT_MT_WB) == -1);
    ept_destroy(&e);
    CHECK(allocated == freed);
}

static void test_page_sizes(void)
{
    uint64_t l[3];
    build(HASWELL_CAP, l);
    CHECK(l[2] == 1 && l[1] == 2 && l[0] == 1);
    build(LYNNFIELD_CAP, l);
    CHECK(l[2] == 0 && l[1] == 2 + 512 && l[0] == 1);
    /* Backing not 2 MiB aligned: 4 KiB pages whatever the CPU allows. */
    struct ept_caps c = ept_caps_decode(HASWELL_CAP);
    struct ept e;
    CHECK(ept_init(&e, &c, &ops, false) == 0);
    CHECK(ept_map(&e, 0, 0x1401000, 4 * MIB, EPT_RWX, EPT_MT_WB) == 0 && e.leaves[0] == 1024);
    ept_destroy(&e);
}

static void test_misconfig(void)
{
    struct ept_caps h = ept_caps_decode(HASWELL_CAP), l = ept_caps_decode(LYNNFIELD_CAP);
    struct ept_caps noxo = l;
    noxo.execute_only = false;
    CHECK(ept_entry_misconfig(0x1000 | EPT_WRITE, 1, &h, 40) != 0);
    CHECK(ept_entry_misconfig(0x1000 | EPT_EXEC, 1, &noxo, 40) != 0);
    CHECK(ept_entry_misconfig(0x1000 | EPT_EXEC, 1, &l, 40) == 0);
    CHECK(ept_entry_misconfig(0x1000 | EPT_RWX | 2 << 3, 1, &h, 40) != 0);     /* memory type 2 */
    CHECK(ept_entry_misconfig(0x1000 | EPT_RWX | 6 << 3, 1, &h, 40) == 0);
    CHECK(ept_entry_misconfig(GIB | EPT_RWX | EPT_LARGE | 6 << 3, 3, &l, 40) != 0);  /* no 1 GiB */
    CHECK(ept_entry_misconfig(GIB | EPT_RWX | EPT_LARGE | 6 << 3, 3, &h, 40) == 0);
    CHECK(ept_entry_misconfig((1ull << 45) | EPT_RWX, 1, &h, 40) != 0);          /* above MAXPHYADDR */
    CHECK(ept_entry_misconfig(0x1000 | EPT_RWX | 0x8, 4, &h, 40) != 0);          /* PML4E bit 3 */
    CHECK(ept_entry_misconfig(0x1000, 1, &h, 40) == 0);                         /* not present */
    struct ept e;
    struct ept_lookup out;
    CHECK(ept_init(&e, &h, &ops, false) == 0);
    CHECK(ept_map(&e, 0xd0002000, 0x5000, 4096, EPT_RWX, EPT_MT_WB) == 0);
    CHECK(ept_find_misconfig(&e, 0xd0002000, 48, &out) == 0);   /* tables at host pointers */
    CHECK(ept_lookup(&e, 0xd0002000, &out));
    *out.entry = (*out.entry & ~EPT_RWX) | EPT_WRITE;
    const char *why = ept_find_misconfig(&e, 0xd0002000, 48, &out);
    CHECK(why && out.level == 1 && strstr(why, "without read"));
    ept_destroy(&e);
}

int main(void)
{
    test_caps();
    test_eptp();
    test_page_sizes();
    test_misconfig();
    return CHECK_DONE();
}
