// SPDX-License-Identifier: GPL-2.0
/*
 * abi_regs: register and state round trips, invalid state, and a tiny
 * real-mode guest whose IO and HLT exits are checked field by field.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "test_util.h"

static int sys_fd;

static void new_vcpu(struct test_vm *vm, struct test_vcpu *vcpu, bool ram)
{
	vm_create(sys_fd, vm);
	if (ram)
		vm_add_ram(vm);
	vcpu_create(sys_fd, vm, 0, vcpu);
}

static void test_regs(struct test_vcpu *vcpu)
{
	struct lv_regs in, out;
	uint64_t *p = (uint64_t *)&in;
	unsigned int i;

	for (i = 0; i < sizeof(in) / sizeof(uint64_t); i++)
		p[i] = 0x1111111111111111ULL * (i % 15 + 1);
	in.rip = 0x1234;
	in.rflags = 0x2 | 0x40 | 0x80;	/* fixed bit, ZF, SF */
	if (ioctl(vcpu->fd, LV_SET_REGS, &in) < 0)
		tap_fail("LV_SET_REGS", "%s", strerror(errno));
	else
		tap_result(true, "LV_SET_REGS");
	memset(&out, 0, sizeof(out));
	if (ioctl(vcpu->fd, LV_GET_REGS, &out) < 0)
		tap_fail("LV_GET_REGS", "%s", strerror(errno));
	else
		tap_result(!memcmp(&in, &out, sizeof(in)), "LV_GET_REGS returns what LV_SET_REGS set");
}

static void test_sregs(struct test_vcpu *vcpu)
{
	struct lv_sregs s, out;

	vcpu_setup_realmode(vcpu, GUEST_CODE_GPA);
	if (ioctl(vcpu->fd, LV_GET_SREGS, &s) < 0)
		die("LV_GET_SREGS");
	s.cs.selector = 0x100;
	s.cs.base = 0x1000;
	s.ds.selector = 0x200;
	s.ds.base = 0x2000;
	s.gdt = (struct lv_dtable){ .base = 0x5000, .limit = 0x7f };
	s.idt = (struct lv_dtable){ .base = 0x6000, .limit = 0x3ff };
	s.cr2 = 0xdead000;
	s.cr3 = 0x9000;
	tap_errno(ioctl(vcpu->fd, LV_SET_SREGS, &s), errno, 0, "LV_SET_SREGS (real mode)");
	memset(&out, 0, sizeof(out));
	tap_errno(ioctl(vcpu->fd, LV_GET_SREGS, &out), errno, 0, "LV_GET_SREGS");
	tap_result(out.cs.selector == 0x100 && out.cs.base == 0x1000 &&
		   out.cs.limit == 0xffff && out.cs.type == 0xb && out.cs.present,
		   "CS round trip");
	tap_result(out.ds.selector == 0x200 && out.ds.base == 0x2000, "DS round trip");
	tap_result(out.gdt.base == 0x5000 && out.gdt.limit == 0x7f &&
		   out.idt.base == 0x6000 && out.idt.limit == 0x3ff, "GDTR/IDTR round trip");
	tap_eq(0xdead000, out.cr2, "CR2 round trip");
	tap_eq(0x9000, out.cr3, "CR3 round trip");
	tap_eq(s.cr0, out.cr0, "CR0 round trip");
	tap_eq(s.efer, out.efer, "EFER round trip");
}

static void test_state(int sys_fd, struct test_vcpu *vcpu)
{
	struct lv_vcpu_state st, st2;
	int ret;

	if (check_cap(sys_fd, LV_CAP_VCPU_STATE) <= 0) {
		for (int i = 0; i < 6; i++)
			tap_skip("vCPU state", "no LV_CAP_VCPU_STATE");
		return;
	}
	memset(&st, 0, sizeof(st));
	ret = ioctl(vcpu->fd, LV_GET_VCPU_STATE, &st);
	tap_errno(ret, errno, 0, "LV_GET_VCPU_STATE");
	tap_result(st.version == LV_VCPU_STATE_VERSION && st.size == sizeof(st),
		   "state version %u size %u (expected %u, %zu)", st.version, st.size,
		   LV_VCPU_STATE_VERSION, sizeof(st));

	st.regs.rbx = 0x5a5a5a5a5a5a5a5aULL;
	st.regs.rip = 0x1100;
	st.sysenter_cs = 0x10;
	st.star = 0x0023001000000000ULL;
	st.lstar = 0xffffffff81000000ULL;
	st.kernel_gs_base = 0xffff888000000000ULL;
	ret = ioctl(vcpu->fd, LV_SET_VCPU_STATE, &st);
	tap_errno(ret, errno, 0, "LV_SET_VCPU_STATE of a modified state");
	memset(&st2, 0, sizeof(st2));
	ioctl(vcpu->fd, LV_GET_VCPU_STATE, &st2);
	tap_result(st2.regs.rbx == st.regs.rbx && st2.regs.rip == 0x1100 &&
		   st2.sysenter_cs == 0x10 && st2.star == st.star &&
		   st2.lstar == st.lstar && st2.kernel_gs_base == st.kernel_gs_base &&
		   st2.sregs.cr0 == st.sregs.cr0 && st2.sregs.cs.base == st.sregs.cs.base,
		   "LV_GET_VCPU_STATE returns the state just set");

	st2 = st;
	st2.version = LV_VCPU_STATE_VERSION + 1;
	ret = ioctl(vcpu->fd, LV_SET_VCPU_STATE, &st2);
	tap_errno(ret, errno, EINVAL, "LV_SET_VCPU_STATE with a wrong version -> EINVAL");
	st2 = st;
	st2.size = sizeof(st2) - 8;
	ret = ioctl(vcpu->fd, LV_SET_VCPU_STATE, &st2);
	tap_errno(ret, errno, EINVAL, "LV_SET_VCPU_STATE with a wrong size -> EINVAL");
}

