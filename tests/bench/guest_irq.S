/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The interrupt workloads of the benchmark guest, included by guest.S
 * (same section, position independent). The runner gives the VM an
 * in-kernel irqchip, the IDT at BENCH_IDT_GPA (every vector not below
 * goes to bench_h_bad) and the data page at BENCH_DATA_GPA. Each vCPU
 * switches its local APIC to x2APIC mode, so that every APIC access is
 * one WRMSR under both hypervisors (neither has APIC virtualisation in
 * Bochs: no posted interrupts). Each measured iteration stores one u32
 * of TSC ticks at BENCH_SAMPLE_GPA + 4 * i; the runner takes the median.
 * A vCPU ends with an OUT to BENCH_DONE_PORT: with an in-kernel local
 * APIC, KVM never returns a HLT to userspace.
 *
 * Handlers save what they use: the loops keep state in registers.
 */

#define FLAG	(BENCH_DATA_GPA + BD_FLAG)
#define COUNT	(BENCH_DATA_GPA + BD_COUNT)
#define COUNT1	(BENCH_DATA_GPA + BD_COUNT1)
#define READY1	(BENCH_DATA_GPA + BD_READY1)
#define IDTR	(BENCH_DATA_GPA + BD_IDTR)
#define LATE	(BENCH_DATA_GPA + BD_LATE)
#define SCRATCH	(BENCH_DATA_GPA + BD_SCRATCH)

#define MSR_APIC_BASE	0x1b
#define MSR_DEADLINE	0x6e0
#define MSR_EOI		0x80b
#define MSR_SVR		0x80f
#define MSR_ICR		0x830
#define MSR_LVTT	0x832
#define MSR_SELF_IPI	0x83f

/* WRMSR of an immediate: clobbers RAX, RCX, RDX. */
.macro WRMSRI msr, lo, hi=0
	mov	$\msr, %ecx
	mov	$\lo, %eax
	mov	$\hi, %edx
	wrmsr
.endm

/* RDX = the 64-bit TSC; clobbers RAX. */
.macro TSC64
	rdtsc
	shl	$32, %rdx
	or	%rax, %rdx
.endm

/*
 * Store the TSC minus R13 (the iteration's start) as its sample and count
 * the iteration down: ZF is set after the last one.
 */
.macro SAMPLE
	TSC64
	sub	%r13, %rdx
	mov	%edx, (%rbx)
	add	$4, %rbx
	dec	%r8
.endm

/* The IDT, x2APIC mode, the APIC software-enabled (spurious vector 0xff). */
irq_setup:
	lidt	IDTR
	mov	$MSR_APIC_BASE, %ecx
	rdmsr
	or	$0xc00, %eax		/* EN | EXTD */
	wrmsr
	WRMSRI	MSR_SVR, 0x1ff
	mov	$BENCH_SAMPLE_GPA, %ebx
	mov	%rsi, %r8
	ret

irq_done:
	mov	$BENCH_DONE_PORT, %edx
	out	%al, %dx
	jmp	irq_done

/*
 * LAPIC timer: TSC-deadline mode, deadline = now + R9. Sample: from the
 * deadline to the loop seeing the handler's flag (fire, injection,
 * handler, its EOI, IRET): the programmed delay is not in it. A deadline
 * that had passed when WRMSR returned (a host interrupt came between the
 * two TSC reads) measures nothing: it counts in LATE, its interrupt is
 * taken and the iteration runs again. The runner expects one interrupt
 * per iteration plus one per LATE.
 */
.Ltimer:
	call	irq_setup
	WRMSRI	MSR_LVTT, BV_TIMER | (2 << 17)
1:	movb	$0, FLAG
	TSC64
	add	%r9, %rdx
	mov	%rdx, %r13
	mov	$MSR_DEADLINE, %ecx
	mov	%r13d, %eax
	shr	$32, %rdx
	wrmsr
	TSC64
	cmp	%r13, %rdx
	jb	2f
	incq	LATE
	sti
4:	cmpb	$0, FLAG
	je	4b
	cli
	jmp	1b
2:	sti
3:	cmpb	$0, FLAG
	je	3b
	cli
	SAMPLE
	jnz	1b
	jmp	irq_done

/*
 * EOI: a self-IPI (x2APIC SELF IPI register) whose handler times its own
 * EOI write. R12 = the same timed sequence without the WRMSR (the
 * runner subtracts it). SCRATCH is cleared first: an iteration that
 * another handler ends stores 0, which the runner refuses.
 */
