/* start_stub.S: the guest's first instructions, copied to guest-physical 0x8000: from real mode
 * into flat 32-bit protected mode, then to the kernel's entry as a multiboot loader hands over. */

/*
 * A firmware-like start: the vCPU begins at 0000:8000 in real mode (unrestricted guest),
 * like a PC after its BIOS has loaded a boot loader. The stub does what a multiboot loader
 * does last (Multiboot 0.6.96, 3.2 "Machine state"): a GDT with flat 4 GiB code and data
 * segments, CR0.PE = 1 with paging off, interrupts off, EAX = 0x2BADB002, EBX = the
 * multiboot information, then a jump to the entry. The hypervisor fills in the two words
 * at the end (entry point, information address) before the guest runs.
 *
 * The stub runs at STUB_BASE, not at the address it is linked at, so every address it
 * uses is written as STUB_BASE + (label - start_stub): a constant the assembler computes.
 */
#define STUB_BASE 0x8000
#define ABS(label) (STUB_BASE + (label - guest_start_stub))

    .section .rodata
    .globl guest_start_stub, guest_start_stub_end, guest_start_stub_entry, guest_start_stub_info
    .globl guest_start_stub_gdt
    .code16
guest_start_stub:
    cli
    cld
    xorw    %ax, %ax
    movw    %ax, %ds                    /* lgdt reads through DS: base 0 */
    lgdtl   ABS(gdt_desc)               /* 32-bit operand size: all 32 bits of the base */
    movl    %cr0, %eax
    orl     $1, %eax                    /* CR0.PE (SDM Vol. 3A, 9.9.1) */
    movl    %eax, %cr0
    ljmpl   $0x08, $ABS(pm32)           /* a far jump loads CS from the new GDT */

    .code32
pm32:
    movw    $0x10, %ax
    movw    %ax, %ds
    movw    %ax, %es
    movw    %ax, %fs
    movw    %ax, %gs
    movw    %ax, %ss
    movl    $0x7000, %esp               /* a stack below the stub, for kernels that want one */
    movl    ABS(guest_start_stub_info), %ebx
    movl    $0x2badb002, %eax           /* "a multiboot loader started you" */
    jmpl    *ABS(guest_start_stub_entry)

    .balign 8
guest_start_stub_gdt:
gdt:
    .quad   0                           /* null descriptor */
    .quad   0x00cf9a000000ffff          /* 0x08: code, base 0, limit 4 GiB, 32-bit, DPL 0 */
    .quad   0x00cf92000000ffff          /* 0x10: data, base 0, limit 4 GiB, 32-bit, DPL 0 */
gdt_desc:
    .word   gdt_desc - gdt - 1
    .long   ABS(gdt)
    .balign 4
guest_start_stub_entry:
    .long   0                           /* filled in: the kernel's entry point */
guest_start_stub_info:
    .long   0                           /* filled in: the multiboot information */
guest_start_stub_end:
    .section .note.GNU-stack, "", @progbits
