/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Real-mode guest for abi_irqchip: one blob copied to guest-physical
 * 0x1000, with entry points at fixed offsets (IRQ_* in abi_irqchip.c).
 * It drives the local APIC through the x2APIC MSRs (real mode cannot
 * reach the xAPIC page) and the PIC through ports. Reports:
 *   port 0x30: a handler ran (the vector, or a marker);
 *   port 0x31: progress markers and values read back;
 *   ports 0x32/0x33: low/high half of a 64-bit TSC difference;
 *   port 0x34: the BSP sent INIT-SIPI-SIPI; port 0x35: the AP's reports.
 * Data lives at 0x6000 (counter), 0x6010 (start TSC), 0x6018 (deadline),
 * 0x6020 (TSC in the deadline handler).
 */
	.section .rodata
	.code16

#define BASE		0x1000
#define COUNTER		0x6000
#define START_TSC	0x6010
#define DEADLINE	0x6018
#define HANDLER_TSC	0x6020

.macro SETUP sp
	xorw	%ax, %ax
	movw	%ax, %ds
	movw	%ax, %ss
	movw	$\sp, %sp
.endm

.macro WRX2 msr, lo
	movl	$\msr, %ecx
	movl	$\lo, %eax
	xorl	%edx, %edx
	wrmsr
.endm

/* IA32_APIC_BASE |= EN | EXTD, then the software enable in SVR. */
.macro X2APIC_ON
	movl	$0x1b, %ecx
	rdmsr
	orl	$0xc00, %eax
	wrmsr
	WRX2	0x80f, 0x1ff
.endm

.macro MARK val
	movb	$\val, %al
	outb	%al, $0x31
.endm

/* Out the 64-bit EDX:EAX on ports 0x32 (low) and 0x33 (high). */
.macro OUT64
	outl	%eax, $0x32
	movl	%edx, %eax
	outl	%eax, $0x33
.endm

	.globl	irq_guest, irq_guest_end
irq_guest:

/* 0x000: priorities. TPR masks a self-IPI; nested interrupts; EOI order. */
	SETUP	0x8000
	X2APIC_ON
	movl	$0x802, %ecx
	rdmsr
	outb	%al, $0x31			/* APIC id */
	WRX2	0x808, 0x50			/* TPR class 5 */
	sti
	WRX2	0x83f, 0x45			/* self-IPI, class 4: held */
	nop
	nop
	MARK	0xaa
	WRX2	0x808, 0			/* now it is taken */
	nop
	nop
	MARK	0xbb
	WRX2	0x83f, 0x36			/* its handler nests 0x86 */
	nop
	nop
	MARK	0xcc
	cli
	hlt

/* 0x200: periodic timer, 1 ms, until 20 interrupts; TSC elapsed out. */
	.org	irq_guest + 0x200
	SETUP	0x8000
	X2APIC_ON
	WRX2	0x83e, 0xb			/* divide by 1 */
	WRX2	0x832, 0x20046			/* periodic, vector 0x46 */
	movw	$0, COUNTER
	sti
	rdtsc
	movl	%eax, START_TSC
	movl	%edx, START_TSC + 4
	WRX2	0x838, 1000000			/* 1e6 bus clocks = 1 ms */
1:	hlt
	cmpw	$20, COUNTER
	jb	1b
	rdtsc
	subl	START_TSC, %eax
	sbbl	START_TSC + 4, %edx
	OUT64
	WRX2	0x838, 0
	cli
	hlt

/* 0x300: one-shot timer, 2 ms; TSC elapsed out, then TMCCT. */
	.org	irq_guest + 0x300
	SETUP	0x8000
	X2APIC_ON
	WRX2	0x83e, 0xb
	WRX2	0x832, 0x46			/* one-shot, vector 0x46 */
	movw	$0, COUNTER
	sti
	rdtsc
	movl	%eax, START_TSC
	movl	%edx, START_TSC + 4
	WRX2	0x838, 2000000
1:	hlt
	cmpw	$1, COUNTER
	jb	1b
	rdtsc
	subl	START_TSC, %eax
	sbbl	START_TSC + 4, %edx
	OUT64
	movl	$0x839, %ecx			/* current count: 0 after expiry */
	rdmsr
	outb	%al, $0x31
	cli
	hlt

/* 0x400: TSC deadline 3e6 ticks ahead; handler TSC - deadline out. */
	.org	irq_guest + 0x400
	SETUP	0x8000
	X2APIC_ON
	WRX2	0x832, 0x40047			/* TSC-deadline, vector 0x47 */
	movw	$0, COUNTER
	sti
	rdtsc
	addl	$3000000, %eax
	adcl	$0, %edx
	movl	%eax, DEADLINE
	movl	%edx, DEADLINE + 4
	movl	$0x6e0, %ecx
	wrmsr
1:	hlt
	cmpw	$1, COUNTER
	jb	1b
	movl	HANDLER_TSC, %eax
	movl	HANDLER_TSC + 4, %edx
	subl	DEADLINE, %eax
	sbbl	DEADLINE + 4, %edx
	OUT64
	movl	$0x6e0, %ecx			/* disarmed after firing: 0 */
	rdmsr
	orl	%edx, %eax
	outb	%al, $0x31
	cli
	hlt

