// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: the per-vCPU run loop and exit dispatch. Port and MMIO exits go
 * to whichever device registered the address on the bus.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "lvrun.h"
#include "threads.h"

static atomic_ulong exit_counts[HV_NR_EXITS];
static atomic_int running_vcpus;
static volatile sig_atomic_t timed_out;

/* The vCPU this thread runs, for the kick signal handler. */
static __thread struct hv_vcpu *this_vcpu;

static const char *const exit_names[HV_NR_EXITS] = {
	[HV_EXIT_UNKNOWN]	= "UNKNOWN",
	[HV_EXIT_IO]		= "IO",
	[HV_EXIT_MMIO]		= "MMIO",
	[HV_EXIT_HLT]		= "HLT",
	[HV_EXIT_SHUTDOWN]	= "SHUTDOWN",
	[HV_EXIT_FAIL_ENTRY]	= "FAIL_ENTRY",
	[HV_EXIT_INTERNAL]	= "INTERNAL_ERROR",
	[HV_EXIT_INTR]		= "INTR",
	[HV_EXIT_HYPERCALL]	= "HYPERCALL",
	[HV_EXIT_IRQ_WINDOW]	= "IRQ_WINDOW_OPEN",
};

static void stats_print(void)
{
	unsigned int i;

	/* Only the reasons that occurred: the table is mostly zeros. */
	fprintf(stderr, "lvrun: exits to userspace by reason:\n");
	for (i = 0; i < HV_NR_EXITS; i++) {
		unsigned long n = atomic_load(&exit_counts[i]);

		if (n)
			fprintf(stderr, "lvrun:   %-16s %lu\n", exit_names[i], n);
	}
}

void vcpu_stats_at_exit(void)
{
	lvrun_at_exit(stats_print);
}

uint64_t vcpu_exits_total(void)
{
	uint64_t sum = 0;
	unsigned int i;

	for (i = 0; i < HV_NR_EXITS; i++)
		sum += atomic_load(&exit_counts[i]);
	return sum;
}

/*
 * The kick signal only has to interrupt the run call. If it arrives just
 * before the thread enters it, immediate_exit makes that entry return
 * EINTR at once, so no kick is lost.
 */
static void kick_handler(int sig)
{
	(void)sig;
	if (this_vcpu)
		*this_vcpu->immediate_exit = 1;
}

void vcpu_install_kick_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: the run call must return EINTR */
	if (sigaction(LVRUN_KICK_SIGNAL, &sa, NULL) < 0)
		die("sigaction: %s", strerror(errno));
}

void vcpu_kick(struct vcpu *vcpu)
{
	pthread_kill(vcpu->thread, LVRUN_KICK_SIGNAL);
}

/*
 * Interrupts are queued by the vCPU thread itself between two run calls,
 * so lvrun does not depend on whether the hypervisor allows vCPU ioctls
 * concurrently with running; other threads only record the request and
 * kick the vCPU out of the guest.
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

void vcpu_stop_all_timeout(struct vm *vm)
{
	int i;

	timed_out = 1;
	for (i = 0; i < vm->nr_vcpus; i++)
		if (!vm->vcpus[i].parked)
			vcpu_kick(&vm->vcpus[i]);
}

/* Kicks every started thread; a kick to a parked one does no harm. */
static void vcpu_kick_all(struct vm *vm)
{
	int i;

	for (i = 0; i < vm->nr_vcpus; i++)
		if (!vm->vcpus[i].parked)
			vcpu_kick(&vm->vcpus[i]);
}

static void vcpu_pause_init(struct vm *vm)
{
	struct vm_pause *p = &vm->pause;
	pthread_condattr_t attr;
	int i;

	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&p->changed, &attr);
	pthread_condattr_destroy(&attr);
	atomic_init(&p->requested, false);
	for (i = 0; i < vm->nr_vcpus; i++)
		p->members += !vm->vcpus[i].parked;
}

