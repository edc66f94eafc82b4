/* main.c: chapter 05 kernel: the test guest (guests/exittest) under the exit dispatcher, with
 * a few emulated devices; the guest's reports and the hypervisor's counters become checkpoints. */
#include "exittest_host.h"
#include "guest_state.h"
#include "host_timer.h"
#include "kernel.h"
#include "mm.h"
#include "vmx_controls.h"
#include "vmx_exit.h"
#include "vmxon.h"

const char chapter_title[] = "Chapter 05: VM exits";

#define HOST_TICK_TSC 10000              /* the host's own timer period, in TSC ticks */
#define GUEST_MEM_MAX (1u << 20)         /* refuse images that want more */

/* guest_blob.S: the exittest image, built from guests/exittest. */
extern const uint8_t exittest_image[], exittest_image_end[];

/* ---- the guest's memory: hypervisor pages mapped by page tables the guest cannot see ---- */

#define PTE_P 1ull
#define PTE_W 2ull

static uint64_t *next_table(uint64_t *table, unsigned index)
{
    if (!(table[index] & PTE_P)) {
        void *page = page_alloc(1);
        if (!page)
            panic("out of memory for guest page tables");
        table[index] = virt_to_phys(page) | PTE_P | PTE_W;
    }
    return phys_to_virt(table[index] & ~0xfffull);
}

static uint64_t *pte_of(uint64_t *pml4, uint64_t va)
{
    uint64_t *pdpt = next_table(pml4, (va >> 39) & 511);
    uint64_t *pd = next_table(pdpt, (va >> 30) & 511);
    uint64_t *pt = next_table(pd, (va >> 21) & 511);
    return &pt[(va >> 12) & 511];
}

static void free_tables(uint64_t *table, int level)
{
    for (int i = 0; level > 1 && i < 512; i++)
        if (table[i] & PTE_P)
            free_tables(phys_to_virt(table[i] & ~0xfffull), level - 1);
    page_free(table, 1);
}

/*
 * Load the image at its link address (linear), backed by freshly allocated pages: its
 * file, then zeroed memory to mem_end. LAZY_STACK gets a page-table entry but no page:
 * the #PF handler below maps one on first touch. Without EPT the guest's "physical"
 * addresses are host-physical; these page tables, which the guest cannot reach, are
 * the only thing between it and the rest of memory (chapter 06 adds EPT).
 */
static bool load_guest(struct exittest *t, char *why, size_t why_size)
{
    struct guest_image img;
    if (guest_image_check(exittest_image, (size_t)(exittest_image_end - exittest_image),
                          GUEST_MEM_MAX, &img, why, why_size))
        return false;
    t->pages = (img.mem_end - img.load_addr) / PAGE_SIZE;
    t->mem = page_alloc(t->pages);
    t->pml4 = page_alloc(1);
    if (!t->mem || !t->pml4)
        panic("out of memory for the guest");
    memcpy(t->mem, exittest_image, img.file_size);
    for (size_t i = 0; i < t->pages; i++)
        *pte_of(t->pml4, img.load_addr + i * PAGE_SIZE) = virt_to_phys(t->mem + i * PAGE_SIZE) |
                                                          PTE_P | PTE_W;
    t->lazy_pte = pte_of(t->pml4, LAZY_STACK);
    t->entry = img.entry, t->stack_top = img.stack_top;
    return true;
}

static void unload_guest(struct exittest *t)
{
    if (t->lazy_page)
        page_free(t->lazy_page, 1);
    page_free(t->mem, t->pages);
    free_tables(t->pml4, 4);
}

/* ---- devices ---- */

/* The echo device at ECHO_PORT: OUT latches, IN returns latch ^ ECHO_XOR and counts up. */
static int echo(struct vm *vm, void *ctx, struct io_access *a)
{
    struct exittest *t = ctx;
    uint32_t mask = 0xffffffffu >> (32 - 8 * a->size);
    (void)vm;
    if (a->in) {
        a->value = (t->echo_latch ^ ECHO_XOR) & mask;
        t->echo_latch++;
    } else {
        t->echo_latch = a->value;
    }
    exittest_log_io(t, a);
    return 0;
}

