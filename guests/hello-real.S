/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Real-mode hello world in boot-sector form: loaded at 0000:7c00, prints
 * to the COM1 UART (polling LSR.THRE before each byte), then halts with
 * interrupts off, which ends lvrun with status 0. It carries the 0xaa55
 * signature so a PC BIOS (e.g. under QEMU) boots it too.
 */
	.code16
	.text
	.globl	_start
_start:
	cli
	xorw	%ax, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movw	$0x7c00, %sp
	cld
	movw	$msg, %si
1:
	lodsb
	testb	%al, %al
	jz	3f
	movb	%al, %bl
	movw	$0x3fd, %dx		/* LSR */
2:
	inb	%dx, %al
	testb	$0x20, %al		/* THRE */
	jz	2b
	movw	$0x3f8, %dx		/* THR */
	movb	%bl, %al
	outb	%al, %dx
	jmp	1b
3:
	cli
	hlt
	jmp	3b

msg:
	.asciz	"Hello from real mode\r\n"

	.org	510
	.word	0xaa55
