// SPDX-License-Identifier: GPL-2.0
/*
 * abi_pool: VMs created unbound (LV_VM_UNBOUND) and handed to another
 * process, as lvd does. The creator prepares a VM and a vCPU, passes
 * their fds over a UNIX socket; the receiver binds the VM with
 * LV_BIND_VM, adds its own memory and runs a guest, while the creator,
 * which still holds the fds, gets EIO for everything. Before binding,
 * whatever needs memory or delivers events fails with EBADFD; an unbound
 * VM that is never bound, and a bound one whose owner died, leave nothing
 * behind once the last fd closes.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

#define STATS	"/sys/kernel/debug/lightvisor/stats"
#define PAGE	4096

static int sys_fd;

/* Sends @n fds and one byte of @tag over @sock. */
static void send_fds(int sock, const int *fds, int n, char tag)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 4)];
	struct iovec iov = { .iov_base = &tag, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = CMSG_SPACE(sizeof(int) * n),
	};
	struct cmsghdr *c;

	memset(cbuf, 0, sizeof(cbuf));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	if (sendmsg(sock, &msg, 0) != 1)
		die("sendmsg");
}

/* Receives up to @n fds; returns how many came, or -1. */
static int recv_fds(int sock, int *fds, int n)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 4)];
	char tag;
	struct iovec iov = { .iov_base = &tag, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	int got;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	got = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
	if (got > n)
		return -1;
	memcpy(fds, CMSG_DATA(c), sizeof(int) * got);
	return got;
}

static void send_byte(int sock, char c)
{
	if (write(sock, &c, 1) != 1)
		die("write to the socket");
}

static char recv_byte(int sock)
{
	char c = 0;

	if (read(sock, &c, 1) != 1)
		return 0;
	return c;
}

static long stat_now(const char *key)
{
	return read_stat(STATS, key);
}

static void test_flags(void)
{
	int fd;

	tap_result(check_cap(sys_fd, LV_CAP_VM_UNBOUND) > 0,
		   "LV_CHECK_CAP(LV_CAP_VM_UNBOUND) is present");
	tap_errno(ioctl(sys_fd, LV_CREATE_VM, 2), errno, EINVAL,
		  "LV_CREATE_VM with an unknown flag -> EINVAL");
	tap_errno(ioctl(sys_fd, LV_CREATE_VM, LV_VM_UNBOUND | 2), errno, EINVAL,
		  "LV_CREATE_VM with LV_VM_UNBOUND and an unknown flag -> EINVAL");
	fd = ioctl(sys_fd, LV_CREATE_VM, 0);
	if (fd < 0)
		die("LV_CREATE_VM");
	tap_errno(ioctl(fd, LV_BIND_VM, 0), errno, EINVAL,
		  "LV_BIND_VM on a VM created bound -> EINVAL");
	close(fd);
}

