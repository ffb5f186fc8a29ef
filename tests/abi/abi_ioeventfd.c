// SPDX-License-Identifier: GPL-2.0
/*
 * abi_ioeventfd: LV_IOEVENTFD. The errno of every bad argument (these
 * need no VMX), then real-mode guests (tests/abi/ioevent_guest.S) that
 * write to registered ports and MMIO: the eventfd counts every matching
 * write and none of them reaches userspace, while writes of another
 * value or width, reads, REP OUTS, deassigned addresses and another VM's
 * addresses still exit. A vCPU writing while another thread assigns and
 * deassigns loses no write: each one is either counted or exits.
 *
 * Also LV_IRQ_STATUS, the other register kind the kernel serves from the
 * exit path: its errnos, then a guest reading a status word that lives
 * in this process and acknowledging bits of it without exits, while
 * other widths, addresses, a deassigned register and an unmapped word
 * exit as before.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "test_util.h"

DECLARE_GUEST(ioev_store32);
DECLARE_GUEST(ioev_store16);
DECLARE_GUEST(ioev_load32);
DECLARE_GUEST(ioev_outw);
DECLARE_GUEST(ioev_outb);
DECLARE_GUEST(ioev_inw);
DECLARE_GUEST(ioev_rep_outsw);
DECLARE_GUEST(ioev_mixed);

#define BAD_PTR		((void *)8)
/* RAM is [0, RAM_SIZE): segment 0x2000 and up is MMIO. */
#define RAM_SIZE	0x10000
#define MMIO_SEG	0x2000
#define MMIO_BASE	((uint64_t)MMIO_SEG << 4)
#define PORT		0x500
#define RACE_WRITES	2000

struct ivm {
	struct test_vm vm;
	struct test_vcpu vcpu;
};

static int ioev(int vm_fd, uint64_t addr, uint32_t len, uint32_t flags,
		uint64_t datamatch, int fd)
{
	struct lv_ioeventfd a = {
		.datamatch = datamatch, .addr = addr, .len = len, .fd = fd,
		.flags = flags,
	};

	return ioctl(vm_fd, LV_IOEVENTFD, &a);
}

static int new_eventfd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	if (fd < 0)
		die("eventfd");
	return fd;
}

/* The eventfd's counter, reset to 0 by the read. */
static uint64_t efd_take(int fd)
{
	uint64_t n;

	if (read(fd, &n, sizeof(n)) == sizeof(n))
		return n;
	if (errno != EAGAIN)
		die("read eventfd");
	return 0;
}

static void ivm_create(int sys_fd, struct ivm *m, bool vcpu)
{
	struct lv_memory_region r;

	vm_create(sys_fd, &m->vm);
	m->vm.mem_size = RAM_SIZE;
	m->vm.mem = alloc_anon(RAM_SIZE);
	r = (struct lv_memory_region){
		.slot = 0, .memory_size = RAM_SIZE,
		.userspace_addr = (uintptr_t)m->vm.mem,
	};
	if (ioctl(m->vm.fd, LV_SET_MEMORY_REGION, &r) < 0)
		die("LV_SET_MEMORY_REGION");
	if (vcpu)
		vcpu_create(sys_fd, &m->vm, 0, &m->vcpu);
}

static void ivm_destroy(struct ivm *m)
{
	if (m->vcpu.run) {
		munmap(m->vcpu.run, sysconf(_SC_PAGESIZE));
		close(m->vcpu.fd);
	}
	close(m->vm.fd);
	munmap(m->vm.mem, RAM_SIZE);
	memset(m, 0, sizeof(*m));
}

struct gregs {
	uint64_t ax, bx, cx, dx, si, di, bp;
};

/* Load @code at 0x1000 and start there in real mode with @g. */
static void ivm_start(struct ivm *m, const uint8_t *code, size_t len,
		      const struct gregs *g)
{
	struct lv_regs regs;

	vm_load(&m->vm, GUEST_CODE_GPA, code, len);
	vcpu_setup_realmode(&m->vcpu, GUEST_CODE_GPA);
	if (ioctl(m->vcpu.fd, LV_GET_REGS, &regs) < 0)
		die("LV_GET_REGS");
	regs.rax = g->ax;
	regs.rbx = g->bx;
	regs.rcx = g->cx;
	regs.rdx = g->dx;
	regs.rsi = g->si;
	regs.rdi = g->di;
	regs.rbp = g->bp;
	if (ioctl(m->vcpu.fd, LV_SET_REGS, &regs) < 0)
		die("LV_SET_REGS");
}

#define START(m, guest, ...) do {					\
	struct gregs __g = { __VA_ARGS__ };				\
	ivm_start(m, guest, GUEST_LEN(guest), &__g);			\
} while (0)

/* LV_RUN once; the exit reason, or -1. */
static int ivm_run(struct ivm *m)
{
	if (vcpu_run(&m->vcpu) < 0)
		return -1;
	return m->vcpu.run->exit_reason;
}

static uint64_t ivm_reg(struct ivm *m, int which)
{
	struct lv_regs regs;

	if (ioctl(m->vcpu.fd, LV_GET_REGS, &regs) < 0)
		die("LV_GET_REGS");
	return which == 'a' ? regs.rax : regs.rcx;
}

