/* ept_exits.c: EPT violations (SDM Vol. 3C, 28.2.3.2, 27.2.1 Table 27-7) used for MMIO emulation
 * and allocation on first touch, and EPT misconfigurations (28.2.3.1) explained and reported. */
#include "ept_vmx.h"
#include "exercise.h"
#include "exit_qual.h"
#include "guest_memory.h"
#include "kernel.h"
#include "mm.h"
#include "mov_decode.h"

#define GMEM_LOG_LIMIT 16

/*
 * Lazy RAM: the first access to a page exits; a zeroed page gets mapped and the guest
 * retries the instruction (RIP unchanged). No INVEPT: a not-present entry is never
 * cached (28.3.2), so making it present needs no invalidation. If the exit interrupted
 * an event's delivery, chapter 05's dispatcher re-injects it (IDT-vectoring).
 */
static enum vcpu_action lazy_fault(struct vm *vm, struct guest_memory *m, struct gmem_region *r,
                                   uint64_t gpa)
{
    if (r->lazy_pages == GMEM_LAZY_MAX)
        return vm_stop(vm, VM_STOP_REFUSED, "region %s: guest-physical 0x%lx is more than %d "
                       "pages", r->name, gpa, GMEM_LAZY_MAX);
    m->lazy_faults++;
    // BEGIN EXERCISE 06-3: allocate on first touch
    // Instruction: Allocate a zeroed page, remember it in r->lazy[] (r->lazy_pages), and map
    //   the 4 KiB page of gpa to it in m->ept: readable, writable, executable, write-back.
    //   Return VCPU_RESUME (the guest retries the access), or stop the VM if that fails.
    // Hint: SDM Vol. 3C, 28.2.3.2; page_alloc(), ept_map(); the guest's RIP must not move.
    void *page = page_alloc(1);
    if (!page || ept_map(&m->ept, gpa & ~0xfffull, virt_to_phys(page), PAGE_SIZE, EPT_RWX, EPT_MT_WB))
        return vm_stop(vm, VM_STOP_REFUSED, "region %s: no memory for guest-physical 0x%lx",
                       r->name, gpa);
    r->lazy[r->lazy_pages++] = page;
    return VCPU_RESUME;
    // END EXERCISE 06-3
}

/* Fetch and decode the instruction at the guest's RIP through its own page tables. */
static bool decode_at_rip(struct vm *vm, struct mov_insn *d, uint8_t bytes[15], const char **why)
{
    struct guest_walk w;
    uint64_t la = vm_guest_rip_linear(vm);
    size_t n = 4096 - (la & 4095) < 15 ? 4096 - (la & 4095) : 15;
    uint32_t cs_ar = vmcs_read32(GUEST_CS_AR_BYTES);
    memset(bytes, 0, 15);
    if (vm_access_guest(vm, la, bytes, n, PFERR_FETCH, &w))
        return *why = "its bytes cannot be read through the guest's page tables", false;
    if (n < 15 && !vm_access_guest(vm, la + n, bytes + n, 15 - n, PFERR_FETCH, &w))
        n = 15;
    if (!(cs_ar & (1u << 13)) && !(cs_ar & (1u << 14)))
        return *why = "16-bit code", false;
    return mov_decode(bytes, n, cs_ar & (1u << 13) ? MOV_MODE_64 : MOV_MODE_32, d, why);
}

/* An access with no region behind it: no RAM, no device. A PC's bus reads all ones
 * there and drops writes; so does this hypervisor, which logs the first few. */
static void unassigned(struct vm *vm, struct guest_memory *m, struct mmio_access *a)
{
    uint64_t n = a->write ? m->unassigned_writes++ : m->unassigned_reads++;
    if (n < GMEM_LOG_LIMIT && !m->quiet)
        kprintf("ept: no RAM or device at guest-physical 0x%lx: %s of %u bytes %s (RIP 0x%lx)\n",
                a->gpa, a->write ? "write" : "read", a->size, a->write ? "dropped" : "reads all ones",
                vm->vcpu.exit.guest_rip);
    if (!a->write)
        a->value = a->size == 8 ? ~0ull : (1ull << (8 * a->size)) - 1;
}

/*
 * MMIO: the exit says where (GUEST_PHYSICAL_ADDRESS) and whether it was a write, but
 * not the instruction's length, register or value: decode it, do the access on the
 * device's behalf, write back the register of a load, and move RIP past the instruction.
 */
