// SPDX-License-Identifier: GPL-2.0
/*
 * ept_bench lv|kvm: cost of a new VM's first entry and of an EPT fault,
 * measured the same way on lightvisor (/dev/lightvisor) and on KVM
 * (/dev/kvm), for side-by-side figures. Not a pass/fail test: it prints
 * the numbers as TAP diagnostics and fails only if something does not run.
 *
 * Each round: a VM with 1 MiB of prefaulted host memory at guest-physical
 * 0 (too small for 2 MiB EPT pages on either side) and one real-mode vCPU.
 * Host TSC around the first RUN (guest code: HLT; includes the EPT fault
 * on the code page) and around a second RUN; then the guest times, with
 * RDTSC, a write to each of 128 fresh pages (an EPT fault each; the host
 * pages are already there) and then to the same, now mapped, pages.
 * Inside Bochs the TSC counts emulated instructions: good for ratios.
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

#include "test_util.h"

DECLARE_GUEST(mem_guest_bench);

#define MEM_SIZE	0x100000ULL
#define BENCH_PAGES	128		/* 0x20000 - 0x9ffff */
#define ROUNDS		8

static const uint8_t hlt_code[] = { 0xf4 };

struct hv {
	const char *name;
	int sys_fd, vm_fd, vcpu_fd;
	void *run;
	size_t run_size;
	uint8_t *mem;
	bool kvm;
};

