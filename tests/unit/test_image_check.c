/* test_image_check.c: chapter 05 refuses guest images whose header does not match the image
 * (guests/include/guest_image.h), before copying a byte of them. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "image_check.h"

static uint8_t image[3 * 4096];
static char why[160];

static struct guest_image_header *header(void)
{
    return (struct guest_image_header *)image;
}

static void good(void)
{
    memset(image, 0, sizeof(image));
    *header() = (struct guest_image_header){GUEST_IMAGE_MAGIC, GUEST_IMAGE_VERSION, 0x400000,
                                            0x400030, 0x400000 + sizeof(image), 0x408000, 0x407ff0};
}

static int check(size_t size, uint64_t max_mem)
{
    struct guest_image img;
    why[0] = '\0';
    int rc = guest_image_check(image, size, max_mem, &img, why, sizeof(why));
    if (rc == 0)
        CHECK(img.load_addr == 0x400000 && img.entry == 0x400030 && img.file_size == size);
    return rc;
}

int main(void)
{
    good();
    CHECK(check(sizeof(image), 1 << 20) == 0);
    CHECK(check(sizeof(image) - 1, 1 << 20) == -1 && strstr(why, "truncated"));
    CHECK(check(10, 1 << 20) == -1 && strstr(why, "shorter than its header"));
    CHECK(check(sizeof(image), 0x4000) == -1 && strstr(why, "memory"));
    good(), header()->magic = 0x7f454c46;
    CHECK(check(sizeof(image), 1 << 20) == -1 && strstr(why, "no guest image header"));
    good(), header()->entry = 0x500000;
    CHECK(check(sizeof(image), 1 << 20) == -1 && strstr(why, "entry"));
    good(), header()->stack_top = 0x407ff8;
    CHECK(check(sizeof(image), 1 << 20) == -1 && strstr(why, "stack"));
    good(), header()->load_addr = 0x400800;
    CHECK(check(sizeof(image), 1 << 20) == -1 && strstr(why, "aligned"));
    good(), header()->mem_end = 0x401000;
    CHECK(check(sizeof(image), 1 << 20) == -1);
    return CHECK_DONE();
}
