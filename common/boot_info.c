/* boot_info.c: reads the multiboot v1 information structure (multiboot spec 3.3)
 * into struct boot_info, and looks up "key=value" words on the command line. */
#include "boot.h"

#include "kernel.h"

#define MB_LOADER_MAGIC 0x2BADB002
#define MB_INFO_MEM (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MODS (1u << 3)
#define MB_INFO_MMAP (1u << 6)
#define E820_RAM 1

struct __attribute__((packed)) mb_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
};
struct __attribute__((packed)) mb_mmap_entry {
    uint32_t size;
    uint64_t base, length;
    uint32_t type;
};
struct __attribute__((packed)) mb_module {
    uint32_t start, end, string, reserved;
};

struct boot_info boot_info;
extern char kernel_start[], kernel_end[];
static const char empty_cmdline[] = "";

/* The RAM region that contains the kernel ends where our allocator must stop. */
static uint64_t ram_end_from_mmap(const struct mb_info *mb)
{
    uint64_t end = 0;
    uint32_t off = 0;
    while (off + sizeof(struct mb_mmap_entry) <= mb->mmap_length) {
        const struct mb_mmap_entry *e = (const void *)(uint64_t)(mb->mmap_addr + off);
        if (e->type == E820_RAM && e->base <= (uint64_t)kernel_start &&
            e->base + e->length > (uint64_t)kernel_start)
            end = e->base + e->length;
        off += e->size + sizeof(e->size);
    }
    return end;
}

static void read_modules(const struct mb_info *mb)
{
    const struct mb_module *m = (const void *)(uint64_t)mb->mods_addr;
    for (uint32_t i = 0; i < mb->mods_count; i++) {
        if (boot_info.module_count == MAX_BOOT_MODULES)
            panic("more than %d boot modules", MAX_BOOT_MODULES);
        boot_info.modules[boot_info.module_count++] = (struct boot_module){
            .start = m[i].start, .end = m[i].end,
            .name = m[i].string ? (const char *)(uint64_t)m[i].string : "",
        };
        if (m[i].end > boot_info.free_start)
            boot_info.free_start = ALIGN_UP(m[i].end, PAGE_SIZE);
    }
}

void boot_info_init(uint32_t magic, uint32_t info_addr)
{
    if (magic != MB_LOADER_MAGIC)
        panic("not started by a multiboot loader (EAX=0x%x, want 0x%x)", magic, MB_LOADER_MAGIC);
    const struct mb_info *mb = (const void *)(uint64_t)info_addr;
    boot_info.cmdline = (mb->flags & MB_INFO_CMDLINE) ? (const char *)(uint64_t)mb->cmdline
                                                      : empty_cmdline;
    boot_info.free_start = ALIGN_UP((uint64_t)kernel_end, PAGE_SIZE);
    if (mb->flags & MB_INFO_MMAP)
        boot_info.ram_end = ram_end_from_mmap(mb);
    if (!boot_info.ram_end && (mb->flags & MB_INFO_MEM))
        boot_info.ram_end = 0x100000 + (uint64_t)mb->mem_upper * 1024;
    if (!boot_info.ram_end)
        panic("the loader gave no memory size");
    if (boot_info.ram_end > (4ull << 30))
        boot_info.ram_end = 4ull << 30;          /* the identity map covers 4 GiB */
    if (mb->flags & MB_INFO_MODS)
        read_modules(mb);
}

bool cmdline_get(const char *key, char *buf, size_t size)
{
    size_t klen = strlen(key);
    for (const char *p = boot_info.cmdline; *p;) {
        while (*p == ' ')
            p++;
        const char *word = p;
        while (*p && *p != ' ')
            p++;
        if ((size_t)(p - word) > klen && !strncmp(word, key, klen) && word[klen] == '=') {
            size_t n = 0;
            for (const char *v = word + klen + 1; v < p && n + 1 < size; v++)
                buf[n++] = *v;
            if (size)
                buf[n] = '\0';
            return true;
        }
    }
    return false;
}

uint64_t cmdline_get_u64(const char *key, uint64_t fallback)
{
    char buf[24];
    if (!cmdline_get(key, buf, sizeof(buf)))
        return fallback;
    uint64_t v = 0;
    const char *p = buf;
    unsigned base = 10;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    for (; *p; p++) {
        unsigned d = (*p >= '0' && *p <= '9') ? (unsigned)(*p - '0')
                   : (*p >= 'a' && *p <= 'f') ? (unsigned)(*p - 'a' + 10)
                   : (*p >= 'A' && *p <= 'F') ? (unsigned)(*p - 'A' + 10) : 99;
        if (d >= base)
            return fallback;
        v = v * base + d;
    }
    return v;
}
