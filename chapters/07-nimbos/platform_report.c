/* platform_report.c: what the hypervisor tells after the guest: how it ended, every exit by reason,
 * every device's counters, and the same facts as checkpoint lines the tests judge. */
#include "kernel.h"
#include "platform.h"
#include "vmx_exit.h"

static const char *lapic_mode_name(enum lapic_mode m)
{
    return m == LAPIC_X2APIC ? "x2apic" : m == LAPIC_XAPIC ? "xapic" : "disabled";
}

/* EPT violations in the MMIO region at gpa (chapter 06 counts them per region). */
static uint64_t region_exits(const struct platform *p, uint64_t gpa)
{
    const struct gmem_region *r = gmem_region_of(&p->mem, gpa);
    return r ? r->exits : 0;
}

static const char *stop_name(enum vm_stop_kind k, bool script)
{
    if (script)
        return "script";
    return k == VM_STOP_GUEST ? "guest" : k == VM_STOP_UNHANDLED ? "unhandled" :
           k == VM_STOP_TRIPLE_FAULT ? "triple-fault" : k == VM_STOP_REFUSED ? "refused" :
           k == VM_STOP_ENTRY_FAILED ? "entry-failed" : "running";
}

static const char *start_name(const struct platform *p)
{
    return p->start == START_REAL_MODE_STUB ? "real-mode-stub" : "protected-mode";
}

/* Exits the checkpoints single out; the rest are summed as "other". */
static const unsigned named_exits[] = {
    EXIT_REASON_IO_INSTRUCTION, EXIT_REASON_MSR_READ, EXIT_REASON_MSR_WRITE, EXIT_REASON_CPUID,
    EXIT_REASON_EPT_VIOLATION, EXIT_REASON_PREEMPTION_TIMER, EXIT_REASON_INTERRUPT_WINDOW,
    EXIT_REASON_EXTERNAL_INTERRUPT, EXIT_REASON_CR_ACCESS, EXIT_REASON_HLT,
};

static void print_devices(const struct platform *p)
{
    const struct uart16550 *u = &p->uart;
    const struct lapic *a = &p->lapic;
    const struct hpet *h = &p->hpet;
    kprintf("  COM1 16550: %lu bytes out, %lu in (%lu from the host's line, %lu typed by the "
            "script), %lu LSR reads, %lu overruns\n", u->tx_bytes, u->rx_bytes, p->host_input_bytes,
            p->script.bytes_typed, u->lsr_reads, u->overruns);
    kprintf("  8259 PICs: masks 0x%02x/0x%02x, %lu/%lu writes\n", p->pic[0].imr, p->pic[1].imr,
            p->pic[0].writes, p->pic[1].writes);
    kprintf("  local APIC: %s mode, %lu MSR and %lu MMIO accesses, timer armed %lu times and "
            "fired %lu, %lu interrupts taken, %lu EOIs, %lu IPIs (%lu dropped)\n",
            lapic_mode_name(lapic_mode(a)), a->msr_accesses, a->mmio_accesses, a->timer_arms,
            a->timer_irqs, a->accepted, a->eois, a->ipis, a->ignored_ipis);
    kprintf("  HPET: %lu reads (%lu of the counter), %lu writes, %lu odd accesses, %lu timer "
            "interrupts enabled (not wired)\n", h->reads, h->counter_reads, h->writes,
            h->odd_accesses, h->interrupt_enables);
    kprintf("  timer: %s backend, %lu deadlines fired, latest %lu TSC ticks late\n",
            vm_timer_backend_name(&p->vm), p->vm.timer.fired, p->vm.timer.max_late);
}

