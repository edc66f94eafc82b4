/* main.c: chapter 06 kernel: the test guest (guests/eptest) in its own guest-physical memory
 * behind EPT: RAM, a virtual device, memory allocated on first touch, probes outside its RAM. */
#include "ept_vmx.h"
#include "eptest_host.h"
#include "guest_state.h"
#include "host_timer.h"
#include "kernel.h"
#include "mm.h"
#include "vmx_controls.h"
#include "vmx_exit.h"
#include "vmxon.h"

const char chapter_title[] = "Chapter 06: EPT";

extern const uint8_t eptest_image[], eptest_image_end[];
extern char kernel_start[];

#define HOST_TICK_TSC 10000
#define GIB (1ull << 30)

/* ---- devices ---- */

/* The device page: 64 bytes of registers (reads give back what was written ^ DEVICE_XOR),
 * then the identity register. Every access arrives here decoded. */
static int device(struct vm *vm, void *ctx, struct mmio_access *a)
{
    struct eptest *t = ctx;
    (void)vm;
    eptest_log_mmio(t, a);
    for (unsigned i = 0; i < a->size; i++) {
        uint64_t off = a->offset + i;
        uint8_t byte;
        if (a->write) {
            if (off < sizeof(t->regs))
                t->regs[off] = (uint8_t)(a->value >> (8 * i));
            continue;
        }
        if (off < sizeof(t->regs))
            byte = t->regs[off] ^ (uint8_t)(DEVICE_XOR >> (8 * (off % 8)));
        else if (off < sizeof(t->regs) + 8)
            byte = (uint8_t)(DEVICE_ID >> (8 * (off - sizeof(t->regs))));
        else
            byte = 0;
        a->value |= (uint64_t)byte << (8 * i);
    }
    return 0;
}

/* The status page: the guest reads it directly; a write to offset 8 lands here. */
static int status_write(struct vm *vm, void *ctx, struct mmio_access *a)
{
    struct eptest *t = ctx;
    (void)vm;
    t->status_writes++;
    if (!a->write || a->offset != 8)
        return -1;
    t->status[1] = a->value * 3;
    return 0;
}

/* ---- hypercalls ---- */

static long hc_hello(struct vm *vm, struct vm_hypercall *hc)
{
    struct eptest *t = vm->user;
    hc->ret[0] = t->seed, hc->ret[1] = t->mode, hc->ret[2] = t->high_ram ? FLAG_HIGH_RAM : 0;
    return 0;
}

static long hc_targets(struct vm *vm, struct vm_hypercall *hc)
{
    struct eptest *t = vm->user;
    hc->ret[0] = virt_to_phys(t->canary), hc->ret[1] = virt_to_phys(kernel_start);
    return 0;
}

static long hc_report(struct vm *vm, struct vm_hypercall *hc)
{
    uint64_t values[REPORT_MAX];
    struct guest_walk w;
    if (hc->arg[2] > REPORT_MAX || vm_read_guest(vm, hc->arg[1], values, hc->arg[2] * 8, &w))
        return HC_EINVAL;
    eptest_report(vm->user, (int)hc->arg[0], values, (unsigned)hc->arg[2]);
    return 0;
}

static void timer_fired(struct vm *vm, void *ctx)
{
    vm_irq_raise(vm, ((struct eptest *)ctx)->timer_vector);
}

static long hc_timer(struct vm *vm, struct vm_hypercall *hc)
{
    struct eptest *t = vm->user;
    if (hc->arg[0] < 32 || hc->arg[0] > 255)
        return HC_EINVAL;
    t->timer_vector = (uint8_t)hc->arg[0];
    vm_timer_arm(vm, rdtsc() + hc->arg[1], timer_fired, t);
    return 0;
}

static long hc_done(struct vm *vm, struct vm_hypercall *hc)
{
    vm->stop_status = hc->arg[0];
    vm_stop(vm, VM_STOP_GUEST, "the guest is done (status %lu)", hc->arg[0]);
    return 0;
}

/* ---- the guest's memory ---- */

/* The guest's own page tables, in its RAM at PT_BASE: 0-4 GiB identity-mapped, 2 MiB pages. */
static void build_guest_paging(struct guest_memory *m)
{
    uint64_t *pml4 = gmem_hva(m, PT_BASE), *pdpt = gmem_hva(m, PT_BASE + 0x1000);
    pml4[0] = (PT_BASE + 0x1000) | 3;
    for (uint64_t i = 0; i < 4; i++) {
        uint64_t *pd = gmem_hva(m, PT_BASE + 0x2000 + i * 0x1000);
        pdpt[i] = (PT_BASE + 0x2000 + i * 0x1000) | 3;
        for (uint64_t k = 0; k < 512; k++)
            pd[k] = (i * GIB + k * (2ull << 20)) | 0x83;      /* present, writable, 2 MiB */
    }
}

