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

/* RDMSR of the MSR in ECX: EAX to port 0x50, EDX to port 0x51, HLT. */
	.globl	guest_rdmsr, guest_rdmsr_end
guest_rdmsr:
	rdmsr
	outl	%eax, $0x50
	movl	%edx, %eax
	outl	%eax, $0x51
	hlt
guest_rdmsr_end:

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

/*
 * Instructions lightvisor answers with #GP, one per entry point; the
 * IVT[13] handler at guest_gp + 0x100 reports the IP the #GP pushed on
 * port 0x31 (so it must be the faulting instruction's) and halts with
 * IF = 0. Real mode: no error code may be pushed.
 */
	.globl	guest_gp, guest_gp_end
	.globl	gp_rdmsr, gp_cr0, gp_cr4, gp_xsetbv, gp_rdpmc, gp_limit
guest_gp:
	movl	$0x12345678, %ecx	/* no such MSR */
gp_rdmsr:
	rdmsr
	hlt
	.org	guest_gp + 0x10
	movl	$0x80000030, %eax	/* PG|NE|ET without PE */
gp_cr0:
	movl	%eax, %cr0
	hlt
	.org	guest_gp + 0x20
	movl	$0x2000, %eax		/* VMXE */
gp_cr4:
	movl	%eax, %cr4
	hlt
	.org	guest_gp + 0x30
	movl	%cr4, %eax
	orl	$0x40000, %eax		/* OSXSAVE, or XSETBV is #UD */
	movl	%eax, %cr4
	xorl	%ecx, %ecx
	xorl	%eax, %eax		/* XCR0 without x87 */
	xorl	%edx, %edx
gp_xsetbv:
	xsetbv
	hlt
	.org	guest_gp + 0x50
	xorl	%ecx, %ecx
gp_rdpmc:
	rdpmc
	hlt
	/*
	 * A #GP the CPU raises itself (a word read across DS's 64 KiB
	 * limit), whose delivery exits on the stack page, not yet mapped.
	 */
	.org	guest_gp + 0x60
gp_limit:
	movw	0xffff, %ax
	hlt
	.org	guest_gp + 0x100
	popw	%ax
	outw	%ax, $0x31
	hlt
guest_gp_end:

/*
 * STI, then an exit inside its shadow (OUT to port 0x40), then HLT. And
 * at +0x10: a user hypercall, then RAX on port 0x41, then HLT.
 */
	.globl	guest_sti_out, guest_sti_out_end
guest_sti_out:
	sti
	outb	%al, $0x40
	cli
	hlt
	.org	guest_sti_out + 0x10
	movl	$0x10000, %eax
	vmcall
	outw	%ax, $0x41
	hlt
guest_sti_out_end:

/*
 * Spin with interrupts on; IVT[0x40] points at +0x100, which reports on
 * port 0x30 and returns. At +0x20: count DX up four times and report it
 * on port 0x33, then HLT with IF = 0 (so every instruction must run).
 */
	.globl	guest_spin_irq, guest_spin_irq_end
guest_spin_irq:
	sti
1:	jmp	1b
	.org	guest_spin_irq + 0x20
	incw	%dx
	incw	%dx
	incw	%dx
	incw	%dx
	movw	%dx, %ax
	outw	%ax, $0x33
	cli
	hlt
	.org	guest_spin_irq + 0x40
	movw	%ax, (%si)		/* a memory write at RIP */
	cli
	hlt
	.org	guest_spin_irq + 0x100
	incw	%cx
	movb	$0x40, %al
	outb	%al, $0x30
	iret
guest_spin_irq_end:

/*
 * Spin; the NMI handler (IVT[2] at +0x100) reports the IP it will return
 * to on port 0x35, then IRETs.
 */
	.globl	guest_nmi, guest_nmi_end, guest_nmi_iret
