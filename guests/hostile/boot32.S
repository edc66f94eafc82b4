/* boot32.S: the hostile guest's way in: a multiboot header (a.out kludge) for chapter 07's loader,
 * and 32-bit code that maps the first 4 GiB, enters long mode and jumps to guests/lib's _start. */

/*
 * Chapter 07 starts a multiboot kernel in 32-bit protected mode with paging off, through
 * its real-mode stub or its protected-mode start (docs/07-nimbos.md). The test guests of
 * guests/lib expect 64-bit mode, so this does what a small loader would: page tables in the
 * BSS (the loader zeroed it) mapping 0-4 GiB with 2 MiB pages, user-accessible (the "user"
 * case runs code at CPL 3), CR4.PAE, EFER.LME, CR0.PG|WP, a 64-bit code segment, then
 * guests/lib's _start (its own stack, GDT, TSS, IDT). SDM Vol. 3A, 9.8.5.
 */
#define MB_MAGIC  0x1BADB002
#define MB_FLAGS  0x00010000            /* only the a.out-kludge addresses */
#define PTE_TABLE 0x7                   /* present, writable, user */
#define PDE_2M    0x87                  /* present, writable, user, 2 MiB page */

    .section .text.start, "ax"
    .code32
    .globl hostile_entry32
    .p2align 2
multiboot_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)
    .long multiboot_header              /* header_addr */
    .long image_start                   /* load_addr: the whole file */
    .long image_file_end                /* load_end_addr */
    .long image_mem_end                 /* bss_end_addr: the loader zeroes the BSS */
    .long hostile_entry32               /* entry_addr */

hostile_entry32:
    cli
    /* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 512 2-MiB pages each. */
    movl $hostile_pdpt + PTE_TABLE, hostile_pml4
    xorl %ecx, %ecx
1:  movl %ecx, %eax
    shll $12, %eax
    addl $hostile_pd + PTE_TABLE, %eax
    movl %eax, hostile_pdpt(, %ecx, 8)
    incl %ecx
    cmpl $4, %ecx
    jb 1b
    xorl %ecx, %ecx                     /* entry i of the 2048: i * 2 MiB, bits 32+ from i >> 11 */
2:  movl %ecx, %eax
    shll $21, %eax
    orl $PDE_2M, %eax
    movl %eax, hostile_pd(, %ecx, 8)
    incl %ecx
    cmpl $2048, %ecx
    jb 2b
    movl %cr4, %eax
    orl $0x20, %eax                     /* CR4.PAE */
    movl %eax, %cr4
    movl $hostile_pml4, %eax
    movl %eax, %cr3
    movl $0xc0000080, %ecx              /* IA32_EFER.LME */
    rdmsr
    orl $0x100, %eax
    wrmsr
    movl %cr0, %eax
    orl $0x80010001, %eax               /* PG, WP, PE */
    movl %eax, %cr0
    lgdt gdt64_desc
    ljmp $0x08, $start64

    .code64
start64:
    movl $0x10, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    jmp _start                          /* guests/lib/grt_start.S */

    .section .rodata
    .p2align 3
gdt64:
    .quad 0
    .quad 0x00af9a000000ffff            /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff            /* 0x10: data */
gdt64_desc:
    .word gdt64_desc - gdt64 - 1
    .long gdt64

    .bss
    .p2align 12
    .globl hostile_pml4, hostile_pdpt, hostile_pd
hostile_pml4:
    .skip 4096
hostile_pdpt:
    .skip 4096
hostile_pd:
    .skip 4 * 4096
    .section .note.GNU-stack, "", @progbits