static bool expect_hlt(struct ivm *m, const char *name)
{
	int r = ivm_run(m);

	if (r == LV_EXIT_HLT)
		return tap_result(true, "%s", name);
	if (r == LV_EXIT_IO)
		tap_diag("port %#x size %u", m->vcpu.run->io.port,
			 m->vcpu.run->io.size);
	if (r == LV_EXIT_MMIO)
		tap_diag("MMIO %#llx len %u",
			 (unsigned long long)m->vcpu.run->mmio.phys_addr,
			 m->vcpu.run->mmio.len);
	tap_fail(name, "exit %s, expected HLT with no exit before it",
		 r < 0 ? strerror(errno) : exit_reason_name(r));
	return false;
}

/* The next exit is an OUT of @size bytes of @val to @port. */
static bool expect_out(struct ivm *m, uint16_t port, uint8_t size,
		       uint32_t val, const char *name)
{
	struct lv_run *run = m->vcpu.run;
	uint32_t data = 0;
	int r = ivm_run(m);

	if (r != LV_EXIT_IO) {
		tap_fail(name, "exit %s, expected IO",
			 r < 0 ? strerror(errno) : exit_reason_name(r));
		return false;
	}
	memcpy(&data, (uint8_t *)run + run->io.data_offset, run->io.size);
	return tap_result(run->io.direction == LV_EXIT_IO_OUT &&
			  run->io.port == port && run->io.size == size &&
			  run->io.count == 1 && data == val,
			  "%s (OUT port %#x size %u count %u data %#x)", name,
			  run->io.port, run->io.size, run->io.count, data);
}

/* The next exit is an MMIO access of @len bytes at @gpa. */
static bool expect_mmio(struct ivm *m, uint64_t gpa, uint32_t len, bool write,
			uint32_t val, const char *name)
{
	struct lv_run *run = m->vcpu.run;
	uint32_t data = 0;
	int r = ivm_run(m);

	if (r != LV_EXIT_MMIO) {
		tap_fail(name, "exit %s, expected MMIO",
			 r < 0 ? strerror(errno) : exit_reason_name(r));
		return false;
	}
	memcpy(&data, run->mmio.data, sizeof(data));
	return tap_result(run->mmio.phys_addr == gpa && run->mmio.len == len &&
			  run->mmio.is_write == write && (!write || data == val),
			  "%s (MMIO %s at %#llx len %u data %#x)", name,
			  run->mmio.is_write ? "write" : "read",
			  (unsigned long long)run->mmio.phys_addr,
			  run->mmio.len, data);
}

static void test_bad_args(int vm_fd, int efd)
{
	struct lv_ioeventfd a = { .addr = PORT, .len = 2, .fd = efd,
				  .flags = LV_IOEVENTFD_PIO, .padding = 1 };
	int other_vm_fd = vm_fd;

	tap_errno(ioctl(vm_fd, LV_IOEVENTFD, BAD_PTR), errno, EFAULT,
		  "bad pointer -> EFAULT");
	tap_errno(ioctl(vm_fd, LV_IOEVENTFD, &a), errno, EINVAL,
		  "padding not 0 -> EINVAL");
	tap_errno(ioev(vm_fd, PORT, 2, 1U << 3, 0, efd), errno, EINVAL,
		  "unknown flag -> EINVAL");
	tap_errno(ioev(vm_fd, MMIO_BASE, 3, 0, 0, efd), errno, EINVAL,
		  "len 3 -> EINVAL");
	tap_errno(ioev(vm_fd, MMIO_BASE, 16, 0, 0, efd), errno, EINVAL,
		  "len 16 -> EINVAL");
	tap_errno(ioev(vm_fd, PORT, 8, LV_IOEVENTFD_PIO, 0, efd), errno, EINVAL,
		  "port len 8 -> EINVAL");
	tap_errno(ioev(vm_fd, 0x10000, 1, LV_IOEVENTFD_PIO, 0, efd), errno,
		  EINVAL, "port 0x10000 -> EINVAL");
	tap_errno(ioev(vm_fd, 0xffff, 2, LV_IOEVENTFD_PIO, 0, efd), errno,
		  EINVAL, "port 0xffff len 2 (past 0xffff) -> EINVAL");
	tap_errno(ioev(vm_fd, ~0ULL - 3, 8, 0, 0, efd), errno, EINVAL,
		  "MMIO range wrapping past 2^64 -> EINVAL");
	tap_errno(ioev(vm_fd, 1ULL << 48, 4, 0, 0, efd), errno, EINVAL,
		  "MMIO at the guest-physical limit 2^48 -> EINVAL");
	tap_errno(ioev(vm_fd, MMIO_BASE, 0, LV_IOEVENTFD_DATAMATCH, 0, efd),
		  errno, EINVAL, "datamatch with len 0 -> EINVAL");
	tap_errno(ioev(vm_fd, MMIO_BASE, 1, LV_IOEVENTFD_DATAMATCH, 0x100, efd),
		  errno, EINVAL, "datamatch wider than len -> EINVAL");
	tap_errno(ioev(vm_fd, MMIO_BASE, 4, 0, 0, -1), errno, EBADF,
		  "fd -1 -> EBADF");
	tap_errno(ioev(vm_fd, MMIO_BASE, 4, 0, 0, other_vm_fd), errno, EINVAL,
		  "fd not an eventfd -> EINVAL");
	tap_errno(ioev(vm_fd, 0xffff, 1, LV_IOEVENTFD_PIO, 0, efd), errno, 0,
		  "port 0xffff len 1 is accepted");
	tap_errno(ioev(vm_fd, 0xffff, 1, LV_IOEVENTFD_PIO | LV_IOEVENTFD_DEASSIGN,
		       0, efd), errno, 0, "... and deassigned");
	tap_errno(ioev(vm_fd, (1ULL << 48) - 8, 8, 0, 0, efd), errno, 0,
		  "MMIO ending at 2^48 is accepted");
	tap_errno(ioev(vm_fd, (1ULL << 48) - 8, 8, LV_IOEVENTFD_DEASSIGN, 0, efd),
		  errno, 0, "... and deassigned");
}

