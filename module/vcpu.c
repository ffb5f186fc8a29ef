// SPDX-License-Identifier: GPL-2.0
/*
 * vCPU objects: the fd, the shared run page, the run loop and the exits
 * every vendor backend shares (port I/O, hypercalls, halt).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <asm/fpu/api.h>
#include <asm/smp.h>

#include "lightvisor.h"
#include "irq/irqchip.h"
#include "irq/lapic.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

static struct preempt_ops lv_preempt_ops;

/*
 * The backend's vCPUs (struct lv_vcpu embedded first) come from a cache
 * of their own, so slab debugging can be turned on for them alone
 * (slub_debug=FZP,lightvisor_vcpu) to catch a use after free.
 */
static struct kmem_cache *lv_vcpu_cache;

int lv_vcpu_cache_init(size_t size)
{
	lv_vcpu_cache = kmem_cache_create("lightvisor_vcpu", size, 0,
					  SLAB_ACCOUNT, NULL);
	return lv_vcpu_cache ? 0 : -ENOMEM;
}

void lv_vcpu_cache_exit(void)
{
	kmem_cache_destroy(lv_vcpu_cache);
}

/* Zeroed memory for a backend vCPU of the size given at module load. */
void *lv_vcpu_alloc(void)
{
	return kmem_cache_zalloc(lv_vcpu_cache, GFP_KERNEL_ACCOUNT);
}

void lv_vcpu_free_mem(void *vcpu)
{
	kmem_cache_free(lv_vcpu_cache, vcpu);
}

/* Preempt notifiers cost nothing until the first user turns them on. */
void lv_vcpu_module_init(void)
{
	preempt_notifier_inc();
}

void lv_vcpu_module_exit(void)
{
	preempt_notifier_dec();
}

static struct lv_vcpu *preempt_notifier_to_vcpu(struct preempt_notifier *pn)
{
	return container_of(pn, struct lv_vcpu, preempt_notifier);
}

/* The vCPU thread was scheduled in: its hardware state follows it. */
static void lv_sched_in(struct preempt_notifier *pn, int cpu)
{
	lv_vendor->vcpu_load(preempt_notifier_to_vcpu(pn), cpu);
}

static void lv_sched_out(struct preempt_notifier *pn,
			 struct task_struct *next)
{
	lv_vendor->vcpu_put(preempt_notifier_to_vcpu(pn));
}

static void lv_vcpu_load(struct lv_vcpu *vcpu)
{
	int cpu = get_cpu();

	preempt_notifier_register(&vcpu->preempt_notifier);
	lv_vendor->vcpu_load(vcpu, cpu);
	put_cpu();
}

static void lv_vcpu_put(struct lv_vcpu *vcpu)
{
	preempt_disable();
	lv_vendor->vcpu_put(vcpu);
	preempt_notifier_unregister(&vcpu->preempt_notifier);
	preempt_enable();
}

static void lv_kick_noop(void *unused)
{
}

/* Force a vCPU out of guest mode, so it sees a new request before entry. */
static void lv_vcpu_kick(struct lv_vcpu *vcpu, bool wait)
{
	int cpu;

	WRITE_ONCE(vcpu->kicked, true);
	wake_up_interruptible(&vcpu->wq);
	smp_mb();	/* request stores before reading the mode */
	cpu = READ_ONCE(vcpu->cpu);
	if (READ_ONCE(vcpu->mode) == LV_IN_GUEST && cpu >= 0)
		smp_call_function_single(cpu, lv_kick_noop, NULL, wait);
}

/**
 * lv_vcpu_kick_event() - an interrupt-controller event for a vCPU
 * @vcpu: the target
 *
 * Any context, hard interrupts included (APIC and PIT timers): wakes a
 * halted vCPU, and makes a running one exit with a reschedule IPI (the
 * only cross-CPU call allowed with interrupts off). A vCPU about to
 * enter sees @kicked and goes round its loop again instead.
 */
void lv_vcpu_kick_event(struct lv_vcpu *vcpu)
{
	int cpu;

	WRITE_ONCE(vcpu->kicked, true);
	wake_up_interruptible(&vcpu->wq);
	smp_mb();	/* kicked before reading the mode; pairs with entry */
	cpu = READ_ONCE(vcpu->cpu);
	if (READ_ONCE(vcpu->mode) == LV_IN_GUEST && cpu >= 0 &&
	    cpu != raw_smp_processor_id())
		(smp_ops.smp_send_reschedule)(cpu);
}

void lv_vcpu_kick_all(struct lv_vm *vm)
{
	struct lv_vcpu *vcpu;
	unsigned long i;

	xa_for_each(&vm->vcpus, i, vcpu)
		lv_vcpu_kick(vcpu, true);
}

bool lv_vcpu_has_event(struct lv_vcpu *vcpu)
{
	return READ_ONCE(vcpu->pending_irq) || READ_ONCE(vcpu->pending_nmi) ||
	       vcpu->event.valid || vcpu->event_next.valid ||
	       !bitmap_empty(vcpu->irq_backlog, 256) ||
	       (vcpu->lapic && lv_irqchip_has_event(vcpu));
}

/**
 * lv_vcpu_queue_irq() - queue an external interrupt on a vCPU
 * @vcpu: the target; any thread, in process context, while it runs
 * @vector: 32..255
 * @backlog: if one is queued already, remember @vector in the backlog
 *	(device interrupts) instead of failing (LV_INTERRUPT)
 *
 * Return: 0, -EINVAL for a bad vector, -EBUSY when an interrupt is queued
 * already and @backlog is false.
 */
