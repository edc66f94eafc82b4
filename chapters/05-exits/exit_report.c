/* exit_report.c: what the hypervisor prints when a VM stops: the exit in words, the guest's
 * instruction bytes read through its own page tables, its registers, and the exit counters. */
#include "exit_qual.h"
#include "kernel.h"
#include "vm.h"
#include "vmx_controls.h"
#include "vmx_exit.h"

static const char *cs_mode(uint32_t cs_ar, uint64_t cr0)
{
    if (!(cr0 & CR0_PE))
        return "real mode";
    if (cs_ar & (1u << 13))
        return "64-bit mode";
    return cs_ar & (1u << 14) ? "32-bit protected mode" : "16-bit protected mode";
}

/* The bytes at the guest's RIP, fetched the way the guest's CPU would (SDM Vol. 3A, 4.x). */
static void print_instruction_bytes(struct vm *vm)
{
    uint8_t bytes[15];
    struct guest_walk w;
    uint64_t la = vm_guest_rip_linear(vm);
    /* An instruction is at most 15 bytes; stop at the end of the page if the next one
     * cannot be read (the instruction may well end before it). */
    size_t n = 4096 - (la & 4095) < sizeof(bytes) ? 4096 - (la & 4095) : sizeof(bytes);
    if (vm_access_guest(vm, la, bytes, n, PFERR_FETCH, &w))
        n = 0;
    else if (n < sizeof(bytes) && !vm_access_guest(vm, la + n, bytes + n, sizeof(bytes) - n,
                                                   PFERR_FETCH, &w))
        n = sizeof(bytes);
    if (n == 0) {
        if (w.status == GUEST_WALK_FAULT)
            kprintf("  instruction bytes: not readable, the guest's paging says #PF (error code "
                    "0x%x) at linear 0x%lx\n", w.error_code, la);
        else
            kprintf("  instruction bytes: not readable, no RAM behind guest-physical 0x%lx\n",
                    w.table_gpa ? w.table_gpa : w.gpa);
        return;
    }
    kprintf("  instruction bytes at linear 0x%lx:", la);
    for (size_t i = 0; i < n; i++)
        kprintf(" %02x", bytes[i]);
    kprintf("\n");
}

static void print_registers(struct vm *vm)
{
    static const char *const names[16] = {"RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI",
                                          "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15"};
    static const uint8_t order[16] = {0, 3, 1, 2, 6, 7, 5, 4, 8, 9, 10, 11, 12, 13, 14, 15};
    for (unsigned i = 0; i < 16; i++)
        kprintf("%s%-3s %016lx%s", i % 4 ? "  " : "  ", names[order[i]], vm_gpr_read(vm, order[i]),
                i % 4 == 3 ? "\n" : "");
    kprintf("  RFLAGS %016lx  CR0 %016lx (guest sees %lx)  CR3 %016lx\n",
            vmcs_readl(GUEST_RFLAGS), vmcs_readl(GUEST_CR0), vm_guest_cr0(vm),
            vmcs_readl(GUEST_CR3));
    struct guest_paging p;
    vm_guest_paging(vm, &p);
    kprintf("  CR4 %016lx (guest sees %lx)  EFER %016lx  CPL %u\n", vmcs_readl(GUEST_CR4),
            vm_guest_cr4(vm), p.efer, p.cpl);
}

static void print_events(void)
{
    char buf[96];
    uint32_t idt = vmcs_read32(IDT_VECTORING_INFO_FIELD);
    uint32_t exit_info = vmcs_read32(VM_EXIT_INTR_INFO);
    kprintf("  interruptibility 0x%x, activity state %u\n",
            vmcs_read32(GUEST_INTERRUPTIBILITY_INFO), vmcs_read32(GUEST_ACTIVITY_STATE));
    intr_info_describe(exit_info, vmcs_read32(VM_EXIT_INTR_ERROR_CODE), buf, sizeof(buf));
    kprintf("  exit interruption information 0x%x: %s\n", exit_info, buf);
    intr_info_describe(idt, vmcs_read32(IDT_VECTORING_ERROR_CODE), buf, sizeof(buf));
    kprintf("  IDT-vectoring information 0x%x: %s\n", idt, buf);
}

void vm_print_exit_counts(const struct vm *vm)
{
    kprintf("  exits by reason (%lu in all):", vm->exits);
    unsigned shown = 0;
    for (unsigned r = 0; r < VM_EXIT_REASONS; r++) {
        if (!vm->exit_count[r])
            continue;
        kprintf("%s %s %lu", shown++ % 4 ? "," : "\n   ", vmx_exit_reason_name(r), vm->exit_count[r]);
    }
    kprintf("\n");
}

/* Called with this VM's VMCS current, right after the exit that stopped it. */
void vm_report(struct vm *vm)
{
    const struct vmx_exit_info *x = &vm->vcpu.exit;
    char qual[128];
    uint32_t cs_ar = vmcs_read32(GUEST_CS_AR_BYTES);
    exit_qual_describe(x->basic, x->qualification, qual, sizeof(qual));
    kprintf("VM stopped (%s): %s\n", vm_stop_kind_name(vm->stop), vm->stop_why);
    kprintf("  exit reason %u (%s), qualification: %s\n", x->basic,
            vmx_exit_reason_name(x->basic), qual);
    kprintf("  guest RIP 0x%lx, CS 0x%x (%s), RSP 0x%lx\n", x->guest_rip,
            vmcs_read16(GUEST_CS_SELECTOR), cs_mode(cs_ar, vmcs_readl(GUEST_CR0)),
            vmcs_readl(GUEST_RSP));
    print_instruction_bytes(vm);
    print_registers(vm);
    print_events();
    vm_print_exit_counts(vm);
}
