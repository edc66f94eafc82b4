/* guest_walk.h: translate a guest-linear address the way the guest's own paging does (SDM
 * Vol. 3A, chapter 4), so the hypervisor can read the guest's instruction bytes and operands. */
#ifndef GUEST_WALK_H
#define GUEST_WALK_H

#include <stdbool.h>
#include <stdint.h>

/* The guest's paging mode comes from these registers (SDM Vol. 3A, 4.1.1, Table 4-1). */
struct guest_paging {
    uint64_t cr0, cr3, cr4, efer;
    unsigned cpl;                /* 0-3: user accesses are checked against the U/S bits */
};

/* Page-fault error-code bits (SDM Vol. 3A, 4.7): the kind of access, and why it faulted. */
#define PFERR_PRESENT  (1u << 0)
#define PFERR_WRITE    (1u << 1)
#define PFERR_USER     (1u << 2)
#define PFERR_RSVD     (1u << 3)
#define PFERR_FETCH    (1u << 4)

/* Reads one 8-byte paging-structure entry at a guest-physical address; false if no RAM. */
typedef bool (*guest_phys_reader)(void *ctx, uint64_t gpa, uint64_t *value);

enum guest_walk_status {
    GUEST_WALK_OK,
    GUEST_WALK_FAULT,            /* the guest's paging forbids it: a #PF with error_code */
    GUEST_WALK_NO_RAM,           /* a paging structure lies at a guest-physical address without RAM */
};

struct guest_walk {
    enum guest_walk_status status;
    uint64_t gpa;                /* GUEST_WALK_OK: the guest-physical address */
    uint64_t page_size;          /* 4 KiB, 2 MiB, 4 MiB or 1 GiB */
    uint32_t error_code;         /* GUEST_WALK_FAULT: the #PF error code */
    uint64_t table_gpa;          /* GUEST_WALK_NO_RAM: the entry's address */
    unsigned levels;             /* entries read */
};

/*
 * Translate linear address la for an access of kind access (PFERR_WRITE, PFERR_FETCH;
 * PFERR_USER is derived from p->cpl). Handles paging off, 32-bit paging (with PSE),
 * PAE and 4-level paging, the W/U/NX permission checks with CR0.WP and EFER.NXE. It
 * sets no accessed or dirty bits. Returns true for GUEST_WALK_OK.
 */
bool guest_walk(const struct guest_paging *p, uint64_t la, uint32_t access,
                guest_phys_reader read, void *ctx, struct guest_walk *out);

#endif
