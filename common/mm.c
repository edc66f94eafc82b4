/* mm.c: a bitmap allocator of 4 KiB physical pages between the end of the kernel
 * (and its boot modules) and the end of RAM. Small and easy to check. */
#include "mm.h"

#include "kernel.h"

#define MAX_PAGES (1ul << 18)                 /* 1 GiB of allocatable RAM */

/*
 *   0x000000 .. 0x0FFFFF   low memory: multiboot info, unused
 *   0x100000 .. kernel_end kernel image (text, data, bss, boot stack)
 *   .. free_start          boot modules (guest images), page aligned
 *   free_start .. ram_end  page_alloc() hands these out
 */
static uint64_t bitmap[MAX_PAGES / 64];       /* bit set = page in use */
static uint64_t pool_start;
static size_t pool_pages, free_pages;

static bool in_use(size_t i) { return bitmap[i / 64] & (1ull << (i % 64)); }
static void set_used(size_t i) { bitmap[i / 64] |= 1ull << (i % 64); }
static void set_free(size_t i) { bitmap[i / 64] &= ~(1ull << (i % 64)); }

void mm_init(void)
{
    pool_start = boot_info.free_start;
    if (boot_info.ram_end <= pool_start)
        panic("no RAM after the kernel (ram_end 0x%lx)", boot_info.ram_end);
    pool_pages = (boot_info.ram_end - pool_start) / PAGE_SIZE;
    if (pool_pages > MAX_PAGES)
        pool_pages = MAX_PAGES;
    free_pages = pool_pages;
}

void *page_alloc_aligned(size_t npages, size_t align)
{
    size_t step = align > PAGE_SIZE ? align / PAGE_SIZE : 1;
    /* The first index whose physical address is aligned. */
    size_t first = (ALIGN_UP(pool_start, step * PAGE_SIZE) - pool_start) / PAGE_SIZE;
    for (size_t i = first; i + npages <= pool_pages; i += step) {
        size_t n = 0;
        while (n < npages && !in_use(i + n))
            n++;
        if (n < npages)
            continue;
        for (n = 0; n < npages; n++)
            set_used(i + n);
        free_pages -= npages;
        void *p = phys_to_virt(pool_start + i * PAGE_SIZE);
        memset(p, 0, npages * PAGE_SIZE);
        return p;
    }
    return 0;
}

void *page_alloc(size_t npages)
{
    return page_alloc_aligned(npages, PAGE_SIZE);
}

void page_free(void *page, size_t npages)
{
    uint64_t pa = virt_to_phys(page);
    if (pa < pool_start || !IS_ALIGNED(pa, PAGE_SIZE))
        panic("0x%lx is not a page from page_alloc", pa);
    size_t first = (pa - pool_start) / PAGE_SIZE;
    for (size_t i = first; i < first + npages; i++) {
        if (i >= pool_pages || !in_use(i))
            panic("double free or bad size at 0x%lx", pool_start + i * PAGE_SIZE);
        set_free(i);
    }
    free_pages += npages;
}

int page_reserve(uint64_t pa, size_t npages)
{
    if (!IS_ALIGNED(pa, PAGE_SIZE) || pa < pool_start || pa + npages * PAGE_SIZE > boot_info.ram_end)
        return -1;
    size_t first = (pa - pool_start) / PAGE_SIZE;
    for (size_t i = first; i < first + npages && i < pool_pages; i++)
        if (in_use(i))
            return -1;
    for (size_t i = first; i < first + npages && i < pool_pages; i++, free_pages--)
        set_used(i);
    return 0;
}

size_t mm_free_pages(void)
{
    return free_pages;
}