static inline uint64_t tsc(void)
{
	uint32_t lo, hi;

	asm volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static void hv_create(struct hv *h)
{
	int size;

	h->vm_fd = ioctl(h->sys_fd, h->kvm ? KVM_CREATE_VM : LV_CREATE_VM, 0);
	if (h->vm_fd < 0)
		die("%s: create VM", h->name);
	if (h->kvm) {
		struct kvm_userspace_memory_region r = {
			.slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE,
			.userspace_addr = (uintptr_t)h->mem,
		};

		ioctl(h->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000UL);
		if (ioctl(h->vm_fd, KVM_SET_USER_MEMORY_REGION, &r))
			die("KVM_SET_USER_MEMORY_REGION");
		h->vcpu_fd = ioctl(h->vm_fd, KVM_CREATE_VCPU, 0);
		size = ioctl(h->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	} else {
		struct lv_memory_region r = {
			.slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE,
			.userspace_addr = (uintptr_t)h->mem,
		};

		if (ioctl(h->vm_fd, LV_SET_MEMORY_REGION, &r))
			die("LV_SET_MEMORY_REGION");
		h->vcpu_fd = ioctl(h->vm_fd, LV_CREATE_VCPU, 0);
		size = ioctl(h->sys_fd, LV_GET_VCPU_MMAP_SIZE, 0);
	}
	if (h->vcpu_fd < 0 || size <= 0)
		die("%s: create vCPU", h->name);
	h->run_size = size;
	h->run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      h->vcpu_fd, 0);
	if (h->run == MAP_FAILED)
		die("%s: mmap run", h->name);
}

static void hv_destroy(struct hv *h)
{
	munmap(h->run, h->run_size);
	close(h->vcpu_fd);
	close(h->vm_fd);
}

/* Real mode at 0000:rip, with the given RCX and RSI. */
static void hv_setup(struct hv *h, uint64_t rip, uint64_t rcx, uint64_t rsi)
{
	if (h->kvm) {
		struct kvm_sregs s;
		struct kvm_regs r = { .rip = rip, .rflags = 2, .rcx = rcx,
				      .rsi = rsi, .rsp = 0x8000 };

		if (ioctl(h->vcpu_fd, KVM_GET_SREGS, &s))
			die("KVM_GET_SREGS");
		s.cs.selector = 0;
		s.cs.base = 0;
		if (ioctl(h->vcpu_fd, KVM_SET_SREGS, &s) ||
		    ioctl(h->vcpu_fd, KVM_SET_REGS, &r))
			die("KVM_SET_SREGS/REGS");
	} else {
		struct test_vcpu v = { .fd = h->vcpu_fd };
		struct lv_regs r = { .rip = rip, .rflags = 2, .rcx = rcx,
				     .rsi = rsi, .rsp = 0x8000 };

		vcpu_setup_realmode(&v, rip);
		if (ioctl(h->vcpu_fd, LV_SET_REGS, &r))
			die("LV_SET_REGS");
	}
}

/* One RUN; true if the guest halted. */
static bool hv_run(struct hv *h)
{
	if (h->kvm)
		return !ioctl(h->vcpu_fd, KVM_RUN, 0) &&
		       ((struct kvm_run *)h->run)->exit_reason == KVM_EXIT_HLT;
	return !ioctl(h->vcpu_fd, LV_RUN, 0) &&
	       ((struct lv_run *)h->run)->exit_reason == LV_EXIT_HLT;
}

static void hv_bench_regs(struct hv *h, uint64_t *fresh, uint64_t *mapped)
{
	if (h->kvm) {
		struct kvm_regs r;

		if (ioctl(h->vcpu_fd, KVM_GET_REGS, &r))
			die("KVM_GET_REGS");
		*fresh = (uint32_t)r.rbp;
		*mapped = (uint32_t)r.rdi;
	} else {
		struct lv_regs r;

		if (ioctl(h->vcpu_fd, LV_GET_REGS, &r))
			die("LV_GET_REGS");
		*fresh = (uint32_t)r.rbp;
		*mapped = (uint32_t)r.rdi;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v)
{
	qsort(v, ROUNDS, sizeof(*v), cmp_u64);
	return v[ROUNDS / 2];
}

int main(int argc, char **argv)
{
	uint64_t create[ROUNDS], first[ROUNDS], second[ROUNDS];
	uint64_t fresh[ROUNDS], mapped[ROUNDS], destroy[ROUNDS];
	struct hv h = { 0 };
	bool ok = true;
	int i;

	if (argc != 2 || (strcmp(argv[1], "lv") && strcmp(argv[1], "kvm")))
		die("usage: ept_bench lv|kvm");
	h.kvm = !strcmp(argv[1], "kvm");
	h.name = h.kvm ? "KVM" : "lightvisor";
	h.sys_fd = open(h.kvm ? "/dev/kvm" : "/dev/lightvisor", O_RDWR);
	if (h.sys_fd < 0)
		skip_all(h.kvm ? "no /dev/kvm" : "no /dev/lightvisor");
	if (!h.kvm)
		require_run_guests(h.sys_fd);

	for (i = 0; i < ROUNDS; i++) {
		uint64_t t0, t1;

		h.mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (h.mem == MAP_FAILED)
			die("mmap");
		memset(h.mem, 0, MEM_SIZE);	/* host pages exist */

		t0 = tsc();
		hv_create(&h);
		t1 = tsc();
		create[i] = t1 - t0;

		memcpy(h.mem + GUEST_CODE_GPA, hlt_code, sizeof(hlt_code));
		hv_setup(&h, GUEST_CODE_GPA, 0, 0);
		t0 = tsc();
		ok &= hv_run(&h);
		t1 = tsc();
		first[i] = t1 - t0;
		hv_setup(&h, GUEST_CODE_GPA, 0, 0);
		t0 = tsc();
		ok &= hv_run(&h);
		t1 = tsc();
		second[i] = t1 - t0;

		memcpy(h.mem + GUEST_CODE_GPA + 0x100, mem_guest_bench,
		       GUEST_LEN(mem_guest_bench));
		hv_setup(&h, GUEST_CODE_GPA + 0x100, BENCH_PAGES, 0x2000);
		ok &= hv_run(&h);
		hv_bench_regs(&h, &fresh[i], &mapped[i]);
		fresh[i] /= BENCH_PAGES;
		mapped[i] /= BENCH_PAGES;

		t0 = tsc();
		hv_destroy(&h);
		t1 = tsc();
		destroy[i] = t1 - t0;
		munmap(h.mem, MEM_SIZE);
	}
	tap_result(ok, "%s: %d rounds ran", h.name, ROUNDS);
	tap_diag("%s medians of %d rounds, TSC ticks:", h.name, ROUNDS);
	tap_diag("  create VM + 1 MiB slot + vCPU  %10llu", (unsigned long long)median(create));
	tap_diag("  first RUN to HLT (new VM)      %10llu", (unsigned long long)median(first));
	tap_diag("  second RUN to HLT              %10llu", (unsigned long long)median(second));
	tap_diag("  guest write, fresh page (EPT fault) %6llu", (unsigned long long)median(fresh));
	tap_diag("  guest write, mapped page       %10llu", (unsigned long long)median(mapped));
	tap_diag("  destroy (close vCPU and VM)    %10llu", (unsigned long long)median(destroy));
	return tap_finish();
}
