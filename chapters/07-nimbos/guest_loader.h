/* guest_loader.h: what a guest kernel image asks for: a flat binary run at 0x200000, or a file
 * with a multiboot v1 header whose a.out-kludge fields say where to load and enter it. */
#ifndef CH07_GUEST_LOADER_H
#define CH07_GUEST_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A flat binary without a multiboot header is loaded and entered here (NimbOS's address). */
#define IMAGE_FLAT_LOAD      0x200000ul
/* Guest-physical memory below this belongs to the start stub and the boot information. */
#define IMAGE_MIN_LOAD       0x100000ul

/* Multiboot v1 (Multiboot Specification 0.6.96, section 3.1). */
#define MB1_HEADER_MAGIC     0x1BADB002u
#define MB1_LOADER_MAGIC     0x2BADB002u     /* EAX at the kernel's entry (3.2) */
#define MB1_SEARCH_BYTES     8192            /* the header lies in the first 8 KiB, 4-aligned */
#define MB1_FLAG_PAGE_ALIGN  (1u << 0)       /* modules page-aligned: we load none, satisfied */
#define MB1_FLAG_MEMINFO     (1u << 1)       /* mem_* fields wanted: we give them */
#define MB1_FLAG_VIDEO       (1u << 2)       /* a video mode: we have no display */
#define MB1_FLAG_AOUT_KLUDGE (1u << 16)      /* the address fields below are valid */

enum image_format {
    IMAGE_FLAT,                  /* no multiboot header: bytes at IMAGE_FLAT_LOAD */
    IMAGE_MULTIBOOT,             /* multiboot header with the a.out kludge (any file: flat, ELF) */
};

/* Where each part of the file goes, all checked against the file and the guest's RAM. */
struct image_info {
    enum image_format format;
    uint64_t file_offset;        /* file bytes from here ... */
    uint64_t load_addr;          /* ... go to guest-physical load_addr .. load_end */
    uint64_t load_end;
    uint64_t bss_end;            /* load_end .. bss_end is zeroed */
    uint64_t entry;
    uint64_t header_offset;      /* multiboot header's file offset (IMAGE_MULTIBOOT) */
    uint32_t mb_flags;
};

/*
 * Decide how to load an image of size bytes into a guest with ram_size bytes of RAM.
 * Returns 0 with *out filled, or -1 with a sentence in why saying what is wrong: not
 * an image at all, truncated, larger than the RAM, overlapping the start stub, asking
 * for something we cannot give. Reads only data[0 .. size): safe on any input.
 */
int image_parse(const void *data, size_t size, uint64_t ram_size, struct image_info *out,
                char *why, size_t why_size);

/* Copy the file's bytes into ram (guest-physical 0 at ram[0]) and zero the BSS.
 * info must come from image_parse() with the same data, size and ram_size. */
void image_load(const struct image_info *info, const void *data, void *ram);

/* Both in one call, for fuzzers (tests/unit/fuzz_guest_loader.c): parse any bytes and, if
 * they pass, load them into ram (ram_size bytes). Returns image_parse()'s result. */
int image_fuzz_one(const uint8_t *data, size_t size, void *ram, uint64_t ram_size);

#endif
