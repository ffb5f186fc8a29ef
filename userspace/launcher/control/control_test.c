// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side tests of the control socket's commands (control_cmd.c) on a
 * fake VM. Linked into lvrun-loadertest, which prints the TAP plan.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../tap.h"
#include "control.h"

struct fake_vm {
	bool paused;
	bool restored;
	int pauses, resumes, resets;
	char saved[64];
	int forked;
	char migrated_to[64];
	bool checksum;
};

static int fake_pause(void *ctx)
{
	struct fake_vm *vm = ctx;

	if (vm->paused)
		return -EALREADY;
	vm->paused = true;
	vm->pauses++;
	return 0;
}

static int fake_resume(void *ctx)
{
	struct fake_vm *vm = ctx;

	if (!vm->paused)
		return -EALREADY;
	vm->paused = false;
	vm->resumes++;
	return 0;
}

/* Saves succeed, except into /full ("disk full" with a quote in it). */
static int fake_save(void *ctx, const char *path, char *err, size_t errlen)
{
	struct fake_vm *vm = ctx;

	if (!strncmp(path, "/full", 5)) {
		snprintf(err, errlen, "cannot write \"%s\": no space", path);
		return -ENOSPC;
	}
	strncpy(vm->saved, path, sizeof(vm->saved) - 1);
	return 0;
}

/* Resets succeed once the fake VM has a snapshot; they keep its state. */
static int fake_reset(void *ctx, bool *paused, char *err, size_t errlen)
{
	struct fake_vm *vm = ctx;

	if (!vm->restored) {
		snprintf(err, errlen, "reset needs a VM restored from a snapshot");
		return -EOPNOTSUPP;
	}
	vm->resets++;
	*paused = vm->paused;
	return 0;
}

/* Forks go through a save, so they fail where saves do. */
static int fake_fork(void *ctx, const char *path, int count, pid_t *pid,
		     char *err, size_t errlen)
{
	struct fake_vm *vm = ctx;
	int ret = fake_save(ctx, path, err, errlen);

	if (ret)
		return ret;
	vm->forked += count;
	*pid = 4321;
	return 0;
}

/* Migrations succeed, except to unix:/refuse (the target says no). */
static int fake_migrate(void *ctx, const char *address, bool checksum,
			struct mig_report *r, char *err, size_t errlen)
{
	struct fake_vm *vm = ctx;

	memset(r, 0, sizeof(*r));
	if (!strcmp(address, "unix:/refuse")) {
		snprintf(err, errlen, "the target refused: the guest has 16 MiB");
		return -ECONNREFUSED;
	}
	strncpy(vm->migrated_to, address, sizeof(vm->migrated_to) - 1);
	vm->checksum = checksum;
	r->rounds = 3;
	r->pages[0] = 4000;
	r->pages[1] = 120;
	r->pages[2] = 7;
	r->total_ticks = 1000000;
	r->downtime_ticks = 20000;
	r->checksum = checksum;
	r->mem_checksum = 0xabcdef;
	return 0;
}

static void fake_status(void *ctx, struct control_status *st)
{
	struct fake_vm *vm = ctx;

	st->paused = vm->paused;
	st->vcpus = 2;
	st->exits = 12345;
	st->memory = 134217728;
}

static struct fake_vm vm;
static const struct control_ops ops = {
	.pause = fake_pause, .resume = fake_resume, .save = fake_save,
	.reset = fake_reset, .fork = fake_fork, .migrate = fake_migrate,
	.status = fake_status,
	.ctx = &vm,
};

/* @line answers ok or not, with exactly @want. */
static void expect(const char *line, bool ok, const char *want)
{
	char answer[CONTROL_ANSWER_MAX];
	bool got = control_execute(&ops, line, answer, sizeof(answer));

	tap_ok(got == ok && !strcmp(answer, want), "control: \"%s\" -> %s%s%s",
	       line, answer, strcmp(answer, want) ? " (want " : "",
	       strcmp(answer, want) ? want : "");
}

