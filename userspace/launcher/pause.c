// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun: pausing the whole VM for the control socket. The vCPUs park
 * (vcpu.c); the guest's clocks stop with them unless --pause-clock=wall:
 * on resume the TSC is moved back by the paused time, so the guest sees
 * no jump (its timekeeping would otherwise count the pause as time it
 * lost, or take it for a hang), and lvrun's RTC moves its time back the
 * same way. In both modes the RTC raises nothing while paused and owes
 * nothing for it afterwards: no burst of periodic interrupts on resume.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "log.h"
#include "lvrun.h"

static int64_t host_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int vm_pause(struct vm *vm)
{
	int ret = vcpu_pause_all(vm);

	if (ret)
		return ret;
	vm->pause.host_tsc = __rdtsc();
	vm->pause.host_ns = host_ns();
	rtc_pause(&vm->dev.rtc, vm->pause.host_ns);
	trace("paused");
	return 0;
}

/* The vCPUs' TSC back by the host ticks the pause lasted. */
static void vm_hide_pause_from_tsc(struct vm *vm)
{
	struct hv_vcpu *vcpus[LVRUN_MAX_VCPUS];
	int64_t delta = __rdtsc() - vm->pause.host_tsc;
	int i;

	for (i = 0; i < vm->nr_vcpus; i++)
		vcpus[i] = &vm->vcpus[i].hv;
	if (vm->hv.ops->shift_tsc(&vm->hv, vcpus, vm->nr_vcpus, -delta))
		warn("%s cannot move the guest's TSC (%s): its clock jumps by the pause",
		     vm->hv.ops->name, strerror(errno));
	else
		trace("guest TSC moved back by %lld ticks", (long long)delta);
}

int vm_resume(struct vm *vm)
{
	int64_t now = host_ns(), paused_ns = 0;

	if (!vm_paused(vm))
		return -EALREADY;
	if (opts.pause_clock == PAUSE_CLOCK_GUEST) {
		vm_hide_pause_from_tsc(vm);
		paused_ns = now - vm->pause.host_ns;
	}
	rtc_resume(&vm->dev.rtc, now, paused_ns);
	return vcpu_resume_all(vm);
}

bool vm_paused(struct vm *vm)
{
	return atomic_load(&vm->pause.requested);
}

void vm_pause_restart_clock(struct vm *vm)
{
	vm->pause.host_tsc = __rdtsc();
	vm->pause.host_ns = host_ns();
}
