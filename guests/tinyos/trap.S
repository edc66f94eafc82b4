/* trap.S: every way into and out of the kernel: interrupt and exception stubs,
 * the SYSCALL entry and SYSRET exit, IRETQ to user mode, and the context switch. */

/*
 * All three entries build the same struct trapframe (kernel.h) on the task's
 * kernel stack: what the CPU pushed (SS, RSP, RFLAGS, CS, RIP), an error code,
 * the vector, then the general registers. GS: in the kernel GS.base points at
 * struct percpu; in user mode it is the user's (0), and SWAPGS exchanges the two
 * (SDM Vol. 2B, SWAPGS). An entry from user mode swaps; one from the kernel does not.
 */
#define SEL_UDATA 0x1B
#define SEL_UCODE 0x23
#define VEC_SYSCALL 0x100                  /* not a CPU vector: marks a system call frame */

.macro PUSH_GPRS
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
.endm

.macro POP_GPRS
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
.endm

/* One stub per vector; the CPU pushes an error code only for some exceptions. */
.macro VECTOR n
    .p2align 4
vector_\n:
    .if !(\n == 8 || (\n >= 10 && \n <= 14) || \n == 17 || \n == 21 || \n == 29 || \n == 30)
    pushq $0
    .endif
    pushq $\n
    jmp trap_common
.endm

    .text
    .altmacro
    .set i, 0
    .rept 32
    VECTOR %i
    .set i, i + 1
    .endr
    VECTOR 240                            /* LAPIC timer */
    VECTOR 241                            /* spurious */
    VECTOR 242                            /* LAPIC error */

trap_common:
    testb $3, 24(%rsp)                    /* CS of the interrupted code: user mode? */
    jz 1f
    swapgs
1:  PUSH_GPRS
    movq %rsp, %rdi
    call trap_dispatch
    /* fall through */

/* Return through the trapframe at RSP; also where a new user task starts. */
    .globl trap_return
trap_return:
    POP_GPRS
    addq $16, %rsp                        /* vector, error code */
    testb $3, 8(%rsp)
    jz 2f
    swapgs
2:  iretq

/* SYSCALL (SDM Vol. 2B): RCX = user RIP, R11 = user RFLAGS, interrupts masked by
 * IA32_FMASK, RSP still the user's: switch to this task's kernel stack first. */
    .globl syscall_entry
syscall_entry:
    swapgs
    movq %rsp, %gs:8                      /* percpu.user_rsp */
    movq %gs:0, %rsp                      /* percpu.kstack_top */
    pushq $SEL_UDATA
    pushq %gs:8
    pushq %r11
    pushq $SEL_UCODE
    pushq %rcx
    pushq $0
    pushq $VEC_SYSCALL
    PUSH_GPRS
    movq %rsp, %rdi
    call syscall_dispatch                 /* the result goes into the frame's RAX */
    POP_GPRS
    addq $16, %rsp
    popq %rcx                             /* SYSRET: RIP <- RCX, RFLAGS <- R11 */
    addq $8, %rsp
    popq %r11
    popq %rsp                             /* the user stack; interrupts are still masked */
    swapgs
    sysretq

/* A new kernel task starts here (task.c built its stack): R12 = function, R13 = argument. */
    .globl kernel_task_entry
kernel_task_entry:
    movq %r13, %rdi
    sti
    call *%r12
    xorl %edi, %edi
    call task_exit

/* switch_context(&old->ksp, new->ksp): save the callee-saved registers on this
 * stack, take the other task's stack, and return into wherever it stopped. */
    .globl switch_context
switch_context:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret

    .section .rodata
    .globl trap_vectors
    .p2align 3
.macro VECTOR_ADDR n
    .quad vector_\n
.endm
trap_vectors:                             /* vectors 0..31, then 0xF0, 0xF1, 0xF2 */
    .set i, 0
    .rept 32
    VECTOR_ADDR %i
    .set i, i + 1
    .endr
    .quad vector_240, vector_241, vector_242

    .section .note.GNU-stack, "", @progbits
