/* vm_msr.c: RDMSR/WRMSR exits and the MSR bitmap (SDM Vol. 3C, 24.6.9, 25.1.3): registered
 * MSRs are emulated, passed-through ones never exit, every other access gets #GP. */
#include "exercise.h"
#include "kernel.h"
#include "mm.h"
#include "vm.h"
#include "vmx_controls.h"

#define MSR_LOG_LIMIT 16

void vm_msr_init(struct vm *vm)
{
    vm->msr.bitmap = page_alloc(1);
    if (!vm->msr.bitmap)
        panic("out of memory for the MSR bitmap");
    memset(vm->msr.bitmap, 0xff, PAGE_SIZE);
    vmcs_write64(MSR_BITMAP, virt_to_phys(vm->msr.bitmap));
}

void vm_msr_destroy(struct vm *vm)
{
    page_free(vm->msr.bitmap, 1);
}

int vm_msr_register(struct vm *vm, uint32_t first, uint32_t count, vm_msr_read_fn read,
                    vm_msr_write_fn write, void *ctx, const char *name)
{
    if (!count || vm->msr.n == VM_MSR_HANDLERS)
        return -1;
    vm->msr.h[vm->msr.n++] = (struct vm_msr_handler){first, first + count - 1, read, write, ctx, name};
    return 0;
}

/*
 * The 4 KiB MSR bitmap (24.6.9): four 1 KiB bitmaps, one bit per MSR.
 *
 *   offset    0  read,  MSRs 0x00000000-0x00001fff
 *   offset 1024  read,  MSRs 0xc0000000-0xc0001fff
 *   offset 2048  write, MSRs 0x00000000-0x00001fff
 *   offset 3072  write, MSRs 0xc0000000-0xc0001fff
 *
 * A set bit makes the access exit; MSRs outside both ranges always exit. Returns the
 * byte holding the MSR's bit, or NULL for an MSR outside the ranges.
 */
static uint8_t *bitmap_byte(const struct vm *vm, uint32_t msr, bool write)
{
    long offset = -1;                    /* the byte in the read half; -1: in no range */
    // BEGIN EXERCISE 05-6: find an MSR's bit in the MSR bitmap
    // Instruction: Set offset to the byte that holds the bit of msr in the read bitmaps (the
    //   low range from byte 0, the high range from byte 1024, 8 MSRs per byte), following the
    //   layout above; leave it -1 when msr is in neither range.
    // Hint: SDM Vol. 3C, 24.6.9; the bit inside the byte is msr % 8.
    if (msr <= 0x1fff)
        offset = msr / 8;
    else if (msr >= 0xc0000000u && msr <= 0xc0001fffu)
        offset = 1024 + (msr & 0x1fff) / 8;
    // END EXERCISE 05-6
    if (offset < 0)
        return NULL;
    if (offset >= 2048)
        panic("MSR 0x%x: byte %ld is outside the read bitmaps", msr, offset);
    return vm->msr.bitmap + (write ? 2048 : 0) + offset;
}

int vm_msr_passthrough(struct vm *vm, uint32_t msr, bool read, bool write)
{
    uint8_t *r = bitmap_byte(vm, msr, false), *w = bitmap_byte(vm, msr, true);
    uint8_t bit = (uint8_t)(1u << (msr & 7));
    if (!r || !w)
        return -1;
    *r = read ? *r & ~bit : *r | bit;
    *w = write ? *w & ~bit : *w | bit;
    return 0;
}

/* Without the EFER controls the guest runs with the host's EFER (LME/LMA aside): it may
 * read it, and "write" it only with the value it already has. */
static int efer_read(struct vm *vm, void *ctx, uint32_t msr, uint64_t *value)
{
    (void)ctx, (void)msr;
    *value = vm_guest_efer(vm);
    return 0;
}

static int efer_write(struct vm *vm, void *ctx, uint32_t msr, uint64_t value)
{
    (void)ctx, (void)msr;
    return value == vm_guest_efer(vm) ? 0 : -1;
}

