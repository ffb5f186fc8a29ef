// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: the per-vCPU run loop and exit dispatch.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lvrun.h"

#define NR_EXIT_REASONS		(LV_EXIT_IRQ_WINDOW_OPEN + 1)

static atomic_ulong exit_counts[NR_EXIT_REASONS + 1];
static atomic_int running_vcpus;

/* The run page of the vCPU this thread runs, for the signal handler. */
static __thread struct lv_run *this_run;

static const char *const exit_names[NR_EXIT_REASONS] = {
	[LV_EXIT_UNKNOWN]		= "UNKNOWN",
	[LV_EXIT_IO]			= "IO",
	[LV_EXIT_MMIO]			= "MMIO",
	[LV_EXIT_HLT]			= "HLT",
	[LV_EXIT_SHUTDOWN]		= "SHUTDOWN",
	[LV_EXIT_FAIL_ENTRY]		= "FAIL_ENTRY",
	[LV_EXIT_INTERNAL_ERROR]	= "INTERNAL_ERROR",
	[LV_EXIT_INTR]			= "INTR",
	[LV_EXIT_HYPERCALL]		= "HYPERCALL",
	[LV_EXIT_IRQ_WINDOW_OPEN]	= "IRQ_WINDOW_OPEN",
};

static const char *exit_name(uint32_t reason)
{
	return reason < NR_EXIT_REASONS ? exit_names[reason] : "(out of range)";
}

void stats_print(void)
{
	unsigned int i;

	/* Only the reasons that occurred: the table is mostly zeros. */
	fprintf(stderr, "lvrun: exits to userspace by reason:\n");
	for (i = 0; i <= NR_EXIT_REASONS; i++) {
		unsigned long n = atomic_load(&exit_counts[i]);

		if (n)
			fprintf(stderr, "lvrun:   %-16s %lu\n",
				i < NR_EXIT_REASONS ? exit_names[i] :
						      "(out of range)", n);
	}
}

/*
 * The kick signal only has to interrupt LV_RUN. If it arrives just before
 * the thread enters LV_RUN, immediate_exit makes that entry return EINTR at
 * once, so no kick is lost.
 */
static void kick_handler(int sig)
{
	(void)sig;
	if (this_run)
		this_run->immediate_exit = 1;
}

void vcpu_install_kick_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: LV_RUN must return EINTR */
	if (sigaction(LVRUN_KICK_SIGNAL, &sa, NULL) < 0)
		die("sigaction: %s", strerror(errno));
}

void vcpu_kick(struct vcpu *vcpu)
{
	pthread_kill(vcpu->thread, LVRUN_KICK_SIGNAL);
}

/*
 * LV_INTERRUPT is issued by the vCPU thread itself between two LV_RUN
 * calls, so lvrun does not depend on whether the module allows vCPU ioctls
 * concurrently with LV_RUN; the timer thread only records the request and
 * kicks the vCPU out of the guest.
 */
void vcpu_request_irq(struct vcpu *vcpu, int vector)
{
	pthread_mutex_lock(&vcpu->lock);
	vcpu->pending_irq = vector;
	pthread_mutex_unlock(&vcpu->lock);
	vcpu_kick(vcpu);
}

void vcpu_request_nmi(struct vcpu *vcpu)
{
	pthread_mutex_lock(&vcpu->lock);
	vcpu->pending_nmi = true;
	pthread_mutex_unlock(&vcpu->lock);
	vcpu_kick(vcpu);
}

/* Returns true if the event was queued or failed for good. */
static bool queue_event(struct vcpu *vcpu, uint32_t vector, uint32_t flags)
{
	struct lv_interrupt irq = { .vector = vector, .flags = flags };
	const char *what = flags & LV_INTERRUPT_NMI ? "NMI" : "interrupt";

	if (ioctl(vcpu->fd, LV_INTERRUPT, &irq) == 0) {
		trace("vcpu %d: queued %s vector 0x%x", vcpu->id, what, vector);
		return true;
	}
	if (errno == EBUSY) {
		/* One is already pending: retry once the guest can take it. */
		vcpu->run->request_interrupt_window = 1;
		return false;
	}
	die_ioctl("LV_INTERRUPT");
}

static void vcpu_queue_pending(struct vcpu *vcpu)
{
	pthread_mutex_lock(&vcpu->lock);
	vcpu->run->request_interrupt_window = 0;
	if (vcpu->pending_irq >= 0 && queue_event(vcpu, vcpu->pending_irq, 0))
		vcpu->pending_irq = -1;
	if (vcpu->pending_nmi && queue_event(vcpu, 0, LV_INTERRUPT_NMI))
		vcpu->pending_nmi = false;
	pthread_mutex_unlock(&vcpu->lock);
}

static uint32_t io_read_item(const uint8_t *p, unsigned int size)
{
	uint32_t v = 0;

	memcpy(&v, p, size);
	return v;
}