int lv_vcpu_queue_irq(struct lv_vcpu *vcpu, u32 vector, bool backlog)
{
	/* Vectors 0-31 are exceptions, not external interrupts. */
	if (vector < 32 || vector > 255)
		return -EINVAL;
	/* With a local APIC, device interrupts go through its IRR. */
	if (vcpu->lapic) {
		struct lv_apic_irq irq = {
			.vector = vector,
			.delivery_mode = APIC_DELIVERY_MODE_FIXED,
			.dest = lv_apic_id(vcpu->lapic),
		};

		lv_lapic_deliver(vcpu->lapic, &irq);
		return 0;
	}
	if (cmpxchg(&vcpu->pending_irq, 0, vector + 1)) {
		if (!backlog)
			return -EBUSY;
		set_bit(vector, vcpu->irq_backlog);
		/*
		 * The slot may have emptied before the bit was set; the run
		 * loop looks at the backlog before each entry, and the kick
		 * below makes a running vCPU exit (a vCPU just about to
		 * enter picks it up at its next exit, a host tick at most).
		 */
	}
	lv_vcpu_kick(vcpu, false);
	return 0;
}

/*
 * Before an entry: move the highest backlogged vector (highest priority,
 * as an APIC would) into the free pending slot. With an irqchip the
 * backlog stays empty: the local APIC's IRR is the queue (events.c).
 */
static void lv_vcpu_refill_irq(struct lv_vcpu *vcpu)
{
	unsigned long v;

	if (READ_ONCE(vcpu->pending_irq) || bitmap_empty(vcpu->irq_backlog, 256))
		return;
	v = find_last_bit(vcpu->irq_backlog, 256);
	if (v < 256 && test_and_clear_bit(v, vcpu->irq_backlog) &&
	    cmpxchg(&vcpu->pending_irq, 0, v + 1))
		set_bit(v, vcpu->irq_backlog);	/* raced with a new one */
}

/* Queue an interrupt; callable from any thread while the vCPU runs. */
static int lv_vcpu_interrupt(struct lv_vcpu *vcpu,
			     struct lv_interrupt __user *uirq)
{
	struct lv_interrupt irq;

	if (copy_from_user(&irq, uirq, sizeof(irq)))
		return -EFAULT;
	if (irq.flags & ~LV_INTERRUPT_NMI)
		return -EINVAL;
	if (irq.flags & LV_INTERRUPT_NMI) {
		if (cmpxchg(&vcpu->pending_nmi, false, true))
			return -EBUSY;
		lv_vcpu_kick(vcpu, false);
		return 0;
	}
	/* With an irqchip, external interrupts come from its lines. */
	if (vcpu->lapic)
		return -ENXIO;
	return lv_vcpu_queue_irq(vcpu, irq.vector, false);
}

/* The bits of rSI/rDI/rCX a string instruction uses, by address size. */
unsigned long lv_addr_mask(unsigned int addr_size)
{
	return addr_size == 8 ? ~0UL : (1UL << (addr_size * 8)) - 1;
}

/*
 * Add @delta to a string register, wrapping at the address size; returns
 * the register's new value within that size (for REP: RCX left). As any
 * 32-bit register write, a 32-bit address size zeroes bits 63:32; a 16-bit
 * one keeps them (SDM vol. 1, 3.4.1.1).
 */
unsigned long lv_string_reg_add(struct lv_vcpu *vcpu, int reg, long delta,
				unsigned int addr_size)
{
	unsigned long mask = lv_addr_mask(addr_size);
	unsigned long v = vcpu->regs[reg];

	if (addr_size == 4)
		v = (u32)v;
	vcpu->regs[reg] = (v & ~mask) | ((v + delta) & mask);
	return vcpu->regs[reg] & mask;
}

/*
 * String I/O: translate the memory operand with the guest's rights. A
 * fault is the guest's #PF; memory that is not RAM (or an item that
 * straddles two pages) goes through the emulator one item at a time.
 * Returns true if the fast path can take it, with the RAM address in
 * *@gpa.
 */
static bool lv_pio_fast_path(struct lv_vcpu *vcpu, const struct lv_pio_exit *io,
			     u64 *gpa, enum lv_exit_action *action)
{
	struct lv_paging pg;
	u32 access, err;
	u64 probe;

	lv_get_paging(vcpu, &pg);
	access = (io->in ? LV_ACC_WRITE : 0) | (pg.cpl == 3 ? LV_ACC_USER : 0);
	if (lv_gva_to_gpa(vcpu->vm, &pg, io->linear_addr, access, gpa, &err)) {
		*action = lv_queue_page_fault(vcpu, io->linear_addr, err);
		return false;
	}
	if (offset_in_page(*gpa) + io->size > PAGE_SIZE ||
	    lv_access_guest_ram(vcpu->vm, *gpa, &probe, 0, io->in)) {
		*action = lv_handle_pio_item(vcpu, io);
		return false;
	}
	return true;
}

/**
 * lv_handle_pio() - turn a port I/O exit into an exit to userspace
 * @vcpu: the vCPU
 * @io: what the hardware reported
 *
 * The in-kernel devices, then the ioeventfds (OUT only), take their
 * ports first and complete the instruction here.
 * String forms move as many items as stay within one guest page and fit
 * in the run page; with REP, RIP stays on the instruction until RCX runs
 * out, so the guest simply exits again for the rest (a huge count is
 * taken in these bounded chunks).
 */
