/* test_printf.c: the kernel's formatter (common/printf.c) against glibc's snprintf,
 * for every conversion, flag, width and length the kernel uses. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "printf.h"

#define SAME(...)                                                            \
    do {                                                                     \
        char want[128], got[128];                                            \
        int nw = snprintf(want, sizeof(want), __VA_ARGS__);                  \
        int ng = ksnprintf(got, sizeof(got), __VA_ARGS__);                   \
        if (strcmp(want, got) || nw != ng) {                                 \
            fprintf(stderr, "format %s: want \"%s\" (%d), got \"%s\" (%d)\n", #__VA_ARGS__, \
                    want, nw, got, ng);                                      \
            check_failures++;                                                \
        }                                                                    \
    } while (0)

int main(void)
{
    SAME("%d %d %d", 0, -1, INT_MAX);
    SAME("%d", INT_MIN);
    SAME("%i|%5d|%-5d|%05d", 42, 42, 42, -42);
    SAME("%u %u", 0u, UINT_MAX);
    SAME("%x %X %08x %-8x|", 0xbeefu, 0xbeefu, 0x2bu, 0x2bu);
    SAME("%lx %lu %ld", 0xffffffffffffffffUL, 18446744073709551615UL, LONG_MIN);
    SAME("%llx %lld", 0x123456789abcdefULL, -5LL);
    SAME("%zu %zx", (size_t)4096, (size_t)4096);
    SAME("%016lx", 0x2bUL);
    SAME("%s|%10s|%-10s|", "vmx", "vmx", "vmx");
    SAME("%c%c%c", 'V', 'M', 'X');
    SAME("100%%");
    SAME("%*d|%-*d|", 6, 7, 6, 7);

    /* %p: the kernel always prints 0x and 16 digits (glibc does not pad). */
    char buf[64];
    ksnprintf(buf, sizeof(buf), "%p", (void *)0x1000);
    CHECK(!strcmp(buf, "0x0000000000001000"));

    /* Truncation keeps a terminator and returns the full length, as C's snprintf. */
    int n = ksnprintf(buf, 5, "%s", "hypervisor");
    CHECK(n == 10);
    CHECK(!strcmp(buf, "hype"));
    CHECK(ksnprintf(NULL, 0, "%d", 12345) == 5);
    return CHECK_DONE();
}
