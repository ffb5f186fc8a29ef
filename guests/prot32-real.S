/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Boot sector that enters 32-bit protected mode by itself, then turns on
 * 32-bit paging with a 4 MiB page, checking that memory reads back the
 * same through it. Reports TAP on the UART and ends through the debug-exit
 * port: 0 when everything held (lvrun status 1), 2 otherwise (status 5).
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
	movl	$msg_pm, %esi
	call	puts

	/* 32-bit paging, PDE 0 a 4 MiB identity page, PDE 1 maps 4M -> 0. */
	movl	$0x83, 0x10000			/* P | RW | PS */
	movl	$0x83, 0x10004
	movl	%cr4, %eax
	orl	$0x10, %eax			/* CR4.PSE */
	movl	%eax, %cr4
	movl	$0x10000, %eax
	movl	%eax, %cr3
	movl	%cr0, %eax
	orl	$0x80000000, %eax		/* CR0.PG */
	movl	%eax, %cr0
	jmp	1f
1:
	movl	$msg_pg, %esi
	call	puts

	/* A write through the alias at 4 MiB must land at 0x20000. */
	movl	$0x1234abcd, 0x420000
	cmpl	$0x1234abcd, 0x20000
	jne	fail
	movl	$msg_alias, %esi
	call	puts
	movl	$msg_plan, %esi
	call	puts
	xorl	%eax, %eax
	outb	%al, $0xf4
fail:
	movl	$msg_fail, %esi
	call	puts
	movb	$2, %al
	outb	%al, $0xf4
	hlt

	uart_puts

	.p2align 3
gdt:
	.quad	0
	.quad	0x00cf9a000000ffff		/* 0x08: flat 32-bit code */
	.quad	0x00cf92000000ffff		/* 0x10: flat data */
gdt_desc:
	.word	gdt_desc - gdt - 1
	.long	gdt

msg_pm:
	.asciz	"ok 1 - 32-bit protected mode entered\r\n"
msg_pg:
	.asciz	"ok 2 - 32-bit paging with a 4 MiB page on\r\n"
msg_alias:
	.asciz	"ok 3 - a write through an alias mapping lands in place\r\n"
msg_plan:
	.asciz	"1..3\r\n"
msg_fail:
	.asciz	"not ok 3 - alias mapping\r\n1..3\r\n"

	.org	510
	.word	0xaa55
