/* guest_image.h: the header at the start of every test guest image in guests/, which tells the
 * hypervisor where the image runs and how much memory it needs. Shared by guests and loaders. */
#ifndef GUEST_IMAGE_H
#define GUEST_IMAGE_H

#include <stdint.h>

/*
 * A guest image is a flat binary (objcopy -O binary) linked to run at load_addr, which is
 * both its linear address and, under EPT (chapter 06), its guest-physical address:
 *
 *   load_addr        struct guest_image_header, then code, read-only data, data
 *   file_end         end of the file; from here to mem_end: zeroed memory (.bss)
 *   stack_top        the initial RSP, inside .bss
 *   mem_end          end of the memory the guest needs, page aligned
 */
#define GUEST_IMAGE_MAGIC   0x54534748u           /* "HGST" */
#define GUEST_IMAGE_VERSION 1

struct guest_image_header {
    uint32_t magic;
    uint32_t version;
    uint64_t load_addr, entry, file_end, mem_end, stack_top;
};

#endif