void vm_msr_passthrough_guest_state(struct vm *vm)
{
    static const uint32_t msrs[] = {MSR_FS_BASE, MSR_GS_BASE, MSR_IA32_SYSENTER_CS,
                                    MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP};
    const struct vmx_controls *c = &vm->vcpu.controls;
    for (unsigned i = 0; i < ARRAY_SIZE(msrs); i++)
        vm_msr_passthrough(vm, msrs[i], true, true);
    /* EFER and PAT only when VM entry loads and VM exit saves them: then the guest's value
     * lives in the VMCS and the host gets its own back at every exit (24.7.1, 24.8.1). */
    if ((c->entry & VM_ENTRY_LOAD_IA32_EFER) && (c->exit & VM_EXIT_SAVE_IA32_EFER) &&
        (c->exit & VM_EXIT_LOAD_IA32_EFER))
        vm_msr_passthrough(vm, MSR_EFER, true, true);
    else
        vm_msr_register(vm, MSR_EFER, 1, efer_read, efer_write, NULL, "IA32_EFER");
    if ((c->entry & VM_ENTRY_LOAD_IA32_PAT) && (c->exit & VM_EXIT_SAVE_IA32_PAT) &&
        (c->exit & VM_EXIT_LOAD_IA32_PAT))
        vm_msr_passthrough(vm, MSR_IA32_CR_PAT, true, true);
}

bool vm_msr_intercepted(const struct vm *vm, uint32_t msr, bool write)
{
    const uint8_t *b = bitmap_byte(vm, msr, write);
    return !b || ((*b >> (msr & 7)) & 1);
}

static const struct vm_msr_handler *find(const struct vm *vm, uint32_t msr)
{
    for (unsigned i = 0; i < vm->msr.n; i++)
        if (msr >= vm->msr.h[i].first && msr <= vm->msr.h[i].last)
            return &vm->msr.h[i];
    return NULL;
}

/* An MSR nobody emulates: a CPU without it raises #GP(0) (SDM Vol. 2B, RDMSR), and so do we. */
static enum vcpu_action refuse(struct vm *vm, const char *insn, uint32_t msr, uint64_t value)
{
    if (vm->msr.refused++ < MSR_LOG_LIMIT && !vm->quiet) {
        if (insn[0] == 'W')
            kprintf("msr: WRMSR 0x%x <- 0x%lx refused: #GP(0) injected\n", msr, value);
        else
            kprintf("msr: RDMSR 0x%x refused: #GP(0) injected\n", msr);
    }
    vm_inject_gp(vm);
    return VCPU_RESUME;                  /* RIP stays at the faulting instruction */
}

/* RDMSR: ECX selects the MSR, the value goes to EDX:EAX (upper halves of RAX/RDX cleared). */
enum vcpu_action vm_handle_rdmsr(struct vm *vm)
{
    struct guest_regs *g = &vm->vcpu.regs;
    uint32_t msr = (uint32_t)g->rcx;
    const struct vm_msr_handler *h = find(vm, msr);
    uint64_t value = 0;
    vm->msr.reads++;
    if (!h || !h->read || h->read(vm, h->ctx, msr, &value))
        return refuse(vm, "RDMSR", msr, 0);
    g->rax = (uint32_t)value;
    g->rdx = value >> 32;
    vm_skip_instruction(vm);
    return VCPU_RESUME;
}

enum vcpu_action vm_handle_wrmsr(struct vm *vm)
{
    struct guest_regs *g = &vm->vcpu.regs;
    uint32_t msr = (uint32_t)g->rcx;
    uint64_t value = (g->rdx << 32) | (uint32_t)g->rax;
    const struct vm_msr_handler *h = find(vm, msr);
    vm->msr.writes++;
    if (!h || !h->write || h->write(vm, h->ctx, msr, value))
        return refuse(vm, "WRMSR", msr, value);
    vm_skip_instruction(vm);
    return VCPU_RESUME;
}
