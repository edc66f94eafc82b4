/* vm_io.c: I/O-instruction exits: the qualification decoded, the access handed to the device
 * that registered the port, INS/OUTS (with REP) emulated through guest memory. */
#include "exercise.h"
#include "exit_qual.h"
#include "kernel.h"
#include "mm.h"
#include "vm.h"
#include "vmx_controls.h"

#define IO_LOG_LIMIT 16                  /* log lines for unknown ports, per VM */
#define IO_STRING_CHUNK 4096             /* REP iterations per exit; the rest re-executes */

void vm_io_init(struct vm *vm)
{
    vm->io.bitmap_a = page_alloc(1);
    vm->io.bitmap_b = page_alloc(1);
    if (!vm->io.bitmap_a || !vm->io.bitmap_b)
        panic("out of memory for the I/O bitmaps");
    memset(vm->io.bitmap_a, 0xff, PAGE_SIZE);
    memset(vm->io.bitmap_b, 0xff, PAGE_SIZE);
    /* Bitmap A covers ports 0-0x7fff, B 0x8000-0xffff; a set bit makes the port exit. */
    vmcs_write64(IO_BITMAP_A, virt_to_phys(vm->io.bitmap_a));
    vmcs_write64(IO_BITMAP_B, virt_to_phys(vm->io.bitmap_b));
}

void vm_io_destroy(struct vm *vm)
{
    page_free(vm->io.bitmap_a, 1);
    page_free(vm->io.bitmap_b, 1);
}

int vm_io_register(struct vm *vm, uint16_t first, uint16_t count, vm_io_handler fn, void *ctx,
                   const char *name)
{
    uint32_t last = (uint32_t)first + count - 1;
    if (!count || last > 0xffff || vm->io.nranges == VM_IO_RANGES)
        return -1;
    for (unsigned i = 0; i < vm->io.nranges; i++)
        if (first <= vm->io.ranges[i].last && last >= vm->io.ranges[i].first)
            return -1;
    vm->io.ranges[vm->io.nranges++] = (struct vm_io_range){first, (uint16_t)last, fn, ctx, name, 0};
    return 0;
}

static uint8_t *bitmap_byte(const struct vm *vm, uint16_t port)
{
    return (port < 0x8000 ? vm->io.bitmap_a : vm->io.bitmap_b) + (port & 0x7fff) / 8;
}

void vm_io_passthrough(struct vm *vm, uint16_t port, bool pass)
{
    uint8_t *b = bitmap_byte(vm, port), bit = (uint8_t)(1u << (port & 7));
    *b = pass ? *b & ~bit : *b | bit;
}

bool vm_io_intercepted(const struct vm *vm, uint16_t port)
{
    return (*bitmap_byte(vm, port) >> (port & 7)) & 1;
}

static struct vm_io_range *find_range(struct vm *vm, uint16_t port)
{
    const struct vm_io_range *last = vm->io.last;
    if (last && port >= last->first && port <= last->last)
        return (struct vm_io_range *)last;
    for (unsigned i = 0; i < vm->io.nranges; i++) {
        struct vm_io_range *r = &vm->io.ranges[i];
        if (port >= r->first && port <= r->last)
            return (struct vm_io_range *)(vm->io.last = r);
    }
    return NULL;
}

/* One access to one port: the device, or "nothing there" (reads all ones, 16550 and ISA
 * style: an undriven bus floats high; writes vanish). Returns -1 if the device refuses. */
static int port_access(struct vm *vm, struct io_access *a)
{
    struct vm_io_range *r = find_range(vm, a->port);
    if (r) {
        r->accesses++;
        return r->fn(vm, r->ctx, a);
    }
    if (vm->io.unknown++ < IO_LOG_LIMIT && !vm->quiet)
        kprintf("io: no device at port 0x%x: %s of %u byte%s %s\n", a->port, a->in ? "IN" : "OUT",
                a->size, a->size > 1 ? "s" : "", a->in ? "reads all ones" : "ignored");
    if (a->in)
        a->value = 0xffffffffu >> (32 - 8 * a->size);
    return 0;
}

static enum vcpu_action refuse(struct vm *vm, const char *why, uint16_t port)
{
    vm->io.refused++;
    if (!vm->quiet)
        kprintf("io: port 0x%x: %s: #GP(0) injected\n", port, why);
    vm_inject_gp(vm);
    return VCPU_RESUME;
}

/* Segment bases for a string instruction's memory operand; in 64-bit mode only FS and GS
 * have one (SDM Vol. 3A, 3.4.4). */
static uint64_t segment_base(unsigned seg)
{
    static const uint32_t base_field[6] = {GUEST_ES_BASE, GUEST_CS_BASE, GUEST_SS_BASE,
                                           GUEST_DS_BASE, GUEST_FS_BASE, GUEST_GS_BASE};
    bool long64 = vmcs_read32(GUEST_CS_AR_BYTES) & (1u << 13);
    if (long64 && seg < 4)
        return 0;
    uint64_t base = 0;
    vmread(base_field[seg], &base);
    return base;
}

/* Write a string instruction's index register: only its address-size bits change, and a
 * 32-bit write in 64-bit mode zero-extends (SDM Vol. 1, 3.4.1.1). */
