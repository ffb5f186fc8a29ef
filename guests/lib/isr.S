/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Interrupt entry stubs, 16 bytes each so idt.c can compute their
 * addresses. Each pushes a dummy error code where the CPU pushes none,
 * then the vector, and joins isr_common, which hands struct irq_frame to
 * isr_dispatch().
 */
	.text
	.code64

	.align	16
	.globl	isr_stubs
isr_stubs:
	.set	vec, 0
	.rept	256
	.align	16
	/* Exceptions with an error code: 8, 10-14, 17, 21, 29, 30. */
	.if	vec < 32
	.if	((0x60227d00 >> vec) & 1) == 0
	pushq	$0
	.endif
	.else
	pushq	$0
	.endif
	pushq	$vec
	jmp	isr_common
	.set	vec, vec + 1
	.endr

isr_common:
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%rbp
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, %rdi
	cld
	call	isr_dispatch
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rbp
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	addq	$16, %rsp
	iretq

	.section .note.GNU-stack, "", @progbits
