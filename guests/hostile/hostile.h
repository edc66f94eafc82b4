/* hostile.h: the protocol between the hostile-guest test kernel (tests/hostile) and its guest
 * (guests/hostile): hypercalls, the cases, and the platform map the guest predicts outcomes from. */
#ifndef HOSTILE_H
#define HOSTILE_H

/*
 * Hypercalls (ABI: chapters/05-exits/hypercall.h; VMCALL at CPL 0, RAX = number):
 *   HC_EXIT      RBX = status. The guest is done (guests/lib's grt_main ends with it).
 *   HC_INFO      -> RBX = case, RCX = seed, RDX = steps (the randomized case); RAX = 0.
 *   HC_REPORT    RBX = address of a key (guest-linear), RCX = its length (1-31), RDX = value.
 *                   The host checks the key (lower-case letters, digits, '_') and prints it
 *                   with the value on its checkpoint line. -22 (HC_EINVAL) for a bad key,
 *                   an address it cannot read, or too many reports.
 *   HC_HOST_ADDR RBX = which (HOST_ADDR_*) -> RBX = a host-physical address of the
 *                   hypervisor's own memory, for the guest to try (it reaches guest-physical
 *                   addresses only). RAX = -22 for an unknown index.
 */
#define HC_EXIT      4
#define HC_INFO      8
#define HC_REPORT    9
#define HC_HOST_ADDR 10
#define HC_EINVAL    (-22L)
#define HC_ENOSYS    (-1000L)
#define HC_EPERM     (-1L)
#define REPORT_KEY_MAX 31
#define REPORTS_MAX    40

enum host_addr {
    HOST_ADDR_KERNEL,            /* the hypervisor's first byte of code */
    HOST_ADDR_CANARY,            /* its canary (tests/hostile checks it after every guest) */
    HOST_ADDR_GUEST_RAM,         /* where this guest's RAM lives in the host */
    HOST_ADDR_EPT_ROOT,          /* the EPT's top table */
    HOST_ADDR_VMCS,              /* this vCPU's VMCS */
    HOST_ADDR_COUNT
};

/* The cases: one guest image, one case per VM (HC_INFO says which). Cases marked "stops"
 * end their VM on purpose: the outcome is the hypervisor's report, not the guest's. */
#define HOSTILE_CASES(X)                                                                    \
    X(SANE, "sane")                  /* a well-behaved guest: CPUID, console, timer, HLT */  \
    X(PORTS, "ports")                /* IN/OUT of every size on ports everywhere */           \
    X(STRING_IO, "string_io")        /* INS/OUTS with REP, counts, faults, directions */      \
    X(MSR, "msr")                    /* sensitive and random MSRs */                          \
    X(CR, "cr")                      /* reserved and hidden CR0/CR4/CR3/CR8 bits, XSETBV */   \
    X(VMX, "vmx")                    /* VMX instructions, GETSEC, WBINVD, VMCALL numbers */   \
    X(USER, "user")                  /* the same from CPL 3 */                                \
    X(PHYS, "phys")                  /* every kind of guest-physical address without RAM */   \
    X(MMIO, "mmio")                  /* device pages: every size, alignment, ALU op */        \
    X(TIMER_FLOOD, "timer_flood")    /* LAPIC timer at its shortest period, IF = 0 */         \
    X(IRQ_FLOOD, "irq_flood")        /* every vector raised while IF = 0 */                   \
    X(STORM, "storm")                /* tens of thousands of exceptions, some injected */     \
    X(DOUBLE_FAULT, "double_fault")  /* faults while delivering an (injected) event */        \
    X(HYPERCALL, "hypercall")        /* unknown numbers, bad arguments */                     \
    X(TRIPLE, "triple")              /* stops: an injected #GP with no IDT */                 \
    X(INVD, "invd")                  /* stops: an exit nobody handles */                      \
    X(APIC_MOVE, "apic_move")        /* stops: IA32_APIC_BASE moved away */                   \
    X(CLI_HLT, "cli_hlt")            /* stops: HLT with interrupts off */                     \
    X(STI_HLT, "sti_hlt")            /* stops: HLT with nothing that could wake it */         \
    X(STRING_MMIO, "string_mmio")    /* stops: REP INSB into a device page */                 \
    X(PHYS_ALU, "phys_alu")          /* stops: OR on an address without RAM */               \
    X(MMIO_ADD, "mmio_add")          /* stops: ADD on a device register */                    \
    X(IDT_MMIO, "idt_mmio")          /* stops: the IDT in a device page */                    \
    X(HLT_FAR, "hlt_far")            /* stops (watchdog): HLT until a timer hours away */     \
    X(SPIN, "spin")                  /* stops (watchdog): a guest that never ends */          \
    X(RANDOM, "random")              /* a seeded mix of all of the above */

#define HOSTILE_ENUM(id, name) CASE_##id,
enum hostile_case { HOSTILE_CASES(HOSTILE_ENUM) CASE_COUNT };
#undef HOSTILE_ENUM

/* The platform as chapter 07 documents it (docs/07-nimbos.md): the guest predicts outcomes
 * from this map, the hypervisor is what gets tested. */
#define PORT_COM1        0x3f8   /* 8 ports */
#define PORT_PIC1        0x20    /* 2 ports, 8-bit only: wider accesses are #GP */
#define PORT_PIC2        0xa0
#define PORT_PM1A_CNT    0x604   /* 2 ports: power-off (SLP_EN) */
#define PORT_DEBUG_EXIT  0xf4    /* power-off with a status */
#define PORT_BOCHS_OFF   0x8900  /* power-off on the string "Shutdown" */
#define GUEST_RAM_MB     4       /* what the test kernel gives each hostile guest */
#define HPET_PAGE        0xfed00000ull
#define LAPIC_PAGE       0xfee00000ull

#endif
