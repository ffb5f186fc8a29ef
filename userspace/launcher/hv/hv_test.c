// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun-hvtest BACKEND: the ioeventfd, irqfd and irq_status hv ops of
 * one backend (lightvisor or kvm) on a real VM, TAP output. A real-mode
 * guest writes a port and an MMIO word that are given to eventfds: it
 * must reach its HLT without a port or MMIO exit, and the eventfd must
 * count both writes; then the errno a caller falls back on, irqfd assign
 * and deassign, and irq_status (EOPNOTSUPP on KVM). Needs the hypervisor
 * (in the Bochs suites).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../log.h"
#include "../tap.h"
#include "hv.h"

int tap_nr, tap_failed;

#define RAM_SIZE	0x10000
#define CODE_GPA	0x1000
#define PORT		0x500
#define MMIO_GPA	0x20010

/*
 * mov $0x1234, %ax; mov $0x500, %dx; out %ax, %dx; mov $0x2000, %ax;
 * mov %ax, %ds; movw $0x1234, (0x10); hlt
 */
static const uint8_t guest[] = {
	0xb8, 0x34, 0x12, 0xba, 0x00, 0x05, 0xef, 0xb8, 0x00, 0x20,
	0x8e, 0xd8, 0xc7, 0x06, 0x10, 0x00, 0x34, 0x12, 0xf4,
};

static void real_mode_at(struct hv *hv, struct hv_vcpu *vcpu, uint64_t rip)
{
	struct lv_regs regs = { .rip = rip, .rflags = 2, .rsp = 0x8000 };
	struct lv_sregs sregs;

	hv->ops->get_sregs(vcpu, &sregs);
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ds.base = 0;
	sregs.ds.selector = 0;
	hv->ops->set_sregs(vcpu, &sregs);
	hv->ops->set_regs(vcpu, &regs);
}

static uint64_t efd_take(int fd)
{
	uint64_t n;

	return read(fd, &n, sizeof(n)) == sizeof(n) ? n : 0;
}

/* -1 with errno @err. */
static int failed_with(int ret, int err)
{
	return ret == -1 && errno == err;
}

static void test_ioeventfd(struct hv *hv, struct hv_vcpu *vcpu, int efd)
{
	struct hv_exit exit;
	int ret;

	tap_ok(!hv->ops->ioeventfd(hv, PORT, 2, true, false, 0, efd, true),
	       "%s: ioeventfd on port %#x assigned", hv->ops->name, PORT);
	tap_ok(!hv->ops->ioeventfd(hv, MMIO_GPA, 2, false, true, 0x1234, efd,
				   true),
	       "%s: ioeventfd on MMIO %#x with datamatch assigned",
	       hv->ops->name, MMIO_GPA);
	ret = hv->ops->run(vcpu, &exit);
	tap_ok(!ret && exit.reason == HV_EXIT_HLT,
	       "%s: the guest's OUT and MMIO write did not exit (exit %d)",
	       hv->ops->name, ret ? -1 : (int)exit.reason);
	tap_ok(efd_take(efd) == 2, "%s: the eventfd counted both writes",
	       hv->ops->name);

	ret = hv->ops->ioeventfd(hv, PORT, 2, true, false, 0, efd, true);
	tap_ok(failed_with(ret, EEXIST), "%s: the same port again: EEXIST",
	       hv->ops->name);
	tap_ok(!hv->ops->ioeventfd(hv, PORT, 2, true, false, 0, efd, false),
	       "%s: the port deassigned", hv->ops->name);
	ret = hv->ops->ioeventfd(hv, PORT, 2, true, false, 0, efd, false);
	tap_ok(failed_with(ret, ENOENT), "%s: deassigned twice: ENOENT",
	       hv->ops->name);
	tap_ok(!hv->ops->ioeventfd(hv, MMIO_GPA, 2, false, true, 0x1234, efd,
				   false),
	       "%s: the MMIO ioeventfd deassigned", hv->ops->name);

	real_mode_at(hv, vcpu, CODE_GPA);
	ret = hv->ops->run(vcpu, &exit);
	tap_ok(!ret && exit.reason == HV_EXIT_IO && exit.io.port == PORT,
	       "%s: deassigned, the OUT exits to lvrun again", hv->ops->name);
}

/* A VM with the in-kernel irqchip (KVM's would keep a HLT in the kernel). */
static void test_irqfd(const struct hv_ops *ops, int efd)
{
	struct hv hv;

	hv_init(&hv, ops, 1);
	ops->create_irqchip(&hv);
	tap_ok(!ops->irqfd(&hv, 5, efd, true), "%s: irqfd on GSI 5 assigned",
	       ops->name);
	tap_ok(ops->irqfd(&hv, 5, efd, true) == -1,
	       "%s: the same eventfd again is refused", ops->name);
	tap_ok(!ops->irqfd(&hv, 5, efd, false), "%s: irqfd deassigned",
	       ops->name);
	close(hv.vm_fd);
	close(hv.sys_fd);
}

/* lightvisor serves the registers; KVM has no such op and says so. */
static void test_irq_status(struct hv *hv)
{
	static _Atomic uint32_t word;
	const char *name = hv->ops->name;

	if (hv->ops == &hv_kvm_ops) {
		tap_ok(failed_with(hv->ops->irq_status(hv, 0xd0000060, 0xd0000064,
						       &word, true), EOPNOTSUPP),
		       "%s: irq_status: EOPNOTSUPP (lvrun serves the registers)",
		       name);
		return;
	}
	tap_ok(!hv->ops->irq_status(hv, 0xd0000060, 0xd0000064, &word, true),
	       "%s: irq_status assigned", name);
	tap_ok(failed_with(hv->ops->irq_status(hv, 0xd0000060, 0xd0000068,
					       &word, true), EEXIST),
	       "%s: irq_status on the same status register: EEXIST", name);
	tap_ok(!hv->ops->irq_status(hv, 0xd0000060, 0, NULL, false),
	       "%s: irq_status deassigned", name);
}

int main(int argc, char **argv)
{
	const struct hv_ops *ops = &hv_lightvisor_ops;
	struct hv_vcpu vcpu;
	struct hv hv;
	uint8_t *ram;
	int efd;

	if (argc > 1 && !strcmp(argv[1], "kvm"))
		ops = &hv_kvm_ops;
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0)
		die("eventfd: %s", strerror(errno));

	/* No irqchip: the guest's HLT with interrupts off comes to lvrun. */
	hv_init(&hv, ops, 1);
	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	memcpy(ram + CODE_GPA, guest, sizeof(guest));
	ops->set_memory(&hv, 0, ram, RAM_SIZE);
	ops->create_vcpu(&hv, &vcpu, 0);
	real_mode_at(&hv, &vcpu, CODE_GPA);
	test_ioeventfd(&hv, &vcpu, efd);
	tap_ok(failed_with(ops->irqfd(&hv, 5, efd, true), ENXIO),
	       "%s: irqfd without an irqchip: ENXIO", ops->name);
	test_irq_status(&hv);

	test_irqfd(ops, efd);
	printf("1..%d\n", tap_nr);
	return tap_failed ? 1 : 0;
}