enum lv_exit_action lv_handle_pio(struct lv_vcpu *vcpu,
				  const struct lv_pio_exit *io)
{
	struct lv_run *run = vcpu->run;
	void *data = (void *)run + LV_RUN_IO_DATA_OFFSET;
	unsigned int max = (PAGE_SIZE - LV_RUN_IO_DATA_OFFSET) / io->size;
	struct lv_pio *pio = &vcpu->pio;
	enum lv_exit_action action;
	u64 count = 1, gpa = 0;
	u32 val = vcpu->regs[LV_RAX];

	if (!io->string && lv_irqchip_pio(vcpu, io->port, io->in, io->size, &val)) {
		if (io->in) {
			if (io->size == 4)
				vcpu->regs[LV_RAX] = val;
			else
				memcpy(&vcpu->regs[LV_RAX], &val, io->size);
		}
		lv_vendor->skip_instruction(vcpu);
		return LV_RESUME_GUEST;
	}
	/* OUTS goes to userspace: its data is in guest memory, item by item. */
	if (!io->string && !io->in &&
	    lv_ioeventfd_write(vcpu->vm, true, io->port, io->size,
			       vcpu->regs[LV_RAX])) {
		lv_vendor->skip_instruction(vcpu);
		return LV_RESUME_GUEST;
	}

	if (io->string) {
		u64 room;

		if (io->rep) {
			count = vcpu->regs[LV_RCX] & lv_addr_mask(io->addr_size);
			if (!count) {
				lv_vendor->skip_instruction(vcpu);
				return LV_RESUME_GUEST;
			}
		}
		if (!lv_pio_fast_path(vcpu, io, &gpa, &action))
			return action;
		/* Backwards (DF=1) items go one at a time. */
		room = (PAGE_SIZE - offset_in_page(gpa)) / io->size;
		if (io->df)
			room = 1;
		count = min3(count, room, (u64)max);
		if (!io->in && lv_read_guest(vcpu->vm, gpa, data,
					     count * io->size))
			return lv_internal_error(vcpu, LV_INTERNAL_ERROR_HOST_FAULT,
						 gpa);
	} else if (!io->in) {
		memcpy(data, &vcpu->regs[LV_RAX], io->size);
	}

	*pio = (struct lv_pio) {
		.pending = true, .in = io->in, .string = io->string,
		.rep = io->rep, .df = io->df, .size = io->size,
		.addr_size = io->addr_size, .port = io->port, .count = count,
		.gpa = gpa,
	};
	run->exit_reason = LV_EXIT_IO;
	run->io.direction = io->in ? LV_EXIT_IO_IN : LV_EXIT_IO_OUT;
	run->io.size = io->size;
	run->io.port = io->port;
	run->io.count = count;
	run->io.data_offset = LV_RUN_IO_DATA_OFFSET;
	return LV_EXIT_TO_USER;
}

/* Userspace has handled the I/O: finish the instruction. */
static enum lv_exit_action lv_complete_pio(struct lv_vcpu *vcpu)
{
	struct lv_pio *pio = &vcpu->pio;
	void *data = (void *)vcpu->run + LV_RUN_IO_DATA_OFFSET;
	long step = pio->df ? -(long)pio->size : pio->size;
	bool more = false;

	pio->pending = false;
	if (!pio->string) {
		if (pio->in) {
			unsigned long *rax = &vcpu->regs[LV_RAX];

			/* A 32-bit IN zero-extends, as any 32-bit result. */
			if (pio->size == 4)
				*rax = *(u32 *)data;
			else
				memcpy(rax, data, pio->size);
		}
		lv_vendor->skip_instruction(vcpu);
		return LV_RESUME_GUEST;
	}

	/* The slot went away meanwhile: the host side failed, not the guest. */
	if (pio->in && lv_write_guest(vcpu->vm, pio->gpa, data,
				      pio->count * pio->size))
		return lv_internal_error(vcpu, LV_INTERNAL_ERROR_HOST_FAULT,
					 pio->gpa);
	lv_string_reg_add(vcpu, pio->in ? LV_RDI : LV_RSI,
			  step * (long)pio->count, pio->addr_size);
	if (pio->rep) {
		more = lv_string_reg_add(vcpu, LV_RCX, -(long)pio->count,
					 pio->addr_size);
	}
	if (!more)
		lv_vendor->skip_instruction(vcpu);
	return LV_RESUME_GUEST;
}

/**
 * lv_internal_error() - stop the vCPU with an internal-error exit
 * @vcpu: the vCPU
 * @suberror: an enum lv_internal_error
 * @info: one word of detail for userspace
 */
enum lv_exit_action lv_internal_error(struct lv_vcpu *vcpu, u32 suberror,
				      u64 info)
{
	struct lv_run *run = vcpu->run;

	run->exit_reason = LV_EXIT_INTERNAL_ERROR;
	run->internal.suberror = suberror;
	run->internal.ndata = 1;
	run->internal.data[0] = info;
	return LV_EXIT_TO_USER;
}

/* See the hypercall ABI in the uapi header. */
enum lv_exit_action lv_handle_hypercall(struct lv_vcpu *vcpu)
{
	unsigned long *regs = vcpu->regs;
	u64 nr = regs[LV_RAX];
	struct lv_run *run = vcpu->run;

