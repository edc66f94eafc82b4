/* vm_io.h: port I/O through the I/O bitmaps: devices register port ranges and get each access
 * decoded (port, size, direction, value); string forms are emulated, unknown ports float high. */
#ifndef VM_IO_H
#define VM_IO_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu.h"

struct vm;

/* One access as a device sees it. For IN the device sets value (size bytes). */
struct io_access {
    uint16_t port;
    uint8_t size;                /* 1, 2 or 4 */
    bool in;
    uint32_t value;
};
/* Returns 0, or -1 to refuse the access: the guest then gets #GP(0). */
typedef int (*vm_io_handler)(struct vm *vm, void *ctx, struct io_access *a);

#define VM_IO_RANGES 16
struct vm_io_range {
    uint16_t first, last;
    vm_io_handler fn;
    void *ctx;
    const char *name;
    uint64_t accesses;
};

struct vm_io {
    uint8_t *bitmap_a, *bitmap_b;          /* ports 0x0000-0x7fff, 0x8000-0xffff (24.6.4) */
    struct vm_io_range ranges[VM_IO_RANGES];
    unsigned nranges;
    const struct vm_io_range *last;        /* the last range hit: consoles poll one port */
    uint64_t unknown, string, refused;
};

/* Allocate both bitmaps with every bit set (every port exits) and give them to the VMCS. */
void vm_io_init(struct vm *vm);
void vm_io_destroy(struct vm *vm);

/* Ports first .. first + count - 1 belong to a device. Returns 0, or -1 (full, overlap). */
int vm_io_register(struct vm *vm, uint16_t first, uint16_t count, vm_io_handler fn, void *ctx,
                   const char *name);
/* Let the guest reach a real port without an exit: only for ports that are harmless
 * (e.g. 0x80, the POST-code port); a guest must never drive the host's devices. */
void vm_io_passthrough(struct vm *vm, uint16_t port, bool pass);
bool vm_io_intercepted(const struct vm *vm, uint16_t port);

enum vcpu_action vm_handle_io(struct vm *vm);

#endif
