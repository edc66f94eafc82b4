/* platform_dev.c: the devices on their exits: COM1 and the PICs on I/O ports, the power-off ports,
 * the local APIC on its MSRs and timer, its interrupts through chapter 05's injection. */
#include "exercise.h"
#include "kernel.h"
#include "platform.h"
#include "serial.h"

#define COM1_BASE        0x3f8
#define ACPI_SLP_EN      (1u << 13)
#define INPUT_POLLS_PER_S 2000   /* how often, in guest time, the host's serial line is read */

/* ---- COM1: the guest's console is the host's console ---- */

/* A byte the guest sent: straight to the host's COM1 (the guest sends its own \r\n). */
static void uart_to_host(void *ctx, uint8_t byte)
{
    struct platform *p = ctx;
    serial_putc(COM1_PORT, (char)byte);
    p->at_line_start = byte == '\n';
    p->uart_lf += byte == '\n';
    if (p->have_script) {
        script_output(&p->script, byte);
        if (script_stopped(&p->script) && p->vm.stop == VM_RUNNING) {
            p->script_stop = true;
            vm_stop(&p->vm, VM_STOP_GUEST, "the console script ended the run");
        }
    }
}

/*
 * Bytes for the guest: the console script first, then whatever arrived on the host's
 * serial line (a person at a terminal, or the test runner's socket). Both wait until the
 * receive FIFO has room, so nothing is lost however fast it comes. The host's line is
 * read at most INPUT_POLLS_PER_S times per second of guest time: a polling guest reads
 * LSR hundreds of thousands of times a second, and each look at the real UART costs.
 */
static void feed_input(struct platform *p)
{
    if (!uart_rx_space(&p->uart))
        return;                          /* the FIFO is full: the guest reads first */
    // BEGIN EXERCISE 07-7: bytes for the guest's console
    // Instruction: While the receive FIFO has room (uart_rx_space()), give it the console
    //   script's next bytes (script_next_byte(), if p->have_script). Then, at most once per
    //   p->clock.tsc_hz / INPUT_POLLS_PER_S TSC ticks (p->next_input_poll), move bytes waiting
    //   on the host's COM1 into the FIFO while it has room, counting p->host_input_bytes.
    // Hint: uart_receive(); serial_can_read() and serial_getc() for the host's COM1_PORT.
    int b;
    uint64_t now = rdtsc();
    while (uart_rx_space(&p->uart) && p->have_script && (b = script_next_byte(&p->script)) >= 0)
        uart_receive(&p->uart, (uint8_t)b);
    if (now < p->next_input_poll)
        return;
    p->next_input_poll = now + p->clock.tsc_hz / INPUT_POLLS_PER_S;
    while (uart_rx_space(&p->uart) && serial_can_read(COM1_PORT)) {
        uart_receive(&p->uart, (uint8_t)serial_getc(COM1_PORT));
        p->host_input_bytes++;
    }
    // END EXERCISE 07-7
}

/* Ports 0x3f8-0x3ff. A wider access is the same as bytes to consecutive ports. */
int platform_com1_access(struct vm *vm, void *ctx, struct io_access *a)
{
    struct platform *p = ctx;
    (void)vm;
    p->uart_io++;
    for (unsigned i = 0; i < a->size; i++) {
        unsigned reg = (a->port + i - COM1_BASE) & 7;
        if (a->in) {
            if (reg == UART_LSR || reg == UART_RBR)
                feed_input(p);           /* the guest is looking for input: bring it in */
            a->value = (a->value & ~(0xffu << (8 * i))) | (uint32_t)uart_read(&p->uart, reg) << (8 * i);
        } else {
            uart_write(&p->uart, reg, (uint8_t)(a->value >> (8 * i)));
        }
    }
    return 0;
}

/* ---- the 8259 PICs: 0x20-0x21 and 0xa0-0xa1 ---- */

int platform_pic_access(struct vm *vm, void *ctx, struct io_access *a)
{
    struct pic8259 *pic = ctx;
    ((struct platform *)vm->user)->pic_io++;
    if (a->size != 1)
        return -1;                       /* 8-bit registers: refuse the odd access (#GP) */
    if (a->in)
        a->value = pic_read(pic, a->port & 1);
    else
        pic_write(pic, a->port & 1, (uint8_t)a->value);
    return 0;
}

