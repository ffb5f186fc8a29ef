// SPDX-License-Identifier: GPL-2.0
/* An endless loop, for --timeout: the host must stay responsive. */
#include "lib/guest.h"

int main(void)
{
	volatile unsigned long n = 0;

	printf("spinning forever\n");
	for (;;)
		n++;
}
