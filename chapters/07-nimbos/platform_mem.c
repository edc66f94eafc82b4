/* platform_mem.c: the guest-physical address space on chapter 06's memory map: RAM behind EPT, the
 * xAPIC and HPET pages as MMIO regions, and the AND/OR/TEST accesses chapter 06 does not decode. */
#include "alu_decode.h"
#include "ept_vmx.h"
#include "exit_qual.h"
#include "kernel.h"
#include "mm.h"
#include "mov_decode.h"
#include "platform.h"
#include "vmcs_fast.h"
#include "vmx_exit.h"

/* ---- the two device pages, as chapter 06's MMIO handlers ---- */

/* 0xFEE00000: the xAPIC registers, 32 bits wide; other widths are undefined on hardware:
 * reads give 0, writes vanish. In x2APIC mode or disabled the model ignores the page. */
static int lapic_mmio(struct vm *vm, void *ctx, struct mmio_access *a)
{
    struct platform *p = ctx;
    uint64_t now = rdtsc();
    (void)vm;
    if (a->size != 4)
        a->value = 0;
    else if (a->write)
        lapic_mmio_write(&p->lapic, (uint32_t)a->offset, (uint32_t)a->value, now);
    else
        a->value = lapic_mmio_read(&p->lapic, (uint32_t)a->offset, now);
    platform_lapic_rearm(p);
    return 0;
}

/* 0xFED00000: the HPET, 32- or 64-bit accesses (hpet.c says what the rest mean). */
static int hpet_mmio(struct vm *vm, void *ctx, struct mmio_access *a)
{
    struct platform *p = ctx;
    (void)vm;
    if (a->write)
        hpet_write(&p->hpet, (uint32_t)a->offset, a->size, a->value, rdtsc());
    else
        a->value = hpet_read(&p->hpet, (uint32_t)a->offset, a->size, rdtsc());
    return 0;
}

/* ---- EPT violations: chapter 06's handler, with AND/OR/XOR/TEST added in front ---- */

static uint64_t reg_value(struct vm *vm, int reg, bool high_byte)
{
    uint64_t v = vm_gpr_read(vm, (unsigned)reg);
    return high_byte ? (v >> 8) & 0xff : v;
}

/* A logical result into a register: 32-bit results zero-extend, 8/16-bit ones merge. */
static void reg_result(struct vm *vm, const struct alu_insn *d, uint64_t v)
{
    uint64_t old = vm_gpr_read(vm, (unsigned)d->reg);
    if (d->high_byte)
        v = (old & ~0xff00ull) | (v & 0xff) << 8;
    else if (d->size < 4)
        v = (old & ~((1ull << (8 * d->size)) - 1)) | v;
    vm_gpr_write(vm, (unsigned)d->reg, v);
}

static int device(struct vm *vm, struct gmem_region *r, uint64_t gpa, unsigned size, bool write,
                  uint64_t *value)
{
    struct mmio_access a = {gpa, gpa - r->gpa, (uint8_t)size, write, write ? *value : 0};
    if (r->fn(vm, r->ctx, &a))
        return -1;
    *value = a.value;
    return 0;
}

/*
 * AND, OR, XOR, TEST on a device register: read it through the region's handler, combine,
 * write the result back (to the device or the register), set the flags the instruction
 * sets, and move past it. -1: the device refused.
 */
static int emulate_alu(struct vm *vm, struct gmem_region *r, uint64_t gpa, const struct alu_insn *d)
{
    uint64_t mem, src = d->reg < 0 ? d->imm : reg_value(vm, d->reg, d->high_byte), v;
    if (device(vm, r, gpa, d->size, false, &mem))
        return -1;
    v = alu_result(d, mem, src);
    if (d->op != ALU_TEST && d->to_mem && device(vm, r, gpa, d->size, true, &v))
        return -1;
    if (d->op != ALU_TEST && !d->to_mem)
        reg_result(vm, d, v);
    vmcs_fast_writel(GUEST_RFLAGS, alu_flags(vmcs_fast_readl(GUEST_RFLAGS), v, d->size));
    vm->vcpu.exit.instruction_len = d->len;   /* not given for EPT violations: decoded */
    vm_skip_instruction(vm);
    return 0;
}

