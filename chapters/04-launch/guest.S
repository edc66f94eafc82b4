/* guest.S: chapter 04's two guest programs, one for 64-bit mode and one for real mode,
 * copied into guest memory by main.c. Both talk to the hypervisor with VMCALL. */

/*
 * The protocol (the hypervisor's side is handle_vmcall() in main.c):
 *
 *   VMCALL with RAX = 1  "hello": the hypervisor answers with the run's seed,
 *                        RBX = bits 31:0, RCX = bits 63:32
 *   the guest computes   result = ((seed_lo ^ 0xa5a5a5a5) * 0x9e3779b1 + seed_hi) mod 2^32
 *   VMCALL with RAX = 2  "result" in RBX: the hypervisor checks it and stops the guest
 *   VMCALL with RAX = 3  "done", repeated forever, in case the hypervisor resumes it
 *
 * The 64-bit guest also inverts 14 general-purpose registers before "hello", so the
 * hypervisor can check that every register made it into the guest and back out.
 */
#define SEED_XOR 0xa5a5a5a5
#define SEED_MUL 0x9e3779b1

    .section .rodata
    .globl guest64_start, guest64_hello, guest64_end
    .code64
guest64_start:
    notq %rcx
    notq %rdx
    notq %rbx
    notq %rsi
    notq %rdi
    notq %rbp
    notq %r8
    notq %r9
    notq %r10
    notq %r11
    notq %r12
    notq %r13
    notq %r14
    notq %r15
    movl $1, %eax
guest64_hello:
    vmcall
    pushq %rcx                          /* the stack page is mapped too */
    movl %ebx, %eax
    xorl $SEED_XOR, %eax
    imull $SEED_MUL, %eax, %eax
    popq %rdx
    addl %edx, %eax
    movl %eax, %ebx
    movl $2, %eax
    vmcall
1:  movl $3, %eax
    vmcall
    jmp 1b
guest64_end:

    .globl guest16_start, guest16_end
    .code16
guest16_start:                          /* runs at 0000:8000 in real mode */
    movl $1, %eax
    vmcall
    movl %ebx, %eax
    xorl $SEED_XOR, %eax
    imull $SEED_MUL, %eax, %eax
    addl %ecx, %eax
    movl %eax, %ebx
    movl $2, %eax
    vmcall
1:  movl $3, %eax
    vmcall
    jmp 1b
guest16_end:
    .code64

    .section .note.GNU-stack, "", @progbits