/* IA32_APIC_BASE, emulated: base 0xfee00000, enabled, bootstrap processor; a write may move
 * the base (a page below 4 GiB here) and keeps bits 8 and 11. */
static int apic_base_read(struct vm *vm, void *ctx, uint32_t msr, uint64_t *value)
{
    struct exittest *t = ctx;
    (void)vm, (void)msr;
    *value = t->apic_base;
    return 0;
}

static int apic_base_write(struct vm *vm, void *ctx, uint32_t msr, uint64_t value)
{
    struct exittest *t = ctx;
    (void)vm, (void)msr;
    if (value & ~0xfffff900ull)
        return -1;                       /* reserved bits, x2APIC mode: #GP */
    t->apic_base = value;
    return 0;
}

/* #PF: LAZY_STACK gets its page now; any other fault is the guest's own business. */
static enum vcpu_action on_page_fault(struct vm *vm, const struct vm_exception *e)
{
    struct exittest *t = vm->user;
    if ((e->qualification & ~0xfffull) == LAZY_STACK && !t->lazy_page) {
        t->pf_vectoring = vm->ev.last_vectoring;
        t->lazy_page = page_alloc(1);
        if (!t->lazy_page)
            panic("out of memory for the lazy page");
        *t->lazy_pte = virt_to_phys(t->lazy_page) | PTE_P | PTE_W;
        t->lazy_faults++;
        return VCPU_RESUME;              /* retry: the interrupted delivery is re-injected */
    }
    vm_reflect_exception(vm, e);
    return VCPU_RESUME;
}

/* #BP and #UD: note what the exit said, then hand them back to the guest. */
static enum vcpu_action on_bp_ud(struct vm *vm, const struct vm_exception *e)
{
    struct exittest *t = vm->user;
    t->exc_type[e->vector == 3] = e->type;
    t->exc_len[e->vector == 3] = e->instruction_len;
    vm_reflect_exception(vm, e);
    return VCPU_RESUME;
}

/* ---- hypercalls ---- */

static long hc_hello(struct vm *vm, struct vm_hypercall *hc)
{
    struct exittest *t = vm->user;
    hc->ret[0] = t->seed, hc->ret[1] = t->mode, hc->ret[2] = HOST_TICK_TSC;
    return 0;
}

static long hc_report(struct vm *vm, struct vm_hypercall *hc)
{
    struct exittest *t = vm->user;
    uint64_t values[REPORT_MAX];
    struct guest_walk w;
    if (hc->arg[2] > REPORT_MAX || vm_read_guest(vm, hc->arg[1], values, hc->arg[2] * 8, &w))
        return HC_EINVAL;
    exittest_report(t, (int)hc->arg[0], values, (unsigned)hc->arg[2]);
    return 0;
}

static void timer_fired(struct vm *vm, void *ctx)
{
    struct exittest *t = ctx;
    vm_irq_raise(vm, t->timer_vector);
    if (--t->timer_left)
        vm_timer_arm(vm, rdtsc() + t->timer_delay, timer_fired, t);
}

static long hc_timer(struct vm *vm, struct vm_hypercall *hc)
{
    struct exittest *t = vm->user;
    if (hc->arg[0] < 32 || hc->arg[0] > 255 || !hc->arg[2])
        return HC_EINVAL;
    t->timer_vector = (uint8_t)hc->arg[0];
    t->timer_delay = hc->arg[1];
    t->timer_left = hc->arg[2];
    vm_timer_arm(vm, rdtsc() + t->timer_delay, timer_fired, t);
    return 0;
}

static long hc_done(struct vm *vm, struct vm_hypercall *hc)
{
    vm->stop_status = hc->arg[0];
    vm_stop(vm, VM_STOP_GUEST, "the guest is done (status %lu)", hc->arg[0]);
    return 0;
}

static long hc_nop(struct vm *vm, struct vm_hypercall *hc)
{
    (void)vm, (void)hc;
    return 0;
}

/* ---- one run of the guest ---- */

