// SPDX-License-Identifier: GPL-2.0
/*
 * abi_interrupt: LV_INTERRUPT argument checks, one pending interrupt at a
 * time, and delivery to a real-mode guest waiting in STI;HLT (its handler
 * reports the vector on port 0x30).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <unistd.h>

#include "test_util.h"

static void on_alarm(int sig)
{
	(void)sig;
}

static int queue(struct test_vcpu *vcpu, uint32_t vector, uint32_t flags)
{
	struct lv_interrupt irq = { .vector = vector, .flags = flags };

	return ioctl(vcpu->fd, LV_INTERRUPT, &irq);
}

static void arm_timer_ms(long ms)
{
	/* Periodic, so a guest that never takes the interrupt cannot hang us. */
	struct itimerval it = {
		.it_value = { ms / 1000, (ms % 1000) * 1000 },
		.it_interval = { ms / 1000, (ms % 1000) * 1000 },
	};

	if (setitimer(ITIMER_REAL, &it, NULL))
		die("setitimer");
}

/* Run until the guest's handler reports; returns the vector or -1. */
static int run_to_handler(struct test_vcpu *vcpu, int *interrupted)
{
	struct lv_run *run = vcpu->run;

	*interrupted = 0;
	for (;;) {
		if (vcpu_run(vcpu) < 0) {
			if (errno != EINTR)
				return -1;
			if (++*interrupted > 3)
				return -1;
			continue;
		}
		if (run->exit_reason == LV_EXIT_IO && run->io.port == GUEST_IRQ_PORT)
			return *((uint8_t *)run + run->io.data_offset);
		if (run->exit_reason != LV_EXIT_IRQ_WINDOW_OPEN)
			return -1;
	}
}

struct async_queue {
	struct test_vcpu *vcpu;
	int ret, err;
};

static void *queue_later(void *p)
{
	struct async_queue *q = p;

	usleep(50000);
	q->ret = queue(q->vcpu, 0x40, 0);
	q->err = errno;
	return NULL;
}

static void set_ivt(struct test_vm *vm, int vector, uint16_t offset)
{
	uint16_t entry[2] = { offset, 0 };

	memcpy(vm->mem + vector * 4, entry, sizeof(entry));
}

int main(void)
{
	struct sigaction sa;
	struct test_vm vm;
	struct test_vcpu vcpu;
	struct async_queue q;
	pthread_t thread;
	int ret, vec, intr;

	int sys_fd = open_sys();

	require_run_guests(sys_fd);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);

	vm_create(sys_fd, &vm);
	vm_add_ram(&vm);
	vm_load(&vm, GUEST_CODE_GPA, guest_irq, GUEST_LEN(guest_irq));
	set_ivt(&vm, 0x40, GUEST_CODE_GPA + GUEST_IRQ_HANDLER40);
	set_ivt(&vm, 0x41, GUEST_CODE_GPA + GUEST_IRQ_HANDLER41);
	vcpu_create(sys_fd, &vm, 0, &vcpu);
	vcpu_setup_realmode(&vcpu, GUEST_CODE_GPA);

	/* Argument checks, before anything is pending. */
	tap_errno(queue(&vcpu, 5, 0), errno, EINVAL, "vector 5 (< 32) -> EINVAL");
	tap_errno(queue(&vcpu, 31, 0), errno, EINVAL, "vector 31 -> EINVAL");
	tap_errno(queue(&vcpu, 256, 0), errno, EINVAL, "vector 256 -> EINVAL");
	tap_errno(queue(&vcpu, 0x40, 0x80), errno, EINVAL, "unknown flags -> EINVAL");

	/* One pending interrupt at a time. */
	tap_errno(queue(&vcpu, 0x40, 0), errno, 0, "queue vector 0x40");
	tap_errno(queue(&vcpu, 0x41, 0), errno, EBUSY, "a second pending vector -> EBUSY");

	/* The guest starts with IF=0, then STI;HLT: then it takes 0x40. */
	arm_timer_ms(2000);
	vec = run_to_handler(&vcpu, &intr);
	arm_timer_ms(0);
	tap_eq(0x40, vec, "queued vector delivered once the guest enables interrupts");

	/* The guest is now in STI;HLT; a signal gets LV_RUN back. */
	arm_timer_ms(50);
	ret = vcpu_run(&vcpu);
	tap_errno(ret, errno, EINTR, "guest halted with IF=1 stays in LV_RUN until a signal");
	tap_errno(queue(&vcpu, 0x41, 0), errno, 0, "queue vector 0x41 while the guest is halted");
	arm_timer_ms(2000);
	vec = run_to_handler(&vcpu, &intr);
	arm_timer_ms(0);
	tap_eq(0x41, vec, "vector 0x41 wakes the halted guest");

	/*
	 * From another thread while LV_RUN sleeps in the guest's HLT. If the
	 * module serialises vCPU ioctls the queueing thread waits until the
	 * 1 s alarm gets LV_RUN out; either way the interrupt must arrive.
	 */
	memset(&q, 0, sizeof(q));
	q.vcpu = &vcpu;
	pthread_create(&thread, NULL, queue_later, &q);
	arm_timer_ms(1000);
	vec = run_to_handler(&vcpu, &intr);
	arm_timer_ms(0);
	pthread_join(thread, NULL);
	tap_errno(q.ret, q.err, 0, "LV_INTERRUPT from another thread");
	tap_eq(0x40, vec, "interrupt queued from another thread is delivered");
	tap_diag("the cross-thread interrupt %s", intr ? "waited for the alarm signal"
							: "woke the halted vCPU directly");
	tap_finish();
}