/* Everything that needs memory or delivers events, on an unbound VM. */
static void test_unbound_refusals(int vm_fd, int vcpu_fd)
{
	struct lv_memory_region r = {
		.slot = 0, .memory_size = PAGE,
		.userspace_addr = (uintptr_t)alloc_anon(PAGE),
	};
	struct lv_dirty_log log = { .slot = 0 };
	struct lv_irq_level line = { .line = 4, .level = 1 };
	struct lv_interrupt irq = { .vector = 0x40 };
	struct lv_ioeventfd io = { .addr = 0x10, .len = 1,
				   .flags = LV_IOEVENTFD_PIO };
	struct lv_irqfd irqfd = { .line = 4 };
	struct lv_regs regs;
	void *p;

	io.fd = eventfd(0, EFD_CLOEXEC);
	irqfd.fd = io.fd;
	tap_errno(ioctl(vm_fd, LV_SET_MEMORY_REGION, &r), errno, EBADFD,
		  "unbound: LV_SET_MEMORY_REGION -> EBADFD");
	tap_errno(ioctl(vm_fd, LV_GET_DIRTY_LOG, &log), errno, EBADFD,
		  "unbound: LV_GET_DIRTY_LOG -> EBADFD");
	tap_errno(ioctl(vm_fd, LV_IRQ_LINE, &line), errno, EBADFD,
		  "unbound: LV_IRQ_LINE -> EBADFD");
	tap_errno(ioctl(vm_fd, LV_IOEVENTFD, &io), errno, EBADFD,
		  "unbound: LV_IOEVENTFD -> EBADFD");
	tap_errno(ioctl(vm_fd, LV_IRQFD, &irqfd), errno, EBADFD,
		  "unbound: LV_IRQFD -> EBADFD");
	tap_errno(ioctl(vm_fd, LV_BIND_VM, 1), errno, EINVAL,
		  "LV_BIND_VM with a non-zero argument -> EINVAL");
	tap_errno(ioctl(vm_fd, _IO(LVIO, 0x7f), 0), errno, EBADFD,
		  "unbound: an unknown lightvisor ioctl -> EBADFD");
	tap_errno(ioctl(vcpu_fd, LV_RUN, 0), errno, EBADFD,
		  "unbound: LV_RUN -> EBADFD");
	tap_errno(ioctl(vcpu_fd, LV_INTERRUPT, &irq), errno, EBADFD,
		  "unbound: LV_INTERRUPT -> EBADFD");
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd, 0);
	tap_errno(p == MAP_FAILED ? -1 : 0, errno, EBADFD,
		  "unbound: mmap() of the run page -> EBADFD");
	tap_errno(ioctl(vcpu_fd, LV_GET_REGS, &regs), errno, 0,
		  "unbound: LV_GET_REGS works");
	tap_errno(ioctl(vcpu_fd, LV_SET_REGS, &regs), errno, 0,
		  "unbound: LV_SET_REGS works");
	close(io.fd);
}

/* The creator, after the receiver bound the VM: nothing works any more. */
static void test_creator_locked_out(int vm_fd, int vcpu_fd)
{
	uint8_t *mem = alloc_anon(GUEST_MEM_SIZE);
	struct lv_memory_region r = {
		.slot = 1, .guest_phys_addr = 0x200000,
		.memory_size = GUEST_MEM_SIZE, .userspace_addr = (uintptr_t)mem,
	};
	struct lv_interrupt irq = { .vector = 0x40 };
	struct lv_regs regs;
	void *p;

	tap_errno(ioctl(vm_fd, LV_SET_MEMORY_REGION, &r), errno, EIO,
		  "creator after the handover: LV_SET_MEMORY_REGION -> EIO");
	tap_errno(ioctl(vm_fd, LV_BIND_VM, 0), errno, EIO,
		  "creator after the handover: LV_BIND_VM -> EIO");
	tap_errno(ioctl(vm_fd, LV_CREATE_VCPU, 1), errno, EIO,
		  "creator after the handover: LV_CREATE_VCPU -> EIO");
	tap_errno(ioctl(vcpu_fd, LV_RUN, 0), errno, EIO,
		  "creator after the handover: LV_RUN -> EIO");
	tap_errno(ioctl(vcpu_fd, LV_GET_REGS, &regs), errno, EIO,
		  "creator after the handover: LV_GET_REGS -> EIO");
	tap_errno(ioctl(vcpu_fd, LV_INTERRUPT, &irq), errno, EIO,
		  "creator after the handover: LV_INTERRUPT -> EIO");
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd, 0);
	tap_errno(p == MAP_FAILED ? -1 : 0, errno, EIO,
		  "creator after the handover: mmap() of the run page -> EIO");
	munmap(mem, GUEST_MEM_SIZE);
}

/* Receiver's steps; the exit status names the first that failed. */
enum recv_step {
	RECV_OK, RECV_FDS, RECV_BIND, RECV_REBIND, RECV_GO, RECV_MEM,
	RECV_MMAP, RECV_RUN, RECV_EXITS,
};