static void test_no_memory(void)
{
	struct test_vm vm;
	struct test_vcpu vcpu;
	int ret;

	new_vcpu(&vm, &vcpu, false);
	vcpu_setup_realmode(&vcpu, GUEST_CODE_GPA);
	ret = vcpu_run(&vcpu);
	if (ret == 0)
		tap_result(vcpu.run->exit_reason == LV_EXIT_MMIO ||
			   vcpu.run->exit_reason == LV_EXIT_INTERNAL_ERROR,
			   "run without memory -> MMIO or internal-error exit (got %s)",
			   exit_reason_name(vcpu.run->exit_reason));
	else
		tap_result(errno != EINTR,
			   "run without memory -> a clear error (got %s)", strerror(errno));
	close(vcpu.fd);
	close(vm.fd);
}

static void test_bad_sregs(void)
{
	struct test_vm vm;
	struct test_vcpu vcpu;
	struct lv_sregs s;
	int ret;

	new_vcpu(&vm, &vcpu, true);
	vcpu_setup_realmode(&vcpu, GUEST_CODE_GPA);
	vm_load(&vm, GUEST_CODE_GPA, guest_io_hlt, GUEST_LEN(guest_io_hlt));
	ioctl(vcpu.fd, LV_GET_SREGS, &s);
	s.cr0 = 0x80000010;	/* PG without PE */
	ret = ioctl(vcpu.fd, LV_SET_SREGS, &s);
	if (ret < 0) {
		tap_errno(ret, errno, EINVAL, "CR0.PG without CR0.PE -> EINVAL or failed entry");
	} else {
		ret = vcpu_run(&vcpu);
		tap_result(ret == 0 && vcpu.run->exit_reason == LV_EXIT_FAIL_ENTRY,
			   "CR0.PG without CR0.PE -> EINVAL or failed entry (run: %d, %s)",
			   ret, ret ? strerror(errno) : exit_reason_name(vcpu.run->exit_reason));
	}
	close(vcpu.fd);
	close(vm.fd);
}

static bool expect_exit(struct test_vcpu *vcpu, uint32_t reason, const char *name)
{
	int ret = vcpu_run(vcpu);

	if (ret < 0) {
		tap_fail(name, "LV_RUN failed: %s", strerror(errno));
		return false;
	}
	if (vcpu->run->exit_reason != reason) {
		tap_fail(name, "expected exit %s got %s", exit_reason_name(reason),
			 exit_reason_name(vcpu->run->exit_reason));
		return false;
	}
	tap_result(true, "%s", name);
	return true;
}

static void test_tiny_guest(void)
{
	struct test_vm vm;
	struct test_vcpu vcpu;
	struct lv_run *run;
	struct lv_regs regs;
	uint8_t *data;

	new_vcpu(&vm, &vcpu, true);
	run = vcpu.run;
	vm_load(&vm, GUEST_CODE_GPA, guest_io_hlt, GUEST_LEN(guest_io_hlt));
	vcpu_setup_realmode(&vcpu, GUEST_CODE_GPA);

	if (expect_exit(&vcpu, LV_EXIT_IO, "OUT 42 -> IO exit")) {
		data = (uint8_t *)run + run->io.data_offset;
		tap_result(run->io.direction == LV_EXIT_IO_OUT && run->io.size == 1 &&
			   run->io.port == 0x10 && run->io.count == 1,
			   "IO exit fields: out, size 1, port 0x10, count 1 (got %u %u 0x%x %u)",
			   run->io.direction, run->io.size, run->io.port, run->io.count);
		tap_eq(LV_RUN_IO_DATA_OFFSET, run->io.data_offset, "io.data_offset");
		tap_eq(42, *data, "OUT data is 42");
	}
	if (expect_exit(&vcpu, LV_EXIT_IO, "IN from port 0x11 -> IO exit")) {
		tap_result(run->io.direction == LV_EXIT_IO_IN && run->io.size == 1 &&
			   run->io.port == 0x11 && run->io.count == 1,
			   "IN exit fields: in, size 1, port 0x11, count 1");
		*((uint8_t *)run + run->io.data_offset) = 0x99;
	}
	if (expect_exit(&vcpu, LV_EXIT_IO, "OUT of the IN value -> IO exit"))
		tap_eq(0x99, *((uint8_t *)run + run->io.data_offset),
		       "the guest got the value userspace supplied for IN");
	if (expect_exit(&vcpu, LV_EXIT_HLT, "HLT with IF=0 -> HLT exit")) {
		ioctl(vcpu.fd, LV_GET_REGS, &regs);
		tap_eq(GUEST_CODE_GPA + GUEST_LEN(guest_io_hlt), regs.rip,
		       "RIP after HLT points past it");
	}
	close(vcpu.fd);
	close(vm.fd);
}

int main(void)
{
	struct test_vm vm;
	struct test_vcpu vcpu;

	sys_fd = open_sys();
	require_run_guests(sys_fd);

	new_vcpu(&vm, &vcpu, true);
	test_regs(&vcpu);
	test_sregs(&vcpu);
	test_state(sys_fd, &vcpu);
	close(vcpu.fd);
	close(vm.fd);

	test_no_memory();
	test_bad_sregs();
	test_tiny_guest();
	tap_finish();
}
