/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvrun's control socket (--control PATH): one command per line, one
 * answer line each, of key=value pairs after "ok" or "error" (see
 * docs/control.md). The command language (control_cmd.c) is a leaf that
 * acts through struct control_ops, so the host-side test drives it with
 * a fake VM; the socket server (control.c) connects it to lvrun's VM.
 */
#ifndef LVRUN_CONTROL_H
#define LVRUN_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../migrate/migrate.h"

/* A longer command line is answered with EMSGSIZE and its connection closed. */
#define CONTROL_LINE_MAX	256
/* Room for any answer; longer ones are cut (lvctl reads 511 bytes). */
#define CONTROL_ANSWER_MAX	400
/* fork N: as lvrun --fork-from --count N */
#define CONTROL_MAX_FORKS	64

struct control_status {
	bool paused;
	int vcpus;
	uint64_t exits;		/* exits to lvrun, all vCPUs */
	uint64_t memory;	/* guest RAM, bytes */
};

/*
 * What commands act on. pause and resume return 0 or a negative errno;
 * save, reset, fork and migrate too, with a message in @err when it is
 * not 0. reset says in @paused whether the VM stays paused (as it was
 * before); fork gives the pid of the process that holds the children;
 * migrate fills @r, and on success the guest runs elsewhere and lvrun
 * ends once the answer is out.
 */
struct control_ops {
	int (*pause)(void *ctx);
	int (*resume)(void *ctx);
	int (*save)(void *ctx, const char *path, char *err, size_t errlen);
	int (*reset)(void *ctx, bool *paused, char *err, size_t errlen);
	int (*fork)(void *ctx, const char *path, int count, pid_t *pid,
		    char *err, size_t errlen);
	int (*migrate)(void *ctx, const char *address, bool checksum,
		       struct mig_report *r, char *err, size_t errlen);
	void (*status)(void *ctx, struct control_status *st);
	void *ctx;
};

/*
 * Runs one command line (no newline) and writes its answer (no newline)
 * into @answer. Returns true for an "ok" answer.
 */
bool control_execute(const struct control_ops *ops, const char *line,
		     char *answer, size_t size);

/* The answer to a line longer than CONTROL_LINE_MAX. */
void control_answer_too_long(char *answer, size_t size);

struct vm;

/*
 * Binds and listens on @path before the VM exists, so a bad path fails
 * early; refuses an existing file unless it is a socket nobody listens
 * on. The socket file is removed when lvrun exits.
 */
void control_open(const char *path);
/* Serves the socket from a thread of its own, never a vCPU's. */
void control_start(struct vm *vm);

#endif /* LVRUN_CONTROL_H */