static const char *const recv_step_name[] = {
	"ok", "receive the fds", "LV_BIND_VM", "a second LV_BIND_VM -> EALREADY",
	"wait for the creator", "LV_SET_MEMORY_REGION", "mmap() of the run page",
	"LV_RUN", "the guest's exits",
};

/* Port 0x10 gets 42, port 0x11 is read (we answer 7), 0x12 gets it back. */
static int run_io_hlt(struct test_vcpu *vcpu)
{
	struct lv_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool saw42 = false, echoed = false;

	for (;;) {
		if (vcpu_run(vcpu) < 0)
			return RECV_RUN;
		if (run->exit_reason == LV_EXIT_HLT)
			return saw42 && echoed ? RECV_OK : RECV_EXITS;
		if (run->exit_reason != LV_EXIT_IO)
			return RECV_EXITS;
		data = (uint8_t *)run + run->io.data_offset;
		if (run->io.port == 0x10)
			saw42 = *data == 42;
		else if (run->io.port == 0x11)
			*data = 7;
		else if (run->io.port == 0x12)
			echoed = *data == 7;
	}
}

static int receiver(int sock)
{
	struct test_vm vm = { 0 };
	struct test_vcpu vcpu = { 0 };
	int fds[2];

	if (recv_fds(sock, fds, 2) != 2)
		return RECV_FDS;
	vm.fd = fds[0];
	vcpu.fd = fds[1];
	if (ioctl(vm.fd, LV_BIND_VM, 0))
		return RECV_BIND;
	if (ioctl(vm.fd, LV_BIND_VM, 0) == 0 || errno != EALREADY)
		return RECV_REBIND;
	send_byte(sock, 'B');
	if (recv_byte(sock) != 'G')
		return RECV_GO;
	vm.mem_size = GUEST_MEM_SIZE;
	vm.mem = alloc_anon(vm.mem_size);
	{
		struct lv_memory_region r = {
			.memory_size = vm.mem_size,
			.userspace_addr = (uintptr_t)vm.mem,
		};

		if (ioctl(vm.fd, LV_SET_MEMORY_REGION, &r))
			return RECV_MEM;
	}
	vm_load(&vm, GUEST_CODE_GPA, guest_io_hlt, GUEST_LEN(guest_io_hlt));
	vcpu.run = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
			vcpu.fd, 0);
	if (vcpu.run == MAP_FAILED)
		return RECV_MMAP;
	vcpu_setup_realmode(&vcpu, GUEST_CODE_GPA);
	return run_io_hlt(&vcpu);
}

static int wait_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_handover(void)
{
	long vms0 = stat_now("vms"), vcpus0 = stat_now("vcpus");
	int sv[2], fds[2], code;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		die("socketpair");
	/* Forked before the VM exists: the fds travel only by the socket. */
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(sv[0]);
		_exit(receiver(sv[1]));
	}
	close(sv[1]);

	fds[0] = ioctl(sys_fd, LV_CREATE_VM, LV_VM_UNBOUND);
	if (fds[0] < 0)
		die("LV_CREATE_VM(LV_VM_UNBOUND)");
	fds[1] = ioctl(fds[0], LV_CREATE_VCPU, 0);
	tap_errno(fds[1], errno, 0, "unbound: LV_CREATE_VCPU works");
	if (fds[1] < 0)
		die("LV_CREATE_VCPU");
	test_unbound_refusals(fds[0], fds[1]);

	send_fds(sv[0], fds, 2, 'F');
	tap_result(recv_byte(sv[0]) == 'B',
		   "the receiver bound the VM (and a second bind -> EALREADY)");
	test_creator_locked_out(fds[0], fds[1]);
	send_byte(sv[0], 'G');
	code = wait_child(pid);
	tap_result(code == RECV_OK,
		   "the receiver added its memory and ran the guest to HLT (%s)",
		   code < (int)(sizeof(recv_step_name) / sizeof(recv_step_name[0])) ?
		   recv_step_name[code] : "killed");

	/* The owner is gone; the creator's fds keep the VM until closed. */
	tap_eq(vms0 + 1, stat_now("vms"), "the VM lives on in the creator's fds");
	close(fds[1]);
	close(fds[0]);
	close(sv[0]);
	tap_eq(vms0, stat_now("vms"), "closing them frees the VM");
	tap_eq(vcpus0, stat_now("vcpus"), "and its vCPU");
}

