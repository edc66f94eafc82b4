/* test_guest_loader.c: chapter 07's image loader on flat binaries, multiboot a.out-kludge images
 * (flat and ELF layout), every refusal, tinyos's real files, and a seeded mutation fuzz. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "guest_loader.h"

#define RAM (16ull << 20)
#define MB_FLAGS 0x00010002u     /* NimbOS's and tinyos's: meminfo + a.out kludge */

static uint8_t *ram;

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A multiboot header at file offset off: magic, flags, checksum, then the kludge fields. */
static void header(uint8_t *f, size_t off, uint32_t flags, uint32_t header_addr, uint32_t load,
                   uint32_t load_end, uint32_t bss_end, uint32_t entry)
{
    uint32_t w[8] = {MB1_HEADER_MAGIC, flags, -(MB1_HEADER_MAGIC + flags), header_addr, load,
                     load_end, bss_end, entry};
    for (int i = 0; i < 8; i++)
        put32(f + off + 4 * i, w[i]);
}

/* A NimbOS-like flat image: a jump, the header at offset 8, then recognisable bytes. */
static uint8_t *nimbos_like(size_t size, uint32_t bss_end)
{
    uint8_t *f = malloc(size);
    for (size_t i = 0; i < size; i++)
        f[i] = (uint8_t)(i * 7 + 3);
    header(f, 8, MB_FLAGS, 0x200008, 0x200000, 0x200000 + (uint32_t)size, bss_end, 0x200000);
    return f;
}

static int parse(const void *f, size_t size, struct image_info *info, char *why)
{
    return image_parse(f, size, RAM, info, why, 200);
}

/* A refusal must happen, and its sentence must say why. */
#define REFUSED(f, size, words)                                                       \
    do {                                                                              \
        struct image_info i_;                                                         \
        char why_[200];                                                               \
        CHECK(parse(f, size, &i_, why_) == -1);                                       \
        if (!strstr(why_, words)) {                                                   \
            fprintf(stderr, "%s:%d: refusal \"%s\" lacks \"%s\"\n", __FILE__, __LINE__, why_, \
                    words);                                                           \
            check_failures++;                                                         \
        }                                                                             \
    } while (0)

static void test_flat(void)
{
    struct image_info i;
    char why[200];
    uint8_t f[300];
    for (size_t k = 0; k < sizeof(f); k++)
        f[k] = (uint8_t)k;
    CHECK(parse(f, sizeof(f), &i, why) == 0);
    CHECK(i.format == IMAGE_FLAT && i.load_addr == 0x200000 && i.entry == 0x200000);
    CHECK(i.load_end == 0x200000 + sizeof(f) && i.bss_end == i.load_end && i.file_offset == 0);
    memset(ram, 0xaa, RAM);
    image_load(&i, f, ram);
    CHECK(!memcmp(ram + 0x200000, f, sizeof(f)) && ram[0x200000 + sizeof(f)] == 0xaa);

    /* A bad checksum is no header: the file is flat. */
    header(f, 8, MB_FLAGS, 0x200008, 0x200000, 0x200100, 0x300000, 0x200000);
    f[16]++;
    CHECK(parse(f, sizeof(f), &i, why) == 0 && i.format == IMAGE_FLAT);
    REFUSED(f, 0, "empty");
    REFUSED(NULL, 10, "empty");
    uint8_t *big = calloc(1, RAM + 1);
    REFUSED(big, RAM + 1, "larger than the guest");
    REFUSED(big, RAM - 0x100000, "needs guest memory up to");    /* fits RAM, not above 2 MiB */
    free(big);
}

