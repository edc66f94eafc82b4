/* guest_loader.c: checks a guest kernel image against itself and the guest's RAM before anything
 * is copied, then loads it: a flat binary, or the a.out-kludge fields of a multiboot v1 header. */
#include "guest_loader.h"

#include <stdarg.h>

#include "exercise.h"
#include "lib.h"
#include "printf.h"

struct mb1_header {
    uint32_t magic, flags, checksum;
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;  /* a.out kludge */
};

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int __attribute__((format(printf, 3, 4))) refuse(char *why, size_t why_size,
                                                         const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (why && why_size)
        kvsnprintf(why, why_size, fmt, ap);
    va_end(ap);
    return -1;
}

/*
 * The header is the first 4-byte-aligned place in the first 8 KiB where magic + flags +
 * checksum add up to 0 (mod 2^32) (Multiboot 0.6.96, 3.1.1). A magic number alone is not
 * a header: a file may contain those four bytes as data.
 */
static long find_header(const uint8_t *d, size_t size)
{
    size_t end = size < MB1_SEARCH_BYTES ? size : MB1_SEARCH_BYTES;
    for (size_t off = 0; off + 12 <= end; off += 4) {
        if (le32(d + off) != MB1_HEADER_MAGIC)
            continue;
        if ((uint32_t)(le32(d + off) + le32(d + off + 4) + le32(d + off + 8)) == 0)
            return (long)off;
    }
    return -1;
}

/* The part every format shares: the loaded range must be RAM above the start stub. */
static int check_placement(const struct image_info *i, uint64_t ram_size, char *why, size_t n)
{
    if (i->load_addr < IMAGE_MIN_LOAD)
        return refuse(why, n, "load address 0x%lx is below 0x%lx, where the start stub and "
                      "boot information live", i->load_addr, IMAGE_MIN_LOAD);
    if (i->bss_end > ram_size)
        return refuse(why, n, "the image needs guest memory up to 0x%lx, but the guest has "
                      "0x%lx bytes of RAM (mem= on the command line)", i->bss_end, ram_size);
    if (i->entry < i->load_addr || i->entry >= i->load_end)
        return refuse(why, n, "entry point 0x%lx is outside the loaded bytes ending at 0x%lx",
                      i->entry, i->load_end);
    return 0;
}

/*
 * The a.out kludge (3.1.3): header_addr is where the header itself lands, so the file
 * offset of load_addr is header_offset - (header_addr - load_addr). load_end_addr 0 means
 * "to the end of the file", bss_end_addr 0 means "no BSS". Every field is 32 bits: the
 * sums below are done in 64 bits, so nothing wraps.
 */
