// SPDX-License-Identifier: GPL-2.0
/*
 * abi_events: event injection and vCPU state that userspace sets.
 *
 * - #GP raised by lightvisor in real mode reaches the guest's IVT handler
 *   (no error code, faulting IP pushed) instead of failing VM entry; so
 *   does one the CPU raised whose delivery exited on an unmapped stack;
 * - LV_SET_REGS ends an STI shadow when it clears IF, and drops a pending
 *   hypercall return;
 * - an interrupt chosen for an entry that a signal abandoned is neither
 *   lost nor hidden from LV_GET_VCPU_STATE, survives a save/restore and
 *   a SET_REGS with IF = 0, and is delivered exactly once;
 * - an EPT violation during delivery of an interrupt re-delivers it once
 *   (RAM) or stops with LV_INTERNAL_ERROR_DELIVERY_EV (MMIO), and never
 *   emulates the instruction at RIP; an IRET that unblocked NMIs and
 *   faulted leaves them blocked until it runs again;
 * - an #AC raised by the delivery of a single-step #DB (both intercepted)
 *   is delivered first, and the #DB after it, in the #AC handler: the
 *   trap is not lost; a held trap is part of the vCPU state;
 * - PAE paging set by userspace loads the PDPTEs; LV_SET_VCPU_STATE
 *   checks everything before it changes anything;
 * - a TSC write moves what RDTSC reads.
 *
 * Under QEMU TCG (svm-abi_events) three things cannot be shown, and their
 * checks are skipped with the reason: it raises no #AC, checks no
 * real-mode segment limit, and keeps no STI shadow across VMRUN.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <unistd.h>

#include "test_util.h"

DECLARE_GUEST(guest_gp);
DECLARE_GUEST(guest_sti_out);
DECLARE_GUEST(guest_spin_irq);
DECLARE_GUEST(guest_tsc);
DECLARE_GUEST(guest_nmi);
DECLARE_GUEST(guest_ac_db);
extern const uint8_t guest_nmi_iret[];
extern const uint8_t gp_rdmsr[], gp_cr0[], gp_cr4[], gp_xsetbv[], gp_rdpmc[];
extern const uint8_t gp_limit[];

#define GP_HANDLER	0x100
#define SPIN_HANDLER	0x100
#define SPIN_COUNT	0x20
#define SPIN_MEMWRITE	0x40
#define IRQ_VECTOR	0x40

static int sys_fd;

static void on_signal(int sig)
{
	(void)sig;
}

static void new_vm(struct test_vm *vm, struct test_vcpu *vcpu)
{
	vm_create(sys_fd, vm);
	vm_add_ram(vm);
	vcpu_create(sys_fd, vm, 0, vcpu);
}

static void close_vm(struct test_vm *vm, struct test_vcpu *vcpu)
{
	close(vcpu->fd);
	close(vm->fd);
}

static void set_ivt(struct test_vm *vm, int vector, uint16_t offset)
{
	uint16_t entry[2] = { offset, 0 };

	memcpy(vm->mem + vector * 4, entry, sizeof(entry));
}

static void arm_timer_ms(long ms)
{
	struct itimerval it = {
		.it_value = { ms / 1000, (ms % 1000) * 1000 },
		.it_interval = { ms / 1000, (ms % 1000) * 1000 },
	};

	if (setitimer(ITIMER_REAL, &it, NULL))
		die("setitimer");
}

static uint64_t io_value(struct test_vcpu *vcpu)
{
	uint64_t v = 0;

	memcpy(&v, (uint8_t *)vcpu->run + vcpu->run->io.data_offset,
	       vcpu->run->io.size);
	return v;
}

/* Run; true if the exit is port I/O on @port (LV_RUN errors are false). */
static bool run_to_port(struct test_vcpu *vcpu, uint16_t port)
{
	if (vcpu_run(vcpu) < 0)
		return false;
	return vcpu->run->exit_reason == LV_EXIT_IO && vcpu->run->io.port == port;
}

static void describe_exit(struct test_vcpu *vcpu, int ret)
{
	struct lv_run *run = vcpu->run;

	if (ret < 0)
		tap_diag("LV_RUN: %s", strerror(errno));
	else if (run->exit_reason == LV_EXIT_FAIL_ENTRY)
		tap_diag("exit FAIL_ENTRY, reason %#llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
	else if (run->exit_reason == LV_EXIT_IO)
		tap_diag("exit IO port %#x value %#llx", run->io.port,
			 (unsigned long long)io_value(vcpu));
	else if (run->exit_reason == LV_EXIT_INTERNAL_ERROR)
		tap_diag("exit INTERNAL_ERROR suberror %u data %#llx",
			 run->internal.suberror,
			 (unsigned long long)run->internal.data[0]);
	else
		tap_diag("exit %s", exit_reason_name(run->exit_reason));
}

/* --- #GP in real mode --- */

static bool host_has_xsave(void)
{
	unsigned int a, b, c, d;

	__asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	return c & (1u << 26);
}

/*
 * QEMU TCG (its hypervisor leaf says so) checks no real-mode segment
 * limits, and its SVM keeps no interrupt shadow in the VMCB at #VMEXIT:
 * the checks of those are skipped there, naming the reason.
 */
static bool host_is_qemu_tcg(void)
{
	unsigned int a, sig[3];

	__asm__("cpuid" : "=a"(a), "=b"(sig[0]), "=c"(sig[1]), "=d"(sig[2])
		: "a"(0x40000000), "c"(0));
	return !memcmp(sig, "TCGTCGTCGTCG", sizeof(sig));
}

static sigjmp_buf ac_probe_env;

/* EFLAGS.AC is still set here: clear it before anything misaligned. */
static void on_sigbus(int sig)
{
	(void)sig;
	__asm__ volatile("pushfq\n\tandq $~0x40000, (%%rsp)\n\tpopfq" ::: "cc");
	siglongjmp(ac_probe_env, 1);
}

/*
 * Does this CPU raise #AC? A misaligned load at CPL 3 with EFLAGS.AC set
 * (Linux runs with CR0.AM set) must end in SIGBUS. QEMU TCG never
 * raises #AC, so a guest under it cannot either.
 */
static bool host_raises_ac(void)
{
	static uint64_t words[2];
	struct sigaction sa, old;
	volatile bool raised = false;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigbus;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(ac_probe_env, 1)) {
		raised = true;
	} else {
		__asm__ volatile("pushfq\n\t"
				 "orq $0x40000, (%%rsp)\n\t"
				 "popfq\n\t"
				 "movl (%0), %%eax\n\t"
				 "pushfq\n\t"
				 "andq $~0x40000, (%%rsp)\n\t"
				 "popfq"
				 : : "r"((char *)words + 1) : "rax", "cc", "memory");
	}
	sigaction(SIGBUS, &old, NULL);
	return raised;
}

