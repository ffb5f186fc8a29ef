/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Real-mode self test (boot-sector form, also bootable by a BIOS): UART
 * scratch register, LSR, an unclaimed port, REP OUTSB, and a software
 * interrupt through a handler installed in the real-mode IVT. Prints TAP
 * and ends through the debug-exit port: 0 if all passed, 2 otherwise.
 */
	.include "real-mode.inc"

	.code16
	.text

	/* Print "ok N - ..." or "not ok N - ..." depending on ZF. */
	.macro	tap_result str
	movw	$\str, %si
	call	result
	.endm

	.globl	_start
_start:
	real_mode_start
	movw	$plan, %si
	call	puts

	/* 1: scratch register round trip */
	movw	$0x3ff, %dx
	movb	$0xc3, %al
	outb	%al, %dx
	xorb	%al, %al
	inb	%dx, %al
	cmpb	$0xc3, %al
	tap_result t1

	/* 2: LSR says the transmitter is empty */
	movw	$0x3fd, %dx
	inb	%dx, %al
	andb	$0x60, %al
	cmpb	$0x60, %al
	tap_result t2

	/* 3: an unclaimed port reads all ones */
	movw	$0x1e0, %dx
	inw	%dx, %ax
	cmpw	$0xffff, %ax
	tap_result t3

	/* 4: REP OUTSB to the scratch register leaves the last byte */
	movw	$0x3ff, %dx
	movw	$rep_data, %si
	movw	$4, %cx
	rep outsb
	inb	%dx, %al
	cmpb	$'d', %al
	tap_result t4

	/* 5: INT 0x80 through our own IVT entry */
	movw	$int_handler, 0x80 * 4
	movw	$0, 0x80 * 4 + 2
	movb	$0, int_hit
	int	$0x80
	cmpb	$1, int_hit
	tap_result t5

	xorl	%eax, %eax
	cmpb	$0, failures
	je	1f
	movl	$2, %eax
1:
	movw	$0xf4, %dx
	outl	%eax, %dx
2:
	cli
	hlt
	jmp	2b

int_handler:
	movb	$1, int_hit
	iret

/* ZF set: pass. %si: the rest of the line, from "ok". */
result:
	pushw	%si
	jz	1f
	incb	failures
	movw	$not, %si
	call	puts
1:
	popw	%si
	/* fall through */

	uart_puts

plan:	.asciz	"1..5\r\n"
not:	.asciz	"not "
t1:	.asciz	"ok 1 - real mode: scratch register round trip\r\n"
t2:	.asciz	"ok 2 - real mode: LSR transmitter empty\r\n"
t3:	.asciz	"ok 3 - real mode: unclaimed port reads all ones\r\n"
t4:	.asciz	"ok 4 - real mode: REP OUTSB\r\n"
t5:	.asciz	"ok 5 - real mode: INT 0x80 via the IVT\r\n"
rep_data:
	.ascii	"abcd"
failures:
	.byte	0
int_hit:
	.byte	0

	.org	510
	.word	0xaa55