/* A VM prepared as lvd does and never bound: freed whole. */
static void test_never_bound(void)
{
	long vms0 = stat_now("vms"), vcpus0 = stat_now("vcpus");
	long slab0 = meminfo_kb("SUnreclaim"), slab1;
	int i, n, vm_fd, vcpu_fd[2];

	for (n = 0; n < 200; n++) {
		vm_fd = ioctl(sys_fd, LV_CREATE_VM, LV_VM_UNBOUND);
		if (vm_fd < 0)
			die("LV_CREATE_VM(LV_VM_UNBOUND)");
		if (ioctl(vm_fd, LV_CREATE_IRQCHIP, 0))
			die("LV_CREATE_IRQCHIP on an unbound VM");
		for (i = 0; i < 2; i++) {
			vcpu_fd[i] = ioctl(vm_fd, LV_CREATE_VCPU, i);
			if (vcpu_fd[i] < 0)
				die("LV_CREATE_VCPU on an unbound VM");
		}
		if (n == 0)
			tap_eq(vms0 + 1, stat_now("vms"),
			       "an unbound VM with an irqchip and 2 vCPUs counts");
		/* Half closed VM fd first, half vCPU fds first. */
		if (n & 1)
			close(vm_fd);
		close(vcpu_fd[0]);
		close(vcpu_fd[1]);
		if (!(n & 1))
			close(vm_fd);
	}
	tap_eq(vms0, stat_now("vms"), "200 never-bound VMs closed: no VM left");
	tap_eq(vcpus0, stat_now("vcpus"), "and no vCPU left");
	slab1 = meminfo_kb("SUnreclaim");
	tap_diag("SUnreclaim %ld -> %ld kB over 200 never-bound VMs", slab0, slab1);
	/*
	 * 200 VMs with 2 vCPUs each are several MiB; a leak shows. Not under
	 * KASAN, whose quarantine holds what was freed (its growth went from
	 * 104 to 1,100 kB between boots there): its boot has kmemleak.
	 */
	if (kernel_has_kasan_quarantine())
		tap_skip("unreclaimable slab after 200 never-bound VMs",
			 "KASAN's quarantine keeps freed objects in slab; kmemleak checks this boot");
	else
		tap_result(slab1 - slab0 < 1024,
			   "unreclaimable slab grew by %ld kB (< 1024)",
			   slab1 - slab0);
}

/* Handed over, and the receiver dies without binding. */
static void test_receiver_dies_unbound(void)
{
	long vms0 = stat_now("vms");
	int sv[2], fds[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		die("socketpair");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int got[2];

		close(sv[0]);
		_exit(recv_fds(sv[1], got, 2) == 2 ? 0 : 1);
	}
	close(sv[1]);
	fds[0] = ioctl(sys_fd, LV_CREATE_VM, LV_VM_UNBOUND);
	fds[1] = fds[0] < 0 ? -1 : ioctl(fds[0], LV_CREATE_VCPU, 0);
	if (fds[1] < 0)
		die("unbound VM and vCPU");
	send_fds(sv[0], fds, 2, 'F');
	close(fds[0]);
	close(fds[1]);
	tap_eq(0, wait_child(pid), "the receiver got the fds and exited unbound");
	close(sv[0]);
	tap_eq(vms0, stat_now("vms"), "the VM went with the receiver's fds");
}

int main(void)
{
	sys_fd = open_sys();
	require_run_guests(sys_fd);
	signal(SIGPIPE, SIG_IGN);
	test_flags();
	test_handover();
	test_never_bound();
	test_receiver_dies_unbound();
	return tap_finish();
}