guest_nmi:
1:	jmp	1b
	.org	guest_nmi + 0x100
	movw	%sp, %bp
	movw	(%bp), %ax
	outw	%ax, $0x35
guest_nmi_iret:
	iret
guest_nmi_end:

/* WRMSR IA32_TSC = 0x40000 << 32, then RDTSC; EDX on port 0x34. */
	.globl	guest_tsc, guest_tsc_end
guest_tsc:
	movl	$0x10, %ecx
	movl	$0x40000, %edx
	xorl	%eax, %eax
	wrmsr
	rdtsc
	movl	%edx, %eax
	outl	%eax, $0x34
	hlt
guest_tsc_end:

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

/*
 * With SSE on (CR4.OSFXSR): report XMM0's low dword on port 0x40, load
 * 0x5a5a1234 into XMM1's, HLT.
 */
	.globl	guest_sse, guest_sse_end
guest_sse:
	movl	%cr4, %eax
	orl	$0x600, %eax
	movl	%eax, %cr4
	movd	%xmm0, %eax
	outl	%eax, $0x40
	movl	$0x5a5a1234, %eax
	movd	%eax, %xmm1
	hlt
guest_sse_end:

/*
 * With SSE on, forever: check that XMM0 still holds 0x600dc0de (set by
 * the host), keeping the last other value read in the dword at 0x804
 * and a count of such passes at 0x808; load 0x6e657473 into XMM1's low
 * dword; count passes at 0x800. The host stops it with a signal.
 */
	.globl	guest_sse_hold, guest_sse_hold_end
guest_sse_hold:
	movl	%cr4, %eax
	orl	$0x600, %eax
	movl	%eax, %cr4
	xorw	%ax, %ax
	movw	%ax, %ds
	movl	$0x6e657473, %ebx
1:	movd	%xmm0, %eax
	cmpl	$0x600dc0de, %eax
	je	2f
	movl	%eax, 0x804
	incl	0x808
2:	movd	%ebx, %xmm1
	incl	0x800
	jmp	1b
guest_sse_hold_end:

/* Report DR0, DR1, DR2, DR3, DR6 and RDTSC's EDX on port 0x40, HLT. */
	.globl	guest_dr_tsc, guest_dr_tsc_end
guest_dr_tsc:
	movl	%db0, %eax
	outl	%eax, $0x40
	movl	%db1, %eax
	outl	%eax, $0x40
	movl	%db2, %eax
	outl	%eax, $0x40
	movl	%db3, %eax
	outl	%eax, $0x40
	movl	%db6, %eax
	outl	%eax, $0x40
	rdtsc
	movl	%edx, %eax
	outl	%eax, $0x40
	hlt
guest_dr_tsc_end:

/*
 * 32-bit protected mode at CPL 3 (conforming CS), alignment checks on
 * (CR0.AM, EFLAGS.AC), a misaligned stack and EFLAGS.TF: the NOP single
 * steps, and the #DB is delivered through a conforming segment (DPL 0,
 * so that it can interrupt CPL 0 too) at CPL 3, onto the misaligned
 * stack: #AC during its delivery. The #AC handler (+0x40) runs at CPL 0
 * on the TSS stack, the #DB handler (+0x20) at the CPL it interrupts.
 * Each reports its vector on port 0x30 and the EIP its frame holds on
 * port 0x31; the #AC handler then halts with IF = 0.
 */
	.code32
	.globl	guest_ac_db, guest_ac_db_end
guest_ac_db:
	nop
	nop
	hlt
	.org	guest_ac_db + 0x20
	movb	$1, %al
	outb	%al, $0x30
	movl	(%esp), %eax
	outl	%eax, $0x31
	iret
	.org	guest_ac_db + 0x40
	movb	$17, %al
	outb	%al, $0x30
	movl	4(%esp), %eax
	outl	%eax, $0x31
	hlt
guest_ac_db_end:

	.code64
	.section .note.GNU-stack, "", @progbits
