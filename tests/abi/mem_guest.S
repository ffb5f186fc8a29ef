/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Real-mode guest routines for the memory tests, copied to guest-physical
 * 0x1000 (CS base 0). Parameters come in registers; DS is loaded from SI,
 * so DS:DI reaches any byte of the first MiB. Each ends in HLT.
 */
	.section .rodata
	.code16

/* Write AL at DS:DI for CX segments SI, SI + BP, SI + 2 * BP, ... */
	.globl	mem_guest_write, mem_guest_write_end
mem_guest_write:
1:	movw	%si, %ds
	movb	%al, (%di)
	addw	%bp, %si
	loop	1b
	hlt
mem_guest_write_end:

/* AX = the word at SI:DI. */
	.globl	mem_guest_read, mem_guest_read_end
mem_guest_read:
	movw	%si, %ds
	movw	(%di), %ax
	hlt
mem_guest_read_end:

/* Store EBX (4 bytes) at SI:DI. */
	.globl	mem_guest_store32, mem_guest_store32_end
mem_guest_store32:
	movw	%si, %ds
	movl	%ebx, (%di)
	hlt
mem_guest_store32_end:

/* Spin while the byte at SI:DI equals BL, then OUT it to port 0x10. */
	.globl	mem_guest_watch, mem_guest_watch_end
mem_guest_watch:
	movw	%si, %ds
1:	movb	(%di), %al
	cmpb	%bl, %al
	je	1b
	outb	%al, $0x10
	hlt
mem_guest_watch_end:

/*
 * Timing for ept_bench: for CX pages from segment SI (stride 0x100, 4 KiB),
 * write a byte and add the RDTSC difference around it to EBP; then do the
 * same again (pages now mapped) into EDI. HLT.
 */
	.globl	mem_guest_bench, mem_guest_bench_end
mem_guest_bench:
	xorl	%ebp, %ebp
	xorl	%edi, %edi
	pushw	%cx			/* RDTSC clobbers EDX: keep it on the stack */
	pushw	%si
1:	movw	%si, %ds
	rdtsc
	movl	%eax, %ebx
	movb	$1, (0)
	rdtsc
	subl	%ebx, %eax
	addl	%eax, %ebp
	addw	$0x100, %si
	loop	1b
	popw	%si
	popw	%cx
2:	movw	%si, %ds
	rdtsc
	movl	%eax, %ebx
	movb	$2, (0)
	rdtsc
	subl	%ebx, %eax
	addl	%eax, %edi
	addw	$0x100, %si
	loop	2b
	hlt
mem_guest_bench_end:

	.code64
	.section .note.GNU-stack, "", @progbits
