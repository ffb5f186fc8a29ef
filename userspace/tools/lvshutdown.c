// SPDX-License-Identifier: GPL-2.0
/*
 * lvshutdown: stop Bochs by writing "Shutdown" to its port 0x8900.
 */
#include <stdio.h>
#include <sys/io.h>

int main(void)
{
	const char *s = "Shutdown";

	if (ioperm(0x8900, 1, 1)) {
		perror("lvshutdown: ioperm");
		return 1;
	}
	while (*s)
		outb(*s++, 0x8900);
	return 0;
}