/* Called by the vCPU thread itself, with nothing of the guest's in hand. */
static void vcpu_park(struct vcpu *vcpu)
{
	struct vm_pause *p = &vcpu->vm->pause;

	trace("vcpu %d: parked for a pause", vcpu->hv.id);
	pthread_mutex_lock(&p->lock);
	p->parked++;
	pthread_cond_broadcast(&p->changed);
	while (atomic_load(&p->requested))
		pthread_cond_wait(&p->changed, &p->lock);
	p->parked--;
	pthread_mutex_unlock(&p->lock);
	trace("vcpu %d: resumed", vcpu->hv.id);
}

/* A thread halted for good: a pause no longer waits for it. */
static void vcpu_pause_leave(struct vm *vm)
{
	struct vm_pause *p = &vm->pause;

	pthread_mutex_lock(&p->lock);
	p->members--;
	pthread_cond_broadcast(&p->changed);
	pthread_mutex_unlock(&p->lock);
}

/*
 * The kicks make each thread leave its run call; a thread busy in lvrun
 * (a slow device) sees the request when it comes back. The kick is
 * repeated in case a thread was between its check of the request and
 * its run call's clearing of immediate_exit.
 */
int vcpu_pause_all(struct vm *vm)
{
	struct vm_pause *p = &vm->pause;
	struct timespec t;

	pthread_mutex_lock(&p->lock);
	if (atomic_load(&p->requested)) {
		pthread_mutex_unlock(&p->lock);
		return -EALREADY;
	}
	atomic_store(&p->requested, true);
	while (p->parked < p->members) {
		vcpu_kick_all(vm);
		clock_gettime(CLOCK_MONOTONIC, &t);
		t.tv_nsec += 100 * 1000000L;
		if (t.tv_nsec >= 1000000000L) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&p->changed, &p->lock, &t);
	}
	pthread_mutex_unlock(&p->lock);
	return 0;
}