/* Dispatch one port access to the device that owns the port. */
static void port_access(struct vcpu *vcpu, uint16_t port, bool is_write,
			unsigned int size, uint32_t *val)
{
	if (uart_io(port, is_write, size, val))
		return;
	if (debug_exit_io(port, is_write, size, val))
		return;
	if (pci_io(port, is_write, size, val))
		return;
	if (is_write) {
		trace("vcpu %d: unhandled OUT port 0x%x size %u value 0x%x ignored",
		      vcpu->id, port, size, *val);
	} else {
		*val = size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
		trace("vcpu %d: unhandled IN port 0x%x size %u returns 0x%x",
		      vcpu->id, port, size, *val);
	}
}

static void handle_io(struct vcpu *vcpu, struct vm *vm)
{
	struct lv_run *run = vcpu->run;
	bool is_write = run->io.direction == LV_EXIT_IO_OUT;
	unsigned int size = run->io.size;
	uint32_t count = run->io.count, i;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;

	if ((size != 1 && size != 2 && size != 4) ||
	    run->io.data_offset >= vm->run_size ||
	    (uint64_t)count * size > vm->run_size - run->io.data_offset)
		die("vcpu %d: malformed IO exit: size %u count %u data_offset 0x%llx",
		    vcpu->id, size, count, (unsigned long long)run->io.data_offset);

	if (is_write)
		trace("vcpu %d: IO out port 0x%x size %u count %u first 0x%x", vcpu->id,
		      run->io.port, size, count, count ? io_read_item(data, size) : 0);
	else
		trace("vcpu %d: IO in port 0x%x size %u count %u", vcpu->id,
		      run->io.port, size, count);

	for (i = 0; i < count; i++) {
		uint8_t *item = data + i * size;
		uint32_t val = is_write ? io_read_item(item, size) : 0;

		port_access(vcpu, run->io.port, is_write, size, &val);
		if (!is_write)
			memcpy(item, &val, size);
	}
}

static void handle_mmio(struct vcpu *vcpu)
{
	struct lv_run *run = vcpu->run;
	uint64_t gpa = run->mmio.phys_addr, val = 0;
	unsigned int len = run->mmio.len;
	bool is_write = run->mmio.is_write;

	if (len == 0 || len > 8)
		die("vcpu %d: malformed MMIO exit: len %u", vcpu->id, len);

	if (!mmio_testdev_access(gpa, is_write, len, run->mmio.data)) {
		if (!is_write)
			memset(run->mmio.data, 0xff, len);
		trace("vcpu %d: unhandled MMIO %s at 0x%llx len %u", vcpu->id,
		      is_write ? "write" : "read", (unsigned long long)gpa, len);
	}
	memcpy(&val, run->mmio.data, len);
	trace("vcpu %d: MMIO %s 0x%llx len %u data 0x%llx", vcpu->id,
	      is_write ? "write" : "read", (unsigned long long)gpa, len,
	      (unsigned long long)val);
}

static void handle_hypercall(struct vcpu *vcpu)
{
	struct lv_run *run = vcpu->run;

	fprintf(stderr,
		"lvrun: vcpu %d: unhandled hypercall 0x%llx (0x%llx, 0x%llx, 0x%llx, 0x%llx), returning -ENOSYS\n",
		vcpu->id, (unsigned long long)run->hypercall.nr,
		(unsigned long long)run->hypercall.args[0],
		(unsigned long long)run->hypercall.args[1],
		(unsigned long long)run->hypercall.args[2],
		(unsigned long long)run->hypercall.args[3]);
	run->hypercall.ret = (uint64_t)-LV_HC_ENOSYS;
}

static void report_internal_error(struct vcpu *vcpu)
{
	static const char *const names[] = {
		[LV_INTERNAL_ERROR_UNHANDLED_EXIT]	= "unhandled exit",
		[LV_INTERNAL_ERROR_EMULATION]		= "emulation failure",
		[LV_INTERNAL_ERROR_DELIVERY_EV]		= "event delivery failure",
		[LV_INTERNAL_ERROR_HOST_FAULT]		= "host fault",
	};
	struct lv_run *run = vcpu->run;
	uint32_t sub = run->internal.suberror, i, n = run->internal.ndata;
	const char *name = sub < sizeof(names) / sizeof(names[0]) && names[sub] ?
			   names[sub] : "unknown suberror";

	flockfile(stderr);
	fprintf(stderr, "lvrun: vcpu %d: lightvisor internal error: suberror %u (%s), hardware exit 0x%llx",
		vcpu->id, sub, name, (unsigned long long)run->exit_qualification);
	if (n > 16)
		n = 16;
	if (n)
		fputs(", data:", stderr);
	for (i = 0; i < n; i++)
		fprintf(stderr, " 0x%llx", (unsigned long long)run->internal.data[i]);
	fputc('\n', stderr);
	funlockfile(stderr);
}

/*
 * A vCPU halted for good; the last one to do so ends the run. The others
 * just stop here: a thread that ended with pthread_exit() would unwind
 * its stack, which races with the process exit of the last one.
 */
