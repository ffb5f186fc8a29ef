// SPDX-License-Identifier: GPL-2.0
/*
 * A VM's in-kernel interrupt controllers as the rest of lightvisor sees
 * them: creation, lines raised by ioctl or eventfd, MSIs, the port and
 * MMIO ranges the devices claim, what a vCPU injects next, INIT/SIPI,
 * and the saved state.
 *
 * Lock order: irqchip->lock, then a local APIC's lock. The PIT raises
 * lines without holding its own lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>
#include <asm/io.h>

#include "lightvisor.h"
#include "irq/irqchip.h"
#include "irq/lapic.h"

/* --- lines --- */

/* Drive @line with the irqchip lock held. */
static void __lv_irqchip_set_line(struct lv_irqchip *chip, u32 line,
				  bool level)
{
	if (line < 16)
		lv_pics_set_irq(chip->pic, line, level);
	lv_ioapic_set_irq(&chip->ioapic, chip->vm, line, level);
}

/* The PICs' output may have risen: vCPU 0 takes it through LINT0. */
static void lv_irqchip_kick_bsp(struct lv_irqchip *chip)
{
	struct lv_vcpu *bsp = xa_load(&chip->vm->vcpus, 0);

	if (bsp && lv_pics_output(chip->pic))
		lv_vcpu_kick_event(bsp);
}

/**
 * lv_irqchip_set_line() - drive a line of the VM
 * @vm: the VM (with an irqchip)
 * @line: 0..LV_NR_IRQ_LINES - 1
 * @level: asserted
 *
 * Any context (the PIT's timer, eventfd wake-ups).
 */
int lv_irqchip_set_line(struct lv_vm *vm, u32 line, bool level)
{
	struct lv_irqchip *chip = vm->irqchip;
	unsigned long flags;

	if (line >= LV_NR_IRQ_LINES)
		return -EINVAL;
	spin_lock_irqsave(&chip->lock, flags);
	__lv_irqchip_set_line(chip, line, level);
	spin_unlock_irqrestore(&chip->lock, flags);
	if (line < 16 && level)
		lv_irqchip_kick_bsp(chip);
	return 0;
}

/* One edge on @line. */
static void lv_irqchip_pulse(struct lv_vm *vm, u32 line)
{
	lv_irqchip_set_line(vm, line, true);
	lv_irqchip_set_line(vm, line, false);
}

/* PIT channel 0: PIC input 0 and I/O APIC pin 2 (the MADT's override). */
void lv_irqchip_pit_pulse(struct lv_vm *vm)
{
	struct lv_irqchip *chip = vm->irqchip;
	unsigned long flags;

	spin_lock_irqsave(&chip->lock, flags);
	lv_pics_set_irq(chip->pic, 0, true);
	lv_pics_set_irq(chip->pic, 0, false);
	lv_ioapic_set_irq(&chip->ioapic, vm, 2, true);
	lv_ioapic_set_irq(&chip->ioapic, vm, 2, false);
	spin_unlock_irqrestore(&chip->lock, flags);
	lv_irqchip_kick_bsp(chip);
}

/* A local APIC ended level-triggered @vector. */
void lv_irqchip_eoi(struct lv_vm *vm, int vector)
{
	struct lv_irqchip *chip = vm->irqchip;
	unsigned long flags;

	if (!chip)
		return;
	spin_lock_irqsave(&chip->lock, flags);
	lv_ioapic_eoi(&chip->ioapic, vm, vector);
	spin_unlock_irqrestore(&chip->lock, flags);
}

/* The PICs reach only vCPU 0, and only through LINT0 in ExtINT mode. */
bool lv_irqchip_extint_pending(struct lv_vcpu *vcpu)
{
	struct lv_irqchip *chip = vcpu->vm->irqchip;

	return vcpu->id == 0 && lv_lapic_accepts_extint(vcpu->lapic) &&
	       lv_pics_output(chip->pic);
}

/* INTA: the vector the PICs supply, or -1. */
int lv_irqchip_extint_vector(struct lv_vcpu *vcpu)
{
	struct lv_irqchip *chip = vcpu->vm->irqchip;
	unsigned long flags;
	int v = -1;

	/* A lockless look first: a line raised later kicks the vCPU. */
	if (vcpu->id != 0 || !lv_lapic_accepts_extint(vcpu->lapic) ||
	    !lv_pics_output(chip->pic))
		return -1;
	spin_lock_irqsave(&chip->lock, flags);
	if (lv_pics_output(chip->pic))
		v = lv_pics_ack(chip->pic);
	spin_unlock_irqrestore(&chip->lock, flags);
	return v;
}

/* --- guest accesses --- */

