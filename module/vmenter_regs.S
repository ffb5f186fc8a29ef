/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Assembler pieces both backends' vmenter.S use around the guest's run:
 * the guest's general registers other than RSP (struct lv_vcpu.regs,
 * indexed by their hardware encoding, enum lv_reg) loaded before the
 * entry and saved after the exit, the registers cleared of guest values,
 * and the host's SPEC_CTRL written back. Macros, not calls: nothing
 * between loading the guest's SPEC_CTRL and the entry may RET.
 *
 * Only #included by module/vmx/vmenter.S and module/svm/vmenter.S (Kbuild
 * builds no object of it); named .S because it is assembler, not C.
 */
#ifndef LV_VMENTER_REGS_S
#define LV_VMENTER_REGS_S

#include <asm/msr-index.h>

#include "run_flags.h"

/* Offsets into lv_vcpu.regs; RSP (4) is the VMCS's or the VMCB's. */
#define REG(n)	((n) * 8)
#define RAX	REG(0)
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

/*
 * %rax points to the registers: load all but RAX and RSP. RAX is left to
 * the caller, which still needs the pointer (VMX loads it last, SVM's
 * VMRUN takes it from the VMCB).
 */
.macro LV_LOAD_GUEST_REGS
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
.endm

/* %rax points to the registers: save all but RAX and RSP, as above. */
.macro LV_SAVE_GUEST_REGS
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
.endm

/*
 * After the exit: no guest value may linger in a register, even
 * speculatively. RBX is left to the caller (VMX keeps its return value
 * there); both pop the host's RBX before the RET.
 */
.macro LV_CLEAR_GUEST_REGS
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
.endm

/*
 * Before the first RET after the exit: if the entry's flags (%esi) have
 * LV_RUN_RESTORE_SPEC_CTRL, write the host's SPEC_CTRL (%rax) back, so
 * that IBRS is on again before any RET; the LFENCE keeps a RET from
 * running speculatively past a skipped write. Clobbers %ecx and %edx.
 */
.macro LV_RESTORE_HOST_SPEC_CTRL
	test	$LV_RUN_RESTORE_SPEC_CTRL, %esi
	jz	1f
	mov	$MSR_IA32_SPEC_CTRL, %ecx
	mov	%rax, %rdx
	shr	$32, %rdx
	wrmsr
1:	lfence
.endm

#endif /* LV_VMENTER_REGS_S */
