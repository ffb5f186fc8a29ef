/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Multiboot (v1) entry, only for sanity runs under QEMU (-kernel): builds
 * the same environment lvrun gives an ELF guest (identity-mapped low 4 GiB
 * with 2 MiB pages, 64-bit code segment 0x08, data 0x10), then jumps to
 * _start as vCPU 0. The address fields in the header let QEMU load the
 * flat image without an ELF32 wrapper. Not linked into lvrun images.
 */
#define MB_MAGIC	0x1badb002
#define MB_FLAGS	0x00010000	/* address fields are valid */
#define PML4		0x2000
#define PDPT		0x3000
#define PD		0x4000
#define STACK_TOP	0x1000000	/* 16 MiB, as lvrun's default memory */

	.section .text.mb, "ax"
	.code32
	.align	4
mb_header:
	.long	MB_MAGIC
	.long	MB_FLAGS
	.long	-(MB_MAGIC + MB_FLAGS)
	.long	mb_header
	.long	__image_start
	.long	_edata
	.long	_end
	.long	mb_entry

mb_entry:
	cli
	cld
	/* Mask the legacy PIC: lvrun has none, and BIOS timer ticks would
	   arrive on exception vectors once a guest enables interrupts. */
	movb	$0xff, %al
	outb	%al, $0x21
	outb	%al, $0xa1
	movl	$0x1000, %edi
	movl	$(0x7000 / 4), %ecx
	xorl	%eax, %eax
	rep stosl

	movl	$(PDPT | 3), PML4
	movl	$PDPT, %edi
	movl	$(PD | 3), %eax
	movl	$4, %ecx
1:	movl	%eax, (%edi)
	addl	$0x1000, %eax
	addl	$8, %edi
	loop	1b

	movl	$PD, %edi
	movl	$0x83, %eax		/* present, writable, 2 MiB */
	movl	$2048, %ecx
2:	movl	%eax, (%edi)
	addl	$0x200000, %eax
	addl	$8, %edi
	loop	2b

	lgdt	mb_gdtr
	movl	%cr4, %eax
	orl	$0x20, %eax		/* PAE */
	movl	%eax, %cr4
	movl	$PML4, %eax
	movl	%eax, %cr3
	movl	$0xc0000080, %ecx	/* EFER.LME */
	rdmsr
	orl	$0x100, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$0x80000031, %eax	/* PG, NE, ET, PE */
	movl	%eax, %cr0
	ljmp	$0x08, $mb_long

	.code64
mb_long:
	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movw	%ax, %fs
	movw	%ax, %gs
	movq	$STACK_TOP, %rsp
	xorl	%edi, %edi
	jmp	_start

	.align	8
mb_gdt:
	.quad	0
	.quad	0x00af9b000000ffff
	.quad	0x00cf93000000ffff
mb_gdtr:
	.word	mb_gdtr - mb_gdt - 1
	.long	mb_gdt

	.section .note.GNU-stack, "", @progbits