static void test_multiboot_flat(void)
{
    struct image_info i;
    char why[200];
    size_t size = 0x3000;
    uint8_t *f = nimbos_like(size, 0x208000);
    CHECK(parse(f, size, &i, why) == 0);
    CHECK(i.format == IMAGE_MULTIBOOT && i.header_offset == 8 && i.mb_flags == MB_FLAGS);
    CHECK(i.file_offset == 0 && i.load_addr == 0x200000 && i.load_end == 0x203000);
    CHECK(i.bss_end == 0x208000 && i.entry == 0x200000);
    memset(ram, 0xaa, RAM);
    image_load(&i, f, ram);
    CHECK(!memcmp(ram + 0x200000, f, size));
    CHECK(ram[0x203000] == 0 && ram[0x207fff] == 0 && ram[0x208000] == 0xaa);

    /* load_end_addr 0: to the end of the file; bss_end_addr 0: no BSS. */
    header(f, 8, MB_FLAGS, 0x200008, 0x200000, 0, 0, 0x200010);
    CHECK(parse(f, size, &i, why) == 0 && i.load_end == 0x203000 && i.bss_end == 0x203000);
    CHECK(i.entry == 0x200010);
    free(f);
}

/* The ELF layout: ELF headers first, the header at file offset 0x1008 is at 0x200008. */
static void test_multiboot_elf(void)
{
    struct image_info i;
    char why[200];
    size_t size = 0x4000;
    uint8_t *f = calloc(1, size);
    memcpy(f, "\177ELF\2\1\1", 7);
    for (size_t k = 0x1000; k < size; k++)
        f[k] = (uint8_t)k;
    header(f, 0x1008, MB_FLAGS, 0x200008, 0x200000, 0x202000, 0x250000, 0x200000);
    CHECK(parse(f, size, &i, why) == 0);
    CHECK(i.file_offset == 0x1000 && i.load_end == 0x202000 && i.bss_end == 0x250000);
    memset(ram, 0xaa, RAM);
    image_load(&i, f, ram);
    CHECK(!memcmp(ram + 0x200000 + 0x20, f + 0x1020, 0x2000 - 0x20));

    /* Without the header an ELF needs an ELF loader. */
    memset(f + 0x1008, 0, 32);
    REFUSED(f, size, "ELF file without");
    /* A header beyond the first 8 KiB is not found. */
    header(f, 0x2000, MB_FLAGS, 0x200008, 0x200000, 0x201000, 0, 0x200000);
    REFUSED(f, size, "ELF file without");
    free(f);
}

static void test_refusals(void)
{
    size_t size = 0x3000;
    uint8_t *f = nimbos_like(size, 0x208000);
    header(f, 8, MB_FLAGS, 0x200008, 0x200000, 0x204000, 0x208000, 0x200000);
    REFUSED(f, size, "truncated");
    header(f, 8, MB_FLAGS, 0x200008, 0x200000, 0x203000, 0x2000000, 0x200000);
    REFUSED(f, size, "needs guest memory up to 0x2000000");
    header(f, 8, MB_FLAGS, 0xfffff008, 0xfffff000, 0xffffffff, 0, 0xfffff000);
    REFUSED(f, size, "needs guest memory up to 0xffffffff");
    header(f, 8, MB_FLAGS, 0x200008, 0x200000, 0x203000, 0x202000, 0x200000);
    REFUSED(f, size, "bss_end_addr 0x202000 is below");
    header(f, 8, MB_FLAGS, 0x200008, 0x200000, 0x200000, 0, 0x200000);
    REFUSED(f, size, "not above load_addr");
    header(f, 8, MB_FLAGS, 0x200008, 0x200000, 0x203000, 0, 0x203000);
    REFUSED(f, size, "entry point 0x203000 is outside");
    header(f, 8, MB_FLAGS, 0x9008, 0x9000, 0xa000, 0, 0x9000);
    REFUSED(f, size, "below 0x100000");
    header(f, 8, MB_FLAGS, 0x200000, 0x200008, 0x201000, 0, 0x200008);
    REFUSED(f, size, "before the start of the file");
    header(f, 8, MB_FLAGS, 0x200108, 0x200000, 0x201000, 0, 0x200000);
    REFUSED(f, size, "before the start of the file");
    header(f, 8, MB_FLAGS | MB1_FLAG_VIDEO, 0x200008, 0x200000, 0x203000, 0, 0x200000);
    REFUSED(f, size, "video mode");
    header(f, 8, MB_FLAGS | (1u << 5), 0x200008, 0x200000, 0x203000, 0, 0x200000);
    REFUSED(f, size, "features 0x20");
    header(f, 8, 0x2, 0x200008, 0x200000, 0x203000, 0, 0x200000);
    REFUSED(f, size, "without load addresses");
    /* A header whose magic, flags and checksum fit but whose kludge fields are cut off. */
    header(f, 8, MB_FLAGS, 0x200008, 0x200000, 0x203000, 0, 0x200000);
    REFUSED(f, 8 + 16, "cut off by the end of the file");
    free(f);
}

