/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Boot sector that enters 32-bit protected mode, then turns on PAE paging
 * with a MOV to CR0 that lightvisor handles (CR0.NE changes with it, so
 * the write exits). First a PDPTE has a reserved bit set: the write must
 * raise #GP and leave paging off, not fail the next VM entry. Then, with
 * the PDPTE fixed, paging must come on. Reports TAP on the UART and ends
 * through the debug-exit port: 0 when everything held (lvrun status 1).
 */
	.include "real-mode.inc"

	.code16
	.text
	.globl	_start
_start:
	cli
	xorw	%ax, %ax
	movw	%ax, %ds
	movw	%ax, %ss
	movw	$0x7c00, %sp
	lgdtl	gdt_desc
	lidtl	idt_desc
	movl	%cr0, %eax
	orl	$1, %eax			/* CR0.PE */
	movl	%eax, %cr0
	ljmpl	$0x08, $pm32

	.code32
pm32:
	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movl	$0x7c00, %esp

	/* PDPT at 0x10000: entry 0 -> PD at 0x11000, with reserved bit 1. */
	movl	$0x11003, 0x10000
	movl	$0, 0x10004
	movl	$0x83, 0x11000			/* 2 MiB identity page */
	movl	$0, 0x11004
	movl	%cr4, %eax
	orl	$0x20, %eax			/* CR4.PAE */
	movl	%eax, %cr4
	movl	$0x10000, %eax
	movl	%eax, %cr3
	movl	%cr0, %eax
	orl	$0x80000020, %eax		/* CR0.PG | CR0.NE */
	movl	%eax, %cr0
	/* Not reached when the #GP comes: the handler goes to after_gp. */
	movl	$msg_no_gp, %esi
	call	puts
	jmp	fail

after_gp:
	movl	%cr0, %eax
	testl	$0x80000000, %eax
	jnz	fail
	movl	$msg_gp, %esi
	call	puts

	movl	$0x11001, 0x10000		/* the PDPTE fixed */
	movl	%cr0, %eax
	orl	$0x80000020, %eax
	movl	%eax, %cr0
	jmp	1f
1:
	movl	$0x5a5a1234, 0x20000
	cmpl	$0x5a5a1234, 0x20000
	jne	fail
	movl	$msg_pg, %esi
	call	puts
	xorl	%eax, %eax
	outb	%al, $0xf4
fail:
	movl	$msg_fail, %esi
	call	puts
	movb	$2, %al
	outb	%al, $0xf4
	hlt

gp_handler:
	addl	$16, %esp			/* error code, EIP, CS, EFLAGS */
	jmp	after_gp

	uart_puts

	.p2align 3
gdt:
	.quad	0
	.quad	0x00cf9a000000ffff		/* 0x08: flat 32-bit code */
	.quad	0x00cf92000000ffff		/* 0x10: flat data */
gdt_desc:
	.word	gdt_desc - gdt - 1
	.long	gdt

	/* Vectors 0-13; only #GP (13) has a gate. */
	.p2align 3
idt:
	.fill	13, 8, 0
	.word	gp_handler			/* the sector lies below 64K */
	.word	0x08
	.byte	0, 0x8e				/* 32-bit interrupt gate */
	.word	0
idt_desc:
	.word	idt_desc - idt - 1
	.long	idt

msg_gp:
	.asciz	"ok 1 - bad PDPTE: #GP\r\n"
msg_pg:
	.asciz	"ok 2 - PAE on\r\n1..2\r\n"
msg_no_gp:
	.asciz	"not ok 1 - no #GP\r\n"
msg_fail:
	.asciz	"not ok 2\r\n1..2\r\n"

	.org	510
	.word	0xaa55
