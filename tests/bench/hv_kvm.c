// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark's KVM backend: /dev/kvm, <linux/kvm.h>; an in-kernel
 * irqchip (full or split) only for the interrupt workloads.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/kvm.h>
#include <linux/kvm_para.h>

#include "hv.h"

/* No KVM_HC_* has this number: KVM answers -KVM_ENOSYS in the kernel. */
#define KVM_BENCH_UNKNOWN_HC	1000

static int sys_fd = -1;
static int run_size;
static struct kvm_cpuid2 *cpuid;

static int kvm_open(void)
{
	int n = 100;

	sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (sys_fd < 0)
		return -errno;
	if (ioctl(sys_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		return -EINVAL;
	run_size = ioctl(sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(struct kvm_run))
		return -EINVAL;
	/* Every VMM gives its vCPUs a CPUID table; so does this one. */
	for (;;) {
		cpuid = calloc(1, sizeof(*cpuid) + n * sizeof(cpuid->entries[0]));
		if (!cpuid)
			return -ENOMEM;
		cpuid->nent = n;
		if (ioctl(sys_fd, KVM_GET_SUPPORTED_CPUID, cpuid) == 0)
			break;
		free(cpuid);
		if (errno != E2BIG)
			return -errno;
		n *= 2;
	}
	/*
	 * The interrupt workloads use the TSC-deadline timer, which KVM
	 * offers through a capability rather than in the supported table.
	 */
	if (ioctl(sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0)
		for (n = 0; n < (int)cpuid->nent; n++)
			if (cpuid->entries[n].function == 1)
				cpuid->entries[n].ecx |= 1u << 24;
	return 0;
}

static int kvm_create_vm(struct hv_vm *vm)
{
	vm->vcpu_fd = -1;
	vm->run = NULL;
	vm->fd = ioctl(sys_fd, KVM_CREATE_VM, 0);
	return vm->fd < 0 ? -errno : 0;
}

static int kvm_add_memory(struct hv_vm *vm, uint64_t gpa, void *hva, size_t size)
{
	struct kvm_userspace_memory_region r = {
		.slot = 0,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	return ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r) < 0 ? -errno : 0;
}

static int kvm_create_irqchip(struct hv_vm *vm, enum bench_irqchip kind)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_SPLIT_IRQCHIP,
		.args[0] = 24,	/* I/O APIC pins routed to userspace */
	};

	if (kind == IRQCHIP_KERNEL)
		return ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0) < 0 ? -errno : 0;
	return ioctl(vm->fd, KVM_ENABLE_CAP, &cap) < 0 ? -errno : 0;
}

static int kvm_start_ap(struct hv_vm *vm)
{
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };

	return ioctl(vm->vcpu_fd, KVM_SET_MP_STATE, &mp) < 0 ? -errno : 0;
}

static int kvm_irq_line(struct hv_vm *vm, uint32_t line, int level)
{
	struct kvm_irq_level l = { .irq = line, .level = level };

	return ioctl(vm->fd, KVM_IRQ_LINE, &l) < 0 ? -errno : 0;
}

static int kvm_signal_msi(struct hv_vm *vm, uint64_t address, uint32_t data)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)address,
		.address_hi = address >> 32,
		.data = data,
	};

	return ioctl(vm->fd, KVM_SIGNAL_MSI, &msi) < 0 ? -errno : 0;
}

static int kvm_create_vcpu(struct hv_vm *vm)
{
	vm->vcpu_fd = ioctl(vm->fd, KVM_CREATE_VCPU, vm->vcpu_id);
	if (vm->vcpu_fd < 0)
		return -errno;
	if (ioctl(vm->vcpu_fd, KVM_SET_CPUID2, cpuid) < 0)
		return -errno;
	return hv_map_run(vm, run_size);
}

static int kvm_setup_vcpu(struct hv_vm *vm, const struct bench_regs *br)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	HV_LONG_MODE_SREGS(sregs);
	if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;

	HV_BENCH_TO_REGS(regs, br);
	return ioctl(vm->vcpu_fd, KVM_SET_REGS, &regs) < 0 ? -errno : 0;
}

static int kvm_run_vcpu(struct hv_vm *vm, enum bench_exit *why, uint64_t *arg,
			char *detail, size_t len)
{
	struct kvm_run *run = vm->run;

	if (ioctl(vm->vcpu_fd, KVM_RUN, 0) < 0)
		return -errno;
	switch (run->exit_reason) {
	case KVM_EXIT_HLT:
		*why = BX_HLT;
		return 0;
	case KVM_EXIT_IO:
		if (run->io.direction == KVM_EXIT_IO_OUT && run->io.count == 1) {
			*why = BX_IO_OUT;
			*arg = run->io.port;
			vm->exit_data = *((uint8_t *)run + run->io.data_offset);
			return 0;
		}
		break;
	case KVM_EXIT_MMIO:
		if (run->mmio.is_write && run->mmio.len <= 8) {
			*why = BX_MMIO_WRITE;
			*arg = run->mmio.phys_addr;
			vm->exit_data = 0;
			memcpy(&vm->exit_data, run->mmio.data, run->mmio.len);
			return 0;
		}
		break;
	case KVM_EXIT_IOAPIC_EOI:
		*why = BX_IOAPIC_EOI;
		*arg = run->eoi.vector;
		return 0;
	}
	*why = BX_OTHER;
	if (run->exit_reason == KVM_EXIT_FAIL_ENTRY)
		snprintf(detail, len, "KVM_EXIT_FAIL_ENTRY 0x%llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
	else if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
		snprintf(detail, len, "KVM_EXIT_INTERNAL_ERROR suberror %u",
			 run->internal.suberror);
	else
		snprintf(detail, len, "KVM exit reason %u", run->exit_reason);
	return 0;
}

static int kvm_get_regs(struct hv_vm *vm, struct bench_regs *br)
{
	struct kvm_regs r;

	if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &r) < 0)
		return -errno;
	HV_REGS_TO_BENCH(br, r);
	return 0;
}

const struct hv_ops hv_kvm = {
	.name = "kvm",
	.open = kvm_open,
	.hc_nr = KVM_BENCH_UNKNOWN_HC,
	.hc_ret = (uint64_t)-KVM_ENOSYS,
	.create_vm = kvm_create_vm,
	.add_memory = kvm_add_memory,
	.create_irqchip = kvm_create_irqchip,
	.create_vcpu = kvm_create_vcpu,
	.start_ap = kvm_start_ap,
	.irq_line = kvm_irq_line,
	.signal_msi = kvm_signal_msi,
	.setup_vcpu = kvm_setup_vcpu,
	.run = kvm_run_vcpu,
	.get_regs = kvm_get_regs,
	.destroy = hv_close,
};
