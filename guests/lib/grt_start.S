/* grt_start.S: a test guest's first bytes: the image header the hypervisor reads, the entry
 * point, and the 256 interrupt entry stubs that build a struct grt_frame. */
#include "trap_asm.h"

#define GUEST_IMAGE_MAGIC 0x54534748
#define STACK_SIZE 16384

    .section .guest_header, "a"
    .long GUEST_IMAGE_MAGIC
    .long 1                             /* GUEST_IMAGE_VERSION */
    .quad image_start, _start, image_file_end, image_mem_end, grt_stack_top

    /* The hypervisor starts us in 64-bit mode at CPL 0, paging on, interrupts off. */
    .section .text.start, "ax"
    .code64
    .globl _start
_start:
    leaq grt_stack_top(%rip), %rsp
    xorl %ebp, %ebp
    call grt_main                       /* grt.c: grt_init(), guest_main(), exit hypercall */
1:  hlt
    jmp 1b

    .text
    .altmacro
.macro grt_stub v
    .p2align 4
grt_stub_\v:
    .if !HAS_ERROR_CODE(\v)
    pushq $0
    .endif
    pushq $\v
    jmp grt_common
.endm
    .set i, 0
    .rept 256
    grt_stub %i
    .set i, i + 1
    .endr

grt_common:
    cld
    PUSH_GPRS
    movq %rsp, %rdi
    call grt_trap
    POP_GPRS
    addq $16, %rsp
    iretq

.macro stub_addr v
    .quad grt_stub_\v
.endm
    .section .rodata
    .p2align 3
    .globl grt_stubs
grt_stubs:
    .set i, 0
    .rept 256
    stub_addr %i
    .set i, i + 1
    .endr

    .bss
    .p2align 12
grt_stack:
    .skip STACK_SIZE
    .globl grt_stack_top
grt_stack_top:

    .section .note.GNU-stack, "", @progbits
