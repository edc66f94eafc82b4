/* platform_mem.c: the guest-physical address space: RAM behind EPT, the xAPIC and HPET pages as
 * MMIO emulated on EPT violations, nothing else (any other access stops the VM with a report). */
#include "kernel.h"
#include "mm.h"
#include "mmio_decode.h"
#include "platform.h"
#include "vmx_controls.h"
#include "vmx_exit.h"

/*
 * Stand-in until chapter 06 lands: a four-level EPT of 4 KiB pages over the guest's RAM
 * (SDM Vol. 3C, 28.2.2), and the MMIO pages left unmapped so that every access to them is
 * an EPT violation (28.2.3.2) this file decodes and hands to the device.
 */
#define EPT_RWX         7ull
#define EPT_MEMTYPE_WB  (6ull << 3)
#define EPT_QUAL_WRITE  (1ull << 1)
#define EPT_QUAL_FETCH  (1ull << 2)

static uint64_t *ept_next(uint64_t *table, unsigned index)
{
    if (!(table[index] & EPT_RWX)) {
        uint64_t *t = page_alloc(1);
        if (!t)
            return NULL;
        table[index] = virt_to_phys(t) | EPT_RWX;
    }
    return phys_to_virt(table[index] & ~0xfffull);
}

static int ept_map_ram(uint64_t *pml4, uint64_t ram_hpa, uint64_t size)
{
    for (uint64_t gpa = 0; gpa < size; gpa += PAGE_SIZE) {
        uint64_t *pdpt = ept_next(pml4, (gpa >> 39) & 511);
        uint64_t *pd = pdpt ? ept_next(pdpt, (gpa >> 30) & 511) : NULL;
        uint64_t *pt = pd ? ept_next(pd, (gpa >> 21) & 511) : NULL;
        if (!pt)
            return -1;
        pt[(gpa >> 12) & 511] = (ram_hpa + gpa) | EPT_RWX | EPT_MEMTYPE_WB;
    }
    return 0;
}

static void ept_free(uint64_t *table, int level)
{
    for (int i = 0; level > 1 && i < 512; i++)
        if (table[i] & EPT_RWX)
            ept_free(phys_to_virt(table[i] & ~0xfffull), level - 1);
    page_free(table, 1);
}

static uint64_t *ept_root;

/* Guest-physical to host pointer for chapter 05's guest-memory reads (instruction bytes,
 * page walks): RAM only; a device page has no memory behind it. */
static void *gpa_to_hva(struct vm *vm, uint64_t gpa)
{
    struct platform *p = vm->user;
    return gpa < p->ram_size ? p->ram + gpa : NULL;
}

/* ---- an access to a device page, decoded from the instruction that made it ---- */

static uint64_t reg_read(struct vm *vm, const struct mmio_insn *d)
{
    if (d->reg < 0)
        return d->imm;
    uint64_t v = vm_gpr_read(vm, (unsigned)d->reg);
    return d->high_byte ? (v >> 8) & 0xff : v;
}

/* A load writes its register as the CPU would: 32-bit results zero-extend (SDM Vol. 1, 3.4.1.1). */
static void reg_write(struct vm *vm, const struct mmio_insn *d, uint64_t value)
{
    uint64_t old = vm_gpr_read(vm, (unsigned)d->reg), v;
    if (d->high_byte)
        v = (old & ~0xff00ull) | (value & 0xff) << 8;
    else if (d->dest_size == 8)
        v = value;
    else if (d->dest_size == 4)
        v = (uint32_t)value;
    else {
        uint64_t mask = d->dest_size == 2 ? 0xffff : 0xff;
        v = (old & ~mask) | (value & mask);
    }
    vm_gpr_write(vm, (unsigned)d->reg, v);
}

static uint64_t device_access(struct platform *p, uint64_t gpa, const struct mmio_insn *d,
                              uint64_t value, bool write)
{
    uint64_t now = rdtsc();
    uint32_t off = (uint32_t)(gpa & 0xfff);
    if ((gpa & ~0xfffull) == APIC_DEFAULT_BASE) {
        if (d->size != 4) {
            value = 0;                   /* undefined on hardware: reads 0, writes vanish */
        } else if (write) {
            lapic_mmio_write(&p->lapic, off, (uint32_t)value, now);
        } else {
            value = lapic_mmio_read(&p->lapic, off, now);
        }
        platform_lapic_rearm(p);
        return value;
    }
    if (write)
        hpet_write(&p->hpet, off, d->size, value, now);
    else
        value = hpet_read(&p->hpet, off, d->size, now);
    return value;
}

/* SF, ZF, PF from a logical result; CF = OF = 0; AF undefined, kept (SDM Vol. 2A, AND). */
static void logic_flags(uint64_t v, unsigned size)
{
    uint64_t f = vmcs_readl(GUEST_RFLAGS) & ~(RFLAGS_CF | RFLAGS_OF | RFLAGS_SF | RFLAGS_ZF | RFLAGS_PF);
    if (!v)
        f |= RFLAGS_ZF;
    if (v >> (8 * size - 1) & 1)
        f |= RFLAGS_SF;
    if (!(__builtin_popcount((unsigned)(v & 0xff)) & 1))
        f |= RFLAGS_PF;
    vmcs_writel(GUEST_RFLAGS, f);
}