static bool lv_pic_port(u16 port, int *chip, int *addr)
{
	switch (port) {
	case 0x20: case 0x21:
		*chip = 0;
		*addr = port & 1;
		return true;
	case 0xa0: case 0xa1:
		*chip = 1;
		*addr = port & 1;
		return true;
	case 0x4d0: case 0x4d1:
		*chip = port & 1;
		*addr = 2;
		return true;
	}
	return false;
}

/**
 * lv_irqchip_pio() - port I/O the in-kernel devices handle
 * @vcpu: the vCPU
 * @port: the port
 * @in: a read
 * @size: 1, 2 or 4 (wider accesses touch consecutive ports)
 * @val: the value read or written
 *
 * Return: true if handled (false: userspace's port).
 */
bool lv_irqchip_pio(struct lv_vcpu *vcpu, u16 port, bool in, u8 size,
		    u32 *val)
{
	struct lv_irqchip *chip = vcpu->vm->irqchip;
	bool pit = (port >= 0x40 && port <= 0x43) || port == 0x61;
	int pic, addr, i;
	unsigned long flags;

	if (!chip || (!pit && !lv_pic_port(port, &pic, &addr)))
		return false;
	if (in)
		*val = 0;
	for (i = 0; i < size; i++) {
		u16 p = port + i;
		u8 byte = *val >> (i * 8);

		if ((p >= 0x40 && p <= 0x43) || p == 0x61) {
			if (in)
				*val |= lv_pit_read(&chip->pit, p) << (i * 8);
			else
				lv_pit_write(&chip->pit, p, byte);
			continue;
		}
		if (!lv_pic_port(p, &pic, &addr)) {
			if (in)
				*val |= 0xff << (i * 8);
			continue;
		}
		spin_lock_irqsave(&chip->lock, flags);
		if (in)
			*val |= lv_pic_read(chip->pic, pic, addr) << (i * 8);
		else
			lv_pic_write(chip->pic, pic, addr, byte);
		spin_unlock_irqrestore(&chip->lock, flags);
		if (!in)
			lv_irqchip_kick_bsp(chip);
	}
	return true;
}

static bool lv_lapic_mmio(struct lv_lapic *apic, u64 gpa, bool write, u8 size,
			  u64 *val)
{
	u64 base = lv_lapic_get_base(apic) & PAGE_MASK;
	unsigned int off = gpa - base;
	u32 v = 0;

	if (gpa < base || gpa >= base + PAGE_SIZE || !lv_apic_hw_enabled(apic) ||
	    lv_apic_x2apic(apic))
		return false;
	/*
	 * Registers are 32 bits wide at 16-byte offsets; other accesses
	 * read 0 and are ignored on write (SDM 11.4.1 makes them undefined).
	 */
	if ((off & 0xf) || size != 4) {
		if (!write)
			*val = 0;
		return true;
	}
	if (write)
		lv_lapic_write(apic, off, *val);
	else if (!lv_lapic_read(apic, off, &v))
		*val = v;
	else
		*val = 0;
	return true;
}

/**
 * lv_irqchip_fast_eoi() - a write to the xAPIC EOI register, by address
 * @vcpu: the vCPU
 * @gpa: the guest-physical address a plain write (no read) went to
 *
 * Every interrupt handler of an xAPIC guest ends with a store to EOI.
 * The APIC ignores the value written (SDM vol. 3A, 11.8.5), so the
 * address alone says what to do, and a backend that knows the length of
 * the instruction can step over it instead of fetching and decoding it,
 * as KVM does for an APIC-access exit at the EOI offset. The access size
 * is not known here; an EOI write of another size is undefined
 * (SDM 11.4.1), and this takes it as an EOI.
 *
 * Return: true if @gpa is this vCPU's xAPIC EOI register and the EOI is
 * done; false to emulate the instruction.
 */
bool lv_irqchip_fast_eoi(struct lv_vcpu *vcpu, u64 gpa)
{
	struct lv_lapic *apic = vcpu->lapic;

	if (!apic || !lv_apic_hw_enabled(apic) || lv_apic_x2apic(apic) ||
	    gpa != (lv_lapic_get_base(apic) & PAGE_MASK) + APIC_EOI)
		return false;
	lv_lapic_write(apic, APIC_EOI, 0);
	this_cpu_inc(lv_stats.fast_eois);
	return true;
}

/**
 * lv_irqchip_mmio() - MMIO the in-kernel devices handle
 * @vcpu: the vCPU
 * @gpa: guest-physical address
 * @write: a write
 * @size: access size
 * @val: the value read or written
 *
 * Return: true if handled (false: userspace's MMIO).
 */
