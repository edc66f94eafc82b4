/* trap_entry.S: one entry stub per IDT vector, and the common path that saves
 * every general-purpose register into a struct trap_frame and calls trap_dispatch. */

#include "trap_asm.h"

    .text
    .altmacro
.macro trap_stub v
    .p2align 4
trap_stub_\v:
    .if !HAS_ERROR_CODE(\v)
    pushq $0                        /* uniform frame: a zero error code */
    .endif
    pushq $\v
    jmp trap_common
.endm

    .set i, 0
    .rept 256
    trap_stub %i
    .set i, i + 1
    .endr

trap_common:
    cld
    PUSH_GPRS
    movq %rsp, %rdi
    /* A frame record so backtraces continue into the interrupted code. */
    pushq 17*8(%rsp)                /* the interrupted RIP */
    pushq %rbp
    movq %rsp, %rbp
    call trap_dispatch
    addq $16, %rsp
    POP_GPRS
    addq $16, %rsp                  /* vector and error code */
    iretq

.macro stub_addr v
    .quad trap_stub_\v
.endm
    .section .rodata
    .p2align 3
    .globl trap_stubs
trap_stubs:
    .set i, 0
    .rept 256
    stub_addr %i
    .set i, i + 1
    .endr

    .section .note.GNU-stack, "", @progbits
