/* image_check.h: checking a test guest's image header (guests/include/guest_image.h) before
 * loading it: a malformed, truncated or oversized image is refused with a reason. */
#ifndef IMAGE_CHECK_H
#define IMAGE_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "guest_image.h"

struct guest_image {
    uint64_t load_addr, entry, file_size, mem_end, stack_top;
};

/* Returns 0 and fills *out, or -1 with why (a sentence) when the image cannot be run. */
int guest_image_check(const void *blob, size_t size, uint64_t max_mem, struct guest_image *out,
                      char *why, size_t why_size);

#endif
