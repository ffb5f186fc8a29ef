/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Real-mode guests for abi_ioeventfd, copied to guest-physical 0x1000
 * (CS base 0). The test's RAM ends at 0x10000, so DS = SI >= 0x1000
 * puts DS:DI on MMIO. Parameters come in registers; each ends in HLT.
 */
	.section .rodata
	.code16

/* CX times: store EBX (4 bytes) at SI:DI. */
	.globl	ioev_store32, ioev_store32_end
ioev_store32:
	movw	%si, %ds
1:	movl	%ebx, (%di)
	loop	1b
	hlt
ioev_store32_end:

/* Store BX (2 bytes) at SI:DI. */
	.globl	ioev_store16, ioev_store16_end
ioev_store16:
	movw	%si, %ds
	movw	%bx, (%di)
	hlt
ioev_store16_end:

/* EAX = the 4 bytes at SI:DI. */
	.globl	ioev_load32, ioev_load32_end
ioev_load32:
	movw	%si, %ds
	movl	(%di), %eax
	hlt
ioev_load32_end:

/* CX times: OUT AX (2 bytes) to port DX. */
	.globl	ioev_outw, ioev_outw_end
ioev_outw:
1:	outw	%ax, %dx
	loop	1b
	hlt
ioev_outw_end:

/* OUT AL to port DX. */
	.globl	ioev_outb, ioev_outb_end
ioev_outb:
	outb	%al, %dx
	hlt
ioev_outb_end:

/* AX = IN (2 bytes) from port DX. */
	.globl	ioev_inw, ioev_inw_end
ioev_inw:
	inw	%dx, %ax
	hlt
ioev_inw_end:

/* REP OUTSW: CX words from 0:SI to port DX. */
	.globl	ioev_rep_outsw, ioev_rep_outsw_end
ioev_rep_outsw:
	cld
	rep outsw
	hlt
ioev_rep_outsw_end:

/*
 * CX times: store EBX at BP:DI, then OUT AX to port DX. DS stays 0 so
 * the loop's own data needs no segment; ES carries the MMIO segment.
 */
	.globl	ioev_mixed, ioev_mixed_end
ioev_mixed:
	movw	%bp, %es
1:	movl	%ebx, %es:(%di)
	outw	%ax, %dx
	loop	1b
	hlt
ioev_mixed_end:

	.code64
	.section .note.GNU-stack, "", @progbits
