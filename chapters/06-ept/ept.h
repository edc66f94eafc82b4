/* ept.h: extended page tables (SDM Vol. 3C, 28.2): entries, the EPT pointer, building a 4-level
 * EPT with the largest pages IA32_VMX_EPT_VPID_CAP allows, a software walk, misconfigurations. */
#ifndef EPT_H
#define EPT_H

#include <stdbool.h>
#include <stdint.h>

/*
 * An EPT paging-structure entry (28.2.2, Tables 28-1 to 28-6):
 *
 *   63       52 51        12 11 10  9   8   7    6    5:3      2 1 0
 *   +---------+-------------+-----+---+---+----+----+--------+-+-+-+
 *   | ignored | address     |     | D | A | PS |IPAT| memtype|X|W|R|
 *   +---------+-------------+-----+---+---+----+----+--------+-+-+-+
 *   PS (bit 7): in a PDPTE a 1 GiB page, in a PDE a 2 MiB page; memtype, IPAT and D only
 *   in entries that map a page. R = W = X = 0: not present.
 */
#define EPT_READ        (1ull << 0)
#define EPT_WRITE       (1ull << 1)
#define EPT_EXEC        (1ull << 2)
#define EPT_RWX         (EPT_READ | EPT_WRITE | EPT_EXEC)
#define EPT_MT_SHIFT    3
#define EPT_MT_UC       0u               /* memory types (SDM Vol. 3A, 11.3) */
#define EPT_MT_WB       6u
#define EPT_IPAT        (1ull << 6)      /* ignore the guest's PAT */
#define EPT_LARGE       (1ull << 7)
#define EPT_ACCESSED    (1ull << 8)
#define EPT_DIRTY       (1ull << 9)
#define EPT_ADDR_MASK   0x000ffffffffff000ull

/* What IA32_VMX_EPT_VPID_CAP allows (SDM Vol. 3D, A.10). */
struct ept_caps {
    bool execute_only, walk4, eptp_uc, eptp_wb, pages_2m, pages_1g, invept, ad;
    bool invept_single, invept_all;
    bool invvpid, invvpid_address, invvpid_single, invvpid_all, invvpid_single_globals;
};
struct ept_caps ept_caps_decode(uint64_t ept_vpid_cap);

/* Where the EPT's tables come from: the kernel gives page_alloc(); the unit test malloc(). */
struct ept_ops {
    void *(*alloc_table)(void *ctx);                 /* a zeroed, 4 KiB aligned page */
    void (*free_table)(void *ctx, void *table);
    uint64_t (*to_phys)(void *ctx, const void *table);
    void *(*to_virt)(void *ctx, uint64_t pa);
    void *ctx;
};

struct ept {
    uint64_t *pml4;
    uint64_t pml4_pa;
    struct ept_caps caps;
    struct ept_ops ops;
    bool ad;                     /* accessed and dirty flags enabled (EPTP bit 6) */
    uint64_t leaves[3];          /* mapped pages: [0] 4 KiB, [1] 2 MiB, [2] 1 GiB */
    uint64_t tables;             /* paging-structure pages, the PML4 included */
};

/* An empty EPT. want_ad: use accessed/dirty flags if the CPU has them. Returns 0 or -1. */
int ept_init(struct ept *e, const struct ept_caps *caps, const struct ept_ops *ops, bool want_ad);
void ept_destroy(struct ept *e);

/*
 * The EPT pointer (24.6.11): the PML4's address, memory type WB if the CPU allows it
 * for the paging structures, else UC (bits 2:0), page-walk length - 1 = 3 (bits 5:3),
 * and bit 6 when accessed/dirty flags are on.
 */
uint64_t ept_pointer(const struct ept *e);

/*
 * Map guest-physical [gpa, gpa + size) to host-physical [hpa, hpa + size) with perms
 * (EPT_READ | ...) and a memory type, each piece with the largest page the CPU allows
 * and both addresses' alignment permits (1 GiB, 2 MiB, else 4 KiB). Returns 0, or -1
 * (out of tables, misaligned, or overlapping a mapping of another page size).
 */
int ept_map(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t perms,
            unsigned memtype);

/* What the EPT says about one guest-physical address: the software walk of 28.2.2. */
struct ept_lookup {
    bool present;
    uint64_t hpa;                /* present: the host-physical address of gpa */
    uint64_t *entry;             /* the last entry read (the leaf when present) */
    int level;                   /* its level: 4 PML4E, 3 PDPTE, 2 PDE, 1 PTE */
    uint64_t page_size;
    uint64_t perms;              /* R/W/X of the leaf */
};
bool ept_lookup(const struct ept *e, uint64_t gpa, struct ept_lookup *out);

/* Why an entry at this level would cause an EPT misconfiguration (28.2.3.1), or NULL. */
const char *ept_entry_misconfig(uint64_t entry, int level, const struct ept_caps *caps,
                                unsigned maxphyaddr);
/* The first misconfigured entry on gpa's walk: returns the reason and fills *out. */
const char *ept_find_misconfig(const struct ept *e, uint64_t gpa, unsigned maxphyaddr,
                               struct ept_lookup *out);

#endif
