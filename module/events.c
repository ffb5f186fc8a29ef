// SPDX-License-Identifier: GPL-2.0
/*
 * Event injection, vendor neutral (KVM keeps the same policy in x86.c):
 * which event the next entry delivers, what becomes of it when the entry
 * does not happen or is cut short, and the SDM's rules for exceptions.
 * A backend only reads the guest's interruptibility and writes the entry
 * fields (the "events" hooks of struct lv_vendor_ops).
 *
 * An event moves from the queue (pending_irq, pending_nmi, the backlog)
 * into vcpu->event when it is chosen for an entry, and leaves it only
 * when an exit shows the guest has it. An abandoned entry, a failed one,
 * or an exit in the middle of delivery leave it there, so it is neither
 * lost nor delivered twice, and LV_GET_VCPU_STATE sees it.
 *
 * With an irqchip, external interrupts queue in the local APIC's IRR (or
 * in the PICs, for ExtINT). A vector is acknowledged (IRR to ISR, or the
 * PIC's INTA) only when the guest can take it at this entry; until then
 * the guest is asked for an interrupt window. pending_irq then holds at
 * most a vector already acknowledged that went back to the queue
 * (lv_requeue_event()), delivered before the APIC is asked again.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <asm/processor-flags.h>
#include <asm/trapnr.h>

#include "lightvisor.h"
#include "irq/irqchip.h"

/* Interruptibility state as the SDM encodes it (vol. 3C, 25.4.2). */
#define LV_BLOCKING_STI		BIT(0)
#define LV_BLOCKING_MOV_SS	BIT(1)
#define LV_BLOCKING_NMI		BIT(3)
#define LV_BLOCKING_SHADOW	(LV_BLOCKING_STI | LV_BLOCKING_MOV_SS)

/*
 * The exceptions that push an error code in protected mode (SDM 6.13).
 * Not #CP (21): guests get no CET (CPUID hides it), so vector 21 is a
 * reserved one to them, without an error code; and a CPU without CET
 * refuses an entry that delivers one for it (SDM vol. 3C, 27.2.1.3;
 * only CPUs with IA32_VMX_BASIC[56] accept any combination).
 */
bool lv_exception_has_error_code(unsigned int vector)
{
	switch (vector) {
	case X86_TRAP_DF:
	case X86_TRAP_TS:
	case X86_TRAP_NP:
	case X86_TRAP_SS:
	case X86_TRAP_GP:
	case X86_TRAP_PF:
	case X86_TRAP_AC:
		return true;
	}
	return false;
}
EXPORT_SYMBOL_IF_KUNIT(lv_exception_has_error_code);

static bool lv_exception_is_contributory(unsigned int vector)
{
	return vector == X86_TRAP_DE ||
	       (vector >= X86_TRAP_TS && vector <= X86_TRAP_GP);
}

/* SDM vol. 3A, table 6-5: which pairs of exceptions make a #DF. */
static bool lv_exceptions_double_fault(unsigned int first, unsigned int second)
{
	if (lv_exception_is_contributory(first))
		return lv_exception_is_contributory(second);
	return first == X86_TRAP_PF &&
	       (second == X86_TRAP_PF || lv_exception_is_contributory(second));
}

static bool lv_event_is_soft(u8 type)
{
	return type == LV_EVENT_SOFT_INTR || type == LV_EVENT_PRIV_SW_EXC ||
	       type == LV_EVENT_SOFT_EXC;
}

static void lv_requeue_irq(struct lv_vcpu *vcpu, u8 vector)
{
	/* The slot may have been filled meanwhile: the backlog keeps it. */
	if (cmpxchg(&vcpu->pending_irq, 0, vector + 1))
		set_bit(vector, vcpu->irq_backlog);
}

/**
 * lv_requeue_event() - take the event being delivered out of delivery
 * @vcpu: the vCPU, state changed by userspace or by a new exception
 *
 * An external interrupt or NMI the guest has not received yet goes back
 * to the queue: it is delivered again when the guest can take it. An
 * exception or a software interrupt belongs to the instruction at RIP:
 * it is dropped, and comes back if that instruction runs again.
 */
void lv_requeue_event(struct lv_vcpu *vcpu)
{
	struct lv_event *ev = &vcpu->event;

	if (!ev->valid)
		return;
	if (ev->type == LV_EVENT_EXT_INTR)
		lv_requeue_irq(vcpu, ev->vector);
	else if (ev->type == LV_EVENT_NMI)
		WRITE_ONCE(vcpu->pending_nmi, true);
	memset(ev, 0, sizeof(*ev));
}

