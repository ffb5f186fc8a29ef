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
	void *run;

	vm->vcpu_fd = ioctl(vm->fd, LV_CREATE_VCPU, 0);
	if (vm->vcpu_fd < 0)
		return -errno;
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   vm->vcpu_fd, 0);
	if (run == MAP_FAILED)
		return -errno;
	vm->run = run;
	vm->run_size = run_size;
	return 0;
}

static void seg(struct lv_segment *s, uint16_t sel, uint8_t type, uint8_t code_data)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->limit = 0xffffffff;
	s->type = type;
	s->s = code_data;
	s->present = 1;
	s->g = 1;
}

static int lv_setup_vcpu(struct hv_vm *vm, const struct bench_regs *br)
{
	struct lv_sregs sregs;
	struct lv_regs regs;

	if (ioctl(vm->vcpu_fd, LV_GET_SREGS, &sregs) < 0)
		return -errno;
	seg(&sregs.cs, 0x08, 0xb, 1);
	sregs.cs.l = 1;
	seg(&sregs.ds, 0x10, 0x3, 1);
	sregs.ds.db = 1;
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	seg(&sregs.tr, 0x18, 0xb, 0);
	sregs.tr.limit = 0x67;
	sregs.tr.g = 0;
	memset(&sregs.ldt, 0, sizeof(sregs.ldt));
	sregs.ldt.unusable = 1;
	sregs.gdt = (struct lv_dtable){ .base = 0, .limit = 0x1f };
	sregs.idt = (struct lv_dtable){ .base = 0, .limit = 0 };
	sregs.cr0 = 0x80000031;		/* PG NE ET PE */
	sregs.cr3 = BENCH_PML4_GPA;
	sregs.cr4 = 0x20;		/* PAE */
	sregs.efer = 0x500;		/* LMA LME */
	if (ioctl(vm->vcpu_fd, LV_SET_SREGS, &sregs) < 0)
		return -errno;

	memset(&regs, 0, sizeof(regs));
	regs.rdi = br->rdi;
	regs.rsi = br->rsi;
	regs.r9 = br->r9;
	regs.r10 = br->r10;
	regs.rsp = br->rsp;
	regs.rip = br->rip;
	regs.rflags = 2;
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
			return 0;
		}
		break;
	case LV_EXIT_MMIO:
		if (run->mmio.is_write) {
			*why = BX_MMIO_WRITE;
			*arg = run->mmio.phys_addr;
			return 0;
		}
		break;
	}
	*why = BX_OTHER;
	snprintf(detail, len, "exit reason %u (hardware 0x%llx)", run->exit_reason,
		 (unsigned long long)run->exit_qualification);
	return 0;
}

static int lv_get_regs(struct hv_vm *vm, struct bench_regs *br)
{
	struct lv_regs r;

	if (ioctl(vm->vcpu_fd, LV_GET_REGS, &r) < 0)
		return -errno;
	*br = (struct bench_regs){
		r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rsp, r.rbp,
		r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rip,
	};
	return 0;
}

static void lv_destroy(struct hv_vm *vm)
{
	if (vm->run)
		munmap(vm->run, vm->run_size);
	if (vm->vcpu_fd >= 0)
		close(vm->vcpu_fd);
	if (vm->fd >= 0)
		close(vm->fd);
	vm->run = NULL;
	vm->vcpu_fd = vm->fd = -1;
}

const struct hv_ops hv_lightvisor = {
	.name = "lightvisor",
	.open = lv_open,
	.hc_nr = LV_HC_NOP,
	.hc_ret = 0,
	.create_vm = lv_create_vm,
	.add_memory = lv_add_memory,
	.create_vcpu = lv_create_vcpu,
	.setup_vcpu = lv_setup_vcpu,
	.run = lv_run,
	.get_regs = lv_get_regs,
	.destroy = lv_destroy,
};
