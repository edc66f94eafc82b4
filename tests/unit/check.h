/* check.h: a ten-line test harness for the host-side unit tests.
 * CHECK() reports the file, line and expression, and the test exits non-zero at the end. */
#ifndef CHECK_H
#define CHECK_H

#include <stdio.h>
#include <stdlib.h>

static int check_failures;
#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            check_failures++;                                                \
        }                                                                    \
    } while (0)
/* A student handout replaces exercise regions with TODO_EXERCISE(), which ends here. */
__attribute__((weak)) _Noreturn void exercise_todo(const char *id, const char *func)
{
    fprintf(stderr, "exercise %s (in %s) is not done yet\n", id, func);
    exit(2);
}

/* Host-tested kernel code may panic(); here that ends the test with the message. */
__attribute__((weak)) _Noreturn void panic_at(const char *func, const char *fmt, ...)
{
    fprintf(stderr, "panic in %s: %s\n", func, fmt);
    exit(3);
}

#define CHECK_DONE() (check_failures ? (fprintf(stderr, "%d failures\n", check_failures), 1) : 0)

#endif