/*
 * Whether an exception pushes an error code depends on its vector and on
 * CR0.PE when it is delivered, and VM entry refuses any other combination
 * (SDM vol. 3C, 27.2.1.3), so the event carries what the CPU would push
 * in the mode the vCPU is in now: an error code only in protected mode
 * and only for the vectors that have one, with bits 31:16 clear (the
 * VMCS field has no room for them). An event recorded in another mode
 * (an exit during delivery in real mode that reports an error code, as
 * Bochs does; CR0.PE changed since) is brought into line, as KVM strips
 * the error code of an exception injected in real mode.
 */
static void lv_event_fix_error_code(struct lv_vcpu *vcpu, struct lv_event *ev)
{
	struct lv_paging pg;
	bool has_error_code = false;

	if (ev->type == LV_EVENT_EXCEPTION &&
	    lv_exception_has_error_code(ev->vector)) {
		lv_vendor->get_paging(vcpu, &pg);
		has_error_code = pg.cr0 & X86_CR0_PE;
	}
	ev->has_error_code = has_error_code;
	ev->error_code = has_error_code ? ev->error_code & 0xffff : 0;
}

/*
 * An external interrupt waits: in pending_irq, or in the irqchip (looked
 * at without acknowledging it; whoever raises one later kicks the vCPU).
 */
static bool lv_irq_pending(struct lv_vcpu *vcpu)
{
	return READ_ONCE(vcpu->pending_irq) ||
	       (vcpu->lapic && lv_irqchip_has_interrupt(vcpu));
}

/**
 * lv_inject_events() - choose and write the event for the next entry
 * @vcpu: the vCPU, loaded, before the entry
 *
 * An event already being delivered goes first, then an NMI, then an
 * external interrupt, each only when the guest can take it; for what
 * must wait, the backend arms an exit for the moment it can. Nothing is
 * read from the hardware unless something is queued.
 */
void lv_inject_events(struct lv_vcpu *vcpu)
{
	struct lv_event *ev = &vcpu->event;
	bool irq = lv_irq_pending(vcpu);
	u32 vector;

	/* A trap held back by lv_inject_exception_first() goes first. */
	if (!ev->valid && vcpu->event_next.valid) {
		*ev = vcpu->event_next;
		memset(&vcpu->event_next, 0, sizeof(vcpu->event_next));
	}
	if (!ev->valid && READ_ONCE(vcpu->pending_nmi) &&
	    lv_vendor->nmi_allowed(vcpu)) {
		WRITE_ONCE(vcpu->pending_nmi, false);
		*ev = (struct lv_event) {
			.valid = 1, .type = LV_EVENT_NMI, .vector = X86_TRAP_NMI,
		};
	}
	if (!ev->valid && irq && lv_vendor->interrupt_allowed(vcpu)) {
		vector = xchg(&vcpu->pending_irq, 0);
		/* Acknowledged now that the guest takes it (INTA). */
		if (!vector && vcpu->lapic)
			vector = lv_irqchip_get_interrupt(vcpu) + 1;
		if (vector)
			*ev = (struct lv_event) {
				.valid = 1, .type = LV_EVENT_EXT_INTR,
				.vector = vector - 1,
			};
	}
	if (ev->valid) {
		if (ev->type == LV_EVENT_EXCEPTION)
			lv_event_fix_error_code(vcpu, ev);
		lv_vendor->inject_event(vcpu, ev);
	}

	/*
	 * An NMI, or the trap held back: an NMI-window exit comes after
	 * the delivery of the event injected now, before the first
	 * instruction of its handler, unless the guest blocks NMIs.
	 */
	if (READ_ONCE(vcpu->pending_nmi) || vcpu->event_next.valid)
		lv_vendor->enable_nmi_window(vcpu);
	/*
	 * Look again only if something was pending: one may be left after
	 * the one taken. Nothing was: an interrupt raised since then kicks
	 * the vCPU, which cancels the entry, so the scan is not repeated on
	 * every entry.
	 */
	if ((irq && lv_irq_pending(vcpu)) || vcpu->run->request_interrupt_window)
		lv_vendor->enable_irq_window(vcpu);
}