/* ---- the ports that end the VM ---- */

int platform_power_access(struct vm *vm, void *ctx, struct io_access *a)
{
    struct platform *p = ctx;
    static const char shutdown[] = "Shutdown";
    unsigned *matched = &p->shutdown_matched;
    p->power_io++;
    if (a->in) {
        a->value = 0;
        return 0;
    }
    if (a->port == PORT_ACPI_PM1A_CNT && !(a->value & ACPI_SLP_EN))
        return 0;                        /* PM1a control without "sleep enable" */
    if (a->port == PORT_BOCHS_SHUTDOWN) {
        *matched = (char)a->value == shutdown[*matched] ? *matched + 1 : (char)a->value == 'S';
        if (*matched < sizeof(shutdown) - 1)
            return 0;
    }
    p->powered_off = true;
    p->poweroff_port = a->port;
    p->guest_status = a->port == PORT_DEBUG_EXIT ? a->value : 0;
    vm->stop_status = p->guest_status;
    vm_stop(vm, VM_STOP_GUEST, "the guest powered off (port 0x%x <- 0x%x)", a->port, a->value);
    return 0;
}

/* ---- the local APIC: IA32_APIC_BASE, x2APIC MSRs, timer, interrupts ---- */

static void lapic_timer_fired(struct vm *vm, void *ctx)
{
    struct platform *p = ctx;
    lapic_timer_advance(&p->lapic, rdtsc());
    if (lapic_pending(&p->lapic) >= 0)
        vm->ev.halted = false;           /* a HLT ends with the interrupt */
    platform_lapic_rearm(p);
}

static const struct vm_irq_ops lapic_irq_ops;

/*
 * After anything that may change the APIC: chapter 05's deadline follows the APIC timer's,
 * and chapter 05 asks the APIC for interrupts only while its IRR holds one. With no source
 * installed chapter 05 takes its short way into the guest, which matters on the polled
 * console's exits; a vector that only waits in the ISR needs no injection.
 */
void platform_lapic_rearm(struct platform *p)
{
    uint64_t deadline = lapic_next_deadline(&p->lapic);
    if (deadline)
        vm_timer_arm(&p->vm, deadline, lapic_timer_fired, p);
    else
        vm_timer_cancel(&p->vm);
    vm_irq_set_ops(&p->vm, p->lapic.irr_count ? &lapic_irq_ops : NULL, p);
}

static int apic_base_read(struct vm *vm, void *ctx, uint32_t msr, uint64_t *value)
{
    struct platform *p = ctx;
    (void)vm, (void)msr;
    p->msr_other++;
    *value = p->lapic.base;
    return 0;
}

static int apic_base_write(struct vm *vm, void *ctx, uint32_t msr, uint64_t value)
{
    struct platform *p = ctx;
    (void)msr;
    p->apic_base_writes++;
    p->msr_other++;
    int rc = lapic_set_base(&p->lapic, value, rdtsc());
    if (rc == LAPIC_UNSUPPORTED)
        vm_stop(vm, VM_STOP_REFUSED, "IA32_APIC_BASE <- 0x%lx moves the local APIC away from "
                "0xfee00000: not emulated", value);
    platform_lapic_rearm(p);
    return rc == LAPIC_GP ? -1 : 0;
}

static int x2apic_read(struct vm *vm, void *ctx, uint32_t msr, uint64_t *value)
{
    struct platform *p = ctx;
    (void)vm;
    int rc = lapic_msr_read(&p->lapic, msr, rdtsc(), value);
    platform_lapic_rearm(p);             /* a current-count read may have found an expiry */
    return rc == LAPIC_OK ? 0 : -1;
}

static int x2apic_write(struct vm *vm, void *ctx, uint32_t msr, uint64_t value)
{
    struct platform *p = ctx;
    (void)vm;
    int rc = lapic_msr_write(&p->lapic, msr, value, rdtsc());
    platform_lapic_rearm(p);
    return rc == LAPIC_OK ? 0 : -1;
}

