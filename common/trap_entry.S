/* trap_entry.S: one entry stub per IDT vector, and the common path that saves
 * every general-purpose register into a struct trap_frame and calls trap_dispatch. */

/* Vectors whose exception pushes an error code (SDM Vol. 3A, 6.13). */
#define HAS_ERROR_CODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

    .text
    .altmacro
.macro trap_stub v
    .p2align 4
trap_stub_\v:
    .if !((\v == 8) || ((\v >= 10) && (\v <= 14)) || (\v == 17) || (\v == 21) || (\v == 29) || (\v == 30))
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
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, %rdi
    /* A frame record so backtraces continue into the interrupted code. */
    pushq 17*8(%rsp)                /* the interrupted RIP */
    pushq %rbp
    movq %rsp, %rbp
    call trap_dispatch
    addq $16, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
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