	lv_vendor->skip_instruction(vcpu);
	if (lv_vendor->get_cpl(vcpu) != 0) {
		regs[LV_RAX] = -LV_HC_EPERM;
		return LV_RESUME_GUEST;
	}
	switch (nr) {
	case LV_HC_NOP:
		regs[LV_RAX] = 0;
		return LV_RESUME_GUEST;
	case LV_HC_VERSION:
		regs[LV_RAX] = LV_API_VERSION;
		return LV_RESUME_GUEST;
	}
	if (nr < LV_HC_USER_BASE) {
		regs[LV_RAX] = -LV_HC_ENOSYS;
		return LV_RESUME_GUEST;
	}
	run->exit_reason = LV_EXIT_HYPERCALL;
	run->hypercall.nr = nr;
	run->hypercall.args[0] = regs[LV_RBX];
	run->hypercall.args[1] = regs[LV_RCX];
	run->hypercall.args[2] = regs[LV_RDX];
	run->hypercall.args[3] = regs[LV_RSI];
	run->hypercall.ret = -LV_HC_ENOSYS;
	vcpu->hypercall_pending = true;
	return LV_EXIT_TO_USER;
}

/**
 * lv_handle_halt() - HLT: sleep in the kernel or stop for good
 * @vcpu: the vCPU
 * @if_flag: the guest's RFLAGS.IF
 *
 * With interrupts enabled a queued interrupt can wake the guest, so the
 * vCPU blocks in the run loop; with them disabled nothing ever can, and
 * userspace hears of it.
 */
enum lv_exit_action lv_handle_halt(struct lv_vcpu *vcpu, bool if_flag)
{
	lv_vendor->skip_instruction(vcpu);
	if (if_flag || READ_ONCE(vcpu->pending_nmi)) {
		/*
		 * An event already waiting would wake it at once (a device
		 * interrupt raised just before the guest's STI; HLT): the run
		 * loop delivers it without a pass through the sleep.
		 */
		if (!lv_vcpu_has_event(vcpu))
			vcpu->halted = true;
		return LV_RESUME_GUEST;
	}
	vcpu->run->exit_reason = LV_EXIT_HLT;
	return LV_EXIT_TO_USER;
}

/*
 * Finish whatever the last exit to userspace left in flight; that may
 * take another exit (LV_EXIT_TO_USER, the run structure filled in).
 */
static enum lv_exit_action lv_complete_userspace_exit(struct lv_vcpu *vcpu)
{
	if (vcpu->pio.pending)
		return lv_complete_pio(vcpu);
	if (vcpu->hypercall_pending) {
		vcpu->hypercall_pending = false;
		vcpu->regs[LV_RAX] = vcpu->run->hypercall.ret;
	}
	if (vcpu->emul.active)
		return lv_complete_emul(vcpu);
	return LV_RESUME_GUEST;
}

/*
 * INIT and SIPI before an entry. Returns 1 after the vCPU slept waiting
 * for a SIPI (look again), 0 to go on, -EINTR on a signal.
 */
static int lv_vcpu_mp_state(struct lv_vcpu *vcpu)
{
	int ret = lv_irqchip_mp_state(vcpu);

	if (ret <= 0)
		return ret ? -EINTR : 0;
	if (lv_irqchip_wait_for_sipi(vcpu))
		return -EINTR;
	return 1;
}

/* LV_SET_TSC_OFFSET reached this vCPU. */
static void lv_vcpu_update_tsc_offset(struct lv_vcpu *vcpu)
{
	int gen = atomic_read(&vcpu->vm->tsc_gen);
	s64 offset;

	if (likely(gen == vcpu->tsc_gen))
		return;
	vcpu->tsc_gen = gen;
	smp_rmb();	/* pairs with the writer's smp_wmb() */
	offset = READ_ONCE(vcpu->vm->tsc_offset);
	lv_vendor->set_tsc_offset(vcpu, offset);
	lv_vcpu_tsc_offset_changed(vcpu, offset);
}

/* The backend changed the TSC offset (LV_SET_TSC_OFFSET, WRMSR). */
void lv_vcpu_tsc_offset_changed(struct lv_vcpu *vcpu, s64 offset)
{
	if (vcpu->lapic)
		WRITE_ONCE(vcpu->lapic->tsc_offset, offset);
}

/* The exit before this entry ends now: charge its ticks to its reason. */
static void lv_account_exit(struct lv_vcpu *vcpu)
{
	if (!vcpu->exit_tsc)
		return;
	this_cpu_inc(lv_exit_stats[vcpu->exit_stat].count);
	this_cpu_add(lv_exit_stats[vcpu->exit_stat].ticks,
		     rdtsc() - vcpu->exit_tsc);
	vcpu->exit_tsc = 0;
}