void control_tests(void)
{
	char answer[CONTROL_ANSWER_MAX], line[300];

	expect("status", true,
	       "ok state=running vcpus=2 exits=12345 memory=134217728");
	expect("pause", true, "ok state=paused");
	expect("pause", false, "error code=EALREADY msg=\"already paused\"");
	expect(" status\r", true,
	       "ok state=paused vcpus=2 exits=12345 memory=134217728");
	expect("resume", true, "ok state=running");
	expect("resume", false, "error code=EALREADY msg=\"not paused\"");
	tap_ok(vm.pauses == 1 && vm.resumes == 1,
	       "control: an error answer changed nothing");
	expect("", false, "error code=EINVAL msg=\"empty command\"");
	expect(" \t\r", false, "error code=EINVAL msg=\"empty command\"");
	expect("foo", false, "error code=EINVAL msg=\"unknown command: foo\"");
	expect("pause now", false,
	       "error code=EINVAL msg=\"pause takes no argument\"");
	expect("PAUSE", false, "error code=EINVAL msg=\"unknown command: PAUSE\"");
	expect("save /tmp/x", true, "ok saved=/tmp/x");
	tap_ok(!strcmp(vm.saved, "/tmp/x"), "control: save got its FILE");
	expect("save", false, "error code=EINVAL msg=\"save needs a FILE\"");
	expect("save  ", false, "error code=EINVAL msg=\"save needs a FILE\"");
	expect("save a b", false, "error code=EINVAL msg=\"save takes one FILE\"");
	expect("save /full/x", false,
	       "error code=ENOSPC msg=\"cannot write ?/full/x?: no space\"");
	expect("reset", false, "error code=EOPNOTSUPP "
	       "msg=\"reset needs a VM restored from a snapshot\"");
	vm.restored = true;
	expect("reset", true, "ok state=running");
	expect("pause", true, "ok state=paused");
	expect("reset", true, "ok state=paused");
	expect("resume", true, "ok state=running");
	expect("reset now", false, "error code=EINVAL msg=\"reset takes no argument\"");
	tap_ok(vm.resets == 2, "control: reset reached the VM twice (%d)", vm.resets);
	expect("fork 4 /tmp/f", true, "ok forked=4 saved=/tmp/f pid=4321");
	expect(" fork\t2  /tmp/g ", true, "ok forked=2 saved=/tmp/g pid=4321");
	tap_ok(vm.forked == 6 && !strcmp(vm.saved, "/tmp/g"),
	       "control: fork reached the VM with N and FILE (%d)", vm.forked);
	expect("fork", false, "error code=EINVAL msg=\"fork needs N and FILE\"");
	expect("fork 4", false, "error code=EINVAL msg=\"fork needs N and FILE\"");
	expect("fork 4 /tmp/f x", false,
	       "error code=EINVAL msg=\"fork takes N and FILE\"");
	expect("fork 0 /tmp/f", false,
	       "error code=EINVAL msg=\"fork: N must be 1 to 64\"");
	expect("fork 65 /tmp/f", false,
	       "error code=EINVAL msg=\"fork: N must be 1 to 64\"");
	expect("fork 4x /tmp/f", false,
	       "error code=EINVAL msg=\"fork: N must be 1 to 64\"");
	expect("fork 99999999999999999999 /tmp/f", false,
	       "error code=EINVAL msg=\"fork: N must be 1 to 64\"");
	expect("fork 2 /full/f", false,
	       "error code=ENOSPC msg=\"cannot write ?/full/f?: no space\"");
	tap_ok(vm.forked == 6, "control: a refused fork started nothing");
	expect("migrate", false, "error code=EINVAL msg=\"migrate needs an ADDRESS\"");
	expect("migrate unix:/a fast", false,
	       "error code=EINVAL msg=\"migrate takes ADDRESS [checksum]\"");
	expect("migrate unix:/a checksum x", false,
	       "error code=EINVAL msg=\"migrate takes ADDRESS [checksum]\"");
	expect("migrate unix:/refuse", false, "error code=ECONNREFUSED "
	       "msg=\"the target refused: the guest has 16 MiB\"");
	expect("migrate  tcp:127.0.0.1:4444 ", true,
	       "ok state=migrated rounds=3 pages=4000,120,7 total_ticks=1000000 "
	       "downtime_ticks=20000");
	tap_ok(!strcmp(vm.migrated_to, "tcp:127.0.0.1:4444") && !vm.checksum,
	       "control: migrate got its ADDRESS, no checksum asked");
	expect("migrate unix:/t checksum", true,
	       "ok state=migrated rounds=3 pages=4000,120,7 total_ticks=1000000 "
	       "downtime_ticks=20000 checksum=0000000000abcdef");
	tap_ok(vm.checksum, "control: migrate ... checksum asks for the checksum");
	expect("a\"b\\c\x01", false,
	       "error code=EINVAL msg=\"unknown command: a?b?c?\"");
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	control_execute(&ops, line, answer, sizeof(answer));
	tap_ok(strlen(answer) < 100 && strstr(answer, "xxx~\""),
	       "control: a long unknown command is quoted cut short");
	control_answer_too_long(answer, sizeof(answer));
	tap_ok(!strcmp(answer,
		       "error code=EMSGSIZE msg=\"command longer than 255 bytes\""),
	       "control: the answer to an over-long line: %s", answer);
}
