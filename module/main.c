// SPDX-License-Identifier: GPL-2.0
/*
 * lightvisor: /dev/lightvisor, capabilities, and VMX operation (or SVM,
 * on AMD CPUs) on demand.
 *
 * A CPU is in VMX operation only while lightvisor has at least one VM, so
 * the module can be loaded beside another hypervisor and takes the CPUs
 * only when it needs them.
 *
 * VMX operation blocks INIT, which firmware and kexec'd kernels use to
 * take the other CPUs back, and does not survive a suspend. So it is
 * left on every path the CPU leaves Linux by: CPU offline (hotplug
 * callback), suspend (syscore suspend; VMXON again on resume), reboot,
 * power off and kexec (syscore shutdown on the CPU that reboots, the
 * emergency callback on the others as the kernel stops them), and
 * emergency restart or kdump (the emergency callback, from NMI).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/fs.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/mutex.h>
#include <linux/smp.h>
#include <linux/syscore_ops.h>
#include <asm/reboot.h>
#include <asm/tsc.h>

#include "lightvisor.h"
#include "iommu/iommu.h"
#include "irq/irqchip.h"
#include "svm/svm.h"
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

/*
 * With interrupts off: the VMCLEAR IPI of a vCPU moving to another CPU
 * changes this CPU's list of loaded VMCSs, which cpu_disable walks.
 */
static void lv_cpu_disable_fn(void *unused)
{
	lockdep_assert_irqs_disabled();
	if (!this_cpu_read(lv_cpu_enabled))
		return;
	lv_vendor->cpu_disable();
	this_cpu_write(lv_cpu_enabled, false);
}

/*
 * Reboot, kdump, emergency restart: called by the kernel on each CPU it
 * stops, in NMI or interrupt context, with no lock safe to take. The CPU
 * never returns to what it interrupted.
 */
static void lv_cpu_emergency_disable(void)
{
	if (!this_cpu_read(lv_cpu_enabled))
		return;
	lv_vendor->cpu_emergency_disable();
	this_cpu_write(lv_cpu_enabled, false);
}

/*
 * The kernel keeps one such callback, for the hypervisor in VMX operation
 * (kvm_intel registers its own while it has VMs): ours is there exactly
 * while lightvisor holds the CPUs. Under lv_hw_lock.
 */
static bool lv_emergency_registered;

static void lv_emergency_register(void)
{
	cpu_emergency_register_virt_callback(lv_cpu_emergency_disable);
	lv_emergency_registered = true;
}

static void lv_emergency_unregister(void)
{
	if (!lv_emergency_registered)
		return;
	cpu_emergency_unregister_virt_callback(lv_cpu_emergency_disable);
	lv_emergency_registered = false;
}

static void lv_cpu_disable_irqoff(void)
{
	unsigned long flags;

	local_irq_save(flags);
	lv_cpu_disable_fn(NULL);
	local_irq_restore(flags);
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
	lv_cpu_disable_irqoff();
	mutex_unlock(&lv_hw_lock);
	return 0;
}

/*
 * Suspend: the other CPUs are offline already (their hotplug callback
 * left VMX operation); this one leaves it last, with interrupts off, and
 * enters it again first on resume. VMs live on across the sleep: their
 * VMCSs were cleared to memory and are loaded again on their next run.
 */
#ifdef LV_HAVE_STRUCT_SYSCORE
#define LV_SYSCORE_ARGS	void *data
#else
#define LV_SYSCORE_ARGS	void
#endif

static int lv_syscore_suspend(LV_SYSCORE_ARGS)
{
	lv_cpu_disable_fn(NULL);
	return 0;
}

static void lv_syscore_resume(LV_SYSCORE_ARGS)
{
	atomic_t failed = ATOMIC_INIT(0);

	/* Tasks are frozen and one CPU runs: no VM comes or goes now. */
	if (!READ_ONCE(lv_hw_users))
		return;
	lv_cpu_enable_fn(&failed);
	if (atomic_read(&failed))
		pr_err("cannot enter VMX operation again after resume (%d): guests will fail\n",
		       atomic_read(&failed));
}

/*
 * Reboot, power off, kexec: this is the CPU that goes on; the kernel
 * stops the others next and calls lv_cpu_emergency_disable() there.
 */
static void lv_syscore_shutdown(LV_SYSCORE_ARGS)
{
	lv_cpu_disable_irqoff();
}

#ifdef LV_HAVE_STRUCT_SYSCORE
static const struct syscore_ops lv_syscore_ops = {
	.suspend	= lv_syscore_suspend,
	.resume		= lv_syscore_resume,
	.shutdown	= lv_syscore_shutdown,
};

static struct syscore lv_syscore = { .ops = &lv_syscore_ops };

static void lv_syscore_register(void)
{
	register_syscore(&lv_syscore);
}