static int lv_vcpu_run(struct lv_vcpu *vcpu)
{
	struct lv_run *run = vcpu->run;
	enum lv_exit_action action;
	int ret = 0;

	if (vcpu->stopped)
		return -EIO;

	lv_vcpu_load(vcpu);
	if (lv_complete_userspace_exit(vcpu) == LV_EXIT_TO_USER) {
		this_cpu_inc(lv_stats.exits_to_user);
		goto stop_check;
	}

	if (READ_ONCE(run->immediate_exit)) {
		run->exit_reason = LV_EXIT_INTR;
		ret = -EINTR;
		goto out;
	}

	fpu_swap_kvm_fpstate(&vcpu->guest_fpu, true);
	for (;;) {
		/*
		 * Yield first: a thread that runs now (a device back-end woken
		 * by an ioeventfd, say) and raises an interrupt is then seen
		 * by this pass, instead of its kick cancelling the entry.
		 */
		cond_resched();
		/* Cleared before this pass looks at events; pairs with kicks. */
		smp_store_mb(vcpu->kicked, false);
		if (vcpu->lapic) {
			ret = lv_vcpu_mp_state(vcpu);
			if (ret < 0)
				goto interrupted;
			if (ret)
				continue;
		}
		if (vcpu->halted) {
			this_cpu_inc(lv_stats.halts);
			/* No entries while it sleeps: the hrtimer wakes it. */
			if (vcpu->lapic)
				lv_lapic_timer_to_hrtimer(vcpu->lapic);
			if (wait_event_interruptible(vcpu->wq,
						     lv_vcpu_has_event(vcpu)))
				goto interrupted;
			vcpu->halted = false;
			/* INIT or SIPI may have woken it: look again. */
			if (vcpu->lapic)
				continue;
		}
		if (signal_pending(current))
			goto interrupted;
		lv_vcpu_refill_irq(vcpu);
		lv_vcpu_update_tsc_offset(vcpu);
		lv_inject_events(vcpu);

		this_cpu_inc(lv_stats.entries);
		lv_account_exit(vcpu);
		action = lv_vendor->vcpu_run(vcpu);
		if (action == LV_RESUME_GUEST)
			continue;
		/* The event chosen for an entry that did not happen stays. */
		if (action == LV_ENTRY_CANCELLED) {
			lv_cancel_injection(vcpu);
			continue;
		}
		if (run->exit_reason == LV_EXIT_FAIL_ENTRY)
			lv_cancel_injection(vcpu);
		break;
	}
	this_cpu_inc(lv_stats.exits_to_user);
	goto swap_back;
interrupted:
	run->exit_reason = LV_EXIT_INTR;
	if (ret >= 0)
		ret = -EINTR;
swap_back:
	/* Userspace may keep it a while: the deadline goes to the hrtimer. */
	if (vcpu->lapic)
		lv_lapic_timer_to_hrtimer(vcpu->lapic);
	fpu_swap_kvm_fpstate(&vcpu->guest_fpu, false);
stop_check:
	/* These exits leave the vCPU unable to go on. */
	if (run->exit_reason == LV_EXIT_SHUTDOWN ||
	    run->exit_reason == LV_EXIT_FAIL_ENTRY ||
	    run->exit_reason == LV_EXIT_INTERNAL_ERROR)
		vcpu->stopped = true;
out:
	lv_vcpu_put(vcpu);
	trace_lv_exit_to_user(vcpu->id, run->exit_reason, ret);
	return ret;
}

/* With an APIC, IA32_APIC_BASE and CR8 (TPR[7:4]) are the APIC's. */
static void lv_vcpu_get_lapic_base(struct lv_vcpu *vcpu, struct lv_sregs *sr)
{
	sr->apic_base = lv_lapic_get_base(vcpu->lapic);
	sr->cr8 = lv_lapic_get_tpr(vcpu->lapic) >> 4;
}

static int lv_vcpu_set_lapic_base(struct lv_vcpu *vcpu,
				  const struct lv_sregs *sr)
{
	int ret = lv_lapic_set_base(vcpu->lapic, sr->apic_base, true);

	if (!ret)
		lv_lapic_set_tpr(vcpu->lapic, (sr->cr8 & 0xf) << 4);
	return ret;
}

/*
 * Version 1 of struct lv_vcpu_state ended before @pkru. Callers built
 * against it still use the ioctl numbers of that size: they get and set
 * a version-1 state, PKRU and the MTRRs stay as they are, and a held
 * #DB trap is dropped as LV_SET_REGS drops it.
 */
#define LV_VCPU_STATE_V1_SIZE	offsetof(struct lv_vcpu_state, pkru)
#define LV_GET_VCPU_STATE_V1	_IOC(_IOC_READ, LVIO, 0x26, LV_VCPU_STATE_V1_SIZE)
#define LV_SET_VCPU_STATE_V1	_IOC(_IOC_WRITE, LVIO, 0x27, LV_VCPU_STATE_V1_SIZE)

/* The version a state of @size bytes (the ioctl's) has. */
static u32 lv_vcpu_state_version(size_t size)
{
	return size == LV_VCPU_STATE_V1_SIZE ? 1 : LV_VCPU_STATE_VERSION;
}

static int lv_vcpu_get_state(struct lv_vcpu *vcpu, void __user *argp,
			     size_t size)
{
	struct lv_vcpu_state *st;
	int ret = 0;

	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	st->version = lv_vcpu_state_version(size);
	st->size = size;
	lv_vcpu_load(vcpu);
	/* An LV_SET_TSC_OFFSET not yet applied is part of the TSC read. */
	lv_vcpu_update_tsc_offset(vcpu);
	lv_vendor->get_state(vcpu, st);
	lv_vcpu_put(vcpu);
	if (vcpu->lapic)
		lv_vcpu_get_lapic_base(vcpu, &st->sregs);
	st->pending_irq = READ_ONCE(vcpu->pending_irq);
	st->pending_nmi = READ_ONCE(vcpu->pending_nmi);
	st->event = vcpu->event;
	st->activity = vcpu->halted;
	if (st->version >= 2) {
		lv_mtrr_get_state(vcpu, st);
		st->held_trap = vcpu->event_next;
	}
	if (copy_to_user(argp, st, size))
		ret = -EFAULT;
	kfree(st);
	return ret;
}