/* Carry out a decoded access: the device read and/or written, the register and flags set. */
static void emulate(struct vm *vm, struct platform *p, uint64_t gpa, const struct mmio_insn *d)
{
    uint64_t mask = d->size == 8 ? ~0ull : (1ull << (8 * d->size)) - 1, v;
    if (d->op == MMIO_MOV) {
        if (d->to_mem)
            device_access(p, gpa, d, reg_read(vm, d) & mask, true);
        else
            reg_write(vm, d, device_access(p, gpa, d, 0, false) & mask);
        return;
    }
    uint64_t m = device_access(p, gpa, d, 0, false) & mask, s = reg_read(vm, d) & mask;
    v = d->op == MMIO_OR ? m | s : d->op == MMIO_XOR ? m ^ s : m & s;
    if (d->op != MMIO_TEST) {
        if (d->to_mem)
            device_access(p, gpa, d, v, true);
        else
            reg_write(vm, d, v);
    }
    logic_flags(v, d->size);
}

/* EPT violation (exit reason 48): the guest-physical address, what kind of access. */
static enum vcpu_action ept_violation(struct vm *vm)
{
    struct platform *p = vm->user;
    uint64_t gpa = vmcs_read64(GUEST_PHYSICAL_ADDRESS), q = vm->vcpu.exit.qualification;
    uint64_t page = gpa & ~0xfffull;
    bool lapic = page == APIC_DEFAULT_BASE && lapic_mode(&p->lapic) == LAPIC_XAPIC;
    if ((!lapic && page != HPET_BASE) || (q & EPT_QUAL_FETCH))
        return vm_stop(vm, VM_STOP_REFUSED, "the guest %s guest-physical 0x%lx: no RAM or device "
                       "there", q & EPT_QUAL_FETCH ? "executed at" : q & EPT_QUAL_WRITE ?
                       "wrote to" : "read from", gpa);
    uint8_t code[15];
    struct guest_walk w;
    struct mmio_insn d;
    uint64_t la = vm_guest_rip_linear(vm);
    bool long_mode = vmcs_read32(GUEST_CS_AR_BYTES) & (1u << 13);
    unsigned n = 15;
    if (vm_access_guest(vm, la, code, n, PFERR_FETCH, &w)) {
        n = (unsigned)(4096 - (la & 4095));             /* the instruction may end on its page */
        if (n >= 15 || vm_access_guest(vm, la, code, n, PFERR_FETCH, &w))
            return vm_stop(vm, VM_STOP_REFUSED, "MMIO at 0x%lx: cannot read the instruction", gpa);
    }
    if (mmio_decode(code, n, long_mode, &d) || d.to_mem != !!(q & EPT_QUAL_WRITE) ||
        ((gpa & 0xfff) + d.size > 0x1000)) {
        p->mmio_refused++;
        return vm_stop(vm, VM_STOP_REFUSED, "MMIO at 0x%lx by an instruction this platform does "
                       "not emulate (bytes %02x %02x %02x %02x)", gpa, code[0], code[1], code[2], code[3]);
    }
    if (lapic)
        p->mmio_lapic++;
    else
        p->mmio_hpet++;
    emulate(vm, p, gpa, &d);
    vm->vcpu.exit.instruction_len = d.len;   /* not given for EPT violations: decoded */
    vm_skip_instruction(vm);
    return VCPU_RESUME;
}

/*
 * Guest RAM: ram_size bytes of host memory, one piece, zeroed, mapped at guest-physical 0.
 * Nothing else is mapped: the guest cannot reach the hypervisor's memory or any device
 * page of the host, because EPT translates every guest-physical address it uses.
 */
int platform_mem_init(struct platform *p, char *why, size_t why_size)
{
    p->ram_size = p->opt.ram_size;
    p->ram = page_alloc_aligned(p->ram_size / PAGE_SIZE, 2u << 20);
    ept_root = page_alloc(1);
    if (!p->ram || !ept_root || ept_map_ram(ept_root, virt_to_phys(p->ram), p->ram_size)) {
        ksnprintf(why, why_size, "not enough host memory for %lu MiB of guest RAM and its EPT",
                  p->ram_size >> 20);
        return -1;
    }
    uint64_t eptp = virt_to_phys(ept_root) | 3u << 3 |
                    (p->vm.vcpu.caps->ept_vpid & VMX_EPTP_WB_BIT ? 6 : 0);
    vmcs_write64(EPT_POINTER, eptp);
    p->vm.mem.gpa_to_hva = gpa_to_hva;
    vm_set_exit_handler(&p->vm, EXIT_REASON_EPT_VIOLATION, ept_violation);
    return 0;
}

int platform_mem_map_page(struct platform *p, uint64_t gpa, void *page, bool writable, char *why,
                          size_t why_size)
{
    (void)p;
    uint64_t *pdpt = ept_next(ept_root, (gpa >> 39) & 511);
    uint64_t *pd = pdpt ? ept_next(pdpt, (gpa >> 30) & 511) : NULL;
    uint64_t *pt = pd ? ept_next(pd, (gpa >> 21) & 511) : NULL;
    if (!pt) {
        ksnprintf(why, why_size, "out of memory for EPT tables");
        return -1;
    }
    pt[(gpa >> 12) & 511] = virt_to_phys(page) | (writable ? EPT_RWX : 5ull) | EPT_MEMTYPE_WB;
    return 0;
}

void platform_mem_destroy(struct platform *p)
{
    if (ept_root)
        ept_free(ept_root, 4);
    ept_root = NULL;
    if (p->ram)
        page_free(p->ram, p->ram_size / PAGE_SIZE);
    p->ram = NULL;
}
