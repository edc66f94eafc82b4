/* fuzz_image.c: libFuzzer target for chapter 07's guest loader and boot preparation: any file is
 * either refused (RAM untouched) or loaded exactly where its header says, inside the guest's RAM. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "guest_boot.h"
#include "guest_loader.h"

/* start_stub.S is guest code the kernel links; here a stand-in with the same symbols. */
__asm__(".section .rodata\n"
        ".globl guest_start_stub, guest_start_stub_end, guest_start_stub_entry\n"
        ".globl guest_start_stub_info, guest_start_stub_gdt\n"
        "guest_start_stub: .fill 40, 1, 0x90\n"
        "guest_start_stub_gdt: .fill 24, 1, 0\n"
        "guest_start_stub_entry: .long 0\n"
        "guest_start_stub_info: .long 0\n"
        "guest_start_stub_end:\n"
        ".text\n");

/* The guest RAM sizes tried: the smallest allowed, two ordinary ones, one that is not whole
 * pages (refused). Each buffer is exactly that big, so ASan sees a byte written past it. */
static const uint64_t ram_sizes[] = {2ull << 20, 4ull << 20, 16ull << 20, (2ull << 20) + 0x800};
#define RAMS (sizeof(ram_sizes) / sizeof(ram_sizes[0]))
static uint8_t *rams[RAMS];

static int all_zero(const uint8_t *p, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned which = (unsigned)(size % RAMS);
    uint64_t ram_size = ram_sizes[which];
    if (!rams[which])
        rams[which] = calloc(1, ram_size);
    uint8_t *ram = rams[which];
    /* An exact-size copy of the file: reading past its end is a finding too. */
    uint8_t *file = malloc(size ? size : 1);
    memcpy(file, data, size);
    struct image_info info;
    char why[160];
    memset(why, 'x', sizeof(why));
    size_t stub = (size_t)(guest_start_stub_end - guest_start_stub);
    if (guest_boot_prepare(ram, ram_size, file, size, &info, why, sizeof(why))) {
        /* Refused: a reason, and nothing written (spot checks where a load would go). */
        FUZZ_ASSERT(why[0] != '\0' && memchr(why, '\0', sizeof(why)) != NULL);
        FUZZ_ASSERT(all_zero(ram + GUEST_STUB_GPA, 0x2000) && all_zero(ram + IMAGE_MIN_LOAD, 0x2000));
        FUZZ_ASSERT(ram_size < IMAGE_FLAT_LOAD + 0x2000 || all_zero(ram + IMAGE_FLAT_LOAD, 0x2000));
        free(file);
        return 0;
    }
    /* Loaded: above the stub, inside RAM, entry among the loaded bytes, file bytes copied. */
    FUZZ_ASSERT(info.load_addr >= IMAGE_MIN_LOAD);
    FUZZ_ASSERT(info.load_addr < info.load_end && info.load_end <= info.bss_end);
    FUZZ_ASSERT(info.bss_end <= ram_size);
    FUZZ_ASSERT(info.entry >= info.load_addr && info.entry < info.load_end);
    FUZZ_ASSERT(info.file_offset + (info.load_end - info.load_addr) <= size);
    FUZZ_ASSERT(info.format == IMAGE_MULTIBOOT || (info.load_addr == IMAGE_FLAT_LOAD &&
                info.file_offset == 0 && info.load_end - info.load_addr == size));
    FUZZ_ASSERT(memcmp(ram + info.load_addr, file + info.file_offset, info.load_end - info.load_addr) == 0);
    FUZZ_ASSERT(all_zero(ram + info.load_end, info.bss_end - info.load_end));
    FUZZ_ASSERT(le32(ram + GUEST_STUB_GPA + (guest_start_stub_entry - guest_start_stub)) == info.entry);
    /* Back to all zeros for the next input (cheaper than clearing 16 MiB). */
    memset(ram + info.load_addr, 0, info.bss_end - info.load_addr);
    memset(ram + GUEST_STUB_GPA, 0, stub);
    memset(ram + GUEST_INFO_GPA, 0, 0x200);
    free(file);
    return 0;
}