bool lv_irqchip_mmio(struct lv_vcpu *vcpu, u64 gpa, bool write, u8 size,
		     u64 *val)
{
	struct lv_irqchip *chip = vcpu->vm->irqchip;
	unsigned long flags;

	if (!chip)
		return false;
	if (lv_lapic_mmio(vcpu->lapic, gpa, write, size, val))
		return true;
	if (gpa < LV_IOAPIC_BASE || gpa >= LV_IOAPIC_BASE + LV_IOAPIC_SIZE)
		return false;
	spin_lock_irqsave(&chip->lock, flags);
	if (write)
		lv_ioapic_write(&chip->ioapic, vcpu->vm, gpa - LV_IOAPIC_BASE, *val);
	else
		*val = lv_ioapic_read(&chip->ioapic, gpa - LV_IOAPIC_BASE);
	spin_unlock_irqrestore(&chip->lock, flags);
	return true;
}

/* --- irqfd: an eventfd write raises a line --- */

static struct workqueue_struct *lv_irqfd_wq;

struct lv_irqfd_entry {
	struct lv_vm *vm;
	struct eventfd_ctx *eventfd;
	u32 line;
	wait_queue_entry_t wait;
	poll_table pt;
	wait_queue_head_t *wqh;
	struct list_head link;
	struct work_struct shutdown;
};

static void lv_irqfd_free(struct lv_irqfd_entry *irqfd)
{
	u64 cnt;

	eventfd_ctx_remove_wait_queue(irqfd->eventfd, &irqfd->wait, &cnt);
	eventfd_ctx_put(irqfd->eventfd);
	kfree(irqfd);
}

static void lv_irqfd_shutdown(struct work_struct *work)
{
	lv_irqfd_free(container_of(work, struct lv_irqfd_entry, shutdown));
}

/* Called with the eventfd's wait-queue lock held, interrupts off. */
static int lv_irqfd_wakeup(wait_queue_entry_t *wait, unsigned int mode,
			   int sync, void *key)
{
	struct lv_irqfd_entry *irqfd =
		container_of(wait, struct lv_irqfd_entry, wait);
	__poll_t flags = key_to_poll(key);
	struct lv_irqchip *chip = irqfd->vm->irqchip;
	unsigned long lflags;
	u64 cnt;

	if (flags & EPOLLIN) {
		eventfd_ctx_do_read(irqfd->eventfd, &cnt);
		lv_irqchip_pulse(irqfd->vm, irqfd->line);
	}
	if (flags & EPOLLHUP) {
		/* The eventfd is going away: unhook it (once). */
		spin_lock_irqsave(&chip->irqfds_lock, lflags);
		if (!list_empty(&irqfd->link)) {
			list_del_init(&irqfd->link);
			queue_work(lv_irqfd_wq, &irqfd->shutdown);
		}
		spin_unlock_irqrestore(&chip->irqfds_lock, lflags);
	}
	return 0;
}

static void lv_irqfd_ptable_queue(struct file *file, wait_queue_head_t *wqh,
				  poll_table *pt)
{
	struct lv_irqfd_entry *irqfd =
		container_of(pt, struct lv_irqfd_entry, pt);

	irqfd->wqh = wqh;
	add_wait_queue_priority(wqh, &irqfd->wait);
}

static int lv_irqfd_assign(struct lv_vm *vm, const struct lv_irqfd *args)
{
	struct lv_irqchip *chip = vm->irqchip;
	struct lv_irqfd_entry *irqfd, *tmp;
	struct eventfd_ctx *ctx;
	struct file *file;
	__poll_t events;
	int ret;

	file = fget(args->fd);
	if (!file)
		return -EBADF;
	ctx = eventfd_ctx_fileget(file);
	ret = -EINVAL;
	if (IS_ERR(ctx))
		goto out_file;
	ret = -ENOMEM;
	irqfd = kzalloc(sizeof(*irqfd), GFP_KERNEL_ACCOUNT);
	if (!irqfd)
		goto out_ctx;
	irqfd->vm = vm;
	irqfd->eventfd = ctx;
	irqfd->line = args->line;
	INIT_LIST_HEAD(&irqfd->link);
	INIT_WORK(&irqfd->shutdown, lv_irqfd_shutdown);
	init_waitqueue_func_entry(&irqfd->wait, lv_irqfd_wakeup);
	init_poll_funcptr(&irqfd->pt, lv_irqfd_ptable_queue);

	spin_lock_irq(&chip->irqfds_lock);
	ret = -EEXIST;
	list_for_each_entry(tmp, &chip->irqfds, link)
		if (tmp->eventfd == ctx)
			goto fail;
	list_add_tail(&irqfd->link, &chip->irqfds);
	spin_unlock_irq(&chip->irqfds_lock);

	/* A write that came before the hook-up still raises the line. */
	events = vfs_poll(file, &irqfd->pt);
	if (events & EPOLLIN)
		lv_irqchip_pulse(vm, irqfd->line);
	fput(file);
	return 0;
fail:
	spin_unlock_irq(&chip->irqfds_lock);
	kfree(irqfd);
out_ctx:
	eventfd_ctx_put(ctx);
out_file:
	fput(file);
	return ret;
}

