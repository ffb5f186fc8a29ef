// SPDX-License-Identifier: GPL-2.0
/*
 * Page faults ahead for a prepared lvrun.
 *
 * lvrun is one static binary, and a prepared lvrun has run only the code
 * that prepares a VM when its client comes. Everything after (options,
 * loaders, devices, the vCPU loop) would first-touch its text pages
 * then, each a page fault on the instantiation's path; so would the
 * first writes to .data, .bss and the heap. MADV_POPULATE_READ/WRITE
 * (Linux 5.14) fill the page tables now instead; without them (older
 * kernels, or no CONFIG_ADVISE_SYSCALLS) each page is touched. Private
 * writable mappings are populated for writing: the copy-on-write happens
 * here.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "warm.h"

static void touch_pages(unsigned long start, unsigned long end, bool write)
{
	unsigned long a;

	for (a = start; a < end; a += 4096) {
		if (write)
			/* Other threads run: a write that changes nothing. */
			__atomic_fetch_add((char *)a, 0, __ATOMIC_RELAXED);
		else
			__atomic_load_n((char *)a, __ATOMIC_RELAXED);
	}
}

static void warm_mapping(unsigned long start, unsigned long end,
			 const char *perms)
{
	bool write = perms[1] == 'w';

	if (perms[0] != 'r')
		return;
	if (madvise((void *)start, end - start,
		    write ? MADV_POPULATE_WRITE : MADV_POPULATE_READ))
		touch_pages(start, end, write);
}

void warm_own_mappings(void)
{
	char exe[PATH_MAX], line[PATH_MAX + 128], perms[5], path[PATH_MAX];
	unsigned long start, end, exe_end = 0;
	ssize_t n;
	FILE *f;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return;
	exe[n] = 0;
	f = fopen("/proc/self/maps", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		path[0] = 0;
		if (sscanf(line, "%lx-%lx %4s %*s %*s %*s %4095s", &start, &end,
			   perms, path) < 3)
			continue;
		/* The bss past the file's last page follows it, nameless. */
		if (!strcmp(path, exe) || !strcmp(path, "[heap]") ||
		    (!path[0] && start == exe_end))
			warm_mapping(start, end, perms);
		if (!strcmp(path, exe))
			exe_end = end;
	}
	fclose(f);
}

void warm_stack(void)
{
	char stack[WARM_STACK_BYTES];

	memset(stack, 0, sizeof(stack));
	/* As the kernel's barrier_data(): the stores may not be dropped. */
	__asm__ volatile("" : : "r"(stack) : "memory");
}