static void test_collisions(int vm_fd, int efd, int efd2)
{
	const uint32_t pio = LV_IOEVENTFD_PIO, dm = LV_IOEVENTFD_DATAMATCH;
	const uint32_t de = LV_IOEVENTFD_DEASSIGN;

	tap_errno(ioev(vm_fd, MMIO_BASE, 4, 0, 0, efd), errno, 0,
		  "MMIO len 4 assigned");
	tap_errno(ioev(vm_fd, MMIO_BASE, 4, 0, 0, efd), errno, EEXIST,
		  "the same again -> EEXIST");
	tap_errno(ioev(vm_fd, MMIO_BASE, 4, 0, 0, efd2), errno, EEXIST,
		  "same address and len, another eventfd -> EEXIST");
	tap_errno(ioev(vm_fd, MMIO_BASE, 0, 0, 0, efd2), errno, EEXIST,
		  "same address, any len -> EEXIST");
	tap_errno(ioev(vm_fd, MMIO_BASE, 4, dm, 7, efd2), errno, EEXIST,
		  "same address and len with a datamatch -> EEXIST");
	tap_errno(ioev(vm_fd, MMIO_BASE, 2, 0, 0, efd2), errno, 0,
		  "same address, len 2: another write, accepted");

	tap_errno(ioev(vm_fd, 0x600, 2, pio | dm, 1, efd), errno, 0,
		  "port datamatch 1 assigned");
	tap_errno(ioev(vm_fd, 0x600, 2, pio | dm, 2, efd2), errno, 0,
		  "port datamatch 2 at the same port accepted");
	tap_errno(ioev(vm_fd, 0x600, 2, pio | dm, 1, efd2), errno, EEXIST,
		  "datamatch 1 again -> EEXIST");
	tap_errno(ioev(vm_fd, 0x600, 2, pio, 0, efd2), errno, EEXIST,
		  "any value where datamatches exist -> EEXIST");
	tap_errno(ioev(vm_fd, 0x600, 2, 0, 0, efd2), errno, 0,
		  "MMIO at the port's number: another bus, accepted");

	tap_errno(ioev(vm_fd, 0x601, 2, pio | de, 0, efd), errno, ENOENT,
		  "deassign of an unknown port -> ENOENT");
	tap_errno(ioev(vm_fd, 0x600, 2, pio | dm | de, 3, efd), errno, ENOENT,
		  "deassign with another datamatch -> ENOENT");
	tap_errno(ioev(vm_fd, 0x600, 2, pio | de, 0, efd), errno, ENOENT,
		  "deassign without the datamatch flag -> ENOENT");
	tap_errno(ioev(vm_fd, 0x600, 1, pio | dm | de, 1, efd), errno, ENOENT,
		  "deassign with another len -> ENOENT");
	tap_errno(ioev(vm_fd, 0x600, 2, pio | dm | de, 1, efd2), errno, ENOENT,
		  "deassign with another eventfd -> ENOENT");
	tap_errno(ioev(vm_fd, 0x600, 2, dm | de, 1, efd), errno, ENOENT,
		  "deassign on the MMIO bus -> ENOENT");
	tap_errno(ioev(vm_fd, 0x600, 2, pio | dm | de, 1, efd), errno, 0,
		  "deassign of port datamatch 1");
	tap_errno(ioev(vm_fd, 0x600, 2, pio | dm | de, 1, efd), errno, ENOENT,
		  "... twice -> ENOENT");
	tap_errno(ioev(vm_fd, 0x600, 2, pio | dm, 1, efd2), errno, 0,
		  "datamatch 1 can be assigned again");
}

static void test_limit(int sys_fd, int efd)
{
	struct ivm m;
	int i, ret = 0;

	ivm_create(sys_fd, &m, false);
	for (i = 0; i < LV_MAX_IOEVENTFDS && !ret; i++)
		ret = ioev(m.vm.fd, MMIO_BASE + 8 * i, 4, 0, 0, efd);
	tap_result(!ret, "%d ioeventfds assigned (failed at %d: %s)",
		   LV_MAX_IOEVENTFDS, i, ret ? strerror(errno) : "-");
	tap_errno(ioev(m.vm.fd, 0x700, 1, LV_IOEVENTFD_PIO, 0, efd), errno,
		  ENOSPC, "one more (on either bus) -> ENOSPC");
	tap_errno(ioev(m.vm.fd, MMIO_BASE, 4, LV_IOEVENTFD_DEASSIGN, 0, efd),
		  errno, 0, "deassign one");
	tap_errno(ioev(m.vm.fd, 0x700, 1, LV_IOEVENTFD_PIO, 0, efd), errno, 0,
		  "then there is room for one");
	ivm_destroy(&m);
}