static int lv_vcpu_set_state(struct lv_vcpu *vcpu, void __user *argp,
			     size_t size)
{
	struct lv_vcpu_state *st;
	int ret;

	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	ret = -EFAULT;
	if (copy_from_user(st, argp, size))
		goto out;
	ret = -EINVAL;
	if (st->version != lv_vcpu_state_version(size) || st->size != size ||
	    st->padding ||
	    (st->version >= 2 &&
	     (lv_mtrr_check_state(st) || lv_check_held_trap(st))) ||
	    st->pending_irq > 256 || (st->pending_irq && st->pending_irq <= 32) ||
	    st->pending_nmi > 1 || st->activity > 1 ||
	    memchr_inv(st->reserved, 0, sizeof(st->reserved)) ||
	    lv_check_event_state(st) ||
	    lv_check_segments(&st->sregs, st->regs.rflags) ||
	    lv_check_entry_regs(&st->sregs, st->regs.rip))
		goto out;
	lv_vcpu_load(vcpu);
	/*
	 * An LV_SET_TSC_OFFSET from before this call must not override the
	 * restored TSC at the next entry.
	 */
	lv_vcpu_update_tsc_offset(vcpu);
	ret = lv_vendor->set_state(vcpu, st);
	lv_vcpu_put(vcpu);
	if (!ret && vcpu->lapic)
		ret = lv_vcpu_set_lapic_base(vcpu, &st->sregs);
	if (ret)
		goto out;
	if (st->version >= 2)
		lv_mtrr_set_state(vcpu, st);
	WRITE_ONCE(vcpu->pending_irq, st->pending_irq);
	WRITE_ONCE(vcpu->pending_nmi, st->pending_nmi);
	vcpu->event = st->event;
	/* Version 1 has no held trap: whatever was held is gone. */
	vcpu->event_next = st->held_trap;
	vcpu->halted = st->activity;
	vcpu->pio.pending = false;
	vcpu->emul.active = false;
	vcpu->hypercall_pending = false;
	vcpu->stopped = false;
out:
	kfree(st);
	return ret;
}

/*
 * The XSAVE components LV_GET_XSAVE/LV_SET_XSAVE carry: those of the
 * guest's FPU buffer, which covers every XCR0 the guest may set, except
 * PKRU, which has its place in struct lv_vcpu_state.
 */
/* In the standard XSAVE image: XCOMP_BV, and the end of the header. */
#define LV_XSAVE_XCOMP_BV	520
#define LV_XSAVE_AREA_END	576

static u64 lv_xsave_features(struct lv_vcpu *vcpu)
{
	return vcpu->guest_fpu.xfeatures & ~XFEATURE_MASK_PKRU;
}

/*
 * The guest FPU buffer is in memory between LV_RUN calls (the run loop
 * swaps it in and out), and vcpu->mutex keeps LV_RUN out meanwhile.
 */
static int lv_vcpu_xsave_ioctl(struct lv_vcpu *vcpu, unsigned int cmd,
			       void __user *argp)
{
	struct lv_xsave *xs;
	u32 pkru_unused;
	int ret = 0;

	/* The kernel's UABI image may grow with dynamic features (AMX). */
	if (vcpu->guest_fpu.fpstate->user_size > sizeof(xs->region))
		return -E2BIG;
	xs = kzalloc(sizeof(*xs), GFP_KERNEL_ACCOUNT);
	if (!xs)
		return -ENOMEM;
	if (cmd == LV_GET_XSAVE) {
		fpu_copy_guest_fpstate_to_uabi(&vcpu->guest_fpu, xs->region,
					       sizeof(xs->region),
					       lv_xsave_features(vcpu), 0);
		if (copy_to_user(argp, xs, sizeof(*xs)))
			ret = -EFAULT;
	} else if (copy_from_user(xs, argp, sizeof(*xs))) {
		ret = -EFAULT;
	} else if (memchr_inv((u8 *)xs->region + LV_XSAVE_XCOMP_BV, 0,
			      LV_XSAVE_AREA_END - LV_XSAVE_XCOMP_BV)) {
		/*
		 * A standard image has XCOMP_BV 0 and a reserved rest of the
		 * header. The kernel checks this only where the host uses
		 * XSAVE: refuse it on every host alike.
		 */
		ret = -EINVAL;
	} else {
		/*
		 * The kernel checks the header, MXCSR and the components.
		 * PKRU is refused (not in the features); the pointer is
		 * there because 6.1 writes through it whenever the buffer
		 * holds PKRU from an earlier run.
		 */
		ret = fpu_copy_uabi_to_guest_fpstate(&vcpu->guest_fpu,
						     xs->region,
						     lv_xsave_features(vcpu),
						     &pkru_unused);
	}
	kfree(xs);
	return ret;
}

/*
 * New general registers must fit the system registers the vCPU has: RIP
 * the mode (lv_check_entry_regs()), and RFLAGS.VM the segments, since
 * those valid in virtual-8086 mode are valid in no other mode and the
 * other way round (lv_check_segments()). Called with the vCPU loaded.
 */
static int lv_vcpu_check_regs(struct lv_vcpu *vcpu, const struct lv_regs *r)
{
	struct lv_sregs *sr;
	int ret;

	sr = kmalloc(sizeof(*sr), GFP_KERNEL);
	if (!sr)
		return -ENOMEM;
	lv_vendor->get_sregs(vcpu, sr);
	ret = lv_check_entry_regs(sr, r->rip);
	if (!ret && ((lv_vendor->get_rflags(vcpu) ^ r->rflags) & X86_EFLAGS_VM))
		ret = lv_check_segments(sr, r->rflags);
	kfree(sr);
	return ret;
}

/* New system registers must fit the vCPU's RFLAGS and RIP. Loaded. */
static int lv_vcpu_check_sregs(struct lv_vcpu *vcpu, const struct lv_sregs *sr)
{
	struct lv_regs r;

	lv_vendor->get_regs(vcpu, &r);
	return lv_check_segments(sr, r.rflags) ?: lv_check_entry_regs(sr, r.rip);
}

