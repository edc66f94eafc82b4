/* guest_memory.c: the memory map behind EPT: regions added one by one and mapped at once (RAM)
 * or never (MMIO, lazy RAM until touched); the EPT pointer, VPID and translator for the vCPU. */
#include "guest_memory.h"

#include "ept_vmx.h"
#include "exercise.h"
#include "kernel.h"
#include "mm.h"
#include "vmx_controls.h"
#include "vmx_exit.h"

#define MIB2 (2ull << 20)

static void *table_alloc(void *ctx) { (void)ctx; return page_alloc(1); }
static void table_free(void *ctx, void *t) { (void)ctx; page_free(t, 1); }
static uint64_t table_pa(void *ctx, const void *t) { (void)ctx; return virt_to_phys(t); }
static void *table_va(void *ctx, uint64_t pa) { (void)ctx; return phys_to_virt(pa); }

int gmem_init(struct guest_memory *m, const struct vmx_caps *caps)
{
    static const struct ept_ops ops = {table_alloc, table_free, table_pa, table_va, 0};
    struct ept_caps ec = ept_caps_decode(caps->ept_vpid);
    *m = (struct guest_memory){.maxphyaddr = cpu_phys_addr_bits()};
    if (!caps->has_ept_vpid)
        return -1;
    return ept_init(&m->ept, &ec, &ops, true);
}

void gmem_destroy(struct guest_memory *m)
{
    for (unsigned i = 0; i < m->n; i++) {
        struct gmem_region *r = &m->r[i];
        if (r->owned)
            page_free(r->owned, r->owned_pages);
        for (unsigned k = 0; k < r->lazy_pages; k++)
            page_free(r->lazy[k], 1);
    }
    ept_destroy(&m->ept);
    m->n = 0;
}

const struct gmem_region *gmem_region_of(const struct guest_memory *m, uint64_t gpa)
{
    for (unsigned i = 0; i < m->n; i++)
        if (gpa >= m->r[i].gpa && gpa - m->r[i].gpa < m->r[i].size)
            return &m->r[i];
    return NULL;
}

static struct gmem_region *add_region(struct guest_memory *m, enum gmem_kind kind, uint64_t gpa,
                                      uint64_t size, const char *name)
{
    if (m->n == GMEM_REGIONS || !size || (gpa | size) & 0xfff)
        return NULL;
    for (unsigned i = 0; i < m->n; i++)
        if (gpa < m->r[i].gpa + m->r[i].size && m->r[i].gpa < gpa + size)
            return NULL;                 /* regions do not overlap */
    struct gmem_region *r = &m->r[m->n++];
    *r = (struct gmem_region){.kind = kind, .gpa = gpa, .size = size, .name = name};
    return r;
}

int gmem_add_ram_at(struct guest_memory *m, uint64_t gpa, uint64_t hpa, uint64_t size,
                    const char *name)
{
    struct gmem_region *r = add_region(m, GMEM_RAM, gpa, size, name);
    if (!r)
        return -1;
    r->hpa = hpa;
    /* Write-back, like RAM on a PC; the guest's PAT still applies (IPAT = 0, 28.2.6). */
    return ept_map(&m->ept, gpa, hpa, size, EPT_RWX, EPT_MT_WB);
}

/*
 * RAM backed by zeroed host pages: a guest must never see what the host left in
 * memory. Allocated 2 MiB aligned when the size allows, so that 2 MiB EPT pages can map it.
 */
int gmem_add_ram(struct guest_memory *m, uint64_t gpa, uint64_t size, const char *name)
{
    size_t pages = size / PAGE_SIZE;
    void *backing = page_alloc_aligned(pages, size % MIB2 ? PAGE_SIZE : MIB2);
    if (!backing || gmem_add_ram_at(m, gpa, virt_to_phys(backing), size, name)) {
        if (backing)
            page_free(backing, pages);
        return -1;
    }
    m->r[m->n - 1].owned = backing;
    m->r[m->n - 1].owned_pages = pages;
    return 0;
}

int gmem_add_lazy(struct guest_memory *m, uint64_t gpa, uint64_t size, const char *name)
{
    return add_region(m, GMEM_LAZY, gpa, size, name) ? 0 : -1;
}