static void vcpu_halted(struct vcpu *vcpu)
{
	trace("vcpu %d: halted with interrupts disabled", vcpu->id);
	if (atomic_fetch_sub(&running_vcpus, 1) == 1) {
		trace("all vCPUs halted");
		lvrun_finish(LVRUN_EXIT_HALT);
	}
	for (;;)
		pause();
}

static void handle_timeout(struct vcpu *vcpu)
{
	fprintf(stderr, "lvrun: vcpu %d: timeout after %u s, guest stopped\n",
		vcpu->id, opts.timeout_sec);
	lvrun_finish(LVRUN_EXIT_TIMEOUT);
}

static void handle_exit(struct vcpu *vcpu, struct vm *vm)
{
	struct lv_run *run = vcpu->run;

	switch (run->exit_reason) {
	case LV_EXIT_IO:
		handle_io(vcpu, vm);
		break;
	case LV_EXIT_MMIO:
		handle_mmio(vcpu);
		break;
	case LV_EXIT_HLT:
		vcpu_halted(vcpu);
		break;
	case LV_EXIT_SHUTDOWN:
		fprintf(stderr, "lvrun: vcpu %d: guest shutdown (triple fault)\n", vcpu->id);
		lvrun_finish(LVRUN_EXIT_SHUTDOWN);
	case LV_EXIT_FAIL_ENTRY:
		fprintf(stderr, "lvrun: vcpu %d: VM entry failed: hardware reason 0x%llx on CPU %u\n",
			vcpu->id,
			(unsigned long long)run->fail_entry.hardware_entry_failure_reason,
			run->fail_entry.cpu);
		lvrun_finish(LVRUN_EXIT_FAIL_ENTRY);
	case LV_EXIT_INTERNAL_ERROR:
		report_internal_error(vcpu);
		lvrun_finish(LVRUN_EXIT_INTERNAL);
	case LV_EXIT_INTR:
		trace("vcpu %d: INTR", vcpu->id);
		if (timed_out)
			handle_timeout(vcpu);
		break;
	case LV_EXIT_HYPERCALL:
		handle_hypercall(vcpu);
		break;
	case LV_EXIT_IRQ_WINDOW_OPEN:
		trace("vcpu %d: interrupt window open", vcpu->id);
		break;
	default:
		fprintf(stderr, "lvrun: vcpu %d: unexpected exit reason %u (hardware exit 0x%llx)\n",
			vcpu->id, run->exit_reason,
			(unsigned long long)run->exit_qualification);
		lvrun_finish(LVRUN_EXIT_INTERNAL);
	}
}

static void count_exit(uint32_t reason)
{
	atomic_fetch_add(&exit_counts[reason < NR_EXIT_REASONS ? reason : NR_EXIT_REASONS], 1);
}

struct vcpu_thread_arg {
	struct vm *vm;
	struct vcpu *vcpu;
};

static struct vcpu_thread_arg thread_args[LVRUN_MAX_VCPUS];

static void *vcpu_thread(void *p)
{
	struct vcpu_thread_arg *arg = p;
	struct vcpu *vcpu = arg->vcpu;
	struct lv_run *run = vcpu->run;

	this_run = run;
	for (;;) {
		int ret;

		if (timed_out)
			handle_timeout(vcpu);
		vcpu_queue_pending(vcpu);

		ret = ioctl(vcpu->fd, LV_RUN, 0);
		/* Rearm after a kick; the kick itself has done its job. */
		run->immediate_exit = 0;
		if (ret < 0) {
			if (errno != EINTR && errno != EAGAIN)
				die("vcpu %d: ioctl LV_RUN failed: %s", vcpu->id,
				    strerror(errno));
			/* Signal: the exit reason is LV_EXIT_INTR by ABI. */
			run->exit_reason = LV_EXIT_INTR;
		}
		count_exit(run->exit_reason);
		if (run->exit_reason != LV_EXIT_IO && run->exit_reason != LV_EXIT_MMIO)
			trace("vcpu %d: exit %s (hardware exit 0x%llx)", vcpu->id,
			      exit_name(run->exit_reason),
			      (unsigned long long)run->exit_qualification);
		handle_exit(vcpu, arg->vm);
	}
	return NULL;
}

void vcpu_start_all(struct vm *vm)
{
	sigset_t block, old;
	int i, err;

	/*
	 * Only the vCPU threads take the kick signal: keep it blocked in the
	 * main thread, and let the new threads inherit an unblocked mask.
	 */
	sigemptyset(&block);
	sigaddset(&block, LVRUN_KICK_SIGNAL);

	for (i = 0; i < vm->nr_vcpus; i++)
		if (!vm->vcpus[i].parked)
			atomic_fetch_add(&running_vcpus, 1);

	for (i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];

		if (vcpu->parked) {
			trace("vcpu %d: parked (real-mode images run on vCPU 0 only)", i);
			continue;
		}
		thread_args[i] = (struct vcpu_thread_arg){ vm, vcpu };
		err = pthread_create(&vcpu->thread, NULL, vcpu_thread, &thread_args[i]);
		if (err)
			die("pthread_create: %s", strerror(err));
	}
	pthread_sigmask(SIG_BLOCK, &block, &old);
}
