/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Real-mode hello world in boot-sector form: loaded at 0000:7c00, prints
 * to the COM1 UART (polling LSR.THRE before each byte), then halts with
 * interrupts off, which ends lvrun with status 0. It carries the 0xaa55
 * signature so a PC BIOS (e.g. under QEMU) boots it too.
 */
	.include "real-mode.inc"

	.code16
	.text
	.globl	_start
_start:
	real_mode_start
	movw	$msg, %si
	call	puts
3:
	cli
	hlt
	jmp	3b

	uart_puts

msg:
	.asciz	"Hello from real mode\r\n"

	.org	510
	.word	0xaa55
