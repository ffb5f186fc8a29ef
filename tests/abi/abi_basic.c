// SPDX-License-Identifier: GPL-2.0
/*
 * abi_basic: system and VM ioctls, argument checking, memory slots, vCPU
 * creation. Works without VMX; what needs a vCPU is skipped then.
 *
 * Deleting a slot that does not exist: the header does not say, so both
 * success (as KVM does) and EINVAL are accepted; a diagnostic line says
 * which one the module chose.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "test_util.h"

/* An ioctl number nobody defines: type LVIO, number 0xff. */
#define LV_BOGUS_IOCTL	_IO(LVIO, 0xff)
#define BAD_PTR		((void *)8)

static const struct {
	int cap;
	const char *name;
} caps[] = {
	{ LV_CAP_RUN_GUESTS, "LV_CAP_RUN_GUESTS" },
	{ LV_CAP_TDP, "LV_CAP_TDP" },
	{ LV_CAP_UNRESTRICTED_GUEST, "LV_CAP_UNRESTRICTED_GUEST" },
	{ LV_CAP_TAGGED_TLB, "LV_CAP_TAGGED_TLB" },
	{ LV_CAP_HV_TIMER, "LV_CAP_HV_TIMER" },
	{ LV_CAP_MAX_VCPUS, "LV_CAP_MAX_VCPUS" },
	{ LV_CAP_NR_MEMSLOTS, "LV_CAP_NR_MEMSLOTS" },
	{ LV_CAP_READONLY_MEM, "LV_CAP_READONLY_MEM" },
	{ LV_CAP_VCPU_STATE, "LV_CAP_VCPU_STATE" },
	{ LV_CAP_IOMMU, "LV_CAP_IOMMU" },
	{ LV_CAP_DIRTY_LOG, "LV_CAP_DIRTY_LOG" },
};

static int set_region(int vm_fd, uint32_t slot, uint32_t flags, uint64_t gpa,
		      uint64_t size, uint64_t uaddr)
{
	struct lv_memory_region r = {
		.slot = slot, .flags = flags, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = uaddr,
	};

	return ioctl(vm_fd, LV_SET_MEMORY_REGION, &r);
}

static void test_caps(int sys_fd, int *max_vcpus, int *nr_slots)
{
	unsigned int i;
	int ret;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		ret = check_cap(sys_fd, caps[i].cap);
		if (ret < 0)
			tap_fail("LV_CHECK_CAP", "%s failed: %s", caps[i].name,
				 strerror(errno));
		else
			tap_result(true, "LV_CHECK_CAP(%s) = %d", caps[i].name, ret);
		if (caps[i].cap == LV_CAP_MAX_VCPUS)
			*max_vcpus = ret;
		if (caps[i].cap == LV_CAP_NR_MEMSLOTS)
			*nr_slots = ret;
	}
	ret = check_cap(sys_fd, 1000);
	tap_result(ret == 0 || (ret == -1 && errno == EINVAL),
		   "LV_CHECK_CAP(unknown 1000) returns 0 or EINVAL (got %d)", ret);
	tap_result(*max_vcpus >= 1, "LV_CAP_MAX_VCPUS >= 1");
	tap_result(*nr_slots >= 1, "LV_CAP_NR_MEMSLOTS >= 1");
}

static void test_sys_fd(int sys_fd)
{
	int ret;

	ret = ioctl(sys_fd, LV_GET_API_VERSION, 0);
	tap_eq(LV_API_VERSION, ret, "LV_GET_API_VERSION is 1");
	ret = ioctl(sys_fd, LV_BOGUS_IOCTL, 0);
	tap_errno(ret, errno, ENOTTY, "unknown ioctl on the system fd -> ENOTTY");
	/* Bit 0 is LV_VM_UNBOUND (abi_pool); every other bit is unknown. */
	ret = ioctl(sys_fd, LV_CREATE_VM, 2);
	tap_errno(ret, errno, EINVAL, "LV_CREATE_VM with arg 2 (an unknown flag) -> EINVAL");
	if (ret >= 0)
		close(ret);
	ret = ioctl(sys_fd, LV_CREATE_VM, ~(unsigned long)LV_VM_UNBOUND);
	tap_errno(ret, errno, EINVAL, "LV_CREATE_VM with every unknown flag -> EINVAL");
	if (ret >= 0)
		close(ret);
	ret = ioctl(sys_fd, LV_GET_VCPU_MMAP_SIZE, 0);
	tap_result(ret >= (int)sizeof(struct lv_run),
		   "LV_GET_VCPU_MMAP_SIZE (%d) holds struct lv_run (%zu)", ret,
		   sizeof(struct lv_run));
}

