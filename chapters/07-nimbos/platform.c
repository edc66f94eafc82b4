/* platform.c: building the virtual PC on chapter 05's VM: the controls it needs, CPUID as this
 * platform really is, the MSRs the guest owns, loading the guest, running it, the final report. */
#include "exercise.h"
#include "guest_boot.h"
#include "kernel.h"
#include "mm.h"
#include "platform.h"
#include "vmx_controls.h"
#include "vmx_exit.h"

/* CPUID bits this platform changes (SDM Vol. 2A, CPUID, Tables 3-8 to 3-11). */
#define CPUID_1_ECX_MONITOR      (1u << 3)     /* MWAIT would really sleep: not offered */
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)    /* the LAPIC model has no TSC-deadline mode */
#define CPUID_1_ECX_XSAVE        (1u << 26)    /* XSETBV exits and is not emulated */
#define CPUID_1_ECX_OSXSAVE      (1u << 27)
#define CPUID_1_ECX_AVX          (1u << 28)
#define CPUID_1_EDX_HTT          (1u << 28)
#define CPUID_7_EBX_INVPCID      (1u << 10)    /* #UD without "enable INVPCID" */
#define CPUID_80000001_EDX_NX    (1u << 20)
#define CPUID_80000001_EDX_1G    (1u << 26)
#define CPUID_80000001_EDX_RDTSCP (1u << 27)   /* #UD without "enable RDTSCP" */

/*
 * CPUID as the guest sees it, after chapter 05's view (no VMX, a hypervisor present):
 * x2APIC as the emulated local APIC offers it (x2apic=0 hides it), no feature this
 * platform does not emulate or enable, one logical processor with APIC ID 0, and leaf
 * 0x16 with the TSC rate when the rate is stated rather than measured. 1 GiB pages and
 * NX stay as the host has them: the guest's page tables are walked by the real MMU.
 */
static void cpuid_filter(struct vm *vm, void *ctx, uint32_t leaf, uint32_t subleaf,
                         struct cpuid_regs *r)
{
    uint32_t host_max = cpuid(0, 0).eax;
    (void)vm, (void)ctx;
    if (leaf > host_max && leaf < 0x40000000u)
        *r = (struct cpuid_regs){0};     /* leaves only this platform has: 0x16 below */
    if (leaf == 7 && subleaf != 0)
        return;                          /* only subleaf 0 of leaf 7 changes */
    // BEGIN EXERCISE 07-2: CPUID as this platform really is
    // Instruction: Leaf 0: raise EAX to 0x16 when p->opt.tsc_stated. Leaf 1: clear ECX bits
    //   MONITOR, TSC_DEADLINE, XSAVE, OSXSAVE, AVX and x2APIC, then set x2APIC if p->opt.x2apic;
    //   EBX[31:24] (APIC ID) = 0 and EBX[23:16] = 1; clear EDX.HTT. Leaf 7 (subleaf 0): clear
    //   INVPCID in EBX. Leaves 0xa and 0xd: all zero. Leaf 0x16 with p->opt.tsc_stated: EAX =
    //   EBX = the rate in MHz, ECX = 0. Leaf 0x80000001: clear RDTSCP in EDX.
    // Hint: SDM Vol. 2A, CPUID; the CPUID_* constants above; p->opt.tsc_khz; p is ctx.
    const struct platform *p = ctx;
    switch (leaf) {
    case 0:
        if (p->opt.tsc_stated && r->eax < 0x16)
            r->eax = 0x16;
        break;
    case 1:
        r->ecx &= ~(CPUID_1_ECX_MONITOR | CPUID_1_ECX_TSC_DEADLINE | CPUID_1_ECX_XSAVE |
                    CPUID_1_ECX_OSXSAVE | CPUID_1_ECX_AVX | CPUID_1_ECX_X2APIC);
        if (p->opt.x2apic)
            r->ecx |= CPUID_1_ECX_X2APIC;
        r->ebx = (r->ebx & 0xffff) | 1u << 16;
        r->edx &= ~CPUID_1_EDX_HTT;
        break;
    case 7:
        r->ebx &= ~CPUID_7_EBX_INVPCID;
        break;
    case 0xa:
    case 0xd:
        *r = (struct cpuid_regs){0};
        break;
    case 0x16:
        if (p->opt.tsc_stated)
            *r = (struct cpuid_regs){(uint32_t)(p->opt.tsc_khz / 1000),
                                     (uint32_t)(p->opt.tsc_khz / 1000), 0, 0};
        break;
    case 0x80000001:
        r->edx &= ~CPUID_80000001_EDX_RDTSCP;
        break;
    }
    // END EXERCISE 07-2
}

/* RDMSR of the TSC: the same clock RDTSC reads (no offset, no exit for RDTSC). */
static int tsc_read(struct vm *vm, void *ctx, uint32_t msr, uint64_t *value)
{
    (void)vm, (void)msr;
    ((struct platform *)ctx)->msr_other++;
    *value = rdtsc();
    return 0;
}