static void test_realmode_gp(const char *what, const uint8_t *insn)
{
	uint16_t start, fault_ip = GUEST_CODE_GPA + (insn - guest_gp);
	struct test_vm vm;
	struct test_vcpu vcpu;
	int ret;

	/* Each case starts at its 16-byte slot. */
	start = GUEST_CODE_GPA + ((insn - guest_gp) & ~0xf);
	if (insn == gp_xsetbv)
		start = GUEST_CODE_GPA + 0x30;
	new_vm(&vm, &vcpu);
	vm_load(&vm, GUEST_CODE_GPA, guest_gp, GUEST_LEN(guest_gp));
	set_ivt(&vm, 13, GUEST_CODE_GPA + GP_HANDLER);
	vcpu_setup_realmode(&vcpu, start);
	ret = vcpu_run(&vcpu);
	if (!tap_result(ret == 0 && vcpu.run->exit_reason == LV_EXIT_IO &&
			vcpu.run->io.port == 0x31 && io_value(&vcpu) == fault_ip,
			"real mode: %s -> #GP delivered through the IVT, IP %#x pushed",
			what, fault_ip))
		describe_exit(&vcpu, ret);
	close_vm(&vm, &vcpu);
}

static void test_gp(void)
{
	test_realmode_gp("RDMSR of an unknown MSR", gp_rdmsr);
	test_realmode_gp("MOV CR0 with PG but not PE", gp_cr0);
	test_realmode_gp("MOV CR4 with VMXE", gp_cr4);
	if (host_has_xsave())
		test_realmode_gp("XSETBV without x87", gp_xsetbv);
	else
		tap_skip("real mode: XSETBV -> #GP", "no XSAVE on this CPU");
	test_realmode_gp("RDPMC", gp_rdpmc);
	/*
	 * The exit in the middle of its delivery may report an error code
	 * (Bochs does): delivered again without one, not a failed entry.
	 */
	if (host_is_qemu_tcg())
		tap_skip("real mode: a read across DS's limit -> #GP",
			 "QEMU TCG does not check real-mode segment limits");
	else
		test_realmode_gp("a read across DS's limit, delivery on an unmapped stack",
				 gp_limit);
}

/* --- SET_REGS ends stale state --- */

static void test_set_regs_sti_shadow(void)
{
	struct test_vm vm;
	struct test_vcpu vcpu;
	struct lv_vcpu_state st;
	struct lv_regs regs;
	int ret;

	new_vm(&vm, &vcpu);
	vm_load(&vm, GUEST_CODE_GPA, guest_sti_out, GUEST_LEN(guest_sti_out));
	vcpu_setup_realmode(&vcpu, GUEST_CODE_GPA);
	ret = run_to_port(&vcpu, 0x40);
	tap_result(ret, "OUT right after STI exits");
	memset(&st, 0, sizeof(st));
	ioctl(vcpu.fd, LV_GET_VCPU_STATE, &st);
	if (host_is_qemu_tcg())
		tap_skip("the exit is in the STI shadow",
			 "QEMU TCG's SVM does not save the interrupt shadow at #VMEXIT");
	else
		tap_result(st.interruptibility & 1,
			   "the exit is in the STI shadow (interruptibility %#x)",
			   st.interruptibility);

	ioctl(vcpu.fd, LV_GET_REGS, &regs);
	regs.rflags &= ~0x200ULL;
	tap_errno(ioctl(vcpu.fd, LV_SET_REGS, &regs), errno, 0, "LV_SET_REGS with IF = 0");
	ioctl(vcpu.fd, LV_GET_VCPU_STATE, &st);
	tap_eq(0, st.interruptibility & 1, "IF = 0 ends the STI shadow");
	ret = vcpu_run(&vcpu);
	if (!tap_result(ret == 0 && vcpu.run->exit_reason == LV_EXIT_IO &&
			vcpu.run->io.port == 0x40,
			"the next entry runs the OUT again (no failed entry)"))
		describe_exit(&vcpu, ret);

	/* A state with an STI shadow and IF = 0 is refused. */
	ioctl(vcpu.fd, LV_GET_VCPU_STATE, &st);
	st.interruptibility = 1;
	st.regs.rflags = 2;
	tap_errno(ioctl(vcpu.fd, LV_SET_VCPU_STATE, &st), errno, EINVAL,
		  "LV_SET_VCPU_STATE: STI shadow with IF = 0 -> EINVAL");
	st.interruptibility = 3;
	st.regs.rflags = 0x202;
	tap_errno(ioctl(vcpu.fd, LV_SET_VCPU_STATE, &st), errno, EINVAL,
		  "LV_SET_VCPU_STATE: STI and MOV-SS shadows together -> EINVAL");
	close_vm(&vm, &vcpu);
}

