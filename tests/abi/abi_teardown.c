// SPDX-License-Identifier: GPL-2.0
/*
 * VM teardown and vCPU creation against concurrent invalidations.
 *
 * Any thread of the process can unmap guest memory at any time; the
 * invalidation finds every VM whose slots cover the range and kicks its
 * vCPUs. These tests keep such invalidations coming while a VM with many
 * vCPUs is destroyed, and while vCPU creation fails after the vCPU was
 * made. A vCPU freed while an invalidation can still reach it shows as a
 * kernel report (the suite boots with slab poisoning for lightvisor's
 * vCPU cache), which fails the run.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "test_util.h"

DECLARE_GUEST(mem_guest_write);

#define PAGE		4096UL
#define TOUCH_SEG	0x1000		/* first touched page: gpa 0x10000 */
#define TOUCH_PAGES	200
#define ITERATIONS	8
#define CREATE_TRIES	100
#define LV_MAX_VCPUS_TEST	64

static int sys_fd;

struct invalidator {
	pthread_t thread;
	uint8_t *mem;
	atomic_int go;
	atomic_int stop;
	atomic_int destroying;	/* the main thread is in close(vm fd) */
	atomic_long calls;
	atomic_long failed;		/* calls that could not replace a page */
	atomic_long calls_in_destroy;	/* begun and ended inside it */
};

/*
 * Replace the touched pages one by one, over and over: every call that
 * finds a page still mapped in the guest's EPT unmaps it and kicks the
 * vCPUs. (A fixed mmap over the page, not madvise(MADV_DONTNEED): the
 * test kernel has no madvise, and its ENOSYS went unseen here once.)
 */
static void *invalidate_loop(void *arg)
{
	struct invalidator *inv = arg;
	unsigned long i;

	while (!atomic_load(&inv->go))
		sched_yield();
	while (!atomic_load(&inv->stop)) {
		for (i = 0; i < TOUCH_PAGES; i++) {
			void *page = inv->mem + (TOUCH_SEG << 4) + i * PAGE;
			bool before = atomic_load(&inv->destroying);

			if (mmap(page, PAGE, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
				 0) == MAP_FAILED)
				atomic_fetch_add(&inv->failed, 1);
			atomic_fetch_add(&inv->calls, 1);
			if (before && atomic_load(&inv->destroying))
				atomic_fetch_add(&inv->calls_in_destroy, 1);
		}
	}
	return NULL;
}

static void invalidator_start(struct invalidator *inv, uint8_t *mem)
{
	memset(inv, 0, sizeof(*inv));
	inv->mem = mem;
	if (pthread_create(&inv->thread, NULL, invalidate_loop, inv))
		die("pthread_create");
}

static void invalidator_stop(struct invalidator *inv)
{
	atomic_store(&inv->go, 1);
	atomic_store(&inv->stop, 1);
	pthread_join(inv->thread, NULL);
}

/* Guest RAM with 4 KiB host pages, so each page is its own EPT leaf. */
static void add_small_page_ram(struct test_vm *vm)
{
	struct lv_memory_region r;

	vm->mem_size = GUEST_MEM_SIZE;
	vm->mem = mmap(NULL, vm->mem_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm->mem == MAP_FAILED)
		die("mmap guest memory");
	madvise(vm->mem, vm->mem_size, MADV_NOHUGEPAGE);
	r = (struct lv_memory_region){
		.memory_size = vm->mem_size,
		.userspace_addr = (uintptr_t)vm->mem,
	};
	if (ioctl(vm->fd, LV_SET_MEMORY_REGION, &r) < 0)
		die("LV_SET_MEMORY_REGION");
}

/* Run the guest that writes one byte to each touched page: all mapped. */
static bool touch_pages(struct test_vcpu *vcpu, struct test_vm *vm)
{
	struct lv_regs regs = {
		.rax = 0x5a, .rcx = TOUCH_PAGES, .rsi = TOUCH_SEG,
		.rbp = PAGE >> 4, .rsp = 0x8000, .rip = GUEST_CODE_GPA,
		.rflags = 2,
	};

	vm_load(vm, GUEST_CODE_GPA, mem_guest_write, GUEST_LEN(mem_guest_write));
	vcpu_setup_realmode(vcpu, GUEST_CODE_GPA);
	if (ioctl(vcpu->fd, LV_SET_REGS, &regs))
		die("LV_SET_REGS");
	return vcpu_run(vcpu) == 0 && vcpu->run->exit_reason == LV_EXIT_HLT &&
	       vm->mem[(TOUCH_SEG << 4) + (TOUCH_PAGES - 1) * PAGE] == 0x5a;
}

/*
 * One VM with every vCPU it may have, its guest memory mapped, destroyed
 * (by closing the last fd) while another thread invalidates that memory.
 */
struct invalidations {
	long calls, failed, in_destroy;
};

