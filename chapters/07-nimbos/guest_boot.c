/* guest_boot.c: the guest's memory at power-on: the checked image loaded, the start stub patched
 * with the entry point, and the multiboot information a kernel may read (memory size and map). */
#include "guest_boot.h"

#include "lib.h"
#include "printf.h"

/* Multiboot information (Multiboot 0.6.96, 3.3): the fields up to the memory map. */
struct __attribute__((packed)) mb1_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
};
struct __attribute__((packed)) mb1_mmap {
    uint32_t size;               /* of the rest of the entry: 20 */
    uint64_t base, length;
    uint32_t type;               /* 1: RAM */
};
#define MB1_INFO_MEM  (1u << 0)
#define MB1_INFO_MMAP (1u << 6)
#define LOW_RAM_END   0xa0000u   /* conventional memory as a PC reports it: 640 KiB */

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void write_info(uint8_t *ram, uint64_t ram_size)
{
    struct mb1_info info = {0};
    struct mb1_mmap map[2] = {
        {20, 0, LOW_RAM_END, 1},
        {20, 1u << 20, ram_size - (1u << 20), 1},
    };
    info.flags = MB1_INFO_MEM | MB1_INFO_MMAP;
    info.mem_lower = LOW_RAM_END / 1024;
    info.mem_upper = (uint32_t)((ram_size - (1u << 20)) / 1024);
    info.mmap_length = sizeof(map);
    info.mmap_addr = GUEST_INFO_GPA + sizeof(info);
    memcpy(ram + GUEST_INFO_GPA, &info, sizeof(info));
    memcpy(ram + GUEST_INFO_GPA + sizeof(info), map, sizeof(map));
}

int guest_boot_prepare(uint8_t *ram, uint64_t ram_size, const void *image, size_t size,
                       struct image_info *info, char *why, size_t why_size)
{
    if (ram_size < GUEST_RAM_MIN || ram_size > GUEST_RAM_MAX || (ram_size & 0xfff)) {
        ksnprintf(why, why_size, "guest RAM of %lu KiB: it must be whole pages, 2 MiB .. 3 GiB "
                  "(the device pages live in the fourth GiB)", ram_size >> 10);
        return -1;
    }
    if (image_parse(image, size, ram_size, info, why, why_size))
        return -1;
    image_load(info, image, ram);
    size_t stub = (size_t)(guest_start_stub_end - guest_start_stub);
    memcpy(ram + GUEST_STUB_GPA, guest_start_stub, stub);
    put32(ram + GUEST_STUB_GPA + (guest_start_stub_entry - guest_start_stub), (uint32_t)info->entry);
    put32(ram + GUEST_STUB_GPA + (guest_start_stub_info - guest_start_stub), GUEST_INFO_GPA);
    write_info(ram, ram_size);
    return 0;
}
