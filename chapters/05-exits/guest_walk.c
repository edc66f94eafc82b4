/* guest_walk.c: a software page walk through the guest's paging structures (SDM Vol. 3A,
 * 4.3-4.6), for each paging mode; tested on the host with page tables in an array. */
#include "guest_walk.h"

#define CR0_PG_BIT   (1ull << 31)
#define CR0_WP_BIT   (1ull << 16)
#define CR4_PSE_BIT  (1ull << 4)
#define CR4_PAE_BIT  (1ull << 5)
#define EFER_LMA_BIT (1ull << 10)
#define EFER_NXE_BIT (1ull << 11)

#define PTE_P   (1ull << 0)
#define PTE_W   (1ull << 1)
#define PTE_U   (1ull << 2)
#define PTE_PS  (1ull << 7)
#define PTE_NX  (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull      /* bits 51:12 (MAXPHYADDR at most 52) */

/* What the walk has gathered: the permissions are the AND of all levels (4.6.1). */
struct walk_state {
    const struct guest_paging *p;
    uint32_t access;
    bool writable, user, executable;
};

static void take_permissions(struct walk_state *s, uint64_t entry, bool has_nx)
{
    s->writable &= (entry & PTE_W) != 0;
    s->user &= (entry & PTE_U) != 0;
    if (has_nx && (s->p->efer & EFER_NXE_BIT) && (entry & PTE_NX))
        s->executable = false;
}

static bool fault(struct guest_walk *out, uint32_t error_code)
{
    out->status = GUEST_WALK_FAULT;
    out->error_code = error_code;
    return false;
}

/* The access rights checks of 4.6: user pages for CPL 3, writes with CR0.WP, NX fetches. */
static bool permitted(const struct walk_state *s, struct guest_walk *out)
{
    bool write = s->access & PFERR_WRITE, user = s->access & PFERR_USER;
    bool fetch = s->access & PFERR_FETCH;
    uint32_t code = s->access | PFERR_PRESENT;
    if (user && !s->user)
        return fault(out, code);
    if (write && !s->writable && (user || (s->p->cr0 & CR0_WP_BIT)))
        return fault(out, code);
    if (fetch && !s->executable)
        return fault(out, code);
    return true;
}

static bool read_entry(guest_phys_reader read, void *ctx, uint64_t gpa, unsigned width,
                       uint64_t *entry, struct guest_walk *out)
{
    uint64_t v;
    out->levels++;
    if (!read(ctx, gpa & ~7ull, &v)) {
        out->status = GUEST_WALK_NO_RAM;
        out->table_gpa = gpa;
        return false;
    }
    *entry = width == 4 ? (uint32_t)(v >> (8 * (gpa & 4))) : v;
    return true;
}

static bool finish(struct walk_state *s, struct guest_walk *out, uint64_t gpa, uint64_t size)
{
    if (!permitted(s, out))
        return false;
    out->gpa = gpa;
    out->page_size = size;
    return true;
}

/* 4-level paging (4.5) and PAE paging (4.4) share the 64-bit entry format below the top. */
static bool walk_64bit_entries(struct walk_state *s, uint64_t la, uint64_t table, int level,
                               guest_phys_reader read, void *ctx, struct guest_walk *out)
{
    for (;; level--) {
        unsigned shift = 12 + 9 * (unsigned)(level - 1);
        uint64_t entry;
        if (!read_entry(read, ctx, table + 8 * ((la >> shift) & 511), 8, &entry, out))
            return false;
        if (!(entry & PTE_P))
            return fault(out, s->access);
        take_permissions(s, entry, true);
        if (level == 1 || ((entry & PTE_PS) && level <= 3)) {
            uint64_t size = 1ull << shift;
            uint64_t base = level == 1 ? entry & PTE_ADDR : entry & PTE_ADDR & ~(size - 1);
            return finish(s, out, base | (la & (size - 1)), size);
        }
        table = entry & PTE_ADDR;
    }
}

bool guest_walk(const struct guest_paging *p, uint64_t la, uint32_t access,
                guest_phys_reader read, void *ctx, struct guest_walk *out)
{
    struct walk_state s = {p, access | (p->cpl == 3 ? PFERR_USER : 0), true, true, true};
    *out = (struct guest_walk){.status = GUEST_WALK_OK};
    if (!(p->cr0 & CR0_PG_BIT)) {
        /* Paging off: linear = physical, 32 bits wide (4.1.1). */
        out->gpa = (uint32_t)la;
        out->page_size = 4096;
        return true;
    }
    if (p->efer & EFER_LMA_BIT)
        return walk_64bit_entries(&s, la, p->cr3 & PTE_ADDR, 4, read, ctx, out);
    if (p->cr4 & CR4_PAE_BIT) {
        /* PAE: CR3 bits 31:5 locate 4 PDPTEs; each maps 1 GiB with a page directory (4.4.1). */
        uint64_t pdpte;
        if (!read_entry(read, ctx, (p->cr3 & 0xffffffe0ull) + 8 * ((la >> 30) & 3), 8, &pdpte, out))
            return false;
        if (!(pdpte & PTE_P))
            return fault(out, s.access);
        return walk_64bit_entries(&s, (uint32_t)la, pdpte & PTE_ADDR, 2, read, ctx, out);
    }
    /* 32-bit paging (4.3): 4-byte entries, 4 MiB pages with CR4.PSE, no NX. */
    uint64_t pde, pte;
    if (!read_entry(read, ctx, (p->cr3 & 0xfffff000ull) + 4 * ((la >> 22) & 1023), 4, &pde, out))
        return false;
    if (!(pde & PTE_P))
        return fault(out, s.access);
    take_permissions(&s, pde, false);
    if ((pde & PTE_PS) && (p->cr4 & CR4_PSE_BIT)) {
        uint64_t base = (pde & 0xffc00000ull) | (((pde >> 13) & 0xff) << 32);
        return finish(&s, out, base | (la & 0x3fffff), 4ull << 20);
    }
    if (!read_entry(read, ctx, (pde & 0xfffff000ull) + 4 * ((la >> 12) & 1023), 4, &pte, out))
        return false;
    if (!(pte & PTE_P))
        return fault(out, s.access);
    take_permissions(&s, pte, false);
    return finish(&s, out, (pte & 0xfffff000ull) | (la & 0xfff), 4096);
}
