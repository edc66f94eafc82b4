/* probe.S: chapter 07's robustness probes, one tiny 32-bit multiboot guest per misbehaviour: read
 * memory beyond its RAM, run an instruction the platform does not handle, triple-fault, or lie. */

/*
 * Built four times (meson.build), once per PROBE_* define. Each prints what it is about
 * to do on COM1, does it, and if it is still running afterwards says so and powers off,
 * which the tests treat as the hypervisor failing to stop it. PROBE_TRUNCATED never runs:
 * its multiboot header claims 1 MiB of file, and the loader must refuse it.
 */
#define MB_MAGIC  0x1BADB002
#define MB_FLAGS  0x00010000            /* only the a.out-kludge addresses */

    .text
    .code32
    .globl _start
_start:
    jmp start32

    .p2align 2
multiboot_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)
    .long multiboot_header              /* header_addr */
    .long _start                        /* load_addr */
#ifdef PROBE_TRUNCATED
    .long _start + 0x100000             /* load_end_addr: far beyond the end of the file */
#else
    .long 0                             /* load_end_addr: the whole file */
#endif
    .long 0                             /* bss_end_addr: no BSS */
    .long _start                        /* entry_addr */

start32:
    movl $hello, %esi
    call print
#if defined(PROBE_ESCAPE)
    movl 0x8000000, %eax                /* 128 MiB: no guest RAM there (EPT maps 16 MiB) */
#elif defined(PROBE_UNHANDLED)
    invd                                /* exits unconditionally (SDM Vol. 3C, 25.1.2) */
#elif defined(PROBE_TRIPLE)
    lidt null_idt                       /* no IDT: the #UD becomes #DF, then a triple fault */
    ud2
#endif
    movl $alive, %esi
    call print
    movw $0x604, %dx                    /* power off (ACPI PM1a: SLP_EN) */
    movw $0x2000, %ax
    outw %ax, %dx
1:  jmp 1b

/* Print the NUL-terminated string at ESI on COM1, polling LSR.THRE before each byte. */
print:
    movb (%esi), %cl
    testb %cl, %cl
    jz 3f
    movw $0x3fd, %dx
2:  inb %dx, %al
    testb $0x20, %al
    jz 2b
    movw $0x3f8, %dx
    movb %cl, %al
    outb %al, %dx
    incl %esi
    jmp print
3:  ret

    .p2align 3
null_idt:
    .word 0
    .long 0
hello:
#if defined(PROBE_ESCAPE)
    .asciz "probe: reading guest-physical 0x8000000, beyond the guest's RAM\r\n"
#elif defined(PROBE_UNHANDLED)
    .asciz "probe: executing INVD\r\n"
#elif defined(PROBE_TRIPLE)
    .asciz "probe: ud2 without an IDT\r\n"
#else
    .asciz "probe: a truncated image\r\n"
#endif
alive:
    .asciz "probe: still running after the misbehaviour\r\n"
    .section .note.GNU-stack, "", @progbits