/* 0x500: BSP: INIT, SIPI, SIPI to APIC 1 (start at 0x3000), then wait. */
	.org	irq_guest + 0x500
	SETUP	0x8000
	X2APIC_ON
	sti
	movl	$0x830, %ecx
	movl	$0x4500, %eax			/* INIT, assert */
	movl	$1, %edx
	wrmsr
	movl	$0x4603, %eax			/* SIPI, vector 3 */
	wrmsr
	wrmsr
	movb	$0x34, %al
	outb	%al, $0x34
1:	hlt
	jmp	1b

/* 0x600: PIC: vectors 0x50-0x57, only IRQ 3 unmasked, then wait. */
	.org	irq_guest + 0x600
	SETUP	0x8000
	movb	$0x11, %al
	outb	%al, $0x20
	movb	$0x50, %al
	outb	%al, $0x21
	movb	$0x04, %al
	outb	%al, $0x21
	movb	$0x01, %al
	outb	%al, $0x21
	movb	$0xf7, %al
	outb	%al, $0x21
	MARK	0x31
	sti
1:	hlt
	jmp	1b

/* 0x680: I/O APIC and MSIs: x2APIC on, LINT0 masked, then wait. */
	.org	irq_guest + 0x680
	SETUP	0x8000
	X2APIC_ON
	WRX2	0x835, 0x10000
	MARK	0x32
	sti
1:	hlt
	jmp	1b

/* 0x700: handler of 0x36: nests a self-IPI 0x86, reports ISR, EOIs. */
	.org	irq_guest + 0x700
	movb	$0x36, %al
	outb	%al, $0x30
	sti
	WRX2	0x83f, 0x86
	nop
	nop
	cli
	movl	$0x811, %ecx			/* ISR, vectors 32-63 */
	rdmsr
	shrl	$16, %eax
	outb	%al, $0x31			/* bit 22 (0x36) -> 0x40 */
	WRX2	0x80b, 0
	movb	$0x63, %al
	outb	%al, $0x30
	iret

/* 0x780: timer handler: count, EOI. */
	.org	irq_guest + 0x780
	incw	COUNTER
	WRX2	0x80b, 0
	iret

/* 0x7a0: TSC-deadline handler: TSC, count, EOI. */
	.org	irq_guest + 0x7a0
	rdtsc
	movl	%eax, HANDLER_TSC
	movl	%edx, HANDLER_TSC + 4
	incw	COUNTER
	WRX2	0x80b, 0
	iret

/* 0x7d0: NMI handler. */
	.org	irq_guest + 0x7d0
	movb	$0x02, %al
	outb	%al, $0x30
	iret

/* 0x7e0: PIC vector 0x53 (ExtINT): report, EOI to the PIC. */
	.org	irq_guest + 0x7e0
	movb	$0x53, %al
	outb	%al, $0x30
	movb	$0x20, %al
	outb	%al, $0x20
	iret

/* 0x800 + (v - 0x30) * 0x20: generic handler: report v, x2APIC EOI. */
.macro HANDLER v
	.org	irq_guest + 0x800 + (\v - 0x30) * 0x20
	movb	$\v, %al
	outb	%al, $0x30
	WRX2	0x80b, 0
	iret
.endm
	.irp	v, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x48, 0x49, 0x4a, 0x4b, 0x86
	HANDLER	\v
	.endr

/* 0x1400: CPUID leaves 1 and 0x40000000 out on ports 0x38-0x3b, 0x3c-0x3f. */
	.org	irq_guest + 0x1400
	SETUP	0x8000
	movl	$1, %eax
	xorl	%ecx, %ecx
	cpuid
	outl	%eax, $0x38
	movl	%ebx, %eax
	outl	%eax, $0x39
	movl	%ecx, %eax
	outl	%eax, $0x3a
	movl	%edx, %eax
	outl	%eax, $0x3b
	movl	$0x40000000, %eax
	xorl	%ecx, %ecx
	cpuid
	outl	%eax, $0x3c
	movl	%ebx, %eax
	outl	%eax, $0x3d
	movl	%ecx, %eax
	outl	%eax, $0x3e
	movl	%edx, %eax
	outl	%eax, $0x3f
	cli
	hlt

/* 0x2000 (guest-physical 0x3000): the AP, after SIPI vector 3. */
	.org	irq_guest + 0x2000
	SETUP	0x7000
	X2APIC_ON
	movl	$0x802, %ecx
	rdmsr
	outb	%al, $0x35			/* its APIC id */
	movl	$0x830, %ecx
	movl	$0x4048, %eax			/* fixed 0x48 to APIC 0 */
	xorl	%edx, %edx
	wrmsr
	movl	$0x4400, %eax			/* NMI to APIC 0 */
	wrmsr
	movb	$0x36, %al
	outb	%al, $0x35
	cli
	hlt
irq_guest_end:

	.code64
	.section .note.GNU-stack, "", @progbits