static int parse_multiboot(const uint8_t *d, size_t size, long off, struct image_info *i,
                           char *why, size_t n)
{
    struct mb1_header h;
    if ((size_t)off + sizeof(h) > size)
        return refuse(why, n, "multiboot header at offset 0x%lx is cut off by the end of the "
                      "file (%lu bytes)", (uint64_t)off, size);
    uint32_t *w = &h.magic;
    for (unsigned k = 0; k < sizeof(h) / 4; k++)
        w[k] = le32(d + off + 4 * k);
    i->format = IMAGE_MULTIBOOT;
    i->header_offset = (uint64_t)off;
    i->mb_flags = h.flags;
    uint32_t required = h.flags & 0xffffu;
    if (required & MB1_FLAG_VIDEO)
        return refuse(why, n, "the image asks for a video mode (flags 0x%lx bit 2); this "
                      "platform has only a serial console", (uint64_t)h.flags);
    if (required & ~(MB1_FLAG_PAGE_ALIGN | MB1_FLAG_MEMINFO))
        return refuse(why, n, "the image requires multiboot features 0x%x this loader does "
                      "not know (flags 0x%x)", required & ~0x3u, h.flags);
    if (!(h.flags & MB1_FLAG_AOUT_KLUDGE))
        return refuse(why, n, "multiboot header without load addresses (flags 0x%lx, bit 16 "
                      "clear): give the flat binary (objcopy -O binary) instead", (uint64_t)h.flags);
    // BEGIN EXERCISE 07-5: where the a.out kludge puts the file
    // Instruction: The header lies at file offset off and loads at header_addr, so the file
    //   offset of load_addr is off - (header_addr - load_addr): refuse (refuse()) when that
    //   is before the file's start. Fill i->file_offset, i->load_addr and i->load_end
    //   (load_end_addr 0: to the end of the file; otherwise it must be above load_addr).
    //   Refuse a file shorter than file_offset + (load_end - load_addr): it is truncated.
    // Hint: Multiboot Specification 0.6.96, 3.1.3; do the sums in 64 bits (no wrap).
    if (h.header_addr < h.load_addr || h.header_addr - h.load_addr > (uint64_t)off)
        return refuse(why, n, "header_addr 0x%x and load_addr 0x%x put the load address "
                      "before the start of the file", h.header_addr, h.load_addr);
    i->file_offset = (uint64_t)off - (h.header_addr - h.load_addr);
    i->load_addr = h.load_addr;
    if (h.load_end_addr == 0)
        i->load_end = i->load_addr + (size - i->file_offset);
    else if (h.load_end_addr <= h.load_addr)
        return refuse(why, n, "load_end_addr 0x%x is not above load_addr 0x%x",
                      h.load_end_addr, h.load_addr);
    else
        i->load_end = h.load_end_addr;
    if (i->file_offset + (i->load_end - i->load_addr) > size)
        return refuse(why, n, "the file is truncated: the header loads up to 0x%lx, the file "
                      "holds only 0x%lx bytes from the load offset", i->load_end,
                      size - i->file_offset);
    // END EXERCISE 07-5
    i->bss_end = h.bss_end_addr ? h.bss_end_addr : i->load_end;
    if (i->bss_end < i->load_end)
        return refuse(why, n, "bss_end_addr 0x%lx is below load_end_addr 0x%lx", i->bss_end,
                      i->load_end);
    i->entry = h.entry_addr;
    return 0;
}

int image_parse(const void *data, size_t size, uint64_t ram_size, struct image_info *out,
                char *why, size_t why_size)
{
    const uint8_t *d = data;
    struct image_info i = {0};
    if (why && why_size)
        why[0] = '\0';
    if (!data || size == 0)
        return refuse(why, why_size, "the image is empty");
    long off = find_header(d, size);
    if (off >= 0) {
        if (parse_multiboot(d, size, off, &i, why, why_size))
            return -1;
    } else if (size >= 4 && d[0] == 0x7f && d[1] == 'E' && d[2] == 'L' && d[3] == 'F') {
        /* An ELF kernel without the kludge needs an ELF loader; ours loads flat bytes. */
        return refuse(why, why_size, "an ELF file without a multiboot a.out-kludge header in its "
                      "first %d bytes: give the flat binary (objcopy -O binary)",
                      MB1_SEARCH_BYTES);
    } else {
        i.format = IMAGE_FLAT;
        i.load_addr = i.entry = IMAGE_FLAT_LOAD;
        if (size > ram_size)
            return refuse(why, why_size, "the image is 0x%lx bytes, larger than the guest's "
                          "0x%lx bytes of RAM", size, ram_size);
        i.load_end = i.bss_end = IMAGE_FLAT_LOAD + size;
    }
    if (check_placement(&i, ram_size, why, why_size))
        return -1;
    *out = i;
    return 0;
}

void image_load(const struct image_info *info, const void *data, void *ram)
{
    uint8_t *r = ram;
    memcpy(r + info->load_addr, (const uint8_t *)data + info->file_offset,
           info->load_end - info->load_addr);
    memset(r + info->load_end, 0, info->bss_end - info->load_end);
}

int image_fuzz_one(const uint8_t *data, size_t size, void *ram, uint64_t ram_size)
{
    struct image_info info;
    char why[200];
    if (image_parse(data, size, ram_size, &info, why, sizeof(why)))
        return -1;
    image_load(&info, data, ram);
    return 0;
}