static void test_memory(int vm_fd, int nr_slots)
{
	const size_t sz = 0x10000;
	uint8_t *buf;
	uint64_t ua;
	int ret;

	buf = mmap(NULL, 2 * sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	if (buf == MAP_FAILED)
		die("mmap");
	ua = (uintptr_t)buf;

	ret = ioctl(vm_fd, LV_SET_MEMORY_REGION, BAD_PTR);
	tap_errno(ret, errno, EFAULT, "LV_SET_MEMORY_REGION with a bad pointer -> EFAULT");
	ret = set_region(vm_fd, 0, 0, 0x1001, sz, ua);
	tap_errno(ret, errno, EINVAL, "misaligned guest_phys_addr -> EINVAL");
	ret = set_region(vm_fd, 0, 0, 0, sz + 1, ua);
	tap_errno(ret, errno, EINVAL, "misaligned memory_size -> EINVAL");
	ret = set_region(vm_fd, 0, 0, 0, sz, ua + 1);
	tap_errno(ret, errno, EINVAL, "misaligned userspace_addr -> EINVAL");
	ret = set_region(vm_fd, 0, 0x80000000, 0, sz, ua);
	tap_errno(ret, errno, EINVAL, "unknown flags -> EINVAL");
	ret = set_region(vm_fd, nr_slots > 0 ? nr_slots : 0x10000, 0, 0, sz, ua);
	tap_errno(ret, errno, EINVAL, "slot == LV_CAP_NR_MEMSLOTS -> EINVAL");
	ret = set_region(vm_fd, 0, 0, 0xfffffffffffff000ULL, 0x2000, ua);
	tap_errno(ret, errno, EINVAL, "range wrapping past 2^64 -> EINVAL");

	ret = set_region(vm_fd, 0, 0, 0, sz, ua);
	tap_errno(ret, errno, 0, "slot 0 at 0, 64K");
	if (nr_slots >= 2) {
		ret = set_region(vm_fd, 1, 0, sz / 2, sz, ua + sz);
		tap_errno(ret, errno, EEXIST, "slot 1 overlapping slot 0 -> EEXIST");
		ret = set_region(vm_fd, 1, 0, sz, sz, ua + sz);
		tap_errno(ret, errno, 0, "slot 1 adjacent to slot 0");
		ret = set_region(vm_fd, 1, 0, sz, 0, 0);
		tap_errno(ret, errno, 0, "delete slot 1");
	} else {
		tap_skip("slot 1 overlapping slot 0 -> EEXIST", "one memory slot");
		tap_skip("slot 1 adjacent to slot 0", "one memory slot");
		tap_skip("delete slot 1", "one memory slot");
	}
	if (nr_slots >= 3) {
		ret = set_region(vm_fd, nr_slots - 1, 0, 0, 0, 0);
		tap_result(ret == 0 || (ret == -1 && errno == EINVAL),
			   "delete a slot that does not exist -> success or EINVAL");
		tap_diag("deleting an empty slot: %s", ret == 0 ? "success" : strerror(errno));
	} else {
		tap_skip("delete a slot that does not exist", "too few slots");
	}
	ret = set_region(vm_fd, 0, 0, 0, 0, 0);
	tap_errno(ret, errno, 0, "delete slot 0");
	ret = set_region(vm_fd, 0, 0, 0x100000, sz, ua);
	tap_errno(ret, errno, 0, "re-add slot 0 elsewhere after deleting it");
	munmap(buf, 2 * sz);
}

static const char *const vcpu_tests[] = {
	"LV_CREATE_VCPU id 0",
	"LV_CREATE_VCPU duplicate id 0 -> EEXIST",
	"LV_CREATE_VCPU id == LV_CAP_MAX_VCPUS -> EINVAL",
	"mmap of the vCPU run page",
	"unknown ioctl on a vCPU fd -> ENOTTY",
	"LV_GET_REGS with a bad pointer -> EFAULT",
	"LV_SET_SREGS with a bad pointer -> EFAULT",
	"LV_INTERRUPT with a bad pointer -> EFAULT",
};

static void test_vcpus(int sys_fd, int vm_fd, int max_vcpus)
{
	int run_guests = check_cap(sys_fd, LV_CAP_RUN_GUESTS);
	unsigned int i;
	int fd, ret, size;
	void *run;

	if (run_guests <= 0) {
		ret = ioctl(vm_fd, LV_CREATE_VCPU, 0);
		tap_errno(ret, errno, ENODEV,
			  "LV_CREATE_VCPU without LV_CAP_RUN_GUESTS -> ENODEV");
		for (i = 1; i < sizeof(vcpu_tests) / sizeof(vcpu_tests[0]); i++)
			tap_skip(vcpu_tests[i], "no VMX");
		return;
	}

	fd = ioctl(vm_fd, LV_CREATE_VCPU, 0);
	tap_errno(fd, errno, 0, vcpu_tests[0]);
	ret = ioctl(vm_fd, LV_CREATE_VCPU, 0);
	tap_errno(ret, errno, EEXIST, vcpu_tests[1]);
	ret = ioctl(vm_fd, LV_CREATE_VCPU, max_vcpus);
	tap_errno(ret, errno, EINVAL, vcpu_tests[2]);
	if (fd < 0) {
		for (i = 3; i < sizeof(vcpu_tests) / sizeof(vcpu_tests[0]); i++)
			tap_skip(vcpu_tests[i], "no vCPU");
		return;
	}
	size = ioctl(sys_fd, LV_GET_VCPU_MMAP_SIZE, 0);
	run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	tap_result(run != MAP_FAILED, "%s", vcpu_tests[3]);
	ret = ioctl(fd, LV_BOGUS_IOCTL, 0);
	tap_errno(ret, errno, ENOTTY, vcpu_tests[4]);
	ret = ioctl(fd, LV_GET_REGS, BAD_PTR);
	tap_errno(ret, errno, EFAULT, vcpu_tests[5]);
	ret = ioctl(fd, LV_SET_SREGS, BAD_PTR);
	tap_errno(ret, errno, EFAULT, vcpu_tests[6]);
	ret = ioctl(fd, LV_INTERRUPT, BAD_PTR);
	tap_errno(ret, errno, EFAULT, vcpu_tests[7]);
	close(fd);
}

static const char *const mmap_tests[] = {
	"run page: MAP_SHARED, offset 0, one page",
	"run page: offset 4096 -> EINVAL",
	"run page: two pages -> EINVAL",
	"run page: MAP_PRIVATE -> EINVAL",
	"run page: a mapping of the next page right after it (would merge) -> EINVAL",
	"run page: mremap() growing it -> EFAULT",
	"run page: mremap() moving it keeps it usable",
};

/*
 * The run page is the one page at offset 0, shared. A mapping of offset
 * 4096 placed right after an existing mapping used to be merged into it
 * by the mm without ever reaching the driver, and mremap() could grow it.
 */
static void test_run_mmap(int sys_fd, int vm_fd)
{
	long page = sysconf(_SC_PAGESIZE);
	uint8_t *area, *run, *p;
	unsigned int i;
	int fd;

	if (!check_cap(sys_fd, LV_CAP_RUN_GUESTS)) {
		for (i = 0; i < sizeof(mmap_tests) / sizeof(mmap_tests[0]); i++)
			tap_skip(mmap_tests[i], "no VMX");
		return;
	}
	fd = ioctl(vm_fd, LV_CREATE_VCPU, 1);
	if (fd < 0)
		die("LV_CREATE_VCPU 1");
	/* Two free pages at a known place. */
	area = mmap(NULL, 3 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		die("mmap");
	run = mmap(area, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		   fd, 0);
	tap_result(run == area, "%s", mmap_tests[0]);
	p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, page);
	tap_errno(p == MAP_FAILED ? -1 : 0, errno, EINVAL, mmap_tests[1]);
	p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	tap_errno(p == MAP_FAILED ? -1 : 0, errno, EINVAL, mmap_tests[2]);
	p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	tap_errno(p == MAP_FAILED ? -1 : 0, errno, EINVAL, mmap_tests[3]);
	p = mmap(area + page, page, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, fd, page);
	tap_errno(p == MAP_FAILED ? -1 : 0, errno, EINVAL, mmap_tests[4]);
	/* Whatever happened there, leave room for growth after the page. */
	munmap(area + page, 2 * page);
	p = mremap(run, page, 2 * page, 0);
	tap_errno(p == MAP_FAILED ? -1 : 0, errno, EFAULT, mmap_tests[5]);
	if (p != MAP_FAILED)
		run = p;
	p = mremap(run, page, page, MREMAP_MAYMOVE | MREMAP_FIXED, area + 2 * page);
	tap_result(p == area + 2 * page &&
		   ((struct lv_run *)p)->immediate_exit == 0, "%s", mmap_tests[6]);
	munmap(area, 3 * page);
	close(fd);
}

int main(void)
{
	int sys_fd = open_sys();
	int max_vcpus = 0, nr_slots = 0;
	int vm_fd, ret;

	test_sys_fd(sys_fd);
	test_caps(sys_fd, &max_vcpus, &nr_slots);

	vm_fd = ioctl(sys_fd, LV_CREATE_VM, 0);
	if (vm_fd < 0)
		die("LV_CREATE_VM");
	ret = ioctl(vm_fd, LV_BOGUS_IOCTL, 0);
	tap_errno(ret, errno, ENOTTY, "unknown ioctl on a VM fd -> ENOTTY");
	test_memory(vm_fd, nr_slots);
	test_vcpus(sys_fd, vm_fd, max_vcpus);
	test_run_mmap(sys_fd, vm_fd);
	close(vm_fd);
	tap_finish();
}
