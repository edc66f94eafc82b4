/* boot.h: what the loader told the kernel: command line, RAM size, modules.
 * Filled from the multiboot v1 information structure by boot_info_init(). */
#ifndef BOOT_H
#define BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_BOOT_MODULES 8

struct boot_module {
    uint64_t start, end;         /* physical, end exclusive */
    const char *name;
};

struct boot_info {
    const char *cmdline;
    uint64_t ram_end;            /* end of the RAM region that holds the kernel */
    uint64_t free_start;         /* first byte after the kernel and modules */
    int module_count;
    struct boot_module modules[MAX_BOOT_MODULES];
};

extern struct boot_info boot_info;

void boot_info_init(uint32_t magic, uint32_t info_addr);
/* Value of "key=value" on the command line into buf; false if absent. */
bool cmdline_get(const char *key, char *buf, size_t size);
uint64_t cmdline_get_u64(const char *key, uint64_t fallback);

#endif
