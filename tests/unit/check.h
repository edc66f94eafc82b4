/* check.h: a ten-line test harness for the host-side unit tests.
 * CHECK() reports the file, line and expression, and the test exits non-zero at the end. */
#ifndef CHECK_H
#define CHECK_H

#include <stdio.h>

static int check_failures;
#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            check_failures++;                                                \
        }                                                                    \
    } while (0)
#define CHECK_DONE() (check_failures ? (fprintf(stderr, "%d failures\n", check_failures), 1) : 0)

#endif
