/* boot.S: tinyos's entry at 0x200000 in 32-bit protected mode (as NimbOS's) and
 * the switch to 64-bit long mode with the kernel running at -2 GiB. */

/*
 * A loader (our ROM stub, GRUB, QEMU -kernel, or chapter 07's hypervisor with the
 * flat binary) jumps to 0x200000 in 32-bit protected mode: flat segments, paging
 * off, interrupts off. EAX and EBX are ignored, as NimbOS ignores them: tinyos
 * needs no memory map (it assumes 16 MiB of RAM) and no command line.
 *
 * The boot page tables (SDM Vol. 3A, 4.5), built here because paging must be on
 * before long mode is active (SDM Vol. 3A, 9.8.5):
 *
 *   boot_pml4[0]   -> boot_pdpt[0..3]    identity 0..4 GiB, only until kmain runs
 *   boot_pml4[511] -> kernel_pdpt[0..3]  0xFFFFFF80_00000000 + 0..4 GiB (NimbOS's map)
 *                     kernel_pdpt[510]   0xFFFFFFFF_80000000 + 0..2 GiB (this image)
 *
 * Each PDPT entry is a 1 GiB page, or, on a CPU without 1 GiB pages (CPUID
 * 0x80000001:EDX[26]; Bochs' Sandy Bridge model), a page directory of 2 MiB pages.
 * NimbOS would stop on such a CPU; tinyos falls back so it can run bare there too.
 * The fourth GiB holds the HPET and LAPIC registers: its pages are uncached (PCD|PWT).
 */
#define KERNEL_BASE     0xFFFFFFFF80000000
#define PHYS(x)         ((x) - KERNEL_BASE)
#define MB_MAGIC        0x1BADB002
#define MB_FLAGS        0x00010002      /* want memory info; bit 16: the a.out kludge below */
#define PTE_P_W         0x003
#define PTE_PS          0x080
#define PTE_UNCACHED    0x018           /* PCD | PWT */
#define CR4_PAE_PGE     0x000000A0
#define CR0_BOOT        0x8001002B      /* PG | WP | NE | TS | MP | PE: as NimbOS */
#define MSR_EFER        0xC0000080
#define EFER_LME_NXE    0x00000900

    .section .boot, "ax"
    .code32
    .globl _start
_start:                                 /* 0x200000: a flat binary is entered here too */
    jmp start32

    /* Multiboot v1 header (spec 3.1) with the a.out kludge: the load addresses are
     * given here, so a loader need not understand ELF64 (QEMU -kernel does not). */
    .p2align 2
multiboot_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)
    .long multiboot_header              /* header_addr: .boot is linked at its physical address */
    .long _start                        /* load_addr: the image starts at 0x200000 */
    .long _load_end_pa                  /* load_end_addr: end of .data (the flat binary's size) */
    .long _bss_end_pa                   /* bss_end_addr: the loader clears up to here */
    .long _start                        /* entry_addr */

start32:
    cli
    cld
    /* Clear .bss (page tables and stacks live there); a loader may not have. */
    movl $_bss_start_pa, %edi
    movl $_bss_end_pa, %ecx
    subl %edi, %ecx
    shrl $2, %ecx
    xorl %eax, %eax
    rep stosl
    movl $PHYS(boot_stack_top), %esp

    /* EBP = 1 when the CPU has 1 GiB pages. */
    xorl %ebp, %ebp
    movl $0x80000000, %eax
    cpuid
    cmpl $0x80000001, %eax
    jb 1f
    movl $0x80000001, %eax
    cpuid
    btl $26, %edx
    adcl $0, %ebp
1:
    /* The four entries mapping 0..4 GiB, written to boot_pdpt[i] and kernel_pdpt[i]. */
    xorl %ecx, %ecx
2:  testl %ebp, %ebp
    jz 3f
    movl %ecx, %eax                     /* a 1 GiB page at i << 30 */
    shll $30, %eax
    orl $(PTE_P_W | PTE_PS), %eax
    cmpl $3, %ecx
    jne 4f
    orl $PTE_UNCACHED, %eax
    jmp 4f
3:  movl %ecx, %eax                     /* or page directory i */
    shll $12, %eax
    addl $(PHYS(boot_pd) + PTE_P_W), %eax
4:  movl %eax, PHYS(boot_pdpt)(, %ecx, 8)
    movl %eax, PHYS(kernel_pdpt)(, %ecx, 8)
    incl %ecx
    cmpl $4, %ecx
    jb 2b
    /* The kernel image's alias at -2 GiB reuses the entries for 0..2 GiB. */
    movl PHYS(boot_pdpt), %eax
    movl %eax, PHYS(kernel_pdpt) + 510 * 8
    movl PHYS(boot_pdpt) + 8, %eax
    movl %eax, PHYS(kernel_pdpt) + 511 * 8

    /* Without 1 GiB pages: 2048 page-directory entries, 2 MiB each. */
    testl %ebp, %ebp
    jnz 6f
    xorl %ecx, %ecx
5:  movl %ecx, %eax
    shll $21, %eax
    orl $(PTE_P_W | PTE_PS), %eax
    cmpl $1536, %ecx                    /* entries 1536.. map the fourth GiB */
    jb 7f
    orl $PTE_UNCACHED, %eax
7:  movl %eax, PHYS(boot_pd)(, %ecx, 8)
    incl %ecx
    cmpl $2048, %ecx
    jb 5b
6:
    movl $(PHYS(boot_pdpt) + PTE_P_W), PHYS(boot_pml4)
    movl $(PHYS(kernel_pdpt) + PTE_P_W), PHYS(boot_pml4) + 511 * 8
    movl %ebp, PHYS(boot_has_1g_pages)

    /* Long mode: CR4.PAE, CR3, EFER.LME (and NXE for user pages), then CR0.PG
     * (SDM Vol. 3A, 9.8.5). CR0.TS stays set: tinyos never uses x87 or SSE. */
    movl $CR4_PAE_PGE, %eax
    movl %eax, %cr4
    movl $PHYS(boot_pml4), %eax
    movl %eax, %cr3
    movl $MSR_EFER, %ecx
    rdmsr
    orl $EFER_LME_NXE, %eax
    wrmsr
    movl $CR0_BOOT, %eax
    movl %eax, %cr0
    lgdt boot_gdt_ptr
    ljmp $0x08, $start64

    .code64
start64:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    /* From here on, the kernel runs at its -2 GiB address. */
    movabsq $boot_stack_top, %rsp
    xorl %ebp, %ebp
    movabsq $kmain, %rax
    call *%rax
8:  hlt
    jmp 8b

    /* A temporary GDT (the real one, with user segments and the TSS, is in cpu.c). */
    .p2align 3
boot_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF            /* 0x08: 64-bit code */
    .quad 0x00CF92000000FFFF            /* 0x10: data */
boot_gdt_ptr:
    .word boot_gdt_ptr - boot_gdt - 1
    .long boot_gdt

    .section .bss
    .p2align 12
    .globl boot_pml4, boot_has_1g_pages, boot_stack_top
boot_pml4:      .skip 4096
boot_pdpt:      .skip 4096
kernel_pdpt:    .skip 4096
boot_pd:        .skip 4 * 4096          /* only used without 1 GiB pages */
boot_stack:     .skip 16384
boot_stack_top:
boot_has_1g_pages: .skip 4

    .section .note.GNU-stack, "", @progbits
