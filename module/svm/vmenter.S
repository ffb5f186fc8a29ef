/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Into an SVM guest and back: load the guest's general registers, VMRUN,
 * and on #VMEXIT save them again.
 *
 * VMRUN and #VMEXIT switch only part of the state (APM vol. 2, 15.5 and
 * 15.6). FS, GS, TR and LDTR with their hidden parts, KERNEL_GS_BASE,
 * STAR, LSTAR, CSTAR, SFMASK and the SYSENTER MSRs move with VMSAVE and
 * VMLOAD: the host's go to a per-CPU save area before the guest's are
 * loaded from its VMCB, and come back before anything uses GS (per-CPU
 * data) again. RAX, RSP, RIP and RFLAGS are the VMCB's; the other
 * general registers live in an array indexed by their hardware encoding
 * (enum lv_reg).
 *
 * Called with interrupts off and GIF clear (CLGI). Interrupts are turned
 * on just before VMRUN: with GIF clear none is taken, and VMRUN saves
 * RFLAGS.IF = 1 as the host's, so that with V_INTR_MASKING a physical
 * interrupt in the guest is an INTR intercept whatever the emulator's
 * reading of the host's IF. They are off again right after #VMEXIT,
 * still under GIF = 0; the caller sets GIF and lets them in.
 *
 * The speculation barriers follow the running kernel's own mitigation
 * state (its X86_FEATURE_* alternatives), as KVM's vmenter.S does.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/msr-index.h>
#include <asm/nospec-branch.h>
#include <asm/unwind_hints.h>

#include "../run_flags.h"

#define REG(n)	(n * 8)
#define RCX	REG(1)
#define RDX	REG(2)
#define RBX	REG(3)
#define RBP	REG(5)
#define RSI	REG(6)
#define RDI	REG(7)
#define R8	REG(8)
#define R9	REG(9)
#define R10	REG(10)
#define R11	REG(11)
#define R12	REG(12)
#define R13	REG(13)
#define R14	REG(14)
#define R15	REG(15)

/* Stack slots while the guest runs (see the pushes below). */
#define SLOT_HOST_SAVE	0
#define SLOT_VMCB	8
#define SLOT_REGS	16
#define SLOT_FLAGS	24
#define SLOT_HOST_SPEC	32

.section .text, "ax"

/*
 * void __lv_svm_vcpu_run(unsigned long *regs, u64 vmcb_pa,
 *			  u64 host_save_pa, unsigned int flags,
 *			  u64 guest_spec_ctrl, u64 host_spec_ctrl)
 *
 * @flags: LV_RUN_LOAD_SPEC_CTRL (write the guest's SPEC_CTRL just before
 * VMRUN), LV_RUN_RESTORE_SPEC_CTRL (write the host's back before the
 * first RET after the exit).
 */
SYM_FUNC_START(__lv_svm_vcpu_run)
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx

	push	%r9			/* host SPEC_CTRL */
	push	%rcx			/* @flags */
	push	%rdi			/* @regs */
	push	%rsi			/* @vmcb_pa */
	push	%rdx			/* @host_save_pa */

	/* The host's FS, GS, TR, LDTR and syscall MSRs. */
	mov	%rdx, %rax
	vmsave	%rax

	/*
	 * No RET and no indirect branch from here to VMRUN: the guest's
	 * SPEC_CTRL may be weaker than the host's.
	 */
	test	$LV_RUN_LOAD_SPEC_CTRL, %ecx
	jz	.Lspec_ctrl_done
	mov	$MSR_IA32_SPEC_CTRL, %ecx
	mov	%r8d, %eax
	mov	%r8, %rdx
	shr	$32, %rdx
	wrmsr
.Lspec_ctrl_done:

	mov	SLOT_VMCB(%rsp), %rax
	vmload	%rax

	mov	SLOT_REGS(%rsp), %rax
	mov	RCX(%rax), %rcx
	mov	RDX(%rax), %rdx
	mov	RBX(%rax), %rbx
	mov	RBP(%rax), %rbp
	mov	RSI(%rax), %rsi
	mov	RDI(%rax), %rdi
	mov	R8(%rax), %r8
	mov	R9(%rax), %r9
	mov	R10(%rax), %r10
	mov	R11(%rax), %r11
	mov	R12(%rax), %r12
	mov	R13(%rax), %r13
	mov	R14(%rax), %r14
	mov	R15(%rax), %r15

	/* MDS and friends: clear CPU buffers if the kernel does so. */
	CLEAR_CPU_BUFFERS

	mov	SLOT_VMCB(%rsp), %rax
	sti
	vmrun	%rax
	cli

	/* Free one register: the guest's RAX is in the VMCB already. */
	push	%rax
	mov	SLOT_REGS + 8(%rsp), %rax
	mov	%rcx, RCX(%rax)
	mov	%rdx, RDX(%rax)
	mov	%rbx, RBX(%rax)
	mov	%rbp, RBP(%rax)
	mov	%rsi, RSI(%rax)
	mov	%rdi, RDI(%rax)
	mov	%r8, R8(%rax)
	mov	%r9, R9(%rax)
	mov	%r10, R10(%rax)
	mov	%r11, R11(%rax)
	mov	%r12, R12(%rax)
	mov	%r13, R13(%rax)
	mov	%r14, R14(%rax)
	mov	%r15, R15(%rax)
	pop	%rax

	/* The guest's FS, GS, ... to its VMCB; the host's back. */
	mov	SLOT_VMCB(%rsp), %rax
	vmsave	%rax
	mov	SLOT_HOST_SAVE(%rsp), %rax
	vmload	%rax

	/* No guest value may linger in a register, even speculatively. */
	xor	%eax, %eax
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%ebp, %ebp
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d
	xor	%r12d, %r12d
	xor	%r13d, %r13d
	xor	%r14d, %r14d
	xor	%r15d, %r15d

	/*
	 * Before the first unbalanced RET: overwrite the return stack
	 * buffer the guest may have filled, and give the host its
	 * SPEC_CTRL back (IBRS must be on again before any RET).
	 */
	FILL_RETURN_BUFFER %rcx, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT, \
			   X86_FEATURE_RSB_VMEXIT_LITE

	add	$SLOT_FLAGS, %rsp
	pop	%rsi			/* @flags */
	pop	%rax			/* host SPEC_CTRL */
	test	$LV_RUN_RESTORE_SPEC_CTRL, %esi
	jz	1f
	mov	$MSR_IA32_SPEC_CTRL, %ecx
	mov	%rax, %rdx
	shr	$32, %rdx
	wrmsr
1:	lfence

	CLEAR_BRANCH_HISTORY_VMEXIT

	xor	%eax, %eax
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET
SYM_FUNC_END(__lv_svm_vcpu_run)