static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    *size = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *b = malloc(*size ? *size : 1);
    if (fread(b, 1, *size, fp) != *size)
        *size = 0;
    fclose(fp);
    return b;
}

/* tinyos's ELF and flat binary, as the build made them: both describe the same loaded bytes. */
static void test_real_files(const char *elf_path, const char *bin_path)
{
    size_t es, bs;
    uint8_t *elf = read_file(elf_path, &es), *bin = read_file(bin_path, &bs);
    struct image_info ei, bi;
    char why[200];
    CHECK(elf && bin);
    if (!elf || !bin)
        return;
    CHECK(parse(elf, es, &ei, why) == 0);
    CHECK(parse(bin, bs, &bi, why) == 0);
    CHECK(ei.format == IMAGE_MULTIBOOT && bi.format == IMAGE_MULTIBOOT);
    CHECK(ei.load_addr == 0x200000 && bi.load_addr == 0x200000 && ei.entry == 0x200000);
    CHECK(ei.load_end == bi.load_end && ei.bss_end == bi.bss_end && bi.file_offset == 0);
    CHECK(bi.load_end - bi.load_addr == bs);                  /* the flat file is exactly that */
    CHECK(!memcmp(elf + ei.file_offset, bin, bs));
    /* Every truncation that keeps the header is refused, never loaded short. */
    for (size_t cut = 20; cut < bs; cut += 997)
        REFUSED(bin, cut, cut < 40 ? "cut off" : "truncated");
    free(elf);
    free(bin);
}

/* Seeded mutation fuzz: flip bytes and words of valid images, cut them anywhere; whatever
 * parses must load inside RAM (ASan watches every byte image_load() touches). */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

static void test_fuzz(void)
{
    enum { SIZE = 0x3000, ROUNDS = 40000 };
    uint8_t *seed = nimbos_like(SIZE, 0x240000), *f = malloc(SIZE);
    size_t accepted = 0;
    for (int r = 0; r < ROUNDS; r++) {
        memcpy(f, seed, SIZE);
        int edits = 1 + (int)(next() % 4);
        for (int e = 0; e < edits; e++) {
            size_t at = next() % 48;                    /* mostly the header and around it */
            if (next() & 1)
                f[at] = (uint8_t)next();
            else if (at + 4 <= SIZE)
                put32(f + at, (uint32_t)(next() & 1 ? next() : next() % 0x1100000));
        }
        if (next() % 4 == 0) {                           /* keep the checksum right */
            uint32_t m = f[8] | f[9] << 8 | (uint32_t)f[10] << 16 | (uint32_t)f[11] << 24;
            uint32_t fl = f[12] | f[13] << 8 | (uint32_t)f[14] << 16 | (uint32_t)f[15] << 24;
            put32(f + 16, -(m + fl));
        }
        size_t size = next() % 3 ? SIZE : (size_t)(next() % SIZE);
        accepted += image_fuzz_one(f, size, ram, RAM) == 0;
    }
    CHECK(accepted > 0 && accepted < ROUNDS);
    free(seed);
    free(f);
}

int main(int argc, char **argv)
{
    ram = malloc(RAM);
    test_flat();
    test_multiboot_flat();
    test_multiboot_elf();
    test_refusals();
    if (argc == 3)
        test_real_files(argv[1], argv[2]);
    test_fuzz();
    free(ram);
    return CHECK_DONE();
}
