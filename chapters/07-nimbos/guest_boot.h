/* guest_boot.h: guest-physical memory as a small firmware leaves it for a multiboot kernel: the
 * image loaded, a start stub at 0x8000, multiboot information at 0x9000, a stack below 0x7000. */
#ifndef CH07_GUEST_BOOT_H
#define CH07_GUEST_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "guest_loader.h"

/*
 * The guest's low memory (the image must load at IMAGE_MIN_LOAD = 1 MiB or above):
 *
 *   0x0000 .. 0x6fff   free (zeroed)
 *   0x7000             initial ESP (the stack grows down from here)
 *   0x8000             start stub (start_stub.S): real mode -> 32-bit protected mode
 *   0x9000             multiboot information (EBX), its memory map right after it
 *   0xa000 .. 0xfffff  free (zeroed; no BIOS, no VGA, no ROM: all RAM)
 */
#define GUEST_STACK_TOP  0x7000u
#define GUEST_STUB_GPA   0x8000u
#define GUEST_INFO_GPA   0x9000u
#define GUEST_RAM_MIN    (2ul << 20)
#define GUEST_RAM_MAX    (3ul << 30)      /* below the devices at 0xFEC00000 and up */

/* The stub and its two words the loader fills in (start_stub.S). */
extern const uint8_t guest_start_stub[], guest_start_stub_end[];
extern const uint8_t guest_start_stub_entry[], guest_start_stub_info[], guest_start_stub_gdt[];

/*
 * Put a guest image into ram (ram_size bytes, guest-physical 0 at ram[0], zeroed by the
 * caller) and prepare the hand-over: the image (guest_loader.c), the start stub with the
 * entry point, the multiboot information (memory size and map: Multiboot 0.6.96, 3.3).
 * Returns 0, or -1 with why saying what is wrong with the image; ram is untouched then.
 */
int guest_boot_prepare(uint8_t *ram, uint64_t ram_size, const void *image, size_t size,
                       struct image_info *info, char *why, size_t why_size);

#endif
