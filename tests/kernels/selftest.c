/* selftest.c: a test kernel for common/ itself: the page allocator, fault recovery,
 * and the fatal paths (exception report, panic, backtrace) chosen by "case=" on the cmdline. */
#include "kernel.h"
#include "mm.h"
#include "trap.h"

const char chapter_title[] = "common/ self-test";

static void test_allocator(void)
{
    size_t before = mm_free_pages();
    uint8_t *a = page_alloc(1), *b = page_alloc(3);
    uint8_t *big = page_alloc_aligned(512, 2 << 20);
    int zeroed = a && b && big && a[0] == 0 && b[3 * 4096 - 1] == 0 && big[4095] == 0;
    checkpoint("alloc", "distinct=%d aligned_4k=%d aligned_2m=%d zeroed=%d used=%zu",
               a != b && b != big && a != big, IS_ALIGNED(a, 4096) && IS_ALIGNED(b, 4096),
               IS_ALIGNED(big, 2 << 20), zeroed, before - mm_free_pages());
    page_free(a, 1);
    page_free(b, 3);
    page_free(big, 512);
    void *huge = page_alloc(before + 1);
    checkpoint("alloc-free", "restored=%d too_big_is_null=%d", mm_free_pages() == before, huge == 0);
}

static void test_fault_recovery(void)
{
    uint64_t v;
    int absent = rdmsr_safe(0xdeadbeef, &v);
    int efer_reserved = wrmsr_safe(MSR_EFER, rdmsr(MSR_EFER) | (1ull << 63));
    int cr4_reserved = write_cr4_safe(read_cr4() | (1ull << 63));
    int ok = rdmsr_safe(MSR_EFER, &v);
    checkpoint("safe", "absent_msr=%d efer_reserved=%d cr4_reserved=%d efer_ok=%d lma=%d", absent,
               efer_reserved, cr4_reserved, ok, (int)!!(v & EFER_LMA));
}

static void test_printf(void)
{
    char buf[64];
    ksnprintf(buf, sizeof(buf), "%05d|%-4x|%3s|%lx", 42, 0xab, "ok", 0x123456789abcdefUL);
    for (char *p = buf; *p; p++)
        if (*p == ' ')
            *p = '_';                     /* checkpoint values have no spaces */
    checkpoint("printf", "text=%s", buf);
}

/* Deeper frames, so the backtrace has something to show. */
static __attribute__((noinline)) void crash_with(const char *what)
{
    if (!strcmp(what, "ud"))
        asm volatile("ud2");
    if (!strcmp(what, "pf"))
        *(volatile uint64_t *)0x200000000ull = 1;        /* beyond the 4 GiB identity map */
    if (!strcmp(what, "panic"))
        panic("deliberate panic, value 0x%x", 0x2b);
    if (!strcmp(what, "hang"))
        for (;;)
            hlt();
}

int chapter_main(void)
{
    char which[16] = "";
    cmdline_get("case", which, sizeof(which));
    if (!strcmp(which, "basic")) {
        test_allocator();
        test_fault_recovery();
        test_printf();
        return STATUS_OK;
    }
    crash_with(which);
    kprintf("selftest: unknown case '%s'\n", which);
    return STATUS_FAIL;
}