static int lv_irqfd_deassign(struct lv_vm *vm, const struct lv_irqfd *args)
{
	struct lv_irqchip *chip = vm->irqchip;
	struct lv_irqfd_entry *irqfd, *found = NULL;
	struct eventfd_ctx *ctx;

	ctx = eventfd_ctx_fdget(args->fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx) == -EBADF ? -EBADF : -EINVAL;
	spin_lock_irq(&chip->irqfds_lock);
	list_for_each_entry(irqfd, &chip->irqfds, link) {
		if (irqfd->eventfd == ctx && irqfd->line == args->line) {
			list_del_init(&irqfd->link);
			found = irqfd;
			break;
		}
	}
	spin_unlock_irq(&chip->irqfds_lock);
	eventfd_ctx_put(ctx);
	if (!found)
		return -ENOENT;
	/* A shutdown scheduled by EPOLLHUP owns it otherwise. */
	lv_irqfd_free(found);
	return 0;
}

static int lv_irqfd(struct lv_vm *vm, void __user *argp)
{
	struct lv_irqfd args;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.flags & ~LV_IRQFD_DEASSIGN || args.padding ||
	    args.line >= LV_NR_IRQ_LINES)
		return -EINVAL;
	if (args.flags & LV_IRQFD_DEASSIGN)
		return lv_irqfd_deassign(vm, &args);
	return lv_irqfd_assign(vm, &args);
}

static void lv_irqfds_release(struct lv_irqchip *chip)
{
	struct lv_irqfd_entry *irqfd, *tmp;
	LIST_HEAD(list);

	spin_lock_irq(&chip->irqfds_lock);
	list_splice_init(&chip->irqfds, &list);
	spin_unlock_irq(&chip->irqfds_lock);
	list_for_each_entry_safe(irqfd, tmp, &list, link) {
		list_del_init(&irqfd->link);
		lv_irqfd_free(irqfd);
	}
}

int lv_irqchip_module_init(void)
{
	lv_irqfd_wq = alloc_workqueue("lv-irqfd", 0, 0);
	return lv_irqfd_wq ? 0 : -ENOMEM;
}

/* Entries that EPOLLHUP handed to the workqueue are freed by now. */
void lv_irqchip_module_exit(void)
{
	destroy_workqueue(lv_irqfd_wq);
}

/* --- MSIs --- */

static int lv_signal_msi(struct lv_vm *vm, void __user *argp)
{
	struct lv_apic_irq irq;
	struct lv_msi msi;
	int ret;

	if (copy_from_user(&msi, argp, sizeof(msi)))
		return -EFAULT;
	if (msi.flags || msi.padding[0] || msi.padding[1])
		return -EINVAL;
	ret = lv_msi_decode(msi.address, msi.data, &irq);
	if (ret)
		return ret;
	return lv_irq_deliver(vm, &irq, NULL);
}

/* --- saved state of the VM's devices --- */

static void lv_pic_save(const struct lv_pic *p, struct lv_pic_state *s)
{
	*s = (struct lv_pic_state) {
		.irr = p->irr, .imr = p->imr, .isr = p->isr,
		.priority_add = p->priority_add, .irq_base = p->irq_base,
		.read_isr = p->read_isr, .poll = p->poll,
		.special_mask = p->special_mask, .init_state = p->init_state,
		.auto_eoi = p->auto_eoi,
		.rotate_on_auto_eoi = p->rotate_on_auto_eoi,
		.special_fully_nested = p->special_fully_nested,
		.init4 = p->init4, .single = p->single, .elcr = p->elcr,
		.last_irr = p->last_irr,
	};
}

static bool lv_pic_state_ok(const struct lv_pic_state *s, u8 elcr_mask)
{
	return s->priority_add < 8 && !(s->irq_base & 7) && s->read_isr <= 1 &&
	       s->poll <= 1 && s->special_mask <= 1 && s->init_state <= 3 &&
	       s->auto_eoi <= 1 && s->rotate_on_auto_eoi <= 1 &&
	       s->special_fully_nested <= 1 && s->init4 <= 1 && s->single <= 1 &&
	       !(s->elcr & ~elcr_mask) &&
	       !memchr_inv(s->padding, 0, sizeof(s->padding));
}

static void lv_pic_restore(struct lv_pic *p, const struct lv_pic_state *s)
{
	p->irr = s->irr;
	p->imr = s->imr;
	p->isr = s->isr;
	p->priority_add = s->priority_add;
	p->irq_base = s->irq_base;
	p->read_isr = s->read_isr;
	p->poll = s->poll;
	p->special_mask = s->special_mask;
	p->init_state = s->init_state;
	p->auto_eoi = s->auto_eoi;
	p->rotate_on_auto_eoi = s->rotate_on_auto_eoi;
	p->special_fully_nested = s->special_fully_nested;
	p->init4 = s->init4;
	p->single = s->single;
	p->elcr = s->elcr;
	p->last_irr = s->last_irr;
}

