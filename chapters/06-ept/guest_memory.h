/* guest_memory.h: a guest's physical address space from a memory map: RAM the hypervisor backs,
 * RAM allocated on first touch, MMIO regions emulated through EPT violations; all behind EPT. */
#ifndef GUEST_MEMORY_H
#define GUEST_MEMORY_H

#include <stdbool.h>
#include <stdint.h>

#include "ept.h"
#include "vm.h"

/* One access to an MMIO region, decoded from the faulting instruction (mov_decode.h). */
struct mmio_access {
    uint64_t gpa, offset;        /* the address, and its offset in the region */
    uint8_t size;                /* 1, 2, 4 or 8 */
    bool write;
    uint64_t value;              /* write: what the guest stores; read: the handler sets it */
};
/* Returns 0, or -1 to refuse: the VM stops with a report. */
typedef int (*mmio_handler)(struct vm *vm, void *ctx, struct mmio_access *a);

enum gmem_kind {
    GMEM_RAM,                    /* backed by host memory, mapped read/write/execute, write-back */
    GMEM_LAZY,                   /* RAM whose pages are allocated at the first access */
    GMEM_MMIO,                   /* not mapped (or one page mapped read-only, uncacheable):
                                    accesses exit and are emulated by a handler */
};

#define GMEM_REGIONS 16
#define GMEM_LAZY_MAX 64         /* pages a lazy region may allocate */

struct gmem_region {
    enum gmem_kind kind;
    uint64_t gpa, size, hpa;     /* hpa: RAM's backing; MMIO: a read-only page, or 0 */
    const char *name;
    void *owned;                 /* backing allocated here, freed by gmem_destroy() */
    size_t owned_pages;
    mmio_handler fn;
    void *ctx;
    uint64_t exits;              /* EPT violations in this region */
    void *lazy[GMEM_LAZY_MAX];
    unsigned lazy_pages;
};

struct gmem_violation {          /* what the last EPT violation said, for reports */
    uint64_t qualification, gpa, gla;
    uint32_t idt_vectoring;
};

struct guest_memory {
    struct ept ept;
    struct gmem_region r[GMEM_REGIONS];
    unsigned n;
    unsigned maxphyaddr;
    uint16_t vpid;               /* 0: VPID not used */
    bool quiet;                  /* no log line per unassigned access */
    uint64_t violations, emulated, unassigned_reads, unassigned_writes, lazy_faults, misconfigs;
    struct gmem_violation last;
};

/* Empty, with an EPT as the CPU allows it (accessed/dirty flags if available). Returns 0 or -1. */
int gmem_init(struct guest_memory *m, const struct vmx_caps *caps);
void gmem_destroy(struct guest_memory *m);

/* Regions: each returns 0, or -1 (overlap, misaligned, out of memory, too many). */
int gmem_add_ram(struct guest_memory *m, uint64_t gpa, uint64_t size, const char *name);
int gmem_add_ram_at(struct guest_memory *m, uint64_t gpa, uint64_t hpa, uint64_t size,
                    const char *name);    /* backing the caller owns */
int gmem_add_lazy(struct guest_memory *m, uint64_t gpa, uint64_t size, const char *name);
int gmem_add_mmio(struct guest_memory *m, uint64_t gpa, uint64_t size, mmio_handler fn, void *ctx,
                  const char *name);
/* One page the guest reads directly (mapped read-only, uncacheable) and writes through fn. */
int gmem_add_mmio_page(struct guest_memory *m, uint64_t gpa, void *page, mmio_handler fn,
                       void *ctx, const char *name);

/* The secondary controls EPT needs (and VPID, where the CPU has it). */
void gmem_config(struct vcpu_config *config);
/*
 * Give the VM this address space: EPT_POINTER, the VPID, the translator guest_mem.c uses
 * (chapter 05), the handlers of exit reasons 48 and 49, and an INVEPT of the new EPTP.
 */
void gmem_attach(struct guest_memory *m, struct vm *vm);

/* The map for humans: each region, where it lives in the host, how EPT maps it. */
void gmem_print(const struct guest_memory *m);

const struct gmem_region *gmem_region_of(const struct guest_memory *m, uint64_t gpa);
void *gmem_hva(const struct guest_memory *m, uint64_t gpa);    /* NULL: not mapped */

/* Exit handlers (set by gmem_attach). */
enum vcpu_action gmem_handle_violation(struct vm *vm);
enum vcpu_action gmem_handle_misconfig(struct vm *vm);

#endif
