/* ept.c: building and walking extended page tables (SDM Vol. 3C, 28.2) through table-allocation
 * hooks, so the same code runs in the hypervisor and, over malloc(), in a host unit test. */
#include "ept.h"

#include "exercise.h"

#define GIB (1ull << 30)
#define MIB2 (2ull << 20)

struct ept_caps ept_caps_decode(uint64_t c)
{
    /* IA32_VMX_EPT_VPID_CAP (SDM Vol. 3D, A.10). */
    return (struct ept_caps){
        .execute_only = c & (1ull << 0), .walk4 = c & (1ull << 6), .eptp_uc = c & (1ull << 8),
        .eptp_wb = c & (1ull << 14), .pages_2m = c & (1ull << 16), .pages_1g = c & (1ull << 17),
        .invept = c & (1ull << 20), .ad = c & (1ull << 21), .invept_single = c & (1ull << 25),
        .invept_all = c & (1ull << 26), .invvpid = c & (1ull << 32),
        .invvpid_address = c & (1ull << 40), .invvpid_single = c & (1ull << 41),
        .invvpid_all = c & (1ull << 42), .invvpid_single_globals = c & (1ull << 43),
    };
}

int ept_init(struct ept *e, const struct ept_caps *caps, const struct ept_ops *ops, bool want_ad)
{
    *e = (struct ept){.caps = *caps, .ops = *ops};
    if (!caps->walk4 || (!caps->eptp_wb && !caps->eptp_uc))
        return -1;                       /* no EPT we know how to describe */
    e->pml4 = ops->alloc_table(ops->ctx);
    if (!e->pml4)
        return -1;
    e->pml4_pa = ops->to_phys(ops->ctx, e->pml4);
    e->tables = 1;
    e->ad = want_ad && caps->ad;
    return 0;
}

static void free_level(struct ept *e, uint64_t *table, int level)
{
    for (int i = 0; level > 1 && i < 512; i++)
        if ((table[i] & EPT_RWX) && !(level <= 3 && (table[i] & EPT_LARGE)))
            free_level(e, e->ops.to_virt(e->ops.ctx, table[i] & EPT_ADDR_MASK), level - 1);
    e->ops.free_table(e->ops.ctx, table);
}

void ept_destroy(struct ept *e)
{
    if (e->pml4)
        free_level(e, e->pml4, 4);
    e->pml4 = 0;
}

uint64_t ept_pointer(const struct ept *e)
{
    uint64_t eptp = e->pml4_pa;
    // BEGIN EXERCISE 06-1: the EPT pointer
    // Instruction: Add the paging-structure memory type in bits 2:0 (6, write-back, if
    //   e->caps.eptp_wb, else 0, uncacheable), the page-walk length minus one (3, for four
    //   levels) in bits 5:3, and bit 6 if e->ad (accessed and dirty flags).
    // Hint: SDM Vol. 3C, 24.6.11 (Table 24-8); Vol. 3D, A.10 says what the CPU allows.
    eptp |= e->caps.eptp_wb ? EPT_MT_WB : EPT_MT_UC;
    eptp |= 3ull << 3;
    if (e->ad)
        eptp |= 1ull << 6;
    // END EXERCISE 06-1
    return eptp;
}

/* The largest page the CPU allows and both addresses' alignment permits: 3 1 GiB, 2 2 MiB, 1 4 KiB. */
static int leaf_level(const struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size)
{
    if (e->caps.pages_1g && !(gpa % GIB) && !(hpa % GIB) && size >= GIB)
        return 3;
    if (e->caps.pages_2m && !(gpa % MIB2) && !(hpa % MIB2) && size >= MIB2)
        return 2;
    return 1;
}

static unsigned shift_of(int level)
{
    return 12 + 9 * (unsigned)(level - 1);
}

/* The table below *entry, created if absent; NULL if a page of a larger size is mapped there. */
static uint64_t *next_table(struct ept *e, uint64_t *entry)
{
    if (!(*entry & EPT_RWX)) {
        uint64_t *t = e->ops.alloc_table(e->ops.ctx);
        if (!t)
            return 0;
        e->tables++;
        /* Upper levels allow everything: the leaf decides (28.2.2: the permissions AND). */
        *entry = e->ops.to_phys(e->ops.ctx, t) | EPT_RWX;
    } else if (*entry & EPT_LARGE) {
        return 0;
    }
    return e->ops.to_virt(e->ops.ctx, *entry & EPT_ADDR_MASK);
}