int vcpu_resume_all(struct vm *vm)
{
	struct vm_pause *p = &vm->pause;

	pthread_mutex_lock(&p->lock);
	if (!atomic_load(&p->requested)) {
		pthread_mutex_unlock(&p->lock);
		return -EALREADY;
	}
	atomic_store(&p->requested, false);
	pthread_cond_broadcast(&p->changed);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static void vcpu_queue_pending(struct vcpu *vcpu)
{
	const struct hv_ops *ops = vcpu->vm->hv.ops;
	bool window = false;

	pthread_mutex_lock(&vcpu->lock);
	if (vcpu->pending_irq >= 0) {
		if (ops->queue_irq(&vcpu->hv, vcpu->pending_irq) == 0) {
			trace("vcpu %d: queued interrupt vector 0x%x", vcpu->hv.id,
			      vcpu->pending_irq);
			vcpu->pending_irq = -1;
		} else {
			window = true;	/* one is pending: retry when it can take one */
		}
	}
	if (vcpu->pending_nmi) {
		if (ops->queue_nmi(&vcpu->hv) == 0) {
			trace("vcpu %d: queued NMI", vcpu->hv.id);
			vcpu->pending_nmi = false;
		} else {
			window = true;
		}
	}
	ops->request_irq_window(&vcpu->hv, window);
	pthread_mutex_unlock(&vcpu->lock);
}

static uint32_t io_item(const uint8_t *p, unsigned int size)
{
	uint32_t v = 0;

	memcpy(&v, p, size);
	return v;
}

static void handle_io(struct vcpu *vcpu, const struct hv_exit *ex)
{
	struct vm *vm = vcpu->vm;
	unsigned int size = ex->io.size;
	uint32_t i;

	if ((size != 1 && size != 2 && size != 4) ||
	    ex->io.data < (uint8_t *)vcpu->hv.run ||
	    ex->io.data >= (uint8_t *)vcpu->hv.run + vm->hv.run_size ||
	    (uint64_t)ex->io.count * size >
	    vm->hv.run_size - (ex->io.data - (uint8_t *)vcpu->hv.run))
		die("vcpu %d: malformed IO exit: size %u count %u", vcpu->hv.id,
		    size, ex->io.count);

	if (ex->io.out)
		trace("vcpu %d: IO out port 0x%x size %u count %u first 0x%x",
		      vcpu->hv.id, ex->io.port, size, ex->io.count,
		      ex->io.count ? io_item(ex->io.data, size) : 0);
	else
		trace("vcpu %d: IO in port 0x%x size %u count %u", vcpu->hv.id,
		      ex->io.port, size, ex->io.count);

	for (i = 0; i < ex->io.count; i++) {
		uint8_t *item = ex->io.data + i * size;

		if (bus_access(&vm->pio, ex->io.port, ex->io.out, item, size))
			continue;
		if (ex->io.out) {
			trace("vcpu %d: unhandled OUT port 0x%x size %u value 0x%x ignored",
			      vcpu->hv.id, ex->io.port, size, io_item(item, size));
		} else {
			memset(item, 0xff, size);
			trace("vcpu %d: unhandled IN port 0x%x size %u returns all ones",
			      vcpu->hv.id, ex->io.port, size);
		}
	}
}

static void handle_mmio(struct vcpu *vcpu, const struct hv_exit *ex)
{
	uint64_t val = 0;
	unsigned int len = ex->mmio.len;

	if (len == 0 || len > 8)
		die("vcpu %d: malformed MMIO exit: len %u", vcpu->hv.id, len);
	if (!bus_access(&vcpu->vm->mmio, ex->mmio.gpa, ex->mmio.write,
			ex->mmio.data, len)) {
		if (!ex->mmio.write)
			memset(ex->mmio.data, 0xff, len);
		trace("vcpu %d: unhandled MMIO %s at 0x%llx len %u", vcpu->hv.id,
		      ex->mmio.write ? "write" : "read",
		      (unsigned long long)ex->mmio.gpa, len);
	}
	memcpy(&val, ex->mmio.data, len);
	trace("vcpu %d: MMIO %s 0x%llx len %u data 0x%llx", vcpu->hv.id,
	      ex->mmio.write ? "write" : "read", (unsigned long long)ex->mmio.gpa,
	      len, (unsigned long long)val);
}

static void handle_hypercall(struct vcpu *vcpu, const struct hv_exit *ex)
{
	warn("vcpu %d: unhandled hypercall 0x%llx (0x%llx, 0x%llx, 0x%llx, 0x%llx), returning -ENOSYS",
	     vcpu->hv.id, (unsigned long long)ex->hypercall.nr,
	     (unsigned long long)ex->hypercall.args[0],
	     (unsigned long long)ex->hypercall.args[1],
	     (unsigned long long)ex->hypercall.args[2],
	     (unsigned long long)ex->hypercall.args[3]);
	*ex->hypercall.ret = (uint64_t)-LV_HC_ENOSYS;
}

static void report_internal_error(struct vcpu *vcpu, const struct hv_exit *ex)
{
	static const char *const names[] = {
		[LV_INTERNAL_ERROR_UNHANDLED_EXIT]	= "unhandled exit",
		[LV_INTERNAL_ERROR_EMULATION]		= "emulation failure",
		[LV_INTERNAL_ERROR_DELIVERY_EV]		= "event delivery failure",
		[LV_INTERNAL_ERROR_HOST_FAULT]		= "host fault",
	};
	uint32_t sub = ex->internal.suberror, i, n = ex->internal.ndata;
	bool lv = vcpu->vm->hv.ops == &hv_lightvisor_ops;
	const char *name = lv && sub < sizeof(names) / sizeof(names[0]) && names[sub] ?
			   names[sub] : "see the hypervisor's documentation";

	flockfile(stderr);
	fprintf(stderr, "lvrun: vcpu %d: %s internal error: suberror %u (%s), hardware exit 0x%llx",
		vcpu->hv.id, vcpu->vm->hv.ops->name, sub, name,
		(unsigned long long)ex->hw_reason);
	if (n > 16)
		n = 16;
	if (n)
		fputs(", data:", stderr);
	for (i = 0; i < n; i++)
		fprintf(stderr, " 0x%llx", (unsigned long long)ex->internal.data[i]);
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
	trace("vcpu %d: halted with interrupts disabled", vcpu->hv.id);
	vcpu->halted = true;
	vcpu_pause_leave(vcpu->vm);
	if (atomic_fetch_sub(&running_vcpus, 1) == 1) {
		trace("all vCPUs halted");
		lvrun_exit(LVRUN_EXIT_HALT);
	}
	for (;;)
		pause();
}

static void handle_timeout(struct vcpu *vcpu)
{
	warn("vcpu %d: timeout after %u s, guest stopped", vcpu->hv.id,
	     opts.timeout_sec);
	lvrun_exit(LVRUN_EXIT_TIMEOUT);
}

static void handle_exit(struct vcpu *vcpu, const struct hv_exit *ex)
{
	switch (ex->reason) {
	case HV_EXIT_IO:
		handle_io(vcpu, ex);
		break;
	case HV_EXIT_MMIO:
		handle_mmio(vcpu, ex);
		break;
	case HV_EXIT_HLT:
		vcpu_halted(vcpu);
		break;
	case HV_EXIT_SHUTDOWN:
		warn("vcpu %d: guest shutdown (triple fault)", vcpu->hv.id);
		lvrun_exit(LVRUN_EXIT_SHUTDOWN);
	case HV_EXIT_FAIL_ENTRY:
		warn("vcpu %d: VM entry failed: hardware reason 0x%llx on CPU %u",
		     vcpu->hv.id, (unsigned long long)ex->fail_entry.reason,
		     ex->fail_entry.cpu);
		lvrun_exit(LVRUN_EXIT_FAIL_ENTRY);
	case HV_EXIT_INTERNAL:
		report_internal_error(vcpu, ex);
		lvrun_exit(LVRUN_EXIT_INTERNAL);
	case HV_EXIT_INTR:
		trace("vcpu %d: INTR", vcpu->hv.id);
		if (timed_out)
			handle_timeout(vcpu);
		break;
	case HV_EXIT_HYPERCALL:
		handle_hypercall(vcpu, ex);
		break;
	case HV_EXIT_IRQ_WINDOW:
		trace("vcpu %d: interrupt window open", vcpu->hv.id);
		break;
	default:
		warn("vcpu %d: unexpected %s exit reason %u (hardware exit 0x%llx)",
		     vcpu->hv.id, vcpu->vm->hv.ops->name, ex->raw_reason,
		     (unsigned long long)ex->hw_reason);
		lvrun_exit(LVRUN_EXIT_INTERNAL);
	}
}

static void *vcpu_thread(void *p)
{
	struct vcpu *vcpu = p;
	const struct hv_ops *ops = vcpu->vm->hv.ops;
	struct hv_exit ex;
	bool in_hand = false;	/* an exit whose instruction is not done */

	this_vcpu = &vcpu->hv;
	if (vcpu->vm->vcpu_entering)
		vcpu->vm->vcpu_entering();
	for (;;) {
		if (timed_out)
			handle_timeout(vcpu);
		if (atomic_load(&vcpu->vm->pause.requested)) {
			if (!in_hand) {
				vcpu_park(vcpu);
				continue;
			}
			/*
			 * The run call first completes the instruction whose
			 * I/O lvrun just did, then returns without entering
			 * the guest.
			 */
			*vcpu->hv.immediate_exit = 1;
		}
		vcpu_queue_pending(vcpu);

		memset(&ex, 0, sizeof(ex));
		if (ops->run(&vcpu->hv, &ex) < 0) {
			if (errno != EINTR && errno != EAGAIN)
				die("vcpu %d: %s run failed: %s", vcpu->hv.id, ops->name,
				    strerror(errno));
			ex.reason = HV_EXIT_INTR;
		}
		/* Only a return before an entry finished everything. */
		in_hand = ex.reason != HV_EXIT_INTR;
		atomic_fetch_add(&exit_counts[ex.reason], 1);
		if (ex.reason != HV_EXIT_IO && ex.reason != HV_EXIT_MMIO)
			trace("vcpu %d: exit %s (hardware exit 0x%llx)", vcpu->hv.id,
			      exit_names[ex.reason], (unsigned long long)ex.hw_reason);
		handle_exit(vcpu, &ex);
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
	vcpu_pause_init(vm);

	for (i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *vcpu = &vm->vcpus[i];

		if (vcpu->parked) {
			trace("vcpu %d: parked (nothing can start it)", i);
			continue;
		}
		err = lvrun_thread_create(&vcpu->thread, vcpu_thread, vcpu);
		if (err)
			die("pthread_create: %s", strerror(err));
	}
	pthread_sigmask(SIG_BLOCK, &block, &old);
}
