/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The only assembly of lightvisor: load the guest's general registers,
 * VMLAUNCH or VMRESUME, and on VM exit save them again; and the call of
 * the host's NMI handler for an NMI that arrived in the guest.
 *
 * The guest's RSP, RIP and RFLAGS live in the VMCS; the others in an
 * array indexed by their hardware encoding (enum lv_reg).
 *
 * The speculation barriers follow the running kernel's own mitigation
 * state (its X86_FEATURE_* alternatives), as KVM's vmenter.S does.
 */
#include <linux/linkage.h>
#include <linux/version.h>
#include <asm/asm.h>
#include <asm/msr-index.h>
#include <asm/nospec-branch.h>
#include <asm/segment.h>
#include <asm/unwind_hints.h>

#include "../run_flags.h"
#include "../vmenter_regs.S"

/* VMCS field encoding of HOST_RSP (asm/vmx.h is not assembler-safe). */
#define LV_VMCS_HOST_RSP	0x00006c14

/* The kernel's NMI entry meant for hypervisors (6.3 renamed it). */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define LV_HOST_NMI_ENTRY	asm_exc_nmi_kvm_vmx
#else
#define LV_HOST_NMI_ENTRY	asm_exc_nmi_noist
#endif

.section .text, "ax"

/*
 * int __lv_vmx_vcpu_run(unsigned long *regs, unsigned int flags,
 *			 u64 guest_spec_ctrl, u64 host_spec_ctrl)
 *
 * @flags: LV_RUN_VMRESUME, LV_RUN_LOAD_SPEC_CTRL (write the guest's
 * SPEC_CTRL just before entry), LV_RUN_RESTORE_SPEC_CTRL (write the
 * host's back before the first RET after the exit).
 *
 * Returns 0 after a VM exit, 1 if VMLAUNCH/VMRESUME failed (VMfail).
 * Called with interrupts disabled.
 */
SYM_FUNC_START(__lv_vmx_vcpu_run)
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx

	/* For the exit path: host SPEC_CTRL, @flags, and @regs at 0(%rsp). */
	push	%rcx
	push	%rsi
	push	%rdi
	mov	%esi, %ebx

	/* The exit path resumes with this RSP. */
	mov	$LV_VMCS_HOST_RSP, %eax
	vmwrite	%rsp, %rax
	jbe	.Lvmfail

	/*
	 * No RET and no indirect branch from here to the entry: the guest's
	 * SPEC_CTRL may be weaker than the host's.
	 */
	test	$LV_RUN_LOAD_SPEC_CTRL, %ebx
	jz	.Lspec_ctrl_done
	mov	$MSR_IA32_SPEC_CTRL, %ecx
	mov	%edx, %eax
	shr	$32, %rdx
	wrmsr
.Lspec_ctrl_done:

	mov	(%rsp), %rax
	/* CF survives the MOVs and VERW (which clobbers only ZF). */
	bt	$LV_RUN_VMRESUME_SHIFT, %ebx

	LV_LOAD_GUEST_REGS
	mov	RAX(%rax), %rax

	/* MDS and friends: clear CPU buffers if the kernel does so. */
	CLEAR_CPU_BUFFERS

	jnc	.Lvmlaunch

	/* On success the CPU continues at lv_vmx_vmexit, not below. */
	UNWIND_HINT_SAVE
	vmresume
	jmp	.Lvmfail
.Lvmlaunch:
	vmlaunch
	jmp	.Lvmfail

SYM_INNER_LABEL(lv_vmx_vmexit, SYM_L_GLOBAL)
	UNWIND_HINT_RESTORE
	ENDBR

	/* Free one register: guest RAX goes on the stack for a moment. */
	push	%rax
	mov	8(%rsp), %rax
	pop	RAX(%rax)
	LV_SAVE_GUEST_REGS
	xor	%ebx, %ebx

.Lout:
	pop	%rax			/* @regs */

	LV_CLEAR_GUEST_REGS

	/*
	 * Before the first unbalanced RET: overwrite the return stack
	 * buffer the guest may have filled, and give the host its
	 * SPEC_CTRL back (IBRS must be on again before any RET).
	 */
	FILL_RETURN_BUFFER %rcx, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT, \
			   X86_FEATURE_RSB_VMEXIT_LITE

	pop	%rsi			/* @flags */
	pop	%rax			/* host SPEC_CTRL */
	LV_RESTORE_HOST_SPEC_CTRL

	CLEAR_BRANCH_HISTORY_VMEXIT

	mov	%ebx, %eax
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
	RET

.Lvmfail:
	/* VMfail: the guest never ran; the pops restore the host's registers. */
	mov	$1, %ebx
	jmp	.Lout
SYM_FUNC_END(__lv_vmx_vcpu_run)

/*
 * void lv_vmx_do_nmi_irqoff(void)
 *
 * An NMI that made the guest exit is still blocked: call the kernel's
 * NMI entry with the frame an NMI in kernel mode would have pushed. Its
 * IRET returns here and unblocks NMIs, as a real NMI's would.
 */
SYM_FUNC_START(lv_vmx_do_nmi_irqoff)
	push	%rbp
	mov	%rsp, %rbp
	/* The CPU aligns the stack to 16 bytes for an interrupt frame. */
	and	$-16, %rsp
	push	$__KERNEL_DS
	push	%rbp
	pushf
	push	$__KERNEL_CS
	call	LV_HOST_NMI_ENTRY
	/* IRET restored RSP already; objtool wants it said. */
	mov	%rbp, %rsp
	pop	%rbp
	RET
SYM_FUNC_END(lv_vmx_do_nmi_irqoff)