static void test_errors(int sys_fd)
{
	int efd = new_eventfd(), efd2 = new_eventfd();
	struct ivm m;

	tap_eq(LV_MAX_IOEVENTFDS, check_cap(sys_fd, LV_CAP_IOEVENTFD),
	       "LV_CHECK_CAP(LV_CAP_IOEVENTFD) is LV_MAX_IOEVENTFDS");
	ivm_create(sys_fd, &m, false);
	test_bad_args(m.vm.fd, efd);
	test_collisions(m.vm.fd, efd, efd2);
	ivm_destroy(&m);
	test_limit(sys_fd, efd);
	close(efd);
	close(efd2);
}

static long stat_signals(void)
{
	return read_stat("/sys/kernel/debug/lightvisor/stats",
			 "ioeventfd_signals");
}

static void test_mmio(int sys_fd)
{
	int efd = new_eventfd();
	long before = stat_signals(), after;
	struct ivm m;

	ivm_create(sys_fd, &m, true);
	if (ioev(m.vm.fd, MMIO_BASE + 0x10, 4, 0, 0, efd))
		die("LV_IOEVENTFD");
	START(&m, ioev_store32, .bx = 0x11223344, .cx = 10, .si = MMIO_SEG,
	      .di = 0x10);
	expect_hlt(&m, "10 MMIO writes: no exit before HLT");
	tap_eq(0, ivm_reg(&m, 'c'), "the loop ran to its end (CX 0)");
	tap_eq(10, efd_take(efd), "the eventfd counted 10 MMIO writes");
	after = stat_signals();
	if (before < 0 || after < 0)
		tap_skip("stats count the signals", "no debugfs stats file");
	else
		tap_result(after - before >= 10,
			   "stats ioeventfd_signals grew by 10 or more (%ld)",
			   after - before);

	/* Width: a 2-byte write at the 4-byte address goes to userspace. */
	START(&m, ioev_store16, .bx = 0xabcd, .si = MMIO_SEG, .di = 0x10);
	expect_mmio(&m, MMIO_BASE + 0x10, 2, true, 0xabcd,
		    "a 2-byte write to a 4-byte ioeventfd exits");
	expect_hlt(&m, "the 2-byte write completes");
	/* Reads never match. */
	START(&m, ioev_load32, .si = MMIO_SEG, .di = 0x10);
	expect_mmio(&m, MMIO_BASE + 0x10, 4, false, 0,
		    "a read of the ioeventfd's address exits");
	expect_hlt(&m, "the read completes");
	/* Another address of the same page. */
	START(&m, ioev_store32, .bx = 1, .cx = 1, .si = MMIO_SEG, .di = 0x14);
	expect_mmio(&m, MMIO_BASE + 0x14, 4, true, 1,
		    "a write 4 bytes further exits");
	expect_hlt(&m, "... and completes");
	tap_eq(0, efd_take(efd), "none of those signalled");

	tap_errno(ioev(m.vm.fd, MMIO_BASE + 0x10, 4, LV_IOEVENTFD_DEASSIGN, 0,
		       efd), errno, 0, "deassign the MMIO ioeventfd");
	START(&m, ioev_store32, .bx = 2, .cx = 1, .si = MMIO_SEG, .di = 0x10);
	expect_mmio(&m, MMIO_BASE + 0x10, 4, true, 2,
		    "after deassign the write exits again");
	expect_hlt(&m, "... and completes");
	tap_eq(0, efd_take(efd), "a deassigned ioeventfd is not signalled");
	ivm_destroy(&m);
	close(efd);
}

static void test_pio(int sys_fd)
{
	int efd = new_eventfd();
	struct ivm m;
	int r, items = 0;

	ivm_create(sys_fd, &m, true);
	if (ioev(m.vm.fd, PORT, 2, LV_IOEVENTFD_PIO, 0, efd))
		die("LV_IOEVENTFD");
	START(&m, ioev_outw, .ax = 0x55, .cx = 10, .dx = PORT);
	expect_hlt(&m, "10 OUTs: no exit before HLT");
	tap_eq(0, ivm_reg(&m, 'c'), "the loop ran to its end (CX 0)");
	tap_eq(10, efd_take(efd), "the eventfd counted 10 OUTs");

	START(&m, ioev_outb, .ax = 7, .dx = PORT);
	expect_out(&m, PORT, 1, 7, "a 1-byte OUT to a 2-byte ioeventfd exits");
	expect_hlt(&m, "the 1-byte OUT completes");

	START(&m, ioev_inw, .dx = PORT);
	r = ivm_run(&m);
	tap_result(r == LV_EXIT_IO && m.vcpu.run->io.direction == LV_EXIT_IO_IN &&
		   m.vcpu.run->io.port == PORT,
		   "an IN from the ioeventfd's port exits (%s)",
		   r < 0 ? strerror(errno) : exit_reason_name(r));
	if (r == LV_EXIT_IO)
		memcpy((uint8_t *)m.vcpu.run + m.vcpu.run->io.data_offset,
		       "\xef\xbe", 2);
	expect_hlt(&m, "the IN completes");
	tap_eq(0xbeef, ivm_reg(&m, 'a') & 0xffff, "the IN got userspace's value");

	/* String OUTS is left to userspace, items and all. */
	memcpy(m.vm.mem + 0x3000, "\x01\x00\x02\x00\x03\x00\x04\x00", 8);
	START(&m, ioev_rep_outsw, .cx = 4, .dx = PORT, .si = 0x3000);
	while ((r = ivm_run(&m)) == LV_EXIT_IO && m.vcpu.run->io.port == PORT)
		items += m.vcpu.run->io.count;
	tap_result(r == LV_EXIT_HLT && items == 4,
		   "REP OUTSW to the port exits with all 4 items (%d, then %s)",
		   items, r < 0 ? strerror(errno) : exit_reason_name(r));
	tap_eq(0, efd_take(efd), "none of those signalled");

	tap_errno(ioev(m.vm.fd, PORT, 2, LV_IOEVENTFD_PIO | LV_IOEVENTFD_DEASSIGN,
		       0, efd), errno, 0, "deassign the port ioeventfd");
	START(&m, ioev_outw, .ax = 9, .cx = 1, .dx = PORT);
	expect_out(&m, PORT, 2, 9, "after deassign the OUT exits again");
	expect_hlt(&m, "... and completes");
	tap_eq(0, efd_take(efd), "a deassigned ioeventfd is not signalled");
	ivm_destroy(&m);
	close(efd);
}

