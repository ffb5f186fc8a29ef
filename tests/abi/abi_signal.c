// SPDX-License-Identifier: GPL-2.0
/*
 * abi_signal: a signal interrupts a guest spinning in LV_RUN, and
 * immediate_exit returns at once without entering the guest.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "test_util.h"

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void arm_timer_ms(long ms)
{
	struct itimerval it = { .it_value = { ms / 1000, (ms % 1000) * 1000 } };

	if (setitimer(ITIMER_REAL, &it, NULL))
		die("setitimer");
}

int main(void)
{
	struct sigaction sa;
	struct test_vm vm;
	struct test_vcpu vcpu;
	double t0, dt;
	int ret, err;

	int sys_fd = open_sys();

	require_run_guests(sys_fd);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART */
	sigaction(SIGALRM, &sa, NULL);

	vm_create(sys_fd, &vm);
	vm_add_ram(&vm);
	vcpu_create(sys_fd, &vm, 0, &vcpu);

	/* 1. A timer signal stops a spinning guest. */
	vm_load(&vm, GUEST_CODE_GPA, guest_loop, GUEST_LEN(guest_loop));
	vcpu_setup_realmode(&vcpu, GUEST_CODE_GPA);
	t0 = now();
	arm_timer_ms(50);
	ret = vcpu_run(&vcpu);
	err = errno;
	dt = now() - t0;
	tap_errno(ret, err, EINTR, "LV_RUN of a spinning guest returns EINTR on a signal");
	tap_eq(LV_EXIT_INTR, vcpu.run->exit_reason, "exit_reason is LV_EXIT_INTR");
	tap_result(alarms == 1, "the signal handler ran once");
	tap_result(dt >= 0.045 && dt < 5, "LV_RUN returned after ~50 ms (%.3f s)", dt);

	/* 2. Running again continues the guest until the next signal. */
	arm_timer_ms(20);
	ret = vcpu_run(&vcpu);
	tap_errno(ret, errno, EINTR, "a second run is interrupted again");

	/* 3. immediate_exit: no entry at all. */
	vm_load(&vm, GUEST_CODE_GPA, guest_io_hlt, GUEST_LEN(guest_io_hlt));
	vcpu_setup_realmode(&vcpu, GUEST_CODE_GPA);
	vcpu.run->immediate_exit = 1;
	ret = vcpu_run(&vcpu);
	tap_errno(ret, errno, EINTR, "immediate_exit=1 -> EINTR");
	tap_eq(LV_EXIT_INTR, vcpu.run->exit_reason, "immediate_exit: exit_reason LV_EXIT_INTR");
	vcpu.run->immediate_exit = 0;
	ret = vcpu_run(&vcpu);
	tap_result(ret == 0 && vcpu.run->exit_reason == LV_EXIT_IO && vcpu.run->io.port == 0x10,
		   "the guest had not run: the next run exits on its first OUT");
	tap_finish();
}