static long lv_vcpu_regs_ioctl(struct lv_vcpu *vcpu, unsigned int cmd,
			       void __user *argp)
{
	union {
		struct lv_regs regs;
		struct lv_sregs sregs;
	} u;
	int ret = 0;

	if ((cmd == LV_SET_REGS || cmd == LV_SET_SREGS) &&
	    copy_from_user(&u, argp, _IOC_SIZE(cmd)))
		return -EFAULT;

	lv_vcpu_load(vcpu);
	switch (cmd) {
	case LV_GET_REGS:
		lv_vendor->get_regs(vcpu, &u.regs);
		break;
	case LV_SET_REGS:
		ret = lv_vcpu_check_regs(vcpu, &u.regs);
		if (!ret)
			lv_vendor->set_regs(vcpu, &u.regs);
		break;
	case LV_GET_SREGS:
		lv_vendor->get_sregs(vcpu, &u.sregs);
		if (vcpu->lapic)
			lv_vcpu_get_lapic_base(vcpu, &u.sregs);
		break;
	case LV_SET_SREGS:
		ret = lv_vcpu_check_sregs(vcpu, &u.sregs);
		if (!ret)
			ret = lv_vendor->set_sregs(vcpu, &u.sregs);
		if (!ret && vcpu->lapic)
			ret = lv_vcpu_set_lapic_base(vcpu, &u.sregs);
		break;
	}
	lv_vcpu_put(vcpu);

	if (!ret && (cmd == LV_GET_REGS || cmd == LV_GET_SREGS) &&
	    copy_to_user(argp, &u, _IOC_SIZE(cmd)))
		ret = -EFAULT;
	/*
	 * New registers end whatever instruction was in flight, and the
	 * delivery of an event it caused; a queued interrupt stays queued.
	 */
	if (!ret && (cmd == LV_SET_REGS || cmd == LV_SET_SREGS)) {
		vcpu->pio.pending = false;
		vcpu->emul.active = false;
		vcpu->hypercall_pending = false;
		lv_requeue_event(vcpu);
		memset(&vcpu->event_next, 0, sizeof(vcpu->event_next));
		vcpu->stopped = false;
	}
	return ret;
}

/*
 * On a VM not bound yet (LV_VM_UNBOUND): the state a creator prepares.
 * Running needs guest memory, and an event queued now would be delivered
 * to whoever binds the VM.
 */
static bool lv_vcpu_ioctl_unbound_ok(unsigned int cmd)
{
	switch (cmd) {
	case LV_GET_REGS:
	case LV_SET_REGS:
	case LV_GET_SREGS:
	case LV_SET_SREGS:
	case LV_GET_VCPU_STATE:
	case LV_GET_VCPU_STATE_V1:
	case LV_SET_VCPU_STATE:
	case LV_SET_VCPU_STATE_V1:
	case LV_GET_LAPIC:
	case LV_SET_LAPIC:
	case LV_GET_XSAVE:
	case LV_SET_XSAVE:
		return true;
	default:
		return false;
	}
}

static long lv_vcpu_ioctl(struct file *filp, unsigned int cmd,
			  unsigned long arg)
{
	struct lv_vcpu *vcpu = filp->private_data;
	void __user *argp = (void __user *)arg;
	long ret;

	ret = lv_vm_ioctl_allowed(vcpu->vm, cmd, lv_vcpu_ioctl_unbound_ok(cmd));
	if (ret)
		return ret;

	/* Needs no lock: another thread may queue while the vCPU runs. */
	if (cmd == LV_INTERRUPT)
		return lv_vcpu_interrupt(vcpu, argp);

	if (mutex_lock_killable(&vcpu->mutex))
		return -EINTR;

	switch (cmd) {
	case LV_RUN:
		ret = arg ? -EINVAL : lv_vcpu_run(vcpu);
		break;
	case LV_GET_REGS:
	case LV_SET_REGS:
	case LV_GET_SREGS:
	case LV_SET_SREGS:
		ret = lv_vcpu_regs_ioctl(vcpu, cmd, argp);
		break;
	case LV_GET_VCPU_STATE:
	case LV_GET_VCPU_STATE_V1:
		ret = lv_vcpu_get_state(vcpu, argp, _IOC_SIZE(cmd));
		break;
	case LV_SET_VCPU_STATE:
	case LV_SET_VCPU_STATE_V1:
		ret = lv_vcpu_set_state(vcpu, argp, _IOC_SIZE(cmd));
		break;
	case LV_GET_LAPIC:
	case LV_SET_LAPIC:
		ret = lv_irqchip_vcpu_ioctl(vcpu, cmd, argp);
		break;
	case LV_GET_XSAVE:
	case LV_SET_XSAVE:
		ret = lv_vcpu_xsave_ioctl(vcpu, cmd, argp);
		break;
	default:
		ret = -ENOTTY;
	}
	mutex_unlock(&vcpu->mutex);
	return ret;
}

static vm_fault_t lv_vcpu_fault(struct vm_fault *vmf)
{
	struct lv_vcpu *vcpu = vmf->vma->vm_file->private_data;

	if (vmf->pgoff != 0)
		return VM_FAULT_SIGBUS;
	vmf->page = virt_to_page(vcpu->run);
	get_page(vmf->page);
	return 0;
}

static const struct vm_operations_struct lv_vcpu_vm_ops = {
	.fault = lv_vcpu_fault,
};