static void invalidations_add(struct invalidations *sum,
			      struct invalidator *inv)
{
	sum->calls += atomic_load(&inv->calls);
	sum->failed += atomic_load(&inv->failed);
	sum->in_destroy += atomic_load(&inv->calls_in_destroy);
}

static bool destroy_during_invalidations(int max_vcpus,
					 struct invalidations *sum)
{
	static struct test_vcpu vcpus[LV_MAX_VCPUS_TEST];
	struct invalidator inv;
	struct test_vm vm;
	bool ok;
	int i;

	vm_create(sys_fd, &vm);
	add_small_page_ram(&vm);
	for (i = 0; i < max_vcpus; i++)
		vcpu_create(sys_fd, &vm, i, &vcpus[i]);
	ok = touch_pages(&vcpus[0], &vm);

	invalidator_start(&inv, vm.mem);
	for (i = 0; i < max_vcpus; i++) {
		munmap(vcpus[i].run, PAGE);
		close(vcpus[i].fd);
	}
	atomic_store(&inv.go, 1);
	atomic_store(&inv.destroying, 1);
	close(vm.fd);		/* the last reference: the VM goes now */
	atomic_store(&inv.destroying, 0);
	invalidator_stop(&inv);
	invalidations_add(sum, &inv);
	munmap(vm.mem, vm.mem_size);
	return ok;
}

static void test_destroy(void)
{
	int max_vcpus = ioctl(sys_fd, LV_CHECK_CAP, LV_CAP_MAX_VCPUS);
	struct invalidations sum = { 0 };
	bool ok = true;
	int i;

	if (max_vcpus > LV_MAX_VCPUS_TEST)
		max_vcpus = LV_MAX_VCPUS_TEST;
	for (i = 0; i < ITERATIONS; i++) {
		ok &= destroy_during_invalidations(max_vcpus, &sum);
		tap_diag("VM %d destroyed", i + 1);
	}
	tap_diag("%d VMs of %d vCPUs destroyed during %ld invalidations, %ld of them wholly inside the destruction",
		 ITERATIONS, max_vcpus, sum.calls, sum.in_destroy);
	tap_eq(0, sum.failed, "every invalidation replaced its page");
	tap_result(sum.in_destroy > 0,
		   "invalidations ran while the VM was destroyed (%ld)",
		   sum.in_destroy);
	tap_result(ok, "a VM with %d vCPUs is destroyed while its memory is invalidated",
		   max_vcpus);
}

static int count_open_fds(void)
{
	int n = 0, fd;

	for (fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

/*
 * vCPU creation that fails once the vCPU exists (no fd left: EMFILE),
 * again and again, while vCPU 0 keeps faulting pages in and another
 * thread keeps invalidating them, so invalidations keep walking the vCPUs.
 */
static void test_create_fails(void)
{
	struct rlimit old, low;
	struct invalidator inv;
	struct test_vcpu vcpu0;
	struct test_vm vm;
	int i, emfile = 0, fd;
	bool ran = true;

	vm_create(sys_fd, &vm);
	add_small_page_ram(&vm);
	vcpu_create(sys_fd, &vm, 0, &vcpu0);
	invalidator_start(&inv, vm.mem);
	atomic_store(&inv.go, 1);

	getrlimit(RLIMIT_NOFILE, &old);
	low = old;
	low.rlim_cur = count_open_fds();
	for (i = 0; i < CREATE_TRIES; i++) {
		if (i % 20 == 0)
			ran &= touch_pages(&vcpu0, &vm);
		setrlimit(RLIMIT_NOFILE, &low);
		fd = ioctl(vm.fd, LV_CREATE_VCPU, 1);
		if (fd < 0 && errno == EMFILE)
			emfile++;
		setrlimit(RLIMIT_NOFILE, &old);
		if (fd >= 0)
			close(fd);
	}
	invalidator_stop(&inv);
	tap_result(ran, "the guest ran during failing vCPU creations");
	tap_result(atomic_load(&inv.calls) > 0 && !atomic_load(&inv.failed),
		   "%ld invalidations, none failed", atomic_load(&inv.calls));
	tap_eq(CREATE_TRIES, emfile,
	       "LV_CREATE_VCPU without a free fd -> EMFILE, each time");
	fd = ioctl(vm.fd, LV_CREATE_VCPU, 1);
	tap_errno(fd, errno, 0, "the id is free again once an fd is");

	if (fd >= 0)
		close(fd);
	munmap(vcpu0.run, PAGE);
	close(vcpu0.fd);
	close(vm.fd);
	munmap(vm.mem, vm.mem_size);
}

static void test_nothing_left(void)
{
	const char *stats = "/sys/kernel/debug/lightvisor/stats";

	tap_eq(0, read_stat(stats, "vms"), "no VM left");
	tap_eq(0, read_stat(stats, "vcpus"), "no vCPU left");
}

int main(void)
{
	sys_fd = open_sys();
	require_run_guests(sys_fd);
	test_create_fails();
	test_destroy();
	test_nothing_left();
	return tap_finish();
}
