/* probe.S: chapter 07's robustness probes, one tiny 32-bit multiboot guest per misbehaviour: reach
 * past its RAM, run an instruction the platform does not handle, triple-fault, or lie. */

/*
 * Built four times (meson.build), once per PROBE_* define. Each prints what it is about
 * to do on COM1, does it, and if it is still running afterwards says so and powers off.
 * PROBE_ESCAPE writes and reads the first word past its 16 MiB of RAM (host RAM lies
 * there, physically) and prints what it read: a PC bus with nothing there reads all
 * ones. The others must never get that far. PROBE_TRUNCATED never runs: its multiboot
 * header claims 1 MiB of file, and the loader must refuse it. PROBE_PRINT is no
 * misbehaviour: it times 32 KiB of console output (tools/bench_hypervisor.py).
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
    movl $0x7000, %esp                  /* multiboot leaves ESP undefined */
    movw $0x3fb, %dx                    /* COM1 LCR: 8 data bits, no parity, 1 stop bit */
    movb $0x03, %al
    outb %al, %dx
    movl $hello, %esi
    call print
#if defined(PROBE_ESCAPE)
    movl $0x5a5a5a5a, 0x1000000         /* 16 MiB: just past the guest's RAM */
    movl 0x1000000, %ebx
    movl $read, %esi
    call print
    movl %ebx, %eax
    call print_hex
#elif defined(PROBE_UNHANDLED)
    invd                                /* exits unconditionally (SDM Vol. 3C, 25.1.2) */
#elif defined(PROBE_TRIPLE)
    lidt null_idt                       /* no IDT: the #UD becomes #DF, then a triple fault */
    ud2
#elif defined(PROBE_PRINT)
    rdtsc                               /* the console's speed: 512 lines of 64 bytes, timed */
    movl %eax, start_tsc
    movl $512, %ebp
5:  movl $line, %esi
    call print
    decl %ebp
    jnz 5b
    rdtsc
    subl start_tsc, %eax
    movl %eax, %ebx
    movl $ticks, %esi
    call print
    movl %ebx, %eax
    call print_hex
    movl $done, %esi
    call print
    jmp power_off
#endif
    movl $alive, %esi
    call print
power_off:
    movw $0x604, %dx                    /* power off (ACPI PM1a: SLP_EN) */
    movw $0x2000, %ax
    outw %ax, %dx
1:  jmp 1b

/* "0x12345678\r\n" for EAX. */
print_hex:
    movl %eax, %ebx
    movl $hex_prefix, %esi
    call print
    movl $8, %edi
4:  roll $4, %ebx
    movl %ebx, %eax
    andl $0xf, %eax
    movb hexdigits(%eax), %al
    movb %al, digit
    movl $digit, %esi
    call print
    decl %edi
    jnz 4b
    movl $crlf, %esi
    jmp print

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
hexdigits:
    .ascii "0123456789abcdef"
read:
    .asciz "probe: read "
hex_prefix:
    .asciz "0x"
crlf:
    .asciz "\r\n"
hello:
#if defined(PROBE_ESCAPE)
    .asciz "probe: writing and reading guest-physical 0x1000000, past the guest's RAM\r\n"
#elif defined(PROBE_PRINT)
    .asciz "probe: printing 512 lines of 64 bytes\r\n"
#elif defined(PROBE_UNHANDLED)
    .asciz "probe: executing INVD\r\n"
#elif defined(PROBE_TRIPLE)
    .asciz "probe: ud2 without an IDT\r\n"
#else
    .asciz "probe: a truncated image\r\n"
#endif
alive:
    .asciz "probe: still running after the misbehaviour\r\n"
line:
    .ascii "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n"
    .byte 0
ticks:
    .asciz "probe: 32768 bytes printed in TSC ticks: "
done:
    .asciz "probe: done\r\n"
start_tsc:
    .long 0
digit:                                  /* written: the image is plain RAM, paging is off */
    .asciz "x"
    .section .note.GNU-stack, "", @progbits
