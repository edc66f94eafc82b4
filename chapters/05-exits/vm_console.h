/* vm_console.h: COM1 as far as a polling guest console needs it: what the guest writes to THR
 * appears on the host console line by line, LSR always says "ready"; enough for test guests. */
#ifndef VM_CONSOLE_H
#define VM_CONSOLE_H

#include <stdint.h>

struct vm;

struct vm_console {
    const char *prefix;          /* put before each line on the host console: "guest: " */
    char line[120];
    unsigned len;
    uint64_t chars, lines;
};

/* Register ports 0x3f8-0x3ff. Chapter 07 replaces this with a whole 16550. */
int vm_console_attach(struct vm *vm, struct vm_console *console, const char *prefix);

#endif
