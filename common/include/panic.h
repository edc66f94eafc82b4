/* panic.h: stop the kernel with a message naming the function, a register dump
 * and a backtrace. The runner shows the backtrace with function names. */
#ifndef PANIC_H
#define PANIC_H

#include <stdint.h>

struct trap_frame;

_Noreturn void panic_at(const char *func, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
_Noreturn void panic_frame(const struct trap_frame *frame, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void backtrace_print(uint64_t rbp);

#define panic(...) panic_at(__func__, __VA_ARGS__)
#define assert(cond)                                                         \
    do {                                                                     \
        if (!(cond))                                                         \
            panic("assertion failed: %s (%s:%d)", #cond, __FILE__, __LINE__); \
    } while (0)

#endif