/*
 * MSRs the guest owns outright. FS/GS base, SYSENTER_*, EFER and PAT are in the guest-state
 * area, switched by every entry and exit (chapter 05 passes them through). STAR, LSTAR,
 * CSTAR, SFMASK and KERNEL_GS_BASE are not (chapter 05 warns about exactly this), but they
 * matter only to SYSCALL, SYSRET and SWAPGS, which this host never executes: so the
 * guest's values stay in the CPU while it runs, and platform_run() gives the host its own
 * back when the VM stops. A host that uses SYSCALL must switch them around its own user
 * space (Linux's KVM does it lazily, on the way back to user space) or load them with the
 * VM-entry and VM-exit MSR-load areas (SDM Vol. 3C, 24.7.2, 24.8.2). Everything else not
 * emulated is #GP (chapter 05).
 */
static const uint32_t guest_owned_msrs[] = {MSR_STAR, MSR_LSTAR, 0xc0000083 /* CSTAR */,
                                            MSR_SYSCALL_MASK, MSR_KERNEL_GS_BASE};

static int setup_msrs(struct platform *p)
{
    struct vm *vm = &p->vm;
    int rc = 0;
    vm_msr_passthrough_guest_state(vm);
    for (unsigned i = 0; i < ARRAY_SIZE(guest_owned_msrs); i++)
        rc |= vm_msr_passthrough(vm, guest_owned_msrs[i], true, true);
    rc |= vm_msr_register(vm, MSR_IA32_TSC, 1, tsc_read, NULL, p, "IA32_TSC");
    return rc;
}

int platform_create(struct platform *p, const struct vmx_caps *caps,
                    const struct platform_options *opt, char *why, size_t n)
{
    struct vcpu_config config;
    memset(p, 0, sizeof(*p));
    p->opt = *opt;
    p->clock.tsc_hz = opt->tsc_khz * 1000;
    vm_default_config(&config);
    /* EPT is the wall around the guest (chapter 06); unrestricted guest lets it start in
     * real mode; EFER must be the guest's own at entry and saved at exit (24.7.1, 24.8.1). */
    gmem_config(&config);
    config.controls.proc2.optional |= SECONDARY_EXEC_UNRESTRICTED_GUEST;
    config.controls.entry.required |= VM_ENTRY_LOAD_IA32_EFER;
    config.controls.exit.required |= VM_EXIT_SAVE_IA32_EFER | VM_EXIT_LOAD_IA32_EFER;
    if (vm_create(&p->vm, caps, &config)) {
        ksnprintf(why, n, "%s", p->vm.vcpu.error);
        return -1;
    }
    p->vm.user = p;
    p->vm.cr.cr4_hidden = CR4_OSXSAVE;   /* CPUID hides XSAVE (cpuid_filter): no OSXSAVE either */
    p->unrestricted = p->vm.vcpu.controls.proc2 & SECONDARY_EXEC_UNRESTRICTED_GUEST;
    struct cpuid_regs ext = cpuid(0x80000001, 0);
    p->pages_1g = ext.edx & CPUID_80000001_EDX_1G;
    p->nx = ext.edx & CPUID_80000001_EDX_NX;
    vm_cpuid_set_filter(&p->vm, cpuid_filter, p);
    platform_devices_init(p);
    if (setup_msrs(p) || platform_devices_attach(p)) {
        ksnprintf(why, n, "the VM's I/O or MSR tables are full");
        return -1;
    }
    return 0;
}

int platform_load(struct platform *p, const void *image, size_t size, char *why, size_t n)
{
    if (platform_mem_init(p, why, n))
        return -1;
    if (guest_boot_prepare(p->ram, p->ram_size, image, size, &p->image, why, n))
        return -1;
    return guest_start(p, why, n);
}

int platform_set_script(struct platform *p, const char *text, size_t len, char *why, size_t n)
{
    if (script_parse(&p->script, text, len, why, n))
        return -1;
    p->have_script = true;
    return 0;
}

enum vm_stop_kind platform_run(struct platform *p)
{
    uint64_t host[ARRAY_SIZE(guest_owned_msrs)];
    for (unsigned i = 0; i < ARRAY_SIZE(guest_owned_msrs); i++)
        host[i] = rdmsr(guest_owned_msrs[i]);
    enum vm_stop_kind stop = vm_run(&p->vm);
    for (unsigned i = 0; i < ARRAY_SIZE(guest_owned_msrs); i++)
        wrmsr(guest_owned_msrs[i], host[i]);
    if (!p->at_line_start)
        kprintf("\n");                   /* the guest's last line may lack its newline */
    return stop;
}

void platform_destroy(struct platform *p)
{
    vm_destroy(&p->vm);
    platform_mem_destroy(p);
    if (p->identity_page)
        page_free(p->identity_page, 1);
}
