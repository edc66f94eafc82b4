/* fuzz_guest_walk.c: libFuzzer target for chapter 05's software walk of the guest's page tables,
 * which the hypervisor runs over tables the guest wrote: any registers, any entries, any address. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "guest_walk.h"

/*
 * Input: CR0, CR3, CR4, EFER, the linear address (8 bytes each), the access kind and CPL
 * (1 byte each), then the guest's physical memory (at most 64 KiB). Memory repeats every
 * "size" bytes so that entries with any address lead somewhere; a zero-length memory has
 * no RAM at all. Invariants: an answer in bounded steps (at most 4 entries read, 2 with
 * 32-bit paging), a page size the mode allows, the offset inside the page kept, a #PF
 * error code that names the access, and permissions that only shrink: whatever a write
 * or a fetch may do at some address, a read may do too, to the same place.
 */
struct mem {
    const uint8_t *bytes;
    size_t size;
    unsigned reads;
};

static bool read_mem(void *ctx, uint64_t gpa, uint64_t *value)
{
    struct mem *m = ctx;
    m->reads++;
    FUZZ_ASSERT((gpa & 7) == 0);
    if (m->size < 8)
        return false;
    size_t at = (size_t)(gpa % (m->size & ~(size_t)7));
    memcpy(value, m->bytes + at, 8);
    return true;
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 42)
        return 0;
    struct guest_paging p = {le64(data), le64(data + 8), le64(data + 16), le64(data + 24), data[41] & 3};
    uint64_t la = le64(data + 32);
    uint32_t access = data[40] & (PFERR_WRITE | PFERR_FETCH);
    size_t n = size - 42 > 65536 ? 65536 : size - 42;
    uint8_t *bytes = malloc(n ? n : 1);
    memcpy(bytes, data + 42, n);
    struct mem m = {bytes, n, 0};
    struct guest_walk w, r;
    bool ok = guest_walk(&p, la, access, read_mem, &m, &w);
    FUZZ_ASSERT(m.reads <= 4 && w.levels == m.reads);
    if (ok) {
        FUZZ_ASSERT(w.status == GUEST_WALK_OK);
        FUZZ_ASSERT(w.page_size == 4096 || w.page_size == (2u << 20) || w.page_size == (4u << 20) ||
                    w.page_size == (1u << 30));
        FUZZ_ASSERT((w.gpa & (w.page_size - 1)) == (la & (w.page_size - 1)));
        FUZZ_ASSERT(w.gpa >> 52 == 0);
        struct mem m2 = {bytes, n, 0};
        FUZZ_ASSERT(guest_walk(&p, la, 0, read_mem, &m2, &r) && r.gpa == w.gpa);
    } else if (w.status == GUEST_WALK_FAULT) {
        uint32_t expect = access | (p.cpl == 3 ? PFERR_USER : 0);
        FUZZ_ASSERT((w.error_code & ~PFERR_PRESENT) == expect);
    } else {
        FUZZ_ASSERT(w.status == GUEST_WALK_NO_RAM && n < 8);
    }
    free(bytes);
    return 0;
}