static int lv_get_irqchip(struct lv_vm *vm, void __user *argp)
{
	struct lv_irqchip *chip = vm->irqchip;
	struct lv_irqchip_state *st;
	unsigned long flags;
	int ret = 0;

	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	st->version = LV_IRQCHIP_STATE_VERSION;
	st->size = sizeof(*st);
	spin_lock_irqsave(&chip->lock, flags);
	st->ioapic.id = chip->ioapic.id;
	st->ioapic.ioregsel = chip->ioapic.ioregsel;
	st->ioapic.line_levels = chip->ioapic.line_levels;
	memcpy(st->ioapic.redir, chip->ioapic.redir, sizeof(st->ioapic.redir));
	lv_pic_save(&chip->pic[0], &st->pic[0]);
	lv_pic_save(&chip->pic[1], &st->pic[1]);
	spin_unlock_irqrestore(&chip->lock, flags);
	lv_pit_get_state(&chip->pit, st);
	if (copy_to_user(argp, st, sizeof(*st)))
		ret = -EFAULT;
	kfree(st);
	return ret;
}

static bool lv_irqchip_state_ok(const struct lv_irqchip_state *st)
{
	int i;

	if (st->version != LV_IRQCHIP_STATE_VERSION || st->size != sizeof(*st) ||
	    st->padding || memchr_inv(st->reserved, 0, sizeof(st->reserved)))
		return false;
	if (st->ioapic.id > 15 || st->ioapic.ioregsel > 0xff ||
	    st->ioapic.padding || st->ioapic.line_levels >> LV_NR_IRQ_LINES)
		return false;
	for (i = 0; i < LV_NR_IRQ_LINES; i++)
		if (st->ioapic.redir[i] & 0x00fffffffffe0000ULL)
			return false;
	return lv_pic_state_ok(&st->pic[0], 0xf8) &&
	       lv_pic_state_ok(&st->pic[1], 0xde);
}

static int lv_set_irqchip(struct lv_vm *vm, void __user *argp)
{
	struct lv_irqchip *chip = vm->irqchip;
	struct lv_irqchip_state *st;
	unsigned long flags;
	int ret;

	st = memdup_user(argp, sizeof(*st));
	if (IS_ERR(st))
		return PTR_ERR(st);
	ret = -EINVAL;
	if (!lv_irqchip_state_ok(st))
		goto out;
	ret = lv_pit_set_state(&chip->pit, st);
	if (ret)
		goto out;
	spin_lock_irqsave(&chip->lock, flags);
	chip->ioapic.id = st->ioapic.id;
	chip->ioapic.ioregsel = st->ioapic.ioregsel;
	chip->ioapic.line_levels = st->ioapic.line_levels;
	memcpy(chip->ioapic.redir, st->ioapic.redir, sizeof(st->ioapic.redir));
	lv_pic_restore(&chip->pic[0], &st->pic[0]);
	lv_pic_restore(&chip->pic[1], &st->pic[1]);
	spin_unlock_irqrestore(&chip->lock, flags);
	lv_irqchip_kick_bsp(chip);
out:
	kfree(st);
	return ret;
}

/* --- VM --- */

/**
 * lv_irqchip_create() - give a VM its interrupt controllers
 * @vm: the VM, before its first vCPU (caller holds vm->lock)
 */
int lv_irqchip_create(struct lv_vm *vm)
{
	struct lv_irqchip *chip;

	if (vm->irqchip)
		return -EEXIST;
	if (vm->nr_vcpus)
		return -EBUSY;
	chip = kzalloc(sizeof(*chip), GFP_KERNEL_ACCOUNT);
	if (!chip)
		return -ENOMEM;
	spin_lock_init(&chip->lock);
	spin_lock_init(&chip->irqfds_lock);
	INIT_LIST_HEAD(&chip->irqfds);
	chip->vm = vm;
	lv_pic_reset(&chip->pic[0], true);
	lv_pic_reset(&chip->pic[1], false);
	lv_ioapic_reset(&chip->ioapic);
	lv_pit_init(&chip->pit, vm);
	if (lv_caps.apic_access) {
		chip->apic_access_page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
		if (!chip->apic_access_page) {
			kfree(chip);
			return -ENOMEM;
		}
	}
	/* vCPU creation reads it without vm->lock's ordering: publish last. */
	smp_store_release(&vm->irqchip, chip);
	return 0;
}

/* Before the vCPUs go: nothing may raise a line or fire after this. */
void lv_irqchip_destroy(struct lv_vm *vm)
{
	struct lv_irqchip *chip = vm->irqchip;
	struct lv_vcpu *vcpu;
	unsigned long i;

	if (!chip)
		return;
	lv_irqfds_release(chip);
	lv_pit_destroy(&chip->pit);
	xa_for_each(&vm->vcpus, i, vcpu)
		if (vcpu->lapic)
			lv_lapic_destroy(vcpu->lapic);
}

