// SPDX-License-Identifier: GPL-2.0
/*
 * ioeventfd: a guest write to a registered port or MMIO address signals
 * an eventfd from the exit handler, and the vCPU goes on without a trip
 * to userspace (a virtio queue notification costs one VM exit).
 *
 * Each VM keeps two RCU lists, ports and MMIO, so a port exit does not
 * scan MMIO entries. Writers (the ioctl) hold vm->ioeventfds_lock; the
 * exit path reads under rcu_read_lock() and may run beside a deassign,
 * which unlinks the entry and waits for a grace period before it drops
 * the eventfd. VM destruction runs when no vCPU is left, so it frees at
 * once.
 */
#include <linux/eventfd.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/version.h>

#include "lightvisor.h"

#define LV_IOEVENTFD_FLAGS	(LV_IOEVENTFD_PIO | LV_IOEVENTFD_DATAMATCH | \
				 LV_IOEVENTFD_DEASSIGN)

/**
 * struct lv_ioeventfd_entry - one registered address
 * @link: in vm->ioeventfds[pio]
 * @addr: port or guest-physical address
 * @len: write width, 0 for any
 * @match: only a write of @datamatch signals
 * @datamatch: that value
 * @eventfd: the eventfd (a reference held)
 */
struct lv_ioeventfd_entry {
	struct list_head link;
	u64 addr;
	u32 len;
	bool match;
	u64 datamatch;
	struct eventfd_ctx *eventfd;
};

void lv_ioeventfd_init(struct lv_vm *vm)
{
	mutex_init(&vm->ioeventfds_lock);
	INIT_LIST_HEAD(&vm->ioeventfds[0]);
	INIT_LIST_HEAD(&vm->ioeventfds[1]);
}

static void lv_ioeventfd_free(struct lv_ioeventfd_entry *e)
{
	eventfd_ctx_put(e->eventfd);
	kfree(e);
}

/* The VM is going away: no vCPU is left to read the lists. */
void lv_ioeventfd_destroy(struct lv_vm *vm)
{
	struct lv_ioeventfd_entry *e, *tmp;
	int pio;

	for (pio = 0; pio < 2; pio++) {
		list_for_each_entry_safe(e, tmp, &vm->ioeventfds[pio], link) {
			list_del(&e->link);
			lv_ioeventfd_free(e);
		}
	}
	vm->nr_ioeventfds = 0;
}

static void lv_ioeventfd_signal(struct eventfd_ctx *ctx)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

static bool lv_ioeventfd_matches(const struct lv_ioeventfd_entry *e, u64 addr,
				 unsigned int len, u64 val)
{
	if (e->addr != addr || (e->len && e->len != len))
		return false;
	return !e->match || e->datamatch == val;
}

/**
 * lv_ioeventfd_write() - signal the ioeventfd a guest write matches
 * @vm: the VM
 * @pio: a port write (else MMIO)
 * @addr: port or guest-physical address
 * @len: width in bytes
 * @val: the value written (its low @len bytes)
 *
 * Called from the exit path, any context. Registration keeps matches
 * unique, so the first one found is the only one.
 *
 * Return: true if an eventfd took the write (it is complete).
 */
bool lv_ioeventfd_write(struct lv_vm *vm, bool pio, u64 addr,
			unsigned int len, u64 val)
{
	struct lv_ioeventfd_entry *e;
	bool found = false;

	if (list_empty(&vm->ioeventfds[pio]))
		return false;
	if (len < 8)
		val &= BIT_ULL(8 * len) - 1;
	rcu_read_lock();
	list_for_each_entry_rcu(e, &vm->ioeventfds[pio], link) {
		if (lv_ioeventfd_matches(e, addr, len, val)) {
			lv_ioeventfd_signal(e->eventfd);
			found = true;
			break;
		}
	}
	rcu_read_unlock();
	if (found)
		this_cpu_inc(lv_stats.ioeventfd_signals);
	return found;
}