static void test_datamatch(int sys_fd)
{
	const uint32_t dm = LV_IOEVENTFD_DATAMATCH;
	int efd = new_eventfd();
	struct ivm m;

	ivm_create(sys_fd, &m, true);
	if (ioev(m.vm.fd, PORT + 2, 2, LV_IOEVENTFD_PIO | dm, 0x1234, efd) ||
	    ioev(m.vm.fd, MMIO_BASE + 0x20, 4, dm, 0xcafef00d, efd))
		die("LV_IOEVENTFD");

	START(&m, ioev_outw, .ax = 0x1234, .cx = 3, .dx = PORT + 2);
	expect_hlt(&m, "3 OUTs of the datamatch: no exit");
	tap_eq(3, efd_take(efd), "the eventfd counted 3");
	START(&m, ioev_outw, .ax = 0x4321, .cx = 1, .dx = PORT + 2);
	expect_out(&m, PORT + 2, 2, 0x4321,
		   "an OUT of another value exits with that value");
	expect_hlt(&m, "... and completes");

	START(&m, ioev_store32, .bx = 0xcafef00d, .cx = 2, .si = MMIO_SEG,
	      .di = 0x20);
	expect_hlt(&m, "2 MMIO writes of the datamatch: no exit");
	tap_eq(2, efd_take(efd), "the eventfd counted 2");
	START(&m, ioev_store32, .bx = 0xdeadbeef, .cx = 1, .si = MMIO_SEG,
	      .di = 0x20);
	expect_mmio(&m, MMIO_BASE + 0x20, 4, true, 0xdeadbeef,
		    "an MMIO write of another value exits with that value");
	expect_hlt(&m, "... and completes");
	tap_eq(0, efd_take(efd), "other values did not signal");
	ivm_destroy(&m);
	close(efd);
}

static void test_any_len(int sys_fd)
{
	int efd = new_eventfd();
	struct ivm m;

	ivm_create(sys_fd, &m, true);
	if (ioev(m.vm.fd, MMIO_BASE + 0x30, 0, 0, 0, efd) ||
	    ioev(m.vm.fd, PORT + 4, 0, LV_IOEVENTFD_PIO, 0, efd))
		die("LV_IOEVENTFD");
	START(&m, ioev_store16, .bx = 1, .si = MMIO_SEG, .di = 0x30);
	expect_hlt(&m, "len 0: a 2-byte MMIO write does not exit");
	START(&m, ioev_store32, .bx = 1, .cx = 1, .si = MMIO_SEG, .di = 0x30);
	expect_hlt(&m, "len 0: a 4-byte MMIO write does not exit");
	START(&m, ioev_outb, .ax = 1, .dx = PORT + 4);
	expect_hlt(&m, "len 0: a 1-byte OUT does not exit");
	START(&m, ioev_outw, .ax = 1, .cx = 1, .dx = PORT + 4);
	expect_hlt(&m, "len 0: a 2-byte OUT does not exit");
	tap_eq(4, efd_take(efd), "len 0 matched all 4 widths");
	ivm_destroy(&m);
	close(efd);
}

/* One VM's ioeventfds are not another's. */
static void test_two_vms(int sys_fd)
{
	int efd = new_eventfd(), efd2 = new_eventfd();
	struct ivm a, b;

	ivm_create(sys_fd, &a, true);
	ivm_create(sys_fd, &b, true);
	if (ioev(a.vm.fd, PORT, 2, LV_IOEVENTFD_PIO, 0, efd) ||
	    ioev(a.vm.fd, MMIO_BASE, 4, 0, 0, efd))
		die("LV_IOEVENTFD");
	START(&b, ioev_outw, .ax = 3, .cx = 1, .dx = PORT);
	expect_out(&b, PORT, 2, 3, "VM B's OUT to VM A's ioeventfd port exits");
	expect_hlt(&b, "... and completes");
	START(&b, ioev_store32, .bx = 4, .cx = 1, .si = MMIO_SEG, .di = 0);
	expect_mmio(&b, MMIO_BASE, 4, true, 4,
		    "VM B's write to VM A's ioeventfd address exits");
	expect_hlt(&b, "... and completes");
	tap_eq(0, efd_take(efd), "VM A's eventfd saw nothing of VM B");
	tap_errno(ioev(b.vm.fd, PORT, 2, LV_IOEVENTFD_PIO, 0, efd2), errno, 0,
		  "VM B may use the same port");
	START(&b, ioev_outw, .ax = 3, .cx = 2, .dx = PORT);
	expect_hlt(&b, "VM B's own ioeventfd takes its OUTs");
	tap_eq(2, efd_take(efd2), "VM B's eventfd counted 2");
	tap_eq(0, efd_take(efd), "VM A's still nothing");
	ivm_destroy(&a);
	ivm_destroy(&b);
	close(efd);
	close(efd2);
}

