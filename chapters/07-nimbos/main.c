/* main.c: chapter 07 kernel: the hypervisor that boots a NimbOS-like guest from a boot module on
 * the virtual platform, types its console script, and reports how the guest ended. */
#include "host_timer.h"
#include "kernel.h"
#include "mm.h"
#include "platform.h"
#include "vmx_controls.h"
#include "vmxon.h"

const char chapter_title[] = "Chapter 07: a hypervisor that boots NimbOS";

#define HOST_TICK_TSC 10000      /* the host's own tick, only without a preemption timer */

/* The command line (docs/07-nimbos.md): mem=MiB x2apic=0|1 tsc_khz=N start=real|protected. */
static void read_options(struct platform_options *o)
{
    char start[16];
    o->ram_size = cmdline_get_u64("mem", 16) << 20;
    o->x2apic = cmdline_get_u64("x2apic", 1) != 0;
    o->tsc_khz = cmdline_get_u64("tsc_khz", 0);
    o->tsc_stated = o->tsc_khz != 0;
    o->force_protected = cmdline_get("start", start, sizeof(start)) && !strcmp(start, "protected");
}

/* The guest image is the module named "guest" (or the first one not named "input"). */
static const struct boot_module *find_module(const char *name, bool any)
{
    for (int i = 0; i < boot_info.module_count; i++) {
        const struct boot_module *m = &boot_info.modules[i];
        if (!strcmp(m->name, name) || (any && strcmp(m->name, "input")))
            return m;
    }
    return NULL;
}

static int run_guest(const struct vmx_caps *caps, struct platform_options *opt)
{
    static struct platform p;
    char why[200];
    const struct boot_module *image = find_module("guest", false), *input = find_module("input", false);
    if (!image)
        image = find_module("guest", true);
    if (!image) {
        kprintf("no guest image: give one as a boot module named \"guest\" (tools/runner.py "
                "--module FILE=guest)\n");
        return STATUS_FAIL;
    }
    if (platform_create(&p, caps, opt, why, sizeof(why)) ||
        platform_load(&p, phys_to_virt(image->start), image->end - image->start, why, sizeof(why)) ||
        (input && platform_set_script(&p, phys_to_virt(input->start), input->end - input->start,
                                      why, sizeof(why)))) {
        kprintf("the guest cannot run: %s\n", why);
        checkpoint("guest-refused", "launched=%d exits=%lu", p.vm.vcpu.launched, p.vm.exits);
        return STATUS_FAIL;
    }
    kprintf("guest \"%s\": %s image, 0x%lx..0x%lx loaded, BSS to 0x%lx, entry 0x%lx\n", image->name,
            p.image.format == IMAGE_MULTIBOOT ? "multiboot (a.out kludge)" : "flat", p.image.load_addr,
            p.image.load_end, p.image.bss_end, p.image.entry);
    kprintf("platform: %lu MiB RAM, start in %s, %s offered, TSC %lu kHz (%s), timer: %s%s\n",
            p.ram_size >> 20, p.start == START_REAL_MODE_STUB ? "real mode (stub at 0x8000)" :
            "32-bit protected mode", opt->x2apic ? "x2APIC" : "xAPIC only", opt->tsc_khz,
            opt->tsc_stated ? "stated" : "measured", vm_timer_backend_name(&p.vm),
            input ? ", console script given" : "");
    kprintf("---- guest console (TSC %lu) ----\n", rdtsc());
    if (p.vm.timer.backend == VM_TIMER_HOST_TICK && !host_timer_start(HOST_TICK_TSC))
        kprintf("no preemption timer and no host LAPIC timer: guest timers fire only on exits\n");
    platform_run(&p);
    host_timer_stop();
    kprintf("---- guest stopped ----\n");
    platform_report(&p);
    int status = (p.powered_off || p.script_stop) && p.guest_status == 0 ? STATUS_OK : STATUS_FAIL;
    platform_destroy(&p);
    return status;
}

int chapter_main(void)
{
    struct vmx_caps caps;
    struct vmx_root root;
    struct platform_options opt;
    if (!cpu_has_vmx())
        skip_chapter("CPUID.1:ECX.VMX = 0: no VMX on this CPU");
    if (vmx_caps_read(&caps))
        panic("reading the VMX capability MSRs faulted");
    if (!caps.has_procbased2 || !(CTL_MAY_BE_1(caps.procbased2) & SECONDARY_EXEC_ENABLE_EPT))
        skip_chapter("no EPT on this CPU: the guest's memory could not be fenced off "
                     "(chapter 06), so chapter 07 does not run here");
    read_options(&opt);
    if (!opt.tsc_khz && !(opt.tsc_khz = tsc_measure_khz()))
        panic("the TSC rate could not be measured (no PIT?): give tsc_khz= on the command line");
    vmx_enable(&caps, &root);
    int status = run_guest(&caps, &opt);
    vmx_disable(&root);
    return status;
}
