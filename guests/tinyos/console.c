/* console.c: the COM1 16550 UART, fully polled as NimbOS's (no UART interrupt),
 * kprintf, panic and power-off. */
#include "kernel.h"

#define COM1     0x3F8
#define UART_LSR (COM1 + 5)
#define LSR_DR   0x01             /* a received byte is waiting */
#define LSR_THRE 0x20             /* the transmitter takes a byte */

void console_init(void)
{
    outb(COM1 + 1, 0x00);         /* IER: no interrupts, the console is polled */
    outb(COM1 + 3, 0x80);         /* LCR: DLAB, to reach the divisor latch */
    outb(COM1 + 0, 0x01);         /* divisor 1: 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);         /* LCR: 8 data bits, no parity, 1 stop bit */
    outb(COM1 + 2, 0xC7);         /* FCR: FIFOs on and cleared, 14-byte threshold */
    outb(COM1 + 4, 0x0B);         /* MCR: DTR, RTS, OUT2 */
}

/* The line status register is read before every byte: under a hypervisor each
 * read is an I/O exit, the hottest one this guest produces. */
void console_putc(char c)
{
    if (c == '\n')
        console_putc('\r');
    while (!(inb(UART_LSR) & LSR_THRE))
        ;
    outb(COM1, (u8)c);
}

int console_getc(void)
{
    if (!(inb(UART_LSR) & LSR_DR))
        return -1;
    return inb(COM1);
}

static void put(char c, void *ctx)
{
    (void)ctx;
    console_putc(c);
}

/* Interrupts are off while a message is written, so lines from tasks never mix. */
void kprintf(const char *fmt, ...)
{
    u64 flags = irq_save();
    va_list ap;
    va_start(ap, fmt);
    vformat(put, NULL, fmt, ap);
    va_end(ap);
    irq_restore(flags);
}

void poweroff(const char *why)
{
    __asm__ volatile("cli");
    kprintf("[tinyos] power off: %s\n", why);
    /* QEMU's ACPI power-off port (PM1a control: SLP_TYP 0, SLP_EN), as NimbOS uses;
     * chapter 07's hypervisor stops the VM on it. Bare Bochs has nothing there, so
     * tinyos then waits for whoever runs it to stop the emulator. */
    outw(0x604, 0x2000);
    for (;;)
        cpu_relax();
}

void panic(const char *fmt, ...)
{
    __asm__ volatile("cli");
    va_list ap;
    va_start(ap, fmt);
    kprintf("[tinyos] panic: ");
    vformat(put, NULL, fmt, ap);
    kprintf("\n");
    va_end(ap);
    poweroff("panic");
}
