/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest entry. lvrun enters every vCPU here in long mode with RDI = vCPU
 * index and RSP set. vCPU 0 runs main() and exits with its return value;
 * the others run ap_main(index), which by default halts for good.
 * The loader has zeroed .bss (lvrun zeroes p_memsz beyond p_filesz).
 */
	.section .text.start, "ax"
	.code64
	.globl _start
_start:
	cli
	andq	$~0xf, %rsp
	testq	%rdi, %rdi
	jnz	1f
	call	main
	movl	%eax, %edi
	call	guest_exit
1:
	call	ap_main
2:
	cli
	hlt
	jmp	2b

	.section .note.GNU-stack, "", @progbits