/*
 * The VM holds its own reference: a guest write still signals after the
 * caller closed its eventfd fd, and closing the VM with ioeventfds left
 * (eventfd open or not) drops every reference (kmemleak sees the rest).
 */
static void test_close(int sys_fd)
{
	int efd = new_eventfd(), gone = new_eventfd(), dup_fd;
	uint64_t one = 1;
	struct ivm m;

	ivm_create(sys_fd, &m, true);
	dup_fd = dup(gone);
	if (dup_fd < 0 ||
	    ioev(m.vm.fd, PORT, 2, LV_IOEVENTFD_PIO, 0, efd) ||
	    ioev(m.vm.fd, MMIO_BASE, 4, 0, 0, efd) ||
	    ioev(m.vm.fd, PORT + 2, 2, LV_IOEVENTFD_PIO, 0, gone))
		die("LV_IOEVENTFD");
	close(gone);
	START(&m, ioev_outw, .ax = 1, .cx = 5, .dx = PORT + 2);
	expect_hlt(&m, "OUTs to an ioeventfd whose fd was closed stay in the kernel");
	tap_eq(5, efd_take(dup_fd), "... and reach the eventfd");
	close(dup_fd);
	START(&m, ioev_outw, .ax = 1, .cx = 1, .dx = PORT + 2);
	expect_hlt(&m, "the last fd of that eventfd closed: the VM's reference keeps it");
	ivm_destroy(&m);

	tap_errno(write(efd, &one, sizeof(one)), errno, 0,
		  "the eventfd works after its VM closed");
	tap_eq(1, efd_take(efd), "... and counts only that write");
	close(efd);
}

struct race {
	struct ivm *m;
	int mmio_exits, pio_exits;
	bool done;	/* __atomic: set by the vCPU thread */
	bool error;
};