static enum vcpu_action emulate_mmio(struct vm *vm, struct guest_memory *m, struct gmem_region *r,
                                     uint64_t gpa, bool write)
{
    uint8_t bytes[15];
    struct mov_insn d;
    const char *why = "";
    if (!decode_at_rip(vm, &d, bytes, &why))
        return vm_stop(vm, VM_STOP_REFUSED, "cannot emulate the access to guest-physical 0x%lx "
                       "(%s): %s; bytes %02x %02x %02x %02x", gpa, r ? r->name : "no device", why,
                       bytes[0], bytes[1], bytes[2], bytes[3]);
    if (d.store != write)
        return vm_stop(vm, VM_STOP_REFUSED, "decoded a %s, but the CPU reported a %s at 0x%lx",
                       d.store ? "store" : "load", write ? "write" : "read", gpa);
    unsigned reg = d.high_byte ? d.reg - 4 : d.reg;       /* AH is bits 15:8 of RAX, ... */
    struct mmio_access a = {gpa, r ? gpa - r->gpa : 0, (uint8_t)d.size, d.store, 0};
    m->emulated++;
    if (d.store)
        a.value = mov_store_value(&d, d.has_imm ? 0 : vm_gpr_read(vm, reg));
    if (!r)
        unassigned(vm, m, &a);
    else if (r->fn(vm, r->ctx, &a))
        return vm_stop(vm, VM_STOP_REFUSED, "device %s refused a %u-byte %s at offset 0x%lx",
                       r->name, a.size, a.write ? "write" : "read", a.offset);
    // BEGIN EXERCISE 06-5: finish the instruction for the guest
    // Instruction: For a load (d.store false) write a.value into register reg with
    //   mov_load_result() (it keeps the bits an 8- or 16-bit load leaves alone). Then move RIP
    //   past the instruction: VM_EXIT_INSTRUCTION_LEN is not valid for EPT violations, so set
    //   vm->vcpu.exit.instruction_len to the decoded d.length and call vm_skip_instruction().
    // Hint: SDM Vol. 3C, 27.2.4; vm_gpr_read(), vm_gpr_write().
    if (!d.store)
        vm_gpr_write(vm, reg, mov_load_result(&d, vm_gpr_read(vm, reg), a.value));
    vm->vcpu.exit.instruction_len = d.length;
    vm_skip_instruction(vm);
    // END EXERCISE 06-5
    return VCPU_RESUME;
}

enum vcpu_action gmem_handle_violation(struct vm *vm)
{
    struct guest_memory *m = vm->mem.ctx;
    uint64_t q = vm->vcpu.exit.qualification;
    struct ept_violation_qual v = ept_violation_qual_decode(q);
    uint64_t gpa = vmcs_read64(GUEST_PHYSICAL_ADDRESS);
    m->violations++;
    m->last = (struct gmem_violation){q, gpa, v.gla_valid ? vmcs_readl(GUEST_LINEAR_ADDRESS) : 0,
                                      vm->ev.last_vectoring};
    struct gmem_region *r = (struct gmem_region *)gmem_region_of(m, gpa);
    if (r)
        r->exits++;
    if (r && r->kind == GMEM_LAZY)
        return lazy_fault(vm, m, r, gpa);
    if (r && r->kind == GMEM_RAM)
        return vm_stop(vm, VM_STOP_REFUSED, "EPT violation in RAM region %s at 0x%lx", r->name, gpa);
    if (v.fetch)
        return vm_stop(vm, VM_STOP_REFUSED, "the guest executes from guest-physical 0x%lx (%s)",
                       gpa, r ? r->name : "no RAM there");
    if (m->last.idt_vectoring & INTR_INFO_VALID_MASK)
        return vm_stop(vm, VM_STOP_REFUSED, "delivering an event touches guest-physical 0x%lx (%s)",
                       gpa, r ? r->name : "no RAM there");
    if (v.gla_valid && !v.gla_translation)
        return vm_stop(vm, VM_STOP_REFUSED, "the guest's page tables lie at guest-physical 0x%lx "
                       "(%s)", gpa, r ? r->name : "no RAM there");
    return emulate_mmio(vm, m, r, gpa, v.write);
}

/* A misconfigured entry is the hypervisor's bug, never the guest's: say which, and stop. */
enum vcpu_action gmem_handle_misconfig(struct vm *vm)
{
    struct guest_memory *m = vm->mem.ctx;
    uint64_t gpa = vmcs_read64(GUEST_PHYSICAL_ADDRESS);
    struct ept_lookup l;
    const char *why = ept_find_misconfig(&m->ept, gpa, m->maxphyaddr, &l);
    m->misconfigs++;
    m->last = (struct gmem_violation){0, gpa, 0, 0};
    return vm_stop(vm, VM_STOP_REFUSED, "EPT misconfiguration at guest-physical 0x%lx: level %d "
                   "entry 0x%lx: %s (SDM Vol. 3C, 28.2.3.1)", gpa, l.level, l.entry ? *l.entry : 0,
                   why ? why : "no misconfigured entry found on its walk");
}