static void test_set_regs_hypercall(void)
{
	struct test_vm vm;
	struct test_vcpu vcpu;
	struct lv_regs regs;
	int ret;

	new_vm(&vm, &vcpu);
	vm_load(&vm, GUEST_CODE_GPA, guest_sti_out, GUEST_LEN(guest_sti_out));
	vcpu_setup_realmode(&vcpu, GUEST_CODE_GPA + 0x10);
	ret = vcpu_run(&vcpu);
	tap_result(ret == 0 && vcpu.run->exit_reason == LV_EXIT_HYPERCALL,
		   "user hypercall exits");
	vcpu.run->hypercall.ret = 0x1234;
	ioctl(vcpu.fd, LV_GET_REGS, &regs);
	regs.rax = 0x5678;
	ioctl(vcpu.fd, LV_SET_REGS, &regs);
	ret = run_to_port(&vcpu, 0x41);
	tap_result(ret && io_value(&vcpu) == 0x5678,
		   "RAX set by LV_SET_REGS after a hypercall exit wins over hypercall.ret (got %#llx)",
		   ret ? (unsigned long long)io_value(&vcpu) : 0ULL);
	close_vm(&vm, &vcpu);
}

/* --- an interrupt and an abandoned entry --- */

struct signaller {
	struct test_vcpu *vcpu;
	pthread_t target;
	sem_t go, done;
	volatile bool stop;
};

/*
 * Sleep a little (its wake-up makes the vCPU thread reschedule on the
 * way back into the guest, on this one CPU), then queue the interrupt
 * and signal the vCPU thread: the entry that picked the interrupt up
 * is then abandoned for the signal.
 */