static void *race_vcpu(void *arg)
{
	struct race *rc = arg;
	int r;

	for (;;) {
		r = ivm_run(rc->m);
		if (r == LV_EXIT_MMIO && rc->m->vcpu.run->mmio.is_write &&
		    rc->m->vcpu.run->mmio.phys_addr == MMIO_BASE + 0x40) {
			rc->mmio_exits++;
		} else if (r == LV_EXIT_IO && rc->m->vcpu.run->io.port == PORT &&
			   rc->m->vcpu.run->io.direction == LV_EXIT_IO_OUT) {
			rc->pio_exits++;
		} else {
			rc->error = r != LV_EXIT_HLT;
			if (rc->error)
				tap_diag("race vCPU: exit %s", r < 0 ?
					 strerror(errno) : exit_reason_name(r));
			break;
		}
	}
	__atomic_store_n(&rc->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* One of the race's two ioeventfds. */
struct race_fd {
	uint64_t addr;
	uint32_t flags;		/* LV_IOEVENTFD_PIO or 0 */
	int efd;
	bool assigned;
	uint64_t signalled;
};

static void race_assign(int vm_fd, struct race_fd *f, bool assign)
{
	if (ioev(vm_fd, f->addr, f->addr == PORT ? 2 : 4,
		 f->flags | (assign ? 0 : LV_IOEVENTFD_DEASSIGN), 0, f->efd))
		die("LV_IOEVENTFD in the race");
	f->assigned = assign;
}

/*
 * Flip @f: an assigned one is deassigned once it has been signalled (or
 * the vCPU is done), so each assigned period sees writes and each
 * deassign unlinks an entry the vCPU is hitting.
 */
static void race_flip(int vm_fd, struct race_fd *f, struct race *rc)
{
	struct pollfd p = { .fd = f->efd, .events = POLLIN };

	if (f->assigned) {
		while (!__atomic_load_n(&rc->done, __ATOMIC_ACQUIRE) &&
		       poll(&p, 1, 10) == 0)
			;
		f->signalled += efd_take(f->efd);
	}
	race_assign(vm_fd, f, !f->assigned);
}

/*
 * A vCPU writes a port and an MMIO address while this thread assigns and
 * deassigns their ioeventfds: every write is counted by the eventfd or
 * exits, exactly once (KASAN watches the entries the exit path reads
 * while they are freed). Both start assigned and are deassigned only
 * after a signal, so both paths are taken.
 */
static void test_race(int sys_fd)
{
	struct race_fd fds[2] = {
		{ .addr = MMIO_BASE + 0x40, .efd = new_eventfd() },
		{ .addr = PORT, .flags = LV_IOEVENTFD_PIO, .efd = new_eventfd() },
	};
	struct race rc = {};
	unsigned int toggles = 0, i;
	pthread_t t;
	struct ivm m;

	ivm_create(sys_fd, &m, true);
	rc.m = &m;
	START(&m, ioev_mixed, .ax = 1, .bx = 2, .cx = RACE_WRITES, .dx = PORT,
	      .bp = MMIO_SEG, .di = 0x40);
	for (i = 0; i < 2; i++)
		race_assign(m.vm.fd, &fds[i], true);
	if (pthread_create(&t, NULL, race_vcpu, &rc))
		die("pthread_create");
	while (!__atomic_load_n(&rc.done, __ATOMIC_ACQUIRE))
		race_flip(m.vm.fd, &fds[toggles++ % 2], &rc);
	pthread_join(t, NULL);
	for (i = 0; i < 2; i++)
		fds[i].signalled += efd_take(fds[i].efd);
	tap_diag("race: %u toggles; MMIO %llu signalled, %d exits; port %llu, %d",
		 toggles, (unsigned long long)fds[0].signalled, rc.mmio_exits,
		 (unsigned long long)fds[1].signalled, rc.pio_exits);
	tap_result(!rc.error, "the racing vCPU ended in HLT");
	tap_result(fds[0].signalled && fds[1].signalled,
		   "both ioeventfds were signalled during the race");
	tap_eq(RACE_WRITES, fds[0].signalled + rc.mmio_exits,
	       "every MMIO write was signalled or exited, once");
	tap_eq(RACE_WRITES, fds[1].signalled + rc.pio_exits,
	       "every OUT was signalled or exited, once");
	ivm_destroy(&m);
	close(fds[0].efd);
	close(fds[1].efd);
}

/* --- LV_IRQ_STATUS ------------------------------------------------------ */

#define STATUS_GPA	(MMIO_BASE + 0x60)
#define ACK_GPA		(MMIO_BASE + 0x64)

static int irq_status(int vm_fd, uint64_t status_gpa, uint64_t ack_gpa,
		      const void *word, uint32_t flags)
{
	struct lv_irq_status a = {
		.status_gpa = status_gpa, .ack_gpa = ack_gpa,
		.word = (uintptr_t)word, .flags = flags,
	};

	return ioctl(vm_fd, LV_IRQ_STATUS, &a);
}

static void test_irq_status_errors(int sys_fd)
{
	struct lv_irq_status pad = { .status_gpa = STATUS_GPA,
				     .ack_gpa = ACK_GPA, .padding = 1 };
	const uint32_t de = LV_IRQ_STATUS_DEASSIGN;
	static uint32_t words[2];
	uint32_t *w = &words[0];
	struct ivm m;
	int i, ret = 0;

	tap_eq(LV_MAX_IRQ_STATUS, check_cap(sys_fd, LV_CAP_IRQ_STATUS),
	       "LV_CHECK_CAP(LV_CAP_IRQ_STATUS) is LV_MAX_IRQ_STATUS");
	ivm_create(sys_fd, &m, false);
	pad.word = (uintptr_t)w;
	tap_errno(ioctl(m.vm.fd, LV_IRQ_STATUS, BAD_PTR), errno, EFAULT,
		  "irq status: bad pointer -> EFAULT");
	tap_errno(ioctl(m.vm.fd, LV_IRQ_STATUS, &pad), errno, EINVAL,
		  "irq status: padding not 0 -> EINVAL");
	tap_errno(irq_status(m.vm.fd, STATUS_GPA, ACK_GPA, w, 1U << 1), errno,
		  EINVAL, "irq status: unknown flag -> EINVAL");
	tap_errno(irq_status(m.vm.fd, STATUS_GPA + 2, ACK_GPA, w, 0), errno,
		  EINVAL, "irq status: status register not 4-byte aligned -> EINVAL");
	tap_errno(irq_status(m.vm.fd, STATUS_GPA, ACK_GPA + 1, w, 0), errno,
		  EINVAL, "irq status: ack register not 4-byte aligned -> EINVAL");
	tap_errno(irq_status(m.vm.fd, STATUS_GPA, STATUS_GPA, w, 0), errno,
		  EINVAL, "irq status: one address for both registers -> EINVAL");
	tap_errno(irq_status(m.vm.fd, 1ULL << 48, ACK_GPA, w, 0), errno,
		  EINVAL, "irq status: at the guest-physical limit 2^48 -> EINVAL");
	tap_errno(irq_status(m.vm.fd, STATUS_GPA, ACK_GPA,
			     (const uint8_t *)w + 2, 0), errno, EINVAL,
		  "irq status: word not 4-byte aligned -> EINVAL");
	tap_errno(irq_status(m.vm.fd, STATUS_GPA, ACK_GPA,
			     (const void *)0xffffffff81000000UL, 0), errno, EFAULT,
		  "irq status: word at a kernel address -> EFAULT");
	tap_errno(irq_status(m.vm.fd, STATUS_GPA, 0, w, de), errno, ENOENT,
		  "irq status: deassign of none -> ENOENT");
	tap_errno(irq_status(m.vm.fd, STATUS_GPA, ACK_GPA, w, 0), errno, 0,
		  "irq status: assigned");
	tap_errno(irq_status(m.vm.fd, STATUS_GPA, ACK_GPA + 8, &words[1], 0),
		  errno, EEXIST, "irq status: its status register again -> EEXIST");
	tap_errno(irq_status(m.vm.fd, ACK_GPA, ACK_GPA + 8, &words[1], 0),
		  errno, EEXIST,
		  "irq status: a status register on its ack register -> EEXIST");
	tap_errno(irq_status(m.vm.fd, STATUS_GPA, 0, NULL, de), errno, 0,
		  "irq status: deassigned by its status register alone");
	tap_errno(irq_status(m.vm.fd, STATUS_GPA, 0, NULL, de), errno, ENOENT,
		  "irq status: ... twice -> ENOENT");
	for (i = 0; i < LV_MAX_IRQ_STATUS && !ret; i++)
		ret = irq_status(m.vm.fd, MMIO_BASE + 8 * i, MMIO_BASE + 8 * i + 4,
				 w, 0);
	tap_result(!ret, "irq status: %d assigned (failed at %d: %s)",
		   LV_MAX_IRQ_STATUS, i, ret ? strerror(errno) : "-");
	tap_errno(irq_status(m.vm.fd, 0x100000, 0x100004, w, 0), errno, ENOSPC,
		  "irq status: one more -> ENOSPC");
	ivm_destroy(&m);
}

static long stat_irq_status(void)
{
	return read_stat("/sys/kernel/debug/lightvisor/stats",
			 "irq_status_accesses");
}

static void test_irq_status(int sys_fd)
{
	long before = stat_irq_status(), after;
	static _Atomic uint32_t word;
	uint32_t *gone;
	struct ivm m;

	ivm_create(sys_fd, &m, true);
	if (irq_status(m.vm.fd, STATUS_GPA, ACK_GPA, (const void *)&word, 0))
		die("LV_IRQ_STATUS");
	word = 0x5;
	START(&m, ioev_load32, .si = MMIO_SEG, .di = 0x60);
	expect_hlt(&m, "irq status: a 4-byte status read: no exit before HLT");
	tap_eq(0x5, ivm_reg(&m, 'a'), "irq status: the guest read the word (5)");
	START(&m, ioev_store32, .bx = 0x4, .cx = 1, .si = MMIO_SEG, .di = 0x64);
	expect_hlt(&m, "irq status: a 4-byte ack write: no exit before HLT");
	tap_eq(0x1, word, "irq status: the ack of 4 cleared bit 2 of the word only");
	after = stat_irq_status();
	if (before < 0 || after < 0)
		tap_skip("stats count the accesses", "no debugfs stats file");
	else
		tap_result(after - before == 2,
			   "irq status: stats irq_status_accesses grew by 2 (%ld)",
			   after - before);

	/* Other widths and addresses are userspace's. */
	START(&m, ioev_store16, .bx = 0x1, .si = MMIO_SEG, .di = 0x64);
	expect_mmio(&m, ACK_GPA, 2, true, 0x1,
		    "irq status: a 2-byte ack write exits");
	expect_hlt(&m, "irq status: ... and completes");
	tap_eq(0x1, word, "irq status: ... leaving the word as it was");
	START(&m, ioev_store32, .bx = 0x1, .cx = 1, .si = MMIO_SEG, .di = 0x60);
	expect_mmio(&m, STATUS_GPA, 4, true, 0x1,
		    "irq status: a write to the status register exits");
	expect_hlt(&m, "irq status: ... and completes");
	START(&m, ioev_load32, .si = MMIO_SEG, .di = 0x64);
	expect_mmio(&m, ACK_GPA, 4, false, 0,
		    "irq status: a read of the ack register exits");
	expect_hlt(&m, "irq status: ... and completes");

	/* A word that is gone: the device's emulation answers. */
	gone = alloc_anon(4096);
	if (irq_status(m.vm.fd, STATUS_GPA, 0, NULL, LV_IRQ_STATUS_DEASSIGN) ||
	    irq_status(m.vm.fd, STATUS_GPA, ACK_GPA, gone, 0))
		die("LV_IRQ_STATUS");
	munmap(gone, 4096);
	START(&m, ioev_load32, .si = MMIO_SEG, .di = 0x60);
	expect_mmio(&m, STATUS_GPA, 4, false, 0,
		    "irq status: a read of an unmapped word exits");
	expect_hlt(&m, "irq status: ... and completes");
	START(&m, ioev_store32, .bx = 0x1, .cx = 1, .si = MMIO_SEG, .di = 0x64);
	expect_mmio(&m, ACK_GPA, 4, true, 0x1,
		    "irq status: an ack of an unmapped word exits");
	expect_hlt(&m, "irq status: ... and completes");

	tap_errno(irq_status(m.vm.fd, STATUS_GPA, 0, NULL, LV_IRQ_STATUS_DEASSIGN),
		  errno, 0, "irq status: deassigned");
	START(&m, ioev_load32, .si = MMIO_SEG, .di = 0x60);
	expect_mmio(&m, STATUS_GPA, 4, false, 0,
		    "irq status: after deassign the read exits again");
	expect_hlt(&m, "irq status: ... and completes");
	ivm_destroy(&m);
}

int main(void)
{
	int sys_fd = open_sys();

	test_errors(sys_fd);
	test_irq_status_errors(sys_fd);
	if (check_cap(sys_fd, LV_CAP_RUN_GUESTS) <= 0) {
		tap_skip("guests writing to ioeventfds", "no VMX");
		return tap_finish();
	}
	test_mmio(sys_fd);
	test_pio(sys_fd);
	test_datamatch(sys_fd);
	test_any_len(sys_fd);
	test_two_vms(sys_fd);
	test_close(sys_fd);
	test_race(sys_fd);
	test_irq_status(sys_fd);
	return tap_finish();
}
