// SPDX-License-Identifier: GPL-2.0
/*
 * abi_multi: two VMs run at once in two threads, and one VM runs two
 * vCPUs in two threads. Each guest writes its id (BL) to port 0x20 ten
 * times and halts; every write must arrive, tagged with the right id.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "test_util.h"

#define WRITES	10

struct worker {
	struct test_vm *vm;
	struct test_vcpu vcpu;
	uint8_t id;
	int good, bad;
	const char *error;
	pthread_t thread;
};

static int sys_fd;

static void *worker_run(void *p)
{
	struct worker *w = p;
	struct lv_run *run = w->vcpu.run;
	struct lv_regs regs;

	ioctl(w->vcpu.fd, LV_GET_REGS, &regs);
	regs.rbx = w->id;
	if (ioctl(w->vcpu.fd, LV_SET_REGS, &regs) < 0) {
		w->error = "LV_SET_REGS failed";
		return NULL;
	}
	for (;;) {
		if (vcpu_run(&w->vcpu) < 0) {
			w->error = "LV_RUN failed";
			return NULL;
		}
		if (run->exit_reason == LV_EXIT_HLT)
			return NULL;
		if (run->exit_reason != LV_EXIT_IO || run->io.port != GUEST_COUNT_PORT) {
			w->error = "unexpected exit";
			return NULL;
		}
		if (*((uint8_t *)run + run->io.data_offset) == w->id)
			w->good++;
		else
			w->bad++;
	}
}

static void setup_worker(struct worker *w, struct test_vm *vm, int vcpu_id, uint8_t id)
{
	w->vm = vm;
	w->id = id;
	vcpu_create(sys_fd, vm, vcpu_id, &w->vcpu);
	vcpu_setup_realmode(&w->vcpu, GUEST_CODE_GPA);
}

static void run_workers(struct worker *w, int n, const char *what)
{
	int i;

	for (i = 0; i < n; i++)
		pthread_create(&w[i].thread, NULL, worker_run, &w[i]);
	for (i = 0; i < n; i++)
		pthread_join(w[i].thread, NULL);
	for (i = 0; i < n; i++) {
		char name[128];

		snprintf(name, sizeof(name), "%s: guest %u wrote its id %d times", what,
			 w[i].id, WRITES);
		if (w[i].error)
			tap_fail(name, "%s (%s)", w[i].error, strerror(errno));
		else if (w[i].good != WRITES || w[i].bad)
			tap_fail(name, "expected %d got %d (+%d with a wrong id)", WRITES,
				 w[i].good, w[i].bad);
		else
			tap_result(true, "%s", name);
	}
}

int main(void)
{
	struct test_vm vms[2], shared;
	struct worker w[2];
	int i;

	sys_fd = open_sys();
	require_run_guests(sys_fd);

	/* Two VMs, one vCPU each. */
	memset(w, 0, sizeof(w));
	for (i = 0; i < 2; i++) {
		vm_create(sys_fd, &vms[i]);
		vm_add_ram(&vms[i]);
		vm_load(&vms[i], GUEST_CODE_GPA, guest_count, GUEST_LEN(guest_count));
		setup_worker(&w[i], &vms[i], 0, 1 + i);
	}
	run_workers(w, 2, "two VMs");
	for (i = 0; i < 2; i++) {
		close(w[i].vcpu.fd);
		close(vms[i].fd);
	}

	/* One VM, two vCPUs running the same code. */
	if (check_cap(sys_fd, LV_CAP_MAX_VCPUS) < 2) {
		tap_skip("one VM with two vCPUs", "LV_CAP_MAX_VCPUS < 2");
		tap_finish();
	}
	memset(w, 0, sizeof(w));
	vm_create(sys_fd, &shared);
	vm_add_ram(&shared);
	vm_load(&shared, GUEST_CODE_GPA, guest_count, GUEST_LEN(guest_count));
	for (i = 0; i < 2; i++)
		setup_worker(&w[i], &shared, i, 3 + i);
	run_workers(w, 2, "one VM, two vCPUs");
	tap_finish();
}
