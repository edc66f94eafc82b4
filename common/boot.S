/* boot.S: multiboot v1 entry, 32-bit protected mode -> 64-bit long mode.
 * Builds an identity map of the first 4 GiB with 2 MiB pages, then calls kmain(). */

/*
 * A multiboot loader (GRUB, or our ROM stub) enters here in 32-bit protected
 * mode with paging off, EAX = 0x2BADB002 and EBX = the multiboot information
 * (multiboot v1 spec, 3.2). Long mode needs PAE paging before CR0.PG is set
 * (SDM Vol. 3A, 9.8.5), so the page tables are built first:
 *
 *   boot_pml4[0] -> boot_pdpt[0..3] -> boot_pd[0..2047], each a 2 MiB page
 *   virtual address == physical address for 0 .. 4 GiB (MMIO included)
 */
#define MB_HEADER_MAGIC 0x1BADB002
#define MB_HEADER_FLAGS 0x00000003      /* page-align modules, want memory info */
#define PTE_P   0x1
#define PTE_W   0x2
#define PTE_PS  0x80
#define CR0_PG  0x80000000
#define CR0_WP  0x00010000
#define CR0_NE  0x00000020
#define CR0_PE  0x00000001
#define CR4_PAE 0x00000020
#define MSR_EFER 0xC0000080
#define EFER_LME 0x00000100
#define BOOT_STACK_SIZE 16384

    .section .multiboot, "a"
    .p2align 2
    .long MB_HEADER_MAGIC
    .long MB_HEADER_FLAGS
    .long -(MB_HEADER_MAGIC + MB_HEADER_FLAGS)

    .section .text.boot, "ax"
    .code32
    .globl _start
_start:
    cli
    movl %eax, boot_magic
    movl %ebx, boot_info_addr
    movl $boot_stack_top, %esp

    /* Long mode exists? CPUID 0x80000001:EDX[29] (SDM Vol. 2A, CPUID). */
    movl $0x80000000, %eax
    cpuid
    cmpl $0x80000001, %eax
    jb no_long_mode
    movl $0x80000001, %eax
    cpuid
    btl $29, %edx
    jnc no_long_mode

    /* PML4[0] -> PDPT; PDPT[i] -> PD i (i = 0..3). */
    movl $boot_pdpt, %eax
    orl $(PTE_P | PTE_W), %eax
    movl %eax, boot_pml4
    movl $boot_pd, %eax
    orl $(PTE_P | PTE_W), %eax
    xorl %ecx, %ecx
1:  movl %eax, boot_pdpt(, %ecx, 8)
    addl $4096, %eax
    incl %ecx
    cmpl $4, %ecx
    jb 1b

    /* 2048 PD entries, 2 MiB each: entry i maps physical i << 21. */
    xorl %ecx, %ecx
2:  movl %ecx, %eax
    shll $21, %eax
    orl $(PTE_P | PTE_W | PTE_PS), %eax
    movl %eax, boot_pd(, %ecx, 8)
    incl %ecx
    cmpl $2048, %ecx
    jb 2b

    /* CR4.PAE, CR3, EFER.LME, then CR0.PG activates long mode (SDM 3A 9.8.5). */
    movl %cr4, %eax
    orl $CR4_PAE, %eax
    movl %eax, %cr4
    movl $boot_pml4, %eax
    movl %eax, %cr3
    movl $MSR_EFER, %ecx
    rdmsr
    orl $EFER_LME, %eax
    wrmsr
    movl %cr0, %eax
    orl $(CR0_PG | CR0_WP | CR0_NE | CR0_PE), %eax
    movl %eax, %cr0

    lgdt boot_gdt_ptr
    ljmp $0x08, $long_mode_entry

/* Say why on COM1 and stop: no 64-bit kernel can run on this CPU. */
no_long_mode:
    movl $no_long_mode_msg, %esi
3:  movb (%esi), %al
    testb %al, %al
    jz 4f
    movw $0x3F8, %dx
    outb %al, %dx
    incl %esi
    jmp 3b
4:  hlt
    jmp 4b

    .code64
long_mode_entry:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    movabsq $boot_stack_top, %rsp
    xorl %ebp, %ebp                 /* ends the frame-pointer backtrace */
    movl boot_magic, %edi
    movl boot_info_addr, %esi
    call kmain
5:  cli
    hlt
    jmp 5b

    .section .rodata
no_long_mode_msg:
    .asciz "boot: this CPU has no 64-bit long mode (CPUID 0x80000001:EDX[29] = 0)\r\n"

    .p2align 3
boot_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF        /* 0x08: 64-bit code */
    .quad 0x00CF92000000FFFF        /* 0x10: data */
boot_gdt_end:
boot_gdt_ptr:
    .word boot_gdt_end - boot_gdt - 1
    .quad boot_gdt

    .section .bss
    .p2align 12
    .globl boot_pml4
boot_pml4:  .skip 4096
boot_pdpt:  .skip 4096
boot_pd:    .skip 4 * 4096
    .p2align 4
    .globl boot_stack_bottom, boot_stack_top
boot_stack_bottom:
    .skip BOOT_STACK_SIZE
boot_stack_top:
boot_magic:     .skip 4
boot_info_addr: .skip 4

    .section .note.GNU-stack, "", @progbits
