// SPDX-License-Identifier: GPL-2.0
/*
 * lvrun-snapforge FILE: a test tool. Marks every CPUID.7.0 EDX feature as
 * seen by the guest of snapshot FILE and recomputes the checksum, so that
 * the file stays valid but no real host offers all it asks for: the
 * restore-side CPU check must refuse it (tests/guests/control.sh).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../hv/hv.h"
#include "format.h"

/*
 * The CPU features are the last member of the "machine" section (struct
 * snap_machine in snapshot.c). @s->data points into this tool's own copy
 * of the file, so it may be written.
 */
static int forge_machine(const struct snap_found *s, void *arg, char *err,
			 size_t errlen)
{
	struct hv_cpu_features *cpu;

	(void)err;
	(void)errlen;
	if (strcmp(s->name, "machine") || s->size < sizeof(*cpu))
		return 0;
	cpu = (struct hv_cpu_features *)((char *)s->data + s->size - sizeof(*cpu));
	cpu->leaf7_edx = ~0u;
	*(int *)arg = 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct snap_header h;
	char err[256] = "";
	struct stat st;
	uint8_t *p;
	size_t len;
	int fd, found = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: lvrun-snapforge FILE\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR);
	if (fd < 0 || fstat(fd, &st) || pread(fd, &h, sizeof(h), 0) != sizeof(h)) {
		perror(argv[1]);
		return 1;
	}
	len = snap_check_header((uint8_t *)&h, sizeof(h), st.st_size, err,
				sizeof(err));
	p = len ? malloc(len) : NULL;
	if (!p || pread(fd, p, len, 0) != (ssize_t)len ||
	    snap_parse(p, len, forge_machine, &found, err, sizeof(err)) || !found) {
		fprintf(stderr, "%s: cannot forge: %s\n", argv[1],
			*err ? err : "no machine section");
		return 1;
	}
	snap_seal(p, len);
	if (pwrite(fd, p, len, 0) != (ssize_t)len) {
		perror(argv[1]);
		return 1;
	}
	free(p);
	close(fd);
	return 0;
}
