/* platform.h: the virtual PC a NimbOS-like guest runs on: chapter 05's VM with guest RAM behind
 * EPT, a start stub, and the devices (16550, two 8259s, local APIC, HPET) on their exits. */
#ifndef CH07_PLATFORM_H
#define CH07_PLATFORM_H

#include <stdbool.h>
#include <stdint.h>

#include "console_script.h"
#include "guest_loader.h"
#include "guest_memory.h"
#include "hpet.h"
#include "lapic.h"
#include "pic8259.h"
#include "uart16550.h"
#include "vclock.h"
#include "vm.h"

/* What the command line chooses (docs/07-nimbos.md lists the words). */
struct platform_options {
    uint64_t ram_size;           /* mem=<MiB>, default 16 MiB */
    bool x2apic;                 /* x2apic=0 hides x2APIC from CPUID: the guest uses xAPIC MMIO */
    uint64_t tsc_khz;            /* tsc_khz=<n>: the TSC rate stated, else measured */
    bool tsc_stated;             /* the rate is known, not measured: CPUID leaf 0x16 offers it */
    bool force_protected;        /* start=protected: no real-mode stub even with unrestricted guest */
};

/* How the guest was started (guest_start.c). */
enum platform_start { START_REAL_MODE_STUB, START_PROTECTED_MODE };

/* The ports that end the VM (platform_dev.c). */
#define PORT_ACPI_PM1A_CNT  0x604    /* QEMU's ACPI power-off: SLP_EN (bit 13), as NimbOS writes */
#define PORT_DEBUG_EXIT     0xf4     /* QEMU isa-debug-exit, as this project's kernels use */
#define PORT_BOCHS_SHUTDOWN 0x8900   /* Bochs' "Shutdown" port */

struct platform {
    struct vm vm;
    struct guest_memory mem;     /* chapter 06: the memory map behind EPT */
    struct platform_options opt;
    struct vclock clock;
    uint8_t *ram;                /* guest-physical 0 .. ram_size, host-contiguous */
    uint64_t ram_size;
    struct image_info image;
    enum platform_start start;
    bool unrestricted;           /* the vCPU has "unrestricted guest" */
    bool pages_1g, nx;           /* what the real MMU gives the guest (CPUID of the host) */

    struct uart16550 uart;
    struct pic8259 pic[2];
    struct lapic lapic;
    struct hpet hpet;
    struct console_script script;
    bool have_script;

    /* the console line between guest and host */
    bool at_line_start;          /* the guest's last byte was a newline */
    uint64_t next_input_poll;    /* TSC: when to look at the host's serial line again */
    uint64_t host_input_bytes;
    uint64_t uart_lf;            /* newlines the guest sent: its console lines */
    uint64_t uart_io;            /* IN and OUT instructions on COM1's ports */
    uint64_t pic_io, power_io;   /* ... on the PICs' and the power-off ports */
    uint64_t msr_other;          /* RDMSR/WRMSR of IA32_APIC_BASE, EFER, TSC, PAT */

    /* how the guest ended */
    bool powered_off;
    bool script_stop;            /* the console script's "stop" ended the run */
    uint16_t poweroff_port;
    uint64_t guest_status;
    unsigned shutdown_matched;   /* bytes of "Shutdown" seen on PORT_BOCHS_SHUTDOWN */

    /* MMIO done here (chapter 06 does the MOVs), the start-up's counters */
    uint64_t mmio_alu, efer_writes, apic_base_writes;
    void *identity_page;         /* the protected-mode start's page directory */
    uint64_t pm_cr_exits;        /* protected-mode start: CR exits while the guest's paging is off */
};

/*
 * Build the VM on this CPU: EPT (required), unrestricted guest (optional), the exits
 * the devices need, the devices in their power-on state. Returns 0, or -1 with why.
 */
int platform_create(struct platform *p, const struct vmx_caps *caps,
                    const struct platform_options *opt, char *why, size_t why_size);
/* Guest RAM, EPT, the image and the start state. -1 with why: nothing has run. */
int platform_load(struct platform *p, const void *image, size_t size, char *why, size_t why_size);
/* A console script the hypervisor types (console_script.h). */
int platform_set_script(struct platform *p, const char *text, size_t len, char *why, size_t n);
/* Run until the guest powers off or the VM stops; returns why. */
enum vm_stop_kind platform_run(struct platform *p);
/* Exit statistics and device counters, for people and for the checkpoints. */
void platform_report(struct platform *p);
void platform_destroy(struct platform *p);

/* platform_dev.c: the devices on their exits; the I/O handlers of COM1 (context: the
 * platform), a PIC (context: its struct pic8259) and the power-off ports (the platform). */
void platform_devices_init(struct platform *p);
int platform_com1_access(struct vm *vm, void *ctx, struct io_access *a);
int platform_pic_access(struct vm *vm, void *ctx, struct io_access *a);
int platform_power_access(struct vm *vm, void *ctx, struct io_access *a);
int platform_devices_attach(struct platform *p);
void platform_lapic_rearm(struct platform *p);
/* guest_start.c: real mode through the stub, or 32-bit protected mode without it. */
int guest_start(struct platform *p, char *why, size_t why_size);
/* platform_mem.c: guest RAM behind EPT and the MMIO pages (chapter 06's interfaces). */
int platform_mem_init(struct platform *p, char *why, size_t why_size);
void platform_mem_destroy(struct platform *p);
/* Map one hypervisor page at guest-physical gpa (outside RAM), read-only. */
int platform_mem_map_page(struct platform *p, uint64_t gpa, void *page, char *why, size_t why_size);
void platform_mem_unmap_page(struct platform *p, uint64_t gpa);
/* tsc.c: the TSC rate measured against the PIT (8254), in kHz. */
uint64_t tsc_measure_khz(void);

#endif
