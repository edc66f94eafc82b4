/* image_check.c: validates a guest image header against the image's real size before any byte
 * is copied: every address must lie where the header says the image lives. Host-tested. */
#include "image_check.h"

#include "printf.h"

#define PAGE 4096u

int guest_image_check(const void *blob, size_t size, uint64_t max_mem, struct guest_image *out,
                      char *why, size_t why_size)
{
    const struct guest_image_header *h = blob;
    if (size < sizeof(*h))
        return ksnprintf(why, why_size, "%zu bytes: shorter than its header", size), -1;
    if (h->magic != GUEST_IMAGE_MAGIC || h->version != GUEST_IMAGE_VERSION)
        return ksnprintf(why, why_size, "no guest image header (magic 0x%x, version %u)",
                         h->magic, h->version), -1;
    if (h->load_addr % PAGE || h->mem_end % PAGE)
        return ksnprintf(why, why_size, "load address 0x%lx or end 0x%lx not page aligned",
                         h->load_addr, h->mem_end), -1;
    if (h->file_end < h->load_addr || h->file_end - h->load_addr != size)
        return ksnprintf(why, why_size, "the header says %lu bytes, the image has %zu (truncated?)",
                         h->file_end - h->load_addr, size), -1;
    if (h->mem_end < h->file_end || h->mem_end - h->load_addr > max_mem)
        return ksnprintf(why, why_size, "it wants 0x%lx bytes of memory, at most 0x%lx allowed",
                         h->mem_end - h->load_addr, max_mem), -1;
    if (h->entry < h->load_addr || h->entry >= h->file_end)
        return ksnprintf(why, why_size, "entry 0x%lx outside the image", h->entry), -1;
    if (h->stack_top <= h->load_addr || h->stack_top > h->mem_end || h->stack_top % 16)
        return ksnprintf(why, why_size, "stack top 0x%lx outside its memory or misaligned",
                         h->stack_top), -1;
    *out = (struct guest_image){h->load_addr, h->entry, size, h->mem_end, h->stack_top};
    return 0;
}