/**
 * lv_event_interrupted() - what the last exit says about delivery
 * @vcpu: the vCPU, right after an exit and before its handler
 * @ev: the event whose delivery the exit interrupted, or NULL
 *
 * With NULL, the event injected at the entry (if any) reached the guest.
 */
void lv_event_interrupted(struct lv_vcpu *vcpu, const struct lv_event *ev)
{
	if (likely(!ev)) {
		memset(&vcpu->event, 0, sizeof(vcpu->event));
		return;
	}
	vcpu->event = *ev;
	lv_event_fix_error_code(vcpu, &vcpu->event);
}

/**
 * lv_events_init() - the INIT signal reached the vCPU
 * @vcpu: the vCPU, loaded
 *
 * INIT puts the processor in a fresh state between instructions (SDM vol.
 * 3A, 10.1.1 and 11.6.1): an event being delivered (an exception, an
 * interrupt, an NMI) and the queued NMI and interrupts are dropped, as
 * KVM does for INIT. The backend clears its entry fields (init_vcpu).
 */
void lv_events_init(struct lv_vcpu *vcpu)
{
	memset(&vcpu->event, 0, sizeof(vcpu->event));
	memset(&vcpu->event_next, 0, sizeof(vcpu->event_next));
	WRITE_ONCE(vcpu->pending_nmi, false);
	WRITE_ONCE(vcpu->pending_irq, 0);
	bitmap_zero(vcpu->irq_backlog, 256);
}

/* The entry did not happen or failed: the event stays, the hardware forgets. */
void lv_cancel_injection(struct lv_vcpu *vcpu)
{
	lv_vendor->cancel_injection(vcpu);
}

/**
 * lv_inject_exception() - raise a hardware exception in the guest
 * @vcpu: the vCPU, in an exit handler
 * @vector: exception vector, 0-31
 * @error_code: pushed only where the SDM says so (see below)
 *
 * An error code is delivered for the exceptions that have one, and only
 * in protected mode: in real mode none is pushed, and VM entry refuses
 * one (SDM vol. 3C, 27.2.1.3). If the exit interrupted the delivery of
 * another exception, the two combine as the SDM's table 6-5 says: a #DF,
 * or a triple fault after a #DF.
 *
 * Return: LV_RESUME_GUEST, or LV_EXIT_TO_USER for a triple fault.
 */
enum lv_exit_action lv_inject_exception(struct lv_vcpu *vcpu,
					unsigned int vector, u32 error_code)
{
	struct lv_event *prev = &vcpu->event;
	struct lv_paging pg;

	if (prev->valid && prev->type == LV_EVENT_EXCEPTION) {
		if (prev->vector == X86_TRAP_DF) {
			memset(prev, 0, sizeof(*prev));
			vcpu->run->exit_reason = LV_EXIT_SHUTDOWN;
			return LV_EXIT_TO_USER;
		}
		if (lv_exceptions_double_fault(prev->vector, vector)) {
			vector = X86_TRAP_DF;
			error_code = 0;
		}
	}
	lv_requeue_event(vcpu);

	lv_vendor->get_paging(vcpu, &pg);
	*prev = (struct lv_event) {
		.valid = 1, .type = LV_EVENT_EXCEPTION, .vector = vector,
	};
	if ((pg.cr0 & X86_CR0_PE) && lv_exception_has_error_code(vector)) {
		prev->has_error_code = 1;
		prev->error_code = error_code & 0xffff;
	}
	return LV_RESUME_GUEST;
}

/**
 * lv_inject_exception_first() - an exception cut short the delivery of a trap
 * @vcpu: the vCPU, in an exit handler; vcpu->event is the trap (a #DB
 *	for a single step, a data breakpoint or ICEBP) whose delivery the
 *	exit interrupted
 * @vector: a benign exception (#DB, #AC), which never makes a #DF
 * @error_code: as for lv_inject_exception()
 *
 * Benign exceptions are handled serially (SDM vol. 3A, table 6-5). A
 * fault in delivery is dropped, since running the instruction at RIP
 * again raises it again, but a trap belongs to an instruction that has
 * completed, so nothing would raise it again. Here the new exception is
 * delivered first, and the trap right after it, before the first
 * instruction of the new exception's handler, as a pending debug trap
 * is taken before any instruction.
 *
 * Return: LV_RESUME_GUEST.
 */
