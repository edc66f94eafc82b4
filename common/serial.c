/* serial.c: polled 16550 UART. COM1 is the console that tests and graders read;
 * other ports (COM2 for the gdb stub) use the same functions. */
#include "serial.h"

#include "printf.h"
#include "x86.h"

/* 16550 registers, as offsets from the port base (PC16550D data sheet). */
#define UART_DATA 0          /* THR on write, RBR on read; divisor low when DLAB=1 */
#define UART_IER 1           /* divisor high when DLAB=1 */
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LCR_DLAB 0x80
#define LCR_8N1 0x03
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20

void serial_init(uint16_t port)
{
    outb(port + UART_IER, 0x00);                 /* polled: no UART interrupts */
    outb(port + UART_LCR, LCR_DLAB);
    outb(port + UART_DATA, 1);                   /* divisor 1: 115200 baud */
    outb(port + UART_IER, 0);
    outb(port + UART_LCR, LCR_8N1);
    outb(port + UART_FCR, 0xc7);                 /* enable and clear FIFOs */
    outb(port + UART_MCR, 0x03);                 /* DTR, RTS */
}

void serial_putc(uint16_t port, char c)
{
    while (!(inb(port + UART_LSR) & LSR_THR_EMPTY))
        cpu_relax();
    outb(port + UART_DATA, (uint8_t)c);
}

bool serial_can_read(uint16_t port)
{
    return inb(port + UART_LSR) & LSR_DATA_READY;
}

int serial_getc(uint16_t port)
{
    while (!serial_can_read(port))
        cpu_relax();
    return inb(port + UART_DATA);
}

void console_putc(char c)
{
    if (c == '\n')
        serial_putc(COM1_PORT, '\r');
    serial_putc(COM1_PORT, c);
}

void console_write(const char *s)
{
    while (*s)
        console_putc(*s++);
}

static void emit_to_console(char c, void *ctx)
{
    (void)ctx;
    console_putc(c);
}

int kvprintf(const char *fmt, va_list ap)
{
    return kvformat(emit_to_console, 0, fmt, ap);
}

int kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvprintf(fmt, ap);
    va_end(ap);
    return n;
}
