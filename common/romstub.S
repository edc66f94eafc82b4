/* romstub.S: the reset-vector stub of the boot ROM that tools/mkrom.py builds.
 * It plays the part of a multiboot loader: real mode -> 32-bit protected mode, copy, jump. */

/*
 * Why a ROM instead of a BIOS: Bochs has no "-kernel" option, and booting
 * through its BIOS and GRUB costs over a second per run. A CPU starts at
 * physical 0xFFFFFFF0 (SDM Vol. 3A, 9.1.4), which is the top of this ROM, so
 * a few dozen instructions here replace the whole firmware.
 *
 * tools/mkrom.py fills the 4 KiB table at ROM_TABLE (the first page of this
 * stub) with copy records {src, dst, filesz, memsz}: the kernel's ELF
 * segments, the multiboot information block and its strings, and any
 * modules. Everything the loader decides (where things go, the command
 * line) is decided in Python; this stub only copies and jumps.
 *
 *   0xFFFF0000  ROM_TABLE: "HVTROM01", entry, count, records[]
 *   0xFFFF1000  start16, start32 (this code), the GDT
 *   0xFFFFFFF0  reset vector: jmp start16
 */
#define ROM_TABLE     0xFFFF0000
#define TABLE_MAGIC   0      /* 8 bytes "HVTROM01" */
#define TABLE_ENTRY   8      /* 32-bit physical entry point */
#define TABLE_INFO    12     /* 32-bit address of the multiboot info block */
#define TABLE_COUNT   16     /* number of copy records */
#define TABLE_RECORDS 20     /* records: src, dst, filesz, memsz (4 x 32 bits) */
#define MB_LOADER_MAGIC 0x2BADB002

    .section .rom_table, "a"
    .fill 4096, 1, 0

    .section .text, "ax"
    .code16
    .globl start16
start16:
    cli
    cld
    /* CS.base is 0xFFFF0000 after reset, so %cs: reaches the GDT pointer. */
    lgdtl %cs:(rom_gdt_ptr - ROM_TABLE)
    movl %cr0, %eax
    orl $1, %eax                    /* CR0.PE */
    movl %eax, %cr0
    ljmpl $0x08, $start32

    .code32
start32:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    movl $0x7000, %esp

    /* Copy each record, then zero its tail (an ELF segment's .bss). */
    movl $ROM_TABLE, %ebx
    movl TABLE_COUNT(%ebx), %ebp
    leal TABLE_RECORDS(%ebx), %ebx
1:  testl %ebp, %ebp
    jz 2f
    movl 0(%ebx), %esi
    movl 4(%ebx), %edi
    movl 8(%ebx), %ecx
    rep movsb
    movl 12(%ebx), %ecx
    subl 8(%ebx), %ecx
    xorl %eax, %eax
    rep stosb
    addl $16, %ebx
    decl %ebp
    jmp 1b

    /* Hand over exactly as a multiboot v1 loader would. */
2:  movl $ROM_TABLE, %ecx
    movl TABLE_INFO(%ecx), %ebx
    movl TABLE_ENTRY(%ecx), %edx
    movl $MB_LOADER_MAGIC, %eax
    jmp *%edx

    .p2align 3
rom_gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF        /* 0x08: 32-bit flat code */
    .quad 0x00CF92000000FFFF        /* 0x10: 32-bit flat data */
rom_gdt_end:
rom_gdt_ptr:
    .word rom_gdt_end - rom_gdt - 1
    .long rom_gdt

    .section .reset, "ax"
    .code16
reset_vector:
    jmp start16

    .section .note.GNU-stack, "", @progbits