/* After the vCPUs, before the page tables: no entry can use the page. */
void lv_irqchip_free(struct lv_vm *vm)
{
	if (vm->irqchip && vm->irqchip->apic_access_page)
		__free_page(vm->irqchip->apic_access_page);
	kfree(vm->irqchip);
	vm->irqchip = NULL;
}

/* --- the APIC-access page --- */

/*
 * With lv_caps.apic_access, the guest-physical page at the default APIC
 * base maps to a page of the VM's own, and each vCPU whose APIC is in
 * xAPIC mode there runs with "virtualize APIC accesses": its accesses to
 * the page exit as APIC accesses (no instruction fetch or walk to find
 * the address), and with virtual-interrupt delivery its EOI and TPR
 * writes do not exit at all (SDM vol. 3C, 30.4). The page's contents are
 * never read or written through it. A vCPU without the control (x2APIC
 * mode, APIC disabled) would reach the page itself, as hardware reaches memory at the APIC base once the
 * xAPIC is not decoding it. An APIC moved elsewhere turns the page off
 * for the whole VM, as KVM inhibits APICv: the old base must then reach
 * userspace as MMIO again. A memory slot added over the base wins: its
 * insertion unmaps the page (lv_mmu_slot_replace()), and faults find the
 * slot first.
 *
 * Every caller is a vCPU's (its creation, entries, faults and APIC base
 * writes), and vm->irqchip was set before the first vCPU: plain reads.
 */

/* The page's host-physical address for the VMCS, 0 if the VM has none. */
phys_addr_t lv_apic_access_hpa(struct lv_vm *vm)
{
	struct lv_irqchip *chip = vm->irqchip;

	return chip && chip->apic_access_page ?
	       page_to_phys(chip->apic_access_page) : 0;
}

/* May a vCPU of @vm with its xAPIC at the default base use the page? */
bool lv_apic_access_on(struct lv_vm *vm)
{
	struct lv_irqchip *chip = vm->irqchip;

	return chip && chip->apic_access_page && !READ_ONCE(chip->apic_access_off);
}

/**
 * lv_apic_access_fault() - map the APIC-access page where the guest touched it
 * @vm: the VM
 * @gpa: a guest-physical address that no memory slot holds
 *
 * Return: 0 if mapped (the guest retries and exits as an APIC access),
 * -ENOENT if @gpa is not the default APIC base's page or the page is off,
 * another negative errno on failure.
 */
int lv_apic_access_fault(struct lv_vm *vm, u64 gpa)
{
	struct lv_irqchip *chip = vm->irqchip;
	int ret;

	if ((gpa & PAGE_MASK) != APIC_DEFAULT_PHYS_BASE || !lv_apic_access_on(vm))
		return -ENOENT;
	ret = lv_vendor->vm_map_phys(vm, APIC_DEFAULT_PHYS_BASE,
				     page_to_phys(chip->apic_access_page),
				     PAGE_SIZE, LV_PROT_RWX, false);
	if (ret < 0)
		return ret;
	/* The mapping before the flag; pairs with lv_apic_access_disable(). */
	smp_mb();
	if (READ_ONCE(chip->apic_access_off))
		lv_mmu_zap_range(vm, APIC_DEFAULT_PHYS_BASE, PAGE_SIZE);
	else if (ret > 0)
		lv_vm_flush_tlbs(vm);
	return 0;
}

/*
 * An APIC of @vm left the default base: unmap the page for good. A fault
 * that mapped it concurrently sees the flag after its mapping and unmaps
 * it again, or its mapping is already there for the unmap here.
 */
static void lv_apic_access_disable(struct lv_vm *vm)
{
	struct lv_irqchip *chip = vm->irqchip;

	if (!chip || !chip->apic_access_page || READ_ONCE(chip->apic_access_off))
		return;
	WRITE_ONCE(chip->apic_access_off, true);
	/* The flag before the unmap; pairs with lv_apic_access_fault(). */
	smp_mb();
	lv_mmu_zap_range(vm, APIC_DEFAULT_PHYS_BASE, PAGE_SIZE);
}

/**
 * lv_apic_access_base_changed() - an APIC's IA32_APIC_BASE was written
 * @vcpu: its vCPU
 * @base: the new value
 *
 * Not under the APIC's lock: the unmap takes mmu_lock and flushes.
 */
void lv_apic_access_base_changed(struct lv_vcpu *vcpu, u64 base)
{
	if ((base & MSR_IA32_APICBASE_ENABLE) && !(base & X2APIC_ENABLE) &&
	    (base & MSR_IA32_APICBASE_BASE) != APIC_DEFAULT_PHYS_BASE)
		lv_apic_access_disable(vcpu->vm);
}

