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

/* Set CR0.CD|NW, report CR0 on port 0x40 (32 bits), HLT. */
	.globl	guest_cr0_cd, guest_cr0_cd_end
guest_cr0_cd:
	movl	%cr0, %eax
	orl	$0x60000000, %eax
	movl	%eax, %cr0
	movl	%cr0, %eax
	outl	%eax, $0x40
	hlt
guest_cr0_cd_end:

/* Report CR0 on port 0x40, HLT. */
	.globl	guest_cr0_read, guest_cr0_read_end
guest_cr0_read:
	movl	%cr0, %eax
	outl	%eax, $0x40
	hlt
guest_cr0_read_end:

/*
 * CR4.PKE on; report PKRU on port 0x40; write 0xc to PKRU and report it
 * again; HLT.
 */
	.globl	guest_pkru, guest_pkru_end
guest_pkru:
	movl	%cr4, %eax
	orl	$0x400000, %eax
	movl	%eax, %cr4
	xorl	%ecx, %ecx
	rdpkru
	outl	%eax, $0x40
	movl	$0xc, %eax
	xorl	%ecx, %ecx
	xorl	%edx, %edx
	wrpkru
	xorl	%ecx, %ecx
	rdpkru
	outl	%eax, $0x40
	hlt
guest_pkru_end:

/* Arm a data breakpoint at 0x2000 in DR0/DR7, report on port 0x40, HLT. */
	.globl	guest_dr, guest_dr_end
guest_dr:
	movl	$0x2000, %eax
	movl	%eax, %db0
	movl	$0x000d0001, %eax
	movl	%eax, %db7
	outl	%eax, $0x40
	hlt
guest_dr_end:

	.code64
	.section .note.GNU-stack, "", @progbits
