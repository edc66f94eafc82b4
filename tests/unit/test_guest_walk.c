/* test_guest_walk.c: chapter 05's software page walk over page tables built in a fake
 * guest-physical memory, in each paging mode, with the faults the SDM prescribes (Vol. 3A, 4.x). */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "guest_walk.h"

#define MEM_PAGES 64
static uint64_t mem[MEM_PAGES][512];     /* guest-physical 0 .. 256 KiB */

static bool read_mem(void *ctx, uint64_t gpa, uint64_t *value)
{
    (void)ctx;
    if (gpa >= sizeof(mem))
        return false;
    *value = mem[gpa / 4096][(gpa % 4096) / 8];
    return true;
}

static void set32(uint64_t gpa, uint32_t v)
{
    uint32_t *p = (uint32_t *)&mem[gpa / 4096][0];
    p[(gpa % 4096) / 4] = v;
}

#define P 1ull
#define W 2ull
#define U 4ull
#define PS 0x80ull
#define NX (1ull << 63)
#define CR0_PG (1ull << 31)
#define CR0_WP (1ull << 16)
#define LONG_MODE(cr3) {CR0_PG | CR0_WP | 1, (cr3), 0x20, 0x500 | 0x800, 0}

static struct guest_walk w;

static void test_four_level(void)
{
    memset(mem, 0, sizeof(mem));
    /* PML4 at 0x1000 -> PDPT 0x2000 -> PD 0x3000 -> PT 0x4000. */
    mem[1][0] = 0x2000 | P | W;
    mem[2][0] = 0x3000 | P | W;
    mem[3][2] = 0x4000 | P | W;                        /* 0x400000 */
    mem[4][0] = 0x9000 | P;                            /* 0x400000: read-only */
    mem[4][1] = 0xa000 | P | W | NX;                   /* 0x401000: no execute */
    mem[3][4] = 0x1200000 | P | W | PS;                /* 0x800000: a 2 MiB page */
    mem[2][1] = 0x40000000 | P | W | PS;               /* 1 GiB: a 1 GiB page */
    struct guest_paging p = LONG_MODE(0x1000);
    CHECK(guest_walk(&p, 0x400123, 0, read_mem, 0, &w) && w.gpa == 0x9123 && w.page_size == 4096);
    CHECK(w.levels == 4);
    CHECK(guest_walk(&p, 0x8abcde, PFERR_WRITE, read_mem, 0, &w) && w.gpa == 0x12abcde &&
          w.page_size == 2ull << 20);
    CHECK(guest_walk(&p, 0x7654321, 0, read_mem, 0, &w) == false);   /* not present */
    CHECK(w.status == GUEST_WALK_FAULT && w.error_code == 0);
    CHECK(guest_walk(&p, 0x40000000 + 0x12345, PFERR_FETCH, read_mem, 0, &w) &&
          w.gpa == 0x40012345 && w.page_size == 1ull << 30);
    /* A write to the read-only page with CR0.WP: #PF, present | write. */
    CHECK(!guest_walk(&p, 0x400000, PFERR_WRITE, read_mem, 0, &w));
    CHECK(w.status == GUEST_WALK_FAULT && w.error_code == (PFERR_PRESENT | PFERR_WRITE));
    /* Without CR0.WP, ring 0 writes anyway. */
    p.cr0 &= ~CR0_WP;
    CHECK(guest_walk(&p, 0x400000, PFERR_WRITE, read_mem, 0, &w));
    /* A fetch from an NX page with EFER.NXE. */
    CHECK(!guest_walk(&p, 0x401000, PFERR_FETCH, read_mem, 0, &w));
    CHECK(w.error_code == (PFERR_PRESENT | PFERR_FETCH));
    p.efer &= ~0x800ull;                               /* NXE off: NX is not enforced */
    CHECK(guest_walk(&p, 0x401000, PFERR_FETCH, read_mem, 0, &w));
    /* CPL 3 on supervisor pages: #PF with the user bit. */
    p.cpl = 3;
    CHECK(!guest_walk(&p, 0x400000, 0, read_mem, 0, &w));
    CHECK(w.error_code == (PFERR_PRESENT | PFERR_USER));
    p.cpl = 0;
    /* A paging structure outside guest RAM. */
    mem[3][6] = 0x7000000 | P | W;
    CHECK(!guest_walk(&p, 0xc00000, 0, read_mem, 0, &w));
    CHECK(w.status == GUEST_WALK_NO_RAM && w.table_gpa == 0x7000000);
}

static void test_other_modes(void)
{
    memset(mem, 0, sizeof(mem));
    /* Paging off: linear is physical, 32 bits. */
    struct guest_paging off = {1, 0, 0, 0, 0};
    CHECK(guest_walk(&off, 0x100012345ull, 0, read_mem, 0, &w) && w.gpa == 0x12345);
    /* 32-bit paging: PD at 0x5000, a 4 MiB page (PSE) and a 4 KiB page through PT 0x6000. */
    set32(0x5000 + 4 * 1, 0x00400000 | P | W | PS);    /* 0x400000 -> 0x400000 (4 MiB) */
    set32(0x5000 + 4 * 2, 0x6000 | P | W);             /* 0x800000 -> PT */
    set32(0x6000 + 4 * 3, 0x0000b000 | P);
    struct guest_paging p32 = {CR0_PG | 1, 0x5000, 0x10 /* PSE */, 0, 0};
    CHECK(guest_walk(&p32, 0x412345, 0, read_mem, 0, &w) && w.gpa == 0x412345 && w.page_size == 4ull << 20);
    CHECK(guest_walk(&p32, 0x803abc, 0, read_mem, 0, &w) && w.gpa == 0xbabc && w.page_size == 4096);
    p32.cr4 = 0;                       /* no PSE: PS is ignored, so 0x400000 is read as a table */
    CHECK(!guest_walk(&p32, 0x400000, 0, read_mem, 0, &w) && w.status == GUEST_WALK_NO_RAM);
    /* PAE: 4 PDPTEs at 0x7020 (32-byte aligned), PD 0x8000 with a 2 MiB page. */
    mem[7][4 + 1] = 0x8000 | P;                        /* PDPTE 1: 1-2 GiB */
    mem[8][3] = 0x00600000 | P | W | PS;
    struct guest_paging pae = {CR0_PG | 1, 0x7020, 0x20, 0, 0};
    CHECK(guest_walk(&pae, 0x40600000 + 0x1234, 0, read_mem, 0, &w) && w.gpa == 0x601234);
    CHECK(!guest_walk(&pae, 0x80000000, 0, read_mem, 0, &w) && w.status == GUEST_WALK_FAULT);
}

int main(void)
{
    test_four_level();
    test_other_modes();
    return CHECK_DONE();
}