long lv_irqchip_vm_ioctl(struct lv_vm *vm, unsigned int cmd,
			 void __user *argp)
{
	struct lv_irq_level lvl;

	/* Pairs with the release in lv_irqchip_create(). */
	if (!smp_load_acquire(&vm->irqchip))
		return -ENXIO;
	switch (cmd) {
	case LV_IRQ_LINE:
		if (copy_from_user(&lvl, argp, sizeof(lvl)))
			return -EFAULT;
		if (lvl.level > 1)
			return -EINVAL;
		return lv_irqchip_set_line(vm, lvl.line, lvl.level);
	case LV_IRQFD:
		return lv_irqfd(vm, argp);
	case LV_SIGNAL_MSI:
		return lv_signal_msi(vm, argp);
	case LV_GET_IRQCHIP:
		return lv_get_irqchip(vm, argp);
	case LV_SET_IRQCHIP:
		return lv_set_irqchip(vm, argp);
	}
	return -ENOTTY;
}

/* --- vCPU --- */

/* Called at vCPU creation: an APIC when the VM has an irqchip. */
int lv_irqchip_vcpu_create(struct lv_vcpu *vcpu)
{
	if (!vcpu->vm->irqchip)
		return 0;
	vcpu->lapic = kzalloc(sizeof(*vcpu->lapic), GFP_KERNEL_ACCOUNT);
	if (!vcpu->lapic)
		return -ENOMEM;
	lv_lapic_init(vcpu->lapic, vcpu, vcpu->id);
	return 0;
}

void lv_irqchip_vcpu_destroy(struct lv_vcpu *vcpu)
{
	if (!vcpu->lapic)
		return;
	lv_lapic_destroy(vcpu->lapic);
	kfree(vcpu->lapic);
	vcpu->lapic = NULL;
}

/**
 * lv_irqchip_get_interrupt() - the vector to inject next, acknowledged
 * @vcpu: the vCPU (with an APIC)
 *
 * ExtINT from the PICs first (it bypasses the APIC's priorities), then
 * the APIC's highest vector above its processor priority. The core calls
 * this only when the guest takes the interrupt at this entry: the vector
 * goes in service (IRR to ISR, or the PIC's INTA cycle).
 *
 * Return: the vector, or -1.
 */
int lv_irqchip_get_interrupt(struct lv_vcpu *vcpu)
{
	int v = lv_irqchip_extint_vector(vcpu);

	return v >= 0 ? v : lv_lapic_get_interrupt(vcpu->lapic);
}

/* An interrupt waits for the vCPU; nothing is acknowledged. */
bool lv_irqchip_has_interrupt(struct lv_vcpu *vcpu)
{
	return lv_lapic_has_interrupt(vcpu->lapic) ||
	       lv_irqchip_extint_pending(vcpu);
}

/* Something would wake the vCPU from HLT. */
bool lv_irqchip_has_event(struct lv_vcpu *vcpu)
{
	struct lv_lapic *apic = vcpu->lapic;

	return lv_irqchip_has_interrupt(vcpu) || READ_ONCE(apic->pending_init) ||
	       READ_ONCE(apic->pending_sipi);
}

static bool lv_irqchip_sipi_event(struct lv_vcpu *vcpu)
{
	return READ_ONCE(vcpu->lapic->pending_init) ||
	       READ_ONCE(vcpu->lapic->pending_sipi);
}

/* SIPI: real mode at vector << 12, CS = vector << 8, IP = 0 (SDM 9.4.4). */
static int lv_vcpu_start_at_sipi(struct lv_vcpu *vcpu, u8 vector)
{
	struct lv_sregs sr;
	struct lv_regs r;

	lv_vendor->get_sregs(vcpu, &sr);
	sr.cs.selector = vector << 8;
	sr.cs.base = (u64)vector << 12;
	lv_vendor->get_regs(vcpu, &r);
	r.rip = 0;
	lv_vendor->set_regs(vcpu, &r);
	return lv_vendor->set_sregs(vcpu, &sr);
}

/**
 * lv_irqchip_mp_state() - take INIT and SIPI before an entry
 * @vcpu: the vCPU, loaded
 *
 * INIT puts the processor in its INIT state; an AP then waits for a
 * SIPI, the BSP restarts at the reset vector. A SIPI starts a waiting AP.
 *
 * Return: 1 while the vCPU waits for a SIPI (it must not enter), 0 to run,
 * or a negative errno.
 */