static bool build_memory(struct eptest *t, const struct vmx_caps *caps, struct guest_image *img)
{
    struct guest_memory *m = &t->mem;
    char why[120];
    if (gmem_init(m, caps) || gmem_add_ram(m, 0, RAM_SIZE, "RAM") ||
        gmem_add_lazy(m, LAZY_BASE, 16 * PAGE_SIZE, "lazy RAM") ||
        gmem_add_mmio(m, DEVICE_GPA, PAGE_SIZE, device, t, "device") ||
        gmem_add_mmio_page(m, STATUS_GPA, t->status, status_write, t, "device status"))
        panic("building the guest's memory map failed");
    if (t->high_ram && gmem_add_ram_at(m, HIGH_RAM, HIGH_RAM, GIB, "high RAM"))
        panic("mapping the high RAM failed");
    /* MODE_MISCONFIG: an entry no CPU accepts, write without read (SDM Vol. 3C, 28.2.3.1). */
    if (t->mode == MODE_MISCONFIG && ept_map(&m->ept, MISCONFIG_GPA, virt_to_phys(t->status),
                                             PAGE_SIZE, EPT_WRITE, EPT_MT_WB))
        panic("mapping the misconfigured page failed");
    if (guest_image_check(eptest_image, (size_t)(eptest_image_end - eptest_image), RAM_SIZE, img, why,
                    sizeof(why)) || img->load_addr < PT_BASE + 0x7000 || img->mem_end > RAM_SIZE) {
        kprintf("the guest image is refused: %s\n", why);
        return false;
    }
    memcpy(gmem_hva(m, img->load_addr), eptest_image, img->file_size);
    build_guest_paging(m);
    return true;
}

static bool run_eptest(const struct vmx_caps *caps, unsigned mode, bool high_ram)
{
    static struct eptest t;
    struct vcpu_config config;
    struct guest_image img;
    memset(&t, 0, sizeof(t));
    t.seed = run_seed(), t.mode = mode, t.high_ram = high_ram;
    t.status = page_alloc(1);
    if (!t.status || !build_memory(&t, caps, &img))
        panic("building the guest's memory failed");
    t.status[0] = t.seed ^ STATUS_KEY;
    /* A page of ours the guest will aim at, at a host-physical address that is no RAM and
     * no device in the guest's map (16 MiB aligned: above its RAM and lazy pages). */
    t.canary = page_alloc_aligned(1, 16u << 20);
    if (!t.canary)
        panic("out of memory");
    for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
        t.canary[i] = t.seed * (i + 7);
    vm_default_config(&config);
    gmem_config(&config);
    if (vm_create(&t.vm, caps, &config))
        panic("vm_create: %s", t.vm.vcpu.error);
    t.vm.user = &t;
    guest_state_long_mode(&t.vm.vcpu, PT_BASE, img.entry, img.stack_top);
    gmem_attach(&t.mem, &t.vm);
    vm_console_attach(&t.vm, &t.console, "guest: ");
    vm_hypercall_register(&t.vm, HC_HELLO, hc_hello, "hello");
    vm_hypercall_register(&t.vm, HC_TARGETS, hc_targets, "targets");
    vm_hypercall_register(&t.vm, HC_REPORT, hc_report, "report");
    vm_hypercall_register(&t.vm, HC_TIMER, hc_timer, "timer");
    vm_hypercall_register(&t.vm, HC_DONE, hc_done, "done");
    vm_set_exit_handler(&t.vm, EXIT_REASON_EPT_VIOLATION, eptest_violation);
    if (mode == MODE_TESTS)
        gmem_print(&t.mem);
    eptest_before(&t);
    enum vm_stop_kind stop = vm_run(&t.vm);
    kprintf("eptest, mode %u: %s: %s\n", mode, vm_stop_kind_name(stop), t.vm.stop_why);
    if (stop == VM_STOP_GUEST)              /* a stop report has shown them already */
        vm_print_exit_counts(&t.vm);
    bool ok = eptest_finish(&t, stop);
    vm_destroy(&t.vm);
    gmem_destroy(&t.mem);
    page_free(t.canary, 1);
    page_free(t.status, 1);
    return ok;
}

/* 1 GiB of RAM at a 1 GiB boundary for a 1 GiB EPT page, if this machine has 2 GiB of RAM
 * (the test runs ask Bochs for it). The allocator's pool ends near 1 GiB; nothing there has
 * been written since power-on, so it holds no host data. */
static bool reserve_high_ram(void)
{
    if (boot_info.ram_end < 2 * GIB || page_reserve(GIB, GIB / PAGE_SIZE)) {
        kprintf("no 1 GiB of RAM at 1 GiB (RAM ends at 0x%lx): the guest gets 4 MiB only\n",
                boot_info.ram_end);
        return false;
    }
    return true;
}

int chapter_main(void)
{
    if (!cpu_has_vmx())
        skip_chapter("CPUID.1:ECX.VMX = 0: no VMX on this CPU");
    struct vmx_caps caps;
    struct vmx_root root;
    if (vmx_caps_read(&caps))
        panic("reading the VMX capability MSRs faulted");
    if (!caps.has_ept_vpid || !(CTL_MAY_BE_1(caps.procbased2) & SECONDARY_EXEC_ENABLE_EPT))
        skip_chapter("no EPT: IA32_VMX_PROCBASED_CTLS2 does not allow \"enable EPT\" (bit 1)");
    vmx_enable(&caps, &root);
    host_timer_start(HOST_TICK_TSC);
    bool high_ram = reserve_high_ram();
    size_t free_before = mm_free_pages();
    bool ok = run_eptest(&caps, MODE_TESTS, high_ram);
    ok &= run_eptest(&caps, MODE_MISCONFIG, false);
    ok &= run_eptest(&caps, MODE_REFUSE, false);
    host_timer_stop();
    checkpoint("survived", "runs=3 pages_leaked=%ld", (long)free_before - (long)mm_free_pages());
    vmx_disable(&root);
    kprintf("VMXOFF. %s\n", ok ? "Every guest run ended as expected." :
            "A guest run did not end as expected.");
    return ok ? STATUS_OK : STATUS_FAIL;
}
