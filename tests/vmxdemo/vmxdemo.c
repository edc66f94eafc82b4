/* vmxdemo.c: a test-only kernel (not a chapter) for the debugging tools' tests: VMXON,
 * one VMCS, a tiny 64-bit guest that exits on CPUID and VMCALL; command-line options break it. */
#include "gdbstub.h"
#include "kernel.h"
#include "mm.h"
#include "desc.h"
#include "vmx_caps.h"
#include "vmx_controls.h"
#include "vmxtrace.h"

/*
 * Command line:
 *   spin=1        after VMXON, spin with interrupts off until gdb clears demo_spin (Ctrl-C test)
 *   break=host-tr HOST_TR_SELECTOR = 0: VMLAUNCH fails with VM-instruction error 8
 *   break=guest-tr  guest TR type 3 (16-bit TSS): VM-entry failure, exit reason 33
 *   break=ctls    pin-based controls not adjusted to the capability MSRs: error 7
 * The chapters teach all of this properly (02-04); this kernel only gives the tools real
 * VMX events to show. Field encodings: SDM Vol. 3D, appendix B.
 */
const char chapter_title[] = "VMX demo for the debugging tools' tests (not a chapter)";

enum {
    PIN_BASED_VM_EXEC_CONTROL = 0x4000, CPU_BASED_VM_EXEC_CONTROL = 0x4002,
    VM_EXIT_CONTROLS = 0x400c, VM_ENTRY_CONTROLS = 0x4012, VM_INSTRUCTION_ERROR = 0x4400,
    VM_EXIT_REASON = 0x4402, VM_EXIT_INSTRUCTION_LEN = 0x440c, EXIT_QUALIFICATION = 0x6400,
    GUEST_ES_SELECTOR = 0x800, GUEST_ES_LIMIT = 0x4800, GUEST_ES_AR_BYTES = 0x4814,
    GUEST_ES_BASE = 0x6806, GUEST_TR_SELECTOR = 0x80e, GUEST_TR_LIMIT = 0x480e,
    GUEST_TR_AR_BYTES = 0x4822, GUEST_TR_BASE = 0x6814, GUEST_LDTR_AR_BYTES = 0x4820,
    GUEST_GDTR_LIMIT = 0x4810, GUEST_GDTR_BASE = 0x6816, GUEST_IDTR_LIMIT = 0x4812,
    GUEST_IDTR_BASE = 0x6818, GUEST_CR0 = 0x6800, GUEST_CR3 = 0x6802, GUEST_CR4 = 0x6804,
    GUEST_DR7 = 0x681a, GUEST_RSP = 0x681c, GUEST_RIP = 0x681e, GUEST_RFLAGS = 0x6820,
    VMCS_LINK_POINTER = 0x2800, HOST_ES_SELECTOR = 0xc00, HOST_CS_SELECTOR = 0xc02,
    HOST_SS_SELECTOR = 0xc04, HOST_DS_SELECTOR = 0xc06, HOST_TR_SELECTOR = 0xc0c,
    HOST_CR0 = 0x6c00, HOST_CR3 = 0x6c02, HOST_CR4 = 0x6c04, HOST_TR_BASE = 0x6c0a,
    HOST_GDTR_BASE = 0x6c0c, HOST_IDTR_BASE = 0x6c0e,
};
#define EXIT_REASON_CPUID 10
#define EXIT_REASON_VMCALL 18
#define VMX_EXIT_REASONS_FAILED_VMENTRY 0x80000000u

volatile int demo_spin;                 /* the gdb test sets it to 0 */
uint64_t demo_vmxon_pa;                 /* the gdb test reads it */
unsigned demo_exits;
static struct vmx_caps caps;
static char brk[16];
static uint8_t guest_stack[4096] __attribute__((aligned(16)));

/* CF=1: VMfailInvalid, ZF=1: VMfailValid (SDM Vol. 3C, 30.2). */
#define VMX_RC(cf, zf) ((cf) ? 1 : (zf) ? 2 : 0)

static int vmxon(uint64_t pa)
{
    uint8_t cf, zf;
    asm volatile("vmxon %2; setc %0; setz %1" : "=q"(cf), "=q"(zf) : "m"(pa) : "cc", "memory");
    vmx_trace("VMXON addr=0x%lx rc=%d", pa, VMX_RC(cf, zf));
    return VMX_RC(cf, zf);
}

static int vmcs_op(const char *name, uint64_t pa, bool load)
{
    uint8_t cf, zf;
    if (load)
        asm volatile("vmptrld %2; setc %0; setz %1" : "=q"(cf), "=q"(zf) : "m"(pa) : "cc", "memory");
    else
        asm volatile("vmclear %2; setc %0; setz %1" : "=q"(cf), "=q"(zf) : "m"(pa) : "cc", "memory");
    vmx_trace("%s addr=0x%lx rc=%d", name, pa, VMX_RC(cf, zf));
    return VMX_RC(cf, zf);
}