/* A MOV or MOVZX, decoded by chapter 06's decoder, done as chapter 06 does it. */
static int emulate_mov(struct vm *vm, struct gmem_region *r, uint64_t gpa, const struct mov_insn *d)
{
    unsigned reg = d->high_byte ? d->reg - 4 : d->reg;          /* AH is bits 15:8 of RAX, ... */
    uint64_t v = d->store ? mov_store_value(d, d->has_imm ? 0 : vm_gpr_read(vm, reg)) : 0;
    if (device(vm, r, gpa, d->size, d->store, &v))
        return -1;
    if (!d->store)
        vm_gpr_write(vm, reg, mov_load_result(d, vm_gpr_read(vm, reg), v));
    vm->vcpu.exit.instruction_len = d->length;
    vm_skip_instruction(vm);
    return 0;
}

/*
 * Chapter 06 emulates MOV and MOVZX, which is what device drivers use almost always; a
 * compiler may also fold a register's read-modify-write into one AND or OR on memory,
 * which chapter 06 refuses. So this handler takes the data accesses to the two device
 * pages: it fetches the instruction once, decodes it with chapter 06's MOV decoder or,
 * failing that, the AND/OR/XOR/TEST decoder, and does the access. Everything else (no
 * device there, a fetch, an access during event delivery, an instruction neither decoder
 * knows) goes to chapter 06's handler as it came, which reports and refuses.
 */
static enum vcpu_action ept_violation(struct vm *vm)
{
    struct platform *p = vm->user;
    struct guest_memory *m = &p->mem;
    uint64_t gpa = __vmcs_fast_read(GUEST_PHYSICAL_ADDRESS);    /* 64 bits: one VMREAD */
    struct ept_violation_qual q = ept_violation_qual_decode(vm->vcpu.exit.qualification);
    struct gmem_region *r = (struct gmem_region *)gmem_region_of(m, gpa);
    uint8_t code[15];
    struct guest_walk w;
    struct mov_insn mov;
    struct alu_insn alu;
    const char *why;
    uint64_t la = vm_guest_rip_linear(vm);
    bool long_mode = vmcs_fast_read32(GUEST_CS_AR_BYTES) & (1u << 13);
    unsigned n = 4096 - (la & 4095) < 15 ? 4096 - (la & 4095) : 15;
    if (!r || r->kind != GMEM_MMIO || !r->fn || q.fetch || !q.gla_valid || !q.gla_translation ||
        (vm->ev.last_vectoring & INTR_INFO_VALID_MASK) || vm_access_guest(vm, la, code, n, PFERR_FETCH, &w))
        return gmem_handle_violation(vm);
    int rc;
    if (mov_decode(code, n, long_mode ? MOV_MODE_64 : MOV_MODE_32, &mov, &why) && mov.store == q.write &&
        (gpa & 0xfff) + mov.size <= 0x1000) {
        rc = emulate_mov(vm, r, gpa, &mov);
    } else if (!alu_decode(code, n, long_mode, &alu) && alu.to_mem == q.write &&
               (gpa & 0xfff) + alu.size <= 0x1000) {
        rc = emulate_alu(vm, r, gpa, &alu);
        p->mmio_alu++;
    } else {
        return gmem_handle_violation(vm);
    }
    m->violations++, m->emulated++, r->exits++;
    if (rc)
        return vm_stop(vm, VM_STOP_REFUSED, "device %s refused an access at offset 0x%lx",
                       r->name, gpa - r->gpa);
    return VCPU_RESUME;
}

/*
 * Guest-physical to host pointer, for every page-table entry and instruction byte the
 * hypervisor reads through the guest's paging (chapter 05): the guest's RAM is one piece
 * here, so most answers are an addition; the rest is chapter 06's EPT walk.
 */