static uint64_t update_index(uint64_t old, uint64_t value, unsigned addr_size)
{
    if (addr_size == 8)
        return value;
    if (addr_size == 4)
        return (uint32_t)value;
    return (old & ~0xffffull) | (value & 0xffff);
}

/*
 * INS and OUTS: the exit tells the port, size and REP (qualification), the address size
 * and segment (VM-exit instruction information, 27.2.4, when IA32_VMX_BASIC[54] = 1);
 * the registers say where (RSI or RDI), how many (RCX) and which way (RFLAGS.DF).
 * Each element goes through the guest's page tables; a fault becomes the guest's #PF (a
 * non-canonical address its #GP) with the registers at the faulting element, as a real
 * CPU leaves them. The exit comes before the CPU checks the memory operand (SDM Vol. 3C,
 * 25.1.1), so every such check is the hypervisor's to make.
 */
/* A 64-bit linear address whose bits 63:47 are all equal (SDM Vol. 1, 3.3.7.1). */
static bool canonical(uint64_t la)
{
    return (uint64_t)((int64_t)(la << 16) >> 16) == la;
}

static enum vcpu_action string_io(struct vm *vm, const struct io_qual *q)
{
    struct io_string_info si;
    struct guest_regs *g = &vm->vcpu.regs;
    bool long64 = vmcs_read32(GUEST_CS_AR_BYTES) & (1u << 13);
    vm->io.string++;
    if (!VMX_BASIC_INOUT(vm->vcpu.caps->basic) ||
        !io_string_info_decode(vmcs_read32(VMX_INSTRUCTION_INFO), &si))
        return refuse(vm, "INS/OUTS without instruction information", q->port);
    uint64_t mask = si.addr_size == 8 ? ~0ull : (1ull << (8 * si.addr_size)) - 1;
    uint64_t count = q->rep ? g->rcx & mask : 1, done = 0;
    int64_t step = (vmcs_readl(GUEST_RFLAGS) & RFLAGS_DF) ? -(int64_t)q->size : q->size;
    uint64_t *index = q->in ? &g->rdi : &g->rsi;
    uint64_t base = segment_base(q->in ? 0 : si.segment);    /* INS: always ES */
    for (; done < count && done < IO_STRING_CHUNK; done++) {
        struct io_access a = {q->port, q->size, q->in, 0};
        struct guest_walk w;
        uint64_t la = base + (*index & mask);
        int rc = 0;
        if (long64 && !canonical(la)) {
            vm_inject_gp(vm);            /* the CPU's check, before any access: #GP(0) */
            break;
        }
        if (!q->in)
            rc = vm_read_guest(vm, la, &a.value, q->size, &w);
        if (rc == 0 && port_access(vm, &a))
            return refuse(vm, "the device refused a string access", q->port);
        if (rc == 0 && q->in)
            rc = vm_write_guest(vm, la, &a.value, q->size, &w);
        if (rc) {
            if (w.status != GUEST_WALK_FAULT)
                return vm_stop(vm, VM_STOP_REFUSED, "%s at linear 0x%lx: no RAM behind it",
                               q->in ? "INS" : "OUTS", la);
            vm_inject_pf(vm, la, w.error_code);
            break;
        }
        *index = update_index(*index, *index + (uint64_t)step, si.addr_size);
    }
    if (q->rep)
        g->rcx = update_index(g->rcx, count - done, si.addr_size);
    /* Finished (or nothing to do): next instruction. Cut short: run the rest again. */
    if (done == count)
        vm_skip_instruction(vm);
    return VCPU_RESUME;
}

enum vcpu_action vm_handle_io(struct vm *vm)
{
    struct io_qual q;
    if (!io_qual_decode(vm->vcpu.exit.qualification, &q))
        return vm_stop(vm, VM_STOP_REFUSED, "I/O exit qualification 0x%lx has no valid size",
                       vm->vcpu.exit.qualification);
    if (q.string)
        return string_io(vm, &q);
    // BEGIN EXERCISE 05-5: hand an IN or OUT to its device
    // Instruction: Build a struct io_access from q; for OUT its value is the low q.size bytes
    //   of the guest's RAX. Call port_access() (-1: refuse() with #GP). For IN put the value
    //   into AL, AX or EAX: 1 and 2 bytes leave the rest of RAX alone, 4 bytes zero-extend
    //   into RAX as every 32-bit register write in 64-bit mode does. Then skip the instruction.
    // Hint: SDM Vol. 3C, 27.2.1 (Table 27-5); Vol. 2A, IN; vm_skip_instruction().
    struct guest_regs *g = &vm->vcpu.regs;
    uint32_t mask = 0xffffffffu >> (32 - 8 * q.size);
    struct io_access a = {q.port, q.size, q.in, q.in ? 0 : (uint32_t)g->rax & mask};
    if (port_access(vm, &a))
        return refuse(vm, "the device refused the access", q.port);
    if (q.in)
        g->rax = q.size == 4 ? a.value : (g->rax & ~(uint64_t)mask) | (a.value & mask);
    vm_skip_instruction(vm);
    return VCPU_RESUME;
    // END EXERCISE 05-5
}