int ept_map(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms,
            unsigned memtype)
{
    if ((gpa | hpa | size) & 0xfff || (perms & ~EPT_RWX) || memtype > 7)
        return -1;
    while (size) {
        int leaf = leaf_level(e, gpa, hpa, size);
        uint64_t *table = e->pml4;
        for (int level = 4; level > leaf; level--) {
            table = next_table(e, &table[(gpa >> shift_of(level)) & 511]);
            if (!table)
                return -1;
        }
        uint64_t *entry = &table[(gpa >> shift_of(leaf)) & 511];
        if (*entry & EPT_RWX)
            return -1;                   /* already mapped, by a page or a table */
        // BEGIN EXERCISE 06-2: write a leaf entry
        // Instruction: Set *entry to hpa, the permissions perms, the memory type in bits 5:3,
        //   and for a 2 MiB or 1 GiB page (leaf > 1) bit 7. Count it in e->leaves[leaf - 1].
        // Hint: SDM Vol. 3C, 28.2.2 (Tables 28-4 and 28-6 for large pages, 28-8 for 4 KiB).
        *entry = hpa | perms | (uint64_t)memtype << EPT_MT_SHIFT |
                 (leaf > 1 ? EPT_LARGE : 0);
        e->leaves[leaf - 1]++;
        // END EXERCISE 06-2
        uint64_t step = 1ull << shift_of(leaf);
        gpa += step, hpa += step, size -= step;
    }
    return 0;
}

bool ept_lookup(const struct ept *e, uint64_t gpa, struct ept_lookup *out)
{
    const uint64_t *table = e->pml4;
    *out = (struct ept_lookup){0};
    for (int level = 4; level >= 1; level--) {
        uint64_t *entry = (uint64_t *)&table[(gpa >> shift_of(level)) & 511];
        out->entry = entry, out->level = level;
        if (!(*entry & EPT_RWX))
            return false;                /* not present: an access is an EPT violation */
        if (level == 1 || (level <= 3 && (*entry & EPT_LARGE))) {
            out->page_size = 1ull << shift_of(level);
            out->hpa = (*entry & EPT_ADDR_MASK & ~(out->page_size - 1)) | (gpa & (out->page_size - 1));
            out->perms = *entry & EPT_RWX;
            out->present = true;
            return true;
        }
        table = e->ops.to_virt(e->ops.ctx, *entry & EPT_ADDR_MASK);
    }
    return false;
}

const char *ept_entry_misconfig(uint64_t entry, int level, const struct ept_caps *caps,
                                unsigned maxphyaddr)
{
    uint64_t perms = entry & EPT_RWX;
    bool large = level > 1 && level <= 3 && (entry & EPT_LARGE);
    if (!perms)
        return 0;                        /* not present: a violation, not a misconfiguration */
    if ((perms & (EPT_READ | EPT_WRITE)) == EPT_WRITE)
        return "write permission without read (bits 1:0 = 10b)";
    if (perms == EPT_EXEC && !caps->execute_only)
        return "execute-only, which IA32_VMX_EPT_VPID_CAP[0] does not allow";
    if (entry & 0x000fffffffffffffull & ~((1ull << maxphyaddr) - 1))
        return "address bits above MAXPHYADDR";
    if (level == 4 && (entry & 0xf8))
        return "reserved bits 7:3 of a PML4 entry";
    if ((level == 3 && large && !caps->pages_1g) || (level == 2 && large && !caps->pages_2m))
        return "a page size the CPU does not support (bit 7)";
    if (!large && level > 1 && (entry & 0xf8))
        return "reserved bits 7:3 of an entry that points to a table";
    if (large && (entry & (level == 3 ? 0x3ffff000ull : 0x1ff000ull)))
        return "reserved address bits below the large page's alignment";
    unsigned mt = (entry >> EPT_MT_SHIFT) & 7;
    if ((level == 1 || large) && (mt == 2 || mt == 3 || mt == 7))
        return "a reserved memory type (2, 3 or 7) in bits 5:3";
    return 0;
}

const char *ept_find_misconfig(const struct ept *e, uint64_t gpa, unsigned maxphyaddr,
                               struct ept_lookup *out)
{
    const uint64_t *table = e->pml4;
    *out = (struct ept_lookup){0};
    for (int level = 4; level >= 1; level--) {
        uint64_t *entry = (uint64_t *)&table[(gpa >> shift_of(level)) & 511];
        const char *why = ept_entry_misconfig(*entry, level, &e->caps, maxphyaddr);
        out->entry = entry, out->level = level;
        if (why || !(*entry & EPT_RWX) || level == 1 || (level <= 3 && (*entry & EPT_LARGE)))
            return why;
        table = e->ops.to_virt(e->ops.ctx, *entry & EPT_ADDR_MASK);
    }
    return 0;
}