/* The fields a caller gave, checked before anything is looked up. */
static int lv_ioeventfd_check(const struct lv_ioeventfd *args)
{
	bool pio = args->flags & LV_IOEVENTFD_PIO;
	u64 span = args->len ?: 1;

	if ((args->flags & ~LV_IOEVENTFD_FLAGS) || args->padding)
		return -EINVAL;
	switch (args->len) {
	case 0: case 1: case 2: case 4:
		break;
	case 8:
		if (!pio)
			break;
		fallthrough;
	default:
		return -EINVAL;
	}
	if (args->flags & LV_IOEVENTFD_DATAMATCH) {
		if (!args->len)
			return -EINVAL;
		if (args->len < 8 && args->datamatch >> (8 * args->len))
			return -EINVAL;
	}
	if (args->addr + span < args->addr)
		return -EINVAL;
	if (args->addr + span > (pio ? 0x10000 : LV_MAX_GPA))
		return -EINVAL;
	return 0;
}

/* Could @e and an ioeventfd with these fields match the same write? */
static bool lv_ioeventfd_collides(const struct lv_ioeventfd_entry *e,
				  const struct lv_ioeventfd *args)
{
	bool match = args->flags & LV_IOEVENTFD_DATAMATCH;

	if (e->addr != args->addr ||
	    (e->len && args->len && e->len != args->len))
		return false;
	return !e->match || !match || e->datamatch == args->datamatch;
}

static int lv_ioeventfd_assign(struct lv_vm *vm, const struct lv_ioeventfd *args)
{
	bool pio = args->flags & LV_IOEVENTFD_PIO;
	struct lv_ioeventfd_entry *e, *new;
	struct eventfd_ctx *ctx;
	int ret;

	ctx = eventfd_ctx_fdget(args->fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	new = kzalloc(sizeof(*new), GFP_KERNEL_ACCOUNT);
	if (!new) {
		eventfd_ctx_put(ctx);
		return -ENOMEM;
	}
	new->addr = args->addr;
	new->len = args->len;
	new->match = args->flags & LV_IOEVENTFD_DATAMATCH;
	new->datamatch = new->match ? args->datamatch : 0;
	new->eventfd = ctx;

	mutex_lock(&vm->ioeventfds_lock);
	ret = -ENOSPC;
	if (vm->nr_ioeventfds >= LV_MAX_IOEVENTFDS)
		goto fail;
	ret = -EEXIST;
	list_for_each_entry(e, &vm->ioeventfds[pio], link)
		if (lv_ioeventfd_collides(e, args))
			goto fail;
	list_add_tail_rcu(&new->link, &vm->ioeventfds[pio]);
	vm->nr_ioeventfds++;
	mutex_unlock(&vm->ioeventfds_lock);
	return 0;

fail:
	mutex_unlock(&vm->ioeventfds_lock);
	lv_ioeventfd_free(new);
	return ret;
}

static int lv_ioeventfd_deassign(struct lv_vm *vm,
				 const struct lv_ioeventfd *args)
{
	bool match = args->flags & LV_IOEVENTFD_DATAMATCH;
	bool pio = args->flags & LV_IOEVENTFD_PIO;
	struct lv_ioeventfd_entry *e, *found = NULL;
	struct eventfd_ctx *ctx;

	ctx = eventfd_ctx_fdget(args->fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	mutex_lock(&vm->ioeventfds_lock);
	list_for_each_entry(e, &vm->ioeventfds[pio], link) {
		if (e->eventfd == ctx && e->addr == args->addr &&
		    e->len == args->len && e->match == match &&
		    (!match || e->datamatch == args->datamatch)) {
			list_del_rcu(&e->link);
			vm->nr_ioeventfds--;
			found = e;
			break;
		}
	}
	mutex_unlock(&vm->ioeventfds_lock);
	eventfd_ctx_put(ctx);
	if (!found)
		return -ENOENT;
	/* A vCPU may be signalling it right now. */
	synchronize_rcu();
	lv_ioeventfd_free(found);
	return 0;
}

/* LV_IOEVENTFD on the VM fd. */
int lv_ioeventfd_ioctl(struct lv_vm *vm, void __user *argp)
{
	struct lv_ioeventfd args;
	int ret;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	ret = lv_ioeventfd_check(&args);
	if (ret)
		return ret;
	if (args.flags & LV_IOEVENTFD_DEASSIGN)
		return lv_ioeventfd_deassign(vm, &args);
	return lv_ioeventfd_assign(vm, &args);
}