void platform_report(struct platform *p)
{
    struct vm *vm = &p->vm;
    const struct lapic *a = &p->lapic;
    uint64_t other = vm->exits, io_unknown = vm->io.unknown;
    for (unsigned i = 0; i < ARRAY_SIZE(named_exits); i++)
        other -= vm->exit_count[named_exits[i]];
    kprintf("platform: %s: %s\n", vm_stop_kind_name(vm->stop), vm->stop_why);
    if (vm->stop == VM_STOP_GUEST || vm->stop == VM_STOP_ENTRY_FAILED)
        vm_print_exit_counts(vm);        /* the other stops printed them in their report */
    print_devices(p);

    checkpoint("guest-image", "format=%s load=0x%lx load_end=0x%lx bss_end=0x%lx entry=0x%lx",
               p->image.format == IMAGE_MULTIBOOT ? "multiboot" : "flat", p->image.load_addr,
               p->image.load_end, p->image.bss_end, p->image.entry);
    checkpoint("platform", "ram=%lu start=%s ug=%d x2apic=%d pages_1g=%d nx=%d tsc_khz=%lu "
               "tsc=%s timer=%s", p->ram_size, start_name(p), p->unrestricted, p->opt.x2apic,
               p->pages_1g, p->nx, p->opt.tsc_khz, p->opt.tsc_stated ? "stated" : "measured",
               vm_timer_backend_name(vm));
    /* The exits by reason, and who they were for: every I/O, MSR and EPT-violation exit
     * should belong to a device, every CR exit to the protected-mode start (guest_start.c). */
    checkpoint("exits", "stop=%s status=%lu port=0x%x total=%lu io=%lu rdmsr=%lu wrmsr=%lu "
               "cpuid=%lu ept=%lu preempt=%lu window=%lu extint=%lu cr=%lu hlt=%lu other=%lu "
               "uart_io=%lu pic_io=%lu power_io=%lu io_unknown=%lu lapic_msr=%lu msr_other=%lu "
               "msr_refused=%lu lapic_mmio=%lu hpet_mmio=%lu mmio_alu=%lu ept_unassigned=%lu "
               "pm_cr=%lu",
               stop_name(vm->stop, p->script_stop), p->guest_status, p->poweroff_port, vm->exits,
               vm->exit_count[EXIT_REASON_IO_INSTRUCTION], vm->exit_count[EXIT_REASON_MSR_READ],
               vm->exit_count[EXIT_REASON_MSR_WRITE], vm->exit_count[EXIT_REASON_CPUID],
               vm->exit_count[EXIT_REASON_EPT_VIOLATION], vm->exit_count[EXIT_REASON_PREEMPTION_TIMER],
               vm->exit_count[EXIT_REASON_INTERRUPT_WINDOW],
               vm->exit_count[EXIT_REASON_EXTERNAL_INTERRUPT], vm->exit_count[EXIT_REASON_CR_ACCESS],
               vm->exit_count[EXIT_REASON_HLT], other, p->uart_io, p->pic_io, p->power_io,
               io_unknown, a->msr_accesses, p->msr_other, vm->msr.refused, region_exits(p, APIC_DEFAULT_BASE),
               region_exits(p, HPET_BASE), p->mmio_alu,
               p->mem.unassigned_reads + p->mem.unassigned_writes, p->pm_cr_exits);
    checkpoint("devices", "uart_tx=%lu uart_lf=%lu uart_rx=%lu host_input=%lu typed=%lu "
               "lsr_reads=%lu overruns=%lu pic_imr=0x%02x%02x pic_writes=%lu apic_base_writes=%lu "
               "efer_writes=%lu", p->uart.tx_bytes, p->uart_lf, p->uart.rx_bytes, p->host_input_bytes,
               p->script.bytes_typed, p->uart.lsr_reads, p->uart.overruns, p->pic[1].imr,
               p->pic[0].imr, p->pic[0].writes + p->pic[1].writes, p->apic_base_writes,
               p->efer_writes);
    checkpoint("lapic", "mode=%s msr=%lu mmio=%lu timer_arms=%lu timer_fired=%lu accepted=%lu "
               "eois=%lu injected=%lu svr=0x%x lvt_timer=0x%x tdcr=0x%x", lapic_mode_name(lapic_mode(a)),
               a->msr_accesses, region_exits(p, APIC_DEFAULT_BASE), a->timer_arms, a->timer_irqs, a->accepted, a->eois,
               vm->ev.irqs_injected, a->svr, a->lvt[0], a->tdcr);
    checkpoint("hpet", "reads=%lu counter_reads=%lu writes=%lu config=0x%lx odd=%lu irq_enables=%lu",
               p->hpet.reads, p->hpet.counter_reads, p->hpet.writes, p->hpet.config,
               p->hpet.odd_accesses, p->hpet.interrupt_enables);
}
