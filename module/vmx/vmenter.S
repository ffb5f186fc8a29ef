/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The only assembly of lightvisor: load the guest's general registers,
 * VMLAUNCH or VMRESUME, and on VM exit save them again.
 *
 * The guest's RSP, RIP and RFLAGS live in the VMCS; the others in an
 * array indexed by their hardware encoding (enum lv_reg).
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>
#include <asm/unwind_hints.h>

/* VMCS field encoding of HOST_RSP (asm/vmx.h is not assembler-safe). */
#define LV_VMCS_HOST_RSP	0x00006c14

#define REG(n)	(n * 8)
#define RAX	REG(0)
#define RCX	REG(1)
#define RDX	REG(2)
#define RBX	REG(3)
#define RBP	REG(5)
#define RSI	REG(6)
#define RDI	REG(7)
#define R8	REG(8)
#define R9	REG(9)
#define R10	REG(10)
#define R11	REG(11)
#define R12	REG(12)
#define R13	REG(13)
#define R14	REG(14)
#define R15	REG(15)

.section .text, "ax"

/*
 * int __lv_vmx_vcpu_run(unsigned long *regs, bool launched)
 *
 * Returns 0 after a VM exit, 1 if VMLAUNCH/VMRESUME failed (VMfail).
 * Called with interrupts disabled.
 */
SYM_FUNC_START(__lv_vmx_vcpu_run)
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx

	/* @regs stays on the stack: the exit path finds it at 0(%rsp). */
	push	%rdi

	/* The exit path resumes with this RSP. */
	mov	$LV_VMCS_HOST_RSP, %eax
	vmwrite	%rsp, %rax
	jbe	.Lvmfail

	/* Flags from this test survive the MOVs below. */
	test	%sil, %sil

	mov	%rdi, %rax
	mov	RCX(%rax), %rcx
	mov	RDX(%rax), %rdx
	mov	RBX(%rax), %rbx
	mov	RBP(%rax), %rbp
	mov	RSI(%rax), %rsi
	mov	RDI(%rax), %rdi
	mov	R8(%rax), %r8
	mov	R9(%rax), %r9
	mov	R10(%rax), %r10
	mov	R11(%rax), %r11
	mov	R12(%rax), %r12
	mov	R13(%rax), %r13
	mov	R14(%rax), %r14
	mov	R15(%rax), %r15
	mov	RAX(%rax), %rax

	jz	.Lvmlaunch

	/* On success the CPU continues at lv_vmx_vmexit, not below. */
	UNWIND_HINT_SAVE
	vmresume
	jmp	.Lvmfail
.Lvmlaunch:
	vmlaunch
	jmp	.Lvmfail

SYM_INNER_LABEL(lv_vmx_vmexit, SYM_L_GLOBAL)
	UNWIND_HINT_RESTORE
	ENDBR

	/* Free one register: guest RAX goes on the stack for a moment. */
	push	%rax
	mov	8(%rsp), %rax
	pop	RAX(%rax)
	mov	%rcx, RCX(%rax)
	mov	%rdx, RDX(%rax)
	mov	%rbx, RBX(%rax)
	mov	%rbp, RBP(%rax)
	mov	%rsi, RSI(%rax)
	mov	%rdi, RDI(%rax)
	mov	%r8, R8(%rax)
	mov	%r9, R9(%rax)
	mov	%r10, R10(%rax)
	mov	%r11, R11(%rax)
	mov	%r12, R12(%rax)
	mov	%r13, R13(%rax)
	mov	%r14, R14(%rax)
	mov	%r15, R15(%rax)
	xor	%ebx, %ebx

.Lout:
	/* No guest value may linger in a register, even speculatively. */
	xor	%eax, %eax
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d

	mov	%ebx, %eax
	pop	%rdi
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET

.Lvmfail:
	/* VMfail: the guest never ran; the pops restore the host's registers. */
	mov	$1, %ebx
	jmp	.Lout
SYM_FUNC_END(__lv_vmx_vcpu_run)