enum lv_exit_action lv_inject_exception_first(struct lv_vcpu *vcpu,
					      unsigned int vector,
					      u32 error_code)
{
	struct lv_event trap = vcpu->event;
	enum lv_exit_action ret;

	memset(&vcpu->event, 0, sizeof(vcpu->event));
	ret = lv_inject_exception(vcpu, vector, error_code);
	if (ret == LV_RESUME_GUEST)
		vcpu->event_next = trap;
	return ret;
}

static int lv_check_event(const struct lv_event *ev,
			  const struct lv_vcpu_state *st)
{
	bool pe = st->sregs.cr0 & X86_CR0_PE;
	bool if_flag = st->regs.rflags & X86_EFLAGS_IF;
	u32 blocking = st->interruptibility;
	bool has_error_code;

	if (!ev->valid)
		return memchr_inv(ev, 0, sizeof(*ev)) ? -EINVAL : 0;
	has_error_code = ev->type == LV_EVENT_EXCEPTION && pe &&
			 lv_exception_has_error_code(ev->vector);
	if (ev->valid != 1 || ev->padding ||
	    ev->has_error_code != has_error_code ||
	    (has_error_code ? ev->error_code >> 16 : ev->error_code))
		return -EINVAL;
	if (lv_event_is_soft(ev->type) ? ev->insn_len < 1 || ev->insn_len > 15
				       : ev->insn_len)
		return -EINVAL;

	/* SDM vol. 3C, 27.2.1.3 and 27.3.1.5: what an entry may inject. */
	switch (ev->type) {
	case LV_EVENT_EXT_INTR:
		return ev->vector >= 32 && if_flag &&
		       !(blocking & LV_BLOCKING_SHADOW) ? 0 : -EINVAL;
	case LV_EVENT_NMI:
		return ev->vector == X86_TRAP_NMI &&
		       !(blocking & (LV_BLOCKING_SHADOW | LV_BLOCKING_NMI)) ?
		       0 : -EINVAL;
	case LV_EVENT_EXCEPTION:
		return ev->vector < 32 && ev->vector != X86_TRAP_NMI ?
		       0 : -EINVAL;
	case LV_EVENT_SOFT_INTR:
		return 0;
	case LV_EVENT_PRIV_SW_EXC:
		return ev->vector == X86_TRAP_DB ? 0 : -EINVAL;
	case LV_EVENT_SOFT_EXC:
		return ev->vector == X86_TRAP_BP || ev->vector == X86_TRAP_OF ?
		       0 : -EINVAL;
	}
	return -EINVAL;
}

/**
 * lv_check_event_state() - is this event state one a CPU can be in?
 * @st: a state from userspace
 *
 * Checks the interruptibility state against RFLAGS (an STI shadow needs
 * IF = 1; STI and MOV-SS shadows never come together) and the event
 * being delivered against everything VM entry checks about it.
 *
 * Return: 0 or -EINVAL.
 */
int lv_check_event_state(const struct lv_vcpu_state *st)
{
	u32 blocking = st->interruptibility;

	if (blocking & ~(LV_BLOCKING_SHADOW | LV_BLOCKING_NMI))
		return -EINVAL;
	if ((blocking & LV_BLOCKING_SHADOW) == LV_BLOCKING_SHADOW)
		return -EINVAL;
	if ((blocking & LV_BLOCKING_STI) && !(st->regs.rflags & X86_EFLAGS_IF))
		return -EINVAL;
	return lv_check_event(&st->event, st);
}
EXPORT_SYMBOL_IF_KUNIT(lv_check_event_state);

/**
 * lv_check_held_trap() - is this a trap lv_inject_exception_first() holds?
 * @st: a version-2 state from userspace
 *
 * Only a #DB trap is ever held: a single step or a data breakpoint (a
 * hardware exception), or ICEBP (a privileged software exception). It
 * must also be one VM entry could inject, as it will be injected later.
 *
 * Return: 0 or -EINVAL.
 */
int lv_check_held_trap(const struct lv_vcpu_state *st)
{
	const struct lv_event *trap = &st->held_trap;

	if (trap->valid &&
	    (trap->vector != X86_TRAP_DB ||
	     (trap->type != LV_EVENT_EXCEPTION &&
	      trap->type != LV_EVENT_PRIV_SW_EXC)))
		return -EINVAL;
	return lv_check_event(trap, st);
}
EXPORT_SYMBOL_IF_KUNIT(lv_check_held_trap);