static uint64_t vmread(uint64_t field)
{
    uint64_t v = 0;
    uint8_t cf, zf;
    asm volatile("vmread %3, %0; setc %1; setz %2" : "=r"(v), "=q"(cf), "=q"(zf) : "r"(field) : "cc");
    vmx_trace("VMREAD field=0x%lx value=0x%lx rc=%d", field, v, VMX_RC(cf, zf));
    return v;
}

static void vmwrite(uint64_t field, uint64_t value)
{
    uint8_t cf, zf;
    asm volatile("vmwrite %3, %2; setc %0; setz %1" : "=q"(cf), "=q"(zf) : "r"(field), "r"(value)
                 : "cc");
    vmx_trace("VMWRITE field=0x%lx value=0x%lx rc=%d", field, value, VMX_RC(cf, zf));
    if (VMX_RC(cf, zf))
        panic("VMWRITE 0x%lx failed", field);
}

static uint32_t adjust(uint64_t cap, uint32_t want)
{
    return (want | CTL_MUST_BE_1(cap)) & CTL_MAY_BE_1(cap);
}

/*
 * Enter the guest; returns 0 after a VM exit, or the VMfail code. HOST_RSP and
 * HOST_RIP point into this function, so a VM exit "returns" from it (callee-saved
 * registers come back from the stack; the guest clobbered the others).
 */
int demo_enter(int launched);
asm(".text\n"
    ".globl demo_enter\n"
    "demo_enter:\n\t"
    "push %rbp\n\tpush %rbx\n\tpush %r12\n\tpush %r13\n\tpush %r14\n\tpush %r15\n\t"
    "mov $0x6c14, %eax\n\tvmwrite %rsp, %rax\n\t"           /* HOST_RSP */
    "lea 1f(%rip), %rdx\n\tmov $0x6c16, %eax\n\tvmwrite %rdx, %rax\n\t"   /* HOST_RIP */
    "test %edi, %edi\n\tjnz 2f\n\t"
    "vmlaunch\n\tjmp 3f\n"
    "2:\tvmresume\n"
    "3:\tmov $1, %eax\n\tjc 4f\n\tmov $2, %eax\n\tjmp 4f\n"  /* fell through: VMfail */
    "1:\txor %eax, %eax\n"                                   /* VM exit */
    "4:\tpop %r15\n\tpop %r14\n\tpop %r13\n\tpop %r12\n\tpop %rbx\n\tpop %rbp\n\tret\n");

/* The guest: CPUID exits unconditionally (SDM Vol. 3C, 25.1.2), VMCALL ends the demo. */
void demo_guest(void);
asm(".text\n.globl demo_guest\ndemo_guest:\n\t"
    "xor %eax, %eax\n\tcpuid\n\tmov $0x40000000, %eax\n\tcpuid\n\tvmcall\n\tud2\n");

static void setup_vmcs(void)
{
    bool bad_ctls = !strcmp(brk, "ctls");
    vmwrite(PIN_BASED_VM_EXEC_CONTROL, bad_ctls ? 0 : adjust(caps.pin_ctls, 0));
    vmwrite(CPU_BASED_VM_EXEC_CONTROL, adjust(caps.proc_ctls, 0));
    vmwrite(VM_EXIT_CONTROLS, adjust(caps.exit_ctls, VM_EXIT_HOST_ADDR_SPACE_SIZE));
    vmwrite(VM_ENTRY_CONTROLS, adjust(caps.entry_ctls, VM_ENTRY_IA32E_MODE));

    /* Host state: this kernel as it runs now (SDM Vol. 3C, 24.5). */
    vmwrite(HOST_CR0, read_cr0());
    vmwrite(HOST_CR3, read_cr3());
    vmwrite(HOST_CR4, read_cr4());
    vmwrite(HOST_CS_SELECTOR, KERNEL_CS);
    for (uint64_t f = HOST_ES_SELECTOR; f <= HOST_DS_SELECTOR; f += 2)
        if (f != HOST_CS_SELECTOR)
            vmwrite(f, KERNEL_DS);
    vmwrite(HOST_TR_SELECTOR, strcmp(brk, "host-tr") ? KERNEL_TSS : 0);
    vmwrite(HOST_TR_BASE, tss_base());
    vmwrite(HOST_GDTR_BASE, sgdt().base);
    vmwrite(HOST_IDTR_BASE, sidt().base);

    /* Guest state: a 64-bit copy of the host on its own stack (SDM Vol. 3C, 24.4). */
    vmwrite(GUEST_CR0, read_cr0());
    vmwrite(GUEST_CR3, read_cr3());
    vmwrite(GUEST_CR4, read_cr4());
    vmwrite(GUEST_DR7, 0x400);
    vmwrite(GUEST_RSP, (uint64_t)guest_stack + sizeof(guest_stack));
    vmwrite(GUEST_RIP, (uint64_t)demo_guest);
    vmwrite(GUEST_RFLAGS, RFLAGS_FIXED);
    for (uint64_t i = 0; i < 6; i++) {                    /* ES CS SS DS FS GS */
        bool code = i == 1, unusable = i >= 4;
        vmwrite(GUEST_ES_SELECTOR + 2 * i, unusable ? 0 : code ? KERNEL_CS : KERNEL_DS);
        vmwrite(GUEST_ES_BASE + 2 * i, 0);
        vmwrite(GUEST_ES_LIMIT + 2 * i, 0xffffffff);
        vmwrite(GUEST_ES_AR_BYTES + 2 * i, unusable ? 0x10000 : code ? 0xa09b : 0xc093);
    }
    vmwrite(GUEST_LDTR_AR_BYTES, 0x10000);
    vmwrite(GUEST_TR_SELECTOR, KERNEL_TSS);
    vmwrite(GUEST_TR_BASE, tss_base());
    vmwrite(GUEST_TR_LIMIT, sizeof(struct tss64) - 1);
    vmwrite(GUEST_TR_AR_BYTES, strcmp(brk, "guest-tr") ? 0x8b : 0x83);
    vmwrite(GUEST_GDTR_BASE, sgdt().base);
    vmwrite(GUEST_GDTR_LIMIT, sgdt().limit);
    vmwrite(GUEST_IDTR_BASE, sidt().base);
    vmwrite(GUEST_IDTR_LIMIT, sidt().limit);
    vmwrite(VMCS_LINK_POINTER, ~0ull);
}

