/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tiny real-mode guests for the ABI tests, kept as data and copied to
 * guest-physical 0x1000 (CS base 0, IP 0x1000) by the tests.
 */
	.section .rodata
	.code16

/* OUT 42 to port 0x10, IN from port 0x11 and echo it to port 0x12, HLT. */
	.globl	guest_io_hlt, guest_io_hlt_end
guest_io_hlt:
	movb	$42, %al
	outb	%al, $0x10
	inb	$0x11, %al
	outb	%al, $0x12
	hlt
guest_io_hlt_end:

/* Spin forever. */
	.globl	guest_loop, guest_loop_end
guest_loop:
1:	jmp	1b
guest_loop_end:

/* Write BL to port 0x20 ten times, then HLT. */
	.globl	guest_count, guest_count_end
guest_count:
	movw	$10, %cx
1:	movb	%bl, %al
	outb	%al, $0x20
	loop	1b
	hlt
guest_count_end:

/*
 * Wait in STI;HLT. The test points IVT vectors 0x40/0x41 at the handlers,
 * which report their vector on port 0x30.
 */
	.globl	guest_irq, guest_irq_end
guest_irq:
1:	sti
	hlt
	jmp	1b
	.org	guest_irq + 0x100
	movb	$0x40, %al
	outb	%al, $0x30
	iret
	.org	guest_irq + 0x110
	movb	$0x41, %al
	outb	%al, $0x30
	iret
guest_irq_end:

	.code64
	.section .note.GNU-stack, "", @progbits
