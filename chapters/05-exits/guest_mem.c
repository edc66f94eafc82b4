/* guest_mem.c: reading and writing guest memory by guest-linear address: the guest's page walk
 * (guest_walk.c) gives a guest-physical address, the translator hook a host pointer. */
#include "guest_mem.h"

#include "kernel.h"
#include "mm.h"
#include "vm.h"
#include "vmx_controls.h"

/* Without EPT, guest-physical is host-physical: only host RAM is readable this way. */
static void *identity(struct vm *vm, uint64_t gpa)
{
    (void)vm;
    return gpa < boot_info.ram_end ? phys_to_virt(gpa) : NULL;
}

void vm_mem_init(struct vm *vm)
{
    vm->mem.gpa_to_hva = identity;
}

void *vm_gpa_to_hva(struct vm *vm, uint64_t gpa)
{
    return vm->mem.gpa_to_hva(vm, gpa);
}

/*
 * The guest's EFER: in the VMCS when the entry control loads it; otherwise the guest
 * runs with the host's EFER, except LME/LMA, which "IA-32e mode guest" decides (26.3.2.1).
 */
uint64_t vm_guest_efer(struct vm *vm)
{
    if (vm->vcpu.controls.entry & VM_ENTRY_LOAD_IA32_EFER)
        return vmcs_read64(GUEST_IA32_EFER);
    uint64_t efer = rdmsr(MSR_EFER) & ~(EFER_LME | EFER_LMA);
    return vm->vcpu.controls.entry & VM_ENTRY_IA32E_MODE ? efer | EFER_LME | EFER_LMA : efer;
}

void vm_guest_paging(struct vm *vm, struct guest_paging *p)
{
    p->cr0 = vmcs_readl(GUEST_CR0);
    p->cr3 = vmcs_readl(GUEST_CR3);
    p->cr4 = vmcs_readl(GUEST_CR4);
    p->efer = vm_guest_efer(vm);
    p->cpl = vm_guest_cpl(vm);
}

static bool read_table(void *ctx, uint64_t gpa, uint64_t *value)
{
    const uint64_t *p = vm_gpa_to_hva(ctx, gpa);
    if (!p)
        return false;
    *value = *p;
    return true;
}

int vm_access_guest(struct vm *vm, uint64_t la, void *buf, size_t n, uint32_t access,
                    struct guest_walk *walk)
{
    struct guest_paging p;
    uint8_t *b = buf;
    vm_guest_paging(vm, &p);
    while (n) {
        size_t chunk = 4096 - (la & 4095);
        if (chunk > n)
            chunk = n;
        if (!guest_walk(&p, la, access, read_table, vm, walk))
            return -1;
        uint8_t *h = vm_gpa_to_hva(vm, walk->gpa);
        if (!h) {
            walk->status = GUEST_WALK_NO_RAM;
            walk->table_gpa = walk->gpa;
            return -1;
        }
        if (access & PFERR_WRITE)
            memcpy(h, b, chunk);
        else
            memcpy(b, h, chunk);
        la += chunk, b += chunk, n -= chunk;
    }
    return 0;
}

int vm_read_guest(struct vm *vm, uint64_t la, void *buf, size_t n, struct guest_walk *walk)
{
    return vm_access_guest(vm, la, buf, n, 0, walk);
}

int vm_write_guest(struct vm *vm, uint64_t la, const void *buf, size_t n, struct guest_walk *walk)
{
    return vm_access_guest(vm, la, (void *)buf, n, PFERR_WRITE, walk);
}

uint64_t vm_guest_rip_linear(struct vm *vm)
{
    uint64_t rip = vm->vcpu.exit.guest_rip;
    if (vmcs_read32(GUEST_CS_AR_BYTES) & (1u << 13))
        return rip;                          /* 64-bit code: CS.base is ignored */
    return (uint32_t)(vmcs_readl(GUEST_CS_BASE) + rip);
}