int lv_irqchip_mp_state(struct lv_vcpu *vcpu)
{
	struct lv_lapic *apic = vcpu->lapic;
	unsigned long flags;
	bool init, bsp;
	u32 sipi;
	int ret;

	/* The common case, nothing to do, takes no lock. */
	if (!READ_ONCE(apic->pending_init) && !READ_ONCE(apic->pending_sipi))
		return READ_ONCE(apic->wait_for_sipi) ? 1 : 0;
	spin_lock_irqsave(&apic->lock, flags);
	init = apic->pending_init;
	sipi = apic->pending_sipi;
	apic->pending_init = false;
	apic->pending_sipi = 0;
	bsp = apic->base & MSR_IA32_APICBASE_BSP;
	if (init) {
		lv_lapic_reset(apic, bsp);
		apic->wait_for_sipi = !bsp;
	}
	if (sipi && !apic->wait_for_sipi)
		sipi = 0;
	if (sipi)
		apic->wait_for_sipi = false;
	spin_unlock_irqrestore(&apic->lock, flags);

	if (init) {
		lv_vendor->init_vcpu(vcpu);
		lv_events_init(vcpu);
		vcpu->halted = false;
	}
	if (sipi) {
		ret = lv_vcpu_start_at_sipi(vcpu, sipi - 1);
		if (ret)
			return ret;
		vcpu->halted = false;
	}
	return READ_ONCE(apic->wait_for_sipi) ? 1 : 0;
}

/* Sleep until INIT or SIPI; -EINTR on a signal. */
int lv_irqchip_wait_for_sipi(struct lv_vcpu *vcpu)
{
	return wait_event_interruptible(vcpu->wq, lv_irqchip_sipi_event(vcpu));
}

static int lv_get_lapic(struct lv_vcpu *vcpu, void __user *argp)
{
	struct lv_lapic *apic = vcpu->lapic;
	struct lv_lapic_state *st;
	unsigned long flags;
	int ret = 0;

	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	st->version = LV_LAPIC_STATE_VERSION;
	st->size = sizeof(*st);
	spin_lock_irqsave(&apic->lock, flags);
	st->apic_base = apic->base;
	st->tsc_deadline = apic->tsc_deadline;
	memcpy(st->regs, apic->regs, sizeof(st->regs));
	st->regs[APIC_PROCPRI >> 4] = lv_lapic_ppr(apic);
	st->timer_remaining_ns = lv_lapic_timer_remaining(apic);
	st->wait_for_sipi = apic->wait_for_sipi;
	st->pending_sipi = apic->pending_sipi;
	st->pending_init = apic->pending_init;
	st->esr_pending = apic->esr_pending;
	spin_unlock_irqrestore(&apic->lock, flags);
	if (copy_to_user(argp, st, sizeof(*st)))
		ret = -EFAULT;
	kfree(st);
	return ret;
}

/* The xAPIC page may not lie on RAM: the RAM mapping would hide it. */
static bool lv_apic_base_on_ram(struct lv_vm *vm, u64 base)
{
	bool on_ram;

	if (!(base & MSR_IA32_APICBASE_ENABLE) || (base & X2APIC_ENABLE))
		return false;
	down_read(&vm->slots_lock);
	on_ram = lv_memslot_find(vm, base & PAGE_MASK);
	up_read(&vm->slots_lock);
	return on_ram;
}

static int lv_set_lapic(struct lv_vcpu *vcpu, void __user *argp)
{
	struct lv_lapic *apic = vcpu->lapic;
	struct lv_lapic_state *st;
	int ret;

	st = memdup_user(argp, sizeof(*st));
	if (IS_ERR(st))
		return PTR_ERR(st);
	ret = -EINVAL;
	if (st->version != LV_LAPIC_STATE_VERSION || st->size != sizeof(*st) ||
	    memchr_inv(st->reserved, 0, sizeof(st->reserved)) ||
	    st->wait_for_sipi > 1 || st->pending_init > 1 ||
	    st->pending_sipi > 256 || st->timer_remaining_ns > (1ULL << 62) ||
	    lv_apic_base_on_ram(vcpu->vm, st->apic_base))
		goto out;
	ret = lv_lapic_set_base(apic, st->apic_base, true);
	if (ret)
		goto out;
	lv_lapic_restore(apic, st->regs, st->tsc_deadline,
			 st->timer_remaining_ns);
	spin_lock_irq(&apic->lock);
	apic->wait_for_sipi = st->wait_for_sipi;
	apic->pending_sipi = st->pending_sipi;
	apic->pending_init = st->pending_init;
	apic->esr_pending = st->esr_pending & 0xef;
	spin_unlock_irq(&apic->lock);
	lv_vcpu_kick_event(vcpu);
out:
	kfree(st);
	return ret;
}

long lv_irqchip_vcpu_ioctl(struct lv_vcpu *vcpu, unsigned int cmd,
			   void __user *argp)
{
	if (!vcpu->lapic)
		return -ENXIO;
	if (cmd == LV_GET_LAPIC)
		return lv_get_lapic(vcpu, argp);
	return lv_set_lapic(vcpu, argp);
}