static void enable_vmx(void)
{
    uint64_t fc = rdmsr(MSR_IA32_FEAT_CTL);
    if (!(fc & FEAT_CTL_LOCKED))
        wrmsr(MSR_IA32_FEAT_CTL, fc | FEAT_CTL_LOCKED | FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX);
    write_cr0((read_cr0() | caps.cr0_fixed0) & caps.cr0_fixed1);
    write_cr4((read_cr4() | CR4_VMXE | caps.cr4_fixed0) & caps.cr4_fixed1);
    uint32_t *region = page_alloc(1);
    region[0] = VMX_BASIC_REVISION(caps.basic);
    demo_vmxon_pa = virt_to_phys(region);
    if (vmxon(demo_vmxon_pa))
        panic("VMXON failed");
}

static int run_guest(void)
{
    for (int launched = 0;; launched = 1) {
        vmx_trace("%s", launched ? "VMRESUME" : "VMLAUNCH");
        vmx_trace_insns(true);
        gdbstub_guest_enter();
        int rc = demo_enter(launched);
        gdbstub_guest_exit();
        vmx_trace_insns(false);
        if (rc) {
            uint64_t error = rc == 2 ? vmread(VM_INSTRUCTION_ERROR) : 0;
            vmx_trace("%s rc=%d error=%lu", launched ? "VMRESUME" : "VMLAUNCH", rc, error);
            kprintf("vmxdemo: VM entry failed: rc=%d, VM-instruction error %lu\n", rc, error);
            return STATUS_FAIL;
        }
        uint32_t reason = (uint32_t)vmread(VM_EXIT_REASON);
        demo_exits++;
        kprintf("vmxdemo: VM exit %u, reason 0x%x, qualification 0x%lx\n", demo_exits, reason,
                vmread(EXIT_QUALIFICATION));
        if (reason & VMX_EXIT_REASONS_FAILED_VMENTRY)
            return STATUS_FAIL;
        if (reason == EXIT_REASON_VMCALL)
            return STATUS_OK;
        if (reason != EXIT_REASON_CPUID)
            panic("unexpected exit reason %u", reason);
        vmwrite(GUEST_RIP, vmread(GUEST_RIP) + vmread(VM_EXIT_INSTRUCTION_LEN));
    }
}

int chapter_main(void)
{
    if (!cpu_has_vmx())
        skip_chapter("no VMX on this CPU");
    if (vmx_caps_read(&caps))
        panic("reading the VMX capability MSRs faulted");
    cmdline_get("break", brk, sizeof(brk));
    demo_spin = (int)cmdline_get_u64("spin", 0);
    enable_vmx();
    kprintf("vmxdemo: in VMX root operation, VMXON region at 0x%lx\n", demo_vmxon_pa);
    while (demo_spin)                       /* interrupts are off: only an NMI gets in */
        cpu_relax();
    uint64_t vmcs = virt_to_phys(page_alloc(1));
    *(uint32_t *)phys_to_virt(vmcs) = VMX_BASIC_REVISION(caps.basic);
    if (vmcs_op("VMCLEAR", vmcs, false) || vmcs_op("VMPTRLD", vmcs, true))
        panic("VMCLEAR/VMPTRLD failed");
    setup_vmcs();
    int status = run_guest();
    asm volatile("vmxoff" ::: "cc", "memory");
    vmx_trace("VMXOFF rc=0");
    kprintf("vmxdemo: %u VM exits, status %d\n", demo_exits, status);
    return status;
}
