// SPDX-License-Identifier: GPL-2.0
/*
 * Interrupt status registers served in the kernel (LV_IRQ_STATUS).
 *
 * A virtio-mmio driver reads InterruptStatus and writes the value back to
 * InterruptACK in every interrupt handler: two exits to userspace for
 * each interrupt, beside the one that delivered it. The status word
 * lives in the VM owner's memory, where the device sets bits before it
 * raises the interrupt; the kernel answers the read with the word and
 * clears the acknowledged bits with a compare-exchange on it. Both run
 * in the vCPU thread, so in the owner's address space, and may fault
 * the word in. Whatever fails (the word unmapped, a writer that keeps
 * changing it) leaves the access to userspace, whose emulation of the
 * register is the reference: the kernel path only saves exits.
 *
 * Entries are on an RCU list under vm->ioeventfds_lock, as ioeventfds
 * are; the exit path copies the word's address out under
 * rcu_read_lock() and touches user memory after it.
 */
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "lightvisor.h"

/* Compare-exchange attempts before the ACK is left to userspace. */
#define LV_IRQ_STATUS_CMPXCHG_TRIES	16

/**
 * struct lv_irq_status_entry - one status/acknowledge register pair
 * @link: in vm->irq_status
 * @status_gpa: the status register
 * @ack_gpa: the acknowledge register
 * @word: the status word in the owner's memory
 * @rcu: frees the entry after readers are done
 */
struct lv_irq_status_entry {
	struct list_head link;
	u64 status_gpa;
	u64 ack_gpa;
	u32 __user *word;
	struct rcu_head rcu;
};

void lv_irq_status_init(struct lv_vm *vm)
{
	INIT_LIST_HEAD(&vm->irq_status);
}

/* The VM is going away: no vCPU is left to read the list. */
void lv_irq_status_destroy(struct lv_vm *vm)
{
	struct lv_irq_status_entry *e, *tmp;

	list_for_each_entry_safe(e, tmp, &vm->irq_status, link) {
		list_del(&e->link);
		kfree(e);
	}
	vm->nr_irq_status = 0;
}

/* The word of the register at @gpa (status for a read, else ack). */
static u32 __user *lv_irq_status_word(struct lv_vm *vm, u64 gpa, bool write)
{
	struct lv_irq_status_entry *e;
	u32 __user *word = NULL;

	rcu_read_lock();
	list_for_each_entry_rcu(e, &vm->irq_status, link) {
		if (gpa == (write ? e->ack_gpa : e->status_gpa)) {
			word = e->word;
			break;
		}
	}
	rcu_read_unlock();
	return word;
}

/* *@word &= ~@bits, atomically against the device's own updates. */
static int lv_irq_status_clear(u32 __user *word, u32 bits)
{
	unsigned int tries = LV_IRQ_STATUS_CMPXCHG_TRIES;
	u32 old;

	if (!user_access_begin(word, sizeof(*word)))
		return -EFAULT;
	unsafe_get_user(old, word, fault);
	do {
		if (unsafe_try_cmpxchg_user(word, &old, old & ~bits, fault))
			break;
	} while (--tries);
	user_access_end();
	return tries ? 0 : -EAGAIN;
fault:
	user_access_end();
	return -EFAULT;
}

/**
 * lv_irq_status_access() - a guest access to a status register
 * @vm: the VM
 * @gpa: guest-physical address
 * @len: width in bytes
 * @write: a write (to an acknowledge register)
 * @data: the value written, or where the value read goes
 *
 * Called from the exit path in the vCPU thread, preemptible.
 *
 * Return: true if the access is complete.
 */
bool lv_irq_status_access(struct lv_vm *vm, u64 gpa, unsigned int len,
			  bool write, u64 *data)
{
	u32 __user *word;
	u32 val;

	if (len != 4 || list_empty(&vm->irq_status))
		return false;
	word = lv_irq_status_word(vm, gpa, write);
	if (!word)
		return false;
	if (write) {
		if (lv_irq_status_clear(word, *data))
			return false;
	} else {
		if (get_user(val, word))
			return false;
		*data = val;
	}
	this_cpu_inc(lv_stats.irq_status_accesses);
	return true;
}

static int lv_irq_status_check(const struct lv_irq_status *args)
{
	if (args->flags & ~LV_IRQ_STATUS_DEASSIGN || args->padding)
		return -EINVAL;
	if (!IS_ALIGNED(args->status_gpa, 4) ||
	    args->status_gpa >= LV_MAX_GPA)
		return -EINVAL;
	if (args->flags & LV_IRQ_STATUS_DEASSIGN)
		return 0;
	if (!IS_ALIGNED(args->ack_gpa, 4) || args->ack_gpa >= LV_MAX_GPA ||
	    args->ack_gpa == args->status_gpa || !IS_ALIGNED(args->word, 4))
		return -EINVAL;
	if (!access_ok(u64_to_user_ptr(args->word), sizeof(u32)))
		return -EFAULT;
	return 0;
}

/* Does @e take either register of @args? */
static bool lv_irq_status_collides(const struct lv_irq_status_entry *e,
				   const struct lv_irq_status *args)
{
	return e->status_gpa == args->status_gpa ||
	       e->ack_gpa == args->ack_gpa ||
	       e->status_gpa == args->ack_gpa ||
	       e->ack_gpa == args->status_gpa;
}

static int lv_irq_status_assign(struct lv_vm *vm,
				const struct lv_irq_status *args)
{
	struct lv_irq_status_entry *e, *new;
	int ret;

	new = kzalloc(sizeof(*new), GFP_KERNEL_ACCOUNT);
	if (!new)
		return -ENOMEM;
	new->status_gpa = args->status_gpa;
	new->ack_gpa = args->ack_gpa;
	new->word = u64_to_user_ptr(args->word);

	mutex_lock(&vm->ioeventfds_lock);
	ret = -ENOSPC;
	if (vm->nr_irq_status >= LV_MAX_IRQ_STATUS)
		goto fail;
	ret = -EEXIST;
	list_for_each_entry(e, &vm->irq_status, link)
		if (lv_irq_status_collides(e, args))
			goto fail;
	list_add_tail_rcu(&new->link, &vm->irq_status);
	vm->nr_irq_status++;
	mutex_unlock(&vm->ioeventfds_lock);
	return 0;

fail:
	mutex_unlock(&vm->ioeventfds_lock);
	kfree(new);
	return ret;
}

static int lv_irq_status_deassign(struct lv_vm *vm, u64 status_gpa)
{
	struct lv_irq_status_entry *e, *found = NULL;

	mutex_lock(&vm->ioeventfds_lock);
	list_for_each_entry(e, &vm->irq_status, link) {
		if (e->status_gpa == status_gpa) {
			list_del_rcu(&e->link);
			vm->nr_irq_status--;
			found = e;
			break;
		}
	}
	mutex_unlock(&vm->ioeventfds_lock);
	if (!found)
		return -ENOENT;
	/* A vCPU may be looking at it right now. */
	kfree_rcu(found, rcu);
	return 0;
}

/* LV_IRQ_STATUS on the VM fd. */
int lv_irq_status_ioctl(struct lv_vm *vm, void __user *argp)
{
	struct lv_irq_status args;
	int ret;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	ret = lv_irq_status_check(&args);
	if (ret)
		return ret;
	if (args.flags & LV_IRQ_STATUS_DEASSIGN)
		return lv_irq_status_deassign(vm, args.status_gpa);
	return lv_irq_status_assign(vm, &args);
}
