/* panic.c: the last words of a kernel: message, registers, frame-pointer backtrace,
 * then "@end status=2". tools/runner.py turns the "bt" addresses into function names. */
#include "panic.h"

#include "gdbstub.h"
#include "kernel.h"
#include "serial.h"
#include "trap.h"
static int panicking;

void backtrace_print(uint64_t rbp)
{
    /* Each frame: [rbp] = caller's rbp, [rbp+8] = return address. */
    for (int depth = 0; rbp && depth < 16; depth++) {
        if (rbp < 0x1000 || rbp + 16 > boot_info.ram_end || rbp % 8)
            break;
        uint64_t ret = ((uint64_t *)rbp)[1];
        if (!ret)
            break;
        kprintf("  bt #%d 0x%lx\n", depth, ret);
        rbp = ((uint64_t *)rbp)[0];
    }
}

static void dump_control_registers(void)
{
    kprintf("  CR0=%016lx CR2=%016lx CR3=%016lx CR4=%016lx\n",
            read_cr0(), read_cr2(), read_cr3(), read_cr4());
    kprintf("  EFER=%016lx\n", rdmsr(MSR_EFER));
}

static void dump_frame(const struct trap_frame *f)
{
    kprintf("  RAX=%016lx RBX=%016lx RCX=%016lx RDX=%016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
    kprintf("  RSI=%016lx RDI=%016lx RBP=%016lx RSP=%016lx\n", f->rsi, f->rdi, f->rbp, f->rsp);
    kprintf("  R8 =%016lx R9 =%016lx R10=%016lx R11=%016lx\n", f->r8, f->r9, f->r10, f->r11);
    kprintf("  R12=%016lx R13=%016lx R14=%016lx R15=%016lx\n", f->r12, f->r13, f->r14, f->r15);
    kprintf("  RIP=%016lx CS=%04lx RFLAGS=%016lx SS=%04lx\n", f->rip, f->cs, f->rflags, f->ss);
}

static _Noreturn void finish(uint64_t rbp)
{
    dump_control_registers();
    kprintf("  backtrace:\n");
    backtrace_print(rbp);
    gdbstub_panic();                    /* with gdb attached: stop here first */
    poweroff(STATUS_PANIC);
}

static void begin(void)
{
    cli();
    if (panicking++) {                  /* a panic while panicking: stop quietly */
        console_write("\n@end nonce=- status=2\n");
        for (;;)
            hlt();
    }
}

void panic_at(const char *func, const char *fmt, ...)
{
    begin();
    va_list ap;
    va_start(ap, fmt);
    kprintf("\nPANIC in %s: ", func);
    kvprintf(fmt, ap);
    kprintf("\n");
    va_end(ap);
    uint64_t rbp;
    asm volatile("mov %%rbp, %0" : "=r"(rbp));
    finish(rbp);
}

void panic_frame(const struct trap_frame *f, const char *fmt, ...)
{
    begin();
    va_list ap;
    va_start(ap, fmt);
    kprintf("\nPANIC: ");
    kvprintf(fmt, ap);
    kprintf("\n");
    va_end(ap);
    dump_frame(f);
    kprintf("  bt #- 0x%lx (faulting instruction)\n", f->rip);
    finish(f->rbp);
}
