// SPDX-License-Identifier: GPL-2.0
/* The 64-bit hello world: print, then halt for good (lvrun exits 0). */
#include "lib/guest.h"

int main(void)
{
	printf("Hello from 64-bit long mode\n");
	guest_halt();
}