.Leoi:
	call	irq_setup
	rdtsc
	mov	%eax, %r14d
	xor	%eax, %eax
	xor	%edx, %edx
	mov	$MSR_EOI, %ecx
	rdtsc
	sub	%r14d, %eax
	mov	%eax, %r12d
1:	movb	$0, FLAG
	movl	$0, SCRATCH
	sti
	WRMSRI	MSR_SELF_IPI, BV_SELF
2:	cmpb	$0, FLAG
	je	2b
	cli
	mov	SCRATCH, %eax
	mov	%eax, (%rbx)
	add	$4, %rbx
	dec	%r8
	jnz	1b
	jmp	irq_done

/*
 * IPI round trip, on vCPU 0: a fixed IPI to vCPU 1 (physical
 * destination 1), whose handler EOIs and sends one back; vCPU 0 waits in
 * HLT (STI;HLT: a reply cannot slip in between). Sample: from before the
 * ICR write to after the reply's handler. vCPU 1 (.Lipi_ap) waits in HLT
 * too. At the end vCPU 0 sends BV_STOP, which makes vCPU 1 leave.
 */
.Lipi:
	call	irq_setup
1:	cmpq	$0, READY1
	je	1b
2:	cli
	movb	$0, FLAG
	TSC64
	mov	%rdx, %r13
	WRMSRI	MSR_ICR, BV_IPI, 1
3:	cmpb	$0, FLAG
	jne	4f
	sti
	hlt
	cli
	jmp	3b
4:	SAMPLE
	jnz	2b
	WRMSRI	MSR_ICR, BV_STOP, 1
	jmp	irq_done

.Lipi_ap:
	call	irq_setup
	movq	$1, READY1
1:	sti
	hlt
	jmp	1b

/*
 * I/O APIC line: pin R9 programmed edge-triggered, fixed, to APIC 0,
 * through the I/O APIC's MMIO window (IOREGSEL, IOWIN). Each iteration
 * an OUT to BENCH_PORT asks the runner to raise the pin (assert, then
 * deassert: one edge) before it re-enters. Sample: from before the OUT
 * to after the handler (with its EOI).
 */
.Lline:
	call	irq_setup
	mov	$BENCH_IOAPIC_GPA, %r10d
	lea	0x10(,%r9,2), %eax
	movl	%eax, (%r10)
	movl	$BV_LINE, 0x10(%r10)
	inc	%eax
	movl	%eax, (%r10)
	movl	$0, 0x10(%r10)
1:	movb	$0, FLAG
	sti
	TSC64
	mov	%rdx, %r13
	mov	%r9d, %eax
	mov	$BENCH_PORT, %edx
	out	%al, %dx
2:	cmpb	$0, FLAG
	je	2b
	cli
	SAMPLE
	jnz	1b
	jmp	irq_done

/* --- handlers (the runner fills the IDT with their offsets) --- */

.macro EOI
	WRMSRI	MSR_EOI, 0
.endm

.macro SAVE
	push	%rax
	push	%rcx
	push	%rdx
.endm

.macro RESTORE
	pop	%rdx
	pop	%rcx
	pop	%rax
.endm

	.globl	bench_h_timer, bench_h_self, bench_h_ipi, bench_h_ipi_back
	.globl	bench_h_line, bench_h_stop, bench_h_bad

bench_h_timer:
bench_h_line:
bench_h_ipi_back:
	SAVE
	incq	COUNT
	movb	$1, FLAG
	EOI
	RESTORE
	iretq

/* Times its own EOI: the same sequence as the baseline in .Leoi. */
bench_h_self:
	SAVE
	push	%r14
	rdtsc
	mov	%eax, %r14d
	xor	%eax, %eax
	xor	%edx, %edx
	mov	$MSR_EOI, %ecx
	wrmsr
	rdtsc
	sub	%r14d, %eax
	mov	%eax, SCRATCH
	incq	COUNT
	movb	$1, FLAG
	pop	%r14
	RESTORE
	iretq

/* On vCPU 1: EOI, then the IPI back to vCPU 0. */
bench_h_ipi:
	SAVE
	incq	COUNT1
	EOI
	WRMSRI	MSR_ICR, BV_IPI_BACK, 0
	RESTORE
	iretq

bench_h_stop:
	EOI
	jmp	irq_done

/* Any other vector or exception: tell the runner and stay. */
bench_h_bad:
	mov	$BENCH_BAD_PORT, %edx
	out	%al, %dx
	jmp	bench_h_bad
