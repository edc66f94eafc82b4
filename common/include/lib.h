/* lib.h: the few C library functions a freestanding kernel needs, and small macros.
 * GCC may emit calls to memcpy/memset itself, so these names are the standard ones. */
#ifndef LIB_H
#define LIB_H

#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define BIT(n) (1ull << (n))
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((uint64_t)(a) - 1))
#define IS_ALIGNED(x, a) (((uint64_t)(x) & ((uint64_t)(a) - 1)) == 0)
#define PAGE_SIZE 4096ul

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);

#endif
