/* vmenter.S: the VM entry and the VM exit, the one place where host and guest swap
 * registers: VMX switches RSP, RIP, RFLAGS and control state, software the rest. */

/*
 * enum vmx_status vmx_vcpu_enter(struct vcpu *vcpu, int launched)
 *
 *   host stack while the guest runs            struct vcpu (vcpu.h)
 *   +----------------------+                   +------------------+ 0
 *   | return address       |                   | regs.gpr[0..15]  |  the guest's
 *   | rbp, rbx, r12-r15    | callee-saved      |  rax ... r15     |  GPRs
 *   | struct vcpu *        | <- HOST_RSP       +------------------+ 128
 *   +----------------------+                   | host_rsp         |
 *                                              +------------------+
 *
 * VM entry loads RSP/RIP/RFLAGS from the guest-state area, but no other general-
 * purpose register (SDM Vol. 3C, 26.3.2): they keep whatever the host left in them,
 * so we load the guest's values last, just before VMLAUNCH/VMRESUME. A VM exit
 * loads RSP = HOST_RSP and RIP = HOST_RIP = vmx_vmexit (27.5.3), with the guest's
 * values still in every other register; vmx_vmexit saves them before anything
 * else runs. RFLAGS after a VM exit is 0x2 (27.5.3): interrupts off, DF clear.
 */
#define VCPU_RAX 0
#define VCPU_RCX 8
#define VCPU_RDX 16
#define VCPU_RBX 24
#define VCPU_RBP 40
#define VCPU_RSI 48
#define VCPU_RDI 56
#define VCPU_R8 64
#define VCPU_R9 72
#define VCPU_R10 80
#define VCPU_R11 88
#define VCPU_R12 96
#define VCPU_R13 104
#define VCPU_R14 112
#define VCPU_R15 120
#define VCPU_HOST_RSP 128
#define HOST_RSP_FIELD 0x6c14           /* SDM Vol. 3D, B.4.4; checked in vcpu.c */
#define VMX_SUCCEED 0
#define VMX_FAIL_INVALID 1
#define VMX_FAIL_VALID 2

    .text
    .globl vmx_vcpu_enter
    .type vmx_vcpu_enter, @function
vmx_vcpu_enter:
    pushq %rbp
    movq %rsp, %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    pushq %rdi                          /* the vcpu, found at 0(%rsp) after the exit */

    /* HOST_RSP: where the stack is now. Written only when it changed. */
    cmpq %rsp, VCPU_HOST_RSP(%rdi)
    je 1f
    movq %rsp, VCPU_HOST_RSP(%rdi)
    movl $HOST_RSP_FIELD, %eax
    vmwrite %rsp, %rax
    jbe .Lfailed                        /* CF or ZF: VMWRITE failed */
1:
    /* CF = launched. MOV leaves the flags alone, so this survives the loads below. */
    btl $0, %esi
    movq %rdi, %rax
    movq VCPU_RCX(%rax), %rcx
    movq VCPU_RDX(%rax), %rdx
    movq VCPU_RBX(%rax), %rbx
    movq VCPU_RBP(%rax), %rbp
    movq VCPU_RSI(%rax), %rsi
    movq VCPU_RDI(%rax), %rdi
    movq VCPU_R8(%rax), %r8
    movq VCPU_R9(%rax), %r9
    movq VCPU_R10(%rax), %r10
    movq VCPU_R11(%rax), %r11
    movq VCPU_R12(%rax), %r12
    movq VCPU_R13(%rax), %r13
    movq VCPU_R14(%rax), %r14
    movq VCPU_R15(%rax), %r15
    movq VCPU_RAX(%rax), %rax           /* last: RAX held the pointer */
    jc 2f
    vmlaunch
    jmp .Lfailed
2:  vmresume

    /* Still here: the entry failed before loading guest state (VMfail, 30.2). */
.Lfailed:
    movl $VMX_FAIL_VALID, %eax          /* MOV keeps CF from the failed instruction */
    jnc 3f
    movl $VMX_FAIL_INVALID, %eax
3:  popq %rdi
    jmp .Lreturn

    .globl vmx_vmexit
    .type vmx_vmexit, @function
vmx_vmexit:
    /* RSP = HOST_RSP: 0(%rsp) is the vcpu. Every other register is the guest's. */
    pushq %rax
    movq 8(%rsp), %rax
    movq %rcx, VCPU_RCX(%rax)
    movq %rdx, VCPU_RDX(%rax)
    movq %rbx, VCPU_RBX(%rax)
    movq %rbp, VCPU_RBP(%rax)
    movq %rsi, VCPU_RSI(%rax)
    movq %rdi, VCPU_RDI(%rax)
    movq %r8, VCPU_R8(%rax)
    movq %r9, VCPU_R9(%rax)
    movq %r10, VCPU_R10(%rax)
    movq %r11, VCPU_R11(%rax)
    movq %r12, VCPU_R12(%rax)
    movq %r13, VCPU_R13(%rax)
    movq %r14, VCPU_R14(%rax)
    movq %r15, VCPU_R15(%rax)
    popq VCPU_RAX(%rax)                 /* the guest's RAX */
    popq %rdi
    xorl %eax, %eax                     /* VMX_SUCCEED: the guest ran and exited */

.Lreturn:
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size vmx_vcpu_enter, . - vmx_vcpu_enter

    .section .note.GNU-stack, "", @progbits