int gmem_add_mmio(struct guest_memory *m, uint64_t gpa, uint64_t size, mmio_handler fn, void *ctx,
                  const char *name)
{
    struct gmem_region *r = add_region(m, GMEM_MMIO, gpa, size, name);
    if (!r)
        return -1;
    r->fn = fn, r->ctx = ctx;
    return 0;                            /* nothing mapped: every access is an EPT violation */
}

/* Device memory is uncacheable (SDM Vol. 3A, 11.3): reads must reach the device, not a cache. */
int gmem_add_mmio_page(struct guest_memory *m, uint64_t gpa, void *page, mmio_handler fn,
                       void *ctx, const char *name)
{
    struct gmem_region *r = add_region(m, GMEM_MMIO, gpa, PAGE_SIZE, name);
    if (!r)
        return -1;
    r->fn = fn, r->ctx = ctx, r->hpa = virt_to_phys(page);
    return ept_map(&m->ept, gpa, r->hpa, PAGE_SIZE, EPT_READ, EPT_MT_UC);
}

void gmem_print(const struct guest_memory *m)
{
    static const char *const kinds[] = {"RAM", "RAM on first touch", "MMIO"};
    kprintf("guest-physical memory (EPTP 0x%lx, %lu tables; pages: %lu of 4 KiB, %lu of 2 MiB, "
            "%lu of 1 GiB):\n", ept_pointer(&m->ept), m->ept.tables, m->ept.leaves[0],
            m->ept.leaves[1], m->ept.leaves[2]);
    for (unsigned i = 0; i < m->n; i++) {
        const struct gmem_region *r = &m->r[i];
        struct ept_lookup l;
        bool mapped = ept_lookup(&m->ept, r->gpa, &l);
        kprintf("  0x%09lx-0x%09lx %-14s %-18s", r->gpa, r->gpa + r->size - 1, r->name, kinds[r->kind]);
        if (mapped)
            kprintf(" -> host 0x%lx, %s%s%s, %s, %lu KiB pages\n", l.hpa, l.perms & EPT_READ ? "R" : "-",
                    l.perms & EPT_WRITE ? "W" : "-", l.perms & EPT_EXEC ? "X" : "-",
                    ((*l.entry >> EPT_MT_SHIFT) & 7) == EPT_MT_WB ? "write-back" : "uncacheable",
                    l.page_size / 1024);
        else
            kprintf(" -> not mapped: accesses exit\n");
    }
}

void *gmem_hva(const struct guest_memory *m, uint64_t gpa)
{
    struct ept_lookup l;
    if (!ept_lookup(&m->ept, gpa, &l) || !(l.perms & EPT_READ))
        return NULL;
    return phys_to_virt(l.hpa);
}

/* chapter 05's guest_mem.c asks this for every guest-physical address it touches. */
static void *translate(struct vm *vm, uint64_t gpa)
{
    return gmem_hva(vm->mem.ctx, gpa);
}

void gmem_config(struct vcpu_config *c)
{
    c->controls.proc2.required |= SECONDARY_EXEC_ENABLE_EPT;
    c->controls.proc2.optional |= SECONDARY_EXEC_ENABLE_VPID;
}

void gmem_attach(struct guest_memory *m, struct vm *vm)
{
    static uint16_t next_vpid = 1;
    uint64_t eptp = ept_pointer(&m->ept);
    vmcs_write64(EPT_POINTER, eptp);
    /* VPID (28.1): the guest's linear translations are tagged, so VM entries and exits
     * need not flush them. 0 is the host's; each vCPU gets its own. */
    if (vm->vcpu.controls.proc2 & SECONDARY_EXEC_ENABLE_VPID) {
        m->vpid = next_vpid++;
        vmcs_write16(VIRTUAL_PROCESSOR_ID, m->vpid);
    }
    vm->mem.gpa_to_hva = translate;
    vm->mem.ctx = m;
    vm_set_exit_handler(vm, EXIT_REASON_EPT_VIOLATION, gmem_handle_violation);
    vm_set_exit_handler(vm, EXIT_REASON_EPT_MISCONFIG, gmem_handle_misconfig);
    /* The CPU may hold translations from an earlier EPT at the same address (28.3.3.1). */
    if (m->ept.caps.invept_single)
        invept(VMX_EPT_EXTENT_CONTEXT, eptp);
    else if (m->ept.caps.invept_all)
        invept(VMX_EPT_EXTENT_GLOBAL, 0);
}
