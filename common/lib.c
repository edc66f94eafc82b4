/* lib.c: memset, memcpy and the string functions for the freestanding kernel.
 * memset and memcpy are REP STOS / MOVS: page_alloc() zeroes guest RAM by the megabyte. */
#include "lib.h"

/*
 * REP STOS / REP MOVS with DF = 0 (the ABI's state at every call; SDM Vol. 2B), eight
 * bytes at a time when both ends are aligned: an emulator such as Bochs counts every
 * repetition as an instruction, and zeroing 16 MiB byte by byte is 16 million of them.
 */
void *memset(void *dst, int c, size_t n)
{
    void *d = dst;
    if (!(((uintptr_t)d | n) & 7)) {
        size_t q = n / 8;
        asm volatile("rep stosq" : "+D"(d), "+c"(q) : "a"(0x0101010101010101ull * (unsigned char)c)
                     : "memory");
    } else {
        asm volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    }
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    void *d = dst;
    if (!(((uintptr_t)d | (uintptr_t)src | n) & 7)) {
        size_t q = n / 8;
        asm volatile("rep movsq" : "+D"(d), "+S"(src), "+c"(q) : : "memory");
    } else {
        asm volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
    }
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s)
        return memcpy(dst, src, n);
    while (n--)
        d[n] = s[n];
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        if (!*a)
            return 0;
    }
    return 0;
}

char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return (char *)s;
        if (!*s)
            return 0;
    }
}