static void *signaller_thread(void *p)
{
	struct signaller *s = p;
	struct lv_interrupt irq = { .vector = IRQ_VECTOR };
	sigset_t all;

	/* Signals are for the vCPU thread: keep sem_wait and usleep whole. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		sem_wait(&s->go);
		if (s->stop)
			return NULL;
		usleep(2000);
		if (ioctl(s->vcpu->fd, LV_INTERRUPT, &irq))
			die("LV_INTERRUPT");
		pthread_kill(s->target, SIGUSR1);
		sem_post(&s->done);
	}
}

/* Where is the queued interrupt? 1 pending, 2 being delivered, 0 gone. */
static int irq_whereabouts(struct test_vcpu *vcpu, struct lv_vcpu_state *st)
{
	memset(st, 0, sizeof(*st));
	if (ioctl(vcpu->fd, LV_GET_VCPU_STATE, st))
		die("LV_GET_VCPU_STATE");
	if (st->pending_irq == IRQ_VECTOR + 1)
		return 1;
	if (st->event.valid && st->event.type == LV_EVENT_EXT_INTR &&
	    st->event.vector == IRQ_VECTOR)
		return 2;
	return 0;
}

/* Run until the handler reports; deliveries counted in *delivered. */
static bool run_until_delivered(struct test_vcpu *vcpu, int *delivered)
{
	int tries = 0;

	while (tries++ < 20) {
		if (vcpu_run(vcpu) < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		if (vcpu->run->exit_reason != LV_EXIT_IO || vcpu->run->io.port != 0x30)
			return false;
		++*delivered;
		return true;
	}
	return false;
}

static void test_abandoned_entry(void)
{
	struct test_vm vm;
	struct test_vcpu vcpu;
	struct signaller s;
	struct lv_vcpu_state st;
	struct lv_regs regs;
	pthread_t thread;
	int i, where, lost = 0, twice = 0, in_delivery = 0, pending = 0;
	bool restored = false, if_cleared = false, if_ok = true;

	new_vm(&vm, &vcpu);
	vm_load(&vm, GUEST_CODE_GPA, guest_spin_irq, GUEST_LEN(guest_spin_irq));
	set_ivt(&vm, IRQ_VECTOR, GUEST_CODE_GPA + SPIN_HANDLER);
	vcpu_setup_realmode(&vcpu, GUEST_CODE_GPA);

	memset(&s, 0, sizeof(s));
	s.vcpu = &vcpu;
	s.target = pthread_self();
	sem_init(&s.go, 0, 0);
	sem_init(&s.done, 0, 0);
	pthread_create(&thread, NULL, signaller_thread, &s);
	/* A safety net: the guest spins, only signals end LV_RUN. */
	arm_timer_ms(500);

	for (i = 0; i < 60; i++) {
		int delivered = 0;

		sem_post(&s.go);
		/* Run until the signaller's signal (or an alarm) stops us. */
		while (vcpu_run(&vcpu) == 0) {
			if (vcpu.run->exit_reason != LV_EXIT_IO || vcpu.run->io.port != 0x30)
				die("unexpected exit %s", exit_reason_name(vcpu.run->exit_reason));
			delivered++;
		}
		if (errno != EINTR)
			die("LV_RUN: %s", strerror(errno));
		while (sem_wait(&s.done) && errno == EINTR)
			;

		where = irq_whereabouts(&vcpu, &st);
		if (!delivered && !where) {
			lost++;
			continue;
		}
		if (where == 2)
			in_delivery++;
		if (where == 1)
			pending++;
		if (where == 2 && !restored) {
			/* Save and restore: the interrupt must survive. */
			restored = true;
			if (ioctl(vcpu.fd, LV_SET_VCPU_STATE, &st))
				die("LV_SET_VCPU_STATE of a saved state: %s", strerror(errno));
		} else if (where == 2 && !if_cleared) {
			/* IF cleared: the interrupt waits, no failed entry. */
			if_cleared = true;
			ioctl(vcpu.fd, LV_GET_REGS, &regs);
			regs.rflags &= ~0x200ULL;
			ioctl(vcpu.fd, LV_SET_REGS, &regs);
			if (vcpu_run(&vcpu) == 0 || errno != EINTR ||
			    irq_whereabouts(&vcpu, &st) != 1)
				if_ok = false;
			regs.rflags |= 0x200;
			ioctl(vcpu.fd, LV_SET_REGS, &regs);
		}
		if (where && !run_until_delivered(&vcpu, &delivered))
			lost++;
		if (delivered > 1)
			twice++;
	}
	arm_timer_ms(0);
	s.stop = true;
	sem_post(&s.go);
	pthread_join(thread, NULL);

	tap_diag("60 interrupts: %d were being delivered when a signal abandoned the entry, %d still queued",
		 in_delivery, pending);
	tap_eq(0, lost, "no interrupt lost or hidden from LV_GET_VCPU_STATE after an abandoned entry");
	tap_eq(0, twice, "no interrupt delivered twice");
	if (in_delivery) {
		tap_result(restored, "an interrupt being delivered survives LV_GET/SET_VCPU_STATE");
		if (if_cleared)
			tap_result(if_ok, "... and SET_REGS with IF = 0 puts it back in the queue (no failed entry)");
		else
			tap_skip("SET_REGS with IF = 0 after an abandoned entry", "happened once only");
	} else {
		tap_skip("an interrupt being delivered survives save/restore",
			 "no entry was abandoned after injection in this run");
		tap_skip("SET_REGS with IF = 0 after an abandoned entry",
			 "no entry was abandoned after injection in this run");
	}
	close_vm(&vm, &vcpu);
}

/* --- EPT violations during delivery --- */

static void test_delivery_ept_ram(void)
{
	struct test_vm vm;
	struct test_vcpu vcpu;
	struct lv_interrupt irq = { .vector = IRQ_VECTOR };
	struct lv_regs regs;
	int ret;

	/* A fresh VM: nothing is mapped in EPT, not the IVT, not the stack. */
	new_vm(&vm, &vcpu);
	vm_load(&vm, GUEST_CODE_GPA, guest_spin_irq, GUEST_LEN(guest_spin_irq));
	set_ivt(&vm, IRQ_VECTOR, GUEST_CODE_GPA + SPIN_HANDLER);
	vcpu_setup_realmode(&vcpu, GUEST_CODE_GPA + SPIN_COUNT);
	ioctl(vcpu.fd, LV_GET_REGS, &regs);
	regs.rflags |= 0x200;
	regs.rsp = 0x70000;	/* a page of its own */
	ioctl(vcpu.fd, LV_SET_REGS, &regs);
	ioctl(vcpu.fd, LV_INTERRUPT, &irq);

	ret = run_to_port(&vcpu, 0x30);
	if (!tap_result(ret, "interrupt delivered through unmapped IVT and stack pages"))
		describe_exit(&vcpu, ret);
	ret = run_to_port(&vcpu, 0x33);
	tap_result(ret && io_value(&vcpu) == 4,
		   "every instruction after it ran once (DX = %llu, expected 4)",
		   ret ? (unsigned long long)io_value(&vcpu) : 0ULL);
	ioctl(vcpu.fd, LV_GET_REGS, &regs);
	tap_eq(1, regs.rcx & 0xffff, "the handler ran exactly once");
	close_vm(&vm, &vcpu);
}

static void test_delivery_ept_mmio(void)
{
	struct test_vm vm;
	struct test_vcpu vcpu;
	struct lv_interrupt irq = { .vector = IRQ_VECTOR };
	struct lv_vcpu_state st;
	struct lv_sregs sregs;
	struct lv_regs regs;
	int ret;

	new_vm(&vm, &vcpu);
	vm_load(&vm, GUEST_CODE_GPA, guest_spin_irq, GUEST_LEN(guest_spin_irq));
	set_ivt(&vm, IRQ_VECTOR, GUEST_CODE_GPA + SPIN_HANDLER);
	vcpu_setup_realmode(&vcpu, GUEST_CODE_GPA + SPIN_MEMWRITE);
	/* The stack at SS 0xffff: linear 0x10000e, past the 1 MiB of RAM. */
	ioctl(vcpu.fd, LV_GET_SREGS, &sregs);
	sregs.ss.selector = 0xffff;
	sregs.ss.base = 0xffff0;
	ioctl(vcpu.fd, LV_SET_SREGS, &sregs);
	ioctl(vcpu.fd, LV_GET_REGS, &regs);
	regs.rflags |= 0x200;
	regs.rsp = 0x20;
	regs.rsi = 0x3000;	/* what the MOV at RIP would write: RAM */
	ioctl(vcpu.fd, LV_SET_REGS, &regs);
	ioctl(vcpu.fd, LV_INTERRUPT, &irq);

	ret = vcpu_run(&vcpu);
	if (!tap_result(ret == 0 && vcpu.run->exit_reason == LV_EXIT_INTERNAL_ERROR &&
			vcpu.run->internal.suberror == LV_INTERNAL_ERROR_DELIVERY_EV,
			"interrupt delivery onto an MMIO stack -> internal error DELIVERY_EV"))
		describe_exit(&vcpu, ret);
	ioctl(vcpu.fd, LV_GET_REGS, &regs);
	tap_eq(GUEST_CODE_GPA + SPIN_MEMWRITE, regs.rip,
	       "the instruction at RIP was not emulated");
	memset(&st, 0, sizeof(st));
	ioctl(vcpu.fd, LV_GET_VCPU_STATE, &st);
	tap_result(st.event.valid && st.event.type == LV_EVENT_EXT_INTR &&
		   st.event.vector == IRQ_VECTOR,
		   "the interrupt is still being delivered in LV_GET_VCPU_STATE");
	close_vm(&vm, &vcpu);
}

/*
 * An IRET that ends an NMI handler faults (EPT violation on its stack,
 * emptied meanwhile by a slot change): NMIs must stay blocked until the
 * IRET runs again, so an NMI queued meanwhile does not nest at the IRET.
 */
static void test_nmi_unblocking_iret(void)
{
	struct lv_interrupt nmi = { .flags = LV_INTERRUPT_NMI };
	struct lv_memory_region r;
	struct test_vm vm;
	struct test_vcpu vcpu;
	bool ret;

	new_vm(&vm, &vcpu);
	vm_load(&vm, GUEST_CODE_GPA, guest_nmi, GUEST_LEN(guest_nmi));
	set_ivt(&vm, 2, GUEST_CODE_GPA + 0x100);
	vcpu_setup_realmode(&vcpu, GUEST_CODE_GPA);	/* SP 0x8000 */

	ioctl(vcpu.fd, LV_INTERRUPT, &nmi);
	ret = run_to_port(&vcpu, 0x35);
	tap_result(ret && io_value(&vcpu) == GUEST_CODE_GPA,
		   "NMI handler entered from the spin loop");
	tap_errno(ioctl(vcpu.fd, LV_INTERRUPT, &nmi), errno, 0,
		  "queue a second NMI inside the handler");
	/* The same memory again: EPT is emptied, the contents stay. */
	r = (struct lv_memory_region){ .slot = 0 };
	if (ioctl(vm.fd, LV_SET_MEMORY_REGION, &r))
		die("delete slot 0");
	r.memory_size = vm.mem_size;
	r.userspace_addr = (uintptr_t)vm.mem;
	if (ioctl(vm.fd, LV_SET_MEMORY_REGION, &r))
		die("add slot 0 again");
	ret = run_to_port(&vcpu, 0x35);
	if (!tap_result(ret && io_value(&vcpu) == GUEST_CODE_GPA,
			"the second NMI comes after the faulted IRET completed (return IP %#llx, nested would be %#x)",
			ret ? (unsigned long long)io_value(&vcpu) : 0ULL,
			(unsigned int)(GUEST_CODE_GPA + (guest_nmi_iret - guest_nmi))))
		describe_exit(&vcpu, ret ? 0 : -1);
	close_vm(&vm, &vcpu);
}

/* --- PAE paging and whole-state checks --- */

#define PAE_PDPT	0x8000
#define PAE_PD		0x9000
#define PAE_CODE	0x2000

static void pae_sregs(struct lv_sregs *s)
{
	struct lv_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = 8, .type = 0xb,
		.s = 1, .present = 1, .db = 1, .g = 1,
	};
	struct lv_segment data = code;

	data.selector = 0x10;
	data.type = 0x3;
	s->cs = code;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->tr = (struct lv_segment){ .limit = 0x67, .type = 0xb, .present = 1 };
	s->ldt = (struct lv_segment){ .unusable = 1, .type = 2 };
	s->cr0 = 0x80000031;	/* PG, NE, ET, PE */
	s->cr3 = PAE_PDPT;
	s->cr4 = 0x20;		/* PAE */
	s->efer = 0;
}

static void test_pae(void)
{
	/* mov $0x12345678, %eax; out %eax, $0x32; hlt */
	static const uint8_t code[] = { 0xb8, 0x78, 0x56, 0x34, 0x12,
					0xe7, 0x32, 0xf4 };
	uint64_t pdpte = PAE_PD | 1, pde = 0x83;	/* 2 MiB page at 0 */
	struct lv_vcpu_state st, st2;
	struct lv_sregs s;
	struct lv_regs regs;
	struct test_vm vm;
	struct test_vcpu vcpu;
	int ret;

	new_vm(&vm, &vcpu);
	vm_load(&vm, PAE_CODE, code, sizeof(code));
	vm_load(&vm, PAE_PDPT, &pdpte, sizeof(pdpte));
	vm_load(&vm, PAE_PD, &pde, sizeof(pde));
	ioctl(vcpu.fd, LV_GET_SREGS, &s);
	pae_sregs(&s);
	tap_errno(ioctl(vcpu.fd, LV_SET_SREGS, &s), errno, 0, "LV_SET_SREGS into PAE paging");
	memset(&regs, 0, sizeof(regs));
	regs.rip = PAE_CODE;
	regs.rflags = 2;
	ioctl(vcpu.fd, LV_SET_REGS, &regs);
	ret = run_to_port(&vcpu, 0x32);
	if (!tap_result(ret && io_value(&vcpu) == 0x12345678,
			"a PAE guest set up by LV_SET_SREGS runs"))
		describe_exit(&vcpu, ret);

	/* The same through LV_SET_VCPU_STATE, after a round through real mode. */
	memset(&st, 0, sizeof(st));
	ioctl(vcpu.fd, LV_GET_VCPU_STATE, &st);
	vcpu_setup_realmode(&vcpu, GUEST_CODE_GPA);
	st.regs.rip = PAE_CODE;
	tap_errno(ioctl(vcpu.fd, LV_SET_VCPU_STATE, &st), errno, 0,
		  "LV_SET_VCPU_STATE into PAE paging");
	ret = run_to_port(&vcpu, 0x32);
	if (!tap_result(ret && io_value(&vcpu) == 0x12345678,
			"a PAE guest restored by LV_SET_VCPU_STATE runs"))
		describe_exit(&vcpu, ret);

	/* A PDPTE with a reserved bit (bit 1) is refused. */
	pdpte |= 2;
	vm_load(&vm, PAE_PDPT, &pdpte, sizeof(pdpte));
	tap_errno(ioctl(vcpu.fd, LV_SET_SREGS, &s), errno, EINVAL,
		  "LV_SET_SREGS: PAE with a reserved PDPTE bit -> EINVAL");
	tap_errno(ioctl(vcpu.fd, LV_SET_VCPU_STATE, &st), errno, EINVAL,
		  "LV_SET_VCPU_STATE: PAE with a reserved PDPTE bit -> EINVAL");

	/* Nothing changes when a state is refused, whatever refused it. */
	vcpu_setup_realmode(&vcpu, GUEST_CODE_GPA);
	pdpte &= ~2ULL;
	vm_load(&vm, PAE_PDPT, &pdpte, sizeof(pdpte));
	memset(&st2, 0, sizeof(st2));
	ioctl(vcpu.fd, LV_GET_VCPU_STATE, &st2);
	st.lstar = 0x8000000000000000ULL;	/* not canonical */
	tap_errno(ioctl(vcpu.fd, LV_SET_VCPU_STATE, &st), errno, EINVAL,
		  "LV_SET_VCPU_STATE with a non-canonical LSTAR -> EINVAL");
	memset(&st, 0, sizeof(st));
	ioctl(vcpu.fd, LV_GET_VCPU_STATE, &st);
	tap_result(vcpu_state_same(&st2, &st),
		   "... and the vCPU keeps its old state (CR0 %#llx, was %#llx)",
		   (unsigned long long)st.sregs.cr0, (unsigned long long)st2.sregs.cr0);

	/* Events that VM entry would refuse are refused here. */
	st2 = st;
	st2.event = (struct lv_event){ .valid = 1, .type = LV_EVENT_EXCEPTION,
				       .vector = 13, .has_error_code = 1 };
	tap_errno(ioctl(vcpu.fd, LV_SET_VCPU_STATE, &st2), errno, EINVAL,
		  "LV_SET_VCPU_STATE: #GP with an error code in real mode -> EINVAL");
	st2.event.has_error_code = 0;
	tap_errno(ioctl(vcpu.fd, LV_SET_VCPU_STATE, &st2), errno, 0,
		  "LV_SET_VCPU_STATE: #GP without an error code in real mode");
	st2.event = (struct lv_event){ .valid = 1, .type = LV_EVENT_EXT_INTR,
				       .vector = IRQ_VECTOR };
	st2.regs.rflags = 2;
	tap_errno(ioctl(vcpu.fd, LV_SET_VCPU_STATE, &st2), errno, EINVAL,
		  "LV_SET_VCPU_STATE: external interrupt being delivered with IF = 0 -> EINVAL");
	close_vm(&vm, &vcpu);
}

static void test_tsc_offset(void)
{
	struct test_vm vm;
	struct test_vcpu vcpu;
	int ret;

	new_vm(&vm, &vcpu);
	vm_load(&vm, GUEST_CODE_GPA, guest_tsc, GUEST_LEN(guest_tsc));
	vcpu_setup_realmode(&vcpu, GUEST_CODE_GPA);
	ret = run_to_port(&vcpu, 0x34);
	tap_result(ret && io_value(&vcpu) >= 0x40000,
		   "RDTSC after WRMSR IA32_TSC reads from the value written (EDX %#llx)",
		   ret ? (unsigned long long)io_value(&vcpu) : 0ULL);
	close_vm(&vm, &vcpu);
}

/* --- an intercepted exception during delivery of a trap --- */

#define PM_GDT		0x500
#define PM_TSS		0x600
#define PM_IDT		0x700
#define PM_STACK0	0x8000
#define PM_DB_HANDLER	(GUEST_CODE_GPA + 0x20)
#define PM_AC_HANDLER	(GUEST_CODE_GPA + 0x40)

static uint64_t gdt_entry(uint32_t base, uint32_t limit, uint8_t access,
			  uint8_t flags)
{
	return (limit & 0xffff) | (uint64_t)(base & 0xffffff) << 16 |
	       (uint64_t)access << 40 | (uint64_t)((limit >> 16) & 0xf) << 48 |
	       (uint64_t)flags << 52 | (uint64_t)(base >> 24) << 56;
}

/* A 32-bit interrupt gate, DPL 0. */
static uint64_t idt_gate(uint16_t sel, uint32_t offset)
{
	return (offset & 0xffff) | (uint64_t)sel << 16 |
	       (uint64_t)((offset & 0xffff0000) | 0x8e00) << 32;
}

static void pm_seg(struct lv_segment *s, uint16_t sel, uint8_t type,
		   uint8_t dpl)
{
	*s = (struct lv_segment){
		.limit = 0xffffffff, .selector = sel, .type = type, .s = 1,
		.dpl = dpl, .present = 1, .db = 1, .g = 1,
	};
}

/*
 * A VM for the #AC/#DB tests: 32-bit protected mode at CPL 3 in a
 * conforming segment, whose #DB gate also leads to a conforming segment
 * (the handler stays at CPL 3, on the guest's stack) and whose #AC gate
 * leads to CPL 0. Each handler reports its vector on port 0x30, then its
 * frame's EIP on port 0x31; the #AC handler ends in HLT with IF = 0.
 */
static bool ac_db_vm(struct test_vm *vm, struct test_vcpu *vcpu,
		     uint64_t rip, uint64_t rsp, uint64_t rflags)
{
	const uint64_t gdt[7] = {
		0,
		gdt_entry(0, 0xfffff, 0x9b, 0xc),	/* 0x08 code, DPL 0 */
		gdt_entry(0, 0xfffff, 0x93, 0xc),	/* 0x10 data, DPL 0 */
		gdt_entry(0, 0xfffff, 0xff, 0xc),	/* 0x18 conforming, DPL 3 */
		gdt_entry(0, 0xfffff, 0xf3, 0xc),	/* 0x20 data, DPL 3 */
		gdt_entry(PM_TSS, 0x67, 0x8b, 0),	/* 0x28 busy TSS */
		gdt_entry(0, 0xfffff, 0x9f, 0xc),	/* 0x30 conforming, DPL 0 */
	};
	uint64_t idt[18] = { 0 };
	uint32_t tss[26] = { 0 };
	struct lv_sregs sregs;
	struct lv_regs regs;
	int ret;

	idt[1] = idt_gate(0x30, PM_DB_HANDLER);
	idt[17] = idt_gate(0x08, PM_AC_HANDLER);
	tss[1] = PM_STACK0;			/* ESP0 */
	tss[2] = 0x10;				/* SS0 */
	tss[25] = 0x68u << 16;			/* no I/O bitmap */

	new_vm(vm, vcpu);
	vm_load(vm, GUEST_CODE_GPA, guest_ac_db, GUEST_LEN(guest_ac_db));
	vm_load(vm, PM_GDT, gdt, sizeof(gdt));
	vm_load(vm, PM_TSS, tss, sizeof(tss));
	vm_load(vm, PM_IDT, idt, sizeof(idt));

	ioctl(vcpu->fd, LV_GET_SREGS, &sregs);
	pm_seg(&sregs.cs, 0x1b, 0xf, 3);
	pm_seg(&sregs.ss, 0x23, 0x3, 3);
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss;
	sregs.tr = (struct lv_segment){
		.base = PM_TSS, .limit = 0x67, .selector = 0x28, .type = 0xb,
		.present = 1,
	};
	sregs.ldt = (struct lv_segment){ .type = 0x2, .unusable = 1 };
	sregs.gdt = (struct lv_dtable){ .base = PM_GDT, .limit = sizeof(gdt) - 1 };
	sregs.idt = (struct lv_dtable){ .base = PM_IDT, .limit = sizeof(idt) - 1 };
	sregs.cr0 = 0x40011;			/* PE, ET, AM */
	sregs.cr2 = sregs.cr3 = sregs.cr4 = sregs.cr8 = 0;
	sregs.efer = 0;
	ret = ioctl(vcpu->fd, LV_SET_SREGS, &sregs);
	if (!tap_result(ret == 0, "32-bit protected mode at CPL 3 accepted")) {
		tap_diag("LV_SET_SREGS: %s", strerror(errno));
		close_vm(vm, vcpu);
		return false;
	}
	memset(&regs, 0, sizeof(regs));
	regs.rip = rip;
	regs.rsp = rsp;
	regs.rflags = rflags;
	ioctl(vcpu->fd, LV_SET_REGS, &regs);
	return true;
}

/* What the handlers of ac_db_vm() reported, in order. */
struct ac_db_trace {
	uint64_t first_vector;
	int ac, db;
	uint64_t ac_eip, db_eip;
};

/* Runs to the #AC handler's HLT; false (and a diagnostic) if it did not. */
static bool ac_db_run(struct test_vcpu *vcpu, struct ac_db_trace *t)
{
	uint64_t open_vec[4], vector;
	int ret, i, depth = 0;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < 8; i++) {
		ret = vcpu_run(vcpu);
		if (ret || vcpu->run->exit_reason != LV_EXIT_IO)
			break;
		/* Handlers nest: an EIP belongs to the last vector open. */
		if (vcpu->run->io.port == 0x30 && depth < 4) {
			open_vec[depth++] = io_value(vcpu);
			if (!t->first_vector)
				t->first_vector = open_vec[depth - 1];
		} else if (vcpu->run->io.port == 0x31 && depth) {
			vector = open_vec[--depth];
			if (vector == 1) {
				t->db_eip = io_value(vcpu);
				t->db++;
			} else if (vector == 17) {
				t->ac_eip = io_value(vcpu);
				t->ac++;
			}
		}
	}
	if (ret == 0 && vcpu->run->exit_reason == LV_EXIT_HLT)
		return true;
	describe_exit(vcpu, ret);
	return false;
}

