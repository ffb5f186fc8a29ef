// SPDX-License-Identifier: GPL-2.0
/*
 * lightvisor: /dev/lightvisor, capabilities, and VMX operation on demand.
 *
 * A CPU is in VMX operation only while lightvisor has at least one VM, so
 * the module can be loaded beside another hypervisor and takes the CPUs
 * only when it needs them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/mutex.h>
#include <linux/smp.h>

#include "lightvisor.h"
#include "iommu/iommu.h"
#include "vmx/vmx.h"

const struct lv_vendor_ops *lv_vendor;
struct lv_hw_caps lv_caps;

/* VMs alive; CPUs are in VMX operation while it is not zero. */
static unsigned int lv_hw_users;
static DEFINE_MUTEX(lv_hw_lock);
static enum cpuhp_state lv_cpuhp_state;
static DEFINE_PER_CPU(bool, lv_cpu_enabled);

static void lv_cpu_enable_fn(void *failed)
{
	int ret;

	if (this_cpu_read(lv_cpu_enabled))
		return;
	ret = lv_vendor->cpu_enable();
	if (ret)
		atomic_cmpxchg(failed, 0, ret);
	else
		this_cpu_write(lv_cpu_enabled, true);
}

static void lv_cpu_disable_fn(void *unused)
{
	if (!this_cpu_read(lv_cpu_enabled))
		return;
	lv_vendor->cpu_disable();
	this_cpu_write(lv_cpu_enabled, false);
}

/* CPU hotplug: a CPU that comes online while VMs exist joins VMX operation. */
static int lv_cpu_online(unsigned int cpu)
{
	atomic_t failed = ATOMIC_INIT(0);

	mutex_lock(&lv_hw_lock);
	if (lv_hw_users)
		lv_cpu_enable_fn(&failed);
	mutex_unlock(&lv_hw_lock);
	return atomic_read(&failed);
}

static int lv_cpu_offline(unsigned int cpu)
{
	mutex_lock(&lv_hw_lock);
	lv_cpu_disable_fn(NULL);
	mutex_unlock(&lv_hw_lock);
	return 0;
}

/**
 * lv_hardware_get() - enter VMX operation on every online CPU
 *
 * Called for each new VM. Fails with -EBUSY when another hypervisor
 * already holds a CPU in VMX operation.
 */
int lv_hardware_get(void)
{
	atomic_t failed = ATOMIC_INIT(0);
	int ret = 0;

	if (!lv_caps.run_guests)
		return 0;

	cpus_read_lock();
	mutex_lock(&lv_hw_lock);
	if (lv_hw_users++ == 0) {
		on_each_cpu(lv_cpu_enable_fn, &failed, 1);
		ret = atomic_read(&failed);
		if (ret) {
			on_each_cpu(lv_cpu_disable_fn, NULL, 1);
			lv_hw_users = 0;
		}
	}
	mutex_unlock(&lv_hw_lock);
	cpus_read_unlock();
	if (ret == -EBUSY)
		pr_warn_ratelimited("another hypervisor (kvm_intel?) holds VMX operation: VM creation refused\n");
	return ret;
}

void lv_hardware_put(void)
{
	if (!lv_caps.run_guests)
		return;

	cpus_read_lock();
	mutex_lock(&lv_hw_lock);
	if (!WARN_ON(!lv_hw_users) && --lv_hw_users == 0)
		on_each_cpu(lv_cpu_disable_fn, NULL, 1);
	mutex_unlock(&lv_hw_lock);
	cpus_read_unlock();
}

static long lv_check_cap(unsigned long cap)
{
	switch (cap) {
	case LV_CAP_RUN_GUESTS:
		return lv_caps.run_guests;
	case LV_CAP_EPT:
		return lv_caps.ept;
	case LV_CAP_UNRESTRICTED_GUEST:
		return lv_caps.unrestricted_guest;
	case LV_CAP_VPID:
		return lv_caps.vpid;
	case LV_CAP_PREEMPTION_TIMER:
		return lv_caps.preemption_timer;
	case LV_CAP_MAX_VCPUS:
		return LV_MAX_VCPUS;
	case LV_CAP_NR_MEMSLOTS:
		return LV_NR_MEMSLOTS;
	case LV_CAP_READONLY_MEM:
	case LV_CAP_DIRTY_LOG:
	case LV_CAP_VCPU_STATE:
		return 1;
	case LV_CAP_IOMMU:
		return lv_iommu_present();
	default:
		return 0;
	}
}

static long lv_dev_ioctl(struct file *filp, unsigned int cmd,
			 unsigned long arg)
{
	switch (cmd) {
	case LV_GET_API_VERSION:
		return arg ? -EINVAL : LV_API_VERSION;
	case LV_CHECK_CAP:
		return lv_check_cap(arg);
	case LV_CREATE_VM:
		return arg ? -EINVAL : lv_vm_create();
	case LV_GET_VCPU_MMAP_SIZE:
		return arg ? -EINVAL : PAGE_SIZE;
	default:
		return -ENOTTY;
	}
}

static const struct file_operations lv_dev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= lv_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice lv_dev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "lightvisor",
	.fops	= &lv_dev_fops,
	.mode	= 0660,
};

static int __init lv_init(void)
{
	int ret;

	lv_vendor = lv_vmx_probe(&lv_caps);
	if (!lv_caps.run_guests)
		pr_info("guests cannot run on this CPU; VMs, memory and device assignment stay usable\n");

	if (lv_vendor) {
		ret = lv_vcpu_cache_init(lv_vendor->vcpu_size);
		if (ret)
			goto err_vendor;
		ret = cpuhp_setup_state_nocalls(CPUHP_AP_ONLINE_DYN,
						"lightvisor:online",
						lv_cpu_online, lv_cpu_offline);
		if (ret < 0)
			goto err_cache;
		lv_cpuhp_state = ret;
	}

	ret = misc_register(&lv_dev);
	if (ret)
		goto err_cpuhp;

	lv_debugfs_init();
	pr_info("loaded, API version %d, backend %s\n", LV_API_VERSION,
		lv_vendor ? lv_vendor->name : "none");
	return 0;

err_cpuhp:
	if (lv_vendor)
		cpuhp_remove_state_nocalls(lv_cpuhp_state);
err_cache:
	if (lv_vendor)
		lv_vcpu_cache_exit();
err_vendor:
	lv_vmx_exit();
	return ret;
}

static void __exit lv_exit(void)
{
	/* Every VM holds a module reference, so none is left here. */
	misc_deregister(&lv_dev);
	lv_debugfs_exit();
	lv_mmu_module_exit();
	if (lv_vendor) {
		cpuhp_remove_state_nocalls(lv_cpuhp_state);
		lv_vcpu_cache_exit();
	}
	lv_vmx_exit();
}

module_init(lv_init);
module_exit(lv_exit);

MODULE_DESCRIPTION("lightvisor: a minimal hardware-assisted hypervisor");
MODULE_LICENSE("GPL");
