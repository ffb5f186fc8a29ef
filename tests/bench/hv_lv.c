// SPDX-License-Identifier: GPL-2.0
/* The benchmark's lightvisor backend: /dev/lightvisor. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/lightvisor.h>

#include "hv.h"

static int sys_fd = -1;
static int run_size;

static int lv_open(void)
{
	sys_fd = open("/dev/lightvisor", O_RDWR | O_CLOEXEC);
	if (sys_fd < 0)
		return -errno;
	if (ioctl(sys_fd, LV_CHECK_CAP, LV_CAP_RUN_GUESTS) <= 0)
		return -ENODEV;
	run_size = ioctl(sys_fd, LV_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(struct lv_run))
		return -EINVAL;
	return 0;
}

static int lv_create_vm(struct hv_vm *vm)
{
	vm->vcpu_fd = -1;
	vm->run = NULL;
	vm->fd = ioctl(sys_fd, LV_CREATE_VM, 0);
	return vm->fd < 0 ? -errno : 0;
}

static int lv_add_memory(struct hv_vm *vm, uint64_t gpa, void *hva, size_t size)
{
	struct lv_memory_region r = {
		.slot = 0,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	return ioctl(vm->fd, LV_SET_MEMORY_REGION, &r) < 0 ? -errno : 0;
}

static int lv_create_vcpu(struct hv_vm *vm)
{
	vm->vcpu_fd = ioctl(vm->fd, LV_CREATE_VCPU, vm->vcpu_id);
	if (vm->vcpu_fd < 0)
		return -errno;
	return hv_map_run(vm, run_size);
}

/* lightvisor has no split mode: its I/O APIC and PICs are in the kernel. */
static int lv_create_irqchip(struct hv_vm *vm, enum bench_irqchip kind)
{
	if (kind != IRQCHIP_KERNEL)
		return -EOPNOTSUPP;
	return ioctl(vm->fd, LV_CREATE_IRQCHIP, 0) < 0 ? -errno : 0;
}

/* An AP waits for INIT-SIPI-SIPI; its saved APIC state says so. */
static int lv_start_ap(struct hv_vm *vm)
{
	struct lv_lapic_state st;

	if (ioctl(vm->vcpu_fd, LV_GET_LAPIC, &st) < 0)
		return -errno;
	st.wait_for_sipi = 0;
	return ioctl(vm->vcpu_fd, LV_SET_LAPIC, &st) < 0 ? -errno : 0;
}

static int lv_irq_line(struct hv_vm *vm, uint32_t line, int level)
{
	struct lv_irq_level l = { .line = line, .level = level };

	return ioctl(vm->fd, LV_IRQ_LINE, &l) < 0 ? -errno : 0;
}

static int lv_signal_msi(struct hv_vm *vm, uint64_t address, uint32_t data)
{
	struct lv_msi msi = { .address = address, .data = data };

	return ioctl(vm->fd, LV_SIGNAL_MSI, &msi) < 0 ? -errno : 0;
}

static int lv_setup_vcpu(struct hv_vm *vm, const struct bench_regs *br)
{
	struct lv_sregs sregs;
	struct lv_regs regs;

	if (ioctl(vm->vcpu_fd, LV_GET_SREGS, &sregs) < 0)
		return -errno;
	HV_LONG_MODE_SREGS(sregs);
	if (ioctl(vm->vcpu_fd, LV_SET_SREGS, &sregs) < 0)
		return -errno;

	HV_BENCH_TO_REGS(regs, br);
	return ioctl(vm->vcpu_fd, LV_SET_REGS, &regs) < 0 ? -errno : 0;
}

static int lv_run(struct hv_vm *vm, enum bench_exit *why, uint64_t *arg,
		  char *detail, size_t len)
{
	struct lv_run *run = vm->run;

	if (ioctl(vm->vcpu_fd, LV_RUN, 0) < 0)
		return -errno;
	switch (run->exit_reason) {
	case LV_EXIT_HLT:
		*why = BX_HLT;
		return 0;
	case LV_EXIT_IO:
		if (run->io.direction == LV_EXIT_IO_OUT && run->io.count == 1) {
			*why = BX_IO_OUT;
			*arg = run->io.port;
			vm->exit_data = *((uint8_t *)run + run->io.data_offset);
			return 0;
		}
		break;
	case LV_EXIT_MMIO:
		if (run->mmio.is_write && run->mmio.len <= 8) {
			*why = BX_MMIO_WRITE;
			*arg = run->mmio.phys_addr;
			vm->exit_data = 0;
			memcpy(&vm->exit_data, run->mmio.data, run->mmio.len);
			return 0;
		}
		break;
	}
	*why = BX_OTHER;
	snprintf(detail, len, "exit reason %u (hardware 0x%llx)", run->exit_reason,
		 (unsigned long long)run->hw_exit_reason);
	return 0;
}

static int lv_get_regs(struct hv_vm *vm, struct bench_regs *br)
{
	struct lv_regs r;

	if (ioctl(vm->vcpu_fd, LV_GET_REGS, &r) < 0)
		return -errno;
	HV_REGS_TO_BENCH(br, r);
	return 0;
}

const struct hv_ops hv_lightvisor = {
	.name = "lightvisor",
	.open = lv_open,
	.hc_nr = LV_HC_NOP,
	.hc_ret = 0,
	.create_vm = lv_create_vm,
	.add_memory = lv_add_memory,
	.create_irqchip = lv_create_irqchip,
	.create_vcpu = lv_create_vcpu,
	.start_ap = lv_start_ap,
	.irq_line = lv_irq_line,
	.signal_msi = lv_signal_msi,
	.setup_vcpu = lv_setup_vcpu,
	.run = lv_run,
	.get_regs = lv_get_regs,
	.destroy = hv_close,
};