static void lv_syscore_unregister(void)
{
	unregister_syscore(&lv_syscore);
}
#else
static struct syscore_ops lv_syscore_ops = {
	.suspend	= lv_syscore_suspend,
	.resume		= lv_syscore_resume,
	.shutdown	= lv_syscore_shutdown,
};

static void lv_syscore_register(void)
{
	register_syscore_ops(&lv_syscore_ops);
}

static void lv_syscore_unregister(void)
{
	unregister_syscore_ops(&lv_syscore_ops);
}
#endif

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
		} else {
			/* Only now: another hypervisor in VMX holds the slot. */
			lv_emergency_register();
		}
	}
	mutex_unlock(&lv_hw_lock);
	cpus_read_unlock();
	if (ret == -EBUSY)
		pr_warn_ratelimited("another hypervisor (kvm_intel or kvm_amd?) holds the CPUs' virtualization: VM creation refused\n");
	return ret;
}

void lv_hardware_put(void)
{
	if (!lv_caps.run_guests)
		return;

	cpus_read_lock();
	mutex_lock(&lv_hw_lock);
	if (!WARN_ON(!lv_hw_users) && --lv_hw_users == 0) {
		on_each_cpu(lv_cpu_disable_fn, NULL, 1);
		lv_emergency_unregister();
	}
	mutex_unlock(&lv_hw_lock);
	cpus_read_unlock();
}

static long lv_check_cap(unsigned long cap)
{
	switch (cap) {
	case LV_CAP_RUN_GUESTS:
		return lv_caps.run_guests;
	case LV_CAP_TDP:
		return lv_caps.tdp;
	case LV_CAP_UNRESTRICTED_GUEST:
		return lv_caps.unrestricted_guest;
	case LV_CAP_TAGGED_TLB:
		return lv_caps.tagged_tlb;
	case LV_CAP_HV_TIMER:
		return lv_caps.hv_timer;
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
	case LV_CAP_IRQCHIP:
	case LV_CAP_IRQFD:
	case LV_CAP_SET_CPUID:
	case LV_CAP_XSAVE:
		return 1;
	case LV_CAP_TSC_KHZ:
		return tsc_khz;
	case LV_CAP_IOEVENTFD:
		return LV_MAX_IOEVENTFDS;
	case LV_CAP_IRQ_STATUS:
		return LV_MAX_IRQ_STATUS;
	case LV_CAP_VM_UNBOUND:
		return 1;
	case LV_CAP_TPR_SHADOW:
		return lv_caps.tpr_shadow;
	case LV_CAP_APIC_REG_VIRT:
		return lv_caps.apic_reg_virt;
	case LV_CAP_VIRT_INTR_DELIVERY:
		return lv_caps.virt_intr_delivery;
	case LV_CAP_APIC_ACCESS:
		return lv_caps.apic_access;
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
		return lv_vm_create(arg);
	case LV_GET_VCPU_MMAP_SIZE:
		return arg ? -EINVAL : PAGE_SIZE;
	case LV_GET_SUPPORTED_CPUID:
		return lv_cpuid_get_supported((void __user *)arg);
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

	/* Each probe says why it does not fit; at most one can. */
	lv_vendor = lv_vmx_probe(&lv_caps);
	if (!lv_vendor)
		lv_vendor = lv_svm_probe(&lv_caps);
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
		lv_syscore_register();
	}

	ret = lv_iommu_init();
	if (ret)
		goto err_cpuhp;
	ret = lv_irqchip_module_init();
	if (ret)
		goto err_iommu;
	ret = misc_register(&lv_dev);
	if (ret)
		goto err_irqchip;

	lv_debugfs_init();
	pr_info("loaded, API version %d, backend %s\n", LV_API_VERSION,
		lv_vendor ? lv_vendor->name : "none");
	return 0;

err_irqchip:
	lv_irqchip_module_exit();
err_iommu:
	lv_iommu_exit();
err_cpuhp:
	if (lv_vendor) {
		lv_syscore_unregister();
		cpuhp_remove_state_nocalls(lv_cpuhp_state);
	}
err_cache:
	if (lv_vendor)
		lv_vcpu_cache_exit();
err_vendor:
	lv_vmx_exit();
	lv_svm_exit();
	return ret;
}

static void __exit lv_exit(void)
{
	/* Every VM holds a module reference, so none is left here. */
	misc_deregister(&lv_dev);
	lv_irqchip_module_exit();
	lv_iommu_exit();
	lv_debugfs_exit();
	lv_mmu_module_exit();
	if (lv_vendor) {
		lv_syscore_unregister();
		cpuhp_remove_state_nocalls(lv_cpuhp_state);
		lv_vcpu_cache_exit();
	}
	lv_vmx_exit();
	lv_svm_exit();
}

module_init(lv_init);
module_exit(lv_exit);

MODULE_DESCRIPTION("lightvisor: a minimal hardware-assisted hypervisor");
MODULE_LICENSE("GPL");