static void setup_vm(struct exittest *t)
{
    struct vm *vm = &t->vm;
    vm->user = t;
    vm_msr_passthrough_guest_state(vm);
    vm_msr_register(vm, MSR_EMULATED, 1, apic_base_read, apic_base_write, t, "IA32_APIC_BASE");
    vm_console_attach(vm, &t->console, "guest: ");
    vm_io_register(vm, ECHO_PORT, 4, echo, t, "echo");
    vm_io_passthrough(vm, POST_PORT, true);
    vm_set_exit_handler(vm, EXIT_REASON_CR_ACCESS, exittest_cr_access);
    vm_intercept_exception(vm, 3, on_bp_ud);
    vm_intercept_exception(vm, 6, on_bp_ud);
    vm_intercept_exception(vm, 14, on_page_fault);
    vm_hypercall_register(vm, HC_HELLO, hc_hello, "hello");
    vm_hypercall_register(vm, HC_REPORT, hc_report, "report");
    vm_hypercall_register(vm, HC_TIMER, hc_timer, "timer");
    vm_hypercall_register(vm, HC_DONE, hc_done, "done");
    vm_hypercall_register(vm, HC_NOP, hc_nop, "nop");
}

static bool run_exittest(const struct vmx_caps *caps, unsigned mode)
{
    static struct exittest t;
    struct vcpu_config config;
    char why[120];
    memset(&t, 0, sizeof(t));
    t.seed = run_seed(), t.mode = mode, t.apic_base = 0xfee00900;
    if (!load_guest(&t, why, sizeof(why))) {
        kprintf("the guest image is refused: %s\n", why);
        return false;
    }
    vm_default_config(&config);
    if (vm_create(&t.vm, caps, &config))
        panic("vm_create: %s", t.vm.vcpu.error);
    guest_state_long_mode(&t.vm.vcpu, virt_to_phys(t.pml4), t.entry, t.stack_top);
    setup_vm(&t);
    if (mode == MODE_TESTS)
        exittest_report_controls(&t, &config);
    kprintf("exittest, mode %u: entry 0x%lx, %zu pages, timer backend %s\n", mode, t.entry,
            t.pages, vm_timer_backend_name(&t.vm));
    enum vm_stop_kind stop = vm_run(&t.vm);
    kprintf("exittest, mode %u: %s: %s\n", mode, vm_stop_kind_name(stop), t.vm.stop_why);
    if (stop == VM_STOP_GUEST)              /* a stop report has shown them already */
        vm_print_exit_counts(&t.vm);
    bool ok = exittest_finish(&t, stop);
    vm_destroy(&t.vm);
    unload_guest(&t);
    return ok;
}

int chapter_main(void)
{
    if (!cpu_has_vmx())
        skip_chapter("CPUID.1:ECX.VMX = 0: no VMX on this CPU");
    struct vmx_caps caps;
    struct vmx_root root;
    if (vmx_caps_read(&caps))
        panic("reading the VMX capability MSRs faulted");
    vmx_enable(&caps, &root);
    size_t free_before = mm_free_pages();
    if (!host_timer_start(HOST_TICK_TSC))
        kprintf("no local APIC timer: the host has no tick of its own\n");
    kprintf("host timer: vector 0x%x every %lu TSC ticks (%u LAPIC counts)\n", HOST_TIMER_VECTOR,
            host_timer()->period_tsc, host_timer()->initial_count);

    bool ok = run_exittest(&caps, MODE_TESTS);
    ok &= run_exittest(&caps, MODE_UNHANDLED);
    ok &= run_exittest(&caps, MODE_TRIPLE_FAULT);
    if (cmdline_get_u64("bench", 0)) {
        host_timer_stop();               /* no host ticks inside the measured loops */
        ok &= run_exittest(&caps, MODE_BENCH);
    }
    host_timer_stop();
    checkpoint("survived", "runs=%d pages_leaked=%ld host_ticks=%lu", 3,
               (long)free_before - (long)mm_free_pages(), host_timer()->ticks);
    vmx_disable(&root);
    kprintf("VMXOFF. %s\n", ok ? "Every guest run ended as expected." :
            "A guest run did not end as expected.");
    return ok ? STATUS_OK : STATUS_FAIL;
}
