/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The benchmark guest: 64-bit code, position independent, copied to
 * BENCH_CODE_GPA by lvbench and run unchanged under lightvisor and KVM.
 *
 * In:  RDI = workload (BW_* in layout.h: 0 halt, 1 CPUID, 2 VMCALL, 3 OUT,
 *            4 MMIO write; 5-9 the interrupt workloads, see below)
 *      RSI = iterations (at least 1)
 *      R9  = hypercall number (workload 2), timer delay in TSC ticks
 *            (workload 5), I/O APIC pin (workload 9)
 *      R10 = MMIO address (workload 4)
 * Out: R12 = TSC ticks of the empty loop, R13 = TSC ticks of the loop with
 *      the exiting instruction, RBP = RAX as the last exiting instruction
 *      left it (CPUID leaf 0: the highest leaf; VMCALL: the result), then HLT (interrupts are off: an exit to
 *      userspace under both hypervisors).
 *
 * Each measured loop differs from its empty twin by the one exiting
 * instruction, so (R13 - R12) / RSI is the cost of one round trip.
 */
#include "layout.h"

	.section .rodata
	.code64

.macro TSC dst
	rdtsc
	shl	$32, %rdx
	or	%rax, %rdx
	mov	%rdx, \dst
.endm

.macro START
	mov	%rsi, %r8
	TSC	%r14
.endm

.macro STOP out
	mov	%rax, %rbp
	TSC	%r15
	sub	%r14, %r15
	mov	%r15, \out
.endm

	.globl	bench_guest, bench_guest_end
bench_guest:
	xor	%r12, %r12
	xor	%r13, %r13
	cmp	$1, %edi
	je	.Lcpuid
	cmp	$2, %edi
	je	.Lvmcall
	cmp	$3, %edi
	je	.Lout
	cmp	$4, %edi
	je	.Lmmio
	cmp	$BW_TIMER, %edi
	je	.Ltimer
	cmp	$BW_EOI, %edi
	je	.Leoi
	cmp	$BW_IPI, %edi
	je	.Lipi
	cmp	$BW_IPI_AP, %edi
	je	.Lipi_ap
	cmp	$BW_LINE, %edi
	je	.Lline
	jmp	.Ldone

.Lcpuid:
	START
1:	xor	%eax, %eax
	xor	%ecx, %ecx
	dec	%r8
	jnz	1b
	STOP	%r12
	START
1:	xor	%eax, %eax
	xor	%ecx, %ecx
	cpuid
	dec	%r8
	jnz	1b
	STOP	%r13
	jmp	.Ldone

.Lvmcall:
	START
1:	mov	%r9, %rax
	dec	%r8
	jnz	1b
	STOP	%r12
	START
1:	mov	%r9, %rax
	vmcall
	dec	%r8
	jnz	1b
	STOP	%r13
	jmp	.Ldone

.Lout:
	START
1:	mov	$0x10, %edx
	mov	%r8d, %eax
	dec	%r8
	jnz	1b
	STOP	%r12
	START
1:	mov	$0x10, %edx
	mov	%r8d, %eax
	outb	%al, %dx
	dec	%r8
	jnz	1b
	STOP	%r13
	jmp	.Ldone

.Lmmio:
	START
1:	mov	%r8d, %eax
	dec	%r8
	jnz	1b
	STOP	%r12
	START
1:	mov	%r8d, %eax
	movl	%eax, (%r10)
	dec	%r8
	jnz	1b
	STOP	%r13

.Ldone:
	cli
	hlt
	jmp	.Ldone

#include "guest_irq.S"
bench_guest_end:

	.section .note.GNU-stack, "", @progbits
