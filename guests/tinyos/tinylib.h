/* tinylib.h: the little C library the kernel and the user programs share (lib.c):
 * memory and string functions, and printf-style formatting through a callback. */
#ifndef TINYOS_TINYLIB_H
#define TINYOS_TINYLIB_H

#include <stdarg.h>
#include <stddef.h>

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
int strcmp(const char *a, const char *b);
size_t strlen(const char *s);

/* Formatting: %d %i %u %x %p %s %c %%, with flags '-' '0', a width and the l/ll/z sizes. */
typedef void (*fmt_out)(char c, void *ctx);
void vformat(fmt_out out, void *ctx, const char *fmt, va_list ap);
int snformat(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
