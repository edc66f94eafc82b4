/* mm.h: the physical page allocator. The kernel identity-maps 0-4 GiB, so a
 * page's address is also its physical address; VMX structures need physical ones. */
#ifndef MM_H
#define MM_H

#include <stddef.h>
#include <stdint.h>

void mm_init(void);
void *page_alloc(size_t npages);                        /* zeroed; NULL when out of memory */
void *page_alloc_aligned(size_t npages, size_t align);  /* align: bytes, a power of two */
void page_free(void *page, size_t npages);
size_t mm_free_pages(void);
/* Claim the RAM pages [pa, pa + npages pages) for good, for memory that must sit at a
 * given address (a 1 GiB guest page at a 1 GiB boundary). Pages beyond the allocator's
 * pool are RAM nobody hands out. Not zeroed. Returns 0, or -1 if a page is in use or
 * not RAM. */
int page_reserve(uint64_t pa, size_t npages);

static inline uint64_t virt_to_phys(const void *p) { return (uint64_t)p; }
static inline void *phys_to_virt(uint64_t pa) { return (void *)pa; }

#endif