/* Bochs runs one instruction of the #AC handler before the trap. */
static bool in_ac_handler(uint64_t eip)
{
	return eip >= PM_AC_HANDLER && eip < PM_AC_HANDLER + 0x10;
}

static void test_ac_in_db_delivery(void)
{
	struct test_vm vm;
	struct test_vcpu vcpu;
	struct ac_db_trace t;

	if (!host_raises_ac()) {
		static const char *const checks[] = {
			"the #AC handler halts",
			"#AC raised by the delivery of a single-step #DB: delivered once",
			"#AC frame at the single-stepped NOP or after it",
			"the #DB trap is not lost: delivered once after the #AC",
			"the #DB interrupted the #AC handler",
		};
		unsigned int i;

		for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
			tap_skip(checks[i], "this CPU raises no #AC (a misaligned load with EFLAGS.AC got no SIGBUS)");
		return;
	}
	/* A misaligned stack, EFLAGS.AC and TF. */
	if (!ac_db_vm(&vm, &vcpu, GUEST_CODE_GPA, 0x9002, 0x40102))
		return;

	tap_result(ac_db_run(&vcpu, &t), "the #AC handler halts");
	tap_eq(1, t.ac, "#AC raised by the delivery of a single-step #DB: delivered once");
	/* Bochs reports the RIP of the single-stepped NOP, not the next one. */
	tap_result(t.ac_eip == GUEST_CODE_GPA + 1 || t.ac_eip == GUEST_CODE_GPA,
		   "#AC frame at the single-stepped NOP or after it (EIP %#llx)",
		   (unsigned long long)t.ac_eip);
	tap_eq(1, t.db, "the #DB trap is not lost: delivered once after the #AC");
	tap_result(in_ac_handler(t.db_eip),
		   "the #DB interrupted the #AC handler (EIP %#llx, entry %#x)",
		   (unsigned long long)t.db_eip, PM_AC_HANDLER);
	close_vm(&vm, &vcpu);
}

