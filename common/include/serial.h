/* serial.h: 16550 UART driver for the console (COM1) and any other port.
 * Polled, no interrupts: it works inside exception handlers and panics. */
#ifndef SERIAL_H
#define SERIAL_H

#include <stdbool.h>
#include <stdint.h>

#define COM1_PORT 0x3f8
#define COM2_PORT 0x2f8

void serial_init(uint16_t port);
void serial_putc(uint16_t port, char c);
bool serial_can_read(uint16_t port);
int serial_getc(uint16_t port);          /* waits for a byte */

void console_putc(char c);               /* COM1, "\n" sent as "\r\n" */
void console_write(const char *s);

#endif