/*
 * The run page is one shared page at offset 0, nothing else. A private
 * mapping would copy the page on the first write from userspace and stop
 * seeing the kernel's. VM_DONTEXPAND makes mremap() refuse to grow the
 * mapping, and keeps the mm from merging a mapping of the next page of
 * the fd into it: such a merge never calls ->mmap, so the size check
 * here would not see it.
 */
static int lv_vcpu_mmap(struct file *filp, struct vm_area_struct *vma)
{
	struct lv_vcpu *vcpu = filp->private_data;

	/*
	 * The run page carries the guest's I/O data: only the owner maps
	 * it, so a creator that handed the VM over cannot keep a window
	 * on it.
	 */
	switch (lv_vm_owner(vcpu->vm)) {
	case LV_OWNER_CALLER:
		break;
	case LV_OWNER_NONE:
		return -EBADFD;
	default:
		return -EIO;
	}
	if (vma->vm_pgoff || vma_pages(vma) != 1 ||
	    !(vma->vm_flags & VM_SHARED))
		return -EINVAL;
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_set(vma, VM_DONTEXPAND);
#else
	vma->vm_flags |= VM_DONTEXPAND;
#endif
	vma->vm_ops = &lv_vcpu_vm_ops;
	return 0;
}

static int lv_vcpu_release(struct inode *inode, struct file *filp)
{
	struct lv_vcpu *vcpu = filp->private_data;

	lv_vm_put(vcpu->vm);
	return 0;
}

static const struct file_operations lv_vcpu_fops = {
	.owner		= THIS_MODULE,
	.release	= lv_vcpu_release,
	.unlocked_ioctl	= lv_vcpu_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.mmap		= lv_vcpu_mmap,
	.llseek		= noop_llseek,
};

/**
 * lv_vcpu_init() - set up the vendor-neutral part of a new vCPU
 * @vcpu: embedded in the backend's vCPU
 * @vm: owner
 * @id: index
 *
 * Called by the backend's vcpu_create before it touches hardware state.
 */
int lv_vcpu_init(struct lv_vcpu *vcpu, struct lv_vm *vm, unsigned int id)
{
	vcpu->run = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vcpu->run)
		return -ENOMEM;
	if (!fpu_alloc_guest_fpstate(&vcpu->guest_fpu)) {
		free_page((unsigned long)vcpu->run);
		return -ENOMEM;
	}
	vcpu->vm = vm;
	vcpu->id = id;
	if (lv_irqchip_vcpu_create(vcpu)) {
		fpu_free_guest_fpstate(&vcpu->guest_fpu);
		free_page((unsigned long)vcpu->run);
		return -ENOMEM;
	}
	vcpu->tsc_gen = -1;
	vcpu->cpu = -1;
	vcpu->mode = LV_OUTSIDE_GUEST;
	mutex_init(&vcpu->mutex);
	init_waitqueue_head(&vcpu->wq);
	preempt_notifier_init(&vcpu->preempt_notifier, &lv_preempt_ops);
	return 0;
}

/* Called by the backend's vcpu_free. */
void lv_vcpu_uninit(struct lv_vcpu *vcpu)
{
	lv_irqchip_vcpu_destroy(vcpu);
	fpu_free_guest_fpstate(&vcpu->guest_fpu);
	free_page((unsigned long)vcpu->run);
}

void lv_vcpu_destroy(struct lv_vcpu *vcpu)
{
	atomic_dec(&lv_nr_vcpus);
	lv_vendor->vcpu_free(vcpu);
}

/*
 * Readers walk vm->vcpus without vm->lock (lv_vcpu_kick_all() from any
 * invalidation), so a vCPU is published only once nothing can fail: its
 * index is reserved first (a reserved entry reads as empty), the fd and
 * file are made, and only then is the vCPU stored and the fd installed.
 * An error before that frees a vCPU no other thread has seen.
 */
int lv_vcpu_create(struct lv_vm *vm, unsigned long id)
{
	struct lv_vcpu *vcpu;
	struct file *file;
	int ret, fd;

	if (!lv_caps.run_guests)
		return -ENODEV;
	if (id >= LV_MAX_VCPUS)
		return -EINVAL;

	mutex_lock(&vm->lock);
	ret = -EEXIST;
	if (xa_load(&vm->vcpus, id))
		goto out;
	ret = xa_reserve(&vm->vcpus, id, GFP_KERNEL_ACCOUNT);
	if (ret)
		goto out;

	vcpu = lv_vendor->vcpu_create(vm, id);
	if (IS_ERR(vcpu)) {
		ret = PTR_ERR(vcpu);
		goto out_release;
	}
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto out_free;
	}
	file = anon_inode_getfile("lightvisor-vcpu", &lv_vcpu_fops, vcpu,
				  O_RDWR);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		ret = PTR_ERR(file);
		goto out_free;
	}

	/* The fd holds a VM reference; the VM frees the vCPU at its end. */
	kref_get(&vm->kref);
	/* Into the reserved entry: needs no memory, cannot fail. */
	WARN_ON(xa_err(xa_store(&vm->vcpus, id, vcpu, GFP_KERNEL_ACCOUNT)));
	vm->nr_vcpus++;
	atomic_inc(&lv_nr_vcpus);
	fd_install(fd, file);
	ret = fd;
	goto out;

out_free:
	lv_vendor->vcpu_free(vcpu);
out_release:
	xa_release(&vm->vcpus, id);
out:
	mutex_unlock(&vm->lock);
	return ret;
}

static struct preempt_ops lv_preempt_ops = {
	.sched_in	= lv_sched_in,
	.sched_out	= lv_sched_out,
};