/* One LV_SET_VCPU_STATE with @trap held behind an #AC being delivered. */
static int set_held_trap(struct test_vcpu *vcpu, struct lv_event trap)
{
	struct lv_vcpu_state st;

	if (ioctl(vcpu->fd, LV_GET_VCPU_STATE, &st))
		return -1;
	st.event = (struct lv_event){
		.valid = 1, .type = LV_EVENT_EXCEPTION, .vector = 17,
		.has_error_code = 1,
	};
	st.held_trap = trap;
	return ioctl(vcpu->fd, LV_SET_VCPU_STATE, &st);
}

static bool held_trap_is(struct test_vcpu *vcpu, const struct lv_event *want)
{
	struct lv_vcpu_state st;

	return !ioctl(vcpu->fd, LV_GET_VCPU_STATE, &st) &&
	       !memcmp(&st.held_trap, want, sizeof(*want));
}

/*
 * A #DB trap held behind an #AC is part of the vCPU state: it is read
 * back, only a #DB trap is accepted there, LV_SET_REGS drops it, and
 * once restored it is delivered after the #AC, in the #AC handler.
 */
static void test_held_trap_state(void)
{
	const struct lv_event db = {
		.valid = 1, .type = LV_EVENT_EXCEPTION, .vector = 1,
	};
	const struct lv_event none = { 0 };
	struct lv_event bad;
	struct test_vm vm;
	struct test_vcpu vcpu;
	struct ac_db_trace t;
	struct lv_regs regs;

	/* At the second NOP, no TF, no AC. */
	if (!ac_db_vm(&vm, &vcpu, GUEST_CODE_GPA + 1, 0x9000, 0x2))
		return;
	ioctl(vcpu.fd, LV_GET_REGS, &regs);

	bad = db;
	bad.vector = 3;
	tap_errno(set_held_trap(&vcpu, bad), errno, EINVAL,
		  "held trap: vector 3 -> EINVAL");
	bad = db;
	bad.type = LV_EVENT_EXT_INTR;
	tap_errno(set_held_trap(&vcpu, bad), errno, EINVAL,
		  "held trap: an external interrupt -> EINVAL");
	bad = db;
	bad.has_error_code = 1;
	tap_errno(set_held_trap(&vcpu, bad), errno, EINVAL,
		  "held trap: #DB with an error code -> EINVAL");
	bad = (struct lv_event){ .vector = 1 };
	tap_errno(set_held_trap(&vcpu, bad), errno, EINVAL,
		  "held trap: not valid but not all 0 -> EINVAL");
	tap_result(held_trap_is(&vcpu, &none),
		   "refused held traps left nothing held");

	tap_eq(0, set_held_trap(&vcpu, db), "held #DB trap behind an #AC accepted");
	tap_result(held_trap_is(&vcpu, &db), "LV_GET_VCPU_STATE reads it back");
	ioctl(vcpu.fd, LV_SET_REGS, &regs);
	tap_result(held_trap_is(&vcpu, &none), "LV_SET_REGS drops it");

	set_held_trap(&vcpu, db);
	tap_result(ac_db_run(&vcpu, &t), "restored: the #AC handler halts");
	tap_eq(1, t.first_vector, "restored: the held #DB is taken first ...");
	tap_result(t.db == 1 && in_ac_handler(t.db_eip),
		   "... once, in the #AC handler (EIP %#llx)",
		   (unsigned long long)t.db_eip);
	tap_result(t.ac == 1 && t.ac_eip == GUEST_CODE_GPA + 1,
		   "restored: the #AC is delivered once, at the saved EIP (%#llx)",
		   (unsigned long long)t.ac_eip);
	close_vm(&vm, &vcpu);
}

int main(void)
{
	struct sigaction sa;

	sys_fd = open_sys();
	require_run_guests(sys_fd);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);

	test_gp();
	test_set_regs_sti_shadow();
	test_set_regs_hypercall();
	test_abandoned_entry();
	test_delivery_ept_ram();
	test_delivery_ept_mmio();
	test_nmi_unblocking_iret();
	test_ac_in_db_delivery();
	test_held_trap_state();
	test_pae();
	test_tsc_offset();
	tap_finish();
}
