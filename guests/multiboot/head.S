/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Entry of the multiboot test kernel (32-bit protected mode, paging off).
 * With AOUT_KLUDGE defined the header carries the load addresses (the
 * flat-binary form); without, the loader reads the ELF32 program headers.
 */
#define MB_MAGIC	0x1badb002
#define MB_MEMINFO	0x00000002
#define MB_AOUT		0x00010000
#ifdef AOUT_KLUDGE
#define MB_FLAGS	(MB_MEMINFO | MB_AOUT)
#else
#define MB_FLAGS	MB_MEMINFO
#endif

	.section .text.head, "ax"
	.code32
	.align	4
mb_header:
	.long	MB_MAGIC
	.long	MB_FLAGS
	.long	-(MB_MAGIC + MB_FLAGS)
#ifdef AOUT_KLUDGE
	.long	mb_header
	.long	__image_start
	.long	_edata
	.long	_end
	.long	mb_entry
#endif

	.globl	mb_entry
mb_entry:
	cli
	cld
	movl	$stack_top, %esp
	pushl	%ebx		/* the multiboot information */
	pushl	%eax		/* the boot loader's magic */
	call	mb_main
1:	hlt
	jmp	1b

	.bss
	.align	16
	.space	8192
stack_top:

	.section .note.GNU-stack, "", @progbits