/* Chapter 05 asks these before every entry: the APIC's IRR, ISR and priorities decide. */
static int irq_pending(struct vm *vm, void *ctx)
{
    (void)vm;
    return lapic_pending(&((struct platform *)ctx)->lapic);
}

static void irq_accept(struct vm *vm, void *ctx, int vector)
{
    struct platform *p = ctx;
    lapic_accept(&p->lapic, vector);
    if (!p->lapic.irr_count)
        vm_irq_set_ops(vm, NULL, p);
}

static const struct vm_irq_ops lapic_irq_ops = {irq_pending, irq_accept};

/* CR8 is the local APIC's TPR[7:4] (SDM Vol. 3A, 10.8.6.1): the model's, not the host's. */
static uint64_t cr8_read(struct vm *vm, void *ctx)
{
    (void)vm;
    return ((struct platform *)ctx)->lapic.tpr >> 4;
}

static void cr8_write(struct vm *vm, void *ctx, uint64_t value)
{
    struct platform *p = ctx;
    (void)vm;
    p->lapic.tpr = (uint32_t)value << 4;
    platform_lapic_rearm(p);
}

void platform_devices_init(struct platform *p)
{
    uart_init(&p->uart, uart_to_host, p);
    pic_init(&p->pic[0]);
    pic_init(&p->pic[1]);
    lapic_init(&p->lapic, &p->clock, p->clock.tsc_hz, p->opt.x2apic);
    p->lapic.phys_bits = cpu_phys_addr_bits();
    hpet_init(&p->hpet, &p->clock);
    p->at_line_start = true;
    p->vm.cr.cr8_read = cr8_read, p->vm.cr.cr8_write = cr8_write, p->vm.cr.cr8_ctx = p;
}

/* Every device on its ports and MSRs (the MMIO pages: platform_mem.c). */
int platform_devices_attach(struct platform *p)
{
    int rc = 0;
    // BEGIN EXERCISE 07-1: put the devices on their I/O ports
    // Instruction: Register COM1 (8 ports at 0x3f8, platform_com1_access, context p), the
    //   master PIC (0x20, 2 ports, context &p->pic[0]) and the slave (0xa0, &p->pic[1]) with
    //   platform_pic_access, and the three power-off ports (PORT_ACPI_PM1A_CNT 2 ports,
    //   PORT_DEBUG_EXIT 1, PORT_BOCHS_SHUTDOWN 1) with platform_power_access. OR every return
    //   value into rc.
    // Hint: vm_io_register() (chapter 05); the MSRs below are registered the same way.
    struct vm *vm = &p->vm;
    rc |= vm_io_register(vm, COM1_BASE, 8, platform_com1_access, p, "COM1 16550");
    rc |= vm_io_register(vm, 0x20, 2, platform_pic_access, &p->pic[0], "8259 master");
    rc |= vm_io_register(vm, 0xa0, 2, platform_pic_access, &p->pic[1], "8259 slave");
    rc |= vm_io_register(vm, PORT_ACPI_PM1A_CNT, 2, platform_power_access, p, "ACPI PM1a control");
    rc |= vm_io_register(vm, PORT_DEBUG_EXIT, 1, platform_power_access, p, "debug exit");
    rc |= vm_io_register(vm, PORT_BOCHS_SHUTDOWN, 1, platform_power_access, p, "Bochs shutdown");
    // END EXERCISE 07-1
    /* IA32_APIC_BASE and the x2APIC MSRs 0x800-0x8ff (SDM Vol. 3A, 10.12.1.2). */
    rc |= vm_msr_register(&p->vm, MSR_IA32_APICBASE, 1, apic_base_read, apic_base_write, p,
                          "IA32_APIC_BASE");
    rc |= vm_msr_register(&p->vm, APIC_X2APIC_MSR_FIRST,
                          APIC_X2APIC_MSR_LAST - APIC_X2APIC_MSR_FIRST + 1, x2apic_read,
                          x2apic_write, p, "x2APIC");
    return rc ? -1 : 0;
}
