// SPDX-License-Identifier: GPL-2.0
/*
 * lightvisor: STUB entry point used by the build/test infrastructure until
 * the real module lands. It only registers /dev/lightvisor and answers
 * LV_GET_API_VERSION and LV_CHECK_CAP (every capability absent).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/lightvisor.h>

static long lv_dev_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	switch (cmd) {
	case LV_GET_API_VERSION:
		return arg ? -EINVAL : LV_API_VERSION;
	case LV_CHECK_CAP:
		return 0;
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
};

static int __init lv_init(void)
{
	int ret = misc_register(&lv_dev);

	if (!ret)
		pr_info("stub loaded, API version %d\n", LV_API_VERSION);
	return ret;
}

static void __exit lv_exit(void)
{
	misc_deregister(&lv_dev);
}

module_init(lv_init);
module_exit(lv_exit);
MODULE_DESCRIPTION("lightvisor hypervisor (stub)");
MODULE_LICENSE("GPL");
