/* vm_console.c: the minimal COM1 of vm_console.h: THR (0x3f8) collects a line, LSR (0x3fd) reads
 * "transmitter empty", every other register reads 0 and ignores writes. */
#include "vm_console.h"

#include "kernel.h"
#include "vm.h"

#define COM1 0x3f8
#define LSR_THRE_TEMT 0x60               /* 16550 LSR bits 5 and 6 */

static void flush(struct vm_console *c)
{
    c->line[c->len] = '\0';
    kprintf("%s%s\n", c->prefix, c->line);
    c->len = 0;
    c->lines++;
}

static int com1(struct vm *vm, void *ctx, struct io_access *a)
{
    struct vm_console *c = ctx;
    (void)vm;
    if (a->in) {
        a->value = a->port == COM1 + 5 ? LSR_THRE_TEMT : 0;
        return 0;
    }
    if (a->port != COM1)
        return 0;
    char ch = (char)a->value;
    c->chars++;
    if (ch == '\n' || c->len == sizeof(c->line) - 1)
        flush(c);
    else if (ch != '\r')
        c->line[c->len++] = ch;
    return 0;
}

int vm_console_attach(struct vm *vm, struct vm_console *c, const char *prefix)
{
    *c = (struct vm_console){.prefix = prefix};
    return vm_io_register(vm, COM1, 8, com1, c, "COM1");
}
