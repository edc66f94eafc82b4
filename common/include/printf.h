/* printf.h: the kernel's formatted output, to the serial console or a buffer.
 * Supports %d %i %u %x %X %s %c %p %%, flags '0' and '-', width (or *), lengths l, ll, z. */
#ifndef PRINTF_H
#define PRINTF_H

#include <stdarg.h>
#include <stddef.h>

typedef void (*emit_fn)(char c, void *ctx);

int kvformat(emit_fn emit, void *ctx, const char *fmt, va_list ap);
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Console output (kernel only): COM1. */
int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int kvprintf(const char *fmt, va_list ap);

#endif
