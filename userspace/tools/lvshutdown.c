// SPDX-License-Identifier: GPL-2.0
/*
 * lvshutdown: stop Bochs by writing "Shutdown" to its port 0x8900.
 */
#include <stdio.h>
#include <string.h>
#include <sys/io.h>

int main(int argc, char **argv)
{
	const char *s = "Shutdown";

	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("lvshutdown (lightvisor) %s\n", LV_VERSION);
		return 0;
	}
	if (argc > 1) {
		fputs("Usage: lvshutdown [--version]\n"
		      "Power off Bochs (writes \"Shutdown\" to port 0x8900).\n",
		      stderr);
		return 1;
	}

	if (ioperm(0x8900, 1, 1)) {
		perror("lvshutdown: ioperm");
		return 1;
	}
	while (*s)
		outb(*s++, 0x8900);
	return 0;
}