static void *ram_to_hva(struct vm *vm, uint64_t gpa)
{
    struct platform *p = vm->user;
    return gpa < p->ram_size ? p->ram + gpa : gmem_hva(&p->mem, gpa);
}

/*
 * Guest RAM: ram_size bytes of host memory in one piece (the loader writes it directly),
 * zeroed, mapped at guest-physical 0; the two device pages unmapped, every access an exit.
 * Nothing else is mapped: EPT translates every guest-physical address the guest uses, so
 * it can neither reach the hypervisor's memory nor any device page of the host (chapter 06:
 * addresses without RAM or device read all ones and drop writes, as on a PC's bus).
 */
int platform_mem_init(struct platform *p, char *why, size_t why_size)
{
    struct guest_memory *m = &p->mem;
    p->ram_size = p->opt.ram_size;
    p->ram = page_alloc_aligned(p->ram_size / PAGE_SIZE, 2u << 20);
    if (!p->ram || gmem_init(m, p->vm.vcpu.caps) ||
        gmem_add_ram_at(m, 0, virt_to_phys(p->ram), p->ram_size, "RAM") ||
        gmem_add_mmio(m, HPET_BASE, PAGE_SIZE, hpet_mmio, p, "HPET") ||
        gmem_add_mmio(m, APIC_DEFAULT_BASE, PAGE_SIZE, lapic_mmio, p, "local APIC")) {
        ksnprintf(why, why_size, "not enough host memory for %lu MiB of guest RAM and its EPT",
                  p->ram_size >> 20);
        return -1;
    }
    gmem_attach(m, &p->vm);
    vm_set_exit_handler(&p->vm, EXIT_REASON_EPT_VIOLATION, ept_violation);
    p->vm.mem.gpa_to_hva = ram_to_hva;
    return 0;
}

/*
 * The identity map's page (guest_start.c), just above the RAM the guest is told about.
 * It is mapped like RAM, writable: with EPT accessed/dirty flags on, the CPU's own reads
 * of guest paging structures count as writes (SDM Vol. 3C, 28.2.4), so a read-only page
 * would fault on the first walk. A guest that writes it only spoils its own start-up, and
 * platform_mem_unmap_page() takes it away when the start-up ends (the guest's map then has
 * nothing above its RAM, as documented; tests/hostile found it still there).
 */
int platform_mem_map_page(struct platform *p, uint64_t gpa, void *page, char *why, size_t why_size)
{
    if (gmem_add_ram_at(&p->mem, gpa, virt_to_phys(page), PAGE_SIZE, "start-up identity map")) {
        ksnprintf(why, why_size, "cannot map the start-up identity map at 0x%lx", gpa);
        return -1;
    }
    return 0;
}

/* Undo platform_mem_map_page(): the EPT entry cleared, the CPU's cached translations for
 * this EPT dropped (INVEPT, SDM Vol. 3C, 28.3.3), the region gone from chapter 06's list. */
void platform_mem_unmap_page(struct platform *p, uint64_t gpa)
{
    struct guest_memory *m = &p->mem;
    struct ept_lookup l;
    if (ept_lookup(&m->ept, gpa, &l) && l.level == 1)
        *l.entry = 0;
    for (unsigned i = 0; i < m->n; i++) {
        if (m->r[i].gpa == gpa && m->r[i].size == PAGE_SIZE && m->r[i].kind == GMEM_RAM) {
            for (unsigned j = i + 1; j < m->n; j++)
                m->r[j - 1] = m->r[j];
            m->n--;
            break;
        }
    }
    const struct ept_caps *c = &m->ept.caps;
    if (c->invept_single)
        (void)invept(VMX_EPT_EXTENT_CONTEXT, ept_pointer(&m->ept));
    else if (c->invept_all)
        (void)invept(VMX_EPT_EXTENT_GLOBAL, 0);
}

void platform_mem_destroy(struct platform *p)
{
    gmem_destroy(&p->mem);
    if (p->ram)
        page_free(p->ram, p->ram_size / PAGE_SIZE);
    p->ram = NULL;
}
