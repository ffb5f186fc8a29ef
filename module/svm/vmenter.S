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
#include "../vmenter_regs.S"

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
	LV_LOAD_GUEST_REGS

	/* MDS and friends: clear CPU buffers if the kernel does so. */
	CLEAR_CPU_BUFFERS

	mov	SLOT_VMCB(%rsp), %rax
	sti
	vmrun	%rax
	cli

	/* Free one register: the guest's RAX is in the VMCB already. */
	push	%rax
	mov	SLOT_REGS + 8(%rsp), %rax
	LV_SAVE_GUEST_REGS
	pop	%rax

	/* The guest's FS, GS, ... to its VMCB; the host's back. */
	mov	SLOT_VMCB(%rsp), %rax
	vmsave	%rax
	mov	SLOT_HOST_SAVE(%rsp), %rax
	vmload	%rax

	LV_CLEAR_GUEST_REGS

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
	LV_RESTORE_HOST_SPEC_CTRL

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
