/* fuzz.h: what every libFuzzer target here shares: FUZZ_ASSERT, an invariant whose failure is a
 * finding (abort: libFuzzer saves the input), and the stubs host builds of kernel code need. */
#ifndef FUZZ_H
#define FUZZ_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_ASSERT(cond)                                                              \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                   \
        }                                                                              \
    } while (0)

/* Kernel code may call these; on the host they are findings too. */
__attribute__((weak)) _Noreturn void exercise_todo(const char *id, const char *func)
{
    fprintf(stderr, "exercise %s (in %s) is not done\n", id, func);
    abort();
}

__attribute__((weak)) _Noreturn void panic_at(const char *func, const char *fmt, ...)
{
    fprintf(stderr, "panic in %s: %s\n", func, fmt);
    abort();
}

#endif
