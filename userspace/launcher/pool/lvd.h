/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lvd, the pool daemon: what its options, its socket and its two kinds
 * of pool share. lvd.c parses the options and opens the socket;
 * lvd_procs.c keeps prepared lvrun processes (the default), lvd_shells.c
 * VM shells (--shells).
 */
#ifndef LVD_H
#define LVD_H

#include <stdbool.h>
#include <stdint.h>

#define LVD_MAX_POOL	1024

struct lvd_options {
	const char *socket_path;
	unsigned int size;	/* --pool N */
	unsigned int nr_vcpus;
	bool irqchip;
	bool shells;		/* --shells: VM shells, not processes */
	uint64_t mem_size;	/* --mem: a prepared lvrun's guest memory */
	const char *lvrun;	/* --lvrun PATH, or NULL: next to lvd, or PATH */
};

extern struct lvd_options lvd_opts;

void lvd_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void lvd_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Both serve clients on @listen_fd until lvd is stopped. */
void lvd_run_shells(int sys_fd, int listen_fd) __attribute__((noreturn));
void lvd_run_processes(int listen_fd) __attribute__((noreturn));

#endif /* LVD_H */
